// Transactions: create, append, races, idempotent txns, in-commit timestamps, protocol
// upgrades, append-only and the writer gate, crash safety, and real threads on LocalStore.
// Every log a test writes is checked by the protocol validator.
#include "delta/transaction.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "../storage/test_util.h"
#include "base/uuid.h"
#include "log_test_util.h"
#include "storage/faulty_store.h"
#include "storage/local_store.h"
#include "txn_test_util.h"

namespace lake::delta {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::LivePaths;
using testing::MakeAdd;
using testing::TestClock;
using testing::TxnTable;

nlohmann::json FirstLine(const std::string& text) {
  return nlohmann::json::parse(text.substr(0, text.find('\n')));
}

TEST(Create, WritesVersionZeroWithCommitInfoFirstProtocolAndMetadata) {
  TxnTable t;
  TestClock clock{.now = 1234};
  TransactionOptions options;
  options.clock_ms = clock.fn();
  ASSERT_OK_AND_ASSIGN(CommitResult r, t.Create({}, /*partitioned=*/true, options));
  EXPECT_EQ(r.version, 0);
  EXPECT_EQ(r.attempts, 1);

  ASSERT_OK_AND_ASSIGN(std::string text, t.CommitText(0));
  nlohmann::json ci = FirstLine(text)["commitInfo"];
  EXPECT_EQ(ci["timestamp"], 1234);
  EXPECT_EQ(ci["operation"], "CREATE TABLE");
  EXPECT_EQ(ci["isolationLevel"], "WriteSerializable");
  EXPECT_EQ(ci["isBlindAppend"], true);
  EXPECT_FALSE(ci.contains("readVersion"));  // nothing was read
  EXPECT_TRUE(
      std::regex_match(ci["engineInfo"].get<std::string>(), std::regex(R"(lake/\d+\.\d+\.\d+)")))
      << ci["engineInfo"];
  EXPECT_TRUE(std::regex_match(
      ci["txnId"].get<std::string>(),
      std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << ci["txnId"];
  EXPECT_EQ(ci["txnId"], r.txn_id);

  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_EQ(s->version(), 0);
  EXPECT_EQ(s->protocol().min_reader_version, 1);
  EXPECT_EQ(s->protocol().min_writer_version, 2);
  EXPECT_FALSE(s->protocol().writer_features.has_value());
  EXPECT_THAT(s->metadata().partition_columns, ElementsAre("p"));
  EXPECT_EQ(s->metadata().created_time, 1000);
  EXPECT_EQ(s->metadata().id.size(), 36u);
  EXPECT_THAT(s->files(), IsEmpty());
  EXPECT_VALID_LOG(t.store());
}

TEST(Create, RefusesALocationThatHoldsATable) {
  TxnTable t;
  ASSERT_OK(t.Create().status());
  auto again = Transaction::BeginCreate(t.engine());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(again.status().message(), HasSubstr("00000000000000000000.json"));
}

TEST(Create, RefusesATableWhoseFirstCommitsWereCleanedUp) {
  // Only a checkpoint-era log: 0.json is gone, so PutIfAbsent alone would not notice.
  TxnTable t;
  ASSERT_OK(t.store().Put("_delta_log/00000000000000000007.json", "{}\n"));
  auto again = Transaction::BeginCreate(t.engine());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
}

TEST(Create, NeedsMetadata) {
  TxnTable t;
  ASSERT_OK_AND_ASSIGN(auto txn, Transaction::BeginCreate(t.engine()));
  auto r = txn->Commit();
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(t.store().Get("_delta_log/00000000000000000000.json").status().code(),
              StatusCode::kNotFound);
}

TEST(Create, RefusesAnUnknownPartitionColumn) {
  TxnTable t;
  ASSERT_OK_AND_ASSIGN(auto txn, Transaction::BeginCreate(t.engine()));
  Status st = txn->UpdateMetadata(NewTableMetadata(testing::kTxnSchema, {"nope"}, {}, 1));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("'nope'"));
}

TEST(Append, BlindAppendsAccumulateAndRecordCommitInfo) {
  TxnTable t;
  ASSERT_OK(t.Create().status());
  ASSERT_OK_AND_ASSIGN(CommitResult r1, t.Append({MakeAdd("a.parquet")}));
  ASSERT_OK_AND_ASSIGN(auto txn, t.Begin());
  ASSERT_OK(txn->StageAdd(MakeAdd("b.parquet")));
  txn->SetOperation("WRITE", R"({"mode":"Append"})", R"({"numFiles":"1","numOutputRows":"10"})");
  ASSERT_OK_AND_ASSIGN(CommitResult r2, txn->Commit());
  EXPECT_EQ(r1.version, 1);
  EXPECT_EQ(r2.version, 2);

  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_THAT(LivePaths(*s), ElementsAre("a.parquet", "b.parquet"));
  ASSERT_OK_AND_ASSIGN(std::string text, t.CommitText(2));
  nlohmann::json ci = FirstLine(text)["commitInfo"];
  EXPECT_EQ(ci["operation"], "WRITE");
  EXPECT_EQ(ci["operationParameters"]["mode"], "Append");
  EXPECT_EQ(ci["operationMetrics"]["numOutputRows"], "10");
  EXPECT_EQ(ci["readVersion"], 1);
  EXPECT_EQ(ci["isBlindAppend"], true);
  EXPECT_NE(r1.txn_id, r2.txn_id);
  EXPECT_VALID_LOG(t.store());
}

TEST(Append, RefusesDuplicatePathsAndMissingPartitionValues) {
  TxnTable t;
  ASSERT_OK(t.Create({}, /*partitioned=*/true).status());
  ASSERT_OK_AND_ASSIGN(auto txn, t.Begin());
  ASSERT_OK(txn->StageAdd(MakeAdd("p=a/x.parquet", "a")));
  EXPECT_EQ(txn->StageAdd(MakeAdd("p=a/x.parquet", "a")).code(), StatusCode::kInvalidArgument);
  ASSERT_OK(txn->StageAdd(MakeAdd("y.parquet")));  // no value for p
  auto r = txn->Commit();
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("y.parquet"));
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_EQ(s->version(), 0);
}

TEST(Append, ACommittedTransactionCannotCommitAgain) {
  TxnTable t;
  ASSERT_OK(t.Create().status());
  ASSERT_OK_AND_ASSIGN(auto txn, t.Begin());
  ASSERT_OK(txn->StageAdd(MakeAdd("a")));
  ASSERT_OK(txn->Commit().status());
  EXPECT_EQ(txn->Commit().status().code(), StatusCode::kFailedPrecondition);
}

TEST(Remove, RemoveForCarriesTheFileMetadata) {
  AddFile add = MakeAdd("p=a/f.parquet", "a");
  add.tags = {{"k", "v"}};
  RemoveFile r = Transaction::RemoveFor(add, 777, /*data_change=*/true);
  EXPECT_EQ(r.path, "p=a/f.parquet");
  EXPECT_EQ(r.deletion_timestamp, 777);
  EXPECT_TRUE(r.data_change);
  EXPECT_EQ(r.extended_file_metadata, true);
  ASSERT_TRUE(r.partition_values.has_value());
  EXPECT_EQ(r.partition_values->at(0).second, "a");
  EXPECT_EQ(r.size, 100);
  EXPECT_EQ(r.stats, add.stats);
  EXPECT_EQ(r.tags.at("k"), "v");
}

TEST(Remove, DeleteCommitRemovesTheFile) {
  TxnTable t;
  ASSERT_OK(t.Create().status());
  ASSERT_OK(t.Append({MakeAdd("a"), MakeAdd("b")}).status());
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  ASSERT_OK_AND_ASSIGN(auto txn, Transaction::Begin(t.engine(), s));
  txn->ReadWholeTable();
  for (const AddFile& f : s->files()) {
    if (f.path == "a") ASSERT_OK(txn->StageRemove(Transaction::RemoveFor(f, 5)));
  }
  txn->SetOperation("DELETE", R"({"predicate":"[\"id < 10\"]"})");
  EXPECT_FALSE(txn->is_blind_append());
  ASSERT_OK_AND_ASSIGN(CommitResult r, txn->Commit());
  ASSERT_OK_AND_ASSIGN(SnapshotPtr after, t.Load());
  EXPECT_THAT(LivePaths(*after), ElementsAre("b"));
  ASSERT_OK_AND_ASSIGN(std::string text, t.CommitText(r.version));
  EXPECT_EQ(FirstLine(text)["commitInfo"]["isBlindAppend"], false);
  EXPECT_VALID_LOG(t.store());
}

// ---- Races without threads: both transactions begin before either commits. ----

TEST(Race, TwoBlindAppendsBothCommitAndTheLoserRetries) {
  TxnTable t;
  ASSERT_OK(t.Create().status());
  ASSERT_OK_AND_ASSIGN(auto first, t.Begin());
  ASSERT_OK_AND_ASSIGN(auto second, t.Begin());
  ASSERT_OK(first->StageAdd(MakeAdd("one")));
  ASSERT_OK(second->StageAdd(MakeAdd("two")));
  ASSERT_OK_AND_ASSIGN(CommitResult r1, first->Commit());
  ASSERT_OK_AND_ASSIGN(CommitResult r2, second->Commit());
  EXPECT_EQ(r1.version, 1);
  EXPECT_EQ(r1.attempts, 1);
  EXPECT_EQ(r2.version, 2);
  EXPECT_EQ(r2.attempts, 2);
  EXPECT_THAT(r2.winners_checked, ElementsAre(1));
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_THAT(LivePaths(*s), ElementsAre("one", "two"));
  // The retried commit still says which version it read.
  ASSERT_OK_AND_ASSIGN(std::string text, t.CommitText(2));
  EXPECT_EQ(FirstLine(text)["commitInfo"]["readVersion"], 0);
  EXPECT_VALID_LOG(t.store());
}

TEST(Race, SyncPointCommitsAWinnerBeforeTheFirstAttempt) {
  TxnTable t;
  ASSERT_OK(t.Create().status());
  TransactionOptions options;
  int calls = 0;
  options.before_commit_attempt = [&](Version v) {
    if (calls++ == 0) {
      EXPECT_EQ(v, 1);
      ASSERT_OK(t.Append({MakeAdd("winner")}).status());
    }
  };
  ASSERT_OK_AND_ASSIGN(auto txn, t.Begin(options));
  ASSERT_OK(txn->StageAdd(MakeAdd("loser")));
  ASSERT_OK_AND_ASSIGN(CommitResult r, txn->Commit());
  EXPECT_EQ(r.version, 2);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(calls, 2);
}

TEST(Race, EveryWinnerSinceTheReadVersionIsChecked) {
  // The loser read partition a. Winner 1 (blind, partition b) is harmless; winner 2 adds to
  // partition a as part of a non-blind commit. Checking only the first winner would miss it.
  TxnTable t;
  ASSERT_OK(t.Create({}, /*partitioned=*/true).status());
  ASSERT_OK(t.Append({MakeAdd("p=c/c0", "c")}).status());
  ASSERT_OK_AND_ASSIGN(auto loser, t.Begin());
  loser->ReadPredicate(Predicate::Compare(Predicate::Op::kEq, "p", std::string("a")));
  ASSERT_OK(loser->StageAdd(MakeAdd("p=a/new", "a")));

  ASSERT_OK(t.Append({MakeAdd("p=b/b1", "b")}).status());  // version 2
  {
    ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
    ASSERT_OK_AND_ASSIGN(auto w, Transaction::Begin(t.engine(), s));
    w->ReadPredicate(Predicate::Compare(Predicate::Op::kEq, "p", std::string("c")));
    ASSERT_OK(w->StageRemove(Transaction::RemoveFor(MakeAdd("p=c/c0", "c"), 5)));
    ASSERT_OK(w->StageAdd(MakeAdd("p=a/moved", "a")));
    ASSERT_OK(w->Commit().status());  // version 3
  }
  auto r = loser->Commit();
  ASSERT_EQ(r.status().code(), StatusCode::kConflict) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("concurrent append"));
  EXPECT_THAT(r.status().message(), HasSubstr("version 3"));
  EXPECT_THAT(r.status().message(), HasSubstr("p=a/moved"));
  EXPECT_THAT(r.status().hint(), HasSubstr("re-run"));
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_EQ(s->version(), 3);
}

