/*
** l_callback.c: the slow path.  m:add_callback(fn, spec) makes the engine
** call the Lua function fn(values, t) at every right-hand-side evaluation;
** `values` holds the signals, parameters and inputs listed in spec.reads, and
** fn returns an array whose entries go to spec.writes (derivatives or
** signals).  This calls Lua once per evaluation: it is for prototyping.
*/
#include <stdlib.h>
#include <string.h>

#include "bind.h"

#define NM_CALLBACK_ERROR "neuromass.callback_error"

enum { FROM_SIGNAL, FROM_PARAM, FROM_INPUT };
enum { TO_DERIV, TO_SIGNAL };

typedef struct {
  lua_State *L;
  int fn_ref;
  size_t n_read, n_write;
  int *read_kind, *write_kind;
  long *read_idx, *write_idx;
} callback;


static void callback_release(void *ud)
{
  callback *c = ud;
  luaL_unref(c->L, LUA_REGISTRYINDEX, c->fn_ref);
  free(c->read_kind);
  free(c->write_kind);
  free(c->read_idx);
  free(c->write_idx);
  free(c);
}


/* Runs in the middle of the engine's loop: no Lua error may escape (pcall). */
static int callback_call(void *ud, const nm_view *v)
{
  callback *c = ud;
  lua_State *L = c->L;
  int top = lua_gettop(L);
  if (!lua_checkstack(L, 4)) return 1;
  lua_rawgeti(L, LUA_REGISTRYINDEX, c->fn_ref);
  lua_createtable(L, (int)c->n_read, 0);
  for (size_t i = 0; i < c->n_read; i++) {
    long k = c->read_idx[i];
    double x = c->read_kind[i] == FROM_SIGNAL ? v->V[k] : c->read_kind[i] == FROM_PARAM ? v->P[k]
                                                                                        : v->U[k];
    lua_pushnumber(L, x);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_pushnumber(L, v->t);
  int failed = lua_pcall(L, 2, 1, 0) != LUA_OK;
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
  if (failed) lua_setfield(L, LUA_REGISTRYINDEX, NM_CALLBACK_ERROR);
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
  nm_model *m = nmL_checkmodel(L, 1);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  luaL_checktype(L, 3, LUA_TTABLE);
  size_t nr, nr2, nw, nw2;
  long *rk = nmL_indices(L, 3, "read_kind", &nr), *ri = nmL_indices(L, 3, "read_idx", &nr2);
  long *wk = nmL_indices(L, 3, "write_kind", &nw), *wi = nmL_indices(L, 3, "write_idx", &nw2);
  if (nr != nr2 || nw != nw2) return luaL_error(L, "add_callback: kind and index arrays differ");
  size_t nv = nm_model_n_signals(m), ns = nm_model_n_state(m);
  for (size_t i = 0; i < nr; i++)
    if (rk[i] < FROM_SIGNAL || rk[i] > FROM_INPUT || ri[i] < 0 ||
        (rk[i] == FROM_SIGNAL && (size_t)ri[i] >= nv))
      return luaL_error(L, "add_callback: bad read %d", (int)i + 1);
  for (size_t i = 0; i < nw; i++)
    if (wk[i] < TO_DERIV || wk[i] > TO_SIGNAL || wi[i] < 0 ||
        (size_t)wi[i] >= (wk[i] == TO_DERIV ? ns : nv))
      return luaL_error(L, "add_callback: bad write %d", (int)i + 1);
  callback *c = calloc(1, sizeof *c);
  if (!c) return nmL_fail(L, NM_ENOMEM, "add_callback");
  c->L = L;
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
    return nmL_fail(L, status, "add_callback");
  }
  return 0;
}


/* Raises the message a failed callback left behind. */
int nmL_callback_error(lua_State *L)
{
  lua_getfield(L, LUA_REGISTRYINDEX, NM_CALLBACK_ERROR);
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, NM_CALLBACK_ERROR);
  return lua_error(L);
}


void nmL_open_callback(lua_State *L)
{
  luaL_getmetatable(L, NM_MODEL_MT);
  lua_getfield(L, -1, "__index");
  lua_pushcfunction(L, model_add_callback);
  lua_setfield(L, -2, "add_callback");
  lua_pop(L, 2);
}
