/*
** l_audio.c: the Lua side of the sonification engine (engine/audio.c).
**
**   Failures come back in one shape (nmL_push_failure): nil, { kind = "audio"
**   ("interrupted" with signo; "io" for reading; "memory"), message = }.
**   core.audio_writer(path, opts) -> writer | fail, failure
**   writer:feed_result(result, cols)     cols: 0-based columns of the result's rows
**   writer:feed_csv(reader, cols)        cols: 0-based columns of the CSV
**   writer:finish() -> report | fail, failure      (rendered and renamed into place)
**   writer:render() -> report | fail, failure      (complete, under its temporary name)
**   writer:commit([path]) -> true | fail, failure  (renamed into place, or to path)
**   writer:finish_partial(path) -> report | fail, failure   (what was fed, under path)
**   writer:close()                       (also __gc, __close: an unfinished file is removed)
**   core.csv_reader(path) -> reader | fail, failure
**   reader:columns(), reader:name(c), reader:count_rows(), reader:times(n),
**   reader:read_columns(), reader:read_chunk(cols, max), reader:grid(interval), reader:close()
**   core.audio_check_memory(opts) -> true | fail, failure   (before building a big plan)
**   core.audio_read(path) -> info, channels    (for tests: the decoded samples)
**   core.path_info(path) -> { absolute, real, dir, dir_real, dir_exists, dir_writable, kind, ... }
**   core.partial_name(path) -> "dir/name.partial.ext": the engine's name of
**   an output file's partial file
**
** The options are planned, checked and explained in lua/neuromass/audio/plan.lua;
** here they are read strictly and converted (see audio_writer).  Indices
** crossing this file are 0-based.
*/
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include "l_audio.h"
#include "engine/csvread.h"

/* Rows per nm_audio_feed call when feeding a result; frames per read when
** decoding a file (core.audio_read). */
#define FEED_ROWS 4096
#define READ_FRAMES 4096

typedef struct { nm_audio *a; int finished; size_t n_in; } LAudio;
typedef struct { nm_csv_reader *r; } LReader;


static LAudio *toaudio(lua_State *L, int i)
{
  return luaL_checkudata(L, i, NM_AUDIO_MT);
}


nm_audio *nmL_checkaudio(lua_State *L, int i)
{
  LAudio *w = toaudio(L, i);
  if (!w->a) luaL_error(L, "attempt to use a closed audio writer");
  if (w->finished) luaL_error(L, "attempt to use a finished audio writer");
  return w->a;
}


/*
** The options are read strictly and as they are: lua/neuromass/audio/plan.lua
** owns their defaults and friendly checks and sets every field (the binding
** has none: a missing field is an internal error); a field of the wrong type
** or an unknown field is an error; the engine refuses values outside its
** domain with a reason (nm_audio_open).  Only the conversions to C sizes are
** guarded here.
*/


/* Field `key` as a whole number in [0, max] (a C size or count). */
static lua_Integer count(lua_State *L, int t, const char *key, lua_Integer max, const char *what)
{
  lua_Integer v = nmL_intfield(L, t, key, what);
  if (v < 0 || v > max)
    luaL_error(L, "%s: field '%s' = %I must be from 0 to %I", what, key, v, max);
  return v;
}


/* audio_writer's fields (its errors begin with WHAT). */
#define WHAT "audio_writer"

static double number(lua_State *L, int t, const char *key)
{
  return nmL_numfield(L, t, key, WHAT);
}


static int flag(lua_State *L, int t, const char *key)
{
  return nmL_boolfield(L, t, key, WHAT);
}


/* The options that size a writer (see nm_audio_check_memory), from the table at t. */
static void shape_options(lua_State *L, int t, nm_audio_opts *o, const char *what)
{
  static const char *const modes[] = { "audify", "mapping", NULL };
  static const char *const norms[] = { "peak", "rms", "relative", "none", NULL };
  o->mode = nmL_choicefield(L, t, "mode", modes, what);
  o->normalize = nmL_choicefield(L, t, "normalize", norms, what);
  o->rate = (int)count(L, t, "rate", INT_MAX, what);
  o->in_rate = nmL_numfield(L, t, "in_rate", what);
  o->speedup = nmL_numfield(L, t, "speedup", what);
  o->n_in = (size_t)count(L, t, "n_in", (lua_Integer)1 << 40, what);
  o->n_out = (size_t)count(L, t, "n_out", (lua_Integer)1 << 40, what);
}


