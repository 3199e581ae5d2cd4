/*
** test_model.c: every refusal of the model-building calls, of the program
** compiler and of nm_sim_new carries a reason naming the object and the value
** (nm_model_error, the compiler's nm_error), and the engine neither prints
** to stderr nor exits on bad input.
*/
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/nm.h"
#include "test_main.h"

#define LEAF(op, slot) { (op), -1, -1, -1, 0.0, (slot), 0 }
#define UN(op, a) { (op), (a), -1, -1, 0.0, 0, 0 }
#define BIN(op, a, b) { (op), (a), (b), -1, 0.0, 0, 0 }
#define COUNT(arr) (sizeof (arr) / sizeof (arr)[0])


/* Every fragment (up to a NULL) occurs in `text`. */
static int has_all(const char *text, const char *const *fragments)
{
  for (size_t i = 0; fragments[i]; i++)
    if (!text || !strstr(text, fragments[i])) return 0;
  return 1;
}


/* Checks a refusal: status NM_EINVAL and a reason holding every fragment. */
#define CHECK_REASON(rc, why, what, ...) \
  do { \
    const char *const frag_[] = { __VA_ARGS__, NULL }; \
    const char *why_ = (why); \
    CHECK((rc) == NM_EINVAL && has_all(why_, frag_), "%s is refused with its reason: '%s' " \
          "(status %d)", (what), why_ ? why_ : "(none)", (rc)); \
  } while (0)


/* 2 state variables, 1 algebraic output, 3 parameters, 2 inputs. */
static nm_model *small_model(void)
{
  return nm_model_new(2, 1, 3, 2);
}


static void test_set_refusals(void)
{
  nm_model *m = small_model();
  if (!CHECK(m != NULL, "create a model")) return;
  double v[1] = { 1.0 };
  int rc = nm_model_set_initial(m, v, 1);
  CHECK_REASON(rc, nm_model_error(m, rc), "an initial state of the wrong size", "initial values",
               "1 given", "3 signals");
  rc = nm_model_set_param(m, 7, 1.0);
  CHECK_REASON(rc, nm_model_error(m, rc), "an unknown parameter slot", "parameter slot 7",
               "has 3");
  rc = nm_model_set_param(m, 2, 1.0);
  CHECK(rc == NM_OK && strcmp(nm_model_error(m, rc), "success") == 0,
        "a call that succeeds forgets the last refusal ('%s')", nm_model_error(m, rc));
  nm_model_free(m);
}


