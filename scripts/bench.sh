#!/bin/sh
# bench.sh: runs the benchmark suite (bench/bench.lua) with the engine and the
# hand-written loops that `make bench` built into $NEUROMASS_BUILD (default
# build-bench); prints the table and rewrites bench/RESULTS.md.
# NM_BENCH_REPS sets the repetitions per case (default 5).
set -eu
BUILD=${NEUROMASS_BUILD:-build-bench}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
for f in "$BUILD/neuromass" "$BUILD/bench/runstat" "$BUILD/bench/bench_clock.so" \
         "$BUILD/bench/fhn_net" "$BUILD/bench/aln_net"; do
  if [ ! -e "$f" ]; then
    echo "bench.sh: $f is missing (run 'make bench')" >&2
    exit 1
  fi
done
export NM_BENCH_EXE="$top/$BUILD/neuromass"
export NM_BENCH_BIN="$top/$BUILD/bench"
export NM_BENCH_OUT="${NM_BENCH_OUT:-$top/bench/RESULTS.md}"
exec "$NM_BENCH_EXE" run "$top/bench/bench.lua" --quiet
