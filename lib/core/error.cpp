#include "core/error.h"

#include <cstring>

namespace musicfs {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kTimedOut: return "timed_out";
    case ErrorCode::kPermission: return "permission";
    case ErrorCode::kIo: return "io";
    case ErrorCode::kChanged: return "changed";
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kConfig: return "config";
    case ErrorCode::kProtocol: return "protocol";
    case ErrorCode::kExists: return "exists";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kReadOnly: return "read_only";
    case ErrorCode::kInternal: return "internal";
  }
  return "internal";
}

Error Error::from_errno(int err, std::string context) {
  ErrorCode code = ErrorCode::kIo;
  switch (err) {
    case ENOENT: case ENOTDIR: code = ErrorCode::kNotFound; break;
    case EACCES: case EPERM: code = ErrorCode::kPermission; break;
    case ETIMEDOUT: code = ErrorCode::kTimedOut; break;
    case ENODEV: case ENXIO: case EHOSTDOWN: case EHOSTUNREACH: case ENETUNREACH:
    case ECONNREFUSED: case ECONNRESET: case ESTALE: case ENOTCONN:
      code = ErrorCode::kUnavailable; break;
    case EROFS: code = ErrorCode::kReadOnly; break;
    case EEXIST: case EBUSY: code = ErrorCode::kExists; break;
    case EINVAL: code = ErrorCode::kInvalidArgument; break;
    default: break;
  }
  return Error{code, context + ": " + std::strerror(err), err};
}

Error Error::with_context(std::string_view outer) const {
  Error e = *this;
  e.message = std::string(outer) + ": " + message;
  return e;
}

int to_errno(const Error& e) {
  switch (e.code) {
    case ErrorCode::kNotFound: return ENOENT;
    case ErrorCode::kPermission: return EACCES;
    case ErrorCode::kReadOnly: return EROFS;
    case ErrorCode::kInvalidArgument: return EINVAL;
    case ErrorCode::kUnsupported: return ENOTSUP;
    // A dead or hung origin is EIO to a reader: the file exists, its bytes cannot be had.
    case ErrorCode::kUnavailable:
    case ErrorCode::kTimedOut:
    case ErrorCode::kIo:
    default: return EIO;
  }
}

}  // namespace musicfs