TEST(Race, GivesUpAfterTheAttemptBound) {
  TxnTable t;
  ASSERT_OK(t.Create().status());
  TransactionOptions options;
  options.max_commit_attempts = 3;
  // Before every attempt, another writer takes the version: the loser can never win.
  options.before_commit_attempt = [&](Version) {
    ASSERT_OK(t.Append({MakeAdd(NewUuidV4())}).status());
  };
  ASSERT_OK_AND_ASSIGN(auto txn, t.Begin(options));
  ASSERT_OK(txn->StageAdd(MakeAdd("starved")));
  auto r = txn->Commit();
  ASSERT_EQ(r.status().code(), StatusCode::kConflict);
  EXPECT_THAT(r.status().message(), HasSubstr("too many concurrent commits"));
  EXPECT_THAT(r.status().message(), HasSubstr("3 attempts"));
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_EQ(s->version(), 3);  // only the three interlopers landed
  EXPECT_THAT(LivePaths(*s), ::testing::Not(::testing::Contains("starved")));
}

// ---- Idempotent writes (PROTOCOL.md "Transaction Identifiers"). ----

TEST(Txn, AppVersionsAreRecordedAndReadBack) {
  TxnTable t;
  ASSERT_OK(t.Create().status());
  TestClock clock{.now = 5555};
  TransactionOptions options;
  options.clock_ms = clock.fn();
  // A streaming writer: batch 7 of app "job".
  auto write_batch = [&](int64_t batch, const std::string& file) -> Result<bool> {
    LAKE_ASSIGN_OR_RETURN(auto txn, t.Begin(options));
    std::optional<int64_t> done = txn->TxnVersion("job");
    if (done && *done >= batch) return false;  // already committed: skip
    LAKE_RETURN_IF_ERROR(txn->StageAdd(MakeAdd(file)));
    LAKE_RETURN_IF_ERROR(txn->SetTxn("job", batch));
    LAKE_RETURN_IF_ERROR(txn->Commit().status());
    return true;
  };
  ASSERT_OK_AND_ASSIGN(bool wrote, write_batch(7, "batch7"));
  EXPECT_TRUE(wrote);
  ASSERT_OK_AND_ASSIGN(bool rewrote, write_batch(7, "batch7-again"));  // a re-run
  EXPECT_FALSE(rewrote);
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_THAT(LivePaths(*s), ElementsAre("batch7"));
  ASSERT_EQ(s->txns().count("job"), 1u);
  EXPECT_EQ(s->txns().at("job").version, 7);
  EXPECT_EQ(s->txns().at("job").last_updated, 5555);
  EXPECT_VALID_LOG(t.store());
}

