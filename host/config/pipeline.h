/*
 * pipeline.h — a job read from pipeline YAML (libyaml).
 *
 * File shape (doc/pipeline.md):
 *
 *   version: 1                       # required, must be 1
 *   include: [other.yaml, ...]       # optional; paths relative to the
 *                                    # including file; cycles refused;
 *                                    # only files in the top file's
 *                                    # folder tree or an allowed folder
 *   allow_include: [DIR, ...]        # optional, top file only: folders
 *                                    # (relative to it) whose files may
 *                                    # be included too
 *   job:                             # required in the top file only
 *     id: Job_AD_Complete            # required
 *     display_name: ...              # optional
 *     agent: Local                   # optional
 *     schedule: "0 2 * * *"          # optional, 5-field cron (lib/cron.h)
 *     cron_time_zone: UTC|local      # optional, default UTC
 *     catch_up: false                # optional bool (jobhost daemon)
 *     log_level: none                # optional: trace, debug, information,
 *                                    # warning, error, critical, none
 *     user_start_denied: false       # optional bool: run needs --force
 *     is_incremental: false          # optional bools, Identity Manager's
 *     is_connector_job: false        # job properties
 *     is_initialization_job: false
 *     max_parallel: 5                # optional, >= 1, default 5
 *     ordering: levels|dependencies  # optional, default levels
 *     level_overflow: levels|window  # optional, default levels: a level
 *                                    # of more than max_parallel tasks runs
 *                                    # as the extra levels `steps` prints;
 *                                    # window: the whole level at once,
 *                                    # max_parallel tasks at a time
 *     tasks:                         # required, non-empty sequence
 *                                    # (or scaffold: a job generated
 *                                    # from the model, scaffold.h)
 *       - id: X                      # required, unique
 *         type: ExportTask           # required, a task type of a loaded plugin
 *         level: 0                   # optional, >= 0
 *         depends_on: [Y, ...]       # optional (a scalar is one parent)
 *         continue_on_error: true    # optional bool
 *         timeout: 30s               # optional: N (seconds), Ns, Nm, Nh, Nms
 *         retries: 2                 # optional, >= 0, extra attempts
 *                                    # after Error
 *         retry_delay: 1s            # optional, first backoff (doubles),
 *                                    # default 1s
 *         display_name: ...          # optional
 *         agent: Local               # optional
 *         <param>: <value>           # the task type's parameters (schema)
 *
 * Any file may hold the model sections of doc/model.md (connectors,
 * connections, entity_types, entity_type_mappings, association_mappings,
 * entity_property_expressions, resource_types); a `job` in an included
 * file is an error. When the model declares connectors (connections,
 * entity types, resource types), a task's `connector` (`connection`,
 * `entity_types`, `resource_types`) parameter must name declared ones.
 *
 * Every problem is reported as a diagnostic with file:line:column and what
 * was expected; loading collects them all. Nothing is returned when there
 * is any error.
 */
#ifndef JH_PIPELINE_H
#define JH_PIPELINE_H

#include <stddef.h>

#include <jobhost/jobhost.h>

#include "diag.h"
#include "loader.h"
#include "model.h"

typedef enum jh_ordering {
  JH_ORDER_LEVELS = 0,      /* levels, else document order */
  JH_ORDER_DEPENDENCIES = 1 /* each task starts when its parents end */
} jh_ordering;

/* With ordering: levels, how a level larger than max_parallel runs. */
typedef enum jh_level_overflow {
  JH_OVERFLOW_LEVELS = 0, /* as the extra levels of `steps` (default) */
  JH_OVERFLOW_WINDOW = 1  /* a sliding window of max_parallel tasks */
} jh_level_overflow;

/* A place in a source file. `file` points into jh_pipeline.files. */
typedef struct jh_loc {
  const char *file;
  int line;   /* 1-based */
  int column; /* 1-based */
} jh_loc;

/* One task parameter as written, checked against the schema. */
typedef struct jh_value {
  char *key;               /* parameter name */
  jobhost_param_type type; /* from the schema */
  char *text;   /* scalar text; booleans normalised to "true"/"false";
                   NULL for a LIST */
  char **items; /* LIST items (a scalar is a one-item list); else NULL */
  size_t nitems;
  jh_loc loc; /* of the value */
} jh_value;

