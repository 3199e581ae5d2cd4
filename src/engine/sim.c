/*
** sim.c: a simulation and its run.  nm_sim_new lays out the state, the delay
** history and the noise streams; nm_sim_run checks the run's options against
** the model and the integrator's flags (nm_stepper: the table of integrators
** lives here) and drives the integrator.  One step is: inputs (time series,
** noise) for the step, the integrator's update (coupling sums, sync programs
** and right-hand sides at its stages), post-step constraints, noise update,
** algebraic outputs, history push, checks and recording.  Every step but the
** integrator's is a service of system.c; large Euler runs go to step_threads.c,
** a single node's Euler run to system.c's loop (nm_sim_run_euler).
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"
#include "jit.h"


static size_t pow2_at_least(size_t n)
{
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}


/* Every signal a coupling sum reads, and every signal a program reads with a
** positive delay, gets a column of the history ring, in signal order (the
** lanes of a variable get neighbouring columns, so threads that push the
** history of their lanes write apart); returns the number of columns. */
static size_t mark_columns(const nm_model *m, long *column)
{
  size_t nv = m->n_state + m->n_aux, width = 0;
  for (size_t i = 0; i < nv; i++) column[i] = -1;
  for (size_t i = 0; i < m->n_couplings; i++) {
    const nm_coupling *c = &m->couplings[i];
    for (size_t k = 0; k < c->row_ptr[c->n_rows]; k++) column[c->src[k]] = 0;
  }
  for (int st = 0; st < 3; st++)
    for (size_t i = 0; i < m->n_progs[st]; i++) {
      const nm_program *p = m->progs[st][i];
      for (size_t k = 0; k < p->n_ins; k++)
        if (p->code[k].op == NM_OP_HIST && p->code[k].delay > 0)
          for (size_t l = 0; l < p->lanes; l++) column[p->code[k].slot + (long)l] = 0;
    }
  for (size_t i = 0; i < nv; i++)
    if (column[i] >= 0) column[i] = (long)width++;
  return width;
}


/* Bytes of a ring of `width` columns holding delays up to `max_delay` steps
** (the values twice over, the derivatives once), its depth in *depth;
** SIZE_MAX when that many bytes cannot be counted. */
static size_t ring_bytes(size_t width, size_t max_delay, size_t *depth)
{
  if (max_delay > SIZE_MAX / 8) return SIZE_MAX;
  *depth = pow2_at_least(max_delay + 2);
  if (width && *depth > SIZE_MAX / (3 * sizeof(double)) / width) return SIZE_MAX;
  return 3 * sizeof(double) * width * *depth;
}


/* The runs of dst[0 .. n-1] that go up by one (dst[k] = dst[k0] + k - k0):
** run r takes positions col .. col+n-1 to sig .. sig+n-1 (nm_track_run).
** Writes at most n runs into runs; returns how many. */
static size_t make_runs(const long *dst, size_t n, nm_track_run *runs)
{
  size_t count = 0;
  for (size_t k = 0; k < n; k++) {
    nm_track_run *last = count ? &runs[count - 1] : NULL;
    if (last && dst[k] == last->sig + (long)last->n) last->n++;
    else runs[count++] = (nm_track_run){ k, 1, dst[k] };
  }
  return count;
}


/* A history of at most this many bytes holds the longest delay from the
** start; a larger one holds what the runs read (nm_sim_reserve), so that a
** short run of a model with long delays does not allocate them all. */
#define EAGER_HISTORY ((size_t)16 << 20)

/* The history holds, beyond the runs' end, this many steps more than they
** read: a sum going ahead computes up to NM_AHEAD_MAX steps past a run's
** last (coupling_ahead.c), which must still read before t = 0. */
#define REACH_MARGIN (NM_AHEAD_MAX + 2)

/* The longest delay steps 0 .. n_steps - 1 beyond `step` read, with the
** margin (nm_sim_reserve's rule): the model's `longest`, or fewer. */
static size_t reach_for(size_t longest, size_t step, size_t n_steps)
{
  if (n_steps < longest && step + n_steps + REACH_MARGIN < longest) return step + n_steps + REACH_MARGIN;
  return longest;
}


/* The longest delay a history of `width` columns holds for the runs up to
** step `step` + n_steps (the model's longest delay `longest` steps): the one
** rule that setup_history, nm_sim_reserve and the estimates of a run's
** memory (nm_history_ring_bytes, nm_model_run_history_bytes) follow.  A ring
** of at most EAGER_HISTORY bytes holds `longest` from the start; a larger one
** what the runs read (reach_for; the sums' windows need the margin's few
** steps: coupling_ahead.c). */
static size_t history_reach(size_t width, size_t longest, size_t step, size_t n_steps)
{
  size_t depth, bytes = ring_bytes(width, longest, &depth);
  if (bytes != SIZE_MAX && bytes <= EAGER_HISTORY) return longest;
  return reach_for(longest, step, n_steps);
}


