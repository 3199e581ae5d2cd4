/*
** audio_filter.c: the audio writer's filters: second-order sections (RBJ's
** cookbook, transposed direct form II; au_bq_run is inline in audio_impl.h)
** and the Kaiser-windowed sinc low-pass of the decimating stage.
*/
#include <math.h>

#include "audio_impl.h"

biquad au_bq_design(int high, double fc, double fs, double q)
{
  double w = 2 * M_PI * fc / fs, cw = cos(w), al = sin(w) / (2 * q), a0 = 1 + al;
  biquad f;
  f.b1 = high ? -(1 + cw) : 1 - cw;
  f.b0 = f.b2 = (high ? 1 + cw : 1 - cw) / 2 / a0;
  f.b1 /= a0;
  f.a1 = -2 * cw / a0;
  f.a2 = (1 - al) / a0;
  return f;
}



/* The state reached after input x held forever (scipy's lfilter_zi): a signal
** starting away from zero then starts without a step. */
void au_bq_settle(const biquad *f, bq_state *s, double x)
{
  double y = x * (f->b0 + f->b1 + f->b2) / (1 + f->a1 + f->a2);
  s->s2 = f->b2 * x - f->a2 * y;
  s->s1 = f->b1 * x - f->a1 * y + s->s2;
}


static double bessel_i0(double x)
{
  double sum = 1, term = 1;
  for (int k = 1; k < 200 && term > 1e-17 * sum; k++) {
    term *= (x / (2 * k)) * (x / (2 * k));
    sum += term;
  }
  return sum;
}


void au_kaiser_lowpass(double *h, long taps, double fc, double beta)
{
  long H = (taps - 1) / 2;
  double sum = 0;
  for (long t = 0; t < taps; t++) {
    double u = (double)(t - H), v = (double)(t - H) / (double)H;
    double sinc = u == 0 ? 2 * fc : sin(2 * M_PI * fc * u) / (M_PI * u);
    h[t] = sinc * bessel_i0(beta * sqrt(fmax(0, 1 - v * v))) / bessel_i0(beta);
    sum += h[t];
  }
  for (long t = 0; t < taps; t++) h[t] /= sum;           /* unit gain at DC */
}