TEST(Txn, SameAppIdTwiceInOneCommitIsRefused) {
  TxnTable t;
  ASSERT_OK(t.Create().status());
  ASSERT_OK_AND_ASSIGN(auto txn, t.Begin());
  ASSERT_OK(txn->SetTxn("job", 1));
  EXPECT_EQ(txn->SetTxn("job", 2).code(), StatusCode::kInvalidArgument);
}

// ---- In-commit timestamps (PROTOCOL.md "In-Commit Timestamps"). ----

TEST(InCommitTimestamps, AreMonotonicEvenWhenTheClockIsNot) {
  TxnTable t;
  TestClock clock{.now = 1000};
  TransactionOptions options;
  options.clock_ms = clock.fn();
  ASSERT_OK_AND_ASSIGN(CommitResult c0,
                       t.Create({{"delta.enableInCommitTimestamps", "true"}}, false, options));
  EXPECT_EQ(c0.in_commit_timestamp, 1000);

  ASSERT_OK_AND_ASSIGN(auto a, t.Begin(options));
  ASSERT_OK_AND_ASSIGN(auto b, t.Begin(options));
  ASSERT_OK(a->StageAdd(MakeAdd("a")));
  ASSERT_OK(b->StageAdd(MakeAdd("b")));
  clock.now = 900;  // the clock goes backwards
  ASSERT_OK_AND_ASSIGN(CommitResult ra, a->Commit());
  ASSERT_OK_AND_ASSIGN(CommitResult rb, b->Commit());  // loses, retries above a's
  EXPECT_EQ(ra.in_commit_timestamp, 1001);
  EXPECT_EQ(rb.in_commit_timestamp, 1002);
  clock.now = 5000;  // a clock ahead of the last timestamp wins
  ASSERT_OK_AND_ASSIGN(auto c, t.Begin(options));
  ASSERT_OK(c->StageAdd(MakeAdd("c")));
  ASSERT_OK_AND_ASSIGN(CommitResult rc, c->Commit());
  EXPECT_EQ(rc.in_commit_timestamp, 5000);
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_EQ(s->timestamp_ms(), 5000);
  ASSERT_OK_AND_ASSIGN(SnapshotPtr v2, LoadSnapshot(t.engine(), 2));
  EXPECT_EQ(v2->timestamp_ms(), 1002);
  EXPECT_VALID_LOG(t.store());
}

