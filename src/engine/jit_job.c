/*
** jit_job.c: compiles of native code on threads beside the run (docs/jit.md).
** A job runs the system C compiler on one program's source into the cache
** (jit_cache.c says where and loads the result), under temporary names
** renamed into place.  Jobs build one at a time in the process (`building`:
** the temporary names are per process); a job whose object another built
** meanwhile loads it.  A job owns its source and its result until the engine
** takes them on the run's thread (nm_jit_job_finish).  A job whose program
** is freed goes on (an orphan, for the cache) and is freed when done.  At
** exit every job is cancelled: its compiler's process group is killed and
** reaped and its temporary files removed, so no half-written object ever
** carries a cache name.  A child made by fork() forgets its parent's jobs.
*/
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jit.h"

extern char **environ;

/* The compiler's flags: optimised, position independent, no contraction of
** a * b + c into a fused multiply-add, no fast-math (the interpreter's
** rounding, operation by operation).  -fno-math-errno comes after
** -fno-fast-math, which would turn math-errno back on (sqrt is then one
** instruction, not a call with an errno check: the same rounding). */
const char *const nm_jit_cc_flags[] = {
  "-std=c11", "-O3", "-fno-fast-math", "-fno-math-errno", "-fPIC", "-shared", "-ffp-contract=off",
  NULL
};
/* Added when the CPU's identity is known (it is then part of the cache key):
** the instructions of this machine (AVX-512, AVX2, ...), the same IEEE
** results (contraction stays off).  On x86, vectors of 256 bits: with 512
** (which GCC picks for Sapphire Rapids) WC-80, whose blocks alternate with
** exp calls, ran 10 % slower than without -march=native.  A program of table
** lookups without calls (ALN) asks for 512 in its source (jit_emit.c). */
const char *const nm_jit_cc_native[] = {
  "-march=native",
#if defined(__x86_64__) || defined(__i386__)
  "-mprefer-vector-width=256",
#endif
  NULL
};


/* Whether the CPU identity `cpu` names `flag`, as a whole word. */
static int names_flag(const char *cpu, const char *flag)
{
  size_t n = strlen(flag);
  for (const char *s = strstr(cpu, flag); s; s = strstr(s + 1, flag))
    if (s > cpu && (s[-1] == ' ' || s[-1] == '\t') && (s[n] == ' ' || s[n] == '\n' || s[n] == '\0'))
      return 1;
  return 0;
}


/* On x86, an Intel CPU with AVX512-FP16 (Sapphire Rapids and later) is tuned
** for as Sapphire Rapids: GCC 12 tunes for a model it does not know by name
** (this machine's Emerald Rapids, model 207) as "generic", which never loads a
** vector's lanes from several addresses with one gather instruction (slow on
** the CPUs that generic covers: AMD's before Zen 4, Intel's with the GDS
** mitigation; these have neither).  ALN's blocks fetch the four corners of
** five table lookups per lane: with gathers its native code takes 16 % less
** time on 80 nodes, 13 % on a batch of 64; WC's and single nodes' code is as
** fast.  Clang knows the name too.
** An AMD CPU with AVX512-VP2INTERSECT (Zen 5, whose vector units are 512
** bits wide; Zen 4, whose are 256, has no VP2INTERSECT) keeps GCC's tuning
** (GCC 12 knows Zen 3 at most), and -DNM_JIT_WIDE gives the programs of table
** lookups (ALN's) the 512-bit blocks Sapphire Rapids' tuning gives them
** (jit_emit.c's prelude): on an EPYC of family 26 the 64-point ALN batch
** (bench batch64's search) took about 5 % less CPU time in all (49-50
** against 51-53 ms), ALN-80's kernel 5 % less (372 against 391 ms); tuned
** as Sapphire Rapids instead, the batch was no faster. */
const char *nm_jit_cc_tune_of(const char *cpu)
{
#if defined(__x86_64__) || defined(__i386__)
  if (!cpu) return NULL;
  if (strstr(cpu, "GenuineIntel") && names_flag(cpu, "avx512_fp16")) return "-mtune=sapphirerapids";
  if (strstr(cpu, "AuthenticAMD") && names_flag(cpu, "avx512_vp2intersect")) return "-DNM_JIT_WIDE";
#else
  (void)cpu;
#endif
  return NULL;
}


