/*
** system.c: the model's equations over a simulation's state, the services
** every stepper and loop uses: right-hand sides, the inputs held during a
** step, post-step constraints, noise processes, the history push and the
** checks for non-finite values, the reads of the delay history between steps
** and the simulation's clock.  It calls no stepper and no loop, but holds
** one: Euler's loop for a node-sized model, its services inline in one
** function (nm_sim_run_euler; the update is sim.h's nm_euler_update).  The clamps
** and the non-finite check have AVX2 and AVX-512 passes (s->simd chooses;
** test_services.c holds them to the plain loops' bits).
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>


#include "sim.h"
#include "jit.h"


double nm_sim_time(const nm_sim *s) { return (double)s->step * s->dt; }
size_t nm_sim_steps(const nm_sim *s) { return s->step; }
const double *nm_sim_signals(const nm_sim *s) { return s->V; }


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


/* A white-noise value of channel p for the next step (model.c, nm_model_add_white_noise). */
double nm_sim_white_sample(nm_sim *s, nm_normals *streams, size_t p)
{
  const nm_noise *z = &s->m->noises[s->nz_model[p]];
  double mu = s->m->P[z->mu], sigma = s->m->P[z->sigma];
  if (sigma == 0.0) return mu;
  return mu + sigma * nm_normals_draw(streams, p) / sqrt(s->dt);
}


/* nm_program_eval, without its two calls when the program runs native code
** and its prologue is current (what a node's step pays for them is felt). */
static inline void eval_program(nm_program *p, const nm_eval_ctx *ctx)
{
  if (p->use_native && !p->stale) nm_jit_run(p, ctx, 0, p->lanes);
  else nm_program_eval(p, ctx);
}


static inline void sim_rhs(nm_sim *s, double *V, double frac, double *D)
{
  nm_model *m = s->m;
  s->hist.now = s->step;
  s->hist.frac = frac;
  if (frac == 0.0 && s->node_sums) nm_couplings_eval_node(s);
  else nm_couplings_eval(s, V, frac);
  nm_eval_ctx ctx = { V, m->P, s->U, D, ((double)s->step + frac) * s->dt, &s->hist, m->tables };
  for (size_t i = 0; i < m->n_progs[NM_STAGE_SYNC]; i++)
    eval_program(m->progs[NM_STAGE_SYNC][i], &ctx);
  for (size_t i = 0; i < m->n_progs[NM_STAGE_RHS]; i++)
    eval_program(m->progs[NM_STAGE_RHS][i], &ctx);
  if (m->n_callbacks) {
    nm_view view = { ctx.t, V, m->P, s->U, D };
    for (size_t i = 0; i < m->n_callbacks; i++)
      if (m->callbacks[i].fn(m->callbacks[i].ud, &view) != 0) s->callback_failed = 1;
  }
}


void nm_sim_rhs(nm_sim *s, double *V, double frac, double *D) { sim_rhs(s, V, frac, D); }


/* The shortest run of clamps the AVX2 pass takes (shorter ones cost more in
** the call than they gain). */
#define CLAMP_VECTOR 8


/* qsort's order of clamps: by signal, then by place in the model's list (n). */
static int by_signal_then_place(const void *pa, const void *pb)
{
  const nm_clamp_run *a = pa, *b = pb;
  if (a->sig != b->sig) return a->sig < b->sig ? -1 : 1;
  return a->n < b->n ? -1 : a->n > b->n;
}


