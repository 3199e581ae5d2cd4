/*
** test_history.c: the delay history of a simulation.  A large one holds
** what the runs read (nm_sim_reserve): a short run of a model with long
** delays allocates a short ring, grown for the runs that continue it, with
** the bits of a history holding the longest delay from the start.  When
** memory runs out while it is made (the ring, or the copy of it the
** coupling sums stage for their windows), the reason names the history and
** its size in bytes, not "a simulation of N signals"; the estimate a run's
** memory check makes counts them both.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/sim.h"
#include "test_main.h"

enum { N = 64 };


/* x_i' = -x_i + U_i + 0.02 (x_i(t - 5 dt) + x_i(t - longest dt)), U_i = sum
** over j != i of 0.01 x_j(t - d_ij) (`mode` NM_ADDITIVE) or of 0.01 (x_j(t -
** d_ij) - x_i(t)) (NM_DIFFUSIVE) (x_i(0) from -0.05 to 0.11), the delays
** 20 .. 59 steps in even rows (rows with windows: coupling_ahead.c; half the
** terms, so that a diffusive sum is staged), 1 .. 40 in odd ones, and d_01 =
** d_10 = `longest`. */
static nm_model *delayed(int longest, int mode)
{
  nm_model *m = nm_model_new(N, 0, 0, N);
  if (!m) return NULL;
  nm_node rhs[] = { { NM_OP_SIGNAL, -1, -1, -1, 0.0, 0, 0 }, { NM_OP_NEG, 0, -1, -1, 0.0, 0, 0 },
                    { NM_OP_INPUT, -1, -1, -1, 0.0, 0, 0 }, { NM_OP_ADD, 1, 2, -1, 0.0, 0, 0 },
                    { NM_OP_HIST, -1, -1, -1, 0.0, 0, 5 }, { NM_OP_HIST, -1, -1, -1, 0.0, 0, 0 },
                    { NM_OP_CONST, -1, -1, -1, 0.02, 0, 0 }, { NM_OP_ADD, 4, 5, -1, 0.0, 0, 0 },
                    { NM_OP_MUL, 6, 7, -1, 0.0, 0, 0 }, { NM_OP_ADD, 3, 8, -1, 0.0, 0, 0 } };
  rhs[5].delay = longest;
  nm_root root = { 9, NM_SINK_DERIV, 0 };
  nm_error err;
  nm_program *p = nm_program_compile(rhs, 10, &root, 1, N, &err);
  int rc = p ? nm_model_add_program(m, NM_STAGE_RHS, p) : err.status;
  if (p && rc != NM_OK) nm_program_free(p);
  size_t row_ptr[N + 1], k = 0;
  long dst[N], src[N * N];
  int delay[N * N];
  double w[N * N];
  for (long i = 0; i < N; i++) {
    dst[i] = i;
    row_ptr[i] = k;
    for (long j = 0; j < N; j++)
      if (j != i) {
        src[k] = j;
        delay[k] = i + j == 1 ? longest : (i % 2 ? 1 : 20) + (int)((7 * i + 3 * j) % 40);
        w[k++] = 0.01;
      }
  }
  row_ptr[N] = k;
  double v0[N];
  for (long i = 0; i < N; i++) v0[i] = 0.01 * (double)(i % 17) - 0.05;
  const long *self = mode == NM_DIFFUSIVE ? dst : NULL;     /* row i's own signal: x_i */
  if (rc == NM_OK) rc = nm_model_add_coupling(m, mode, N, dst, self, row_ptr, src, delay, w);
  if (rc == NM_OK) rc = nm_model_set_initial(m, v0, N);
  if (rc != NM_OK) { nm_model_free(m); return NULL; }
  return m;
}


/* This process's address space in bytes (VmSize), 0 when unknown. */
static size_t address_space(void)
{
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  size_t kb = 0;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "VmSize: %zu kB", &kb) == 1) break;
  if (f) fclose(f);
  return kb * 1024;
}


/* May a test limit a child's address space (RLIMIT_AS)?  Not under
** AddressSanitizer: the limit cannot hold its reserved shadow memory, and
** the child waits for ever on the sanitizer's allocator.  (The cases that do
** are compiled either way, and skipped at run time.) */
static int address_space_limits(void)
{
#if defined(__SANITIZE_ADDRESS__)
  return 0;
#else
  return 1;
#endif
}


