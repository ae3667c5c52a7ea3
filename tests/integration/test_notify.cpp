// Integration tests for notifiers ([[notify]]): a real daemon and FUSE mount over
// local origins, changes made on an origin's directory, and the programs told about
// them: an exec notifier's script that logs its arguments, and a real MPD with
// auto_update off whose music_directory is the mount.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/mpd_server.h"
#include "support/test_env.h"

using namespace musicfs::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// The runs of the logging script: one entry per run, its arguments in order.
std::vector<std::vector<std::string>> runs(const std::string& log) {
  std::vector<std::vector<std::string>> out;
  if (!path_exists(log)) return out;
  std::istringstream in(read_file(log));
  for (std::string line; std::getline(in, line);) {
    if (line == "run") {
      out.emplace_back();
    } else if (line.rfind("arg ", 0) == 0 && !out.empty()) {
      out.back().push_back(line.substr(4));
    }
  }
  return out;
}

// A script that appends "run" and one "arg X" line per argument to `log`. With
// `fail_first`, its first run exits 3 (leaving a marker) and logs nothing.
std::string logging_script(const TempDir& dir, const std::string& log, bool fail_first) {
  const std::string script = dir / "notify.sh";
  std::string body = "#!/bin/sh\n";
  if (fail_first) {
    body += "if [ ! -e '" + (dir / "failed-once") + "' ]; then : > '" + (dir / "failed-once") + "'; exit 3; fi\n";
  }
  body += "{ echo run; for a in \"$@\"; do echo \"arg $a\"; done; } >> '" + log + "'\n";

  write_file(script, body);
  return script;
}

std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Runs the script through `sh -c`, which first has ls list its own descriptors into
// SCRIPT.fds: what the daemon passed on (the shell opened nothing yet), and the
// directory ls reads, which takes the lowest free number: 3 unless one leaked.
std::string exec_notify_toml(const std::string& script, int debounce_ms) {
  const std::string first = "(exec ls /proc/self/fd > '" + script + ".fds'); exec /bin/sh '" + script + "' \"$@\"";
  return "[[notify]]\ntype = \"exec\"\ncommand = [\"/bin/sh\", \"-c\", " + toml_string(first) +
         ", \"notify\"]\ndebounce_ms = " + std::to_string(debounce_ms) + "\n";
}

// Makes `files` in a staging directory beside the origins, then renames the album
// into the origin at once, as a file manager's move does.
void move_album_in(const TempDir& dir, const std::string& origin_dir, const std::string& album,
                   const std::vector<std::string>& files) {
  const std::string staging = dir / ("staging-" + album);
  for (const auto& f : files) write_file(staging + "/" + f, "data of " + f);
  fs::rename(staging, origin_dir + "/" + album);
}

// A change made before an origin's first listing ends is part of that listing and
// raises no path event, so a test waits for it before changing anything.
bool wait_first_listing(Fixture& fx, const std::string& origin) {
  return wait_until([&] { return fx.daemon().log().find("origin " + origin + ": listed") != std::string::npos; }, 15s);
}

int64_t total_count(const std::vector<nlohmann::json>& events, const std::string& path) {
  int64_t n = 0;
  for (const auto& e : events) {
    if (e["path"] == path) n += e.value("count", int64_t{0});
  }
  return n;
}

}  // namespace

