/*
** audio_render.c: passes 2 and 3 of the audio writer, from the spool: each
** lane's gain (or the mapping of parameter mapping), mixing into channels,
** fades; pass 2 finds the mix's peak, pass 3 scales it to the headroom,
** limits it if needed and encodes it (nm_audio_render).
*/
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio_impl.h"

/* Lane l's largest |value| in its scaled units (its values are stored relative to
** its first one): what "does not vary" is measured against. */
static double own_magnitude(const nm_audio *a, size_t l)
{
  double off = a->offset[l] * a->scale[l];
  return fmax(fabs(a->mx[l] + off), fabs(a->mn[l] + off));
}


static void lane_gains(nm_audio *a, nm_audio_report *rep)
{
  size_t L = a->lanes;
  double n = (double)a->n_frames;
  const nm_audio_opts *o = &a->o;
  if (o->mode == NM_AUDIO_MAPPING) {
    /* the driving signal maps onto 0 .. 1: per signal, or one range for all */
    double lo = INFINITY, hi = -INFINITY;
    for (size_t l = 0; l < L; l++) {
      if (a->mn[l] < lo) lo = a->mn[l];
      if (a->mx[l] > hi) hi = a->mx[l];
    }
    int shared = o->normalize == NM_NORM_RELATIVE || o->normalize == NM_NORM_NONE;
    if (shared) {      /* in the signals' own units: each lane has its offset and scale */
      lo = INFINITY, hi = -INFINITY;
      for (size_t l = 0; l < L; l++) {
        if (a->scale[l] == 0) { lo = fmin(lo, 0); hi = fmax(hi, 0); continue; }   /* all 0 */
        lo = fmin(lo, a->mn[l] / a->scale[l] + a->offset[l]);
        hi = fmax(hi, a->mx[l] / a->scale[l] + a->offset[l]);
      }
    }
    for (size_t l = 0; l < L; l++) {
      double s = a->scale[l] != 0 ? a->scale[l] : 1;
      a->lo[l] = shared ? (lo - a->offset[l]) * s : a->mn[l];
      a->span[l] = shared ? (hi - lo) * s : a->mx[l] - a->mn[l];
      /* a signal that does not vary (by its own magnitude) drives no tone: silent */
      a->lane_gain[l] = 1;
      if (!(a->span[l] > (shared ? 1e-12 * (fabs(a->mx[l]) + fabs(a->mn[l]))
                                 : 0x1p-40 * own_magnitude(a, l)))) {
        a->span[l] = 0;
        a->lane_gain[l] = 0;
        rep->silent++;
      }
    }
    return;
  }
  /* Levels are in each lane's scaled units.  A lane is silent when it does
  ** not vary: its level 2^-40 (1e-12) or less of its own largest magnitude
  ** (rounding about a constant), whatever the other lanes' magnitudes. */
  double *level = a->lo;                             /* scratch */
  int e_ref = INT_MAX;                               /* the largest lane's scale */
  for (size_t l = 0; l < L; l++) {
    double mean = a->sum[l] / n;
    int hp = o->highpass > 0;
    a->centre[l] = o->dc ? mean : hp ? 0 : -a->offset[l] * a->scale[l];
    double c = a->centre[l];
    double peak = fmax(a->mx[l] - c, c - a->mn[l]);
    double ms = a->sumsq[l] / n - 2 * c * a->sum[l] / n + c * c;
    level[l] = o->normalize == NM_NORM_RMS ? sqrt(fmax(ms, 0)) : peak;
    if (a->scale[l] != 0 && a->scale_exp[l] < e_ref) e_ref = a->scale_exp[l];
  }
  if (e_ref == INT_MAX) e_ref = 0;
  a->ref_exp = e_ref;
  for (size_t l = 0; l < L; l++) {
    int silent = !(level[l] > 0x1p-40 * own_magnitude(a, l)) || level[l] == 0;
    if (silent && !a->premix) rep->silent++;
    /* a varying signal whose variance the resampler all but removed lies above the
    ** audio band once sped up (a high-pass removes variance of its own: not judged) */
    if (!silent && !a->premix && o->highpass <= 0 && a->n_taken > 0) {
      double t = (double)a->n_taken, mi = a->in_sum[l] / t, mo = a->sum[l] / n;
      double vi = a->in_sumsq[l] / t - mi * mi, vo = a->sumsq[l] / n - mo * mo;
      if (vi > 0 && !(vo >= 0.01 * vi)) rep->filtered++;
    }
    if (o->normalize == NM_NORM_PEAK || o->normalize == NM_NORM_RMS)
      a->lane_gain[l] = silent ? 0 : 1 / level[l];
    else      /* relative amplitudes: every lane to the largest one's scale */
      a->lane_gain[l] = a->scale[l] != 0 ? ldexp(1.0, e_ref - a->scale_exp[l]) : 0;
  }
}


