/*
** test_csv.c: the CSV writer: the header and rows read back exactly, the file
** appears under its final name only on commit, an uncommitted file leaves
** nothing behind, and an unwritable path fails with NM_EIO and its reason.
** A writer that stops early keeps its complete rows as <stem>.partial.<ext>,
** also when the disk fills up (a file-size limit in a child process).  A held
** file waits complete under its temporary name until it is settled.  Any
** NaN is spelt "nan".
*/
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/nm.h"
#include "test_main.h"

static char dir[64];


static int exists(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0;
}


/* Entries of the test directory other than . and .. */
static int entries(void)
{
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
  closedir(d);
  return n;
}


/* The whole file as a string (malloc'd), or NULL. */
static char *slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *text = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (text) text[fread(text, 1, (size_t)n, f)] = '\0';
  fclose(f);
  return text;
}


/* Equal with the same sign (so -0 stays -0), or both NaN. */
static int same_bits(double x, double y)
{
  if (isnan(x)) return isnan(y);
  return x == y && signbit(x) == signbit(y);
}


static void test_roundtrip(void)
{
  enum { ROWS = 6, COLS = 4 };
  char path[128];
  snprintf(path, sizeof path, "%s/out.csv", dir);
  static const char *const header[COLS] = { "t", "x.0", "x.1", "r_e.79" };
  /* Times of 12 significant digits or fewer; every other column is arbitrary. */
  double rows[ROWS][COLS] = {
    { 0.1, 1.0 / 3.0, -2.385e-300, 1.7976931348623157e308 },
    { 0.2, 4.9406564584124654e-324, -0.0, 3.141592653589793 },
    { 12.375, 0.1 + 0.2, NAN, INFINITY },
    { 1000.5, -INFINITY, 2.2250738585072014e-308, 6.02214076e23 },
    { 2385.125, 0.7183, -1.0 / 7.0, 1e-5 },
    { 1e6, 9007199254740993.0, 123456789.123456789, -0.0001 },
  };
  nm_error err;
  err.status = -99;
  nm_csv *w = nm_csv_open(path, header, COLS, &err);
  if (!CHECK(w != NULL && err.status == NM_OK, "open %s (status %d)", path, err.status)) return;
  CHECK(!exists(path) && entries() == 1, "while open, nothing exists under the final name; "
        "one temporary file does (%d entries)", entries());
  int rc1 = nm_csv_write_rows(w, &rows[0][0], 2, COLS);
  int rc2 = nm_csv_write_rows(w, &rows[2][0], ROWS - 2, COLS);
  CHECK(rc1 == NM_OK && rc2 == NM_OK, "rows are written in two calls");
  CHECK(nm_csv_write_rows(w, &rows[0][0], 1, COLS - 1) == NM_EINVAL,
        "rows of the wrong width are refused with NM_EINVAL");
  CHECK(!exists(path), "after writing, still nothing under the final name");
  CHECK(nm_csv_close(w, 1) == NM_OK, "commit succeeds");
  CHECK(exists(path) && entries() == 1, "after commit the file exists and no temporary remains "
        "(%d entries)", entries());

  char *text = slurp(path);
  if (!CHECK(text != NULL, "read the file back")) return;
  const char *want_header = "t,x.0,x.1,r_e.79\n";
  CHECK(strncmp(text, want_header, strlen(want_header)) == 0, "the header line is %s",
        "t,x.0,x.1,r_e.79");
  char *p = text + strlen(want_header);
  int ok_values = 1, ok_times = 1, ok_shape = 1;
  size_t r = 0;
  for (; *p && r < ROWS; r++) {
    for (size_t c = 0; c < COLS; c++) {
      char *end;
      double v = strtod(p, &end);
      char sep = c + 1 < COLS ? ',' : '\n';
      if (end == p || *end != sep) { ok_shape = 0; break; }
      if (c == 0) ok_times = ok_times && v == rows[r][0];
      else ok_values = ok_values && same_bits(v, rows[r][c]);
      p = end + 1;
    }
    if (!ok_shape) break;
  }
  CHECK(ok_shape && r == ROWS && *p == '\0', "the file holds %d rows of %d comma-separated "
        "numbers and nothing else", ROWS, COLS);
  CHECK(ok_values, "every value reads back exactly with strtod (%%.17g), -0, NaN and infinities "
        "included");
  CHECK(ok_times, "times of up to 12 significant digits read back exactly");
  free(text);

  /* A second commit to the same name replaces the file whole. */
  w = nm_csv_open(path, header, COLS, NULL);
  if (w) {
    nm_csv_write_rows(w, &rows[4][0], 1, COLS);
    CHECK(nm_csv_close(w, 1) == NM_OK, "a second commit succeeds");
  }
  text = slurp(path);
  int lines = 0;
  for (char *q = text; q && *q; q++) lines += *q == '\n';
  CHECK(lines == 2 && entries() == 1, "it replaced the first file (%d lines)", lines);
  free(text);
  remove(path);
}


