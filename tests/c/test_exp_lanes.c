/*
** test_exp_lanes.c: exp over arrays (exp_lanes.c) against the C library's
** exp, bit for bit, on every kernel this processor runs whose build of exp
** the process's libm uses: 4 million pseudo-random x over [-746, 711), a
** million of magnitudes spread in log scale from 2^-60 to 1024 of either
** sign, a thousand ulps either side of each limit (the path's 2^-54 and 512,
** overflow, the subnormal and zero results), the edge cases (+-0, subnormal
** x, +-inf, NaN of either sign), in blocks of every length from 1 to 70, in
** place and not, and one by one (the step of one value: native code's);
** errno on overflow as exp's.  Then the choice: with FMA the
** AVX2 kernel within NEUROMASS_SIMD's level (AVX-512 when it names avx512,
** in a child process); and, in a child process whose
** libm is made to take glibc's build without FMA (GLIBC_TUNABLES: the
** FMA kernels then differ from exp), the plain kernel, tested the same way;
** in one with NEUROMASS_SIMD=off, libm's own calls (the plain kernel differs
** from the FMA build).
*/
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/exp_lanes.h"
#include "engine/sim.h"
#include "test_main.h"

static uint64_t state = 0x3243f6a8885a308dULL;
static int shown;                       /* differences printed so far (at most 5) */

static double uniform(void)
{
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(state >> 11) * 0x1p-53;
}

