/*
** l_model.c: the Lua type neuromass.Model, a compiled model under
** construction: sizes, initial values, parameters, programs, coupling sums,
** constraints, noise processes and tables.
*/
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bind.h"

static const char *const op_names[NM_OP_COUNT + 1] = {   /* NULL-terminated */
  "const", "signal", "param", "gparam", "input", "time", "hist",
  "add", "sub", "mul", "div", "pow", "neg",
  "exp", "log", "sqrt", "tanh", "sin", "cos", "abs", "floor",
  "min", "max", "atan2", "mod",
  "lt", "le", "gt", "ge", "eq", "ne", "ifelse", "table2d"
};


LModel *nmL_checklmodel(lua_State *L, int i)
{
  LModel *lm = luaL_checkudata(L, i, NM_MODEL_MT);
  if (!lm->m) luaL_error(L, "attempt to use a freed model");
  return lm;
}


nm_model *nmL_checkmodel(lua_State *L, int i)
{
  return nmL_checklmodel(L, i)->m;
}


nm_model *nmL_checkmodel_unused(lua_State *L, int i, const char *what)
{
  LModel *lm = nmL_checklmodel(L, i);
  if (lm->n_sims > 0)
    luaL_error(L, "%s: the model is used by %d simulation%s; its structure cannot change (free "
               "them or build a new model)", what, lm->n_sims, lm->n_sims == 1 ? "" : "s");
  return lm->m;
}


static size_t checksize(lua_State *L, int t, const char *key, const char *what)
{
  lua_Integer v = nmL_intfield(L, t, key, what);
  if (v < 0) luaL_error(L, "%s: field '%s' must not be negative, got %I", what, key, v);
  return (size_t)v;
}


/* core.model{ n_state =, n_aux =, n_param =, n_input = } */
static int model_new(lua_State *L)
{
  static const char *const known[] = { "n_state", "n_aux", "n_param", "n_input", NULL };
  luaL_checktype(L, 1, LUA_TTABLE);
  nmL_opts(L, 1, known, "model");
  size_t ns = checksize(L, 1, "n_state", "model"), na = checksize(L, 1, "n_aux", "model");
  size_t np = checksize(L, 1, "n_param", "model"), ni = checksize(L, 1, "n_input", "model");
  LModel *lm = lua_newuserdatauv(L, sizeof *lm, 0);
  memset(lm, 0, sizeof *lm);
  luaL_setmetatable(L, NM_MODEL_MT);
  lm->m = nm_model_new(ns, na, np, ni);
  if (!lm->m)
    return luaL_error(L, "model: %I state variables, %I outputs, %I parameters and %I inputs "
                      "cannot be allocated", (lua_Integer)ns, (lua_Integer)na, (lua_Integer)np,
                      (lua_Integer)ni);
  return 1;
}


/* __gc: no simulation can still reach the model (each holds it in its user
** value, and finalizers run in reverse order of creation). */
static int model_gc(lua_State *L)
{
  LModel *lm = luaL_checkudata(L, 1, NM_MODEL_MT);
  nm_model_free(lm->m);
  lm->m = NULL;
  return 0;
}


/* m:free() and __close: refused while a simulation uses the model. */
static int model_free(lua_State *L)
{
  LModel *lm = luaL_checkudata(L, 1, NM_MODEL_MT);
  if (lm->m) nmL_checkmodel_unused(L, 1, "free");
  return model_gc(L);
}


static int model_set_initial(lua_State *L)
{
  nm_model *m = nmL_checkmodel(L, 1);
  size_t n;
  lua_settop(L, 2);
  lua_createtable(L, 0, 1);
  lua_pushvalue(L, 2);
  lua_setfield(L, -2, "v");
  double *v = nmL_numbers(L, -1, "v", &n);
  int status = nm_model_set_initial(m, v, n);
  if (status != NM_OK) return nmL_model_fail(L, m, status);
  return 0;
}