TEST(InCommitTimestamps, CommitInfoIsFirstAndCarriesTheTimestamp) {
  TxnTable t;
  TestClock clock{.now = 42000};
  TransactionOptions options;
  options.clock_ms = clock.fn();
  ASSERT_OK(t.Create({{"delta.enableInCommitTimestamps", "true"}}, false, options).status());
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_EQ(s->protocol().min_reader_version, 1);
  EXPECT_EQ(s->protocol().min_writer_version, 7);
  EXPECT_EQ(s->protocol().writer_features, std::vector<std::string>{"inCommitTimestamp"});
  EXPECT_EQ(s->timestamp_ms(), 42000);
  ASSERT_OK_AND_ASSIGN(std::string text, t.CommitText(0));
  EXPECT_EQ(FirstLine(text)["commitInfo"]["inCommitTimestamp"], 42000);
  EXPECT_VALID_LOG(t.store());
}

TEST(InCommitTimestamps, EnablingOnAnExistingTableRecordsTheEnablementVersion) {
  TxnTable t;
  ASSERT_OK(t.Create().status());
  ASSERT_OK(t.memory().SetMtime("_delta_log/00000000000000000000.json", 7000));
  TestClock clock{.now = 6000};  // behind the previous commit's file time
  TransactionOptions options;
  options.clock_ms = clock.fn();
  ASSERT_OK_AND_ASSIGN(auto txn, t.Begin(options));
  Metadata m = txn->metadata();
  m.configuration["delta.enableInCommitTimestamps"] = "true";
  ASSERT_OK(txn->UpdateMetadata(m));
  ASSERT_OK_AND_ASSIGN(CommitResult r, txn->Commit());
  EXPECT_EQ(r.in_commit_timestamp, 7001);  // > the preceding commit's file time
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_EQ(s->metadata().configuration.at("delta.inCommitTimestampEnablementVersion"), "1");
  EXPECT_EQ(s->metadata().configuration.at("delta.inCommitTimestampEnablementTimestamp"), "7001");
  EXPECT_EQ(s->protocol().min_writer_version, 7);
  EXPECT_VALID_LOG(t.store());
}

// ---- Protocol upgrades and the writer gate. ----

TEST(ProtocolUpgrade, EnablingAFeatureUpgradesInTheSameCommit) {
  TxnTable t;
  ASSERT_OK(t.Create().status());
  ASSERT_OK_AND_ASSIGN(auto txn, t.Begin());
  Metadata m = txn->metadata();
  m.configuration["delta.enableDeletionVectors"] = "true";
  ASSERT_OK(txn->UpdateMetadata(m));
  ASSERT_OK_AND_ASSIGN(CommitResult r, txn->Commit());
  ASSERT_OK_AND_ASSIGN(ActionBatch batch, t.ReadCommit(r.version));
  ASSERT_EQ(batch.protocols.size(), 1u);
  const Protocol& p = batch.protocols[0];
  EXPECT_EQ(p.min_reader_version, 3);
  EXPECT_EQ(p.min_writer_version, 7);
  EXPECT_EQ(p.reader_features, std::vector<std::string>{"deletionVectors"});
  // Writer 2 implied appendOnly and invariants: they stay supported after the upgrade.
  EXPECT_EQ(p.writer_features,
            (std::vector<std::string>{"appendOnly", "deletionVectors", "invariants"}));
  ASSERT_EQ(batch.metadata.size(), 1u);
  EXPECT_VALID_LOG(t.store());
}

TEST(ProtocolUpgrade, ALegacyFeatureRaisesTheLegacyVersion) {
  TxnTable t;
  ASSERT_OK(t.Create().status());
  ASSERT_OK_AND_ASSIGN(auto txn, t.Begin());
  Metadata m = txn->metadata();
  m.configuration["delta.constraints.positive"] = "id > 0";
  ASSERT_OK(txn->UpdateMetadata(m));
  ASSERT_OK(txn->Commit().status());
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_EQ(s->protocol().min_reader_version, 1);
  EXPECT_EQ(s->protocol().min_writer_version, 3);
  EXPECT_FALSE(s->protocol().writer_features.has_value());
}

TEST(ProtocolUpgrade, NoMetadataChangeWritesNoProtocol) {
  TxnTable t;
  ASSERT_OK(t.Create({{"delta.appendOnly", "false"}}).status());
  ASSERT_OK_AND_ASSIGN(auto txn, t.Begin());
  Metadata m = txn->metadata();
  m.description = "same features";
  ASSERT_OK(txn->UpdateMetadata(m));
  ASSERT_OK_AND_ASSIGN(CommitResult r, txn->Commit());
  ASSERT_OK_AND_ASSIGN(ActionBatch batch, t.ReadCommit(r.version));
  EXPECT_THAT(batch.protocols, IsEmpty());
}

TEST(ProtocolUpgrade, FeaturePropertiesRequestSupportAndAreNotStored) {
  TxnTable t;
  ASSERT_OK(t.Create({{"delta.feature.domainMetadata", "supported"}}).status());
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_EQ(s->protocol().min_writer_version, 7);
  EXPECT_EQ(s->protocol().writer_features, std::vector<std::string>{"domainMetadata"});
  EXPECT_EQ(s->metadata().configuration.count("delta.feature.domainMetadata"), 0u);
}

TEST(ProtocolUpgrade, AnExplicitProtocolKeepsRequestedFeatures) {
  TxnTable t;
  ASSERT_OK(t.Create().status());
  ASSERT_OK_AND_ASSIGN(auto txn, t.Begin());
  Metadata m = txn->metadata();
  m.configuration["delta.feature.domainMetadata"] = "supported";
  ASSERT_OK(txn->UpdateMetadata(m));
  Protocol legacy;
  legacy.min_reader_version = 1;
  legacy.min_writer_version = 3;
  ASSERT_OK(txn->UpdateProtocol(legacy));
  ASSERT_OK(txn->Commit().status());
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_TRUE(IsFeatureSupported(s->protocol(), "domainMetadata"));
  EXPECT_TRUE(IsFeatureSupported(s->protocol(), "checkConstraints"));  // from writer 3
  EXPECT_VALID_LOG(t.store());
}

