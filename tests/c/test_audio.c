/*
** test_audio.c: the sonification engine, measured on the files it writes
** (read back with libsndfile): band-limited resampling (a 3 kHz tone above
** the audio band does not fold back), exact lengths, the limiter's bound,
** chunked feeding, extreme ratios, and the failure paths (nothing is left
** under the final name).
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include "engine/audio.h"
#include "test_main.h"

static char dir[64];


static int exists(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0;
}


static nm_audio_opts defaults(double in_rate, double speedup, size_t n_in)
{
  nm_audio_opts o;
  memset(&o, 0, sizeof o);
  o.container = NM_AUDIO_WAV;
  o.encoding = NM_AUDIO_FLOAT;
  o.mode = NM_AUDIO_AUDIFY;
  o.normalize = NM_NORM_PEAK;
  o.quality = NM_AUDIO_MEDIUM;
  o.rate = 44100;
  o.in_rate = in_rate;
  o.speedup = speedup;
  o.n_in = n_in;
  o.n_out = 1;
  o.dc = 1;
  o.headroom = 1;
  o.gain = 1;
  return o;
}


/* One signal into one channel through *route. */
static nm_audio_opts one_signal(double in_rate, double speedup, nm_audio_route *route)
{
  nm_audio_opts o = defaults(in_rate, speedup, 1);
  *route = (nm_audio_route){ 0, 0, 1.0 };
  o.routes = route;
  o.n_routes = 1;
  return o;
}


/* Feeds f(t, i) for n rows (t in s of simulated time), in chunks of `chunk` rows. */
static int sonify(const char *path, nm_audio_opts *o, long n, size_t chunk,
                  double (*f)(double t, size_t i), nm_audio_report *rep)
{
  nm_error err;
  nm_audio *a = nm_audio_open(path, o, &err);
  if (!a) return err.status;
  size_t cols = 1 + o->n_in;
  double *rows = malloc(chunk * cols * sizeof *rows);
  size_t *idx = malloc(o->n_in * sizeof *idx);
  for (size_t i = 0; i < o->n_in; i++) idx[i] = i + 1;
  int rc = NM_OK;
  for (long r0 = 0; r0 < n && rc == NM_OK; r0 += (long)chunk) {
    size_t m = (size_t)(n - r0 < (long)chunk ? n - r0 : (long)chunk);
    for (size_t r = 0; r < m; r++) {
      double t = (double)(r0 + (long)r + 1) / o->in_rate;
      rows[r * cols] = t * 1000;
      for (size_t i = 0; i < o->n_in; i++) rows[r * cols + 1 + i] = f(t, i);
    }
    rc = nm_audio_feed(a, rows, m, cols, idx);
  }
  if (rc == NM_OK) rc = nm_audio_finish(a, rep);
  nm_audio_free(a);
  free(rows);
  free(idx);
  return rc;
}


static float *read_back(const char *path, SF_INFO *info)
{
  memset(info, 0, sizeof *info);
  SNDFILE *sf = sf_open(path, SFM_READ, info);
  if (!sf) return NULL;
  float *x = malloc((size_t)info->frames * (size_t)info->channels * sizeof *x);
  sf_readf_float(sf, x, info->frames);
  sf_close(sf);
  return x;
}


/* |DFT| of channel c at bin k (rectangular window). */
static double dft_mag(const float *x, long n, int channels, int c, long k)
{
  double re = 0, im = 0;
  for (long i = 0; i < n; i++) {
    double w = 2 * M_PI * (double)k * (double)i / (double)n;
    re += x[i * channels + c] * cos(w);
    im -= x[i * channels + c] * sin(w);
  }
  return hypot(re, im);
}


static double two_tones(double t, size_t i)
{
  (void)i;
  return sin(2 * M_PI * 10 * t) + sin(2 * M_PI * 3000 * t);
}


