/*
** l_mpi.c: the Lua module neuromass.mpi, a small binding of MPI (Debian's
** OpenMPI) with what an exploration spread over ranks needs and no more.
** Built only when MPI is found (Makefile, section "MPI"), as its own module
** build/lua/neuromass/mpi.so, so that neuromass.core never links MPI.
**
**   mpi.init() -> rank, size          MPI_Init_thread (MPI_THREAD_FUNNELED),
**                                     once; later calls return the same
**   mpi.initialized() -> boolean      init ran (and finalize did not yet)
**   mpi.finalized() -> boolean        MPI was finalised (or the job aborted)
**   mpi.rank() -> integer             0-based rank in MPI_COMM_WORLD
**   mpi.size() -> integer             number of ranks in MPI_COMM_WORLD
**   mpi.barrier()                     MPI_Barrier
**   mpi.gather(s) -> { s0, s1, ... } on rank 0 (rank order), nil elsewhere
**   mpi.bcast(s) -> string            rank 0's s on every rank (s ignored elsewhere)
**   mpi.finalize()                    MPI_Finalize, once (also at exit)
**
** Whether the process runs under mpirun is decided in Lua, from the
** environment (lua/neuromass/explore/mpi.lua), so that a plain `neuromass
** run` never loads this module nor initialises MPI.
**
** Finalisation: at lua_close (a sentinel's __gc) or, when the process ends
** without closing its Lua state (os.exit), at exit.  When the host marked the
** script as failed (registry field "neuromass.exit_ok" = false, set by
** main.c) the job is aborted instead (MPI_Abort, with the host's exit status
** "neuromass.exit_code" as the code mpirun exits with: 143 after SIGTERM):
** MPI_Finalize would wait for ranks that may be waiting in a collective for
** this one.
** Errors are Lua errors carrying MPI's own text (MPI_Error_string).
*/
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <mpi.h>

int luaopen_neuromass_mpi(lua_State *L);

#define SENTINEL "neuromass.mpi.sentinel"

/* 1 once this module initialised MPI; 2 once it finalised (or aborted). */
static int state;

/* Raises "mpi: <what>: <MPI's text>" for a failed call's code `rc`. */
static int fail(lua_State *L, const char *what, int rc)
{
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) len = 0;
  text[len] = '\0';
  return luaL_error(L, "mpi: %s failed: %s (MPI error %d)", what, len ? text : "unknown error", rc);
}

/* Checks that init ran: every call but init, initialized and finalized needs it. */
static void need_init(lua_State *L, const char *fname)
{
  if (state == 0) luaL_error(L, "mpi.%s: MPI is not initialised (call mpi.init() first)", fname);
  if (state == 2) luaL_error(L, "mpi.%s: MPI was already finalised", fname);
}

/* Ends MPI once: finalises when `failed` is 0, else aborts the job with
** `failed` as its error code (mpirun's exit status: the process's own, 1
** for a failed script, 128 + n for a stop signal n). */
static void finish(int failed)
{
  if (state != 1) return;
  state = 2;
  if (failed) MPI_Abort(MPI_COMM_WORLD, failed);
  else MPI_Finalize();
}

/* At exit without lua_close (os.exit): the script's status is not known
** here, so MPI is finalised. */
static void finish_at_exit(void)
{
  finish(0);
}

/* The sentinel's __gc, at lua_close: aborts when the host marked the script
** as failed, else finalises. */
static int sentinel_gc(lua_State *L)
{
  int t = lua_getfield(L, LUA_REGISTRYINDEX, "neuromass.exit_ok");
  int failed = t != LUA_TNIL && !lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (failed) {                      /* the abort's code: the host's exit status, else 1 */
    lua_Integer code = 1;
    if (lua_getfield(L, LUA_REGISTRYINDEX, "neuromass.exit_code") == LUA_TNUMBER) code = lua_tointeger(L, -1);
    lua_pop(L, 1);
    failed = code >= 1 && code <= 255 ? (int)code : 1;
  }
  finish(failed);
  return 0;
}

/* mpi.init() -> rank, size: initialises MPI with MPI_THREAD_FUNNELED (only
** the main thread calls MPI; OpenMP threads never do), once. */
static int l_init(lua_State *L)
{
  if (state == 2) return luaL_error(L, "mpi.init: MPI was already finalised (it cannot start again)");
  if (state == 0) {
    int flag = 0;
    MPI_Initialized(&flag);
    if (flag) return luaL_error(L, "mpi.init: MPI was initialised by someone else in this process");
    int provided = 0;
    int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) return fail(L, "MPI_Init_thread", rc);
    state = 1;
    /* Errors come back as codes, reported with their text, instead of
    ** MPI's default of killing the job. */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    if (provided < MPI_THREAD_FUNNELED) {
      finish(0);
      return luaL_error(L, "mpi.init: this MPI does not support MPI_THREAD_FUNNELED (it gave level %d)",
                        provided);
    }
    atexit(finish_at_exit);
    lua_newuserdatauv(L, 0, 0);
    lua_newtable(L);
    lua_pushcfunction(L, sentinel_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, SENTINEL);
  }
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  lua_pushinteger(L, rank);
  lua_pushinteger(L, size);
  return 2;
}

