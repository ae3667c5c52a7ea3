#include "output_usage_error.h"

#include <cctype>
#include <iostream>
#include <string>
#include <vector>

#include "command.h"
#include "util/suggest.h"

namespace musicfs::cli {

namespace {

// The innermost subcommand the parser reached: its --help is the useful pointer.
const CLI::App* innermost_parsed(const CLI::App& app) {
  for (const CLI::App* sub : app.get_subcommands()) {
    if (sub->parsed()) return innermost_parsed(*sub);
  }
  return &app;
}

std::string command_path(const CLI::App& root, const CLI::App* at) {
  std::vector<std::string> names;
  for (const CLI::App* a = at; a != nullptr && a != &root; a = a->get_parent()) names.insert(names.begin(), a->get_name());
  std::string path = "musicfsctl";
  for (const auto& n : names) path += " " + n;
  return path;
}

// The first word of argv after the subcommands that were parsed (`depth` of them):
// the subcommand the user meant. Options that take a value are skipped with it.
std::string word_after(const CLI::App& app, size_t depth, int argc, char** argv) {
  size_t seen = 0;
  for (int i = 1; i < argc; ++i) {
    std::string w = argv[i];
    if (w == "--") return i + 1 < argc ? argv[i + 1] : "";
    if (w.rfind("-", 0) != 0) {
      if (seen++ == depth) return w;
      continue;
    }
    if (w.find('=') != std::string::npos) continue;
    const CLI::Option* opt = app.get_option_no_throw(w);
    if (opt != nullptr && opt->get_type_size_max() > 0) ++i;  // skip its value
  }
  return "";
}

bool is_subcommand(const CLI::App& app, const std::string& word) {
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (sub->check_name(word)) return true;
  }
  return false;
}

std::string lower_first(std::string s) {
  if (!s.empty() && s.size() > 1 && std::isupper(static_cast<unsigned char>(s[0])) &&
      !std::isupper(static_cast<unsigned char>(s[1]))) {
    s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  }
  return s;
}

// One line whatever CLI11 put in its message.
std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

int report_parse_error(const CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  if (e.get_exit_code() == 0) {
    // --help, --help-all, --version: CLI11 prints them as they should look.
    return const_cast<CLI::App&>(app).exit(e);
  }
  const CLI::App* at = innermost_parsed(app);
  std::string message = lower_first(one_line(e.what()));
  if (!at->get_subcommands({}).empty()) {
    // A command group (musicfsctl, origins, cache, ...) stopped at a word that names none
    // of its subcommands, or at nothing: say which.
    size_t depth = 0;
    for (const CLI::App* a = at; a != &app; a = a->get_parent()) ++depth;
    std::string word = word_after(*at, depth, argc, argv);
    if (!word.empty() && !is_subcommand(*at, word)) {
      std::vector<std::string> names;
      for (const CLI::App* sub : at->get_subcommands({})) names.push_back(sub->get_name());
      message = "unknown subcommand '" + word + "'";
      if (auto hint = closest_match(word, names)) message += " (did you mean '" + *hint + "'?)";
    } else if (word.empty() && dynamic_cast<const CLI::RequiredError*>(&e) != nullptr) {
      message = "a subcommand is required";
    }
  }
  std::cerr << "musicfsctl: " << message << " (see '" << command_path(app, at) << " --help')\n";
  return kExitUsage;
}

}  // namespace musicfs::cli