TEST(ProtocolUpgrade, DowngradeIsRefused) {
  TxnTable t;
  ASSERT_OK(t.Create({{"delta.constraints.c", "id > 0"}}).status());  // 1/3
  ASSERT_OK_AND_ASSIGN(auto txn, t.Begin());
  Protocol lower;
  lower.min_reader_version = 1;
  lower.min_writer_version = 2;
  Status st = txn->UpdateProtocol(lower);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("checkConstraints"));
}

TEST(ProtocolUpgrade, DomainMetadataAddsTheFeature) {
  TxnTable t;
  ASSERT_OK(t.Create().status());
  ASSERT_OK_AND_ASSIGN(auto txn, t.Begin());
  ASSERT_OK(txn->StageDomainMetadata({"lake.test", R"({"k":1})", false}));
  ASSERT_OK(txn->Commit().status());
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_TRUE(IsFeatureSupported(s->protocol(), "domainMetadata"));
  EXPECT_TRUE(IsFeatureSupported(s->protocol(), "appendOnly"));  // kept from writer 2
  ASSERT_EQ(s->domains().count("lake.test"), 1u);
  EXPECT_EQ(s->domains().at("lake.test").configuration, R"({"k":1})");
  EXPECT_VALID_LOG(t.store());
}

TEST(AppendOnly, DataChangingRemovesAreRefusedRearrangementIsAllowed) {
  TxnTable t;
  ASSERT_OK(t.Create({{"delta.appendOnly", "true"}}).status());
  ASSERT_OK(t.Append({MakeAdd("a")}).status());
  {
    ASSERT_OK_AND_ASSIGN(auto txn, t.Begin());
    ASSERT_OK(txn->StageRemove(Transaction::RemoveFor(MakeAdd("a"), 5, /*data_change=*/true)));
    auto r = txn->Commit();
    EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_THAT(r.status().message(), HasSubstr("append-only"));
    EXPECT_THAT(r.status().message(), HasSubstr("'a'"));
  }
  // OPTIMIZE-style compaction: same rows, dataChange=false on both sides.
  ASSERT_OK_AND_ASSIGN(auto txn, t.Begin());
  ASSERT_OK(txn->StageRemove(Transaction::RemoveFor(MakeAdd("a"), 5, /*data_change=*/false)));
  AddFile compacted = MakeAdd("a-compacted");
  compacted.data_change = false;
  ASSERT_OK(txn->StageAdd(compacted));
  txn->SetOperation("OPTIMIZE");
  ASSERT_OK(txn->Commit().status());
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_THAT(LivePaths(*s), ElementsAre("a-compacted"));
  EXPECT_VALID_LOG(t.store());
}

// Writes version 0 by hand with `protocol_line` and `metadata_line`.
void WriteHandMadeTable(TxnTable& t, const std::string& protocol_line,
                        const std::string& metadata_line = testing::MetadataLine()) {
  ASSERT_OK(t.store().PutIfAbsent("_delta_log/00000000000000000000.json",
                                  StrCat(protocol_line, "\n", metadata_line, "\n")));
}

TEST(WriterGate, RefusesTablesWithFeaturesLakeDoesNotWrite) {
  TxnTable t;
  WriteHandMadeTable(
      t,
      R"({"protocol":{"minReaderVersion":1,"minWriterVersion":7,"writerFeatures":["domainMetadata","rowTracking","fancyNewThing"]}})");
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());  // reading is fine: writer-only features
  auto txn = Transaction::Begin(t.engine(), s);
  ASSERT_EQ(txn.status().code(), StatusCode::kNotSupported);
  EXPECT_THAT(txn.status().message(), HasSubstr("'rowTracking'"));
  EXPECT_THAT(txn.status().message(), HasSubstr("'fancyNewThing'"));
  EXPECT_THAT(txn.status().message(), ::testing::Not(HasSubstr("'domainMetadata'")));
}

TEST(WriterGate, GeneratedColumnsPassWhileUnusedAndAreRefusedWhenUsed) {
  TxnTable plain;
  WriteHandMadeTable(plain, R"({"protocol":{"minReaderVersion":1,"minWriterVersion":4}})");
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, plain.Load());
  ASSERT_OK(Transaction::Begin(plain.engine(), s).status());

  TxnTable generated;
  const std::string schema =
      R"({\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,)"
      R"(\"metadata\":{\"delta.generationExpression\":\"1 + 1\"}}]})";
  WriteHandMadeTable(
      generated, R"({"protocol":{"minReaderVersion":1,"minWriterVersion":4}})",
      StrCat(
          R"({"metaData":{"id":"x","format":{"provider":"parquet","options":{}},"schemaString":")",
          schema, R"(","partitionColumns":[],"configuration":{}}})"));
  ASSERT_OK_AND_ASSIGN(SnapshotPtr g, generated.Load());
  auto txn = Transaction::Begin(generated.engine(), g);
  EXPECT_EQ(txn.status().code(), StatusCode::kNotSupported);
  EXPECT_THAT(txn.status().message(), HasSubstr("'generatedColumns'"));
}

