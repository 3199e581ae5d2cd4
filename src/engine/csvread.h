/*
** csvread.h: reading CSV files as written by nm_csv (csvread.c), a chunk of
** rows at a time, with the line numbers and the time grid checked (what
** sonify reads a saved result with).
*/
#ifndef nm_csvread_h
#define nm_csvread_h

#include <stddef.h>

#include "nm.h"

typedef struct nm_csv_reader nm_csv_reader;

/* On failure: NULL, and *err (may be NULL) holds the status (NM_EIO: no such
** file or not readable, NM_EINVAL: no header line, NM_ENOMEM) and the reason. */
nm_csv_reader *nm_csv_reader_open(const char *path, nm_error *err);
size_t nm_csv_reader_columns(const nm_csv_reader *r);
const char *nm_csv_reader_name(const nm_csv_reader *r, size_t c);
/* Reads up to max_rows rows into rows (row-major); *n_rows is 0 at the end.
** NM_EINVAL for a malformed line or a time off the grid: nm_csv_reader_error
** then says which line (the header is line 1), what it holds and what was expected. */
int nm_csv_reader_rows(nm_csv_reader *r, double *rows, size_t max_rows, size_t *n_rows);
/* The line last read; the line of row i of the last chunk. */
long nm_csv_reader_line(const nm_csv_reader *r);
long nm_csv_reader_row_line(const nm_csv_reader *r, size_t i);
/* Why the last nm_csv_reader_rows failed ("" when it did not). */
const char *nm_csv_reader_error(const nm_csv_reader *r);
/* From now on every row's column 0 (time) must be finite and follow the
** previous row's by `interval`, to within 1e-6 of the interval plus the
** rounding of the 12 significant digits nm_csv writes times with
** (4e-11 of |t|).  0 checks only that times are finite. */
void nm_csv_reader_grid(nm_csv_reader *r, double interval);
/* The data rows (lines that are not blank) after the header, counted by one
** fast pass over the file without parsing; then back to the first data row. */
int nm_csv_reader_count_rows(nm_csv_reader *r, long *n);
/* Back to the first data row. */
int nm_csv_reader_rewind(nm_csv_reader *r);
void nm_csv_reader_close(nm_csv_reader *r);

#endif
