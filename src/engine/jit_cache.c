/*
** jit_cache.c: native code for programs, from source to a loaded function.
** The source (jit_emit.c) is hashed with the compiler flags and the engine
** version; the shared object lives in $XDG_CACHE_HOME/neuromass/<hash>.so
** (default ~/.cache/neuromass), built by the system C compiler under a
** temporary name and renamed into place (processes may race: the last
** rename wins, every candidate is complete).  A cached file is trusted only
** when its nm_jit_key symbol is the hash it is filed under.  Every failure
** leaves the program to the interpreter (silently, except NM_JIT_REQUIRE).
** Compiles run on a thread beside the run, which switches to the native code
** at a step boundary when it is loaded (nm_jit_switch).  When to compile, and
** when to wait: docs/jit.md (nm_jit_prepare).
*/
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jit.h"

extern char **environ;

/* The compiler's flags: optimised, position independent, no contraction of
** a * b + c into a fused multiply-add, no fast-math (the interpreter's
** rounding, operation by operation). */
static const char *const cc_flags[] = {
  "-std=c11", "-O2", "-fPIC", "-shared", "-ffp-contract=off", "-fno-fast-math", NULL
};

/* A compile costs about 0.1 s; a run whose right-hand side evaluations
** (instructions x lanes x evaluations) reach this many is long enough to
** repay it (the interpreter spends ~1 to 5 ns per instruction and lane). */
#define NM_JIT_WORK 3e7
/* Looking in the cache (emitting the source, hashing it, dlopen) costs about
** a millisecond: a shorter run is interpreted without looking. */
#define NM_JIT_LOOK 1e6
/* Rough costs for deciding whether to wait for a compile: the interpreter's
** per instruction and lane, and one compile (seconds). */
#define NM_JIT_INTERP_S 2e-9
#define NM_JIT_COMPILE_S 0.1

static nm_jit_counts counts;


static double hist_read(const nm_hist *h, const double *V, long sig, int delay)
{
  return nm_hist_read(h, V, sig, delay);
}


const nm_jit_env nm_jit_env_engine = { nm_table2d_count_clamped, hist_read };


/* FNV-1a, 64 bits, continuing from h. */
static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++) { h ^= (unsigned char)s[i]; h *= 1099511628211ULL; }
  return h;
}


/* The key of a source: 32 hex digits over the source, the flags and the engine version. */
static void key_of(const char *src, char key[33])
{
  uint64_t h[2] = { 1469598103934665603ULL, 0x9e3779b97f4a7c15ULL };
  for (int k = 0; k < 2; k++) {
    h[k] = fnv(h[k], src, strlen(src));
    for (int f = 0; cc_flags[f]; f++) h[k] = fnv(h[k], cc_flags[f], strlen(cc_flags[f]) + 1);
    h[k] = fnv(h[k], NM_VERSION, sizeof NM_VERSION);
    h[k] = fnv(h[k], k ? "right" : "left", k ? 5 : 4);
  }
  snprintf(key, 33, "%016llx%016llx", (unsigned long long)h[0], (unsigned long long)h[1]);
}


/* The cache directory, created if missing; 0 when there is none. */
static int cache_dir(char *out, size_t size)
{
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  char base[4096];
  if (xdg && xdg[0] == '/') snprintf(base, sizeof base, "%s", xdg);
  else if (home && home[0]) snprintf(base, sizeof base, "%s/.cache", home);
  else return 0;
  if ((size_t)snprintf(out, size, "%s/neuromass", base) >= size) return 0;
  mkdir(base, 0700);
  if (mkdir(out, 0700) != 0 && errno != EEXIST) return 0;
  return access(out, W_OK | X_OK) == 0;
}


/* Loads `path` if it is the shared object of `key`: 1, and *code filled; 0
** when it cannot be opened (*foreign = 0) or is another's (*foreign = 1). */
static int load(const char *path, const char *key, struct nm_jit_code *code, int *foreign)
{
  *foreign = 0;
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) { *foreign = access(path, F_OK) == 0; return 0; }
  const char *k = dlsym(h, "nm_jit_key");
  void *fn = dlsym(h, "nm_jit_main");
  if (!k || !fn || strcmp(k, key) != 0) {
    dlclose(h);
    *foreign = 1;
    return 0;
  }
  code->handle = h;
  memcpy(&code->fn, &fn, sizeof fn);     /* object to function pointer, as POSIX allows */
  return 1;
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


