#!/usr/bin/env bash
# Fetches the pinned DuckDB (headers from npm `duckdb`, libduckdb.so from
# `@duckdb/node-bindings-linux-x64`), verifies both sha512 hashes against cmake/duckdb.lock
# and extracts them into a cache outside the source and build trees:
#   ${LAKE_DEPS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lake/deps}/<name>/{include,lib}
# Re-runs are free once cached; a wiped cache is rebuilt from npm's own cache offline.
# Prints the cache directory on stdout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
while IFS='=' read -r key value; do
  [[ "$key" =~ ^DUCKDB_[A-Z0-9_]+$ ]] && printf -v "$key" '%s' "$value"
done < "$here/../cmake/duckdb.lock"

deps="${LAKE_DEPS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lake/deps}"
dest="$deps/$DUCKDB_CACHE_NAME"
stamp="$DUCKDB_HEADERS_SHA512 $DUCKDB_LIB_SHA512"
if [ -f "$dest/.complete" ] && [ "$(cat "$dest/.complete")" = "$stamp" ]; then
  echo "$dest"; exit 0
fi
[ "$(uname -s)/$(uname -m)" = "Linux/x86_64" ] || {
  echo "error: lake pins DuckDB for Linux x86_64 only; this is $(uname -s)/$(uname -m)" >&2; exit 1; }
command -v npm >/dev/null || { echo "error: npm is needed to fetch DuckDB (run scripts/setup.sh)" >&2; exit 1; }

mkdir -p "$deps"
tmp="$(mktemp -d "$deps/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
npm_cache="$deps/npm-cache"
pack() {  # offline first, so a cached package never needs the network
  npm pack "$1" --pack-destination "$tmp" --cache "$npm_cache" --offline --silent >/dev/null 2>&1 ||
    npm pack "$1" --pack-destination "$tmp" --cache "$npm_cache" --silent >/dev/null
}
echo "fetch-duckdb: fetching $DUCKDB_HEADERS_PKG and $DUCKDB_LIB_PKG from npm" >&2
pack "$DUCKDB_HEADERS_PKG"
pack "$DUCKDB_LIB_PKG"
verify() {  # file, expected base64 sha512
  local got; got="$(openssl dgst -sha512 -binary "$1" | base64 -w0)"
  if [ "$got" != "$2" ]; then
    echo "error: $(basename "$1") has sha512-$got, expected sha512-$2; refusing to use it" >&2
    exit 1
  fi
}
headers_tgz="$(ls "$tmp"/duckdb-1*.tgz)"
lib_tgz="$(ls "$tmp"/duckdb-node-bindings-linux-x64-*.tgz)"
verify "$headers_tgz" "$DUCKDB_HEADERS_SHA512"
verify "$lib_tgz" "$DUCKDB_LIB_SHA512"

mkdir -p "$tmp/out/include" "$tmp/out/lib" "$tmp/x1" "$tmp/x2"
tar -xzf "$headers_tgz" -C "$tmp/x1" package/src/duckdb/src/include package/LICENSE 2>/dev/null ||
  tar -xzf "$headers_tgz" -C "$tmp/x1" package/src/duckdb/src/include
cp -a "$tmp/x1/package/src/duckdb/src/include/." "$tmp/out/include/"
tar -xzf "$lib_tgz" -C "$tmp/x2"
cp "$tmp/x2/package/libduckdb.so" "$tmp/out/lib/"
[ -f "$tmp/x1/package/LICENSE" ] && cp "$tmp/x1/package/LICENSE" "$tmp/out/LICENSE.duckdb"
echo "$stamp" > "$tmp/out/.complete"
rm -rf "$dest.old"; [ -d "$dest" ] && mv "$dest" "$dest.old"
mv "$tmp/out" "$dest"
rm -rf "$dest.old"
echo "$dest"
