/*
** jit.h: native code for compiled programs, shared by the engine's jit files.
** jit_emit.c writes a program's main code as C; jit_job.c compiles it with
** the system C compiler, on a thread beside the run, into a shared object
** that jit_cache.c files by content hash, loads and decides, per run, which
** programs evaluate natively and when a run switches (docs/jit.md).
*/
#ifndef nm_jit_h
#define nm_jit_h

#include "engine.h"

/* What native code calls back into the engine for (table lookups themselves
** are compiled into it from table2d_code.h, the engine's own text).  Native
** code reaches these through this table, never by symbol (the engine may live
** in a Lua module loaded without global symbols). */
typedef struct {
  void (*count_clamped)(nm_table2d *tbl, unsigned long n, double row_x, double col_x);
  double (*hist_read)(const nm_hist *h, const double *V, long sig, int delay);
  /* exp over a block's lanes with libm's bits (nm_exp_lanes, exp_lanes.h) */
  void (*exp_lanes)(size_t n, const double *x, double *out);
} nm_jit_env;

/* The emitted function: the program's main code over lanes l0 .. l1-1, reading
** the prologue's registers (and the constants) from R (register k, lane l at
** R[k * W + l]; W is the program's stride, which the code also has as literal
** offsets). */
typedef void (*nm_jit_fn)(const nm_jit_env *env, const double *R, size_t W, const nm_eval_ctx *ctx,
                          size_t l0, size_t l1);

struct nm_jit_code {
  nm_jit_fn fn;
  void *handle;           /* dlopen's */
};

/* The engine's table (jit_cache.c). */
extern const nm_jit_env nm_jit_env_engine;

/* The C compiler's flags, NULL-terminated (jit_job.c; part of the cache key). */
extern const char *const nm_jit_cc_flags[];
/* The flags added when the CPU's identity is known ("-march=native", ...),
** NULL-terminated. */
extern const char *const nm_jit_cc_native[];
/* The tuning flag added after nm_jit_cc_native for the CPU of identity `cpu`
** (jit_job.c; NULL: none): "-mtune=sapphirerapids" for an Intel CPU with
** AVX512-FP16, whose gathers are fast; "-DNM_JIT_WIDE" (512-bit blocks for
** table programs, jit_emit.c) for an AMD CPU with AVX512-VP2INTERSECT (Zen 5). */
const char *nm_jit_cc_tune_of(const char *cpu);
/* This machine's CPU identity (jit_job.c): the lines of /proc/cpuinfo that
** name the CPU and its instruction sets, read once per process; NULL when
** they cannot be read (then code is compiled without nm_jit_cc_native). */
const char *nm_jit_cpu_identity(void);
/* The identity in the text of a /proc/cpuinfo (its first processor's block:
** the vendor_id, model name, flags lines, or ARM's CPU implementer ...
** Features lines), malloc'd; NULL when it names no instruction sets ("flags"
** or "Features") or memory ran out. */
char *nm_jit_cpu_identity_of(const char *cpuinfo);
/* The cache key of a source compiled for the CPU `cpu` (NULL: unknown, no
** nm_jit_cc_native), 32 hex digits (jit_cache.c). */
void nm_jit_key_of(const char *src, const char *cpu, char key[33]);

/* Why nm_jit_load refused a file (*foreign; 0: there is none). */
enum { NM_JIT_UNREADABLE = 1, NM_JIT_NOT_ELF, NM_JIT_UNSEALED, NM_JIT_NO_DLOPEN, NM_JIT_CHANGED,
       NM_JIT_NO_SYMBOLS, NM_JIT_OTHER_KEY };
