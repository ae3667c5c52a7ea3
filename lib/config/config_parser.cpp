#include "config/config_parser.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <spdlog/spdlog.h>
#include <toml++/toml.h>

#include "layout/layout_template.h"
#include "notify/notifier.h"
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

// Collects the problems of one file, each formatted "file:line: key: message" with
// whatever position is known. Parsing goes on past a bad value, so `config check`
// can name every problem at once; values quoted in a message may hold a newline
// ("a\nb" in TOML): each problem stays one line.
class Located {
 public:
  explicit Located(std::string source) : source_(std::move(source)) {}

  // Records a problem at `node` and returns it (so `return loc.at(...)` still reads
  // as "fail here" inside a helper that checks one value).
  Error at(const toml::node* node, const std::string& key, const std::string& msg) const {
    const int line = node != nullptr ? static_cast<int>(node->source().begin.line) : 0;
    Error e = make_error(ErrorCode::kConfig, config_location(source_, line) + ": " + one_line(key) + ": " + one_line(msg));
    problems_.push_back({line, e});
    return e;
  }
  const std::string& source() const { return source_; }
  const std::vector<ConfigProblem>& problems() const { return problems_; }
  bool clean() const { return problems_.empty(); }

 private:
  std::string source_;
  mutable std::vector<ConfigProblem> problems_;
};

// Keeps a value that parsed; a bad one is already recorded by the Located that made
// the error, and the default stays.
template <typename T, typename U>
void keep(Result<T> r, U& into) {
  if (r) into = std::move(*r);
}