static double fade_gain(const nm_audio *a, long f)
{
  double w = 1;
  if (f < a->fade_in) w *= 0.5 - 0.5 * cos(M_PI * ((double)f + 0.5) / (double)a->fade_in);
  long back = a->planned - 1 - f;
  if (back < a->fade_out) w *= 0.5 - 0.5 * cos(M_PI * ((double)back + 0.5) / (double)a->fade_out);
  return w;
}


void au_render_frames(nm_audio *a, const float *in, size_t n, long f0, double *out)
{
  const nm_audio_opts *o = &a->o;
  size_t L = a->lanes, C = o->n_out;
  double *v = a->x;
  double step = 2 * M_PI / o->rate, lrange = log(o->pitch_hi / o->pitch_lo);
  for (size_t f = 0; f < n; f++) {
    const float *s = in + f * L;
    if (o->mode == NM_AUDIO_AUDIFY) {
      for (size_t l = 0; l < L; l++) v[l] = ((double)s[l] - a->centre[l]) * a->lane_gain[l];
    } else {
      for (size_t l = 0; l < L; l++) {
        if (a->lane_gain[l] == 0) { v[l] = 0; continue; }          /* does not vary: silent */
        double u = ((double)s[l] - a->lo[l]) / a->span[l];
        u = u < 0 ? 0 : u > 1 ? 1 : u;
        double amp = (o->drive & NM_DRIVE_AMPLITUDE) ? u : 1;
        double freq = (o->drive & NM_DRIVE_PITCH) ? o->pitch_lo * exp(u * lrange) : a->carrier[l];
        a->phase[l] += step * freq;
        if (a->phase[l] > 2 * M_PI) a->phase[l] -= 2 * M_PI;
        v[l] = amp * sin(a->phase[l]);
      }
    }
    double *y = out + f * C;
    for (size_t c = 0; c < C; c++) y[c] = 0;
    for (size_t k = 0; k < a->n_post; k++) y[a->post[k].out] += a->post[k].gain * v[a->post[k].in];
    long fr = f0 + (long)f;
    if (fr < a->fade_in || fr >= a->planned - a->fade_out) {
      double w = fade_gain(a, fr);
      for (size_t c = 0; c < C; c++) y[c] *= w;
    }
  }
}



/* Has a signal asked to stop (nm_audio_opts.interrupt)? */
static int interrupted(const nm_audio *a)
{
  return a->o.interrupt && *a->o.interrupt;
}


/* Pass 2: the peak of the mix before the file-wide gain. */
static int measure(nm_audio *a, double *out, double *peak)
{
  size_t C = a->o.n_out;
  *peak = 0;
  memset(a->phase, 0, a->lanes * sizeof *a->phase);
  errno = 0;
  if (fseek(a->spool, 0, SEEK_SET) != 0) return au_fail_errno(a, "reading its temporary spool back");
  for (long f0 = 0; f0 < a->n_frames; f0 += CHUNK) {
    size_t n = (size_t)(a->n_frames - f0 < CHUNK ? a->n_frames - f0 : CHUNK);
    if (interrupted(a)) return au_fail(a, NM_EINTR, "interrupted");
    int rc = au_spool_read(a, f0, n);
    if (rc != NM_OK) return rc;
    au_render_frames(a, a->spool_buf, n, f0, out);
    for (size_t i = 0; i < n * C; i++) if (fabs(out[i]) > *peak) *peak = fabs(out[i]);
  }
  return NM_OK;
}



