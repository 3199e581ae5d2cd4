/*
** coupling_ahead.c: the start-of-step coupling sums of rows whose every term
** is delayed, computed K steps at a time with contiguous loads.
**
** Row r's sum at step t is acc = 0; acc += w_k * x_{j_k}(t - d_k) for its
** terms k in order.  If every d_k >= K - 1, then at the start of step t (the
** history holds x(t) and older) the sums of steps t .. t+K-1 are known: term
** k of step t+m reads x_{j_k}(t - d_k + m), m <= K - 1 <= d_k.  Those K values
** are neighbours in a signal-major copy of the history (s->sring: column c's
** times one after the other, twice over, so that they are at an offset from
** the window's base that is constant per term, sim.h), so the K steps go on
** SIMD lanes: one load, a broadcast weight, a multiply then an add (no fused
** multiply-add), each lane adding the row's terms in the row's order: the
** bits of coupling.c.
**
** The history a window reads (about 17 cache lines a column) is larger than
** the L1 cache on 80 nodes, so a window goes over the columns in tiles of
** NM_AHEAD_TILE columns: every row's terms in a tile, then the next tile,
** the rows' sums carried in buf between tiles.  A row's terms stay in its
** order: a term's tile is its column's, or the tile of the row's term
** before if that is later (rows whose columns do not ascend -- compile.lua
** makes none -- then have the rest of their terms in one tile).
**
** A diffusive term w_k (x_{j_k}(t - d_k) - x_self(t)) needs x_self at its
** own step, which a window's start does not know, so a diffusive sum's
** groups are staged instead (with SIMD blocks only, where the processor's
** gathers are slow: s->stage_diffusive, simd.c nm_simd_stages): a window copies the K
** values each term will read into one array a step (stage), in the order
** of coupling_simd.c's blocks of rows (lane = row), by contiguous loads
** transposed with shuffles; each step then sums the blocks from its array
** with aligned loads instead of gathers (coupling_block.h eval_staged): the
** same operations in the same order, the same bits.
**
** A row's K is 8 or 4, the larger with K - 1 <= its least delay.  Rows of
** least delay 0 to 2 (shorter windows cost more than coupling.c's row
** blocks: docs/coupling.md), diffusive sums without SIMD blocks and
** self-couplings stay on coupling.c's path: f->stay lists the runs of such
** rows.  The rows of one K form a group; its buffer holds the window of K
** steps from the step it was computed at (`from`) and is used for those
** steps only: a step outside it (the next window, a run continued
** elsewhere) computes a new window.  The history a window reads (times <=
** from) is never written again, so a window stays right across runs.
** Threaded steps (nm_couplings_eval_part) keep coupling.c's path; the
** history copy is written on every path (system.c, step_threads.c).
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
    free(a->off);
    free(a->plan);
    free(a->w);
    free(a->v);
    free(a->buf);
    free(a->buf2);
    nm_coupling_blocks_free(&a->blk);
    free(a->soff);
    free(a->stage);
    free(a->unit);
  }
  free(f->stay);
  f->stay = NULL;
  f->n_stay = 0;
  memset(f->ahead, 0, sizeof f->ahead);
  f->n_ahead = 0;
  f->all_ahead = 0;
}


/* The windows' lengths, longest first (NM_AHEAD_GROUPS of them, the
** longest NM_AHEAD_MAX: sim.h). */
static const size_t window_steps[NM_AHEAD_GROUPS] = { NM_AHEAD_MAX, 4 };

/* The steps of row r's window: the longest K of window_steps with K - 1 <=
** its least delay, or 1 (coupling.c's path). */
static size_t row_steps(const nm_coupling *c, size_t r)
{
  size_t k0 = c->row_ptr[r], k1 = c->row_ptr[r + 1];
  if (k0 == k1) return window_steps[0];   /* no terms: the sum 0.0 of any path */
  int least = c->delay[k0];
  for (size_t k = k0 + 1; k < k1; k++)
    if (c->delay[k] < least) least = c->delay[k];
  for (int g = 0; g < NM_AHEAD_GROUPS; g++)
    if (least >= (int)window_steps[g] - 1) return window_steps[g];
  return 1;
}


