/*
** core.c: luaopen_neuromass_core, the entry point of the C module, and the
** small helpers every binding file uses.
*/
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include <gsl/gsl_errno.h>

#include "bind.h"
#include "l_audio.h"


size_t nmL_length(lua_State *L, int i, const char *key, size_t size)
{
  lua_Integer len = luaL_len(L, i);
  if (len < 0 || (lua_Unsigned)len >= SIZE_MAX / size)
    luaL_error(L, "field '%s' has a length of %I elements, which cannot be allocated", key, len);
  return (size_t)len;
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
    if (!ok) luaL_error(L, "field '%s': element %d is not a number", key, (int)i + 1);
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
    if (!ok) luaL_error(L, "field '%s': element %d is not an integer", key, (int)i + 1);
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


static int core_strerror(lua_State *L)
{
  lua_pushstring(L, nm_strerror((int)luaL_checkinteger(L, 1)));
  return 1;
}


/* core.mkdir_p(path) -> true | nil, message: creates a directory and its parents. */
static int core_mkdir_p(lua_State *L)
{
  size_t len;
  const char *path = luaL_checklstring(L, 1, &len);
  char *buf = lua_newuserdatauv(L, len + 1, 0);
  memcpy(buf, path, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    char keep = buf[i];
    buf[i] = '\0';
    if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
      luaL_pushfail(L);
      lua_pushstring(L, strerror(errno));
      return 2;
    }
    buf[i] = keep;
  }
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
    luaL_pushfail(L);
    lua_pushliteral(L, "not a directory");
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}


int luaopen_neuromass_core(lua_State *L);

int luaopen_neuromass_core(lua_State *L)
{
  gsl_set_error_handler_off();
  lua_newtable(L);
  nmL_open_model(L);
  nmL_open_callback(L);
  nmL_open_sim(L);
  nmL_open_stim(L);
  nmL_open_audio(L);
  lua_pushcfunction(L, core_mkdir_p);
  lua_setfield(L, -2, "mkdir_p");
  lua_pushcfunction(L, core_strerror);
  lua_setfield(L, -2, "strerror");
  lua_pushliteral(L, NM_VERSION);
  lua_setfield(L, -2, "version");
  return 1;
}
