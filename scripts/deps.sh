#!/bin/sh
# deps.sh: installs the Debian packages neuromass needs to build and test.
# As root it installs what is missing with apt-get; otherwise it says what to
# install.  Run by `make run` and `make test`; harmless when all is present.
set -eu
PACKAGES="build-essential pkg-config lua5.4 liblua5.4-dev libgsl-dev libfftw3-dev libsndfile1-dev libsamplerate0-dev libnlopt-dev lua-busted lua-check luarocks git gnuplot-nox"
# MPI (issue 13): OpenMPI for the optional module neuromass.mpi and its tests
# (mpirun -np 2 in tests/spec/mpi_spec.lua); `make MPI=0` builds without it.
PACKAGES="$PACKAGES libopenmpi-dev openmpi-bin"
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=""
for p in $PACKAGES; do
  # nm.plot draws with gnuplot's cairo terminals: gnuplot-qt and gnuplot-x11
  # have them too (and conflict with gnuplot-nox), so either will do.
  if [ "$p" = gnuplot-nox ] && { installed gnuplot-qt || installed gnuplot-x11; }; then continue; fi
  installed "$p" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "deps.sh: installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends $missing >/tmp/neuromass-apt.log 2>&1; then
    apt-get update >/dev/null 2>&1 || true
    apt-get install -y --no-install-recommends $missing || {
      echo "deps.sh: apt-get failed, see the output above" >&2; exit 1; }
  fi
else
  echo "deps.sh: missing packages:$missing" >&2
  echo "deps.sh: install them with: sudo apt-get install$missing" >&2
  exit 1
fi
