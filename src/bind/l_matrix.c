/*
** l_matrix.c: the Lua library's n x n matrices (arrays of rows, as the user
** gives Cmat and Dmat) handled in C, one pass each instead of Lua loops over
** n^2 entries, and numeric CSV matrices read in C (matrix_read.c).  Entries
** are read as Lua code reads them (`#m`, `m[i][j]`: metamethods honoured).
**   core.matrix_check(m, n, nonneg, pack) -> true [, packed] | false, why, i, j
**     whether m is an n x n matrix of finite numbers (>= 0 with nonneg); why:
**     "shape" (m is not a table of n rows), "row" (row i is not a table of n
**     entries), "finite" (m[i][j] is not a finite number), "negative"; with
**     pack (true, or an earlier pack), also the entries as doubles (row-major)
**     in a pack (a userdata): that earlier pack itself when they are the same bits,
**     else a new one (so that rawequal tells whether the matrix changed);
**   core.matrix_copy(m, n) -> a new n x n matrix of the same values;
**   core.matrix_derive(pack, n, how [, x]) -> a derived pack, finite, nonneg:
**     the entries of the pack read through a rule, without a copy of them
**     (it keeps the pack alive), and whether they are all finite, all >= 0:
**     how = "zero_diagonal" (0 on the diagonal: a native model's
**     connectivity), "square" (each entry squared, as Lua's m[i][j] *
**     m[i][j]: ALN's matrix = "square"), "div" (each divided by x, as Lua's
**     m[i][j] / x: delays from lengths and a speed), "zeros" (every entry 0;
**     no pack: pack may be nil).  A derived pack may be squared, nothing else;
**   core.matrix_row(pack, n, i) -> row i of a pack (derived or not) as a new
**     Lua array of n floats;
**   core.matrix_zero_diagonal(m, n) -> whether every m[i][i] is 0;
**   core.matrix_zeros(n) -> a new n x n matrix of integer zeros;
**   core.matrix_rows(W, D, rows, signal, dt, max_delay) -> crs, longest | nil, i, j
**     the compressed rows of a network coupling (compile.lua's rule_rows), in
**     a userdata that m:add_coupling{ rows = crs } takes as they are;
**     crs:tables() -> src, delay, weight, row_ptr, the same as Lua arrays:
**     for each row i of the list `rows`, the entries j of W[i] that are not 0
**     and whose node has a signal (signal[j], an integer, or false): src =
**     signal[j], delay = D[i][j] / dt rounded half to even (delay_steps below),
**     weight = W[i][j] (a float); row_ptr (from 0) where each row ends.  W
**     and D are n x n matrices (n = #signal) or their packs (matrix_check),
**     derived or not.  longest: the largest D[i][j] (ms) of the entries
**     taken (0 when none), which says whether delays meant to be there all
**     round to 0 steps (run/delay_units.lua).
**     A delay of more than max_delay steps (or not finite) stops it: nil
**     and that i, j;
**   core.read_matrix(path) -> rows (an array of rows), lines (the file's
**     line of each row, from 1) | nil, message (nm_matrix_read: the message
**     names the file, line and column).
*/
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bind.h"

/* The size argument at i: a count of rows. */
static lua_Integer check_size(lua_State *L, int i)
{
  lua_Integer n = luaL_checkinteger(L, i);
  luaL_argcheck(L, n >= 0 && (lua_Unsigned)n <= ((size_t)-1) / sizeof(double) / (size_t)(n ? n : 1),
                i, "bad matrix size");
  return n;
}

/* A pack: the entries of an n x n matrix as doubles, row-major, in memory of
** its own (malloc'd, freed by __gc) so that the collector does not count
** its megabytes as Lua's and run more often for them.  A derived pack
** (matrix_derive) reads the entries of another pack, its uservalue, through
** a rule: `v` is that pack's memory, not its own. */
#define NM_PACK_MT "neuromass.MatrixPack"
typedef struct {
  double *v;
  size_t count;
  int derived;          /* v belongs to the pack in the uservalue */
  int zero_diagonal;    /* the diagonal reads 0 */
  int square;           /* each entry reads squared (after zero_diagonal) */
  double div;           /* when not 0, each entry reads divided by div (last) */
  int zeros;            /* every entry reads 0 (v is NULL) */
} pack_box;

