/*
** jit_cache.c: native code for programs, from source to a loaded function.
** The source (jit_emit.c) is hashed with the compiler flags, the CPU's
** identity (the code is compiled for it), the engine version and the generation
** of its interface with the engine (NM_JIT_GENERATION); the shared
** object lives in $XDG_CACHE_HOME/neuromass/<hash>.so (default
** ~/.cache/neuromass), built by the system C compiler (jit_job.c,
** on a thread beside the run) under a temporary name and renamed into place
** (processes may race: the last rename wins, every candidate is complete).
** A cached file is trusted only when it is a regular file (opened without
** blocking), its seal is the hash of its bytes (nm_jit_seal, appended at
** build time), and its nm_jit_key symbol is the hash it is filed under;
** dlopen sees only files that hold every segment their headers promise
** (elf_complete).  Every failure leaves the program to the interpreter
** (silently, except NM_JIT_REQUIRE).  This file decides, per run, what loads,
** what compiles and whether the run waits (nm_jit_prepare), and switches a
** running program to its native code between steps (nm_jit_switch); the
** rule: docs/jit.md.
*/
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "exp_lanes.h"
#include "jit.h"

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


const nm_jit_env nm_jit_env_engine = { nm_table2d_count_clamped, hist_read, nm_exp_lanes };


/* The generation of the native code's interface with the engine (nm_jit_env
** and what emitted code expects of it), part of the key: raised when objects
** built before must never be loaded.  2: blocks take exp over their lanes
** from env->exp_lanes (exp_lanes.c), not from libm one value at a time.
** 3: lanes one by one take exp from the engine's step (exp_lanes.h) compiled
** into the object (jit_emit.c exp_one_of), not from libm. */
#define NM_JIT_GENERATION "3"


/* FNV-1a, 64 bits, continuing from h. */
static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++) { h ^= (unsigned char)s[i]; h *= 1099511628211ULL; }
  return h;
}


void nm_jit_key_of(const char *src, const char *cpu, char key[33])
{
  uint64_t h[2] = { 1469598103934665603ULL, 0x9e3779b97f4a7c15ULL };
  for (int k = 0; k < 2; k++) {
    h[k] = fnv(h[k], src, strlen(src));
    for (int f = 0; nm_jit_cc_flags[f]; f++)
      h[k] = fnv(h[k], nm_jit_cc_flags[f], strlen(nm_jit_cc_flags[f]) + 1);
    /* Code for this CPU: its flag and identity (another CPU gets another key). */
    if (cpu) {
      for (int f = 0; nm_jit_cc_native[f]; f++)
        h[k] = fnv(h[k], nm_jit_cc_native[f], strlen(nm_jit_cc_native[f]) + 1);
      const char *tune = nm_jit_cc_tune_of(cpu);
      if (tune) h[k] = fnv(h[k], tune, strlen(tune) + 1);
      h[k] = fnv(h[k], cpu, strlen(cpu) + 1);
    }
    h[k] = fnv(h[k], NM_VERSION, sizeof NM_VERSION);
    h[k] = fnv(h[k], NM_JIT_GENERATION, sizeof NM_JIT_GENERATION);
    h[k] = fnv(h[k], k ? "right" : "left", k ? 5 : 4);
  }
  snprintf(key, 33, "%016llx%016llx", (unsigned long long)h[0], (unsigned long long)h[1]);
}


/* The cache directory, created with its missing parents (mode 0700, as the
** XDG base directory rules ask; HOME itself is never made): 1 when it is
** there and writable; 2 when it is there and only readable (a cache filled
** beforehand: its objects load, none is added), errno the reason it is not
** writable; 0 when there is none, with `out` the directory tried ("" when
** neither variable names one) and errno the reason (ENOTDIR for a file in
** its place). */
static int cache_dir(char *out, size_t size)
{
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  out[0] = '\0';
  int n;
  size_t kept = 0;                      /* the leading bytes of `out` not to make */
  if (xdg && xdg[0] == '/') n = snprintf(out, size, "%s/neuromass", xdg);
  else if (!home || !home[0]) return 0;
  else {
    n = snprintf(out, size, "%s/.cache/neuromass", home);
    kept = strlen(home);
  }
  if ((size_t)n >= size) { errno = ENAMETOOLONG; return 0; }
  for (char *slash = strchr(out + kept + 1, '/'); ; slash = strchr(slash + 1, '/')) {
    if (slash) *slash = '\0';
    int made = mkdir(out, 0700) == 0 || errno == EEXIST;
    if (slash) *slash = '/';
    if (!made) return 0;
    if (!slash) break;
  }
  struct stat st;
  if (stat(out, &st) != 0) return 0;
  if (!S_ISDIR(st.st_mode)) { errno = ENOTDIR; return 0; }
  if (access(out, W_OK | X_OK) == 0) return 1;
  int e = errno;
  if (access(out, R_OK | X_OK) != 0) { errno = e; return 0; }
  errno = e;
  return 2;
}


