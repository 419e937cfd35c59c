/*
 * test_schedule.c — the scheduling rules of the plan (plan.h) as a run
 * plays them out, against a fake runner (runner.h) and a fake clock: no
 * process, no store, no sleep. Each task has a script (how long each
 * attempt lasts, what it returns, whether it heeds a request to stop);
 * a small loop drives the plan as the executor does, and the tests read
 * when each task started and how it ended.
 *
 * Covers levels and launch groups (level_overflow), max_parallel, parent
 * links and continue_on_error, dependencies ordering, dirty tasks,
 * Blocked and Error outranking it, retries and their backoff, timeouts
 * and the kill after the grace period, cancel and cancel --now,
 * selections and resume; and after every turn, jh_plan_check.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "plan.h"
#include "runner.h"

#define MAXT 12
#define MAXA 4
#define GRACE_MS 50
#define NEVER (-1)

/* ---- the job ---- */

typedef struct script {
  long ms[MAXA];    /* how long each attempt runs (NEVER: until stopped) */
  int result[MAXA]; /* what each attempt returns */
  int deaf;         /* ignores SIGTERM (only SIGKILL ends it) */
  int no_output;    /* succeeds without output */
} script;

typedef struct job {
  jh_pipeline p;
  jh_task_def defs[MAXT];
  char *deps[MAXT][MAXT];
  jh_loc locs[MAXT][MAXT];
  script sc[MAXT];
  jh_graph *g;
} job;

static const jobhost_task_type can_block = {.name = "Blocker",
                                            .flags = JOBHOST_TASK_CAN_BLOCK};
static const jobhost_task_type marker_type = {.name = "Marker",
                                              .flags = JOBHOST_TASK_SETS_DIRTY};
static const jobhost_task_type reader_type = {
    .name = "Reader", .flags = JOBHOST_TASK_READS_DIRTY};
static jh_value dirty_true = {.key = "dirty", .text = "true"};

static job *job_new(int max_parallel, jh_ordering ordering,
                    jh_level_overflow overflow) {
  job *j = calloc(1, sizeof(*j));
  assert_non_null(j);
  j->p.job_id = "J";
  j->p.path = "j.yaml";
  j->p.max_parallel = max_parallel;
  j->p.ordering = ordering;
  j->p.level_overflow = overflow;
  j->p.tasks = j->defs;
  return j;
}

/* Task `id` at `level` (-1: none), after the parents listed (NULL-ended),
 * lasting ms and returning 0. Returns its index. */
static size_t add(job *j, const char *id, int level, long ms, ...) {
  size_t i = j->p.ntasks++;
  jh_task_def *d = &j->defs[i];
  va_list ap;
  const char *parent;
  d->id = (char *)id;
  d->type = "T";
  d->level = level;
  d->retry_delay_ms = 100;
  d->depends_on = j->deps[i];
  d->depends_loc = j->locs[i];
  va_start(ap, ms);
  while ((parent = va_arg(ap, const char *)) != NULL)
    j->deps[i][d->ndepends++] = (char *)parent;
  va_end(ap);
  for (int a = 0; a < MAXA; a++)
    j->sc[i].ms[a] = ms;
  return i;
}

static void build(job *j) {
  jh_diags d = JH_DIAGS_INIT;
  assert_int_equal(jh_graph_build(&j->p, &j->g, &d), 0);
  jh_diags_clear(&d);
}

static void job_free(job *j) {
  jh_graph_free(j->g);
  free(j);
}

/* ---- the fake clock and runner ---- */

typedef struct attempt {
  int active;
  int64_t ends; /* when it ends by itself (NEVER: not by itself) */
  int stopped;  /* ended by a signal */
  int killed;
  jh_outcome *outcome;
} attempt;

typedef struct fake_runner {
  jh_runner base;
  job *j;
  int64_t now; /* the fake clock */
  attempt at[MAXT];
  int nstarted[MAXT];
  int64_t started_at[MAXT][MAXA];
  size_t running, max_running;
} fake_runner;