/*
** Compiles run on a thread of their own (a job), one at a time in the
** process (`building`: the temporary names are per process), while the run
** goes on interpreted; the run switches at a step boundary (nm_jit_switch).
** A job owns its source and its result until the engine adopts it on the
** run's thread.  A job whose program is freed goes on (an orphan) and is
** freed when done.  At exit every job is cancelled: its compiler's process
** group is killed and reaped and its temporary files removed, so no
** half-written object ever carries a cache name.
*/
typedef struct nm_jit_job nm_jit_job;

struct nm_jit_job {
  pthread_t thread;
  pthread_mutex_t lock;      /* guards pid, and setting cancel against reading pid */
  pid_t pid;                 /* the compiler (its process group) while it runs, else 0 */
  atomic_int cancel;
  atomic_int done;           /* the thread finished: the fields below are final */
  int joined;
  int orphan;                /* its program was freed: the compile goes on for the cache */
  int rc;                    /* NM_OK: `code` is loaded */
  int compiled, loaded;      /* what the job did, for the counts */
  nm_error err;
  struct nm_jit_code code;
  char *src;                 /* the source, ending with its key */
  size_t n;
  char key[33];
  char dir[4096];
  struct nm_jit_job *next;   /* every job not yet freed (for the exit) */
};

static pthread_mutex_t build_lock = PTHREAD_MUTEX_INITIALIZER;   /* guards building */
static pthread_cond_t build_turn = PTHREAD_COND_INITIALIZER;
static int building;                                               /* a job is building */
static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static nm_jit_job *jobs;
static atomic_ulong in_flight;
static pthread_once_t init_once_flag = PTHREAD_ONCE_INIT;


/* Runs the compiler on src into so, its messages into log, as process group
** of its own (so that a cancel reaches cc1, as and ld too); NM_OK or the
** failure with its reason in *err. */
static int compile(nm_jit_job *j, const char *src, const char *so, const char *log, nm_error *err)
{
  const char *cc = getenv("NEUROMASS_CC");
  if (!cc || !cc[0]) cc = "cc";
  const char *argv[20];
  int a = 0;
  argv[a++] = cc;
  for (int f = 0; cc_flags[f]; f++) argv[a++] = cc_flags[f];
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
  posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
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
  if (rc == ECANCELED) return nm_fail(err, NM_EINTR, "jit: the compile was cancelled");
  if (rc != 0)
    return nm_fail(err, NM_EINVAL, "jit: cannot run the C compiler '%s' (%s)", cc, strerror(rc));
  /* Wait without reaping, so that a cancel never signals a recycled pid. */
  siginfo_t info;
  while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {}
  pthread_mutex_lock(&j->lock);
  j->pid = 0;
  int cancelled = atomic_load(&j->cancel);
  pthread_mutex_unlock(&j->lock);
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR)
      return nm_fail(err, NM_EINVAL, "jit: lost the C compiler '%s' (%s)", cc, strerror(errno));
  if (cancelled) return nm_fail(err, NM_EINTR, "jit: the compile was cancelled");
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    return nm_fail(err, NM_EINVAL, "jit: the C compiler '%s' failed (status %d): see %s", cc,
                     WIFEXITED(st) ? WEXITSTATUS(st) : -1, log);
  return NM_OK;
}


