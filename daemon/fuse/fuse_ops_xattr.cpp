// user.musicfs.origin answers "which origin would serve this file now" by running
// the same decision as a read (and route-explain): no separate copy of the rules.
// user.musicfs.origin_path is where that origin holds it (on a layout mount, not the
// path the mount shows), and user.musicfs.copies lists every holder in the order a
// read tries them, one "ORIGIN<TAB>PATH" line each.
#include <cstring>
#include <string>

#include "fuse/fuse_ops.h"

namespace musicfs {

namespace {
constexpr const char kOriginAttr[] = "user.musicfs.origin";
constexpr const char kOriginPathAttr[] = "user.musicfs.origin_path";
constexpr const char kCopiesAttr[] = "user.musicfs.copies";

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
  const std::string attr = name;
  if (attr != kOriginAttr && attr != kOriginPathAttr && attr != kCopiesAttr) {
    fuse_reply_err(req, ENODATA);
    return;
  }
  RouteDecision d = fuse_ctx(req).federation->explain(*path);
  const RouteCandidate* s = d.selected();
  if (s == nullptr) {
    fuse_reply_err(req, d.exists ? ENODATA : ENOENT);
    return;
  }
  if (attr == kOriginAttr) {
    reply_value(req, s->origin, size);
  } else if (attr == kOriginPathAttr) {
    reply_value(req, s->path, size);
  } else {
    std::string lines;
    for (size_t i : d.order) lines += d.candidates[i].origin + '\t' + d.candidates[i].path + '\n';
    reply_value(req, lines, size);
  }
}

void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  if (!attr_or_reply(req, ino)) return;
  std::string names;
  for (const char* n : {kOriginAttr, kOriginPathAttr, kCopiesAttr}) names.append(n, std::strlen(n) + 1);
  reply_value(req, names, size);
}

}  // namespace musicfs