static int fake_start(jh_runner *r, const jh_runner_task *task,
                      jh_outcome *outcome) {
  fake_runner *f = (fake_runner *)r;
  size_t i = task->index;
  int a = f->nstarted[i]++;
  long ms = f->j->sc[i].ms[a];
  f->started_at[i][a] = f->now;
  memset(&f->at[i], 0, sizeof(f->at[i]));
  f->at[i].active = 1;
  f->at[i].ends = ms == NEVER ? NEVER : f->now + ms;
  f->at[i].outcome = outcome;
  if (++f->running > f->max_running)
    f->max_running = f->running;
  return 0;
}

/* The clock moves to the first end, or by timeout_ms. */
static int fake_wait(jh_runner *r, int wake_fd, int64_t timeout_ms) {
  fake_runner *f = (fake_runner *)r;
  int64_t next = f->now + (timeout_ms > 0 ? timeout_ms : 0);
  (void)wake_fd;
  for (size_t i = 0; i < MAXT; i++)
    if (f->at[i].active && f->at[i].ends != NEVER && f->at[i].ends < next)
      next = f->at[i].ends;
  f->now = next;
  return 0;
}

static int fake_take_ended(jh_runner *r, jh_run_end *end) {
  fake_runner *f = (fake_runner *)r;
  for (size_t i = 0; i < MAXT; i++) {
    attempt *a = &f->at[i];
    int n = f->nstarted[i] - 1;
    if (!a->active || a->ends == NEVER || a->ends > f->now)
      continue;
    memset(end, 0, sizeof(*end));
    end->index = i;
    if (a->killed) {
      end->status = SIGKILL; /* a wait status: killed by signal 9 */
    } else {
      a->outcome->has_result = 1;
      a->outcome->result = a->stopped ? JOBHOST_ECANCELLED
                                      : f->j->sc[i].result[n];
      a->outcome->produced_output = !f->j->sc[i].no_output;
    }
    a->active = 0;
    f->running--;
    return 1;
  }
  return 0;
}

static jh_run_state fake_state(const jh_runner *r, size_t i) {
  const fake_runner *f = (const fake_runner *)r;
  if (!f->at[i].active)
    return JH_RUN_NONE;
  return f->at[i].ends != NEVER && f->at[i].ends <= f->now ? JH_RUN_ENDED
                                                           : JH_RUN_ALIVE;
}

static void fake_signal(jh_runner *r, size_t i, int sig) {
  fake_runner *f = (fake_runner *)r;
  attempt *a = &f->at[i];
  if (!a->active)
    return;
  if (sig == SIGKILL) {
    a->killed = 1;
    a->ends = f->now;
  } else if (!f->j->sc[i].deaf) {
    a->stopped = 1;
    a->ends = f->now + 1; /* it stops at its next check */
  }
}

static void fake_shutdown(jh_runner *r) { (void)r; }

static const jh_runner_ops fake_ops = {fake_start, fake_wait,   fake_take_ended,
                                       fake_state, fake_signal, fake_shutdown};

/* ---- the loop, as the executor drives the plan ---- */

typedef struct sim {
  job *j;
  jh_plan plan;
  fake_runner fr;
  jh_outcome out[MAXT];
  int64_t cancel_at; /* 0: no cancel */
  int cancel_level;
  char why[MAXT][300]; /* why a task was skipped */
} sim;

static jh_state attempt_state(sim *s, size_t i) {
  const jh_plan_task *t = &s->plan.t[i];
  const jh_outcome *o = &s->out[i];
  const jobhost_task_type *tt = t->def->task_type;
  char why[300];
  if (o->has_result && !(t->timed_out && o->result != 0))
    return jh_plan_result_state(o->result, t->def->type,
                                tt != NULL ? tt->flags : 0, why, sizeof(why));
  if (!t->timed_out && s->plan.cancel_now && t->term_sent)
    return JH_STATE_CANCELLED;
  return JH_STATE_ERROR;
}

