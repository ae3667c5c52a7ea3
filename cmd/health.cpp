// musicfsctl health [--check] [--origin ID]
// Exit status follows the Nagios plugin convention so a cron job can act on it:
// 0 all healthy; 1 some origin degraded/unhealthy but every mount still has a healthy
// origin; 2 some mount has no healthy origin; 3 the daemon cannot be reached.
#include <iostream>

#include "client.h"
#include "command.h"
#include "output.h"
#include "util/time_util.h"

namespace musicfs::cli {

namespace {
// --history and --summary: the record, not the current state. Exit 0 on success.
int report_history(const Globals& g, nlohmann::json args, bool history, const std::string& since) {
  auto from = parse_since(since, unix_now());
  if (!from) {
    std::cerr << "musicfsctl: --since '" << since << "' does not parse (use 90s, 15m, 24h, 7d, 2w or 2026-11-24T10:00:00Z)\n";
    return kExitUsage;
  }
  args["since"] = *from;
  args[history ? "history" : "summary"] = true;
  auto out = call_daemon(g, "health", args);
  if (!out.reply || !out.reply->ok) return out.exit_code;
  const auto& r = out.reply->result;
  if (g.json) {
    print_json(r);
    return kExitOk;
  }
  if (history) {
    Table t({"TIME", "MOUNT", "ORIGIN", "RESULT", "LATENCY_MS", "ERROR"});
    for (const auto& c : r["checks"]) {
      t.add({str_or(c["time"]), str_or(c["mount"]), str_or(c["origin"]), c.value("ok", false) ? "ok" : "failed",
             fmt_ms(c["latency_ms"]), str_or(c["error"])});
    }
    t.print();
    return kExitOk;
  }
  std::cout << "health since " << str_or(r["since"]) << "\n";
  Table t({"ORIGIN", "MOUNT", "CHECKS", "FAILURES", "AVAILABILITY", "LONGEST_OUTAGE", "STATE_CHANGES"});
  for (const auto& s : r["summary"]) {
    char avail[32], outage[32];
    std::snprintf(avail, sizeof avail, "%.2f%%", s.value("availability_pct", 0.0));
    std::snprintf(outage, sizeof outage, "%.0fs", s.value("longest_outage_secs", 0.0));
    t.add({str_or(s["origin"]), str_or(s["mount"]), str_or(s["checks"]), str_or(s["failures"]), avail, outage,
           str_or(s["state_changes"])});
  }
  t.print();
  return kExitOk;
}
}  // namespace

CliCommand health_command() {
  return {"health", [](CLI::App& app, Globals& g) -> Runner {
            auto* sub = app.add_subcommand("health", "Show each origin's health; the exit code summarises it");
            auto check = std::make_shared<bool>(false);
            auto origin = std::make_shared<std::string>();
            auto hist = std::make_shared<bool>(false);
            auto summ = std::make_shared<bool>(false);
            auto since = std::make_shared<std::string>("24h");
            sub->add_flag("--check", *check, "Probe now and wait for the result before reporting");
            sub->add_option("--origin", *origin, "Only this origin");
            auto* h = sub->add_flag("--history", *hist, "List past health checks");
            auto* s = sub->add_flag("--summary", *summ, "Per origin: checks, failures, availability, longest outage");
            h->excludes(s);
            sub->add_option("--since", *since, "Window for --history/--summary: 90s, 15m, 24h, 7d, 2w or ISO-8601 (default 24h)");
            return [check, origin, hist, summ, since, &g]() -> int {
              nlohmann::json args = {{"check", *check}};
              if (!origin->empty()) args["origin"] = *origin;
              if (*hist || *summ) return report_history(g, args, *hist, *since);
              auto out = call_daemon(g, "health", args);
              if (!out.reply) return kExitUnreachable;
              if (!out.reply->ok) return out.exit_code;
              const auto& r = out.reply->result;
              int code = kExitOk;
              for (const auto& o : r["origins"]) {
                if (o.value("status", "") != "healthy") code = 1;
              }
              for (const auto& m : r["mounts"]) {
                if (m.value("origins", 0) > 0 && m.value("healthy_origins", 0) == 0) code = 2;
              }
              if (g.json) {
                print_json(r);
                return code;
              }
              Table t({"MOUNT", "ORIGIN", "STATUS", "FAILURES", "LAST_CHECK", "P50_MS", "P99_MS", "LAST_ERROR"});
              for (const auto& o : r["origins"]) {
                t.add({str_or(o["mount"]), str_or(o["id"]), str_or(o["status"]), str_or(o["consecutive_failures"]),
                       fmt_age(o["last_check"]), fmt_ms(o["latency_p50_ms"]), fmt_ms(o["latency_p99_ms"]),
                       str_or(o["last_error"])});
              }
              t.print();
              return code;
            };
          }};
}

}  // namespace musicfs::cli