static int model_set_param(lua_State *L)
{
  nm_model *m = nmL_checkmodel(L, 1);
  lua_Integer slot = luaL_checkinteger(L, 2);
  double v = luaL_checknumber(L, 3);
  int status = nm_model_set_param(m, slot < 0 ? SIZE_MAX : (size_t)slot, v);
  if (status != NM_OK)
    return luaL_error(L, "set_param: no parameter slot %I (the model has %I, from 0)", slot,
                      (lua_Integer)nm_model_n_param(m));
  return 0;
}


/* m:add_program(stage, graph, lanes): graph holds parallel arrays op, a, b,
** c, value, slot, delay (one entry per node) and root_node, root_sink,
** root_slot (one per root).  Ops are names ("add"), operands 0-based. */
static int model_add_program(lua_State *L)
{
  static const char *const stages[] = { "sync", "rhs", "after", NULL };
  static const char *const sinks[] = { "deriv", "signal", "input", NULL };
  nm_model *m = nmL_checkmodel_unused(L, 1, "add_program");
  int stage = nmL_option(L, 2, stages, "add_program: the stage");
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_Integer lanes = luaL_checkinteger(L, 4);
  if (lanes < 1) return luaL_error(L, "add_program: lanes must be at least 1, got %I", lanes);
  size_t n, nr, len[6];
  long *a = nmL_indices(L, 3, "a", &n), *b = nmL_indices(L, 3, "b", &len[0]);
  long *c = nmL_indices(L, 3, "c", &len[1]), *slot = nmL_indices(L, 3, "slot", &len[2]);
  long *delay = nmL_indices(L, 3, "delay", &len[3]);
  double *value = nmL_numbers(L, 3, "value", &len[4]);
  long *rnode = nmL_indices(L, 3, "root_node", &nr);
  long *rslot = nmL_indices(L, 3, "root_slot", &len[5]);
  static const char *const key[6] = { "b", "c", "slot", "delay", "value", "root_slot" };
  for (int k = 0; k < 6; k++)
    if (len[k] != (k < 5 ? n : nr))
      return luaL_error(L, "program: field '%s' has %I entries; it needs one per %s (%I)", key[k],
                        (lua_Integer)len[k], k < 5 ? "node" : "root", (lua_Integer)(k < 5 ? n : nr));
  /* The engine's nodes hold operands and delays as int: values beyond are refused here. */
  for (size_t i = 0; i < n; i++) {
    const long operand[3] = { a[i], b[i], c[i] };
    for (int k = 0; k < 3; k++)
      if (operand[k] < -1 || operand[k] > INT_MAX)
        return luaL_error(L, "program: node %I: operand %c is %I; it must be -1 (none) to %d",
                          (lua_Integer)i, "abc"[k], (lua_Integer)operand[k], INT_MAX);
    if (delay[i] < 0 || delay[i] > INT_MAX)
      return luaL_error(L, "program: node %I: delay %I steps; at most %d (and not negative)",
                        (lua_Integer)i, (lua_Integer)delay[i], INT_MAX);
  }
  nm_node *nodes = lua_newuserdatauv(L, (n + 1) * sizeof *nodes, 0);
  nm_root *roots = lua_newuserdatauv(L, (nr + 1) * sizeof *roots, 0);
  if (lua_getfield(L, 3, "op") != LUA_TTABLE)
    return luaL_error(L, "program: field 'op' must be an array of operation names");
  for (size_t i = 0; i < n; i++) {
    lua_geti(L, -1, (lua_Integer)i + 1);
    int at = lua_gettop(L);
    int op = nmL_option(L, at, op_names, lua_pushfstring(L, "program: node %I's operation",
                                                                (lua_Integer)i));
    lua_settop(L, at - 1);
    nm_node x = { op, (int)a[i], (int)b[i], (int)c[i], value[i], slot[i], (int)delay[i] };
    nodes[i] = x;
  }
  if (lua_getfield(L, 3, "root_sink") != LUA_TTABLE)
    return luaL_error(L, "program: field 'root_sink' must be an array of sink names");
  for (size_t r = 0; r < nr; r++) {
    lua_geti(L, -1, (lua_Integer)r + 1);
    int at = lua_gettop(L);
    roots[r].sink = nmL_option(L, at, sinks, lua_pushfstring(L, "program: root %I's sink",
                                                                    (lua_Integer)r));
    lua_settop(L, at - 1);
    if (rnode[r] < 0 || rnode[r] > INT_MAX)
      return luaL_error(L, "program: root %I stores node %I; nodes are 0 to %I", (lua_Integer)r,
                        (lua_Integer)rnode[r], (lua_Integer)n - 1);
    roots[r].node = (int)rnode[r];
    roots[r].slot = rslot[r];
  }
  nm_error err;
  nm_program *p = nm_program_compile(nodes, n, roots, nr, (size_t)lanes, &err);
  if (!p) return luaL_error(L, "%s", err.why);
  int status = nm_model_add_program(m, stage, p);
  if (status != NM_OK) {
    nm_program_free(p);
    return nmL_model_fail(L, m, status);
  }
  lua_pushinteger(L, (lua_Integer)nm_program_length(p));
  lua_pushinteger(L, (lua_Integer)nm_program_registers(p));
  return 2;
}


