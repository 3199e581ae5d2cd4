/*
** bind.h: helpers shared by the files that expose the engine to Lua as the
** module `neuromass.core`.  Indices crossing this boundary are 0-based, as in
** the engine; the Lua layer converts where users see 1-based tables.
*/
#ifndef nm_bind_h
#define nm_bind_h

#include <math.h>
#include <signal.h>

#include <lauxlib.h>
#include <lua.h>

#include "engine/nm.h"

#define NM_MODEL_MT "neuromass.Model"
#define NM_SIM_MT "neuromass.Simulation"
#define NM_RESULT_MT "neuromass.Result"
#define NM_STIM_MT "neuromass.Stimulus"

/* A model userdata.  `running` is the Lua state (thread) whose s:run is
** integrating the model (NULL between runs): slow-path callbacks call Lua on
** it.  `n_sims` counts the simulations that use the model: while there are
** any, its structure is fixed and it cannot be freed. */
typedef struct {
  nm_model *m;
  lua_State *running;
  int n_sims;
  int callback_failed;          /* a callback failed during the current run */
} LModel;

nm_model *nmL_checkmodel(lua_State *L, int i);
LModel *nmL_checklmodel(lua_State *L, int i);
/* The model at i, refused while a simulation uses it ("<what>: ..."): for
** the methods that change its structure. */
nm_model *nmL_checkmodel_unused(lua_State *L, int i, const char *what);
nm_stim *nmL_checkstim(lua_State *L, int i);
/* Reads opts.stimuli = { {stim =, slot = {}, channel = {}, kind = {"param"|"input"}} }
** (required; {} for none) into drivers whose arrays are anchored in the table
** at `anchor`. */
const nm_stim_driver *nmL_stim_drivers(lua_State *L, int opts, int anchor, size_t *n);

/* Pushes and returns the number at `i` as messages show a user's number (the
** library's format, _check.lua's number): an integer as is, a float in the
** shortest form that reads back as it (not Lua's %.14g, which rounds), "nan"
** for any NaN, "inf", "-inf". */
const char *nmL_show_number(lua_State *L, int i);
/* Pushes a value the engine computed for the user (a recorded sample, an
** analysis's result, a state handed to a callback, a fitness): v itself, or
** for a NaN the NaN without its sign bit, which prints as "nan" (a NaN from
** 0.0 / 0.0 carries it on x86, and Lua's tostring and %g show "-nan"). */
static inline void nmL_pushvalue(lua_State *L, double v)
{
  lua_pushnumber(L, v == v ? v : fabs(v));
}
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
/* Raises the reason a call on model `m` was refused (nm_model_error). */
int nmL_model_fail(lua_State *L, const nm_model *m, int status);
/* The one shape of a failure handed back to Lua (not raised): pushes nil and
** a table { kind =, message = } (message omitted when NULL), to which the
** caller adds what it knows (t, signal, signo, csv_partial, ...). */
void nmL_push_failure(lua_State *L, const char *kind, const char *message);
/* Sets csv_partial of the failure table on top: where CSV writer w kept its
** complete rows (nothing when w is NULL or kept none). */
void nmL_push_csv_partial(lua_State *L, const nm_csv *w);

/* Reads an option table strictly: raises "<what>: unknown option 'x' (known:
** a, b, c)" for a key of the table at `t` that is not a string in `known`
** (NULL-terminated).  Every binding entry point that takes a table of options
** calls it first, then reads the fields it knows with the *field readers
** below.  The binding has no defaults: the Lua library passes every field
** (defaults and friendly checks are its own), and a missing one is raised as
** "<what>: field '<key>' is missing (internal error: ...)".  Only a field
** that names something which may not exist (an output, a stimulus's start)
** may be absent, and each such field says so where it is read. */
void nmL_opts(lua_State *L, int t, const char *const known[], const char *what);

/* The index in `list` (NULL-terminated) of the string at stack index i; else
** raises "<what> is 'x'; allowed: a, b or c". */
int nmL_option(lua_State *L, int i, const char *const list[], const char *what);
/* Required fields of the table at t: an integer, a number, a boolean, one of
** the names in `list` (its index); else raises "<what>: field '<key>' ...". */
lua_Integer nmL_intfield(lua_State *L, int t, const char *key, const char *what);
double nmL_numfield(lua_State *L, int t, const char *key, const char *what);
int nmL_boolfield(lua_State *L, int t, const char *key, const char *what);
int nmL_choicefield(lua_State *L, int t, const char *key, const char *const list[],
                    const char *what);
/* Field 'method' of the table at t: an integrator's name, its enum
** nm_method (nm_stepper's table; l_sim.c). */
int nmL_methodfield(lua_State *L, int t, const char *what);

/* Pushes the message a failed slow-path callback left behind (and forgets it). */
void nmL_callback_error(lua_State *L);