/* The columns of the history a tile of a window reads (coupling_ahead.c's
** header): 20 columns of 17 lines of 64 bytes are 22 KB of the 48 KB L1 data
** cache of a Sapphire Rapids core, the rest holding the terms streamed
** through and the step's other work.  (10 and 80 were slower on HCP-80.) */
#define NM_AHEAD_TILE 20

/* Rows a block of the kernels (coupling_ahead_block.h) interleaves. */
#define NM_AHEAD_ROWS 4

/* The tiles of the group's rows rows[0 .. n_rows-1] of c: in tile_of
** (width entries, scratch), each ring column's tile: the ranks of the
** columns the rows read, cut into tiles of NM_AHEAD_TILE; in *ts_out (n_tiles
** + 1 entries a row, malloc'd; NULL: out of memory), where each row's terms
** of each tile start (entry n_tiles: the row's end).  Returns n_tiles. */
static size_t tile_rows(const nm_sim *s, const nm_coupling *c, const size_t *rows, size_t n_rows,
                        size_t *tile_of, size_t **ts_out)
{
  for (size_t col = 0; col < s->width; col++) tile_of[col] = 0;
  for (size_t i = 0; i < n_rows; i++)
    for (size_t k = c->row_ptr[rows[i]]; k < c->row_ptr[rows[i] + 1]; k++) tile_of[s->column[c->src[k]]] = 1;
  size_t used = 0;
  for (size_t col = 0; col < s->width; col++) {
    size_t read = tile_of[col];
    tile_of[col] = used / NM_AHEAD_TILE;
    used += read;
  }
  size_t n_tiles = used ? (used - 1) / NM_AHEAD_TILE + 1 : 1;
  size_t *ts = malloc(n_rows * (n_tiles + 1) * sizeof *ts);
  *ts_out = ts;
  if (!ts) return 0;
  for (size_t i = 0; i < n_rows; i++) {
    size_t k = c->row_ptr[rows[i]], end = c->row_ptr[rows[i] + 1], at = 0;
    for (size_t t = 0; t < n_tiles; t++) {
      ts[i * (n_tiles + 1) + t] = k;
      for (; k < end; k++) {            /* the terms of tile t: a row's tiles never go back */
        size_t tile = tile_of[s->column[c->src[k]]];
        if (tile > at) at = tile;
        if (at > t) break;
      }
    }
    ts[i * (n_tiles + 1) + n_tiles] = end;
  }
  return n_tiles;
}


/* A unit of a staged group (a block's lanes at one term) and the history
** column its first slot reads. */
typedef struct {
  size_t column, at;
} unit_key;

static int by_column(const void *x, const void *y)
{
  const unit_key *a = x, *b = y;
  if (a->column != b->column) return a->column < b->column ? -1 : 1;
  return a->at < b->at ? -1 : a->at > b->at;
}


/* Staged group a's units (a->unit), ordered by the column of the history
** they read (so that staging reads one column's lines while they are in the
** L1 cache, rather than every column once per block: on 80 nodes the lines
** a window reads are more than the L1 holds); 0 when out of memory. */
static int units_by_column(nm_ahead_group *a, size_t stride)
{
  size_t lanes = a->blk.rows, n = 0;
  for (size_t j = 0; j < a->blk.n_blocks; j++) n += a->blk.block[j].n_max;
  unit_key *key = malloc((n + 1) * sizeof *key);
  a->unit = malloc((n + 1) * sizeof *a->unit);
  if (!key || !a->unit) {
    free(key);
    return 0;
  }
  n = 0;
  for (size_t j = 0; j < a->blk.n_blocks; j++)
    for (size_t k = 0; k < a->blk.block[j].n_max; k++) {
      size_t at = a->blk.block[j].at + k * lanes;
      key[n++] = (unit_key){ (size_t)a->soff[at] / stride, at };
    }
  qsort(key, n, sizeof *key, by_column);
  for (size_t i = 0; i < n; i++) a->unit[i] = key[i].at;
  a->n_units = n;
  free(key);
  return 1;
}


