/*
** model.c: a compiled model: sizes, initial values, parameter slots, and the
** programs, coupling sums, constraints, noise processes and tables that
** define its right-hand side.  A model owns everything added to it.
*/
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"


const char *nm_model_error(const nm_model *m, int status)
{
  return nm_error_text(&m->err, status);
}


nm_model *nm_model_new(size_t n_state, size_t n_aux, size_t n_param, size_t n_input)
{
  /* Sizes beyond this cannot be allocated, and counts derived from them
  ** (n_state + n_aux + 1, ...) must not wrap. */
  const size_t most = SIZE_MAX / 4 / sizeof(double);
  if (n_state > most || n_aux > most || n_param > most || n_input > most) return NULL;
  nm_model *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->n_state = n_state;
  m->n_aux = n_aux;
  m->n_param = n_param;
  m->n_input = n_input;
  m->v0 = calloc(n_state + n_aux + 1, sizeof(double));
  m->P = calloc(n_param + 1, sizeof(double));
  if (!m->v0 || !m->P) { nm_model_free(m); return NULL; }
  return m;
}


static void coupling_release(nm_coupling *c)
{
  free(c->dst);
  free(c->self);
  free(c->row_ptr);
  free(c->src);
  free(c->delay);
  free(c->weight);
}


static void clear_couplings(nm_model *m)
{
  for (size_t i = 0; i < m->n_couplings; i++) coupling_release(&m->couplings[i]);
  free(m->couplings);
  m->couplings = NULL;
  m->n_couplings = 0;
}


void nm_model_free(nm_model *m)
{
  if (!m) return;
  for (int s = 0; s < 3; s++) {
    for (size_t i = 0; i < m->n_progs[s]; i++) nm_program_free(m->progs[s][i]);
    free(m->progs[s]);
  }
  clear_couplings(m);
  for (size_t i = 0; i < m->n_tables; i++) {
    if (m->tables[i]) free(m->tables[i]->values);
    free(m->tables[i]);
  }
  free(m->tables);
  for (size_t i = 0; i < m->n_callbacks; i++)
    if (m->callbacks[i].release) m->callbacks[i].release(m->callbacks[i].ud);
  free(m->callbacks);
  free(m->clamps);
  free(m->wraps);
  free(m->noises);
  free(m->v0);
  free(m->P);
  free(m);
}


int nm_model_set_initial(nm_model *m, const double *v0, size_t n)
{
  nm_error_clear(&m->err);
  if (n != m->n_state + m->n_aux)
    return nm_model_fail(m, NM_EINVAL, "initial values: %zu given, the model has %zu signals "
                         "(%zu state and %zu algebraic)", n, m->n_state + m->n_aux,
                         m->n_state, m->n_aux);
  memcpy(m->v0, v0, n * sizeof *v0);
  return NM_OK;
}


void nm_model_params_changed(nm_model *m)
{
  m->param_version++;
  for (int s = 0; s < 3; s++)
    for (size_t i = 0; i < m->n_progs[s]; i++) nm_program_invalidate(m->progs[s][i]);
}


int nm_model_set_param(nm_model *m, size_t slot, double value)
{
  nm_error_clear(&m->err);
  if (slot >= m->n_param)
    return nm_model_fail(m, NM_EINVAL, "parameter slot %zu does not exist (the model has %zu, "
                         "from 0)", slot, m->n_param);
  m->P[slot] = value;
  nm_model_params_changed(m);
  return NM_OK;
}


/* Checks that every load and store of some code stays inside the model's
** arrays; when one does not, records which and returns NM_EINVAL. */
static int code_fits(nm_model *m, const nm_ins *code, size_t n_ins, size_t lanes)
{
  size_t nv = m->n_state + m->n_aux;
  for (size_t k = 0; k < n_ins; k++) {
    const nm_ins *in = &code[k];
    size_t L = lanes, limit;
    const char *what, *noun;
    switch (in->op) {
      case NM_OP_SIGNAL: case NM_OP_HIST: what = "reads signal"; noun = "signals"; limit = nv; break;
      case -1 - NM_SINK_SIGNAL: what = "writes signal"; noun = "signals"; limit = nv; break;
      case NM_OP_PARAM: what = "reads parameter"; noun = "parameters"; limit = m->n_param; break;
      case NM_OP_GPARAM:
        what = "reads parameter"; noun = "parameters"; limit = m->n_param; L = 1; break;
      case NM_OP_INPUT: what = "reads input"; noun = "inputs"; limit = m->n_input; break;
      case -1 - NM_SINK_INPUT: what = "writes input"; noun = "inputs"; limit = m->n_input; break;
      case -1 - NM_SINK_DERIV:
        what = "writes the derivative of state variable"; noun = "state variables";
        limit = m->n_state; break;
      case NM_OP_TABLE2D: what = "looks up table"; noun = "tables"; limit = m->n_tables; L = 1; break;
      default: continue;
    }
    if ((size_t)in->slot + L > limit) {
      char range[80];
      if (L > 1) snprintf(range, sizeof range, "%ld to %zu (%zu lanes)", in->slot,
                          (size_t)in->slot + L - 1, L);
      else snprintf(range, sizeof range, "%ld", in->slot);
      return nm_model_fail(m, NM_EINVAL, "program: %s %s, but the model has %zu %s (from 0)",
                           what, range, limit, noun);
    }
  }
  return NM_OK;
}


