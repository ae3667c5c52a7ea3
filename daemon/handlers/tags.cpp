// tags: the tags an entry was placed by and the copy they were read from. On a layout
// mount, what the background indexer read (the tags the tree shows); elsewhere, or
// before the indexer got to it, read now from the best holder (Federation::tags).
#include "daemon.h"
#include "handlers/handler.h"
#include "handlers/json_views.h"
#include "handlers/path_arg.h"
#include "protocol/path_encoding.h"
#include "util/time_util.h"

namespace musicfs {

namespace {
nlohmann::json tags_json(const TrackTags& t) {
  return {{"artist", t.artist},           {"albumartist", t.albumartist}, {"album", t.album},
          {"title", t.title},             {"genre", t.genre},             {"track", t.track},
          {"track_total", t.track_total}, {"disc", t.disc},               {"disc_total", t.disc_total},
          {"year", t.year},               {"duration_ms", t.duration_ms}, {"sample_rate", t.sample_rate},
          {"channels", t.channels},       {"flac_md5", t.flac_md5}};
}
}  // namespace

CommandHandler tags_handler() {
  return {"tags", [](HandlerContext& ctx) {
            auto path = path_string_arg(ctx.args, "path");
            if (!path) return Reply::failure(path.error());
            auto where = mount_path_arg(ctx.daemon.mounts(), ctx.args, *path);
            if (!where) return Reply::failure(where.error());
            const MountPtr& mount = where->mount;
            auto placed = mount->federation->tags(where->vpath);
            if (!placed) {
              if (placed.error().code == ErrorCode::kNotFound) {
                return Reply::failure("not_found",
                                      where->vpath + " is not in the tree of " + mount->config.mount_point);
              }
              return Reply::failure(placed.error());
            }
            const TagRecord& r = placed->record;
            return Reply::success({{"mount", encode_path(mount->config.mount_point)},
                                   {"path", encode_path(where->vpath)},
                                   {"origin", placed->origin},
                                   {"origin_path", encode_path(placed->origin_path)},
                                   {"size", r.size},
                                   {"mtime", iso8601_utc(r.mtime_sec)},
                                   {"layout", mount->federation->layout() != nullptr},
                                   {"readable", r.readable},
                                   {"tags", tags_json(r.tags)}});
          }};
}

}  // namespace musicfs