TEST_CASE("exec notifier gets the changed directories as arguments") {
  TempDir scratch;
  const std::string log = scratch / "runs.log";
  Fixture fx({{"a", 1}, {"b", 2}}, exec_notify_toml(logging_script(scratch, log, false), 100));
  write_file(fx.origin_dir("a") + "/Old/01.flac", "old");
  fx.mount();
  REQUIRE(wait_until([&] { return path_exists(fx.in_mount("Old/01.flac")); }));
  REQUIRE(wait_first_listing(fx, "b"));

  move_album_in(fx.dir(), fx.origin_dir("b"), "New Album", {"01 One.flac", "02 Two.flac"});
  const bool told = wait_until([&] { return !runs(log).empty(); }, 15s);
  INFO("daemon log:\n" << fx.daemon().log());
  REQUIRE(told);
  CHECK(runs(log).front() == std::vector<std::string>{"/New Album"});
  // Nothing of the daemon's leaked into the child: stdin, stdout, stderr only.
  CHECK(read_file(scratch / "notify.sh.fds") == "0\n1\n2\n3\n");
  REQUIRE(wait_until([&] { return !fx.events("notify_sent").empty(); }));
  CHECK(fx.events("notify_sent").front()["message"].get<std::string>().find("exit status 0") != std::string::npos);

  // The path events name the album's directory and its two new entries.
  auto added = fx.events("path_added");
  CHECK(total_count(added, "/New Album") == 3);  // the directory itself, then its two files
  for (const auto& e : added) CHECK(e["origin"] == "b");

  // A file removed: its directory again.
  fs::remove(fx.origin_dir("a") + "/Old/01.flac");
  REQUIRE(wait_until([&] { return runs(log).size() == 2; }, 15s));
  CHECK(runs(log)[1] == std::vector<std::string>{"/Old"});
  REQUIRE(wait_until([&] { return !fx.events("path_removed").empty(); }));
  CHECK(fx.events("path_removed").front()["path"] == "/Old/01.flac");
}

TEST_CASE("an origin added to a running mount is reported and the mount's first index is not") {
  TempDir scratch;
  const std::string log = scratch / "runs.log";
  Fixture fx({{"a", 1}}, exec_notify_toml(logging_script(scratch, log, false), 100));
  write_file(fx.origin_dir("a") + "/Known/01.flac", "known");
  fx.mount();
  REQUIRE(wait_until([&] { return path_exists(fx.in_mount("Known/01.flac")); }));

  const std::string later = fx.dir() / "later";
  write_file(later + "/Arrived/01.flac", "new");
  auto add = fx.daemon().ctl({"origins", "add", "later", "--type", "local", "--priority", "2", "--path", later});
  INFO("origins add: " << add.err << "\ndaemon log:\n" << fx.daemon().log());
  REQUIRE(add.exit_code == 0);
  REQUIRE(wait_until([&] { return !runs(log).empty(); }, 15s));
  // Only what the new origin brought: the mount's own first listing told nobody.
  CHECK(runs(log) == std::vector<std::vector<std::string>>{{"/Arrived"}});
  for (const auto& e : fx.events("path_added")) CHECK(e["origin"] == "later");
}

TEST_CASE("a failing exec notifier is a notify_failed event and the next change is still delivered") {
  TempDir scratch;
  const std::string log = scratch / "runs.log";
  Fixture fx({{"a", 1}}, exec_notify_toml(logging_script(scratch, log, true), 100));
  fx.mount();
  REQUIRE(wait_first_listing(fx, "a"));

  move_album_in(fx.dir(), fx.origin_dir("a"), "First", {"01.flac"});
  const bool failed = wait_until([&] { return !fx.events("notify_failed").empty(); }, 15s);
  INFO("daemon log:\n" << fx.daemon().log());
  REQUIRE(failed);
  const std::string why = fx.events("notify_failed").front()["message"];
  CHECK(why.find("exit status 3") != std::string::npos);
  CHECK(why.find("trying again") != std::string::npos);
  // Retried: the failed batch arrives once the command works again.
  REQUIRE(wait_until([&] { return runs(log).size() == 1; }, 15s));
  CHECK(runs(log)[0] == std::vector<std::string>{"/First"});

  move_album_in(fx.dir(), fx.origin_dir("a"), "Second", {"01.flac"});
  REQUIRE(wait_until([&] { return runs(log).size() == 2; }, 15s));
  CHECK(runs(log)[1] == std::vector<std::string>{"/Second"});
  CHECK(fx.daemon().running());
}

