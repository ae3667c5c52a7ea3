// user.musicfs.origin answers "which origin would serve this file now" by running
// the same decision as a read (and route-explain): no separate copy of the rules.
#include <cstring>
#include <string>

#include "fuse/fuse_ops.h"

namespace musicfs {

namespace {
constexpr const char kOriginAttr[] = "user.musicfs.origin";

// A size of 0 asks how large the value is; a smaller buffer than that is ERANGE.
void reply_value(fuse_req_t req, const std::string& value, size_t size) {
  if (size == 0) {
    fuse_reply_xattr(req, value.size());
  } else if (size < value.size()) {
    fuse_reply_err(req, ERANGE);
  } else {
    fuse_reply_buf(req, value.data(), value.size());
  }
}
}  // namespace

void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  auto path = path_or_reply(req, ino);
  if (!path) return;
  if (std::strcmp(name, kOriginAttr) != 0) {
    fuse_reply_err(req, ENODATA);
    return;
  }
  RouteDecision d = fuse_ctx(req).federation->explain(*path);
  const RouteCandidate* s = d.selected();
  if (s == nullptr) {
    fuse_reply_err(req, d.exists ? ENODATA : ENOENT);
    return;
  }
  reply_value(req, s->origin, size);
}

void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  if (!attr_or_reply(req, ino)) return;
  reply_value(req, std::string(kOriginAttr, sizeof kOriginAttr), size);
}

}  // namespace musicfs
