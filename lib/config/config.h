#pragma once
// The configuration schema (musicfs.toml(5)). Parsing lives in config_parser.cpp;
// the per-type origin keys are declared by each origin type in lib/origins/, and one
// origin's section (OriginConfig) is defined there too (origins/origin_config.h).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "notify/notify_config.h"
#include "origins/origin_config.h"
#include "util/path_env.h"

namespace musicfs {

struct CacheConfig {
  int64_t metadata_cache_mb = 100;
  double content_cache_gb = 10;  // 0: passthrough, nothing cached

  uint64_t content_cache_bytes() const { return static_cast<uint64_t>(content_cache_gb * (1ull << 30)); }
};

struct HealthConfig {
  int64_t check_interval_secs = 30;
  int64_t timeout_ms = 5000;
  int64_t unhealthy_threshold = 3;  // the default for remote types
  int64_t healthy_threshold = 2;    // consecutive good probes before an origin rejoins
  int64_t read_timeout_ms = 10000;  // no FUSE read waits longer than this on origins
  std::vector<int64_t> retry_delays_ms{100, 500, 2000};  // NFR-7.3
  int64_t history_days = 30;
  // Set explicitly in [health.per_origin_thresholds]; see threshold_for().
  std::map<std::string, int64_t> per_origin_thresholds;

  // local: 1 unless overridden; remote types: unhealthy_threshold (3) unless overridden.
  int64_t threshold_for(const std::string& origin_type) const;
};

// [metrics]: the daemon writes its `musicfsctl metrics` exposition to `textfile`
// every interval_secs, for node_exporter's textfile collector. Empty: no file.
struct MetricsConfig {
  std::string textfile;  // absolute, ends in ".prom"
  int64_t interval_secs = 15;
  int textfile_line = 0;  // where it was set, for messages
};

struct Config {
  std::string source_path;  // the file it was read from, for messages
  std::string mount_point;
  int mount_point_line = 0;  // where mount_point was set, for messages
  std::string cache_dir;
  std::string state_dir;  // optional; defaults beside cache_dir
  // Mount with allow_other: other users (a music server's own account) may read the
  // tree. Off by default, as FUSE is: the mount is the mounting user's alone.
  bool allow_other = false;
  int allow_other_line = 0;  // where it was set, for messages
  // Set by `-o allow_other` (musicfsctl mount, fstab) rather than the file: messages
  // name the option, and a restore after a crash mounts with it again.
  bool allow_other_from_options = false;
  // `layout = "{albumartist}/{album}/{track:02} - {title}.{ext}"`: the tree is built
  // from the files' tags by this template (layout/layout_template.h). Empty: the
  // origins' own path tree.
  std::string layout;
  int layout_line = 0;
  std::vector<OriginConfig> origins;
  CacheConfig cache;
  HealthConfig health;
  MetricsConfig metrics;
  std::vector<NotifyConfig> notify;

  const OriginConfig* find_origin(const std::string& id) const;
};

// Default places, following the XDG base directory spec: the XDG variable when it is
// set, else for root the system's place (a mount from fstab runs as root with neither
// XDG variables nor a HOME of its own), else under $HOME.
//   cache_dir:  $XDG_CACHE_HOME/musicfs, root /var/cache/musicfs, ~/.cache/musicfs
//   state_dir:  $XDG_STATE_HOME/musicfs, root /var/lib/musicfs, ~/.local/state/musicfs
//   config:     $XDG_CONFIG_HOME/musicfs/config.toml, root /etc/musicfs/config.toml,
//               ~/.config/musicfs/config.toml (the file `musicfsctl mount` reads without -c)
std::string default_cache_dir(const PathEnv& env = PathEnv::process());
std::string default_state_dir(const PathEnv& env = PathEnv::process());
std::string default_config_path(const PathEnv& env = PathEnv::process());

}  // namespace musicfs
