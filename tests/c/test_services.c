/*
** test_services.c: the step's services (src/engine/system.c) that have
** vectorised forms give the plain rules' results bit for bit: the clamps,
** gathered into runs of neighbouring signals and applied by every kernel this
** processor runs (scalar, AVX2, AVX-512), against "if (x < lo) x = lo; else if
** (x > hi) x = hi" clamp by clamp, on values that include NaN, infinities,
** -0.0 and the bounds themselves; and the search for the first non-finite
** signal (scalar, AVX2, AVX-512) against isfinite() one by one; the noise
** processes' relaxation x += dt (mu - x) / tau (scalar, AVX2, AVX-512)
** against that expression channel by channel; and the count of clamped
** table lookups, on one thread and on several.
*/
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "engine/sim.h"
#include "test_main.h"

enum { SIGNALS = 203 };

/* The value of signal i in trial t: spread over the bounds and the specials. */
static double value_of(size_t i, int t)
{
  static const double special[] = { NAN, INFINITY, -INFINITY, -0.0, 0.0, -1.0, 1.0, 0.5, -0.5,
                                    DBL_MAX, -DBL_MAX, DBL_MIN, 4.9e-324 };
  size_t k = (i * 7 + (size_t)t * 13) % 29;
  if (k < sizeof special / sizeof *special) return special[k];
  return ((double)k - 14.0) / 9.0;
}


static const char *simd_name(int simd)
{
  return simd == NM_SIMD_AVX512 ? "avx512" : simd == NM_SIMD_AVX2 ? "avx2" : "scalar";
}


static void test_clamp_runs(void)
{
  nm_model *m = nm_model_new(SIGNALS, 2, 0, 0);
  if (!CHECK(m != NULL, "create a model of %d signals", SIGNALS)) return;
  /* Runs of neighbours with one range (long and short), a neighbour with
  ** another range, a signal clamped twice, a clamp out of order, a range of
  ** one point, neighbours whose bounds differ only in the sign of zero (they
  ** set different bits), and long runs the kernels cut in vectors with tails. */
  struct { long sig; double lo, hi; } clamps[] = {
    { 0, -0.5, 0.5 }, { 1, -0.5, 0.5 }, { 2, -0.5, 0.5 }, { 3, 0.0, 1.0 }, { 3, -0.25, 0.25 },
    { 10, 0.5, 0.5 }, { 9, -1.0, 0.0 }, { 11, -0.0, 0.0 }, { 12, 0.0, 1.0 }, { 13, -0.0, 1.0 },
  };
  int rc = NM_OK;
  for (size_t c = 0; c < sizeof clamps / sizeof *clamps && rc == NM_OK; c++)
    rc = nm_model_add_clamp(m, clamps[c].sig, clamps[c].lo, clamps[c].hi);
  for (long sig = 14; sig < 18 && rc == NM_OK; sig++) rc = nm_model_add_clamp(m, sig, -1.0, 0.5);
  for (long sig = 20; sig < 20 + 37 && rc == NM_OK; sig++) rc = nm_model_add_clamp(m, sig, -1.0, 1.0);
  /* Two variables of 73 lanes clamped node after node (as a network's are),
  ** then one of their signals clamped again. */
  for (long k = 0; k < 73 && rc == NM_OK; k++) {
    rc = nm_model_add_clamp(m, 57 + k, 0.0, 2.0);
    if (rc == NM_OK) rc = nm_model_add_clamp(m, 57 + 73 + k, 0.0, 2.0);
  }
  if (rc == NM_OK) rc = nm_model_add_clamp(m, 100, 0.5, 0.6);
  int status;
  nm_sim *s = rc == NM_OK ? nm_sim_new(m, 0.1, 1, &status) : NULL;
  if (!CHECK(s != NULL, "a simulation of the clamped model")) { nm_model_free(m); return; }
  int prepared = nm_sim_prepare_constraints(s);
  CHECK(prepared == NM_OK && s->n_cruns == 13, "the %zu clamps make 13 runs (got %zu)", m->n_clamps,
        s->n_cruns);
  int level = nm_simd_level();
  /* Nothing out of range: nothing moved; one value above its range (in a
  ** long run, in a short one): moved. */
  for (int simd = NM_SIMD_OFF; simd <= level; simd++) {
    s->simd = simd;
    nm_sim_prepare_constraints(s);
    int inside = 0, above = 0;
    for (size_t at = 0; at < 3; at++) {
      for (size_t i = 0; i < SIGNALS; i++) s->V[i] = 0.5 * (i < 20);
      s->V[14] = s->V[15] = s->V[16] = s->V[17] = -1.0;
      s->V[10] = 0.5;
      s->V[3] = 0.25;
      s->V[9] = s->V[11] = 0.0;
      s->V[100] = 0.55;
      if (at == 0) inside = nm_sim_constrain(s);
      if (at > 0) {
        s->V[at == 1 ? 150 : 15] = 3.0;
        above += nm_sim_constrain(s) != 0;
      }
    }
    CHECK(inside == 0 && above == 2, "kernel %s: values within their ranges are not reported as "
          "moved, a value above its range is (in a long run and a short one)",
          simd_name(simd));
    /* An infinity (a blow-up) is left for the non-finite check, in a long run and a short one. */
    s->V[150] = INFINITY;
    s->V[15] = -INFINITY;
    nm_sim_constrain(s);
    CHECK(s->V[150] == INFINITY && s->V[15] == -INFINITY, "kernel %s: an infinity stays (got %g, %g)",
          simd_name(simd), s->V[150], s->V[15]);
  }
  /* Then two clamps of one signal with ranges apart: their order decides. */
  if (nm_model_add_clamp(m, 18, 0.0, 1.0) != NM_OK || nm_model_add_clamp(m, 18, 2.0, 3.0) != NM_OK)
    CHECK(0, "add two clamps of signal 18");
  for (int simd = NM_SIMD_OFF; simd <= level; simd++) {
    long differ = -1;
    int moved_differ = 0;
    for (int t = 0; t < 40; t++) {
      double want[SIGNALS];
      int want_moved = 0;
      for (size_t i = 0; i < SIGNALS; i++) want[i] = s->V[i] = value_of(i, t);
      /* (an infinity is a blow-up, which the step's check reports: it stays) */
      for (size_t c = 0; c < m->n_clamps; c++) {
        double *x = &want[m->clamps[c].sig];
        if (*x < m->clamps[c].lo && *x > -INFINITY) { *x = m->clamps[c].lo; want_moved = 1; }
        else if (*x > m->clamps[c].hi && *x < INFINITY) { *x = m->clamps[c].hi; want_moved = 1; }
      }
      s->simd = simd;
      nm_sim_prepare_constraints(s);
      int moved = nm_sim_constrain(s);
      if (memcmp(want, s->V, sizeof want) != 0 && differ < 0) differ = t;
      if (!moved != !want_moved) moved_differ = 1;
    }
    CHECK(s->vector_clamps == (simd >= NM_SIMD_AVX2), "kernel %s: the clamps go %s",
          simd_name(simd), simd ? "by runs" : "one by one");
    CHECK(differ < 0 && !moved_differ, "kernel %s: the clamps in runs give the clamp-by-clamp values "
          "bit for bit and say when they moved one (first trial that differs: %ld)",
          simd_name(simd), differ);
  }
  nm_sim_free(s);
  nm_model_free(m);
}


