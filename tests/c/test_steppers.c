/*
** test_steppers.c: the time loop on small models built through the engine's
** API: orders of convergence of the fixed-step methods, accuracy of the
** adaptive GSL methods, delayed coupling sums and delayed reads, post-step
** clamps and wraps, Ornstein-Uhlenbeck noise, and the report of a blow-up.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/nm.h"
#include "engine/sim.h"
#include "test_main.h"

#define LEAF(op, slot) { (op), -1, -1, -1, 0.0, (slot), 0 }
#define CONSTANT(v) { NM_OP_CONST, -1, -1, -1, (v), 0, 0 }
#define UN(op, a) { (op), (a), -1, -1, 0.0, 0, 0 }
#define BIN(op, a, b) { (op), (a), (b), -1, 0.0, 0, 0 }
#define COUNT(arr) (sizeof (arr) / sizeof (arr)[0])

static const double TWO_PI = 6.283185307179586;

static const char *const method_name[] = { "euler", "heun", "rk4", "rkf45", "rk8pd", "msbdf" };


/* ---------------------------------------------------------------------
** Building and running models
** ------------------------------------------------------------------- */

/* Rows delivered by a run, appended across calls of the sink. */
typedef struct {
  double *data;
  size_t rows, cols, cap;
} rowbuf;


static int collect(void *ud, const double *rows, size_t n_rows, size_t n_cols)
{
  rowbuf *b = ud;
  if (b->rows && n_cols != b->cols) return 77;
  b->cols = n_cols;
  if ((b->rows + n_rows) * n_cols > b->cap) {
    size_t cap = 2 * (b->rows + n_rows) * n_cols;
    double *data = realloc(b->data, cap * sizeof *data);
    if (!data) return 78;
    b->data = data;
    b->cap = cap;
  }
  memcpy(b->data + b->rows * n_cols, rows, n_rows * n_cols * sizeof *rows);
  b->rows += n_rows;
  return 0;
}


static void rowbuf_free(rowbuf *b)
{
  free(b->data);
  memset(b, 0, sizeof *b);
}


static double cell(const rowbuf *b, size_t row, size_t col)
{
  return b->data[row * b->cols + col];
}


/* Compiles a graph and adds it to the model; the program is freed on failure. */
static int add_program(nm_model *m, int stage, const nm_node *nodes, size_t n,
                       const nm_root *roots, size_t n_roots, size_t lanes)
{
  nm_error err;
  nm_program *p = nm_program_compile(nodes, n, roots, n_roots, lanes, &err);
  if (!p) return err.status;
  int status = nm_model_add_program(m, stage, p);
  if (status != NM_OK) nm_program_free(p);
  return status;
}


/* Options recording `rec` every `every` steps into `out`, in small chunks so
** that rows cross several calls of the sink. */
static nm_run_opts options(int method, long n_steps, long every, const long *rec, size_t n_rec,
                           rowbuf *out)
{
  nm_run_opts o;
  memset(&o, 0, sizeof o);
  o.n_steps = n_steps;
  o.every = every;
  o.method = method;
  o.rtol = 1e-6;                  /* the adaptive integrators' tolerances (GSL's usual) */
  o.atol = 1e-9;
  o.record = rec;
  o.n_record = n_rec;
  o.sink = collect;
  o.sink_ud = out;
  o.chunk_rows = 7;
  return o;
}


/* A fresh simulation of `m` runs `o`; its status is returned. */
static int run(nm_model *m, double dt, unsigned long seed, const nm_run_opts *o)
{
  int status;
  nm_sim *s = nm_sim_new(m, dt, seed, &status);
  if (!s) return status;
  status = nm_sim_run(s, o);
  nm_sim_free(s);
  return status;
}


/* ---------------------------------------------------------------------
** (a) Orders of convergence of Euler, Heun and RK4
** ------------------------------------------------------------------- */

/*
** x' = y, y' = -w^2 x (x = cos wt, y = -w sin wt) and the non-autonomous
** z' = w z cos(wt) (z = exp(sin wt)), which checks the stage times too.
*/
static nm_model *oscillator(double w)
{
  nm_model *m = nm_model_new(3, 0, 1, 0);
  if (!m) return NULL;
  nm_node nodes[] = {
    LEAF(NM_OP_SIGNAL, 0), LEAF(NM_OP_SIGNAL, 1), LEAF(NM_OP_SIGNAL, 2), LEAF(NM_OP_PARAM, 0),
    BIN(NM_OP_MUL, 3, 3), BIN(NM_OP_MUL, 4, 0), UN(NM_OP_NEG, 5), LEAF(NM_OP_TIME, 0),
    BIN(NM_OP_MUL, 3, 7), UN(NM_OP_COS, 8), BIN(NM_OP_MUL, 2, 9), BIN(NM_OP_MUL, 10, 3),
  };
  nm_root roots[] = { { 1, NM_SINK_DERIV, 0 }, { 6, NM_SINK_DERIV, 1 }, { 11, NM_SINK_DERIV, 2 } };
  double v0[] = { 1.0, 0.0, 1.0 };
  if (add_program(m, NM_STAGE_RHS, nodes, COUNT(nodes), roots, 3, 1) != NM_OK ||
      nm_model_set_initial(m, v0, 3) != NM_OK || nm_model_set_param(m, 0, w) != NM_OK) {
    nm_model_free(m);
    return NULL;
  }
  return m;
}


/* The largest errors over [0, T] of the oscillator (in the energy norm) and of
** z: a maximum over the run, unlike the error at one time, cannot vanish by
** accident where the leading error term changes sign. */
static int max_errors(nm_model *m, double w, int method, double T, double dt, double err[2])
{
  static const long rec[] = { 0, 1, 2 };
  rowbuf b = { 0 };
  long n = lround(T / dt);
  nm_run_opts o = options(method, n, 1, rec, 3, &b);
  int rc = run(m, dt, 1, &o);
  err[0] = err[1] = 0.0;
  for (size_t i = 0; rc == NM_OK && i < b.rows; i++) {
    double t = cell(&b, i, 0);
    err[0] = fmax(err[0], hypot(cell(&b, i, 1) - cos(w * t), (cell(&b, i, 2) + w * sin(w * t)) / w));
    err[1] = fmax(err[1], fabs(cell(&b, i, 3) - exp(sin(w * t))));
  }
  if (rc == NM_OK && b.rows != (size_t)n) rc = 99;
  rowbuf_free(&b);
  return rc;
}


static void test_orders(void)
{
  const double w = 2.385 / 10, T = 40.0;
  nm_model *m = oscillator(w);
  if (!CHECK(m != NULL, "build the oscillator model")) return;
  /* Step sizes small enough to be in the asymptotic range, large enough to
  ** stay well above rounding (RK4's error at dt = 0.1 is still ~1e-9). */
  static const struct { int method; double order, dt; } cases[] = {
    { NM_EULER, 1.0, 0.01 }, { NM_HEUN, 2.0, 0.05 }, { NM_RK4, 4.0, 0.2 },
  };
  for (size_t i = 0; i < COUNT(cases); i++) {
    double coarse[2], fine[2];
    int rc1 = max_errors(m, w, cases[i].method, T, cases[i].dt, coarse);
    int rc2 = max_errors(m, w, cases[i].method, T, cases[i].dt / 2, fine);
    if (!CHECK(rc1 == NM_OK && rc2 == NM_OK, "%s runs (status %d, %d)",
               method_name[cases[i].method], rc1, rc2))
      continue;
    static const char *const problem[] = { "the oscillator", "z' = w z cos(wt)" };
    for (int k = 0; k < 2; k++) {
      double p = log2(coarse[k] / fine[k]);
      CHECK(fabs(p - cases[i].order) <= 0.1,
            "%s on %s: halving dt = %g shrinks the error %.3g by %.3f, order %.3f (want %g)",
            method_name[cases[i].method], problem[k], cases[i].dt, coarse[k], coarse[k] / fine[k],
            p, cases[i].order);
    }
  }
  nm_model_free(m);
}


/* ---------------------------------------------------------------------
** (b) Adaptive methods
** ------------------------------------------------------------------- */

/* z' = z cos(wt) and the logistic q' = r q (1 - q / K): positive, smooth, known. */
static void test_adaptive_smooth(void)
{
  const double w = 0.2385, r = 0.07183, K = 2.385, q0 = 0.1, dt = 0.25;
  nm_model *m = nm_model_new(2, 0, 3, 0);
  if (!CHECK(m != NULL, "create a model")) return;
  nm_node nodes[] = {
    LEAF(NM_OP_SIGNAL, 0), LEAF(NM_OP_SIGNAL, 1), LEAF(NM_OP_PARAM, 0), LEAF(NM_OP_TIME, 0),
    BIN(NM_OP_MUL, 2, 3), UN(NM_OP_COS, 4), BIN(NM_OP_MUL, 0, 5), LEAF(NM_OP_PARAM, 1),
    LEAF(NM_OP_PARAM, 2), BIN(NM_OP_DIV, 1, 8), CONSTANT(1.0), BIN(NM_OP_SUB, 10, 9),
    BIN(NM_OP_MUL, 7, 1), BIN(NM_OP_MUL, 12, 11),
  };
  nm_root roots[] = { { 6, NM_SINK_DERIV, 0 }, { 13, NM_SINK_DERIV, 1 } };
  double v0[] = { 1.0, q0 };
  int rc = add_program(m, NM_STAGE_RHS, nodes, COUNT(nodes), roots, 2, 1);
  nm_model_set_initial(m, v0, 2);
  nm_model_set_param(m, 0, w);
  nm_model_set_param(m, 1, r);
  nm_model_set_param(m, 2, K);
  if (!CHECK(rc == NM_OK, "build the smooth model (status %d)", rc)) { nm_model_free(m); return; }
  static const long rec[] = { 0, 1 };
  for (int method = NM_RKF45; method <= NM_RK8PD; method++) {
    rowbuf b = { 0 };
    nm_run_opts o = options(method, 400, 1, rec, 2, &b);
    o.rtol = 1e-12;
    o.atol = 1e-14;
    rc = run(m, dt, 1, &o);
    double worst = 0.0;
    int times_ok = b.rows == 400;
    for (size_t i = 0; i < b.rows; i++) {
      double t = cell(&b, i, 0);
      double z = exp(sin(w * t) / w), q = K / (1.0 + (K / q0 - 1.0) * exp(-r * t));
      worst = fmax(worst, fabs(cell(&b, i, 1) - z) / z);
      worst = fmax(worst, fabs(cell(&b, i, 2) - q) / q);
      times_ok = times_ok && t == (double)(i + 1) * dt;
    }
    CHECK(rc == NM_OK && times_ok, "%s gives 400 rows at multiples of dt (status %d, %zu rows)",
          method_name[method], rc, b.rows);
    CHECK(rc == NM_OK && worst <= 1e-10,
          "%s with rtol 1e-12, atol 1e-14: relative error %.3g <= 1e-10 at every row",
          method_name[method], worst);
    rowbuf_free(&b);
  }
  nm_model_free(m);
}


/*
** Stiff and linear: u' = -lambda (u - g) + g', g = 2 + sin(Wt), u(0) = 3, so
** u = g + exp(-lambda t) with lambda = 2385; and the classic pair
** x' = 998 x + 1998 y, y' = -999 x - 1999 y from (1, 0), eigenvalues -1 and -1000:
** x = 2 e^-t - e^-1000t, y = -e^-t + e^-1000t.
*/
static void test_adaptive_stiff(void)
{
  const double lambda = 2385.0, W = 0.7183, dt = 0.05;
  nm_model *m = nm_model_new(3, 0, 2, 0);
  if (!CHECK(m != NULL, "create a model")) return;
  nm_node nodes[] = {
    LEAF(NM_OP_SIGNAL, 0), LEAF(NM_OP_PARAM, 0), LEAF(NM_OP_PARAM, 1), LEAF(NM_OP_TIME, 0),
    BIN(NM_OP_MUL, 2, 3), UN(NM_OP_SIN, 4), CONSTANT(2.0), BIN(NM_OP_ADD, 6, 5),
    BIN(NM_OP_SUB, 0, 7), BIN(NM_OP_MUL, 1, 8), UN(NM_OP_NEG, 9), UN(NM_OP_COS, 4),
    BIN(NM_OP_MUL, 2, 11), BIN(NM_OP_ADD, 10, 12),
    /* 14.. the pair */
    LEAF(NM_OP_SIGNAL, 1), LEAF(NM_OP_SIGNAL, 2), CONSTANT(998.0), CONSTANT(1998.0),
    CONSTANT(-999.0), CONSTANT(-1999.0), BIN(NM_OP_MUL, 16, 14), BIN(NM_OP_MUL, 17, 15),
    BIN(NM_OP_ADD, 20, 21), BIN(NM_OP_MUL, 18, 14), BIN(NM_OP_MUL, 19, 15), BIN(NM_OP_ADD, 23, 24),
  };
  nm_root roots[] = { { 13, NM_SINK_DERIV, 0 }, { 22, NM_SINK_DERIV, 1 }, { 25, NM_SINK_DERIV, 2 } };
  double v0[] = { 3.0, 1.0, 0.0 };
  int rc = add_program(m, NM_STAGE_RHS, nodes, COUNT(nodes), roots, 3, 1);
  nm_model_set_initial(m, v0, 3);
  nm_model_set_param(m, 0, lambda);
  nm_model_set_param(m, 1, W);
  if (!CHECK(rc == NM_OK, "build the stiff model (status %d)", rc)) { nm_model_free(m); return; }
  static const long rec[] = { 0, 1, 2 };
  rowbuf b = { 0 };
  nm_run_opts o = options(NM_MSBDF, 200, 1, rec, 3, &b);
  o.rtol = 1e-10;
  o.atol = 1e-14;
  rc = run(m, dt, 1, &o);
  double worst_u = 0.0, worst_xy = 0.0;
  for (size_t i = 0; i < b.rows; i++) {
    double t = cell(&b, i, 0);
    double u = 2.0 + sin(W * t) + exp(-lambda * t);
    double x = 2.0 * exp(-t) - exp(-1000.0 * t), y = -exp(-t) + exp(-1000.0 * t);
    worst_u = fmax(worst_u, fabs(cell(&b, i, 1) - u) / u);
    worst_xy = fmax(worst_xy, hypot(cell(&b, i, 2) - x, cell(&b, i, 3) - y) / hypot(x, y));
  }
  CHECK(rc == NM_OK && b.rows == 200, "msbdf integrates the stiff problems to t = 10 "
        "(status %d, %zu rows)", rc, b.rows);
  /* The tolerance is a local one: over the ~10^3 steps of the run, the slow
  ** mode's global error grows to about 2e-7 (2000 rtol), so the bound is 1e-6. */
  CHECK(rc == NM_OK && worst_u <= 1e-6,
        "msbdf with rtol 1e-10: relative error of u %.3g <= 1e-6 at every row", worst_u);
  CHECK(rc == NM_OK && worst_xy <= 1e-6,
        "msbdf with rtol 1e-10: relative error of (x, y) %.3g <= 1e-6 at every row", worst_xy);
  rowbuf_free(&b);
  nm_model_free(m);
}


