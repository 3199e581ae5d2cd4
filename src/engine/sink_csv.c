/*
** sink_csv.c: a CSV writer (csv.c) as a sink.  The caller keeps the writer:
** finishing the sink settles the file (commit, partial, hold), freeing it
** does nothing.
*/
#include "engine.h"


static int csv_rows(void *ud, const double *rows, size_t n_rows, size_t n_cols)
{
  return nm_csv_write_rows(ud, rows, n_rows, n_cols);
}


/* A hold that fails is settled as partial, like a write that fails. */
static int csv_finish(void *ud, int how)
{
  int rc = nm_csv_finish(ud, how);
  if (how == NM_CSV_HOLD && rc != NM_OK) nm_csv_finish(ud, NM_CSV_PARTIAL);
  return rc;
}


static const char *csv_error(const void *ud)
{
  return nm_csv_error(ud);
}


nm_sink nm_csv_sink(nm_csv *w)
{
  nm_sink sink = { csv_rows, csv_finish, csv_error, NULL, w };
  return sink;
}
