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
**   core.matrix_copy(m, n [, diagonal]) -> a new n x n matrix of the same
**     values (diagonal, when given, on the diagonal);
**   core.matrix_div(m, n, x) -> a new matrix m[i][j] / x (Lua's `/`), and
**     whether all its entries are finite; m may be a pack (matrix_check);
**   core.matrix_zero_diagonal(m, n) -> whether every m[i][i] is 0;
**   core.matrix_zeros(n) -> a new n x n matrix of integer zeros;
**   core.matrix_rows(W, D, rows, signal, dt, max_delay)
**       -> src, delay, weight, row_ptr | nil, i, j
**     the compressed rows of a network coupling (compile.lua's rule_rows):
**     for each row i of the list `rows`, the entries j of W[i] that are not 0
**     and whose node has a signal (signal[j], an integer, or false): src =
**     signal[j], delay = D[i][j] / dt rounded half to even (delay_steps below),
**     weight = W[i][j] (a float); row_ptr (from 0) where each row ends.  W
**     and D are n x n matrices (n = #signal) or their packs (matrix_check).
**     A delay of more than max_delay steps (or not finite) stops it: nil
**     and that i, j;
**   core.read_matrix(path) -> rows (an array of rows) | nil, message
**     (nm_matrix_read: the message names the file, line and column).
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
** its megabytes as Lua's and run more often for them. */
#define NM_PACK_MT "neuromass.MatrixPack"
typedef struct {
  double *v;
  size_t count;
} pack_box;

static int pack_gc(lua_State *L)
{
  pack_box *b = luaL_checkudata(L, 1, NM_PACK_MT);
  free(b->v);
  b->v = NULL;
  b->count = 0;
  return 0;
}

/* A new pack of `count` doubles (uninitialised), pushed. */
static double *new_pack(lua_State *L, size_t count)
{
  pack_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->v = NULL;
  b->count = 0;
  luaL_setmetatable(L, NM_PACK_MT);
  b->v = malloc(count ? count * sizeof *b->v : 1);
  if (!b->v) luaL_error(L, "not enough memory");
  b->count = count;
  return b->v;
}

/* The doubles of the pack of `count` entries at i, or NULL. */
static const double *pack_at(lua_State *L, int i, size_t count)
{
  pack_box *b = luaL_testudata(L, i, NM_PACK_MT);
  return b && b->count == count ? b->v : NULL;
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

/* A new n x n matrix from the one at index 1 (none when !from): its
** entries, divided by *div when div is not NULL; the diagonal is the value at
** index `diag` when that is not 0; integer zeros when !from. */
static int new_matrix(lua_State *L, lua_Integer n, int from, int diag, const lua_Number *div)
{
  if (!lua_checkstack(L, (int)(n < 1000000 ? n : 1000000) + 4))
    return luaL_error(L, "matrix: out of memory");
  lua_createtable(L, (int)n, 0);
  int out = lua_gettop(L), row = out + 2, finite = 1;
  for (lua_Integer i = 1; i <= n; i++) {
    lua_createtable(L, (int)n, 0);                    /* at out + 1 */
    if (from) {
      lua_geti(L, 1, i);                              /* the source row, at row */
      for (lua_Integer j = 1; j <= n; j++) lua_geti(L, row, j);
    }
    for (lua_Integer j = 1; j <= n; j++) {
      if (diag && i == j) lua_pushvalue(L, diag);
      else if (!from) lua_pushinteger(L, 0);
      else if (div) {
        lua_Number v = lua_tonumber(L, row + (int)j) / *div;
        finite = finite && isfinite(v);
        lua_pushnumber(L, v);
      }
      else lua_pushvalue(L, row + (int)j);
      lua_rawseti(L, out + 1, j);
    }
    lua_settop(L, out + 1);
    lua_rawseti(L, out, i);
  }
  if (!div) return 1;
  lua_pushboolean(L, finite);
  return 2;
}

static int matrix_copy(lua_State *L)
{
  lua_Integer n = check_size(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 3);
  return new_matrix(L, n, 1, lua_isnil(L, 3) ? 0 : 3, NULL);
}

static int matrix_div(lua_State *L)
{
  lua_Integer n = check_size(L, 2);
  lua_Number x = luaL_checknumber(L, 3);
  const double *p = pack_at(L, 1, (size_t)(n * n));
  if (!p) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 3);
    return new_matrix(L, n, 1, 0, &x);
  }
  /* From a pack: its doubles are what lua_tonumber gave for the entries. */
  int finite = 1;
  lua_createtable(L, (int)n, 0);
  for (lua_Integer i = 0; i < n; i++) {
    lua_createtable(L, (int)n, 0);
    for (lua_Integer j = 0; j < n; j++) {
      lua_Number v = p[i * n + j] / x;
      finite = finite && isfinite(v);
      lua_pushnumber(L, v);
      lua_rawseti(L, -2, j + 1);
    }
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushboolean(L, finite);
  return 2;
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
  return new_matrix(L, n, 0, 0, NULL);
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

/* The pack (matrix_check) of an n x n matrix at index i, or NULL when i
** holds the matrix itself (a table). */
static const double *packed(lua_State *L, int i, lua_Integer n)
{
  const double *p = pack_at(L, i, (size_t)(n * n));
  if (!p) luaL_checktype(L, i, LUA_TTABLE);
  return p;
}

/* A growing array of terms in a userdata at stack index `at` (replaced when it grows). */
typedef struct {
  lua_Integer src, delay;
  double weight;
} term;

static term *grow(lua_State *L, int at, term *old, size_t n, size_t *cap)
{
  size_t ncap = *cap ? *cap * 2 : 4096;
  term *t = lua_newuserdatauv(L, ncap * sizeof *t, 0);
  if (n) memcpy(t, old, n * sizeof *t);
  lua_replace(L, at);
  *cap = ncap;
  return t;
}

static int matrix_rows(lua_State *L)
{
  luaL_checktype(L, 3, LUA_TTABLE);
  luaL_checktype(L, 4, LUA_TTABLE);
  double dt = luaL_checknumber(L, 5), max_delay = luaL_checknumber(L, 6);
  lua_Integer n_rows = luaL_len(L, 3), n = luaL_len(L, 4);
  const double *W = packed(L, 1, n), *D = packed(L, 2, n);
  lua_settop(L, 6);
  if (!lua_checkstack(L, (int)(n < 1000000 ? n : 1000000) + 8))
    return luaL_error(L, "matrix_rows: out of memory");
  lua_Integer *signal = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof *signal, 0);    /* 7 */
  double *wrow = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof *wrow, 0);             /* 8 */
  lua_Integer *row_ptr = lua_newuserdatauv(L, (size_t)(n_rows + 1) * sizeof *row_ptr, 0); /* 9 */
  lua_pushnil(L);                                                                     /* 10: terms */
  for (lua_Integer j = 1; j <= n; j++) {
    lua_geti(L, 4, j);
    signal[j] = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -1;
    lua_pop(L, 1);
  }
  term *t = NULL;
  size_t k = 0, cap = 0;
  row_ptr[0] = 0;
  for (lua_Integer l = 1; l <= n_rows; l++) {
    lua_geti(L, 3, l);
    lua_Integer i = lua_tointeger(L, -1);
    lua_pop(L, 1);
    luaL_argcheck(L, i >= 1 && i <= n, 3, "row index out of range");
    const double *w = W ? W + (i - 1) * n : wrow + 1;       /* w[j - 1]: entry j */
    if (!W) {
      lua_geti(L, 1, i);                                     /* 11: W[i] */
      for (lua_Integer j = 1; j <= n; j++) lua_geti(L, 11, j);
      for (lua_Integer j = 1; j <= n; j++) wrow[j] = lua_tonumber(L, 11 + (int)j);
      lua_settop(L, 10);
    }
    if (!D) lua_geti(L, 2, i);                               /* 11: D[i] */
    for (lua_Integer j = 1; j <= n; j++) {
      if (w[j - 1] == 0 || signal[j] < 0) continue;
      double d;
      if (D) d = D[(i - 1) * n + (j - 1)];
      else {
        lua_geti(L, 11, j);
        d = lua_tonumber(L, -1);
        lua_pop(L, 1);
      }
      double steps = delay_steps(d, dt);
      if (!(steps <= max_delay)) {
        lua_pushnil(L);
        lua_pushinteger(L, i);
        lua_pushinteger(L, j);
        return 3;
      }
      if (k == cap) t = grow(L, 10, t, k, &cap);
      t[k].src = signal[j];
      t[k].delay = (lua_Integer)steps;
      t[k].weight = w[j - 1];
      k++;
    }
    lua_settop(L, 10);
    row_ptr[l] = (lua_Integer)k;
  }
  for (int f = 0; f < 3; f++) {
    lua_createtable(L, (int)k, 0);
    for (size_t q = 0; q < k; q++) {
      if (f == 0) lua_pushinteger(L, t[q].src);
      else if (f == 1) lua_pushinteger(L, t[q].delay);
      else lua_pushnumber(L, t[q].weight);
      lua_rawseti(L, -2, (lua_Integer)q + 1);
    }
  }
  lua_createtable(L, (int)n_rows + 1, 0);
  for (lua_Integer l = 0; l <= n_rows; l++) {
    lua_pushinteger(L, row_ptr[l]);
    lua_rawseti(L, -2, l + 1);
  }
  return 4;
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
  double *v = lua_newuserdatauv(L, cells * sizeof(double) + cells + 1, 0);
  unsigned char *is_int = (unsigned char *)(v + cells);
  if (cells) {
    memcpy(v, m.v, cells * sizeof(double));
    memcpy(is_int, m.is_int, cells);
  }
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
  return 1;
}

void nmL_open_matrix(lua_State *L)
{
  static const luaL_Reg none[] = { { NULL, NULL } };
  nmL_newclass(L, NM_PACK_MT, none, pack_gc, NULL);
  static const luaL_Reg f[] = {
    { "matrix_check", matrix_check }, { "matrix_copy", matrix_copy },
    { "matrix_div", matrix_div }, { "matrix_zeros", matrix_zeros },
    { "matrix_rows", matrix_rows }, { "matrix_zero_diagonal", matrix_zero_diagonal },
    { "read_matrix", read_matrix }, { "delay_steps", core_delay_steps }, { NULL, NULL },
  };
  luaL_setfuncs(L, f, 0);
}
