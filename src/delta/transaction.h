// Transaction: one atomic commit to a Delta table, with optimistic concurrency
// (PROTOCOL.md "Creation of New Log Entries"; conflict rules after delta-io/delta
// ConflictChecker.scala). Design notes and the commit protocol: transaction.cc; the rules
// and the retry bound: docs/transactions.md.
//
// Use:
//   LAKE_ASSIGN_OR_RETURN(SnapshotPtr snap, LoadSnapshot(engine));
//   LAKE_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(engine, snap));  // writer gate here
//   txn->ReadPredicate(pred);            // what the statement read (see "Reads" below)
//   ... write data files (invisible until committed) ...
//   LAKE_RETURN_IF_ERROR(txn->StageAdd(add));
//   txn->SetOperation("WRITE", R"({"mode":"Append"})", metrics_json);
//   LAKE_ASSIGN_OR_RETURN(CommitResult r, txn->Commit());
//
// Reads. A transaction must record what its result depended on, so that a concurrent commit
// that changes it fails this one instead of being silently lost:
//   - ReadWholeTable(): any file added or removed concurrently conflicts (overwrite, DELETE
//     without a filter).
//   - ReadPredicate(p) / ReadMatching(fn): a concurrently added file conflicts when it may
//     hold rows matching (decided on partition values and stats, conservatively).
//   - MarkFileRead(add): a concurrent remove of that file conflicts. Staged removes mark
//     their files read implicitly.
//   - TxnVersion(app_id): a concurrent txn action for that app conflicts; SetTxn marks it too.
//   - Metadata and protocol: always; any concurrent change to them conflicts.
// A transaction that records no read and stages no remove is a blind append: it never
// conflicts except on protocol/metadata/domain/app-id changes.
//
// Thread-safety: single-thread object; one Transaction per statement. Many transactions (in
// one or many processes) may commit to one table concurrently: PutIfAbsent is the only lock.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "delta/actions.h"
#include "delta/engine.h"
#include "delta/schema.h"
#include "delta/skipping.h"
#include "delta/snapshot.h"
#include "delta/table_features.h"

namespace lake::delta {

// Delta's isolation levels (isolationLevels.scala): under WriteSerializable (the default)
// files a concurrent blind append added do not conflict with our reads; Serializable
// checks them too. The table property delta.isolationLevel picks one.
enum class IsolationLevel { kWriteSerializable, kSerializable };

// Returns "WriteSerializable" / "Serializable", as written in commitInfo.isolationLevel.
std::string_view IsolationLevelName(IsolationLevel level);

// How many times Commit tries to claim a version before giving up with kConflict.
inline constexpr int kDefaultMaxCommitAttempts = 100;

// Returns "lake/<version>", the engineInfo of every commit lake writes.
std::string LakeEngineInfo();

struct TransactionOptions {
  // Default: the table's delta.isolationLevel, else WriteSerializable.
  std::optional<IsolationLevel> isolation_level;
  int max_commit_attempts = kDefaultMaxCommitAttempts;
  // Milliseconds since the epoch for commitInfo.timestamp, inCommitTimestamp, txn
  // lastUpdated and remove deletionTimestamp defaults. Default: the system clock. Tests
  // inject a fixed or stepping clock.
  std::function<int64_t()> clock_ms;
  // Called right before each PutIfAbsent attempt with the version about to be claimed: a
  // sync point for race tests (commit another transaction here to make this one lose).
  std::function<void(Version)> before_commit_attempt;
};

struct CommitResult {
  Version version = 0;  // the version this commit created
  int attempts = 1;     // PutIfAbsent calls made; 1 = no race lost
  std::string txn_id;   // commitInfo.txnId
  std::optional<int64_t> in_commit_timestamp;
  std::vector<Version> winners_checked;  // concurrent commits checked for conflicts
};

// The kinds of kConflict a commit reports; the message starts with the kind's text.
enum class ConflictKind {
  kProtocolChanged,           // "protocol changed"
  kMetadataChanged,           // "metadata changed"
  kConcurrentAppend,          // "concurrent append"
  kConcurrentDeleteRead,      // "concurrent delete-read"
  kConcurrentDeleteDelete,    // "concurrent delete-delete"
  kConcurrentTransaction,     // "concurrent transaction" (same app id)
  kConcurrentDomainMetadata,  // "concurrent domain metadata"
  kConcurrentCreate,          // "concurrent table creation"
  kTooManyAttempts,           // "too many concurrent commits"
};
std::string_view ConflictKindText(ConflictKind kind);

// Returns a new table's metaData: a fresh UUID id, createdTime = `now_ms`, format parquet.
Metadata NewTableMetadata(std::string schema_string, std::vector<std::string> partition_columns,
                          StringMap configuration, int64_t now_ms);

class Transaction {
 public:
  // Starts a transaction on the table `read_snapshot` was loaded from (through `engine`,
  // which must outlive the transaction). Runs the writer gate: kNotSupported naming each
  // feature lake cannot write (table_features.h), before the caller writes any data file.
  static Result<std::unique_ptr<Transaction>> Begin(Engine& engine, SnapshotPtr read_snapshot,
                                                    TransactionOptions options = {});
  // Starts the transaction that creates a table at version 0; UpdateMetadata is required
  // before Commit. kAlreadyExists when the location already holds a Delta log.
  static Result<std::unique_ptr<Transaction>> BeginCreate(Engine& engine,
                                                          TransactionOptions options = {});

  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // ---- What the transaction read. -----------------------------------------------------
  // The snapshot read (null for a create).
  const SnapshotPtr& read_snapshot() const { return read_snapshot_; }
  // The version read; -1 for a create.
  Version read_version() const { return read_snapshot_ ? read_snapshot_->version() : -1; }
  // The table's metadata as this commit will leave it (the staged update, else the read one).
  const Metadata& metadata() const;
  // The schema of metadata().
  const Schema& schema() const { return schema_; }
  // The column mapping mode data files must be written with ("none", "name", "id").
  const std::string& column_mapping_mode() const { return column_mapping_mode_; }
  // Returns the physical name of top-level column `logical_name` for data files, stats and
  // partition values (PhysicalColumnName with this table's mode).
  Result<std::string> PhysicalName(std::string_view logical_name) const;
  // Returns the constraints every written row must satisfy (engine enforces them).
  Result<std::vector<TableConstraint>> Constraints() const;