/* m:add_coupling{ mode = "additive"|"diffusive", dst = {}, self = {}, row_ptr = {},
** src = {}, delay = {}, weight = {} }, or with rows = <core.matrix_rows's
** userdata> in place of row_ptr, src, delay and weight. */
static int model_add_coupling(lua_State *L)
{
  static const char *const modes[] = { "additive", "diffusive", NULL };
  static const char *const known[] = {
    "mode", "dst", "self", "row_ptr", "src", "delay", "weight", "rows", NULL
  };
  nm_model *m = nmL_checkmodel_unused(L, 1, "add_coupling");
  luaL_checktype(L, 2, LUA_TTABLE);
  nmL_opts(L, 2, known, "coupling");
  lua_getfield(L, 2, "mode");
  int mode = nmL_option(L, -1, modes, "coupling: field 'mode'");
  lua_pop(L, 1);
  size_t n_rows, n, n_terms, n2;
  long *dst = nmL_indices(L, 2, "dst", &n_rows);
  long *self = mode == NM_DIFFUSIVE ? nmL_indices(L, 2, "self", &n) : NULL;
  if (self && n != n_rows)
    return luaL_error(L, "coupling: 'self' has %I entries; it needs one per row (%I)",
                      (lua_Integer)n, (lua_Integer)n_rows);
  lua_getfield(L, 2, "rows");
  nmL_rows *crs = nmL_torows(L, -1);
  if (crs) {
    if (!crs->row_ptr) return luaL_error(L, "coupling: 'rows' were given to a model already");
    if (crs->n_rows != n_rows)
      return luaL_error(L, "coupling: 'rows' has %I rows; 'dst' has %I", (lua_Integer)crs->n_rows,
                        (lua_Integer)n_rows);
    int status = nm_model_adopt_coupling(m, mode, n_rows, dst, self, &crs->row_ptr, &crs->src,
                                         &crs->delay, &crs->weight);
    if (status != NM_OK) return nmL_model_fail(L, m, status);
    return 0;
  }
  if (!lua_isnil(L, -1)) return luaL_error(L, "coupling: 'rows' must be core.matrix_rows's rows");
  long *rp = nmL_indices(L, 2, "row_ptr", &n);
  if (n != n_rows + 1)
    return luaL_error(L, "coupling: 'row_ptr' has %I entries; it needs rows + 1 (%I)",
                      (lua_Integer)n, (lua_Integer)n_rows + 1);
  long *src = nmL_indices(L, 2, "src", &n_terms);
  long *delay = nmL_indices(L, 2, "delay", &n2);
  double *weight = nmL_numbers(L, 2, "weight", &n);
  if (n2 != n_terms || n != n_terms)
    return luaL_error(L, "coupling: 'src', 'delay' and 'weight' have %I, %I and %I entries; they "
                      "need one per term", (lua_Integer)n_terms, (lua_Integer)n2, (lua_Integer)n);
  size_t *row_ptr = lua_newuserdatauv(L, (n_rows + 1) * sizeof *row_ptr, 0);
  int *idelay = lua_newuserdatauv(L, (n_terms + 1) * sizeof *idelay, 0);
  for (size_t r = 0; r <= n_rows; r++) {
    if (rp[r] < 0 || (size_t)rp[r] > n_terms)
      return luaL_error(L, "coupling: row_ptr[%I] is %I; it must be 0 to the number of terms (%I)",
                        (lua_Integer)r, (lua_Integer)rp[r], (lua_Integer)n_terms);
    row_ptr[r] = (size_t)rp[r];
  }
  for (size_t k = 0; k < n_terms; k++) {
    if (delay[k] < 0 || delay[k] > INT_MAX)
      return luaL_error(L, "coupling: term %d has a delay of %I steps; at most %d can be "
                        "represented", (int)k + 1, (lua_Integer)delay[k], INT_MAX);
    idelay[k] = (int)delay[k];
  }
  int status = nm_model_add_coupling(m, mode, n_rows, dst, self, row_ptr, src, idelay, weight);
  if (status != NM_OK) return nmL_model_fail(L, m, status);
  return 0;
}


