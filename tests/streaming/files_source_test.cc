// The landing folder source (src/streaming/files_source.h) over real folders: files ingested
// once (also when they land while the stream runs), rate limits, the file index, schema
// inference and the four schemaEvolutionModes, _rescued_data and _metadata.
#include "streaming/files_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "stream_test_util.h"
#include "streaming/delta_sink.h"

namespace lake::streaming {
namespace {

using ::testing::HasSubstr;
using testing::LandFile;
using testing::StreamTest;
namespace fs = std::filesystem;

class FilesSourceTest : public StreamTest {
 protected:
  Result<std::unique_ptr<StreamingQuery>> NewQuery(FilesSourceOptions source,
                                                   QueryOptions options = {}) {
    source.path = Path("landing");
    DeltaSinkOptions sink;
    sink.path = Path("out");
    sink.merge_schema = true;
    if (options.checkpoint_location.empty()) options.checkpoint_location = Path("ckpt");
    if (options.trigger.kind == Trigger::Kind::kProcessingTime && options.stop == nullptr) {
      options.trigger.kind = Trigger::Kind::kAvailableNow;
    }
    return StreamingQuery::Open(db(), std::make_unique<FilesSource>(source),
                                std::make_unique<DeltaSink>(sink), std::move(options));
  }
  Result<RunResult> Run(FilesSourceOptions source, QueryOptions options = {}) {
    LAKE_ASSIGN_OR_RETURN(auto query, NewQuery(std::move(source), std::move(options)));
    return query->Run();
  }
  void Land(const std::string& name, const std::string& text) {
    LandFile(root_ / "landing" / name, text);
  }
  std::vector<std::string> Out(const std::string& columns) {
    return Rows(StrCat("SELECT ", columns, " FROM delta_scan(", SqlQuote(Path("out")), ")"));
  }
};

TEST_F(FilesSourceTest, EachFileIsIngestedOnceInBoundedBatches) {
  Land("a.json", "{\"id\":\"1\"}\n{\"id\":\"2\"}\n");
  Land("b.json", "{\"id\":\"3\"}\n");
  Land("sub/c.json", "{\"id\":\"4\"}\n");        // sub-folders are read too
  Land("_ignored/d.json", "{\"id\":\"99\"}\n");  // '_' and '.' names are not
  Land(".hidden.json", "{\"id\":\"98\"}\n");
  FilesSourceOptions source;
  source.max_files_per_trigger = 2;
  ASSERT_OK_AND_ASSIGN(RunResult run, Run(source));
  ASSERT_EQ(run.batches.size(), 2u);  // 3 files, 2 per batch
  EXPECT_EQ(run.batches[0].num_input_rows + run.batches[1].num_input_rows, 4);
  EXPECT_EQ(run.batches[1].sources[0].end_offset, R"({"logOffset":1})");
  EXPECT_EQ(Out("id"), (std::vector<std::string>{"1", "2", "3", "4"}));

  // A second run finds nothing new; a new file is read alone; a rewritten old file is not
  // read again.
  ASSERT_OK_AND_ASSIGN(RunResult idle, Run(source));
  EXPECT_TRUE(idle.batches.empty());
  Land("e.json", "{\"id\":\"5\"}\n");
  Land("a.json", "{\"id\":\"1\"}\n{\"id\":\"2\"}\n{\"id\":\"2b\"}\n");
  ASSERT_OK_AND_ASSIGN(RunResult more, Run(source));
  ASSERT_EQ(more.batches.size(), 1u);
  EXPECT_EQ(more.batches[0].num_input_rows, 1);
  EXPECT_EQ(Out("id"), (std::vector<std::string>{"1", "2", "3", "4", "5"}));
  // The schema was inferred once: id as a string, under the checkpoint's source folder.
  EXPECT_EQ(testing::ReadText(root_ / "ckpt" / "sources" / "0" / "_schemas" / "0"),
            "v1\n{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"string\","
            "\"nullable\":true,\"metadata\":{}}]}");
  EXPECT_TRUE(fs::exists(root_ / "ckpt" / "sources" / "0" / "files.db"));
}

TEST_F(FilesSourceTest, FilesPlannedByARunThatDiedBeforeItsOffsetsAreReadAgain) {
  Land("1.json", "{\"id\":\"1\"}\n");
  Land("2.json", "{\"id\":\"2\"}\n");
  {
    // A run that recorded batch 0's files in the index and died before writing offsets/0.
    ASSERT_OK_AND_ASSIGN(auto checkpoint, Checkpoint::Open(Path("ckpt")));
    FilesSourceOptions options;
    options.path = Path("landing");
    FilesSource source(options);
    SourceContext context;
    context.db = &db();
    context.checkpoint = &checkpoint->store();
    context.state_prefix = Checkpoint::SourcePrefix(0);
    ASSERT_OK(source.Open(context));
    ASSERT_OK_AND_ASSIGN(auto planned, source.LatestOffset(std::nullopt, ReadLimit::All(), 0));
    ASSERT_EQ(planned, std::optional<std::string>(R"({"logOffset":0})"));
  }
  ASSERT_FALSE(fs::exists(root_ / "ckpt" / "offsets" / "0"));
  ASSERT_OK_AND_ASSIGN(RunResult run, Run(FilesSourceOptions{}));
  ASSERT_EQ(run.batches.size(), 1u);
  EXPECT_EQ(Out("id"), (std::vector<std::string>{"1", "2"}));
}

TEST_F(FilesSourceTest, FilesLandingWhileTheStreamRunsAreEachReadOnce) {
  StopToken stop;
  QueryOptions options;
  options.trigger.kind = Trigger::Kind::kProcessingTime;
  options.stop = &stop;
  Land("f0.csv", "id,v\n0,a\n");
  int next = 1;
  // After each batch and each idle trigger a new file lands (two at once after batch 1),
  // until 6 files exist; then the stream is stopped once everything is in.
  auto land_more = [&]() -> Status {
    if (next < 6) {
      Land(StrCat("f", next, ".csv"), StrCat("id,v\n", next, ",x\n"));
      ++next;
    }
    return Status::OK();
  };
  int rows_seen = 0;
  options.on_batch = [&](const BatchProgress& p) {
    rows_seen += static_cast<int>(p.num_input_rows);
    if (rows_seen == 6) stop.RequestStop();
    if (p.batch_id == 1) LAKE_RETURN_IF_ERROR(land_more());
    return land_more();
  };
  options.on_idle = land_more;
  FilesSourceOptions source;
  source.format = FileFormat::kCsv;
  ASSERT_OK_AND_ASSIGN(RunResult run, Run(source, options));
  EXPECT_TRUE(run.stopped_by_request);
  EXPECT_EQ(rows_seen, 6);
  EXPECT_EQ(Out("id || ':' || v"),
            (std::vector<std::string>{"0:a", "1:x", "2:x", "3:x", "4:x", "5:x"}));
}

TEST_F(FilesSourceTest, AddNewColumnsStopsOnceThenResumesWithTheEvolvedSchema) {
  Land("1.json", "{\"id\":\"1\",\"a\":\"x\"}\n");
  ASSERT_OK(Run(FilesSourceOptions{}).status());
  Land("2.json", "{\"id\":\"2\",\"a\":\"y\",\"b\":\"new\"}\n");
  Result<RunResult> stopped = Run(FilesSourceOptions{});
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(stopped.status().message(), HasSubstr("new column(s) b"));
  EXPECT_THAT(stopped.status().message(), HasSubstr("2.json"));
  EXPECT_THAT(stopped.status().hint(), HasSubstr("restart"));
  EXPECT_TRUE(fs::exists(root_ / "ckpt" / "sources" / "0" / "_schemas" / "1"));
  EXPECT_EQ(Out("id"), (std::vector<std::string>{"1"}));  // nothing of batch 1 landed

  ASSERT_OK_AND_ASSIGN(RunResult resumed, Run(FilesSourceOptions{}));
  ASSERT_EQ(resumed.batches.size(), 1u);
  EXPECT_TRUE(resumed.batches[0].replayed);  // batch 1, same file
  EXPECT_EQ(Out("id || ':' || a || ':' || coalesce(b, 'NULL') || ':' || "
                "coalesce(_rescued_data, 'NULL')"),
            (std::vector<std::string>{"1:x:NULL:NULL", "2:y:new:NULL"}));
}

TEST_F(FilesSourceTest, RescueModePutsUnknownColumnsInRescuedData) {
  FilesSourceOptions source;
  source.schema_evolution_mode = SchemaEvolutionMode::kRescue;
  Land("1.json", "{\"id\":\"1\"}\n");
  ASSERT_OK(Run(source).status());
  Land("2.json", "{\"id\":\"2\",\"extra\":7,\"more\":{\"k\":\"v\"}}\n{\"id\":\"3\"}\n");
  ASSERT_OK_AND_ASSIGN(RunResult run, Run(source));
  ASSERT_EQ(run.batches.size(), 1u);
  const std::string file = (root_ / "landing" / "2.json").string();
  EXPECT_EQ(
      Out("id || ' ' || coalesce(_rescued_data, 'NULL')"),
      (std::vector<std::string>{
          "1 NULL", StrCat("2 {\"extra\":7,\"more\":{\"k\":\"v\"},\"_file_path\":\"", file, "\"}"),
          "3 NULL"}));
  // The schema never changed.
  EXPECT_FALSE(fs::exists(root_ / "ckpt" / "sources" / "0" / "_schemas" / "1"));
}

TEST_F(FilesSourceTest, RescueModeRescuesValuesOfTheWrongType) {
  FilesSourceOptions source;
  source.format = FileFormat::kCsv;
  source.infer_column_types = true;
  source.schema_evolution_mode = SchemaEvolutionMode::kRescue;
  Land("1.csv", "id,n\n1,10\n");  // n inferred as a number
  ASSERT_OK(Run(source).status());
  Land("2.csv", "id,n\n2,twenty\n3,30\n");
  ASSERT_OK(Run(source).status());
  const std::string file = (root_ / "landing" / "2.csv").string();
  EXPECT_EQ(Out("CAST(id AS VARCHAR) || ' ' || coalesce(CAST(n AS VARCHAR), 'NULL') || ' ' || "
                "coalesce(_rescued_data, 'NULL')"),
            (std::vector<std::string>{
                "1 10 NULL", StrCat("2 NULL {\"n\":\"twenty\",\"_file_path\":\"", file, "\"}"),
                "3 30 NULL"}));
}

TEST_F(FilesSourceTest, FailOnNewColumnsFailsOnEveryRestart) {
  FilesSourceOptions source;
  source.schema_evolution_mode = SchemaEvolutionMode::kFailOnNewColumns;
  Land("1.json", "{\"id\":\"1\"}\n");
  ASSERT_OK(Run(source).status());
  Land("2.json", "{\"id\":\"2\",\"b\":\"x\"}\n");
  for (int attempt = 0; attempt < 2; ++attempt) {
    Result<RunResult> failed = Run(source);
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_THAT(failed.status().message(), HasSubstr("new column(s) b"));
  }
  EXPECT_EQ(Out("id"), (std::vector<std::string>{"1"}));
}

TEST_F(FilesSourceTest, NoneModeIgnoresNewColumns) {
  FilesSourceOptions source;
  source.schema_evolution_mode = SchemaEvolutionMode::kNone;
  Land("1.json", "{\"id\":\"1\"}\n");
  ASSERT_OK(Run(source).status());
  Land("2.json", "{\"id\":\"2\",\"b\":\"x\"}\n");
  ASSERT_OK(Run(source).status());
  EXPECT_EQ(Out("*"), (std::vector<std::string>{"1", "2"}));  // one column, no rescue
}

TEST_F(FilesSourceTest, AMalformedJsonFileFailsTheBatchNamingIt) {
  Land("1.json", "{\"id\":\"1\"}\n");
  ASSERT_OK(Run(FilesSourceOptions{}).status());
  Land("2.json", "{\"id\":\"2\"}\n{\"id\": oops\n");
  Result<RunResult> failed = Run(FilesSourceOptions{});
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.status().message(), HasSubstr("2.json"));
  EXPECT_THAT(failed.status().message(), HasSubstr("batch 1"));
  EXPECT_THAT(failed.status().hint(), HasSubstr("fix the file"));
  EXPECT_EQ(Out("id"), (std::vector<std::string>{"1"}));
  // Fixed in place, the same batch goes through.
  Land("2.json", "{\"id\":\"2\"}\n{\"id\":\"3\"}\n");
  ASSERT_OK_AND_ASSIGN(RunResult run, Run(FilesSourceOptions{}));
  ASSERT_EQ(run.batches.size(), 1u);
  EXPECT_EQ(run.batches[0].batch_id, 1);
  EXPECT_EQ(Out("id"), (std::vector<std::string>{"1", "2", "3"}));
}

TEST_F(FilesSourceTest, MetadataColumnNamesTheFileAndItsTime) {
  FilesSourceOptions source;
  source.include_metadata = true;
  source.format = FileFormat::kCsv;
  Land("x/1.csv", "id\n1\n");
  const fs::path file = root_ / "landing" / "x" / "1.csv";
  ASSERT_OK(Run(source).status());
  EXPECT_EQ(Out("id || ' ' || _metadata.file_path || ' ' || CAST(_metadata.file_size AS VARCHAR)"),
            (std::vector<std::string>{StrCat("1 ", file.string(), " 5")}));
  // The modification time, as the file system reports it (ms precision).
  auto stored =
      Rows(StrCat("SELECT CAST(epoch_ms(_metadata.file_modification_time) AS VARCHAR) "
                  "FROM delta_scan(",
                  SqlQuote(Path("out")), ")"));
  struct stat st;
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  const int64_t expected = int64_t{st.st_mtim.tv_sec} * 1000 + st.st_mtim.tv_nsec / 1'000'000;
  EXPECT_EQ(stored, (std::vector<std::string>{std::to_string(expected)}));
}

TEST_F(FilesSourceTest, ParquetKeepsItsTypes) {
  Sql(StrCat("COPY (SELECT 1::BIGINT AS id, 2.5::DOUBLE AS x) TO ",
             SqlQuote((root_ / "landing" / "p1.parquet").string()), " (FORMAT parquet)"));
  FilesSourceOptions source;
  source.format = FileFormat::kParquet;
  ASSERT_OK(Run(source).status());
  EXPECT_EQ(Out("typeof(id) || ' ' || typeof(x)"), (std::vector<std::string>{"BIGINT DOUBLE"}));
}

}  // namespace
}  // namespace lake::streaming
