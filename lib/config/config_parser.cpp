#include "config/config_parser.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>
#include <spdlog/spdlog.h>
#include <toml++/toml.h>

#include "origins/origin_types.h"
#include "util/suggest.h"
#include "util/unique_fd.h"

namespace musicfs {

std::string config_location(const std::string& source, int line) {
  return line > 0 ? source + ":" + std::to_string(line) : source;
}

std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

namespace {

// Formats "file:line: key: message" with whatever position is known. Values quoted
// in the message may hold a newline ("a\nb" in TOML): the error stays one line.
class Located {
 public:
  explicit Located(std::string source) : source_(std::move(source)) {}

  Error at(const toml::node* node, const std::string& key, const std::string& msg) const {
    const int line = node != nullptr ? static_cast<int>(node->source().begin.line) : 0;
    return make_error(ErrorCode::kConfig, config_location(source_, line) + ": " + one_line(key) + ": " + one_line(msg));
  }
  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

Status reject_unknown_keys(const toml::table& t, const std::vector<std::string>& allowed,
                           const std::string& prefix, const Located& loc) {
  for (const auto& [k, node] : t) {
    std::string key(k.str());
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string msg = "unknown key";
    if (auto hint = closest_match(key, allowed)) msg += " (did you mean '" + *hint + "'?)";
    return loc.at(&node, prefix + key, msg);
  }
  return {};
}

Result<int64_t> get_int(const toml::table& t, const std::string& key, const std::string& prefix,
                        int64_t min, int64_t max, int64_t fallback, const Located& loc) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return fallback;
  // Type first: value<int64_t>() of a float converts it, and 1e300 does not fit (UB).
  if (!n->is_integer()) return loc.at(n, prefix + key, "expected an integer");
  auto v = n->value<int64_t>();
  if (!v) return loc.at(n, prefix + key, "expected an integer");
  if (*v < min || *v > max) {
    return loc.at(n, prefix + key,
                  std::to_string(*v) + " is out of range " + std::to_string(min) + "-" +
                      std::to_string(max));
  }
  return *v;
}

Result<std::string> get_string(const toml::table& t, const std::string& key,
                               const std::string& prefix, const Located& loc, bool absolute_path) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::string();
  if (!n->is_string()) return loc.at(n, prefix + key, "expected a string");
  std::string v = **n->as_string();
  if (absolute_path && (v.empty() || v.front() != '/')) {
    return loc.at(n, prefix + key, "'" + v + "' must be an absolute path");
  }
  return v;
}

Result<std::string> type_name(const toml::table& t, const std::string& prefix, const Located& loc,
                              const toml::node* anchor) {
  const toml::node* n = t.get("origin_type");
  if (n == nullptr) return loc.at(anchor, prefix + "origin_type", "missing (one of: local, nfs, smb, s3, sftp, http)");
  if (!n->is_string()) return loc.at(n, prefix + "origin_type", "expected a string");
  std::string type = **n->as_string();
  if (find_origin_type(type) == nullptr) {
    auto names = origin_type_names();
    std::string list;
    for (const auto& s : names) list += (list.empty() ? "" : ", ") + s;
    std::string msg = "unknown origin_type '" + type + "' (one of: " + list + ")";
    if (auto hint = closest_match(type, names)) msg += "; did you mean '" + *hint + "'?";
    return loc.at(n, prefix + "origin_type", msg);
  }
  return type;
}

Result<SettingValue> read_setting(const toml::node& n, const SettingSpec& spec,
                                  const std::string& prefix, const Located& loc) {
  switch (spec.kind) {
    case SettingKind::kString:
    case SettingKind::kAbsolutePath: {
      if (!n.is_string()) return loc.at(&n, prefix + spec.key, "expected a string");
      std::string v = **n.as_string();
      if (spec.kind == SettingKind::kAbsolutePath && (v.empty() || v.front() != '/')) {
        return loc.at(&n, prefix + spec.key, "'" + v + "' must be an absolute path");
      }
      if (v.empty()) return loc.at(&n, prefix + spec.key, "must not be empty");
      return SettingValue{v};
    }
    case SettingKind::kInteger: {
      if (!n.is_integer()) return loc.at(&n, prefix + spec.key, "expected an integer");
      auto v = n.value<int64_t>();
      if (!v) return loc.at(&n, prefix + spec.key, "expected an integer");
      if (spec.max > spec.min && (*v < spec.min || *v > spec.max)) {
        return loc.at(&n, prefix + spec.key,
                      std::to_string(*v) + " is out of range " + std::to_string(spec.min) + "-" +
                          std::to_string(spec.max));
      }
      return SettingValue{*v};
    }
    case SettingKind::kBool: {
      if (!n.is_boolean()) return loc.at(&n, prefix + spec.key, "expected true or false");
      return SettingValue{**n.as_boolean()};
    }
  }
  return loc.at(&n, prefix + spec.key, "unsupported setting kind");
}

Result<HealthConfig> parse_health(const toml::table& t, const Located& loc) {
  HealthConfig h;
  const std::string p = "health.";
  if (auto s = reject_unknown_keys(t,
                                   {"check_interval_secs", "timeout_ms", "unhealthy_threshold",
                                    "healthy_threshold", "read_timeout_ms", "retry_delays_ms",
                                    "history_days", "per_origin_thresholds"},
                                   p, loc);
      !s) {
    return s.take_error();
  }
  auto ci = get_int(t, "check_interval_secs", p, 1, 86400, h.check_interval_secs, loc);
  if (!ci) return ci.take_error();
  h.check_interval_secs = *ci;
  auto to = get_int(t, "timeout_ms", p, 1, 600000, h.timeout_ms, loc);
  if (!to) return to.take_error();
  h.timeout_ms = *to;
  auto ut = get_int(t, "unhealthy_threshold", p, 1, 1000, h.unhealthy_threshold, loc);
  if (!ut) return ut.take_error();
  h.unhealthy_threshold = *ut;
  auto ht = get_int(t, "healthy_threshold", p, 1, 1000, h.healthy_threshold, loc);
  if (!ht) return ht.take_error();
  h.healthy_threshold = *ht;
  auto rt = get_int(t, "read_timeout_ms", p, 1, 600000, h.read_timeout_ms, loc);
  if (!rt) return rt.take_error();
  h.read_timeout_ms = *rt;
  auto hd = get_int(t, "history_days", p, 1, 3650, h.history_days, loc);
  if (!hd) return hd.take_error();
  h.history_days = *hd;

  if (const toml::node* n = t.get("retry_delays_ms")) {
    const toml::array* arr = n->as_array();
    if (arr == nullptr) return loc.at(n, p + "retry_delays_ms", "expected an array of integers");
    if (arr->size() > 10) return loc.at(n, p + "retry_delays_ms", "at most 10 delays");
    h.retry_delays_ms.clear();
    for (const auto& e : *arr) {
      auto v = e.is_integer() ? e.value<int64_t>() : std::nullopt;
      if (!v || *v < 0 || *v > 60000) {
        return loc.at(&e, p + "retry_delays_ms", "each delay must be an integer 0-60000 (ms)");
      }
      h.retry_delays_ms.push_back(*v);
    }
  }
  if (const toml::node* n = t.get("per_origin_thresholds")) {
    const toml::table* pt = n->as_table();
    if (pt == nullptr) return loc.at(n, p + "per_origin_thresholds", "expected a table");
    for (const auto& [k, node] : *pt) {
      std::string type(k.str());
      if (find_origin_type(type) == nullptr) {
        std::string msg = "unknown origin type";
        if (auto hint = closest_match(type, origin_type_names())) msg += " (did you mean '" + *hint + "'?)";
        return loc.at(&node, p + "per_origin_thresholds." + type, msg);
      }
      auto v = node.is_integer() ? node.value<int64_t>() : std::nullopt;
      if (!v || *v < 1 || *v > 1000) {
        return loc.at(&node, p + "per_origin_thresholds." + type, "expected an integer 1-1000");
      }
      h.per_origin_thresholds[type] = *v;
    }
  }
  return h;
}

Result<CacheConfig> parse_cache(const toml::table& t, const Located& loc) {
  CacheConfig c;
  if (auto s = reject_unknown_keys(t, {"metadata_cache_mb", "content_cache_gb"}, "cache.", loc); !s) {
    return s.take_error();
  }
  auto m = get_int(t, "metadata_cache_mb", "cache.", 0, 1 << 20, c.metadata_cache_mb, loc);
  if (!m) return m.take_error();
  c.metadata_cache_mb = *m;
  // A fraction of a GiB is allowed (0.5, or a few MiB for a test); 0 is passthrough.
  if (const toml::node* n = t.get("content_cache_gb")) {
    std::optional<double> gb;
    if (n->is_integer()) gb = static_cast<double>(**n->as_integer());
    if (n->is_floating_point()) gb = **n->as_floating_point();
    if (!gb) return loc.at(n, "cache.content_cache_gb", "expected a number of GiB (0 turns the content cache off)");
    if (!(*gb >= 0 && *gb <= 1 << 20)) return loc.at(n, "cache.content_cache_gb", "must be between 0 and 1048576");
    c.content_cache_gb = *gb;
  }
  return c;
}

Result<MetricsConfig> parse_metrics(const toml::table& t, const Located& loc) {
  MetricsConfig m;
  const std::string p = "metrics.";
  if (auto s = reject_unknown_keys(t, {"textfile", "interval_secs"}, p, loc); !s) return s.take_error();
  auto tf = get_string(t, "textfile", p, loc, true);
  if (!tf) return tf.take_error();
  if (const toml::node* n = t.get("textfile")) {
    // node_exporter's textfile collector reads only *.prom files; another name would
    // be written and never collected.
    const std::string& v = *tf;
    const std::string base = v.substr(v.rfind('/') + 1);
    if (base.size() <= 5 || base.compare(base.size() - 5, 5, ".prom") != 0) {
      return loc.at(n, p + "textfile", "'" + v + "' must name a file ending in .prom (node_exporter reads only those)");
    }
    m.textfile = v;
    m.textfile_line = static_cast<int>(n->source().begin.line);
  }
  auto iv = get_int(t, "interval_secs", p, 1, 86400, m.interval_secs, loc);
  if (!iv) return iv.take_error();
  m.interval_secs = *iv;
  return m;
}

Result<OriginConfig> parse_origin(const toml::table& t, const std::string& prefix, const Located& loc) {
  OriginConfig o;
  o.source_line = static_cast<int>(t.source().begin.line);
  auto type = type_name(t, prefix, loc, &t);
  if (!type) return type.take_error();
  o.type = *type;
  const OriginTypeInfo& info = *find_origin_type(o.type);

  std::vector<std::string> allowed = {"id", "origin_type", "priority", "enabled"};
  for (const auto& s : info.settings) allowed.push_back(s.key);
  if (auto s = reject_unknown_keys(t, allowed, prefix, loc); !s) return s.take_error();

  const toml::node* idn = t.get("id");
  if (idn == nullptr) return loc.at(&t, prefix + "id", "missing");
  if (!idn->is_string()) return loc.at(idn, prefix + "id", "expected a string");
  o.id = **idn->as_string();
  if (o.id.empty() || o.id.size() > 64 ||
      o.id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
          std::string::npos) {
    return loc.at(idn, prefix + "id",
                  "'" + o.id + "' must be 1-64 characters of letters, digits, '-', '_' or '.'");
  }

  const toml::node* pn = t.get("priority");
  if (pn == nullptr) return loc.at(&t, prefix + "priority", "missing (0-255, lower wins)");
  auto pr = get_int(t, "priority", prefix, 0, 255, 0, loc);
  if (!pr) return pr.take_error();
  o.priority = static_cast<int>(*pr);

  if (const toml::node* en = t.get("enabled")) {
    if (!en->is_boolean()) return loc.at(en, prefix + "enabled", "expected true or false");
    o.enabled = **en->as_boolean();
  }

  for (const auto& spec : info.settings) {
    const toml::node* n = t.get(spec.key);
    if (n == nullptr) {
      if (spec.required) {
        return loc.at(&t, prefix + spec.key,
                      "missing (required for origin_type '" + o.type + "': " + spec.help + ")");
      }
      continue;
    }
    auto v = read_setting(*n, spec, prefix, loc);
    if (!v) return v.take_error();
    o.settings[spec.key] = std::move(*v);
  }
  return o;
}

Result<Config> parse_root(const toml::table& root, const Located& loc) {
  Config c;
  c.source_path = loc.source();
  if (auto s = reject_unknown_keys(root, {"mount_point", "cache_dir", "state_dir", "allow_other", "origins", "cache", "health",
                                          "metrics"},
                                   "", loc);
      !s) {
    return s.take_error();
  }
  auto mp = get_string(root, "mount_point", "", loc, true);
  if (!mp) return mp.take_error();
  c.mount_point = *mp;
  if (const toml::node* n = root.get("mount_point")) c.mount_point_line = static_cast<int>(n->source().begin.line);
  auto cd = get_string(root, "cache_dir", "", loc, true);
  if (!cd) return cd.take_error();
  c.cache_dir = cd->empty() ? default_cache_dir() : *cd;
  auto sd = get_string(root, "state_dir", "", loc, true);
  if (!sd) return sd.take_error();
  c.state_dir = *sd;
  if (const toml::node* n = root.get("allow_other")) {
    if (!n->is_boolean()) return loc.at(n, "allow_other", "expected true or false");
    c.allow_other = n->as_boolean()->get();
    c.allow_other_line = static_cast<int>(n->source().begin.line);
  }

  if (const toml::node* n = root.get("cache")) {
    if (!n->is_table()) return loc.at(n, "cache", "expected a table ([cache])");
    auto cc = parse_cache(*n->as_table(), loc);
    if (!cc) return cc.take_error();
    c.cache = *cc;
  }
  if (const toml::node* n = root.get("health")) {
    if (!n->is_table()) return loc.at(n, "health", "expected a table ([health])");
    auto hc = parse_health(*n->as_table(), loc);
    if (!hc) return hc.take_error();
    c.health = *hc;
  }
  if (const toml::node* n = root.get("metrics")) {
    if (!n->is_table()) return loc.at(n, "metrics", "expected a table ([metrics])");
    auto mc = parse_metrics(*n->as_table(), loc);
    if (!mc) return mc.take_error();
    c.metrics = *mc;
  }
  if (const toml::node* n = root.get("origins")) {
    const toml::array* arr = n->as_array();
    // `origins = []` is a mount with no origins yet (added later with `origins add`);
    // toml++ does not count an empty array as an array of tables.
    if (arr == nullptr || (!arr->empty() && !arr->is_array_of_tables())) {
      return loc.at(n, "origins", "expected an array of tables ([[origins]])");
    }
    size_t i = 0;
    for (const auto& e : *arr) {
      std::string prefix = "origins[" + std::to_string(i) + "].";
      auto o = parse_origin(*e.as_table(), prefix, loc);
      if (!o) return o.take_error();
      if (const OriginConfig* dup = c.find_origin(o->id)) {
        return loc.at(e.as_table()->get("id"), prefix + "id",
                      "duplicate origin id '" + o->id + "' (first defined at line " +
                          std::to_string(dup->source_line) + ")");
      }
      c.origins.push_back(std::move(*o));
      ++i;
    }
  }
  return c;
}

}  // namespace

