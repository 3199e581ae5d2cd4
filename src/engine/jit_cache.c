/*
** jit_cache.c: native code for programs, from source to a loaded function.
** The source (jit_emit.c) is hashed with the compiler flags and the engine
** version; the shared object lives in $XDG_CACHE_HOME/neuromass/<hash>.so
** (default ~/.cache/neuromass), built by the system C compiler under a
** temporary name and renamed into place (processes may race: the last
** rename wins, every candidate is complete).  A cached file is trusted only
** when its nm_jit_key symbol is the hash it is filed under.  Every failure
** leaves the program to the interpreter (silently, except NM_JIT_REQUIRE).
** When to compile: docs/jit.md (nm_jit_prepare).
*/
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
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
  "-std=c11", "-O3", "-fno-math-errno", "-fPIC", "-shared", "-ffp-contract=off", "-fno-fast-math", NULL
};

/* A compile costs about 0.1 s; a run whose right-hand side evaluations
** (instructions x lanes x evaluations) reach this many is long enough to
** repay it (the interpreter spends ~1 to 5 ns per instruction and lane). */
#define NM_JIT_WORK 3e7
/* Looking in the cache (emitting the source, hashing it, dlopen) costs about
** a millisecond: a shorter run is interpreted without looking. */
#define NM_JIT_LOOK 1e6

static nm_jit_counts counts;


static double hist_read(const nm_hist *h, const double *V, long sig, int delay)
{
  return nm_hist_read(h, V, sig, delay);
}


const nm_jit_env nm_jit_env_engine = { nm_table2d_count_clamped, hist_read };


void nm_jit_stats(nm_jit_counts *out) { *out = counts; }


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


/* Runs the compiler on src into so, its messages into log; NM_OK or the
** failure with its reason in *err. */
static int compile(const char *src, const char *so, const char *log, nm_error *err)
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
  char **env = child_env();
  pid_t pid;
  int rc = env ? posix_spawnp(&pid, cc, &fa, NULL, (char *const *)argv, env) : ENOMEM;
  posix_spawn_file_actions_destroy(&fa);
  free(env);
  if (rc != 0)
    return nm_fail(err, NM_EINVAL, "jit: cannot run the C compiler '%s' (%s)", cc, strerror(rc));
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR)
      return nm_fail(err, NM_EINVAL, "jit: lost the C compiler '%s' (%s)", cc, strerror(errno));
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    return nm_fail(err, NM_EINVAL, "jit: the C compiler '%s' failed (status %d): see %s", cc,
                     WIFEXITED(st) ? WEXITSTATUS(st) : -1, log);
  return NM_OK;
}


/* Native code for p: from the cache, or compiled when `build`.  NM_OK and
** p->native set; 1 when it is not cached and not to be built; or a failure
** (negative) with its reason in *err.  The source and the object are
** written under temporary names and renamed into place (atomic_file.c), so
** processes sharing the cache never load a half-written object. */
static int obtain(nm_program *p, int build, nm_error *err)
{
  char dir[4096], path[4200], log[4300];
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
    counts.loaded++;
    goto done;
  }
  if (foreign) counts.refused++;
  if (!build) { free(src); return 1; }
  /* The key goes into the object: a file filed under another name is refused. */
  size_t n = strlen(src);
  char *full = realloc(src, n + 80);
  if (!full) { free(src); return nm_fail(err, NM_ENOMEM, "jit: out of memory"); }
  src = full;
  n += (size_t)snprintf(src + n, 80, "\nconst char nm_jit_key[] = \"%s\";\n", key);
  nm_outfile c_file = { 0 }, so_file = { 0 };
  char c_path[4200];
  snprintf(c_path, sizeof c_path, "%s/%s.c", dir, key);
  if (nm_outfile_init(&c_file, c_path) != NM_OK || nm_outfile_init(&so_file, path) != NM_OK) {
    nm_outfile_free(&c_file);
    nm_outfile_free(&so_file);
    free(src);
    return nm_fail(err, NM_ENOMEM, "jit: out of memory");
  }
  int rc = NM_OK, e = nm_outfile_write_all(&c_file, src, n);
  if (e) rc = nm_fail(err, NM_EINVAL, "jit: cannot write %s (%s)", c_file.tmp, strerror(e));
  /* A failed compile leaves its source and messages as <key>.c, <key>.log. */
  snprintf(log, sizeof log, "%s/%s.log", dir, key);
  if (rc == NM_OK) {
    rc = compile(c_file.tmp, so_file.tmp, log, err);
    if (rc == NM_OK) {
      remove(log);
      nm_outfile_discard(&c_file);
      if ((e = nm_outfile_commit(&so_file, NULL)) != 0)
        rc = nm_fail(err, NM_EINVAL, "jit: cannot rename %s into place (%s)", so_file.tmp, strerror(e));
    } else if (nm_outfile_commit(&c_file, NULL) != 0) {
      nm_outfile_discard(&c_file);
    }
  }
  nm_outfile_discard(&so_file);
  nm_outfile_free(&c_file);
  nm_outfile_free(&so_file);
  if (rc != NM_OK) { free(src); return rc; }
  counts.compiled++;
  if (!load(path, key, &code, &foreign)) {
    free(src);
    return nm_fail(err, NM_EINVAL, "jit: %s was built but does not load (%s)", path,
                     dlerror() ? "dlopen failed" : "wrong key");
  }
done:
  free(src);
  p->native = malloc(sizeof *p->native);
  if (!p->native) { dlclose(code.handle); return nm_fail(err, NM_ENOMEM, "jit: out of memory"); }
  *p->native = code;
  return NM_OK;
}


void nm_jit_release(nm_program *p)
{
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


int nm_jit_prepare(nm_model *m, int mode, double evals, nm_error *err)
{
  if (mode < NM_JIT_OFF || mode > NM_JIT_REQUIRE)
    return nm_fail(err, NM_EINVAL, "run: jit mode %d; modes are %d (off) to %d (require)", mode,
                   NM_JIT_OFF, NM_JIT_REQUIRE);
  int off = mode == NM_JIT_OFF || disabled_by_env();
  for (int st = 0; st < 3; st++) {
    for (size_t i = 0; i < m->n_progs[st]; i++) {
      nm_program *p = m->progs[st][i];
      p->use_native = 0;
      if (off || p->n_ins == 0) continue;
      if (p->jit_state == 0) {
        double work = (double)p->n_ins * (double)p->lanes * evals;
        if (mode == NM_JIT_AUTO && work < NM_JIT_LOOK) continue;
        int build = mode != NM_JIT_AUTO || work >= NM_JIT_WORK;
        nm_error why = { 0 };
        int rc = obtain(p, build, &why);
        if (rc == NM_OK) p->jit_state = 1;
        else if (rc < 0) {
          p->jit_state = -1;
          counts.failed++;
          if (mode == NM_JIT_REQUIRE) return nm_fail(err, rc, "%s", why.why);
        }
      }
      if (p->jit_state < 0 && mode == NM_JIT_REQUIRE)
        return nm_fail(err, NM_EINVAL, "jit: a program has no native code (an earlier attempt "
                       "failed) and the run requires it");
      if (p->jit_state == 1) { p->use_native = 1; counts.native++; }
    }
  }
  return NM_OK;
}
