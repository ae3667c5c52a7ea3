// The default cache and state directories and the default config file, for root
// (a mount from fstab: no XDG variables, HOME=/root) and for an ordinary user.
#include <catch2/catch.hpp>

#include <string>

#include "config/config.h"

using namespace musicfs;

namespace {
PathEnv env_of(uid_t uid, std::map<std::string, std::string> vars = {}) { return PathEnv::of(uid, std::move(vars)); }
}  // namespace

TEST_CASE("root without XDG variables gets the system directories", "[config][paths]") {
  const PathEnv root = env_of(0, {{"HOME", "/root"}});
  CHECK(default_state_dir(root) == "/var/lib/musicfs");
  CHECK(default_cache_dir(root) == "/var/cache/musicfs");
  CHECK(default_config_path(root) == "/etc/musicfs/config.toml");
  // No HOME at all (mount(8) drops it) changes nothing for root.
  CHECK(default_state_dir(env_of(0)) == "/var/lib/musicfs");
}

TEST_CASE("a user without XDG variables gets directories under HOME", "[config][paths]") {
  const PathEnv user = env_of(1000, {{"HOME", "/home/ann"}});
  CHECK(default_state_dir(user) == "/home/ann/.local/state/musicfs");
  CHECK(default_cache_dir(user) == "/home/ann/.cache/musicfs");
  CHECK(default_config_path(user) == "/home/ann/.config/musicfs/config.toml");
}

TEST_CASE("XDG variables win for root and for users alike", "[config][paths]") {
  for (uid_t uid : {uid_t{0}, uid_t{1000}}) {
    const PathEnv e = env_of(uid, {{"HOME", "/home/ann"},
                                   {"XDG_STATE_HOME", "/x/state"},
                                   {"XDG_CACHE_HOME", "/x/cache"},
                                   {"XDG_CONFIG_HOME", "/x/config"}});
    INFO("uid " << uid);
    CHECK(default_state_dir(e) == "/x/state/musicfs");
    CHECK(default_cache_dir(e) == "/x/cache/musicfs");
    CHECK(default_config_path(e) == "/x/config/musicfs/config.toml");
  }
}

TEST_CASE("relative XDG values and HOME are ignored", "[config][paths]") {
  const PathEnv e = env_of(1000, {{"HOME", "relative"}, {"XDG_CONFIG_HOME", "cfg"}});
  CHECK(default_config_path(e) == "/tmp/musicfs-1000/.config/musicfs/config.toml");
}
