/*
** step_threads.c: the Euler loop on several threads (OpenMP), for large
** networks.  Threads split every phase of a step across nodes: coupling rows,
** program lanes, state updates and noise channels.  Each value is computed
** exactly as on one thread (a coupling row is summed by one thread, a lane
** runs the same instructions, a noise channel draws from its own stream), so
** the result is bit-identical whatever the number of threads.  The short
** serial parts (inputs, constraints, history push, recording) run on one
** thread between barriers.
*/
#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "sim.h"
#include "jit.h"


/* How long a thread waiting at a barrier spins before it yields its core
** (seconds; none when there are more threads than cores), and the checks
** between two readings of the clock. */
#define SPIN_SECONDS 20e-6
#define SPINS_PER_CLOCK 64

/*
** The barrier between phases.  OpenMP's own spins for a long time before it
** sleeps, which is fine on an idle machine and ruinous on a busy one (a
** spinning thread keeps the core from the thread it waits for).  This one
** spins for a few steps' worth of a large network's barrier waits, then
** yields the core at every check.  Yielding sooner costs a system call per
** check, which under a hypervisor takes about as long as the wait it
** replaces: on the bench machine, yielding after 2000 checks (a few
** microseconds) put a third of a 500-node step's time in sched_yield.
*/
typedef struct {
  _Alignas(64) atomic_int count;   /* a cache line of its own: threads write it */
  atomic_int generation;
  int n;
  double spin;                     /* seconds of spinning before yielding */
  char pad[64 - 3 * sizeof(int) - sizeof(double)];
} barrier;


/* What each thread tells thread 0, alone on its cache line: the first
** non-finite signal it found this step, and the work it has done (fractions of
** a phase, summed over steps) and the ticks it took, in the coupling rows and
** in the lanes and noise channels, since the threads started. */
typedef struct {
  _Alignas(64) long bad;
  double rows_work, rows_ticks, lanes_work, lanes_ticks;
} own_line;


static void barrier_wait(barrier *b)
{
  int gen = atomic_load_explicit(&b->generation, memory_order_acquire);
  if (atomic_fetch_add_explicit(&b->count, 1, memory_order_acq_rel) == b->n - 1) {
    atomic_store_explicit(&b->count, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&b->generation, 1, memory_order_release);
    return;
  }
  double until = 0.0;
  for (int spins = 1, yield = 0; atomic_load_explicit(&b->generation, memory_order_acquire) == gen;
       spins++) {
    if (yield) {
      sched_yield();
    } else if (spins % SPINS_PER_CLOCK == 0) {
      double now = nm_seconds();
      if (until == 0.0) until = now + b->spin;
      else yield = now > until;
    }
  }
}


/* Steps between two balancings of the cuts (thread_split.c). */
#define BALANCE_STEPS 128

/* Thread 0's share of the coupling rows at first, 1 - this of another's: it
** also runs the serial section of a step (balancing then measures it). */
#define THREAD0_LIGHTER 0.2


/* The index at fraction `at` of the range 0 .. n-1 (n at 1). */
static size_t cut_at(size_t n, double at)
{
  if (at >= 1.0) return n;
  size_t i = (size_t)((double)n * at);
  return i < n ? i : n;
}


/* The same for lanes, cut at multiples of NM_LANE_ALIGN (whole cache lines of
** every register), so that no two threads write the same line. */
static size_t lane_at(size_t n, double at)
{
  if (at >= 1.0) return n;
  size_t i = cut_at(n, at) / NM_LANE_ALIGN * NM_LANE_ALIGN;
  return i < n ? i : n;
}


/* A clock for measuring a thread's work: ticks of the time-stamp counter
** where there is one (a few cycles to read; its rate is the same on every
** core of the processors that have an invariant one), else nanoseconds. */
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static double ticks(void) { return (double)__rdtsc(); }
#else
static double ticks(void) { return 1e9 * nm_seconds(); }
#endif


int nm_sim_threads_available(void)
{
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}


int nm_cores(void)
{
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 && n < 1 << 20 ? (int)n : 1;
}


double nm_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}


/* Whether the loop has fallen behind its pace after `done` steps. */
static int behind(const nm_pace *pace, long done)
{
  return pace && nm_seconds() - pace->start > pace->per_step * ((double)done + pace->slack_steps);
}


