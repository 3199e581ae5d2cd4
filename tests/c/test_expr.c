/*
** test_expr.c: the expression compiler and evaluator: every operation against
** libm (evaluated and constant-folded), folding, identities, common
** subexpressions, dead nodes, register reuse, lanes, delayed reads, invalid
** graphs, and the model's check that a program fits its arrays.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "test_main.h"

#define LEAF(op, slot) { (op), -1, -1, -1, 0.0, (slot), 0 }
#define CONSTANT(v) { NM_OP_CONST, -1, -1, -1, (v), 0, 0 }
#define UN(op, a) { (op), (a), -1, -1, 0.0, 0, 0 }
#define BIN(op, a, b) { (op), (a), (b), -1, 0.0, 0, 0 }
#define TERN(op, a, b, c) { (op), (a), (b), (c), 0.0, 0, 0 }
#define COUNT(arr) (sizeof (arr) / sizeof (arr)[0])

/* The arrays every evaluation reads and writes. */
static double V[64], P[16], U[16], D[64];
static nm_table2d *tables[2];
static nm_hist no_hist;


static nm_eval_ctx context(double t, const nm_hist *h)
{
  nm_eval_ctx ctx = { V, P, U, D, t, h ? h : &no_hist, tables };
  return ctx;
}


/* Fills the output arrays with a sentinel, so that stray writes show. */
static void clear_outputs(void)
{
  for (size_t i = 0; i < COUNT(D); i++) D[i] = -7.77;
}


/* Equal, or both NaN: libm's NaNs must be the engine's NaNs. */
static int same(double x, double y)
{
  return x == y || (isnan(x) && isnan(y));
}


static nm_program *compile(const nm_node *nodes, size_t n, const nm_root *roots, size_t nr,
                           size_t lanes)
{
  nm_error err;
  err.status = 12345;
  nm_program *p = nm_program_compile(nodes, n, roots, nr, lanes, &err);
  if (!p || err.status != NM_OK) {
    CHECK(0, "compile a %zu-node graph (status %d)", n, err.status);
    nm_program_free(p);
    return NULL;
  }
  return p;
}


/* ---------------------------------------------------------------------
** Every operation against libm
** ------------------------------------------------------------------- */

static double neg(double a) { return -a; }
static double add(double a, double b) { return a + b; }
static double sub(double a, double b) { return a - b; }
static double mul(double a, double b) { return a * b; }
static double divide(double a, double b) { return a / b; }

static const struct { int op; const char *name; double (*f)(double); } unary[] = {
  { NM_OP_NEG, "neg", neg }, { NM_OP_EXP, "exp", exp }, { NM_OP_LOG, "log", log },
  { NM_OP_SQRT, "sqrt", sqrt }, { NM_OP_TANH, "tanh", tanh }, { NM_OP_SIN, "sin", sin },
  { NM_OP_COS, "cos", cos }, { NM_OP_ABS, "abs", fabs }, { NM_OP_FLOOR, "floor", floor },
};

/* MIN and MAX are checked on numbers only: fmin/fmax treat NaN differently. */
static const struct { int op; const char *name; double (*f)(double, double); } binary[] = {
  { NM_OP_ADD, "add", add }, { NM_OP_SUB, "sub", sub }, { NM_OP_MUL, "mul", mul },
  { NM_OP_DIV, "div", divide }, { NM_OP_POW, "pow", pow }, { NM_OP_MIN, "min", fmin },
  { NM_OP_MAX, "max", fmax }, { NM_OP_ATAN2, "atan2", atan2 },
};

static const double un_in[] = { 2.385, -0.7183, 13.37, 0.0, -41.5, 1e-3 };
static const double bin_a[] = { 2.385, -2.385, 7.25, 0.5, -0.125, 3.0 };
static const double bin_b[] = { 0.7183, 1.5, -2.0, 0.0, 3.0, -1.75 };
#define N_UN COUNT(un_in)
#define N_BIN COUNT(bin_a)


/* One op over every lane at once (operands are signals, so nothing folds),
** then the same op on constants, which must fold to libm's value. */
static void test_unary_ops(void)
{
  for (size_t k = 0; k < COUNT(unary); k++) {
    nm_node nodes[] = { LEAF(NM_OP_SIGNAL, 4), UN(unary[k].op, 0) };
    nm_root root = { 1, NM_SINK_DERIV, 3 };
    nm_program *p = compile(nodes, 2, &root, 1, N_UN);
    if (!p) continue;
    memcpy(V + 4, un_in, sizeof un_in);
    clear_outputs();
    nm_eval_ctx ctx = context(0.0, NULL);
    nm_program_eval(p, &ctx);
    int ok = D[2] == -7.77 && D[3 + N_UN] == -7.77;
    for (size_t l = 0; l < N_UN; l++) ok = ok && same(D[3 + l], unary[k].f(un_in[l]));
    CHECK(ok, "%s over %zu lanes equals libm", unary[k].name, N_UN);
    nm_program_free(p);

    int folded = 1;
    for (size_t l = 0; l < N_UN; l++) {
      nm_node cn[] = { CONSTANT(un_in[l]), UN(unary[k].op, 0) };
      nm_root r = { 1, NM_SINK_DERIV, 0 };
      nm_program *q = compile(cn, 2, &r, 1, 1);
      if (!q) { folded = 0; continue; }
      clear_outputs();
      nm_program_eval(q, &ctx);
      folded = folded && nm_program_length(q) == 1 && same(D[0], unary[k].f(un_in[l]));
      nm_program_free(q);
    }
    CHECK(folded, "%s of a constant folds to a single store of libm's value", unary[k].name);
  }
}


