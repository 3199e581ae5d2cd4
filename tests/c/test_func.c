/*
** test_func.c: the analysis functions' building blocks on inputs whose answers
** are known by hand: scipy's peak finder (plateaus, edges, distance,
** prominence), the Gaussian filter (reflected edges, weights summing to 1),
** Welch's spectrum of a sinusoid on a bin (A²/2 at its bin, A²/8 beside it
** with the Hann window), Pearson matrices (a constant row is NaN in corrcoef,
** 0 in fc), the KS statistic, and the Kuramoto order parameter of identical
** and of opposite traces.  The references in tests/spec/func_spec.lua hold
** the numbers against neurolib's.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/nm.h"
#include "test_main.h"

#define TWO_PI 6.283185307179586


static int same_peaks(const size_t *got, size_t n, const size_t *want, size_t m)
{
  if (n != m) return 0;
  for (size_t k = 0; k < n; k++)
    if (got[k] != want[k]) return 0;
  return 1;
}


static void test_peaks(void)
{
  size_t p[16], n;
  nm_error err = { 0 };
  /* Plateaus peak at their middle (rounded down); the ends never peak; a
  ** plateau running into the last sample is no peak. */
  const double a[] = { 5, 1, 3, 3, 3, 1, 2, 4, 4, 1, 0, 6, 6 };
  nm_find_peaks(a, 13, 1, 0, p, &n, &err);
  CHECK(same_peaks(p, n, (size_t[]){ 3, 7 }, 2), "find_peaks: plateau midpoints, no peak at the ends");
  /* Distance: from the highest down, closer neighbours are discarded. */
  const double b[] = { 0, 2, 0, 5, 0, 3, 0, 0, 0, 4, 0 };
  nm_find_peaks(b, 11, 3, 0, p, &n, &err);
  CHECK(same_peaks(p, n, (size_t[]){ 3, 9 }, 2), "find_peaks: distance 3 keeps 3 and 9 of 1, 3, 5, 9");
  nm_find_peaks(b, 11, 2.5, 0, p, &n, &err);
  CHECK(same_peaks(p, n, (size_t[]){ 3, 9 }, 2), "find_peaks: distance 2.5 is rounded up to 3");
  nm_find_peaks(b, 11, 2, 0, p, &n, &err);
  CHECK(same_peaks(p, n, (size_t[]){ 1, 3, 5, 9 }, 4), "find_peaks: distance 2 keeps all");
  /* Prominence: height above the higher of the two lowest points reached. */
  const double c[] = { 0, 4, 1, 6, 3, 5, 2, 2.5, -1 };
  nm_find_peaks(c, 9, 1, 3, p, &n, &err);
  CHECK(same_peaks(p, n, (size_t[]){ 1, 3 }, 2),
        "find_peaks: prominences 3, 6, 2, 0.5: >= 3 keeps 1 and 3 (inclusive)");
  nm_find_peaks(c, 9, 1, 4.0000001, p, &n, &err);
  CHECK(same_peaks(p, n, (size_t[]){ 3 }, 1), "find_peaks: only the highest peak has prominence > 4");
  CHECK(nm_find_peaks(c, 9, 0.5, 0, p, &n, &err) == NM_EINVAL && strstr(err.why, "distance"),
        "find_peaks: a distance below 1 is refused with a reason");
}


static void test_gaussian(void)
{
  nm_error err = { 0 };
  /* A constant stays constant (weights sum to 1, reflected edges). */
  double a[7], out[10];
  for (int i = 0; i < 7; i++) a[i] = 2.5;
  nm_gaussian_filter(a, 7, 1.5, out, &err);
  double worst = 0;
  for (int i = 0; i < 7; i++) worst = fmax(worst, fabs(out[i] - 2.5));
  CHECK(worst < 1e-15, "gaussian_filter: a constant stays constant (worst %g)", worst);
  /* An impulse at 0 with sigma 1 (radius 4): out[i] = w_i + w_{-1-i} (the edge mirrors it). */
  double imp[10] = { 1 }, w[9], s = 0;
  for (int k = -4; k <= 4; k++) s += w[k + 4] = exp(-0.5 * k * k);
  nm_gaussian_filter(imp, 10, 1.0, out, &err);
  CHECK_REL(out[0], (w[4] + w[3]) / s, 1e-15, "gaussian_filter: impulse at the edge, out[0]");
  CHECK_REL(out[2], (w[2] + w[1]) / s, 1e-15, "gaussian_filter: impulse at the edge, out[2]");
  CHECK_REL(out[4], w[8] / s, 1e-15, "gaussian_filter: impulse at the edge, out[4]");
  CHECK(out[5] == 0, "gaussian_filter: nothing beyond the radius");
  CHECK(nm_gaussian_filter(a, 7, 0, out, &err) == NM_EINVAL, "gaussian_filter: sigma 0 is refused");
}


