/*
** audio.c: sonification.  Signals sampled on the simulation's grid become an
** audio file in three passes, with memory bounded whatever the length:
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
**     "<path>.tmp-<pid>", renamed to <path> when complete.  The path "-" is
**     standard output: the file is then made in $TMPDIR and copied there
**     once complete.
**
** Normalisation needs the peak of the finished mix, and the mix can only be
** formed once every signal's gain is known, i.e. after the last row: hence
** the spool (the audio-rate signals, typically 1000x smaller than the rows at
** the simulation's rate) rather than keeping anything in memory or running
** the simulation twice.  Resident memory is the chunk buffers, the
** resamplers' state and the edge padding: about 1.1 filter half-lengths of
** input per lane.
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
#include <unistd.h>

#include <samplerate.h>
#include <sndfile.h>

#include "audio.h"

#define CHUNK 4096            /* frames per block, everywhere */
#define GROUP_MAX 64          /* lanes per libsamplerate state (it takes at most 128) */
#define MAX_STAGES 8
#define STAGE_RATIO 128.0     /* largest ratio given to one libsamplerate stage */
#define LIMIT_LOOKAHEAD 0.002 /* s */
#define LIMIT_RELEASE 0.050   /* s */
/* Frames (and spool offsets) are longs and sf_count_t: at most this many frames,
** so that frames x lanes x 8 bytes stays below 2^62. */
#define MAX_FRAMES(lanes) (4611686018427387904.0 / 8.0 / (double)(lanes))
/* Magnitude: each lane is scaled by 2^e, e chosen from its first value (its
** first non-zero one) to put it near 2^SCALE_AT, before anything is single
** precision; scaled values must stay within 2^SCALED_MAX, far below float's
** 2^128 (the reflections, the filters' overshoot and sums fit in between).
** A signal may thus grow 2^170 (1.5e51) times beyond its start; and every
** deviation from its first value that a double can hold (2^-52 of it) is a
** normal float (>= 2^-126), so nothing small loses precision. */
#define SCALE_AT (-70)
#define SCALED_MAX 0x1p100

typedef struct { double b0, b1, b2, a1, a2; } biquad;
typedef struct { double s1, s2; } bq_state;

/* A group of lanes resampled together (one libsamplerate state per stage). */
typedef struct {
  size_t first, n;
  SRC_STATE *src[MAX_STAGES];
  float *buf[MAX_STAGES];       /* each stage's output block: CHUNK frames */
  float *fifo;                  /* final frames not yet spooled */
  size_t fifo_len, fifo_cap;    /* frames */
  long produced;                /* final frames produced, counting the dropped ones */
} group;

struct nm_audio {
  nm_audio_opts o;              /* pointers in it are not used after open */
  char *path, *tmp;
  char err[640];
  SNDFILE *sf;
  int sf_format;                /* as opened: WAV, WAVEX, (at render) RF64, FLAC, OGG */
  int rendered;                 /* the complete file is at tmp */
  FILE *spool;
  int finished;
  /* lanes and routes */
  size_t lanes;
  int premix;                   /* lanes are output channels, mixed before resampling */
  nm_audio_route *pre, *post;   /* pre: lane <- input; post: channel <- lane */
  size_t n_pre, n_post;
  double *carrier;              /* per lane */
  /* resampling */
  double ratio, stage_ratio[MAX_STAGES];
  int n_stages;
  group *groups;
  size_t n_groups;
  long drop;                    /* final frames dropped at the start (the reflected head) */
  long pad;                     /* input samples reflected at each end */
  float *gather;                /* CHUNK x GROUP_MAX */
  /* first stage for strong down-sampling: a linear-phase FIR, decimating by M */
  int dec_m;                    /* M (1: none) */
  long dec_half;                /* (taps - 1) / 2 */
  double *dec_h;                /* 2 dec_half + 1 taps */
  float *dec_buf;               /* input frames [dec_base, dec_base + dec_len) */
  long dec_base, dec_len, dec_next;   /* dec_next: the next output, centred on dec_next * M */
  float *dec_out;               /* CHUNK x lanes */
  double *dec_acc;              /* lanes */
  /* input side */
  long skip_left, n_valid;
  double *x, *offset;           /* per lane */
  double *scale;                /* per lane: 2^scale_exp (0: not chosen yet, every value so far 0) */
  int *scale_exp;
  char **names;                 /* o.n_in signal names, or NULL */
  float *head;                  /* (pad + 1) x lanes: the first samples */
  float *tail;                  /* (pad + 1) x lanes: a ring of the last samples */
  int head_done;
  float *block;                 /* CHUNK x lanes */
  size_t block_len;
  biquad env_hp, env_lp;
  bq_state *env;                /* 3 per lane */
  /* audio side */
  long spooled, n_frames;       /* n_frames: the file's length, known at finish */
  int input_done;               /* every stage flushed */
  long hp_wait;                 /* frames gathered before the high-pass starts */
  biquad hp;
  bq_state *hp_st;
  double *mn, *mx, *sum, *sumsq;
  float *spool_buf;             /* CHUNK x lanes */
  /* rendering */
  double *centre, *lane_gain, *lo, *span, *phase, *input_gain;
  double file_gain;
  long fade_in, fade_out;
  long lead;                    /* frames the spool is read ahead (envelope delay) */
  int ref_exp;                  /* premixed lanes are rendered at the scale 2^ref_exp */
};


/* ---------------------------------------------------------------------
** Second-order sections (RBJ's cookbook), transposed direct form II
** ------------------------------------------------------------------- */

static biquad bq_design(int high, double fc, double fs, double q)
{
  double w = 2 * M_PI * fc / fs, cw = cos(w), al = sin(w) / (2 * q), a0 = 1 + al;
  biquad f;
  f.b1 = high ? -(1 + cw) : 1 - cw;
  f.b0 = f.b2 = (high ? 1 + cw : 1 - cw) / 2 / a0;
  f.b1 /= a0;
  f.a1 = -2 * cw / a0;
  f.a2 = (1 - al) / a0;
  return f;
}


static inline double bq_run(const biquad *f, bq_state *s, double x)
{
  double y = f->b0 * x + s->s1;
  s->s1 = f->b1 * x - f->a1 * y + s->s2;
  s->s2 = f->b2 * x - f->a2 * y;
  return y;
}


/* The state reached after input x held forever (scipy's lfilter_zi): a signal
** starting away from zero then starts without a step. */
static void bq_settle(const biquad *f, bq_state *s, double x)
{
  double y = x * (f->b0 + f->b1 + f->b2) / (1 + f->a1 + f->a2);
  s->s2 = f->b2 * x - f->a2 * y;
  s->s1 = f->b1 * x - f->a1 * y + s->s2;
}


/* ---------------------------------------------------------------------
** Opening
** ------------------------------------------------------------------- */

/* Has a signal asked to stop (nm_audio_opts.interrupt)? */
static int interrupted(const nm_audio *a)
{
  return a->o.interrupt && *a->o.interrupt;
}


/* Keeps "cannot write '<path>': <detail>" for nm_audio_error; returns status. */
static int fail(nm_audio *a, int status, const char *detail)
{
  snprintf(a->err, sizeof a->err, "cannot write '%s': %s", a->path, detail ? detail : "");
  return status;
}


/* Half-length of libsamplerate's filters in zero crossings (its coefficient
** tables' length over their increment), rounded up. */
static double half_length(int quality)
{
  return quality == NM_AUDIO_BEST ? 143 : quality == NM_AUDIO_MEDIUM ? 46 : 20;
}


static int src_type(int quality)
{
  return quality == NM_AUDIO_BEST ? SRC_SINC_BEST_QUALITY
       : quality == NM_AUDIO_MEDIUM ? SRC_SINC_MEDIUM_QUALITY : SRC_SINC_FASTEST;
}


static int sf_format_of(const nm_audio_opts *o)
{
  if (o->container == NM_AUDIO_OGG) return SF_FORMAT_OGG | SF_FORMAT_VORBIS;
  int sub = o->encoding == NM_AUDIO_PCM24 ? SF_FORMAT_PCM_24
          : o->encoding == NM_AUDIO_FLOAT ? SF_FORMAT_FLOAT : SF_FORMAT_PCM_16;
  return (o->container == NM_AUDIO_FLAC ? SF_FORMAT_FLAC : SF_FORMAT_WAV) | sub;
}