/* The lines of /proc/cpuinfo (first processor) that name the CPU and what it
** can do: x86's vendor, model and flags, ARM's implementer, part and features. */
static const char *const cpu_keys[] = {
  "vendor_id", "model name", "flags", "CPU implementer", "CPU architecture", "CPU variant",
  "CPU part", "Features", NULL
};


char *nm_jit_cpu_identity_of(const char *cpuinfo)
{
  size_t cap = 1, n = 0;
  for (const char *s = cpuinfo; *s && !(s[0] == '\n' && s[1] == '\n'); s++) cap++;
  char *id = malloc(cap + 1);
  if (!id) return NULL;
  int features = 0;
  for (const char *line = cpuinfo; *line && *line != '\n';) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    for (int k = 0; cpu_keys[k]; k++) {
      size_t kl = strlen(cpu_keys[k]);
      if (len > kl && strncmp(line, cpu_keys[k], kl) == 0 && (line[kl] == ' ' || line[kl] == '\t' ||
                                                              line[kl] == ':')) {
        memcpy(id + n, line, len);
        n += len;
        id[n++] = '\n';
        features |= strcmp(cpu_keys[k], "flags") == 0 || strcmp(cpu_keys[k], "Features") == 0;
        break;
      }
    }
    line += len + (end != NULL);
  }
  id[n] = '\0';
  if (!features) { free(id); return NULL; }
  return id;
}


static char *cpu_identity;
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

static void read_cpu_identity(void)
{
  /* Under valgrind (its preloaded core) the process runs on an emulated CPU
  ** with fewer instructions (no AVX-512) than /proc/cpuinfo names: unknown. */
  const char *preload = getenv("LD_PRELOAD");
  if (preload && strstr(preload, "vgpreload")) return;
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  /* The first processor's block is enough (it ends at the first empty line). */
  enum { SIZE = 65536 };
  char *text = malloc(SIZE);
  size_t n = text ? fread(text, 1, SIZE - 1, f) : 0;
  fclose(f);
  if (!text) return;
  text[n] = '\0';
  cpu_identity = nm_jit_cpu_identity_of(text);
  free(text);
}


const char *nm_jit_cpu_identity(void)
{
  pthread_once(&cpu_once, read_cpu_identity);
  return cpu_identity;
}


/* The environment for the compiler: ours without LD_PRELOAD (a sanitizer's
** runtime preloaded into the host must not run inside cc). */
static char **child_env(void)
{
  size_t n = 0;
  while (environ[n]) n++;
  char **env = malloc((n + 1) * sizeof *env);
  if (!env) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0) env[k++] = environ[i];
  env[k] = NULL;
  return env;
}


/* One compile: its thread, its compiler, its result. */
struct nm_jit_job {
  pthread_t thread;
  pthread_mutex_t lock;      /* guards pid, and setting cancel against reading pid */
  pid_t pid;                 /* the compiler (its process group) while it runs, else 0 */
  atomic_int cancel;
  atomic_int done;           /* the thread finished: the fields below are final */
  int joined;
  int orphan;                /* its program was freed: the compile goes on for the cache */
  int rc;                    /* NM_OK: `code` is loaded */
  int loaded;                /* it found the object another job built (for the counts) */
  nm_error err;
  struct nm_jit_code code;
  char *src;                 /* the source, ending with its key */
  size_t n;
  char key[33];
  char dir[4096];
  struct nm_jit_job *next;   /* every job not yet freed (for the exit) */
};

double nm_jit_compile_limit = 300;

static pthread_mutex_t build_lock = PTHREAD_MUTEX_INITIALIZER;   /* guards building */
static pthread_cond_t build_turn = PTHREAD_COND_INITIALIZER;
static int building;                                               /* a job is building */
static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static nm_jit_job *jobs;
static atomic_ulong in_flight;
static atomic_ulong built;        /* objects this process compiled, counted as each is renamed into place */
static pthread_once_t init_once_flag = PTHREAD_ONCE_INIT;


