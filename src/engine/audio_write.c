/*
** audio_write.c: the audio writer's file, through libsndfile: the format
** (WAV, WAVE_FORMAT_EXTENSIBLE with a channel mask, RF64, FLAC, Ogg Vorbis),
** PCM quantisation, and the temporary file renamed (or copied to standard
** output) once complete.
*/
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio_impl.h"

static int sf_format_of(const nm_audio_opts *o)
{
  if (o->container == NM_AUDIO_OGG) return SF_FORMAT_OGG | SF_FORMAT_VORBIS;
  int sub = o->encoding == NM_AUDIO_PCM24 ? SF_FORMAT_PCM_24
          : o->encoding == NM_AUDIO_FLOAT ? SF_FORMAT_FLOAT : SF_FORMAT_PCM_16;
  return (o->container == NM_AUDIO_FLAC ? SF_FORMAT_FLAC : SF_FORMAT_WAV) | sub;
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


int au_file_open(nm_audio *a, const char *path, nm_error *err)
{
  const nm_audio_opts *o = &a->o;
  SF_INFO info;
  memset(&info, 0, sizeof info);
  info.samplerate = o->rate;
  info.channels = (int)o->n_out;
  info.format = sf_format_of(o);
  if (o->container == NM_AUDIO_WAV && (o->n_out > 2 || o->encoding != NM_AUDIO_PCM16))
    info.format = SF_FORMAT_WAVEX | (info.format & SF_FORMAT_SUBMASK);
  a->sf_format = info.format;
  if (!sf_format_check(&info)) {
    return nm_fail(err, NM_EINVAL, "libsndfile cannot write this format with %d channels at %d Hz",
                   info.channels, info.samplerate);
  }
  errno = 0;
  a->sf = sf_open(a->out.tmp, SFM_WRITE, &info);
  if (!a->sf) {
    return au_fail_create(err, path, a->out.tmp, errno ? strerror(errno) : sf_strerror(NULL));
  }
  a->finished = 0;
  sf_settings(a);
  return NM_OK;
}


/* Encodes n frames.  PCM is quantised here (rounded, no dither) rather than
** by libsndfile, whose conversions differ between formats: WAV and FLAC files
** of the same audio then hold the same integers. */
int au_write_frames(nm_audio *a, const double *y, size_t n, void *buf)
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
  if (done != (sf_count_t)n) return au_fail(a, NM_EIO, sf_strerror(a->sf));
  return NM_OK;
}


/* Reopens the temporary file as RF64 when the data would not fit WAV's 32-bit
** sizes (nothing has been written to it yet). */
int au_choose_rf64(nm_audio *a)
{
  int major = a->sf_format & SF_FORMAT_TYPEMASK;
  if (major != SF_FORMAT_WAV && major != SF_FORMAT_WAVEX) return NM_OK;
  double limit = a->o.rf64_above > 0 ? a->o.rf64_above : NM_AUDIO_RF64_ABOVE;
  if ((double)a->n_frames * au_frame_bytes(&a->o) <= limit) return NM_OK;
  sf_close(a->sf);
  SF_INFO info;
  memset(&info, 0, sizeof info);
  info.samplerate = a->o.rate;
  info.channels = (int)a->o.n_out;
  info.format = SF_FORMAT_RF64 | (a->sf_format & SF_FORMAT_SUBMASK);
  a->sf_format = info.format;
  a->sf = sf_open(a->out.tmp, SFM_WRITE, &info);
  if (!a->sf) return au_fail(a, NM_EIO, sf_strerror(NULL));
  sf_settings(a);
  return NM_OK;
}


/* The finished file at `tmp` copied to standard output; 0 or an errno.
** Written through a duplicate of the descriptor, as the streamed writers do:
** a failure is reported here, with its reason, and leaves no error on the
** process's stdout for the host to report again. */
static int copy_to_stdout(const char *tmp)
{
  FILE *in = fopen(tmp, "rb");
  if (!in) return errno;
  fflush(stdout);                                /* what the script printed comes first */
  int fd = dup(STDOUT_FILENO);
  FILE *out = fd < 0 ? NULL : fdopen(fd, "wb");
  if (!out) {
    int e = errno;
    if (fd >= 0) close(fd);
    fclose(in);
    return e;
  }
  char buf[1 << 16];
  size_t n;
  int e = 0;
  while (!e && (n = fread(buf, 1, sizeof buf, in)) > 0)
    if (fwrite(buf, 1, n, out) != n) e = errno ? errno : EIO;
  if (!e && ferror(in)) e = errno ? errno : EIO;
  if (fclose(out) != 0 && !e) e = errno;
  fclose(in);
  return e;
}


int nm_audio_commit(nm_audio *a, const char *path)
{
  if (!a->rendered || a->finished) return au_fail(a, NM_EINVAL, "nothing rendered to commit");
  if (a->stream) {                    /* written to its pipe already */
    a->finished = 1;
    return NM_OK;
  }
  if (!path) path = a->path;
  if (strcmp(path, "-") == 0) {
    int e = copy_to_stdout(a->out.tmp);
    nm_outfile_discard(&a->out);
    a->finished = 1;
    return e ? nm_fail(&a->err, NM_EIO, "cannot write to stdout: %s", strerror(e)) : NM_OK;
  }
  int e = nm_outfile_commit(&a->out, path);
  if (e) return nm_fail(&a->err, NM_EIO, "cannot write '%s': %s", path, strerror(e));
  a->finished = 1;
  return NM_OK;
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