static int setup_history(nm_sim *s)
{
  nm_model *m = s->m;
  s->column = malloc((s->nv + 1) * sizeof *s->column);
  if (!s->column) return NM_ENOMEM;
  s->width = mark_columns(m, s->column);
  s->reach = history_reach(s->width, nm_model_max_delay(m), 0, 0);   /* nm_sim_reserve grows it */
  size_t bytes = ring_bytes(s->width, s->reach, &s->depth);
  s->tracked = malloc((s->width + 1) * sizeof *s->tracked);
  s->ring = malloc((2 * s->width * s->depth + 1) * sizeof *s->ring);
  s->dring = calloc(s->width * s->depth + 1, sizeof *s->dring);
  if (!s->tracked || !s->ring || !s->dring)
    return nm_model_fail(m, NM_ENOMEM, "the delay history of %zu signals over %zu steps needs %zu "
                         "bytes, which cannot be allocated", s->width, s->depth, bytes);
  size_t n_dcols = 0;
  for (size_t i = 0; i < s->nv; i++)
    if (s->column[i] >= 0) {
      s->tracked[s->column[i]] = (long)i;
      n_dcols += i < s->ns;
    }
  /* Columns are in signal order: runs of neighbouring signals (a variable's lanes). */
  s->truns = malloc((s->width + 1) * sizeof *s->truns);
  if (!s->truns) return NM_ENOMEM;
  s->n_truns = make_runs(s->tracked, s->width, s->truns);
  if (m->n_wraps) {
    s->period = calloc(s->width + 1, sizeof *s->period);
    if (!s->period) return NM_ENOMEM;
    for (size_t i = 0; i < m->n_wraps; i++)
      if (s->column[m->wraps[i].sig] >= 0) s->period[s->column[m->wraps[i].sig]] = m->wraps[i].period;
  }
  /* The history before t = 0 is constant: the initial values. */
  for (size_t r = 0; r < 2 * s->depth; r++)
    for (size_t c = 0; c < s->width; c++) s->ring[r * s->width + c] = s->V[s->tracked[c]];
  s->hist.ring = s->ring;
  s->hist.width = s->width;
  s->hist.mask = s->depth - 1;
  s->hist.column = s->column;
  s->hist.dring = s->dring;
  s->hist.n_dcols = n_dcols;
  s->hist.hermite_from = SIZE_MAX;
  s->hist.period = s->period;
  s->hist.dt = s->dt;
  s->hist.reach = s->reach;
  return nm_couplings_prepare(s);
}


size_t nm_history_ring_bytes(size_t width, size_t longest, size_t n_steps)
{
  size_t depth;
  return ring_bytes(width, history_reach(width, longest, 0, n_steps), &depth);
}


size_t nm_model_run_history_bytes(const nm_model *m, size_t n_steps, size_t *ring_out)
{
  long *column = malloc((m->n_state + m->n_aux + 1) * sizeof *column);
  if (!column) return SIZE_MAX;
  size_t width = mark_columns(m, column), depth;
  size_t ring = ring_bytes(width, history_reach(width, nm_model_max_delay(m), 0, n_steps), &depth);
  if (ring_out) *ring_out = ring;
  /* the copy the sums going ahead stage (coupling_ahead.c make_sring), for
  ** the kernels a new simulation would choose (nm_sim_new) */
  int gather;
  nm_simd_choose(NULL, &gather, NULL);
  size_t staged = ring == SIZE_MAX ? 0
                 : nm_ahead_bytes(nm_ahead_columns(m, column, width, depth, gather,
                                                   nm_simd_stages(nm_simd_diffusive(gather)), NULL), depth);
  free(column);
  if (ring == SIZE_MAX || staged == SIZE_MAX || staged > SIZE_MAX - ring) return SIZE_MAX;
  return ring + staged;
}


size_t nm_model_run_threads_bytes(const nm_model *m, size_t n_steps, int threads)
{
  long *column = malloc((m->n_state + m->n_aux + 1) * sizeof *column);
  if (!column) return SIZE_MAX;
  size_t width = mark_columns(m, column), depth;
  free(column);
  size_t ring = ring_bytes(width, history_reach(width, nm_model_max_delay(m), 0, n_steps), &depth);
  return ring == SIZE_MAX ? 0 : nm_thread_rings_bytes(width, depth, threads);
}


size_t nm_model_history_bytes(const nm_model *m)
{
  return nm_model_run_history_bytes(m, SIZE_MAX, NULL);
}