int nm_sim_prepare_constraints(nm_sim *s)
{
  nm_model *m = s->m;
  s->n_cruns = 0;
  if (m->n_clamps > s->cap_cruns) {
    nm_clamp_run *r = realloc(s->cruns, m->n_clamps * sizeof *r);
    if (!r) return nm_sim_fail(s, NM_ENOMEM, "the %zu clamps cannot be allocated", m->n_clamps);
    s->cruns = r;
    s->cap_cruns = m->n_clamps;
  }
  /* Clamps of different signals commute, and a signal's own clamps keep their
  ** order: sorted by signal, then by place in the list (held in n for the
  ** sort), a network's clamps (node after node) become runs over its lanes. */
  nm_clamp_run *sorted = s->cruns;
  for (size_t i = 0; i < m->n_clamps; i++)
    sorted[i] = (nm_clamp_run){ m->clamps[i].sig, i, m->clamps[i].lo, m->clamps[i].hi };
  if (m->n_clamps) qsort(sorted, m->n_clamps, sizeof *sorted, by_signal_then_place);
  for (size_t i = 0; i < m->n_clamps; i++) {
    nm_clamp_run c = sorted[i];
    nm_clamp_run *last = s->n_cruns ? &s->cruns[s->n_cruns - 1] : NULL;
    /* The same bounds bit for bit: -0.0 == 0.0, but a clamp sets its bound's bits. */
    if (last && c.sig == last->sig + (long)last->n && memcmp(&c.lo, &last->lo, sizeof c.lo) == 0 &&
        memcmp(&c.hi, &last->hi, sizeof c.hi) == 0) {
      last->n++;
    } else {
      c.n = 1;
      s->cruns[s->n_cruns++] = c;        /* (never past entry i: merging only shrinks) */
    }
  }
  /* The runs go scalar, the ones long enough for the AVX2 pass (a network's
  ** nodes) with it. */
  s->vector_clamps = 0;
#if NM_X86_SIMD
  for (size_t i = 0; i < s->n_cruns && s->simd >= NM_SIMD_AVX2; i++)
    if (s->cruns[i].n >= CLAMP_VECTOR) s->vector_clamps = 1;
#endif
  return NM_OK;
}


/* The clamp of x[0 .. n-1] to [lo, hi]; returns non-zero if any value moved.
** An infinite value is a blow-up, not a value beyond a bound: it stays, and the
** step's non-finite check reports it (clamped, WC with tau_exc = 0 ran on as
** 0, 1, 0, 1, ...). */
static inline int clamp_run(double *x, size_t n, double lo, double hi)
{
  int moved = 0;
  for (size_t l = 0; l < n; l++) {
    if (x[l] < lo && x[l] > -HUGE_VAL) { x[l] = lo; moved = 1; }
    else if (x[l] > hi && x[l] < HUGE_VAL) { x[l] = hi; moved = 1; }
  }
  return moved;
}

#if NM_X86_SIMD
/* clamp_run without branches, which GCC vectorises for AVX2 and AVX-512 (not
** for SSE2): the same values (NaN and infinities stay). */
static inline __attribute__((always_inline)) int clamp_run_select(double *x, size_t n, double lo,
                                                                 double hi)
{
  uint64_t moved = 0;
  for (size_t l = 0; l < n; l++) {
    double v = x[l];
    int below = v < lo && v > -HUGE_VAL, above = v > hi && v < HUGE_VAL;
    moved |= (uint64_t)below | (uint64_t)above;
    x[l] = below ? lo : above ? hi : v;
  }
  return moved != 0;
}

__attribute__((target("avx2")))
static int clamp_run_avx2(double *x, size_t n, double lo, double hi)
{
  return clamp_run_select(x, n, lo, hi);
}

/* The shortest run the AVX-512 pass takes. */
#define CLAMP_VECTOR512 32
__attribute__((target("avx512f")))
static int clamp_run_avx512(double *x, size_t n, double lo, double hi)
{
  return clamp_run_select(x, n, lo, hi);
}
#endif


/* The services of a step are static inline here, so that nm_sim_end_step
** makes them one call (exported functions are not inlined under -fPIC); the
** exported ones call the same code. */

