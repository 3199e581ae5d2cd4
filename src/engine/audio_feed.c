/*
** audio_feed.c: pass 1 of the audio writer, the input side: each row's lanes
** (the input signals, or the premixed channels, or their envelopes) are
** scaled by a power of two, made relative to their first value, extended at
** both ends by odd reflection and sent to the resamplers in blocks.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "audio_impl.h"

/* The reflected head: 2 x0 - x[i] for i = pad .. 1, then the head itself. */
static int emit_head(nm_audio *a)
{
  size_t L = a->lanes;
  long have = a->n_valid < a->pad + 1 ? a->n_valid : a->pad + 1;
  for (long i = a->pad; i >= 1;) {
    size_t n = 0;
    for (; i >= 1 && n < CHUNK; i--, n++) {
      long k = i < have ? i : have - 1;
      for (size_t l = 0; l < L; l++)
        a->block[n * L + l] = 2 * a->head[l] - a->head[(size_t)k * L + l];
    }
    int rc = au_send(a, a->block, (long)n, 0);
    if (rc != NM_OK) return rc;
  }
  a->head_done = 1;
  return au_send(a, a->head, have, 0);
}


/* "x.3" (the input's name), "signal 3", or "channel 1 (a mix)" for a premixed lane. */
static void lane_name(const nm_audio *a, size_t l, char *out, size_t size)
{
  if (a->premix) snprintf(out, size, "the mix of channel %zu", l);
  else if (a->names) snprintf(out, size, "'%s'", a->names[l]);
  else snprintf(out, size, "signal %zu", l);
}


/* Lane l's scale: 2^e puts |level| at 2^SCALE_AT (e within double's range). */
static void choose_scale(nm_audio *a, size_t l, double level)
{
  int e = SCALE_AT - ilogb(level);
  e = e < -1074 ? -1074 : e > 1023 ? 1023 : e;
  a->scale_exp[l] = e;
  a->scale[l] = ldexp(1.0, e);
}


/* A value beyond SCALED_MAX: the lane's range is more than audio can hold. */
static int too_wide(nm_audio *a, size_t l, double value)
{
  char who[160], why[512];
  lane_name(a, l, who, sizeof who);
  double first = a->offset[l] != 0 ? a->offset[l] : ldexp(1.0, SCALE_AT - a->scale_exp[l]);
  /* the bound is on the change from the start in units of the start's power of two (2^170),
  ** so it is about 1e51 times the start: between 0.75e51 and 1.5e51 */
  snprintf(why, sizeof why, "%s went from %s%.4g to %.4g, a change of %.3g times its start: more than "
           "audio can hold (about 1e51 times; sonify a part with 'skip', or a bounded variable)", who,
           a->offset[l] != 0 ? "" : "about ", first, value, fabs(value - a->offset[l]) / fabs(first));
  return au_fail(a, NM_EINVAL, why);
}


