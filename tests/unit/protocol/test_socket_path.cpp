// Where the control socket is when --socket is not given: default_socket_path with
// the environment passed in, so root and an ordinary user are both asked here.
#include <catch2/catch.hpp>

#include <string>

#include "protocol/socket_path.h"

using namespace musicfs;

namespace {
PathEnv env_of(uid_t uid, std::map<std::string, std::string> vars = {}) { return PathEnv::of(uid, std::move(vars)); }
}  // namespace

TEST_CASE("default socket for a user with nothing set is /tmp/musicfs-UID", "[protocol][socket]") {
  CHECK(default_socket_path(env_of(1000)) == "/tmp/musicfs-1000/musicfsd.sock");
}

TEST_CASE("default socket for a user is under XDG_RUNTIME_DIR when it is absolute", "[protocol][socket]") {
  CHECK(default_socket_path(env_of(1000, {{"XDG_RUNTIME_DIR", "/run/user/1000"}})) ==
        "/run/user/1000/musicfs/musicfsd.sock");
  // The XDG spec ignores a relative value; so do we.
  CHECK(default_socket_path(env_of(1000, {{"XDG_RUNTIME_DIR", "run/user"}})) == "/tmp/musicfs-1000/musicfsd.sock");
  CHECK(default_socket_path(env_of(1000, {{"XDG_RUNTIME_DIR", ""}})) == "/tmp/musicfs-1000/musicfsd.sock");
}

TEST_CASE("default socket for root is /run/musicfs with or without XDG_RUNTIME_DIR", "[protocol][socket]") {
  // mount(8) at boot gives no XDG_RUNTIME_DIR; a root login has /run/user/0: one socket for both.
  CHECK(default_socket_path(env_of(0)) == "/run/musicfs/musicfsd.sock");
  CHECK(default_socket_path(env_of(0, {{"XDG_RUNTIME_DIR", "/run/user/0"}})) == "/run/musicfs/musicfsd.sock");
}

TEST_CASE("MUSICFS_SOCKET wins over every default and --socket over it", "[protocol][socket]") {
  CHECK(default_socket_path(env_of(0, {{"MUSICFS_SOCKET", "/srv/m.sock"}})) == "/srv/m.sock");
  CHECK(default_socket_path(env_of(1000, {{"MUSICFS_SOCKET", "/srv/m.sock"}, {"XDG_RUNTIME_DIR", "/run/user/1000"}})) ==
        "/srv/m.sock");
  CHECK(resolve_socket_path("/given.sock") == "/given.sock");
}

TEST_CASE("socket_dir_of names the directory that is created 0700", "[protocol][socket]") {
  CHECK(socket_dir_of("/run/musicfs/musicfsd.sock") == "/run/musicfs");
  CHECK(socket_dir_of("/tmp/musicfs-1000/musicfsd.sock") == "/tmp/musicfs-1000");
  CHECK(socket_dir_of("bare.sock") == ".");
}