/* ---------------------------------------------------------------------
** (c) Delays
** ------------------------------------------------------------------- */

/* x_k for k < 0 is x_0: the constant history before t = 0. */
static double past(const double *x, long k)
{
  return x[k < 0 ? 0 : k];
}


/* x' = -U, U = w x(t - d dt) through a coupling sum; Euler reads whole steps. */
static void test_delay_coupling(void)
{
  enum { N = 200 };
  const double w = 0.7183, dt = 0.1, x0 = 2.385;
  static const int delays[] = { 0, 1, 3, 13 };
  for (size_t i = 0; i < COUNT(delays); i++) {
    int d = delays[i];
    nm_model *m = nm_model_new(1, 0, 0, 1);
    if (!CHECK(m != NULL, "create a model")) return;
    long dst = 0, src = 0;
    size_t row_ptr[] = { 0, 1 };
    nm_node nodes[] = { LEAF(NM_OP_INPUT, 0), UN(NM_OP_NEG, 0) };
    nm_root root = { 1, NM_SINK_DERIV, 0 };
    int rc = nm_model_add_coupling(m, NM_ADDITIVE, 1, &dst, NULL, row_ptr, &src, &d, &w);
    if (rc == NM_OK) rc = add_program(m, NM_STAGE_RHS, nodes, 2, &root, 1, 1);
    if (rc == NM_OK) rc = nm_model_set_initial(m, &x0, 1);
    CHECK(rc == NM_OK && nm_model_max_delay(m) == (size_t)d,
          "build x' = -%g x(t - %d dt) with a coupling sum (status %d)", w, d, rc);
    static const long rec[] = { 0 };
    rowbuf b = { 0 };
    nm_run_opts o = options(NM_EULER, N, 1, rec, 1, &b);
    rc = run(m, dt, 1, &o);
    double x[N + 1];
    x[0] = x0;
    for (long n = 0; n < N; n++) x[n + 1] = x[n] + dt * -(0.0 + w * past(x, n - d));
    int ok = rc == NM_OK && b.rows == N;
    long bad = -1;
    for (size_t k = 0; ok && k < b.rows; k++)
      if (cell(&b, k, 1) != x[k + 1]) { ok = 0; bad = (long)k + 1; }
    CHECK(ok, "Euler with delay %d steps follows x[n+1] = x[n] - dt w x[n-%d] step by step "
          "for %d steps (status %d, first differing step %ld, -1 for none)", d, d, N, rc, bad);
    rowbuf_free(&b);
    nm_model_free(m);
  }
}


/* The same delay through a delayed read in a program, with RK4: stage reads
** at half a step are cubic Hermite interpolants of the whole-step values and
** the derivatives stored there, (y0 + y1) / 2 + dt (f0 - f1) / 8; before
** t = 0 the history is constant. */
static void test_delay_hist_rk4(void)
{
  enum { N = 150 };
  const double w = 0.7183, dt = 0.1, x0 = 2.385;
  static const int delays[] = { 1, 4 };
  for (size_t i = 0; i < COUNT(delays); i++) {
    int d = delays[i];
    nm_model *m = nm_model_new(1, 0, 1, 0);
    if (!CHECK(m != NULL, "create a model")) return;
    nm_node nodes[] = { { NM_OP_HIST, -1, -1, -1, 0.0, 0, d }, LEAF(NM_OP_PARAM, 0),
                        BIN(NM_OP_MUL, 1, 0), UN(NM_OP_NEG, 2) };
    nm_root root = { 3, NM_SINK_DERIV, 0 };
    int rc = add_program(m, NM_STAGE_RHS, nodes, 4, &root, 1, 1);
    nm_model_set_initial(m, &x0, 1);
    nm_model_set_param(m, 0, w);
    static const long rec[] = { 0 };
    rowbuf b = { 0 };
    nm_run_opts o = options(NM_RK4, N, 1, rec, 1, &b);
    if (rc == NM_OK) rc = run(m, dt, 1, &o);
    double x[N + 1], f[N + 1];
    x[0] = x0;
    for (long n = 0; n < N; n++) {
      long j = n - d;
      double a = past(x, j), c = past(x, j + 1);
      f[n] = -(w * a);                     /* the derivative stored at step n */
      double mid = j < 0 ? a : 0.5 * (a + c) + dt * (f[j] - f[j + 1]) / 8.0;
      double k1 = f[n], k2 = -(w * mid), k4 = -(w * c);
      x[n + 1] = x[n] + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k2 + k4);
    }
    int ok = rc == NM_OK && b.rows == N;
    double worst = 0.0;
    for (size_t k = 0; ok && k < b.rows; k++)
      worst = fmax(worst, fabs(cell(&b, k, 1) - x[k + 1]) / fabs(x[k + 1]));
    CHECK(ok && worst <= 1e-14, "RK4 with a delayed read of %d steps follows the Hermite-"
          "interpolated recurrence for %d steps (status %d, relative error %.3g)", d, N, rc, worst);
    rowbuf_free(&b);
    nm_model_free(m);
  }
}


/* x(t) of x' = -x(t - 1) with x = 1 for t <= 0, by the method of steps:
** on [k, k + 1] x is a polynomial of degree k + 1 in u = t - k, integrated
** exactly from the one before (coefficients c[k][i] of u^i). */
static double dde_exact(double t)
{
  enum { K = 8 };
  double c[K + 1][K + 2] = { { 0 } };
  c[0][0] = 1.0;                    /* [-1, 0]: x = 1 */
  int k_end = (int)floor(t);
  double x = 1.0;
  for (int k = 0; k <= k_end && k < K; k++) {
    /* x(k + u) = x(k) - int_0^u x(k - 1 + v) dv */
    double *prev = c[k], *cur = c[k + 1];
    cur[0] = x;
    for (int i = 0; i <= k; i++) cur[i + 1] = -prev[i] / (double)(i + 1);
    double u = k == k_end ? t - k : 1.0, v = 0.0;
    for (int i = k + 1; i >= 0; i--) v = v * u + cur[i];
    x = v;
  }
  return x;
}


/* x' = -x(t - 1), constant past 1, read through a coupling sum: halving dt
** shrinks the error at t = T by 2^order (RK4 4, Heun 2, Euler 1).  Up to
** t = 3 the solution is a cubic on each unit interval, which RK4 with cubic
** Hermite history integrates exactly (to rounding: linear interpolation
** gave a second-order error there); by t = 7 it is of degree 7. */
static void test_delay_orders(void)
{
  static const struct { int method; double order; } cases[] = {
    { NM_RK4, 4.0 }, { NM_HEUN, 2.0 }, { NM_EULER, 1.0 },
  };
  const double T = 7.0, want = dde_exact(T);
  CHECK(fabs(dde_exact(1.0)) < 1e-15 && fabs(dde_exact(2.0) + 0.5) < 1e-15 &&
        fabs(dde_exact(3.0) + 1.0 / 6.0) < 1e-15,
        "the method of steps gives x(1) = 0, x(2) = -1/2, x(3) = -1/6 (got %.17g)", dde_exact(3.0));
  for (size_t i = 0; i < COUNT(cases); i++) {
    double err[4];
    int ok = 1;
    for (int h = 0; h < 4; h++) {
      int d = 10 << h;                 /* dt = 1 / d */
      double dt = 1.0 / d, w = 1.0, x0 = 1.0;
      nm_model *m = nm_model_new(1, 0, 0, 1);
      long dst = 0, src = 0;
      size_t row_ptr[] = { 0, 1 };
      nm_node nodes[] = { LEAF(NM_OP_INPUT, 0), UN(NM_OP_NEG, 0) };
      nm_root root = { 1, NM_SINK_DERIV, 0 };
      int rc = m ? nm_model_add_coupling(m, NM_ADDITIVE, 1, &dst, NULL, row_ptr, &src, &d, &w)
                 : NM_ENOMEM;
      if (rc == NM_OK) rc = add_program(m, NM_STAGE_RHS, nodes, 2, &root, 1, 1);
      if (rc == NM_OK) rc = nm_model_set_initial(m, &x0, 1);
      static const long rec[] = { 0 };
      rowbuf b = { 0 };
      nm_run_opts o = options(cases[i].method, 7L * d, d, rec, 1, &b);
      if (rc == NM_OK) rc = run(m, dt, 1, &o);
      ok = ok && rc == NM_OK && b.rows == 7 && cell(&b, 6, 0) == T;
      err[h] = ok ? fabs(cell(&b, 6, 1) - want) : NAN;
      if (ok && cases[i].method == NM_RK4)
        CHECK(fabs(cell(&b, 2, 1) - dde_exact(3.0)) < 1e-14, "rk4 at dt = 1/%d: x(3) = -1/6 to "
              "rounding (error %.3g)", d, fabs(cell(&b, 2, 1) - dde_exact(3.0)));
      rowbuf_free(&b);
      nm_model_free(m);
    }
    for (int h = 0; ok && h < 3; h++) {
      double p = log2(err[h] / err[h + 1]);
      CHECK(fabs(p - cases[i].order) <= 0.15,
            "%s on x' = -x(t - 1): halving dt = 1/%d shrinks the error at t = 7 (%.3g) by "
            "%.2f, order %.3f (want %g)", method_name[cases[i].method], 10 << h, err[h],
            err[h] / err[h + 1], p, cases[i].order);
    }
    CHECK(ok, "%s runs x' = -x(t - 1) at four step sizes", method_name[cases[i].method]);
  }
}


/* Two phases pulled by each other's delayed value, th_i' = w_i + k sin(th_j(t - d) - th_i),
** with or without wrapping to [0, 2 pi). */
static nm_model *phase_pair(int wrap, int d)
{
  nm_model *m = nm_model_new(2, 0, 2, 0);
  if (!m) return NULL;
  double v0[] = { 0.3, 5.9 };
  int rc = nm_model_set_initial(m, v0, 2);
  nm_model_set_param(m, 0, 1.3);
  nm_model_set_param(m, 1, 1.1);
  for (long i = 0; i < 2 && rc == NM_OK; i++) {
    nm_node nodes[] = { { NM_OP_HIST, -1, -1, -1, 0.0, 1 - i, d }, LEAF(NM_OP_SIGNAL, i),
                        BIN(NM_OP_SUB, 0, 1), UN(NM_OP_SIN, 2), CONSTANT(0.8), BIN(NM_OP_MUL, 4, 3),
                        LEAF(NM_OP_PARAM, i), BIN(NM_OP_ADD, 6, 5) };
    nm_root root = { 7, NM_SINK_DERIV, i };
    rc = add_program(m, NM_STAGE_RHS, nodes, COUNT(nodes), &root, 1, 1);
    if (rc == NM_OK && wrap) rc = nm_model_add_wrap(m, i, TWO_PI);
  }
  if (rc != NM_OK) { nm_model_free(m); return NULL; }
  return m;
}


/* Wrapping never changes the dynamics: delayed reads between steps go along
** the circle, not across the wrap (which moved RK4's phases by ~0.6 rad). */
static void test_delay_wrapped(void)
{
  enum { N = 1000 };
  static const long rec[] = { 0, 1 };
  for (int method = NM_EULER; method <= NM_RK4; method++) {
    nm_model *a = phase_pair(1, 20), *b = phase_pair(0, 20);
    rowbuf ra = { 0 }, rb = { 0 };
    nm_run_opts oa = options(method, N, 1, rec, 2, &ra), ob = options(method, N, 1, rec, 2, &rb);
    int rc = a && b ? run(a, 0.1, 1, &oa) : NM_ENOMEM;
    if (rc == NM_OK) rc = run(b, 0.1, 1, &ob);
    int ok = rc == NM_OK && ra.rows == N && rb.rows == N, crossed = 0;
    double worst = 0.0;
    for (size_t k = 0; ok && k < ra.rows; k++)
      for (size_t c = 1; c <= 2; c++) {
        double diff = cell(&ra, k, c) - cell(&rb, k, c);
        worst = fmax(worst, fabs(atan2(sin(diff), cos(diff))));
        crossed |= cell(&rb, k, c) > TWO_PI;
      }
    CHECK(ok && crossed && worst < 1e-11, "%s: wrapped phases with 20-step delays follow the "
          "unwrapped ones (status %d, largest angle %.3g rad)", method_name[method], rc, worst);
    rowbuf_free(&ra);
    rowbuf_free(&rb);
    nm_model_free(a);
    nm_model_free(b);
  }
}


/* Diffusive sums U_i = w_i (x_j(t - d_i) - x_i(t)) between two variables. */
static void test_delay_diffusive(void)
{
  enum { N = 120 };
  const double dt = 0.05, w[] = { 0.7183, 1.25 };
  const int d[] = { 2, 5 };
  nm_model *m = nm_model_new(2, 0, 0, 2);
  if (!CHECK(m != NULL, "create a model")) return;
  long dst[] = { 0, 1 }, self[] = { 0, 1 }, src[] = { 1, 0 };
  size_t row_ptr[] = { 0, 1, 2 };
  nm_node nodes[] = { LEAF(NM_OP_INPUT, 0) };
  nm_root root = { 0, NM_SINK_DERIV, 0 };
  double v0[] = { 2.385, -1.0 };
  int rc = nm_model_add_coupling(m, NM_DIFFUSIVE, 2, dst, self, row_ptr, src, d, w);
  if (rc == NM_OK) rc = add_program(m, NM_STAGE_RHS, nodes, 1, &root, 1, 2);
  nm_model_set_initial(m, v0, 2);
  static const long rec[] = { 0, 1 };
  rowbuf b = { 0 };
  nm_run_opts o = options(NM_EULER, N, 1, rec, 2, &b);
  if (rc == NM_OK) rc = run(m, dt, 1, &o);
  double x[2][N + 1];
  x[0][0] = v0[0];
  x[1][0] = v0[1];
  for (long n = 0; n < N; n++) {
    double u0 = 0.0 + w[0] * (past(x[1], n - d[0]) - x[0][n]);
    double u1 = 0.0 + w[1] * (past(x[0], n - d[1]) - x[1][n]);
    x[0][n + 1] = x[0][n] + dt * u0;
    x[1][n + 1] = x[1][n] + dt * u1;
  }
  int ok = rc == NM_OK && b.rows == N;
  for (size_t k = 0; ok && k < b.rows; k++)
    ok = cell(&b, k, 1) == x[0][k + 1] && cell(&b, k, 2) == x[1][k + 1];
  CHECK(ok, "diffusive sums with delays 2 and 5 steps follow the recurrence (status %d)", rc);
  rowbuf_free(&b);
  nm_model_free(m);
}


