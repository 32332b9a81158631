// ObjectStore over a local folder.
//  - Put writes a temp file in the same folder, fsyncs it, renames it over the key and fsyncs
//    the folder.
//  - PutIfAbsent writes a temp file, fsyncs it, then link(2)s it to the key: link fails with
//    EEXIST when another process claimed the key, so the claim is atomic across processes
//    and a reader never sees a partly written object. The folder is fsynced after the link.
//  - ListAfter reads only the folder the prefix points into ("_delta_log/" for
//    "_delta_log/0001") and its matching sub-folders, stats only the files it returns, and
//    sorts keys in byte order.
//  - A folder is not an object: Get/Head/Delete of a key that is a folder say kNotFound. A key
//    cannot be both an object and a folder of other keys (a file system limit).
// Temp files are named ".<name>.tmp.<random>" and are skipped by ListAfter.
#pragma once

#include <memory>
#include <string>

#include "storage/object_store.h"

namespace lake::storage {

class LocalStore final : public ObjectStore {
 public:
  // `root` is an absolute or relative folder path; it is created on the first write.
  static Result<std::unique_ptr<LocalStore>> Open(std::string root);

  Result<std::string> Get(std::string_view key) override;
  Result<std::string> GetRange(std::string_view key, int64_t offset, int64_t length) override;
  Status Put(std::string_view key, std::span<const std::byte> data) override;
  Status PutIfAbsent(std::string_view key, std::span<const std::byte> data) override;
  Result<std::unique_ptr<PreparedPut>> PreparePut(std::string_view key_hint,
                                                  std::span<const std::byte> data) override;
  Result<std::vector<ObjectInfo>> ListAfter(std::string_view prefix,
                                            std::string_view start) override;
  Status Delete(std::string_view key) override;
  Result<ObjectInfo> Head(std::string_view key) override;
  std::string uri() const override;
  std::optional<std::string> LocalPath(std::string_view key) const override;

  const std::string& root() const { return root_; }
  using ObjectStore::Put;
  using ObjectStore::PutIfAbsent;
  using ObjectStore::PreparePut;

 private:
  explicit LocalStore(std::string root) : root_(std::move(root)) {}
  std::string root_;  // absolute, no trailing '/'
};

}  // namespace lake::storage
