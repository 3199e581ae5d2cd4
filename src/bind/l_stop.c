/*
** l_stop.c: the signals that stop a script or a run (SIGINT, SIGTERM,
** SIGHUP, SIGQUIT, SIGPIPE): noted by an async-signal-safe handler, polled by
** runs between steps (nmL_stop_flag), raised in the user's Lua code at the
** user's line (a hook), passed on to an exploration's worker processes
** (core.forward_stop_signals), and set aside while a stopped run's work is
** kept (core.keep_stopped).  The rule for users: docs/reference.md, "Stop
** signals"; bind.h declares the nmL_ side.
*/
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/types.h>

#include "bind.h"


/* ---------------------------------------------------------------------
** Stop signals.  A signal handler can reach nothing but this flag and the
** state to hook (as in lua.c): a run polls the flag between steps, the hook
** stops the user's Lua code.
** ------------------------------------------------------------------- */

/* stop_flag, non-zero, stops the work in progress.  Each signal writes a
** value of its own (new_stop_token), never the signal's number (that is
** noted_signal): the code that puts the flag back (core.keep_stopped) or
** clears a reported one (nmL_stop_begin) does so by an atomic
** compare-and-swap against the value it knows, so that a signal arriving at
** any moment, on any thread (an engine thread may run the handler), is kept. */
static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t noted_signal;     /* the last one noted, for the exit status */
static atomic_uint stop_tokens;                /* signals noted so far */
/* The process group that a stop signal is passed on to (an exploration's
** worker processes, in a session of their own: explore/workers.lua), or 0. */
static volatile sig_atomic_t forward_group;
static lua_State *volatile stop_state;
static int stops_script;                       /* set by nmL_stop_script */
static const int stop_signals[NM_N_STOP_SIGNALS] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE };


/* Is the function of `ar` the user's: Lua code that is not the library's?
** The library's files are known by the prefix of their source that
** _check.lua registers ("neuromass.libsrc": a string; false when the library
** was not loaded from files, and none of its code can be told apart).  Until
** it is registered, no frame is the user's: the library's first files are
** loading (the executable loads them before the script), and a line of
** theirs must not be taken for the user's. */
static int user_frame(lua_State *L, lua_Debug *ar)
{
  if (!lua_getinfo(L, "Sl", ar) || ar->currentline <= 0) return 0;
  int user = 1;
  int t = lua_getfield(L, LUA_REGISTRYINDEX, "neuromass.libsrc");
  if (t == LUA_TSTRING) {
    size_t n;
    const char *lib = lua_tolstring(L, -1, &n);
    user = strncmp(ar->source, lib, n) != 0;
  } else if (t == LUA_TNIL) {
    user = 0;
  }
  lua_pop(L, 1);
  return user;
}


int nmL_where_user(lua_State *L, int level)
{
  lua_Debug f;
  for (; lua_getstack(L, level, &f); level++) {
    lua_getinfo(L, "S", &f);
    if (f.what[0] == 'C') continue;
    if (!user_frame(L, &f)) return 0;
    lua_pushfstring(L, "%s:%d: ", f.short_src, f.currentline);
    return 1;
  }
  return 0;
}


/* Raises the stop at the user's line.  When the innermost Lua function is
** the library's, tries again a little later (at its next call or return, or
** 1000 instructions on): the library then sees the flag, or returns to the
** user.  Under nmL_stop_script the hook stays set after raising: it raises
** again in whatever user code runs next (a pcall that caught the stop). */
#define STOP_LATER (LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT)
static void stop_hook(lua_State *L, lua_Debug *ar)
{
  (void)ar;
  if (!nmL_where_user(L, 0)) {
    lua_sethook(L, stop_hook, STOP_LATER, 1000);
    return;
  }
  if (!stops_script) lua_sethook(L, NULL, 0, 0);
  lua_pushfstring(L, "interrupted by %s", nmL_signal_name(noted_signal));
  lua_concat(L, 2);
  lua_error(L);
}


/* A new non-zero value for stop_flag, 1 .. INT_MAX (lock-free: async-signal-safe). */
static sig_atomic_t new_stop_token(void)
{
  unsigned t = atomic_fetch_add(&stop_tokens, 1u);
  return (sig_atomic_t)(t % INT_MAX) + 1;
}


