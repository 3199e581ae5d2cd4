/*
** jit_emit.c: a compiled program's main code as C source (the native code of
** docs/jit.md).  The emitted function runs lane by lane (or a block of
** lanes at a time, below): for each lane it
** performs the interpreter's instructions in the interpreter's order, with
** the same C operations and the same libm calls (exp over a block's lanes:
** the engine's nm_exp_lanes, as the interpreter's; of one lane, its step
** compiled in, exp_one_of), on locals instead of
** register vectors.  Within one lane that is the interpreter's arithmetic
** exactly; across lanes nothing is shared (a program whose store overlaps
** another lane's read is refused: the interpreter would finish every lane of
** an instruction before the next).  The prologue's registers and the
** constants are read from the register file, never written as literals, so
** the C compiler folds nothing the interpreter computes at run time.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp_lanes.h"
#include "jit.h"
#include "table2d_code.h"


typedef struct {
  char *s;
  size_t n, cap;
  int failed;
  int blocked;      /* emitting the blocked form (below) */
  int one;          /* emitting the one-lane form (below): the lane is 0 */
  int all_shared;   /* every shared location's grid is its table's: taken as it is */
  int open;         /* in the blocked form: a loop over the block's lanes is open */
  const unsigned char *wide;    /* in a block: registers held per lane (arrays) */
  const unsigned char *lwide;   /* in a block: table locations held per lane */
  size_t stride;                /* the register file's width (nm_program's stride) */
  int exp_one;                  /* exp of one lane: the step (1 fused, 0 not: exp_one_of) or libm's (-1) */
} buf;


static void put(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(buf *b, const char *fmt, ...)
{
  if (b->failed) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    if (k < 0) { b->failed = 1; return; }
    if ((size_t)k < b->cap - b->n) { b->n += (size_t)k; return; }
    size_t cap = nm_grow_cap(b->cap, 0, b->n, (size_t)k + 1, 1);
    char *s = cap ? realloc(b->s, cap) : NULL;
    if (!s) { b->failed = 1; return; }
    b->s = s;
    b->cap = cap;
  }
}


/* exp of one lane (lanes one by one, the one-lane form) is the engine's exp
** step (exp_lanes.h, with a copy of its table written from the engine's), in
** the form of the kernel nm_exp_lanes chose in this process: checked there
** against this process's libm exp, bit for bit, it stands for libm's call,
** and inlined it spares the call and the registers a call clobbers (a
** single node's values live across it).  When no kernel agreed, libm's exp.
** A kernel with fused multiply-adds runs on a CPU with them
** (nm_exp_kernel_runs): without -march=native (an unknown CPU) the step's
** functions are compiled for FMA on their own (called, not inlined). */
static int exp_one_of(const nm_program *p)
{
  size_t i = 0;
  while (i < p->n_ins && p->code[i].op != NM_OP_EXP) i++;
  if (i == p->n_ins) return -1;
  int k = nm_exp_lanes_kernel();
  return k == NM_EXP_PLAIN ? 0 : k == NM_EXP_LIBM ? -1 : 1;
}

static void exp_step(buf *b)
{
  int fused = b->exp_one == 1;
  put(b, "static const uint64_t nm_exp_data[%d] = {", NM_EXP_WORDS);
  for (int k = 0; k < NM_EXP_WORDS; k++)
    put(b, "%s0x%016llxULL,", k % 4 ? " " : "\n  ", (unsigned long long)nm_exp_data[k]);
  put(b, "\n};\n");
  if (fused)
    put(b, "#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__FMA__)\n"
           "#pragma GCC push_options\n#pragma GCC target(\"fma\")\n#define NM_EXP_FMA_POP\n#endif\n");
  put(b, "%s\n", NM_EXP_STEP_TEXT);
  if (fused) put(b, "#ifdef NM_EXP_FMA_POP\n#pragma GCC pop_options\n#endif\n");
  put(b, "\n");
}


