// ObjectStore: a flat namespace of immutable objects under one root (a local folder, memory,
// later S3/Azure). Keys are '/'-separated paths relative to the root, never starting with '/'
// (for example "_delta_log/00000000000000000003.json"). All methods are safe to call from any
// thread; implementations are thread-safe.
//
// Errors: kNotFound (no such key), kAlreadyExists (PutIfAbsent lost), kIOError (the call may or
// may not have taken effect, except where a method says otherwise), kInvalidArgument (bad key).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace lake::storage {

struct ObjectInfo {
  std::string key;         // relative to the store root
  int64_t size = 0;        // bytes
  int64_t mtime_ms = 0;    // last modification, ms since the Unix epoch
};

// A payload made durable once and then published under candidate keys until one is absent:
// a commit retried at later versions writes and syncs its bytes once, and each retry only
// claims a name (ObjectStore::PreparePut).
class PreparedPut {
 public:
  virtual ~PreparedPut() = default;
  // As ObjectStore::PutIfAbsent(key, <the prepared bytes>): kAlreadyExists leaves the payload
  // prepared for another key; OK publishes it (durably) and ends its use.
  virtual Status PublishIfAbsent(std::string_view key) = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Returns the whole object.
  virtual Result<std::string> Get(std::string_view key) = 0;
  // Returns up to `length` bytes starting at `offset` (fewer at the end of the object).
  virtual Result<std::string> GetRange(std::string_view key, int64_t offset, int64_t length) = 0;
  // Writes `key` atomically: readers see the old object or the new one, never a part.
  // Overwrites an existing object. Used for data files and hints, never for log entries.
  virtual Status Put(std::string_view key, std::span<const std::byte> data) = 0;
  // Creates `key` only if absent: this is how a commit claims a version, since writers
  // must never overwrite a log entry (PROTOCOL.md, "Creation of New Log Entries"). Atomic
  // across processes; durable (file and directory synced) when it returns OK.
  // AlreadyExists: another writer claimed it, our data was not written. Other errors: it may
  // or may not exist.
  virtual Status PutIfAbsent(std::string_view key, std::span<const std::byte> data) = 0;
  // Keys under `prefix` (a plain string prefix of the key, typically a folder ending in '/')
  // sorting strictly after `start` (empty: from the first), in byte order. Log replay relies
  // on the order; a backend that cannot list in order sorts before returning. Recursive.
  virtual Result<std::vector<ObjectInfo>> ListAfter(std::string_view prefix,
                                                    std::string_view start) = 0;
  // Deletes `key`. kNotFound if it did not exist.
  virtual Status Delete(std::string_view key) = 0;
  // Returns size and modification time of `key`.
  virtual Result<ObjectInfo> Head(std::string_view key) = 0;

  // Returns a URI that names the store root ("file:///data/t", "memory://x").
  virtual std::string uri() const = 0;
  // Returns the local file system path of `key` when the store is a local folder, so an
  // engine can open the file itself; nullopt for remote or in-memory stores.
  virtual std::optional<std::string> LocalPath(std::string_view key) const { return std::nullopt; }

  // Prepares `data` for PublishIfAbsent under keys in the folder of `key_hint`. The default
  // keeps the bytes and calls PutIfAbsent on each publish; a local store writes and syncs a
  // hidden temp file once and links it (errors: as Put, nothing becomes visible).
  virtual Result<std::unique_ptr<PreparedPut>> PreparePut(std::string_view key_hint,
                                                          std::span<const std::byte> data);

  // Convenience overloads.
  Status Put(std::string_view key, std::string_view data) {
    return Put(key, std::as_bytes(std::span(data.data(), data.size())));
  }
  Status PutIfAbsent(std::string_view key, std::string_view data) {
    return PutIfAbsent(key, std::as_bytes(std::span(data.data(), data.size())));
  }
  Result<std::unique_ptr<PreparedPut>> PreparePut(std::string_view key_hint,
                                                  std::string_view data) {
    return PreparePut(key_hint, std::as_bytes(std::span(data.data(), data.size())));
  }
};

// Opens the store named by `uri`: a plain path ("/data/t", "./t", "t") or "file://" URI for a
// local folder (which need not exist yet). Other schemes (s3://, abfss://, gs://, ...) fail
// with kNotSupported naming the scheme.
Result<std::unique_ptr<ObjectStore>> OpenStore(std::string_view uri);

// Test seam, for fault tests only: a function OpenStore applies to every store it opens from
// then on (it owns the store it is given and returns the store callers get), e.g. to put a
// FaultyStore under the SQL write path, whose stores are opened deep inside the engine.
// Set it before opening the Database whose statements should see it, and reset it (pass an
// empty function) once that Database is closed: stores opened earlier keep what they were
// opened with. Setting it is thread-safe; OpenStore calls the function without a lock, so it
// must be thread-safe itself. Production code never sets it.
using StoreWrapper = std::function<std::unique_ptr<ObjectStore>(std::unique_ptr<ObjectStore>)>;
void SetStoreWrapperForTesting(StoreWrapper wrapper);

}  // namespace lake::storage
