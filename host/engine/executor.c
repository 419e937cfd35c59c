/*
 * executor.c — the job state machine (see executor.h).
 *
 * One loop: start what may start, wait (poll) for reports, signals and
 * deadlines, end what has ended, until nothing runs and nothing may start.
 */
#include "config.h"

#include "executor.h"
#include "export_output.h"

#include "atomic_file.h"
#include "change_report.h"
#include "faultpoint.h"
#include "idstore.h"
#include "instance_id.h"
#include "timefmt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "plan.h"
#include "report.h"
#include "services.h"
#include "worker.h"

typedef enum phase {
  PH_EXCLUDED = 0, /* not part of this run */
  PH_PENDING,      /* may start once its level (or parents) allow */
  PH_RUNNING,
  PH_WAIT_RETRY, /* failed; starts again at retry_at */
  PH_DONE
} phase;

typedef struct task_run {
  const jh_task_def *def;
  int level;
  size_t group; /* launch group (jh_plan_group), by step position */
  int reads_dirty; /* runs only after a task that sets dirty flags */
  int sets_dirty;  /* its type sets dirty flags */
  phase ph;
  jh_state state; /* when PH_DONE */
  int produced_output;
  int attempts;     /* made in this run */
  int attempt_base; /* recorded by earlier runs of the instance */
  int validation;   /* resume of a Blocked task */
  int64_t resume_of;
  int64_t task_instance;
  int64_t started_ms, ended_ms; /* wall clock of the last attempt */
  int64_t deadline, kill_at, retry_at; /* monotonic ms; 0: none */
  int timed_out, term_sent;
  int lost_with_fs; /* its worker died with the fork server */
  int64_t progress_at; /* monotonic ms of the last progress recorded */
  char *progress_seen; /* what was recorded then (message and counters) */
  char *message;
  char *counters; /* JSON object text */
  jh_worker worker;
  jh_outcome outcome;
  char *log_path; /* of the current attempt */
  char *work_dir;
  /* PH_EXCLUDED parent of a selected task: its last result in this job */
  int last_known;
  jh_state last_state;
  int last_output;
  int64_t last_instance;
} task_run;

typedef struct run {
  const jh_job *job;
  const jh_home *home;
  jh_store *store;
  int64_t instance;
  const jh_exec_options *opt;
  task_run *t;
  size_t n;
  size_t *running; /* indices of the PH_RUNNING tasks */
  size_t nrunning;
  size_t npending;  /* tasks in PH_PENDING */
  size_t nretry;    /* tasks in PH_WAIT_RETRY */
  size_t nmarkers_open; /* tasks that set dirty flags, selected, not ended */
  const struct task_run *marker_ok; /* one of them that Succeeded */
  size_t cursor;    /* levels: first step not yet ended */
  int stop;      /* no new task starts */
  int cancelled; /* cancel asked: running tasks finish, the job ends
                    Cancelled */
  int cancel_now; /* asked to stop now: running tasks get SIGTERM, then
                     SIGKILL after the grace period */
  int cancel_store; /* the level last read from the store */
  sig_atomic_t store_asks_seen; /* sig_store_asks when it was read */
  int fs_restarts;  /* fork servers started again after one died */
  int fs_failed;    /* the fork server died and could not be restarted */
  char fs_note[400]; /* what happened to it, for the job's record */
  int store_error;
  char store_why[600]; /* the first failure to record, for the job */
  char batch_what[300]; /* the first task end of the open batch */
  int store_recovered; /* every end was recorded again after it */
  const char *stopped_by; /* id of the task that stopped the job */
  jh_state stopped_state; /* how it ended: Error outranks Blocked */
  int status_shown;
  jh_forkserver *fs;       /* NULL with --isolation none */
  int own_fs;              /* started here, so stopped here */
  struct pollfd *pollfds; /* 2n + 2, reused by every wait */
  size_t *pollowner;      /* task index of each pollfd */
} run;

/* ---- signals: a self-pipe wakes the loop ---- */

/*
 * SIGINT, SIGTERM and SIGHUP each count once: the first cancels the job
 * (running tasks finish, nothing new starts), the second asks the running
 * tasks to stop (SIGTERM, then SIGKILL after the grace period), a third
 * kills them at once. SIGUSR1 comes from `jobhost cancel`: the level it
 * asked for is in the store. A host whose terminal goes away (SIGHUP) so
 * ends its job Cancelled rather than dying with it Running.
 */
#define NSIGS 5
static const int handled_sigs[NSIGS] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1,
                                        SIGCHLD};

static int sig_pipe[2] = {-1, -1};
static volatile sig_atomic_t sig_cancel_count;
static volatile sig_atomic_t sig_store_asks;
static volatile sig_atomic_t inproc_cancel; /* --isolation none */

static void on_signal(int sig) {
  int saved = errno;
  char c = (char)sig;
  if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
    sig_cancel_count++;
    if (sig_cancel_count >= 2)
      inproc_cancel = 1;
  } else if (sig == SIGUSR1) {
    sig_store_asks++;
  }
  if (sig_pipe[1] >= 0)
    (void)!write(sig_pipe[1], &c, 1);
  errno = saved;
}

static int signals_install(struct sigaction old[NSIGS]) {
  const int *sigs = handled_sigs;
  struct sigaction sa;
  if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
    return -errno;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sig_cancel_count = 0;
  sig_store_asks = 1; /* read the store once: a cancel may have come first */
  inproc_cancel = 0;
  for (int i = 0; i < NSIGS; i++)
    sigaction(sigs[i], &sa, &old[i]);
  return 0;
}

static void signals_restore(struct sigaction old[NSIGS]) {
  for (int i = 0; i < NSIGS; i++)
    sigaction(handled_sigs[i], &old[i], NULL);
  close(sig_pipe[0]);
  close(sig_pipe[1]);
  sig_pipe[0] = sig_pipe[1] = -1;
}

static void drain_sig_pipe(void) {
  char buf[64];
  while (read(sig_pipe[0], buf, sizeof(buf)) > 0)
    ;
}

/* ---- time and files ---- */

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Remove a work folder if the task made one: usually it did not, or left
 * it empty, and one rmdir settles it. */
static void rmtree_if_exists(const char *dir) {
  if (dir != NULL && rmdir(dir) != 0 && errno != ENOENT)
    (void)jh_remove_tree(dir);
}

/* ---- progress ---- */

static void status_clear(run *r) {
  if (r->opt->live && r->status_shown) {
    fputs("\r\033[K", r->opt->progress);
    r->status_shown = 0;
  }
}

static void status_draw(run *r) {
  size_t done = 0, total = 0, shown = 0;
  FILE *f = r->opt->progress;
  if (!r->opt->live)
    return;
  for (size_t i = 0; i < r->n; i++) {
    if (r->t[i].ph == PH_EXCLUDED)
      continue;
    total++;
    done += r->t[i].ph == PH_DONE;
  }
  fprintf(f, "\r\033[K[%zu/%zu]", done, total);
  for (size_t i = 0; i < r->n && shown < 4; i++)
    if (r->t[i].ph == PH_RUNNING) {
      task_run *t = &r->t[i];
      if (t->outcome.progress_total > 0)
        fprintf(f, " %s %llu/%llu", t->def->id,
                (unsigned long long)t->outcome.progress_done,
                (unsigned long long)t->outcome.progress_total);
      else
        fprintf(f, " %s", t->def->id);
      shown++;
    }
  if (r->nrunning > shown)
    fprintf(f, " +%zu", r->nrunning - shown);
  fflush(f);
  r->status_shown = 1;
}