/*
** Irregular sparse sums (rows of 0 to n terms, in no particular order of
** source) over n variables: x_i' = A_i + B_i + C_i + E_i with A and B two
** additive sums over the same terms (weights w and w^2: summed in one pass),
** C a diffusive sum and E an additive sum alone (other delays).  Every sum must be, bit for bit, the sum of its own row's
** terms in the order given, whatever the engine does to overlap rows: on
** every instruction set of coupling_simd.c this processor has (blocks of 8
** or 4 rows, the rows' tails masked, a last block short), on one thread and
** on two, and summed over any range of rows (a thread's part).
*/
typedef struct {
  size_t n, *row_ptr;
  long *src, *dst, *dst2, *dst3, *dst4, *self;
  long *src3;               /* C's sources (those of A, B, E but under ascending_src) */
  int *d, *d2;              /* delays of A, B, C; of E */
  double *w, *w2;
  double *x;                /* the in-order trajectory, (STEPS + 1) x n */
} sparse;

enum { SPARSE_STEPS = 60 };
static const double SPARSE_DT = 0.05;

static double *sparse_x(const sparse *p, long n) { return p->x + (size_t)n * p->n; }


/* The in-order sums of step n: A, B (its twin), C (diffusive) and E, by row:
** sums[j * n + i] is sum j of row i. */
static void sparse_sums(const sparse *p, long n, double *sums)
{
  double *a = sums, *a2 = a + p->n, *c = a2 + p->n, *e = c + p->n;
  for (size_t i = 0; i < p->n; i++) {
    a[i] = a2[i] = c[i] = e[i] = 0.0;
    for (size_t k = p->row_ptr[i]; k < p->row_ptr[i + 1]; k++) {
      double xs = sparse_x(p, n - p->d[k] < 0 ? 0 : n - p->d[k])[p->src[k]];
      a[i] += p->w[k] * xs;
      a2[i] += p->w2[k] * xs;
      double x3 = sparse_x(p, n - p->d[k] < 0 ? 0 : n - p->d[k])[p->src3[k]];
      c[i] += p->w[k] * (x3 - sparse_x(p, n)[i]);
      e[i] += p->w[k] * sparse_x(p, n - p->d2[k] < 0 ? 0 : n - p->d2[k])[p->src[k]];
    }
  }
}


/* Delays for test_ahead_exact: row i's drawn from set i % 6, so that rows
** have least delays 0, 1, 3, 7, 20 and 6 (windows of 1, 2, 4, 8, 8 and 4
** steps: each window as long as its least delay allows, and one shorter). */
static const int AHEAD_SETS[6][6] = { { 0, 1, 2, 3, 7, 20 }, { 1, 2, 3, 7, 20 }, { 3, 7, 20 },
                                      { 7, 20 }, { 20 }, { 6, 20, 7 } };
static const size_t AHEAD_LEN[6] = { 6, 5, 3, 2, 1, 3 };


/* Row i's j-th source of len when the sources ascend (coupling_ahead.c's
** tiles of columns): some equal neighbours (j * 4 / 5), and rows i % 7 == 5
** descending, i % 7 == 6 their last source first (tiles out of order).  The
** sums that go ahead then read signals 1 to 0.8 n + 3; the diffusive sum
** reads others too (src + 50 mod n: signal 0 and the last ones), which the
** windows' copy of the history leaves out. */
static long ascending_src(size_t i, size_t j, size_t len)
{
  size_t at = i % 7 == 5 ? len - 1 - j : i % 7 == 6 ? (j + len - 1) % len : j;
  return (long)(at * 4 / 5 + i % 3 + 1);
}


/* The terms of n rows and their trajectory under Euler; `ahead`: the delays
** of AHEAD_SETS (A, B, C) and those plus 7 (E), else 0 to 8 (E: 4 more, mod
** 11); ahead 2: also the sources of ascending_src. */
static int sparse_build(sparse *p, size_t n, int ahead)
{
  size_t cap = n * n + 1;
  p->n = n;
  p->row_ptr = malloc((n + 1) * sizeof *p->row_ptr);
  p->src = malloc(2 * cap * sizeof *p->src);
  p->d = malloc(2 * cap * sizeof *p->d);
  p->w = malloc(cap * sizeof *p->w);
  p->w2 = malloc(cap * sizeof *p->w2);
  p->dst = malloc(5 * n * sizeof *p->dst);
  p->x = malloc((SPARSE_STEPS + 1) * n * sizeof *p->x);
  double *sums = malloc(4 * n * sizeof *sums);
  if (!p->row_ptr || !p->src || !p->d || !p->w || !p->w2 || !p->dst || !p->x || !sums) {
    free(sums);
    return 0;
  }
  p->src3 = p->src + cap;
  p->dst2 = p->dst + n;
  p->dst3 = p->dst + 2 * n;
  p->dst4 = p->dst + 3 * n;
  p->self = p->dst + 4 * n;
  p->d2 = p->d + cap;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    p->row_ptr[i] = k;
    size_t len = (i * 7 + 3) % (n + 1);             /* 3, 10, 5, 0, 7, ... terms (n = 11) */
    for (size_t j = 0; j < len; j++, k++) {
      p->src[k] = ahead == 2 ? ascending_src(i, j, len) : (long)((i * 5 + j * 3 + 1) % n);
      p->src3[k] = ahead == 2 ? (p->src[k] + 50) % (long)n : p->src[k];
      if (ahead) {
        p->d[k] = AHEAD_SETS[i % 6][(i * 3 + j) % AHEAD_LEN[i % 6]];
        p->d2[k] = p->d[k] + 7;
      } else {
        p->d[k] = (int)((i * 3 + j * 5) % 9);
        p->d2[k] = (p->d[k] + 4) % 11;
      }
      p->w[k] = 0.013 * (double)((i * 11 + j * 17) % 23) - 0.11;
      p->w2[k] = p->w[k] * p->w[k];
    }
    p->dst[i] = (long)i;
    p->dst2[i] = (long)(n + i);
    p->dst3[i] = (long)(2 * n + i);
    p->dst4[i] = (long)(3 * n + i);
    p->self[i] = (long)i;
    p->x[i] = 0.3 * (double)i - 1.1;
  }
  p->row_ptr[n] = k;
  for (long s = 0; s < SPARSE_STEPS; s++) {
    sparse_sums(p, s, sums);
    for (size_t i = 0; i < n; i++)
      sparse_x(p, s + 1)[i] = sparse_x(p, s)[i] +
                              SPARSE_DT * (sums[i] + sums[n + i] + sums[2 * n + i] + sums[3 * n + i]);
  }
  free(sums);
  return 1;
}


static int sparse_make(sparse *p, size_t n) { return sparse_build(p, n, 0); }


static void sparse_free(sparse *p)
{
  free(p->row_ptr);
  free(p->src);
  free(p->d);
  free(p->w);
  free(p->w2);
  free(p->dst);
  free(p->x);
}


/* The model x' = A + B + C + E of p; NULL (status in *rc) when refused. */
static nm_model *sparse_model(const sparse *p, int *rc)
{
  size_t n = p->n;
  nm_model *m = nm_model_new(n, 0, 0, 4 * n);
  if (!m) { *rc = NM_ENOMEM; return NULL; }
  nm_node nodes[] = { LEAF(NM_OP_INPUT, 0), LEAF(NM_OP_INPUT, (long)n), BIN(NM_OP_ADD, 0, 1),
                      LEAF(NM_OP_INPUT, 2 * (long)n), BIN(NM_OP_ADD, 2, 3),
                      LEAF(NM_OP_INPUT, 3 * (long)n), BIN(NM_OP_ADD, 4, 5) };
  nm_root root = { 6, NM_SINK_DERIV, 0 };
  *rc = nm_model_add_coupling(m, NM_ADDITIVE, n, p->dst, NULL, p->row_ptr, p->src, p->d, p->w);
  if (*rc == NM_OK)
    *rc = nm_model_add_coupling(m, NM_ADDITIVE, n, p->dst2, NULL, p->row_ptr, p->src, p->d, p->w2);
  if (*rc == NM_OK)
    *rc = nm_model_add_coupling(m, NM_DIFFUSIVE, n, p->dst3, p->self, p->row_ptr, p->src3, p->d, p->w);
  if (*rc == NM_OK)
    *rc = nm_model_add_coupling(m, NM_ADDITIVE, n, p->dst4, NULL, p->row_ptr, p->src, p->d2, p->w);
  if (*rc == NM_OK) *rc = add_program(m, NM_STAGE_RHS, nodes, COUNT(nodes), &root, 1, n);
  if (*rc == NM_OK) *rc = nm_model_set_initial(m, p->x, n);
  if (*rc != NM_OK) { nm_model_free(m); return NULL; }
  return m;
}


/* Whether the 4 sums U of n rows hold want[] in rows r0 .. r1-1 (bit for bit,
** NaN for NaN) and `sentinel` in the others. */
static int range_written(const double *U, size_t n, const double *want, size_t r0, size_t r1,
                         double sentinel)
{
  for (size_t i = 0; i < 4 * n; i++) {
    size_t row = i % n;
    double expect = row >= r0 && row < r1 ? want[i] : sentinel;
    if (memcmp(&U[i], &expect, sizeof expect) != 0 && !(isnan(U[i]) && isnan(expect))) return 0;
  }
  return 1;
}


/* After the run: the sums of every range of rows r0 .. r1-1 against the
** in-order ones, bit for bit (NaN for NaN), and no row outside the range
** written.  Returns the first failing range's r0 * 1000 + r1, or -1. */
static long sparse_ranges(const sparse *p, nm_sim *s)
{
  size_t n = p->n;
  const double SENTINEL = -7.25e300;
  double *want = malloc(4 * n * sizeof *want);
  if (!want) return 0;
  sparse_sums(p, SPARSE_STEPS, want);
  long bad = -1;
  for (size_t r0 = 0; r0 < n && bad < 0; r0++)
    for (size_t r1 = r0 + 1; r1 <= n && bad < 0; r1++) {
      for (size_t i = 0; i < 4 * n; i++) s->U[i] = SENTINEL;
      nm_couplings_eval_rows(s, s->V, s->step, r0, r1);
      if (!range_written(s->U, n, want, r0, r1, SENTINEL)) bad = (long)(r0 * 1000 + r1);
    }
  free(want);
  return bad;
}


/* sparse_ranges with signal 0 infinite now (in the signals, the history and
** the trajectory): the rows that read it are NaN or infinite, the others
** finite, whatever their block's padding reads (offset 0 may be signal 0). */
static long sparse_ranges_inf(sparse *p, nm_sim *s)
{
  double *row = s->ring + (s->step & (s->depth - 1)) * s->width, *mirror = row + s->depth * s->width;
  double keep = s->V[0];
  s->V[0] = row[s->column[0]] = mirror[s->column[0]] = sparse_x(p, SPARSE_STEPS)[0] = INFINITY;
  long bad = sparse_ranges(p, s);
  s->V[0] = row[s->column[0]] = mirror[s->column[0]] = sparse_x(p, SPARSE_STEPS)[0] = keep;
  return bad;
}


/* Rows r0 .. r1-1, out of order: the odd ones from the last down, then the
** even ones up. */
static size_t scattered(size_t r0, size_t r1, size_t *list)
{
  size_t n = 0;
  for (size_t r = r1; r-- > r0;)
    if (r % 2) list[n++] = r;
  for (size_t r = r0; r < r1; r++)
    if (r % 2 == 0) list[n++] = r;
  return n;
}


/* The sums of p's rows through blocks of scattered rows (coupling_simd.c's
** nm_coupling_blocks_make_rows, as coupling.c lays out the rows that do not
** go ahead): for every range r0 .. r1-1, its rows out of order in blocks of
** each sum (the twins, the diffusive sum, the other), bit for bit the in-order
** sums, nothing else written.  *made counts the ranges laid out (a range
** whose padding would be most of its terms is left to the scalar loop).
** Returns the first failing range's r0 * 1000 + r1, or -1. */
static long sparse_scattered(const sparse *p, nm_sim *s, size_t *made)
{
  size_t n = p->n, *list = malloc(n * sizeof *list);
  const double SENTINEL = -7.25e300;
  double *want = malloc(4 * n * sizeof *want);
  long bad = list && want ? -1 : 0;
  if (want) sparse_sums(p, SPARSE_STEPS, want);
  const double *base = s->ring + ((s->step & (s->depth - 1)) + s->depth) * s->width;
  for (size_t r0 = 0; r0 < n && bad < 0; r0++)
    for (size_t r1 = r0 + 1; r1 <= n && bad < 0; r1++) {
      size_t len = scattered(r0, r1, list);
      for (size_t i = 0; i < 4 * n; i++) s->U[i] = SENTINEL;
      for (size_t i = 0; i < s->n_fast && bad < 0; i++) {
        const nm_fast_coupling *f = &s->fast[i];
        nm_coupling_blocks b;
        if (f->is_twin) continue;
        if (nm_coupling_blocks_make_rows(&b, f->blocks.simd, f->c, f->twin, f->off, list, len) != NM_OK)
          bad = 0;
        if (b.rows) {
          nm_coupling_blocks_eval(&b, f->c, f->twin, base, s->V, s->U, 0, b.n_blocks);
          (*made)++;
        } else {                     /* not laid out: the expected sums, for the check below */
          for (size_t r = r0; r < r1; r++) {
            s->U[f->c->dst[r]] = want[f->c->dst[r]];
            if (f->twin) s->U[f->twin->dst[r]] = want[f->twin->dst[r]];
          }
        }
        nm_coupling_blocks_free(&b);
      }
      if (bad < 0 && !range_written(s->U, n, want, r0, r1, SENTINEL)) bad = (long)(r0 * 1000 + r1);
    }
  free(want);
  free(list);
  return bad;
}


