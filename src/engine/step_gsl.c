/*
** step_gsl.c: the adaptive integrators (rkf45, rk8pd, msbdf) through GSL's
** odeiv2 drivers, for models without delays, random noise or time-varying
** inputs (the run refuses those from the table's flags).  One apply takes the
** driver's own steps over one step of the simulation's dt (the run's dt, not
** its sampling_dt); the run then applies the clamps, wraps and noise and
** computes the outputs, as after a fixed step, and records.  A
** noise process with sigma 0 is deterministic: its value is held over each
** step, as the fixed-step loop does.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>

#include "sim.h"

/* The forward-difference Jacobian's step for a value x: JAC_REL |x| + JAC_ABS. */
#define JAC_REL 1e-8
#define JAC_ABS 1e-10
/* The driver's first trial step, as a fraction of dt. */
#define FIRST_STEP 0.1
/* The most steps the driver takes within one dt: an explicit
** stepper held to tiny steps by a stiff model (x' = -1e9 x: a few 1e-9 ms)
** then fails as stuck, naming the time, instead of grinding on for hours. */
#define MAX_STEPS 100000

/* A run's workspace: the driver and every buffer it needs, allocated once. */
typedef struct {
  nm_sim *s;
  gsl_odeiv2_system sys;      /* the driver keeps a pointer to it */
  gsl_odeiv2_driver *d;
  double rtol, atol;
  double *y;                  /* the state variables the driver integrates */
  double *y1, *f0, *f1;       /* the Jacobian's (and stuck's) scratch */
} gsl_ws;


static int gsl_rhs(double t, const double y[], double dydt[], void *params)
{
  nm_sim *s = ((gsl_ws *)params)->s;
  memcpy(s->stage, s->V, s->nv * sizeof(double));
  memcpy(s->stage, y, s->ns * sizeof(double));
  /* The stage fraction places t inside the current step of dt. */
  nm_sim_rhs(s, s->stage, t / s->dt - (double)s->step, dydt);
  if (s->callback_failed) return GSL_EBADFUNC;
  /* A trial step too long for a stiff or fast model can overflow: GSL's error
  ** control skips a NaN error estimate and would take the step.  Failing the
  ** evaluation makes the driver halve the step and try again (down to the
  ** last representable one: then stuck names the time and the variable). */
  for (size_t i = 0; i < s->ns; i++)
    if (!isfinite(dydt[i])) return GSL_FAILURE;
  return GSL_SUCCESS;
}


/* msbdf needs a Jacobian: a forward-difference one is good enough for it. */
static int gsl_jac(double t, const double y[], double *dfdy, double dfdt[], void *params)
{
  gsl_ws *w = params;
  size_t n = w->s->ns;
  double *y1 = w->y1, *f0 = w->f0, *f1 = w->f1;
  memcpy(y1, y, n * sizeof *y1);
  gsl_rhs(t, y, f0, w);
  for (size_t j = 0; j < n; j++) {
    double h = JAC_REL * fabs(y[j]) + JAC_ABS;
    y1[j] = y[j] + h;
    gsl_rhs(t, y1, f1, w);
    for (size_t i = 0; i < n; i++) dfdy[i * n + j] = (f1[i] - f0[i]) / h;
    y1[j] = y[j];
  }
  double ht = JAC_REL * fabs(t) + JAC_ABS;
  gsl_rhs(t + ht, y, f1, w);
  for (size_t i = 0; i < n; i++) dfdt[i] = (f1[i] - f0[i]) / ht;
  return GSL_SUCCESS;
}


/* The stepper could not go on from time t with state y: records t and the
** state variable to blame (the first non-finite value or derivative, else
** the one changing fastest against its tolerance) for nm_sim_failure. */
static int stuck(gsl_ws *w, double t, const double *y)
{
  nm_sim *s = w->s;
  double *f = w->f0, worst = -1.0;
  gsl_rhs(t, y, f, w);
  long sig = 0;
  for (size_t i = 0; i < s->ns; i++) {
    double rate = fabs(f[i]) / (w->atol + w->rtol * fabs(y[i]));
    if (!isfinite(y[i]) || !isfinite(f[i])) { sig = (long)i; break; }
    if (rate > worst) { worst = rate; sig = (long)i; }
  }
  s->callback_failed = 0;
  nm_sim_fail(s, NM_ESTEP, "the adaptive stepper could not go on past t = %.15g ms (signal %ld)", t,
              sig);
  s->err.t = t;
  s->err.signal = sig;
  return NM_ESTEP;
}


