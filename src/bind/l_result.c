/*
** l_result.c: the Lua type neuromass.Result, the rows a run kept in memory
** (the engine's nm_kept sink, read once the run has ended): their size, a
** column, a value, views of some of their columns (a batch's lanes, each as
** a separate run's result) and their CSV file.  result.lua wraps it for users.
*/
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bind.h"

/* A kept result: the engine's rows (nm_kept), read through data/rows/cols
** once its run has ended; or a view of some columns of another result's rows
** (r:split), which its user value keeps alive: column c is column map[c] of
** rows `stride` values apart, made contiguous (`own`) only for what needs
** whole rows (write_csv, nmL_result_rows). */
typedef struct {
  nm_kept *k;             /* NULL for a view */
  const double *data;
  size_t rows, cols, stride;
  const size_t *map;      /* a view's columns in its source's rows; NULL: 0 .. cols-1 */
  double *own;            /* a view's rows, contiguous, once asked for (freed with it) */
} LResult;


nm_kept *nmL_result_new(lua_State *L, size_t cols)
{
  LResult *r = lua_newuserdatauv(L, sizeof *r, 0);
  memset(r, 0, sizeof *r);
  luaL_setmetatable(L, NM_RESULT_MT);
  r->k = nm_kept_new(cols);
  if (!r->k) luaL_error(L, "run: the result cannot be allocated");
  r->cols = cols;
  return r->k;
}


void nmL_result_push_kept(lua_State *L, nm_kept *k)
{
  LResult *r = lua_newuserdatauv(L, sizeof *r, 0);
  memset(r, 0, sizeof *r);
  r->k = k;                                   /* (owned before the metatable can free it) */
  luaL_setmetatable(L, NM_RESULT_MT);
  r->data = nm_kept_rows(k, &r->rows, &r->cols);
  r->stride = r->cols;
}


size_t nmL_result_ended(lua_State *L, int i)
{
  LResult *r = luaL_checkudata(L, i, NM_RESULT_MT);
  r->data = nm_kept_rows(r->k, &r->rows, &r->cols);
  r->stride = r->cols;
  return r->rows * r->cols * sizeof(double);
}


static LResult *checkresult(lua_State *L, int i)
{
  return luaL_checkudata(L, i, NM_RESULT_MT);
}


static int result_gc(lua_State *L)
{
  LResult *r = checkresult(L, 1);
  nm_kept_free(r->k);
  free(r->own);
  r->k = NULL;
  r->own = NULL;
  r->data = NULL;
  r->rows = 0;
  return 0;
}


static int result_size(lua_State *L)
{
  LResult *r = checkresult(L, 1);
  lua_pushinteger(L, (lua_Integer)r->rows);
  lua_pushinteger(L, (lua_Integer)r->cols);
  return 2;
}


/* Row i's value of column c. */
static inline double value_at(const LResult *r, size_t i, size_t c)
{
  return r->data[i * r->stride + (r->map ? r->map[c] : c)];
}


/* The rows of r, one after the other (cols values each): a view's made
** contiguous the first time (an error when they cannot be allocated). */
static const double *whole_rows(lua_State *L, LResult *r)
{
  if (!r->map || r->own) return r->own ? r->own : r->data;
  if (r->cols && r->rows > (SIZE_MAX - 1) / sizeof(double) / r->cols)
    luaL_error(L, "result: %I rows of %I columns are too many", (lua_Integer)r->rows, (lua_Integer)r->cols);
  double *own = malloc(r->rows * r->cols * sizeof *own + 1);
  if (!own) luaL_error(L, "result: %I rows of %I columns cannot be allocated", (lua_Integer)r->rows,
                       (lua_Integer)r->cols);
  for (size_t i = 0; i < r->rows; i++)
    for (size_t c = 0; c < r->cols; c++) own[i * r->cols + c] = value_at(r, i, c);
  return r->own = own;
}


const double *nmL_result_rows(lua_State *L, int i, size_t *rows, size_t *cols)
{
  LResult *r = checkresult(L, i);
  *rows = r->rows;
  *cols = r->cols;
  return whole_rows(L, r);
}


/* Raises an error naming column c when the result has no such column. */
static void check_column(lua_State *L, const LResult *r, lua_Integer c)
{
  if (c < 0 || (size_t)c >= r->cols)
    luaL_error(L, "result: no column %I (it has %I, from 0; 0 is the time)", c,
               (lua_Integer)r->cols);
}


