/*
** l_bold.c: simulated BOLD in the binding.  The type neuromass.Bold holds an
** engine BOLD stage (bold.c: state and sample count, which a continued run
** carries on) and the rows its last run kept; sim:run (l_sim.c) feeds it
** every step through the helpers below, which open the run's BOLD outputs
** (the kept rows, and a CSV) and report its failures.
**
**   core.bold{ dt =, scale = {...}, offset = {...}, signals = {...} } -> bold
**       one node per signal (0-based signal indices, fed in this order)
**   bold:take() -> t_BOLD {n}, BOLD {N rows of n}, rows: the rows of its last
**       run, as tables and as a result (neuromass.Result: t_BOLD, BOLD_0, ...)
**       that takes them over (res:write_bold writes it): once taken, empty
**       tables and nil
**   bold:samples() -> samples consumed since it was made
**   bold:state(i) -> X, F, Q, V of node i (0-based)
**   core.bold_count(dt, n_steps) -> the samples a fresh run of n_steps steps
**       of dt (ms) gives (nm_bold_grid_count)
**   core.bold_step(dt) -> the ms between BOLD samples at step dt (nm_bold_step)
*/
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "l_bold.h"

#define NM_BOLD_MT "neuromass.Bold"

typedef struct {
  nm_bold *b;
  long *signals;            /* the fed signals, one per node */
  nm_kept *kept;            /* the last run's rows */
} LBold;


static LBold *checkbold(lua_State *L, int i)
{
  LBold *lb = luaL_checkudata(L, i, NM_BOLD_MT);
  if (!lb->b) luaL_error(L, "attempt to use a freed BOLD stage");
  return lb;
}


static int bold_gc(lua_State *L)
{
  LBold *lb = luaL_checkudata(L, 1, NM_BOLD_MT);
  nm_bold_free(lb->b);
  nm_kept_free(lb->kept);
  free(lb->signals);
  lb->b = NULL;
  lb->kept = NULL;
  lb->signals = NULL;
  return 0;
}


static int bold_new(lua_State *L)
{
  static const char *const known[] = { "dt", "scale", "offset", "signals", NULL };
  luaL_checktype(L, 1, LUA_TTABLE);
  nmL_opts(L, 1, known, "bold");
  double dt = nmL_numfield(L, 1, "dt", "bold");
  size_t n, ns, no;
  long *sig = nmL_indices(L, 1, "signals", &n);
  double *scale = nmL_numbers(L, 1, "scale", &ns);
  double *offset = nmL_numbers(L, 1, "offset", &no);
  if (ns != n || no != n)
    return luaL_error(L, "bold: %I signals need as many scales and offsets (got %I and %I)",
                      (lua_Integer)n, (lua_Integer)ns, (lua_Integer)no);
  LBold *lb = lua_newuserdatauv(L, sizeof *lb, 0);
  memset(lb, 0, sizeof *lb);
  luaL_setmetatable(L, NM_BOLD_MT);
  nm_error err = { 0 };
  lb->signals = malloc((n + 1) * sizeof *lb->signals);
  if (!lb->signals) return luaL_error(L, "bold: no memory for %I signals", (lua_Integer)n);
  memcpy(lb->signals, sig, n * sizeof *sig);
  lb->b = nm_bold_new(n, dt, scale, offset, sig, &err);
  if (!lb->b) return luaL_error(L, "bold: %s", err.why);
  return 1;
}


static int bold_take(lua_State *L)
{
  LBold *lb = checkbold(L, 1);
  size_t rows = 0, cols = 1 + nm_bold_nodes(lb->b);
  const double *v = lb->kept ? nm_kept_rows(lb->kept, &rows, &cols) : NULL;
  lua_createtable(L, (int)rows, 0);
  for (size_t r = 0; r < rows; r++) {
    nmL_pushvalue(L, v[r * cols]);
    lua_rawseti(L, -2, (lua_Integer)r + 1);
  }
  lua_createtable(L, (int)(cols - 1), 0);
  for (size_t c = 1; c < cols; c++) {
    lua_createtable(L, (int)rows, 0);
    for (size_t r = 0; r < rows; r++) {
      nmL_pushvalue(L, v[r * cols + c]);
      lua_rawseti(L, -2, (lua_Integer)r + 1);
    }
    lua_rawseti(L, -2, (lua_Integer)c);
  }
  nm_kept *k = lb->kept;
  lb->kept = NULL;                            /* the result's now */
  if (k) nmL_result_push_kept(L, k);
  else lua_pushnil(L);
  return 3;
}