/* The job's work, under build_lock: the object from the cache if another job
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
  if (load(path, j->key, &j->code, &foreign)) { j->loaded = 1; return NM_OK; }
  nm_outfile c_file = { 0 }, so_file = { 0 };
  if (nm_outfile_init(&c_file, c_path) != NM_OK || nm_outfile_init(&so_file, path) != NM_OK) {
    nm_outfile_free(&c_file);
    nm_outfile_free(&so_file);
    return nm_fail(err, NM_ENOMEM, "jit: out of memory");
  }
  int rc = NM_OK, e = nm_outfile_write_all(&c_file, j->src, j->n);
  if (e) rc = nm_fail(err, NM_EINVAL, "jit: cannot write %s (%s)", c_file.tmp, strerror(e));
  if (rc == NM_OK) {
    rc = compile(j, c_file.tmp, so_file.tmp, log, err);
    if (rc == NM_OK) {
      remove(log);
      if ((e = nm_outfile_commit(&so_file, NULL)) != 0)
        rc = nm_fail(err, NM_EINVAL, "jit: cannot rename %s into place (%s)", so_file.tmp, strerror(e));
    } else if (rc == NM_EINTR) {
      remove(log);                     /* a cancelled compile leaves nothing */
    } else if (nm_outfile_commit(&c_file, NULL) != 0) {
      /* A failed compile leaves its source and messages as <key>.c, <key>.log. */
    }
  }
  nm_outfile_discard(&c_file);
  nm_outfile_discard(&so_file);
  nm_outfile_free(&c_file);
  nm_outfile_free(&so_file);
  if (rc != NM_OK) return rc;
  j->compiled = 1;
  if (!load(path, j->key, &j->code, &foreign))
    return nm_fail(err, NM_EINVAL, "jit: %s was built but does not load (%s)", path,
                     foreign ? "wrong key" : "dlopen failed");
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
  pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t fresh_cond = PTHREAD_COND_INITIALIZER;
  build_lock = jobs_lock = fresh;
  build_turn = fresh_cond;
  building = 0;
  atomic_store(&in_flight, 0);
  for (nm_jit_job *j = jobs; j; j = j->next) {
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


/* Frees the orphaned jobs that finished (their objects are in the cache). */
static void reap_orphans(void)
{
  for (;;) {
    nm_jit_job *found = NULL;
    pthread_mutex_lock(&jobs_lock);
    for (nm_jit_job *j = jobs; j && !found; j = j->next)
      if (j->orphan && atomic_load_explicit(&j->done, memory_order_acquire)) found = j;
    pthread_mutex_unlock(&jobs_lock);
    if (!found) return;
    job_join(found);
    counts.compiled += (unsigned long)found->compiled;
    job_free(found, 0);
  }
}


/* Starts compiling `src` (taken, with its key) for p on a thread: p->job and
** jit_state 2; or a failure (src freed). */
static int job_start(nm_program *p, char *src, const char *key, const char *dir, nm_error *err)
{
  size_t n = strlen(src);
  /* The key goes into the object: a file filed under another name is refused. */
  char *full = realloc(src, n + 80);
  nm_jit_job *j = full ? calloc(1, sizeof *j) : NULL;
  if (!j) { free(full ? full : src); return nm_fail(err, NM_ENOMEM, "jit: out of memory"); }
  j->src = full;
  j->n = n + (size_t)snprintf(full + n, 80, "\nconst char nm_jit_key[] = \"%s\";\n", key);
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
    return nm_fail(err, NM_EINVAL, "jit: cannot start a thread for the compiler (%s)", strerror(e));
  }
  pthread_mutex_lock(&jobs_lock);
  j->next = jobs;
  jobs = j;
  pthread_mutex_unlock(&jobs_lock);
  p->job = j;
  p->jit_state = 2;
  return NM_OK;
}


/* Takes p's job, waiting for it if it still runs: jit_state 1 and
** p->native, or -1 (counted as failed) with the reason in *err. */
static int job_adopt(nm_program *p, nm_error *err)
{
  nm_jit_job *j = p->job;
  job_join(j);
  p->job = NULL;
  counts.compiled += (unsigned long)j->compiled;
  counts.loaded += (unsigned long)j->loaded;
  int rc = j->rc;
  if (rc == NM_OK && !(p->native = malloc(sizeof *p->native)))
    rc = nm_fail(&j->err, NM_ENOMEM, "jit: out of memory");
  if (rc == NM_OK) {
    *p->native = j->code;
    p->jit_state = 1;
  } else {
    p->jit_state = -1;
    counts.failed++;
    nm_fail(err, rc, "%s", j->err.why);
  }
  job_free(j, rc == NM_OK);
  return rc;
}


/* How far nm_jit_prepare goes for a program not tried yet. */
enum { LOOK_ONLY, BACKGROUND, WAIT };


/* Native code for p: from the cache at once, else (unless LOOK_ONLY) a
** compile on a job's thread, waited for when WAIT.  NM_OK (p->jit_state 1,
** or 2 while compiling), 1 when it is not cached and not to be built, or a
** failure (negative) with its reason in *err. */
static int obtain(nm_program *p, int how, nm_error *err)
{
  char dir[4096], path[4200];
  char *src = nm_jit_emit(p);
  if (!src)
    return nm_fail(err, NM_EINVAL, "jit: this program is not lane-local (a store overlaps "
                     "another lane's read) or memory ran out; it stays interpreted");
  char key[33];
  key_of(src, key);
  if (!cache_dir(dir, sizeof dir)) {
    free(src);
    return nm_fail(err, NM_EINVAL, "jit: no writable cache directory ($XDG_CACHE_HOME/neuromass "
                     "or ~/.cache/neuromass)");
  }
  snprintf(path, sizeof path, "%s/%s.so", dir, key);
  struct nm_jit_code code;
  int foreign;
  if (load(path, key, &code, &foreign)) {
    free(src);
    counts.loaded++;
    p->native = malloc(sizeof *p->native);
    if (!p->native) { dlclose(code.handle); return nm_fail(err, NM_ENOMEM, "jit: out of memory"); }
    *p->native = code;
    p->jit_state = 1;
    return NM_OK;
  }
  if (foreign) counts.refused++;
  if (how == LOOK_ONLY) { free(src); return 1; }
  int rc = job_start(p, src, key, dir, err);
  if (rc == NM_OK && how == WAIT) rc = job_adopt(p, err);
  return rc;
}


