// ObjectStore kept in memory: for tests and fakes. Thread-safe (one mutex).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "storage/object_store.h"

namespace lake::storage {

class MemoryStore final : public ObjectStore {
 public:
  explicit MemoryStore(std::string name = "mem") : name_(std::move(name)) {}

  Result<std::string> Get(std::string_view key) override;
  Result<std::string> GetRange(std::string_view key, int64_t offset, int64_t length) override;
  Status Put(std::string_view key, std::span<const std::byte> data) override;
  Status PutIfAbsent(std::string_view key, std::span<const std::byte> data) override;
  Result<std::vector<ObjectInfo>> ListAfter(std::string_view prefix,
                                            std::string_view start) override;
  Status Delete(std::string_view key) override;
  Result<ObjectInfo> Head(std::string_view key) override;
  std::string uri() const override { return "memory://" + name_; }

  // Sets the modification time reported for `key` (tests of timestamp time travel).
  Status SetMtime(std::string_view key, int64_t mtime_ms);
  using ObjectStore::Put;
  using ObjectStore::PutIfAbsent;

 private:
  struct Object {
    std::string data;
    int64_t mtime_ms;
  };
  std::string name_;
  mutable std::mutex mu_;
  std::map<std::string, Object, std::less<>> objects_;  // guarded by mu_
};

}  // namespace lake::storage