/* Runs p on `threads` threads with the coupling path NEUROMASS_SIMD = `path`
** and checks the trajectory; on one thread, also every range of rows. */
static void sparse_check(sparse *p, const char *path, int threads)
{
  size_t n = p->n;
  int rc;
  nm_model *m = sparse_model(p, &rc);
  nm_sim *s = m ? nm_sim_new(m, SPARSE_DT, 1, &rc) : NULL;
  long *rec = malloc(n * sizeof *rec);
  rowbuf b = { 0 };
  if (s && rec) {
    for (size_t i = 0; i < n; i++) rec[i] = (long)i;
    nm_run_opts o = options(NM_EULER, SPARSE_STEPS, 1, rec, n, &b);
    o.threads = threads;
    rc = nm_sim_run(s, &o);
  }
  int ok = s && rec && rc == NM_OK && b.rows == SPARSE_STEPS;
  int set = strcmp(path, "avx512") == 0 ? NM_SIMD_AVX512 : strcmp(path, "avx2") == 0 ? NM_SIMD_AVX2
            : NM_SIMD_OFF;
  size_t rows = set == NM_SIMD_AVX512 ? 8 : set == NM_SIMD_AVX2 ? 4 : 0;
  /* the sums run on the path named; the diffusive one on its own set of it (simd.c) */
  int dset = nm_simd_diffusive(set);
  size_t drows = dset == NM_SIMD_AVX512 ? 8 : dset == NM_SIMD_AVX2 ? 4 : 0;
  for (size_t i = 0; ok && i < s->n_fast; i++)
    if (!s->fast[i].is_twin &&
        s->fast[i].blocks.rows != (s->fast[i].c->mode == NM_DIFFUSIVE ? drows : rows)) ok = 0;
  long bad = -1;
  for (size_t k = 0; ok && k < b.rows; k++)
    for (size_t i = 0; i < n && ok; i++)
      if (cell(&b, k, i + 1) != sparse_x(p, (long)k + 1)[i]) { ok = 0; bad = (long)k + 1; }
  CHECK(ok, "irregular sparse sums (%zu rows of 0 to %zu terms, twin additive sums, a diffusive "
        "sum, an additive one), path %s (blocks of %zu rows), %d thread(s): equal their rows "
        "summed in order, bit for bit, for %d steps (status %d, first differing step %ld)", n, n,
        path, rows, threads, SPARSE_STEPS, rc, bad);
  if (ok && rows) {                 /* blocks of scattered rows, after the run on 1 or 2 threads */
    size_t made = 0;
    bad = sparse_scattered(p, s, &made);
    CHECK(bad < 0 && made >= n, "the same sums, path %s, %d thread(s), through blocks of any rows "
          "(every range r0 .. r1-1 of the %zu rows, out of order; %zu laid out): each row's in-order "
          "sum, bit for bit, nothing else written (first failing range %ld .. %ld)", path, threads,
          n, made, bad < 0 ? -1 : bad / 1000, bad < 0 ? -1 : bad % 1000);
    double *row = s->ring + (s->step & (s->depth - 1)) * s->width, *mirror = row + s->depth * s->width;
    double keep = s->V[0];
    s->V[0] = row[s->column[0]] = mirror[s->column[0]] = sparse_x(p, SPARSE_STEPS)[0] = INFINITY;
    made = 0;
    bad = sparse_scattered(p, s, &made);
    s->V[0] = row[s->column[0]] = mirror[s->column[0]] = sparse_x(p, SPARSE_STEPS)[0] = keep;
    CHECK(bad < 0 && made >= n, "the same, path %s, %zu rows, through blocks of any rows, with "
          "signal 0 infinite now: only the rows that read it are not finite (first failing range "
          "%ld .. %ld)", path, n, bad < 0 ? -1 : bad / 1000, bad < 0 ? -1 : bad % 1000);
  }
  if (ok && threads == 1) {
    bad = sparse_ranges(p, s);
    CHECK(bad < 0, "the same sums, path %s, over every range r0 .. r1-1 of the %zu rows: each "
          "row's in-order sum, bit for bit, and nothing outside the range written (first "
          "failing range %ld .. %ld)", path, n, bad < 0 ? -1 : bad / 1000, bad < 0 ? -1 : bad % 1000);
    bad = sparse_ranges_inf(p, s);
    CHECK(bad < 0, "the same, path %s, %zu rows, with signal 0 infinite now: only the rows "
          "that read it are not finite (first failing range %ld .. %ld)", path, n,
          bad < 0 ? -1 : bad / 1000, bad < 0 ? -1 : bad % 1000);
  }
  rowbuf_free(&b);
  free(rec);
  nm_sim_free(s);
  nm_model_free(m);
}


/* A hub: row 0 of 16 has 40 terms, the others one.  Padded to blocks of 8
** rows (avx512) it would be 6 times its terms: it stays on the scalar loop.
** Blocks of 4 rows (avx2) are never padded past 4 times (the limit), so there
** it takes blocks.  Either way each row's sum is the scalar one, bit for bit.
** `path` is the gather set in force (NEUROMASS_SIMD). */
static void test_sparse_hub(int path)
{
  enum { N = 16, HUB = 40, TERMS = HUB + N - 1 };
  size_t row_ptr[N + 1];
  long dst[N], src[TERMS];
  int d[TERMS];
  double w[TERMS], v0[N], want[N];
  size_t k = 0;
  for (size_t i = 0; i < N; i++) {
    row_ptr[i] = k;
    dst[i] = (long)i;
    v0[i] = 0.37 * (double)i - 2.0;
    for (size_t j = 0; j < (i == 0 ? (size_t)HUB : 1); j++, k++) {
      src[k] = (long)((i + 3 * j + 1) % N);
      d[k] = (int)(j % 5);
      w[k] = 0.07 * (double)((5 * j + i) % 13) - 0.4;
    }
  }
  row_ptr[N] = k;
  for (size_t i = 0; i < N; i++) {
    want[i] = 0.0;
    for (size_t t = row_ptr[i]; t < row_ptr[i + 1]; t++) want[i] += w[t] * v0[src[t]];
  }
  int rc;
  nm_model *m = nm_model_new(N, 0, 0, N);
  nm_sim *s = NULL;
  rc = m ? nm_model_add_coupling(m, NM_ADDITIVE, N, dst, NULL, row_ptr, src, d, w) : NM_ENOMEM;
  if (rc == NM_OK) rc = nm_model_set_initial(m, v0, N);
  if (rc == NM_OK) s = nm_sim_new(m, 0.1, 1, &rc);
  int blocked = path != NM_SIMD_OFF && path != NM_SIMD_AVX512;
  int ok = s && (s->fast[0].blocks.rows != 0) == blocked;
  if (s) nm_couplings_eval_rows(s, s->V, 0, 0, N);
  for (size_t i = 0; ok && i < N; i++) ok = memcmp(&s->U[i], &want[i], sizeof want[i]) == 0;
  CHECK(ok, "a hub row of %d terms among rows of 1 (path %s): %s, the scalar sums in "
        "order (status %d)", HUB, nm_simd_name(path), blocked ? "blocks of 4 rows" : "no blocks", rc);
  nm_sim_free(s);
  nm_model_free(m);
}


/* The groups of windows sum f has: bit K set for a group of K steps. */
static unsigned ahead_windows(const nm_fast_coupling *f)
{
  unsigned got = 0;
  for (int g = 0; g < f->n_ahead; g++) got |= 1u << f->ahead[g].K;
  return got;
}


/* The sparse sums of AHEAD_SETS' delays (coupling_ahead.c: rows K steps at a
** time) on path `path`, run whole and in runs of odd lengths (windows cut
** and restarted mid-way), on 1 thread and alternating 1 and 2: the in-order
** trajectory bit for bit; then the sums at the last step against the
** in-order ones.  A, B: twins with rows of every window (and rows of delay 0,
** coupling.c's); C diffusive: the windows of A, its values staged in blocks
** of SIMD lanes when `stage` (nm_simd_stage_set; none on the path without
** SIMD), else gathered every step; E: every row of 8 steps. */
static void ahead_check(sparse *p, const char *path, int stage)
{
  static const long chunks[] = { 1, 3, 5, 7, 13, 2, 29 };     /* 60 steps */
  size_t n = p->n;
  for (int cut = 0; cut <= 2; cut++) {
    int rc = NM_ENOMEM;
    nm_model *m = sparse_model(p, &rc);
    nm_sim *s = m ? nm_sim_new(m, SPARSE_DT, 1, &rc) : NULL;
    long *rec = malloc(n * sizeof *rec);
    rowbuf b = { 0 };
    int ok = s && rec && s->n_fast == 4;
    size_t lanes = strcmp(path, "avx512") == 0 ? 8 : strcmp(path, "avx2") == 0 ? 4 : 0;
    /* (in plain C, no windows: coupling.c's rows were faster, coupling_ahead.c sum_ahead) */
    if (lanes == 0)
      ok = ok && s->fast[0].n_ahead == 0 && s->fast[1].is_twin && s->fast[3].n_ahead == 0 && !s->sring;
    else
      ok = ok && ahead_windows(&s->fast[0]) == (1u << 8 | 1u << 4) && !s->fast[0].all_ahead &&
           s->fast[1].is_twin && s->fast[3].all_ahead && s->sring &&
           s->fast[0].stay_blocks.rows == lanes;
    /* (11 rows on 8 lanes: the rows of 4 steps, 11, 5 and 2 terms, would be one
    ** block padded past 4 times its terms: coupling_simd.c makes none, so no group) */
    unsigned staged = lanes == 0 || !stage ? 0 : lanes == 8 && n == 11 ? 1u << 8 : 1u << 8 | 1u << 4;
    ok = ok && s->stage_diffusive == (stage && lanes) && ahead_windows(&s->fast[2]) == staged &&
         (!staged || s->fast[2].stay_blocks.rows == lanes) && (staged || s->fast[2].blocks.rows == lanes);
    for (int g = 0; ok && g < s->fast[2].n_ahead; g++) ok = s->fast[2].ahead[g].blk.rows == lanes;
    if (lanes)
      CHECK(ok, "%zu rows, path %s: the twin sums have windows of 8 and 4 steps and rows of least "
            "delay 0 to 2 (in blocks of %zu scattered rows), the diffusive one %s, the sum of "
            "delays >= 7 every row in windows of 8", n, path, lanes,
            staged ? "the same windows, staged in blocks" : "none (gathered in blocks)");
    else
      CHECK(ok, "%zu rows, path off: no sum has windows (their loops in plain C cost more than "
            "the rows), and there is no copy of the history for them", n);
    size_t tiles = ok && lanes ? s->fast[3].ahead[0].n_tiles : 0, used = 0;
    for (long j = 0; j < (long)n; j++)                /* the columns E's rows read */
      for (size_t k = 0; k < p->row_ptr[n]; k++)
        if (p->src[k] == j) { used++; break; }
    size_t want_tiles = (used - 1) / 20 + 1;
    if (ok && lanes && p->src3[0] != p->src[0] && !staged)  /* ascending_src: the diffusive sum reads more */
      CHECK(s->sring_c0 > 0 && s->sring_c0 + s->sring_n < s->width && s->sring_n == used,
            "%zu rows, path %s: the windows' copy of the history keeps only the %zu columns "
            "they read (columns %zu .. %zu of %zu)", n, path, used, s->sring_c0,
            s->sring_c0 + s->sring_n - 1, s->width);
    if (lanes)
      CHECK(tiles == want_tiles, "%zu rows, path %s: the windows go over the history in %zu tiles "
            "of 20 columns (got %zu)", n, path, want_tiles, tiles);
    for (size_t i = 0; ok && i < n; i++) rec[i] = (long)i;
    for (size_t c = 0; ok && rc == NM_OK && c < (cut ? COUNT(chunks) : 1); c++) {
      nm_run_opts o = options(NM_EULER, cut ? chunks[c] : SPARSE_STEPS, 1, rec, n, &b);
      o.threads = cut == 2 ? 1 + (int)(c % 2) : 1;
      rc = nm_sim_run(s, &o);
    }
    ok = ok && rc == NM_OK && b.rows == SPARSE_STEPS;
    long bad = -1;
    for (size_t k = 0; ok && k < b.rows; k++)
      for (size_t i = 0; i < n && ok; i++)
        if (cell(&b, k, i + 1) != sparse_x(p, (long)k + 1)[i]) { ok = 0; bad = (long)k + 1; }
    static const char *const how[] = { "one run", "runs of 1, 3, 5, 7, 13, 2, 29 steps",
                                       "those runs on 1 and 2 threads in turn" };
    CHECK(ok, "%zu rows with delays 0, 1, 2, 3, 6, 7, 20, path %s, diffusive sum %s, %s: the "
          "trajectory of the sums in order, bit for bit, for %d steps (status %d, first differing "
          "step %ld)", n, path, staged ? "staged" : "not staged", how[cut], SPARSE_STEPS, rc, bad);
    if (ok) {                     /* the sums of the last step: a new window, then from it */
      double *want = malloc(4 * n * sizeof *want);
      for (int again = 0; want && again < 2; again++) {
        for (size_t i = 0; i < 4 * n; i++) s->U[i] = -7.25e300;
        nm_couplings_eval(s, s->V, 0.0);
        sparse_sums(p, SPARSE_STEPS, want);
        ok = ok && memcmp(s->U, want, 4 * n * sizeof *want) == 0;
      }
      CHECK(want && ok, "%zu rows, path %s, diffusive sum %s, %s: the sums at step %d, twice, are "
            "the in-order sums bit for bit", n, path, staged ? "staged" : "not staged", how[cut],
            SPARSE_STEPS);
      free(want);
    }
    rowbuf_free(&b);
    free(rec);
    nm_sim_free(s);
    nm_model_free(m);
  }
}


