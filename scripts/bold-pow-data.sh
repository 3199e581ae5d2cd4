#!/bin/sh
# bold-pow-data.sh: writes src/engine/bold_pow_data.h, the two tables of the
# C library's pow (glibc 2.28 and later: __pow_log_data, __exp_data) as the
# bits held by this machine's libm.so.6, which src/engine/bold_pow.c needs to
# give pow's results bit for bit.  Needs gdb and glibc's debug symbols
# (Debian: libc6-dbg).  Usage: scripts/bold-pow-data.sh [LIBM] > FILE
set -eu
libm=${1:-/usr/lib/x86_64-linux-gnu/libm.so.6}
dump() {   # dump SYMBOL COUNT: COUNT 64-bit words from SYMBOL, one per line
  gdb -batch -ex "x/$2gx &$1" "$libm" | sed 's/^[^:]*://' | tr -s ' \t' '\n' | grep '^0x'
}
words() {  # words NAME: the lines of stdin as a C array body
  awk -v name="$1" 'BEGIN { printf "static const uint64_t %s[] = {\n", name }
    { printf "%s%s", (NR % 4 == 1 ? "  " : " "), $1 "ULL," } NR % 4 == 0 { print "" }
    END { if (NR % 4) print ""; print "};" }'
}
ver=$(ldd --version | head -1)
cat <<HEAD
/*
** bold_pow_data.h: the tables of the C library's pow, as bold_pow.c reads
** them (only it includes this file): pow_log_words are glibc's
** __pow_log_data (ln2hi, ln2lo, the 7 coefficients of log1p, then 128
** entries of invc, pad, logc, logctail) and exp_words its __exp_data
** (invln2N, negln2hiN, negln2loN, 4 coefficients, shift, exp2_shift, 5 exp2
** coefficients, then 128 pairs of tail and scale bits), the bits of
** $libm
** ($ver),
** written by scripts/bold-pow-data.sh.  The tables and the
** algorithm are Szabolcs Nagy's (ARM optimized-routines, MIT licence;
** glibc, LGPL-2.1+).
*/
HEAD
dump __pow_log_data 521 | words pow_log_words
dump __exp_data 270 | words exp_words