size_t nm_model_run_history_peak(const nm_model *m, size_t done, size_t n_steps, size_t reach,
                                 size_t kept)
{
  size_t ring, bytes = nm_model_run_history_bytes(m, n_steps, &ring);
  if (bytes == SIZE_MAX) return SIZE_MAX;
  long *column = malloc((m->n_state + m->n_aux + 1) * sizeof *column);
  if (!column) return SIZE_MAX;
  size_t width = mark_columns(m, column), longest = nm_model_max_delay(m), depth;
  free(column);
  if (reach == SIZE_MAX) {          /* the ring after runs to `done` (setup_history, nm_sim_reserve) */
    reach = history_reach(width, longest, 0, done);
    kept = ring_bytes(width, reach, &depth);
    if (kept == SIZE_MAX) return SIZE_MAX;
  }
  /* it does not grow, or its reach grows within the rows it has (nm_sim_reserve keeps it) */
  size_t need = history_reach(width, longest, 0, n_steps), old_depth, new_depth;
  if (need <= reach || (ring_bytes(width, need, &new_depth) != SIZE_MAX
                        && ring_bytes(width, reach, &old_depth) != SIZE_MAX && new_depth == old_depth))
    return bytes;
  return kept > SIZE_MAX - bytes ? SIZE_MAX : bytes + kept;
}


size_t nm_sim_history_kept(const nm_sim *s, size_t *reach)
{
  if (reach) *reach = s->reach;
  return 3 * s->width * s->depth * sizeof *s->ring + nm_sim_thread_rings_bytes(s);
}


size_t nm_sim_history_bytes(const nm_sim *s)
{
  size_t bytes = 3 * s->width * s->depth * sizeof *s->ring;      /* ring and dring (ring_bytes) */
  if (s->sring) bytes += nm_ahead_bytes(s->sring_n, s->depth);
  return bytes + nm_sim_thread_rings_bytes(s);
}


/* Points s and its history view at ring/dring of `depth` rows holding
** delays up to `reach` steps (nm_sim_reserve: the grown ring, or the old one
** given back). */
static void use_ring(nm_sim *s, double *ring, double *dring, size_t depth, size_t reach)
{
  s->ring = ring;
  s->dring = dring;
  s->depth = depth;
  s->reach = reach;
  s->hist.ring = ring;
  s->hist.dring = dring;
  s->hist.mask = depth - 1;
  s->hist.reach = reach;
}


/* Points s at ring/dring of `depth` rows holding delays up to `reach` steps
** and makes the coupling sums again for them (their offsets, windows and
** staged copy follow the ring: the old staged copy goes first, it is not
** needed to give the old ring back): NM_OK, s's old ring then the caller's
** to free.  When the sums cannot be made, a new ring given (not s's own) is
** freed, s gets its old ring back with its sums as they were, and the reason
** is said (s unusable when even those cannot be made). */
static int move_ring(nm_sim *s, double *ring, double *dring, size_t depth, size_t reach)
{
  double *old_ring = s->ring, *old_dring = s->dring;
  size_t old_depth = s->depth, old_reach = s->reach;
  nm_couplings_free(s);
  use_ring(s, ring, dring, depth, reach);
  s->err.why[0] = 0;
  int rc = nm_couplings_prepare(s);
  if (rc == NM_OK) return NM_OK;
  char why[sizeof s->err.why];
  snprintf(why, sizeof why, "%s", s->err.why[0] ? s->err.why : "the coupling sums cannot be allocated");
  nm_couplings_free(s);
  if (ring != old_ring) {
    free(ring);
    free(dring);
  }
  use_ring(s, old_ring, old_dring, old_depth, old_reach);
  if (nm_couplings_prepare(s) != NM_OK) {
    s->unusable = 1;
    return nm_sim_fail(s, rc, "%s; the old history's sums could not be made again either", why);
  }
  return nm_sim_fail(s, rc, "%s (the simulation keeps its history of %zu steps)", why, old_depth);
}


