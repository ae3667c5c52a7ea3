// metrics: the daemon's figures in the Prometheus text exposition format ("text"),
// and the same families as structured values ("metrics", for --json). Rendered here
// from daemon/metrics.cpp, the one place the [metrics] textfile is rendered from too.
#include "daemon.h"
#include "handlers/handler.h"
#include "metrics.h"

namespace musicfs {

CommandHandler metrics_handler() {
  return {"metrics", [](HandlerContext& ctx) {
            const auto families = collect_metrics(ctx.daemon);
            auto text = render_exposition(families);
            if (!text) return Reply::failure(text.error());
            return Reply::success({{"text", *text}, {"metrics", exposition_json(families)}});
          }};
}

}  // namespace musicfs