/* The declarations the function needs, with the engine's layouts checked by
** the compiler (a mismatch fails the compilation: the interpreter runs).
** `wide`: the program's blocks may take 512-bit vectors (wide_blocks()). */
static void prelude(buf *b, int wide)
{
  put(b, "/* neuromass native program (docs/jit.md); generated, do not edit */\n"
         "#include <math.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <string.h>\n\n"
         "typedef struct { size_t r, c; double fr, fc; } pos_t;\n"
         "typedef struct {\n"
         "  size_t n_rows, n_cols; double row0, row_step, row_end, col0, col_step, col_end;\n"
         "  double *values; unsigned long clamped; double clamped_row, clamped_col;\n"
         "} tbl_t;\n"
         "typedef struct {\n"
         "  void (*count_clamped)(const tbl_t *, unsigned long, double, double);\n"
         "  double (*hist_read)(const void *, const double *, long, int);\n"
         "  void (*exp_lanes)(size_t, const double *, double *);\n"
         "} env_t;\n"
         "typedef struct {\n"
         "  double *V; const double *P; double *U; double *D; double t;\n"
         "  const void *hist; void *const *tables;\n"
         "} ctx_t;\n");
  put(b, "_Static_assert(sizeof(pos_t) == %zu && offsetof(pos_t, fc) == %zu, \"nm_table_pos\");\n",
      sizeof(nm_table_pos), offsetof(nm_table_pos, fc));
  put(b, "_Static_assert(sizeof(tbl_t) == %zu && offsetof(tbl_t, values) == %zu && "
         "offsetof(tbl_t, clamped_col) == %zu, \"nm_table2d\");\n", sizeof(nm_table2d),
      offsetof(nm_table2d, values), offsetof(nm_table2d, clamped_col));
  put(b, "_Static_assert(sizeof(env_t) == %zu && offsetof(env_t, hist_read) == %zu && "
         "offsetof(env_t, exp_lanes) == %zu, \"nm_jit_env\");\n",
      sizeof(nm_jit_env), offsetof(nm_jit_env, hist_read), offsetof(nm_jit_env, exp_lanes));
  put(b, "_Static_assert(sizeof(ctx_t) == %zu && offsetof(ctx_t, t) == %zu && "
         "offsetof(ctx_t, tables) == %zu, \"nm_eval_ctx\");\n\n",
      sizeof(nm_eval_ctx), offsetof(nm_eval_ctx, t), offsetof(nm_eval_ctx, tables));
  /* The flags of the blocks' table locations (table2d_code.h): with GCC
  ** tuning for Sapphire Rapids (nm_jit_cc_tune_of's Intel CPUs, whose gathers
  ** fetch the corners: GCC defines __tune_sapphirerapids__) or on its AMD
  ** CPUs with 512-bit vector units (NM_JIT_WIDE), a wide program's blocks
  ** take 512-bit vectors, one per 8 lanes, which needs every value of its
  ** loops 64 bits wide (a 32-bit flag would ask for 16 lanes per vector). */
  if (wide)
    put(b, "#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && "
           "(defined(__tune_sapphirerapids__) || defined(NM_JIT_WIDE))\n"
           "#pragma GCC target(\"prefer-vector-width=512\")\n"
           "typedef int64_t nm_tbl_flag;\n#else\ntypedef int nm_tbl_flag;\n#endif\n");
  else
    put(b, "typedef int nm_tbl_flag;\n");
  /* The engine's table arithmetic, from its one text. */
  put(b, "%s\n\n", NM_TABLE2D_TEXT(tbl_t, pos_t));
  if (b->exp_one >= 0) exp_step(b);
  /* Python's modulo, as expr.c computes it. */
  put(b, "static double pymod(double a, double b)\n{\n  double r = fmod(a, b);\n"
         "  if (r != 0.0 && ((r < 0.0) != (b < 0.0))) r += b;\n  return r;\n}\n\n");
}


