/*
 * runner_fork.c — the fork-server runner (runner.h): each attempt in a
 * worker process forked by the fork server (worker.h), its reports read
 * from the worker's pipes, its end told by the fork server.
 */
#include "config.h"

#include "runner.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct slot {
  jh_run_state state;
  jh_worker worker;
  jh_outcome *outcome; /* borrowed */
  int lost;            /* died with the fork server */
  int pending_sig;     /* to send once it has a process */
} slot;

typedef struct fork_runner {
  jh_runner base;
  const jh_pipeline *pipeline;
  const jh_home *home;
  jh_registry *reg;
  jh_forkserver *fs;
  int own_fs;   /* started here, so stopped here */
  int restarts; /* fork servers started again after one died */
  jh_progress *progress;
  size_t n;
  slot *slots;    /* by task index */
  size_t *active; /* tasks with an attempt, in the order they started */
  size_t nactive;
  struct pollfd *fds; /* 2n + 2, reused by every wait */
  size_t *owner;      /* task index of each worker's pollfd */
} fork_runner;

static void remove_active(fork_runner *fr, size_t k) {
  fr->active[k] = fr->active[--fr->nactive];
}

/* ---- what the fork server says ---- */

static void on_spawned(void *arg, size_t i, int err, pid_t pid, int report_fd,
                       int out_fd) {
  fork_runner *fr = arg;
  slot *s;
  if (i >= fr->n || fr->slots[i].state != JH_RUN_STARTING) {
    if (report_fd >= 0)
      close(report_fd);
    if (out_fd >= 0)
      close(out_fd);
    return;
  }
  s = &fr->slots[i];
  if (err != 0) {
    char why[200];
    snprintf(why, sizeof(why), "the worker could not start: %s",
             jobhost_strerror(err));
    s->state = JH_RUN_ENDED;
    s->worker.exited = 1;
    s->worker.status = 0;
    free(s->outcome->message);
    s->outcome->message = strdup(why);
    s->outcome->has_result = 1;
    s->outcome->result = err;
    return;
  }
  s->state = JH_RUN_ALIVE;
  s->worker.pid = pid;
  s->worker.fd = report_fd;
  s->worker.out_fd = out_fd;
  if (s->pending_sig != 0) /* asked to stop before it existed: ask now */
    kill(pid, s->pending_sig);
}

static void on_worker_exit(void *arg, pid_t pid, int status) {
  fork_runner *fr = arg;
  for (size_t k = 0; k < fr->nactive; k++) {
    slot *s = &fr->slots[fr->active[k]];
    if (s->state == JH_RUN_ALIVE && s->worker.pid == pid) {
      s->state = JH_RUN_ENDED;
      s->worker.exited = 1;
      s->worker.status = status;
      return;
    }
  }
}

/* The fork server died: say so and start another one, once for each
 * death. Returns 0 when a new one runs; else no attempt starts any more,
 * with the reason in the runner's note. */
static int revive(fork_runner *fr) {
  char how[200];
  jh_forkserver *fresh = NULL;
  pid_t pid;
  int rc;

  if (fr->base.failed)
    return -EPIPE;
  pid = jh_forkserver_describe_end(fr->fs, how, sizeof(how));
  rc = jh_forkserver_start(fr->pipeline, fr->home, fr->reg, &fresh);
  if (rc != 0) {
    fr->base.failed = 1;
    snprintf(fr->base.note, sizeof(fr->base.note),
             "the fork server (pid %ld) died (%s) and could not be started "
             "again: %s",
             (long)pid, how, jobhost_strerror(rc));
    jh_progress_note(fr->progress, "%s; the job stops", fr->base.note);
    return rc;
  }
  if (fr->own_fs)
    jh_forkserver_stop(fr->fs); /* else its starter stops it */
  fr->fs = fresh;
  fr->own_fs = 1;
  fr->restarts++;
  snprintf(fr->base.note, sizeof(fr->base.note),
           "the fork server died %d time%s and was started again (last: pid "
           "%ld, %s)",
           fr->restarts, fr->restarts == 1 ? "" : "s", (long)pid, how);
  jh_progress_note(fr->progress,
                   "the fork server (pid %ld) died (%s): a new one takes over",
                   (long)pid, how);
  return 0;
}