static int model_add_clamp(lua_State *L)
{
  nm_model *m = nmL_checkmodel_unused(L, 1, "clamp");
  int status = nm_model_add_clamp(m, (long)luaL_checkinteger(L, 2), luaL_checknumber(L, 3),
                                  luaL_checknumber(L, 4));
  if (status != NM_OK) return nmL_model_fail(L, m, status);
  return 0;
}


static int model_add_wrap(lua_State *L)
{
  nm_model *m = nmL_checkmodel_unused(L, 1, "wrap");
  int status = nm_model_add_wrap(m, (long)luaL_checkinteger(L, 2), luaL_checknumber(L, 3));
  if (status != NM_OK) return nmL_model_fail(L, m, status);
  return 0;
}


static int model_add_noise(lua_State *L)
{
  nm_model *m = nmL_checkmodel_unused(L, 1, "noise");
  int status;
  if (lua_toboolean(L, 7))        /* white noise: mu and sigma only */
    status = nm_model_add_white_noise(m, (long)luaL_checkinteger(L, 2),
                                      (long)luaL_checkinteger(L, 3), (long)luaL_checkinteger(L, 4));
  else
    status = nm_model_add_noise(m, (long)luaL_checkinteger(L, 2), (long)luaL_checkinteger(L, 3),
                                (long)luaL_checkinteger(L, 4), (long)luaL_checkinteger(L, 5),
                                luaL_checknumber(L, 6));
  if (status != NM_OK) return nmL_model_fail(L, m, status);
  return 0;
}


