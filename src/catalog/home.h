// The lake home folder: the metastore and the warehouse of managed tables, on local disk.
//
//   <home>/metastore.db                  the SQLite metastore (sqlite_metastore.h)
//   <home>/warehouse/<schema>.db/<table> the folder of a managed table (Spark's layout)
//
// The home is chosen by --home, else $LAKE_HOME, else ./lakehouse (docs/catalog.md).
// Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "catalog/metastore.h"

namespace lake::catalog {

// Returns the home folder to use: `flag` if not empty, else $LAKE_HOME if set and not empty,
// else "lakehouse" (relative to the working directory).
std::string ResolveHomePath(std::string_view flag);

class LakeHome {
 public:
  // Opens the home at `path`, made absolute. With `create`, makes the folder, warehouse/ and
  // metastore.db (with the default schema) when missing; without, a home with no
  // metastore.db is kNotFound, and nothing is written.
  static Result<std::unique_ptr<LakeHome>> Open(std::string_view path, bool create);

  // Returns whether `path` holds a metastore.db.
  static bool Exists(std::string_view path);

  const std::string& path() const { return path_; }
  std::string warehouse() const { return path_ + "/warehouse"; }
  // Returns <home>/warehouse/<schema>.db/<table> (names as NormalizeName returns them).
  std::string ManagedTableLocation(std::string_view schema, std::string_view table) const;
  Metastore& metastore() { return *metastore_; }

 private:
  LakeHome(std::string path, std::unique_ptr<Metastore> metastore)
      : path_(std::move(path)), metastore_(std::move(metastore)) {}

  const std::string path_;
  std::unique_ptr<Metastore> metastore_;
};

}  // namespace lake::catalog