/* The most bytes a staged group's values take (K values a term): past the
** second-level cache the arrays' traffic costs what the gathers did (1000
** random nodes, 6.4 MB: 2 to 9 % faster; HCP-80: 0.3 MB, 25 %), and a large
** network's arrays would be hundreds of MB. */
#define NM_STAGE_MAX (4u << 20)

/* The group of rows with window K of diffusive sum f, staged (nm_ahead_group):
** its rows, longest first, in blocks of SIMD lanes (coupling_simd.c's
** layout, so that a step sums them as the gathers would), each block slot's
** offset in s->sring, and room for K values a slot.  Where coupling_simd.c
** makes no blocks (offsets beyond 32 bits, rows too uneven), or the values
** would take more than NM_STAGE_MAX, no group: its rows stay on coupling.c's
** path. */
static int make_staged(nm_sim *s, const nm_fast_coupling *f, nm_ahead_group *a)
{
  const nm_coupling *c = f->c;
  size_t K = a->K, n = 0, stride = NM_SRING_STRIDE(s->depth);
  size_t *list = malloc((c->n_rows + 1) * sizeof *list);
  if (!list) return NM_ENOMEM;
  for (size_t r = 0; r < c->n_rows; r++)
    if (row_steps(c, r) == K) list[n++] = r;
  nm_rows_longest_first(c->row_ptr, list, n);
  int rc = n ? nm_coupling_blocks_make_rows(&a->blk, a->simd, c, NULL, f->off, list, n) : NM_OK;
  free(list);
  nm_coupling_blocks *b = &a->blk;
  if (rc != NM_OK || !b->rows) return rc;
  const nm_block *last = &b->block[b->n_blocks - 1];
  a->n_slots = (last->at + last->n_max * b->rows + 7) / 8 * 8;   /* a step's values 64-byte aligned */
  if (K * a->n_slots * sizeof *a->stage > NM_STAGE_MAX) {
    nm_coupling_blocks_free(b);          /* the gathers, with no memory of their own */
    a->n_slots = 0;
    return NM_OK;
  }
  a->soff = calloc(a->n_slots + 1, sizeof *a->soff);            /* padding: offset 0 */
  a->stage = aligned_alloc(64, (K * a->n_slots + 8) * sizeof *a->stage);
  a->n_rows = n;                        /* from here on nm_ahead_free frees it, also half-made */
  if (!a->soff || !a->stage) return NM_ENOMEM;
  for (size_t l = 0; l < b->n_lanes; l++) {
    size_t r = NM_LANE_ROW(b, l), at = b->block[l / b->rows].at + l % b->rows;
    for (size_t k = c->row_ptr[r]; k < c->row_ptr[r + 1]; k++, at += b->rows)
      a->soff[at] = (int32_t)(((size_t)s->column[c->src[k]] - s->sring_c0) * stride + s->depth -
                              nm_reach(s, c->delay[k]));
  }
  return units_by_column(a, stride) ? NM_OK : NM_ENOMEM;
}


/* The group of rows with window K of sum f (and its twin), its terms in the
** order the kernels read them (nm_ahead_group); a diffusive sum's staged. */
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
  if (c->mode == NM_DIFFUSIVE) return make_staged(s, f, a);
  a->row = malloc(n_rows * sizeof *a->row);
  a->n_rows = n_rows;                   /* from here on nm_ahead_free frees it, also half-made */
  size_t *tile_of = malloc((s->width + 1) * sizeof *tile_of), *ts = NULL;
  if (!a->row || !tile_of) {
    free(tile_of);
    return NM_ENOMEM;
  }
  for (size_t r = 0, i = 0; r < c->n_rows; r++)
    if (row_steps(c, r) == K) a->row[i++] = r;
  size_t T = tile_rows(s, c, a->row, n_rows, tile_of, &ts);
  free(tile_of);
  size_t nb = n_rows / NM_AHEAD_ROWS, rest = n_rows - nb * NM_AHEAD_ROWS;
  a->n_tiles = T;
  a->off = malloc((n_terms + 1) * sizeof *a->off);
  a->plan = malloc(T * (nb * (NM_AHEAD_ROWS + 1) + rest) * sizeof *a->plan);
  a->w = malloc((n_terms + 1) * sizeof *a->w);
  a->v = t ? malloc((n_terms + 1) * sizeof *a->v) : NULL;
  a->buf = malloc(n_rows * K * sizeof *a->buf);
  a->buf2 = t ? malloc(n_rows * K * sizeof *a->buf2) : NULL;
  if (!ts || !a->off || !a->plan || !a->w || !a->buf || (t && (!a->v || !a->buf2))) {
    free(ts);
    return NM_ENOMEM;
  }
  size_t at = 0, q = 0, stride = NM_SRING_STRIDE(s->depth);
  /* term k of the sum to place `at`: its offset from a window's base (sim.h) */
