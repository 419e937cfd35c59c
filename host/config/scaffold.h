/*
 * scaffold.h — jobs generated from the model (doc/scaffold.md): the
 * complete or incremental synchronization of a connector, the complete
 * synchronization of every connector of an agent, the initialization job.
 *
 * A scaffold is written as `scaffold:` in a pipeline's job (read here by
 * jh_scaffold_parse) or given on the command line (`jobhost scaffold`).
 * jh_scaffold_generate writes the job it stands for as pipeline YAML,
 * with a comment saying where each task comes from; the pipeline loader
 * reads that text back as the job's tasks.
 */
#ifndef JH_SCAFFOLD_H
#define JH_SCAFFOLD_H

#include <stddef.h>

#include "loader.h"
#include "model.h"
#include "pipeline.h"
#include "yaml_walk.h"

typedef enum jh_scaffold_kind {
  JH_SCAFFOLD_COMPLETE = 0,   /* CreateConnectorSynchroComplete */
  JH_SCAFFOLD_INCREMENTAL,    /* CreateConnectorSynchroIncremental */
  JH_SCAFFOLD_AGENT_COMPLETE, /* CreateAgentSynchroComplete */
  JH_SCAFFOLD_INITIALIZATION, /* CreateInitializationJob */
  JH_SCAFFOLD_NKINDS
} jh_scaffold_kind;

/* The kind's name as written (`complete`, ...); NULL when out of range. */
const char *jh_scaffold_kind_name(jh_scaffold_kind k);
/* The kind named `name`: 0 and *out, or -1. */
int jh_scaffold_kind_parse(const char *name, jh_scaffold_kind *out);

/* One parameter of an added task: a scalar, or a list when nitems > 0. */
typedef struct jh_scaffold_param {
  char *key;
  char *text;   /* NULL for a list */
  char **items; /* list items */
  size_t nitems;
} jh_scaffold_param;

/* AddTask: a task of the scaffold's user, put after or before a
 * generated task (by id or by type; the occurrence-th match, from 1). */
typedef struct jh_scaffold_add {
  char *id;
  char *type;
  char *display_name; /* NULL when not given */
  char *after;        /* exactly one of after and before */
  char *before;
  int occurrence; /* default 1 */
  jh_scaffold_param *params;
  size_t nparams;
  jh_loc loc;
} jh_scaffold_add;

/* LinkDependTask: task (id or type, child_occurrence-th match) gets
 * depends_on (id or type, parent_occurrence-th match) as a parent. */
typedef struct jh_scaffold_link {
  char *task;
  char *depends_on;
  int child_occurrence;  /* default 1 */
  int parent_occurrence; /* default 1 */
  jh_loc loc;
} jh_scaffold_link;

typedef struct jh_scaffold {
  jh_scaffold_kind kind;
  char *connector; /* complete, incremental */
  char *agent;     /* agent-complete */
  char *job_id;    /* NULL: computed (jh_scaffold_job_id) */
  char *display_name;
  char *schedule;         /* CronTabExpression; NULL: none */
  int no_provisioning;    /* NoProvisioning */
  int no_synchronization; /* NoSynchronization */
  int do_not_create_job;  /* DoNotCreateJob: the tasks only */
  jh_scaffold_add *adds;
  size_t nadds;
  jh_scaffold_link *links;
  size_t nlinks;
  jh_loc loc; /* of the `scaffold:` mapping (line 0: none) */
} jh_scaffold;

/*
 * Read the `scaffold:` mapping n of file f into *s (zeroed by the
 * caller). Problems are reported through w with their location; returns
 * 0, or -1 when something was reported.
 */
int jh_scaffold_parse(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                      jh_scaffold *s);

/* The job identifier of scaffold s: its own, else the computed one
 * (<Connector>_Synchronize_Complete_Scaffolding, ...). malloc'd. */
char *jh_scaffold_job_id(const jh_scaffold *s);

/*
 * Write the job scaffold s stands for, from model m (checked) and the
 * task types of reg, as pipeline YAML into *yaml (malloc'd, NUL
 * terminated): a `job:` mapping with its tasks, or with
 * do_not_create_job a top-level `tasks:` sequence only. Returns 0, or -1
 * with a message in err (what in the model or the scaffold is wrong) and
 * in *where the place it points at (an add_tasks or link_depend_tasks
 * item, else the scaffold itself), or -ENOMEM.
 */
int jh_scaffold_generate(const jh_scaffold *s, const jh_model *m,
                         const jh_registry *reg, char **yaml, char *err,
                         size_t errsize, jh_loc *where);

void jh_scaffold_clear(jh_scaffold *s);

#endif /* JH_SCAFFOLD_H */
