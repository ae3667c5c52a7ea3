#include "cache/file_version.h"

#include <xxhash.h>

#include <cstdio>
#include <cstring>

namespace musicfs {

namespace {
void put_u64(std::string& out, uint64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  out.append(b, 8);
}
void put_str(std::string& out, const std::string& s) {
  put_u64(out, s.size());
  out += s;
}

// An unambiguous encoding of every field of v (lengths before strings).
std::string version_key(const FileVersion& v) {
  std::string key;
  key.reserve(64 + v.mount.size() + v.origin.size() + v.path.size());
  put_str(key, v.mount);
  put_str(key, v.origin);
  put_str(key, v.path);
  put_u64(key, v.size);
  put_u64(key, static_cast<uint64_t>(v.mtime_sec));
  put_u64(key, v.mtime_nsec);
  return key;
}

std::string hex128(const std::string& key) {
  XXH128_hash_t h = XXH3_128bits(key.data(), key.size());
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return std::string(hex, 32);
}
}  // namespace

std::string chunk_name(const FileVersion& v, uint32_t index) {
  std::string key = version_key(v);
  put_u64(key, index);
  return hex128(key);
}

// The key of a segment is tagged so that it can never equal a chunk's key.
std::string segment_name(const FileVersion& v) { return hex128("segment" + version_key(v)); }

}  // namespace musicfs