static void test_coupling_refusals(void)
{
  nm_model *m = small_model();
  if (!CHECK(m != NULL, "create a model")) return;
  long dst[] = { 0 }, bad_dst[] = { 5 }, self[] = { 7 }, src[] = { 0 }, bad_src[] = { 9 };
  int delay[] = { 0 }, neg_delay[] = { -3 };
  double w[] = { 1.0 };
  size_t rp[] = { 0, 1 }, rp_start[] = { 1, 1 };
  size_t rp_down[] = { 0, 1, 0 };
  long dst2[] = { 0, 1 };
  int rc = nm_model_add_coupling(m, 7, 1, dst, NULL, rp, src, delay, w);
  CHECK_REASON(rc, nm_model_error(m, rc), "an unknown coupling mode", "coupling", "mode 7");
  rc = nm_model_add_coupling(m, NM_ADDITIVE, 1, dst, NULL, rp_start, src, delay, w);
  CHECK_REASON(rc, nm_model_error(m, rc), "row_ptr not starting at 0", "row_ptr[0] is 1");
  rc = nm_model_add_coupling(m, NM_ADDITIVE, 2, dst2, NULL, rp_down, src, delay, w);
  CHECK_REASON(rc, nm_model_error(m, rc), "a decreasing row_ptr", "row_ptr decreases at row 1",
               "1, then 0");
  rc = nm_model_add_coupling(m, NM_ADDITIVE, 1, bad_dst, NULL, rp, src, delay, w);
  CHECK_REASON(rc, nm_model_error(m, rc), "a row writing a missing input", "row 0",
               "input 5", "2 inputs");
  rc = nm_model_add_coupling(m, NM_DIFFUSIVE, 1, dst, self, rp, src, delay, w);
  CHECK_REASON(rc, nm_model_error(m, rc), "a diffusive row with a missing own signal", "row 0",
               "own signal 7", "3 signals");
  rc = nm_model_add_coupling(m, NM_ADDITIVE, 1, dst, NULL, rp, bad_src, delay, w);
  CHECK_REASON(rc, nm_model_error(m, rc), "a term reading a missing signal", "term 0",
               "signal 9", "3 signals");
  rc = nm_model_add_coupling(m, NM_ADDITIVE, 1, dst, NULL, rp, src, neg_delay, w);
  CHECK_REASON(rc, nm_model_error(m, rc), "a negative delay", "term 0", "negative delay",
               "-3 steps");
  /* adopting the arrays: refused by the same checks, which leave them to the
  ** caller; taken (and set to NULL) when accepted */
  size_t *a_rp = malloc(2 * sizeof *a_rp);
  long *a_src = malloc(sizeof *a_src);
  int *a_delay = malloc(sizeof *a_delay);
  double *a_w = malloc(sizeof *a_w);
  if (CHECK(a_rp && a_src && a_delay && a_w, "allocate the arrays to adopt")) {
    a_rp[0] = 0, a_rp[1] = 1, a_src[0] = 9, a_delay[0] = 0, a_w[0] = 1.0;
    rc = nm_model_adopt_coupling(m, NM_ADDITIVE, 1, dst, NULL, &a_rp, &a_src, &a_delay, &a_w);
    CHECK_REASON(rc, nm_model_error(m, rc), "an adopted term reading a missing signal", "term 0",
                 "signal 9", "3 signals");
    CHECK(a_rp && a_src && a_delay && a_w, "a refused adoption leaves the arrays to the caller");
    a_src[0] = 0;
    rc = nm_model_adopt_coupling(m, NM_ADDITIVE, 1, dst, NULL, &a_rp, &a_src, &a_delay, &a_w);
    CHECK(rc == NM_OK && !a_rp && !a_src && !a_delay && !a_w,
          "an adopted coupling takes the arrays (status %d)", rc);
  }
  free(a_rp);
  free(a_src);
  free(a_delay);
  free(a_w);
  nm_model_free(m);
}


static void test_constraint_and_noise_refusals(void)
{
  nm_model *m = small_model();
  if (!CHECK(m != NULL, "create a model")) return;
  int rc = nm_model_add_clamp(m, 2, 0.0, 1.0);
  CHECK_REASON(rc, nm_model_error(m, rc), "a clamp of an algebraic output", "clamp",
               "signal 2 is not a state variable", "has 2");
  rc = nm_model_add_clamp(m, 0, 1.0, -1.0);
  CHECK_REASON(rc, nm_model_error(m, rc), "a clamp with lo > hi", "clamp of signal 0", "[1, -1]");
  rc = nm_model_add_clamp(m, 1, NAN, 1.0);
  CHECK_REASON(rc, nm_model_error(m, rc), "a clamp with a NaN bound", "clamp of signal 1", "[nan, 1]");
  rc = nm_model_add_clamp(m, 1, -NAN, 1.0);    /* (0.0 / 0.0's sign bit: shown "nan", not "-nan") */
  CHECK_REASON(rc, nm_model_error(m, rc), "a clamp with a negative NaN bound", "clamp of signal 1", "[nan, 1]");
  rc = nm_model_add_wrap(m, -1, 1.0);
  CHECK_REASON(rc, nm_model_error(m, rc), "a wrap of signal -1", "wrap", "signal -1");
  rc = nm_model_add_wrap(m, 0, -2.0);
  CHECK_REASON(rc, nm_model_error(m, rc), "a negative period", "wrap of signal 0", "period is -2");
  rc = nm_model_add_wrap(m, 1, INFINITY);
  CHECK_REASON(rc, nm_model_error(m, rc), "an infinite period (it turned negative values into "
               "infinities)", "wrap of signal 1", "period is inf");
  rc = nm_model_add_noise(m, 4, 0, 1, 2, 0.0);
  CHECK_REASON(rc, nm_model_error(m, rc), "noise feeding a missing input", "noise", "input 4",
               "has 2");
  static const char *const role[] = { "mu", "sigma", "tau" };
  for (int r = 0; r < 3; r++) {
    long slot[3] = { 0, 1, 2 };
    slot[r] = 3 + r;
    rc = nm_model_add_noise(m, 1, slot[0], slot[1], slot[2], 0.0);
    char frag[64];
    snprintf(frag, sizeof frag, "the %s parameter slot %d", role[r], 3 + r);
    const char *why = nm_model_error(m, rc);
    CHECK(rc == NM_EINVAL && strstr(why, frag) && strstr(why, "input 1") && strstr(why, "has 3"),
          "noise with a missing %s slot is refused with its reason: '%s'", role[r], why);
  }
  rc = nm_model_add_white_noise(m, 0, 0, 9);
  CHECK_REASON(rc, nm_model_error(m, rc), "white noise with a missing sigma slot",
               "sigma parameter slot 9");
  rc = nm_model_add_callback(m, NULL, NULL, NULL);
  CHECK_REASON(rc, nm_model_error(m, rc), "a callback without a function", "callback");
  nm_model_free(m);
}


