#include "daemon.h"
#include "handlers/handler.h"
#include "protocol/path_encoding.h"

namespace musicfs {

CommandHandler unmount_handler() {
  return {"unmount", [](HandlerContext& ctx) {
            auto mp = path_string_arg(ctx.args, "mount_point");
            if (!mp) return Reply::failure(mp.error());
            if (auto s = ctx.daemon.mounts().unmount(*mp); !s) return Reply::failure(s.error());
            return Reply::success({{"mount_point", encode_path(*mp)}});
          }};
}

}  // namespace musicfs
