/*
** test_normal.c: the noise processes' normals (src/engine/normal.c) are
** GSL's gsl_ran_gaussian_ziggurat on taus2 generators bit for bit, through
** the fast path and GSL's slow path (the tail and the wedges), one draw at a
** time or a batch of streams (some of which do not draw, split in ranges
** that start and end anywhere), by every kernel this processor runs (scalar,
** AVX2, AVX-512), also from two threads at once, and the fast path is in
** use with the system's GSL.
*/
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "engine/sim.h"
#include "test_main.h"

enum { STREAMS = 150, STEPS = 20000 };

static unsigned long seed_of(size_t n) { return 1000003UL * n + 17; }


/* x[n] += scale[n] * draw for the streams that draw, the GSL way. */
static void add_gsl(gsl_rng **r, const double *scale, double *x)
{
  for (size_t n = 0; n < STREAMS; n++)
    if (scale[n] != 0.0) x[n] += scale[n] * gsl_ran_gaussian_ziggurat(r[n], 1.0);
}


static void test_same_as_gsl(int simd)
{
  nm_normals z;
  gsl_rng *r[STREAMS];
  if (nm_normals_init(&z, STREAMS) != NM_OK) { CHECK(0, "make %d streams", STREAMS); return; }
  z.simd = simd;
  for (size_t n = 0; n < STREAMS; n++) {
    r[n] = gsl_rng_alloc(gsl_rng_taus2);
    if (!r[n]) { CHECK(0, "allocate a taus2 generator"); return; }
    gsl_rng_set(r[n], seed_of(n));
    nm_normals_seed(&z, n, seed_of(n));
  }
  /* Streams with scale 0 draw nothing; every 7th step one stream draws alone. */
  /* Those keep their -0.0 (adding 0 * draw would make it +0.0). */
  double scale[STREAMS], x[STREAMS] = { 0 }, y[STREAMS] = { 0 };
  for (size_t n = 0; n < STREAMS; n++) scale[n] = n % 5 == 3 ? 0.0 : 0.25 + 0.01 * (double)n;
  for (size_t n = 3; n < STREAMS; n += 5) x[n] = y[n] = -0.0;
  long differ = -1, tails = 0;
  for (long k = 0; k < STEPS && differ < 0; k++) {
    if (k % 7 == 0) {
      size_t n = (size_t)k % STREAMS;
      double a = gsl_ran_gaussian_ziggurat(r[n], 1.0), b = nm_normals_draw(&z, n);
      if (memcmp(&a, &b, sizeof a) != 0) differ = k;
      continue;
    }
    double before[STREAMS];
    memcpy(before, x, sizeof x);
    add_gsl(r, scale, x);
    /* In two ranges, cut where step k says (a kernel's start and tail anywhere). */
    size_t cut = (size_t)(k * 37) % STREAMS;
    nm_normals_add(&z, 0, cut, scale, y);
    nm_normals_add(&z, cut, STREAMS, scale, y);
    for (size_t n = 0; n < STREAMS; n++) {
      if (memcmp(&x[n], &y[n], sizeof x[n]) != 0) differ = k;
      if (scale[n] != 0.0 && fabs(x[n] - before[n]) / scale[n] > 3.4426) tails++;
    }
  }
  CHECK(differ < 0, "nm_normals_add (kernel %s) and nm_normals_draw give gsl_ran_gaussian_ziggurat's "
        "numbers bit for bit on %d taus2 streams over %d steps (first difference at step %ld, -1 "
        "for none)", simd == NM_SIMD_AVX512 ? "avx512" : simd == NM_SIMD_AVX2 ? "avx2" : "scalar", STREAMS, STEPS, differ);
  CHECK(tails > 100, "the draws compared include the tail beyond the ziggurat's base (%ld of them)",
        tails);
  for (size_t n = 0; n < STREAMS; n++) gsl_rng_free(r[n]);
  nm_normals_free(&z);
}


/* Two threads drawing from their own halves of the streams at once (as
** step_threads.c advances the noise channels) give GSL's numbers too: the
** slow path shares nothing between streams. */
static void test_threads_apart(void)
{
  enum { DRAWS = 40000 };
  nm_normals z;
  gsl_rng *r[STREAMS];
  if (nm_normals_init(&z, STREAMS) != NM_OK) { CHECK(0, "make %d streams", STREAMS); return; }
  double scale[STREAMS], x[STREAMS] = { 0 }, y[STREAMS] = { 0 };
  for (size_t n = 0; n < STREAMS; n++) {
    r[n] = gsl_rng_alloc(gsl_rng_taus2);
    if (!r[n]) { CHECK(0, "allocate a taus2 generator"); return; }
    gsl_rng_set(r[n], seed_of(n));
    nm_normals_seed(&z, n, seed_of(n));
    scale[n] = 1.0;
  }
  int threads = 1;
#ifdef _OPENMP
#pragma omp parallel num_threads(2)
#endif
  {
    int tid = 0;
#ifdef _OPENMP
    tid = omp_get_thread_num();
#pragma omp single
    threads = omp_get_num_threads();
#endif
    size_t n0 = tid == 0 ? 0 : STREAMS / 2, n1 = tid == 0 && threads > 1 ? STREAMS / 2 : STREAMS;
    for (int k = 0; k < DRAWS; k++) nm_normals_add(&z, n0, n1, scale, y);
  }
  long differ = -1;
  for (int k = 0; k < DRAWS; k++) add_gsl(r, scale, x);
  for (size_t n = 0; n < STREAMS && differ < 0; n++)
    if (memcmp(&x[n], &y[n], sizeof x[n]) != 0) differ = (long)n;
  CHECK(differ < 0, "%d threads drawing %d times from their halves of %d streams at once: "
        "gsl_ran_gaussian_ziggurat's sums bit for bit (first differing stream %ld, -1 for none)",
        threads, DRAWS, STREAMS, differ);
  for (size_t n = 0; n < STREAMS; n++) gsl_rng_free(r[n]);
  nm_normals_free(&z);
}


int main(void)
{
  CHECK(nm_normals_fast(), "the fast path agrees with this GSL and is in use");
  for (int simd = NM_SIMD_OFF; simd <= nm_simd_level(); simd++) test_same_as_gsl(simd);
  test_threads_apart();
  return test_summary();
}
