#pragma once
// The Prometheus text exposition format, version 0.0.4: the one renderer behind
// `musicfsctl metrics` and the [metrics] textfile. Families are built by the daemon
// (daemon/metrics.cpp); this file only knows the format's rules:
//   - a family is "# HELP name text", "# TYPE name counter|gauge", then its samples;
//   - label values escape backslash, double quote and newline; HELP text escapes
//     backslash and newline;
//   - names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*
//     (and do not start with "__", which Prometheus reserves);
//   - a counter's name ends in "_total" (promtool's lint, and OpenMetrics' rule).
// The format is UTF-8; a label value that is not (a mount point's bytes may be
// anything) has its invalid bytes replaced by U+FFFD, the same in --json.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace musicfs {

enum class MetricType { kCounter, kGauge };

struct MetricSample {
  std::vector<std::pair<std::string, std::string>> labels;  // in the order they are printed
  double value = 0;
};

struct MetricFamily {
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<MetricSample> samples;

  MetricFamily& add(std::vector<std::pair<std::string, std::string>> labels, double value) {
    samples.push_back({std::move(labels), value});
    return *this;
  }
};

// `text` with every byte sequence that is not UTF-8 replaced by U+FFFD.
std::string valid_utf8(std::string_view text);
// A label value as it goes between the double quotes.
std::string escape_label_value(std::string_view value);
// HELP text as it goes after the name.
std::string escape_help(std::string_view help);
// A sample value: integers exactly (below 2^53), others shortest round-trip, and
// "NaN", "+Inf", "-Inf".
std::string format_sample_value(double v);

// The exposition of `families`, in order. A family with no samples is left out (its
// HELP and TYPE would describe nothing). Fails, naming the family, when a name, a
// label name or a counter suffix breaks the rules above, or a family name repeats.
Result<std::string> render_exposition(const std::vector<MetricFamily>& families);

// The same families as JSON (`musicfsctl metrics --json`):
// [{"name", "help", "type": "counter"|"gauge", "samples": [{"labels": {...}, "value"}]}].
nlohmann::json exposition_json(const std::vector<MetricFamily>& families);

}  // namespace musicfs
