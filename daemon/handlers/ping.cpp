#include <unistd.h>

#include "handlers/handler.h"

namespace musicfs {

CommandHandler ping_handler() {
  return {"ping", [](HandlerContext&) {
            return Reply::success({{"pid", ::getpid()}, {"version", MUSICFS_VERSION}, {"protocol", kProtocolVersion}});
          }};
}

}  // namespace musicfs
