/*
** sink_async.c: a sink run on a thread of its own, so that its work overlaps
** the integration (simulated BOLD costs about 0.15 of an ALN-80 step in CPU
** time: on a second core it overlaps the run instead of lengthening it;
** docs/bold.md).  Each call of its rows
** waits until the thread has finished the previous chunk, copies the new
** chunk and returns: the inner sink sees the same rows in the same order, so
** its results are the same bits.  A failure of the inner sink is returned by
** the next call (or by nm_async_wait), a chunk later than it happened.
*/
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

struct nm_async {
  nm_sink inner;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  double *job;              /* the chunk handed over */
  size_t cap;               /* doubles job holds */
  size_t rows, cols;
  int pending;              /* a chunk waits for the thread or is being worked on */
  int quit;
  int rc;                   /* the inner sink's first failure */
  nm_error err;
};


static void *async_main(void *ud)
{
  nm_async *a = ud;
  pthread_mutex_lock(&a->mu);
  for (;;) {
    while (!a->pending && !a->quit) pthread_cond_wait(&a->cv, &a->mu);
    if (!a->pending) break;
    pthread_mutex_unlock(&a->mu);
    int rc = a->rc == NM_OK ? a->inner.rows(a->inner.ud, a->job, a->rows, a->cols) : a->rc;
    pthread_mutex_lock(&a->mu);
    if (a->rc == NM_OK) a->rc = rc;
    a->pending = 0;
    pthread_cond_broadcast(&a->cv);
  }
  pthread_mutex_unlock(&a->mu);
  return NULL;
}


nm_async *nm_async_new(const nm_sink *inner)
{
  nm_async *a = calloc(1, sizeof *a);
  if (!a) return NULL;
  a->inner = *inner;
  nm_error_clear(&a->err);
  if (pthread_mutex_init(&a->mu, NULL) != 0) {
    free(a);
    return NULL;
  }
  if (pthread_cond_init(&a->cv, NULL) != 0 || pthread_create(&a->thread, NULL, async_main, a) != 0) {
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    free(a);
    return NULL;
  }
  return a;
}


/* Waits (mutex held) until the thread is idle. */
static void idle(nm_async *a)
{
  while (a->pending) pthread_cond_wait(&a->cv, &a->mu);
}


static int async_rows(void *ud, const double *rows, size_t n_rows, size_t n_cols)
{
  nm_async *a = ud;
  pthread_mutex_lock(&a->mu);
  idle(a);
  int rc = a->rc;
  if (rc == NM_OK && n_rows > a->cap / (n_cols ? n_cols : 1)) {
    double *job = n_rows <= SIZE_MAX / sizeof(double) / (n_cols ? n_cols : 1)
                  ? realloc(a->job, n_rows * n_cols * sizeof *job) : NULL;
    if (job) {
      a->job = job;
      a->cap = n_rows * n_cols;
    } else {
      rc = nm_fail(&a->err, NM_ENOMEM, "a chunk of %zu rows of %zu columns cannot be copied",
                   n_rows, n_cols);
    }
  }
  if (rc == NM_OK) {
    memcpy(a->job, rows, n_rows * n_cols * sizeof *rows);
    a->rows = n_rows;
    a->cols = n_cols;
    a->pending = 1;
    pthread_cond_broadcast(&a->cv);
  }
  pthread_mutex_unlock(&a->mu);
  return rc;
}


int nm_async_wait(nm_async *a)
{
  pthread_mutex_lock(&a->mu);
  idle(a);
  int rc = a->rc;
  pthread_mutex_unlock(&a->mu);
  return rc != NM_OK ? rc : a->err.status;
}


static int async_finish(void *ud, int how)
{
  nm_async *a = ud;
  nm_async_wait(a);
  return a->inner.finish ? a->inner.finish(a->inner.ud, how) : NM_OK;
}


static const char *async_error(const void *ud)
{
  const nm_async *a = ud;
  if (a->err.why[0]) return a->err.why;
  return a->inner.error ? a->inner.error(a->inner.ud) : "";
}


nm_sink nm_async_sink(nm_async *a)
{
  nm_sink sink = { async_rows, async_finish, async_error, NULL, a };
  return sink;
}


void nm_async_free(nm_async *a)
{
  if (!a) return;
  pthread_mutex_lock(&a->mu);
  idle(a);
  a->quit = 1;
  pthread_cond_broadcast(&a->cv);
  pthread_mutex_unlock(&a->mu);
  pthread_join(a->thread, NULL);
  pthread_cond_destroy(&a->cv);
  pthread_mutex_destroy(&a->mu);
  free(a->job);
  free(a);
}