/* Whether nm_sim_first_nonfinite finds every NaN and infinity placed at each
** signal in turn, over the whole range and over the rest after it (ranges long
** and short), and none among extreme finite values: -1, or the first place wrong. */
static long first_wrong_place(nm_sim *s)
{
  static const double bad[] = { NAN, -NAN, INFINITY, -INFINITY };
  static const double good[] = { DBL_MAX, -DBL_MAX, 0.0, -0.0, 4.9e-324, 1.0 };
  for (size_t i = 0; i < SIGNALS; i++) s->V[i] = good[i % 6];
  if (nm_sim_first_nonfinite(s, 0, SIGNALS) != -1) return 0;
  for (size_t at = 0; at < SIGNALS; at++)
    for (size_t b = 0; b < 4; b++) {
      s->V[at] = bad[b];
      if (at + 5 < SIGNALS) s->V[at + 5] = bad[3 - b];    /* a later one does not count */
      long later = at + 5 < SIGNALS ? (long)at + 5 : -1;
      if (nm_sim_first_nonfinite(s, 0, SIGNALS) != (long)at ||
          nm_sim_first_nonfinite(s, at + 1, SIGNALS) != later)
        return (long)at;
      s->V[at] = good[at % 6];
      if (at + 5 < SIGNALS) s->V[at + 5] = good[(at + 5) % 6];
    }
  return -1;
}


static void test_first_nonfinite(void)
{
  nm_model *m = nm_model_new(SIGNALS, 0, 0, 0);
  int status;
  nm_sim *s = m ? nm_sim_new(m, 0.1, 1, &status) : NULL;
  if (!CHECK(s != NULL, "a simulation of %d signals", SIGNALS)) { nm_model_free(m); return; }
  for (int simd = NM_SIMD_OFF; simd <= nm_simd_level(); simd++) {
    s->simd = simd;
    long wrong = first_wrong_place(s);
    CHECK(wrong < 0, "kernel %s: nm_sim_first_nonfinite finds the first NaN or infinity at every "
          "place (ranges long and short) and none among the largest, smallest and signed-zero "
          "finite values (first wrong place: %ld)",
          simd_name(simd), wrong);
  }
  nm_sim_free(s);
  nm_model_free(m);
}


