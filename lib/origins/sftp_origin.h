#pragma once
// An origin that is a directory on an SFTP server, reached with libssh. The server's
// host key must already be in known_hosts (unknown or changed keys are refused);
// authentication is by identity_file, else by the ssh-agent. Calls share a small pool
// of sessions, and every network wait is bounded by the call's deadline.
//
// The origin never leaves its root: names with '/', "." or ".." are rejected, symlinks
// are reported as symlinks and never followed, and open() refuses anything that is not
// a regular file (lstat, so a symlink is not opened through).
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "origins/origin.h"
#include "origins/ssh_session.h"

namespace musicfs {

class SftpOrigin : public Origin {
 public:
  SftpOrigin(std::string id, std::string root, SshParams params);

  const std::string& id() const override { return shared_->id; }
  const std::string& type() const override { return type_; }
  std::string location() const override;

  Status list(std::string_view under, const std::function<void(ListedEntry&&)>& sink,
              Deadline deadline) override;
  Result<EntryAttr> stat(std::string_view path, Deadline deadline) override;
  Result<std::unique_ptr<OriginFile>> open(std::string_view path, Deadline deadline) override;
  Status probe(Deadline deadline) override;

  // State an open file keeps alive after the origin itself is gone.
  struct Shared {
    Shared(std::string id, std::string root, SshParams params);
    std::string id;
    std::string root;  // absolute, no trailing '/' (empty for "/")
    SshPool pool;
    std::atomic<uint64_t> next_file_id{1};
    // Sizes seen by the last listing (keyed by a hash of the path): a file whose size
    // differs at open time has changed since it was indexed, and its bytes would not
    // match the index's idea of it.
    std::mutex sizes_mu;
    std::unordered_map<size_t, uint64_t> listed_sizes;
  };

 private:
  std::string type_ = "sftp";
  std::shared_ptr<Shared> shared_;
};

}  // namespace musicfs
