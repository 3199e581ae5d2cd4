/*
** main.c: the `neuromass` executable, shaped after lua.c.  It opens Lua,
** preloads the C module, puts the Lua library on the path, hands the command
** line options to the library as its host context (nm.set_context) and runs
** the user's script in protected mode, reporting errors as "neuromass: file:line: ...".
** SIGINT, SIGTERM, SIGHUP and SIGQUIT stop the script (a run between two
** steps, keeping its complete rows as <stem>.partial.<ext>; Lua code at the
** user's next line, again after a pcall that caught it: nmL_stop_script);
** so does SIGPIPE, a closed standard output (`| head`).  The exit status is
** then 128 + the signal's number, even if the script went on to its end.
*/
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "bind/bind.h"
#include "engine/nm.h"

#define PROGNAME "neuromass"

/* At most this many worker processes per core this process may run on: more is a typo or a
** value meant for another machine (each worker is a process of its own, and
** a sweep starts one per missing point up to N), refused before the script runs. */
#define WORKERS_PER_CORE 8
#define MAX_TASKS 1000000       /* --ntasks at most (--task below it) */
#define TEXT_OF(x) #x                /* a macro's value as a string (help texts) */
#define TEXT(x) TEXT_OF(x)

int luaopen_neuromass_core(lua_State *L);

static const char usage[] =
  "usage: " PROGNAME " COMMAND [OPTIONS] ...\n"
  "\n"
  "  run SCRIPT.lua [ARGS...]       run a model script\n"
  "  info SCRIPT.lua [ARGS...]      build the script's models and describe them,\n"
  "                                 integrating nothing\n"
  "  sonify RESULT.csv -o OUT.wav   write a recorded CSV as audio\n"
  "  plot RESULT.csv -o FIG.png     draw a recorded CSV (time series or BOLD)\n"
  "                                 as PNG, SVG or PDF (needs gnuplot)\n"
  "  explore --merge DIR            join the parts of an exploration's tasks\n"
  "  help [COMMAND]                 this text, or a command's options\n"
  "  --help      this text\n"
  "  --version   the version\n"
  "\n"
  "'" PROGNAME " help COMMAND' or '" PROGNAME " COMMAND --help' lists a command's\n"
  "options.\n"
  "\n"
  "SIGINT (Ctrl-C), SIGTERM, SIGHUP and SIGQUIT stop the script (a run between\n"
  "two steps): its outputs are not written under their names, the complete rows\n"
  "and frames are kept as NAME.partial.EXT, a pcall in the script cannot catch\n"
  "it, and the exit status is 128 + the signal number.  A closed standard output\n"
  "(SIGPIPE, e.g. '| head') stops it the same way (exit status 141).  os.exit\n"
  "during a run stops the run as an error (exit status 1), keeping its complete\n"
  "rows.\n"
  "\n"
  "Environment: NEUROMASS_LUA_DIR overrides where the Lua library is found;\n"
  "NEUROMASS_DEBUG=1 prints a traceback with errors.  Native code (docs/jit.md):\n"
  "NEUROMASS_JIT=off|0 turns it off (on|1 or unset: each run's jit option);\n"
  "NEUROMASS_CC names the C compiler (default cc); the cache is\n"
  "$XDG_CACHE_HOME/neuromass (an absolute path; default ~/.cache/neuromass).\n"
  "NEUROMASS_SIMD=off|avx2|avx512|auto caps the vector paths (docs/reference.md,\n"
  "\"Vector paths\").\n";

/* The options of run and info; OUT_DIR: what --out DIR does for the command. */
#define SCRIPT_OPTIONS(OUT_DIR) \
  "Options go before or after the script; after the script, other arguments\n" \
  "(and everything after '--') reach it in `arg` (one near an option, --seeed,\n" \
  "with a warning).  A value may also follow '='\n" \
  "(--seed=7, --out=out).  An option that takes a value is given once (--set:\n" \
  "once per parameter).\n" \
  "  --set NAME=VALUE  override a parameter at every model:run (names and globs\n" \
  "                    as model.params; VALUE a finite number); it is an error\n" \
  "                    when no model:run of the script applied it\n" \
  "  --out DIR         " OUT_DIR "\n" \
  "  --seed N          override every run's seed (an integer from 0 to\n" \
  "                    9223372036854775807)\n" \
  "  --quiet           no progress bar, no audio or plot warnings on stderr\n" \
  "  --workers N|all   an exploration (nm.explore.BoxSearch) over N local worker\n" \
  "                    processes (default: all, one per core; at most " TEXT(WORKERS_PER_CORE) " per core)\n" \
  "  --task I --ntasks N   this process computes slice I (0 to N-1) of the first\n" \
  "                    exploration, writes it as a part and ends the script\n" \
  "                    (default from a Slurm array: SLURM_ARRAY_TASK_ID,\n" \
  "                    SLURM_ARRAY_TASK_COUNT)\n" \
  "  -h, --help        this text\n"

static const char run_usage[] =
  "usage: " PROGNAME " run [OPTIONS] SCRIPT.lua [ARGS...] [OPTIONS]\n"
  "run a model script: each model:run integrates and writes its outputs.\n"
  "The output path \"-\" is stdout: a CSV (output = { csv = \"-\" }, res:write_csv)\n"
  "streams its rows as they come, and so does a run's WAV (output = { audio =\n"
  "{ path = \"-\" } }, not normalised by default); res:write_audio(\"-\") and a\n"
  "normalised run's WAV are copied there once complete. Messages stay on\n"
  "stderr: a script's own text must go there too (io.stderr:write), since\n"
  "print() to stdout would corrupt a CSV or WAV streamed to \"-\".\n"
  "\n" SCRIPT_OPTIONS("where relative output paths go (created when needed)");

static const char info_usage[] =
  "usage: " PROGNAME " info [OPTIONS] SCRIPT.lua [ARGS...] [OPTIONS]\n"
  "run the script without integrating: print each model it builds (nodes,\n"
  "masses, state variables, parameters with values); its runs are checked as\n"
  "run checks them before their first step (options, parameters, stimuli,\n"
  "the integrator, outputs, memory), then return empty results and write no\n"
  "files. What only integrating finds (a blow-up, a full disk) it cannot.\n"
  "\n" SCRIPT_OPTIONS("where relative output paths would go (checked, not created:\n"
                       "                    info writes nothing)");

static const char sonify_usage[] =
  "usage: " PROGNAME " sonify RESULT.csv -o OUT.wav [OPTIONS]\n"
  "write a recorded CSV as audio (.wav, .flac, .ogg; -o - writes a WAV to stdout\n"
  "once complete, e.g. into '| aplay', and the report to stderr)\n"
  "An option that takes a value is given once; a value may also follow '='\n"
  "(--speedup=100).\n"
  "  -o, --output OUT.wav   the audio file\n"
  "  --column GLOB --variable V --nodes 0,3   the columns to play (default: the\n"
  "                 first variable of the header, every node that has it)\n"
  "  --speedup K (default 40) or --map FROM:TO (Hz)   --skip MS\n"
  "  --rate HZ (default 44100)   --bits 16|24|float (default 16)\n"
  "  --quality fast|medium|best (default medium)\n"
  "  --layout mono|stereo|multichannel (default mono for one signal, else stereo)\n"
  "  --pan index|hemisphere|position (default index; hemisphere with --regions)\n"
  "  --regions hcp|gw\n"
  "  --normalize peak|rms|relative|none (default peak)\n"
  "  --headroom DB (default 1)   --gain G (with --normalize none; default 1)\n"
  "  --highpass HZ   --fade S (default 0.01)\n"
  "  --mode audify|mapping (default audify)   --drive amplitude|pitch|both\n"
  "  --carrier HZ[,HZ...] (one per signal; with --drive amplitude)\n"
  "  --pitch LO:HI (LO < HI; with --drive pitch|both)   --envelope HZ\n"
  "  --sidecar off|PATH (default OUT.wav.json)   --quiet\n"
  "  -h, --help   this text\n";