/* 1 when the stores cannot meet another lane's reads or stores: every access
** to V and U of the main code touches [slot, slot + lanes), and two ranges of
** the same array that a store takes part in are equal or disjoint. */
static int lane_local(const nm_program *p)
{
  long lanes = (long)p->lanes;
  for (size_t i = 0; i < p->n_ins; i++) {
    const nm_ins *w = &p->code[i];
    int arr = w->op == -1 - NM_SINK_SIGNAL ? 1 : w->op == -1 - NM_SINK_INPUT ? 2 : 0;
    if (!arr) continue;
    for (size_t j = 0; j < p->n_ins; j++) {
      const nm_ins *r = &p->code[j];
      int rarr = r->op == -1 - NM_SINK_SIGNAL || r->op == NM_OP_SIGNAL ||
                 (r->op == NM_OP_HIST && r->delay == 0) ? 1 :
                 r->op == -1 - NM_SINK_INPUT || r->op == NM_OP_INPUT ? 2 : 0;
      if (rarr == arr && r->slot != w->slot && r->slot < w->slot + lanes && w->slot < r->slot + lanes)
        return 0;
    }
  }
  return 1;
}


static const char *unary_call(int op)
{
  switch (op) {
    case NM_OP_LOG: return "log";
    case NM_OP_SQRT: return "sqrt";
    case NM_OP_TANH: return "tanh";
    case NM_OP_SIN: return "sin";
    case NM_OP_COS: return "cos";
    case NM_OP_ABS: return "fabs";
    case NM_OP_FLOOR: return "floor";
    default: return NULL;
  }
}


static const char *binary_infix(int op)
{
  switch (op) {
    case NM_OP_ADD: return "+";
    case NM_OP_SUB: return "-";
    case NM_OP_MUL: return "*";
    case NM_OP_DIV: return "/";
    case NM_OP_LT: return "<";
    case NM_OP_LE: return "<=";
    case NM_OP_GT: return ">";
    case NM_OP_GE: return ">=";
    case NM_OP_EQ: return "==";
    case NM_OP_NE: return "!=";
    default: return NULL;
  }
}


/* Lanes per block of the blocked form (below); a multiple of every SIMD width. */
#define BLOCK 8

/* The emitted form.  Scalar: a loop over lanes, each instruction a statement
** on a local double.  Blocked (programs of BLOCK lanes or more): a loop over
** blocks of lanes; the instructions run in segments, each a loop over the
** block's lanes holding a run of statements, which the C compiler turns into
** SIMD instructions (one lane per element); a register that lives across
** segments is a local array of the block's lanes (per_lane).  What does not vectorise stays out of those
** loops: a call (libm without vector forms, a delayed read) and floor (no
** vector rounding without -fno-trapping-math) get a loop of their own, exp
** one call for the block's lanes (env->exp_lanes) between loops, and
** the count of clamped table lookups waits after the block, in per-lane
** flags.  In both forms lane l sees the interpreter's operations in the
** interpreter's order; only the interleaving across lanes differs, and
** lanes share nothing (lane_local). */

/* The current lane's index expression: "l", "l + k" in a block, "0" in the one-lane form. */
static const char *lane(const buf *b) { return b->blocked ? "l + k" : b->one ? "0" : "l"; }

/* An operand: a local when the main code wrote the register before, else the
** register file (a prologue value or a constant) at a literal offset:
** register reg of lane l is R[reg * stride + l], and the stride (the lanes
** rounded up, nm_program's) is the program's as its slots are.  A load at a
** fixed displacement; the stride read at run time (the argument W) cost the
** one-lane code an address per register, computed and kept on the stack at
** every call. */
static void operand(buf *b, const unsigned char *written, int reg)
{
  if (written[reg]) put(b, b->blocked && b->wide[reg] ? "r%d[k]" : "r%d", reg);
  else put(b, "R[%zu + %s]", (size_t)reg * b->stride, lane(b));
}


/* "(c REL d ? x : y)" over registers; d < 0 is the literal 0.0. */
static void choose(buf *b, const unsigned char *written, int c, const char *rel, int d, int x, int y)
{
  put(b, "(");
  operand(b, written, c);
  put(b, "%s", rel);
  if (d >= 0) operand(b, written, d);
  else put(b, "0.0");
  put(b, " ? ");
  operand(b, written, x);
  put(b, " : ");
  operand(b, written, y);
  put(b, ")");
}


