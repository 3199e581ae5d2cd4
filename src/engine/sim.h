/*
** sim.h: the simulation state shared by the run (sim.c), the services it and
** the steppers use (system.c, coupling.c, coupling_simd.c, coupling_ahead.c,
** simd.c) and the steppers (step_fixed.c, step_gsl.c, step_threads.c).  Calls
** go one way: sim.c -> step_*.c -> system.c, coupling.c.
*/
#ifndef nm_sim_h
#define nm_sim_h

#include <stdint.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "engine.h"

/* simd.c: the SIMD instruction sets of the engine's vector kernels, the one
** rule for all of them.  nm_simd_widest: the widest the processor runs
** (__builtin_cpu_supports; once, thread-safe).  nm_simd_cap: the cap set by
** NEUROMASS_SIMD (off or 0, avx2, avx512; auto or unset: no cap, *named 0),
** NM_EINVAL with the reason in *err for another value (a new simulation
** fails then: nm_simd_choose).  nm_simd_level: the widest within the cap
** (an invalid value caps nothing here), the kernel of the step's services
** (normal.c, system.c, step_fixed.c, coupling.c's lines).  nm_simd_choose:
** that level and the coupling sums' gathers' set (the same level), in
** one reading, NM_EINVAL with the reason in *err as nm_simd_cap (either
** pointer may be NULL): a new simulation reads it once (s->simd,
** s->coupling_simd) and every kernel of it follows.  nm_simd_name: "off",
** "avx2", "avx512".  Every kernel gives the scalar code's bits. */
enum nm_simd { NM_SIMD_OFF, NM_SIMD_AVX2, NM_SIMD_AVX512 };
/* Whether the vector kernels are compiled in (x86-64, GCC's intrinsics and
** target attributes): the one test, for simd.c's detection and every file
** that has kernels, so that no set is chosen whose kernels are missing. */
#if defined(__x86_64__) && defined(__GNUC__)
#define NM_X86_SIMD 1
#else
#define NM_X86_SIMD 0
#endif
int nm_simd_widest(void);
int nm_simd_cap(int *cap, int *named, nm_error *err);
int nm_simd_level(void);
int nm_simd_choose(int *level, int *gather, nm_error *err);
const char *nm_simd_name(int simd);
/* Whether a new simulation whose gathers are on `gather` (nm_simd_choose)
** stages its diffusive sums' delayed values (coupling_ahead.c) instead of
** gathering them every step (coupling_simd.c): the same bits, chosen by
** speed: where this processor's gathers are slow (nm_simd_gathers_slow_of:
** not Intel's, or Intel's with the Gather Data Sampling microcode
** mitigation, `gds` the text of the kernel's vulnerability file), never
** without gathers.  nm_simd_stage_set(1 or 0) fixes the answer (so that the
** tests take both paths on one machine), -1 gives back the rule. */
int nm_simd_stages(int gather);
/* The gathers' set of a new simulation's diffusive sums, whose other sums
** gather on `gather` (nm_simd_choose): the scalar loop (NM_SIMD_OFF) where
** that is AVX2 and the gathers are slow (as nm_simd_stages reads them), else
** `gather`; with nm_simd_stage_set fixed, `gather`.  Staging then follows
** it: nm_simd_stages(nm_simd_diffusive(gather)). */
int nm_simd_diffusive(int gather);
int nm_simd_gathers_slow_of(int intel, const char *gds);
void nm_simd_stage_set(int stage);