static const char plot_usage[] =
  "usage: " PROGNAME " plot RESULT.csv -o FIG.png|FIG.svg|FIG.pdf [OPTIONS]\n"
  "draw a CSV that neuromass wrote, with gnuplot (Debian package gnuplot-nox):\n"
  "a result (header t,VAR.NODE,...) as the time series of one variable, a BOLD\n"
  "CSV (header t_BOLD,BOLD_0,...) as BOLD over time (s).  Up to 8 nodes are\n"
  "drawn as lines, more as an image of node x time.  An option that takes a\n"
  "value is given once; a value may also follow '=' (--var=x).\n"
  "  -o, --output FIG\n"
  "                  the figure: .png, .svg or .pdf (the format from the extension)\n"
  "  --var NAME      the variable to draw (default: the first in the header;\n"
  "                  also --variable)\n"
  "  --nodes 0,1,2   the nodes (0-based; default: all)\n"
  "  --view lines|stacked|image   --title TEXT   --quiet\n"
  "  --zscore        each node's series as z-scores (e.g. measured BOLD)\n"
  "  --skip K        a BOLD CSV after its first K samples (the transient)\n"
  "  --names FILE    label the nodes by name: one per line, line k+1 node k\n"
  "  -h, --help      this text\n";

static const char explore_usage[] =
  "usage: " PROGNAME " explore --merge DIR\n"
  "join the parts of an exploration run as tasks (a Slurm array, --task I\n"
  "--ntasks N: DIR/parts/task-I-of-N.csv; other .csv files there are skipped,\n"
  "with a warning), those of the workers of a killed run (worker-I-of-N.csv)\n"
  "and DIR/results.csv into DIR/results.csv, one row per point\n"
  "in point order; the parts are removed once joined.  With points missing\n"
  "(tasks not run or stopped), the rows go to DIR/results.partial.csv instead,\n"
  "the parts are kept, the missing points and tasks are named, and the exit\n"
  "status is 1.\n"
  "  --quiet      no report\n"
  "  -h, --help   this text\n";

/* The length of a "SOURCE.lua:LINE: " prefix at the start of msg (a SOURCE
** without spaces), 0 if none. */
static size_t position_length(const char *msg)
{
  for (const char *p = msg; *p && *p != '\n' && *p != ' '; p++) {
    if (*p != ':' || p[1] < '0' || p[1] > '9') continue;
    const char *q = p + 1;
    while (*q >= '0' && *q <= '9') q++;
    if (q[0] == ':' && q[1] == ' ' && p - msg >= 4 && strncmp(p - 4, ".lua", 4) == 0)
      return (size_t)(q + 2 - msg);
  }
  return 0;
}


/* An error that crossed coroutine.wrap holds two positions ("a.lua:6:
** a.lua:3: ..."): the first, where the coroutine was resumed, goes. */
static const char *one_position(lua_State *L, const char *msg)
{
  size_t outer = position_length(msg);
  if (outer == 0 || position_length(msg + outer) == 0) return msg;
  return lua_pushstring(L, msg + outer);
}


/* Whether the value at `idx` is a command's usage error (_check.lua's
** check.usage: { usage = text }, its metatable named "neuromass.usage"). */
static int is_usage_error(lua_State *L, int idx)
{
  if (!lua_istable(L, idx) || luaL_getmetafield(L, idx, "__name") == LUA_TNIL) return 0;
  int yes = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "neuromass.usage") == 0;
  lua_pop(L, 1);
  return yes;
}


/* An error object that is not a string (error(nil), error({...})) is
** reported readably (its __tostring, or its type) at the user's line that
** raised it. */
static int msghandler(lua_State *L)
{
  /* a command's usage error goes as it is to csv_command */
  if (is_usage_error(L, 1)) return 1;
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (!nmL_where_user(L, 1)) lua_pushliteral(L, "");
    int named = luaL_callmeta(L, 1, "__tostring");
    if (named && lua_type(L, -1) != LUA_TSTRING) { lua_pop(L, 1); named = 0; }
    if (!named && lua_isnil(L, 1))
      lua_pushliteral(L, "error raised with nil instead of a message (give error() a string)");
    else if (!named)
      lua_pushfstring(L, "error raised with a %s value instead of a message (give error() a "
                      "string)", luaL_typename(L, 1));
    lua_concat(L, 2);
    msg = lua_tostring(L, -1);
  }
  msg = one_position(L, msg);
  const char *debug = getenv("NEUROMASS_DEBUG");
  if (debug && *debug && strcmp(debug, "0") != 0) luaL_traceback(L, L, msg, 1);
  return 1;
}


static int script_end_checks(lua_State *L, int ctx);   /* below, after the commands */

/* Whether everything written to stdout reached it (GNU's close_stdout rule:
** a full disk or a closed stdout must not pass as success); says why not on
** stderr, unless a stop signal (SIGPIPE: a reader closed the pipe) says it. */
static int stdout_written(void)
{
  errno = 0;
  if (fflush(stdout) == 0 && !ferror(stdout)) return 1;
  if (!nmL_stop_signal())
    fprintf(stderr, PROGNAME ": cannot write to the standard output: %s\n",
            errno ? strerror(errno) : "an earlier write failed (print flushes at once): the output is incomplete");
  return 0;
}

/* MPI (issue 13): pushes explore/mpi.lua's function `name` (the one owner
** of the rules of mpirun) and returns 1, else 0 (a library that cannot be
** loaded: the script says why it cannot load it); the caller resets the
** stack. */
static int mpi_function(lua_State *L, const char *name)
{
  lua_getglobal(L, "require");
  lua_pushliteral(L, "neuromass.explore.mpi");
  return lua_pcall(L, 1, 1, 0) == LUA_OK && lua_getfield(L, -1, name) == LUA_TFUNCTION;
}

/* explore/mpi.lua's script_start, as a script of `run` or `info` starts: in
** a rank of an mpirun job, the variable it names is set to this process's
** pid, so that a `neuromass run` the script starts knows that the
** launcher's variables it inherits are not its own (it is no rank). */
static void mpi_script_start(lua_State *L)
{
  int top = lua_gettop(L);
  if (mpi_function(L, "script_start") && lua_pcall(L, 0, 2, 0) == LUA_OK &&
      lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING)
    setenv(lua_tostring(L, -2), lua_tostring(L, -1), 1);
  lua_settop(L, top);
}

/* explore/mpi.lua's script_end, as a script of `run` or `info` ends (by
** itself, by an error or by os.exit): a rank of an mpirun job whose script
** never started MPI (it called nothing of nm.explore) starts it now, so that
** it meets the other ranks in the end-of-script check, or aborts the job
** when its script failed, instead of leaving them waiting for it in a
** collective.  Returns 1 when MPI runs (the Lua state must then be closed:
** the check and the end of MPI run as it closes), 0 when not, -1 when MPI
** could not start (said on stderr). */
static int mpi_script_end(lua_State *L)
{
  int top = lua_gettop(L), runs = 0;
  lua_sethook(L, NULL, 0, 0);                    /* the script is over: no stop to raise */
  if (mpi_function(L, "script_end")) {
    if (lua_pcall(L, 0, 1, 0) == LUA_OK) {
      runs = lua_toboolean(L, -1);
    } else {
      fprintf(stderr, PROGNAME ": %s\n", lua_isstring(L, -1) ? lua_tostring(L, -1) : "(error)");
      runs = -1;
    }
  }
  lua_settop(L, top);
  return runs;
}

