// musicfsctl route-explain PATH [--mount MOUNTPOINT]
// Why does this path route to that origin? Prints the decision the read path makes.
#include <iostream>

#include "client.h"
#include "command.h"
#include "output.h"
#include "client_reply_fields.h"
#include "client_path_args.h"

namespace musicfs::cli {

namespace {
// "origin laptop", "cache (laptop's version, complete)", "nothing: ..." plus how much
// of the file the cache holds.
std::string serving_line(const nlohmann::json& r) {
  if (!field(r, "contributors").is_null()) return "-";
  const std::string from = text(r, "served_from", "none");
  const uint64_t cached = count(r, "cached_bytes");
  std::string cached_text = !flag(r, "cache_enabled") ? "content cache off" : fmt_bytes(cached) + " cached";
  if (from == "cache") return "content cache (" + text(r, "cached_origin") + "'s version, " + cached_text + ")";
  if (from == "origin") return "origin " + text(r, "selected") + " (" + cached_text + ")";
  return "nothing: no origin can serve it (" + cached_text + ")";
}
}  // namespace

CliCommand route_explain_command() {
  return {"route-explain", [](CLI::App& app, Globals& g) -> Runner {
            auto* sub = app.add_subcommand("route-explain", "Explain which origin serves a path, and why");
            auto path = std::make_shared<std::string>();
            auto mount = std::make_shared<std::string>();
            sub->add_option("path", *path, "A path inside a mount (absolute or relative), or a virtual path with --mount")
                ->required();
            sub->add_option("--mount", *mount, "Treat PATH as a virtual path inside this mount");
            return [path, mount, &g]() -> int {
              nlohmann::json args = path_request_args(*path, *mount);
              auto out = call_daemon(g, "route-explain", args);
              if (!out.reply || !out.reply->ok) return out.exit_code;
              const auto& r = out.reply->result;
              if (g.json) {
                print_json(r);
                return kExitOk;
              }
              std::cout << "path:      " << path_text(r, "path") << "  (mount " << path_text(r, "mount") << ")\n";
              if (!field(r, "contributors").is_null()) {
                std::string names;
                for (const auto& c : list(r, "contributors")) {
                  if (!c.is_string()) throw MalformedReply("a contributor that is not a string");
                  names += (names.empty() ? "" : ", ") + c.get<std::string>();
                }
                std::cout << "type:      directory; entries come from: " << (names.empty() ? "(none)" : names) << "\n";
              }
              std::cout << "selected:  " << text(r, "selected", "(none)") << "\n"
                        << "rule:      " << text(r, "rule") << "\n"
                        << "serving:   " << serving_line(r) << "\n"
                        << "divergent: " << (flag(r, "divergent") ? "yes, replicas differ in size or mtime" : "no")
                        << "\n\n";
              Table t({"ORIGIN", "HAS", "PRIORITY", "CACHE", "STATUS", "P50_MS", "FAILURES", "SIZE", "MTIME", "ORIGIN_PATH"});
              for (const auto& c : list(r, "candidates")) {
                t.add({text(c, "origin"), flag(c, "has_file") ? "yes" : "no", text(c, "priority"),
                       flag(c, "cache") ? "yes" : "no", text(c, "status"),
                       fmt_ms(field(c, "latency_p50_ms")), text(c, "consecutive_failures"),
                       field(c, "size").is_null() ? "-" : std::to_string(count(c, "size")), text(c, "mtime"),
                       field(c, "origin_path").is_null() ? "-" : path_text(c, "origin_path")});
              }
              t.print();
              return kExitOk;
            };
          }};
}

}  // namespace musicfs::cli