/* A table of 2 x 2 zeros on the given axes; the model owns it when accepted. */
static int add_table(nm_model *m, double row0, double row_step, double row_end, double col_step,
                     size_t n_rows)
{
  nm_table2d *t = malloc(sizeof *t);
  double *v = calloc(n_rows * 2, sizeof *v);
  if (!t || !v) { free(t); free(v); return NM_ENOMEM; }
  nm_table2d init = { n_rows, 2, row0, row_step, row_end, 0.0, col_step, 1.0, v, 0, 0.0, 0.0 };
  *t = init;
  int rc = nm_model_add_table(m, t);
  if (rc != NM_OK) { free(v); free(t); }
  return rc;
}


static void test_table_refusals(void)
{
  nm_model *m = small_model();
  if (!CHECK(m != NULL, "create a model")) return;
  int rc = nm_model_add_table(m, NULL);
  CHECK_REASON(rc, nm_model_error(m, rc), "no table", "table", "no values");
  rc = add_table(m, 0.0, 1.0, 1.0, 1.0, 1);
  CHECK_REASON(rc, nm_model_error(m, rc), "a table of one row", "table", "1 x 2");
  /* Each of these made the lookup convert NaN or an infinity to an index. */
  rc = add_table(m, 0.0, 0.0, 1.0, 1.0, 2);
  CHECK_REASON(rc, nm_model_error(m, rc), "a row axis with step 0", "row axis", "step 0");
  rc = add_table(m, 0.0, -1.0, 1.0, 1.0, 2);
  CHECK_REASON(rc, nm_model_error(m, rc), "a row axis with a negative step", "row axis",
               "step -1");
  rc = add_table(m, NAN, 1.0, 1.0, 1.0, 2);
  CHECK_REASON(rc, nm_model_error(m, rc), "a row axis starting at NaN", "row axis", "first nan");
  /* (NaN nowhere in an axis: nm_tbl_same_grid compares the axes as bits) */
  rc = add_table(m, 0.0, NAN, 1.0, 1.0, 2);
  CHECK_REASON(rc, nm_model_error(m, rc), "a row axis of step NaN", "row axis", "step nan");
  rc = add_table(m, 0.0, 1.0, NAN, 1.0, 2);
  CHECK_REASON(rc, nm_model_error(m, rc), "a row axis ending at NaN", "row axis", "last nan");
  rc = add_table(m, 0.0, 1.0, 1.0, NAN, 2);
  CHECK_REASON(rc, nm_model_error(m, rc), "a column axis of step NaN", "column axis", "step nan");
  rc = add_table(m, 1.0, 1.0, 1.0, 1.0, 2);
  CHECK_REASON(rc, nm_model_error(m, rc), "a row axis ending where it starts", "row axis",
               "last 1");
  rc = add_table(m, 0.0, 1.0, 1.0, INFINITY, 2);
  CHECK_REASON(rc, nm_model_error(m, rc), "a column axis with an infinite step", "column axis",
               "step inf");
  rc = add_table(m, -1e300, 1e-300, 1e300, 1.0, 2);
  CHECK_REASON(rc, nm_model_error(m, rc), "a row axis of 1e600 steps (an infinite index)",
               "row axis", "step 1e-300", "2^53 steps");
  rc = add_table(m, 0.0, 0.5, 1.0, 0.5, 2);
  CHECK(rc == NM_OK, "a table on sound axes is accepted (status %d)", rc);
  nm_model_free(m);
}