static void ws_free(void *p)
{
  gsl_ws *w = p;
  if (!w) return;
  if (w->d) gsl_odeiv2_driver_free(w->d);
  free(w->y);
  free(w);
}


static void *ws_alloc(const gsl_odeiv2_step_type *type, nm_sim *s, const nm_run_opts *o)
{
  gsl_ws *w = calloc(1, sizeof *w);
  if (w) {
    w->s = s;
    w->rtol = o->rtol;                         /* > 0: the run checked them */
    w->atol = o->atol;
    gsl_odeiv2_system sys = { gsl_rhs, gsl_jac, s->ns, w };
    w->sys = sys;
    double h0 = FIRST_STEP * s->dt > 0 ? FIRST_STEP * s->dt : s->dt;  /* underflows for dt ~ 1e-323 */
    w->d = gsl_odeiv2_driver_alloc_y_new(&w->sys, type, h0, w->atol, w->rtol);
    if (w->d) gsl_odeiv2_driver_set_nmax(w->d, MAX_STEPS);
    w->y = w->d ? malloc((4 * s->ns + 1) * sizeof *w->y) : NULL;
  }
  if (!w || !w->y) {
    ws_free(w);
    nm_sim_fail(s, NM_ENOMEM, "the adaptive stepper for %zu state variables cannot be allocated",
                s->ns);
    return NULL;
  }
  w->y1 = w->y + s->ns;
  w->f0 = w->y1 + s->ns;
  w->f1 = w->f0 + s->ns;
  memcpy(w->y, s->V, s->ns * sizeof *w->y);
  return w;
}


static void *rkf45_alloc(nm_sim *s, const nm_run_opts *o) { return ws_alloc(gsl_odeiv2_step_rkf45, s, o); }
static void *rk8pd_alloc(nm_sim *s, const nm_run_opts *o) { return ws_alloc(gsl_odeiv2_step_rk8pd, s, o); }
static void *msbdf_alloc(nm_sim *s, const nm_run_opts *o) { return ws_alloc(gsl_odeiv2_step_msbdf, s, o); }


/* The state variables from the current output time to the next. */
static int ws_apply(void *p, nm_sim *s)
{
  gsl_ws *w = p;
  double t = nm_sim_time(s);
  int status = gsl_odeiv2_driver_apply(w->d, &t, (double)(s->step + 1) * s->dt, w->y);
  int rc = nm_sim_callback_status(s);   /* (before the state takes w->y) */
  if (rc != NM_OK) return rc;
  if (status != GSL_SUCCESS) return stuck(w, t, w->y);
  memcpy(s->V, w->y, s->ns * sizeof *w->y);
  return NM_OK;
}


/* The run moved the state: the driver's memory of the solution (msbdf's
** history) no longer describes it, so it restarts from the new state. */
static void ws_reset(void *p, nm_sim *s)
{
  gsl_ws *w = p;
  memcpy(w->y, s->V, s->ns * sizeof *w->y);
  gsl_odeiv2_driver_reset(w->d);
}


const nm_stepper_type nm_step_rkf45 = {
  .name = "rkf45", .order = 5, .adaptive = 1,
  .alloc = rkf45_alloc, .apply = ws_apply, .reset = ws_reset, .free = ws_free
};
const nm_stepper_type nm_step_rk8pd = {
  .name = "rk8pd", .order = 8, .adaptive = 1,
  .alloc = rk8pd_alloc, .apply = ws_apply, .reset = ws_reset, .free = ws_free
};
const nm_stepper_type nm_step_msbdf = {
  .name = "msbdf", .order = 5, .adaptive = 1,
  .alloc = msbdf_alloc, .apply = ws_apply, .reset = ws_reset, .free = ws_free
};
