/*
** audio_resample.c: the audio writer's resampling, from the input rate to the
** audio rate: for strong down-sampling a decimating Kaiser FIR first, then
** libsamplerate's band-limited sinc converters in groups of lanes, in stages
** when the ratio is beyond 1:128.  The final frames go to the spool
** (au_drain).
*/
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio_impl.h"


/* Half-length of libsamplerate's filters in zero crossings (its coefficient
** tables' length over their increment), rounded up. */
static double half_length(int quality)
{
  return quality == NM_AUDIO_BEST ? 143 : quality == NM_AUDIO_MEDIUM ? 46 : 20;
}


static int src_type(int quality)
{
  return quality == NM_AUDIO_BEST ? SRC_SINC_BEST_QUALITY
       : quality == NM_AUDIO_MEDIUM ? SRC_SINC_MEDIUM_QUALITY : SRC_SINC_FASTEST;
}



/*
** For ratio <= 1/4 a first stage decimates by M = floor(1 / (2 ratio)) (at
** most 64) with a Kaiser-windowed sinc FIR: it passes the audio band (input
** frequencies up to ratio/2 of the input rate) and stops 110 dB from 1/M -
** ratio/2 on, so nothing can fold into that band; what folds into the
** transition lands above the audio band, where libsamplerate removes it.
** libsamplerate then works on M times fewer samples: per input sample ~13
** multiply-adds here plus 2 x 46 / M there, instead of 2 x 46.
*/
static int decimator_design(nm_audio *a, int *ok)
{
  long M = (long)floor(1 / (2 * a->ratio));
  if (M > 64) M = 64;
  if (M < 2) return 1;
  double pass = a->ratio / 2, stop = 1.0 / M - a->ratio / 2;     /* cycles per input sample */
  double A = 110, beta = 0.1102 * (A - 8.7), width = stop - pass;
  long taps = (long)ceil((A - 7.95) / (14.36 * width)) + 1;
  if (taps % 2 == 0) taps++;
  long H = (taps - 1) / 2;
  double fc = (pass + stop) / 2;
  a->dec_h = au_alloc(ok, (size_t)taps, sizeof(double));
  a->dec_buf = au_alloc(ok, (size_t)(taps + CHUNK) * a->lanes, sizeof(float));
  a->dec_out = au_alloc(ok, (size_t)CHUNK * a->lanes, sizeof(float));
  a->dec_acc = au_alloc(ok, a->lanes, sizeof(double));
  if (!*ok) return 0;
  au_kaiser_lowpass(a->dec_h, taps, fc, beta);
  a->dec_m = (int)M;
  a->dec_half = H;
  a->dec_base = -H;                         /* the stream starts with H zeros */
  a->dec_len = H;
  return 1;
}


/* check_opts keeps the ratio within 1e-9 .. 1e9: at most ceil(ln 1e9 / ln 128)
** = 5 stages, within MAX_STAGES. */
_Static_assert(MAX_STAGES >= 5, "the widest ratio needs 5 stages");