#define PUT(k) do { size_t k_ = (k);                                                          \
    a->off[at] = (int32_t)(((size_t)s->column[c->src[k_]] - s->sring_c0) * stride + s->depth -       \
                           nm_reach(s, c->delay[k_]));                                        \
    a->w[at] = c->weight[k_];                                                                 \
    if (t) a->v[at] = t->weight[k_];                                                          \
    at++;                                                                                     \
  } while (0)
  for (size_t tile = 0; tile < T; tile++) {
    for (size_t b = 0; b < nb; b++) {   /* a block: the terms all its rows have, interleaved */
      const size_t *tb = ts + b * NM_AHEAD_ROWS * (T + 1) + tile;
      size_t n = SIZE_MAX;
      for (size_t r = 0; r < NM_AHEAD_ROWS; r++)
        if (tb[r * (T + 1) + 1] - tb[r * (T + 1)] < n) n = tb[r * (T + 1) + 1] - tb[r * (T + 1)];
      a->plan[q++] = (uint32_t)n;
      for (size_t k = 0; k < n; k++)
        for (size_t r = 0; r < NM_AHEAD_ROWS; r++) PUT(tb[r * (T + 1)] + k);
      for (size_t r = 0; r < NM_AHEAD_ROWS; r++) {   /* then each row's rest */
        a->plan[q++] = (uint32_t)(tb[r * (T + 1) + 1] - tb[r * (T + 1)] - n);
        for (size_t k = tb[r * (T + 1)] + n; k < tb[r * (T + 1) + 1]; k++) PUT(k);
      }
    }
    for (size_t i = nb * NM_AHEAD_ROWS; i < n_rows; i++) {   /* the rows after the last block */
      const size_t *ti = ts + i * (T + 1) + tile;
      a->plan[q++] = (uint32_t)(ti[1] - ti[0]);
      for (size_t k = ti[0]; k < ti[1]; k++) PUT(k);
    }
  }
#undef PUT
  free(ts);
  return NM_OK;
}


/* Whether most of diffusive sum c's terms (half or more) are in rows with
** windows.  Staging them pays for the signal-major history copy every step
** must then write (nm_sring_put: a cache line a column, on every path,
** threads included) only when it saves the gathers of most terms: random
** networks of 500 and 1000 nodes, a third and an eighth of whose terms are
** in such rows, ran 13 to 15 % slower on one thread in `make bench` with
** them staged (conn 500: 0.913 s against 0.791; conn 1000: 1.06 against
** 0.922), and their steps on 2 threads no faster than on one. */
static int mostly_staged(const nm_coupling *c)
{
  size_t in = 0, all = c->row_ptr[c->n_rows];
  for (size_t r = 0; r < c->n_rows; r++)
    if (row_steps(c, r) > 1) in += c->row_ptr[r + 1] - c->row_ptr[r];
  return 2 * in >= all;
}


