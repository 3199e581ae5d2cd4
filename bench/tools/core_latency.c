/*
** core_latency.c: how long this machine's cores take to hand each other a
** cache line, the cost under every threaded step (its barriers, and each new
** value of the history read on another core than the one that wrote it).
** Two OpenMP threads, placed by the system as the engine's are:
**   round trip: thread 0 writes a counter, thread 1 answers with the next
**               value, and so on; the time per round trip;
**   row:        thread 0 writes a row of 512 doubles (64 cache lines, a step
**               of a 512-node network's history), thread 1 reads it whole and
**               answers; the time per row less a round trip, per line.
** Cores that share a last-level cache answer in tens of nanoseconds; across
** sockets (or chiplets without a shared cache) it takes hundreds.
**
** Usage: core_latency [REPS]   Prints "bench round_trip SECONDS" and
** "bench row_line SECONDS" per repetition (each the least of 20 tries of 2000),
** as bench/cases.lua does.
*/
#include <omp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { ROUNDS = 2000, TRIES = 20, ROW = 512 };

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static _Alignas(64) atomic_long turn;
static _Alignas(64) double row[ROW];


/* ROUNDS round trips between thread 0 and thread 1, thread 0 writing `lines`
** cache lines of the row before each (0: none) and thread 1 reading them;
** seconds per round trip, as thread 0 sees them. */
static double rounds(int lines)
{
  double t = 0.0, sum = 0.0;
#pragma omp parallel num_threads(2) reduction(+ : sum)
  {
    int me = omp_get_thread_num();
#pragma omp barrier
    if (me == 0) t = now();
    for (long k = 0; k < ROUNDS; k++) {
      if (me == 0) {
        for (int i = 0; i < lines * 8; i++) row[i] = (double)(k + i);
        atomic_store_explicit(&turn, 2 * k + 1, memory_order_release);
        while (atomic_load_explicit(&turn, memory_order_acquire) != 2 * k + 2) {}
      } else {
        while (atomic_load_explicit(&turn, memory_order_acquire) != 2 * k + 1) {}
        for (int i = 0; i < lines * 8; i += 8) sum += row[i];
        atomic_store_explicit(&turn, 2 * k + 2, memory_order_release);
      }
    }
    if (me == 0) t = now() - t;
  }
  atomic_store(&turn, 0);
  if (sum < 0.0) printf("#\n");      /* keeps thread 1's reads */
  return t / ROUNDS;
}


static double least(int lines)
{
  double best = 1e30;
  for (int k = 0; k < TRIES; k++) {
    double t = rounds(lines);
    if (t < best) best = t;
  }
  return best;
}


int main(int argc, char **argv)
{
  int reps = argc > 1 ? atoi(argv[1]) : 5;
  if (reps < 1 || omp_get_num_procs() < 2) {
    fprintf(stderr, "core_latency: needs REPS >= 1 and two cores\n");
    return 1;
  }
  for (int r = 0; r < reps; r++) {
    double trip = least(0), with_row = least(ROW / 8);
    printf("bench round_trip %.9g\n", trip);
    printf("bench row_line %.9g\n", (with_row - trip) / (ROW / 8));
  }
  return 0;
}
