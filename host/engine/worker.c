/*
 * worker.c — the fork server and its workers (see worker.h).
 *
 * Messages on the host <-> fork server socket (SOCK_SEQPACKET, so each
 * message arrives whole):
 *   host -> server   struct spawn_req
 *   server -> host   struct notice {SPAWNED, err, pid} with the read ends
 *                    of the report pipe and of the output pipe attached
 *                    (SCM_RIGHTS) when err == 0;
 *                    struct notice {EXITED, 0, pid, status}
 * Notices come in order: a worker's SPAWNED always before its EXITED.
 */
#include "config.h"

#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "services.h"

enum { NOTICE_SPAWNED = 1, NOTICE_EXITED = 2 };

struct spawn_req {
  uint64_t task_index;
  int64_t task_instance;
  int64_t resume_of;
  int32_t force;
  char work_dir[PATH_MAX];
};

struct notice {
  int32_t type;
  int32_t err; /* SPAWNED: 0 or a negative errno */
  int32_t pid;
  int32_t status;      /* EXITED: wait status */
  uint64_t task_index; /* SPAWNED: of the request answered */
};

struct jh_forkserver {
  pid_t pid;
  int sock;
  int dead;
  int reaped; /* its end was collected (status) */
  int status;
};

/* ---- in the worker ---- */

static volatile sig_atomic_t worker_cancelled;

static void on_term(int sig) {
  (void)sig;
  worker_cancelled = 1;
}

static void worker_main(const jh_pipeline *p, const jh_home *h,
                        const struct spawn_req *req, int report_fd, int out_fd,
                        pid_t server) {
  struct sigaction sa;
  sigset_t none;
  jh_task_env env;
  int devnull;

  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != server)
    _exit(127); /* the fork server died between fork and prctl */
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, NULL);
  sa.sa_handler = SIG_IGN; /* ^C reaches the host, which asks us to stop */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL); /* so does a hangup */
  sigaction(SIGPIPE, &sa, NULL);
  sa.sa_handler = SIG_DFL;
  sigaction(SIGCHLD, &sa, NULL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);

  /* stdin from /dev/null, stdout/stderr to the output pipe, the report
   * pipe on 3, nothing else. */
  report_fd = fcntl(report_fd, F_DUPFD_CLOEXEC, 10); /* out of the way */
  out_fd = fcntl(out_fd, F_DUPFD_CLOEXEC, 10);
  if (report_fd < 0 || out_fd < 0)
    _exit(127);
  devnull = open("/dev/null", O_RDWR);
  if (devnull >= 0)
    dup2(devnull, 0);
  if (dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0 || dup2(report_fd, 3) < 0)
    _exit(127);
  fcntl(3, F_SETFD, 0);
  close_range(4, ~0U, 0);

  memset(&env, 0, sizeof(env));
  env.def = &p->tasks[req->task_index];
  env.pipeline = p;
  env.home = h;
  env.work_dir = req->work_dir;
  env.task_instance = req->task_instance;
  env.force = req->force;
  env.resume_of = req->resume_of;
  env.fd = 3;
  env.cancelled = &worker_cancelled;
  jh_task_execute(&env);
  /* What the task printed and left in stdio's buffers goes to its log
   * (the output pipe) before the pipes close: _exit does not flush. */
  fflush(stdout);
  fflush(stderr);
  /* Everything is said: the host sees the end of both pipes now, not
   * after the kernel has torn this process's memory down. */
  close(3);
  close(2);
  close(1);
  _exit(0);
}

/* ---- in the fork server ---- */

static int send_notice(int sock, const struct notice *n, const int *fds,
                       int nfds) {
  struct msghdr msg;
  struct iovec iov = {(void *)n, sizeof(*n)};
  union {
    char buf[CMSG_SPACE(2 * sizeof(int))];
    struct cmsghdr align;
  } ctl;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (nfds > 0) {
    struct cmsghdr *c;
    memset(&ctl, 0, sizeof(ctl));
    msg.msg_control = ctl.buf;
    msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
    c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
    memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
  }
  while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
    if (errno != EINTR)
      return -errno;
  return 0;
}

/*
 * A spare worker: forked ahead of time, it waits for its request on a
 * pipe. A request is then answered at once, without a fork on the way,
 * and the next spare is forked while the task runs.
 */
