/*
** sink_kept.c: the kept result, a sink that holds the rows it is given in
** memory (row-major, growing by doubling) for the caller to read.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

/* Rows the first allocation holds. */
#define FIRST_ROWS 256

struct nm_kept {
  double *data;
  size_t rows, cols, cap;
  nm_error err;
};


nm_kept *nm_kept_new(size_t cols)
{
  nm_kept *k = calloc(1, sizeof *k);
  if (k) {
    k->cols = cols;
    nm_error_clear(&k->err);
  }
  return k;
}


static int kept_rows(void *ud, const double *rows, size_t n_rows, size_t n_cols)
{
  nm_kept *k = ud;
  if (n_cols != k->cols)
    return nm_fail(&k->err, NM_EINVAL, "the kept result has %zu columns, not %zu",
                     k->cols, n_cols);
  if (n_rows > k->cap - k->rows) {
    size_t cap = n_cols <= SIZE_MAX / sizeof *k->data
                 ? nm_grow_cap(k->cap, FIRST_ROWS, k->rows, n_rows, n_cols * sizeof *k->data) : 0;
    if (cap == 0)
      return nm_fail(&k->err, NM_ENOMEM, "the result kept in memory cannot grow from %zu rows "
                     "by %zu more of %zu columns: more bytes than can be counted", k->rows, n_rows,
                     n_cols);
    double *data = realloc(k->data, cap * n_cols * sizeof *data);
    if (!data)
      return nm_fail(&k->err, NM_ENOMEM, "the result kept in memory cannot grow "
                       "to %zu rows of %zu columns (%.3g GB)", cap, n_cols,
                       (double)cap * (double)n_cols * 8e-9);
    k->data = data;
    k->cap = cap;
  }
  memcpy(k->data + k->rows * n_cols, rows, n_rows * n_cols * sizeof *rows);
  k->rows += n_rows;
  return NM_OK;
}


static const char *kept_error(const void *ud)
{
  return ((const nm_kept *)ud)->err.why;
}


nm_sink nm_kept_sink(nm_kept *k)
{
  nm_sink sink = { kept_rows, NULL, kept_error, NULL, k };
  return sink;
}


const double *nm_kept_rows(const nm_kept *k, size_t *rows, size_t *cols)
{
  *rows = k->rows;
  *cols = k->cols;
  return k->data;
}


void nm_kept_free(nm_kept *k)
{
  if (!k) return;
  free(k->data);
  free(k);
}
