#include "daemon.h"

#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_parser.h"
#include "handlers/handler.h"
#include "metrics.h"
#include "origins/fault_injecting_origin.h"
#include "util/logging.h"
#include "util/time_util.h"

namespace musicfs {

namespace {
std::function<OriginPtr(OriginPtr)> origin_decorator() {
#ifdef MUSICFS_FAULT_INJECTION
  // Test build only: every origin can be made to fail or hang by `debug-fault`.
  return [](OriginPtr o) -> OriginPtr {
    auto f = std::make_shared<FaultInjectingOrigin>(std::move(o));
    FaultRegistry::instance().add("", f);
    return f;
  };
#else
  return nullptr;
#endif
}

Status make_private_dir(const std::string& dir) {
  std::string partial;
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      partial = dir.substr(0, i);
      if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
        return Error::from_errno(errno, "cannot create state directory " + partial);
      }
    }
  }
  return {};
}
}  // namespace

Daemon::Daemon(DaemonOptions options)
    : options_(std::move(options)), stop_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

Daemon::~Daemon() = default;

void Daemon::request_stop() {
  uint64_t one = 1;
  (void)!::write(stop_fd_.get(), &one, sizeof one);
}

void Daemon::report_ready(const std::string& error) {
  if (options_.ready_fd < 0) return;
  std::string msg = error.empty() ? "ok\n" : "error: " + error + "\n";
  (void)!::write(options_.ready_fd, msg.data(), msg.size());
  ::close(options_.ready_fd);
  options_.ready_fd = -1;
}

Reply Daemon::dispatch(const Request& req, Connection& conn) {
  for (const auto& h : command_handlers()) {
    if (h.name == req.cmd) {
      HandlerContext ctx{*this, req.args, conn};
      return h.handle(ctx);
    }
  }
  return Reply::failure("unknown_command", "unknown command '" + req.cmd + "'");
}

bool Daemon::is_stream(const Request& req) const {
  for (const auto& h : command_handlers()) {
    if (h.name == req.cmd) return h.streams != nullptr && h.streams(req.args);
  }
  return false;
}

