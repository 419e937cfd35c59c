/*
 * plan.c — see plan.h.
 */
#include "config.h"

#include "plan.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jobhost/jobhost.h>

jh_state jh_plan_result_state(int result, const char *type_name,
                              unsigned type_flags, char *why, size_t size) {
  why[0] = '\0';
  if (result == 0)
    return JH_STATE_SUCCEEDED;
  if (result == JOBHOST_ECANCELLED)
    return JH_STATE_CANCELLED;
  if (result != JOBHOST_EBLOCKED)
    return JH_STATE_ERROR;
  if (type_flags & JOBHOST_TASK_CAN_BLOCK)
    return JH_STATE_BLOCKED;
  snprintf(why, size,
           "the task returned the blocked code, but task type %s is not "
           "declared able to block (JOBHOST_TASK_CAN_BLOCK)",
           type_name);
  return JH_STATE_ERROR;
}

jh_state jh_plan_job_state(const jh_plan_tally *tally, int cancelled,
                           int store_failed) {
  if (cancelled)
    return JH_STATE_CANCELLED;
  if (tally->count[JH_STATE_ERROR] > 0 || store_failed)
    return JH_STATE_ERROR;
  if (tally->count[JH_STATE_BLOCKED] > 0)
    return JH_STATE_BLOCKED;
  if (tally->count[JH_STATE_WARNING] > 0)
    return JH_STATE_WARNING;
  return JH_STATE_SUCCEEDED;
}

static const char *parent_in_run(const jh_plan_parent *p, char *buf,
                                 size_t size) {
  if (!p->ended)
    snprintf(buf, size, "parent %s did not run", p->id);
  else if (p->state != JH_STATE_SUCCEEDED)
    snprintf(buf, size, "parent %s ended %s", p->id, jh_state_name(p->state));
  else if (!p->produced_output)
    snprintf(buf, size, "parent %s produced no output", p->id);
  else
    return NULL;
  return buf;
}

static const char *parent_outside(const jh_plan_parent *p, char *buf,
                                  size_t size) {
  if (!p->ended)
    snprintf(buf, size,
             "parent %s is not among the selected steps and has no result "
             "in this job",
             p->id);
  else if (p->state != JH_STATE_SUCCEEDED)
    snprintf(buf, size,
             "parent %s is not among the selected steps and its last result "
             "in this job (instance %lld) is %s",
             p->id, (long long)p->instance, jh_state_name(p->state));
  else if (!p->produced_output)
    snprintf(buf, size,
             "parent %s is not among the selected steps and its last result "
             "in this job (instance %lld) produced no output",
             p->id, (long long)p->instance);
  else
    return NULL;
  return buf;
}

const char *jh_plan_parent_verdict(const jh_plan_parent *p, char *buf,
                                   size_t size) {
  return p->selected ? parent_in_run(p, buf, size)
                     : parent_outside(p, buf, size);
}

const char *jh_plan_dirty_verdict(int reads_dirty, const jh_plan_marker *m,
                                  char *buf, size_t size) {
  if (!reads_dirty)
    return NULL;
  if (m->id == NULL)
    snprintf(buf, size,
             "dirty: the job has no task that flags resources dirty (such as "
             "SetRecentlyModifiedFlagTask)");
  else if (!m->selected)
    snprintf(buf, size, "dirty: %s (%s) is not among the selected steps", m->id,
             m->type);
  else if (!m->ended)
    snprintf(buf, size,
             "dirty: %s (%s) had not ended when the task was to "
             "start",
             m->id, m->type);
  else if (m->state != JH_STATE_SUCCEEDED)
    snprintf(buf, size, "dirty: %s (%s) ended %s", m->id, m->type,
             jh_state_name(m->state));
  else
    return NULL;
  return buf;
}

size_t jh_plan_group(const jh_graph *g, size_t k) {
  if (g->pipeline->level_overflow == JH_OVERFLOW_WINDOW)
    return (size_t)g->level[g->steps[k]];
  return g->step_order[k];
}

/* ---- selection ---- */

static int step_position(const jh_graph *g, const char *id) {
  for (size_t k = 0; k < g->n; k++)
    if (strcmp(g->pipeline->tasks[g->steps[k]].id, id) == 0)
      return (int)k;
  return -1;
}