/* Whether sum c's rows of windows longer than 1 go ahead in a history of
** `width` columns and `depth` rows, its gathers on `coupling_simd` (a
** simulation's s->coupling_simd): sums with rows of more than one term
** (self-couplings stay scalar) whose offsets and counts fit the kernels'
** types; additive sums where the windows have SIMD kernels (in plain C a
** window cost more than coupling.c's rows: FHN-80 1.05 s against 0.61 for
** 10 s simulated on an AMD EPYC, NEUROMASS_SIMD=off); diffusive sums where
** there are SIMD blocks to stage their values for and staging pays on this
** processor (`stage`: s->stage_diffusive, simd.c's nm_simd_stages, never
** without SIMD blocks).  (A sum summed with a twin goes with it: goes_ahead.) */
static int sum_ahead(const nm_coupling *c, size_t width, size_t depth, int coupling_simd, int stage)
{
  size_t longest_row = 0;
  for (size_t r = 0; r < c->n_rows; r++)
    if (c->row_ptr[r + 1] - c->row_ptr[r] > longest_row) longest_row = c->row_ptr[r + 1] - c->row_ptr[r];
  int mode_ok = (c->mode == NM_ADDITIVE && coupling_simd != NM_SIMD_OFF) ||
                (c->mode == NM_DIFFUSIVE && stage && mostly_staged(c));
  return mode_ok && longest_row > 1 && width <= INT32_MAX / NM_SRING_STRIDE(depth) &&
         c->row_ptr[c->n_rows] <= UINT32_MAX;
}


/* Whether prepared sum f goes ahead (sum_ahead; not a twin, which its first
** sums). */
static int goes_ahead(const nm_sim *s, const nm_fast_coupling *f)
{
  return !f->is_twin && sum_ahead(f->c, s->width, s->depth, s->coupling_simd, s->stage_diffusive);
}


size_t nm_ahead_columns(const nm_model *m, const long *column, size_t width, size_t depth,
                        int coupling_simd, int stage, size_t *c0_out)
{
  /* (a twin reads its first's columns, and goes ahead when its first does:
  ** the twins need not be paired to know the columns) */
  size_t c0 = SIZE_MAX, c1 = 0;
  int any = 0;
  for (size_t i = 0; i < m->n_couplings; i++) {
    const nm_coupling *c = &m->couplings[i];
    if (!sum_ahead(c, width, depth, coupling_simd, stage)) continue;
    for (size_t r = 0; r < c->n_rows; r++) {
      if (row_steps(c, r) == 1) continue;
      any = 1;
      for (size_t k = c->row_ptr[r]; k < c->row_ptr[r + 1]; k++) {
        size_t col = (size_t)column[c->src[k]];
        if (col < c0) c0 = col;
        if (col + 1 > c1) c1 = col + 1;
      }
    }
  }
  if (c0 > c1) c0 = c1 = 0;             /* rows without terms only */
  if (c0_out) *c0_out = c0;
  return any ? c1 - c0 : SIZE_MAX;
}


size_t nm_ahead_bytes(size_t n_columns, size_t depth)
{
  if (n_columns == SIZE_MAX) return 0;
  size_t stride = NM_SRING_STRIDE(depth);
  if (n_columns && stride > (SIZE_MAX / sizeof(double) - 1) / n_columns) return SIZE_MAX;
  return (n_columns * stride + 1) * sizeof(double);
}


/* s->sring with the columns the windows of every sum of s read (the sums
** are all known when the first is prepared), if some sum has windows. */
static int make_sring(nm_sim *s)
{
  size_t c0, n = nm_ahead_columns(s->m, s->column, s->width, s->depth, s->coupling_simd,
                                  s->stage_diffusive, &c0);
  if (n == SIZE_MAX) return NM_OK;
  size_t stride = NM_SRING_STRIDE(s->depth), bytes = nm_ahead_bytes(n, s->depth);
  s->sring = bytes == SIZE_MAX ? NULL : malloc(bytes);
  if (!s->sring)      /* (named: it is as large as the history, which took its share) */
    return nm_sim_fail(s, NM_ENOMEM, "the delay history of %zu signals over %zu steps: the "
                         "copy of %zu of them staged for the coupling sums needs %zu bytes, which "
                         "cannot be allocated (the history itself took %zu)", s->width, s->depth,
                         n, n * stride * sizeof *s->sring,
                         3 * s->width * s->depth * sizeof *s->ring);
  s->sring_c0 = c0;
  s->sring_n = n;
  s->sring_cycle = s->step / s->depth;  /* both halves as the ring has them */
  for (size_t col = c0; col < c0 + n; col++)
    for (size_t p = 0; p < stride; p++)
      s->sring[(col - c0) * stride + p] = s->ring[(p & (s->depth - 1)) * s->width + col];
  return NM_OK;
}