/* Deliver the fork server's notices. When it is gone, its workers are
 * too (they die with it): every attempt it ran ended, killed, and every
 * request it did not answer failed. */
static void reap(fork_runner *fr) {
  jh_forkserver_events ev = {on_spawned, on_worker_exit, fr};
  if (fr->base.failed || !jh_forkserver_collect(fr->fs, &ev))
    return;
  for (size_t k = 0; k < fr->nactive; k++) {
    slot *s = &fr->slots[fr->active[k]];
    if (s->state == JH_RUN_ENDED)
      continue;
    s->state = JH_RUN_ENDED;
    s->worker.exited = 1;
    s->lost = 1;
    if (s->worker.pid > 0) {
      s->worker.status = SIGKILL;
    } else {
      free(s->outcome->message);
      s->outcome->message = strdup("the fork server died before the worker "
                                   "started");
      s->outcome->has_result = 1;
      s->outcome->result = -EPIPE;
    }
  }
  revive(fr);
}

/* ---- the interface ---- */

static int fork_start(jh_runner *r, const jh_runner_task *task,
                      jh_outcome *outcome) {
  fork_runner *fr = (fork_runner *)r;
  slot *s = &fr->slots[task->index];
  jh_spawn_args sa = {.task_index = task->index,
                      .task_instance = task->task_instance,
                      .force = task->force,
                      .resume_of = task->resume_of,
                      .work_dir = task->work_dir};
  int rc = fr->base.failed ? -EPIPE : jh_forkserver_request(fr->fs, &sa);
  /* Its fork server died since the last wait: a new one, then again. */
  if (rc == -EPIPE && revive(fr) == 0)
    rc = jh_forkserver_request(fr->fs, &sa);
  if (rc != 0)
    return rc;
  /* The worker's pid and pipes arrive with the fork server's answer
   * (on_spawned); meanwhile the attempt is starting. */
  memset(&s->worker, 0, sizeof(s->worker));
  s->worker.fd = s->worker.out_fd = -1;
  s->state = JH_RUN_STARTING;
  s->outcome = outcome;
  s->lost = 0;
  s->pending_sig = 0;
  fr->active[fr->nactive++] = task->index;
  return 0;
}

static void drain(int fd) {
  char buf[64];
  while (read(fd, buf, sizeof(buf)) > 0)
    ;
}

/* A worker that sent its result and closed both pipes has nothing more to
 * say, and how its process ends changes nothing (a result stands): its
 * attempt has ended, without waiting for the fork server to tell. */
static void said_all(slot *s) {
  if (s->state == JH_RUN_ALIVE && s->outcome->has_result && s->worker.fd < 0 &&
      s->worker.out_fd < 0)
    s->state = JH_RUN_ENDED;
}

static size_t poll_set(fork_runner *fr, int wake_fd) {
  struct pollfd *fds = fr->fds;
  size_t nfds = 0;
  fds[nfds].fd = wake_fd;
  fds[nfds++].events = POLLIN;
  fds[nfds].fd = fr->base.failed ? -1 : jh_forkserver_fd(fr->fs);
  fds[nfds++].events = POLLIN;
  for (size_t k = 0; k < fr->nactive; k++) {
    size_t i = fr->active[k];
    const jh_worker *w = &fr->slots[i].worker;
    if (w->fd >= 0) {
      fds[nfds].fd = w->fd;
      fds[nfds].events = POLLIN;
      fr->owner[nfds++] = i;
    }
    if (w->out_fd >= 0) {
      fds[nfds].fd = w->out_fd;
      fds[nfds].events = POLLIN;
      fr->owner[nfds++] = i;
    }
  }
  return nfds;
}