/* The Euler update (sim.h's rule) of the states whose derivatives program p
** writes, lanes l0 .. l1-1: a thread updates the lanes it evaluated. */
static void update_lanes(const nm_sim *s, const nm_program *p, size_t l0, size_t l1)
{
  for (size_t k = 0; k < p->n_ins; k++) {
    const nm_ins *in = &p->code[k];
    if (in->op != -1 - NM_SINK_DERIV) continue;
    nm_sim_euler_update(s, s->V + in->slot + l0, s->D + in->slot + l0, l1 - l0);
  }
}


/* The largest history (both copies, bytes) threads copy into rings of their
** own: one that fits the caches, where sharing lines between cores costs most
** and copying it whole at the start of a threaded stretch little.  Larger
** ones are read by every thread from s->ring. */
#define OWN_RING_MAX (8u << 20)

static size_t ring_bytes(const nm_sim *s)
{
  return 2 * s->depth * s->width * sizeof *s->ring;
}


/* Whether threads 1.. sum their rows from rings of their own (see the loop):
** fixed for a run state, decided once per threaded stretch. */
static int own_rings(const nm_sim *s)
{
  return ring_bytes(s) <= OWN_RING_MAX;
}


/* For the lanes a thread evaluated and updated: their signals' history (into
** s->xrow, which every thread copies into its ring at the next step, or into
** s->ring when threads share it: `own` 0) and the first non-finite one.
** Every signal is a state or an output some program writes, so the threads
** together cover them all. */
static void finish_lanes(nm_sim *s, int own, const nm_program *p, size_t l0, size_t l1, long *bad)
{
  double *row = s->ring + ((s->step + 1) & (s->depth - 1)) * s->width;
  double *mirror = row + s->depth * s->width;
  for (size_t k = 0; k < p->n_ins; k++) {
    const nm_ins *in = &p->code[k];
    if (in->op != -1 - NM_SINK_DERIV && in->op != -1 - NM_SINK_SIGNAL) continue;
    for (size_t l = l0; l < l1; l++) {
      long sig = in->slot + (long)l, col = s->column[sig];
      double v = s->V[sig];
      if (col >= 0 && own) s->xrow[col] = v;
      else if (col >= 0) row[col] = mirror[col] = v;
      if (col >= 0 && s->sring) nm_sring_put(s, (size_t)col, s->step + 1, v);   /* coupling_ahead.c */
      if (!isfinite(v) && (*bad < 0 || sig < *bad)) *bad = sig;
    }
  }
}


/* With rings of their own, a thread's `ring` gets step `step`'s values, in
** both its copies of the row (sim.h): from s->xrow, or from s->ring after
** thread 0 pushed the history itself (`from_ring`). */
static void take_row(const nm_sim *s, double *ring, size_t step, int from_ring)
{
  size_t at = (step & (s->depth - 1)) * s->width, n = s->depth * s->width;
  const double *src = from_ring ? s->ring + at : s->xrow;
  memcpy(ring + at, src, s->width * sizeof *src);
  memcpy(ring + at + n, src, s->width * sizeof *src);
}


/* The bytes of a thread's copy of a ring of `depth` rows of `width` columns
** (make_rings), and of the exchange row of `width` columns. */
static size_t copy_bytes_of(size_t width, size_t depth)
{
  return (2 * depth * width * sizeof(double) + 63) / 64 * 64 + 64;
}

static size_t xrow_bytes(size_t width)
{
  return (width * sizeof(double) + 63) / 64 * 64 + 64;
}


/* The bytes of a thread's copy of s's ring. */
static size_t copy_bytes(const nm_sim *s)
{
  return copy_bytes_of(s->width, s->depth);
}


size_t nm_sim_thread_rings_bytes(const nm_sim *s)
{
  size_t n = 0;
  for (int t = 1; t < NM_MAX_THREADS; t++) n += s->tring[t] != NULL;
  return n * copy_bytes(s) + (s->xrow ? xrow_bytes(s->width) : 0);
}


size_t nm_thread_rings_bytes(size_t width, size_t depth, int threads)
{
  if (threads > NM_MAX_THREADS) threads = NM_MAX_THREADS;
  if (threads < 2 || (width && depth > OWN_RING_MAX / 2 / sizeof(double) / width)) return 0;
  return (size_t)(threads - 1) * copy_bytes_of(width, depth) + xrow_bytes(width);
}


