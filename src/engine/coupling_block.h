/*
** coupling_block.h: the kernel that sums a coupling's blocks of rows, one
** SIMD lane a row (the layout: sim.h, nm_coupling_blocks).  coupling_simd.c
** includes it once per instruction set, after defining:
**   NM_B             rows a block, the lanes of a vector
**   NM_TARGET        the attribute that compiles a function for the set
**   NM_NAME(x)       x with the set's suffix
**   NM_VEC, NM_LEN   vectors of doubles and of 64-bit counts
**   NM_ZERO(), NM_LOAD(p), NM_LOAD_IDX(p), NM_LOAD_LEN(p), NM_STORE(p, x)
**   NM_GATHER(idx, base)     base[idx[b]] in lane b
**   NM_MUL(a, b), NM_ADD(a, b), NM_SUB(a, b)   one rounding each, lane by lane
**   NM_ADD_IF(acc, len, k, x)  acc + x in the lanes whose len > k, acc in the others
**
** Lane b adds the terms of its row in the row's order, a product then a sum
** (no fused multiply-add, no reassociation: the engine is built with
** -std=c11, so the compiler contracts nothing), so its sum is the scalar sum
** of the row, bit for bit.  Terms 0 .. n_min-1 are in every row of the block;
** from there to n_max, the lanes whose row has ended keep their sum.  A
** diffusive sum's terms come from a gather, or from the values
** coupling_ahead.c staged for the step (eval_staged): the same operations.
*/

/* The terms of one block: a plain sum, a diffusive one (x - self), or a
** sum and its twin from one gather. */
NM_TARGET static inline NM_VEC NM_NAME(block_plain)(const nm_block *blk, const int32_t *idx,
                                                    const double *w, NM_LEN len, const double *base)
{
  NM_VEC acc = NM_ZERO();
  size_t k = 0, n_min = blk->n_min, n_max = blk->n_max;
  for (; k < n_min; k++)
    acc = NM_ADD(acc, NM_MUL(NM_LOAD(w + k * NM_B), NM_GATHER(NM_LOAD_IDX(idx + k * NM_B), base)));
  for (; k < n_max; k++)
    acc = NM_ADD_IF(acc, len, k,
                    NM_MUL(NM_LOAD(w + k * NM_B), NM_GATHER(NM_LOAD_IDX(idx + k * NM_B), base)));
  return acc;
}


NM_TARGET static inline NM_VEC NM_NAME(block_diffusive)(const nm_block *blk, const int32_t *idx,
                                                        const double *w, NM_LEN len,
                                                        const double *base, NM_VEC self)
{
  NM_VEC acc = NM_ZERO();
  size_t k = 0, n_min = blk->n_min, n_max = blk->n_max;
  for (; k < n_min; k++) {
    NM_VEC x = NM_SUB(NM_GATHER(NM_LOAD_IDX(idx + k * NM_B), base), self);
    acc = NM_ADD(acc, NM_MUL(NM_LOAD(w + k * NM_B), x));
  }
  for (; k < n_max; k++) {
    NM_VEC x = NM_SUB(NM_GATHER(NM_LOAD_IDX(idx + k * NM_B), base), self);
    acc = NM_ADD_IF(acc, len, k, NM_MUL(NM_LOAD(w + k * NM_B), x));
  }
  return acc;
}


NM_TARGET static inline void NM_NAME(block_twins)(const nm_block *blk, const int32_t *idx,
                                                  const double *w, const double *v, NM_LEN len,
                                                  const double *base, NM_VEC *acc, NM_VEC *acc2)
{
  NM_VEC a = NM_ZERO(), a2 = NM_ZERO();
  size_t k = 0, n_min = blk->n_min, n_max = blk->n_max;
  for (; k < n_min; k++) {
    NM_VEC x = NM_GATHER(NM_LOAD_IDX(idx + k * NM_B), base);
    a = NM_ADD(a, NM_MUL(NM_LOAD(w + k * NM_B), x));
    a2 = NM_ADD(a2, NM_MUL(NM_LOAD(v + k * NM_B), x));
  }
  for (; k < n_max; k++) {
    NM_VEC x = NM_GATHER(NM_LOAD_IDX(idx + k * NM_B), base);
    a = NM_ADD_IF(a, len, k, NM_MUL(NM_LOAD(w + k * NM_B), x));
    a2 = NM_ADD_IF(a2, len, k, NM_MUL(NM_LOAD(v + k * NM_B), x));
  }
  *acc = a;
  *acc2 = a2;
}


/* Lanes b < rows of block j's self values V[self of its row] (diffusive sums), 0.0 past them. */
NM_TARGET static inline NM_VEC NM_NAME(block_self)(const nm_coupling_blocks *bl, const nm_coupling *c,
                                                   const double *V, size_t j, size_t rows)
{
  _Alignas(64) double self[NM_B];
  for (size_t b = 0; b < NM_B; b++) self[b] = b < rows ? V[c->self[NM_LANE_ROW(bl, j * NM_B + b)]] : 0.0;
  return NM_LOAD(self);
}