int au_resample_init(nm_audio *a, int *ok)
{
  const nm_audio_opts *o = &a->o;
  size_t L = a->lanes;
  a->ratio = o->rate / (o->speedup * o->in_rate);
  a->dec_m = 1;
  if (a->ratio <= 0.25 && !decimator_design(a, ok)) return 0;
  double sr = a->ratio * a->dec_m;                    /* what libsamplerate does */
  double lr = fabs(log(sr));
  a->n_stages = lr <= log(STAGE_RATIO) ? 1 : (int)ceil(lr / log(STAGE_RATIO));
  for (int s = 0; s < a->n_stages; s++) a->stage_ratio[s] = pow(sr, 1.0 / a->n_stages);
  double half = half_length(o->quality) + 2;
  /* The reflected head covers the filter's reach: `pad` input samples become
  ** `drop` audio frames, dropped.  pad * ratio is made as near to a whole
  ** number as a short search finds, so that frame j sits at input sample
  ** j / ratio (with a ratio of 441 a misplaced fraction would shift the
  ** audio by up to 220 frames). */
  double need = 1.1 * half * (a->ratio > 1 ? 1.0 : 1.0 / a->ratio) + (double)a->dec_half, best = 1;
  long p0 = (long)ceil(need);
  a->pad = p0;
  for (long p = p0; p < p0 + 4096 && best > 1e-9; p++) {
    double e = fabs((double)p * a->ratio - round((double)p * a->ratio));
    if (e < best) { best = e; a->pad = p; }
  }
  a->drop = lround((double)a->pad * a->ratio);
  a->n_groups = (L + GROUP_MAX - 1) / GROUP_MAX;
  a->groups = au_alloc(ok, a->n_groups, sizeof *a->groups);
  if (!*ok) return 0;
  for (size_t g = 0; g < a->n_groups; g++) {
    group *gr = &a->groups[g];
    gr->first = g * GROUP_MAX;
    gr->n = L - gr->first < GROUP_MAX ? L - gr->first : GROUP_MAX;
    for (int s = 0; s < a->n_stages; s++) {
      int e;
      gr->src[s] = src_new(src_type(o->quality), (int)gr->n, &e);
      if (!gr->src[s]) return 0;
      gr->buf[s] = au_alloc(ok, CHUNK * gr->n, sizeof(float));
    }
  }
  a->gather = au_alloc(ok, (size_t)CHUNK * GROUP_MAX, sizeof(float));
  return *ok;
}


void au_resample_free(nm_audio *a)
{
  for (size_t g = 0; a->groups && g < a->n_groups; g++) {
    for (int s = 0; s < a->n_stages; s++) {
      if (a->groups[g].src[s]) src_delete(a->groups[g].src[s]);
      free(a->groups[g].buf[s]);
    }
    free(a->groups[g].fifo);
  }
  free(a->groups);
}


/* Final frames of a group: the first `drop` belong to the reflected head. */
static int collect(nm_audio *a, group *gr, const float *in, long n)
{
  long skip = a->drop - gr->produced;
  if (skip < 0) skip = 0;
  if (skip > n) skip = n;
  gr->produced += n;
  size_t keep = (size_t)(n - skip);
  if (!keep) return NM_OK;
  if (keep > gr->fifo_cap - gr->fifo_len) {
    size_t cap = gr->n <= SIZE_MAX / sizeof *gr->fifo
                 ? nm_grow_cap(gr->fifo_cap, CHUNK, gr->fifo_len, keep, gr->n * sizeof *gr->fifo) : 0;
    if (cap == 0) {
      char why[160];
      snprintf(why, sizeof why, "the resampled frames waiting to be written cannot grow from %zu "
               "by %zu frames of %zu lanes: more bytes than can be counted", gr->fifo_len, keep, gr->n);
      return au_fail(a, NM_ENOMEM, why);
    }
    float *p = realloc(gr->fifo, cap * gr->n * sizeof *p);
    if (!p) return au_fail(a, NM_ENOMEM, "out of memory");
    gr->fifo = p;
    gr->fifo_cap = cap;
  }
  memcpy(gr->fifo + gr->fifo_len * gr->n, in + skip * (long)gr->n, keep * gr->n * sizeof(float));
  gr->fifo_len += keep;
  return NM_OK;
}


/* Runs n frames through stage s of a group and on; eoi flushes the stage. */
static int push(nm_audio *a, group *gr, int s, const float *in, long n, int eoi)
{
  static const float none[1] = { 0 };
  if (s == a->n_stages) return collect(a, gr, in, n);
  SRC_DATA d;
  memset(&d, 0, sizeof d);
  d.src_ratio = a->stage_ratio[s];
  d.end_of_input = eoi;
  long used = 0;
  for (;;) {
    d.data_in = n > used ? in + used * (long)gr->n : none;
    d.input_frames = n - used;
    d.data_out = gr->buf[s];
    d.output_frames = CHUNK;
    int e = src_process(gr->src[s], &d);
    if (e) return au_fail(a, NM_EINVAL, src_strerror(e));
    used += d.input_frames_used;
    if (d.output_frames_gen > 0) {
      int rc = push(a, gr, s + 1, gr->buf[s], d.output_frames_gen, 0);
      if (rc != NM_OK) return rc;
    }
    if (d.input_frames_used == 0 && d.output_frames_gen == 0) break;
    if (used >= n && !eoi) break;
  }
  return eoi ? push(a, gr, s + 1, none, 0, 1) : NM_OK;
}


