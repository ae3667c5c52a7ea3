// cache-prefetch: fetches whole files, or every file under a directory, into the
// content cache ahead of going offline. Streams {"progress": {...}} lines while it
// works (the client shows them on a terminal), then replies with the totals.
// A file that fails is reported and skipped; the others are still fetched.
#include <chrono>

#include "daemon.h"
#include "handlers/handler.h"
#include "protocol/path_encoding.h"
#include "handlers/path_arg.h"

namespace musicfs {

namespace {
// Every file at or below `vpath` in the tree, with the size a read would see.
void collect_files(const Federation& fed, const std::string& vpath, std::vector<std::pair<std::string, uint64_t>>& out) {
  auto attr = fed.getattr(vpath);
  if (!attr) return;
  if (attr->type == EntryType::kFile) {
    out.emplace_back(vpath, attr->size);
    return;
  }
  if (attr->type != EntryType::kDirectory) return;
  auto listing = fed.readdir(vpath);
  if (!listing) return;
  for (const auto& e : *listing) {
    std::string child = (vpath == "/" ? "" : vpath) + "/" + e.name;
    if (e.type == EntryType::kDirectory) {
      collect_files(fed, child, out);
    } else if (e.type == EntryType::kFile) {
      if (auto attr = fed.getattr(child); attr) out.emplace_back(child, attr->size);
    }
  }
}
}  // namespace

CommandHandler cache_prefetch_handler() {
  return {"cache-prefetch", [](HandlerContext& ctx) -> Reply {
            auto path = path_string_arg(ctx.args, "path");
            if (!path) return Reply::failure(path.error());
            auto where = mount_path_arg(ctx.daemon.mounts(), ctx.args, *path);
            if (!where) return Reply::failure(where.error());
            Federation& fed = *where->mount->federation;
            if (!fed.cache()) {
              return Reply::failure("unsupported", "the content cache of " + where->mount->config.mount_point +
                                                       " is off (content_cache_gb = 0): nothing to prefetch into");
            }
            if (!fed.explain(where->vpath).exists && where->vpath != "/") {
              return Reply::failure("not_found", where->vpath + " is not in the tree of " +
                                                     where->mount->config.mount_point);
            }
            std::vector<std::pair<std::string, uint64_t>> files;
            collect_files(fed, where->vpath, files);
            uint64_t total = 0;
            for (const auto& f : files) total += f.second;

            const bool stream = ctx.args.value("progress", false);
            uint64_t done_before = 0, fetched = 0;
            size_t files_done = 0;
            nlohmann::json failed = nlohmann::json::array();
            auto last_report = std::chrono::steady_clock::time_point{};
            auto report = [&](const std::string& current, uint64_t done, bool force) {
              if (!stream) return;
              auto now = std::chrono::steady_clock::now();
              if (!force && now - last_report < std::chrono::milliseconds(200)) return;
              last_report = now;
              nlohmann::json p = {{"files_done", files_done}, {"files", files.size()}, {"bytes_done", done},
                                  {"bytes", total}, {"current", encode_path(current)}};
              ctx.connection.write_line(json_line({{"progress", p}}));
            };
            for (const auto& [file, size] : files) {
              if (ctx.connection.peer_closed()) break;  // the client gave up (Ctrl-C)
              auto r = fed.prefetch(file, [&](uint64_t done, uint64_t) { report(file, done_before + done, false); });
              if (r) {
                fetched += *r;
              } else {
                failed.push_back({{"path", encode_path(file)}, {"error", r.error().message}});
              }
              done_before += size;
              ++files_done;
              report(file, done_before, false);
            }
            report("", done_before, true);
            fed.cache()->flush();
            return Reply::success({{"mount", encode_path(where->mount->config.mount_point)},
                                   {"path", encode_path(where->vpath)},
                                   {"files", files.size()},
                                   {"bytes", total},
                                   {"fetched_bytes", fetched},
                                   {"failed", failed}});
          },
          // A whole directory can take minutes: it must not hold a command slot.
          [](const nlohmann::json&) { return true; }};
}

}  // namespace musicfs
