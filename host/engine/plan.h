/*
 * plan.h — the scheduling rules of a job, as pure functions and one state
 * machine with no I/O.
 *
 * The plan decides: which tasks a run selects (--task/--from/--to, and on
 * resume which earlier results stand), which task may start next (launch
 * groups or parent links, max_parallel, retry backoff), why a task is
 * Skipped (its parents, the dirty flags), how an attempt's end counts
 * (retry, continue_on_error, a failed validation, what stops the job),
 * when a running task is asked to stop (timeout, cancel) and killed, and
 * how the job ends. It reads only its arguments: no store, no process, no
 * clock (times come in as arguments, in milliseconds of one monotonic
 * clock), so that the rules are tested on their own (tests/host/
 * test_plan.c, test_schedule.c). The executor (executor.c) does the I/O
 * around it. doc/jobs.md describes the rules for users.
 *
 * Every change of a task's phase goes through this module, which asserts
 * its invariants there; jh_plan_check() verifies all of them at once.
 */
#ifndef JH_PLAN_H
#define JH_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
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

/* ---- the plan of one run ---- */

typedef enum jh_phase {
  JH_PHASE_EXCLUDED = 0, /* not part of this run */
  JH_PHASE_PENDING,      /* may start once its group (or parents) allow */
  JH_PHASE_RUNNING,      /* an attempt is under way */
  JH_PHASE_WAIT_RETRY,   /* an attempt failed; starts again at retry_at */
  JH_PHASE_DONE          /* ended (state) */
} jh_phase;

typedef struct jh_plan_task {
  const jh_task_def *def;
  int level;
  size_t group;    /* launch group (jh_plan_group), by step position */
  int reads_dirty; /* runs only after a task that sets dirty flags */
  int sets_dirty;  /* its type sets dirty flags */
  jh_phase phase;
  jh_state state; /* when JH_PHASE_DONE */
  int produced_output;
  int attempts;     /* started in this run */
  int validation;   /* resume of a Blocked task: validates its changes */
  int64_t retry_at; /* JH_PHASE_WAIT_RETRY: when it may start again */
  int64_t deadline; /* running: when its timeout expires (0: none) */
  int64_t kill_at;  /* running: when it is killed (0: not asked to stop) */
  int timed_out;    /* running: its timeout expired */
  int term_sent;    /* running: it was asked to stop */
  /* excluded: its last result in this job, for the tasks it is a parent
   * of (last_known 0: none, or not looked for) */
  int last_known;
  jh_state last_state;
  int last_output;
  int64_t last_instance;
} jh_plan_task;

#define JH_PLAN_NONE ((size_t)-1)

typedef struct jh_plan {
  const jh_graph *graph; /* borrowed; its pipeline gives the tasks */
  size_t n;
  jh_plan_task *t; /* n, by task index */
  size_t *running; /* indices of the running tasks */
  size_t nrunning;
  size_t npending;        /* tasks in JH_PHASE_PENDING */
  size_t nretry;          /* tasks in JH_PHASE_WAIT_RETRY */
  size_t ndone;           /* selected tasks that ended */
  size_t nselected;       /* tasks not excluded */
  size_t nmarkers_open;   /* tasks that set dirty flags, selected, open */
  size_t marker_ok;       /* one of them that Succeeded, or JH_PLAN_NONE */
  size_t cursor;          /* levels: first step that has not ended */
  int stop;               /* no new task starts */
  int cancelled;          /* the job ends Cancelled */
  int cancel_now;         /* running tasks are asked to stop */
  size_t stopped_by;      /* the task that stopped the job, or JH_PLAN_NONE */
  jh_state stopped_state; /* how it ended: Error outranks Blocked */
} jh_plan;

/* The steps a run selects: one task, or a range of steps (NULL: from the
 * first, to the last). */
typedef struct jh_plan_selection {
  const char *only; /* --task */
  const char *from; /* --from */
  const char *to;   /* --to */
} jh_plan_selection;

/*
 * Check a selection against the graph's job: every name is a task, --task
 * is alone, --from does not come after --to. Returns 0 or JOBHOST_ECONFIG
 * with the errors in diags.
 */
int jh_plan_check_selection(const jh_graph *g, const jh_plan_selection *s,
                            jh_diags *diags);

/* 1 when steps[k] is selected by s (checked, jh_plan_check_selection). */
int jh_plan_step_selected(const jh_graph *g, const jh_plan_selection *s,
                          size_t k);

/*
 * A plan for graph g with the tasks s selects (PENDING) and the others
 * excluded. Returns 0, or -ENOMEM (*p is then empty). Free with
 * jh_plan_clear.
 */
int jh_plan_init(jh_plan *p, const jh_graph *g, const jh_plan_selection *s);
void jh_plan_clear(jh_plan *p);

/* 1 when the last result of task i (excluded) is needed: it is a parent of
 * a selected task and not yet known. */
int jh_plan_needs_last_result(const jh_plan *p, size_t i);

/* The last result in this job of excluded task i. */
void jh_plan_set_last_result(jh_plan *p, size_t i, jh_state state,
                             int produced_output, int64_t instance);

