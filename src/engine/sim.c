/*
** sim.c: the time loop.  One step is: inputs (time series, noise) for the
** step, coupling sums and sync programs from the delay history, right-hand
** sides, a fixed-step update (Euler, Heun or RK4), post-step constraints,
** algebraic outputs, noise update, history push, and recording.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_randist.h>

#include "sim.h"


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


size_t nm_model_history_bytes(const nm_model *m)
{
  long *column = malloc((m->n_state + m->n_aux + 1) * sizeof *column);
  if (!column) return SIZE_MAX;
  size_t depth, bytes = ring_bytes(mark_columns(m, column), nm_model_max_delay(m), &depth);
  free(column);
  return bytes;
}


static int setup_history(nm_sim *s)
{
  nm_model *m = s->m;
  s->column = malloc((s->nv + 1) * sizeof *s->column);
  if (!s->column) return NM_ENOMEM;
  s->width = mark_columns(m, s->column);
  size_t bytes = ring_bytes(s->width, nm_model_max_delay(m), &s->depth);
  if (bytes == SIZE_MAX)
    return nm_model_fail(m, NM_ENOMEM, "the delay history of %zu signals over %zu steps cannot "
                         "be counted in bytes", s->width, nm_model_max_delay(m));
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
  return nm_couplings_prepare(s);
}


/* Between steps j and j + 1 (nm_hist_read).  Before t = 0 the history is
** constant; at frac 1 the value is the stored one (Heun's second stage). */
double nm_hist_between(const nm_hist *h, size_t col, size_t j, double y0)
{
  if (j > h->now) return y0;                   /* j < 0: the constant past */
  double y1 = h->ring[((j + 1) & h->mask) * h->width + col], th = h->frac;
  if (th == 1.0) return y1;
  if (h->period && h->period[col] > 0) {       /* the turn of y1 nearest to y0 */
    double p = h->period[col];
    y1 += p * nearbyint((y0 - y1) / p);
  }
  if (col < h->n_dcols && j >= h->hermite_from) {
    double f0 = h->dring[(j & h->mask) * h->width + col];
    double f1 = h->dring[((j + 1) & h->mask) * h->width + col];
    double th2 = th * th, th3 = th2 * th;
    return (2 * th3 - 3 * th2 + 1) * y0 + (th3 - 2 * th2 + th) * h->dt * f0 +
           (3 * th2 - 2 * th3) * y1 + (th3 - th2) * h->dt * f1;
  }
  return (1.0 - th) * y0 + th * y1;
}


/* Seeds stream i from the user seed so that each stream is independent and
** does not depend on how many other streams exist. */
static unsigned long stream_seed(unsigned long seed, size_t i)
{
  uint64_t z = (uint64_t)seed * 0x9E3779B97F4A7C15ULL + (uint64_t)(i + 1) * 0xBF58476D1CE4E5B9ULL;
  z ^= z >> 31; z *= 0x94D049BB133111EBULL; z ^= z >> 29;
  return (unsigned long)(z & 0xFFFFFFFFUL);
}


/* A white-noise value for the next step (model.c, nm_model_add_white_noise). */
static double white_sample(nm_sim *s, size_t i)
{
  const nm_noise *z = &s->m->noises[i];
  double mu = s->m->P[z->mu], sigma = s->m->P[z->sigma];
  if (sigma == 0.0) return mu;
  return mu + sigma * gsl_ran_gaussian_ziggurat(s->rng[i], 1.0) / sqrt(s->dt);
}