/* How a compiler ended with wait status `st`, as words after its name:
** "failed (status 1)", or "was stopped by signal 11 (Segmentation fault)". */
static const char *ended(int st, char *buf, size_t size)
{
  if (WIFSIGNALED(st))
    snprintf(buf, size, "was stopped by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
  else
    snprintf(buf, size, "failed (status %d)", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  return buf;
}


/* What the compiler wrote to its standard error while it ran: read from a
** pipe into memory, never from a file, so that its reason survives a disk
** that cannot hold it.  On a full disk the compiler's own writes to a log
** file failed (the linker's "No space left on device" was lost) until the
** linker removed its half-written object, and only collect2's summary line
** (`ld returned 1 exit status`) got in.  The first MESSAGES_MAX bytes are
** kept; `dropped` counts the rest. */
#define MESSAGES_MAX (1 << 20)
typedef struct {
  char *text;
  size_t n, cap, dropped;
} messages;


/* Reads what the pipe `fd` (non-blocking) holds now into m. */
static void messages_read(int fd, messages *m)
{
  char buf[4096];
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return;
    size_t take = (size_t)r;
    if (m->n + take > MESSAGES_MAX) take = MESSAGES_MAX - m->n;
    if (m->n + take + 1 > m->cap) {
      size_t cap = m->cap ? m->cap : 4096;
      while (cap < m->n + take + 1) cap *= 2;
      char *grown = realloc(m->text, cap);
      if (!grown) take = 0;
      else { m->text = grown; m->cap = cap; }
    }
    if (take) memcpy(m->text + m->n, buf, take);
    m->n += take;
    m->dropped += (size_t)r - take;
    if (m->text) m->text[m->n] = '\0';
  }
}


/* Whether the line s (len bytes) holds `word`. */
static int line_has(const char *s, size_t len, const char *word)
{
  size_t w = strlen(word);
  for (size_t i = 0; i + w <= len; i++)
    if (memcmp(s + i, word, w) == 0) return 1;
  return 0;
}


/* The line of the compiler's messages that says why it failed (*len its
** bytes), NULL when they have none: the first naming a full disk or file
** system (ENOSPC, EDQUOT); else the first holding "error" that is not
** collect2's summary ("collect2: error: ld returned 1 exit status": the
** linker said why on a line before it); else the first line that is not that
** summary; else the summary.  *full: the line names a full disk. */
static const char *reason_line(const messages *m, size_t *len, int *full)
{
  const char *found[3] = { NULL, NULL, NULL }, *summary = NULL;
  size_t lens[3] = { 0, 0, 0 }, summary_len = 0;
  const char *space = strerror(ENOSPC);
  char quota[128];
  snprintf(quota, sizeof quota, "%s", strerror(EDQUOT));
  for (const char *s = m->text, *end = m->text + m->n; s && s < end;) {
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
    while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ')) n--;
    if (n > 0) {
      int is_summary = strncmp(s, "collect2:", 9) == 0 && line_has(s, n, "exit status");
      int rank = line_has(s, n, space) || line_has(s, n, quota) ? 0
               : is_summary ? -1 : line_has(s, n, "error") ? 1 : 2;
      if (rank < 0 && !summary) { summary = s; summary_len = n; }
      if (rank >= 0 && !found[rank]) { found[rank] = s; lens[rank] = n; }
    }
    s = nl ? nl + 1 : end;
  }
  *full = found[0] != NULL;
  for (int r = 0; r < 3; r++)
    if (found[r]) { *len = lens[r]; return found[r]; }
  *len = summary_len;
  return summary;
}


/* Writes the compiler's messages m to `tmp` (the log's temporary name, a
** regular file opened without blocking), a line of ours when there are none:
** 0, or the errno of the failure, with no file left. */
static int keep_messages(const char *tmp, const messages *m)
{
  static const char silent[] = "neuromass: the C compiler failed without a message\n";
  char tail[96];
  const char *data = m->n ? m->text : silent;
  size_t n = m->n ? m->n : sizeof silent - 1;
  int len = snprintf(tail, sizeof tail, "\nneuromass: %zu more bytes of messages were dropped\n",
                     m->dropped);
  int fd = nm_jit_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW);
  if (fd < 0) return errno;
  int e = 0;
  for (int part = 0; part < 2 && !e; part++) {
    const char *p = part ? tail : data;
    size_t left = part ? (m->dropped ? (size_t)len : 0) : n;
    while (left > 0) {
      ssize_t w = write(fd, p, left);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) { e = w < 0 ? errno : EIO; break; }
      p += w;
      left -= (size_t)w;
    }
  }
  if (close(fd) != 0 && !e) e = errno;
  if (e) remove(tmp);
  return e;
}