/* The relaxation of the noise processes (nm_sim_advance_noise_range without
** draws: sigma 0) by every kernel this processor runs gives x + dt (mu - x) /
** tau channel by channel, bit for bit, over ranges long and short (the
** vector passes' tails) and on values that include NaN, infinities, -0.0
** and tau = 0. */
static void test_noise_relaxation(void)
{
  enum { CHANNELS = 203 };
  /* parameters: mu of channel n at slot n, tau at CHANNELS + n, one sigma (0) at 2 CHANNELS */
  nm_model *m = nm_model_new(1, 0, 2 * CHANNELS + 1, CHANNELS);
  int rc = m ? NM_OK : NM_ENOMEM;
  for (long n = 0; n < CHANNELS && rc == NM_OK; n++)
    rc = nm_model_add_noise(m, n, n, 2 * CHANNELS, CHANNELS + n, 0.0);
  int status;
  nm_sim *s = rc == NM_OK ? nm_sim_new(m, 0.1, 1, &status) : NULL;
  if (!CHECK(s != NULL, "a simulation of %d noise processes", CHANNELS)) { nm_model_free(m); return; }
  static const struct { size_t n0, n1; } ranges[] = { { 0, CHANNELS }, { 3, 40 }, { 17, 18 }, { 5, 20 },
                                                      { 100, 131 } };
  for (int simd = NM_SIMD_OFF; simd <= nm_simd_level(); simd++) {
    s->simd = simd;
    long differ = -1;
    for (int t = 0; t < 20; t++) {
      for (size_t n = 0; n < CHANNELS; n++) {
        nm_model_set_param(m, n, value_of(n, t));
        nm_model_set_param(m, CHANNELS + n, value_of(n + 3, t + 1));
      }
      nm_model_set_param(m, 2 * CHANNELS, 0.0);
      nm_sim_noise_params(s);
      for (size_t q = 0; q < sizeof ranges / sizeof *ranges; q++) {
        double want[CHANNELS];
        for (size_t n = 0; n < CHANNELS; n++) want[n] = s->noise_x[n] = value_of(n + 7, t + 2);
        for (size_t n = ranges[q].n0; n < ranges[q].n1; n++)
          want[n] += s->dt * (s->nz_mu[n] - want[n]) / s->nz_tau[n];
        nm_sim_advance_noise_range(s, &s->rng, s->noise_x, ranges[q].n0, ranges[q].n1);
        if (memcmp(want, s->noise_x, sizeof want) != 0 && differ < 0) differ = t;
      }
    }
    CHECK(differ < 0, "kernel %s: the noise processes relax as x + dt (mu - x) / tau, channel by "
          "channel, bit for bit (first trial that differs: %ld)", simd_name(simd), differ);
  }
  nm_sim_free(s);
  nm_model_free(m);
}


/* The count of lookups outside a table (table2d.c): exact, with the first
** point, from one thread (no lock) and from threads counting together
** inside a parallel region (under the lock: no count lost). */
static void test_count_clamped(void)
{
  enum { CALLS = 250000, THREADS = 4 };
  nm_table2d t = { 0 };
  nm_table2d_count_clamped(&t, 0, 9.0, 9.0);
  nm_table2d_count_clamped(&t, 3, 1.5, -2.5);
  nm_table2d_count_clamped(&t, 2, 7.0, 8.0);
  CHECK(t.clamped == 5 && t.clamped_row == 1.5 && t.clamped_col == -2.5,
        "one thread: clamped lookups counted (5: %lu) with the first point (1.5, -2.5: %g, %g)",
        t.clamped, t.clamped_row, t.clamped_col);
  int threads = 1;
#ifdef _OPENMP
#pragma omp parallel num_threads(THREADS)
  {
#pragma omp single
    threads = omp_get_num_threads();         /* (single ends at a barrier: they start together) */
    for (int k = 0; k < CALLS; k++) nm_table2d_count_clamped(&t, 1, 4.0, 4.0);
  }
#else
  for (int k = 0; k < CALLS; k++) nm_table2d_count_clamped(&t, 1, 4.0, 4.0);
#endif
  CHECK(t.clamped == 5 + (unsigned long)threads * CALLS && t.clamped_row == 1.5,
        "%d threads counting %d lookups each at once: none lost (%lu of %lu), the first point kept",
        threads, CALLS, t.clamped, 5 + (unsigned long)threads * CALLS);
}


int main(void)
{
  test_clamp_runs();
  test_first_nonfinite();
  test_noise_relaxation();
  test_count_clamped();
  return test_summary();
}