/* The seal that ends every cached object (nm_jit_seal): this tag, then the
** FNV-1a hash (64 bits, little-endian) of every byte before the seal. */
static const char seal_tag[8] = { 'n', 'm', 'j', 'i', 't', 's', 'u', 'm' };
enum { SEAL = 16, MAX_OBJECT = 64 << 20 };


static uint64_t seal_hash(const char *data, size_t n)
{
  return fnv(14695981039346656037ULL, data, n);
}


/* Whether the n bytes hold a whole shared object of this machine's class:
** the ELF header, and every segment and the section table inside them.
** dlopen maps a truncated object without complaint and the process dies of
** SIGBUS when the loader touches the missing pages, so this runs first. */
static int elf_complete(const char *data, size_t n)
{
  ElfW(Ehdr) eh;
  if (n < sizeof eh) return 0;
  memcpy(&eh, data, sizeof eh);
  unsigned long long size = n;
  int ok = memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
           eh.e_ident[EI_CLASS] == (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32) &&
           eh.e_phentsize == sizeof(ElfW(Phdr)) && eh.e_phoff <= size && eh.e_shoff <= size &&
           eh.e_phoff + (unsigned long long)eh.e_phnum * eh.e_phentsize <= size &&
           eh.e_shoff + (unsigned long long)eh.e_shnum * eh.e_shentsize <= size;
  for (unsigned i = 0; ok && i < eh.e_phnum; i++) {
    ElfW(Phdr) ph;
    memcpy(&ph, data + eh.e_phoff + (unsigned long long)i * sizeof ph, sizeof ph);
    ok = (unsigned long long)ph.p_offset + ph.p_filesz <= size;
  }
  return ok;
}


int nm_jit_open(const char *path, int flags)
{
  int fd = open(path, flags | O_NONBLOCK | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || fcntl(fd, F_SETFL, 0) != 0) {
    close(fd);
    errno = EINVAL;
    return -1;
  }
  return fd;
}


/* The whole file of descriptor fd (at most MAX_OBJECT bytes) in a malloc'd
** buffer with `room` bytes to spare after it (*n: the file's bytes); NULL
** with *e the errno of the failure. */
static char *read_all(int fd, size_t room, size_t *n, int *e)
{
  struct stat st;
  *e = 0;
  if (fstat(fd, &st) != 0) { *e = errno; return NULL; }
  if (st.st_size > MAX_OBJECT) { *e = EFBIG; return NULL; }
  size_t size = (size_t)st.st_size, got = 0;
  char *data = malloc(size + room);
  if (!data) { *e = ENOMEM; return NULL; }
  while (got < size) {
    ssize_t r = pread(fd, data + got, size - got, (off_t)got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) { *e = r < 0 ? errno : EIO; free(data); return NULL; }
    got += (size_t)r;
  }
  *n = size;
  return data;
}


/* Whether the n bytes end with the seal of the bytes before it. */
static int sealed(const char *data, size_t n)
{
  unsigned char *h = (unsigned char *)data + n - 8;
  uint64_t want = 0;
  for (int b = 7; b >= 0; b--) want = want << 8 | h[b];
  return memcmp(data + n - SEAL, seal_tag, sizeof seal_tag) == 0 && seal_hash(data, n - SEAL) == want;
}