/* Grows the history to hold what runs of n_steps more read.  All or
** nothing: the old ring is freed only once the new one and the coupling
** sums' staged copy of it are made, so that when memory runs out the
** simulation keeps its history as it was (and may run on within it) and the
** reason says so.  At its peak it holds the old ring, the new one and the new
** staged copy at once (nm_model_run_history_peak counts them).  A reach
** that grows within the ring's rows keeps the ring (and the threads' copies
** of it), making only the sums again. */
int nm_sim_reserve(nm_sim *s, size_t n_steps)
{
  if (s->unusable)
    return nm_sim_fail(s, NM_ENOMEM, "the delay history could not be grown for an earlier run: "
                       "start a fresh simulation");
  size_t need = history_reach(s->width, nm_model_max_delay(s->m), s->step, n_steps);
  if (need <= s->reach) return NM_OK;
  /* The ring has not wrapped (its reach exceeds every step so far): it holds
  ** every step since t = 0, and its row of t = -1 the initial values. */
  size_t depth, w = s->width, bytes = ring_bytes(w, need, &depth);
  if (bytes == SIZE_MAX)
    return nm_sim_fail(s, NM_ENOMEM, "the delay history of %zu signals over %zu steps cannot be "
                       "counted in bytes", w, need);
  /* Its rows past the step are still the initial values, as a copy's would be. */
  if (depth == s->depth) return move_ring(s, s->ring, s->dring, depth, need);
  double *ring = malloc((2 * w * depth + 1) * sizeof *ring);
  double *dring = calloc(w * depth + 1, sizeof *dring);
  if (!ring || !dring) {
    free(ring);
    free(dring);
    return nm_sim_fail(s, NM_ENOMEM, "the delay history of %zu signals over %zu steps needs %zu "
                       "bytes, which cannot be allocated (the simulation keeps its history of "
                       "%zu steps)", w, depth, bytes, s->depth);
  }
  size_t om = s->depth - 1, nmask = depth - 1;
  for (size_t r = 0; r < 2 * depth; r++) memcpy(ring + r * w, s->ring + om * w, w * sizeof *ring);
  for (size_t j = 0; j <= s->step; j++) {
    memcpy(ring + (j & nmask) * w, s->ring + (j & om) * w, w * sizeof *ring);
    memcpy(ring + ((j & nmask) + depth) * w, s->ring + (j & om) * w, w * sizeof *ring);
    memcpy(dring + (j & nmask) * w, s->dring + (j & om) * w, w * sizeof *dring);
  }
  double *old_ring = s->ring, *old_dring = s->dring;
  int rc = move_ring(s, ring, dring, depth, need);
  if (rc != NM_OK) return rc;
  free(old_ring);
  free(old_dring);
  for (int t = 0; t < NM_MAX_THREADS; t++) {  /* the threads' copies: made again at their size */
    free(s->tring[t]);
    s->tring[t] = NULL;
  }
  return NM_OK;
}


/* Seeds stream i from the user seed so that each stream is independent and
** does not depend on how many other streams exist. */
unsigned long nm_noise_stream_seed(unsigned long seed, size_t i)
{
  uint64_t z = (uint64_t)seed * 0x9E3779B97F4A7C15ULL + (uint64_t)(i + 1) * 0xBF58476D1CE4E5B9ULL;
  z ^= z >> 31; z *= 0x94D049BB133111EBULL; z ^= z >> 29;
  return (unsigned long)(z & 0xFFFFFFFFUL);
}



size_t nm_model_n_noises(const nm_model *m) { return m->n_noises; }


/* qsort's order of noise processes: by input, then by place in the model's
** list (two on one input keep their order: the later one's value stays). */
static int by_input_then_place(const void *pa, const void *pb)
{
  const long *a = pa, *b = pb;
  if (a[0] != b[0]) return a[0] < b[0] ? -1 : 1;
  return a[1] < b[1] ? -1 : a[1] > b[1];
}


/* The noise channels (sim.h): the processes sorted by input, in runs. */
static int order_noises(nm_sim *s)
{
  const nm_model *m = s->m;
  long (*key)[2] = malloc((m->n_noises + 1) * sizeof *key);
  if (!key) return NM_ENOMEM;
  for (size_t n = 0; n < m->n_noises; n++) {
    key[n][0] = m->noises[n].dst;
    key[n][1] = (long)n;
  }
  if (m->n_noises) qsort(key, m->n_noises, sizeof *key, by_input_then_place);
  for (size_t p = 0; p < m->n_noises; p++) {
    s->nz_dst[p] = key[p][0];
    s->nz_model[p] = (size_t)key[p][1];
  }
  free(key);
  s->n_nz_runs = make_runs(s->nz_dst, m->n_noises, s->nz_runs);
  return NM_OK;
}


nm_sim *nm_sim_new(nm_model *m, double dt, unsigned long seed, int *status)
{
  return nm_sim_new_seeded(m, dt, seed, NULL, status);
}