/* normal.c: streams of standard normals, the numbers
** gsl_ran_gaussian_ziggurat(r, 1.0) gives on taus2 generators r seeded with
** gsl_rng_set(r, seed), bit for bit, but faster.  nm_normals_init makes n
** streams (NM_OK or NM_ENOMEM; nm_normals_free undoes it, also half-made),
** nm_normals_seed seeds stream n, nm_normals_draw draws from stream n, and
** nm_normals_add does x[n] += scale[n] * (a draw of stream n) for the
** streams n0 .. n1-1 whose scale is not 0 (the others draw nothing).
** nm_normals_fast() (thread-safe; the first call reads GSL's tables and
** checks the fast path against GSL) says whether the fast path is in use.
** A thread may draw some streams from a copy of its own (step_threads.c):
** when nm_normals_copyable(z) (the fast path: the states are plain arrays),
** nm_normals_init_copy makes an empty set of as many streams as `like`
** (NM_OK or NM_ENOMEM; nm_normals_free undoes it), and nm_normals_take
** copies the states of streams n0 .. n1-1 from one set to another.
** The fast path steps 16 streams at a time with AVX-512, 8 with AVX2, where
** the processor has them (same numbers): a set of streams takes the kernel of
** its `simd` field, nm_simd_level() when made (tests set it lower). */
typedef struct {
  size_t n;
  uint32_t *s0, *s1, *s2;   /* the streams' taus2 states, one array per component */
  gsl_rng **rng;            /* GSL's generators, one a stream: all draws without the fast path
                               (NULL with it: GSL's slow path runs on a generator on the stack) */
  int fast;                 /* nm_normals_fast() when they were made */
  int simd;                 /* NM_SIMD_*: the kernel of nm_normals_add (nm_simd_level()) */
  void *block;              /* a copy's allocation (nm_normals_init_copy), else NULL */
} nm_normals;

int nm_normals_fast(void);

int nm_normals_init(nm_normals *z, size_t n);
void nm_normals_seed(nm_normals *z, size_t n, unsigned long seed);
void nm_normals_free(nm_normals *z);
double nm_normals_draw(nm_normals *z, size_t n);
void nm_normals_add(nm_normals *z, size_t n0, size_t n1, const double *scale, double *x);
int nm_normals_copyable(const nm_normals *z);
int nm_normals_init_copy(nm_normals *z, const nm_normals *like);
void nm_normals_take(nm_normals *z, const nm_normals *from, size_t n0, size_t n1);


/* One block of a sum's rows: its terms start at `at` in the block arrays,
** n_min terms every row of it has, n_max the most a row has. */
typedef struct {
  size_t at, n_min, n_max;
} nm_block;

/* Some of a coupling sum's rows (n_lanes of them: all its rows in order, or
** any list of them, row) in blocks of `rows` (one SIMD lane a row: lane l of the
** list, l = j*rows + b, is row row[l] of the sum, held by lane b of block j;
** the last block fewer), its terms
** transposed: term k of lane b is at index at + k*rows + b of idx (its 32-bit
** offset into the ring), w (its weight) and v (its twin's weight).  Lanes
** whose row has fewer than n_max terms (or no row, past the last) are padded
** with offset 0 and weight 0; len[j*rows + b] is lane b's count of terms. */
typedef struct {
  int simd;                 /* enum nm_simd; NM_SIMD_OFF: no blocks (rows 0) */
  size_t rows, n_blocks, n_lanes;
  size_t *row;              /* lane -> row of the sum (n_lanes); NULL: lane l is row l */
  nm_block *block;
  int32_t *idx;
  double *w, *v;            /* v NULL without a twin */
  int64_t *len;
} nm_coupling_blocks;

/* The row of the sum lane l of blocks b sums. */
#define NM_LANE_ROW(b, l) ((b)->row ? (b)->row[l] : (l))

/* How many window lengths coupling_ahead.c uses (its window_steps: 8 and 4 steps). */
#define NM_AHEAD_GROUPS 2

/* coupling_ahead.c: the rows of a sum whose start-of-step sums go K steps
** at a time (every term delayed by K - 1 steps or more), and the window:
** buf[i*K + m] (buf2: the twin's) is group row i's sum at step from + m (from
** SIZE_MAX: no window yet); row[i] its row in the sum.  The terms are copied
** in the order the kernel reads them (coupling_ahead.c's make_group): tile
** by tile of the history's columns, in each, blocks of NM_AHEAD_ROWS rows
** interleaved term by term, then each row's rest; off: the term's offset in
** s->sring from a window's base, w and v its weights (v the twin's or NULL);
** plan: the counts of that walk. */
typedef struct {
  size_t K, n_rows, n_tiles;
  int simd;                 /* enum nm_simd: the kernel (s->coupling_simd) */
  size_t *row;
  int32_t *off;
  uint32_t *plan;
  double *w, *v, *buf, *buf2;
  size_t from;
  /* A diffusive sum's group instead (staged: x_self(t + m) is not known at a
  ** window's start, so the window holds the terms' delayed values, not the
  ** sums): its rows in blocks of SIMD lanes as coupling_simd.c lays them out
  ** (blk.rows 0: an additive group), soff[i] block slot i's offset in
  ** s->sring from a window's base (padding: 0), and stage[m * n_slots + i]
  ** the value slot i reads at step from + m. */
  nm_coupling_blocks blk;
  int32_t *soff;
  double *stage;
  size_t n_slots;
  size_t *unit;             /* the slots in runs of blk.rows (a block's lanes at a term), by the
                               history column of their first: the order staging reads them in */
  size_t n_units;
} nm_ahead_group;

