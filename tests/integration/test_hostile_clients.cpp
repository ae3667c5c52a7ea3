// Hostile and broken peers on the control socket (issue 14): clients that nest too
// deep, say nothing, hold streams or exhaust descriptors must not stop the daemon
// from answering; and the client must neither hang nor abort on a daemon that never
// answers, answers garbage, or sits in a directory others can write to. Also: file
// names that are not UTF-8, and descriptors a detached daemon must not inherit.
#include <dirent.h>
#include <sys/resource.h>
#include <csignal>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <memory>
#include <sstream>

#include "support/socket_peers.h"
#include "support/test_env.h"

using namespace musicfs::test;
using namespace std::chrono_literals;
using Catch::Contains;

namespace {
using Clock = std::chrono::steady_clock;

size_t count_lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

// The error code of a reply line, or "" when the line is not an error reply.
std::string error_code_of(const std::optional<std::string>& line) {
  if (!line) return "";
  auto j = nlohmann::json::parse(*line, nullptr, false);
  if (!j.is_object() || j.value("ok", true) || !j.contains("error") || !j["error"].is_object()) return "";
  return j["error"].value("code", "");
}

std::string request(const std::string& cmd, const nlohmann::json& args = nlohmann::json::object()) {
  return nlohmann::json({{"v", 1}, {"cmd", cmd}, {"args", args}}).dump() + "\n";
}

// CPU seconds (user + system) the process has used, from /proc/PID/stat.
double cpu_seconds(int pid) {
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  // Fields after the command name, which is in parentheses and may hold spaces.
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::vector<std::string> f;
  for (std::string w; rest >> w;) f.push_back(w);
  // utime and stime are fields 14 and 15 of stat(5): 12 and 13 after the name.
  return static_cast<double>(std::stoll(f.at(11)) + std::stoll(f.at(12))) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

size_t open_fd_count(int pid) {
  size_t n = 0;
  DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (d == nullptr) return 0;
  while (auto* e = ::readdir(d)) n += e->d_name[0] != '.' ? 1 : 0;
  ::closedir(d);
  return n;
}

// What each of a process's descriptors points at ("pipe:[123]", "/dev/null", ...).
std::vector<std::string> fd_targets(int pid) {
  std::vector<std::string> out;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (auto* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    char buf[4096];
    ssize_t n = ::readlink((dir + "/" + e->d_name).c_str(), buf, sizeof buf - 1);
    if (n > 0) out.emplace_back(buf, static_cast<size_t>(n));
  }
  ::closedir(d);
  return out;
}
}  // namespace

TEST_CASE("a request nested 130 000 levels deep gets a protocol error and the daemon goes on", "[hostile][control]") {
  TempDir dir;
  Daemon d(dir);
  std::string deep = R"({"v":1,"cmd":"ping","args":{"x":)" + std::string(130000, '[') + std::string(130000, ']') + "}}\n";
  RawSocketClient c(d.socket());
  REQUIRE(c.send(deep));
  auto line = c.read_line(10s);
  INFO("reply: " << line.value_or("(none)"));
  CHECK(error_code_of(line) == "protocol");
  CHECK_THAT(*line, Contains("deeper than"));
  // The same connection still serves, and so does a new client.
  REQUIRE(c.send(request("ping")));
  auto pong = c.read_line(10s);
  REQUIRE(pong);
  CHECK(nlohmann::json::parse(*pong)["ok"] == true);
  CHECK(d.running());
  CHECK(d.ctl({"status"}).exit_code == 0);
}

TEST_CASE("150 silent or half-sent clients do not lock a real client out", "[hostile][control]") {
  TempDir dir;
  Daemon d(dir);
  std::vector<std::unique_ptr<RawSocketClient>> silent;
  for (int i = 0; i < 150; ++i) {
    silent.push_back(std::make_unique<RawSocketClient>(d.socket()));
    if (i % 2 == 1) REQUIRE(silent.back()->send(R"({"v":1,"cmd":"sta)"));
  }
  auto started = Clock::now();
  auto r = d.ctl({"status"}, 20s);
  auto took = Clock::now() - started;
  INFO("exit " << r.exit_code << "\nstderr: " << r.err);
  CHECK(r.exit_code == 0);
  CHECK(took < 5s);
  // Beyond the waiting limit the daemon made room by closing the oldest, and told them.
  size_t busy = 0;
  for (int i = 0; i < 30; ++i) busy += error_code_of(silent[i]->read_line(100ms)) == "busy" ? 1 : 0;
  CHECK(busy > 0);
}

TEST_CASE("a silent connection and a half request are closed with a timeout error", "[hostile][control]") {
  TempDir dir;
  Daemon d(dir);
  RawSocketClient quiet(d.socket());
  RawSocketClient half(d.socket());
  REQUIRE(half.send(R"({"v":1,"cmd":"status","ar)"));
  auto started = Clock::now();
  // The promise: no complete request within 10 s of connecting means a timeout.
  auto q = quiet.read_line(20s);
  auto h = half.read_line(20s);
  INFO("quiet: " << q.value_or("(none)") << "\nhalf: " << h.value_or("(none)"));
  CHECK(error_code_of(q) == "timeout");
  CHECK(error_code_of(h) == "timeout");
  CHECK(Clock::now() - started < 15s);
  CHECK(quiet.closed_by_peer(5s));
  CHECK(half.closed_by_peer(5s));
  CHECK(d.ctl({"status"}).exit_code == 0);
}

TEST_CASE("64 events --follow streams leave room for commands and the stream beyond the limit is told busy",
          "[hostile][control]") {
  TempDir dir;
  Daemon d(dir);
  std::vector<std::unique_ptr<RawSocketClient>> streams;
  for (int i = 0; i < 64; ++i) {
    streams.push_back(std::make_unique<RawSocketClient>(d.socket()));
    REQUIRE(streams.back()->send(request("events", {{"follow", true}})));
  }
  // 32 streams at once (musicfsctl(1), Protocol): the other 32 are told busy at once,
  // while the streams let in write nothing yet (or events, or keepalives).
  std::vector<bool> refused(streams.size(), false);
  auto count_refused = [&] {
    for (size_t i = 0; i < streams.size(); ++i) {
      while (!refused[i]) {
        auto line = streams[i]->read_line(1ms);
        if (!line) break;
        refused[i] = error_code_of(line) == "busy";
      }
    }
    return static_cast<size_t>(std::count(refused.begin(), refused.end(), true));
  };
  CHECK(wait_until([&] { return count_refused() >= 32; }, 10s));
  CHECK(count_refused() == 32);
  auto r = d.ctl({"status"}, 20s);
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 0);
  // A real client beyond the limit: exit 1 and one clear line.
  auto follow = d.ctl({"events", "--follow"}, 20s);
  INFO("events --follow: exit " << follow.exit_code << "\nstderr: " << follow.err);
  CHECK(follow.exit_code == 1);
  CHECK_THAT(follow.err, Contains("busy"));
  CHECK(count_lines(follow.err) == 1);
}

TEST_CASE("out of descriptors the daemon refuses clients without spinning and recovers", "[hostile][control]") {
  TempDir dir;
  Daemon d(dir);
  // Lower the running daemon's limit to just above what it holds now.
  const size_t in_use = open_fd_count(d.pid());
  REQUIRE(in_use > 0);
  struct rlimit low {};
  low.rlim_cur = low.rlim_max = in_use + 8;
  REQUIRE(::prlimit(d.pid(), RLIMIT_NOFILE, &low, nullptr) == 0);

  std::vector<std::unique_ptr<RawSocketClient>> clients;
  for (int i = 0; i < 40; ++i) clients.push_back(std::make_unique<RawSocketClient>(d.socket()));
  // Some are told that the daemon is out of descriptors, rather than left hanging.
  bool told_busy = wait_until([&] {
    for (auto& c : clients) {
      if (error_code_of(c->read_line(1ms)) == "busy") return true;
    }
    return false;
  }, 5s);
  CHECK(told_busy);

  // The measurement window: accept() keeps failing; a spinning loop would burn ~2 s.
  const double before = cpu_seconds(d.pid());
  const auto window_end = Clock::now() + 2s;
  wait_until([&] { return Clock::now() >= window_end; }, 3s);
  const double used = cpu_seconds(d.pid()) - before;
  INFO("daemon CPU over 2 s: " << used << " s");
  CHECK(used < 0.5);

  // Still under the low limit: once the connections close, it serves again.
  clients.clear();
  CHECK(wait_until([&] { return d.ctl({"status"}, 5s).exit_code == 0; }, 15s));
  // Said once, not once per failed accept.
  const std::string log = d.log();
  size_t said = 0;
  for (size_t at = log.find("cannot accept a connection"); at != std::string::npos;
       at = log.find("cannot accept a connection", at + 1)) {
    ++said;
  }
  INFO("daemon log:\n" << log);
  CHECK(said == 1);
}

TEST_CASE("route-explain and cache prefetch work on names that are not UTF-8", "[hostile][paths]") {
  require_fuse();
  Fixture f({{"a", 1, "local", true}});  // cached, so that prefetch has something to do
  const std::string ff = "\xff.flac";
  const std::string cafe = "caf\xe9";
  write_file(f.origin_dir("a") + "/" + ff, std::string(4096, 'x'));
  write_file(f.origin_dir("a") + "/" + cafe + "/01.flac", std::string(8192, 'y'));
  f.mount();

  auto r = f.daemon().ctl({"route-explain", f.in_mount(ff)});
  INFO("route-explain: exit " << r.exit_code << "\nstdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("path:      /" + ff));  // the real bytes, not U+FFFD
  CHECK_THAT(r.out, Contains("selected:  a"));

  auto j = f.daemon().ctl_json({"route-explain", f.in_mount(cafe + "/01.flac")});
  CHECK(j["selected"] == "a");
  // --json shows the path in its byte form (musicfsctl(1), JSON OUTPUT).
  CHECK(j["path"] == nlohmann::json({{"bytes_b64", "L2NhZukvMDEuZmxhYw=="}}));

  auto p = f.daemon().ctl({"cache", "prefetch", f.in_mount(ff), f.in_mount(cafe)});
  INFO("prefetch: exit " << p.exit_code << "\nstdout: " << p.out << "\nstderr: " << p.err);
  CHECK(p.exit_code == 0);
  CHECK_THAT(p.out, Contains("prefetched /" + ff));
  CHECK_THAT(p.out, Contains("prefetched /" + cafe + " in"));
  CHECK(f.daemon().running());
  CHECK(f.daemon().ctl({"status"}).exit_code == 0);
}

TEST_CASE("the client gives up on a daemon that never answers: exit 3 after --timeout", "[hostile][client]") {
  TempDir dir;
  const std::string sock = dir / "musicfsd.sock";
  FakeDaemon mute(sock, std::nullopt, /*answer_ping=*/false);
  for (const auto& [args, env] :
       std::vector<std::pair<std::vector<std::string>, std::map<std::string, std::string>>>{
           {{"--socket", sock, "status", "--timeout", "1"}, {}},
           {{"--socket", sock, "status"}, {{"MUSICFS_TIMEOUT", "1"}}},
           {{"--socket", sock, "--timeout", "1", "events", "--follow"}, {}}}) {
    auto started = Clock::now();
    auto r = run_ctl(args, 20s, env);
    auto took = Clock::now() - started;
    std::string shown;
    for (const auto& a : args) shown += " " + a;
    INFO("musicfsctl" << shown << ": exit " << r.exit_code << "\nstderr: " << r.err);
    CHECK(r.exit_code == 3);
    CHECK(took < 4s);
    CHECK(count_lines(r.err) == 1);
    CHECK_THAT(r.err, Contains("did not answer within 1 s"));
  }
}

TEST_CASE("the client never aborts on a malformed reply", "[hostile][client]") {
  TempDir dir;
  const std::string sock = dir / "musicfsd.sock";
  // A config `mount` accepts (it checks the file before asking the daemon): the mount
  // point exists, and the reply is all that is wrong.
  mkdirs(dir / "mnt");
  write_file(dir / "musicfs.toml", "mount_point = \"" + (dir / "mnt") + "\"\n");
  const std::vector<std::vector<std::string>> commands = {
      {"status"},          {"events"},        {"events", "--follow"}, {"route-explain", "/x"}, {"health"},
      {"origins", "list"}, {"cache", "stat"}, {"cache", "prefetch", "/x"}, {"cache", "clear"},
      {"mount", "-c", dir / "musicfs.toml"}, {"daemon", "stop"}, {"unmount", "/nowhere"},
  };
  // Every field a printer reads, with a type it does not expect.
  nlohmann::json wrong = nlohmann::json::object();
  for (const char* k : {"pid", "uptime_secs", "socket", "mounts", "events", "origins", "candidates", "path", "mount",
                        "selected", "rule", "served_from", "checks", "summary", "failed", "files", "bytes", "chunks",
                        "mount_point", "index_ready", "contributors", "cached_bytes", "cache_enabled", "divergent"}) {
    wrong[k] = nlohmann::json::array({nlohmann::json::array({1})});
  }
  nlohmann::json wrong_inside = {{"mounts", {5}}, {"origins", {5}}, {"events", {5}}, {"candidates", {5}},
                                 {"summary", {5}}, {"failed", {5}}, {"contributors", {5}}, {"pid", 1}};
  struct Case {
    std::string name;
    std::string line;
    bool prints_nothing_it_reads;  // a command may not read the result: exit 0 is right then
  };
  const std::vector<Case> cases = {
      {"garbage", "this is not json\n", false},
      {"a JSON array", "[1,2,3]\n", false},
      {"a result that is an array", R"({"ok":true,"result":[1]})" "\n", false},
      {"a byte that is not UTF-8", "{\"ok\":true,\"result\":{\"pid\":\"\xff\"}}\n", false},
      {"nesting 100 000 deep", R"({"ok":true,"result":{"x":)" + std::string(100000, '[') + std::string(100000, ']') + "}}\n", false},
      {"wrong types", nlohmann::json({{"ok", true}, {"result", wrong}}).dump() + "\n", true},
      {"wrong types inside lists", nlohmann::json({{"ok", true}, {"result", wrong_inside}}).dump() + "\n", true},
  };
  for (const auto& c : cases) {
    FakeDaemon fake(sock, c.line);
    for (const auto& cmd : commands) {
      std::vector<std::string> args = {"--socket", sock, "--timeout", "5"};
      args.insert(args.end(), cmd.begin(), cmd.end());
      auto r = run_ctl(args, 20s);
      INFO(c.name << ": musicfsctl " << cmd.front() << (cmd.size() > 1 ? " " + cmd[1] : "") << ": exit "
                  << r.exit_code << "\nstdout: " << r.out << "\nstderr: " << r.err);
      CHECK(r.exit_code < 128);  // not killed by a signal (SIGABRT, SIGSEGV)
      CHECK(r.err.find("[killed after timeout]") == std::string::npos);
      if (r.exit_code != 0 || !c.prints_nothing_it_reads) {
        const int expected = cmd.front() == "health" ? 3 : 1;
        CHECK(r.exit_code == expected);
        CHECK(count_lines(r.err) == 1);
        CHECK_THAT(r.err, Contains("malformed reply"));
      }
    }
  }
}

TEST_CASE("the client refuses a socket in a directory that others can write to", "[hostile][client]") {
  TempDir dir;
  const std::string open_dir = dir / "open";
  mkdirs(open_dir);
  REQUIRE(::chmod(open_dir.c_str(), 0777) == 0);
  FakeDaemon fake(open_dir + "/musicfsd.sock", std::string(R"({"ok":true,"result":{"pid":1,"mounts":[]}})") + "\n");
  auto r = run_ctl({"--socket", open_dir + "/musicfsd.sock", "status"}, 20s);
  INFO("exit " << r.exit_code << "\nstderr: " << r.err);
  CHECK(r.exit_code == 3);
  CHECK(count_lines(r.err) == 1);
  CHECK_THAT(r.err, Contains("0777"));
  CHECK_THAT(r.err, Contains("make it 0700"));
  CHECK(fake.connections() == 0);
  // The same socket in a private directory is trusted.
  REQUIRE(::chmod(open_dir.c_str(), 0700) == 0);
  auto ok = run_ctl({"--socket", open_dir + "/musicfsd.sock", "status"}, 20s);
  INFO("after chmod 0700: exit " << ok.exit_code << "\nstderr: " << ok.err);
  CHECK(ok.exit_code == 0);
}

TEST_CASE("a daemon started by mount holds none of the caller's descriptors", "[hostile][fds]") {
  require_fuse();
  TempDir dir;
  const std::string sock = dir / "run/musicfsd.sock";
  mkdirs(dir / "origin");
  mkdirs(dir / "mnt");
  write_file(dir / "origin/a.flac", "x");
  write_file(dir / "musicfs.toml", "mount_point = \"" + dir / "mnt" + "\"\ncache_dir = \"" + dir / "cache" +
                                       "\"\n\n[[origins]]\nid = \"o\"\norigin_type = \"local\"\npriority = 1\npath = \"" +
                                       dir / "origin" + "\"\n");
  const std::map<std::string, std::string> env = {{"MUSICFS_STATE_DIR", dir / "state"}};
  // Stops the detached daemon whatever happens below.
  struct StopDaemon {
    std::string sock;
    std::map<std::string, std::string> env;
    ~StopDaemon() { run_ctl({"--socket", sock, "daemon", "stop"}, 20s, env); }
  } stop{sock, env};

  // fd 3 of musicfsctl is the pipe to `cat`: cat ends only when every holder closes it.
  const std::string script = "{ readlink /proc/$BASHPID/fd/1 > '" + dir / "pipe-id" + "'; '" MUSICFSCTL_PATH +
                             std::string("' --socket '") + sock + "' mount -c '" + dir / "musicfs.toml" +
                             "' 3>&1 >/dev/null; } | cat";
  auto started = Clock::now();
  auto r = run_program({"bash", "-c", script}, 30s, env);
  auto took = Clock::now() - started;
  INFO("exit " << r.exit_code << "\nstderr: " << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("[killed after timeout]") == std::string::npos);
  CHECK(took < 15s);

  auto status = run_ctl({"--socket", sock, "--json", "status"}, 20s, env);
  REQUIRE(status.exit_code == 0);
  const int pid = nlohmann::json::parse(status.out).at("pid").get<int>();
  std::string pipe_id = read_file(dir / "pipe-id");
  while (!pipe_id.empty() && pipe_id.back() == '\n') pipe_id.pop_back();
  REQUIRE(pipe_id.rfind("pipe:", 0) == 0);
  auto targets = fd_targets(pid);
  REQUIRE_FALSE(targets.empty());
  for (const auto& t : targets) {
    INFO("daemon fd -> " << t);
    CHECK(t != pipe_id);
  }
}

TEST_CASE("a quiet events --follow outlives a short --timeout: the daemon sends keepalives", "[hostile][client]") {
  TempDir dir;
  Daemon d(dir);
  StreamingProcess follow({MUSICFSCTL_PATH, "--socket", d.socket(), "--timeout", "1", "events", "--follow"});
  // Three timeouts with no event: a client without keepalives would have exited.
  CHECK_FALSE(wait_until([&] { return !follow.running(); }, 3500ms));
  INFO("stderr: " << follow.err());
  CHECK(follow.running());
  follow.kill_and_wait(SIGTERM);
}
