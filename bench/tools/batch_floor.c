/* batch_floor.c: what this CPU needs at least for one lane-step of a batch of
 * one-node ALN points (the bench row under issue 13's "64 points <= 1/8 of 64
 * separate runs"), from three throughputs measured here:
 *   div     a double division in the widest SIMD register (AVX-512: 8 lanes,
 *           else AVX2: 4), per lane, on 8 independent chains;
 *   sqrt    the same for a square root;
 *   normal  one draw of the engine's own normal kernel (nm_normals_add, the
 *           one a batch's OU processes use) over 128 streams, per draw.
 * Bit-identical results keep every IEEE division and square root of the
 * model (no reciprocal multiplies), so a batch cannot go below the sum of
 * these costs times the operation counts (bench/bench.lua has ALN's).
 * Prints "bench div_ns X", "bench sqrt_ns X", "bench normal_ns X", "bench
 * lanes N": minima over 25 repetitions (on a loaded machine only the minimum
 * means anything).  Built against the engine's objects and sim.h:
 *   make BUILD=build-bench CFLAGS="-O3 -g" build-bench/bench/batch_floor */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "engine/sim.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define FLOOR_X86 1
#else
#define FLOOR_X86 0
#endif

enum { REPS = 25, ROUNDS = 200000, STREAMS = 128, DRAWS = 4000 };

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Keeps v alive without a store (the compiler must compute it). */
#define KEEP(v) __asm__ volatile("" : : "v"(v))

#if FLOOR_X86
/* Seconds for ROUNDS rounds of 8 independent vector divisions (sqrt = 1:
** square roots), 8 lanes each. */
__attribute__((target("avx512f")))
static double round512(int sqrt)
{
  __m512d a[8], b = _mm512_set1_pd(1.0000001);
  for (int i = 0; i < 8; i++) a[i] = _mm512_set1_pd(2.0 + i);
  double t0 = now();
  for (long n = 0; n < ROUNDS; n++) {
    for (int i = 0; i < 8; i++) a[i] = sqrt ? _mm512_sqrt_pd(a[i]) : _mm512_div_pd(a[i], b);
    KEEP(a[0]);
  }
  double t = now() - t0;
  for (int i = 0; i < 8; i++) KEEP(a[i]);
  return t;
}

/* The same with AVX2's 4 lanes. */
__attribute__((target("avx2")))
static double round256(int sqrt)
{
  __m256d a[8], b = _mm256_set1_pd(1.0000001);
  for (int i = 0; i < 8; i++) a[i] = _mm256_set1_pd(2.0 + i);
  double t0 = now();
  for (long n = 0; n < ROUNDS; n++) {
    for (int i = 0; i < 8; i++) a[i] = sqrt ? _mm256_sqrt_pd(a[i]) : _mm256_div_pd(a[i], b);
    KEEP(a[0]);
  }
  double t = now() - t0;
  for (int i = 0; i < 8; i++) KEEP(a[i]);
  return t;
}
#endif

/* Nanoseconds per lane of a division (sqrt = 0) or square root (1) in the
** widest register, and its lane count in *lanes. */
static double per_lane(int sqrt, int *lanes)
{
  double best = 1e30;
#if FLOOR_X86
  int wide = __builtin_cpu_supports("avx512f");
  *lanes = wide ? 8 : 4;
  for (int r = 0; r < REPS; r++) {
    double t = wide ? round512(sqrt) : round256(sqrt);
    if (t < best) best = t;
  }
#else
  /* No vector registers known here: plain doubles, 8 chains. */
  *lanes = 1;
  for (int r = 0; r < REPS; r++) {
    volatile double b = 1.0000001;
    double a[8];
    for (int i = 0; i < 8; i++) a[i] = 2.0 + i;
    double t0 = now();
    for (long n = 0; n < ROUNDS; n++)
      for (int i = 0; i < 8; i++) a[i] = sqrt ? __builtin_sqrt(a[i]) : a[i] / b;
    double t = now() - t0;
    if (t < best) best = t;
  }
#endif
  return best / ((double)ROUNDS * 8 * *lanes) * 1e9;
}

/* Nanoseconds per draw of nm_normals_add over STREAMS streams. */
static double per_normal(void)
{
  nm_normals z;
  if (nm_normals_init(&z, STREAMS) != NM_OK) {
    fprintf(stderr, "batch_floor: out of memory\n");
    exit(1);
  }
  double scale[STREAMS], x[STREAMS] = { 0 };
  for (size_t n = 0; n < STREAMS; n++) {
    nm_normals_seed(&z, n, 1 + n);
    scale[n] = 0.05;
  }
  double best = 1e30;
  for (int r = 0; r < REPS; r++) {
    double t0 = now();
    for (int d = 0; d < DRAWS; d++) nm_normals_add(&z, 0, STREAMS, scale, x);
    double t = now() - t0;
    if (t < best) best = t;
  }
  double sum = 0;
  for (size_t n = 0; n < STREAMS; n++) sum += x[n];
  nm_normals_free(&z);
  if (sum != sum) fprintf(stderr, "batch_floor: the draws are not numbers\n");
  return best / ((double)DRAWS * STREAMS) * 1e9;
}

int main(void)
{
  int lanes = 1;
  double div = per_lane(0, &lanes), sq = per_lane(1, &lanes), normal = per_normal();
  printf("bench div_ns %.4f\nbench sqrt_ns %.4f\nbench normal_ns %.4f\nbench lanes %d\n", div, sq,
         normal, lanes);
  return 0;
}