/* Sets stop_flag to `to` if it still holds `from`; returns 1 if it did. */
static int swap_stop_flag(sig_atomic_t from, sig_atomic_t to)
{
  return __atomic_compare_exchange_n(&stop_flag, &from, to, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}


void nmL_note_stop_signal(int signo)
{
  noted_signal = signo;
  __atomic_store_n(&stop_flag, new_stop_token(), __ATOMIC_SEQ_CST);
  if (forward_group > 0) kill(-(pid_t)forward_group, SIGTERM);   /* async-signal-safe (SIGTERM: see below) */
  lua_State *L = stop_state;
  if (L) lua_sethook(L, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}


int nmL_stop_signal(void)
{
  return noted_signal;
}


lua_State *nmL_set_stop_state(lua_State *L)
{
  lua_State *old = stop_state;
  stop_state = L;
  return old;
}


void nmL_stop_script(lua_State *L)
{
  stops_script = L != NULL;
  if (!L && stop_state) lua_sethook(stop_state, NULL, 0, 0);
  nmL_set_stop_state(L);
  /* a signal noted before there was a state to hook stops the script too */
  if (L && __atomic_load_n(&stop_flag, __ATOMIC_SEQ_CST)) lua_sethook(L, stop_hook, STOP_LATER, 1);
}


/* core.stop_signal() -> the number of the stop signal received, or nil:
** a loop in the library that catches errors (an exploration's points) ends
** when the script is being stopped, instead of going on. */
static int core_stop_signal(lua_State *L)
{
  if (!noted_signal) return 0;
  lua_pushinteger(L, noted_signal);
  return 1;
}


/* core.signal_name(signo) -> "SIGINT", "SIGTERM", ... (nmL_signal_name): the
** name the library's "interrupted by ..." messages give a stop signal. */
static int core_signal_name(lua_State *L)
{
  lua_Integer signo = luaL_checkinteger(L, 1);
  lua_pushstring(L, nmL_signal_name(signo >= 0 && signo <= INT_MAX ? (int)signo : 0));
  return 1;
}


/* core.forward_stop_signals(pgid | nil): from now on, a stop signal this
** process receives is sent on to the process group `pgid` as well (nil or
** 0: no more).  An exploration's worker processes run in a session of their
** own, so that a signal sent to the script's process alone (`kill PID`, a
** scheduler) stops them too; one received before the group was known is
** sent at once.  The group gets SIGTERM whatever the signal was: the shell
** that starts the workers starts each with SIGINT and SIGQUIT ignored (a
** background command's) until `env --default-signal` resets them, and a
** Ctrl-C passed on as SIGINT in that moment left them running. */
static int core_forward_stop_signals(lua_State *L)
{
  lua_Integer g = luaL_optinteger(L, 1, 0);
  luaL_argcheck(L, g >= 0 && g <= INT_MAX, 1, "a process group's id, or nil");
  forward_group = (sig_atomic_t)g;
  if (g > 0 && noted_signal) kill(-(pid_t)g, SIGTERM);
  return 0;
}


void nmL_catch_stop_signals(void (*handler)(int), struct sigaction old[NM_N_STOP_SIGNALS])
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int i = 0; i < NM_N_STOP_SIGNALS; i++) {
    sigaction(stop_signals[i], NULL, &old[i]);
    /* An ignored signal stays ignored: `nohup neuromass run ...` must survive
    ** the terminal closing (SIGHUP), as a background job ignores SIGINT. */
    if (!(old[i].sa_flags & SA_SIGINFO) && old[i].sa_handler == SIG_IGN) continue;
    sigaction(stop_signals[i], &sa, NULL);
  }
}


void nmL_restore_stop_signals(const struct sigaction old[NM_N_STOP_SIGNALS])
{
  for (int i = 0; i < NM_N_STOP_SIGNALS; i++) sigaction(stop_signals[i], &old[i], NULL);
}


/* The value of stop_flag that a run reported as its failure (0: none). */
static sig_atomic_t reported_flag;


volatile sig_atomic_t *nmL_stop_flag(void)
{
  return &stop_flag;
}


/* core.stop_pending() -> true when a stop signal came that no piece of
** work has reported yet (and none is set aside by core.keep_stopped): what
** is under way should stop rather than finish, e.g. a figure must not be
** renamed into place after a Ctrl-C that came while its data were read. */
static int core_stop_pending(lua_State *L)
{
  sig_atomic_t f = __atomic_load_n(&stop_flag, __ATOMIC_SEQ_CST);
  lua_pushboolean(L, f != 0 && f != reported_flag);
  return 1;
}


/* core.keep_stopped(f, ...) -> f(...)'s results.  Keeping what a stopped run
** had done (its audio rendered as NAME.partial.wav) is work of its own, which
** the signal that stopped the run must not stop as well: f runs with that
** signal set aside (stop_flag 0, so the writers' polls go on), a new signal
** stops it; then the signal is put back, reported as before, unless a new
** one came meanwhile (kept: the swaps are atomic, see stop_flag).  An error
** of f goes on after that. */
static int core_keep_stopped(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TFUNCTION);
  sig_atomic_t reported = reported_flag;
  sig_atomic_t aside = __atomic_exchange_n(&stop_flag, 0, __ATOMIC_SEQ_CST);
  int rc = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
  if (swap_stop_flag(0, aside)) reported_flag = reported;
  if (rc != LUA_OK) return lua_error(L);
  return lua_gettop(L);
}


void nmL_stop_begin(lua_State *L, nmL_stop_scope *sc)
{
  if (reported_flag && !stops_script) swap_stop_flag(reported_flag, 0);   /* a newer signal stays */
  reported_flag = 0;
  nmL_catch_stop_signals(nmL_note_stop_signal, sc->old);
  sc->state = nmL_set_stop_state(L);
}


void nmL_stop_end(lua_State *L, nmL_stop_scope *sc, int reported)
{
  nmL_set_stop_state(sc->state);
  nmL_restore_stop_signals(sc->old);
  if (reported) {
    reported_flag = stop_flag;     /* a signal up to now is the one reported */
    lua_sethook(L, NULL, 0, 0);
    if (stops_script) {
      /* The failure goes on through the library (it cleans up) to the user's
      ** code, which the hook then stops, on this thread or the stop state. */
      lua_sethook(L, stop_hook, STOP_LATER, 1000);
      if (sc->state) lua_sethook(sc->state, stop_hook, STOP_LATER, 1000);
    }
  }
}


const char *nmL_signal_name(int signo)
{
  switch (signo) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    case SIGQUIT: return "SIGQUIT";
    case SIGPIPE: return "SIGPIPE (its output was closed)";
    default: return "a signal";
  }
}


void nmL_open_stop(lua_State *L)
{
  static const luaL_Reg funcs[] = {
    { "stop_signal", core_stop_signal }, { "signal_name", core_signal_name },
    { "keep_stopped", core_keep_stopped }, { "forward_stop_signals", core_forward_stop_signals },
    { "stop_pending", core_stop_pending },
    { NULL, NULL }
  };
  luaL_setfuncs(L, funcs, 0);
}