/* The failure of a compiler `cc` that ended with wait status `st`, having
** written m: the line that says why quoted (and when it names a full disk,
** which disks the compile writes: the cache's and the temporary files'),
** then where all its messages are, the log (written under its temporary
** name and renamed into place), or why they could not be kept there. */
static int compiler_failed(const char *cc, int st, const messages *m, const nm_outfile *log_file,
                           nm_error *err)
{
  char how[96], said[300] = "", disk[300] = "", kept[400];
  const char *log = log_file->path;
  int e = keep_messages(log_file->tmp, m);
  if (!e && (e = nm_outfile_commit(log_file, NULL)) != 0) remove(log_file->tmp);
  size_t len = 0;
  int full = 0;
  const char *line = reason_line(m, &len, &full);
  if (line) snprintf(said, sizeof said, ": %.*s", (int)(len > 200 ? 200 : len), line);
  if (full) {
    const char *tmpdir = getenv("TMPDIR");
    int n = (int)(strrchr(log, '/') ? strrchr(log, '/') - log : 0);
    snprintf(disk, sizeof disk, " (a disk is full: the cache's, %.*s, or that of the compiler's "
             "temporary files, %s)", n > 120 ? 120 : n, log, tmpdir && tmpdir[0] ? tmpdir : "/tmp");
  }
  if (e)
    snprintf(kept, sizeof kept, "; its %s cannot be written to %s (%s)", m->n ? "messages" : "log",
             log, strerror(e));
  else if (m->n)
    snprintf(kept, sizeof kept, "; all its messages: %s", log);
  else
    snprintf(kept, sizeof kept, " (noted in its log %s)", log);
  return nm_fail(err, NM_EINVAL, "jit: the C compiler '%s' %s%s%s%s", cc, ended(st, how, sizeof how),
                 m->n ? said : " without a message", disk, kept);
}