void reject_unknown_keys(const toml::table& t, const std::vector<std::string>& allowed, const std::string& prefix,
                         const Located& loc) {
  for (const auto& [k, node] : t) {
    std::string key(k.str());
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string msg = "unknown key";
    if (auto hint = closest_match(key, allowed)) msg += " (did you mean '" + *hint + "'?)";
    (void)loc.at(&node, prefix + key, msg);
  }
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

Result<bool> get_bool(const toml::table& t, const std::string& key, const std::string& prefix, bool fallback,
                      const Located& loc) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return fallback;
  if (!n->is_boolean()) return loc.at(n, prefix + key, "expected true or false");
  return n->as_boolean()->get();
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

void parse_retry_delays(const toml::node& n, const std::string& p, HealthConfig& h, const Located& loc) {
  const toml::array* arr = n.as_array();
  if (arr == nullptr) {
    (void)loc.at(&n, p + "retry_delays_ms", "expected an array of integers");
    return;
  }
  if (arr->size() > 10) {
    (void)loc.at(&n, p + "retry_delays_ms", "at most 10 delays");
    return;
  }
  std::vector<int64_t> delays;
  bool good = true;
  for (const auto& e : *arr) {
    auto v = e.is_integer() ? e.value<int64_t>() : std::nullopt;
    if (!v || *v < 0 || *v > 60000) {
      (void)loc.at(&e, p + "retry_delays_ms", "each delay must be an integer 0-60000 (ms)");
      good = false;
      continue;
    }
    delays.push_back(*v);
  }
  if (good) h.retry_delays_ms = std::move(delays);
}

void parse_thresholds(const toml::node& n, const std::string& p, HealthConfig& h, const Located& loc) {
  const toml::table* pt = n.as_table();
  if (pt == nullptr) {
    (void)loc.at(&n, p + "per_origin_thresholds", "expected a table");
    return;
  }
  for (const auto& [k, node] : *pt) {
    std::string type(k.str());
    if (find_origin_type(type) == nullptr) {
      std::string msg = "unknown origin type";
      if (auto hint = closest_match(type, origin_type_names())) msg += " (did you mean '" + *hint + "'?)";
      (void)loc.at(&node, p + "per_origin_thresholds." + type, msg);
      continue;
    }
    auto v = node.is_integer() ? node.value<int64_t>() : std::nullopt;
    if (!v || *v < 1 || *v > 1000) {
      (void)loc.at(&node, p + "per_origin_thresholds." + type, "expected an integer 1-1000");
      continue;
    }
    h.per_origin_thresholds[type] = *v;
  }
}

HealthConfig parse_health(const toml::table& t, const Located& loc) {
  HealthConfig h;
  const std::string p = "health.";
  reject_unknown_keys(t,
                      {"check_interval_secs", "timeout_ms", "unhealthy_threshold", "healthy_threshold",
                       "read_timeout_ms", "retry_delays_ms", "history_days", "per_origin_thresholds"},
                      p, loc);
  keep(get_int(t, "check_interval_secs", p, 1, 86400, h.check_interval_secs, loc), h.check_interval_secs);
  keep(get_int(t, "timeout_ms", p, 1, 600000, h.timeout_ms, loc), h.timeout_ms);
  keep(get_int(t, "unhealthy_threshold", p, 1, 1000, h.unhealthy_threshold, loc), h.unhealthy_threshold);
  keep(get_int(t, "healthy_threshold", p, 1, 1000, h.healthy_threshold, loc), h.healthy_threshold);
  keep(get_int(t, "read_timeout_ms", p, 1, 600000, h.read_timeout_ms, loc), h.read_timeout_ms);
  keep(get_int(t, "history_days", p, 1, 3650, h.history_days, loc), h.history_days);
  if (const toml::node* n = t.get("retry_delays_ms")) parse_retry_delays(*n, p, h, loc);
  if (const toml::node* n = t.get("per_origin_thresholds")) parse_thresholds(*n, p, h, loc);
  return h;
}

CacheConfig parse_cache(const toml::table& t, const Located& loc) {
  CacheConfig c;
  reject_unknown_keys(t, {"metadata_cache_mb", "content_cache_gb"}, "cache.", loc);
  keep(get_int(t, "metadata_cache_mb", "cache.", 0, 1 << 20, c.metadata_cache_mb, loc), c.metadata_cache_mb);
  // A fraction of a GiB is allowed (0.5, or a few MiB for a test); 0 is passthrough.
  if (const toml::node* n = t.get("content_cache_gb")) {
    std::optional<double> gb;
    if (n->is_integer()) gb = static_cast<double>(**n->as_integer());
    if (n->is_floating_point()) gb = **n->as_floating_point();
    if (!gb) {
      (void)loc.at(n, "cache.content_cache_gb", "expected a number of GiB (0 turns the content cache off)");
    } else if (!(*gb >= 0 && *gb <= 1 << 20)) {
      (void)loc.at(n, "cache.content_cache_gb", "must be between 0 and 1048576");
    } else {
      c.content_cache_gb = *gb;
    }
  }
  return c;
}

MetricsConfig parse_metrics(const toml::table& t, const Located& loc) {
  MetricsConfig m;
  const std::string p = "metrics.";
  reject_unknown_keys(t, {"textfile", "interval_secs"}, p, loc);
  auto tf = get_string(t, "textfile", p, loc, true);
  if (const toml::node* n = t.get("textfile"); n != nullptr && tf) {
    // node_exporter's textfile collector reads only *.prom files; another name would
    // be written and never collected.
    const std::string& v = *tf;
    const std::string base = v.substr(v.rfind('/') + 1);
    if (base.size() <= 5 || base.compare(base.size() - 5, 5, ".prom") != 0) {
      (void)loc.at(n, p + "textfile", "'" + v + "' must name a file ending in .prom (node_exporter reads only those)");
    } else {
      m.textfile = v;
      m.textfile_line = static_cast<int>(n->source().begin.line);
    }
  }
  keep(get_int(t, "interval_secs", p, 1, 86400, m.interval_secs, loc), m.interval_secs);
  return m;
}

// One [[origins]] table. Every problem in it is recorded; the origin itself is
// returned only when it has none (a half-valid origin is never mounted).
std::optional<OriginConfig> parse_origin(const toml::table& t, const std::string& prefix, const Located& loc) {
  const size_t problems_before = loc.problems().size();
  OriginConfig o;
  o.source_line = static_cast<int>(t.source().begin.line);
  auto type = type_name(t, prefix, loc, &t);
  const OriginTypeInfo* info = type ? find_origin_type(*type) : nullptr;
  if (info != nullptr) {
    o.type = *type;
    std::vector<std::string> allowed = {"id", "origin_type", "priority", "enabled", "cache"};
    for (const auto& s : info->settings) allowed.push_back(s.key);
    reject_unknown_keys(t, allowed, prefix, loc);
  }

  const toml::node* idn = t.get("id");
  if (idn == nullptr) {
    (void)loc.at(&t, prefix + "id", "missing");
  } else if (!idn->is_string()) {
    (void)loc.at(idn, prefix + "id", "expected a string");
  } else {
    o.id = **idn->as_string();
    if (o.id.empty() || o.id.size() > 64 ||
        o.id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
            std::string::npos) {
      (void)loc.at(idn, prefix + "id", "'" + o.id + "' must be 1-64 characters of letters, digits, '-', '_' or '.'");
    }
  }

  if (t.get("priority") == nullptr) {
    (void)loc.at(&t, prefix + "priority", "missing (0-255, lower wins)");
  } else if (auto pr = get_int(t, "priority", prefix, 0, 255, 0, loc)) {
    o.priority = static_cast<int>(*pr);
  }
  keep(get_bool(t, "enabled", prefix, o.enabled, loc), o.enabled);
  if (t.get("cache") != nullptr) {
    if (auto c = get_bool(t, "cache", prefix, o.caches_content(), loc)) o.cache = *c;
  }

  if (info != nullptr) {
    for (const auto& spec : info->settings) {
      const toml::node* n = t.get(spec.key);
      if (n == nullptr) {
        if (spec.required) {
          (void)loc.at(&t, prefix + spec.key,
                       "missing (required for origin_type '" + o.type + "': " + spec.help + ")");
        }
        continue;
      }
      if (auto v = read_setting(*n, spec, prefix, loc)) o.settings[spec.key] = std::move(*v);
    }
  }
  if (loc.problems().size() != problems_before) return std::nullopt;
  return o;
}

void parse_origins(const toml::node& n, Config& c, const Located& loc) {
  const toml::array* arr = n.as_array();
  // `origins = []` is a mount with no origins yet (added later with `origins add`);
  // toml++ does not count an empty array as an array of tables.
  if (arr == nullptr || (!arr->empty() && !arr->is_array_of_tables())) {
    (void)loc.at(&n, "origins", "expected an array of tables ([[origins]])");
    return;
  }
  size_t i = 0;
  for (const auto& e : *arr) {
    std::string prefix = "origins[" + std::to_string(i++) + "].";
    auto o = parse_origin(*e.as_table(), prefix, loc);
    if (!o) continue;
    if (const OriginConfig* dup = c.find_origin(o->id)) {
      (void)loc.at(e.as_table()->get("id"), prefix + "id",
                   "duplicate origin id '" + o->id + "' (first defined at line " + std::to_string(dup->source_line) +
                       ")");
      continue;
    }
    c.origins.push_back(std::move(*o));
  }
}

std::string comma_list(const std::vector<std::string>& names) {
  std::string list;
  for (const auto& s : names) list += (list.empty() ? "" : ", ") + s;
  return list;
}

// One [[notify]] table; returned only when it has no problem.
std::optional<NotifyConfig> parse_notifier(const toml::table& t, const std::string& prefix, const Located& loc) {
  const size_t problems_before = loc.problems().size();
  NotifyConfig nc;
  nc.source_line = static_cast<int>(t.source().begin.line);
  const NotifierTypeInfo* info = nullptr;
  const toml::node* tn = t.get("type");
  if (tn == nullptr) {
    (void)loc.at(&t, prefix + "type", "missing (one of: " + comma_list(notifier_type_names()) + ")");
  } else if (!tn->is_string()) {
    (void)loc.at(tn, prefix + "type", "expected a string");
  } else {
    nc.type = **tn->as_string();
    info = find_notifier_type(nc.type);
    if (info == nullptr) {
      (void)loc.at(tn, prefix + "type",
                   "unknown notifier type '" + nc.type + "' (one of: " + comma_list(notifier_type_names()) + ")");
    }
  }
  keep(get_int(t, "debounce_ms", prefix, 0, 3'600'000, nc.debounce_ms, loc), nc.debounce_ms);
  if (info == nullptr) return std::nullopt;
  std::vector<std::string> allowed = {"type", "debounce_ms"};
  if (info->takes_command) allowed.push_back("command");
  for (const auto& spec : info->settings) allowed.push_back(spec.key);
  reject_unknown_keys(t, allowed, prefix, loc);
  for (const auto& spec : info->settings) {
    const toml::node* n = t.get(spec.key);
    if (n == nullptr) {
      if (spec.required) (void)loc.at(&t, prefix + spec.key, "missing (required for type '" + nc.type + "': " + spec.help + ")");
      continue;
    }
    if (auto v = read_setting(*n, spec, prefix, loc)) nc.settings[spec.key] = std::move(*v);
  }
  if (info->takes_command) {
    const toml::node* n = t.get("command");
    const toml::array* arr = n != nullptr ? n->as_array() : nullptr;
    if (n == nullptr) {
      (void)loc.at(&t, prefix + "command", "missing (an array: the program, then its arguments)");
    } else if (arr == nullptr || arr->empty()) {
      (void)loc.at(n, prefix + "command", "expected a non-empty array of strings");
    } else {
      for (const auto& e : *arr) {
        if (!e.is_string() || (*e.as_string())->empty()) {
          (void)loc.at(&e, prefix + "command", "expected a non-empty array of strings");
          nc.command.clear();
          break;
        }
        nc.command.push_back(**e.as_string());
      }
    }
  }
  if (loc.problems().size() == problems_before && info->check) {
    if (std::string why = info->check(nc); !why.empty()) (void)loc.at(&t, prefix.substr(0, prefix.size() - 1), why);
  }
  if (loc.problems().size() != problems_before) return std::nullopt;
  return nc;
}

void parse_notifiers(const toml::node& n, Config& c, const Located& loc) {
  const toml::array* arr = n.as_array();
  if (arr == nullptr || (!arr->empty() && !arr->is_array_of_tables())) {
    (void)loc.at(&n, "notify", "expected an array of tables ([[notify]])");
    return;
  }
  size_t i = 0;
  for (const auto& e : *arr) {
    auto nc = parse_notifier(*e.as_table(), "notify[" + std::to_string(i++) + "].", loc);
    if (nc) c.notify.push_back(std::move(*nc));
  }
}

Config parse_root(const toml::table& root, const Located& loc) {
  Config c;
  c.source_path = loc.source();
  reject_unknown_keys(root, {"mount_point", "cache_dir", "state_dir", "allow_other", "origins", "cache", "health", "metrics",
                             "notify", "layout"},
                      "", loc);
  keep(get_string(root, "mount_point", "", loc, true), c.mount_point);
  if (const toml::node* n = root.get("mount_point")) c.mount_point_line = static_cast<int>(n->source().begin.line);
  keep(get_string(root, "cache_dir", "", loc, true), c.cache_dir);
  if (c.cache_dir.empty()) c.cache_dir = default_cache_dir();
  keep(get_string(root, "state_dir", "", loc, true), c.state_dir);
  keep(get_bool(root, "allow_other", "", c.allow_other, loc), c.allow_other);
  if (const toml::node* n = root.get("allow_other")) c.allow_other_line = static_cast<int>(n->source().begin.line);
  if (const toml::node* n = root.get("layout")) {
    c.layout_line = static_cast<int>(n->source().begin.line);
    auto text = get_string(root, "layout", "", loc, false);
    if (text) {
      if (auto parsed = LayoutTemplate::parse(*text); !parsed) {
        // "layout template: column 12: ..." becomes "FILE:LINE: layout: column 12: ...".
        std::string why = parsed.error().message;
        if (why.starts_with("layout template: ")) why.erase(0, 17);
        (void)loc.at(n, "layout", why);
      } else {
        c.layout = *text;
      }
    }
  }

  if (const toml::node* n = root.get("cache")) {
    if (!n->is_table()) {
      (void)loc.at(n, "cache", "expected a table ([cache])");
    } else {
      c.cache = parse_cache(*n->as_table(), loc);
    }
  }
  if (const toml::node* n = root.get("health")) {
    if (!n->is_table()) {
      (void)loc.at(n, "health", "expected a table ([health])");
    } else {
      c.health = parse_health(*n->as_table(), loc);
    }
  }
  if (const toml::node* n = root.get("metrics")) {
    if (!n->is_table()) {
      (void)loc.at(n, "metrics", "expected a table ([metrics])");
    } else {
      c.metrics = parse_metrics(*n->as_table(), loc);
    }
  }
  if (const toml::node* n = root.get("origins")) parse_origins(*n, c, loc);
  if (const toml::node* n = root.get("notify")) parse_notifiers(*n, c, loc);
  return c;
}

// The problems of a file in line order (a problem with no known line first; stable
// otherwise, so two on one line keep the order they were found in).
std::vector<ConfigProblem> in_line_order(std::vector<ConfigProblem> problems) {
  std::stable_sort(problems.begin(), problems.end(),
                   [](const ConfigProblem& a, const ConfigProblem& b) { return a.line < b.line; });
  return problems;
}

}  // namespace

