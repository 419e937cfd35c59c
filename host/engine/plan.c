/*
 * plan.c — see plan.h.
 */
#include "config.h"

#include "plan.h"

#include <stdio.h>

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
    snprintf(buf, size, "dirty: %s (%s) is not among the selected steps",
             m->id, m->type);
  else if (!m->ended)
    snprintf(buf, size, "dirty: %s (%s) had not ended when the task was to "
             "start", m->id, m->type);
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
