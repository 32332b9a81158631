// One interleaving per conflict rule (ConflictChecker.scala's order): both transactions
// begin from the same version before either commits, so the second one to commit is the
// loser and must either retry (no overlap) or fail with the named kConflict.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "delta/transaction.h"
#include "txn_test_util.h"

namespace lake::delta {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::LivePaths;
using testing::MakeAdd;
using testing::TxnTable;

Predicate PartitionIs(const std::string& value) {
  return Predicate::Compare(Predicate::Op::kEq, "p", value);
}

// A partitioned table at version 1 with one file per partition a, b and c.
void MakePartitionedTable(TxnTable& t) {
  ASSERT_OK(t.Create({}, /*partitioned=*/true).status());
  ASSERT_OK(
      t.Append({MakeAdd("p=a/a0", "a"), MakeAdd("p=b/b0", "b"), MakeAdd("p=c/c0", "c")}).status());
}

// Expects `r` to be the conflict `kind`, naming the winner's version.
void ExpectConflict(const Result<CommitResult>& r, ConflictKind kind, Version winner) {
  ASSERT_FALSE(r.ok()) << "committed version " << r->version;
  EXPECT_EQ(r.status().code(), StatusCode::kConflict) << r.status();
  EXPECT_TRUE(StartsWith(r.status().message(), ConflictKindText(kind))) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr(StrCat("version ", winner)));
  EXPECT_THAT(r.status().message(), HasSubstr("memory://"));
  EXPECT_THAT(r.status().hint(), HasSubstr("re-run"));
}

// A DELETE of the files of partition `p` (reads p, removes its files).
Result<std::unique_ptr<Transaction>> BeginDeletePartition(TxnTable& t, const std::string& p,
                                                          TransactionOptions options = {}) {
  LAKE_ASSIGN_OR_RETURN(SnapshotPtr s, t.Load());
  LAKE_ASSIGN_OR_RETURN(auto txn, Transaction::Begin(t.engine(), s, std::move(options)));
  txn->ReadPredicate(PartitionIs(p));
  for (const AddFile& f : s->files()) {
    if (f.partition_values[0].second == p) {
      LAKE_RETURN_IF_ERROR(txn->StageRemove(Transaction::RemoveFor(f, 5)));
    }
  }
  txn->SetOperation("DELETE");
  return txn;
}

TEST(Conflict, ProtocolChanged) {
  TxnTable t;
  MakePartitionedTable(t);
  ASSERT_OK_AND_ASSIGN(auto loser, t.Begin());
  ASSERT_OK(loser->StageAdd(MakeAdd("p=a/new", "a")));  // even a blind append
  ASSERT_OK_AND_ASSIGN(auto winner, t.Begin());
  Protocol upgraded;
  upgraded.min_reader_version = 1;
  upgraded.min_writer_version = 3;
  ASSERT_OK(winner->UpdateProtocol(upgraded));
  ASSERT_OK(winner->Commit().status());
  ExpectConflict(loser->Commit(), ConflictKind::kProtocolChanged, 2);
}

TEST(Conflict, MetadataChanged) {
  TxnTable t;
  MakePartitionedTable(t);
  ASSERT_OK_AND_ASSIGN(auto loser, t.Begin());
  ASSERT_OK(loser->StageAdd(MakeAdd("p=a/new", "a")));
  ASSERT_OK_AND_ASSIGN(auto winner, t.Begin());
  Metadata m = winner->metadata();
  m.configuration["delta.logRetentionDuration"] = "interval 7 days";
  ASSERT_OK(winner->UpdateMetadata(m));
  ASSERT_OK(winner->Commit().status());
  ExpectConflict(loser->Commit(), ConflictKind::kMetadataChanged, 2);
}

TEST(Conflict, ConcurrentAppendIntoTheReadPartition) {
  TxnTable t;
  MakePartitionedTable(t);
  ASSERT_OK_AND_ASSIGN(auto loser, BeginDeletePartition(t, "a"));
  // The winner is not a blind append (it read and rewrote partition c) but adds into a.
  ASSERT_OK_AND_ASSIGN(auto winner, BeginDeletePartition(t, "c"));
  ASSERT_OK(winner->StageAdd(MakeAdd("p=a/from-c", "a")));
  ASSERT_OK(winner->Commit().status());
  Result<CommitResult> r = loser->Commit();
  ExpectConflict(r, ConflictKind::kConcurrentAppend, 2);
  EXPECT_THAT(r.status().message(), HasSubstr("p=a/from-c"));
  EXPECT_THAT(r.status().message(), HasSubstr("p = a"));
}