/* A coupling sum with its terms' offsets into the mirrored history ring. */
typedef struct {
  const nm_coupling *c;
  long *off;
  const nm_coupling *twin;  /* a sum over the same terms, computed in the same pass */
  int is_twin;              /* this sum is computed with its twin */
  size_t max_len;           /* the most terms a row has */
  nm_coupling_blocks blocks; /* the SIMD layout (blocks.rows 0: none, the scalar path) */
  nm_coupling_blocks stay_blocks; /* with groups: the rows of f->stay in blocks, by length
                               (rows 0: none, the runs go through eval_fast) */
  nm_ahead_group ahead[NM_AHEAD_GROUPS];  /* rows with windows of 8, 4 steps (coupling_ahead.c) */
  int n_ahead;              /* groups in use */
  int all_ahead;            /* every row is in a group: the blocks are not needed at a step start */
  size_t *stay, n_stay;     /* with groups: the runs of other rows, stay[2i] .. stay[2i+1]-1 */
  /* coupling.c: a self-coupling in a straight line (NM_LINE_ONE: row r's one
  ** term is base[off[0] + r], its sum U[c->dst[0] + r], its twin's
  ** U[twin->dst[0] + r]; NM_LINE_NONE: no row has a term), summed as vectors */
  int line;                 /* NM_LINE_*; 0: not in a line */
  int line_simd;            /* enum nm_simd: the kernel of the line (s->simd's copy for it) */
} nm_fast_coupling;
enum { NM_LINE_ONE = 1, NM_LINE_NONE = 2 };

/* One row of a node's sums that has its term (coupling.c): U[dst] = 0.0 + w * base[off]. */
typedef struct {
  long dst, off;
  double w;
} nm_node_term;

/* Clamps of neighbouring signals with one range, applied as one run (system.c). */
typedef struct {
  long sig;                 /* the first signal */
  size_t n;                 /* signals sig .. sig + n - 1 */
  double lo, hi;
} nm_clamp_run;

/* A run of neighbours: ring columns col .. col+n-1 hold signals sig .. sig+n-1
** (s->truns), or inputs sig .. sig+n-1 take noise channels col .. col+n-1. */
typedef struct {
  size_t col, n;
  long sig;
} nm_track_run;

/* Noise channels c0 .. c0+n-1 feeding inputs that lanes l0 .. l0+n-1 of
** right-hand-side program `prog` read (prog -1: channels no such program
** reads, l0 unused). */
typedef struct {
  size_t c0, n, l0;
  long prog;
} nm_nz_seg;

