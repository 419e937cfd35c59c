/*
 * runner_inproc.c — the in-process runner (runner.h): each attempt runs
 * inside the host, to its end within start(), its reports straight into
 * its outcome. Nothing protects the host from the task: for debugging.
 */
#include "config.h"

#include "runner.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "services.h"

typedef struct inproc_runner {
  jh_runner base;
  const jh_pipeline *pipeline;
  const jh_home *home;
  volatile sig_atomic_t *cancelled;
  size_t ended; /* the attempt that ended and was not taken, or n */
  size_t n;
} inproc_runner;

static int inproc_start(jh_runner *r, const jh_runner_task *task,
                        jh_outcome *outcome) {
  inproc_runner *ir = (inproc_runner *)r;
  jh_task_env env;
  memset(&env, 0, sizeof(env));
  env.def = &ir->pipeline->tasks[task->index];
  env.pipeline = ir->pipeline;
  env.home = ir->home;
  env.work_dir = task->work_dir;
  env.task_instance = task->task_instance;
  env.force = task->force;
  env.resume_of = task->resume_of;
  env.fd = -1;
  env.outcome = outcome;
  env.cancelled = ir->cancelled;
  jh_task_execute(&env);
  ir->ended = task->index;
  return 0;
}

/* Nothing runs meanwhile: wait for the wake descriptor or the time. */
static int inproc_wait(jh_runner *r, int wake_fd, int64_t timeout_ms) {
  (void)r;
  struct pollfd fd = {wake_fd, POLLIN, 0};
  char buf[64];
  if (poll(&fd, 1, timeout_ms < 0 ? 0 : (int)timeout_ms) < 0 && errno != EINTR)
    return -errno;
  if (fd.revents)
    while (read(wake_fd, buf, sizeof(buf)) > 0)
      ;
  return 0;
}

static int inproc_take_ended(jh_runner *r, jh_run_end *end) {
  inproc_runner *ir = (inproc_runner *)r;
  if (ir->ended == ir->n)
    return 0;
  memset(end, 0, sizeof(*end));
  end->index = ir->ended;
  ir->ended = ir->n;
  return 1;
}

static jh_run_state inproc_state(const jh_runner *r, size_t index) {
  const inproc_runner *ir = (const inproc_runner *)r;
  return index == ir->ended ? JH_RUN_ENDED : JH_RUN_NONE;
}

static void inproc_signal(jh_runner *r, size_t index, int sig) {
  inproc_runner *ir = (inproc_runner *)r;
  (void)index;
  (void)sig;
  *ir->cancelled = 1;
}

static void inproc_shutdown(jh_runner *r) { free(r); }

static const jh_runner_ops inproc_ops = {inproc_start,      inproc_wait,
                                         inproc_take_ended, inproc_state,
                                         inproc_signal,     inproc_shutdown};

int jh_runner_inproc_new(const jh_pipeline *p, const jh_home *h,
                         volatile sig_atomic_t *cancelled, jh_runner **out) {
  inproc_runner *ir = calloc(1, sizeof(*ir));
  *out = NULL;
  if (ir == NULL)
    return -ENOMEM;
  ir->base.ops = &inproc_ops;
  ir->base.inline_tasks = 1;
  ir->pipeline = p;
  ir->home = h;
  ir->cancelled = cancelled;
  ir->n = p->ntasks;
  ir->ended = ir->n;
  *out = &ir->base;
  return 0;
}