/* Pass 3: scale, limit if needed, encode. */
static int write_all(nm_audio *a, double *out, double peak, nm_audio_report *rep)
{
  size_t C = a->o.n_out;
  double G = a->file_gain;
  int limit = peak * G > 1;
  au_limiter lm;
  memset(&lm, 0, sizeof lm);
  size_t D = (size_t)ceil(LIMIT_LOOKAHEAD * a->o.rate);
  if (D < 2) D = 2;
  void *buf = malloc((size_t)CHUNK * C * sizeof(int));    /* int, float or short */
  double *lim = malloc((size_t)CHUNK * C * sizeof *lim);
  int rc = buf && lim ? NM_OK : NM_ENOMEM;
  if (rc == NM_OK && limit) rc = au_limiter_init(&lm, D, C, 1 - exp(-1 / (LIMIT_RELEASE * a->o.rate)));
  memset(a->phase, 0, a->lanes * sizeof *a->phase);
  if (rc == NM_OK && fseek(a->spool, 0, SEEK_SET) != 0) rc = NM_EIO;
  long emitted = 0;
  for (long f0 = 0; rc == NM_OK && f0 < a->n_frames; f0 += CHUNK) {
    size_t n = (size_t)(a->n_frames - f0 < CHUNK ? a->n_frames - f0 : CHUNK);
    if (interrupted(a)) { rc = au_fail(a, NM_EINTR, "interrupted"); break; }
    rc = au_spool_read(a, f0, n);
    if (rc != NM_OK) break;
    au_render_frames(a, a->spool_buf, n, f0, out);
    for (size_t i = 0; i < n * C; i++) out[i] *= G;
    if (!limit) { rc = au_write_frames(a, out, n, buf); continue; }
    size_t m = 0;
    for (size_t f = 0; f < n; f++, emitted++) {
      au_limiter_step(&lm, out + f * C, lim + m * C);
      if (emitted >= (long)D - 1) m++;
    }
    rc = au_write_frames(a, lim, m, buf);
  }
  if (limit && rc == NM_OK) {             /* the frames still in the look-ahead */
    double *zero = calloc(C, sizeof *zero);
    size_t m = 0;
    if (!zero) rc = NM_ENOMEM;
    for (size_t k = 0; rc == NM_OK && k + 1 < D && emitted < a->n_frames + (long)D - 1; k++, emitted++) {
      if (emitted >= (long)D - 1) au_limiter_step(&lm, zero, lim + m++ * C);
      else au_limiter_step(&lm, zero, lim);
    }
    if (rc == NM_OK) rc = au_write_frames(a, lim, m, buf);
    free(zero);
    rep->limited_db = -20 * log10(lm.min_g);
  }
  if (rc == NM_ENOMEM) au_fail(a, rc, "out of memory");
  if (rc == NM_EIO && !a->err.why[0]) au_fail(a, rc, "spool");
  au_limiter_free(&lm);
  free(buf);
  free(lim);
  return rc;
}


/* Fades in frames, computed in double (any finite length is allowed); a short
** file is shared between them in proportion to the fades asked (each asked
** length, not its clamp to the file: fade = { 3, 1 } on a short file gives
** three quarters and one quarter). */
void au_plan_fades(nm_audio *a, long frames)
{
  double n = (double)frames;
  double fi = a->o.fade_in * a->o.rate, fo = a->o.fade_out * a->o.rate;
  if (!(fi + fo <= n)) {          /* (also when the product overflowed to inf) */
    double m = fmax(a->o.fade_in, a->o.fade_out);    /* > 0 here; the shares stay finite */
    double ri = a->o.fade_in / m, ro = a->o.fade_out / m;
    fi = floor(n * (ri / (ri + ro)));
    fo = floor(n * (ro / (ri + ro)));
  }
  a->planned = frames;
  a->fade_in = (long)floor(fi + 0.5);
  a->fade_out = (long)floor(fo + 0.5);
  if (a->fade_in + a->fade_out > frames) a->fade_out = frames - a->fade_in;
}


