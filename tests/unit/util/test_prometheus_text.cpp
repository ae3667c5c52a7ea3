#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>

#include "util/prometheus_text.h"

using namespace musicfs;
using Catch::Contains;

TEST_CASE("label values escape backslash quote and newline and nothing else", "[metrics]") {
  CHECK(escape_label_value("plain /mnt/music") == "plain /mnt/music");
  CHECK(escape_label_value("a\\b") == "a\\\\b");
  CHECK(escape_label_value("say \"hi\"") == "say \\\"hi\\\"");
  CHECK(escape_label_value("two\nlines") == "two\\nlines");
  CHECK(escape_label_value("tab\there") == "tab\there");
  CHECK(escape_label_value("caf\xC3\xA9") == "caf\xC3\xA9");
}

TEST_CASE("HELP text escapes backslash and newline but not quotes", "[metrics]") {
  CHECK(escape_help("a \"b\" \\ c\nd") == "a \"b\" \\\\ c\\nd");
}

TEST_CASE("bytes that are not UTF-8 become U+FFFD", "[metrics]") {
  CHECK(valid_utf8("ok\xFFok") == "ok\xEF\xBF\xBDok");
  CHECK(valid_utf8("\xC3") == "\xEF\xBF\xBD");                 // cut short
  CHECK(valid_utf8("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  CHECK(valid_utf8("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  CHECK(valid_utf8("\xF0\x9F\x8E\xB5") == "\xF0\x9F\x8E\xB5");  // a four-byte note
  CHECK(escape_label_value("/mnt/\xFE\"") == "/mnt/\xEF\xBF\xBD\\\"");
}

TEST_CASE("sample values print integers exactly and the special values by name", "[metrics]") {
  CHECK(format_sample_value(0) == "0");
  CHECK(format_sample_value(123456789012.0) == "123456789012");
  CHECK(format_sample_value(-3) == "-3");
  CHECK(format_sample_value(0.25) == "0.25");
  CHECK(format_sample_value(0.000125) == "0.000125");
  CHECK(format_sample_value(std::nan("")) == "NaN");
  CHECK(format_sample_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(format_sample_value(-std::numeric_limits<double>::infinity()) == "-Inf");
}

TEST_CASE("render_exposition writes HELP and TYPE lines then labelled samples", "[metrics]") {
  MetricFamily bytes{"musicfs_origin_read_bytes_total", "Bytes read\nfrom an origin", MetricType::kCounter, {}};
  bytes.add({{"mount", "/mnt/a \"b\""}, {"origin", "nas"}}, 4096).add({{"mount", "/mnt/a \"b\""}, {"origin", "usb"}}, 0);
  MetricFamily up{"musicfs_up", "1: the daemon answered", MetricType::kGauge, {}};
  up.add({}, 1);
  MetricFamily empty{"musicfs_cache_used_bytes", "nothing here", MetricType::kGauge, {}};
  auto text = render_exposition({bytes, up, empty});
  REQUIRE(text.ok());
  CHECK(*text ==
        "# HELP musicfs_origin_read_bytes_total Bytes read\\nfrom an origin\n"
        "# TYPE musicfs_origin_read_bytes_total counter\n"
        "musicfs_origin_read_bytes_total{mount=\"/mnt/a \\\"b\\\"\",origin=\"nas\"} 4096\n"
        "musicfs_origin_read_bytes_total{mount=\"/mnt/a \\\"b\\\"\",origin=\"usb\"} 0\n"
        "# HELP musicfs_up 1: the daemon answered\n"
        "# TYPE musicfs_up gauge\n"
        "musicfs_up 1\n");
}

TEST_CASE("render_exposition refuses a counter without _total and bad names", "[metrics]") {
  auto fails = [](MetricFamily f, const std::string& why) {
    f.add({}, 1);
    auto r = render_exposition({f});
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Contains(f.name) && Contains(why));
  };
  fails({"musicfs_reads", "h", MetricType::kCounter, {}}, "_total");
  fails({"musicfs_reads_total", "h", MetricType::kGauge, {}}, "_total");
  fails({"9lives", "h", MetricType::kGauge, {}}, "metric name");
  fails({"musicfs-up", "h", MetricType::kGauge, {}}, "metric name");

  MetricFamily bad_label{"musicfs_x", "h", MetricType::kGauge, {}};
  bad_label.add({{"mount:point", "/m"}}, 1);
  CHECK_FALSE(render_exposition({bad_label}).ok());
  MetricFamily reserved{"musicfs_x", "h", MetricType::kGauge, {}};
  reserved.add({{"__name__", "x"}}, 1);
  CHECK_FALSE(render_exposition({reserved}).ok());
  MetricFamily twice_label{"musicfs_x", "h", MetricType::kGauge, {}};
  twice_label.add({{"a", "1"}, {"a", "2"}}, 1);
  CHECK_FALSE(render_exposition({twice_label}).ok());

  MetricFamily up{"musicfs_up", "h", MetricType::kGauge, {}};
  up.add({}, 1);
  auto twice = render_exposition({up, up});
  REQUIRE_FALSE(twice.ok());
  CHECK_THAT(twice.error().message, Contains("twice"));
}

TEST_CASE("exposition_json gives the same families as structured values", "[metrics]") {
  MetricFamily f{"musicfs_origin_failovers_total", "Failovers", MetricType::kCounter, {}};
  f.add({{"mount", "/m\xFF"}, {"origin", "b"}}, 2);
  MetricFamily g{"musicfs_origin_probe_latency_seconds", "Probe", MetricType::kGauge, {}};
  g.add({{"origin", "b"}}, 0.0015);
  auto j = exposition_json({f, g});
  REQUIRE(j.size() == 2);
  CHECK(j[0]["name"] == "musicfs_origin_failovers_total");
  CHECK(j[0]["type"] == "counter");
  CHECK(j[0]["samples"][0]["labels"]["mount"] == "/m\xEF\xBF\xBD");
  CHECK(j[0]["samples"][0]["value"] == 2);
  CHECK(j[1]["type"] == "gauge");
  CHECK(j[1]["samples"][0]["value"].get<double>() == 0.0015);
  CHECK_NOTHROW(j.dump());
}
