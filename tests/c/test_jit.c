/*
** test_jit.c: native code for programs (jit_emit.c, jit_cache.c) against the
** interpreter, bit for bit: every operation on awkward values (NaN, infinities,
** signed zeros, huge and tiny numbers) over lanes and lane ranges, table
** lookups inside and outside their grid (with the clamp counts), delayed
** reads between steps, and a whole simulation with sync, rhs and after
** programs; compiles beside a run, the switch midway, a cancelled compile and
** a run interrupted while it waits for one; a file renamed into the cache
** between the check of an object and its dlopen is not run.
** The cache goes to a fresh temporary XDG_CACHE_HOME.
*/
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/jit.h"
#include "engine/table2d_code.h"
#include "test_main.h"

#define LEAF(op, slot) { (op), -1, -1, -1, 0.0, (slot), 0 }
#define UN(op, a) { (op), (a), -1, -1, 0.0, 0, 0 }
#define BIN(op, a, b) { (op), (a), (b), -1, 0.0, 0, 0 }
#define COUNT(arr) (sizeof (arr) / sizeof (arr)[0])

/* Lanes: not a multiple of NM_LANE_ALIGN, so that ranges end mid-line. */
#define L 11

static const double A[L] = { 1.5, -2.25, 0.0, -0.0, NAN, INFINITY, -INFINITY, 7.0, -7.0, 1e300, 0.3 };
static const double B[L] = { 0.5, 3.0, -0.0, 2.0, 1.0, NAN, 2.0, -2.0, 2.0, -1e-300, 0.3 };


/* The same bits (NaNs included: libm's NaN must be the native code's NaN). */
static int same_bits(const double *x, const double *y, size_t n, size_t *where)
{
  for (size_t i = 0; i < n; i++)
    if (memcmp(&x[i], &y[i], sizeof x[i]) != 0) { *where = i; return 0; }
  return 1;
}


static nm_table2d *small_table(void)
{
  nm_table2d *t = calloc(1, sizeof *t);
  double *v = malloc(3 * 4 * sizeof *v);
  if (!t || !v) { free(t); free(v); return NULL; }
  for (int i = 0; i < 12; i++) v[i] = 0.5 * i * i - i;
  *t = (nm_table2d){ .n_rows = 3, .n_cols = 4, .row0 = -1.0, .row_step = 1.0, .row_end = 1.0,
                     .col0 = -1.0, .col_step = 0.5, .col_end = 0.5, .values = v };
  return t;
}


/* Every operation on (A, B) lane by lane: one derivative block per operation. */
static void test_every_op(void)
{
  static const int unary[] = { NM_OP_NEG, NM_OP_EXP, NM_OP_LOG, NM_OP_SQRT, NM_OP_TANH, NM_OP_SIN,
                               NM_OP_COS, NM_OP_ABS, NM_OP_FLOOR };
  static const int binary[] = { NM_OP_ADD, NM_OP_SUB, NM_OP_MUL, NM_OP_DIV, NM_OP_POW, NM_OP_MIN,
                                NM_OP_MAX, NM_OP_ATAN2, NM_OP_MOD, NM_OP_LT, NM_OP_LE, NM_OP_GT,
                                NM_OP_GE, NM_OP_EQ, NM_OP_NE };
  nm_node nodes[64];
  nm_root roots[64];
  size_t n = 0, nr = 0;
  nodes[n++] = (nm_node)LEAF(NM_OP_SIGNAL, 0);        /* 0: a */
  nodes[n++] = (nm_node)LEAF(NM_OP_SIGNAL, L);        /* 1: b */
  nodes[n++] = (nm_node)LEAF(NM_OP_TIME, 0);          /* 2: t */
  nodes[n++] = (nm_node)LEAF(NM_OP_INPUT, 0);         /* 3: u */
  nodes[n++] = (nm_node)LEAF(NM_OP_PARAM, 0);         /* 4: p (prologue) */
  nodes[n++] = (nm_node)LEAF(NM_OP_GPARAM, L);        /* 5: g (prologue) */
  nodes[n++] = (nm_node){ NM_OP_CONST, -1, -1, -1, 0.1, 0, 0 };   /* 6: a constant */
  nodes[n++] = (nm_node){ NM_OP_HIST, -1, -1, -1, 0.0, 0, 0 };    /* 7: a, undelayed */
  int first = (int)n;
  for (size_t k = 0; k < COUNT(unary); k++) nodes[n++] = (nm_node)UN(unary[k], 0);
  for (size_t k = 0; k < COUNT(binary); k++) nodes[n++] = (nm_node)BIN(binary[k], 0, 1);
  nodes[n++] = (nm_node){ NM_OP_IFELSE, 0, 1, 2, 0.0, 0, 0 };
  nodes[n++] = (nm_node){ NM_OP_TABLE2D, 0, 1, -1, 0.0, 0, 0 };
  nodes[n++] = (nm_node){ NM_OP_TABLE2D, 0, 1, -1, 0.0, 1, 0 };  /* the same point, another table */
  nodes[n++] = (nm_node)BIN(NM_OP_MUL, 3, 4);        /* u * p */
  nodes[n++] = (nm_node)BIN(NM_OP_SUB, 5, 2);        /* g - t */
  nodes[n++] = (nm_node)BIN(NM_OP_POW, 7, 6);        /* a ^ 0.1 */
  int last = (int)n;
  for (int i = first; i < last; i++) roots[nr++] = (nm_root){ i, NM_SINK_DERIV, (long)(i - first) * L };
  roots[nr++] = (nm_root){ first + 9, NM_SINK_SIGNAL, 2 * L };   /* a + b into signals */
  roots[nr++] = (nm_root){ first + 10, NM_SINK_INPUT, L };       /* a - b into inputs */
  size_t n_out = (size_t)(last - first) * L;
  nm_error err = { 0 };
  nm_program *p = nm_program_compile(nodes, n, roots, nr, L, &err);
  nm_model *m = nm_model_new(n_out, 0, L + 1, 2 * L);
  nm_table2d *t0 = small_table(), *t1 = small_table();
  if (!CHECK(p && m && t0 && t1, "compile a program with every operation (%s)", err.why)) {
    nm_program_free(p); nm_model_free(m); free(t0); free(t1);
    return;
  }
  nm_model_add_table(m, t0);
  nm_model_add_table(m, t1);
  int fit = nm_model_add_program(m, NM_STAGE_RHS, p);
  if (!CHECK(fit == NM_OK, "the program fits its model (%s)", nm_model_error(m, fit))) {
    nm_program_free(p); nm_model_free(m);
    return;
  }
  nm_error_clear(&err);
  int rc = nm_jit_prepare(m, NM_JIT_REQUIRE, 1, 1, NULL, &err);
  if (!CHECK(rc == NM_OK && p->use_native, "native code for every operation (%s)",
             rc == NM_OK ? "ok" : err.why)) { nm_model_free(m); return; }
  double *V = calloc(n_out, sizeof *V), *D[2], *U[2];
  double P[L + 1];
  for (int l = 0; l < L; l++) P[l] = 0.5 - l;
  P[L] = 4.5;
  D[0] = malloc(n_out * sizeof(double)); D[1] = malloc(n_out * sizeof(double));
  U[0] = malloc(2 * L * sizeof(double)); U[1] = malloc(2 * L * sizeof(double));
  if (!V || !D[0] || !D[1] || !U[0] || !U[1]) { CHECK(0, "allocate"); goto done; }
  double *Vs[2] = { malloc(n_out * sizeof(double)), malloc(n_out * sizeof(double)) };
  nm_table2d *tabs[2] = { t0, t1 };
  /* Lanes in three ranges, as threads would take them (each shorter than a
  ** block: lane by lane), then in one range (a block of 8 lanes and the 3
  ** left); the second table on t0's grid (the lookup shares t0's location),
  ** then on a grid of its own (the blocks do not run: lane by lane). */
  static const size_t splits[2][4] = { { 0, 3, 8, L }, { 0, L, L, L } };
  for (int grid = 0; grid < 2; grid++) {
    if (grid) { t1->col_step = 0.25; t1->col_end = -0.25; }
    for (int whole = 0; whole < 2; whole++) {
      const char *how = whole ? grid ? "in one range, the second table on another grid" : "in one range"
                              : grid ? "in three ranges, the second table on another grid"
                                     : "in three ranges";
      unsigned long clamped[2][2];
      double firstpt[2][4];
      for (int native = 0; native < 2; native++) {
        memcpy(V, A, sizeof A);
        memcpy(V + L, B, sizeof B);
        for (int l = 0; l < 2 * L; l++) U[native][l] = 0.25 * l - 1.0;
        for (size_t i = 0; i < n_out; i++) D[native][i] = -7.77;
        for (int k = 0; k < 2; k++) tabs[k]->clamped = 0;
        nm_eval_ctx ctx = { V, P, U[native], D[native], 3.75, NULL, tabs };
        p->use_native = native;
        p->stale = 1;
        nm_program_prepare(p, &ctx);
        for (int r = 0; r < 3; r++)
          if (splits[whole][r] < splits[whole][r + 1])
            nm_program_eval_lanes(p, &ctx, splits[whole][r], splits[whole][r + 1]);
        for (int k = 0; k < 2; k++) {
          clamped[native][k] = tabs[k]->clamped;
          firstpt[native][2 * k] = tabs[k]->clamped_row;
          firstpt[native][2 * k + 1] = tabs[k]->clamped_col;
        }
        if (Vs[native]) memcpy(Vs[native], V, n_out * sizeof(double));
      }
      size_t at = 0;
      int same = same_bits(D[0], D[1], n_out, &at);
      CHECK(same, "every operation gives the interpreter's bits natively, %s (first difference: "
            "operation %zu lane %zu: %.17g vs %.17g)", how, at / L, at % L, D[0][at], D[1][at]);
      CHECK(same_bits(U[0], U[1], 2 * L, &at) && Vs[0] && Vs[1] &&
            same_bits(Vs[0], Vs[1], n_out, &at),
            "stores into signals and inputs are the interpreter's, %s", how);
      CHECK(clamped[0][0] == clamped[1][0] && clamped[0][1] == clamped[1][1] && clamped[0][0] > 0 &&
            same_bits(firstpt[0], firstpt[1], 4, &at),
            "lookups outside the grid are counted as the interpreter counts them, the first "
            "outside point too, %s (%lu, %lu; %lu, %lu)", how, clamped[0][0], clamped[1][0],
            clamped[0][1], clamped[1][1]);
    }
  }
  free(Vs[0]); free(Vs[1]);
done:
  free(V); free(D[0]); free(D[1]); free(U[0]); free(U[1]);
  nm_model_free(m);
}