  void ReadWholeTable() { read_whole_table_ = true; }
  // Records a data predicate (over logical columns). The read snapshot's schema and
  // partition columns decide whether a concurrently added file may match.
  void ReadPredicate(const Predicate& predicate);
  // Records a read whose file matcher is given directly: `may_match` returns true when an
  // added file could hold rows the read would have seen (false only when certain). The
  // description names the read in conflict messages.
  void ReadMatching(std::function<bool(const AddFile&)> may_match, std::string description);
  // Records that the result depends on this file's content.
  void MarkFileRead(const AddFile& file);
  // Returns the last committed version of `app_id` in the read snapshot (nullopt if none)
  // and records the dependency: a concurrent commit for the same app id conflicts.
  std::optional<int64_t> TxnVersion(const std::string& app_id);

  // ---- What the commit writes. --------------------------------------------------------
  // Replaces the table's metadata. At most once. The protocol is upgraded in the same commit
  // when the new metadata needs features (UpgradeProtocolFor); "delta.feature.*" and
  // delta.minReader/WriterVersion properties only request protocol support and are not
  // stored. Runs the writer gate against the result. kInvalidArgument on a bad schema or
  // partition column; kNotSupported from the gate.
  Status UpdateMetadata(Metadata metadata);
  // Sets the protocol explicitly (merged with what the metadata needs). kInvalidArgument on
  // a downgrade of the read protocol; kNotSupported from the gate.
  Status UpdateProtocol(Protocol protocol);
  // Stages an added data file (path relative and percent-encoded; partition values keyed by
  // physical names, serialized per PROTOCOL.md "Partition Value Serialization").
  // kInvalidArgument on a missing partition value, a duplicate path or a negative size;
  // An add may carry a deletion vector; Commit checks that the protocol supports them and
  // that the add has numRecords (kFailedPrecondition / kInvalidArgument).
  Status StageAdd(AddFile add);
  // Stages a removed file; marks it read. kFailedPrecondition on an append-only table when
  // data_change is true; kInvalidArgument on a duplicate.
  Status StageRemove(RemoveFile remove);
  // Builds the remove of a live file: deletionTimestamp, dataChange, extendedFileMetadata =
  // true with partitionValues, size, stats, tags, and the file's deletion vector and row
  // tracking fields, so the logical file key (path, dv) matches.
  static RemoveFile RemoveFor(const AddFile& add, int64_t deletion_timestamp_ms,
                              bool data_change = true);
  // Stages a change data file (dataChange is forced to false, PROTOCOL.md "Add CDC File").
  Status StageCdc(AddCdcFile cdc);
  // Records that `app_id` has committed `version` (PROTOCOL.md "Transaction Identifiers");
  // lastUpdated = now. Marks the app id read. kInvalidArgument when staged twice.
  Status SetTxn(const std::string& app_id, int64_t version);
  // Stages a domainMetadata action; the protocol gains domainMetadata if missing.
  // kInvalidArgument when the domain is staged twice.
  Status StageDomainMetadata(DomainMetadata domain);
  // Sets commitInfo.operation and the raw JSON objects operationParameters and
  // operationMetrics ("{}" when empty). Default operation: "WRITE" ("CREATE TABLE" for a
  // create).
  void SetOperation(std::string operation, std::string parameters_json = "{}",
                    std::string metrics_json = "{}");

