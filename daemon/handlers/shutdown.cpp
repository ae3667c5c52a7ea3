#include <unistd.h>

#include "daemon.h"
#include "handlers/handler.h"

namespace musicfs {

// `musicfsctl daemon stop`: the reply goes out first, then the main loop unmounts
// everything and exits 0, exactly as on SIGTERM.
CommandHandler shutdown_handler() {
  return {"shutdown", [](HandlerContext& ctx) {
            Daemon& d = ctx.daemon;
            ctx.connection.after_reply([&d] { d.request_stop(); });
            return Reply::success({{"pid", ::getpid()}, {"mounts", ctx.daemon.mounts().list().size()}});
          }};
}

}  // namespace musicfs