/* os.exit during a run (in a slow mass's derivatives) would leave the run's
** temporary files: it stops the run as an error instead (its complete rows
** kept as <stem>.partial.<ext>, exit status 1).  Elsewhere it exits, with
** the checks of a script that ended by itself when its status is success:
** every --set applied and every --task taken when the user's code called it
** (script_end_checks, on the host context in the registry under
** HOST_CONTEXT) and stdout written, else with status 1. */
#define HOST_CONTEXT "neuromass.host_context"
static int host_exit(lua_State *L)
{
  if (nmL_runs_in_progress() > 0) {
    if (!nmL_where_user(L, 1)) lua_pushliteral(L, "");
    lua_pushfstring(L, "os.exit(%s) was called during model:run: the run stops there, and the "
                    "script with it", lua_isnone(L, 1) ? "" : luaL_tolstring(L, 1, NULL));
    if (!lua_isnone(L, 1)) lua_remove(L, -2);
    lua_concat(L, 2);
    return lua_error(L);
  }
  lua_settop(L, 2);                              /* (status, close), as os.exit reads them: nil as none */
  int success = lua_isboolean(L, 1) ? lua_toboolean(L, 1) : luaL_optinteger(L, 1, EXIT_SUCCESS) == EXIT_SUCCESS;
  if (success) {
    /* the --set of the user's os.exit only: the library's own (an exploration's task or worker
    ** ending, explore/common.lua) follows the exploration's check of every --set */
    int ok = 1;
    if (nmL_where_user(L, 1) && lua_getfield(L, LUA_REGISTRYINDEX, HOST_CONTEXT) == LUA_TTABLE) {
      int ctx = lua_gettop(L);
      ok = script_end_checks(L, ctx);
    }
    if (!(stdout_written() && ok)) {
      lua_pushinteger(L, EXIT_FAILURE);
      lua_replace(L, 1);
    }
  }
  lua_settop(L, 2);
  int mpi = mpi_script_end(L);
  if (mpi > 0) {                                 /* close the state: the ranks' end-of-script check */
    lua_pushboolean(L, 1);
    lua_replace(L, 2);
  } else if (mpi < 0) {
    lua_pushinteger(L, EXIT_FAILURE);
    lua_replace(L, 1);
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}


/* When a stop signal ended the script: the files its stopped runs kept
** ("kept what was done in '...'", neuromass.outputs), unless `msg` (the
** message ending the script) names them already; NULL when there is none.
** A pcall in the script may have caught the run's own message, and the stop
** then ends the script at another line. */
static const char *stop_kept_note(lua_State *L, const char *msg)
{
  if (!nmL_stop_signal()) return NULL;
  if (msg && strstr(msg, "kept what was done in")) return NULL;
  lua_sethook(L, NULL, 0, 0);                    /* the script is over: no stop to raise */
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "loaded");
  lua_getfield(L, -1, "neuromass.outputs");      /* loaded when a run was */
  const char *note = NULL;
  if (lua_istable(L, -1)) {
    lua_getfield(L, -1, "stop_note");
    if (lua_isfunction(L, -1) && lua_pcall(L, 0, 1, 0) == LUA_OK && lua_isstring(L, -1))
      note = lua_tostring(L, -1);                /* anchored on the stack until pmain returns */
  }
  return note;
}


/* The environment variable that marks an exploration's worker process
** (explore/spread.lua's WORKER_ENV). */
#define WORKER_ENV "NEUROMASS_EXPLORE_WORKER"

/* Whether this process is a worker of an exploration (explore/workers.lua
** starts each with spread.lua's WORKER_ENV set) that a stop signal ended: it says
** nothing, as the script's process, stopped by the same signal (passed on to
** its workers), says once that the workers were stopped.  A worker stopped
** alone is named by that process with its signal. */
static int worker_stopped(void)
{
  return nmL_stop_signal() && getenv(WORKER_ENV) != NULL;
}


static int docall(lua_State *L, int narg, int nres)
{
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  int status = lua_pcall(L, narg, nres, base);
  lua_remove(L, base);
  return status;
}


static int file_exists(const char *path)
{
  return access(path, R_OK) == 0;
}


/* ---- MPI (issue 13): where the optional C modules are found ----
** The optional modules (neuromass.mpi, built only with MPI) live beside the
** executable: lua/ in the build tree, ../lib/lua/5.4 once installed; both
** go before Lua's default cpath.  (An override of NEUROMASS_LUA_DIR does not
** move them.) */
static void setup_cpath(lua_State *L)
{
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return;
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (slash) *slash = '\0';
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "cpath");
  lua_pushfstring(L, "%s/lua/?.so;%s/../lib/lua/" LUA_VERSION_MAJOR "." LUA_VERSION_MINOR "/?.so;%s",
                  exe, exe, lua_tostring(L, -1));
  lua_setfield(L, -3, "cpath");
  lua_pop(L, 2);
}


/* The Lua library lives beside the executable: ../lua in the build tree,
** ../share/lua/5.4 once installed (by make install or luarocks). */
static void lua_dir(char *out, size_t size)
{
  const char *env = getenv("NEUROMASS_LUA_DIR");
  if (env && *env) { snprintf(out, size, "%s", env); return; }
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) { snprintf(out, size, "%s", NM_LUADIR); return; }
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (slash) *slash = '\0';
  const char *candidates[] = { "/../lua", "/../share/lua/" LUA_VERSION_MAJOR "." LUA_VERSION_MINOR };
  for (size_t i = 0; i < 2; i++) {
    char probe[PATH_MAX + 64];
    snprintf(probe, sizeof probe, "%s%s/neuromass/init.lua", exe, candidates[i]);
    if (file_exists(probe)) { int w = snprintf(out, size, "%s%s", exe, candidates[i]); (void)w; return; }
  }
  snprintf(out, size, "%s", NM_LUADIR);
}


static void setup_path(lua_State *L)
{
  char dir[PATH_MAX + 64];
  lua_dir(dir, sizeof dir);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "path");
  lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", dir, dir, lua_tostring(L, -1));
  lua_setfield(L, -3, "path");
  lua_pop(L, 1);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_neuromass_core);
  lua_setfield(L, -2, "neuromass.core");
  lua_pop(L, 2);
  setup_cpath(L);
}


/* A usage error: the message, then where the options are told: command
** `cmd`'s own help ("run", "sonify", ...), or the commands' list (NULL).  The
** one wording of that hint: the Lua commands' usage errors (check.usage) come
** here too (csv_command). */
static int fail_usage(const char *cmd, const char *msg)
{
  fprintf(stderr, PROGNAME ": %s\n(try '" PROGNAME "%s%s --help')\n", msg, cmd ? " " : "", cmd ? cmd : "");
  return 0;
}

/* fail_usage for a bad option of command `cmd` (run, info; or a usage error
** a command's check raised): "cmd: msg", as sonify's, plot's and explore's
** (check.usage) read. */
static int fail_option(lua_State *L, const char *cmd, const char *msg)
{
  return fail_usage(cmd, lua_pushfstring(L, "%s: %s", cmd, msg));
}


static int is_help(const char *a)
{
  return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}


/* A command's usage text, or NULL for an unknown command. */
static const char *usage_of(const char *cmd)
{
  if (strcmp(cmd, "help") == 0) return usage;
  if (strcmp(cmd, "run") == 0) return run_usage;
  if (strcmp(cmd, "info") == 0) return info_usage;
  if (strcmp(cmd, "sonify") == 0) return sonify_usage;
  if (strcmp(cmd, "plot") == 0) return plot_usage;
  if (strcmp(cmd, "explore") == 0) return explore_usage;
  return NULL;
}


/* Pushes explore/spread.lua's function `name` (its module required); a
** failure leaves the error message instead.  Returns lua's status. */
static int spread_function(lua_State *L, const char *name)
{
  lua_getglobal(L, "require");
  lua_pushliteral(L, "neuromass.explore.spread");
  int status = docall(L, 1, 1);
  if (status == LUA_OK) {
    lua_getfield(L, -1, name);
    lua_remove(L, -2);
  }
  return status;
}

