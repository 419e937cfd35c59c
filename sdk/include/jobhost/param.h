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
#include <stdint.h>

#include <jobhost/version.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum jobhost_param_type {
  JOBHOST_PARAM_STRING = 1, /* any text */
  JOBHOST_PARAM_INT = 2,    /* a decimal integer (64-bit signed) */
  JOBHOST_PARAM_BOOL = 3,   /* true/false (also 1/0, True/False) */
  JOBHOST_PARAM_ENUM = 4,   /* one of `choices` */
  JOBHOST_PARAM_LIST = 5    /* a list of strings */
#if JOBHOST_ABI_TARGET_MINOR >= 1
  ,
  JOBHOST_PARAM_PATH = 6 /* ABI 1.1: a file path; a relative one is made
                            absolute against the folder of the file that
                            sets it */
#endif
#if JOBHOST_ABI_TARGET_MINOR >= 2
  ,
  JOBHOST_PARAM_DURATION = 7,   /* ABI 1.2: a duration: N (seconds) or N
                                   followed by ms, s, m or h; read with
                                   param_duration (milliseconds) */
  JOBHOST_PARAM_ENTITY_TYPE = 8 /* ABI 1.2: the identifier of an entity
                                   type of the model; one the model lacks
                                   is a configuration error */
#endif
} jobhost_param_type;

/* ABI 1.2: the inclusive bounds of an INT parameter (jobhost_param.range).
 * Write it with JOBHOST_PARAM_RANGE. */
typedef struct jobhost_param_range {
  int64_t min;
  int64_t max;
} jobhost_param_range;

/* ABI 1.2: a range for jobhost_param.range, e.g.
 * .range = JOBHOST_PARAM_RANGE(1, 100) (a C99 compound literal of static
 * storage at file scope). */
#define JOBHOST_PARAM_RANGE(min_, max_)                                        \
  (&(const jobhost_param_range){(min_), (max_)})

/*
 * One parameter (or connection setting).
 *
 * ABI 1.2 takes two reserved slots; a plugin built before leaves them
 * NULL (no range, no pattern). The host checks them when it reads the
 * pipeline, before any plugin code runs, and reports a value that breaks
 * them at its file:line:column:
 *   range    INT: the value must lie within [min, max] (the default too);
 *   pattern  STRING, PATH, LIST: a POSIX extended regular expression that
 *            the whole value (each item of a list) must match;
 *   choices  also on a LIST from ABI 1.2: each item must be one of them.
 */
typedef struct jobhost_param {
  const char *name;           /* required */
  jobhost_param_type type;    /* required */
  int required;               /* nonzero: must be given */
  const char *default_value;  /* as text, or NULL; a LIST's default is its
                                 items separated by commas */
  const char *help;           /* one line */
  const char *const *choices; /* ENUM (and LIST, ABI 1.2): NULL-terminated;
                                 else NULL */
  int secret;                 /* nonzero: never logged or reported */

  /* ---- ABI 1.2: taken from reserved ---- */

  const jobhost_param_range *JOBHOST_SINCE_1_2(range); /* INT; or NULL */
  const char *JOBHOST_SINCE_1_2(pattern);              /* ERE; or NULL */
  void *reserved[2];
} jobhost_param;

/* The host walks parameter arrays with its own sizeof: the size is fixed. */
JOBHOST_STATIC_ASSERT(sizeof(jobhost_param) == JOBHOST_ABI_SIZE(80u, 44u),
                      "jobhost_param is fixed-size within ABI major 1");

/* Terminates a parameter array. */
#define JOBHOST_PARAM_END                                                      \
  {                                                                            \
    NULL, (jobhost_param_type)0, 0, NULL, NULL, NULL, 0, NULL, NULL, { NULL }  \
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
#if JOBHOST_ABI_TARGET_MINOR >= 1
  case JOBHOST_PARAM_PATH:
    return "path";
#endif
#if JOBHOST_ABI_TARGET_MINOR >= 2
  case JOBHOST_PARAM_DURATION:
    return "duration";
  case JOBHOST_PARAM_ENTITY_TYPE:
    return "entity_type";
#endif
  }
  return "invalid";
}

#ifdef __cplusplus
}
#endif

#endif /* JOBHOST_PARAM_H */