ConfigCheck check_config_string(std::string_view text, const std::string& source_name) {
  ConfigCheck out;
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& err) {
    // toml++ stops at the first syntax error: nothing after it can be checked.
    std::ostringstream os;
    os << source_name << ":" << err.source().begin.line << ":" << err.source().begin.column
       << ": invalid TOML: " << one_line(err.description());
    out.problems.push_back({static_cast<int>(err.source().begin.line), make_error(ErrorCode::kConfig, os.str())});
    return out;
  }
  Located loc(source_name);
  Config config = parse_root(root, loc);
  out.problems = in_line_order(loc.problems());
  if (out.problems.empty()) {
    out.config = std::move(config);
  } else {
    const std::string first = loc.problems().front().error.message;
    for (size_t i = 0; i < out.problems.size(); ++i) {
      if (out.problems[i].error.message == first) {
        out.first_found = i;
        break;
      }
    }
  }
  return out;
}

Result<Config> ConfigCheck::take() && {
  if (config) return std::move(*config);
  // A mount reports one line: the first problem, and how many more `config check` lists.
  Error first = problems.at(first_found).error;
  if (problems.size() > 1) {
    first.message += " (and " + std::to_string(problems.size() - 1) + " more: see 'musicfsctl config check')";
  }
  return first;
}

Result<Config> parse_config_string(std::string_view text, const std::string& source_name) {
  return check_config_string(text, source_name).take();
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

ConfigCheck check_config_file(const std::string& path) {
  auto text = read_config_text(path);
  if (!text) {
    ConfigCheck out;
    out.problems.push_back({0, text.take_error()});
    return out;
  }
  auto check = check_config_string(*text, path);
  if (check.config) warn_if_secret_exposed(*check.config, path);
  return check;
}

Result<Config> parse_config_file(const std::string& path) { return check_config_file(path).take(); }

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
  if (o) return std::move(*o);
  return loc.problems().front().error;
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
