/*
** l_callback.c: the slow path.  m:add_callback(fn, spec) makes the engine
** call the Lua function fn(values, t) at every right-hand-side evaluation;
** `values` holds the signals, parameters and inputs listed in spec.reads, and
** fn returns an array whose entries go to spec.writes (derivatives or
** signals).  This calls Lua once per evaluation: it is for prototyping.
** The function is called on the Lua state (thread) that runs the simulation
** (LModel.running, set by s:run), never on the one that registered it, which
** may be a coroutine long since collected.
*/
#include <stdlib.h>
#include <string.h>

#include "bind.h"

#define NM_CALLBACK_ERROR "neuromass.callback_error"

enum { FROM_SIGNAL, FROM_PARAM, FROM_INPUT };
enum { TO_DERIV, TO_SIGNAL };

typedef struct {
  lua_State *main;              /* the main thread: lives as long as the registry */
  LModel *owner;                /* the model's userdata, which outlives this */
  int fn_ref;
  size_t n_read, n_write;
  int *read_kind, *write_kind;
  long *read_idx, *write_idx;
} callback;


static void callback_release(void *ud)
{
  callback *c = ud;
  if (c->main) luaL_unref(c->main, LUA_REGISTRYINDEX, c->fn_ref);
  free(c->read_kind);
  free(c->write_kind);
  free(c->read_idx);
  free(c->write_idx);
  free(c);
}


/*
** The message handler of the callback's pcall: an error object that is not a
** string (error({...}), error(42)) becomes a readable message placed at the
** Lua line that raised it.
*/
static int callback_msgh(lua_State *L)
{
  if (lua_type(L, 1) == LUA_TSTRING) return 1;
  const char *where = "";
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar); level++) {
    lua_getinfo(L, "Sl", &ar);
    if (ar.currentline > 0) {
      where = lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
      break;
    }
  }
  if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
    lua_pushfstring(L, "%s%s", where, lua_tostring(L, -1));
  else
    lua_pushfstring(L, "%sslow-path derivatives raised an error that is a %s value, not a "
                    "message (pass a string to error())", where, luaL_typename(L, 1));
  return 1;
}


/* Runs in the middle of the engine's loop: no Lua error may escape (pcall).
** After a failure the run stops; evaluations until then do nothing. */
static int callback_call(void *ud, const nm_view *v)
{
  callback *c = ud;
  lua_State *L = c->owner->running;
  if (!L || c->owner->callback_failed) return 1;
  int top = lua_gettop(L);
  if (!lua_checkstack(L, 5)) {
    c->owner->callback_failed = 1;
    lua_pushliteral(L, "slow-path derivatives: Lua stack overflow");
    lua_setfield(L, LUA_REGISTRYINDEX, NM_CALLBACK_ERROR);
    return 1;
  }
  lua_pushcfunction(L, callback_msgh);
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->fn_ref);
  lua_createtable(L, (int)c->n_read, 0);
  for (size_t i = 0; i < c->n_read; i++) {
    long k = c->read_idx[i];
    double x = c->read_kind[i] == FROM_SIGNAL ? v->V[k] : c->read_kind[i] == FROM_PARAM ? v->P[k]
                                                                                        : v->U[k];
    nmL_pushvalue(L, x);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_pushnumber(L, v->t);
  int failed = lua_pcall(L, 2, 1, top + 1) != LUA_OK;
  if (!failed && lua_type(L, -1) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_pushliteral(L, "slow-path derivatives must return a table of numbers");
    failed = 1;
  }
  for (size_t i = 0; !failed && i < c->n_write; i++) {
    lua_rawgeti(L, -1, (lua_Integer)i + 1);
    int ok;
    double x = lua_tonumberx(L, -1, &ok);
    lua_pop(L, 1);
    if (!ok) {
      lua_pop(L, 1);
      lua_pushfstring(L, "slow-path derivatives: value %d is not a number", (int)i + 1);
      failed = 1;
      break;
    }
    if (c->write_kind[i] == TO_DERIV) v->D[c->write_idx[i]] = x;
    else v->V[c->write_idx[i]] = x;
  }
  if (failed) {
    c->owner->callback_failed = 1;
    lua_setfield(L, LUA_REGISTRYINDEX, NM_CALLBACK_ERROR);
  }
  lua_settop(L, top);
  return failed;
}


static void *copy_out(const void *src, size_t n, size_t size)
{
  void *p = malloc(n * size + 1);
  if (p && n) memcpy(p, src, n * size);
  return p;
}


