/*
** model.c: a compiled model: sizes, initial values, parameter slots, and the
** programs, coupling sums, constraints, noise processes and tables that
** define its right-hand side.  A model owns everything added to it.
*/
#include <stdlib.h>
#include <string.h>

#include "engine.h"


void *nm_grow(void *arr_ptr, size_t *n, size_t size)
{
  void **arr = arr_ptr;
  char *grown = realloc(*arr, (*n + 1) * size);
  if (!grown) return NULL;
  *arr = grown;
  memset(grown + *n * size, 0, size);
  return grown + (*n)++ * size;
}


nm_model *nm_model_new(size_t n_state, size_t n_aux, size_t n_param, size_t n_input)
{
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


void nm_model_clear_couplings(nm_model *m)
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
  nm_model_clear_couplings(m);
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
  if (n != m->n_state + m->n_aux) return NM_EINVAL;
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
  if (slot >= m->n_param) return NM_EINVAL;
  m->P[slot] = value;
  nm_model_params_changed(m);
  return NM_OK;
}


/* Checks that every load and store of some code stays inside the model's arrays. */
static int code_fits(const nm_model *m, const nm_ins *code, size_t n_ins, size_t lanes)
{
  size_t nv = m->n_state + m->n_aux;
  for (size_t k = 0; k < n_ins; k++) {
    const nm_ins *in = &code[k];
    size_t L = lanes, limit;
    switch (in->op) {
      case NM_OP_SIGNAL: case NM_OP_HIST: case -1 - NM_SINK_SIGNAL: limit = nv; break;
      case NM_OP_PARAM: limit = m->n_param; break;
      case NM_OP_GPARAM: limit = m->n_param; L = 1; break;
      case NM_OP_INPUT: case -1 - NM_SINK_INPUT: limit = m->n_input; break;
      case -1 - NM_SINK_DERIV: limit = m->n_state; break;
      case NM_OP_TABLE2D: limit = m->n_tables; L = 1; break;
      default: continue;
    }
    if ((size_t)in->slot + L > limit) return 0;
  }
  return 1;
}


static int program_fits(const nm_model *m, const nm_program *p)
{
  return code_fits(m, p->code, p->n_ins, p->lanes) && code_fits(m, p->pre, p->n_pre, p->lanes);
}


int nm_model_add_program(nm_model *m, int stage, nm_program *prog)
{
  if (stage < NM_STAGE_SYNC || stage > NM_STAGE_AFTER || !prog) return NM_EINVAL;
  if (!program_fits(m, prog)) return NM_EINVAL;
  nm_program **slot = nm_grow(&m->progs[stage], &m->n_progs[stage], sizeof *slot);
  if (!slot) return NM_ENOMEM;
  *slot = prog;
  return NM_OK;
}


static void *dup_array(const void *src, size_t n, size_t size)
{
  void *p = malloc(n * size + 1);
  if (p && n) memcpy(p, src, n * size);
  return p;
}


int nm_model_add_coupling(nm_model *m, int mode, size_t n_rows, const long *dst,
                          const long *self, const size_t *row_ptr,
                          const long *src, const int *delay, const double *weight)
{
  size_t nv = m->n_state + m->n_aux;
  if (mode != NM_ADDITIVE && mode != NM_DIFFUSIVE) return NM_EINVAL;
  if (row_ptr[0] != 0) return NM_EINVAL;
  for (size_t r = 0; r < n_rows; r++) {
    if (row_ptr[r + 1] < row_ptr[r]) return NM_EINVAL;
    if (dst[r] < 0 || (size_t)dst[r] >= m->n_input) return NM_EINVAL;
    if (mode == NM_DIFFUSIVE && (self[r] < 0 || (size_t)self[r] >= nv)) return NM_EINVAL;
  }
  size_t n_terms = row_ptr[n_rows];
  for (size_t k = 0; k < n_terms; k++)
    if (src[k] < 0 || (size_t)src[k] >= nv || delay[k] < 0) return NM_EINVAL;
  nm_coupling c = { mode, n_rows, NULL, NULL, NULL, NULL, NULL, NULL };
  c.dst = dup_array(dst, n_rows, sizeof *dst);
  c.self = mode == NM_DIFFUSIVE ? dup_array(self, n_rows, sizeof *self) : NULL;
  c.row_ptr = dup_array(row_ptr, n_rows + 1, sizeof *row_ptr);
  c.src = dup_array(src, n_terms, sizeof *src);
  c.delay = dup_array(delay, n_terms, sizeof *delay);
  c.weight = dup_array(weight, n_terms, sizeof *weight);
  nm_coupling *slot = NULL;
  if (c.dst && c.row_ptr && c.src && c.delay && c.weight && (c.self || mode != NM_DIFFUSIVE))
    slot = nm_grow(&m->couplings, &m->n_couplings, sizeof *slot);
  if (!slot) { coupling_release(&c); return NM_ENOMEM; }
  *slot = c;
  return NM_OK;
}


int nm_model_add_clamp(nm_model *m, long sig, double lo, double hi)
{
  if (sig < 0 || (size_t)sig >= m->n_state || !(lo <= hi)) return NM_EINVAL;
  nm_clamp *c = nm_grow(&m->clamps, &m->n_clamps, sizeof *c);
  if (!c) return NM_ENOMEM;
  c->sig = sig; c->lo = lo; c->hi = hi;
  return NM_OK;
}


int nm_model_add_wrap(nm_model *m, long sig, double period)
{
  if (sig < 0 || (size_t)sig >= m->n_state || !(period > 0)) return NM_EINVAL;
  nm_wrap *w = nm_grow(&m->wraps, &m->n_wraps, sizeof *w);
  if (!w) return NM_ENOMEM;
  w->sig = sig; w->period = period;
  return NM_OK;
}


int nm_model_add_noise(nm_model *m, long dst, long mu, long sigma, long tau, double x0)
{
  long np = (long)m->n_param;
  if (dst < 0 || (size_t)dst >= m->n_input || mu < 0 || mu >= np || sigma < 0 ||
      sigma >= np || tau < 0 || tau >= np)
    return NM_EINVAL;
  nm_noise *n = nm_grow(&m->noises, &m->n_noises, sizeof *n);
  if (!n) return NM_ENOMEM;
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
  if (!fn) return NM_EINVAL;
  nm_callback *c = nm_grow(&m->callbacks, &m->n_callbacks, sizeof *c);
  if (!c) return NM_ENOMEM;
  c->fn = fn; c->ud = ud; c->release = release;
  return NM_OK;
}


int nm_model_add_table(nm_model *m, nm_table2d *tbl)
{
  if (!tbl || tbl->n_rows < 2 || tbl->n_cols < 2 || !tbl->values) return NM_EINVAL;
  nm_table2d **slot = nm_grow(&m->tables, &m->n_tables, sizeof *slot);
  if (!slot) return NM_ENOMEM;
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