/* m:add_table{ rows = n, cols = n, row_axis = {first, step, last},
** col_axis = {...}, values = {row-major} | file = "path.f64" } -> table index */
static int model_add_table(lua_State *L)
{
  static const char *const known[] = { "rows", "cols", "row_axis", "col_axis", "values", "file",
                                       NULL };
  nm_model *m = nmL_checkmodel_unused(L, 1, "table");
  luaL_checktype(L, 2, LUA_TTABLE);
  nmL_opts(L, 2, known, "table");
  size_t nr = checksize(L, 2, "rows", "table"), nc = checksize(L, 2, "cols", "table"), n;
  double *ra = nmL_numbers(L, 2, "row_axis", &n);
  if (n != 3)
    return luaL_error(L, "table: row_axis has %I values; it must be {first, step, last}",
                      (lua_Integer)n);
  double *ca = nmL_numbers(L, 2, "col_axis", &n);
  if (n != 3)
    return luaL_error(L, "table: col_axis has %I values; it must be {first, step, last}",
                      (lua_Integer)n);
  if (nr < 2 || nc < 2)
    return luaL_error(L, "table: %I x %I values; it needs at least 2 rows and 2 columns",
                      (lua_Integer)nr, (lua_Integer)nc);
  if (nr > SIZE_MAX / sizeof(double) / nc)
    return luaL_error(L, "table: %I x %I values cannot be allocated", (lua_Integer)nr,
                      (lua_Integer)nc);
  double *values = lua_newuserdatauv(L, nr * nc * sizeof *values, 0);
  if (lua_getfield(L, 2, "file") == LUA_TSTRING) {
    const char *path = lua_tostring(L, -1);
    FILE *f = fopen(path, "rb");
    if (!f) return luaL_error(L, "table: cannot open '%s'", path);
    /* The file's size is tables.load's rule, checked where the user loads it;
    ** here only a short read (the file changed since) is refused. */
    size_t got = fread(values, sizeof *values, nr * nc, f);
    fclose(f);
    if (got != nr * nc) return luaL_error(L, "table: cannot read %I values from '%s'",
                                          (lua_Integer)(nr * nc), path);
  } else {
    double *v = nmL_numbers(L, 2, "values", &n);
    if (n != nr * nc)
      return luaL_error(L, "table: expected %I values (%I x %I), got %I", (lua_Integer)(nr * nc),
                        (lua_Integer)nr, (lua_Integer)nc, (lua_Integer)n);
    memcpy(values, v, n * sizeof *v);
  }
  nm_table2d *t = malloc(sizeof *t);
  double *owned = malloc(nr * nc * sizeof *owned);
  if (!t || !owned) {
    free(t);
    free(owned);
    return luaL_error(L, "table: %I x %I values cannot be allocated", (lua_Integer)nr,
                      (lua_Integer)nc);
  }
  memcpy(owned, values, nr * nc * sizeof *owned);
  nm_table2d init = { nr, nc, ra[0], ra[1], ra[2], ca[0], ca[1], ca[2], owned, 0, 0.0, 0.0 };
  *t = init;
  int status = nm_model_add_table(m, t);
  if (status != NM_OK) {
    free(owned);
    free(t);
    return nmL_model_fail(L, m, status);
  }
  return 0;
}


/* m:table_clamped(i) -> count, first row value, first column value (i 0-based);
** resets the count, so each run reports its own. */
static int model_table_clamped(lua_State *L)
{
  nm_model *m = nmL_checkmodel(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2);
  nm_table2d *t = nm_model_table(m, (size_t)i);
  if (i < 0 || !t) return luaL_error(L, "table_clamped: no table %I (the model has %I, from 0)", i,
                                     (lua_Integer)nm_model_n_tables(m));
  lua_pushinteger(L, (lua_Integer)t->clamped);
  lua_pushnumber(L, t->clamped_row);
  lua_pushnumber(L, t->clamped_col);
  t->clamped = 0;
  return 3;
}


static int model_max_delay(lua_State *L)
{
  lua_pushinteger(L, (lua_Integer)nm_model_max_delay(nmL_checkmodel(L, 1)));
  return 1;
}


