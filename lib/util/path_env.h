#pragma once
// What the default paths (socket, config file, state and cache directories) depend
// on: a few environment variables and whether we are root. Passed in rather than read
// where it is used, so that a test can ask what root, or a user with no
// XDG_RUNTIME_DIR, would get without being either.
#include <sys/types.h>

#include <map>
#include <string>
#include <utility>

namespace musicfs {

struct PathEnv {
  std::map<std::string, std::string> vars;  // only the variables that are set
  uid_t uid = 0;

  // This process: its real uid and the variables the defaults read.
  static PathEnv process();
  // Another user's view, for a test: `uid` with just these variables set.
  static PathEnv of(uid_t uid, std::map<std::string, std::string> vars = {}) {
    PathEnv e;
    e.uid = uid;
    e.vars = std::move(vars);
    return e;
  }
  // The value of `name`, or "" when it is unset.
  std::string get(const std::string& name) const;
  // The value of `name` when it is an absolute path (the XDG spec ignores relative
  // ones), else "".
  std::string absolute(const std::string& name) const;
  bool root() const { return uid == 0; }
};

}  // namespace musicfs