int nm_jit_seal(const char *path)
{
  int fd = nm_jit_open(path, O_RDONLY);
  if (fd < 0) return errno;
  size_t n;
  int e;
  char *data = read_all(fd, SEAL, &n, &e);
  close(fd);
  if (!e) {
    uint64_t h = seal_hash(data, n);
    memcpy(data + n, seal_tag, sizeof seal_tag);
    for (int b = 0; b < 8; b++) data[n + 8 + b] = (char)(h >> (8 * b) & 0xff);
    FILE *f = fopen(path, "ab");
    if (!f) e = errno;
    else {
      if (fwrite(data + n, 1, SEAL, f) != SEAL) e = errno ? errno : EIO;
      if (fclose(f) != 0 && !e) e = errno;
    }
  }
  free(data);
  return e;
}


void (*nm_jit_load_between)(const char *path);


/* Whether a and b are the same file in the same state: its inode, size,
** last change of its bytes and of its inode. */
static int same_file(const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
         a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
         a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}


int nm_jit_load(const char *path, const char *key, struct nm_jit_code *code, int *foreign)
{
  *foreign = 0;
  int fd = nm_jit_open(path, O_RDONLY);
  if (fd < 0) { *foreign = errno != ENOENT ? NM_JIT_UNREADABLE : 0; return 0; }
  struct stat checked, now;
  size_t n = 0;
  int e = 0;
  char *data = fstat(fd, &checked) == 0 ? read_all(fd, 0, &n, &e) : NULL;
  int whole = data && n >= SEAL && elf_complete(data, n);
  int why = !data ? NM_JIT_UNREADABLE : !whole ? NM_JIT_NOT_ELF
          : !sealed(data, n) ? NM_JIT_UNSEALED : 0;
  free(data);
  /* dlopen takes the path (dlopen of "/proc/self/fd/N" would hand back an
  ** object loaded earlier under the same name), where another process's
  ** rename may put another file between the check and the dlopen, or a
  ** writer change the file in place: after the dlopen the path must still
  ** name the file checked, unchanged (same_file).  It is held open meanwhile,
  ** so that its inode cannot become another file's.  Only a file put there
  ** and then the checked file linked back unchanged, which the cache's
  ** writers never do, would pass; the seal is no defence against whoever can
  ** write the cache anyway (docs/jit.md). */
  if (!why && nm_jit_load_between) nm_jit_load_between(path);
  void *h = !why ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
  if (!why && !h) why = NM_JIT_NO_DLOPEN;
  if (!why && !(stat(path, &now) == 0 && same_file(&checked, &now))) why = NM_JIT_CHANGED;
  close(fd);
  const char *k = !why ? dlsym(h, "nm_jit_key") : NULL;
  void *fn = !why ? dlsym(h, "nm_jit_main") : NULL;
  if (!why && (!k || !fn)) why = NM_JIT_NO_SYMBOLS;
  if (!why && strcmp(k, key) != 0) why = NM_JIT_OTHER_KEY;
  if (why) {
    if (h) dlclose(h);
    *foreign = why;
    return 0;
  }
  code->handle = h;
  memcpy(&code->fn, &fn, sizeof fn);     /* object to function pointer, as POSIX allows */
  return 1;
}


const char *nm_jit_refusal(int foreign)
{
  switch (foreign) {
  case NM_JIT_UNREADABLE: return "not a regular file that can be read";
  case NM_JIT_NOT_ELF: return "not a complete ELF shared object";
  case NM_JIT_UNSEALED: return "its seal does not match its bytes";
  case NM_JIT_NO_DLOPEN: return "dlopen refuses it";
  case NM_JIT_CHANGED: return "it changed while it was loaded";
  case NM_JIT_NO_SYMBOLS: return "it lacks nm_jit_main or nm_jit_key";
  case NM_JIT_OTHER_KEY: return "it is another program's object";
  default: return "there is none";
  }
}


/* Marks p's native code as failed (not retried), keeping `why` for a later
** jit = "require" of the same program, which then names it. */
static void mark_failed(nm_program *p, const char *why)
{
  p->jit_state = -1;
  free(p->jit_why);
  p->jit_why = why && why[0] ? strdup(why) : NULL;
  counts.failed++;
}


