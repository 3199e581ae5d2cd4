/*
** test_record.c: the recorder (record.c) and its sinks: every sink gets its
** rows and columns (decimation on one grid across calls, leading columns),
** in order; the first failure stops the fan-out and gives its reason; the
** kept result holds what it was given.
*/
#include <stdlib.h>
#include <string.h>

#include "engine/nm.h"
#include "test_main.h"

/* A sink that counts its rows and fails (status -5) after `fail_after` rows. */
typedef struct {
  size_t rows, cols, fail_after;
  double last_t;
  int finished_how, freed;
} probe;

static int probe_rows(void *ud, const double *rows, size_t n_rows, size_t n_cols)
{
  probe *p = ud;
  p->cols = n_cols;
  for (size_t r = 0; r < n_rows; r++) {
    if (p->fail_after && p->rows >= p->fail_after) return NM_ESTEP;
    p->last_t = rows[r * n_cols];
    p->rows++;
  }
  return NM_OK;
}
static int probe_finish(void *ud, int how) { ((probe *)ud)->finished_how = how; return NM_OK; }
static const char *probe_error(const void *ud) { (void)ud; return "the probe gave up"; }
static void probe_free(void *ud) { ((probe *)ud)->freed = 1; }


/* rows x 3 columns: t = 1, 2, ..., then t * 10 and t * 100 */
static double *table(size_t rows, double t0)
{
  double *v = malloc(rows * 3 * sizeof *v);
  for (size_t r = 0; r < rows; r++) {
    v[3 * r] = t0 + (double)r;
    v[3 * r + 1] = 10 * v[3 * r];
    v[3 * r + 2] = 100 * v[3 * r];
  }
  return v;
}


static void test_fan_out(void)
{
  nm_recorder *rec = nm_recorder_new();
  probe all = { 0 }, every3 = { 0 };
  nm_sink a = { probe_rows, probe_finish, probe_error, probe_free, &all };
  nm_sink b = { probe_rows, probe_finish, probe_error, NULL, &every3 };
  nm_kept *k = nm_kept_new(2);
  nm_sink ks = nm_kept_sink(k);
  CHECK(nm_recorder_add(rec, &a, 0, 1, 0) == NM_OK && nm_recorder_add(rec, &b, 1, 3, 1) == NM_OK &&
        nm_recorder_add(rec, &ks, 2, 3, 1) == NM_OK, "sinks are added");
  CHECK(nm_recorder_add(rec, &b, 1, 0, 0) == NM_EINVAL && strstr(nm_recorder_error(rec), "at least 1"),
        "a decimation of 0 is refused with its reason");
  double *t1 = table(4, 1), *t2 = table(5, 5);
  int rc = nm_recorder_rows(rec, t1, 4, 3);
  rc |= nm_recorder_rows(rec, t2, 5, 3);
  CHECK(rc == NM_OK && all.rows == 9 && all.cols == 3, "a sink without decimation gets every row "
        "and column (%zu rows of %zu)", all.rows, all.cols);
  /* phase 1: rows 2, 5, 8 of 9 (t = 2, 5, 8) */
  CHECK(every3.rows == 3 && every3.cols == 1 && every3.last_t == 8, "every third row, on one grid "
        "across calls, and its leading column only (%zu rows, %zu columns, last t %g)",
        every3.rows, every3.cols, every3.last_t);
  size_t rows, cols;
  const double *kept = nm_kept_rows(k, &rows, &cols);
  CHECK(rows == 3 && cols == 2 && kept[0] == 2 && kept[1] == 20 && kept[4] == 8 && kept[5] == 80,
        "the kept result holds the rows and columns it was given");
  CHECK(nm_recorder_finish(rec, NM_CSV_COMMIT) == NM_OK && all.finished_how == NM_CSV_COMMIT &&
        every3.finished_how == NM_CSV_COMMIT, "finishing reaches every sink with how it ended");
  CHECK(nm_recorder_failed(rec) == NULL, "no sink failed");
  nm_recorder_free(rec);
  CHECK(all.freed && !every3.freed, "the recorder frees only the sinks that have a free");
  nm_kept_free(k);
  free(t1);
  free(t2);
}


