#!/bin/sh
# run-tests.sh: runs every test (C engine tests, luacheck, then the Busted
# specs, which also drive the executable) and ends with one line "N passed, N failed".
# NEUROMASS_BUILD selects the build tree (build, or build-asan for sanitizers).
set -u
BUILD=${NEUROMASS_BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
passed=0
failed=0
log=$(mktemp)
# Native code for programs (docs/jit.md) goes to a cache of this run's own,
# shared by every test (each program compiles once) and removed at the end.
jit_cache=$(mktemp -d)
export XDG_CACHE_HOME="$jit_cache"

# C engine tests: each binary prints "PASS ..." / "FAIL ..." lines.
for t in "$BUILD"/tests/test_*; do
  [ -x "$t" ] || continue
  "$t" >"$log" 2>&1
  rc=$?
  cat "$log"
  p=$(grep -c '^PASS' "$log")
  f=$(grep -c '^FAIL' "$log")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "FAIL $t exited with status $rc"; fi
  passed=$((passed + p))
  failed=$((failed + f))
done

# luacheck over the repository's Lua files (settings in .luacheckrc): one PASS/FAIL line.
if luacheck -q --formatter plain . >"$log" 2>&1; then
  echo "PASS luacheck"
  passed=$((passed + 1))
else
  cat "$log"
  echo "FAIL luacheck"
  failed=$((failed + 1))
fi

# Busted specs, run with Lua 5.4 explicitly (Debian's busted script may pick another Lua).
export LUA_PATH="$top/lua/?.lua;$top/lua/?/init.lua;$top/tests/spec/?.lua;;"
export LUA_CPATH="$top/$BUILD/lua/?.so;;"
export NEUROMASS_EXE="$top/$BUILD/neuromass"
lua5.4 /usr/bin/busted --output=utfTerminal tests/spec >"$log" 2>&1
rc=$?
cat "$log"
summary=$(grep -E '[0-9]+ success' "$log" | tail -n 1)
s=$(echo "$summary" | grep -oE '[0-9]+ success' | grep -oE '[0-9]+')
f=$(echo "$summary" | grep -oE '[0-9]+ failure' | grep -oE '[0-9]+')
e=$(echo "$summary" | grep -oE '[0-9]+ error' | grep -oE '[0-9]+')
if [ -z "$summary" ]; then
  echo "busted did not finish (status $rc)"
  failed=$((failed + 1))
else
  passed=$((passed + ${s:-0}))
  failed=$((failed + ${f:-0} + ${e:-0}))
  if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ] && [ "${e:-0}" -eq 0 ]; then failed=$((failed + 1)); fi
fi
rm -f "$log"
rm -rf "$jit_cache"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
