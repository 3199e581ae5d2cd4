/* clock.c: the Lua module `bench_clock` the benchmark scripts load into the
 * neuromass host: a monotonic wall clock and the process's peak memory.
 *   now()       seconds on CLOCK_MONOTONIC (only differences mean anything)
 *   maxrss_kb() the peak resident set size of this process so far, in KiB
 * Built as a shared object without liblua: the host exports Lua's symbols. */
#define _POSIX_C_SOURCE 200809L
#include <sys/resource.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>

int luaopen_bench_clock(lua_State *L);

static int l_now(lua_State *L)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + 1e-9 * (lua_Number)ts.tv_nsec);
  return 1;
}

static int l_maxrss_kb(lua_State *L)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  lua_pushinteger(L, (lua_Integer)ru.ru_maxrss);
  return 1;
}

int luaopen_bench_clock(lua_State *L)
{
  static const luaL_Reg fns[] = { { "now", l_now }, { "maxrss_kb", l_maxrss_kb }, { NULL, NULL } };
  luaL_newlib(L, fns);
  return 1;
}
