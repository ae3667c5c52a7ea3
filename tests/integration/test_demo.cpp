// Integration tests for the demo library (scripts/make-demo-library.sh, which
// scripts/demo.sh mounts): its files are real tagged audio with cover art, the same
// on every run; mounted through musicfs, the two overlapping origins show each file
// once with the origin's bytes; and a real MPD whose music_directory is the mount
// scans it, reads every track's tags and plays one.
//
// What the tests expect is read back from the origins with sox's soxi, not written
// down a second time here: every track's path is "ARTIST/ALBUM/NN TITLE.EXT", and
// its tags must say the same.
#include <catch2/catch.hpp>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/mpd_server.h"
#include "support/test_env.h"

using namespace musicfs::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string kScript = std::string(MUSICFS_SOURCE_DIR) + "/scripts/make-demo-library.sh";
const std::vector<std::string> kOrigins = {"origin-a", "origin-b"};

void require_audio_tools() {
  for (const char* tool : {"sox", "soxi", "flac", "metaflac", "lame", "oggenc"}) {
    if (run_program({"sh", "-c", std::string("command -v ") + tool}).exit_code != 0) {
      skip_test(std::string(tool) + " is not installed (scripts/install-deps.sh installs sox, libsox-fmt-mp3, flac, lame, vorbis-tools)");
    }
  }
  // soxi reads MP3s only with libsox-fmt-mp3.
  if (run_program({"sh", "-c", "sox -h | grep -q 'AUDIO FILE FORMATS:.* mp3'"}).exit_code != 0) {
    skip_test("sox cannot read MP3 (Debian package libsox-fmt-mp3)");
  }
}

// Runs make-demo-library.sh DIR; it must succeed without printing anything.
void make_library(const std::string& dir) {
  auto r = run_program({"bash", kScript, dir}, 60s);
  INFO("make-demo-library.sh stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.out.empty());
  REQUIRE(r.err.empty());
}

// Regular files below root, as paths relative to it.
std::set<std::string> files_under(const std::string& root) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) out.insert(fs::relative(e.path(), root).string());
  }
  return out;
}

bool is_audio(const std::string& rel) {
  const std::string ext = fs::path(rel).extension().string();
  return ext == ".flac" || ext == ".mp3" || ext == ".ogg";
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string soxi(const std::string& flag, const std::string& path) {
  auto r = run_program({"soxi", flag, path});
  INFO("soxi " << flag << " " << path << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  return trim(r.out);
}

// The file's tags as soxi reads them, keys in lower case ("artist", "tracknumber").
std::map<std::string, std::string> tags(const std::string& path) {
  std::map<std::string, std::string> out;
  std::istringstream in(soxi("-a", path));
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) out[lower(line.substr(0, eq))] = line.substr(eq + 1);
  }
  return out;
}

// What a track's path says its tags are: ARTIST/ALBUM/NN TITLE.EXT.
struct TrackName {
  std::string artist, album, title;
  int number = 0;
};
TrackName name_of(const std::string& rel) {
  const fs::path p(rel);
  const std::string stem = p.stem().string();
  TrackName t;
  t.artist = p.parent_path().parent_path().string();
  t.album = p.parent_path().filename().string();
  t.number = std::atoi(stem.substr(0, 2).c_str());
  t.title = stem.substr(3);
  return t;
}

// Every file of the merged tree, with the origin directory that holds a copy.
std::map<std::string, std::string> merged(const std::string& library) {
  std::map<std::string, std::string> out;
  for (const auto& o : kOrigins) {
    for (const auto& rel : files_under(library + "/" + o)) out.emplace(rel, library + "/" + o);
  }
  return out;
}

std::map<std::string, std::string> contents(const std::string& library) {
  std::map<std::string, std::string> out;
  for (const auto& o : kOrigins) {
    for (const auto& rel : files_under(library + "/" + o)) out[o + "/" + rel] = read_file(library + "/" + o + "/" + rel);
  }
  return out;
}

}  // namespace