/* The text of a file of one row of n columns written and committed (malloc'd),
** or NULL; the file is removed. */
static char *one_row(const char *name, const char *const *header, size_t n, const double *row)
{
  char path[128];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  nm_csv *w = nm_csv_open(path, header, n, NULL);
  if (!CHECK(w != NULL, "open %s", path)) return NULL;
  nm_csv_write_rows(w, row, 1, n);
  nm_csv_close(w, 1);
  char *text = slurp(path);
  remove(path);
  return text;
}


/* The time column is printed to 12 significant digits, no more. */
static void test_time_precision(void)
{
  static const char *const header[] = { "t", "x" };
  double row[2] = { 0.1 * 3, 0.1 * 3 };    /* 0.30000000000000004 */
  char *text = one_row("t.csv", header, 2, row);
  CHECK(text && strcmp(text, "t,x\n0.3,0.30000000000000004\n") == 0,
        "0.1 * 3 is written as time 0.3 and as value 0.30000000000000004");
  free(text);
}


static void test_no_commit(void)
{
  char path[128];
  snprintf(path, sizeof path, "%s/dropped.csv", dir);
  static const char *const header[] = { "t", "x.0" };
  double row[2] = { 0.5, 2.385 };
  nm_csv *w = nm_csv_open(path, header, 2, NULL);
  if (!CHECK(w != NULL, "open %s", path)) return;
  nm_csv_write_rows(w, row, 1, 2);
  CHECK(nm_csv_close(w, 0) == NM_OK, "closing without commit succeeds");
  CHECK(!exists(path) && entries() == 0, "closing without commit leaves neither the file nor a "
        "temporary (%d entries)", entries());
  CHECK(nm_csv_close(NULL, 1) == NM_OK, "closing no writer is harmless");
}


static void test_missing_directory(void)
{
  char path[128];
  snprintf(path, sizeof path, "%s/no/such/dir/out.csv", dir);
  static const char *const header[] = { "t" };
  nm_error err;
  nm_csv *w = nm_csv_open(path, header, 1, &err);
  CHECK(w == NULL && err.status == NM_EIO, "opening in a missing directory fails with NM_EIO "
        "(status %d)", err.status);
  CHECK(strcmp(err.why, strerror(ENOENT)) == 0, "and says why: '%s'", err.why);
  nm_csv_close(w, 0);
  CHECK(entries() == 0, "and creates nothing");
}