static double from_bits(uint64_t u)
{
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

/* The values of the sweep, malloc'd; their count in *n. */
static double *sweep(size_t *n)
{
  enum { RANDOM = 4000000, LOGSCALE = 1000000, ULPS = 1000 };
  static const double limits[] = {
    0x1p-54, -0x1p-54, 512.0, -512.0, 0x1.62e42fefa39efp9, -0x1.6232bdd7abcd2p9,
    -0x1.74385446d71c3p9, -0x1.74910d52d3051p9, 0x1p-1022, 0x1p-1074, 1.0, -1.0
  };
  static const double edges[] = {
    0.0, -0.0, INFINITY, -INFINITY, NAN, -NAN, 0x1p-1074, -0x1p-1074, 0x1.fffffffffffffp-1023,
    1e-300, -1e-300, 709.0, 710.0, 1000.0, 1023.0, 1024.0, 1e300, -708.0, -709.0, -740.0,
    -745.0, -746.0, -1000.0, -1075.0, -1e300, 0.5, -0.5, 100.0, -100.0
  };
  size_t nl = sizeof limits / sizeof *limits, ne = sizeof edges / sizeof *edges;
  size_t total = RANDOM + LOGSCALE + nl * (2 * ULPS + 1) + ne;
  double *x = malloc(total * sizeof *x);
  size_t k = 0;
  for (size_t i = 0; i < RANDOM; i++) x[k++] = -746.0 + 1457.0 * uniform();
  for (size_t i = 0; i < LOGSCALE; i++) {
    double m = ldexp(1.0, -60) * pow(2.0, 70.0 * uniform());
    x[k++] = i % 2 ? -m : m;
  }
  for (size_t j = 0; j < nl; j++) {
    uint64_t u;
    memcpy(&u, &limits[j], sizeof u);
    for (int64_t d = -ULPS; d <= ULPS; d++) x[k++] = from_bits(u + (uint64_t)d);
  }
  memcpy(x + k, edges, sizeof edges);
  *n = k + ne;
  return x;
}

/* The values of kernel k that differ from exp's over x[0 .. n), given in
** blocks of `block` values, in place or not. */
static size_t differ(int k, const double *x, size_t n, size_t block, int in_place)
{
  double *o = malloc(n * sizeof *o);
  if (in_place) memcpy(o, x, n * sizeof *o);
  for (size_t i0 = 0; i0 < n; i0 += block) {
    size_t m = n - i0 < block ? n - i0 : block;
    nm_exp_lanes_on(k, m, in_place ? o + i0 : x + i0, o + i0);
  }
  size_t bad = 0;
  for (size_t i = 0; i < n; i++) {
    double w = exp(x[i]);
    if (memcmp(&w, &o[i], sizeof w) != 0) {
      if (bad++ == 0 && shown++ < 5)
        printf("# %s: exp(%a) = %a, kernel gives %a\n", nm_exp_kernel_name(k), x[i], w, o[i]);
    }
  }
  free(o);
  return bad;
}

/* Kernel k against exp on the sweep (one call, then blocks of 1 .. 70 over
** its first 100000 values and its last 30000, in place and not), errno on an
** overflow. */
static void test_kernel(int k, const double *x, size_t n)
{
  const char *name = nm_exp_kernel_name(k);
  size_t bad = differ(k, x, n, n, 0);
  CHECK(bad == 0, "%s: exp of %zu values, bit for bit (%zu differ)", name, n, bad);
  size_t bad_blocks = 0;
  for (size_t block = 1; block <= 70; block++) {
    bad_blocks += differ(k, x, 100000, block, block % 2);
    bad_blocks += differ(k, x + n - 30000, 30000, block, !(block % 2));
  }
  CHECK(bad_blocks == 0, "%s: in blocks of 1 .. 70 values, in place and not (%zu differ)", name,
        bad_blocks);
  double big[5] = { 1.0, 2.0, 1000.0, 3.0, 4.0 }, out[5];
  errno = 0;
  nm_exp_lanes_on(k, 5, big, out);
  CHECK(errno == ERANGE && out[2] == INFINITY && out[1] == exp(2.0),
        "%s: exp(1000) among others is inf with errno ERANGE, as exp's", name);
  CHECK(nm_exp_kernel_agrees(k), "%s: the self-check agrees", name);
}

/* The step of one value (nm_exp_one: native code's lanes one by one,
** jit_emit.c), fused or not, against exp on the sweep; errno on an overflow. */
static void test_one(int fused, const double *x, size_t n)
{
  const char *name = fused ? "nm_exp_one, fused" : "nm_exp_one, not fused";
  size_t bad = 0;
  for (size_t i = 0; i < n; i++) {
    double w = exp(x[i]), o = nm_exp_one(x[i], fused);
    if (memcmp(&w, &o, sizeof w) != 0 && bad++ == 0 && shown++ < 5)
      printf("# %s: exp(%a) = %a, the step gives %a\n", name, x[i], w, o);
  }
  CHECK(bad == 0, "%s: exp of %zu values one by one, bit for bit (%zu differ)", name, n, bad);
  errno = 0;
  double big = nm_exp_one(1000.0, fused);
  CHECK(errno == ERANGE && big == INFINITY, "%s: exp(1000) is inf with errno ERANGE, as exp's", name);
}

/* Runs this program as a child with `var`=`value` and argument `mode`;
** whether it exited 0 (its PASS and FAIL lines are on stdout). */
static int child(const char *self, const char *mode, const char *var, const char *value)
{
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    setenv(var, value, 1);
    execl(self, self, mode, (char *)NULL);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(int argc, char **argv)
{
  const char *mode = argc > 1 ? argv[1] : "";
  size_t n;
  double *x = sweep(&n);
  int fma_cpu = nm_exp_kernel_runs(NM_EXP_AVX2);
  /* Which build of exp libm uses: on a value where the step with and
  ** without fused operations differ, whose is exp's. */
  double probe = 0.0, with = 0.0, without = 0.0;
  for (size_t i = 0; i < n && with == without; i++) {
    uint64_t ki;
    probe = x[i];
    if (nm_exp_off(probe)) continue;
    double r = nm_exp_reduce_fma(probe, &ki);
    with = nm_exp_finish_fma(r, ki);
    r = nm_exp_reduce_plain(probe, &ki);
    without = nm_exp_finish_plain(r, ki);
  }
  double libm = exp(probe);
  int libm_fused = memcmp(&libm, &with, sizeof libm) == 0;
  int libm_plain = memcmp(&libm, &without, sizeof libm) == 0;
  CHECK(with != without && (libm_fused || libm_plain),
        "libm's exp is glibc's step %s fused operations (exp(%a) = %a)",
        libm_fused ? "with" : "without", probe, libm);

  if (strcmp(mode, "plain") == 0) {
    /* GLIBC_TUNABLES took FMA away from libm's choice. */
    CHECK(libm_plain, "GLIBC_TUNABLES=%s: libm takes its build without FMA",
          getenv("GLIBC_TUNABLES"));
    test_kernel(NM_EXP_PLAIN, x, n);
    test_one(0, x, n);
    if (fma_cpu)
      CHECK(!nm_exp_kernel_agrees(NM_EXP_AVX2), "the AVX2 kernel (fused) differs from this exp");
    CHECK(nm_exp_lanes_kernel() == NM_EXP_PLAIN, "the plain kernel is chosen (%s)",
          nm_exp_kernel_name(nm_exp_lanes_kernel()));
  } else if (strcmp(mode, "off") == 0) {
    CHECK(nm_exp_lanes_kernel() == (libm_plain ? NM_EXP_PLAIN : NM_EXP_LIBM),
          "NEUROMASS_SIMD=off: %s (%s)", libm_plain ? "the plain kernel" : "libm's own calls",
          nm_exp_kernel_name(nm_exp_lanes_kernel()));
    test_kernel(NM_EXP_LIBM, x, n);
  } else {
    test_kernel(NM_EXP_LIBM, x, n);
    test_one(libm_fused, x, n);
    if (libm_plain) {
      test_kernel(NM_EXP_PLAIN, x, n);
    } else {
      for (int k = NM_EXP_AVX2; k <= NM_EXP_AVX512; k++)
        if (nm_exp_kernel_runs(k)) test_kernel(k, x, n);
      CHECK(!nm_exp_kernel_agrees(NM_EXP_PLAIN), "the plain kernel differs from this exp (fused)");
    }
    const char *simd = getenv("NEUROMASS_SIMD");
    int level = nm_simd_level(), named512 = simd && strcmp(simd, "avx512") == 0;
    int want = libm_plain ? NM_EXP_PLAIN
             : named512 && level == NM_SIMD_AVX512 && nm_exp_kernel_runs(NM_EXP_AVX512) ? NM_EXP_AVX512
             : level >= NM_SIMD_AVX2 && fma_cpu ? NM_EXP_AVX2 : NM_EXP_LIBM;
    CHECK(nm_exp_lanes_kernel() == want, "the kernel chosen is %s (%s)", nm_exp_kernel_name(want),
          nm_exp_kernel_name(nm_exp_lanes_kernel()));
    double in[3] = { -1.0, 0.25, 3.0 }, out[3];
    nm_exp_lanes(3, in, out);
    CHECK(out[0] == exp(-1.0) && out[1] == exp(0.25) && out[2] == exp(3.0),
          "nm_exp_lanes on the chosen kernel");
#if defined(__x86_64__) && defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
    /* glibc 2.33 and later on x86-64: the tunable that hides FMA from its
    ** choice of exp's build. */
    if (libm_fused)
      CHECK(child(argv[0], "plain", "GLIBC_TUNABLES", "glibc.cpu.hwcaps=-FMA"),
            "the child with libm's exp without FMA passed");
#endif
    if (fma_cpu)
      CHECK(child(argv[0], "off", "NEUROMASS_SIMD", "off"), "the child with NEUROMASS_SIMD=off passed");
    if (fma_cpu && nm_exp_kernel_runs(NM_EXP_AVX512) && !named512)
      CHECK(child(argv[0], "", "NEUROMASS_SIMD", "avx512"),
            "the child with NEUROMASS_SIMD=avx512 (AVX-512 first) passed");
  }
  free(x);
  return test_summary();
}
