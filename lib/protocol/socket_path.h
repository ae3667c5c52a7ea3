#pragma once
#include <string>

#include "core/error.h"
#include "util/path_env.h"

namespace musicfs {

// --socket, else default_socket_path() of this process.
std::string resolve_socket_path(const std::string& flag);

// $MUSICFS_SOCKET, else for root /run/musicfs/musicfsd.sock, else
// $XDG_RUNTIME_DIR/musicfs/musicfsd.sock, else /tmp/musicfs-UID/musicfsd.sock.
std::string default_socket_path(const PathEnv& env);

// Creates the socket's directory 0700 if missing, and refuses one that belongs to
// another user or that others can enter (tmux's rule): the socket must stay private.
Status ensure_private_socket_dir(const std::string& socket_path);

// The same rule without creating anything, for the client: a socket in a directory
// that others can write to may be anybody's. A missing directory passes (there is no
// daemon to talk to, and connecting says so).
Status check_private_socket_dir(const std::string& socket_path);

// The directory that holds the socket ("." for a bare name).
std::string socket_dir_of(const std::string& socket_path);

}  // namespace musicfs
