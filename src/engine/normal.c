/*
** normal.c: the standard normal draws of the noise processes: the very
** numbers GSL's gsl_ran_gaussian_ziggurat gives on taus2 generators, faster.
**
** GSL draws through two calls and two function pointers per number, on a
** generator and a state it allocates apart; that made the draws a fifth of
** an 80-node FHN run.  Most draws of a ziggurat (Marsaglia & Tsang 2000)
** take its fast path: one 32-bit word k from the generator; layer
** i = k & 0x7f, the sign from bit 7, j = the next 24 bits; when j < k_i the
** number is +-j w_i.  Here the streams' taus2 states (L'Ecuyer 1996,
** "Maximally equidistributed combined Tausworthe generators", with the
** parameters of his table) are kept side by side, one array per component,
** so that one step of all the streams is a loop the compiler vectorises;
** then each stream takes its fast path, or, rarely, hands its state as it
** was before the draw to a GSL taus2 generator on the stack (slow_draw),
** which takes the same word and its own slow path, and takes the state back.
**
** The tables k_i and w_i are not copied from anywhere: they are read from
** the installed GSL, by handing gsl_ran_gaussian_ziggurat a generator that
** returns chosen words (w_i is the number j = 1 gives; k_i the first j that
** leaves the fast path, by bisection).  Before any of this is used, draws of
** seeded taus2 generators are made both ways and compared bit for bit: if
** GSL ever differs (another version, another layout of the state), every
** draw goes to GSL, as before.
**
** With AVX-512 (16 streams) or AVX2 (8 streams) a step of the streams is one
** pass: the taus2 steps, the table lookups (gathers), the sign and the
** x += scale * v of the streams on the fast path, each lane's operations
** those of the scalar code (test_normal.c holds every kernel bit for bit
** against GSL); chosen when the streams are made, by what the processor supports
** (nm_simd_level, simd.c: NEUROMASS_SIMD caps the choice).
*/
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "sim.h"

#if NM_X86_SIMD
#include <immintrin.h>
#endif

#define LAYERS 128
#define J_LIMIT 0x1000000UL          /* j has 24 bits */
#define CHUNK 64                     /* streams stepped together */
#define SMALL 8                      /* fewer streams are drawn one by one */
#define COPY_GUARD 256               /* bytes kept clear around a copy's states */

static double w_tab[LAYERS];
static uint32_t k_tab[LAYERS];       /* 0 .. 2^24 */
static int fast_ok;                  /* the fast path agrees with GSL */
static pthread_once_t once = PTHREAD_ONCE_INIT;


/* --- reading the tables: a generator that returns scripted words ------- */

static unsigned long probe_word;     /* the first word it returns */
static int probe_calls;              /* how often it was asked */

static void probe_set(void *state, unsigned long seed) { (void)state; (void)seed; }

static unsigned long probe_get(void *state)
{
  (void)state;
  /* The first word is the probe; later ones (a slow path that starts over)
  ** try j = 0 in one layer after another, which ends the draw at the first
  ** layer with k_i > 0 -- and the count tells the slow path was taken. */
  int n = probe_calls++;
  return n == 0 ? probe_word : 0x80UL | (unsigned long)(n % LAYERS);
}

static double probe_get_double(void *state)
{
  (void)state;
  probe_calls++;
  return 0.5;
}

static const gsl_rng_type probe_type = {
  "neuromass-probe", 0xffffffffUL, 0, sizeof(int), probe_set, probe_get, probe_get_double
};


/* The number GSL makes from the word (j << 8) | i, and whether it took the
** fast path (one word asked). */
static double probe(gsl_rng *r, unsigned long i, unsigned long j, int *fast)
{
  probe_word = (j << 8) | i;
  probe_calls = 0;
  double x = gsl_ran_gaussian_ziggurat(r, 1.0);
  *fast = probe_calls == 1;
  return x;
}