int nm_model_add_program(nm_model *m, int stage, nm_program *prog)
{
  nm_error_clear(&m->err);
  if (stage < NM_STAGE_SYNC || stage > NM_STAGE_AFTER)
    return nm_model_fail(m, NM_EINVAL, "program: stage %d is not sync (%d), rhs (%d) or after (%d)",
                         stage, NM_STAGE_SYNC, NM_STAGE_RHS, NM_STAGE_AFTER);
  if (!prog) return nm_model_fail(m, NM_EINVAL, "program: no program given");
  int rc = code_fits(m, prog->code, prog->n_ins, prog->lanes);
  if (rc == NM_OK) rc = code_fits(m, prog->pre, prog->n_pre, prog->lanes);
  if (rc != NM_OK) return rc;
  nm_program **slot = nm_grow(&m->progs[stage], &m->n_progs[stage], sizeof *slot);
  if (!slot) return nm_model_fail(m, NM_ENOMEM, "program: out of memory");
  *slot = prog;
  return NM_OK;
}


static void *dup_array(const void *src, size_t n, size_t size)
{
  void *p = malloc(n * size + 1);
  if (p && n) memcpy(p, src, n * size);
  return p;
}


/* Refuses (in m's error) a coupling whose rows or terms are out of range. */
static int coupling_check(nm_model *m, int mode, size_t n_rows, const long *dst,
                          const long *self, const size_t *row_ptr, const long *src,
                          const int *delay)
{
  size_t nv = m->n_state + m->n_aux;
  nm_error_clear(&m->err);
  if (mode != NM_ADDITIVE && mode != NM_DIFFUSIVE)
    return nm_model_fail(m, NM_EINVAL, "coupling: mode %d is neither additive (%d) nor "
                         "diffusive (%d)", mode, NM_ADDITIVE, NM_DIFFUSIVE);
  if (row_ptr[0] != 0)
    return nm_model_fail(m, NM_EINVAL, "coupling: row_ptr[0] is %zu, it must be 0", row_ptr[0]);
  for (size_t r = 0; r < n_rows; r++) {
    if (row_ptr[r + 1] < row_ptr[r])
      return nm_model_fail(m, NM_EINVAL, "coupling: row_ptr decreases at row %zu (%zu, then %zu)",
                           r, row_ptr[r], row_ptr[r + 1]);
    if (dst[r] < 0 || (size_t)dst[r] >= m->n_input)
      return nm_model_fail(m, NM_EINVAL, "coupling: row %zu writes input %ld, but the model has "
                           "%zu inputs (from 0)", r, dst[r], m->n_input);
    if (mode == NM_DIFFUSIVE && (self[r] < 0 || (size_t)self[r] >= nv))
      return nm_model_fail(m, NM_EINVAL, "coupling: row %zu reads its own signal %ld, but the "
                           "model has %zu signals (from 0)", r, self[r], nv);
  }
  size_t n_terms = row_ptr[n_rows];
  for (size_t k = 0; k < n_terms; k++) {
    if (src[k] < 0 || (size_t)src[k] >= nv)
      return nm_model_fail(m, NM_EINVAL, "coupling: term %zu reads signal %ld, but the model has "
                           "%zu signals (from 0)", k, src[k], nv);
    if (delay[k] < 0)
      return nm_model_fail(m, NM_EINVAL, "coupling: term %zu has a negative delay (%d steps)", k,
                           delay[k]);
  }
  return NM_OK;
}