static void note(run *r, const char *fmt, ...) JOBHOST_PRINTF(2, 3);
static void note(run *r, const char *fmt, ...) {
  char stamp[JH_TIME_SIZE];
  va_list ap;
  if (r->opt->progress == NULL)
    return;
  status_clear(r);
  jh_time_local_hms(time(NULL), stamp);
  fprintf(r->opt->progress, "%s ", stamp);
  va_start(ap, fmt);
  vfprintf(r->opt->progress, fmt, ap);
  va_end(ap);
  fputc('\n', r->opt->progress);
  fflush(r->opt->progress);
}

/* ---- recording ---- */

static void store_check(run *r, int rc, const char *what) {
  if (rc == 0) {
    /* what a batch holds, to name when its commit fails */
    if (r->batch_what[0] == '\0' && strncmp(what, "task ", 5) == 0)
      snprintf(r->batch_what, sizeof(r->batch_what), "%s", what);
    return;
  }
  if (!r->store_error) {
    snprintf(r->store_why, sizeof(r->store_why), "recording %s: %s", what,
             jh_store_errmsg(r->store));
    note(r, "store: %s", r->store_why);
  }
  r->store_error = rc;
}

static void set_message(task_run *t, const char *msg) {
  char *copy = msg ? strdup(msg) : NULL;
  free(t->message);
  t->message = copy;
}

static int phase_open(phase ph) {
  return ph == PH_PENDING || ph == PH_RUNNING || ph == PH_WAIT_RETRY;
}

/* Every change of phase goes through here: it keeps the counts and the
 * running list that spare the loop from looking at every task. */
static void set_phase(run *r, task_run *t, phase ph) {
  size_t i = (size_t)(t - r->t);
  if (t->ph == ph)
    return;
  if (t->sets_dirty && phase_open(t->ph) != phase_open(ph)) {
    if (phase_open(ph))
      r->nmarkers_open++;
    else
      r->nmarkers_open--;
  }
  if (t->ph == PH_PENDING)
    r->npending--;
  else if (t->ph == PH_WAIT_RETRY)
    r->nretry--;
  else if (t->ph == PH_RUNNING)
    for (size_t k = 0; k < r->nrunning; k++)
      if (r->running[k] == i) {
        r->running[k] = r->running[--r->nrunning];
        break;
      }
  if (ph == PH_PENDING)
    r->npending++;
  else if (ph == PH_WAIT_RETRY)
    r->nretry++;
  else if (ph == PH_RUNNING)
    r->running[r->nrunning++] = i;
  t->ph = ph;
}

/* A task that will not be launched in this run. */
static void finish_unlaunched(run *r, task_run *t, jh_state state,
                              const char *why) {
  set_phase(r, t, PH_DONE);
  t->state = state;
  t->produced_output = 0;
  set_message(t, why);
  store_check(r,
              jh_store_task_record(r->store, r->instance, t->def->id,
                                   t->def->type, t->level, state, why),
              "a task");
}

/* ---- parent links ---- */

/* NULL when every parent allows t to start; else the reason in buf. A
 * parent outside the selection is judged on its last result in this job. */
static const char *parents_block(run *r, size_t i, char *buf, size_t size) {
  const jh_graph *g = r->job->graph;
  for (size_t k = 0; k < g->nparents[i]; k++) {
    const task_run *p = &r->t[g->parents[i][k]];
    jh_plan_parent pp = {.id = p->def->id, .selected = p->ph != PH_EXCLUDED};
    const char *why;
    if (pp.selected) {
      pp.ended = p->ph == PH_DONE;
      pp.state = p->state;
      pp.produced_output = p->produced_output;
    } else {
      pp.ended = p->last_known;
      pp.state = p->last_state;
      pp.produced_output = p->last_output;
      pp.instance = p->last_instance;
    }
    why = jh_plan_parent_verdict(&pp, buf, size);
    if (why != NULL)
      return why;
  }
  return NULL;
}

/* The task that sets dirty flags a dirty task is judged on: one that
 * Succeeded in this run, else the first selected one, else the first of
 * the job (none: m->id NULL). */
static void dirty_marker(run *r, jh_plan_marker *m) {
  const task_run *pick = r->marker_ok;
  int rank = pick != NULL ? 3 : 0; /* 3 Succeeded, 2 selected, 1 in job */
  for (size_t i = 0; i < r->n && rank < 3; i++) {
    const task_run *t = &r->t[i];
    int here;
    if (!t->sets_dirty)
      continue;
    here = t->ph == PH_DONE && t->state == JH_STATE_SUCCEEDED ? 3
           : t->ph != PH_EXCLUDED                            ? 2
                                                             : 1;
    if (here > rank) {
      pick = t;
      rank = here;
    }
  }
  memset(m, 0, sizeof(*m));
  if (pick == NULL)
    return;
  if (rank == 3) /* a task that ended stays as it ended */
    r->marker_ok = pick;
  m->id = pick->def->id;
  m->type = pick->def->type;
  m->selected = pick->ph != PH_EXCLUDED;
  m->ended = pick->ph == PH_DONE;
  m->state = pick->state;
}

/* NULL when task i may start; else why it is Skipped, in buf. */
static const char *start_block(run *r, size_t i, char *buf, size_t size) {
  jh_plan_marker m;
  const char *why = parents_block(r, i, buf, size);
  if (why != NULL || !r->t[i].reads_dirty)
    return why;
  dirty_marker(r, &m);
  return jh_plan_dirty_verdict(1, &m, buf, size);
}

/* In dependencies mode: 1 when every parent in the run has ended, and,
 * for a dirty task, every selected task that sets dirty flags. */
static int parents_done(run *r, size_t i) {
  const jh_graph *g = r->job->graph;
  for (size_t k = 0; k < g->nparents[i]; k++) {
    phase ph = r->t[g->parents[i][k]].ph;
    if (ph != PH_EXCLUDED && ph != PH_DONE)
      return 0;
  }
  return !r->t[i].reads_dirty || r->nmarkers_open == 0;
}

/* ---- ending an attempt ---- */

static void discard_export(run *r, task_run *t) {
  const jh_value *conn =
      jh_task_value(t->def, JOBHOST_PARAM_NAME_CONNECTION);
  int rc;
  if (conn == NULL || conn->text == NULL)
    return;
  rc = jh_export_output_discard(
      r->home->folders[JOBHOST_FOLDER_EXPORT_OUTPUT], conn->text);
  if (rc != 0)
    note(r, "%s: cannot remove the tables of connection %s: %s",
         t->def->id, conn->text, jobhost_strerror(rc));
}

/* The state of an attempt from its result; the host's side of the story
 * in why. A task that reported its result is recorded with it, even when
 * a cancel came meanwhile; one that ended without a result is Cancelled
 * when the cancel stopped it, else Error — unless it had said its
 * transaction was committed: then it Succeeded (its changes applied) or is
 * Blocked (its changes held), and the message says what came after. */
static jh_state attempt_state(run *r, const task_run *t, int exit_status,
                              char *why, size_t size) {
  const jh_outcome *o = &t->outcome;
  int stopped = r->cancel_now && t->term_sent && !t->timed_out;
  char how[300];

  if (o->has_result && t->timed_out && o->result != 0) {
    snprintf(why, size, "timed out after %ld ms", t->def->timeout_ms);
    return JH_STATE_ERROR;
  }
  if (o->has_result) {
    const jobhost_task_type *tt = t->def->task_type;
    jh_state state = jh_plan_result_state(o->result, t->def->type,
                                          tt != NULL ? tt->flags : 0, why,
                                          size);
    if (state == JH_STATE_SUCCEEDED && stopped)
      snprintf(why, size, "the cancel came too late: the task had done its "
                          "work");
    return state;
  }
  if (t->timed_out)
    snprintf(how, sizeof(how), "timed out after %ld ms%s",
             t->def->timeout_ms,
             WIFSIGNALED(exit_status) && WTERMSIG(exit_status) == SIGKILL
                 ? " (killed)"
                 : "");
  else if (t->lost_with_fs)
    snprintf(how, sizeof(how), "the fork server died, and the worker with "
                               "it");
  else if (stopped)
    snprintf(how, sizeof(how), "stopped by the cancel (%s)",
             WIFSIGNALED(exit_status) && WTERMSIG(exit_status) == SIGKILL
                 ? "killed after the grace period"
                 : "it ended without a result");
  else
    jh_worker_describe_exit(exit_status, how, sizeof(how));
  if (o->committed == JH_COMMITTED_HELD) {
    snprintf(why, size, "its changes were committed held over a threshold; "
             "then %s; `jobhost resume %lld` applies them", how,
             (long long)r->instance);
    return JH_STATE_BLOCKED;
  }
  if (o->committed) {
    snprintf(why, size, "its changes were committed; then %s", how);
    return JH_STATE_SUCCEEDED;
  }
  snprintf(why, size, "%s", how);
  return stopped ? JH_STATE_CANCELLED : JH_STATE_ERROR;
}

