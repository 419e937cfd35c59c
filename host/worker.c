/*
 * worker.c — see worker.h.
 */
#include "config.h"

#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t worker_cancelled;

static void on_term(int sig) {
  (void)sig;
  worker_cancelled = 1;
}

/* In the child: from here on only async-signal-safe setup, then the task. */
static void child_main(jh_task_env *env, int report_fd, int log_fd,
                       pid_t host) {
  struct sigaction sa;
  sigset_t none;
  int devnull;

  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != host)
    _exit(127); /* the host died between fork and prctl */

  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, NULL);
  /* A terminal ^C reaches the whole process group: the host handles it
   * and asks the workers to stop with SIGTERM. */
  sa.sa_handler = SIG_IGN;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGPIPE, &sa, NULL);
  sa.sa_handler = SIG_DFL;
  sigaction(SIGCHLD, &sa, NULL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);

  /* stdin from /dev/null, stdout/stderr to the log, report pipe on 3, and
   * nothing else of the host's (its store, other workers' pipes). */
  devnull = open("/dev/null", O_RDWR);
  if (devnull >= 0)
    dup2(devnull, 0);
  if (log_fd < 0)
    log_fd = devnull;
  if (log_fd >= 0) {
    dup2(log_fd, 1);
    dup2(log_fd, 2);
  }
  if (report_fd != 3) {
    if (dup2(report_fd, 3) < 0)
      _exit(127);
  }
  fcntl(3, F_SETFD, 0);
  close_range(4, ~0U, 0);

  env->fd = 3;
  env->outcome = NULL;
  env->cancelled = &worker_cancelled;
  jh_task_execute(env);
  _exit(0);
}

int jh_worker_spawn(jh_task_env *env, int log_fd, jh_worker *w) {
  int p[2];
  pid_t host = getpid(), pid;

  memset(w, 0, sizeof(*w));
  w->fd = -1;
  if (pipe2(p, O_CLOEXEC) != 0)
    return -errno;
  fflush(NULL); /* no buffered host output is written twice */
  pid = fork();
  if (pid < 0) {
    int rc = -errno;
    close(p[0]);
    close(p[1]);
    return rc;
  }
  if (pid == 0) {
    close(p[0]);
    child_main(env, p[1], log_fd, host);
  }
  close(p[1]);
  fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
  w->pid = pid;
  w->fd = p[0];
  return 0;
}

int jh_worker_read(jh_worker *w, jh_outcome *outcome) {
  unsigned char buf[65536];
  if (w->fd < 0)
    return 1;
  for (;;) {
    ssize_t n = read(w->fd, buf, sizeof(buf));
    if (n > 0) {
      if (!w->proto_error && jh_wire_feed(&w->reader, outcome, buf, (size_t)n))
        w->proto_error = 1;
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return 0;
    close(w->fd); /* EOF or a read error: the worker is done talking */
    w->fd = -1;
    return 1;
  }
}

void jh_worker_describe_exit(int status, char *buf, size_t size) {
  if (WIFSIGNALED(status))
    snprintf(buf, size, "worker killed by signal %d (%s)", WTERMSIG(status),
             strsignal(WTERMSIG(status)));
  else if (WIFEXITED(status))
    snprintf(buf, size, "worker exited with status %d without a result",
             WEXITSTATUS(status));
  else
    snprintf(buf, size, "worker ended abnormally (wait status %d)", status);
}

void jh_worker_clear(jh_worker *w) {
  if (w->fd >= 0)
    close(w->fd);
  w->fd = -1;
  jh_wire_reader_clear(&w->reader);
}
