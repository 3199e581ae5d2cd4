/*
** record.c: recording.  The sampler takes the recorded signals from the
** simulation after every `every`-th step (the sampling_dt grid) into rows
** (the time first) and hands them, a chunk at a time, to the run's row sink.
** The recorder is such a row sink: it fans the rows out to sinks (the kept
** result, CSV, audio, ...), each taking every decimate-th row and its leading
** columns.  A sink is one file implementing nm_sink (sink_kept.c, sink_csv.c,
** sink_audio.c).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/* Rows the sampler buffers when the run does not say (nm_run_opts.chunk_rows). */
#define DEFAULT_CHUNK_ROWS 1024
/* Bytes of the feed's buffer (every step's rows), about; at least FEED_MIN_ROWS rows. */
#define FEED_CHUNK_BYTES (256 * 1024)
#define FEED_MIN_ROWS 16


/* ---------------------------------------------------------------------
** The sampler (sim.h)
** ------------------------------------------------------------------- */

int nm_sampler_init(nm_sampler *r, nm_sim *s, const nm_run_opts *o)
{
  r->o = o;
  r->rows = 0;
  r->cap = o->chunk_rows ? o->chunk_rows : DEFAULT_CHUNK_ROWS;
  r->cols = 1 + o->n_record;
  r->buf = r->cap <= SIZE_MAX / sizeof(double) / r->cols ? malloc(r->cap * r->cols * sizeof(double))
                                                         : NULL;
  if (!r->buf)
    return nm_sim_fail(s, NM_ENOMEM, "a buffer of %zu rows of %zu columns cannot be allocated",
                       r->cap, r->cols);
  r->fbuf = NULL;
  r->frows = r->fcap = 0;
  r->fcols = 1 + o->n_feed;
  if (o->feed_sink) {
    r->fcap = FEED_CHUNK_BYTES / sizeof(double) / r->fcols;
    if (r->fcap < FEED_MIN_ROWS) r->fcap = FEED_MIN_ROWS;
    r->fbuf = r->fcap <= SIZE_MAX / sizeof(double) / r->fcols
              ? malloc(r->fcap * r->fcols * sizeof(double)) : NULL;
    if (!r->fbuf) {
      nm_sampler_free(r);
      return nm_sim_fail(s, NM_ENOMEM, "a buffer of %zu steps of %zu fed signals cannot be "
                         "allocated", r->fcap, o->n_feed);
    }
  }
  return NM_OK;
}


/* The feed's buffered rows to the feed sink. */
static int feed_flush(nm_sampler *r)
{
  int rc = NM_OK;
  if (r->frows) rc = r->o->feed_sink(r->o->feed_ud, r->fbuf, r->frows, r->fcols);
  r->frows = 0;
  return rc;
}


int nm_sampler_flush(nm_sampler *r)
{
  int rc = NM_OK;
  if (r->rows && r->o->sink) rc = r->o->sink(r->o->sink_ud, r->buf, r->rows, r->cols);
  r->rows = 0;
  int frc = feed_flush(r);
  return rc != NM_OK ? rc : frc;
}


int nm_sampler_row(void *rec, nm_sim *s)
{
  nm_sampler *r = rec;
  double *row = r->buf + r->rows * r->cols;
  row[0] = nm_sim_time(s);
  for (size_t c = 0; c < r->o->n_record; c++) row[c + 1] = s->V[r->o->record[c]];
  if (++r->rows == r->cap) return nm_sampler_flush(r);
  return NM_OK;
}


int nm_sampler_feed(void *rec, nm_sim *s)
{
  nm_sampler *r = rec;
  double *row = r->fbuf + r->frows * r->fcols;
  row[0] = nm_sim_time(s);
  for (size_t c = 0; c < r->o->n_feed; c++) row[c + 1] = s->V[r->o->feed[c]];
  if (++r->frows == r->fcap) return feed_flush(r);
  return NM_OK;
}


void nm_sampler_free(nm_sampler *r)
{
  free(r->buf);
  free(r->fbuf);
  r->buf = r->fbuf = NULL;
}


/* ---------------------------------------------------------------------
** The recorder (nm.h)
** ------------------------------------------------------------------- */

typedef struct {
  nm_sink sink;
  size_t first;             /* the first column it takes after the time (1: the next) */
  size_t n_lead;            /* columns it takes, the time included (0: all) */
  long decimate, count;     /* it takes the rows where ++count % decimate == 0 */
} nm_outlet;

struct nm_recorder {
  nm_outlet *outs;
  size_t n_outs;
  double *sel;              /* the rows an outlet takes, when not all of them */
  size_t sel_cap;           /* doubles in sel */
  int failed;               /* index + 1 of the sink that failed first (0: none) */
  int failed_rc;            /* and its status */
  nm_error err;             /* the recorder's own failure */
};


nm_recorder *nm_recorder_new(void)
{
  nm_recorder *r = calloc(1, sizeof *r);
  if (r) nm_error_clear(&r->err);
  return r;
}


