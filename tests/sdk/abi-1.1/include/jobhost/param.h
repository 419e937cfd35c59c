/*
 * jobhost/param.h — parameter schemas.
 *
 * A task type declares its parameters, and a connector package its
 * connection settings, as an array of jobhost_param terminated by
 * JOBHOST_PARAM_END. The host validates a pipeline against the schema
 * before any plugin code runs: unknown keys, missing required keys, values
 * of the wrong type and values outside `choices` are configuration errors.
 *
 * Names are snake_case, the Identity Manager attribute name converted
 * (IgnoreCookieFile -> ignore_cookie_file).
 *
 * jobhost_param is a fixed-size struct within ABI major 1: new members
 * take a reserved slot.
 */
#ifndef JOBHOST_PARAM_H
#define JOBHOST_PARAM_H

#include <stddef.h>

#include <jobhost/version.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum jobhost_param_type {
  JOBHOST_PARAM_STRING = 1, /* any text */
  JOBHOST_PARAM_INT = 2,    /* a decimal integer (64-bit signed) */
  JOBHOST_PARAM_BOOL = 3,   /* true/false (also 1/0, True/False) */
  JOBHOST_PARAM_ENUM = 4,   /* one of `choices` */
  JOBHOST_PARAM_LIST = 5,   /* a list of strings */
  JOBHOST_PARAM_PATH = 6    /* ABI 1.1: a file path; a relative one is made
                               absolute against the folder of the file
                               that sets it */
} jobhost_param_type;

typedef struct jobhost_param {
  const char *name;           /* required */
  jobhost_param_type type;    /* required */
  int required;               /* nonzero: must be given */
  const char *default_value;  /* as text, or NULL */
  const char *help;           /* one line */
  const char *const *choices; /* ENUM: NULL-terminated; else NULL */
  int secret;                 /* nonzero: never logged or reported */
  void *reserved[4];
} jobhost_param;

/* The host walks parameter arrays with its own sizeof: the size is fixed. */
JOBHOST_STATIC_ASSERT(sizeof(jobhost_param) == JOBHOST_ABI_SIZE(80u, 44u),
                      "jobhost_param is fixed-size within ABI major 1");

/* Terminates a parameter array. */
#define JOBHOST_PARAM_END                                                      \
  {                                                                            \
    NULL, (jobhost_param_type)0, 0, NULL, NULL, NULL, 0, { NULL }              \
  }

/* Returns the canonical name of a parameter type ("string", "int", ...). */
static inline const char *jobhost_param_type_name(jobhost_param_type t) {
  switch (t) {
  case JOBHOST_PARAM_STRING:
    return "string";
  case JOBHOST_PARAM_INT:
    return "int";
  case JOBHOST_PARAM_BOOL:
    return "bool";
  case JOBHOST_PARAM_ENUM:
    return "enum";
  case JOBHOST_PARAM_LIST:
    return "list";
  case JOBHOST_PARAM_PATH:
    return "path";
  }
  return "invalid";
}

#ifdef __cplusplus
}
#endif

#endif /* JOBHOST_PARAM_H */