/* The text job(arg, room) returns, computed in a child process (whose
** address space it may limit), in why ("" when none came). */
static void in_child(const char *(*job)(int, size_t), int arg, size_t room, char *why, size_t size)
{
  int fd[2];
  why[0] = 0;
  if (pipe(fd) != 0) return;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    const char *text = job(arg, room);
    ssize_t n = write(fd[1], text, strlen(text));
    _exit(n < 0);
  }
  close(fd[1]);
  ssize_t n = pid > 0 ? read(fd[0], why, size - 1) : -1;
  why[n > 0 ? n : 0] = 0;
  close(fd[0]);
  if (pid > 0) waitpid(pid, NULL, 0);
}


static int run_steps(nm_sim *s, int method, const long *n, size_t runs);


/* A simulation of a model whose longest delay is `longest` steps made to
** hold it all (nm_sim_reserve) once its address space may grow by only
** `room` bytes more: its reason, "" when it succeeded. */
static const char *reserve_with_room(int longest, size_t room)
{
  nm_model *m = delayed(longest, NM_ADDITIVE);
  int status;
  nm_sim *s = m ? nm_sim_new(m, 0.1, 1, &status) : NULL;
  struct rlimit lim = { address_space() + room, RLIM_INFINITY };
  if (!s || setrlimit(RLIMIT_AS, &lim) != 0) return "the simulation could not be made";
  status = nm_sim_reserve(s, (size_t)longest);
  return status == NM_OK ? "" : nm_sim_error(s, status);
}


/* Whether a new simulation's additive sums go ahead and stage a copy of the
** history (coupling_ahead.c: only where there are SIMD kernels); when not,
** says which check is skipped. */
static int staged_copy(const char *check)
{
  int gather;
  nm_simd_choose(NULL, &gather, NULL);
  if (gather == NM_SIMD_OFF) printf("SKIP %s: no staged copy without SIMD kernels\n", check);
  return gather != NM_SIMD_OFF;
}


static void test_history_named(void)
{
  if (!staged_copy("the staged copy that does not fit")) return;
  int longest = (1 << 16) - 2;       /* a ring of 65536 rows */
  nm_model *m = delayed(longest, NM_ADDITIVE);
  if (!CHECK(m != NULL, "build a 64-node network with delays up to %d steps", longest)) return;
  nm_model_free(m);
  size_t ring = nm_history_ring_bytes(N, (size_t)longest, SIZE_MAX);
  char why[512];
  /* Room for the ring but not for the staged copy of its values (2/3 of it). */
  in_child(reserve_with_room, longest, ring + ring / 4, why, sizeof why);
  CHECK(strstr(why, "delay history") && strstr(why, "cannot be allocated") && strstr(why, "bytes") &&
        !strstr(why, "a simulation of"),
        "the staged copy that does not fit names the delay history and its bytes (got '%s')", why);
  /* No room for the ring itself. */
  in_child(reserve_with_room, longest, ring / 2, why, sizeof why);
  CHECK(strstr(why, "delay history of 64 signals over 65536 steps needs") && strstr(why, "bytes"),
        "a ring that does not fit is named with its bytes (got '%s')", why);
}