/* A task that wrote nothing has no log: its row lists none. */
static void forget_missing_log(run *r, task_run *t) {
  if (t->outcome.log != NULL || t->log_path == NULL ||
      access(t->log_path, F_OK) == 0)
    return;
  store_check(r, jh_store_task_clear_log(r->store, t->task_instance),
              "a task");
}

/* A validation of held changes that failed (its worker killed, the disk
 * full, ...) committed nothing: the changes stay held and the task is
 * Blocked again, so that the instance can still be resumed
 * (doc/jobs.md). */
static jh_state validation_failed(run *r, task_run *t) {
  char msg[1200];
  snprintf(msg, sizeof(msg), "the validation of the held changes failed: "
           "%s; they stay held, `jobhost resume %lld` validates them again",
           t->message != NULL ? t->message : "no reason given",
           (long long)r->instance);
  set_message(t, msg);
  return JH_STATE_BLOCKED;
}

/* A task killed after its transaction committed did not finish what
 * follows the commit: its change report is put in place and the batches
 * it consumed are removed now, not at the next synchronization. */
static void finish_committed(run *r, const task_run *t) {
  char err[512];
  if (!t->outcome.committed || t->outcome.has_result ||
      access(r->home->identity_store_path, F_OK) != 0)
    return;
  if (jh_idstore_finish_committed(r->home->identity_store_path,
                                  r->home->folders[JOBHOST_FOLDER_COLLECT],
                                  err, sizeof(err)) != 0)
    note(r, "%s: what follows its commit is left for the next "
         "synchronization: %s", t->def->id, err);
}

static void end_attempt(run *r, task_run *t, int exit_status) {
  const jh_outcome *o = &t->outcome;
  char why[512], what[300];
  jh_state state;
  int64_t now = jh_now_ms();

  why[0] = '\0';
  finish_committed(r, t);
  state = attempt_state(r, t, exit_status, why, sizeof(why));
  if (t->worker.proto_error && state == JH_STATE_SUCCEEDED) {
    state = JH_STATE_ERROR;
    snprintf(why, sizeof(why), "worker sent a malformed report");
  }

  /* The message: the task's own, else what the host saw, else the code. */
  if (o->message != NULL && why[0] != '\0') {
    char both[1024];
    snprintf(both, sizeof(both), "%s; %s", why, o->message);
    set_message(t, both);
  } else if (o->message != NULL) {
    set_message(t, o->message);
  } else if (why[0] != '\0') {
    set_message(t, why);
  } else if (o->has_result && o->result != 0) {
    set_message(t, jobhost_strerror(o->result));
  } else {
    set_message(t, NULL);
  }
  free(t->counters);
  t->counters = jh_outcome_counters_json(o);
  t->produced_output = o->produced_output < 0 ? state == JH_STATE_SUCCEEDED
                                              : o->produced_output;
  t->ended_ms = now;
  /* An export that did not succeed leaves no table of its connection for
   * prepare to read as if it were current (doc/synchronization.md), even
   * when its worker crashed or timed out before it could clean up. */
  if (state != JH_STATE_SUCCEEDED &&
      (jh_task_flags(t->def) & JOBHOST_TASK_EXPORTS))
    discard_export(r, t);
  /* The log is made on the task's first output line; an attempt that did
   * not succeed always gets one, ending with why. */
  if (state != JH_STATE_SUCCEEDED || t->outcome.log != NULL) {
    FILE *log;
    jh_outcome_log_dropped_note(&t->outcome);
    log = jh_outcome_log(&t->outcome);
    if (log != NULL)
      fprintf(log, "# attempt %d ended %s after %lld ms%s%s\n",
              t->attempt_base + t->attempts, jh_state_name(state),
              (long long)(now - t->started_ms), t->message ? ": " : "",
              t->message ? t->message : "");
  }

  if (state == JH_STATE_ERROR && !r->stop && t->attempts <= t->def->retries) {
    long delay = t->def->retry_delay_ms;
    char msg[1200];
    for (int k = 1; k < t->attempts && delay < 3600000; k++)
      delay *= 2;
    snprintf(msg, sizeof(msg), "%s (attempt %d of %d; retrying in %ld ms)",
             t->message ? t->message : "failed", t->attempts,
             t->def->retries + 1, delay);
    snprintf(what, sizeof(what), "task %s (%s)", t->def->id,
             jh_state_name(state));
    store_check(r,
                jh_store_task_finish(r->store, t->task_instance, state, msg,
                                     0, t->counters),
                what);
    forget_missing_log(r, t);
    note(r, "%s attempt %d failed: %s", t->def->id, t->attempts, msg);
    set_phase(r, t, PH_WAIT_RETRY);
    t->retry_at = mono_ms() + delay;
    return;
  }
  if (state == JH_STATE_ERROR && t->validation)
    state = validation_failed(r, t);
  if (state == JH_STATE_ERROR && t->def->continue_on_error)
    state = JH_STATE_WARNING;
  if (state == JH_STATE_ERROR || state == JH_STATE_BLOCKED) {
    /* The job's message names what stopped it: an Error outranks a
     * Blocked task that ended first. */
    if (!r->stop || (state == JH_STATE_ERROR &&
                     r->stopped_state == JH_STATE_BLOCKED)) {
      r->stopped_by = t->def->id;
      r->stopped_state = state;
    }
    r->stop = 1;
  }
  t->state = state;
  set_phase(r, t, PH_DONE);
  snprintf(what, sizeof(what), "task %s (%s)", t->def->id,
           jh_state_name(state));
  store_check(r,
              jh_store_task_finish(r->store, t->task_instance, state,
                                   t->message, t->produced_output,
                                   t->counters),
              what);
  forget_missing_log(r, t);
  note(r, "%s %s in %lld ms%s%s", t->def->id, jh_state_name(state),
       (long long)(t->ended_ms - t->started_ms), t->message ? ": " : "",
       t->message ? t->message : "");
}

static void attempt_cleanup(task_run *t) {
  jh_worker_clear(&t->worker);
  jh_outcome_close_log(&t->outcome);
  t->outcome.log_path = NULL;
  rmtree_if_exists(t->work_dir);
  free(t->work_dir);
  t->work_dir = NULL;
}

/* ---- starting an attempt ---- */

static int fs_revive(run *r);

static int prepare_attempt(run *r, task_run *t) {
  int attempt = t->attempt_base + t->attempts;
  free(t->log_path);
  t->log_path = jh_task_file_path(r->home->folders[JOBHOST_FOLDER_JOB_LOGS],
                                  r->instance, t->def->id, attempt,
                                  JH_TASK_LOG_SUFFIX);
  if (t->log_path == NULL)
    return -ENOMEM;
  t->work_dir = jh_task_file_path(r->home->folders[JOBHOST_FOLDER_TASK_WORK],
                                  r->instance, t->def->id, attempt, "");
  if (t->work_dir == NULL)
    return -ENOMEM;
  /* The work folder is made on first use (services.c): most tasks never
   * need one, and making and removing a folder per task is costly. Its
   * name is unique to the attempt, so none is left from an earlier run. */
  return 0;
}

