/*
** audio_impl.h: what the files of the audio writer share (not public): the
** writer's state (struct nm_audio), its constants, and the functions each
** phase file offers the others.  The public API is audio.h.
**
**   audio.c          options, the memory and disk checks, open, free, accessors
**   audio_filter.c   second-order sections (biquads), the Kaiser-window FIR
**   audio_resample.c the decimating FIR stage and libsamplerate's stages
**   audio_feed.c     input rows: scaling, envelope, reflected edges (pass 1)
**   audio_spool.c    the audio-rate lanes high-passed, measured, spooled and read back
**   audio_render.c   gains, mixing, fades, the peak (pass 2) and the encoded pass (3)
**   audio_limit.c    the look-ahead limiter
**   audio_write.c    libsndfile: formats, channel map, RF64, commit to the final name
*/
#ifndef nm_audio_impl_h
#define nm_audio_impl_h

#include <stdio.h>

#include <samplerate.h>
#include <sndfile.h>

#include "audio.h"
#include "engine.h"

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
  char *path;                   /* the user's path ("-": standard output) */
  nm_outfile out;               /* the file written, under its temporary name (atomic_file.c) */
  nm_error err;                 /* the last failure (nm_audio_error) */
  SNDFILE *sf;
  int sf_format;                /* as opened: WAV, WAVEX, (at render) RF64, FLAC, OGG */
  int rendered;                 /* the complete file is at out.tmp */
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
  double *in_sum, *in_sumsq;    /* of the lanes' scaled input values, before resampling */
  long n_taken;                 /* input rows taken (after skip) */
  float *spool_buf;             /* CHUNK x lanes */
  /* rendering */
  double *centre, *lane_gain, *lo, *span, *phase, *input_gain;
  double file_gain;
  long fade_in, fade_out;
  long planned;                 /* the file's frames the fades are placed in (au_plan_fades) */
  long lead;                    /* frames the spool is read ahead (envelope delay) */
  int ref_exp;                  /* premixed lanes are rendered at the scale 2^ref_exp */
  struct au_stream *stream;     /* nm_audio_opts.stream: the pipe and its limiter, else NULL */
};

/* audio.c */
/* Keeps "cannot write '<path>': <detail>" for nm_audio_error; returns status. */
int au_fail(nm_audio *a, int status, const char *detail);
/* NM_EIO "cannot write PATH: DOING: <errno's reason>" (a full disk: "No space left on device"). */
int au_fail_errno(nm_audio *a, const char *doing);
/* The failure to create `file`, a temporary file of the output `path`:
** "cannot write '<path>': <detail>", naming `file` too when path is "-"
** (stdout, whose temporary files are in $TMPDIR); returns NM_EIO. */
int au_fail_create(nm_error *err, const char *path, const char *file, const char *detail);
/* calloc that clears *ok on failure (n = 0 allocates one element). */
void *au_alloc(int *ok, size_t n, size_t size);
/* Bytes of audio data per frame in the file. */
double au_frame_bytes(const nm_audio_opts *o);
/* The premix rule: with gains known in advance (audification, normalize =
** relative or none) the mix is formed before resampling, and the lanes are
** the output channels; else the lanes are the input signals. */
int au_premixed(const nm_audio_opts *o);
size_t au_lanes_of(const nm_audio_opts *o);

/* audio_filter.c */
biquad au_bq_design(int high, double fc, double fs, double q);
void au_bq_settle(const biquad *f, bq_state *s, double x);
/* Fills h[0 .. taps-1] (taps odd) with a Kaiser-windowed sinc low-pass of
** cutoff fc (cycles per sample) and shape beta, normalised to unit gain at DC. */
void au_kaiser_lowpass(double *h, long taps, double fc, double beta);

static inline double au_bq_run(const biquad *f, bq_state *s, double x)
{
  double y = f->b0 * x + s->s1;
  s->s1 = f->b1 * x - f->a1 * y + s->s2;
  s->s2 = f->b2 * x - f->a2 * y;
  return y;
}

/* audio_resample.c */
/* Plans the stages and the edge padding and allocates the resamplers; 0 when
** out of memory. */
int au_resample_init(nm_audio *a, int *ok);
void au_resample_free(nm_audio *a);
/* Sends n frames (n x lanes, interleaved) through every stage; eoi flushes. */
int au_send(nm_audio *a, const float *frames, long n, int eoi);

/* audio_feed.c */
/* The rest of the input, the reflected tail, and the end of every stage. */
int au_flush_input(nm_audio *a);

/* audio_spool.c */
/* Opens the spool beside `base` (unlinked at once); on failure writes the
** reason (naming `path`) into why and returns the status. */
int au_spool_open(nm_audio *a, const char *path, const char *base, size_t len, nm_error *err);
/* Spools the final frames all groups have, up to `limit` frames in all. */
int au_drain(nm_audio *a, long limit);
/* Pads the spool with silence up to n_frames (never expected). */
int au_spool_pad(nm_audio *a);
int au_spool_read(nm_audio *a, long f0, size_t n);

/* audio_limit.c */

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
} au_limiter;

int au_limiter_init(au_limiter *lm, size_t D, size_t C, double rel);
void au_limiter_free(au_limiter *lm);
/* Takes frame x (C values), gives the frame D - 1 earlier into y. */
void au_limiter_step(au_limiter *lm, const double *x, double *y);

/* audio_render.c */
/* n frames starting at frame f0, from lanes `in` (CHUNK x lanes at most) into
** channels `out`: gains or mapping, mixing, fades. */
void au_render_frames(nm_audio *a, const float *in, size_t n, long f0, double *out);
/* The fades of a file of `frames` frames (a->planned, fade_in, fade_out). */
void au_plan_fades(nm_audio *a, long frames);

/* audio_stream.c */
/* Opens the stream: checks the options it needs, writes the WAV header to
** standard output, plans the fades from o.expected. */
int au_stream_open(nm_audio *a, nm_error *err);
/* Renders, limits and writes n drained frames (lanes, CHUNK at most). */
int au_stream_frames(nm_audio *a, const float *in, size_t n);
/* The end of the input: the rest drained and written, the limiter emptied. */
int au_stream_finish(nm_audio *a, nm_audio_report *rep);
void au_stream_free(nm_audio *a);

/* audio_write.c */
/* Opens the temporary file a->out.tmp (`path` names it in messages); on
** failure writes the reason into why and returns the status. */
int au_file_open(nm_audio *a, const char *path, nm_error *err);
int au_write_frames(nm_audio *a, const double *y, size_t n, void *buf);
int au_choose_rf64(nm_audio *a);

#endif