/* A simulation that has run 200 steps of a model whose longest delay is
** `longest` steps, grown to hold it all (nm_sim_reserve) with room for the
** new ring but not for the staged copy of it: the reserve fails, the
** simulation keeps its ring, bit for bit, and (given memory again) runs on
** as one never grown does.  "" when all that holds, else what did not. */
static const char *reserve_kept(int longest, size_t room)
{
  static char why[768];
  nm_model *m = delayed(longest, NM_ADDITIVE);
  int st1, st2;
  nm_sim *a = m ? nm_sim_new(m, 0.1, 1, &st1) : NULL, *b = m ? nm_sim_new(m, 0.1, 1, &st2) : NULL;
  long first[] = { 200 }, then[] = { 300 };
  if (!a || !b || run_steps(a, NM_EULER, first, 1) != NM_OK || run_steps(b, NM_EULER, first, 1) != NM_OK)
    return "the simulations could not be made and run";
  size_t depth = a->depth, reach = a->reach, n = 2 * a->width * depth;
  double *ring = a->ring, *copy = malloc(n * sizeof *copy), *dcopy = malloc(n / 2 * sizeof *dcopy);
  if (!copy || !dcopy) return "no memory for the copies";
  memcpy(copy, a->ring, n * sizeof *copy);
  memcpy(dcopy, a->dring, n / 2 * sizeof *dcopy);
  struct rlimit lim = { address_space() + room, RLIM_INFINITY }, all = { RLIM_INFINITY, RLIM_INFINITY };
  if (setrlimit(RLIMIT_AS, &lim) != 0) return "the address space could not be limited";
  int rc = nm_sim_reserve(a, (size_t)longest);
  setrlimit(RLIMIT_AS, &all);
  if (rc == NM_OK) return "the reserve succeeded";
  const char *reason = nm_sim_error(a, rc);
  if (!strstr(reason, "keeps its history of"))
    return snprintf(why, sizeof why, "the reason does not say the history is kept: %s", reason), why;
  if (a->ring != ring || a->depth != depth || a->reach != reach || a->unusable)
    return "the simulation does not hold its old ring";
  if (memcmp(a->ring, copy, n * sizeof *copy) != 0 || memcmp(a->dring, dcopy, n / 2 * sizeof *dcopy) != 0)
    return "the old ring's contents changed";
  if (run_steps(a, NM_EULER, then, 1) != NM_OK || run_steps(b, NM_EULER, then, 1) != NM_OK)
    return snprintf(why, sizeof why, "the runs after it failed: %s", nm_sim_error(a, NM_ENOMEM)), why;
  if (memcmp(nm_sim_signals(a), nm_sim_signals(b), N * sizeof(double)) != 0)
    return "the run after the failed reserve differs from one never grown";
  return "";
}


/* A reserve that runs out of memory keeps the history it had. */
static void test_reserve_kept(void)
{
  if (!staged_copy("a reserve without room for the staged copy")) return;
  int longest = (1 << 16) - 2;
  size_t ring = nm_history_ring_bytes(N, (size_t)longest, SIZE_MAX);
  char why[768];
  in_child(reserve_kept, longest, ring + ring / 4, why, sizeof why);
  CHECK(why[0] == 0, "a reserve without room for the staged copy keeps the old ring, bit for bit, "
        "and the simulation runs on as one never grown (got '%s')", why);
}


/* A reach that grows within the rows the ring has (200 steps run: a reach
** of 210 in 256 rows, then 20 more) keeps the ring where it is, without a
** copy of it, and the estimate of the run's peak counts no second ring. */
static void test_reserve_in_place(void)
{
  int longest = (1 << 16) - 2;
  nm_model *m = delayed(longest, NM_ADDITIVE);
  int status;
  nm_sim *s = m ? nm_sim_new(m, 0.1, 1, &status) : NULL;
  long first[] = { 200 };
  if (!CHECK(s && run_steps(s, NM_EULER, first, 1) == NM_OK, "a simulation run 200 steps")) {
    nm_sim_free(s);
    nm_model_free(m);
    return;
  }
  double *ring = s->ring, *dring = s->dring;
  size_t depth = s->depth, reach = s->reach;
  int rc = nm_sim_reserve(s, 20);
  CHECK(rc == NM_OK && s->reach > reach && s->depth == depth,
        "the reach grows from %zu to %zu in the ring's %zu rows", reach, s->reach, depth);
  CHECK(s->ring == ring && s->dring == dring, "the ring and its derivatives stay where they were");
  size_t bytes = nm_model_run_history_bytes(m, 220, NULL);
  size_t peak = nm_model_run_history_peak(m, 200, 220, SIZE_MAX, 0);
  CHECK(peak == bytes, "the peak of a run from step 200 to 220, %zu bytes, is the history's %zu", peak,
        bytes);
  nm_sim_free(s);
  nm_model_free(m);
}


