// musicfsctl cache stat | clear [--origin ID] | prefetch PATH...
#include <unistd.h>

#include <iostream>

#include "client.h"
#include "command.h"
#include "output.h"
#include "client_reply_fields.h"
#include "client_path_args.h"

namespace musicfs::cli {

namespace {
int print_stat(const Globals& g) {
  auto out = call_daemon(g, "cache-stat");
  if (!out.reply || !out.reply->ok) return out.exit_code;
  if (g.json) {
    print_json(out.reply->result);
    return kExitOk;
  }
  for (const auto& m : list(out.reply->result, "mounts")) {
    auto n = [&](const char* k) { return count(m, k); };
    std::cout << "mount " << path_text(m, "mount_point") << ": content cache at " << path_text(m, "cache_dir");
    if (!flag(m, "enabled")) {
      std::cout << " is off (content_cache_gb = 0: passthrough)\n";
    } else {
      std::cout << "\n  used " << fmt_bytes(n("used_bytes")) << " of " << fmt_bytes(n("capacity_bytes"))
                << (flag(m, "capped_by_disk") ? " (lowered: the cache filesystem is full)" : "") << " in "
                << n("files") << " files, " << n("chunks") << " chunks\n"
                << "  hits " << n("hits") << " (" << fmt_bytes(n("hit_bytes")) << "), misses " << n("misses") << " ("
                << fmt_bytes(n("miss_bytes")) << "), evictions " << n("evictions") << " ("
                << fmt_bytes(n("evicted_bytes")) << "), corrupt chunks dropped " << n("corrupt_chunks") << "\n";
    }
    Table t({"ORIGIN", "FETCHED"});
    const auto& fetched = object(m, "fetched_bytes_per_origin");
    for (auto it = fetched.begin(); it != fetched.end(); ++it) t.add({it.key(), fmt_bytes(count(fetched, it.key().c_str()))});
    t.print("  ");
  }
  return kExitOk;
}

int clear(const Globals& g, const std::string& mount, const std::string& origin) {
  nlohmann::json args = nlohmann::json::object();
  if (!mount.empty()) args["mount"] = path_request_args("/", mount).at("mount");
  if (!origin.empty()) args["origin"] = origin;
  auto out = call_daemon(g, "cache-clear", args);
  if (!out.reply || !out.reply->ok) return out.exit_code;
  const auto& r = out.reply->result;
  if (g.json) {
    print_json(r);
    return kExitOk;
  }
  std::cout << "cleared " << count(r, "chunks") << " chunks (" << fmt_bytes(count(r, "bytes")) << ")"
            << (origin.empty() ? "" : " of origin " + origin) << " from " << path_text(r, "mount") << "\n";
  return kExitOk;
}

int prefetch(const Globals& g, const std::vector<std::string>& paths, const std::string& mount) {
  // A progress line only for a person watching: not in --json, not into a pipe.
  const bool show = !g.json && ::isatty(STDERR_FILENO) != 0;
  nlohmann::json results = nlohmann::json::array();
  int rc = kExitOk;
  for (const auto& p : paths) {
    nlohmann::json args = path_request_args(p, mount);
    // Progress is always asked for: each line restarts the client's timeout, so a
    // long prefetch is not mistaken for a hung daemon.
    args["progress"] = true;
    CallOptions options;
    options.on_stream = [&](const nlohmann::json& line) {
      const auto& pr = object(line, "progress");
      if (!show || pr.empty()) return;
      std::cerr << "\rprefetch " << p << ": " << count(pr, "files_done") << "/" << count(pr, "files") << " files, "
                << fmt_bytes(count(pr, "bytes_done")) << " of " << fmt_bytes(count(pr, "bytes")) << "\033[K"
                << std::flush;
    };
    auto out = call_daemon(g, "cache-prefetch", args, options);
    if (show) std::cerr << "\r\033[K" << std::flush;
    if (!out.reply || !out.reply->ok) {
      rc = out.exit_code;
      continue;
    }
    const auto& r = out.reply->result;
    results.push_back(r);
    const auto& failed = list(r, "failed");
    if (!failed.empty()) rc = kExitFailed;
    if (g.json) continue;
    std::cout << "prefetched " << path_text(r, "path") << " in " << path_text(r, "mount") << ": " << count(r, "files")
              << " files, " << fmt_bytes(count(r, "bytes")) << " (" << fmt_bytes(count(r, "fetched_bytes"))
              << " fetched, the rest was cached)\n";
    for (const auto& f : failed) {
      std::cerr << "musicfsctl: prefetch " << path_text(f, "path") << ": " << text(f, "error") << "\n";
    }
  }
  if (g.json) print_json({{"results", results}});
  return rc;
}
}  // namespace

CliCommand cache_command() {
  return {"cache", [](CLI::App& app, Globals& g) -> Runner {
            auto* sub = app.add_subcommand("cache", "Inspect, clear or fill the content cache");
            sub->require_subcommand(1);
            auto* stat = sub->add_subcommand("stat", "Capacity, use, hits and misses, evictions, bytes fetched per origin");
            auto* clr = sub->add_subcommand("clear", "Drop cached content (of one origin with --origin)");
            auto* pre = sub->add_subcommand("prefetch", "Fetch whole files or directories into the cache");
            auto origin = std::make_shared<std::string>();
            auto mount = std::make_shared<std::string>();
            auto paths = std::make_shared<std::vector<std::string>>();
            clr->add_option("--origin", *origin, "Only this origin's cached content");
            clr->add_option("--mount", *mount, "The mount (needed when several are active)");
            pre->add_option("paths", *paths, "Files or directories inside a mount (or virtual paths with --mount)")
                ->required();
            pre->add_option("--mount", *mount, "Treat PATHs as virtual paths inside this mount");
            return [&g, stat, clr, origin, mount, paths]() -> int {
              if (stat->parsed()) return print_stat(g);
              if (clr->parsed()) return clear(g, *mount, *origin);
              return prefetch(g, *paths, *mount);
            };
          }};
}

}  // namespace musicfs::cli