/* 1 when `v` is written in digits alone, as a process count, a task's number,
** a count of tasks and a seed must be (explore/spread.lua's digits: the one
** rule, for --workers/--task/--ntasks/--seed here and the Slurm array's variables there):
** "1.5", "1a", "-1", "+1", " 1", "" are not; 0 when not, -1 when the rule
** could not be asked (its error printed). */
static int digits_only(lua_State *L, const char *v)
{
  int status = spread_function(L, "digits");
  if (status == LUA_OK) {
    lua_pushstring(L, v);
    status = docall(L, 1, 1);
  }
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, PROGNAME ": %s\n", msg ? msg : "(error)");
    lua_pop(L, 1);
    return -1;
  }
  int ok = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return ok;
}


/* Reads option `a` (with its value in argv[*i + 1]) into the context table at
** the top of the stack; returns 1, 0 after a usage error, -1 when `a` is not
** one of the script commands' options. */
static int script_option(lua_State *L, int argc, char **argv, int *i)
{
  const char *a = argv[*i];
  if (strcmp(a, "--quiet") == 0) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "quiet");
    return 1;
  }
  if (strcmp(a, "--set") != 0 && strcmp(a, "--out") != 0 && strcmp(a, "--seed") != 0) return -1;
  if (*i + 1 >= argc) return fail_option(L, argv[1], lua_pushfstring(L, "option '%s' needs a value", a));
  const char *v = argv[++*i];
  if (strcmp(a, "--set") == 0) {
    const char *eq = strchr(v, '=');
    if (!eq || eq == v) return fail_option(L, argv[1], lua_pushfstring(L, "--set needs NAME=VALUE, got '%s'", v));
    /* VALUE as Lua's tonumber reads it (the library's rule, options.set_value), checked before the script runs */
    size_t read = lua_stringtonumber(L, eq + 1);
    int finite = read != 0 && isfinite((double)lua_tonumber(L, -1));
    if (read != 0) lua_pop(L, 1);
    if (!finite) return fail_option(L, argv[1], lua_pushfstring(L, "--set %s: the value is not a finite number", v));
    lua_getfield(L, -1, "sets");
    for (lua_Integer k = 1; lua_rawgeti(L, -1, k) == LUA_TTABLE; k++) {   /* a NAME once, as any option */
      lua_rawgeti(L, -1, 1);
      size_t len;
      const char *name = lua_tolstring(L, -1, &len);
      if (len == (size_t)(eq - v) && memcmp(name, v, len) == 0) {
        lua_rawgeti(L, -2, 2);
        return fail_option(L, argv[1], lua_pushfstring(L, "--set %s is given twice (%s, then %s)",
                                                       lua_tostring(L, -2), lua_tostring(L, -1), eq + 1));
      }
      lua_pop(L, 2);
    }
    lua_pop(L, 1);
    lua_createtable(L, 2, 0);
    lua_pushlstring(L, v, (size_t)(eq - v));
    lua_rawseti(L, -2, 1);
    lua_pushstring(L, eq + 1);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
    lua_pop(L, 1);
    return 1;
  }
  const char *key = a[2] == 'o' ? "out" : "seed";   /* (given once: check_option_rules) */
  if (a[2] == 'o') {
    if (!*v) return fail_option(L, argv[1], "--out needs a directory, got ''");
    /* refused before the script runs, not at its first write after a long run */
    struct stat st;
    errno = 0;
    if (stat(v, &st) == 0 ? !S_ISDIR(st.st_mode) : errno == ENOTDIR)
      return fail_option(L, argv[1], lua_pushfstring(L, "--out needs a directory, got '%s': %s", v,
                                                 errno == ENOTDIR ? "a part of it is a file" : "a file"));
    lua_pushstring(L, v);
  } else {
    int digits = digits_only(L, v);
    if (digits < 0) return 0;
    char *end;
    errno = 0;
    long long seed = digits ? strtoll(v, &end, 10) : -1;    /* (not digits alone: refused as below 0) */
    if (!digits) end = (char *)v;
    if (*end || end == v || errno == ERANGE || seed < 0)
      return fail_option(L, argv[1], lua_pushfstring(L, "--seed needs an integer from 0 to %I, got '%s'",
                                        (lua_Integer)LLONG_MAX, v));
    lua_pushinteger(L, (lua_Integer)seed);
  }
  lua_setfield(L, -2, key);
  return 1;
}


/* The exploration options (lua/neuromass/explore/spread.lua reads them):
** --workers N|all (all: one per core this process may run on; at most WORKERS_PER_CORE per
** such core), --task I, --ntasks N, into the context at the top of the
** stack; returns as script_option. */
static int explore_option(lua_State *L, int argc, char **argv, int *i)
{
  const char *a = argv[*i];
  const char *key = strcmp(a, "--workers") == 0 ? "workers" : strcmp(a, "--task") == 0 ? "task"
                  : strcmp(a, "--ntasks") == 0 ? "ntasks" : NULL;
  if (!key) return -1;
  if (*i + 1 >= argc) return fail_option(L, argv[1], lua_pushfstring(L, "option '%s' needs a value", a));
  const char *v = argv[++*i];                    /* (given once: check_option_rules) */
  long n;
  if (key[0] == 'w' && strcmp(v, "all") == 0) {
    n = nm_cores();
  } else {
    int digits = digits_only(L, v);
    if (digits < 0) return 0;
    char *end;
    errno = 0;
    n = digits ? strtol(v, &end, 10) : -1;    /* (not digits alone: refused below, as below its range) */
    if (!digits) end = (char *)v;
    long lo = key[0] == 't' ? 0 : 1;
    long hi = key[0] == 't' ? MAX_TASKS - 1 : MAX_TASKS;
    int big = (errno == ERANGE && n == LONG_MAX) || (errno == 0 && n > hi);   /* (said with the bound) */
    if (*end || end == v || (errno == ERANGE && !big) || n < lo)
      return fail_option(L, argv[1], lua_pushfstring(L, "%s needs %s, got '%s'", a,
                                        key[0] == 'w' ? "a whole number of processes from 1, or 'all'"
                                        : key[0] == 't' ? "a task number from 0" : "a number of tasks from 1",
                                        v));
    if (big && key[0] == 'n')
      return fail_option(L, argv[1], lua_pushfstring(L, "--ntasks %s is more than %d tasks", v, MAX_TASKS));
    if (big && key[0] == 't')
      return fail_option(L, argv[1], lua_pushfstring(L, "--task %s is more than %d: at most %d tasks, numbered 0 to %d",
                                                     v, MAX_TASKS - 1, MAX_TASKS, MAX_TASKS - 1));
    long cores = nm_cores();
    if (key[0] == 'w' && (big || n > WORKERS_PER_CORE * cores))
      return fail_option(L, argv[1], lua_pushfstring(L, "--workers %s is more than %d worker processes per core (%d "
                                        "cores this process may run on: at most %d); give N up to %d, or "
                                        "'all' (one per core)", v,
                                        WORKERS_PER_CORE, (int)cores, (int)(WORKERS_PER_CORE * cores),
                                        (int)(WORKERS_PER_CORE * cores)));
  }
  lua_pushinteger(L, n);
  lua_setfield(L, -2, key);
  return 1;
}


/* What a worker process needs to start the same script again (explore's
** workers): the command (argv: parse_command adds the words it reads, less
** the options that spread the script) and this executable's path, into the
** context at the top of the stack; also the cores this process may run on (nm_cores). */
static void explore_context(lua_State *L, const char *cmd)
{
  lua_createtable(L, 8, 0);
  lua_pushstring(L, cmd);
  lua_rawseti(L, -2, 1);
  lua_setfield(L, -2, "argv");
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    lua_pushstring(L, exe);
    lua_setfield(L, -2, "exe");
  }
  lua_pushinteger(L, nm_cores());
  lua_setfield(L, -2, "cores");
}