/* Loads `path` if it is the shared object of `key` (jit_cache.c), whole
** and sealed (nm_jit_seal): 1, and *code filled; 0 when there is none
** (*foreign = 0) or it is refused (*foreign: one of the reasons above). */
int nm_jit_load(const char *path, const char *key, struct nm_jit_code *code, int *foreign);
/* The words for a refusal of nm_jit_load (*foreign), e.g. "not a complete
** ELF shared object". */
const char *nm_jit_refusal(int foreign);
/* A test's seam (tests/c/test_jit.c): when set, nm_jit_load calls it with the
** path between the check of the file and its dlopen, where another process's
** rename may put another file in place.  NULL in the library. */
extern void (*nm_jit_load_between)(const char *path);
/* The most seconds a compile may take (jit_job.c): a compiler still running
** then is killed and the compile fails, naming the limit, so that a run with
** jit = "always" or "require" never waits for a hung compiler for ever.  300;
** tests/c/test_jit.c lowers it. */
extern double nm_jit_compile_limit;
/* Opens a file of the cache (jit_cache.c) with `flags` (O_CREAT: mode
** 0600): without blocking (the open of a FIFO would wait for the other end,
** and a signal does not end the wait), and only a regular file, then in
** blocking mode.  The descriptor, or -1 with errno (EINVAL: not regular). */
int nm_jit_open(const char *path, int flags);
/* Seals the object just compiled at `path` (its temporary name, before the
** rename into place; jit_cache.c): appends the hash of its bytes, which
** nm_jit_load checks.  0 or the errno of the failure. */
int nm_jit_seal(const char *path);

/* A compile on a thread of its own (jit_job.c). */
typedef struct nm_jit_job nm_jit_job;

/* Starts compiling `src` (n bytes, taken: freed by the job; it defines
** nm_jit_key = key) into dir/<key>.so; NULL with the reason in err. */
nm_jit_job *nm_jit_job_start(char *src, size_t n, const char *key, const char *dir, nm_error *err);
/* Whether j finished (its result is ready: finishing it does not wait). */
int nm_jit_job_done(nm_jit_job *j);
/* Waits for j and frees it: NM_OK and *code loaded, or the failure with its
** reason in err; *loaded: whether it found the object another job built. */
int nm_jit_job_finish(nm_jit_job *j, struct nm_jit_code *code, int *loaded, nm_error *err);
/* Leaves j to finish for the cache (its program is freed). */
void nm_jit_job_orphan(nm_jit_job *j);
/* Frees the orphans that finished. */
void nm_jit_job_reap(void);
/* Jobs that have not finished. */
unsigned long nm_jit_jobs_in_flight(void);
/* Objects this process compiled, each counted when it is in the cache
** (whether or not a program has taken it yet). */
unsigned long nm_jit_jobs_compiled(void);

/* The C source of `p`'s main code (jit_emit.c), NUL-terminated, malloc'd;
** NULL when the program cannot be evaluated lane by lane with the
** interpreter's results (a store overlapping another lane's read) or memory
** ran out.  The source defines nm_jit_main (an nm_jit_fn); its text depends
** on the program and on the engine's structure layouts only. */
char *nm_jit_emit(const nm_program *p);

/* Runs p's native code over lanes l0 .. l1-1 (expr.c calls it when p->use_native). */
static inline void nm_jit_run(nm_program *p, const nm_eval_ctx *ctx, size_t l0, size_t l1)
{
  p->native->fn(&nm_jit_env_engine, p->regs, p->stride, ctx, l0, l1);
}

/* Before a run of `m` (sim.c): mode is enum nm_jit_mode, evals the right-hand
** side evaluations the run expects (steps times stages), threads the threads
** the run takes.  Sets every program's use_native; loads native code, or
** compiles it (in the background, or waiting for it) as the mode and the rule
** of docs/jit.md say.  NM_OK, or (NM_JIT_REQUIRE only) the failure with its
** reason in err; NM_EINTR when *interrupt (optional: the run's stop flag) is
** set while it waits for a compile, which goes on. */
int nm_jit_prepare(nm_model *m, int mode, double evals, int threads,
                   volatile sig_atomic_t *interrupt, nm_error *err);

/* Switches the programs of m whose background compile finished to their
** native code (when the run allows native code).  Call between steps only,
** when no other thread evaluates m's programs (nm_jit_poll). */
void nm_jit_switch(nm_model *m);

/* The run loops' check, once per step: cheap while nothing compiles. */
static inline void nm_jit_poll(nm_model *m)
{
  if (m->jit_pending) nm_jit_switch(m);
}

/* Forgets p's native code (nm_program_free); a compile in flight goes on
** for the cache (cancelled at exit: its compiler killed and reaped, its
** temporary files removed). */
void nm_jit_release(nm_program *p);

#endif