TEST(Conflict, AppendOutsideTheReadPartitionDoesNotConflict) {
  TxnTable t;
  MakePartitionedTable(t);
  ASSERT_OK_AND_ASSIGN(auto loser, BeginDeletePartition(t, "a"));
  ASSERT_OK_AND_ASSIGN(auto winner, BeginDeletePartition(t, "c"));
  ASSERT_OK(winner->StageAdd(MakeAdd("p=b/from-c", "b")));
  ASSERT_OK(winner->Commit().status());
  ASSERT_OK_AND_ASSIGN(CommitResult r, loser->Commit());
  EXPECT_EQ(r.version, 3);
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_THAT(LivePaths(*s), ElementsAre("p=b/b0", "p=b/from-c"));
  EXPECT_VALID_LOG(t.store());
}

TEST(Conflict, DataPredicateUsesFileStats) {
  // Unpartitioned: the loser read id < 5; the winner's new file holds ids 50..60 only.
  TxnTable t;
  ASSERT_OK(t.Create().status());
  ASSERT_OK(t.Append({MakeAdd("low", std::nullopt, 0, 9), MakeAdd("high", std::nullopt, 20, 30)})
                .status());
  ASSERT_OK_AND_ASSIGN(auto loser, t.Begin());
  loser->ReadPredicate(Predicate::Compare(Predicate::Op::kLt, "id", int64_t{5}));
  ASSERT_OK(loser->StageRemove(Transaction::RemoveFor(MakeAdd("low", std::nullopt, 0, 9), 5)));
  ASSERT_OK_AND_ASSIGN(auto far, t.Begin());
  far->ReadPredicate(Predicate::Compare(Predicate::Op::kGt, "id", int64_t{15}));
  ASSERT_OK(far->StageRemove(Transaction::RemoveFor(MakeAdd("high", std::nullopt, 20, 30), 5)));
  ASSERT_OK(far->StageAdd(MakeAdd("high2", std::nullopt, 50, 60)));
  ASSERT_OK(far->Commit().status());
  ASSERT_OK(loser->Commit().status());  // no row of high2 matches id < 5

  // Now a winner whose file may hold id 3 conflicts.
  ASSERT_OK_AND_ASSIGN(auto loser2, t.Begin());
  loser2->ReadPredicate(Predicate::Compare(Predicate::Op::kLt, "id", int64_t{5}));
  ASSERT_OK(loser2->StageAdd(MakeAdd("x")));
  ASSERT_OK_AND_ASSIGN(auto near, t.Begin());
  near->ReadWholeTable();
  ASSERT_OK(near->StageAdd(MakeAdd("near", std::nullopt, 3, 40)));
  ASSERT_OK(near->Commit().status());
  ExpectConflict(loser2->Commit(), ConflictKind::kConcurrentAppend, 4);
}

TEST(Conflict, WriteSerializableIgnoresBlindAppendsSerializableDoesNot) {
  for (IsolationLevel level : {IsolationLevel::kWriteSerializable, IsolationLevel::kSerializable}) {
    SCOPED_TRACE(IsolationLevelName(level));
    TxnTable t;
    MakePartitionedTable(t);
    TransactionOptions options;
    options.isolation_level = level;
    ASSERT_OK_AND_ASSIGN(auto loser, BeginDeletePartition(t, "a", options));
    ASSERT_OK(t.Append({MakeAdd("p=a/blind", "a")}).status());  // a blind append into a
    Result<CommitResult> r = loser->Commit();
    if (level == IsolationLevel::kWriteSerializable) {
      ASSERT_TRUE(r.ok()) << r.status();
      ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
      EXPECT_THAT(LivePaths(*s), ElementsAre("p=a/blind", "p=b/b0", "p=c/c0"));
      ASSERT_OK_AND_ASSIGN(std::string text, t.CommitText(r->version));
      EXPECT_THAT(text, HasSubstr(R"("isolationLevel":"WriteSerializable")"));
    } else {
      ExpectConflict(r, ConflictKind::kConcurrentAppend, 2);
    }
  }
}