Result<Config> parse_config_string(std::string_view text, const std::string& source_name) {
  Located loc(source_name);
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& err) {
    std::ostringstream os;
    os << source_name << ":" << err.source().begin.line << ":" << err.source().begin.column
       << ": invalid TOML: " << one_line(err.description());
    return make_error(ErrorCode::kConfig, os.str());
  }
  return parse_root(root, loc);
}

namespace {
const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "of an unsupported type";
}

Error config_file_error(const std::string& path, const std::string& why) {
  return make_error(ErrorCode::kConfig, "config file " + one_line(path) + ": " + why);
}
}  // namespace

Result<std::string> read_config_text(const std::string& path) {
  // O_NONBLOCK: opening a FIFO for reading must not wait for a writer. The type is
  // checked on the open descriptor (fstat), so a file swapped after a stat cannot slip by.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) {
    Error e = Error::from_errno(errno, "cannot read config file " + one_line(path));
    e.code = ErrorCode::kConfig;
    return e;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    Error e = Error::from_errno(errno, "cannot stat config file " + one_line(path));
    e.code = ErrorCode::kConfig;
    return e;
  }
  if (!S_ISREG(st.st_mode)) {
    return config_file_error(path, std::string("is ") + file_kind(st.st_mode) + ", not a regular file");
  }
  const std::string too_big = "is larger than " + std::to_string(kMaxConfigBytes / 1024) + " KiB (the limit for a config file)";
  if (static_cast<uint64_t>(st.st_size) > kMaxConfigBytes) return config_file_error(path, too_big);
  // Read at most one byte past the cap: a file that grows while it is read is still capped.
  std::string text(kMaxConfigBytes + 1, '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      Error e = Error::from_errno(errno, "cannot read config file " + one_line(path));
      e.code = ErrorCode::kConfig;
      return e;
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > kMaxConfigBytes) return config_file_error(path, too_big);
  text.resize(got);
  return text;
}

