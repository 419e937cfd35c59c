/*
 * jobhost/error.h — the one error convention of the SDK.
 *
 * Every int-returning SDK function and plugin entry point returns 0 on
 * success and a negative code on failure. Codes in [-4095, -1] are negated
 * errno values (-ENOENT, -EINVAL, -ENOMEM...). Codes below -4096 are
 * jobhost's own, listed here. Codes are never renumbered or reused; new
 * ones are added at the end.
 */
#ifndef JOBHOST_ERROR_H
#define JOBHOST_ERROR_H

#include <string.h>

#define JOBHOST_OK 0

/* jobhost's own codes (all below -JOBHOST_ERRNO_MAX). */
/* clang-format off */
#define JOBHOST_ERRNO_MAX 4095
#define JOBHOST_EBADMAGIC (-4097)    /* not a jobhost plugin descriptor */
#define JOBHOST_EABI (-4098)         /* plugin built for an incompatible ABI */
#define JOBHOST_ENOTIMPL (-4099)     /* task type not implemented yet */
#define JOBHOST_EBLOCKED (-4100)     /* threshold exceeded: task is Blocked */
#define JOBHOST_ECONFIG (-4101)      /* invalid configuration or parameter */
#define JOBHOST_ESOURCE (-4102)      /* source data failed a health check */
#define JOBHOST_ECANCELLED (-4103)   /* the task was asked to stop */
#define JOBHOST_EDUPLICATE (-4104)   /* name already claimed by another plugin */
#define JOBHOST_ENODESCRIPTOR (-4105) /* shared object has no descriptor */
/* clang-format on */

/*
 * jobhost_strerror — text for an SDK error code.
 *
 * Returns a static string the caller must not free or modify. For errno
 * codes it returns strerror(-code); for an unknown code, a generic text.
 */
static inline const char *jobhost_strerror(int code) {
  switch (code) {
  case JOBHOST_OK:
    return "success";
  case JOBHOST_EBADMAGIC:
    return "not a jobhost plugin (bad magic)";
  case JOBHOST_EABI:
    return "incompatible plugin ABI";
  case JOBHOST_ENOTIMPL:
    return "not implemented";
  case JOBHOST_EBLOCKED:
    return "threshold exceeded (blocked)";
  case JOBHOST_ECONFIG:
    return "invalid configuration";
  case JOBHOST_ESOURCE:
    return "source data failed its health check";
  case JOBHOST_ECANCELLED:
    return "cancelled";
  case JOBHOST_EDUPLICATE:
    return "already provided by another plugin";
  case JOBHOST_ENODESCRIPTOR:
    return "no plugin descriptor";
  default:
    break;
  }
  if (code < 0 && code >= -JOBHOST_ERRNO_MAX)
    return strerror(-code);
  return "unknown error";
}

#endif /* JOBHOST_ERROR_H */