/* core.audio_check_memory(opts) -> true | fail, failure: whether a writer with
** opts (n_in, n_out, n_routes, mode, normalize, rate, in_rate, speedup) would
** fit, asked before the routes of a big selection are built. */
static int audio_check_memory(lua_State *L)
{
  static const char *const known[] = { "mode", "normalize", "rate", "in_rate", "speedup", "n_in",
                                       "n_out", "n_routes", NULL };
  luaL_checktype(L, 1, LUA_TTABLE);
  nmL_opts(L, 1, known, "audio_check_memory");
  nm_audio_opts o;
  memset(&o, 0, sizeof o);
  shape_options(L, 1, &o, "audio_check_memory");
  o.n_routes = (size_t)count(L, 1, "n_routes", (lua_Integer)1 << 40, "audio_check_memory");
  nm_error err;
  if (nm_audio_check_memory(&o, &err) == NM_OK) {
    lua_pushboolean(L, 1);
    return 1;
  }
  nmL_push_failure(L, "memory", err.why);
  return 2;
}


/* core.audio_writer(path, opts): opts as nm_audio_opts, with routes = { {out,
** in, weight}, ... } (0-based), carrier and names one per signal, and the
** choices by name: container "wav" | "flac" | "ogg", encoding "pcm16" |
** "pcm24" | "float", quality "fast" | "medium" | "best", drive "amplitude" |
** "pitch" | "both" | "none" (outside parameter mapping); carrier false outside
** it. Every field is required. */
static int audio_writer(lua_State *L)
{
  static const char *const known[] = {
    "container", "encoding", "mode", "normalize", "quality", "rate", "in_rate", "speedup",
    "n_in", "n_out", "routes", "skip", "dc", "highpass", "headroom", "gain", "fade_in",
    "fade_out", "expected", "rf64_above", "drive", "pitch_lo", "pitch_hi", "carrier",
    "envelope", "names", "stream", NULL
  };
  static const char *const containers[] = { "wav", "flac", "ogg", NULL };
  static const char *const encodings[] = { "pcm16", "pcm24", "float", NULL };
  static const char *const qualities[] = { "fast", "medium", "best", NULL };
  /* NM_DRIVE_AMPLITUDE, NM_DRIVE_PITCH, both: the bits are the index */
  static const char *const drives[] = { "none", "amplitude", "pitch", "both", NULL };
  const char *path = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  nmL_opts(L, 2, known, WHAT);
  nm_audio_opts o;
  memset(&o, 0, sizeof o);
  o.interrupt = nmL_stop_flag();
  o.container = nmL_choicefield(L, 2, "container", containers, WHAT);
  o.encoding = nmL_choicefield(L, 2, "encoding", encodings, WHAT);
  shape_options(L, 2, &o, WHAT);
  o.quality = nmL_choicefield(L, 2, "quality", qualities, WHAT);
  o.drive = nmL_choicefield(L, 2, "drive", drives, WHAT);
  o.skip = (long)count(L, 2, "skip", LONG_MAX / 2, WHAT);
  o.expected = number(L, 2, "expected");
  o.rf64_above = number(L, 2, "rf64_above");
  o.dc = flag(L, 2, "dc");
  o.stream = flag(L, 2, "stream");
  o.highpass = number(L, 2, "highpass");
  o.headroom = number(L, 2, "headroom");
  o.gain = number(L, 2, "gain");
  o.fade_in = number(L, 2, "fade_in");
  o.fade_out = number(L, 2, "fade_out");
  o.pitch_lo = number(L, 2, "pitch_lo");
  o.pitch_hi = number(L, 2, "pitch_hi");
  o.envelope = number(L, 2, "envelope");
  /* routes { {out, in, gain}, ... } into a userdata (no leak on error) */
  if (lua_getfield(L, 2, "routes") != LUA_TTABLE)                            /* 3 */
    return luaL_error(L, WHAT ": field 'routes' must be an array of { out, in, gain }");
  size_t nr = (size_t)luaL_len(L, 3);
  nm_audio_route *routes = lua_newuserdatauv(L, (nr + 1) * sizeof *routes, 0);    /* 4 */
  for (size_t k = 0; k < nr; k++) {
    lua_geti(L, 3, (lua_Integer)k + 1);
    luaL_checktype(L, -1, LUA_TTABLE);
    lua_geti(L, -1, 1);
    lua_geti(L, -2, 2);
    lua_geti(L, -3, 3);
    lua_Integer out = luaL_checkinteger(L, -3), in = luaL_checkinteger(L, -2);
    if (out < 0 || in < 0) return luaL_error(L, "audio_writer: route %d has a negative index", (int)k + 1);
    routes[k].out = (size_t)out;
    routes[k].in = (size_t)in;
    routes[k].gain = luaL_checknumber(L, -1);
    lua_pop(L, 4);
  }
  o.routes = routes;
  o.n_routes = nr;
  int carrier = lua_getfield(L, 2, "carrier");                                /* 5 */
  if (carrier != LUA_TTABLE && !(carrier == LUA_TBOOLEAN && !lua_toboolean(L, -1)))
    return luaL_error(L, WHAT ": field 'carrier' must be an array of numbers or false");
  if (carrier == LUA_TTABLE) {
    size_t n;
    o.carrier = nmL_numbers(L, 2, "carrier", &n);                            /* 6 */
    if (n != o.n_in) return luaL_error(L, "audio_writer: carrier needs one frequency per signal");
  }
  if (lua_getfield(L, 2, "names") != LUA_TTABLE)          /* 6 or 7: the signals' names */
    return luaL_error(L, WHAT ": field 'names' must be an array of strings");
  {
    int t = lua_gettop(L);
    if ((size_t)luaL_len(L, t) != o.n_in) return luaL_error(L, "audio_writer: names needs one per signal");
    const char **names = lua_newuserdatauv(L, (o.n_in + 1) * sizeof *names, 0);
    for (size_t i = 0; i < o.n_in; i++) {
      lua_geti(L, t, (lua_Integer)i + 1);
      names[i] = luaL_checkstring(L, -1);       /* anchored in the names table */
      lua_pop(L, 1);
    }
    o.names = names;
  }
  LAudio *w = lua_newuserdatauv(L, sizeof *w, 0);
  w->a = NULL;
  w->finished = 0;
  w->n_in = o.n_in;
  luaL_setmetatable(L, NM_AUDIO_MT);
  nm_error err;
  w->a = nm_audio_open(path, &o, &err);
  if (!w->a) {
    nmL_push_failure(L, "audio", err.why);
    return 2;
  }
  return 1;
}


