#!/bin/sh
# bench-study.sh: the study benchmark (`make bench-study`): the 5-minute ALN-80 gw run with
# BOLD, neuromass (built into $NEUROMASS_BUILD, default build-bench) against neurolib on this
# machine (bench/study.lua); writes its block of bench/RESULTS.md.  Takes several minutes.
# neurolib is found by scripts/neurolib-env.sh (NEUROLIB_SRC, NEUROLIB_PYTHON); when it is
# absent or does not import, its column is skipped with the reason.
# NM_STUDY_DURATION (ms, default 300000) shortens both runs for a quick look.
set -eu
BUILD=${NEUROMASS_BUILD:-build-bench}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
for f in "$BUILD/neuromass" "$BUILD/bench/runstat" "$BUILD/bench/bench_clock.so"; do
  if [ ! -e "$f" ]; then
    echo "bench-study.sh: $f is missing (run 'make bench-study')" >&2
    exit 1
  fi
done

# neurolib: where it is, or why its column is skipped (scripts/neurolib-env.sh).
NM_NEUROLIB_WHO=bench-study.sh . "$top/scripts/neurolib-env.sh"
NM_STUDY_PYTHON=$NM_NEUROLIB_PYTHON
NM_STUDY_PYTHONPATH=$NM_NEUROLIB_PYTHONPATH
NM_STUDY_SKIP=$NM_NEUROLIB_SKIP
export NM_STUDY_PYTHON NM_STUDY_PYTHONPATH NM_STUDY_SKIP
export NM_BENCH_EXE="$top/$BUILD/neuromass"
export NM_BENCH_BIN="$top/$BUILD/bench"
export NM_BENCH_OUT="${NM_BENCH_OUT:-$top/bench/RESULTS.md}"
exec "$NM_BENCH_EXE" run "$top/bench/study.lua" --quiet
