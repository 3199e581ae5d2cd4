/*
** audio.c: sonification: the writer's options, open, free (the phases are in
** the audio_*.c files listed in audio_impl.h).  Signals sampled on the
** simulation's grid become an audio file in three passes, with memory bounded
** whatever the length:
**
**  1. feed (while the rows come): each "lane" (one input signal, or one output
**     channel when the mix can be formed first) is extended at both ends by
**     odd reflection, so that the filter does not ramp up from silence, and
**     resampled to the audio rate with libsamplerate's band-limited sinc
**     converters (in stages when the ratio is beyond 1:128).  The audio-rate
**     lanes are high-passed, measured (min, max, sum, sum of squares) and
**     spooled as 32-bit floats to a temporary file beside the output, which is
**     unlinked as soon as it is opened.
**  2. measure: the spool is rendered (mean removal, per-signal gains or the
**     carriers of parameter mapping, mixing, fades) to find the mix's peak.
**  3. write: rendered again, scaled so that the peak sits `headroom` dB below
**     full scale, passed through a look-ahead limiter (only when something
**     would exceed full scale), and written through libsndfile in chunks to
**     "<path>.tmp-<pid>.<host>", renamed to <path> when complete (atomic_file.c).
**     The path "-" is standard output: the file is then made in $TMPDIR and
**     copied there once complete, or streamed (nm_audio_opts.stream,
**     audio_stream.c: passes 2 and 3 skipped, levels known in advance).
**
** Normalisation needs the peak of the finished mix, and the mix can only be
** formed once every signal's gain is known, i.e. after the last row: hence
** the spool (the audio-rate signals, typically 1000x smaller than the rows at
** the simulation's rate) rather than keeping anything in memory or running
** the simulation twice.  Resident memory is the chunk buffers, the
** resamplers' state and the edge padding: about 1.1 filter half-lengths of
** input per lane, and libsamplerate's own buffer, sized for its largest
** ratio: 0.44 MB a lane for quality "best", 0.14 MB for "medium", 0.06 MB for
** "fast" (memory_needed).
**
** Time alignment: libsamplerate's sinc converters have no latency; audio
** frame j sits at input sample j / ratio (to within half an input sample),
** and a file holds round(n * ratio) frames for n input samples: the length of
** the simulated time divided by the speed-up.
*/
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "audio_impl.h"

/* ---------------------------------------------------------------------
** Opening
** ------------------------------------------------------------------- */

/* Keeps "cannot write '<path>': <detail>" for nm_audio_error; returns status. */
int au_fail(nm_audio *a, int status, const char *detail)
{
  return nm_fail(&a->err, status, "cannot write '%s': %s", a->path, detail ? detail : "");
}


int au_fail_create(nm_error *err, const char *path, const char *file, const char *detail)
{
  if (strcmp(path, "-") == 0)
    return nm_fail(err, NM_EIO, "cannot write '-': its temporary file '%s' (in $TMPDIR): %s", file, detail);
  return nm_fail(err, NM_EIO, "cannot write '%s': %s", path, detail);
}


int au_fail_errno(nm_audio *a, const char *doing)
{
  int e = errno;
  return nm_fail(&a->err, NM_EIO, "cannot write '%s': %s: %s", a->path, doing,
                 e ? strerror(e) : "unknown error");
}