/* The array at stack index t of n 0-based column numbers below `cols`, copied
** into a userdata left on the stack. */
static size_t *check_columns(lua_State *L, int t, size_t n, size_t cols)
{
  size_t *idx = lua_newuserdatauv(L, (n + 1) * sizeof *idx, 0);
  for (size_t i = 0; i < n; i++) {
    lua_geti(L, t, (lua_Integer)i + 1);
    lua_Integer c = luaL_checkinteger(L, -1);
    luaL_argcheck(L, c >= 0 && (size_t)c < cols, t, "no such column");
    idx[i] = (size_t)c;
    lua_pop(L, 1);
  }
  return idx;
}


/* Whether a failure `rc` of the writer is a stop signal's: it stopped the
** writer (NM_EINTR), or a write to a closed standard output failed (EPIPE,
** NM_EIO) once SIGPIPE was noted, which a run, write_csv and print report
** as "interrupted by SIGPIPE (its output was closed)": so does the writer. */
static int stopped(int rc)
{
  return rc == NM_EINTR || (rc == NM_EIO && nmL_stop_signal() == SIGPIPE);
}


/* nil and the failure { kind = "audio", message = the writer's reason }, or
** { kind = "interrupted", message = "interrupted by SIGxxx", signo = } when a
** stop signal stopped it (stopped). */
static int push_failure(lua_State *L, nm_audio *a, int rc)
{
  if (stopped(rc)) {
    nmL_push_failure(L, "interrupted", lua_pushfstring(L, "interrupted by %s",
                                                       nmL_signal_name(nmL_stop_signal())));
    lua_pushinteger(L, nmL_stop_signal());
    lua_setfield(L, -2, "signo");
    return 2;
  }
  nmL_push_failure(L, "audio", nm_audio_error(a)[0] ? nm_audio_error(a) : nm_strerror(rc));
  return 2;
}


/* writer:feed_result(result, cols) */
static int writer_feed_result(lua_State *L)
{
  nm_audio *a = nmL_checkaudio(L, 1);
  size_t rows, cols;
  const double *data = nmL_result_rows(L, 2, &rows, &cols);
  luaL_checktype(L, 3, LUA_TTABLE);
  size_t n = (size_t)luaL_len(L, 3);
  size_t *idx = check_columns(L, 3, n, cols);
  int rc = NM_OK;
  nmL_stop_scope sc;
  nmL_stop_begin(L, &sc);
  for (size_t r = 0; r < rows && rc == NM_OK; r += FEED_ROWS) {
    size_t m = rows - r < FEED_ROWS ? rows - r : FEED_ROWS;
    rc = *nmL_stop_flag() ? NM_EINTR : nm_audio_feed(a, data + r * cols, m, cols, idx);
  }
  nmL_stop_end(L, &sc, rc == NM_EINTR);
  if (rc != NM_OK) return push_failure(L, a, rc);
  lua_pushboolean(L, 1);
  return 1;
}


static LReader *checkreader(lua_State *L, int i)
{
  LReader *r = luaL_checkudata(L, i, NM_CSVREADER_MT);
  if (!r->r) luaL_error(L, "attempt to use a closed CSV reader");
  return r;
}


/* The first of got rows (of `cols` numbers) whose chosen column idx[i] is not
** finite: 1 and its row r and i, or 0. */
static int first_nonfinite(const double *rows, size_t got, size_t cols, const size_t *idx, size_t n,
                           size_t *r, size_t *i)
{
  for (*r = 0; *r < got; (*r)++)
    for (*i = 0; *i < n; (*i)++)
      if (!isfinite(rows[*r * cols + idx[*i]])) return 1;
  return 0;
}


