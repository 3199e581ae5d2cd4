# neurolib-env.sh: sourced by scripts/bench.sh and scripts/bench-study.sh: finds neurolib for
# the benchmarks' neurolib column and sets
#   NM_NEUROLIB_PYTHON      the interpreter ($NEUROLIB_PYTHON, default /usr/bin/python3, Debian's),
#                           empty when neurolib is absent or does not import
#   NM_NEUROLIB_PYTHONPATH  the PYTHONPATH that imports it (its stubs first, when present)
#   NM_NEUROLIB_SKIP        why its column is skipped (empty when it is run)
# neurolib is looked for in $NEUROLIB_SRC (the directory holding the `neurolib` package, or one
# holding src/neurolib and stubs/, the layout neurolib's peer setup script setup-neurolib.sh
# makes), else /tmp/neurolib.  NM_NEUROLIB_WHO names the caller in the message.
NM_NEUROLIB_PYTHON=${NEUROLIB_PYTHON:-/usr/bin/python3}
NM_NEUROLIB_PYTHONPATH=
NM_NEUROLIB_SKIP=
nm_where=${NEUROLIB_SRC:-/tmp/neurolib}
if [ -f "$nm_where/neurolib/__init__.py" ]; then
  NM_NEUROLIB_PYTHONPATH=$nm_where
  [ -d "$nm_where/../stubs" ] && NM_NEUROLIB_PYTHONPATH="$(cd "$nm_where/../stubs" && pwd):$nm_where"
elif [ -f "$nm_where/src/neurolib/__init__.py" ]; then
  NM_NEUROLIB_PYTHONPATH="$nm_where/src"
  [ -d "$nm_where/stubs" ] && NM_NEUROLIB_PYTHONPATH="$nm_where/stubs:$nm_where/src"
else
  NM_NEUROLIB_SKIP="neurolib not found in $nm_where (set NEUROLIB_SRC to the directory holding the neurolib package)"
fi
if [ -z "$NM_NEUROLIB_SKIP" ] && ! PYTHONPATH="$NM_NEUROLIB_PYTHONPATH" "$NM_NEUROLIB_PYTHON" -c \
     'import neurolib.models.aln, neurolib.models.fhn, neurolib.utils.functions' >/dev/null 2>&1; then
  NM_NEUROLIB_SKIP="neurolib in $nm_where does not import with $NM_NEUROLIB_PYTHON"
fi
if [ -n "$NM_NEUROLIB_SKIP" ]; then
  echo "${NM_NEUROLIB_WHO:-benchmark}: skipping neurolib's column: $NM_NEUROLIB_SKIP" >&2
  NM_NEUROLIB_PYTHON=
fi
unset nm_where
export NM_NEUROLIB_PYTHON NM_NEUROLIB_PYTHONPATH NM_NEUROLIB_SKIP