static void test_alias_rejection(void)
{
  /* dt = 0.01 ms, 10 s, k = 100, 44.1 kHz: 10 Hz -> 1 kHz; plain decimation
  ** would fold 3 kHz (300 kHz in audio) to 8.7 kHz. */
  char path[128];
  snprintf(path, sizeof path, "%s/tones.wav", dir);
  nm_audio_opts o = defaults(100000, 100, 1);
  nm_audio_route route = { 0, 0, 1.0 };
  o.routes = &route;
  o.n_routes = 1;
  o.normalize = NM_NORM_NONE;
  o.gain = 0.5;                                  /* clear of the limiter: the resampler alone */
  nm_audio_report rep;
  int rc = sonify(path, &o, 1000000, 4096, two_tones, &rep);
  CHECK(rc == NM_OK, "audio: 10 Hz + 3 kHz at k = 100 writes");
  SF_INFO info;
  float *x = read_back(path, &info);
  CHECK(x && info.frames == 4410, "audio: 10 s at k = 100 gives 0.1 s = 4410 frames (%ld)",
        (long)info.frames);
  if (!x) return;
  long n = info.frames;
  double peak = dft_mag(x, n, 1, 0, 100), worst = 0;
  long worst_k = 0;
  for (long k = 0; k <= n / 2; k++) {
    if (k >= 99 && k <= 101) continue;              /* 1 kHz +- 1 % (10 Hz bins) */
    double m = dft_mag(x, n, 1, 0, k);
    if (m > worst) { worst = m; worst_k = k; }
  }
  double db = 20 * log10(worst / peak);
  CHECK(db <= -60, "audio: outside 1 kHz +- 1 %% everything is %.1f dB below the peak "
        "(worst at %ld Hz)", db, worst_k * 10);
  CHECK(fabs(dft_mag(x, n, 1, 0, 100) / (n / 4.0) - 1) < 1e-3,
        "audio: the 1 kHz tone keeps unit amplitude (%.5f)", dft_mag(x, n, 1, 0, 100) / (n / 4.0));
  free(x);
  remove(path);
}


static double loud(double t, size_t i)
{
  (void)i;
  return 3.5 * sin(2 * M_PI * 10 * t) * (1 + 0.5 * sin(2 * M_PI * 0.7 * t));
}


static void test_limiter(void)
{
  char path[128];
  snprintf(path, sizeof path, "%s/loud.wav", dir);
  nm_audio_opts o = defaults(10000, 40, 1);
  nm_audio_route route = { 0, 0, 1.0 };
  o.routes = &route;
  o.n_routes = 1;
  o.normalize = NM_NORM_NONE;
  o.gain = 1;
  nm_audio_report rep;
  int rc = sonify(path, &o, 40000, 1000, loud, &rep);
  SF_INFO info;
  float *x = read_back(path, &info);
  CHECK(rc == NM_OK && x, "audio: a signal 5 times full scale writes");
  if (!x) return;
  double m = 0;
  for (long i = 0; i < info.frames; i++) if (fabs(x[i]) > m) m = fabs(x[i]);
  CHECK(m <= 1.0, "audio: the limiter keeps every sample within full scale (max %.6f)", m);
  CHECK(rep.limited_db > 10, "audio: the limiter reports its gain reduction (%.1f dB)", rep.limited_db);
  CHECK(info.frames == 4410, "audio: limiting keeps the length (%ld)", (long)info.frames);
  free(x);
  remove(path);
}


static double ramp_sine(double t, size_t i)
{
  return (1 + (double)i) * sin(2 * M_PI * (5 + 3 * (double)i) * t);
}


/* Same input fed in chunks of 1 row and of 4096 rows: the same file. */
static void test_chunking(void)
{
  char p1[128], p2[128];
  snprintf(p1, sizeof p1, "%s/c1.wav", dir);
  snprintf(p2, sizeof p2, "%s/c2.wav", dir);
  nm_audio_opts o = defaults(2000, 20, 3);
  nm_audio_route routes[3] = { { 0, 0, 1 }, { 1, 1, 1 }, { 2, 2, 1 } };
  o.routes = routes;
  o.n_routes = 3;
  o.n_out = 3;
  nm_audio_report r1, r2;
  int rc1 = sonify(p1, &o, 20000, 1, ramp_sine, &r1);
  int rc2 = sonify(p2, &o, 20000, 4096, ramp_sine, &r2);
  SF_INFO i1, i2;
  float *x1 = read_back(p1, &i1), *x2 = read_back(p2, &i2);
  CHECK(rc1 == NM_OK && rc2 == NM_OK && x1 && x2 && i1.frames == i2.frames &&
        i1.channels == 3 && i1.frames == 22050,
        "audio: fed row by row or in chunks, the same length and channels");
  if (x1 && x2) {
    int same = 1;
    for (long i = 0; i < i1.frames * 3; i++) same &= x1[i] == x2[i];
    CHECK(same, "audio: fed row by row or in chunks, the same samples");
  }
  free(x1);
  free(x2);
  remove(p1);
  remove(p2);
}


static double slow(double t, size_t i)
{
  (void)i;
  return sin(2 * M_PI * 2 * t);
}


