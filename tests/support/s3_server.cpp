#include "support/s3_server.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <memory>
#include <regex>
#include <stdexcept>

namespace musicfs::test {

namespace {

std::string s3rver_script() {
  return std::string(MUSICFS_SOURCE_DIR) + "/.deps/s3rver/node_modules/s3rver/bin/s3rver.js";
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct Upload {
  const std::string* data = nullptr;
  size_t pos = 0;
};

size_t read_body(char* out, size_t size, size_t nmemb, void* user) {
  auto* up = static_cast<Upload*>(user);
  size_t n = std::min(size * nmemb, up->data->size() - up->pos);
  std::memcpy(out, up->data->data() + up->pos, n);
  up->pos += n;
  return n;
}

size_t discard(char*, size_t size, size_t nmemb, void*) { return size * nmemb; }

std::string encode_key(const std::string& key) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : key) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

S3Server::S3Server(std::string bucket) : bucket_(std::move(bucket)), log_path_(dir_.path() + "/s3rver.log") {
  if (::access(s3rver_script().c_str(), R_OK) != 0) {
    skip_test("s3rver is not installed at " + s3rver_script() + " (run scripts/install-deps.sh)");
  }
  if (::access("/usr/bin/node", X_OK) != 0 && run_program({"sh", "-c", "command -v node"}).exit_code != 0) {
    skip_test("node is not installed (needed to run s3rver)");
  }
  mkdirs(dir_.path() + "/data");
  launch(0);
}

S3Server::~S3Server() {
  if (pid_ > 0) {
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

void S3Server::launch(int port) {
  // The log is a file, not a pipe: s3rver logs every request and would block on a
  // full pipe nobody reads. Its first line says which port it got.
  if (!path_exists(log_path_)) write_file(log_path_, "");
  const size_t log_start = read_file(log_path_).size();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork");
  if (pid_ == 0) {
    int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(log, 1);
    ::dup2(log, 2);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    std::string port_text = std::to_string(port);
    std::string data = dir_.path() + "/data";
    std::string script = s3rver_script();
    // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3
    // (node >= 17) offers only through its legacy provider: without it every listing
    // longer than one page fails with a 500.
    ::execlp("node", "node", "--openssl-legacy-provider", script.c_str(), "--directory", data.c_str(), "--address", "127.0.0.1", "--port",
             port_text.c_str(), "--configure-bucket", bucket_.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  static const std::regex listening(R"(listening on 127\.0\.0\.1:(\d+))");
  bool up = false;
  try {
    up = wait_until(
        [&] {
          std::string text = read_file(log_path_);
          text = text.substr(std::min(log_start, text.size()));
          std::smatch m;
          if (!std::regex_search(text, m, listening)) return false;
          port_ = std::stoi(m[1].str());
          return true;
        },
        std::chrono::seconds(30));
  } catch (...) {
    // A constructor that throws runs no destructor: the child must not outlive us.
    stop();
    throw;
  }
  if (!up || !answers()) {
    std::string l = log();
    stop();
    throw std::runtime_error("s3rver did not start; its log:\n" + l);
  }
}

bool S3Server::answers() const {
  return wait_until(
      [&] {
        auto r = run_program({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2",
                              endpoint() + "/" + bucket_ + "?list-type=2&max-keys=1"},
                             std::chrono::seconds(5));
        return r.exit_code == 0 && r.out == "200";
      },
      std::chrono::seconds(20));
}

void S3Server::put(const std::string& key, const std::string& data) {
  std::unique_ptr<CURL, CurlDeleter> h(curl_easy_init());
  REQUIRE(h);
  std::unique_ptr<curl_slist, SlistDeleter> headers(
      curl_slist_append(nullptr, "x-amz-content-sha256: UNSIGNED-PAYLOAD"));
  std::string url = endpoint() + "/" + bucket_ + "/" + encode_key(key);
  Upload up{&data, 0};
  curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(h.get(), CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h.get(), CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(data.size()));
  curl_easy_setopt(h.get(), CURLOPT_READFUNCTION, read_body);
  curl_easy_setopt(h.get(), CURLOPT_READDATA, &up);
  curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(h.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h.get(), CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:s3");
  curl_easy_setopt(h.get(), CURLOPT_USERPWD, "S3RVER:S3RVER");
  curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h.get(), CURLOPT_TIMEOUT, 60L);
  CURLcode rc = curl_easy_perform(h.get());
  long status = 0;
  curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &status);
  INFO("PUT " << url << ": " << curl_easy_strerror(rc) << ", HTTP " << status);
  REQUIRE(rc == CURLE_OK);
  REQUIRE(status == 200);
}

void S3Server::stop() {
  if (pid_ <= 0) return;
  if (frozen_) ::kill(pid_, SIGCONT);
  frozen_ = false;
  ::kill(pid_, SIGTERM);
  bool gone = wait_until(
      [&] {
        int status = 0;
        return ::waitpid(pid_, &status, WNOHANG) == pid_;
      },
      std::chrono::seconds(5));
  if (!gone) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  pid_ = -1;
}

void S3Server::start() {
  if (pid_ > 0) return;
  launch(port_);
}

void S3Server::freeze() {
  if (pid_ > 0 && ::kill(pid_, SIGSTOP) == 0) frozen_ = true;
}

void S3Server::thaw() {
  if (pid_ > 0 && ::kill(pid_, SIGCONT) == 0) frozen_ = false;
}

std::string S3Server::log() const {
  try {
    return read_file(log_path_);
  } catch (...) {
    return "";
  }
}

std::string s3_origin_toml(const S3Server& server, const std::string& id, int priority, const std::string& extra) {
  return "\n[[origins]]\nid = \"" + id + "\"\norigin_type = \"s3\"\npriority = " + std::to_string(priority) +
         "\nbucket = \"" + server.bucket() + "\"\nendpoint = \"" + server.endpoint() +
         "\"\npath_style = true\nrefresh_interval_secs = 10\n" + extra + "\n";
}

std::string write_s3_credentials(const std::string& path, const std::string& access_key, const std::string& secret,
                                 const std::string& session_token) {
  std::string text = "# test credentials\n[default]\naws_access_key_id = " + access_key +
                     "\naws_secret_access_key = " + secret + "\n";
  if (!session_token.empty()) text += "aws_session_token = " + session_token + "\n";
  write_file(path, text);
  ::chmod(path.c_str(), 0600);
  return path;
}

}  // namespace musicfs::test
