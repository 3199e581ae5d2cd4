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

NM_TARGET static void NM_NAME(window)(const nm_ahead_group *a, const double *sring, size_t mask,
                                      size_t from)
{
  for (size_t i = 0; i < a->n_rows; i++) {
    NM_VEC acc = NM_ZERO(), acc2 = NM_ZERO();
    size_t k = a->tp[i], end = a->tp[i + 1];
    if (a->v) {                            /* a sum and its twin from one load */
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
}