static inline int constrain_signals(nm_sim *s)
{
  nm_model *m = s->m;
  int changed = 0;
#if NM_X86_SIMD
  if (s->vector_clamps) {
    int wide = s->simd >= NM_SIMD_AVX512;
    for (size_t i = 0; i < s->n_cruns; i++) {
      const nm_clamp_run *r = &s->cruns[i];
      double *x = s->V + r->sig;
      changed |= wide && r->n >= CLAMP_VECTOR512 ? clamp_run_avx512(x, r->n, r->lo, r->hi)
               : r->n >= CLAMP_VECTOR ? clamp_run_avx2(x, r->n, r->lo, r->hi)
                                      : clamp_run(x, r->n, r->lo, r->hi);
    }
  } else
#endif
  {
    for (size_t i = 0; i < s->n_cruns; i++)
      changed |= clamp_run(s->V + s->cruns[i].sig, s->cruns[i].n, s->cruns[i].lo, s->cruns[i].hi);
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


int nm_sim_constrain(nm_sim *s) { return constrain_signals(s); }


/* Writes the tracked signals into the history row of step `step` (and its
** mirror), a run of neighbouring signals at a time; the signal-major copy
** (coupling_ahead.c) of the columns a sum reads from it. */
static void push_history(nm_sim *s, size_t step)
{
  double *restrict row = s->ring + (step & (s->depth - 1)) * s->width;
  double *restrict mirror = row + s->depth * s->width;
  const double *restrict V = s->V;
  for (size_t i = 0; i < s->n_truns; i++) {
    const nm_track_run *t = &s->truns[i];
    if (t->n <= 2) {                    /* (a node's: not worth the vector loop's set-up) */
      row[t->col] = mirror[t->col] = V[t->sig];
      if (t->n == 2) row[t->col + 1] = mirror[t->col + 1] = V[t->sig + 1];
      continue;
    }
    for (size_t k = 0; k < t->n; k++) row[t->col + k] = mirror[t->col + k] = V[t->sig + (long)k];
  }
  if (s->sring)
    for (size_t c = s->sring_c0; c < s->sring_c0 + s->sring_n; c++) nm_sring_put(s, c, step, row[c]);
}


static inline void finish_signals(nm_sim *s)
{
  nm_model *m = s->m;
  s->step++;
  if (m->n_progs[NM_STAGE_AFTER]) {
    /* The time as nm_sim_time gives it (an exported function, not inlined under -fPIC). */
    nm_eval_ctx ctx = { s->V, m->P, s->U, s->D, (double)s->step * s->dt, &s->hist, m->tables };
    for (size_t i = 0; i < m->n_progs[NM_STAGE_AFTER]; i++)
      eval_program(m->progs[NM_STAGE_AFTER][i], &ctx);
  }
  push_history(s, s->step);
}


void nm_sim_finish_step(nm_sim *s) { finish_signals(s); }


/* The step's parameter drivers (nm_sim_step_inputs; apart, so that a run
** without them pays nothing for their loop). */
static __attribute__((noinline)) void drive_params(nm_sim *s, const nm_run_opts *o, long i)
{
  nm_model *m = s->m;
  for (size_t d = 0; d < o->n_drivers; d++) {
    /* end-aligned (nm_driver): the step from i*dt reads sample n - n_steps + i - 1 */
    size_t late = o->drivers[d].n - (size_t)o->n_steps;   /* check_opts: n >= n_steps */
    size_t k = late + (size_t)i > 0 ? late + (size_t)i - 1 : 0;
    m->P[o->drivers[d].slot] = o->drivers[d].values[k];
  }
  nm_model_params_changed(m);
}


/* The step's stimuli (nm_sim_step_inputs, apart as drive_params).  Their
** samples are on the simulation's time axis (a continued run goes on where
** the last one stopped): the step from t = g*dt uses sample g - 1, the first
** step sample 0. */
static __attribute__((noinline)) void stimulate(nm_sim *s, const nm_run_opts *o)
{
  nm_model *m = s->m;
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


/* Inputs take the values x of noise channels c0 .. c1-1 (the channels' runs
** that fall there). */
static inline void noise_inputs(nm_sim *s, const double *x, size_t c0, size_t c1)
{
  double *U = s->U;
  for (size_t j = 0; j < s->n_nz_runs; j++) {    /* (a network's: one run a kind of input) */
    const nm_track_run *r = &s->nz_runs[j];
    if (r->col >= c0 && r->col + r->n <= c1 && r->n <= 2) {   /* (a node's: not worth a call) */
      U[r->sig] = x[r->col];
      if (r->n == 2) U[r->sig + 1] = x[r->col + 1];
      continue;
    }
    size_t a = r->col > c0 ? r->col : c0, b = r->col + r->n < c1 ? r->col + r->n : c1;
    if (a < b) memcpy(U + r->sig + (long)(a - r->col), x + a, (b - a) * sizeof *U);
  }
}


void nm_sim_noise_inputs(nm_sim *s, const double *x, size_t c0, size_t c1) { noise_inputs(s, x, c0, c1); }


/* The step's inputs other than the noise channels: parameter drivers and
** stimuli.  Stimuli come after the noise channels (the caller took them
** first), so that a stimulus on input_k replaces that channel's process. */
static inline void step_drives(nm_sim *s, const nm_run_opts *o, long i)
{
  if (o->n_drivers) drive_params(s, o, i);
  if (o->n_stims) stimulate(s, o);
}


void nm_sim_step_drives(nm_sim *s, const nm_run_opts *o, long i) { step_drives(s, o, i); }


static inline void step_inputs(nm_sim *s, const nm_run_opts *o, long i)
{
  noise_inputs(s, s->noise_x, 0, s->m->n_noises);
  step_drives(s, o, i);
}


void nm_sim_step_inputs(nm_sim *s, const nm_run_opts *o, long i) { step_inputs(s, o, i); }


/* Gathers the noise processes' parameters into contiguous arrays when the
** parameters changed (called once per step, on one thread). */
static inline void gather_noise_params(nm_sim *s)
{
  nm_model *m = s->m;
  if (s->noise_version == m->param_version) return;
  double sqdt = sqrt(s->dt);
  s->nz_drawing = 0;
  for (size_t n = 0; n < m->n_noises; n++) {
    const nm_noise *z = &m->noises[s->nz_model[n]];
    s->nz_mu[n] = m->P[z->mu];
    s->nz_tau[n] = z->white ? INFINITY : m->P[z->tau];     /* white: no relaxation */
    s->nz_scale[n] = z->white ? 0.0 : m->P[z->sigma] * sqdt;
    s->nz_drawing |= s->nz_scale[n] != 0.0;                /* (NaN draws, as in nm_normals_add) */
  }
  s->noise_version = m->param_version;
}


void nm_sim_noise_params(nm_sim *s) { gather_noise_params(s); }


/* The relaxation x += dt (mu - x) / tau of channels n0 .. n1-1, in order of
** operations: dt times the difference, divided by tau, added to x. */
static inline __attribute__((always_inline)) void relax(double *restrict x, const double *restrict mu,
                                                       const double *restrict tau, double dt,
                                                       size_t n0, size_t n1)
{
  for (size_t n = n0; n < n1; n++) x[n] += dt * (mu[n] - x[n]) / tau[n];
}

#if NM_X86_SIMD
/* The relaxation's AVX2 and AVX-512 passes, for a network's (or a batch's)
** channels: without them the loop went two divisions at a time (SSE2), the
** most of a 64-lane ALN batch's step outside its programs and draws.  The
** same values lane by lane (no contraction: -std=c11). */
#define RELAX_VECTOR 16
__attribute__((target("avx2")))
static void relax_avx2(double *restrict x, const double *restrict mu, const double *restrict tau,
                       double dt, size_t n0, size_t n1)
{
  relax(x, mu, tau, dt, n0, n1);
}
__attribute__((target("avx512f")))
static void relax_avx512(double *restrict x, const double *restrict mu, const double *restrict tau,
                         double dt, size_t n0, size_t n1)
{
  relax(x, mu, tau, dt, n0, n1);
}
#endif


/* x += dt (mu - x) / tau + sigma sqrt(dt) xi for channels n0 .. n1-1: the
** deterministic part in one (vectorised) pass, then the draws. */
static inline void advance_noise(nm_sim *s, nm_normals *z, double *restrict x, size_t n0, size_t n1)
{
  double dt = s->dt;                                     /* (x apart from the parameters) */
  const double *restrict mu = s->nz_mu, *restrict tau = s->nz_tau, *scale = s->nz_scale;
#if NM_X86_SIMD
  if (s->simd >= NM_SIMD_AVX512 && n1 - n0 >= RELAX_VECTOR) relax_avx512(x, mu, tau, dt, n0, n1);
  else if (s->simd >= NM_SIMD_AVX2 && n1 - n0 >= RELAX_VECTOR) relax_avx2(x, mu, tau, dt, n0, n1);
  else
#endif
    relax(x, mu, tau, dt, n0, n1);
  if (s->nz_drawing) nm_normals_add(z, n0, n1, scale, x);
  if (s->has_white) {
    for (size_t n = n0; n < n1; n++)
      if (s->m->noises[s->nz_model[n]].white) x[n] = nm_sim_white_sample(s, z, n);
  }
}


void nm_sim_advance_noise_range(nm_sim *s, nm_normals *z, double *x, size_t n0, size_t n1)
{
  advance_noise(s, z, x, n0, n1);
}


static inline int step_checked(nm_sim *s);

static inline int end_step(nm_sim *s)
{
  constrain_signals(s);
  gather_noise_params(s);
  advance_noise(s, &s->rng, s->noise_x, 0, s->m->n_noises);
  finish_signals(s);
  return step_checked(s);
}


int nm_sim_end_step(nm_sim *s) { return end_step(s); }


int nm_sim_advance_noise(nm_sim *s)
{
  size_t n = s->m->n_noises;
  int changed = s->has_white;
  nm_sim_noise_params(s);
  memcpy(s->nz_old, s->noise_x, n * sizeof *s->noise_x);
  advance_noise(s, &s->rng, s->noise_x, 0, n);
  for (size_t k = 0; k < n && !changed; k++) changed = s->noise_x[k] != s->nz_old[k];
  return changed;
}


/* Bit 63 is set when some value of v[0 .. n-1] is not finite: adding 1 to
** the exponent field carries into bit 63 exactly when its bits are all ones
** (inf, NaN).  And, add, or: SSE2 vectorises them, AVX2 twice as wide. */
static inline __attribute__((always_inline)) uint64_t exponent_carry(const double *v, size_t n)
{
  uint64_t carry = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t u;
    memcpy(&u, &v[i], sizeof u);
    carry |= (u & 0x7FF0000000000000ULL) + 0x0010000000000000ULL;
  }
  return carry;
}

#if NM_X86_SIMD
/* The shortest range the AVX2 and AVX-512 passes take. */
#define CARRY_VECTOR 32
__attribute__((target("avx2")))
static uint64_t exponent_carry_avx2(const double *v, size_t n) { return exponent_carry(v, n); }
__attribute__((target("avx512f")))
static uint64_t exponent_carry_avx512(const double *v, size_t n) { return exponent_carry(v, n); }

/* A node's few signals (CARRY_SHORT .. CARRY_NODE of them): four loads of
** four, the first eight and the last eight, overlapping when fewer than 16
** (a value seen twice sets the same bit); the loop above, compiled for so
** few, went one by one. */
#define CARRY_SHORT 8
#define CARRY_NODE 16
typedef uint64_t nm_u64x4 __attribute__((vector_size(32)));
__attribute__((target("avx2")))
static uint64_t exponent_carry_node(const double *v, size_t n)
{
  const nm_u64x4 exponent = { 0x7FF0000000000000ULL, 0x7FF0000000000000ULL,
                              0x7FF0000000000000ULL, 0x7FF0000000000000ULL };
  const nm_u64x4 one = { 0x0010000000000000ULL, 0x0010000000000000ULL, 0x0010000000000000ULL,
                         0x0010000000000000ULL };
  nm_u64x4 a, b, c, d;
  memcpy(&a, v, sizeof a);
  memcpy(&b, v + 4, sizeof b);
  memcpy(&c, v + n - 8, sizeof c);
  memcpy(&d, v + n - 4, sizeof d);
  nm_u64x4 carry = ((a & exponent) + one) | ((b & exponent) + one) | ((c & exponent) + one) |
                   ((d & exponent) + one);
  return carry[0] | carry[1] | carry[2] | carry[3];
}
#endif


/* A quick pass on the exponent bits, the exact search only when something is wrong. */
static inline long first_nonfinite(const nm_sim *s, size_t v0, size_t v1)
{
  uint64_t carry;
#if NM_X86_SIMD
  if (s->simd >= NM_SIMD_AVX512 && v1 - v0 >= CARRY_VECTOR)
    carry = exponent_carry_avx512(s->V + v0, v1 - v0);
  else if (s->simd >= NM_SIMD_AVX2 && v1 - v0 >= CARRY_VECTOR)
    carry = exponent_carry_avx2(s->V + v0, v1 - v0);
  else if (s->simd >= NM_SIMD_AVX2 && v1 - v0 >= CARRY_SHORT && v1 - v0 <= CARRY_NODE)
    carry = exponent_carry_node(s->V + v0, v1 - v0);
  else
#endif
    carry = exponent_carry(s->V + v0, v1 - v0);
  if (!(carry >> 63)) return -1;
  for (size_t i = v0; i < v1; i++)
    if (!isfinite(s->V[i])) return (long)i;
  return -1;
}


long nm_sim_first_nonfinite(const nm_sim *s, size_t v0, size_t v1)
{
  return first_nonfinite(s, v0, v1);
}


int nm_sim_nonfinite(nm_sim *s, double t, long sig)
{
  nm_sim_fail(s, NM_ENONFINITE, "signal %ld became %g at t = %.15g ms", sig, nm_shown(s->V[sig]), t);
  s->err.t = t;
  s->err.signal = sig;
  return NM_ENONFINITE;
}


static inline int all_finite(nm_sim *s)
{
  long bad = first_nonfinite(s, 0, s->nv);
  if (bad < 0) return 1;
  nm_sim_nonfinite(s, nm_sim_time(s), bad);
  return 0;
}


/* A failed callback is the step's failure: the state is then not checked. */
static inline int step_checked(nm_sim *s) { return s->callback_failed || all_finite(s); }


int nm_sim_step_checked(nm_sim *s) { return step_checked(s); }


/* sim.c's run_serial for Euler on a node-sized model in one function, every
** service above inline in it (their calls and the stack saves around them
** had been a tenth of a single ALN node's step): the same operations as
** nm_sim_step_inputs, nm_step_euler's update and nm_sim_end_step, step after
** step, with the run's bookkeeping of sim.h (nm_run_after_step).  `update` is
** the Euler update, nm_euler_update or its AVX2 form (sim.h). */
#define RUN_EULER(update)                                                     \
  nm_run_marks k = nm_run_marks_of(s, o);                                     \
  int rc = NM_OK;                                                             \
  for (long i = i0; i < i1 && rc == NM_OK; i++) {                             \
    nm_jit_poll(s->m);                   /* native code compiled meanwhile */ \
    step_inputs(s, o, i);                                                     \
    sim_rhs(s, s->V, 0.0, s->D);                                              \
    if ((rc = nm_sim_callback_status(s)) != NM_OK) break;                     \
    update(s->V, s->D, s->dt, s->ns);                                         \
    rc = nm_run_after_step(s, o, i, end_step(s), &k, r);                      \
  }                                                                           \
  return rc

#if NM_X86_SIMD
/* With AVX2: the update four values at a time, the non-finite check's kernel
** of the same set, and no loop vectorised by the compiler, which turned the
** node's short loops (the clamps: a masked store per value) into more work
** than they had (aln1: 4 % less time than the loop compiled for any CPU). */
__attribute__((target("avx2"), optimize("no-tree-vectorize")))
static int run_euler_avx2(nm_sim *s, const nm_run_opts *o, long i0, long i1, nm_sampler *r)
{
  RUN_EULER(nm_euler_update_avx2);
}
#endif


int nm_sim_run_euler(nm_sim *s, const nm_run_opts *o, long i0, long i1, nm_sampler *r)
{
#if NM_X86_SIMD
  if (s->simd >= NM_SIMD_AVX2) return run_euler_avx2(s, o, i0, i1, r);
#endif
  RUN_EULER(nm_euler_update);
}