nm_sim *nm_sim_new_seeded(nm_model *m, double dt, unsigned long seed, const unsigned long *streams,
                          int *status)
{
  int rc = NM_ENOMEM;
  nm_error_clear(&m->err);
  if (!(dt > 0 && dt < INFINITY)) {
    if (status) *status = NM_EINVAL;
    nm_model_fail(m, NM_EINVAL, "dt must be a positive finite number (ms), got %g", nm_shown(dt));
    return NULL;
  }
  int simd, coupling_simd;   /* simd.c's one reading for every kernel of this simulation */
  if (nm_simd_choose(&simd, &coupling_simd, &m->err) != NM_OK) {   /* a value naming no set */
    if (status) *status = NM_EINVAL;
    return NULL;
  }
  nm_sim *s = calloc(1, sizeof *s);
  if (!s) goto fail;
  s->m = m;
  s->dt = dt;
  s->nv = m->n_state + m->n_aux;
  s->ns = m->n_state;
  s->V = malloc((s->nv + 1) * sizeof(double));
  s->stage = malloc((s->nv + 1) * sizeof(double));
  s->U = calloc(m->n_input + 1, sizeof(double));
  s->D = calloc(s->ns + 1, sizeof(double));
  for (int i = 0; i < 4; i++) s->k[i] = calloc(s->ns + 1, sizeof(double));
  s->deriv_method = -1;
  s->simd = simd;
  s->coupling_simd = coupling_simd;
  s->diffusive_simd = nm_simd_diffusive(coupling_simd);
  s->stage_diffusive = nm_simd_stages(s->diffusive_simd);
  s->noise_x = calloc(m->n_noises + 1, sizeof *s->noise_x);
  s->nz_mu = calloc(4 * (m->n_noises + 1), sizeof *s->nz_mu);
  s->nz_dst = malloc((m->n_noises + 1) * sizeof *s->nz_dst);
  s->nz_model = malloc((m->n_noises + 1) * sizeof *s->nz_model);
  s->nz_runs = malloc((m->n_noises + 1) * sizeof *s->nz_runs);
  s->noise_version = (unsigned long)-1;
  if (s->nz_mu) {
    s->nz_tau = s->nz_mu + (m->n_noises + 1);
    s->nz_scale = s->nz_tau + (m->n_noises + 1);
    s->nz_old = s->nz_scale + (m->n_noises + 1);
  }
  if (!s->V || !s->stage || !s->U || !s->D || !s->k[0] || !s->k[1] || !s->k[2] || !s->k[3] ||
      nm_normals_init(&s->rng, m->n_noises) != NM_OK || !s->noise_x || !s->nz_mu || !s->nz_dst ||
      !s->nz_model || !s->nz_runs || order_noises(s) != NM_OK)
    goto fail;
  memcpy(s->V, m->v0, s->nv * sizeof(double));
  for (size_t p = 0; p < m->n_noises; p++) {
    size_t i = s->nz_model[p];
    s->has_white |= m->noises[i].white;
    /* taus2: a small state (a few words, not MT19937's 2.5 kB), so that
    ** hundreds of streams stay in cache. */
    nm_normals_seed(&s->rng, p, streams ? streams[i] : nm_noise_stream_seed(seed, i));
    /* A NaN start value means: start at the process's mean. */
    s->noise_x[p] = isnan(m->noises[i].x0) ? m->P[m->noises[i].mu] : m->noises[i].x0;
    if (m->noises[i].white) s->noise_x[p] = nm_sim_white_sample(s, &s->rng, p);
  }
  rc = setup_history(s);
  if (rc != NM_OK) goto fail;
  /* Algebraic outputs read after a step are defined from the start. */
  nm_eval_ctx ctx = { s->V, m->P, s->U, s->D, 0.0, &s->hist, m->tables };
  for (size_t i = 0; i < m->n_progs[NM_STAGE_AFTER]; i++)
    nm_program_eval(m->progs[NM_STAGE_AFTER][i], &ctx);
  if (status) *status = NM_OK;
  return s;
fail:;
  /* (a smaller part failing after the history was made: the history named too) */
  size_t history = s && s->ring ? 3 * s->width * s->depth * sizeof *s->ring : 0;
  size_t depth = history ? s->depth : 0;   /* its steps: no more than the runs read (setup_history) */
  if (s && s->err.why[0] && !m->err.why[0]) nm_model_fail(m, rc, "%s", s->err.why);
  nm_sim_free(s);
  if (!m->err.why[0] && history)
    nm_model_fail(m, rc, "a simulation of %zu signals, %zu inputs and %zu noise processes cannot "
                  "be allocated once its delay history has taken %zu bytes (%zu steps)",
                  m->n_state + m->n_aux, m->n_input, m->n_noises, history, depth);
  else if (!m->err.why[0])
    nm_model_fail(m, rc, "a simulation of %zu signals, %zu inputs and %zu noise processes cannot "
                  "be allocated", m->n_state + m->n_aux, m->n_input, m->n_noises);
  if (status) *status = rc;
  return NULL;
}


void nm_sim_free(nm_sim *s)
{
  if (!s) return;
  nm_normals_free(&s->rng);
  free(s->noise_x);
  free(s->nz_mu);
  free(s->nz_dst);
  free(s->nz_model);
  free(s->nz_runs);
  free(s->V);
  free(s->stage);
  free(s->U);
  free(s->D);
  for (int i = 0; i < 4; i++) free(s->k[i]);
  nm_couplings_free(s);
  free(s->ring);
  for (int t = 0; t < NM_MAX_THREADS; t++) {
    free(s->tring[t]);
    nm_normals_free(&s->trng[t]);
    free(s->tx[t]);
  }
  free(s->xrow);
  free(s->nz_segs);
  free(s->dring);
  free(s->period);
  free(s->column);
  free(s->tracked);
  free(s->truns);
  free(s->cruns);
  free(s);
}


