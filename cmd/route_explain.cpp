// musicfsctl route-explain PATH [--mount MOUNTPOINT]
// Why does this path route to that origin? Prints the decision the read path makes.
#include <climits>
#include <iostream>
#include <unistd.h>

#include "client.h"
#include "command.h"
#include "output.h"

namespace musicfs::cli {

namespace {
// Absolute, lexically normalised; symlinks inside the mount are not followed, since
// the question is about the path itself.
std::string absolute_lexical(const std::string& p) {
  std::string abs = p;
  if (abs.empty() || abs.front() != '/') {
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof cwd) == nullptr) return p;
    abs = std::string(cwd) + "/" + p;
  }
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= abs.size()) {
    size_t j = abs.find('/', i);
    if (j == std::string::npos) j = abs.size();
    std::string c = abs.substr(i, j - i);
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!c.empty() && c != ".") {
      parts.push_back(c);
    }
    i = j + 1;
  }
  std::string out;
  for (const auto& c : parts) out += "/" + c;
  return out.empty() ? "/" : out;
}
}  // namespace

CliCommand route_explain_command() {
  return {"route-explain", [](CLI::App& app, Globals& g) -> Runner {
            auto* sub = app.add_subcommand("route-explain", "Explain which origin serves a path, and why");
            auto path = std::make_shared<std::string>();
            auto mount = std::make_shared<std::string>();
            sub->add_option("path", *path, "A path inside a mount (absolute or relative), or a virtual path with --mount")
                ->required();
            sub->add_option("--mount", *mount, "Treat PATH as a virtual path inside this mount");
            return [path, mount, &g]() -> int {
              nlohmann::json args;
              if (mount->empty()) {
                args = {{"path", absolute_lexical(*path)}};
              } else {
                char buf[PATH_MAX];
                std::string mp = ::realpath(mount->c_str(), buf) ? std::string(buf) : *mount;
                args = {{"path", path->empty() || path->front() != '/' ? "/" + *path : *path}, {"mount", mp}};
              }
              auto out = call_daemon(g, "route-explain", args);
              if (!out.reply || !out.reply->ok) return out.exit_code;
              const auto& r = out.reply->result;
              if (g.json) {
                print_json(r);
                return kExitOk;
              }
              std::cout << "path:      " << str_or(r["path"]) << "  (mount " << str_or(r["mount"]) << ")\n";
              if (r.contains("contributors")) {
                std::string list;
                for (const auto& c : r["contributors"]) list += (list.empty() ? "" : ", ") + c.get<std::string>();
                std::cout << "type:      directory; entries come from: " << (list.empty() ? "(none)" : list) << "\n";
              }
              std::cout << "selected:  " << str_or(r["selected"], "(none)") << "\n"
                        << "rule:      " << str_or(r["rule"]) << "\n"
                        << "cached:    " << fmt_bytes(r.value("cached_bytes", uint64_t{0}))
                        << (r.value("cache_enabled", false) ? "" : " (no content cache in this version)") << "\n"
                        << "divergent: " << (r.value("divergent", false) ? "yes, replicas differ in size or mtime" : "no")
                        << "\n\n";
              Table t({"ORIGIN", "HAS", "PRIORITY", "STATUS", "P50_MS", "FAILURES", "SIZE", "MTIME"});
              for (const auto& c : r["candidates"]) {
                t.add({str_or(c["origin"]), c.value("has_file", false) ? "yes" : "no", str_or(c["priority"]),
                       str_or(c["status"]), fmt_ms(c["latency_p50_ms"]), str_or(c["consecutive_failures"]),
                       c["size"].is_number() ? std::to_string(c["size"].get<uint64_t>()) : "-", str_or(c["mtime"])});
              }
              t.print();
              return kExitOk;
            };
          }};
}

}  // namespace musicfs::cli