static int unknown_option(lua_State *L, const char *cmd, const char *a);   /* below, with the option rules */

/* Appends argv[from..to] to the worker's command line (explore_context's
** argv) of the context at index ctx. */
static void keep_words(lua_State *L, int ctx, char **argv, int from, int to)
{
  lua_getfield(L, ctx, "argv");
  for (int k = from; k <= to; k++) {
    lua_pushstring(L, argv[k]);
    lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
  }
  lua_pop(L, 1);
}

/*
** Parses "run|info [options] SCRIPT [ARGS] [options]" into the host context
** (left on the stack) and the global `arg` table; pushes the script's path.
** Options go before or after the script; an unknown one before the script is
** an error, after it an argument of the script's; after "--" everything is.
** Returns 1, 0 after a usage error, 2 when --help was printed.
*/
static void warn_near_option(lua_State *L, const char *cmd, char **argv, int at);   /* below */

static int parse_command(lua_State *L, int argc, char **argv)
{
  const char *cmd = argv[1], *script = NULL;
  lua_newtable(L);                               /* the host context */
  lua_pushstring(L, cmd);
  lua_setfield(L, -2, "mode");
  lua_newtable(L);
  lua_setfield(L, -2, "sets");
  lua_pushboolean(L, isatty(2));
  lua_setfield(L, -2, "tty");
  explore_context(L, cmd);
  int ctx = lua_gettop(L);
  lua_newtable(L);                               /* arg */
  int n_args = 0, options = 1;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    if (options && strcmp(a, "--") == 0) { options = 0; keep_words(L, ctx, argv, i, i); continue; }
    if (options && is_help(a)) { fputs(usage_of(cmd), stdout); return 2; }
    if (options && a[0] == '-' && a[1]) {
      int first = i, spread = 0;
      lua_pushvalue(L, ctx);                     /* the context on top */
      int r = script_option(L, argc, argv, &i);
      if (r == -1) spread = (r = explore_option(L, argc, argv, &i)) == 1;
      lua_pop(L, 1);
      if (r == 0) return 0;
      if (r == 1 && !spread) keep_words(L, ctx, argv, first, i);
      if (r == 1) continue;
      if (!script) return unknown_option(L, cmd, a);
      warn_near_option(L, cmd, argv, i);
    }
    keep_words(L, ctx, argv, i, i);
    if (!script) script = a;
    else {
      lua_pushstring(L, a);
      lua_rawseti(L, -2, ++n_args);
    }
  }
  if (!script) {
    return fail_usage(cmd, lua_pushfstring(L, "%s: missing script (usage: " PROGNAME " %s [OPTIONS] SCRIPT.lua "
                                      "[ARGS...])", cmd, cmd));
  }
  lua_pushstring(L, script);
  lua_rawseti(L, -2, 0);
  lua_setglobal(L, "arg");
  lua_pushstring(L, script);
  return 1;
}


/* Hands the host context (at `ctx`) to the library: require("neuromass").set_context(ctx). */
static int hand_context(lua_State *L, int ctx)
{
  lua_getglobal(L, "require");
  lua_pushliteral(L, "neuromass");
  int status = docall(L, 1, 1);
  if (status == LUA_OK) {
    lua_getfield(L, -1, "set_context");
    lua_pushvalue(L, ctx);
    status = docall(L, 1, 0);
  }
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, PROGNAME ": %s\n", msg ? msg : "(error)");
    return 0;
  }
  lua_pop(L, 1);
  return 1;
}


/*
** neuromass sonify|plot|explore ...: the Lua function `entry` of module
** `module` (neuromass.audio's cli, neuromass.plot.cli's run, ...) reads the
** command line, the only reading of it (check.read_options: a word that is an
** option's value is not an option), with the checks of the library's own
** calls, and returns the lines to print (to stderr when they have the field
** to_stderr: the output went to stdout).  Its --quiet is the context's
** `quiet` it sets; its --help a usage error with the field `help`.  It is
** called from C, not from a chunk of the host's: every Lua line of the
** command is the library's, so that the stop hook takes none for a user's.
*/
static int csv_command(lua_State *L, int argc, char **argv, const char *cmd_usage, const char *module,
                       const char *entry)
{
  lua_newtable(L);                               /* the host context */
  int ctx = lua_gettop(L);
  lua_pushstring(L, argv[1]);
  lua_setfield(L, -2, "mode");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "quiet");
  if (!hand_context(L, ctx)) return 0;
  lua_getglobal(L, "require");
  lua_pushstring(L, module);
  int status = docall(L, 1, 1);
  if (status == LUA_OK) {
    lua_getfield(L, -1, entry);
    lua_remove(L, -2);
    lua_createtable(L, argc - 2, 0);
    for (int i = 2; i < argc; i++) {
      lua_pushstring(L, argv[i]);
      lua_rawseti(L, -2, i - 1);
    }
    status = docall(L, 1, 1);
  }
  if (status != LUA_OK && is_usage_error(L, -1)) {
    if (lua_getfield(L, -1, "help") != LUA_TNIL) { fputs(cmd_usage, stdout); return 1; }
    lua_getfield(L, -2, "usage");
    return fail_option(L, argv[1], lua_tostring(L, -1));
  }
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, PROGNAME ": %s: %s\n", argv[1], msg ? msg : "(error)");
    return 0;
  }
  /* stderr when the output went to stdout (the command says so: its lines' field to_stderr) */
  lua_getfield(L, -1, "to_stderr");
  FILE *report = lua_toboolean(L, -1) ? stderr : stdout;
  lua_getfield(L, ctx, "quiet");
  int quiet = lua_toboolean(L, -1);
  lua_pop(L, 2);
  for (lua_Integer i = 1; !quiet && lua_rawgeti(L, -1, i) == LUA_TSTRING; i++) {
    fprintf(report, "%s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  /* A stop that came when the command had no more to stop (explore --merge
  ** checks for none; plot and sonify stop at their polls): its work is done,
  ** as said above, and the exit status (128 + n) is the stop's: say why. */
  if (nmL_stop_signal())
    fprintf(stderr, PROGNAME ": %s: interrupted by %s once its work was done\n", argv[1],
            nmL_signal_name(nmL_stop_signal()));
  return 1;
}


/*
** After the script: every --set must have been applied by some model:run
** (run/options.lua marks it `applied` in the context at `ctx`, as does an
** exploration that checked it for its points' runs, which may all run in
** worker processes: explore/common.lua check_sets); one that never was
** (no model ran) means the user's value changed nothing, which must not pass
** as success.
*/
static int check_sets_applied(lua_State *L, int ctx)
{
  if (lua_getfield(L, ctx, "sets") != LUA_TTABLE) return 1;   /* the script replaced them */
  for (lua_Integer i = 1; lua_rawgeti(L, -1, i) == LUA_TTABLE; i++) {
    if (lua_getfield(L, -1, "applied") == LUA_TNIL) {
      lua_rawgeti(L, -2, 1);
      lua_rawgeti(L, -3, 2);
      fprintf(stderr, PROGNAME ": --set %s=%s was never applied: the script ran no model "
              "(model:run applies --set)\n", lua_tostring(L, -2), lua_tostring(L, -1));
      return 0;
    }
    lua_pop(L, 2);
  }
  return 1;
}


