/*
 * store.h — the embedded SQLite store: job and task instances.
 *
 * One SQLite file (WAL, busy timeout) under the jobhost home, reached
 * through the database layer (lib/db.h); this header does not expose
 * SQLite. The schema
 * carries a version (PRAGMA user_version) and is brought up to date by an
 * ordered list of migrations when the store is opened; a new table or
 * column is a new migration. (Resources, links and changes live in the
 * identity store, lib/idstore.h.)
 *
 * Times are milliseconds since the Unix epoch (UTC), as lib/timefmt.h
 * reads and writes them.
 *
 * Every function returns 0 or a negative code (-ENOENT for a missing row,
 * -EBUSY for a held job, -EIO for an SQLite failure, -ENOMEM); on -EIO the
 * SQLite message is available from jh_store_errmsg().
 */
#ifndef JH_STORE_H
#define JH_STORE_H

#include <stddef.h>
#include <stdint.h>

struct jh_db;

#include "timefmt.h"

typedef struct jh_store jh_store;

/* States of job and task instances. Stored as their names. */
typedef enum jh_state {
  JH_STATE_NOT_STARTED = 0, /* task: never launched */
  JH_STATE_RUNNING,         /* job or task in progress */
  JH_STATE_SUCCEEDED,
  JH_STATE_WARNING,
  JH_STATE_ERROR,
  JH_STATE_BLOCKED,
  JH_STATE_SKIPPED, /* task: a parent did not succeed with output */
  JH_STATE_CANCELLED,
  JH_STATE_INTERRUPTED /* job: its host died while it was Running */
} jh_state;

/* "NotStarted", "Running", "Succeeded", "Warning", "Error", "Blocked",
 * "Skipped", "Cancelled", "Interrupted". */
const char *jh_state_name(jh_state s);
/* Returns 0 and *out, or -EINVAL. */
int jh_state_parse(const char *name, jh_state *out);

/* Open (creating and migrating as needed) the store at path. On failure
 * returns a negative code and writes a reason into err. */
int jh_store_open(const char *path, jh_store **out, char *err, size_t errsize);
/* NULL is a no-op. */
void jh_store_close(jh_store *s);
/* The underlying connection (lib/db.h), for modules that own further
 * tables and for tests that inspect it. */
struct jh_db *jh_store_db(jh_store *s);
/* Last SQLite error message (static until the next call). */
const char *jh_store_errmsg(jh_store *s);
/* Schema version after migrations. */
int jh_store_schema_version(jh_store *s);

/*
 * Group the writes that follow into one transaction, committed by
 * jh_store_batch_end: the executor records the tasks that end and start
 * in one turn of its loop together. Batches do not nest, and no function
 * that takes its own transaction (job start, resume, cancel, finish, list)
 * may be called inside one. A batch holds the store's write lock from its
 * beginning. jh_store_batch_end commits (or, when the commit fails, rolls
 * back and returns -EIO).
 */
int jh_store_batch_begin(jh_store *s);
int jh_store_batch_end(jh_store *s);

/*
 * Keep a reserve file of 1 MiB at path (made when missing): when a write
 * fails because the disk is full, the store removes it, so that the few
 * writes that record how the job ended find room. 0, or a negative errno
 * when no reserve could be made (the store works without one).
 */
int jh_store_keep_reserve(jh_store *s, const char *path);
/* 1 once the reserve was removed to make room, else 0. */
int jh_store_reserve_released(jh_store *s);

/* ---- job instances ---- */

/*
 * Start a job instance of job_id for the host process pid. In one
 * immediate transaction: an instance of the same job still Running whose
 * host process is alive makes this return -EBUSY with its id in *holder;
 * one whose host process is gone is marked Interrupted first. Then a new
 * Running instance is inserted and its id returned in *instance.
 */
int jh_store_job_start(jh_store *s, const char *job_id,
                       const char *pipeline_path, long pid, int64_t *instance,
                       int64_t *holder);

/*
 * Record the steps an instance was started with (--task, --from, --to;
 * each may be NULL), so that `jobhost resume` runs the same selection.
 * -ENOENT when there is no such instance.
 */
int jh_store_job_select(jh_store *s, int64_t instance, const char *task,
                        const char *from, const char *to);

/*
 * Take a finished instance up again for `jobhost resume`: only Blocked,
 * Interrupted and Cancelled instances can be resumed (-EINVAL otherwise;
 * -EBUSY with *holder when another instance of the job is running). The
 * instance becomes Running with the new pid; its cancel request is reset.
 */
int jh_store_job_resume(jh_store *s, int64_t instance, long pid,
                        int64_t *holder);

/* End an instance: state, one-line message (may be NULL) and the run
 * report JSON (may be NULL), all copied. */