struct nm_sim {
  nm_model *m;
  double dt;
  size_t nv, ns;            /* signals, state variables */
  double *V;                /* signals now */
  double *U;                /* inputs */
  double *D;                /* derivatives of the last evaluation */
  double *stage;            /* signals of an intermediate stage */
  double *k[4];             /* stage derivatives (Heun, RK4) */
  double *ring;             /* delay history: depth rows of `width` tracked signals, stored
                               twice (rows r and r + depth are equal; coupling.c) */
  size_t width, depth;
  size_t reach;             /* the longest delay the ring holds (nm_sim_reserve): the model's
                               longest, or fewer while the runs so far read no further back */
  int unusable;             /* a reserve failed and its old sums could not be made again */
  double *sring;            /* the ring signal-major (nm_sring_put, coupling_ahead.c); NULL
                               when no sum goes ahead */
  size_t sring_c0, sring_n; /* its columns: ring columns sring_c0 .. sring_c0 + sring_n - 1,
                               those a sum going ahead reads (coupling_ahead.c make_sring) */
  size_t sring_cycle;       /* the cycle (step / depth) its lower halves were last copied at */
  nm_track_run *truns;      /* the tracked signals in runs (sim.c; system.c's history push) */
  size_t n_truns;
  double *dring;            /* derivatives of the tracked state variables (engine.h, nm_hist) */
  double *period;           /* ring column -> wrap period or 0 (NULL without wraps) */
  int deriv_method;         /* the method of the last run (-1 before the first) */
  long *column;             /* signal -> ring column or -1 */
  long *tracked;            /* ring column -> signal */
  nm_fast_coupling *fast;   /* the model's coupling sums, prepared for this ring */
  size_t n_fast;
  size_t step;              /* steps taken since t = 0 */
  nm_normals rng;           /* one stream per noise process */
  double *noise_x;          /* noise process values (by channel, below) */
  int has_white;            /* some noise is white (redrawn every step) */
  double *nz_mu, *nz_tau, *nz_scale, *nz_old;  /* noise parameters, gathered (system.c) */
  /* The noise channels are the model's noise processes sorted by input (a
  ** network's inputs of one kind are neighbours): channel p is the model's
  ** process nz_model[p], feeds input nz_dst[p], draws from stream p (seeded
  ** as the process), and the inputs take the channels a run at a time. */
  size_t *nz_model;
  long *nz_dst;
  nm_track_run *nz_runs;    /* inputs sig .. sig+n-1 take channels col .. col+n-1 */
  size_t n_nz_runs;
  unsigned long noise_version;  /* the model's param_version they were gathered at */
  int nz_drawing;           /* some nz_scale is not 0: nm_normals_add has draws to make */
  nm_clamp_run *cruns;      /* the model's clamps in runs, in their order (this run's) */
  size_t n_cruns, cap_cruns;
  int simd;                 /* nm_simd_choose's level, read once (tests set it lower) */
  int coupling_simd;        /* nm_simd_choose's set for the coupling sums' gathers, in the same reading */
  int diffusive_simd;       /* nm_simd_diffusive(coupling_simd): the diffusive sums' gathers */
  int stage_diffusive;      /* nm_simd_stages(diffusive_simd), read with it: diffusive sums staged */
  int vector_clamps;        /* the clamps go by runs, the long ones with AVX2 */
  nm_hist hist;
  int callback_failed;      /* a slow-path callback returned non-zero */
  nm_error err;             /* the last refusal or failure (nm_sim_error, nm_sim_failure) */
  /* coupling.c: a node's sums (every sum in a line, few rows in all, each
  ** input written by one row) at a step start: the rows with a term, and the
  ** inputs of the rows without (0.0), each list NULL when empty;
  ** node_sums 0: not a node's */
  int node_sums;
  nm_node_term *node_term;
  size_t n_node_terms;
  long *node_zero;
  size_t n_node_zeros;
  /* step_threads.c: where the threaded loop cuts its phases between its
  ** split_parts threads (0: not cut yet), kept from one threaded stretch of a
  ** run to the next: the coupling rows' terms and the lanes and noise
  ** channels, as fractions of the phase before each thread (cut[0] = 0,
  ** cut[split_parts] = 1); thread_split.c balances them. */
  int split_parts;
  double split_rows[NM_MAX_THREADS + 1], split_lanes[NM_MAX_THREADS + 1];
  /* step_threads.c: threads 1.. sum their rows from copies of the ring of
  ** their own (thread t's at tring[t], the layout of `ring`; NULL until a
  ** threaded run needs it), and the threads hand each other a step's new
  ** values in xrow (`width` of them); see the loop there. */
  double *tring[NM_MAX_THREADS];
  double *xrow;
  /* step_threads.c: threads 1.. draw their noise channels from copies of
  ** the streams of their own (trng[t]: made as the ring copies are, when
  ** nm_normals_copyable(&rng); n 0 otherwise) and keep their values in
  ** arrays of their own (tx[t], a few cache lines clear of other data: the
  ** values from step_threads.c's values_of); split_lanes_was: the cut before the last balancing, to
  ** find who had the channels a thread gains. */
  nm_normals trng[NM_MAX_THREADS];
  double *tx[NM_MAX_THREADS];
  double split_lanes_was[NM_MAX_THREADS + 1];
  /* step_threads.c: the noise channels in segments by the lanes that read
  ** them, so that a thread draws the channels of its own lanes (NULL until a
  ** threaded run needs them). */
  nm_nz_seg *nz_segs;
  size_t n_nz_segs;
  int nz_own_inputs;        /* no input is read by two lanes: a thread may write
                               the inputs of its channels while others compute */
};