static void test_welch(void)
{
  enum { N = 4000 };
  static double x[N], f[600], P[600];
  nm_error err = { 0 };
  size_t nb;
  /* 1 s windows at dt = 1 ms: 1 Hz bins; 12 Hz, amplitude 3, plus an offset. */
  for (int i = 0; i < N; i++) x[i] = 7 + 3 * cos(TWO_PI * 12 * i / 1000.0);
  int st = nm_power_spectrum(x, N, 1.0, 70, 1.0, 0, f, P, &nb, &err);
  CHECK(st == NM_OK && nb == 70 && f[0] == 0 && f[69] == 69, "welch: 70 bins of 1 Hz below 70 Hz");
  CHECK_REL(P[12], 4.5, 1e-12, "welch: a sinusoid on bin 12 has power A^2/2");
  CHECK_REL(P[11], 4.5 / 4, 1e-12, "welch: Hann leakage A^2/8 at bin 11");
  CHECK_REL(P[13], 4.5 / 4, 1e-12, "welch: Hann leakage A^2/8 at bin 13");
  CHECK(P[0] < 1e-20 && P[30] < 1e-20, "welch: the mean is removed per segment, no leakage far away");
  /* An odd segment length (mixed radix: 999 = 3^3 37) and the window shrunk to the series. */
  st = nm_power_spectrum(x, 999, 1.0, 1000, 5.0, 1, f, P, &nb, &err);
  CHECK(st == NM_OK && nb == 500, "welch: a 5 s window on 999 samples shrinks to 999 (500 bins)");
  double mx = 0;
  for (size_t b = 0; b < nb; b++) mx = fmax(mx, P[b]);
  CHECK(mx == 1.0, "welch: normalize divides by the largest power");
  st = nm_power_spectrum(x, 10, 1.0, 70, 0.0015, 0, f, P, &nb, &err);
  CHECK(st == NM_OK && nb == 1 && f[0] == 0 && P[0] == 0,
        "welch: segments of one sample (scipy's one-point window is 1): one bin of power 0");
  CHECK(nm_power_spectrum(x, 1, 1.0, 70, 1.0, 0, f, P, &nb, &err) == NM_EINVAL &&
        strstr(err.why, "at least 2 samples"), "welch: one sample is refused with a reason");
  /* A prime segment length (9973 samples, the window shrunk to them): the sinusoid on bin 120
  ** as exactly as on a power of two (GSL's generic radix pass was off by up to 1e-7 here). */
  static double y[9973], fy[700], Py[700];
  for (int i = 0; i < 9973; i++) y[i] = 7 + 3 * cos(TWO_PI * 120 * i / 9973.0);
  st = nm_power_spectrum(y, 9973, 1.0, 70, 20.0, 0, fy, Py, &nb, &err);
  CHECK(st == NM_OK && nb == 699, "welch: 699 bins of 1000/9973 Hz below 70 Hz");
  CHECK_REL(Py[120], 4.5, 1e-12, "welch, 9973 samples: a sinusoid on bin 120 has power A^2/2");
  CHECK_REL(Py[119], 4.5 / 4, 1e-12, "welch, 9973 samples: Hann leakage A^2/8 at bin 119");
  CHECK_REL(Py[121], 4.5 / 4, 1e-12, "welch, 9973 samples: Hann leakage A^2/8 at bin 121");
  double far = 0;
  for (size_t b = 0; b < nb; b++) if (b < 118 || b > 122) far = fmax(far, Py[b]);
  printf("# welch, 9973 samples: the largest power away from bin 120: %.3g\n", far);
  CHECK(far < 1e-20, "welch, 9973 samples: no leakage far from the sinusoid");
  /* Data near 1e300 or 1e-300 (squares beyond a double) normalises as data near 1 does, to
  ** the bit; times 2^505 (its squares beyond a double, its power not) the power is 2^1010 times. */
  static double big[2 * N], Pn[600], Pb[600];
  st = nm_mean_power_spectrum(x, 2, 999, 1.0, 1000, 0.5, 1, f, Pn, &nb, &err);
  const int es[] = { 997, -1000, 505 };
  for (int i = 0; i < 3; i++) {
    for (int k = 0; k < 2 * 999; k++) big[k] = ldexp(x[k], es[i]);
    size_t nbb;
    nm_mean_power_spectrum(big, 2, 999, 1.0, 1000, 0.5, 1, f, Pb, &nbb, &err);
    CHECK(nbb == nb && memcmp(Pn, Pb, nb * sizeof *Pn) == 0,
          "welch, normalize: the series times 2^%d (bin 6: %.17g, %.17g)", es[i], Pn[6], Pb[6]);
  }
  nm_mean_power_spectrum(x, 2, 999, 1.0, 1000, 0.5, 0, f, Pn, &nb, &err);
  nm_mean_power_spectrum(big, 2, 999, 1.0, 1000, 0.5, 0, f, Pb, &nb, &err);
  int same = 1;
  for (size_t b = 0; b < nb; b++) same = same && Pb[b] == ldexp(Pn[b], 1010);
  CHECK(same && Pn[6] > 1, "welch: the series times 2^505 has 2^1010 times the power (bin 6: %.17g, %.17g)",
        Pn[6], Pb[6]);
}