TEST_CASE("500 files copied into one album are one exec run") {
  TempDir scratch;
  const std::string log = scratch / "runs.log";
  Fixture fx({{"a", 1}}, exec_notify_toml(logging_script(scratch, log, false), 2000));
  mkdirs(fx.origin_dir("a") + "/Big");
  write_file(fx.origin_dir("a") + "/Big/00 existing.flac", "x");
  fx.mount();
  REQUIRE(wait_until([&] { return path_exists(fx.in_mount("Big/00 existing.flac")); }));
  REQUIRE(wait_first_listing(fx, "a"));

  // One file at a time into a directory the origin already has, as cp does.
  for (int i = 1; i <= 500; ++i) write_file(fx.origin_dir("a") + "/Big/" + std::to_string(i) + ".flac", "track");
  const bool all = wait_until([&] { return total_count(fx.events("path_added"), "/Big") >= 500; }, 30s);
  INFO("daemon log:\n" << fx.daemon().log());
  REQUIRE(all);
  REQUIRE(wait_until([&] { return !fx.events("notify_sent").empty(); }, 15s));
  CHECK(runs(log).size() == 1);
  CHECK(runs(log).front() == std::vector<std::string>{"/Big"});
  // Coalesced: a handful of events for the 500 files, not one each.
  CHECK(fx.events("path_added").size() < 20);
}

TEST_CASE("mpd notifier makes a track added on origin 2 into a new album appear in MPD without mpc update") {
  for (const char* tool : {"sox", "metaflac"}) {
    if (run_program({"sh", "-c", std::string("command -v ") + tool}).exit_code != 0) {
      skip_test(std::string(tool) + " is not installed (scripts/install-deps.sh installs sox and flac)");
    }
  }
  // The fixture picks the mount point, MPD's library; the notifier's config needs
  // MPD's port: so the fixture, then MPD (on the still empty mount point), then the
  // config. MPD is declared last, so it goes before the unmount.
  auto fx = std::make_unique<Fixture>(std::vector<OriginSpec>{{"a", 1}, {"b", 2}});
  auto mpd = std::make_unique<MpdServer>(fx->mount_point());
  // MPD scans an empty library when it starts without a database; wait for that scan
  // to end before mounting, so that nothing but the notifier can make it look again.
  REQUIRE(mpd->mpc({"update", "--wait"}).exit_code == 0);
  write_file(fx->origin_dir("a") + "/Old/Album/01.flac", "not audio; MPD skips it");
  fx->write_config(fx->default_config() + "[[notify]]\ntype = \"mpd\"\nhost = \"127.0.0.1\"\nport = " +
                   std::to_string(mpd->port()) + "\ndebounce_ms = 200\n");
  fx->mount();

  // A real FLAC with tags, made outside the origin and moved in whole.
  const std::string staging = fx->dir() / "staging/Fresh Album";
  mkdirs(staging);
  const std::string track = staging + "/01 New.flac";
  REQUIRE(run_program({"sox", "-n", "-r", "44100", "-c", "2", "-b", "16", track, "synth", "1", "sine", "440"}).exit_code == 0);
  REQUIRE(run_program({"metaflac", "--set-tag=ARTIST=Tester", "--set-tag=ALBUM=Fresh Album", "--set-tag=TITLE=New",
                       track})
              .exit_code == 0);
  fs::rename(staging, fx->origin_dir("b") + "/Fresh Album");

  std::string listed;
  const bool seen = wait_until(
      [&] {
        listed = mpd->mpc({"listall"}, 5s).out;
        return listed.find("Fresh Album/01 New.flac") != std::string::npos;
      },
      15s);
  INFO("mpc listall:\n" << listed << "\ndaemon log:\n" << fx->daemon().log() << "\nmpd log:\n" << mpd->log());
  CHECK(seen);
  CHECK(!fx->events("notify_sent").empty());
  mpd.reset();  // MPD goes before the unmount
}