void nm_sim_failure(const nm_sim *s, double *t, long *sig)
{
  *t = s->err.t;
  *sig = s->err.signal;
}


/* ---------------------------------------------------------------------
** Integrators, recording and the run loop
** ------------------------------------------------------------------- */

/* The integrators, in the order of enum nm_method: the one list of them. */
static const nm_stepper_type *const steppers[NM_METHOD_COUNT] = {
  &nm_step_euler, &nm_step_heun, &nm_step_rk4, &nm_step_rkf45, &nm_step_rk8pd, &nm_step_msbdf
};


const nm_stepper_type *nm_stepper(int method)
{
  return method >= 0 && method < NM_METHOD_COUNT ? steppers[method] : NULL;
}


/* Lanes a step needs before its work is worth sharing among threads. */
#define THREADS_MIN_LANES 256


/* Threads pay off when a step has enough lanes to share. */
static int threads_for(const nm_model *m, int requested, const nm_stepper_type *T)
{
  if (!T->threads || m->n_callbacks) return 1;
  if (requested > 0) return requested < NM_MAX_THREADS ? requested : NM_MAX_THREADS;
  size_t lanes = 0;
  for (size_t i = 0; i < m->n_progs[NM_STAGE_RHS]; i++) lanes += m->progs[NM_STAGE_RHS][i]->lanes;
  return lanes >= THREADS_MIN_LANES ? nm_sim_threads_available() : 1;
}


int nm_model_run_threads(const nm_model *m, int method, int requested)
{
  const nm_stepper_type *T = nm_stepper(method);
  return T ? threads_for(m, requested, T) : 1;
}


const char *nm_sim_error(const nm_sim *s, int status)
{
  return nm_error_text(&s->err, status);
}


static int check_opts(nm_sim *s, const nm_run_opts *o)
{
  if (o->n_steps < 0) return nm_sim_fail(s, NM_EINVAL, "n_steps is negative (%ld)", o->n_steps);
  if (o->every < 1) return nm_sim_fail(s, NM_EINVAL, "every must be at least 1 (got %ld)", o->every);
  const nm_stepper_type *T = nm_stepper(o->method);
  if (!T) return nm_sim_fail(s, NM_EINVAL, "no method %d", o->method);
  if (T->adaptive && !T->reset)           /* run_serial counts on it */
    return nm_sim_fail(s, NM_EINVAL, "the adaptive integrator %s has no reset", T->name);
  if (!(o->rtol >= 0 && o->rtol < INFINITY) || !(o->atol >= 0 && o->atol < INFINITY))
    return nm_sim_fail(s, NM_EINVAL, "rtol and atol must be finite and not negative (got %g, %g)",
                       nm_shown(o->rtol), nm_shown(o->atol));
  if (T->adaptive && !(o->rtol > 0 && o->atol > 0))
    return nm_sim_fail(s, NM_EINVAL, "the adaptive integrator %s needs rtol and atol above 0 "
                       "(got %g, %g)", T->name, o->rtol, o->atol);
  if (o->threads < 0 || o->threads > NM_MAX_THREADS)
    return nm_sim_fail(s, NM_EINVAL, "threads must be 0 (automatic) to %d (got %d)",
                       NM_MAX_THREADS, o->threads);
  for (size_t c = 0; c < o->n_record; c++)
    if (o->record[c] < 0 || (size_t)o->record[c] >= s->nv)
      return nm_sim_fail(s, NM_EINVAL, "recorded signal %ld does not exist (the model has %zu)",
                         o->record[c], s->nv);
  for (size_t c = 0; o->feed_sink && c < o->n_feed; c++)
    if (o->feed[c] < 0 || (size_t)o->feed[c] >= s->nv)
      return nm_sim_fail(s, NM_EINVAL, "fed signal %ld does not exist (the model has %zu)",
                         o->feed[c], s->nv);
  for (size_t d = 0; d < o->n_drivers; d++) {
    if (o->drivers[d].slot < 0 || (size_t)o->drivers[d].slot >= s->m->n_param)
      return nm_sim_fail(s, NM_EINVAL, "driver %zu: parameter slot %ld does not exist", d,
                         o->drivers[d].slot);
    if (o->drivers[d].n < (size_t)(o->n_steps > 0 ? o->n_steps : 1))
      return nm_sim_fail(s, NM_EINVAL, "driver %zu has %zu samples, the run needs %ld", d,
                         o->drivers[d].n, o->n_steps);
  }
  size_t first = s->step > 0 ? s->step - 1 : 0;
  for (size_t d = 0; d < o->n_stims; d++) {
    const nm_stim_driver *sd = &o->stims[d];
    size_t stride;
    /* A stimulus already rendered past this run's first sample belongs to
    ** another simulation. */
    if (!sd->stim || !nm_stim_at(sd->stim, first, &stride))
      return nm_sim_fail(s, NM_EINVAL, "stimulus %zu is missing or already past sample %zu", d,
                         first);
    for (size_t j = 0; j < sd->n_targets; j++) {
      size_t limit = sd->kind[j] == NM_TARGET_PARAM ? s->m->n_param : s->m->n_input;
      if (sd->slot[j] < 0 || (size_t)sd->slot[j] >= limit)
        return nm_sim_fail(s, NM_EINVAL, "stimulus %zu: target slot %ld does not exist", d,
                           sd->slot[j]);
      if (sd->channel[j] >= nm_stim_channels(sd->stim))
        return nm_sim_fail(s, NM_EINVAL, "stimulus %zu has %zu channels, not %zu", d,
                           nm_stim_channels(sd->stim), sd->channel[j] + 1);
    }
  }
  /* What the integrator cannot take (adaptive steppers: delays, inputs that
  ** vary in time, and random inputs, which have no derivative an error
  ** estimate could control). */
  if (!T->delays && nm_model_max_delay(s->m) > 0)
    return nm_sim_fail(s, NM_EINVAL, "integrator '%s' cannot integrate delays", T->name);
  if (!T->inputs && (o->n_drivers > 0 || o->n_stims > 0))
    return nm_sim_fail(s, NM_EINVAL, "integrator '%s' cannot take time-varying inputs", T->name);
  for (size_t n = 0; !T->noise && n < s->m->n_noises; n++)
    if (s->m->P[s->m->noises[n].sigma] != 0.0)
      return nm_sim_fail(s, NM_EINVAL, "integrator '%s' cannot integrate noise (process %zu has "
                         "sigma %g)", T->name, n, s->m->P[s->m->noises[n].sigma]);
  return NM_OK;
}