static void test_binary_ops(void)
{
  for (size_t k = 0; k < COUNT(binary); k++) {
    nm_node nodes[] = { LEAF(NM_OP_SIGNAL, 0), LEAF(NM_OP_SIGNAL, N_BIN),
                        BIN(binary[k].op, 0, 1) };
    nm_root root = { 2, NM_SINK_DERIV, 1 };
    nm_program *p = compile(nodes, 3, &root, 1, N_BIN);
    if (!p) continue;
    memcpy(V, bin_a, sizeof bin_a);
    memcpy(V + N_BIN, bin_b, sizeof bin_b);
    clear_outputs();
    nm_eval_ctx ctx = context(0.0, NULL);
    nm_program_eval(p, &ctx);
    int ok = D[0] == -7.77 && D[1 + N_BIN] == -7.77;
    for (size_t l = 0; l < N_BIN; l++) ok = ok && same(D[1 + l], binary[k].f(bin_a[l], bin_b[l]));
    CHECK(ok, "%s over %zu lanes equals libm", binary[k].name, N_BIN);
    nm_program_free(p);

    int folded = 1;
    for (size_t l = 0; l < N_BIN; l++) {
      nm_node cn[] = { CONSTANT(bin_a[l]), CONSTANT(bin_b[l]), BIN(binary[k].op, 0, 1) };
      nm_root r = { 2, NM_SINK_DERIV, 0 };
      nm_program *q = compile(cn, 3, &r, 1, 1);
      if (!q) { folded = 0; continue; }
      clear_outputs();
      nm_program_eval(q, &ctx);
      folded = folded && nm_program_length(q) == 1 && same(D[0], binary[k].f(bin_a[l], bin_b[l]));
      nm_program_free(q);
    }
    CHECK(folded, "%s of constants folds to a single store of libm's value", binary[k].name);
  }
}


/* Evaluates op(a, b) on signals and on constants; returns both through out[]. */
static void eval_binary(int op, double a, double b, double out[2])
{
  nm_node nodes[] = { LEAF(NM_OP_SIGNAL, 0), LEAF(NM_OP_SIGNAL, 1), BIN(op, 0, 1) };
  nm_node cn[] = { CONSTANT(a), CONSTANT(b), BIN(op, 0, 1) };
  nm_root root = { 2, NM_SINK_DERIV, 0 };
  nm_eval_ctx ctx = context(0.0, NULL);
  out[0] = out[1] = -7.77;
  nm_program *p = compile(nodes, 3, &root, 1, 1);
  if (p) {
    V[0] = a; V[1] = b;
    nm_program_eval(p, &ctx);
    out[0] = D[0];
    nm_program_free(p);
  }
  p = compile(cn, 3, &root, 1, 1);
  if (p) {
    nm_program_eval(p, &ctx);
    out[1] = D[0];
    nm_program_free(p);
  }
}


/* MOD is Python's: the result takes the sign of the divisor. */
static void test_mod(void)
{
  static const double cases[][3] = {
    { 7.25, 2.0, 1.25 }, { -7.25, 2.0, 0.75 }, { 7.25, -2.0, -0.75 }, { -7.25, -2.0, -1.25 },
    { 6.0, 3.0, 0.0 }, { -6.5, 6.5, 0.0 }, { 0.375, 2.0, 0.375 },
  };
  for (size_t i = 0; i < COUNT(cases); i++) {
    double out[2];
    eval_binary(NM_OP_MOD, cases[i][0], cases[i][1], out);
    CHECK(out[0] == cases[i][2] && out[1] == cases[i][2],
          "mod(%g, %g) = %g evaluated (%g) and folded (%g)", cases[i][0], cases[i][1],
          cases[i][2], out[0], out[1]);
  }
  /* Against libm where the signs agree, the result is fmod's. */
  double out[2];
  eval_binary(NM_OP_MOD, 2385.0, 6.283185307179586, out);
  CHECK(out[0] == fmod(2385.0, 6.283185307179586) && out[1] == out[0],
        "mod of positive numbers equals fmod");
}


/* Comparisons give 1 or 0; every comparison with NaN is false except !=. */
static void test_comparisons(void)
{
  static const double a[] = { 1.5, 2.5, 3.5, NAN }, b = 2.5;
  static const struct { int op; const char *name; double want[4]; } cmp[] = {
    { NM_OP_LT, "lt", { 1, 0, 0, 0 } }, { NM_OP_LE, "le", { 1, 1, 0, 0 } },
    { NM_OP_GT, "gt", { 0, 0, 1, 0 } }, { NM_OP_GE, "ge", { 0, 1, 1, 0 } },
    { NM_OP_EQ, "eq", { 0, 1, 0, 0 } }, { NM_OP_NE, "ne", { 1, 0, 1, 1 } },
  };
  for (size_t k = 0; k < COUNT(cmp); k++) {
    int ok = 1;
    for (size_t l = 0; l < COUNT(a); l++) {
      double out[2];
      eval_binary(cmp[k].op, a[l], b, out);
      ok = ok && out[0] == cmp[k].want[l] && out[1] == cmp[k].want[l];
    }
    CHECK(ok, "%s gives 1 or 0, evaluated and folded, NaN included", cmp[k].name);
  }
}


