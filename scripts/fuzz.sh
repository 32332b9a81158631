#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/*_fuzz.cc) with clang + ASan/UBSan into build-fuzz/
# and runs each for N seconds (default 20), starting from its seed corpus in
# tests/fuzz/corpus/<target>/. New inputs go to build-fuzz/fuzz/corpus/<target>/, crash
# reproducers to build-fuzz/fuzz/artifacts/. Exits non-zero if any target crashed.
#   scripts/fuzz.sh [seconds] [target...]      e.g. scripts/fuzz.sh 60 dv_fuzz
# Replay a crash: build-fuzz/fuzz/<target> build-fuzz/fuzz/artifacts/<target>/crash-...
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${LAKE_FUZZ_BUILD_DIR:-$root/build-fuzz}"
jobs="${LAKE_JOBS:-2}"
seconds="${1:-20}"
shift || true

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for src in "$root"/tests/fuzz/*_fuzz.cc; do
    targets+=("$(basename "$src" .cc)")
  done
fi

if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DLAKE_FUZZ=ON -DLAKE_BUILD_BENCH=OFF -DLAKE_BUILD_TESTS=ON >&2
fi
ninja -C "$build" -j "$jobs" "${targets[@]}" >&2

status=0
for t in "${targets[@]}"; do
  work="$build/fuzz/corpus/$t"
  artifacts="$build/fuzz/artifacts/$t"
  mkdir -p "$work" "$artifacts"
  seeds="$root/tests/fuzz/corpus/$t"
  [ -d "$seeds" ] || seeds=""
  echo "== $t: ${seconds}s" >&2
  # -rss_limit_mb: a DV may be materialized up to 512 MiB (deletion_vector.cc), no more.
  if ! "$build/fuzz/$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
      -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" $seeds >"$build/fuzz/$t.log" 2>&1; then
    echo "== $t FAILED (log: $build/fuzz/$t.log, reproducer in $artifacts/)" >&2
    tail -n 40 "$build/fuzz/$t.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$build/fuzz/$t.log" | tail -n 2 >&2 || true
  fi
done
exit $status