/* Compiles nodes -> one root; on success adds the program to m (if m).  The
** reason of a refusal is in why (the compiler's err.why or the model's). */
static int compile(nm_model *m, const nm_node *nodes, size_t n, nm_root root, size_t lanes,
                   char why[static 200])
{
  nm_error err;
  nm_program *p = nm_program_compile(nodes, n, &root, 1, lanes, &err);
  snprintf(why, 200, "%.199s", err.why);
  if (!p) return err.status;
  if (!m) { nm_program_free(p); return NM_OK; }
  int status = nm_model_add_program(m, NM_STAGE_RHS, p);
  if (status != NM_OK) {
    nm_program_free(p);
    snprintf(why, 200, "%s", nm_model_error(m, status));
  }
  return status;
}


static void test_program_refusals(void)
{
  char why[200];
  nm_root root = { 1, NM_SINK_DERIV, 0 };
  nm_node later[] = { LEAF(NM_OP_SIGNAL, 0), UN(NM_OP_SIN, 2) };
  int rc = compile(NULL, later, 2, root, 1, why);
  CHECK_REASON(rc, why, "an operand that is a later node", "node 1", "operand a is node 2",
               "earlier node");
  nm_node missing_b[] = { LEAF(NM_OP_SIGNAL, 0), BIN(NM_OP_MUL, 0, -1) };
  rc = compile(NULL, missing_b, 2, root, 1, why);
  CHECK_REASON(rc, why, "a missing operand", "node 1", "operand b is node -1");
  nm_node bad_op[] = { LEAF(NM_OP_SIGNAL, 0), UN(NM_OP_COUNT, 0) };
  rc = compile(NULL, bad_op, 2, root, 1, why);
  CHECK_REASON(rc, why, "an unknown operation", "node 1", "operation 33");
  nm_node neg_delay[] = { LEAF(NM_OP_SIGNAL, 0), { NM_OP_HIST, -1, -1, -1, 0.0, 0, -2 } };
  rc = compile(NULL, neg_delay, 2, root, 1, why);
  CHECK_REASON(rc, why, "a negative delay", "node 1", "negative delay (-2 steps)");
  nm_node neg_slot[] = { LEAF(NM_OP_SIGNAL, 0), LEAF(NM_OP_PARAM, -3) };
  rc = compile(NULL, neg_slot, 2, root, 1, why);
  CHECK_REASON(rc, why, "a negative slot", "node 1", "negative slot (-3)");
  nm_node ok[] = { LEAF(NM_OP_SIGNAL, 0), UN(NM_OP_SIN, 0) };
  nm_root far = { 4, NM_SINK_DERIV, 0 }, sink = { 1, 9, 0 }, slot = { 1, NM_SINK_SIGNAL, -4 };
  rc = compile(NULL, ok, 2, far, 1, why);
  CHECK_REASON(rc, why, "a root beyond the graph", "root 0 stores node 4", "2 nodes");
  rc = compile(NULL, ok, 2, sink, 1, why);
  CHECK_REASON(rc, why, "an unknown sink", "root 0", "sink 9");
  rc = compile(NULL, ok, 2, slot, 1, why);
  CHECK_REASON(rc, why, "a root with a negative slot", "root 0", "negative slot (-4)");
  rc = compile(NULL, ok, 2, root, 0, why);
  CHECK_REASON(rc, why, "zero lanes", "lanes must be at least 1");
  rc = compile(NULL, ok, 2, root, SIZE_MAX, why);
  CHECK_REASON(rc, why, "lanes whose registers cannot be counted", "lanes cannot be allocated");
  rc = compile(NULL, ok, (size_t)INT_MAX + 1, root, 1, why);
  CHECK_REASON(rc, why, "more nodes than an int indexes", "2147483648 nodes");
  nm_program *p = nm_program_compile(later, 2, &root, 1, 1, NULL);
  CHECK(!p, "a NULL nm_error is allowed");

  /* Programs that do not fit the model say which slot and the model's size. */
  nm_model *m = small_model();
  if (!CHECK(m != NULL, "create a model")) return;
  const struct { nm_node leaf; nm_root root; size_t lanes; const char *frag[3]; } cases[] = {
    { LEAF(NM_OP_PARAM, 2), { 1, NM_SINK_DERIV, 0 }, 2,
      { "reads parameter 2 to 3 (2 lanes)", "3 parameters" } },
    { LEAF(NM_OP_SIGNAL, 3), { 1, NM_SINK_DERIV, 0 }, 1, { "reads signal 3", "3 signals" } },
    { { NM_OP_HIST, -1, -1, -1, 0.0, 3, 1 }, { 1, NM_SINK_DERIV, 0 }, 1,
      { "reads signal 3", "3 signals" } },
    { LEAF(NM_OP_INPUT, 1), { 1, NM_SINK_DERIV, 0 }, 2, { "reads input 1 to 2", "2 inputs" } },
    { LEAF(NM_OP_GPARAM, 3), { 1, NM_SINK_DERIV, 0 }, 1, { "reads parameter 3", "3 parameters" } },
    { LEAF(NM_OP_SIGNAL, 0), { 1, NM_SINK_DERIV, 2 }, 1,
      { "writes the derivative of state variable 2", "2 state variables" } },
    { LEAF(NM_OP_SIGNAL, 0), { 1, NM_SINK_SIGNAL, 3 }, 1, { "writes signal 3", "3 signals" } },
    { LEAF(NM_OP_SIGNAL, 0), { 1, NM_SINK_INPUT, 2 }, 1, { "writes input 2", "2 inputs" } },
  };
  for (size_t i = 0; i < COUNT(cases); i++) {
    nm_node nodes[] = { cases[i].leaf, UN(NM_OP_NEG, 0) };
    rc = compile(m, nodes, 2, cases[i].root, cases[i].lanes, why);
    CHECK_REASON(rc, why, "a program past the model's arrays", "program", cases[i].frag[0],
                 cases[i].frag[1]);
  }
  nm_node tnodes[] = { LEAF(NM_OP_SIGNAL, 0), { NM_OP_TABLE2D, 0, 0, -1, 0.0, 0, 0 } };
  rc = compile(m, tnodes, 2, root, 1, why);
  CHECK_REASON(rc, why, "a lookup in a missing table", "looks up table 0", "0 tables");
  rc = nm_model_add_program(m, 5, NULL);
  CHECK_REASON(rc, nm_model_error(m, rc), "an unknown stage", "stage 5");
  rc = nm_model_add_program(m, NM_STAGE_RHS, NULL);
  CHECK_REASON(rc, nm_model_error(m, rc), "no program", "no program");
  nm_model_free(m);
}


