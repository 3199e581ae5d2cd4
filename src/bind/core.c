/*
** core.c: luaopen_neuromass_core, the entry point of the C module, and the
** small helpers every binding file uses.
*/
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bind.h"
#include "l_audio.h"
#include "l_bold.h"


size_t nmL_length(lua_State *L, int i, const char *key, size_t size)
{
  lua_Integer len = luaL_len(L, i);
  if (len < 0 || (lua_Unsigned)len >= SIZE_MAX / size)
    luaL_error(L, "field '%s' has a length of %I elements, which cannot be allocated", key, len);
  return (size_t)len;
}


const char *nmL_show_number(lua_State *L, int i)
{
  if (lua_isinteger(L, i)) return lua_pushfstring(L, "%I", lua_tointeger(L, i));
  double v = lua_tonumber(L, i);
  if (isnan(v)) return lua_pushliteral(L, "nan");
  if (isinf(v)) return lua_pushstring(L, v > 0 ? "inf" : "-inf");
  char buf[40];
  for (int digits = 15; digits <= 17; digits++) {
    snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (strtod(buf, NULL) == v) break;
  }
  return lua_pushstring(L, buf);
}


/* "'x' (a string)" or "a boolean": the value at i, for messages. */
static const char *describe(lua_State *L, int i)
{
  if (lua_type(L, i) == LUA_TSTRING) return lua_pushfstring(L, "'%s'", lua_tostring(L, i));
  if (lua_type(L, i) == LUA_TNUMBER) return nmL_show_number(L, i);
  return lua_pushfstring(L, "a %s", luaL_typename(L, i));
}


double *nmL_numbers(lua_State *L, int t, const char *key, size_t *n)
{
  t = lua_absindex(L, t);
  if (lua_getfield(L, t, key) != LUA_TTABLE)
    luaL_error(L, "field '%s' must be an array of numbers", key);
  size_t len = nmL_length(L, -1, key, sizeof(double));
  double *v = lua_newuserdatauv(L, (len + 1) * sizeof *v, 0);
  for (size_t i = 0; i < len; i++) {
    lua_geti(L, -2, (lua_Integer)i + 1);
    int ok;
    v[i] = lua_tonumberx(L, -1, &ok);
    if (!ok) luaL_error(L, "field '%s': element %I is %s, not a number", key, (lua_Integer)i + 1,
                        describe(L, -1));
    lua_pop(L, 1);
  }
  lua_remove(L, -2);
  *n = len;
  return v;
}


long *nmL_indices(lua_State *L, int t, const char *key, size_t *n)
{
  t = lua_absindex(L, t);
  if (lua_getfield(L, t, key) != LUA_TTABLE)
    luaL_error(L, "field '%s' must be an array of integers", key);
  size_t len = nmL_length(L, -1, key, sizeof(long));
  long *v = lua_newuserdatauv(L, (len + 1) * sizeof *v, 0);
  for (size_t i = 0; i < len; i++) {
    lua_geti(L, -2, (lua_Integer)i + 1);
    int ok;
    v[i] = (long)lua_tointegerx(L, -1, &ok);
    if (!ok) luaL_error(L, "field '%s': element %I is %s, not an integer", key, (lua_Integer)i + 1,
                        describe(L, -1));
    lua_pop(L, 1);
  }
  lua_remove(L, -2);
  *n = len;
  return v;
}