/* With rings of their own, threads 1 .. threads-1's rings and the exchange
** row, made once per run state and kept; NM_OK or NM_ENOMEM. */
static int make_rings(nm_sim *s, int threads)
{
  size_t bytes = copy_bytes(s) - 64;
  if (!s->xrow) s->xrow = aligned_alloc(64, xrow_bytes(s->width));
  for (int t = 1; t < threads; t++)
    if (s->xrow && !s->tring[t]) s->tring[t] = aligned_alloc(64, bytes + 64);
  for (int t = 1; t < threads; t++)
    if (!s->xrow || !s->tring[t])
      return nm_sim_fail(s, NM_ENOMEM, "%d threads need %zu bytes each for their copies of the "
                         "delay history, which cannot be allocated (run with fewer threads)",
                         threads, bytes);
  return NM_OK;
}


/* Bytes kept clear before and after a thread's noise values (make_streams). */
#define TX_GUARD 256


/* Copies of the noise streams for threads 1 .. threads-1 (s->trng), when the
** streams can be copied, and arrays of their channels' values (s->tx, used
** when the threads write their inputs: `drawn` in the loop): 1 when they are
** there, 0 when the threads draw from s->rng itself, or NM_ENOMEM (said).  A thread that writes the states of its
** channels in arrays another thread writes too is slowed by it where cores
** are far apart (measured here: 500 nodes, two threads, 0.63 s against
** 0.58 s with copies), although no state is shared: the two cores' hardware
** prefetchers fetch lines past the cut and past the end of each array. */
static int make_streams(nm_sim *s, int threads)
{
  size_t n = s->m->n_noises;
  if (n == 0 || !nm_normals_copyable(&s->rng)) return 0;
  for (int t = 1; t < threads; t++) {
    if (!s->tx[t]) s->tx[t] = aligned_alloc(64, (n * sizeof(double) + 63) / 64 * 64 + 2 * TX_GUARD);
    if (!s->tx[t] || (s->trng[t].n == 0 && nm_normals_init_copy(&s->trng[t], &s->rng) != NM_OK))
      return nm_sim_fail(s, NM_ENOMEM, "%d threads cannot allocate their noise streams (run with fewer "
                         "threads)", threads);
  }
  return 1;
}


/* The values of the noise channels thread t draws (thread 0: s->noise_x). */
static double *values_of(const nm_sim *s, int t)
{
  return t > 0 ? (double *)((char *)s->tx[t] + TX_GUARD) : s->noise_x;
}


/* Thread `to` takes the streams' states and the values of channels a .. b-1
** from thread `from` (thread 0's: s->rng and s->noise_x). */
static void take(nm_sim *s, int to, int from, size_t a, size_t b, int own_x)
{
  if (b <= a) return;
  nm_normals_take(to ? &s->trng[to] : &s->rng, from ? &s->trng[from] : &s->rng, a, b);
  if (own_x) memcpy(values_of(s, to) + a, values_of(s, from) + a, (b - a) * sizeof(double));
}