int nm_audio_render(nm_audio *a, nm_audio_report *rep)
{
  memset(rep, 0, sizeof *rep);
  if (a->finished || a->rendered || a->n_frames >= 0 || (!a->sf && !a->stream))
    return au_fail(a, NM_EINVAL, "the writer was already finished");
  nm_error_clear(&a->err);
  if (a->n_valid == 0)
    return au_fail(a, NM_EINVAL, "no samples to sonify (after the skip)");
  size_t L = a->lanes;
  double frames = floor((double)a->n_valid * a->ratio + 0.5);
  double most = MAX_FRAMES(L > a->o.n_out ? L : a->o.n_out);
  if (frames > most) {
    return nm_fail(&a->err, NM_EINVAL, "cannot write '%s': %ld input samples make %.4g audio "
                   "frames, more than can be represented (at most %.4g)", a->path, a->n_valid,
                   frames, most);
  }
  a->n_frames = (long)frames;
  if (a->n_frames < 1)
    return nm_fail(&a->err, NM_EINVAL, "cannot write '%s': the signal is shorter than one audio "
                   "frame (%ld samples at %g Hz, %g ms simulated, make %.3g frames at %g Hz with "
                   "speed-up %g): lower the speed-up or simulate longer", a->path, a->n_valid,
                   a->o.in_rate, (double)a->n_valid / a->o.in_rate * 1000, (double)a->n_valid * a->ratio,
                   (double)a->o.rate, a->o.speedup);
  if (a->stream) return au_stream_finish(a, rep);
  int rc = au_flush_input(a);
  if (rc != NM_OK) return rc;
  rc = au_spool_pad(a);    /* never expected to pad: the tail covers the filter */
  if (rc != NM_OK) return rc;
  rep->frames = (size_t)a->n_frames;
  rep->samples_in = a->n_valid;
  rep->ratio = a->ratio;
  if (a->o.mode == NM_AUDIO_MAPPING && a->o.envelope > 0) {
    /* two 2nd-order Butterworth low-passes: 2 sqrt(2) / (2 pi fc) s of delay at DC */
    double delay = 2 * M_SQRT2 / (2 * M_PI * a->o.envelope) / a->o.speedup;
    double lead = floor(delay * a->o.rate + 0.5);
    a->lead = lead < (double)(a->n_frames - 1) ? (long)lead : a->n_frames - 1;
  }
  rep->stages = a->n_stages + (a->dec_m > 1);
  rep->decimation = a->dec_m;
  lane_gains(a, rep);
  au_plan_fades(a, a->n_frames);
  rep->fade_in = a->fade_in;
  rep->fade_out = a->fade_out;
  rc = au_choose_rf64(a);
  if (rc != NM_OK) return rc;
  double *out = malloc((size_t)CHUNK * a->o.n_out * sizeof *out);
  if (!out) return au_fail(a, NM_ENOMEM, "out of memory");
  double peak;
  rc = measure(a, out, &peak);
  if (rc == NM_OK) {
    if (a->o.normalize == NM_NORM_NONE)       /* the rendered lanes are scaled by 2^ref_exp */
      a->file_gain = fmin(ldexp(a->o.gain, a->premix ? -a->ref_exp : 0), DBL_MAX);
    else a->file_gain = peak > 0 ? pow(10, -a->o.headroom / 20) / peak : 1;
    /* reported in the signals' units: a premixed lane is the mix times 2^ref_exp */
    rep->peak = a->premix ? ldexp(peak, -a->ref_exp) : peak;
    rep->gain = a->o.normalize == NM_NORM_NONE ? a->o.gain
              : a->premix ? ldexp(a->file_gain, a->ref_exp) : a->file_gain;
    rc = write_all(a, out, peak, rep);
  }
  free(out);
  if (rc != NM_OK) return rc;
  for (size_t i = 0; i < a->o.n_in; i++)       /* from the signal's units */
    a->input_gain[i] = a->premix ? 1 : a->lane_gain[i] * a->scale[i];
  int closed = sf_close(a->sf);
  a->sf = NULL;
  if (closed != 0) return au_fail(a, NM_EIO, sf_error_number(closed));
  a->rendered = 1;
  return NM_OK;
}
