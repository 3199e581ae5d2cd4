/*
** l_sim.c: the Lua type neuromass.Simulation (a model being integrated:
** state, history, time) and its run.  A run's rows go through the engine's
** recorder (record.c) to its sinks (a CSV file, audio, BOLD, a
** neuromass.Result of l_result.c): this file only opens them and passes the
** handles; a stop signal (l_stop.c) ends the run between two steps.
*/
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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

/* Runs in progress (nested: a slow mass may call back into Lua). */
static int runs_in_progress;


int nmL_runs_in_progress(void)
{
  return runs_in_progress;
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


/* sim:history_bytes() -> bytes, reach, kept: the bytes the simulation
** holds for its delay history now (nm_sim_history_bytes: the ring, the
** staged copy, the threads' copies); the longest delay its ring holds
** (steps) and the bytes it keeps while the ring grows (nm_sim_history_kept),
** for m:history_bytes's peak */
static int sim_history_bytes(lua_State *L)
{
  nm_sim *s = checksim(L, 1);
  size_t reach, kept = nm_sim_history_kept(s, &reach);
  lua_pushnumber(L, (double)nm_sim_history_bytes(s));
  lua_pushinteger(L, (lua_Integer)reach);
  lua_pushnumber(L, (double)kept);
  return 3;
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
    nmL_pushvalue(L, V[i]);
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


int nmL_methodfield(lua_State *L, int t, const char *what)
{
  const char *names[NM_METHOD_COUNT + 1];
  for (int i = 0; i <= NM_METHOD_COUNT; i++) names[i] = i < NM_METHOD_COUNT ? nm_stepper(i)->name : NULL;
  return nmL_choicefield(L, t, "method", names, what);
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
** A run's CSV files (output.csv, then output.bold) settle together: each
** waits complete under its temporary name until the run's end, then all are
** renamed into place in that order, or all kept as partial (a rename that
** fails keeps the files after it as partial; those before it are in place
** already, complete).  With hold_csv the caller
** settles them, after its other outputs (the audio):
**   held:commit() -> true | nil, failure   (renamed into place in turn; from
**                    the first that fails on, the rest are kept as partial)
**   held:keep_partial() -> { paths kept }[, failure]  (as <stem>.partial.<ext>)
**   held:close()    (also __gc: a held file never settled is removed)
** A failure is { kind = "io", message = "cannot write '<path>': <why>", path
** = <path>, kept = { paths kept as partial } }.  Settling twice fails and
** changes nothing.
** ------------------------------------------------------------------- */

#define NM_HELDCSV_MT "neuromass.HeldCSV"
#define RUN_FILES 2                  /* output.csv, output.bold */

typedef struct { nm_csv *w[RUN_FILES]; } LHeldCSV;


/* Settles the files together: how = NM_CSV_COMMIT renames each in turn until
** one fails, the rest then kept as partial; NM_CSV_PARTIAL keeps each as
** partial.  Returns the index of the first that failed, or -1. */
static int settle_files(nm_csv *const *w, int how)
{
  int failed = -1;
  for (int i = 0; i < RUN_FILES; i++) {
    if (!w[i]) continue;
    int h = how == NM_CSV_COMMIT && failed < 0 ? NM_CSV_COMMIT : NM_CSV_PARTIAL;
    if (nm_csv_finish(w[i], h) != NM_OK && failed < 0) failed = i;
  }
  return failed;
}


/* Pushes the paths of the files kept as partial (a list). */
static void push_kept(lua_State *L, nm_csv *const *w)
{
  lua_newtable(L);
  for (int i = 0; i < RUN_FILES; i++) {
    const char *kept = w[i] ? nm_csv_kept(w[i]) : NULL;
    if (!kept || strcmp(kept, nm_csv_path(w[i])) == 0) continue;
    lua_pushstring(L, kept);
    lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
  }
}


static int held_settle(lua_State *L, int how)
{
  LHeldCSV *h = luaL_checkudata(L, 1, NM_HELDCSV_MT);
  int any = 0;
  for (int i = 0; i < RUN_FILES; i++) any |= h->w[i] != NULL;
  if (!any) {
    nmL_push_failure(L, "io", "the CSV was settled already");
    return 2;
  }
  int failed = settle_files(h->w, how);
  int n = 1;
  if (how == NM_CSV_PARTIAL) push_kept(L, h->w);
  if (failed < 0) {
    if (how == NM_CSV_COMMIT) lua_pushboolean(L, 1);
  } else {
    nm_csv *w = h->w[failed];
    const char *why = nm_csv_error(w)[0] ? nm_csv_error(w) : "no complete rows to keep";
    nmL_push_failure(L, "io", lua_pushfstring(L, "cannot write '%s': %s", nm_csv_path(w), why));
    lua_pushstring(L, nm_csv_path(w));
    lua_setfield(L, -2, "path");
    push_kept(L, h->w);
    lua_setfield(L, -2, "kept");
    lua_remove(L, -3);                           /* the message */
    if (how == NM_CSV_PARTIAL) lua_remove(L, -2);    /* the kept list, then the failure */
    n = 2;
  }
  for (int i = 0; i < RUN_FILES; i++) {
    nm_csv_free(h->w[i]);
    h->w[i] = NULL;
  }
  return n;
}


static int held_commit(lua_State *L) { return held_settle(L, NM_CSV_COMMIT); }
static int held_keep_partial(lua_State *L) { return held_settle(L, NM_CSV_PARTIAL); }


static int held_close(lua_State *L)
{
  LHeldCSV *h = luaL_checkudata(L, 1, NM_HELDCSV_MT);
  for (int i = 0; i < RUN_FILES; i++) {
    nm_csv_free(h->w[i]);
    h->w[i] = NULL;
  }
  return 0;
}


/*
** s:run{ n_steps =, every =, method =, rtol =, atol =, record = {signals},
**        drivers = { {slot =, values = {}} ... }, stimuli = { {stim =, slot = {},
**        channel = {}, kind = {"param"|"input"}} ... }, csv = path, header = {names},
**        csv_from = n, keep = bool, progress = bool,
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
** The CSV's columns are the time and #header - 1 recorded signals from column
** csv_from (1: the result's own; further on: columns of its own, recorded
** after the result's).
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
    "keep", "csv", "csv_from", "header", "hold_csv", "progress", "audio", "audio_cols", "keep_cols",
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
  o.method = nmL_methodfield(L, 2, "run");
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
  nm_kept *res = NULL;
  if (keep) {                                                          /* 7: the result */
    res = nmL_result_new(L, n_keep);
  } else {
    lua_pushboolean(L, 1);
  }
  LHeldCSV *held = NULL;             /* 8: takes the CSV writer when the run succeeds */
  lua_pushboolean(L, nmL_boolfield(L, 2, "hold_csv", "run"));
  if (lua_toboolean(L, 8)) {
    held = lua_newuserdatauv(L, sizeof *held, 0);
    memset(held, 0, sizeof *held);
    luaL_setmetatable(L, NM_HELDCSV_MT);
    lua_replace(L, 8);
  }
  nm_csv *csv = NULL;
  if (output_field(L, 2, "csv", LUA_TSTRING, "a path")) {              /* 9 */
    const char *path = lua_tostring(L, -1);
    lua_Integer from = intfield(L, 2, "csv_from");
    lua_getfield(L, 2, "header");
    size_t nh = lua_istable(L, -1) ? nmL_length(L, -1, "header", sizeof(char *)) : 0;
    if (from < 1 || (size_t)from > 1 + o.n_record || nh < 1 || nh - 1 > 1 + o.n_record - (size_t)from)
      return luaL_error(L, "run: the csv header has %I names from column %I; the rows have %I",
                        (lua_Integer)nh, from, (lua_Integer)(1 + o.n_record));
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
    if (nm_recorder_add_from(rec, &cs, (size_t)from, nh, decimate, phase) != NM_OK) {
      nm_csv_free(csv);
      return luaL_error(L, "run: %s", nm_recorder_error(rec));
    }
    lua_pop(L, 2);
  }
  if (res) add_sink(L, rec, nm_kept_sink(res), n_keep, decimate, phase);
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
  o.interrupt = nmL_stop_flag();
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
  if (rc == NM_ECALLBACK && *nmL_stop_flag()) {
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
  /* Every sink settles: the CSV files wait complete under their temporary
  ** names (or keep their complete rows as partial files when the run failed),
  ** then are renamed into place together, or held for the caller. */
  nm_recorder_finish(rec, rc != NM_OK ? NM_CSV_PARTIAL : NM_CSV_HOLD);
  rc = nmL_bold_finish(&bold, rc);
  nm_csv *files[RUN_FILES] = { csv, bold.csv };
  if (rc == NM_OK && csv && nm_csv_error(csv)[0]) rc = NM_EIO;
  if (rc != NM_OK) settle_files(files, NM_CSV_PARTIAL);
  else if (!held && settle_files(files, NM_CSV_COMMIT) >= 0) rc = NM_EIO;
  int csv_failed = csv && nm_csv_error(csv)[0];
  bold.csv_failed = bold.csv && nm_csv_error(bold.csv)[0];
  if (rc == NM_OK) {
    if (res) {
      /* The rows live outside Lua's heap, where the collector does not see
      ** them: a step of collection in proportion keeps a script that runs
      ** again and again from piling up the results it dropped.  Counted in
      ** whole KiB over the runs: LUA_GCSTEP of 0 is not "nothing" but a step
      ** forced at once, which after every short run kept the collector going
      ** around the script's whole heap (run_spec.lua, "without a collection
      ** cycle per few runs"). */
      static size_t unseen;          /* bytes of rows not yet counted (< 1 KiB) */
      unseen += nmL_result_ended(L, 7);
      if (unseen >= 1024) {
        size_t kib = unseen / 1024;
        unseen %= 1024;
        lua_gc(L, LUA_GCSTEP, kib > INT_MAX ? INT_MAX : (int)kib);
      }
    }
    lua_pushvalue(L, 7);
    if (held && (csv || bold.csv)) {
      held->w[0] = csv;
      held->w[1] = nmL_bold_take_csv(&bold);
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
    nmL_push_failure(L, "interrupted", nmL_signal_name(nmL_stop_signal()));
    lua_pushinteger(L, nmL_stop_signal());
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
  nmL_push_csv_partial(L, csv);
  nmL_bold_partial(L, &bold);
  nm_csv_free(csv);
  return 2;
}


/* This process's address space in bytes (Linux's VmSize), -1 when unknown. */
static double address_space(void)
{
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  double kb = -1.0;
  while (f && kb < 0 && fgets(line, sizeof line, f))
    if (sscanf(line, "VmSize: %lf kB", &kb) != 1) kb = -1.0;
  if (f) fclose(f);
  return kb < 0 ? -1.0 : kb * 1024.0;
}


/* core.memory([held]) -> bytes, what: the most this process may allocate
** for something of which it holds `held` bytes already (a simulation's
** history, freed or grown for the next run; default 0), and what bounds it,
** for messages ("more than this machine's memory, N bytes"): the machine's
** physical memory ("this machine's memory"; math.huge if unknown), or when
** less, what the limit on its address space (ulimit -v, RLIMIT_AS) leaves of
** it, with `held` ("what this process's address-space limit (ulimit -v)
** leaves") */
static int core_memory(lua_State *L)
{
  long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  double memory = pages > 0 && size > 0 ? (double)pages * (double)size : HUGE_VAL;
  double held = luaL_optnumber(L, 1, 0.0);
  struct rlimit lim;
  double used = address_space();
  if (getrlimit(RLIMIT_AS, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY && used >= 0) {
    double left = (double)lim.rlim_cur - used + held;
    if (left < memory) {
      lua_pushnumber(L, left > 0 ? left : 0.0);
      lua_pushliteral(L, "what this process's address-space limit (ulimit -v) leaves");
      return 2;
    }
  }
  lua_pushnumber(L, memory);
  lua_pushliteral(L, "this machine's memory");
  return 2;
}


static int sim_tostring(lua_State *L)
{
  LSim *ls = luaL_checkudata(L, 1, NM_SIM_MT);
  if (ls->s) lua_pushfstring(L, "neuromass.Simulation (%p)", (void *)ls->s);
  else lua_pushliteral(L, "neuromass.Simulation (freed)");
  return 1;
}


void nmL_open_sim(lua_State *L)
{
  static const luaL_Reg sim_meth[] = {
    { "run", sim_run }, { "time", sim_time }, { "signals", sim_signals }, { "free", sim_gc },
    { "history_bytes", sim_history_bytes },
    { NULL, NULL }
  };
  nmL_newclass(L, NM_SIM_MT, sim_meth, sim_gc, sim_tostring);
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
  lua_pushinteger(L, NM_MAX_THREADS);
  lua_setfield(L, -2, "max_threads");
  lua_pushcfunction(L, core_memory);
  lua_setfield(L, -2, "memory");
  lua_pushcfunction(L, core_integrators);
  lua_setfield(L, -2, "integrators");
}