/* The noise channels in segments (s->nz_segs) by the right-hand-side lanes
** that read their inputs: with them, each thread draws the channels of its
** own lanes and writes their inputs itself, so that neither a channel's value
** nor its input crosses to the other core (measured here, 500 nodes on two
** threads, medians of 18 runs alternated: 0.556 s against 0.570 s when thread
** 0 wrote every input in its serial section and the channels were cut apart
** from the lanes; a thread's noise phase 3.5-3.9k ticks a step against
** 3.9-5.3k, thread 0's serial section 0.9k against 1.5k).  NM_OK or
** NM_ENOMEM (said). */
static int make_segments(nm_sim *s)
{
  const nm_model *m = s->m;
  if (s->nz_segs || m->n_noises == 0) return NM_OK;
  long *prog = malloc((m->n_input + 1) * sizeof *prog);
  size_t *lane = malloc((m->n_input + 1) * sizeof *lane);
  s->nz_segs = malloc(m->n_noises * sizeof *s->nz_segs);
  if (!prog || !lane || !s->nz_segs) {
    free(prog);
    free(lane);
    return nm_sim_fail(s, NM_ENOMEM, "cannot allocate the noise channels' segments for threads");
  }
  for (size_t u = 0; u < m->n_input; u++) prog[u] = -1;
  int shared = 0;                       /* some input is read by two lanes */
  for (size_t k = 0; k < m->n_progs[NM_STAGE_RHS]; k++) {
    const nm_program *p = m->progs[NM_STAGE_RHS][k];
    for (size_t i = 0; i < p->n_ins; i++) {
      if (p->code[i].op != NM_OP_INPUT) continue;
      for (size_t l = 0; l < p->lanes; l++) {
        size_t u = (size_t)p->code[i].slot + l;
        if (prog[u] >= 0 && (prog[u] != (long)k || lane[u] != l)) shared = 1;
        if (prog[u] < 0) { prog[u] = (long)k; lane[u] = l; }
      }
    }
  }
  size_t n = 0;
  for (size_t c = 0; c < m->n_noises; c++) {
    size_t u = (size_t)s->nz_dst[c];
    nm_nz_seg *g = n ? &s->nz_segs[n - 1] : NULL;
    if (g && g->prog == prog[u] && (prog[u] < 0 || (g->l0 + g->n == lane[u] && s->nz_dst[c - 1] + 1 == (long)u)))
      g->n++;
    else
      s->nz_segs[n++] = (nm_nz_seg){ c, 1, prog[u] < 0 ? 0 : lane[u], prog[u] };
  }
  s->n_nz_segs = n;
  s->nz_own_inputs = !shared;
  free(prog);
  free(lane);
  return NM_OK;
}


/* The channels a .. b-1 of segment g that go with the lanes at fractions
** f0 .. f1 of its program (lane_at's cut: whole cache lines), or with the
** channels there when no program reads them. */
static void seg_part(const nm_sim *s, const nm_nz_seg *g, double f0, double f1, size_t *a, size_t *b)
{
  size_t x0, x1;
  if (g->prog >= 0) {
    size_t L = s->m->progs[NM_STAGE_RHS][g->prog]->lanes;
    x0 = lane_at(L, f0);
    x1 = lane_at(L, f1);
    x0 = x0 <= g->l0 ? 0 : x0 - g->l0 < g->n ? x0 - g->l0 : g->n;
    x1 = x1 <= g->l0 ? 0 : x1 - g->l0 < g->n ? x1 - g->l0 : g->n;
  } else {
    x0 = cut_at(g->n, f0);
    x1 = cut_at(g->n, f1);
  }
  *a = g->c0 + x0;
  *b = g->c0 + x1;
}


/* Thread `tid` (streams z), which drew the channels of lanes at fractions
** had0 .. had1 last step, takes the state of each channel of segment g it
** now needs (fractions f0 .. f1) and lacks from the thread that drew it (by
** the cut before the last balancing, s->split_lanes_was: they drew it last
** step, before the barriers since, and do not touch it this step), or from
** s->rng at a stretch's first step (`first`), when s->rng holds every
** channel.  Thread 0's streams are s->rng. */
static void take_channels(nm_sim *s, int tid, int parts, int first, const nm_nz_seg *g,
                          double f0, double f1, double had0, double had1, int own_x)
{
  size_t c0, c1, have0, have1;
  seg_part(s, g, f0, f1, &c0, &c1);
  if (first) {                          /* (a copy, which holds none yet: thread 0 holds all) */
    if (tid > 0) take(s, tid, 0, c0, c1, own_x);
    return;
  }
  seg_part(s, g, had0, had1, &have0, &have1);
  for (int u = 0; u < parts; u++) {
    if (u == tid) continue;
    size_t u0, u1;
    seg_part(s, g, s->split_lanes_was[u], s->split_lanes_was[u + 1], &u0, &u1);
    /* what of u's old channels falls in c0 .. c1, less those tid has already */
    size_t a = u0 > c0 ? u0 : c0, b = u1 < c1 ? u1 : c1;
    if (a >= b) continue;
    if (have0 > a) take(s, tid, u, a, have0 < b ? have0 : b, own_x);
    if (have1 < b) take(s, tid, u, have1 > a ? have1 : a, b, own_x);
  }
}