/* The engine's table arithmetic, for the check of its two forms below. */
NM_TABLE2D_CODE(nm_table2d, nm_table_pos)


/* The location without branches (nm_tbl_axis_sel, native code's blocks) is
** the location with branches (nm_tbl_axis: the interpreter's, lane by lane)
** bit for bit: index, fraction and flag, on every kind of point of axes
** that start at 0 (so that -0.0 gives pos = -0.0), below and above it. */
static void test_table_axis_forms(void)
{
  static const double starts[] = { -1.0, 0.0, 0.25 }, steps[] = { 0.5, 1.0, 0.1 };
  static const size_t sizes[] = { 2, 5, 40 };
  size_t n_pts = 0, bad = 0;
  char where[200] = "";
  for (int a = 0; a < 3; a++) {
    double x0 = starts[a], step = steps[a];
    size_t n = sizes[a];
    double x_end = x0 + (double)(n - 1) * step;
    double pts[64 + 8 * 40];
    size_t np = 0;
    static const double odd[] = { NAN, -NAN, INFINITY, -INFINITY, 0.0, -0.0, 1e300, -1e300, 5e-324,
                                  -5e-324, 2.2250738585072014e-308, 1e19, -1e19, 3e18 };
    for (size_t k = 0; k < sizeof odd / sizeof odd[0]; k++) pts[np++] = odd[k];
    for (size_t j = 0; j <= n; j++) {
      double g = x0 + (double)j * step;
      pts[np++] = g;
      pts[np++] = nextafter(g, -INFINITY);
      pts[np++] = nextafter(g, INFINITY);
      pts[np++] = g + 0.5 * step;
      pts[np++] = g + 0.999999 * step;
    }
    pts[np++] = x_end;
    pts[np++] = nextafter(x_end, -INFINITY);
    for (size_t k = 0; k < np; k++) {
      size_t i0 = 7, i1 = 9;
      double f0 = -1.0, f1 = -2.0;
      int o0 = nm_tbl_axis(pts[k], x0, step, x_end, n, &i0, &f0);
      int o1 = (int)nm_tbl_axis_sel(pts[k], x0, step, x_end, n, &i1, &f1);
      n_pts++;
      if (o0 != o1 || i0 != i1 || memcmp(&f0, &f1, sizeof f0) != 0) {
        if (!bad++)
          snprintf(where, sizeof where, "axis %d, x %.17g: (%d, %zu, %.17g) vs (%d, %zu, %.17g)", a,
                   pts[k], o0, i0, f0, o1, i1, f1);
      }
    }
  }
  CHECK(bad == 0 && n_pts > 100, "a table location without branches is the one with branches, bit for "
        "bit, on %zu points (%zu differ%s%s)", n_pts, bad, bad ? ": first " : "", where);
}


/* Points on and about an axis from x0 by `step` over n entries (NaN,
** infinities, signed zeros, tiny and huge numbers, every grid value and its
** neighbours, the end): *np of them into pts. */
static void axis_points(double x0, double step, size_t n, double *pts, size_t *np)
{
  static const double odd[] = { NAN, -NAN, INFINITY, -INFINITY, 0.0, -0.0, 1e300, -1e300, 5e-324,
                                -5e-324, 2.2250738585072014e-308, 1e19, -1e19, 3e18 };
  double x_end = x0 + (double)(n - 1) * step;
  *np = 0;
  for (size_t k = 0; k < sizeof odd / sizeof odd[0]; k++) pts[(*np)++] = odd[k];
  for (size_t j = 0; j <= n; j++) {
    double g = x0 + (double)j * step;
    pts[(*np)++] = g;
    pts[(*np)++] = nextafter(g, -INFINITY);
    pts[(*np)++] = nextafter(g, INFINITY);
    pts[(*np)++] = g + 0.5 * step;
    pts[(*np)++] = g + 0.999999 * step;
  }
  pts[(*np)++] = x_end;
  pts[(*np)++] = nextafter(x_end, -INFINITY);
}