/* ifelse(a, b, c) is a != 0 ? b : c: -0 selects c, NaN selects b. */
static void test_ifelse(void)
{
  static const double cond[] = { 0.0, 2.385, -0.0, NAN, -1e-300 };
  static const int pick_b[] = { 0, 1, 0, 1, 1 };
  nm_node nodes[] = { LEAF(NM_OP_SIGNAL, 0), LEAF(NM_OP_SIGNAL, 5), LEAF(NM_OP_SIGNAL, 10),
                      TERN(NM_OP_IFELSE, 0, 1, 2) };
  nm_root root = { 3, NM_SINK_DERIV, 0 };
  nm_program *p = compile(nodes, 4, &root, 1, 5);
  if (!p) return;
  for (size_t l = 0; l < 5; l++) { V[l] = cond[l]; V[5 + l] = 10.0 + l; V[10 + l] = 20.0 + l; }
  nm_eval_ctx ctx = context(0.0, NULL);
  nm_program_eval(p, &ctx);
  int ok = 1;
  for (size_t l = 0; l < 5; l++) ok = ok && D[l] == (pick_b[l] ? 10.0 + l : 20.0 + l);
  CHECK(ok, "ifelse picks per lane: b when a != 0 (NaN included), c when a is +0 or -0");
  nm_program_free(p);

  /* A constant condition selects its branch at compile time: load and store only. */
  for (int c = 0; c < 2; c++) {
    nm_node cn[] = { CONSTANT(c ? 0.7183 : 0.0), LEAF(NM_OP_SIGNAL, 5), LEAF(NM_OP_SIGNAL, 10),
                     TERN(NM_OP_IFELSE, 0, 1, 2) };
    nm_program *q = compile(cn, 4, &root, 1, 1);
    if (!q) continue;
    nm_program_eval(q, &ctx);
    CHECK(nm_program_length(q) == 2 && D[0] == (c ? 10.0 : 20.0),
          "ifelse with a constant %s condition compiles to its branch (%zu instructions)",
          c ? "true" : "false", nm_program_length(q));
    nm_program_free(q);
  }
}


/* ---------------------------------------------------------------------
** Leaves and sinks
** ------------------------------------------------------------------- */

static void test_leaves_and_sinks(void)
{
  /* Over 3 lanes: V' = P[l] * V[l] + G + U[l] + t -> D, a copy of V -> U, a sum -> V. */
  nm_node nodes[] = {
    LEAF(NM_OP_SIGNAL, 1), LEAF(NM_OP_PARAM, 2), LEAF(NM_OP_GPARAM, 7), LEAF(NM_OP_INPUT, 3),
    LEAF(NM_OP_TIME, 0), BIN(NM_OP_MUL, 1, 0), BIN(NM_OP_ADD, 5, 2), BIN(NM_OP_ADD, 6, 3),
    BIN(NM_OP_ADD, 7, 4), { NM_OP_HIST, -1, -1, -1, 0.0, 1, 0 },
  };
  nm_root roots[] = { { 8, NM_SINK_DERIV, 2 }, { 9, NM_SINK_INPUT, 8 }, { 7, NM_SINK_SIGNAL, 20 } };
  nm_program *p = compile(nodes, COUNT(nodes), roots, 3, 3);
  if (!p) return;
  for (int i = 0; i < 16; i++) { P[i] = 0.5 + i; U[i] = -0.25 * i; }
  for (int i = 0; i < 24; i++) V[i] = 1.125 * i;
  clear_outputs();
  double t = 2.385;
  nm_eval_ctx ctx = context(t, NULL);
  nm_program_eval(p, &ctx);
  int ok_d = D[1] == -7.77 && D[5] == -7.77, ok_u = U[7] == -0.25 * 7 && U[11] == -0.25 * 11;
  int ok_v = V[19] == 1.125 * 19 && V[23] == 1.125 * 23;
  for (int l = 0; l < 3; l++) {
    double sum = P[2 + l] * V[1 + l] + P[7] + U[3 + l];
    ok_d = ok_d && D[2 + l] == sum + t;
    ok_u = ok_u && U[8 + l] == V[1 + l];
    ok_v = ok_v && V[20 + l] == sum;
  }
  CHECK(ok_d, "signal, param, global param, input and time leaves per lane, into derivatives");
  CHECK(ok_u, "a history read without delay is the signal itself; the input sink writes U per lane");
  CHECK(ok_v, "the signal sink writes V per lane and nothing beside it");
  nm_program_free(p);
}


/* A delayed read takes the ring row `delay` steps back, interpolated at the stage fraction. */
static void test_hist(void)
{
  double ring[8 * 2];                  /* depth 8, two tracked signals */
  long column[4] = { -1, 1, 0, -1 };   /* signal 2 -> column 0, signal 1 -> column 1 */
  for (int r = 0; r < 8; r++) { ring[2 * r] = 100.0 + r; ring[2 * r + 1] = 200.0 + 3.0 * r; }
  /* now = step 13, ring row 13 & 7 = 5; no derivatives: linear interpolation */
  nm_hist h = { ring, 2, 7, 13, 0.0, column, NULL, 0, SIZE_MAX, NULL, 0.1, 6 };
  nm_node nodes[] = { { NM_OP_HIST, -1, -1, -1, 0.0, 1, 3 } };
  nm_root root = { 0, NM_SINK_DERIV, 0 };
  nm_program *p = compile(nodes, 1, &root, 1, 2);
  if (!p) return;
  static const double frac[] = { 0.0, 0.5, 1.0, 0.25 };
  for (size_t k = 0; k < COUNT(frac); k++) {
    h.frac = frac[k];
    nm_eval_ctx ctx = context(0.0, &h);
    nm_program_eval(p, &ctx);
    /* Step 10 is ring row 2, step 11 row 3: signal 1 in column 1, signal 2 in column 0. */
    double s1 = (1 - frac[k]) * (200.0 + 6.0) + frac[k] * (200.0 + 9.0);
    double s2 = (1 - frac[k]) * 102.0 + frac[k] * 103.0;
    CHECK(D[0] == s1 && D[1] == s2, "a read 3 steps back at fraction %g gives %g, %g (got %g, %g)",
          frac[k], s1, s2, D[0], D[1]);
  }
  nm_program_free(p);
}