// PROTOCOL.md "Deletion Vectors": an add may carry a DV when the protocol supports the
// feature, and must then have numRecords ("Writer Requirement for Deletion Vectors").
TEST(WriterGate, DeletionVectorsNeedTheFeatureAndNumRecords) {
  const DeletionVectorDescriptor dv{
      'i', "wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L", std::nullopt, 40, 6, std::nullopt};
  TxnTable t;
  ASSERT_OK(t.Create({{"delta.enableDeletionVectors", "true"}}).status());
  ASSERT_OK(t.Append({MakeAdd("plain")}).status());
  {
    ASSERT_OK_AND_ASSIGN(auto txn, t.Begin());
    ASSERT_OK(txn->StageRemove(Transaction::RemoveFor(MakeAdd("plain"), 5)));
    AddFile with_dv = MakeAdd("plain");
    with_dv.deletion_vector = dv;
    ASSERT_OK(txn->StageAdd(with_dv));
    txn->SetOperation("DELETE");
    ASSERT_OK(txn->Commit().status());
    ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
    ASSERT_EQ(s->files().size(), 1u);
    ASSERT_TRUE(s->files()[0].deletion_vector.has_value());
    EXPECT_EQ(s->files()[0].deletion_vector->cardinality, 6);
  }
  {
    ASSERT_OK_AND_ASSIGN(auto txn, t.Begin());
    AddFile no_records = MakeAdd("no-records");
    no_records.stats = R"({"minValues":{"id":0}})";
    no_records.deletion_vector = dv;
    ASSERT_OK(txn->StageAdd(no_records));
    auto r = txn->Commit();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr("numRecords"));
  }
  TxnTable plain;
  ASSERT_OK(plain.Create().status());
  ASSERT_OK_AND_ASSIGN(auto txn, plain.Begin());
  AddFile with_dv = MakeAdd("dv");
  with_dv.deletion_vector = dv;
  ASSERT_OK(txn->StageAdd(with_dv));
  auto r = txn->Commit();
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("deletionVectors"));
  EXPECT_VALID_LOG(t.store());
  EXPECT_VALID_LOG(plain.store());
}

TEST(WriterGate, ChangeDataFeedRefusesRowRewritesWithoutCdcFiles) {
  TxnTable t;
  ASSERT_OK(t.Create({{"delta.enableChangeDataFeed", "true"}}).status());
  ASSERT_OK(t.Append({MakeAdd("a")}).status());  // appends need no cdc files
  ASSERT_OK_AND_ASSIGN(auto txn, t.Begin());
  txn->ReadWholeTable();
  ASSERT_OK(txn->StageRemove(Transaction::RemoveFor(MakeAdd("a"), 5)));
  ASSERT_OK(txn->StageAdd(MakeAdd("a-rewritten")));
  txn->SetOperation("UPDATE");
  auto r = txn->Commit();
  EXPECT_EQ(r.status().code(), StatusCode::kNotSupported);
  EXPECT_THAT(r.status().message(), HasSubstr("changeDataFeed"));
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_EQ(s->protocol().min_writer_version, 4);
  EXPECT_VALID_LOG(t.store());
}

TEST(WriterGate, ChangeDataFeedRowRewriteCommitsWithItsCdcFiles) {
  TxnTable t;
  ASSERT_OK(t.Create({{"delta.enableChangeDataFeed", "true"}}).status());
  ASSERT_OK(t.Append({MakeAdd("a")}).status());
  ASSERT_OK_AND_ASSIGN(auto txn, t.Begin());
  txn->ReadWholeTable();
  ASSERT_OK(txn->StageRemove(Transaction::RemoveFor(MakeAdd("a"), 5)));
  ASSERT_OK(txn->StageAdd(MakeAdd("a-rewritten")));
  AddCdcFile cdc;
  cdc.path = "_change_data/cdc-00000-1.c000.snappy.parquet";
  cdc.size = 42;
  cdc.data_change = true;  // StageCdc forces false (PROTOCOL.md "Add CDC File")
  ASSERT_OK(txn->StageCdc(cdc));
  txn->SetOperation("UPDATE");
  ASSERT_OK_AND_ASSIGN(CommitResult committed, txn->Commit());
  ASSERT_OK_AND_ASSIGN(ActionBatch batch, t.ReadCommit(committed.version));
  ASSERT_EQ(batch.cdcs.size(), 1u);
  EXPECT_EQ(batch.cdcs[0].path, cdc.path);
  EXPECT_EQ(batch.cdcs[0].size, 42);
  EXPECT_FALSE(batch.cdcs[0].data_change);
  // The cdc file is no data file: the snapshot holds the rewritten file only.
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  ASSERT_EQ(s->files().size(), 1u);
  EXPECT_EQ(s->files()[0].path, "a-rewritten");
  EXPECT_VALID_LOG(t.store());
}

TEST(ColumnMapping, NewTablesGetIdsAndPhysicalNames) {
  TxnTable t;
  ASSERT_OK(t.Create({{"delta.columnMapping.mode", "name"}}, /*partitioned=*/true).status());
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_EQ(s->protocol().min_reader_version, 2);
  EXPECT_EQ(s->protocol().min_writer_version, 5);
  EXPECT_EQ(s->column_mapping_mode(), "name");
  EXPECT_EQ(s->metadata().configuration.at("delta.columnMapping.maxColumnId"), "2");
  ASSERT_EQ(s->schema().fields.size(), 2u);
  EXPECT_EQ(s->schema().fields[0].field_id, 1);
  EXPECT_EQ(s->schema().fields[1].field_id, 2);
  EXPECT_TRUE(StartsWith(s->schema().fields[1].physical_name, "col-"));

  ASSERT_OK_AND_ASSIGN(auto txn, Transaction::Begin(t.engine(), s));
  ASSERT_OK_AND_ASSIGN(std::string physical_p, txn->PhysicalName("p"));
  EXPECT_EQ(physical_p, s->schema().fields[1].physical_name);
  // Partition values keyed by the display name are refused; by the physical name accepted.
  AddFile by_name = MakeAdd("x", "a");
  ASSERT_OK(txn->StageAdd(by_name));
  EXPECT_EQ(txn->Commit().status().code(), StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(auto txn2, Transaction::Begin(t.engine(), s));
  AddFile by_physical = MakeAdd("y");
  by_physical.partition_values = {{physical_p, "a"}};
  ASSERT_OK_AND_ASSIGN(std::string physical_id, txn2->PhysicalName("id"));
  by_physical.stats = StrCat(R"({"numRecords":1,"minValues":{")", physical_id,
                             R"(":1},"maxValues":{")", physical_id, R"(":1}})");
  ASSERT_OK(txn2->StageAdd(by_physical));
  ASSERT_OK(txn2->Commit().status());
  EXPECT_VALID_LOG(t.store());
}

