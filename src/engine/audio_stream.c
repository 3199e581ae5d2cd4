/*
** audio_stream.c: the audio writer streamed (nm_audio_opts.stream): a WAV on
** standard output written as the input comes, so that `neuromass run x.lua |
** aplay` plays while the run runs.  libsndfile refuses to write a WAV to a
** pipe (it fills the header's sizes in at the end), so the header is written
** here with the sizes unknown (0xFFFFFFFF, as ffmpeg and sox write to pipes;
** aplay, sox and libsndfile read such a stream to its end).  The levels must
** be known before the end: audification with normalize = none (the samples
** are the signals times `gain`) and no mean removal (the high-pass may stand
** in); as the peak is not known in advance, every frame goes through the
** look-ahead limiter, which leaves frames within full scale as they are.
*/
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio_impl.h"

/* The WAV header written before the frames: RIFF, fmt (16 bytes), data. */
#define HEADER_BYTES 44
#define UNKNOWN_SIZE 0xFFFFFFFFu
enum { WAVE_PCM = 1, WAVE_FLOAT = 3 };

struct au_stream {
  FILE *f;                      /* a duplicate of standard output */
  au_limiter lm;
  size_t D;                     /* the limiter's delay (frames) */
  long emitted;                 /* frames given to the limiter */
  long written;                 /* frames written */
  double peak;                  /* largest |sample| before the limiter */
  double *out, *lim;            /* CHUNK x channels */
  unsigned char *bytes;         /* CHUNK x channels x 4 */
};


static void put16(unsigned char *p, unsigned v) { p[0] = v & 0xFF; p[1] = (v >> 8) & 0xFF; }
static void put32(unsigned char *p, uint32_t v)
{
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}


/* The failure of a write to standard output, with the system's reason. */
static int stdout_failed(nm_error *err)
{
  int e = errno ? errno : EIO;
  return nm_fail(err, NM_EIO, "cannot write to stdout: %s", strerror(e));
}


static int bits_of(const nm_audio_opts *o)
{
  return o->encoding == NM_AUDIO_PCM16 ? 16 : o->encoding == NM_AUDIO_PCM24 ? 24 : 32;
}


int au_stream_open(nm_audio *a, nm_error *err)
{
  const nm_audio_opts *o = &a->o;
  if (strcmp(a->path, "-") != 0 || o->container != NM_AUDIO_WAV || o->mode != NM_AUDIO_AUDIFY ||
      o->normalize != NM_NORM_NONE || o->dc || !(o->expected > 0))
    return nm_fail(err, NM_EINVAL, "a streamed audio file is a WAV on standard output (\"-\") "
                   "of audification with normalize = none, no mean removal and a known length");
  size_t C = o->n_out;
  struct au_stream *st = calloc(1, sizeof *st);
  if (!st) return nm_fail(err, NM_ENOMEM, "%s", nm_strerror(NM_ENOMEM));
  a->stream = st;
  double D = ceil(LIMIT_LOOKAHEAD * o->rate);
  st->D = D < 2 ? 2 : (size_t)D;
  st->out = malloc((size_t)CHUNK * C * sizeof *st->out);
  st->lim = malloc((size_t)CHUNK * C * sizeof *st->lim);
  st->bytes = malloc((size_t)CHUNK * C * 4);
  if (!st->out || !st->lim || !st->bytes ||
      au_limiter_init(&st->lm, st->D, C, 1 - exp(-1 / (LIMIT_RELEASE * o->rate))) != NM_OK)
    return nm_fail(err, NM_ENOMEM, "%s", nm_strerror(NM_ENOMEM));
  fflush(stdout);                                /* what the script printed comes first */
  errno = 0;
  int fd = dup(STDOUT_FILENO);
  st->f = fd < 0 ? NULL : fdopen(fd, "wb");
  if (!st->f) {
    int rc = stdout_failed(err);
    if (fd >= 0) close(fd);
    return rc;
  }
  int bits = bits_of(o);
  unsigned block = (unsigned)(C * (size_t)bits / 8);
  unsigned char h[HEADER_BYTES];
  memcpy(h, "RIFF", 4);
  put32(h + 4, UNKNOWN_SIZE);
  memcpy(h + 8, "WAVEfmt ", 8);
  put32(h + 16, 16);
  put16(h + 20, o->encoding == NM_AUDIO_FLOAT ? WAVE_FLOAT : WAVE_PCM);
  put16(h + 22, (unsigned)C);
  put32(h + 24, (uint32_t)o->rate);
  put32(h + 28, (uint32_t)o->rate * block);
  put16(h + 32, block);
  put16(h + 34, (unsigned)bits);
  memcpy(h + 36, "data", 4);
  put32(h + 40, UNKNOWN_SIZE);
  errno = 0;
  if (fwrite(h, 1, sizeof h, st->f) != sizeof h || fflush(st->f) != 0) return stdout_failed(err);
  /* the fades of the length the caller expects (o.expected rows) */
  double frames = floor((o->expected - (double)o->skip) * a->ratio + 0.5);
  au_plan_fades(a, frames > 0 && frames < (double)(LONG_MAX / 2) ? (long)frames : 0);
  return NM_OK;
}


