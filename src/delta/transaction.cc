// Commit protocol.
//  (1) A transaction reads snapshot v and records what it read: the whole table, predicates,
//      files, app ids (transaction.h "Reads"). Metadata and protocol count as always read.
//  (2) Data files are written first; they stay invisible until a commit names them.
//  (3) The commit claims v+1 with PutIfAbsent (PROTOCOL.md "Creation of New Log Entries").
//      commitInfo is the first line, so readers (and ICT) find it without parsing the rest.
//  (4) After a loss, every commit from v+1 up to the newest is read and checked against (1)
//      in ConflictChecker.scala's order: protocol, metadata, domains, app ids, appends,
//      delete-read, delete-delete. Not only the commit that beat us: a third writer may have
//      landed in between and touched files we read. Overlap -> kConflict to the caller; none
//      -> claim the next version, with a fresh in-commit timestamp above the last winner's.
//  (5) At most max_commit_attempts claims; then kConflict ("too many concurrent commits").
// Invariants.
//  (a) Nothing writes under _delta_log/ except (3) (and the checkpoint writer elsewhere).
//  (b) A commit file is whole or absent (PutIfAbsent contract), so a crash or an error at
//      any call leaves the table at its previous version or at the new one.
//  (c) A commit never carries two actions that reconcile with each other (PROTOCOL.md "Delta
//      Log Entries"): one add and one remove per path, one metaData, one protocol, one txn
//      per app id, one domainMetadata per domain.
#include "delta/transaction.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "base/uuid.h"
#include "base/version.h"
#include "delta/internal/log_replay.h"
#include "delta/log_parser.h"
#include "delta/log_segment.h"

namespace lake::delta {
namespace {

std::string LogKeyFor(Version version) { return StrCat(kLogPrefix, ZeroPad(version, 20), ".json"); }

bool SameProtocol(const Protocol& a, const Protocol& b) {
  return a.min_reader_version == b.min_reader_version &&
         a.min_writer_version == b.min_writer_version && a.reader_features == b.reader_features &&
         a.writer_features == b.writer_features;
}

std::string PredicateText(const Predicate& p) {
  using Op = Predicate::Op;
  auto join = [&](std::string_view sep) {
    std::vector<std::string> parts;
    for (const Predicate& c : p.children) parts.push_back(PredicateText(c));
    return StrCat("(", StrJoin(parts, std::string(sep)), ")");
  };
  switch (p.op) {
    case Op::kAnd:
      return join(" AND ");
    case Op::kOr:
      return join(" OR ");
    case Op::kIsNull:
      return StrCat(p.column, " IS NULL");
    case Op::kIsNotNull:
      return StrCat(p.column, " IS NOT NULL");
    case Op::kIn: {
      std::vector<std::string> vals;
      for (const Literal& v : p.values) vals.push_back(LiteralToString(v));
      return StrCat(p.column, " IN (", StrJoin(vals, ", "), ")");
    }
    default:
      break;
  }
  std::string_view op = p.op == Op::kEq   ? "="
                        : p.op == Op::kLt ? "<"
                        : p.op == Op::kLe ? "<="
                        : p.op == Op::kGt ? ">"
                                          : ">=";
  return StrCat(p.column, " ", op, " ", LiteralToString(p.value));
}

std::string ConfigValue(const Metadata& m, const std::string& key) {
  auto it = m.configuration.find(key);
  return it == m.configuration.end() ? std::string() : it->second;
}

// Operations that rewrite rows inside files: with change data feed on, a commit of theirs that
// removes and re-adds rows needs cdc files (PROTOCOL.md "Change Data Files"), else readers see
// the copied rows as deleted and inserted again (engine/internal/change_data_writer.h).
bool IsRowLevelOperation(std::string_view op) {
  return op == "UPDATE" || op == "MERGE" || op == "DELETE";
}

// Looks up the field at `path` (names, case-sensitive) in `schema`.
const StructField* FieldAt(const DataType& type, const std::vector<std::string>& path,
                           size_t depth = 0) {
  if (depth >= path.size() || type.kind != TypeKind::kStruct) return nullptr;
  for (const StructField& f : type.fields) {
    if (f.name != path[depth]) continue;
    if (depth + 1 == path.size()) return &f;
    return FieldAt(f.type, path, depth + 1);
  }
  return nullptr;
}

// Column mapping for a schema being committed (PROTOCOL.md "Writer Requirements for Column
// Mapping"): every column, nested ones included, gets a delta.columnMapping.id above
// delta.columnMapping.maxColumnId and a physical name. A column that already exists in
// files written without mapping keeps its display name as physical name (those files are
// read by it); a new column gets "col-<uuid>", never reused.
class ColumnMappingAssigner {
 public:
  ColumnMappingAssigner(const Schema* unmapped_old_schema, int64_t max_id)
      : old_(unmapped_old_schema), max_id_(max_id) {}

  Result<std::string> Assign(const std::string& schema_string) {
    nlohmann::ordered_json root =
        nlohmann::ordered_json::parse(schema_string, nullptr, /*allow_exceptions=*/false);
    if (!root.is_object()) return Status::InvalidArgument("schemaString is not a JSON object");
    ScanIds(root);
    std::vector<std::string> path;
    WalkType(root, path);
    return root.dump();
  }
  int64_t max_id() const { return max_id_; }

