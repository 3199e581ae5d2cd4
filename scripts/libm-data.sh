#!/bin/sh
# libm-data.sh: writes one of the two headers of the C library's tables
# (glibc 2.28 and later) that the engine needs to give libm's results bit for
# bit, as the bits held by this machine's libm.so.6:
#   pow: src/engine/bold_pow_data.h, __pow_log_data (src/engine/bold_pow.c)
#   exp: src/engine/exp_lanes_data.h, __exp_data (src/engine/exp_lanes.c,
#        whose exp step bold_pow.c's pow shares)
# Needs gdb and glibc's debug symbols (Debian: libc6-dbg).
# Usage: scripts/libm-data.sh pow|exp [LIBM] > FILE
set -eu
which=${1:?usage: scripts/libm-data.sh pow|exp [LIBM] > FILE}
libm=${2:-/usr/lib/x86_64-linux-gnu/libm.so.6}
dump() {   # dump SYMBOL COUNT: COUNT 64-bit words from SYMBOL, one per line
  gdb -batch -ex "x/$2gx &$1" "$libm" | sed 's/^[^:]*://' | tr -s ' \t' '\n' | grep '^0x'
}
words() {  # words DECLARATION: the lines of stdin as a C array body
  awk -v decl="$1" 'BEGIN { printf "%s = {\n", decl }
    { printf "%s%s", (NR % 4 == 1 ? "  " : " "), $1 "ULL," } NR % 4 == 0 { print "" }
    END { if (NR % 4) print ""; print "};" }'
}
ver=$(ldd --version | head -1)
case $which in
  pow)
    cat <<HEAD
/*
** bold_pow_data.h: the log table of the C library's pow, as bold_pow.c reads
** it (only it includes this file): pow_log_words are glibc's __pow_log_data
** (ln2hi, ln2lo, the 7 coefficients of log1p, then 128 entries of invc, pad,
** logc, logctail), the bits of
** $libm
** ($ver),
** written by scripts/libm-data.sh.  pow's exp table is exp's
** (exp_lanes_data.h).  The tables and the algorithm are Szabolcs Nagy's
** (ARM optimized-routines, MIT licence; glibc, LGPL-2.1+).
*/
HEAD
    dump __pow_log_data 521 | words "static const uint64_t pow_log_words[]" ;;
  exp)
    cat <<HEAD
/*
** exp_lanes_data.h: the table of the C library's exp (and of pow's last
** step), as exp_lanes.c defines it for exp_lanes.h (only it includes this
** file): glibc's __exp_data (invln2N, negln2hiN, negln2loN, 4 coefficients,
** shift, exp2_shift, 5 exp2 coefficients, then 128 pairs of tail and scale
** bits), the bits of
** $libm
** ($ver),
** written by scripts/libm-data.sh.  The table and the algorithm are
** Szabolcs Nagy's (ARM optimized-routines, MIT licence; glibc, LGPL-2.1+).
*/
#include "exp_lanes.h"

HEAD
    dump __exp_data 270 | words "const uint64_t nm_exp_data[NM_EXP_WORDS]" ;;
  *)
    echo "libm-data.sh: the first argument must be pow or exp, not '$which'" >&2
    exit 2 ;;
esac