/* The serial head of a step: its inputs (but the noise channels' when the
** threads took them: `drawn`) and the prologues they may invalidate. */
static void begin_step(nm_sim *s, const nm_run_opts *o, long i, nm_eval_ctx *ctx, int drawn)
{
  nm_model *m = s->m;
  /* Native code compiled meanwhile: no other thread evaluates programs now
  ** (they are in the coupling phase or at a barrier). */
  nm_jit_poll(m);
  if (drawn) nm_sim_step_drives(s, o, i);
  else nm_sim_step_inputs(s, o, i);
  nm_sim_noise_params(s);
  s->hist.now = s->step;
  s->hist.frac = 0.0;
  ctx->t = nm_sim_time(s);
  for (int st = NM_STAGE_SYNC; st <= NM_STAGE_RHS; st++)
    for (size_t k = 0; k < m->n_progs[st]; k++) nm_program_prepare(m->progs[st][k], ctx);
}


/* The serial tail of step i: constraints, outputs and history (unless the
** threads pushed the history already: `light`), checks and recording; then
** the head of the next step (without the noise inputs the threads wrote:
** `drawn`).  `bad` is the first non-finite signal the threads found (light
** steps).  Returns non-zero to stop. */
static int end_step(nm_sim *s, const nm_run_opts *o, long i, long i1, nm_eval_ctx *ctx,
                    int light, int drawn, long bad, int *rc, int (*emit)(void *rec, nm_sim *s),
                    void *rec, int slow)
{
  if (light) {
    s->step++;
  } else {
    nm_sim_constrain(s);
    nm_sim_finish_step(s);
    bad = nm_sim_first_nonfinite(s, 0, s->nv);
  }
  if (bad >= 0) {
    *rc = nm_sim_nonfinite(s, nm_sim_time(s), bad);
  } else {
    if (s->step % (size_t)o->every == 0) *rc = emit(rec, s);
    if (o->feed_sink && *rc == NM_OK) *rc = nm_sampler_feed(rec, s);
  }
  if (*rc == NM_OK && o->interrupt && *o->interrupt) *rc = NM_EINTR;
  long report = o->n_steps / 100 + 1;
  if (o->progress && (i + 1) % report == 0) o->progress(o->progress_ud, i + 1, o->n_steps);
  if (*rc != NM_OK || i + 1 >= i1 || slow) return 1;
  begin_step(s, o, i + 1, ctx, drawn);
  return 0;
}


/* Thread 0, in its serial section every BALANCE_STEPS steps: moves the cuts
** towards balance from what the threads told since `seen` (the totals of the
** last balancing, updated).  `serial`: thread 0's ticks in its serial section
** over those `steps`; in light steps the section comes before thread 0's
** coupling rows while the others sum theirs, so it counts against its share. */
static void balance(nm_sim *s, const own_line *told, own_line *seen, int parts, double serial,
                    long steps, int light)
{
  double rows[NM_MAX_THREADS], lanes[NM_MAX_THREADS];
  for (int t = 0; t < parts; t++) {
    double rt = told[t].rows_ticks - seen[t].rows_ticks, lt = told[t].lanes_ticks - seen[t].lanes_ticks;
    rows[t] = rt > 0.0 ? (told[t].rows_work - seen[t].rows_work) / rt : 0.0;
    lanes[t] = lt > 0.0 ? (told[t].lanes_work - seen[t].lanes_work) / lt : 0.0;
    seen[t] = told[t];
  }
  nm_split_balance(s->split_rows, rows, light ? serial / (double)steps : 0.0, parts);
  memcpy(s->split_lanes_was, s->split_lanes, (size_t)(parts + 1) * sizeof *s->split_lanes);
  nm_split_balance(s->split_lanes, lanes, 0.0, parts);
}


