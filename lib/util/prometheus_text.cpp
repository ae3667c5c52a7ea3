#include "util/prometheus_text.h"

#include <charconv>
#include <cmath>
#include <set>

namespace musicfs {

namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 when it is not a valid one
// (overlong forms, surrogates and code points past U+10FFFF are invalid too).
size_t utf8_sequence(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n = 0;
  uint32_t cp = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

bool valid_name(std::string_view name, bool colon_allowed) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_allowed && c == ':');
    const bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Status check_family(const MetricFamily& f) {
  auto bad = [&](const std::string& why) { return make_error(ErrorCode::kInternal, "metric " + f.name + ": " + why); };
  if (!valid_name(f.name, true)) return bad("not a valid metric name");
  if (f.type == MetricType::kCounter && !ends_with(f.name, "_total")) return bad("a counter's name must end in _total");
  if (f.type == MetricType::kGauge && ends_with(f.name, "_total")) return bad("only a counter's name ends in _total");
  for (const auto& s : f.samples) {
    std::set<std::string_view> seen;
    for (const auto& [k, v] : s.labels) {
      if (!valid_name(k, false) || k.rfind("__", 0) == 0) return bad("label name '" + k + "' is not valid");
      if (!seen.insert(k).second) return bad("label '" + k + "' given twice");
    }
  }
  return {};
}

const char* type_word(MetricType t) { return t == MetricType::kCounter ? "counter" : "gauge"; }

}  // namespace

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_sequence(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  for (char c : valid_utf8(value)) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view help) {
  std::string out;
  for (char c : valid_utf8(help)) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string format_sample_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Counters are integers; printed as such they read and diff cleanly.
  constexpr double kExact = 9007199254740992.0;  // 2^53
  if (v == std::floor(v) && std::fabs(v) < kExact) return std::to_string(static_cast<int64_t>(v));
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

Result<std::string> render_exposition(const std::vector<MetricFamily>& families) {
  std::set<std::string_view> names;
  std::string out;
  for (const auto& f : families) {
    if (auto s = check_family(f); !s) return s.take_error();
    if (!names.insert(f.name).second) return make_error(ErrorCode::kInternal, "metric " + f.name + ": family given twice");
    if (f.samples.empty()) continue;
    out += "# HELP " + f.name + " " + escape_help(f.help) + "\n";
    out += "# TYPE " + f.name + " " + type_word(f.type) + "\n";
    for (const auto& s : f.samples) {
      out += f.name;
      if (!s.labels.empty()) {
        out += '{';
        for (size_t i = 0; i < s.labels.size(); ++i) {
          if (i > 0) out += ',';
          out += s.labels[i].first + "=\"" + escape_label_value(s.labels[i].second) + "\"";
        }
        out += '}';
      }
      out += " " + format_sample_value(s.value) + "\n";
    }
  }
  return out;
}

nlohmann::json exposition_json(const std::vector<MetricFamily>& families) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : families) {
    nlohmann::json samples = nlohmann::json::array();
    for (const auto& s : f.samples) {
      nlohmann::json labels = nlohmann::json::object();
      for (const auto& [k, v] : s.labels) labels[k] = valid_utf8(v);
      // JSON has no NaN or infinity: those go as the exposition spells them.
      nlohmann::json value = std::isfinite(s.value) ? nlohmann::json(s.value) : nlohmann::json(format_sample_value(s.value));
      if (std::isfinite(s.value) && s.value == std::floor(s.value) && std::fabs(s.value) < 9007199254740992.0) {
        value = static_cast<int64_t>(s.value);
      }
      samples.push_back({{"labels", labels}, {"value", value}});
    }
    out.push_back({{"name", f.name}, {"help", f.help}, {"type", type_word(f.type)}, {"samples", samples}});
  }
  return out;
}

}  // namespace musicfs