static void collect(sim *s) {
  jh_run_end e;
  while (fake_take_ended(&s->fr.base, &e)) {
    jh_plan_end end;
    jh_plan_attempt_ended(&s->plan, e.index, attempt_state(s, e.index),
                          s->out[e.index].produced_output > 0, s->fr.now, &end);
  }
}

static void schedule(sim *s) {
  size_t i;
  while ((i = jh_plan_next(&s->plan, s->fr.now)) != JH_PLAN_NONE) {
    jh_runner_task rt = {.index = i};
    if (jh_plan_start_verdict(&s->plan, i, s->why[i], sizeof(s->why[i]))) {
      jh_plan_skip(&s->plan, i, JH_STATE_SKIPPED);
      continue;
    }
    jh_plan_started(&s->plan, i, s->fr.now);
    memset(&s->out[i], 0, sizeof(s->out[i]));
    assert_int_equal(fake_start(&s->fr.base, &rt, &s->out[i]), 0);
  }
}

static void cancel(sim *s) {
  int changed;
  if (s->cancel_at == 0 || s->fr.now < s->cancel_at)
    return;
  changed = jh_plan_cancel(&s->plan, s->cancel_level);
  if (!(changed & JH_PLAN_CANCEL_NOW))
    return;
  for (size_t k = 0; k < s->plan.nrunning; k++) {
    size_t i = s->plan.running[k];
    fake_signal(&s->fr.base, i, SIGTERM);
    jh_plan_ask_stop(&s->plan, i, s->fr.now, GRACE_MS);
  }
}

static void deadlines(sim *s) {
  for (size_t k = 0; k < s->plan.nrunning; k++) {
    size_t i = s->plan.running[k];
    if (fake_state(&s->fr.base, i) != JH_RUN_ALIVE)
      continue;
    switch (jh_plan_due_of(&s->plan, i, s->fr.now, GRACE_MS)) {
    case JH_DUE_TIMEOUT:
      fake_signal(&s->fr.base, i, SIGTERM);
      break;
    case JH_DUE_KILL:
      fake_signal(&s->fr.base, i, SIGKILL);
      break;
    default:
      break;
    }
  }
}

static void sim_init(sim *s, job *j, const jh_plan_selection *sel) {
  jh_plan_selection all = {0};
  memset(s, 0, sizeof(*s));
  s->j = j;
  s->fr.base.ops = &fake_ops;
  s->fr.j = j;
  assert_int_equal(jh_plan_init(&s->plan, j->g, sel ? sel : &all), 0);
  assert_null(jh_plan_check(&s->plan));
}

/* Run to the end; returns the job's state. */
static jh_state sim_run(sim *s) {
  jh_plan_tally tally;
  int64_t wake;
  for (int turns = 0; turns < 10000; turns++) {
    collect(s);
    cancel(s);
    schedule(s);
    for (size_t i = 0; s->plan.stop && i < s->plan.n; i++)
      if (s->plan.t[i].phase == JH_PHASE_WAIT_RETRY)
        jh_plan_drop_retry(&s->plan, i);
    assert_null(jh_plan_check(&s->plan));
    if (!jh_plan_active(&s->plan))
      break;
    wake = jh_plan_next_wakeup(&s->plan, s->fr.now, 1000);
    if (s->cancel_at > s->fr.now && s->cancel_at < wake)
      wake = s->cancel_at; /* the cancel's signal wakes the loop */
    fake_wait(&s->fr.base, -1, wake - s->fr.now);
    deadlines(s);
  }
  for (size_t i = 0; i < s->plan.n; i++)
    if (s->plan.t[i].phase == JH_PHASE_PENDING)
      jh_plan_skip(&s->plan, i, JH_STATE_NOT_STARTED);
  assert_null(jh_plan_check(&s->plan));
  assert_false(jh_plan_active(&s->plan));
  jh_plan_tally_of(&s->plan, &tally);
  return jh_plan_job_state(&tally, s->plan.cancelled, 0);
}

