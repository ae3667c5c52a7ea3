// user.musicfs.origin answers "which origin would serve this file now" by running
// the same decision as a read (and route-explain): no separate copy of the rules.
#include <cstring>
#include <string>

#include "fuse/fuse_ops.h"

namespace musicfs {

namespace {
constexpr const char kOriginAttr[] = "user.musicfs.origin";

int reply(const std::string& value, char* out, size_t size) {
  if (size == 0) return static_cast<int>(value.size());
  if (size < value.size()) return -ERANGE;
  std::memcpy(out, value.data(), value.size());
  return static_cast<int>(value.size());
}
}  // namespace

int op_getxattr(const char* path, const char* name, char* value, size_t size) {
  if (std::strcmp(name, kOriginAttr) != 0) return -ENODATA;
  RouteDecision d = fuse_ctx().federation->explain(path);
  const RouteCandidate* s = d.selected();
  if (s == nullptr) return d.exists ? -ENODATA : -ENOENT;
  return reply(s->origin, value, size);
}

int op_listxattr(const char* path, char* list, size_t size) {
  if (!fuse_ctx().federation->getattr(path)) return -ENOENT;
  return reply(std::string(kOriginAttr, sizeof kOriginAttr), list, size);
}

}  // namespace musicfs