/*
** After a `run` script (ended by itself, or by the user's os.exit reporting
** success): a --task/--ntasks that no exploration took (explore/spread.lua
** marks the context `task_taken`) fails the command.  A task ends the script
** where its exploration computed its slice, so a script that goes on without
** taking them has none, and every task of an array would run all of it onto
** the same outputs.  `neuromass info` describes: it takes no task; nor is
** this checked in an exploration's worker process (WORKER_ENV set), to
** which the script's process hands its slice as --task/--ntasks, and whose
** script may end before its exploration (the script's process then says what
** is missing).
*/
static int check_tasks_used(lua_State *L, int ctx)
{
  int top = lua_gettop(L);
  lua_getfield(L, ctx, "mode");
  int run = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "run") == 0 &&
            getenv(WORKER_ENV) == NULL;
  int task = lua_getfield(L, ctx, "task") == LUA_TNUMBER, ntasks = lua_getfield(L, ctx, "ntasks") == LUA_TNUMBER;
  int taken = lua_getfield(L, ctx, "task_taken") != LUA_TNIL;
  if (run && (task || ntasks) && !taken) {
    lua_Integer i = lua_tointeger(L, top + 2), n = lua_tointeger(L, top + 3);
    const char *flags = task && ntasks ? lua_pushfstring(L, "--task %I --ntasks %I", i, n)
                        : task ? lua_pushfstring(L, "--task %I", i) : lua_pushfstring(L, "--ntasks %I", n);
    fprintf(stderr, PROGNAME ": %s was never used: the script ran no exploration (nm.explore), so every "
            "task would run all of it\n", flags);
  }
  lua_settop(L, top);
  return !(run && (task || ntasks) && !taken);
}


/* The end of a `run` (not a worker's) whose --workers N no exploration
** used (explore/spread.lua marks the context `explored` when one starts):
** a warning, once, that they served nothing (a typo, or the wrong script);
** the run's status is its own. */
static void warn_workers_unused(lua_State *L, int ctx)
{
  int top = lua_gettop(L);
  lua_getfield(L, ctx, "mode");
  int run = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "run") == 0 &&
            getenv(WORKER_ENV) == NULL;
  int workers = lua_getfield(L, ctx, "workers") == LUA_TNUMBER;
  int explored = lua_getfield(L, ctx, "explored") != LUA_TNIL;
  if (run && workers && !explored) {
    fprintf(stderr, PROGNAME ": warning: --workers %s: the script ran no exploration (nm.explore), which is "
            "what they spread\n", lua_tostring(L, top + 2));
  }
  lua_settop(L, top);
}


/* What a script that ended well (by itself, or by the user's os.exit
** reporting success) still answers for: its --set and --task options; its
** --workers, with a warning. */
static int script_end_checks(lua_State *L, int ctx)
{
  warn_workers_unused(L, ctx);
  return check_sets_applied(L, ctx) && check_tasks_used(L, ctx);
}


/* The commands, for suggestions. */
static const char *const commands[] = { "run", "info", "sonify", "plot", "explore", "help" };

/* The command line's one "did you mean" rule (check.suggest_word in
** lua/neuromass/_check.lua: the names `name` begins, else the nearest)
** for `name` among names[0..n-1]: pushes "; did you mean 'x'?" or "" (also
** when the library cannot be loaded) and returns it. */
static const char *suggestion(lua_State *L, const char *name, const char *const *names, size_t n)
{
  if (lua_getglobal(L, "require") == LUA_TNIL) {   /* before a command opened the libraries */
    lua_pop(L, 1);
    luaL_openlibs(L);
    setup_path(L);
    lua_getglobal(L, "require");
  }
  lua_pushliteral(L, "neuromass._check");
  if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_getfield(L, -1, "suggest_word") == LUA_TFUNCTION) {
    lua_remove(L, -2);
    lua_pushstring(L, name);
    lua_createtable(L, (int)n, 0);
    for (size_t k = 0; k < n; k++) {
      lua_pushstring(L, names[k]);
      lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    if (lua_pcall(L, 2, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING) return lua_tostring(L, -1);
  } else {
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_pushliteral(L, "");
  return "";
}

/* Reports an unknown command `cmd` (after `prefix`: "" or "help: "), with
** the command it names by check.suggest_word (suggestion). */
static int unknown_command(lua_State *L, const char *prefix, const char *cmd)
{
  const char *near = suggestion(L, cmd, commands, sizeof commands / sizeof commands[0]);
  if (*near) return fail_usage(NULL, lua_pushfstring(L, "%sunknown command '%s'%s", prefix, cmd, near));
  return fail_usage(NULL, lua_pushfstring(L, "%sunknown command '%s' (commands: run, info, sonify, plot, explore, help)",
                                    prefix, cmd));
}

/* neuromass help [COMMAND] */
static int help(lua_State *L, int argc, char **argv)
{
  if (argc < 3) { fputs(usage, stdout); return 1; }
  const char *text = is_help(argv[2]) ? usage_of("help") : usage_of(argv[2]);   /* help's own --help */
  if (!text) return unknown_command(L, "help: ", argv[2]);
  if (argc > 3) {
    return fail_usage(NULL, lua_pushfstring(L, "help: one command at most, got '%s' after '%s'", argv[3], argv[2]));
  }
  fputs(text, stdout);
  return 1;
}


/* The options of run and info that take a value: also written --NAME=VALUE
** (the commands parsed in Lua split theirs with check.split_values). */
static const char *const value_options[] = { "--set", "--out", "--seed", "--workers", "--task", "--ntasks" };
#define N_VALUE_OPTIONS (sizeof value_options / sizeof value_options[0])

/* The value option that `a` writes as --NAME=VALUE (its '=' at eq), or NULL. */
static const char *value_option(const char *a, const char *eq)
{
  size_t len = (size_t)(eq - a);
  for (size_t k = 0; k < N_VALUE_OPTIONS; k++)
    if (strlen(value_options[k]) == len && strncmp(a, value_options[k], len) == 0) return value_options[k];
  return NULL;
}

/* argv of run and info with each --NAME=VALUE of a value option (up to "--")
** split into --NAME VALUE, as GNU's long options are read: a new array
** (a userdata left on the stack), its length in *argc.  Everything after it
** (the explore workers' command line too) sees the two-word form.  The word
** after a value option is its value, whatever it looks like, and is never
** split (--out --seed=3: the directory "--seed=3"), as check.split_values. */
static char **split_value_options(lua_State *L, int *argc, char **argv)
{
  char **out = lua_newuserdatauv(L, (size_t)(2 * *argc + 1) * sizeof *out, 0);
  int n = 0, options = 1;
  for (int i = 0; i < *argc; i++) {
    const char *a = argv[i], *eq = strchr(a, '='), *name = NULL;
    if (i >= 2 && strcmp(a, "--") == 0) options = 0;
    if (i >= 2 && options && eq) name = value_option(a, eq);
    if (name) {
      out[n++] = (char *)name;
      out[n++] = (char *)(eq + 1);
    } else if (i >= 2 && options && !eq && i + 1 < *argc && value_option(a, a + strlen(a))) {
      out[n++] = argv[i];
      out[n++] = argv[++i];                      /* its value, as it is */
    } else {
      out[n++] = argv[i];
    }
  }
  out[n] = NULL;
  *argc = n;
  return out;
}


/* Pushes the function `name` of the library's checks (lua/neuromass/_check.lua);
** returns LUA_OK, else docall's status with the message pushed. */
static int check_function(lua_State *L, const char *name)
{
  lua_getglobal(L, "require");
  lua_pushliteral(L, "neuromass._check");
  int status = docall(L, 1, 1);
  if (status != LUA_OK) return status;
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
  return LUA_OK;
}

/* Reports the error at the top of the stack that a check of command `cmd`'s
** options raised: a usage error (check.usage) as "cmd: text" with the help to
** try, anything else as it is.  Returns 0. */
static int fail_check(lua_State *L, const char *cmd)
{
  if (is_usage_error(L, -1)) {
    lua_getfield(L, -1, "usage");
    return fail_option(L, cmd, lua_tostring(L, -1));
  }
  const char *msg = lua_tostring(L, -1);
  fprintf(stderr, PROGNAME ": %s\n", msg ? msg : "(error)");
  return 0;
}

/* The command line's --task/--ntasks/--workers in the context at `ctx`,
** checked as it is read (explore/spread.lua's task_mistake, the one rule):
** a mistake is a usage error of command `cmd` before the script runs, not
** an error when its exploration starts, after its prelude.  Returns 1 when
** they are right. */
static int check_task_options(lua_State *L, int ctx, const char *cmd)
{
  int status = spread_function(L, "task_mistake");
  if (status == LUA_OK) {
    lua_getfield(L, ctx, "task");
    lua_getfield(L, ctx, "ntasks");
    lua_getfield(L, ctx, "workers");
    status = docall(L, 3, 1);
  }
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, PROGNAME ": %s\n", msg ? msg : "(error)");
    return 0;
  }
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return 1;
  }
  return fail_option(L, cmd, lua_tostring(L, -1));
}