/*
** Steps i0 .. i1-1 of a run on every thread, with two barriers per step
** (three with constraints or outputs after the step) and one serial section:
**   coupling rows | rhs lanes, their state updates and history (program by
**   program), noise channels | serial on thread 0: checks, recording, next
**   inputs, overlapping the other threads' next coupling rows.
** Each thread sums its rows from a ring no other thread writes (thread 0's is
** s->ring, the others' are copies): cores hand over a cache line slowly (on
** the bench machine a line's round trip between the two cores takes 0.5 us),
** and a ring written by every thread had each new line of history, in both
** copies of its row, cross between them once written and again once read.
** Instead the threads put a step's new values into one row, s->xrow, and each
** copies it whole into its own ring (thread 0 in its serial section, the
** others before their next rows): each value crosses once, in a contiguous
** run of lines.  Histories too large to copy (OWN_RING_MAX) stay shared.
** Each thread takes the part of the rows, and of the lanes and channels, that
** s->split_rows and s->split_lanes give it; thread 0 rebalances them from the
** threads' measured speeds (thread_split.c) in its serial section, which no
** other thread's reading of them overlaps (they read them between the first
** two barriers of a step).
** With a `pace`, thread 0 stops the loop after the first step that finds it
** behind (see sim.h).
** Not for models with slow-path callbacks (they must see every derivative
** before the update): nm_sim_run keeps those on one thread.
*/
int nm_sim_run_threads(nm_sim *s, const nm_run_opts *o, int threads, long i0, long i1,
                       const nm_pace *pace, int (*emit)(void *rec, nm_sim *s), void *rec)
{
  nm_model *m = s->m;
  nm_program **sync = m->progs[NM_STAGE_SYNC], **rhs = m->progs[NM_STAGE_RHS];
  size_t n_sync = m->n_progs[NM_STAGE_SYNC], n_rhs = m->n_progs[NM_STAGE_RHS];
  /* (nm_sim_run reserved the whole run; a caller stepping by stretches, each) */
  int rc = i1 > i0 ? nm_sim_reserve(s, (size_t)(i1 - i0)) : NM_OK, stop = i0 >= i1;
  if (rc != NM_OK) return rc;
  size_t step0 = s->step;
  nm_eval_ctx ctx = { s->V, m->P, s->U, s->D, 0.0, &s->hist, m->tables };
  /* Without constraints or outputs computed after the step, the threads push
  ** the history and look for non-finite values themselves. */
  int light = m->n_clamps == 0 && m->n_wraps == 0 && m->n_progs[NM_STAGE_AFTER] == 0;
  own_line told[NM_MAX_THREADS], seen[NM_MAX_THREADS];
  memset(seen, 0, sizeof seen);
  if (threads > NM_MAX_THREADS) threads = NM_MAX_THREADS;
  int own = own_rings(s);
  rc = own ? make_rings(s, threads) : NM_OK;
  if (rc != NM_OK) return rc;
  int streams = make_streams(s, threads);
  if (streams < 0) return streams;
  if ((rc = make_segments(s)) != NM_OK) return rc;
  /* Light steps: each thread writes the next step's inputs of its channels,
  ** when they are its lanes' alone (an output computed after the step might
  ** read this step's). */
  int drawn = light && s->nz_own_inputs;
  barrier bar;
  atomic_init(&bar.count, 0);
  atomic_init(&bar.generation, 0);
  bar.spin = threads <= nm_cores() ? SPIN_SECONDS : 0.0;
  if (!stop) begin_step(s, o, i0, &ctx, 0);
#pragma omp parallel num_threads(threads)
  {
#ifdef _OPENMP
    int tid = omp_get_thread_num(), parts = omp_get_num_threads();
#else
    int tid = 0, parts = 1;
#endif
#pragma omp single
    {
      bar.n = parts;
      if (s->split_parts != parts) {
        nm_split_even(s->split_rows, parts, THREAD0_LIGHTER);
        nm_split_even(s->split_lanes, parts, 0.0);
        s->split_parts = parts;
      }
    }
    double rows_from = s->split_rows[tid], rows_to = s->split_rows[tid + 1];
    double rows_work = 0.0, rows_ticks = 0.0, lanes_work = 0.0, lanes_ticks = 0.0;
    double serial = 0.0;                  /* thread 0: ticks in its serial section */
    long since = 0;                       /* thread 0: steps since the last balancing */
    told[tid] = (own_line){ .bad = -1 };
    double *ring = own && tid > 0 ? s->tring[tid] : s->ring;     /* the one its rows read */
    /* the streams its noise channels draw from, and the lanes (fractions)
    ** whose channels it drew last (none before the stretch's first draws,
    ** when s->rng holds all) */
    nm_normals *z = streams && tid > 0 ? &s->trng[tid] : &s->rng;
    double *x = streams && drawn ? values_of(s, tid) : s->noise_x;
    double had0 = 0.0, had1 = 0.0;
    int fresh = 1;
    if (ring != s->ring) memcpy(ring, s->ring, ring_bytes(s));
    for (long i = i0;; i++) {
      /* The step is counted locally: thread 0 may already be past end_step.
      ** Thread 0 took the step's values into s->ring in its serial section. */
      size_t step = step0 + (size_t)(i - i0);
      double t0 = ticks();
      if (own && tid > 0 && i > i0) take_row(s, ring, step, !light);
      nm_couplings_eval_part(s, ring, s->V, step, rows_from, rows_to);
      rows_ticks += ticks() - t0;
      rows_work += rows_to - rows_from;
      barrier_wait(&bar);
      if (stop) break;
      /* Thread 0 is past its serial section: the cuts hold still until the
      ** next barrier.  This step's lanes, the next step's rows. */
      told[tid].rows_work = rows_work;
      told[tid].rows_ticks = rows_ticks;
      rows_from = s->split_rows[tid];
      rows_to = s->split_rows[tid + 1];
      double lanes_from = s->split_lanes[tid], lanes_to = s->split_lanes[tid + 1];
      /* Each thread reads the shared context once per step into its own copy
      ** (a line thread 0 writes must not be read on every instruction). */
      nm_eval_ctx my = ctx;
      if (n_sync) {
        for (size_t k = (size_t)tid; k < n_sync; k += (size_t)parts)
          nm_program_eval_lanes(sync[k], &my, 0, sync[k]->lanes);
        barrier_wait(&bar);
      }
      /* Programs in order (a later group may read an output of an earlier one);
      ** a thread updates the states of the lanes it evaluated, which no other
      ** program reads (programs read their own group's states only). */
      long my_bad = -1;
      for (size_t k = 0; k < n_rhs; k++) {
        size_t L = rhs[k]->lanes, l0 = lane_at(L, lanes_from), l1 = lane_at(L, lanes_to);
        double t1 = ticks();
        nm_program_eval_lanes(rhs[k], &my, l0, l1);
        update_lanes(s, rhs[k], l0, l1);
        if (light) finish_lanes(s, own, rhs[k], l0, l1, &my_bad);
        lanes_ticks += ticks() - t1;
        if (k + 1 < n_rhs) barrier_wait(&bar);
      }
      /* The noise channels of its lanes, and (`drawn`) the inputs they feed
      ** at the next step: no program reads them again this step. */
      double t2 = ticks();
      int moved = fresh || lanes_from != had0 || lanes_to != had1;
      for (size_t g = 0; g < s->n_nz_segs; g++) {
        if (streams && moved)
          take_channels(s, tid, parts, fresh, &s->nz_segs[g], lanes_from, lanes_to, had0, had1, drawn);
        size_t c0, c1;
        seg_part(s, &s->nz_segs[g], lanes_from, lanes_to, &c0, &c1);
        nm_sim_advance_noise_range(s, z, x, c0, c1);
        if (drawn) nm_sim_noise_inputs(s, x, c0, c1);
      }
      had0 = lanes_from;
      had1 = lanes_to;
      fresh = 0;
      lanes_ticks += ticks() - t2;
      lanes_work += lanes_to - lanes_from;
      told[tid].bad = my_bad;
      told[tid].lanes_work = lanes_work;
      told[tid].lanes_ticks = lanes_ticks;
      barrier_wait(&bar);
      if (tid == 0) {
        double t3 = ticks();
        if (own && light) take_row(s, s->ring, s->step + 1, 0);
        long first = -1;
        for (int t = 0; light && t < parts; t++)
          if (told[t].bad >= 0 && (first < 0 || told[t].bad < first)) first = told[t].bad;
        stop = end_step(s, o, i, i1, &ctx, light, drawn, first, &rc, emit, rec,
                        behind(pace, i + 1 - i0));
        serial += ticks() - t3;
        if (++since == BALANCE_STEPS && !stop) {
          balance(s, told, seen, parts, serial, since, light);
          serial = 0.0;
          since = 0;
        }
      }
      /* Light steps: the next coupling phase reads only what the threads wrote
      ** before the last barrier (history, states), while thread 0 sets the
      ** next inputs; otherwise thread 0's history push must come first. */
      if (!light) barrier_wait(&bar);
    }
    /* Every thread is past its last draw (the barrier before `stop`): s->rng
    ** gets the channels the copies hold, for what runs next on one thread. */
    for (size_t g = 0; z != &s->rng && !fresh && g < s->n_nz_segs; g++) {
      size_t c0, c1;
      seg_part(s, &s->nz_segs[g], had0, had1, &c0, &c1);
      take(s, 0, tid, c0, c1, drawn);
    }
  }
  (void)threads;
  return rc;
}