nm_sim *nm_sim_new(nm_model *m, double dt, unsigned long seed, int *status)
{
  int rc = NM_ENOMEM;
  m->why[0] = '\0';
  if (!(dt > 0 && dt < INFINITY)) {
    if (status) *status = NM_EINVAL;
    nm_model_fail(m, NM_EINVAL, "dt must be a positive finite number (ms), got %g", dt);
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
  s->rng = calloc(m->n_noises + 1, sizeof *s->rng);
  s->noise_x = calloc(m->n_noises + 1, sizeof *s->noise_x);
  s->nz_mu = calloc(4 * (m->n_noises + 1), sizeof *s->nz_mu);
  s->noise_version = (unsigned long)-1;
  if (s->nz_mu) {
    s->nz_tau = s->nz_mu + (m->n_noises + 1);
    s->nz_scale = s->nz_tau + (m->n_noises + 1);
    s->nz_old = s->nz_scale + (m->n_noises + 1);
  }
  if (!s->V || !s->stage || !s->U || !s->D || !s->k[0] || !s->k[1] || !s->k[2] || !s->k[3] ||
      !s->rng || !s->noise_x || !s->nz_mu)
    goto fail;
  memcpy(s->V, m->v0, s->nv * sizeof(double));
  for (size_t i = 0; i < m->n_noises; i++) s->has_white |= m->noises[i].white;
  for (size_t i = 0; i < m->n_noises; i++) {
    /* taus2: a small state (a few words, not MT19937's 2.5 kB), so that
    ** hundreds of streams stay in cache. */
    s->rng[i] = gsl_rng_alloc(gsl_rng_taus2);
    if (!s->rng[i]) goto fail;
    gsl_rng_set(s->rng[i], stream_seed(seed, i));
    /* A NaN start value means: start at the process's mean. */
    s->noise_x[i] = isnan(m->noises[i].x0) ? m->P[m->noises[i].mu] : m->noises[i].x0;
    if (m->noises[i].white) s->noise_x[i] = white_sample(s, i);
  }
  rc = setup_history(s);
  if (rc != NM_OK) goto fail;
  /* Algebraic outputs read after a step are defined from the start. */
  nm_eval_ctx ctx = { s->V, m->P, s->U, s->D, 0.0, &s->hist, m->tables };
  for (size_t i = 0; i < m->n_progs[NM_STAGE_AFTER]; i++)
    nm_program_eval(m->progs[NM_STAGE_AFTER][i], &ctx);
  if (status) *status = NM_OK;
  return s;
fail:
  nm_sim_free(s);
  if (!m->why[0])
    nm_model_fail(m, rc, "a simulation of %zu signals, %zu inputs and %zu noise processes cannot "
                  "be allocated", m->n_state + m->n_aux, m->n_input, m->n_noises);
  if (status) *status = rc;
  return NULL;
}


void nm_sim_free(nm_sim *s)
{
  if (!s) return;
  if (s->rng)
    for (size_t i = 0; i < s->m->n_noises; i++) gsl_rng_free(s->rng[i]);
  free(s->rng);
  free(s->noise_x);
  free(s->nz_mu);
  free(s->V);
  free(s->stage);
  free(s->U);
  free(s->D);
  for (int i = 0; i < 4; i++) free(s->k[i]);
  nm_couplings_free(s);
  free(s->ring);
  free(s->dring);
  free(s->period);
  free(s->column);
  free(s->tracked);
  free(s);
}


double nm_sim_time(const nm_sim *s) { return (double)s->step * s->dt; }
size_t nm_sim_steps(const nm_sim *s) { return s->step; }
const double *nm_sim_signals(const nm_sim *s) { return s->V; }


void nm_sim_failure(const nm_sim *s, double *t, long *sig)
{
  *t = s->fail_t;
  *sig = s->fail_sig;
}


/* ---------------------------------------------------------------------
** Right-hand side
** ------------------------------------------------------------------- */

void nm_sim_rhs(nm_sim *s, double *V, double frac, double *D)
{
  nm_model *m = s->m;
  s->hist.now = s->step;
  s->hist.frac = frac;
  nm_couplings_eval(s, V, frac);
  nm_eval_ctx ctx = { V, m->P, s->U, D, ((double)s->step + frac) * s->dt, &s->hist, m->tables };
  for (size_t i = 0; i < m->n_progs[NM_STAGE_SYNC]; i++)
    nm_program_eval(m->progs[NM_STAGE_SYNC][i], &ctx);
  for (size_t i = 0; i < m->n_progs[NM_STAGE_RHS]; i++)
    nm_program_eval(m->progs[NM_STAGE_RHS][i], &ctx);
  if (m->n_callbacks) {
    nm_view view = { ctx.t, V, m->P, s->U, D };
    for (size_t i = 0; i < m->n_callbacks; i++)
      if (m->callbacks[i].fn(m->callbacks[i].ud, &view) != 0) s->callback_failed = 1;
  }
}


/* ---------------------------------------------------------------------
** Fixed-step methods
** ------------------------------------------------------------------- */

/* stage = V with its state part replaced by y + h * k */
static double *stage_from(nm_sim *s, const double *k, double h)
{
  memcpy(s->stage, s->V, s->nv * sizeof(double));
  for (size_t i = 0; i < s->ns; i++) s->stage[i] = s->V[i] + h * k[i];
  return s->stage;
}


static void step_euler(nm_sim *s)
{
  nm_sim_rhs(s, s->V, 0.0, s->D);
  for (size_t i = 0; i < s->ns; i++) s->V[i] += s->dt * s->D[i];
}


static void step_heun(nm_sim *s)
{
  double dt = s->dt, *k1 = s->k[0], *k2 = s->k[1];
  nm_sim_rhs(s, s->V, 0.0, k1);
  nm_sim_rhs(s, stage_from(s, k1, dt), 1.0, k2);
  for (size_t i = 0; i < s->ns; i++) s->V[i] += 0.5 * dt * (k1[i] + k2[i]);
}


static void step_rk4(nm_sim *s)
{
  double dt = s->dt, **k = s->k;
  nm_sim_rhs(s, s->V, 0.0, k[0]);
  /* The derivative at the step's start, for the Hermite interpolants of the
  ** later stages' delayed reads. */
  double *drow = s->dring + (s->step & (s->depth - 1)) * s->width;
  for (size_t c = 0; c < s->hist.n_dcols; c++) drow[c] = k[0][s->tracked[c]];
  nm_sim_rhs(s, stage_from(s, k[0], 0.5 * dt), 0.5, k[1]);
  nm_sim_rhs(s, stage_from(s, k[1], 0.5 * dt), 0.5, k[2]);
  nm_sim_rhs(s, stage_from(s, k[2], dt), 1.0, k[3]);
  for (size_t i = 0; i < s->ns; i++)
    s->V[i] += dt / 6.0 * (k[0][i] + 2.0 * k[1][i] + 2.0 * k[2][i] + k[3][i]);
}


int nm_sim_constrain(nm_sim *s)
{
  nm_model *m = s->m;
  int changed = 0;
  for (size_t i = 0; i < m->n_clamps; i++) {
    double *x = &s->V[m->clamps[i].sig];
    if (*x < m->clamps[i].lo) { *x = m->clamps[i].lo; changed = 1; }
    else if (*x > m->clamps[i].hi) { *x = m->clamps[i].hi; changed = 1; }
  }
  for (size_t i = 0; i < m->n_wraps; i++) {
    double *x = &s->V[m->wraps[i].sig], p = m->wraps[i].period;
    double r = fmod(*x, p);
    if (r < 0) r += p;
    if (r != *x) changed = 1;
    *x = r;
  }
  return changed;
}


/* Writes columns c0 .. c1-1 of the signals into the history row of step `step`. */
void nm_sim_push_history(nm_sim *s, size_t step, size_t c0, size_t c1)
{
  double *row = s->ring + (step & (s->depth - 1)) * s->width;
  double *mirror = row + s->depth * s->width;
  for (size_t c = c0; c < c1; c++) row[c] = mirror[c] = s->V[s->tracked[c]];
}


void nm_sim_finish_step(nm_sim *s)
{
  nm_model *m = s->m;
  s->step++;
  nm_eval_ctx ctx = { s->V, m->P, s->U, s->D, nm_sim_time(s), &s->hist, m->tables };
  for (size_t i = 0; i < m->n_progs[NM_STAGE_AFTER]; i++)
    nm_program_eval(m->progs[NM_STAGE_AFTER][i], &ctx);
  nm_sim_push_history(s, s->step, 0, s->width);
}


void nm_sim_step_inputs(nm_sim *s, const nm_run_opts *o, long i)
{
  nm_model *m = s->m;
  size_t k = i > 0 ? (size_t)i - 1 : 0;
  for (size_t d = 0; d < o->n_drivers; d++)
    m->P[o->drivers[d].slot] = o->drivers[d].values[k];
  if (o->n_drivers) nm_model_params_changed(m);
  for (size_t n = 0; n < m->n_noises; n++) s->U[m->noises[n].dst] = s->noise_x[n];
  /* Stimuli come after the noise processes, so that a stimulus on input_k
  ** replaces that channel's process.  Their samples are on the simulation's
  ** time axis (a continued run goes on where the last one stopped): the step
  ** from t = g*dt uses sample g - 1, the first step sample 0. */
  size_t g = s->step > 0 ? s->step - 1 : 0;
  int params = 0;
  for (size_t d = 0; d < o->n_stims; d++) {
    const nm_stim_driver *sd = &o->stims[d];
    size_t stride = 0;
    const double *v = nm_stim_at(sd->stim, g, &stride);
    for (size_t j = 0; j < sd->n_targets; j++) {
      /* check_opts made sure v exists at the first step; later ones only advance. */
      double x = v ? v[sd->channel[j] * stride] : NAN;
      if (sd->kind[j] == NM_TARGET_PARAM) { m->P[sd->slot[j]] = x; params = 1; }
      else s->U[sd->slot[j]] = x;
    }
  }
  if (params) nm_model_params_changed(m);
}


/* Gathers the noise processes' parameters into contiguous arrays when the
** parameters changed (called once per step, on one thread). */
void nm_sim_noise_params(nm_sim *s)
{
  nm_model *m = s->m;
  if (s->noise_version == m->param_version) return;
  double sqdt = sqrt(s->dt);
  for (size_t n = 0; n < m->n_noises; n++) {
    const nm_noise *z = &m->noises[n];
    s->nz_mu[n] = m->P[z->mu];
    s->nz_tau[n] = z->white ? INFINITY : m->P[z->tau];     /* white: no relaxation */
    s->nz_scale[n] = z->white ? 0.0 : m->P[z->sigma] * sqdt;
  }
  s->noise_version = m->param_version;
}


/* x += dt (mu - x) / tau + sigma sqrt(dt) xi for channels n0 .. n1-1: the
** deterministic part in one (vectorisable) pass, then the draws. */
void nm_sim_advance_noise_range(nm_sim *s, size_t n0, size_t n1)
{
  double dt = s->dt, *x = s->noise_x;
  const double *mu = s->nz_mu, *tau = s->nz_tau, *scale = s->nz_scale;
  for (size_t n = n0; n < n1; n++) x[n] += dt * (mu[n] - x[n]) / tau[n];
  for (size_t n = n0; n < n1; n++)
    if (scale[n] != 0.0) x[n] += scale[n] * gsl_ran_gaussian_ziggurat(s->rng[n], 1.0);
  if (s->has_white) {
    for (size_t n = n0; n < n1; n++)
      if (s->m->noises[n].white) x[n] = white_sample(s, n);
  }
}


int nm_sim_advance_noise(nm_sim *s)
{
  size_t n = s->m->n_noises;
  int changed = s->has_white;
  nm_sim_noise_params(s);
  memcpy(s->nz_old, s->noise_x, n * sizeof *s->noise_x);
  nm_sim_advance_noise_range(s, 0, n);
  for (size_t k = 0; k < n && !changed; k++) changed = s->noise_x[k] != s->nz_old[k];
  return changed;
}


/* Returns the first non-finite signal, or -1. */
long nm_sim_first_nonfinite(const nm_sim *s, size_t v0, size_t v1)
{
  /* A quick pass on the exponent bits (it vectorises), the exact search only
  ** when something is wrong. */
  uint64_t all_ones = 0;
  for (size_t i = v0; i < v1; i++) {
    uint64_t u;
    memcpy(&u, &s->V[i], sizeof u);
    all_ones |= (uint64_t)((u & 0x7FF0000000000000ULL) == 0x7FF0000000000000ULL);
  }
  if (!all_ones) return -1;
  for (size_t i = v0; i < v1; i++)
    if (!isfinite(s->V[i])) return (long)i;
  return -1;
}


/* ---------------------------------------------------------------------
** Recording and the run loop
** ------------------------------------------------------------------- */

int nm_sim_nonfinite(nm_sim *s, double t, long sig)
{
  s->fail_t = t;
  s->fail_sig = sig;
  return nm_sim_fail(s, NM_ENONFINITE, "signal %ld became %g at t = %g ms", sig, s->V[sig], t);
}


int nm_sim_all_finite(nm_sim *s)
{
  long bad = nm_sim_first_nonfinite(s, 0, s->nv);
  if (bad < 0) return 1;
  nm_sim_nonfinite(s, nm_sim_time(s), bad);
  return 0;
}


/* Threads pay off when a step has enough lanes to share. */
static int threads_for(const nm_sim *s, const nm_run_opts *o)
{
  if (o->method != NM_EULER || s->m->n_callbacks) return 1;
  if (o->threads > 0) return o->threads;
  size_t lanes = 0;
  for (size_t i = 0; i < s->m->n_progs[NM_STAGE_RHS]; i++) lanes += s->m->progs[NM_STAGE_RHS][i]->lanes;
  return lanes >= 256 ? nm_sim_threads_available() : 1;
}


typedef struct {
  const nm_run_opts *o;
  double *buf;
  size_t rows, cap, cols;
} recorder;


static int flush(recorder *r)
{
  int rc = NM_OK;
  if (r->rows && r->o->sink) rc = r->o->sink(r->o->sink_ud, r->buf, r->rows, r->cols);
  r->rows = 0;
  return rc;
}


static int record_row(void *rec, nm_sim *s)
{
  recorder *r = rec;
  double *row = r->buf + r->rows * r->cols;
  row[0] = nm_sim_time(s);
  for (size_t c = 0; c < r->o->n_record; c++) row[c + 1] = s->V[r->o->record[c]];
  if (++r->rows == r->cap) return flush(r);
  return NM_OK;
}


const char *nm_sim_error(const nm_sim *s, int status)
{
  return s->why[0] ? s->why : nm_strerror(status);
}


static int check_opts(nm_sim *s, const nm_run_opts *o)
{
  if (o->n_steps < 0) return nm_sim_fail(s, NM_EINVAL, "n_steps is negative (%ld)", o->n_steps);
  if (o->every < 1) return nm_sim_fail(s, NM_EINVAL, "every must be at least 1 (got %ld)", o->every);
  if (o->method < NM_EULER || o->method > NM_MSBDF)
    return nm_sim_fail(s, NM_EINVAL, "no method %d", o->method);
  if (!(o->rtol >= 0 && o->rtol < INFINITY) || !(o->atol >= 0 && o->atol < INFINITY))
    return nm_sim_fail(s, NM_EINVAL, "rtol and atol must be finite and not negative (got %g, %g)",
                       o->rtol, o->atol);
  if (o->threads < 0 || o->threads > NM_MAX_THREADS)
    return nm_sim_fail(s, NM_EINVAL, "threads must be 0 (automatic) to %d (got %d)",
                       NM_MAX_THREADS, o->threads);
  for (size_t c = 0; c < o->n_record; c++)
    if (o->record[c] < 0 || (size_t)o->record[c] >= s->nv)
      return nm_sim_fail(s, NM_EINVAL, "recorded signal %ld does not exist (the model has %zu)",
                         o->record[c], s->nv);
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
  return NM_OK;
}


/* Steps i0 .. i1-1 of a run on this thread. */
static int run_serial(nm_sim *s, const nm_run_opts *o, long i0, long i1, recorder *r)
{
  void (*step)(nm_sim *) = o->method == NM_HEUN ? step_heun : o->method == NM_RK4 ? step_rk4
                                                                                : step_euler;
  long report = o->n_steps / 100 + 1;
  int rc = NM_OK;
  for (long i = i0; i < i1 && rc == NM_OK; i++) {
    nm_sim_step_inputs(s, o, i);
    step(s);
    nm_sim_constrain(s);
    nm_sim_noise_params(s);
    nm_sim_advance_noise_range(s, 0, s->m->n_noises);
    nm_sim_finish_step(s);
    if (s->callback_failed) { s->callback_failed = 0; rc = NM_ECALLBACK; break; }
    if (!nm_sim_all_finite(s)) { rc = NM_ENONFINITE; break; }
    if (s->step % (size_t)o->every == 0) rc = record_row(r, s);
    if (o->interrupt && *o->interrupt) rc = NM_EINTR;
    if (o->progress && (i + 1) % report == 0) o->progress(o->progress_ud, i + 1, o->n_steps);
  }
  return rc;
}


static double seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}