/* The flags of run and info (options that take no value). */
static const char *const script_flags[] = { "--quiet", "--help", "-h" };
#define N_SCRIPT_FLAGS (sizeof script_flags / sizeof script_flags[0])

/* Reports an unknown option `a` of command `cmd` (run, info) by the library's
** one rule for every command (check.unknown_option in lua/neuromass/_check.lua):
** the options `a` begins (--work: --workers; --se: --seed or --set), else the
** nearest (check.suggest), else the options' list. */
static int unknown_option(lua_State *L, const char *cmd, const char *a)
{
  int status = check_function(L, "unknown_option");
  if (status == LUA_OK) {
    lua_pushstring(L, a);
    lua_createtable(L, 2, 0);                      /* the flags, -h aside (--help is listed) */
    for (size_t k = 0; k < N_SCRIPT_FLAGS; k++) {
      if (strcmp(script_flags[k], "-h") == 0) continue;
      lua_pushstring(L, script_flags[k]);
      lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
    }
    lua_createtable(L, 0, (int)N_VALUE_OPTIONS);   /* the options that take a value */
    for (size_t k = 0; k < N_VALUE_OPTIONS; k++) {
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, value_options[k]);
    }
    status = docall(L, 3, 0);
  }
  if (status == LUA_OK)                          /* (it raises: the library would be wrong) */
    return fail_option(L, cmd, lua_pushfstring(L, "unknown option '%s'", a));
  return fail_check(L, cmd);
}


/* Warns, once per word, that argv[at], an argument after the script that
** no option of run or info is but one is near (--seeed: --seed, by the
** library's one distance rule, check.nearest; the part before an '='), was
** passed to the script: a misspelt option would otherwise go unnoticed. */
static void warn_near_option(lua_State *L, const char *cmd, char **argv, int at)
{
  const char *a = argv[at];
  if (strncmp(a, "--", 2) != 0 || !a[2]) return;
  size_t name = strcspn(a, "=");                 /* (--seeed=3 and --seeed: one word) */
  for (int k = 2; k < at; k++)
    if (strcspn(argv[k], "=") == name && strncmp(argv[k], a, name) == 0) return;   /* (said at its first) */
  int top = lua_gettop(L);
  if (check_function(L, "nearest") == LUA_OK) {
    lua_pushlstring(L, a, strcspn(a, "="));
    lua_createtable(L, (int)(N_VALUE_OPTIONS + N_SCRIPT_FLAGS), 0);
    for (size_t k = 0; k < N_VALUE_OPTIONS + N_SCRIPT_FLAGS; k++) {
      const char *o = k < N_VALUE_OPTIONS ? value_options[k] : script_flags[k - N_VALUE_OPTIONS];
      if (strcmp(o, "-h") == 0) continue;
      lua_pushstring(L, o);
      lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
    }
    if (docall(L, 2, 1) == LUA_OK && lua_type(L, -1) == LUA_TSTRING)
      fprintf(stderr, PROGNAME ": warning: '%s' after the script is no option of '%s' (did you mean "
              "'%s'?): it was passed to the script, in its arg\n", a, cmd, lua_tostring(L, -1));
  }
  lua_settop(L, top);
}


/* The library's one rule of a command's options (check.option_rules in
** lua/neuromass/_check.lua, which sonify, plot and explore follow too) over
** argv of run and info (split by split_value_options): a flag given a value
** (--quiet=1), a value option without its value or given twice (--set
** excepted: one per parameter) is a usage error.  Returns 1 when they pass. */
static int check_option_rules(lua_State *L, int argc, char **argv)
{
  int status = check_function(L, "option_rules");
  if (status == LUA_OK) {
    lua_createtable(L, argc - 2, 0);
    for (int i = 2; i < argc; i++) {
      lua_pushstring(L, argv[i]);
      lua_rawseti(L, -2, i - 1);
    }
    lua_createtable(L, 0, (int)N_VALUE_OPTIONS);   /* values: spelling -> key */
    for (size_t k = 0; k < N_VALUE_OPTIONS; k++) {
      lua_pushstring(L, value_options[k] + 2);
      lua_setfield(L, -2, value_options[k]);
    }
    lua_createtable(L, 0, 3);                      /* flags */
    for (size_t k = 0; k < N_SCRIPT_FLAGS; k++) {
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, script_flags[k]);
    }
    lua_createtable(L, 0, 1);                      /* repeats */
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "set");
    status = docall(L, 4, 0);
  }
  return status == LUA_OK ? 1 : fail_check(L, argv[1]);
}


/* MPI (issue 13): explore/mpi.lua's held_error(msg): in a rank other than 0
** of an mpirun job, the script's error `line` (its message `msg` and what
** the run kept) is kept in the registry, as "rank K: LINE", with how long
** to hold it, and 1 returned;
** print_held_error says it, or not, once MPI has started.  0 elsewhere: the
** caller prints it. */
#define HELD_ERROR "neuromass.held_error"
#define HELD_MS "neuromass.held_error_ms"
static int hold_error(lua_State *L, const char *msg, const char *line)
{
  int top = lua_gettop(L), held = 0;
  if (mpi_function(L, "held_error") && (lua_pushstring(L, msg), lua_pcall(L, 1, 2, 0)) == LUA_OK &&
      lua_isinteger(L, -2)) {
    lua_setfield(L, LUA_REGISTRYINDEX, HELD_MS);
    lua_pushfstring(L, "rank %I: %s", (LUAI_UACINT)lua_tointeger(L, -1), line);
    lua_setfield(L, LUA_REGISTRYINDEX, HELD_ERROR);
    held = 1;
  }
  lua_settop(L, top);
  return held;
}

/* Prints the error hold_error kept, if any, after mpi_script_end (`mpi`:
** its result, > 0 when MPI runs): with MPI running, first waits up to the
** time held_error gave for a stop signal, the abort of the job by rank 0,
** which failed too and printed its own error; a rank stopped so prints
** nothing.  Without MPI, at once. */
static void print_held_error(lua_State *L, int mpi)
{
  int top = lua_gettop(L);
  if (lua_getfield(L, LUA_REGISTRYINDEX, HELD_ERROR) == LUA_TSTRING) {
    lua_Integer hold_ms = lua_getfield(L, LUA_REGISTRYINDEX, HELD_MS) == LUA_TNUMBER ? lua_tointeger(L, -1) : 0;
    struct timespec tick = { 0, 10 * 1000000L };
    for (lua_Integer waited = 0; mpi > 0 && waited < hold_ms && !nmL_stop_signal(); waited += 10)
      nanosleep(&tick, NULL);
    if (!nmL_stop_signal()) fprintf(stderr, PROGNAME ": %s\n", lua_tostring(L, top + 1));
  }
  lua_settop(L, top);
}