/* Takes p's job, waiting for it if it still runs: jit_state 1 and
** p->native, or -1 (counted as failed) with the reason in *err. */
static int job_adopt(nm_program *p, nm_error *err)
{
  nm_jit_job *j = p->job;
  struct nm_jit_code code;
  int loaded;
  p->job = NULL;
  int rc = nm_jit_job_finish(j, &code, &loaded, err);
  counts.loaded += (unsigned long)loaded;
  if (rc == NM_OK && !(p->native = malloc(sizeof *p->native))) {
    dlclose(code.handle);
    rc = nm_fail(err, NM_ENOMEM, "jit: out of memory");
  }
  if (rc == NM_OK) {
    *p->native = code;
    p->jit_state = 1;
  } else {
    mark_failed(p, err->why);
  }
  return rc;
}


/* Waits for job j to finish, looking at *interrupt (when given) every 2 ms:
** 1 when it finished, 0 when a signal asked the run to stop first (the
** compile goes on; the program keeps its job). */
static int job_wait(nm_jit_job *j, volatile sig_atomic_t *interrupt)
{
  const struct timespec tick = { 0, 2000000 };
  while (interrupt && !nm_jit_job_done(j)) {
    if (*interrupt) return 0;
    nanosleep(&tick, NULL);
  }
  return 1;
}


/* How far nm_jit_prepare goes for a program not tried yet. */
enum { LOOK_ONLY, BACKGROUND, WAIT };


