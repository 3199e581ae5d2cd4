#!/bin/sh
# bench-study.sh: the study benchmark (`make bench-study`): the 5-minute ALN-80 gw run with
# BOLD, neuromass (built into $NEUROMASS_BUILD, default build-bench) against neurolib on this
# machine (bench/study.lua); writes its block of bench/RESULTS.md.  Takes several minutes.
# neurolib is looked for in $NEUROLIB_SRC (the directory holding the `neurolib` package, or
# one holding src/neurolib and stubs/, the layout neurolib's peer setup script
# setup-neurolib.sh makes), else /tmp/neurolib; when it is absent or does not import, its
# column is skipped with the reason.
# NEUROLIB_PYTHON picks the interpreter (default /usr/bin/python3, Debian's);
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

# neurolib: the package directory and its stubs (setup-neurolib.sh's layout: DEST/src, DEST/stubs).
NM_STUDY_PYTHON=${NEUROLIB_PYTHON:-/usr/bin/python3}
NM_STUDY_PYTHONPATH=
NM_STUDY_SKIP=
where=${NEUROLIB_SRC:-/tmp/neurolib}
if [ -f "$where/neurolib/__init__.py" ]; then
  NM_STUDY_PYTHONPATH=$where
  [ -d "$where/../stubs" ] && NM_STUDY_PYTHONPATH="$(cd "$where/../stubs" && pwd):$where"
elif [ -f "$where/src/neurolib/__init__.py" ]; then
  NM_STUDY_PYTHONPATH="$where/src"
  [ -d "$where/stubs" ] && NM_STUDY_PYTHONPATH="$where/stubs:$where/src"
else
  NM_STUDY_SKIP="neurolib not found in $where (set NEUROLIB_SRC to the directory holding the neurolib package)"
fi
if [ -z "$NM_STUDY_SKIP" ] && ! PYTHONPATH="$NM_STUDY_PYTHONPATH" "$NM_STUDY_PYTHON" -c \
     'import neurolib.models.aln, neurolib.utils.functions' >/dev/null 2>&1; then
  NM_STUDY_SKIP="neurolib in $where does not import with $NM_STUDY_PYTHON"
fi
if [ -n "$NM_STUDY_SKIP" ]; then
  echo "bench-study.sh: skipping neurolib's column: $NM_STUDY_SKIP" >&2
  NM_STUDY_PYTHON=
fi

export NM_STUDY_PYTHON NM_STUDY_PYTHONPATH NM_STUDY_SKIP
export NM_BENCH_EXE="$top/$BUILD/neuromass"
export NM_BENCH_BIN="$top/$BUILD/bench"
export NM_BENCH_OUT="${NM_BENCH_OUT:-$top/bench/RESULTS.md}"
exec "$NM_BENCH_EXE" run "$top/bench/study.lua" --quiet
