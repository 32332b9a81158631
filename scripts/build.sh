#!/usr/bin/env bash
# Configures and builds lake into build/ (or $LAKE_BUILD_DIR). Extra args go to ninja.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${LAKE_BUILD_DIR:-$root/build}"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${LAKE_BUILD_TYPE:-RelWithDebInfo}" ${LAKE_CMAKE_ARGS:-}
fi
ninja -C "$build" "$@"
