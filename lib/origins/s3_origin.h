#pragma once
// An origin that is a bucket (and optional key prefix) on Amazon S3 or an
// S3-compatible server. Listing is ListObjectsV2, stat a HEAD of the object, probe a
// HEAD of the bucket, reads are ranged GETs; every request is signed by libcurl's
// AWS SigV4 support with keys found by reference (see s3_credentials.h). Nothing here
// writes to the bucket.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "origins/origin.h"
#include "origins/s3_endpoint.h"

namespace musicfs {

class S3Origin : public Origin {
 public:
  S3Origin(std::string id, std::string type, std::shared_ptr<S3Endpoint> endpoint);

  const std::string& id() const override { return id_; }
  const std::string& type() const override { return type_; }
  std::string location() const override { return endpoint_->location(); }

  Status list(std::string_view under, const std::function<void(ListedEntry&&)>& sink,
              Deadline deadline) override;
  Result<EntryAttr> stat(std::string_view path, Deadline deadline) override;
  Result<std::unique_ptr<OriginFile>> open(std::string_view path, Deadline deadline) override;
  Status probe(Deadline deadline) override;

 private:
  // The key of a path below the origin's root ("/A/b.flac" -> "prefix/A/b.flac");
  // nullopt for a path that could escape the prefix.
  std::optional<std::string> key_of(std::string_view path) const;
  Result<HttpResponse> head_object(std::string_view path, Deadline deadline);

  std::string id_;
  std::string type_;
  std::shared_ptr<S3Endpoint> endpoint_;
  // Sizes seen by the last listing, so a read can tell that an object changed since it
  // was indexed (and fail clearly instead of serving bytes of another version).
  std::mutex sizes_mu_;
  std::unordered_map<std::string, uint64_t> listed_sizes_;
};

}  // namespace musicfs
