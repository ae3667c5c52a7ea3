#pragma once
// Where an s3 origin's keys come from. Credentials are only ever given by reference:
// an AWS shared-credentials file (credentials_file + profile) or the daemon's
// environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN). No config
// key takes a key by value, so a secret never sits in musicfs.toml, in the SQLite
// state or on a command line.
#include <map>
#include <string>
#include <string_view>

#include "core/error.h"

namespace musicfs {

struct S3Credentials {
  std::string access_key_id;
  std::string secret_access_key;  // secret: never logged, printed or stored
  std::string session_token;      // secret; empty when there is none
  std::string source;             // "FILE [profile]" or "environment", for messages

  // "KEY:SECRET" for CURLOPT_USERPWD.
  std::string userpwd() const { return access_key_id + ":" + secret_access_key; }
};

// Parses the shared-credentials INI text (sections "[name]" or "[profile name]",
// "key = value" lines, '#' and ';' comments) and returns the keys of `profile`.
// `file` only names the source in messages; no message quotes a value.
Result<S3Credentials> parse_shared_credentials(std::string_view text, const std::string& profile,
                                               const std::string& file);

// The lookup order of an s3 origin: `credentials_file` (with `profile`) when set, else
// the environment `env` (normally the daemon's own). A file readable by group or
// others draws a warning naming the file. `origin` prefixes every message.
Result<S3Credentials> load_s3_credentials(const std::string& origin, const std::string& credentials_file,
                                          const std::string& profile,
                                          const std::map<std::string, std::string>& env);

// The AWS_* variables of this process's environment.
std::map<std::string, std::string> aws_environment();

// Warns (spdlog::warn, naming the file, never its content) when `path` is readable by
// group or others; `what` says what the file is ("credentials file").
void warn_if_world_readable(const std::string& origin, const std::string& path, const std::string& what);

}  // namespace musicfs
