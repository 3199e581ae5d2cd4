/*
** l_stim.c: the Lua type neuromass.Stimulus, a stimulus tree compiled by the
** engine (stim.c) for one request (duration, dt).  lua/neuromass/stimulus/compile.lua
** flattens its objects into the node list read here; the same compiled tree
** serves as_array (render) and model runs (a driver of sim:run).
*/
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "bind.h"

typedef struct { nm_stim *s; } LStim;

static const char *const kind_names[] = {
  "zero", "wiener", "ou", "step", "sin", "square", "ramp", "exp", "array", "sum", "concat", NULL
};

static const char *const why_names[] = {
  "", "tree", "duration", "channels", "array", "length", "depth", "size"
};


nm_stim *nmL_checkstim(lua_State *L, int i)
{
  LStim *ls = luaL_checkudata(L, i, NM_STIM_MT);
  if (!ls->s) luaL_error(L, "attempt to use a freed stimulus");
  return ls->s;
}


static double optnum(lua_State *L, int t, const char *k, double dflt, int *present)
{
  int type = lua_getfield(L, t, k);
  double v = dflt;
  if (present) *present = type != LUA_TNIL;
  if (type != LUA_TNIL) {
    int ok;
    v = lua_tonumberx(L, -1, &ok);
    if (!ok) luaL_error(L, "stimulus node: field '%s' must be a number", k);
  }
  lua_pop(L, 1);
  return v;
}


static uint64_t optseed(lua_State *L, int t, const char *k)
{
  lua_getfield(L, t, k);
  lua_Integer v = luaL_optinteger(L, -1, 0);
  lua_pop(L, 1);
  return (uint64_t)v;
}


/* A count field of a node (absent: dflt); stimulus.lua has checked it. */
static size_t optcount(lua_State *L, int t, const char *k, lua_Integer dflt)
{
  lua_getfield(L, t, k);
  int ok = 1;
  lua_Integer v = lua_isnil(L, -1) ? dflt : lua_tointegerx(L, -1, &ok);
  if (!ok || v < 0) luaL_error(L, "stimulus node: field '%s' must be a non-negative integer", k);
  lua_pop(L, 1);
  return (size_t)v;
}


