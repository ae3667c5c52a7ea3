#include "support/nginx_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace musicfs::test {

namespace {

constexpr const char* kNginx = "/usr/sbin/nginx";

}  // namespace

NginxServer::NginxServer(const std::string& extra_locations) {
  if (::access(kNginx, X_OK) != 0) skip_test(std::string(kNginx) + " is not installed (Debian package nginx)");
  port_ = free_loopback_port();
  root_ = dir_ / "www";
  mkdirs(root_);
  mkdirs(dir_ / "tmp");
  conf_ = dir_ / "nginx.conf";
  error_log_ = dir_ / "error.log";
  const std::string& d = dir_.path();
  std::ostringstream c;
  c << "daemon off;\nmaster_process off;\nworker_processes 1;\n"
    << "pid " << d << "/nginx.pid;\nerror_log " << error_log_ << " info;\n"
    << "events { worker_connections 256; }\n"
    << "http {\n"
    << "  access_log " << d << "/access.log;\n"
    << "  client_body_temp_path " << d << "/tmp/client;\n"
    << "  proxy_temp_path " << d << "/tmp/proxy;\n"
    << "  fastcgi_temp_path " << d << "/tmp/fastcgi;\n"
    << "  uwsgi_temp_path " << d << "/tmp/uwsgi;\n"
    << "  scgi_temp_path " << d << "/tmp/scgi;\n"
    << "  default_type application/octet-stream;\n"
    << "  sendfile on;\n"
    << "  keepalive_requests 100000;\n"
    << "  server {\n"
    << "    listen 127.0.0.1:" << port_ << ";\n"
    << "    server_name localhost;\n"
    << "    root " << root_ << ";\n"
    << "    location / { autoindex on; autoindex_format json; }\n"
    << extra_locations << "\n"
    << "  }\n"
    << "}\n";
  write_file(conf_, c.str());
  start();
}

NginxServer::~NginxServer() {
  try {
    stop();
  } catch (...) {
  }
}

std::string NginxServer::url(const std::string& rel) const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/" + rel;
}

std::string NginxServer::origin_toml(const std::string& id, int priority, const std::string& rel,
                                     const std::string& extra_keys) const {
  std::ostringstream t;
  t << "\n[[origins]]\nid = \"" << id << "\"\norigin_type = \"http\"\npriority = " << priority << "\nurl = \""
    << url(rel) << "\"\n"
    << extra_keys << "\n";
  return t.str();
}

std::string NginxServer::log() const {
  std::ifstream in(error_log_);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void NginxServer::start() {
  if (pid_ > 0) return;
  // -e: the startup error log too, so nginx never touches /var/log/nginx.
  pid_ = spawn_logged({kNginx, "-p", dir_.path(), "-c", conf_, "-e", error_log_}, dir_ / "stderr.log");
  if (!wait_accepting(pid_, port_)) {
    throw std::runtime_error("nginx did not start on port " + std::to_string(port_) + ": " + log() +
                             read_file(dir_ / "stderr.log"));
  }
}

void NginxServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  if (frozen_) ::kill(pid_, SIGCONT);
  int st = 0;
  ::waitpid(pid_, &st, 0);
  pid_ = -1;
  frozen_ = false;
}

void NginxServer::freeze() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGSTOP);
  frozen_ = true;
}

void NginxServer::thaw() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGCONT);
  frozen_ = false;
}

}  // namespace musicfs::test