int jh_plan_check_selection(const jh_graph *g, const jh_plan_selection *s,
                            jh_diags *diags) {
  const char *names[3] = {s->only, s->from, s->to};
  const char *flags[3] = {"--task", "--from", "--to"};
  const jh_pipeline *p = g->pipeline;
  for (int k = 0; k < 3; k++)
    if (names[k] != NULL && step_position(g, names[k]) < 0)
      jh_diag_error(diags, p->path, 0, 0, "%s %s: no such task in job %s",
                    flags[k], names[k], p->job_id);
  if (s->only != NULL && (s->from != NULL || s->to != NULL))
    jh_diag_error(diags, NULL, 0, 0,
                  "--task cannot be combined with --from "
                  "or --to");
  if (s->from != NULL && s->to != NULL &&
      step_position(g, s->from) > step_position(g, s->to))
    jh_diag_error(diags, NULL, 0, 0, "--from %s comes after --to %s", s->from,
                  s->to);
  return diags->nerrors ? JOBHOST_ECONFIG : 0;
}

int jh_plan_step_selected(const jh_graph *g, const jh_plan_selection *s,
                          size_t k) {
  int from = s->from ? step_position(g, s->from) : 0;
  int to = s->to ? step_position(g, s->to) : (int)g->n - 1;
  if (s->only != NULL)
    return strcmp(g->pipeline->tasks[g->steps[k]].id, s->only) == 0;
  return (int)k >= from && (int)k <= to;
}

/* ---- phases: every change goes through set_phase ---- */

static int phase_open(jh_phase ph) {
  return ph == JH_PHASE_PENDING || ph == JH_PHASE_RUNNING ||
         ph == JH_PHASE_WAIT_RETRY;
}

/* What must hold of one task, checked at each of its transitions. */
static void assert_task(const jh_plan *p, const jh_plan_task *t) {
  assert(t->phase <= JH_PHASE_DONE);
  assert(t->phase != JH_PHASE_DONE || t->state <= JH_STATE_INTERRUPTED);
  assert(t->phase != JH_PHASE_RUNNING || t->attempts > 0);
  assert(p->nrunning <= p->n && p->npending <= p->n && p->nretry <= p->n);
  assert(p->ndone <= p->nselected && p->nselected <= p->n);
  (void)p;
  (void)t;
}

static void remove_running(jh_plan *p, size_t i) {
  for (size_t k = 0; k < p->nrunning; k++)
    if (p->running[k] == i) {
      p->running[k] = p->running[--p->nrunning];
      return;
    }
  assert(!"a running task is in the running list");
}

static void count_phase(jh_plan *p, jh_phase ph, size_t i, int add) {
  size_t *c = ph == JH_PHASE_PENDING      ? &p->npending
              : ph == JH_PHASE_WAIT_RETRY ? &p->nretry
              : ph == JH_PHASE_DONE       ? &p->ndone
                                          : NULL;
  if (c != NULL)
    *c = add ? *c + 1 : *c - 1;
  if (ph == JH_PHASE_RUNNING && add)
    p->running[p->nrunning++] = i;
  else if (ph == JH_PHASE_RUNNING)
    remove_running(p, i);
  if (ph != JH_PHASE_EXCLUDED)
    p->nselected = add ? p->nselected + 1 : p->nselected - 1;
}

static void set_phase(jh_plan *p, size_t i, jh_phase ph) {
  jh_plan_task *t = &p->t[i];
  if (t->phase == ph)
    return;
  if (t->sets_dirty && phase_open(t->phase) != phase_open(ph)) {
    if (phase_open(ph))
      p->nmarkers_open++;
    else
      p->nmarkers_open--;
  }
  count_phase(p, t->phase, i, 0);
  count_phase(p, ph, i, 1);
  t->phase = ph;
  assert_task(p, t);
}

/* Task i ends in state. */
static void set_done(jh_plan *p, size_t i, jh_state state, int output) {
  p->t[i].state = state;
  p->t[i].produced_output = output;
  set_phase(p, i, JH_PHASE_DONE);
}

/* Task i ended in a state that stops the job (Error or Blocked). The job's
 * message names the first, but an Error outranks a Blocked task that
 * ended before it. */
static void stop_by(jh_plan *p, size_t i, jh_state state) {
  if (!p->stop ||
      (state == JH_STATE_ERROR && p->stopped_state == JH_STATE_BLOCKED)) {
    p->stopped_by = i;
    p->stopped_state = state;
  }
  p->stop = 1;
}

/* ---- set-up ---- */

