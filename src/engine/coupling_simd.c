/*
** coupling_simd.c: the coupling sums at the start of a step on SIMD
** registers, across rows: a block of 8 rows (AVX-512) or 4 (AVX2), lane b
** summing row b (or the list's row: nm_coupling_blocks_make_rows), term k of every row of the block fetched by one gather from
** the history ring.  The block's offsets and weights are stored transposed
** when the simulation is made (nm_coupling_blocks_make), so term k of the
** block is three aligned loads and a gather.  Each lane adds its row's terms
** in the row's order, a multiply then an add (coupling_block.h), so every
** sum is bit for bit the scalar sum of coupling.c, which stays the reference
** and the path of other processors.
**
** The instruction set is chosen at run time (simd.c's nm_simd_choose, read
** once by nm_sim_new: s->coupling_simd): the engine is built for any x86-64, and only the kernels
** are compiled for AVX-512 or AVX2 (function attributes), called when the
** processor has them.  NEUROMASS_SIMD=off|avx2|avx512 forces a path, so that
** the tests run every path on one machine (docs/coupling.md).
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#if NM_X86_SIMD
#include <immintrin.h>
#endif


/* ---------------------------------------------------------------------
** The layout
** ------------------------------------------------------------------- */

/* `bytes` (at least 1) on a 64-byte boundary, for aligned vector loads. */
static void *aligned(size_t bytes)
{
  size_t size = (bytes + 63) / 64 * 64;
  return aligned_alloc(64, size ? size : 64);
}


void nm_coupling_blocks_free(nm_coupling_blocks *b)
{
  free(b->block);
  free(b->idx);
  free(b->w);
  free(b->v);
  free(b->len);
  free(b->row);
  memset(b, 0, sizeof *b);
}


void nm_rows_longest_first(const size_t *row_ptr, size_t *list, size_t n)
{
  for (size_t j = 1; j < n; j++) {         /* insertion, stable */
    size_t r = list[j], len = row_ptr[r + 1] - row_ptr[r], i = j;
    for (; i > 0 && row_ptr[list[i - 1] + 1] - row_ptr[list[i - 1]] < len; i--) list[i] = list[i - 1];
    list[i] = r;
  }
}


int nm_coupling_blocks_make(nm_coupling_blocks *b, int simd, const nm_coupling *c,
                            const nm_coupling *t, const long *off)
{
  return nm_coupling_blocks_make_rows(b, simd, c, t, off, NULL, c->n_rows);
}


int nm_coupling_blocks_make_rows(nm_coupling_blocks *b, int simd, const nm_coupling *c,
                                 const nm_coupling *t, const long *off, const size_t *list,
                                 size_t n_list)
{
  memset(b, 0, sizeof *b);
  const size_t *rp = c->row_ptr;
  size_t n = 0, rows = simd == NM_SIMD_AVX512 ? 8 : 4;
  if (simd == NM_SIMD_OFF || n_list == 0) return NM_OK;
  if (list) {
    b->row = malloc(n_list * sizeof *b->row);
    if (!b->row) return NM_ENOMEM;
    memcpy(b->row, list, n_list * sizeof *b->row);
  }
  for (size_t l = 0; l < n_list; l++) {
    size_t r = NM_LANE_ROW(b, l);
    n += rp[r + 1] - rp[r];
    for (size_t k = rp[r]; k < rp[r + 1]; k++)
      if (off[k] < INT32_MIN || off[k] > INT32_MAX) {               /* the scalar path */
        nm_coupling_blocks_free(b);
        return NM_OK;
      }
  }
  size_t nb = (n_list + rows - 1) / rows, total = 0;
  b->block = malloc(nb * sizeof *b->block);
  b->len = aligned(nb * rows * sizeof *b->len);
  if (!b->block || !b->len) return NM_ENOMEM;
  for (size_t j = 0; j < nb; j++) {
    size_t lo = SIZE_MAX, hi = 0;
    for (size_t l = 0; l < rows; l++) {
      size_t i = j * rows + l, m = i < n_list ? rp[NM_LANE_ROW(b, i) + 1] - rp[NM_LANE_ROW(b, i)] : 0;
      b->len[j * rows + l] = (int64_t)m;
      if (i < n_list && m < lo) lo = m;
      if (m > hi) hi = m;
    }
    b->block[j] = (nm_block){ total, lo, hi };
    total += hi * rows;                   /* at most rows * n in all */
  }
  if (total > 4 * n) {                    /* rows too uneven: padding would be most of it */
    nm_coupling_blocks_free(b);
    return NM_OK;
  }
  b->idx = aligned(total * sizeof *b->idx);
  b->w = aligned(total * sizeof *b->w);
  b->v = t ? aligned(total * sizeof *b->v) : NULL;
  if (!b->idx || !b->w || (t && !b->v)) return NM_ENOMEM;
  memset(b->idx, 0, total * sizeof *b->idx);          /* padding: offset 0, weight 0 */
  memset(b->w, 0, total * sizeof *b->w);
  if (t) memset(b->v, 0, total * sizeof *b->v);
  for (size_t i = 0; i < n_list; i++) {
    size_t r = NM_LANE_ROW(b, i), at = b->block[i / rows].at + i % rows;
    for (size_t k = rp[r]; k < rp[r + 1]; k++, at += rows) {
      b->idx[at] = (int32_t)off[k];
      b->w[at] = c->weight[k];
      if (t) b->v[at] = t->weight[k];
    }
  }
  b->simd = simd;
  b->rows = rows;
  b->n_blocks = nb;
  b->n_lanes = n_list;
  return NM_OK;
}


