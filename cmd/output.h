#pragma once
// Printing for people and for scripts. On a terminal, tables are aligned; when stdout
// is not a terminal, rows are tab-separated with no padding and no colour.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace musicfs::cli {

bool stdout_is_tty();

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print(const std::string& indent = "") const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

void print_json(const nlohmann::json& j);
// "12.3" for a millisecond figure; "-" for null.
std::string fmt_ms(const nlohmann::json& v);
// A relative age ("5m ago") from an ISO-8601 timestamp, "never" for null.
std::string fmt_age(const nlohmann::json& iso);
std::string fmt_bytes(uint64_t bytes);

}  // namespace musicfs::cli