static int read_tables(void)
{
  gsl_rng *r = gsl_rng_alloc(&probe_type);
  if (!r) return 0;
  int fast;
  for (unsigned long i = 0; i < LAYERS; i++) {
    probe(r, 0x80 | i, 0, &fast);
    if (!fast) { k_tab[i] = 0; w_tab[i] = 0.0; continue; }
    unsigned long lo = 1, hi = J_LIMIT;       /* j < lo is fast; k_i is at most hi */
    while (lo < hi) {                         /* the first j that is not fast */
      unsigned long mid = lo + (hi - lo) / 2;
      probe(r, 0x80 | i, mid, &fast);
      if (fast) lo = mid + 1; else hi = mid;
    }
    k_tab[i] = (uint32_t)lo;
    w_tab[i] = lo > 1 ? probe(r, 0x80 | i, 1, &fast) : 0.0;
  }
  gsl_rng_free(r);
  return 1;
}


/* --- the draws ----------------------------------------------------------- */

/* One taus2 step of the 32-bit components a, b, c; the word it returns. */
static inline uint32_t taus2_next(uint32_t *a, uint32_t *b, uint32_t *c)
{
  *a = ((*a & 4294967294u) << 12) ^ (((*a << 13) ^ *a) >> 19);
  *b = ((*b & 4294967288u) << 4) ^ (((*b << 2) ^ *b) >> 25);
  *c = ((*c & 4294967280u) << 17) ^ (((*c << 3) ^ *c) >> 11);
  return *a ^ *b ^ *c;
}


/* The number of word k on the fast path, or 0 with *ok = 0. */
static inline double fast_number(uint32_t k, int *ok)
{
  /* The sign is a coin toss: a table, not a branch the processor would
  ** mispredict every other draw (multiplying by +-1 is exact). */
  static const double sign[2] = { -1.0, 1.0 };
  uint32_t i = k & 0x7f, j = (k >> 8) & 0xffffff;
  *ok = j < k_tab[i];
  return sign[(k >> 7) & 1] * ((double)j * w_tab[i]);
}


/* Stream n's draw by GSL, from its state before the draw: the state goes
** into a taus2 generator on the stack and the new one comes back (only with
** the fast path: agrees() checked the layout).  The stack is in cache, and
** each thread has its own; a generator each for the streams (as GSL would
** have it) was not, and every slow draw waited for it and its state. */
static double slow_draw(nm_normals *z, size_t n)
{
  unsigned long st[3] = { z->s0[n], z->s1[n], z->s2[n] };
  gsl_rng r = { gsl_rng_taus2, st };
  double x = gsl_ran_gaussian_ziggurat(&r, 1.0);
  z->s0[n] = (uint32_t)st[0];
  z->s1[n] = (uint32_t)st[1];
  z->s2[n] = (uint32_t)st[2];
  return x;
}


static int make_streams(nm_normals *z, size_t n, int each);
static inline double fast_or_slow(nm_normals *z, size_t n);

/* Draws of seeded taus2 generators both ways agree bit for bit. */
static int agrees(void)
{
  enum { STREAMS = 4, DRAWS = 4096 };
  if (gsl_rng_taus2->size != 3 * sizeof(unsigned long)) return 0;
  int same = 1;
  nm_normals z = { 0 };
  gsl_rng *a = gsl_rng_alloc(gsl_rng_taus2);
  same = a && make_streams(&z, STREAMS, 0) == NM_OK;
  for (size_t n = 0; same && n < STREAMS; n++) {
    unsigned long seed = 7919 * (n + 1);
    nm_normals_seed(&z, n, seed);
    gsl_rng_set(a, seed);
    for (int k = 0; same && k < DRAWS; k++) {
      double x = gsl_ran_gaussian_ziggurat(a, 1.0), y = fast_or_slow(&z, n);
      same = memcmp(&x, &y, sizeof x) == 0;
    }
  }
  gsl_rng_free(a);
  nm_normals_free(&z);
  return same;
}


