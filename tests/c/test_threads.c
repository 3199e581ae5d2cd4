/*
** test_threads.c: the threaded Euler loop stopped by its pace (what the
** automatic thread mode does when threads fall behind one thread) stops after
** whole steps, counts them, and the run goes on from there with the bits of
** one uninterrupted run on one thread; threads cut the work anywhere
** (thread_split.c moves the cuts) and still give those bits; and the cuts
** move to where threads of measured speeds finish together.
*/
#include <stdlib.h>
#include <string.h>

#include "engine/sim.h"
#include "test_main.h"

#define LEAF(op, slot) { (op), -1, -1, -1, 0.0, (slot), 0 }
#define BIN(op, a, b) { (op), (a), (b), -1, 0.0, 0, 0 }
#define UN(op, a) { (op), (a), -1, -1, 0.0, 0, 0 }

enum { N = 300, STEPS = 60, EVERY = 3 };


/* How a network's nodes take their noise (network_of). */
enum {
  ONE_NOISE,     /* x_i' = -x_i + U_i + U_{N+i} */
  TWO_NOISES,    /* x_i' = -x_i + U_i + U_{N+i} + U_{2N+i}, both OU: channels by input
                    first, so that each thread's lanes take two runs of channels */
  SHARED_NOISE   /* x_i' = -x_i + U_i + U_{N+i} + U_{N+i+1}: one noise input read by two
                    lanes (and U_{2N} by lane N-1 only) */
};


/* x_i' = -x_i + U_i + (noise inputs, above): U_i = sum_j w_ij x_j(t - d_ij)
** (random sparse, delays up to 20 steps, the first term's `longest` when that
** is not 0), the noise inputs OU processes (mu 0.1, sigma 0.3, tau 2). */
static nm_model *network_of(int longest, int noise)
{
  nm_model *m = nm_model_new(N, 0, 3 * N, 3 * N + 1);
  if (!m) return NULL;
  nm_node rhs[] = { LEAF(NM_OP_SIGNAL, 0), UN(NM_OP_NEG, 0), LEAF(NM_OP_INPUT, 0),
                    LEAF(NM_OP_INPUT, N), BIN(NM_OP_ADD, 1, 2), BIN(NM_OP_ADD, 4, 3),
                    LEAF(NM_OP_INPUT, noise == SHARED_NOISE ? N + 1 : 2 * N), BIN(NM_OP_ADD, 5, 6) };
  nm_root root = { noise == ONE_NOISE ? 5 : 7, NM_SINK_DERIV, 0 };
  nm_error err;
  nm_program *p = nm_program_compile(rhs, sizeof rhs / sizeof rhs[0], &root, 1, N, &err);
  int rc = p ? nm_model_add_program(m, NM_STAGE_RHS, p) : err.status;
  if (p && rc != NM_OK) nm_program_free(p);
  size_t *row_ptr = malloc((N + 1) * sizeof *row_ptr);
  long *dst = malloc(N * sizeof *dst), *src = malloc(N * N * sizeof *src);
  int *delay = malloc(N * N * sizeof *delay);
  double *w = malloc(N * N * sizeof *w), v0[N];
  unsigned long r = 12345;
  size_t k = 0;
  for (long i = 0; rc == NM_OK && i < N; i++) {
    dst[i] = i;
    row_ptr[i] = k;
    for (long j = 0; j < N; j++) {
      r = r * 6364136223846793005UL + 1442695040888963407UL;
      if (i == j || (r >> 33) % 10 != 0) continue;
      src[k] = j;
      delay[k] = k == 0 && longest ? longest : (int)((r >> 20) % 21);
      w[k++] = 0.02 * (double)((r >> 40) % 100) / 100.0;
    }
    v0[i] = 0.01 * (double)(i % 17) - 0.05;
  }
  row_ptr[N] = k;
  if (rc == NM_OK && row_ptr && dst && src && delay && w)
    rc = nm_model_add_coupling(m, NM_ADDITIVE, N, dst, NULL, row_ptr, src, delay, w);
  else if (rc == NM_OK) rc = NM_ENOMEM;
  for (long i = 0; rc == NM_OK && i < N; i++) {
    nm_model_set_param(m, 3 * (size_t)i, 0.1);
    nm_model_set_param(m, 3 * (size_t)i + 1, 0.3);
    nm_model_set_param(m, 3 * (size_t)i + 2, 2.0);
    rc = nm_model_add_noise(m, N + i, 3 * i, 3 * i + 1, 3 * i + 2, 0.0);
    if (rc == NM_OK && noise == TWO_NOISES) rc = nm_model_add_noise(m, 2 * N + i, 3 * i, 3 * i + 1, 3 * i + 2, 0.0);
  }
  if (rc == NM_OK) rc = nm_model_set_initial(m, v0, N);
  free(row_ptr); free(dst); free(src); free(delay); free(w);
  if (rc != NM_OK) { nm_model_free(m); return NULL; }
  return m;
}