/* Native code's blocks of table lookups (no calls: on a CPU with AVX512-FP16
** and GCC, 512-bit vectors and 64-bit flags, jit_emit.c) on every point of
** axis_points, rows against columns: values, clamp counts and the first
** point outside are the interpreter's. */
static void test_table_block_edges(void)
{
  double rows[64], cols[64];
  size_t nr, nc;
  axis_points(-1.0, 1.0, 3, rows, &nr);
  axis_points(-1.0, 0.5, 4, cols, &nc);
  size_t n = nr * nc;
  nm_node nodes[] = { LEAF(NM_OP_SIGNAL, 0), LEAF(NM_OP_SIGNAL, (long)n),
                      { NM_OP_TABLE2D, 0, 1, -1, 0.0, 0, 0 }, { NM_OP_TABLE2D, 0, 1, -1, 0.0, 1, 0 } };
  nm_root roots[] = { { 2, NM_SINK_DERIV, 0 }, { 3, NM_SINK_DERIV, (long)n } };
  nm_error err = { 0 };
  nm_program *p = nm_program_compile(nodes, COUNT(nodes), roots, COUNT(roots), n, &err);
  nm_model *m = nm_model_new(2 * n, 0, 0, 0);
  nm_table2d *t0 = small_table(), *t1 = small_table();
  double *V = malloc(2 * n * sizeof *V), *D[2] = { malloc(2 * n * sizeof(double)),
                                                    malloc(2 * n * sizeof(double)) };
  if (!CHECK(p && m && t0 && t1 && V && D[0] && D[1], "compile two lookups over %zu lanes (%s)", n,
             err.why)) {
    nm_program_free(p); nm_model_free(m); free(t0); free(t1); free(V); free(D[0]); free(D[1]);
    return;
  }
  for (int i = 0; i < 12; i++) t1->values[i] = 3.0 - 0.25 * i;
  nm_model_add_table(m, t0);
  nm_model_add_table(m, t1);
  if (CHECK(nm_model_add_program(m, NM_STAGE_RHS, p) == NM_OK &&
            nm_jit_prepare(m, NM_JIT_REQUIRE, 1, 1, NULL, &err) == NM_OK && p->use_native,
            "native code for %zu lanes of lookups (%s)", n, err.why)) {
    for (size_t i = 0; i < nr; i++)
      for (size_t j = 0; j < nc; j++) {
        V[i * nc + j] = rows[i];
        V[n + i * nc + j] = cols[j];
      }
    nm_table2d *tabs[2] = { t0, t1 };
    unsigned long clamped[2];
    double first[2][2];
    for (int native = 0; native < 2; native++) {
      t0->clamped = t1->clamped = 0;
      nm_eval_ctx ctx = { V, NULL, NULL, D[native], 0.0, NULL, tabs };
      p->use_native = native;
      p->stale = 1;
      nm_program_prepare(p, &ctx);
      nm_program_eval_lanes(p, &ctx, 0, n);
      clamped[native] = t0->clamped;
      first[native][0] = t0->clamped_row;
      first[native][1] = t0->clamped_col;
    }
    size_t at = 0;
    CHECK(same_bits(D[0], D[1], 2 * n, &at) && clamped[0] == clamped[1] && clamped[0] > 0 &&
          same_bits(first[0], first[1], 2, &at),
          "blocks of lookups on %zu points on and about the grid give the interpreter's bits (first "
          "difference at %zu: %.17g vs %.17g; clamped %lu vs %lu)", n, at, D[0][at], D[1][at],
          clamped[0], clamped[1]);
  }
  nm_model_free(m);
  free(V); free(D[0]); free(D[1]);
}


/* Two tables share a location only on the same grid (nm_tbl_same_grid,
** without branches): the same axes give 1, a difference in any one of the
** eight fields 0 (and a NaN field never matches, as == says). */
static void test_table_same_grid(void)
{
  nm_table2d *a = small_table(), *b = small_table();
  if (!CHECK(a && b, "allocate two tables")) { free(a); free(b); return; }
  int same = nm_tbl_same_grid(a, b) == 1 && nm_tbl_same_grid(b, a) == 1, differ = 1;
  for (int f = 0; f < 9; f++) {
    nm_table2d c = *b;
    switch (f) {
      case 0: c.n_rows++; break;
      case 1: c.n_cols--; break;
      case 2: c.row0 = nextafter(c.row0, 0.0); break;
      case 3: c.row_step *= 2; break;
      case 4: c.row_end += 1e-9; break;
      case 5: c.col0 = -2.0; break;
      case 6: c.col_step = 0.25; break;
      case 7: c.col_end = 0.75; break;
      default: c.col0 = NAN; break;
    }
    differ &= nm_tbl_same_grid(a, &c) == 0 && nm_tbl_same_grid(&c, a) == 0;
  }
  b->values[0] = 99.0;                  /* the values are no part of the grid */
  same &= nm_tbl_same_grid(a, b) == 1;
  CHECK(same && differ, "tables on the same axes share a grid (%d), tables differing in any one axis "
        "field do not (%d)", same, differ);
  free(a->values); free(b->values); free(a); free(b);
}


/* Lookups over 20 lanes in one range (two blocks of 8, then 4 lane by lane):
** points outside the grid in lanes 5, 9 and 17 only; the second lookup
** shares the first's location.  Values, counts and the first outside point
** are the interpreter's. */
static void test_table_blocks(void)
{
  enum { N = 20 };
  nm_node nodes[] = { LEAF(NM_OP_SIGNAL, 0), LEAF(NM_OP_SIGNAL, N),
                      { NM_OP_TABLE2D, 0, 1, -1, 0.0, 0, 0 }, { NM_OP_TABLE2D, 0, 1, -1, 0.0, 1, 0 } };
  nm_root roots[] = { { 2, NM_SINK_DERIV, 0 }, { 3, NM_SINK_DERIV, N } };
  nm_error err = { 0 };
  nm_program *p = nm_program_compile(nodes, COUNT(nodes), roots, COUNT(roots), N, &err);
  nm_model *m = nm_model_new(2 * N, 0, 0, 0);
  nm_table2d *t0 = small_table(), *t1 = small_table();
  if (!CHECK(p && m && t0 && t1, "compile two table lookups over %d lanes (%s)", N, err.why)) {
    nm_program_free(p); nm_model_free(m); free(t0); free(t1);
    return;
  }
  for (int i = 0; i < 12; i++) t1->values[i] = 3.0 - 0.25 * i;
  nm_model_add_table(m, t0);
  nm_model_add_table(m, t1);
  if (!CHECK(nm_model_add_program(m, NM_STAGE_RHS, p) == NM_OK &&
             nm_jit_prepare(m, NM_JIT_REQUIRE, 1, 1, NULL, &err) == NM_OK && p->use_native,
             "native code for %d lanes of lookups (%s)", N, err.why)) {
    nm_model_free(m);
    return;
  }
  double V[2 * N], D[2][2 * N], first[2][4];
  unsigned long clamped[2][2];
  for (int l = 0; l < N; l++) {
    V[l] = -0.95 + 0.09 * l;            /* rows from -1 (exclusive end 1) */
    V[N + l] = -0.9 + 0.07 * l;         /* columns from -1 (exclusive end 0.5) */
  }
  V[5] = NAN;                           /* outside: NaN */
  V[N + 9] = -3.0;                      /* outside: below */
  V[17] = 1.0;                          /* outside: at the exclusive end */
  V[N + 17] = 0.25;
  nm_table2d *tabs[2] = { t0, t1 };
  for (int native = 0; native < 2; native++) {
    for (int k = 0; k < 2; k++) tabs[k]->clamped = 0;
    nm_eval_ctx ctx = { V, NULL, NULL, D[native], 0.0, NULL, tabs };
    p->use_native = native;
    p->stale = 1;
    nm_program_prepare(p, &ctx);
    nm_program_eval_lanes(p, &ctx, 0, N);
    for (int k = 0; k < 2; k++) {
      clamped[native][k] = tabs[k]->clamped;
      first[native][2 * k] = tabs[k]->clamped_row;
      first[native][2 * k + 1] = tabs[k]->clamped_col;
    }
  }
  size_t at = 0;
  CHECK(same_bits(D[0], D[1], 2 * N, &at), "lookups in blocks of lanes give the interpreter's bits "
        "(first difference: lane %zu: %.17g vs %.17g)", at, D[0][at], D[1][at]);
  CHECK(clamped[0][0] == 3 && clamped[1][0] == 3 && clamped[0][1] == 3 && clamped[1][1] == 3 &&
        isnan(first[1][0]) && same_bits(first[0], first[1], 4, &at),
        "lookups in blocks count the lanes outside the grid (3, 3; native %lu, %lu) and keep the "
        "first in lane order (row %g, column %g), as the interpreter", clamped[1][0], clamped[1][1],
        first[1][0], first[1][1]);
  nm_model_free(m);
}


