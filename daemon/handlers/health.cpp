// health: each origin's status, failures, last check and latency, optionally after
// a forced probe (check=true) that this call waits for.
#include "daemon.h"
#include "handlers/handler.h"
#include "handlers/json_views.h"
#include "protocol/path_encoding.h"
#include "util/time_util.h"

#include <map>

namespace musicfs {

namespace {

// Past probes of one origin, or of all, since a time.
Reply history(StateStore& store, int64_t since, const std::string& origin) {
  store.flush();
  auto rows = store.health_checks(static_cast<double>(since), origin);
  if (!rows) return Reply::failure(rows.error());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : *rows) {
    out.push_back({{"time", iso8601_utc(static_cast<int64_t>(r.time))},
                   {"mount", encode_path(r.mount)},
                   {"origin", r.origin},
                   {"ok", r.ok},
                   {"latency_ms", r.latency_ms},
                   {"error", r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error)}});
  }
  return Reply::success({{"since", iso8601_utc(since)}, {"checks", out}});
}

// The cron report: per origin, checks, failures, availability, longest outage and
// state changes over the window.
Reply summary(StateStore& store, int64_t since, const std::string& origin) {
  store.flush();
  auto rows = store.health_checks(static_cast<double>(since), origin);
  if (!rows) return Reply::failure(rows.error());
  auto events = store.events(since, "", 0);
  if (!events) return Reply::failure(events.error());
  struct Acc {
    std::string mount;
    int64_t checks = 0, failures = 0, state_changes = 0;
    double outage_start = -1, longest = 0, last_time = 0;
  };
  std::map<std::string, Acc> by_origin;
  for (const auto& r : *rows) {
    Acc& a = by_origin[r.origin];
    a.mount = r.mount;
    ++a.checks;
    a.last_time = r.time;
    if (!r.ok) {
      ++a.failures;
      if (a.outage_start < 0) a.outage_start = r.time;
    } else if (a.outage_start >= 0) {
      a.longest = std::max(a.longest, r.time - a.outage_start);
      a.outage_start = -1;
    }
  }
  for (const auto& e : *events) {
    if (e.kind == "origin_healthy" || e.kind == "origin_degraded" || e.kind == "origin_unhealthy") {
      if (auto it = by_origin.find(e.origin); it != by_origin.end()) ++it->second.state_changes;
    }
  }
  nlohmann::json out = nlohmann::json::array();
  double now = unix_now_precise();
  for (auto& [id, a] : by_origin) {
    // An outage still going on counts up to now.
    if (a.outage_start >= 0) a.longest = std::max(a.longest, now - a.outage_start);
    double availability = a.checks ? 100.0 * static_cast<double>(a.checks - a.failures) / static_cast<double>(a.checks) : 0;
    out.push_back({{"origin", id},
                   {"mount", encode_path(a.mount)},
                   {"checks", a.checks},
                   {"failures", a.failures},
                   {"availability_pct", availability},
                   {"longest_outage_secs", a.longest},
                   {"state_changes", a.state_changes}});
  }
  return Reply::success({{"since", iso8601_utc(since)}, {"summary", out}});
}

}  // namespace

CommandHandler health_handler() {
  return {"health", [](HandlerContext& ctx) {
            auto only = string_arg(ctx.args, "origin", false);
            if (!only) return Reply::failure(only.error());
            bool want_history = ctx.args.value("history", false);
            bool want_summary = ctx.args.value("summary", false);
            if (want_history || want_summary) {
              StateStore* store = ctx.daemon.store();
              if (store == nullptr) return Reply::failure("unavailable", "this daemon keeps no history");
              int64_t since = ctx.args.value("since", unix_now() - 86400);
              return want_summary ? summary(*store, since, *only) : history(*store, since, *only);
            }
            bool check = ctx.args.value("check", false);
            auto mounts = ctx.daemon.mounts().list();
            bool found = only->empty();
            for (const auto& m : mounts) {
              if (!only->empty() && !m->federation->registry().get(*only)) continue;
              found = true;
              if (check) m->federation->check_now(*only);
            }
            if (!found) return Reply::failure("not_found", "no origin '" + *only + "' in any mount");
            nlohmann::json origins = nlohmann::json::array();
            nlohmann::json mount_rows = nlohmann::json::array();
            for (const auto& m : mounts) {
              size_t healthy = 0, total = 0;
              for (const auto origin_list = m->federation->origins(); const auto& rt : *origin_list) {
                ++total;
                if (rt->status.load() == HealthStatus::kHealthy) ++healthy;
                if (!only->empty() && rt->config.id != *only) continue;
                nlohmann::json o = origin_json(*rt, m->federation->tree());
                o["mount"] = encode_path(m->config.mount_point);
                origins.push_back(o);
              }
              mount_rows.push_back({{"mount_point", encode_path(m->config.mount_point)},
                                    {"origins", total},
                                    {"healthy_origins", healthy}});
            }
            return Reply::success({{"origins", origins}, {"mounts", mount_rows}});
          }};
}

}  // namespace musicfs