static void test_table(void)
{
  double *values = malloc(3 * 4 * sizeof *values);
  nm_table2d *tbl = malloc(sizeof *tbl);
  if (!values || !tbl) { free(values); free(tbl); CHECK(0, "allocate a table"); return; }
  for (int i = 0; i < 12; i++) values[i] = 0.5 * i * i - i;
  *tbl = (nm_table2d){ .n_rows = 3, .n_cols = 4, .row0 = 0.0, .row_step = 1.0, .row_end = 2.0,
                       .col0 = -1.0, .col_step = 0.5, .col_end = 0.5, .values = values };
  tables[0] = tbl;
  nm_node nodes[] = { LEAF(NM_OP_SIGNAL, 0), LEAF(NM_OP_SIGNAL, 4),
                      { NM_OP_TABLE2D, 0, 1, -1, 0.0, 0, 0 } };
  nm_root root = { 2, NM_SINK_DERIV, 0 };
  nm_program *p = compile(nodes, 3, &root, 1, 4);
  static const double row[] = { 0.25, 1.5, -3.0, 7.0 }, col[] = { -0.75, 0.2, 0.9, -2.0 };
  if (p) {
    memcpy(V, row, sizeof row);
    memcpy(V + 4, col, sizeof col);
    nm_eval_ctx ctx = context(0.0, NULL);
    nm_program_eval(p, &ctx);
    int ok = 1;
    for (int l = 0; l < 4; l++) ok = ok && D[l] == nm_table2d_lookup(tbl, row[l], col[l]);
    CHECK(ok, "table lookups per lane equal nm_table2d_lookup");
    /* Row 0.25 between rows 0 and 1, column -0.75 halfway between columns 0 and 1. */
    double want = 0.75 * (0.5 * (values[0] + values[1])) + 0.25 * (0.5 * (values[4] + values[5]));
    CHECK_REL(D[0], want, 1e-15, "bilinear interpolation inside the grid");
    nm_program_free(p);
  }
  tables[0] = NULL;
  free(values);
  free(tbl);
}


/* ---------------------------------------------------------------------
** Compilation: folding, identities, sharing, dead nodes, registers
** ------------------------------------------------------------------- */

static void test_constant_folding(void)
{
  /* ifelse(2.385 < 3.1, (2.385 * 3.1 + exp(0.5)) / sqrt(7.1) - 1.3^2.2, 99) */
  nm_node nodes[] = {
    CONSTANT(2.385), CONSTANT(3.1), CONSTANT(0.5), CONSTANT(7.1), CONSTANT(1.3), CONSTANT(2.2),
    BIN(NM_OP_MUL, 0, 1), UN(NM_OP_EXP, 2), BIN(NM_OP_ADD, 6, 7), UN(NM_OP_SQRT, 3),
    BIN(NM_OP_DIV, 8, 9), BIN(NM_OP_POW, 4, 5), BIN(NM_OP_SUB, 10, 11), BIN(NM_OP_LT, 0, 1),
    CONSTANT(99.0), TERN(NM_OP_IFELSE, 13, 12, 14),
  };
  nm_root root = { 15, NM_SINK_DERIV, 0 };
  nm_program *p = compile(nodes, COUNT(nodes), &root, 1, 1);
  if (!p) return;
  volatile double a = 2.385, b = 3.1, c = 0.5, d = 7.1, e = 1.3, f = 2.2;
  double want = (a * b + exp(c)) / sqrt(d) - pow(e, f);
  nm_eval_ctx ctx = context(0.0, NULL);
  nm_program_eval(p, &ctx);
  CHECK(nm_program_length(p) == 1, "a graph of constants compiles to one store and no arithmetic "
        "(%zu instructions)", nm_program_length(p));
  CHECK(nm_program_registers(p) == 1, "it keeps one register, the result (%zu)",
        nm_program_registers(p));
  CHECK(D[0] == want, "the folded value is libm's (%.17g, want %.17g)", D[0], want);
  nm_program_free(p);
}


/* x + 0, 0 + x, x - 0, x * 1, 1 * x, x / 1, x ^ 1 are x itself: a load and a store. */
static void test_identities(void)
{
  static const struct { int op; double k; int k_first; const char *text; } ids[] = {
    { NM_OP_ADD, 0.0, 0, "x + 0" }, { NM_OP_ADD, 0.0, 1, "0 + x" }, { NM_OP_SUB, 0.0, 0, "x - 0" },
    { NM_OP_MUL, 1.0, 0, "x * 1" }, { NM_OP_MUL, 1.0, 1, "1 * x" }, { NM_OP_DIV, 1.0, 0, "x / 1" },
    { NM_OP_POW, 1.0, 0, "x ^ 1" },
  };
  nm_eval_ctx ctx = context(0.0, NULL);
  for (size_t i = 0; i < COUNT(ids); i++) {
    nm_node nodes[] = { LEAF(NM_OP_SIGNAL, 0), CONSTANT(ids[i].k),
                        BIN(ids[i].op, ids[i].k_first ? 1 : 0, ids[i].k_first ? 0 : 1) };
    nm_root root = { 2, NM_SINK_DERIV, 0 };
    nm_program *p = compile(nodes, 3, &root, 1, 1);
    if (!p) continue;
    V[0] = -2.385;
    nm_program_eval(p, &ctx);
    CHECK(nm_program_length(p) == 2 && D[0] == -2.385, "%s compiles to x (%zu instructions)",
          ids[i].text, nm_program_length(p));
    nm_program_free(p);
  }
  /* 0 * x and x - x are not folded: x may be infinite. */
  nm_node z[] = { LEAF(NM_OP_SIGNAL, 0), CONSTANT(0.0), BIN(NM_OP_MUL, 1, 0), BIN(NM_OP_SUB, 0, 0) };
  nm_root zr[] = { { 2, NM_SINK_DERIV, 0 }, { 3, NM_SINK_DERIV, 1 } };
  nm_program *p = compile(z, 4, zr, 2, 1);
  if (p) {
    V[0] = INFINITY;
    nm_program_eval(p, &ctx);
    CHECK(isnan(D[0]) && isnan(D[1]), "0 * x and x - x stay NaN for an infinite x");
    V[0] = 2.385;
    nm_program_eval(p, &ctx);
    CHECK(D[0] == 0.0 && D[1] == 0.0, "0 * x and x - x are 0 for a finite x");
    nm_program_free(p);
  }
}


