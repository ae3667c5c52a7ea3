#include "daemon.h"
#include "handlers/handler.h"

namespace musicfs {

CommandHandler unmount_handler() {
  return {"unmount", [](HandlerContext& ctx) {
            auto mp = string_arg(ctx.args, "mount_point");
            if (!mp) return Reply::failure(mp.error());
            if (auto s = ctx.daemon.mounts().unmount(*mp); !s) return Reply::failure(s.error());
            return Reply::success({{"mount_point", *mp}});
          }};
}

}  // namespace musicfs