static nm_model *network_with(int longest)
{
  return network_of(longest, ONE_NOISE);
}


typedef struct { double *data; size_t n, cap; } rows;

static int collect(void *ud, const double *data, size_t n_rows, size_t n_cols)
{
  rows *b = ud;
  size_t n = n_rows * n_cols;
  if (b->n + n > b->cap) {
    size_t cap = 2 * (b->n + n);
    double *d = realloc(b->data, cap * sizeof *d);
    if (!d) return 78;
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->n, data, n * sizeof *data);
  b->n += n;
  return 0;
}


static nm_run_opts options(const long *rec, rows *out)
{
  nm_run_opts o;
  memset(&o, 0, sizeof o);
  o.n_steps = STEPS;
  o.every = EVERY;
  o.method = NM_EULER;
  o.record = rec;
  o.n_record = N;
  o.sink = collect;
  o.sink_ud = out;
  o.chunk_rows = 4;
  o.threads = 1;
  o.jit = NM_JIT_OFF;
  return o;
}


static void test_paced_stops(int noise)
{
  nm_model *m = network_of(0, noise);
  if (!CHECK(m != NULL, "build a 300-node network with delays and %d noise input(s) a node",
             noise == TWO_NOISES ? 2 : 1)) return;
  static long rec[N];
  for (long i = 0; i < N; i++) rec[i] = i;
  rows one = { 0 }, paced = { 0 };
  int rc1, rc2 = NM_OK;
  nm_run_opts o1 = options(rec, &one), o2 = options(rec, &paced);
  nm_sim *a = nm_sim_new(m, 0.1, 7, &rc1), *b = nm_sim_new(m, 0.1, 7, &rc2);
  if (a) rc1 = nm_sim_run(a, &o1);
  /* A pace no loop can keep: every call stops after its first step. */
  long calls = 0, wrong = 0;
  nm_sampler r;
  if (b && (rc2 = nm_sampler_init(&r, b, &o2)) == NM_OK) {
    for (long i = 0; i < STEPS && rc2 == NM_OK; calls++) {
      size_t before = b->step;
      nm_pace pace = { nm_seconds(), 0.0, 0.0 };
      rc2 = nm_sim_run_threads(b, &o2, 2, i, STEPS, &pace, nm_sampler_row, &r);
      wrong += b->step - before != 1;
      i += (long)(b->step - before);
    }
    if (rc2 == NM_OK) rc2 = nm_sampler_flush(&r);
    nm_sampler_free(&r);
  }
  CHECK(rc1 == NM_OK && rc2 == NM_OK && calls == STEPS && wrong == 0,
        "a threaded loop behind its pace stops after each whole step (status %d %d, %ld calls "
        "for %d steps, %ld not of one step)", rc1, rc2, calls, STEPS, wrong);
  size_t at = 0;
  while (at < one.n && at < paced.n &&
         memcmp(&one.data[at], &paced.data[at], sizeof *one.data) == 0)
    at++;
  CHECK(one.n == (size_t)(N + 1) * (STEPS / EVERY) && paced.n == one.n && at == one.n,
        "stopping and going on every step gives the bits of one run on one thread "
        "(%zu and %zu values recorded, the first different: %zu, row %zu)", one.n, paced.n, at,
        at / (N + 1));
  free(one.data);
  free(paced.data);
  nm_sim_free(a);
  nm_sim_free(b);
  nm_model_free(m);
}


