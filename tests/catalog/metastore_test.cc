// SqliteMetastore and LakeHome: expected values are written out by hand from the calls made.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "catalog/home.h"
#include "catalog/sqlite_metastore.h"
#include "status_matchers.h"

namespace lake::catalog {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

class MetastoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("lake_metastore_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string DbPath() const { return (dir_ / "metastore.db").string(); }
  std::unique_ptr<SqliteMetastore> OpenStore() {
    auto store = SqliteMetastore::Open(DbPath());
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }
  static TableInfo Table(std::string schema, std::string name, std::string location,
                         TableKind kind = TableKind::kExternal) {
    TableInfo t;
    t.schema = std::move(schema);
    t.name = std::move(name);
    t.location = std::move(location);
    t.kind = kind;
    return t;
  }
  static std::vector<std::string> Names(const std::vector<TableInfo>& tables) {
    std::vector<std::string> out;
    for (const auto& t : tables) out.push_back(t.qualified_name());
    return out;
  }

  fs::path dir_;
};

TEST_F(MetastoreTest, FirstOpenCreatesTheDefaultSchemaOnly) {
  auto store = OpenStore();
  ASSERT_OK_AND_ASSIGN(auto schemas, store->ListSchemas());
  ASSERT_EQ(schemas.size(), 1u);
  EXPECT_EQ(schemas[0].name, "default");
  EXPECT_GT(schemas[0].created_ms, 0);
  ASSERT_OK_AND_ASSIGN(auto tables, store->ListTables("default"));
  EXPECT_TRUE(tables.empty());
}

TEST_F(MetastoreTest, SchemaNamesAreCaseInsensitiveAndUnique) {
  auto store = OpenStore();
  ASSERT_OK(store->CreateSchema({"Sales", "orders and more", 0}, false));
  Status again = store->CreateSchema({"SALES", "", 0}, false);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(again.message(), HasSubstr("schema sales already exists"));
  EXPECT_THAT(again.hint(), HasSubstr("IF NOT EXISTS"));
  ASSERT_OK(store->CreateSchema({"sales", "", 0}, /*if_not_exists=*/true));
  ASSERT_OK_AND_ASSIGN(SchemaInfo sales, store->GetSchema("sAlEs"));
  EXPECT_EQ(sales.name, "sales");
  EXPECT_EQ(sales.comment, "orders and more");
  ASSERT_OK_AND_ASSIGN(auto schemas, store->ListSchemas());
  ASSERT_EQ(schemas.size(), 2u);
  EXPECT_EQ(schemas[0].name, "default");
  EXPECT_EQ(schemas[1].name, "sales");
}

TEST_F(MetastoreTest, InvalidNamesAreRefusedWithAHint) {
  auto store = OpenStore();
  for (const std::string& bad :
       std::vector<std::string>{"", "a/b", "..", "a b", "a.b", std::string(129, 'x')}) {
    Status s = store->CreateSchema({bad, "", 0}, false);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(s.hint(), HasSubstr("letters, digits or underscores")) << bad;
  }
  EXPECT_EQ(store->CreateTable(Table("default", "x-y", "/data/t")).code(),
            StatusCode::kInvalidArgument);
  ASSERT_OK(store->CreateSchema({std::string(128, 'x'), "", 0}, false));
}

TEST_F(MetastoreTest, TablesRoundTripWithPropertiesSortedByKey) {
  auto store = OpenStore();
  TableInfo t = Table("default", "Orders", "/data/orders", TableKind::kManaged);
  t.comment = "all orders";
  t.created_ms = 1700000000123;
  t.properties = {{"owner", "ana"}, {"a.b", "1"}};
  ASSERT_OK(store->CreateTable(t));
  ASSERT_OK_AND_ASSIGN(TableInfo got, store->GetTable("DEFAULT", "orders"));
  EXPECT_EQ(got.schema, "default");
  EXPECT_EQ(got.name, "orders");
  EXPECT_EQ(got.location, "/data/orders");
  EXPECT_EQ(got.kind, TableKind::kManaged);
  EXPECT_EQ(got.created_ms, 1700000000123);
  EXPECT_EQ(got.comment, "all orders");
  EXPECT_THAT(got.properties, ElementsAre(Pair("a.b", "1"), Pair("owner", "ana")));
}

TEST_F(MetastoreTest, NotFoundSaysWhetherTheSchemaOrTheTableIsMissing) {
  auto store = OpenStore();
  Result<TableInfo> no_table = store->GetTable("default", "nope");
  EXPECT_EQ(no_table.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(no_table.status().message(), HasSubstr("table default.nope does not exist"));
  EXPECT_THAT(no_table.status().hint(), HasSubstr("SHOW TABLES IN default"));
  Result<TableInfo> no_schema = store->GetTable("nowhere", "t");
  EXPECT_EQ(no_schema.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(no_schema.status().message(), HasSubstr("schema nowhere does not exist"));
  EXPECT_EQ(store->CreateTable(Table("nowhere", "t", "/x")).code(), StatusCode::kNotFound);
  EXPECT_EQ(store->ListTables("nowhere").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->DropTable("default", "nope").status().code(), StatusCode::kNotFound);
}

TEST_F(MetastoreTest, CreateTableRefusesATakenName) {
  auto store = OpenStore();
  ASSERT_OK(store->CreateTable(Table("default", "t", "/a")));
  Status s = store->CreateTable(Table("default", "T", "/b"));
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  ASSERT_OK_AND_ASSIGN(TableInfo got, store->GetTable("default", "t"));
  EXPECT_EQ(got.location, "/a");
}

TEST_F(MetastoreTest, ListTablesIsPerSchemaAndSorted) {
  auto store = OpenStore();
  ASSERT_OK(store->CreateSchema({"sales", "", 0}, false));
  ASSERT_OK(store->CreateTable(Table("sales", "orders", "/o")));
  ASSERT_OK(store->CreateTable(Table("sales", "customers", "/c")));
  ASSERT_OK(store->CreateTable(Table("default", "misc", "/m")));
  ASSERT_OK_AND_ASSIGN(auto sales, store->ListTables("sales"));
  EXPECT_THAT(Names(sales), ElementsAre("sales.customers", "sales.orders"));
  ASSERT_OK_AND_ASSIGN(auto def, store->ListTables("default"));
  EXPECT_THAT(Names(def), ElementsAre("default.misc"));
}

TEST_F(MetastoreTest, DropTableReturnsTheEntryAndForgetsIt) {
  auto store = OpenStore();
  TableInfo t = Table("default", "t", "/a", TableKind::kManaged);
  t.properties = {{"k", "v"}};
  ASSERT_OK(store->CreateTable(t));
  ASSERT_OK_AND_ASSIGN(TableInfo dropped, store->DropTable("default", "t"));
  EXPECT_EQ(dropped.location, "/a");
  EXPECT_EQ(dropped.kind, TableKind::kManaged);
  EXPECT_EQ(store->GetTable("default", "t").status().code(), StatusCode::kNotFound);
  // Re-created under the same name, it does not inherit the old properties.
  ASSERT_OK(store->CreateTable(Table("default", "t", "/b")));
  ASSERT_OK_AND_ASSIGN(TableInfo again, store->GetTable("default", "t"));
  EXPECT_TRUE(again.properties.empty());
}

TEST_F(MetastoreTest, DropSchemaNeedsCascadeWhenItHoldsTables) {
  auto store = OpenStore();
  ASSERT_OK(store->CreateSchema({"sales", "", 0}, false));
  ASSERT_OK(store->CreateTable(Table("sales", "orders", "/o", TableKind::kManaged)));
  ASSERT_OK(store->CreateTable(Table("sales", "ext", "/e")));
  Result<std::vector<TableInfo>> refused = store->DropSchema("sales", false, false);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("2 table(s)"));
  EXPECT_THAT(refused.status().hint(), HasSubstr("CASCADE"));
  ASSERT_OK_AND_ASSIGN(auto dropped, store->DropSchema("SALES", false, /*cascade=*/true));
  EXPECT_THAT(Names(dropped), ElementsAre("sales.ext", "sales.orders"));
  EXPECT_EQ(store->GetSchema("sales").status().code(), StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto none, store->DropSchema("sales", /*if_exists=*/true, false));
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(store->DropSchema("sales", false, false).status().code(), StatusCode::kNotFound);
  // The schema can be created again, empty.
  ASSERT_OK(store->CreateSchema({"sales", "", 0}, false));
  ASSERT_OK_AND_ASSIGN(auto tables, store->ListTables("sales"));
  EXPECT_TRUE(tables.empty());
}

TEST_F(MetastoreTest, TheDefaultSchemaCannotBeDropped) {
  auto store = OpenStore();
  Result<std::vector<TableInfo>> r = store->DropSchema("Default", false, true);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  ASSERT_OK(store->GetSchema("default").status());
}

TEST_F(MetastoreTest, RenameMovesTheEntryItsPropertiesAndOptionallyItsLocation) {
  auto store = OpenStore();
  ASSERT_OK(store->CreateSchema({"sales", "", 0}, false));
  TableInfo t = Table("default", "t", "/a");
  t.properties = {{"k", "v"}};
  ASSERT_OK(store->CreateTable(t));
  ASSERT_OK(store->RenameTable("default", "t", "sales", "U", ""));
  EXPECT_EQ(store->GetTable("default", "t").status().code(), StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(TableInfo u, store->GetTable("sales", "u"));
  EXPECT_EQ(u.location, "/a");
  EXPECT_THAT(u.properties, ElementsAre(Pair("k", "v")));
  ASSERT_OK(store->RenameTable("sales", "u", "sales", "v", "/moved"));
  ASSERT_OK_AND_ASSIGN(TableInfo v, store->GetTable("sales", "v"));
  EXPECT_EQ(v.location, "/moved");

  ASSERT_OK(store->CreateTable(Table("sales", "w", "/w")));
  EXPECT_EQ(store->RenameTable("sales", "v", "sales", "w", "").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store->RenameTable("sales", "v", "nowhere", "x", "").code(), StatusCode::kNotFound);
  EXPECT_EQ(store->RenameTable("sales", "gone", "sales", "x", "").code(), StatusCode::kNotFound);
}

TEST_F(MetastoreTest, TwoConnectionsSeeEachOthersChanges) {
  auto a = OpenStore();
  auto b = OpenStore();
  ASSERT_OK(a->CreateSchema({"s", "", 0}, false));
  ASSERT_OK(b->CreateTable(Table("s", "t", "/t")));
  ASSERT_OK_AND_ASSIGN(TableInfo t, a->GetTable("s", "t"));
  EXPECT_EQ(t.location, "/t");
  EXPECT_EQ(b->CreateSchema({"s", "", 0}, false).code(), StatusCode::kAlreadyExists);
  ASSERT_OK(a->DropTable("s", "t").status());
  EXPECT_EQ(b->GetTable("s", "t").status().code(), StatusCode::kNotFound);
}

TEST_F(MetastoreTest, ConcurrentProcessesLoseNoTable) {
  // Four processes open the same fresh file at once (racing to create it) and each registers
  // 25 tables; every one of the 100 must be there, with one default schema.
  constexpr int kProcesses = 4, kTablesEach = 25;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto store = SqliteMetastore::Open(DbPath());
      if (!store.ok()) _exit(10);
      for (int i = 0; i < kTablesEach; ++i) {
        std::string name = "t" + std::to_string(p) + "_" + std::to_string(i);
        if (!(*store)->CreateTable(Table("default", name, "/x/" + name)).ok()) _exit(11);
      }
      _exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  auto store = OpenStore();
  ASSERT_OK_AND_ASSIGN(auto tables, store->ListTables("default"));
  EXPECT_EQ(tables.size(), static_cast<size_t>(kProcesses * kTablesEach));
  ASSERT_OK_AND_ASSIGN(auto schemas, store->ListSchemas());
  EXPECT_EQ(schemas.size(), 1u);
}

TEST_F(MetastoreTest, ANewerFormatIsRefused) {
  { auto store = OpenStore(); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(DbPath().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 2", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto store = SqliteMetastore::Open(DbPath());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr("format version 2"));
}

TEST_F(MetastoreTest, AFileThatIsNotADatabaseIsCorruption) {
  {
    std::FILE* f = std::fopen(DbPath().c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("this is not a database, just some text long enough for a header...........", f);
    std::fclose(f);
  }
  auto store = SqliteMetastore::Open(DbPath());
  EXPECT_EQ(store.status().code(), StatusCode::kCorruption) << store.status();
}

TEST_F(MetastoreTest, HomeWithoutCreateWritesNothing) {
  fs::path home = dir_ / "home";
  Result<std::unique_ptr<LakeHome>> missing = LakeHome::Open(home.string(), false);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(home));
  EXPECT_FALSE(LakeHome::Exists(home.string()));

  ASSERT_OK_AND_ASSIGN(auto created, LakeHome::Open(home.string() + "/", true));
  EXPECT_EQ(created->path(), home.string());
  EXPECT_TRUE(fs::is_directory(home / "warehouse"));
  EXPECT_TRUE(fs::is_regular_file(home / "metastore.db"));
  EXPECT_EQ(created->ManagedTableLocation("sales", "orders"),
            home.string() + "/warehouse/sales.db/orders");
  ASSERT_OK(created->metastore().GetSchema("default").status());
  ASSERT_OK_AND_ASSIGN(auto reopened, LakeHome::Open(home.string(), false));
  ASSERT_OK(reopened->metastore().GetSchema("default").status());
}

TEST_F(MetastoreTest, HomePathComesFromTheFlagThenTheEnvironment) {
  const char* saved = std::getenv("LAKE_HOME");
  std::string saved_value = saved ? saved : "";
  unsetenv("LAKE_HOME");
  EXPECT_EQ(ResolveHomePath(""), "lakehouse");
  setenv("LAKE_HOME", "/srv/lake", 1);
  EXPECT_EQ(ResolveHomePath(""), "/srv/lake");
  EXPECT_EQ(ResolveHomePath("/tmp/h"), "/tmp/h");
  setenv("LAKE_HOME", "", 1);
  EXPECT_EQ(ResolveHomePath(""), "lakehouse");
  if (saved) {
    setenv("LAKE_HOME", saved_value.c_str(), 1);
  } else {
    unsetenv("LAKE_HOME");
  }
}

}  // namespace
}  // namespace lake::catalog