int nm_recorder_add(nm_recorder *r, const nm_sink *sink, size_t n_lead, long decimate, long phase)
{
  return nm_recorder_add_from(r, sink, 1, n_lead, decimate, phase);
}


int nm_recorder_add_from(nm_recorder *r, const nm_sink *sink, size_t first, size_t n_lead,
                         long decimate, long phase)
{
  if (first < 1)
    return nm_fail(&r->err, NM_EINVAL, "a sink's first column after the time is 1 or more (got %zu)",
                   first);
  if (!sink || !sink->rows || decimate < 1)
    return nm_fail(&r->err, NM_EINVAL, "a sink needs a rows function and a "
                     "decimation of at least 1 (got %ld)", decimate);
  nm_outlet *o = nm_grow(&r->outs, &r->n_outs, sizeof *o);
  if (!o) return nm_fail(&r->err, NM_ENOMEM, "no memory for another sink");
  o->sink = *sink;
  o->first = first;
  o->n_lead = n_lead;
  o->decimate = decimate;
  o->count = phase % decimate;
  return NM_OK;
}


/* The rows and columns outlet `o` takes from rows[n_rows][n_cols], into r->sel
** unless they are all of them: the time, then n_lead - 1 columns from its
** first (no more than the rows hold); NULL when the selection cannot be held. */
static const double *select_rows(nm_recorder *r, nm_outlet *o, const double *rows, size_t *n_rows,
                                 size_t *n_cols)
{
  size_t avail = o->first < *n_cols ? *n_cols - o->first + 1 : 1;
  size_t lead = o->n_lead && o->n_lead < avail ? o->n_lead : avail;
  if (o->decimate == 1 && lead == *n_cols) return rows;
  if (*n_rows > (SIZE_MAX / sizeof(double)) / lead) return NULL;
  if (r->sel_cap < *n_rows * lead) {
    double *sel = realloc(r->sel, *n_rows * lead * sizeof *sel);
    if (!sel) return NULL;
    r->sel = sel;
    r->sel_cap = *n_rows * lead;
  }
  size_t m = 0;
  for (size_t i = 0; i < *n_rows; i++)
    if (++o->count % o->decimate == 0) {
      const double *row = rows + i * *n_cols;
      double *to = r->sel + m++ * lead;
      to[0] = row[0];
      memcpy(to + 1, row + o->first, (lead - 1) * sizeof *rows);
    }
  *n_rows = m;
  *n_cols = lead;
  return r->sel;
}


/* Every outlet gets the rows, even after one has failed (the run then stops
** after this chunk): an audio writer refusing a value must not cost the CSV
** and the kept result the rows before it.  A failed outlet is not fed again;
** its failure, the first, is returned from then on. */
int nm_recorder_rows(void *rec, const double *rows, size_t n_rows, size_t n_cols)
{
  nm_recorder *r = rec;
  for (size_t k = 0; k < r->n_outs; k++) {
    nm_outlet *o = &r->outs[k];
    if (r->failed == (int)k + 1) continue;            /* (it has said why already) */
    size_t n = n_rows, c = n_cols;
    const double *sel = select_rows(r, o, rows, &n, &c);
    int rc = !sel ? nm_fail(&r->err, NM_ENOMEM, "the recorder cannot hold %zu rows of "
                            "%zu columns", n_rows, n_cols)
                  : n ? o->sink.rows(o->sink.ud, sel, n, c) : NM_OK;
    if (rc != NM_OK && !r->failed) {
      r->failed = (int)k + 1;
      r->failed_rc = rc;
    }
  }
  return r->failed ? r->failed_rc : NM_OK;
}


int nm_recorder_finish(nm_recorder *r, int how)
{
  int rc = NM_OK;
  for (size_t k = 0; k < r->n_outs; k++) {
    nm_outlet *o = &r->outs[k];
    int frc = o->sink.finish ? o->sink.finish(o->sink.ud, how) : NM_OK;
    if (frc != NM_OK && rc == NM_OK) {
      rc = frc;
      if (!r->failed) { r->failed = (int)k + 1; r->failed_rc = frc; }
    }
  }
  return rc;
}


const void *nm_recorder_failed(const nm_recorder *r)
{
  return r->failed ? r->outs[r->failed - 1].sink.ud : NULL;
}


const char *nm_recorder_error(const nm_recorder *r)
{
  if (r->failed) {
    const nm_sink *k = &r->outs[r->failed - 1].sink;
    const char *why = k->error ? k->error(k->ud) : NULL;
    if (why && why[0]) return why;
  }
  return r->err.why;
}


void nm_recorder_free(nm_recorder *r)
{
  if (!r) return;
  for (size_t k = 0; k < r->n_outs; k++)
    if (r->outs[k].sink.free) r->outs[k].sink.free(r->outs[k].sink.ud);
  free(r->outs);
  free(r->sel);
  free(r);
}