static int pack_gc(lua_State *L)
{
  pack_box *b = luaL_checkudata(L, 1, NM_PACK_MT);
  if (!b->derived) free(b->v);
  b->v = NULL;
  b->count = 0;
  return 0;
}

/* A new pack box (no entries yet), pushed. */
static pack_box *new_box(lua_State *L)
{
  pack_box *b = lua_newuserdatauv(L, sizeof *b, 1);
  memset(b, 0, sizeof *b);
  luaL_setmetatable(L, NM_PACK_MT);
  return b;
}

/* Memory for `bytes` that is about to be written whole (a pack, coupling
** rows), freed by free().  Blocks of 2 MB and more are asked for in huge
** pages where the kernel gives them on request (transparent huge pages,
** "madvise"): fresh memory costs a page fault per page touched, 512 times
** fewer with 2 MB pages (a 1000-node matrix's 8 MB took 2,000 faults, about
** 20 ms on a virtual machine, against 4). */
#define HUGE_PAGE ((size_t)2 << 20)
static void *big_alloc(size_t bytes)
{
  if (bytes < HUGE_PAGE) return malloc(bytes ? bytes : 1);
  if (bytes > SIZE_MAX - HUGE_PAGE) return NULL;
  size_t whole = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
  void *p = aligned_alloc(HUGE_PAGE, whole);
#ifdef MADV_HUGEPAGE
  if (p) madvise(p, whole, MADV_HUGEPAGE);          /* (advice: refused, nothing changes) */
#endif
  return p;
}

/* A new pack of `count` doubles (uninitialised), pushed. */
static double *new_pack(lua_State *L, size_t count)
{
  pack_box *b = new_box(L);
  b->v = big_alloc(count * sizeof *b->v);
  if (!b->v) luaL_error(L, "not enough memory");
  b->count = count;
  return b->v;
}

/* The pack (derived or not) of `count` entries at i, or NULL. */
static const pack_box *any_pack_at(lua_State *L, int i, size_t count)
{
  pack_box *b = luaL_testudata(L, i, NM_PACK_MT);
  return b && b->count == count ? b : NULL;
}

/* The doubles of the pack (not derived) of `count` entries at i, or NULL. */
static const double *pack_at(lua_State *L, int i, size_t count)
{
  const pack_box *b = any_pack_at(L, i, count);
  return b && !b->derived ? b->v : NULL;
}

/* Entry (i, j), from 0, of pack b of an n x n matrix, read through its rule:
** the value Lua's arithmetic gave on the entry (the same bits). */
static double pack_entry(const pack_box *b, size_t n, size_t i, size_t j)
{
  if (b->zeros) return 0;
  double v = b->v[i * n + j];
  if (b->zero_diagonal && i == j) v = 0;
  if (b->square) v = v * v;
  if (b->div != 0) v = v / b->div;
  return v;
}

static int fail(lua_State *L, const char *why, lua_Integer i, lua_Integer j)
{
  lua_pushboolean(L, 0);
  lua_pushstring(L, why);
  if (i) lua_pushinteger(L, i); else lua_pushnil(L);
  if (j) lua_pushinteger(L, j); else lua_pushnil(L);
  return 4;
}