static void test_corr(void)
{
  nm_error err = { 0 };
  /* Rows: a ramp, its negative, a constant. */
  const double x[] = { 1, 2, 3, 4, -1, -2, -3, -4, 2, 2, 2, 2 };
  double c[9];
  nm_corrcoef(x, 3, 4, c, &err);
  CHECK(fabs(c[0] - 1) < 1e-15 && fabs(c[1] + 1) < 1e-15 && isnan(c[2]) && isnan(c[8]) && isnan(c[6]),
        "corrcoef: +-1 between a ramp and its negative; a constant row is NaN, diagonal included");
  nm_fc(x, 3, 4, c, &err);
  CHECK(c[2] == 0 && c[8] == 0 && c[6] == 0, "fc: the constant row's NaN become 0");
  CHECK(nm_fcd_windows(355, 30, 5) == 65 && nm_fcd_windows(31, 30, 5) == 1 && nm_fcd_windows(30, 30, 5) == 0,
        "fcd windows: starts strictly below T - windowsize");
  const double y[] = { 1, 2, 3, 4, 5 }, z[] = { 2, 4, 6, 8, 10.5 }, w[] = { 1, 1, 1, 1, 0 };
  double r;
  nm_weighted_correlation(y, z, w, 5, &r, &err);
  CHECK(fabs(r - 1) < 1e-15, "weighted_correlation: a zero weight ignores the off-line point");
  CHECK(fabs(nm_pearson(y, z, 5) - 1) > 1e-4, "pearson: the off-line point counts without weights");
  const double wneg[] = { 1, 1, -1, 1, 1 };
  r = 7;
  CHECK(nm_weighted_correlation(y, z, wneg, 5, &r, &err) == NM_EINVAL && r == 7 &&
        strstr(err.why, "w[3] = -1 is negative") != NULL,
        "weighted_correlation: a negative weight is refused, naming the first");
}


/* x (n values) times 2^e, exactly. */
static void scaled(const double *x, size_t n, int e, double *out)
{
  for (size_t k = 0; k < n; k++) out[k] = ldexp(x[k], e);
}

/* Data near 1e300 (squares overflow), near 1e-300 (squares underflow) and
** near 1e100 (a product of two variances overflows) correlate as the same
** data near 1 does, to the bit: a power of two scales every sum exactly. */
static void test_corr_range(void)
{
  nm_error err = { 0 };
  const double x[] = { 1, 2, 3, 4, 5, 2, 1, 2, 1, 4, 3, 6, 1, 0 };
  const double m1[] = { 1, 2, 3, 2, 1, 5, 3, 5, 1 }, m2[] = { 1, 3, 2, 3, 1, 7, 2, 7, 1 };
  const double w[] = { 1, 1, 2, 1, 1, 1, 1 };
  double c[4], fcd[4], r, big[14], bm1[9], bm2[9], bw[7], bc[4], bfcd[4], br;
  nm_fc(x, 2, 7, c, &err);
  nm_fcd(x, 2, 7, 3, 2, fcd, &err);
  nm_matrix_correlation(m1, m2, 3, &r, &err);
  const int es[] = { 997, -1000, 330 };
  for (int i = 0; i < 3; i++) {
    scaled(x, 14, es[i], big);
    scaled(m1, 9, es[i], bm1);
    scaled(m2, 9, es[i], bm2);
    nm_fc(big, 2, 7, bc, &err);
    CHECK(memcmp(c, bc, sizeof c) == 0 && c[1] > 0.8, "fc: rows times 2^%d correlate as the rows (%.17g, %.17g)",
          es[i], c[1], bc[1]);
    nm_fcd(big, 2, 7, 3, 2, bfcd, &err);
    CHECK(memcmp(fcd, bfcd, sizeof fcd) == 0, "fcd: rows times 2^%d give the rows' FCD (%.17g, %.17g)",
          es[i], fcd[1], bfcd[1]);
    nm_matrix_correlation(bm1, bm2, 3, &br, &err);
    CHECK(br == r, "matrix_correlation: matrices times 2^%d (%.17g, %.17g)", es[i], r, br);
    double wr, bwr, bwr2;
    nm_weighted_correlation(x, x + 7, w, 7, &wr, &err);
    nm_weighted_correlation(big, big + 7, w, 7, &bwr, &err);
    scaled(w, 7, es[i], bw);
    nm_weighted_correlation(x, x + 7, bw, 7, &bwr2, &err);
    CHECK(bwr == wr && bwr2 == wr && wr > 0.8,
          "weighted_correlation: x, y or w times 2^%d (%.17g, %.17g, %.17g)", es[i], wr, bwr, bwr2);
  }
}