/* Table lookup k (instruction `in`) for lane l: its location (ir, ic, fr,
** fc: nm_tbl_place, or lookup share[k]'s when the grids agree), whether it
** was outside the grid, then the value.  Lane by lane the clamped lanes are
** counted at once (row, col: the first); in a block the location comes
** without branches (nm_tbl_place_sel), the flag and the point go to the
** block's arrays o, x, y, counted after the block's lanes (count()), and the
** location is always share[k]'s (the blocks run only when every shared pair has one grid; so
** does the one-lane form's first body, b->all_shared). */
static void lookup(buf *b, const nm_ins *in, const unsigned char *written, int k, const int *share)
{
  int j = share[k];
  const char *I = b->blocked ? "      " : "    ", *O = b->blocked ? "[k]" : "";
  const char *K = b->blocked && b->lwide[k] ? "[k]" : "";
  int taken = b->blocked || b->all_shared;     /* a shared location needs no test */
  if (j >= 0) {
    const char *J = b->blocked && b->lwide[j] ? "[k]" : "";
    if (taken) put(b, "%s", I);
    else put(b, "%sif (S%d) ", I, k);
    put(b, "{ ir%d%s = ir%d%s; ic%d%s = ic%d%s; fr%d%s = fr%d%s; fc%d%s = fc%d%s; o%d%s = o%d%s; }%s\n",
        k, K, j, J, k, K, j, J, k, K, j, J, k, K, j, J, k, O, j, O, taken ? "" : " else");
  }
  if (!taken || j < 0) {
    if (b->blocked) put(b, "%so%d[k] = nm_tbl_place_sel(&t%d, ", I, k, k);
    else put(b, "%so%d = nm_tbl_place(T%d, ", I, k, k);
    operand(b, written, in->a);
    put(b, ", ");
    operand(b, written, in->b);
    put(b, ", &ir%d%s, &ic%d%s, &fr%d%s, &fc%d%s);\n", k, K, k, K, k, K, k, K);
  }
  if (b->blocked) put(b, "%sx%d[k] = ", I, k);
  else put(b, "%sif (o%d && out%d++ == 0) { row%d = ", I, k, k, k);
  operand(b, written, in->a);
  put(b, b->blocked ? "; y%d[k] = " : "; col%d = ", k);
  operand(b, written, in->b);
  put(b, b->blocked ? ";\n" : "; }\n");
  if (b->all_shared && j >= 0) {
    /* On the grid of the lookup whose location this one takes at last (the
    ** same bits: all_shared), its location as it is. */
    while (share[j] >= 0) j = share[j];
    put(b, "%sr%d = nm_tbl_value_on(T%d, T%d->values, ir%d, ic%d, fr%d, fc%d);\n", I, in->dst, j, k,
        j, j, j, j);
    return;
  }
  put(b, "%sr%d%s = nm_tbl_value(%s%d, ir%d%s, ic%d%s, fr%d%s, fc%d%s);\n", I, in->dst,
      b->blocked && b->wide[in->dst] ? "[k]" : "", b->blocked ? "&t" : "T", k, k, K, k, K, k, K,
      k, K);
}


/* After a block's lanes: lookup k's clamped lanes counted in lane order. */
static void count(buf *b, int k)
{
  put(b, "    { nm_tbl_flag any = 0;\n      for (size_t k = 0; k < %d; k++) any |= o%d[k];\n"
         "      if (any)\n        for (size_t k = 0; k < %d; k++)\n"
         "          if (o%d[k] && out%d++ == 0) { row%d = x%d[k]; col%d = y%d[k]; } }\n",
      BLOCK, k, BLOCK, k, k, k, k, k, k);
}


/* 1 when instruction `in` does not vectorise (a call: libm, a delayed read;
** floor): in a block it gets a loop of its own (exp: a call of its own over
** the block's lanes, statement()). */
static int alone(const nm_ins *in)
{
  switch (in->op) {
    case NM_OP_EXP: case NM_OP_LOG: case NM_OP_TANH: case NM_OP_SIN: case NM_OP_COS:
    case NM_OP_FLOOR: case NM_OP_POW: case NM_OP_ATAN2: case NM_OP_MOD:
      return 1;
    case NM_OP_HIST:
      return in->delay != 0;
    default:
      return 0;
  }
}