/* What the task's type declares about dirty flags. */
static void task_flags(jh_plan_task *t) {
  const jobhost_task_type *tt = t->def->task_type;
  const jh_value *dirty = jh_task_value(t->def, JOBHOST_PARAM_NAME_DIRTY);
  unsigned flags = tt != NULL ? tt->flags : 0;
  t->sets_dirty = (flags & JOBHOST_TASK_SETS_DIRTY) != 0;
  t->reads_dirty = (flags & JOBHOST_TASK_READS_DIRTY) != 0 && dirty != NULL &&
                   dirty->text != NULL && strcmp(dirty->text, "true") == 0;
}

int jh_plan_init(jh_plan *p, const jh_graph *g, const jh_plan_selection *s) {
  memset(p, 0, sizeof(*p));
  p->graph = g;
  p->n = g->n;
  p->t = calloc(p->n ? p->n : 1, sizeof(*p->t));
  p->running = calloc(p->n ? p->n : 1, sizeof(*p->running));
  if (p->t == NULL || p->running == NULL) {
    jh_plan_clear(p);
    return -ENOMEM;
  }
  p->marker_ok = JH_PLAN_NONE;
  p->stopped_by = JH_PLAN_NONE;
  for (size_t i = 0; i < p->n; i++) {
    p->t[i].def = &g->pipeline->tasks[i];
    p->t[i].level = g->level[i];
    task_flags(&p->t[i]);
  }
  for (size_t k = 0; k < p->n; k++) {
    size_t i = g->steps[k];
    p->t[i].group = jh_plan_group(g, k);
    if (jh_plan_step_selected(g, s, k))
      set_phase(p, i, JH_PHASE_PENDING);
  }
  return 0;
}

void jh_plan_clear(jh_plan *p) {
  free(p->t);
  free(p->running);
  memset(p, 0, sizeof(*p));
}

int jh_plan_needs_last_result(const jh_plan *p, size_t i) {
  const jh_graph *g = p->graph;
  if (p->t[i].phase != JH_PHASE_EXCLUDED || p->t[i].last_known)
    return 0;
  for (size_t k = 0; k < g->nchildren[i]; k++)
    if (p->t[g->children[i][k]].phase != JH_PHASE_EXCLUDED)
      return 1;
  return 0;
}

void jh_plan_set_last_result(jh_plan *p, size_t i, jh_state state,
                             int produced_output, int64_t instance) {
  jh_plan_task *t = &p->t[i];
  assert(t->phase == JH_PHASE_EXCLUDED);
  t->last_known = 1;
  t->last_state = state;
  t->last_output = produced_output;
  t->last_instance = instance;
}

/* ---- resume ---- */

int jh_plan_resume_select(jh_plan *p, size_t i, jh_state recorded) {
  /* The selection chooses among the tasks that had not run; a Blocked
   * task is validated whatever the steps. */
  if (recorded == JH_STATE_BLOCKED && p->t[i].phase == JH_PHASE_EXCLUDED)
    set_phase(p, i, JH_PHASE_PENDING);
  return p->t[i].phase != JH_PHASE_EXCLUDED;
}

void jh_plan_resume_apply(jh_plan *p, size_t i, jh_state state,
                          int produced_output) {
  assert(p->t[i].phase == JH_PHASE_PENDING);
  switch (state) {
  case JH_STATE_SUCCEEDED:
  case JH_STATE_WARNING:
  case JH_STATE_ERROR:
  case JH_STATE_SKIPPED:
    set_done(p, i, state, produced_output);
    /* An untolerated Error ended the job: resuming it starts nothing. */
    if (state == JH_STATE_ERROR && !p->stop)
      stop_by(p, i, state);
    break;
  case JH_STATE_BLOCKED:
    p->t[i].validation = 1;
    break;
  default:
    break;
  }
}

/* ---- may a task start ---- */

/* NULL when every parent allows task i to start; else the reason in buf.
 * A parent outside the selection is judged on its last result in this
 * job. */