/* Encodes n frames of y (within full scale after the limiter) little-endian,
** quantised as audio_write.c does (rounded, no dither), and writes them. */
static int write_frames(nm_audio *a, const double *y, size_t n)
{
  struct au_stream *st = a->stream;
  size_t C = a->o.n_out, k = 0;
  unsigned char *p = st->bytes;
  for (size_t i = 0; i < n * C; i++) {
    double v = fmax(-1, fmin(1, y[i]));
    if (a->o.encoding == NM_AUDIO_PCM16) {
      long q = lrint(v * 32767.0);
      put16(p + k, (unsigned)(q & 0xFFFF));
      k += 2;
    } else if (a->o.encoding == NM_AUDIO_PCM24) {
      long q = lrint(v * 8388607.0);
      for (int b = 0; b < 3; b++) p[k + b] = (unsigned char)((unsigned long)q >> (8 * b));
      k += 3;
    } else {
      float f = (float)v;
      uint32_t u;
      memcpy(&u, &f, sizeof u);
      put32(p + k, u);
      k += 4;
    }
  }
  errno = 0;
  if (fwrite(p, 1, k, st->f) != k || fflush(st->f) != 0) return stdout_failed(&a->err);
  st->written += (long)n;
  return NM_OK;
}


/* The limiter's output for n frames of out (it lags D - 1 frames), written. */
static int limit_and_write(nm_audio *a, const double *out, size_t n)
{
  struct au_stream *st = a->stream;
  size_t C = a->o.n_out, m = 0;
  for (size_t f = 0; f < n; f++, st->emitted++) {
    au_limiter_step(&st->lm, out + f * C, st->lim + m * C);
    if (st->emitted >= (long)st->D - 1) m++;
  }
  return m ? write_frames(a, st->lim, m) : NM_OK;
}


int au_stream_frames(nm_audio *a, const float *in, size_t n)
{
  struct au_stream *st = a->stream;
  const nm_audio_opts *o = &a->o;
  size_t L = a->lanes, C = o->n_out;
  /* Each lane back in the signal's units: its scale is chosen from its first
  ** non-zero value (a lane still 0 is silent), its first value is added
  ** back unless the high-pass removed it. */
  for (size_t l = 0; l < L; l++) {
    a->centre[l] = o->highpass > 0 ? 0 : -a->offset[l] * a->scale[l];
    a->lane_gain[l] = a->scale[l] != 0 ? 1 / a->scale[l] : 0;
  }
  au_render_frames(a, in, n, a->spooled, st->out);
  for (size_t i = 0; i < n * C; i++) {
    st->out[i] *= o->gain;
    if (fabs(st->out[i]) > st->peak) st->peak = fabs(st->out[i]);
  }
  return limit_and_write(a, st->out, n);
}


int au_stream_finish(nm_audio *a, nm_audio_report *rep)
{
  struct au_stream *st = a->stream;
  size_t C = a->o.n_out;
  int rc = au_flush_input(a);
  /* never expected: the tail covers the filter */
  while (rc == NM_OK && a->spooled < a->n_frames) {
    long n = a->n_frames - a->spooled < CHUNK ? a->n_frames - a->spooled : CHUNK;
    memset(a->spool_buf, 0, (size_t)n * a->lanes * sizeof(float));
    rc = au_stream_frames(a, a->spool_buf, (size_t)n);
    a->spooled += n;
  }
  /* the frames still in the look-ahead */
  memset(st->out, 0, C * sizeof *st->out);
  for (size_t k = 0; rc == NM_OK && k + 1 < st->D && st->written < a->n_frames; k++)
    rc = limit_and_write(a, st->out, 1);
  if (rc != NM_OK) return rc;
  rep->frames = (size_t)st->written;
  rep->samples_in = a->n_valid;
  rep->ratio = a->ratio;
  rep->stages = a->n_stages + (a->dec_m > 1);
  rep->decimation = a->dec_m;
  rep->gain = a->o.gain;
  rep->peak = a->o.gain != 0 ? st->peak / a->o.gain : 0;
  rep->limited_db = -20 * log10(st->lm.min_g);
  rep->fade_in = a->fade_in;
  rep->fade_out = a->fade_out;
  for (size_t i = 0; i < a->o.n_in; i++) a->input_gain[i] = 1;   /* mixed as given */
  errno = 0;
  if (fclose(st->f) != 0) {
    st->f = NULL;
    return stdout_failed(&a->err);
  }
  st->f = NULL;
  a->rendered = 1;
  return NM_OK;
}


void au_stream_free(nm_audio *a)
{
  struct au_stream *st = a->stream;
  if (!st) return;
  if (st->f) fclose(st->f);
  au_limiter_free(&st->lm);
  free(st->out);
  free(st->lim);
  free(st->bytes);
  free(st);
  a->stream = NULL;
}