/*
** Threads help only while the machine has cores to spare: the run goes in
** chunks, and every few chunks one runs on one thread and one on `threads`,
** timed, to pick the faster way for the chunks that follow.  Both ways give
** the same bits, so the choice never changes the result.
*/
static int run_balanced(nm_sim *s, const nm_run_opts *o, int threads, recorder *r)
{
  const long chunk = 1000;
  const int probe_every = 16;
  int rc = NM_OK, use_threads = 1;
  double t_one = 0, t_many = 0;
  for (long i0 = 0, n = 0; i0 < o->n_steps && rc == NM_OK; i0 += chunk, n++) {
    long i1 = i0 + chunk < o->n_steps ? i0 + chunk : o->n_steps;
    int phase = (int)(n % probe_every);
    int many = phase == 0 ? 1 : phase == 1 ? 0 : use_threads;
    double t0 = seconds();
    rc = many ? nm_sim_run_threads(s, o, threads, i0, i1, record_row, r)
              : run_serial(s, o, i0, i1, r);
    double per_step = (seconds() - t0) / (double)(i1 - i0);
    if (phase == 0) t_many = per_step;
    if (phase == 1) { t_one = per_step; use_threads = t_many < t_one; }
  }
  return rc;
}


int nm_sim_run(nm_sim *s, const nm_run_opts *o)
{
  s->why[0] = '\0';
  int rc = check_opts(s, o);
  if (rc != NM_OK) return rc;
  /* RK4 stores the derivative of every step it takes: delayed reads between
  ** steps from then on are Hermite interpolants. */
  if (o->method == NM_RK4 && s->deriv_method != NM_RK4) s->hist.hermite_from = s->step;
  s->deriv_method = o->method;
  recorder r = { o, NULL, 0, o->chunk_rows ? o->chunk_rows : 1024, 1 + o->n_record };
  if (r.cap <= SIZE_MAX / sizeof(double) / r.cols) r.buf = malloc(r.cap * r.cols * sizeof(double));
  if (!r.buf)
    return nm_sim_fail(s, NM_ENOMEM, "a buffer of %zu rows of %zu columns cannot be allocated",
                       r.cap, r.cols);
  int threads = threads_for(s, o);
  if (o->method >= NM_RKF45) {
    rc = nm_sim_run_adaptive(s, o, record_row, &r);
  } else if (threads > 1 && o->threads > 0) {
    rc = nm_sim_run_threads(s, o, threads, 0, o->n_steps, record_row, &r);
  } else if (threads > 1) {
    rc = run_balanced(s, o, threads, &r);
  } else {
    rc = run_serial(s, o, 0, o->n_steps, &r);
  }
  /* A run that stops early hands over the rows it recorded before stopping
  ** (its caller keeps them as a partial file); not after the sink failed. */
  if (rc == NM_OK || rc == NM_EINTR || rc == NM_ENONFINITE || rc == NM_ESTEP ||
      rc == NM_ECALLBACK) {
    int frc = flush(&r);
    if (rc == NM_OK) rc = frc;
  }
  free(r.buf);
  return rc;
}
