/*
** coupling.c: the coupling sums of a simulation, evaluated every
** right-hand side: U[dst] = sum_k w_k V_k(t - d_k), or with (V_k(t - d_k) -
** V_self(t)) for diffusive coupling.
**
** At the start of a step (frac = 0) every term, delayed or not, is one load
** from the history ring: the row of "now" holds the signals the step starts
** from, and the ring is stored twice over (rows r and r + depth hold the same
** values), so term k is base[off_k] with off_k = column - delay * width
** precomputed: no modulo and no branch in the inner loop.  Intermediate
** stages of Heun and RK4 (frac > 0) interpolate between rows and read the
** stage's own values for delay 0, through the general path.
**
** Two additive sums over the same terms with different weights (a rate and
** its variance, e.g. ALN's C and C squared) are read in one pass.
*/
#include <stdlib.h>
#include <string.h>

#include "sim.h"


void nm_couplings_free(nm_sim *s)
{
  for (size_t i = 0; i < s->n_fast; i++) {
    free(s->fast[i].off);
  }
  free(s->fast);
  s->fast = NULL;
  s->n_fast = 0;
}


/* Additive sums with the same rows, sources and delays (weights may differ). */
static int same_terms(const nm_coupling *a, const nm_coupling *b)
{
  if (a->mode != NM_ADDITIVE || b->mode != NM_ADDITIVE || a->n_rows != b->n_rows) return 0;
  if (memcmp(a->row_ptr, b->row_ptr, (a->n_rows + 1) * sizeof *a->row_ptr) != 0) return 0;
  size_t n = a->row_ptr[a->n_rows];
  return memcmp(a->src, b->src, n * sizeof *a->src) == 0 &&
         memcmp(a->delay, b->delay, n * sizeof *a->delay) == 0;
}


int nm_couplings_prepare(nm_sim *s)
{
  nm_model *m = s->m;
  s->fast = calloc(m->n_couplings + 1, sizeof *s->fast);
  if (!s->fast) return NM_ENOMEM;
  s->n_fast = m->n_couplings;
  for (size_t i = 0; i < m->n_couplings; i++) {
    const nm_coupling *c = &m->couplings[i];
    size_t n = c->row_ptr[c->n_rows];
    long *off = malloc((n + 1) * sizeof *off);
    if (!off) return NM_ENOMEM;
    for (size_t k = 0; k < n; k++)
      off[k] = s->column[c->src[k]] - (long)c->delay[k] * (long)s->width;
    s->fast[i].c = c;
    s->fast[i].off = off;
    s->fast[i].twin = NULL;
    s->fast[i].is_twin = 0;
  }
  for (size_t i = 0; i < s->n_fast; i++) {
    for (size_t j = i + 1; j < s->n_fast && !s->fast[i].twin && !s->fast[i].is_twin; j++)
      if (!s->fast[j].is_twin && same_terms(s->fast[i].c, s->fast[j].c)) {
        s->fast[i].twin = s->fast[j].c;
        s->fast[j].is_twin = 1;
      }
  }
  return NM_OK;
}


/* Start of a step: every term is a load relative to the row of "now". */
static void eval_now(const nm_coupling *c, const long *off, const double *base, const double *V,
                     double *U, size_t r0, size_t r1)
{
  const double *w = c->weight;
  for (size_t r = r0; r < r1; r++) {
    double acc = 0.0;
    size_t end = c->row_ptr[r + 1];
    if (c->mode == NM_DIFFUSIVE) {
      double self = V[c->self[r]];
      for (size_t k = c->row_ptr[r]; k < end; k++) acc += w[k] * (base[off[k]] - self);
    } else {
      for (size_t k = c->row_ptr[r]; k < end; k++) acc += w[k] * base[off[k]];
    }
    U[c->dst[r]] = acc;
  }
}


/* Start of a step, two additive sums over the same terms in one pass. */
static void eval_now_twins(const nm_coupling *c, const nm_coupling *t, const long *off,
                           const double *base, double *U, size_t r0, size_t r1)
{
  const double *w = c->weight, *v = t->weight;
  for (size_t r = r0; r < r1; r++) {
    double acc = 0.0, acc2 = 0.0;
    size_t end = c->row_ptr[r + 1];
    for (size_t k = c->row_ptr[r]; k < end; k++) {
      double x = base[off[k]];
      acc += w[k] * x;
      acc2 += v[k] * x;
    }
    U[c->dst[r]] = acc;
    U[t->dst[r]] = acc2;
  }
}


/* One prepared sum (with its twin, if any) over rows r0 .. r1-1. */
static void eval_fast(const nm_fast_coupling *f, const double *base, const double *V, double *U,
                      size_t r0, size_t r1)
{
  if (f->is_twin) return;
  if (f->twin) eval_now_twins(f->c, f->twin, f->off, base, U, r0, r1);
  else eval_now(f->c, f->off, base, V, U, r0, r1);
}


/* Any stage: interpolated history, the stage's own values for delay 0. */
static void eval_general(const nm_coupling *c, const nm_hist *h, const double *V, double *U)
{
  for (size_t r = 0; r < c->n_rows; r++) {
    double acc = 0.0;
    size_t end = c->row_ptr[r + 1];
    if (c->mode == NM_DIFFUSIVE) {
      double self = V[c->self[r]];
      for (size_t k = c->row_ptr[r]; k < end; k++)
        acc += c->weight[k] * (nm_hist_read(h, V, c->src[k], c->delay[k]) - self);
    } else {
      for (size_t k = c->row_ptr[r]; k < end; k++)
        acc += c->weight[k] * nm_hist_read(h, V, c->src[k], c->delay[k]);
    }
    U[c->dst[r]] = acc;
  }
}


void nm_couplings_eval(nm_sim *s, const double *V, double frac)
{
  if (frac == 0.0) {
    const double *base = s->ring + ((s->step & (s->depth - 1)) + s->depth) * s->width;
    for (size_t i = 0; i < s->n_fast; i++) eval_fast(&s->fast[i], base, V, s->U, 0, s->fast[i].c->n_rows);
  } else {
    for (size_t i = 0; i < s->n_fast; i++) eval_general(s->fast[i].c, &s->hist, V, s->U);
  }
}


/* The first row of part `part` of `parts`, balancing terms rather than rows;
** part 0 (the thread that also runs the serial section of a step) gets a
** smaller share, 1 - THREAD0_LIGHTER of the others'. */
#define THREAD0_LIGHTER 0.2

static size_t split_row(const nm_coupling *c, int part, int parts)
{
  size_t total = c->row_ptr[c->n_rows];
  double shares = parts - THREAD0_LIGHTER;
  double before = part == 0 ? 0.0 : part - THREAD0_LIGHTER;
  size_t target = (size_t)((double)total * before / shares);
  size_t lo = 0, hi = c->n_rows;
  if (part >= parts) return c->n_rows;
  while (lo < hi) {                      /* the first row starting at or after target */
    size_t mid = (lo + hi) / 2;
    if (c->row_ptr[mid] < target) lo = mid + 1; else hi = mid;
  }
  return lo;
}


void nm_couplings_eval_part(nm_sim *s, const double *V, size_t step, int part, int parts)
{
  const double *base = s->ring + ((step & (s->depth - 1)) + s->depth) * s->width;
  for (size_t i = 0; i < s->n_fast; i++) {
    const nm_coupling *c = s->fast[i].c;
    eval_fast(&s->fast[i], base, V, s->U, split_row(c, part, parts), split_row(c, part + 1, parts));
  }
}