/* Whether row r of sum f is in one of its groups (the group of its window
** may have none: a window of 1 step, or a diffusive sum without blocks). */
static int grouped(const nm_fast_coupling *f, size_t r)
{
  size_t K = row_steps(f->c, r);
  for (int g = 0; g < f->n_ahead; g++)
    if (f->ahead[g].K == K) return 1;
  return 0;
}


int nm_ahead_prepare(nm_sim *s, nm_fast_coupling *f, int simd)
{
  const nm_coupling *c = f->c;
  memset(f->ahead, 0, sizeof f->ahead);
  f->n_ahead = 0;
  f->all_ahead = 0;
  if (!goes_ahead(s, f)) return NM_OK;
  if (!s->sring) {
    int rc = make_sring(s);
    if (rc != NM_OK) return rc;
  }
  size_t rows = 0;
  for (int g = 0; g < NM_AHEAD_GROUPS; g++) {
    int rc = make_group(s, f, window_steps[g], simd, &f->ahead[f->n_ahead]);
    rows += f->ahead[f->n_ahead].n_rows;
    if (f->ahead[f->n_ahead].n_rows) f->n_ahead++;
    if (rc != NM_OK) return rc;
  }
  f->all_ahead = rows == c->n_rows;
  f->stay = malloc((c->n_rows + 1) * sizeof *f->stay);      /* at most n_rows / 2 runs */
  if (!f->stay) return NM_ENOMEM;
  for (size_t r = 0; r < c->n_rows && f->n_ahead; r++)
    if (!grouped(f, r)) {
      if (f->n_stay == 0 || f->stay[2 * f->n_stay - 1] != r) {    /* a new run */
        f->stay[2 * f->n_stay] = r;
        f->n_stay++;
      }
      f->stay[2 * f->n_stay - 1] = r + 1;
    }
  return NM_OK;
}


/* ---------------------------------------------------------------------
** The kernels: window of K steps from `from` for every row of group a
** ------------------------------------------------------------------- */

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

/* 8 steps on AVX2 processors: each lane of the pair of 4-lane halves is one
** step, as above (lane m of the pair is lane m of the 8-step window). */
typedef struct { __m256d lo, hi; } nm_m256d_pair;
#define NM_PAIR __attribute__((target("avx2"))) static inline nm_m256d_pair
NM_PAIR pair_zero(void) { return (nm_m256d_pair){ _mm256_setzero_pd(), _mm256_setzero_pd() }; }
NM_PAIR pair_loadu(const double *p) { return (nm_m256d_pair){ _mm256_loadu_pd(p), _mm256_loadu_pd(p + 4) }; }
NM_PAIR pair_set1(double x) { return (nm_m256d_pair){ _mm256_set1_pd(x), _mm256_set1_pd(x) }; }
NM_PAIR pair_mul(nm_m256d_pair a, nm_m256d_pair b)
{
  return (nm_m256d_pair){ _mm256_mul_pd(a.lo, b.lo), _mm256_mul_pd(a.hi, b.hi) };
}
NM_PAIR pair_add(nm_m256d_pair a, nm_m256d_pair b)
{
  return (nm_m256d_pair){ _mm256_add_pd(a.lo, b.lo), _mm256_add_pd(a.hi, b.hi) };
}
__attribute__((target("avx2"))) static inline void pair_storeu(double *p, nm_m256d_pair x)
{
  _mm256_storeu_pd(p, x.lo);
  _mm256_storeu_pd(p + 4, x.hi);
}
#undef NM_PAIR
#define NM_K 8
#define NM_TARGET __attribute__((target("avx2")))
#define NM_NAME(x) x##8_avx2
#define NM_VEC nm_m256d_pair
#define NM_ZERO() pair_zero()
#define NM_LOADU(p) pair_loadu(p)
#define NM_STOREU(p, x) pair_storeu((p), (x))
#define NM_SET1(x) pair_set1(x)
#define NM_MUL(a, b) pair_mul((a), (b))
#define NM_ADD(a, b) pair_add((a), (b))
#include "coupling_ahead_block.h"
#endif