/* m:add_callback(fn, { read_kind = {...}, read_idx = {...}, write_kind = {...},
** write_idx = {...} }); kinds: 0 signal, 1 param, 2 input / 0 deriv, 1 signal. */
static int model_add_callback(lua_State *L)
{
  nm_model *m = nmL_checkmodel_unused(L, 1, "add_callback");
  LModel *lm = nmL_checklmodel(L, 1);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  luaL_checktype(L, 3, LUA_TTABLE);
  size_t nr, nr2, nw, nw2;
  long *rk = nmL_indices(L, 3, "read_kind", &nr), *ri = nmL_indices(L, 3, "read_idx", &nr2);
  long *wk = nmL_indices(L, 3, "write_kind", &nw), *wi = nmL_indices(L, 3, "write_idx", &nw2);
  if (nr != nr2 || nw != nw2) return luaL_error(L, "add_callback: kind and index arrays differ");
  size_t nv = nm_model_n_signals(m), ns = nm_model_n_state(m);
  const size_t read_limit[] = { nv, nm_model_n_param(m), nm_model_n_input(m) };
  static const char *const read_names[] = { "signal", "parameter", "input" };
  for (size_t i = 0; i < nr; i++) {
    if (rk[i] < FROM_SIGNAL || rk[i] > FROM_INPUT)
      return luaL_error(L, "add_callback: read_kind[%d] is %I; allowed: 0 (signal), 1 "
                        "(parameter), 2 (input)", (int)i + 1, (lua_Integer)rk[i]);
    if (ri[i] < 0 || (size_t)ri[i] >= read_limit[rk[i]])
      return luaL_error(L, "add_callback: read_idx[%d] = %I is not a %s of the model (0 to %I)",
                        (int)i + 1, (lua_Integer)ri[i], read_names[rk[i]],
                        (lua_Integer)read_limit[rk[i]] - 1);
  }
  for (size_t i = 0; i < nw; i++) {
    if (wk[i] < TO_DERIV || wk[i] > TO_SIGNAL)
      return luaL_error(L, "add_callback: write_kind[%d] is %I; allowed: 0 (derivative), 1 "
                        "(signal)", (int)i + 1, (lua_Integer)wk[i]);
    size_t limit = wk[i] == TO_DERIV ? ns : nv;
    if (wi[i] < 0 || (size_t)wi[i] >= limit)
      return luaL_error(L, "add_callback: write_idx[%d] = %I is not a %s of the model (0 to %I)",
                        (int)i + 1, (lua_Integer)wi[i], wk[i] == TO_DERIV ? "state variable"
                        : "signal", (lua_Integer)limit - 1);
  }
  callback *c = calloc(1, sizeof *c);
  if (!c) return nmL_fail(L, NM_ENOMEM, "add_callback");
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  c->main = lua_tothread(L, -1);
  lua_pop(L, 1);
  c->owner = lm;
  c->n_read = nr;
  c->n_write = nw;
  c->read_kind = malloc((nr + 1) * sizeof(int));
  c->write_kind = malloc((nw + 1) * sizeof(int));
  c->read_idx = copy_out(ri, nr, sizeof(long));
  c->write_idx = copy_out(wi, nw, sizeof(long));
  if (!c->read_kind || !c->write_kind || !c->read_idx || !c->write_idx) {
    c->fn_ref = LUA_NOREF;
    callback_release(c);
    return nmL_fail(L, NM_ENOMEM, "add_callback");
  }
  for (size_t i = 0; i < nr; i++) c->read_kind[i] = (int)rk[i];
  for (size_t i = 0; i < nw; i++) c->write_kind[i] = (int)wk[i];
  lua_pushvalue(L, 2);
  c->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  int status = nm_model_add_callback(m, callback_call, c, callback_release);
  if (status != NM_OK) {
    callback_release(c);
    return nmL_model_fail(L, m, status);
  }
  return 0;
}


void nmL_callback_error(lua_State *L)
{
  lua_getfield(L, LUA_REGISTRYINDEX, NM_CALLBACK_ERROR);
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, NM_CALLBACK_ERROR);
}


void nmL_open_callback(lua_State *L)
{
  luaL_getmetatable(L, NM_MODEL_MT);
  lua_getfield(L, -1, "__index");
  lua_pushcfunction(L, model_add_callback);
  lua_setfield(L, -2, "add_callback");
  lua_pop(L, 2);
}