static void start_task(run *r, size_t i) {
  task_run *t = &r->t[i];
  char why[600];
  const char *block;
  jh_task_env env;
  int rc;

  block = r->opt->leave_out != NULL && !t->validation
              ? r->opt->leave_out(r->opt->leave_out_arg, t->def, r->instance,
                                  why, sizeof(why))
              : NULL;
  if (block == NULL)
    block = start_block(r, i, why, sizeof(why));
  if (block != NULL) {
    finish_unlaunched(r, t, JH_STATE_SKIPPED, block);
    note(r, "%s Skipped: %s", t->def->id, block);
    return;
  }
  t->attempts++;
  jh_outcome_clear(&t->outcome);
  t->timed_out = t->term_sent = 0;
  t->kill_at = 0;
  t->progress_at = 0;
  free(t->progress_seen);
  t->progress_seen = NULL;
  t->started_ms = jh_now_ms();
  rc = prepare_attempt(r, t);
  if (rc == 0)
    rc = jh_store_task_start(r->store, r->instance, t->def->id, t->def->type,
                             t->level, t->attempt_base + t->attempts,
                             t->log_path, &t->task_instance);
  if (rc != 0) {
    note(r, "%s cannot start: %s", t->def->id,
         rc == -EIO ? jh_store_errmsg(r->store) : jobhost_strerror(rc));
    attempt_cleanup(t);
    set_phase(r, t, PH_DONE);
    t->state = JH_STATE_ERROR;
    set_message(t, "the host could not prepare the task");
    if (!r->stop || r->stopped_state == JH_STATE_BLOCKED) {
      r->stopped_by = t->def->id;
      r->stopped_state = JH_STATE_ERROR;
    }
    r->stop = 1;
    r->store_error = rc == -EIO ? rc : r->store_error;
    return;
  }
  /* The log is made by the worker (which writes its header and sends its
   * stdout and stderr there), or by the host on the first log record. */
  t->outcome.log_path = t->log_path;
  t->outcome.task_id = t->def->id;

  memset(&env, 0, sizeof(env));
  env.def = t->def;
  env.pipeline = r->job->pipeline;
  env.home = r->home;
  env.work_dir = t->work_dir;
  env.task_instance = t->task_instance;
  env.force = r->opt->force || t->validation;
  env.resume_of = t->validation ? t->resume_of : 0;
  note(r, "%s (%s) started%s", t->def->id, t->def->type,
       t->validation ? " to validate the blocked run" : "");

  if (r->opt->isolation == JH_ISOLATION_NONE) {
    env.fd = -1;
    env.outcome = &t->outcome;
    env.cancelled = &inproc_cancel;
    set_phase(r, t, PH_RUNNING);
    jh_task_execute(&env);
    end_attempt(r, t, 0);
    attempt_cleanup(t);
    return;
  }
  {
    jh_spawn_args sa = {.task_index = i,
                        .task_instance = t->task_instance,
                        .force = env.force,
                        .resume_of = env.resume_of,
                        .work_dir = t->work_dir};
    /* The worker's pid and pipes arrive with the fork server's answer
     * (on_spawned); meanwhile the task counts as running. */
    memset(&t->worker, 0, sizeof(t->worker));
    t->worker.fd = t->worker.out_fd = -1;
    t->lost_with_fs = 0;
    rc = jh_forkserver_request(r->fs, &sa);
    /* Its fork server died since the last turn: a new one, then again. */
    if (rc == -EPIPE && fs_revive(r) == 0)
      rc = jh_forkserver_request(r->fs, &sa);
  }
  if (rc != 0) {
    t->outcome.has_result = 1;
    t->outcome.result = rc;
    set_message(t, NULL);
    set_phase(r, t, PH_RUNNING);
    end_attempt(r, t, 0);
    attempt_cleanup(t);
    return;
  }
  set_phase(r, t, PH_RUNNING);
  t->deadline = t->def->timeout_ms > 0 ? mono_ms() + t->def->timeout_ms : 0;
}

/* Start what may start now. */
static void schedule(run *r) {
  const jh_pipeline *p = r->job->pipeline;
  const size_t *steps = r->job->graph->steps;
  size_t max = (size_t)p->max_parallel;
  int64_t now = mono_ms();

  if (r->stop)
    return;
  if (p->ordering == JH_ORDER_DEPENDENCIES) {
    for (size_t i = 0; i < r->n && r->nrunning < max &&
                       (r->npending > 0 || r->nretry > 0);
         i++) {
      task_run *t = &r->t[i];
      if ((t->ph == PH_PENDING ||
           (t->ph == PH_WAIT_RETRY && t->retry_at <= now)) &&
          parents_done(r, i))
        start_task(r, i);
      if (r->stop)
        return;
    }
    return;
  }
  /* Levels: steps are sorted by launch group (jh_plan_group); the cursor
   * is the first step that has not ended, so its group is the one
   * running. */
  for (;;) {
    size_t group;
    while (r->cursor < r->n && (r->t[steps[r->cursor]].ph == PH_DONE ||
                                r->t[steps[r->cursor]].ph == PH_EXCLUDED))
      r->cursor++;
    if (r->cursor == r->n)
      return;
    group = r->t[steps[r->cursor]].group;
    for (size_t k = r->cursor;
         k < r->n && r->t[steps[k]].group == group && r->nrunning < max; k++) {
      task_run *t = &r->t[steps[k]];
      if (t->ph == PH_PENDING ||
          (t->ph == PH_WAIT_RETRY && t->retry_at <= now)) {
        start_task(r, steps[k]);
        if (r->stop)
          return;
      }
    }
    /* Skipped tasks and in-process runs may have ended the group at once:
     * then go on with the next one. */
    if (r->cursor < r->n && r->t[steps[r->cursor]].ph != PH_DONE &&
        r->t[steps[r->cursor]].ph != PH_EXCLUDED)
      return;
  }
}

/* ---- the loop ---- */

static void signal_all(run *r, int sig, long grace_ms) {
  int64_t now = mono_ms();
  for (size_t k = 0; k < r->nrunning; k++) {
    task_run *t = &r->t[r->running[k]];
    if (t->worker.pid <= 0 || t->worker.exited)
      continue;
    kill(t->worker.pid, sig);
    if (sig == SIGTERM && !t->term_sent) {
      t->term_sent = 1;
      t->kill_at = now + grace_ms;
    }
  }
}

/* The cancel level asked so far: by signals, and by `jobhost cancel`
 * through the store (read again each time it signals). */
static int cancel_level(run *r) {
  sig_atomic_t asks = sig_store_asks;
  int level = sig_cancel_count >= 2 ? JH_CANCEL_NOW : (int)sig_cancel_count;
  if (asks != r->store_asks_seen) {
    int rc = jh_store_job_cancel_requested(r->store, r->instance);
    r->store_asks_seen = asks;
    if (rc > r->cancel_store)
      r->cancel_store = rc;
  }
  return level > r->cancel_store ? level : r->cancel_store;
}

static void handle_cancel(run *r) {
  int level = cancel_level(r);
  if (level >= JH_CANCEL_FINISH && !r->cancelled) {
    r->cancelled = 1;
    r->stop = 1;
    if (r->nrunning > 0)
      note(r, "cancel requested: the job ends Cancelled; no new task "
              "starts; the %zu running task%s finish%s (cancel --now or a "
              "second signal stops them)",
           r->nrunning, r->nrunning == 1 ? "" : "s",
           r->nrunning == 1 ? "es" : "");
    else
      note(r, "cancel requested: the job ends Cancelled; no new task starts");
  }
  if (level >= JH_CANCEL_NOW && !r->cancel_now) {
    r->cancel_now = 1;
    inproc_cancel = 1;
    if (r->nrunning > 0)
      note(r, "cancel now: running tasks are asked to stop, and killed "
              "%ld ms later",
           r->opt->grace_ms);
    signal_all(r, SIGTERM, r->opt->grace_ms);
  }
  if (sig_cancel_count > 2)
    signal_all(r, SIGKILL, 0); /* asked three times: stop at once */
}