/* 1 when p's blocks may take 512-bit vectors (prelude()): programs of table
** lookups without calls, as ALN's, whose loops are one; blocks that
** alternate with calls (WC's exp) were slower on 512-bit vectors (jit_job.c). */
static int wide_blocks(const nm_program *p)
{
  int tables = 0;
  if (p->lanes < BLOCK) return 0;
  for (size_t i = 0; i < p->n_ins; i++) {
    if (alone(&p->code[i])) return 0;
    tables |= p->code[i].op == NM_OP_TABLE2D;
  }
  return tables;
}


/* In a block, before a statement that goes `apart` (1), or not (0), or at
** the end (-1): closes the loop over the block's lanes that cannot take it
** and opens one.  b->open: 0 none, 1 a loop of statements that vectorise,
** 2 a loop of one statement apart.  No iteration depends on another: lanes
** share nothing (lane_local), tables and the register file are only read;
** said to the compiler (ivdep), which cannot prove it of the table values
** and the stores. */
static void segment(buf *b, int apart)
{
  if (b->open == 2 || (b->open == 1 && apart)) {
    put(b, "    }\n");
    b->open = 0;
  }
  if (apart < 0 || b->open) return;
  put(b, "#pragma GCC ivdep\n    for (size_t k = 0; k < %d; k++) {\n", BLOCK);
  b->open = apart ? 2 : 1;
}


/* One instruction as one C statement for lane l.  `look` numbers the table
** lookups; share[k] is the earlier lookup whose location lookup k reuses. */
static void statement(buf *b, const nm_ins *in, const unsigned char *written, int *look,
                      const int *share)
{
  int op = in->op;
  const char *f, *L = lane(b), *I = b->blocked ? "      " : "    ";
  if (in->dst < 0 && op != -1 - NM_SINK_DERIV && op != -1 - NM_SINK_SIGNAL &&
      op != -1 - NM_SINK_INPUT)
    return;
  if (b->blocked && op == NM_OP_EXP) {
    /* The block's lanes at once through the engine's exp (libm's bits,
    ** vectorised: exp_lanes.c), between the loops; its operand and result
    ** are arrays of the block's lanes (per_lane). */
    segment(b, -1);
    put(b, "    E->exp_lanes(%d, ", BLOCK);
    if (written[in->a]) put(b, "r%d", in->a);
    else put(b, "R + %zu + l", (size_t)in->a * b->stride);
    put(b, ", r%d);\n", in->dst);
    return;
  }
  if (b->blocked) segment(b, alone(in));
  if (op == NM_OP_TABLE2D) {
    lookup(b, in, written, (*look)++, share);
    return;
  }
  if (op == -1 - NM_SINK_DERIV || op == -1 - NM_SINK_SIGNAL || op == -1 - NM_SINK_INPUT) {
    put(b, "%s%c[%ld + %s] = ", I,
        op == -1 - NM_SINK_DERIV ? 'D' : op == -1 - NM_SINK_SIGNAL ? 'V' : 'U', in->slot, L);
    operand(b, written, in->a);
    put(b, ";\n");
    return;
  }
  put(b, "%sr%d%s = ", I, in->dst, b->blocked && b->wide[in->dst] ? "[k]" : "");
  switch (op) {
    case NM_OP_SIGNAL: put(b, "V[%ld + %s]", in->slot, L); break;
    case NM_OP_PARAM: put(b, "P[%ld + %s]", in->slot, L); break;
    case NM_OP_GPARAM: put(b, "P[%ld]", in->slot); break;
    case NM_OP_INPUT: put(b, "U[%ld + %s]", in->slot, L); break;
    case NM_OP_TIME: put(b, "t"); break;
    case NM_OP_HIST:
      if (in->delay == 0) put(b, "V[%ld + %s]", in->slot, L);
      else put(b, "E->hist_read(C->hist, V, %ld + (long)(%s), %d)", in->slot, L, in->delay);
      break;
    case NM_OP_NEG: put(b, "-"); operand(b, written, in->a); break;
    case NM_OP_EXP:
      put(b, b->exp_one >= 0 ? "nm_exp_one(" : "exp(");
      operand(b, written, in->a);
      if (b->exp_one >= 0) put(b, ", %d", b->exp_one);
      put(b, ")");
      break;
    case NM_OP_POW: case NM_OP_ATAN2: case NM_OP_MOD:
      put(b, "%s(", op == NM_OP_POW ? "pow" : op == NM_OP_ATAN2 ? "atan2" : "pymod");
      operand(b, written, in->a);
      put(b, ", ");
      operand(b, written, in->b);
      put(b, ")");
      break;
    case NM_OP_MIN: choose(b, written, in->a, " < ", in->b, in->a, in->b); break;
    case NM_OP_MAX: choose(b, written, in->a, " > ", in->b, in->a, in->b); break;
    case NM_OP_IFELSE: choose(b, written, in->a, " != ", -1, in->b, in->c); break;
    default:
      if ((f = unary_call(op))) {
        put(b, "%s(", f);
        operand(b, written, in->a);
        put(b, ")");
      } else if ((f = binary_infix(op))) {
        /* A comparison is 0 or 1 as a double, as the interpreter stores it. */
        put(b, "(double)(");
        operand(b, written, in->a);
        put(b, " %s ", f);
        operand(b, written, in->b);
        put(b, ")");
      } else {
        b->failed = 1;      /* an operation this emitter does not know: no native code */
      }
  }
  put(b, ";\n");
}