/* Rows of every value of a run with `threads` threads cut at rows_cut and
** lanes_cut (parts + 1 fractions each), in one call. */
static int run_cut(nm_model *m, const long *rec, rows *out, int threads, const double *rows_cut,
                   const double *lanes_cut, int *kept)
{
  int rc = NM_OK;
  nm_run_opts o = options(rec, out);
  nm_sim *s = nm_sim_new(m, 0.1, 7, &rc);
  nm_sampler r;
  if (s && (rc = nm_sampler_init(&r, s, &o)) == NM_OK) {
    s->split_parts = threads;
    memcpy(s->split_rows, rows_cut, (size_t)(threads + 1) * sizeof *rows_cut);
    memcpy(s->split_lanes, lanes_cut, (size_t)(threads + 1) * sizeof *lanes_cut);
    rc = nm_sim_run_threads(s, &o, threads, 0, STEPS, NULL, nm_sampler_row, &r);
    if (rc == NM_OK) rc = nm_sampler_flush(&r);
    nm_sampler_free(&r);
    /* Fewer steps than a balancing takes: the cuts are the ones given. */
    *kept = s->split_parts == threads &&
            memcmp(s->split_rows, rows_cut, (size_t)(threads + 1) * sizeof *rows_cut) == 0;
  }
  nm_sim_free(s);
  return rc;
}


/* Threads copy a history of up to 8 MB into rings of their own and share a
** larger one (step_threads.c): `longest` 0 gives 96 kB, 5000 steps 39 MB. */
static void test_any_cut(int longest)
{
  nm_model *m = network_with(longest);
  if (!CHECK(m != NULL, "build a 300-node network with delays up to %d steps and noise",
             longest ? longest : 20)) return;
  static long rec[N];
  for (long i = 0; i < N; i++) rec[i] = i;
  rows one = { 0 };
  int rc = NM_OK;
  nm_run_opts o = options(rec, &one);
  nm_sim *a = nm_sim_new(m, 0.1, 7, &rc);
  if (a) rc = nm_sim_run(a, &o);
  CHECK(rc == NM_OK, "one thread runs (status %d)", rc);
  static const struct { int threads; double rows[4], lanes[4]; } cuts[] = {
    { 2, { 0.0, 0.03, 1.0 }, { 0.0, 0.97, 1.0 } },          /* thread 0 all lanes, few rows */
    { 2, { 0.0, 0.71, 1.0 }, { 0.0, 0.02, 1.0 } },
    { 3, { 0.0, 0.2, 0.21, 1.0 }, { 0.0, 0.5, 0.9, 1.0 } },
  };
  for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
    rows cut = { 0 };
    int kept = 0;
    rc = run_cut(m, rec, &cut, cuts[c].threads, cuts[c].rows, cuts[c].lanes, &kept);
    CHECK(rc == NM_OK && kept && cut.n == one.n && memcmp(cut.data, one.data, one.n * sizeof *one.data) == 0,
          "%d threads, rows cut at %g, lanes at %g, history of %zu kB: the bits of one thread "
          "(status %d, cuts kept %d, %zu values against %zu)", cuts[c].threads, cuts[c].rows[1],
          cuts[c].lanes[1], a ? 2 * a->depth * a->width * sizeof(double) >> 10 : 0, rc, kept,
          cut.n, one.n);
    free(cut.data);
  }
  free(one.data);
  nm_sim_free(a);
  nm_model_free(m);
}