TEST(Conflict, TablePropertyPicksTheIsolationLevel) {
  TxnTable t;
  ASSERT_OK(t.Create({{"delta.isolationLevel", "Serializable"}}, /*partitioned=*/true).status());
  ASSERT_OK(t.Append({MakeAdd("p=a/a0", "a")}).status());
  ASSERT_OK_AND_ASSIGN(auto loser, BeginDeletePartition(t, "a"));
  EXPECT_EQ(loser->isolation_level(), IsolationLevel::kSerializable);
  ASSERT_OK(t.Append({MakeAdd("p=a/blind", "a")}).status());
  ExpectConflict(loser->Commit(), ConflictKind::kConcurrentAppend, 2);
}

TEST(Conflict, WriteSerializableChecksBlindAppendsWhenWeChangeMetadata) {
  TxnTable t;
  MakePartitionedTable(t);
  ASSERT_OK_AND_ASSIGN(auto loser, t.Begin());
  loser->ReadWholeTable();  // e.g. ADD CONSTRAINT validating every row
  Metadata m = loser->metadata();
  m.configuration["delta.constraints.small"] = "id < 100";
  ASSERT_OK(loser->UpdateMetadata(m));
  ASSERT_OK(t.Append({MakeAdd("p=b/unchecked", "b")}).status());
  ExpectConflict(loser->Commit(), ConflictKind::kConcurrentAppend, 2);
}

TEST(Conflict, ConcurrentDeleteRead) {
  TxnTable t;
  MakePartitionedTable(t);
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  // The loser copied rows from file b0 into a new file (INSERT ... SELECT from itself).
  ASSERT_OK_AND_ASSIGN(auto loser, Transaction::Begin(t.engine(), s));
  for (const AddFile& f : s->files()) {
    if (f.path == "p=b/b0") loser->MarkFileRead(f);
  }
  ASSERT_OK(loser->StageAdd(MakeAdd("p=a/copy", "a")));
  ASSERT_OK_AND_ASSIGN(auto winner, BeginDeletePartition(t, "b"));
  ASSERT_OK(winner->Commit().status());
  Result<CommitResult> r = loser->Commit();
  ExpectConflict(r, ConflictKind::kConcurrentDeleteRead, 2);
  EXPECT_THAT(r.status().message(), HasSubstr("p=b/b0"));
}

TEST(Conflict, ConcurrentDeleteReadOfAWholeTableRead) {
  TxnTable t;
  MakePartitionedTable(t);
  ASSERT_OK_AND_ASSIGN(auto loser, t.Begin());
  loser->ReadWholeTable();
  ASSERT_OK(loser->StageAdd(MakeAdd("p=a/summary", "a")));
  ASSERT_OK_AND_ASSIGN(auto winner, BeginDeletePartition(t, "c"));
  ASSERT_OK(winner->Commit().status());
  ExpectConflict(loser->Commit(), ConflictKind::kConcurrentDeleteRead, 2);
}

TEST(Conflict, ConcurrentDeleteDelete) {
  TxnTable t;
  MakePartitionedTable(t);
  ASSERT_OK_AND_ASSIGN(auto loser, BeginDeletePartition(t, "b"));
  ASSERT_OK_AND_ASSIGN(auto winner, BeginDeletePartition(t, "b"));
  ASSERT_OK(winner->Commit().status());
  Result<CommitResult> r = loser->Commit();
  ExpectConflict(r, ConflictKind::kConcurrentDeleteDelete, 2);
  EXPECT_THAT(r.status().message(), HasSubstr("p=b/b0"));
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_THAT(LivePaths(*s), ElementsAre("p=a/a0", "p=c/c0"));  // deleted once
}

