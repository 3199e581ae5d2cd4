/*
** l_sim.c: the Lua types neuromass.Simulation (a model being integrated:
** state, history, time) and neuromass.Result (the rows an engine sink kept
** in memory), and the signals that stop a run (SIGINT, SIGTERM, SIGHUP,
** SIGQUIT, SIGPIPE), passed on to an exploration's worker processes
** (core.forward_stop_signals).  A run's rows go through the engine's recorder (record.c) to its
** sinks: this file only opens them and passes the handles.
*/
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bind.h"
#include "l_audio.h"
#include "l_bold.h"

/* Rows the engine hands the sinks at once (nm_run_opts.chunk_rows). */
#define RUN_CHUNK_ROWS 4096

typedef struct {
  nm_sim *s;
  int running;                  /* inside s:run (a slow mass may call back into Lua) */
} LSim;

/* A kept result: the engine's rows (nm_kept), read through data/rows/cols
** once its run has ended. */
typedef struct {
  nm_kept *k;
  const double *data;
  size_t rows, cols;
} LResult;


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
static int runs_in_progress;


/* Is the function of `ar` the user's: Lua code that is not the library's? */
static int user_frame(lua_State *L, lua_Debug *ar)
{
  if (!lua_getinfo(L, "Sl", ar) || ar->currentline <= 0) return 0;
  int user = 1;
  if (lua_getfield(L, LUA_REGISTRYINDEX, "neuromass.libsrc") == LUA_TSTRING) {
    size_t n;
    const char *lib = lua_tolstring(L, -1, &n);
    user = strncmp(ar->source, lib, n) != 0;
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
  if (forward_group > 0) kill(-(pid_t)forward_group, signo);   /* async-signal-safe */
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
}


int nmL_runs_in_progress(void)
{
  return runs_in_progress;
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
** sent at once. */
static int core_forward_stop_signals(lua_State *L)
{
  lua_Integer g = luaL_optinteger(L, 1, 0);
  luaL_argcheck(L, g >= 0 && g <= INT_MAX, 1, "a process group's id, or nil");
  forward_group = (sig_atomic_t)g;
  if (g > 0 && noted_signal) kill(-(pid_t)g, noted_signal);
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


static nm_sim *checksim(lua_State *L, int i)
{
  LSim *ls = luaL_checkudata(L, i, NM_SIM_MT);
  if (!ls->s) luaL_error(L, "attempt to use a freed simulation");
  return ls->s;
}


/* core.sim(model, dt, seed[, streams]): the model is kept alive in the user
** value, and counts the simulations using it (it cannot change or be freed
** meanwhile).  streams: one stream seed per noise channel (a batch's lanes
** draw the streams of separate runs: core.noise_stream_seed), else every
** channel's derives from seed. */
static int sim_new(lua_State *L)
{
  LModel *lm = nmL_checklmodel(L, 1);
  nm_model *m = lm->m;
  double dt = luaL_checknumber(L, 2);
  lua_Integer seed = luaL_optinteger(L, 3, 0);
  if (seed < 0) return luaL_error(L, "sim: the seed must not be negative, got %I", seed);
  unsigned long *streams = NULL;
  if (!lua_isnoneornil(L, 4)) {
    luaL_checktype(L, 4, LUA_TTABLE);
    size_t n = nm_model_n_noises(m);
    if ((size_t)luaL_len(L, 4) != n)
      return luaL_error(L, "sim: streams has %I seeds, the model %I noise channels",
                        (lua_Integer)luaL_len(L, 4), (lua_Integer)n);
    streams = lua_newuserdatauv(L, (n + 1) * sizeof *streams, 0);   /* freed with the call's stack */
    for (size_t i = 0; i < n; i++) {
      lua_geti(L, 4, (lua_Integer)i + 1);
      streams[i] = (unsigned long)luaL_checkinteger(L, -1);
      lua_pop(L, 1);
    }
  }
  LSim *ls = lua_newuserdatauv(L, sizeof *ls, 1);
  ls->s = NULL;
  ls->running = 0;
  luaL_setmetatable(L, NM_SIM_MT);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  int status;
  ls->s = nm_sim_new_seeded(m, dt, (unsigned long)seed, streams, &status);
  if (!ls->s) return luaL_error(L, "sim: %s", nm_model_error(m, status));
  lm->n_sims++;
  return 1;
}


/* core.noise_stream_seed(seed, i) -> the stream seed of noise channel i
** (0-based) of a simulation seeded with `seed` (nm_noise_stream_seed). */
static int core_noise_stream_seed(lua_State *L)
{
  lua_Integer seed = luaL_checkinteger(L, 1), i = luaL_checkinteger(L, 2);
  if (seed < 0 || i < 0) return luaL_error(L, "noise_stream_seed: seed and channel must not be negative");
  lua_pushinteger(L, (lua_Integer)nm_noise_stream_seed((unsigned long)seed, (size_t)i));
  return 1;
}


/* __gc, __close and s:free(); refused during the simulation's own run. */
static int sim_gc(lua_State *L)
{
  LSim *ls = luaL_checkudata(L, 1, NM_SIM_MT);
  if (!ls->s) return 0;
  if (ls->running) return luaL_error(L, "free: the simulation is running");
  nm_sim_free(ls->s);
  ls->s = NULL;
  lua_getiuservalue(L, 1, 1);
  ((LModel *)lua_touserdata(L, -1))->n_sims--;
  return 0;
}


static int sim_time(lua_State *L)
{
  lua_pushnumber(L, nm_sim_time(checksim(L, 1)));
  return 1;
}


/* s:signals() -> array of every signal's current value */
static int sim_signals(lua_State *L)
{
  nm_sim *s = checksim(L, 1);
  lua_getiuservalue(L, 1, 1);
  size_t n = nm_model_n_signals(nmL_checkmodel(L, -1));
  const double *V = nm_sim_signals(s);
  lua_createtable(L, n > INT_MAX ? 0 : (int)n, 0);      /* a size hint only */
  for (size_t i = 0; i < n; i++) {
    lua_pushnumber(L, V[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}


/* ---------------------------------------------------------------------
** Where rows go during a run: an engine recorder (nm_recorder) held by a
** userdata, so that a Lua error cannot leak it.
** ------------------------------------------------------------------- */

#define NM_RECORDER_MT "neuromass.Recorder"

typedef struct { nm_recorder *r; } LRecorder;


static int recorder_gc(lua_State *L)
{
  LRecorder *lr = luaL_checkudata(L, 1, NM_RECORDER_MT);
  nm_recorder_free(lr->r);
  lr->r = NULL;
  return 0;
}


/* A new recorder, anchored in the table at `anchor`. */
static nm_recorder *new_recorder(lua_State *L, int anchor)
{
  LRecorder *lr = lua_newuserdatauv(L, sizeof *lr, 0);
  lr->r = NULL;
  luaL_setmetatable(L, NM_RECORDER_MT);
  lua_rawseti(L, anchor, (lua_Integer)luaL_len(L, anchor) + 1);
  lr->r = nm_recorder_new();
  if (!lr->r) luaL_error(L, "run: the recorder cannot be allocated");
  return lr->r;
}


/* Adds a sink to the recorder, or raises (the sink is released). */
static void add_sink(lua_State *L, nm_recorder *rec, nm_sink sink, size_t n_lead, long decimate,
                     long phase)
{
  int rc = nm_recorder_add(rec, &sink, n_lead, decimate, phase);
  if (rc == NM_OK) return;
  if (sink.free) sink.free(sink.ud);
  luaL_error(L, "run: %s", nm_recorder_error(rec));
}


typedef struct {
  struct timespec start;
  int shown;
} progress_state;

/* The bar's line, "\r[==...==] 100%  ETA   0.0 s", is at most this wide. */
#define PROGRESS_WIDTH 56


static void show_progress(void *ud, long done, long total)
{
  progress_state *p = ud;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  double el = (double)(now.tv_sec - p->start.tv_sec) + 1e-9 * (double)(now.tv_nsec - p->start.tv_nsec);
  if (el < 0.5 && done < total) return;
  double frac = (double)done / (double)total;
  double eta = frac > 0 ? el / frac - el : 0;
  int bar = (int)(frac * 30);
  fprintf(stderr, "\r[%.*s%*s] %3.0f%%  ETA %5.1f s", bar, "==============================",
          30 - bar, "", 100 * frac, eta);
  fflush(stderr);
  p->shown = 1;
}


/* Field 'method' of the table at t: an integrator's name (nm_stepper). */
static int method_of(lua_State *L, int t)
{
  const char *names[NM_METHOD_COUNT + 1];
  for (int i = 0; i <= NM_METHOD_COUNT; i++) names[i] = i < NM_METHOD_COUNT ? nm_stepper(i)->name : NULL;
  return nmL_choicefield(L, t, "method", names, "run");
}


/* core.integrators() -> { {name =, order =, adaptive =, threads =, delays =,
** noise =, inputs =} ... }: the engine's table of integrators, in its order
** (the first is the default).  The Lua library checks a run against it. */
static int core_integrators(lua_State *L)
{
  lua_createtable(L, NM_METHOD_COUNT, 0);
  for (int i = 0; i < NM_METHOD_COUNT; i++) {
    const nm_stepper_type *T = nm_stepper(i);
    lua_createtable(L, 0, 7);
    lua_pushstring(L, T->name);
    lua_setfield(L, -2, "name");
    lua_pushinteger(L, T->order);
    lua_setfield(L, -2, "order");
    const struct { const char *key; int on; } flags[] = {
      { "adaptive", T->adaptive }, { "threads", T->threads }, { "delays", T->delays },
      { "noise", T->noise }, { "inputs", T->inputs }
    };
    for (size_t k = 0; k < sizeof flags / sizeof flags[0]; k++) {
      lua_pushboolean(L, flags[k].on);
      lua_setfield(L, -2, flags[k].key);
    }
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}


static lua_Integer intfield(lua_State *L, int t, const char *k)
{
  return nmL_intfield(L, t, k, "run");
}


static double numfield(lua_State *L, int t, const char *k)
{
  return nmL_numfield(L, t, k, "run");
}


/* Field `k` of the table at t, which names an output: false (none) or a
** value of type `type` (left on the stack; false leaves nothing).  Returns
** whether there is one. */
static int output_field(lua_State *L, int t, const char *k, int type, const char *shape)
{
  int got = lua_getfield(L, t, k);
  if (got == LUA_TBOOLEAN && !lua_toboolean(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  if (got != type)
    luaL_error(L, "run: field '%s' must be %s or false, got a %s%s", k, shape, lua_typename(L, got),
               got == LUA_TNIL ? " (internal error: the library passes every field)" : "");
  return 1;
}


/* ---------------------------------------------------------------------
** A run's CSV held under its temporary name (hold_csv):
**   held:commit() -> path | nil, failure   (renamed into place; on failure the
**                                          complete rows are kept as partial)
**   held:keep_partial() -> path | nil, failure    (as <stem>.partial.<ext>)
**   held:close()    (also __gc: a held file never settled is removed)
** A failure is { kind = "io", message =, csv_partial = }.  Settling twice
** fails and changes nothing.
** ------------------------------------------------------------------- */

#define NM_HELDCSV_MT "neuromass.HeldCSV"


/* Sets csv_partial of the failure table on top: where w kept its complete
** rows (nothing when it kept none). */
static void push_csv_partial(lua_State *L, const nm_csv *w)
{
  if (!w || !nm_csv_kept(w)) return;
  lua_pushstring(L, nm_csv_kept(w));
  lua_setfield(L, -2, "csv_partial");
}

typedef struct { nm_csv *w; } LHeldCSV;


static int held_settle(lua_State *L, int how)
{
  LHeldCSV *h = luaL_checkudata(L, 1, NM_HELDCSV_MT);
  if (!h->w) {
    nmL_push_failure(L, "io", "the CSV was settled already");
    return 2;
  }
  nm_csv *w = h->w;
  int rc = nm_csv_finish(w, how);
  const char *kept = nm_csv_kept(w);
  int n = 1;
  if (rc == NM_OK && kept) lua_pushstring(L, kept);
  else {
    nmL_push_failure(L, "io", nm_csv_error(w)[0] ? nm_csv_error(w) : "no complete rows to keep");
    push_csv_partial(L, w);
    n = 2;
  }
  nm_csv_free(w);
  h->w = NULL;
  return n;
}


static int held_commit(lua_State *L) { return held_settle(L, NM_CSV_COMMIT); }
static int held_keep_partial(lua_State *L) { return held_settle(L, NM_CSV_PARTIAL); }


static int held_close(lua_State *L)
{
  LHeldCSV *h = luaL_checkudata(L, 1, NM_HELDCSV_MT);
  nm_csv_free(h->w);
  h->w = NULL;
  return 0;
}


/*
** s:run{ n_steps =, every =, method =, rtol =, atol =, record = {signals},
**        drivers = { {slot =, values = {}} ... }, stimuli = { {stim =, slot = {},
**        channel = {}, kind = {"param"|"input"}} ... }, csv = path, header = {names},
**        keep = bool, progress = bool,
**        audio = writer, audio_cols = {columns}, keep_cols = n, decimate = n,
**        hold_csv = bool, bold = core.bold stage or false, bold_csv = path or false,
**        bold_header = {names} or false }
** Every field is required (run/plan.lua and run.lua pass them all; the
** binding has no defaults): threads 0 is automatic; rtol and atol are the
** adaptive integrators' tolerances (> 0 for them; run/options.lua defaults
** them); csv and audio are false for none (header is read with a csv,
** audio_cols with an audio writer).
** bold: the stage is fed every step (l_bold.c); its rows of this run are read
** with bold:take(), written to bold_csv (kept as partial when the run fails);
** a failure of BOLD's own is { kind = "nonfinite", bold = true, t, signal } or
** "io", and the failure table's bold_partial says where its complete rows are.
** With an audio writer the engine records every step (every = 1): the writer
** is fed audio_cols (0-based, of rows t + record) at the full rate, while the
** CSV and the result keep the first keep_cols columns of every decimate-th row.
** hold_csv: a run that succeeds leaves the CSV complete under its temporary
** name and returns it held (see above) as a second value, for the
** caller to commit together with its other outputs.
** -> result (or true without keep)[, held CSV]; or nil, failure where failure is a table
**    { kind =, message =, csv_partial = } with kind
**    "nonfinite" (+ t, signal: where a NaN or infinity appeared), "step" (+ t,
**    signal: an adaptive stepper could not go on; the time it reached and the
**    state variable changing fastest there),
**    "interrupted" (message: "SIGINT", "SIGTERM", "SIGHUP" or "SIGQUIT", signo:
**    its number; they stop the run between steps), "callback" (message: the slow
**    path's error), "io" (message: why the CSV could not be written), "audio",
**    "busy" (the model is already being integrated: a slow mass ran it again),
**    or "engine".  csv_partial is where the complete rows written are kept
**    ("<stem>.partial.<ext>"), nil if none were.
*/
static int sim_run(lua_State *L)
{
  nm_sim *s = checksim(L, 1);
  LSim *ls = lua_touserdata(L, 1);
  static const char *const known[] = {
    "n_steps", "every", "method", "rtol", "atol", "threads", "record", "drivers", "stimuli",
    "keep", "csv", "header", "hold_csv", "progress", "audio", "audio_cols", "keep_cols",
    "decimate",
    "jit",                                 /* enum nm_jit_mode (docs/jit.md) */
    "bold", "bold_csv", "bold_header",     /* simulated BOLD (l_bold.c) */
    NULL
  };
  luaL_checktype(L, 2, LUA_TTABLE);
  nmL_opts(L, 2, known, "run");
  lua_getiuservalue(L, 1, 1);
  LModel *lm = lua_touserdata(L, -1);
  if (lm->running) {
    nmL_push_failure(L, "busy", "the model is already being integrated (a slow mass's derivatives "
                 "cannot run the model they belong to)");
    return 2;
  }
  lua_settop(L, 2);
  nm_run_opts o;
  memset(&o, 0, sizeof o);
  o.n_steps = (long)intfield(L, 2, "n_steps");
  o.every = (long)intfield(L, 2, "every");
  lua_Integer threads = intfield(L, 2, "threads");
  if (threads < INT_MIN || threads > INT_MAX)       /* the engine checks the rest */
    return luaL_error(L, "run: threads must be 0 (automatic) to %d, got %I", NM_MAX_THREADS, threads);
  o.threads = (int)threads;
  o.jit = (int)intfield(L, 2, "jit");     /* the engine checks the range */
  o.method = method_of(L, 2);
  o.rtol = numfield(L, 2, "rtol");
  o.atol = numfield(L, 2, "atol");
  o.record = nmL_indices(L, 2, "record", &o.n_record);                /* stack 3 */
  int dtype = lua_getfield(L, 2, "drivers");                           /* stack 4 */
  if (dtype != LUA_TTABLE)
    return luaL_error(L, "run: field 'drivers' must be an array of { slot =, values = }, got a %s",
                      lua_typename(L, dtype));
  size_t nd = nmL_length(L, 4, "drivers", sizeof(nm_driver));
  nm_driver *drivers = lua_newuserdatauv(L, (nd + 1) * sizeof *drivers, 0);  /* 5 */
  lua_createtable(L, nd > INT_MAX ? 0 : (int)nd, 0);                   /* 6: keeps arrays alive */
  for (size_t d = 0; d < nd; d++) {
    if (lua_geti(L, 4, (lua_Integer)d + 1) != LUA_TTABLE)
      return luaL_error(L, "run: drivers[%I] must be a table { slot =, values = }, got a %s",
                        (lua_Integer)d + 1, luaL_typename(L, -1));
    drivers[d].slot = (long)intfield(L, -1, "slot");
    size_t n;
    drivers[d].values = nmL_numbers(L, -1, "values", &n);
    drivers[d].n = n;
    lua_rawseti(L, 6, (lua_Integer)d + 1);
    lua_pop(L, 1);
  }
  o.drivers = drivers;
  o.n_drivers = nd;
  o.stims = nmL_stim_drivers(L, 2, 6, &o.n_stims);                     /* anchored in 6 */
  size_t n_keep = 1 + o.n_record;      /* leading columns the CSV and the result keep */
  lua_Integer keep_cols = intfield(L, 2, "keep_cols");
  long decimate = (long)intfield(L, 2, "decimate");     /* ... of every decimate-th row */
  if (keep_cols < 1 || (size_t)keep_cols > 1 + o.n_record)
    return luaL_error(L, "run: keep_cols is %I; it must be 1 to %I (the time and the recorded "
                      "signals)", keep_cols, (lua_Integer)(1 + o.n_record));
  if (decimate < 1) return luaL_error(L, "run: decimate is %I; it must be at least 1",
                                      (lua_Integer)decimate);
  n_keep = (size_t)keep_cols;
  /* Decimated rows stay on the grid of multiples of `decimate` steps since t = 0. */
  long phase = (long)(nm_sim_steps(s) % (size_t)decimate);
  nm_recorder *rec = new_recorder(L, 6);
  nm_audio *audio = NULL;             /* streamed audio: fed every row, full rate */
  if (output_field(L, 2, "audio", LUA_TUSERDATA, "an audio writer")) {   /* anchored in 6 */
    audio = nmL_checkaudio(L, -1);
    lua_rawseti(L, 6, (lua_Integer)luaL_len(L, 6) + 1);
    size_t na;
    long *cols = nmL_indices(L, 2, "audio_cols", &na);
    size_t *ac = lua_newuserdatauv(L, (na + 1) * sizeof *ac, 0);
    for (size_t i = 0; i < na; i++) {
      if (cols[i] < 0 || (size_t)cols[i] > o.n_record)
        return luaL_error(L, "run: audio_cols[%I] is %I; columns are 0 (the time) to %I",
                          (lua_Integer)i, (lua_Integer)cols[i], (lua_Integer)o.n_record);
      ac[i] = (size_t)cols[i];
    }
    nm_sink sink;
    if (nm_audio_sink(&sink, audio, ac, na) != NM_OK)
      return luaL_error(L, "run: the audio sink cannot be allocated");
    add_sink(L, rec, sink, 0, 1, 0);
    lua_pop(L, 2);
  }
  int keep = nmL_boolfield(L, 2, "keep", "run");
  LResult *res = NULL;
  if (keep) {                                                          /* 7: the result */
    res = lua_newuserdatauv(L, sizeof *res, 0);
    memset(res, 0, sizeof *res);
    luaL_setmetatable(L, NM_RESULT_MT);
    res->k = nm_kept_new(n_keep);
    if (!res->k) return luaL_error(L, "run: the result cannot be allocated");
    res->cols = n_keep;
  } else {
    lua_pushboolean(L, 1);
  }
  LHeldCSV *held = NULL;             /* 8: takes the CSV writer when the run succeeds */
  lua_pushboolean(L, nmL_boolfield(L, 2, "hold_csv", "run"));
  if (lua_toboolean(L, 8)) {
    held = lua_newuserdatauv(L, sizeof *held, 0);
    held->w = NULL;
    luaL_setmetatable(L, NM_HELDCSV_MT);
    lua_replace(L, 8);
  }
  nm_csv *csv = NULL;
  if (output_field(L, 2, "csv", LUA_TSTRING, "a path")) {              /* 9 */
    const char *path = lua_tostring(L, -1);
    lua_getfield(L, 2, "header");
    size_t nh = lua_istable(L, -1) ? nmL_length(L, -1, "header", sizeof(char *)) : 0;
    if (nh != n_keep)
      return luaL_error(L, "run: the csv header has %I names; it needs %I", (lua_Integer)nh,
                        (lua_Integer)n_keep);
    const char **header = lua_newuserdatauv(L, nh * sizeof *header, 0);
    for (size_t c = 0; c < nh; c++) {
      lua_geti(L, -2, (lua_Integer)c + 1);
      header[c] = luaL_checkstring(L, -1);   /* anchored by the header table */
      lua_pop(L, 1);
    }
    nm_error err;
    csv = nm_csv_open(path, header, nh, &err);
    if (!csv) {
      nmL_push_failure(L, "io", lua_pushfstring(L, "cannot write '%s': %s", path, err.why));
      return 2;
    }
    nm_sink cs = nm_csv_sink(csv);
    if (nm_recorder_add(rec, &cs, n_keep, decimate, phase) != NM_OK) {
      nm_csv_free(csv);
      return luaL_error(L, "run: %s", nm_recorder_error(rec));
    }
    lua_pop(L, 2);
  }
  if (res) add_sink(L, rec, nm_kept_sink(res->k), n_keep, decimate, phase);
  /* Simulated BOLD: fed every step (l_bold.c). */
  nmL_bold_run bold;
  if (!nmL_bold_begin(L, 2, 6, &o, &bold)) {
    nm_csv_free(csv);
    return 2;
  }
  o.sink = nm_recorder_rows;
  o.sink_ud = rec;
  o.chunk_rows = RUN_CHUNK_ROWS;
  progress_state ps;
  if (nmL_boolfield(L, 2, "progress", "run")) {
    clock_gettime(CLOCK_MONOTONIC, &ps.start);
    ps.shown = 0;
    o.progress = show_progress;
    o.progress_ud = &ps;
  }
  o.interrupt = &stop_flag;
  nmL_stop_scope sc;
  nmL_stop_begin(L, &sc);
  lm->running = L;
  lm->callback_failed = 0;
  ls->running = 1;
  runs_in_progress++;
  int rc = nm_sim_run(s, &o);
  rc = nmL_bold_end(&bold, rc);
  runs_in_progress--;
  ls->running = 0;
  lm->running = NULL;
  /* a slow mass's derivatives stopped by the signal's hook: the run was interrupted */
  if (rc == NM_ECALLBACK && stop_flag) {
    nmL_callback_error(L);
    lua_pop(L, 1);
    rc = NM_EINTR;
  }
  nmL_stop_end(L, &sc, rc == NM_EINTR);
  if (o.progress && ps.shown) {                 /* 100 % when done, then a clean line */
    if (rc == NM_OK) show_progress(&ps, o.n_steps, o.n_steps);
    fprintf(stderr, "\r%*s\r", PROGRESS_WIDTH, "");
    fflush(stderr);
  }
  /* Every sink settles: the CSV is renamed into place (or held for the
  ** caller), or keeps its complete rows as a partial file. */
  nm_recorder_finish(rec, rc != NM_OK ? NM_CSV_PARTIAL : held ? NM_CSV_HOLD : NM_CSV_COMMIT);
  rc = nmL_bold_finish(&bold, rc);
  int csv_failed = csv && nm_csv_error(csv)[0];
  if (rc == NM_OK && csv_failed) rc = NM_EIO;
  if (rc == NM_OK) {
    if (res) {
      res->data = nm_kept_rows(res->k, &res->rows, &res->cols);
      /* The rows live outside Lua's heap, where the collector does not see
      ** them: a step of collection in proportion keeps a script that runs
      ** again and again from piling up the results it dropped. */
      lua_gc(L, LUA_GCSTEP, (int)(res->rows * res->cols * sizeof(double) / 1024));
    }
    lua_pushvalue(L, 7);
    if (held && csv) {
      held->w = csv;
      lua_pushvalue(L, 8);
      return 2;
    }
    nm_csv_free(csv);
    return 1;
  }
  lua_getfield(L, 2, "csv");
  const char *path = lua_tostring(L, -1);
  if (nmL_bold_failure(L, &bold, rc)) {
    /* BOLD's own failure (l_bold.c) */
  } else if (rc == NM_ENONFINITE || rc == NM_ESTEP) {
    double t;
    long sig;
    nm_sim_failure(s, &t, &sig);
    nmL_push_failure(L, rc == NM_ESTEP ? "step" : "nonfinite", NULL);
    lua_pushnumber(L, t);
    lua_setfield(L, -2, "t");
    lua_pushinteger(L, sig);
    lua_setfield(L, -2, "signal");
  } else if (rc == NM_ECALLBACK) {
    nmL_push_failure(L, "callback", NULL);
    nmL_callback_error(L);
    lua_setfield(L, -2, "message");
  } else if (rc == NM_EINTR) {
    nmL_push_failure(L, "interrupted", nmL_signal_name(noted_signal));
    lua_pushinteger(L, noted_signal);
    lua_setfield(L, -2, "signo");
  } else if (rc == NM_EIO && csv_failed) {
    nmL_push_failure(L, "io", lua_pushfstring(L, "cannot write '%s': %s", path, nm_csv_error(csv)));
  } else if (audio && nm_audio_error(audio)[0]) {
    nmL_push_failure(L, "audio", nm_audio_error(audio));
  } else if (nm_recorder_error(rec)[0]) {
    nmL_push_failure(L, "engine", nm_recorder_error(rec));
  } else {
    nmL_push_failure(L, "engine", nm_sim_error(s, rc));
  }
  push_csv_partial(L, csv);
  nmL_bold_partial(L, &bold);
  nm_csv_free(csv);
  return 2;
}


/* core.memory() -> bytes of physical memory (math.huge if unknown) */
static int core_memory(lua_State *L)
{
  long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  lua_pushnumber(L, pages > 0 && size > 0 ? (double)pages * (double)size : HUGE_VAL);
  return 1;
}


static int sim_tostring(lua_State *L)
{
  LSim *ls = luaL_checkudata(L, 1, NM_SIM_MT);
  if (ls->s) lua_pushfstring(L, "neuromass.Simulation (%p)", (void *)ls->s);
  else lua_pushliteral(L, "neuromass.Simulation (freed)");
  return 1;
}


/* ---------------------------------------------------------------------
** Results
** ------------------------------------------------------------------- */

static LResult *checkresult(lua_State *L, int i)
{
  return luaL_checkudata(L, i, NM_RESULT_MT);
}


static int result_gc(lua_State *L)
{
  LResult *r = checkresult(L, 1);
  nm_kept_free(r->k);
  r->k = NULL;
  r->data = NULL;
  r->rows = 0;
  return 0;
}


static int result_size(lua_State *L)
{
  LResult *r = checkresult(L, 1);
  lua_pushinteger(L, (lua_Integer)r->rows);
  lua_pushinteger(L, (lua_Integer)r->cols);
  return 2;
}


const double *nmL_result_rows(lua_State *L, int i, size_t *rows, size_t *cols)
{
  LResult *r = checkresult(L, i);
  *rows = r->rows;
  *cols = r->cols;
  return r->data;
}


/* Raises an error naming column c when the result has no such column. */
static void check_column(lua_State *L, const LResult *r, lua_Integer c)
{
  if (c < 0 || (size_t)c >= r->cols)
    luaL_error(L, "result: no column %I (it has %I, from 0; 0 is the time)", c,
               (lua_Integer)r->cols);
}


/* r:column(c) -> array of column c (0-based; 0 is the time) */
static int result_column(lua_State *L)
{
  LResult *r = checkresult(L, 1);
  lua_Integer c = luaL_checkinteger(L, 2);
  check_column(L, r, c);
  if (r->rows > INT_MAX)
    return luaL_error(L, "a column of %I rows is more than a Lua table holds (at most %d); "
                      "read it with value() or write_csv()", (lua_Integer)r->rows, INT_MAX);
  lua_createtable(L, (int)r->rows, 0);
  for (size_t i = 0; i < r->rows; i++) {
    lua_pushnumber(L, r->data[i * r->cols + (size_t)c]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}


/* r:value(row, c), both 0-based */
static int result_value(lua_State *L)
{
  LResult *r = checkresult(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2), c = luaL_checkinteger(L, 3);
  if (i < 0 || (size_t)i >= r->rows)
    return luaL_error(L, "result: no row %I (it has %I, from 0)", i, (lua_Integer)r->rows);
  check_column(L, r, c);
  lua_pushnumber(L, r->data[(size_t)i * r->cols + (size_t)c]);
  return 1;
}


/* r:select(columns) -> a result of the listed columns (0-based, in that
** order) of every row: a batch's lane as a separate run's result. */
static int result_select(lua_State *L)
{
  LResult *r = checkresult(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  size_t nc = (size_t)luaL_len(L, 2);
  if (nc == 0) return luaL_error(L, "select: no column");
  if (r->rows > (SIZE_MAX / sizeof(double) - sizeof(LResult)) / nc)
    return luaL_error(L, "select: %I rows of %I columns are too many", (lua_Integer)r->rows, (lua_Integer)nc);
  size_t *col = lua_newuserdatauv(L, nc * sizeof *col, 0);
  for (size_t c = 0; c < nc; c++) {
    lua_geti(L, 2, (lua_Integer)c + 1);
    lua_Integer k = luaL_checkinteger(L, -1);
    check_column(L, r, k);
    col[c] = (size_t)k;
    lua_pop(L, 1);
  }
  /* the rows live in the userdata itself, after the struct (no nm_kept) */
  LResult *out = lua_newuserdatauv(L, sizeof *out + r->rows * nc * sizeof(double), 0);
  memset(out, 0, sizeof *out);
  double *data = (double *)(out + 1);
  for (size_t i = 0; i < r->rows; i++)
    for (size_t c = 0; c < nc; c++) data[i * nc + c] = r->data[i * r->cols + col[c]];
  out->data = data;
  out->rows = r->rows;
  out->cols = nc;
  luaL_setmetatable(L, NM_RESULT_MT);
  return 1;
}


/* r:write_csv(path, header) -> true | nil, failure { kind = "io", message =,
** csv_partial = where the complete rows are kept when writing failed midway };
** stopped by a stop signal, { kind = "interrupted", message = "interrupted by
** SIGxxx; kept the complete rows written in '...'", signo = } */
static int result_write_csv(lua_State *L)
{
  LResult *r = checkresult(L, 1);
  const char *path = luaL_checkstring(L, 2);
  luaL_checktype(L, 3, LUA_TTABLE);
  size_t nh = nmL_length(L, 3, "header", sizeof(char *));
  luaL_argcheck(L, nh == r->cols, 3, "header needs one name per column");
  const char **header = lua_newuserdatauv(L, (nh + 1) * sizeof *header, 0);
  for (size_t c = 0; c < nh; c++) {
    lua_geti(L, 3, (lua_Integer)c + 1);
    header[c] = luaL_checkstring(L, -1);   /* anchored by the header table */
    lua_pop(L, 1);
  }
  nm_error err;
  nm_csv *w = nm_csv_open(path, header, nh, &err);
  int status = err.status, stopped = 0;
  if (w) {
    /* a stop signal ends the writing between two chunks of rows */
    nmL_stop_scope sc;
    nmL_stop_begin(L, &sc);
    for (size_t at = 0; at < r->rows && !stopped; at += 4096) {
      size_t n = r->rows - at < 4096 ? r->rows - at : 4096;
      if (nm_csv_write_rows(w, r->data + at * r->cols, n, r->cols) != NM_OK) break;
      stopped = stop_flag != 0;
    }
    stopped = stopped || stop_flag != 0;
    status = nm_csv_finish(w, stopped ? NM_CSV_PARTIAL : NM_CSV_COMMIT);  /* keeps a partial file on failure */
    nmL_stop_end(L, &sc, stopped);
  }
  if (stopped) {
    if (nm_csv_kept(w))
      lua_pushfstring(L, "interrupted by %s; kept the complete rows written in '%s'",
                      nmL_signal_name(noted_signal), nm_csv_kept(w));
    else
      lua_pushfstring(L, "interrupted by %s", nmL_signal_name(noted_signal));
    nmL_push_failure(L, "interrupted", lua_tostring(L, -1));
    lua_pushinteger(L, noted_signal);
    lua_setfield(L, -2, "signo");
    nm_csv_free(w);
    return 2;
  }
  if (status != NM_OK) {
    nmL_push_failure(L, "io", lua_pushfstring(L, "cannot write '%s': %s", path,
                                              w ? nm_csv_error(w) : err.why));
    push_csv_partial(L, w);
    nm_csv_free(w);
    return 2;
  }
  nm_csv_free(w);
  lua_pushboolean(L, 1);
  return 1;
}


void nmL_open_sim(lua_State *L)
{
  static const luaL_Reg sim_meth[] = {
    { "run", sim_run }, { "time", sim_time }, { "signals", sim_signals }, { "free", sim_gc },
    { NULL, NULL }
  };
  static const luaL_Reg res_meth[] = {
    { "size", result_size }, { "column", result_column }, { "value", result_value },
    { "write_csv", result_write_csv }, { "select", result_select }, { NULL, NULL }
  };
  nmL_newclass(L, NM_SIM_MT, sim_meth, sim_gc, sim_tostring);
  nmL_newclass(L, NM_RESULT_MT, res_meth, result_gc, NULL);
  static const luaL_Reg held_meth[] = {
    { "commit", held_commit }, { "keep_partial", held_keep_partial }, { "close", held_close },
    { NULL, NULL }
  };
  nmL_newclass(L, NM_HELDCSV_MT, held_meth, held_close, NULL);
  static const luaL_Reg no_meth[] = { { NULL, NULL } };
  nmL_newclass(L, NM_RECORDER_MT, no_meth, recorder_gc, NULL);
  lua_pushcfunction(L, sim_new);
  lua_setfield(L, -2, "sim");
  lua_pushcfunction(L, core_noise_stream_seed);
  lua_setfield(L, -2, "noise_stream_seed");
  lua_pushcfunction(L, core_stop_signal);
  lua_setfield(L, -2, "stop_signal");
  lua_pushcfunction(L, core_signal_name);
  lua_setfield(L, -2, "signal_name");
  lua_pushcfunction(L, core_keep_stopped);
  lua_setfield(L, -2, "keep_stopped");
  lua_pushcfunction(L, core_forward_stop_signals);
  lua_setfield(L, -2, "forward_stop_signals");
  lua_pushinteger(L, NM_MAX_THREADS);
  lua_setfield(L, -2, "max_threads");
  lua_pushcfunction(L, core_memory);
  lua_setfield(L, -2, "memory");
  lua_pushcfunction(L, core_integrators);
  lua_setfield(L, -2, "integrators");
}