/* One lane (a single node: jit_emit.c's one-lane form): three lookups of one
** point, the second and third sharing the first's location, the third table
** on the first's grid, then on a grid of its own (the body that asks pair by
** pair), then on the first's grid but for a last column value of -0.0
** against 0.0 (equal as values, not as bits: the location is not shared,
** and is the same).
** Points inside, on the edges, outside and NaN: values, counts and the
** first outside point are the interpreter's. */
static void test_table_one_lane(void)
{
  nm_node nodes[] = { LEAF(NM_OP_SIGNAL, 0), LEAF(NM_OP_SIGNAL, 1),
                      { NM_OP_TABLE2D, 0, 1, -1, 0.0, 0, 0 }, { NM_OP_TABLE2D, 0, 1, -1, 0.0, 1, 0 },
                      { NM_OP_TABLE2D, 0, 1, -1, 0.0, 2, 0 } };
  nm_root roots[] = { { 2, NM_SINK_DERIV, 0 }, { 3, NM_SINK_DERIV, 1 }, { 4, NM_SINK_DERIV, 2 } };
  nm_error err = { 0 };
  nm_program *p = nm_program_compile(nodes, COUNT(nodes), roots, COUNT(roots), 1, &err);
  nm_model *m = nm_model_new(3, 0, 0, 0);
  nm_table2d *t[3] = { small_table(), small_table(), small_table() };
  if (!CHECK(p && m && t[0] && t[1] && t[2], "compile three lookups over one lane (%s)", err.why)) {
    nm_program_free(p); nm_model_free(m);
    for (int k = 0; k < 3; k++) { if (t[k]) free(t[k]->values); free(t[k]); }
    return;
  }
  for (int i = 0; i < 12; i++) { t[1]->values[i] = 3.0 - 0.25 * i; t[2]->values[i] = 0.125 * i; }
  for (int k = 0; k < 3; k++) nm_model_add_table(m, t[k]);
  if (!CHECK(nm_model_add_program(m, NM_STAGE_RHS, p) == NM_OK &&
             nm_jit_prepare(m, NM_JIT_REQUIRE, 1, 1, NULL, &err) == NM_OK && p->use_native,
             "native code for one lane of lookups (%s)", err.why)) {
    nm_model_free(m);
    return;
  }
  static const double pts[][2] = { { -0.95, -0.9 }, { 0.3, 0.1 }, { -1.0, -1.0 }, { 0.999, 0.49 },
                                   { 1.0, 0.25 }, { -3.0, 0.0 }, { 0.5, 7.0 }, { NAN, 0.2 },
                                   { 0.2, NAN }, { -0.0, -0.5 }, { 0.3, -0.0 }, { 0.3, 0.0 },
                                   { 0.3, -0.25 } };
  int same = 1, counted = 1, any_out = 0;
  for (int grid = 0; grid < 3; grid++) {
    if (grid == 1) { t[2]->col_step = 0.25; t[2]->col_end = -0.25; }
    if (grid == 2) {
      double *v2 = t[2]->values;
      *t[2] = *t[0];
      t[2]->values = v2;
      t[0]->col_end = t[1]->col_end = 0.0;
      t[2]->col_end = -0.0;
    }
    for (size_t i = 0; i < COUNT(pts); i++) {
      double V[3] = { pts[i][0], pts[i][1], 0.0 }, D[2][3], first[2][6];
      unsigned long clamped[2][3];
      for (int native = 0; native < 2; native++) {
        for (int k = 0; k < 3; k++) t[k]->clamped = 0;
        nm_eval_ctx ctx = { V, NULL, NULL, D[native], 0.0, NULL, t };
        p->use_native = native;
        p->stale = 1;
        nm_program_prepare(p, &ctx);
        nm_program_eval_lanes(p, &ctx, 0, 1);
        for (int k = 0; k < 3; k++) {
          clamped[native][k] = t[k]->clamped;
          first[native][2 * k] = t[k]->clamped_row;
          first[native][2 * k + 1] = t[k]->clamped_col;
        }
      }
      size_t at;
      if (!same_bits(D[0], D[1], 3, &at)) {
        same = 0;
        printf("# grid %d point %zu: lookup %zu: interpreter %.17g, native %.17g\n", grid, i, at,
               D[0][at], D[1][at]);
      }
      for (int k = 0; k < 3; k++) {
        any_out |= clamped[1][k] > 0;
        counted &= clamped[0][k] == clamped[1][k] &&
                   (clamped[0][k] == 0 || same_bits(first[0] + 2 * k, first[1] + 2 * k, 2, &at));
      }
    }
  }
  CHECK(same, "lookups over one lane give the interpreter's bits, on one grid, on two, and on "
        "grids the same as values but not as bits");
  CHECK(counted && any_out, "lookups over one lane count the points outside the grid and keep "
        "the first, as the interpreter");
  nm_model_free(m);
}