/* Ratios beyond libsamplerate's 1:256 are taken in stages. */
static void test_extreme_ratio(void)
{
  char path[128];
  snprintf(path, sizeof path, "%s/extreme.wav", dir);
  nm_audio_opts o = defaults(1e6, 1000, 1);        /* 1 MHz input, 44.1 Hz of simulated time */
  nm_audio_route route = { 0, 0, 1.0 };
  o.routes = &route;
  o.n_routes = 1;
  o.quality = NM_AUDIO_FAST;
  nm_audio_report rep;
  int rc = sonify(path, &o, 2000000, 8192, slow, &rep);
  SF_INFO info;
  float *x = read_back(path, &info);
  CHECK(rc == NM_OK && x && rep.stages == 3 && info.frames == 88,
        "audio: ratio 1:22676 runs in %d stages, %ld frames", rep.stages, (long)info.frames);
  free(x);
  remove(path);
  o = defaults(100, 1, 1);                          /* 100 Hz control to 44.1 kHz: 441:1 */
  o.routes = &route;
  o.n_routes = 1;
  rc = sonify(path, &o, 300, 64, slow, &rep);
  x = read_back(path, &info);
  CHECK(rc == NM_OK && x && rep.stages == 2 && info.frames == 132300,
        "audio: ratio 441:1 runs in %d stages, %ld frames", rep.stages, (long)info.frames);
  if (x) {
    /* 2 Hz at 44.1 kHz: frame j is at (j + 1 / ratio) s... compare with the sine */
    double err = 0;
    for (long j = 4410; j < info.frames - 4410; j++) {
      double t = (double)j / 44100 + 0.01;
      double e = fabs(x[j] / pow(10, -1 / 20.0) - sin(2 * M_PI * 2 * t));
      if (e > err) err = e;
    }
    CHECK(err < 2e-3, "audio: upsampled 441:1, the sine is reproduced (max error %.2g)", err);
  }
  free(x);
  remove(path);
}


static void test_failures(void)
{
  char path[160];
  snprintf(path, sizeof path, "%s/no-such-dir/x.wav", dir);
  nm_audio_opts o = defaults(1000, 40, 1);
  nm_audio_route route = { 0, 0, 1.0 };
  o.routes = &route;
  o.n_routes = 1;
  nm_error err;
  nm_audio *a = nm_audio_open(path, &o, &err);
  CHECK(!a && err.status == NM_EIO && strstr(err.why, "cannot write"), "audio: unwritable path: %s", err.why);
  o.speedup = -1;
  snprintf(path, sizeof path, "%s/bad.wav", dir);
  a = nm_audio_open(path, &o, &err);
  CHECK(!a && err.status == NM_EINVAL, "audio: a negative speed-up is refused");
  o.speedup = 40;
  o.container = NM_AUDIO_FLAC;
  o.encoding = NM_AUDIO_FLOAT;
  a = nm_audio_open(path, &o, &err);
  CHECK(!a && err.status == NM_EINVAL && !exists(path), "audio: float FLAC is refused: %s", err.why);
  o.container = NM_AUDIO_WAV;
  a = nm_audio_open(path, &o, &err);
  nm_audio_report rep;
  int rc = a ? nm_audio_finish(a, &rep) : -99;
  CHECK(rc == NM_EINVAL && strstr(nm_audio_error(a), "no samples"),
        "audio: nothing fed: %s", a ? nm_audio_error(a) : "");
  nm_audio_free(a);
  CHECK(!exists(path), "audio: a failed file leaves nothing under its name");
  a = nm_audio_open(path, &o, &err);
  double row[2] = { 1, 0.5 };
  size_t col = 1;
  nm_audio_feed(a, row, 1, 2, &col);
  nm_audio_free(a);                                  /* abandoned */
  CHECK(!exists(path), "audio: an abandoned file leaves nothing under its name");
  a = nm_audio_open(path, &o, &err);
  row[1] = NAN;
  int rc2 = nm_audio_feed(a, row, 1, 2, &col);
  CHECK(rc2 == NM_EINVAL && strstr(nm_audio_error(a), "NaN"), "audio: a NaN in the input: %s",
        nm_audio_error(a));
  nm_audio_free(a);
  CHECK(!exists(path), "audio: ... and leaves nothing under its name");
}

/* A set `interrupt` flag stops the render between chunks: NM_EINTR, and
** nothing under the final name or the temporary one once freed. */
static void test_interrupt(void)
{
  char path[160];
  snprintf(path, sizeof path, "%s/stopped.wav", dir);
  nm_audio_route route;
  nm_audio_opts o = one_signal(1000, 1, &route);
  volatile sig_atomic_t stop = 0;
  o.interrupt = &stop;
  nm_error err;
  nm_audio *a = nm_audio_open(path, &o, &err);
  size_t col = 1;
  for (long r = 0; a && r < 20000; r++) {
    double row[2] = { r / 1000.0, sin(r * 0.05) };
    nm_audio_feed(a, row, 1, 2, &col);
  }
  stop = 2;
  nm_audio_report rep;
  int rc = a ? nm_audio_finish(a, &rep) : -99;
  char tmp[200];
  snprintf(tmp, sizeof tmp, "%s", a ? nm_audio_temp_path(a) : "");
  CHECK(rc == NM_EINTR && strstr(nm_audio_error(a), "interrupted"),
        "audio: a set interrupt flag stops the render with NM_EINTR: %s", a ? nm_audio_error(a) : "");
  nm_audio_free(a);
  CHECK(!exists(path) && !exists(tmp), "audio: ... leaving no file, final or temporary");
}


