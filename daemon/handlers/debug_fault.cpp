// TEST BUILD ONLY (MUSICFS_FAULT_INJECTION): switches the fault-injecting decorator
// of an origin. Not compiled into release builds, so no user config or command can
// reach it.
#include "handlers/handler.h"
#include "origins/fault_injecting_origin.h"

namespace musicfs {

CommandHandler debug_fault_handler() {
  return {"debug-fault", [](HandlerContext& ctx) {
            auto id = string_arg(ctx.args, "origin");
            if (!id) return Reply::failure(id.error());
            auto origin = FaultRegistry::instance().find(*id);
            if (!origin) return Reply::failure("not_found", "no fault-injectable origin '" + *id + "'");
            auto mode = string_arg(ctx.args, "mode", false);
            if (!mode) return Reply::failure(mode.error());
            if (!mode->empty()) {
              auto spec = parse_fault_mode(*mode, ctx.args.value("arg", int64_t{0}), ctx.args.value("affect_probe", true));
              if (!spec) return Reply::failure(spec.error());
              origin->set_fault(*spec);
            }
            return Reply::success({{"origin", *id}, {"data_call_times", origin->data_call_times()}});
          }};
}

}  // namespace musicfs
