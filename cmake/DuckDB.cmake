# Imports the pinned libduckdb.so as duckdb::duckdb. scripts/fetch-duckdb.sh fetches it into
# a cache outside the source tree (LAKE_DUCKDB_DIR overrides the location). Only the engine
# library links it (STYLE.md §2).
set(LAKE_DUCKDB_DIR "" CACHE PATH "Pre-extracted DuckDB (include/ + lib/libduckdb.so)")
if(NOT LAKE_DUCKDB_DIR)
  execute_process(
    COMMAND ${CMAKE_SOURCE_DIR}/scripts/fetch-duckdb.sh
    OUTPUT_VARIABLE _duckdb_dir OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE _duckdb_rc)
  if(NOT _duckdb_rc EQUAL 0)
    message(FATAL_ERROR "fetching DuckDB failed; run scripts/setup.sh")
  endif()
  set(LAKE_DUCKDB_DIR ${_duckdb_dir} CACHE PATH "" FORCE)
endif()
file(STRINGS ${CMAKE_SOURCE_DIR}/cmake/duckdb.lock _lock REGEX "^DUCKDB_SOURCE_ID=")
string(REPLACE "DUCKDB_SOURCE_ID=" "" LAKE_DUCKDB_SOURCE_ID "${_lock}")
add_library(duckdb::duckdb SHARED IMPORTED GLOBAL)
set_target_properties(duckdb::duckdb PROPERTIES
  IMPORTED_LOCATION ${LAKE_DUCKDB_DIR}/lib/libduckdb.so
  IMPORTED_NO_SONAME OFF)
target_include_directories(duckdb::duckdb SYSTEM INTERFACE ${LAKE_DUCKDB_DIR}/include)
set(CMAKE_BUILD_RPATH ${LAKE_DUCKDB_DIR}/lib)
message(STATUS "DuckDB: ${LAKE_DUCKDB_DIR} (source id ${LAKE_DUCKDB_SOURCE_ID})")