static jh_state state_of(const sim *s, size_t i) {
  assert_int_equal(s->plan.t[i].phase, JH_PHASE_DONE);
  return s->plan.t[i].state;
}

static int64_t start_of(const sim *s, size_t i, int nth) {
  assert_true(s->fr.nstarted[i] > nth);
  return s->fr.started_at[i][nth];
}

/* ---- levels ---- */

/* Three tasks on level 0 and one on level 1, two at a time: with
 * level_overflow: levels the third waits for the first two (its own
 * Order); with window it takes the first free slot. Level 1 waits for all
 * of level 0 either way. */
static void test_levels_and_overflow(void **state) {
  for (int window = 0; window < 2; window++) {
    job *j = job_new(2, JH_ORDER_LEVELS,
                     window ? JH_OVERFLOW_WINDOW : JH_OVERFLOW_LEVELS);
    sim s;
    size_t a = add(j, "a", 0, 10, NULL), b = add(j, "b", 0, 30, NULL);
    size_t c = add(j, "c", 0, 10, NULL), d = add(j, "d", 1, 10, NULL);
    (void)state;
    build(j);
    sim_init(&s, j, NULL);
    assert_int_equal(sim_run(&s), JH_STATE_SUCCEEDED);
    assert_int_equal(start_of(&s, a, 0), 0);
    assert_int_equal(start_of(&s, b, 0), 0);
    assert_int_equal(start_of(&s, c, 0), window ? 10 : 30);
    assert_int_equal(start_of(&s, d, 0), window ? 30 : 40);
    assert_int_equal(s.fr.max_running, 2);
    jh_plan_clear(&s.plan);
    job_free(j);
  }
}

/* max_parallel holds with dependencies ordering too, and a task starts as
 * soon as its own parents ended. */
static void test_dependencies_and_max_parallel(void **state) {
  job *j = job_new(2, JH_ORDER_DEPENDENCIES, JH_OVERFLOW_LEVELS);
  sim s;
  size_t slow = add(j, "slow", -1, 100, NULL);
  size_t fast = add(j, "fast", -1, 10, NULL);
  size_t after_fast = add(j, "after_fast", -1, 10, "fast", NULL);
  size_t free1 = add(j, "free1", -1, 10, NULL);
  size_t last = add(j, "last", -1, 10, "slow", "after_fast", NULL);
  (void)state;
  build(j);
  sim_init(&s, j, NULL);
  assert_int_equal(sim_run(&s), JH_STATE_SUCCEEDED);
  assert_int_equal(start_of(&s, slow, 0), 0);
  assert_int_equal(start_of(&s, fast, 0), 0);
  assert_int_equal(start_of(&s, after_fast, 0), 10); /* not waiting for slow */
  assert_int_equal(start_of(&s, free1, 0), 20);
  assert_int_equal(start_of(&s, last, 0), 100);
  assert_int_equal(s.fr.max_running, 2);
  jh_plan_clear(&s.plan);
  job_free(j);
}

/* ---- parent links ---- */

/* A failure tolerated by continue_on_error is a Warning: the job goes on,
 * but its child is Skipped; a child of a task without output too. */
static void test_continue_on_error_and_parents(void **state) {
  job *j = job_new(1, JH_ORDER_LEVELS, JH_OVERFLOW_LEVELS);
  sim s;
  size_t a = add(j, "a", -1, 10, NULL), b = add(j, "b", -1, 10, "a", NULL);
  size_t c = add(j, "c", -1, 10, NULL), d = add(j, "d", -1, 10, "c", NULL);
  size_t e = add(j, "e", -1, 10, NULL);
  (void)state;
  j->defs[a].continue_on_error = 1;
  j->sc[a].result[0] = -EIO;
  j->sc[c].no_output = 1;
  build(j);
  sim_init(&s, j, NULL);
  assert_int_equal(sim_run(&s), JH_STATE_WARNING);
  assert_int_equal(state_of(&s, a), JH_STATE_WARNING);
  assert_int_equal(state_of(&s, b), JH_STATE_SKIPPED);
  assert_string_equal(s.why[b], "parent a ended Warning");
  assert_int_equal(state_of(&s, c), JH_STATE_SUCCEEDED);
  assert_int_equal(state_of(&s, d), JH_STATE_SKIPPED);
  assert_string_equal(s.why[d], "parent c produced no output");
  assert_int_equal(state_of(&s, e), JH_STATE_SUCCEEDED);
  jh_plan_clear(&s.plan);
  job_free(j);
}

