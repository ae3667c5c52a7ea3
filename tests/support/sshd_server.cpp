#include "support/sshd_server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace musicfs::test {

namespace {

constexpr const char* kSshd = "/usr/sbin/sshd";
constexpr const char* kKeygen = "/usr/bin/ssh-keygen";

void keygen(const std::string& path, const std::string& comment) {
  auto r = run_program({kKeygen, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path});
  if (r.exit_code != 0) throw std::runtime_error("ssh-keygen failed: " + r.err);
  ::chmod(path.c_str(), 0600);
}

int parent_of(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return -1;
  // "pid (comm) state ppid ...": comm may contain spaces, so parse after the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(line.substr(close + 1));
  std::string state;
  int ppid = -1;
  rest >> state >> ppid;
  return ppid;
}

}  // namespace

SshdServer::SshdServer() {
  if (::access(kSshd, X_OK) != 0) skip_test("sshd is not installed (/usr/sbin/sshd; Debian package openssh-server)");
  if (::access(kKeygen, X_OK) != 0) skip_test("ssh-keygen is not installed (Debian package openssh-client)");
  // sshd refuses to start without its privilege-separation directory.
  ::mkdir("/run/sshd", 0755);

  struct passwd* pw = ::getpwuid(::geteuid());
  user_ = pw != nullptr ? pw->pw_name : "root";
  port_ = free_loopback_port();
  const std::string d = dir_.path();
  keygen(d + "/host_ed25519", "musicfs-test-host");
  keygen(d + "/other_host_ed25519", "musicfs-test-other-host");
  client_key_ = d + "/client_ed25519";
  stranger_key_ = d + "/stranger_ed25519";
  keygen(client_key_, "musicfs-test-client");
  keygen(stranger_key_, "musicfs-test-stranger");
  write_file(d + "/authorized_keys", read_file(client_key_ + ".pub"));

  const std::string host = "[127.0.0.1]:" + std::to_string(port_) + " ";
  known_hosts_ = d + "/known_hosts";
  empty_known_hosts_ = d + "/known_hosts.empty";
  wrong_known_hosts_ = d + "/known_hosts.wrong";
  write_file(known_hosts_, host + read_file(d + "/host_ed25519.pub"));
  write_file(empty_known_hosts_, "");
  write_file(wrong_known_hosts_, host + read_file(d + "/other_host_ed25519.pub"));

  auto fp = run_program({kKeygen, "-l", "-E", "sha256", "-f", d + "/host_ed25519.pub"});
  std::istringstream fields(fp.out);
  std::string bits;
  fields >> bits >> host_fingerprint_;

  config_ = d + "/sshd_config";
  log_path_ = d + "/sshd.log";
  std::ostringstream c;
  c << "Port " << port_ << "\n"
    << "ListenAddress 127.0.0.1\n"
    << "HostKey " << d << "/host_ed25519\n"
    << "AuthorizedKeysFile " << d << "/authorized_keys\n"
    << "PubkeyAuthentication yes\n"
    << "PasswordAuthentication no\n"
    << "KbdInteractiveAuthentication no\n"
    << "PermitRootLogin prohibit-password\n"
    << "StrictModes no\n"
    << "PidFile " << d << "/sshd.pid\n"
    << "Subsystem sftp internal-sftp\n"
    << "UsePAM no\n"
    << "MaxStartups 64\n"
    << "MaxSessions 32\n"
    << "LogLevel ERROR\n";
  write_file(config_, c.str());
  start();
}

SshdServer::~SshdServer() {
  try {
    stop();
  } catch (...) {
  }
}

std::string SshdServer::log() const {
  try {
    return read_file(log_path_);
  } catch (...) {
    return {};
  }
}

std::string SshdServer::origin_toml(const std::string& id, int priority, const std::string& remote_path,
                                    const std::string& identity_file, const std::string& known_hosts) const {
  std::ostringstream t;
  t << "\n[[origins]]\nid = \"" << id << "\"\norigin_type = \"sftp\"\npriority = " << priority
    << "\nhost = \"127.0.0.1\"\nport = " << port_ << "\nuser = \"" << user_ << "\"\npath = \"" << remote_path
    << "\"\nidentity_file = \"" << (identity_file.empty() ? client_key_ : identity_file) << "\"\nknown_hosts = \""
    << (known_hosts.empty() ? known_hosts_ : known_hosts) << "\"\n";
  return t.str();
}

void SshdServer::start() {
  if (pid_ > 0) return;
  pid_ = spawn_logged({kSshd, "-D", "-e", "-f", config_}, log_path_);
  if (!wait_accepting(pid_, port_)) throw std::runtime_error("sshd did not start on port " + std::to_string(port_) + ": " + log());
}

std::vector<int> SshdServer::processes() const {
  std::vector<int> out;
  if (pid_ <= 0) return out;
  std::set<int> family{pid_};
  // Session processes call setsid(), so neither a process group nor a session holds
  // them all; follow parent links instead, until no new descendant turns up.
  for (bool grew = true; grew;) {
    grew = false;
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) break;
    while (struct dirent* de = ::readdir(proc)) {
      char* end = nullptr;
      long pid = std::strtol(de->d_name, &end, 10);
      if (end == de->d_name || *end != '\0') continue;
      if (family.count(static_cast<int>(pid)) != 0) continue;
      if (family.count(parent_of(static_cast<int>(pid))) != 0) {
        family.insert(static_cast<int>(pid));
        grew = true;
      }
    }
    ::closedir(proc);
  }
  out.assign(family.begin(), family.end());
  return out;
}

void SshdServer::stop() {
  if (pid_ <= 0) return;
  for (int p : processes()) ::kill(p, SIGKILL);
  int st = 0;
  ::waitpid(pid_, &st, 0);
  pid_ = -1;
  frozen_.clear();
}

void SshdServer::freeze() {
  frozen_ = processes();
  for (int p : frozen_) ::kill(p, SIGSTOP);
}

void SshdServer::thaw() {
  for (int p : frozen_) ::kill(p, SIGCONT);
  frozen_.clear();
}

}  // namespace musicfs::test
