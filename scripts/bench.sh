#!/bin/sh
# bench.sh: runs the benchmark suite (bench/bench.lua) with the engine and the
# hand-written loops that `make bench` built into $NEUROMASS_BUILD (default
# build-bench); prints the table and rewrites bench/RESULTS.md.
# NM_BENCH_REPS sets the repetitions per case (default 5).  neurolib's column (its kernels,
# bench/neurolib/kernels.py) runs when scripts/neurolib-env.sh finds neurolib, else it says why.
set -eu
BUILD=${NEUROMASS_BUILD:-build-bench}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
for f in "$BUILD/neuromass" "$BUILD/bench/runstat" "$BUILD/bench/bench_clock.so" \
         "$BUILD/bench/fhn_net" "$BUILD/bench/aln_net" "$BUILD/bench/batch_floor" \
         "$BUILD/bench/threads_limit" "$BUILD/bench/core_latency"; do
  if [ ! -e "$f" ]; then
    echo "bench.sh: $f is missing (run 'make bench')" >&2
    exit 1
  fi
done
NM_NEUROLIB_WHO=bench.sh . "$top/scripts/neurolib-env.sh"
export NM_BENCH_EXE="$top/$BUILD/neuromass"
export NM_BENCH_BIN="$top/$BUILD/bench"
export NM_BENCH_OUT="${NM_BENCH_OUT:-$top/bench/RESULTS.md}"
exec "$NM_BENCH_EXE" run "$top/bench/bench.lua" --quiet