static void init(void)
{
  fast_ok = read_tables() && agrees();
}


int nm_normals_fast(void)
{
  pthread_once(&once, init);
  return fast_ok;
}




/* n streams, not seeded, with a GSL generator each when `each` (the draws
** without the fast path). */
static int make_streams(nm_normals *z, size_t n, int each)
{
  memset(z, 0, sizeof *z);
  z->s0 = calloc(3 * (n + 1), sizeof *z->s0);
  z->rng = each ? calloc(n + 1, sizeof *z->rng) : NULL;
  if (!z->s0 || (each && !z->rng)) { nm_normals_free(z); return NM_ENOMEM; }
  z->s1 = z->s0 + (n + 1);
  z->s2 = z->s1 + (n + 1);
  z->n = n;
  for (size_t i = 0; each && i < n; i++)
    if (!(z->rng[i] = gsl_rng_alloc(gsl_rng_taus2))) { nm_normals_free(z); return NM_ENOMEM; }
  return NM_OK;
}


int nm_normals_init(nm_normals *z, size_t n)
{
  int fast = nm_normals_fast(), rc = make_streams(z, n, !fast);
  if (rc == NM_OK) {
    z->fast = fast;
    z->simd = nm_simd_level();
  }
  return rc;
}


void nm_normals_seed(nm_normals *z, size_t n, unsigned long seed)
{
  if (z->rng) {                          /* GSL draws: the stream's own generator */
    gsl_rng_set(z->rng[n], seed);
    return;
  }
  unsigned long st[3];                   /* the fast path: agrees() checked the layout */
  gsl_rng r = { gsl_rng_taus2, st };
  gsl_rng_set(&r, seed);
  z->s0[n] = (uint32_t)st[0];
  z->s1[n] = (uint32_t)st[1];
  z->s2[n] = (uint32_t)st[2];
}


int nm_normals_copyable(const nm_normals *z)
{
  return z->fast && !z->rng;
}


int nm_normals_init_copy(nm_normals *z, const nm_normals *like)
{
  /* (the states in one block, a few cache lines clear of any other data) */
  size_t n = like->n, w = (n + 1 + 15) / 16 * 16, bytes = 3 * w * sizeof *z->s0 + 2 * COPY_GUARD;
  memset(z, 0, sizeof *z);
  char *block = aligned_alloc(64, bytes);
  if (!block) return NM_ENOMEM;
  memset(block, 0, bytes);
  z->block = block;
  z->s0 = (uint32_t *)(block + COPY_GUARD);
  z->s1 = z->s0 + w;
  z->s2 = z->s1 + w;
  z->n = n;
  z->fast = like->fast;
  z->simd = like->simd;
  return NM_OK;
}


void nm_normals_take(nm_normals *z, const nm_normals *from, size_t n0, size_t n1)
{
  if (n1 <= n0) return;
  memcpy(z->s0 + n0, from->s0 + n0, (n1 - n0) * sizeof *z->s0);
  memcpy(z->s1 + n0, from->s1 + n0, (n1 - n0) * sizeof *z->s1);
  memcpy(z->s2 + n0, from->s2 + n0, (n1 - n0) * sizeof *z->s2);
}


void nm_normals_free(nm_normals *z)
{
  if (z->rng)
    for (size_t i = 0; i < z->n; i++) gsl_rng_free(z->rng[i]);
  free(z->rng);
  free(z->block ? z->block : (void *)z->s0);
  memset(z, 0, sizeof *z);
}


/* Stream n's draw on the fast path when it can (its state advanced), else
** GSL's slow path from the state before the draw. */
static inline double fast_or_slow(nm_normals *z, size_t n)
{
  uint32_t s[3] = { z->s0[n], z->s1[n], z->s2[n] };
  int ok;
  double x = fast_number(taus2_next(&s[0], &s[1], &s[2]), &ok);
  if (!ok) return slow_draw(z, n);
  z->s0[n] = s[0];
  z->s1[n] = s[1];
  z->s2[n] = s[2];
  return x;
}


