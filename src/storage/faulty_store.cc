#include "storage/faulty_store.h"

#include "base/strings.h"

namespace lake::storage {

FaultyStore::Gate FaultyStore::Enter(std::string_view op, std::string_view key) {
  Schedule& s = *schedule_;
  int64_t call = ++s.calls_;
  if (s.trigger_ <= 0 || call < s.trigger_) return Gate::kPass;
  if (call == s.trigger_) {
    s.triggered_ = true;
    return s.mode_ == Mode::kCrashAfter ? Gate::kFailAfter : Gate::kFailBefore;
  }
  // After the trigger: a one-off failure is over; a crashed process stays dead.
  return s.mode_ == Mode::kFailOnce ? Gate::kPass : Gate::kFailBefore;
}

Status FaultyStore::Injected(std::string_view op, std::string_view key) const {
  const char* what = schedule_->mode_ == Mode::kFailOnce ? "failure" : "crash";
  return Status::IOError(StrCat("injected ", what, " (trigger call ", schedule_->trigger_,
                                "): ", op, " ", inner_.uri(), "/", key));
}

// Each method: a gate that fails before the inner call, else the inner call, whose outcome
// is replaced by the injected error for kFailAfter: the effect happened but the caller never
// learns of it, as after a crash.

Result<std::string> FaultyStore::Get(std::string_view key) {
  Gate gate = Enter("Get", key);
  if (gate == Gate::kFailBefore) return Injected("Get", key);
  auto result = inner_.Get(key);
  if (gate == Gate::kPass) return result;
  return Injected("Get", key);
}

Result<std::string> FaultyStore::GetRange(std::string_view key, int64_t offset, int64_t length) {
  Gate gate = Enter("GetRange", key);
  if (gate == Gate::kFailBefore) return Injected("GetRange", key);
  auto result = inner_.GetRange(key, offset, length);
  if (gate == Gate::kPass) return result;
  return Injected("GetRange", key);
}

Status FaultyStore::Put(std::string_view key, std::span<const std::byte> data) {
  Gate gate = Enter("Put", key);
  if (gate == Gate::kFailBefore) return Injected("Put", key);
  auto result = inner_.Put(key, data);
  if (gate == Gate::kPass) return result;
  return Injected("Put", key);
}

Status FaultyStore::PutIfAbsent(std::string_view key, std::span<const std::byte> data) {
  Gate gate = Enter("PutIfAbsent", key);
  if (gate == Gate::kFailBefore) return Injected("PutIfAbsent", key);
  auto result = inner_.PutIfAbsent(key, data);
  if (gate == Gate::kPass) return result;
  return Injected("PutIfAbsent", key);
}

Result<std::vector<ObjectInfo>> FaultyStore::ListAfter(std::string_view prefix,
                                                       std::string_view start) {
  Gate gate = Enter("ListAfter", prefix);
  if (gate == Gate::kFailBefore) return Injected("ListAfter", prefix);
  auto result = inner_.ListAfter(prefix, start);
  if (gate == Gate::kPass) return result;
  return Injected("ListAfter", prefix);
}

Status FaultyStore::Delete(std::string_view key) {
  Gate gate = Enter("Delete", key);
  if (gate == Gate::kFailBefore) return Injected("Delete", key);
  auto result = inner_.Delete(key);
  if (gate == Gate::kPass) return result;
  return Injected("Delete", key);
}

Result<ObjectInfo> FaultyStore::Head(std::string_view key) {
  Gate gate = Enter("Head", key);
  if (gate == Gate::kFailBefore) return Injected("Head", key);
  auto result = inner_.Head(key);
  if (gate == Gate::kPass) return result;
  return Injected("Head", key);
}

}  // namespace lake::storage
