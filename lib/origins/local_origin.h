#pragma once
// An origin that is a directory on this machine: a local disk, or an NFS/SMB share
// that the system has already mounted. Every path is resolved beneath the root with
// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): no '..' and no symlink can take a
// lookup outside the origin, and symlinks are reported as links, never followed.
#include <sys/stat.h>

#include <atomic>
#include <string>

#include "origins/origin.h"
#include "util/unique_fd.h"

namespace musicfs {

class LocalOrigin : public Origin {
 public:
  LocalOrigin(std::string id, std::string type, std::string root);

  const std::string& id() const override { return id_; }
  const std::string& type() const override { return type_; }
  std::string location() const override { return root_; }

  Status list(std::string_view under, const std::function<void(ListedEntry&&)>& sink,
              Deadline deadline) override;
  Result<EntryAttr> stat(std::string_view path, Deadline deadline) override;
  Result<std::unique_ptr<OriginFile>> open(std::string_view path, Deadline deadline) override;
  Status probe(Deadline deadline) override;
  std::unique_ptr<WatchHandle> watch(ChangeCallback callback) override;
  void note_indexed_files() override { had_entries_.store(true); }

 private:
  // The root is opened afresh for each lookup rather than held: a share that is
  // unmounted and mounted again must be seen anew, not through a stale descriptor.
  Result<UniqueFd> open_root() const;
  Result<UniqueFd> open_beneath(std::string_view path, int flags) const;

  std::string id_;
  std::string type_;
  std::string root_;
  // Set by list(): a root that once had entries and is now empty is an unmounted share.
  std::atomic<bool> had_entries_{false};
};

// Converts lstat-style data to an EntryAttr; false for types we do not serve
// (sockets, fifos, devices).
bool entry_attr_from_stat(const struct stat& st, EntryAttr& out);

}  // namespace musicfs