namespace {
int64_t mtime_of(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return st.st_mtim.tv_sec;
}

void set_mtime(const std::string& path, int64_t secs) {
  REQUIRE(run_program({"touch", "-m", "-d", "@" + std::to_string(secs), path}).exit_code == 0);
}

std::string origin_state(const Fixture& fx, const std::string& id) {
  auto o = fx.origin_status(id);
  return o.is_object() ? o.value("status", std::string()) : std::string();
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t i = text.find(what); i != std::string::npos; i = text.find(what, i + 1)) ++n;
  return n;
}
}  // namespace

TEST_CASE("a merged directory has the newest mtime of its origins and moves when a file below it changes") {
  Fixture fx({{"a", 1}, {"b", 2}});
  write_file(fx.origin_dir("a") + "/Shared/1.flac", "one");
  write_file(fx.origin_dir("b") + "/Shared/2.flac", "two");
  set_mtime(fx.origin_dir("a") + "/Shared/1.flac", 900'000'000);
  set_mtime(fx.origin_dir("b") + "/Shared/2.flac", 900'000'000);
  set_mtime(fx.origin_dir("a") + "/Shared", 1'000'000'000);
  set_mtime(fx.origin_dir("b") + "/Shared", 1'600'000'000);
  fx.mount();
  REQUIRE(wait_until([&] { return path_exists(fx.in_mount("Shared/2.flac")); }));
  // Origin a serves the directory (priority 1), but b's copy changed last.
  CHECK(mtime_of(fx.in_mount("Shared")) == 1'600'000'000);

  write_file(fx.origin_dir("a") + "/Shared/3.flac", "three");
  const int64_t now_at_a = mtime_of(fx.origin_dir("a") + "/Shared");
  REQUIRE(now_at_a > 1'600'000'000);
  CHECK(wait_until([&] { return mtime_of(fx.in_mount("Shared")) == now_at_a; }, 10s));

  // A re-tag moves the file's mtime, not its folder's: the merged folder moves too.
  const int64_t retagged = now_at_a + 1000;
  set_mtime(fx.origin_dir("b") + "/Shared/2.flac", retagged);
  CHECK(wait_until([&] { return mtime_of(fx.in_mount("Shared")) == retagged; }, 10s));
  CHECK(wait_until([&] {
    for (const auto& e : fx.events("path_changed")) {
      if (e["path"] == "/Shared/2.flac" && e["origin"] == "b") return true;
    }
    return false;
  }));
}

TEST_CASE("an origin going offline and coming back unchanged raises no path events") {
  require_root();  // a tmpfs to pull away
  Fixture fx({{"a", 1}, {"b", 2}}, "[health]\ncheck_interval_secs = 1\nhealthy_threshold = 1\n");
  TmpfsMount tmp(fx.origin_dir("a"));
  write_file(fx.origin_dir("a") + "/Album/01.flac", "one");
  write_file(fx.origin_dir("a") + "/Album/02.flac", "two");
  write_file(fx.origin_dir("b") + "/Other/01.flac", "other");
  fx.mount();
  REQUIRE(wait_until([&] { return origin_state(fx, "a") == "healthy" && origin_state(fx, "b") == "healthy"; }, 15s));
  REQUIRE(wait_until([&] { return occurrences(fx.daemon().log(), "origin a: listed") >= 1; }, 15s));
  // The same tree, mtimes and all, to bring back later in one step (a bind mount).
  const std::string copy = fx.dir() / "copy-of-a";
  REQUIRE(run_program({"cp", "-a", fx.origin_dir("a"), copy}).exit_code == 0);

  tmp.unmount_lazy();
  REQUIRE(wait_until([&] { return origin_state(fx, "a") == "unhealthy"; }, 15s));
  CHECK(path_exists(fx.in_mount("Album/01.flac")));  // the tree did not shrink

  REQUIRE(run_program({"mount", "--bind", copy, fx.origin_dir("a")}).exit_code == 0);
  const bool back = wait_until([&] { return origin_state(fx, "a") == "healthy"; }, 15s);
  INFO("daemon log:\n" << fx.daemon().log());
  REQUIRE(back);
  // Listed again on its return: the second listing found nothing to change.
  REQUIRE(wait_until([&] { return occurrences(fx.daemon().log(), "origin a: listed") >= 2; }, 15s));
  CHECK(fx.events("path_added").empty());
  CHECK(fx.events("path_changed").empty());
  CHECK(fx.events("path_removed").empty());
  CHECK(!fx.events("origin_unhealthy").empty());
}

TEST_CASE("mpd notifier over a Unix socket with a password_file updates MPD and never shows the password") {
  for (const char* tool : {"sox", "metaflac"}) {
    if (run_program({"sh", "-c", std::string("command -v ") + tool}).exit_code != 0) {
      skip_test(std::string(tool) + " is not installed (scripts/install-deps.sh installs sox and flac)");
    }
  }
  const std::string secret = "Sekrit-of-the-mpd-notifier";
  Fixture fx({{"a", 1}, {"b", 2}});
  MpdServer::Options o;
  o.password = secret;
  o.socket_path = fx.dir() / "mpd.sock";
  const std::string pw_file = fx.dir() / "mpd.password";
  write_file(pw_file, secret + "\n");
  REQUIRE(::chmod(pw_file.c_str(), 0600) == 0);
  write_file(fx.origin_dir("a") + "/Library/Old/readme.txt", "not music");
  write_file(fx.origin_dir("a") + "/Elsewhere/readme.txt", "outside MPD's library");
  mkdirs(fx.origin_dir("b") + "/Library");
  fx.write_config(fx.default_config() + "[[notify]]\ntype = \"mpd\"\nsocket = \"" + o.socket_path +
                  "\"\npassword_file = \"" + pw_file + "\"\nmusic_root = \"/Library\"\ndebounce_ms = 200\n" +
                  // The same MPD without the password: refused, for update needs it.
                  "[[notify]]\ntype = \"mpd\"\nsocket = \"" + o.socket_path + "\"\nmusic_root = \"/Library\"\n" +
                  "debounce_ms = 200\n");
  fx.mount();
  REQUIRE(wait_until([&] { return path_exists(fx.in_mount("Library/Old/readme.txt")); }));
  // MPD's library is the mount's /Library; its first scan ends before the change.
  MpdServer mpd(fx.in_mount("Library"), o);
  REQUIRE(mpd.mpc({"update", "--wait"}).exit_code == 0);

  // A name that MPD's quoting must carry: a double quote and a backslash.
  const std::string album = "Fresh \"Quoted\" \\ Album";
  const std::string staging = fx.dir() / ("staging/" + album);
  mkdirs(staging);
  const std::string track = staging + "/01 New.flac";
  REQUIRE(run_program({"sox", "-n", "-r", "44100", "-c", "2", "-b", "16", track, "synth", "1", "sine", "440"}).exit_code == 0);
  REQUIRE(run_program({"metaflac", "--set-tag=TITLE=New", track}).exit_code == 0);
  fs::rename(staging, fx.origin_dir("b") + "/Library/" + album);

  std::string listed;
  const bool seen = wait_until(
      [&] {
        listed = mpd.mpc({"listall"}, 5s).out;
        return listed.find(album + "/01 New.flac") != std::string::npos;
      },
      15s);
  INFO("mpc listall:\n" << listed << "\ndaemon log:\n" << fx.daemon().log() << "\nmpd log:\n" << mpd.log());
  CHECK(seen);
  REQUIRE(!fx.events("notify_sent").empty());
  REQUIRE(wait_until([&] { return !fx.events("notify_failed").empty(); }));
  const std::string refused = fx.events("notify_failed").front()["message"];
  CHECK_THAT(refused, Catch::Contains("notify[1] mpd") && Catch::Contains("permission"));

  // The password went to MPD only: not to the log, the events, status or config check.
  CHECK(fx.daemon().log().find(secret) == std::string::npos);
  CHECK(fx.daemon().ctl({"events", "--json"}).out.find(secret) == std::string::npos);
  CHECK(fx.daemon().ctl({"status", "--json"}).out.find(secret) == std::string::npos);
  CHECK(fx.daemon().ctl({"config", "check", fx.config_path()}).out.find(secret) == std::string::npos);
}

TEST_CASE("events --follow --json streams a coalesced path_added event with its count and names") {
  Fixture fx({{"a", 1}});
  fx.mount();
  StreamingProcess follow(
      {MUSICFSCTL_PATH, "--socket", fx.daemon().socket(), "--json", "events", "--follow", "--kind", "path_added"});
  // An event recorded before the follower attached is in the backlog it prints first,
  // so there is no race with its start. A file written before the first listing ends
  // would be part of the mount's first index, which is no change.
  REQUIRE(wait_until([&] { return fx.daemon().log().find("origin a: listed") != std::string::npos; }, 15s));
  write_file(fx.origin_dir("a") + "/first.flac", "x");
  auto first = follow.read_line(15s);
  INFO("follow stderr: " << follow.err() << "\ndaemon log:\n" << fx.daemon().log());
  REQUIRE(first);
  CHECK(nlohmann::json::parse(*first)["path"] == "/first.flac");

  move_album_in(fx.dir(), fx.origin_dir("a"), "Album", {"01.flac", "02.flac", "03.flac"});
  std::optional<nlohmann::json> burst;
  while (!burst) {
    auto line = follow.read_line(15s);
    REQUIRE(line);
    auto e = nlohmann::json::parse(*line);
    if (e["path"] == "/Album" && e.value("count", 0) == 3) burst = e;
  }
  CHECK((*burst)["kind"] == "path_added");
  CHECK((*burst)["origin"] == "a");
  auto names = (*burst)["names"].get<std::vector<std::string>>();
  std::sort(names.begin(), names.end());  // in the order the origin listed them
  CHECK(names == std::vector<std::string>{"01.flac", "02.flac", "03.flac"});
}

namespace {
// A one-second FLAC with the given tags, made beside the origins.
void make_flac(const std::string& path, const std::vector<std::string>& tags) {
  mkdirs(fs::path(path).parent_path());
  REQUIRE(run_program({"sox", "-n", "-r", "44100", "-c", "2", "-b", "16", path, "synth", "1", "sine", "440"}).exit_code ==
          0);
  std::vector<std::string> args{"metaflac"};
  for (const auto& t : tags) args.push_back("--set-tag=" + t);
  args.push_back(path);
  REQUIRE(run_program(args).exit_code == 0);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty()) out.push_back(l);
  }
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

TEST_CASE("mpd notifier: a track added to a shared folder and a re-tag reach MPD and an origin going offline purges nothing") {
  require_root();  // origin a is a tmpfs, to pull away at the end
  for (const char* tool : {"sox", "metaflac"}) {
    if (run_program({"sh", "-c", std::string("command -v ") + tool}).exit_code != 0) {
      skip_test(std::string(tool) + " is not installed (scripts/install-deps.sh installs sox and flac)");
    }
  }
  TempDir scratch;
  MpdServer::Options o;
  o.socket_path = scratch / "mpd.sock";
  Fixture fx({{"a", 1}, {"b", 2}}, "[health]\ncheck_interval_secs = 1\nhealthy_threshold = 1\n\n[[notify]]\n"
                                   "type = \"mpd\"\nsocket = \"" + o.socket_path + "\"\ndebounce_ms = 200\n");
  TmpfsMount tmp(fx.origin_dir("a"));
  // "Shared" is a folder both origins hold; the other two are on one origin each.
  make_flac(fx.origin_dir("a") + "/Shared/01 One.flac", {"TITLE=One", "ALBUM=Shared"});
  make_flac(fx.origin_dir("b") + "/Shared/02 Two.flac", {"TITLE=Two", "ALBUM=Shared"});
  make_flac(fx.origin_dir("a") + "/Only A/01.flac", {"TITLE=Only on a"});
  make_flac(fx.origin_dir("b") + "/Only B/01.flac", {"TITLE=Only on b"});
  // MPD re-reads a file's tags only when its mtime in whole seconds moved: an edit in
  // the second of its first scan would go unseen by MPD itself, whatever we tell it.
  set_mtime(fx.origin_dir("a") + "/Shared/01 One.flac", ::time(nullptr) - 120);
  fx.mount();
  REQUIRE(wait_until([&] { return path_exists(fx.in_mount("Only B/01.flac")); }));
  MpdServer mpd(fx.mount_point(), o);
  REQUIRE(mpd.mpc({"update", "--wait"}).exit_code == 0);
  REQUIRE(lines_of(mpd.mpc({"listall"}).out).size() == 4);
  auto listed = [&] { return mpd.mpc({"listall"}, 5s).out; };
  INFO("daemon log:\n" << fx.daemon().log() << "\nmpd log:\n" << mpd.log());

  // A track added on origin 2 to the folder origin 1 serves.
  make_flac(scratch / "staging/03 Added.flac", {"TITLE=Added", "ALBUM=Shared"});
  fs::rename(scratch / "staging/03 Added.flac", fx.origin_dir("b") + "/Shared/03 Added.flac");
  CHECK(wait_until([&] { return listed().find("Shared/03 Added.flac") != std::string::npos; }, 15s));

  // A tag edited in place on origin 1: MPD reads the new title through the mount.
  REQUIRE(run_program({"metaflac", "--remove-tag=TITLE", "--set-tag=TITLE=Edited on a",
                       fx.origin_dir("a") + "/Shared/01 One.flac"})
              .exit_code == 0);
  CHECK(wait_until(
      [&] { return mpd.mpc({"find", "title", "Edited on a"}, 5s).out.find("Shared/01 One.flac") != std::string::npos; },
      15s));

  // Origin 1 goes offline. Its files stay in the tree, so neither the notifier nor a
  // full rescan that someone starts makes MPD forget them.
  const auto before = lines_of(listed());
  REQUIRE(before.size() == 5);
  const size_t sent_before = fx.events("notify_sent").size();
  // metaflac may have rewritten the file through a temporary beside it: its removal
  // is a real path event, from before the origin went away.
  const size_t removed_before = fx.events("path_removed").size();
  tmp.unmount_lazy();
  REQUIRE(wait_until([&] { return origin_state(fx, "a") == "unhealthy"; }, 15s));
  REQUIRE(mpd.mpc({"update", "--wait"}).exit_code == 0);
  const auto until = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < until) {
    const auto now = lines_of(listed());
    REQUIRE(now == before);
    std::this_thread::sleep_for(500ms);  // sampling a state that must hold, not waiting for one
  }
  CHECK(fx.events("notify_sent").size() == sent_before);
  const auto removed = fx.events("path_removed");
  INFO("path_removed events: " << nlohmann::json(removed).dump());
  CHECK(removed.size() == removed_before);
}

namespace {
// A DNS server that takes every query and never answers: a UDP socket on port 53 of
// a loopback address of its own (any of 127/8 can be bound), never read.
class SilentDnsServer {
 public:
  SilentDnsServer() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(53);
    // 127.77.x.y from our pid, so that parallel runs do not collide.
    const auto pid = static_cast<uint32_t>(::getpid());
    address_ = "127.77." + std::to_string((pid >> 8) % 250 + 1) + "." + std::to_string(pid % 250 + 1);
    REQUIRE(::inet_pton(AF_INET, address_.c_str(), &a.sin_addr) == 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~SilentDnsServer() { ::close(fd_); }
  const std::string& address() const { return address_; }

 private:
  int fd_ = -1;
  std::string address_;
};

// A process killed (and reaped) when the test ends, however it ends.
struct ChildGuard {
  pid_t pid = -1;
  ~ChildGuard() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};
}  // namespace

TEST_CASE("mpd notifier whose host name gets no DNS answer fails within timeout_ms and the daemon stops promptly") {
  require_root();  // a mount namespace of the daemon's own, whose /etc/resolv.conf is ours
  if (run_program({"sh", "-c", "command -v unshare"}).exit_code != 0) skip_test("unshare is not installed");
  SilentDnsServer dns;
  TempDir dir;
  write_file(dir / "resolv.conf", "nameserver " + dns.address() + "\noptions timeout:30 attempts:1\n");
  mkdirs(dir / "mnt");
  mkdirs(dir / "origin");
  const std::string notifier = "[[notify]]\ntype = \"mpd\"\nhost = \"mpd.music.example\"\ndebounce_ms = 100\n";
  write_file(dir / "music.toml", "mount_point = \"" + (dir / "mnt") + "\"\ncache_dir = \"" + (dir / "cache") +
                                     "\"\n\n[[origins]]\nid = \"a\"\norigin_type = \"local\"\npriority = 1\npath = \"" +
                                     (dir / "origin") + "\"\n\n" + notifier + "timeout_ms = 500\n\n" + notifier +
                                     "timeout_ms = 600000\n");
  const std::string socket = dir / "ctl.sock";
  // The daemon in a mount namespace that sees the silent server as its resolver (and
  // whose FUSE mount the test does not see: it watches the events instead).
  const std::string script = "mount --bind \"$0\" /etc/resolv.conf && exec \"$@\"";
  std::vector<std::string> args{"unshare", "--mount", "--propagation", "slave", "sh", "-c", script,
                                dir / "resolv.conf", MUSICFSCTL_PATH, "--socket", socket, "daemon", "--state-dir",
                                dir / "state"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log_path = dir / "daemon.log";
  ChildGuard daemon;
  daemon.pid = ::fork();
  REQUIRE(daemon.pid >= 0);
  if (daemon.pid == 0) {  // only async-signal-safe calls until exec
    const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  auto log = [&] { return path_exists(log_path) ? read_file(log_path) : std::string(); };
  auto ctl = [&](std::vector<std::string> args, std::chrono::milliseconds timeout = 30s) {
    args.insert(args.begin(), {"--socket", socket});
    return run_ctl(args, timeout);
  };
  const bool up = wait_until([&] { return ctl({"status"}, 5s).exit_code == 0; }, 20s);
  INFO("daemon log:\n" << log());
  REQUIRE(up);
  auto mounted = ctl({"mount", "-c", dir / "music.toml"});
  INFO("mount: " << mounted.err);
  REQUIRE(mounted.exit_code == 0);

  // After the first listing: a file it finds is no change to report.
  REQUIRE(wait_until([&] { return log().find("origin a: listed") != std::string::npos; }, 15s));
  write_file(dir / "origin/Album/01.flac", "x");
  std::string failed;
  const bool seen = wait_until(
      [&] {
        failed = ctl({"events", "--kind", "notify_failed"}).out;
        return !failed.empty();
      },
      15s);
  INFO("daemon log:\n" << log());
  REQUIRE(seen);
  CHECK_THAT(failed, Catch::Contains("notify[0] mpd") && Catch::Contains("cannot resolve mpd.music.example: no answer within"));

  // notify[1] waits up to ten minutes for the same answer; stopping does not wait for it.
  const auto asked = std::chrono::steady_clock::now();
  auto stop = ctl({"daemon", "stop"}, 60s);
  CHECK(stop.exit_code == 0);
  int status = 0;
  bool ended = wait_until([&] { return ::waitpid(daemon.pid, &status, WNOHANG) == daemon.pid; }, 60s);
  REQUIRE(ended);
  daemon.pid = -1;
  const auto took = std::chrono::steady_clock::now() - asked;
  // The resolver would have held a plain getaddrinfo for 30 s.
  CHECK(took < 10s);
}
