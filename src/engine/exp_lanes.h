/*
** exp_lanes.h: exp over arrays of doubles with the bits of the C library's
** exp (exp_lanes.c), and the one text of glibc's exp step (2.28 and later:
** Szabolcs Nagy's algorithm, ARM optimized-routines), which exp_lanes.c's
** kernels, bold_pow.c's pow and native code (jit_emit.c) compile.  The step: x = k ln2/128 + r
** with k = round(x 128/ln2) (through the bits of x 128/ln2 + 1.5 * 2^52, and
** ln2/128 as hi + lo), then exp(x) = 2^(k/128) (1 + tail + r + r^2 (C2 + r C3)
** + r^4 (C4 + r C5)), 2^(k/128) as scale (1 + tail) from the table
** (exp_lanes_data.h, glibc's __exp_data).  Two forms, in the order of
** glibc's two builds: with fused multiply-adds where its FMA build (x86-64
** with FMA and AVX2) fuses them, and with none (its SSE2 and AVX builds),
** which must be compiled without contraction (-std=c11 is; never
** -ffast-math).  Valid for 2^-54 <= |x| < 512; the rest is libm's call.
*/
#ifndef nm_exp_lanes_h
#define nm_exp_lanes_h

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* glibc's __exp_data as 64-bit words (exp_lanes_data.h). */
enum { NM_EXP_WORDS = 270 };
extern const uint64_t nm_exp_data[NM_EXP_WORDS];

/*
** NM_EXP_STEP_CODE: the step as one macro, which this header compiles below
** and native code quotes (NM_EXP_STEP_TEXT: jit_emit.c pastes it into the
** source it generates, beside a copy of nm_exp_data written from the
** engine's), so that both compile the very same statements.  It defines:
** the indices of the table's constants: 128/ln2, -ln2/128 as hi + lo, C2 ..
** C5, the shift 1.5 * 2^52, then entry j of the table: the bits of tail at
** NM_EXP_TAB + 2j, of scale (without the exponent's k/128 part) at
** NM_EXP_TAB + 2j + 1;
**   nm_exp_word(k), nm_exp_bits(d): word k of the table as a double, the bits of d;
**   nm_exp_off(x): whether exp(x) is off the step's path: |x| < 2^-54,
**     |x| >= 512, NaN or infinite (glibc's test on the top 12 bits: 0x3c9 is
**     2^-54's, 0x408 512's);
**   nm_exp_reduce_fma(x, &ki), nm_exp_finish_fma(r, ki): the step with fused
**     multiply-adds, as glibc's FMA build: r of x, ki the bits that carry k,
**     then exp of x = k ln2/128 + r;
**   nm_exp_scale(ki, &tail): 2^(k/128) as scale (1 + tail), from the table
**     entry k mod 128 and the exponent k/128;
**   nm_exp_reduce_plain, nm_exp_finish_plain: the step without fused
**     operations, as glibc's SSE2 and AVX builds;
**   nm_exp_one(x, fused): exp(x) of one value by the step with fused
**     multiply-adds (fused 1) or without (0), libm's exp call off its path
**     (native code's lanes one by one, in the form of the kernel
**     nm_exp_lanes_kernel chose).
*/
#define NM_EXP_STEP_CODE \
enum { NM_EXP_INVLN2N = 0, NM_EXP_NEGLN2HIN = 1, NM_EXP_NEGLN2LON = 2, NM_EXP_C2 = 3, \
       NM_EXP_SHIFT = 7, NM_EXP_TAB = 14 }; \