static int fork_wait(jh_runner *r, int wake_fd, int64_t timeout_ms) {
  fork_runner *fr = (fork_runner *)r;
  struct pollfd *fds = fr->fds;
  size_t nfds = poll_set(fr, wake_fd);
  if (timeout_ms < 0)
    timeout_ms = 0;
  if (poll(fds, nfds, (int)timeout_ms) < 0) {
    if (errno != EINTR)
      return -errno;
    return 0;
  }
  if (fds[0].revents)
    drain(wake_fd);
  for (size_t k = 2; k < nfds; k++) {
    slot *s = &fr->slots[fr->owner[k]];
    if (!fds[k].revents)
      continue;
    if (fds[k].fd == s->worker.fd)
      jh_worker_read(&s->worker, s->outcome);
    else
      jh_worker_read_output(&s->worker, s->outcome);
    said_all(s);
  }
  if (fds[1].revents)
    reap(fr);
  return 0;
}

static int fork_take_ended(jh_runner *r, jh_run_end *end) {
  fork_runner *fr = (fork_runner *)r;
  for (size_t k = fr->nactive; k-- > 0;) {
    size_t i = fr->active[k];
    slot *s = &fr->slots[i];
    if (s->state != JH_RUN_ENDED)
      continue;
    /* The worker is gone: whatever it wrote is in the pipes now, and one
     * read to their end (or to EAGAIN, should a process it started hold
     * them open) takes it all. */
    jh_worker_read(&s->worker, s->outcome);
    jh_worker_read_output(&s->worker, s->outcome);
    end->index = i;
    end->status = s->worker.status;
    end->lost = s->lost;
    end->proto_error = s->worker.proto_error;
    jh_worker_clear(&s->worker);
    s->state = JH_RUN_NONE;
    s->outcome = NULL;
    remove_active(fr, k);
    return 1;
  }
  return 0;
}

static jh_run_state fork_state(const jh_runner *r, size_t index) {
  const fork_runner *fr = (const fork_runner *)r;
  return index < fr->n ? fr->slots[index].state : JH_RUN_NONE;
}

static void fork_signal(jh_runner *r, size_t index, int sig) {
  fork_runner *fr = (fork_runner *)r;
  slot *s = &fr->slots[index];
  if (s->state == JH_RUN_ALIVE)
    kill(s->worker.pid, sig);
  else if (s->state == JH_RUN_STARTING &&
           (s->pending_sig == 0 || sig == SIGKILL))
    s->pending_sig = sig;
}

static void fork_shutdown(jh_runner *r) {
  fork_runner *fr = (fork_runner *)r;
  if (fr == NULL)
    return;
  if (fr->own_fs)
    jh_forkserver_stop(fr->fs);
  for (size_t k = 0; k < fr->nactive; k++)
    jh_worker_clear(&fr->slots[fr->active[k]].worker);
  free(fr->slots);
  free(fr->active);
  free(fr->fds);
  free(fr->owner);
  free(fr);
}

static const jh_runner_ops fork_ops = {fork_start, fork_wait,   fork_take_ended,
                                       fork_state, fork_signal, fork_shutdown};

int jh_runner_fork_new(const jh_pipeline *p, const jh_home *h, jh_registry *reg,
                       jh_forkserver *fs, jh_progress *progress,
                       jh_runner **out) {
  fork_runner *fr = calloc(1, sizeof(*fr));
  size_t n = p->ntasks;
  int rc;
  *out = NULL;
  if (fr == NULL)
    return -ENOMEM;
  fr->base.ops = &fork_ops;
  fr->pipeline = p;
  fr->home = h;
  fr->reg = reg;
  fr->progress = progress;
  fr->n = n;
  fr->slots = calloc(n ? n : 1, sizeof(*fr->slots));
  fr->active = calloc(n ? n : 1, sizeof(*fr->active));
  fr->fds = calloc(2 * n + 2, sizeof(*fr->fds));
  fr->owner = calloc(2 * n + 2, sizeof(*fr->owner));
  if (fr->slots == NULL || fr->active == NULL || fr->fds == NULL ||
      fr->owner == NULL) {
    fork_shutdown(&fr->base);
    return -ENOMEM;
  }
  fr->fs = fs;
  if (fs == NULL) {
    rc = jh_forkserver_start(p, h, reg, &fr->fs);
    if (rc != 0) {
      fork_shutdown(&fr->base);
      return rc;
    }
    fr->own_fs = 1;
  }
  *out = &fr->base;
  return 0;
}