/* m:history_bytes([n_steps [, done [, reach, kept [, run]]]]) -> bytes, ring, peak, threads:
** the bytes of the delay history a simulation allocates to hold the longest
** delay, or (n_steps given) holds once its runs have reached step n_steps, a
** first run's or a continued one's end: the ring and the copy the coupling
** sums stage (nm_model_run_history_bytes); the ring's part alone; and the
** most held at once on the way from step `done` (default 0)
** (nm_model_run_history_peak): with, while a grown ring is made, the ring
** its runs to `done` made, or (reach, kept: sim:history_bytes()'s second
** and third) the one the simulation holds.  `run` { method = integrator's
** name, threads = its option, 0 automatic } (nil: one thread): the bytes
** and the peak count the copies of the history that run's threads make
** (nm_model_run_threads_bytes: made once the grown ring is), and `threads`
** is how many it takes (nm_model_run_threads).  math.huge when that many
** cannot be counted. */
static int model_history_bytes(lua_State *L)
{
  nm_model *m = nmL_checkmodel(L, 1);
  lua_Integer n = luaL_optinteger(L, 2, -1), done = luaL_optinteger(L, 3, 0);
  lua_Integer reach = luaL_optinteger(L, 4, -1);
  double kept = luaL_optnumber(L, 5, 0.0);
  int threads = 1;
  if (!lua_isnoneornil(L, 6)) {
    luaL_checktype(L, 6, LUA_TTABLE);
    int method = nmL_methodfield(L, 6, "history_bytes: run");
    lua_Integer requested = nmL_intfield(L, 6, "threads", "history_bytes: run");
    threads = nm_model_run_threads(m, method, requested > 0 && requested <= NM_MAX_THREADS
                                              ? (int)requested : 0);
  }
  size_t steps = n < 0 ? SIZE_MAX : (size_t)n, ring, bytes = nm_model_run_history_bytes(m, steps, &ring);
  size_t peak = nm_model_run_history_peak(m, done > 0 ? (size_t)done : 0, steps,
                                          reach < 0 ? SIZE_MAX : (size_t)reach,
                                          kept > 0 && kept < 0x1p63 ? (size_t)kept : 0);
  size_t copies = nm_model_run_threads_bytes(m, steps, threads);
  bytes = bytes == SIZE_MAX || copies == SIZE_MAX || copies > SIZE_MAX - bytes ? SIZE_MAX : bytes + copies;
  if (bytes > peak) peak = bytes;
  lua_pushnumber(L, bytes == SIZE_MAX ? HUGE_VAL : (double)bytes);
  lua_pushnumber(L, ring == SIZE_MAX ? HUGE_VAL : (double)ring);
  lua_pushnumber(L, peak == SIZE_MAX ? HUGE_VAL : (double)peak);
  lua_pushinteger(L, threads);
  return 4;
}




static int model_tostring(lua_State *L)
{
  LModel *lm = luaL_checkudata(L, 1, NM_MODEL_MT);
  if (lm->m) lua_pushfstring(L, "neuromass.Model (%p)", (void *)lm->m);
  else lua_pushliteral(L, "neuromass.Model (freed)");
  return 1;
}


/* core.apply(op, a[, b]) -> the engine's value of operation `op` (a name such
** as "tanh" or "add") on numbers: how the Lua layer folds constants. */
static int core_apply(lua_State *L)
{
  int op = luaL_checkoption(L, 1, NULL, op_names);
  double a = luaL_checknumber(L, 2), b = luaL_optnumber(L, 3, 0.0);
  lua_pushnumber(L, nm_op_apply(op, a, b));
  return 1;
}


void nmL_open_model(lua_State *L)
{
  static const luaL_Reg meth[] = {
    { "set_initial", model_set_initial }, { "set_param", model_set_param },
    { "add_program", model_add_program },
    { "add_coupling", model_add_coupling },
    { "add_clamp", model_add_clamp }, { "add_wrap", model_add_wrap },
    { "add_noise", model_add_noise }, { "add_table", model_add_table },
    { "max_delay", model_max_delay }, { "history_bytes", model_history_bytes }, { "table_clamped", model_table_clamped }, { "free", model_free }, { NULL, NULL }
  };
  nmL_newclass(L, NM_MODEL_MT, meth, model_gc, model_tostring);
  luaL_getmetatable(L, NM_MODEL_MT);
  lua_pushcfunction(L, model_free);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 1);
  lua_pushcfunction(L, model_new);
  lua_setfield(L, -2, "model");
  lua_pushcfunction(L, core_apply);
  lua_setfield(L, -2, "apply");
  lua_pushinteger(L, INT_MAX);          /* the longest delay in steps (nm_node.delay is an int) */
  lua_setfield(L, -2, "max_delay");
}
