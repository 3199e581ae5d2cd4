/*
** test_history.c: the delay history of a simulation: when memory runs out
** while it is made (the ring, or the copy of it the coupling sums stage for
** their windows), the reason names the history and its size in bytes, not
** "a simulation of N signals".
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


/* x_i' = -x_i + U_i, U_i = sum over j != i of 0.01 x_j(t - d_ij), the delays
** 20 .. 59 steps and d_01 = `longest`: an additive sum whose rows have windows. */
static nm_model *delayed(int longest)
{
  nm_model *m = nm_model_new(N, 0, 0, N);
  if (!m) return NULL;
  nm_node rhs[] = { { NM_OP_SIGNAL, -1, -1, -1, 0.0, 0, 0 }, { NM_OP_NEG, 0, -1, -1, 0.0, 0, 0 },
                    { NM_OP_INPUT, -1, -1, -1, 0.0, 0, 0 }, { NM_OP_ADD, 1, 2, -1, 0.0, 0, 0 } };
  nm_root root = { 3, NM_SINK_DERIV, 0 };
  nm_error err;
  nm_program *p = nm_program_compile(rhs, 4, &root, 1, N, &err);
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
        delay[k] = i == 0 && j == 1 ? longest : 20 + (int)((7 * i + 3 * j) % 40);
        w[k++] = 0.01;
      }
  }
  row_ptr[N] = k;
  if (rc == NM_OK) rc = nm_model_add_coupling(m, NM_ADDITIVE, N, dst, NULL, row_ptr, src, delay, w);
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


/* nm_sim_new of a model whose longest delay is `longest` steps, in a child
** whose address space may grow by `room` bytes: its reason (empty when it
** succeeded) in why. */
static void new_with_room(int longest, size_t room, char *why, size_t size)
{
  int fd[2];
  why[0] = 0;
  if (pipe(fd) != 0) return;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    nm_model *m = delayed(longest);
    struct rlimit lim = { address_space() + room, RLIM_INFINITY };
    const char *text = "the model could not be made";
    if (m && setrlimit(RLIMIT_AS, &lim) == 0) {
      int status;
      nm_sim *s = nm_sim_new(m, 0.1, 1, &status);
      text = s ? "" : nm_model_error(m, status);
    }
    ssize_t n = write(fd[1], text, strlen(text));
    _exit(n < 0);
  }
  close(fd[1]);
  ssize_t n = pid > 0 ? read(fd[0], why, size - 1) : -1;
  why[n > 0 ? n : 0] = 0;
  close(fd[0]);
  if (pid > 0) waitpid(pid, NULL, 0);
}


static void test_history_named(void)
{
  int longest = (1 << 16) - 2;       /* a ring of 65536 rows */
  nm_model *m = delayed(longest);
  if (!CHECK(m != NULL, "build a 64-node network with delays up to %d steps", longest)) return;
  size_t ring = nm_model_history_bytes(m);
  nm_model_free(m);
  char why[512];
  /* Room for the ring but not for the staged copy of its values (2/3 of it). */
  new_with_room(longest, ring + ring / 4, why, sizeof why);
  CHECK(strstr(why, "delay history") && strstr(why, "cannot be allocated") && strstr(why, "bytes") &&
        !strstr(why, "a simulation of"),
        "the staged copy that does not fit names the delay history and its bytes (got '%s')", why);
  /* No room for the ring itself. */
  new_with_room(longest, ring / 2, why, sizeof why);
  CHECK(strstr(why, "delay history of 64 signals over 65536 steps needs") && strstr(why, "bytes"),
        "a ring that does not fit is named with its bytes (got '%s')", why);
}


int main(void)
{
  test_history_named();
  return test_summary();
}