/* ---------------------------------------------------------------------
** The kernels, one copy of coupling_block.h per instruction set
** ------------------------------------------------------------------- */

#if NM_X86_SIMD

/*
** base[idx[b]] in lane b, into a register zeroed first.  A gather merges
** into its destination (lanes whose mask bit is clear keep their value), so
** the processor waits for the destination's last value even when every bit
** is set; the compiler, seeing a full mask, reuses the register of the last
** term's product, which chained each term's gather to the one before (21 %
** of a Hopf-80 step).  The asm zeroes a fresh register instead: no chain, the
** same loads.
*/
__attribute__((target("avx512f")))
static inline __m512d gather8(__m256i idx, const double *base)
{
  __m512d x = _mm512_setzero_pd();
  __mmask8 all = 0xFF;
  __asm__("vgatherdpd (%[base], %[idx], 8), %[x]%{%[all]%}"
          : [x] "+v"(x), [all] "+Yk"(all)
          : [base] "r"(base), [idx] "v"(idx)
          : "memory");
  return x;
}

/* The same for AVX2 (the mask a vector register, cleared by the gather). */
__attribute__((target("avx2")))
static inline __m256d gather4(__m128i idx, const double *base)
{
  __m256d x = _mm256_setzero_pd(), all = _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
  __asm__("vgatherdpd %[all], (%[base], %[idx], 8), %[x]"
          : [x] "+x"(x), [all] "+x"(all)
          : [base] "r"(base), [idx] "x"(idx)
          : "memory");
  return x;
}

#define NM_B 8
#define NM_TARGET __attribute__((target("avx512f")))
#define NM_NAME(x) x##_avx512
#define NM_VEC __m512d
#define NM_LEN __m512i
#define NM_ZERO() _mm512_setzero_pd()
#define NM_LOAD(p) _mm512_load_pd(p)
#define NM_LOAD_IDX(p) _mm256_load_si256((const __m256i *)(p))
#define NM_LOAD_LEN(p) _mm512_load_si512(p)
#define NM_STORE(p, x) _mm512_store_pd((p), (x))
#define NM_GATHER(idx, base) gather8((idx), (base))
#define NM_MUL(a, b) _mm512_mul_pd((a), (b))
#define NM_ADD(a, b) _mm512_add_pd((a), (b))
#define NM_SUB(a, b) _mm512_sub_pd((a), (b))
#define NM_ADD_IF(acc, len, k, x) \
  _mm512_mask_add_pd((acc), _mm512_cmpgt_epi64_mask((len), _mm512_set1_epi64((long long)(k))), \
                     (acc), (x))
#include "coupling_block.h"
#undef NM_B
#undef NM_TARGET
#undef NM_NAME
#undef NM_VEC
#undef NM_LEN
#undef NM_ZERO
#undef NM_LOAD
#undef NM_LOAD_IDX
#undef NM_LOAD_LEN
#undef NM_STORE
#undef NM_GATHER
#undef NM_MUL
#undef NM_ADD
#undef NM_SUB
#undef NM_ADD_IF

#define NM_B 4
#define NM_TARGET __attribute__((target("avx2")))
#define NM_NAME(x) x##_avx2
#define NM_VEC __m256d
#define NM_LEN __m256i
#define NM_ZERO() _mm256_setzero_pd()
#define NM_LOAD(p) _mm256_load_pd(p)
#define NM_LOAD_IDX(p) _mm_load_si128((const __m128i *)(p))
#define NM_LOAD_LEN(p) _mm256_load_si256((const __m256i *)(p))
#define NM_STORE(p, x) _mm256_store_pd((p), (x))
#define NM_GATHER(idx, base) gather4((idx), (base))
#define NM_MUL(a, b) _mm256_mul_pd((a), (b))
#define NM_ADD(a, b) _mm256_add_pd((a), (b))
#define NM_SUB(a, b) _mm256_sub_pd((a), (b))
#define NM_ADD_IF(acc, len, k, x) \
  _mm256_blendv_pd((acc), _mm256_add_pd((acc), (x)), \
                   _mm256_castsi256_pd(_mm256_cmpgt_epi64((len), _mm256_set1_epi64x((long long)(k)))))
#include "coupling_block.h"

#endif


void nm_coupling_blocks_eval_staged(const nm_coupling_blocks *b, const nm_coupling *c,
                                    const double *st, const double *V, double *U)
{
#if NM_X86_SIMD
  if (b->simd == NM_SIMD_AVX512) eval_staged_avx512(b, c, st, V, U);
  else if (b->simd == NM_SIMD_AVX2) eval_staged_avx2(b, c, st, V, U);
#else
  (void)b; (void)c; (void)st; (void)V; (void)U;
#endif
}


void nm_coupling_blocks_eval(const nm_coupling_blocks *b, const nm_coupling *c, const nm_coupling *t,
                             const double *base, const double *V, double *U, size_t j0, size_t j1)
{
#if NM_X86_SIMD
  if (b->simd == NM_SIMD_AVX512) eval_blocks_avx512(b, c, t, base, V, U, j0, j1);
  else if (b->simd == NM_SIMD_AVX2) eval_blocks_avx2(b, c, t, base, V, U, j0, j1);
#else
  (void)b; (void)c; (void)t; (void)base; (void)V; (void)U; (void)j0; (void)j1;
#endif
}