/* The CPU's identity, read from /proc/cpuinfo's text (x86, ARM, none), is
** part of the cache key: code compiled for one CPU is never another's. */
static void test_cpu_identity(void)
{
  static const char x86[] =
    "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel name\t: Intel(R) Xeon(R) "
    "Platinum 8488C\ncpu MHz\t\t: 2400.000\nflags\t\t: fpu sse2 avx2 avx512f\nbogomips\t: 4800\n\n"
    "processor\t: 1\nvendor_id\t: GenuineIntel\nmodel name\t: other\nflags\t\t: fpu\n\n";
  static const char arm[] = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd sve\n"
                            "CPU implementer\t: 0x41\nCPU part\t: 0xd40\n\n";
  static const char bare[] = "processor\t: 0\nmodel name\t: mystery\n";
  char *a = nm_jit_cpu_identity_of(x86), *b = nm_jit_cpu_identity_of(arm);
  char *c = nm_jit_cpu_identity_of(bare);
  CHECK(a && strcmp(a, "vendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Platinum 8488C\n"
                       "flags\t\t: fpu sse2 avx2 avx512f\n") == 0,
        "an x86 CPU is named by its first processor's vendor, model and flags (%zu characters)",
        a ? strlen(a) : 0);
  CHECK(b && strcmp(b, "Features\t: fp asimd sve\nCPU implementer\t: 0x41\nCPU part\t: 0xd40\n") == 0,
        "an ARM CPU by its features, implementer and part (%zu characters)", b ? strlen(b) : 0);
  CHECK(!c, "a CPU whose instruction sets are not named has no identity (code without "
        "-march=native)");
  char k0[33], k1[33], k2[33], k3[33];
  nm_jit_key_of("void f(void) {}", NULL, k0);
  nm_jit_key_of("void f(void) {}", a, k1);
  nm_jit_key_of("void f(void) {}", b, k2);
  nm_jit_key_of("void f(void) {}", a, k3);
  CHECK(strcmp(k0, k1) != 0 && strcmp(k1, k2) != 0 && strcmp(k0, k2) != 0 && strcmp(k1, k3) == 0 &&
        strlen(k1) == 32, "the cache key changes with the CPU's identity, and with none (%s, %s, %s)",
        k0, k1, k2);
  free(a); free(b); free(c);
  /* Intel CPUs with AVX512-FP16 are tuned for as Sapphire Rapids (gathers);
  ** AMD CPUs with AVX512-VP2INTERSECT (Zen 5, 512-bit vector units) keep
  ** GCC's tuning, their table programs' blocks 512-bit vectors; other CPUs
  ** (AMD's Zen 4: no VP2INTERSECT), and names that only contain a flag's,
  ** get nothing; and no CPU but x86's gets a flag. */
  static const struct { const char *cpu, *flag; } tunes[] = {
    { "vendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Processor\n"
      "flags\t\t: fpu avx2 avx512f avx512_fp16 amx_tile\n", "-mtune=sapphirerapids" },
    { "vendor_id\t: GenuineIntel\nflags\t\t: fpu avx512_fp16\n", "-mtune=sapphirerapids" },
    { "vendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\n"
      "flags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vp2intersect avx512_vnni\n", "-DNM_JIT_WIDE" },
    { "vendor_id\t: AuthenticAMD\nflags\t\t: fpu avx512f avx512_vp2intersect\n", "-DNM_JIT_WIDE" },
    { "vendor_id\t: GenuineIntel\nflags\t\t: fpu sse2 avx2 avx512f\n", NULL },
    { "vendor_id\t: GenuineIntel\nflags\t\t: fpu avx512_fp16x avx512_bf16\n", NULL },
    { "vendor_id\t: GenuineIntel\nflags\t\t: fpu avx512f avx512_vp2intersect\n", NULL },
    { "vendor_id\t: AuthenticAMD\nflags\t\t: fpu avx512f avx512_fp16\n", NULL },
    { "vendor_id\t: AuthenticAMD\nflags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n", NULL },
    { "vendor_id\t: AuthenticAMD\nflags\t\t: fpu avx512f avx512_vp2intersectx\n", NULL },
    { "Features\t: fp asimd sve\nCPU implementer\t: 0x41\n", NULL },
  };
  int on_x86 = 0;
#if defined(__x86_64__) || defined(__i386__)
  on_x86 = 1;
#endif
  long wrong = -1;
  for (size_t i = 0; i < COUNT(tunes) && wrong < 0; i++) {
    const char *want = on_x86 ? tunes[i].flag : NULL, *got = nm_jit_cc_tune_of(tunes[i].cpu);
    if (want ? !got || strcmp(got, want) != 0 : got != NULL) wrong = (long)i;
  }
  CHECK(wrong < 0 && nm_jit_cc_tune_of(NULL) == NULL, "on x86, an Intel CPU with AVX512-FP16 is tuned "
        "for as Sapphire Rapids, an AMD CPU with AVX512-VP2INTERSECT gets -DNM_JIT_WIDE, no other CPU "
        "gets a flag (first identity wrong: %ld)", wrong);
}


/* A model of L lanes: x' = f(x, y, x delayed 3 steps, t, u), y' = g(...), with a
** sync program writing u and an after program writing an aux signal. */
static nm_model *delayed_model(void)
{
  nm_model *m = nm_model_new(2 * L, L, L + 1, L);
  if (!m) return NULL;
  nm_node rhs[] = {
    LEAF(NM_OP_SIGNAL, 0), LEAF(NM_OP_SIGNAL, L), { NM_OP_HIST, -1, -1, -1, 0.0, 0, 3 },
    LEAF(NM_OP_TIME, 0), LEAF(NM_OP_INPUT, 0), LEAF(NM_OP_PARAM, 0), LEAF(NM_OP_GPARAM, L),
    BIN(NM_OP_SUB, 1, 0), UN(NM_OP_TANH, 2), BIN(NM_OP_MUL, 5, 8),          /* 7, 8, 9 */
    UN(NM_OP_SIN, 3), BIN(NM_OP_ADD, 9, 10), BIN(NM_OP_ADD, 11, 4),          /* 10, 11, 12 */
    BIN(NM_OP_ADD, 12, 7),                                                     /* 13: x' */
    UN(NM_OP_NEG, 1), BIN(NM_OP_MUL, 0, 6), UN(NM_OP_COS, 15),                 /* 14, 15, 16 */
    BIN(NM_OP_ADD, 14, 16),                                                    /* 17: y' */
  };
  nm_root rr[] = { { 13, NM_SINK_DERIV, 0 }, { 17, NM_SINK_DERIV, L } };
  nm_node sync[] = { LEAF(NM_OP_SIGNAL, L), UN(NM_OP_EXP, 0), UN(NM_OP_LOG, 1) };
  nm_root sr = { 2, NM_SINK_INPUT, 0 };
  nm_node after[] = { LEAF(NM_OP_SIGNAL, 0), LEAF(NM_OP_SIGNAL, L), BIN(NM_OP_ATAN2, 0, 1) };
  nm_root ar = { 2, NM_SINK_SIGNAL, 2 * L };
  nm_program *p1 = nm_program_compile(rhs, COUNT(rhs), rr, 2, L, NULL);
  nm_program *p2 = nm_program_compile(sync, COUNT(sync), &sr, 1, L, NULL);
  nm_program *p3 = nm_program_compile(after, COUNT(after), &ar, 1, L, NULL);
  if (!p1 || !p2 || !p3 || nm_model_add_program(m, NM_STAGE_RHS, p1) != NM_OK) {
    nm_program_free(p1); nm_program_free(p2); nm_program_free(p3); nm_model_free(m);
    return NULL;
  }
  nm_model_add_program(m, NM_STAGE_SYNC, p2);
  nm_model_add_program(m, NM_STAGE_AFTER, p3);
  double v0[3 * L];
  for (int l = 0; l < 3 * L; l++) v0[l] = 0.1 * l - 0.7;
  nm_model_set_initial(m, v0, 3 * L);
  for (int l = 0; l < L; l++) nm_model_set_param(m, (size_t)l, 0.3 + 0.05 * l);
  nm_model_set_param(m, L, 0.9);
  return m;
}


static void test_simulation(void)
{
  static const int methods[] = { NM_EULER, NM_HEUN, NM_RK4 };
  for (size_t k = 0; k < COUNT(methods); k++) {
    double out[2][3 * L];
    for (int mode = 0; mode < 2; mode++) {
      nm_model *m = delayed_model();
      int st;
      nm_sim *s = m ? nm_sim_new(m, 0.05, 7, &st) : NULL;
      nm_run_opts o = { 0 };
      o.n_steps = 200;
      o.every = 1;
      o.method = methods[k];
      o.threads = 1;
      o.jit = mode ? NM_JIT_REQUIRE : NM_JIT_OFF;
      int rc = s ? nm_sim_run(s, &o) : NM_ENOMEM;
      if (!CHECK(rc == NM_OK, "%s run (%s)", mode ? "native" : "interpreted",
                 s ? nm_sim_error(s, rc) : "no simulation")) {
        memset(out[mode], mode, sizeof out[mode]);
      } else {
        memcpy(out[mode], nm_sim_signals(s), sizeof out[mode]);
      }
      nm_sim_free(s);
      nm_model_free(m);
    }
    size_t at = 0;
    CHECK(same_bits(out[0], out[1], 3 * L, &at), "%s: 200 steps with delayed reads, sync and after "
          "programs give the interpreter's bits natively (signal %zu: %.17g vs %.17g)",
          nm_stepper(methods[k])->name, at, out[0][at], out[1][at]);
  }
}


/* Waits (up to a minute) until no compile is in flight. */
static void wait_compiles(void)
{
  nm_jit_counts c;
  for (int i = 0; i < 6000; i++) {
    nm_jit_stats(&c);
    if (c.compiling == 0) return;
    usleep(10000);
  }
  CHECK(0, "the background compiles end within a minute");
}