/* r:column(c) -> array of column c (0-based; 0 is the time) */
static int result_column(lua_State *L)
{
  LResult *r = checkresult(L, 1);
  lua_Integer c = luaL_checkinteger(L, 2);
  check_column(L, r, c);
  if (r->rows > INT_MAX)
    return luaL_error(L, "a column of %I rows is more than a Lua table holds (at most %d); "
                      "read it with value() or write_csv()", (lua_Integer)r->rows, INT_MAX);
  lua_createtable(L, (int)r->rows, 0);
  for (size_t i = 0; i < r->rows; i++) {
    nmL_pushvalue(L, value_at(r, i, (size_t)c));
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}


/* r:value(row, c), both 0-based */
static int result_value(lua_State *L)
{
  LResult *r = checkresult(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2), c = luaL_checkinteger(L, 3);
  if (i < 0 || (size_t)i >= r->rows)
    return luaL_error(L, "result: no row %I (it has %I, from 0)", i, (lua_Integer)r->rows);
  check_column(L, r, c);
  nmL_pushvalue(L, value_at(r, (size_t)i, (size_t)c));
  return 1;
}


/* r:split(lists) -> a list of results, the k-th of the columns lists[k]
** names (0-based, in that order) of every row: a batch's lanes, each as a
** separate run's result.  Views of r's rows, not copies: each keeps r alive
** (a lane held keeps its batch's rows).  Copying every lane's columns had
** written as much memory again as the batch kept, cold (ALN, 64 lanes of
** 2000 rows: 1.7 ms of a 53 ms batch).  Errors: a list that is not a table
** or is empty, a column the result lacks. */
static int result_split(lua_State *L)
{
  LResult *r = checkresult(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  size_t ng = (size_t)luaL_len(L, 2);
  lua_createtable(L, ng < INT_MAX ? (int)ng : INT_MAX, 0);
  for (size_t g = 0; g < ng; g++) {
    if (lua_geti(L, 2, (lua_Integer)g + 1) != LUA_TTABLE)
      return luaL_error(L, "split: list %I is not a list of columns", (lua_Integer)g + 1);
    size_t nc = (size_t)luaL_len(L, -1);
    if (nc == 0) return luaL_error(L, "split: list %I names no column", (lua_Integer)g + 1);
    if (nc > (SIZE_MAX - sizeof(LResult)) / sizeof(size_t))
      return luaL_error(L, "split: list %I names too many columns", (lua_Integer)g + 1);
    LResult *v = lua_newuserdatauv(L, sizeof *v + nc * sizeof(size_t), 1);
    memset(v, 0, sizeof *v);
    size_t *map = (size_t *)(v + 1);
    for (size_t c = 0; c < nc; c++) {
      lua_geti(L, -2, (lua_Integer)c + 1);
      lua_Integer k = luaL_checkinteger(L, -1);
      check_column(L, r, k);
      map[c] = r->map ? r->map[k] : (size_t)k;      /* (a view of a view: of the same rows) */
      lua_pop(L, 1);
    }
    v->data = r->data;
    v->rows = r->rows;
    v->cols = nc;
    v->stride = r->stride;
    v->map = map;
    luaL_setmetatable(L, NM_RESULT_MT);
    lua_pushvalue(L, 1);                              /* the rows' owner, kept alive */
    lua_setiuservalue(L, -2, 1);
    lua_rawseti(L, -3, (lua_Integer)g + 1);
    lua_pop(L, 1);                                    /* (the list) */
  }
  return 1;
}


/* r:write_csv(path, header) -> true | nil, failure { kind = "io", message =,
** csv_partial = where the complete rows are kept when writing failed midway };
** stopped by a stop signal, { kind = "interrupted", message = "interrupted by
** SIGxxx; kept the complete rows written in '...'", signo = } */
static int result_write_csv(lua_State *L)
{
  LResult *r = checkresult(L, 1);
  const char *path = luaL_checkstring(L, 2);
  luaL_checktype(L, 3, LUA_TTABLE);
  size_t nh = nmL_length(L, 3, "header", sizeof(char *));
  luaL_argcheck(L, nh == r->cols, 3, "header needs one name per column");
  const char **header = lua_newuserdatauv(L, (nh + 1) * sizeof *header, 0);
  for (size_t c = 0; c < nh; c++) {
    lua_geti(L, 3, (lua_Integer)c + 1);
    header[c] = luaL_checkstring(L, -1);   /* anchored by the header table */
    lua_pop(L, 1);
  }
  const double *rows = whole_rows(L, r);
  nm_error err;
  nm_csv *w = nm_csv_open(path, header, nh, &err);
  int status = err.status, stopped = 0;
  if (w) {
    /* a stop signal ends the writing between two chunks of rows */
    nmL_stop_scope sc;
    nmL_stop_begin(L, &sc);
    for (size_t at = 0; at < r->rows && !stopped; at += 4096) {
      size_t n = r->rows - at < 4096 ? r->rows - at : 4096;
      if (nm_csv_write_rows(w, rows + at * r->cols, n, r->cols) != NM_OK) break;
      stopped = *nmL_stop_flag() != 0;
    }
    stopped = stopped || *nmL_stop_flag() != 0;
    status = nm_csv_finish(w, stopped ? NM_CSV_PARTIAL : NM_CSV_COMMIT);  /* keeps a partial file on failure */
    nmL_stop_end(L, &sc, stopped);
  }
  if (stopped) {
    if (nm_csv_kept(w))
      lua_pushfstring(L, "interrupted by %s; kept the complete rows written in '%s'",
                      nmL_signal_name(nmL_stop_signal()), nm_csv_kept(w));
    else
      lua_pushfstring(L, "interrupted by %s", nmL_signal_name(nmL_stop_signal()));
    nmL_push_failure(L, "interrupted", lua_tostring(L, -1));
    lua_pushinteger(L, nmL_stop_signal());
    lua_setfield(L, -2, "signo");
    nm_csv_free(w);
    return 2;
  }
  if (status != NM_OK) {
    nmL_push_failure(L, "io", lua_pushfstring(L, "cannot write '%s': %s", path,
                                              w ? nm_csv_error(w) : err.why));
    nmL_push_csv_partial(L, w);
    nm_csv_free(w);
    return 2;
  }
  nm_csv_free(w);
  lua_pushboolean(L, 1);
  return 1;
}


void nmL_open_result(lua_State *L)
{
  static const luaL_Reg res_meth[] = {
    { "size", result_size }, { "column", result_column }, { "value", result_value },
    { "write_csv", result_write_csv }, { "split", result_split }, { NULL, NULL }
  };
  nmL_newclass(L, NM_RESULT_MT, res_meth, result_gc, NULL);
}
