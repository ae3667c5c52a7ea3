// musicfsctl route-explain PATH [--mount MOUNTPOINT]
// Why does this path route to that origin? Prints the decision the read path makes.
#include <iostream>

#include "client.h"
#include "command.h"
#include "output.h"
#include "client_path_args.h"

namespace musicfs::cli {

namespace {
// "origin laptop", "cache (laptop's version, complete)", "nothing: ..." plus how much
// of the file the cache holds.
std::string serving_line(const nlohmann::json& r) {
  if (r.contains("contributors")) return "-";
  const std::string from = str_or(r["served_from"], "none");
  const uint64_t cached = r.value("cached_bytes", uint64_t{0});
  std::string cached_text = !r.value("cache_enabled", false) ? "content cache off"
                                                             : fmt_bytes(cached) + " cached";
  if (from == "cache") return "content cache (" + str_or(r["cached_origin"]) + "'s version, " + cached_text + ")";
  if (from == "origin") return "origin " + str_or(r["selected"]) + " (" + cached_text + ")";
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
              std::cout << "path:      " << str_or(r["path"]) << "  (mount " << str_or(r["mount"]) << ")\n";
              if (r.contains("contributors")) {
                std::string list;
                for (const auto& c : r["contributors"]) list += (list.empty() ? "" : ", ") + c.get<std::string>();
                std::cout << "type:      directory; entries come from: " << (list.empty() ? "(none)" : list) << "\n";
              }
              std::cout << "selected:  " << str_or(r["selected"], "(none)") << "\n"
                        << "rule:      " << str_or(r["rule"]) << "\n"
                        << "serving:   " << serving_line(r) << "\n"
                        << "divergent: " << (r.value("divergent", false) ? "yes, replicas differ in size or mtime" : "no")
                        << "\n\n";
              Table t({"ORIGIN", "HAS", "PRIORITY", "STATUS", "P50_MS", "FAILURES", "SIZE", "MTIME"});
              for (const auto& c : r["candidates"]) {
                t.add({str_or(c["origin"]), c.value("has_file", false) ? "yes" : "no", str_or(c["priority"]),
                       str_or(c["status"]), fmt_ms(c["latency_p50_ms"]), str_or(c["consecutive_failures"]),
                       c["size"].is_number() ? std::to_string(c["size"].get<uint64_t>()) : "-", str_or(c["mtime"])});
              }
              t.print();
              return kExitOk;
            };
          }};
}

}  // namespace musicfs::cli