static int matrix_check(lua_State *L)
{
  lua_Integer n = check_size(L, 2);
  int nonneg = lua_toboolean(L, 3), pack = lua_toboolean(L, 4);
  size_t count = (size_t)(n * n);
  const double *prev = pack_at(L, 4, count);
  lua_settop(L, 4);
  if (!lua_istable(L, 1) || luaL_len(L, 1) != n) return fail(L, "shape", 0, 0);
  /* The pack: prev itself while the entries equal its, bit for bit; a new
  ** pack (prev's prefix copied) from the first that differs. */
  double *out = pack && !prev ? new_pack(L, count) : NULL;
  /* A row's entries are pushed, then read: fewer calls than a pop per entry. */
  if (!lua_checkstack(L, (int)(n < 1000000 ? n : 1000000) + 4))
    return luaL_error(L, "matrix_check: out of memory");
  int top = lua_gettop(L), row = top + 1;
  for (lua_Integer i = 1; i <= n; i++) {
    lua_geti(L, 1, i);
    if (!lua_istable(L, row) || luaL_len(L, row) != n) return fail(L, "row", i, 0);
    lua_Integer not_number = n + 1;                   /* the first entry that is not a number */
    for (lua_Integer j = 1; j <= n; j++) {
      if (lua_geti(L, row, j) != LUA_TNUMBER && not_number > n) not_number = j;
    }
    size_t at = (size_t)((i - 1) * n);
    for (lua_Integer j = 1; j <= n; j++, at++) {
      if (j == not_number) return fail(L, "finite", i, j);
      lua_Number v = lua_tonumberx(L, row + (int)j, NULL);
      if (!isfinite(v)) return fail(L, "finite", i, j);
      if (nonneg && v < 0) return fail(L, "negative", i, j);
      if (out) out[at] = v;
      else if (prev && memcmp(&prev[at], &v, sizeof v) != 0) {
        lua_settop(L, top);                           /* room below the row */
        out = new_pack(L, count);
        memcpy(out, prev, at * sizeof *out);
        out[at] = v;
        lua_replace(L, 4);                            /* prev is not read again */
        lua_geti(L, 1, i);                            /* the row again */
        for (lua_Integer k = 1; k <= n; k++) lua_geti(L, row, k);
      }
    }
    lua_settop(L, top);
  }
  lua_pushboolean(L, 1);
  if (!pack) return 1;
  if (prev && !out) lua_pushvalue(L, 4);              /* unchanged */
  else lua_pushvalue(L, prev ? 4 : 5);
  return 2;
}

/* A new n x n matrix, pushed: the entries of the one at index 1 (values as
** they are) when `from`, else integer zeros. */
static int new_matrix(lua_State *L, lua_Integer n, int from)
{
  if (!lua_checkstack(L, (int)(n < 1000000 ? n : 1000000) + 4))
    return luaL_error(L, "matrix: out of memory");
  lua_createtable(L, (int)n, 0);
  int out = lua_gettop(L), row = out + 2;
  for (lua_Integer i = 1; i <= n; i++) {
    lua_createtable(L, (int)n, 0);                    /* at out + 1 */
    if (from) {
      lua_geti(L, 1, i);                              /* the source row, at row */
      for (lua_Integer j = 1; j <= n; j++) lua_geti(L, row, j);
    }
    for (lua_Integer j = 1; j <= n; j++) {
      if (from) lua_pushvalue(L, row + (int)j);
      else lua_pushinteger(L, 0);
      lua_rawseti(L, out + 1, j);
    }
    lua_settop(L, out + 1);
    lua_rawseti(L, out, i);
  }
  return 1;
}

