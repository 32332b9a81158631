// A small harness for lake's paired benchmarks (STYLE.md §10, issue #2 §7).
//
// Each workload runs a baseline (plain DuckDB SQL over the same files) and lake's way of doing
// the same thing, in the same process, on the same files:
//  (1) one warm-up pair is run and dropped (page cache, DuckDB's metadata caches);
//  (2) then N pairs, alternating which side goes first, so drift in the machine's load hits
//      both sides alike;
//  (3) every run returns its answer as text, and all answers of both sides must be equal
//      before any ratio is printed: a fast wrong answer fails the bench (exit code 1);
//  (4) reported: median wall ms and median CPU seconds of the process (CLOCK_PROCESS_CPUTIME_ID:
//      DuckDB's worker threads included) per side, and the ratio lake / baseline as the median
//      of the per-pair wall ratios (the machines are noisy; pairs taken close in time are the
//      fairest comparison). Lower is better.
// Output, one line per workload:
//   name  baseline X ms (cpu Y s)  lake X ms (cpu Y s)  ratio R.RRx  target <= T
// or, with --format json, one JSON document at the end. --small selects the seconds-long
// variant of the data; --runs N overrides the number of measured pairs.
#pragma once

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/database.h"

namespace lake::bench {

struct Options {
  bool small = false;
  bool json = false;
  int runs = 7;
  std::string work_dir;  // where data is generated; default: a fresh folder under $TMPDIR
  bool keep = false;     // keep the generated data
  std::vector<std::string> rest;  // arguments the harness does not know (bench-specific)
};

inline void PrintUsage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--small] [--format table|json] [--runs N] [--dir PATH] [--keep]\n"
               "  --small   seconds-long variant (CI)\n"
               "  --format  table (default) or json\n"
               "  --runs    measured pairs per workload (default 7; warm-up pair not counted)\n"
               "  --dir     generate data here instead of a temp folder\n"
               "  --keep    keep the generated data\n",
               argv0);
}

inline Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        PrintUsage(argv[0]);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--small") {
      o.small = true;
    } else if (a == "--format") {
      const std::string f = next();
      if (f != "json" && f != "table") {
        PrintUsage(argv[0]);
        std::exit(2);
      }
      o.json = f == "json";
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--runs") {
      o.runs = std::max(1, std::atoi(next().c_str()));
    } else if (a == "--dir") {
      o.work_dir = next();
    } else if (a == "--keep") {
      o.keep = true;
    } else if (a == "--help" || a == "-h") {
      PrintUsage(argv[0]);
      std::exit(0);
    } else {
      o.rest.emplace_back(a);
    }
  }
  return o;
}

inline double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

inline double WallMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

// Peak resident set size of this process so far, in bytes.
inline int64_t MaxRssBytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<int64_t>(ru.ru_maxrss) * 1024;
}

