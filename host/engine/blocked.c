/*
 * blocked.c — see blocked.h.
 */
#include "config.h"

#include "blocked.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sqlite3.h>

#include "collect_batch.h"
#include "model.h"

/* The steps of a connector's synchronization (jobhost/plugin.h). */
#define SYNC_STEPS                                                            \
  (JOBHOST_TASK_EXPORTS | JOBHOST_TASK_PREPARES | JOBHOST_TASK_SYNCHRONIZES)

static const char *param(const jh_task_def *t, const char *key) {
  const jh_value *v = jh_task_value(t, key);
  return v != NULL ? v->text : NULL;
}

/* The connector of a synchronization task, or NULL. */
static const char *task_connector(const jh_pipeline *p, const jh_task_def *t) {
  const char *c = param(t, JOBHOST_PARAM_NAME_CONNECTOR);
  if (c == NULL && (jh_task_flags(t) & JOBHOST_TASK_EXPORTS) &&
      p->model != NULL) {
    const char *conn = param(t, JOBHOST_PARAM_NAME_CONNECTION);
    const jh_connection *cn =
        conn != NULL ? jh_model_connection(p->model, conn) : NULL;
    c = cn != NULL ? cn->connector : NULL;
  }
  return c;
}

static int incremental_prepare(const jh_task_def *t) {
  jh_batch_mode mode;
  return (jh_task_flags(t) & JOBHOST_TASK_PREPARES) &&
         jh_batch_mode_parse(param(t, JOBHOST_PARAM_NAME_SYNC_MODE),
                             &mode) == 0 &&
         mode == JH_BATCH_INCREMENTAL;
}

const char *jh_task_incremental_connector(const jh_pipeline *p,
                                          const jh_task_def *t) {
  const char *c;
  if (!(jh_task_flags(t) & SYNC_STEPS))
    return NULL;
  if ((c = task_connector(p, t)) == NULL)
    return NULL;
  for (size_t i = 0; i < p->ntasks; i++) {
    const char *pc;
    if (!incremental_prepare(&p->tasks[i]))
      continue;
    pc = param(&p->tasks[i], JOBHOST_PARAM_NAME_CONNECTOR);
    if (pc != NULL && strcasecmp(pc, c) == 0)
      return c;
  }
  return NULL;
}

/* The task instance blocking connector c and its job instance (0 when
 * unknown); 0 in *task when c is not blocked. */
static int read_block(sqlite3 *db, const char *c, int64_t *task,
                      int64_t *job) {
  sqlite3_stmt *q = NULL;
  int rc = -1;
  *task = *job = 0;
  if (sqlite3_prepare_v2(db, "SELECT coalesce(blocked_task_instance, 0) "
                         "FROM sync_state WHERE connector = ?1", -1, &q,
                         NULL) != SQLITE_OK)
    goto out;
  sqlite3_bind_text(q, 1, c, -1, SQLITE_STATIC);
  rc = sqlite3_step(q);
  if (rc == SQLITE_ROW)
    *task = sqlite3_column_int64(q, 0);
  rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
  sqlite3_finalize(q);
  q = NULL;
  /* stores older than the holds table know no job instance */
  if (rc == 0 && *task > 0 &&
      sqlite3_prepare_v2(db, "SELECT coalesce(job_instance, 0) FROM holds "
                         "WHERE task_instance = ?1", -1, &q,
                         NULL) == SQLITE_OK) {
    sqlite3_bind_int64(q, 1, *task);
    if (sqlite3_step(q) == SQLITE_ROW)
      *job = sqlite3_column_int64(q, 0);
  }
out:
  sqlite3_finalize(q);
  return rc;
}

const char *jh_blocked_reason(const char *identity_store,
                              const jh_pipeline *p, const jh_task_def *t,
                              int64_t instance, char *why, size_t size) {
  const char *c = jh_task_incremental_connector(p, t);
  sqlite3 *db = NULL;
  int64_t task = 0, job = 0;
  int rc;

  if (c == NULL || identity_store == NULL ||
      access(identity_store, F_OK) != 0)
    return NULL;
  if (sqlite3_open_v2(identity_store, &db, SQLITE_OPEN_READONLY, NULL) !=
      SQLITE_OK) {
    sqlite3_close(db);
    return NULL; /* the synchronize task itself reports the store */
  }
  sqlite3_busy_timeout(db, 5000);
  rc = read_block(db, c, &task, &job);
  sqlite3_close(db);
  if (rc != 0 || task == 0 || (job > 0 && job == instance))
    return NULL;
  if (job > 0)
    snprintf(why, size, "connector %s is blocked by job instance %" PRId64
             " (changes over a threshold held by task instance %" PRId64
             "): its incremental tasks are left out until `jobhost resume "
             "%" PRId64 "` or a complete synchronization of %s", c, job,
             task, job, c);
  else
    snprintf(why, size, "connector %s is blocked by task instance %" PRId64
             " (changes over a threshold): its incremental tasks are left "
             "out until its job instance is resumed or a complete "
             "synchronization of %s runs", c, task, c);
  return why;
}