/* Runs the compiler `cc` on src into so, its messages (standard error) into
** *msgs through a pipe, as process group of its own (so that a cancel reaches
** cc1, as and ld too): NM_OK, NM_FAILED with its wait status in *status, or
** another failure with its reason in *err. */
enum { NM_FAILED = 1 };
static int run_compiler(nm_jit_job *j, const char *cc, const char *src, const char *so, messages *msgs,
                        int *status, nm_error *err)
{
  int pipe_fd[2];
  if (pipe2(pipe_fd, O_CLOEXEC | O_NONBLOCK) != 0)
    return nm_fail(err, NM_EINVAL, "jit: cannot run the C compiler '%s': no pipe for its messages (%s)",
                   cc, strerror(errno));
  /* (the compiler's end blocks, as a terminal would) */
  (void)fcntl(pipe_fd[1], F_SETFL, 0);
  const char *argv[24];
  int a = 0;
  argv[a++] = cc;
  for (int f = 0; nm_jit_cc_flags[f]; f++) argv[a++] = nm_jit_cc_flags[f];
  for (int f = 0; nm_jit_cpu_identity() && nm_jit_cc_native[f]; f++) argv[a++] = nm_jit_cc_native[f];
  const char *tune = nm_jit_cc_tune_of(nm_jit_cpu_identity());
  if (tune) argv[a++] = tune;
  argv[a++] = "-o";
  argv[a++] = so;
  argv[a++] = "-x";                    /* the temporary name does not end in .c */
  argv[a++] = "c";
  argv[a++] = src;
  argv[a++] = "-x";
  argv[a++] = "none";
  argv[a++] = "-lm";
  argv[a] = NULL;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, pipe_fd[1], 2);
  /* The job's thread blocks every signal; the compiler gets none blocked. */
  posix_spawnattr_t at;
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_init(&at);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&at, 0);
  posix_spawnattr_setsigmask(&at, &none);
  char **env = child_env();
  pid_t pid = 0;
  pthread_mutex_lock(&j->lock);
  int rc = atomic_load(&j->cancel) ? ECANCELED
         : env ? posix_spawnp(&pid, cc, &fa, &at, (char *const *)argv, env) : ENOMEM;
  if (rc == 0) j->pid = pid;
  pthread_mutex_unlock(&j->lock);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  free(env);
  close(pipe_fd[1]);
  if (rc != 0) close(pipe_fd[0]);
  if (rc == ECANCELED) return nm_fail(err, NM_EINTR, "jit: the compile was cancelled");
  if (rc != 0)
    return nm_fail(err, NM_EINVAL, "jit: cannot run the C compiler '%s' (%s)", cc, strerror(rc));
  /* Wait without reaping, so that a cancel never signals a recycled pid,
  ** reading its messages meanwhile (a full pipe would stop it); past
  ** nm_jit_compile_limit the compiler's group is killed. */
  struct pollfd pipe_in = { .fd = pipe_fd[0], .events = POLLIN, .revents = 0 };
  struct timespec t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int overdue = 0;
  for (;;) {
    siginfo_t info;
    info.si_pid = 0;
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT | WNOHANG) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (info.si_pid != 0) break;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double secs = (double)(now.tv_sec - t0.tv_sec) + 1e-9 * (double)(now.tv_nsec - t0.tv_nsec);
    if (!overdue && secs > nm_jit_compile_limit) {
      kill(-pid, SIGKILL);
      overdue = 1;
    }
    /* (a pipe whose writers all closed it is polled no more: poll only sleeps) */
    if (poll(&pipe_in, 1, 5) > 0) {
      if (pipe_in.revents & POLLIN) messages_read(pipe_fd[0], msgs);
      else pipe_in.fd = -1;
    }
  }
  messages_read(pipe_fd[0], msgs);      /* what it wrote last (its children's, if alive, are not waited for) */
  close(pipe_fd[0]);
  pthread_mutex_lock(&j->lock);
  j->pid = 0;
  int cancelled = atomic_load(&j->cancel);
  pthread_mutex_unlock(&j->lock);
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR)
      return nm_fail(err, NM_EINVAL, "jit: lost the C compiler '%s' (%s)", cc, strerror(errno));
  if (cancelled) return nm_fail(err, NM_EINTR, "jit: the compile was cancelled");
  if (overdue)
    return nm_fail(err, NM_EINVAL, "jit: the C compiler '%s' did not finish within %g s and was "
                   "killed", cc, nm_jit_compile_limit);
  *status = st;
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? NM_OK : NM_FAILED;
}


/* The C compiler: NEUROMASS_CC, default cc. */
static const char *compiler(void)
{
  const char *cc = getenv("NEUROMASS_CC");
  return cc && cc[0] ? cc : "cc";
}


/* Seals the object the compiler made at `so` (its temporary name) and loads
** it from there into j->code, so that only an object that loads is ever filed
** under its key: NM_OK, or the failure with the reason in *err. */
static int seal_and_load(nm_jit_job *j, const char *cc, const char *so, nm_error *err)
{
  int foreign, e = nm_jit_seal(so);
  if (e == ENOENT)
    return nm_fail(err, NM_EINVAL, "jit: the C compiler '%s' made no object", cc);
  if (e) return nm_fail(err, NM_EINVAL, "jit: cannot seal %s (%s)", so, strerror(e));
  if (!nm_jit_load(so, j->key, &j->code, &foreign))
    return nm_fail(err, NM_EINVAL, "jit: the C compiler '%s' made no loadable object: %s",
                   cc, nm_jit_refusal(foreign));
  return NM_OK;
}


/* Runs the compiler `cc` (compiler()) on src into so; NM_OK, or the failure
** with its reason in *err: a compiler that failed has its messages filed as
** log_file and the line that says why quoted. */
static int compile(nm_jit_job *j, const char *cc, const char *src, const char *so,
                   const nm_outfile *log_file, nm_error *err)
{
  messages msgs = { 0 };
  int status = 0;
  int rc = run_compiler(j, cc, src, so, &msgs, &status, err);
  if (rc == NM_FAILED) rc = compiler_failed(cc, status, &msgs, log_file, err);
  free(msgs.text);
  return rc;
}