static int bold_samples(lua_State *L)
{
  lua_pushinteger(L, (lua_Integer)nm_bold_samples(checkbold(L, 1)->b));
  return 1;
}


static int bold_state(lua_State *L)
{
  LBold *lb = checkbold(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2);
  if (i < 0 || (size_t)i >= nm_bold_nodes(lb->b))
    return luaL_error(L, "bold: no node %I (it has %I, from 0)", i,
                      (lua_Integer)nm_bold_nodes(lb->b));
  double s[4];
  nm_bold_state(lb->b, (size_t)i, s);
  for (int k = 0; k < 4; k++) lua_pushnumber(L, s[k]);
  return 4;
}


/* ---------------------------------------------------------------------
** A run's BOLD (sim:run's fields bold = the stage, bold_csv = path,
** bold_header = {names})
** ------------------------------------------------------------------- */

#define NM_BOLDRUN_MT "neuromass.BoldRun"

/* What a run opened, freed with its userdata however the run ends. */
typedef struct {
  nm_recorder *rec;
  nm_async *async;
  nm_csv *csv;
} LBoldRun;


static int boldrun_gc(lua_State *L)
{
  LBoldRun *r = luaL_checkudata(L, 1, NM_BOLDRUN_MT);
  nm_async_free(r->async);     /* stops the thread first: it writes to the recorder */
  r->async = NULL;
  nm_recorder_free(r->rec);
  r->rec = NULL;
  nm_csv_free(r->csv);
  r->csv = NULL;
  return 0;
}


int nmL_bold_begin(lua_State *L, int opts, int anchor, nm_run_opts *o, nmL_bold_run *br)
{
  memset(br, 0, sizeof *br);
  if (lua_getfield(L, opts, "bold") == LUA_TBOOLEAN && !lua_toboolean(L, -1)) {
    lua_pop(L, 1);                               /* false: no BOLD */
    return 1;
  }
  LBold *lb = checkbold(L, -1);
  lua_rawseti(L, anchor, (lua_Integer)luaL_len(L, anchor) + 1);
  LBoldRun *r = lua_newuserdatauv(L, sizeof *r, 0);
  memset(r, 0, sizeof *r);
  luaL_setmetatable(L, NM_BOLDRUN_MT);
  lua_rawseti(L, anchor, (lua_Integer)luaL_len(L, anchor) + 1);
  br->b = lb->b;
  br->kept_of = &lb->kept;
  size_t n = nm_bold_nodes(lb->b);
  nm_kept_free(lb->kept);                        /* this run's rows only */
  lb->kept = nm_kept_new(1 + n);
  r->rec = nm_recorder_new();
  if (!lb->kept || !r->rec) return luaL_error(L, "run: the BOLD result cannot be allocated");
  nm_sink ks = nm_kept_sink(lb->kept);
  if (nm_recorder_add(r->rec, &ks, 0, 1, 0) != NM_OK)
    return luaL_error(L, "run: %s", nm_recorder_error(r->rec));
  int csv_type = lua_getfield(L, opts, "bold_csv");
  if (csv_type != LUA_TSTRING && !(csv_type == LUA_TBOOLEAN && !lua_toboolean(L, -1)))
    return luaL_error(L, "run: 'bold_csv' must be a path or false (for none)");
  if (csv_type == LUA_TSTRING) {
    const char *path = lua_tostring(L, -1);
    if (lua_getfield(L, opts, "bold_header") != LUA_TTABLE ||
        nmL_length(L, -1, "bold_header", sizeof(char *)) != 1 + n)
      return luaL_error(L, "run: bold_header needs %I names", (lua_Integer)(1 + n));
    const char **header = lua_newuserdatauv(L, (1 + n) * sizeof *header, 0);
    for (size_t c = 0; c <= n; c++) {
      lua_geti(L, -2, (lua_Integer)c + 1);
      header[c] = luaL_checkstring(L, -1);     /* anchored by the header table */
      lua_pop(L, 1);
    }
    nm_error err = { 0 };
    r->csv = nm_csv_open(path, header, 1 + n, &err);
    if (!r->csv) {
      nmL_push_failure(L, "io", lua_pushfstring(L, "cannot write '%s': %s", path, err.why));
      return 0;
    }
    br->csv = r->csv;
    br->csv_owner = &r->csv;
    br->path = path;                             /* anchored in the options */
    nm_sink cs = nm_csv_sink(r->csv);
    if (nm_recorder_add(r->rec, &cs, 0, 1, 0) != NM_OK)
      return luaL_error(L, "run: %s", nm_recorder_error(r->rec));
    lua_pop(L, 3);
  } else {
    lua_pop(L, 1);
  }
  nm_bold_attach(lb->b, r->rec);
  br->rec = r->rec;
  /* On a second core the stage works while the model integrates. */
  nm_sink sink = nm_bold_sink(lb->b);
  if (nm_cores() > 1 && (r->async = nm_async_new(&sink)) != NULL)
    sink = nm_async_sink(r->async);
  br->async = r->async;
  br->sink = sink;
  o->feed = lb->signals;
  o->n_feed = n;
  o->feed_sink = sink.rows;
  o->feed_ud = sink.ud;
  return 1;
}