/*
 * Resume: task i has a row `recorded` from an earlier run of the
 * instance. A Blocked task is selected whatever the steps (its held
 * changes are validated). Returns 1 when the row concerns this run (the
 * task is selected), else 0.
 */
int jh_plan_resume_select(jh_plan *p, size_t i, jh_state recorded);

/*
 * Resume: what an earlier run's row means for selected task i. An ended
 * task (Succeeded, Warning, Error, Skipped) keeps its state and output;
 * an Error stops the job before anything starts. A Blocked task is
 * validated. Anything else (it was running, interrupted, cancelled) runs
 * again.
 */
void jh_plan_resume_apply(jh_plan *p, size_t i, jh_state state,
                          int produced_output);

/*
 * The next task that may start at time now, or JH_PLAN_NONE: nothing new
 * starts once the job stopped, nor beyond max_parallel running tasks;
 * with ordering: levels, only tasks of the first launch group that has
 * not ended; with ordering: dependencies, a task whose parents in the run
 * have all ended (and, for a dirty task, every selected task that sets
 * dirty flags). A task waiting for a retry is ready at its retry_at.
 * The caller then either starts it (jh_plan_started) or skips it
 * (jh_plan_skip), with jh_plan_start_verdict.
 */
size_t jh_plan_next(jh_plan *p, int64_t now);

/* NULL when the parents and dirty flags let task i start; else why it is
 * Skipped, written in buf. */
const char *jh_plan_start_verdict(jh_plan *p, size_t i, char *buf, size_t size);

/* Task i (pending, or waiting for a retry) ends without being launched:
 * Skipped or NotStarted. */
void jh_plan_skip(jh_plan *p, size_t i, jh_state state);

/* An attempt of task i starts at time now (its deadline from its
 * timeout). */
void jh_plan_started(jh_plan *p, size_t i, int64_t now);

/* The attempt of task i could not be made (the host could not prepare
 * it): it ends Error, and stops the job. */
void jh_plan_start_failed(jh_plan *p, size_t i);

/* How an attempt's end counts. */
typedef struct jh_plan_end {
  int retry; /* it starts again after delay_ms */
  long delay_ms;
  int validation_failed; /* an Error of a validation: Blocked again */
  jh_state state;        /* the task's state (retry: the attempt's) */
} jh_plan_end;

/*
 * The attempt of running task i ended at time now in state (what its
 * result means, jh_plan_result_state and the executor's view of how it
 * ended), having produced output or not. An Error is retried while
 * attempts remain and the job goes on (backoff: retry_delay doubling,
 * from the second attempt on); else a validation's Error leaves the task
 * Blocked, continue_on_error makes an Error a Warning, and an Error or a
 * Blocked task stops the job (the first names it, but an Error outranks a
 * Blocked task).
 */
void jh_plan_attempt_ended(jh_plan *p, size_t i, jh_state state,
                           int produced_output, int64_t now, jh_plan_end *out);

/* Task i waited for a retry when the job stopped: it does not start
 * again. Cancelled when the job was cancelled, else its last attempt's
 * failure stands (Warning with continue_on_error, else Error). */
jh_state jh_plan_drop_retry(jh_plan *p, size_t i);

/* Nothing new starts (the runner can start no attempt any more). */
void jh_plan_halt(jh_plan *p);

/* The cancel level asked (JH_CANCEL_*). Returns a mask of what it changes
 * now: JH_PLAN_CANCELLED (nothing new starts, the job ends Cancelled),
 * JH_PLAN_CANCEL_NOW (the running tasks are to be asked to stop). */
#define JH_PLAN_CANCELLED 1
#define JH_PLAN_CANCEL_NOW 2
int jh_plan_cancel(jh_plan *p, int level);

/* Running task i is asked to stop at time now: it is killed after
 * grace_ms. Returns 1 when it had not been asked yet. */
int jh_plan_ask_stop(jh_plan *p, size_t i, int64_t now, long grace_ms);

/* What a running task's clock asks for. */
typedef enum jh_plan_due {
  JH_DUE_NOTHING = 0,
  JH_DUE_TIMEOUT, /* its timeout expired: ask it to stop */
  JH_DUE_KILL     /* asked to stop grace_ms ago: kill it */
} jh_plan_due;

/* For running task i at time now: what is due (and marked as done). */
jh_plan_due jh_plan_due_of(jh_plan *p, size_t i, int64_t now, long grace_ms);

/* The first time after now when something is due (a deadline, a kill, a
 * retry), at most now + max_wait_ms. */
int64_t jh_plan_next_wakeup(const jh_plan *p, int64_t now, long max_wait_ms);

/* 1 while something runs, waits for a retry, or may still start. */
int jh_plan_active(const jh_plan *p);

/* The tally of the ended tasks, for jh_plan_job_state. */
void jh_plan_tally_of(const jh_plan *p, jh_plan_tally *tally);

/*
 * Verify every invariant of the plan (counts, the running list, the
 * cursor, the states of ended tasks, the stop). Returns NULL when they
 * hold, else which one fails (a static string).
 */
const char *jh_plan_check(const jh_plan *p);

#endif /* JH_PLAN_H */