/* The file's bytes [0, n). */
static size_t head_bytes(const char *path, unsigned char *buf, size_t n)
{
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t got = fread(buf, 1, n, f);
  fclose(f);
  return got;
}


/* The 'fmt ' chunk of a RIFF/RF64 file: format tag, and for
** WAVE_FORMAT_EXTENSIBLE the channel mask and the sub-format GUID's first
** bytes (1: PCM, 3: IEEE float). */
static int wav_fmt(const char *path, char magic[5], unsigned *tag, unsigned *mask, unsigned *sub)
{
  unsigned char b[512];
  size_t n = head_bytes(path, b, sizeof b);
  if (n < 12) return 0;
  memcpy(magic, b, 4);
  magic[4] = '\0';
  for (size_t i = 12; i + 8 <= n;) {
    unsigned len = b[i + 4] | b[i + 5] << 8 | b[i + 6] << 16 | (unsigned)b[i + 7] << 24;
    if (memcmp(b + i, "fmt ", 4) == 0 && i + 8 + 16 <= n) {
      const unsigned char *f = b + i + 8;
      *tag = f[0] | f[1] << 8;
      *mask = *sub = 0;
      if (*tag == 0xFFFE && i + 8 + 40 <= n) {
        *mask = f[20] | f[21] << 8 | f[22] << 16 | (unsigned)f[23] << 24;
        static const unsigned char guid_tail[14] = { 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00,
                                                     0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71 };
        *sub = memcmp(f + 26, guid_tail, 14) == 0 ? (unsigned)(f[24] | f[25] << 8) : 0xFFFF;
      }
      return 1;
    }
    i += 8 + len + (len & 1);
  }
  return 0;
}


static double tone(double t, size_t i)
{
  return sin(2 * M_PI * (3 + (double)i) * t);
}