static inline double nm_exp_word(size_t k) \
{ \
  double d; \
  memcpy(&d, &nm_exp_data[k], sizeof d); \
  return d; \
} \
static inline uint64_t nm_exp_bits(double d) \
{ \
  uint64_t u; \
  memcpy(&u, &d, sizeof u); \
  return u; \
} \
static inline int nm_exp_off(double x) \
{ \
  return (nm_exp_bits(x) >> 52 & 0x7ff) - 0x3c9 >= 0x3f; \
} \
static inline double nm_exp_reduce_fma(double x, uint64_t *ki) \
{ \
  double kd = fma(x, nm_exp_word(NM_EXP_INVLN2N), nm_exp_word(NM_EXP_SHIFT)); \
  *ki = nm_exp_bits(kd); \
  kd -= nm_exp_word(NM_EXP_SHIFT); \
  return fma(kd, nm_exp_word(NM_EXP_NEGLN2LON), fma(kd, nm_exp_word(NM_EXP_NEGLN2HIN), x)); \
} \
static inline double nm_exp_scale(uint64_t ki, double *tail) \
{ \
  uint64_t idx = 2 * (ki & 127), sbits = nm_exp_data[NM_EXP_TAB + 1 + idx] + (ki << 45); \
  double scale; \
  *tail = nm_exp_word(NM_EXP_TAB + idx); \
  memcpy(&scale, &sbits, sizeof scale); \
  return scale; \
} \
static inline double nm_exp_finish_fma(double r, uint64_t ki) \
{ \
  double tail, scale = nm_exp_scale(ki, &tail), r2 = r * r; \
  double tmp = fma(fma(r, nm_exp_word(NM_EXP_C2 + 3), nm_exp_word(NM_EXP_C2 + 2)), r2 * r2, \
                   fma(fma(r, nm_exp_word(NM_EXP_C2 + 1), nm_exp_word(NM_EXP_C2)), r2, tail + r)); \
  return fma(tmp, scale, scale); \
} \
static inline double nm_exp_reduce_plain(double x, uint64_t *ki) \
{ \
  double kd = nm_exp_word(NM_EXP_INVLN2N) * x + nm_exp_word(NM_EXP_SHIFT); \
  *ki = nm_exp_bits(kd); \
  kd -= nm_exp_word(NM_EXP_SHIFT); \
  return x + kd * nm_exp_word(NM_EXP_NEGLN2HIN) + kd * nm_exp_word(NM_EXP_NEGLN2LON); \
} \
static inline double nm_exp_finish_plain(double r, uint64_t ki) \
{ \
  double tail, scale = nm_exp_scale(ki, &tail), r2 = r * r; \
  double tmp = tail + r + r2 * (nm_exp_word(NM_EXP_C2) + r * nm_exp_word(NM_EXP_C2 + 1)) + \
               r2 * r2 * (nm_exp_word(NM_EXP_C2 + 2) + r * nm_exp_word(NM_EXP_C2 + 3)); \
  return scale + scale * tmp; \
} \
static inline double nm_exp_one(double x, int fused) \
{ \
  uint64_t ki; \
  if (__builtin_expect(nm_exp_off(x), 0)) return exp(x); \
  if (fused) { \
    double r = nm_exp_reduce_fma(x, &ki); \
    return nm_exp_finish_fma(r, ki); \
  } \
  double r = nm_exp_reduce_plain(x, &ki); \
  return nm_exp_finish_plain(r, ki); \
}

NM_EXP_STEP_CODE

/* The text of NM_EXP_STEP_CODE. */
#define NM_EXP_QUOTE_(...) #__VA_ARGS__
#define NM_EXP_QUOTE(...) NM_EXP_QUOTE_(__VA_ARGS__)
#define NM_EXP_STEP_TEXT NM_EXP_QUOTE(NM_EXP_STEP_CODE)

/* The kernels of nm_exp_lanes_on: libm's own calls, the step without and
** with fused operations (AVX2 four lanes at a time, AVX-512 eight). */
enum nm_exp_kernel { NM_EXP_LIBM, NM_EXP_PLAIN, NM_EXP_AVX2, NM_EXP_AVX512 };

/* out[i] = exp(x[i]) for i < n, the bits of this process's libm exp (its
** errno too: a value off the step's path is libm's own call), on the kernel
** nm_exp_lanes_kernel() chose; out may be x (in place), otherwise the two
** must not overlap.  Thread-safe; the first call (of either function)
** checks the kernels once per process. */
void nm_exp_lanes(size_t n, const double *x, double *out);

/* The kernel nm_exp_lanes uses: the first of AVX2 and AVX-512 (both with
** FMA, within NEUROMASS_SIMD's level, nm_simd_level; AVX-512 first when
** NEUROMASS_SIMD=avx512 names it), then the plain step, whose values equal
** libm's exp bit for bit on a sweep of values and the edge cases (-746 ..
** 711, subnormal results, the path's limits, +-0, +-inf, NaN); NM_EXP_LIBM
** when none does (another C library, another exp). */
int nm_exp_lanes_kernel(void);

/* nm_exp_lanes on kernel k (enum nm_exp_kernel), checked or not: for the
** tests.  A kernel this processor cannot run (nm_exp_kernel_runs) must not
** be asked for. */
void nm_exp_lanes_on(int k, size_t n, const double *x, double *out);
/* Whether this processor runs kernel k (AVX2 and AVX-512 need FMA too). */
int nm_exp_kernel_runs(int k);
/* "libm", "plain", "avx2", "avx512". */
const char *nm_exp_kernel_name(int k);
/* Whether kernel k gives libm's exp, bit for bit, on the self-check's values
** (the check nm_exp_lanes_kernel runs once); k must run here. */
int nm_exp_kernel_agrees(int k);

#endif