double nm_normals_draw(nm_normals *z, size_t n)
{
  if (!z->fast) return gsl_ran_gaussian_ziggurat(z->rng[n], 1.0);
  return fast_or_slow(z, n);
}


/* --- eight streams at a time (AVX2, AVX-512) ----------------------------- */

#if NM_X86_SIMD

/* One taus2 step of eight streams' components (taus2_next, lane by lane). */
__attribute__((target("avx2")))
static inline __m256i taus2_part8(__m256i v, int mask, int s1, int s2, int s3)
{
  __m256i hi = _mm256_slli_epi32(_mm256_and_si256(v, _mm256_set1_epi32(mask)), s1);
  return _mm256_xor_si256(hi, _mm256_srli_epi32(_mm256_xor_si256(_mm256_slli_epi32(v, s2), v), s3));
}

/* Streams n, n+1, ... of the set bits of `slow`: GSL's slow path (the state before the draw). */
static void slow_lanes(nm_normals *z, size_t n, unsigned slow, const double *scale, double *x)
{
  for (size_t q = 0; slow; q++, slow >>= 1)
    if (slow & 1) x[n + q] += scale[n + q] * slow_draw(z, n + q);
}

/*
** x[n] += scale[n] * draw for streams n0 .. (a multiple of 8 below n1), eight
** at a time; returns where it stopped.  Each lane computes what fast_number
** does (the sign as the sign bit: multiplying by -1 flips only that bit, also
** of +0), multiplies and adds as the scalar code (no contraction), and keeps
** its new state only when it drew on the fast path; the lanes that leave the
** fast path take GSL's from their old state, as the scalar code does.
*/
__attribute__((target("avx2")))
static size_t add8_avx2(nm_normals *z, size_t n0, size_t n1, const double *scale, double *x)
{
  size_t n = n0;
  const __m256i low7 = _mm256_set1_epi32(0x7f), j_mask = _mm256_set1_epi32(0xffffff);
  const __m256i bit7 = _mm256_set1_epi32(0x80);
  for (; n + 8 <= n1; n += 8) {
    __m256i a = _mm256_loadu_si256((const __m256i *)(z->s0 + n));
    __m256i b = _mm256_loadu_si256((const __m256i *)(z->s1 + n));
    __m256i c = _mm256_loadu_si256((const __m256i *)(z->s2 + n));
    a = taus2_part8(a, (int)4294967294u, 12, 13, 19);
    b = taus2_part8(b, (int)4294967288u, 4, 2, 25);
    c = taus2_part8(c, (int)4294967280u, 17, 3, 11);
    __m256i k = _mm256_xor_si256(_mm256_xor_si256(a, b), c);
    __m256i i = _mm256_and_si256(k, low7);
    __m256i j = _mm256_and_si256(_mm256_srli_epi32(k, 8), j_mask);
    __m256i kt = _mm256_i32gather_epi32((const int *)k_tab, i, 4);
    /* j < k_i (both below 2^25: a signed compare) */
    unsigned ok = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(kt, j)));
    /* negative where bit 7 is clear */
    __m256i neg = _mm256_cmpeq_epi32(_mm256_and_si256(k, bit7), _mm256_setzero_si256());
    unsigned draw = 0, fast;
    double *xp = x + n;
    const double *sp = scale + n;
    for (int h = 0; h < 2; h++) {
      __m128i ih = h ? _mm256_extracti128_si256(i, 1) : _mm256_castsi256_si128(i);
      __m128i jh = h ? _mm256_extracti128_si256(j, 1) : _mm256_castsi256_si128(j);
      __m128i nh = h ? _mm256_extracti128_si256(neg, 1) : _mm256_castsi256_si128(neg);
      __m256d sc = _mm256_loadu_pd(sp + 4 * h);
      __m256d dm = _mm256_cmp_pd(sc, _mm256_setzero_pd(), _CMP_NEQ_UQ);   /* scale != 0 */
      unsigned dh = (unsigned)_mm256_movemask_pd(dm);
      draw |= dh << (4 * h);
      __m256d w = _mm256_i32gather_pd(w_tab, ih, 8);
      __m256d v = _mm256_mul_pd(_mm256_cvtepi32_pd(jh), w);
      __m256i sign = _mm256_slli_epi64(_mm256_cvtepi32_epi64(nh), 63);
      v = _mm256_xor_pd(v, _mm256_castsi256_pd(sign));
      unsigned fh = dh & (ok >> (4 * h)) & 0xf;
      __m256i fm = _mm256_cmpgt_epi64(_mm256_and_si256(_mm256_set1_epi64x(fh),
                                                       _mm256_setr_epi64x(1, 2, 4, 8)),
                                      _mm256_setzero_si256());
      __m256d xv = _mm256_loadu_pd(xp + 4 * h);
      __m256d sum = _mm256_add_pd(xv, _mm256_mul_pd(sc, v));
      _mm256_storeu_pd(xp + 4 * h, _mm256_blendv_pd(xv, sum, _mm256_castsi256_pd(fm)));
    }
    fast = draw & ok;
    __m256i keep = _mm256_cmpgt_epi32(_mm256_and_si256(_mm256_set1_epi32((int)fast),
                                                       _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128)),
                                      _mm256_setzero_si256());
    _mm256_maskstore_epi32((int *)(z->s0 + n), keep, a);
    _mm256_maskstore_epi32((int *)(z->s1 + n), keep, b);
    _mm256_maskstore_epi32((int *)(z->s2 + n), keep, c);
    if (draw & ~ok) slow_lanes(z, n, draw & ~ok & 0xff, scale, x);
  }
  return n;
}