static void test_failure(void)
{
  nm_recorder *rec = nm_recorder_new();
  probe first = { .fail_after = 2 }, second = { 0 };
  nm_sink a = { probe_rows, NULL, probe_error, NULL, &first };
  nm_sink b = { probe_rows, NULL, NULL, NULL, &second };
  nm_recorder_add(rec, &a, 0, 1, 0);
  nm_recorder_add(rec, &b, 0, 1, 0);
  double *t = table(4, 1);
  int rc = nm_recorder_rows(rec, t, 4, 3);
  CHECK(rc == NM_ESTEP && nm_recorder_failed(rec) == &first,
        "a failing sink fails the fan-out with its status (%d)", rc);
  CHECK(second.rows == 4, "the other sinks still get the chunk (%zu rows): their rows up to the "
        "failure are kept", second.rows);
  rc = nm_recorder_rows(rec, t, 4, 3);
  CHECK(rc == NM_ESTEP && first.rows == 2 && second.rows == 8 && nm_recorder_failed(rec) == &first,
        "a sink that failed is not fed again; its failure, the first, is returned again");
  CHECK(strcmp(nm_recorder_error(rec), "the probe gave up") == 0, "and gives its reason ('%s')",
        nm_recorder_error(rec));
  nm_recorder_free(rec);
  free(t);
}


/* A kept result asked to grow past what a size_t counts (the rows it has
** and the ones given wrap, or their bytes do) refuses, naming the kept
** result, and keeps its rows; nothing is read from the rows given.  (An
** alarm ends the test if the doubling loops.) */
static void test_kept_overflow(void)
{
  nm_kept *k = nm_kept_new(2);
  nm_sink ks = nm_kept_sink(k);
  double three[] = { 1, 10, 2, 20, 3, 30 };
  CHECK(ks.rows(ks.ud, three, 3, 2) == NM_OK, "three rows are kept");
  alarm(20);
  int wrap = ks.rows(ks.ud, three, SIZE_MAX - 1, 2);
  const char *why = ks.error(ks.ud);
  CHECK(wrap == NM_ENOMEM && strstr(why, "result kept in memory") && strstr(why, "more bytes than can be counted"),
        "3 + SIZE_MAX - 1 rows are refused (%d, '%s')", wrap, why);
  int big = ks.rows(ks.ud, three, SIZE_MAX / 2 + 2, 2);
  alarm(0);
  CHECK(big == NM_ENOMEM, "SIZE_MAX/2 + 2 rows, past a doubling that would wrap, are refused (%d, '%s')",
        big, ks.error(ks.ud));
  size_t rows, cols;
  const double *kept = nm_kept_rows(k, &rows, &cols);
  CHECK(rows == 3 && cols == 2 && kept[0] == 1 && kept[5] == 30, "the three rows stay (%zu rows)", rows);
  nm_kept_free(k);
}


/* A sink added from a column takes the time and the columns from that one
** (a CSV whose columns are not the kept result's), decimated on its grid;
** a first column of 0 is refused. */
static void test_from_column(void)
{
  nm_recorder *rec = nm_recorder_new();
  nm_kept *k = nm_kept_new(2);
  nm_sink ks = nm_kept_sink(k);
  probe p = { 0 };
  nm_sink b = { probe_rows, NULL, NULL, NULL, &p };
  CHECK(nm_recorder_add_from(rec, &ks, 2, 2, 2, 0) == NM_OK, "a sink from column 2 is added");
  CHECK(nm_recorder_add_from(rec, &b, 0, 2, 1, 0) == NM_EINVAL && strstr(nm_recorder_error(rec), "1 or more"),
        "a first column of 0 is refused with its reason ('%s')", nm_recorder_error(rec));
  double *t = table(4, 1);
  CHECK(nm_recorder_rows(rec, t, 4, 3) == NM_OK, "the rows are fanned out");
  size_t rows, cols;
  const double *kept = nm_kept_rows(k, &rows, &cols);
  CHECK(rows == 2 && cols == 2 && kept[0] == 2 && kept[1] == 200 && kept[2] == 4 && kept[3] == 400,
        "the time and column 2 of every second row (%zu rows of %zu: %g, %g)", rows, cols, kept[0], kept[1]);
  free(t);
  nm_recorder_free(rec);
  nm_kept_free(k);
}


int main(void)
{
  test_fan_out();
  test_from_column();
  test_failure();
  test_kept_overflow();
  return test_summary();
}