static void check_deadlines(run *r, int64_t now) {
  for (size_t k = 0; k < r->nrunning; k++) {
    task_run *t = &r->t[r->running[k]];
    if (t->worker.exited)
      continue;
    if (t->deadline > 0 && now >= t->deadline && !t->timed_out) {
      t->timed_out = 1;
      note(r, "%s timed out after %ld ms: asking it to stop", t->def->id,
           t->def->timeout_ms);
      if (t->worker.pid > 0) { /* else on_spawned asks it */
        kill(t->worker.pid, SIGTERM);
        t->term_sent = 1;
        t->kill_at = now + r->opt->grace_ms;
      }
    }
    if (t->kill_at > 0 && now >= t->kill_at && t->worker.pid > 0) {
      FILE *log = jh_outcome_log(&t->outcome);
      if (log != NULL)
        fprintf(log, "# no end %ld ms after SIGTERM: SIGKILL\n",
                r->opt->grace_ms);
      kill(t->worker.pid, SIGKILL);
      t->kill_at = 0;
    }
  }
}

static int64_t next_wakeup(run *r, int64_t now) {
  int64_t next = now + 1000; /* redraw the status line now and then */
  for (size_t k = 0; k < r->nrunning; k++) {
    const task_run *t = &r->t[r->running[k]];
    if (t->deadline > 0 && !t->timed_out && t->deadline < next)
      next = t->deadline;
    if (t->kill_at > 0 && t->kill_at < next)
      next = t->kill_at;
  }
  for (size_t i = 0; r->nretry > 0 && i < r->n; i++)
    if (r->t[i].ph == PH_WAIT_RETRY && r->t[i].retry_at < next)
      next = r->t[i].retry_at;
  return next;
}

static void on_spawned(void *arg, size_t i, int err, pid_t pid,
                       int report_fd, int out_fd) {
  run *r = arg;
  task_run *t;
  if (i >= r->n || r->t[i].ph != PH_RUNNING || r->t[i].worker.pid != 0) {
    if (report_fd >= 0)
      close(report_fd);
    if (out_fd >= 0)
      close(out_fd);
    return;
  }
  t = &r->t[i];
  if (err != 0) {
    char why[200];
    snprintf(why, sizeof(why), "the worker could not start: %s",
             jobhost_strerror(err));
    t->worker.exited = 1;
    t->worker.status = 0;
    free(t->outcome.message);
    t->outcome.message = strdup(why);
    t->outcome.has_result = 1;
    t->outcome.result = err;
    return;
  }
  t->worker.pid = pid;
  t->worker.fd = report_fd;
  t->worker.out_fd = out_fd;
  /* Asked to stop before it existed: ask now. */
  if (r->cancel_now || t->timed_out) {
    kill(pid, sig_cancel_count > 2 ? SIGKILL : SIGTERM);
    t->term_sent = 1;
    t->kill_at = mono_ms() + r->opt->grace_ms;
  }
}

static void on_worker_exit(void *arg, pid_t pid, int status) {
  run *r = arg;
  for (size_t k = 0; k < r->nrunning; k++) {
    task_run *t = &r->t[r->running[k]];
    if (t->worker.pid == pid && !t->worker.exited) {
      t->worker.exited = 1;
      t->worker.status = status;
      return;
    }
  }
}

/* The fork server died: say so and start another one, once for each
 * death. Returns 0 when a new one runs; else the job stops, with the
 * reason in its record. */
static int fs_revive(run *r) {
  char how[200];
  jh_forkserver *fresh = NULL;
  pid_t pid;
  int rc;

  if (r->fs_failed)
    return -EPIPE;
  pid = jh_forkserver_describe_end(r->fs, how, sizeof(how));
  rc = jh_forkserver_start(r->job->pipeline, r->home, r->job->reg, &fresh);
  if (rc != 0) {
    r->fs_failed = 1;
    r->stop = 1;
    snprintf(r->fs_note, sizeof(r->fs_note),
             "the fork server (pid %ld) died (%s) and could not be started "
             "again: %s",
             (long)pid, how, jobhost_strerror(rc));
    note(r, "%s; the job stops", r->fs_note);
    return rc;
  }
  if (r->own_fs)
    jh_forkserver_stop(r->fs); /* else its starter stops it */
  r->fs = fresh;
  r->own_fs = 1;
  r->fs_restarts++;
  snprintf(r->fs_note, sizeof(r->fs_note),
           "the fork server died %d time%s and was started again (last: pid "
           "%ld, %s)",
           r->fs_restarts, r->fs_restarts == 1 ? "" : "s", (long)pid, how);
  note(r, "the fork server (pid %ld) died (%s): a new one takes over",
       (long)pid, how);
  return 0;
}

static void reap(run *r) {
  jh_forkserver_events ev = {on_spawned, on_worker_exit, r};
  if (r->fs == NULL || r->fs_failed || !jh_forkserver_collect(r->fs, &ev))
    return;
  /* The fork server is gone, and its workers with it (they die with it):
   * every task it ran ended, killed, and every request it did not answer
   * failed. */
  for (size_t k = 0; k < r->nrunning; k++) {
    task_run *t = &r->t[r->running[k]];
    if (t->worker.exited)
      continue;
    t->worker.exited = 1;
    t->lost_with_fs = 1;
    if (t->worker.pid > 0) {
      t->worker.status = SIGKILL;
    } else {
      free(t->outcome.message);
      t->outcome.message = strdup("the fork server died before the worker "
                                  "started");
      t->outcome.has_result = 1;
      t->outcome.result = -EPIPE;
    }
  }
  fs_revive(r);
}

static int wait_events(run *r) {
  struct pollfd *fds = r->pollfds;
  size_t *owner = r->pollowner;
  size_t nfds = 0, first_task;
  int64_t now = mono_ms(), timeout;

  fds[nfds].fd = sig_pipe[0];
  fds[nfds++].events = POLLIN;
  if (r->fs != NULL && !r->fs_failed) {
    fds[nfds].fd = jh_forkserver_fd(r->fs);
    fds[nfds++].events = POLLIN;
  }
  first_task = nfds;
  for (size_t k = 0; k < r->nrunning; k++) {
    size_t i = r->running[k];
    if (r->t[i].worker.fd >= 0) {
      fds[nfds].fd = r->t[i].worker.fd;
      fds[nfds].events = POLLIN;
      owner[nfds++] = i;
    }
    if (r->t[i].worker.out_fd >= 0) {
      fds[nfds].fd = r->t[i].worker.out_fd;
      fds[nfds].events = POLLIN;
      owner[nfds++] = i;
    }
  }
  timeout = next_wakeup(r, now) - now;
  if (timeout < 0)
    timeout = 0;
  if (poll(fds, nfds, (int)timeout) < 0 && errno != EINTR)
    return -errno;
  if (fds[0].revents)
    drain_sig_pipe();
  for (size_t k = first_task; k < nfds; k++) {
    task_run *t = &r->t[owner[k]];
    if (!fds[k].revents)
      continue;
    if (fds[k].fd == t->worker.fd)
      jh_worker_read(&t->worker, &t->outcome);
    else
      jh_worker_read_output(&t->worker, &t->outcome);
  }
  return 0;
}

