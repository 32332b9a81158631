// Lakehouse and the TableDirectory over the metastore.
//
// Design notes.
//  (1) The home is opened lazily: reads against a home with no metastore.db see only an empty
//      `default` schema; the first write creates the folder (catalog::LakeHome::Open).
//  (2) Dropping a managed table removes the metastore entry first, then the folder: a crash
//      in between leaves an unnamed folder under warehouse/ (garbage, never a name pointing
//      at missing data). A folder is only ever deleted when it lies inside
//      <home>/warehouse/, whatever the metastore says.
//  (3) Renaming a managed table moves its folder first, then updates the entry; if the
//      update fails the folder is moved back.
#include "sql/lakehouse.h"

#include <filesystem>
#include <mutex>
#include <system_error>

#include "base/strings.h"
#include "catalog/home.h"
#include "catalog/metastore.h"

namespace lake::sql {
namespace {

namespace fs = std::filesystem;

engine::DirectoryTable ToDirectoryTable(const catalog::TableInfo& t) {
  engine::DirectoryTable out;
  out.schema = t.schema;
  out.name = t.name;
  out.location = t.location;
  out.is_managed = t.kind == catalog::TableKind::kManaged;
  out.created_ms = t.created_ms;
  out.comment = t.comment;
  out.properties = t.properties;
  return out;
}

// Returns whether `path` lies strictly inside `dir` (both absolute, normalized).
bool IsInside(const std::string& path, const std::string& dir) {
  fs::path p = fs::path(path).lexically_normal();
  fs::path rel = p.lexically_relative(fs::path(dir).lexically_normal());
  return !rel.empty() && *rel.begin() != ".." && rel != ".";
}

class MetastoreDirectory final : public engine::TableDirectory {
 public:
  explicit MetastoreDirectory(std::string home) : home_path_(std::move(home)) {}

  std::string default_schema() const override { return std::string(catalog::kDefaultSchema); }

  Result<std::vector<engine::DirectorySchema>> ListSchemas() override {
    LAKE_ASSIGN_OR_RETURN(catalog::LakeHome * home, Home(false));
    if (home == nullptr) return std::vector<engine::DirectorySchema>{{default_schema(), ""}};
    LAKE_ASSIGN_OR_RETURN(auto schemas, home->metastore().ListSchemas());
    std::vector<engine::DirectorySchema> out;
    for (auto& s : schemas) out.push_back({std::move(s.name), std::move(s.comment)});
    return out;
  }

  Result<std::optional<engine::DirectorySchema>> FindSchema(std::string_view name) override {
    LAKE_ASSIGN_OR_RETURN(catalog::LakeHome * home, Home(false));
    if (home == nullptr) {
      if (ToLower(name) == catalog::kDefaultSchema) {
        return std::optional<engine::DirectorySchema>(
            engine::DirectorySchema{default_schema(), ""});
      }
      return std::optional<engine::DirectorySchema>();
    }
    Result<catalog::SchemaInfo> schema = home->metastore().GetSchema(name);
    if (IsMissing(schema.status())) return std::optional<engine::DirectorySchema>();
    if (!schema.ok()) return schema.status();
    return std::optional<engine::DirectorySchema>(
        engine::DirectorySchema{schema->name, schema->comment});
  }

  Status CreateSchema(std::string_view name, std::string_view comment,
                      bool if_not_exists) override {
    LAKE_ASSIGN_OR_RETURN(catalog::LakeHome * home, Home(true));
    return home->metastore().CreateSchema(
        catalog::SchemaInfo{std::string(name), std::string(comment), 0}, if_not_exists);
  }