/* The signals that stop a script (l_stop.c): SIGINT, SIGTERM, SIGHUP, SIGQUIT, and
** SIGPIPE (its standard output was closed: `neuromass run x.lua | head`).
** nmL_catch_stop_signals installs `handler` for each with sigaction, except
** for signals the process ignores (nohup); old[] receives the previous
** actions, for nmL_restore_stop_signals.
** nmL_note_stop_signal(signo) is async-signal-safe: it records the signal
** (nmL_stop_flag, set atomically) so that a run in progress stops at its next step,
** and sets a hook on the Lua state of nmL_set_stop_state, as lua.c does: the
** hook raises "FILE:LINE: interrupted by SIGxxx" at the next line of the
** user's code that runs (never inside the library, whose own files it knows
** from the registry's "neuromass.libsrc", "@<dir>/"), e.g. in a busy loop of
** the script or of a slow mass's derivatives.
** nmL_stop_signal() is the last signal recorded, 0 if none (even when a piece
** of work that reported it let the next one run: see nmL_stop_begin and
** nmL_stop_script). */
#define NM_N_STOP_SIGNALS 5
void nmL_catch_stop_signals(void (*handler)(int), struct sigaction old[NM_N_STOP_SIGNALS]);
void nmL_restore_stop_signals(const struct sigaction old[NM_N_STOP_SIGNALS]);
void nmL_note_stop_signal(int signo);
int nmL_stop_signal(void);
/* Pushes "FILE:LINE: " of the innermost Lua function at `level` or above
** (C functions are skipped) and returns 1 when that function is the user's
** code; else pushes nothing and returns 0 (the library's code, or no Lua). */
int nmL_where_user(lua_State *L, int level);
/* The Lua state (thread) a stop signal interrupts; returns the previous one. */
lua_State *nmL_set_stop_state(lua_State *L);
/* The host: a stop signal stops the whole script running on L.  It is then
** never forgotten (a later run fails at once as interrupted), and its hook
** stays set once it has raised or a run has reported it, raising again in the
** next user code that runs: a pcall that catches the stop cannot go on (the
** library's own code still runs, e.g. to clean up).  NULL ends it and drops
** the hook. */
void nmL_stop_script(lua_State *L);
/* The flag nmL_note_stop_signal sets (for an engine's `interrupt` option). */
volatile sig_atomic_t *nmL_stop_flag(void);
/* Around a stoppable piece of C work on thread L (a run, a writer): the stop
** signals are caught meanwhile and interrupt L; a signal noted before it
** (and not yet reported) stops it at once, one that an earlier piece of work
** reported is forgotten (unless under nmL_stop_script).  nmL_stop_end after
** it, with `reported` when the work failed as interrupted (the hook is then
** dropped: the caller may catch that failure and go on; under
** nmL_stop_script it is set again instead). */
typedef struct {
  struct sigaction old[NM_N_STOP_SIGNALS];
  lua_State *state;
} nmL_stop_scope;
void nmL_stop_begin(lua_State *L, nmL_stop_scope *sc);
void nmL_stop_end(lua_State *L, nmL_stop_scope *sc, int reported);
/* How many s:run are in progress (l_sim.c; a slow mass's derivatives run inside one). */
int nmL_runs_in_progress(void);
/* "SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGPIPE" ("a signal" for any other). */
const char *nmL_signal_name(int signo);

/* A run's result (l_result.c): pushes a new neuromass.Result of `cols`
** columns and returns the engine sink's store its rows go to (raises when it
** cannot be allocated); once the run has ended, nmL_result_ended makes the
** result at index i read them and returns their size in bytes. */
nm_kept *nmL_result_new(lua_State *L, size_t cols);
/* Pushes a result that owns the rows of `k` (freed with it). */
void nmL_result_push_kept(lua_State *L, nm_kept *k);
size_t nmL_result_ended(lua_State *L, int i);
/* The rows of the result at index i: rows x cols doubles, row-major. */
const double *nmL_result_rows(lua_State *L, int i, size_t *rows, size_t *cols);

void nmL_open_model(lua_State *L);
void nmL_open_callback(lua_State *L);
void nmL_open_sim(lua_State *L);
void nmL_open_stop(lua_State *L);     /* l_stop.c: core.stop_signal, keep_stopped, ... */
void nmL_open_result(lua_State *L);   /* l_result.c: the neuromass.Result class */
void nmL_open_stim(lua_State *L);
void nmL_open_func(lua_State *L);     /* l_func.c: core.func, the analysis functions */
void nmL_open_file(lua_State *L);
void nmL_open_dir(lua_State *L);      /* l_dir.c: core.mkdir_p, core.list_dir, core.claim, core.lock_dir */
void nmL_open_jit(lua_State *L);      /* l_jit.c: core.jit_stats */
void nmL_open_matrix(lua_State *L);   /* l_matrix.c: core.matrix_*, core.read_matrix */

/* Compressed coupling rows made by core.matrix_rows (l_matrix.c), which
** m:add_coupling{ rows = } takes: row_ptr[n_rows + 1] (from 0), and per
** term its source signal, delay (steps) and weight. */
#define NMl_ROWS_MT "neuromass.CouplingRows"
typedef struct {
  size_t n_rows, n_terms;
  size_t *row_ptr;
  long *src;
  int *delay;
  double *weight;
} nmL_rows;
/* The rows userdata at i, or NULL.  m:add_coupling takes its arrays over
** (they are NULL after): rows serve one coupling. */
nmL_rows *nmL_torows(lua_State *L, int i);
void nmL_open_simd(lua_State *L);     /* l_simd.c: core.simd_check */

#endif
