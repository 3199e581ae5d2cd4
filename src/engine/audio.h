/*
** audio.h: sonification, the public API of the audio writer (audio.c and the
** audio_*.c files it lists).  The streaming CSV reader that feeds it from a
** file is csvread.h (included here for the callers that use both).
**
** An nm_audio turns signals sampled on the simulation's grid into an audio
** file.  It is fed rows as they come (from a run's row sink, from a result in
** memory, from a CSV file), in any number of calls, and finished once:
**
**   nm_error err;  nm_audio *a = nm_audio_open(path, &opts, &err);
**   nm_audio_feed(a, rows, n_rows, stride, cols);      (any number of times)
**   nm_audio_finish(a, &report);                       (writes, renames)
**   nm_audio_free(a);                                  (removes an unfinished file)
**
** nm_audio_finish is nm_audio_render (the complete file under a temporary
** name) then nm_audio_commit (renamed into place): a caller with a sidecar
** renders, writes the sidecar to a temporary name, then commits both.  A run
** that fails keeps what was fed with nm_audio_finish_partial.
**
** Any finite signal is sonified whatever its magnitude (1e-300 or 1e300):
** each signal is scaled by a power of two chosen from its first values
** before anything is single precision.  A signal whose range exceeds what
** that allows (growing 1.5e51 times beyond its start) is refused by
** nm_audio_feed with its name and values.
**
** Memory stays bounded whatever the length (see audio.c); a writer whose
** working memory would exceed NM_AUDIO_MEMORY_LIMIT is refused at open.
** WAV files are WAVE_FORMAT_EXTENSIBLE with a channel mask when they have
** more than 2 channels or more than 16 bits, and RF64 when the data would
** exceed 4 GiB (rf64_above).
*/
#ifndef nm_audio_h
#define nm_audio_h

#include <stddef.h>

#include "csvread.h"
#include "nm.h"

enum nm_audio_container { NM_AUDIO_WAV, NM_AUDIO_FLAC, NM_AUDIO_OGG };
enum nm_audio_encoding { NM_AUDIO_PCM16, NM_AUDIO_PCM24, NM_AUDIO_FLOAT };
enum nm_audio_mode {
  NM_AUDIO_AUDIFY,        /* the signal itself, played `speedup` times faster */
  NM_AUDIO_MAPPING        /* the signal drives the amplitude and/or pitch of a carrier */
};
enum nm_audio_norm {
  NM_NORM_PEAK,           /* every signal to the same peak, then the file to -headroom dBFS */
  NM_NORM_RMS,            /* every signal to the same RMS, then the file to -headroom dBFS */
  NM_NORM_RELATIVE,       /* one gain for all: relative amplitudes kept; file to -headroom */
  NM_NORM_NONE            /* sample = value * gain (1.0 is full scale) */
};
/* libsamplerate's band-limited sinc converters (97, 121, 144 dB SNR). */
enum nm_audio_quality { NM_AUDIO_FAST, NM_AUDIO_MEDIUM, NM_AUDIO_BEST };
enum { NM_DRIVE_AMPLITUDE = 1, NM_DRIVE_PITCH = 2 };

/* Input signal `in` goes to output channel `out` with weight `gain`. */
typedef struct {
  size_t out, in;
  double gain;
} nm_audio_route;

typedef struct {
  int container, encoding, mode, normalize, quality;
  int rate;                 /* audio sample rate (Hz) */
  double in_rate;           /* input samples per second of simulated time */
  double speedup;           /* k: one second of audio plays k seconds of simulation */
  size_t n_in, n_out;       /* input signals, output channels */
  const nm_audio_route *routes;
  size_t n_routes;
  long skip;                /* input samples dropped at the start (a transient) */
  int dc;                   /* audification: remove each signal's mean */
  double highpass;          /* audification: 2nd-order Butterworth high-pass, Hz of audio (0: off) */
  double headroom;          /* dB below full scale for the normalised peak */
  double gain;              /* NM_NORM_NONE: the only gain */
  double fade_in, fade_out; /* raised-cosine fades, s of audio, inside the length */
  /* parameter mapping */
  int drive;                /* NM_DRIVE_* bits */
  const double *carrier;    /* n_in carrier frequencies (Hz) when the pitch is not driven */
  double pitch_lo, pitch_hi;/* the driven pitch sweeps lo .. hi (Hz), exponentially */
  double envelope;          /* > 0: drive with the signal's envelope band-limited to this
                               many Hz of simulated time; 0: with the signal itself */
  double expected;          /* input rows the caller will feed (before the skip); 0: unknown.
                               Known, the length and disk space are checked at open. */
  double rf64_above;        /* WAV: bytes of audio data above which the file is RF64
                               (0: NM_AUDIO_RF64_ABOVE) */
  int stream;               /* write the file as the input comes (audio_stream.c): a WAV to
                               standard output ("-"), the header first with its sizes
                               unknown, then the frames as they are resampled.  The
                               levels must be known in advance: audification, normalize
                               = NM_NORM_NONE, dc = 0, a known `expected`, PCM or float
                               WAV; peaks above full scale go through the limiter. */
  const char *const *names; /* n_in signal names for messages (copied; NULL: "signal i") */
  volatile sig_atomic_t *interrupt;  /* set non-zero (by a signal handler): feeding and
                               rendering stop between chunks with NM_EINTR */
} nm_audio_opts;

