/*
 * runner.h — how the executor runs task attempts.
 *
 * The executor decides (with the plan) what starts and when; a runner
 * makes an attempt happen and says when it has ended. Two runners:
 *
 *   fork server (runner_fork.c)  each attempt in its own worker process,
 *                                forked by a fork server (worker.h);
 *   in process  (runner_inproc.c) each attempt inside the host, one at a
 *                                time, to its end within start() (for
 *                                debugging: --isolation none).
 *
 * An attempt's reports (result, message, counters, log lines, progress)
 * go into the jh_outcome given to start(), which the executor owns.
 */
#ifndef JH_RUNNER_H
#define JH_RUNNER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "home.h"
#include "pipeline.h"
#include "progress.h"
#include "wire.h"
#include "worker.h"

/* What an attempt needs besides the job and the home. */
typedef struct jh_runner_task {
  size_t index; /* into the pipeline's tasks */
  int64_t task_instance;
  int force;
  int64_t resume_of;
  const char *work_dir; /* see jh_task_env; borrowed until it has ended */
} jh_runner_task;

/* Where an attempt is. */
typedef enum jh_run_state {
  JH_RUN_NONE = 0, /* no attempt of that task */
  JH_RUN_STARTING, /* asked for; no process yet */
  JH_RUN_ALIVE,    /* its process runs */
  JH_RUN_ENDED     /* it has ended; not yet taken */
} jh_run_state;

/* How an attempt ended, besides what it reported. */
typedef struct jh_run_end {
  size_t index;    /* its task */
  int status;      /* its process's wait status (0 in process) */
  int lost;        /* it died with the fork server */
  int proto_error; /* it sent a malformed report */
} jh_run_end;

typedef struct jh_runner jh_runner;

typedef struct jh_runner_ops {
  /* Start an attempt; its reports go into outcome (borrowed until it is
   * taken). Returns 0, or a negative errno: nothing started. */
  int (*start)(jh_runner *r, const jh_runner_task *task, jh_outcome *outcome);
  /* Wait at most timeout_ms for something to happen (a report, an end, or
   * wake_fd readable: a non-blocking pipe's read end, then drained), and
   * read what came. Returns 0 or a negative errno. */
  int (*wait)(jh_runner *r, int wake_fd, int64_t timeout_ms);
  /* An attempt that has ended, everything it sent read, into *end; 1
   * when there was one (it is then forgotten), else 0. */
  int (*take_ended)(jh_runner *r, jh_run_end *end);
  jh_run_state (*state)(const jh_runner *r, size_t index);
  /* Send sig to the attempt of task index; one without a process yet
   * gets it as soon as it has one. */
  void (*signal)(jh_runner *r, size_t index, int sig);
  /* Stop what runs (it dies), free. */
  void (*shutdown)(jh_runner *r);
} jh_runner_ops;

struct jh_runner {
  const jh_runner_ops *ops;
  int inline_tasks; /* start() runs the attempt to its end */
  int failed;       /* no attempt can start any more: the job stops */
  char note[400];   /* what happened to the runner, for the job's record */
};

/*
 * The fork-server runner for the tasks of p. fs (may be NULL) is a fork
 * server started earlier, borrowed; else one is started here. One that
 * dies is started again (once per death), said on progress. Returns 0 and
 * *out, or a negative errno.
 */
int jh_runner_fork_new(const jh_pipeline *p, const jh_home *h, jh_registry *reg,
                       jh_forkserver *fs, jh_progress *progress,
                       jh_runner **out);

/*
 * The in-process runner. cancelled is the attempts' cancel flag (set by
 * signal(), and by whoever else owns it).
 */
int jh_runner_inproc_new(const jh_pipeline *p, const jh_home *h,
                         volatile sig_atomic_t *cancelled, jh_runner **out);

#endif /* JH_RUNNER_H */