static int matrix_copy(lua_State *L)
{
  lua_Integer n = check_size(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  return new_matrix(L, n, 1);
}

/* The pack (derived or not) of an n x n matrix at index i, or an error. */
static const pack_box *check_pack(lua_State *L, int i, lua_Integer n)
{
  const pack_box *b = any_pack_at(L, i, (size_t)(n * n));
  if (!b) luaL_argerror(L, i, "expected the pack of an n x n matrix");
  return b;
}

static int matrix_derive(lua_State *L)
{
  static const char *const hows[] = { "zero_diagonal", "square", "div", "zeros", NULL };
  lua_Integer n = check_size(L, 2);
  int how = luaL_checkoption(L, 3, NULL, hows);
  const pack_box *from = how == 3 ? NULL : check_pack(L, 1, n);
  double x = how == 2 ? luaL_checknumber(L, 4) : 0;
  /* (the rules apply in pack_entry's order: only a square may follow another rule) */
  luaL_argcheck(L, !from || !from->derived || (how == 1 && !from->square && from->div == 0), 1,
                "this derived pack cannot be derived again that way");
  luaL_argcheck(L, how != 2 || x != 0, 4, "the divisor must not be 0");
  lua_settop(L, 4);
  pack_box *b = new_box(L);                                   /* 5 */
  if (from) *b = *from;
  b->derived = 1;
  if (how == 0) b->zero_diagonal = 1;
  else if (how == 1) b->square = 1;
  else if (how == 2) b->div = x;
  else {
    b->zeros = 1;
    b->count = (size_t)(n * n);
    lua_pushboolean(L, 1);
    lua_pushboolean(L, 1);
    return 3;
  }
  /* the pack whose memory this one reads: its own base when derived */
  if (from->derived) lua_getiuservalue(L, 1, 1); else lua_pushvalue(L, 1);
  lua_setiuservalue(L, 5, 1);
  int finite = 1, nonneg = 1;
  for (size_t i = 0; i < (size_t)n; i++)
    for (size_t j = 0; j < (size_t)n; j++) {
      double v = pack_entry(b, (size_t)n, i, j);
      finite = finite && isfinite(v);
      nonneg = nonneg && !(v < 0);
    }
  lua_pushboolean(L, finite);
  lua_pushboolean(L, nonneg);
  return 3;
}

static int matrix_row(lua_State *L)
{
  lua_Integer n = check_size(L, 2);
  const pack_box *b = check_pack(L, 1, n);
  lua_Integer i = luaL_checkinteger(L, 3);
  luaL_argcheck(L, i >= 1 && i <= n, 3, "row index out of range");
  lua_createtable(L, (int)n, 0);
  for (lua_Integer j = 1; j <= n; j++) {
    lua_pushnumber(L, pack_entry(b, (size_t)n, (size_t)(i - 1), (size_t)(j - 1)));
    lua_rawseti(L, -2, j);
  }
  return 1;
}

static int matrix_zero_diagonal(lua_State *L)
{
  lua_Integer n = check_size(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  int zero = 1;
  for (lua_Integer i = 1; i <= n && zero; i++) {
    lua_geti(L, 1, i);
    zero = lua_geti(L, -1, i) == LUA_TNUMBER && lua_tonumber(L, -1) == 0;
    lua_pop(L, 2);
  }
  lua_pushboolean(L, zero);
  return 1;
}

static int matrix_zeros(lua_State *L)
{
  lua_Integer n = check_size(L, 1);
  lua_settop(L, 0);
  return new_matrix(L, n, 0);
}

/* numpy's rounding (half to even) of a delay in ms to whole steps of dt: the
** one rule (layout.delay_steps calls it through core.delay_steps). */
static double delay_steps(double ms, double dt)
{
  double x = ms / dt, r = floor(x), d = x - r;
  /* d == 0.5 only below 2^52, where r converts exactly: r % 2 == 1 is its low bit. */
  if (d > 0.5 || (d == 0.5 && ((long long)r & 1))) r = r + 1;
  return r;
}

/* core.delay_steps(ms, dt) -> delay_steps(ms, dt), a float (inf and NaN kept). */
static int core_delay_steps(lua_State *L)
{
  lua_pushnumber(L, delay_steps(luaL_checknumber(L, 1), luaL_checknumber(L, 2)));
  return 1;
}

/* Compressed coupling rows (matrix_rows) in memory of their own (nmL_rows,
** bind.h), freed by __gc. */
static int rows_gc(lua_State *L)
{
  nmL_rows *r = luaL_checkudata(L, 1, NMl_ROWS_MT);
  free(r->row_ptr);
  free(r->src);
  free(r->delay);
  free(r->weight);
  memset(r, 0, sizeof *r);
  return 0;
}

nmL_rows *nmL_torows(lua_State *L, int i)
{
  return luaL_testudata(L, i, NMl_ROWS_MT);
}

/* crs:tables() -> src, delay, weight, row_ptr: the rows as Lua arrays. */
static int rows_tables(lua_State *L)
{
  const nmL_rows *r = luaL_checkudata(L, 1, NMl_ROWS_MT);
  if (!r->row_ptr) return luaL_error(L, "these coupling rows were given to a model already");
  for (int f = 0; f < 3; f++) {
    lua_createtable(L, (int)r->n_terms, 0);
    for (size_t q = 0; q < r->n_terms; q++) {
      if (f == 0) lua_pushinteger(L, r->src[q]);
      else if (f == 1) lua_pushinteger(L, r->delay[q]);
      else lua_pushnumber(L, r->weight[q]);
      lua_rawseti(L, -2, (lua_Integer)q + 1);
    }
  }
  lua_createtable(L, (int)r->n_rows + 1, 0);
  for (size_t l = 0; l <= r->n_rows; l++) {
    lua_pushinteger(L, (lua_Integer)r->row_ptr[l]);
    lua_rawseti(L, -2, (lua_Integer)l + 1);
  }
  return 4;
}

/* An n x n matrix read entry by entry: from its pack (derived or not), or
** from the table itself (one row at a time, on the stack). */
typedef struct {
  const pack_box *pack;
  int t, row;           /* the table's stack index; where its current row is pushed */
} source;

static source source_at(lua_State *L, int i, lua_Integer n)
{
  source s = { any_pack_at(L, i, (size_t)(n * n)), i, 0 };
  if (!s.pack) luaL_checktype(L, i, LUA_TTABLE);
  return s;
}

/* Pushes row i (from 1) of a table source (nothing for a pack). */
static void source_row(lua_State *L, source *s, lua_Integer i)
{
  if (s->pack) return;
  lua_geti(L, s->t, i);
  s->row = lua_gettop(L);
}

/* Entry (i, j), from 1, of the source (its row pushed by source_row). */
static double source_entry(lua_State *L, const source *s, lua_Integer n, lua_Integer i, lua_Integer j)
{
  if (s->pack) return pack_entry(s->pack, (size_t)n, (size_t)(i - 1), (size_t)(j - 1));
  lua_geti(L, s->row, j);
  double v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return v;
}

static int matrix_rows(lua_State *L)
{
  luaL_checktype(L, 3, LUA_TTABLE);
  luaL_checktype(L, 4, LUA_TTABLE);
  double dt = luaL_checknumber(L, 5), max_delay = luaL_checknumber(L, 6);
  if (!(max_delay <= INT_MAX)) max_delay = INT_MAX;              /* (the delays are ints) */
  lua_Integer n_rows = luaL_len(L, 3), n = luaL_len(L, 4);
  source W = source_at(L, 1, n), D = source_at(L, 2, n);
  lua_settop(L, 6);
  nmL_rows *r = lua_newuserdatauv(L, sizeof *r, 0);                                   /* 7 */
  memset(r, 0, sizeof *r);
  luaL_setmetatable(L, NMl_ROWS_MT);
  lua_Integer *signal = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof *signal, 0);    /* 8 */
  lua_Integer *at = lua_newuserdatauv(L, (size_t)(n_rows + 1) * sizeof *at, 0);       /* 9 */
  for (lua_Integer j = 1; j <= n; j++) {
    lua_geti(L, 4, j);
    signal[j] = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -1;
    lua_pop(L, 1);
  }
  for (lua_Integer l = 1; l <= n_rows; l++) {
    lua_geti(L, 3, l);
    at[l] = lua_tointeger(L, -1);
    lua_pop(L, 1);
    luaL_argcheck(L, at[l] >= 1 && at[l] <= n, 3, "row index out of range");
  }
  /* Two passes over W: the terms counted, then written (no array that grows). */
  size_t k = 0;
  double longest = 0;
  for (int pass = 0; pass < 2; pass++) {
    if (pass == 1) {
      r->n_rows = (size_t)n_rows;
      r->n_terms = k;
      r->row_ptr = big_alloc(((size_t)n_rows + 1) * sizeof *r->row_ptr);
      r->src = big_alloc((k + 1) * sizeof *r->src);
      r->delay = big_alloc((k + 1) * sizeof *r->delay);
      r->weight = big_alloc((k + 1) * sizeof *r->weight);
      if (!r->row_ptr || !r->src || !r->delay || !r->weight)
        return luaL_error(L, "matrix_rows: not enough memory for %I terms", (lua_Integer)k);
      r->row_ptr[0] = 0;
      k = 0;
    }
    for (lua_Integer l = 1; l <= n_rows; l++) {
      lua_Integer i = at[l];
      source_row(L, &W, i);
      if (pass == 1) source_row(L, &D, i);
      for (lua_Integer j = 1; j <= n; j++) {
        if (signal[j] < 0) continue;
        double w = source_entry(L, &W, n, i, j);
        if (w == 0) continue;
        if (pass == 1) {
          double ms = source_entry(L, &D, n, i, j), steps = delay_steps(ms, dt);
          if (ms > longest) longest = ms;
          if (!(steps <= max_delay)) {
            lua_pushnil(L);
            lua_pushinteger(L, i);
            lua_pushinteger(L, j);
            return 3;
          }
          r->src[k] = (long)signal[j];
          r->delay[k] = (int)steps;
          r->weight[k] = w;
        }
        k++;
      }
      lua_settop(L, 9);
      if (pass == 1) r->row_ptr[l] = k;
    }
  }
  lua_settop(L, 7);
  lua_pushnumber(L, longest);
  return 2;
}

static int read_matrix(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  nm_matrix m;
  nm_error err;
  nm_error_clear(&err);
  int status = nm_matrix_read(path, &m, &err);
  if (status != NM_OK) {
    lua_pushnil(L);
    lua_pushstring(L, nm_error_text(&err, status));
    return 2;
  }
  /* Copied into a userdata first, so that a Lua error while the tables are
  ** made (out of memory) leaks nothing. */
  size_t cells = m.rows * m.cols;
  double *v = lua_newuserdatauv(L, cells * sizeof(double) + m.rows * sizeof(long) + cells + 1, 0);
  long *lines = (long *)(v + cells);
  unsigned char *is_int = (unsigned char *)(lines + m.rows);
  if (cells) {
    memcpy(v, m.v, cells * sizeof(double));
    memcpy(is_int, m.is_int, cells);
  }
  if (m.rows) memcpy(lines, m.line, m.rows * sizeof(long));
  size_t rows = m.rows, cols = m.cols;
  nm_matrix_free(&m);
  lua_createtable(L, (int)rows, 0);
  for (size_t i = 0; i < rows; i++) {
    lua_createtable(L, (int)cols, 0);
    for (size_t j = 0; j < cols; j++) {
      size_t k = i * cols + j;
      if (is_int[k]) lua_pushinteger(L, (lua_Integer)v[k]);
      else lua_pushnumber(L, v[k]);
      lua_rawseti(L, -2, (lua_Integer)j + 1);
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_createtable(L, (int)rows, 0);
  for (size_t i = 0; i < rows; i++) {
    lua_pushinteger(L, lines[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 2;
}

void nmL_open_matrix(lua_State *L)
{
  static const luaL_Reg none[] = { { NULL, NULL } };
  nmL_newclass(L, NM_PACK_MT, none, pack_gc, NULL);
  static const luaL_Reg rows_methods[] = { { "tables", rows_tables }, { NULL, NULL } };
  nmL_newclass(L, NMl_ROWS_MT, rows_methods, rows_gc, NULL);
  static const luaL_Reg f[] = {
    { "matrix_check", matrix_check }, { "matrix_copy", matrix_copy },
    { "matrix_zeros", matrix_zeros },
    { "matrix_derive", matrix_derive }, { "matrix_row", matrix_row },
    { "matrix_rows", matrix_rows }, { "matrix_zero_diagonal", matrix_zero_diagonal },
    { "read_matrix", read_matrix }, { "delay_steps", core_delay_steps }, { NULL, NULL },
  };
  luaL_setfuncs(L, f, 0);
}
