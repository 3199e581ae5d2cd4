/*
** audio_limit.c: the look-ahead limiter of the audio writer's last pass (see
** audio_impl.h for how it bounds every sample).
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio_impl.h"

int au_limiter_init(au_limiter *lm, size_t D, size_t C, double rel)
{
  lm->D = D;
  lm->C = C;
  lm->pos = 0;
  lm->delay = calloc(D * C, sizeof(double));
  lm->req = malloc(D * sizeof(double));
  lm->r = malloc(D * sizeof(double));
  if (!lm->delay || !lm->req || !lm->r) return NM_ENOMEM;
  for (size_t i = 0; i < D; i++) lm->req[i] = lm->r[i] = 1;
  lm->rel = rel;
  lm->last_r = 1;
  lm->min_g = 1;
  return NM_OK;
}


void au_limiter_free(au_limiter *lm)
{
  free(lm->delay);
  free(lm->req);
  free(lm->r);
}


/* Takes frame x (C values), gives the frame D - 1 earlier into y. */
void au_limiter_step(au_limiter *lm, const double *x, double *y)
{
  size_t D = lm->D, C = lm->C, p = lm->pos;
  double m = 0;
  for (size_t c = 0; c < C; c++) if (fabs(x[c]) > m) m = fabs(x[c]);
  lm->req[p] = m > 1 ? 1 / m : 1;
  double w = 1;
  for (size_t i = 0; i < D; i++) if (lm->req[i] < w) w = lm->req[i];
  double r = lm->last_r + (1 - lm->last_r) * lm->rel;
  if (w < r) r = w;
  lm->last_r = lm->r[p] = r;
  double g = 0;
  for (size_t i = 0; i < D; i++) g += lm->r[i];
  g /= (double)D;
  if (g < lm->min_g) lm->min_g = g;
  memcpy(lm->delay + p * C, x, C * sizeof *x);
  size_t oldest = (p + 1) % D;
  for (size_t c = 0; c < C; c++) {
    double v = lm->delay[oldest * C + c] * g;
    y[c] = v > 1 ? 1 : v < -1 ? -1 : v;
  }
  lm->pos = oldest;
}
