// Fuzzes the value parsers fed from the log: per-file statistics JSON and partition values.
// Malformed stats must give "unknown", never crash; partition values parse or fail.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "delta/literal.h"
#include "delta/schema.h"
#include "delta/skipping.h"

namespace {

const lake::delta::Schema& FuzzSchema() {
  static const lake::delta::Schema schema = *lake::delta::ParseSchema(R"j({"type":"struct","fields":[
    {"name":"l","type":"long","nullable":true,"metadata":{}},
    {"name":"i","type":"integer","nullable":true,"metadata":{}},
    {"name":"s","type":"string","nullable":true,"metadata":{}},
    {"name":"d","type":"double","nullable":true,"metadata":{}},
    {"name":"f","type":"float","nullable":true,"metadata":{}},
    {"name":"dec","type":"decimal(38,10)","nullable":true,"metadata":{}},
    {"name":"dt","type":"date","nullable":true,"metadata":{}},
    {"name":"ts","type":"timestamp","nullable":true,"metadata":{}},
    {"name":"ntz","type":"timestamp_ntz","nullable":true,"metadata":{}},
    {"name":"b","type":"boolean","nullable":true,"metadata":{}},
    {"name":"p","type":"string","nullable":true,"metadata":{}}]})j");
  return schema;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  const lake::delta::Schema& schema = FuzzSchema();

  lake::delta::FileStats stats = lake::delta::ParseFileStats(input, schema, "none");
  (void)stats;

  // Every field's type as a partition value of the same text.
  for (const lake::delta::StructField& f : schema.fields) {
    lake::Result<lake::delta::Literal> v = lake::delta::ParsePartitionValue(f.type, input);
    if (v.ok()) (void)lake::delta::LiteralToString(*v);
  }

  // The skipper over those stats must not crash whatever the stats say.
  lake::delta::AddFile file;
  file.stats = input;
  file.partition_values = {{"p", input}};
  lake::delta::FileSkipper skipper(schema, {"p"}, "none");
  using Op = lake::delta::Predicate::Op;
  for (const char* col : {"l", "s", "d", "f", "dec", "ts", "p"}) {
    for (Op op : {Op::kEq, Op::kLt, Op::kGe, Op::kIsNull, Op::kIsNotNull}) {
      (void)skipper.MayMatch(file, lake::delta::Predicate::Compare(op, col, int64_t{1}));
    }
  }
  (void)lake::delta::ParseSchema(input).ok();
  return 0;
}
