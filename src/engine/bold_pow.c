/*
** bold_pow.c: the three powers of a BOLD step, pow(base, y_i), pow(x_i, a)
** and pow(x_i, b) for every node i, with the bits of the C library's pow
** (glibc 2.28 and later, its FMA variant) but a fraction of its cost: the
** same algorithm (Szabolcs Nagy's, ARM optimized-routines: log(x) to about
** 68 bits as hi + lo from a 128-entry table and a polynomial, y*log(x) as
** ehi + elo with one fma, exp(ehi + elo) from a 128-entry table and a
** polynomial: exp's own step, exp_lanes.h), every operation and every fused
** multiply-add in the order of glibc's own machine code, with its tables
** (bold_pow_data.h, exp_lanes_data.h), so that each
** result is pow's to the last bit.  What saves time: log(base) is computed
** once per call and log(x_i) once for both of its powers, nothing is called
** per value, and nodes go 4 (AVX2) or 8 (AVX-512) at a time.  A value off the common path (x not a positive normal number,
** |y| < 2^-65 or >= 2^63, |y log x| < 2^-54 or >= 512) is pow's own call.
** Used only where it has been checked against the C library's pow, once per
** process (nm_bold_pow_kernel); elsewhere every value is pow's call.
*/
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "sim.h"
#include "bold_pow_data.h"
#include "exp_lanes.h"