/* One input row: the lanes' values (mixed, or the envelope), then buffered. */
static int take(nm_audio *a, const double *row, const size_t *cols)
{
  size_t L = a->lanes;
  double *x = a->x;
  if (a->premix) {
    for (size_t l = 0; l < L; l++) x[l] = 0;
    for (size_t k = 0; k < a->n_pre; k++) x[a->pre[k].out] += a->pre[k].gain * row[cols[a->pre[k].in]];
  } else {
    for (size_t l = 0; l < L; l++) x[l] = row[cols[l]];
  }
  for (size_t l = 0; l < L; l++)
    if (!isfinite(x[l])) {
      char who[160], why[512];
      lane_name(a, l, who, sizeof who);
      snprintf(why, sizeof why, "%s is %s: audio needs finite values%s", who,
               isnan(x[l]) ? "NaN" : x[l] > 0 ? "+inf" : "-inf",
               a->premix ? " (a mix of finite values beyond the largest number, 1.8e308, is infinite)" : "");
      return au_fail(a, NM_EINVAL, why);
    }
  if (a->o.mode == NM_AUDIO_MAPPING && a->o.envelope > 0) {
    /* band-limited envelope: high-pass, rectify, low-pass twice (4th order) */
    for (size_t l = 0; l < L; l++) {
      bq_state *st = a->env + 3 * l;
      if (a->n_valid == 0) au_bq_settle(&a->env_hp, &st[0], x[l]);
      double v = fabs(au_bq_run(&a->env_hp, &st[0], x[l]));
      v = au_bq_run(&a->env_lp, &st[1], v);
      x[l] = M_PI_2 * au_bq_run(&a->env_lp, &st[2], v);
    }
  }
  /* Values go to the resampler (single precision) relative to the first one,
  ** so that a large constant part costs no precision, and scaled (SCALE_AT). */
  if (a->n_valid == 0) memcpy(a->offset, x, L * sizeof *x);
  float *t = a->tail + (size_t)(a->n_valid % (a->pad + 1)) * L;
  for (size_t l = 0; l < L; l++) {
    if (a->scale[l] == 0) {
      if (x[l] == 0) { t[l] = 0; continue; }          /* offset 0 too: 0 at any scale */
      choose_scale(a, l, a->offset[l] != 0 ? a->offset[l] : x[l]);
    }
    double v = x[l] * a->scale[l] - a->offset[l] * a->scale[l];
    if (!(fabs(v) <= SCALED_MAX)) return too_wide(a, l, x[l]);
    t[l] = (float)v;
  }
  for (size_t l = 0; l < L; l++) {      /* the input's variance, against the audio's (render) */
    a->in_sum[l] += t[l];
    a->in_sumsq[l] += (double)t[l] * t[l];
  }
  a->n_taken++;
  if (!a->head_done) {
    memcpy(a->head + (size_t)a->n_valid * L, t, L * sizeof *t);
    a->n_valid++;
    return a->n_valid == a->pad + 1 ? emit_head(a) : NM_OK;
  }
  a->n_valid++;
  memcpy(a->block + a->block_len * L, t, L * sizeof *t);
  if (++a->block_len == CHUNK) {
    a->block_len = 0;
    return au_send(a, a->block, CHUNK, 0);
  }
  return NM_OK;
}


int nm_audio_feed(nm_audio *a, const double *rows, size_t n_rows, size_t stride,
                  const size_t *cols)
{
  if (a->finished || a->n_frames >= 0) return NM_EINVAL;
  for (size_t r = 0; r < n_rows; r++) {
    if (a->skip_left > 0) { a->skip_left--; continue; }
    int rc = take(a, rows + r * stride, cols);
    if (rc != NM_OK) return rc;
  }
  return NM_OK;
}


/* The rest of the input, the reflected tail, and the end of every stage. */
int au_flush_input(nm_audio *a)
{
  size_t L = a->lanes;
  int rc = a->head_done ? NM_OK : emit_head(a);
  if (rc == NM_OK && a->block_len) rc = au_send(a, a->block, (long)a->block_len, 0);
  a->block_len = 0;
  if (rc != NM_OK) return rc;
  long ring = a->pad + 1, last = a->n_valid - 1;
  const float *xl = a->tail + (size_t)(last % ring) * L;
  for (long i = 1; i <= a->pad;) {
    size_t n = 0;
    for (; i <= a->pad && n < CHUNK; i++, n++) {
      long back = i < a->n_valid ? i : a->n_valid - 1;
      if (back > a->pad) back = a->pad;
      const float *xk = a->tail + (size_t)((last - back) % ring) * L;
      for (size_t l = 0; l < L; l++) a->block[n * L + l] = 2 * xl[l] - xk[l];
    }
    rc = au_send(a, a->block, (long)n, i > a->pad);
    if (rc != NM_OK) return rc;
  }
  a->input_done = 1;
  return au_drain(a, a->n_frames);
}
