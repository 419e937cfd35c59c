/*
 * plan.h — the scheduling rules of a job, as pure functions.
 *
 * The executor (executor.c) asks these functions what a task's result
 * means, whether a task may start and how the job ends; they read only
 * their arguments (no store, no process, no clock), so that the rules can
 * be tested on their own. doc/jobs.md describes the rules for users.
 */
#ifndef JH_PLAN_H
#define JH_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "store.h"

/*
 * The state a task's run result means for a task of a type with these
 * flags (JOBHOST_TASK_*): 0 Succeeded; JOBHOST_EBLOCKED Blocked when the
 * type is declared able to block (JOBHOST_TASK_CAN_BLOCK), else Error with
 * the reason in why; JOBHOST_ECANCELLED Cancelled; anything else Error.
 * why (size >= 1) is set to "" when there is nothing to add.
 */
jh_state jh_plan_result_state(int result, const char *type_name,
                              unsigned type_flags, char *why, size_t size);

/* How many tasks of the run ended in each state. */
typedef struct jh_plan_tally {
  size_t count[JH_STATE_INTERRUPTED + 1];
} jh_plan_tally;

/*
 * The state a job ends in: Cancelled when it was cancelled; else Error
 * when a task ended in (untolerated) Error or the store failed, even if
 * another task is Blocked: an error is not resumable, a block is; else
 * Blocked; else Warning when a task ended in Warning; else Succeeded.
 */
jh_state jh_plan_job_state(const jh_plan_tally *tally, int cancelled,
                           int store_failed);

/* What the plan knows of a parent when its child is about to start. */
typedef struct jh_plan_parent {
  const char *id;
  int selected;        /* part of this run */
  int ended;           /* selected: it has ended; not selected: a result of
                          it exists in the store for this job */
  jh_state state;      /* when ended */
  int produced_output; /* when ended */
  int64_t instance;    /* not selected: the job instance of that result */
} jh_plan_parent;

/*
 * NULL when the parent lets its child start: it Succeeded and produced
 * output, in this run, or (when it is outside the selection) in its last
 * result for this job. Else the reason, written in buf.
 */
const char *jh_plan_parent_verdict(const jh_plan_parent *p, char *buf,
                                   size_t size);

/* What the plan knows of the job's tasks that set dirty flags
 * (JOBHOST_TASK_SETS_DIRTY), when a dirty task is about to start. */
typedef struct jh_plan_marker {
  const char *id;   /* the one reported (NULL: the job has none) */
  const char *type; /* its type */
  int selected;     /* it is part of this run */
  int ended;        /* selected, and it has ended */
  jh_state state;   /* when ended */
} jh_plan_marker;

/*
 * NULL when a task may start as far as dirty flags go: it does not read
 * them (reads_dirty 0: its type lacks JOBHOST_TASK_READS_DIRTY or its
 * `dirty` is not true) or the marker Succeeded in this run. Else the
 * reason in buf: the job has no such task, it is not selected, it has not
 * ended yet, or how it ended.
 */
const char *jh_plan_dirty_verdict(int reads_dirty, const jh_plan_marker *m,
                                  char *buf, size_t size);

/*
 * The launch group of steps[k] with ordering: levels: the tasks of one
 * group start together and the next group waits for all of them. With
 * level_overflow: levels (the default) a group is one Order of `steps`
 * (a level of more than max_parallel tasks is cut into extra levels);
 * with level_overflow: window it is the whole level, at most max_parallel
 * of its tasks running at once (the executor keeps that cap).
 */
size_t jh_plan_group(const jh_graph *g, size_t k);

#endif /* JH_PLAN_H */