/* add8_avx2 with AVX-512: sixteen streams at a time, masks in registers. */
__attribute__((target("avx512f")))
static inline __m512i taus2_part16(__m512i v, int mask, int s1, int s2, int s3)
{
  __m512i hi = _mm512_slli_epi32(_mm512_and_si512(v, _mm512_set1_epi32(mask)), (unsigned)s1);
  return _mm512_xor_si512(hi, _mm512_srli_epi32(_mm512_xor_si512(_mm512_slli_epi32(v, (unsigned)s2), v),
                                                (unsigned)s3));
}

__attribute__((target("avx512f")))
static size_t add16_avx512(nm_normals *z, size_t n0, size_t n1, const double *scale, double *x)
{
  size_t n = n0;
  const __m512i low7 = _mm512_set1_epi32(0x7f), j_mask = _mm512_set1_epi32(0xffffff);
  const __m512i bit7 = _mm512_set1_epi32(0x80);
  const __m512i sign_bit = _mm512_set1_epi64((long long)0x8000000000000000ULL);
  for (; n + 16 <= n1; n += 16) {
    __m512i a = _mm512_loadu_si512(z->s0 + n), b = _mm512_loadu_si512(z->s1 + n);
    __m512i c = _mm512_loadu_si512(z->s2 + n);
    a = taus2_part16(a, (int)4294967294u, 12, 13, 19);
    b = taus2_part16(b, (int)4294967288u, 4, 2, 25);
    c = taus2_part16(c, (int)4294967280u, 17, 3, 11);
    __m512i k = _mm512_xor_si512(_mm512_xor_si512(a, b), c);
    __m512i i = _mm512_and_si512(k, low7);
    __m512i j = _mm512_and_si512(_mm512_srli_epi32(k, 8), j_mask);
    __m512i kt = _mm512_i32gather_epi32(i, (const int *)k_tab, 4);
    __mmask16 ok = _mm512_cmplt_epu32_mask(j, kt);
    __mmask16 neg = _mm512_testn_epi32_mask(k, bit7);        /* bit 7 clear: negative */
    __mmask16 draw = 0;
    for (int h = 0; h < 2; h++) {
      __m256i ih = h ? _mm512_extracti64x4_epi64(i, 1) : _mm512_castsi512_si256(i);
      __m256i jh = h ? _mm512_extracti64x4_epi64(j, 1) : _mm512_castsi512_si256(j);
      __m512d sc = _mm512_loadu_pd(scale + n + 8 * h);
      __mmask8 dh = _mm512_cmp_pd_mask(sc, _mm512_setzero_pd(), _CMP_NEQ_UQ);   /* scale != 0 */
      draw |= (__mmask16)((unsigned)dh << (8 * h));
      __m512d w = _mm512_i32gather_pd(ih, w_tab, 8);
      __m512d v = _mm512_mul_pd(_mm512_cvtepi32_pd(jh), w);
      __mmask8 nh = (__mmask8)(neg >> (8 * h));
      v = _mm512_castsi512_pd(_mm512_mask_xor_epi64(_mm512_castpd_si512(v), nh, _mm512_castpd_si512(v),
                                                    sign_bit));
      __mmask8 fh = (__mmask8)(dh & (ok >> (8 * h)));
      __m512d xv = _mm512_loadu_pd(x + n + 8 * h);
      _mm512_storeu_pd(x + n + 8 * h, _mm512_mask_add_pd(xv, fh, xv, _mm512_mul_pd(sc, v)));
    }
    __mmask16 fast = draw & ok;
    _mm512_mask_storeu_epi32(z->s0 + n, fast, a);
    _mm512_mask_storeu_epi32(z->s1 + n, fast, b);
    _mm512_mask_storeu_epi32(z->s2 + n, fast, c);
    if (draw & ~ok) slow_lanes(z, n, (unsigned)(draw & ~ok), scale, x);
  }
  return n;
}
#endif


