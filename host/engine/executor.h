/*
 * executor.h — runs a job: the Identity Manager job state machine.
 *
 * Order: by launch group (plan.h: the Orders `steps` prints, or whole
 * levels with level_overflow: window; each group waits for the previous
 * one to end; at most max_parallel tasks at once), or, with `ordering:
 * dependencies`, each task as soon as its parents ended.
 *
 * Before a task starts, each of its parents must have Succeeded and
 * produced output — in this run (or an earlier run of a resumed
 * instance), or, for a parent outside the selection, in its last result
 * in the store for this job; and a dirty task needs a task that sets
 * dirty flags to have Succeeded in this run. Otherwise the task is Skipped
 * with the reason (doc/jobs.md).
 *
 * A task ends:
 *   Succeeded  run returned 0;
 *   Warning    it failed (error, crash, timeout) with continue_on_error;
 *   Error      it failed without continue_on_error: no new task starts,
 *              running ones finish, the rest are NotStarted;
 *   Blocked    run returned JOBHOST_EBLOCKED and the task type is declared
 *              able to block (else Error): as Error, and the job ends
 *              Blocked, resumable;
 *   Cancelled  a cancel --now (or a second signal) stopped it before it
 *              ended (a task that reported its result keeps it; one that
 *              said its changes were committed is Succeeded).
 * A failed attempt is retried (`retries`, backoff from `retry_delay`,
 * doubling) before it counts as failed. A timeout sends SIGTERM (the task's
 * cancel flag), then SIGKILL after the grace period.
 *
 * Cancel (doc/jobs.md): the first SIGINT/SIGTERM/SIGHUP or `jobhost
 * cancel` (SIGUSR1, the level in the store) starts no new task and lets the
 * running ones finish; the second (or `cancel --now`) sends them SIGTERM,
 * then SIGKILL after the grace period. Tasks never started are NotStarted.
 * A fork server that dies is started again (once per death).
 *
 * Job state: Cancelled if cancelled, else Error on an untolerated error
 * (even with a task Blocked), else Blocked if a task is Blocked, else
 * Warning if a task ended in Warning, else Succeeded.
 *
 * On resume, the instance's Blocked tasks run whatever the selection; an
 * Error recorded by an earlier run stops the job before anything starts.
 */
#ifndef JH_EXECUTOR_H
#define JH_EXECUTOR_H

#include <stdint.h>
#include <stdio.h>

#include "home.h"
#include "job.h"
#include "plan.h"
#include "store.h"

typedef enum jh_isolation {
  JH_ISOLATION_PROCESS = 0, /* each task in a forked worker */
  JH_ISOLATION_NONE = 1     /* in the host process, one at a time (debug) */
} jh_isolation;

typedef struct jh_exec_options {
  jh_isolation isolation;
  int force;                /* thresholds must not block (run --force) */
  long grace_ms;            /* SIGTERM to SIGKILL; default 5000 */
  jh_plan_selection select; /* --task, --from, --to (checked with
                               jh_plan_check_selection) */
  int resume;               /* continue the instance: earlier task rows count,
                               its Blocked tasks are validated */
  FILE *progress;           /* where progress and the summary go (stderr) */
  int live;                 /* progress is a terminal: redraw a status line */
  struct jh_forkserver *forkserver; /* borrowed, may be NULL: a fork
                                       server started early, while the host
                                       is small (see worker.h) */
  /* may be NULL: asked before a task starts (never for a resume's
   * validation); a reason (written into why) leaves the task out: it ends
   * Skipped with that message (blocked connectors, host/engine/blocked.h) */
  const char *(*leave_out)(void *arg, const jh_task_def *def, int64_t instance,
                           char *why, size_t size);
  void *leave_out_arg;
} jh_exec_options;

/*
 * Run the job as instance `instance` (already Running in the store).
 * Records every task instance, finishes the job instance with the report,
 * and returns 0 with the job state in *state and the report JSON in
 * *report (malloc'd; caller frees), or a negative code when the store
 * failed.
 */
int jh_execute(const jh_job *job, const jh_home *home, jh_store *store,
               int64_t instance, const jh_exec_options *opt, jh_state *state,
               char **report);

#endif /* JH_EXECUTOR_H */
