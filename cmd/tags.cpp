// musicfsctl tags PATH [--mount MOUNTPOINT]
// The tags an entry was placed by, and which copy (origin and its path there) they
// were read from.
#include <iostream>

#include "client.h"
#include "client_path_args.h"
#include "client_reply_fields.h"
#include "command.h"
#include "output.h"

namespace musicfs::cli {

namespace {
// "3/12", "3", or "-" for a number a file does not carry.
std::string number_of(const nlohmann::json& t, const char* key, const char* total_key) {
  const int64_t n = integer(t, key);
  if (n <= 0) return "-";
  const int64_t total = integer(t, total_key);
  return std::to_string(n) + (total > 0 ? "/" + std::to_string(total) : "");
}

std::string duration_of(int64_t ms) {
  if (ms <= 0) return "-";
  const int64_t s = (ms + 500) / 1000;
  std::string sec = std::to_string(s % 60);
  return std::to_string(s / 60) + ":" + (sec.size() < 2 ? "0" : "") + sec;
}

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }
}  // namespace

CliCommand tags_command() {
  return {"tags", [](CLI::App& app, Globals& g) -> Runner {
            auto* sub = app.add_subcommand("tags", "Show the tags a file was placed by, and the copy they came from");
            auto path = std::make_shared<std::string>();
            auto mount = std::make_shared<std::string>();
            sub->add_option("path", *path, "A file inside a mount (absolute or relative), or a virtual path with --mount")
                ->required();
            sub->add_option("--mount", *mount, "Treat PATH as a virtual path inside this mount");
            return [path, mount, &g]() -> int {
              auto out = call_daemon(g, "tags", path_request_args(*path, *mount));
              if (!out.reply || !out.reply->ok) return out.exit_code;
              const auto& r = out.reply->result;
              if (g.json) {
                print_json(r);
                return kExitOk;
              }
              const auto& t = object(r, "tags");
              std::cout << "path:        " << path_text(r, "path") << "  (mount " << path_text(r, "mount") << ")\n"
                        << "read from:   " << text(r, "origin") << ":" << path_text(r, "origin_path") << "  ("
                        << text(r, "size") << " bytes, mtime " << text(r, "mtime") << ")\n";
              if (!flag(r, "readable", true)) {
                std::cout << "tags:        none: the tag reader found no audio it could parse; filed as untagged\n";
                return kExitOk;
              }
              std::cout << "artist:      " << or_dash(text(t, "artist", "")) << "\n"
                        << "albumartist: " << or_dash(text(t, "albumartist", "")) << "\n"
                        << "album:       " << or_dash(text(t, "album", "")) << "\n"
                        << "title:       " << or_dash(text(t, "title", "")) << "\n"
                        << "track:       " << number_of(t, "track", "track_total") << "\n"
                        << "disc:        " << number_of(t, "disc", "disc_total") << "\n"
                        << "year:        " << (integer(t, "year") > 0 ? text(t, "year") : "-") << "\n"
                        << "genre:       " << or_dash(text(t, "genre", "")) << "\n"
                        << "duration:    " << duration_of(integer(t, "duration_ms")) << "\n"
                        << "audio:       " << count(t, "sample_rate") << " Hz, " << count(t, "channels")
                        << " channels\n"
                        << "flac_md5:    " << or_dash(text(t, "flac_md5", "")) << "\n";
              return kExitOk;
            };
          }};
}

}  // namespace musicfs::cli