typedef struct spare {
  pid_t pid;  /* 0: none */
  int req;    /* write end of its request pipe */
  int report; /* read ends of its report and output pipes */
  int out;
} spare;

static void spare_close(spare *sp) {
  if (sp->pid <= 0)
    return;
  close(sp->req);
  close(sp->report);
  close(sp->out);
  sp->pid = 0;
}

/* In the spare: wait for the request, then be its worker. */
static void spare_main(const jh_pipeline *p, const jh_home *h, int req_fd,
                       int report_fd, int out_fd, pid_t server) {
  struct spawn_req req;
  size_t got = 0;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != server)
    _exit(127); /* the fork server died between fork and prctl */
  while (got < sizeof(req)) {
    ssize_t n = read(req_fd, (char *)&req + got, sizeof(req) - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      _exit(0); /* the fork server is done: never used */
    got += (size_t)n;
  }
  close(req_fd);
  req.work_dir[sizeof(req.work_dir) - 1] = '\0';
  worker_main(p, h, &req, report_fd, out_fd, server);
}

/* Fork a spare: 0, or a negative errno. */
static int spare_make(const jh_pipeline *p, const jh_home *h, int sock, int sfd,
                      spare *sp) {
  int report[2], out[2], req[2], rc = 0;
  pid_t self = getpid();
  if (pipe2(report, O_CLOEXEC) != 0)
    return -errno;
  if (pipe2(out, O_CLOEXEC) != 0) {
    rc = -errno;
    goto no_out;
  }
  if (pipe2(req, O_CLOEXEC) != 0) {
    rc = -errno;
    goto no_req;
  }
  sp->pid = fork();
  if (sp->pid == 0) {
    close(sock);
    close(sfd);
    close(report[0]);
    close(out[0]);
    close(req[1]);
    spare_main(p, h, req[0], report[1], out[1], self);
  }
  if (sp->pid < 0) {
    rc = -errno;
    sp->pid = 0;
    close(req[1]);
  } else {
    /* the host reads without blocking; the worker writes blocking */
    fcntl(report[0], F_SETFL, O_NONBLOCK);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    sp->req = req[1];
    sp->report = report[0];
    sp->out = out[0];
  }
  close(req[0]);
no_req:
  close(out[1]);
  if (rc != 0)
    close(out[0]);
no_out:
  close(report[1]);
  if (rc != 0)
    close(report[0]);
  return rc;
}

/* Hand the request to the spare; 0, or a negative errno (it is gone). */
static int spare_give(spare *sp, const struct spawn_req *req) {
  size_t put = 0;
  while (put < sizeof(*req)) {
    ssize_t n = write(sp->req, (const char *)req + put, sizeof(*req) - put);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -EPIPE;
    put += (size_t)n;
  }
  return 0;
}

static void server_spawn(const jh_pipeline *p, const jh_home *h, int sock,
                         int sfd, spare *sp, const struct spawn_req *req) {
  struct notice n = {NOTICE_SPAWNED, 0, 0, 0, req->task_index};
  int ends[2];

  if (req->task_index >= p->ntasks) {
    n.err = -EINVAL;
    send_notice(sock, &n, NULL, 0);
    return;
  }
  /* No spare, or one that died: a fresh one (then it must take it). */
  if (sp->pid <= 0 || spare_give(sp, req) != 0) {
    spare_close(sp);
    n.err = spare_make(p, h, sock, sfd, sp);
    if (n.err == 0 && spare_give(sp, req) != 0)
      n.err = -EPIPE;
    if (n.err != 0) {
      spare_close(sp);
      send_notice(sock, &n, NULL, 0);
      return;
    }
  }
  n.pid = sp->pid;
  ends[0] = sp->report;
  ends[1] = sp->out;
  send_notice(sock, &n, ends, 2);
  spare_close(sp);
  (void)spare_make(p, h, sock, sfd, sp); /* none: made at the next request */
}

static void server_reap(int sock) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    struct notice n = {NOTICE_EXITED, 0, pid, status, 0};
    send_notice(sock, &n, NULL, 0);
  }
}

/* Unload the plugins the job does not use: fewer mappings to copy at
 * each fork and to tear down at each exit. */