  Status DropSchema(std::string_view name, bool if_exists, bool cascade) override {
    LAKE_ASSIGN_OR_RETURN(catalog::LakeHome * home, Home(false));
    if (home == nullptr) {
      if (if_exists) return Status::OK();
      return Status::NotFound(StrCat("schema ", name, " does not exist"))
          .WithHint("SHOW SCHEMAS lists the schemas");
    }
    LAKE_ASSIGN_OR_RETURN(std::vector<catalog::TableInfo> dropped,
                          home->metastore().DropSchema(name, if_exists, cascade));
    Status status;
    for (const catalog::TableInfo& t : dropped) {
      if (t.kind == catalog::TableKind::kManaged) {
        Status removed = RemoveManagedFolder(*home, t);
        if (status.ok()) status = removed;
      }
    }
    if (Result<std::string> schema = catalog::NormalizeName(name, "schema"); schema.ok()) {
      std::error_code ec;
      fs::remove(fs::path(home->warehouse()) / (*schema + ".db"), ec);  // only if empty
    }
    return status;
  }

  Result<std::optional<engine::DirectoryTable>> FindTable(std::string_view schema,
                                                          std::string_view name) override {
    LAKE_ASSIGN_OR_RETURN(catalog::LakeHome * home, Home(false));
    if (home == nullptr) return std::optional<engine::DirectoryTable>();
    Result<catalog::TableInfo> table = home->metastore().GetTable(schema, name);
    if (IsMissing(table.status())) return std::optional<engine::DirectoryTable>();
    if (!table.ok()) return table.status();
    return std::optional<engine::DirectoryTable>(ToDirectoryTable(*table));
  }

  Result<std::vector<engine::DirectoryTable>> ListTables(std::string_view schema) override {
    LAKE_ASSIGN_OR_RETURN(catalog::LakeHome * home, Home(false));
    if (home == nullptr) {
      if (ToLower(schema) == catalog::kDefaultSchema) return std::vector<engine::DirectoryTable>{};
      return Status::NotFound(StrCat("schema ", schema, " does not exist"));
    }
    LAKE_ASSIGN_OR_RETURN(auto tables, home->metastore().ListTables(schema));
    std::vector<engine::DirectoryTable> out;
    for (const auto& t : tables) out.push_back(ToDirectoryTable(t));
    return out;
  }

  Result<std::string> ManagedLocation(std::string_view schema, std::string_view name) override {
    LAKE_ASSIGN_OR_RETURN(catalog::LakeHome * home, Home(true));
    LAKE_ASSIGN_OR_RETURN(std::string s, catalog::NormalizeName(schema, "schema"));
    LAKE_ASSIGN_OR_RETURN(std::string n, catalog::NormalizeName(name, "table"));
    return home->ManagedTableLocation(s, n);
  }

  Result<engine::DirectoryTable> RegisterTable(const engine::NewTable& table) override {
    LAKE_ASSIGN_OR_RETURN(catalog::LakeHome * home, Home(true));
    catalog::TableInfo info;
    info.schema = table.schema;
    info.name = table.name;
    info.comment = table.comment;
    info.properties = table.properties;
    if (table.location.empty()) {
      LAKE_ASSIGN_OR_RETURN(info.location, ManagedLocation(table.schema, table.name));
      info.kind = catalog::TableKind::kManaged;
    } else {
      info.location = table.location;
      info.kind = catalog::TableKind::kExternal;
    }
    LAKE_RETURN_IF_ERROR(home->metastore().CreateTable(info));
    LAKE_ASSIGN_OR_RETURN(catalog::TableInfo stored,
                          home->metastore().GetTable(info.schema, info.name));
    return ToDirectoryTable(stored);
  }

  Result<engine::DirectoryTable> DropTable(std::string_view schema,
                                           std::string_view name) override {
    LAKE_ASSIGN_OR_RETURN(catalog::LakeHome * home, Home(false));
    if (home == nullptr) {
      return Status::NotFound(StrCat("table ", schema, ".", name, " does not exist"));
    }
    LAKE_ASSIGN_OR_RETURN(catalog::TableInfo dropped, home->metastore().DropTable(schema, name));
    if (dropped.kind == catalog::TableKind::kManaged) {
      LAKE_RETURN_IF_ERROR(RemoveManagedFolder(*home, dropped));
    }
    return ToDirectoryTable(dropped);
  }