 private:
  void ScanIds(const nlohmann::ordered_json& j) {
    if (j.is_object()) {
      auto it = j.find("delta.columnMapping.id");
      if (it != j.end() && it->is_number_integer()) max_id_ = std::max(max_id_, it->get<int64_t>());
      for (const auto& item : j.items()) ScanIds(item.value());
    } else if (j.is_array()) {
      for (const auto& item : j) ScanIds(item);
    }
  }
  void WalkType(nlohmann::ordered_json& type, std::vector<std::string>& path) {
    if (!type.is_object()) return;
    const std::string kind = type.value("type", "");
    if (kind == "struct" && type.contains("fields") && type["fields"].is_array()) {
      for (auto& field : type["fields"]) {
        if (!field.is_object() || !field.contains("name")) continue;
        path.push_back(field["name"].get<std::string>());
        if (!field.contains("metadata") || !field["metadata"].is_object()) {
          field["metadata"] = nlohmann::ordered_json::object();
        }
        auto& meta = field["metadata"];
        if (!meta.contains("delta.columnMapping.id")) meta["delta.columnMapping.id"] = ++max_id_;
        if (!meta.contains("delta.columnMapping.physicalName")) {
          const bool existing = old_ && FieldAt(*old_, path) != nullptr;
          meta["delta.columnMapping.physicalName"] =
              existing ? path.back() : StrCat("col-", NewUuidV4());
        }
        if (field.contains("type")) WalkType(field["type"], path);
        path.pop_back();
      }
    } else if (kind == "array" && type.contains("elementType")) {
      path.push_back("element");
      WalkType(type["elementType"], path);
      path.pop_back();
    } else if (kind == "map") {
      path.push_back("key");
      if (type.contains("keyType")) WalkType(type["keyType"], path);
      path.back() = "value";
      if (type.contains("valueType")) WalkType(type["valueType"], path);
      path.pop_back();
    }
  }

  const Schema* old_;
  int64_t max_id_;
};

const Metadata& EmptyMetadata() {
  static const Metadata kEmpty;
  return kEmpty;
}

}  // namespace

std::string_view IsolationLevelName(IsolationLevel level) {
  return level == IsolationLevel::kSerializable ? "Serializable" : "WriteSerializable";
}

std::string_view ConflictKindText(ConflictKind kind) {
  switch (kind) {
    case ConflictKind::kProtocolChanged:
      return "protocol changed";
    case ConflictKind::kMetadataChanged:
      return "metadata changed";
    case ConflictKind::kConcurrentAppend:
      return "concurrent append";
    case ConflictKind::kConcurrentDeleteRead:
      return "concurrent delete-read";
    case ConflictKind::kConcurrentDeleteDelete:
      return "concurrent delete-delete";
    case ConflictKind::kConcurrentTransaction:
      return "concurrent transaction";
    case ConflictKind::kConcurrentDomainMetadata:
      return "concurrent domain metadata";
    case ConflictKind::kConcurrentCreate:
      return "concurrent table creation";
    case ConflictKind::kTooManyAttempts:
      return "too many concurrent commits";
  }
  return "conflict";
}

std::string LakeEngineInfo() { return StrCat("lake/", LakeVersion()); }

Metadata NewTableMetadata(std::string schema_string, std::vector<std::string> partition_columns,
                          StringMap configuration, int64_t now_ms) {
  Metadata m;
  m.id = NewUuidV4();
  m.schema_string = std::move(schema_string);
  m.partition_columns = std::move(partition_columns);
  m.configuration = std::move(configuration);
  m.created_time = now_ms;
  return m;
}

Transaction::Transaction(Engine& engine, SnapshotPtr read_snapshot, TransactionOptions options)
    : engine_(engine), read_snapshot_(std::move(read_snapshot)), options_(std::move(options)) {
  txn_id_ = NewUuidV4();
  operation_ = read_snapshot_ ? "WRITE" : "CREATE TABLE";
  schema_.kind = TypeKind::kStruct;
}

Result<std::unique_ptr<Transaction>> Transaction::Begin(Engine& engine, SnapshotPtr read_snapshot,
                                                        TransactionOptions options) {
  if (!read_snapshot) {
    return Status::InvalidArgument("Transaction::Begin needs a read snapshot")
        .WithHint("use Transaction::BeginCreate to create a table");
  }
  std::unique_ptr<Transaction> txn(
      new Transaction(engine, std::move(read_snapshot), std::move(options)));
  LAKE_RETURN_IF_ERROR(txn->Init());
  return txn;
}

Result<std::unique_ptr<Transaction>> Transaction::BeginCreate(Engine& engine,
                                                              TransactionOptions options) {
  // Version 0 absent is not enough: a table whose early commits were cleaned up after a
  // checkpoint has no 0.json, and writing one there would corrupt it.
  LAKE_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> existing,
                        engine.store().ListAfter(kLogPrefix, ""));
  for (const storage::ObjectInfo& info : existing) {
    std::string_view name = std::string_view(info.key).substr(kLogPrefix.size());
    if (EndsWith(name, ".json") || name.find(".checkpoint.") != std::string_view::npos ||
        name == "_last_checkpoint") {
      return Status::AlreadyExists(StrCat(engine.store().uri(),
                                          ": a Delta table already exists here (", info.key, ")"))
          .WithHint("write to the existing table, or choose another location");
    }
  }
  std::unique_ptr<Transaction> txn(new Transaction(engine, nullptr, std::move(options)));
  LAKE_RETURN_IF_ERROR(txn->Init());
  return txn;
}

