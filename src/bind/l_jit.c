/*
** l_jit.c: core.jit_stats(), what native code for programs this process
** has had (nm_jit_stats; docs/jit.md), and core.jit_check(), the engine's
** reading of NEUROMASS_JIT.  The run option itself is read by
** sim:run (l_sim.c, field "jit": enum nm_jit_mode).
*/
#include "bind.h"


/* core.jit_stats() -> { compiled =, loaded =, refused =, failed =, native =,
** switched =, compiling = }: switched counts programs a run switched to native
** code midway, compiling the compiles in flight now (docs/jit.md). */
static int core_jit_stats(lua_State *L)
{
  nm_jit_counts c;
  nm_jit_stats(&c);
  lua_createtable(L, 0, 7);
  const struct { const char *k; unsigned long v; } f[] = {
    { "compiled", c.compiled }, { "loaded", c.loaded }, { "refused", c.refused },
    { "failed", c.failed }, { "native", c.native }, { "switched", c.switched },
    { "compiling", c.compiling }
  };
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
    lua_pushinteger(L, (lua_Integer)f[i].v);
    lua_setfield(L, -2, f[i].k);
  }
  return 1;
}


/* core.jit_check() -> true | nil, failure { kind = "invalid", message } when
** NEUROMASS_JIT is not off, 0, on, 1 or unset (nm_jit_env_check: every run's
** reading), so that an exploration refuses it before any point runs. */
static int core_jit_check(lua_State *L)
{
  nm_error err;
  int rc = nm_jit_env_check(&err);
  if (rc < 0) {
    nmL_push_failure(L, "invalid", nm_error_text(&err, rc));
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}


void nmL_open_jit(lua_State *L)
{
  lua_pushcfunction(L, core_jit_stats);
  lua_setfield(L, -2, "jit_stats");
  lua_pushcfunction(L, core_jit_check);
  lua_setfield(L, -2, "jit_check");
}