/* s->sring, coupling_ahead.c's copy of the history of the columns some
** window reads, sring_c0 .. sring_c0 + sring_n - 1 (the others are not kept):
** column c at (c - sring_c0) * NM_SRING_STRIDE(depth), in two halves: time
** step at p + depth (p = step & (depth - 1)) and at p, so that the times
** step - d .. step - d + K - 1 (K - 1 <= d <= depth - 2) are consecutive at
** p + depth - d, a constant offset per term from the window's base.
** nm_sring_put writes the upper half; a window reads the lower one only at
** positions above its own p, the times of the cycle (depth steps) before,
** which coupling_ahead.c copies from the upper half at the first window of
** each cycle (nm_ahead_eval).  The column is padded by a cache line so that
** the columns do not all fall in the same cache sets.  nm_sring_put writes
** the time `step` of column c, or nothing for a column not kept. */
#define NM_AHEAD_MAX 8
#define NM_SRING_STRIDE(depth) (2 * (depth) + NM_AHEAD_MAX)
static inline void nm_sring_put(nm_sim *s, size_t c, size_t step, double v)
{
  size_t i = c - s->sring_c0, p = step & (s->depth - 1);     /* c < sring_c0: i wraps */
  if (i >= s->sring_n) return;
  s->sring[i * NM_SRING_STRIDE(s->depth) + s->depth + p] = v;
}

/* A term's delay as the history reads it (s->reach, nm_sim_reserve): a
** delay longer than the reach reaches before t = 0 at every step of the
** runs it holds, as the reach itself does, to the same initial values. */
static inline size_t nm_reach(const nm_sim *s, int delay)
{
  return (size_t)delay < s->reach ? (size_t)delay : s->reach;
}

/* Makes the history hold the next n_steps steps' delayed reads: grows the
** ring (keeping what it holds) while it is shorter than the model's longest
** delay and the runs' end plus a margin; NM_OK, or NM_ENOMEM with the
** reason in s->err. */
int nm_sim_reserve(nm_sim *s, size_t n_steps);

/* coupling.c: the mirrored row of step `step` in the history ring, from which
** every term at the start of that step is base[off_k]. */
static inline const double *nm_now_row(const nm_sim *s, size_t step)
{
  return s->ring + ((step & (s->depth - 1)) + s->depth) * s->width;
}

/* coupling.c: a node's sums at a step start (s->node_sums), inline
** so that a node's right-hand side pays no call for them: system.c's sim_rhs
** takes them here; nm_couplings_eval computes the same values by its lines. */
static inline void nm_couplings_eval_node(nm_sim *s)
{
  const double *base = nm_now_row(s, s->step);
  for (size_t k = 0; k < s->n_node_terms; k++) {
    const nm_node_term *e = &s->node_term[k];
    s->U[e->dst] = 0.0 + e->w * base[e->off];
  }
  for (size_t k = 0; k < s->n_node_zeros; k++) s->U[s->node_zero[k]] = 0.0;
}

/* Records the reason of a failure (printf-style) and returns `status`. */
#define nm_sim_fail(s, status, ...) nm_fail(&(s)->err, (status), __VA_ARGS__)

/* coupling.c */
int nm_couplings_prepare(nm_sim *s);
void nm_couplings_free(nm_sim *s);
void nm_couplings_eval(nm_sim *s, const double *V, double frac);
/* Start of a step, a thread's part of the rows: those from fraction `from` to
** fraction `to` of the terms (0 <= from <= to <= 1; each row summed by one
** thread), reading the history from `ring` (s->ring or a copy of it). */
void nm_couplings_eval_part(nm_sim *s, const double *ring, const double *V, size_t step,
                            double from, double to);
/* Start of a step, rows r0 .. r1-1 of every sum (clipped to its rows): any
** range, as a part would be, for the tests. */
void nm_couplings_eval_rows(nm_sim *s, const double *V, size_t step, size_t r0, size_t r1);

