/*
** analysis_spectrum.c: neurolib's getPowerSpectrum and getMeanPowerSpectrum:
** Welch's method as scipy.signal.welch computes it (periodic Hann window, 50 %
** overlap, each segment's mean removed, "spectrum" scaling, one-sided), the
** transforms by GSL's mixed-radix real FFT, except for segment lengths with a
** prime factor above 13, where GSL's generic pass loses up to 1e-7 of a bin
** (a prime length such as 9973): there the kept bins are direct sums
** (pairwise, exact twiddles), as accurate as scipy's FFT (docs/analysis.md).
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_fft_real.h>

#include "engine.h"


size_t nm_spectrum_nperseg(size_t n, double dt, double windowsize_s)
{
  double m = windowsize_s * 1000.0 / dt;      /* int(spectrum_windowsize * 1000 / dt) */
  if (!(m >= 1)) return 0;
  if (m >= (double)n) return n;
  return (size_t)m;
}


/* GSL's real FFT is exact to ~1e-13 for the prime factors up to here and
** loses accuracy with larger ones (its generic radix pass). */
#define FFT_MAX_PRIME 13

static size_t largest_prime_factor(size_t m)
{
  size_t p = 1;
  for (size_t d = 2; d * d <= m; d++)
    while (m % d == 0) { p = d; m /= d; }
  return m > 1 ? m : p;
}

/* Welch's one-sided power (m/2 + 1 bins) of x (n samples) in segments of m;
** with `direct`, only the first `nkeep` bins (the others 0), by direct sums. */
typedef struct {
  size_t m, nkeep;
  int direct;
  double *win, *seg;          /* the window (m), a segment (m) */
  double *cs, *sn, *prod;     /* direct: cos and sin(2π j / m), products (m each) */
  double scale;               /* 1 / (Σ win)^2 */
  gsl_fft_real_wavetable *wt;
  gsl_fft_real_workspace *ws;
} welch;

static void welch_free(welch *w)
{
  free(w->win);
  free(w->seg);
  free(w->cs);
  free(w->sn);
  free(w->prod);
  if (w->wt) gsl_fft_real_wavetable_free(w->wt);
  if (w->ws) gsl_fft_real_workspace_free(w->ws);
}

/* The direct sums cost 2 · nkeep · m per segment, GSL's pass about m · p: direct
** where GSL is inaccurate (p > FFT_MAX_PRIME) and the sums cost at most ~4 times more. */
static int welch_init(welch *w, size_t m, size_t nkeep, nm_error *err)
{
  memset(w, 0, sizeof *w);
  w->m = m;
  w->nkeep = nkeep;
  size_t p = largest_prime_factor(m);
  w->direct = p > FFT_MAX_PRIME && nkeep <= 2 * p;
  w->win = malloc(m * sizeof *w->win);
  w->seg = malloc(m * sizeof *w->seg);
  int ok = w->win && w->seg;
  if (w->direct) {
    w->cs = malloc(m * sizeof *w->cs);
    w->sn = malloc(m * sizeof *w->sn);
    w->prod = malloc(m * sizeof *w->prod);
    ok = ok && w->cs && w->sn && w->prod;
  } else {
    w->wt = gsl_fft_real_wavetable_alloc(m);
    w->ws = gsl_fft_real_workspace_alloc(m);
    ok = ok && w->wt && w->ws;
  }
  if (!ok) {
    welch_free(w);
    return nm_fail(err, NM_ENOMEM, "power spectrum: out of memory (segments of %zu "
                     "samples)", m);
  }
  /* scipy's periodic Hann: general_cosine(m + 1, [0.5, 0.5]) without its last
  ** point, 0.5 + 0.5 cos(fac) with fac = np.linspace(-pi, pi, m + 1). */
  double step = (M_PI - -M_PI) / (double)m;
  for (size_t k = 0; k < m; k++) w->win[k] = 0.5 + 0.5 * cos((double)k * step + -M_PI);
  if (m == 1) w->win[0] = 1.0;              /* scipy's window of one point */
  double s = nm_pairwise_sum(w->win, m, 1);
  w->scale = 1.0 / (s * s);
  /* Twiddles from the angle of j / m reduced to [0, 1/2] turn (cos and sin
  ** each correctly rounded near enough: no error grows with j). */
  for (size_t j = 0; w->direct && j < m; j++) {
    size_t r = j <= m - j ? j : m - j;                 /* the angle 2π r / m, r <= m / 2 */
    double a = 2.0 * M_PI * ((double)r / (double)m);
    w->cs[j] = cos(a);
    w->sn[j] = j <= m - j ? sin(a) : -sin(a);
  }
  return NM_OK;
}

/* X_b = Σ seg[i] exp(-2πi b i / m) for b < nkeep, each sum pairwise: the
** re and im parts into out as GSL's half-complex order would hold them. */
static void direct_bins(welch *w, double *out)
{
  size_t m = w->m;
  for (size_t b = 0; b < w->nkeep; b++) {
    size_t j = 0;
    for (size_t i = 0; i < m; i++) {
      w->prod[i] = w->seg[i] * w->cs[j];
      j += b;
      if (j >= m) j -= m;
    }
    double re = nm_pairwise_sum(w->prod, m, 1);
    j = 0;
    for (size_t i = 0; i < m; i++) {
      w->prod[i] = -w->seg[i] * w->sn[j];
      j += b;
      if (j >= m) j -= m;
    }
    double im = nm_pairwise_sum(w->prod, m, 1);
    if (b == 0) out[0] = re;
    else {
      out[2 * b - 1] = re;
      if (2 * b != m) out[2 * b] = im;
    }
  }
}

