/*
** sink_audio.c: an audio writer (audio.h) as a sink, fed the chosen columns
** of every row it is given.  The caller keeps the writer and finishes it
** (rendering needs the caller's report); the sink only feeds it.
*/
#include <stdlib.h>
#include <string.h>

#include "audio.h"
#include "engine.h"

typedef struct {
  nm_audio *a;
  size_t cols[];            /* the columns fed, 0-based (0 is the time) */
} audio_sink;


static int audio_rows(void *ud, const double *rows, size_t n_rows, size_t n_cols)
{
  audio_sink *k = ud;
  return nm_audio_feed(k->a, rows, n_rows, n_cols, k->cols);
}


static const char *audio_error(const void *ud)
{
  return nm_audio_error(((const audio_sink *)ud)->a);
}


int nm_audio_sink(nm_sink *out, nm_audio *a, const size_t *cols, size_t n_cols)
{
  if (n_cols > (SIZE_MAX - sizeof(audio_sink)) / sizeof *cols) return NM_ENOMEM;
  audio_sink *k = malloc(sizeof *k + n_cols * sizeof *cols);
  if (!k) return NM_ENOMEM;
  k->a = a;
  if (n_cols) memcpy(k->cols, cols, n_cols * sizeof *cols);
  nm_sink sink = { audio_rows, NULL, audio_error, free, k };
  *out = sink;
  return NM_OK;
}