/* coupling_ahead.c: nm_ahead_prepare makes sum f's groups (simd: the
** kernel set, s->coupling_simd) and s->sring when a first group needs it (NM_OK
** or NM_ENOMEM; nm_ahead_free undoes it, also half-made); nm_ahead_eval puts
** the groups' rows' sums of step `step` into s->U (a new window when `step` is
** outside the last one): bit for bit coupling.c's sums. */
int nm_ahead_prepare(nm_sim *s, nm_fast_coupling *f, int simd);
void nm_ahead_free(nm_fast_coupling *f);
void nm_ahead_eval(nm_sim *s, nm_fast_coupling *f, const double *V, size_t step);
/* The columns of s->sring (the one rule for which there are: make_sring asks
** it, and so does the estimate of a run's memory, sim.c) in a history of
** `width` columns (column: signal -> column or -1) and `depth` rows of model
** m's sums, their gathers on `coupling_simd` (nm_simd_choose), diffusive sums
** staged when `stage` (nm_simd_stages): how many, the
** first in *c0 (may be NULL); SIZE_MAX when no sum goes ahead (no copy).
** nm_ahead_bytes: the bytes of a copy of n_columns (nm_ahead_columns' count)
** over `depth` rows, 0 for none; SIZE_MAX when they cannot be counted. */
size_t nm_ahead_columns(const nm_model *m, const long *column, size_t width, size_t depth,
                        int coupling_simd, int stage, size_t *c0);
size_t nm_ahead_bytes(size_t n_columns, size_t depth);

/* coupling_simd.c: the coupling sums' blocks on AVX-512 or AVX2, chosen at
** run time (s->coupling_simd, simd.c's nm_simd_choose).
** nm_coupling_blocks_make lays out sum c (and its twin t, or NULL) with
** ring offsets `off` for `simd` (NM_OK, or NM_ENOMEM; no blocks when an
** offset does not fit 32 bits, or when padding each block's rows to its
** longest would make more than 4 times the terms);
** nm_coupling_blocks_free undoes it, also half-made.  nm_coupling_blocks_eval sums blocks j0 .. j1-1 into U, each
** row's terms in its own order: bit for bit the scalar sums.
** nm_coupling_blocks_make_rows lays out only the n rows list[0 .. n-1] of c
** (any rows, in any order, each once), lane by lane in the list's order
** (list NULL: rows 0 .. n-1, as nm_coupling_blocks_make). */
int nm_coupling_blocks_make(nm_coupling_blocks *b, int simd, const nm_coupling *c,
                            const nm_coupling *t, const long *off);
int nm_coupling_blocks_make_rows(nm_coupling_blocks *b, int simd, const nm_coupling *c,
                                 const nm_coupling *t, const long *off, const size_t *list, size_t n);
void nm_coupling_blocks_free(nm_coupling_blocks *b);
void nm_coupling_blocks_eval(const nm_coupling_blocks *b, const nm_coupling *c, const nm_coupling *t,
                             const double *base, const double *V, double *U, size_t j0, size_t j1);
/* Every block of diffusive sum c from the values staged for a step
** (coupling_ahead.c: slot i of the blocks at st[i]), bit for bit
** nm_coupling_blocks_eval's sums. */
void nm_coupling_blocks_eval_staged(const nm_coupling_blocks *b, const nm_coupling *c,
                                    const double *st, const double *V, double *U);
/* Reorders rows list[0 .. n-1] of a sum (row_ptr) longest first, stably: blocks
** of rows of nearly one length pad little. */
void nm_rows_longest_first(const size_t *row_ptr, size_t *list, size_t n);

/* system.c */

/* Evaluates couplings, sync programs and right-hand sides on the signals `V`
** at fraction `frac` of the current step; derivatives land in `D`. */
void nm_sim_rhs(nm_sim *s, double *V, double frac, double *D);

/* Runs the "after" programs, then pushes the signals into the history. */
void nm_sim_finish_step(nm_sim *s);

/* The inputs (time series, noise) held during step `i` of a run. */
void nm_sim_step_inputs(nm_sim *s, const nm_run_opts *o, long i);
/* Its two parts: the inputs noise channels c0 .. c1-1 feed (their values now),
** then the parameter drivers and stimuli of step `i` (which may replace a
** channel's input, so they come second). */
void nm_sim_noise_inputs(nm_sim *s, const double *x, size_t c0, size_t c1);
void nm_sim_step_drives(nm_sim *s, const nm_run_opts *o, long i);

/* Gathers the model's clamps into runs for this run (at its start; the runs'
** kernel follows s->simd); NM_OK or NM_ENOMEM with the reason. */
int nm_sim_prepare_constraints(nm_sim *s);

/* Applies the clamps and wraps to the signals; returns non-zero if any moved. */
int nm_sim_constrain(nm_sim *s);

