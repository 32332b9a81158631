// Table features and protocol versions on the write side (PROTOCOL.md "Table Features",
// "Writer Version Requirements"): which protocol a table needs, and whether lake may write
// a table with a given protocol. The read-side gate is CheckReadSupported (snapshot.h).
//
// Writer gate: what lake does for each feature a table supports. "active" = supported and its
// property or schema marker present (PROTOCOL.md "Active Features").
//
// | feature              | kind | legacy r/w | lake's writer                                    |
// | -------------------- | ---- | ---------- | ------------------------------------------------ |
// | appendOnly           | W    | -/2        | enforced: Commit refuses dataChange removes      |
// | invariants           | W    | -/2        | gate passes; engine enforces TableConstraints()  |
// | checkConstraints     | W    | -/3        | gate passes; engine enforces TableConstraints()  |
// | changeDataFeed       | W    | -/4        | passes; Commit refuses row rewrites without cdc  |
// | generatedColumns     | W    | -/4        | passes while unused; refused when active         |
// | columnMapping        | RW   | 2/5        | passes; data files use PhysicalColumnName()      |
// | identityColumns      | W    | -/6        | passes while unused; refused when active         |
// | deletionVectors      | RW   | 3/7        | passes; adds with a DV need it and numRecords    |
// | timestampNtz         | RW   | 3/7        | passes                                           |
// | typeWidening(-prev.) | RW   | 3/7        | passes (the engine records delta.typeChanges)    |
// | v2Checkpoint         | RW   | 3/7        | passes (commits are unchanged; checkpoints V2)   |
// | vacuumProtocolCheck  | RW   | 3/7        | passes (only VACUUM is affected)                 |
// | domainMetadata       | W    | -/7        | passes; same-domain commits conflict             |
// | inCommitTimestamp    | W    | -/7        | enforced: commitInfo first with monotonic ICT    |
// | icebergCompatV1/V2   | W    | -/7        | passes while inactive; refused when enabled      |
// | allowColumnDefaults  | W    | -/7        | passes while unused; refused when a default set  |
// | variantType(-prev.)  | RW   | 3/7        | passes while unused; refused with variant columns|
// | rowTracking          | W    | -/7        | refused (writers must assign row ids)            |
// | clustering           | W    | -/7        | refused (clustering domain and stats)            |
// | catalogManaged, any other                 | refused (kNotSupported naming it)        |
//
// Refusals are kNotSupported naming the feature; they happen in Transaction::Begin, before
// any data file is written.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "delta/actions.h"
#include "delta/schema.h"

namespace lake::delta {

// Returns true when `protocol` supports `feature`: listed in writerFeatures (writer 7), or
// implied by the legacy versions (writer 2 implies appendOnly and invariants, and so on;
// PROTOCOL.md "Writer Version Requirements").
bool IsFeatureSupported(const Protocol& protocol, std::string_view feature);

// Returns the features `metadata` makes active: properties (delta.appendOnly=true,
// delta.constraints.*, delta.enableChangeDataFeed, delta.columnMapping.mode, ...), column
// metadata (delta.invariants, delta.generationExpression, delta.identity.*, CURRENT_DEFAULT),
// column types (timestamp_ntz, variant) and explicit "delta.feature.<name>" properties.
// `schema` is `metadata`'s parsed schema. Sorted, without duplicates.
std::vector<std::string> ActiveFeatures(const Metadata& metadata, const Schema& schema);

// Returns the lowest protocol a new table with `metadata` needs (PROTOCOL.md "Table Features
// for New and Existing Tables"): 1/2 by default; legacy versions when every needed feature
// has one (invariants, appendOnly -> 2; checkConstraints -> 3; changeDataFeed,
// generatedColumns -> 4; columnMapping -> 2/5; identityColumns -> 6); otherwise writer 7
// with writerFeatures, plus reader 3 with readerFeatures when a reader-writer feature
// without a legacy reader version is needed. `extra_features` are needed besides the active
// ones (domainMetadata when a commit writes domains). The properties
// delta.minReaderVersion / delta.minWriterVersion raise the versions. kInvalidArgument on
// an unknown feature name or a bad version property.
Result<Protocol> MinimumProtocolFor(const Metadata& metadata, const Schema& schema,
                                    const std::vector<std::string>& extra_features = {});

// Returns `current` upgraded so that it also supports what `metadata` needs (and
// `extra_features`): MinimumProtocolFor merged into it, never lower. A legacy table moved to
// writer 7 (or reader 3) lists every feature its old versions implied, since lake cannot
// prove they were never used (PROTOCOL.md "Table Features for New and Existing Tables").
// Returns `current` itself when nothing is missing.
Result<Protocol> UpgradeProtocolFor(const Protocol& current, const Metadata& metadata,
                                    const Schema& schema,
                                    const std::vector<std::string>& extra_features = {});

// Checks that `to` keeps everything `from` supports (writers must never drop a feature or
// lower a version). kInvalidArgument naming what would be lost.
Status CheckNoDowngrade(const Protocol& from, const Protocol& to);

// The writer gate: checks that lake can write a table with `protocol` and `metadata`
// (`schema` parsed from it) per the table above; also runs CheckReadSupported, since a writer
// must read the table first. kNotSupported naming every refused feature, with a hint.
Status CheckWriteSupported(const Protocol& protocol, const Metadata& metadata,
                           const Schema& schema);

// A rule every written row must satisfy: a CHECK constraint (metaData.configuration
// "delta.constraints.<name>") or a column invariant (column metadata "delta.invariants",
// PROTOCOL.md "Column Invariants"). The engine evaluates `expression` (Spark SQL) per row.
struct TableConstraint {
  std::string name;        // constraint name; "invariant(<column path>)" for invariants
  std::string expression;  // boolean SQL expression; false or NULL fails the row
  std::string column;      // the column path of an invariant; empty for CHECK constraints
  // What a violation says before the row; empty: "CHECK constraint <name> (<expression>)".
  // Writers set it for row conditions that are not table constraints (REPLACE WHERE).
  std::string violation;
};

// Returns the CHECK constraints (by name) and then the invariants (in schema order) of a
// table. kCorruption when a delta.invariants value is not the JSON the protocol describes.
Result<std::vector<TableConstraint>> TableConstraints(const Metadata& metadata,
                                                      const Schema& schema);

// Returns the name data files, stats and partition values use for the top-level column
// `logical_name` under column mapping `mode` ("none", "name", "id"; PROTOCOL.md "Writer
// Requirements for Column Mapping"). kNotFound when there is no such column; kCorruption when
// the mode needs a physical name and the column has none.
Result<std::string> PhysicalColumnName(const Schema& schema, std::string_view mode,
                                       std::string_view logical_name);

// Returns the column mapping mode a writer must honour: metadata's delta.columnMapping.mode
// when `protocol` supports columnMapping (writer 5/6, or 7 with the feature), else "none".
// kNotSupported for an unknown mode.
Result<std::string> WriterColumnMappingMode(const Protocol& protocol, const Metadata& metadata);

// Returns true when `metadata.configuration[key]` is "true" (case-insensitive).
bool ConfigIsTrue(const Metadata& metadata, std::string_view key);

}  // namespace lake::delta