/* An untolerated Error stops the job: the running task finishes, the rest
 * never start. */
static void test_error_stops_the_job(void **state) {
  job *j = job_new(2, JH_ORDER_LEVELS, JH_OVERFLOW_WINDOW);
  sim s;
  size_t bad = add(j, "bad", 0, 10, NULL), slow = add(j, "slow", 0, 50, NULL);
  size_t next = add(j, "next", 0, 10, NULL), l1 = add(j, "l1", 1, 10, NULL);
  (void)state;
  j->sc[bad].result[0] = -EIO;
  build(j);
  sim_init(&s, j, NULL);
  assert_int_equal(sim_run(&s), JH_STATE_ERROR);
  assert_int_equal(state_of(&s, bad), JH_STATE_ERROR);
  assert_int_equal(state_of(&s, slow), JH_STATE_SUCCEEDED);
  assert_int_equal(state_of(&s, next), JH_STATE_NOT_STARTED);
  assert_int_equal(state_of(&s, l1), JH_STATE_NOT_STARTED);
  assert_int_equal(s.plan.stopped_by, bad);
  jh_plan_clear(&s.plan);
  job_free(j);
}

/* ---- Blocked ---- */

/* A type declared able to block ends Blocked and stops the job, which
 * ends Blocked; an Error that ends later outranks it; an undeclared type
 * that returns the code ends Error. */
static void test_blocked_and_error(void **state) {
  for (int with_error = 0; with_error < 2; with_error++) {
    job *j = job_new(2, JH_ORDER_LEVELS, JH_OVERFLOW_WINDOW);
    sim s;
    size_t blk = add(j, "blk", 0, 10, NULL), other = add(j, "o", 0, 30, NULL);
    size_t l1 = add(j, "l1", 1, 10, NULL);
    (void)state;
    j->defs[blk].task_type = &can_block;
    j->sc[blk].result[0] = JOBHOST_EBLOCKED;
    j->sc[other].result[0] = with_error ? -EIO : 0;
    build(j);
    sim_init(&s, j, NULL);
    assert_int_equal(sim_run(&s),
                     with_error ? JH_STATE_ERROR : JH_STATE_BLOCKED);
    assert_int_equal(state_of(&s, blk), JH_STATE_BLOCKED);
    assert_int_equal(state_of(&s, l1), JH_STATE_NOT_STARTED);
    assert_int_equal(s.plan.stopped_by, with_error ? other : blk);
    jh_plan_clear(&s.plan);
    job_free(j);
  }
  {
    job *j = job_new(1, JH_ORDER_LEVELS, JH_OVERFLOW_LEVELS);
    sim s;
    size_t t = add(j, "t", -1, 10, NULL);
    j->sc[t].result[0] = JOBHOST_EBLOCKED;
    build(j);
    sim_init(&s, j, NULL);
    assert_int_equal(sim_run(&s), JH_STATE_ERROR);
    jh_plan_clear(&s.plan);
    job_free(j);
  }
}

/* ---- retries and timeouts ---- */

