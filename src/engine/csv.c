/*
** csv.c: the CSV writer.  Rows go to "<path>.tmp-<pid>.<host>" and the file is
** renamed to its final name only when the caller commits (atomic_file.c), so
** an error never leaves a truncated file under the name the user asked for.  A caller whose
** file must appear together with others holds it (complete, under the
** temporary name) until they are ready, then commits it.  A run that
** stops early can keep its complete rows as "<stem>.partial.<ext>".  The
** path "-" streams the rows to standard output as they come (nothing to
** rename or keep).  Every failure keeps its reason (the system's text for errno).
*/
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"

struct nm_csv {
  FILE *f;
  nm_outfile out;               /* its final, temporary and partial names */
  const char *kept;             /* path, partial or NULL once finished */
  size_t n_cols;
  long long bytes, good;        /* written; known to be on disk as whole rows */
  long long header_bytes;
  int finished;
  int to_stdout;                /* path "-": rows go to standard output */
  nm_error err;                 /* the first failure */
};


static int failed(const nm_csv *w) { return w->err.status != NM_OK; }


/* Records the first failure's reason; returns NM_EIO. */
static int fail(nm_csv *w, const char *what, int err)
{
  if (w->err.status == NM_OK) nm_fail(&w->err, NM_EIO, "%s: %s", what, strerror(err));
  return NM_EIO;
}


/*
** After a failed write the file holds a prefix of what was written (up to
** the full disk or the size limit): the end of its last whole row, searched
** backwards from its size down to `floor` (a row boundary known to be on disk).
*/
static long long last_row_end(const char *path, long long floor)
{
  struct stat st;
  FILE *f = stat(path, &st) == 0 ? fopen(path, "rb") : NULL;
  if (!f) return floor;
  char buf[4096];
  long long end = floor;
  for (long long size = (long long)st.st_size; size > floor && end == floor; ) {
    long long from = size - (long long)sizeof buf > floor ? size - (long long)sizeof buf : floor;
    size_t n = (size_t)(size - from);
    if (fseeko(f, (off_t)from, SEEK_SET) != 0 || fread(buf, 1, n, f) != n) break;
    for (size_t i = n; i > 0 && end == floor; i--)
      if (buf[i - 1] == '\n') end = from + (long long)i;
    size = from;
  }
  fclose(f);
  return end;
}


nm_csv *nm_csv_open(const char *path, const char *const *header, size_t n_cols, nm_error *err)
{
  nm_error_clear(err);
  nm_csv *w = calloc(1, sizeof *w);
  if (!w || nm_outfile_init(&w->out, path) != NM_OK) {
    free(w);
    nm_fail(err, NM_ENOMEM, "%s", strerror(ENOMEM));
    return NULL;
  }
  nm_error_clear(&w->err);
  w->n_cols = n_cols;
  w->to_stdout = strcmp(path, "-") == 0;
  if (w->to_stdout) {
    fflush(stdout);                              /* what the script printed comes first */
    int fd = dup(STDOUT_FILENO);
    w->f = fd < 0 ? NULL : fdopen(fd, "w");
    if (!w->f && fd >= 0) close(fd);
  } else {
    w->f = fopen(w->out.tmp, "w");
  }
  if (!w->f) {
    nm_fail(err, NM_EIO, "%s", strerror(errno));
    nm_outfile_free(&w->out);
    free(w);
    return NULL;
  }
  for (size_t c = 0; c < n_cols; c++) {
    fputs(header[c], w->f);
    fputc(c + 1 < n_cols ? ',' : '\n', w->f);
    w->bytes += (long long)strlen(header[c]) + 1;
  }
  w->good = w->header_bytes = w->bytes;
  if (ferror(w->f)) {
    fail(w, "writing", errno);
    if (err) *err = w->err;
  }
  return w;
}


/* Each call's rows are flushed: `good` then counts whole rows on disk only. */
int nm_csv_write_rows(nm_csv *w, const double *rows, size_t n_rows, size_t n_cols)
{
  char buf[40];
  if (n_cols != w->n_cols || !w->f) return NM_EINVAL;     /* wrong width; held or finished */
  if (failed(w)) return NM_EIO;
  for (size_t r = 0; r < n_rows; r++) {
    const double *row = rows + r * n_cols;
    for (size_t c = 0; c < n_cols; c++) {
      double v = row[c] == row[c] ? row[c] : fabs(row[c]);     /* NaN: "nan", never "-nan" */
      int n = snprintf(buf, sizeof buf, c == 0 ? "%.12g" : "%.17g", v);
      buf[n] = c + 1 < n_cols ? ',' : '\n';
      fwrite(buf, 1, (size_t)n + 1, w->f);
      w->bytes += n + 1;
    }
  }
  if (ferror(w->f) || fflush(w->f) != 0) return fail(w, "writing", errno);
  w->good = w->bytes;
  return NM_OK;
}


const char *nm_csv_error(const nm_csv *w)
{
  return w->err.why;
}


const char *nm_csv_path(const nm_csv *w)
{
  return w->out.path;
}


const char *nm_csv_kept(const nm_csv *w)
{
  return w->finished ? w->kept : NULL;
}


int nm_csv_finish(nm_csv *w, int how)
{
  if (w->finished) return failed(w) ? NM_EIO : NM_OK;
  if (w->f) {                   /* closed already when held */
    if (fflush(w->f) != 0) fail(w, "writing", errno);
    else if (!failed(w)) w->good = w->bytes;
    if (fclose(w->f) != 0) fail(w, "closing", errno);
    w->f = NULL;
  }
  if (how == NM_CSV_HOLD) return failed(w) ? NM_EIO : NM_OK;
  w->finished = 1;
  if (w->to_stdout) {                            /* streamed: nothing to rename or keep */
    if (how == NM_CSV_COMMIT && !failed(w)) w->kept = w->out.path;
    return failed(w) ? NM_EIO : NM_OK;
  }
  if (how == NM_CSV_COMMIT && !failed(w)) {
    int e = nm_outfile_commit(&w->out, NULL);
    if (!e) { w->kept = w->out.path; return NM_OK; }
    fail(w, "renaming", e);
  }
  /* A failed commit keeps what it can, as a partial file. */
  if (how != NM_CSV_DISCARD && failed(w)) w->good = last_row_end(w->out.tmp, w->good);
  if (how != NM_CSV_DISCARD && w->good > w->header_bytes) {
    int e = nm_outfile_keep_partial(&w->out, w->good);
    if (!e) w->kept = w->out.partial;
    else fail(w, "keeping the partial file", e);
  }
  if (!w->kept) nm_outfile_discard(&w->out);
  return failed(w) ? NM_EIO : NM_OK;
}


void nm_csv_free(nm_csv *w)
{
  if (!w) return;
  if (!w->finished) nm_csv_finish(w, NM_CSV_DISCARD);
  nm_outfile_free(&w->out);
  free(w);
}


int nm_csv_close(nm_csv *w, int how)
{
  if (!w) return NM_OK;
  int rc = nm_csv_finish(w, how);
  nm_csv_free(w);
  return rc;
}
