/*
** status.c: the text of the engine's status codes.
*/
#include "nm.h"


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
