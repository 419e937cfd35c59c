/*
 * executor.c — the job state machine (see executor.h).
 *
 * The plan (plan.h) decides; the executor does the I/O around it: it
 * records each decision in the store, starts attempts through a runner
 * (runner.h), waits for them, signals and deadlines, and prints progress
 * (progress.h). One loop: start what may start, wait for reports,
 * signals and deadlines, end what has ended, until nothing runs and
 * nothing may start.
 */
#include "config.h"

#include "executor.h"
#include "export_output.h"

#include "atomic_file.h"
#include "faultpoint.h"
#include "change_report.h"
#include "idstore.h"
#include "instance_id.h"
#include "timefmt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "plan.h"
#include "progress.h"
#include "report.h"
#include "runner.h"

/* What the executor keeps of a task besides the plan's view of it. */
typedef struct task_run {
  const jh_task_def *def;
  int attempt_base; /* attempts recorded by earlier runs of the instance */
  int64_t resume_of;
  int64_t task_instance;
  int64_t started_ms, ended_ms; /* wall clock of the last attempt */
  int64_t progress_at;          /* monotonic ms of the last progress recorded */
  char *progress_seen; /* what was recorded then (message and counters) */
  char *message;
  char *counters; /* JSON object text */
  jh_outcome outcome;
  char *log_path; /* of the current attempt */
  char *work_dir;
} task_run;

typedef struct run {
  const jh_job *job;
  const jh_home *home;
  jh_store *store;
  int64_t instance;
  const jh_exec_options *opt;
  jh_plan plan;
  task_run *t;
  size_t n;
  jh_runner *runner;
  jh_progress progress;
  int runner_failed;            /* the runner could start nothing any more */
  char runner_note[400];        /* what happened to it, for the job's record */
  int cancel_store;             /* the level last read from the store */
  sig_atomic_t store_asks_seen; /* sig_store_asks when it was read */
  int store_error;
  char store_why[600];  /* the first failure to record, for the job */
  char batch_what[300]; /* the first task end of the open batch */
  size_t *launch;       /* the tasks one turn starts, r->n at most */
  int store_recovered;  /* every end was recorded again after it */
} run;

#define note(r, ...) jh_progress_note(&(r)->progress, __VA_ARGS__)

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
/* The cancel flag of attempts run in the host (runner_inproc.c): set here
 * too, since the loop does not turn while such an attempt runs. */
static volatile sig_atomic_t task_cancel;