/* For each table lookup (numbered in order), the earlier lookup of the same
** operand registers, neither overwritten in between (the interpreter's table
** cache), or -1; their count in *n.  NULL when memory ran out. */
static int *lookups(const nm_program *p, int *n)
{
  int *share = calloc(p->n_ins + 1, sizeof *share), *at = malloc((p->n_ins + 1) * sizeof *at);
  if (!share || !at) { free(share); free(at); return NULL; }
  *n = 0;
  for (size_t i = 0; i < p->n_ins; i++) {
    const nm_ins *in = &p->code[i];
    if (in->op != NM_OP_TABLE2D) continue;
    int k = (*n)++;
    share[k] = -1;
    at[k] = (int)i;
    for (int j = k - 1; j >= 0; j--) {
      size_t from = (size_t)at[j], w;
      for (w = from; w < i; w++)
        if (p->code[w].dst == in->a || p->code[w].dst == in->b) break;
      if (w < i) break;           /* an operand changed since lookup j */
      if (p->code[from].a == in->a && p->code[from].b == in->b) { share[k] = j; break; }
    }
  }
  free(at);
  return share;
}


/* What a block holds per lane (b->wide, b->lwide, n_regs + 1 and n_look
** entries): a register, or a table location, that lives across segments
** (segment() numbers them as it opens them; the same rule here).  The rest
** are plain locals of the one loop that uses them, which the compiler keeps
** in SIMD registers. */
static void per_lane(const nm_program *p, const int *share, int n_look, unsigned char *wide,
                     unsigned char *lwide)
{
  int *seg_of = malloc((p->n_regs + 1) * sizeof *seg_of), *lseg = malloc((n_look + 1) * sizeof *lseg);
  if (!seg_of || !lseg) {     /* out of memory: everything per lane, which is correct */
    memset(wide, 1, p->n_regs + 1);
    memset(lwide, 1, (size_t)n_look + 1);
    free(seg_of); free(lseg);
    return;
  }
  for (size_t r = 0; r <= p->n_regs; r++) seg_of[r] = -1;
  memset(wide, 0, p->n_regs + 1);
  memset(lwide, 0, (size_t)n_look + 1);
  int seg = -1, open = 0, look = 0;
  for (size_t i = 0; i < p->n_ins; i++) {
    const nm_ins *in = &p->code[i];
    int op = in->op, sink = op == -1 - NM_SINK_DERIV || op == -1 - NM_SINK_SIGNAL ||
                            op == -1 - NM_SINK_INPUT;
    if (in->dst < 0 && !sink) continue;
    int apart = alone(in);
    if (open == 2 || (open == 1 && apart)) open = 0;
    if (!open) { seg++; open = apart ? 2 : 1; }
    int regs[4] = { in->a, in->b, in->c, in->dst };
    for (int r = 0; r < 4; r++) {
      if (regs[r] < 0 || (size_t)regs[r] > p->n_regs) continue;
      if (seg_of[regs[r]] < 0) seg_of[regs[r]] = seg;
      else if (seg_of[regs[r]] != seg) wide[regs[r]] = 1;
      if (op == NM_OP_EXP) wide[regs[r]] = 1;     /* exp_lanes takes arrays */
    }
    if (op == NM_OP_TABLE2D) {
      lseg[look] = seg;
      if (share[look] >= 0 && lseg[share[look]] != seg) lwide[share[look]] = 1;
      look++;
    }
  }
  free(seg_of);
  free(lseg);
}