/* The one temp-then-rename writer (atomic_file.c) used whole, as the audio's
** sidecar is: nothing under the final name until commit, nothing left at all
** when writing fails or the file is discarded. */
static void test_outfile_whole(void)
{
  char path[128], missing[128];
  snprintf(path, sizeof path, "%s/side.json", dir);
  snprintf(missing, sizeof missing, "%s/no/such/dir/side.json", dir);
  nm_outfile o;
  if (!CHECK(nm_outfile_init(&o, path) == NM_OK, "an output file's names")) return;
  CHECK(nm_outfile_write_all(&o, "{}\n", 3) == 0 && exists(o.tmp) && !exists(path),
        "written whole, it is under its temporary name only");
  CHECK(nm_outfile_commit(&o, NULL) == 0 && exists(path) && !exists(o.tmp) && entries() == 1,
        "commit renames it into place");
  remove(path);
  CHECK(nm_outfile_write_all(&o, "{}\n", 3) == 0, "written again");
  nm_outfile_discard(&o);
  CHECK(entries() == 0, "discarded, nothing is left (%d entries)", entries());
  nm_outfile_free(&o);
  if (!CHECK(nm_outfile_init(&o, missing) == NM_OK, "the names of a file in a missing directory"))
    return;
  int e = nm_outfile_write_all(&o, "{}\n", 3);
  CHECK(e == ENOENT && !exists(missing) && entries() == 0,
        "a failed write reports its errno (%d) and leaves no file, final or temporary", e);
  nm_outfile_free(&o);
}


static const char *const xy_header[] = { "t", "x" };


/* Writes rows t = 1..n, x = 0.5 t, in calls of `per_call` rows. */
static int write_xy(nm_csv *w, int n, int per_call)
{
  int rc = NM_OK;
  for (int i = 0; i < n && rc == NM_OK; i += per_call) {
    double rows[64][2];
    int k = 0;
    for (; k < per_call && i + k < n; k++) { rows[k][0] = i + k + 1; rows[k][1] = 0.5 * (i + k + 1); }
    rc = nm_csv_write_rows(w, &rows[0][0], (size_t)k, 2);
  }
  return rc;
}


/* Rows of a t,x file whose every line is complete and right; -1 if any is not. */
static int complete_rows(const char *path)
{
  char *text = slurp(path);
  if (!text || strncmp(text, "t,x\n", 4) != 0) { free(text); return -1; }
  int n = 0;
  char *p = text + 4;
  while (*p) {
    char *nl = strchr(p, '\n');
    double t, x;
    if (!nl || sscanf(p, "%lf,%lf", &t, &x) != 2 || t != n + 1 || x != 0.5 * (n + 1)) {
      n = -1;
      break;
    }
    n++;
    p = nl + 1;
  }
  free(text);
  return n;
}


static void test_partial(void)
{
  char path[128], partial[128];
  snprintf(path, sizeof path, "%s/fhn.csv", dir);
  snprintf(partial, sizeof partial, "%s/fhn.partial.csv", dir);
  nm_csv *w = nm_csv_open(path, xy_header, 2, NULL);
  if (!CHECK(w != NULL, "open %s", path)) return;
  write_xy(w, 10, 4);
  CHECK(nm_csv_finish(w, NM_CSV_PARTIAL) == NM_OK, "keeping a partial file succeeds");
  CHECK(nm_csv_kept(w) && strcmp(nm_csv_kept(w), partial) == 0,
        "the rows are kept as fhn.partial.csv (%s)", nm_csv_kept(w) ? nm_csv_kept(w) : "none");
  nm_csv_free(w);
  CHECK(!exists(path) && complete_rows(partial) == 10 && entries() == 1,
        "nothing under the final name, the partial file holds the 10 rows, no temporary remains");
  remove(partial);

  w = nm_csv_open(path, xy_header, 2, NULL);
  if (!w) return;
  CHECK(nm_csv_finish(w, NM_CSV_PARTIAL) == NM_OK && nm_csv_kept(w) == NULL && entries() == 0,
        "a partial writer without rows keeps nothing");
  nm_csv_free(w);

  char noext[128];
  snprintf(noext, sizeof noext, "%s/data", dir);
  w = nm_csv_open(noext, xy_header, 2, NULL);
  if (!w) return;
  write_xy(w, 1, 1);
  nm_csv_finish(w, NM_CSV_PARTIAL);
  snprintf(partial, sizeof partial, "%s/data.partial", dir);
  CHECK(nm_csv_kept(w) && strcmp(nm_csv_kept(w), partial) == 0,
        "a name without extension gets '.partial' appended");
  nm_csv_free(w);
  remove(partial);
}


