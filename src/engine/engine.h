/*
** engine.h: structures shared by the engine's own files (not by the binding).
*/
#ifndef nm_engine_h
#define nm_engine_h

#include <math.h>

#include "nm.h"

/* The engine's one error channel is nm_error (nm.h, status.c): nm_fail
** records a failure (status and reason, printf-style) and returns the status;
** err may be NULL (the caller does not want the reason). */
int nm_fail(nm_error *err, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Output files (nm_outfile, atomic_file.c) are declared in nm.h. */

/* bold_pow.c: BOLD's three powers per node, out1[i] = pow(base, y[i]),
** out2[i] = pow(x[i], a) and out3[i] = pow(x[i], b) for i < n, each the bits
** of the C library's pow, on the kernel nm_bold_pow_kernel() returns
** (NM_SIMD_*: AVX-512 or AVX2 where it matches this process's pow, else
** pow's own calls; thread-safe, the first call checks). */
int nm_bold_pow_kernel(void);
void nm_bold_pow3(int kernel, size_t n, double base, const double *restrict y,
                  const double *restrict x, double a, double b, double *restrict out1,
                  double *restrict out2, double *restrict out3);

/* Has the analysis interrupt flag (nm_analysis_interrupt) been raised?  And
** the failure to return then: NM_EINTR, "<what>: interrupted" (analysis_stop.c). */
int nm_analysis_stopped(void);
int nm_analysis_fail_stopped(nm_error *err, const char *what);

/* A read-only view of the delay history, as seen by one right-hand-side
** evaluation: ring rows hold the tracked signals at past steps; `now` is the
** row of the step's start; `frac` in [0, 1] places the evaluation between the
** step's start and end (0 for Euler, 0.5 and 1 for the stages of Heun/RK4).
** Columns are in signal order, so the tracked state variables come first
** (n_dcols of them): for those, `dring` holds the derivative at each step
** from `hermite_from` on (RK4 stores it), and values between steps are cubic
** Hermite interpolants (fourth order, as in jitcdde); other columns, and
** rows before hermite_from, are interpolated linearly.  A wrapped column
** (period[col] > 0) is interpolated along the circle, never across the wrap. */
typedef struct {
  const double *ring;     /* depth * width values */
  size_t width;           /* tracked signals per row */
  size_t mask;            /* depth - 1, depth a power of two */
  size_t now;             /* absolute step index of the step's start */
  double frac;
  const long *column;     /* signal index -> ring column, -1 if not tracked */
  const double *dring;    /* depth * width derivatives (first n_dcols columns used) */
  size_t n_dcols;
  size_t hermite_from;    /* the first step whose derivative dring holds */
  const double *period;   /* per column: the wrap period, 0 if not wrapped; NULL: none */
  double dt;
  size_t reach;           /* the longest delay the ring holds (nm_sim's reach): a longer
                             one reads a time before t = 0, as a delay of `reach` does */
} nm_hist;

/* One instruction: registers are vectors of `lanes` doubles. */
typedef struct {
  int op;
  int dst, a, b, c;
  long slot;
  int delay;
} nm_ins;

/* Lanes per cache line: programs pad registers to it, threads split at it. */
#define NM_LANE_ALIGN 8

struct nm_program {
  size_t lanes, n_regs, n_ins, n_pre;
  size_t stride;          /* register width: lanes rounded up to NM_LANE_ALIGN */
  nm_ins *code;
  nm_ins *pre;            /* the prologue: values that depend on parameters only */
  int stale;              /* the prologue must run before the next evaluation */
  nm_table_pos *pos;      /* per lane: the location of the last table lookup */
  double *regs;           /* n_regs * lanes; constants are preloaded */
  long max_delay;         /* largest NM_OP_HIST delay */
  struct nm_jit_code *native;   /* native code for `code` (jit_cache.c), NULL: none */
  int use_native;         /* this run evaluates `code` with `native` */
  int jit_state;          /* 0 not tried, 1 native, -1 refused or failed (not retried),
                             2 compiling in the background (`job`) */
  char *jit_why;          /* why jit_state is -1 (its own copy; NULL: not known), for jit = "require" */
  struct nm_jit_job *job; /* the background compile (jit_cache.c), NULL: none */
};

/* Everything a program reads and writes during one evaluation. */
typedef struct {
  double *V;              /* signals of the evaluation stage */
  const double *P;
  double *U;
  double *D;              /* derivatives */
  double t;
  const nm_hist *hist;
  nm_table2d *const *tables;
} nm_eval_ctx;

void nm_program_eval(nm_program *prog, const nm_eval_ctx *ctx);
/* The two halves of an evaluation, for threads: the prologue (once), then
** the main code over a range of lanes. */
void nm_program_prepare(nm_program *prog, const nm_eval_ctx *ctx);
void nm_program_eval_lanes(nm_program *prog, const nm_eval_ctx *ctx, size_t l0, size_t l1);
/* Parameters changed: the prologue runs again at the next evaluation. */
void nm_program_invalidate(nm_program *prog);
void nm_model_params_changed(nm_model *m);

/* The value of column `col` at fraction h->frac of the way from step j to
** step j + 1 (system.c); y0 is the value at step j. */
double nm_hist_between(const nm_hist *h, size_t col, size_t j, double y0);

/* Reads signal `sig` delayed by `delay` steps through the history view. */
static inline double nm_hist_read(const nm_hist *h, const double *V, long sig, int delay)
{
  if (delay == 0) return V[sig];
  if ((size_t)delay > h->reach) delay = (int)h->reach;
  size_t col = (size_t)h->column[sig], j = h->now - (size_t)delay;
  double past = h->ring[(j & h->mask) * h->width + col];
  if (h->frac == 0.0) return past;
  return nm_hist_between(h, col, j, past);
}

/* Compressed rows of coupling terms. */
typedef struct {
  int mode;
  size_t n_rows;
  long *dst, *self;
  size_t *row_ptr;
  long *src;
  int *delay;
  double *weight;
} nm_coupling;

typedef struct { nm_callback_fn fn; void *ud; void (*release)(void *ud); } nm_callback;
typedef struct { long sig; double lo, hi; } nm_clamp;
typedef struct { long sig; double period; } nm_wrap;
typedef struct { long dst, mu, sigma, tau; double x0; int white; } nm_noise;

struct nm_model {
  size_t n_state, n_aux, n_param, n_input;
  double *v0, *P;
  nm_program **progs[3];
  size_t n_progs[3];
  nm_coupling *couplings;
  size_t n_couplings;
  nm_clamp *clamps;
  size_t n_clamps;
  nm_wrap *wraps;
  size_t n_wraps;
  nm_noise *noises;
  size_t n_noises;
  nm_table2d **tables;
  size_t n_tables;
  nm_callback *callbacks;
  size_t n_callbacks;
  unsigned long param_version;  /* incremented whenever parameters change */
  nm_error err;                 /* the last refusal (nm_model_error) */
  int jit_pending;              /* programs compiling in the background (jit_cache.c) */
  int jit_live;                 /* the run may switch them to native code when ready */
};

/* Records why a call on `m` was refused (printf-style) and returns `status`. */
#define nm_model_fail(m, status, ...) nm_fail(&(m)->err, (status), __VA_ARGS__)

/* grow.c.  Grows *arr (of *n elements of `size` bytes) by one; returns the
** new slot (zeroed) or NULL (out of memory, or n + 1 elements past SIZE_MAX
** bytes: *arr kept). */
void *nm_grow(void *arr_ptr, size_t *n, size_t size);
/* The capacity, in elements of `size` bytes, that an array of capacity `cap`
** (0: none yet, then `first`) holding `have` elements grows to so that
** `more` fit: doubled until they do (have + more exactly where doubling
** would pass what can be counted); cap itself when they fit already.  0
** when have + more elements, or their bytes, cannot be counted in a size_t:
** the caller keeps its array and says which array was too large. */
size_t nm_grow_cap(size_t cap, size_t first, size_t have, size_t more, size_t size);

/* v as a message shows it with %g: a NaN without its sign bit, which prints
** "nan" (0.0 / 0.0 carries it on x86, and %g shows "-nan"; bind.h's
** nmL_pushvalue is the same rule for values handed to Lua). */
static inline double nm_shown(double v) { return v != v ? fabs(v) : v; }

/* numpy's pairwise summation (np.sum, np.mean) of a[0], a[stride], ...
** (n values): the analysis functions sum as numpy does (analysis_sum.c). */
double nm_pairwise_sum(const double *a, size_t n, size_t stride);
/* The same sum of a[k] * s (each term scaled before it is added; s = 1 is
** nm_pairwise_sum): the correlations' sums of data scaled by a power of two. */
double nm_pairwise_sum_scaled(const double *a, size_t n, size_t stride, double s);
/* The power of two 2^-e that brings max |x_k| = f 2^e (f in [0.5, 1)) near 1,
** for data whose squares, sums of squares or products of variances would
** overflow (|x| near 1e300) or underflow (near 1e-200): a correlation, or a
** normalised spectrum, is the same for x scaled by it, and a power of two
** scales every sum and product exactly.  1 (no scaling: numpy's numbers to the
** bit) when the magnitudes lie within 2^-200 .. 2^200, when x is all zero, or
** when it holds an inf or a NaN (left to give what numpy gives); e is kept
** within +-1021 so that 2^-e is a normal number. */
double nm_unit_scale(const double *x, size_t n);

#endif