static void collect_ended(run *r) {
  reap(r);
  for (size_t k = r->nrunning; k-- > 0;) { /* ending removes from the list */
    task_run *t = &r->t[r->running[k]];
    if (!t->worker.exited)
      continue;
    /* The worker is gone: whatever it wrote is in the pipes now, and one
     * read to their end (or to EAGAIN, should a process it started hold
     * them open) takes it all. */
    jh_worker_read(&t->worker, &t->outcome);
    jh_worker_read_output(&t->worker, &t->outcome);
    jh_fault_point("exec.result_received");
    end_attempt(r, t, t->worker.status);
    attempt_cleanup(t);
  }
}

/* The job stopped while tasks waited for a retry: they will not start
 * again. Cancelled when the job was cancelled, else their last attempt's
 * failure stands (Error, or Warning with continue_on_error); the report
 * and the task's row in the store say the same. */
static void end_waiting_retries(run *r) {
  for (size_t i = 0; r->nretry > 0 && i < r->n; i++) {
    task_run *t = &r->t[i];
    char msg[1200];
    jh_state state;
    if (t->ph != PH_WAIT_RETRY)
      continue;
    if (r->cancelled) {
      state = JH_STATE_CANCELLED;
      snprintf(msg, sizeof(msg), "the job was cancelled while the task "
               "waited for a retry; last attempt: %s",
               t->message ? t->message : "failed");
    } else {
      state = t->def->continue_on_error ? JH_STATE_WARNING : JH_STATE_ERROR;
      snprintf(msg, sizeof(msg), "%s (no retry: the job stopped when %s "
               "ended)", t->message ? t->message : "failed",
               r->stopped_by ? r->stopped_by : "a task");
    }
    set_phase(r, t, PH_DONE);
    t->state = state;
    t->produced_output = 0;
    set_message(t, msg);
    store_check(r,
                jh_store_task_finish(r->store, t->task_instance, state, msg,
                                     0, t->counters),
                "a task");
    note(r, "%s %s: %s", t->def->id, jh_state_name(state), msg);
  }
}

/* A task's progress line and counters, recorded while it runs, at most once
 * a second per task and only when they changed: `jobhost show` tells how
 * far it got. Its final message replaces the line when it ends. */
#define PROGRESS_EVERY_MS 1000

static void record_progress(run *r, task_run *t, int64_t now) {
  const jh_outcome *o = &t->outcome;
  char line[200], *counters, *seen;
  if (now - t->progress_at < PROGRESS_EVERY_MS ||
      (o->progress_total == 0 && o->progress_done == 0 && o->ncounters == 0))
    return;
  t->progress_at = now;
  if (o->progress_total > 0)
    snprintf(line, sizeof(line), "running: %llu of %llu (%llu%%)",
             (unsigned long long)o->progress_done,
             (unsigned long long)o->progress_total,
             (unsigned long long)(o->progress_done * 100 / o->progress_total));
  else if (o->progress_done > 0)
    snprintf(line, sizeof(line), "running: %llu done",
             (unsigned long long)o->progress_done);
  else
    snprintf(line, sizeof(line), "running");
  counters = jh_outcome_counters_json(o);
  if (counters == NULL || asprintf(&seen, "%s\n%s", line, counters) < 0) {
    free(counters);
    return;
  }
  if (t->progress_seen == NULL || strcmp(seen, t->progress_seen) != 0) {
    char what[300];
    snprintf(what, sizeof(what), "task %s (its progress)", t->def->id);
    store_check(r,
                jh_store_task_progress(r->store, t->task_instance, line,
                                       counters),
                what);
    free(t->progress_seen);
    t->progress_seen = seen;
  } else {
    free(seen);
  }
  free(counters);
}

static void record_all_progress(run *r) {
  int64_t now = mono_ms();
  for (size_t k = 0; k < r->nrunning; k++) {
    task_run *t = &r->t[r->running[k]];
    if (t->worker.pid > 0 && !t->worker.exited)
      record_progress(r, t, now);
  }
}

static int any_active(const run *r) {
  return r->nrunning > 0 || r->nretry > 0 || (r->npending > 0 && !r->stop);
}

/* In process isolation, what one turn of the loop records (tasks ending,
 * tasks starting) is written in one transaction; never across a wait, so
 * that `jobhost cancel` and `history` are not kept waiting. In-process
 * tasks run inside schedule(), so there each write commits on its own. */
static void batch_begin(run *r) {
  r->batch_what[0] = '\0';
  if (r->opt->isolation == JH_ISOLATION_PROCESS)
    store_check(r, jh_store_batch_begin(r->store), "a batch");
}

static void batch_end(run *r) {
  char what[300];
  snprintf(what, sizeof(what), "%s", r->batch_what[0] ? r->batch_what
                                                      : "a batch");
  if (r->opt->isolation == JH_ISOLATION_PROCESS)
    store_check(r, jh_store_batch_end(r->store), what);
}

static int loop(run *r) {
  for (;;) {
    int rc;
    batch_begin(r);
    collect_ended(r);
    record_all_progress(r);
    handle_cancel(r);
    schedule(r);
    if (r->stop)
      end_waiting_retries(r);
    batch_end(r);
    if (!any_active(r))
      return 0;
    status_draw(r);
    rc = wait_events(r);
    if (rc != 0)
      return rc;
    check_deadlines(r, mono_ms());
  }
}

/* ---- selection and resume ---- */

static int step_position(const jh_job *job, const char *id) {
  for (size_t k = 0; k < job->graph->n; k++)
    if (strcmp(job->pipeline->tasks[job->graph->steps[k]].id, id) == 0)
      return (int)k;
  return -1;
}

int jh_exec_check_selection(const jh_job *job, const jh_exec_options *opt,
                            jh_diags *diags) {
  const char *names[3] = {opt->only, opt->from, opt->to};
  const char *flags[3] = {"--task", "--from", "--to"};
  for (int k = 0; k < 3; k++)
    if (names[k] != NULL && step_position(job, names[k]) < 0)
      jh_diag_error(diags, job->pipeline->path, 0, 0,
                    "%s %s: no such task in job %s", flags[k], names[k],
                    job->pipeline->job_id);
  if (opt->only != NULL && (opt->from != NULL || opt->to != NULL))
    jh_diag_error(diags, NULL, 0, 0, "--task cannot be combined with --from "
                                     "or --to");
  if (opt->from != NULL && opt->to != NULL &&
      step_position(job, opt->from) > step_position(job, opt->to))
    jh_diag_error(diags, NULL, 0, 0, "--from %s comes after --to %s",
                  opt->from, opt->to);
  return diags->nerrors ? JOBHOST_ECONFIG : 0;
}

static void select_tasks(run *r) {
  const jh_exec_options *opt = r->opt;
  int from = opt->from ? step_position(r->job, opt->from) : 0;
  int to = opt->to ? step_position(r->job, opt->to) : (int)r->n - 1;
  for (size_t k = 0; k < r->n; k++) {
    task_run *t = &r->t[r->job->graph->steps[k]];
    int in = opt->only ? strcmp(t->def->id, opt->only) == 0
                       : (int)k >= from && (int)k <= to;
    set_phase(r, t, in ? PH_PENDING : PH_EXCLUDED);
  }
}

/* The counters of a change report: its lines of each kind, as JSON
 * (owned), or NULL when it cannot be read. */
static char *report_counters(const char *report) {
  int64_t n[JH_CHANGE_NKINDS];
  json_t *j;
  char *text;
  if (jh_change_report_count(report, n) != 0)
    return NULL;
  j = json_object();
  for (int k = 0; j != NULL && k < JH_CHANGE_NCOUNTED; k++)
    json_object_set_new(j, jh_change_counter((jh_change_kind)k),
                        json_integer((json_int_t)n[k]));
  text = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  json_decref(j);
  return text;
}

/*
 * A synchronization (a task of a JOBHOST_TASK_SYNCHRONIZES type, the type
 * its row records) whose host died while it ran may have committed: its
 * change report is in place exactly when its transaction committed (the
 * sweep has put a pending one in place). Then the batches it consumed
 * are removed, and it is recorded from what
 * the transaction did — Blocked when it held its changes, else Succeeded —
 * with the counters its report lists (*counters, owned, may be NULL).
 * 1 when so recorded, else 0.
 */
