#!/usr/bin/env bash
# The README's bench command: builds every bench/*_bench.cc in build-release/ (Release, no
# tests) and runs each, printing one line per workload with lake / baseline ratios
# (bench/bench_util.h explains the measurement). Data is generated into a temp folder per
# bench and removed afterwards.
#   scripts/bench.sh [--small] [--format json] [--runs N]   (arguments go to every bench)
# Exit status: 1 if any bench failed (an error, or lake and its baseline answered differently);
# missed targets are reported, not failed (timing on a shared machine is no pass/fail signal).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${LAKE_BENCH_BUILD_DIR:-$root/build-release}"
jobs="${LAKE_JOBS:-$(nproc)}"

# g++ 12 at -O3 reports false -Wrestrict / -Wstringop-overflow warnings inside std::string's
# operator+ (GCC bugs 105651, 105329), which -Werror turns into a failed Release build; they
# stay warnings here.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLAKE_BUILD_TESTS=OFF \
  -DLAKE_BUILD_BENCH=ON >/dev/null \
  -DCMAKE_CXX_FLAGS="-Wno-error=restrict -Wno-error=stringop-overflow -Wno-error=stringop-overread -Wno-error=array-bounds"
benches=()
for src in "$root"/bench/*_bench.cc; do
  benches+=("$(basename "$src" .cc)")
done
ninja -C "$build" -j "$jobs" "${benches[@]}" >&2

status=0
for b in "${benches[@]}"; do
  echo "== $b $*" >&2
  if ! "$build/bench/$b" "$@"; then
    echo "== $b FAILED" >&2
    status=1
  fi
done
exit $status
