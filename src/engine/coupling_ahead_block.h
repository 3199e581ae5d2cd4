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
**
** Lane m adds the row's terms in the row's order, a product then a sum (no
** fused multiply-add: the engine is built with -std=c11, which contracts
** nothing), so it is the row's sum at step from + m, bit for bit.
*/

/* Rows i .. i+3 together (ROWS independent chains of additions, which the
** processor overlaps) over the terms all four have, then each row's tail. */
#ifndef NM_AHEAD_ROWS
#define NM_AHEAD_ROWS 4
#endif

/* Row i's terms from k on, continuing acc (and acc2 with a twin); stores its window. */
NM_TARGET static inline void NM_NAME(tail)(const nm_ahead_group *a, const double *sring, size_t mask,
                                           size_t from, size_t i, size_t k, NM_VEC acc, NM_VEC acc2)
{
  size_t end = a->tp[i + 1];
  if (a->v) {                              /* a sum and its twin from one load */
    for (; k < end; k++) {
      NM_VEC x = NM_LOADU(sring + a->col[k] + ((from - a->delay[k]) & mask));
      acc = NM_ADD(acc, NM_MUL(NM_SET1(a->w[k]), x));
      acc2 = NM_ADD(acc2, NM_MUL(NM_SET1(a->v[k]), x));
    }
    NM_STOREU(a->buf2 + i * NM_K, acc2);
  } else {
    for (; k < end; k++) {
      NM_VEC x = NM_LOADU(sring + a->col[k] + ((from - a->delay[k]) & mask));
      acc = NM_ADD(acc, NM_MUL(NM_SET1(a->w[k]), x));
    }
  }
  NM_STOREU(a->buf + i * NM_K, acc);
}


NM_TARGET static void NM_NAME(window)(const nm_ahead_group *a, const double *sring, size_t mask,
                                      size_t from)
{
  size_t i = 0;
  for (; i + NM_AHEAD_ROWS <= a->n_rows; i += NM_AHEAD_ROWS) {
    NM_VEC acc[NM_AHEAD_ROWS], acc2[NM_AHEAD_ROWS];
    size_t s[NM_AHEAD_ROWS], n = SIZE_MAX;
    for (size_t b = 0; b < NM_AHEAD_ROWS; b++) {
      acc[b] = acc2[b] = NM_ZERO();
      s[b] = a->tp[i + b];
      if (a->tp[i + b + 1] - s[b] < n) n = a->tp[i + b + 1] - s[b];
    }
    if (a->v) {
      for (size_t k = 0; k < n; k++)
        for (size_t b = 0; b < NM_AHEAD_ROWS; b++) {
          size_t t = s[b] + k;
          NM_VEC x = NM_LOADU(sring + a->col[t] + ((from - a->delay[t]) & mask));
          acc[b] = NM_ADD(acc[b], NM_MUL(NM_SET1(a->w[t]), x));
          acc2[b] = NM_ADD(acc2[b], NM_MUL(NM_SET1(a->v[t]), x));
        }
    } else {
      for (size_t k = 0; k < n; k++)
        for (size_t b = 0; b < NM_AHEAD_ROWS; b++) {
          size_t t = s[b] + k;
          NM_VEC x = NM_LOADU(sring + a->col[t] + ((from - a->delay[t]) & mask));
          acc[b] = NM_ADD(acc[b], NM_MUL(NM_SET1(a->w[t]), x));
        }
    }
    for (size_t b = 0; b < NM_AHEAD_ROWS; b++)
      NM_NAME(tail)(a, sring, mask, from, i + b, s[b] + n, acc[b], acc2[b]);
  }
  for (; i < a->n_rows; i++) NM_NAME(tail)(a, sring, mask, from, i, a->tp[i], NM_ZERO(), NM_ZERO());
}