Result<Config> parse_config_file(const std::string& path) {
  auto text = read_config_text(path);
  if (!text) return text.take_error();
  auto config = parse_config_string(*text, path);
  if (config) warn_if_secret_exposed(*config, path);
  return config;
}

namespace {
// True when a URL carries a password ("scheme://user:password@host/..."): the only
// secret a config file can hold (credentials otherwise go by reference).
bool url_has_password(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return false;
  const auto host_start = scheme_end + 3;
  const auto authority_end = url.find_first_of("/?#", host_start);
  const std::string authority = url.substr(host_start, authority_end == std::string::npos ? std::string::npos
                                                                                        : authority_end - host_start);
  const auto at = authority.rfind('@');
  return at != std::string::npos && authority.substr(0, at).find(':') != std::string::npos;
}
}  // namespace

void warn_if_secret_exposed(const Config& config, const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || (st.st_mode & (S_IRGRP | S_IROTH)) == 0) return;
  for (const auto& o : config.origins) {
    if (url_has_password(o.string_setting("url"))) {
      spdlog::warn("config file {} holds a password (in the url of origin {}) and is readable by group or others "
                   "(mode {:o}); chmod 600 it",
                   path, o.id, st.st_mode & 0777);
    }
  }
}

Result<OriginConfig> parse_origin_table(const toml::table& table, const std::string& where) {
  Located loc(where);
  auto o = parse_origin(table, "", loc);
  return o;
}