static void test_ahead_exact(void)
{
  static const char *const paths[] = { "off", "avx2", "avx512" };
  const char *given = getenv("NEUROMASS_SIMD");
  char *saved = given ? strdup(given) : NULL;
  static const size_t sizes[] = { 11, 37, 61 };   /* 61: sources ascending, in 3 tiles */
  for (size_t z = 0; z < COUNT(sizes); z++) {
    size_t n = sizes[z];
    sparse p;
    if (!CHECK(sparse_build(&p, n, z == 2 ? 2 : 1), "allocate %zu sparse rows", n)) { sparse_free(&p); break; }
    for (int path = NM_SIMD_OFF; path <= NM_SIMD_AVX512; path++) {
      int got = -1;
      setenv("NEUROMASS_SIMD", paths[path], 1);
      if (nm_simd_choose(NULL, &got, NULL) != NM_OK || got != path) {
        printf("SKIP ahead path %s: not on this processor\n", paths[path]);
        continue;
      }
      for (int stage = 1; stage >= 0; stage--) {     /* staged, then gathered */
        nm_simd_stage_set(stage);
        ahead_check(&p, paths[path], stage);
      }
      nm_simd_stage_set(-1);
    }
    sparse_free(&p);
  }
  if (saved) setenv("NEUROMASS_SIMD", saved, 1); else unsetenv("NEUROMASS_SIMD");
  free(saved);
}


/* A diffusive sum whose staged values would outgrow NM_STAGE_MAX (4 MB:
** coupling_ahead.c) keeps the gathers: 600 rows of 600 terms, all delayed by
** 8 steps (one window of 8: 600 * 600 * 8 values, 23 MB), has no group on
** any path; 100 rows of the same (0.64 MB) have theirs where there are SIMD
** blocks.  So does a sum of 100 rows 70 of which are delayed by 8 steps and
** the others by 1 (their rows stay), but not one with 30 such rows (fewer
** than half its terms in rows with windows: coupling_ahead.c mostly_staged). */
static void test_staged_cap(void)
{
  static const size_t sizes[] = { 600, 100, 100, 100, 100 }, far[] = { 600, 100, 70, 30, 100 };
  for (size_t z = 0; z < COUNT(sizes); z++) {
    nm_simd_stage_set(z < 4);             /* the last: staging off (nm_simd_stages), not staged */
    size_t n = sizes[z], terms = n * n;
    size_t *row_ptr = malloc((n + 1) * sizeof *row_ptr);
    long *src = malloc(terms * sizeof *src), *dst = malloc(n * sizeof *dst);
    int *delay = malloc(terms * sizeof *delay);
    double *w = malloc(terms * sizeof *w), *x0 = calloc(n, sizeof *x0);
    int rc = NM_ENOMEM;
    nm_model *m = row_ptr && src && dst && delay && w && x0 ? nm_model_new(n, 0, 0, n) : NULL;
    for (size_t i = 0; m && i < n; i++) {
      row_ptr[i] = i * n;
      dst[i] = (long)i;
      for (size_t j = 0; j < n; j++) {
        src[i * n + j] = (long)j;
        delay[i * n + j] = i < far[z] ? 8 : 1;
        w[i * n + j] = 1e-3;
      }
    }
    if (m) {
      row_ptr[n] = terms;
      rc = nm_model_add_coupling(m, NM_DIFFUSIVE, n, dst, dst, row_ptr, src, delay, w);
    }
    if (rc == NM_OK) rc = nm_model_set_initial(m, x0, n);
    nm_sim *s = rc == NM_OK ? nm_sim_new(m, 0.1, 1, &rc) : NULL;
    int simd = s ? s->coupling_simd : NM_SIMD_OFF;
    int want = (z == 1 || z == 2) && simd != NM_SIMD_OFF;
    CHECK(s && s->fast[0].n_ahead == want && (!want || s->fast[0].ahead[0].K == 8),
          "a diffusive sum of %zu rows of %zu terms, %zu rows delayed by 8 steps, the others by 1: "
          "%s (status %d, %d groups)", n, n, far[z],
          want ? "staged in one window of 8" : z == 0 ? "past 4 MB of values, not staged"
          : z == 3 ? "under half its terms in rows with windows, not staged"
          : z == 4 && simd != NM_SIMD_OFF ? "staging off, not staged" : "no SIMD blocks, not staged",
          rc, s ? s->fast[0].n_ahead : -1);
    nm_sim_free(s);
    nm_model_free(m);
    free(row_ptr);
    free(src);
    free(dst);
    free(delay);
    free(w);
    free(x0);
  }
  nm_simd_stage_set(-1);
}


/* The rule of staging (simd.c nm_simd_stages): staged where the gathers are
** slow (nm_simd_gathers_slow_of: a processor not Intel's, or Intel's with
** the Gather Data Sampling microcode mitigation), never without gathers; a
** new simulation reads it with its gathers (s->stage_diffusive). */
static void test_stage_rule(void)
{
  CHECK(nm_simd_gathers_slow_of(0, "") && nm_simd_gathers_slow_of(0, "Not affected\n") &&
        !nm_simd_gathers_slow_of(1, "Not affected\n") && !nm_simd_gathers_slow_of(1, "") &&
        !nm_simd_gathers_slow_of(1, "Vulnerable\n") &&
        !nm_simd_gathers_slow_of(1, "Mitigation: AVX disabled, no microcode\n") &&
        nm_simd_gathers_slow_of(1, "Mitigation: Microcode\n"),
        "gathers are slow on a processor not Intel's, or Intel's with the GDS microcode mitigation");
  for (int fixed = -1; fixed <= 1; fixed++) {
    nm_simd_stage_set(fixed);
    CHECK(nm_simd_stages(NM_SIMD_OFF) == 0 &&
          (fixed < 0 || (nm_simd_stages(NM_SIMD_AVX2) == fixed && nm_simd_stages(NM_SIMD_AVX512) == fixed)),
          "staging set to %d: never without gathers, else as set", fixed);
    /* diffusive sums on AVX2 where gathers are slow: the scalar loop, unless staging is fixed */
    int slow = fixed < 0 && nm_simd_stages(NM_SIMD_AVX2);
    CHECK(nm_simd_diffusive(NM_SIMD_OFF) == NM_SIMD_OFF && nm_simd_diffusive(NM_SIMD_AVX512) == NM_SIMD_AVX512 &&
          nm_simd_diffusive(NM_SIMD_AVX2) == (slow ? NM_SIMD_OFF : NM_SIMD_AVX2),
          "staging set to %d, gathers %s: diffusive sums gather on AVX-512 as the others, on AVX2 %s", fixed,
          fixed >= 0 ? "(any)" : slow ? "slow" : "not slow", slow ? "not (the scalar loop)" : "too");
  }
  sparse p;
  if (!CHECK(sparse_make(&p, 11), "allocate 11 sparse rows")) { sparse_free(&p); return; }
  int rc = NM_OK;
  nm_model *m = sparse_model(&p, &rc);
  nm_sim *s = m ? nm_sim_new(m, SPARSE_DT, 1, &rc) : NULL;
  CHECK(s && s->diffusive_simd == nm_simd_diffusive(s->coupling_simd) &&
        s->stage_diffusive == nm_simd_stages(s->diffusive_simd),
        "a new simulation gathers (%s) and stages (%d) its diffusive sums by the rule",
        s ? nm_simd_name(s->diffusive_simd) : "-", s ? s->stage_diffusive : -1);
  nm_sim_free(s);
  nm_model_free(m);
  sparse_free(&p);
}


/* A simulation's kernels follow one reading of the SIMD rule (simd.c's
** nm_simd_choose, in nm_sim_new): the level for the services and the lines,
** the gathers' set for every coupling block, whatever NEUROMASS_SIMD says. */
static void simd_one_reading(void)
{
  static const char *const values[] = { "off", "avx2", "avx512", "auto" };
  sparse p;
  if (!CHECK(sparse_make(&p, 11), "allocate 11 sparse rows")) { sparse_free(&p); return; }
  for (size_t v = 0; v < COUNT(values); v++) {
    setenv("NEUROMASS_SIMD", values[v], 1);
    int level = -1, gather = -1, rc = nm_simd_choose(&level, &gather, NULL);
    nm_model *m = rc == NM_OK ? sparse_model(&p, &rc) : NULL;
    nm_sim *s = m ? nm_sim_new(m, SPARSE_DT, 1, &rc) : NULL;
    int same = s && s->simd == level && s->coupling_simd == gather && level == nm_simd_level() &&
               gather == level && s->diffusive_simd == nm_simd_diffusive(gather);
    for (size_t i = 0; same && i < s->n_fast; i++) {
      const nm_fast_coupling *f = &s->fast[i];
      int set = f->c->mode == NM_DIFFUSIVE ? s->diffusive_simd : gather;
      same = f->line_simd == s->simd && (!f->blocks.rows || f->blocks.simd == set) &&
             (!f->stay_blocks.rows || f->stay_blocks.simd == set);
      for (int g = 0; same && g < f->n_ahead; g++) same = f->ahead[g].simd == set;
    }
    CHECK(same, "NEUROMASS_SIMD=%s: the simulation's kernels follow one reading (level %s, gathers %s)",
          values[v], nm_simd_name(level), nm_simd_name(gather));
    nm_sim_free(s);
    nm_model_free(m);
  }
  sparse_free(&p);
}


static void test_sparse_rows_exact(void)
{
  static const char *const paths[] = { "off", "avx2", "avx512" };
  const char *given = getenv("NEUROMASS_SIMD");
  char *saved = given ? strdup(given) : NULL;
  for (size_t n = 11; n <= 37; n += 26) {          /* 11 rows: a block of 8 and a short one */
    sparse p;
    if (!CHECK(sparse_make(&p, n), "allocate %zu sparse rows", n)) { sparse_free(&p); break; }
    for (int path = NM_SIMD_OFF; path <= NM_SIMD_AVX512; path++) {
      int got = -1;
      setenv("NEUROMASS_SIMD", paths[path], 1);
      if (nm_simd_choose(NULL, &got, NULL) != NM_OK || got != path) {
        printf("SKIP coupling path %s: not on this processor (%s instead)\n", paths[path],
               got >= 0 ? nm_simd_name(got) : "none");
        continue;
      }
      for (int threads = 1; threads <= 2; threads++) sparse_check(&p, paths[path], threads);
      if (n == 11) test_sparse_hub(path);
    }
    sparse_free(&p);
  }
  /* A value the engine does not know is refused, naming it. */
  setenv("NEUROMASS_SIMD", "sse9", 1);
  sparse p;
  int rc = NM_ENOMEM, made = sparse_make(&p, 11);
  nm_model *m = made ? sparse_model(&p, &rc) : NULL;
  nm_sim *s = m ? nm_sim_new(m, SPARSE_DT, 1, &rc) : NULL;
  const char *why = m ? nm_model_error(m, rc) : "";
  CHECK(!s && rc == NM_EINVAL && strstr(why, "NEUROMASS_SIMD=\"sse9\"") && strstr(why, "avx512"),
        "NEUROMASS_SIMD=sse9 is refused, naming the value and the allowed ones (status %d: %s)",
        rc, why);
  /* nm_simd_check reads it as nm_sim_new does: the same reason; a known value gives the set. */
  nm_error err;
  const char *level = NULL;
  int checked = nm_simd_check(&level, &err);
  CHECK(checked == NM_EINVAL && !level && strcmp(nm_error_text(&err, checked), why) == 0,
        "nm_simd_check refuses NEUROMASS_SIMD=sse9 with nm_sim_new's reason (status %d: %s)", checked,
        nm_error_text(&err, checked));
  setenv("NEUROMASS_SIMD", "off", 1);
  checked = nm_simd_check(&level, &err);
  CHECK(checked == NM_OK && level && strcmp(level, "off") == 0, "nm_simd_check: off gives \"off\" (%s)",
        level ? level : "none");
  unsetenv("NEUROMASS_SIMD");
  checked = nm_simd_check(&level, NULL);
  CHECK(checked == NM_OK && level && strcmp(level, nm_simd_name(nm_simd_widest())) == 0,
        "nm_simd_check: unset gives the widest set, %s (%s)", nm_simd_name(nm_simd_widest()), level ? level : "none");
  nm_sim_free(s);
  nm_model_free(m);
  sparse_free(&p);
  simd_one_reading();
  if (saved) setenv("NEUROMASS_SIMD", saved, 1); else unsetenv("NEUROMASS_SIMD");
  free(saved);
}