/* Damages the cached objects with the shell command cmd, then checks that a
** model requiring native code refuses all three and rebuilds them. */
static void damaged_rebuilt(const char *cmd, const char *what)
{
  nm_jit_counts c0, c1;
  nm_error err = { 0 };
  CHECK(system(cmd) == 0, "damage the cache (%s)", what);
  nm_jit_stats(&c0);
  nm_model *m = delayed_model();
  int rc = m ? nm_jit_prepare(m, NM_JIT_REQUIRE, 1, 1, NULL, &err) : NM_ENOMEM;
  nm_jit_stats(&c1);
  CHECK(rc == NM_OK && c1.refused == c0.refused + 3 && c1.compiled == c0.compiled + 3,
        "%s cached objects are refused and rebuilt (refused %lu, compiled %lu: %s)", what,
        c1.refused - c0.refused, c1.compiled - c0.compiled, rc == NM_OK ? "ok" : err.why);
  nm_model_free(m);
}


/* The cache: a second model loads; a foreign or corrupt file under the key is
** refused and rebuilt; no compiler leaves the interpreter. */
static void test_cache(const char *dir)
{
  nm_jit_counts c0, c1;
  nm_error err = { 0 };
  nm_jit_stats(&c0);
  nm_model *m = delayed_model();
  int rc = m ? nm_jit_prepare(m, NM_JIT_REQUIRE, 1, 1, NULL, &err) : NM_ENOMEM;
  nm_jit_stats(&c1);
  CHECK(rc == NM_OK && c1.compiled == c0.compiled && c1.loaded == c0.loaded + 3,
        "a second model with the same programs loads them from the cache (compiled %lu, loaded %lu)",
        c1.compiled - c0.compiled, c1.loaded - c0.loaded);
  nm_model_free(m);
  /* Overwrite every cached object with garbage, and one with another's object. */
  char cmd[4400];
  snprintf(cmd, sizeof cmd, "cd '%s/neuromass' && set -- *.so && cp \"$1\" keep && "
           "for f in *.so; do printf 'not an ELF' > \"$f\"; done && mv keep \"$2\"", dir);
  damaged_rebuilt(cmd, "corrupt and foreign");
  /* Truncated objects (a copy or a disk cut short): refused and rebuilt, not
  ** handed to dlopen, which would map the missing pages and die of SIGBUS. */
  snprintf(cmd, sizeof cmd, "cd '%s/neuromass' && for f in *.so; do "
           "head -c $(( $(wc -c < \"$f\") / 2 )) \"$f\" > half && mv half \"$f\"; done", dir);
  damaged_rebuilt(cmd, "truncated");
  /* No compiler: the interpreter, silently unless required. */
  snprintf(cmd, sizeof cmd, "rm -f '%s'/neuromass/*.so", dir);
  CHECK(system(cmd) == 0, "empty the cache");
  setenv("NEUROMASS_CC", "/nonexistent/cc", 1);
  m = delayed_model();
  rc = m ? nm_jit_prepare(m, NM_JIT_ALWAYS, 1, 1, NULL, &err) : NM_ENOMEM;
  CHECK(rc == NM_OK && m->progs[NM_STAGE_RHS][0]->use_native == 0,
        "without a compiler the run goes on, interpreted");
  nm_model_free(m);
  m = delayed_model();
  rc = m ? nm_jit_prepare(m, NM_JIT_REQUIRE, 1, 1, NULL, &err) : NM_ENOMEM;
  CHECK(rc == NM_EINVAL && strstr(err.why, "/nonexistent/cc"),
        "without a compiler, jit = require fails the run and names the compiler (%s)", err.why);
  nm_model_free(m);
  m = NULL;
  unsetenv("NEUROMASS_CC");
  /* Automatic: the run's work decides (docs/jit.md): a short run neither
  ** looks nor compiles, a medium one loads what is cached, a long one compiles
  ** beside the run (one thread, a core to spare) and switches when built. */
  static const struct { double evals; int native; unsigned long loaded, compiled; const char *what; }
  bands[] = {
    { 10, 0, 0, 0, "a short run is interpreted, nothing compiled" },
    { 1e5, 0, 0, 0, "a medium run without cached code is interpreted, nothing compiled" },
    { 1e9, 1, 0, 3, "a long run compiles" },
    { 10, 0, 0, 0, "with cached code, a short run does not consult the cache" },
    { 1e5, 1, 3, 0, "a medium run loads cached code" },
  };
  for (size_t k = 0; k < COUNT(bands); k++) {
    if (k == 0 || k == 3) { nm_model_free(m); m = delayed_model(); }
    nm_jit_stats(&c0);
    rc = m ? nm_jit_prepare(m, NM_JIT_AUTO, bands[k].evals, 1, NULL, &err) : NM_ENOMEM;
    if (rc == NM_OK && bands[k].compiled && sysconf(_SC_NPROCESSORS_ONLN) > 1) {
      CHECK(m->progs[NM_STAGE_RHS][0]->use_native == 0 && m->jit_pending == 3,
            "automatic: a long run starts interpreted while its programs compile (%d pending)",
            m->jit_pending);
      wait_compiles();
      nm_jit_stats(&c1);
      CHECK(c1.compiled - c0.compiled == 3 && c1.compiling == 0,
            "automatic: jit_stats counts the compiles once done, before a run takes them "
            "(compiled %lu)", c1.compiled - c0.compiled);
      nm_jit_switch(m);
      nm_jit_stats(&c1);
      CHECK(c1.switched - c0.switched == 3 && m->jit_pending == 0,
            "automatic: the programs switch to native code once built (%lu switched)",
            c1.switched - c0.switched);
    }
    nm_jit_stats(&c1);
    CHECK(rc == NM_OK && m->progs[NM_STAGE_RHS][0]->use_native == bands[k].native &&
          c1.loaded - c0.loaded == bands[k].loaded && c1.compiled - c0.compiled == bands[k].compiled,
          "automatic: %s (loaded %lu, compiled %lu)", bands[k].what, c1.loaded - c0.loaded,
          c1.compiled - c0.compiled);
  }
  nm_model_free(m);
  /* A long run whose threads take every core waits for its compile (a
  ** compiler beside it would slow every step); a short one would not compile. */
  snprintf(cmd, sizeof cmd, "rm -f '%s'/neuromass/*.so", dir);
  CHECK(system(cmd) == 0, "empty the cache");
  m = delayed_model();
  nm_jit_stats(&c0);
  rc = m ? nm_jit_prepare(m, NM_JIT_AUTO, 1e9, (int)sysconf(_SC_NPROCESSORS_ONLN), NULL, &err) : NM_ENOMEM;
  nm_jit_stats(&c1);
  CHECK(rc == NM_OK && m->progs[NM_STAGE_RHS][0]->use_native && m->jit_pending == 0 &&
        c1.compiled - c0.compiled == 3 && c1.compiling == 0,
        "automatic: a long run on every core waits for its compile (compiled %lu)",
        c1.compiled - c0.compiled);
  nm_model_free(m);
}


/* test_swap's seam (nm_jit_load_between): the next `swaps_left` loads find,
** after their check, the checked object's bytes without their seal (a whole
** ELF with the right key, which the check refuses) in its place: renamed
** there, as another process's rename would put a file there before dlopen,
** or, with `in_place`, written into the checked file itself. */
static int swaps_left, in_place;
static void swap_in_unsealed(const char *path)
{
  if (swaps_left <= 0) return;
  swaps_left--;
  char cmd[9000];
  if (in_place)
    snprintf(cmd, sizeof cmd, "head -c $(( $(wc -c < '%s') - 16 )) '%s' > '%s.swap' && cat '%s.swap' > '%s' && "
             "rm '%s.swap'", path, path, path, path, path, path);
  else
    snprintf(cmd, sizeof cmd, "head -c $(( $(wc -c < '%s') - 16 )) '%s' > '%s.swap' && mv '%s.swap' '%s'",
             path, path, path, path, path);
  CHECK(system(cmd) == 0, "%s an unsealed object into %s", in_place ? "write" : "rename", path);
}