/* The job's work, in its turn (`building`): the object from the cache if another job
** built it meanwhile, else compiled.  The source and the object are written
** under temporary names and renamed into place (atomic_file.c), so processes
** sharing the cache never load a half-written object. */
static int build(nm_jit_job *j, nm_error *err)
{
  char path[4200], c_path[4200], log[4300];
  snprintf(path, sizeof path, "%s/%s.so", j->dir, j->key);
  snprintf(c_path, sizeof c_path, "%s/%s.c", j->dir, j->key);
  snprintf(log, sizeof log, "%s/%s.log", j->dir, j->key);
  int foreign;
  if (nm_jit_load(path, j->key, &j->code, &foreign)) { j->loaded = 1; return NM_OK; }
  nm_outfile c_file = { 0 }, so_file = { 0 }, log_file = { 0 };
  if (nm_outfile_init(&c_file, c_path) != NM_OK || nm_outfile_init(&so_file, path) != NM_OK ||
      nm_outfile_init(&log_file, log) != NM_OK) {
    nm_outfile_free(&c_file);
    nm_outfile_free(&so_file);
    nm_outfile_free(&log_file);
    return nm_fail(err, NM_ENOMEM, "jit: out of memory");
  }
  int rc = NM_OK, e = nm_outfile_write_all(&c_file, j->src, j->n);
  if (e) rc = nm_fail(err, NM_EINVAL, "jit: cannot write %s (%s)", c_file.tmp, strerror(e));
  if (rc == NM_OK) {
    const char *cc = compiler();
    rc = compile(j, cc, c_file.tmp, so_file.tmp, &log_file, err);
    if (rc == NM_OK) rc = seal_and_load(j, cc, so_file.tmp, err);
    if (rc == NM_OK) {
      remove(log);                     /* an earlier failure's messages */
      if ((e = nm_outfile_commit(&so_file, NULL)) != 0) {
        dlclose(j->code.handle);
        rc = nm_fail(err, NM_EINVAL, "jit: cannot rename %s into place (%s)", so_file.tmp, strerror(e));
      }
    } else if (rc != NM_EINTR) {       /* a cancelled compile leaves nothing */
      /* A failed compile leaves its source as <key>.c beside its messages,
      ** <key>.log (compile() filed them; when a rename fails, the discard
      ** below removes the source). */
      (void)nm_outfile_commit(&c_file, NULL);
    }
  }
  nm_outfile_discard(&c_file);
  nm_outfile_discard(&so_file);
  nm_outfile_discard(&log_file);
  nm_outfile_free(&c_file);
  nm_outfile_free(&so_file);
  nm_outfile_free(&log_file);
  if (rc != NM_OK) return rc;
  atomic_fetch_add(&built, 1);
  return NM_OK;
}


static void *job_main(void *arg)
{
  nm_jit_job *j = arg;
  /* One build at a time; a job cancelled while it waits for its turn leaves. */
  pthread_mutex_lock(&build_lock);
  while (building && !atomic_load(&j->cancel)) pthread_cond_wait(&build_turn, &build_lock);
  int cancel = atomic_load(&j->cancel);
  if (!cancel) building = 1;
  pthread_mutex_unlock(&build_lock);
  j->rc = cancel ? nm_fail(&j->err, NM_EINTR, "jit: the compile was cancelled") : build(j, &j->err);
  if (!cancel) {
    pthread_mutex_lock(&build_lock);
    building = 0;
    pthread_cond_broadcast(&build_turn);
    pthread_mutex_unlock(&build_lock);
  }
  /* Done before no longer in flight: who sees no compile in flight finds it done. */
  atomic_store_explicit(&j->done, 1, memory_order_release);
  atomic_fetch_sub(&in_flight, 1);
  return NULL;
}


/* Asks a job to stop: its compiler's process group is killed. */
static void job_cancel(nm_jit_job *j)
{
  pthread_mutex_lock(&j->lock);
  atomic_store(&j->cancel, 1);
  if (j->pid > 0) kill(-j->pid, SIGKILL);
  pthread_mutex_unlock(&j->lock);
  pthread_mutex_lock(&build_lock);
  pthread_cond_broadcast(&build_turn);
  pthread_mutex_unlock(&build_lock);
}


static void job_join(nm_jit_job *j)
{
  if (!j->joined) pthread_join(j->thread, NULL);
  j->joined = 1;
}