static int recover_committed(run *r, const jh_task_def *def,
                             const jh_task_row *last, jh_state *state,
                             char **counters) {
  char report[PATH_MAX], msg[300];
  int held;
  if (!(jh_task_flags(def) & JOBHOST_TASK_SYNCHRONIZES) ||
      strcmp(last->task_type, def->type) != 0 ||
      last->log_path == NULL ||
      jh_change_report_path(last->log_path, report, sizeof(report)) != 0 ||
      access(report, F_OK) != 0)
    return 0;
  held = jh_idstore_held_by(r->home->identity_store_path, last->id);
  if (held < 0)
    return 0;
  if (jh_idstore_finish_committed(r->home->identity_store_path,
                                  r->home->folders[JOBHOST_FOLDER_COLLECT],
                                  msg, sizeof(msg)) != 0)
    note(r, "%s: what follows its commit is left for the next "
         "synchronization: %s", last->task_id, msg);
  *counters = report_counters(report);
  *state = held ? JH_STATE_BLOCKED : JH_STATE_SUCCEEDED;
  snprintf(msg, sizeof(msg), "its changes were committed%s; then the host "
           "ended while the task ran", held ? " held over a threshold" : "");
  store_check(r,
              jh_store_task_finish(r->store, last->id, *state, msg, !held,
                                   *counters),
              "a task");
  return 1;
}

/* Apply the rows of an earlier run of the instance: ended tasks keep their
 * state, a Blocked task is validated, the rest run. */
static int apply_history(run *r) {
  jh_task_row *rows = NULL;
  size_t n = 0;
  jh_state recovered;
  char *counters = NULL;
  int rc = jh_store_task_list(r->store, r->instance, &rows, &n);
  if (rc != 0)
    return rc;
  for (size_t i = 0; i < r->n; i++) {
    task_run *t = &r->t[i];
    const jh_task_row *last = NULL;
    for (size_t k = 0; k < n; k++)
      if (strcmp(rows[k].task_id, t->def->id) == 0)
        last = &rows[k];
    /* A Blocked task is validated whatever the steps resume was given:
     * the selection chooses among the tasks that had not run. */
    if (last != NULL && last->state == JH_STATE_BLOCKED &&
        t->ph == PH_EXCLUDED)
      set_phase(r, t, PH_PENDING);
    if (last == NULL || t->ph == PH_EXCLUDED)
      continue;
    t->attempt_base = last->attempt;
    /* its host died under it, maybe after its commit */
    if ((last->state == JH_STATE_RUNNING ||
         last->state == JH_STATE_INTERRUPTED) &&
        recover_committed(r, t->def, last, &recovered, &counters)) {
      if (recovered == JH_STATE_BLOCKED) {
        t->validation = 1;
        t->resume_of = last->id;
        free(counters);
        continue;
      }
      set_phase(r, t, PH_DONE);
      t->state = recovered;
      t->produced_output = 1;
      t->started_ms = last->started_ms;
      t->ended_ms = jh_now_ms();
      set_message(t, "its changes were committed; then the host ended "
                     "while the task ran");
      free(t->counters);
      t->counters = counters;
      continue;
    }
    switch (last->state) {
    case JH_STATE_SUCCEEDED:
    case JH_STATE_WARNING:
    case JH_STATE_ERROR:
    case JH_STATE_SKIPPED:
      set_phase(r, t, PH_DONE);
      t->state = last->state;
      t->produced_output = last->produced_output;
      t->started_ms = last->started_ms;
      t->ended_ms = last->ended_ms;
      set_message(t, last->message);
      t->counters = last->counters_json ? strdup(last->counters_json) : NULL;
      /* An untolerated Error ended the job: resuming it starts nothing. */
      if (last->state == JH_STATE_ERROR && !r->stop) {
        r->stop = 1;
        r->stopped_by = t->def->id;
        r->stopped_state = JH_STATE_ERROR;
      }
      break;
    case JH_STATE_BLOCKED:
      t->validation = 1;
      t->resume_of = last->id;
      break;
    case JH_STATE_RUNNING: /* its host died under it */
      store_check(r,
                  jh_store_task_finish(r->store, last->id, JH_STATE_CANCELLED,
                                       "interrupted: the host ended while "
                                       "the task ran",
                                       0, NULL),
                  "a task");
      break;
    default:
      break;
    }
  }
  jh_task_rows_free(rows, n);
  return 0;
}

/* What the task's type declares about dirty flags. */
static void task_flags(task_run *t) {
  const jobhost_task_type *tt = t->def->task_type;
  const jh_value *dirty = jh_task_value(t->def, JOBHOST_PARAM_NAME_DIRTY);
  unsigned flags = tt != NULL ? tt->flags : 0;
  t->sets_dirty = (flags & JOBHOST_TASK_SETS_DIRTY) != 0;
  t->reads_dirty = (flags & JOBHOST_TASK_READS_DIRTY) != 0 && dirty != NULL &&
                   dirty->text != NULL && strcmp(dirty->text, "true") == 0;
}

/* Read the last result in this job of every parent outside the
 * selection (the latest task instance of its id in the store). */
static int load_outside_results(run *r) {
  const jh_graph *g = r->job->graph;
  for (size_t i = 0; i < r->n; i++) {
    if (r->t[i].ph == PH_EXCLUDED)
      continue;
    for (size_t k = 0; k < g->nparents[i]; k++) {
      task_run *p = &r->t[g->parents[i][k]];
      jh_task_row row;
      int rc;
      if (p->ph != PH_EXCLUDED || p->last_known)
        continue;
      rc = jh_store_task_last(r->store, r->job->pipeline->job_id, p->def->id,
                              &row, &p->last_instance);
      if (rc == -ENOENT)
        continue;
      if (rc != 0)
        return rc;
      p->last_known = 1;
      p->last_state = row.state;
      p->last_output = row.produced_output;
      jh_task_row_clear(&row);
    }
  }
  return 0;
}

/* ---- the end of the job ---- */

/*
 * After a failed write of the store (a full disk, typically), the rows of
 * the tasks launched in this run are written again, so that the store
 * says how each really ended; the store's reserve (jh_store_keep_reserve)
 * gives these writes room. On success the failure no longer makes the
 * job an Error: its message says what happened.
 */
static void rerecord(run *r) {
  int rc = 0;
  if (!r->store_error)
    return;
  for (size_t i = 0; rc == 0 && i < r->n; i++) {
    task_run *t = &r->t[i];
    jh_task_row row;
    if (t->ph != PH_DONE || t->attempts == 0 || t->task_instance == 0)
      continue;
    memset(&row, 0, sizeof(row));
    row.id = t->task_instance;
    row.task_id = (char *)t->def->id;
    row.task_type = (char *)t->def->type;
    row.level = t->level;
    row.attempt = t->attempt_base + t->attempts;
    row.state = t->state;
    row.started_ms = t->started_ms;
    row.ended_ms = t->ended_ms;
    row.produced_output = t->produced_output;
    row.counters_json = t->counters;
    row.message = t->message;
    row.log_path = t->log_path;
    rc = jh_store_task_rerecord(r->store, r->instance, &row,
                                &t->task_instance);
  }
  if (rc != 0) {
    note(r, "store: cannot record the tasks' ends again: %s",
         jh_store_errmsg(r->store));
    return;
  }
  note(r, "store: every task's end is recorded again%s",
       jh_store_reserve_released(r->store)
           ? " (the store's reserve file was used: free space on its disk)"
           : "");
  r->store_error = 0;
  r->store_recovered = 1;
}

