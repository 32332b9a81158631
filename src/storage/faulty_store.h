// FaultyStore wraps another store and injects failures by call number, for fault tests
// (STYLE.md §9): "for every N, the table opens at its last committed version".
// Every method call counts, starting at 1. At call N (the trigger) it does what the mode
// says; calls before N pass through untouched.
//  - kFailOnce: call N returns kIOError without touching the inner store; later calls pass.
//  - kCrash: call N and every later call return kIOError without touching the inner store,
//    as if the process died just before call N.
//  - kCrashAfter: call N goes through to the inner store, then returns kIOError, and every
//    later call fails: the process died after the effect but before it learned of it.
// A Schedule (the trigger, the mode and the call counter) can be shared by several
// FaultyStores, so that one "call N" spans every store an operation opens: with
// SetStoreWrapperForTesting (object_store.h) each store the SQL engine opens is wrapped in a
// FaultyStore owning it, all counting on one Schedule.
// Thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "storage/object_store.h"

namespace lake::storage {

class FaultyStore final : public ObjectStore {
 public:
  enum class Mode { kFailOnce, kCrash, kCrashAfter };

  // Which call fails and how; counts the calls of every FaultyStore that shares it.
  class Schedule {
   public:
    // trigger_call = 0 never fails.
    Schedule(int64_t trigger_call, Mode mode) : trigger_(trigger_call), mode_(mode) {}
    // Returns the number of calls made so far (to size a "for every N" loop).
    int64_t calls() const { return calls_.load(); }
    // Returns true once the trigger call happened.
    bool triggered() const { return triggered_.load(); }
    int64_t trigger_call() const { return trigger_; }
    Mode mode() const { return mode_; }

   private:
    friend class FaultyStore;
    const int64_t trigger_;
    const Mode mode_;
    std::atomic<int64_t> calls_{0};
    std::atomic<bool> triggered_{false};
  };

  // Wraps `inner` (borrowed; must outlive this) with a schedule of its own.
  FaultyStore(ObjectStore& inner, int64_t trigger_call, Mode mode)
      : inner_(inner), schedule_(std::make_shared<Schedule>(trigger_call, mode)) {}
  // Wraps and owns `inner`, counting on `schedule` (shared with other FaultyStores).
  FaultyStore(std::unique_ptr<ObjectStore> inner, std::shared_ptr<Schedule> schedule)
      : owned_(std::move(inner)), inner_(*owned_), schedule_(std::move(schedule)) {}

  // Returns the number of calls made so far through this store's schedule.
  int64_t calls() const { return schedule_->calls(); }
  // Returns true once the schedule's trigger call happened.
  bool triggered() const { return schedule_->triggered(); }

  Result<std::string> Get(std::string_view key) override;
  Result<std::string> GetRange(std::string_view key, int64_t offset, int64_t length) override;
  Status Put(std::string_view key, std::span<const std::byte> data) override;
  Status PutIfAbsent(std::string_view key, std::span<const std::byte> data) override;
  Result<std::vector<ObjectInfo>> ListAfter(std::string_view prefix,
                                            std::string_view start) override;
  Status Delete(std::string_view key) override;
  Result<ObjectInfo> Head(std::string_view key) override;
  std::string uri() const override { return inner_.uri(); }
  std::optional<std::string> LocalPath(std::string_view key) const override {
    return inner_.LocalPath(key);
  }
  using ObjectStore::Put;
  using ObjectStore::PutIfAbsent;

 private:
  enum class Gate { kPass, kFailBefore, kFailAfter };
  Gate Enter(std::string_view op, std::string_view key);
  Status Injected(std::string_view op, std::string_view key) const;

  std::unique_ptr<ObjectStore> owned_;  // null when `inner_` is borrowed
  ObjectStore& inner_;
  std::shared_ptr<Schedule> schedule_;
};

}  // namespace lake::storage