/* Steps i0 .. i1-1 of a run on this thread, by integrator T (workspace ws). */
static int run_serial(nm_sim *s, const nm_run_opts *o, const nm_stepper_type *T, void *ws,
                      long i0, long i1, nm_sampler *r)
{
  if (T == &nm_step_euler && s->ns <= NM_EULER_WHOLE) return nm_sim_run_euler(s, o, i0, i1, r);
  nm_run_marks k = nm_run_marks_of(s, o);
  int rc = NM_OK;
  for (long i = i0; i < i1 && rc == NM_OK; i++) {
    nm_jit_poll(s->m);                   /* native code compiled meanwhile */
    nm_sim_step_inputs(s, o, i);
    rc = T->apply(ws, s);
    if (rc != NM_OK) break;
    int finite;
    if (T->reset) {
      /* Clamps, wraps and noise act after every step (an adaptive stepper's:
      ** at every dt, its own steps taken within); a stepper that remembers
      ** the solution restarts from the new state when they moved it. */
      int moved = nm_sim_constrain(s);
      moved |= nm_sim_advance_noise(s);
      if (moved) T->reset(ws, s);
      /* An adaptive stepper (they all have a reset) integrates the state
      ** variables only: the outputs read before a step come from one more
      ** evaluation at the end of the step of dt. */
      if (T->adaptive) nm_sim_rhs(s, s->V, 0.0, s->D);
      nm_sim_finish_step(s);
      finite = nm_sim_step_checked(s);
    } else {
      finite = nm_sim_end_step(s);       /* the same services and check, one call */
    }
    rc = nm_run_after_step(s, o, i, finite, &k, r);
  }
  return rc;
}


/* The automatic thread mode's measures, in steps. */
#define PROBE_STEPS 250        /* a serial stretch that only sets the pace */
#define CHUNK_STEPS 1000       /* a stretch between decisions */
#define SLACK_STEPS 32         /* what starting the threads may cost (nm_pace) */
#define REFRESH_CHUNKS 16      /* threaded chunks between serial probes that renew the pace */
#define MAX_GAP_CHUNKS 64      /* the longest serial stretch between tries of threads */

/* How many of `threads` threads have a core: the cores that Linux's count of
** runnable tasks (/proc/stat procs_running, this thread among them) leaves
** free; `threads` when it cannot be read. */
static int free_cores(int threads)
{
  FILE *f = fopen("/proc/stat", "r");
  if (!f) return threads;
  char line[256];
  long running = -1, cores = nm_cores();
  while (running < 0 && fgets(line, sizeof line, f))
    if (sscanf(line, "procs_running %ld", &running) != 1) running = -1;
  fclose(f);
  if (running < 1 || cores < 1) return threads;
  long spare = cores - (running - 1);
  return spare < 1 ? 1 : spare < threads ? (int)spare : threads;
}


