/*
** simd.c: the one rule for which SIMD instruction set the engine's vector
** kernels may use (the coupling sums, the noise draws, the clamps, the
** non-finite check, Euler's update): at most the widest the processor runs
** (__builtin_cpu_supports), capped by NEUROMASS_SIMD = off (or 0), avx2,
** avx512, or auto (or unset: no cap).  Every kernel gives the scalar code's
** results bit for bit, so the variable changes speed only; it exists so that
** the tests run every path on one machine.  The coupling sums' gathers have
** a preference of their own within the cap (AVX2 only when named), decided
** here too (nm_simd_choose): a new simulation reads both once (nm_sim_new)
** and its kernels follow that reading.  nm_simd_check (nm.h) gives the same
** reading to a caller before any run.
*/
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int widest = NM_SIMD_OFF;

static void detect(void)
{
#if NM_X86_SIMD
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) widest = NM_SIMD_AVX2;
  if (__builtin_cpu_supports("avx512f")) widest = NM_SIMD_AVX512;
#endif
}


int nm_simd_widest(void)
{
  pthread_once(&once, detect);
  return widest;
}


int nm_simd_cap(int *cap, int *named, nm_error *err)
{
  const char *e = getenv("NEUROMASS_SIMD");
  *cap = NM_SIMD_AVX512;
  *named = 0;
  if (!e || !*e || strcmp(e, "auto") == 0) return NM_OK;
  *named = 1;
  if (strcmp(e, "avx512") == 0) *cap = NM_SIMD_AVX512;
  else if (strcmp(e, "avx2") == 0) *cap = NM_SIMD_AVX2;
  else if (strcmp(e, "off") == 0 || strcmp(e, "0") == 0) *cap = NM_SIMD_OFF;
  else {
    *named = 0;
    return nm_fail(err, NM_EINVAL, "NEUROMASS_SIMD=\"%.40s\" in the environment: it must be off "
                   "(or 0), avx2, avx512 or auto (or unset: the widest the processor has)", e);
  }
  return NM_OK;
}


/*
** The coupling sums' gathers (coupling_simd.c, coupling_ahead.c): AVX-512
** where the processor has it, else the scalar loop: 4-lane AVX2 gathers were
** no faster than the scalar loop on the machine measured (Sapphire Rapids;
** slower on diffusive sums), so they run only when NEUROMASS_SIMD names them.
** (Since the gathers go into zeroed registers, gather4, AVX2 is ~7 % faster
** than the scalar loop on Hopf-80 there; the default stays, untried on a
** processor without AVX-512.)  A set named but missing gives the best the
** processor has below it.  On NM_EINVAL (a value that names no set) both are
** still given, as if uncapped.
*/
int nm_simd_choose(int *level, int *gather, nm_error *err)
{
  int cap, named, best = nm_simd_widest();
  int rc = nm_simd_cap(&cap, &named, err);
  int l = best < cap ? best : cap;
  if (level) *level = l;
  if (gather) *gather = l == NM_SIMD_AVX2 && !named ? NM_SIMD_OFF : l;
  return rc;
}


int nm_simd_level(void)
{
  int level;
  nm_simd_choose(&level, NULL, NULL);   /* an invalid value: refused where a run starts */
  return level;
}


const char *nm_simd_name(int simd)
{
  return simd == NM_SIMD_AVX512 ? "avx512" : simd == NM_SIMD_AVX2 ? "avx2" : "off";
}


int nm_simd_check(const char **level, nm_error *err)
{
  int cap, named;
  nm_error_clear(err);
  int rc = nm_simd_cap(&cap, &named, err);
  if (rc != NM_OK) return rc;
  if (level) *level = nm_simd_name(nm_simd_level());
  return NM_OK;
}
