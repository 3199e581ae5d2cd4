/*
** csvread.c: reads the CSV files nm_csv writes (a header of names, then rows
** of numbers separated by commas) a chunk of rows at a time, so that a file
** of any length can be sonified without loading it; also such a file saved
** by a spreadsheet or edited by hand (a UTF-8 byte-order mark, CRLF, spaces
** and tabs around names and numbers, lines of spaces).  Line numbers are the
** file's own (the header is line 1); every refusal names the line and the
** text or values at fault (nm_csv_reader_error).
*/
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvread.h"
#include "engine.h"

struct nm_csv_reader {
  FILE *f;
  char *line;
  size_t cap;
  char **names;
  size_t n_cols;
  long lineno, data_start;
  double grid;                  /* > 0: column 0 must step by this much (see nm_csv_reader_grid) */
  double last_t;
  long rows_read;               /* data rows since the start (or the rewind) */
  long *row_line;               /* the line of each row of the last chunk */
  size_t row_line_cap;
  char err[256];
};


/* A space, a tab or a line end's character (around names and numbers, a hand-edited file's). */
static int is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


/* Reads one line into r->line (without the newline); 0 at the end of the file. */
static int read_line(nm_csv_reader *r)
{
  size_t len = 0;
  for (;;) {
    if (r->cap - len < 2) {
      size_t cap = nm_grow_cap(r->cap, 4096, r->cap, 1, 1);
      char *p = cap ? realloc(r->line, cap) : NULL;
      if (!p) return -1;
      r->line = p;
      r->cap = cap;
    }
    if (!fgets(r->line + len, (int)(r->cap - len < (size_t)1 << 30 ? r->cap - len : (size_t)1 << 30),
               r->f)) {
      if (len == 0) return 0;
      break;
    }
    len += strlen(r->line + len);
    if (len > 0 && r->line[len - 1] == '\n') break;
  }
  /* the line end, and spaces and tabs before it: a line of spaces is blank */
  while (len > 0 && is_space(r->line[len - 1])) r->line[--len] = '\0';
  r->lineno++;
  return 1;
}


nm_csv_reader *nm_csv_reader_open(const char *path, nm_error *err)
{
  nm_error_clear(err);
  nm_csv_reader *r = calloc(1, sizeof *r);
  if (!r) goto nomem;
  r->f = fopen(path, "r");
  if (!r->f) {
    nm_fail(err, NM_EIO, "cannot read '%s': %s", path, strerror(errno));
    free(r);
    return NULL;
  }
  int got = read_line(r);
  if (got <= 0) {
    int failed = got == 0 && ferror(r->f), why = errno;   /* (a folder opens, and is not read) */
    nm_csv_reader_close(r);
    if (got < 0) goto nomem;
    if (failed) nm_fail(err, NM_EIO, "cannot read '%s': %s", path, strerror(why));
    else nm_fail(err, NM_EINVAL, "cannot read '%s': no header line", path);
    return NULL;
  }
  size_t n = 1;
  for (const char *p = r->line; *p; p++) n += *p == ',';
  r->names = calloc(n, sizeof *r->names);
  if (!r->names) { nm_csv_reader_close(r); goto nomem; }
  char *save = r->line;
  if (strncmp(save, "\xEF\xBB\xBF", 3) == 0) save += 3;   /* a UTF-8 byte-order mark (a spreadsheet's) */
  for (size_t c = 0; c < n; c++) {
    char *comma = strchr(save, ',');
    if (comma) *comma = '\0';
    size_t len = strlen(save);
    char *next = comma ? comma + 1 : save + len;
    while (len > 0 && is_space(save[len - 1])) len--;          /* spaces around a name */
    while (len > 0 && is_space(*save)) { save++; len--; }
    r->names[c] = malloc(len + 1);
    if (!r->names[c]) { r->n_cols = c; nm_csv_reader_close(r); goto nomem; }
    memcpy(r->names[c], save, len);
    r->names[c][len] = '\0';
    save = next;
  }
  r->n_cols = n;
  r->data_start = ftell(r->f);
  return r;

nomem:
  nm_fail(err, NM_ENOMEM, "cannot read '%s': %s", path, nm_strerror(NM_ENOMEM));
  return NULL;
}


size_t nm_csv_reader_columns(const nm_csv_reader *r)
{
  return r->n_cols;
}


const char *nm_csv_reader_name(const nm_csv_reader *r, size_t c)
{
  return c < r->n_cols ? r->names[c] : NULL;
}


long nm_csv_reader_line(const nm_csv_reader *r)
{
  return r->lineno;
}


long nm_csv_reader_row_line(const nm_csv_reader *r, size_t i)
{
  return i < r->row_line_cap ? r->row_line[i] : 0;
}


const char *nm_csv_reader_error(const nm_csv_reader *r)
{
  return r->err;
}