/* mpi.initialized() -> true between init and finalize. */
static int l_initialized(lua_State *L)
{
  lua_pushboolean(L, state == 1);
  return 1;
}

/* mpi.finalized() -> true once MPI was finalised (or the job aborted): it
** cannot start again. */
static int l_finalized(lua_State *L)
{
  lua_pushboolean(L, state == 2);
  return 1;
}

/* mpi.rank() -> this process's 0-based rank in MPI_COMM_WORLD. */
static int l_rank(lua_State *L)
{
  need_init(L, "rank");
  int rank = 0, rc = MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rc != MPI_SUCCESS) return fail(L, "MPI_Comm_rank", rc);
  lua_pushinteger(L, rank);
  return 1;
}

/* mpi.size() -> the number of ranks in MPI_COMM_WORLD. */
static int l_size(lua_State *L)
{
  need_init(L, "size");
  int size = 0, rc = MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (rc != MPI_SUCCESS) return fail(L, "MPI_Comm_size", rc);
  lua_pushinteger(L, size);
  return 1;
}

/* mpi.barrier(): waits for every rank. */
static int l_barrier(lua_State *L)
{
  need_init(L, "barrier");
  int rc = MPI_Barrier(MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) return fail(L, "MPI_Barrier", rc);
  return 0;
}

/* The length of string argument 1 as an MPI count (an int). */
static const char *count_arg(lua_State *L, const char *fname, int *count)
{
  size_t len = 0;
  const char *s = luaL_checklstring(L, 1, &len);
  if (len > INT_MAX) luaL_error(L, "mpi.%s: a string of %zu bytes is over MPI's limit of %d", fname, len, INT_MAX);
  *count = (int)len;
  return s;
}

/* mpi.gather(s) -> on rank 0 the list of every rank's string in rank
** order, nil on the other ranks.  Collective: every rank calls it. */
static int l_gather(lua_State *L)
{
  need_init(L, "gather");
  int len = 0;
  const char *s = count_arg(L, "gather", &len);
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int *lens = NULL, *offs = NULL;
  char *all = NULL;
  size_t total = 0;
  if (rank == 0) {
    lens = lua_newuserdatauv(L, 2 * (size_t)size * sizeof *lens, 0);   /* freed by Lua */
    offs = lens + size;
  }
  int rc = MPI_Gather(&len, 1, MPI_INT, lens, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) return fail(L, "MPI_Gather", rc);
  if (rank == 0) {
    for (int r = 0; r < size; r++) {
      if (total + (size_t)lens[r] > INT_MAX) {
        return luaL_error(L, "mpi.gather: the strings total more than MPI's limit of %d bytes", INT_MAX);
      }
      offs[r] = (int)total;
      total += (size_t)lens[r];
    }
    all = lua_newuserdatauv(L, total ? total : 1, 0);
  }
  rc = MPI_Gatherv(s, len, MPI_CHAR, all, lens, offs, MPI_CHAR, 0, MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) return fail(L, "MPI_Gatherv", rc);
  if (rank != 0) {
    lua_pushnil(L);
    return 1;
  }
  lua_createtable(L, size, 0);
  for (int r = 0; r < size; r++) {
    lua_pushlstring(L, all + offs[r], (size_t)lens[r]);
    lua_rawseti(L, -2, r + 1);
  }
  return 1;
}

/* mpi.bcast(s) -> rank 0's string s on every rank (the other ranks' s is
** not read: nil will do).  Collective: every rank calls it. */
static int l_bcast(lua_State *L)
{
  need_init(L, "bcast");
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int len = 0;
  const char *s = rank == 0 ? count_arg(L, "bcast", &len) : NULL;
  int rc = MPI_Bcast(&len, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) return fail(L, "MPI_Bcast", rc);
  char *buf = rank == 0 ? (char *)s : lua_newuserdatauv(L, len ? (size_t)len : 1, 0);
  rc = MPI_Bcast(buf, len, MPI_CHAR, 0, MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) return fail(L, "MPI_Bcast", rc);
  lua_pushlstring(L, buf, (size_t)len);
  return 1;
}

/* mpi.finalize(): ends MPI (collective); later calls do nothing. */
static int l_finalize(lua_State *L)
{
  (void)L;
  finish(0);
  return 0;
}

static const luaL_Reg functions[] = {
  { "init", l_init },
  { "initialized", l_initialized },
  { "finalized", l_finalized },
  { "rank", l_rank },
  { "size", l_size },
  { "barrier", l_barrier },
  { "gather", l_gather },
  { "bcast", l_bcast },
  { "finalize", l_finalize },
  { NULL, NULL },
};

/* require "neuromass.mpi": the functions above; initialises nothing. */
int luaopen_neuromass_mpi(lua_State *L)
{
  luaL_newlib(L, functions);
  return 1;
}