/* NM_OK when the options are within the engine's domain; else NM_EINVAL with
** the option, its value and what is allowed in *err.  This is no second set of defaults or
** friendly checks (lua/neuromass/audio/plan.lua owns those, and plans options
** that pass): each bound keeps a size, an index, a filter or a conversion of
** the writer defined (the counts, rates and ratio size the buffers; routes
** index them; NaN or infinite gains, fades, cut-offs and pitches would reach
** undefined conversions), and every refusal carries its reason, so that a C
** caller never gets a bare status. */
static int check_opts(const nm_audio_opts *o, nm_error *err)
{
#define BAD(...) return nm_fail(err, NM_EINVAL, __VA_ARGS__)
  if (o->rate < 1000 || o->rate > 768000) BAD("rate = %d Hz (allowed: 1000 to 768000)", o->rate);
  if (!(o->in_rate > 0) || !isfinite(o->in_rate))
    BAD("input rate = %g samples/s (must be a positive finite number)", o->in_rate);
  if (!(o->speedup > 0) || !isfinite(o->speedup))
    BAD("speedup = %g (must be a positive finite number)", o->speedup);
  if (o->n_in < 1) BAD("no input signals");
  if (o->n_out < 1 || o->n_out > 1024) BAD("%zu channels (allowed: 1 to 1024)", o->n_out);
  if (o->skip < 0) BAD("skip = %ld samples (must be >= 0)", o->skip);
  if (o->n_routes < 1) BAD("no routes from signals to channels");
  if (!(o->headroom >= 0) || !isfinite(o->headroom))
    BAD("headroom = %g dB (must be a finite number >= 0)", o->headroom);
  if (!(o->fade_in >= 0) || !isfinite(o->fade_in))
    BAD("fade_in = %g s (must be a finite number >= 0)", o->fade_in);
  if (!(o->fade_out >= 0) || !isfinite(o->fade_out))
    BAD("fade_out = %g s (must be a finite number >= 0)", o->fade_out);
  if (!(o->highpass >= 0) || o->highpass >= o->rate / 2.0)
    BAD("highpass = %g Hz (allowed: 0 to below %g)", o->highpass, o->rate / 2.0);
  if (!(o->envelope >= 0) || o->envelope >= o->in_rate / 2)
    BAD("envelope = %g Hz (allowed: 0 to below %g)", o->envelope, o->in_rate / 2);
  if (!(o->expected >= 0) || !isfinite(o->expected))
    BAD("expected = %g rows (must be a finite number >= 0)", o->expected);
  if (!(o->rf64_above >= 0)) BAD("rf64_above = %g bytes (must be >= 0)", o->rf64_above);
  if (o->mode != NM_AUDIO_AUDIFY && o->mode != NM_AUDIO_MAPPING) BAD("unknown mode %d", o->mode);
  if (o->normalize < NM_NORM_PEAK || o->normalize > NM_NORM_NONE)
    BAD("unknown normalisation %d", o->normalize);
  if (o->normalize == NM_NORM_NONE && (!(o->gain > 0) || !isfinite(o->gain)))
    BAD("gain = %g (must be a positive finite number)", o->gain);
  for (size_t k = 0; k < o->n_routes; k++) {
    const nm_audio_route *r = &o->routes[k];
    if (r->in >= o->n_in || r->out >= o->n_out)
      BAD("route %zu joins signal %zu to channel %zu (there are %zu signals, %zu channels)",
          k, r->in, r->out, o->n_in, o->n_out);
    if (!isfinite(r->gain))
      BAD("route %zu (signal %zu to channel %zu) has weight %g (must be finite)", k, r->in, r->out,
          r->gain);
  }
  if (o->mode == NM_AUDIO_MAPPING) {
    if (!(o->drive & (NM_DRIVE_AMPLITUDE | NM_DRIVE_PITCH))) BAD("mapping drives nothing");
    if ((o->drive & NM_DRIVE_PITCH) && !(o->pitch_lo > 0 && o->pitch_hi > 0 &&
                                         isfinite(o->pitch_lo) && isfinite(o->pitch_hi)))
      BAD("pitch = %g .. %g Hz (must be positive finite numbers)", o->pitch_lo, o->pitch_hi);
    if (!(o->drive & NM_DRIVE_PITCH)) {
      if (!o->carrier) BAD("mapping without pitch needs carrier frequencies");
      for (size_t i = 0; i < o->n_in; i++)
        if (!(o->carrier[i] > 0) || !isfinite(o->carrier[i]))
          BAD("carrier %zu = %g Hz (must be a positive finite number)", i, o->carrier[i]);
    }
  }
  double r = o->rate / (o->speedup * o->in_rate);
  if (!(r > 1e-9 && r < 1e9))
    BAD("%g audio frames per input sample (rate %d Hz / (speedup %g x %g samples/s)); "
        "allowed: 1e-9 to 1e9", r, o->rate, o->speedup, o->in_rate);
#undef BAD
  return NM_OK;
}


/* Bytes of audio data per frame in the file. */
double au_frame_bytes(const nm_audio_opts *o)
{
  return (double)o->n_out * (o->encoding == NM_AUDIO_PCM16 ? 2 : o->encoding == NM_AUDIO_PCM24 ? 3 : 4);
}


