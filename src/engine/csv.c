/*
** csv.c: the CSV writer.  Rows go to "<path>.tmp-<pid>" and the file is
** renamed to its final name only when the caller commits, so an error never
** leaves a truncated file under the name the user asked for.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nm.h"

struct nm_csv {
  FILE *f;
  char *path, *tmp;
  size_t n_cols;
  int failed;
};


nm_csv *nm_csv_open(const char *path, const char *const *header, size_t n_cols, int *status)
{
  nm_csv *w = calloc(1, sizeof *w);
  size_t len = strlen(path);
  if (!w || !(w->path = malloc(len + 1)) || !(w->tmp = malloc(len + 32))) {
    if (w) { free(w->path); free(w); }
    *status = NM_ENOMEM;
    return NULL;
  }
  memcpy(w->path, path, len + 1);
  snprintf(w->tmp, len + 32, "%s.tmp-%ld", path, (long)getpid());
  w->n_cols = n_cols;
  w->f = fopen(w->tmp, "w");
  if (!w->f) {
    free(w->path); free(w->tmp); free(w);
    *status = NM_EIO;
    return NULL;
  }
  for (size_t c = 0; c < n_cols; c++) {
    fputs(header[c], w->f);
    fputc(c + 1 < n_cols ? ',' : '\n', w->f);
  }
  *status = ferror(w->f) ? NM_EIO : NM_OK;
  return w;
}


int nm_csv_write_rows(nm_csv *w, const double *rows, size_t n_rows, size_t n_cols)
{
  char buf[40];
  if (n_cols != w->n_cols) return NM_EINVAL;
  for (size_t r = 0; r < n_rows; r++) {
    const double *row = rows + r * n_cols;
    for (size_t c = 0; c < n_cols; c++) {
      int n = snprintf(buf, sizeof buf, c == 0 ? "%.12g" : "%.17g", row[c]);
      buf[n] = c + 1 < n_cols ? ',' : '\n';
      fwrite(buf, 1, (size_t)n + 1, w->f);
    }
  }
  if (ferror(w->f)) w->failed = 1;
  return w->failed ? NM_EIO : NM_OK;
}


int nm_csv_close(nm_csv *w, int commit)
{
  if (!w) return NM_OK;
  int rc = NM_OK;
  if (fclose(w->f) != 0 || w->failed) rc = NM_EIO;
  if (commit && rc == NM_OK) {
    if (rename(w->tmp, w->path) != 0) rc = NM_EIO;
  }
  if (!commit || rc != NM_OK) remove(w->tmp);
  free(w->path);
  free(w->tmp);
  free(w);
  return rc;
}
