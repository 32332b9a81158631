// Randomized property test of the write surface (issue #4 §4): seeded sequences of INSERT,
// INSERT OVERWRITE (whole and one partition), REPLACE WHERE, DELETE, UPDATE, MERGE, OPTIMIZE and
// RESTORE, with checkpoints every few commits, against an in-memory model of the rows.
// After every step the table equals the model; at the end every version it passed through
// reads back as the model said (time travel), and the log passes the protocol validator.
// The seed is printed; LAKE_TEST_SEED replays one sequence.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "base/strings.h"
#include "status_matchers.h"
#include "temp_lakehouse.h"

namespace lake::sql {
namespace {

struct Row {
  int64_t id;
  int64_t v;
  std::string p;  // partition: a, b or c
  friend bool operator<(const Row& a, const Row& b) { return a.id < b.id; }
};
using Model = std::vector<Row>;

std::vector<std::string> Render(Model rows) {
  std::sort(rows.begin(), rows.end());
  std::vector<std::string> out;
  for (const Row& r : rows) out.push_back(StrCat(r.id, "|", r.v, "|", r.p));
  return out;
}

class DmlPropertyTest : public testing::TempLakehouse<> {
 protected:
  DmlPropertyTest() : TempLakehouse("dml_property") {}

  int64_t Version() { return std::stoll(One("SELECT max(version) FROM delta_history('t', by_name := true)")); }
  std::vector<std::string> Table(const std::string& suffix = "") {
    return Rows("SELECT id, v, p FROM t" + suffix + " ORDER BY id");
  }
};

TEST_F(DmlPropertyTest, RandomSequencesMatchAModelAtEveryVersion) {
  uint64_t seed = std::random_device{}();
  if (const char* env = std::getenv("LAKE_TEST_SEED")) seed = std::stoull(env);
  std::printf("dml_property seed %llu (LAKE_TEST_SEED=%llu replays it)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  SCOPED_TRACE(StrCat("seed ", seed));
  std::mt19937_64 rng(seed);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const char* parts[] = {"a", "b", "c"};

  ASSERT_OK(Query("CREATE TABLE t (id BIGINT, v BIGINT, p STRING) USING DELTA PARTITIONED BY (p) "
                  "TBLPROPERTIES ('delta.checkpointInterval' = '4')")
                .status());
  Model model;
  std::map<int64_t, Model> by_version = {{0, {}}};
  int64_t next_id = 0;
  auto new_rows = [&](int n, const std::string* only_p) {
    Model rows;
    for (int i = 0; i < n; ++i) {
      rows.push_back(Row{next_id++, pick(0, 99), only_p ? *only_p : parts[pick(0, 2)]});
    }
    return rows;
  };
  auto values = [](const Model& rows) {
    std::vector<std::string> out;
    for (const Row& r : rows) out.push_back(StrCat("(", r.id, ", ", r.v, ", '", r.p, "')"));
    return StrJoin(out, ", ");
  };

  for (int step = 0; step < 40; ++step) {
    const int op = static_cast<int>(pick(0, 8));
    std::string sql;
    switch (op) {
      case 0: {  // INSERT
        Model rows = new_rows(static_cast<int>(pick(1, 6)), nullptr);
        sql = "INSERT INTO t VALUES " + values(rows);
        model.insert(model.end(), rows.begin(), rows.end());
        break;
      }
      case 1: {  // DELETE by a data predicate
        const int64_t below = pick(0, 60);
        sql = StrCat("DELETE FROM t WHERE v < ", below);
        std::erase_if(model, [&](const Row& r) { return r.v < below; });
        break;
      }
      case 2: {  // UPDATE some rows
        const int64_t m = pick(2, 4), r = pick(0, m - 1);
        sql = StrCat("UPDATE t SET v = v + 7 WHERE id % ", m, " = ", r);
        for (Row& row : model) {
          if (row.id % m == r) row.v += 7;
        }
        break;
      }
      case 3: {  // INSERT OVERWRITE one partition
        const std::string p = parts[pick(0, 2)];
        Model rows = new_rows(static_cast<int>(pick(0, 3)), &p);
        std::vector<std::string> selects;
        for (const Row& row : rows) selects.push_back(StrCat("SELECT ", row.id, ", ", row.v));
        sql = StrCat("INSERT OVERWRITE t PARTITION (p = '", p, "') ",
                     selects.empty() ? "SELECT 0, 0 WHERE false" : StrJoin(selects, " UNION ALL "));
        std::erase_if(model, [&](const Row& r) { return r.p == p; });
        model.insert(model.end(), rows.begin(), rows.end());
        break;
      }
      case 4: {  // REPLACE WHERE on a data column
        const int64_t above = pick(50, 99);
        Model rows = new_rows(static_cast<int>(pick(1, 3)), nullptr);
        for (Row& row : rows) row.v = pick(above + 1, above + 20);
        sql = StrCat("INSERT INTO t REPLACE WHERE v > ", above, " VALUES ", values(rows));
        std::erase_if(model, [&](const Row& r) { return r.v > above; });
        model.insert(model.end(), rows.begin(), rows.end());
        break;
      }
      case 5:  // OPTIMIZE: same rows
        sql = "OPTIMIZE t";
        break;
      case 6: {  // RESTORE to an earlier version
        const int64_t current = Version();
        if (current == 0) continue;
        const int64_t to = pick(0, current - 1);
        sql = StrCat("RESTORE TABLE t TO VERSION AS OF ", to);
        model = by_version.at(to);
        break;
      }
      case 8: {  // MERGE: some existing ids (updated or deleted by the new v), some new ones
        Model source;
        std::set<int64_t> used;
        for (int64_t i = 0, n = pick(0, 3); i < n && !model.empty(); ++i) {
          const Row& r = model[pick(0, static_cast<int64_t>(model.size()) - 1)];
          if (used.insert(r.id).second) source.push_back(Row{r.id, pick(0, 99), parts[pick(0, 2)]});
        }
        Model fresh = new_rows(static_cast<int>(pick(0, 2)), nullptr);
        source.insert(source.end(), fresh.begin(), fresh.end());
        const bool by_source = pick(0, 1) == 1;
        const std::string touched = parts[pick(0, 2)];
        std::vector<std::string> selects;
        for (const Row& r : source) {
          selects.push_back(StrCat("SELECT ", r.id, "::BIGINT AS id, ", r.v, "::BIGINT AS v, '",
                                   r.p, "' AS p"));
        }
        sql = StrCat("MERGE INTO t USING (",
                     selects.empty() ? "SELECT NULL::BIGINT AS id, NULL::BIGINT AS v, "
                                       "NULL::VARCHAR AS p WHERE false"
                                     : StrJoin(selects, " UNION ALL "),
                     ") s ON t.id = s.id WHEN MATCHED AND s.v < 50 THEN UPDATE SET v = s.v, p = s.p "
                     "WHEN MATCHED THEN DELETE WHEN NOT MATCHED THEN INSERT *",
                     by_source ? StrCat(" WHEN NOT MATCHED BY SOURCE AND t.p = '", touched,
                                        "' THEN UPDATE SET v = t.v + 1")
                               : "");
        Model next;
        for (Row row : model) {
          auto s = std::find_if(source.begin(), source.end(),
                                [&](const Row& r) { return r.id == row.id; });
          if (s != source.end()) {
            if (s->v < 50) next.push_back(*s);  // else: deleted
            continue;
          }
          if (by_source && row.p == touched) row.v += 1;
          next.push_back(row);
        }
        for (const Row& r : fresh) next.push_back(r);
        model = std::move(next);
        break;
      }
      default: {  // a whole-table overwrite, now and then
        if (pick(0, 2) != 0) continue;
        Model rows = new_rows(static_cast<int>(pick(1, 4)), nullptr);
        sql = "INSERT OVERWRITE t VALUES " + values(rows);
        model = rows;
        break;
      }
    }
    SCOPED_TRACE(StrCat("step ", step, ": ", sql));
    auto result = Query(sql);
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_EQ(Table(), Render(model));
    by_version[Version()] = model;  // a statement that committed nothing keeps the version
  }
  // Time travel to every version the sequence passed through.
  for (const auto& [version, rows] : by_version) {
    SCOPED_TRACE(StrCat("version ", version));
    EXPECT_EQ(Table(StrCat(" VERSION AS OF ", version)), Render(rows));
  }
  const std::string location = One(
      "SELECT data_type FROM lake_describe('t', extended := true) WHERE col_name = 'Location'");
  EXPECT_THAT(Validate(location), ::testing::IsEmpty());
}

}  // namespace
}  // namespace lake::sql
