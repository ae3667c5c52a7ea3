#pragma once
// A small HTTP/1.1 server on 127.0.0.1 that plays a music server's API for the
// notifier tests (Subsonic, Jellyfin and Plex are not packaged in Debian): it
// records each request — method, path, decoded query, headers, body — and answers
// with the reply set at the time, or, when told not to answer, reads the request
// and holds the connection open until it is destroyed. It owns its sockets and its
// thread and releases them in its destructor, also when the test fails.
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace musicfs::test {

struct RecordedRequest {
  std::string method;
  std::string target;                          // as sent: path and raw query
  std::string path;                            // the target up to '?'
  std::map<std::string, std::string> query;    // percent-decoded names and values
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  bool answer = true;  // false: never answer, keep the connection open
};

class HttpRecorder {
 public:
  explicit HttpRecorder(HttpReply reply = {});
  ~HttpRecorder();
  HttpRecorder(const HttpRecorder&) = delete;
  HttpRecorder& operator=(const HttpRecorder&) = delete;

  // "http://127.0.0.1:PORT"
  std::string url() const;
  void set_reply(HttpReply reply);
  std::vector<RecordedRequest> requests() const;
  // Connections accepted so far, answered or not.
  int connections() const { return connections_.load(); }

 private:
  void serve();
  void handle(int fd);

  int listen_fd_ = -1;
  int stop_fd_ = -1;
  int port_ = 0;
  std::atomic<int> connections_{0};
  mutable std::mutex mu_;
  HttpReply reply_;
  std::vector<RecordedRequest> requests_;
  std::vector<int> held_;  // connections left unanswered; serve thread only
  std::thread thread_;
};

// "a%20b+c" -> "a b c" (a query's '+' is a space).
std::string percent_decode(const std::string& s);

}  // namespace musicfs::test
