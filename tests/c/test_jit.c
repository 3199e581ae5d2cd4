/*
** test_jit.c: native code for programs (jit_emit.c, jit_cache.c) against the
** interpreter, bit for bit: every operation on awkward values (NaN, infinities,
** signed zeros, huge and tiny numbers) over lanes and lane ranges, table
** lookups inside and outside their grid (with the clamp counts), delayed
** reads between steps, and a whole simulation with sync, rhs and after
** programs; compiles beside a run, the switch midway, a cancelled compile and
** a run interrupted while it waits for one.
** The cache goes to a fresh temporary XDG_CACHE_HOME.
*/
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
  unsigned long clamped[2];
  for (int native = 0; native < 2; native++) {
    memcpy(V, A, sizeof A);
    memcpy(V + L, B, sizeof B);
    for (int l = 0; l < 2 * L; l++) U[native][l] = 0.25 * l - 1.0;
    for (size_t i = 0; i < n_out; i++) D[native][i] = -7.77;
    t0->clamped = 0;
    nm_eval_ctx ctx = { V, P, U[native], D[native], 3.75, NULL, tabs };
    p->use_native = native;
    p->stale = 1;
    nm_program_prepare(p, &ctx);
    /* Lanes in three ranges, as threads would take them. */
    nm_program_eval_lanes(p, &ctx, 0, 3);
    nm_program_eval_lanes(p, &ctx, 3, 8);
    nm_program_eval_lanes(p, &ctx, 8, L);
    clamped[native] = t0->clamped;
    if (Vs[native]) memcpy(Vs[native], V, n_out * sizeof(double));
  }
  size_t at = 0;
  int same = same_bits(D[0], D[1], n_out, &at);
  CHECK(same, "every operation gives the interpreter's bits natively (first difference: "
        "operation %zu lane %zu: %.17g vs %.17g)", at / L, at % L, D[0][at], D[1][at]);
  CHECK(same_bits(U[0], U[1], 2 * L, &at) && Vs[0] && Vs[1] && same_bits(Vs[0], Vs[1], n_out, &at),
        "stores into signals and inputs are the interpreter's");
  CHECK(clamped[0] == clamped[1] && clamped[0] > 0,
        "lookups outside the grid are counted as the interpreter counts them (%lu, %lu)",
        clamped[0], clamped[1]);
  free(Vs[0]); free(Vs[1]);
done:
  free(V); free(D[0]); free(D[1]); free(U[0]); free(U[1]);
  nm_model_free(m);
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
    ** alone (interpreted, exits at once), the parent's compile completes. */
    snprintf(cmd, sizeof cmd, "rm -f '%s'/neuromass/*.so", dir);
    CHECK(system(cmd) == 0, "empty the cache");
    m = delayed_model();
    rc = m ? nm_jit_prepare(m, NM_JIT_AUTO, 1e9, 1, NULL, &err) : NM_ENOMEM;
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
      int crc = nm_jit_prepare(m, NM_JIT_ALWAYS, 1e9, 1, NULL, &err);
      exit(crc == NM_OK && m->progs[NM_STAGE_RHS][0]->use_native == 0 && m->jit_pending == 0 ? 0 : 1);
    }
    int st = -1;
    if (child > 0) waitpid(child, &st, 0);
    wait_compiles();
    nm_jit_switch(m);
    CHECK(rc == NM_OK && child > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
          m->progs[NM_STAGE_RHS][0]->use_native && m->jit_pending == 0,
          "a child forked while a program compiles runs it interpreted; the parent's compile "
          "completes (child status %d)", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    nm_model_free(m);
  }
  unsetenv("NEUROMASS_CC");
}


/* Ctrl-C while a run waits for its compile (jit = "always", a compiler
** that hangs): the run stops at once with NM_EINTR, not when the compile
** ends.  Last: the hanging compile is left to the exit, which kills it. */
static void test_interrupt(const char *dir)
{
  char cmd[4400];
  if (!slow_compiler(dir, "hang-cc", "10")) return;
  snprintf(cmd, sizeof cmd, "rm -f '%s'/neuromass/*.so", dir);
  CHECK(system(cmd) == 0, "empty the cache");
  nm_model *m = delayed_model();
  int st;
  nm_sim *s = m ? nm_sim_new(m, 0.05, 7, &st) : NULL;
  volatile sig_atomic_t stop = 1;      /* the signal came as the run began */
  nm_run_opts o = { 0 };
  o.n_steps = 10;
  o.every = 10;
  o.threads = 1;
  o.jit = NM_JIT_ALWAYS;
  o.interrupt = &stop;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int rc = s ? nm_sim_run(s, &o) : NM_ENOMEM;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  CHECK(rc == NM_EINTR && secs < 2.0,
        "a run interrupted while it waits for its compile stops at once (status %d after %.2f s)",
        rc, secs);
  nm_sim_free(s);
  nm_model_free(m);
  unsetenv("NEUROMASS_CC");
}


int main(void)
{
  char dir[] = "/tmp/nm-jit-test-XXXXXX";
  if (!mkdtemp(dir)) { CHECK(0, "make a temporary cache"); return test_summary(); }
  setenv("XDG_CACHE_HOME", dir, 1);
  unsetenv("NEUROMASS_JIT");
  test_every_op();
  test_simulation();
  test_cache(dir);
  test_switch(dir);
  test_interrupt(dir);
  char cmd[200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) CHECK(0, "remove %s", dir);
  return test_summary();
}