/* The window of group a from the base in s->sring of its first step, on the
** widest kernel a->simd allows (a group has SIMD kernels: sum_ahead). */
static void window(const nm_ahead_group *a, const double *base)
{
#if NM_X86_SIMD
  if (a->K == 8 && a->simd == NM_SIMD_AVX512) window8_avx512(a, base);
  else if (a->K == 8) window8_avx2(a, base);
  else window4_avx2(a, base);
#else
  (void)a, (void)base;                  /* (no groups without the kernels) */
#endif
}


/* ---------------------------------------------------------------------
** Staged groups (diffusive sums): the window's values, slot by slot
** ------------------------------------------------------------------- */

/* Staging sets stage[m * n_slots + i] = base[soff[i] + m] for the K steps m
** of the window from base (s->sring) and every slot i of the group's units.
** A staged group has SIMD blocks (make_staged), so the kernels are all
** vector ones: there is no group to stage without them. */

#if NM_X86_SIMD
/* By 4 slots and 4 steps: the 4 slots' runs of 4 times (one load
** each) transposed into the 4 steps' runs of 4 slots (aligned stores; K and
** n_slots are multiples of 4). */
__attribute__((target("avx2")))
static void stage_avx2(const nm_ahead_group *a, const double *base)
{
  const size_t n = a->n_slots, K = a->K;
  const int32_t *so = a->soff;
  for (size_t q = 0; q < a->n_units * a->blk.rows; q += 4)
    for (size_t i = a->unit[q / a->blk.rows] + q % a->blk.rows, m = 0; m < K; m += 4) {
      __m256d r0 = _mm256_loadu_pd(base + so[i] + m), r1 = _mm256_loadu_pd(base + so[i + 1] + m);
      __m256d r2 = _mm256_loadu_pd(base + so[i + 2] + m), r3 = _mm256_loadu_pd(base + so[i + 3] + m);
      __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);   /* times 0 2, 1 3 */
      __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
      double *o = a->stage + m * n + i;
      _mm256_store_pd(o, _mm256_permute2f128_pd(t0, t2, 0x20));
      _mm256_store_pd(o + n, _mm256_permute2f128_pd(t1, t3, 0x20));
      _mm256_store_pd(o + 2 * n, _mm256_permute2f128_pd(t0, t2, 0x31));
      _mm256_store_pd(o + 3 * n, _mm256_permute2f128_pd(t1, t3, 0x31));
    }
}


/* Two rounds of an AVX-512 transpose: x[b] holds slot b's times 0 .. 3 in
** its lower half and slot b + 4's (or another run's) in its upper half;
** y[m] gets time m of slots 0 .. 3, then of slots 4 .. 7. */
__attribute__((target("avx512f")))
static inline void transpose_rounds(const __m512d x[4], __m512d y[4])
{
  const __m512i pairs_lo = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0);
  const __m512i pairs_hi = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
  __m512d t0 = _mm512_unpacklo_pd(x[0], x[1]), t1 = _mm512_unpackhi_pd(x[0], x[1]);   /* times 0 2, 1 3 */
  __m512d t2 = _mm512_unpacklo_pd(x[2], x[3]), t3 = _mm512_unpackhi_pd(x[2], x[3]);
  y[0] = _mm512_permutex2var_pd(t0, pairs_lo, t2);
  y[1] = _mm512_permutex2var_pd(t1, pairs_lo, t3);
  y[2] = _mm512_permutex2var_pd(t0, pairs_hi, t2);
  y[3] = _mm512_permutex2var_pd(t1, pairs_hi, t3);
}