inline double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Renders a query result as text, for comparing answers (not for display).
inline std::string ValueText(const engine::Value& v) {
  struct Visitor {
    std::string operator()(std::monostate) const { return "NULL"; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(uint64_t u) const { return std::to_string(u); }
    std::string operator()(__int128 h) const {
      if (h == 0) return "0";
      bool neg = h < 0;
      unsigned __int128 u = neg ? -static_cast<unsigned __int128>(h) : static_cast<unsigned __int128>(h);
      std::string s;
      while (u) {
        s.push_back(static_cast<char>('0' + static_cast<int>(u % 10)));
        u /= 10;
      }
      if (neg) s.push_back('-');
      return std::string(s.rbegin(), s.rend());
    }
    std::string operator()(double d) const {
      char buf[64];
      auto r = std::to_chars(buf, buf + sizeof buf, d);
      return std::string(buf, r.ptr);
    }
    std::string operator()(const std::string& s) const { return "'" + s + "'"; }
    std::string operator()(const std::shared_ptr<engine::ValueList>& l) const {
      std::string s = "[";
      for (const auto& e : *l) s += ValueText(e) + ",";
      return s + "]";
    }
    std::string operator()(const std::shared_ptr<engine::ValueStruct>& st) const {
      std::string s = "{";
      for (const auto& [k, e] : *st) s += k + ":" + ValueText(e) + ",";
      return s + "}";
    }
    std::string operator()(const std::shared_ptr<engine::ValueMap>& m) const {
      std::string s = "map{";
      for (const auto& [k, e] : *m) s += ValueText(k) + "=" + ValueText(e) + ",";
      return s + "}";
    }
  };
  return std::visit(Visitor{}, v.v);
}

inline std::string ResultText(const engine::ResultTable& t) {
  std::string out;
  for (const auto& row : t.rows) {
    for (size_t i = 0; i < row.size(); ++i) out += (i ? "|" : "") + ValueText(row[i]);
    out += "\n";
  }
  return out;
}

// Runs `sql` and returns its rows as text.
inline Result<std::string> QueryText(engine::Session& session, std::string_view sql) {
  LAKE_ASSIGN_OR_RETURN(engine::ResultTable t, session.Query(sql));
  return ResultText(t);
}

// Exits the bench with a message: for setup steps that must work (data generation).
inline void Check(const Status& st, std::string_view what) {
  if (!st.ok()) {
    std::fprintf(stderr, "bench setup failed: %.*s: %s\n", static_cast<int>(what.size()),
                 what.data(), st.ToString().c_str());
    std::exit(1);
  }
}
template <typename T>
T CheckResult(Result<T> r, std::string_view what) {
  Check(r.status(), what);
  return std::move(r).value();
}

using Workload = std::function<Result<std::string>()>;

struct Side {
  double wall_ms = 0;  // median
  double cpu_s = 0;    // median
};

class Runner {
 public:
  explicit Runner(Options options) : options_(std::move(options)) {}

  const Options& options() const { return options_; }

  // Prepares one side's run outside the measurement (e.g. a fresh copy of a table that the
  // measured statement rewrites); is_lake says which side runs next.
  using Prepare = std::function<Status(bool is_lake)>;

  // Measures one workload pair (see the file comment). Returns false (and records a failure)
  // when a side errors or the answers differ; the ratio is then not printed. `prepare`, if
  // set, runs untimed before every run of either side.
  bool Pair(const std::string& name, double target, const Workload& baseline, const Workload& lake,
            const std::string& note = "", const Prepare& prepare = nullptr) {
    std::vector<double> base_wall, base_cpu, lake_wall, lake_cpu, ratios;
    std::string base_answer, lake_answer;
    for (int i = 0; i <= options_.runs; ++i) {  // i == 0 is the dropped warm-up pair
      double bw = 0, bc = 0, lw = 0, lc = 0;
      const bool lake_first = i % 2 == 1;
      for (int side = 0; side < 2; ++side) {
        const bool is_lake = (side == 0) == lake_first;
        std::string answer;
        double wall = 0, cpu = 0;
        if (prepare) {
          Status prepared = prepare(is_lake);
          if (!prepared.ok()) {
            return Fail(name, std::string("preparing the ") + (is_lake ? "lake" : "baseline") +
                                  " run failed: " + prepared.ToString());
          }
        }
        if (!Run(is_lake ? lake : baseline, &answer, &wall, &cpu, name, is_lake)) return false;
        std::string& want = is_lake ? lake_answer : base_answer;
        if (i == 0 && want.empty()) want = answer;
        if (answer != want) {
          return Fail(name, std::string(is_lake ? "lake" : "baseline") +
                                " answered differently between runs:\n  " + want + "\n  " + answer);
        }
        (is_lake ? lw : bw) = wall;
        (is_lake ? lc : bc) = cpu;
      }
      if (i == 0) {
        if (base_answer != lake_answer) {
          return Fail(name, "answers differ:\n  baseline: " + base_answer + "\n  lake:     " + lake_answer);
        }
        continue;
      }
      base_wall.push_back(bw);
      base_cpu.push_back(bc);
      lake_wall.push_back(lw);
      lake_cpu.push_back(lc);
      ratios.push_back(bw > 0 ? lw / bw : 0);
    }
    Record r;
    r.name = name;
    r.has_baseline = true;
    r.baseline = {Median(base_wall), Median(base_cpu)};
    r.lake = {Median(lake_wall), Median(lake_cpu)};
    r.ratio = Median(ratios);
    r.cpu_ratio = r.baseline.cpu_s > 0 ? r.lake.cpu_s / r.baseline.cpu_s : 0;
    r.target = target;
    r.met = r.ratio <= target;
    r.note = note;
    r.answer = lake_answer;
    Print(r);
    records_.push_back(r);
    return true;
  }

  // Records an absolute measurement of lake alone (e.g. refresh latency): median of the given
  // samples, against an absolute target in `unit`.
  void Absolute(const std::string& name, const std::vector<double>& wall_ms,
                const std::vector<double>& cpu_s, double value, const std::string& unit,
                double target, const std::string& note = "") {
    Record r;
    r.name = name;
    r.lake = {Median(wall_ms), Median(cpu_s)};
    r.value = value;
    r.unit = unit;
    r.target = target;
    r.met = value <= target;
    r.note = note;
    Print(r);
    records_.push_back(r);
  }

  // Records a failed workload; returns false.
  bool Fail(const std::string& name, const std::string& why) {
    Record r;
    r.name = name;
    r.failed = true;
    r.note = why;
    if (!options_.json) std::printf("%-20s FAILED: %s\n", name.c_str(), why.c_str());
    std::fflush(stdout);
    records_.push_back(r);
    return false;
  }

  // Prints the JSON document (with --format json); returns the process exit code: 1 if any
  // workload failed (error or differing answers), else 0. Missed targets do not fail the run:
  // they are reported, since timing on a shared machine is no pass/fail signal (STYLE.md §9).
  int Finish(const std::string& bench) {
    bool failed = false;
    for (const Record& r : records_) failed |= r.failed;
    if (options_.json) {
      std::ostringstream o;
      o << "{\"bench\":\"" << bench << "\",\"small\":" << (options_.small ? "true" : "false")
        << ",\"runs\":" << options_.runs << ",\"results\":[";
      for (size_t i = 0; i < records_.size(); ++i) {
        const Record& r = records_[i];
        o << (i ? "," : "") << "{\"name\":\"" << r.name << "\"";
        if (r.failed) {
          o << ",\"failed\":true,\"error\":" << JsonString(r.note) << "}";
          continue;
        }
        if (r.has_baseline) {
          o << ",\"baseline_ms\":" << r.baseline.wall_ms << ",\"baseline_cpu_s\":" << r.baseline.cpu_s
            << ",\"lake_ms\":" << r.lake.wall_ms << ",\"lake_cpu_s\":" << r.lake.cpu_s
            << ",\"ratio\":" << r.ratio << ",\"cpu_ratio\":" << r.cpu_ratio;
        } else {
          o << ",\"value\":" << r.value << ",\"unit\":\"" << r.unit << "\"";
          if (!r.unit.empty() && r.unit == "ms") o << ",\"lake_cpu_s\":" << r.lake.cpu_s;
        }
        o << ",\"target\":" << r.target << ",\"target_met\":" << (r.met ? "true" : "false");
        if (!r.note.empty()) o << ",\"note\":" << JsonString(r.note);
        o << "}";
      }
      o << "],\"failed\":" << (failed ? "true" : "false") << "}";
      std::printf("%s\n", o.str().c_str());
    }
    std::fflush(stdout);
    return failed ? 1 : 0;
  }

 private:
  struct Record {
    std::string name;
    bool failed = false;
    bool has_baseline = false;
    Side baseline, lake;
    double ratio = 0;
    double cpu_ratio = 0;  // of the median CPU seconds; steadier than wall on a busy machine
    double value = 0;
    std::string unit;
    double target = 0;
    bool met = false;
    std::string note;
    std::string answer;
  };

  bool Run(const Workload& w, std::string* answer, double* wall, double* cpu,
           const std::string& name, bool is_lake) {
    const double c0 = ProcessCpuSeconds();
    const double t0 = WallMs();
    Result<std::string> r = w();
    *wall = WallMs() - t0;
    *cpu = ProcessCpuSeconds() - c0;
    if (!r.ok()) {
      return Fail(name, std::string(is_lake ? "lake" : "baseline") + " failed: " + r.status().ToString());
    }
    *answer = std::move(r).value();
    return true;
  }

  void Print(const Record& r) {
    if (options_.json) return;
    char line[512];
    if (r.has_baseline) {
      std::snprintf(line, sizeof line,
                    "%-20s baseline %8.1f ms (cpu %7.3f s)  lake %8.1f ms (cpu %7.3f s)  ratio %.2fx  "
                    "target <= %.2fx%s  (cpu ratio %.2fx)",
                    r.name.c_str(), r.baseline.wall_ms, r.baseline.cpu_s, r.lake.wall_ms,
                    r.lake.cpu_s, r.ratio, r.target, r.met ? "" : "  (missed)", r.cpu_ratio);
    } else {
      std::snprintf(line, sizeof line, "%-20s lake %.2f %s  target <= %.2f %s%s", r.name.c_str(),
                    r.value, r.unit.c_str(), r.target, r.unit.c_str(), r.met ? "" : "  (missed)");
    }
    std::printf("%s%s%s\n", line, r.note.empty() ? "" : "  # ", r.note.c_str());
    std::fflush(stdout);
  }

  static std::string JsonString(const std::string& s) {
    std::string o = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') {
        o += '\\';
        o += c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        o += buf;
      } else {
        o += c;
      }
    }
    return o + "\"";
  }

  Options options_;
  std::vector<Record> records_;
};

// A scratch folder removed on destruction unless kept.
class TempDir {
 public:
  explicit TempDir(const Options& o) : keep_(o.keep) {
    std::error_code ec;
    if (!o.work_dir.empty()) {
      path_ = o.work_dir;
      keep_ = true;  // a folder the user named is never deleted
      std::filesystem::create_directories(path_, ec);
      if (ec) {
        std::fprintf(stderr, "cannot create %s: %s\n", path_.c_str(), ec.message().c_str());
        std::exit(1);
      }
      return;
    }
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/lake-bench-XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) {
      std::perror("mkdtemp");
      std::exit(1);
    }
    path_ = buf.data();
  }
  ~TempDir() {
    if (keep_) {
      std::fprintf(stderr, "data kept in %s\n", path_.c_str());
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    if (ec) std::fprintf(stderr, "could not remove %s: %s\n", path_.c_str(), ec.message().c_str());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool keep_ = false;
};

}  // namespace lake::bench
