/*
** l_result.c: the Lua type neuromass.Result, the rows a run kept in memory
** (the engine's nm_kept sink, read once the run has ended): their size, a
** column, a value, a selection of columns (a batch's lane as a separate
** run's result) and their CSV file.  result.lua wraps it for users.
*/
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "bind.h"

/* A kept result: the engine's rows (nm_kept), read through data/rows/cols
** once its run has ended. */
typedef struct {
  nm_kept *k;
  const double *data;
  size_t rows, cols;
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


size_t nmL_result_ended(lua_State *L, int i)
{
  LResult *r = luaL_checkudata(L, i, NM_RESULT_MT);
  r->data = nm_kept_rows(r->k, &r->rows, &r->cols);
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
  r->k = NULL;
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


const double *nmL_result_rows(lua_State *L, int i, size_t *rows, size_t *cols)
{
  LResult *r = checkresult(L, i);
  *rows = r->rows;
  *cols = r->cols;
  return r->data;
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
    lua_pushnumber(L, r->data[i * r->cols + (size_t)c]);
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
  lua_pushnumber(L, r->data[(size_t)i * r->cols + (size_t)c]);
  return 1;
}


/* r:select(columns) -> a result of the listed columns (0-based, in that
** order) of every row: a batch's lane as a separate run's result. */
static int result_select(lua_State *L)
{
  LResult *r = checkresult(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  size_t nc = (size_t)luaL_len(L, 2);
  if (nc == 0) return luaL_error(L, "select: no column");
  if (r->rows > (SIZE_MAX / sizeof(double) - sizeof(LResult)) / nc)
    return luaL_error(L, "select: %I rows of %I columns are too many", (lua_Integer)r->rows, (lua_Integer)nc);
  size_t *col = lua_newuserdatauv(L, nc * sizeof *col, 0);
  for (size_t c = 0; c < nc; c++) {
    lua_geti(L, 2, (lua_Integer)c + 1);
    lua_Integer k = luaL_checkinteger(L, -1);
    check_column(L, r, k);
    col[c] = (size_t)k;
    lua_pop(L, 1);
  }
  /* the rows live in the userdata itself, after the struct (no nm_kept) */
  LResult *out = lua_newuserdatauv(L, sizeof *out + r->rows * nc * sizeof(double), 0);
  memset(out, 0, sizeof *out);
  double *data = (double *)(out + 1);
  for (size_t i = 0; i < r->rows; i++)
    for (size_t c = 0; c < nc; c++) data[i * nc + c] = r->data[i * r->cols + col[c]];
  out->data = data;
  out->rows = r->rows;
  out->cols = nc;
  luaL_setmetatable(L, NM_RESULT_MT);
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
  nm_error err;
  nm_csv *w = nm_csv_open(path, header, nh, &err);
  int status = err.status, stopped = 0;
  if (w) {
    /* a stop signal ends the writing between two chunks of rows */
    nmL_stop_scope sc;
    nmL_stop_begin(L, &sc);
    for (size_t at = 0; at < r->rows && !stopped; at += 4096) {
      size_t n = r->rows - at < 4096 ? r->rows - at : 4096;
      if (nm_csv_write_rows(w, r->data + at * r->cols, n, r->cols) != NM_OK) break;
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
    { "write_csv", result_write_csv }, { "select", result_select }, { NULL, NULL }
  };
  nmL_newclass(L, NM_RESULT_MT, res_meth, result_gc, NULL);
}