/* Bytes of the buffer a libsamplerate sinc converter holds per channel
** (src_sinc.c: 3 x lrint(half length / increment x SRC_MAX_RATIO + 1) floats):
** sized for its largest ratio, 256, whatever the ratio, and cleared at
** creation, so all resident: 0.44 MB for "best", 0.14 MB for "medium", 0.06 MB
** for "fast".  Its coefficient tables' half lengths and increments. */
static double sinc_buffer_bytes(int quality)
{
  double half = quality == NM_AUDIO_BEST ? 340239 : quality == NM_AUDIO_MEDIUM ? 22438 : 2464;
  double inc = quality == NM_AUDIO_BEST ? 2381 : quality == NM_AUDIO_MEDIUM ? 491 : 128;
  return 4 * (3 * floor(half / inc * 256 + 1 + 0.5) + 1);
}


/* The working memory (bytes) a writer will hold, estimated before anything is
** allocated: per lane the reflected edges (2 x (pad + 1) floats), the chunk
** buffers of every stage, each stage's libsamplerate buffer (sinc_buffer_bytes),
** the decimator's window; per channel the render buffers. */
static double memory_needed(const nm_audio_opts *o, size_t lanes, double ratio, double *pad_out)
{
  double taps = 0, M = 1;
  if (ratio <= 0.25) {
    M = fmin(64, floor(1 / (2 * ratio)));
    if (M >= 2) taps = ceil((110 - 7.95) / (14.36 * (1.0 / M - ratio))) + 2;
  }
  double sr = ratio * M, stages = fmax(1, ceil(fabs(log(sr)) / log(STAGE_RATIO)));
  double half = 143 + 2;
  double pad = 1.1 * half * (ratio > 1 ? 1.0 : 1.0 / ratio) + taps / 2 + 4096;
  *pad_out = pad;
  double per_lane = 8 * (pad + 1) + 4.0 * CHUNK * (6 + stages) + 4 * taps + 32 * 8 +
                    stages * sinc_buffer_bytes(o->quality);
  return (double)lanes * per_lane + (double)o->n_routes * 48 + (double)o->n_in * 16 +
         (double)o->n_out * CHUNK * 24 + (double)CHUNK * GROUP_MAX * 4;
}


/* The size of the output (bytes of audio data) and of the spool, for `rows`
** input rows; refuses what cannot be represented or cannot fit on the disk. */
static int check_size(const nm_audio_opts *o, const char *path, size_t lanes, double ratio,
                      nm_error *err)
{
  double n = o->expected - (double)o->skip;
  if (o->expected <= 0 || n <= 0) return NM_OK;
  double frames = floor(n * ratio + 0.5);
  if (frames > MAX_FRAMES(lanes > o->n_out ? lanes : o->n_out)) {
    return nm_fail(err, NM_EINVAL, "%.0f input rows make %.4g audio frames of %zu channels, more "
                   "than can be represented (at most %.4g)", o->expected, frames, o->n_out,
                   MAX_FRAMES(lanes > o->n_out ? lanes : o->n_out));
  }
  double need = frames * (double)lanes * 4 + frames * au_frame_bytes(o);
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash) { if (slash == dir) slash[1] = '\0'; else *slash = '\0'; }
  else snprintf(dir, sizeof dir, ".");
  struct statvfs vfs;
  if (statvfs(dir, &vfs) == 0) {
    double avail = (double)vfs.f_bavail * (double)vfs.f_frsize;
    if (need > avail) {
      return nm_fail(err, NM_EINVAL, "%.0f input rows make %.4g audio frames: %.3g GB on disk "
                     "(the spool of %zu signals and the file), but '%s' has %.3g GB free",
                     o->expected, frames, need / 1e9, lanes, dir, avail / 1e9);
    }
  }
  return NM_OK;
}


/* Lanes: with gains known in advance (relative or none) the mix can be formed
** before resampling, and only the channels are resampled. */
int au_premixed(const nm_audio_opts *o)
{
  return o->mode == NM_AUDIO_AUDIFY &&
         (o->normalize == NM_NORM_RELATIVE || o->normalize == NM_NORM_NONE);
}


size_t au_lanes_of(const nm_audio_opts *o)
{
  return au_premixed(o) ? o->n_out : o->n_in;
}


