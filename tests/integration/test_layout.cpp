// Integration tests for layout mounts (the top-level `layout` key): real FLAC, MP3,
// Ogg Vorbis and Opus files made and tagged by sox, metaflac, lame, oggenc and
// opusenc, filed under different folder and file names on two local origins, a real
// daemon reading their tags with TagLib, and the tree it renders read through FUSE.
#include <catch2/catch.hpp>

#include <sys/xattr.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "support/test_env.h"

using namespace musicfs::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const char* const kLayout = "{albumartist}/{album}/{track:02} - {title}.{ext}";

void require_audio_tools() {
  for (const char* tool : {"sox", "metaflac", "lame", "oggenc", "opusenc"}) {
    if (run_program({"sh", "-c", std::string("command -v ") + tool + " >/dev/null"}).exit_code != 0) {
      skip_test(std::string(tool) +
                " is not installed (scripts/install-deps.sh installs sox, flac, lame, vorbis-tools, opus-tools)");
    }
  }
}

void run_ok(const std::vector<std::string>& argv) {
  auto r = run_program(argv, 60s);
  std::string line;
  for (const auto& a : argv) line += a + " ";
  INFO(line << "\n" << r.err);
  REQUIRE(r.exit_code == 0);
}

struct Tags {
  std::string artist, album, title;
  int track = 0;
};

// One second of a sine tone at `freq` Hz, so two files with the same tags differ in
// their audio.
std::string tone(const TempDir& scratch, int freq, const std::string& ext) {
  const std::string out = scratch / ("tone-" + std::to_string(freq) + "." + ext);
  if (!path_exists(out)) {
    run_ok({"sox", "-n", "-r", "44100", "-c", "2", "-b", "16", out, "synth", "1", "sine", std::to_string(freq)});
  }
  return out;
}

void make_flac(const TempDir& scratch, const std::string& path, const Tags& t, int freq = 440) {
  mkdirs(fs::path(path).parent_path());
  fs::copy_file(tone(scratch, freq, "flac"), path, fs::copy_options::overwrite_existing);
  std::vector<std::string> argv = {"metaflac", "--remove-all-tags"};
  if (!t.artist.empty()) argv.push_back("--set-tag=ARTIST=" + t.artist);
  if (!t.album.empty()) argv.push_back("--set-tag=ALBUM=" + t.album);
  if (!t.title.empty()) argv.push_back("--set-tag=TITLE=" + t.title);
  if (t.track > 0) argv.push_back("--set-tag=TRACKNUMBER=" + std::to_string(t.track));
  argv.push_back(path);
  run_ok(argv);
}

void make_mp3(const TempDir& scratch, const std::string& path, const Tags& t) {
  mkdirs(fs::path(path).parent_path());
  run_ok({"lame", "--quiet", "--id3v2-only", "--ta", t.artist, "--tl", t.album, "--tt", t.title, "--tn",
          std::to_string(t.track), tone(scratch, 550, "wav"), path});
}

void make_ogg(const TempDir& scratch, const std::string& path, const Tags& t) {
  mkdirs(fs::path(path).parent_path());
  run_ok({"oggenc", "--quiet", "-a", t.artist, "-l", t.album, "-t", t.title, "-N", std::to_string(t.track), "-o",
          path, tone(scratch, 660, "wav")});
}

void make_opus(const TempDir& scratch, const std::string& path, const Tags& t) {
  mkdirs(fs::path(path).parent_path());
  run_ok({"opusenc", "--quiet", "--artist", t.artist, "--album", t.album, "--title", t.title, "--comment",
          "TRACKNUMBER=" + std::to_string(t.track), tone(scratch, 770, "wav"), path});
}

// The files below the mount, as mount-relative paths.
std::set<std::string> files_below(const std::string& root) {
  std::set<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) out.insert(fs::relative(it->path(), root).string());
  }
  return out;
}