/* 1 when the error at the top of the stack is one that every MPI rank raised
** alike and rank 0 prints (explore/mpi.lua's said_once files it in the
** registry on the other ranks), so that mpirun shows it once. */
static int said_by_rank_0(lua_State *L)
{
  const char *msg = lua_tostring(L, -1);
  lua_getfield(L, LUA_REGISTRYINDEX, "neuromass.said_by_rank_0");
  const char *said = lua_tostring(L, -1);
  int same = msg && said && strcmp(msg, said) == 0;
  lua_pop(L, 1);
  return same;
}


/* Runs everything in protected mode; returns 1 on success. */
static int pmain(lua_State *L)
{
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  luaL_checkversion(L);
  if (argc < 2) {
    fputs(usage, stderr);
    lua_pushboolean(L, 0);
    return 1;
  }
  /* the host's flags, by the rule of every command's: no value (--help=1),
  ** --help COMMAND is help COMMAND, --version alone */
  const char *eq = strchr(argv[1], '=');
  if (eq && ((eq - argv[1] == 6 && strncmp(argv[1], "--help", 6) == 0) ||
             (eq - argv[1] == 9 && strncmp(argv[1], "--version", 9) == 0))) {
    lua_pushboolean(L, fail_usage(NULL, lua_pushfstring(L, "option '%s' takes no value, got '%s'",
                                                        lua_pushlstring(L, argv[1], (size_t)(eq - argv[1])),
                                                        argv[1])));
    return 1;
  }
  if (strcmp(argv[1], "--version") == 0) {
    if (argc > 2) {
      lua_pushboolean(L, fail_usage(NULL, lua_pushfstring(L, "option '--version' takes no argument, got '%s'",
                                                          argv[2])));
      return 1;
    }
    printf(PROGNAME " %s (%s)\n", NM_VERSION, LUA_RELEASE);
    lua_pushboolean(L, 1);
    return 1;
  }
  if (strcmp(argv[1], "help") == 0 || is_help(argv[1])) {
    lua_pushboolean(L, help(L, argc, argv));
    return 1;
  }
  if (strcmp(argv[1], "sonify") == 0 || strcmp(argv[1], "plot") == 0) {
    int plot = argv[1][0] == 'p';
    luaL_openlibs(L);
    setup_path(L);
    lua_pushboolean(L, csv_command(L, argc, argv, plot ? plot_usage : sonify_usage,
                                   plot ? "neuromass.plot.cli" : "neuromass.audio", plot ? "run" : "cli"));
    return 1;
  }
  if (strcmp(argv[1], "explore") == 0) {
    luaL_openlibs(L);
    setup_path(L);
    lua_pushboolean(L, csv_command(L, argc, argv, explore_usage, "neuromass.explore.cli", "run"));
    return 1;
  }
  if (strcmp(argv[1], "run") != 0 && strcmp(argv[1], "info") != 0) {
    unknown_command(L, "", argv[1]);
    lua_pushboolean(L, 0);
    return 1;
  }
  argv = split_value_options(L, &argc, argv);
  luaL_openlibs(L);
  setup_path(L);
  lua_getglobal(L, "os");
  lua_getfield(L, -1, "exit");
  lua_pushcclosure(L, host_exit, 1);
  lua_setfield(L, -2, "exit");
  lua_pop(L, 1);
  if (!check_option_rules(L, argc, argv)) { lua_pushboolean(L, 0); return 1; }
  int ctx = lua_gettop(L) + 1;
  int parsed = parse_command(L, argc, argv);
  if (parsed != 1) { lua_pushboolean(L, parsed == 2); return 1; }
  if (!check_task_options(L, ctx, argv[1])) { lua_pushboolean(L, 0); return 1; }
  if (!hand_context(L, ctx)) { lua_pushboolean(L, 0); return 1; }
  mpi_script_start(L);
  lua_pushvalue(L, ctx);
  lua_setfield(L, LUA_REGISTRYINDEX, HOST_CONTEXT);
  const char *script = lua_tostring(L, -1);
  int status = luaL_loadfilex(L, script, "t");
  if (status == LUA_ERRSYNTAX && strncmp(lua_tostring(L, -1), "attempt to load a ", 18) == 0) {
    lua_pushfstring(L, "%s: %s", script, lua_tostring(L, -1));   /* (Lua's message names no file) */
    lua_remove(L, -2);
  }
  if (status == LUA_OK) status = docall(L, 0, 0);
  if (status == LUA_ERRMEM) {
    /* Lua calls no message handler then: no line is known, but what ran out is */
    fprintf(stderr, PROGNAME ": %s: Lua ran out of memory (%.0f bytes in use by Lua)\n", script,
            (double)lua_gc(L, LUA_GCCOUNT) * 1024.0 + lua_gc(L, LUA_GCCOUNTB));
  } else if (status != LUA_OK && worker_stopped()) {
    /* (said once, by the script's process) */
  } else if (status != LUA_OK && said_by_rank_0(L)) {
    /* (every rank of the mpirun job raised it alike: rank 0 says it) */
  } else if (status != LUA_OK) {
    /* (a string, or a command's usage error raised by a script: its __tostring) */
    const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : luaL_tolstring(L, -1, NULL);
    const char *kept = stop_kept_note(L, msg);
    const char *line = lua_pushfstring(L, "%s%s%s", msg ? msg : "(error)", kept ? "; " : "", kept ? kept : "");
    if (!hold_error(L, msg, line)) fprintf(stderr, PROGNAME ": %s\n", line);
  } else {
    const char *kept = stop_kept_note(L, NULL);  /* the script caught the stop and ended */
    if (kept) fprintf(stderr, PROGNAME ": %s\n", kept);
  }
  if (status != LUA_OK) {
    lua_pushboolean(L, 0);
    return 1;
  }
  lua_pushboolean(L, script_end_checks(L, ctx));
  return 1;
}


/* Exit status: 0, 1 on failure, 128 + n when signal n stopped the script. */
int main(int argc, char **argv)
{
  /* Installed for the whole process: a second signal must not kill it before
  ** its temporary files are removed (a run in progress polls the flag). */
  struct sigaction old[NM_N_STOP_SIGNALS];
  nmL_catch_stop_signals(nmL_note_stop_signal, old);
  /* A file-size limit then fails the write (EFBIG, with a reason and a
  ** partial file) instead of killing the process. */
  signal(SIGXFSZ, SIG_IGN);
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    fprintf(stderr, PROGNAME ": cannot create state: not enough memory\n");
    return EXIT_FAILURE;
  }
  nmL_stop_script(L);
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  int status = lua_pcall(L, 2, 1, 0);
  int ok = status == LUA_OK && lua_toboolean(L, -1);
  if (status != LUA_OK) fprintf(stderr, PROGNAME ": %s\n", lua_tostring(L, -1));
  nmL_stop_script(NULL);
  ok = stdout_written() && ok;
  /* A stop signal stops the script even if the script caught the error. */
  int signo = nmL_stop_signal();
  int code = signo ? 128 + signo : ok ? EXIT_SUCCESS : EXIT_FAILURE;
  /* a script ran (run, info): a rank of an mpirun job takes part in its ranks' end (mpi_script_end) */
  if (lua_getfield(L, LUA_REGISTRYINDEX, HOST_CONTEXT) == LUA_TTABLE) {
    int mpi = mpi_script_end(L);
    if (mpi < 0 && code == EXIT_SUCCESS) code = EXIT_FAILURE;
    print_held_error(L, mpi);
  }
  lua_pop(L, 1);
  /* MPI (issue 13): neuromass.mpi aborts the job at lua_close when the
  ** script failed, instead of finalising, with this exit status as the
  ** abort's code, which mpirun exits with (143 for SIGTERM: l_mpi.c). */
  lua_pushboolean(L, code == EXIT_SUCCESS);
  lua_setfield(L, LUA_REGISTRYINDEX, "neuromass.exit_ok");
  lua_pushinteger(L, code);
  lua_setfield(L, LUA_REGISTRYINDEX, "neuromass.exit_code");
  lua_close(L);
  return code;
}
