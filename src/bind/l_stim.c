/*
** l_stim.c: the Lua type neuromass.Stimulus, a stimulus tree compiled by the
** engine (stim.c) for one request (duration, dt).  lua/neuromass/stimulus/compile.lua
** flattens its objects into the node list read here; the same compiled tree
** serves as_array (render) and model runs (a driver of sim:run).
*/
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bind.h"

typedef struct { nm_stim *s; } LStim;

static const char *const kind_names[] = {
  "zero", "wiener", "ou", "step", "sin", "square", "ramp", "exp", "array", "sum", "concat", NULL
};

/* In the order of enum nm_target. */
static const char *const target_names[] = { "param", "input", NULL };

static const char *const why_names[] = {
  "", "tree", "duration", "channels", "array", "length", "depth", "size"
};


nm_stim *nmL_checkstim(lua_State *L, int i)
{
  LStim *ls = luaL_checkudata(L, i, NM_STIM_MT);
  if (!ls->s) luaL_error(L, "attempt to use a freed stimulus");
  return ls->s;
}


/* Anchors the userdata on top of the stack in the table at `anchor`. */
static void anchor_top(lua_State *L, int anchor)
{
  lua_rawseti(L, anchor, (lua_Integer)luaL_len(L, anchor) + 1);
}


/* A count field of node `what`: an integer, not negative. */
static size_t count(lua_State *L, int t, const char *k, const char *what)
{
  lua_Integer v = nmL_intfield(L, t, k, what);
  if (v < 0) luaL_error(L, "%s: field '%s' is %I; it must not be negative", what, k, v);
  return (size_t)v;
}


/* Field `k` of node `what` as a number when it is given (*present); a field
** whose absence means something (x0, start, end: the flags NM_STIM_HAS_*). */
static double optnum(lua_State *L, int t, const char *k, int *present, const char *what)
{
  *present = lua_getfield(L, t, k) != LUA_TNIL;
  lua_pop(L, 1);
  return *present ? nmL_numfield(L, t, k, what) : 0;
}