/* The estimate of a run's history (nm_model_run_history_bytes, which run's
** memory check and `neuromass info` print) counts what the engine allocates
** for it: the ring and the copy of it the sums going ahead stage
** (coupling_ahead.c, 2/3 of the ring more here); a simulation given that
** much room, and a little for the rest, holds the longest delay. */
static void test_history_estimate(void)
{
  int longest = (1 << 16) - 2;
  nm_model *m = delayed(longest, NM_ADDITIVE);
  int status;
  nm_sim *s = m ? nm_sim_new(m, 0.1, 1, &status) : NULL;
  if (!CHECK(s && nm_sim_reserve(s, (size_t)longest) == NM_OK, "a simulation holding %d steps", longest)) {
    nm_sim_free(s);
    nm_model_free(m);
    return;
  }
  size_t ring_part, estimate = nm_model_run_history_bytes(m, (size_t)longest, &ring_part);
  size_t ring = 3 * s->width * s->depth * sizeof(double);
  size_t staged = s->sring ? (s->sring_n * NM_SRING_STRIDE(s->depth) + 1) * sizeof(double) : 0;
  int gather;
  nm_simd_choose(NULL, &gather, NULL);
  CHECK((gather == NM_SIMD_OFF ? staged == 0 : staged > ring / 2) && estimate == ring + staged && ring_part == ring,
        "the estimate, %zu bytes, is the ring's %zu and the staged copy's %zu", estimate, ring, staged);
  CHECK(nm_model_history_bytes(m) == estimate, "so is the estimate of a history held whole");
  CHECK(nm_sim_history_bytes(s) == estimate, "and what the simulation says it holds (%zu bytes)",
        nm_sim_history_bytes(s));
  nm_sim_free(s);
  nm_model_free(m);
  if (address_space_limits()) {
    char why[512];
    in_child(reserve_with_room, longest, estimate + estimate / 16, why, sizeof why);
    CHECK(why[0] == 0, "with room for the estimate, the history is made (got '%s')", why);
  }
}


/* n signals summed whole, each term 1 step late but d_01's, `longest` steps
** (a history held as the runs read it: 16 rows); built on the heap. */
static nm_model *wide(size_t n, int longest)
{
  nm_model *m = nm_model_new(n, 0, 0, n);
  size_t *row_ptr = malloc((n + 1) * sizeof *row_ptr), k = 0;
  long *dst = malloc(n * sizeof *dst), *src = malloc(n * n * sizeof *src);
  int *delay = malloc(n * n * sizeof *delay);
  double *w = malloc(n * n * sizeof *w), *v0 = calloc(n, sizeof *v0);
  int rc = m && row_ptr && dst && src && delay && w && v0 ? NM_OK : NM_ENOMEM;
  for (size_t i = 0; rc == NM_OK && i < n; i++) {
    dst[i] = (long)i;
    row_ptr[i] = k;
    for (size_t j = 0; j < n; j++)
      if (j != i) {
        src[k] = (long)j;
        delay[k] = i + j == 1 ? longest : 1;
        w[k++] = 0.01;
      }
  }
  if (rc == NM_OK) {
    row_ptr[n] = k;
    rc = nm_model_add_coupling(m, NM_ADDITIVE, n, dst, NULL, row_ptr, src, delay, w);
  }
  if (rc == NM_OK) rc = nm_model_set_initial(m, v0, n);
  free(row_ptr); free(dst); free(src); free(delay); free(w); free(v0);
  if (rc != NM_OK) { nm_model_free(m); return NULL; }
  return m;
}


/* A simulation of 600 signals whose longest delay is `longest` steps made
** with `room` bytes more of address space: its reason, or that it was made. */
static const char *wide_with_room(int longest, size_t room)
{
  nm_model *m = wide(600, longest);
  struct rlimit lim = { address_space() + room, RLIM_INFINITY };
  int status;
  if (!m || setrlimit(RLIMIT_AS, &lim) != 0) return "the model could not be made";
  return nm_sim_new(m, 0.1, 1, &status) ? "the simulation was made" : nm_model_error(m, status);
}


/* A simulation whose history is short (its longest delay 10^5 steps, held
** as the runs read it) failing after the history was made (the sums'
** offsets, 2.9 MB, past 1 MB of room): the message gives the history's
** bytes and its steps, 16, not the longest delay's. */
static void test_history_named_short(void)
{
  char why[512];
  in_child(wide_with_room, 100000, 1 << 20, why, sizeof why);
  CHECK(strstr(why, "once its delay history has taken 230400 bytes (16 steps)") != NULL,
        "a part failing after a short history names that history's steps (got '%s')", why);
}


/* Runs `n` steps of `runs` runs by `method`: NM_OK or the status. */
static int run_steps(nm_sim *s, int method, const long *n, size_t runs)
{
  int rc = NM_OK;
  for (size_t k = 0; k < runs && rc == NM_OK; k++) {
    nm_run_opts o;
    memset(&o, 0, sizeof o);
    o.n_steps = n[k];
    o.every = 1;
    o.method = method;
    o.threads = 1;
    o.jit = NM_JIT_OFF;
    rc = nm_sim_run(s, &o);
  }
  return rc;
}