/* Advances the noise processes by one step; returns non-zero if any moved. */
int nm_sim_advance_noise(nm_sim *s);
/* The same for channels n0 .. n1-1, their draws from the streams `z` (s->rng,
** or a thread's copy of them: step_threads.c). */
void nm_sim_advance_noise_range(nm_sim *s, nm_normals *z, double *x, size_t n0, size_t n1);
void nm_sim_noise_params(nm_sim *s);

/* After a step of a stepper without a reset (Euler, Heun, RK4): constraints,
** noise (parameters and step), nm_sim_finish_step, then (unless a callback
** failed in the step) the check of nm_sim_step_checked, in one call: its result. */
int nm_sim_end_step(nm_sim *s);

/* The first non-finite signal in v0 .. v1-1, or -1. */
long nm_sim_first_nonfinite(const nm_sim *s, size_t v0, size_t v1);

/* The end of a step's check: 1 when a callback failed in the step (the run
** stops on that) or every signal is finite; else records where a non-finite
** signal appeared and returns 0. */
int nm_sim_step_checked(nm_sim *s);
/* Records that signal `sig` is not finite at time t (ms), with the reason;
** returns NM_ENONFINITE. */
int nm_sim_nonfinite(nm_sim *s, double t, long sig);

/* A white-noise value for the next step of channel p (nm_model_add_white_noise). */
double nm_sim_white_sample(nm_sim *s, nm_normals *z, size_t p);

/* The Euler update v += dt * d over n values (V and D are apart: sim.c), the
** one rule of nm_step_euler and the threads' lanes (nm_sim_euler_update) and of
** nm_sim_run_euler (system.c). */
static inline __attribute__((always_inline)) void nm_euler_update(double *restrict v,
                                                                  const double *restrict d,
                                                                  double dt, size_t n)
{
  for (size_t i = 0; i < n; i++) v[i] += dt * d[i];
}

/* step_fixed.c: nm_euler_update over v[0 .. n-1] with step s->dt, by the
** widest kernel s->simd allows for n values (every Euler step on one thread,
** and each thread's lanes on several: step_threads.c). */
void nm_sim_euler_update(const nm_sim *s, double *v, const double *d, size_t n);

/* The integrators (nm_stepper indexes them by enum nm_method). */
extern const nm_stepper_type nm_step_euler, nm_step_heun, nm_step_rk4;     /* step_fixed.c */
extern const nm_stepper_type nm_step_rkf45, nm_step_rk8pd, nm_step_msbdf;  /* step_gsl.c */

/* record.c: the sampler takes a row of the recorded signals (the time first)
** after every `every`-th step and hands the rows to o->sink a chunk at a
** time.  nm_sampler_init fails with NM_ENOMEM (reason in s); nm_sampler_row
** is the loops' `emit`. */
typedef struct {
  const nm_run_opts *o;
  double *buf;
  size_t rows, cap, cols;
  double *fbuf;             /* the feed's rows (o->feed_sink), every step */
  size_t frows, fcap, fcols;
} nm_sampler;
int nm_sampler_init(nm_sampler *r, nm_sim *s, const nm_run_opts *o);
int nm_sampler_row(void *rec, nm_sim *s);
/* The feed's row of this step (o->feed_sink must be set). */
int nm_sampler_feed(void *rec, nm_sim *s);
int nm_sampler_flush(nm_sampler *r);
void nm_sampler_free(nm_sampler *r);

/* The bookkeeping of a run's loop on one thread (sim.c's run_serial,
** nm_sim_run_euler): the steps to the next recorded row (a row every o->every
** steps of the simulation) and the steps between progress reports. */
typedef struct {
  size_t to_row;
  long report;
} nm_run_marks;

static inline nm_run_marks nm_run_marks_of(const nm_sim *s, const nm_run_opts *o)
{
  size_t every = (size_t)o->every;
  return (nm_run_marks){ every - s->step % every, o->n_steps / 100 + 1 };
}

/* A failed callback (a slow mass's error, or a stop raised inside it) fails
** the step it ran in: NM_ECALLBACK, with the flag cleared for the next run.
** The steppers ask right after their right-hand sides, before the step
** changes the state, so that a failed step leaves the state, the step count
** and the history as the last whole step left them (continuing goes on from
** there); else NM_OK. */
static inline int nm_sim_callback_status(nm_sim *s)
{
  if (!s->callback_failed) return NM_OK;
  s->callback_failed = 0;
  return NM_ECALLBACK;
}