/* Native code for p: from the cache at once, else (unless LOOK_ONLY) a
** compile on a job's thread, waited for when WAIT.  NM_OK (p->jit_state 1,
** or 2 while compiling), 1 when it is not cached and not to be built, or a
** failure (negative) with its reason in *err: NM_EINTR when *interrupt was set
** while it waited. */
static int obtain(nm_program *p, int how, volatile sig_atomic_t *interrupt, nm_error *err)
{
  char dir[4096], path[4200];
  char *src = nm_jit_emit(p);
  if (!src)
    return nm_fail(err, NM_EINVAL, "jit: this program is not lane-local (a store overlaps "
                     "another lane's read) or memory ran out; it stays interpreted");
  char key[33];
  nm_jit_key_of(src, nm_jit_cpu_identity(), key);
  int where = cache_dir(dir, sizeof dir);
  int e = errno;                        /* (why it is not writable: said when a compile would need it) */
  if (!where) {
    free(src);
    if (!dir[0])
      return nm_fail(err, NM_EINVAL, "jit: no cache directory: neither XDG_CACHE_HOME (an absolute "
                       "path) nor HOME is set");
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (xdg && xdg[0] && xdg[0] != '/')
      return nm_fail(err, NM_EINVAL, "jit: no writable cache directory: %s: %s (XDG_CACHE_HOME=\"%s\" "
                       "is ignored: not an absolute path)", dir, strerror(e), xdg);
    return nm_fail(err, NM_EINVAL, "jit: no writable cache directory: %s: %s (XDG_CACHE_HOME "
                     "chooses another)", dir, strerror(e));
  }
  snprintf(path, sizeof path, "%s/%s.so", dir, key);
  struct nm_jit_code code;
  int foreign;
  if (nm_jit_load(path, key, &code, &foreign)) {
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
  if (where == 2) {                     /* read-only: its objects load (above), none is added */
    free(src);
    return nm_fail(err, NM_EINVAL, "jit: no writable cache directory: %s: %s (it holds no object of this "
                     "program to load; XDG_CACHE_HOME chooses another)", dir, strerror(e));
  }
  /* The key goes into the object: a file filed under another name is refused. */
  size_t n = strlen(src);
  char *full = realloc(src, n + 80);
  if (!full) { free(src); return nm_fail(err, NM_ENOMEM, "jit: out of memory"); }
  n += (size_t)snprintf(full + n, 80, "\nconst char nm_jit_key[] = \"%s\";\n", key);
  if (!(p->job = nm_jit_job_start(full, n, key, dir, err))) return NM_EINVAL;
  p->jit_state = 2;
  if (how != WAIT) return NM_OK;
  return job_wait(p->job, interrupt) ? job_adopt(p, err) : NM_EINTR;
}


void nm_jit_release(nm_program *p)
{
  free(p->jit_why);
  p->jit_why = NULL;
  /* A compile in flight goes on, so that the next model of the same mass (a
  ** scan building one model per run) finds it in the cache. */
  if (p->job) {
    nm_jit_job_orphan(p->job);
    p->job = NULL;
  }
  nm_jit_job_reap();
  if (!p->native) return;
  dlclose(p->native->handle);
  free(p->native);
  p->native = NULL;
  p->use_native = 0;
}


/* NEUROMASS_JIT (nm.h): as NEUROMASS_SIMD, simd.c's nm_simd_cap. */
int nm_jit_env_check(nm_error *err)
{
  const char *e = getenv("NEUROMASS_JIT");
  if (!e || !*e || strcmp(e, "on") == 0 || strcmp(e, "1") == 0) return 0;
  if (strcmp(e, "off") == 0 || strcmp(e, "0") == 0) return 1;
  return nm_fail(err, NM_EINVAL, "NEUROMASS_JIT=\"%.40s\" in the environment: it must be off (or 0: "
                 "no native code), on (or 1) or unset (native code as each run's jit option says)", e);
}


/* Waiting for a compile pays only when it cannot run beside the run (the
** run's threads take every core) and the run is long enough that the
** interpreted part would cost more than the wait. */
static int better_to_wait(double work, int threads)
{
  if (threads < nm_cores()) return 0;
  return work * NM_JIT_INTERP_S > 4 * NM_JIT_COMPILE_S;
}


/* A run with jit = "require" that cannot have native code: the reason, said
** as the option's (the user's script names jit = "require"). */
static int require_failed(nm_error *err, int rc, const char *why)
{
  if (strncmp(why, "jit: ", 5) == 0) why += 5;
  return nm_fail(err, rc, "jit = \"require\": %s (jit = true runs interpreted instead)", why);
}


int nm_jit_prepare(nm_model *m, int mode, double evals, int threads,
                   volatile sig_atomic_t *interrupt, nm_error *err)
{
  if (mode < NM_JIT_OFF || mode > NM_JIT_REQUIRE)
    return nm_fail(err, NM_EINVAL, "run: jit mode %d; modes are %d (off) to %d (require)", mode,
                   NM_JIT_OFF, NM_JIT_REQUIRE);
  int env_off = nm_jit_env_check(err);
  if (env_off < 0) return env_off;
  if (mode == NM_JIT_REQUIRE && env_off)
    return require_failed(err, NM_EINVAL, "native code is turned off by NEUROMASS_JIT");
  int off = mode == NM_JIT_OFF || env_off;
  nm_jit_job_reap();
  m->jit_live = !off;
  m->jit_pending = 0;
  for (int st = 0; st < 3; st++) {
    for (size_t i = 0; i < m->n_progs[st]; i++) {
      nm_program *p = m->progs[st][i];
      nm_error why = { 0 };
      p->use_native = 0;
      /* A compile in flight is taken when done, or waited for when the mode asks for native code now. */
      if (p->jit_state == 2 &&
          (nm_jit_job_done(p->job) || (!off && mode != NM_JIT_AUTO))) {
        if (!job_wait(p->job, interrupt))
          return nm_fail(err, NM_EINTR, "interrupted while waiting for a compile");
        if (job_adopt(p, &why) != NM_OK && mode == NM_JIT_REQUIRE && !off)
          return require_failed(err, NM_EINVAL, why.why);
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
        int rc = obtain(p, how, interrupt, &why);
        if (rc == NM_EINTR && p->jit_state == 2)
          return nm_fail(err, NM_EINTR, "interrupted while waiting for a compile");
        if (rc < 0 && p->jit_state == 0) mark_failed(p, why.why);
        if (rc < 0 && mode == NM_JIT_REQUIRE) return require_failed(err, rc, why.why);
        if (p->jit_state == 2) m->jit_pending++;
      }
      if (p->jit_state < 0 && mode == NM_JIT_REQUIRE) {
        char said[700];
        snprintf(said, sizeof said, "an earlier attempt at this program's native code in this process "
                 "failed: %s", p->jit_why ? p->jit_why + (strncmp(p->jit_why, "jit: ", 5) == 0 ? 5 : 0)
                 : "(its reason was not kept)");
        return require_failed(err, NM_EINVAL, said);
      }
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
      if (!nm_jit_job_done(p->job)) { pending++; continue; }
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
  out->compiled = nm_jit_jobs_compiled();
  out->compiling = nm_jit_jobs_in_flight();
}
