/*
 * worker.h — each task attempt in its own process, forked by a fork server.
 *
 * When a job starts, the host forks one small helper, the fork server.
 * For every task attempt the host asks it (over a socket) for a worker;
 * the worker runs the task and reports over a pipe (wire.h), its stdout
 * and stderr over a second one, whose read ends the fork server passes
 * back to the host. The fork server keeps one worker forked in advance
 * (a spare, waiting for its request), so that a request is answered
 * without a fork on the way and the next fork happens while the task
 * runs. It reaps its workers and tells the host how each ended.
 *
 * Why not fork the host itself: after each fork the host would copy, page
 * by page, every page it then writes (copy on write). The fork server sits
 * idle between forks, so forking it stays cheap however long the job.
 *
 * A worker already has the plugins and the job loaded. It dies with the
 * fork server, which dies with the host (PR_SET_PDEATHSIG); should the fork
 * server die alone, the host starts another. SIGTERM becomes the task's
 * cancel flag; SIGINT and SIGHUP are ignored (the host decides). The host
 * writes what it prints to the task log. Whatever the plugin does — crash,
 * abort, exit, hang — ends only the worker.
 */
#ifndef JH_WORKER_H
#define JH_WORKER_H

#include <stdint.h>
#include <sys/types.h>

#include "home.h"
#include "loader.h"
#include "pipeline.h"
#include "wire.h"

typedef struct jh_worker {
  pid_t pid;  /* 0 when none */
  int fd;     /* read end of the report pipe; -1 once at EOF */
  int out_fd; /* read end of its stdout/stderr; -1 once at EOF */
  jh_wire_reader reader;
  int exited;      /* the fork server reported its end */
  int status;      /* its wait status */
  int proto_error; /* it sent a malformed record */
} jh_worker;

typedef struct jh_forkserver jh_forkserver;

/* What a worker needs besides the job and the home. */
typedef struct jh_spawn_args {
  size_t task_index; /* into the pipeline's tasks */
  int64_t task_instance;
  int force;
  int64_t resume_of;
  const char *work_dir; /* see jh_task_env */
} jh_spawn_args;

/*
 * Start the fork server for pipeline p and home h, which must not change
 * until jh_forkserver_stop. In the fork server, the plugins of reg that
 * the pipeline does not use are unloaded (the host's registry is not
 * touched). Returns 0 and *out, or a negative errno.
 */
int jh_forkserver_start(const jh_pipeline *p, const jh_home *h,
                        jh_registry *reg, jh_forkserver **out);

/* Ask for a worker. The answer arrives later through
 * jh_forkserver_collect (the host goes on meanwhile). Returns 0 or a
 * negative errno (-EPIPE when the fork server is gone). */
int jh_forkserver_request(jh_forkserver *fs, const jh_spawn_args *a);

/* The descriptor to poll for the fork server's notices. */
int jh_forkserver_fd(const jh_forkserver *fs);

/* What the fork server says, delivered by jh_forkserver_collect. */
typedef struct jh_forkserver_events {
  /* The worker for task_index started (err 0: pid, and the read ends of
   * its report and output pipes, now the callee's), or could not (err < 0,
   * no descriptor). */
  void (*spawned)(void *arg, size_t task_index, int err, pid_t pid,
                  int report_fd, int out_fd);
  /* A worker ended with this wait status. Always after its spawned. */
  void (*exited)(void *arg, pid_t pid, int status);
  void *arg;
} jh_forkserver_events;

/* Deliver the notices received so far, without blocking. Returns 1 when
 * the fork server is gone (every worker not yet reported is to be taken
 * as killed, every request not yet answered as failed), else 0. */
int jh_forkserver_collect(jh_forkserver *fs, const jh_forkserver_events *ev);

/* The fork server is gone (jh_forkserver_collect said so, or a request
 * failed with -EPIPE): how it ended, into buf ("killed by signal 9
 * (Killed)"), and its pid. */
pid_t jh_forkserver_describe_end(jh_forkserver *fs, char *buf, size_t size);

/* Stop the fork server (its workers, if any are left, die with it) and
 * free. NULL is a no-op. */
void jh_forkserver_stop(jh_forkserver *fs);

/* Read what is available (non-blocking) from the report pipe into
 * outcome. Returns 1 at EOF, 0 otherwise. */
int jh_worker_read(jh_worker *w, jh_outcome *outcome);

/* Copy what is available (non-blocking) of the worker's stdout/stderr to
 * the outcome's log (opened on first use: a silent task makes no file).
 * Returns 1 at EOF, 0 otherwise. */
int jh_worker_read_output(jh_worker *w, jh_outcome *outcome);

/* Describe how a worker ended without a result ("worker killed by signal
 * 11 (Segmentation fault)", "worker exited with status 3 ..."), into buf. */
void jh_worker_describe_exit(int status, char *buf, size_t size);

/* Release the reader and close the fd if still open. */
void jh_worker_clear(jh_worker *w);

#endif /* JH_WORKER_H */