/* One loop over lanes from l on: blocks of BLOCK lanes (b->blocked) or single
** lanes, its locals declared inside (in a block, arrays of its lanes where
** b->wide, b->lwide say); `written` is scratch (n_regs + 1).  `head` opens
** the lane-by-lane form's loop, or its one lane's block (b->one). */
static void lane_loop(buf *b, const nm_program *p, unsigned char *written, const int *share,
                      int n_look, const char *head)
{
  char A[16];                       /* the array suffix of a value held per lane */
  snprintf(A, sizeof A, "[%d]", BLOCK);
  if (b->blocked) {
    /* The blocks' lookups read a local copy of each table's grid and values
    ** (t), which the compiler knows no store reaches; counts go to T. */
    for (int k = 0; k < n_look; k++)
      put(b, "  const tbl_t t%d = { T%d->n_rows, T%d->n_cols, T%d->row0, T%d->row_step, T%d->row_end, "
             "T%d->col0, T%d->col_step, T%d->col_end, T%d->values, 0, 0.0, 0.0 };\n",
          k, k, k, k, k, k, k, k, k, k);
    put(b, "  for (; l + %d <= l1; l += %d) {\n", BLOCK, BLOCK);
    for (int k = 0; k < n_look; k++)
      put(b, "    nm_tbl_flag o%d[%d]; double x%d[%d], y%d[%d];\n", k, BLOCK, k, BLOCK, k, BLOCK);
  } else {
    put(b, "%s", head);
  }
  for (int k = 0; k < n_look; k++) {
    const char *W = b->blocked && b->lwide[k] ? A : "";
    put(b, "    size_t ir%d%s, ic%d%s; double fr%d%s, fc%d%s;", k, W, k, W, k, W, k, W);
    if (!b->blocked) put(b, " int o%d;", k);
    put(b, "\n");
  }
  /* Locals for the registers the main code writes. */
  memset(written, 0, p->n_regs + 1);
  for (size_t i = 0; i < p->n_ins; i++) {
    int d = p->code[i].dst;
    if (d >= 0 && !written[d]) {
      written[d] = 1;
      put(b, "    double r%d%s;\n", d, b->blocked && b->wide[d] ? A : "");
    }
  }
  memset(written, 0, p->n_regs + 1);
  int look = 0;
  for (size_t i = 0; i < p->n_ins; i++) {
    statement(b, &p->code[i], written, &look, share);
    if (p->code[i].dst >= 0) written[p->code[i].dst] = 1;
  }
  if (b->blocked) {
    segment(b, -1);
    for (int k = 0; k < n_look; k++) count(b, k);
  }
  put(b, "  }\n");
}


