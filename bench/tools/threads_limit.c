/*
** threads_limit.c: how much two threads can give on this machine for the
** random FHN networks of `make bench` (bench/cases.lua conn), written as
** plainly and as lean as threads allow: one OpenMP region for the whole run,
** each thread owning a contiguous half of the nodes (their coupling rows,
** their Euler update with OU noise, their column of the history ring), and a
** single barrier per step.  Not the engine: no recording, no checks, no
** inputs, and noise from near-normals that cost next to nothing.  Its step on
** one thread is somewhat longer than the engine's on the same network (scalar
** loads where the engine gathers by vectors), which only helps it here: its
** fixed costs weigh less.  Its 2-thread / 1-thread ratio is what a lean
** threaded loop gets on this machine: a bound for the engine's (bench/bench.lua).
**
** Usage: threads_limit N STEPS [REPS]   (N nodes, STEPS steps of 0.1 ms)
** Prints, as bench/cases.lua does, "bench time_one SECONDS" and "bench
** time_many SECONDS" per repetition (1 and 2 threads, alternately), then
** "bench steps", "bench connections" and "bench same 1" when both runs gave
** the same final state (they must: each node is computed by one thread).
*/
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  int n, depth;              /* nodes; ring rows (a power of two) */
  int *row_ptr, *col, *delay;
  long *off;                 /* col - delay * n: the term's place from the row of now */
  double *w;
} net;

static unsigned long long seed_state = 88172645463325252ULL;
static double u01_global(void)
{
  seed_state ^= seed_state << 13;
  seed_state ^= seed_state >> 7;
  seed_state ^= seed_state << 17;
  return (double)(seed_state >> 11) * 0x1.0p-53;
}

/* 10 % of off-diagonal entries, weights U(0, 1)·2/(0.1 N), lengths U(0, 250) mm at 20 mm/ms. */
static net make_net(int n, double dt)
{
  net g = { n, 1, malloc(sizeof(int) * (size_t)(n + 1)), NULL, NULL, NULL, NULL };
  size_t cap = (size_t)n * (size_t)n / 8 + 16, k = 0;
  g.col = malloc(sizeof(int) * cap);
  g.delay = malloc(sizeof(int) * cap);
  g.w = malloc(sizeof(double) * cap);
  int maxd = 0;
  for (int i = 0; i < n; i++) {
    g.row_ptr[i] = (int)k;
    for (int j = 0; j < n; j++) {
      double r = u01_global(), wr = u01_global(), len = u01_global() * 250.0;
      if (i == j || r >= 0.1) continue;
      if (k == cap) {
        cap *= 2;
        g.col = realloc(g.col, sizeof(int) * cap);
        g.delay = realloc(g.delay, sizeof(int) * cap);
        g.w = realloc(g.w, sizeof(double) * cap);
      }
      g.col[k] = j;
      g.delay[k] = (int)lround(len / 20.0 / dt);
      g.w[k] = wr * 2.0 / (0.1 * n);
      if (g.delay[k] > maxd) maxd = g.delay[k];
      k++;
    }
  }
  g.row_ptr[n] = (int)k;
  while (g.depth <= maxd + 1) g.depth *= 2;
  g.off = malloc(sizeof(long) * (k + 1));
  for (size_t q = 0; q < k; q++) g.off[q] = g.col[q] - (long)g.delay[q] * n;
  return g;
}

static inline double u01(unsigned long long *s)
{
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return (double)(*s >> 11) * 0x1.0p-53;
}