void nm_jit_release(nm_program *p)
{
  /* A compile in flight goes on, so that the next model of the same mass (a
  ** scan building one model per run) finds it in the cache. */
  if (p->job) {
    p->job->orphan = 1;
    p->job = NULL;
  }
  reap_orphans();
  if (!p->native) return;
  dlclose(p->native->handle);
  free(p->native);
  p->native = NULL;
  p->use_native = 0;
}


static int disabled_by_env(void)
{
  const char *e = getenv("NEUROMASS_JIT");
  return e && (strcmp(e, "0") == 0 || strcmp(e, "off") == 0);
}


/* Waiting for a compile pays only when it cannot run beside the run (the
** run's threads take every core) and the run is long enough that the
** interpreted part would cost more than the wait. */
static int better_to_wait(double work, int threads)
{
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  if (cores > 0 && threads < cores) return 0;
  return work * NM_JIT_INTERP_S > 4 * NM_JIT_COMPILE_S;
}


int nm_jit_prepare(nm_model *m, int mode, double evals, int threads, nm_error *err)
{
  if (mode < NM_JIT_OFF || mode > NM_JIT_REQUIRE)
    return nm_fail(err, NM_EINVAL, "run: jit mode %d; modes are %d (off) to %d (require)", mode,
                   NM_JIT_OFF, NM_JIT_REQUIRE);
  int off = mode == NM_JIT_OFF || disabled_by_env();
  reap_orphans();
  m->jit_live = !off;
  m->jit_pending = 0;
  for (int st = 0; st < 3; st++) {
    for (size_t i = 0; i < m->n_progs[st]; i++) {
      nm_program *p = m->progs[st][i];
      nm_error why = { 0 };
      p->use_native = 0;
      /* A compile in flight is taken when done, or waited for when the mode asks for native code now. */
      if (p->jit_state == 2 &&
          (atomic_load_explicit(&p->job->done, memory_order_acquire) || (!off && mode != NM_JIT_AUTO))) {
        if (job_adopt(p, &why) != NM_OK && mode == NM_JIT_REQUIRE && !off)
          return nm_fail(err, NM_EINVAL, "%s", why.why);
      }
      if (p->jit_state == 2) m->jit_pending++;
      if (off || p->n_ins == 0) continue;
      if (p->jit_state == 0) {
        double work = (double)p->n_ins * (double)p->lanes * evals;
        int how = WAIT;
        if (mode == NM_JIT_AUTO) {
          if (work < NM_JIT_LOOK) continue;
          how = work < NM_JIT_WORK ? LOOK_ONLY : better_to_wait(work, threads) ? WAIT : BACKGROUND;
        }
        int rc = obtain(p, how, &why);
        if (rc < 0 && p->jit_state == 0) {
          p->jit_state = -1;
          counts.failed++;
        }
        if (rc < 0 && mode == NM_JIT_REQUIRE) return nm_fail(err, rc, "%s", why.why);
        if (p->jit_state == 2) m->jit_pending++;
      }
      if (p->jit_state < 0 && mode == NM_JIT_REQUIRE)
        return nm_fail(err, NM_EINVAL, "jit: a program has no native code (an earlier attempt "
                       "failed) and the run requires it");
      if (p->jit_state == 1) { p->use_native = 1; counts.native++; }
    }
  }
  return NM_OK;
}


void nm_jit_switch(nm_model *m)
{
  int pending = 0;
  for (int st = 0; st < 3; st++)
    for (size_t i = 0; i < m->n_progs[st]; i++) {
      nm_program *p = m->progs[st][i];
      if (p->jit_state != 2) continue;
      if (!atomic_load_explicit(&p->job->done, memory_order_acquire)) { pending++; continue; }
      nm_error why = { 0 };
      if (job_adopt(p, &why) == NM_OK && m->jit_live && p->n_ins > 0) {
        p->use_native = 1;
        counts.native++;
        counts.switched++;
      }
    }
  m->jit_pending = pending;
}


void nm_jit_stats(nm_jit_counts *out)
{
  *out = counts;
  out->compiling = atomic_load(&in_flight);
}