/* x^2, x^3, x^4 with constant exponents become products; other powers call pow. */
static void test_small_powers(void)
{
  static const double e[] = { 2.0, 3.0, 4.0, 2.5, -2.0 };
  static const double base[] = { -1.7183, -1.7183, -1.7183, 1.7183, -1.7183 };
  static const size_t len[] = { 3, 4, 4, 3, 3 };
  nm_eval_ctx ctx = context(0.0, NULL);
  for (size_t i = 0; i < COUNT(e); i++) {
    nm_node nodes[] = { LEAF(NM_OP_SIGNAL, 0), CONSTANT(e[i]), BIN(NM_OP_POW, 0, 1) };
    nm_root root = { 2, NM_SINK_DERIV, 0 };
    nm_program *p = compile(nodes, 3, &root, 1, 1);
    if (!p) continue;
    V[0] = base[i];
    nm_program_eval(p, &ctx);
    CHECK(nm_program_length(p) == len[i], "x^%g compiles to %zu instructions (%zu)", e[i], len[i],
          nm_program_length(p));
    CHECK_REL(D[0], pow(base[i], e[i]), 1e-15, "x^%g agrees with pow for x = %g", e[i], base[i]);
    nm_program_free(p);
  }
  double x = -1.7183;
  nm_node sq[] = { LEAF(NM_OP_SIGNAL, 0), CONSTANT(2.0), BIN(NM_OP_POW, 0, 1) };
  nm_root root = { 2, NM_SINK_DERIV, 0 };
  nm_program *p = compile(sq, 3, &root, 1, 1);
  if (p) {
    V[0] = x;
    nm_program_eval(p, &ctx);
    CHECK(D[0] == x * x && D[0] == pow(x, 2.0), "x^2 is exactly x * x and pow(x, 2)");
    nm_program_free(p);
  }
}


/* sin(a + b) * sin(a + b), the second copy given as separate nodes. */
static void test_cse(void)
{
  nm_node shared[] = {
    LEAF(NM_OP_SIGNAL, 0), LEAF(NM_OP_PARAM, 1), BIN(NM_OP_ADD, 0, 1), UN(NM_OP_SIN, 2),
    LEAF(NM_OP_SIGNAL, 0), LEAF(NM_OP_PARAM, 1), BIN(NM_OP_ADD, 4, 5), UN(NM_OP_SIN, 6),
    BIN(NM_OP_MUL, 3, 7),
  };
  /* The same shape where the second copy reads another signal: nothing to share. */
  nm_node distinct[COUNT(shared)];
  memcpy(distinct, shared, sizeof shared);
  distinct[4].slot = 2;
  nm_root root = { 8, NM_SINK_DERIV, 0 };
  nm_program *p = compile(shared, COUNT(shared), &root, 1, 2);
  nm_program *q = compile(distinct, COUNT(distinct), &root, 1, 2);
  if (p && q) {
    CHECK(nm_program_length(p) == 6, "equal subexpressions are computed once: 2 loads, add, sin, "
          "mul, store (%zu instructions)", nm_program_length(p));
    CHECK(nm_program_length(p) < nm_program_length(q),
          "sharing compiles to fewer instructions than without (%zu < %zu)",
          nm_program_length(p), nm_program_length(q));
    V[0] = 0.7183; V[1] = -1.25; P[1] = 2.385; P[2] = 0.5;
    V[2] = V[0]; V[3] = V[1];
    nm_eval_ctx ctx = context(0.0, NULL);
    nm_program_eval(p, &ctx);
    double d0 = D[0], d1 = D[1];
    nm_program_eval(q, &ctx);
    double s0 = sin(0.7183 + 2.385), s1 = sin(-1.25 + 0.5);
    CHECK(d0 == s0 * s0 && d1 == s1 * s1 && D[0] == d0 && D[1] == d1,
          "the shared and unshared programs agree with libm in both lanes");
  }
  nm_program_free(p);
  nm_program_free(q);

  /* Equal constants share a register. */
  nm_node consts[] = { LEAF(NM_OP_SIGNAL, 0), CONSTANT(2.385), CONSTANT(2.385),
                       BIN(NM_OP_MUL, 0, 1), BIN(NM_OP_ADD, 3, 2) };
  nm_root r = { 4, NM_SINK_DERIV, 0 };
  p = compile(consts, COUNT(consts), &r, 1, 1);
  if (p) {
    CHECK(nm_program_registers(p) == 2, "two equal constants share one register (%zu registers)",
          nm_program_registers(p));
    nm_program_free(p);
  }
}