void nmL_newclass(lua_State *L, const char *name, const luaL_Reg *meth, lua_CFunction gc,
                  lua_CFunction tostring)
{
  luaL_newmetatable(L, name);
  lua_newtable(L);
  luaL_setfuncs(L, meth, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__close");
  if (tostring) {
    lua_pushcfunction(L, tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
}


int nmL_fail(lua_State *L, int status, const char *what)
{
  return luaL_error(L, "%s: %s", what, nm_strerror(status));
}


int nmL_model_fail(lua_State *L, const nm_model *m, int status)
{
  return luaL_error(L, "%s", nm_model_error(m, status));
}


void nmL_push_failure(lua_State *L, const char *kind, const char *message)
{
  luaL_pushfail(L);
  lua_createtable(L, 0, 4);
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
  if (message) {
    lua_pushstring(L, message);
    lua_setfield(L, -2, "message");
  }
}


void nmL_push_csv_partial(lua_State *L, const nm_csv *w)
{
  if (!w || !nm_csv_kept(w)) return;
  lua_pushstring(L, nm_csv_kept(w));
  lua_setfield(L, -2, "csv_partial");
}


int nmL_option(lua_State *L, int i, const char *const list[], const char *what)
{
  i = lua_absindex(L, i);
  const char *name = lua_type(L, i) == LUA_TSTRING ? lua_tostring(L, i) : NULL;
  for (int k = 0; name && list[k]; k++)
    if (strcmp(list[k], name) == 0) return k;
  const char *got = describe(L, i);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int k = 0; list[k]; k++) {
    if (k) luaL_addstring(&b, list[k + 1] ? ", " : " or ");
    luaL_addstring(&b, list[k]);
  }
  luaL_pushresult(&b);
  return luaL_error(L, "%s is %s; allowed: %s", what, got, lua_tostring(L, -1));
}


/* Is the key at a before the key at b in the library's order of keys
** (lua/neuromass/keyorder.lua: numbers, then strings, then booleans, then
** the rest), not in lua_next's hash order, which changes from process to process? */
static int key_before(lua_State *L, int a, int b)
{
  static const int rank[LUA_NUMTYPES] = { [LUA_TNUMBER] = 1, [LUA_TSTRING] = 2, [LUA_TBOOLEAN] = 3 };
  int ta = lua_type(L, a), tb = lua_type(L, b);
  int ra = ta >= 0 && rank[ta] ? rank[ta] : 4, rb = tb >= 0 && rank[tb] ? rank[tb] : 4;
  if (ra != rb) return ra < rb;
  if (ra == 1 || ra == 2) return lua_compare(L, a, b, LUA_OPLT);
  if (ra == 3) return !lua_toboolean(L, a) && lua_toboolean(L, b);
  return 0;
}


void nmL_opts(lua_State *L, int t, const char *const known[], const char *what)
{
  t = lua_absindex(L, t);
  lua_pushnil(L);                                /* the first unknown key, in key_before's order */
  int first = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    const char *key = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    int k = 0;
    while (key && known[k] && strcmp(known[k], key) != 0) k++;
    if (key && known[k]) continue;
    if (lua_isnil(L, first) || key_before(L, -1, first)) {
      lua_pushvalue(L, -1);
      lua_replace(L, first);
    }
  }
  if (lua_isnil(L, first)) { lua_pop(L, 1); return; }
  const char *got = describe(L, first);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int k = 0; known[k]; k++) {
    if (k) luaL_addstring(&b, ", ");
    luaL_addstring(&b, known[k]);
  }
  luaL_pushresult(&b);
  luaL_error(L, "%s: unknown option %s (known: %s)", what, got, lua_tostring(L, -1));
}


/* Pushes field `key` of the table at t, raising when it is absent: the Lua
** library passes every field (an absent one is a bug of the library). */
static int required(lua_State *L, int t, const char *key, const char *what)
{
  int type = lua_getfield(L, t, key);
  if (type == LUA_TNIL)
    luaL_error(L, "%s: field '%s' is missing (internal error: the library passes every field)",
               what, key);
  return type;
}


/* Pops the field read; raises "<what>: field '<key>' must be <shape>, got ..." unless ok. */
static void settle(lua_State *L, int ok, const char *what, const char *key, const char *shape)
{
  if (!ok) luaL_error(L, "%s: field '%s' must be %s, got %s", what, key, shape, describe(L, -1));
  lua_pop(L, 1);
}


lua_Integer nmL_intfield(lua_State *L, int t, const char *key, const char *what)
{
  int ok;
  required(L, t, key, what);
  lua_Integer v = lua_tointegerx(L, -1, &ok);
  settle(L, ok, what, key, "an integer");
  return v;
}


double nmL_numfield(lua_State *L, int t, const char *key, const char *what)
{
  int ok;
  required(L, t, key, what);
  double v = lua_tonumberx(L, -1, &ok);
  settle(L, ok, what, key, "a number");
  return v;
}


int nmL_boolfield(lua_State *L, int t, const char *key, const char *what)
{
  int ok = required(L, t, key, what) == LUA_TBOOLEAN;
  int v = lua_toboolean(L, -1);
  settle(L, ok, what, key, "a boolean");
  return v;
}


int nmL_choicefield(lua_State *L, int t, const char *key, const char *const list[],
                    const char *what)
{
  required(L, t, key, what);
  lua_pushfstring(L, "%s: field '%s'", what, key);
  int k = nmL_option(L, -2, list, lua_tostring(L, -1));
  lua_pop(L, 2);
  return k;
}


int luaopen_neuromass_core(lua_State *L);
int luaopen_neuromass_nlopt(lua_State *L);

int luaopen_neuromass_core(lua_State *L)
{
  /* neuromass.nlopt (l_nlopt.c) is linked here too: require finds it. */
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_neuromass_nlopt);
  lua_setfield(L, -2, "neuromass.nlopt");
  lua_pop(L, 1);
  lua_newtable(L);
  nmL_open_model(L);
  nmL_open_callback(L);
  nmL_open_sim(L);
  nmL_open_stop(L);
  nmL_open_result(L);
  nmL_open_stim(L);
  nmL_open_func(L);
  nmL_open_audio(L);
  nmL_open_bold(L);
  nmL_open_file(L);
  nmL_open_jit(L);
  nmL_open_matrix(L);
  nmL_open_simd(L);
  nmL_open_dir(L);
  lua_pushliteral(L, NM_VERSION);
  lua_setfield(L, -2, "version");
  return 1;
}
