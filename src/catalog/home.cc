#include "catalog/home.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "base/strings.h"
#include "catalog/sqlite_metastore.h"

namespace lake::catalog {
namespace fs = std::filesystem;

namespace {
constexpr const char* kMetastoreFile = "metastore.db";
}  // namespace

std::string ResolveHomePath(std::string_view flag) {
  if (!flag.empty()) return std::string(flag);
  if (const char* env = std::getenv("LAKE_HOME"); env != nullptr && *env != '\0') return env;
  return "lakehouse";
}

bool LakeHome::Exists(std::string_view path) {
  std::error_code ec;
  return fs::is_regular_file(fs::path(path) / kMetastoreFile, ec);
}

Result<std::unique_ptr<LakeHome>> LakeHome::Open(std::string_view path_in, bool create) {
  std::error_code ec;
  fs::path path = fs::absolute(fs::path(path_in), ec).lexically_normal();
  if (ec) {
    return Status::InvalidArgument(StrCat("lake home ", path_in, ": ", ec.message()));
  }
  std::string home = path.string();
  while (home.size() > 1 && home.back() == '/') home.pop_back();
  if (!create && !Exists(home)) {
    return Status::NotFound(StrCat("lake home ", home, " has no metastore.db"))
        .WithHint(
            "create a schema or table to start it, or point --home / LAKE_HOME at an "
            "existing lake home");
  }
  if (create) {
    fs::create_directories(fs::path(home) / "warehouse", ec);
    if (ec) {
      return Status::IOError(StrCat("creating lake home ", home, ": ", ec.message()))
          .WithHint("check the permissions, or choose another folder with --home / LAKE_HOME");
    }
  }
  LAKE_ASSIGN_OR_RETURN(std::unique_ptr<SqliteMetastore> metastore,
                        SqliteMetastore::Open(StrCat(home, "/", kMetastoreFile)));
  return std::unique_ptr<LakeHome>(new LakeHome(std::move(home), std::move(metastore)));
}

std::string LakeHome::ManagedTableLocation(std::string_view schema, std::string_view table) const {
  return StrCat(warehouse(), "/", schema, ".db/", table);
}

}  // namespace lake::catalog