static inline double as_double(uint64_t u)
{
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

static inline uint64_t as_bits(double d)
{
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  return u;
}

/* Word indices into the log table (bold_pow_data.h). */
enum {
  LN2HI = 0, LN2LO = 1, A0 = 2,         /* log: ln 2 as hi + lo, then A[0..6] */
  LOG_TAB = 9,                          /* entry j: invc 9+4j, logc 11+4j, logctail 12+4j */
};
#define LOGW(k) as_double(pow_log_words[k])

/* log(x) = hi + *lo for the bits ix of a positive normal x. */
static inline double pow_log(uint64_t ix, double *lo)
{
  uint64_t tmp = ix - 0x3fe6955500000000ULL;           /* x = 2^k z, z near a table point */
  uint64_t j = (tmp >> 45) & 127;
  int64_t k = (int64_t)((tmp >> 52) ^ 0x800) - 0x800;   /* the top 12 bits of tmp, signed */
  double z = as_double(ix - (tmp & 0xfffULL << 52));
  /* (double)k through the bits of 2^52 + 2^51 + k: exact, and a vector loop can do it */
  double kd = as_double(0x4338000000000000ULL + (uint64_t)k) - 0x1.8p52;
  double invc = LOGW(LOG_TAB + 4 * j), logc = LOGW(LOG_TAB + 2 + 4 * j);
  double logctail = LOGW(LOG_TAB + 3 + 4 * j);
  double r = fma(z, invc, -1.0);
  double t1 = fma(kd, LOGW(LN2HI), logc);
  double t2 = t1 + r;
  double lo1 = fma(kd, LOGW(LN2LO), logctail);
  double lo2 = t1 - t2 + r;
  double ar = LOGW(A0) * r, ar2 = r * ar, ar3 = r * ar2;
  double hi = t2 + ar2;
  double lo3 = fma(ar, r, -ar2);
  double lo4 = t2 - hi + ar2;
  double p = fma(ar2, fma(ar2, fma(r, LOGW(A0 + 6), LOGW(A0 + 5)), fma(r, LOGW(A0 + 4), LOGW(A0 + 3))),
                 fma(r, LOGW(A0 + 2), LOGW(A0 + 1)));
  double l = fma(ar3, p, lo1 + lo2 + lo3 + lo4);
  double y = hi + l;
  *lo = hi - y + l;
  return y;
}

/* exp(x + xtail) for 2^-54 <= |x| < 512 (pow's y log x as ehi + elo): exp's
** step (exp_lanes.h) with the tail added to its r, as glibc's pow does. */
static inline double pow_exp(double x, double xtail)
{
  uint64_t ki;
  double r = nm_exp_reduce_fma(x, &ki);
  return nm_exp_finish_fma(xtail + r, ki);
}


/* pow(x, y) from log(x) = hi + lo; *off is set when the value is off the
** common path (y, or y log x, out of range: the value returned is then
** not pow's). */
static inline double pow_from_log(double hi, double lo, double y, int *off)
{
  double ehi = y * hi;
  double elo = fma(y, lo, fma(hi, y, -ehi));
  uint64_t top_y = as_bits(y) >> 52 & 0x7ff, top_e = as_bits(ehi) >> 52 & 0x7ff;
  *off |= (top_y - 0x3be >= 0x80) | (top_e - 0x3c9 >= 0x3f);
  return pow_exp(ehi, elo);
}

/* Whether x is a positive normal number (the bits' top 12 in 1 .. 0x7fe). */
static inline int positive_normal(double x)
{
  return (as_bits(x) >> 52) - 1 < 0x7fe;
}

/* A block's values (n <= BLOCK), one loop the compiler vectorises for each
** target; off[i] is set for a value off the common path (then some of the
** node's three values are not pow's), and the result says whether any is. */
enum { BLOCK = 64 };
#define POW3_BODY                                                                       \
  double blo, bhi = pow_log(as_bits(base), &blo);                                       \
  int base_off = !positive_normal(base), any = 0;                                       \
  _Pragma("omp simd reduction(|:any)")                                                  \
  for (size_t i = 0; i < n; i++) {                                                      \
    double lo, xi = x[i];                                                               \
    int o = base_off | !positive_normal(xi);                                            \
    double hi = pow_log(as_bits(xi), &lo);                                              \
    out1[i] = pow_from_log(bhi, blo, y[i], &o);                                         \
    out2[i] = pow_from_log(hi, lo, a, &o);                                              \
    out3[i] = pow_from_log(hi, lo, b, &o);                                              \
    off[i] = o;                                                                         \
    any |= o;                                                                           \
  }                                                                                     \
  return any;

#define POW3_ARGS size_t n, double base, const double *restrict y,                     \
  const double *restrict x, double a, double b, double *restrict out1,                  \
  double *restrict out2, double *restrict out3

#if NM_X86_SIMD
__attribute__((target("avx512f,fma")))
static int pow3_avx512(POW3_ARGS, int *restrict off) { POW3_BODY }
__attribute__((target("avx2,fma")))
static int pow3_avx2(POW3_ARGS, int *restrict off) { POW3_BODY }
#endif


void nm_bold_pow3(int kernel, POW3_ARGS)
{
  for (size_t i0 = 0; i0 < n; i0 += BLOCK) {
    size_t m = n - i0 < BLOCK ? n - i0 : BLOCK;
    int off[BLOCK], any = 1;
    for (size_t i = 0; i < m; i++) off[i] = 1;
#if NM_X86_SIMD
    if (kernel == NM_SIMD_AVX512)
      any = pow3_avx512(m, base, y + i0, x + i0, a, b, out1 + i0, out2 + i0, out3 + i0, off);
    else if (kernel == NM_SIMD_AVX2)
      any = pow3_avx2(m, base, y + i0, x + i0, a, b, out1 + i0, out2 + i0, out3 + i0, off);
#endif
    if (!any) continue;
    for (size_t i = 0; i < m; i++) {
      if (!off[i]) continue;
      out1[i0 + i] = pow(base, y[i0 + i]);
      out2[i0 + i] = pow(x[i0 + i], a);
      out3[i0 + i] = pow(x[i0 + i], b);
    }
  }
}


/*
** The kernel for nm_bold_pow3: NM_SIMD_AVX512 or NM_SIMD_AVX2 (the level of
** simd.c, NEUROMASS_SIMD), where the processor has FMA and the check below
** passed, else NM_SIMD_OFF (pow's own calls).  The check, once per process:
** each kernel's values equal pow's, bit for bit, for 4096 pseudo-random x in
** [0.5, 4) and y in [0.01, 10), with values on both sides of the common
** path's limits, so that a C library whose pow is another algorithm (or
** glibc's variant without FMA) is not taken for this one.
*/
static pthread_once_t check_once = PTHREAD_ONCE_INIT;
static int checked_ok;

static void check(void)
{
#if NM_X86_SIMD
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("fma") || nm_simd_widest() == NM_SIMD_OFF) return;
  enum { M = 4096 };
  static double y[M], x[M], o1[M], o2[M], o3[M];
  uint64_t s = 0x9e3779b97f4a7c15ULL;
  for (size_t i = 0; i < M; i++) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    x[i] = 0.5 + 3.5 * (double)(s >> 11) * 0x1p-53;
    y[i] = 0.01 + 10.0 * (double)(s >> 12 & 0xfffffffffffffULL) * 0x1p-52;
  }
  /* x subnormal, 0, negative, 1, below 1, large; y tiny, huge, y log x near 512 */
  const double edge_x[] = { 0x1p-1030, 0.0, -2.0, 1.0, 0x1.fffffffffffffp-1, 1e300, 0.66 };
  const double edge_y[] = { 0x1p-66, 0x1p-64, 0x1p63, 1e-17, 1e120, 1700.0, 1750.0 };
  for (size_t i = 0; i < sizeof edge_x / sizeof *edge_x; i++) {
    x[i] = edge_x[i];
    y[i] = edge_y[i];
  }
  const double base = 0.66, a = 3.125, b = 2.125;
  const int kernels[] = { NM_SIMD_AVX512, NM_SIMD_AVX2 };
  for (size_t k = 0; k < 2; k++) {
    if (kernels[k] > nm_simd_widest()) continue;
    nm_bold_pow3(kernels[k], M, base, y, x, a, b, o1, o2, o3);
    for (size_t i = 0; i < M; i++) {
      double w1 = pow(base, y[i]), w2 = pow(x[i], a), w3 = pow(x[i], b);
      if (memcmp(&w1, &o1[i], sizeof w1) || memcmp(&w2, &o2[i], sizeof w2) ||
          memcmp(&w3, &o3[i], sizeof w3))
        return;
    }
  }
  checked_ok = 1;
#endif
}


int nm_bold_pow_kernel(void)
{
  pthread_once(&check_once, check);
  int level = nm_simd_level();
  if (!checked_ok || level == NM_SIMD_OFF) return NM_SIMD_OFF;
  return level;
}