/* The same by 8 slots (a block's lanes: blocks of AVX-512's 8 rows) and
** 8 steps: an 8 x 8 transpose, the two rounds on slots 0 .. 3 and 4 .. 7
** (times m and m + 4 in each register), then their halves joined. */
__attribute__((target("avx512f")))
static void stage8_avx512(const nm_ahead_group *a, const double *base)
{
  const size_t n = a->n_slots;
  const int32_t *so = a->soff;
  double *st = a->stage;
  const __m512i halves_lo = _mm512_set_epi64(11, 10, 9, 8, 3, 2, 1, 0);
  const __m512i halves_hi = _mm512_set_epi64(15, 14, 13, 12, 7, 6, 5, 4);
  for (size_t v = 0; v < a->n_units; v++) {
    size_t i = a->unit[v];
    __m512d r[8], u[8];
    for (int b = 0; b < 8; b++) r[b] = _mm512_loadu_pd(base + so[i + b]);   /* slot b's 8 times */
    transpose_rounds(r, u);
    transpose_rounds(r + 4, u + 4);
    for (int m = 0; m < 4; m++) {
      _mm512_store_pd(st + m * n + i, _mm512_permutex2var_pd(u[m], halves_lo, u[m + 4]));
      _mm512_store_pd(st + (m + 4) * n + i, _mm512_permutex2var_pd(u[m], halves_hi, u[m + 4]));
    }
  }
}


/* The same by 8 slots and 4 steps: slots b and b + 4's runs in one register,
** then the two rounds. */
__attribute__((target("avx512f")))
static void stage4_avx512(const nm_ahead_group *a, const double *base)
{
  const size_t n = a->n_slots;
  const int32_t *so = a->soff;
  double *st = a->stage;
  for (size_t v = 0; v < a->n_units; v++) {
    size_t i = a->unit[v];
    __m512d z[4], y[4];
    for (int b = 0; b < 4; b++)                        /* slots b, b + 4 at times 0 1 2 3 */
      z[b] = _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_loadu_pd(base + so[i + b])),
                                _mm256_loadu_pd(base + so[i + b + 4]), 1);
    transpose_rounds(z, y);
    for (int m = 0; m < 4; m++) _mm512_store_pd(st + m * n + i, y[m]);
  }
}
#endif


/* Staged group a's values of the window from base, on the widest kernel. */
static void stage(const nm_ahead_group *a, const double *base)
{
#if NM_X86_SIMD
  if (a->simd == NM_SIMD_AVX512 && a->K == 8) stage8_avx512(a, base);
  else if (a->simd == NM_SIMD_AVX512 && a->K == 4) stage4_avx512(a, base);
  else stage_avx2(a, base);
#else
  (void)a;                              /* (no SIMD blocks: no staged group) */
  (void)base;
#endif
}


/* Before the first window of the cycle of `step` (sim.h): the lower halves
** of s->sring above p = step & (depth - 1), copied from the upper ones, which
** hold there the cycle before (the windows of this cycle read nothing else of
** the lower halves; nm_sring_put writes the upper ones only). */
static void sring_cycle(nm_sim *s, size_t step)
{
  size_t cycle = step / s->depth, p = step & (s->depth - 1), stride = NM_SRING_STRIDE(s->depth);
  if (cycle == s->sring_cycle) return;
  for (size_t i = 0; i < s->sring_n; i++) {
    double *x = s->sring + i * stride;
    memcpy(x + p + 1, x + s->depth + p + 1, (s->depth - p - 1) * sizeof *x);
  }
  s->sring_cycle = cycle;
}


void nm_ahead_eval(nm_sim *s, nm_fast_coupling *f, const double *V, size_t step)
{
  const nm_coupling *c = f->c, *t = f->twin;
  for (int g = 0; g < f->n_ahead; g++) {
    nm_ahead_group *a = &f->ahead[g];
    if (a->from == SIZE_MAX || step < a->from || step - a->from >= a->K) {
      sring_cycle(s, step);
      if (a->blk.rows) stage(a, s->sring + (step & (s->depth - 1)));
      else window(a, s->sring + (step & (s->depth - 1)));
      a->from = step;
    }
    size_t m = step - a->from, K = a->K;
    if (a->blk.rows) {            /* staged: this step's sums from its values and V's selves */
      nm_coupling_blocks_eval_staged(&a->blk, c, a->stage + m * a->n_slots, V, s->U);
      continue;
    }
    for (size_t i = 0; i < a->n_rows; i++) s->U[c->dst[a->row[i]]] = a->buf[i * K + m];
    if (t)
      for (size_t i = 0; i < a->n_rows; i++) s->U[t->dst[a->row[i]]] = a->buf2[i * K + m];
  }
}