/* Two failures, then success: retried after retry_delay, then twice it. */
static void test_retries_back_off(void **state) {
  job *j = job_new(1, JH_ORDER_LEVELS, JH_OVERFLOW_LEVELS);
  sim s;
  size_t t = add(j, "t", -1, 10, NULL), u = add(j, "u", -1, 10, NULL);
  (void)state;
  j->defs[t].retries = 2;
  j->sc[t].result[0] = -EIO;
  j->sc[t].result[1] = -EIO;
  j->defs[u].retries = 1;
  j->sc[u].result[0] = -EIO;
  j->sc[u].result[1] = -EIO;
  build(j);
  sim_init(&s, j, NULL);
  assert_int_equal(sim_run(&s), JH_STATE_ERROR);
  assert_int_equal(state_of(&s, t), JH_STATE_SUCCEEDED);
  assert_int_equal(s.plan.t[t].attempts, 3);
  assert_int_equal(start_of(&s, t, 1), 10 + 100);
  assert_int_equal(start_of(&s, t, 2), 120 + 200);
  assert_int_equal(state_of(&s, u), JH_STATE_ERROR);
  assert_int_equal(s.plan.t[u].attempts, 2);
  jh_plan_clear(&s.plan);
  job_free(j);
}

/* A task waiting for its retry when the job stops does not start again:
 * its failure stands (Warning with continue_on_error). */
static void test_stop_drops_waiting_retries(void **state) {
  job *j = job_new(2, JH_ORDER_LEVELS, JH_OVERFLOW_WINDOW);
  sim s;
  size_t r = add(j, "r", 0, 10, NULL), bad = add(j, "bad", 0, 50, NULL);
  (void)state;
  j->defs[r].retries = 3;
  j->defs[r].retry_delay_ms = 1000;
  j->defs[r].continue_on_error = 1;
  for (int a = 0; a < MAXA; a++)
    j->sc[r].result[a] = -EIO;
  j->sc[bad].result[0] = -EIO;
  build(j);
  sim_init(&s, j, NULL);
  assert_int_equal(sim_run(&s), JH_STATE_ERROR);
  assert_int_equal(state_of(&s, r), JH_STATE_WARNING);
  assert_int_equal(s.plan.t[r].attempts, 1);
  jh_plan_clear(&s.plan);
  job_free(j);
}

/* A timeout asks the task to stop; one that does not is killed after the
 * grace period. Both end Error; their timeouts are not retried in vain
 * while the job goes on (continue_on_error keeps it going). */
static void test_timeouts_and_kill(void **state) {
  job *j = job_new(2, JH_ORDER_LEVELS, JH_OVERFLOW_WINDOW);
  sim s;
  size_t polite = add(j, "polite", 0, NEVER, NULL);
  size_t deaf = add(j, "deaf", 0, NEVER, NULL);
  size_t after = add(j, "after", 1, 10, NULL);
  (void)state;
  j->defs[polite].timeout_ms = 100;
  j->defs[polite].continue_on_error = 1;
  j->defs[deaf].timeout_ms = 200;
  j->defs[deaf].continue_on_error = 1;
  j->sc[deaf].deaf = 1;
  build(j);
  sim_init(&s, j, NULL);
  assert_int_equal(sim_run(&s), JH_STATE_WARNING);
  assert_int_equal(state_of(&s, polite), JH_STATE_WARNING);
  assert_true(s.plan.t[polite].timed_out);
  assert_int_equal(state_of(&s, deaf), JH_STATE_WARNING);
  assert_true(s.fr.at[deaf].killed);
  /* the deaf one was killed GRACE_MS after its timeout */
  assert_int_equal(start_of(&s, after, 0), 200 + GRACE_MS);
  jh_plan_clear(&s.plan);
  job_free(j);
}

/* ---- cancel ---- */

/* Cancel: nothing new starts, the running task finishes with its own
 * result, the rest are NotStarted, the job is Cancelled. Cancel --now:
 * the running task is asked to stop and ends Cancelled. */