typedef struct jh_task_def {
  char *id;
  char *type;
  char *display_name;  /* NULL when not given */
  char *agent;         /* NULL when not given */
  int level;           /* -1 when not given */
  char **depends_on;   /* parent ids, as written */
  jh_loc *depends_loc; /* location of each parent id */
  size_t ndepends;
  int continue_on_error;
  long timeout_ms;     /* 0: no timeout */
  int retries;         /* 0: no retry */
  long retry_delay_ms; /* default 1000 */
  jh_value *params;    /* only the parameters written in the file */
  size_t nparams;
  const jobhost_task_type *task_type; /* resolved in the registry */
  jh_loc loc;                         /* of the task's mapping */
} jh_task_def;

typedef struct jh_pipeline {
  char *path;   /* the top file, as given */
  char **files; /* every file read, top first; owned */
  size_t nfiles;
  char *job_id;
  char *display_name;    /* NULL when not given */
  char *agent;           /* NULL when not given */
  char *schedule;        /* NULL when not given */
  int cron_local;        /* cron_time_zone: local (else UTC, the default) */
  int catch_up;          /* a tick missed while the daemon was down runs once
                            when it starts */
  int log_level;         /* index in jh_job_log_levels; default none */
  int user_start_denied; /* `jobhost run` refused without --force */
  int is_incremental;    /* Identity Manager's job properties, kept */
  int is_connector_job;  /* and shown (`jobhost schedule --json`) */
  int is_initialization_job; /* */
  int max_parallel;          /* default 5 */
  jh_ordering ordering;
  jh_level_overflow level_overflow;
  jh_task_def *tasks; /* document order */
  size_t ntasks;
  jh_loc job_loc;
  const jobhost_package **packages; /* the package of each
                                       model->connections[i], found in the
                                       registry (NULL: none); owned array */
  jh_model *model; /* the model sections of all files (doc/model.md);
                      never NULL, empty when none; its locations point
                      into `files` */
  struct jh_strindex *task_index; /* tasks by id, for jh_pipeline_task;
                                     owned; NULL (a pipeline built by
                                     hand): lookups scan the tasks */
  struct jh_scaffold *scaffold;   /* the job's `scaffold:` (scaffold.h), or
                                     NULL; owned */
  char *scaffold_yaml;            /* the job it generated, as YAML; owned */
} jh_pipeline;

/* The job log levels, as Identity Manager numbers them (0 trace .. 6
 * none). */
#define JH_JOB_LOG_LEVELS 7
#define JH_JOB_LOG_NONE 6
extern const char *const jh_job_log_levels[JH_JOB_LOG_LEVELS];

/*
 * jh_pipeline_load — read, check and return the pipeline at `path`.
 *
 * Task types and parameters are checked against `reg`. Unknown parents are
 * errors here; cycles and level order are checked by jh_graph_build.
 * Returns 0 and sets *out (free with jh_pipeline_free) when there is no
 * error (warnings may be in diags); returns JOBHOST_ECONFIG with *out set
 * to NULL when diags holds at least one error.
 */
int jh_pipeline_load(const char *path, const jh_registry *reg,
                     jh_pipeline **out, jh_diags *diags);

/* Where included files may come from, besides the folder tree of the top
 * file and the folders its `allow_include` names. */
typedef struct jh_pipeline_options {
  const char *const *allow_include; /* folders (--allow-include), relative
                                       to the current folder or absolute */
  size_t nallow_include;
} jh_pipeline_options;

/* jh_pipeline_load with options (opt may be NULL). */
int jh_pipeline_load_opts(const char *path, const jh_registry *reg,
                          const jh_pipeline_options *opt, jh_pipeline **out,
                          jh_diags *diags);

/*
 * jh_pipeline_load of a top file held in memory: the len bytes of `text`
 * (no NUL needed) are read as the pipeline file `name`. The name is shown
 * in diagnostics and locations, and relative paths (include items, path
 * values) are resolved against its folder as if the file were there;
 * nothing is written to disk. Included files are read from disk as usual.
 */
int jh_pipeline_load_text(const char *name, const char *text, size_t len,
                          const jh_registry *reg,
                          const jh_pipeline_options *opt, jh_pipeline **out,
                          jh_diags *diags);

void jh_pipeline_free(jh_pipeline *p);

/* The task with this id, or NULL; *index (when not NULL) receives its
 * position. O(log n) on a loaded pipeline. */
const jh_task_def *jh_pipeline_task(const jh_pipeline *p, const char *id,
                                    size_t *index);

/* The written parameter `key` of a task, or NULL (defaults are not
 * applied here). */
const jh_value *jh_task_value(const jh_task_def *t, const char *key);

/* What the task's type declares (JOBHOST_TASK_*); 0 when it is not
 * resolved. */
static inline unsigned jh_task_flags(const jh_task_def *t) {
  return t->task_type != NULL ? t->task_type->flags : 0;
}

#endif /* JH_PIPELINE_H */
