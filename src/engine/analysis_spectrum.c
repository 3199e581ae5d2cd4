/*
** analysis_spectrum.c: neurolib's getPowerSpectrum and getMeanPowerSpectrum:
** Welch's method as scipy.signal.welch computes it (periodic Hann window, 50 %
** overlap, each segment's mean removed, "spectrum" scaling, one-sided), the
** transforms by FFTW's real-to-complex FFT (Debian's libfftw3): within ~1e-15
** of the exact bins for every segment length, primes included, as scipy's
** pocketfft is (docs/analysis.md).  Plans are made with FFTW_ESTIMATE (no
** timing: the same plan, hence the same bits, on every run) under a lock
** (FFTW's planner is not thread-safe; executing a plan is).
*/
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "engine.h"


size_t nm_spectrum_nperseg(size_t n, double dt, double windowsize_s)
{
  double m = windowsize_s * 1000.0 / dt;      /* int(spectrum_windowsize * 1000 / dt) */
  if (!(m >= 1)) return 0;
  if (m >= (double)n) return n;
  return (size_t)m;
}


/* Welch's one-sided power (m/2 + 1 bins) of x (n samples) in segments of m. */
typedef struct {
  size_t m;
  double *win;                /* the window (m) */
  double *seg;                /* a segment (m, FFTW's alignment), the plan's input */
  fftw_complex *bins;         /* its transform (m/2 + 1), the plan's output */
  fftw_plan plan;
  double scale;               /* 1 / (Σ win)^2 */
} welch;

static pthread_mutex_t planner = PTHREAD_MUTEX_INITIALIZER;

static void welch_free(welch *w)
{
  free(w->win);
  pthread_mutex_lock(&planner);
  if (w->plan) fftw_destroy_plan(w->plan);
  pthread_mutex_unlock(&planner);
  fftw_free(w->seg);
  fftw_free(w->bins);
}

static int welch_init(welch *w, size_t m, nm_error *err)
{
  memset(w, 0, sizeof *w);
  w->m = m;
  w->win = malloc(m * sizeof *w->win);
  w->seg = fftw_alloc_real(m);
  w->bins = fftw_alloc_complex(m / 2 + 1);
  if (w->seg && w->bins && m <= INT_MAX) {
    pthread_mutex_lock(&planner);
    w->plan = fftw_plan_dft_r2c_1d((int)m, w->seg, w->bins, FFTW_ESTIMATE);
    pthread_mutex_unlock(&planner);
  }
  if (!w->win || !w->plan) {
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
  return NM_OK;
}

/* Adds the averaged periodogram of x * sc (n >= m samples; sc a power of two)
** to P[0 .. m/2]. */
static int welch_add(welch *w, const double *x, double sc, size_t n, double *P,
                     nm_error *err)
{
  size_t m = w->m, half = m / 2, step = m - half;
  size_t K = (n - half) / step, nb = m / 2 + 1;
  double *acc = calloc(nb, sizeof *acc);
  if (!acc) return nm_fail(err, NM_ENOMEM, "power spectrum: out of memory");
  for (size_t k = 0; k < K; k++) {
    const double *s = x + k * step;
    double mean = nm_pairwise_sum_scaled(s, m, 1, sc) / (double)m;
    for (size_t i = 0; i < m; i++) w->seg[i] = w->win[i] * (s[i] * sc - mean);
    fftw_execute(w->plan);
    for (size_t b = 0; b < nb; b++) {
      double re = w->bins[b][0], im = w->bins[b][1];
      double p = (re * re + im * im) * w->scale;
      if (b > 0 && 2 * b != m) p *= 2;      /* one-sided: every bin but 0 and Nyquist twice */
      acc[b] += p;
    }
  }
  for (size_t b = 0; b < nb; b++) P[b] += acc[b] / (double)K;
  free(acc);
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
  int st = welch_init(&w, m, err);
  if (st != NM_OK) return st;
  size_t nb = m / 2 + 1;
  double *sum = calloc(nb, sizeof *sum), *one = calloc(nb, sizeof *one);
  if (!sum || !one) {
    st = nm_fail(err, NM_ENOMEM, "power spectrum: out of memory");
    goto done;
  }
  /* getMeanPowerSpectrum: each row's spectrum added in turn, then / rows;
  ** of the data scaled into range (|x| near 1e300 has squares beyond a
  ** double) and scaled back (exactly) unless normalised. */
  double sc = nm_unit_scale(ts, rows * n);
  int e;
  frexp(sc, &e);
  for (size_t r = 0; r < rows; r++) {
    if (nm_analysis_stopped()) {
      st = nm_analysis_fail_stopped(err, "power spectrum");
      goto done;
    }
    memset(one, 0, nb * sizeof *one);
    st = welch_add(&w, ts + r * n, sc, n, one, err);
    if (st != NM_OK) goto done;
    for (size_t b = 0; b < nb; b++) sum[b] += one[b];
  }
  for (size_t b = 0; b < kept; b++) P[b] = sum[b] / (double)rows;
  if (normalize) normalise(P, kept);
  else if (sc != 1.0)
    for (size_t b = 0; b < kept; b++) P[b] = ldexp(P[b], -2 * (e - 1));   /* sc = 2^(e-1) */
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
