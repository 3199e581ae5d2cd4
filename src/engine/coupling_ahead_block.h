/*
** coupling_ahead_block.h: the kernel that computes a window of NM_K steps
** of a group's rows (coupling_ahead.c), one SIMD lane a step.
** coupling_ahead.c includes it once per instruction set, after defining:
**   NM_K             steps a window, the lanes of a vector
**   NM_TARGET        the attribute that compiles a function for the set
**   NM_NAME(x)       x with the window's and the set's suffix
**   NM_VEC           a vector of NM_K doubles
**   NM_ZERO(), NM_LOADU(p), NM_STOREU(p, x), NM_SET1(x)
**   NM_MUL(a, b), NM_ADD(a, b)   one rounding each, lane by lane
** and undefines them at its end.
**
** It walks the terms as make_group laid them out (nm_ahead_group): tile by
** tile, blocks of NM_AHEAD_ROWS rows interleaved (independent chains of
** additions, which the processor overlaps) then each row's rest, a row's
** sums carried from tile to tile in buf.  Lane m adds the row's terms in the
** row's order, a product then a sum (no fused multiply-add: the engine is
** built with -std=c11, which contracts nothing), so it is the row's sum at
** step from + m, bit for bit.
*/

/* The terms of one row (n of them, from *off on), continuing acc and acc2
** (with a twin: v not NULL); advances off, w and v past them. */
#define NM_AHEAD_ONE(acc, acc2, n)                                          \
  do {                                                                      \
    for (uint32_t n_ = (n); n_; n_--) {                                     \
      NM_VEC x_ = NM_LOADU(base + *off++);                                  \
      acc = NM_ADD(acc, NM_MUL(NM_SET1(*w++), x_));                         \
      if (v) acc2 = NM_ADD(acc2, NM_MUL(NM_SET1(*v++), x_));                \
    }                                                                       \
  } while (0)

/* Blocks of rows: the sums (and the twin's, when TWIN) of the rows of the
** group's full blocks, for tile `tile`.  */
#define NM_AHEAD_BLOCKS(TWIN)                                                       \
  for (size_t b = 0; b < nb; b++) {                                                 \
    double *o = a->buf + b * NM_AHEAD_ROWS * NM_K, *o2 = TWIN ? a->buf2 + b * NM_AHEAD_ROWS * NM_K : NULL; \
    NM_VEC acc[NM_AHEAD_ROWS], acc2[NM_AHEAD_ROWS];                                 \
    for (size_t r = 0; r < NM_AHEAD_ROWS; r++) {                                    \
      acc[r] = tile ? NM_LOADU(o + r * NM_K) : NM_ZERO();                           \
      acc2[r] = TWIN && tile ? NM_LOADU(o2 + r * NM_K) : NM_ZERO();                 \
    }                                                                               \
    for (uint32_t n = *plan++; n; n--, off += NM_AHEAD_ROWS, w += NM_AHEAD_ROWS) {  \
      for (size_t r = 0; r < NM_AHEAD_ROWS; r++) {                                  \
        NM_VEC x = NM_LOADU(base + off[r]);                                         \
        acc[r] = NM_ADD(acc[r], NM_MUL(NM_SET1(w[r]), x));                          \
        if (TWIN) acc2[r] = NM_ADD(acc2[r], NM_MUL(NM_SET1(v[r]), x));              \
      }                                                                             \
      if (TWIN) v += NM_AHEAD_ROWS;                                                 \
    }                                                                               \
    for (size_t r = 0; r < NM_AHEAD_ROWS; r++) {                                    \
      NM_AHEAD_ONE(acc[r], acc2[r], *plan++);                                       \
      NM_STOREU(o + r * NM_K, acc[r]);                                              \
      if (TWIN) NM_STOREU(o2 + r * NM_K, acc2[r]);                                  \
    }                                                                               \
  }


NM_TARGET static void NM_NAME(window)(const nm_ahead_group *a, const double *base)
{
  const int32_t *off = a->off;
  const uint32_t *plan = a->plan;
  const double *w = a->w, *v = a->v;
  size_t nb = a->n_rows / NM_AHEAD_ROWS;
  for (size_t tile = 0; tile < a->n_tiles; tile++) {
    if (v) {                              /* a sum and its twin from one load */
      NM_AHEAD_BLOCKS(1)
    } else {
      NM_AHEAD_BLOCKS(0)
    }
    for (size_t i = nb * NM_AHEAD_ROWS; i < a->n_rows; i++) {   /* the rows after the last block */
      NM_VEC acc = tile ? NM_LOADU(a->buf + i * NM_K) : NM_ZERO();
      NM_VEC acc2 = v && tile ? NM_LOADU(a->buf2 + i * NM_K) : NM_ZERO();
      NM_AHEAD_ONE(acc, acc2, *plan++);
      NM_STOREU(a->buf + i * NM_K, acc);
      if (v) NM_STOREU(a->buf2 + i * NM_K, acc2);
    }
  }
}

#undef NM_AHEAD_ONE
#undef NM_AHEAD_BLOCKS
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