TEST(ColumnMapping, EnablingOnAnExistingTableKeepsDisplayNamesAsPhysicalNames) {
  TxnTable t;
  ASSERT_OK(t.Create().status());
  ASSERT_OK(t.Append({MakeAdd("old")}).status());
  ASSERT_OK_AND_ASSIGN(auto txn, t.Begin());
  Metadata m = txn->metadata();
  m.configuration["delta.columnMapping.mode"] = "name";
  ASSERT_OK(txn->UpdateMetadata(m));
  ASSERT_OK(txn->Commit().status());
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  // Old files were written with the display names; the mapping must find them.
  EXPECT_EQ(s->schema().fields[0].physical_name, "id");
  EXPECT_EQ(s->schema().fields[1].physical_name, "p");
}

TEST(Constraints, CheckConstraintsAndInvariantsAreExposed) {
  TxnTable t;
  ASSERT_OK_AND_ASSIGN(auto txn, Transaction::BeginCreate(t.engine()));
  const std::string schema =
      R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,)"
      R"("metadata":{"delta.invariants":"{\"expression\":{\"expression\":\"id > 3\"}}"}}]})";
  ASSERT_OK(txn->UpdateMetadata(
      NewTableMetadata(schema, {}, {{"delta.constraints.small", "id < 100"}}, 1)));
  ASSERT_OK_AND_ASSIGN(std::vector<TableConstraint> cs, txn->Constraints());
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[0].name, "small");
  EXPECT_EQ(cs[0].expression, "id < 100");
  EXPECT_EQ(cs[1].name, "invariant(id)");
  EXPECT_EQ(cs[1].expression, "id > 3");
  EXPECT_EQ(cs[1].column, "id");
  ASSERT_OK(txn->Commit().status());
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_EQ(s->protocol().min_writer_version, 3);  // invariants 2, checkConstraints 3
}

// ---- Crash safety: for every storage call N, fail or crash there. ----

// Appends "new" to a table holding "old" through `store`, racing one concurrent blind append
// so that the retry path (reading the winner) is exercised too.
Status AppendWithRace(storage::ObjectStore& store, storage::ObjectStore& healthy) {
  NoParquetCheckpointReader reader;
  SimpleEngine engine(store, reader);
  LAKE_ASSIGN_OR_RETURN(SnapshotPtr snap, LoadSnapshot(engine));
  TransactionOptions options;
  bool raced = false;
  options.before_commit_attempt = [&](Version v) {
    if (raced) return;
    raced = true;
    // The winner commits through the healthy store: it is another process.
    NoParquetCheckpointReader r;
    SimpleEngine other(healthy, r);
    auto w = Transaction::Begin(other, snap);
    if (w.ok() && (*w)->StageAdd(MakeAdd("winner")).ok()) (*w)->Commit().status().IgnoreError();
  };
  LAKE_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(engine, snap, options));
  LAKE_RETURN_IF_ERROR(txn->StageAdd(MakeAdd("new")));
  return txn->Commit().status();
}

TEST(CrashSafety, EveryFailedCallLeavesTheOldOrTheNewVersion) {
  using Mode = storage::FaultyStore::Mode;
  for (Mode mode : {Mode::kFailOnce, Mode::kCrash, Mode::kCrashAfter}) {
    int64_t calls = 0;
    {
      TxnTable t;
      ASSERT_OK(t.Create().status());
      ASSERT_OK(t.Append({MakeAdd("old")}).status());
      storage::FaultyStore counting(t.memory(), 0, mode);
      ASSERT_OK(AppendWithRace(counting, t.memory()));
      calls = counting.calls();
    }
    ASSERT_GT(calls, 3);
    for (int64_t n = 1; n <= calls; ++n) {
      TxnTable t;
      ASSERT_OK(t.Create().status());
      ASSERT_OK(t.Append({MakeAdd("old")}).status());
      storage::FaultyStore faulty(t.memory(), n, mode);
      Status st = AppendWithRace(faulty, t.memory());
      ASSERT_TRUE(faulty.triggered()) << "call " << n;
      ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
      std::vector<std::string> files = LivePaths(*s);
      // Version 2 is the racing winner (it commits whenever the loser reached its commit).
      const bool has_new = std::count(files.begin(), files.end(), "new") == 1;
      if (st.ok()) {
        EXPECT_TRUE(has_new) << "call " << n;
      }
      EXPECT_EQ(files.size(), static_cast<size_t>(s->version())) << "call " << n;
      EXPECT_EQ(s->version(), 1 + (std::count(files.begin(), files.end(), "winner") == 1) + has_new)
          << "call " << n;
      if (!st.ok()) {
        EXPECT_EQ(st.code(), StatusCode::kIOError) << "call " << n << ": " << st;
        if (mode != Mode::kCrashAfter) {
          EXPECT_FALSE(has_new) << "call " << n;
        }
      }
      EXPECT_VALID_LOG(t.memory());
    }
  }
}