/* WAV's 32-bit sizes: data beyond this many bytes needs RF64. */
#define NM_AUDIO_RF64_ABOVE (4294967295.0 - 65536.0)
/* The most working memory (bytes) one writer may take. */
#define NM_AUDIO_MEMORY_LIMIT (2.0 * 1024 * 1024 * 1024)

typedef struct {
  size_t frames;            /* audio frames written */
  long samples_in;          /* input samples used (after the skip) */
  double ratio;             /* audio frames per input sample */
  int stages;               /* resampling stages: a decimating FIR (ratio <= 1/4), then
                               libsamplerate (in stages beyond 1:128 or 128:1) */
  int decimation;           /* the FIR's decimation factor (1: no FIR) */
  double gain;              /* the file-wide gain */
  double peak;              /* largest |sample| of the mix before the file-wide gain */
  double limited_db;        /* largest gain reduction by the limiter (dB; 0: untouched) */
  size_t silent;            /* input signals with no variation (given gain 0) */
  size_t filtered;          /* audified signals that lost more than 99 % of their variance
                               to the resampler: above the audio band once sped up */
  long fade_in, fade_out;   /* the fades applied, frames (shorter than asked when the file
                               cannot hold both: they share it in proportion) */
} nm_audio_report;

typedef struct nm_audio nm_audio;

/* Opens "<path>.tmp-<pid>.<host>" for writing (atomic_file.c); on failure returns
** NULL, and *err (may be NULL) holds the status and the reason. */
nm_audio *nm_audio_open(const char *path, const nm_audio_opts *o, nm_error *err);
/* NM_OK if a writer with these options fits in NM_AUDIO_MEMORY_LIMIT; else
** NM_EINVAL, and *err holds the size it would need and what to change.  Only the
** counts and rates are read (n_in, n_out, n_routes, mode, normalize, rate,
** in_rate, speedup; routes may be NULL), so that a caller can ask before
** building the routes of a huge selection.  nm_audio_open checks it too. */
int nm_audio_check_memory(const nm_audio_opts *o, nm_error *err);
/* Row r's input signal i is rows[r * stride + cols[i]]. */
int nm_audio_feed(nm_audio *a, const double *rows, size_t n_rows, size_t stride,
                  const size_t *cols);
/* Resamples the rest, normalises, writes and renames the file to its final name. */
int nm_audio_finish(nm_audio *a, nm_audio_report *report);
/* As nm_audio_finish, but leaves the complete file under its temporary name
** (nm_audio_temp_path) until nm_audio_commit. */
int nm_audio_render(nm_audio *a, nm_audio_report *report);
/* Renames the rendered file to `path` (NULL: the path given at open). */
int nm_audio_commit(nm_audio *a, const char *path);
const char *nm_audio_temp_path(const nm_audio *a);
/* After a failed run: renders what was fed so far (a playable file of the
** complete frames) under `partial_path` instead of the final name. */
int nm_audio_finish_partial(nm_audio *a, const char *partial_path, nm_audio_report *report);
/* The file's container as written: "wav", "wavex", "rf64", "flac", "ogg". */
const char *nm_audio_container(const nm_audio *a);
/* The gain applied to input signal i before mixing (after nm_audio_finish). */
double nm_audio_input_gain(const nm_audio *a, size_t i);
/* Why the last call failed ("" when it did not). */
const char *nm_audio_error(const nm_audio *a);
/* Frees; an unfinished file is removed. */
void nm_audio_free(nm_audio *a);


#endif