/* 1 when the options are usable; else 0 with the option, its value and what is
** allowed in why.  (The Lua layer explains these first; this is the engine's own
** guard, so that no caller gets a bare status.) */
static int check_opts(const nm_audio_opts *o, char *why, size_t size)
{
#define BAD(...) do { snprintf(why, size, __VA_ARGS__); return 0; } while (0)
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
  return 1;
}


/* Bytes of audio data per frame in the file. */
static double frame_bytes(const nm_audio_opts *o)
{
  return (double)o->n_out * (o->encoding == NM_AUDIO_PCM16 ? 2 : o->encoding == NM_AUDIO_PCM24 ? 3 : 4);
}


/* The working memory (bytes) a writer will hold, estimated before anything is
** allocated: per lane the reflected edges (2 x (pad + 1) floats), the chunk
** buffers of every stage, the decimator's window; per channel the render buffers. */
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
  double per_lane = 8 * (pad + 1) + 4.0 * CHUNK * (6 + stages) + 4 * taps + 32 * 8;
  return (double)lanes * per_lane + (double)o->n_routes * 48 + (double)o->n_in * 16 +
         (double)o->n_out * CHUNK * 24 + (double)CHUNK * GROUP_MAX * 4;
}


/* The size of the output (bytes of audio data) and of the spool, for `rows`
** input rows; refuses what cannot be represented or cannot fit on the disk. */
static int check_size(const nm_audio_opts *o, const char *path, size_t lanes, double ratio,
                      char *why, size_t size)
{
  double n = o->expected - (double)o->skip;
  if (o->expected <= 0 || n <= 0) return 1;
  double frames = floor(n * ratio + 0.5);
  if (frames > MAX_FRAMES(lanes > o->n_out ? lanes : o->n_out)) {
    snprintf(why, size, "%.0f input rows make %.4g audio frames of %zu channels, more than can be "
             "represented (at most %.4g)", o->expected, frames, o->n_out,
             MAX_FRAMES(lanes > o->n_out ? lanes : o->n_out));
    return 0;
  }
  double need = frames * (double)lanes * 4 + frames * frame_bytes(o);
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash) { if (slash == dir) slash[1] = '\0'; else *slash = '\0'; }
  else snprintf(dir, sizeof dir, ".");
  struct statvfs vfs;
  if (statvfs(dir, &vfs) == 0) {
    double avail = (double)vfs.f_bavail * (double)vfs.f_frsize;
    if (need > avail) {
      snprintf(why, size, "%.0f input rows make %.4g audio frames: %.3g GB on disk (the spool of "
               "%zu signals and the file), but '%s' has %.3g GB free", o->expected, frames,
               need / 1e9, lanes, dir, avail / 1e9);
      return 0;
    }
  }
  return 1;
}


/* Lanes: with gains known in advance (relative or none) the mix can be formed
** before resampling, and only the channels are resampled. */
static int premixed(const nm_audio_opts *o)
{
  return o->mode == NM_AUDIO_AUDIFY &&
         (o->normalize == NM_NORM_RELATIVE || o->normalize == NM_NORM_NONE);
}


static size_t lanes_of(const nm_audio_opts *o)
{
  return premixed(o) ? o->n_out : o->n_in;
}


int nm_audio_check_memory(const nm_audio_opts *o, char *why, size_t why_size)
{
  double ratio = o->rate / (o->speedup * o->in_rate), pad;
  if (!(ratio > 0) || !isfinite(ratio)) return 1;      /* check_opts explains these */
  double mem = memory_needed(o, lanes_of(o), ratio, &pad);
  if (mem <= NM_AUDIO_MEMORY_LIMIT) return 1;
  snprintf(why, why_size, "sonifying %zu signals into %zu channels at %.3g audio frames per "
           "input sample needs %.3g GB of working memory (the limit is %.3g GB): choose fewer "
           "signals, or normalize = \"relative\" to mix before resampling", o->n_in, o->n_out,
           ratio, mem / 1e9, NM_AUDIO_MEMORY_LIMIT / 1e9);
  return 0;
}


static void *alloc(int *ok, size_t n, size_t size)
{
  void *p = calloc(n ? n : 1, size);
  if (!p) *ok = 0;
  return p;
}


static double bessel_i0(double x)
{
  double sum = 1, term = 1;
  for (int k = 1; k < 200 && term > 1e-17 * sum; k++) {
    term *= (x / (2 * k)) * (x / (2 * k));
    sum += term;
  }
  return sum;
}


/*
** For ratio <= 1/4 a first stage decimates by M = floor(1 / (2 ratio)) (at
** most 64) with a Kaiser-windowed sinc FIR: it passes the audio band (input
** frequencies up to ratio/2 of the input rate) and stops 110 dB from 1/M -
** ratio/2 on, so nothing can fold into that band; what folds into the
** transition lands above the audio band, where libsamplerate removes it.
** libsamplerate then works on M times fewer samples: per input sample ~13
** multiply-adds here plus 2 x 46 / M there, instead of 2 x 46.
*/
static int decimator_design(nm_audio *a, int *ok)
{
  long M = (long)floor(1 / (2 * a->ratio));
  if (M > 64) M = 64;
  if (M < 2) return 1;
  double pass = a->ratio / 2, stop = 1.0 / M - a->ratio / 2;     /* cycles per input sample */
  double A = 110, beta = 0.1102 * (A - 8.7), width = stop - pass;
  long taps = (long)ceil((A - 7.95) / (14.36 * width)) + 1;
  if (taps % 2 == 0) taps++;
  long H = (taps - 1) / 2;
  double fc = (pass + stop) / 2, sum = 0;
  a->dec_h = alloc(ok, (size_t)taps, sizeof(double));
  a->dec_buf = alloc(ok, (size_t)(taps + CHUNK) * a->lanes, sizeof(float));
  a->dec_out = alloc(ok, (size_t)CHUNK * a->lanes, sizeof(float));
  a->dec_acc = alloc(ok, a->lanes, sizeof(double));
  if (!*ok) return 0;
  for (long t = 0; t < taps; t++) {
    double u = (double)(t - H), v = (double)(t - H) / (double)H;
    double sinc = u == 0 ? 2 * fc : sin(2 * M_PI * fc * u) / (M_PI * u);
    a->dec_h[t] = sinc * bessel_i0(beta * sqrt(fmax(0, 1 - v * v))) / bessel_i0(beta);
    sum += a->dec_h[t];
  }
  for (long t = 0; t < taps; t++) a->dec_h[t] /= sum;           /* unit gain at DC */
  a->dec_m = (int)M;
  a->dec_half = H;
  a->dec_base = -H;                         /* the stream starts with H zeros */
  a->dec_len = H;
  return 1;
}


/*
** WAVE_FORMAT_EXTENSIBLE's channel mask: mono is front centre, stereo front
** left and right; the channels of a multichannel layout (nodes, not speakers)
** take the mask's speaker positions in order, skipping the low-frequency one
** (players low-pass it), up to 17 channels; beyond that the mask is 0 (no
** positions), as the format allows.
*/
static void channel_map(nm_audio *a)
{
  static const int speakers[] = {     /* the mask's bits in order, without LFE (0x8) */
    SF_CHANNEL_MAP_LEFT, SF_CHANNEL_MAP_RIGHT, SF_CHANNEL_MAP_CENTER,
    SF_CHANNEL_MAP_REAR_LEFT, SF_CHANNEL_MAP_REAR_RIGHT, SF_CHANNEL_MAP_FRONT_LEFT_OF_CENTER,
    SF_CHANNEL_MAP_FRONT_RIGHT_OF_CENTER, SF_CHANNEL_MAP_REAR_CENTER, SF_CHANNEL_MAP_SIDE_LEFT,
    SF_CHANNEL_MAP_SIDE_RIGHT, SF_CHANNEL_MAP_TOP_CENTER, SF_CHANNEL_MAP_TOP_FRONT_LEFT,
    SF_CHANNEL_MAP_TOP_FRONT_CENTER, SF_CHANNEL_MAP_TOP_FRONT_RIGHT, SF_CHANNEL_MAP_TOP_REAR_LEFT,
    SF_CHANNEL_MAP_TOP_REAR_CENTER, SF_CHANNEL_MAP_TOP_REAR_RIGHT
  };
  size_t C = a->o.n_out;
  int map[17];
  if (C == 1) map[0] = SF_CHANNEL_MAP_CENTER;
  else if (C <= 17) memcpy(map, speakers, C * sizeof *map);
  else return;
  sf_command(a->sf, SFC_SET_CHANNEL_MAP_INFO, map, (int)(C * sizeof *map));
}


