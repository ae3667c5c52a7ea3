#pragma once
// The table of origin types. Each type lives in one file in lib/origins/ and
// contributes one OriginTypeInfo, listed once in origin_types.cpp.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/setting_spec.h"
#include "origins/origin.h"
#include "origins/origin_config.h"

namespace musicfs {

struct OriginTypeInfo {
  std::string name;
  bool remote = false;
  std::string summary;
  std::vector<SettingSpec> settings;
  // nullptr while the type is accepted by the schema but not implemented yet.
  std::function<Result<OriginPtr>(const OriginConfig&)> create;
};

const std::vector<OriginTypeInfo>& origin_types();
const OriginTypeInfo* find_origin_type(const std::string& name);
std::vector<std::string> origin_type_names();

// Builds the origin for a validated config, or explains why it cannot.
Result<OriginPtr> create_origin(const OriginConfig& config);

// Each type's descriptor, defined in its own file.
OriginTypeInfo local_origin_type();
OriginTypeInfo nfs_origin_type();
OriginTypeInfo smb_origin_type();
OriginTypeInfo s3_origin_type();
OriginTypeInfo sftp_origin_type();
OriginTypeInfo http_origin_type();

}  // namespace musicfs