TEST(Conflict, ConcurrentTransactionForAnAppIdWeRead) {
  TxnTable t;
  MakePartitionedTable(t);
  // Two runs of one streaming job both saw no batch 1 and both write it.
  ASSERT_OK_AND_ASSIGN(auto run1, t.Begin());
  ASSERT_OK_AND_ASSIGN(auto run2, t.Begin());
  EXPECT_EQ(run1->TxnVersion("job"), std::nullopt);
  EXPECT_EQ(run2->TxnVersion("job"), std::nullopt);
  ASSERT_OK(run1->StageAdd(MakeAdd("p=a/batch1-run1", "a")));
  ASSERT_OK(run1->SetTxn("job", 1));
  ASSERT_OK(run2->StageAdd(MakeAdd("p=a/batch1-run2", "a")));
  ASSERT_OK(run2->SetTxn("job", 1));
  ASSERT_OK(run1->Commit().status());
  Result<CommitResult> r = run2->Commit();
  ExpectConflict(r, ConflictKind::kConcurrentTransaction, 2);
  EXPECT_THAT(r.status().message(), HasSubstr("'job'"));
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_EQ(s->files().size(), 4u);  // batch 1 landed once
}

TEST(Conflict, OtherAppIdsDoNotConflict) {
  TxnTable t;
  MakePartitionedTable(t);
  ASSERT_OK_AND_ASSIGN(auto a, t.Begin());
  ASSERT_OK_AND_ASSIGN(auto b, t.Begin());
  ASSERT_OK(a->SetTxn("job-a", 1));
  ASSERT_OK(b->SetTxn("job-b", 1));
  ASSERT_OK(a->Commit().status());
  ASSERT_OK(b->Commit().status());
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_EQ(s->txns().size(), 2u);
}

TEST(Conflict, SameDomainMetadata) {
  TxnTable t;
  ASSERT_OK(t.Create({{"delta.feature.domainMetadata", "supported"}}).status());
  ASSERT_OK_AND_ASSIGN(auto loser, t.Begin());
  ASSERT_OK_AND_ASSIGN(auto winner, t.Begin());
  ASSERT_OK(loser->StageDomainMetadata({"lake.app", "1", false}));
  ASSERT_OK(winner->StageDomainMetadata({"lake.app", "2", false}));
  ASSERT_OK(winner->Commit().status());
  ExpectConflict(loser->Commit(), ConflictKind::kConcurrentDomainMetadata, 1);
}

TEST(Conflict, ConcurrentCreate) {
  TxnTable t;
  ASSERT_OK_AND_ASSIGN(auto first, Transaction::BeginCreate(t.engine()));
  ASSERT_OK_AND_ASSIGN(auto second, Transaction::BeginCreate(t.engine()));
  ASSERT_OK(first->UpdateMetadata(NewTableMetadata(testing::kTxnSchema, {}, {}, 1)));
  ASSERT_OK(second->UpdateMetadata(NewTableMetadata(testing::kTxnSchema, {"p"}, {}, 1)));
  ASSERT_OK(first->Commit().status());
  Result<CommitResult> r = second->Commit();
  ASSERT_EQ(r.status().code(), StatusCode::kConflict);
  EXPECT_TRUE(StartsWith(r.status().message(), "concurrent table creation")) << r.status();
  ASSERT_OK_AND_ASSIGN(SnapshotPtr s, t.Load());
  EXPECT_THAT(s->metadata().partition_columns, ::testing::IsEmpty());  // the first one's
}

TEST(Conflict, BlindAppendsIgnoreEverythingButProtocolMetadataAndAppIds) {
  TxnTable t;
  MakePartitionedTable(t);
  ASSERT_OK_AND_ASSIGN(auto blind, t.Begin());
  ASSERT_OK(blind->StageAdd(MakeAdd("p=a/blind", "a")));
  ASSERT_OK_AND_ASSIGN(auto del, BeginDeletePartition(t, "a"));
  ASSERT_OK(del->StageAdd(MakeAdd("p=a/rewritten", "a")));
  ASSERT_OK(del->Commit().status());
  ASSERT_OK_AND_ASSIGN(CommitResult r, blind->Commit());
  EXPECT_EQ(r.version, 3);
  EXPECT_VALID_LOG(t.store());
}

}  // namespace
}  // namespace lake::delta
