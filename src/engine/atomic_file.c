/*
** atomic_file.c: the one way the engine writes an output file.  The file is
** written under a temporary name ("<path>.tmp-<pid>.<host>") and renamed into place
** only when complete, so an error never leaves a truncated file under the
** name the user asked for; a run that stops early can keep what it had as
** "<stem>.partial.<ext>".  Every writer goes through it: the CSV writer, the
** audio writer (libsndfile writes its temporary name) and the JSON sidecar
** (nm_outfile_write_all, through core.write_temp).
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "engine.h"

/* The bytes of the host's name a temporary name holds, at most. */
#define HOST_MAX 64
/* Bytes the temporary and partial names add to the path, at most. */
#define TEMP_EXTRA (32 + HOST_MAX)
#define PARTIAL_EXTRA 16


/* "<path>.tmp-<pid>.<host>": the process id alone is not unique where
** processes of several machines write one folder (an exploration's array
** tasks on a cluster's shared file system), so the machine's name follows
** it (gethostname, its characters other than letters, digits, '.', '_' and
** '-' written as '_'; "host" when it has none). */
static void temp_name(char *out, size_t size, const char *path)
{
  char host[HOST_MAX + 1] = "";
  if (gethostname(host, sizeof host) != 0) host[0] = '\0';
  host[HOST_MAX] = '\0';
  for (char *c = host; *c; c++) {
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
          *c == '_' || *c == '-'))
      *c = '_';
  }
  snprintf(out, size, "%s.tmp-%ld.%s", path, (long)getpid(), host[0] ? host : "host");
}


void nm_partial_name(char *out, size_t size, const char *path)
{
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const char *dot = strrchr(base, '.');
  if (!dot || dot == base) dot = path + strlen(path);
  snprintf(out, size, "%.*s.partial%s", (int)(dot - path), path, dot);
}


int nm_outfile_init(nm_outfile *o, const char *path)
{
  size_t len = strlen(path);
  o->path = malloc(len + 1);
  o->tmp = malloc(len + TEMP_EXTRA);
  o->partial = malloc(len + PARTIAL_EXTRA);
  if (!o->path || !o->tmp || !o->partial) {
    nm_outfile_free(o);
    return NM_ENOMEM;
  }
  memcpy(o->path, path, len + 1);
  temp_name(o->tmp, len + TEMP_EXTRA, path);
  nm_partial_name(o->partial, len + PARTIAL_EXTRA, path);
  return NM_OK;
}


/* Renames the finished temporary file `tmp` to `to`.  A regular file it
** replaces keeps its permission bits (a user's chmod 600 of a CSV stays so
** when a run rewrites it; rename would bring the new file's); a new file has
** those it was created with, 0666 less the umask (every writer creates its
** temporary file so: fopen, open(0666), libsndfile's sf_open).
** 0, or the errno of the failure. */
static int rename_keeping_mode(const char *tmp, const char *to)
{
  struct stat old;
  if (stat(to, &old) == 0 && S_ISREG(old.st_mode) && chmod(tmp, old.st_mode & 0777) != 0) return errno;
  return rename(tmp, to) == 0 ? 0 : errno;
}


int nm_outfile_commit(const nm_outfile *o, const char *to)
{
  return rename_keeping_mode(o->tmp, to ? to : o->path);
}


int nm_outfile_keep_partial(const nm_outfile *o, long long bytes)
{
  if (truncate(o->tmp, (off_t)bytes) != 0) return errno;
  return rename_keeping_mode(o->tmp, o->partial);
}


/* Writes n bytes of data to fd and closes it: 0, or the errno of the
** failure.  write(2), not stdio: a native-code source is written on a
** compile's thread, and a fork() meanwhile would give the child a copy of
** the bytes buffered in a FILE, which its exit() flushes into the same open
** file (the shared offset): the source then held text twice. */
static int write_close(int fd, const char *data, size_t n)
{
  int e = 0;
  while (n > 0) {
    ssize_t k = write(fd, data, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      e = errno;
      break;
    }
    data += k;
    n -= (size_t)k;
  }
  if (close(fd) != 0 && !e) e = errno;
  return e;
}


int nm_outfile_write_all(const nm_outfile *o, const char *data, size_t n)
{
  int fd = open(o->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return errno;
  int e = write_close(fd, data, n);
  if (e) remove(o->tmp);
  return e;
}


int nm_outfile_claim(const nm_outfile *o, const char *data, size_t n)
{
  int e = nm_outfile_write_all(o, data, n);
  if (e) return e;
  /* link(2) makes the name only if none has it, with the whole text (on a
  ** network file system too, where O_EXCL may not be exclusive) */
  e = link(o->tmp, o->path) == 0 ? 0 : errno;
  remove(o->tmp);
  if (e == EPERM || e == ENOTSUP || e == EOPNOTSUPP || e == ENOSYS) {
    /* a file system without hard links: created exclusively, then written */
    int fd = open(o->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) return errno;
    e = write_close(fd, data, n);
    if (e) remove(o->path);
  }
  return e;
}


/* The whole of the file at `path` (malloc'ed, its length in *len), or NULL
** with errno set. */
static char *read_whole(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  char *text = NULL;
  int e = 0;
  if (size < 0 || fseek(f, 0, SEEK_SET) != 0) e = errno ? errno : EIO;
  else if (!(text = malloc((size_t)size + 1))) e = ENOMEM;
  else if (fread(text, 1, (size_t)size, f) != (size_t)size) {
    e = EIO;                                /* (a read error, or it shrank as it was read) */
    free(text);
    text = NULL;
  }
  fclose(f);
  *len = text ? (size_t)size : 0;
  errno = e;
  return text;
}


int nm_outfile_reclaim(const nm_outfile *o, const char *old, size_t n_old, const char *data, size_t n)
{
  /* Moved aside: of processes replacing one file, one moves each version. */
  if (rename(o->path, o->tmp) != 0) return errno == ENOENT ? nm_outfile_claim(o, data, n) : errno;
  size_t len;
  char *text = read_whole(o->tmp, &len);
  if (!text) {
    int e = errno;
    rename(o->tmp, o->path);               /* (put back as it was) */
    return e;
  }
  int e;
  if (len == n_old && memcmp(text, old, n_old) == 0) {
    struct stat was;                       /* (its permission bits, kept as a commit keeps them) */
    int known = stat(o->tmp, &was) == 0 && S_ISREG(was.st_mode);
    remove(o->tmp);
    e = nm_outfile_claim(o, data, n);
    if (e == 0 && known) (void)chmod(o->path, was.st_mode & 0777);   /* (the file is whole either way) */
  } else {
    /* another process's file, replaced or claimed since the caller read the
    ** old one: put back under its name, unless yet another took it meanwhile */
    e = nm_outfile_claim(o, text, len);
    if (e == 0) e = EEXIST;
  }
  free(text);
  return e;
}


void nm_outfile_discard(const nm_outfile *o)
{
  if (o->tmp) remove(o->tmp);
}


void nm_outfile_free(nm_outfile *o)
{
  free(o->path);
  free(o->tmp);
  free(o->partial);
  o->path = o->tmp = o->partial = NULL;
}