  // Whether the commit is a blind append (commitInfo.isBlindAppend): no recorded read and
  // no remove.
  bool is_blind_append() const;
  IsolationLevel isolation_level() const { return isolation_level_; }

  // Commits: writes _delta_log/<version>.json with PutIfAbsent, commitInfo first. After a
  // lost race, checks every commit that won since the read version and retries at the next
  // version when none conflicts, at most options.max_commit_attempts times. Errors:
  //   kConflict: a winner conflicts (message: kind, table, versions, file; hint: re-run).
  //   kIOError and others from the store: the commit may or may not exist (the message names
  //     the version and txnId, which history shows when it landed). Never half-visible: a
  //     commit file exists whole or not at all (PutIfAbsent contract).
  //   kInvalidArgument / kFailedPrecondition: the staged actions break a protocol rule.
  // Call once; the transaction is finished afterwards (kFailedPrecondition on reuse).
  Result<CommitResult> Commit();

 private:
  struct ReadMatcher {
    std::function<bool(const AddFile&)> may_match;
    std::string description;
  };

  Transaction(Engine& engine, SnapshotPtr read_snapshot, TransactionOptions options);
  Status Init();
  int64_t NowMs() const;
  std::string TableName() const;
  // Re-derives new_protocol_ after a staged action needs a feature (domainMetadata) and
  // runs the writer gate on it.
  Status ResolveProtocol();
  // Features the protocol needs besides the metadata's: "delta.feature.*" requests and
  // domainMetadata when domains are staged.
  std::vector<std::string> ExtraFeatures() const;
  Status ValidateForCommit() const;
  // Builds the commit text for `version` with the given in-commit timestamp.
  std::string BuildCommit(Version version, int64_t now_ms, std::optional<int64_t> ict) const;
  // Checks one winning commit against what this transaction read and wrote.
  Status CheckConflicts(Version winner_version, const ActionBatch& winner) const;
  bool ReadsAnyFile() const;

  Engine& engine_;
  SnapshotPtr read_snapshot_;
  TransactionOptions options_;
  IsolationLevel isolation_level_ = IsolationLevel::kWriteSerializable;
  bool finished_ = false;

  // Reads.
  bool read_whole_table_ = false;
  std::vector<ReadMatcher> read_matchers_;
  std::unordered_map<std::string, std::string> read_files_;  // canonical key -> log path
  std::set<std::string> read_app_ids_;

  // Staged actions.
  std::optional<Metadata> new_metadata_;
  std::optional<Protocol> requested_protocol_;
  std::optional<Protocol> new_protocol_;         // what the commit writes (resolved)
  std::vector<std::string> requested_features_;  // from "delta.feature.*" properties
  Schema schema_;
  std::string column_mapping_mode_ = "none";
  std::vector<AddFile> adds_;
  std::vector<RemoveFile> removes_;
  std::set<std::string> add_keys_;  // canonical path, per PROTOCOL.md one add per path
  std::unordered_map<std::string, std::string> remove_keys_;  // canonical -> log path
  std::vector<AddCdcFile> cdcs_;
  std::vector<Txn> txns_;
  std::vector<DomainMetadata> domains_;
  std::string operation_;
  std::string operation_parameters_json_ = "{}";
  std::string operation_metrics_json_ = "{}";
  std::string txn_id_;
};

}  // namespace lake::delta