static void test_sim_refusals(void)
{
  nm_model *m = small_model();
  if (!CHECK(m != NULL, "create a model")) return;
  const double bad[] = { 0.0, -0.5, NAN, INFINITY, -NAN };
  const char *const shown[] = { "got 0", "got -0.5", "got nan", "got inf", "got nan" };
  for (size_t i = 0; i < COUNT(bad); i++) {
    int status = 0;
    nm_sim *s = nm_sim_new(m, bad[i], 1, &status);
    const char *why = nm_model_error(m, status);
    CHECK(!s && status == NM_EINVAL && strstr(why, "dt must be a positive finite number") &&
          strstr(why, shown[i]), "nm_sim_new refuses dt = %g with its reason: '%s'", bad[i], why);
    nm_sim_free(s);
  }
  CHECK(nm_model_new(1, 0, SIZE_MAX, 0) == NULL && nm_model_new(0, 0, 0, SIZE_MAX) == NULL &&
        nm_model_new(SIZE_MAX / 2, SIZE_MAX / 2, 0, 0) == NULL,
        "nm_model_new refuses sizes whose arrays cannot be counted (n + 1 wrapped to 0 before)");
  nm_model_free(m);
}


/* Runs `fn` with stderr sent to a temporary file; returns the bytes written there. */
static long stderr_bytes(void (*fn)(void))
{
  fflush(stderr);
  int saved = dup(2);
  FILE *tmp = tmpfile();
  if (saved < 0 || !tmp) return -1;
  dup2(fileno(tmp), 2);
  fn();
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  long n = ftell(tmp) > 0 ? ftell(tmp) : (fseek(tmp, 0, SEEK_END), ftell(tmp));
  fclose(tmp);
  return n;
}


