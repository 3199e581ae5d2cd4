/*
** step_fixed.c: the fixed-step integrators (euler, heun, rk4).  Each step
** evaluates the right-hand side at its stages (system.c) and updates the
** state variables; a failed callback fails the step before the update
** (nm_sim_callback_status); the run does everything else.  Their stage
** buffers are the simulation's (allocated with it), so they need no workspace.
*/
#include <string.h>

#include "sim.h"


/* stage = V with its state part replaced by y + h * k */
static double *stage_from(nm_sim *s, const double *k, double h)
{
  memcpy(s->stage, s->V, s->nv * sizeof(double));
  for (size_t i = 0; i < s->ns; i++) s->stage[i] = s->V[i] + h * k[i];
  return s->stage;
}


#if NM_X86_SIMD
/* The same loop for AVX-512 (a multiply and an add per value, as above: the
** engine is built without contraction), for a network's many states. */
#define EULER_VECTOR 64
__attribute__((target("avx512f")))
static void euler_update_avx512(double *restrict v, const double *restrict d, double dt, size_t n)
{
  nm_euler_update(v, d, dt, n);
}
/* With AVX2 (sim.h): 8 values or more below AVX-512's EULER_VECTOR, or any
** 8 or more when AVX-512 is not used. */
#define EULER_SHORT 8
__attribute__((target("avx2")))
static void euler_update_avx2(double *restrict v, const double *restrict d, double dt, size_t n)
{
  nm_euler_update_avx2(v, d, dt, n);
}
#endif


void nm_sim_euler_update(const nm_sim *s, double *v, const double *d, size_t n)
{
#if NM_X86_SIMD
  if (s->simd >= NM_SIMD_AVX512 && n >= EULER_VECTOR) {
    euler_update_avx512(v, d, s->dt, n);
    return;
  }
  if (s->simd >= NM_SIMD_AVX2 && n >= EULER_SHORT) {
    euler_update_avx2(v, d, s->dt, n);
    return;
  }
#endif
  nm_euler_update(v, d, s->dt, n);
}


static int euler_apply(void *ws, nm_sim *s)
{
  (void)ws;
  nm_sim_rhs(s, s->V, 0.0, s->D);
  int rc = nm_sim_callback_status(s);
  if (rc != NM_OK) return rc;
  nm_sim_euler_update(s, s->V, s->D, s->ns);
  return NM_OK;
}


static int heun_apply(void *ws, nm_sim *s)
{
  (void)ws;
  double dt = s->dt, *k1 = s->k[0], *k2 = s->k[1];
  int rc;
  nm_sim_rhs(s, s->V, 0.0, k1);
  if ((rc = nm_sim_callback_status(s)) != NM_OK) return rc;
  nm_sim_rhs(s, stage_from(s, k1, dt), 1.0, k2);
  if ((rc = nm_sim_callback_status(s)) != NM_OK) return rc;
  for (size_t i = 0; i < s->ns; i++) s->V[i] += 0.5 * dt * (k1[i] + k2[i]);
  return NM_OK;
}


static int rk4_apply(void *ws, nm_sim *s)
{
  (void)ws;
  double dt = s->dt, **k = s->k;
  int rc;
  nm_sim_rhs(s, s->V, 0.0, k[0]);
  if ((rc = nm_sim_callback_status(s)) != NM_OK) return rc;
  /* The derivative at the step's start, for the Hermite interpolants of the
  ** later stages' delayed reads. */
  double *drow = s->dring + (s->step & (s->depth - 1)) * s->width;
  for (size_t c = 0; c < s->hist.n_dcols; c++) drow[c] = k[0][s->tracked[c]];
  nm_sim_rhs(s, stage_from(s, k[0], 0.5 * dt), 0.5, k[1]);
  if ((rc = nm_sim_callback_status(s)) != NM_OK) return rc;
  nm_sim_rhs(s, stage_from(s, k[1], 0.5 * dt), 0.5, k[2]);
  if ((rc = nm_sim_callback_status(s)) != NM_OK) return rc;
  nm_sim_rhs(s, stage_from(s, k[2], dt), 1.0, k[3]);
  if ((rc = nm_sim_callback_status(s)) != NM_OK) return rc;
  for (size_t i = 0; i < s->ns; i++)
    s->V[i] += dt / 6.0 * (k[0][i] + 2.0 * k[1][i] + 2.0 * k[2][i] + k[3][i]);
  return NM_OK;
}


const nm_stepper_type nm_step_euler = {
  .name = "euler", .order = 1, .threads = 1, .delays = 1, .noise = 1, .inputs = 1,
  .apply = euler_apply
};
const nm_stepper_type nm_step_heun = {
  .name = "heun", .order = 2, .delays = 1, .noise = 1, .inputs = 1, .apply = heun_apply
};
const nm_stepper_type nm_step_rk4 = {
  .name = "rk4", .order = 4, .delays = 1, .noise = 1, .inputs = 1, .dense = 1, .apply = rk4_apply
};
