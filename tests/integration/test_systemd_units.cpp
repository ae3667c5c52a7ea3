// The systemd units in dist/systemd/ pass `systemd-analyze verify`, as configured by
// the build with this build's musicfsctl, and say what the daemon needs of them.
#include <catch2/catch.hpp>
#include <regex>

#include "support/test_env.h"

using namespace musicfs::test;
using namespace std::chrono_literals;

namespace {
const std::string kSourceDir = MUSICFS_SOURCE_DIR;

// A unit template from dist/systemd with @CMAKE_INSTALL_FULL_BINDIR@ pointing at the
// directory of the musicfsctl under test (verify checks that ExecStart= exists).
std::string configured(const std::string& template_name) {
  std::string text = read_file(kSourceDir + "/dist/systemd/" + template_name + ".in");
  std::string bindir = MUSICFSCTL_PATH;
  bindir = bindir.substr(0, bindir.rfind('/'));
  return std::regex_replace(text, std::regex("@CMAKE_INSTALL_FULL_BINDIR@"), bindir);
}

void require_systemd_analyze() {
  if (run_program({"sh", "-c", "command -v systemd-analyze"}).exit_code != 0) {
    skip_test("systemd-analyze is not installed (scripts/install-deps.sh installs systemd)");
  }
}

CommandResult verify(const std::string& unit_path) {
  // --man=no: the man pages are this project's, not installed where man(1) looks.
  return run_program({"systemd-analyze", "verify", "--man=no", unit_path}, 60s);
}

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text + "\n").find("\n" + line + "\n") != std::string::npos;
}
}  // namespace

TEST_CASE("the system unit musicfs@.service passes systemd-analyze verify", "[systemd][units]") {
  require_systemd_analyze();
  TempDir dir;
  const std::string unit = configured("musicfs@.service");
  // A template is verified as an instance of it.
  write_file(dir / "musicfs@music.service", unit);
  auto r = verify(dir / "musicfs@music.service");
  INFO("systemd-analyze verify: exit " << r.exit_code << "\n" << r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("musicfs@music.service") == std::string::npos);  // no warning about it
  CHECK(has_line(unit, "Type=notify"));
  CHECK(has_line(unit, "ExecReload=/bin/kill -HUP $MAINPID"));
  CHECK_THAT(unit, Catch::Contains(" daemon --state-dir /var/lib/musicfs/%i -c /etc/musicfs/%i.toml"));
  CHECK(has_line(unit, "DeviceAllow=/dev/fuse rw"));
  // A private mount namespace would hide the mount from the music server.
  for (const char* opt : {"ProtectSystem=", "ProtectHome=", "PrivateTmp=", "PrivateDevices=", "MountFlags="}) {
    CHECK(unit.find(std::string("\n") + opt) == std::string::npos);
  }
}

TEST_CASE("the user unit musicfs.service passes systemd-analyze verify", "[systemd][units]") {
  require_systemd_analyze();
  TempDir dir;
  const std::string unit = configured("musicfs.service");
  write_file(dir / "musicfs.service", unit);
  auto r = run_program({"systemd-analyze", "verify", "--user", "--man=no", dir / "musicfs.service"}, 60s,
                       {{"XDG_RUNTIME_DIR", dir.path()}});
  INFO("systemd-analyze verify --user: exit " << r.exit_code << "\n" << r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("musicfs.service:") == std::string::npos);
  CHECK(has_line(unit, "Type=notify"));
  CHECK_THAT(unit, Catch::Contains("daemon -c %E/musicfs/config.toml"));
  // fusermount3 is setuid: NoNewPrivileges= would stop a user's mount.
  CHECK(unit.find("\nNoNewPrivileges=") == std::string::npos);
}

TEST_CASE("cmake --install puts both units where systemd looks for them", "[systemd][units]") {
  TempDir dir;
  const std::string build = std::string(MUSICFSCTL_PATH).substr(0, std::string(MUSICFSCTL_PATH).rfind("/cmd/"));
  auto r = run_program({"cmake", "--install", build, "--prefix", dir / "usr", "--component", "Unspecified"}, 120s);
  INFO("cmake --install: " << r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(path_exists(dir / "usr/lib/systemd/system/musicfs@.service"));
  CHECK(path_exists(dir / "usr/lib/systemd/user/musicfs.service"));
}