/* Runs m for n_steps steps of dt with `method`; returns the status and checks that
** a failure has a reason (copied to why[200] when why is not NULL). */
static int run_checked(nm_model *m, double dt, int method, long n_steps, const char *what,
                       char *why)
{
  int status;
  nm_sim *s = nm_sim_new(m, dt, 1, &status);
  if (!CHECK(s != NULL, "%s: a simulation starts ('%s')", what, nm_model_error(m, status)))
    return status;
  nm_run_opts o;
  memset(&o, 0, sizeof o);
  o.n_steps = n_steps;
  o.every = 1;
  o.method = method;
  o.rtol = 1e-6;
  o.atol = 1e-9;
  int rc = nm_sim_run(s, &o);
  CHECK(rc == NM_OK || strlen(nm_sim_error(s, rc)) > 0, "%s, method %d: status %d, '%s'", what,
        method, rc, nm_sim_error(s, rc));
  if (why) snprintf(why, 200, "%s", nm_sim_error(s, rc));
  nm_sim_free(s);
  return rc;
}


/* Bad inputs through every part of the engine: refusals, and adaptive
** steppers (GSL) facing a NaN state and a blow-up. */
static void bad_inputs(void)
{
  test_set_refusals();
  test_coupling_refusals();
  test_constraint_and_noise_refusals();
  test_table_refusals();
  test_program_refusals();
  test_sim_refusals();
  const double starts[][2] = { { NAN, 1.0 }, { 1.0, 1.0 }, { 1e308, -1e308 }, { -NAN, 1.0 } };
  for (size_t k = 0; k < COUNT(starts); k++) {
    nm_model *m = nm_model_new(2, 0, 0, 0);
    if (!m) return;
    /* s0' = -s0, s1' = s1^2: s1 = 1 / (1 - t) blows up at t = 1. */
    nm_node rhs[] = { LEAF(NM_OP_SIGNAL, 0), UN(NM_OP_NEG, 0), LEAF(NM_OP_SIGNAL, 1),
                      BIN(NM_OP_MUL, 2, 2) };
    nm_root roots[] = { { 1, NM_SINK_DERIV, 0 }, { 3, NM_SINK_DERIV, 1 } };
    nm_program *p = nm_program_compile(rhs, COUNT(rhs), roots, 2, 1, NULL);
    if (p && nm_model_add_program(m, NM_STAGE_RHS, p) != NM_OK) nm_program_free(p);
    nm_model_set_initial(m, starts[k], 2);
    for (int method = NM_EULER; method <= NM_MSBDF; method++) {
      char why[200];
      int rc = run_checked(m, 0.1, method, 20, "a NaN, blowing-up or overflowing start", why);
      if (k != 1 || method >= NM_RKF45)      /* fixed steps stay finite on 1 / (1 - t) to 2 ms */
        CHECK(rc != NM_OK, "start %zu, method %d fails (status %d)", k, method, rc);
      if (rc == NM_ENONFINITE)
        CHECK(strstr(why, "signal ") && strstr(why, " became ") && strstr(why, "at t = ") && !strstr(why, "-nan"),
              "a NaN or infinity names the signal, its value (a NaN as nan) and the time: '%s'", why);
    }
    nm_model_free(m);
  }
  /* 0.1 dt underflows to 0: GSL refused that first step by printing and aborting. */
  nm_model *m = nm_model_new(1, 0, 0, 0);
  nm_node decay[] = { LEAF(NM_OP_SIGNAL, 0), UN(NM_OP_NEG, 0) };
  nm_root root = { 1, NM_SINK_DERIV, 0 };
  nm_program *p = m ? nm_program_compile(decay, 2, &root, 1, 1, NULL) : NULL;
  if (p && nm_model_add_program(m, NM_STAGE_RHS, p) != NM_OK) nm_program_free(p);
  if (m) run_checked(m, 5e-324, NM_RKF45, 2, "rkf45 with dt = 5e-324", NULL);
  nm_model_free(m);
}