  Status RenameTable(std::string_view schema, std::string_view name,
                     std::string_view new_name) override {
    LAKE_ASSIGN_OR_RETURN(catalog::LakeHome * home, Home(false));
    if (home == nullptr) {
      return Status::NotFound(StrCat("table ", schema, ".", name, " does not exist"));
    }
    LAKE_ASSIGN_OR_RETURN(catalog::TableInfo table, home->metastore().GetTable(schema, name));
    if (table.kind != catalog::TableKind::kManaged) {
      return home->metastore().RenameTable(table.schema, table.name, table.schema, new_name, "");
    }
    LAKE_ASSIGN_OR_RETURN(std::string normalized, catalog::NormalizeName(new_name, "table"));
    std::string target = home->ManagedTableLocation(table.schema, normalized);
    std::error_code ec;
    if (fs::exists(target, ec)) {
      return Status::AlreadyExists(StrCat("cannot rename ", table.qualified_name(), " to ",
                                          normalized, ": folder ", target, " already exists"))
          .WithHint(
              "an earlier table of that name left its folder; remove it, or pick another "
              "name");
    }
    fs::rename(table.location, target, ec);
    if (ec) {
      return Status::IOError(StrCat("renaming ", table.qualified_name(), ": moving ",
                                    table.location, " to ", target, ": ", ec.message()));
    }
    Status renamed =
        home->metastore().RenameTable(table.schema, table.name, table.schema, normalized, target);
    if (!renamed.ok()) {
      std::error_code back;
      fs::rename(target, table.location, back);  // undo (design note 3)
    }
    return renamed;
  }

 private:
  static bool IsMissing(const Status& s) { return s.code() == StatusCode::kNotFound; }

  // Returns the opened home; with `create` the home is made if missing, without it a missing
  // home is nullptr (design note 1).
  Result<catalog::LakeHome*> Home(bool create) {
    std::lock_guard lock(mu_);
    if (home_) return home_.get();
    if (!create && !catalog::LakeHome::Exists(home_path_)) return nullptr;
    LAKE_ASSIGN_OR_RETURN(home_, catalog::LakeHome::Open(home_path_, create));
    return home_.get();
  }

  static Status RemoveManagedFolder(catalog::LakeHome& home, const catalog::TableInfo& t) {
    if (!IsInside(t.location, home.warehouse())) {
      return Status::FailedPrecondition(StrCat("table ", t.qualified_name(),
                                               " was dropped from the catalog; its "
                                               "location ",
                                               t.location, " is outside the warehouse ",
                                               home.warehouse(), " so it was not deleted"))
          .WithHint("delete the folder by hand if its data is no longer needed");
    }
    std::error_code ec;
    fs::remove_all(t.location, ec);
    if (ec) {
      return Status::IOError(StrCat("table ", t.qualified_name(),
                                    " was dropped from the "
                                    "catalog, but deleting its folder ",
                                    t.location, " failed: ", ec.message()))
          .WithHint("delete the folder by hand");
    }
    return Status::OK();
  }

  const std::string home_path_;
  std::mutex mu_;
  std::unique_ptr<catalog::LakeHome> home_;
};

}  // namespace

std::shared_ptr<engine::TableDirectory> MakeMetastoreDirectory(std::string home) {
  return std::make_shared<MetastoreDirectory>(std::move(home));
}

Result<std::unique_ptr<Lakehouse>> Lakehouse::Open(const LakehouseOptions& options) {
  std::string home = catalog::ResolveHomePath(options.home);
  std::error_code ec;
  fs::path abs = fs::absolute(home, ec).lexically_normal();
  if (ec) return Status::InvalidArgument(StrCat("lake home ", home, ": ", ec.message()));
  home = abs.string();
  while (home.size() > 1 && home.back() == '/') home.pop_back();
  engine::DatabaseOptions db_options = options.database;
  db_options.table_directory = MakeMetastoreDirectory(home);
  LAKE_ASSIGN_OR_RETURN(std::unique_ptr<engine::Database> db, engine::Database::Open(db_options));
  return std::unique_ptr<Lakehouse>(new Lakehouse(std::move(home), std::move(db)));
}

}  // namespace lake::sql