int Daemon::run() {
  started_at_ = unix_now();
  // Signals are taken through a signalfd in this thread only; every thread started
  // from here on inherits the blocked mask.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  UniqueFd sigfd(::signalfd(-1, &mask, SFD_CLOEXEC));

  if (auto s = make_private_dir(options_.state_dir); !s) {
    spdlog::error("{}", s.error().message);
    report_ready(s.error().message);
    return 1;
  }
  auto listen_fd = listen_on_socket(options_.socket_path, lock_fd_);
  if (!listen_fd) {
    spdlog::error("{}", listen_fd.error().message);
    report_ready(listen_fd.error().message);
    return 1;
  }
  auto store = StateStore::open(options_.state_dir + "/musicfs.db", unix_now());
  if (!store) {
    spdlog::error("{}", store.error().message);
    report_ready(store.error().message);
    return 1;
  }
  store_ = std::move(*store);
  if (auto max_id = store_->max_event_id()) events_.set_next_id(*max_id + 1);
  events_.set_sink([s = store_.get()](const Event& e) { s->record_event(e); });
  if (const auto& reset = store_->reset()) {
    // Into the fresh database, so `musicfsctl events` tells what happened to the old one.
    events_.record({0, 0, "state_reset", "", "", reset->aside_path,
                    "state database " + store_->path() + " was damaged (" + reset->damage + "); moved to " +
                        reset->aside_path + ", started fresh: mounts, run-time origins and history were lost"});
  }
  mounts_ = std::make_unique<MountTable>(events_, store_.get(), origin_decorator());
  server_ = std::make_unique<ControlServer>(
      std::move(*listen_fd), [this](const Request& r, Connection& c) { return dispatch(r, c); },
      [this](const Request& r) { return is_stream(r); });
  server_->start();
  spdlog::info("musicfs daemon {} listening on {} (pid {})", MUSICFS_VERSION, options_.socket_path, ::getpid());
  report_ready("");
  mounts_->restore_after_crash();
  prune_history();

  int exit_code = 0;
  if (auto s = mount_config_files(); !s) {
    // A service whose mount failed is a failed start: systemd sees the exit, not READY.
    spdlog::error("{}", s.error().message);
    std::fprintf(stderr, "musicfsctl daemon: %s\n", s.error().message.c_str());
    exit_code = 1;
  } else {
    notifier_.ready(status_line());
  }

  struct pollfd fds[2] = {{sigfd.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
  while (exit_code == 0) {
    int r = ::poll(fds, 2, 250);
    if (r < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo si {};
      (void)!::read(sigfd.get(), &si, sizeof si);
      if (si.ssi_signo == SIGHUP) {
        reload();
        continue;
      }
      spdlog::info("signal {} received; stopping", si.ssi_signo);
      break;
    }
    if (fds[1].revents & POLLIN) {
      spdlog::info("stop requested over the control socket");
      break;
    }
    mounts_->reap();
    notifier_.status(status_line());
    sync_textfiles();
    if (unix_now() - last_prune_ > 3600) prune_history();
  }
  notifier_.stopping();
  // Stop waiting on origins first: a control command (cache prefetch, origins add) or
  // a FUSE read blocked on a hung origin would otherwise hold the stop below.
  mounts_->cancel_all();
  server_->stop();
  textfiles_.clear();
  mounts_->unmount_all();
  events_.set_sink(nullptr);
  store_->flush();
  ::unlink(options_.socket_path.c_str());
  spdlog::info("musicfs daemon stopped");
  spdlog::default_logger()->flush();
  return exit_code;
}

Status Daemon::mount_config_files() {
  for (const auto& path : options_.config_files) {
    auto m = mounts_->mount_file(path);
    if (!m) return m.take_error();
    spdlog::info("mounted {} from {}", (*m)->config.mount_point, path);
  }
  return {};
}

void Daemon::reload() {
  notifier_.reloading();
  spdlog::info("SIGHUP: reopening the log and reading {} config file(s) again", options_.config_files.size());
  if (const std::string log = log_file_of(options_); !log.empty()) {
    if (auto s = setup_logging(LogTarget::kFile, options_.log_level, log); !s) {
      // The old file stays open (spdlog keeps the logger it had): better than no log.
      std::fprintf(stderr, "musicfsctl daemon: %s\n", s.error().message.c_str());
    }
  }
  for (const auto& path : options_.config_files) {
    // A file that no longer parses changes nothing: the mount goes on as it was.
    auto config = parse_config_file(path);
    if (!config) {
      spdlog::error("reload: {} (the mount is left as it was)", config.error().message);
      events_.record({0, 0, "config_reload_failed", "", "", path, config.error().message});
      continue;
    }
    auto r = mounts_->reload(std::move(*config));
    if (!r) {
      spdlog::error("reload {}: {}", path, r.error().message);
      events_.record({0, 0, "config_reload_failed", "", "", path, r.error().message});
    } else {
      spdlog::info("{}", *r);
    }
  }
  notifier_.ready(status_line());
}

std::string Daemon::status_line() const {
  size_t mounts = 0;
  size_t origins = 0;
  size_t healthy = 0;
  for (const auto& m : mounts_->list()) {
    ++mounts;
    for (const auto origin_list = m->federation->origins(); const auto& rt : *origin_list) {
      ++origins;
      if (rt->health().status == HealthStatus::kHealthy) ++healthy;
    }
  }
  return std::to_string(mounts) + " mount(s), " + std::to_string(healthy) + " of " + std::to_string(origins) +
         " origin(s) healthy";
}

std::string log_file_of(const DaemonOptions& options) {
  if (!options.log_file.empty()) return options.log_file;
  if (options.detached) return options.state_dir + "/musicfsd.log";
  return {};
}

void Daemon::prune_history() {
  // Keep as much history as the most generous mount asks for (default 30 days).
  int64_t days = HealthConfig{}.history_days;
  for (const auto& m : mounts_->list()) days = std::max(days, m->config.health.history_days);
  last_prune_ = unix_now();
  spdlog::debug("pruning health checks and events older than {} days", days);
  store_->prune(last_prune_ - days * 86400);
}

void Daemon::sync_textfiles() {
  // Path -> interval; mounts that name one path share its writer at the shortest of
  // their intervals. Every file holds the whole daemon's metrics, so node_exporter
  // must see only one of them: see musicfs.toml(5), [metrics].
  std::map<std::string, int64_t> wanted;
  for (const auto& m : mounts_->list()) {
    const MetricsConfig& mc = m->config.metrics;
    if (mc.textfile.empty()) continue;
    auto [it, fresh] = wanted.emplace(mc.textfile, mc.interval_secs);
    if (!fresh) it->second = std::min(it->second, mc.interval_secs);
  }
  for (auto it = textfiles_.begin(); it != textfiles_.end();) {
    auto w = wanted.find(it->first);
    if (w == wanted.end() || std::chrono::seconds(w->second) != it->second->interval()) {
      spdlog::info("metrics textfile {}: stopped", it->first);
      it = textfiles_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [path, secs] : wanted) {
    if (textfiles_.count(path) != 0) continue;
    if (!textfiles_.empty()) {
      spdlog::warn("metrics textfile {}: another mount writes {} too; both hold every mount's metrics, so "
                   "node_exporter must read only one",
                   path, textfiles_.begin()->first);
    }
    spdlog::info("metrics textfile {}: writing every {} s", path, secs);
    textfiles_.emplace(path, std::make_unique<MetricsTextfile>(path, std::chrono::seconds(secs),
                                                               [this] { return metrics_exposition(*this); }));
  }
}

int run_daemon(DaemonOptions options) {
  // Create the state directory 0700 before anything (the log file) can create it 0755.
  if (auto s = make_private_dir(options.state_dir); !s) {
    std::fprintf(stderr, "musicfsctl daemon: %s\n", s.error().message.c_str());
    if (options.ready_fd >= 0) {
      std::string msg = "error: " + s.error().message + "\n";
      (void)!::write(options.ready_fd, msg.data(), msg.size());
    }
    return 1;
  }
  const std::string log_file = log_file_of(options);
  Status logging = !log_file.empty() ? setup_logging(LogTarget::kFile, options.log_level, log_file)
                                     : setup_logging(LogTarget::kStderr, options.log_level);
  if (!logging) {
    // The state dir may not exist yet for the log file; create it and try again.
    if (options.detached) {
      (void)make_private_dir(options.state_dir);
      logging = setup_logging(LogTarget::kFile, options.log_level, log_file);
    }
    if (!logging) {
      std::fprintf(stderr, "musicfsctl daemon: %s\n", logging.error().message.c_str());
      if (options.ready_fd >= 0) {
        std::string msg = "error: " + logging.error().message + "\n";
        (void)!::write(options.ready_fd, msg.data(), msg.size());
      }
      return 2;
    }
  }
  Daemon d(std::move(options));
  return d.run();
}

}  // namespace musicfs