/* What every opened file gets: clipping, Vorbis quality, channel map, software tag. */
static void sf_settings(nm_audio *a)
{
  sf_command(a->sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
  if (a->o.container == NM_AUDIO_OGG) {
    double q = 0.6;
    sf_command(a->sf, SFC_SET_VBR_ENCODING_QUALITY, &q, sizeof q);
  }
  int major = a->sf_format & SF_FORMAT_TYPEMASK;
  if (major == SF_FORMAT_WAVEX || major == SF_FORMAT_RF64) channel_map(a);
  sf_set_string(a->sf, SF_STR_SOFTWARE, "neuromass " NM_VERSION);
}


nm_audio *nm_audio_open(const char *path, const nm_audio_opts *o, int *status, char *why,
                        size_t why_size)
{
  if (why_size) why[0] = '\0';
  if (!check_opts(o, why, why_size)) {
    *status = NM_EINVAL;
    return NULL;
  }
  /* Temporary files go beside the output; for stdout ("-") in $TMPDIR. */
  const char *base = path;
  char in_tmpdir[4096];
  if (strcmp(path, "-") == 0) {
    const char *dir = getenv("TMPDIR");
    snprintf(in_tmpdir, sizeof in_tmpdir, "%s/neuromass-stdout", dir && *dir ? dir : "/tmp");
    base = in_tmpdir;
  }
  if (!nm_audio_check_memory(o, why, why_size) ||
      !check_size(o, base, lanes_of(o), o->rate / (o->speedup * o->in_rate), why, why_size)) {
    *status = NM_EINVAL;
    return NULL;
  }
  nm_audio *a = calloc(1, sizeof *a);
  size_t len = strlen(path) > strlen(base) ? strlen(path) : strlen(base);
  int ok = 1;
  if (!a) goto nomem;
  a->o = *o;
  a->o.names = NULL;                            /* copied into a->names */
  a->path = alloc(&ok, len + 1, 1);
  a->tmp = alloc(&ok, len + 40, 1);
  if (!ok) goto nomem;
  memcpy(a->path, path, strlen(path) + 1);

  a->premix = premixed(o);
  a->lanes = lanes_of(o);
  size_t L = a->lanes;
  if (a->premix) {
    a->n_pre = o->n_routes;
    a->n_post = L;
    a->pre = alloc(&ok, a->n_pre, sizeof *a->pre);
    a->post = alloc(&ok, a->n_post, sizeof *a->post);
    if (!ok) goto nomem;
    for (size_t k = 0; k < o->n_routes; k++) {
      a->pre[k] = o->routes[k];                 /* lane = channel */
    }
    for (size_t c = 0; c < L; c++) a->post[c] = (nm_audio_route){ c, c, 1.0 };
  } else {
    a->n_post = o->n_routes;
    a->post = alloc(&ok, a->n_post, sizeof *a->post);
    if (!ok) goto nomem;
    memcpy(a->post, o->routes, o->n_routes * sizeof *a->post);   /* lane = input */
  }
  a->carrier = alloc(&ok, L, sizeof(double));
  if (!ok) goto nomem;
  if (o->mode == NM_AUDIO_MAPPING && o->carrier)
    for (size_t l = 0; l < L; l++) a->carrier[l] = o->carrier[l];

  /* Resampling stages and edge padding. */
  a->ratio = o->rate / (o->speedup * o->in_rate);
  a->dec_m = 1;
  if (a->ratio <= 0.25 && !decimator_design(a, &ok)) goto nomem;
  double sr = a->ratio * a->dec_m;                    /* what libsamplerate does */
  double lr = fabs(log(sr));
  a->n_stages = lr <= log(STAGE_RATIO) ? 1 : (int)ceil(lr / log(STAGE_RATIO));
  if (a->n_stages > MAX_STAGES) {     /* unreachable: the ratio is within 1e-9 .. 1e9 */
    *status = NM_EINVAL;
    snprintf(why, why_size, "a ratio of %g needs more than %d resampling stages", sr, MAX_STAGES);
    nm_audio_free(a);
    return NULL;
  }
  for (int s = 0; s < a->n_stages; s++) a->stage_ratio[s] = pow(sr, 1.0 / a->n_stages);
  double half = half_length(o->quality) + 2;
  /* The reflected head covers the filter's reach: `pad` input samples become
  ** `drop` audio frames, dropped.  pad * ratio is made as near to a whole
  ** number as a short search finds, so that frame j sits at input sample
  ** j / ratio (with a ratio of 441 a misplaced fraction would shift the
  ** audio by up to 220 frames). */
  double need = 1.1 * half * (a->ratio > 1 ? 1.0 : 1.0 / a->ratio) + (double)a->dec_half, best = 1;
  long p0 = (long)ceil(need);
  a->pad = p0;
  for (long p = p0; p < p0 + 4096 && best > 1e-9; p++) {
    double e = fabs((double)p * a->ratio - round((double)p * a->ratio));
    if (e < best) { best = e; a->pad = p; }
  }
  a->drop = lround((double)a->pad * a->ratio);
  a->n_groups = (L + GROUP_MAX - 1) / GROUP_MAX;
  a->groups = alloc(&ok, a->n_groups, sizeof *a->groups);
  if (!ok) goto nomem;
  for (size_t g = 0; g < a->n_groups; g++) {
    group *gr = &a->groups[g];
    gr->first = g * GROUP_MAX;
    gr->n = L - gr->first < GROUP_MAX ? L - gr->first : GROUP_MAX;
    for (int s = 0; s < a->n_stages; s++) {
      int e;
      gr->src[s] = src_new(src_type(o->quality), (int)gr->n, &e);
      if (!gr->src[s]) goto nomem;
      gr->buf[s] = alloc(&ok, CHUNK * gr->n, sizeof(float));
    }
  }
  a->gather = alloc(&ok, (size_t)CHUNK * GROUP_MAX, sizeof(float));
  a->skip_left = o->skip;
  a->x = alloc(&ok, L, sizeof(double));
  a->offset = alloc(&ok, L, sizeof(double));
  a->scale = alloc(&ok, L, sizeof(double));
  a->scale_exp = alloc(&ok, L, sizeof(int));
  if (o->names) {
    a->names = alloc(&ok, o->n_in, sizeof(char *));
    for (size_t i = 0; ok && i < o->n_in; i++) {
      a->names[i] = alloc(&ok, strlen(o->names[i]) + 1, 1);
      if (ok) strcpy(a->names[i], o->names[i]);
    }
  }
  a->head = alloc(&ok, (size_t)(a->pad + 1) * L, sizeof(float));
  a->tail = alloc(&ok, (size_t)(a->pad + 1) * L, sizeof(float));
  a->block = alloc(&ok, (size_t)CHUNK * L, sizeof(float));
  a->env = alloc(&ok, 3 * L, sizeof(bq_state));
  a->hp_st = alloc(&ok, L, sizeof(bq_state));
  a->mn = alloc(&ok, L, sizeof(double));
  a->mx = alloc(&ok, L, sizeof(double));
  a->sum = alloc(&ok, L, sizeof(double));
  a->sumsq = alloc(&ok, L, sizeof(double));
  a->spool_buf = alloc(&ok, (size_t)CHUNK * L, sizeof(float));
  a->centre = alloc(&ok, L, sizeof(double));
  a->lane_gain = alloc(&ok, L, sizeof(double));
  a->lo = alloc(&ok, L, sizeof(double));
  a->span = alloc(&ok, L, sizeof(double));
  a->phase = alloc(&ok, L, sizeof(double));
  a->input_gain = alloc(&ok, o->n_in, sizeof(double));
  if (!ok) goto nomem;
  if (o->mode == NM_AUDIO_MAPPING && o->envelope > 0) {
    a->env_hp = bq_design(1, o->envelope, o->in_rate, M_SQRT1_2);
    a->env_lp = bq_design(0, o->envelope, o->in_rate, M_SQRT1_2);
  }
  if (o->mode == NM_AUDIO_AUDIFY && o->highpass > 0) {
    a->hp = bq_design(1, o->highpass, o->rate, M_SQRT1_2);
    double wait = ceil(o->rate / o->highpass);     /* frames; past the end: the whole input */
    a->hp_wait = wait < (double)(LONG_MAX / 2) ? (long)wait : LONG_MAX / 2;
  }
  a->n_frames = -1;

  /* The output file (checked now, so that a long run fails at its start). */
  SF_INFO info;
  memset(&info, 0, sizeof info);
  info.samplerate = o->rate;
  info.channels = (int)o->n_out;
  info.format = sf_format_of(o);
  if (o->container == NM_AUDIO_WAV && (o->n_out > 2 || o->encoding != NM_AUDIO_PCM16))
    info.format = SF_FORMAT_WAVEX | (info.format & SF_FORMAT_SUBMASK);
  a->sf_format = info.format;
  if (!sf_format_check(&info)) {
    *status = NM_EINVAL;
    snprintf(why, why_size, "libsndfile cannot write this format with %d channels at %d Hz",
             info.channels, info.samplerate);
    nm_audio_free(a);
    return NULL;
  }
  nm_temp_name(a->tmp, len + 40, base);
  errno = 0;
  a->sf = sf_open(a->tmp, SFM_WRITE, &info);
  if (!a->sf) {
    *status = NM_EIO;
    snprintf(why, why_size, "cannot write '%s': %s", path,
             errno ? strerror(errno) : sf_strerror(NULL));
    nm_audio_free(a);
    return NULL;
  }
  a->finished = 0;
  sf_settings(a);
  /* The spool, beside the output: unlinked at once, it vanishes with us. */
  char *spool_name = alloc(&ok, len + 40, 1);
  if (!ok) goto nomem;
  snprintf(spool_name, len + 40, "%s.spool-%ld", base, (long)getpid());
  a->spool = fopen(spool_name, "w+b");
  if (a->spool) remove(spool_name);
  free(spool_name);
  if (!a->spool) {
    *status = NM_EIO;
    snprintf(why, why_size, "cannot write '%s': %s", path, strerror(errno));
    nm_audio_free(a);
    return NULL;
  }
  *status = NM_OK;
  return a;

nomem:
  *status = NM_ENOMEM;
  if (why_size) snprintf(why, why_size, "%s", nm_strerror(*status));
  nm_audio_free(a);
  return NULL;
}


/* ---------------------------------------------------------------------
** Pass 1: resampling, measuring, spooling
** ------------------------------------------------------------------- */

/* Spools the final frames all groups have, up to `limit` frames in all. */
static int drain(nm_audio *a, long limit)
{
  size_t ready = (size_t)-1;
  for (size_t g = 0; g < a->n_groups; g++)
    if (a->groups[g].fifo_len < ready) ready = a->groups[g].fifo_len;
  if (limit >= 0 && (long)ready > limit - a->spooled) ready = (size_t)(limit - a->spooled);
  if (ready == 0) return NM_OK;
  size_t L = a->lanes;
  int hp = a->o.mode == NM_AUDIO_AUDIFY && a->o.highpass > 0;
  /* The high-pass starts from the state of a constant input equal to the
  ** mean of its first period (1 / cutoff): starting from the first value
  ** instead would add a transient as large as that value's distance from the
  ** mean.  Wait for that period (or for the end of the input). */
  if (hp && a->spooled == 0) {
    if ((long)ready < a->hp_wait && !a->input_done) return NM_OK;
    size_t w = (long)ready < a->hp_wait ? ready : (size_t)a->hp_wait;
    for (size_t g = 0; g < a->n_groups; g++) {
      group *gr = &a->groups[g];
      for (size_t j = 0; j < gr->n; j++) {
        double m = 0;
        for (size_t f = 0; f < w; f++) m += gr->fifo[f * gr->n + j];
        bq_settle(&a->hp, &a->hp_st[gr->first + j], w ? m / (double)w : 0);
      }
    }
  }
  for (size_t done = 0; done < ready;) {
    size_t n = ready - done < CHUNK ? ready - done : CHUNK;
    for (size_t g = 0; g < a->n_groups; g++) {
      group *gr = &a->groups[g];
      for (size_t f = 0; f < n; f++)
        for (size_t j = 0; j < gr->n; j++) {
          size_t l = gr->first + j;
          double v = gr->fifo[(done + f) * gr->n + j];
          if (hp) v = bq_run(&a->hp, &a->hp_st[l], v);
          if (a->spooled + (long)f == 0) a->mn[l] = a->mx[l] = v;
          if (v < a->mn[l]) a->mn[l] = v;
          if (v > a->mx[l]) a->mx[l] = v;
          a->sum[l] += v;
          a->sumsq[l] += v * v;
          a->spool_buf[f * L + l] = (float)v;
        }
    }
    if (fwrite(a->spool_buf, sizeof(float) * L, n, a->spool) != n)
      return fail(a, NM_EIO, "no space for the temporary spool");
    a->spooled += (long)n;
    done += n;
  }
  for (size_t g = 0; g < a->n_groups; g++) {
    group *gr = &a->groups[g];
    if (gr->fifo_len > ready)
      memmove(gr->fifo, gr->fifo + ready * gr->n, (gr->fifo_len - ready) * gr->n * sizeof(float));
    gr->fifo_len -= ready;
  }
  return NM_OK;
}


/* Final frames of a group: the first `drop` belong to the reflected head. */
static int collect(nm_audio *a, group *gr, const float *in, long n)
{
  long skip = a->drop - gr->produced;
  if (skip < 0) skip = 0;
  if (skip > n) skip = n;
  gr->produced += n;
  size_t keep = (size_t)(n - skip);
  if (!keep) return NM_OK;
  if (gr->fifo_len + keep > gr->fifo_cap) {
    size_t cap = gr->fifo_cap ? gr->fifo_cap : CHUNK;
    while (cap < gr->fifo_len + keep) cap *= 2;
    float *p = realloc(gr->fifo, cap * gr->n * sizeof *p);
    if (!p) return fail(a, NM_ENOMEM, "out of memory");
    gr->fifo = p;
    gr->fifo_cap = cap;
  }
  memcpy(gr->fifo + gr->fifo_len * gr->n, in + skip * (long)gr->n, keep * gr->n * sizeof(float));
  gr->fifo_len += keep;
  return NM_OK;
}


/* Runs n frames through stage s of a group and on; eoi flushes the stage. */
static int push(nm_audio *a, group *gr, int s, const float *in, long n, int eoi)
{
  static const float none[1] = { 0 };
  if (s == a->n_stages) return collect(a, gr, in, n);
  SRC_DATA d;
  memset(&d, 0, sizeof d);
  d.src_ratio = a->stage_ratio[s];
  d.end_of_input = eoi;
  long used = 0;
  for (;;) {
    d.data_in = n > used ? in + used * (long)gr->n : none;
    d.input_frames = n - used;
    d.data_out = gr->buf[s];
    d.output_frames = CHUNK;
    int e = src_process(gr->src[s], &d);
    if (e) return fail(a, NM_EINVAL, src_strerror(e));
    used += d.input_frames_used;
    if (d.output_frames_gen > 0) {
      int rc = push(a, gr, s + 1, gr->buf[s], d.output_frames_gen, 0);
      if (rc != NM_OK) return rc;
    }
    if (d.input_frames_used == 0 && d.output_frames_gen == 0) break;
    if (used >= n && !eoi) break;
  }
  return eoi ? push(a, gr, s + 1, none, 0, 1) : NM_OK;
}


/* Sends n frames (n x lanes, interleaved) to every group's resamplers. */
static int send_groups(nm_audio *a, const float *frames, long n, int eoi)
{
  size_t L = a->lanes;
  for (long done = 0; done < n || (eoi && done == 0);) {
    long m = n - done < CHUNK ? n - done : CHUNK;
    int last = eoi && done + m >= n;
    for (size_t g = 0; g < a->n_groups; g++) {
      group *gr = &a->groups[g];
      const float *p = frames ? frames + done * (long)L : NULL;
      if (a->n_groups > 1 && m > 0) {
        for (long f = 0; f < m; f++)
          memcpy(a->gather + f * (long)gr->n, frames + (done + f) * (long)L + gr->first,
                 gr->n * sizeof(float));
        p = a->gather;
      }
      int rc = push(a, gr, 0, p, m, last);
      if (rc != NM_OK) return rc;
    }
    done += m;
    if (m == 0) break;
  }
  double expect = floor((double)a->n_valid * a->ratio + 0.5);   /* frames so far */
  return drain(a, a->n_frames >= 0 ? a->n_frames
                  : expect < (double)(LONG_MAX / 2) ? (long)expect : LONG_MAX / 2);
}


/*
** The decimator: output m is the FIR centred on input sample m * M (no delay:
** the taps are symmetric), so libsamplerate's frame j still sits at input
** sample j / ratio.  Before the first input the stream is zero (inside the
** reflected head, dropped); eoi appends dec_half zeros (inside the reflected
** tail) so that every output is complete.
*/
/* Computes every output the buffer allows, sends them, drops what is no longer needed. */
static int decimate_produce(nm_audio *a)
{
  size_t L = a->lanes;
  long H = a->dec_half, M = a->dec_m, taps = 2 * H + 1;
  for (;;) {
    long k = 0;
    for (; a->dec_next * M + H < a->dec_base + a->dec_len && k < CHUNK; a->dec_next++, k++) {
      const float *x = a->dec_buf + (a->dec_next * M - H - a->dec_base) * (long)L;
      double *acc = a->dec_acc;
      for (size_t l = 0; l < L; l++) acc[l] = 0;
      for (long t = 0; t < taps; t++) {
        double c = a->dec_h[t];
        const float *xt = x + t * (long)L;
        for (size_t l = 0; l < L; l++) acc[l] += c * xt[l];
      }
      for (size_t l = 0; l < L; l++) a->dec_out[k * (long)L + (long)l] = (float)acc[l];
    }
    if (k == 0) break;
    int rc = send_groups(a, a->dec_out, k, 0);
    if (rc != NM_OK) return rc;
  }
  long gone = a->dec_next * M - H - a->dec_base;        /* frames no output needs any more */
  if (gone > a->dec_len) gone = a->dec_len;
  if (gone > 0) {
    memmove(a->dec_buf, a->dec_buf + gone * (long)L, (size_t)(a->dec_len - gone) * L * sizeof(float));
    a->dec_base += gone;
    a->dec_len -= gone;
  }
  return NM_OK;
}


/*
** The decimator: output m is the FIR centred on input sample m * M (no delay:
** the taps are symmetric), so libsamplerate's frame j still sits at input
** sample j / ratio.  Before the first input the stream is zero (inside the
** reflected head, dropped); eoi appends dec_half zeros (inside the reflected
** tail) so that every output centred on the input is complete.
*/
static int decimate(nm_audio *a, const float *frames, long n, int eoi)
{
  size_t L = a->lanes;
  long taps = 2 * a->dec_half + 1;
  long zeros = eoi ? a->dec_half : 0;
  for (long done = 0; done < n + zeros;) {
    long m = n + zeros - done, room = taps + CHUNK - a->dec_len;
    if (m > room) m = room;
    float *to = a->dec_buf + a->dec_len * (long)L;
    long real = done < n ? (n - done < m ? n - done : m) : 0;
    if (real) memcpy(to, frames + done * (long)L, (size_t)real * L * sizeof(float));
    if (m > real) memset(to + real * (long)L, 0, (size_t)(m - real) * L * sizeof(float));
    a->dec_len += m;
    done += m;
    int rc = decimate_produce(a);
    if (rc != NM_OK) return rc;
  }
  return eoi ? send_groups(a, NULL, 0, 1) : NM_OK;
}


static int send(nm_audio *a, const float *frames, long n, int eoi)
{
  return a->dec_m > 1 ? decimate(a, frames, n, eoi) : send_groups(a, frames, n, eoi);
}


/* The reflected head: 2 x0 - x[i] for i = pad .. 1, then the head itself. */
static int emit_head(nm_audio *a)
{
  size_t L = a->lanes;
  long have = a->n_valid < a->pad + 1 ? a->n_valid : a->pad + 1;
  for (long i = a->pad; i >= 1;) {
    size_t n = 0;
    for (; i >= 1 && n < CHUNK; i--, n++) {
      long k = i < have ? i : have - 1;
      for (size_t l = 0; l < L; l++)
        a->block[n * L + l] = 2 * a->head[l] - a->head[(size_t)k * L + l];
    }
    int rc = send(a, a->block, (long)n, 0);
    if (rc != NM_OK) return rc;
  }
  a->head_done = 1;
  return send(a, a->head, have, 0);
}


/* "x.3" (the input's name), "signal 3", or "channel 1 (a mix)" for a premixed lane. */
static void lane_name(const nm_audio *a, size_t l, char *out, size_t size)
{
  if (a->premix) snprintf(out, size, "the mix of channel %zu", l);
  else if (a->names) snprintf(out, size, "'%s'", a->names[l]);
  else snprintf(out, size, "signal %zu", l);
}


/* Lane l's scale: 2^e puts |level| at 2^SCALE_AT (e within double's range). */
static void choose_scale(nm_audio *a, size_t l, double level)
{
  int e = SCALE_AT - ilogb(level);
  e = e < -1074 ? -1074 : e > 1023 ? 1023 : e;
  a->scale_exp[l] = e;
  a->scale[l] = ldexp(1.0, e);
}


/* A value beyond SCALED_MAX: the lane's range is more than audio can hold. */
static int too_wide(nm_audio *a, size_t l, double value)
{
  char who[160], why[512];
  lane_name(a, l, who, sizeof who);
  double first = a->offset[l] != 0 ? a->offset[l] : ldexp(1.0, SCALE_AT - a->scale_exp[l]);
  snprintf(why, sizeof why, "%s reaches %.4g after starting at %s%.4g: a range of more than 1e51, "
           "more than audio can hold (sonify a part with 'skip', or a bounded variable)", who, value,
           a->offset[l] != 0 ? "" : "about ", first);
  return fail(a, NM_EINVAL, why);
}


/* One input row: the lanes' values (mixed, or the envelope), then buffered. */
static int take(nm_audio *a, const double *row, const size_t *cols)
{
  size_t L = a->lanes;
  double *x = a->x;
  if (a->premix) {
    for (size_t l = 0; l < L; l++) x[l] = 0;
    for (size_t k = 0; k < a->n_pre; k++) x[a->pre[k].out] += a->pre[k].gain * row[cols[a->pre[k].in]];
  } else {
    for (size_t l = 0; l < L; l++) x[l] = row[cols[l]];
  }
  for (size_t l = 0; l < L; l++)
    if (!isfinite(x[l])) {
      char who[160], why[512];
      lane_name(a, l, who, sizeof who);
      snprintf(why, sizeof why, "%s is %s: audio needs finite values%s", who,
               isnan(x[l]) ? "NaN" : x[l] > 0 ? "+inf" : "-inf",
               a->premix ? " (a mix of finite values beyond the largest number, 1.8e308, is infinite)" : "");
      return fail(a, NM_EINVAL, why);
    }
  if (a->o.mode == NM_AUDIO_MAPPING && a->o.envelope > 0) {
    /* band-limited envelope: high-pass, rectify, low-pass twice (4th order) */
    for (size_t l = 0; l < L; l++) {
      bq_state *st = a->env + 3 * l;
      if (a->n_valid == 0) bq_settle(&a->env_hp, &st[0], x[l]);
      double v = fabs(bq_run(&a->env_hp, &st[0], x[l]));
      v = bq_run(&a->env_lp, &st[1], v);
      x[l] = M_PI_2 * bq_run(&a->env_lp, &st[2], v);
    }
  }
  /* Values go to the resampler (single precision) relative to the first one,
  ** so that a large constant part costs no precision, and scaled (SCALE_AT). */
  if (a->n_valid == 0) memcpy(a->offset, x, L * sizeof *x);
  float *t = a->tail + (size_t)(a->n_valid % (a->pad + 1)) * L;
  for (size_t l = 0; l < L; l++) {
    if (a->scale[l] == 0) {
      if (x[l] == 0) { t[l] = 0; continue; }          /* offset 0 too: 0 at any scale */
      choose_scale(a, l, a->offset[l] != 0 ? a->offset[l] : x[l]);
    }
    double v = x[l] * a->scale[l] - a->offset[l] * a->scale[l];
    if (!(fabs(v) <= SCALED_MAX)) return too_wide(a, l, x[l]);
    t[l] = (float)v;
  }
  if (!a->head_done) {
    memcpy(a->head + (size_t)a->n_valid * L, t, L * sizeof *t);
    a->n_valid++;
    return a->n_valid == a->pad + 1 ? emit_head(a) : NM_OK;
  }
  a->n_valid++;
  memcpy(a->block + a->block_len * L, t, L * sizeof *t);
  if (++a->block_len == CHUNK) {
    a->block_len = 0;
    return send(a, a->block, CHUNK, 0);
  }
  return NM_OK;
}


int nm_audio_feed(nm_audio *a, const double *rows, size_t n_rows, size_t stride,
                  const size_t *cols)
{
  if (a->finished || a->n_frames >= 0) return NM_EINVAL;
  for (size_t r = 0; r < n_rows; r++) {
    if (a->skip_left > 0) { a->skip_left--; continue; }
    int rc = take(a, rows + r * stride, cols);
    if (rc != NM_OK) return rc;
  }
  return NM_OK;
}


/* The rest of the input, the reflected tail, and the end of every stage. */
static int flush_input(nm_audio *a)
{
  size_t L = a->lanes;
  int rc = a->head_done ? NM_OK : emit_head(a);
  if (rc == NM_OK && a->block_len) rc = send(a, a->block, (long)a->block_len, 0);
  a->block_len = 0;
  if (rc != NM_OK) return rc;
  long ring = a->pad + 1, last = a->n_valid - 1;
  const float *xl = a->tail + (size_t)(last % ring) * L;
  for (long i = 1; i <= a->pad;) {
    size_t n = 0;
    for (; i <= a->pad && n < CHUNK; i++, n++) {
      long back = i < a->n_valid ? i : a->n_valid - 1;
      if (back > a->pad) back = a->pad;
      const float *xk = a->tail + (size_t)((last - back) % ring) * L;
      for (size_t l = 0; l < L; l++) a->block[n * L + l] = 2 * xl[l] - xk[l];
    }
    rc = send(a, a->block, (long)n, i > a->pad);
    if (rc != NM_OK) return rc;
  }
  a->input_done = 1;
  return drain(a, a->n_frames);
}


/* ---------------------------------------------------------------------
** Passes 2 and 3: rendering from the spool
** ------------------------------------------------------------------- */

static void lane_gains(nm_audio *a, nm_audio_report *rep)
{
  size_t L = a->lanes;
  double n = (double)a->n_frames, biggest = 0;
  const nm_audio_opts *o = &a->o;
  if (o->mode == NM_AUDIO_MAPPING) {
    /* the driving signal maps onto 0 .. 1: per signal, or one range for all */
    double lo = INFINITY, hi = -INFINITY;
    for (size_t l = 0; l < L; l++) {
      if (a->mn[l] < lo) lo = a->mn[l];
      if (a->mx[l] > hi) hi = a->mx[l];
    }
    int shared = o->normalize == NM_NORM_RELATIVE || o->normalize == NM_NORM_NONE;
    if (shared) {      /* in the signals' own units: each lane has its offset and scale */
      lo = INFINITY, hi = -INFINITY;
      for (size_t l = 0; l < L; l++) {
        if (a->scale[l] == 0) { lo = fmin(lo, 0); hi = fmax(hi, 0); continue; }   /* all 0 */
        lo = fmin(lo, a->mn[l] / a->scale[l] + a->offset[l]);
        hi = fmax(hi, a->mx[l] / a->scale[l] + a->offset[l]);
      }
    }
    for (size_t l = 0; l < L; l++) {
      double s = a->scale[l] != 0 ? a->scale[l] : 1;
      a->lo[l] = shared ? (lo - a->offset[l]) * s : a->mn[l];
      a->span[l] = shared ? (hi - lo) * s : a->mx[l] - a->mn[l];
      if (!(a->span[l] > 1e-12 * (fabs(a->mx[l]) + fabs(a->mn[l])))) { a->span[l] = 0; rep->silent++; }
      a->lane_gain[l] = 1;
    }
    return;
  }
  /* Levels are in each lane's scaled units; compared across lanes by their
  ** base-2 logarithms in the signals' units (level / 2^scale_exp). */
  double *level = a->lo, *log_level = a->span;       /* scratch */
  int e_ref = INT_MAX;                               /* the largest lane's scale */
  for (size_t l = 0; l < L; l++) {
    double mean = a->sum[l] / n;
    int hp = o->highpass > 0;
    a->centre[l] = o->dc ? mean : hp ? 0 : -a->offset[l] * a->scale[l];
    double c = a->centre[l];
    double peak = fmax(a->mx[l] - c, c - a->mn[l]);
    double ms = a->sumsq[l] / n - 2 * c * a->sum[l] / n + c * c;
    level[l] = o->normalize == NM_NORM_RMS ? sqrt(fmax(ms, 0)) : peak;
    log_level[l] = level[l] > 0 ? log2(level[l]) - a->scale_exp[l] : -INFINITY;
    if (log_level[l] > biggest || l == 0) biggest = log_level[l];
    if (a->scale[l] != 0 && a->scale_exp[l] < e_ref) e_ref = a->scale_exp[l];
  }
  if (e_ref == INT_MAX) e_ref = 0;
  a->ref_exp = e_ref;
  for (size_t l = 0; l < L; l++) {
    int silent = !(log_level[l] > biggest - 40) || level[l] == 0;      /* 2^-40: 1e-12 */
    if (silent && !a->premix) rep->silent++;
    if (o->normalize == NM_NORM_PEAK || o->normalize == NM_NORM_RMS)
      a->lane_gain[l] = silent ? 0 : 1 / level[l];
    else      /* relative amplitudes: every lane to the largest one's scale */
      a->lane_gain[l] = a->scale[l] != 0 ? ldexp(1.0, e_ref - a->scale_exp[l]) : 0;
  }
}


static double fade_gain(const nm_audio *a, long f)
{
  double w = 1;
  if (f < a->fade_in) w *= 0.5 - 0.5 * cos(M_PI * ((double)f + 0.5) / (double)a->fade_in);
  long back = a->n_frames - 1 - f;
  if (back < a->fade_out) w *= 0.5 - 0.5 * cos(M_PI * ((double)back + 0.5) / (double)a->fade_out);
  return w;
}


/* n frames starting at frame f0, from spooled lanes `in` into channels `out`. */
static void render(nm_audio *a, const float *in, size_t n, long f0, double *out)
{
  const nm_audio_opts *o = &a->o;
  size_t L = a->lanes, C = o->n_out;
  double *v = a->x;
  double step = 2 * M_PI / o->rate, lrange = log(o->pitch_hi / o->pitch_lo);
  for (size_t f = 0; f < n; f++) {
    const float *s = in + f * L;
    if (o->mode == NM_AUDIO_AUDIFY) {
      for (size_t l = 0; l < L; l++) v[l] = ((double)s[l] - a->centre[l]) * a->lane_gain[l];
    } else {
      for (size_t l = 0; l < L; l++) {
        double u = a->span[l] > 0 ? ((double)s[l] - a->lo[l]) / a->span[l] : 0.5;
        u = u < 0 ? 0 : u > 1 ? 1 : u;
        double amp = (o->drive & NM_DRIVE_AMPLITUDE) ? u : 1;
        double freq = (o->drive & NM_DRIVE_PITCH) ? o->pitch_lo * exp(u * lrange) : a->carrier[l];
        a->phase[l] += step * freq;
        if (a->phase[l] > 2 * M_PI) a->phase[l] -= 2 * M_PI;
        v[l] = amp * sin(a->phase[l]);
      }
    }
    double *y = out + f * C;
    for (size_t c = 0; c < C; c++) y[c] = 0;
    for (size_t k = 0; k < a->n_post; k++) y[a->post[k].out] += a->post[k].gain * v[a->post[k].in];
    long fr = f0 + (long)f;
    if (fr < a->fade_in || fr >= a->n_frames - a->fade_out) {
      double w = fade_gain(a, fr);
      for (size_t c = 0; c < C; c++) y[c] *= w;
    }
  }
}


/* Spooled frames f0 + lead .. f0 + lead + n - 1; past the end, the last frame.
** lead > 0 reads the envelope of parameter mapping ahead by its filters'
** group delay, so that loudness follows the signal without lagging. */
static int spool_read(nm_audio *a, long f0, size_t n)
{
  size_t L = a->lanes, bytes = sizeof(float) * L;
  long from = f0 + a->lead, have = a->n_frames - from;
  size_t got = have <= 0 ? 0 : (size_t)have < n ? (size_t)have : n;
  if (got && (fseek(a->spool, (long)((size_t)from * bytes), SEEK_SET) != 0 ||
              fread(a->spool_buf, bytes, got, a->spool) != got))
    return fail(a, NM_EIO, "cannot read the temporary spool back");
  if (got < n) {
    if (!got && (fseek(a->spool, (long)((size_t)(a->n_frames - 1) * bytes), SEEK_SET) != 0 ||
                 fread(a->spool_buf, bytes, 1, a->spool) != 1))
      return fail(a, NM_EIO, "cannot read the temporary spool back");
    for (size_t f = got ? got : 1; f < n; f++)
      memcpy(a->spool_buf + f * L, a->spool_buf + (got ? got - 1 : 0) * L, bytes);
  }
  return NM_OK;
}


/* Pass 2: the peak of the mix before the file-wide gain. */
static int measure(nm_audio *a, double *out, double *peak)
{
  size_t C = a->o.n_out;
  *peak = 0;
  memset(a->phase, 0, a->lanes * sizeof *a->phase);
  if (fseek(a->spool, 0, SEEK_SET) != 0) return fail(a, NM_EIO, "spool");
  for (long f0 = 0; f0 < a->n_frames; f0 += CHUNK) {
    size_t n = (size_t)(a->n_frames - f0 < CHUNK ? a->n_frames - f0 : CHUNK);
    if (interrupted(a)) return fail(a, NM_EINTR, "interrupted");
    int rc = spool_read(a, f0, n);
    if (rc != NM_OK) return rc;
    render(a, a->spool_buf, n, f0, out);
    for (size_t i = 0; i < n * C; i++) if (fabs(out[i]) > *peak) *peak = fabs(out[i]);
  }
  return NM_OK;
}


/*
** Look-ahead limiter, linked across channels, that guarantees |y| <= 1:
** req[n] = min(1, 1 / max|x[n]|); w[n] = min of req over the last D frames;
** r[n] = min(w[n], release towards 1); g[n] = mean of r over the last D
** frames, applied to frame n - D + 1.  Every r in that mean is at most
** req[n - D + 1], so the gain never lets the frame exceed full scale, and it
** moves smoothly (over D frames) instead of clipping.
*/
typedef struct {
  size_t D, C, pos;
  double *delay, *req, *r;
  double rel, last_r, min_g;
} limiter;


static int limiter_init(limiter *lm, size_t D, size_t C, double rel)
{
  lm->D = D;
  lm->C = C;
  lm->pos = 0;
  lm->delay = calloc(D * C, sizeof(double));
  lm->req = malloc(D * sizeof(double));
  lm->r = malloc(D * sizeof(double));
  if (!lm->delay || !lm->req || !lm->r) return NM_ENOMEM;
  for (size_t i = 0; i < D; i++) lm->req[i] = lm->r[i] = 1;
  lm->rel = rel;
  lm->last_r = 1;
  lm->min_g = 1;
  return NM_OK;
}


static void limiter_free(limiter *lm)
{
  free(lm->delay);
  free(lm->req);
  free(lm->r);
}


/* Takes frame x (C values), gives the frame D - 1 earlier into y. */
static void limiter_step(limiter *lm, const double *x, double *y)
{
  size_t D = lm->D, C = lm->C, p = lm->pos;
  double m = 0;
  for (size_t c = 0; c < C; c++) if (fabs(x[c]) > m) m = fabs(x[c]);
  lm->req[p] = m > 1 ? 1 / m : 1;
  double w = 1;
  for (size_t i = 0; i < D; i++) if (lm->req[i] < w) w = lm->req[i];
  double r = lm->last_r + (1 - lm->last_r) * lm->rel;
  if (w < r) r = w;
  lm->last_r = lm->r[p] = r;
  double g = 0;
  for (size_t i = 0; i < D; i++) g += lm->r[i];
  g /= (double)D;
  if (g < lm->min_g) lm->min_g = g;
  memcpy(lm->delay + p * C, x, C * sizeof *x);
  size_t oldest = (p + 1) % D;
  for (size_t c = 0; c < C; c++) {
    double v = lm->delay[oldest * C + c] * g;
    y[c] = v > 1 ? 1 : v < -1 ? -1 : v;
  }
  lm->pos = oldest;
}


/* Encodes n frames.  PCM is quantised here (rounded, no dither) rather than
** by libsndfile, whose conversions differ between formats: WAV and FLAC files
** of the same audio then hold the same integers. */
static int write_frames(nm_audio *a, const double *y, size_t n, void *buf)
{
  size_t C = a->o.n_out;
  sf_count_t done;
  if (a->o.container != NM_AUDIO_OGG && a->o.encoding == NM_AUDIO_PCM16) {
    short *p = buf;
    for (size_t i = 0; i < n * C; i++) p[i] = (short)lrint(fmax(-1, fmin(1, y[i])) * 32767.0);
    done = sf_writef_short(a->sf, p, (sf_count_t)n);
  } else if (a->o.container != NM_AUDIO_OGG && a->o.encoding == NM_AUDIO_PCM24) {
    int *p = buf;
    for (size_t i = 0; i < n * C; i++)
      p[i] = (int)lrint(fmax(-1, fmin(1, y[i])) * 8388607.0) * 256;   /* libsndfile keeps the top 24 bits */
    done = sf_writef_int(a->sf, p, (sf_count_t)n);
  } else {
    float *p = buf;
    for (size_t i = 0; i < n * C; i++) p[i] = (float)fmax(-1, fmin(1, y[i]));
    done = sf_writef_float(a->sf, p, (sf_count_t)n);
  }
  if (done != (sf_count_t)n) return fail(a, NM_EIO, sf_strerror(a->sf));
  return NM_OK;
}


/* Pass 3: scale, limit if needed, encode. */
static int write_all(nm_audio *a, double *out, double peak, nm_audio_report *rep)
{
  size_t C = a->o.n_out;
  double G = a->file_gain;
  int limit = peak * G > 1;
  limiter lm;
  memset(&lm, 0, sizeof lm);
  size_t D = (size_t)ceil(LIMIT_LOOKAHEAD * a->o.rate);
  if (D < 2) D = 2;
  void *buf = malloc((size_t)CHUNK * C * sizeof(int));    /* int, float or short */
  double *lim = malloc((size_t)CHUNK * C * sizeof *lim);
  int rc = buf && lim ? NM_OK : NM_ENOMEM;
  if (rc == NM_OK && limit) rc = limiter_init(&lm, D, C, 1 - exp(-1 / (LIMIT_RELEASE * a->o.rate)));
  memset(a->phase, 0, a->lanes * sizeof *a->phase);
  if (rc == NM_OK && fseek(a->spool, 0, SEEK_SET) != 0) rc = NM_EIO;
  long emitted = 0;
  for (long f0 = 0; rc == NM_OK && f0 < a->n_frames; f0 += CHUNK) {
    size_t n = (size_t)(a->n_frames - f0 < CHUNK ? a->n_frames - f0 : CHUNK);
    if (interrupted(a)) { rc = fail(a, NM_EINTR, "interrupted"); break; }
    rc = spool_read(a, f0, n);
    if (rc != NM_OK) break;
    render(a, a->spool_buf, n, f0, out);
    for (size_t i = 0; i < n * C; i++) out[i] *= G;
    if (!limit) { rc = write_frames(a, out, n, buf); continue; }
    size_t m = 0;
    for (size_t f = 0; f < n; f++, emitted++) {
      limiter_step(&lm, out + f * C, lim + m * C);
      if (emitted >= (long)D - 1) m++;
    }
    rc = write_frames(a, lim, m, buf);
  }
  if (limit && rc == NM_OK) {             /* the frames still in the look-ahead */
    double *zero = calloc(C, sizeof *zero);
    size_t m = 0;
    if (!zero) rc = NM_ENOMEM;
    for (size_t k = 0; rc == NM_OK && k + 1 < D && emitted < a->n_frames + (long)D - 1; k++, emitted++) {
      if (emitted >= (long)D - 1) limiter_step(&lm, zero, lim + m++ * C);
      else limiter_step(&lm, zero, lim);
    }
    if (rc == NM_OK) rc = write_frames(a, lim, m, buf);
    free(zero);
    rep->limited_db = -20 * log10(lm.min_g);
  }
  if (rc == NM_ENOMEM) fail(a, rc, "out of memory");
  if (rc == NM_EIO && !a->err[0]) fail(a, rc, "spool");
  limiter_free(&lm);
  free(buf);
  free(lim);
  return rc;
}


/* Reopens the temporary file as RF64 when the data would not fit WAV's 32-bit
** sizes (nothing has been written to it yet). */
static int choose_rf64(nm_audio *a)
{
  int major = a->sf_format & SF_FORMAT_TYPEMASK;
  if (major != SF_FORMAT_WAV && major != SF_FORMAT_WAVEX) return NM_OK;
  double limit = a->o.rf64_above > 0 ? a->o.rf64_above : NM_AUDIO_RF64_ABOVE;
  if ((double)a->n_frames * frame_bytes(&a->o) <= limit) return NM_OK;
  sf_close(a->sf);
  SF_INFO info;
  memset(&info, 0, sizeof info);
  info.samplerate = a->o.rate;
  info.channels = (int)a->o.n_out;
  info.format = SF_FORMAT_RF64 | (a->sf_format & SF_FORMAT_SUBMASK);
  a->sf_format = info.format;
  a->sf = sf_open(a->tmp, SFM_WRITE, &info);
  if (!a->sf) return fail(a, NM_EIO, sf_strerror(NULL));
  sf_settings(a);
  return NM_OK;
}


int nm_audio_render(nm_audio *a, nm_audio_report *rep)
{
  memset(rep, 0, sizeof *rep);
  if (a->finished || a->rendered || a->n_frames >= 0 || !a->sf)
    return fail(a, NM_EINVAL, "the writer was already finished");
  a->err[0] = '\0';
  if (a->n_valid == 0)
    return fail(a, NM_EINVAL, "no samples to sonify (after the skip)");
  size_t L = a->lanes;
  double frames = floor((double)a->n_valid * a->ratio + 0.5);
  double most = MAX_FRAMES(L > a->o.n_out ? L : a->o.n_out);
  if (frames > most) {
    snprintf(a->err, sizeof a->err, "cannot write '%s': %ld input samples make %.4g audio frames, "
             "more than can be represented (at most %.4g)", a->path, a->n_valid, frames, most);
    return NM_EINVAL;
  }
  a->n_frames = (long)frames;
  if (a->n_frames < 1)
    return fail(a, NM_EINVAL, "the signal is shorter than one audio frame");
  int rc = flush_input(a);
  if (rc != NM_OK) return rc;
  while (a->spooled < a->n_frames) {    /* never expected: the tail covers the filter */
    long n = a->n_frames - a->spooled < CHUNK ? a->n_frames - a->spooled : CHUNK;
    memset(a->spool_buf, 0, (size_t)n * L * sizeof(float));
    if (fwrite(a->spool_buf, sizeof(float) * L, (size_t)n, a->spool) != (size_t)n)
      return fail(a, NM_EIO, "no space for the temporary spool");
    for (size_t l = 0; l < L; l++) { a->mn[l] = fmin(a->mn[l], 0); a->mx[l] = fmax(a->mx[l], 0); }
    a->spooled += n;
  }
  if (fflush(a->spool) != 0) return fail(a, NM_EIO, "spool");
  rep->frames = (size_t)a->n_frames;
  rep->samples_in = a->n_valid;
  rep->ratio = a->ratio;
  if (a->o.mode == NM_AUDIO_MAPPING && a->o.envelope > 0) {
    /* two 2nd-order Butterworth low-passes: 2 sqrt(2) / (2 pi fc) s of delay at DC */
    double delay = 2 * M_SQRT2 / (2 * M_PI * a->o.envelope) / a->o.speedup;
    double lead = floor(delay * a->o.rate + 0.5);
    a->lead = lead < (double)(a->n_frames - 1) ? (long)lead : a->n_frames - 1;
  }
  rep->stages = a->n_stages + (a->dec_m > 1);
  rep->decimation = a->dec_m;
  lane_gains(a, rep);
  /* Fades in frames, computed in double (any finite length is allowed); a
  ** short file is shared between them in proportion. */
  double n = (double)a->n_frames;
  double fi = fmin(a->o.fade_in * a->o.rate, n), fo = fmin(a->o.fade_out * a->o.rate, n);
  if (fi + fo > n) {
    double s = n / (fi + fo);
    fi = floor(fi * s);
    fo = floor(fo * s);
  }
  a->fade_in = (long)floor(fi + 0.5);
  a->fade_out = (long)floor(fo + 0.5);
  if (a->fade_in + a->fade_out > a->n_frames) a->fade_out = a->n_frames - a->fade_in;
  rc = choose_rf64(a);
  if (rc != NM_OK) return rc;
  double *out = malloc((size_t)CHUNK * a->o.n_out * sizeof *out);
  if (!out) return fail(a, NM_ENOMEM, "out of memory");
  double peak;
  rc = measure(a, out, &peak);
  if (rc == NM_OK) {
    if (a->o.normalize == NM_NORM_NONE)       /* the rendered lanes are scaled by 2^ref_exp */
      a->file_gain = fmin(ldexp(a->o.gain, a->premix ? -a->ref_exp : 0), DBL_MAX);
    else a->file_gain = peak > 0 ? pow(10, -a->o.headroom / 20) / peak : 1;
    /* reported in the signals' units: a premixed lane is the mix times 2^ref_exp */
    rep->peak = a->premix ? ldexp(peak, -a->ref_exp) : peak;
    rep->gain = a->o.normalize == NM_NORM_NONE ? a->o.gain
              : a->premix ? ldexp(a->file_gain, a->ref_exp) : a->file_gain;
    rc = write_all(a, out, peak, rep);
  }
  free(out);
  if (rc != NM_OK) return rc;
  for (size_t i = 0; i < a->o.n_in; i++)       /* from the signal's units */
    a->input_gain[i] = a->premix ? 1 : a->lane_gain[i] * a->scale[i];
  int closed = sf_close(a->sf);
  a->sf = NULL;
  if (closed != 0) return fail(a, NM_EIO, sf_error_number(closed));
  a->rendered = 1;
  return NM_OK;
}


/* The finished file at `tmp` copied to standard output; 0 or an errno. */
static int copy_to_stdout(const char *tmp)
{
  FILE *in = fopen(tmp, "rb");
  if (!in) return errno;
  fflush(stdout);                                /* what the script printed comes first */
  char buf[1 << 16];
  size_t n;
  int e = 0;
  while (!e && (n = fread(buf, 1, sizeof buf, in)) > 0)
    if (fwrite(buf, 1, n, stdout) != n) e = errno ? errno : EIO;
  if (!e && ferror(in)) e = errno ? errno : EIO;
  if (fflush(stdout) != 0 && !e) e = errno;
  fclose(in);
  return e;
}


int nm_audio_commit(nm_audio *a, const char *path)
{
  if (!a->rendered || a->finished) return fail(a, NM_EINVAL, "nothing rendered to commit");
  if (!path) path = a->path;
  if (strcmp(path, "-") == 0) {
    int e = copy_to_stdout(a->tmp);
    remove(a->tmp);
    a->finished = 1;
    if (e) snprintf(a->err, sizeof a->err, "cannot write to stdout: %s", strerror(e));
    return e ? NM_EIO : NM_OK;
  }
  if (rename(a->tmp, path) != 0) {
    int e = errno;
    snprintf(a->err, sizeof a->err, "cannot write '%s': %s", path, strerror(e));
    return NM_EIO;
  }
  a->finished = 1;
  return NM_OK;
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
  return a->tmp;
}


const char *nm_audio_container(const nm_audio *a)
{
  switch (a->sf_format & SF_FORMAT_TYPEMASK) {
    case SF_FORMAT_WAVEX: return "wavex";
    case SF_FORMAT_RF64: return "rf64";
    case SF_FORMAT_FLAC: return "flac";
    case SF_FORMAT_OGG: return "ogg";
    default: return "wav";
  }
}


double nm_audio_input_gain(const nm_audio *a, size_t i)
{
  return i < a->o.n_in ? a->input_gain[i] : 0;
}


const char *nm_audio_error(const nm_audio *a)
{
  return a->err;
}


void nm_audio_free(nm_audio *a)
{
  if (!a) return;
  if (a->sf) sf_close(a->sf);
  if (!a->finished && a->tmp && a->tmp[0]) remove(a->tmp);
  if (a->spool) fclose(a->spool);
  for (size_t g = 0; a->groups && g < a->n_groups; g++) {
    for (int s = 0; s < a->n_stages; s++) {
      if (a->groups[g].src[s]) src_delete(a->groups[g].src[s]);
      free(a->groups[g].buf[s]);
    }
    free(a->groups[g].fifo);
  }
  free(a->groups);
  for (size_t i = 0; a->names && i < a->o.n_in; i++) free(a->names[i]);
  free(a->names);
  void *owned[] = { a->path, a->tmp, a->pre, a->post, a->carrier, a->gather, a->x, a->offset,
                    a->scale, a->scale_exp,
                    a->head, a->tail, a->block, a->env, a->hp_st, a->mn, a->mx, a->sum,
                    a->sumsq, a->spool_buf, a->centre, a->lane_gain, a->lo, a->span, a->phase,
                    a->input_gain, a->dec_h, a->dec_buf, a->dec_out, a->dec_acc };
  for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) free(owned[i]);
  free(a);
}