/* A held file stays under its temporary name (nothing under the final or the
** partial name) until it is committed, kept as partial, or discarded. */
static void test_hold(void)
{
  char path[128], tmp[256], partial[128], host[65] = "";
  snprintf(path, sizeof path, "%s/held.csv", dir);
  gethostname(host, sizeof host - 1);
  /* (the machine's name after the process id: array tasks of several machines share a folder) */
  snprintf(tmp, sizeof tmp, "%s.tmp-%ld.%s", path, (long)getpid(), host);
  snprintf(partial, sizeof partial, "%s/held.partial.csv", dir);
  static const int settle[] = { NM_CSV_COMMIT, NM_CSV_PARTIAL, NM_CSV_DISCARD, -1 };
  static const char *const how[] = { "committed", "kept as partial", "discarded", "freed" };
  for (int k = 0; k < 4; k++) {
    nm_csv *w = nm_csv_open(path, xy_header, 2, NULL);
    if (!CHECK(w != NULL, "open %s", path)) return;
    write_xy(w, 5, 3);
    CHECK(nm_csv_finish(w, NM_CSV_HOLD) == NM_OK && nm_csv_kept(w) == NULL, "holding succeeds");
    CHECK(exists(tmp) && !exists(path) && !exists(partial) && complete_rows(tmp) == 5,
          "a held file (then %s) is complete under its temporary name only", how[k]);
    double row[2] = { 9, 9 };
    CHECK(nm_csv_write_rows(w, row, 1, 2) == NM_EINVAL, "a held writer takes no more rows");
    CHECK(nm_csv_finish(w, NM_CSV_HOLD) == NM_OK && exists(tmp), "holding twice changes nothing");
    if (settle[k] >= 0) CHECK(nm_csv_finish(w, settle[k]) == NM_OK, "settling a held file succeeds");
    nm_csv_free(w);
    const char *at = k == 0 ? path : k == 1 ? partial : NULL;
    CHECK(!exists(tmp) && (at ? complete_rows(at) == 5 && entries() == 1 : entries() == 0),
          "a held file %s is where it should be, with its 5 rows, and no temporary remains", how[k]);
    if (at) remove(at);
  }
}


/*
** A disk that fills up: a child limits its file size (RLIMIT_FSIZE, SIGXFSZ
** ignored, so write() fails with EFBIG) and writes until the writer fails;
** the commit then keeps the complete rows as the partial file.  The child
** reports through its exit status: 0 all right, else the failed step.
*/
static void test_write_error(void)
{
  char path[128], partial[128];
  snprintf(path, sizeof path, "%s/full.csv", dir);
  snprintf(partial, sizeof partial, "%s/full.partial.csv", dir);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = { 5000, 5000 };
    if (setrlimit(RLIMIT_FSIZE, &lim) != 0) _exit(10);
    nm_csv *w = nm_csv_open(path, xy_header, 2, NULL);
    if (!w) _exit(11);
    if (write_xy(w, 100000, 7) != NM_EIO) _exit(12);
    if (!strstr(nm_csv_error(w), strerror(EFBIG))) _exit(13);
    if (nm_csv_finish(w, NM_CSV_COMMIT) != NM_EIO) _exit(14);
    if (!nm_csv_kept(w) || strcmp(nm_csv_kept(w), partial) != 0) _exit(15);
    nm_csv_free(w);
    /* held: the hold fails, and settling it as partial keeps the whole rows */
    char held[128], held_partial[128];
    snprintf(held, sizeof held, "%s/held.csv", dir);
    snprintf(held_partial, sizeof held_partial, "%s/held.partial.csv", dir);
    w = nm_csv_open(held, xy_header, 2, NULL);
    if (!w) _exit(16);
    write_xy(w, 100000, 7);
    if (nm_csv_finish(w, NM_CSV_HOLD) != NM_EIO || nm_csv_kept(w)) _exit(17);
    nm_csv_finish(w, NM_CSV_PARTIAL);
    if (!nm_csv_kept(w) || strcmp(nm_csv_kept(w), held_partial) != 0) _exit(18);
    nm_csv_free(w);
    if (complete_rows(held_partial) <= 0 || remove(held_partial) != 0 || exists(held)) _exit(19);
    _exit(0);
  }
  int st = -1;
  waitpid(pid, &st, 0);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a write error (file too large) fails with its "
        "reason and the commit (or a hold, then partial) keeps a partial file (child status %d)", WEXITSTATUS(st));
  int n = complete_rows(partial);
  CHECK(!exists(path) && n > 0 && entries() == 1, "nothing under the final name; %s holds "
        "only complete rows (%d) and no temporary remains (%d entries)", partial, n, entries());
  remove(partial);
}