static void server_slim(const jh_pipeline *p, jh_registry *reg) {
  const jobhost_task_type **used = calloc(p->ntasks ? p->ntasks : 1,
                                          sizeof(*used));
  if (used == NULL)
    return;
  for (size_t i = 0; i < p->ntasks; i++)
    used[i] = p->tasks[i].task_type;
  jh_registry_keep_only(reg, used, p->ntasks, p->packages,
                        p->model->nconnections);
  free(used);
}

static void server_main(const jh_pipeline *p, const jh_home *h,
                        jh_registry *reg, int sock, pid_t host) {
  struct sigaction sa;
  sigset_t chld;
  spare sp = {0, -1, -1, -1};
  int sfd, devnull;

  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != host)
    _exit(0);
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = SIG_IGN;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL); /* the host decides what a hangup means */
  sigaction(SIGPIPE, &sa, NULL);
  sa.sa_handler = SIG_DFL;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGCHLD, &sa, NULL);
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_SETMASK, &chld, NULL); /* SIGCHLD only through sfd */
  sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0)
    _exit(1);

  /* Keep the socket and the signalfd; drop the host's other files (the
   * store above all: an SQLite connection must not cross a fork). */
  devnull = open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    dup2(devnull, 0);
    dup2(devnull, 1);
  }
  /* Move both out of the way first, so that neither dup2 below can close
   * the other (either may already be 3 or 4). */
  sock = fcntl(sock, F_DUPFD_CLOEXEC, 10);
  sfd = fcntl(sfd, F_DUPFD_CLOEXEC, 10);
  if (sock < 0 || sfd < 0 || dup2(sock, 3) < 0 || dup2(sfd, 4) < 0)
    _exit(1);
  sock = 3;
  sfd = 4;
  close_range(5, ~0U, 0);
  /* Every mapping and page we keep is copied into each worker's page
   * tables: unload unused plugins and give the free heap back before the
   * first fork. */
  if (reg != NULL)
    server_slim(p, reg);
  malloc_trim(0);
  (void)spare_make(p, h, sock, sfd, &sp);

  for (;;) {
    struct pollfd fds[2] = {{sock, POLLIN, 0}, {sfd, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      _exit(1);
    }
    if (fds[1].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof(si)) > 0)
        ;
      server_reap(sock);
    }
    if (fds[0].revents) {
      struct spawn_req req;
      ssize_t got = recv(sock, &req, sizeof(req), 0);
      if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN))
        break; /* the host is done with us */
      if (got == (ssize_t)sizeof(req)) {
        req.work_dir[sizeof(req.work_dir) - 1] = '\0';
        server_spawn(p, h, sock, sfd, &sp, &req);
      }
    }
  }
  _exit(0);
}

/* ---- in the host ---- */

int jh_forkserver_start(const jh_pipeline *p, const jh_home *h,
                        jh_registry *reg, jh_forkserver **out) {
  jh_forkserver *fs = calloc(1, sizeof(*fs));
  int sv[2];
  pid_t host = getpid();

  if (fs == NULL)
    return -ENOMEM;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    int rc = -errno;
    free(fs);
    return rc;
  }
  fflush(NULL); /* no buffered host output is written twice */
  fs->pid = fork();
  if (fs->pid < 0) {
    int rc = -errno;
    close(sv[0]);
    close(sv[1]);
    free(fs);
    return rc;
  }
  if (fs->pid == 0) {
    close(sv[0]);
    server_main(p, h, reg, sv[1], host);
  }
  close(sv[1]);
  fs->sock = sv[0];
  *out = fs;
  return 0;
}

int jh_forkserver_fd(const jh_forkserver *fs) { return fs->sock; }

/* Receive one notice (blocking or not); fds[0..1] receive the attached
 * descriptors or -1. Returns 1 for a notice, 0 when none is waiting, or a
 * negative errno (-EPIPE when the server is gone). */
static int recv_notice(jh_forkserver *fs, struct notice *n, int fds[2],
                       int blocking) {
  union {
    char buf[CMSG_SPACE(2 * sizeof(int))];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = {n, sizeof(*n)};
  struct msghdr msg;
  ssize_t got;

  fds[0] = fds[1] = -1;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl.buf;
  msg.msg_controllen = sizeof(ctl.buf);
  do
    got = recvmsg(fs->sock, &msg,
                  MSG_CMSG_CLOEXEC | (blocking ? 0 : MSG_DONTWAIT));
  while (got < 0 && errno == EINTR);
  if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return 0;
  if (got <= 0) {
    fs->dead = 1;
    return -EPIPE;
  }
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      memcpy(fds, CMSG_DATA(c), (k > 2 ? 2 : k) * sizeof(int));
    }
  if (got != (ssize_t)sizeof(*n)) {
    for (int i = 0; i < 2; i++)
      if (fds[i] >= 0)
        close(fds[i]);
    return -EPROTO;
  }
  return 1;
}