/* After step i of a run whose check (nm_sim_end_step's) gave `finite`: a
** failed callback or a non-finite signal stops the run (NM_ECALLBACK,
** NM_ENONFINITE); else the recorded row when one is due, the feed's row, the
** stop flag (NM_EINTR) and the progress report.  The loop goes on while the
** result is NM_OK. */
static inline int nm_run_after_step(nm_sim *s, const nm_run_opts *o, long i, int finite,
                                    nm_run_marks *k, nm_sampler *r)
{
  int rc = nm_sim_callback_status(s);    /* (an adaptive stepper's output evaluation) */
  if (rc != NM_OK) return rc;
  if (!finite) return NM_ENONFINITE;
  if (--k->to_row == 0) {                /* s->step is a multiple of every */
    k->to_row = (size_t)o->every;
    rc = nm_sampler_row(r, s);
  }
  if (o->feed_sink && rc == NM_OK) rc = nm_sampler_feed(r, s);
  if (o->interrupt && *o->interrupt) rc = NM_EINTR;
  if (o->progress && (i + 1) % k->report == 0) o->progress(o->progress_ud, i + 1, o->n_steps);
  return rc;
}

#if NM_X86_SIMD
/* The same update with AVX2, four at a time, the rest one by one (for a
** node's few values: compiled for any CPU, the loop above went one by one;
** vectorised by the compiler, its checks cost as much as they gained). */
typedef double nm_f64x4 __attribute__((vector_size(32)));
static inline __attribute__((target("avx2"), always_inline))
void nm_euler_update_avx2(double *restrict v, const double *restrict d, double dt, size_t n)
{
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    nm_f64x4 x, y;
    memcpy(&x, v + i, sizeof x);
    memcpy(&y, d + i, sizeof y);
    x += dt * y;
    memcpy(v + i, &x, sizeof x);
  }
  for (int k = 0; k < 3; k++)                /* (unrolled: no loop to vectorise again) */
    if (i + (size_t)k < n) v[i + (size_t)k] += dt * d[i + (size_t)k];
}
#endif

/* system.c: run_serial's loop (sim.c) for Euler, steps i0 .. i1-1, on a model
** of at most NM_EULER_WHOLE state variables (a single node's: the services of
** a step inline, one function); the same bits, the same result. */
#define NM_EULER_WHOLE 16
int nm_sim_run_euler(nm_sim *s, const nm_run_opts *o, long i0, long i1, nm_sampler *r);

/* step_threads.c: the Euler loop on `threads` threads; bit-identical to one.
** `emit` records a row (nm_sampler_row).  With a `pace` (NULL: none) the loop
** stops after the first step at which it has taken longer than
** per_step * (steps done + slack_steps) seconds since `start` (nm_seconds()):
** the steps done are whole (s->step counts them) and the run goes on from
** there on one thread with the same bits. */
typedef struct {
  double start;             /* nm_seconds() when the loop began */
  double per_step;          /* seconds per step of one thread */
  double slack_steps;       /* steps of that pace allowed for starting the threads */
} nm_pace;
/* thread_split.c: cut[0 .. parts] (fractions of a phase before each thread)
** for equal threads, thread 0 doing 1 - `lighter` of another's share (it has a
** serial section too); and moved towards the cuts at which threads that did
** rate[t] of the phase per unit of time lately, thread 0 busy for `extra` of
** those units besides, finish together (cuts unchanged when a rate is not
** positive).  parts: 1 .. NM_MAX_THREADS. */
void nm_split_even(double *cut, int parts, double lighter);
void nm_split_balance(double *cut, const double *rate, double extra, int parts);
int nm_sim_threads_available(void);
/* The bytes the threads' copies of the ring take (tring, and the row they
** exchange: 0 before a threaded run made them, step_threads.c). */
size_t nm_sim_thread_rings_bytes(const nm_sim *s);
/* The same for a run on `threads` threads of a ring of `depth` rows of
** `width` columns: 0 on one thread, or for a ring the threads read where it
** is (too large to copy; step_threads.c's rule). */
size_t nm_thread_rings_bytes(size_t width, size_t depth, int threads);
double nm_seconds(void);    /* monotonic clock, seconds */
int nm_sim_run_threads(nm_sim *s, const nm_run_opts *o, int threads, long i0, long i1,
                       const nm_pace *pace, int (*emit)(void *rec, nm_sim *s), void *rec);

#endif
