/*
** coupling_ahead.c: the start-of-step coupling sums of rows whose every term
** is delayed, computed K steps at a time with contiguous loads.
**
** Row r's sum at step t is acc = 0; acc += w_k * x_{j_k}(t - d_k) for its
** terms k in order.  If every d_k >= K - 1, then at the start of step t (the
** history holds x(t) and older) the sums of steps t .. t+K-1 are known: term
** k of step t+m reads x_{j_k}(t - d_k + m), m <= K - 1 <= d_k.  Those K values
** are neighbours in a signal-major copy of the history (s->sring: column c's
** times one after the other, the first 7 again after the last, so K <= 8
** consecutive times from any start are in bounds), so the K steps go on SIMD lanes: one
** load, a broadcast weight, a multiply then an add (no fused multiply-add),
** each lane adding the row's terms in the row's order: the bits of coupling.c.
**
** A row's K is the largest of 8, 4, 2 with K - 1 <= its least delay (rows
** with a delay 0 term, diffusive sums -- their x_self(t+m) is not known at t --
** and self-couplings stay on coupling.c's path: f->stay lists their runs).  The rows of one K form a
** group; its buffer holds the window of K steps from the step it was computed
** at (`from`) and is used for those steps only: a step outside it (the next
** window, a run continued elsewhere) computes a new window.  The history a
** window reads (times <= from) is never written again, so a window stays
** right across runs.  Threaded steps (nm_couplings_eval_part) keep coupling.c's
** path; the history copy is written on every path (system.c, step_threads.c).
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#if NM_X86_SIMD
#include <immintrin.h>
#endif


void nm_ahead_free(nm_fast_coupling *f)
{
  for (int g = 0; g < f->n_ahead; g++) {
    nm_ahead_group *a = &f->ahead[g];
    free(a->row);
    free(a->tp);
    free(a->col);
    free(a->delay);
    free(a->w);
    free(a->v);
    free(a->buf);
    free(a->buf2);
  }
  free(f->stay);
  f->stay = NULL;
  f->n_stay = 0;
  memset(f->ahead, 0, sizeof f->ahead);
  f->n_ahead = 0;
  f->all_ahead = 0;
}


/* The steps a window of row r can hold: 8, 4, 2, or 1 (coupling.c's path). */
static size_t row_steps(const nm_coupling *c, size_t r)
{
  size_t k0 = c->row_ptr[r], k1 = c->row_ptr[r + 1];
  if (k0 == k1) return 8;                 /* no terms: the sum 0.0 of any path */
  int least = c->delay[k0];
  for (size_t k = k0 + 1; k < k1; k++)
    if (c->delay[k] < least) least = c->delay[k];
  return least >= 7 ? 8 : least >= 3 ? 4 : 1;
}


/* The group of rows with window K of sum f (and its twin). */
static int make_group(nm_sim *s, nm_fast_coupling *f, size_t K, int simd, nm_ahead_group *a)
{
  const nm_coupling *c = f->c, *t = f->twin;
  size_t n_rows = 0, n_terms = 0;
  for (size_t r = 0; r < c->n_rows; r++)
    if (row_steps(c, r) == K) {
      n_rows++;
      n_terms += c->row_ptr[r + 1] - c->row_ptr[r];
    }
  memset(a, 0, sizeof *a);
  a->K = K;
  a->simd = simd;
  a->from = SIZE_MAX;
  if (n_rows == 0) return NM_OK;
  a->row = malloc(n_rows * sizeof *a->row);
  a->tp = malloc((n_rows + 1) * sizeof *a->tp);
  a->col = malloc(n_terms * sizeof *a->col);
  a->delay = malloc(n_terms * sizeof *a->delay);
  a->w = malloc(n_terms * sizeof *a->w);
  a->v = t ? malloc(n_terms * sizeof *a->v) : NULL;
  a->buf = malloc(n_rows * K * sizeof *a->buf);
  a->buf2 = t ? malloc(n_rows * K * sizeof *a->buf2) : NULL;
  if (!a->row || !a->tp || !a->col || !a->delay || !a->w || !a->buf || (t && (!a->v || !a->buf2)))
    return NM_ENOMEM;
  size_t i = 0, at = 0;
  for (size_t r = 0; r < c->n_rows; r++) {
    if (row_steps(c, r) != K) continue;
    a->row[i] = r;
    a->tp[i++] = at;
    for (size_t k = c->row_ptr[r]; k < c->row_ptr[r + 1]; k++, at++) {
      a->col[at] = s->column[c->src[k]] * (long)(s->depth + NM_AHEAD_MAX);
      a->delay[at] = (size_t)c->delay[k];
      a->w[at] = c->weight[k];
      if (t) a->v[at] = t->weight[k];
    }
  }
  a->tp[i] = at;
  a->n_rows = n_rows;
  return NM_OK;
}


