/*
 * test_store.c — the SQLite store of job and task instances (schema and
 * migrations, the one-running-instance rule with live and dead host
 * processes, resume and cancel rules, task rows, reports) and the jobhost
 * home (root resolution and folders).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "atomic_file.h"
#include "db.h"
#include "home.h"
#include "idstore.h"
#include "store.h"
#include "sweep.h"
#include "harness.h"

/* A temporary folder and a store in it, per test. */
/* The store's own connection, to inspect it. */
static sqlite3 *store_sqlite(jh_store *s) {
  return jh_db_sqlite(jh_store_db(s));
}

struct fixture {
  char dir[PATH_MAX];
  char db[PATH_MAX + 16];
  jh_store *s;
};

static int setup(void **state) {
  struct fixture *f = jh_test_fixture(sizeof(*f), sizeof(f->dir));
  char err[512];
  snprintf(f->db, sizeof(f->db), "%s/jobhost.db", f->dir);
  if (jh_store_open(f->db, &f->s, err, sizeof(err)) != 0)
    fail_msg("open %s: %s", f->db, err);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  jh_store_close(f->s);
  jh_test_fixture_free(f);
  return 0;
}

static int64_t pragma_int(jh_store *s, const char *sql) {
  sqlite3_stmt *st;
  int64_t v;
  assert_int_equal(sqlite3_prepare_v2(store_sqlite(s), sql, -1, &st, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

/* ---- schema ---- */

static void test_migrations_new_and_reopen(void **state) {
  struct fixture *f = *state;
  sqlite3_stmt *st;
  char err[512];
  int version = jh_store_schema_version(f->s);

  assert_true(version >= 1);
  assert_int_equal(pragma_int(f->s, "PRAGMA user_version"), version);
  assert_int_equal(pragma_int(f->s, "PRAGMA foreign_keys"), 1);
  assert_int_equal(pragma_int(f->s, "PRAGMA busy_timeout"), 5000);
  assert_int_equal(sqlite3_prepare_v2(store_sqlite(f->s), "PRAGMA journal_mode",
                                      -1, &st, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
  sqlite3_finalize(st);
  assert_int_equal(pragma_int(f->s,
                              "SELECT count(*) FROM sqlite_master WHERE name IN"
                              " ('job_instances', 'task_instances')"),
                   2);

  /* Reopening leaves the version (and the data) as they were. */
  jh_store_close(f->s);
  f->s = NULL;
  assert_int_equal(jh_store_open(f->db, &f->s, err, sizeof(err)), 0);
  assert_int_equal(jh_store_schema_version(f->s), version);
  assert_int_equal(pragma_int(f->s, "PRAGMA user_version"), version);
}

static void test_newer_schema_refused(void **state) {
  struct fixture *f = *state;
  jh_store *other = NULL;
  char err[512] = "";

  assert_int_equal(sqlite3_exec(store_sqlite(f->s), "PRAGMA user_version = 99",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  assert_true(jh_store_open(f->db, &other, err, sizeof(err)) < 0);
  assert_null(other);
  assert_non_null(strstr(err, f->db));
  assert_non_null(strstr(err, "schema version 99"));
}

static void test_open_failure_names_path(void **state) {
  struct fixture *f = *state;
  jh_store *s = NULL;
  char path[PATH_MAX + 32], err[PATH_MAX + 256] = "";

  snprintf(path, sizeof(path), "%s/missing/jobhost.db", f->dir);
  assert_true(jh_store_open(path, &s, err, sizeof(err)) < 0);
  assert_null(s);
  assert_non_null(strstr(err, path));
}

/* ---- job instances ---- */

static void test_job_start_finish_get_list(void **state) {
  struct fixture *f = *state;
  int64_t a, b, c, holder = -1, before = jh_now_ms();
  jh_job_row row;
  jh_job_row *rows;
  size_t n;

  assert_int_equal(jh_store_job_start(f->s, "Job_HR", "/p/hr.yaml",
                                      (long)getpid(), &a, &holder),
                   0);
  assert_true(a > 0);
  assert_int_equal(holder, 0);
  assert_int_equal(jh_store_job_get(f->s, a, &row), 0);
  assert_int_equal(row.instance, a);
  assert_string_equal(row.job_id, "Job_HR");
  assert_string_equal(row.pipeline_path, "/p/hr.yaml");
  assert_int_equal(row.state, JH_STATE_RUNNING);
  assert_int_equal(row.pid, (long)getpid());
  assert_true(row.started_ms >= before && row.started_ms <= jh_now_ms());
  assert_int_equal(row.ended_ms, 0);
  assert_null(row.message);
  jh_job_row_clear(&row);

  assert_int_equal(jh_store_job_finish(f->s, a, JH_STATE_WARNING,
                                       "one task failed", NULL),
                   0);
  assert_int_equal(jh_store_job_get(f->s, a, &row), 0);
  assert_int_equal(row.state, JH_STATE_WARNING);
  assert_string_equal(row.message, "one task failed");
  assert_true(row.ended_ms >= row.started_ms);
  jh_job_row_clear(&row);

  assert_int_equal(
      jh_store_job_start(f->s, "Job_AD", NULL, (long)getpid(), &b, NULL), 0);
  assert_int_equal(jh_store_job_start(f->s, "Job_HR", "/p/hr.yaml",
                                      (long)getpid(), &c, NULL),
                   0);
  assert_true(a < b && b < c);

  assert_int_equal(jh_store_job_list(f->s, NULL, 0, &rows, &n), 0);
  assert_int_equal(n, 3);
  assert_int_equal(rows[0].instance, c);
  assert_int_equal(rows[1].instance, b);
  assert_null(rows[1].pipeline_path);
  assert_int_equal(rows[2].instance, a);
  jh_job_rows_free(rows, n);

  assert_int_equal(jh_store_job_list(f->s, "Job_HR", 0, &rows, &n), 0);
  assert_int_equal(n, 2);
  assert_int_equal(rows[0].instance, c);
  assert_int_equal(rows[1].instance, a);
  jh_job_rows_free(rows, n);

  assert_int_equal(jh_store_job_list(f->s, NULL, 1, &rows, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(rows[0].instance, c);
  jh_job_rows_free(rows, n);

  assert_int_equal(jh_store_job_list(f->s, "Nope", 0, &rows, &n), 0);
  assert_int_equal(n, 0);
  jh_job_rows_free(rows, n);

  assert_int_equal(jh_store_job_get(f->s, 12345, &row), -ENOENT);
  assert_int_equal(jh_store_job_finish(f->s, 12345, JH_STATE_SUCCEEDED, NULL,
                                       NULL),
                   -ENOENT);
  assert_int_equal(jh_store_job_finish(f->s, a, JH_STATE_RUNNING, NULL, NULL),
                   -EINVAL);
}

static void test_busy_while_host_alive(void **state) {
  struct fixture *f = *state;
  int64_t first, second = 0, holder = 0, other;
  jh_store *s2 = NULL;
  char err[512];

  assert_int_equal(jh_store_job_start(f->s, "Job_HR", NULL, (long)getpid(),
                                      &first, &holder),
                   0);
  assert_int_equal(jh_store_job_start(f->s, "Job_HR", NULL, (long)getpid(),
                                      &second, &holder),
                   -EBUSY);
  assert_int_equal(holder, first);

  /* The same through a second connection, as another jobhost would. */
  assert_int_equal(jh_store_open(f->db, &s2, err, sizeof(err)), 0);
  holder = 0;
  assert_int_equal(jh_store_job_start(s2, "Job_HR", NULL, 1, &second, &holder),
                   -EBUSY);
  assert_int_equal(holder, first);
  /* Another job is not held. */
  assert_int_equal(
      jh_store_job_start(s2, "Job_AD", NULL, (long)getpid(), &other, NULL), 0);
  jh_store_close(s2);

  /* Once finished, the job can start again. */
  assert_int_equal(
      jh_store_job_finish(f->s, first, JH_STATE_SUCCEEDED, NULL, NULL), 0);
  assert_int_equal(jh_store_job_start(f->s, "Job_HR", NULL, (long)getpid(),
                                      &second, &holder),
                   0);
  assert_int_equal(holder, 0);
  assert_true(second > first);
}

static void test_dead_host_interrupted(void **state) {
  struct fixture *f = *state;
  long gone = jh_test_dead_pid();
  int64_t stale, fresh, holder = -1, task, other;
  char expect[128];
  jh_job_row row, *rows;
  jh_task_row *tasks;
  size_t n;

  assert_int_equal(
      jh_store_job_start(f->s, "Job_HR", "/p/hr.yaml", gone, &stale, NULL), 0);
  assert_int_equal(jh_store_task_start(f->s, stale, "HR_Export", "ExportTask",
                                       0, 1, NULL, &task),
                   0);
  assert_int_equal(jh_store_job_start(f->s, "Job_HR", "/p/hr.yaml",
                                      (long)getpid(), &fresh, &holder),
                   0);
  assert_int_equal(holder, 0);
  assert_true(fresh > stale);

  snprintf(expect, sizeof(expect),
           "host process %ld ended while the job was running", gone);
  assert_int_equal(jh_store_job_get(f->s, stale, &row), 0);
  assert_int_equal(row.state, JH_STATE_INTERRUPTED);
  assert_string_equal(row.message, expect);
  assert_true(row.ended_ms > 0);
  jh_job_row_clear(&row);
  assert_int_equal(jh_store_task_list(f->s, stale, &tasks, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(tasks[0].state, JH_STATE_INTERRUPTED);
  assert_true(tasks[0].ended_ms > 0);
  jh_task_rows_free(tasks, n);

  /* Listing applies the same rule to every job before reading. */
  assert_int_equal(jh_store_job_start(f->s, "Job_AD", NULL, gone, &other, NULL),
                   0);
  assert_int_equal(jh_store_job_list(f->s, NULL, 0, &rows, &n), 0);
  assert_int_equal(n, 3);
  assert_int_equal(rows[0].instance, other);
  assert_int_equal(rows[0].state, JH_STATE_INTERRUPTED);
  assert_int_equal(rows[1].instance, fresh);
  assert_int_equal(rows[1].state, JH_STATE_RUNNING);
  jh_job_rows_free(rows, n);
}

/* Reading the jobs (history, show, a poller) takes no write lock while
 * every Running host is alive: it answers while a running job's host
 * holds the lock, instead of making that host wait behind it. */
static void test_listing_takes_no_write_lock(void **state) {
  struct fixture *f = *state;
  int64_t id;
  jh_job_row *rows;
  jh_task_row *tasks;
  size_t n;
  sqlite3 *writer;

  assert_int_equal(
      jh_store_job_start(f->s, "Job_HR", NULL, (long)getpid(), &id, NULL), 0);
  assert_int_equal(sqlite3_open(f->db, &writer), SQLITE_OK);
  assert_int_equal(sqlite3_exec(writer, "BEGIN IMMEDIATE", NULL, NULL, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_busy_timeout(store_sqlite(f->s), 0), SQLITE_OK);

  assert_int_equal(jh_store_job_list(f->s, NULL, 0, &rows, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(rows[0].state, JH_STATE_RUNNING);
  jh_job_rows_free(rows, n);
  assert_int_equal(jh_store_task_list(f->s, id, &tasks, &n), 0);
  jh_task_rows_free(tasks, n);

  assert_int_equal(sqlite3_exec(writer, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(writer);
}

/* A batch takes the write lock when it begins: a write inside it cannot
 * fail at once because another connection wrote after the batch read
 * (SQLite refuses, without waiting, to turn a read transaction that is
 * no longer the latest into a write one). */
static void test_batch_takes_the_write_lock(void **state) {
  struct fixture *f = *state;
  int64_t id, t;
  sqlite3 *other;

  assert_int_equal(
      jh_store_job_start(f->s, "Job_HR", NULL, (long)getpid(), &id, NULL), 0);
  assert_int_equal(sqlite3_open(f->db, &other), SQLITE_OK);
  assert_int_equal(sqlite3_busy_timeout(other, 0), SQLITE_OK);
  assert_int_equal(jh_store_batch_begin(f->s), 0);
  assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL),
                   SQLITE_BUSY);
  assert_int_equal(jh_store_task_start(f->s, id, "HR_Export", "ExportTask", 0,
                                       1, NULL, &t),
                   0);
  assert_int_equal(jh_store_batch_end(f->s), 0);
  assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(other);
}

/* A pid reused by another process is not the host that wrote the row:
 * the start time recorded with the pid tells them apart. */
static void test_reused_pid_is_not_alive(void **state) {
  struct fixture *f = *state;
  int64_t first, second, holder = -1;
  jh_job_row row;

  assert_int_equal(jh_store_job_start(f->s, "Job_HR", NULL, (long)getpid(),
                                      &first, NULL),
                   0);
  assert_int_equal(jh_store_job_get(f->s, first, &row), 0);
  assert_true(row.host_start > 0); /* our own start time was recorded */
  assert_int_equal(row.state, JH_STATE_RUNNING);
  jh_job_row_clear(&row);
  /* Same pid, another start time: as if our pid had been reused. */
  assert_int_equal(
      sqlite3_exec(store_sqlite(f->s),
                   "UPDATE job_instances SET host_start = host_start + 1000",
                   NULL, NULL, NULL),
      SQLITE_OK);
  assert_int_equal(jh_store_job_start(f->s, "Job_HR", NULL, (long)getpid(),
                                      &second, &holder),
                   0);
  assert_int_equal(holder, 0);
  assert_int_equal(jh_store_job_get(f->s, first, &row), 0);
  assert_int_equal(row.state, JH_STATE_INTERRUPTED);
  jh_job_row_clear(&row);
}

static void test_resume_rules(void **state) {
  struct fixture *f = *state;
  int64_t blocked, done, held, holder = -1;
  long pid = 0;
  jh_job_row row;

  assert_int_equal(jh_store_job_start(f->s, "Job_Sync", NULL, (long)getpid(),
                                      &blocked, NULL),
                   0);
  assert_int_equal(jh_store_job_cancel(f->s, blocked, &pid), 0);
  assert_int_equal(jh_store_job_finish(f->s, blocked, JH_STATE_BLOCKED,
                                       "threshold exceeded", "{}"),
                   0);
  assert_int_equal(jh_store_job_resume(f->s, blocked, (long)getpid(), &holder),
                   0);
  assert_int_equal(holder, 0);
  assert_int_equal(jh_store_job_get(f->s, blocked, &row), 0);
  assert_int_equal(row.state, JH_STATE_RUNNING);
  assert_int_equal(row.ended_ms, 0);
  assert_null(row.message);
  jh_job_row_clear(&row);
  assert_int_equal(jh_store_job_cancel_requested(f->s, blocked), 0);

  /* A running job cannot be resumed a second time. */
  assert_int_equal(jh_store_job_resume(f->s, blocked, (long)getpid(), &holder),
                   -EBUSY);
  assert_int_equal(holder, blocked);

  /* Succeeded is final. */
  assert_int_equal(
      jh_store_job_finish(f->s, blocked, JH_STATE_SUCCEEDED, NULL, NULL), 0);
  done = blocked;
  assert_int_equal(jh_store_job_resume(f->s, done, (long)getpid(), NULL),
                   -EINVAL);
  assert_int_equal(jh_store_job_resume(f->s, 999, (long)getpid(), NULL),
                   -ENOENT);

  /* Cancelled can be resumed, but not while another instance runs. */
  assert_int_equal(jh_store_job_start(f->s, "Job_Sync", NULL, (long)getpid(),
                                      &blocked, NULL),
                   0);
  assert_int_equal(
      jh_store_job_finish(f->s, blocked, JH_STATE_CANCELLED, NULL, NULL), 0);
  assert_int_equal(jh_store_job_start(f->s, "Job_Sync", NULL, (long)getpid(),
                                      &held, NULL),
                   0);
  assert_int_equal(jh_store_job_resume(f->s, blocked, (long)getpid(), &holder),
                   -EBUSY);
  assert_int_equal(holder, held);
  assert_int_equal(jh_store_job_finish(f->s, held, JH_STATE_ERROR, NULL, NULL),
                   0);
  assert_int_equal(jh_store_job_resume(f->s, blocked, (long)getpid(), NULL), 0);

  /* A Running instance whose host died is Interrupted, hence resumable. */
  assert_int_equal(
      jh_store_job_finish(f->s, blocked, JH_STATE_SUCCEEDED, NULL, NULL), 0);
  assert_int_equal(jh_store_job_start(f->s, "Job_Sync", NULL,
                                      jh_test_dead_pid(), &held, NULL),
                   0);
  assert_int_equal(jh_store_job_resume(f->s, held, (long)getpid(), &holder), 0);
  assert_int_equal(jh_store_job_get(f->s, held, &row), 0);
  assert_int_equal(row.state, JH_STATE_RUNNING);
  assert_int_equal(row.pid, (long)getpid());
  jh_job_row_clear(&row);

  /* A refused resume still records a dead host's instance as Interrupted. */
  assert_int_equal(
      jh_store_job_finish(f->s, held, JH_STATE_SUCCEEDED, NULL, NULL), 0);
  assert_int_equal(jh_store_job_start(f->s, "Job_Sync", NULL,
                                      jh_test_dead_pid(), &blocked, NULL),
                   0);
  assert_int_equal(jh_store_job_resume(f->s, done, (long)getpid(), &holder),
                   -EINVAL);
  assert_int_equal(pragma_int(f->s, "SELECT count(*) FROM job_instances"
                                    " WHERE state = 'Interrupted'"),
                   1);
}

/* A running task's progress goes into its row; an ended row is not
 * touched; a log path can be forgotten. */
static void test_task_progress_and_log(void **state) {
  struct fixture *f = *state;
  int64_t inst, t;
  jh_task_row *rows = NULL;
  size_t n = 0;

  assert_int_equal(
      jh_store_job_start(f->s, "Job_HR", NULL, (long)getpid(), &inst, NULL), 0);
  assert_int_equal(
      jh_store_task_start(f->s, inst, "A", "T", 0, 1, "/nowhere/a.log", &t), 0);
  assert_int_equal(jh_store_task_progress(f->s, t, "running: 5 of 10 (50%)",
                                          "{\"n\":5}"),
                   0);
  assert_int_equal(jh_store_task_list(f->s, inst, &rows, &n), 0);
  assert_string_equal(rows[0].message, "running: 5 of 10 (50%)");
  assert_string_equal(rows[0].counters_json, "{\"n\":5}");
  assert_string_equal(rows[0].log_path, "/nowhere/a.log");
  jh_task_rows_free(rows, n);
  assert_int_equal(jh_store_task_finish(f->s, t, JH_STATE_SUCCEEDED, "done", 1,
                                        "{\"n\":10}"),
                   0);
  assert_int_equal(jh_store_task_progress(f->s, t, "late", "{}"), 0);
  assert_int_equal(jh_store_task_clear_log(f->s, t), 0);
  assert_int_equal(jh_store_task_list(f->s, inst, &rows, &n), 0);
  assert_string_equal(rows[0].message, "done");
  assert_string_equal(rows[0].counters_json, "{\"n\":10}");
  assert_null(rows[0].log_path);
  jh_task_rows_free(rows, n);
}

static void test_cancel_flag(void **state) {
  struct fixture *f = *state;
  int64_t inst, stale;
  long pid = 0;
  jh_job_row row;

  assert_int_equal(
      jh_store_job_start(f->s, "Job_HR", NULL, (long)getpid(), &inst, NULL), 0);
  assert_int_equal(jh_store_job_cancel_requested(f->s, inst), 0);
  assert_int_equal(jh_store_job_cancel(f->s, inst, &pid), 0);
  assert_int_equal(pid, (long)getpid());
  assert_int_equal(jh_store_job_cancel_requested(f->s, inst), 1);
  /* "now" raises the level; a plain cancel after it does not lower it. */
  assert_int_equal(jh_store_job_cancel_level(f->s, inst, JH_CANCEL_NOW, &pid),
                   0);
  assert_int_equal(jh_store_job_cancel_requested(f->s, inst), JH_CANCEL_NOW);
  assert_int_equal(jh_store_job_cancel(f->s, inst, &pid), 0);
  assert_int_equal(jh_store_job_cancel_requested(f->s, inst), JH_CANCEL_NOW);
  assert_int_equal(jh_store_job_cancel_level(f->s, inst, 3, &pid), -EINVAL);
  assert_int_equal(jh_store_job_cancel_requested(f->s, 4242), -ENOENT);
  assert_int_equal(jh_store_job_cancel(f->s, 4242, &pid), -ENOENT);

  assert_int_equal(
      jh_store_job_finish(f->s, inst, JH_STATE_CANCELLED, NULL, NULL), 0);
  assert_int_equal(jh_store_job_cancel(f->s, inst, &pid), -EINVAL);

  /* Nothing to cancel when the host is gone; the instance is Interrupted. */
  assert_int_equal(jh_store_job_start(f->s, "Job_AD", NULL, jh_test_dead_pid(),
                                      &stale, NULL),
                   0);
  assert_int_equal(jh_store_job_cancel(f->s, stale, &pid), -EINVAL);
  assert_int_equal(jh_store_job_get(f->s, stale, &row), 0);
  assert_int_equal(row.state, JH_STATE_INTERRUPTED);
  jh_job_row_clear(&row);
}

/* Several processes start the same job at once: exactly one gets it. */
static void test_one_winner_across_processes(void **state) {
  struct fixture *f = *state;
  enum { NPROC = 4 };
  int go[2], release[2], results[2], wins = 0, busy = 0;
  pid_t kids[NPROC];

  assert_int_equal(pipe(go), 0);
  assert_int_equal(pipe(release), 0);
  assert_int_equal(pipe(results), 0);
  for (int i = 0; i < NPROC; i++) {
    kids[i] = fork();
    assert_true(kids[i] >= 0);
    if (kids[i] == 0) {
      /* No cmocka here; never touch the parent's connection. */
      jh_store *mine = NULL;
      char err[512], byte;
      int64_t inst, holder;
      int rc;
      close(go[1]);
      close(release[1]);
      close(results[0]);
      if (read(go[0], &byte, 1) < 0) /* returns once the parent closes go */
        _exit(1);
      rc = jh_store_open(f->db, &mine, err, sizeof(err));
      if (rc == 0)
        rc = jh_store_job_start(mine, "Job_Race", NULL, (long)getpid(), &inst,
                                &holder);
      jh_store_close(mine);
      if (write(results[1], &rc, sizeof(rc)) != (ssize_t)sizeof(rc))
        _exit(1);
      /* Stay alive, holding the job, until the parent has every answer. */
      _exit(read(release[0], &byte, 1) < 0);
    }
  }
  close(go[0]);
  close(release[0]);
  close(results[1]);
  close(go[1]);
  for (int i = 0; i < NPROC; i++) {
    int rc;
    assert_int_equal(read(results[0], &rc, sizeof(rc)), (ssize_t)sizeof(rc));
    if (rc == 0)
      wins++;
    else if (rc == -EBUSY)
      busy++;
    else
      fail_msg("child got %d", rc);
  }
  close(results[0]);
  close(release[1]);
  for (int i = 0; i < NPROC; i++) {
    int status;
    assert_int_equal(waitpid(kids[i], &status, 0), kids[i]);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  assert_int_equal(wins, 1);
  assert_int_equal(busy, NPROC - 1);
}

/* SQLite failures come back as -EIO with a message. */
static void test_sqlite_errors_reported(void **state) {
  struct fixture *f = *state;
  int64_t inst;
  jh_job_row row;

  assert_int_equal(
      jh_store_job_start(f->s, "Job_HR", NULL, (long)getpid(), &inst, NULL), 0);
  assert_int_equal(sqlite3_exec(store_sqlite(f->s),
                                "UPDATE job_instances SET state = 'Bogus'",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  assert_int_equal(jh_store_job_get(f->s, inst, &row), -EIO);
  assert_null(row.job_id);
  assert_non_null(strstr(jh_store_errmsg(f->s), "unknown state 'Bogus'"));

  assert_int_equal(sqlite3_exec(store_sqlite(f->s),
                                "DROP TABLE task_instances;"
                                " DROP TABLE job_instances",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  assert_int_equal(jh_store_job_start(f->s, "Job_HR", NULL, (long)getpid(),
                                      &inst, NULL),
                   -EIO);
  assert_non_null(strstr(jh_store_errmsg(f->s), "no such table"));
  /* A failed transaction was rolled back: the next one can begin. */
  assert_int_equal(jh_store_job_cancel_requested(f->s, inst), -EIO);
  assert_true(sqlite3_get_autocommit(store_sqlite(f->s)));
}

/* ---- task instances and reports ---- */

static void test_task_round_trip(void **state) {
  struct fixture *f = *state;
  int64_t inst, t1, t2;
  jh_task_row *rows;
  size_t n;

  assert_int_equal(
      jh_store_job_start(f->s, "Job_HR", NULL, (long)getpid(), &inst, NULL), 0);
  assert_int_equal(jh_store_task_start(f->s, inst, "HR_Export", "ExportTask", 0,
                                       1, "/logs/1.log", &t1),
                   0);
  assert_int_equal(jh_store_task_finish(f->s, t1, JH_STATE_ERROR,
                                        "connection refused", 0, NULL),
                   0);
  assert_int_equal(jh_store_task_start(f->s, inst, "HR_Export", "ExportTask", 0,
                                       2, NULL, &t2),
                   0);
  assert_int_equal(jh_store_task_finish(f->s, t2, JH_STATE_SUCCEEDED, NULL, 1,
                                        "{\"rows\": 1000}"),
                   0);
  assert_int_equal(jh_store_task_record(f->s, inst, "HR_Prepare",
                                        "PrepareSynchronizationTask", 1,
                                        JH_STATE_SKIPPED,
                                        "parent HR_Export produced no output"),
                   0);

  assert_int_equal(jh_store_task_list(f->s, inst, &rows, &n), 0);
  assert_int_equal(n, 3);
  assert_int_equal(rows[0].id, t1);
  assert_string_equal(rows[0].task_id, "HR_Export");
  assert_string_equal(rows[0].task_type, "ExportTask");
  assert_int_equal(rows[0].attempt, 1);
  assert_int_equal(rows[0].state, JH_STATE_ERROR);
  assert_string_equal(rows[0].message, "connection refused");
  assert_string_equal(rows[0].log_path, "/logs/1.log");
  assert_int_equal(rows[0].produced_output, 0);
  assert_null(rows[0].counters_json);
  assert_true(rows[0].started_ms > 0 && rows[0].ended_ms >= rows[0].started_ms);

  assert_int_equal(rows[1].id, t2);
  assert_int_equal(rows[1].attempt, 2);
  assert_int_equal(rows[1].state, JH_STATE_SUCCEEDED);
  assert_int_equal(rows[1].produced_output, 1);
  assert_string_equal(rows[1].counters_json, "{\"rows\": 1000}");
  assert_null(rows[1].message);
  assert_null(rows[1].log_path);

  assert_string_equal(rows[2].task_id, "HR_Prepare");
  assert_int_equal(rows[2].level, 1);
  assert_int_equal(rows[2].attempt, 0);
  assert_int_equal(rows[2].state, JH_STATE_SKIPPED);
  assert_int_equal(rows[2].started_ms, 0);
  assert_int_equal(rows[2].ended_ms, 0);
  assert_string_equal(rows[2].message, "parent HR_Export produced no output");
  jh_task_rows_free(rows, n);

  /* Rows need an existing job instance and task instance. */
  assert_int_equal(jh_store_task_start(f->s, 777, "X", "ExportTask", 0, 1, NULL,
                                       &t1),
                   -ENOENT);
  assert_int_equal(jh_store_task_record(f->s, 777, "X", "ExportTask", 0,
                                        JH_STATE_SKIPPED, NULL),
                   -ENOENT);
  assert_int_equal(jh_store_task_finish(f->s, 777, JH_STATE_SUCCEEDED, NULL, 0,
                                        NULL),
                   -ENOENT);
  assert_int_equal(jh_store_task_list(f->s, 777, &rows, &n), 0);
  assert_int_equal(n, 0);
  jh_task_rows_free(rows, n);
}

static void test_report_kept(void **state) {
  struct fixture *f = *state;
  static const char report[] =
      "{\"job\": \"Job_HR\", \"instance\": 1, \"state\": \"Succeeded\"}";
  int64_t with, without;
  int rc = 1;
  char *text;

  assert_int_equal(
      jh_store_job_start(f->s, "Job_HR", NULL, (long)getpid(), &with, NULL), 0);
  assert_int_equal(
      jh_store_job_finish(f->s, with, JH_STATE_SUCCEEDED, NULL, report), 0);
  text = jh_store_job_report(f->s, with, &rc);
  assert_int_equal(rc, 0);
  assert_non_null(text);
  assert_string_equal(text, report);
  free(text);

  assert_int_equal(jh_store_job_start(f->s, "Job_HR", NULL, (long)getpid(),
                                      &without, NULL),
                   0);
  assert_null(jh_store_job_report(f->s, without, &rc));
  assert_int_equal(rc, -ENOENT);
  assert_null(jh_store_job_report(f->s, 999, &rc));
  assert_int_equal(rc, -ENOENT);
}

/* ---- states and times ---- */

static void test_state_names(void **state) {
  static const char *const names[] = {"NotStarted", "Running",   "Succeeded",
                                      "Warning",    "Error",     "Blocked",
                                      "Skipped",    "Cancelled", "Interrupted"};
  jh_state parsed;
  (void)state;
  for (int i = JH_STATE_NOT_STARTED; i <= JH_STATE_INTERRUPTED; i++) {
    assert_string_equal(jh_state_name((jh_state)i), names[i]);
    assert_int_equal(jh_state_parse(names[i], &parsed), 0);
    assert_int_equal(parsed, i);
  }
  assert_int_equal(jh_state_parse("running", &parsed), -EINVAL);
  assert_int_equal(jh_state_parse("", &parsed), -EINVAL);
  assert_string_equal(jh_state_name((jh_state)99), "Unknown");
}

static void test_time_iso(void **state) {
  char buf[32];
  (void)state;
  jh_time_iso(INT64_C(1795600800000), buf);
  assert_string_equal(buf, "2026-11-25T10:00:00Z");
  jh_time_iso(INT64_C(1795600809999), buf);
  assert_string_equal(buf, "2026-11-25T10:00:09Z");
  jh_time_iso(0, buf);
  assert_string_equal(buf, "1970-01-01T00:00:00Z");
  jh_time_iso(-1, buf);
  assert_string_equal(buf, "1969-12-31T23:59:59Z");
  assert_true(jh_now_ms() > INT64_C(1700000000000));
}

/* ---- home ---- */

static void assert_dir_mode(const char *path, unsigned mode) {
  struct stat st;
  if (stat(path, &st) != 0)
    fail_msg("%s: %s", path, strerror(errno));
  assert_true(S_ISDIR(st.st_mode));
  assert_int_equal(st.st_mode & 0777, mode);
}

static void assert_home_layout(const jh_home *h, const char *root) {
  static const char *const subs[] = {
      "Temp/ExportOutput",       "Work/ExportCookies", "Work/Collect",
      "Work/ProvisioningOrders", "Temp/JobLogs",       "Work/Tasks"};
  char want[PATH_MAX + 64];

  assert_string_equal(h->root, root);
  assert_dir_mode(root, 0750);
  for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
    snprintf(want, sizeof(want), "%s/%s", root, subs[i]);
    assert_string_equal(h->folders[i], want);
    assert_dir_mode(want, 0750);
  }
  snprintf(want, sizeof(want), "%s/Reports", root);
  assert_string_equal(h->reports, want);
  assert_dir_mode(want, 0750);
  snprintf(want, sizeof(want), "%s/jobhost.db", root);
  assert_string_equal(h->store_path, want);
}

static void test_home_from_env(void **state) {
  struct fixture *f = *state;
  char root[PATH_MAX + 32], err[512];
  jh_home h;
  mode_t old = umask(022);

  snprintf(root, sizeof(root), "%s/a/b", f->dir);
  setenv("JOBHOST_HOME", root, 1);
  assert_int_equal(jh_home_open(NULL, &h, err, sizeof(err)), 0);
  assert_home_layout(&h, root);
  jh_home_clear(&h);
  /* Opening again over the existing folders is fine. */
  assert_int_equal(jh_home_open(NULL, &h, err, sizeof(err)), 0);
  jh_home_clear(&h);
  jh_home_clear(&h); /* cleared twice: harmless */

  /* Without JOBHOST_HOME: $XDG_STATE_HOME/jobhost, then
   * $HOME/.local/state/jobhost. */
  unsetenv("JOBHOST_HOME");
  setenv("XDG_STATE_HOME", f->dir, 1);
  snprintf(root, sizeof(root), "%s/jobhost", f->dir);
  assert_int_equal(jh_home_open(NULL, &h, err, sizeof(err)), 0);
  assert_home_layout(&h, root);
  jh_home_clear(&h);
  unsetenv("XDG_STATE_HOME");
  setenv("HOME", f->dir, 1);
  snprintf(root, sizeof(root), "%s/.local/state/jobhost", f->dir);
  assert_int_equal(jh_home_open(NULL, &h, err, sizeof(err)), 0);
  assert_string_equal(h.root, root);
  jh_home_clear(&h);
  umask(old);
}

static void test_home_explicit_root(void **state) {
  struct fixture *f = *state;
  char root[PATH_MAX + 16], given[PATH_MAX + 32], file[PATH_MAX + 16];
  char err[PATH_MAX + 256] = "", cwd[PATH_MAX];
  jh_home h;
  mode_t old = umask(022);

  snprintf(root, sizeof(root), "%s/explicit", f->dir);
  snprintf(given, sizeof(given), "%s//", root);
  setenv("JOBHOST_HOME", "/nonexistent/should-not-be-used", 1);
  assert_int_equal(jh_home_open(given, &h, err, sizeof(err)), 0);
  assert_home_layout(&h, root);
  jh_home_clear(&h);

  /* A relative root is made absolute. */
  assert_non_null(getcwd(cwd, sizeof(cwd)));
  assert_int_equal(chdir(f->dir), 0);
  assert_int_equal(jh_home_open("rel", &h, err, sizeof(err)), 0);
  assert_int_equal(chdir(cwd), 0);
  snprintf(root, sizeof(root), "%s/rel", f->dir);
  assert_string_equal(h.root, root);
  jh_home_clear(&h);

  /* A file in the way: the error names it. */
  snprintf(file, sizeof(file), "%s/blocker", f->dir);
  jh_test_write_file(file, "x", 0644);
  snprintf(given, sizeof(given), "%s/blocker/home", f->dir);
  assert_true(jh_home_open(given, &h, err, sizeof(err)) < 0);
  assert_non_null(strstr(err, file));
  assert_null(h.root);
  unsetenv("JOBHOST_HOME");
  umask(old);
}

/* The temporary files of atomic writers killed midway (an export's
 * table list, prepare's seq and health.json) are removed when a job
 * starts; a live writer's file, and names that are not such files, stay. */
/* A file, a missing path and a folder tree with a symbolic link in it:
 * each is removed, and the link's target is left alone. */
static void test_remove_tree(void **state) {
  char dir[PATH_MAX], p[PATH_MAX + 64], keep[PATH_MAX + 64];
  FILE *f;
  (void)state;
  jh_test_mkdtemp(dir, sizeof(dir));
  snprintf(keep, sizeof(keep), "%s/keep", dir);
  assert_non_null(f = fopen(keep, "w"));
  fclose(f);
  snprintf(p, sizeof(p), "%s/t", dir);
  assert_int_equal(mkdir(p, 0700), 0);
  snprintf(p, sizeof(p), "%s/t/a", dir);
  assert_int_equal(mkdir(p, 0700), 0);
  snprintf(p, sizeof(p), "%s/t/a/b", dir);
  assert_int_equal(mkdir(p, 0700), 0);
  snprintf(p, sizeof(p), "%s/t/a/b/file", dir);
  assert_non_null(f = fopen(p, "w"));
  fclose(f);
  snprintf(p, sizeof(p), "%s/t/link", dir);
  assert_int_equal(symlink(keep, p), 0);
  snprintf(p, sizeof(p), "%s/t", dir);
  assert_int_equal(jh_remove_tree(p), 0);
  assert_int_equal(access(p, F_OK), -1);
  assert_int_equal(access(keep, F_OK), 0);
  assert_int_equal(jh_remove_tree(p), 0); /* gone already */
  assert_int_equal(jh_remove_tree(keep), 0);
  assert_int_equal(access(keep, F_OK), -1);
  assert_int_equal(rmdir(dir), 0);
}

static void test_sweep_dead_atomic_temps(void **state) {
  struct fixture *f = *state;
  char root[PATH_MAX + 16], err[PATH_MAX + 256] = "", p[8][PATH_MAX + 96];
  long dead = jh_test_dead_pid(), live = (long)getpid();
  jh_home h;

  snprintf(root, sizeof(root), "%s/home", f->dir);
  assert_int_equal(jh_home_open(root, &h, err, sizeof(err)), 0);
  snprintf(p[0], sizeof(p[0]), "%s/Temp/ExportOutput/HR.tables.tmp.%ld", root,
           dead);
  snprintf(p[1], sizeof(p[1]), "%s/Work/Collect/HR", root);
  assert_int_equal(mkdir(p[1], 0750), 0);
  snprintf(p[1], sizeof(p[1]), "%s/Work/Collect/HR/seq.tmp.%ld", root, dead);
  snprintf(p[2], sizeof(p[2]), "%s/Work/Collect/HR/health.json.tmp.%ld", root,
           dead);
  snprintf(p[3], sizeof(p[3]), "%s/Reports/1.json.tmp.%ld", root, dead);
  /* kept: a running writer's, and names of no atomic writer */
  snprintf(p[4], sizeof(p[4]), "%s/Temp/ExportOutput/HR.tables.tmp.%ld", root,
           live);
  snprintf(p[5], sizeof(p[5]), "%s/Temp/ExportOutput/x.tmp.12ab", root);
  snprintf(p[6], sizeof(p[6]), "%s/Work/Collect/HR/seq", root);
  snprintf(p[7], sizeof(p[7]), "%s/Temp/ExportOutput/.tmp.%ld", root, dead);
  for (int i = 0; i < 8; i++)
    jh_test_write_file(p[i], "x", 0640);

  assert_int_equal(jh_sweep_leftovers(&h, f->s, 1, NULL), 4);
  for (int i = 0; i < 4; i++)
    assert_int_not_equal(access(p[i], F_OK), 0);
  for (int i = 4; i < 8; i++)
    assert_int_equal(access(p[i], F_OK), 0);

  /* A writer that has exited but is not reaped yet (a zombie) is gone:
   * the sweep at the end of a job removes its file. */
  {
    int status;
    pid_t z = fork();
    assert_true(z >= 0);
    if (z == 0)
      _exit(0);
    snprintf(p[0], sizeof(p[0]), "%s/Temp/ExportOutput/HR.tables.tmp.%ld", root,
             (long)z);
    jh_test_write_file(p[0], "x", 0640);
    for (int tries = 0; tries < 200 && jh_sweep_dead_writers(&h) == 0; tries++)
      usleep(10000); /* until the child has exited */
    assert_int_not_equal(access(p[0], F_OK), 0);
    assert_int_equal(waitpid(z, &status, 0), z);
  }
  jh_home_clear(&h);
}

/* When a job ends, the change report of a synchronization whose worker
 * died after its commit is put in place (no later job may come). */
static void test_sweep_job_end_settles_reports(void **state) {
  struct fixture *f = *state;
  char root[PATH_MAX + 16], err[PATH_MAX + 256] = "";
  char report[PATH_MAX + 64], tmp[PATH_MAX + 80], sql[PATH_MAX + 200];
  jh_idstore *ids = NULL;
  jh_home h;

  snprintf(root, sizeof(root), "%s/home", f->dir);
  assert_int_equal(jh_home_open(root, &h, err, sizeof(err)), 0);
  snprintf(report, sizeof(report), "%s/Temp/JobLogs/2-Sync-1.changes.csv",
           root);
  snprintf(tmp, sizeof(tmp), "%s.tmp", report);
  jh_test_write_file(tmp, "insert,HR_Person,E1,\n", 0640);
  assert_int_equal(
      jh_idstore_open(h.identity_store_path, &ids, err, sizeof(err)), 0);
  snprintf(sql, sizeof(sql),
           "INSERT INTO pending_reports(task_instance, path) VALUES (7, '%s')",
           report);
  assert_int_equal(jh_idstore_exec(ids, sql, err, sizeof(err)), 0);
  jh_idstore_close(ids);

  assert_int_equal(jh_sweep_job_end(&h, NULL), 0);
  assert_int_equal(access(report, F_OK), 0);
  assert_int_not_equal(access(tmp, F_OK), 0);
  jh_home_clear(&h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_migrations_new_and_reopen, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_open_failure_names_path, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_job_start_finish_get_list, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_busy_while_host_alive, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_listing_takes_no_write_lock, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_batch_takes_the_write_lock, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_dead_host_interrupted, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_reused_pid_is_not_alive, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_resume_rules, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cancel_flag, setup, teardown),
      cmocka_unit_test_setup_teardown(test_task_progress_and_log, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_one_winner_across_processes, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_sqlite_errors_reported, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_task_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_report_kept, setup, teardown),
      cmocka_unit_test(test_state_names),
      cmocka_unit_test(test_time_iso),
      cmocka_unit_test_setup_teardown(test_home_from_env, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sweep_job_end_settles_reports, setup,
                                      teardown),
      cmocka_unit_test(test_remove_tree),
      cmocka_unit_test_setup_teardown(test_sweep_dead_atomic_temps, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_home_explicit_root, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
