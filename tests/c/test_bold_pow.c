/*
** test_bold_pow.c: BOLD's powers (bold_pow.c) against the C library's pow,
** bit for bit: 2^21 pseudo-random nodes over the values a BOLD step meets
** (F from 0.05 to 20, so 1/F in 0.05 .. 20; V from 0.05 to 20), then the
** values off the vector path (V = 1 exactly, V subnormal, 0, negative,
** NaN, infinite; F at its floor 1e-120, huge), on every kernel this machine
** runs (AVX-512, AVX2, off), in blocks of every length from 1 to 70.  On an
** x86-64 processor with FMA and glibc 2.28 or later the vector kernel of
** NEUROMASS_SIMD's level must be in use (nm_bold_pow_kernel), not pow's own
** calls (which NEUROMASS_SIMD=off asks for).
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/sim.h"
#include "test_main.h"

#define BASE 0.66                       /* 1 - rho */
#define A (1 / 0.32 - 1)                /* 1 / alpha - 1 */
#define B (1 / 0.32)                    /* 1 / alpha */

static uint64_t state = 0x243f6a8885a308d3ULL;

/* A pseudo-random double in [lo, hi), spread evenly in log scale. */
static double draw(double lo, double hi)
{
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  double u = (double)(state >> 11) * 0x1p-53;
  return lo * pow(hi / lo, u);
}

/* Counts the values of kernel k that differ from pow's over n nodes given
** as blocks of `block` nodes. */
static size_t differ(int k, size_t n, const double *y, const double *x, size_t block)
{
  double *o = malloc(3 * n * sizeof *o);
  size_t bad = 0;
  for (size_t i0 = 0; i0 < n; i0 += block) {
    size_t m = n - i0 < block ? n - i0 : block;
    nm_bold_pow3(k, m, BASE, y + i0, x + i0, A, B, o + i0, o + n + i0, o + 2 * n + i0);
  }
  for (size_t i = 0; i < n; i++) {
    double w[3] = { pow(BASE, y[i]), pow(x[i], A), pow(x[i], B) };
    for (int j = 0; j < 3; j++)
      if (memcmp(&w[j], &o[j * n + i], sizeof w[j]) != 0) bad++;
  }
  free(o);
  return bad;
}

int main(void)
{
  int kernel = nm_bold_pow_kernel();
#if defined(__x86_64__) && defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 28))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("fma") && __builtin_cpu_supports("avx2") &&
      nm_simd_level() != NM_SIMD_OFF)
    CHECK(kernel == nm_simd_level(), "the vector kernel of NEUROMASS_SIMD's level is in use (%s)",
          nm_simd_name(kernel));
  else
    CHECK(kernel == NM_SIMD_OFF, "pow's own calls without FMA or with NEUROMASS_SIMD=off");
#endif
  enum { N = 1 << 21 };
  double *y = malloc(N * sizeof *y), *x = malloc(N * sizeof *x);
  for (size_t i = 0; i < N; i++) {
    y[i] = 1 / draw(0.05, 20);
    x[i] = draw(0.05, 20);
  }
  const double odd_x[] = { 1.0, 0x1p-1030, 0.0, -1.5, NAN, INFINITY, 0x1.fffffffffffffp-1,
                           0x1.0000000000001p+0, 1e-300, 1e300 };
  const double odd_y[] = { 1e120, 1e-200, 1.0, 0x1p-66, 0x1p-64, 0x1p63, 2000.0, 1e-17, NAN,
                           INFINITY };
  enum { ODD = sizeof odd_x / sizeof *odd_x };
  double oy[ODD * ODD], ox[ODD * ODD];
  for (size_t i = 0; i < ODD * ODD; i++) {
    ox[i] = odd_x[i % ODD];
    oy[i] = odd_y[i / ODD];
  }
  const int kernels[] = { NM_SIMD_AVX512, NM_SIMD_AVX2, NM_SIMD_OFF };
  for (size_t j = 0; j < 3; j++) {
    int k = kernels[j];
    if (k > nm_simd_widest() || (k != NM_SIMD_OFF && kernel == NM_SIMD_OFF)) continue;
    size_t bad = differ(k, N, y, x, N);
    CHECK(bad == 0, "%s: %d nodes' three powers equal pow's (%zu differ)", nm_simd_name(k), N, bad);
    bad = differ(k, ODD * ODD, oy, ox, ODD * ODD);
    CHECK(bad == 0, "%s: the values off the vector path are pow's (%zu differ)",
          nm_simd_name(k), bad);
    bad = 0;
    for (size_t block = 1; block <= 70; block++) bad += differ(k, 300, y, x, block);
    CHECK(bad == 0, "%s: blocks of 1 to 70 nodes (%zu differ)", nm_simd_name(k), bad);
  }
  free(y);
  free(x);
  return test_summary();
}
