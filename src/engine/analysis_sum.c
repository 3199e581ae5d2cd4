/*
** analysis_sum.c: numpy's pairwise summation, so that the analysis functions'
** means and sums round as numpy 1.24's np.sum / np.mean do (eight running sums
** over blocks of up to 128 values, blocks halved recursively), and the power
** of two by which the analysis functions scale data too large or too small to
** square.
*/
#include <float.h>
#include <math.h>

#include "engine.h"

double nm_pairwise_sum_scaled(const double *a, size_t n, size_t stride, double s)
{
  if (n < 8) {
    double res = 0.0;
    for (size_t i = 0; i < n; i++) res += a[i * stride] * s;
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; j++) r[j] = a[(size_t)j * stride] * s;
    size_t i;
    for (i = 8; i < n - n % 8; i += 8)
      for (int j = 0; j < 8; j++) r[j] += a[(i + (size_t)j) * stride] * s;
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += a[i * stride] * s;
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return nm_pairwise_sum_scaled(a, n2, stride, s)
         + nm_pairwise_sum_scaled(a + n2 * stride, n - n2, stride, s);
}

double nm_pairwise_sum(const double *a, size_t n, size_t stride)
{
  return nm_pairwise_sum_scaled(a, n, stride, 1.0);
}


double nm_unit_scale(const double *x, size_t n)
{
  double m = 0.0;
  for (size_t k = 0; k < n; k++) {
    double a = fabs(x[k]);
    if (!(a <= DBL_MAX)) return 1.0;
    if (a > m) m = a;
  }
  int e;
  frexp(m, &e);
  if (m == 0.0 || (e >= -200 && e <= 200)) return 1.0;
  return ldexp(1.0, e > 1021 ? -1021 : e < -1021 ? 1021 : -e);
}