int nm_ahead_prepare(nm_sim *s, nm_fast_coupling *f, int simd)
{
  const nm_coupling *c = f->c;
  memset(f->ahead, 0, sizeof f->ahead);
  f->n_ahead = 0;
  f->all_ahead = 0;
  if (f->is_twin || c->mode != NM_ADDITIVE || f->max_len <= 1) return NM_OK;
  static const size_t steps[] = { 8, 4, 2 };
  size_t rows = 0;
  for (int g = 0; g < 3; g++) {
    int rc = make_group(s, f, steps[g], simd, &f->ahead[f->n_ahead]);
    rows += f->ahead[f->n_ahead].n_rows;
    if (f->ahead[f->n_ahead].n_rows) f->n_ahead++;
    if (rc != NM_OK) return rc;
  }
  f->all_ahead = rows == c->n_rows;
  f->stay = malloc((c->n_rows + 1) * sizeof *f->stay);      /* at most n_rows / 2 runs */
  if (!f->stay) return NM_ENOMEM;
  for (size_t r = 0; r < c->n_rows && f->n_ahead; r++)
    if (row_steps(c, r) == 1) {
      if (f->n_stay == 0 || f->stay[2 * f->n_stay - 1] != r) {    /* a new run */
        f->stay[2 * f->n_stay] = r;
        f->n_stay++;
      }
      f->stay[2 * f->n_stay - 1] = r + 1;
    }
  if (f->n_ahead && !s->sring) {      /* the signal-major copy of the history */
    size_t span = s->depth + NM_AHEAD_MAX;
    s->sring = malloc((s->width * span + 1) * sizeof *s->sring);
    if (!s->sring) return NM_ENOMEM;
    for (size_t col = 0; col < s->width; col++)
      for (size_t p = 0; p < span; p++)
        s->sring[col * span + p] = s->ring[(p & (s->depth - 1)) * s->width + col];
  }
  return NM_OK;
}


/* ---------------------------------------------------------------------
** The kernels: window of K steps from `from` for every row of group a
** ------------------------------------------------------------------- */

/* The reference: a plain loop over the K lanes. */
static void window_c(const nm_ahead_group *a, const double *sring, size_t mask, size_t from)
{
  size_t K = a->K;
  for (size_t i = 0; i < a->n_rows; i++) {
    double acc[8] = { 0 }, acc2[8] = { 0 };
    for (size_t k = a->tp[i]; k < a->tp[i + 1]; k++) {
      const double *x = sring + a->col[k] + ((from - a->delay[k]) & mask);
      for (size_t m = 0; m < K; m++) acc[m] += a->w[k] * x[m];
      if (a->v)
        for (size_t m = 0; m < K; m++) acc2[m] += a->v[k] * x[m];
    }
    memcpy(a->buf + i * K, acc, K * sizeof *acc);
    if (a->v) memcpy(a->buf2 + i * K, acc2, K * sizeof *acc2);
  }
}


#if NM_X86_SIMD
/* 8 steps on AVX-512 lanes. */
#define NM_K 8
#define NM_TARGET __attribute__((target("avx512f")))
#define NM_NAME(x) x##8_avx512
#define NM_VEC __m512d
#define NM_ZERO() _mm512_setzero_pd()
#define NM_LOADU(p) _mm512_loadu_pd(p)
#define NM_STOREU(p, x) _mm512_storeu_pd((p), (x))
#define NM_SET1(x) _mm512_set1_pd(x)
#define NM_MUL(a, b) _mm512_mul_pd((a), (b))
#define NM_ADD(a, b) _mm512_add_pd((a), (b))
#include "coupling_ahead_block.h"
#undef NM_K
#undef NM_TARGET
#undef NM_NAME
#undef NM_VEC
#undef NM_ZERO
#undef NM_LOADU
#undef NM_STOREU
#undef NM_SET1
#undef NM_MUL
#undef NM_ADD

/* 4 steps on AVX2 lanes (also the 4-step rows of AVX-512 processors). */
#define NM_K 4
#define NM_TARGET __attribute__((target("avx2")))
#define NM_NAME(x) x##4_avx2
#define NM_VEC __m256d
#define NM_ZERO() _mm256_setzero_pd()
#define NM_LOADU(p) _mm256_loadu_pd(p)
#define NM_STOREU(p, x) _mm256_storeu_pd((p), (x))
#define NM_SET1(x) _mm256_set1_pd(x)
#define NM_MUL(a, b) _mm256_mul_pd((a), (b))
#define NM_ADD(a, b) _mm256_add_pd((a), (b))
#include "coupling_ahead_block.h"
#endif


/* The window of group a from step `from`, on the widest kernel `simd` allows. */
static void window(const nm_ahead_group *a, const double *sring, size_t mask, size_t from, int simd)
{
#if NM_X86_SIMD
  if (a->K == 8 && simd == NM_SIMD_AVX512) { window8_avx512(a, sring, mask, from); return; }
  if (a->K == 4 && simd >= NM_SIMD_AVX2) { window4_avx2(a, sring, mask, from); return; }
#else
  (void)simd;
#endif
  window_c(a, sring, mask, from);
}


void nm_ahead_eval(nm_sim *s, nm_fast_coupling *f, size_t step)
{
  const nm_coupling *c = f->c, *t = f->twin;
  for (int g = 0; g < f->n_ahead; g++) {
    nm_ahead_group *a = &f->ahead[g];
    if (a->from == SIZE_MAX || step < a->from || step - a->from >= a->K) {
      window(a, s->sring, s->depth - 1, step, a->simd);
      a->from = step;
    }
    size_t m = step - a->from, K = a->K;
    for (size_t i = 0; i < a->n_rows; i++) s->U[c->dst[a->row[i]]] = a->buf[i * K + m];
    if (t)
      for (size_t i = 0; i < a->n_rows; i++) s->U[t->dst[a->row[i]]] = a->buf2[i * K + m];
  }
}