static void test_dead_nodes(void)
{
  nm_node nodes[] = {
    LEAF(NM_OP_SIGNAL, 0), LEAF(NM_OP_SIGNAL, 1), UN(NM_OP_EXP, 1), CONSTANT(5.5),
    BIN(NM_OP_MUL, 2, 3), UN(NM_OP_TANH, 4),                       /* dead */
    UN(NM_OP_COS, 0), LEAF(NM_OP_INPUT, 0), BIN(NM_OP_ATAN2, 5, 7),  /* dead */
    BIN(NM_OP_ADD, 6, 0),
  };
  nm_root root = { 9, NM_SINK_DERIV, 0 };
  nm_program *p = compile(nodes, COUNT(nodes), &root, 1, 1);
  if (!p) return;
  CHECK(nm_program_length(p) == 4, "nodes no root needs are dropped: load, cos, add, store "
        "(%zu instructions)", nm_program_length(p));
  V[0] = 2.385; V[1] = 1e308;   /* exp(1e308) would be infinite if it were evaluated */
  nm_eval_ctx ctx = context(0.0, NULL);
  nm_program_eval(p, &ctx);
  CHECK(D[0] == cos(2.385) + 2.385, "the live part still computes cos(x) + x");
  nm_program_free(p);

  nm_program *none = compile(nodes, COUNT(nodes), NULL, 0, 1);
  if (none) {
    CHECK(nm_program_length(none) == 0, "a graph without roots compiles to no instructions");
    nm_program_free(none);
  }
}


/* A long chain needs a handful of registers, and register reuse keeps it exact. */
static void test_registers(void)
{
  enum { LINKS = 200 };
  nm_node nodes[3 + 2 * LINKS];
  size_t n = 0;
  nodes[n++] = (nm_node)LEAF(NM_OP_SIGNAL, 0);
  nodes[n++] = (nm_node)LEAF(NM_OP_SIGNAL, 3);
  nodes[n++] = (nm_node)CONSTANT(0.9973);
  int acc = 0;
  for (int k = 0; k < LINKS; k++) {
    nodes[n] = (nm_node)BIN(NM_OP_MUL, acc, 2);
    nodes[n + 1] = (nm_node)BIN(k % 2 ? NM_OP_SUB : NM_OP_ADD, (int)n, 1);
    acc = (int)n + 1;
    n += 2;
  }
  nm_root root = { acc, NM_SINK_DERIV, 0 };
  nm_program *p = compile(nodes, n, &root, 1, 3);
  if (!p) return;
  CHECK(nm_program_registers(p) <= 4, "a %d-link chain fits in 4 registers (%zu)", LINKS,
        nm_program_registers(p));
  static const double x0[] = { 2.385, -0.5, 1e-3 }, y[] = { 0.7183, 1.5, -2.0 };
  memcpy(V, x0, sizeof x0);
  memcpy(V + 3, y, sizeof y);
  nm_eval_ctx ctx = context(0.0, NULL);
  nm_program_eval(p, &ctx);
  int ok = 1;
  for (int l = 0; l < 3; l++) {
    double x = x0[l];
    for (int k = 0; k < LINKS; k++) x = k % 2 ? x * 0.9973 - y[l] : x * 0.9973 + y[l];
    ok = ok && D[l] == x;
  }
  CHECK(ok, "the chain's value is exact in every lane");
  nm_program_free(p);
}


/* Lanes are independent: lane l reads slot + l and writes slot + l. */
static void test_lanes(void)
{
  nm_node nodes[] = { LEAF(NM_OP_SIGNAL, 2), LEAF(NM_OP_PARAM, 1), BIN(NM_OP_MUL, 0, 1),
                      UN(NM_OP_EXP, 2), LEAF(NM_OP_GPARAM, 0), BIN(NM_OP_SUB, 3, 4) };
  nm_root root = { 5, NM_SINK_DERIV, 1 };
  for (size_t lanes = 1; lanes <= 7; lanes += 3) {
    nm_program *p = compile(nodes, COUNT(nodes), &root, 1, lanes);
    if (!p) continue;
    for (int i = 0; i < 16; i++) { V[i] = 0.1 * i - 0.3; P[i] = 1.0 / (i + 2.385); }
    clear_outputs();
    nm_eval_ctx ctx = context(0.0, NULL);
    nm_program_eval(p, &ctx);
    int ok = D[0] == -7.77 && D[1 + lanes] == -7.77;
    for (size_t l = 0; l < lanes; l++) ok = ok && D[1 + l] == exp(V[2 + l] * P[1 + l]) - P[0];
    CHECK(ok, "%zu lanes give per-lane results and write nothing beyond them", lanes);
    nm_program_free(p);
  }
}


/* ---------------------------------------------------------------------
** Invalid graphs and programs that do not fit a model
** ------------------------------------------------------------------- */

static void expect_invalid(const nm_node *nodes, size_t n, const nm_root *roots, size_t nr,
                           size_t lanes, const char *what)
{
  nm_error err;
  nm_program *p = nm_program_compile(nodes, n, roots, nr, lanes, &err);
  CHECK(!p && err.status == NM_EINVAL && err.why[0], "%s is rejected with NM_EINVAL and a reason "
        "(status %d: %s)", what, err.status, err.why);
  nm_program_free(p);
}