std::string xattr_of(const std::string& path, const char* name) {
  char buf[4096];
  const ssize_t n = ::getxattr(path.c_str(), name, buf, sizeof buf);
  return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

std::string layout_toml() { return std::string("layout = \"") + kLayout + "\"\n"; }

// The layout key is top-level, so it goes before the [[origins]] tables.
void mount_with_layout(Fixture& fx, const std::string& layout_line) {
  fx.write_config(layout_line + fx.default_config());
  fx.mount();
}

// Waits until every file's tags are read (status: tags_read == audio_files > 0).
bool wait_tags_read(Fixture& fx, size_t audio_files) {
  return wait_until(
      [&] {
        const auto st = fx.status();
        const auto& l = st["mounts"][0]["layout"];
        return !l.is_null() && l["audio_files"] == audio_files && l["tags_read"] == audio_files;
      },
      30s);
}

}  // namespace

TEST_CASE("layout: two origins filing an album differently render one tree from the tags") {
  require_fuse();
  require_audio_tools();
  TempDir scratch;
  Fixture fx({{"laptop", 1}, {"nas", 2}});
  const std::string a = fx.origin_dir("laptop");
  const std::string b = fx.origin_dir("nas");
  make_flac(scratch, a + "/Aurora Lane - First Light/track1.flac", {"Aurora Lane", "First Light", "Song 1", 1});
  write_file(a + "/Aurora Lane - First Light/cover.jpg", "a jpeg");
  make_mp3(scratch, b + "/Music/A/Aurora Lane/2019 First Light/02 Song 2.mp3", {"Aurora Lane", "First Light", "Song 2", 2});
  make_ogg(scratch, b + "/Music/A/Aurora Lane/2019 First Light/x3.ogg", {"Aurora Lane", "First Light", "Song 3", 3});
  make_opus(scratch, b + "/incoming/four.opus", {"Aurora Lane", "First Light", "Song 4", 4});
  // No tags at all, and a file named like audio that is none.
  make_flac(scratch, a + "/rips/untitled.flac", {});
  write_file(b + "/junk/not really.mp3", "no audio here");
  // Two different recordings with the same tags, on two origins.
  make_flac(scratch, a + "/Same/one.flac", {"Twin", "Mirror", "Same", 1}, 440);
  make_flac(scratch, b + "/Elsewhere/other.flac", {"Twin", "Mirror", "Same", 1}, 880);

  mount_with_layout(fx, layout_toml());
  const std::set<std::string> want = {
      "Aurora Lane/First Light/01 - Song 1.flac",
      "Aurora Lane/First Light/02 - Song 2.mp3",
      "Aurora Lane/First Light/03 - Song 3.ogg",
      "Aurora Lane/First Light/04 - Song 4.opus",
      "Aurora Lane/First Light/cover.jpg",
      "Unknown Artist/Unknown Album/00 - untitled.flac",
      "Unknown Artist/Unknown Album/00 - not really.mp3",
      "Twin/Mirror/01 - Same.flac",
      "Twin/Mirror/01 - Same (2).flac",
  };
  std::set<std::string> seen;
  const bool rendered = wait_until(
      [&] {
        seen = files_below(fx.mount_point());
        return seen == want;
      },
      30s);
  std::string listing;
  for (const auto& s : seen) listing += s + "\n";
  INFO("mount holds:\n" << listing << "daemon log:\n" << fx.daemon().log());
  REQUIRE(rendered);

  // The bytes are the origin's file, wherever it is filed there.
  CHECK(read_file(fx.in_mount("Aurora Lane/First Light/02 - Song 2.mp3")) ==
        read_file(b + "/Music/A/Aurora Lane/2019 First Light/02 Song 2.mp3"));
  CHECK(read_file(fx.in_mount("Aurora Lane/First Light/cover.jpg")) == "a jpeg");
  // Same-tag copies are numbered by their paths on their origins: "/Elsewhere/..." first.
  CHECK(read_file(fx.in_mount("Twin/Mirror/01 - Same.flac")) == read_file(b + "/Elsewhere/other.flac"));
  CHECK(read_file(fx.in_mount("Twin/Mirror/01 - Same (2).flac")) == read_file(a + "/Same/one.flac"));

  // Where each entry comes from, on its origin.
  const std::string song2 = fx.in_mount("Aurora Lane/First Light/02 - Song 2.mp3");
  CHECK(xattr_of(song2, "user.musicfs.origin") == "nas");
  CHECK(xattr_of(song2, "user.musicfs.origin_path") == "/Music/A/Aurora Lane/2019 First Light/02 Song 2.mp3");
  CHECK(xattr_of(song2, "user.musicfs.copies") == "nas\t/Music/A/Aurora Lane/2019 First Light/02 Song 2.mp3\n");

  // tags, in JSON and as text.
  auto j = fx.daemon().ctl_json({"tags", "--mount", fx.mount_point(), "/Aurora Lane/First Light/04 - Song 4.opus"});
  CHECK(j["origin"] == "nas");
  CHECK(j["origin_path"] == "/incoming/four.opus");
  CHECK(j["layout"] == true);
  CHECK(j["readable"] == true);
  CHECK(j["tags"]["artist"] == "Aurora Lane");
  CHECK(j["tags"]["title"] == "Song 4");
  CHECK(j["tags"]["track"] == 4);
  CHECK(j["tags"]["channels"] == 2);
  CHECK(j["tags"]["duration_ms"].get<int64_t>() > 900);
  auto text = fx.daemon().ctl({"tags", fx.in_mount("Aurora Lane/First Light/01 - Song 1.flac")});
  INFO(text.err);
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("read from:   laptop:/Aurora Lane - First Light/track1.flac") != std::string::npos);
  CHECK(text.out.find("album:       First Light") != std::string::npos);
  CHECK(text.out.find("flac_md5:    ") != std::string::npos);
  CHECK(text.out.find("flac_md5:    -") == std::string::npos);  // FLAC carries its STREAMINFO MD5
  auto junk = fx.daemon().ctl_json({"tags", fx.in_mount("Unknown Artist/Unknown Album/00 - not really.mp3")});
  CHECK(junk["readable"] == false);
  auto missing = fx.daemon().ctl({"tags", "--mount", fx.mount_point(), "/No/Such.flac"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("not in the tree") != std::string::npos);

  // status: the template and the tag reader's progress (8 audio files, the junk included).
  REQUIRE(wait_tags_read(fx, 8));
  const auto st = fx.status();
  CHECK(st["mounts"][0]["layout"]["template"] == kLayout);
  auto status_text = fx.daemon().ctl({"status"});
  CHECK(status_text.out.find("tags: 8 of 8 audio files read") != std::string::npos);

  // route-explain shows the copy's path on its origin.
  auto why = fx.daemon().ctl_json({"route-explain", song2});
  CHECK(why["selected"] == "nas");
  CHECK(why["origin_path"] == "/Music/A/Aurora Lane/2019 First Light/02 Song 2.mp3");
}

