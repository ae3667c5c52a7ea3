// The user documentation stays in step with the program: every man page renders with
// no warnings, and musicfsctl(1), the bash, zsh and fish completions all know every
// subcommand, action and option that `musicfsctl cli-spec` reports (the CLI11 app
// itself, so it is the one source of truth), and the --set keys of every origin type.
// The completions are run for real: bash's function, zsh's compsys on a pty
// (tests/support/zsh_complete.zsh), fish's `complete -C`.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/test_env.h"

using namespace musicfs::test;

namespace {

const std::string kSourceDir = MUSICFS_SOURCE_DIR;
const std::string kBashCompletionLib = "/usr/share/bash-completion/bash_completion";

bool have_program(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Runs the bash completion function for a command line whose last word is `cur`,
// exactly as bash does on TAB, and returns COMPREPLY.
std::vector<std::string> complete(const std::vector<std::string>& words) {
  std::string line;
  std::string array;
  for (const auto& w : words) {
    line += (line.empty() ? "" : " ") + w;
    array += " '" + w + "'";
  }
  std::string script = "source " + kBashCompletionLib + " && source " + kSourceDir +
                       "/completions/musicfsctl.bash && COMP_WORDS=(" + array + ") && COMP_CWORD=" +
                       std::to_string(words.size() - 1) + " && COMP_LINE='" + line +
                       "' && COMP_POINT=${#COMP_LINE} && _musicfsctl; printf '%s\\n' \"${COMPREPLY[@]}\"";
  auto r = run_program({"bash", "-c", script});
  INFO("bash stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return split_words(r.out);
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v) {
    if (x == s) return true;
  }
  return false;
}

// --- musicfsctl cli-spec: the source of truth -------------------------------

struct SpecOption {
  std::vector<std::string> names;  // "-c", "--config"
  bool takes_value = false;
};

struct SpecCommand {
  std::vector<std::string> path;  // {"cache", "prefetch"}
  std::vector<SpecOption> options;
  std::vector<std::string> subcommands;
  std::string words() const {  // "cache prefetch"
    std::string w;
    for (const auto& p : path) w += (w.empty() ? "" : " ") + p;
    return w;
  }
};

struct CliSpec {
  std::vector<SpecOption> globals;
  std::vector<SpecCommand> commands;  // every path, parents before children
  std::map<std::string, std::vector<std::string>> origin_settings;  // type -> keys
  std::vector<std::string> top_level() const {
    std::vector<std::string> out;
    for (const auto& c : commands) {
      if (c.path.size() == 1) out.push_back(c.path[0]);
    }
    return out;
  }
  const SpecCommand* find(const std::vector<std::string>& path) const {
    for (const auto& c : commands) {
      if (c.path == path) return &c;
    }
    return nullptr;
  }
};

std::vector<SpecOption> parse_options(const nlohmann::json& a) {
  std::vector<SpecOption> out;
  for (const auto& o : a) out.push_back({o.at("names").get<std::vector<std::string>>(), o.at("takes_value").get<bool>()});
  return out;
}

const CliSpec& cli_spec() {
  static const CliSpec spec = [] {
    auto r = run_program({MUSICFSCTL_PATH, "cli-spec"});
    INFO("musicfsctl cli-spec stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    CliSpec s;
    s.globals = parse_options(j.at("globals"));
    for (const auto& c : j.at("commands")) {
      s.commands.push_back({c.at("path").get<std::vector<std::string>>(), parse_options(c.at("options")),
                            c.at("subcommands").get<std::vector<std::string>>()});
    }
    for (const auto& t : j.at("origin_types")) {
      s.origin_settings[t.at("name").get<std::string>()] = t.at("settings").get<std::vector<std::string>>();
    }
    return s;
  }();
  return spec;
}

std::vector<std::string> long_names(const std::vector<SpecOption>& options) {
  std::vector<std::string> out;
  for (const auto& o : options) {
    for (const auto& n : o.names) {
      if (n.rfind("--", 0) == 0) out.push_back(n);
    }
  }
  return out;
}

// The keys `origins add --set KEY=VALUE` must offer: every setting of every origin
// type, except those with an option of their own (--path).
std::set<std::string> set_keys(const CliSpec& spec) {
  std::set<std::string> keys;
  const SpecCommand* add = spec.find({"origins", "add"});
  REQUIRE(add != nullptr);
  auto own = long_names(add->options);
  for (const auto& [type, settings] : spec.origin_settings) {
    for (const auto& k : settings) {
      if (!contains(own, "--" + k)) keys.insert(k);
    }
  }
  return keys;
}

std::vector<std::string> origin_type_names(const CliSpec& spec) {
  std::vector<std::string> out;
  for (const auto& [type, settings] : spec.origin_settings) out.push_back(type);
  return out;
}

// The sanity floor: a cli-spec that reports nothing would let every check pass.
void require_plausible(const CliSpec& spec) {
  REQUIRE(spec.commands.size() >= 10);
  REQUIRE(spec.find({"cache", "prefetch"}) != nullptr);
  REQUIRE(spec.find({"debug-fault"}) == nullptr);
  REQUIRE(spec.find({"cli-spec"}) == nullptr);
  REQUIRE(spec.origin_settings.count("http") == 1);
}

// One completion engine: what it offers for a command line whose last word (maybe
// empty) is the one being completed.
using Completer = std::function<std::vector<std::string>(const std::vector<std::string>& words)>;

std::string join_line(const std::vector<std::string>& words) {
  std::string line;
  for (const auto& w : words) line += (line.empty() ? "" : " ") + w;
  return line;
}

// Completes `words` once and checks that every one of `wants` is offered; `what`
// says what each is ("an option of 'cache clear'") in the failure message.
// A KEY= of --set counts as offered as KEY too: zsh adds the '=' as a suffix.
void expect_offered(const std::string& file, const Completer& complete_words, const std::vector<std::string>& words,
                    const std::vector<std::string>& wants, const std::string& what) {
  auto got = complete_words(words);
  for (const auto& want : wants) {
    INFO(file << " does not offer '" << want << "' (" << what << ") for the command line '" << join_line(words)
              << "<TAB>'; it offers: " << Catch::Detail::stringify(got));
    CHECK((contains(got, want) || (!want.empty() && want.back() == '=' && contains(got, want.substr(0, want.size() - 1)))));
  }
}

// Checks one completion file against the spec: the subcommands, the actions of each,
// the long options after `musicfsctl PATH --`, the global options, the origin types
// after --type and the setting keys after --set.
void check_completion_file(const std::string& file, const Completer& complete_words) {
  const CliSpec& spec = cli_spec();
  require_plausible(spec);
  expect_offered(file, complete_words, {"musicfsctl", ""}, spec.top_level(), "a subcommand");
  expect_offered(file, complete_words, {"musicfsctl", "--"}, long_names(spec.globals), "a global option");
  auto top = complete_words({"musicfsctl", ""});
  CHECK_FALSE(contains(top, "debug-fault"));
  CHECK_FALSE(contains(top, "cli-spec"));

  for (const auto& cmd : spec.commands) {
    std::vector<std::string> words = {"musicfsctl"};
    words.insert(words.end(), cmd.path.begin(), cmd.path.end());
    if (!cmd.subcommands.empty()) {
      auto action_words = words;
      action_words.push_back("");
      expect_offered(file, complete_words, action_words, cmd.subcommands, "an action of '" + cmd.words() + "'");
    }
    words.push_back("--");
    expect_offered(file, complete_words, words, long_names(cmd.options), "an option of '" + cmd.words() + "'");
  }

  expect_offered(file, complete_words, {"musicfsctl", "origins", "add", "nas2", "--type", ""}, origin_type_names(spec),
                 "an origin type of lib/origins/origin_types.cpp");
  std::vector<std::string> keys;
  for (const auto& k : set_keys(spec)) keys.push_back(k + "=");
  expect_offered(file, complete_words, {"musicfsctl", "origins", "add", "nas2", "--set", ""}, keys,
                 "a setting key of an origin type in lib/origins/");
}

// zsh's completion system on a pty, through tests/support/zsh_complete.zsh.
std::vector<std::string> zsh_complete(const std::vector<std::string>& words) {
  auto r = run_program({"zsh", "-f", kSourceDir + "/tests/support/zsh_complete.zsh", kSourceDir + "/completions",
                        join_line(words)});
  INFO("zsh_complete.zsh stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return split_words(r.out);
}

// fish's own completion engine: `complete -C LINE` prints "candidate<TAB>description".
std::vector<std::string> fish_complete(const std::vector<std::string>& words) {
  auto r = run_program({"fish", "--no-config", "-c",
                        "source $argv[1]; complete -C $argv[2]", kSourceDir + "/completions/musicfsctl.fish",
                        join_line(words)});
  INFO("fish stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> out;
  std::istringstream in(r.out);
  for (std::string l; std::getline(in, l);) out.push_back(l.substr(0, l.find('\t')));
  return out;
}

// --- musicfsctl(1) ------------------------------------------------------------

std::string roff(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '-' ? std::string("\\-") : std::string(1, c);
  return out;
}

// The text of a .SH or .SS section: from its heading to the next heading.
std::string man_section(const std::string& page, const std::string& heading) {
  auto at = page.find("\n" + heading + "\n");
  if (at == std::string::npos) return "";
  at += 1;
  auto end = page.find("\n.S", at + heading.size());
  return page.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// True when roff `name` (e.g. \-\-since) occurs as a whole option: not as a prefix of
// \-\-since\-x, and for a short \-c not inside \-\-config.
bool mentions(const std::string& text, const std::string& name) {
  for (auto at = text.find(name); at != std::string::npos; at = text.find(name, at + 1)) {
    auto after = at + name.size();
    bool ends = after >= text.size() ||
                (!word_char(text[after]) && text.compare(after, 2, "\\-") != 0);
    bool font = at >= 3 && text.compare(at - 3, 2, "\\f") == 0;  // \fB\-\-json
    bool starts = at == 0 || (text[at - 1] != '-' && (!word_char(text[at - 1]) || font));
    if (starts && ends) return true;
  }
  return false;
}

// True when `word` is set in bold on some .B/.BR/.BI line of `text` (`.B musicfsctl
// cache prefetch`, `.BR remove | enable | disable`).
bool in_bold(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(".B", 0) != 0) continue;
    for (auto w : split_words(line)) {
      while (!w.empty() && (w.back() == ',' || w.back() == '"')) w.pop_back();
      if (!w.empty() && w.front() == '"') w.erase(0, 1);
      if (w == word) return true;
    }
  }
  return false;
}

}  // namespace

TEST_CASE("docs: every man page passes mandoc's lint with no warnings", "[docs]") {
  if (!have_program("/usr/bin/mandoc")) skip_test("mandoc is not installed (scripts/install-deps.sh installs it)");
  for (const std::string& page : std::vector<std::string>{"man/musicfsctl.1", "man/musicfs.toml.5", "man/musicfs.8"}) {
    auto r = run_program({"mandoc", "-T", "lint", "-W", "warning", kSourceDir + "/" + page});
    INFO(page << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.empty());
    CHECK(r.err.empty());
  }
}

TEST_CASE("docs: the bash completion offers the subcommands, their actions and flags", "[docs]") {
  if (::access(kBashCompletionLib.c_str(), R_OK) != 0) {
    skip_test("bash-completion is not installed (scripts/install-deps.sh installs it)");
  }
  auto subcommands = complete({"musicfsctl", ""});
  INFO("COMPREPLY: " << Catch::Detail::stringify(subcommands));
  for (const std::string& sub :
       std::vector<std::string>{"mount", "unmount", "status", "events", "health", "origins", "cache", "metrics", "daemon"}) {
    CHECK(contains(subcommands, sub));
  }
  CHECK_FALSE(contains(subcommands, "debug-fault"));

  auto events_flags = complete({"musicfsctl", "events", "--"});
  INFO("COMPREPLY: " << Catch::Detail::stringify(events_flags));
  CHECK(contains(events_flags, "--since"));
  CHECK(contains(events_flags, "--follow"));

  auto daemon_words = complete({"musicfsctl", "daemon", ""});
  CHECK(contains(daemon_words, "stop"));

  auto origins_words = complete({"musicfsctl", "origins", ""});
  INFO("COMPREPLY: " << Catch::Detail::stringify(origins_words));
  for (const std::string& action : std::vector<std::string>{"list", "add", "remove", "enable", "disable"}) {
    CHECK(contains(origins_words, action));
  }

  auto cache_words = complete({"musicfsctl", "cache", ""});
  INFO("COMPREPLY: " << Catch::Detail::stringify(cache_words));
  CHECK(contains(cache_words, "stat"));

  auto add_flags = complete({"musicfsctl", "origins", "add", "nas2", "--"});
  INFO("COMPREPLY: " << Catch::Detail::stringify(add_flags));
  for (const std::string& flag : std::vector<std::string>{"--type", "--priority", "--path", "--set", "--disabled", "--mount"}) {
    CHECK(contains(add_flags, flag));
  }

  auto types = complete({"musicfsctl", "origins", "add", "nas2", "--type", ""});
  INFO("COMPREPLY: " << Catch::Detail::stringify(types));
  for (const std::string& type : std::vector<std::string>{"local", "nfs", "smb", "s3", "sftp"}) {
    CHECK(contains(types, type));
  }

  auto mount_flags = complete({"musicfsctl", "mount", "-"});
  INFO("COMPREPLY: " << Catch::Detail::stringify(mount_flags));
  CHECK(contains(mount_flags, "-o"));
  CHECK(contains(mount_flags, "--config"));
  // -o completes the item after the last comma, keeping what comes before.
  auto mount_options = complete({"musicfsctl", "mount", "-o", "allow_other,r"});
  INFO("COMPREPLY: " << Catch::Detail::stringify(mount_options));
  CHECK(mount_options == std::vector<std::string>{"allow_other,ro"});

  auto health_flags = complete({"musicfsctl", "health", "--"});
  INFO("COMPREPLY: " << Catch::Detail::stringify(health_flags));
  for (const std::string& flag : std::vector<std::string>{"--check", "--origin", "--history", "--summary", "--since"}) {
    CHECK(contains(health_flags, flag));
  }
}

TEST_CASE("docs: every subcommand in musicfsctl --help is documented in musicfsctl(1)", "[docs]") {
  auto help = run_program({MUSICFSCTL_PATH, "--help"});
  REQUIRE(help.exit_code == 0);
  // CLI11 lists them after "Subcommands:", one per line, indented, name first.
  std::set<std::string> subcommands;
  std::istringstream in(help.out);
  bool in_list = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Subcommands:", 0) == 0) {
      in_list = true;
      continue;
    }
    if (!in_list) continue;
    if (line.empty() || line[0] != ' ') break;
    auto words = split_words(line);
    if (!words.empty()) subcommands.insert(words[0]);
  }
  INFO("--help:\n" << help.out);
  REQUIRE(subcommands.size() >= 5);
  REQUIRE(subcommands.count("mount") == 1);

  std::string page = read_file(kSourceDir + "/man/musicfsctl.1");
  for (const auto& sub : subcommands) {
    // In roff source a hyphen is written \- ; each subcommand has its own .SS heading.
    std::string roff;
    for (char c : sub) roff += c == '-' ? std::string("\\-") : std::string(1, c);
    INFO("subcommand " << sub << " has no '.SS " << roff << "' section in man/musicfsctl.1");
    CHECK(page.find("\n.SS " + roff + "\n") != std::string::npos);
  }
}

TEST_CASE("docs: musicfsctl(1) documents every subcommand and option of musicfsctl cli-spec", "[docs]") {
  const CliSpec& spec = cli_spec();
  require_plausible(spec);
  const std::string file = "man/musicfsctl.1";
  std::string page = read_file(kSourceDir + "/" + file);
  std::string globals = man_section(page, ".SH GLOBAL OPTIONS");
  REQUIRE_FALSE(globals.empty());
  for (const auto& opt : spec.globals) {
    for (const auto& name : opt.names) {
      INFO(file << ": the global option " << name << " is not described under GLOBAL OPTIONS (as " << roff(name) << ")");
      CHECK(mentions(globals, roff(name)));
    }
  }
  std::vector<std::string> global_names;
  for (const auto& opt : spec.globals) global_names.insert(global_names.end(), opt.names.begin(), opt.names.end());

  for (const auto& cmd : spec.commands) {
    // A subcommand has its own .SS; an action (`cache prefetch`) has one too or is
    // described in its parent's.
    std::string section = man_section(page, ".SS " + roff(cmd.words()));
    std::string where = ".SS " + roff(cmd.words());
    if (section.empty() && cmd.path.size() > 1) {
      where = ".SS " + roff(cmd.path[0]);
      section = man_section(page, where);
      INFO(file << ": the action '" << cmd.words() << "' has no section '.SS " << roff(cmd.words())
                << "' and is not named in bold (.B " << roff(cmd.path.back()) << ") in the section '" << where << "'");
      CHECK(in_bold(section, roff(cmd.path.back())));
    }
    {
      INFO(file << ": the subcommand '" << cmd.words() << "' has no section '" << where << "'");
      CHECK_FALSE(section.empty());
    }
    if (section.empty()) continue;
    for (const auto& opt : cmd.options) {
      for (const auto& name : opt.names) {
        bool global = contains(global_names, name);
        INFO(file << ": option " << name << " of '" << cmd.words() << "' is not described (as " << roff(name)
                  << ") in the section '" << where << "'" << (global ? " or under GLOBAL OPTIONS" : ""));
        CHECK((mentions(section, roff(name)) || (global && mentions(globals, roff(name)))));
      }
    }
  }
}

TEST_CASE("docs: the bash completion offers every subcommand and option of musicfsctl cli-spec", "[docs]") {
  if (::access(kBashCompletionLib.c_str(), R_OK) != 0) {
    skip_test("bash-completion is not installed (scripts/install-deps.sh installs it)");
  }
  check_completion_file("completions/musicfsctl.bash", complete);
}

TEST_CASE("docs: the zsh completion offers every subcommand and option of musicfsctl cli-spec", "[docs]") {
  if (!have_program("/usr/bin/zsh")) skip_test("zsh is not installed (scripts/install-deps.sh installs it)");
  check_completion_file("completions/_musicfsctl", zsh_complete);
}

TEST_CASE("docs: the fish completion offers every subcommand and option of musicfsctl cli-spec", "[docs]") {
  if (!have_program("/usr/bin/fish")) skip_test("fish is not installed (scripts/install-deps.sh installs it)");
  check_completion_file("completions/musicfsctl.fish", fish_complete);
}

TEST_CASE("docs: musicfsctl cli-spec lists the subcommands of --help and hides the internal ones", "[docs]") {
  const CliSpec& spec = cli_spec();
  require_plausible(spec);
  auto top = spec.top_level();
  for (const char* sub : {"mount", "unmount", "status", "events", "route-explain", "health", "origins", "cache",
                                 "config", "metrics", "daemon"}) {
    INFO("cli-spec does not list " << sub);
    CHECK(contains(top, sub));
  }
  const SpecCommand* prefetch = spec.find({"cache", "prefetch"});
  REQUIRE(prefetch != nullptr);
  CHECK(contains(long_names(prefetch->options), "--mount"));
  CHECK(contains(long_names(prefetch->options), "--json"));  // added to every subcommand by main.cpp
  const SpecCommand* daemon = spec.find({"daemon"});
  REQUIRE(daemon != nullptr);
  CHECK_FALSE(contains(long_names(daemon->options), "--detached"));  // hidden: group ""
  CHECK(contains(spec.origin_settings.at("http"), "url"));
}
