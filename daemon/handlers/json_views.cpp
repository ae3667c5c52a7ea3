#include "handlers/json_views.h"
#include "protocol/path_encoding.h"

#include "util/time_util.h"

namespace musicfs {

namespace {
nlohmann::json ts(int64_t t) { return t > 0 ? nlohmann::json(iso8601_utc(t)) : nlohmann::json(nullptr); }
double ms(uint32_t us) { return static_cast<double>(us) / 1000.0; }
const char* type_name(EntryType t) {
  switch (t) {
    case EntryType::kFile: return "file";
    case EntryType::kDirectory: return "directory";
    case EntryType::kSymlink: return "symlink";
  }
  return "file";
}
}  // namespace

nlohmann::json origin_json(const OriginRuntime& rt, const VirtualTree& tree) {
  HealthState h = rt.health();
  return {
      {"id", rt.config.id},
      {"type", rt.config.type},
      {"priority", rt.config.priority},
      {"enabled", rt.config.enabled},
      {"cache", rt.config.caches_content()},
      {"location", encode_path(rt.origin->location())},
      {"status", std::string(health_status_name(h.status))},
      {"consecutive_failures", h.consecutive_failures},
      {"last_check", ts(h.last_check)},
      {"last_change", ts(h.last_change)},
      {"last_error", h.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(h.last_error)},
      {"latency_p50_ms", ms(rt.latency.p50_us())},
      {"latency_p99_ms", ms(rt.latency.p99_us())},
      {"files", tree.file_count(rt.slot)},
      {"bytes_read", rt.bytes_read.load()},
      {"skipped_long_paths", rt.skipped_long_paths.load()},
      {"unhealthy_threshold", rt.thresholds.unhealthy},
  };
}

nlohmann::json mount_json(const Mount& m) {
  nlohmann::json origins = nlohmann::json::array();
  // Counts as indexed so far: the reply to `mount` must not wait for the index.
  for (const auto origin_list = m.federation->origins(); const auto& rt : *origin_list) origins.push_back(origin_json(*rt, m.federation->tree_now()));
  nlohmann::json layout = nullptr;
  if (const LayoutIndex* l = m.federation->layout()) {
    const TagProgress p = l->progress();
    layout = {{"template", l->layout().text()},
              {"tags_read", p.tagged},
              {"audio_files", p.total},
              {"files_shown", l->view()->file_count()}};
  }
  return {{"mount_point", encode_path(m.config.mount_point)},
          {"config", encode_path(m.config.source_path)},
          {"mounted_at", ts(m.mounted_at)},
          {"allow_other", m.config.allow_other},
          {"index_ready", m.federation->index_ready()},
          {"layout", layout},
          {"origins", origins}};
}

nlohmann::json event_json(const Event& e) {
  nlohmann::json j = {{"id", e.id},       {"time", ts(e.time)},     {"kind", e.kind},      {"mount", encode_path(e.mount)},
          {"origin", e.origin.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.origin)},
          {"path", e.path.empty() ? nlohmann::json(nullptr) : encode_path(e.path)},
          {"message", e.message}};
  if (e.count > 0) {
    nlohmann::json names = nlohmann::json::array();
    for (const auto& n : e.names) names.push_back(encode_path(n));
    j["count"] = e.count;
    j["names"] = std::move(names);
  }
  return j;
}

nlohmann::json decision_json(const RouteDecision& d) {
  nlohmann::json cands = nlohmann::json::array();
  for (const auto& c : d.candidates) {
    nlohmann::json j = {{"origin", c.origin},
                        {"has_file", c.has_file},
                        {"priority", c.priority},
                        {"cache", c.cacheable},
                        {"status", std::string(health_status_name(c.status))},
                        {"latency_p50_ms", ms(c.latency_p50_us)},
                        {"consecutive_failures", c.consecutive_failures},
                        {"size", nullptr},
                        {"mtime", nullptr},
                        {"type", nullptr},
                        {"origin_path", nullptr}};
    if (c.has_file) j["origin_path"] = encode_path(c.path);
    if (c.attr) {
      j["size"] = c.attr->size;
      j["mtime"] = ts(c.attr->mtime_sec);
      j["type"] = type_name(c.attr->type);
    }
    cands.push_back(j);
  }
  const RouteCandidate* s = d.selected();
  return {{"path", encode_path(d.path)},
          {"origin_path", s ? nlohmann::json(encode_path(s->path)) : nlohmann::json(nullptr)},
          {"exists", d.exists},
          {"type", s && s->attr ? nlohmann::json(type_name(s->attr->type)) : nlohmann::json(nullptr)},
          {"selected", s ? nlohmann::json(s->origin) : nlohmann::json(nullptr)},
          {"rule", d.rule_text},
          {"divergent", d.divergent},
          {"candidates", cands}};
}

}  // namespace musicfs