/* The path and key of an object in the cache; 0 when there is none (or
** its path does not fit in `size` bytes). */
static int cached_object(const char *dir, char *path, size_t size, char key[33])
{
  char sub[4200];
  int len = snprintf(sub, sizeof sub, "%s/neuromass", dir);
  DIR *d = len >= 0 && (size_t)len < sizeof sub ? opendir(sub) : NULL;
  struct dirent *e;
  int found = 0;
  while (d && !found && (e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    if (n != 35 || strcmp(e->d_name + 32, ".so") != 0) continue;
    memcpy(key, e->d_name, 32);
    key[32] = '\0';
    len = snprintf(path, size, "%s/%s", sub, e->d_name);
    found = len >= 0 && (size_t)len < size;
    if (!found) break;
  }
  if (d) closedir(d);
  return found;
}


/* A file renamed into the cache between the check of an object and its
** dlopen is refused, not run unchecked: dlopen takes the path, and what it
** loaded must be the file checked (held open meanwhile). */
static void test_swap(const char *dir)
{
  char path[4300], key[33], cmd[4400];
  struct nm_jit_code code;
  int foreign = 0;
  if (!cached_object(dir, path, sizeof path, key)) { CHECK(0, "an object in the cache"); return; }
  nm_error err = { 0 };
  nm_model *m;
  int rc;
  snprintf(cmd, sizeof cmd, "rm -f '%s'/neuromass/*.so", dir);
  for (in_place = 0; in_place <= 1; in_place++) {
    nm_jit_load_between = swap_in_unsealed;
    swaps_left = 1;
    int loaded = nm_jit_load(path, key, &code, &foreign);
    if (loaded) dlclose(code.handle);
    CHECK(!loaded && foreign == NM_JIT_CHANGED && swaps_left == 0, "an object %s after the check "
          "is refused (loaded %d, foreign %d)", in_place ? "changed in place" : "renamed into place", loaded, foreign);
    nm_jit_load_between = NULL;
    loaded = nm_jit_load(path, key, &code, &foreign);
    if (loaded) dlclose(code.handle);
    CHECK(!loaded && foreign == NM_JIT_UNSEALED, "what was put there is a file the check refuses as "
          "unsealed (loaded %d, foreign %d: %s)", loaded, foreign, nm_jit_refusal(foreign));
    /* the cache compiled again, for what follows */
    CHECK(system(cmd) == 0, "empty the cache");
    m = delayed_model();
    rc = m ? nm_jit_prepare(m, NM_JIT_REQUIRE, 1, 1, NULL, &err) : NM_ENOMEM;
    nm_model_free(m);
    CHECK(rc == NM_OK, "compile the programs again (%s)", rc == NM_OK ? "ok" : err.why);
  }
  in_place = 0;
  /* Through a run's preparation: counted as refused, the run interpreted. */
  nm_jit_counts c0, c1;
  nm_jit_stats(&c0);
  nm_jit_load_between = swap_in_unsealed;
  swaps_left = 3;
  m = delayed_model();
  rc = m ? nm_jit_prepare(m, NM_JIT_AUTO, 1e5, 1, NULL, &err) : NM_ENOMEM;
  nm_jit_load_between = NULL;
  nm_jit_stats(&c1);
  CHECK(rc == NM_OK && swaps_left == 0 && m->progs[NM_STAGE_RHS][0]->use_native == 0 &&
        c1.refused - c0.refused == 3 && c1.loaded == c0.loaded,
        "objects renamed into place after their check: refused (%lu), the run interpreted (loaded %lu)",
        c1.refused - c0.refused, c1.loaded - c0.loaded);
  nm_model_free(m);
}


/* Progress of a run: at its first report, waits for the compiles in flight,
** so that the run switches to native code at its next step. */
static void wait_at_first_report(void *ud, long done, long total)
{
  long *at = ud;
  (void)total;
  if (*at) return;
  *at = done;
  wait_compiles();
}


/* No file of the cache is a temporary one (".tmp-"). */
static int no_temporary_files(const char *dir)
{
  char cmd[4400];
  snprintf(cmd, sizeof cmd, "! ls -a '%s/neuromass' | grep -q 'tmp-'", dir);
  return system(cmd) == 0;
}


/* Writes dir/name, a compiler that sleeps `secs` seconds before cc, and
** makes it NEUROMASS_CC; 0 when it cannot be written. */
static int slow_compiler(const char *dir, const char *name, const char *secs)
{
  char cc[4200];
  snprintf(cc, sizeof cc, "%s/%s", dir, name);
  FILE *f = fopen(cc, "w");
  if (!CHECK(f != NULL, "write %s", cc)) return 0;
  fprintf(f, "#!/bin/sh\nsleep %s\nexec cc \"$@\"\n", secs);
  fclose(f);
  chmod(cc, 0755);
  setenv("NEUROMASS_CC", cc, 1);
  return 1;
}


/* A run starts interpreted while its compile (slowed down by a compiler that
** sleeps first) goes on beside it, and switches midway with the same bits as
** jit off and jit always, on 1 and 2 threads; a model freed while its
** compile is in flight leaves the compile to fill the cache. */
static void test_switch(const char *dir)
{
  char cmd[4400];
  if (!slow_compiler(dir, "slow-cc", "0.3")) return;
  double out[3][2][3 * L];
  const long n_steps = 200000;
  for (int mode = 0; mode < 3; mode++) {
    for (int threads = 1; threads <= 2; threads++) {
      snprintf(cmd, sizeof cmd, "rm -f '%s'/neuromass/*.so", dir);
      if (mode == 1 && system(cmd) != 0) CHECK(0, "empty the cache");
      nm_model *m = delayed_model();
      int st;
      nm_sim *s = m ? nm_sim_new(m, 0.05, 7, &st) : NULL;
      nm_run_opts o = { 0 };
      long at = 0;
      o.n_steps = n_steps;
      o.every = n_steps;
      o.threads = threads;
      o.jit = mode == 0 ? NM_JIT_OFF : mode == 1 ? NM_JIT_AUTO : NM_JIT_ALWAYS;
      if (mode == 1) { o.progress = wait_at_first_report; o.progress_ud = &at; }
      nm_jit_counts c0, c1;
      nm_jit_stats(&c0);
      int rc = s ? nm_sim_run(s, &o) : NM_ENOMEM;
      nm_jit_stats(&c1);
      if (CHECK(rc == NM_OK, "run %d on %d threads (%s)", mode, threads,
                s ? nm_sim_error(s, rc) : "no simulation"))
        memcpy(out[mode][threads - 1], nm_sim_signals(s), sizeof out[0][0]);
      else
        memset(out[mode][threads - 1], mode, sizeof out[0][0]);
      if (mode == 1)
        CHECK(c1.switched - c0.switched == 1 && c1.compiled - c0.compiled == 1 && at > 0 && at < n_steps,
              "automatic on %d threads: the right-hand side compiles beside the run and switches "
              "at step %ld (switched %lu, compiled %lu)", threads, at + 1, c1.switched - c0.switched,
              c1.compiled - c0.compiled);
      nm_sim_free(s);
      nm_model_free(m);
    }
  }
  size_t at = 0;
  for (int t = 0; t < 2; t++)
    CHECK(same_bits(out[0][t], out[1][t], 3 * L, &at) && same_bits(out[2][t], out[1][t], 3 * L, &at) &&
          same_bits(out[0][0], out[0][t], 3 * L, &at),
          "%d threads: a run that switches midway gives the bits of jit off and jit always "
          "(signal %zu: %.17g, %.17g, %.17g)", t + 1, at, out[0][t][at], out[1][t][at], out[2][t][at]);
  /* The model is freed while its compiler sleeps: the compiles go on and
  ** fill the cache, which the next model loads from. */
  if (sysconf(_SC_NPROCESSORS_ONLN) > 1) {
    snprintf(cmd, sizeof cmd, "rm -f '%s'/neuromass/*.so", dir);
    CHECK(system(cmd) == 0, "empty the cache");
    nm_jit_counts c0, c1;
    nm_jit_stats(&c0);
    nm_model *m = delayed_model();
    nm_error err = { 0 };
    int rc = m ? nm_jit_prepare(m, NM_JIT_AUTO, 1e9, 1, NULL, &err) : NM_ENOMEM;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    nm_model_free(m);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    wait_compiles();
    m = delayed_model();
    rc = rc == NM_OK && m ? nm_jit_prepare(m, NM_JIT_AUTO, 1e5, 1, NULL, &err) : NM_ENOMEM;
    nm_jit_stats(&c1);
    int reaped = waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
    CHECK(rc == NM_OK && secs < 0.2 && c1.compiled - c0.compiled == 3 && c1.loaded - c0.loaded == 3 &&
          m->progs[NM_STAGE_RHS][0]->use_native && reaped && no_temporary_files(dir),
          "a model freed while its programs compile does not wait (%.3f s); the compiles fill the "
          "cache (compiled %lu) for the next model (loaded %lu); compilers reaped (%s), no "
          "temporary file", secs, c1.compiled - c0.compiled, c1.loaded - c0.loaded,
          reaped ? "yes" : "no");
    nm_model_free(m);
    /* fork() while a program compiles: the child leaves the parent's compile
    ** alone (interpreted, exits at once), the parent's compile completes.
    ** The compiler waits for a gate the parent opens once the child is done,
    ** so the compile is in flight whenever the child runs, however late a
    ** loaded machine schedules it (a timed sleep made this flaky). */
    snprintf(cmd, sizeof cmd, "rm -f '%s'/neuromass/*.so '%s'/gate", dir, dir);
    CHECK(system(cmd) == 0, "empty the cache");
    char gated[4200], gate[4200];
    snprintf(gated, sizeof gated, "%s/gated-cc", dir);
    snprintf(gate, sizeof gate, "%s/gate", dir);
    FILE *g = fopen(gated, "w");
    if (CHECK(g != NULL, "write %s", gated)) {
      fprintf(g, "#!/bin/sh\nwhile [ ! -e '%s' ]; do sleep 0.02; done\nexec cc \"$@\"\n", gate);
      fclose(g);
      chmod(gated, 0755);
      setenv("NEUROMASS_CC", gated, 1);
    }
    m = delayed_model();
    rc = m ? nm_jit_prepare(m, NM_JIT_AUTO, 1e9, 1, NULL, &err) : NM_ENOMEM;
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {     /* (it ends by _exit: the parent's compile and model are the parent's) */
      int crc = nm_jit_prepare(m, NM_JIT_ALWAYS, 1e9, 1, NULL, &err);
      _exit(crc == NM_OK && m->progs[NM_STAGE_RHS][0]->use_native == 0 && m->jit_pending == 0 ? 0 : 1);
    }
    int st = -1;
    if (child > 0) waitpid(child, &st, 0);
    FILE *open_gate = fopen(gate, "w");
    if (open_gate) fclose(open_gate);
    wait_compiles();
    nm_jit_switch(m);
    CHECK(rc == NM_OK && child > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
          m->progs[NM_STAGE_RHS][0]->use_native && m->jit_pending == 0,
          "a child forked while a program compiles runs it interpreted; the parent's compile "
          "completes (child status %d; parent: prepare %d, native %d, pending %d)",
          WIFEXITED(st) ? WEXITSTATUS(st) : -1, rc, m->progs[NM_STAGE_RHS][0]->use_native,
          (int)m->jit_pending);
    nm_model_free(m);
  }
  unsetenv("NEUROMASS_CC");
}


/* Empties the cache of `dir`, then runs delayed_model() for 10 steps with
** `jit` and `stop` as its interrupt (NULL: none): the status, *secs the run's
** wall time and `why` (size bytes) its message. */
static int timed_run(const char *dir, enum nm_jit_mode jit, volatile sig_atomic_t *stop, double *secs,
                     char *why, size_t size)
{
  char cmd[4400];
  snprintf(cmd, sizeof cmd, "rm -f '%s'/neuromass/*.so", dir);
  CHECK(system(cmd) == 0, "empty the cache");
  nm_model *m = delayed_model();
  int st;
  nm_sim *s = m ? nm_sim_new(m, 0.05, 7, &st) : NULL;
  nm_run_opts o = { 0 };
  o.n_steps = 10;
  o.every = 10;
  o.threads = 1;
  o.jit = jit;
  o.interrupt = stop;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int rc = s ? nm_sim_run(s, &o) : NM_ENOMEM;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  *secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  snprintf(why, size, "%s", s ? nm_sim_error(s, rc) : "no simulation");
  nm_sim_free(s);
  nm_model_free(m);
  return rc;
}


/* A compiler that hangs past nm_jit_compile_limit (lowered to 1 s here) is
** killed: a run with jit = "require" fails within moments, naming the limit,
** instead of waiting for ever; no object is left. */
static void test_hang(const char *dir)
{
  char cmd[4400], why[512];
  double secs, limit = nm_jit_compile_limit;
  if (!slow_compiler(dir, "hung-cc", "60")) return;
  nm_jit_compile_limit = 1;
  int rc = timed_run(dir, NM_JIT_REQUIRE, NULL, &secs, why, sizeof why);
  nm_jit_compile_limit = limit;
  CHECK(rc == NM_EINVAL && secs < 10.0 && strstr(why, "hung-cc' did not finish within 1 s and was killed"),
        "a hung compiler is killed at the limit and the required run fails (status %d after %.2f s: %s)",
        rc, secs, why);
  snprintf(cmd, sizeof cmd, "ls '%s'/neuromass/*.so >/dev/null 2>&1", dir);
  CHECK(system(cmd) != 0, "no object is left in the cache");
  unsetenv("NEUROMASS_CC");
}


/* Ctrl-C while a run waits for its compile (jit = "always", a compiler
** that hangs): the run stops at once with NM_EINTR, not when the compile
** ends.  Last: the hanging compile is left to the exit, which kills it. */
static void test_interrupt(const char *dir)
{
  char why[512];
  double secs;
  if (!slow_compiler(dir, "hang-cc", "10")) return;
  volatile sig_atomic_t stop = 1;      /* the signal came as the run began */
  int rc = timed_run(dir, NM_JIT_ALWAYS, &stop, &secs, why, sizeof why);
  CHECK(rc == NM_EINTR && secs < 2.0,
        "a run interrupted while it waits for its compile stops at once (status %d after %.2f s)",
        rc, secs);
  unsetenv("NEUROMASS_CC");
}


int main(void)
{
  char dir[] = "/tmp/nm-jit-test-XXXXXX";
  if (!mkdtemp(dir)) { CHECK(0, "make a temporary cache"); return test_summary(); }
  setenv("XDG_CACHE_HOME", dir, 1);
  unsetenv("NEUROMASS_JIT");
  test_every_op();
  test_table_axis_forms();
  test_table_same_grid();
  test_table_blocks();
  test_table_block_edges();
  test_table_one_lane();
  test_cpu_identity();
  test_simulation();
  test_cache(dir);
  test_swap(dir);
  test_switch(dir);
  test_hang(dir);
  test_interrupt(dir);
  /* A compile test_interrupt left in flight still writes into the cache. */
  wait_compiles();
  char cmd[200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) CHECK(0, "remove %s", dir);
  return test_summary();
}