static void test_cancel_and_cancel_now(void **state) {
  for (int now = 0; now < 2; now++) {
    job *j = job_new(1, JH_ORDER_LEVELS, JH_OVERFLOW_LEVELS);
    sim s;
    size_t a = add(j, "a", -1, 100, NULL), b = add(j, "b", -1, 10, NULL);
    (void)state;
    build(j);
    sim_init(&s, j, NULL);
    s.cancel_at = 20;
    s.cancel_level = now ? JH_CANCEL_NOW : JH_CANCEL_FINISH;
    assert_int_equal(sim_run(&s), JH_STATE_CANCELLED);
    assert_int_equal(state_of(&s, a),
                     now ? JH_STATE_CANCELLED : JH_STATE_SUCCEEDED);
    assert_int_equal(state_of(&s, b), JH_STATE_NOT_STARTED);
    assert_int_equal(s.fr.nstarted[b], 0);
    jh_plan_clear(&s.plan);
    job_free(j);
  }
}

/* ---- dirty flags ---- */

/* A dirty task waits (dependencies ordering) for the task that sets the
 * flags, and is Skipped when that one did not Succeed. */
static void test_dirty_waits_for_the_marker(void **state) {
  for (int fail = 0; fail < 2; fail++) {
    job *j = job_new(2, JH_ORDER_DEPENDENCIES, JH_OVERFLOW_LEVELS);
    sim s;
    size_t m = add(j, "m", -1, 50, NULL), r = add(j, "r", -1, 10, NULL);
    (void)state;
    j->defs[m].task_type = &marker_type;
    j->defs[m].continue_on_error = 1;
    j->sc[m].result[0] = fail ? -EIO : 0;
    j->defs[r].task_type = &reader_type;
    j->defs[r].params = &dirty_true;
    j->defs[r].nparams = 1;
    build(j);
    sim_init(&s, j, NULL);
    sim_run(&s);
    if (fail) {
      assert_int_equal(state_of(&s, r), JH_STATE_SKIPPED);
      assert_string_equal(s.why[r], "dirty: m (T) ended Warning");
    } else {
      assert_int_equal(state_of(&s, r), JH_STATE_SUCCEEDED);
      assert_int_equal(start_of(&s, r, 0), 50);
    }
    jh_plan_clear(&s.plan);
    job_free(j);
  }
}

/* ---- selection and resume ---- */

static void test_selection(void **state) {
  job *j = job_new(1, JH_ORDER_LEVELS, JH_OVERFLOW_LEVELS);
  jh_plan_selection from_to = {.from = "b", .to = "c"};
  jh_plan_selection bad = {.only = "a", .from = "b"};
  jh_plan_selection reversed = {.from = "c", .to = "a"};
  jh_plan_selection missing = {.only = "zz"};
  jh_diags d = JH_DIAGS_INIT;
  sim s;
  size_t a = add(j, "a", 0, 10, NULL), b = add(j, "b", 1, 10, "a", NULL);
  size_t c = add(j, "c", 2, 10, NULL);
  (void)state;
  build(j);
  assert_int_equal(jh_plan_check_selection(j->g, &from_to, &d), 0);
  assert_int_equal(jh_plan_check_selection(j->g, &bad, &d), JOBHOST_ECONFIG);
  jh_diags_clear(&d);
  assert_int_equal(jh_plan_check_selection(j->g, &reversed, &d),
                   JOBHOST_ECONFIG);
  jh_diags_clear(&d);
  assert_int_equal(jh_plan_check_selection(j->g, &missing, &d),
                   JOBHOST_ECONFIG);
  jh_diags_clear(&d);
  sim_init(&s, j, &from_to);
  assert_int_equal(s.plan.t[a].phase, JH_PHASE_EXCLUDED);
  assert_true(jh_plan_needs_last_result(&s.plan, a));
  /* a parent outside the selection is judged on its last result */
  jh_plan_set_last_result(&s.plan, a, JH_STATE_BLOCKED, 0, 7);
  assert_false(jh_plan_needs_last_result(&s.plan, a));
  assert_int_equal(sim_run(&s), JH_STATE_SUCCEEDED);
  assert_int_equal(state_of(&s, b), JH_STATE_SKIPPED);
  assert_string_equal(s.why[b], "parent a is not among the selected steps "
                                "and its last result in this job "
                                "(instance 7) is Blocked");
  assert_int_equal(state_of(&s, c), JH_STATE_SUCCEEDED);
  assert_int_equal(s.plan.t[a].phase, JH_PHASE_EXCLUDED);
  jh_plan_clear(&s.plan);
  job_free(j);
}