static void on_signal(int sig) {
  int saved = errno;
  char c = (char)sig;
  if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
    sig_cancel_count++;
    if (sig_cancel_count >= 2)
      task_cancel = 1;
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
  task_cancel = 0;
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

static const char *task_id(const run *r, size_t i) {
  return r->plan.t[i].def->id;
}

/* The id of the task that stopped the job, or NULL. */
static const char *stopped_by(const run *r) {
  return r->plan.stopped_by != JH_PLAN_NONE ? task_id(r, r->plan.stopped_by)
                                            : NULL;
}

/* ---- progress ---- */

/* The status line: the first running tasks, in task order. */
static void status_draw(run *r) {
  jh_progress_item items[JH_PROGRESS_ITEMS];
  size_t shown = 0;
  if (!r->progress.live)
    return;
  for (size_t i = 0; i < r->n && shown < JH_PROGRESS_ITEMS; i++)
    if (r->plan.t[i].phase == JH_PHASE_RUNNING) {
      items[shown].id = task_id(r, i);
      items[shown].done = r->t[i].outcome.progress_done;
      items[shown].total = r->t[i].outcome.progress_total;
      shown++;
    }
  jh_progress_status(&r->progress, r->plan.ndone, r->plan.nselected, items,
                     shown, r->plan.nrunning);
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

/* A task that will not be launched in this run. */
static void finish_unlaunched(run *r, size_t i, jh_state state,
                              const char *why) {
  const jh_plan_task *pt = &r->plan.t[i];
  jh_plan_skip(&r->plan, i, state);
  set_message(&r->t[i], why);
  store_check(r,
              jh_store_task_record(r->store, r->instance, pt->def->id,
                                   pt->def->type, pt->level, state, why),
              "a task");
}

/* ---- ending an attempt ---- */

static void discard_export(run *r, task_run *t) {
  const jh_value *conn = jh_task_value(t->def, JOBHOST_PARAM_NAME_CONNECTION);
  int rc;
  if (conn == NULL || conn->text == NULL)
    return;
  rc = jh_export_output_discard(r->home->folders[JOBHOST_FOLDER_EXPORT_OUTPUT],
                                conn->text);
  if (rc != 0)
    note(r, "%s: cannot remove the tables of connection %s: %s", t->def->id,
         conn->text, jobhost_strerror(rc));
}

/* How an attempt that sent no result ended, as the host saw it. */
static void describe_end(const run *r, size_t i, const jh_run_end *e,
                         int stopped, char *how, size_t size) {
  const jh_plan_task *pt = &r->plan.t[i];
  int killed = WIFSIGNALED(e->status) && WTERMSIG(e->status) == SIGKILL;
  if (pt->timed_out)
    snprintf(how, size, "timed out after %ld ms%s", pt->def->timeout_ms,
             killed ? " (killed)" : "");
  else if (e->lost)
    snprintf(how, size, "the fork server died, and the worker with it");
  else if (stopped)
    snprintf(how, size, "stopped by the cancel (%s)",
             killed ? "killed after the grace period"
                    : "it ended without a result");
  else
    jh_worker_describe_exit(e->status, how, size);
}

/* The state of an attempt from its result; the host's side of the story
 * in why. A task that reported its result is recorded with it, even when
 * a cancel came meanwhile; one that ended without a result is Cancelled
 * when the cancel stopped it, else Error — unless it had said its
 * transaction was committed: then it Succeeded (its changes applied) or is
 * Blocked (its changes held), and the message says what came after. */
static jh_state attempt_state(run *r, size_t i, const jh_run_end *e, char *why,
                              size_t size) {
  const jh_plan_task *pt = &r->plan.t[i];
  const jh_outcome *o = &r->t[i].outcome;
  int stopped = r->plan.cancel_now && pt->term_sent && !pt->timed_out;
  char how[300];

  if (o->has_result && pt->timed_out && o->result != 0) {
    snprintf(why, size, "timed out after %ld ms", pt->def->timeout_ms);
    return JH_STATE_ERROR;
  }
  if (o->has_result) {
    const jobhost_task_type *tt = pt->def->task_type;
    jh_state state = jh_plan_result_state(o->result, pt->def->type,
                                          tt != NULL ? tt->flags : 0, why,
                                          size);
    if (state == JH_STATE_SUCCEEDED && stopped)
      snprintf(why, size,
               "the cancel came too late: the task had done its "
               "work");
    return state;
  }
  describe_end(r, i, e, stopped, how, sizeof(how));
  if (o->committed == JH_COMMITTED_HELD) {
    snprintf(why, size,
             "its changes were committed held over a threshold; "
             "then %s; `jobhost resume %lld` applies them",
             how, (long long)r->instance);
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
  store_check(r, jh_store_task_clear_log(r->store, t->task_instance), "a task");
}

/* A validation of held changes that failed (its worker killed, the disk
 * full, ...) committed nothing: the changes stay held and the task is
 * Blocked again, so that the instance can still be resumed
 * (doc/jobs.md). */
static void validation_failed(run *r, task_run *t) {
  char msg[1200];
  snprintf(msg, sizeof(msg),
           "the validation of the held changes failed: "
           "%s; they stay held, `jobhost resume %lld` validates them again",
           t->message != NULL ? t->message : "no reason given",
           (long long)r->instance);
  set_message(t, msg);
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
 * Whether the synchronization task instance whose log is log_path
 * committed its transaction: its change report is in place exactly when
 * it did, once the reports of committed transactions are settled
 * (jh_idstore_finish_committed, which also removes the batches they
 * consumed); report receives the report's path. JH_COMMITTED_HELD when
 * it held its changes,
 * JH_COMMITTED_APPLIED when it applied them, 0 when it committed nothing
 * or that cannot be told.
 */
static int committed_by_report(run *r, const char *task_id,
                               const char *log_path, int64_t task_instance,
                               char report[PATH_MAX]) {
  char msg[300];
  int held;
  if (log_path == NULL ||
      jh_change_report_path(log_path, report, PATH_MAX) != 0 ||
      access(r->home->identity_store_path, F_OK) != 0)
    return 0;
  if (jh_idstore_finish_committed(r->home->identity_store_path,
                                  r->home->folders[JOBHOST_FOLDER_COLLECT], msg,
                                  sizeof(msg)) != 0)
    note(r,
         "%s: what follows its commit is left for the next "
         "synchronization: %s",
         task_id, msg);
  if (access(report, F_OK) != 0)
    return 0;
  held = jh_idstore_held_by(r->home->identity_store_path, task_instance);
  if (held < 0)
    return 0;
  return held ? JH_COMMITTED_HELD : JH_COMMITTED_APPLIED;
}

/*
 * What follows the commit of a synchronization killed before it reported
 * its result. When it had told the host of its commit, the host finishes
 * what the task left undone (its change report put in place, the batches
 * it consumed removed). When it died between its commit and that notice,
 * the host learns the commit from the stores (committed_by_report, which
 * finishes the same), so that the task is not recorded as if nothing had
 * been written. The counters of its change report then (owned), else NULL.
 */
static char *settle_commit(run *r, size_t i) {
  task_run *t = &r->t[i];
  jh_outcome *o = &t->outcome;
  char report[PATH_MAX], err[512];
  if (o->has_result || access(r->home->identity_store_path, F_OK) != 0)
    return NULL;
  if (o->committed) {
    if (jh_idstore_finish_committed(r->home->identity_store_path,
                                    r->home->folders[JOBHOST_FOLDER_COLLECT],
                                    err, sizeof(err)) != 0)
      note(r,
           "%s: what follows its commit is left for the next "
           "synchronization: %s",
           task_id(r, i), err);
    return NULL;
  }
  if (!(jh_task_flags(t->def) & JOBHOST_TASK_SYNCHRONIZES))
    return NULL;
  o->committed = committed_by_report(r, task_id(r, i), t->log_path,
                                     t->task_instance, report);
  return o->committed ? report_counters(report) : NULL;
}

/* The message: the task's own, else what the host saw, else the code. */
static void attempt_message(task_run *t, const char *why) {
  const jh_outcome *o = &t->outcome;
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
}

/* The log is made on the task's first output line; an attempt that did
 * not succeed always gets one, ending with why. */
static void log_trailer(task_run *t, int attempt, jh_state state, int64_t now) {
  FILE *log;
  if (state == JH_STATE_SUCCEEDED && t->outcome.log == NULL)
    return;
  jh_outcome_log_dropped_note(&t->outcome);
  log = jh_outcome_log(&t->outcome);
  if (log != NULL)
    fprintf(log, "# attempt %d ended %s after %lld ms%s%s\n", attempt,
            jh_state_name(state), (long long)(now - t->started_ms),
            t->message ? ": " : "", t->message ? t->message : "");
}

/* A failed attempt that is tried again: recorded as it ended. */
static void record_retry(run *r, size_t i, jh_state state, long delay) {
  const jh_plan_task *pt = &r->plan.t[i];
  task_run *t = &r->t[i];
  char msg[1200], what[300];
  snprintf(msg, sizeof(msg), "%s (attempt %d of %d; retrying in %ld ms)",
           t->message ? t->message : "failed", pt->attempts,
           pt->def->retries + 1, delay);
  snprintf(what, sizeof(what), "task %s (%s)", pt->def->id,
           jh_state_name(state));
  store_check(r,
              jh_store_task_finish(r->store, t->task_instance, state, msg, 0,
                                   t->counters),
              what);
  forget_missing_log(r, t);
  note(r, "%s attempt %d failed: %s", pt->def->id, pt->attempts, msg);
}

static void record_end(run *r, size_t i, jh_state state) {
  const jh_plan_task *pt = &r->plan.t[i];
  task_run *t = &r->t[i];
  char what[300];
  snprintf(what, sizeof(what), "task %s (%s)", pt->def->id,
           jh_state_name(state));
  store_check(r,
              jh_store_task_finish(r->store, t->task_instance, state,
                                   t->message, pt->produced_output,
                                   t->counters),
              what);
  forget_missing_log(r, t);
  note(r, "%s %s in %lld ms%s%s", pt->def->id, jh_state_name(state),
       (long long)(t->ended_ms - t->started_ms), t->message ? ": " : "",
       t->message ? t->message : "");
}

static void end_attempt(run *r, size_t i, const jh_run_end *e) {
  const jh_plan_task *pt = &r->plan.t[i];
  task_run *t = &r->t[i];
  const jh_outcome *o = &t->outcome;
  char why[512];
  jh_plan_end end;
  jh_state state;
  char *learned;
  int output;

  why[0] = '\0';
  learned = settle_commit(r, i);
  state = attempt_state(r, i, e, why, sizeof(why));
  if (e->proto_error && state == JH_STATE_SUCCEEDED) {
    state = JH_STATE_ERROR;
    snprintf(why, sizeof(why), "worker sent a malformed report");
  }
  attempt_message(t, why);
  free(t->counters);
  t->counters = learned != NULL ? learned : jh_outcome_counters_json(o);
  output = o->produced_output < 0 ? state == JH_STATE_SUCCEEDED
                                  : o->produced_output;
  t->ended_ms = jh_now_ms();
  /* An export that did not succeed leaves no table of its connection for
   * prepare to read as if it were current (doc/synchronization.md), even
   * when its worker crashed or timed out before it could clean up. */
  if (state != JH_STATE_SUCCEEDED &&
      (jh_task_flags(t->def) & JOBHOST_TASK_EXPORTS))
    discard_export(r, t);
  log_trailer(t, t->attempt_base + pt->attempts, state, t->ended_ms);
  jh_plan_attempt_ended(&r->plan, i, state, output, mono_ms(), &end);
  if (end.retry) {
    record_retry(r, i, state, end.delay_ms);
    return;
  }
  if (end.validation_failed)
    validation_failed(r, t);
  record_end(r, i, end.state);
}

static void attempt_cleanup(task_run *t) {
  jh_outcome_close_log(&t->outcome);
  t->outcome.log_path = NULL;
  rmtree_if_exists(t->work_dir);
  free(t->work_dir);
  t->work_dir = NULL;
}

/* Every attempt that has ended is recorded. */
static void collect_ended(run *r) {
  jh_run_end e;
  while (r->runner->ops->take_ended(r->runner, &e)) {
    jh_fault_point("exec.result_received");
    end_attempt(r, e.index, &e);
    attempt_cleanup(&r->t[e.index]);
  }
}

/* ---- starting an attempt ---- */

static int prepare_attempt(run *r, task_run *t, int attempt) {
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

/* NULL when task i may start; else why it is Skipped, in why. */
static const char *start_block(run *r, size_t i, char *why, size_t size) {
  const char *block = NULL;
  if (r->opt->leave_out != NULL && !r->plan.t[i].validation)
    block = r->opt->leave_out(r->opt->leave_out_arg, r->t[i].def, r->instance,
                              why, size);
  return block != NULL ? block : jh_plan_start_verdict(&r->plan, i, why, size);
}

/* The attempt starts in the plan and in the store; its log and work
 * folder are named. 0, or the failure (the task then ended Error). */
static int record_start(run *r, size_t i, int64_t now) {
  task_run *t = &r->t[i];
  int attempt, rc;
  jh_plan_started(&r->plan, i, now);
  attempt = t->attempt_base + r->plan.t[i].attempts;
  jh_outcome_clear(&t->outcome);
  t->progress_at = 0;
  free(t->progress_seen);
  t->progress_seen = NULL;
  t->started_ms = jh_now_ms();
  rc = prepare_attempt(r, t, attempt);
  if (rc == 0)
    rc = jh_store_task_start(r->store, r->instance, t->def->id, t->def->type,
                             r->plan.t[i].level, attempt, t->log_path,
                             &t->task_instance);
  if (rc == 0)
    return 0;
  note(r, "%s cannot start: %s", t->def->id,
       rc == -EIO ? jh_store_errmsg(r->store) : jobhost_strerror(rc));
  attempt_cleanup(t);
  jh_plan_start_failed(&r->plan, i);
  set_message(t, "the host could not prepare the task");
  r->store_error = rc == -EIO ? rc : r->store_error;
  return rc;
}

/* Task i, next in the plan, is Skipped or recorded as started: 1 when it
 * is to be launched, else 0. */
static int begin_start(run *r, size_t i, int64_t now) {
  char why[600];
  const char *block = start_block(r, i, why, sizeof(why));
  if (block != NULL) {
    finish_unlaunched(r, i, JH_STATE_SKIPPED, block);
    note(r, "%s Skipped: %s", r->t[i].def->id, block);
    return 0;
  }
  return record_start(r, i, now) == 0;
}

/* The recorded attempt of task i is handed to the runner. */
static void launch(run *r, size_t i) {
  task_run *t = &r->t[i];
  int validation = r->plan.t[i].validation;
  jh_runner_task rt;
  int rc;

  /* The log is made by the worker (which writes its header and sends its
   * stdout and stderr there), or by the host on the first log record. */
  t->outcome.log_path = t->log_path;
  t->outcome.task_id = t->def->id;
  rt.index = i;
  rt.task_instance = t->task_instance;
  rt.force = r->opt->force || validation;
  rt.resume_of = validation ? t->resume_of : 0;
  rt.work_dir = t->work_dir;
  note(r, "%s (%s) started%s", t->def->id, t->def->type,
       validation ? " to validate the blocked run" : "");
  rc = r->runner->ops->start(r->runner, &rt, &t->outcome);
  if (r->runner->failed)
    jh_plan_halt(&r->plan);
  if (rc != 0) { /* it ends at once, with that error as its result */
    jh_run_end e = {.index = i};
    t->outcome.has_result = 1;
    t->outcome.result = rc;
    set_message(t, NULL);
    end_attempt(r, i, &e);
    attempt_cleanup(t);
  } else if (r->runner->inline_tasks) {
    collect_ended(r);
  }
}

/* What one turn of the loop records (tasks ending, tasks starting) is
 * written in one transaction; never across a wait, so that `jobhost
 * cancel` and `history` are not kept waiting. A runner that runs attempts
 * inside start() would hold it across them: there each write commits on
 * its own. */
static void batch_begin(run *r) {
  r->batch_what[0] = '\0';
  if (!r->runner->inline_tasks)
    store_check(r, jh_store_batch_begin(r->store), "a batch");
}

static void batch_end(run *r) {
  char what[300];
  snprintf(what, sizeof(what), "%s",
           r->batch_what[0] ? r->batch_what : "a batch");
  if (!r->runner->inline_tasks)
    store_check(r, jh_store_batch_end(r->store), what);
}

/* Start what may start now. What this turn recorded (the ends that let
 * these tasks start, and their starts) is committed before any of them
 * runs, so that no task runs ahead of the record of what it follows. A
 * runner that runs attempts inside start() runs each before the plan
 * names the next. */
static void schedule(run *r) {
  int64_t now = mono_ms();
  size_t i, n = 0;
  while ((i = jh_plan_next(&r->plan, now)) != JH_PLAN_NONE) {
    if (!begin_start(r, i, now))
      continue;
    if (r->runner->inline_tasks)
      launch(r, i);
    else
      r->launch[n++] = i;
  }
  if (n == 0)
    return;
  batch_end(r);
  batch_begin(r);
  for (size_t k = 0; k < n; k++)
    launch(r, r->launch[k]);
}

/* ---- cancel and deadlines ---- */

static void signal_all(run *r, int sig, long grace_ms) {
  int64_t now = mono_ms();
  for (size_t k = 0; k < r->plan.nrunning; k++) {
    size_t i = r->plan.running[k];
    jh_run_state st = r->runner->ops->state(r->runner, i);
    if (st != JH_RUN_STARTING && st != JH_RUN_ALIVE)
      continue;
    r->runner->ops->signal(r->runner, i, sig);
    if (sig == SIGTERM)
      jh_plan_ask_stop(&r->plan, i, now, grace_ms);
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
  int changed = jh_plan_cancel(&r->plan, cancel_level(r));
  size_t n = r->plan.nrunning;
  if ((changed & JH_PLAN_CANCELLED) && n > 0)
    note(r,
         "cancel requested: the job ends Cancelled; no new task "
         "starts; the %zu running task%s finish%s (cancel --now or a "
         "second signal stops them)",
         n, n == 1 ? "" : "s", n == 1 ? "es" : "");
  else if (changed & JH_PLAN_CANCELLED)
    note(r, "cancel requested: the job ends Cancelled; no new task starts");
  if (changed & JH_PLAN_CANCEL_NOW) {
    task_cancel = 1;
    if (n > 0)
      note(r,
           "cancel now: running tasks are asked to stop, and killed "
           "%ld ms later",
           r->opt->grace_ms);
    signal_all(r, SIGTERM, r->opt->grace_ms);
  }
  if (sig_cancel_count > 2)
    signal_all(r, SIGKILL, 0); /* asked three times: stop at once */
}

static void check_deadlines(run *r, int64_t now) {
  for (size_t k = 0; k < r->plan.nrunning; k++) {
    size_t i = r->plan.running[k];
    jh_run_state st = r->runner->ops->state(r->runner, i);
    if (st != JH_RUN_STARTING && st != JH_RUN_ALIVE)
      continue;
    switch (jh_plan_due_of(&r->plan, i, now, r->opt->grace_ms)) {
    case JH_DUE_TIMEOUT:
      note(r, "%s timed out after %ld ms: asking it to stop", task_id(r, i),
           r->plan.t[i].def->timeout_ms);
      r->runner->ops->signal(r->runner, i, SIGTERM);
      break;
    case JH_DUE_KILL: {
      FILE *log = jh_outcome_log(&r->t[i].outcome);
      if (log != NULL)
        fprintf(log, "# no end %ld ms after SIGTERM: SIGKILL\n",
                r->opt->grace_ms);
      r->runner->ops->signal(r->runner, i, SIGKILL);
      break;
    }
    default:
      break;
    }
  }
}

/* The job stopped while tasks waited for a retry: they will not start
 * again. Cancelled when the job was cancelled, else their last attempt's
 * failure stands (Error, or Warning with continue_on_error); the report
 * and the task's row in the store say the same. */
static void end_waiting_retries(run *r) {
  for (size_t i = 0; r->plan.nretry > 0 && i < r->n; i++) {
    task_run *t = &r->t[i];
    char msg[1200];
    jh_state state;
    if (r->plan.t[i].phase != JH_PHASE_WAIT_RETRY)
      continue;
    state = jh_plan_drop_retry(&r->plan, i);
    if (state == JH_STATE_CANCELLED)
      snprintf(msg, sizeof(msg),
               "the job was cancelled while the task "
               "waited for a retry; last attempt: %s",
               t->message ? t->message : "failed");
    else
      snprintf(msg, sizeof(msg),
               "%s (no retry: the job stopped when %s "
               "ended)",
               t->message ? t->message : "failed",
               stopped_by(r) ? stopped_by(r) : "a task");
    set_message(t, msg);
    store_check(r,
                jh_store_task_finish(r->store, t->task_instance, state, msg, 0,
                                     t->counters),
                "a task");
    note(r, "%s %s: %s", t->def->id, jh_state_name(state), msg);
  }
}

/* ---- progress in the store ---- */

/* A task's progress line and counters, recorded while it runs, at most once
 * a second per task and only when they changed: `jobhost show` tells how
 * far it got. Its final message replaces the line when it ends. */
#define PROGRESS_EVERY_MS 1000

static void progress_line(const jh_outcome *o, char *line, size_t size) {
  if (o->progress_total > 0)
    snprintf(line, size, "running: %llu of %llu (%llu%%)",
             (unsigned long long)o->progress_done,
             (unsigned long long)o->progress_total,
             (unsigned long long)(o->progress_done * 100 / o->progress_total));
  else if (o->progress_done > 0)
    snprintf(line, size, "running: %llu done",
             (unsigned long long)o->progress_done);
  else
    snprintf(line, size, "running");
}

static void record_progress(run *r, task_run *t, int64_t now) {
  const jh_outcome *o = &t->outcome;
  char line[200], *counters, *seen;
  if (now - t->progress_at < PROGRESS_EVERY_MS ||
      (o->progress_total == 0 && o->progress_done == 0 && o->ncounters == 0))
    return;
  t->progress_at = now;
  progress_line(o, line, sizeof(line));
  counters = jh_outcome_counters_json(o);
  if (counters == NULL || asprintf(&seen, "%s\n%s", line, counters) < 0) {
    free(counters);
    return;
  }
  if (t->progress_seen == NULL || strcmp(seen, t->progress_seen) != 0) {
    char what[300];
    snprintf(what, sizeof(what), "task %s (its progress)", t->def->id);
    store_check(
        r, jh_store_task_progress(r->store, t->task_instance, line, counters),
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
  for (size_t k = 0; k < r->plan.nrunning; k++) {
    size_t i = r->plan.running[k];
    if (r->runner->ops->state(r->runner, i) == JH_RUN_ALIVE)
      record_progress(r, &r->t[i], now);
  }
}

/* ---- the loop ---- */

/* Wait for what comes next: reports, ends, signals, deadlines. */
static int wait_events(run *r) {
  int64_t now = mono_ms();
  int rc = r->runner->ops->wait(r->runner, sig_pipe[0],
                                jh_plan_next_wakeup(&r->plan, now, 1000) - now);
  if (r->runner->failed)
    jh_plan_halt(&r->plan);
  return rc;
}

static int loop(run *r) {
  for (;;) {
    int rc;
    batch_begin(r);
    collect_ended(r);
    record_all_progress(r);
    handle_cancel(r);
    schedule(r);
    if (r->plan.stop)
      end_waiting_retries(r);
    batch_end(r);
    if (!jh_plan_active(&r->plan))
      return 0;
    status_draw(r);
    rc = wait_events(r);
    if (rc != 0)
      return rc;
    check_deadlines(r, mono_ms());
  }
}

/* ---- resume ---- */

/*
 * A synchronization (a task of a JOBHOST_TASK_SYNCHRONIZES type, the type
 * its row records) whose host died while it ran may have committed
 * (committed_by_report). Then it is recorded from what the transaction
 * did — Blocked when it held its changes, else Succeeded — with the
 * counters its report lists (*counters, owned, may be NULL).
 * 1 when so recorded, else 0.
 */
static int recover_committed(run *r, const jh_task_def *def,
                             const jh_task_row *last, jh_state *state,
                             char **counters) {
  char report[PATH_MAX], msg[300];
  int committed, held;
  if (!(jh_task_flags(def) & JOBHOST_TASK_SYNCHRONIZES) ||
      strcmp(last->task_type, def->type) != 0)
    return 0;
  committed = committed_by_report(r, last->task_id, last->log_path, last->id,
                                  report);
  if (committed == 0)
    return 0;
  held = committed == JH_COMMITTED_HELD;
  *counters = report_counters(report);
  *state = held ? JH_STATE_BLOCKED : JH_STATE_SUCCEEDED;
  snprintf(msg, sizeof(msg),
           "its changes were committed%s; then the host "
           "ended while the task ran",
           held ? " held over a threshold" : "");
  store_check(r,
              jh_store_task_finish(r->store, last->id, *state, msg, !held,
                                   *counters),
              "a task");
  return 1;
}

/* A task whose host died under it, maybe after its commit: recorded from
 * what its transaction did (recover_committed). 1 when so, else 0. */
static int apply_recovered(run *r, size_t i, const jh_task_row *last) {
  task_run *t = &r->t[i];
  jh_state recovered;
  char *counters = NULL;
  if ((last->state != JH_STATE_RUNNING &&
       last->state != JH_STATE_INTERRUPTED) ||
      !recover_committed(r, t->def, last, &recovered, &counters))
    return 0;
  if (recovered == JH_STATE_BLOCKED) {
    jh_plan_resume_apply(&r->plan, i, JH_STATE_BLOCKED, 0);
    t->resume_of = last->id;
    free(counters);
    return 1;
  }
  jh_plan_resume_apply(&r->plan, i, recovered, 1);
  t->started_ms = last->started_ms;
  t->ended_ms = jh_now_ms();
  set_message(t, "its changes were committed; then the host ended "
                 "while the task ran");
  free(t->counters);
  t->counters = counters;
  return 1;
}

/* What task i's last row from an earlier run of the instance means: an
 * ended task keeps its state, a Blocked task is validated, the rest run. */
static void apply_row(run *r, size_t i, const jh_task_row *last) {
  task_run *t = &r->t[i];
  t->attempt_base = last->attempt;
  if (apply_recovered(r, i, last))
    return;
  jh_plan_resume_apply(&r->plan, i, last->state, last->produced_output);
  switch (last->state) {
  case JH_STATE_SUCCEEDED:
  case JH_STATE_WARNING:
  case JH_STATE_ERROR:
  case JH_STATE_SKIPPED:
    t->started_ms = last->started_ms;
    t->ended_ms = last->ended_ms;
    set_message(t, last->message);
    free(t->counters);
    t->counters = last->counters_json ? strdup(last->counters_json) : NULL;
    break;
  case JH_STATE_BLOCKED:
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

/* Apply the rows of an earlier run of the instance. */
static int apply_history(run *r) {
  jh_task_row *rows = NULL;
  size_t n = 0;
  int rc = jh_store_task_list(r->store, r->instance, &rows, &n);
  if (rc != 0)
    return rc;
  for (size_t i = 0; i < r->n; i++) {
    const jh_task_row *last = NULL;
    for (size_t k = 0; k < n; k++)
      if (strcmp(rows[k].task_id, task_id(r, i)) == 0)
        last = &rows[k];
    if (last != NULL && jh_plan_resume_select(&r->plan, i, last->state))
      apply_row(r, i, last);
  }
  jh_task_rows_free(rows, n);
  return 0;
}

/* Read the last result in this job of every parent outside the
 * selection (the latest task instance of its id in the store). */
static int load_outside_results(run *r) {
  for (size_t i = 0; i < r->n; i++) {
    jh_task_row row;
    int64_t instance;
    int rc;
    if (!jh_plan_needs_last_result(&r->plan, i))
      continue;
    rc = jh_store_task_last(r->store, r->job->pipeline->job_id, task_id(r, i),
                            &row, &instance);
    if (rc == -ENOENT)
      continue;
    if (rc != 0)
      return rc;
    jh_plan_set_last_result(&r->plan, i, row.state, row.produced_output,
                            instance);
    jh_task_row_clear(&row);
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
    const jh_plan_task *pt = &r->plan.t[i];
    task_run *t = &r->t[i];
    jh_task_row row;
    if (pt->phase != JH_PHASE_DONE || pt->attempts == 0 ||
        t->task_instance == 0)
      continue;
    memset(&row, 0, sizeof(row));
    row.id = t->task_instance;
    row.task_id = (char *)t->def->id;
    row.task_type = (char *)t->def->type;
    row.level = pt->level;
    row.attempt = t->attempt_base + pt->attempts;
    row.state = pt->state;
    row.started_ms = t->started_ms;
    row.ended_ms = t->ended_ms;
    row.produced_output = pt->produced_output;
    row.counters_json = t->counters;
    row.message = t->message;
    row.log_path = t->log_path;
    rc = jh_store_task_rerecord(r->store, r->instance, &row, &t->task_instance);
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
  jh_plan_tally_of(&r->plan, &tally);
  return jh_plan_job_state(&tally, r->plan.cancelled,
                           r->store_error != 0 || r->runner_failed);
}

/* The tasks that never started are NotStarted, with why. */
static void finish_rest(run *r) {
  char why[300];
  if (r->plan.cancelled)
    snprintf(why, sizeof(why), "the job was cancelled before the task started");
  else if (stopped_by(r) == NULL && r->runner_failed)
    snprintf(why, sizeof(why),
             "the job stopped: the fork server died "
             "and could not be started again");
  else
    snprintf(why, sizeof(why), "the job stopped when %s ended",
             stopped_by(r) ? stopped_by(r) : "a task");
  for (size_t i = 0; r->plan.npending > 0 && i < r->n; i++)
    if (r->plan.t[i].phase == JH_PHASE_PENDING)
      finish_unlaunched(r, i, JH_STATE_NOT_STARTED, why);
}

static void summary(run *r, jh_state state, int64_t started_ms) {
  size_t count[JH_STATE_INTERRUPTED + 1] = {0};
  jh_progress_table_head(&r->progress);
  for (size_t k = 0; k < r->n; k++) {
    size_t i = r->job->graph->steps[k];
    const jh_plan_task *pt = &r->plan.t[i];
    if (pt->phase == JH_PHASE_EXCLUDED)
      continue;
    count[pt->state]++;
    jh_progress_table_row(&r->progress, pt->def->id, pt->def->type, pt->state,
                          r->t[i].message);
  }
  jh_progress_job_line(&r->progress, r->job->pipeline->job_id, r->instance,
                       state, jh_now_ms() - started_ms, count);
}

static void build_report_tasks(run *r, jh_report_task *rt, size_t *nrt) {
  size_t n = 0;
  for (size_t k = 0; k < r->n; k++) {
    size_t i = r->job->graph->steps[k];
    const jh_plan_task *pt = &r->plan.t[i];
    const task_run *t = &r->t[i];
    if (pt->phase == JH_PHASE_EXCLUDED)
      continue;
    rt[n].id = t->def->id;
    rt[n].type = t->def->type;
    rt[n].level = pt->level;
    rt[n].state = pt->state;
    rt[n].produced_output = pt->produced_output;
    rt[n].started_ms = t->started_ms;
    rt[n].ended_ms = t->ended_ms;
    rt[n].attempts = t->attempt_base + pt->attempts;
    rt[n].counters_json = t->counters;
    rt[n].message = t->message;
    n++;
  }
  *nrt = n;
}

/* Why the job ended as it did, for its record ("" when it just ran). */
static void job_why(const run *r, char *why, size_t size) {
  why[0] = '\0';
  if (r->plan.cancelled)
    snprintf(why, size, "cancelled");
  else if (stopped_by(r) != NULL)
    snprintf(why, size, "stopped when %s ended", stopped_by(r));
  else if (r->store_recovered)
    snprintf(why, size,
             "the store failed %.200s; every task's end was "
             "recorded again",
             r->store_why);
  if (r->runner_note[0] != '\0')
    snprintf(why + strlen(why), size - strlen(why), "%s%s", why[0] ? "; " : "",
             r->runner_note);
}

/* The runner is stopped (what it ran dies with it); what it said stays. */
static void runner_stop(run *r) {
  if (r->runner == NULL)
    return;
  r->runner_failed = r->runner->failed;
  snprintf(r->runner_note, sizeof(r->runner_note), "%s", r->runner->note);
  r->runner->ops->shutdown(r->runner);
  r->runner = NULL;
}

/* Record and report how the job ended. */
static int finish_job(run *r, int rc, int64_t started_ms, jh_state *state,
                      char **report) {
  jh_report_task *rt = calloc(r->n ? r->n : 1, sizeof(*rt));
  size_t nrt = 0;
  char why[800];
  const char *broken;
  *report = NULL;
  finish_rest(r);
  rerecord(r);
  broken = jh_plan_check(&r->plan);
  if (broken != NULL)
    note(r, "internal error: the plan broke a rule: %s", broken);
  *state = rc != 0 || broken != NULL ? JH_STATE_ERROR : job_state(r);
  if (rt != NULL) {
    build_report_tasks(r, rt, &nrt);
    *report = jh_report_json(r->job->pipeline->job_id, r->instance, *state,
                             started_ms, jh_now_ms(), rt, nrt);
  }
  free(rt);
  job_why(r, why, sizeof(why));
  store_check(r,
              jh_store_job_finish(r->store, r->instance, *state,
                                  why[0] ? why : NULL, *report),
              "the job");
  summary(r, *state, started_ms);
  return *report == NULL ? -ENOMEM : rc;
}

/* The loop, and what follows when it fails: everything is stopped. */
static int run_loop(run *r) {
  int rc = loop(r);
  if (rc != 0) {
    signal_all(r, SIGKILL, 0);
    jh_plan_halt(&r->plan);
    while (r->plan.nrunning > 0) {
      wait_events(r);
      collect_ended(r);
    }
  }
  return rc;
}

/* The runner the options ask for. */
static int runner_new(run *r) {
  if (r->opt->isolation == JH_ISOLATION_NONE)
    return jh_runner_inproc_new(r->job->pipeline, r->home, &task_cancel,
                                &r->runner);
  return jh_runner_fork_new(r->job->pipeline, r->home, r->job->reg,
                            r->opt->forkserver, &r->progress, &r->runner);
}

static int run_init(run *r, const jh_job *job, const jh_home *home,
                    jh_store *store, int64_t instance,
                    const jh_exec_options *opt) {
  int rc;
  memset(r, 0, sizeof(*r));
  r->job = job;
  r->home = home;
  r->store = store;
  r->instance = instance;
  r->opt = opt;
  r->progress.out = opt->progress;
  r->progress.live = opt->live;
  r->n = job->pipeline->ntasks;
  /* The fork server first, while the host is small: each worker is a copy
   * of it. */
  rc = runner_new(r);
  if (rc != 0)
    return rc;
  r->t = calloc(r->n ? r->n : 1, sizeof(*r->t));
  r->launch = calloc(r->n ? r->n : 1, sizeof(*r->launch));
  if (r->t == NULL || r->launch == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < r->n; i++) {
    r->t[i].def = &job->pipeline->tasks[i];
    r->t[i].outcome.produced_output = -1;
  }
  return jh_plan_init(&r->plan, job->graph, &opt->select);
}

static void run_clear(run *r) {
  runner_stop(r);
  for (size_t i = 0; r->t != NULL && i < r->n; i++) {
    attempt_cleanup(&r->t[i]);
    jh_outcome_clear(&r->t[i].outcome);
    free(r->t[i].message);
    free(r->t[i].progress_seen);
    free(r->t[i].counters);
    free(r->t[i].log_path);
  }
  free(r->t);
  free(r->launch);
  jh_plan_clear(&r->plan);
}

int jh_execute(const jh_job *job, const jh_home *home, jh_store *store,
               int64_t instance, const jh_exec_options *opt, jh_state *state,
               char **report) {
  struct sigaction old[NSIGS];
  int64_t started_ms = jh_now_ms();
  run r;
  int rc = run_init(&r, job, home, store, instance, opt);

  if (rc == 0)
    rc = load_outside_results(&r);
  if (rc == 0 && opt->resume)
    rc = apply_history(&r);
  if (rc == 0)
    rc = signals_install(old);
  if (rc == 0) {
    note(&r, "job %s, instance %lld: %s", job->pipeline->job_id,
         (long long)instance, opt->resume ? "resumed" : "started");
    rc = run_loop(&r);
    signals_restore(old);
    runner_stop(&r);
    rc = finish_job(&r, rc, started_ms, state, report);
  }
  run_clear(&r);
  return rc != 0 ? rc : r.store_error;
}