Status Transaction::Init() {
  if (options_.max_commit_attempts < 1) {
    return Status::InvalidArgument("max_commit_attempts must be at least 1");
  }
  if (!read_snapshot_) {
    isolation_level_ = options_.isolation_level.value_or(IsolationLevel::kWriteSerializable);
    return Status::OK();
  }
  const Snapshot& snap = *read_snapshot_;
  if (!snap.schema_status().ok()) return snap.schema_status().WithContext(TableName());
  schema_ = snap.schema();
  Status gate = CheckWriteSupported(snap.protocol(), snap.metadata(), schema_);
  if (!gate.ok()) return gate.WithContext(StrCat(TableName(), " at version ", snap.version()));
  LAKE_ASSIGN_OR_RETURN(column_mapping_mode_,
                        WriterColumnMappingMode(snap.protocol(), snap.metadata()));
  if (options_.isolation_level) {
    isolation_level_ = *options_.isolation_level;
  } else {
    const std::string level = ConfigValue(snap.metadata(), "delta.isolationLevel");
    if (level.empty() || level == "WriteSerializable") {
      isolation_level_ = IsolationLevel::kWriteSerializable;
    } else if (level == "Serializable") {
      isolation_level_ = IsolationLevel::kSerializable;
    } else {
      return Status::NotSupported(
                 StrCat(TableName(), ": delta.isolationLevel '", level, "' is not supported"))
          .WithHint("use Serializable or WriteSerializable");
    }
  }
  return Status::OK();
}