/* nm_sim_new_seeded (batches): channel i seeded with streams[i] draws what a
** simulation seeded with s draws on channel j when streams[i] =
** nm_noise_stream_seed(s, j); NULL streams is nm_sim_new. */
static void test_seeded_streams(void)
{
  nm_model *m = nm_model_new(2, 0, 6, 2);
  if (!CHECK(m != NULL, "create a two-channel noise model")) return;
  /* s0' = U0, s1' = U1; U0 and U1 two OU processes of mu 0, sigma 1, tau 1 */
  nm_node rhs[] = { LEAF(NM_OP_INPUT, 0), LEAF(NM_OP_INPUT, 1) };
  nm_root roots[] = { { 0, NM_SINK_DERIV, 0 }, { 1, NM_SINK_DERIV, 1 } };
  nm_program *p = nm_program_compile(rhs, COUNT(rhs), roots, 2, 1, NULL);
  if (p && nm_model_add_program(m, NM_STAGE_RHS, p) != NM_OK) nm_program_free(p);
  for (size_t c = 0; c < 2; c++) {
    nm_model_set_param(m, 3 * c, 0.0);
    nm_model_set_param(m, 3 * c + 1, 1.0);
    nm_model_set_param(m, 3 * c + 2, 1.0);
    nm_model_add_noise(m, (long)c, (long)(3 * c), (long)(3 * c + 1), (long)(3 * c + 2), 0.0);
  }
  CHECK(nm_model_n_noises(m) == 2, "nm_model_n_noises counts the channels (%zu)", nm_model_n_noises(m));
  unsigned long same[2] = { nm_noise_stream_seed(7, 0), nm_noise_stream_seed(7, 1) };
  unsigned long swapped[2] = { same[1], same[0] };
  const unsigned long *streams[] = { NULL, same, swapped, NULL };
  unsigned long seeds[] = { 7, 99, 99, 99 };
  double end[4][2];
  for (int k = 0; k < 4; k++) {
    int status;
    nm_sim *s = nm_sim_new_seeded(m, 0.1, seeds[k], streams[k], &status);
    if (!CHECK(s != NULL, "a seeded simulation starts")) { nm_model_free(m); return; }
    nm_run_opts o;
    memset(&o, 0, sizeof o);
    o.n_steps = 50;
    o.every = 1;
    o.method = NM_EULER;
    nm_sim_run(s, &o);
    memcpy(end[k], nm_sim_signals(s), sizeof end[k]);
    nm_sim_free(s);
  }
  CHECK(end[1][0] == end[0][0] && end[1][1] == end[0][1],
        "streams = the stream seeds of seed 7: the run of seed 7, bit for bit (%.17g, %.17g)", end[1][0], end[1][1]);
  CHECK(end[2][0] == end[0][1] && end[2][1] == end[0][0] && end[0][0] != end[0][1],
        "swapped stream seeds: the channels swap their draws");
  CHECK(end[3][0] != end[0][0], "another seed, other draws");
  nm_model_free(m);
}


int main(void)
{
  test_seeded_streams();
  long n = stderr_bytes(bad_inputs);
  CHECK(n == 0, "the engine prints nothing to stderr on bad input (%ld bytes)", n);
  return test_summary();
}
