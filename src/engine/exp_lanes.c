/*
** exp_lanes.c: exp over an array of doubles (the interpreter's NM_OP_EXP
** over its lanes, native code's blocks of 8 lanes: expr.c, jit_emit.c) with
** the bits of the C library's exp, at a fraction of its cost: glibc's own
** algorithm and table (exp_lanes.h, exp_lanes_data.h), in a loop the
** compiler vectorises, 8 values at a time on AVX-512, 4 on AVX2 (both with
** FMA, as glibc's FMA build), or the step without fused operations in plain
** C (glibc's SSE2 and AVX builds, for processors without FMA).  A value off
** the step's path (|x| < 2^-54 or >= 512, NaN, infinite: overflow, subnormal
** and zero results) is libm's own call, so it is libm's, errno included.
** Which kernel runs is checked once per process against this process's
** exp, bit for bit; when none agrees, every value is exp's call.
*/
#include <errno.h>
#include <fenv.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "exp_lanes.h"
#include "exp_lanes_data.h"
#include "sim.h"

/* Kernel NAME: out[i] = exp(x[i]) through the step (REDUCE, FINISH) in
** blocks of 8 values (native code's block; a constant count, which the
** compiler turns into whole vectors for the target of ATTR) and a shorter
** last one.  A value off the path keeps its x in out (so that it is still
** there when out is x) and is flagged; after its block it is exp's call. */
enum { BLOCK = 8 };
#define EXP_BLOCK(REDUCE, FINISH, xb, ob, m)                                            \
  do {                                                                                  \
    uint64_t off[BLOCK], any = 0;   /* 64 bits: one vector holds as many as doubles */  \
    _Pragma("omp simd reduction(|:any)")                                                \
    for (size_t i = 0; i < (m); i++) {                                                  \
      uint64_t ki;                                                                      \
      double xi = (xb)[i], r = REDUCE(xi, &ki), y = FINISH(r, ki);                      \
      uint64_t o = (uint64_t)nm_exp_off(xi);                                            \
      uint64_t keep = -o;             /* a select by bits: no branch in the loop */     \
      uint64_t b = (nm_exp_bits(xi) & keep) | (nm_exp_bits(y) & ~keep);                 \
      memcpy(&(ob)[i], &b, sizeof b);                                                   \
      off[i] = o;                                                                       \
      any |= o;                                                                         \
    }                                                                                   \
    if (any)                                                                            \
      for (size_t i = 0; i < (m); i++)                                                  \
        if (off[i]) (ob)[i] = exp((ob)[i]);                                             \
  } while (0)
#define EXP_KERNEL(ATTR, NAME, REDUCE, FINISH)                                          \
  ATTR static void NAME(size_t n, const double *x, double *out)                         \
  {                                                                                     \
    size_t i0 = 0;                                                                      \
    for (; i0 + BLOCK <= n; i0 += BLOCK) EXP_BLOCK(REDUCE, FINISH, x + i0, out + i0, BLOCK); \
    if (i0 < n) EXP_BLOCK(REDUCE, FINISH, x + i0, out + i0, n - i0);                    \
  }

EXP_KERNEL(, lanes_plain, nm_exp_reduce_plain, nm_exp_finish_plain)
#if NM_X86_SIMD
EXP_KERNEL(__attribute__((target("avx2,fma"))), lanes_avx2, nm_exp_reduce_fma, nm_exp_finish_fma)
EXP_KERNEL(__attribute__((target("avx512f,fma"))), lanes_avx512, nm_exp_reduce_fma,
           nm_exp_finish_fma)
#endif

static void lanes_libm(size_t n, const double *x, double *out)
{
  for (size_t i = 0; i < n; i++) out[i] = exp(x[i]);
}

typedef void (*lanes_fn)(size_t n, const double *x, double *out);

static lanes_fn kernel_fn(int k)
{
#if NM_X86_SIMD
  if (k == NM_EXP_AVX512) return lanes_avx512;
  if (k == NM_EXP_AVX2) return lanes_avx2;
#endif
  return k == NM_EXP_PLAIN ? lanes_plain : lanes_libm;
}


void nm_exp_lanes_on(int k, size_t n, const double *x, double *out)
{
  kernel_fn(k)(n, x, out);
}


int nm_exp_kernel_runs(int k)
{
  if (k == NM_EXP_LIBM || k == NM_EXP_PLAIN) return 1;
#if NM_X86_SIMD
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("fma")) return 0;
  if (k == NM_EXP_AVX2) return __builtin_cpu_supports("avx2");
  if (k == NM_EXP_AVX512) return __builtin_cpu_supports("avx512f");
#endif
  return 0;
}