int64_t Transaction::NowMs() const {
  if (options_.clock_ms) return options_.clock_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Transaction::TableName() const { return engine_.store().uri(); }

const Metadata& Transaction::metadata() const {
  if (new_metadata_) return *new_metadata_;
  return read_snapshot_ ? read_snapshot_->metadata() : EmptyMetadata();
}

Result<std::string> Transaction::PhysicalName(std::string_view logical_name) const {
  return PhysicalColumnName(schema_, column_mapping_mode_, logical_name);
}

Result<std::vector<TableConstraint>> Transaction::Constraints() const {
  return TableConstraints(metadata(), schema_);
}

void Transaction::ReadPredicate(const Predicate& predicate) {
  std::string text = PredicateText(predicate);
  if (!read_snapshot_) {
    // A new table has no files; any concurrent commit conflicts with a create anyway.
    read_matchers_.push_back({[](const AddFile&) { return true; }, std::move(text)});
    return;
  }
  auto skipper = std::make_shared<FileSkipper>(read_snapshot_->schema(),
                                               read_snapshot_->metadata().partition_columns,
                                               read_snapshot_->column_mapping_mode());
  // The skipper borrows the read snapshot's schema; the snapshot lives as long as we do.
  read_matchers_.push_back(
      {[skipper, predicate](const AddFile& f) { return skipper->MayMatch(f, predicate); },
       std::move(text)});
}

void Transaction::ReadMatching(std::function<bool(const AddFile&)> may_match,
                               std::string description) {
  read_matchers_.push_back({std::move(may_match), std::move(description)});
}

void Transaction::MarkFileRead(const AddFile& file) {
  read_files_.emplace(internal::CanonicalPath(file.path, internal::CanonicalRoot(TableName())),
                      file.path);
}

std::optional<int64_t> Transaction::TxnVersion(const std::string& app_id) {
  read_app_ids_.insert(app_id);
  if (!read_snapshot_) return std::nullopt;
  auto it = read_snapshot_->txns().find(app_id);
  if (it == read_snapshot_->txns().end()) return std::nullopt;
  return it->second.version;
}

Status Transaction::UpdateMetadata(Metadata metadata) {
  if (finished_) return Status::FailedPrecondition("the transaction has already committed");
  if (new_metadata_) {
    return Status::InvalidArgument(StrCat(TableName(), ": metadata updated twice in one commit"))
        .WithHint("a commit carries at most one metaData action; merge the changes");
  }
  if (metadata.id.empty()) {
    metadata.id = read_snapshot_ ? read_snapshot_->metadata().id : NewUuidV4();
  }
  if (!metadata.created_time && !read_snapshot_) metadata.created_time = NowMs();
  auto parsed = ParseSchema(metadata.schema_string);
  if (!parsed.ok()) {
    return Status::InvalidArgument(StrCat(TableName(), ": ", parsed.status().message()))
        .WithHint("pass a Delta schema (PROTOCOL.md \"Schema Serialization Format\")");
  }
  Schema schema = std::move(parsed).value();
  for (const std::string& col : metadata.partition_columns) {
    const StructField* f = FindField(schema, col);
    if (!f) {
      return Status::InvalidArgument(
                 StrCat(TableName(), ": partition column '", col, "' is not in the schema"))
          .WithHint("partition by columns of the table");
    }
    if (!f->type.is_primitive()) {
      return Status::InvalidArgument(StrCat(TableName(), ": partition column '", col, "' has type ",
                                            f->type.ToString(),
                                            "; only primitive types can "
                                            "partition a table"));
    }
  }

  // Protocol first, from the metadata as given: "delta.feature.*" and the version properties
  // are requests to the protocol, then dropped from what is stored (as Spark does).
  Protocol base = read_snapshot_ ? read_snapshot_->protocol() : Protocol{};
  if (requested_protocol_) base = *requested_protocol_;
  const std::vector<std::string> extra = ExtraFeatures();
  Result<Protocol> protocol = read_snapshot_ || requested_protocol_
                                  ? UpgradeProtocolFor(base, metadata, schema, extra)
                                  : MinimumProtocolFor(metadata, schema, extra);
  if (!protocol.ok()) return protocol.status().WithContext(TableName());
  for (auto it = metadata.configuration.begin(); it != metadata.configuration.end();) {
    if (StartsWith(it->first, "delta.feature.")) {
      // Kept so that a later UpdateProtocol still honours the request.
      requested_features_.push_back(it->first.substr(std::string_view("delta.feature.").size()));
    }
    if (StartsWith(it->first, "delta.feature.") || it->first == "delta.minReaderVersion" ||
        it->first == "delta.minWriterVersion") {
      it = metadata.configuration.erase(it);
    } else {
      ++it;
    }
  }

  // Column mapping: assign ids and physical names the schema lacks.
  LAKE_ASSIGN_OR_RETURN(std::string mode, WriterColumnMappingMode(*protocol, metadata));
  if (mode != "none") {
    const std::string old_mode = read_snapshot_ ? read_snapshot_->column_mapping_mode() : "none";
    if (read_snapshot_ && old_mode != mode && !(old_mode == "none" && mode == "name")) {
      return Status::NotSupported(StrCat(TableName(), ": changing column mapping mode from '",
                                         old_mode, "' to '", mode, "'"))
          .WithHint("only enabling mode 'name' on an existing table is supported");
    }
    int64_t max_id =
        ParseInt64(ConfigValue(metadata, "delta.columnMapping.maxColumnId")).value_or(0);
    if (read_snapshot_) {
      max_id = std::max(max_id, ParseInt64(ConfigValue(read_snapshot_->metadata(),
                                                       "delta.columnMapping.maxColumnId"))
                                    .value_or(0));
    }
    const Schema* unmapped_old =
        read_snapshot_ && old_mode == "none" ? &read_snapshot_->schema() : nullptr;
    ColumnMappingAssigner assigner(unmapped_old, max_id);
    LAKE_ASSIGN_OR_RETURN(metadata.schema_string, assigner.Assign(metadata.schema_string));
    metadata.configuration["delta.columnMapping.maxColumnId"] = StrCat(assigner.max_id());
    LAKE_ASSIGN_OR_RETURN(schema, ParseSchema(metadata.schema_string));
  }

  Status gate = CheckWriteSupported(*protocol, metadata, schema);
  if (!gate.ok()) return gate.WithContext(TableName());
  const Protocol read_protocol = read_snapshot_ ? read_snapshot_->protocol() : Protocol{};
  if (read_snapshot_ && SameProtocol(*protocol, read_protocol) && !requested_protocol_) {
    new_protocol_.reset();
  } else {
    new_protocol_ = *protocol;
  }
  column_mapping_mode_ = mode;
  schema_ = std::move(schema);
  new_metadata_ = std::move(metadata);
  return Status::OK();
}

std::vector<std::string> Transaction::ExtraFeatures() const {
  std::vector<std::string> extra = requested_features_;
  if (!domains_.empty()) extra.push_back("domainMetadata");
  return extra;
}

Status Transaction::ResolveProtocol() {
  if (!read_snapshot_ && !new_metadata_) return Status::OK();  // UpdateMetadata decides later
  const Protocol base = new_protocol_    ? *new_protocol_
                        : read_snapshot_ ? read_snapshot_->protocol()
                                         : Protocol{};
  LAKE_ASSIGN_OR_RETURN(Protocol p, UpgradeProtocolFor(base, metadata(), schema_, ExtraFeatures()));
  if (new_protocol_ || !read_snapshot_ || !SameProtocol(p, read_snapshot_->protocol())) {
    Status gate = CheckWriteSupported(p, metadata(), schema_);
    if (!gate.ok()) return gate.WithContext(TableName());
    new_protocol_ = p;
  }
  return Status::OK();
}

Status Transaction::UpdateProtocol(Protocol protocol) {
  if (finished_) return Status::FailedPrecondition("the transaction has already committed");
  if (read_snapshot_) {
    Status st = CheckNoDowngrade(read_snapshot_->protocol(), protocol);
    if (!st.ok()) return st.WithContext(StrCat(TableName(), " at version ", read_version()));
  }
  if (protocol.min_reader_version >= 3 && protocol.min_writer_version < 7) {
    return Status::InvalidArgument(
        StrCat(TableName(),
               ": reader version 3 requires writer version 7 (PROTOCOL.md \"Table "
               "Features for New and Existing Tables\")"));
  }
  if ((protocol.min_reader_version >= 3) != protocol.reader_features.has_value() ||
      (protocol.min_writer_version >= 7) != protocol.writer_features.has_value()) {
    return Status::InvalidArgument(
        StrCat(TableName(),
               ": readerFeatures must be present exactly with reader version 3 and "
               "writerFeatures exactly with writer version 7"));
  }
  requested_protocol_ = protocol;
  new_protocol_.reset();
  if (new_metadata_ || read_snapshot_) {
    LAKE_ASSIGN_OR_RETURN(Protocol p,
                          UpgradeProtocolFor(protocol, metadata(), schema_, ExtraFeatures()));
    Status gate = CheckWriteSupported(p, metadata(), schema_);
    if (!gate.ok()) return gate.WithContext(TableName());
    new_protocol_ = p;
  } else {
    new_protocol_ = protocol;
  }
  return Status::OK();
}

Status Transaction::StageAdd(AddFile add) {
  if (finished_) return Status::FailedPrecondition("the transaction has already committed");
  if (add.path.empty())
    return Status::InvalidArgument(StrCat(TableName(), ": add with an empty path"));
  if (add.size < 0) {
    return Status::InvalidArgument(
        StrCat(TableName(), ": add '", add.path, "' has negative size ", add.size));
  }
  std::string key = internal::CanonicalPath(add.path, internal::CanonicalRoot(TableName()));
  if (!add_keys_.insert(key).second) {
    return Status::InvalidArgument(
               StrCat(TableName(), ": file '", add.path, "' is added twice in one commit"))
        .WithHint("a commit may add each path once (PROTOCOL.md \"Add File and Remove File\")");
  }
  adds_.push_back(std::move(add));
  return Status::OK();
}

Status Transaction::StageRemove(RemoveFile remove) {
  if (finished_) return Status::FailedPrecondition("the transaction has already committed");
  if (!read_snapshot_) {
    return Status::InvalidArgument(StrCat(TableName(), ": a new table has no files to remove"));
  }
  if (remove.path.empty()) {
    return Status::InvalidArgument(StrCat(TableName(), ": remove with an empty path"));
  }
  std::string key = internal::CanonicalPath(remove.path, internal::CanonicalRoot(TableName()));
  if (!remove_keys_.emplace(key, remove.path).second) {
    return Status::InvalidArgument(
               StrCat(TableName(), ": file '", remove.path, "' is removed twice in one commit"))
        .WithHint("a commit may remove each path once (PROTOCOL.md \"Add File and Remove File\")");
  }
  // Removing a file depends on it still being there: a concurrent delete of it conflicts.
  read_files_.emplace(key, remove.path);
  removes_.push_back(std::move(remove));
  return Status::OK();
}

RemoveFile Transaction::RemoveFor(const AddFile& add, int64_t deletion_timestamp_ms,
                                  bool data_change) {
  RemoveFile r;
  r.path = add.path;
  r.deletion_timestamp = deletion_timestamp_ms;
  r.data_change = data_change;
  r.extended_file_metadata = true;
  r.partition_values = add.partition_values;
  r.size = add.size;
  r.stats = add.stats;
  r.tags = add.tags;
  r.deletion_vector = add.deletion_vector;
  r.base_row_id = add.base_row_id;
  r.default_row_commit_version = add.default_row_commit_version;
  return r;
}

Status Transaction::StageCdc(AddCdcFile cdc) {
  if (finished_) return Status::FailedPrecondition("the transaction has already committed");
  if (cdc.path.empty())
    return Status::InvalidArgument(StrCat(TableName(), ": cdc with an empty path"));
  cdc.data_change = false;
  cdcs_.push_back(std::move(cdc));
  return Status::OK();
}

Status Transaction::SetTxn(const std::string& app_id, int64_t version) {
  if (finished_) return Status::FailedPrecondition("the transaction has already committed");
  if (app_id.empty())
    return Status::InvalidArgument(StrCat(TableName(), ": txn with an empty appId"));
  for (const Txn& t : txns_) {
    if (t.app_id == app_id) {
      return Status::InvalidArgument(
          StrCat(TableName(), ": txn for appId '", app_id, "' staged twice in one commit"));
    }
  }
  // Writing an app's version depends on its previous one: two runs of the same app must not
  // both commit (exactly-once, PROTOCOL.md "Transaction Identifiers").
  read_app_ids_.insert(app_id);
  txns_.push_back(Txn{app_id, version, NowMs()});
  return Status::OK();
}

Status Transaction::StageDomainMetadata(DomainMetadata domain) {
  if (finished_) return Status::FailedPrecondition("the transaction has already committed");
  if (domain.domain.empty()) {
    return Status::InvalidArgument(StrCat(TableName(), ": domainMetadata with an empty domain"));
  }
  for (const DomainMetadata& d : domains_) {
    if (d.domain == domain.domain) {
      return Status::InvalidArgument(
          StrCat(TableName(), ": domain '", domain.domain, "' staged twice in one commit"));
    }
  }
  domains_.push_back(std::move(domain));
  if (domains_.size() == 1) {
    Status st = ResolveProtocol();
    if (!st.ok()) {
      domains_.pop_back();
      return st;
    }
  }
  return Status::OK();
}

void Transaction::SetOperation(std::string operation, std::string parameters_json,
                               std::string metrics_json) {
  operation_ = std::move(operation);
  operation_parameters_json_ = parameters_json.empty() ? "{}" : std::move(parameters_json);
  operation_metrics_json_ = metrics_json.empty() ? "{}" : std::move(metrics_json);
}

bool Transaction::ReadsAnyFile() const {
  return read_whole_table_ || !read_matchers_.empty() || !read_files_.empty();
}

bool Transaction::is_blind_append() const { return removes_.empty() && !ReadsAnyFile(); }

Status Transaction::ValidateForCommit() const {
  if (finished_) {
    return Status::FailedPrecondition(StrCat(TableName(),
                                             ": the transaction has already "
                                             "committed or failed"))
        .WithHint("start a new transaction");
  }
  if (!read_snapshot_ && !new_metadata_) {
    return Status::InvalidArgument(StrCat(TableName(), ": creating a table needs its metadata"))
        .WithHint("call UpdateMetadata before Commit (PROTOCOL.md \"Change Metadata\")");
  }
  const Metadata& meta = metadata();
  // Partition values: every partition column, keyed by its physical name (PROTOCOL.md
  // "Partition Value Serialization", "Writer Requirements for Column Mapping").
  std::vector<std::string> expected;
  for (const std::string& col : meta.partition_columns) {
    LAKE_ASSIGN_OR_RETURN(std::string physical, PhysicalName(col));
    expected.push_back(physical);
  }
  std::sort(expected.begin(), expected.end());
  auto check_partitions = [&](const std::string& path, const PartitionValues& pv) -> Status {
    std::vector<std::string> got;
    for (const auto& [k, v] : pv) got.push_back(k);
    std::sort(got.begin(), got.end());
    if (got == expected) return Status::OK();
    return Status::InvalidArgument(StrCat(TableName(), ": file '", path,
                                          "' has partition values for [", StrJoin(got, ", "),
                                          "] but the table is partitioned by [",
                                          StrJoin(expected, ", "), "] (physical names)"))
        .WithHint("give every partition column a value (empty or null for NULL)");
  };
  for (const AddFile& a : adds_) LAKE_RETURN_IF_ERROR(check_partitions(a.path, a.partition_values));
  for (const AddCdcFile& c : cdcs_)
    LAKE_RETURN_IF_ERROR(check_partitions(c.path, c.partition_values));

  // Append-only tables (PROTOCOL.md "Append-only Tables"): no data-changing removes while
  // the property is on before or after this commit.
  const Protocol& protocol = new_protocol_    ? *new_protocol_
                             : read_snapshot_ ? read_snapshot_->protocol()
                                              : Protocol{};
  const bool was_append_only = read_snapshot_ &&
                               IsFeatureSupported(read_snapshot_->protocol(), "appendOnly") &&
                               ConfigIsTrue(read_snapshot_->metadata(), "delta.appendOnly");
  const bool is_append_only =
      IsFeatureSupported(protocol, "appendOnly") && ConfigIsTrue(meta, "delta.appendOnly");
  if (was_append_only || is_append_only) {
    for (const RemoveFile& r : removes_) {
      if (r.data_change) {
        return Status::FailedPrecondition(StrCat(TableName(),
                                                 ": the table is append-only "
                                                 "(delta.appendOnly=true); this "
                                                 "commit would remove file '",
                                                 r.path, "'"))
            .WithHint(
                "only appends are allowed; set delta.appendOnly=false first to delete or "
                "update data");
      }
    }
  }
  // Deletion vectors (PROTOCOL.md "Deletion Vectors"): only a protocol with the feature may
  // carry them, and "Writer Requirement for Deletion Vectors": the logical file must have
  // numRecords, which readers subtract the cardinality from.
  for (const AddFile& a : adds_) {
    if (!a.deletion_vector) continue;
    if (!IsFeatureSupported(protocol, "deletionVectors")) {
      return Status::FailedPrecondition(StrCat(TableName(), ": add '", a.path,
                                               "' carries a deletion vector but the protocol "
                                               "does not support feature 'deletionVectors'"))
          .WithHint("set delta.enableDeletionVectors=true first (ALTER TABLE ... SET "
                    "TBLPROPERTIES), which upgrades the protocol");
    }
    if (!StatsNumRecords(a.stats)) {
      return Status::InvalidArgument(StrCat(TableName(), ": add '", a.path,
                                            "' carries a deletion vector but its stats have no "
                                            "numRecords (PROTOCOL.md \"Writer Requirement for "
                                            "Deletion Vectors\")"));
    }
  }
  // Change data feed: a row-level rewrite must carry its cdc files (the writer forgot them).
  const bool cdf_active = IsFeatureSupported(protocol, "changeDataFeed") &&
                          ConfigIsTrue(meta, "delta.enableChangeDataFeed");
  if (cdf_active && cdcs_.empty() && IsRowLevelOperation(operation_)) {
    const bool removes_data = std::any_of(removes_.begin(), removes_.end(),
                                          [](const RemoveFile& r) { return r.data_change; });
    const bool adds_data =
        std::any_of(adds_.begin(), adds_.end(), [](const AddFile& a) { return a.data_change; });
    if (removes_data && adds_data) {
      return Status::NotSupported(StrCat(TableName(), ": ", operation_,
                                         " rewrites rows of a table with change data feed "
                                         "enabled but writes no change data files; feature "
                                         "'changeDataFeed' is not supported by this statement"))
          .WithHint("disable delta.enableChangeDataFeed, or run the statement with Spark");
    }
  }
  return Status::OK();
}

std::string Transaction::BuildCommit(Version version, int64_t now_ms,
                                     std::optional<int64_t> ict) const {
  ActionBatch batch;
  CommitInfo ci;
  ci.timestamp = now_ms;
  ci.in_commit_timestamp = ict;
  ci.operation = operation_;
  ci.operation_parameters_json = operation_parameters_json_;
  ci.operation_metrics_json = operation_metrics_json_;
  ci.engine_info = LakeEngineInfo();
  ci.is_blind_append = is_blind_append();
  if (read_snapshot_) ci.read_version = read_snapshot_->version();
  ci.isolation_level = std::string(IsolationLevelName(isolation_level_));
  ci.txn_id = txn_id_;
  batch.commit_infos.push_back(std::move(ci));
  if (new_protocol_) batch.protocols.push_back(*new_protocol_);
  if (new_metadata_) {
    Metadata m = *new_metadata_;
    // PROTOCOL.md "In-Commit Timestamps" (4): enabling the feature on a table with history
    // records where the ICT part of the history starts; the version moves with each retry.
    const bool enables_ict =
        read_snapshot_ && ict &&
        !ConfigIsTrue(read_snapshot_->metadata(), "delta.enableInCommitTimestamps");
    if (enables_ict) {
      m.configuration["delta.inCommitTimestampEnablementVersion"] = StrCat(version);
      m.configuration["delta.inCommitTimestampEnablementTimestamp"] = StrCat(*ict);
    }
    batch.metadata.push_back(std::move(m));
  }
  batch.txns = txns_;
  batch.domain_metadata = domains_;
  batch.removes = removes_;
  batch.adds = adds_;
  batch.cdcs = cdcs_;
  return SerializeJsonActions(batch);
}

Status Transaction::CheckConflicts(Version winner_version, const ActionBatch& winner) const {
  const std::string operation = !winner.commit_infos.empty() && winner.commit_infos[0].operation
                                    ? StrCat(" (", *winner.commit_infos[0].operation, ")")
                                    : std::string();
  auto conflict = [&](ConflictKind kind, const std::string& detail) {
    return Status::Conflict(StrCat(ConflictKindText(kind), ": ", TableName(), ": version ",
                                   winner_version, operation, " committed concurrently ", detail,
                                   " after this transaction read version ", read_version()))
        .WithHint("re-run the statement: it will read the new version");
  };
  // PROTOCOL-level changes first: file checks below assume the protocol and metadata we read.
  if (!winner.protocols.empty()) {
    return conflict(ConflictKind::kProtocolChanged, "and changed the table's protocol");
  }
  if (!winner.metadata.empty()) {
    return conflict(ConflictKind::kMetadataChanged,
                    "and changed the table's metadata (schema, properties or partitioning)");
  }
  for (const DomainMetadata& ours : domains_) {
    for (const DomainMetadata& theirs : winner.domain_metadata) {
      if (ours.domain == theirs.domain) {
        return conflict(ConflictKind::kConcurrentDomainMetadata,
                        StrCat("and wrote domain '", ours.domain, "' this commit writes too"));
      }
    }
  }
  for (const Txn& t : winner.txns) {
    if (read_app_ids_.count(t.app_id)) {
      return conflict(ConflictKind::kConcurrentTransaction,
                      StrCat("and recorded version ", t.version, " for app id '", t.app_id,
                             "' this transaction depends on"));
    }
  }
  // Concurrent append: files the winner added that this transaction should have read.
  // Blind appends read nothing, so they cannot miss anything.
  if (!is_blind_append()) {
    const bool winner_blind =
        !winner.commit_infos.empty() && winner.commit_infos[0].is_blind_append.value_or(false);
    // WriteSerializable orders a winner's blind append after us, unless we change metadata
    // (then its files were written for the old metadata).
    const bool check_adds =
        !(winner_blind && isolation_level_ == IsolationLevel::kWriteSerializable && !new_metadata_);
    if (check_adds) {
      for (const AddFile& add : winner.adds) {
        if (read_whole_table_) {
          return conflict(
              ConflictKind::kConcurrentAppend,
              StrCat("and added file '", add.path, "' to the table this transaction read in full"));
        }
        for (const ReadMatcher& m : read_matchers_) {
          if (m.may_match(add)) {
            return conflict(ConflictKind::kConcurrentAppend, StrCat("and added file '", add.path,
                                                                    "' that may match this "
                                                                    "transaction's read (",
                                                                    m.description, ")"));
          }
        }
      }
    }
  }
  const std::string root = internal::CanonicalRoot(TableName());
  for (const RemoveFile& r : winner.removes) {
    const std::string key = internal::CanonicalPath(r.path, root);
    if (remove_keys_.count(key)) {
      return conflict(ConflictKind::kConcurrentDeleteDelete,
                      StrCat("and removed file '", r.path, "' this commit removes too"));
    }
    if (read_files_.count(key)) {
      return conflict(ConflictKind::kConcurrentDeleteRead,
                      StrCat("and removed file '", r.path, "' this transaction read"));
    }
    if (read_whole_table_) {
      return conflict(
          ConflictKind::kConcurrentDeleteRead,
          StrCat("and removed file '", r.path, "' from the table this transaction read in full"));
    }
  }
  return Status::OK();
}

Result<CommitResult> Transaction::Commit() {
  LAKE_RETURN_IF_ERROR(ValidateForCommit());
  finished_ = true;
  storage::ObjectStore& store = engine_.store();
  const std::string table = TableName();

  const Metadata& meta = metadata();
  const Protocol& protocol = new_protocol_    ? *new_protocol_
                             : read_snapshot_ ? read_snapshot_->protocol()
                                              : Protocol{};
  const bool ict_enabled = IsFeatureSupported(protocol, "inCommitTimestamp") &&
                           ConfigIsTrue(meta, "delta.enableInCommitTimestamps");
  // The previous commit's time: its ICT, or (when this commit enables ICT) its file time,
  // which the first ICT must exceed (PROTOCOL.md "In-Commit Timestamps" (5)).
  std::optional<int64_t> previous_ts;
  if (read_snapshot_) previous_ts = read_snapshot_->timestamp_ms();

  CommitResult result;
  result.txn_id = txn_id_;
  Version version = read_version() + 1;
  // The commit's bytes are written and synced once and re-published at later versions after
  // a lost race (storage::PreparedPut); they only change with in-commit timestamps, which
  // must exceed the winner's. commitInfo.timestamp is the first attempt's time.
  const int64_t first_attempt_ms = NowMs();
  std::unique_ptr<storage::PreparedPut> prepared;
  std::string prepared_text;
  for (int attempt = 1;; ++attempt) {
    const int64_t now = ict_enabled ? NowMs() : first_attempt_ms;
    std::optional<int64_t> ict;
    if (ict_enabled) ict = previous_ts ? std::max(now, *previous_ts + 1) : now;
    std::string text = BuildCommit(version, now, ict);
    const std::string key = LogKeyFor(version);
    if (!prepared || text != prepared_text) {
      prepared.reset();
      Result<std::unique_ptr<storage::PreparedPut>> made =
          store.PreparePut(key, std::as_bytes(std::span(text.data(), text.size())));
      if (!made.ok()) {
        // Nothing is visible: the bytes never got a log name.
        return Status(made.status().code(),
                      StrCat(table, ": commit of version ", version, " (txnId ", txn_id_,
                             ") failed before claiming it: ", made.status().message()))
            .WithHint("nothing was committed; re-run the statement");
      }
      prepared = std::move(*made);
      prepared_text = std::move(text);
    }
    if (options_.before_commit_attempt) options_.before_commit_attempt(version);
    Status put = prepared->PublishIfAbsent(key);
    if (put.ok()) {
      result.version = version;
      result.attempts = attempt;
      result.in_commit_timestamp = ict;
      return result;
    }
    if (put.code() != StatusCode::kAlreadyExists) {
      return Status(put.code(), StrCat(table, ": commit of version ", version, " (txnId ", txn_id_,
                                       ") failed: ", put.message()))
          .WithHint(StrCat("the commit may or may not have been written; check the table "
                           "history for txnId ",
                           txn_id_, " before re-running"));
    }
    if (!read_snapshot_) {
      return Status::Conflict(StrCat(ConflictKindText(ConflictKind::kConcurrentCreate), ": ", table,
                                     ": another writer created the table (version 0) "
                                     "first"))
          .WithHint("re-run the statement: the table now exists");
    }
    if (attempt >= options_.max_commit_attempts) {
      return Status::Conflict(StrCat(ConflictKindText(ConflictKind::kTooManyAttempts), ": ", table,
                                     ": gave up after ", attempt,
                                     " attempts to claim a version (last tried ", version,
                                     ", read version ", read_version(), ")"))
          .WithHint(
              "re-run the statement; if this repeats, fewer writers should commit to "
              "this table at once");
    }
    // Check every commit from the one that beat us to the newest, then claim the next.
    for (;;) {
      const std::string winner_key = LogKeyFor(version);
      Result<std::string> winner_text = store.Get(winner_key);
      if (!winner_text.ok()) {
        if (winner_text.status().code() == StatusCode::kNotFound) break;
        return winner_text.status().WithContext(
            StrCat(table, ": reading concurrent commit ", version));
      }
      LAKE_ASSIGN_OR_RETURN(ActionBatch winner,
                            ParseJsonActions(*winner_text, StrCat(table, "/", winner_key)));
      LAKE_RETURN_IF_ERROR(CheckConflicts(version, winner));
      result.winners_checked.push_back(version);
      if (ict_enabled) {
        if (!winner.commit_infos.empty() && winner.commit_infos[0].in_commit_timestamp) {
          previous_ts = *winner.commit_infos[0].in_commit_timestamp;
        } else {
          LAKE_ASSIGN_OR_RETURN(storage::ObjectInfo info, store.Head(winner_key));
          previous_ts = info.mtime_ms;
        }
      }
      ++version;
    }
  }
}

}  // namespace lake::delta