static const char *parents_block(const jh_plan *p, size_t i, char *buf,
                                 size_t size) {
  const jh_graph *g = p->graph;
  for (size_t k = 0; k < g->nparents[i]; k++) {
    const jh_plan_task *q = &p->t[g->parents[i][k]];
    jh_plan_parent pp = {.id = q->def->id,
                         .selected = q->phase != JH_PHASE_EXCLUDED};
    const char *why;
    if (pp.selected) {
      pp.ended = q->phase == JH_PHASE_DONE;
      pp.state = q->state;
      pp.produced_output = q->produced_output;
    } else {
      pp.ended = q->last_known;
      pp.state = q->last_state;
      pp.produced_output = q->last_output;
      pp.instance = q->last_instance;
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
static void dirty_marker(jh_plan *p, jh_plan_marker *m) {
  size_t pick = p->marker_ok;
  int rank = pick != JH_PLAN_NONE ? 3 : 0; /* 3 Succeeded, 2 selected, 1 */
  for (size_t i = 0; i < p->n && rank < 3; i++) {
    const jh_plan_task *t = &p->t[i];
    int here;
    if (!t->sets_dirty)
      continue;
    here = t->phase == JH_PHASE_DONE && t->state == JH_STATE_SUCCEEDED ? 3
           : t->phase != JH_PHASE_EXCLUDED                             ? 2
                                                                       : 1;
    if (here > rank) {
      pick = i;
      rank = here;
    }
  }
  memset(m, 0, sizeof(*m));
  if (pick == JH_PLAN_NONE)
    return;
  if (rank == 3) /* a task that ended stays as it ended */
    p->marker_ok = pick;
  m->id = p->t[pick].def->id;
  m->type = p->t[pick].def->type;
  m->selected = p->t[pick].phase != JH_PHASE_EXCLUDED;
  m->ended = p->t[pick].phase == JH_PHASE_DONE;
  m->state = p->t[pick].state;
}

const char *jh_plan_start_verdict(jh_plan *p, size_t i, char *buf,
                                  size_t size) {
  jh_plan_marker m;
  const char *why = parents_block(p, i, buf, size);
  if (why != NULL || !p->t[i].reads_dirty)
    return why;
  dirty_marker(p, &m);
  return jh_plan_dirty_verdict(1, &m, buf, size);
}

/* In dependencies mode: 1 when every parent in the run has ended, and,
 * for a dirty task, every selected task that sets dirty flags. */
static int parents_done(const jh_plan *p, size_t i) {
  const jh_graph *g = p->graph;
  for (size_t k = 0; k < g->nparents[i]; k++) {
    jh_phase ph = p->t[g->parents[i][k]].phase;
    if (ph != JH_PHASE_EXCLUDED && ph != JH_PHASE_DONE)
      return 0;
  }
  return !p->t[i].reads_dirty || p->nmarkers_open == 0;
}

static int ready(const jh_plan_task *t, int64_t now) {
  return t->phase == JH_PHASE_PENDING ||
         (t->phase == JH_PHASE_WAIT_RETRY && t->retry_at <= now);
}

static size_t next_by_dependencies(const jh_plan *p, int64_t now) {
  if (p->npending == 0 && p->nretry == 0)
    return JH_PLAN_NONE;
  for (size_t i = 0; i < p->n; i++)
    if (ready(&p->t[i], now) && parents_done(p, i))
      return i;
  return JH_PLAN_NONE;
}

/* Levels: steps are sorted by launch group; the cursor is the first step
 * that has not ended, so its group is the one that runs. */
static size_t next_by_levels(jh_plan *p, int64_t now) {
  const size_t *steps = p->graph->steps;
  size_t group;
  while (p->cursor < p->n &&
         (p->t[steps[p->cursor]].phase == JH_PHASE_DONE ||
          p->t[steps[p->cursor]].phase == JH_PHASE_EXCLUDED))
    p->cursor++;
  if (p->cursor == p->n)
    return JH_PLAN_NONE;
  group = p->t[steps[p->cursor]].group;
  for (size_t k = p->cursor; k < p->n && p->t[steps[k]].group == group; k++)
    if (ready(&p->t[steps[k]], now))
      return steps[k];
  return JH_PLAN_NONE;
}

size_t jh_plan_next(jh_plan *p, int64_t now) {
  const jh_pipeline *pl = p->graph->pipeline;
  if (p->stop || p->nrunning >= (size_t)pl->max_parallel)
    return JH_PLAN_NONE;
  return pl->ordering == JH_ORDER_DEPENDENCIES ? next_by_dependencies(p, now)
                                               : next_by_levels(p, now);
}

/* ---- starting and ending ---- */

void jh_plan_skip(jh_plan *p, size_t i, jh_state state) {
  /* a retry is judged again before it starts (a connector may have been
   * blocked meanwhile) */
  assert(p->t[i].phase == JH_PHASE_PENDING ||
         p->t[i].phase == JH_PHASE_WAIT_RETRY);
  assert(state == JH_STATE_SKIPPED || state == JH_STATE_NOT_STARTED);
  set_done(p, i, state, 0);
}

void jh_plan_started(jh_plan *p, size_t i, int64_t now) {
  jh_plan_task *t = &p->t[i];
  assert(ready(t, now) && !p->stop);
  t->attempts++;
  t->timed_out = t->term_sent = 0;
  t->kill_at = 0;
  t->deadline = t->def->timeout_ms > 0 ? now + t->def->timeout_ms : 0;
  set_phase(p, i, JH_PHASE_RUNNING);
  assert(p->nrunning <= (size_t)p->graph->pipeline->max_parallel);
}

void jh_plan_start_failed(jh_plan *p, size_t i) {
  assert(p->t[i].phase == JH_PHASE_RUNNING);
  set_done(p, i, JH_STATE_ERROR, 0);
  stop_by(p, i, JH_STATE_ERROR);
}

/* The wait before attempt `attempts` + 1: retry_delay, doubled for each
 * attempt after the first (up to an hour or so). */
static long retry_delay(const jh_task_def *def, int attempts) {
  long delay = def->retry_delay_ms;
  for (int k = 1; k < attempts && delay < 3600000; k++)
    delay *= 2;
  return delay;
}

void jh_plan_attempt_ended(jh_plan *p, size_t i, jh_state state,
                           int produced_output, int64_t now, jh_plan_end *out) {
  jh_plan_task *t = &p->t[i];
  assert(t->phase == JH_PHASE_RUNNING);
  memset(out, 0, sizeof(*out));
  if (state == JH_STATE_ERROR && !p->stop && t->attempts <= t->def->retries) {
    out->retry = 1;
    out->delay_ms = retry_delay(t->def, t->attempts);
    out->state = state;
    t->retry_at = now + out->delay_ms;
    set_phase(p, i, JH_PHASE_WAIT_RETRY);
    return;
  }
  if (state == JH_STATE_ERROR && t->validation) {
    /* a failed validation committed nothing: the changes stay held */
    out->validation_failed = 1;
    state = JH_STATE_BLOCKED;
  }
  if (state == JH_STATE_ERROR && t->def->continue_on_error)
    state = JH_STATE_WARNING;
  if (state == JH_STATE_ERROR || state == JH_STATE_BLOCKED)
    stop_by(p, i, state);
  out->state = state;
  set_done(p, i, state, produced_output);
}

jh_state jh_plan_drop_retry(jh_plan *p, size_t i) {
  jh_state state = p->cancelled                     ? JH_STATE_CANCELLED
                   : p->t[i].def->continue_on_error ? JH_STATE_WARNING
                                                    : JH_STATE_ERROR;
  assert(p->t[i].phase == JH_PHASE_WAIT_RETRY && p->stop);
  set_done(p, i, state, 0);
  return state;
}

/* ---- stopping ---- */

void jh_plan_halt(jh_plan *p) { p->stop = 1; }

int jh_plan_cancel(jh_plan *p, int level) {
  int changed = 0;
  if (level >= JH_CANCEL_FINISH && !p->cancelled) {
    p->cancelled = 1;
    p->stop = 1;
    changed |= JH_PLAN_CANCELLED;
  }
  if (level >= JH_CANCEL_NOW && !p->cancel_now) {
    p->cancel_now = 1;
    changed |= JH_PLAN_CANCEL_NOW;
  }
  return changed;
}

int jh_plan_ask_stop(jh_plan *p, size_t i, int64_t now, long grace_ms) {
  jh_plan_task *t = &p->t[i];
  assert(t->phase == JH_PHASE_RUNNING);
  if (t->term_sent)
    return 0;
  t->term_sent = 1;
  t->kill_at = now + grace_ms;
  return 1;
}

jh_plan_due jh_plan_due_of(jh_plan *p, size_t i, int64_t now, long grace_ms) {
  jh_plan_task *t = &p->t[i];
  assert(t->phase == JH_PHASE_RUNNING);
  if (t->deadline > 0 && now >= t->deadline && !t->timed_out) {
    t->timed_out = 1;
    t->term_sent = 1;
    t->kill_at = now + grace_ms;
    return JH_DUE_TIMEOUT;
  }
  if (t->kill_at > 0 && now >= t->kill_at) {
    t->kill_at = 0;
    return JH_DUE_KILL;
  }
  return JH_DUE_NOTHING;
}

int64_t jh_plan_next_wakeup(const jh_plan *p, int64_t now, long max_wait_ms) {
  int64_t next = now + max_wait_ms;
  for (size_t k = 0; k < p->nrunning; k++) {
    const jh_plan_task *t = &p->t[p->running[k]];
    if (t->deadline > 0 && !t->timed_out && t->deadline < next)
      next = t->deadline;
    if (t->kill_at > 0 && t->kill_at < next)
      next = t->kill_at;
  }
  for (size_t i = 0; p->nretry > 0 && i < p->n; i++)
    if (p->t[i].phase == JH_PHASE_WAIT_RETRY && p->t[i].retry_at < next)
      next = p->t[i].retry_at;
  return next;
}

int jh_plan_active(const jh_plan *p) {
  return p->nrunning > 0 || p->nretry > 0 || (p->npending > 0 && !p->stop);
}

void jh_plan_tally_of(const jh_plan *p, jh_plan_tally *tally) {
  memset(tally, 0, sizeof(*tally));
  for (size_t i = 0; i < p->n; i++)
    if (p->t[i].phase == JH_PHASE_DONE)
      tally->count[p->t[i].state]++;
}

/* ---- the invariants, all at once ---- */

static const char *check_counts(const jh_plan *p) {
  size_t count[JH_PHASE_DONE + 1] = {0}, open_markers = 0;
  for (size_t i = 0; i < p->n; i++) {
    count[p->t[i].phase]++;
    open_markers += p->t[i].sets_dirty && phase_open(p->t[i].phase);
  }
  if (count[JH_PHASE_PENDING] != p->npending)
    return "npending is the number of pending tasks";
  if (count[JH_PHASE_WAIT_RETRY] != p->nretry)
    return "nretry is the number of tasks waiting for a retry";
  if (count[JH_PHASE_RUNNING] != p->nrunning)
    return "nrunning is the number of running tasks";
  if (count[JH_PHASE_DONE] != p->ndone)
    return "ndone is the number of ended tasks";
  if (p->n - count[JH_PHASE_EXCLUDED] != p->nselected)
    return "nselected is the number of tasks not excluded";
  if (open_markers != p->nmarkers_open)
    return "nmarkers_open is the number of open tasks that set dirty flags";
  return NULL;
}

static const char *check_tasks(const jh_plan *p) {
  for (size_t k = 0; k < p->nrunning; k++)
    if (p->running[k] >= p->n || p->t[p->running[k]].phase != JH_PHASE_RUNNING)
      return "the running list holds running tasks";
  if (p->nrunning > (size_t)p->graph->pipeline->max_parallel)
    return "at most max_parallel tasks run";
  for (size_t i = 0; i < p->n; i++) {
    const jh_plan_task *t = &p->t[i];
    if (t->phase == JH_PHASE_DONE && t->state > JH_STATE_INTERRUPTED)
      return "an ended task has a state";
    if ((t->phase == JH_PHASE_RUNNING || t->phase == JH_PHASE_WAIT_RETRY) &&
        t->attempts == 0)
      return "a running or retried task made an attempt";
    if (t->phase == JH_PHASE_WAIT_RETRY && t->attempts > t->def->retries)
      return "a task waits for a retry only while attempts remain";
  }
  for (size_t k = 0; k < p->cursor && k < p->n; k++) {
    jh_phase ph = p->t[p->graph->steps[k]].phase;
    if (ph != JH_PHASE_DONE && ph != JH_PHASE_EXCLUDED)
      return "every step before the cursor has ended or is excluded";
  }
  return NULL;
}

static const char *check_stop(const jh_plan *p) {
  if (p->cancelled && !p->stop)
    return "a cancelled job starts nothing";
  if (p->stopped_by != JH_PLAN_NONE &&
      (!p->stop || p->stopped_by >= p->n ||
       p->t[p->stopped_by].phase != JH_PHASE_DONE))
    return "the task that stopped the job has ended";
  if (p->marker_ok != JH_PLAN_NONE &&
      (p->t[p->marker_ok].phase != JH_PHASE_DONE ||
       p->t[p->marker_ok].state != JH_STATE_SUCCEEDED))
    return "the dirty-flag task that Succeeded stays so";
  return NULL;
}

const char *jh_plan_check(const jh_plan *p) {
  const char *why = check_counts(p);
  if (why == NULL)
    why = check_tasks(p);
  if (why == NULL)
    why = check_stop(p);
  return why;
}