int jh_store_job_finish(jh_store *s, int64_t instance, jh_state state,
                        const char *message, const char *report_json);

/* Ask a running instance to stop: sets its cancel flag and returns the pid
 * of its host in *pid. -EINVAL when the instance is not Running. */
int jh_store_job_cancel(jh_store *s, int64_t instance, long *pid);

/* Cancel levels: a plain cancel lets running tasks finish; "now" asks
 * them to stop. */
#define JH_CANCEL_FINISH 1
#define JH_CANCEL_NOW 2

/* As jh_store_job_cancel, at a level (a request never goes down). */
int jh_store_job_cancel_level(jh_store *s, int64_t instance, int level,
                              long *pid);

/* The cancel level requested for the instance (0 when none), or < 0. */
int jh_store_job_cancel_requested(jh_store *s, int64_t instance);

typedef struct jh_job_row {
  int64_t instance;
  char *job_id;
  char *pipeline_path;
  jh_state state;
  int64_t started_ms;
  int64_t ended_ms; /* 0 while running */
  long pid;
  long long host_start; /* when the host process started (clock ticks
                           since boot), to tell a reused pid; 0: unknown */
  char *message;        /* may be NULL */
  /* the steps the run was given, which its resume keeps: --task, or
   * --from and --to (NULL when not given) */
  char *select_task;
  char *select_from;
  char *select_to;
} jh_job_row;

/* One instance (-ENOENT when there is none). Free with jh_job_row_clear. */
int jh_store_job_get(jh_store *s, int64_t instance, jh_job_row *out);

/* Newest first; job_id NULL for every job; limit 0 for no limit. Running
 * instances whose host is gone are marked Interrupted first. Free with
 * jh_job_rows_free. */
int jh_store_job_list(jh_store *s, const char *job_id, size_t limit,
                      jh_job_row **rows, size_t *n);

/* The report kept with an instance, malloc'd (caller frees), or NULL with
 * -ENOENT in *rc when none was kept. */
char *jh_store_job_report(jh_store *s, int64_t instance, int *rc);

void jh_job_row_clear(jh_job_row *r);
void jh_job_rows_free(jh_job_row *rows, size_t n);

/* ---- task instances ---- */

/* A launched task: a Running row. attempt is 1 for the first try. */
int jh_store_task_start(jh_store *s, int64_t instance, const char *task_id,
                        const char *task_type, int level, int attempt,
                        const char *log_path, int64_t *task_instance);

/* End a launched task. counters_json is a JSON object text (may be NULL). */
int jh_store_task_finish(jh_store *s, int64_t task_instance, jh_state state,
                         const char *message, int produced_output,
                         const char *counters_json);

/* While a task runs: its progress line (in the message) and counters so
 * far, so that `jobhost show` tells how far it got. Only a Running row is
 * touched. */
int jh_store_task_progress(jh_store *s, int64_t task_instance,
                           const char *message, const char *counters_json);

/* Forget the log path of a task instance (its attempt wrote no log). */
int jh_store_task_clear_log(jh_store *s, int64_t task_instance);

/* A task that was not launched (Skipped, NotStarted, Cancelled): one row
 * with its reason, no start time. */
int jh_store_task_record(jh_store *s, int64_t instance, const char *task_id,
                         const char *task_type, int level, jh_state state,
                         const char *message);

typedef struct jh_task_row {
  int64_t id;
  char *task_id;
  char *task_type;
  int level;
  int attempt;
  jh_state state;
  int64_t started_ms; /* 0 when never launched */
  int64_t ended_ms;
  int produced_output;
  char *counters_json; /* may be NULL */
  char *message;       /* may be NULL */
  char *log_path;      /* may be NULL */
} jh_task_row;

/*
 * Write a task instance's final row again after a failed write of the
 * store (row->id is the id it was given; its task_id, task_type, level,
 * attempt, state, times, output flag, counters, message and log path are
 * written). When that row is not there any more (it went with the failed
 * write), a new row is made; *task_instance (may be NULL) receives the id
 * used.
 */
int jh_store_task_rerecord(jh_store *s, int64_t instance,
                           const jh_task_row *row, int64_t *task_instance);

/* Task instances of a job instance, in the order they were recorded. Free
 * with jh_task_rows_free. */
int jh_store_task_list(jh_store *s, int64_t instance, jh_task_row **rows,
                       size_t *n);
void jh_task_rows_free(jh_task_row *rows, size_t n);

/* The latest task instance of task_id in any instance of job_id: 0 with
 * *out (free with jh_task_row_clear) and its job instance in *instance,
 * -ENOENT when the task never has one, or another negative code. */
int jh_store_task_last(jh_store *s, const char *job_id, const char *task_id,
                       jh_task_row *out, int64_t *instance);
void jh_task_row_clear(jh_task_row *row);

#endif /* JH_STORE_H */