static jh_state job_state(const run *r) {
  jh_plan_tally tally;
  memset(&tally, 0, sizeof(tally));
  for (size_t i = 0; i < r->n; i++)
    if (r->t[i].ph == PH_DONE && r->t[i].state <= JH_STATE_INTERRUPTED)
      tally.count[r->t[i].state]++;
  return jh_plan_job_state(&tally, r->cancelled,
                           r->store_error != 0 || r->fs_failed);
}

static void finish_rest(run *r) {
  char why[300];
  for (size_t i = 0; i < r->n; i++) {
    task_run *t = &r->t[i];
    if (t->ph != PH_PENDING)
      continue;
    if (r->cancelled)
      finish_unlaunched(r, t, JH_STATE_NOT_STARTED,
                        "the job was cancelled before the task started");
    else {
      if (r->stopped_by == NULL && r->fs_failed)
        snprintf(why, sizeof(why), "the job stopped: the fork server died "
                                   "and could not be started again");
      else
        snprintf(why, sizeof(why), "the job stopped when %s ended",
                 r->stopped_by ? r->stopped_by : "a task");
      finish_unlaunched(r, t, JH_STATE_NOT_STARTED, why);
    }
  }
}

static void summary(run *r, jh_state state, int64_t started_ms) {
  size_t count[JH_STATE_INTERRUPTED + 1] = {0};
  FILE *f = r->opt->progress;
  if (f == NULL)
    return;
  status_clear(r);
  fprintf(f, "\n%-36s %-28s %-10s %s\n", "TASK", "TYPE", "STATE", "MESSAGE");
  for (size_t k = 0; k < r->n; k++) {
    const task_run *t = &r->t[r->job->graph->steps[k]];
    if (t->ph == PH_EXCLUDED)
      continue;
    count[t->state]++;
    fprintf(f, "%-36s %-28s %-10s %s\n", t->def->id, t->def->type,
            jh_state_name(t->state), t->message ? t->message : "");
  }
  fprintf(f, "\njob %s, instance %lld: %s in %.1f s (", r->job->pipeline->job_id,
          (long long)r->instance, jh_state_name(state),
          (double)(jh_now_ms() - started_ms) / 1000.0);
  for (int s = 0, first = 1; s <= JH_STATE_INTERRUPTED; s++)
    if (count[s] > 0) {
      fprintf(f, "%s%zu %s", first ? "" : ", ", count[s],
              jh_state_name((jh_state)s));
      first = 0;
    }
  fprintf(f, ")\n");
  fflush(f);
}

static void build_report_tasks(run *r, jh_report_task *rt, size_t *nrt) {
  size_t n = 0;
  for (size_t k = 0; k < r->n; k++) {
    const task_run *t = &r->t[r->job->graph->steps[k]];
    if (t->ph == PH_EXCLUDED)
      continue;
    rt[n].id = t->def->id;
    rt[n].type = t->def->type;
    rt[n].level = t->level;
    rt[n].state = t->state;
    rt[n].produced_output = t->produced_output;
    rt[n].started_ms = t->started_ms;
    rt[n].ended_ms = t->ended_ms;
    rt[n].attempts = t->attempt_base + t->attempts;
    rt[n].counters_json = t->counters;
    rt[n].message = t->message;
    n++;
  }
  *nrt = n;
}

int jh_execute(const jh_job *job, const jh_home *home, jh_store *store,
               int64_t instance, const jh_exec_options *opt, jh_state *state,
               char **report) {
  struct sigaction old[NSIGS];
  jh_report_task *rt = NULL;
  size_t nrt = 0;
  run r;
  int rc;
  int64_t started_ms = jh_now_ms();

  memset(&r, 0, sizeof(r));
  /* The fork server first, while the host is small: each worker is a copy
   * of it. */
  if (opt->isolation == JH_ISOLATION_PROCESS && opt->forkserver != NULL) {
    r.fs = opt->forkserver;
  } else if (opt->isolation == JH_ISOLATION_PROCESS) {
    rc = jh_forkserver_start(job->pipeline, home, job->reg, &r.fs);
    if (rc != 0)
      return rc;
    r.own_fs = 1;
  }
  r.job = job;
  r.home = home;
  r.store = store;
  r.instance = instance;
  r.opt = opt;
  r.n = job->pipeline->ntasks;
  r.t = calloc(r.n ? r.n : 1, sizeof(*r.t));
  rt = calloc(r.n ? r.n : 1, sizeof(*rt));
  r.running = calloc(r.n ? r.n : 1, sizeof(*r.running));
  r.pollfds = calloc(2 * r.n + 2, sizeof(*r.pollfds));
  r.pollowner = calloc(2 * r.n + 2, sizeof(*r.pollowner));
  if (r.t == NULL || rt == NULL || r.running == NULL || r.pollfds == NULL ||
      r.pollowner == NULL) {
    if (r.own_fs)
      jh_forkserver_stop(r.fs);
    free(r.running);
    free(r.t);
    free(rt);
    free(r.pollfds);
    free(r.pollowner);
    return -ENOMEM;
  }
  for (size_t i = 0; i < r.n; i++) {
    r.t[i].def = &job->pipeline->tasks[i];
    r.t[i].level = job->graph->level[i];
    task_flags(&r.t[i]);
    r.t[i].worker.fd = r.t[i].worker.out_fd = -1;
    r.t[i].outcome.produced_output = -1;
  }
  for (size_t k = 0; k < r.n; k++)
    r.t[job->graph->steps[k]].group = jh_plan_group(job->graph, k);
  select_tasks(&r);
  rc = load_outside_results(&r);
  if (rc == 0 && opt->resume)
    rc = apply_history(&r);
  if (rc == 0)
    rc = signals_install(old);
  if (rc == 0) {
    note(&r, "job %s, instance %lld: %s", job->pipeline->job_id,
         (long long)instance, opt->resume ? "resumed" : "started");
    rc = loop(&r);
    if (rc != 0) { /* the loop itself failed: stop everything */
      signal_all(&r, SIGKILL, 0);
      r.stop = 1;
      while (r.nrunning > 0) {
        wait_events(&r);
        collect_ended(&r);
      }
    }
    signals_restore(old);
    if (r.own_fs)
      jh_forkserver_stop(r.fs);
    r.fs = NULL;
    finish_rest(&r);
    rerecord(&r);
    *state = job_state(&r);
    if (rc != 0)
      *state = JH_STATE_ERROR;
    build_report_tasks(&r, rt, &nrt);
    *report = jh_report_json(job->pipeline->job_id, instance, *state,
                             started_ms, jh_now_ms(), rt, nrt);
    {
      char why[800] = "";
      if (r.cancelled)
        snprintf(why, sizeof(why), "cancelled");
      else if (r.stopped_by != NULL)
        snprintf(why, sizeof(why), "stopped when %s ended", r.stopped_by);
      else if (r.store_recovered)
        snprintf(why, sizeof(why), "the store failed %.200s; every task's "
                 "end was recorded again", r.store_why);
      if (r.fs_note[0] != '\0')
        snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s%s",
                 why[0] ? "; " : "", r.fs_note);
      store_check(&r,
                  jh_store_job_finish(store, instance, *state,
                                      why[0] ? why : NULL, *report),
                  "the job");
    }
    summary(&r, *state, started_ms);
    if (*report == NULL)
      rc = -ENOMEM;
  }
  for (size_t i = 0; i < r.n; i++) {
    attempt_cleanup(&r.t[i]);
    jh_outcome_clear(&r.t[i].outcome);
    free(r.t[i].message);
    free(r.t[i].progress_seen);
    free(r.t[i].counters);
    free(r.t[i].log_path);
  }
  if (r.own_fs)
    jh_forkserver_stop(r.fs);
  free(r.t);
  free(rt);
  free(r.running);
  free(r.pollfds);
  free(r.pollowner);
  return rc != 0 ? rc : r.store_error;
}