int jh_forkserver_request(jh_forkserver *fs, const jh_spawn_args *a) {
  struct spawn_req req;

  if (fs->dead)
    return -EPIPE;
  memset(&req, 0, sizeof(req));
  req.task_index = a->task_index;
  req.task_instance = a->task_instance;
  req.resume_of = a->resume_of;
  req.force = a->force;
  if (strlen(a->work_dir) >= sizeof(req.work_dir))
    return -ENAMETOOLONG;
  strcpy(req.work_dir, a->work_dir);
  while (send(fs->sock, &req, sizeof(req), MSG_NOSIGNAL) < 0)
    if (errno != EINTR) {
      fs->dead = 1;
      return -EPIPE;
    }
  return 0;
}

int jh_forkserver_collect(jh_forkserver *fs, const jh_forkserver_events *ev) {
  struct notice n;
  int fds[2];

  while (!fs->dead && recv_notice(fs, &n, fds, 0) == 1) {
    if (n.type == NOTICE_SPAWNED && n.err == 0 && fds[0] >= 0 && fds[1] >= 0) {
      /* the fork server made both read ends non-blocking (spare_make) */
      ev->spawned(ev->arg, (size_t)n.task_index, 0, n.pid, fds[0], fds[1]);
      continue;
    }
    for (int i = 0; i < 2; i++)
      if (fds[i] >= 0)
        close(fds[i]);
    if (n.type == NOTICE_SPAWNED)
      ev->spawned(ev->arg, (size_t)n.task_index, n.err ? n.err : -EPROTO, 0, -1,
                  -1);
    else if (n.type == NOTICE_EXITED)
      ev->exited(ev->arg, n.pid, n.status);
  }
  return fs->dead;
}

pid_t jh_forkserver_describe_end(jh_forkserver *fs, char *buf, size_t size) {
  /* Its socket closed as it died: its end is collectable at once, or
   * nearly (a few tries, 10 ms apart). */
  for (int tries = 0; !fs->reaped && tries < 20; tries++) {
    pid_t got = waitpid(fs->pid, &fs->status, WNOHANG);
    if (got == fs->pid)
      fs->reaped = 1;
    else if (got < 0 && errno != EINTR)
      break;
    else if (got == 0)
      usleep(10000);
  }
  fs->dead = 1;
  if (!fs->reaped)
    snprintf(buf, size, "its socket closed");
  else if (WIFSIGNALED(fs->status))
    snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(fs->status),
             strsignal(WTERMSIG(fs->status)));
  else
    snprintf(buf, size, "exited with status %d",
             WIFEXITED(fs->status) ? WEXITSTATUS(fs->status) : -1);
  return fs->pid;
}

void jh_forkserver_stop(jh_forkserver *fs) {
  int status;
  if (fs == NULL)
    return;
  close(fs->sock); /* the server sees EOF and leaves */
  while (!fs->reaped && waitpid(fs->pid, &status, 0) < 0 && errno == EINTR)
    ;
  free(fs);
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

int jh_worker_read_output(jh_worker *w, jh_outcome *outcome) {
  char buf[65536];
  if (w->out_fd < 0)
    return 1;
  for (;;) {
    ssize_t n = read(w->out_fd, buf, sizeof(buf));
    if (n > 0) {
      uint64_t lines = 0;
      for (ssize_t k = 0; k < n; k++)
        lines += buf[k] == '\n';
      jh_outcome_log_write(outcome, buf, (size_t)n, lines ? lines : 1);
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return 0;
    close(w->out_fd);
    w->out_fd = -1;
    return 1;
  }
}

void jh_worker_clear(jh_worker *w) {
  if (w->fd >= 0)
    close(w->fd);
  if (w->out_fd >= 0)
    close(w->out_fd);
  w->fd = w->out_fd = -1;
  jh_wire_reader_clear(&w->reader);
}