void nm_csv_reader_grid(nm_csv_reader *r, double interval)
{
  r->grid = interval > 0 && isfinite(interval) ? interval : 0;
}


/* Column 0 of a row against the grid: finite, and one interval after the
** previous row's (see nm_csv_reader_grid for the tolerance). */
static int check_time(nm_csv_reader *r, double t)
{
  if (!isfinite(t)) {
    snprintf(r->err, sizeof r->err, "line %ld: the time %s is %g (must be a finite number)",
             r->lineno, r->names[0], t);
    return NM_EINVAL;
  }
  if (r->grid > 0 && r->rows_read > 0) {
    double step = t - r->last_t;
    double tol = 1e-6 * r->grid + 4e-11 * fmax(fabs(t), fabs(r->last_t));
    if (!(fabs(step - r->grid) <= tol)) {
      snprintf(r->err, sizeof r->err,
               "line %ld: %s = %.12g follows %.12g (a step of %.12g); the rows must be evenly "
               "spaced by %.12g (to within a millionth of it)%s",
               r->lineno, r->names[0], t, r->last_t, step, r->grid,
               step <= 0 ? ": time goes back or repeats" : "");
      return NM_EINVAL;
    }
  }
  r->last_t = t;
  r->rows_read++;
  return NM_OK;
}


int nm_csv_reader_rows(nm_csv_reader *r, double *rows, size_t max_rows, size_t *n_rows)
{
  *n_rows = 0;
  r->err[0] = '\0';
  if (r->row_line_cap < max_rows) {
    long *p = max_rows <= SIZE_MAX / sizeof *p ? realloc(r->row_line, max_rows * sizeof *p) : NULL;
    if (!p) {
      snprintf(r->err, sizeof r->err, "out of memory for the line numbers of %zu rows", max_rows);
      return NM_ENOMEM;
    }
    r->row_line = p;
    r->row_line_cap = max_rows;
  }
  while (*n_rows < max_rows) {
    int got = read_line(r);
    if (got < 0) {
      snprintf(r->err, sizeof r->err, "line %ld: out of memory reading a line", r->lineno + 1);
      return NM_ENOMEM;
    }
    if (got == 0) break;
    if (r->line[0] == '\0') continue;            /* a blank line */
    /* A row of another length than the header is refused as such, before
    ** any of its cells is read (none of them is at fault). */
    size_t n_values = 1;
    for (const char *q = r->line; *q; q++) n_values += *q == ',';
    if (n_values != r->n_cols) {
      snprintf(r->err, sizeof r->err, "line %ld has %zu value%s, the header %zu", r->lineno, n_values,
               n_values == 1 ? "" : "s", r->n_cols);
      return NM_EINVAL;
    }
    double *row = rows + *n_rows * r->n_cols;
    char *p = r->line, *end;
    for (size_t c = 0; c < r->n_cols; c++) {
      errno = 0;
      row[c] = strtod(p, &end);                  /* (after spaces) */
      int number = end != p;
      while (*end == ' ' || *end == '\t') end++;  /* spaces after a number */
      if (!number || *end != (c + 1 < r->n_cols ? ',' : '\0')) {
        size_t len = strcspn(p, ",");
        snprintf(r->err, sizeof r->err, "line %ld: column %zu (%s) is '%.*s': expected a number",
                 r->lineno, c + 1, r->names[c], (int)(len > 40 ? 40 : len), p);
        return NM_EINVAL;
      }
      p = end + (c + 1 < r->n_cols);
    }
    int rc = check_time(r, row[0]);
    if (rc != NM_OK) return rc;
    r->row_line[(*n_rows)++] = r->lineno;
  }
  return NM_OK;
}


int nm_csv_reader_count_rows(nm_csv_reader *r, long *n)
{
  *n = 0;
  if (fseek(r->f, r->data_start, SEEK_SET) != 0) return NM_EIO;
  char buf[1 << 16];
  int content = 0;                /* the current line has a character besides \r, spaces and tabs */
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, r->f)) > 0)
    for (size_t i = 0; i < got; i++) {
      if (buf[i] == '\n') { *n += content; content = 0; }
      else if (!is_space(buf[i])) content = 1;
    }
  *n += content;
  int failed = ferror(r->f);
  clearerr(r->f);
  return nm_csv_reader_rewind(r) != NM_OK || failed ? NM_EIO : NM_OK;
}


int nm_csv_reader_rewind(nm_csv_reader *r)
{
  if (fseek(r->f, r->data_start, SEEK_SET) != 0) return NM_EIO;
  r->lineno = 1;
  r->rows_read = 0;
  return NM_OK;
}


void nm_csv_reader_close(nm_csv_reader *r)
{
  if (!r) return;
  if (r->f) fclose(r->f);
  for (size_t c = 0; r->names && c < r->n_cols; c++) free(r->names[c]);
  free(r->names);
  free(r->line);
  free(r->row_line);
  free(r);
}