void nm_normals_add(nm_normals *z, size_t n0, size_t n1, const double *scale, double *x)
{
  uint32_t a[CHUNK], b[CHUNK], c[CHUNK], k[CHUNK];
  if (!z->fast) {
    for (size_t n = n0; n < n1; n++)
      if (scale[n] != 0.0) x[n] += scale[n] * gsl_ran_gaussian_ziggurat(z->rng[n], 1.0);
    return;
  }
  if (n1 - n0 < SMALL) {             /* a node's few streams: one at a time */
    for (size_t n = n0; n < n1; n++)
      if (scale[n] != 0.0) x[n] += scale[n] * fast_or_slow(z, n);
    return;
  }
#if NM_X86_SIMD
  if (z->simd == NM_SIMD_AVX512) n0 = add16_avx512(z, n0, n1, scale, x);
  if (z->simd >= NM_SIMD_AVX2) n0 = add8_avx2(z, n0, n1, scale, x);
#endif
  for (size_t c0 = n0; c0 < n1; c0 += CHUNK) {
    size_t m = n1 - c0 < CHUNK ? n1 - c0 : CHUNK;
    /* Every stream of the chunk one step on (a loop without branches);
    ** only the streams that draw keep it. */
    for (size_t q = 0; q < m; q++) {
      a[q] = z->s0[c0 + q];
      b[q] = z->s1[c0 + q];
      c[q] = z->s2[c0 + q];
      k[q] = taus2_next(&a[q], &b[q], &c[q]);
    }
    for (size_t q = 0; q < m; q++) {
      size_t n = c0 + q;
      if (scale[n] == 0.0) continue;
      int ok;
      double v = fast_number(k[q], &ok);
      if (ok) {
        z->s0[n] = a[q];
        z->s1[n] = b[q];
        z->s2[n] = c[q];
      } else {
        v = slow_draw(z, n);
      }
      x[n] += scale[n] * v;
    }
  }
}