namespace {
// realpath when the path exists, else the path without trailing slashes: an origin
// or mount point that is missing still compares by its spelling.
std::string resolved(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) != nullptr) return buf;
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

// True when `inner` is `outer` or lies below it (both resolved).
bool contains(const std::string& outer, const std::string& inner) {
  if (inner == outer) return true;
  if (outer == "/") return true;
  return inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 && inner[outer.size()] == '/';
}

// The origin types whose `path` is a directory on this machine.
bool has_local_path(const OriginConfig& o) { return o.type == "local" || o.type == "nfs" || o.type == "smb"; }
}  // namespace

Status check_origin_outside_mount(const std::string& mount_point, const OriginConfig& origin, const std::string& where) {
  if (!has_local_path(origin) || mount_point.empty()) return {};
  const std::string op = origin.string_setting("path");
  if (op.empty()) return {};
  const std::string mp = resolved(mount_point);
  const std::string rp = resolved(op);
  std::string why;
  if (mp == rp) {
    why = "is the mount point itself";
  } else if (contains(rp, mp)) {
    why = "contains the mount point " + mp;
  } else if (contains(mp, rp)) {
    why = "lies inside the mount point " + mp;
  } else {
    return {};
  }
  // The mount would list itself through its own origin: every listing would wait on
  // the mount it is building.
  return make_error(ErrorCode::kConfig, where + ": origin '" + origin.id + "': path '" + one_line(op) + "' " + why +
                                            " (an origin and the mount point must not overlap)");
}

Status check_mount_point(const Config& config) {
  if (config.mount_point.empty()) {
    return make_error(ErrorCode::kConfig,
                      config.source_path + ": mount_point: missing (set it in the file or pass MOUNTPOINT)");
  }
  const std::string where = config_location(config.source_path, config.mount_point_line);
  struct stat st {};
  if (::stat(config.mount_point.c_str(), &st) != 0) {
    return make_error(ErrorCode::kConfig,
                      where + ": mount_point: '" + config.mount_point + "' does not exist (create the directory first)");
  }
  if (!S_ISDIR(st.st_mode)) {
    return make_error(ErrorCode::kConfig, where + ": mount_point: '" + config.mount_point + "' is not a directory");
  }
  for (const auto& o : config.origins) {
    if (auto s = check_origin_outside_mount(config.mount_point, o, config_location(config.source_path, o.source_line)); !s) {
      return s;
    }
  }
  return {};
}

}  // namespace musicfs
