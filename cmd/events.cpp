// musicfsctl events [--since WHEN] [--kind KIND] [--follow]
#include <iostream>

#include "client.h"
#include "command.h"
#include "output.h"
#include "client_reply_fields.h"
#include "util/time_util.h"

namespace musicfs::cli {

namespace {
void print_event_line(const nlohmann::json& e) {
  std::string where;
  if (auto origin = text(e, "origin", ""); !origin.empty()) where += " origin=" + origin;
  if (auto path = path_text(e, "path", ""); !path.empty()) where += " path=" + path;
  std::cout << text(e, "time") << "  " << text(e, "kind") << where << ": " << text(e, "message", "") << std::endl;
}
}  // namespace

CliCommand events_command() {
  return {"events", [](CLI::App& app, Globals& g) -> Runner {
            auto* sub = app.add_subcommand("events", "Show the event log (health changes, failovers, mounts)");
            auto since = std::make_shared<std::string>();
            auto kind = std::make_shared<std::string>();
            auto follow = std::make_shared<bool>(false);
            sub->add_option("--since", *since, "Only events since 90s, 15m, 24h, 7d, 2w or an ISO-8601 time");
            sub->add_option("--kind", *kind, "Only events of this kind (e.g. failover)");
            sub->add_flag("-f,--follow", *follow, "Keep streaming new events until interrupted");
            return [since, kind, follow, &g]() -> int {
              nlohmann::json args = nlohmann::json::object();
              if (!since->empty()) {
                auto t = parse_since(*since, unix_now());
                if (!t) {
                  std::cerr << "musicfsctl: --since '" << *since
                            << "' does not parse (use 90s, 15m, 24h, 7d, 2w or 2026-11-24T10:00:00Z)\n";
                  return kExitUsage;
                }
                args["since"] = *t;
              }
              if (!kind->empty()) args["kind"] = *kind;
              if (*follow) {
                args["follow"] = true;
                // Keepalives three times per timeout, so a quiet stream is not taken for a hung daemon.
                if (auto t = call_timeout_secs(g, false)) args["keepalive_ms"] = static_cast<int64_t>(*t * 1000 / 3);
                CallOptions follow_options;
                follow_options.on_stream = [&](const nlohmann::json& line) {
                  const nlohmann::json& e = field(line, "event");
                  if (e.is_null()) return;  // a keepalive
                  if (g.json) {
                    std::cout << json_line(e) << std::flush;
                  } else {
                    print_event_line(e);
                  }
                };
                auto out = call_daemon(g, "events", args, follow_options);
                return out.exit_code;
              }
              auto out = call_daemon(g, "events", args);
              if (!out.reply || !out.reply->ok) return out.exit_code;
              if (g.json) {
                print_json(out.reply->result);
                return kExitOk;
              }
              for (const auto& e : list(out.reply->result, "events")) print_event_line(e);
              return kExitOk;
            };
          }};
}

}  // namespace musicfs::cli
