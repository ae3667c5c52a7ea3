// musicfsctl health [--check] [--origin ID] [--format table|nagios]
// Exit status follows the Nagios plugin convention so a cron job can act on it:
// 0 all healthy; 1 some origin degraded/unhealthy but every mount still has a healthy
// origin; 2 some mount has no healthy origin; 3 the daemon cannot be reached. With
// --origin ID the code is about that origin alone: 0 healthy, 1 degraded or unknown,
// 2 unhealthy.
#include <iostream>

#include "client.h"
#include "command.h"
#include "output.h"
#include "client_reply_fields.h"
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
    for (const auto& c : list(r, "checks")) {
      t.add({text(c, "time"), path_text(c, "mount"), text(c, "origin"), flag(c, "ok") ? "ok" : "failed",
             fmt_ms(field(c, "latency_ms")), text(c, "error")});
    }
    t.print();
    return kExitOk;
  }
  std::cout << "health since " << text(r, "since") << "\n";
  Table t({"ORIGIN", "MOUNT", "CHECKS", "FAILURES", "AVAILABILITY", "LONGEST_OUTAGE", "STATE_CHANGES"});
  for (const auto& s : list(r, "summary")) {
    char avail[32], outage[32];
    std::snprintf(avail, sizeof avail, "%.2f%%", number(s, "availability_pct"));
    std::snprintf(outage, sizeof outage, "%.0fs", number(s, "longest_outage_secs"));
    t.add({text(s, "origin"), path_text(s, "mount"), text(s, "checks"), text(s, "failures"), avail, outage,
           text(s, "state_changes")});
  }
  t.print();
  return kExitOk;
}

// The exit status of the current state (Nagios: 0 OK, 1 WARNING, 2 CRITICAL). With
// --origin it is about that origin alone; else about every origin and mount.
int state_exit_code(const nlohmann::json& r, bool one_origin) {
  int code = kExitOk;
  for (const auto& o : list(r, "origins")) {
    const std::string st = text(o, "status", "");
    if (st == "unhealthy" && one_origin) code = 2;
    if (st != "healthy" && code < 1) code = 1;
  }
  if (!one_origin) {
    for (const auto& m : list(r, "mounts")) {
      if (integer(m, "origins") > 0 && integer(m, "healthy_origins") == 0) code = 2;
    }
  }
  return code;
}

// A perfdata label: the origin's id, or MOUNT:ID where two mounts use one id. Quoted,
// with quotes doubled, as the plugin guidelines want for any label.
std::string perf_label(const nlohmann::json& o, const nlohmann::json& all, const std::string& what) {
  const std::string id = text(o, "id");
  int same = 0;
  for (const auto& other : list(all, "origins")) same += text(other, "id") == id ? 1 : 0;
  std::string label = (same > 1 ? path_text(o, "mount", "") + ":" : "") + id + " " + what;
  std::string quoted = "'";
  for (char c : label) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return quoted + "'";
}

// `--format nagios`: the one line a monitoring plugin prints,
// "STATUS - text|label=value[UOM];warn;crit;min;max ...".
void print_nagios(const nlohmann::json& r, int code) {
  static const char* const kWords[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
  const auto& origins = list(r, "origins");
  size_t healthy = 0;
  std::string troubled;
  for (const auto& o : origins) {
    const std::string st = text(o, "status", "");
    if (st == "healthy") {
      ++healthy;
    } else {
      troubled += (troubled.empty() ? ": " : ", ") + text(o, "id") + " " + st;
    }
  }
  std::string orphaned;
  for (const auto& m : list(r, "mounts")) {
    if (integer(m, "origins") > 0 && integer(m, "healthy_origins") == 0) {
      orphaned += (orphaned.empty() ? "; no healthy origin for " : ", ") + path_text(m, "mount_point", "");
    }
  }
  std::cout << kWords[code] << " - " << healthy << " of " << origins.size() << " origin(s) healthy" << troubled
            << orphaned << "|";
  char buf[64];
  std::snprintf(buf, sizeof buf, "healthy=%zu;;;0;%zu", healthy, origins.size());
  std::cout << buf;
  for (const auto& o : origins) {
    std::snprintf(buf, sizeof buf, "=%.3fms;;;0", number(o, "latency_p50_ms"));
    std::cout << " " << perf_label(o, r, "latency_p50") << buf;
    std::cout << " " << perf_label(o, r, "failures") << "=" << count(o, "consecutive_failures") << ";;"
              << count(o, "unhealthy_threshold") << ";0";
  }
  std::cout << "\n";
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
            auto format = std::make_shared<std::string>("table");
            auto* f = sub->add_option("--format", *format,
                                      "table (default) or nagios: one line 'STATUS - text|perfdata' for monitoring plugins")
                          ->check(CLI::IsMember({"table", "nagios"}));
            f->excludes(h)->excludes(s);
            return [check, origin, hist, summ, since, format, &g]() -> int {
              const bool nagios = *format == "nagios";
              if (nagios && g.json) {
                std::cerr << "musicfsctl: --format nagios and --json exclude each other (see 'musicfsctl health --help')\n";
                return kExitUsage;
              }
              nlohmann::json args = {{"check", *check}};
              if (!origin->empty()) args["origin"] = *origin;
              if (*hist || *summ) return report_history(g, args, *hist, *since);
              auto out = call_daemon(g, "health", args);
              if (!out.reply) {
                if (nagios) std::cout << "UNKNOWN - the musicfs daemon does not answer\n";
                return kExitUnreachable;
              }
              if (!out.reply->ok) {
                if (nagios) std::cout << "UNKNOWN - " << out.reply->error_message << "\n";
                return nagios ? kExitUnreachable : out.exit_code;
              }
              const auto& r = out.reply->result;
              const int code = state_exit_code(r, !origin->empty());
              if (g.json) {
                print_json(r);
                return code;
              }
              if (nagios) {
                print_nagios(r, code);
                return code;
              }
              Table t({"MOUNT", "ORIGIN", "STATUS", "FAILURES", "LAST_CHECK", "P50_MS", "P99_MS", "LAST_ERROR"});
              for (const auto& o : list(r, "origins")) {
                t.add({path_text(o, "mount"), text(o, "id"), text(o, "status"), text(o, "consecutive_failures"),
                       fmt_age(field(o, "last_check")), fmt_ms(field(o, "latency_p50_ms")),
                       fmt_ms(field(o, "latency_p99_ms")), text(o, "last_error")});
              }
              t.print();
              return code;
            };
          }};
}

}  // namespace musicfs::cli