int nm_audio_check_memory(const nm_audio_opts *o, nm_error *err)
{
  double ratio = o->rate / (o->speedup * o->in_rate), pad;
  if (!(ratio > 0) || !isfinite(ratio)) return NM_OK;  /* check_opts explains these */
  double mem = memory_needed(o, au_lanes_of(o), ratio, &pad);
  if (mem <= NM_AUDIO_MEMORY_LIMIT) return NM_OK;
  return nm_fail(err, NM_EINVAL, "sonifying %zu signals into %zu channels at %.3g audio frames per "
           "input sample needs %.3g GB of working memory (the limit is %.3g GB): choose fewer "
           "signals, %sor normalize = \"relative\" to mix before resampling", o->n_in, o->n_out,
           ratio, mem / 1e9, NM_AUDIO_MEMORY_LIMIT / 1e9,
           o->quality == NM_AUDIO_FAST ? "" : "a lower quality (libsamplerate's buffer: 0.44 MB a signal "
           "for \"best\", 0.14 MB for \"medium\", 0.06 MB for \"fast\"), ");
}


/* calloc that clears *ok on failure. */
void *au_alloc(int *ok, size_t n, size_t size)
{
  void *p = calloc(n ? n : 1, size);
  if (!p) *ok = 0;
  return p;
}


nm_audio *nm_audio_open(const char *path, const nm_audio_opts *o, nm_error *err)
{
  nm_error_clear(err);
  if (check_opts(o, err) != NM_OK) return NULL;
  /* Temporary files go beside the output; for stdout ("-") in $TMPDIR. */
  const char *base = path;
  char in_tmpdir[4096];
  if (strcmp(path, "-") == 0) {
    const char *dir = getenv("TMPDIR");
    snprintf(in_tmpdir, sizeof in_tmpdir, "%s/neuromass-stdout", dir && *dir ? dir : "/tmp");
    base = in_tmpdir;
  }
  if (nm_audio_check_memory(o, err) != NM_OK ||
      (!o->stream &&     /* a stream takes no disk space */
       check_size(o, base, au_lanes_of(o), o->rate / (o->speedup * o->in_rate), err) != NM_OK))
    return NULL;
  nm_audio *a = calloc(1, sizeof *a);
  size_t len = strlen(path) > strlen(base) ? strlen(path) : strlen(base);
  int ok = 1;
  if (!a) goto nomem;
  a->o = *o;
  nm_error_clear(&a->err);
  a->o.names = NULL;                            /* copied into a->names */
  a->path = au_alloc(&ok, len + 1, 1);
  if (!ok || nm_outfile_init(&a->out, base) != NM_OK) goto nomem;
  memcpy(a->path, path, strlen(path) + 1);

  a->premix = au_premixed(o);
  a->lanes = au_lanes_of(o);
  size_t L = a->lanes;
  if (a->premix) {
    a->n_pre = o->n_routes;
    a->n_post = L;
    a->pre = au_alloc(&ok, a->n_pre, sizeof *a->pre);
    a->post = au_alloc(&ok, a->n_post, sizeof *a->post);
    if (!ok) goto nomem;
    for (size_t k = 0; k < o->n_routes; k++) {
      a->pre[k] = o->routes[k];                 /* lane = channel */
    }
    for (size_t c = 0; c < L; c++) a->post[c] = (nm_audio_route){ c, c, 1.0 };
  } else {
    a->n_post = o->n_routes;
    a->post = au_alloc(&ok, a->n_post, sizeof *a->post);
    if (!ok) goto nomem;
    memcpy(a->post, o->routes, o->n_routes * sizeof *a->post);   /* lane = input */
  }
  a->carrier = au_alloc(&ok, L, sizeof(double));
  if (!ok) goto nomem;
  if (o->mode == NM_AUDIO_MAPPING && o->carrier)
    for (size_t l = 0; l < L; l++) a->carrier[l] = o->carrier[l];

  if (!au_resample_init(a, &ok)) goto nomem;
  a->skip_left = o->skip;
  a->x = au_alloc(&ok, L, sizeof(double));
  a->offset = au_alloc(&ok, L, sizeof(double));
  a->scale = au_alloc(&ok, L, sizeof(double));
  a->scale_exp = au_alloc(&ok, L, sizeof(int));
  if (o->names) {
    a->names = au_alloc(&ok, o->n_in, sizeof(char *));
    for (size_t i = 0; ok && i < o->n_in; i++) {
      a->names[i] = au_alloc(&ok, strlen(o->names[i]) + 1, 1);
      if (ok) strcpy(a->names[i], o->names[i]);
    }
  }
  a->head = au_alloc(&ok, (size_t)(a->pad + 1) * L, sizeof(float));
  a->tail = au_alloc(&ok, (size_t)(a->pad + 1) * L, sizeof(float));
  a->block = au_alloc(&ok, (size_t)CHUNK * L, sizeof(float));
  a->env = au_alloc(&ok, 3 * L, sizeof(bq_state));
  a->hp_st = au_alloc(&ok, L, sizeof(bq_state));
  a->mn = au_alloc(&ok, L, sizeof(double));
  a->mx = au_alloc(&ok, L, sizeof(double));
  a->sum = au_alloc(&ok, L, sizeof(double));
  a->sumsq = au_alloc(&ok, L, sizeof(double));
  a->in_sum = au_alloc(&ok, L, sizeof(double));
  a->in_sumsq = au_alloc(&ok, L, sizeof(double));
  a->spool_buf = au_alloc(&ok, (size_t)CHUNK * L, sizeof(float));
  a->centre = au_alloc(&ok, L, sizeof(double));
  a->lane_gain = au_alloc(&ok, L, sizeof(double));
  a->lo = au_alloc(&ok, L, sizeof(double));
  a->span = au_alloc(&ok, L, sizeof(double));
  a->phase = au_alloc(&ok, L, sizeof(double));
  a->input_gain = au_alloc(&ok, o->n_in, sizeof(double));
  if (!ok) goto nomem;
  if (o->mode == NM_AUDIO_MAPPING && o->envelope > 0) {
    a->env_hp = au_bq_design(1, o->envelope, o->in_rate, M_SQRT1_2);
    a->env_lp = au_bq_design(0, o->envelope, o->in_rate, M_SQRT1_2);
  }
  if (o->mode == NM_AUDIO_AUDIFY && o->highpass > 0) {
    a->hp = au_bq_design(1, o->highpass, o->rate, M_SQRT1_2);
    double wait = ceil(o->rate / o->highpass);     /* frames; past the end: the whole input */
    a->hp_wait = wait < (double)(LONG_MAX / 2) ? (long)wait : LONG_MAX / 2;
  }
  a->n_frames = -1;

  /* The output file (checked now, so that a long run fails at its start);
  ** a streamed one has no temporary file and no spool. */
  int rc = o->stream ? au_stream_open(a, err) : au_file_open(a, path, err);
  if (rc == NM_OK && !o->stream) rc = au_spool_open(a, path, base, len, err);
  if (rc != NM_OK) {
    nm_audio_free(a);
    return NULL;
  }
  return a;

nomem:
  nm_fail(err, NM_ENOMEM, "%s", nm_strerror(NM_ENOMEM));
  nm_audio_free(a);
  return NULL;
}


