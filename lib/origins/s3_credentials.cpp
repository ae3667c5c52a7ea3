#include "origins/s3_credentials.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;

namespace musicfs {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// A comment starts a line, or follows whitespace inside one (keys and secrets never
// contain whitespace, so " #" cannot be part of a value).
std::string_view strip_inline_comment(std::string_view s) {
  for (size_t i = 1; i < s.size(); ++i) {
    if ((s[i] == '#' || s[i] == ';') && (s[i - 1] == ' ' || s[i - 1] == '\t')) return s.substr(0, i);
  }
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

Result<S3Credentials> parse_shared_credentials(std::string_view text, const std::string& profile,
                                               const std::string& file) {
  const std::string where = "credentials file " + file;
  S3Credentials creds;
  bool found = false;
  bool in_profile = false;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']') {
        return make_error(ErrorCode::kConfig, where + ":" + std::to_string(line_no) + ": malformed section header");
      }
      std::string_view name = trim(line.substr(1, line.size() - 2));
      // ~/.aws/config spells sections "[profile NAME]"; the credentials file "[NAME]".
      if (name.substr(0, 8) == "profile " || name.substr(0, 8) == "profile\t") name = trim(name.substr(8));
      in_profile = name == profile;
      found = found || in_profile;
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      // Never echo the line: it may be a secret pasted without its key.
      return make_error(ErrorCode::kConfig, where + ":" + std::to_string(line_no) + ": expected 'key = value'");
    }
    if (!in_profile) continue;
    std::string key = lower(trim(line.substr(0, eq)));
    std::string value(trim(strip_inline_comment(trim(line.substr(eq + 1)))));
    if (key == "aws_access_key_id") {
      creds.access_key_id = std::move(value);
    } else if (key == "aws_secret_access_key") {
      creds.secret_access_key = std::move(value);
    } else if (key == "aws_session_token") {
      creds.session_token = std::move(value);
    }
  }
  if (!found) return make_error(ErrorCode::kConfig, where + ": no profile '" + profile + "'");
  const std::string in = where + " [" + profile + "]";
  if (creds.access_key_id.empty()) return make_error(ErrorCode::kConfig, in + ": aws_access_key_id is missing");
  if (creds.secret_access_key.empty()) {
    return make_error(ErrorCode::kConfig, in + ": aws_secret_access_key is missing");
  }
  creds.source = in;
  return creds;
}

void warn_if_world_readable(const std::string& origin, const std::string& path, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;
  if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
    spdlog::warn("origin {}: {} {} is readable by group or others (mode {:o}); chmod 600 it", origin, what, path,
                 st.st_mode & 0777);
  }
}

std::map<std::string, std::string> aws_environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    if (kv.substr(0, 4) != "AWS_") continue;
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

Result<S3Credentials> load_s3_credentials(const std::string& origin, const std::string& credentials_file,
                                          const std::string& profile,
                                          const std::map<std::string, std::string>& env) {
  const std::string prefix = "origin " + origin + ": ";
  if (!credentials_file.empty()) {
    std::ifstream in(credentials_file, std::ios::binary);
    if (!in) {
      return make_error(ErrorCode::kConfig,
                        prefix + "credentials file " + credentials_file + ": cannot read: " + std::strerror(errno), errno);
    }
    std::ostringstream text;
    text << in.rdbuf();
    warn_if_world_readable(origin, credentials_file, "credentials file");
    auto creds = parse_shared_credentials(text.str(), profile.empty() ? "default" : profile, credentials_file);
    if (!creds) return creds.error().with_context("origin " + origin);
    return creds;
  }
  auto get = [&](const char* name) {
    auto it = env.find(name);
    return it == env.end() ? std::string() : it->second;
  };
  S3Credentials creds;
  creds.access_key_id = get("AWS_ACCESS_KEY_ID");
  creds.secret_access_key = get("AWS_SECRET_ACCESS_KEY");
  creds.session_token = get("AWS_SESSION_TOKEN");
  creds.source = "environment";
  if (creds.access_key_id.empty() != creds.secret_access_key.empty()) {
    return make_error(ErrorCode::kConfig, prefix + "the environment sets only one of AWS_ACCESS_KEY_ID and "
                                                   "AWS_SECRET_ACCESS_KEY");
  }
  if (creds.access_key_id.empty()) creds.source = "none (anonymous requests)";
  return creds;
}

}  // namespace musicfs