/* Over a long run the threads rebalance their cuts every 128 steps, and the
** noise channels whose cut moves go with their streams' states from one
** thread's copy of the streams to another's (step_threads.c take_channels):
** still the bits of one thread, and the lanes' cuts did move.  The channels
** go in segments by the lanes that read them (`segs` of them, the threads
** writing their inputs: `own`). */
static void test_cuts_move(int noise, size_t segs, int own)
{
  enum { LONG = 700 };
  static const char *what[] = { "one noise input a node", "two noise inputs a node",
                                "a noise input read by two nodes" };
  nm_model *m = network_of(0, noise);
  if (!CHECK(m != NULL, "build a 300-node network with delays and %s", what[noise])) return;
  static long rec[N];
  for (long i = 0; i < N; i++) rec[i] = i;
  rows one = { 0 };
  int rc = NM_OK;
  nm_run_opts o = options(rec, &one);
  o.n_steps = LONG;
  nm_sim *a = nm_sim_new(m, 0.1, 7, &rc);
  if (a) rc = nm_sim_run(a, &o);
  CHECK(rc == NM_OK, "one thread runs %d steps (status %d)", LONG, rc);
  static const struct { int threads; double lanes[4]; } cuts[] = {
    { 2, { 0.0, 0.05, 1.0 } }, { 2, { 0.0, 0.95, 1.0 } }, { 3, { 0.0, 0.05, 0.1, 1.0 } },
  };
  for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
    int threads = cuts[c].threads;
    rows cut = { 0 };
    nm_run_opts ot = options(rec, &cut);
    ot.n_steps = LONG;
    nm_sim *s = nm_sim_new(m, 0.1, 7, &rc);
    nm_sampler r;
    int moved = 0;
    if (s && (rc = nm_sampler_init(&r, s, &ot)) == NM_OK) {
      s->split_parts = threads;
      nm_split_even(s->split_rows, threads, 0.0);
      memcpy(s->split_lanes, cuts[c].lanes, (size_t)(threads + 1) * sizeof *cuts[c].lanes);
      rc = nm_sim_run_threads(s, &ot, threads, 0, LONG, NULL, nm_sampler_row, &r);
      if (rc == NM_OK) rc = nm_sampler_flush(&r);
      nm_sampler_free(&r);
      moved = memcmp(s->split_lanes, cuts[c].lanes, (size_t)(threads + 1) * sizeof *cuts[c].lanes) != 0;
    }
    CHECK(rc == NM_OK && moved && cut.n == one.n && memcmp(cut.data, one.data, one.n * sizeof *one.data) == 0,
          "%s, %d threads from lanes cut at %g, rebalanced over %d steps: the bits of one thread "
          "(status %d, cuts moved %d, %zu values against %zu)", what[noise], threads, cuts[c].lanes[1],
          LONG, rc, moved, cut.n, one.n);
    /* The segments: a run of N channels per noise input, each feeding lanes
    ** 0 .. N-1 of the one program. */
    int laid = s && s->n_nz_segs == segs && s->nz_own_inputs == own;
    for (size_t g = 0; laid && g < segs; g++)
      laid = s->nz_segs[g].c0 == g * N && s->nz_segs[g].n == N && s->nz_segs[g].l0 == 0 &&
             s->nz_segs[g].prog == 0;
    if (c == 0)
      CHECK(laid, "%s: %zu segments of %d channels, lanes 0 .. %d, the threads writing their inputs %d "
            "(got %zu segments, %d)", what[noise], segs, N, N - 1, own, s ? s->n_nz_segs : 0,
            s ? s->nz_own_inputs : -1);
    free(cut.data);
    nm_sim_free(s);
  }
  free(one.data);
  nm_sim_free(a);
  nm_model_free(m);
}


