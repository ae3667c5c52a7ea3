#include "origins/origin_types.h"

namespace musicfs {

const std::vector<OriginTypeInfo>& origin_types() {
  // One line per type: adding a type is a new file plus one entry here.
  static const std::vector<OriginTypeInfo> types = {
      local_origin_type(),
      nfs_origin_type(),
      smb_origin_type(),
      s3_origin_type(),
      sftp_origin_type(),
      http_origin_type(),
  };
  return types;
}

const OriginTypeInfo* find_origin_type(const std::string& name) {
  for (const auto& t : origin_types()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::vector<std::string> origin_type_names() {
  std::vector<std::string> names;
  for (const auto& t : origin_types()) names.push_back(t.name);
  return names;
}

Result<OriginPtr> create_origin(const OriginConfig& config) {
  const OriginTypeInfo* info = find_origin_type(config.type);
  if (info == nullptr) {
    return make_error(ErrorCode::kConfig,
                      "origin '" + config.id + "': unknown origin_type '" + config.type + "'");
  }
  if (!info->create) {
    return make_error(ErrorCode::kUnsupported,
                      "origin '" + config.id + "' has origin_type '" + config.type +
                          "', which this version of musicfs cannot mount yet "
                          "(set enabled = false, or use a local origin)");
  }
  return info->create(config);
}

}  // namespace musicfs