TEST_CASE("make-demo-library.sh writes real tagged audio with cover art on two overlapping origins") {
  require_audio_tools();
  TempDir dir;
  TempDir pictures;  // what metaflac exports, kept out of the library directory
  make_library(dir.path());
  const std::string lib = dir.path();

  std::set<std::string> formats, artists, albums;
  size_t tracks = 0;
  for (const auto& o : kOrigins) {
    for (const auto& rel : files_under(lib + "/" + o)) {
      const std::string path = lib + "/" + o + "/" + rel;
      if (!is_audio(rel)) continue;
      INFO(o << ": " << rel);
      ++tracks;
      const std::string ext = fs::path(rel).extension().string().substr(1);
      formats.insert(ext);
      // soxi names the format it decoded, which is not the file name's: "vorbis".
      CHECK(soxi("-t", path) == (ext == "ogg" ? "vorbis" : ext));
      CHECK(std::stod(soxi("-D", path)) > 1.0);
      const TrackName want = name_of(rel);
      artists.insert(want.artist);
      albums.insert(want.artist + "/" + want.album);
      auto t = tags(path);
      CHECK(t["artist"] == want.artist);
      CHECK(t["album"] == want.album);
      CHECK(t["title"] == want.title);
      CHECK(std::atoi(t["tracknumber"].c_str()) == want.number);
      CHECK(!(t["date"] + t["year"]).empty());
      CHECK(!t["genre"].empty());
      if (ext == "flac") {
        // The embedded picture is the album folder's cover.png, byte for byte.
        const std::string exported = pictures / ("picture-" + std::to_string(tracks) + ".png");
        auto r = run_program({"metaflac", "--export-picture-to=" + exported, path});
        INFO("metaflac: " << r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(read_file(exported) == read_file(fs::path(path).parent_path().string() + "/cover.png"));
      }
    }
  }
  CHECK(formats == std::set<std::string>{"flac", "mp3", "ogg"});
  CHECK(artists.size() >= 2);
  CHECK(tracks >= 6);

  // Each album folder, on each origin that has it, holds a PNG cover.
  for (const auto& o : kOrigins) {
    for (const auto& album : albums) {
      const std::string cover = lib + "/" + o + "/" + album + "/cover.png";
      if (!path_exists(lib + "/" + o + "/" + album)) continue;
      INFO(cover);
      REQUIRE(path_exists(cover));
      CHECK(read_file(cover).substr(0, 8) == "\x89PNG\r\n\x1a\n");
    }
  }

  // The origins overlap with identical copies, so the merged tree is smaller than both.
  const auto a = files_under(lib + "/origin-a");
  const auto b = files_under(lib + "/origin-b");
  std::vector<std::string> both;
  for (const auto& rel : a) {
    if (b.count(rel)) both.push_back(rel);
  }
  REQUIRE(!both.empty());
  CHECK(both.size() < a.size());
  CHECK(both.size() < b.size());
  bool audio_on_both = false;
  for (const auto& rel : both) {
    INFO("on both origins: " << rel);
    CHECK(read_file(lib + "/origin-a/" + rel) == read_file(lib + "/origin-b/" + rel));
    CHECK(fs::last_write_time(lib + "/origin-a/" + rel) == fs::last_write_time(lib + "/origin-b/" + rel));
    audio_on_both = audio_on_both || is_audio(rel);
  }
  CHECK(audio_on_both);

  // A second run replaces the origins with the same files, byte for byte, and leaves
  // DIR's other contents alone.
  const auto first = contents(lib);
  write_file(dir / "origin-a/stray.txt", "from an earlier run");
  write_file(dir / "keep.txt", "not the script's");
  make_library(lib);
  CHECK(contents(lib) == first);
  CHECK(read_file(dir / "keep.txt") == "not the script's");
  CHECK(files_under(lib) == std::set<std::string>([&] {
          std::set<std::string> s{"keep.txt"};
          for (const auto& [k, v] : first) s.insert(k);
          return s;
        }()));
}

TEST_CASE("the demo library mounted through musicfs shows each distinct file once with the origin's bytes") {
  require_audio_tools();
  Fixture fx({{"origin-a", 1}, {"origin-b", 2}});
  const std::string lib = fx.dir() / "origins";
  make_library(lib);
  const auto want = merged(lib);
  REQUIRE(want.size() < files_under(lib + "/origin-a").size() + files_under(lib + "/origin-b").size());

  // `mount` answers before the origins are indexed; mounting the same config again
  // prints the line anew, as demo.sh does until the count is the whole tree's.
  auto r = fx.try_mount();
  INFO("mount stderr: " << r.err << "\ndaemon log:\n" << fx.daemon().log());
  REQUIRE(r.exit_code == 0);
  wait_until([&] {
    r = fx.try_mount();
    return r.exit_code == 0 && r.out.find("indexed so far") == std::string::npos;
  });
  CHECK(r.exit_code == 0);
  CHECK(r.out == "mounted " + fx.mount_point() + ": 2 origin(s), " + std::to_string(want.size()) + " files\n");

  std::set<std::string> names;
  for (const auto& [rel, origin] : want) names.insert(rel);
  CHECK(files_under(fx.mount_point()) == names);
  for (const auto& [rel, origin] : want) {
    INFO(rel);
    CHECK(read_file(fx.in_mount(rel)) == read_file(origin + "/" + rel));
  }
}

TEST_CASE("MPD with the musicfs mount of the demo library as music_directory lists every track with its tags and plays one") {
  require_audio_tools();
  Fixture fx({{"origin-a", 1}, {"origin-b", 2}});
  const std::string lib = fx.dir() / "origins";
  make_library(lib);
  fx.mount();
  MpdServer mpd(fx.mount_point());  // declared after fx: MPD is gone before the unmount

  std::multiset<std::string> want;
  for (const auto& [rel, origin] : merged(lib)) {
    if (!is_audio(rel)) continue;
    auto t = tags(origin + "/" + rel);
    want.insert(t["artist"] + "|" + t["album"] + "|" + t["title"]);
  }
  REQUIRE(want.size() >= 6);

  auto up = mpd.mpc({"update", "--wait"});
  INFO("mpc update: " << up.out << up.err << "\nmpd log:\n" << mpd.log());
  REQUIRE(up.exit_code == 0);
  // '#' escapes '|', which is mpc's "or" in a format.
  auto ls = mpd.mpc({"-f", "%artist%#|%album%#|%title%", "listall"});
  INFO("mpc listall: " << ls.err);
  REQUIRE(ls.exit_code == 0);
  std::multiset<std::string> got;
  std::istringstream in(ls.out);
  for (std::string line; std::getline(in, line);) got.insert(line);
  CHECK(got == want);

  // Playing decodes the audio read through the mount: the clock only moves past 0:00
  // when MPD got samples out of the file.
  REQUIRE(mpd.mpc({"add", "The Demos/First Light/01 Intro.flac"}).exit_code == 0);
  REQUIRE(mpd.mpc({"play"}).exit_code == 0);
  std::string status;
  const bool played = wait_until(
      [&] {
        status = trim(mpd.mpc({"status", "%state% %currenttime%"}, 5s).out);
        return status.rfind("playing ", 0) == 0 && status != "playing 0:00";
      },
      20s);
  INFO("mpc status: " << status << "\nmpd log:\n" << mpd.log());
  CHECK(played);
}
