/*
 * worker.h — one task attempt in its own process.
 *
 * The worker is a fork of the host: it already has the plugins loaded.
 * It dies with the host (PR_SET_PDEATHSIG), turns SIGTERM into the task's
 * cancel flag, writes its stdout/stderr to the task log, reports over a
 * pipe (wire.h) and _exit()s. Whatever the plugin does — crash, abort,
 * exit, hang — ends only the worker.
 */
#ifndef JH_WORKER_H
#define JH_WORKER_H

#include <sys/types.h>

#include "services.h"
#include "wire.h"

typedef struct jh_worker {
  pid_t pid;          /* 0 when none */
  int fd;             /* read end of the report pipe; -1 once at EOF */
  jh_wire_reader reader;
  int exited;         /* waitpid reaped it */
  int status;         /* its wait status */
  int proto_error;    /* it sent a malformed record */
} jh_worker;

/*
 * Start env's task in a new process. env->fd and env->cancelled are set by
 * this function for the child. log_fd receives the child's stdout and
 * stderr (-1: /dev/null). Returns 0 or a negative errno.
 */
int jh_worker_spawn(jh_task_env *env, int log_fd, jh_worker *w);

/* Read what is available (non-blocking) into outcome. Returns 1 at EOF,
 * 0 otherwise. */
int jh_worker_read(jh_worker *w, jh_outcome *outcome);

/* Describe how a worker ended without a result ("killed by signal 11
 * (Segmentation fault)", "exited with status 3"), into buf. */
void jh_worker_describe_exit(int status, char *buf, size_t size);

/* Release the reader and close the fd if still open. */
void jh_worker_clear(jh_worker *w);

#endif /* JH_WORKER_H */
