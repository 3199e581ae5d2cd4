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
**
** Where the processor has AVX-512 or AVX2, the start-of-step sums go by
** blocks of rows on SIMD lanes (coupling_simd.c), bit for bit the sums here;
** this file's loops are the reference, the path of other processors
** (NEUROMASS_SIMD=off) and sum the rows outside whole blocks.
**
** Single-threaded, the rows of additive sums whose terms are all delayed by 3
** steps or more go K steps at a time (coupling_ahead.c; the same bits); a
** sum's other rows are summed here, in SIMD blocks of their own
** (stay_blocks_make) where there are blocks, else run by run.
**
** Self-couplings (a term a row at most: ALN's local delayed rates) whose rows
** lie in a straight line (row r reads base[off_0 + r] into U[dst_0 + r]) are
** summed as vectors, 0.0 + w_r x_r each, the scalar sum's operations: the
** windows of coupling_ahead.c would give the same bits (acc = 0.0, then
** acc += w x is that addition) but cost a history copy and a copy out.  A
** single node's lines (a few rows in all) go as one list of rows instead,
** the same operations without a call and a loop per sum.
*/
#include <stdlib.h>
#include <string.h>

#include "sim.h"


void nm_couplings_free(nm_sim *s)
{
  for (size_t i = 0; i < s->n_fast && s->fast; i++) {
    free(s->fast[i].off);
    nm_coupling_blocks_free(&s->fast[i].blocks);
    nm_coupling_blocks_free(&s->fast[i].stay_blocks);
    nm_ahead_free(&s->fast[i]);
  }
  free(s->sring);
  s->sring = NULL;
  s->node_sums = 0;
  free(s->node_term);
  s->node_term = NULL;
  s->n_node_terms = 0;
  free(s->node_zero);
  s->node_zero = NULL;
  s->n_node_zeros = 0;
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


/*
** The rows that do not go ahead (f->stay's runs), scattered among the others,
** in blocks of their own: a block's lanes need not be neighbouring rows, and
** summed run by run they were mostly too short for a block (eval_fast).  The
** rows are taken longest first, so that a block's rows have nearly the same
** length (little padding); each lane still adds its row's terms in order.
*/
static int stay_blocks_make(nm_fast_coupling *f, int simd)
{
  size_t n = 0;
  for (size_t j = 0; j < f->n_stay; j++) n += f->stay[2 * j + 1] - f->stay[2 * j];
  size_t *list = malloc((n + 1) * sizeof *list);
  if (!list) return NM_ENOMEM;
  n = 0;
  for (size_t j = 0; j < f->n_stay; j++)
    for (size_t r = f->stay[2 * j]; r < f->stay[2 * j + 1]; r++) list[n++] = r;
  nm_rows_longest_first(f->c->row_ptr, list, n);
  int rc = nm_coupling_blocks_make_rows(&f->stay_blocks, simd, f->c, f->twin, f->off,
                                        list, n);
  free(list);
  return rc;
}


/* Whether self-coupling f (a term a row at most) lies in a straight line:
** every row has its term (or none has one), the terms' offsets and the rows'
** destinations (and the twin's) one after the other, the twin's apart. */
static int line_of(const nm_fast_coupling *f)
{
  const nm_coupling *c = f->c, *t = f->twin;
  size_t n = c->n_rows, terms = c->row_ptr[n];
  if (c->mode != NM_ADDITIVE || n == 0 || f->max_len > 1 || (terms != 0 && terms != n)) return 0;
  for (size_t r = 0; r < n; r++) {
    if (c->row_ptr[r] != (terms ? r : 0) || c->dst[r] != c->dst[0] + (long)r) return 0;
    if (t && t->dst[r] != t->dst[0] + (long)r) return 0;
    if (terms && f->off[r] != f->off[0] + (long)r) return 0;
  }
  if (t && t->dst[0] < c->dst[0] + (long)n && c->dst[0] < t->dst[0] + (long)n) return 0;
  return terms ? NM_LINE_ONE : NM_LINE_NONE;
}


/* The most rows a node's sums have in all (node_terms): a node's few (ALN's
** delayed rates: 4); more rows are a network's, which eval_line's loops take
** in runs instead of one list entry each. */
#define NODE_TERMS 16

/* When every sum lies in a line (line_of), they have at most NODE_TERMS rows
** in all (a single node's: ALN's delayed rates) and no two rows write one
** input (so that the order of the rows is no matter), their rows as two
** lists (s->node_term, s->node_zero); else none. */
static int node_terms(nm_sim *s)
{
  size_t n = 0, ones = 0;
  long dst[NODE_TERMS];
  for (size_t i = 0; i < s->n_fast; i++) {
    const nm_fast_coupling *f = &s->fast[i];
    if (f->is_twin) continue;
    if (!f->line) return NM_OK;
    for (const nm_coupling *c = f->c; c; c = c == f->c ? f->twin : NULL)
      for (size_t r = 0; r < c->n_rows; r++) {
        if (n == NODE_TERMS) return NM_OK;
        dst[n] = c->dst[0] + (long)r;
        for (size_t k = 0; k < n; k++)
          if (dst[k] == dst[n]) return NM_OK;
        n++;
        if (f->line == NM_LINE_ONE) ones++;
      }
  }
  /* each list only when it has rows (nm_couplings_free frees either) */
  if (ones > 0 && !(s->node_term = malloc(ones * sizeof *s->node_term))) return NM_ENOMEM;
  if (n > ones && !(s->node_zero = malloc((n - ones) * sizeof *s->node_zero))) return NM_ENOMEM;
  s->node_sums = n > 0;
  for (size_t i = 0; i < s->n_fast; i++) {
    const nm_fast_coupling *f = &s->fast[i];
    if (f->is_twin) continue;
    for (const nm_coupling *c = f->c; c; c = c == f->c ? f->twin : NULL)
      for (size_t r = 0; r < c->n_rows; r++) {
        if (f->line == NM_LINE_ONE)
          s->node_term[s->n_node_terms++] = (nm_node_term){ c->dst[0] + (long)r, f->off[0] + (long)r,
                                                            c->weight[r] };
        else
          s->node_zero[s->n_node_zeros++] = c->dst[0] + (long)r;
      }
  }
  return NM_OK;
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
      off[k] = s->column[c->src[k]] - (long)nm_reach(s, c->delay[k]) * (long)s->width;
    s->fast[i].c = c;
    s->fast[i].off = off;
    s->fast[i].max_len = 0;
    for (size_t r = 0; r < c->n_rows; r++)
      if (c->row_ptr[r + 1] - c->row_ptr[r] > s->fast[i].max_len)
        s->fast[i].max_len = c->row_ptr[r + 1] - c->row_ptr[r];
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
  int rc = NM_OK;
  for (size_t i = 0; i < s->n_fast && rc == NM_OK; i++) {
    nm_fast_coupling *f = &s->fast[i];
    /* (nm_sim_new's reading: diffusive sums have a set of their own) */
    int simd = f->c->mode == NM_DIFFUSIVE ? s->diffusive_simd : s->coupling_simd;
    if (!f->is_twin && f->max_len > 1)     /* self-couplings go by lines, or scalar */
      rc = nm_coupling_blocks_make(&f->blocks, simd, f->c, f->twin, f->off);
    if (rc == NM_OK) rc = nm_ahead_prepare(s, f, simd);
    if (rc == NM_OK && f->n_stay) rc = stay_blocks_make(f, simd);
    f->line = f->is_twin ? 0 : line_of(f);
    f->line_simd = s->simd;                /* an elementwise product: the level's kernel */
  }
  return rc == NM_OK ? node_terms(s) : rc;
}


/*
** Rows are summed ROWS at a time: each row keeps its own accumulator and adds
** its terms in its own order (so every sum is bit for bit the sum of one row
** on its own), but the ROWS chains are independent, so the processor overlaps
** their additions instead of waiting for each one (an add's latency is
** several cycles; one row at a time left the loads idle).  The terms all the
** rows of a block have are interleaved; each row then finishes its own tail.
*/
#define ROWS 4

/* The length all rows r .. r+ROWS-1 have. */
static size_t common_len(const size_t *row_ptr, size_t r)
{
  size_t n = row_ptr[r + 1] - row_ptr[r];
  for (size_t b = 1; b < ROWS; b++) {
    size_t m = row_ptr[r + b + 1] - row_ptr[r + b];
    if (m < n) n = m;
  }
  return n;
}


/* One row alone, terms from k0 on, continuing the sum acc. */
static inline double row_tail(const nm_coupling *c, const long *off, const double *base,
                              double self, size_t k0, size_t end, double acc)
{
  const double *w = c->weight;
  if (c->mode == NM_DIFFUSIVE)
    for (size_t k = k0; k < end; k++) acc += w[k] * (base[off[k]] - self);
  else
    for (size_t k = k0; k < end; k++) acc += w[k] * base[off[k]];
  return acc;
}


/* Start of a step: every term is a load relative to the row of "now". */
static void eval_now(const nm_coupling *c, const long *off, const double *base, const double *V,
                     double *U, size_t r0, size_t r1)
{
  const double *w = c->weight;
  const size_t *rp = c->row_ptr;
  int diffusive = c->mode == NM_DIFFUSIVE;
  size_t r = r0;
  for (; r + ROWS <= r1; r += ROWS) {
    size_t n = common_len(rp, r), s[ROWS];
    double acc[ROWS], self[ROWS];
    for (size_t b = 0; b < ROWS; b++) {
      s[b] = rp[r + b];
      acc[b] = 0.0;
      self[b] = diffusive ? V[c->self[r + b]] : 0.0;
    }
    if (diffusive) {
      for (size_t k = 0; k < n; k++)
        for (size_t b = 0; b < ROWS; b++) acc[b] += w[s[b] + k] * (base[off[s[b] + k]] - self[b]);
    } else {
      for (size_t k = 0; k < n; k++)
        for (size_t b = 0; b < ROWS; b++) acc[b] += w[s[b] + k] * base[off[s[b] + k]];
    }
    for (size_t b = 0; b < ROWS; b++)
      U[c->dst[r + b]] = row_tail(c, off, base, self[b], s[b] + n, rp[r + b + 1], acc[b]);
  }
  for (; r < r1; r++)
    U[c->dst[r]] = row_tail(c, off, base, diffusive ? V[c->self[r]] : 0.0, rp[r], rp[r + 1], 0.0);
}


/* Start of a step, two additive sums over the same terms in one pass. */
static void eval_now_twins(const nm_coupling *c, const nm_coupling *t, const long *off,
                           const double *base, double *U, size_t r0, size_t r1)
{
  const double *w = c->weight, *v = t->weight;
  const size_t *rp = c->row_ptr;
  size_t r = r0;
  for (; r + ROWS <= r1; r += ROWS) {
    size_t n = common_len(rp, r), s[ROWS];
    double acc[ROWS], acc2[ROWS];
    for (size_t b = 0; b < ROWS; b++) {
      s[b] = rp[r + b];
      acc[b] = acc2[b] = 0.0;
    }
    for (size_t k = 0; k < n; k++)
      for (size_t b = 0; b < ROWS; b++) {
        double x = base[off[s[b] + k]];
        acc[b] += w[s[b] + k] * x;
        acc2[b] += v[s[b] + k] * x;
      }
    for (size_t b = 0; b < ROWS; b++) {
      U[c->dst[r + b]] = row_tail(c, off, base, 0.0, s[b] + n, rp[r + b + 1], acc[b]);
      U[t->dst[r + b]] = row_tail(t, off, base, 0.0, s[b] + n, rp[r + b + 1], acc2[b]);
    }
  }
  for (; r < r1; r++) {
    U[c->dst[r]] = row_tail(c, off, base, 0.0, rp[r], rp[r + 1], 0.0);
    U[t->dst[r]] = row_tail(t, off, base, 0.0, rp[r], rp[r + 1], 0.0);
  }
}


/* Rows r0 .. r1-1 of a line (line_of): u[r] = 0.0 + w[r] * x[r], the scalar
** path's operations (0.0 + keeps -0.0 to +0.0), as vectors. */
static inline __attribute__((always_inline)) void line_sum(double *restrict u, const double *restrict w,
                                                          const double *restrict x, size_t r0, size_t r1)
{
  for (size_t r = r0; r < r1; r++) u[r] = 0.0 + w[r] * x[r];
}

#if NM_X86_SIMD
/* The shortest rows the AVX-512 pass takes. */
#define LINE_VECTOR 16
__attribute__((target("avx512f")))
static void line_sum_avx512(double *restrict u, const double *restrict w, const double *restrict x,
                            size_t r0, size_t r1)
{
  line_sum(u, w, x, r0, r1);
}
#endif

static inline void eval_line(const nm_fast_coupling *f, const double *base, double *U, size_t r0,
                             size_t r1)
{
  const nm_coupling *c = f->c, *t = f->twin;
  if (f->line == NM_LINE_NONE) {      /* +0.0 is all bits zero: each sum's rows one memset */
    memset(U + c->dst[0] + (long)r0, 0, (r1 - r0) * sizeof *U);
    if (t) memset(U + t->dst[0] + (long)r0, 0, (r1 - r0) * sizeof *U);
    return;
  }
  const double *x = base + f->off[0];
#if NM_X86_SIMD
  if (f->line_simd == NM_SIMD_AVX512 && r1 - r0 >= LINE_VECTOR) {
    line_sum_avx512(U + c->dst[0], c->weight, x, r0, r1);
    if (t) line_sum_avx512(U + t->dst[0], t->weight, x, r0, r1);
    return;
  }
#endif
  line_sum(U + c->dst[0], c->weight, x, r0, r1);
  if (t) line_sum(U + t->dst[0], t->weight, x, r0, r1);
}


/* One prepared sum (with its twin, if any) over rows r0 .. r1-1, scalar. */
static void eval_scalar(const nm_fast_coupling *f, const double *base, const double *V, double *U,
                        size_t r0, size_t r1)
{
  const nm_coupling *c = f->c;
  if (f->line) {
    eval_line(f, base, U, r0, r1);
  } else if (f->max_len <= 1) {    /* self-couplings: a term per row at most */
    int diffusive = c->mode == NM_DIFFUSIVE;
    for (size_t r = r0; r < r1; r++) {
      size_t k = c->row_ptr[r];
      int has = c->row_ptr[r + 1] > k;
      double x = has ? base[f->off[k]] : 0.0;
      if (diffusive && has) x -= V[c->self[r]];
      U[c->dst[r]] = has ? 0.0 + c->weight[k] * x : 0.0;
      if (f->twin) U[f->twin->dst[r]] = has ? 0.0 + f->twin->weight[k] * x : 0.0;
    }
  } else if (r1 - r0 < ROWS) {     /* too few rows to overlap */
    for (size_t r = r0; r < r1; r++) {
      double self = c->mode == NM_DIFFUSIVE ? V[c->self[r]] : 0.0;
      U[c->dst[r]] = row_tail(c, f->off, base, self, c->row_ptr[r], c->row_ptr[r + 1], 0.0);
      if (f->twin)
        U[f->twin->dst[r]] = row_tail(f->twin, f->off, base, 0.0, c->row_ptr[r], c->row_ptr[r + 1], 0.0);
    }
  } else if (f->twin) {
    eval_now_twins(c, f->twin, f->off, base, U, r0, r1);
  } else {
    eval_now(c, f->off, base, V, U, r0, r1);
  }
}


/* One prepared sum (with its twin, if any) over rows r0 .. r1-1: the blocks
** of rows wholly inside on SIMD lanes, the rows around them scalar. */
static void eval_fast(const nm_fast_coupling *f, const double *base, const double *V, double *U,
                      size_t r0, size_t r1)
{
  if (f->is_twin) return;
  const nm_coupling_blocks *b = &f->blocks;
  size_t n = f->c->n_rows, j0 = 0, j1 = 0;
  if (b->rows) {
    j0 = (r0 + b->rows - 1) / b->rows;           /* the first block starting at r0 or later */
    j1 = r1 == n ? b->n_blocks : r1 / b->rows;   /* past the last block ending by r1 */
  }
  if (j0 >= j1) {
    eval_scalar(f, base, V, U, r0, r1);
    return;
  }
  size_t first = j0 * b->rows, end = j1 * b->rows < n ? j1 * b->rows : n;
  eval_scalar(f, base, V, U, r0, first);
  nm_coupling_blocks_eval(b, f->c, f->twin, base, V, U, j0, j1);
  eval_scalar(f, base, V, U, end, r1);
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
    const double *base = nm_now_row(s, s->step);
    for (size_t i = 0; i < s->n_fast; i++) {
      nm_fast_coupling *f = &s->fast[i];
      if (f->is_twin) continue;                        /* (summed with its first) */
      if (f->line) {             /* what eval_fast would do, without its calls (a node's few rows) */
        eval_line(f, base, s->U, 0, f->c->n_rows);
        continue;
      }
      if (!f->n_ahead) {
        eval_fast(f, base, V, s->U, 0, f->c->n_rows);
        continue;
      }
      if (f->stay_blocks.rows)
        nm_coupling_blocks_eval(&f->stay_blocks, f->c, f->twin, base, V, s->U, 0, f->stay_blocks.n_blocks);
      else
        for (size_t j = 0; j < f->n_stay; j++) eval_fast(f, base, V, s->U, f->stay[2 * j], f->stay[2 * j + 1]);
      nm_ahead_eval(s, f, V, s->step);                 /* the other rows, K steps at a time */
    }
  } else {
    for (size_t i = 0; i < s->n_fast; i++) eval_general(s->fast[i].c, &s->hist, V, s->U);
  }
}


/* The first row at fraction `at` of the terms (at >= 1: the end), so that
** parts are cut by terms rather than rows; with SIMD blocks, the nearest block
** boundary, so that no part sums a block's rows one by one. */
static size_t split_row(const nm_fast_coupling *f, double at)
{
  const nm_coupling *c = f->c;
  if (at >= 1.0) return c->n_rows;
  size_t target = (size_t)((double)c->row_ptr[c->n_rows] * at);
  size_t lo = 0, hi = c->n_rows;
  while (lo < hi) {                      /* the first row starting at or after target */
    size_t mid = (lo + hi) / 2;
    if (c->row_ptr[mid] < target) lo = mid + 1; else hi = mid;
  }
  size_t rows = f->blocks.rows;
  if (rows && lo < c->n_rows) lo = (lo + rows / 2) / rows * rows;
  return lo < c->n_rows ? lo : c->n_rows;
}


void nm_couplings_eval_part(nm_sim *s, const double *ring, const double *V, size_t step,
                            double from, double to)
{
  const double *base = ring + (nm_now_row(s, step) - s->ring);
  for (size_t i = 0; i < s->n_fast; i++) {
    size_t r0 = split_row(&s->fast[i], from), r1 = split_row(&s->fast[i], to);
    if (r0 < r1) eval_fast(&s->fast[i], base, V, s->U, r0, r1);
  }
}


void nm_couplings_eval_rows(nm_sim *s, const double *V, size_t step, size_t r0, size_t r1)
{
  const double *base = nm_now_row(s, step);
  for (size_t i = 0; i < s->n_fast; i++) {
    size_t n = s->fast[i].c->n_rows, a = r0 < n ? r0 : n, b = r1 < n ? r1 : n;
    if (a < b) eval_fast(&s->fast[i], base, V, s->U, a, b);
  }
}
