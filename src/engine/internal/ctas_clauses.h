// Spark clauses of CREATE TABLE ... AS SELECT that DuckDB's CTAS syntax cannot carry
// (USING DELTA, PARTITIONED BY, LOCATION, TBLPROPERTIES, COMMENT). A front end that parses
// them hands them to the catalog's CTAS planning (lake_write.h: StashCtasClauses on the
// client context, then DuckDB plans the plain CTAS). No DuckDB type here, so tests can use it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lake::engine::internal {

struct CtasClauses {
  std::string location;                        // empty: a managed table
  std::vector<std::string> partition_columns;  // must name columns of the query
  std::vector<std::pair<std::string, std::string>> properties;  // metadata.configuration
  std::string comment;
};

// Test seam: when set, PlanLakeCreateTableAs asks it for the clauses of (schema, table) that
// have none stashed. Pass nullptr to clear. Not thread-safe against running CTAS.
void SetCtasClausesForTesting(
    std::function<std::optional<CtasClauses>(const std::string& schema, const std::string& table)>
        fn);

}  // namespace lake::engine::internal
