/*
** status.c: the text of the engine's status codes, and the engine's one
** error channel (nm_error: the reason an object keeps for its last failure).
*/
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include <gsl/gsl_errno.h>

#include "engine.h"


/* GSL's default error handler prints to stderr and aborts the process (an
** adaptive stepper given a step that underflows to 0 did).  The engine reports
** every GSL failure as a status instead, from the moment it is loaded. */
__attribute__((constructor)) static void quiet_gsl(void)
{
  gsl_set_error_handler_off();
}


const char *nm_strerror(int status)
{
  switch (status) {
    case NM_OK: return "success";
    case NM_ENOMEM: return "out of memory";
    case NM_EINVAL: return "invalid argument";
    case NM_EIO: return "input/output error";
    case NM_ENONFINITE: return "the simulation produced a NaN or infinite value";
    case NM_EINTR: return "interrupted";
    case NM_ECALLBACK: return "a slow-path callback failed";
    case NM_ESTEP: return "the adaptive stepper could not reach the requested time";
    default: return "unknown error";
  }
}


int nm_fail(nm_error *err, int status, const char *fmt, ...)
{
  if (!err) return status;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->why, sizeof err->why, fmt, ap);
  va_end(ap);
  err->status = status;
  return status;
}


void nm_error_clear(nm_error *err)
{
  if (!err) return;
  err->status = NM_OK;
  err->t = NAN;
  err->signal = -1;
  err->node = -1;
  err->code = 0;
  err->duration = err->bytes = err->limit = 0;
  err->why[0] = '\0';
}


const char *nm_error_text(const nm_error *err, int status)
{
  return err->why[0] ? err->why : nm_strerror(status);
}