/* Field `values` of node `what`: rows of samples, all of one length, into a
** userdata anchored in the table at `anchor`. */
static void read_values(lua_State *L, int t, int anchor, nm_stim_node *d, const char *what)
{
  if (lua_getfield(L, t, "values") != LUA_TTABLE) {
    lua_pop(L, 1);
    return;
  }
  int v = lua_gettop(L);
  size_t rows = nmL_length(L, v, "values", sizeof(double)), len = 0;
  for (size_t r = 0; r < rows; r++) {
    if (lua_geti(L, v, (lua_Integer)r + 1) != LUA_TTABLE)
      luaL_error(L, "%s: values[%I] is a %s, not an array of samples", what, (lua_Integer)r + 1,
                 luaL_typename(L, -1));
    size_t lr = nmL_length(L, -1, "values", sizeof(double));
    if (r == 0) len = lr;
    if (lr != len)
      luaL_error(L, "%s: values[%I] has %I samples, values[1] has %I; rows must have one length", what,
                 (lua_Integer)r + 1, (lua_Integer)lr, (lua_Integer)len);
    lua_pop(L, 1);
  }
  if (len && rows > (SIZE_MAX / sizeof(double) - 1) / len)
    luaL_error(L, "%s: %I rows of %I samples cannot be allocated", what, (lua_Integer)rows, (lua_Integer)len);
  double *vals = lua_newuserdatauv(L, (rows * len + 1) * sizeof *vals, 0);
  for (size_t r = 0; r < rows; r++) {
    lua_geti(L, v, (lua_Integer)r + 1);
    for (size_t j = 0; j < len; j++) {
      lua_geti(L, -1, (lua_Integer)j + 1);
      int ok;
      vals[r * len + j] = lua_tonumberx(L, -1, &ok);
      if (!ok)
        luaL_error(L, "%s: sample %I of row %I is a %s, not a number", what, (lua_Integer)j + 1,
                   (lua_Integer)r + 1, luaL_typename(L, -1));
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  d->values = vals;
  d->rows = rows;
  d->n_values = len;
  anchor_top(L, anchor);
  lua_pop(L, 1);
}


/* Reads node i (0-based) of table `t` into *d; arrays it points to are
** userdata anchored in the table at `anchor`. */
static void read_node(lua_State *L, int t, size_t i, int anchor, nm_stim_node *d)
{
  static const char *const known[] = {
    "kind", "children", "channels", "p1", "p2", "p3", "x0", "start", "end", "dc_bias", "decay",
    "seed", "key", "ratios", "values", NULL
  };
  char what[48];
  snprintf(what, sizeof what, "stimulus: node %zu", i + 1);
  nmL_opts(L, t, known, what);
  memset(d, 0, sizeof *d);
  lua_getfield(L, t, "kind");
  lua_pushfstring(L, "%s: field 'kind'", what);
  d->kind = nmL_option(L, -2, kind_names, lua_tostring(L, -1));
  lua_pop(L, 2);
  /* Every field but x0, start, end (their absence is a flag), ratios (a
  ** concatenation's) and values (an array's) is required: composites give
  ** children, leaves channels, p1 to p3, dc_bias, decay, seed and key. */
  int has;
  if (d->kind == NM_STIM_SUM || d->kind == NM_STIM_CONCAT) {
    d->n_children = count(L, t, "children", what);
  } else {
    d->channels = count(L, t, "channels", what);
    d->p[0] = nmL_numfield(L, t, "p1", what);
    d->p[1] = nmL_numfield(L, t, "p2", what);
    d->p[2] = nmL_numfield(L, t, "p3", what);
    if (nmL_boolfield(L, t, "dc_bias", what)) d->flags |= NM_STIM_DC_BIAS;
    if (nmL_boolfield(L, t, "decay", what)) d->flags |= NM_STIM_DECAY;
    /* Seeds are 64-bit patterns: a negative integer is taken as its bits. */
    d->seed = (uint64_t)nmL_intfield(L, t, "seed", what);
    d->key = (uint64_t)nmL_intfield(L, t, "key", what);
  }
  d->x0 = optnum(L, t, "x0", &has, what);
  if (has) d->flags |= NM_STIM_HAS_X0;
  d->start = optnum(L, t, "start", &has, what);
  if (has) d->flags |= NM_STIM_HAS_START;
  d->end = optnum(L, t, "end", &has, what);
  if (has) d->flags |= NM_STIM_HAS_END;
  size_t n;
  if (lua_getfield(L, t, "ratios") == LUA_TTABLE) {
    lua_pop(L, 1);
    double *r = nmL_numbers(L, t, "ratios", &n);
    if (n != d->n_children)
      luaL_error(L, "%s: %I ratios for %I children; one ratio per child expected", what, (lua_Integer)n,
                 (lua_Integer)d->n_children);
    d->ratios = r;
    anchor_top(L, anchor);
  } else {
    lua_pop(L, 1);
  }
  read_values(L, t, anchor, d, what);
}


/*
** core.stimulus(nodes, duration, dt) -> stimulus
**   | nil, failure { kind = "stimulus", message = the engine's reason,
**     node = (1-based), why = "channels" | "length" | ... | "memory" (when
**     allocating failed), duration = the node's, bytes =, limit = (why = "size") }
*/
static int stim_new(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  double duration = luaL_checknumber(L, 2), dt = luaL_checknumber(L, 3);
  lua_settop(L, 3);
  size_t n = nmL_length(L, 1, "nodes", sizeof(nm_stim_node));
  lua_newtable(L);                                                     /* 4: anchors */
  nm_stim_node *nodes = lua_newuserdatauv(L, (n + 1) * sizeof *nodes, 0);   /* 5 */
  for (size_t i = 0; i < n; i++) {
    if (lua_geti(L, 1, (lua_Integer)i + 1) != LUA_TTABLE)
      luaL_error(L, "stimulus: node %I is a %s, not a table", (lua_Integer)i + 1, luaL_typename(L, -1));
    read_node(L, lua_gettop(L), i, 4, &nodes[i]);
    lua_pop(L, 1);
  }
  LStim *ls = lua_newuserdatauv(L, sizeof *ls, 0);
  ls->s = NULL;
  luaL_setmetatable(L, NM_STIM_MT);
  nm_error err;
  ls->s = nm_stim_new(nodes, n, duration, dt, &err);
  if (!ls->s) {
    /* NM_ENOMEM (the only other status): the machine ran out while building. */
    int nomem = err.status != NM_EINVAL;
    nmL_push_failure(L, "stimulus", err.why);
    lua_pushinteger(L, nomem ? 1 : err.node + 1);
    lua_setfield(L, -2, "node");
    lua_pushstring(L, nomem ? "memory" : err.code > 0 && err.code <= NM_STIM_TOO_BIG ? why_names[err.code] : "tree");
    lua_setfield(L, -2, "why");
    const struct { const char *key; double v; } nums[] = {
      { "duration", err.duration }, { "bytes", err.bytes }, { "limit", err.limit }
    };
    for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) {
      lua_pushnumber(L, nums[k].v);
      lua_setfield(L, -2, nums[k].key);
    }
    return 2;
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

/* The samples rendered into out (channel-major, k per channel) as Lua tables,
** { {channel 1's}, ... }; false when a stop signal came meanwhile (the flag is
** polled every 1024 samples).  Called protected (stim_render), so that a
** memory error still closes the stop scope. */
static int fill_tables(lua_State *L)
{
  const double *out = lua_touserdata(L, 1);
  size_t nc = (size_t)lua_tointeger(L, 2), k = (size_t)lua_tointeger(L, 3);
  volatile sig_atomic_t *stop = nmL_stop_flag();
  lua_createtable(L, (int)nc, 0);
  for (size_t c = 0; c < nc; c++) {
    lua_createtable(L, (int)k, 0);
    for (size_t j = 0; j < k; j++) {
      if (j % 1024 == 0 && *stop) {
        lua_pushboolean(L, 0);
        return 1;
      }
      nmL_pushvalue(L, out[c * k + j]);
      lua_rawseti(L, -2, (lua_Integer)j + 1);
    }
    lua_rawseti(L, -2, (lua_Integer)c + 1);
  }
  return 1;
}

/* st:render(count[, limit]) -> { {channel 1's samples}, {channel 2's}, ... }
**   | nil, failure { kind = "size", message, bytes = needed, limit = }
**   | nil, failure { kind = "interrupted", message = the signal's name, signo }
**   `limit`: the bytes it may take (core.memory(); default: the machine's
**   physical memory).  A stop signal (l_stop.c) ends the render and the
**   copy into Lua, polled every 1024 samples.  (stimulus/render.lua explains) */
static int stim_render(lua_State *L)
{
  nm_stim *s = nmL_checkstim(L, 1);
  lua_Integer count = luaL_checkinteger(L, 2);
  if (count < 0) return luaL_error(L, "render: count is %I; it must be 0 or more", count);
  size_t nc = nm_stim_channels(s), k = (size_t)count, limit = nm_stim_memory_limit();
  if (!lua_isnoneornil(L, 3)) {
    lua_Number given = luaL_checknumber(L, 3);
    limit = !(given >= 0) ? 0 : given >= (lua_Number)SIZE_MAX ? SIZE_MAX : (size_t)given;
  }
  /* Lua tables are sized by int; nc * k must be countable, then fit in memory. */
  int fits = nc <= INT_MAX && k <= INT_MAX && (k == 0 || nc <= SIZE_MAX / RENDER_BYTES / k);
  if (fits) fits = nc * k <= limit / RENDER_BYTES;
  if (!fits) {
    double bytes = (double)nc * (double)k * RENDER_BYTES;
    nmL_push_failure(L, "size", lua_pushfstring(L, "render: %I samples of %I channels need %f "
                                                "bytes, more than the limit (%f)", count,
                                                (lua_Integer)nc, bytes, (double)limit));
    lua_pushnumber(L, bytes);
    lua_setfield(L, -2, "bytes");
    lua_pushnumber(L, (double)limit);
    lua_setfield(L, -2, "limit");
    return 2;
  }
  double *out = lua_newuserdatauv(L, (nc * k + 1) * sizeof *out, 0);
  nmL_stop_scope sc;
  nmL_stop_begin(L, &sc);
  nm_stim_interrupt(s, nmL_stop_flag());
  int status = nm_stim_render(s, out, k), filled = LUA_OK;
  nm_stim_interrupt(s, NULL);
  if (status == NM_OK) {
    lua_pushcfunction(L, fill_tables);
    lua_pushlightuserdata(L, out);
    lua_pushinteger(L, (lua_Integer)nc);
    lua_pushinteger(L, (lua_Integer)k);
    filled = lua_pcall(L, 3, 1, 0);
    if (filled == LUA_OK && lua_isboolean(L, -1)) status = NM_EINTR;
  }
  nmL_stop_end(L, &sc, status == NM_EINTR);
  if (filled != LUA_OK) return lua_error(L);             /* (out of memory: raised again, the scope closed) */
  if (status == NM_EINTR) {
    nmL_push_failure(L, "interrupted", nmL_signal_name(nmL_stop_signal()));
    lua_pushinteger(L, nmL_stop_signal());
    lua_setfield(L, -2, "signo");
    return 2;
  }
  if (status != NM_OK) return luaL_error(L, "%s", nm_stim_reason(s, status));
  return 1;
}


static int stim_channels(lua_State *L)
{
  lua_pushinteger(L, (lua_Integer)nm_stim_channels(nmL_checkstim(L, 1)));
  return 1;
}


const nm_stim_driver *nmL_stim_drivers(lua_State *L, int opts, int anchor, size_t *n)
{
  opts = lua_absindex(L, opts);
  anchor = lua_absindex(L, anchor);
  *n = 0;
  if (lua_getfield(L, opts, "stimuli") != LUA_TTABLE)       /* required, as every run field */
    luaL_error(L, "run: field 'stimuli' must be an array of { stim =, slot =, channel =, kind = }, "
               "got a %s", luaL_typename(L, -1));
  int list = lua_gettop(L);
  size_t nd = nmL_length(L, list, "stimuli", sizeof(nm_stim_driver));
  nm_stim_driver *drv = lua_newuserdatauv(L, (nd + 1) * sizeof *drv, 0);
  anchor_top(L, anchor);
  for (size_t d = 0; d < nd; d++) {
    if (lua_geti(L, list, (lua_Integer)d + 1) != LUA_TTABLE)
      luaL_error(L, "run: stimuli[%I] is a %s, not a table { stim =, slot =, channel =, kind = }",
                 (lua_Integer)d + 1, luaL_typename(L, -1));
    int t = lua_gettop(L);
    static const char *const known[] = { "stim", "slot", "channel", "kind", NULL };
    nmL_opts(L, t, known, lua_pushfstring(L, "run: stimuli[%I]", (lua_Integer)d + 1));
    lua_pop(L, 1);
    lua_getfield(L, t, "stim");
    LStim *ls = luaL_testudata(L, -1, NM_STIM_MT);
    if (!ls || !ls->s)
      luaL_error(L, "run: stimuli[%I].stim is %s, not a stimulus", (lua_Integer)d + 1,
                 ls ? "a freed stimulus" : lua_pushfstring(L, "a %s", luaL_typename(L, -1)));
    drv[d].stim = ls->s;
    lua_pop(L, 1);                          /* the caller's table keeps it alive */
    size_t nt, n2, n3;
    long *slot = nmL_indices(L, t, "slot", &nt);
    anchor_top(L, anchor);
    long *channel = nmL_indices(L, t, "channel", &n2);
    anchor_top(L, anchor);
    if (lua_getfield(L, t, "kind") != LUA_TTABLE)
      luaL_error(L, "run: stimuli[%I].kind is a %s, not an array of \"param\" or \"input\"",
                 (lua_Integer)d + 1, luaL_typename(L, -1));
    n3 = nmL_length(L, -1, "kind", sizeof(int));
    int *kind = lua_newuserdatauv(L, (n3 + 1) * sizeof *kind, 0);
    size_t *ch = lua_newuserdatauv(L, (n2 + 1) * sizeof *ch, 0);
    for (size_t j = 0; j < n3; j++) {
      lua_geti(L, -3, (lua_Integer)j + 1);
      lua_pushfstring(L, "run: stimuli[%I].kind[%I]", (lua_Integer)d + 1, (lua_Integer)j + 1);
      /* target_names follows enum nm_target */
      kind[j] = nmL_option(L, -2, target_names, lua_tostring(L, -1));
      lua_pop(L, 2);
    }
    for (size_t j = 0; j < n2; j++) {
      if (channel[j] < 0)
        luaL_error(L, "run: stimuli[%I].channel[%I] is %I; channels count from 0", (lua_Integer)d + 1,
                   (lua_Integer)j + 1, (lua_Integer)channel[j]);
      ch[j] = (size_t)channel[j];
    }
    anchor_top(L, anchor);
    anchor_top(L, anchor);
    lua_pop(L, 2);                          /* kind table, driver table */
    if (n2 != nt || n3 != nt)
      luaL_error(L, "run: stimuli[%I]: slot, channel and kind have %I, %I and %I entries; they must "
                 "have one each per target", (lua_Integer)d + 1, (lua_Integer)nt, (lua_Integer)n2,
                 (lua_Integer)n3);
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
  lua_Integer channel = luaL_checkinteger(L, 3);
  if (channel < 0) return luaL_error(L, "stim_stream_seed: channel is %I; channels count from 0", channel);
  lua_pushinteger(L, (lua_Integer)nm_stim_stream_seed((uint64_t)luaL_checkinteger(L, 1),
                                                      (uint64_t)luaL_checkinteger(L, 2), (size_t)channel));
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
