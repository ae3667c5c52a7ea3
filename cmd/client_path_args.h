#pragma once
// How commands name a file in a mount (route-explain, cache prefetch): a path inside
// a mount, absolute or relative to the current directory, or with --mount a virtual
// path inside that mount. The daemon finds the mount (daemon/handlers/path_arg.cpp).
#include <nlohmann/json.hpp>
#include <string>

namespace musicfs::cli {

// {"path": ABSOLUTE} or, with a mount, {"path": VIRTUAL, "mount": REALPATH}, each in
// the path encoding of protocol/path_encoding.h (any bytes survive).
nlohmann::json path_request_args(const std::string& path, const std::string& mount);

// A path given on the command line made absolute (realpath when it exists, else
// against the current directory): the daemon runs in "/" and must not see a
// relative one.
std::string absolute_path(const std::string& p);

}  // namespace musicfs::cli
