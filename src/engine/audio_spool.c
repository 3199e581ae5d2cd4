/*
** audio_spool.c: the audio writer's spool, a temporary file of the lanes at
** the audio rate as 32-bit floats (unlinked as soon as it is opened): the
** resamplers' final frames are high-passed, measured (min, max, sum, sum of
** squares) and appended here in pass 1, and read back by passes 2 and 3 (a
** streamed writer hands them to audio_stream.c instead).
*/
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio_impl.h"


int au_spool_open(nm_audio *a, const char *path, const char *base, size_t len, nm_error *err)
{
  /* The spool, beside the output: unlinked at once, it vanishes with us. */
  int ok = 1;
  char *spool_name = au_alloc(&ok, len + 40, 1);
  if (!ok) return nm_fail(err, NM_ENOMEM, "%s", nm_strerror(NM_ENOMEM));
  snprintf(spool_name, len + 40, "%s.spool-%ld", base, (long)getpid());
  a->spool = fopen(spool_name, "w+b");
  int e = errno;
  int rc = NM_OK;
  if (a->spool) remove(spool_name);
  else rc = au_fail_create(err, path, spool_name, strerror(e));
  free(spool_name);
  return rc;
}


int au_drain(nm_audio *a, long limit)
{
  size_t ready = (size_t)-1;
  for (size_t g = 0; g < a->n_groups; g++)
    if (a->groups[g].fifo_len < ready) ready = a->groups[g].fifo_len;
  if (limit >= 0 && (long)ready > limit - a->spooled) ready = (size_t)(limit - a->spooled);
  if (ready == 0) return NM_OK;
  size_t L = a->lanes;
  int hp = a->o.mode == NM_AUDIO_AUDIFY && a->o.highpass > 0;
  /* The high-pass starts from the state of a constant input equal to the
  ** mean of its first period (1 / cutoff): starting from the first value
  ** instead would add a transient as large as that value's distance from the
  ** mean.  Wait for that period (or for the end of the input). */
  if (hp && a->spooled == 0) {
    if ((long)ready < a->hp_wait && !a->input_done) return NM_OK;
    size_t w = (long)ready < a->hp_wait ? ready : (size_t)a->hp_wait;
    for (size_t g = 0; g < a->n_groups; g++) {
      group *gr = &a->groups[g];
      for (size_t j = 0; j < gr->n; j++) {
        double m = 0;
        for (size_t f = 0; f < w; f++) m += gr->fifo[f * gr->n + j];
        au_bq_settle(&a->hp, &a->hp_st[gr->first + j], w ? m / (double)w : 0);
      }
    }
  }
  for (size_t done = 0; done < ready;) {
    size_t n = ready - done < CHUNK ? ready - done : CHUNK;
    for (size_t g = 0; g < a->n_groups; g++) {
      group *gr = &a->groups[g];
      for (size_t f = 0; f < n; f++)
        for (size_t j = 0; j < gr->n; j++) {
          size_t l = gr->first + j;
          double v = gr->fifo[(done + f) * gr->n + j];
          if (hp) v = au_bq_run(&a->hp, &a->hp_st[l], v);
          if (a->spooled + (long)f == 0) a->mn[l] = a->mx[l] = v;
          if (v < a->mn[l]) a->mn[l] = v;
          if (v > a->mx[l]) a->mx[l] = v;
          a->sum[l] += v;
          a->sumsq[l] += v * v;
          a->spool_buf[f * L + l] = (float)v;
        }
    }
    if (a->stream) {                  /* streamed: rendered and written now */
      int rc = au_stream_frames(a, a->spool_buf, n);
      if (rc != NM_OK) return rc;
    } else if ((errno = 0, fwrite(a->spool_buf, sizeof(float) * L, n, a->spool)) != n) {
      return au_fail_errno(a, "writing its temporary spool");
    }
    a->spooled += (long)n;
    done += n;
  }
  for (size_t g = 0; g < a->n_groups; g++) {
    group *gr = &a->groups[g];
    if (gr->fifo_len > ready)
      memmove(gr->fifo, gr->fifo + ready * gr->n, (gr->fifo_len - ready) * gr->n * sizeof(float));
    gr->fifo_len -= ready;
  }
  return NM_OK;
}

int au_spool_pad(nm_audio *a)
{
  size_t L = a->lanes;
  while (a->spooled < a->n_frames) {
    long n = a->n_frames - a->spooled < CHUNK ? a->n_frames - a->spooled : CHUNK;
    memset(a->spool_buf, 0, (size_t)n * L * sizeof(float));
    errno = 0;
    if (fwrite(a->spool_buf, sizeof(float) * L, (size_t)n, a->spool) != (size_t)n)
      return au_fail_errno(a, "writing its temporary spool");
    for (size_t l = 0; l < L; l++) { a->mn[l] = fmin(a->mn[l], 0); a->mx[l] = fmax(a->mx[l], 0); }
    a->spooled += n;
  }
  errno = 0;
  if (fflush(a->spool) != 0) return au_fail_errno(a, "writing its temporary spool");
  return NM_OK;
}


/* Spooled frames f0 + lead .. f0 + lead + n - 1; past the end, the last frame.
** lead > 0 reads the envelope of parameter mapping ahead by its filters'
** group delay, so that loudness follows the signal without lagging. */
int au_spool_read(nm_audio *a, long f0, size_t n)
{
  size_t L = a->lanes, bytes = sizeof(float) * L;
  long from = f0 + a->lead, have = a->n_frames - from;
  size_t got = have <= 0 ? 0 : (size_t)have < n ? (size_t)have : n;
  if (got && (fseek(a->spool, (long)((size_t)from * bytes), SEEK_SET) != 0 ||
              fread(a->spool_buf, bytes, got, a->spool) != got))
    return au_fail(a, NM_EIO, "cannot read the temporary spool back");
  if (got < n) {
    if (!got && (fseek(a->spool, (long)((size_t)(a->n_frames - 1) * bytes), SEEK_SET) != 0 ||
                 fread(a->spool_buf, bytes, 1, a->spool) != 1))
      return au_fail(a, NM_EIO, "cannot read the temporary spool back");
    for (size_t f = got ? got : 1; f < n; f++)
      memcpy(a->spool_buf + f * L, a->spool_buf + (got ? got - 1 : 0) * L, bytes);
  }
  return NM_OK;
}