/* Stores coupling c in m, or releases its arrays (NULL ones: out of memory). */
static int coupling_store(nm_model *m, nm_coupling c)
{
  nm_coupling *slot = NULL;
  if (c.dst && c.row_ptr && c.src && c.delay && c.weight && (c.self || c.mode != NM_DIFFUSIVE))
    slot = nm_grow(&m->couplings, &m->n_couplings, sizeof *slot);
  if (!slot) {
    coupling_release(&c);
    return nm_model_fail(m, NM_ENOMEM, "coupling: out of memory for %zu rows and %zu terms",
                         c.n_rows, c.row_ptr ? c.row_ptr[c.n_rows] : (size_t)0);
  }
  *slot = c;
  return NM_OK;
}


int nm_model_add_coupling(nm_model *m, int mode, size_t n_rows, const long *dst,
                          const long *self, const size_t *row_ptr,
                          const long *src, const int *delay, const double *weight)
{
  int status = coupling_check(m, mode, n_rows, dst, self, row_ptr, src, delay);
  if (status != NM_OK) return status;
  size_t n_terms = row_ptr[n_rows];
  nm_coupling c = { mode, n_rows, NULL, NULL, NULL, NULL, NULL, NULL };
  c.dst = dup_array(dst, n_rows, sizeof *dst);
  c.self = mode == NM_DIFFUSIVE ? dup_array(self, n_rows, sizeof *self) : NULL;
  c.row_ptr = dup_array(row_ptr, n_rows + 1, sizeof *row_ptr);
  c.src = dup_array(src, n_terms, sizeof *src);
  c.delay = dup_array(delay, n_terms, sizeof *delay);
  c.weight = dup_array(weight, n_terms, sizeof *weight);
  return coupling_store(m, c);
}


int nm_model_adopt_coupling(nm_model *m, int mode, size_t n_rows, const long *dst,
                            const long *self, size_t **row_ptr, long **src, int **delay,
                            double **weight)
{
  int status = coupling_check(m, mode, n_rows, dst, self, *row_ptr, *src, *delay);
  if (status != NM_OK) return status;
  nm_coupling c = { mode, n_rows, NULL, NULL, *row_ptr, *src, *delay, *weight };
  c.dst = dup_array(dst, n_rows, sizeof *dst);
  c.self = mode == NM_DIFFUSIVE ? dup_array(self, n_rows, sizeof *self) : NULL;
  *row_ptr = NULL;
  *src = NULL;
  *delay = NULL;
  *weight = NULL;
  return coupling_store(m, c);
}


int nm_model_add_clamp(nm_model *m, long sig, double lo, double hi)
{
  nm_error_clear(&m->err);
  if (sig < 0 || (size_t)sig >= m->n_state)
    return nm_model_fail(m, NM_EINVAL, "clamp: signal %ld is not a state variable (the model has "
                         "%zu, from 0)", sig, m->n_state);
  if (!(lo <= hi))
    return nm_model_fail(m, NM_EINVAL, "clamp of signal %ld: the range [%g, %g] is empty or not a "
                         "number (needs lo <= hi)", sig, nm_shown(lo), nm_shown(hi));
  nm_clamp *c = nm_grow(&m->clamps, &m->n_clamps, sizeof *c);
  if (!c) return nm_model_fail(m, NM_ENOMEM, "clamp: out of memory");
  c->sig = sig; c->lo = lo; c->hi = hi;
  return NM_OK;
}


int nm_model_add_wrap(nm_model *m, long sig, double period)
{
  nm_error_clear(&m->err);
  if (sig < 0 || (size_t)sig >= m->n_state)
    return nm_model_fail(m, NM_EINVAL, "wrap: signal %ld is not a state variable (the model has "
                         "%zu, from 0)", sig, m->n_state);
  if (!(period > 0 && period < INFINITY))
    return nm_model_fail(m, NM_EINVAL, "wrap of signal %ld: the period is %g; it must be a "
                         "positive finite number", sig, nm_shown(period));
  nm_wrap *w = nm_grow(&m->wraps, &m->n_wraps, sizeof *w);
  if (!w) return nm_model_fail(m, NM_ENOMEM, "wrap: out of memory");
  w->sig = sig; w->period = period;
  return NM_OK;
}