static void test_ks(void)
{
  nm_error err = { 0 };
  /* Upper triangles {1, 2, 3} and {2.5, 4, 5}: D = 2/3 at v = 2 .. 2.5. */
  const double m1[] = { 0, 1, 2, 9, 0, 3, 9, 9, 0 }, m2[] = { 0, 2.5, 4, 9, 0, 5, 9, 9, 0 };
  double d;
  nm_matrix_kolmogorov(m1, 3, m2, 3, &d, &err);
  CHECK(d == 2.0 / 3.0, "matrix_kolmogorov: D = 2/3, rounded as scipy's exact mode (got %.17g)", d);
  nm_matrix_kolmogorov(m1, 3, m1, 3, &d, &err);
  CHECK(d == 0, "matrix_kolmogorov: identical samples give 0");
  CHECK(nm_matrix_kolmogorov(m1, 1, m2, 3, &d, &err) == NM_EINVAL, "matrix_kolmogorov: 1 x 1 is refused");
}


static void test_kuramoto(void)
{
  enum { T = 200 };
  static double ts[3 * T], R[T];
  nm_error err = { 0 };
  long none;
  /* Two identical oscillations: R = 1 throughout. */
  for (int i = 0; i < T; i++) ts[i] = ts[T + i] = 10 * sin(TWO_PI * i / 40.0);
  nm_kuramoto(ts, 2, T, 0, 10, 5, R, &none, &err);
  double worst = 0;
  for (int i = 0; i < T; i++) worst = fmax(worst, fabs(R[i] - 1));
  CHECK(none == -1 && worst < 1e-15, "kuramoto: identical traces give R = 1 (worst %g)", worst);
  /* Half a period apart: R = 0 between the first and last peaks, 1 at both ends. */
  for (int i = 0; i < T; i++) ts[T + i] = -ts[i];
  nm_kuramoto(ts, 2, T, 0, 10, 5, R, &none, &err);
  CHECK(R[0] == 1 && R[T - 1] == 1 && fabs(R[100]) < 1e-12, "kuramoto: opposite traces: R(100) = %g, ends 1", R[100]);
  /* A flat trace has no peak: neurolib's 0 (the row is named). */
  for (int i = 0; i < T; i++) ts[2 * T + i] = 1;
  nm_kuramoto(ts, 3, T, 0, 10, 5, R, &none, &err);
  CHECK(none == 2, "kuramoto: the trace without a peak is reported (row %ld)", none);
}


/* A raised interrupt flag stops fc, fcd, kuramoto and the spectra with
** NM_EINTR; lowered (or none), they run (analysis_stop.c). */
static void test_interrupt(void)
{
  double ts[2 * 40], out[64 * 64], R[40], f[64], P[64];
  for (int k = 0; k < 80; k++) ts[k] = sin(0.3 * k) + (k % 7);
  nm_error err = { 0 };
  long no_peak;
  size_t nb;
  volatile sig_atomic_t flag = 1;
  nm_analysis_interrupt(&flag);
  CHECK(nm_fc(ts, 2, 40, out, &err) == NM_EINTR && strstr(err.why, "interrupted"),
        "interrupt: fc stops with NM_EINTR");
  CHECK(nm_fcd(ts, 2, 40, 5, 1, out, &err) == NM_EINTR && strstr(err.why, "fcd: interrupted"),
        "interrupt: fcd stops with NM_EINTR");
  CHECK(nm_kuramoto(ts, 2, 40, 0, 1, 0.1, R, &no_peak, &err) == NM_EINTR,
        "interrupt: kuramoto stops with NM_EINTR");
  CHECK(nm_mean_power_spectrum(ts, 2, 40, 1.0, 500, 0.04, 0, f, P, &nb, &err) == NM_EINTR,
        "interrupt: the power spectrum stops with NM_EINTR");
  flag = 0;
  CHECK(nm_fcd(ts, 2, 40, 5, 1, out, &err) == NM_OK, "interrupt: a lowered flag lets fcd run");
  nm_analysis_interrupt(NULL);
  CHECK(nm_fc(ts, 2, 40, out, &err) == NM_OK, "interrupt: no flag lets fc run");
}

int main(void)
{
  test_interrupt();
  test_peaks();
  test_gaussian();
  test_welch();
  test_corr();
  test_corr_range();
  test_ks();
  test_kuramoto();
  return test_summary();
}
