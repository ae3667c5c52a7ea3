#pragma once
// A real S3 server for integration tests: s3rver (npm, pinned by
// scripts/install-deps.sh into <repo>/.deps/s3rver) on 127.0.0.1 with a port of its
// own choosing, its data in a private temporary directory, one bucket created at
// start. The test fills the bucket with signed PUTs (the test may write to the
// server; musicfs never does). The destructor kills the server, also when a test
// fails; stop()/start() keep the port and the data, freeze()/thaw() SIGSTOP/SIGCONT it.
//
// s3rver checks that a request's access key id is known (its default account is
// S3RVER) but does not verify SigV4 signatures, so any secret key is accepted.
#include <chrono>
#include <cstdint>
#include <string>

#include "support/test_env.h"

namespace musicfs::test {

class S3Server {
 public:
  static constexpr const char* kAccessKey = "S3RVER";

  // Skips the test when s3rver is not installed (run scripts/install-deps.sh).
  explicit S3Server(std::string bucket = "music");
  ~S3Server();
  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;

  const std::string& bucket() const { return bucket_; }
  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Stores an object (a signed PUT); REQUIREs success.
  void put(const std::string& key, const std::string& data);

  void stop();    // SIGTERM, then SIGKILL; the data directory stays
  void start();   // again on the same port and data; waits until it answers
  void freeze();  // SIGSTOP: connections are accepted by the kernel but never answered
  void thaw();    // SIGCONT
  bool running() const { return pid_ > 0; }
  std::string log() const;

 private:
  void launch(int port);
  bool answers() const;

  std::string bucket_;
  TempDir dir_;
  std::string log_path_;
  int pid_ = -1;
  int port_ = 0;
  bool frozen_ = false;
};

// An [[origins]] table for an s3 origin on `server`; `extra` adds lines (e.g.
// "credentials_file = ...").
std::string s3_origin_toml(const S3Server& server, const std::string& id, int priority, const std::string& extra = "");

// Writes a shared-credentials file (mode 0600) with one [default] profile.
std::string write_s3_credentials(const std::string& path, const std::string& access_key, const std::string& secret,
                                 const std::string& session_token = "");

}  // namespace musicfs::test