/* Sends n frames (n x lanes, interleaved) to every group's resamplers. */
static int send_groups(nm_audio *a, const float *frames, long n, int eoi)
{
  size_t L = a->lanes;
  for (long done = 0; done < n || (eoi && done == 0);) {
    long m = n - done < CHUNK ? n - done : CHUNK;
    int last = eoi && done + m >= n;
    for (size_t g = 0; g < a->n_groups; g++) {
      group *gr = &a->groups[g];
      const float *p = frames ? frames + done * (long)L : NULL;
      if (a->n_groups > 1 && m > 0) {
        for (long f = 0; f < m; f++)
          memcpy(a->gather + f * (long)gr->n, frames + (done + f) * (long)L + gr->first,
                 gr->n * sizeof(float));
        p = a->gather;
      }
      int rc = push(a, gr, 0, p, m, last);
      if (rc != NM_OK) return rc;
    }
    done += m;
    if (m == 0) break;
  }
  double expect = floor((double)a->n_valid * a->ratio + 0.5);   /* frames so far */
  return au_drain(a, a->n_frames >= 0 ? a->n_frames
                  : expect < (double)(LONG_MAX / 2) ? (long)expect : LONG_MAX / 2);
}

static int decimate_produce(nm_audio *a)
{
  size_t L = a->lanes;
  long H = a->dec_half, M = a->dec_m, taps = 2 * H + 1;
  for (;;) {
    long k = 0;
    for (; a->dec_next * M + H < a->dec_base + a->dec_len && k < CHUNK; a->dec_next++, k++) {
      const float *x = a->dec_buf + (a->dec_next * M - H - a->dec_base) * (long)L;
      double *acc = a->dec_acc;
      for (size_t l = 0; l < L; l++) acc[l] = 0;
      for (long t = 0; t < taps; t++) {
        double c = a->dec_h[t];
        const float *xt = x + t * (long)L;
        for (size_t l = 0; l < L; l++) acc[l] += c * xt[l];
      }
      for (size_t l = 0; l < L; l++) a->dec_out[k * (long)L + (long)l] = (float)acc[l];
    }
    if (k == 0) break;
    int rc = send_groups(a, a->dec_out, k, 0);
    if (rc != NM_OK) return rc;
  }
  long gone = a->dec_next * M - H - a->dec_base;        /* frames no output needs any more */
  if (gone > a->dec_len) gone = a->dec_len;
  if (gone > 0) {
    memmove(a->dec_buf, a->dec_buf + gone * (long)L, (size_t)(a->dec_len - gone) * L * sizeof(float));
    a->dec_base += gone;
    a->dec_len -= gone;
  }
  return NM_OK;
}



/*
** The decimator: output m is the FIR centred on input sample m * M (no delay:
** the taps are symmetric), so libsamplerate's frame j still sits at input
** sample j / ratio.  Before the first input the stream is zero (inside the
** reflected head, dropped); eoi appends dec_half zeros (inside the reflected
** tail) so that every output centred on the input is complete.
*/
static int decimate(nm_audio *a, const float *frames, long n, int eoi)
{
  size_t L = a->lanes;
  long taps = 2 * a->dec_half + 1;
  long zeros = eoi ? a->dec_half : 0;
  for (long done = 0; done < n + zeros;) {
    long m = n + zeros - done, room = taps + CHUNK - a->dec_len;
    if (m > room) m = room;
    float *to = a->dec_buf + a->dec_len * (long)L;
    long real = done < n ? (n - done < m ? n - done : m) : 0;
    if (real) memcpy(to, frames + done * (long)L, (size_t)real * L * sizeof(float));
    if (m > real) memset(to + real * (long)L, 0, (size_t)(m - real) * L * sizeof(float));
    a->dec_len += m;
    done += m;
    int rc = decimate_produce(a);
    if (rc != NM_OK) return rc;
  }
  return eoi ? send_groups(a, NULL, 0, 1) : NM_OK;
}


int au_send(nm_audio *a, const float *frames, long n, int eoi)
{
  return a->dec_m > 1 ? decimate(a, frames, n, eoi) : send_groups(a, frames, n, eoi);
}
