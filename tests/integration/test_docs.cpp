// The user documentation stays in step with the program: the three man pages render with
// no warnings, the bash completion offers the subcommands, their actions (origins,
// cache, daemon) and the events and health flags, and every subcommand that
// `musicfsctl --help` lists is documented in musicfsctl(1).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/test_env.h"

using namespace musicfs::test;

namespace {

const std::string kSourceDir = MUSICFS_SOURCE_DIR;
const std::string kBashCompletionLib = "/usr/share/bash-completion/bash_completion";

bool have_program(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Runs the bash completion function for a command line whose last word is `cur`,
// exactly as bash does on TAB, and returns COMPREPLY.
std::vector<std::string> complete(const std::vector<std::string>& words) {
  std::string line;
  std::string array;
  for (const auto& w : words) {
    line += (line.empty() ? "" : " ") + w;
    array += " '" + w + "'";
  }
  std::string script = "source " + kBashCompletionLib + " && source " + kSourceDir +
                       "/completions/musicfsctl.bash && COMP_WORDS=(" + array + ") && COMP_CWORD=" +
                       std::to_string(words.size() - 1) + " && COMP_LINE='" + line +
                       "' && COMP_POINT=${#COMP_LINE} && _musicfsctl; printf '%s\\n' \"${COMPREPLY[@]}\"";
  auto r = run_program({"bash", "-c", script});
  INFO("bash stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return split_words(r.out);
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v) {
    if (x == s) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("every man page passes mandoc's lint with no warnings", "[docs]") {
  if (!have_program("/usr/bin/mandoc")) skip_test("mandoc is not installed (scripts/install-deps.sh installs it)");
  for (const std::string& page : std::vector<std::string>{"man/musicfsctl.1", "man/musicfs.toml.5", "man/musicfs.8"}) {
    auto r = run_program({"mandoc", "-T", "lint", "-W", "warning", kSourceDir + "/" + page});
    INFO(page << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.empty());
    CHECK(r.err.empty());
  }
}

TEST_CASE("the bash completion offers the subcommands, their actions and flags", "[docs]") {
  if (::access(kBashCompletionLib.c_str(), R_OK) != 0) {
    skip_test("bash-completion is not installed (scripts/install-deps.sh installs it)");
  }
  auto subcommands = complete({"musicfsctl", ""});
  INFO("COMPREPLY: " << Catch::Detail::stringify(subcommands));
  for (const std::string& sub :
       std::vector<std::string>{"mount", "unmount", "status", "events", "health", "origins", "cache", "metrics", "daemon"}) {
    CHECK(contains(subcommands, sub));
  }
  CHECK_FALSE(contains(subcommands, "debug-fault"));

  auto events_flags = complete({"musicfsctl", "events", "--"});
  INFO("COMPREPLY: " << Catch::Detail::stringify(events_flags));
  CHECK(contains(events_flags, "--since"));
  CHECK(contains(events_flags, "--follow"));

  auto daemon_words = complete({"musicfsctl", "daemon", ""});
  CHECK(contains(daemon_words, "stop"));

  auto origins_words = complete({"musicfsctl", "origins", ""});
  INFO("COMPREPLY: " << Catch::Detail::stringify(origins_words));
  for (const std::string& action : std::vector<std::string>{"list", "add", "remove", "enable", "disable"}) {
    CHECK(contains(origins_words, action));
  }

  auto cache_words = complete({"musicfsctl", "cache", ""});
  INFO("COMPREPLY: " << Catch::Detail::stringify(cache_words));
  CHECK(contains(cache_words, "stat"));

  auto add_flags = complete({"musicfsctl", "origins", "add", "nas2", "--"});
  INFO("COMPREPLY: " << Catch::Detail::stringify(add_flags));
  for (const std::string& flag : std::vector<std::string>{"--type", "--priority", "--path", "--set", "--disabled", "--mount"}) {
    CHECK(contains(add_flags, flag));
  }

  auto types = complete({"musicfsctl", "origins", "add", "nas2", "--type", ""});
  INFO("COMPREPLY: " << Catch::Detail::stringify(types));
  for (const std::string& type : std::vector<std::string>{"local", "nfs", "smb", "s3", "sftp"}) {
    CHECK(contains(types, type));
  }

  auto mount_flags = complete({"musicfsctl", "mount", "-"});
  INFO("COMPREPLY: " << Catch::Detail::stringify(mount_flags));
  CHECK(contains(mount_flags, "-o"));
  CHECK(contains(mount_flags, "--config"));
  // -o completes the item after the last comma, keeping what comes before.
  auto mount_options = complete({"musicfsctl", "mount", "-o", "allow_other,r"});
  INFO("COMPREPLY: " << Catch::Detail::stringify(mount_options));
  CHECK(mount_options == std::vector<std::string>{"allow_other,ro"});

  auto health_flags = complete({"musicfsctl", "health", "--"});
  INFO("COMPREPLY: " << Catch::Detail::stringify(health_flags));
  for (const std::string& flag : std::vector<std::string>{"--check", "--origin", "--history", "--summary", "--since"}) {
    CHECK(contains(health_flags, flag));
  }
}

TEST_CASE("every subcommand in musicfsctl --help is documented in musicfsctl(1)", "[docs]") {
  auto help = run_program({MUSICFSCTL_PATH, "--help"});
  REQUIRE(help.exit_code == 0);
  // CLI11 lists them after "Subcommands:", one per line, indented, name first.
  std::set<std::string> subcommands;
  std::istringstream in(help.out);
  bool in_list = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Subcommands:", 0) == 0) {
      in_list = true;
      continue;
    }
    if (!in_list) continue;
    if (line.empty() || line[0] != ' ') break;
    auto words = split_words(line);
    if (!words.empty()) subcommands.insert(words[0]);
  }
  INFO("--help:\n" << help.out);
  REQUIRE(subcommands.size() >= 5);
  REQUIRE(subcommands.count("mount") == 1);

  std::string page = read_file(kSourceDir + "/man/musicfsctl.1");
  for (const auto& sub : subcommands) {
    // In roff source a hyphen is written \- ; each subcommand has its own .SS heading.
    std::string roff;
    for (char c : sub) roff += c == '-' ? std::string("\\-") : std::string(1, c);
    INFO("subcommand " << sub << " has no '.SS " << roff << "' section in man/musicfsctl.1");
    CHECK(page.find("\n.SS " + roff + "\n") != std::string::npos);
  }
}