TEST_CASE("layout: a tag edit on an origin moves the file in the tree with path events") {
  require_fuse();
  require_audio_tools();
  TempDir scratch;
  Fixture fx({{"a", 1}});
  const std::string track = fx.origin_dir("a") + "/in/t.flac";
  make_flac(scratch, track, {"Band", "Old Name", "Tune", 5});
  mount_with_layout(fx, layout_toml());
  REQUIRE(wait_until([&] { return path_exists(fx.in_mount("Band/Old Name/05 - Tune.flac")); }, 30s));
  REQUIRE(wait_until([&] { return fx.daemon().log().find("origin a: listed") != std::string::npos; }, 15s));

  run_ok({"metaflac", "--remove-tag=ALBUM", "--set-tag=ALBUM=New Name", track});
  const bool moved = wait_until(
      [&] {
        return path_exists(fx.in_mount("Band/New Name/05 - Tune.flac")) &&
               !path_exists(fx.in_mount("Band/Old Name/05 - Tune.flac"));
      },
      30s);
  INFO("daemon log:\n" << fx.daemon().log());
  REQUIRE(moved);
  CHECK(read_file(fx.in_mount("Band/New Name/05 - Tune.flac")) == read_file(track));
  CHECK_FALSE(path_exists(fx.in_mount("Band/Old Name")));
  // The events name layout paths, not the origin's.
  REQUIRE(wait_until([&] { return !fx.events("path_added").empty() && !fx.events("path_removed").empty(); }, 15s));
  std::set<std::string> added, removed;
  for (const auto& e : fx.events("path_added")) added.insert(e["path"].get<std::string>());
  for (const auto& e : fx.events("path_removed")) removed.insert(e["path"].get<std::string>());
  INFO("added: " << nlohmann::json(added).dump() << " removed: " << nlohmann::json(removed).dump());
  // A lone change is one event naming the file; a burst, its directory.
  auto any_below = [](const std::set<std::string>& paths, const std::string& dir) {
    return std::any_of(paths.begin(), paths.end(), [&](const std::string& p) { return p.rfind(dir, 0) == 0; });
  };
  CHECK(any_below(added, "/Band/New Name"));
  CHECK(any_below(removed, "/Band/Old Name"));
  CHECK_FALSE(any_below(added, "/in"));
}