/*
** The automatic thread mode.  Threads help only while the machine has a core
** to spare (and the cores share a cache): the run measures rather than
** guesses.  It goes in chunks.  A serial chunk sets the pace of one thread
** (seconds per step, the better of its last two measures); a threaded chunk
** runs under that pace and stops after the first step that finds it behind
** (nm_pace), so that trying threads when they lose costs a few steps, not a
** chunk.  After a threaded chunk stopped, threads are tried again after a
** serial stretch that doubles (up to MAX_GAP_CHUNKS) at every loss; while they
** keep the pace, a serial probe every REFRESH_CHUNKS renews it (the machine
** may have become busier or quieter).  A try takes only the cores other
** processes leave free (free_cores; none free: no try): a thread waiting for
** its core stalls every thread at the next barrier.  Every step is whole on
** either side, so the choice never changes the bits.
*/
static int run_balanced(nm_sim *s, const nm_run_opts *o, const nm_stepper_type *T, int threads,
                        nm_sampler *r)
{
  int rc = NM_OK;
  double pace = 0.0, last = 0.0;   /* seconds per serial step: the pace, the last measure */
  long gap = 1, serial_left = 1, threaded_run = 0;
  int many = threads;
  for (long i = 0; i < o->n_steps && rc == NM_OK;) {
    long left = o->n_steps - i;
    if (serial_left == 0 && threaded_run == 0 && (many = free_cores(threads)) < 2)
      serial_left = 1;                     /* no core to spare: another serial chunk */
    if (serial_left > 0 || threaded_run >= REFRESH_CHUNKS) {
      long n = serial_left > 0 && pace != 0.0 ? CHUNK_STEPS : PROBE_STEPS;
      if (n > left) n = left;
      double t0 = nm_seconds();
      rc = run_serial(s, o, T, NULL, i, i + n, r);
      double now = (nm_seconds() - t0) / (double)n;
      pace = last == 0.0 || now < last ? now : last;
      last = now;
      i += n;
      if (serial_left > 0) serial_left--;
      threaded_run = 0;
    } else {
      long n = left < CHUNK_STEPS ? left : CHUNK_STEPS;
      size_t before = s->step;
      nm_pace p = { nm_seconds(), pace, SLACK_STEPS };
      rc = nm_sim_run_threads(s, o, many, i, i + n, &p, nm_sampler_row, r);
      long done = (long)(s->step - before);
      i += done;
      if (rc == NM_OK && done < n) {        /* behind one thread's pace */
        serial_left = gap;
        gap = gap * 2 < MAX_GAP_CHUNKS ? gap * 2 : MAX_GAP_CHUNKS;
      } else {
        gap = 1;
        threaded_run++;
      }
    }
  }
  return rc;
}


int nm_sim_run(nm_sim *s, const nm_run_opts *o)
{
  nm_error_clear(&s->err);
  int rc = check_opts(s, o);
  if (rc == NM_OK) rc = nm_sim_reserve(s, (size_t)o->n_steps);
  if (rc == NM_OK) rc = nm_sim_prepare_constraints(s);
  if (rc != NM_OK) return rc;
  const nm_stepper_type *T = nm_stepper(o->method), *last = nm_stepper(s->deriv_method);
  int threads = threads_for(s->m, o->threads, T);
  /* Native code for the programs (jit_cache.c): evaluations = steps x stages. */
  rc = nm_jit_prepare(s->m, o->jit, (double)o->n_steps * (T->adaptive ? 6 : T->order), threads,
                      o->interrupt, &s->err);
  if (rc != NM_OK) return rc;
  /* A dense stepper (rk4) stores the derivative of every step it takes:
  ** delayed reads between steps from then on are Hermite interpolants. */
  if (T->dense && !(last && last->dense)) s->hist.hermite_from = s->step;
  s->deriv_method = o->method;
  nm_sampler r;
  rc = nm_sampler_init(&r, s, o);
  if (rc != NM_OK) return rc;
  void *ws = NULL;
  if (T->alloc && !(ws = T->alloc(s, o))) {
    nm_sampler_free(&r);
    return NM_ENOMEM;
  }
  if (threads > 1 && o->threads > 0) {
    rc = nm_sim_run_threads(s, o, threads, 0, o->n_steps, NULL, nm_sampler_row, &r);
  } else if (threads > 1) {
    rc = run_balanced(s, o, T, threads, &r);
  } else {
    rc = run_serial(s, o, T, ws, 0, o->n_steps, &r);
  }
  if (T->free) T->free(ws);
  /* A run that stops early hands over the rows it recorded before stopping
  ** (its caller keeps them as a partial file); not after the sink failed. */
  if (rc == NM_OK || rc == NM_EINTR || rc == NM_ENONFINITE || rc == NM_ESTEP ||
      rc == NM_ECALLBACK) {
    int frc = nm_sampler_flush(&r);
    if (rc == NM_OK) rc = frc;
  }
  nm_sampler_free(&r);
  return rc;
}