/* Resume: ended tasks keep their state, a Blocked task outside the steps
 * is validated anyway (and a validation that fails leaves it Blocked),
 * the rest run; an Error recorded earlier starts nothing. */
static void test_resume(void **state) {
  for (int with_error = 0; with_error < 2; with_error++) {
    job *j = job_new(1, JH_ORDER_LEVELS, JH_OVERFLOW_LEVELS);
    jh_plan_selection only_c = {.only = "c"};
    sim s;
    size_t a = add(j, "a", -1, 10, NULL), b = add(j, "b", -1, 10, NULL);
    size_t c = add(j, "c", -1, 10, NULL);
    (void)state;
    j->sc[b].result[0] = -EIO; /* its validation fails */
    build(j);
    sim_init(&s, j, &only_c);
    assert_false(jh_plan_resume_select(&s.plan, a, JH_STATE_SUCCEEDED));
    assert_true(jh_plan_resume_select(&s.plan, b, JH_STATE_BLOCKED));
    jh_plan_resume_apply(&s.plan, b, JH_STATE_BLOCKED, 0);
    assert_true(s.plan.t[b].validation);
    assert_true(jh_plan_resume_select(
        &s.plan, c, with_error ? JH_STATE_ERROR : JH_STATE_RUNNING));
    jh_plan_resume_apply(&s.plan, c,
                         with_error ? JH_STATE_ERROR : JH_STATE_RUNNING, 0);
    assert_null(jh_plan_check(&s.plan));
    if (with_error) {
      assert_true(s.plan.stop);
      assert_int_equal(sim_run(&s), JH_STATE_ERROR);
      assert_int_equal(s.fr.nstarted[b], 0);
      assert_int_equal(state_of(&s, b), JH_STATE_NOT_STARTED);
    } else {
      assert_int_equal(sim_run(&s), JH_STATE_BLOCKED);
      assert_int_equal(state_of(&s, b), JH_STATE_BLOCKED);
      assert_int_equal(state_of(&s, c), JH_STATE_NOT_STARTED);
    }
    assert_int_equal(s.plan.t[a].phase, JH_PHASE_EXCLUDED);
    jh_plan_clear(&s.plan);
    job_free(j);
  }
}

/* jh_plan_check finds a broken count. */
static void test_check_finds_a_broken_rule(void **state) {
  job *j = job_new(1, JH_ORDER_LEVELS, JH_OVERFLOW_LEVELS);
  sim s;
  (void)state;
  add(j, "a", -1, 10, NULL);
  build(j);
  sim_init(&s, j, NULL);
  s.plan.npending++;
  assert_non_null(jh_plan_check(&s.plan));
  s.plan.npending--;
  assert_null(jh_plan_check(&s.plan));
  jh_plan_clear(&s.plan);
  job_free(j);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_levels_and_overflow),
      cmocka_unit_test(test_dependencies_and_max_parallel),
      cmocka_unit_test(test_continue_on_error_and_parents),
      cmocka_unit_test(test_error_stops_the_job),
      cmocka_unit_test(test_blocked_and_error),
      cmocka_unit_test(test_retries_back_off),
      cmocka_unit_test(test_stop_drops_waiting_retries),
      cmocka_unit_test(test_timeouts_and_kill),
      cmocka_unit_test(test_cancel_and_cancel_now),
      cmocka_unit_test(test_dirty_waits_for_the_marker),
      cmocka_unit_test(test_selection),
      cmocka_unit_test(test_resume),
      cmocka_unit_test(test_check_finds_a_broken_rule),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
