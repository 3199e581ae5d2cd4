/*
** analysis_stop.c: the interrupt flag the analysis functions (analysis_*.c)
** poll between windows and rows, as a run polls nm_run_opts.interrupt: a
** long fcd stops promptly on a signal with NM_EINTR ("interrupted").
*/
#include "engine.h"

static volatile sig_atomic_t *stop_flag;


void nm_analysis_interrupt(volatile sig_atomic_t *flag)
{
  stop_flag = flag;
}


int nm_analysis_stopped(void)
{
  return stop_flag && *stop_flag;
}


int nm_analysis_fail_stopped(nm_error *err, const char *what)
{
  return nm_fail(err, NM_EINTR, "%s: interrupted", what);
}
