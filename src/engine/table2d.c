/*
** table2d.c: bilinear lookup in a precomputed two-dimensional table.
**
** The rule is neurolib's (neurolib/models/aln/timeIntegration.py): inside the grid
** it interpolates bilinearly; outside an axis it uses that axis' edge (the
** first or the last entry), so values beyond the table are clamped.  Grid
** steps come from the first two axis values, the upper bounds are exclusive.
*/
#include <math.h>

#include "nm.h"


/* Position of x on one axis: the lower index and the fraction towards the next. */
static void locate(double x, double x0, double step, double x_end, size_t n,
                   size_t *i, double *frac)
{
  if (x >= x0 && x < x_end) {
    double pos = (x - x0) / step;
    double fl = floor(pos);
    *i = (size_t)fl;
    *frac = pos - fl;
    if (*i >= n - 1) { *i = n - 1; *frac = 0.0; }
  } else if (x < x0) {
    *i = 0;
    *frac = 0.0;
  } else {
    *i = n - 1;      /* the last entry; its neighbour carries weight 0 */
    *frac = 0.0;
  }
}


int nm_table2d_locate(const nm_table2d *t, double row_x, double col_x, nm_table_pos *pos)
{
  locate(row_x, t->row0, t->row_step, t->row_end, t->n_rows, &pos->r, &pos->fr);
  locate(col_x, t->col0, t->col_step, t->col_end, t->n_cols, &pos->c, &pos->fc);
  return !(row_x >= t->row0 && row_x < t->row_end && col_x >= t->col0 && col_x < t->col_end);
}


double nm_table2d_at(const nm_table2d *t, const nm_table_pos *pos)
{
  size_t r = pos->r, c = pos->c;
  double fr = pos->fr, fc = pos->fc;
  size_t r1 = r + 1 < t->n_rows ? r + 1 : r;
  size_t c1 = c + 1 < t->n_cols ? c + 1 : c;
  const double *v = t->values;
  size_t nc = t->n_cols;
  return v[r * nc + c] * (1 - fc) * (1 - fr) + v[r * nc + c1] * fc * (1 - fr) +
         v[r1 * nc + c] * (1 - fc) * fr + v[r1 * nc + c1] * fc * fr;
}


void nm_table2d_count_clamped(nm_table2d *t, unsigned long n, double row_x, double col_x)
{
  if (n == 0) return;
  /* Threads evaluating different lanes may get here together (a rare path). */
#pragma omp critical(nm_table2d_clamped)
  {
    if (t->clamped == 0) { t->clamped_row = row_x; t->clamped_col = col_x; }
    t->clamped += n;
  }
}


int nm_table2d_same_grid(const nm_table2d *a, const nm_table2d *b)
{
  return a->n_rows == b->n_rows && a->n_cols == b->n_cols && a->row0 == b->row0 &&
         a->row_step == b->row_step && a->row_end == b->row_end && a->col0 == b->col0 &&
         a->col_step == b->col_step && a->col_end == b->col_end;
}


double nm_table2d_lookup(nm_table2d *t, double row_x, double col_x)
{
  nm_table_pos pos;
  nm_table2d_count_clamped(t, (unsigned long)nm_table2d_locate(t, row_x, col_x, &pos), row_x, col_x);
  return nm_table2d_at(t, &pos);
}