int nmL_bold_end(nmL_bold_run *br, int rc)
{
  if (!br->b) return rc;
  int brc = br->async ? nm_async_wait(br->async) : NM_OK;
  double t;
  long node, sig;
  int failed = nm_bold_failure(br->b, &t, &node, &sig);
  br->failed = failed != NM_OK || brc != NM_OK;
  if (rc == NM_OK && br->failed) rc = failed != NM_OK ? failed : brc;
  nm_bold_attach(br->b, NULL);
  return rc;
}


int nmL_bold_finish(nmL_bold_run *br, int rc)
{
  if (!br->b) return rc;
  int frc = nm_recorder_finish(br->rec, rc != NM_OK ? NM_CSV_PARTIAL : NM_CSV_HOLD);
  br->csv_failed = br->csv && nm_csv_error(br->csv)[0];
  if (rc == NM_OK && frc != NM_OK) rc = frc;
  return rc;
}


nm_csv *nmL_bold_take_csv(nmL_bold_run *br)
{
  nm_csv *w = br->csv_owner ? *br->csv_owner : NULL;
  if (br->csv_owner) *br->csv_owner = NULL;
  return w;
}


int nmL_bold_failure(lua_State *L, nmL_bold_run *br, int rc)
{
  if (!br->b) return 0;
  if (br->failed && rc == NM_ENONFINITE) {
    double t;
    long node, sig;
    nm_bold_failure(br->b, &t, &node, &sig);
    nmL_push_failure(L, "nonfinite", nm_bold_error(br->b, rc));
    lua_pushnumber(L, t);
    lua_setfield(L, -2, "t");
    lua_pushinteger(L, sig);
    lua_setfield(L, -2, "signal");
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "bold");
  } else if (br->csv_failed) {
    nmL_push_failure(L, "io", lua_pushfstring(L, "cannot write '%s': %s", br->path,
                                              nm_csv_error(br->csv)));
  } else if (br->failed) {
    nmL_push_failure(L, "engine", nm_bold_error(br->b, rc));
  } else {
    return 0;
  }
  return 1;
}


void nmL_bold_partial(lua_State *L, const nmL_bold_run *br)
{
  if (!br->csv || !nm_csv_kept(br->csv)) return;
  lua_pushstring(L, nm_csv_kept(br->csv));
  lua_setfield(L, -2, "bold_partial");
}


static int bold_step(lua_State *L)
{
  double dt = luaL_checknumber(L, 1);
  luaL_argcheck(L, dt > 0 && dt <= 4000.0, 1, "a dt from 0 to 4000 ms");
  lua_pushnumber(L, nm_bold_step(dt));
  return 1;
}


static int bold_count(lua_State *L)
{
  double dt = luaL_checknumber(L, 1);
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_argcheck(L, dt > 0 && n >= 0, 1, "a positive dt and a step count >= 0");
  lua_pushinteger(L, (lua_Integer)nm_bold_grid_count(dt, (unsigned long long)n));
  return 1;
}


void nmL_open_bold(lua_State *L)
{
  static const luaL_Reg meth[] = {
    { "take", bold_take }, { "samples", bold_samples }, { "state", bold_state },
    { "free", bold_gc }, { NULL, NULL }
  };
  nmL_newclass(L, NM_BOLD_MT, meth, bold_gc, NULL);
  static const luaL_Reg no_meth[] = { { NULL, NULL } };
  nmL_newclass(L, NM_BOLDRUN_MT, no_meth, boldrun_gc, NULL);
  lua_pushcfunction(L, bold_new);
  lua_setfield(L, -2, "bold");
  lua_pushcfunction(L, bold_count);
  lua_setfield(L, -2, "bold_count");
  lua_pushcfunction(L, bold_step);
  lua_setfield(L, -2, "bold_step");
}