/* Header bytes: WAVE_FORMAT_EXTENSIBLE with a channel mask for more than 2
** channels or more than 16 bits; RF64 beyond the size threshold. */
static void test_containers(void)
{
  char path[160], magic[5];
  unsigned tag = 0, mask = 0, sub = 0;
  nm_audio_route routes[3] = { { 0, 0, 1 }, { 1, 1, 1 }, { 2, 2, 1 } };
  nm_audio_report rep;
  snprintf(path, sizeof path, "%s/fmt.wav", dir);

  nm_audio_opts o = defaults(1000, 10, 2);
  o.encoding = NM_AUDIO_PCM16;
  o.routes = routes;
  o.n_routes = 2;
  o.n_out = 2;
  int rc = sonify(path, &o, 4000, 512, tone, &rep);
  CHECK(rc == NM_OK && wav_fmt(path, magic, &tag, &mask, &sub) && strcmp(magic, "RIFF") == 0 &&
        tag == 1, "audio: 16-bit stereo WAV is plain PCM (RIFF, tag %u)", tag);

  o.n_in = 3;
  o.n_routes = 3;
  o.n_out = 3;
  rc = sonify(path, &o, 4000, 512, tone, &rep);
  CHECK(rc == NM_OK && wav_fmt(path, magic, &tag, &mask, &sub) && strcmp(magic, "RIFF") == 0 &&
        tag == 0xFFFE && sub == 1 && mask == 0x7,
        "audio: 3 channels: WAVE_FORMAT_EXTENSIBLE, PCM GUID, mask 0x7 (tag 0x%x, sub %u, mask 0x%x)",
        tag, sub, mask);

  o = defaults(1000, 10, 1);
  o.routes = routes;
  o.n_routes = 1;
  o.encoding = NM_AUDIO_PCM24;
  rc = sonify(path, &o, 4000, 512, tone, &rep);
  CHECK(rc == NM_OK && wav_fmt(path, magic, &tag, &mask, &sub) && tag == 0xFFFE && sub == 1 &&
        mask == 0x4, "audio: 24-bit mono: WAVE_FORMAT_EXTENSIBLE, front centre (mask 0x%x)", mask);
  o.encoding = NM_AUDIO_FLOAT;
  rc = sonify(path, &o, 4000, 512, tone, &rep);
  CHECK(rc == NM_OK && wav_fmt(path, magic, &tag, &mask, &sub) && tag == 0xFFFE && sub == 3,
        "audio: float: WAVE_FORMAT_EXTENSIBLE with the IEEE float GUID (sub %u)", sub);

  /* 6 node channels: no low-frequency (0x8) position among them */
  nm_audio_route six[6];
  for (size_t c = 0; c < 6; c++) six[c] = (nm_audio_route){ c, c, 1 };
  o = defaults(1000, 10, 6);
  o.routes = six;
  o.n_routes = 6;
  o.n_out = 6;
  rc = sonify(path, &o, 4000, 512, tone, &rep);
  CHECK(rc == NM_OK && wav_fmt(path, magic, &tag, &mask, &sub) && tag == 0xFFFE && !(mask & 0x8) &&
        __builtin_popcount(mask) == 6, "audio: 6 node channels: 6 speaker bits, none LFE (mask 0x%x)", mask);

  /* RF64 once the data would exceed the threshold (4 GiB by default) */
  o = defaults(1000, 10, 1);
  o.routes = routes;
  o.n_routes = 1;
  o.encoding = NM_AUDIO_PCM16;
  o.rf64_above = 1000;
  rc = sonify(path, &o, 4000, 512, tone, &rep);
  SF_INFO info;
  float *x = read_back(path, &info);
  CHECK(rc == NM_OK && wav_fmt(path, magic, &tag, &mask, &sub) && strcmp(magic, "RF64") == 0 &&
        x && info.frames == 17640 && (info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_RF64,
        "audio: beyond the threshold the file is RF64 (magic %s, %ld frames read back)", magic,
        (long)info.frames);
  free(x);
  o.rf64_above = 1e9;
  rc = sonify(path, &o, 4000, 512, tone, &rep);
  CHECK(rc == NM_OK && wav_fmt(path, magic, &tag, &mask, &sub) && strcmp(magic, "RIFF") == 0,
        "audio: below it, RIFF (magic %s)", magic);
  remove(path);
}


/* Sizes that cannot be represented or held are refused at open, with the size. */
static void test_bounds(void)
{
  char path[160];
  nm_error err;
  snprintf(path, sizeof path, "%s/big.wav", dir);
  nm_audio_route route = { 0, 0, 1.0 };
  nm_audio_opts o = defaults(1000, 40, 1000000);      /* a million signals, each resampled */
  o.routes = &route;
  o.n_routes = 1;
  nm_audio *a = nm_audio_open(path, &o, &err);
  CHECK(!a && err.status == NM_EINVAL && strstr(err.why, "1000000 signals") && strstr(err.why, "GB of working memory"),
        "audio: a million resampled signals are refused with the memory they need: %s", err.why);
  /* The same rule asked from the counts alone, before any route exists. */
  o.routes = NULL;
  o.n_routes = 2000000;
  o.n_out = 2;
  CHECK(nm_audio_check_memory(&o, &err) == NM_EINVAL && strstr(err.why, "1000000 signals into 2 channels") &&
        strstr(err.why, "GB of working memory"),
        "audio: nm_audio_check_memory refuses them from the counts, with the size: %s", err.why);
  o.normalize = NM_NORM_RELATIVE;                      /* mixed first: two lanes */
  CHECK(nm_audio_check_memory(&o, &err) == NM_OK,
        "audio: nm_audio_check_memory takes a million signals mixed before resampling");
  /* libsamplerate's own buffer, sized for its largest ratio (256) and cleared
  ** at creation, counts: 0.44 MB a signal for "best" (8000 signals: 3.5 GB
  ** more), 0.06 MB for "fast".  Before, the estimate left it out (1.2 GB for
  ** both), and "best" went past the limit unrefused. */
  o = defaults(1000, 40, 8000);
  o.n_routes = 16000;
  o.n_out = 2;
  o.quality = NM_AUDIO_BEST;
  nm_error_clear(&err);
  CHECK(nm_audio_check_memory(&o, &err) == NM_EINVAL && strstr(err.why, "8000 signals into 2 channels"),
        "audio: 8000 signals resampled at quality best are refused for libsamplerate's buffers: %s",
        err.why);
  o.quality = NM_AUDIO_FAST;
  nm_error_clear(&err);
  CHECK(nm_audio_check_memory(&o, &err) == NM_OK, "audio: at quality fast they fit%s", err.why);
  o = one_signal(1000, 40, &route);
  o.expected = 1e18;
  o.speedup = 1e-6;                                    /* 44100 audio frames per input sample */
  a = nm_audio_open(path, &o, &err);
  CHECK(!a && err.status == NM_EINVAL && strstr(err.why, "more than can be represented"),
        "audio: more frames than can be represented are refused: %s", err.why);
  o.expected = 1e12;
  o.speedup = 40;                                      /* 1.1e12 frames: 4.4 TB */
  a = nm_audio_open(path, &o, &err);
  CHECK(!a && err.status == NM_EINVAL && strstr(err.why, "GB free"),
        "audio: a file that cannot fit on the disk is refused: %s", err.why);
  CHECK(!exists(path), "audio: ... before anything is written");
  o = one_signal(1000, 40, &route);
  nm_audio_route nan_route = { 0, 0, NAN };
  o.routes = &nan_route;
  a = nm_audio_open(path, &o, &err);
  CHECK(!a && err.status == NM_EINVAL && strstr(err.why, "weight nan"), "audio: a NaN weight is named: %s", err.why);
  o.routes = &route;
  o.fade_in = INFINITY;
  a = nm_audio_open(path, &o, &err);
  CHECK(!a && strstr(err.why, "fade_in = inf"), "audio: an infinite fade is named: %s", err.why);
}


/* Fades of any finite length, a vanishing high-pass: no overflow (UBSan
** checks the conversions), the right length. */
static void test_huge_fades(void)
{
  char path[160];
  snprintf(path, sizeof path, "%s/fade.wav", dir);
  nm_audio_route route;
  nm_audio_opts o = one_signal(1000, 10, &route);
  nm_audio_report rep;
  double fades[][2] = { { 1e300, 1e300 }, { 1e300, 0.01 }, { 0, 1e308 } };
  for (size_t k = 0; k < 3; k++) {
    o.fade_in = fades[k][0];
    o.fade_out = fades[k][1];
    int rc = sonify(path, &o, 4000, 512, tone, &rep);
    SF_INFO info;
    float *x = read_back(path, &info);
    int finite = x != NULL;
    for (long i = 0; x && i < info.frames; i++) finite &= isfinite(x[i]);
    CHECK(rc == NM_OK && x && info.frames == 17640 && finite,
          "audio: fade = { %g, %g } s: a whole, finite file", fades[k][0], fades[k][1]);
    free(x);
  }
  o.fade_in = o.fade_out = 0;
  o.highpass = 1e-300;
  int rc = sonify(path, &o, 4000, 512, tone, &rep);
  CHECK(rc == NM_OK, "audio: highpass = 1e-300 Hz: no overflow of its settling wait");
  remove(path);
}


/* render leaves the file under its temporary name; commit renames it; a
** partial keeps what was fed under the name given. */
static void test_render_commit_partial(void)
{
  char path[160], part[160];
  snprintf(path, sizeof path, "%s/rc.wav", dir);
  snprintf(part, sizeof part, "%s/rc.partial.wav", dir);
  nm_audio_route route;
  nm_audio_opts o = one_signal(1000, 10, &route);
  nm_error err;
  nm_audio *a = nm_audio_open(path, &o, &err);
  double rows[2 * 2000];
  size_t col = 1;
  for (int r = 0; r < 2000; r++) { rows[2 * r] = r; rows[2 * r + 1] = tone(r / 1000.0, 0); }
  nm_audio_feed(a, rows, 2000, 2, &col);
  nm_audio_report rep;
  int rc = nm_audio_render(a, &rep);
  CHECK(rc == NM_OK && !exists(path) && exists(nm_audio_temp_path(a)),
        "audio: rendered, the file is complete under its temporary name only");
  rc = nm_audio_commit(a, NULL);
  CHECK(rc == NM_OK && exists(path), "audio: committed, it is in place");
  nm_audio_free(a);
  remove(path);

  a = nm_audio_open(path, &o, &err);
  nm_audio_feed(a, rows, 1000, 2, &col);                  /* a run that stopped halfway */
  rc = nm_audio_finish_partial(a, part, &rep);
  nm_audio_free(a);
  SF_INFO info;
  float *x = read_back(part, &info);
  CHECK(rc == NM_OK && !exists(path) && x && info.frames == 4410 && rep.samples_in == 1000,
        "audio: a partial file keeps the frames of what was fed (%ld frames), playable, not under "
        "the final name", x ? (long)info.frames : -1L);
  free(x);
  remove(part);
}


/* The CSV reader: real line numbers (the header is line 1), the time grid. */
static void test_csv_reader(void)
{
  char path[160];
  snprintf(path, sizeof path, "%s/r.csv", dir);
  struct { const char *text; long line; const char *says; } cases[] = {
    { "t,x.0\n0,1\n0.1,zz\n0.2,3\n", 3, "'zz'" },
    { "t,x.0\n0,1\n0.1,2\n0.05,3\n0.3,4\n", 4, "time goes back" },
    { "t,x.0\n0,1\n0.1,2\n\n0.2,3\n0.35,4\n", 6, "0.35 follows 0.2" },
    /* a row longer or shorter than the header is refused as such (no cell is named) */
    { "t,x.0\n0,1\n0.1,2\n0.2,3,4\n", 4, "line 4 has 3 values, the header 2" },
    { "t,x.0,y.0\n0,1,1\n0.1,2\n", 3, "line 3 has 2 values, the header 3" },
    { "t,x.0\n0,1\n0.1\n", 3, "line 3 has 1 value, the header 2" },
    { "t,x.0\n0,1\n0.1,2x\n", 3, "column 2 (x.0) is '2x': expected a number" },
    { "t,x.0\n0,1\n0.1,\n", 3, "column 2 (x.0) is '': expected a number" },
    { "t,x.0\n0,1\n0.1,2\n0.2,3\n0.3,4\n", 0, NULL },
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    FILE *f = fopen(path, "w");
    fputs(cases[k].text, f);
    fclose(f);
    nm_csv_reader *r = nm_csv_reader_open(path, NULL);
    nm_csv_reader_grid(r, 0.1);
    double rows[20];
    size_t got;
    int rc = nm_csv_reader_rows(r, rows, 10, &got);
    char expect[32];
    snprintf(expect, sizeof expect, "line %ld", cases[k].line);
    if (cases[k].says)
      CHECK(rc == NM_EINVAL && strstr(nm_csv_reader_error(r), expect) &&
            strstr(nm_csv_reader_error(r), cases[k].says),
            "csv reader: case %zu refused at line %ld: %s", k, cases[k].line, nm_csv_reader_error(r));
    else
      CHECK(rc == NM_OK && got == 4 && nm_csv_reader_row_line(r, 3) == 5,
            "csv reader: an even grid reads, row 4 is line 5");
    nm_csv_reader_close(r);
  }
  /* Counting rows: blank lines (also "\r") are none, a last line without a
  ** newline is one; the reader is back at the first row afterwards. */
  FILE *f = fopen(path, "w");
  fputs("t,x.0\r\n0,1\r\n\r\n0.1,2\n\n0.2,3", f);
  fclose(f);
  nm_csv_reader *r = nm_csv_reader_open(path, NULL);
  long n = -1;
  double rows[8];
  size_t got = 0;
  int rc = nm_csv_reader_count_rows(r, &n);
  int rc2 = nm_csv_reader_rows(r, rows, 4, &got);
  CHECK(rc == NM_OK && n == 3 && rc2 == NM_OK && got == 3 && rows[0] == 0 && rows[5] == 3,
        "csv reader: counts 3 rows (blank lines skipped, no final newline), then reads them all "
        "(%ld, %zu)", n, got);
  nm_csv_reader_close(r);
  /* A CSV saved by a spreadsheet or edited by hand: a byte-order mark (whose 't' read as
  ** "\xEF\xBB\xBFt", "not a neuromass CSV"), spaces and tabs around names and numbers ("2 "
  ** was "expected a number"), lines of spaces (a row of 1 value) are read as a plain CSV. */
  f = fopen(path, "w");
  fputs("\xEF\xBB\xBFt , x.0 \r\n0, 1 \r\n \t\r\n0.1 ,2\t\r\n0.2,3\n0.3,4\n  \n", f);
  fclose(f);
  r = nm_csv_reader_open(path, NULL);
  n = -1;
  got = 0;
  rc = nm_csv_reader_count_rows(r, &n);
  rc2 = nm_csv_reader_rows(r, rows, 8, &got);
  CHECK(r && strcmp(nm_csv_reader_name(r, 0), "t") == 0 && strcmp(nm_csv_reader_name(r, 1), "x.0") == 0,
        "csv reader: names without the byte-order mark and spaces ('%s', '%s')", nm_csv_reader_name(r, 0),
        nm_csv_reader_name(r, 1));
  CHECK(rc == NM_OK && n == 4 && rc2 == NM_OK && got == 4 && rows[1] == 1 && rows[3] == 2 && rows[7] == 4,
        "csv reader: spaces around numbers and lines of spaces: 4 rows (%ld, %zu: %s)", n, got,
        nm_csv_reader_error(r));
  nm_csv_reader_close(r);
  remove(path);
}


/* Any finite magnitude makes the same audio (issue 9: from 3e38 up a float
** overflow made a full-scale constant labelled silent). */
static double amplitude[2];
static double scaled_sine(double t, size_t i)
{
  return amplitude[i] * sin(2 * M_PI * (i ? 7 : 10) * t);
}

static double grows(double t, size_t i)
{
  (void)i;
  return exp(250 * t) * (1 + 0.5 * sin(2 * M_PI * 10 * t));     /* e^125 = 2e54 by 0.5 s */
}

static void test_magnitudes(void)
{
  char path[128];
  nm_audio_route route;
  nm_audio_report rep;
  SF_INFO ref_info, info;
  snprintf(path, sizeof path, "%s/mag.wav", dir);
  nm_audio_opts o = one_signal(1000, 40, &route);
  amplitude[0] = 1;
  int rc = sonify(path, &o, 4000, 1000, scaled_sine, &rep);
  float *ref = rc == NM_OK ? read_back(path, &ref_info) : NULL;
  CHECK(ref && rep.silent == 0, "audio: a sine of amplitude 1 writes");
  const double amps[] = { 1e-300, 1e-30, 1e30, 1e100, 1e300, 1.7e308 };
  for (size_t k = 0; ref && k < sizeof amps / sizeof amps[0]; k++) {
    amplitude[0] = amps[k];
    rc = sonify(path, &o, 4000, 1000, scaled_sine, &rep);
    float *x = rc == NM_OK ? read_back(path, &info) : NULL;
    double err = 0;
    for (sf_count_t f = 0; x && f < info.frames; f++) err = fmax(err, fabs(x[f] - ref[f]));
    CHECK(x && info.frames == ref_info.frames && err < 1e-6 && rep.silent == 0,
          "audio: amplitude %g gives the same normalised sine as amplitude 1 (max difference %.2g)",
          amps[k], err);
    free(x);
  }
  free(ref);
  /* relative amplitudes across magnitudes: two signals 1e300 and 1e-300 apart */
  nm_audio_route routes[2] = { { 0, 0, 0.5 }, { 1, 1, 0.5 } };
  o = defaults(1000, 40, 2);
  o.n_out = 2;
  o.routes = routes;
  o.n_routes = 2;
  for (int norm = 0; norm < 2; norm++) {
    o.normalize = norm ? NM_NORM_RELATIVE : NM_NORM_PEAK;
    amplitude[0] = 1e300;
    amplitude[1] = norm ? 1e-300 : 1e290;     /* peak: each to its own peak, however far apart */
    rc = sonify(path, &o, 4000, 1000, scaled_sine, &rep);
    float *x = rc == NM_OK ? read_back(path, &info) : NULL;
    double m0 = 0, m1 = 0;
    for (sf_count_t f = 0; x && f < info.frames; f++) {
      m0 = fmax(m0, fabs(x[2 * f]));
      m1 = fmax(m1, fabs(x[2 * f + 1]));
    }
    if (norm)
      CHECK(x && m0 > 0.8 && m1 == 0, "audio: relative, 1e300 and 1e-300: the loud one at %.3f, "
            "the other 600 orders below (%g)", m0, m1);
    else
      CHECK(x && fabs(m0 - m1) < 1e-3 && m0 > 0.8 && rep.silent == 0, "audio: peak, 1e300 and "
            "1e290 each to the same peak (%.4f, %.4f)", m0, m1);
    free(x);
  }
  /* a range beyond 1.5e51 is refused, naming the signal and its values */
  const char *names[] = { "x.3" };
  o = one_signal(1000, 40, &route);
  o.names = names;
  nm_error err;
  nm_audio *a = nm_audio_open(path, &o, &err);
  double rows[2 * 500];
  for (int r = 0; r < 500; r++) { rows[2 * r] = r + 1; rows[2 * r + 1] = grows((r + 1) / 1000.0, 0); }
  size_t col = 1;
  rc = a ? nm_audio_feed(a, rows, 500, 2, &col) : err.status;
  CHECK(rc == NM_EINVAL && strstr(nm_audio_error(a), "'x.3' went from 1.3") &&
        strstr(nm_audio_error(a), ", a change of 1.4") && strstr(nm_audio_error(a), "e+51 times its start"),
        "audio: a signal growing 1e54 times is refused with its name and values: %s",
        a ? nm_audio_error(a) : err.why);
  nm_audio_free(a);
  CHECK(!exists(path) || remove(path) == 0, "audio: (cleanup)");
}


int main(void)
{
  snprintf(dir, sizeof dir, "/tmp/nm-test-audio-%ld", (long)getpid());
  mkdir(dir, 0700);
  test_alias_rejection();
  test_limiter();
  test_chunking();
  test_extreme_ratio();
  test_failures();
  test_interrupt();
  test_containers();
  test_bounds();
  test_huge_fades();
  test_render_commit_partial();
  test_csv_reader();
  test_magnitudes();
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) return 1;
  return test_summary();
}