int nm_model_add_noise(nm_model *m, long dst, long mu, long sigma, long tau, double x0)
{
  nm_error_clear(&m->err);
  if (dst < 0 || (size_t)dst >= m->n_input)
    return nm_model_fail(m, NM_EINVAL, "noise: input %ld does not exist (the model has %zu, from 0)",
                         dst, m->n_input);
  const long slot[3] = { mu, sigma, tau };
  static const char *const role[3] = { "mu", "sigma", "tau" };
  for (int i = 0; i < 3; i++)
    if (slot[i] < 0 || (size_t)slot[i] >= m->n_param)
      return nm_model_fail(m, NM_EINVAL, "noise feeding input %ld: the %s parameter slot %ld does "
                           "not exist (the model has %zu, from 0)", dst, role[i], slot[i],
                           m->n_param);
  nm_noise *n = nm_grow(&m->noises, &m->n_noises, sizeof *n);
  if (!n) return nm_model_fail(m, NM_ENOMEM, "noise: out of memory");
  n->dst = dst; n->mu = mu; n->sigma = sigma; n->tau = tau; n->x0 = x0;
  return NM_OK;
}


int nm_model_add_white_noise(nm_model *m, long dst, long mu, long sigma)
{
  int rc = nm_model_add_noise(m, dst, mu, sigma, mu, 0.0);
  if (rc == NM_OK) m->noises[m->n_noises - 1].white = 1;
  return rc;
}


int nm_model_add_callback(nm_model *m, nm_callback_fn fn, void *ud, void (*release)(void *ud))
{
  nm_error_clear(&m->err);
  if (!fn) return nm_model_fail(m, NM_EINVAL, "callback: no function given");
  nm_callback *c = nm_grow(&m->callbacks, &m->n_callbacks, sizeof *c);
  if (!c) return nm_model_fail(m, NM_ENOMEM, "callback: out of memory");
  c->fn = fn; c->ud = ud; c->release = release;
  return NM_OK;
}


/* An axis is located by (x - first) / step for first <= x < last, converted
** to an index: that position must be finite and exact (at most 2^53). */
static int check_axis(nm_model *m, const char *which, double first, double step, double last)
{
  if (!(first > -INFINITY && last < INFINITY && step > 0 && step < INFINITY && last > first &&
        (last - first) / step <= 9007199254740992.0))
    return nm_model_fail(m, NM_EINVAL, "table: the %s axis (first %g, step %g, last %g) needs "
                         "finite values, a positive step, last > first and at most 2^53 steps "
                         "from first to last", which, nm_shown(first), nm_shown(step), nm_shown(last));
  return NM_OK;
}


int nm_model_add_table(nm_model *m, nm_table2d *tbl)
{
  nm_error_clear(&m->err);
  if (!tbl || !tbl->values) return nm_model_fail(m, NM_EINVAL, "table: no values given");
  if (tbl->n_rows < 2 || tbl->n_cols < 2 || tbl->n_rows > SIZE_MAX / sizeof(double) / tbl->n_cols)
    return nm_model_fail(m, NM_EINVAL, "table: %zu x %zu values; it needs at least 2 rows and 2 "
                         "columns, and a size that can be allocated", tbl->n_rows, tbl->n_cols);
  int rc = check_axis(m, "row", tbl->row0, tbl->row_step, tbl->row_end);
  if (rc == NM_OK) rc = check_axis(m, "column", tbl->col0, tbl->col_step, tbl->col_end);
  if (rc != NM_OK) return rc;
  nm_table2d **slot = nm_grow(&m->tables, &m->n_tables, sizeof *slot);
  if (!slot) return nm_model_fail(m, NM_ENOMEM, "table: out of memory");
  *slot = tbl;
  return NM_OK;
}


nm_table2d *nm_model_table(nm_model *m, size_t i)
{
  return i < m->n_tables ? m->tables[i] : NULL;
}


size_t nm_model_n_state(const nm_model *m) { return m->n_state; }
size_t nm_model_n_signals(const nm_model *m) { return m->n_state + m->n_aux; }
size_t nm_model_n_param(const nm_model *m) { return m->n_param; }
size_t nm_model_n_input(const nm_model *m) { return m->n_input; }
size_t nm_model_n_tables(const nm_model *m) { return m->n_tables; }


size_t nm_model_max_delay(const nm_model *m)
{
  long d = 0;
  for (size_t i = 0; i < m->n_couplings; i++) {
    const nm_coupling *c = &m->couplings[i];
    for (size_t k = 0; k < c->row_ptr[c->n_rows]; k++) if (c->delay[k] > d) d = c->delay[k];
  }
  for (int s = 0; s < 3; s++)
    for (size_t i = 0; i < m->n_progs[s]; i++)
      if (m->progs[s][i]->max_delay > d) d = m->progs[s][i]->max_delay;
  return (size_t)d;
}