static void test_invalid_graphs(void)
{
  nm_root root = { 1, NM_SINK_DERIV, 0 };
  nm_node self_ref[] = { LEAF(NM_OP_SIGNAL, 0), BIN(NM_OP_ADD, 0, 1) };
  expect_invalid(self_ref, 2, &root, 1, 1, "an operand that refers to its own node");
  nm_node later[] = { LEAF(NM_OP_SIGNAL, 0), UN(NM_OP_SIN, 2), LEAF(NM_OP_SIGNAL, 1) };
  expect_invalid(later, 3, &root, 1, 1, "an operand that refers to a later node");
  nm_node negative_op[] = { LEAF(NM_OP_SIGNAL, 0), BIN(NM_OP_MUL, 0, -1) };
  expect_invalid(negative_op, 2, &root, 1, 1, "a missing (-1) operand of a binary op");
  nm_node missing_c[] = { LEAF(NM_OP_SIGNAL, 0), TERN(NM_OP_IFELSE, 0, 0, -1) };
  expect_invalid(missing_c, 2, &root, 1, 1, "ifelse without its third operand");
  nm_node neg_slot[] = { LEAF(NM_OP_SIGNAL, 0), LEAF(NM_OP_PARAM, -3) };
  expect_invalid(neg_slot, 2, &root, 1, 1, "a negative slot");
  nm_node bad_op[] = { LEAF(NM_OP_SIGNAL, 0), UN(NM_OP_COUNT, 0) };
  expect_invalid(bad_op, 2, &root, 1, 1, "op NM_OP_COUNT");
  nm_node neg_code[] = { LEAF(NM_OP_SIGNAL, 0), UN(-1, 0) };
  expect_invalid(neg_code, 2, &root, 1, 1, "a negative op");
  nm_node hist[] = { LEAF(NM_OP_SIGNAL, 0), { NM_OP_HIST, -1, -1, -1, 0.0, 0, -2 } };
  expect_invalid(hist, 2, &root, 1, 1, "a negative delay");

  nm_node ok[] = { LEAF(NM_OP_SIGNAL, 0), UN(NM_OP_SIN, 0) };
  nm_root far = { 2, NM_SINK_DERIV, 0 }, neg = { -1, NM_SINK_DERIV, 0 };
  nm_root sink = { 1, NM_SINK_INPUT + 1, 0 }, slot = { 1, NM_SINK_SIGNAL, -4 };
  expect_invalid(ok, 2, &far, 1, 1, "a root beyond the graph");
  expect_invalid(ok, 2, &neg, 1, 1, "a negative root");
  expect_invalid(ok, 2, &sink, 1, 1, "an unknown sink");
  expect_invalid(ok, 2, &slot, 1, 1, "a root with a negative slot");
  expect_invalid(ok, 2, &root, 1, 0, "zero lanes");
  nm_error err;
  nm_program *p = nm_program_compile(ok, 2, &root, 1, 1, &err);
  CHECK(p && err.status == NM_OK, "the same graph with valid parts compiles");
  nm_program_free(p);
}


/* Adds a one-instruction-plus-store program; returns the status.  The model owns
** accepted programs; rejected ones are freed here. */
static int add_one(nm_model *m, int stage, nm_node leaf, nm_root root, size_t lanes)
{
  nm_node nodes[] = { leaf, UN(NM_OP_NEG, 0) };
  root.node = 1;
  nm_error err;
  nm_program *p = nm_program_compile(nodes, 2, &root, 1, lanes, &err);
  if (!p) return 1000 + err.status;
  int status = nm_model_add_program(m, stage, p);
  if (status != NM_OK) nm_program_free(p);
  return status;
}


