// Remote origin types whose schema is accepted but whose transport is not built yet.
// Their create hook is empty, so mounting an enabled one fails with a message that
// names the origin and its type (see create_origin).
#include "origins/origin_types.h"

namespace musicfs {

OriginTypeInfo s3_origin_type() {
  return {"s3",
          true,
          "an S3 or S3-compatible bucket",
          {
              {"bucket", SettingKind::kString, true, "the bucket name"},
              {"prefix", SettingKind::kString, false, "key prefix of the music tree"},
              {"region", SettingKind::kString, false, "the bucket's region, e.g. us-east-1"},
              {"endpoint", SettingKind::kString, false, "URL of an S3-compatible server"},
              {"path_style", SettingKind::kBool, false, "use path-style addressing"},
              {"credentials_file", SettingKind::kAbsolutePath, false, "AWS shared-credentials file"},
              {"profile", SettingKind::kString, false, "profile in credentials_file"},
              {"refresh_interval_secs", SettingKind::kInteger, false, "index polling interval", 10, 86400},
          },
          nullptr};
}

OriginTypeInfo sftp_origin_type() {
  return {"sftp",
          true,
          "a directory on an SFTP server",
          {
              {"host", SettingKind::kString, true, "server host name or address"},
              {"port", SettingKind::kInteger, false, "server port (22)", 1, 65535},
              {"user", SettingKind::kString, false, "login name"},
              {"path", SettingKind::kAbsolutePath, true, "absolute path of the music directory on the server"},
              {"identity_file", SettingKind::kAbsolutePath, false, "private key file"},
              {"known_hosts", SettingKind::kAbsolutePath, false, "known_hosts file"},
              {"refresh_interval_secs", SettingKind::kInteger, false, "index polling interval", 10, 86400},
          },
          nullptr};
}

}  // namespace musicfs