int nm_audio_finish(nm_audio *a, nm_audio_report *rep)
{
  int rc = nm_audio_render(a, rep);
  return rc != NM_OK ? rc : nm_audio_commit(a, NULL);
}


int nm_audio_finish_partial(nm_audio *a, const char *partial_path, nm_audio_report *rep)
{
  int rc = nm_audio_render(a, rep);
  return rc != NM_OK ? rc : nm_audio_commit(a, partial_path);
}


const char *nm_audio_temp_path(const nm_audio *a)
{
  return a->out.tmp;
}


double nm_audio_input_gain(const nm_audio *a, size_t i)
{
  return i < a->o.n_in ? a->input_gain[i] : 0;
}


const char *nm_audio_error(const nm_audio *a)
{
  return a->err.why;
}


void nm_audio_free(nm_audio *a)
{
  if (!a) return;
  if (a->sf) sf_close(a->sf);
  if (!a->finished) nm_outfile_discard(&a->out);
  nm_outfile_free(&a->out);
  if (a->spool) fclose(a->spool);
  au_stream_free(a);
  au_resample_free(a);
  for (size_t i = 0; a->names && i < a->o.n_in; i++) free(a->names[i]);
  free(a->names);
  void *owned[] = { a->path, a->pre, a->post, a->carrier, a->gather, a->x, a->offset,
                    a->scale, a->scale_exp,
                    a->head, a->tail, a->block, a->env, a->hp_st, a->mn, a->mx, a->sum,
                    a->sumsq, a->in_sum, a->in_sumsq, a->spool_buf, a->centre, a->lane_gain, a->lo, a->span, a->phase,
                    a->input_gain, a->dec_h, a->dec_buf, a->dec_out, a->dec_acc };
  for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) free(owned[i]);
  free(a);
}
