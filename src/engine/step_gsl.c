/*
** step_gsl.c: adaptive integration through GSL's odeiv2 drivers (rkf45,
** rk8pd, msbdf), for models without delays, random noise or time-varying
** inputs.  The driver is stopped at every output time, where the clamps and
** wraps apply and the signals are recorded.  A noise process with sigma 0 is
** deterministic: its value is held over each output interval, as the
** fixed-step loop holds it over each step.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>

#include "sim.h"


static int gsl_rhs(double t, const double y[], double dydt[], void *params)
{
  nm_sim *s = params;
  memcpy(s->stage, s->V, s->nv * sizeof(double));
  memcpy(s->stage, y, s->ns * sizeof(double));
  /* The stage fraction places t inside the current output interval. */
  nm_sim_rhs(s, s->stage, t / s->dt - (double)s->step, dydt);
  return s->callback_failed ? GSL_EBADFUNC : GSL_SUCCESS;
}


/* msbdf needs a Jacobian: a forward-difference one is good enough for it. */
static int gsl_jac(double t, const double y[], double *dfdy, double dfdt[], void *params)
{
  nm_sim *s = params;
  size_t n = s->ns;
  double *y1 = malloc(n * sizeof *y1), *f0 = malloc(n * sizeof *f0), *f1 = malloc(n * sizeof *f1);
  if (!y1 || !f0 || !f1) { free(y1); free(f0); free(f1); return GSL_ENOMEM; }
  memcpy(y1, y, n * sizeof *y1);
  gsl_rhs(t, y, f0, s);
  for (size_t j = 0; j < n; j++) {
    double h = 1e-8 * (y[j] < 0 ? -y[j] : y[j]) + 1e-10;
    y1[j] = y[j] + h;
    gsl_rhs(t, y1, f1, s);
    for (size_t i = 0; i < n; i++) dfdy[i * n + j] = (f1[i] - f0[i]) / h;
    y1[j] = y[j];
  }
  double ht = 1e-8 * (t < 0 ? -t : t) + 1e-10;
  gsl_rhs(t + ht, y, f1, s);
  for (size_t i = 0; i < n; i++) dfdt[i] = (f1[i] - f0[i]) / ht;
  free(y1); free(f0); free(f1);
  return GSL_SUCCESS;
}


/* The stepper could not go on from time t with state y: records t and the
** state variable to blame (the first non-finite value or derivative, else
** the one changing fastest against its tolerance) for nm_sim_failure. */
static int stuck(nm_sim *s, double t, const double *y, double rtol, double atol)
{
  double *f = s->k[0], worst = -1.0;
  gsl_rhs(t, y, f, s);
  s->fail_t = t;
  s->fail_sig = 0;
  for (size_t i = 0; i < s->ns; i++) {
    double rate = fabs(f[i]) / (atol + rtol * fabs(y[i]));
    if (!isfinite(y[i]) || !isfinite(f[i])) { s->fail_sig = (long)i; break; }
    if (rate > worst) { worst = rate; s->fail_sig = (long)i; }
  }
  s->callback_failed = 0;
  return nm_sim_fail(s, NM_ESTEP, "the adaptive stepper could not go on past t = %g ms "
                     "(signal %ld)", t, s->fail_sig);
}


int nm_sim_run_adaptive(nm_sim *s, const nm_run_opts *o,
                        int (*emit)(void *rec, nm_sim *s), void *rec)
{
  const gsl_odeiv2_step_type *type = o->method == NM_RKF45 ? gsl_odeiv2_step_rkf45
                                   : o->method == NM_RK8PD ? gsl_odeiv2_step_rk8pd
                                                           : gsl_odeiv2_step_msbdf;
  if (nm_model_max_delay(s->m) > 0)
    return nm_sim_fail(s, NM_EINVAL, "adaptive steppers cannot integrate delays");
  if (o->n_drivers > 0 || o->n_stims > 0)
    return nm_sim_fail(s, NM_EINVAL, "adaptive steppers cannot take time-varying inputs");
  /* A random input has no derivative an error estimate could control. */
  for (size_t n = 0; n < s->m->n_noises; n++)
    if (s->m->P[s->m->noises[n].sigma] != 0.0)
      return nm_sim_fail(s, NM_EINVAL, "adaptive steppers cannot integrate noise (process %zu "
                         "has sigma %g)", n, s->m->P[s->m->noises[n].sigma]);
  gsl_odeiv2_system sys = { gsl_rhs, gsl_jac, s->ns, s };
  double rtol = o->rtol > 0 ? o->rtol : 1e-6, atol = o->atol > 0 ? o->atol : 1e-9;
  double h0 = 0.1 * s->dt > 0 ? 0.1 * s->dt : s->dt;     /* 0.1 dt underflows for dt ~ 1e-323 */
  gsl_odeiv2_driver *d = gsl_odeiv2_driver_alloc_y_new(&sys, type, h0, atol, rtol);
  double *y = d ? malloc((s->ns + 1) * sizeof *y) : NULL;
  if (!y) {
    if (d) gsl_odeiv2_driver_free(d);
    return nm_sim_fail(s, NM_ENOMEM, "the adaptive stepper for %zu state variables cannot be "
                       "allocated", s->ns);
  }
  memcpy(y, s->V, s->ns * sizeof *y);
  int rc = NM_OK;
  double t = nm_sim_time(s);
  for (long i = 0; i < o->n_steps && rc == NM_OK; i++) {
    nm_sim_step_inputs(s, o, i);
    int status = gsl_odeiv2_driver_apply(d, &t, (double)(s->step + 1) * s->dt, y);
    if (s->callback_failed) { s->callback_failed = 0; rc = NM_ECALLBACK; break; }
    if (status != GSL_SUCCESS) { rc = stuck(s, t, y, rtol, atol); break; }
    memcpy(s->V, y, s->ns * sizeof *y);
    /* Clamps, wraps and noise act at every output time, as they act after
    ** every step of the fixed-step loop.  When any of them moves, the
    ** stepper's memory of the solution (msbdf's history) no longer describes
    ** it: the stepper restarts from the new state. */
    int moved = nm_sim_constrain(s);
    moved |= nm_sim_advance_noise(s);
    if (moved) {
      memcpy(y, s->V, s->ns * sizeof *y);
      gsl_odeiv2_driver_reset(d);
    }
    /* Algebraic outputs read before a step come from the right-hand side. */
    nm_sim_rhs(s, s->V, 0.0, s->D);
    nm_sim_finish_step(s);
    t = nm_sim_time(s);
    long bad = nm_sim_first_nonfinite(s, 0, s->nv);
    if (bad >= 0) rc = nm_sim_nonfinite(s, t, bad);
    if (rc == NM_OK && s->step % (size_t)o->every == 0) rc = emit(rec, s);
  }
  free(y);
  gsl_odeiv2_driver_free(d);
  return rc;
}