/*
** Self-couplings (a term a row, as ALN's local delayed rates): a sum whose
** terms and rows lie in straight lines goes as vectors (coupling.c's lines),
** each sum 0.0 + w * x as the scalar path makes it (so w * x = -0.0 gives
** +0.0), over every range of rows, on every instruction set this processor
** has.  Sums: A and its twin A2 (other weights), dst 0.. and n..; B (another
** delay) with its rows' destinations reversed (not a line when n > 1); E,
** rows without terms (a line of zeros).  The signals and weights include
** -0.0, infinities, NaN, a subnormal and products that overflow.
*/
static void lines_check(size_t n, const char *path)
{
  static const double xs[] = { -0.0, 0.0, 1.5, -2.25, INFINITY, -INFINITY, NAN, 4.9e-324, 1e300, -1e300,
                               3.0, -7.0, 0.1 };
  static const double ws[] = { 1.0, -0.0, 0.0, -1.0, 2.5, 1e10, -3.0, 0.5 };
  size_t row_ptr[41], none[41];
  long dst[4 * 40], src[40];
  int d[40], d2[40];
  double w[40], w2[40], v0[40], want[4 * 40];
  for (size_t r = 0; r <= n; r++) row_ptr[r] = r, none[r] = 0;
  for (size_t r = 0; r < n; r++) {
    src[r] = (long)r;
    d[r] = 7;
    d2[r] = 3;
    w[r] = ws[r % COUNT(ws)];
    w2[r] = ws[(r + 3) % COUNT(ws)];
    v0[r] = xs[r % COUNT(xs)];
    dst[r] = (long)r;
    dst[n + r] = (long)(n + r);
    dst[2 * n + r] = (long)(3 * n - 1 - r);
    dst[3 * n + r] = (long)(3 * n + r);
  }
  for (size_t r = 0; r < n; r++) {     /* the scalar path's sums: the history is constant, v0 */
    double a = 0.0, a2 = 0.0, b = 0.0;
    a += w[r] * v0[r];
    a2 += w2[r] * v0[r];
    b += w[r] * v0[r];
    want[r] = a;
    want[n + r] = a2;
    want[3 * n - 1 - r] = b;
    want[3 * n + r] = 0.0;
  }
  int rc = NM_ENOMEM;
  nm_model *m = nm_model_new(n, 0, 0, 4 * n);
  nm_sim *s = NULL;
  nm_node nodes[] = { LEAF(NM_OP_INPUT, 0) };
  nm_root root = { 0, NM_SINK_DERIV, 0 };
  if (m) rc = nm_model_add_coupling(m, NM_ADDITIVE, n, dst, NULL, row_ptr, src, d, w);
  if (rc == NM_OK) rc = nm_model_add_coupling(m, NM_ADDITIVE, n, dst + n, NULL, row_ptr, src, d, w2);
  if (rc == NM_OK) rc = nm_model_add_coupling(m, NM_ADDITIVE, n, dst + 2 * n, NULL, row_ptr, src, d2, w);
  if (rc == NM_OK) rc = nm_model_add_coupling(m, NM_ADDITIVE, n, dst + 3 * n, NULL, none, src, d, w);
  if (rc == NM_OK) rc = add_program(m, NM_STAGE_RHS, nodes, COUNT(nodes), &root, 1, n);
  if (rc == NM_OK) rc = nm_model_set_initial(m, v0, n);
  if (rc == NM_OK) s = nm_sim_new(m, 0.1, 1, &rc);
  int ok = s && s->n_fast == 4 && s->fast[0].line == NM_LINE_ONE && s->fast[1].is_twin &&
           s->fast[2].line == (n > 1 ? 0 : NM_LINE_ONE) && s->fast[3].line == NM_LINE_NONE;
  CHECK(ok, "%zu self-coupling rows, path %s: the sums in straight lines go by lines, the "
        "reversed one only with one row (status %d)", n, path, rc);
  const double SENTINEL = -7.25e300;
  long bad = -1;
  for (size_t r0 = 0; ok && r0 <= n && bad < 0; r0++)     /* r0 = n: the whole step's call */
    for (size_t r1 = r0 == n ? n : r0 + 1; r1 <= n && bad < 0; r1++) {
      for (size_t i = 0; i < 4 * n; i++) s->U[i] = SENTINEL;
      if (r0 == n) nm_couplings_eval(s, s->V, 0.0);
      else nm_couplings_eval_rows(s, s->V, 0, r0, r1);
      for (size_t i = 0; i < 4 * n && bad < 0; i++) {
        size_t row = i / n == 2 ? 3 * n - 1 - i : i % n;
        double expect = r0 == n || (row >= r0 && row < r1) ? want[i] : SENTINEL;
        if (memcmp(&s->U[i], &expect, sizeof expect) != 0 && !(isnan(s->U[i]) && isnan(expect)))
          bad = (long)(r0 * 1000 + r1);
      }
    }
  CHECK(ok && bad < 0, "%zu self-coupling rows, path %s, with -0.0, infinities, NaN, a subnormal "
        "and overflowing products: every range of rows and the whole step give 0.0 + w * x bit for "
        "bit, nothing outside the range written (first failing range %ld .. %ld)", n, path,
        bad < 0 ? -1 : bad / 1000, bad < 0 ? -1 : bad % 1000);
  nm_sim_free(s);
  nm_model_free(m);
}


/* A node's sums as lists (coupling.c's node_terms): a list is made only
** when it has rows, so a model with rows of terms alone has no zero list
** and one with empty rows alone no term list (no allocation of 0 entries). */
static void node_lists_check(int with_terms)
{
  long dst = 0, src = 0;
  int d = 0;
  double w = 0.5, v0 = 1.0;
  size_t row_ptr[] = { 0, with_terms ? 1 : 0 };
  nm_node nodes[] = { LEAF(NM_OP_INPUT, 0) };
  nm_root root = { 0, NM_SINK_DERIV, 0 };
  int rc = NM_ENOMEM;
  nm_model *m = nm_model_new(1, 0, 0, 1);
  nm_sim *s = NULL;
  if (m) rc = nm_model_add_coupling(m, NM_ADDITIVE, 1, &dst, NULL, row_ptr, &src, &d, &w);
  if (rc == NM_OK) rc = add_program(m, NM_STAGE_RHS, nodes, COUNT(nodes), &root, 1, 1);
  if (rc == NM_OK) rc = nm_model_set_initial(m, &v0, 1);
  if (rc == NM_OK) s = nm_sim_new(m, 0.1, 1, &rc);
  int ok = s && s->node_sums && (with_terms ? s->n_node_terms == 1 && s->node_term && s->n_node_zeros == 0 && !s->node_zero
                            : s->n_node_zeros == 1 && s->node_zero && s->n_node_terms == 0 && !s->node_term);
  CHECK(ok, "a node's one coupling row %s: only the list of %s is made (status %d)",
        with_terms ? "with a term" : "without terms", with_terms ? "terms" : "zeros", rc);
  nm_sim_free(s);
  nm_model_free(m);
}


static void test_self_lines(void)
{
  node_lists_check(1);
  node_lists_check(0);
  static const char *const paths[] = { "off", "avx2", "avx512" };
  static const size_t sizes[] = { 1, 3, 17, 40 };       /* 17, 40: the AVX-512 pass, with a tail */
  const char *given = getenv("NEUROMASS_SIMD");
  char *saved = given ? strdup(given) : NULL;
  for (int path = NM_SIMD_OFF; path <= NM_SIMD_AVX512; path++) {
    int got = -1;
    setenv("NEUROMASS_SIMD", paths[path], 1);
    if (nm_simd_choose(NULL, &got, NULL) != NM_OK || got != path) {
      printf("SKIP line path %s: not on this processor\n", paths[path]);
      continue;
    }
    for (size_t k = 0; k < COUNT(sizes); k++) lines_check(sizes[k], paths[path]);
  }
  if (saved) setenv("NEUROMASS_SIMD", saved, 1); else unsetenv("NEUROMASS_SIMD");
  free(saved);
}


/* ---------------------------------------------------------------------
** (d) Clamps and wraps
** ------------------------------------------------------------------- */

/*
** a' = 2.385 + a / 2 clamped to [-1, 0.7183]; b' = -2.385 clamped to [-0.5, 10];
** c' = 2.385 wrapped to [0, 2 pi); e' = -2.385 wrapped to [0, 1.5); and the
** algebraic output s = a + c computed after the step.
*/
static nm_model *constrained(void)
{
  nm_model *m = nm_model_new(4, 1, 0, 0);
  if (!m) return NULL;
  nm_node rhs[] = { LEAF(NM_OP_SIGNAL, 0), CONSTANT(0.5), BIN(NM_OP_MUL, 1, 0), CONSTANT(2.385),
                    BIN(NM_OP_ADD, 3, 2), UN(NM_OP_NEG, 3) };
  nm_root roots[] = { { 4, NM_SINK_DERIV, 0 }, { 5, NM_SINK_DERIV, 1 }, { 3, NM_SINK_DERIV, 2 },
                      { 5, NM_SINK_DERIV, 3 } };
  nm_node after[] = { LEAF(NM_OP_SIGNAL, 0), LEAF(NM_OP_SIGNAL, 2), BIN(NM_OP_ADD, 0, 1) };
  nm_root sum = { 2, NM_SINK_SIGNAL, 4 };
  double v0[] = { 0.0, 0.25, 0.0, 0.1, 0.0 };
  int rc = add_program(m, NM_STAGE_RHS, rhs, COUNT(rhs), roots, 4, 1);
  if (rc == NM_OK) rc = add_program(m, NM_STAGE_AFTER, after, 3, &sum, 1, 1);
  if (rc == NM_OK) rc = nm_model_add_clamp(m, 0, -1.0, 0.7183);
  if (rc == NM_OK) rc = nm_model_add_clamp(m, 1, -0.5, 10.0);
  if (rc == NM_OK) rc = nm_model_add_wrap(m, 2, TWO_PI);
  if (rc == NM_OK) rc = nm_model_add_wrap(m, 3, 1.5);
  if (rc == NM_OK) rc = nm_model_set_initial(m, v0, 5);
  if (rc != NM_OK) { nm_model_free(m); return NULL; }
  return m;
}


