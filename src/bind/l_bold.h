/*
** l_bold.h: what sim:run (l_sim.c) uses of simulated BOLD (l_bold.c): the
** run's BOLD feed and outputs, opened before the run and settled after it.
*/
#ifndef nm_l_bold_h
#define nm_l_bold_h

#include "bind.h"

/* A run's BOLD: all zero when the run has none. */
typedef struct {
  nm_bold *b;
  nm_kept **kept_of;
  nm_recorder *rec;          /* this run's BOLD outputs: the kept rows, the CSV */
  nm_async *async;           /* the stage on its own thread, or NULL */
  nm_sink sink;              /* what the run feeds */
  nm_csv *csv;
  nm_csv **csv_owner;        /* where the run's userdata keeps csv (freed with it) */
  const char *path;
  int failed, csv_failed;
} nmL_bold_run;

/* Reads the run options at `opts` (bold = core.bold's stage, bold_csv =
** path, bold_header = {names}), anchoring what it opens in the table at
** `anchor`, and sets o's feed.  Returns 1, or 0 with nil and an "io" failure
** pushed (the caller returns them) when the CSV cannot be opened. */
int nmL_bold_begin(lua_State *L, int opts, int anchor, nm_run_opts *o, nmL_bold_run *br);
/* After nm_sim_run returned rc: waits for the stage; rc, or its failure. */
int nmL_bold_end(nmL_bold_run *br, int rc);
/* Settles the BOLD outputs: the CSV held complete under its temporary name
** (sim:run settles it with the run's other files), or partial when rc is a
** failure; rc or theirs. */
int nmL_bold_finish(nmL_bold_run *br, int rc);
/* The BOLD CSV, taken from the run's userdata (the caller frees it), or NULL. */
nm_csv *nmL_bold_take_csv(nmL_bold_run *br);
/* Pushes nil and the failure when BOLD caused it (nonfinite with t, signal
** and bold = true; io; engine) and returns 1; else 0. */
int nmL_bold_failure(lua_State *L, nmL_bold_run *br, int rc);
/* Sets bold_partial of the failure table on top: where the BOLD CSV kept its rows. */
void nmL_bold_partial(lua_State *L, const nmL_bold_run *br);

void nmL_open_bold(lua_State *L);

#endif
