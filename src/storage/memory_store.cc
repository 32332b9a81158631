#include "storage/memory_store.h"

#include <algorithm>
#include <chrono>

#include "base/strings.h"
#include "storage/internal/keys.h"

namespace lake::storage {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ToString(std::span<const std::byte> data) {
  return std::string(reinterpret_cast<const char*>(data.data()), data.size());
}

}  // namespace

Result<std::string> MemoryStore::Get(std::string_view key) {
  LAKE_RETURN_IF_ERROR(internal::ValidateKey(key));
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return Status::NotFound(StrCat(uri(), "/", key, ": no such object"));
  return it->second.data;
}

Result<std::string> MemoryStore::GetRange(std::string_view key, int64_t offset, int64_t length) {
  LAKE_RETURN_IF_ERROR(internal::ValidateKey(key));
  if (offset < 0 || length < 0) {
    return Status::InvalidArgument(
        StrCat(uri(), "/", key, ": negative range (offset ", offset, ", length ", length, ")"));
  }
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return Status::NotFound(StrCat(uri(), "/", key, ": no such object"));
  const std::string& data = it->second.data;
  if (offset >= static_cast<int64_t>(data.size())) return std::string();
  return data.substr(static_cast<size_t>(offset), static_cast<size_t>(length));
}

Status MemoryStore::Put(std::string_view key, std::span<const std::byte> data) {
  LAKE_RETURN_IF_ERROR(internal::ValidateKey(key));
  std::lock_guard lock(mu_);
  objects_.insert_or_assign(std::string(key), Object{ToString(data), NowMs()});
  return Status::OK();
}

Status MemoryStore::PutIfAbsent(std::string_view key, std::span<const std::byte> data) {
  LAKE_RETURN_IF_ERROR(internal::ValidateKey(key));
  std::lock_guard lock(mu_);
  auto [it, inserted] = objects_.try_emplace(std::string(key), Object{ToString(data), NowMs()});
  if (!inserted) return Status::AlreadyExists(StrCat(uri(), "/", key, " already exists"));
  return Status::OK();
}

Result<std::vector<ObjectInfo>> MemoryStore::ListAfter(std::string_view prefix,
                                                       std::string_view start) {
  LAKE_RETURN_IF_ERROR(internal::ValidatePrefix(prefix));
  std::vector<ObjectInfo> out;
  std::lock_guard lock(mu_);
  // Keys with `prefix` form one contiguous run of the (byte-ordered) map; begin at whichever
  // of the prefix and `start` comes later.
  auto it = objects_.lower_bound(std::max(prefix, start));
  for (; it != objects_.end() && StartsWith(it->first, prefix); ++it) {
    if (it->first == start) continue;
    out.push_back(
        ObjectInfo{it->first, static_cast<int64_t>(it->second.data.size()), it->second.mtime_ms});
  }
  return out;
}

Status MemoryStore::Delete(std::string_view key) {
  LAKE_RETURN_IF_ERROR(internal::ValidateKey(key));
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return Status::NotFound(StrCat(uri(), "/", key, ": no such object"));
  objects_.erase(it);
  return Status::OK();
}

Result<ObjectInfo> MemoryStore::Head(std::string_view key) {
  LAKE_RETURN_IF_ERROR(internal::ValidateKey(key));
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return Status::NotFound(StrCat(uri(), "/", key, ": no such object"));
  return ObjectInfo{it->first, static_cast<int64_t>(it->second.data.size()), it->second.mtime_ms};
}

Status MemoryStore::SetMtime(std::string_view key, int64_t mtime_ms) {
  LAKE_RETURN_IF_ERROR(internal::ValidateKey(key));
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return Status::NotFound(StrCat(uri(), "/", key, ": no such object"));
  it->second.mtime_ms = mtime_ms;
  return Status::OK();
}

}  // namespace lake::storage
