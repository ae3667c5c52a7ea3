#pragma once
#include <string>

#include "util/error.h"

namespace musicfs {

// --socket, else $MUSICFS_SOCKET, else $XDG_RUNTIME_DIR/musicfs/musicfsd.sock, else
// /tmp/musicfs-$UID/musicfsd.sock.
std::string resolve_socket_path(const std::string& flag);

// Creates the socket's directory 0700 if missing, and refuses one that belongs to
// another user or that others can enter (tmux's rule): the socket must stay private.
Status ensure_private_socket_dir(const std::string& socket_path);

}  // namespace musicfs
