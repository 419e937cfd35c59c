/*
 * services.h — the host services a task sees (ctx->svc), and the run of
 * one task attempt on top of them.
 *
 * jh_task_execute builds the task's jobhost_ctx, calls the task type's run
 * entry point and reports everything over the wire (wire.h): into the
 * host's pipe in a worker process, or straight into an outcome with
 * --isolation none. Effects that must be all or nothing — export tables,
 * the incremental cookie — are kept aside and committed only when run
 * returns 0, before the result is reported.
 */
#ifndef JH_SERVICES_H
#define JH_SERVICES_H

#include <signal.h>
#include <stdint.h>

#include <jobhost/jobhost.h>

#include "home.h"
#include "pipeline.h"
#include "wire.h"

typedef struct jh_task_env {
  /* inputs, borrowed */
  const jh_task_def *def;
  const jh_pipeline *pipeline; /* the job, with its model and packages */
  const jh_home *home;
  const char *work_dir; /* this attempt's TASK_WORK folder, made on first
                           use and removed by the host afterwards */
  int64_t task_instance;
  int force;
  int64_t resume_of;
  /* where reports go: fd >= 0 (worker) or outcome (in process) */
  int fd;
  jh_outcome *outcome;
  /* nonzero once the host asked the task to stop */
  volatile sig_atomic_t *cancelled;
} jh_task_env;

/*
 * jh_pipeline_validate — call the validate entry points (SDK 1.2) of the
 * pipeline's task types, for each task, and of its connections'
 * packages, for each connection, in this process. A refusal is an error
 * in diags at the task's (connection's) file:line:column, with the
 * message the entry point set. Returns 0, or JOBHOST_ECONFIG when any
 * refused.
 */
int jh_pipeline_validate(const jh_pipeline *p, jh_diags *diags);

/* Run the task once. Returns the task's result code (also reported as the
 * RESULT record). */
int jh_task_execute(const jh_task_env *env);

#endif /* JH_SERVICES_H */