char *nm_jit_emit(const nm_program *p)
{
  if (!lane_local(p)) return NULL;
  buf b = { NULL, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, p->stride, exp_one_of(p) };
  unsigned char *written = calloc(p->n_regs + 1, 1);
  if (!written) return NULL;
  prelude(&b, wide_blocks(p));
  /* One lane (a single node): one long run of scalar statements, whose
  ** values GCC's default schedule keeps alive far apart (and RTL GCSE longer
  ** still), so that a third of the code went to spilling them; scheduled
  ** before register allocation with an eye on the registers, and without
  ** GCSE, ALN's node step takes 7 % less time.  (Options of the schedule
  ** only: each operation rounds as before.) */
  if (p->lanes == 1)
    put(&b, "#if defined(__GNUC__) && !defined(__clang__)\n"
            "#pragma GCC optimize (\"schedule-insns\", \"sched-pressure\", \"no-gcse\")\n#endif\n");
  put(&b, "void nm_jit_main(const env_t *E, const double *R, size_t W, const ctx_t *C, "
          "size_t l0, size_t l1)\n{\n"
          "  double *restrict V = C->V; const double *restrict P = C->P; double *restrict U = C->U;\n"
          "  double *restrict D = C->D;\n"
          "  const double t = C->t;\n  (void)V; (void)P; (void)U; (void)D; (void)t; (void)R; (void)W;\n");
  /* Per table lookup: its table, the lanes outside its grid (counted as the
  ** interpreter counts them, reported after the lanes) and whether it may
  ** reuse an earlier lookup's location (same point, same grid). */
  int n_look = 0;
  int *share = lookups(p, &n_look);
  if (!share) { free(written); free(b.s); return NULL; }
  for (int k = 0, i = 0; k < n_look; i++) {
    if (p->code[i].op != NM_OP_TABLE2D) continue;
    put(&b, "  const tbl_t *T%d = C->tables[%ld];\n"
            "  unsigned long out%d = 0; double row%d = 0.0, col%d = 0.0;\n",
        k, p->code[i].slot, k, k, k);
    if (share[k] >= 0) put(&b, "  const int S%d = nm_tbl_same_grid(T%d, T%d);\n", k, share[k], k);
    k++;
  }
  /* Whole blocks of lanes first, then the lanes left over one by one: lanes
  ** are visited in order, so the first clamped lane is the interpreter's. */
  put(&b, "  size_t l = l0;\n");
  unsigned char *wide = malloc(p->n_regs + 1), *lwide = malloc((size_t)n_look + 1);
  if (!wide || !lwide) b.failed = 1;
  else if (p->lanes >= BLOCK) {
    per_lane(p, share, n_look, wide, lwide);
    b.wide = wide;
    b.lwide = lwide;
    /* Blocks take every shared location as it is: they run when each
    ** shared pair has the same grid (else the lanes go one by one). */
    put(&b, "  if (1");
    for (int k = 0; k < n_look; k++)
      if (share[k] >= 0) put(&b, " && S%d", k);
    put(&b, ") {\n");
    b.blocked = 1;
    lane_loop(&b, p, written, share, n_look, NULL);
    b.blocked = 0;
    put(&b, "  }\n");
  }
  if (p->lanes == 1) {
    /* One lane (a single node): no loop, its registers at literal offsets;
    ** a body that takes the shared locations as they are when every shared
    ** pair has one grid (ALN's tables), else one that asks pair by pair.
    ** (A node's code is short: the tests and the branches they leave
    ** around the lookups were a tenth of ALN's.) */
    b.one = 1;
    int pairs = 0;
    put(&b, "  (void)l;\n  if (l0 < l1");
    for (int k = 0; k < n_look; k++)
      if (share[k] >= 0) { put(&b, " && S%d", k); pairs = 1; }
    put(&b, ") {\n");
    if (pairs) {
      b.all_shared = 1;
      lane_loop(&b, p, written, share, n_look, "");
      b.all_shared = 0;
      lane_loop(&b, p, written, share, n_look, "  else if (l0 < l1) {\n");
    } else {
      lane_loop(&b, p, written, share, n_look, "");
    }
    b.one = 0;
  } else {
    lane_loop(&b, p, written, share, n_look, "  for (; l < l1; l++) {\n");
  }
  /* Reported only when some lane fell outside (the call is not free on
  ** every evaluation of a single node). */
  for (int k = 0; k < n_look; k++)
    put(&b, "  if (out%d) E->count_clamped(T%d, out%d, row%d, col%d);\n", k, k, k, k, k);
  put(&b, "}\n");
  free(written);
  free(share);
  free(wide);
  free(lwide);
  if (b.failed) { free(b.s); return NULL; }
  return b.s;
}
