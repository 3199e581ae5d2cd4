/*
** l_simd.c: core.simd_check(), the engine's reading of NEUROMASS_SIMD
** (nm_simd_check, simd.c: the one rule), so that an exploration refuses a
** bad value at the user's line before any point runs (explore/common.lua).
*/
#include "bind.h"


/* core.simd_check() -> "off" | "avx2" | "avx512" (the set the engine's
** vector kernels use) | nil, failure { kind = "invalid", message } when
** NEUROMASS_SIMD names no set (the message names the value and what is
** allowed; a new simulation would fail with it). */
static int core_simd_check(lua_State *L)
{
  const char *level = NULL;
  nm_error err;
  int rc = nm_simd_check(&level, &err);
  if (rc != NM_OK) {
    nmL_push_failure(L, "invalid", nm_error_text(&err, rc));
    return 2;
  }
  lua_pushstring(L, level);
  return 1;
}


void nmL_open_simd(lua_State *L)
{
  lua_pushcfunction(L, core_simd_check);
  lua_setfield(L, -2, "simd_check");
}
