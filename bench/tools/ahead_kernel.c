/* ahead_kernel.c: coupling_ahead.c's windows alone, on the rows of the bench
 * cases' 80-node HCP network (delays Dmat / 20 mm/ms at dt 0.1 ms, rounded
 * half to even as compile.lua does):
 *   ahead_kernel DATA_DIR [twin | diffusive | staged | gathered] [N]
 * DATA_DIR holds connectome_hcp_Cmat.csv and connectome_hcp_Dmat.csv
 * (lua/neuromass/data); `twin` adds the sum of Cmat^2 over the same terms,
 * computed in the same pass (ALN's mean and variance inputs; without it, as
 * WC and FHN); `diffusive` makes the sum diffusive (Hopf's, FHN's default:
 * its values staged where this processor's gathers are slow, simd.c
 * nm_simd_stages; `staged` and `gathered` the same sum staged or gathered
 * whatever the rule says), the rows summed every step).  Prints the windows'
 * groups, then the time a step of nm_ahead_eval takes (the windows and the
 * sums' copy into the inputs; diffusive: of nm_couplings_eval, the whole
 * start-of-step sum), 800 steps, repeated 500 times (N: a
 * random network of N nodes instead, 10 % of the pairs connected, weights
 * U(0, 2 / (0.1 N)), lengths U(0, 250) mm, as bench/cases.lua's conn; 60
 * repetitions), the minimum over the repetitions: on a
 * loaded machine only the minimum means anything.  Built against the
 * engine's objects and its internal header sim.h:
 *   make BUILD=build-bench CFLAGS="-O3 -g" build-bench/bench/ahead_kernel */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/sim.h"

enum { STEPS = 800 };

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* DATA_DIR/connectome_hcp_NAME.csv, or exits with the reason. */
static void read_matrix(const char *dir, const char *name, nm_matrix *m)
{
  char path[4096];
  nm_error err = { 0 };
  snprintf(path, sizeof path, "%s/connectome_hcp_%s.csv", dir, name);
  if (nm_matrix_read(path, m, &err) != NM_OK) {
    fprintf(stderr, "ahead_kernel: %s\n", err.why);
    exit(1);
  }
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: ahead_kernel DATA_DIR [twin]\n");
    return 2;
  }
  int twin = argc > 2 && strcmp(argv[2], "twin") == 0;
  int staged = argc > 2 && strcmp(argv[2], "staged") == 0;
  int gathered = argc > 2 && strcmp(argv[2], "gathered") == 0;
  int diffusive = staged || gathered || (argc > 2 && strcmp(argv[2], "diffusive") == 0);
  if (staged || gathered) nm_simd_stage_set(staged);
  nm_matrix C, D;
  read_matrix(argv[1], "Cmat", &C);
  read_matrix(argv[1], "Dmat", &D);
  int reps = 500;
  if (argc > 3 && atoi(argv[3]) > 0) {      /* a random network of N nodes instead */
    size_t N = (size_t)atoi(argv[3]);
    double *c = realloc(C.v, N * N * sizeof *c), *d = realloc(D.v, N * N * sizeof *d);
    if (!c || !d) return 1;
    C.v = c;
    D.v = d;
    C.rows = C.cols = D.rows = D.cols = N;
    srand(7);
    for (size_t i = 0; i < N * N; i++) {
      int on = i / N != i % N && rand() < RAND_MAX / 10;
      C.v[i] = on ? (double)rand() / RAND_MAX * 2 / (0.1 * (double)N) : 0.0;
      D.v[i] = (double)rand() / RAND_MAX * 250;
    }
    reps = 60;
  }
  size_t n = C.rows, k = 0;
  size_t *row_ptr = malloc((n + 1) * sizeof *row_ptr);
  long *src = malloc(n * n * sizeof *src), *dst = malloc(3 * n * sizeof *dst);
  int *delay = malloc(n * n * sizeof *delay);
  double *w = malloc(n * n * sizeof *w), *w2 = malloc(n * n * sizeof *w2), *x0 = malloc(n * sizeof *x0);
  if (!row_ptr || !src || !dst || !delay || !w || !w2 || !x0) return 1;
  for (size_t i = 0; i < n; i++) {
    row_ptr[i] = k;
    dst[i] = (long)i;
    dst[n + i] = (long)(n + i);
    dst[2 * n + i] = (long)i;             /* the diffusive sum's self: the row's own signal */
    x0[i] = 0.01 * (double)(i % 17);
    for (size_t j = 0; j < n; j++) {
      if (C.v[i * n + j] == 0.0) continue;
      src[k] = (long)j;
      delay[k] = (int)nearbyint(D.v[i * n + j] / (20.0 * 0.1));
      w[k] = C.v[i * n + j];
      w2[k] = w[k] * w[k];
      k++;
    }
  }
  row_ptr[n] = k;
  int rc;
  nm_model *m = nm_model_new(n, 0, 0, 2 * n);
  rc = !m ? NM_ENOMEM
     : diffusive ? nm_model_add_coupling(m, NM_DIFFUSIVE, n, dst, dst + 2 * n, row_ptr, src, delay, w)
     : nm_model_add_coupling(m, NM_ADDITIVE, n, dst, NULL, row_ptr, src, delay, w);
  if (rc == NM_OK && twin) rc = nm_model_add_coupling(m, NM_ADDITIVE, n, dst + n, NULL, row_ptr, src, delay, w2);
  if (rc == NM_OK) rc = nm_model_set_initial(m, x0, n);
  nm_sim *s = rc == NM_OK ? nm_sim_new(m, 0.1, 1, &rc) : NULL;
  if (!s) {
    fprintf(stderr, "ahead_kernel: no simulation (status %d)\n", rc);
    return 1;
  }
  nm_fast_coupling *f = &s->fast[0];
  printf("%zu rows, %zu terms%s; history %zu steps deep\n", n, k,
         twin ? ", with a twin" : !diffusive ? "" : s->stage_diffusive ? ", diffusive, staged"
         : ", diffusive, gathered", s->depth);
  for (int g = 0; g < f->n_ahead; g++)
    printf("  window of %zu steps: %zu rows, %zu tiles\n", f->ahead[g].K, f->ahead[g].n_rows, f->ahead[g].n_tiles);
  double best = INFINITY;
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    for (size_t step = 1000; step < 1000 + STEPS; step++) {
      if (diffusive) {
        s->step = step;
        nm_couplings_eval(s, s->V, 0.0);
      } else {
        nm_ahead_eval(s, f, s->V, step);
      }
    }
    double t = (now() - t0) / STEPS;
    if (t < best) best = t;
  }
  printf("%s: %.1f ns a step (min of %d x %d steps)\n", diffusive ? "nm_couplings_eval" : "nm_ahead_eval",
         best * 1e9, reps, STEPS);
  nm_sim_free(s);
  nm_model_free(m);
  nm_matrix_free(&C);
  nm_matrix_free(&D);
  free(row_ptr);
  free(src);
  free(dst);
  free(delay);
  free(w);
  free(w2);
  free(x0);
  return 0;
}