/* Any NaN is written "nan", whatever its sign bit (0.0 / 0.0 sets it on x86,
** which %g prints as "-nan"), in the time column too; the infinities keep theirs. */
static void test_nan_spelling(void)
{
  static const char *const header[] = { "t", "a", "b", "c" };
  volatile double zero = 0.0;
  double row[4] = { -NAN, zero / zero, copysign(NAN, -1.0), -INFINITY };
  CHECK(signbit(row[1]) || signbit(row[2]), "the test holds a NaN with its sign bit set");
  char *text = one_row("nan.csv", header, 4, row);
  CHECK(text && strcmp(text, "t,a,b,c\nnan,nan,nan,-inf\n") == 0,
        "negative NaNs are written nan (got %s)", text ? text : "(nothing)");
  free(text);
}


/* The permission bits of a file (stat's, 0777), or -1. */
static int mode_of(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}


/* A file replaced (commit, keep_partial, reclaim) keeps its permission bits;
** a new one has 0666 less the umask (tests/spec/output_mode_spec.lua: every
** writer of the library). */
static void test_outfile_mode(void)
{
  char path[128];
  snprintf(path, sizeof path, "%s/mode.csv", dir);
  mode_t was = umask(022);
  nm_outfile o;
  if (!CHECK(nm_outfile_init(&o, path) == NM_OK, "an output file's names")) return;
  int ok = nm_outfile_write_all(&o, "a\n", 2) == 0 && nm_outfile_commit(&o, NULL) == 0;
  CHECK(ok && mode_of(path) == 0644, "a new file has 0666 less the umask (%o)", mode_of(path));
  chmod(path, 0600);
  CHECK(nm_outfile_write_all(&o, "b\n", 2) == 0 && nm_outfile_commit(&o, NULL) == 0 && mode_of(path) == 0600,
        "a replaced file keeps its bits (%o)", mode_of(path));
  ok = nm_outfile_write_all(&o, "c\n", 2) == 0 && nm_outfile_keep_partial(&o, 2) == 0;
  CHECK(ok && mode_of(o.partial) == 0644, "a new partial file has 0666 less the umask (%o)", mode_of(o.partial));
  chmod(o.partial, 0640);
  CHECK(nm_outfile_write_all(&o, "d\n", 2) == 0 && nm_outfile_keep_partial(&o, 2) == 0 &&
        mode_of(o.partial) == 0640, "a partial file replaced keeps its bits (%o)", mode_of(o.partial));
  remove(o.partial);
  chmod(path, 0604);
  CHECK(nm_outfile_reclaim(&o, "b\n", 2, "e\n", 2) == 0 && mode_of(path) == 0604,
        "a file reclaimed keeps its bits (%o)", mode_of(path));
  remove(path);
  umask(was);
  CHECK(entries() == 0, "nothing else is left (%d entries)", entries());
  nm_outfile_free(&o);
}


int main(void)
{
  snprintf(dir, sizeof dir, "%s", "/tmp/nm-test-csv-XXXXXX");
  if (!mkdtemp(dir)) {
    printf("FAIL cannot create a temporary directory: %s\n", strerror(errno));
    return 1;
  }
  test_roundtrip();
  test_time_precision();
  test_nan_spelling();
  test_no_commit();
  test_missing_directory();
  test_outfile_whole();
  test_outfile_mode();
  test_partial();
  test_hold();
  test_write_error();
  if (rmdir(dir) != 0) CHECK(0, "the test directory is left empty (%s)", strerror(errno));
  return test_summary();
}