TEST_CASE("layout: tags persist in the index and a restart files a known version by them without reading it again") {
  require_fuse();
  require_audio_tools();
  TempDir scratch;
  Fixture fx({{"a", 1}});
  const std::string track = fx.origin_dir("a") + "/x/y.flac";
  make_flac(scratch, track, {"Keeper", "Kept", "Held", 1});
  mount_with_layout(fx, layout_toml());
  REQUIRE(wait_tags_read(fx, 1));
  REQUIRE(path_exists(fx.in_mount("Keeper/Kept/01 - Held.flac")));

  // The same size and mtime with other bytes: a version the index already knows.
  // Read again, these bytes would be no audio and file it under Unknown Artist.
  REQUIRE(fx.daemon().ctl({"daemon", "stop"}).exit_code == 0);
  REQUIRE(fx.daemon().wait_exit(15s).has_value());
  const auto size = fs::file_size(track);
  const auto mtime = fs::last_write_time(track);
  write_file(track, std::string(size, 'z'));
  fs::last_write_time(track, mtime);

  fx.daemon().restart();
  fx.mount();
  REQUIRE(wait_tags_read(fx, 1));
  const bool kept = wait_until([&] { return path_exists(fx.in_mount("Keeper/Kept/01 - Held.flac")); }, 15s);
  INFO("mount holds: " << nlohmann::json(files_below(fx.mount_point())).dump() << "\ndaemon log:\n"
                       << fx.daemon().log());
  CHECK(kept);

}

TEST_CASE("layout: two mounts of the same origins with different layouts work side by side") {
  require_fuse();
  require_audio_tools();
  TempDir scratch;
  Fixture fx({{"a", 1}});
  make_flac(scratch, fx.origin_dir("a") + "/d/1.flac", {"Duo", "Both Ways", "First", 1});
  mount_with_layout(fx, layout_toml());

  const std::string second = fx.dir() / "by-title";
  mkdirs(second);
  const std::string config2 = fx.dir() / "second.toml";
  std::string text = fx.default_config();
  text.replace(text.find(fx.mount_point()), fx.mount_point().size(), second);
  write_file(config2, "layout = \"{title} ({artist}).{ext}\"\n" + text);
  auto r = fx.daemon().ctl({"mount", "--config", config2});
  INFO(r.err << "\n" << fx.daemon().log());
  REQUIRE(r.exit_code == 0);

  CHECK(wait_until([&] { return path_exists(fx.in_mount("Duo/Both Ways/01 - First.flac")); }, 30s));
  CHECK(wait_until([&] { return path_exists(second + "/First (Duo).flac"); }, 30s));
  CHECK(read_file(second + "/First (Duo).flac") == read_file(fx.origin_dir("a") + "/d/1.flac"));
  CHECK(fx.daemon().ctl({"unmount", second}).exit_code == 0);
}

TEST_CASE("layout: a template that does not parse is refused with its file line and column") {
  require_fuse();
  Fixture fx({{"a", 1}});
  fx.write_config("layout = \"{albm}/{title}.{ext}\"\n" + fx.default_config());
  auto r = fx.try_mount();
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(fx.config_path() + ":1: layout: column 2: unknown field 'albm'") != std::string::npos);
  CHECK(r.err.find("albm") != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(fx.daemon().running());
}