/* Runs STEPS Euler steps on `threads` threads from a fixed start; the final x. */
static double run(const net *g, long steps, int threads, double *x_out)
{
  const double dt = 0.1, alpha = 3, beta = 4, gamma = -1.5, delta = 0, eps = 0.5, tau = 20;
  const double tau_ou = 5, sigma = 0.05, K = 1.0;
  int n = g->n, mask = g->depth - 1;
  /* The ring twice over (rows r and r + depth alike): a term is one load, base[off]. */
  double *ring = aligned_alloc(64, sizeof(double) * 2 * (size_t)g->depth * (size_t)n);
  double *y = aligned_alloc(64, sizeof(double) * (size_t)n);
  double *xo = aligned_alloc(64, sizeof(double) * (size_t)n), *yo = aligned_alloc(64, sizeof(double) * (size_t)n);
  unsigned long long *rs = aligned_alloc(64, sizeof(unsigned long long) * (size_t)n);
  for (int i = 0; i < n; i++) {
    rs[i] = 0x9E3779B97F4A7C15ULL * (unsigned long long)(i + 1);
    y[i] = 0.1 * sin(i);
    xo[i] = yo[i] = 0.0;
  }
  for (int r = 0; r < 2 * g->depth; r++)
    for (int i = 0; i < n; i++) ring[(size_t)r * n + i] = 0.5 * cos(i + (r & mask));
  double t0 = omp_get_wtime();
#pragma omp parallel num_threads(threads)
  {
    int tid = omp_get_thread_num(), parts = omp_get_num_threads();
    int i0 = n * tid / parts, i1 = n * (tid + 1) / parts;
    for (long s = 0; s < steps; s++) {
      const double *now = ring + (size_t)((s & mask) + g->depth) * n;
      double *next = ring + (size_t)((s + 1) & mask) * n, *next2 = next + (size_t)g->depth * n;
      for (int i = i0; i < i1; i++) {
        double xi = now[i], c = 0.0;
        for (int k = g->row_ptr[i]; k < g->row_ptr[i + 1]; k++) c += g->w[k] * (now[g->off[k]] - xi);
        double dx = (-alpha * xi * xi * xi + beta * xi * xi + gamma * xi - y[i] + K * c + xo[i]) ;
        double dy = (xi - delta - eps * y[i]) / tau + yo[i];
        /* Cheap near-normals (the sum of four uniforms, centred and scaled to
        ** variance 1): the noise must cost next to nothing beside the coupling. */
        double zx = (u01(&rs[i]) + u01(&rs[i]) + u01(&rs[i]) + u01(&rs[i]) - 2.0) * 1.7320508075688772;
        double zy = (u01(&rs[i]) + u01(&rs[i]) + u01(&rs[i]) + u01(&rs[i]) - 2.0) * 1.7320508075688772;
        xo[i] += (-xo[i] / tau_ou) * dt + sigma * sqrt(2.0 / tau_ou * dt) * zx;
        yo[i] += (-yo[i] / tau_ou) * dt + sigma * sqrt(2.0 / tau_ou * dt) * zy;
        next[i] = next2[i] = xi + dt * dx;
        y[i] += dt * dy;
      }
#pragma omp barrier
    }
  }
  double t = omp_get_wtime() - t0;
  memcpy(x_out, ring + (size_t)(steps & mask) * n, sizeof(double) * (size_t)n);
  free(ring); free(y); free(xo); free(yo); free(rs);
  return t;
}

int main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: %s N STEPS [REPS]\n", argv[0]);
    return 2;
  }
  int n = atoi(argv[1]), reps = argc > 3 ? atoi(argv[3]) : 5;
  long steps = atol(argv[2]);
  net g = make_net(n, 0.1);
  double *a = malloc(sizeof(double) * (size_t)n), *b = malloc(sizeof(double) * (size_t)n);
  run(&g, steps / 10 + 1, 2, a);                       /* warm-up: starts the threads */
  int same = 1;
  for (int r = 0; r < reps; r++) {
    printf("bench time_one %.6f\n", run(&g, steps, 1, a));
    printf("bench time_many %.6f\n", run(&g, steps, 2, b));
    same &= memcmp(a, b, sizeof(double) * (size_t)n) == 0;
  }
  printf("bench steps %ld\nbench connections %d\nbench same %d\n", steps, g.row_ptr[n], same);
  return 0;
}