// Passes every call through, but reports the first successful PutIfAbsent as an I/O error:
// the commit landed and the writer lives on without knowing it (a lost acknowledgement).
class LostAckStore final : public storage::ObjectStore {
 public:
  explicit LostAckStore(storage::ObjectStore& inner) : inner_(inner) {}
  Result<std::string> Get(std::string_view key) override { return inner_.Get(key); }
  Result<std::string> GetRange(std::string_view key, int64_t offset, int64_t length) override {
    return inner_.GetRange(key, offset, length);
  }
  Status Put(std::string_view key, std::span<const std::byte> data) override {
    return inner_.Put(key, data);
  }
  Status PutIfAbsent(std::string_view key, std::span<const std::byte> data) override {
    Status st = inner_.PutIfAbsent(key, data);
    if (!st.ok() || lost_) return st;
    lost_ = true;
    return Status::IOError(StrCat("lost acknowledgement for ", key));
  }
  Result<std::vector<storage::ObjectInfo>> ListAfter(std::string_view prefix,
                                                     std::string_view start) override {
    return inner_.ListAfter(prefix, start);
  }
  Status Delete(std::string_view key) override { return inner_.Delete(key); }
  Result<storage::ObjectInfo> Head(std::string_view key) override { return inner_.Head(key); }
  std::string uri() const override { return inner_.uri(); }
  using ObjectStore::Put;
  using ObjectStore::PutIfAbsent;

 private:
  storage::ObjectStore& inner_;
  bool lost_ = false;
};

TEST(CrashSafety, AnAmbiguousCommitErrorIsReportedNotRetried) {
  // Retrying would find "our" version taken, see a harmless blind append there, and commit
  // the same files again at the next version: duplicated rows.
  TxnTable t;
  ASSERT_OK(t.Create().status());
  ASSERT_OK(t.Append({MakeAdd("old")}).status());
  LostAckStore lossy(t.memory());
  TxnTable writer(lossy);
  ASSERT_OK_AND_ASSIGN(auto txn, writer.Begin());
  ASSERT_OK(txn->StageAdd(MakeAdd("new")));
  Result<CommitResult> r = txn->Commit();
  ASSERT_EQ(r.status().code(), StatusCode::kIOError) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("version 2"));
  ASSERT_OK_AND_ASSIGN(std::string text, t.CommitText(2));
  const std::string txn_id = FirstLine(text)["commitInfo"]["txnId"];
  EXPECT_THAT(r.status().hint(), HasSubstr(txn_id));
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_EQ(s->version(), 2);
  EXPECT_THAT(LivePaths(*s), ElementsAre("new", "old"));
}

TEST(CrashSafety, CreateIsAllOrNothing) {
  using Mode = storage::FaultyStore::Mode;
  for (Mode mode : {Mode::kFailOnce, Mode::kCrash, Mode::kCrashAfter}) {
    for (int64_t n = 1; n <= 3; ++n) {
      storage::MemoryStore memory;
      storage::FaultyStore faulty(memory, n, mode);
      TxnTable t(faulty);
      Status st = t.Create().status();
      NoParquetCheckpointReader reader;
      SimpleEngine healthy(memory, reader);
      Result<SnapshotPtr> s = LoadSnapshot(healthy);
      if (st.ok()) {
        ASSERT_TRUE(s.ok()) << s.status();
      }
      if (s.ok()) {
        EXPECT_EQ((*s)->version(), 0);
        EXPECT_EQ((*s)->protocol().min_writer_version, 2);
      } else {
        EXPECT_EQ(s.status().code(), StatusCode::kNotFound) << s.status();
      }
    }
  }
}

// ---- LocalStore: the same protocol on a real file system, and real threads. ----

TEST(LocalStoreTxn, CreateAppendAndRaceOnDisk) {
  storage::testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, storage::LocalStore::Open(dir.path()));
  TxnTable t(*store);
  ASSERT_OK(t.Create({}, /*partitioned=*/true).status());
  ASSERT_OK_AND_ASSIGN(auto a, t.Begin());
  ASSERT_OK_AND_ASSIGN(auto b, t.Begin());
  ASSERT_OK(a->StageAdd(MakeAdd("p=x/a.parquet", "x")));
  ASSERT_OK(b->StageAdd(MakeAdd("p=y/b%20c.parquet", "y")));
  ASSERT_OK(a->Commit().status());
  ASSERT_OK_AND_ASSIGN(CommitResult rb, b->Commit());
  EXPECT_EQ(rb.version, 2);
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_THAT(LivePaths(*s), ElementsAre("p=x/a.parquet", "p=y/b%20c.parquet"));
  EXPECT_VALID_LOG(*store);
}

TEST(LocalStoreTxn, FourThreadsTimesTwentyFiveBlindAppendsAllLand) {
  storage::testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, storage::LocalStore::Open(dir.path()));
  {
    TxnTable t(*store);
    ASSERT_OK(t.Create().status());
  }
  constexpr int kThreads = 4;
  constexpr int kAppends = 25;
  std::vector<Status> failures[kThreads];
  std::vector<std::thread> threads;
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      NoParquetCheckpointReader reader;
      SimpleEngine engine(*store, reader);  // the store is thread-safe; engines are per thread
      for (int i = 0; i < kAppends; ++i) {
        Status st = [&]() -> Status {
          LAKE_ASSIGN_OR_RETURN(SnapshotPtr snap, LoadSnapshot(engine));
          LAKE_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(engine, snap));
          LAKE_RETURN_IF_ERROR(txn->StageAdd(MakeAdd(StrCat("t", th, "-", i, ".parquet"))));
          return txn->Commit().status();
        }();
        if (!st.ok()) failures[th].push_back(st);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int th = 0; th < kThreads; ++th) EXPECT_THAT(failures[th], IsEmpty()) << "thread " << th;
  TxnTable t(*store);
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_EQ(s->version(), kThreads * kAppends);
  std::vector<std::string> expected;
  for (int th = 0; th < kThreads; ++th) {
    for (int i = 0; i < kAppends; ++i) expected.push_back(StrCat("t", th, "-", i, ".parquet"));
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(LivePaths(*s), expected);
  EXPECT_VALID_LOG(*store);
}

}  // namespace
}  // namespace lake::delta