/* A short run allocates a short ring; continued runs grow it, keeping what
** it held; every run gives the bits of one whose ring held the longest delay
** from the start (d_01 reads the initial values all along in both). */
static void test_reach_bits(int method, int mode, const char *name)
{
  int longest = 20000;                  /* 64 x 32768 x 24 bytes: more than held at once */
  nm_model *m = delayed(longest, mode);
  if (!CHECK(m != NULL, "build a 64-node network with delays up to %d steps", longest)) return;
  int st1, st2;
  nm_sim *a = nm_sim_new(m, 0.1, 1, &st1), *b = nm_sim_new(m, 0.1, 1, &st2);
  if (!CHECK(a && b, "two simulations")) { nm_sim_free(a); nm_sim_free(b); nm_model_free(m); return; }
  CHECK(a->depth <= 32, "a new simulation holds a few steps (depth %zu)", a->depth);
  /* The even rows go ahead (where there are SIMD kernels; a diffusive sum's
  ** only staged): row 0's term of d_01, longer than the history, reads its
  ** oldest time, as coupling.c's path does (nm_reach). */
  int ahead = mode == NM_ADDITIVE ? a->coupling_simd != NM_SIMD_OFF : a->stage_diffusive;
  int staged = a->n_fast && a->fast[0].n_ahead && a->fast[0].ahead[0].blk.rows;
  CHECK(a->n_fast == 1 && a->fast[0].n_ahead == ahead && (a->sring != NULL) == ahead &&
        staged == (ahead && mode == NM_DIFFUSIVE),
        "%s: the sum goes ahead%s (or not without SIMD blocks: %d)", name, staged ? ", staged" : "", ahead);
  int rc = nm_sim_reserve(b, (size_t)longest);
  CHECK(rc == NM_OK && b->depth == 32768, "reserved whole: depth %zu", b->depth);
  long pieces[] = { 150, 3000, 20, 1 };
  rc = run_steps(a, method, pieces, 4);
  CHECK(rc == NM_OK && a->depth == 4096 && a->reach < (size_t)longest,
        "%s: grown by its runs to depth %zu (4096), still short of the longest delay", name, a->depth);
  long whole[] = { 3171 };
  rc = run_steps(b, method, whole, 1);
  CHECK(rc == NM_OK && b->depth == 32768, "%s: the whole history kept its depth", name);
  const double *xa = nm_sim_signals(a), *xb = nm_sim_signals(b);
  CHECK(xa[5] != 0.0 && xa[5] != xa[6], "%s: the state moved (x_5 = %.17g)", name, xa[5]);
  CHECK(memcmp(xa, xb, N * sizeof(double)) == 0,
        "%s: runs of 150, 3000, 20 and 1 steps on a growing history end with the bits of one run of "
        "3171 on the whole history", name);
  nm_sim_free(a);
  nm_sim_free(b);
  nm_model_free(m);
}


int main(void)
{
  /* Diffusive sums staged wherever there are SIMD blocks, whatever this
  ** processor's gathers (simd.c nm_simd_stages): the staged copy is part of
  ** the memory these cases count. */
  nm_simd_stage_set(1);
  if (address_space_limits()) {
    /* First, on a fresh heap: the memory the other cases free stays in this
    ** process (and raises malloc's threshold for mapping a block of its own),
    ** where a child's allocations would find it without growing its address
    ** space. */
    test_history_named();
    test_history_named_short();
    test_reserve_kept();
  } else {
    printf("# skipped under AddressSanitizer: the cases that limit the address space\n");
  }
  test_history_estimate();
  test_reserve_in_place();
  test_reach_bits(NM_EULER, NM_ADDITIVE, "euler");
  test_reach_bits(NM_RK4, NM_ADDITIVE, "rk4");
  test_reach_bits(NM_EULER, NM_DIFFUSIVE, "euler, diffusive");
  test_reach_bits(NM_RK4, NM_DIFFUSIVE, "rk4, diffusive");
  nm_simd_stage_set(0);
  test_reach_bits(NM_EULER, NM_DIFFUSIVE, "euler, diffusive, not staged");
  nm_simd_stage_set(-1);
  return test_summary();
}