const char *nm_exp_kernel_name(int k)
{
  static const char *const names[] = { "libm", "plain", "avx2", "avx512" };
  return k >= NM_EXP_LIBM && k <= NM_EXP_AVX512 ? names[k] : "?";
}


/*
** The check: 8192 values spread over [-746, 711) (every part of the table and
** of the polynomial's range), then the edges: either side of the path's
** limits (2^-54, 512), of the largest finite result (709.78...) and of the
** smallest normal and subnormal results (-708.39..., -745.13...), +-0,
** subnormal x, +-inf, NaN of either sign; in one call, so that blocks of 64
** and a shorter last one are both taken.  errno and the floating-point
** flags are as before it (the overflows set them).
*/
int nm_exp_kernel_agrees(int k)
{
  enum { M = 8192 };
  static const double edges[] = {
    0.0, -0.0, 0x1p-54, -0x1p-54, 0x1.fffffffffffffp-55, -0x1.fffffffffffffp-55, 0x1p-60,
    0x1p-1074, -0x1p-1074, 0x1p-1022, 1e-300, 512.0, -512.0, 0x1.fffffffffffffp8,
    -0x1.fffffffffffffp8, 0x1.62e42fefa39efp9, 0x1.62e42fefa39f0p9, 710.0, 1000.0, 1024.0,
    -0x1.6232bdd7abcd2p9, -0x1.6232bdd7abcd3p9, -708.0, -720.0, -740.0, -0x1.74385446d71c3p9,
    -0x1.74910d52d3051p9, -0x1.74910d52d3052p9, -746.0, -1000.0, -1075.0, 1.0, -1.0, 0.5,
    0x1.62e42fefa39efp-8, INFINITY, -INFINITY, NAN, -NAN,
  };
  enum { EDGES = sizeof edges / sizeof *edges };
  double *x = malloc((M + EDGES) * sizeof *x), *o = malloc((M + EDGES) * sizeof *o);
  if (!x || !o) { free(x); free(o); return 0; }
  uint64_t s = 0x2545f4914f6cdd1dULL;
  for (size_t i = 0; i < M; i++) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    x[i] = -746.0 + 1457.0 * (double)(s >> 11) * 0x1p-53;
  }
  memcpy(x + M, edges, sizeof edges);
  int saved_errno = errno;
  fenv_t env;
  fegetenv(&env);
  nm_exp_lanes_on(k, M + EDGES, x, o);
  int ok = 1;
  for (size_t i = 0; i < M + EDGES && ok; i++) {
    double w = exp(x[i]);
    ok = memcmp(&w, &o[i], sizeof w) == 0;
  }
  fesetenv(&env);
  errno = saved_errno;
  free(x);
  free(o);
  return ok;
}


static pthread_once_t check_once = PTHREAD_ONCE_INIT;
static int chosen = NM_EXP_LIBM;
static _Atomic(lanes_fn) chosen_fn;     /* set once the check is done */

/* The order of preference: AVX2 before AVX-512 unless NEUROMASS_SIMD names
** avx512.  Blocks of 8 values (native code's) took 2.4 ns per value on AVX2,
** 2.9 on AVX-512, 80 values 1.1 on both (GCC 12 on this project's Xeon
** test machine: the table's entries are fetched lane by lane, twice as many
** per vector on AVX-512); libm's calls 4.4 and 2.7. */
static void check(void)
{
  int level = nm_simd_level(), cap, named;
  int wide_first = nm_simd_cap(&cap, &named, NULL) == NM_OK && named && cap == NM_SIMD_AVX512;
  const int order[] = { wide_first ? NM_EXP_AVX512 : NM_EXP_AVX2,
                        wide_first ? NM_EXP_AVX2 : NM_EXP_AVX512, NM_EXP_PLAIN };
  for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
    int k = order[i];
    if ((k == NM_EXP_AVX512 && level < NM_SIMD_AVX512) || (k == NM_EXP_AVX2 && level < NM_SIMD_AVX2))
      continue;
    if (nm_exp_kernel_runs(k) && nm_exp_kernel_agrees(k)) {
      chosen = k;
      break;
    }
  }
  atomic_store_explicit(&chosen_fn, kernel_fn(chosen), memory_order_release);
}


int nm_exp_lanes_kernel(void)
{
  pthread_once(&check_once, check);
  return chosen;
}


void nm_exp_lanes(size_t n, const double *x, double *out)
{
  lanes_fn f = atomic_load_explicit(&chosen_fn, memory_order_acquire);
  if (!f) {
    pthread_once(&check_once, check);
    f = atomic_load_explicit(&chosen_fn, memory_order_relaxed);
  }
  f(n, x, out);
}