/* Reads node `t` into *d; arrays it points to are userdata anchored in the
** table at `anchor`. */
static void read_node(lua_State *L, int t, int anchor, nm_stim_node *d)
{
  memset(d, 0, sizeof *d);
  lua_getfield(L, t, "kind");
  d->kind = luaL_checkoption(L, -1, NULL, kind_names);
  lua_pop(L, 1);
  int has;
  d->n_children = optcount(L, t, "children", 0);
  d->channels = optcount(L, t, "channels", 1);
  d->p[0] = optnum(L, t, "p1", 0, NULL);
  d->p[1] = optnum(L, t, "p2", 0, NULL);
  d->p[2] = optnum(L, t, "p3", 0, NULL);
  d->x0 = optnum(L, t, "x0", 0, &has);
  if (has) d->flags |= NM_STIM_HAS_X0;
  d->start = optnum(L, t, "start", 0, &has);
  if (has) d->flags |= NM_STIM_HAS_START;
  d->end = optnum(L, t, "end", 0, &has);
  if (has) d->flags |= NM_STIM_HAS_END;
  lua_getfield(L, t, "dc_bias");
  if (lua_toboolean(L, -1)) d->flags |= NM_STIM_DC_BIAS;
  lua_getfield(L, t, "decay");
  if (lua_toboolean(L, -1)) d->flags |= NM_STIM_DECAY;
  lua_pop(L, 2);
  d->seed = optseed(L, t, "seed");
  d->key = optseed(L, t, "key");
  size_t n;
  if (lua_getfield(L, t, "ratios") == LUA_TTABLE) {
    lua_pop(L, 1);
    double *r = nmL_numbers(L, t, "ratios", &n);
    if (n != d->n_children) luaL_error(L, "stimulus node: one ratio per child expected");
    d->ratios = r;
    lua_rawseti(L, anchor, (lua_Integer)luaL_len(L, anchor) + 1);
  } else {
    lua_pop(L, 1);
  }
  if (lua_getfield(L, t, "values") == LUA_TTABLE) {
    int v = lua_gettop(L);
    size_t rows = (size_t)luaL_len(L, v), len = 0;
    for (size_t r = 0; r < rows; r++) {
      lua_geti(L, v, (lua_Integer)r + 1);
      size_t lr = lua_istable(L, -1) ? (size_t)luaL_len(L, -1) : 0;
      if (r == 0) len = lr;
      if (lr != len) luaL_error(L, "stimulus node: rows of samples differ in length");
      lua_pop(L, 1);
    }
    if (len && rows > (SIZE_MAX / sizeof(double) - 1) / len) luaL_error(L, "stimulus node: too many samples");
    double *vals = lua_newuserdatauv(L, (rows * len + 1) * sizeof *vals, 0);
    for (size_t r = 0; r < rows; r++) {
      lua_geti(L, v, (lua_Integer)r + 1);
      for (size_t j = 0; j < len; j++) {
        lua_geti(L, -1, (lua_Integer)j + 1);
        int ok;
        vals[r * len + j] = lua_tonumberx(L, -1, &ok);
        if (!ok) luaL_error(L, "stimulus node: sample %d of row %d is not a number", (int)j + 1, (int)r + 1);
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
    }
    d->values = vals;
    d->rows = rows;
    d->n_values = len;
    lua_rawseti(L, anchor, (lua_Integer)luaL_len(L, anchor) + 1);
  }
  lua_pop(L, 1);
}


/*
** core.stimulus(nodes, duration, dt) -> stimulus
**   | nil, node (1-based), why ("channels", "length", ..., "memory" when
**     allocating failed), node's duration, and for why = "size" the bytes
**     needed and the limit
*/
static int stim_new(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  double duration = luaL_checknumber(L, 2), dt = luaL_checknumber(L, 3);
  lua_settop(L, 3);
  size_t n = (size_t)luaL_len(L, 1);
  lua_newtable(L);                                                     /* 4: anchors */
  nm_stim_node *nodes = lua_newuserdatauv(L, (n + 1) * sizeof *nodes, 0);   /* 5 */
  for (size_t i = 0; i < n; i++) {
    lua_geti(L, 1, (lua_Integer)i + 1);
    luaL_checktype(L, -1, LUA_TTABLE);
    read_node(L, lua_gettop(L), 4, &nodes[i]);
    lua_pop(L, 1);
  }
  LStim *ls = lua_newuserdatauv(L, sizeof *ls, 0);
  ls->s = NULL;
  luaL_setmetatable(L, NM_STIM_MT);
  int status;
  nm_stim_error err;
  ls->s = nm_stim_new(nodes, n, duration, dt, &status, &err);
  if (!ls->s) {
    /* NM_ENOMEM (the only other status): the machine ran out while building. */
    int nomem = status != NM_EINVAL;
    luaL_pushfail(L);
    lua_pushinteger(L, nomem ? 1 : err.node + 1);
    lua_pushstring(L, nomem ? "memory" : err.why > 0 && err.why <= NM_STIM_TOO_BIG ? why_names[err.why] : "tree");
    lua_pushnumber(L, err.duration);
    lua_pushnumber(L, err.bytes);
    lua_pushnumber(L, err.limit);
    return 6;
  }
  return 1;
}


static int stim_gc(lua_State *L)
{
  LStim *ls = luaL_checkudata(L, 1, NM_STIM_MT);
  nm_stim_free(ls->s);
  ls->s = NULL;
  return 0;
}


/* Bytes to hand `values` samples to Lua: the rendered doubles and the
** tables' slots (a Lua 5.4 TValue is 16 bytes). */
#define RENDER_BYTES (sizeof(double) + 16)

/* st:render(count) -> { {channel 1's samples}, {channel 2's}, ... }
**   | nil, "size", bytes needed, the limit (stimulus.lua explains) */
static int stim_render(lua_State *L)
{
  nm_stim *s = nmL_checkstim(L, 1);
  lua_Integer count = luaL_checkinteger(L, 2);
  luaL_argcheck(L, count >= 0, 2, "count must not be negative");
  size_t nc = nm_stim_channels(s), k = (size_t)count, limit = nm_stim_memory_limit();
  /* Lua tables are sized by int; the product must fit and fit in memory. */
  if (nc > INT_MAX || k > INT_MAX || (k && nc > limit / RENDER_BYTES / k)) {
    luaL_pushfail(L);
    lua_pushliteral(L, "size");
    lua_pushnumber(L, (double)nc * (double)k * RENDER_BYTES);
    lua_pushnumber(L, (double)limit);
    return 4;
  }
  double *out = lua_newuserdatauv(L, (nc * k + 1) * sizeof *out, 0);
  int status = nm_stim_render(s, out, k);
  if (status != NM_OK) return nmL_fail(L, status, "stimulus");
  lua_createtable(L, (int)nc, 0);
  for (size_t c = 0; c < nc; c++) {
    lua_createtable(L, (int)k, 0);
    for (size_t j = 0; j < k; j++) {
      lua_pushnumber(L, out[c * k + j]);
      lua_rawseti(L, -2, (lua_Integer)j + 1);
    }
    lua_rawseti(L, -2, (lua_Integer)c + 1);
  }
  return 1;
}


static int stim_channels(lua_State *L)
{
  lua_pushinteger(L, (lua_Integer)nm_stim_channels(nmL_checkstim(L, 1)));
  return 1;
}


/* Anchors the userdata on top of the stack in the table at `anchor`. */
static void anchor_top(lua_State *L, int anchor)
{
  lua_rawseti(L, anchor, (lua_Integer)luaL_len(L, anchor) + 1);
}


const nm_stim_driver *nmL_stim_drivers(lua_State *L, int opts, int anchor, size_t *n)
{
  opts = lua_absindex(L, opts);
  anchor = lua_absindex(L, anchor);
  *n = 0;
  if (lua_getfield(L, opts, "stimuli") != LUA_TTABLE) {
    lua_pop(L, 1);
    return NULL;
  }
  int list = lua_gettop(L);
  size_t nd = (size_t)luaL_len(L, list);
  nm_stim_driver *drv = lua_newuserdatauv(L, (nd + 1) * sizeof *drv, 0);
  anchor_top(L, anchor);
  for (size_t d = 0; d < nd; d++) {
    lua_geti(L, list, (lua_Integer)d + 1);
    int t = lua_gettop(L);
    luaL_checktype(L, t, LUA_TTABLE);
    lua_getfield(L, t, "stim");
    drv[d].stim = nmL_checkstim(L, -1);
    lua_pop(L, 1);                          /* the caller's table keeps it alive */
    size_t nt, n2, n3;
    long *slot = nmL_indices(L, t, "slot", &nt);
    anchor_top(L, anchor);
    long *channel = nmL_indices(L, t, "channel", &n2);
    anchor_top(L, anchor);
    lua_getfield(L, t, "kind");
    n3 = lua_istable(L, -1) ? (size_t)luaL_len(L, -1) : 0;
    int *kind = lua_newuserdatauv(L, (n3 + 1) * sizeof *kind, 0);
    size_t *ch = lua_newuserdatauv(L, (n2 + 1) * sizeof *ch, 0);
    for (size_t j = 0; j < n3; j++) {
      lua_geti(L, -3, (lua_Integer)j + 1);
      const char *k = luaL_checkstring(L, -1);
      kind[j] = strcmp(k, "input") == 0 ? NM_TARGET_INPUT : NM_TARGET_PARAM;
      lua_pop(L, 1);
    }
    for (size_t j = 0; j < n2; j++) {
      if (channel[j] < 0) luaL_error(L, "stimulus driver: negative channel");
      ch[j] = (size_t)channel[j];
    }
    anchor_top(L, anchor);
    anchor_top(L, anchor);
    lua_pop(L, 2);                          /* kind table, driver table */
    if (n2 != nt || n3 != nt) luaL_error(L, "stimulus driver: slot, channel and kind differ in length");
    drv[d].n_targets = nt;
    drv[d].slot = slot;
    drv[d].channel = ch;
    drv[d].kind = kind;
  }
  lua_pop(L, 1);                            /* the list */
  *n = nd;
  return drv;
}


/* core.stim_length(duration, dt): samples on the grid of that request. */
static int stim_length(lua_State *L)
{
  lua_pushinteger(L, (lua_Integer)nm_stim_length(luaL_checknumber(L, 1), luaL_checknumber(L, 2)));
  return 1;
}


/* core.stim_stream_seed(seed, key, channel): for tests of stream independence. */
static int stim_stream_seed(lua_State *L)
{
  lua_pushinteger(L, (lua_Integer)nm_stim_stream_seed((uint64_t)luaL_checkinteger(L, 1),
                                                      (uint64_t)luaL_checkinteger(L, 2),
                                                      (size_t)luaL_checkinteger(L, 3)));
  return 1;
}


static int stim_tostring(lua_State *L)
{
  LStim *ls = luaL_checkudata(L, 1, NM_STIM_MT);
  if (ls->s) lua_pushfstring(L, "neuromass.Stimulus (%p)", (void *)ls->s);
  else lua_pushliteral(L, "neuromass.Stimulus (freed)");
  return 1;
}


void nmL_open_stim(lua_State *L)
{
  static const luaL_Reg meth[] = {
    { "render", stim_render }, { "channels", stim_channels },
    { "free", stim_gc }, { NULL, NULL }
  };
  nmL_newclass(L, NM_STIM_MT, meth, stim_gc, stim_tostring);
  lua_pushcfunction(L, stim_new);
  lua_setfield(L, -2, "stimulus");
  lua_pushcfunction(L, stim_length);
  lua_setfield(L, -2, "stim_length");
  lua_pushcfunction(L, stim_stream_seed);
  lua_setfield(L, -2, "stim_stream_seed");
  lua_pushinteger(L, NM_STIM_MAX_DEPTH);
  lua_setfield(L, -2, "stim_max_depth");
}