/* writer:feed_csv(reader, cols): every remaining row of the file, in chunks of
** at most 2^20 numbers (one row at a time for very wide files).  A failure
** names the line; a stop signal (SIGINT, ...) stops it between chunks. */
static int writer_feed_csv(lua_State *L)
{
  nm_audio *a = nmL_checkaudio(L, 1);
  nm_csv_reader *rd = checkreader(L, 2)->r;
  luaL_checktype(L, 3, LUA_TTABLE);
  size_t cols = nm_csv_reader_columns(rd), n = (size_t)luaL_len(L, 3);
  size_t *idx = check_columns(L, 3, n, cols);
  size_t chunk = ((size_t)1 << 20) / cols;
  if (chunk < 1) chunk = 1;
  if (chunk > 1024) chunk = 1024;
  double *rows = lua_newuserdatauv(L, chunk * cols * sizeof *rows, 0);
  int rc = NM_OK, bad = 0;
  size_t got = 0, r = 0, i = 0;
  /* A stop signal ends the loop at the next chunk; the caller removes the file. */
  nmL_stop_scope sc;
  nmL_stop_begin(L, &sc);
  for (;;) {
    if (*nmL_stop_flag()) { rc = NM_EINTR; break; }
    rc = nm_csv_reader_rows(rd, rows, chunk, &got);
    if (rc != NM_OK || got == 0) break;
    if ((bad = first_nonfinite(rows, got, cols, idx, n, &r, &i)) != 0) break;
    rc = nm_audio_feed(a, rows, got, cols, idx);
    if (rc != NM_OK) break;
  }
  nmL_stop_end(L, &sc, rc == NM_EINTR);
  if (rc == NM_EINTR) {
    nmL_push_failure(L, "interrupted",
                     lua_pushfstring(L, "interrupted by %s after line %I (nothing was written)",
                                     nmL_signal_name(nmL_stop_signal()),
                                     (lua_Integer)nm_csv_reader_line(rd)));
    lua_pushinteger(L, nmL_stop_signal());
    lua_setfield(L, -2, "signo");
    return 2;
  }
  if (bad) {                                /* the line of a value the writer refuses */
    nmL_push_failure(L, "audio",
                     lua_pushfstring(L, "line %I: column %I (%s) is %s: the signals must be finite",
                                     (lua_Integer)nm_csv_reader_row_line(rd, r),
                                     (lua_Integer)idx[i] + 1, nm_csv_reader_name(rd, idx[i]),
                                     isnan(rows[r * cols + idx[i]]) ? "NaN" : "infinite"));
    return 2;
  }
  if (stopped(rc)) return push_failure(L, a, rc);   /* (stdout closed: part of it was written) */
  if (rc != NM_OK) {
    nmL_push_failure(L, "audio", nm_csv_reader_error(rd)[0] ? nm_csv_reader_error(rd)
                                 : nm_audio_error(a)[0] ? nm_audio_error(a) : nm_strerror(rc));
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}


/* The report of a rendered writer: { frames, samples_in, ratio, stages, decimation,
** gain, peak, limited_db, silent, filtered, fade_in, fade_out (frames), container,
** input_gains = {...} }. */
static int push_report(lua_State *L, nm_audio *a, const nm_audio_report *rep)
{
  lua_createtable(L, 0, 13);
  lua_pushinteger(L, (lua_Integer)rep->frames);
  lua_setfield(L, -2, "frames");
  lua_pushinteger(L, (lua_Integer)rep->samples_in);
  lua_setfield(L, -2, "samples_in");
  lua_pushnumber(L, rep->ratio);
  lua_setfield(L, -2, "ratio");
  lua_pushinteger(L, rep->stages);
  lua_setfield(L, -2, "stages");
  lua_pushinteger(L, rep->decimation);
  lua_setfield(L, -2, "decimation");
  lua_pushnumber(L, rep->gain);
  lua_setfield(L, -2, "gain");
  lua_pushnumber(L, rep->peak);
  lua_setfield(L, -2, "peak");
  lua_pushnumber(L, rep->limited_db);
  lua_setfield(L, -2, "limited_db");
  lua_pushinteger(L, (lua_Integer)rep->silent);
  lua_setfield(L, -2, "silent");
  lua_pushinteger(L, (lua_Integer)rep->filtered);
  lua_setfield(L, -2, "filtered");
  lua_pushinteger(L, (lua_Integer)rep->fade_in);
  lua_setfield(L, -2, "fade_in");
  lua_pushinteger(L, (lua_Integer)rep->fade_out);
  lua_setfield(L, -2, "fade_out");
  lua_pushstring(L, nm_audio_container(a));
  lua_setfield(L, -2, "container");
  size_t n_in = toaudio(L, 1)->n_in;
  lua_createtable(L, (int)n_in, 0);
  for (size_t i = 0; i < n_in; i++) {
    lua_pushnumber(L, nm_audio_input_gain(a, i));
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "input_gains");
  return 1;
}


/* The three endings of a writer, each stoppable by a signal between blocks:
** render (the complete file under its temporary name), finish (rendered and
** renamed into place), finish_partial (what was fed so far, under `path`). */
enum { RENDER, FINISH, PARTIAL };

/* Runs ending `how` on the writer at 1 -> report, or fail, message. */
static int writer_end(lua_State *L, int how, const char *path)
{
  nm_audio *a = nmL_checkaudio(L, 1);
  nm_audio_report rep;
  nmL_stop_scope sc;
  nmL_stop_begin(L, &sc);
  int rc = how == RENDER ? nm_audio_render(a, &rep)
         : how == FINISH ? nm_audio_finish(a, &rep) : nm_audio_finish_partial(a, path, &rep);
  nmL_stop_end(L, &sc, rc == NM_EINTR);
  if (rc != NM_OK) return push_failure(L, a, rc);
  if (how != RENDER) toaudio(L, 1)->finished = 1;
  return push_report(L, a, &rep);
}


/* writer:finish() -> report: rendered and renamed into place. */
static int writer_finish(lua_State *L) { return writer_end(L, FINISH, NULL); }


/* writer:render() -> report: the complete file under its temporary name. */
static int writer_render(lua_State *L) { return writer_end(L, RENDER, NULL); }


/* writer:commit([path]) -> true: the rendered file renamed into place (or to path). */
static int writer_commit(lua_State *L)
{
  nm_audio *a = nmL_checkaudio(L, 1);
  int rc = nm_audio_commit(a, luaL_optstring(L, 2, NULL));
  if (rc != NM_OK) return push_failure(L, a, rc);
  toaudio(L, 1)->finished = 1;
  lua_pushboolean(L, 1);
  return 1;
}


/* writer:finish_partial(path) -> report: what was fed so far, a playable file under path. */
static int writer_finish_partial(lua_State *L)
{
  return writer_end(L, PARTIAL, luaL_checkstring(L, 2));
}


static int writer_close(lua_State *L)
{
  LAudio *w = toaudio(L, 1);
  nm_audio_free(w->a);
  w->a = NULL;
  return 0;
}


static int writer_tostring(lua_State *L)
{
  LAudio *w = toaudio(L, 1);
  lua_pushfstring(L, "neuromass.AudioWriter (%s)", !w->a ? "closed" : w->finished ? "finished" : "open");
  return 1;
}


/* ---------------------------------------------------------------------
** CSV reader
** ------------------------------------------------------------------- */

static int csv_reader(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  LReader *r = lua_newuserdatauv(L, sizeof *r, 0);
  r->r = NULL;
  luaL_setmetatable(L, NM_CSVREADER_MT);
  nm_error err;
  r->r = nm_csv_reader_open(path, &err);
  if (!r->r) {
    nmL_push_failure(L, "io", err.why);
    return 2;
  }
  return 1;
}


/* reader:columns() -> the number of columns (the header's names, t included) */
static int reader_columns(lua_State *L)
{
  lua_pushinteger(L, (lua_Integer)nm_csv_reader_columns(checkreader(L, 1)->r));
  return 1;
}


/* reader:name(c) -> the name of column c (0-based; 0 is the time), nil beyond the last */
static int reader_name(lua_State *L)
{
  nm_csv_reader *r = checkreader(L, 1)->r;
  lua_Integer c = luaL_checkinteger(L, 2);
  if (c < 0 || (size_t)c >= nm_csv_reader_columns(r)) return 0;
  lua_pushstring(L, nm_csv_reader_name(r, (size_t)c));
  return 1;
}


/* reader:count_rows() -> the data rows in the file (one fast pass; then
** rewinds) | fail, failure (kind "pipe" for a file that cannot be rewound) */
static int reader_count_rows(lua_State *L)
{
  nm_csv_reader *r = checkreader(L, 1)->r;
  long n;
  if (nm_csv_reader_count_rows(r, &n) != NM_OK) {
    if (errno == ESPIPE) nmL_push_failure(L, "pipe", "a pipe cannot be read twice");
    else nmL_push_failure(L, "io", lua_pushfstring(L, "cannot read the file: %s", strerror(errno)));
    return 2;
  }
  lua_pushinteger(L, n);
  return 1;
}


/* reader:times(n) -> the first column of the first n rows (at most), then rewinds. */
static int reader_times(lua_State *L)
{
  nm_csv_reader *r = checkreader(L, 1)->r;
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_argcheck(L, n > 0 && n < 1000, 2, "between 1 and 999 rows");
  size_t cols = nm_csv_reader_columns(r), got;
  double *rows = lua_newuserdatauv(L, (size_t)n * cols * sizeof *rows, 0);
  int rc = nm_csv_reader_rows(r, rows, (size_t)n, &got);
  if (rc != NM_OK) {
    nmL_push_failure(L, "io", nm_csv_reader_error(r));    /* before the rewind: it names the line */
    nm_csv_reader_rewind(r);
    return 2;
  }
  nm_csv_reader_rewind(r);
  lua_createtable(L, (int)got, 0);
  for (size_t i = 0; i < got; i++) {
    nmL_pushvalue(L, rows[i * cols]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}


/* Rows per nm_csv_reader_rows call of reader:read_columns. */
#define READ_ROWS 1024

/* reader:read_columns() -> { {column 1}, {column 2}, ... } | fail, failure:
** every remaining row of the file (blank lines skipped), one Lua array of
** numbers per column in header order, the time first; the rows are checked
** as sonify's reading checks them (a row of another length, a cell that is
** not a number, a time that is not finite: kind "io", the message naming the
** line).  Used by `neuromass plot` (plot/cli.lua). */
static int reader_read_columns(lua_State *L)
{
  nm_csv_reader *r = checkreader(L, 1)->r;
  size_t cols = nm_csv_reader_columns(r), got, n = 0;
  double *rows = lua_newuserdatauv(L, READ_ROWS * cols * sizeof *rows, 0);
  int buf = lua_gettop(L);
  lua_createtable(L, (int)cols, 0);
  for (size_t c = 0; c < cols; c++) {
    lua_newtable(L);
    lua_rawseti(L, -2, (lua_Integer)c + 1);
  }
  int out = lua_gettop(L);
  do {
    int rc = nm_csv_reader_rows(r, rows, READ_ROWS, &got);
    if (rc != NM_OK) {
      nmL_push_failure(L, "io", nm_csv_reader_error(r));
      return 2;
    }
    for (size_t c = 0; c < cols; c++) {
      lua_rawgeti(L, out, (lua_Integer)c + 1);
      for (size_t i = 0; i < got; i++) {
        nmL_pushvalue(L, rows[i * cols + c]);
        lua_rawseti(L, -2, (lua_Integer)(n + i) + 1);
      }
      lua_pop(L, 1);
    }
    n += got;
  } while (got == READ_ROWS);
  lua_remove(L, buf);
  return 1;
}


/* reader:read_chunk(cols, max) -> { {column cols[1]}, {column cols[2]}, ... }, n | fail, failure:
** the next n <= max rows of the file (n = 0 at its end), only the columns
** `cols` (0-based), checked as read_columns checks them.  A large CSV is
** read in chunks of it without holding its other columns or rows
** (`neuromass plot`, plot/cli.lua, folds each chunk as it comes). */
static int reader_read_chunk(lua_State *L)
{
  nm_csv_reader *r = checkreader(L, 1)->r;
  luaL_checktype(L, 2, LUA_TTABLE);
  size_t cols = nm_csv_reader_columns(r), n = (size_t)luaL_len(L, 2), got;
  size_t *idx = check_columns(L, 2, n, cols);
  lua_Integer max = luaL_checkinteger(L, 3);
  luaL_argcheck(L, max > 0 && (size_t)max <= ((size_t)1 << 24) / cols, 3, "too many rows for one chunk");
  double *rows = lua_newuserdatauv(L, (size_t)max * cols * sizeof *rows, 0);
  int rc = nm_csv_reader_rows(r, rows, (size_t)max, &got);
  if (rc != NM_OK) {
    nmL_push_failure(L, "io", nm_csv_reader_error(r));
    return 2;
  }
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_createtable(L, (int)got, 0);
    for (size_t k = 0; k < got; k++) {
      nmL_pushvalue(L, rows[k * cols + idx[i]]);
      lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_pushinteger(L, (lua_Integer)got);
  return 2;
}


/* reader:grid(interval): every row read from now on must follow the previous by interval. */
static int reader_grid(lua_State *L)
{
  nm_csv_reader_grid(checkreader(L, 1)->r, luaL_checknumber(L, 2));
  return 0;
}


static int reader_close(lua_State *L)
{
  LReader *r = luaL_checkudata(L, 1, NM_CSVREADER_MT);
  nm_csv_reader_close(r->r);
  r->r = NULL;
  return 0;
}


/* ---------------------------------------------------------------------
** Reading audio back (tests, checks)
** ------------------------------------------------------------------- */

/* core.audio_read(path) -> { rate, channels, frames, format, encoding }, { {ch 1}, ... }
** Samples are decoded as doubles with full scale at 1. */
static int audio_read(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  SF_INFO info;
  memset(&info, 0, sizeof info);
  SNDFILE *sf = sf_open(path, SFM_READ, &info);
  if (!sf) {
    nmL_push_failure(L, "io", lua_pushfstring(L, "cannot read '%s': %s", path, sf_strerror(NULL)));
    return 2;
  }
  size_t C = (size_t)info.channels, F = (size_t)info.frames;
  double *buf = malloc(READ_FRAMES * C * sizeof *buf);
  if (!buf) { sf_close(sf); return luaL_error(L, "audio_read: out of memory"); }
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, info.samplerate);
  lua_setfield(L, -2, "rate");
  lua_pushinteger(L, info.channels);
  lua_setfield(L, -2, "channels");
  lua_pushinteger(L, (lua_Integer)info.frames);
  lua_setfield(L, -2, "frames");
  int major = info.format & SF_FORMAT_TYPEMASK, sub = info.format & SF_FORMAT_SUBMASK;
  int wav = major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX || major == SF_FORMAT_RF64;
  lua_pushstring(L, wav ? "wav" : major == SF_FORMAT_FLAC ? "flac"
                  : major == SF_FORMAT_OGG ? "ogg" : "other");
  lua_setfield(L, -2, "format");
  lua_pushstring(L, major == SF_FORMAT_WAVEX ? "wavex" : major == SF_FORMAT_RF64 ? "rf64"
                  : wav ? "wav" : "other");
  lua_setfield(L, -2, "container");
  lua_pushstring(L, sub == SF_FORMAT_PCM_16 ? "pcm16" : sub == SF_FORMAT_PCM_24 ? "pcm24"
                  : sub == SF_FORMAT_FLOAT ? "float" : sub == SF_FORMAT_VORBIS ? "vorbis" : "other");
  lua_setfield(L, -2, "encoding");
  lua_createtable(L, (int)C, 0);
  for (size_t c = 0; c < C; c++) {
    lua_createtable(L, (int)F, 0);
    lua_rawseti(L, -2, (lua_Integer)c + 1);
  }
  int tbl = lua_gettop(L);
  size_t done = 0;
  for (;;) {
    sf_count_t got = sf_readf_double(sf, buf, READ_FRAMES);
    if (got <= 0) break;
    for (size_t c = 0; c < C; c++) {
      lua_rawgeti(L, tbl, (lua_Integer)c + 1);
      for (sf_count_t f = 0; f < got; f++) {
        lua_pushnumber(L, buf[(size_t)f * C + c]);
        lua_rawseti(L, -2, (lua_Integer)(done + (size_t)f) + 1);
      }
      lua_pop(L, 1);
    }
    done += (size_t)got;
  }
  free(buf);
  sf_close(sf);
  return 2;
}


/* ---------------------------------------------------------------------
** Paths, for the output preflight (lua/neuromass/outputs.lua)
** ------------------------------------------------------------------- */

/* Pushes the first prefix of the absolute path full[0 .. len-1] (as written,
** "." and ".." kept) that names nothing, ending before a '/': the directory
** a file at `full` cannot be created in for want of it. */
static void push_first_missing(lua_State *L, const char *full, size_t len)
{
  struct stat st;
  luaL_Buffer b;
  for (size_t i = 1; i < len; i++) {
    if (full[i] != '/') continue;
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, full, i);
    luaL_pushresult(&b);
    if (stat(lua_tostring(L, -1), &st) != 0) return;
    lua_pop(L, 1);
  }
  lua_pushlstring(L, full, len);
}


/* core.path_info(path) -> { absolute, real, dir, dir_real, dir_exists,
** dir_is_file, dir_writable, exists, is_dir, kind }: absolute is lexical (from the working
** directory, "." and ".." removed); dir is its directory, or, when the system
** finds no directory there (through "sub/.." of a missing sub), the first
** missing directory of the path as written; dir_exists, dir_is_file,
** dir_writable and dir_real (realpath) are of the directory the system
** resolves (the path's text before its last '/'); real is realpath() of the
** file when it exists; kind is what the path itself is
** (lstat: a symlink is not followed): "file", "directory", "symlink", "fifo",
** "device", "socket", "other", or nil when nothing is there. */
static int path_info(lua_State *L)
{
  const char *path = luaL_checkstring(L, 1);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  if (path[0] != '/') {
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return luaL_error(L, "cannot read the working directory: %s",
                                                    strerror(errno));
    luaL_addstring(&b, cwd);
    luaL_addchar(&b, '/');
  }
  luaL_addstring(&b, path);
  luaL_pushresult(&b);
  /* normalise: split on '/', drop "" and ".", pop for ".." */
  size_t len;
  const char *full = lua_tolstring(L, -1, &len);
  char *norm = lua_newuserdatauv(L, len + 2, 0);
  size_t n = 0;
  for (size_t i = 0; i < len;) {
    while (i < len && full[i] == '/') i++;
    size_t j = i;
    while (j < len && full[j] != '/') j++;
    size_t seg = j - i;
    if (seg == 0 || (seg == 1 && full[i] == '.')) { i = j; continue; }
    if (seg == 2 && full[i] == '.' && full[i + 1] == '.') {
      while (n > 0 && norm[n - 1] != '/') n--;
      if (n > 0) n--;
      i = j;
      continue;
    }
    norm[n++] = '/';
    memcpy(norm + n, full + i, seg);
    n += seg;
    i = j;
  }
  if (n == 0) norm[n++] = '/';
  lua_createtable(L, 0, 7);
  lua_pushlstring(L, norm, n);
  lua_setfield(L, -2, "absolute");
  /* The directory as the system finds it: the path's text before its last
  ** '/', whose ".." follow what is there (through "sub/.." sub must exist;
  ** "link/.." is the parent of the link's target), not the lexical one. */
  const char *slash = strrchr(path, '/');
  if (!slash) lua_pushliteral(L, ".");
  else lua_pushlstring(L, path, slash == path ? 1 : (size_t)(slash - path));
  const char *sys_dir = lua_tostring(L, -1);
  struct stat st;
  int dir_there = stat(sys_dir, &st) == 0, dir_ok = dir_there && S_ISDIR(st.st_mode);
  size_t d = n;
  while (d > 0 && norm[d - 1] != '/') d--;
  struct stat lex;
  lua_pushlstring(L, norm, d > 1 ? d - 1 : 1);
  if (!dir_there && stat(lua_tostring(L, -1), &lex) == 0) {
    /* the lexical directory is there, the system's not: name the first
    ** missing directory of the path as written ("sub" of "sub/../a.csv") */
    lua_pop(L, 1);
    push_first_missing(L, full, len);
  }
  lua_setfield(L, -3, "dir");
  lua_pushboolean(L, dir_there && !dir_ok);
  lua_setfield(L, -3, "dir_is_file");
  lua_pushboolean(L, dir_ok);
  lua_setfield(L, -3, "dir_exists");
  lua_pushboolean(L, dir_ok && access(sys_dir, W_OK | X_OK) == 0);
  lua_setfield(L, -3, "dir_writable");
  char *dir_real = dir_ok ? realpath(sys_dir, NULL) : NULL;
  lua_pop(L, 1);
  if (dir_real) {
    lua_pushstring(L, dir_real);
    free(dir_real);
    lua_setfield(L, -2, "dir_real");
  }
  int exists = stat(path, &st) == 0;
  lua_pushboolean(L, exists);
  lua_setfield(L, -2, "exists");
  lua_pushboolean(L, exists && S_ISDIR(st.st_mode));
  lua_setfield(L, -2, "is_dir");
  if (lstat(path, &st) == 0) {
    mode_t m = st.st_mode;
    lua_pushstring(L, S_ISREG(m) ? "file" : S_ISDIR(m) ? "directory" : S_ISLNK(m) ? "symlink"
                      : S_ISFIFO(m) ? "fifo" : (S_ISCHR(m) || S_ISBLK(m)) ? "device"
                      : S_ISSOCK(m) ? "socket" : "other");
    lua_setfield(L, -2, "kind");
  }
  char *real = exists ? realpath(path, NULL) : NULL;
  if (real) {
    lua_pushstring(L, real);
    free(real);
    lua_setfield(L, -2, "real");
  }
  return 1;
}


/* core.partial_name(path): the engine's name of an output file's partial
** file (nm_partial_name). */
static int partial_name(lua_State *L)
{
  size_t len;
  const char *path = luaL_checklstring(L, 1, &len);
  char *out = lua_newuserdatauv(L, len + 32, 0);
  nm_partial_name(out, len + 32, path);
  lua_pushstring(L, out);
  return 1;
}


void nmL_open_audio(lua_State *L)
{
  static const luaL_Reg writer_meth[] = {
    { "feed_result", writer_feed_result }, { "feed_csv", writer_feed_csv },
    { "finish", writer_finish }, { "render", writer_render }, { "commit", writer_commit },
    { "finish_partial", writer_finish_partial },
    { "close", writer_close }, { NULL, NULL }
  };
  static const luaL_Reg reader_meth[] = {
    { "columns", reader_columns }, { "name", reader_name },
    { "count_rows", reader_count_rows }, { "times", reader_times }, { "grid", reader_grid },
    { "read_columns", reader_read_columns },
    { "read_chunk", reader_read_chunk },
    { "close", reader_close }, { NULL, NULL }
  };
  nmL_newclass(L, NM_AUDIO_MT, writer_meth, writer_close, writer_tostring);
  nmL_newclass(L, NM_CSVREADER_MT, reader_meth, reader_close, NULL);
  lua_pushcfunction(L, audio_writer);
  lua_setfield(L, -2, "audio_writer");
  lua_pushcfunction(L, audio_check_memory);
  lua_setfield(L, -2, "audio_check_memory");
  lua_pushcfunction(L, csv_reader);
  lua_setfield(L, -2, "csv_reader");
  lua_pushcfunction(L, audio_read);
  lua_setfield(L, -2, "audio_read");
  lua_pushcfunction(L, path_info);
  lua_setfield(L, -2, "path_info");
  lua_pushcfunction(L, partial_name);
  lua_setfield(L, -2, "partial_name");
}