/* At exit: every job still compiling is cancelled and waited for (its files
** removed, its compiler reaped). */
static void cancel_all(void)
{
  pthread_mutex_lock(&jobs_lock);
  for (nm_jit_job *j = jobs; j; j = j->next) job_cancel(j);
  for (nm_jit_job *j = jobs; j; j = j->next) job_join(j);
  pthread_mutex_unlock(&jobs_lock);
}


/* In a child made by fork(), the parent's jobs have no thread: each is
** finished as failed (its program stays interpreted), and never joined,
** cancelled or waited for; the locks start free. */
static void forget_jobs_in_child(void)
{
  pthread_mutex_init(&build_lock, NULL);
  pthread_mutex_init(&jobs_lock, NULL);
  pthread_cond_init(&build_turn, NULL);
  building = 0;
  atomic_store(&in_flight, 0);
  for (nm_jit_job *j = jobs; j; j = j->next) {
    pthread_mutex_init(&j->lock, NULL);
    j->joined = 1;
    j->pid = 0;
    if (!atomic_load(&j->done)) {
      j->rc = nm_fail(&j->err, NM_EINVAL, "jit: the compile ran in the parent process");
      atomic_store(&j->done, 1);
    }
  }
}


static void init_once(void)
{
  atexit(cancel_all);
  pthread_atfork(NULL, NULL, forget_jobs_in_child);
}


/* Frees a joined job, unloading its object unless `keep`. */
static void job_free(nm_jit_job *j, int keep)
{
  pthread_mutex_lock(&jobs_lock);
  for (nm_jit_job **at = &jobs; *at; at = &(*at)->next)
    if (*at == j) { *at = j->next; break; }
  pthread_mutex_unlock(&jobs_lock);
  if (j->rc == NM_OK && !keep) dlclose(j->code.handle);
  pthread_mutex_destroy(&j->lock);
  free(j->src);
  free(j);
}


void nm_jit_job_reap(void)
{
  for (;;) {
    nm_jit_job *found = NULL;
    pthread_mutex_lock(&jobs_lock);
    for (nm_jit_job *j = jobs; j && !found; j = j->next)
      if (j->orphan && atomic_load_explicit(&j->done, memory_order_acquire)) found = j;
    pthread_mutex_unlock(&jobs_lock);
    if (!found) return;
    job_join(found);
    job_free(found, 0);
  }
}


nm_jit_job *nm_jit_job_start(char *src, size_t n, const char *key, const char *dir, nm_error *err)
{
  nm_jit_job *j = calloc(1, sizeof *j);
  if (!j) { free(src); nm_fail(err, NM_ENOMEM, "jit: out of memory"); return NULL; }
  j->src = src;
  j->n = n;
  memcpy(j->key, key, sizeof j->key);
  snprintf(j->dir, sizeof j->dir, "%s", dir);
  pthread_mutex_init(&j->lock, NULL);
  pthread_once(&init_once_flag, init_once);
  /* The thread blocks every signal: they stay the run's (interrupts). */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  atomic_fetch_add(&in_flight, 1);
  int e = pthread_create(&j->thread, NULL, job_main, j);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (e != 0) {
    atomic_fetch_sub(&in_flight, 1);
    j->joined = 1;
    j->rc = NM_EINVAL;
    job_free(j, 0);
    nm_fail(err, NM_EINVAL, "jit: cannot start a thread for the compiler (%s)", strerror(e));
    return NULL;
  }
  pthread_mutex_lock(&jobs_lock);
  j->next = jobs;
  jobs = j;
  pthread_mutex_unlock(&jobs_lock);
  return j;
}


int nm_jit_job_done(nm_jit_job *j)
{
  return atomic_load_explicit(&j->done, memory_order_acquire);
}


int nm_jit_job_finish(nm_jit_job *j, struct nm_jit_code *code, int *loaded, nm_error *err)
{
  job_join(j);
  *loaded = j->loaded;
  int rc = j->rc;
  if (rc == NM_OK) *code = j->code;
  else nm_fail(err, rc, "%s", j->err.why);
  job_free(j, rc == NM_OK);
  return rc;
}


void nm_jit_job_orphan(nm_jit_job *j)
{
  j->orphan = 1;
}


unsigned long nm_jit_jobs_in_flight(void)
{
  return atomic_load(&in_flight);
}


unsigned long nm_jit_jobs_compiled(void)
{
  return atomic_load(&built);
}
