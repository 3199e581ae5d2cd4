/*
** csvread.c: reads the CSV files nm_csv writes (a header of names, then rows
** of numbers separated by commas) a chunk of rows at a time, so that a file
** of any length can be sonified without loading it.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio.h"

struct nm_csv_reader {
  FILE *f;
  char *line;
  size_t cap;
  char **names;
  size_t n_cols;
  long lineno, data_start;
};


/* Reads one line into r->line (without the newline); 0 at the end of the file. */
static int read_line(nm_csv_reader *r)
{
  size_t len = 0;
  for (;;) {
    if (r->cap - len < 2) {
      size_t cap = r->cap ? 2 * r->cap : 4096;
      char *p = realloc(r->line, cap);
      if (!p) return -1;
      r->line = p;
      r->cap = cap;
    }
    if (!fgets(r->line + len, (int)(r->cap - len), r->f)) {
      if (len == 0) return 0;
      break;
    }
    len += strlen(r->line + len);
    if (len > 0 && r->line[len - 1] == '\n') break;
  }
  while (len > 0 && (r->line[len - 1] == '\n' || r->line[len - 1] == '\r')) r->line[--len] = '\0';
  r->lineno++;
  return 1;
}


nm_csv_reader *nm_csv_reader_open(const char *path, int *status)
{
  nm_csv_reader *r = calloc(1, sizeof *r);
  if (!r) { *status = NM_ENOMEM; return NULL; }
  r->f = fopen(path, "r");
  if (!r->f) { free(r); *status = NM_EIO; return NULL; }
  int got = read_line(r);
  if (got <= 0) {
    *status = got < 0 ? NM_ENOMEM : NM_EINVAL;
    nm_csv_reader_close(r);
    return NULL;
  }
  size_t n = 1;
  for (const char *p = r->line; *p; p++) n += *p == ',';
  r->names = calloc(n, sizeof *r->names);
  if (!r->names) { *status = NM_ENOMEM; nm_csv_reader_close(r); return NULL; }
  char *save = r->line;
  for (size_t c = 0; c < n; c++) {
    char *comma = strchr(save, ',');
    if (comma) *comma = '\0';
    size_t len = strlen(save);
    r->names[c] = malloc(len + 1);
    if (!r->names[c]) { r->n_cols = c; *status = NM_ENOMEM; nm_csv_reader_close(r); return NULL; }
    memcpy(r->names[c], save, len + 1);
    save = comma ? comma + 1 : save + len;
  }
  r->n_cols = n;
  r->data_start = ftell(r->f);
  *status = NM_OK;
  return r;
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


int nm_csv_reader_rows(nm_csv_reader *r, double *rows, size_t max_rows, size_t *n_rows)
{
  *n_rows = 0;
  while (*n_rows < max_rows) {
    int got = read_line(r);
    if (got < 0) return NM_ENOMEM;
    if (got == 0) break;
    if (r->line[0] == '\0') continue;            /* a blank line */
    double *row = rows + *n_rows * r->n_cols;
    char *p = r->line, *end;
    for (size_t c = 0; c < r->n_cols; c++) {
      row[c] = strtod(p, &end);
      if (end == p) return NM_EINVAL;
      p = end;
      if (c + 1 < r->n_cols) {
        if (*p != ',') return NM_EINVAL;
        p++;
      }
    }
    if (*p != '\0') return NM_EINVAL;
    (*n_rows)++;
  }
  return NM_OK;
}


int nm_csv_reader_rewind(nm_csv_reader *r)
{
  if (fseek(r->f, r->data_start, SEEK_SET) != 0) return NM_EIO;
  r->lineno = 1;
  return NM_OK;
}


void nm_csv_reader_close(nm_csv_reader *r)
{
  if (!r) return;
  if (r->f) fclose(r->f);
  for (size_t c = 0; r->names && c < r->n_cols; c++) free(r->names[c]);
  free(r->names);
  free(r->line);
  free(r);
}