/* Blocks j0 .. j1-1 of sum c (and its twin t, or NULL) into U, lane b of
** block j the sum of row NM_LANE_ROW(bl, j*NM_B + b). */
NM_TARGET static void NM_NAME(eval_blocks)(const nm_coupling_blocks *bl, const nm_coupling *c,
                                           const nm_coupling *t, const double *base,
                                           const double *V, double *U, size_t j0, size_t j1)
{
  int diffusive = c->mode == NM_DIFFUSIVE;
  _Alignas(64) double out[NM_B], out2[NM_B];
  for (size_t j = j0; j < j1; j++) {
    const nm_block *blk = &bl->block[j];
    size_t l = j * NM_B, rows = bl->n_lanes - l < NM_B ? bl->n_lanes - l : NM_B;
    const int32_t *idx = bl->idx + blk->at;
    const double *w = bl->w + blk->at;
    NM_LEN len = NM_LOAD_LEN(bl->len + j * NM_B);
    NM_VEC acc, acc2 = NM_ZERO();
    if (t)
      NM_NAME(block_twins)(blk, idx, w, bl->v + blk->at, len, base, &acc, &acc2);
    else if (diffusive)
      acc = NM_NAME(block_diffusive)(blk, idx, w, len, base, NM_NAME(block_self)(bl, c, V, j, rows));
    else
      acc = NM_NAME(block_plain)(blk, idx, w, len, base);
    NM_STORE(out, acc);
    NM_STORE(out2, acc2);
    for (size_t b = 0; b < rows; b++) U[c->dst[NM_LANE_ROW(bl, l + b)]] = out[b];
    if (t)
      for (size_t b = 0; b < rows; b++) U[t->dst[NM_LANE_ROW(bl, l + b)]] = out2[b];
  }
}


/* Blocks eval_staged sums together: independent chains of additions, which
** the processor overlaps (one block alone waits on each addition's latency;
** with gathers, their throughput bounded it instead). */
#define NM_STAGED_CHAINS 4

/* Block j of diffusive sum c into U from the values staged for the step, its
** terms from k0 on continuing acc. */
NM_TARGET static inline void NM_NAME(staged_finish)(const nm_coupling_blocks *bl, const nm_coupling *c,
                                                    const double *st, double *U, size_t j,
                                                    NM_VEC self, NM_VEC acc, size_t k0)
{
  _Alignas(64) double out[NM_B];
  const nm_block *blk = &bl->block[j];
  const double *x = st + blk->at, *w = bl->w + blk->at;
  NM_LEN len = NM_LOAD_LEN(bl->len + j * NM_B);
  size_t k = k0, l = j * NM_B, rows = bl->n_lanes - l < NM_B ? bl->n_lanes - l : NM_B;
  for (; k < blk->n_min; k++)
    acc = NM_ADD(acc, NM_MUL(NM_LOAD(w + k * NM_B), NM_SUB(NM_LOAD(x + k * NM_B), self)));
  for (; k < blk->n_max; k++)
    acc = NM_ADD_IF(acc, len, k, NM_MUL(NM_LOAD(w + k * NM_B), NM_SUB(NM_LOAD(x + k * NM_B), self)));
  NM_STORE(out, acc);
  for (size_t b = 0; b < rows; b++) U[c->dst[NM_LANE_ROW(bl, l + b)]] = out[b];
}


/* Every block of diffusive sum c into U from the values staged for the step
** (st: slot i of the blocks at st[i]), as eval_blocks would sum them: the
** terms NM_STAGED_CHAINS blocks all have interleaved, then each block's rest. */
NM_TARGET static void NM_NAME(eval_staged)(const nm_coupling_blocks *bl, const nm_coupling *c,
                                           const double *st, const double *V, double *U)
{
  size_t j = 0;
  for (; j + NM_STAGED_CHAINS <= bl->n_blocks; j += NM_STAGED_CHAINS) {
    NM_VEC acc[NM_STAGED_CHAINS], self[NM_STAGED_CHAINS];
    const double *x[NM_STAGED_CHAINS], *w[NM_STAGED_CHAINS];
    size_t common = SIZE_MAX;
    for (size_t i = 0; i < NM_STAGED_CHAINS; i++) {
      const nm_block *blk = &bl->block[j + i];
      size_t l = (j + i) * NM_B;
      x[i] = st + blk->at;
      w[i] = bl->w + blk->at;
      self[i] = NM_NAME(block_self)(bl, c, V, j + i, bl->n_lanes - l < NM_B ? bl->n_lanes - l : NM_B);
      acc[i] = NM_ZERO();
      if (blk->n_min < common) common = blk->n_min;
    }
    for (size_t k = 0; k < common; k++)
      for (size_t i = 0; i < NM_STAGED_CHAINS; i++)
        acc[i] = NM_ADD(acc[i], NM_MUL(NM_LOAD(w[i] + k * NM_B), NM_SUB(NM_LOAD(x[i] + k * NM_B), self[i])));
    for (size_t i = 0; i < NM_STAGED_CHAINS; i++)
      NM_NAME(staged_finish)(bl, c, st, U, j + i, self[i], acc[i], common);
  }
  for (; j < bl->n_blocks; j++) {
    size_t l = j * NM_B;
    NM_NAME(staged_finish)(bl, c, st, U, j,
                           NM_NAME(block_self)(bl, c, V, j, bl->n_lanes - l < NM_B ? bl->n_lanes - l : NM_B),
                           NM_ZERO(), 0);
  }
}

#undef NM_STAGED_CHAINS
