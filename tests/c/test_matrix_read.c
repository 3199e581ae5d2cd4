/*
** test_matrix_read.c: nm_matrix_read, the reader of numeric CSV matrices
** (nm.datasets): values read as Lua's tonumber reads them (strtod; whole
** numbers flagged as integers), blank lines skipped but counted, CRLF and spaces around cells
** allowed, cells separated by spaces or tabs when the first row has no comma; a missing file fails with NM_EIO naming it; a bad number or a row
** of another width with NM_EINVAL naming the file, line and column.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/nm.h"
#include "test_main.h"

static char dir[64];

/* Writes text to dir/name; returns the path (static). */
static const char *write_file(const char *name, const char *text)
{
  static char path[128];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
  return path;
}

static void test_values(void)
{
  const char *path = write_file("ok.csv", "0,0.1,-2.5e-3\r\n\n  \n 7 ,1e300, -0\n0x10,3.0,12345678901234567\n");
  nm_matrix m;
  nm_error err;
  nm_error_clear(&err);
  int st = nm_matrix_read(path, &m, &err);
  CHECK(st == NM_OK && m.rows == 3 && m.cols == 3, "a 3 x 3 matrix is read (status %d, %zu x %zu: %s)",
        st, m.rows, m.cols, err.why);
  if (st != NM_OK) return;
  CHECK(m.v[0] == 0 && m.is_int[0] && m.v[1] == strtod("0.1", NULL) && !m.is_int[1] &&
        m.v[2] == strtod("-2.5e-3", NULL), "row 1: 0 (an integer), 0.1 and -2.5e-3 as strtod reads them");
  CHECK(m.v[3] == 7 && m.is_int[3] && m.v[4] == 1e300 && m.v[5] == 0 && m.is_int[5],
        "row 2 (after two blank lines): spaces around cells allowed, 7 and -0 integers");
  CHECK(m.v[6] == 16 && m.is_int[6] && m.v[7] == 3 && !m.is_int[7] &&
        m.v[8] == 12345678901234567.0 && !m.is_int[8],
        "row 3: hexadecimal 0x10 an integer, 3.0 a float; an integer beyond 2^53 is read as a float");
  CHECK(m.line[0] == 1 && m.line[1] == 4 && m.line[2] == 5, "each row's line: 1, 4, 5 (blank lines counted)");
  nm_matrix_free(&m);
  CHECK(m.v == NULL && m.line == NULL && m.rows == 0, "nm_matrix_free empties the matrix");
  nm_matrix_free(NULL);
}

/* TVB's weights.txt and np.savetxt's default: cells separated by runs of spaces or tabs. */
static void test_spaced(void)
{
  const char *path = write_file("weights.txt", " 0  0.5\t2\r\n\n1e-3 3 -0 \n");
  nm_matrix m;
  nm_error err;
  nm_error_clear(&err);
  int st = nm_matrix_read(path, &m, &err);
  CHECK(st == NM_OK && m.rows == 2 && m.cols == 3, "a space-separated 2 x 3 matrix is read (status %d, %zu x %zu: %s)",
        st, m.rows, m.cols, err.why);
  if (st != NM_OK) return;
  CHECK(m.v[0] == 0 && m.is_int[0] && m.v[1] == 0.5 && m.v[2] == 2 && m.v[3] == strtod("1e-3", NULL) &&
        m.v[4] == 3 && m.v[5] == 0 && m.is_int[5], "its values, as in a CSV file");
  nm_matrix_free(&m);
  const char *mixed = write_file("mixed.txt", "1 2\n3,4\n");
  nm_error_clear(&err);
  st = nm_matrix_read(mixed, &m, &err);
  char want[200];
  snprintf(want, sizeof want, "%s:2: column 1: bad number '3,4'", mixed);
  CHECK(st == NM_EINVAL && strcmp(err.why, want) == 0, "a comma in a space-separated file is a bad number (%s)",
        err.why);
}

static void test_errors(void)
{
  nm_matrix m;
  nm_error err;
  char path[128];
  snprintf(path, sizeof path, "%s/missing.csv", dir);
  nm_error_clear(&err);
  int st = nm_matrix_read(path, &m, &err);
  CHECK(st == NM_EIO && strstr(err.why, path) && strstr(err.why, strerror(ENOENT)) && m.v == NULL,
        "a missing file: NM_EIO naming the file and the system's reason (%s)", err.why);

  const char *bad = write_file("bad.csv", "1,2,3\n\n4,x5,6\n");
  nm_error_clear(&err);
  st = nm_matrix_read(bad, &m, &err);
  char want[400];
  snprintf(want, sizeof want, "%s:3: column 2: bad number 'x5'", bad);
  CHECK(st == NM_EINVAL && strcmp(err.why, want) == 0 && m.v == NULL,
        "a bad number: NM_EINVAL, \"FILE:LINE: column C: bad number 'x'\" (%s)", err.why);

  const char *cases[][2] = {
    { "1,nan\n", "1: column 2: bad number 'nan'" },
    { "inf,1\n", "1: column 1: bad number 'inf'" },
    { "1,,2\n", "1: column 2: bad number ''" },
    { "1,2,\n", "1: column 3: bad number '' (the line ends with ',': remove it)" },
    { "1,2\r\n3,x\r\n", "2: column 2: bad number 'x'" },
    { "1e999\n", "1: column 1: bad number '1e999'" },
    { "1,2\n3\n", "2: 1 values, the first row has 2" },
    { "\"a\",\"b\"\n1,2\n", "1: column 1: bad number '\"a\"' (the file holds numbers only: a header line, "
                              "such as pandas' to_csv writes, must go or start with #)" },
    /* a label on every row (TVB's centres.txt; a comment or blank line between) */
    { "Precentral_L 71.3 133.9\n\n# c\nPrecentral_R 1 2\n", "1: column 1: bad number 'Precentral_L' (every "
      "row starts with a name: a label column, as TVB's centres.txt, is not a matrix; read such a file with "
      "io.lines)" },
    { "a,1\nb,2\n", "1: column 1: bad number 'a' (every row starts with a name: a label column, as TVB's "
      "centres.txt, is not a matrix; read such a file with io.lines)" },
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    const char *p = write_file("case.csv", cases[k][0]);
    nm_error_clear(&err);
    st = nm_matrix_read(p, &m, &err);
    snprintf(want, sizeof want, "%s:%s", p, cases[k][1]);
    CHECK(st == NM_EINVAL && strcmp(err.why, want) == 0, "refused: %s (%s)", cases[k][1], err.why);
  }
  CHECK(nm_matrix_read(write_file("empty.csv", "\n\n"), &m, NULL) == NM_OK && m.rows == 0,
        "a file of blank lines is an empty matrix (err may be NULL)");
  nm_matrix_free(&m);
}

int main(void)
{
  snprintf(dir, sizeof dir, "%s", "/tmp/nm-test-matrix-XXXXXX");
  if (!mkdtemp(dir)) {
    printf("FAIL cannot create a temporary directory: %s\n", strerror(errno));
    return 1;
  }
  test_values();
  test_spaced();
  test_errors();
  const char *names[] = { "ok.csv", "weights.txt", "mixed.txt", "bad.csv", "case.csv", "empty.csv" };
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
    char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, names[k]);
    remove(p);
  }
  if (rmdir(dir) != 0) CHECK(0, "the test directory is left empty (%s)", strerror(errno));
  return test_summary();
}