/* Adds the averaged periodogram of x (n >= m samples) to P[0 .. m/2] (direct:
** to P[0 .. nkeep - 1]). */
static int welch_add(welch *w, const double *x, size_t n, double *P,
                     nm_error *err)
{
  size_t m = w->m, half = m / 2, step = m - half;
  size_t K = (n - half) / step, nb = m / 2 + 1;
  double *acc = calloc(nb, sizeof *acc);
  if (!acc) return nm_fail(err, NM_ENOMEM, "power spectrum: out of memory");
  double *hc = w->direct ? calloc(m, sizeof *hc) : w->seg;   /* the half-complex bins */
  if (!hc) {
    free(acc);
    return nm_fail(err, NM_ENOMEM, "power spectrum: out of memory");
  }
  if (w->direct) nb = w->nkeep;
  for (size_t k = 0; k < K; k++) {
    const double *s = x + k * step;
    double mean = nm_pairwise_sum(s, m, 1) / (double)m;
    for (size_t i = 0; i < m; i++) w->seg[i] = w->win[i] * (s[i] - mean);
    if (w->direct) direct_bins(w, hc);
    else {
      int st = gsl_fft_real_transform(w->seg, 1, m, w->wt, w->ws);
      if (st != GSL_SUCCESS) {
        free(acc);
        return nm_fail(err, NM_EINVAL, "power spectrum: the FFT of %zu samples "
                         "failed: %s", m, gsl_strerror(st));
      }
    }
    const double *seg = hc;
    /* GSL's half-complex order: re0, re1, im1, re2, im2, ... (re_{m/2} last for even m). */
    for (size_t b = 0; b < nb; b++) {
      double re = b == 0 ? seg[0] : seg[2 * b - 1];
      double im = (b == 0 || 2 * b == m) ? 0.0 : seg[2 * b];
      double p = (re * re + im * im) * w->scale;
      if (b > 0 && 2 * b != m) p *= 2;
      acc[b] += p;
    }
  }
  for (size_t b = 0; b < nb; b++) P[b] += acc[b] / (double)K;
  free(acc);
  if (w->direct) free(hc);
  return NM_OK;
}

/* The frequencies below maxfr, k · (1 / (m · (1 / fs))) as numpy's rfftfreq. */
static size_t kept_bins(size_t m, double dt, double maxfr, double *f)
{
  double fs = 1000.0 / dt, val = 1.0 / ((double)m * (1.0 / fs));
  size_t nb = 0;
  for (size_t k = 0; k <= m / 2; k++) {
    double fk = (double)k * val;
    if (!(fk < maxfr)) break;
    f[nb++] = fk;
  }
  return nb;
}

static void normalise(double *P, size_t nb)
{
  double mx = -INFINITY;
  for (size_t b = 0; b < nb; b++)
    if (P[b] > mx || isnan(P[b])) mx = P[b];
  for (size_t b = 0; b < nb; b++) P[b] /= mx;
}


int nm_mean_power_spectrum(const double *ts, size_t rows, size_t n, double dt, double maxfr,
                           double windowsize_s, int normalize, double *f, double *P,
                           size_t *n_bins, nm_error *err)
{
  *n_bins = 0;
  if (!(dt > 0) || !isfinite(dt))
    return nm_fail(err, NM_EINVAL, "power spectrum: dt must be a positive number "
                     "of ms, got %g", dt);
  if (rows == 0 || n < 2)
    return nm_fail(err, NM_EINVAL, "power spectrum: needs a series of at least 2 "
                     "samples, got %zu", rows == 0 ? 0 : n);
  size_t m = nm_spectrum_nperseg(n, dt, windowsize_s);
  if (m == 0)
    return nm_fail(err, NM_EINVAL, "power spectrum: spectrum_windowsize %g s is "
                     "shorter than one sample of %g ms", windowsize_s, dt);
  welch w;
  size_t kept = kept_bins(m, dt, maxfr, f);
  int st = welch_init(&w, m, kept, err);
  if (st != NM_OK) return st;
  size_t nb = m / 2 + 1;
  double *sum = calloc(nb, sizeof *sum), *one = calloc(nb, sizeof *one);
  if (!sum || !one) {
    st = nm_fail(err, NM_ENOMEM, "power spectrum: out of memory");
    goto done;
  }
  /* getMeanPowerSpectrum: each row's spectrum added in turn, then / rows. */
  for (size_t r = 0; r < rows; r++) {
    if (nm_analysis_stopped()) {
      st = nm_analysis_fail_stopped(err, "power spectrum");
      goto done;
    }
    memset(one, 0, nb * sizeof *one);
    st = welch_add(&w, ts + r * n, n, one, err);
    if (st != NM_OK) goto done;
    for (size_t b = 0; b < nb; b++) sum[b] += one[b];
  }
  for (size_t b = 0; b < kept; b++) P[b] = sum[b] / (double)rows;
  if (normalize) normalise(P, kept);
  *n_bins = kept;
done:
  free(sum); free(one);
  welch_free(&w);
  return st;
}


int nm_power_spectrum(const double *x, size_t n, double dt, double maxfr, double windowsize_s,
                      int normalize, double *f, double *P, size_t *n_bins,
                      nm_error *err)
{
  return nm_mean_power_spectrum(x, 1, n, dt, maxfr, windowsize_s, normalize, f, P, n_bins,
                                err);
}
