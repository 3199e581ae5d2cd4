/*
** bind.h: helpers shared by the files that expose the engine to Lua as the
** module `neuromass.core`.  Indices crossing this boundary are 0-based, as in
** the engine; the Lua layer converts where users see 1-based tables.
*/
#ifndef nm_bind_h
#define nm_bind_h

#include <lauxlib.h>
#include <lua.h>

#include "engine/nm.h"

#define NM_MODEL_MT "neuromass.Model"
#define NM_SIM_MT "neuromass.Simulation"
#define NM_RESULT_MT "neuromass.Result"
#define NM_STIM_MT "neuromass.Stimulus"

typedef struct { nm_model *m; } LModel;

nm_model *nmL_checkmodel(lua_State *L, int i);
nm_stim *nmL_checkstim(lua_State *L, int i);
/* Reads opts.stimuli = { {stim =, slot = {}, channel = {}, kind = {"param"|"input"}} }
** into drivers whose arrays are anchored in the table at `anchor`. */
const nm_stim_driver *nmL_stim_drivers(lua_State *L, int opts, int anchor, size_t *n);

/* Reads field `key` of the table at `t` as an array of n numbers into a new
** userdata left on the stack (so that a Lua error cannot leak it). */
double *nmL_numbers(lua_State *L, int t, const char *key, size_t *n);
/* The length of the array at `i` as a count of elements of `size` bytes;
** raises an error naming field `key` when that many cannot be allocated. */
size_t nmL_length(lua_State *L, int i, const char *key, size_t size);
long *nmL_indices(lua_State *L, int t, const char *key, size_t *n);

/* Registers the metatable `name` of a userdata type: `meth` as its methods,
** `gc` as __gc and __close, `tostring` (may be NULL) as __tostring. */
void nmL_newclass(lua_State *L, const char *name, const luaL_Reg *meth, lua_CFunction gc,
                  lua_CFunction tostring);

/* Raises "<what>: <engine message>" for a failed engine call. */
int nmL_fail(lua_State *L, int status, const char *what);

/* Raises the error message a failed slow-path callback left behind. */
int nmL_callback_error(lua_State *L);

void nmL_open_model(lua_State *L);
void nmL_open_callback(lua_State *L);
void nmL_open_sim(lua_State *L);
void nmL_open_stim(lua_State *L);

#endif
