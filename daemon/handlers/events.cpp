#include <algorithm>

#include "daemon.h"
#include "handlers/handler.h"
#include "handlers/json_views.h"
#include "protocol/protocol.h"

namespace musicfs {

namespace {
// How often a quiet stream says it is alive: the client asks (keepalive_ms, a third of
// its --timeout), within bounds that keep a stream from flooding the socket.
std::chrono::milliseconds keepalive_interval(const nlohmann::json& args) {
  constexpr int64_t kDefaultMs = 5000, kMinMs = 100, kMaxMs = 60000;
  auto k = args.find("keepalive_ms");
  if (k == args.end() || !k->is_number_integer()) return std::chrono::milliseconds(kDefaultMs);
  return std::chrono::milliseconds(std::clamp(k->get<int64_t>(), kMinMs, kMaxMs));
}
}  // namespace

// Lists events after `after_id` (and since `since`, unix seconds). With follow=true
// each new event is streamed as its own line ({"event":{...}}) until the client
// hangs up; the final reply closes the stream.
CommandHandler events_handler() {
  return {"events", [](HandlerContext& ctx) {
            int64_t after = ctx.args.value("after_id", int64_t{0});
            int64_t since = ctx.args.value("since", int64_t{0});
            std::string kind = ctx.args.value("kind", std::string());
            bool follow = ctx.args.value("follow", false);
            auto matches = [&](const Event& e) { return e.time >= since && (kind.empty() || e.kind == kind); };
            nlohmann::json out = nlohmann::json::array();
            int64_t last = after;
            if (StateStore* store = ctx.daemon.store()) {
              // The database holds the whole retained history, across restarts.
              store->flush();
              auto rows = store->events(since, kind, after);
              if (!rows) return Reply::failure(rows.error());
              for (const auto& e : *rows) {
                out.push_back(event_json(e));
                last = std::max(last, e.id);
              }
              for (const auto& e : ctx.daemon.events().since(last)) last = e.id;
            } else {
              for (const auto& e : ctx.daemon.events().since(after)) {
                if (matches(e)) out.push_back(event_json(e));
                last = e.id;
              }
            }
            if (!follow) return Reply::success({{"events", out}});
            for (const auto& e : out) ctx.connection.write_line(json_line({{"event", e}}));
            // A quiet stream still says it is alive, so the client can tell a daemon
            // with nothing to report from one that hangs (its --timeout).
            const auto keepalive = keepalive_interval(ctx.args);
            const auto wait_step = std::min<std::chrono::milliseconds>(keepalive, std::chrono::milliseconds(500));
            auto last_line = std::chrono::steady_clock::now();
            while (!ctx.connection.peer_closed()) {
              if (std::chrono::steady_clock::now() - last_line >= keepalive) {
                if (!ctx.connection.write_line(json_line({{"keepalive", true}}))) break;
                last_line = std::chrono::steady_clock::now();
              }
              if (!ctx.daemon.events().wait_for(last, wait_step)) continue;
              for (const auto& e : ctx.daemon.events().since(last)) {
                last = e.id;
                if (!matches(e)) continue;
                if (!ctx.connection.write_line(json_line({{"event", event_json(e)}}))) {
                  return Reply::success({{"events", nlohmann::json::array()}});
                }
                last_line = std::chrono::steady_clock::now();
              }
            }
            return Reply::success({{"events", nlohmann::json::array()}});
          },
          [](const nlohmann::json& args) {
            auto f = args.find("follow");
            return f != args.end() && f->is_boolean() && f->get<bool>();
          }};
}

}  // namespace musicfs