static double clamp(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

static double wrap(double x, double p)
{
  double r = fmod(x, p);
  return r < 0 ? r + p : r;
}


static void derivs(const double y[4], double k[4])
{
  k[0] = 2.385 + 0.5 * y[0];
  k[1] = -2.385;
  k[2] = 2.385;
  k[3] = -2.385;
}


/* One step of Euler or RK4 by hand, then the constraints. */
static void hand_step(int method, double y[4], double dt)
{
  double k[4][4], stage[4];
  derivs(y, k[0]);
  if (method == NM_EULER) {
    for (int i = 0; i < 4; i++) y[i] += dt * k[0][i];
  } else {
    for (int i = 0; i < 4; i++) stage[i] = y[i] + 0.5 * dt * k[0][i];
    derivs(stage, k[1]);
    for (int i = 0; i < 4; i++) stage[i] = y[i] + 0.5 * dt * k[1][i];
    derivs(stage, k[2]);
    for (int i = 0; i < 4; i++) stage[i] = y[i] + dt * k[2][i];
    derivs(stage, k[3]);
    for (int i = 0; i < 4; i++)
      y[i] += dt / 6.0 * (k[0][i] + 2.0 * k[1][i] + 2.0 * k[2][i] + k[3][i]);
  }
  y[0] = clamp(y[0], -1.0, 0.7183);
  y[1] = clamp(y[1], -0.5, 10.0);
  y[2] = wrap(y[2], TWO_PI);
  y[3] = wrap(y[3], 1.5);
}


static void test_constraints(void)
{
  enum { N = 300 };
  const double dt = 0.05;
  nm_model *m = constrained();
  if (!CHECK(m != NULL, "build the constrained model")) return;
  static const long rec[] = { 0, 1, 2, 3, 4 };
  static const int methods[] = { NM_EULER, NM_RK4 };
  for (size_t i = 0; i < COUNT(methods); i++) {
    rowbuf b = { 0 };
    nm_run_opts o = options(methods[i], N, 1, rec, 5, &b);
    int rc = run(m, dt, 1, &o);
    double y[4] = { 0.0, 0.25, 0.0, 0.1 };
    int ok = rc == NM_OK && b.rows == N, ok_sum = ok, hit_hi = 0, hit_lo = 0, wraps = 0;
    for (size_t k = 0; ok && k < b.rows; k++) {
      double before = y[2];
      hand_step(methods[i], y, dt);
      for (int j = 0; j < 4; j++) ok = ok && cell(&b, k, 1 + (size_t)j) == y[j];
      ok_sum = ok_sum && cell(&b, k, 5) == y[0] + y[2];
      hit_hi += y[0] == 0.7183;
      hit_lo += y[1] == -0.5;
      wraps += y[2] < before;
    }
    CHECK(ok, "%s: the state follows step-then-clamp-then-wrap by hand for %d steps (status %d)",
          method_name[methods[i]], N, rc);
    CHECK(ok && hit_hi > 100 && hit_lo > 100 && wraps >= 5,
          "%s: both clamps held (%d and %d steps) and the phase wrapped %d times",
          method_name[methods[i]], hit_hi, hit_lo, wraps);
    CHECK(ok_sum, "%s: the algebraic output after the step sees the constrained state",
          method_name[methods[i]]);
    rowbuf_free(&b);
  }

  /* The adaptive methods apply them at every output time. */
  for (int method = NM_RKF45; method <= NM_MSBDF; method++) {
    rowbuf b = { 0 };
    nm_run_opts o = options(method, N, 1, rec, 5, &b);
    int rc = run(m, dt, 1, &o);
    int ok = rc == NM_OK && b.rows == N;
    double worst = 0.0;
    for (size_t k = 0; ok && k < b.rows; k++) {
      double t = cell(&b, k, 0);
      double a = cell(&b, k, 1), bb = cell(&b, k, 2), c = cell(&b, k, 3), e = cell(&b, k, 4);
      ok = a >= -1.0 && a <= 0.7183 && bb >= -0.5 && bb <= 10.0 && c >= 0.0 && c < TWO_PI &&
           e >= 0.0 && e < 1.5 && cell(&b, k, 5) == a + c;
      /* c' and e' are constant: their wrapped values are known exactly. */
      double dc = fabs(c - wrap(2.385 * t, TWO_PI)), de = fabs(e - wrap(0.1 - 2.385 * t, 1.5));
      worst = fmax(worst, fmax(fmin(dc, TWO_PI - dc), fmin(de, 1.5 - de)));
    }
    CHECK(ok && worst < 1e-9, "%s: clamps and wraps hold at every output row (status %d, "
          "wrapped phases off by %.3g)", method_name[method], rc, worst);
    rowbuf_free(&b);
  }
  nm_model_free(m);
}


/* ---------------------------------------------------------------------
** (e) Ornstein-Uhlenbeck noise
** ------------------------------------------------------------------- */

/* x' = U and, after the step, a = U: a records the input each step held.
** Parameters: mu, sigma, tau of each of `n_noise` processes feeding U[k]. */
static nm_model *noisy(size_t n_noise, double mu, double sigma, double tau, double x0)
{
  nm_model *m = nm_model_new(n_noise, n_noise, 3 * n_noise, n_noise);
  if (!m) return NULL;
  nm_node rhs[] = { LEAF(NM_OP_INPUT, 0) };
  nm_root r1 = { 0, NM_SINK_DERIV, 0 }, r2 = { 0, NM_SINK_SIGNAL, (long)n_noise };
  int rc = add_program(m, NM_STAGE_RHS, rhs, 1, &r1, 1, n_noise);
  if (rc == NM_OK) rc = add_program(m, NM_STAGE_AFTER, rhs, 1, &r2, 1, n_noise);
  for (size_t k = 0; k < n_noise && rc == NM_OK; k++) {
    long base = 3 * (long)k;
    nm_model_set_param(m, (size_t)base, mu);
    nm_model_set_param(m, (size_t)base + 1, sigma);
    nm_model_set_param(m, (size_t)base + 2, tau);
    rc = nm_model_add_noise(m, (long)k, base, base + 1, base + 2, x0);
  }
  if (rc != NM_OK) { nm_model_free(m); return NULL; }
  return m;
}


static void test_noise_deterministic(void)
{
  enum { N = 250 };
  const double m_mu = 2.385, tau = 3.7, dt = 0.1;
  static const long rec[] = { 0, 1 };

  /* sigma 0 started at the mean (x0 = NaN): the input holds the mean exactly. */
  nm_model *m = noisy(1, m_mu, 0.0, tau, NAN);
  if (!CHECK(m != NULL, "build a model with a noise process")) return;
  static const int methods[] = { NM_EULER, NM_HEUN, NM_RK4, NM_RKF45, NM_RK8PD };
  for (size_t i = 0; i < COUNT(methods); i++) {
    rowbuf b = { 0 };
    nm_run_opts o = options(methods[i], N, 1, rec, 2, &b);
    int rc = run(m, dt, 2385, &o);
    int ok = rc == NM_OK && b.rows == N;
    double x = 0.0, worst = 0.0;
    for (size_t k = 0; ok && k < b.rows; k++) {
      x += dt * m_mu;
      ok = cell(&b, k, 2) == m_mu;
      worst = fmax(worst, fabs(cell(&b, k, 1) - x) / x);
    }
    CHECK(ok && worst <= 1e-12, "%s: sigma 0 started at mu holds the input at mu = %g "
          "(status %d, integral off by %.3g)", method_name[methods[i]], m_mu, rc, worst);
    rowbuf_free(&b);
  }
  nm_model_free(m);

  /* sigma 0 started elsewhere: x += dt (mu - x) / tau after every step (after
  ** every output interval for the adaptive methods), held in between. */
  m = noisy(1, m_mu, 0.0, tau, -1.0);
  if (!CHECK(m != NULL, "build a model with a noise process")) return;
  static const int methods2[] = { NM_EULER, NM_RK4, NM_RKF45, NM_MSBDF };
  for (size_t i = 0; i < COUNT(methods2); i++) {
    rowbuf b = { 0 };
    nm_run_opts o = options(methods2[i], N, 1, rec, 2, &b);
    o.rtol = 1e-10;
    int rc = run(m, dt, 2385, &o);
    int ok = rc == NM_OK && b.rows == N;
    double u = -1.0, x = 0.0, worst = 0.0;
    for (size_t k = 0; ok && k < b.rows; k++) {
      ok = cell(&b, k, 2) == u;
      x += dt * u;
      worst = fmax(worst, fabs(cell(&b, k, 1) - x) / fmax(fabs(x), 1e-3));
      u += dt * (m_mu - u) / tau;
    }
    CHECK(ok && worst <= 1e-8, "%s: sigma 0 from x0 = -1 relaxes to mu by the stated update, "
          "held over each step (status %d, integral off by %.3g)", method_name[methods2[i]], rc,
          worst);
    rowbuf_free(&b);
  }
  nm_model_free(m);
}


/* run_serial's whole Euler loop for a node (nm_sim_run_euler: the
** step's services inline in one function) gives the bits of the services
** called one by one (nm_sim_step_inputs, nm_step_euler, nm_sim_end_step),
** with noise draws, a clamp that acts and "after" programs, at every SIMD
** level of the services this processor runs. */
static void test_euler_whole(void)
{
  enum { N = 300 };
  static const long rec[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
  /* 6 state variables (the AVX2 update's vector and its rest) and 12 signals
  ** (the non-finite check's kernel for a node). */
  nm_model *m = noisy(6, 0.3, 0.5, 2.0, NAN);
  int rc = m ? nm_model_add_clamp(m, 0, -0.2, 0.4) : NM_ENOMEM;
  if (!CHECK(rc == NM_OK && 6 <= NM_EULER_WHOLE, "build a clamped model with 6 noise processes")) {
    nm_model_free(m);
    return;
  }
  for (int simd = NM_SIMD_OFF; simd <= nm_simd_level(); simd++) {
    rowbuf b = { 0 };
    nm_run_opts o = options(NM_EULER, N, 1, rec, COUNT(rec), &b);
    int status;
    nm_sim *whole = nm_sim_new(m, 0.1, 77, &status), *apart = nm_sim_new(m, 0.1, 77, &status);
    int ok = whole && apart;
    if (ok) {
      whole->simd = apart->simd = simd;
      rc = nm_sim_run(whole, &o);
      ok = rc == NM_OK && b.rows == N && nm_sim_prepare_constraints(apart) == NM_OK;
    }
    long bad = -1, clamped = 0;
    for (long i = 0; ok && i < N; i++) {
      nm_sim_step_inputs(apart, &o, i);
      nm_step_euler.apply(NULL, apart);
      ok = nm_sim_end_step(apart);
      clamped += apart->V[0] == 0.4 || apart->V[0] == -0.2;
      for (size_t c = 0; ok && c < COUNT(rec); c++)
        if (memcmp(&apart->V[rec[c]], &b.data[(size_t)i * b.cols + 1 + c], sizeof(double)) != 0) {
          ok = 0;
          bad = i;
        }
    }
    CHECK(ok && clamped > 10, "SIMD level %d: Euler's whole loop of a node gives the bits "
          "of its services called one by one for %d steps (status %d, first differing step %ld, "
          "-1 for none; %ld steps clamped)", simd, N, rc, bad, clamped);
    nm_sim_free(whole);
    nm_sim_free(apart);
    rowbuf_free(&b);
  }
  nm_model_free(m);
}


static int rows_equal(const rowbuf *a, const rowbuf *b)
{
  return a->rows == b->rows && a->cols == b->cols &&
         memcmp(a->data, b->data, a->rows * a->cols * sizeof *a->data) == 0;
}


static void test_noise_random(void)
{
  enum { N = 2000 };
  const double mu = 0.5, sigma = 0.7183, tau = 5.0, dt = 0.1;
  static const long rec[] = { 0, 1 };
  nm_model *m = noisy(1, mu, sigma, tau, NAN);
  if (!CHECK(m != NULL, "build a model with a noise process")) return;
  rowbuf r1 = { 0 }, r2 = { 0 }, r3 = { 0 };
  nm_run_opts o1 = options(NM_EULER, N, 1, rec, 2, &r1), o2 = options(NM_EULER, N, 1, rec, 2, &r2);
  nm_run_opts o3 = options(NM_EULER, N, 1, rec, 2, &r3);
  int rc1 = run(m, dt, 2385, &o1), rc2 = run(m, dt, 2385, &o2), rc3 = run(m, dt, 2386, &o3);
  CHECK(rc1 == NM_OK && rc2 == NM_OK && rc3 == NM_OK && r1.rows == N, "noisy runs complete");
  CHECK(r1.rows == N && rows_equal(&r1, &r2), "the same seed gives bit-identical rows");
  size_t differ = 0;
  for (size_t k = 0; k < r1.rows && k < r3.rows; k++) differ += cell(&r1, k, 2) != cell(&r3, k, 2);
  /* The first step holds the start value, mu, whatever the seed. */
  CHECK(r3.rows == N && cell(&r1, 0, 2) == mu && cell(&r3, 0, 2) == mu && differ == N - 1,
        "another seed gives different noise at every step after the first (%zu of %d differ)",
        differ, N - 1);

  /* Each stream depends on the seed and its index only, not on how many there are. */
  nm_model *m2 = noisy(2, mu, sigma, tau, NAN);
  static const long rec2[] = { 2, 3 };
  rowbuf r4 = { 0 };
  nm_run_opts o4 = options(NM_EULER, N, 1, rec2, 2, &r4);
  int rc4 = m2 ? run(m2, dt, 2385, &o4) : -99;
  int same0 = rc4 == NM_OK && r4.rows == N, diff01 = 0;
  for (size_t k = 0; same0 && k < r4.rows; k++) {
    same0 = cell(&r4, k, 1) == cell(&r1, k, 2);
    diff01 += cell(&r4, k, 1) != cell(&r4, k, 2);
  }
  CHECK(same0, "stream 0 is the same with one noise process or two");
  CHECK(diff01 == N - 1, "two streams of one seed differ (%d of %d steps)", diff01, N - 1);
  rowbuf_free(&r1);
  rowbuf_free(&r2);
  rowbuf_free(&r3);
  rowbuf_free(&r4);
  nm_model_free(m2);

  /* The stationary law of x <- x + dt (mu - x) / tau + sigma sqrt(dt) N(0, 1):
  ** mean mu, variance sigma^2 dt / (1 - (1 - dt / tau)^2).  A fixed seed makes
  ** this deterministic; the tolerances are several standard errors wide. */
  enum { LONG = 400000, SKIP = 1000 };
  rowbuf r5 = { 0 };
  nm_run_opts o5 = options(NM_EULER, LONG, 1, rec, 2, &r5);
  o5.chunk_rows = 4096;
  int rc5 = run(m, dt, 7183, &o5);
  double sum = 0.0, sum2 = 0.0;
  size_t n = 0;
  for (size_t k = SKIP; k < r5.rows; k++, n++) {
    double v = cell(&r5, k, 2) - mu;
    sum += v;
    sum2 += v * v;
  }
  double a = 1.0 - dt / tau, var_want = sigma * sigma * dt / (1.0 - a * a);
  double mean = n ? sum / (double)n : NAN, var = n ? sum2 / (double)n - mean * mean : NAN;
  CHECK(rc5 == NM_OK && fabs(mean) <= 0.05 * sqrt(var_want),
        "the noise's long-run mean is mu (off by %.3g standard deviations)", mean / sqrt(var_want));
  CHECK_REL(var, var_want, 0.05,
            "the noise's long-run variance is sigma^2 dt / (1 - (1 - dt/tau)^2)");
  rowbuf_free(&r5);
  nm_model_free(m);
}


/* N processes with their own mu, sigma, tau (process k: parameters of set
** `set[k]`), process k feeding input `in[k]`, then one more (set N) on input 0;
** inputs recorded through signals N .. 2N-1. */
static nm_model *noisy_mapped(const size_t *set, const long *in)
{
  enum { N = 5 };
  nm_model *m = nm_model_new(N, N, 3 * (N + 1), N);
  if (!m) return NULL;
  nm_node rhs[] = { LEAF(NM_OP_INPUT, 0) };
  nm_root r1 = { 0, NM_SINK_DERIV, 0 }, r2 = { 0, NM_SINK_SIGNAL, N };
  int rc = add_program(m, NM_STAGE_RHS, rhs, 1, &r1, 1, N);
  if (rc == NM_OK) rc = add_program(m, NM_STAGE_AFTER, rhs, 1, &r2, 1, N);
  for (size_t k = 0; k <= N && rc == NM_OK; k++) {
    size_t q = k < N ? set[k] : N;
    long base = 3 * (long)k;
    nm_model_set_param(m, (size_t)base, 0.3 * (double)q - 0.5);
    nm_model_set_param(m, (size_t)base + 1, 0.2 + 0.1 * (double)q);
    nm_model_set_param(m, (size_t)base + 2, 2.0 + (double)q);
    rc = nm_model_add_noise(m, k < N ? in[k] : 0, base, base + 1, base + 2, NAN);
  }
  if (rc != NM_OK) { nm_model_free(m); return NULL; }
  return m;
}


/* The engine orders the noise processes by input (sim.h): each process keeps
** its own parameters and its own stream (seeded for its place in the model's
** list), and of two on one input the later one's value is the input's.  The
** same processes listed backwards over the inputs, with the streams' seeds
** following them, give the same inputs bit for bit; input 0 is the last
** process's, as a model of that process alone gives it. */
static void test_noise_order(void)
{
  enum { N = 5, STEPS = 300 };
  static const size_t fwd_set[N] = { 4, 3, 2, 1, 0 }, bwd_set[N] = { 0, 1, 2, 3, 4 };
  static const long fwd_in[N] = { 0, 1, 2, 3, 4 }, bwd_in[N] = { 4, 3, 2, 1, 0 };
  static const long rec[N] = { N, N + 1, N + 2, N + 3, N + 4 };
  unsigned long fwd_seed[N + 1], bwd_seed[N + 1];
  for (size_t k = 0; k <= N; k++) {       /* the stream of parameter set q: 1000 + q */
    fwd_seed[k] = 1000 + (k < N ? fwd_set[k] : N);
    bwd_seed[k] = 1000 + (k < N ? bwd_set[k] : N);
  }
  rowbuf b[2] = { { 0 }, { 0 } };
  int rc[2] = { NM_ENOMEM, NM_ENOMEM };
  for (int way = 0; way < 2; way++) {
    nm_model *m = way ? noisy_mapped(bwd_set, bwd_in) : noisy_mapped(fwd_set, fwd_in);
    nm_sim *s = m ? nm_sim_new_seeded(m, 0.1, 1, way ? bwd_seed : fwd_seed, &rc[way]) : NULL;
    nm_run_opts o = options(NM_EULER, STEPS, 1, rec, N, &b[way]);
    if (s) rc[way] = nm_sim_run(s, &o);
    nm_sim_free(s);
    nm_model_free(m);
  }
  int ok = rc[0] == NM_OK && rc[1] == NM_OK && b[0].rows == STEPS && rows_equal(&b[0], &b[1]);
  CHECK(ok, "noise processes listed forwards and backwards over their inputs, each with its own "
        "parameters and stream: the same inputs bit for bit (status %d, %d)", rc[0], rc[1]);
  /* The last process alone, on its stream: input 0's values. */
  nm_model *m = noisy(1, 0.3 * N - 0.5, 0.2 + 0.1 * N, 2.0 + N, NAN);
  static const long rec1[] = { 1 };
  rowbuf one = { 0 };
  int rc1 = NM_ENOMEM;
  nm_sim *s = m ? nm_sim_new_seeded(m, 0.1, 1, &fwd_seed[N], &rc1) : NULL;
  nm_run_opts o = options(NM_EULER, STEPS, 1, rec1, 1, &one);
  if (s) rc1 = nm_sim_run(s, &o);
  size_t same = 0;
  for (size_t k = 0; ok && rc1 == NM_OK && k < one.rows && k < b[0].rows; k++)
    same += cell(&one, k, 1) == cell(&b[0], k, 1) && cell(&one, k, 1) != cell(&b[0], k, 5);
  CHECK(same == STEPS, "of two noise processes on one input the later one's value is the input's "
        "(%zu of %d steps)", same, STEPS);
  nm_sim_free(s);
  nm_model_free(m);
  rowbuf_free(&one);
  rowbuf_free(&b[0]);
  rowbuf_free(&b[1]);
}


/* Adaptive methods integrate neither delays nor time series, nor random noise. */
static void test_adaptive_refusals(void)
{
  nm_model *m = nm_model_new(1, 0, 1, 0);
  if (!CHECK(m != NULL, "create a model")) return;
  nm_node nodes[] = { { NM_OP_HIST, -1, -1, -1, 0.0, 0, 2 }, LEAF(NM_OP_PARAM, 0),
                      BIN(NM_OP_MUL, 0, 1) };
  nm_root root = { 2, NM_SINK_DERIV, 0 };
  int rc = add_program(m, NM_STAGE_RHS, nodes, 3, &root, 1, 1);
  rowbuf b = { 0 };
  for (int method = NM_RKF45; method <= NM_MSBDF && rc == NM_OK; method++) {
    nm_run_opts o = options(method, 10, 1, NULL, 0, &b);
    CHECK(run(m, 0.1, 1, &o) == NM_EINVAL, "%s refuses a model with delays", method_name[method]);
  }
  nm_model_free(m);

  m = nm_model_new(1, 0, 1, 0);
  if (!CHECK(m != NULL, "create a model")) return;
  nm_node drive[] = { LEAF(NM_OP_PARAM, 0) };
  root.node = 0;
  rc = add_program(m, NM_STAGE_RHS, drive, 1, &root, 1, 1);
  static const double series[10] = { 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0 };
  nm_driver driver = { 0, series, 10 };
  nm_run_opts o = options(NM_RKF45, 10, 1, NULL, 0, &b);
  o.drivers = &driver;
  o.n_drivers = 1;
  CHECK(rc == NM_OK && run(m, 0.1, 1, &o) == NM_EINVAL, "rkf45 refuses a time series");
  o.method = NM_EULER;
  CHECK(run(m, 0.1, 1, &o) == NM_OK && b.rows == 10, "euler takes it");
  rowbuf_free(&b);
  nm_model_free(m);

  m = noisy(1, 0.5, 0.7183, 5.0, NAN);
  if (!CHECK(m != NULL, "build a model with a noise process")) return;
  for (int method = NM_RKF45; method <= NM_MSBDF; method++) {
    o = options(method, 10, 1, NULL, 0, &b);
    CHECK(run(m, 0.1, 1, &o) == NM_EINVAL, "%s refuses noise with sigma > 0", method_name[method]);
  }
  nm_model_set_param(m, 1, 0.0);
  o = options(NM_RKF45, 10, 1, NULL, 0, &b);
  CHECK(run(m, 0.1, 1, &o) == NM_OK, "rkf45 takes the same noise with sigma 0");
  rowbuf_free(&b);
  nm_model_free(m);
}


/* ---------------------------------------------------------------------
** (f) Blow-up
** ------------------------------------------------------------------- */

static void test_blowup(void)
{
  const double dt = 0.01;
  /* s0' = -s0 / 2 (harmless); s1' = s1 * s1 from 2.385 overflows in finite time;
  ** aux s2 = sqrt(s3) after the step, where s3' = -1 crosses zero. */
  nm_model *m = nm_model_new(3, 1, 0, 0);
  if (!CHECK(m != NULL, "create a model")) return;
  nm_node rhs[] = { LEAF(NM_OP_SIGNAL, 0), CONSTANT(-0.5), BIN(NM_OP_MUL, 1, 0),
                    LEAF(NM_OP_SIGNAL, 1), BIN(NM_OP_MUL, 3, 3), CONSTANT(-1.0) };
  nm_root roots[] = { { 2, NM_SINK_DERIV, 0 }, { 4, NM_SINK_DERIV, 1 }, { 5, NM_SINK_DERIV, 2 } };
  nm_node after[] = { LEAF(NM_OP_SIGNAL, 2), UN(NM_OP_SQRT, 0) };
  nm_root aux = { 1, NM_SINK_SIGNAL, 3 };
  int rc = add_program(m, NM_STAGE_RHS, rhs, COUNT(rhs), roots, 3, 1);
  if (rc == NM_OK) rc = add_program(m, NM_STAGE_AFTER, after, 2, &aux, 1, 1);
  if (!CHECK(rc == NM_OK, "build the blow-up model")) { nm_model_free(m); return; }

  /* The step at which Euler's s1 first stops being finite. */
  long n_inf = 0;
  for (double x = 2.385; isfinite(x); n_inf++) x += dt * (x * x);
  static const struct { double s1, s3; long want_step; long want_sig; const char *what; } cases[] = {
    { 2.385, 100.0, -1, 1, "s1' = s1^2 overflows" },
    { 1e-3, 0.0137, 2, 3, "sqrt of a negative number in an algebraic output" },
  };
  for (size_t i = 0; i < COUNT(cases); i++) {
    double v0[] = { 1.0, cases[i].s1, cases[i].s3, 0.0 };
    nm_model_set_initial(m, v0, 4);
    long want = cases[i].want_step > 0 ? cases[i].want_step : n_inf;
    int status;
    nm_sim *s = nm_sim_new(m, dt, 1, &status);
    if (!CHECK(s != NULL, "start a simulation")) continue;
    rowbuf b = { 0 };
    static const long rec[] = { 0, 1, 2, 3 };
    nm_run_opts o = options(NM_EULER, 100000, 1, rec, 4, &b);
    rc = nm_sim_run(s, &o);
    double t = -1.0;
    long sig = -1;
    nm_sim_failure(s, &t, &sig);
    CHECK(rc == NM_ENONFINITE, "%s: the run stops with NM_ENONFINITE (status %d)", cases[i].what, rc);
    CHECK(t == (double)want * dt && sig == cases[i].want_sig && nm_sim_time(s) == t,
          "%s: the failure is at t = %g, signal %ld (got t = %g, signal %ld)", cases[i].what,
          (double)want * dt, cases[i].want_sig, t, sig);
    nm_sim_free(s);
    rowbuf_free(&b);
  }
  CHECK(n_inf > 30, "the overflow takes a while (%ld steps)", n_inf);
  nm_model_free(m);
}


/* Rows come every `every` steps, at step * dt, across chunks; bad options are refused. */
static void test_recording(void)
{
  nm_model *m = oscillator(0.2385);
  if (!CHECK(m != NULL, "build the oscillator model")) return;
  static const long rec[] = { 2, 0 };
  rowbuf b = { 0 };
  nm_run_opts o = options(NM_RK4, 103, 4, rec, 2, &b);
  int rc = run(m, 0.125, 1, &o);
  int ok = rc == NM_OK && b.rows == 25 && b.cols == 3;
  for (size_t k = 0; ok && k < b.rows; k++) ok = cell(&b, k, 0) == (double)(4 * (k + 1)) * 0.125;
  CHECK(ok, "103 steps recorded every 4 give 25 rows of (t, z, x) at t = 4 k dt "
        "(status %d, %zu rows)",
        rc, b.rows);
  rowbuf_free(&b);
  static const long bad_rec[] = { 3 };
  nm_run_opts bad = options(NM_EULER, 10, 1, bad_rec, 1, &b);
  CHECK(run(m, 0.125, 1, &bad) == NM_EINVAL, "recording a signal that does not exist is refused");
  bad = options(NM_EULER, 10, 0, rec, 2, &b);
  CHECK(run(m, 0.125, 1, &bad) == NM_EINVAL, "recording every 0 steps is refused");
  int status = 0;
  nm_sim *s = nm_sim_new(m, 0.0, 1, &status);
  CHECK(!s && status == NM_EINVAL, "a simulation with dt = 0 is refused");
  nm_sim_free(s);
  s = nm_sim_new(m, INFINITY, 1, &status);
  CHECK(!s && status == NM_EINVAL, "a simulation with an infinite dt is refused");
  nm_sim_free(s);
  rowbuf_free(&b);
  nm_model_free(m);
}


/* Continued runs record on one grid: rows after steps that are multiples of
** `every` since t = 0, whatever the runs' lengths; on one thread or two. */
static void test_continued_grid(void)
{
  nm_model *m = oscillator(0.2385);
  if (!CHECK(m != NULL, "build the oscillator model")) return;
  static const long rec[] = { 0 };
  static const long splits[][3] = { { 10, 10, 0 }, { 1, 1, 18 }, { 7, 5, 8 }, { 3, 3, 14 } };
  for (int threads = 1; threads <= 2; threads++) {
    rowbuf whole = { 0 };
    nm_run_opts o = options(NM_EULER, 20, 3, rec, 1, &whole);
    o.threads = threads;
    int rc = run(m, 0.1, 1, &o);
    for (size_t k = 0; k < COUNT(splits); k++) {
      rowbuf parts = { 0 };
      int status;
      nm_sim *s = nm_sim_new(m, 0.1, 1, &status);
      for (int p = 0; p < 3 && s && rc == NM_OK; p++) {
        nm_run_opts op = options(NM_EULER, splits[k][p], 3, rec, 1, &parts);
        op.threads = threads;
        rc = nm_sim_run(s, &op);
      }
      CHECK(s && rc == NM_OK && whole.rows == 6 && rows_equal(&whole, &parts),
            "%d thread(s): runs of %ld + %ld + %ld steps recording every 3 give the 6 rows of "
            "one 20-step run (status %d, %zu rows)", threads, splits[k][0], splits[k][1],
            splits[k][2], rc, parts.rows);
      nm_sim_free(s);
      rowbuf_free(&parts);
    }
    rowbuf_free(&whole);
  }
  nm_model_free(m);
}


/* An adaptive stepper that cannot go on says when and which state variable:
** s0' = -s0 (harmless), s1' = s1^2 from 1 (s1 = 1 / (1 - t) blows up at 1). */
static void test_adaptive_stuck(void)
{
  nm_model *m = nm_model_new(2, 0, 0, 0);
  if (!CHECK(m != NULL, "create a model")) return;
  nm_node rhs[] = { LEAF(NM_OP_SIGNAL, 0), UN(NM_OP_NEG, 0), LEAF(NM_OP_SIGNAL, 1),
                    BIN(NM_OP_MUL, 2, 2) };
  nm_root roots[] = { { 1, NM_SINK_DERIV, 0 }, { 3, NM_SINK_DERIV, 1 } };
  double v0[] = { 1.0, 1.0 };
  int rc = add_program(m, NM_STAGE_RHS, rhs, COUNT(rhs), roots, 2, 1);
  if (rc == NM_OK) rc = nm_model_set_initial(m, v0, 2);
  for (int method = NM_RKF45; method <= NM_MSBDF && rc == NM_OK; method++) {
    int status;
    nm_sim *s = nm_sim_new(m, 0.1, 1, &status);
    if (!CHECK(s != NULL, "start a simulation")) break;
    rowbuf b = { 0 };
    nm_run_opts o = options(method, 20, 1, NULL, 0, &b);
    int got = nm_sim_run(s, &o);
    double t = -1.0;
    long sig = -1;
    nm_sim_failure(s, &t, &sig);
    CHECK(got == NM_ESTEP && t > 0.99 && t < 1.01 && sig == 1 &&
          strstr(nm_sim_error(s, got), "could not go on past t = ") != NULL,
          "%s stops at the blow-up of s1 = 1 / (1 - t) near t = 1: status %d, t = %.17g, signal %ld, '%s'",
          method_name[method], got, t, sig, nm_sim_error(s, got));
    rowbuf_free(&b);
    nm_sim_free(s);
  }
  nm_model_free(m);
}


/* Refusals carry their reason; the history's size is known before a simulation. */
static void test_reasons_and_sizes(void)
{
  nm_model *m = oscillator(0.2385);
  if (!CHECK(m != NULL, "build the oscillator model")) return;
  int status;
  nm_sim *s = nm_sim_new(m, 0.1, 1, &status);
  if (!CHECK(s != NULL, "start a simulation")) { nm_model_free(m); return; }
  static const long bad_rec[] = { 3 };
  rowbuf b = { 0 };
  static const struct { int method; long rec_n; long every; int threads; double rtol;
                        const char *why; } cases[] = {
    { NM_EULER, 1, 1, 0, 0.0, "recorded signal 3 does not exist (the model has 3)" },
    { NM_EULER, 0, 0, 0, 0.0, "every must be at least 1 (got 0)" },
    { NM_EULER, 0, 1, -1, 0.0, "threads must be 0 (automatic) to 64 (got -1)" },
    { NM_EULER, 0, 1, 0, -1.0, "rtol and atol must be finite and not negative (got -1, 1e-09)" },
    { NM_RKF45, 0, 1, 0, 0.0, "the adaptive integrator rkf45 needs rtol and atol above 0 (got 0, "
                              "1e-09)" },
  };
  for (size_t i = 0; i < COUNT(cases); i++) {
    nm_run_opts o = options(cases[i].method, 5, cases[i].every, bad_rec, (size_t)cases[i].rec_n, &b);
    o.threads = cases[i].threads;
    o.rtol = cases[i].rtol;
    int rc = nm_sim_run(s, &o);
    CHECK(rc == NM_EINVAL && strcmp(nm_sim_error(s, rc), cases[i].why) == 0,
          "refused with the reason '%s' (status %d, '%s')", cases[i].why, rc, nm_sim_error(s, rc));
  }
  nm_sim_free(s);
  rowbuf_free(&b);
  nm_model_free(m);

  /* One tracked column, delays up to 13 steps: 16 rows, twice over, and 16 derivatives. */
  m = nm_model_new(1, 0, 0, 1);
  if (!CHECK(m != NULL, "create a model")) return;
  long dst = 0, src = 0;
  int d = 13;
  double w = 1.0;
  size_t row_ptr[] = { 0, 1 };
  int rc = nm_model_add_coupling(m, NM_ADDITIVE, 1, &dst, NULL, row_ptr, &src, &d, &w);
  CHECK(rc == NM_OK && nm_model_history_bytes(m) == 3 * 16 * sizeof(double),
        "a 13-step delay on one signal needs a history of %zu bytes (got %zu)",
        3 * 16 * sizeof(double), nm_model_history_bytes(m));
  nm_model_free(m);
}


int main(void)
{
  test_orders();
  test_adaptive_smooth();
  test_adaptive_stiff();
  test_adaptive_refusals();
  test_delay_coupling();
  test_delay_hist_rk4();
  test_delay_orders();
  test_delay_wrapped();
  test_delay_diffusive();
  test_sparse_rows_exact();
  test_ahead_exact();
  test_staged_cap();
  test_stage_rule();
  test_self_lines();
  test_constraints();
  test_noise_deterministic();
  test_noise_random();
  test_noise_order();
  test_euler_whole();
  test_blowup();
  test_recording();
  test_continued_grid();
  test_adaptive_stuck();
  test_reasons_and_sizes();
  return test_summary();
}
