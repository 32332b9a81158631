#!/usr/bin/env bash
# The README's test command: installs what is needed, builds, and runs the whole test suite:
#  1. every test (ctest) in the default build;
#  2. the storage and delta tests again under ASan+UBSan (build-asan);
#  3. a short libFuzzer run of each fuzz target (clang; build-fuzz).
# Idempotent; works as root and through sudo.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh
jobs="${LAKE_JOBS:-$(nproc)}"
# Lets ccache hit across clones of the repository (CI builds a fresh clone each time).
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}"

echo "== build and test (build/)" >&2
scripts/build.sh -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600

echo "== storage and delta tests under ASan+UBSan (build-asan/)" >&2
LAKE_BUILD_DIR="$root/build-asan" LAKE_BUILD_TYPE=Debug \
  LAKE_CMAKE_ARGS="-DLAKE_SANITIZE=ON -DLAKE_BUILD_BENCH=OFF" \
  scripts/build.sh -j "$jobs" storage_test delta_test
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs" -L '^(storage|delta)$' --timeout 600

if [ -x scripts/fuzz.sh ]; then
  echo "== short fuzz run (build-fuzz/)" >&2
  scripts/fuzz.sh "${LAKE_FUZZ_SECONDS:-15}"
fi
