// commit_bench: latency of the log-write step of single-row appends by 1, 2, 4 and 8 concurrent
// writers, against the floor of the same disk (issue #3 §6).
//
// Lake: W threads, each with its own store and engine (as separate writers would have),
// append to one table K times each: refresh the snapshot, stage one add (the data file is not
// written: only the commit is measured), and Transaction::Commit, which claims the next version
// with PutIfAbsent and, after losing a race, checks the winners and retries (blind appends never
// conflict). The sample is Commit()'s wall time, retries included.
// Floor: W threads each doing K times what one commit needs at least on this disk: create a
// small new file exclusively (O_CREAT|O_EXCL), write ~600 bytes, fsync it, fsync the folder.
//
// Reported per W: p50 ratio lake / floor (target <= 2x), and p50 / p99 in ms of both. After the
// lake run the table must hold exactly W*K files and version W*K: a lost commit fails the bench.
// Default K=50; --small: K=10.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "delta/engine.h"
#include "delta/snapshot.h"
#include "delta/transaction.h"
#include "storage/local_store.h"

namespace lake::bench {
namespace {

namespace fs = std::filesystem;

constexpr char kSchema[] =
    R"j({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}}]})j";

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

struct Writer {
  std::unique_ptr<storage::ObjectStore> store;
  delta::NoParquetCheckpointReader reader;
  std::unique_ptr<delta::SimpleEngine> engine;
};

std::unique_ptr<Writer> OpenWriter(const std::string& table) {
  auto w = std::make_unique<Writer>();
  w->store = CheckResult(storage::LocalStore::Open(table), "open store");
  w->engine = std::make_unique<delta::SimpleEngine>(*w->store, w->reader);
  return w;
}

Status CreateTable(const std::string& table) {
  std::unique_ptr<Writer> w = OpenWriter(table);
  LAKE_ASSIGN_OR_RETURN(auto txn, delta::Transaction::BeginCreate(*w->engine));
  LAKE_RETURN_IF_ERROR(txn->UpdateMetadata(delta::NewTableMetadata(kSchema, {}, {}, 1700000000000)));
  txn->SetOperation("CREATE TABLE", "{}", "{}");
  return txn->Commit().status();
}

// One single-row append by writer `w`, its `i`-th; returns Commit()'s wall time in ms.
Result<double> Append(Writer& w, delta::SnapshotPtr& snap, int writer, int i) {
  if (!snap) {
    LAKE_ASSIGN_OR_RETURN(snap, delta::LoadSnapshot(*w.engine));
  } else {
    LAKE_ASSIGN_OR_RETURN(snap, delta::RefreshSnapshot(*w.engine, snap));
  }
  LAKE_ASSIGN_OR_RETURN(auto txn, delta::Transaction::Begin(*w.engine, snap));
  delta::AddFile add;
  char path[96];
  std::snprintf(path, sizeof path, "part-w%02d-%06d-c000.snappy.parquet", writer, i);
  add.path = path;
  add.size = 600;
  add.modification_time = 1700000000000;
  add.stats = "{\"numRecords\":1,\"minValues\":{\"id\":" + std::to_string(i) +
              "},\"maxValues\":{\"id\":" + std::to_string(i) + "},\"nullCount\":{\"id\":0}}";
  LAKE_RETURN_IF_ERROR(txn->StageAdd(std::move(add)));
  txn->SetOperation("WRITE", R"({"mode":"Append"})",
                    R"({"numFiles":"1","numOutputRows":"1","numOutputBytes":"600"})");
  const double t0 = WallMs();
  LAKE_RETURN_IF_ERROR(txn->Commit().status());
  return WallMs() - t0;
}

// The floor: exclusive create + write + fsync file + fsync folder, in ms.
Result<double> FloorWrite(const std::string& dir, int dir_fd, int writer, int i) {
  const std::string name = dir + "/floor-" + std::to_string(writer) + "-" + std::to_string(i) + ".json";
  std::string body(600, 'x');
  body.back() = '\n';
  const double t0 = WallMs();
  const int fd = ::open(name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot create " + name);
  const bool ok = ::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::fsync(dir_fd) != 0) return Status::IOError("cannot write " + name);
  return WallMs() - t0;
}

// Runs `op(writer, i)` for K iterations on each of W threads; returns every sample.
template <typename Op>
Result<std::vector<double>> RunThreads(int writers, int k, Op op) {
  std::vector<std::vector<double>> samples(writers);
  std::vector<Status> errors(writers);
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < k; ++i) {
        Result<double> ms = op(w, i);
        if (!ms.ok()) {
          errors[w] = ms.status();
          return;
        }
        samples[w].push_back(*ms);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::vector<double> all;
  for (int w = 0; w < writers; ++w) {
    LAKE_RETURN_IF_ERROR(errors[w]);
    all.insert(all.end(), samples[w].begin(), samples[w].end());
  }
  return all;
}

int Main(int argc, char** argv) {
  Options options = ParseArgs(argc, argv);
  const int k = options.small ? 10 : 50;
  TempDir tmp(options);
  Runner runner(options);
  for (int writers : {1, 2, 4, 8}) {
    const std::string name = "commit_p50_w" + std::to_string(writers);
    const std::string table = tmp.path() + "/table-w" + std::to_string(writers);
    const std::string floor_dir = tmp.path() + "/floor-w" + std::to_string(writers);
    fs::create_directories(table);
    fs::create_directories(floor_dir);
    Check(CreateTable(table), "create table");

    std::vector<std::unique_ptr<Writer>> ws;
    for (int w = 0; w < writers; ++w) ws.push_back(OpenWriter(table));
    std::vector<delta::SnapshotPtr> snaps(writers);
    Result<std::vector<double>> lake = RunThreads(writers, k, [&](int w, int i) {
      return Append(*ws[w], snaps[w], w, i);
    });
    if (!lake.ok()) {
      runner.Fail(name, lake.status().ToString());
      continue;
    }
    // No lost commit: every append is in the table, each in a version of its own.
    std::unique_ptr<Writer> check = OpenWriter(table);
    Result<delta::SnapshotPtr> last = delta::LoadSnapshot(*check->engine);
    const int64_t want = static_cast<int64_t>(writers) * k;
    if (!last.ok() || (*last)->version() != want || static_cast<int64_t>((*last)->files().size()) != want) {
      runner.Fail(name, "lost commits: want version and files " + std::to_string(want) + ", got " +
                            (last.ok() ? std::to_string((*last)->version()) + " and " +
                                             std::to_string((*last)->files().size())
                                       : last.status().ToString()));
      continue;
    }

    const int dir_fd = ::open(floor_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    Result<std::vector<double>> floor = RunThreads(writers, k, [&](int w, int i) {
      return FloorWrite(floor_dir, dir_fd, w, i);
    });
    ::close(dir_fd);
    if (!floor.ok()) {
      runner.Fail(name, floor.status().ToString());
      continue;
    }
    const double lake_p50 = Percentile(*lake, 0.5), lake_p99 = Percentile(*lake, 0.99);
    const double floor_p50 = Percentile(*floor, 0.5), floor_p99 = Percentile(*floor, 0.99);
    char note[200];
    std::snprintf(note, sizeof note,
                  "%d writers x %d appends: lake p50 %.2f ms p99 %.2f ms; floor p50 %.2f ms p99 %.2f ms",
                  writers, k, lake_p50, lake_p99, floor_p50, floor_p99);
    runner.Absolute(name, *lake, {}, floor_p50 > 0 ? lake_p50 / floor_p50 : 0, "x", 2.0, note);
  }
  return runner.Finish("commit_bench");
}

}  // namespace
}  // namespace lake::bench

int main(int argc, char** argv) { return lake::bench::Main(argc, argv); }
