// musicfsctl cli-spec (hidden): prints, as JSON, every visible subcommand with its
// options and positionals, walked from the CLI11 app itself, and the origin types
// with their setting keys. It is the single source of truth the docs tests check
// the man page and the bash, zsh and fish completions against.
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "origins/origin_types.h"

namespace musicfs::cli {
namespace {

nlohmann::json options_of(const CLI::App& a) {
  nlohmann::json opts = nlohmann::json::array();
  for (const CLI::Option* o : a.get_options()) {
    if (!o->nonpositional() || o->get_group().empty()) continue;
    nlohmann::json names = nlohmann::json::array();
    for (const auto& s : o->get_snames()) names.push_back("-" + s);
    for (const auto& l : o->get_lnames()) names.push_back("--" + l);
    opts.push_back({{"names", names}, {"takes_value", o->get_expected_max() > 0}});
  }
  return opts;
}

nlohmann::json positionals_of(const CLI::App& a) {
  nlohmann::json pos = nlohmann::json::array();
  for (const CLI::Option* o : a.get_options()) {
    if (!o->nonpositional() && !o->get_group().empty()) pos.push_back(o->get_name());
  }
  return pos;
}

void walk(const CLI::App& a, std::vector<std::string> path, nlohmann::json& out) {
  for (const CLI::App* child : a.get_subcommands({})) {
    // Hidden (group "") is internal: cli-spec itself, debug-fault (test builds only).
    if (child->get_group().empty() || child->get_name() == "debug-fault") continue;
    auto p = path;
    p.push_back(child->get_name());
    nlohmann::json subs = nlohmann::json::array();
    for (const CLI::App* grandchild : child->get_subcommands({})) {
      if (!grandchild->get_group().empty()) subs.push_back(grandchild->get_name());
    }
    out.push_back({{"path", p}, {"options", options_of(*child)}, {"positionals", positionals_of(*child)},
                   {"subcommands", subs}});
    walk(*child, p, out);
  }
}

}  // namespace

CliCommand cli_spec_command() {
  return {"cli-spec", [](CLI::App& app, Globals&) -> Runner {
            auto* sub = app.add_subcommand("cli-spec", "Print every subcommand and option as JSON (for the docs tests)");
            sub->group("");
            // Runs after main() has attached every subcommand and the per-subcommand
            // --json/--timeout, so `app` is the complete command line.
            return [&app]() -> int {
              nlohmann::json commands = nlohmann::json::array();
              walk(app, {}, commands);
              nlohmann::json types = nlohmann::json::array();
              for (const auto& t : origin_types()) {
                nlohmann::json keys = nlohmann::json::array();
                for (const auto& s : t.settings) keys.push_back(s.key);
                types.push_back({{"name", t.name}, {"settings", keys}});
              }
              nlohmann::json spec = {{"globals", options_of(app)}, {"commands", commands}, {"origin_types", types}};
              std::cout << spec.dump(2) << "\n";
              return kExitOk;
            };
          }};
}

}  // namespace musicfs::cli
