// musicfsctl origins list | add | remove | enable | disable
#include <iostream>

#include "client.h"
#include "protocol/path_encoding.h"
#include "command.h"
#include "output.h"
#include "client_reply_fields.h"

namespace musicfs::cli {

namespace {
// --set KEY=VALUE: integers and true/false keep their type, anything else is a string;
// the daemon then validates the whole origin exactly as it validates a config file.
bool parse_setting(const std::string& kv, nlohmann::json& into) {
  auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
  if (value == "true" || value == "false") {
    into[key] = value == "true";
  } else if (!value.empty() && value.find_first_not_of("-0123456789") == std::string::npos &&
             value.find('-', 1) == std::string::npos && value != "-") {
    into[key] = std::stoll(value);
  } else {
    into[key] = value;
  }
  return true;
}

int simple(const Globals& g, const std::string& cmd, const nlohmann::json& args, const std::string& done) {
  CallOptions options;
  // Both wait for the origin's index, which takes as long as its library is big.
  options.long_running = cmd == "origins-add" || cmd == "origins-enable";
  auto out = call_daemon(g, cmd, args, options);
  if (!out.reply || !out.reply->ok) return out.exit_code;
  if (g.json) {
    print_json(out.reply->result);
  } else {
    std::cout << done << "\n";
  }
  return kExitOk;
}
}  // namespace

CliCommand origins_command() {
  return {"origins", [](CLI::App& app, Globals& g) -> Runner {
            auto* sub = app.add_subcommand("origins", "List, add, remove, enable or disable origins at run time");
            sub->require_subcommand(1);
            auto mount = std::make_shared<std::string>();
            auto id = std::make_shared<std::string>();
            auto type = std::make_shared<std::string>();
            auto priority = std::make_shared<int>(-1);
            auto path = std::make_shared<std::string>();
            auto sets = std::make_shared<std::vector<std::string>>();
            auto disabled = std::make_shared<bool>(false);

            auto* list = sub->add_subcommand("list", "List every origin: id, type, priority, enabled, cache, status, files");
            auto* add = sub->add_subcommand("add", "Add an origin to a mount, live and persisted");
            add->add_option("id", *id, "Origin id")->required();
            add->add_option("--type", *type, "Origin type: local, nfs, smb, http, s3 or sftp (its other keys with --set: musicfs.toml(5))")->required();
            add->add_option("--priority", *priority, "0-255, lower wins")->required();
            add->add_option("--path", *path, "Absolute path (local, nfs, smb)");
            add->add_option("--set", *sets, "Any other key of the type, KEY=VALUE (repeatable)");
            add->add_flag("--disabled", *disabled, "Add it disabled");
            auto* remove = sub->add_subcommand("remove", "Remove an origin: gone from the tree, history kept");
            remove->add_option("id", *id, "Origin id")->required();
            auto* enable = sub->add_subcommand("enable", "Enable an origin");
            enable->add_option("id", *id, "Origin id")->required();
            auto* disable = sub->add_subcommand("disable", "Disable an origin (its files leave the tree)");
            disable->add_option("id", *id, "Origin id")->required();
            for (auto* s : {add, remove, enable, disable}) s->add_option("--mount", *mount, "Mount point (needed when several are mounted)");

            return [=, &g]() -> int {
              nlohmann::json args = nlohmann::json::object();
              if (!mount->empty()) args["mount"] = encode_path(*mount);
              if (list->parsed()) {
                auto out = call_daemon(g, "origins-list");
                if (!out.reply || !out.reply->ok) return out.exit_code;
                if (g.json) {
                  print_json(out.reply->result);
                  return kExitOk;
                }
                Table t({"MOUNT", "ORIGIN", "TYPE", "PRIORITY", "ENABLED", "CACHE", "STATUS", "FILES", "SOURCE"});
                // cli::list: in this scope `list` is the subcommand.
                for (const auto& o : cli::list(out.reply->result, "origins")) {
                  t.add({path_text(o, "mount"), text(o, "id"), text(o, "type"), text(o, "priority"),
                         text(o, "enabled"), text(o, "cache"), text(o, "status"), text(o, "files"), text(o, "source")});
                }
                t.print();
                return kExitOk;
              }
              if (add->parsed()) {
                nlohmann::json def = {{"id", *id}, {"origin_type", *type}, {"priority", *priority}, {"enabled", !*disabled}};
                if (!path->empty()) def["path"] = encode_path(*path);
                for (const auto& kv : *sets) {
                  if (!parse_setting(kv, def)) {
                    std::cerr << "musicfsctl: --set '" << kv << "' is not KEY=VALUE\n";
                    return kExitUsage;
                  }
                }
                args["origin"] = def;
                return simple(g, "origins-add", args, "added origin " + *id);
              }
              args["id"] = *id;
              if (remove->parsed()) return simple(g, "origins-remove", args, "removed origin " + *id);
              if (enable->parsed()) return simple(g, "origins-enable", args, "enabled origin " + *id);
              return simple(g, "origins-disable", args, "disabled origin " + *id);
            };
          }};
}

}  // namespace musicfs::cli
