#include "output.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "util/time_util.h"

namespace musicfs::cli {

bool stdout_is_tty() { return ::isatty(1) != 0; }

void Table::print(const std::string& indent) const {
  if (!stdout_is_tty()) {
    auto line = [](const std::vector<std::string>& r) {
      std::string s;
      for (size_t i = 0; i < r.size(); ++i) s += (i ? "\t" : "") + r[i];
      std::cout << s << "\n";
    };
    line(header_);
    for (const auto& r : rows_) line(r);
    return;
  }
  std::vector<size_t> width(header_.size(), 0);
  auto measure = [&](const std::vector<std::string>& r) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  };
  measure(header_);
  for (const auto& r : rows_) measure(r);
  auto line = [&](const std::vector<std::string>& r) {
    std::string s = indent;
    for (size_t i = 0; i < r.size(); ++i) {
      s += r[i];
      if (i + 1 < r.size()) s += std::string(width[i] - r[i].size() + 2, ' ');
    }
    std::cout << s << "\n";
  };
  line(header_);
  for (const auto& r : rows_) line(r);
}

void print_json(const nlohmann::json& j) {
  // Never throws: strings were validated as UTF-8 when the reply was parsed, and a
  // replacement character beats an abort should one slip through.
  std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

std::string fmt_ms(const nlohmann::json& v) {
  if (!v.is_number()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v.get<double>());
  return buf;
}

std::string fmt_age(const nlohmann::json& iso) {
  if (!iso.is_string()) return "never";
  auto t = parse_since(iso.get<std::string>(), unix_now());
  if (!t) return iso.get<std::string>();
  return relative_age(*t, unix_now());
}

std::string fmt_bytes(uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}


}  // namespace musicfs::cli