static void test_program_fits_model(void)
{
  /* 2 state variables, 1 aux, 3 parameters, 2 inputs. */
  nm_model *m = nm_model_new(2, 1, 3, 2);
  if (!CHECK(m != NULL, "create a model")) return;
  nm_root deriv = { 0, NM_SINK_DERIV, 0 };
  static const struct {
    nm_node leaf;
    nm_root root;
    size_t lanes;
    int ok;
    const char *what;
  } cases[] = {
    { LEAF(NM_OP_SIGNAL, 2), { 0, NM_SINK_DERIV, 0 }, 1, 1, "reading the last signal" },
    { LEAF(NM_OP_SIGNAL, 2), { 0, NM_SINK_DERIV, 0 }, 2, 0,
      "reading signals past the end over lanes" },
    { LEAF(NM_OP_SIGNAL, 3), { 0, NM_SINK_DERIV, 0 }, 1, 0, "reading a signal past the end" },
    { { NM_OP_HIST, -1, -1, -1, 0.0, 3, 1 }, { 0, NM_SINK_DERIV, 0 }, 1, 0,
      "a delayed read past the end" },
    { LEAF(NM_OP_PARAM, 1), { 0, NM_SINK_DERIV, 0 }, 2, 1, "reading the last parameters over lanes" },
    { LEAF(NM_OP_PARAM, 2), { 0, NM_SINK_DERIV, 0 }, 2, 0, "reading parameters past the end" },
    { LEAF(NM_OP_GPARAM, 2), { 0, NM_SINK_DERIV, 0 }, 2, 1, "a global parameter over lanes" },
    { LEAF(NM_OP_GPARAM, 3), { 0, NM_SINK_DERIV, 0 }, 1, 0, "a global parameter past the end" },
    { LEAF(NM_OP_INPUT, 1), { 0, NM_SINK_DERIV, 0 }, 2, 0, "reading inputs past the end" },
    { LEAF(NM_OP_SIGNAL, 0), { 0, NM_SINK_DERIV, 2 }, 1, 0, "a derivative of an aux signal" },
    { LEAF(NM_OP_SIGNAL, 0), { 0, NM_SINK_DERIV, 1 }, 2, 0, "derivatives past the state over lanes" },
    { LEAF(NM_OP_SIGNAL, 0), { 0, NM_SINK_SIGNAL, 2 }, 1, 1, "writing the aux signal" },
    { LEAF(NM_OP_SIGNAL, 0), { 0, NM_SINK_SIGNAL, 3 }, 1, 0, "writing a signal past the end" },
    { LEAF(NM_OP_SIGNAL, 0), { 0, NM_SINK_INPUT, 0 }, 2, 1, "writing both inputs" },
    { LEAF(NM_OP_SIGNAL, 0), { 0, NM_SINK_INPUT, 2 }, 1, 0, "writing an input past the end" },
  };
  for (size_t i = 0; i < COUNT(cases); i++) {
    int rc = add_one(m, NM_STAGE_RHS, cases[i].leaf, cases[i].root, cases[i].lanes);
    CHECK(rc == (cases[i].ok ? NM_OK : NM_EINVAL), "the model %s %s (status %d)",
          cases[i].ok ? "accepts" : "rejects", cases[i].what, rc);
  }
  nm_node sig = LEAF(NM_OP_SIGNAL, 0);
  CHECK(add_one(m, 3, sig, deriv, 1) == NM_EINVAL, "the model rejects an unknown stage");
  CHECK(add_one(m, -1, sig, deriv, 1) == NM_EINVAL, "the model rejects a negative stage");
  CHECK(nm_model_add_program(m, NM_STAGE_RHS, NULL) == NM_EINVAL, "the model rejects no program");

  /* A table lookup needs the table to exist. */
  nm_node tnodes[] = { LEAF(NM_OP_SIGNAL, 0), { NM_OP_TABLE2D, 0, 0, -1, 0.0, 0, 0 } };
  nm_root troot = { 1, NM_SINK_DERIV, 0 };
  nm_program *p = nm_program_compile(tnodes, 2, &troot, 1, 2, NULL);
  int rejected = p && nm_model_add_program(m, NM_STAGE_RHS, p) == NM_EINVAL;
  CHECK(rejected, "the model rejects a lookup in a table it does not have");
  nm_table2d *tbl = malloc(sizeof *tbl);
  double *values = calloc(4, sizeof *values);
  if (rejected && tbl && values) {
    *tbl = (nm_table2d){ .n_rows = 2, .n_cols = 2, .row0 = 0.0, .row_step = 1.0, .row_end = 1.0,
                         .col0 = 0.0, .col_step = 1.0, .col_end = 1.0, .values = values };
    CHECK(nm_model_add_table(m, tbl) == NM_OK, "add a table");
    CHECK(nm_model_add_program(m, NM_STAGE_RHS, p) == NM_OK, "then the lookup fits");
  } else {
    free(tbl);
    free(values);
    nm_program_free(p);
  }
  nm_model_free(m);
}


/* End to end: a program in a model, one Euler step of a simulation. */
static void test_through_simulation(void)
{
  nm_model *m = nm_model_new(1, 1, 1, 0);
  if (!CHECK(m != NULL, "create a model")) return;
  /* x' = a * sin(x) + t, aux = x * x after the step. */
  nm_node rhs[] = { LEAF(NM_OP_SIGNAL, 0), LEAF(NM_OP_PARAM, 0), UN(NM_OP_SIN, 0),
                    BIN(NM_OP_MUL, 1, 2), LEAF(NM_OP_TIME, 0), BIN(NM_OP_ADD, 3, 4) };
  nm_node after[] = { LEAF(NM_OP_SIGNAL, 0), BIN(NM_OP_MUL, 0, 0) };
  nm_root r1 = { 5, NM_SINK_DERIV, 0 }, r2 = { 1, NM_SINK_SIGNAL, 1 };
  nm_program *p1 = compile(rhs, COUNT(rhs), &r1, 1, 1), *p2 = compile(after, 2, &r2, 1, 1);
  double v0[2] = { 0.7183, 0.0 };
  nm_model_set_initial(m, v0, 2);
  nm_model_set_param(m, 0, -2.385);
  int ok = p1 && p2 && nm_model_add_program(m, NM_STAGE_RHS, p1) == NM_OK &&
           nm_model_add_program(m, NM_STAGE_AFTER, p2) == NM_OK;
  if (!ok) { nm_program_free(p1); nm_program_free(p2); }
  int status = -99;
  nm_sim *s = ok ? nm_sim_new(m, 0.125, 1, &status) : NULL;
  if (CHECK(s != NULL, "a simulation of a model with programs starts (status %d)", status)) {
    const double *sv = nm_sim_signals(s);
    CHECK(sv[1] == 0.7183 * 0.7183, "the after program has run at t = 0");
    nm_run_opts o = { 0 };
    o.n_steps = 2;
    o.every = 1;
    o.method = NM_EULER;
    CHECK(nm_sim_run(s, &o) == NM_OK, "two Euler steps run");
    double x = 0.7183;
    for (int k = 0; k < 2; k++) x += 0.125 * (-2.385 * sin(x) + 0.125 * k);
    CHECK(sv[0] == x && sv[1] == x * x && nm_sim_time(s) == 0.25,
          "the model's programs drive the steps (x = %.17g, want %.17g)", sv[0], x);
  }
  nm_sim_free(s);
  nm_model_free(m);
}


int main(void)
{
  test_unary_ops();
  test_binary_ops();
  test_mod();
  test_comparisons();
  test_ifelse();
  test_leaves_and_sinks();
  test_hist();
  test_table();
  test_constant_folding();
  test_identities();
  test_small_powers();
  test_cse();
  test_dead_nodes();
  test_registers();
  test_lanes();
  test_invalid_graphs();
  test_program_fits_model();
  test_through_simulation();
  return test_summary();
}