/* nm_split_balance applied `times` times from even cuts. */
static void balanced(double *cut, const double *rate, double extra, int parts, int times)
{
  nm_split_even(cut, parts, 0.0);
  for (int k = 0; k < times; k++) nm_split_balance(cut, rate, extra, parts);
}


static void test_split_balance(void)
{
  double cut[NM_MAX_THREADS + 1];
  nm_split_even(cut, 4, 0.0);
  CHECK(cut[0] == 0.0 && cut[1] == 0.25 && cut[2] == 0.5 && cut[3] == 0.75 && cut[4] == 1.0,
        "even cuts of 4 threads at 0, 1/4, 1/2, 3/4, 1 (%g %g %g %g %g)", cut[0], cut[1], cut[2],
        cut[3], cut[4]);
  nm_split_even(cut, 2, 0.2);
  CHECK(fabs(cut[1] - 0.8 / 1.8) < 1e-15, "thread 0 lighter by 0.2: its share 0.8/1.8 (%.17g)", cut[1]);
  /* A core two thirds as fast: 0.6 of the work and 0.4, reached halfway at a
  ** time (0.5, 0.55, 0.575, ...: 0.6 - 0.1/2^k). */
  const double slower[] = { 3.0, 2.0 };
  balanced(cut, slower, 0.0, 2, 1);
  CHECK(fabs(cut[1] - 0.55) < 1e-15, "one balancing moves halfway: 0.55 (%.17g)", cut[1]);
  balanced(cut, slower, 0.0, 2, 40);
  CHECK(fabs(cut[1] - 0.6) < 1e-12, "speeds 3 : 2 cut at 0.6 (%.17g)", cut[1]);
  /* Equal speeds, thread 0 busy for 0.2 of a whole phase's time besides:
  ** both busy for T = 0.6, thread 0 doing 0.4. */
  const double equal[] = { 1.0, 1.0 };
  balanced(cut, equal, 0.2, 2, 60);
  CHECK(fabs(cut[1] - 0.4) < 1e-12, "thread 0's serial section counts against its share: 0.4 (%.17g)",
        cut[1]);
  /* Thread 0's section longer than a whole phase: it keeps the least share. */
  balanced(cut, equal, 5.0, 2, 60);
  CHECK(fabs(cut[1] - 0.02) < 1e-12, "a thread keeps at least 2 %% of the work (%.17g)", cut[1]);
  /* A thread with no measure (no ticks): the cuts stay. */
  const double unknown[] = { 1.0, 0.0, 1.0 };
  nm_split_even(cut, 3, 0.0);
  nm_split_balance(cut, unknown, 0.0, 3);
  CHECK(cut[1] == 1.0 / 3 && cut[2] == 2.0 / 3, "no measure of a thread: cuts unchanged (%g %g)",
        cut[1], cut[2]);
  /* Four threads of speeds 1, 2, 3, 4: shares 0.1 .. 0.4, cuts increasing. */
  const double four[] = { 1.0, 2.0, 3.0, 4.0 };
  balanced(cut, four, 0.0, 4, 60);
  CHECK(fabs(cut[1] - 0.1) < 1e-12 && fabs(cut[2] - 0.3) < 1e-12 && fabs(cut[3] - 0.6) < 1e-12 &&
        cut[4] == 1.0, "speeds 1 : 2 : 3 : 4 cut at 0.1, 0.3, 0.6 (%.17g %.17g %.17g)", cut[1], cut[2],
        cut[3]);
}


int main(void)
{
  test_paced_stops(ONE_NOISE);
  test_paced_stops(TWO_NOISES);
  test_any_cut(0);
  test_any_cut(5000);
  test_cuts_move(ONE_NOISE, 1, 1);
  test_cuts_move(TWO_NOISES, 2, 1);
  test_cuts_move(SHARED_NOISE, 1, 0);
  test_split_balance();
  return test_summary();
}
