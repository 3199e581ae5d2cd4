/*
** simd.c: the one rule for which SIMD instruction set the engine's vector
** kernels may use (the coupling sums, the noise draws, the clamps, the
** non-finite check, Euler's update): at most the widest the processor runs
** (__builtin_cpu_supports), capped by NEUROMASS_SIMD = off (or 0), avx2,
** avx512, or auto (or unset: no cap).  Every kernel gives the scalar code's
** results bit for bit, so the variable changes speed only; it exists so that
** the tests run every path on one machine.  The coupling sums' gathers have
** a rule of their own for diffusive sums (nm_simd_diffusive), decided
** here too, and whether diffusive sums are staged
** (nm_simd_stages): a new simulation reads them once (nm_sim_new) and its
** kernels follow that reading.  nm_simd_check (nm.h) gives the same
** reading to a caller before any run.
*/
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int widest = NM_SIMD_OFF;
static int slow_gathers = 1;            /* nm_simd_gathers_slow_of this processor */

static void detect(void)
{
#if NM_X86_SIMD
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) widest = NM_SIMD_AVX2;
  if (__builtin_cpu_supports("avx512f")) widest = NM_SIMD_AVX512;
  char gds[128] = "";
  FILE *f = fopen("/sys/devices/system/cpu/vulnerabilities/gather_data_sampling", "r");
  if (f) {
    if (!fgets(gds, sizeof gds, f)) gds[0] = '\0';
    fclose(f);
  }
  slow_gathers = nm_simd_gathers_slow_of(__builtin_cpu_is("intel"), gds);
#endif
}


/*
** Whether diffusive sums are staged (coupling_ahead.c) rather than gathered
** (coupling_simd.c) step by step: where the gathers are slow.  Hopf-80 and
** FHN-80 with diffusive coupling (HCP, 10 s at dt 0.1 ms, CPU time best of
** 5) on an Intel Xeon (model 167, AVX-512) took 291 and 292-308 ms staged,
** 234 and 238 ms gathered; the diffusive sum alone (bench/tools/ahead_kernel)
** 2030-2060 ns a step staged, 1660 gathered (AVX2: 2330-2490 against 1815).
** On Sapphire Rapids staging cost as much as the gathers; on AMD's Zen 5,
** whose gathers are no faster than scalar loads, it took 20 to 27 % less
** time (docs/coupling.md).  So: staged unless the processor is Intel's
** without the microcode mitigation of Gather Data Sampling, which slows its
** gathers (`gds`: the text of the kernel's
** /sys/devices/system/cpu/vulnerabilities/gather_data_sampling, "" when
** unknown).  Either way the sums have the same bits.
*/
int nm_simd_gathers_slow_of(int intel, const char *gds)
{
  return !intel || (strncmp(gds, "Mitigation", 10) == 0 && strstr(gds, "Microcode") != NULL);
}


static atomic_int stage_fixed = -1;     /* nm_simd_stage_set's: -1 the rule */

void nm_simd_stage_set(int stage)
{
  atomic_store(&stage_fixed, stage < 0 ? -1 : stage != 0);
}


int nm_simd_stages(int gather)
{
  int fixed = atomic_load(&stage_fixed);
  if (gather == NM_SIMD_OFF) return 0;  /* (staging takes SIMD blocks) */
  if (fixed >= 0) return fixed;
  pthread_once(&once, detect);
  return slow_gathers;
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
** The coupling sums' gathers (coupling_simd.c, coupling_ahead.c): the widest
** set within the cap.  Where AVX2 is the widest (no AVX-512), AVX2 was once
** kept for NEUROMASS_SIMD=avx2 alone, from a measurement on a processor with
** AVX-512 (Sapphire Rapids: 4-lane gathers no faster than the scalar loop).
** On an AVX2-only AMD EPYC (family 23, Zen 1) the additive sums' windows
** (coupling_ahead.c) on AVX2 took 1690 ns a step on HCP-80 against 8090 in
** plain C, the twin sums 2720 against 12610 (bench/tools/ahead_kernel), and
** the whole runs of FHN-80, WC-80 and ALN-80 sped up accordingly
** (docs/coupling.md).  Diffusive sums have their own set: nm_simd_diffusive.
** A set named but missing gives the best the processor has below it.  On
** NM_EINVAL (a value that names no set) both are still given, as if uncapped.
*/
int nm_simd_choose(int *level, int *gather, nm_error *err)
{
  int cap, named, best = nm_simd_widest();
  int rc = nm_simd_cap(&cap, &named, err);
  int l = best < cap ? best : cap;
  if (level) *level = l;
  if (gather) *gather = l;
  return rc;
}


/*
** The gathers' set of diffusive sums: `gather`, but the scalar loop where
** it is AVX2 and this processor's gathers are slow (nm_simd_gathers_slow_of),
** unless nm_simd_stage_set fixed the staging (the tests then take the AVX2
** paths, staged and gathered).  On the AVX2-only AMD EPYC (Zen 1) the
** diffusive sum of HCP-80 took 4470 ns a step in the scalar loop, 5890
** staged on AVX2 and 7480 gathered on AVX2 (ahead_kernel).  The same bits
** on every path.
*/
int nm_simd_diffusive(int gather)
{
  if (gather != NM_SIMD_AVX2 || atomic_load(&stage_fixed) >= 0) return gather;
  pthread_once(&once, detect);
  return slow_gathers ? NM_SIMD_OFF : gather;
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
