/*
 * store.c — the embedded SQLite store: job and task instances. See store.h.
 *
 * One connection per jh_store, through the database layer (lib/db.h):
 * each statement is prepared once per connection, taken for one use and
 * given back (reset) before the function returns, and finalized when the
 * store closes; every value reaches SQL through a checked bind. Functions
 * that read then write (start, resume, cancel, and the "dead host" rule)
 * do so inside BEGIN IMMEDIATE so that two jobhost
 * processes sharing the file cannot interleave between the check and the
 * write; the busy timeout makes the second one wait instead of failing.
 *
 * A connection must not be used across fork(): forked workers never touch
 * the parent's jh_store.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

#include "array.h"
#include "db.h"

/* The job store's connection: WAL, a writer waits up to 5 s. */
static const jh_db_config store_config = {.busy_ms = 5000};

struct jh_store {
  jh_db *db;
  int version; /* schema version after migrations */
};

/* ---- schema ---- */

/*
 * Migrations in order: migrations[i] brings the schema from version i to
 * i + 1. Never edit one that has shipped; append a new one instead.
 */
static const char *const migrations[] = {
    /* 1: job and task instances */
    "CREATE TABLE job_instances ("
    "  id INTEGER PRIMARY KEY,"
    "  job_id TEXT NOT NULL,"
    "  pipeline_path TEXT,"
    "  state TEXT NOT NULL,"
    "  started_ms INTEGER NOT NULL,"
    "  ended_ms INTEGER,"
    "  pid INTEGER NOT NULL,"
    "  cancel_requested INTEGER NOT NULL DEFAULT 0,"
    "  message TEXT,"
    "  report_json TEXT);"
    "CREATE INDEX job_instances_job_state ON job_instances(job_id, state);"
    /* The invariant behind -EBUSY, enforced by SQLite as well. */
    "CREATE UNIQUE INDEX job_instances_one_running ON job_instances(job_id)"
    "  WHERE state = 'Running';"
    "CREATE TABLE task_instances ("
    "  id INTEGER PRIMARY KEY,"
    "  job_instance INTEGER NOT NULL"
    "    REFERENCES job_instances(id) ON DELETE CASCADE,"
    "  task_id TEXT NOT NULL,"
    "  task_type TEXT NOT NULL,"
    "  level INTEGER NOT NULL DEFAULT 0,"
    "  attempt INTEGER NOT NULL DEFAULT 0,"
    "  state TEXT NOT NULL,"
    "  started_ms INTEGER,"
    "  ended_ms INTEGER,"
    "  produced_output INTEGER NOT NULL DEFAULT 0,"
    "  counters_json TEXT,"
    "  message TEXT,"
    "  log_path TEXT);"
    "CREATE INDEX task_instances_job_instance"
    "  ON task_instances(job_instance);",
    /* 2: the host's start time, so that a reused pid is not taken for a
     * live host (0: unknown, for rows written before) */
    "ALTER TABLE job_instances ADD COLUMN host_start INTEGER NOT NULL"
    "  DEFAULT 0;",
    /* 3: the steps a run was given (--task, or --from and --to), which its
     * resume keeps (NULL: every step) */
    "ALTER TABLE job_instances ADD COLUMN select_task TEXT;"
    "ALTER TABLE job_instances ADD COLUMN select_from TEXT;"
    "ALTER TABLE job_instances ADD COLUMN select_to TEXT;",
};

#define JH_SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* ---- states and times ---- */

static const char *const state_names[] = {
    [JH_STATE_NOT_STARTED] = "NotStarted",
    [JH_STATE_RUNNING] = "Running",
    [JH_STATE_SUCCEEDED] = "Succeeded",
    [JH_STATE_WARNING] = "Warning",
    [JH_STATE_ERROR] = "Error",
    [JH_STATE_BLOCKED] = "Blocked",
    [JH_STATE_SKIPPED] = "Skipped",
    [JH_STATE_CANCELLED] = "Cancelled",
    [JH_STATE_INTERRUPTED] = "Interrupted"};

#define JH_NSTATES (sizeof(state_names) / sizeof(state_names[0]))

static int state_valid(jh_state s) { return (unsigned)s < JH_NSTATES; }

const char *jh_state_name(jh_state s) {
  return state_valid(s) ? state_names[s] : "Unknown";
}

int jh_state_parse(const char *name, jh_state *out) {
  if (name == NULL || out == NULL)
    return -EINVAL;
  for (size_t i = 0; i < JH_NSTATES; i++)
    if (strcmp(name, state_names[i]) == 0) {
      *out = (jh_state)i;
      return 0;
    }
  return -EINVAL;
}

/* ---- statement and transaction helpers ---- */

/* The statement for sql (lib/db.h: given back with finalize). */
static int prepare(jh_store *s, const char *sql, sqlite3_stmt **st) {
  *st = jh_db_stmt(s->db, sql);
  if (*st != NULL)
    return 0;
  return (jh_db_errcode(s->db) & 0xff) == SQLITE_NOMEM ? -ENOMEM : -EIO;
}

static void finalize(jh_store *s, sqlite3_stmt *st) { jh_db_done(s->db, st); }

/* Step a statement that returns no row. */
static int step_done(jh_store *s, sqlite3_stmt *st, const char *what) {
  return jh_db_step_done(s->db, st, what);
}

/* Step a statement expected to return a row: 1 for a row, 0 when done. */
static int step_row(jh_store *s, sqlite3_stmt *st, const char *what) {
  return jh_db_step(s->db, st, what);
}

static int begin(jh_store *s) { return jh_db_begin(s->db); }

static int commit(jh_store *s) { return jh_db_commit(s->db); }

int jh_store_batch_begin(jh_store *s) {
  if (s == NULL)
    return -EINVAL;
  if (jh_db_in_transaction(s->db))
    return -EBUSY; /* already in a transaction */
  /* the write lock now, waiting for it as long as any write waits: a
   * batch that read first and wrote later would fail at once, without
   * waiting, had another connection (a `jobhost status` or `provisioning
   * list` opening the store) written in between */
  return jh_db_begin(s->db);
}

int jh_store_batch_end(jh_store *s) {
  int rc;
  if (s == NULL)
    return -EINVAL;
  if (!jh_db_in_transaction(s->db))
    return 0; /* nothing to commit */
  rc = commit(s);
  if (rc != 0)
    jh_db_rollback(s->db);
  return rc;
}

/* Undo a failed transaction; keeps the message of the original failure. */
static void rollback(jh_store *s) { jh_db_rollback(s->db); }

/* End a transaction: commit when rc is 0, else roll back. Returns rc or
 * the commit failure. */
static int end_tx(jh_store *s, int rc) {
  if (rc == 0)
    rc = commit(s);
  if (rc != 0)
    rollback(s);
  return rc;
}

/*
 * End a transaction that may have refused its request (-ENOENT, -EBUSY,
 * -EINVAL) after applying the liveness rule: what it wrote until then is
 * consistent and kept. Any other failure rolls back.
 */
static int end_tx_refusal(jh_store *s, int rc) {
  int crc;
  if (rc != -ENOENT && rc != -EBUSY && rc != -EINVAL)
    return end_tx(s, rc);
  crc = commit(s);
  if (crc != 0) {
    rollback(s);
    return crc;
  }
  return rc;
}

/* malloc'd copy of a text column, NULL for SQL NULL. 0 or -ENOMEM. */
static int column_dup(sqlite3_stmt *st, int col, char **out) {
  const unsigned char *v;
  *out = NULL;
  if (sqlite3_column_type(st, col) == SQLITE_NULL)
    return 0;
  v = sqlite3_column_text(st, col);
  if (v == NULL || (*out = strdup((const char *)v)) == NULL)
    return -ENOMEM;
  return 0;
}

static int column_state(jh_store *s, sqlite3_stmt *st, int col, jh_state *out) {
  const unsigned char *v = sqlite3_column_text(st, col);
  if (v == NULL || jh_state_parse((const char *)v, out) != 0)
    return jh_db_fail(s->db, -EIO, "unknown state '%s' in the store",
                      v != NULL ? (const char *)v : "(null)");
  return 0;
}

/* The values bound to a statement's parameters 1..n, in order. */
typedef struct params {
  const jh_db_value *v;
  int n;
} params;

/* params of the values listed: PARAMS(JH_DB_INT(1), JH_DB_TEXT(s)). */
#define PARAMS(...)                                                            \
  ((params){(const jh_db_value[]){__VA_ARGS__},                                \
            (int)(sizeof((const jh_db_value[]){__VA_ARGS__}) /                 \
                  sizeof(jh_db_value))})

/* Run sql, which returns no row, with p bound: 0 or a negative code.
 * jh_db_changes and jh_db_last_insert_id then tell what it did. */
static int run(jh_store *s, const char *sql, params p, const char *what) {
  sqlite3_stmt *st;
  int rc = prepare(s, sql, &st);
  if (rc != 0)
    return rc;
  if ((rc = jh_db_bind(s->db, st, p.v, p.n)) == 0)
    rc = step_done(s, st, what);
  finalize(s, st);
  return rc;
}

/* run for an UPDATE of one row: -ENOENT when it changed none. */
static int run_update(jh_store *s, const char *sql, params p,
                      const char *what) {
  int rc = run(s, sql, p, what);
  if (rc == 0 && jh_db_changes(s->db) == 0)
    rc = -ENOENT;
  return rc;
}

/* Reads the current row of st into out: 0 or a negative code. */
typedef int (*row_reader)(jh_store *s, sqlite3_stmt *st, void *out);

/* Run sql with p bound and read its first row into out with read_row:
 * read_row's result, -ENOENT when there is no row, or a negative code. */
static int select_one(jh_store *s, const char *sql, params p, const char *what,
                      row_reader read_row, void *out) {
  sqlite3_stmt *st;
  int rc = prepare(s, sql, &st);
  if (rc != 0)
    return rc;
  if ((rc = jh_db_bind(s->db, st, p.v, p.n)) == 0) {
    rc = step_row(s, st, what);
    if (rc == 1)
      rc = read_row(s, st, out);
    else if (rc == 0)
      rc = -ENOENT;
  }
  finalize(s, st);
  return rc;
}

/* A type of row that select_rows reads: its size, how one is read, and
 * how an array of them is freed. */
typedef struct row_type {
  size_t size;
  row_reader read;
  void (*free_rows)(void *rows, size_t n);
} row_type;

/* Run sql with p bound and read all its rows into a malloc'd array of
 * type: 0 with *rows and *n, or a negative code with nothing kept. */
static int select_rows(jh_store *s, const char *sql, params p, const char *what,
                       const row_type *type, void **rows, size_t *n) {
  void *out = NULL;
  size_t count = 0, cap = 0;
  sqlite3_stmt *st;
  int rc = prepare(s, sql, &st);

  if (rc != 0)
    return rc;
  if ((rc = jh_db_bind(s->db, st, p.v, p.n)) == 0)
    while ((rc = step_row(s, st, what)) == 1) {
      if ((rc = jh_array_reserve(&out, &cap, count + 1, type->size, 16)) != 0 ||
          (rc = type->read(s, st, (char *)out + count * type->size)) != 0)
        break;
      count++;
    }
  finalize(s, st);
  if (rc != 0) {
    type->free_rows(out, count);
    return rc;
  }
  *rows = out;
  *n = count;
  return 0;
}

/* ---- opening and migrations ---- */

static int migrate(jh_store *s, const char *path, char *err, size_t errsize) {
  int version,
      rc = jh_db_migrate(s->db, migrations, JH_SCHEMA_VERSION, &version);
  if (rc == -EPROTO) {
    snprintf(err, errsize,
             "store %s has schema version %d, which this jobhost does not "
             "know (it knows up to %d); use a newer jobhost",
             path, version, JH_SCHEMA_VERSION);
    return rc;
  }
  if (rc != 0) {
    snprintf(err, errsize, "cannot bring store %s to schema version %d: %s",
             path, JH_SCHEMA_VERSION, jh_db_errmsg(s->db));
    return rc;
  }
  s->version = JH_SCHEMA_VERSION;
  return 0;
}

int jh_store_open(const char *path, jh_store **out, char *err, size_t errsize) {
  char why[384];
  jh_store *s;
  int rc;

  if (out != NULL)
    *out = NULL;
  if (path == NULL || *path == '\0' || out == NULL) {
    snprintf(err, errsize, "no store path given");
    return -EINVAL;
  }
  s = calloc(1, sizeof(*s));
  if (s == NULL) {
    snprintf(err, errsize, "out of memory opening store %s", path);
    return -ENOMEM;
  }
  rc = jh_db_open(path, &store_config, &s->db, why, sizeof(why));
  if (rc != 0) {
    snprintf(err, errsize, "cannot open store %s: %s", path, why);
    free(s);
    return rc;
  }
  rc = migrate(s, path, err, errsize);
  if (rc != 0) {
    jh_store_close(s);
    return rc;
  }
  *out = s;
  return 0;
}

int jh_store_keep_reserve(jh_store *s, const char *path) {
  if (s == NULL || path == NULL)
    return -EINVAL;
  return jh_db_keep_reserve(s->db, path);
}

int jh_store_reserve_released(jh_store *s) {
  return s != NULL && jh_db_reserve_released(s->db);
}

void jh_store_close(jh_store *s) {
  if (s == NULL)
    return;
  jh_db_close(s->db);
  free(s);
}

struct jh_db *jh_store_db(jh_store *s) {
  return s != NULL ? s->db : NULL;
}

const char *jh_store_errmsg(jh_store *s) {
  return s != NULL ? jh_db_errmsg(s->db) : "no store";
}

int jh_store_schema_version(jh_store *s) { return s != NULL ? s->version : 0; }

/* ---- the "host process gone" rule ---- */

/* When process pid started, in clock ticks since boot (field 22 of
 * /proc/PID/stat); 0 when it cannot be told, -1 when the process is gone
 * or a zombie. */
static long long proc_start_time(long pid) {
  char path[64], buf[1024], *p;
  long long start = 0;
  FILE *f;
  size_t n;

  snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
  f = fopen(path, "re");
  if (f == NULL)
    return errno == ENOENT ? -1 : 0;
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  p = strrchr(buf, ')'); /* the command name may hold spaces and ')' */
  if (p == NULL || p[1] != ' ')
    return 0;
  if (p[2] == 'Z' || p[2] == 'X')
    return -1;
  /* after ") ": field 3 (state) ... field 22 (starttime) */
  if (sscanf(p + 2,
             "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
             "%*d %*d %*d %*d %*d %*d %lld",
             &start) != 1)
    return 0;
  return start;
}

/* Whether the host process that wrote a Running row still lives: pid
 * exists (EPERM: it exists but belongs to another user), is not a
 * zombie, and, when its start time was recorded, started then (else the
 * pid was reused). pid 0 or less never names a host. */
static int host_alive(long pid, long long recorded_start) {
  long long start;
  if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno != EPERM))
    return 0;
  start = proc_start_time(pid);
  if (start < 0)
    return 0;
  return recorded_start == 0 || start == 0 || start == recorded_start;
}

/* Mark a Running instance whose host pid ended as Interrupted, and its
 * Running task instances with it. Call inside a transaction. The pid in
 * the WHERE clause leaves alone an instance resumed by another host. */
static int mark_interrupted(jh_store *s, int64_t instance, long pid) {
  static const char job_sql[] =
      "UPDATE job_instances SET state = 'Interrupted', ended_ms = ?1,"
      " message = ?2 WHERE id = ?3 AND state = 'Running' AND pid = ?4";
  static const char task_sql[] =
      "UPDATE task_instances SET state = 'Interrupted', ended_ms = ?1,"
      " message = 'host process ended while the task was running'"
      " WHERE job_instance = ?2 AND state = 'Running'";
  char message[96];
  int64_t now = jh_now_ms();
  int rc;

  snprintf(message, sizeof(message),
           "host process %ld ended while the job was running", pid);
  rc = run(s, job_sql,
           PARAMS(JH_DB_INT(now), JH_DB_TEXT(message), JH_DB_INT(instance),
                  JH_DB_INT(pid)),
           "mark instance interrupted");
  if (rc != 0)
    return rc;
  return run(s, task_sql, PARAMS(JH_DB_INT(now), JH_DB_INT(instance)),
             "mark task instances interrupted");
}

struct dead_list {
  struct dead {
    int64_t id;
    long pid;
  } * items;
  size_t n, cap;
};

static int dead_add(struct dead_list *d, int64_t id, long pid) {
  int rc = jh_array_reserve(&d->items, &d->cap, d->n + 1, sizeof(*d->items), 8);
  if (rc != 0)
    return rc;
  d->items[d->n].id = id;
  d->items[d->n++].pid = pid;
  return 0;
}

/* Collect the Running instances (of job_id, or of every job when NULL):
 * the first one whose host is alive goes to *live (0 when none), the
 * others to dead. */
static int scan_running(jh_store *s, const char *job_id, int64_t *live,
                        struct dead_list *dead) {
  static const char sql[] =
      "SELECT id, pid, host_start FROM job_instances WHERE state = 'Running'"
      " AND (?1 IS NULL OR job_id = ?1) ORDER BY id";
  sqlite3_stmt *st;
  int rc;

  *live = 0;
  if ((rc = prepare(s, sql, &st)) != 0)
    return rc;
  if ((rc = JH_DB_BIND(s->db, st, JH_DB_TEXT(job_id))) == 0) {
    while ((rc = step_row(s, st, "find running instances")) == 1) {
      int64_t id = sqlite3_column_int64(st, 0);
      long pid = (long)sqlite3_column_int64(st, 1);
      if (host_alive(pid, sqlite3_column_int64(st, 2))) {
        if (*live == 0)
          *live = id;
      } else if ((rc = dead_add(dead, id, pid)) != 0) {
        break;
      }
    }
  }
  finalize(s, st);
  return rc;
}

/*
 * Apply the liveness rule to the Running instances of job_id (every job
 * when NULL): dead hosts' instances become Interrupted; *live receives
 * the id of one whose host is alive, or 0. Call inside a transaction.
 */
static int reap_running(jh_store *s, const char *job_id, int64_t *live) {
  struct dead_list dead = {NULL, 0, 0};
  int rc = scan_running(s, job_id, live, &dead);
  for (size_t i = 0; rc == 0 && i < dead.n; i++)
    rc = mark_interrupted(s, dead.items[i].id, dead.items[i].pid);
  free(dead.items);
  return rc;
}

/* ---- job instances ---- */

static void row_set_ms(sqlite3_stmt *st, int col, int64_t *out) {
  *out = sqlite3_column_type(st, col) == SQLITE_NULL
             ? 0
             : (int64_t)sqlite3_column_int64(st, col);
}

#define JOB_COLS                                                               \
  "id, job_id, pipeline_path, state, started_ms, ended_ms, pid, message,"      \
  " host_start, select_task, select_from, select_to"

/* Fill *r from a row selected with JOB_COLS. On failure *r is cleared. */
static int read_job_row(jh_store *s, sqlite3_stmt *st, jh_job_row *r) {
  int rc;
  memset(r, 0, sizeof(*r));
  r->instance = sqlite3_column_int64(st, 0);
  row_set_ms(st, 4, &r->started_ms);
  row_set_ms(st, 5, &r->ended_ms);
  r->pid = (long)sqlite3_column_int64(st, 6);
  r->host_start = sqlite3_column_int64(st, 8);
  if ((rc = column_dup(st, 1, &r->job_id)) != 0 ||
      (rc = column_dup(st, 2, &r->pipeline_path)) != 0 ||
      (rc = column_state(s, st, 3, &r->state)) != 0 ||
      (rc = column_dup(st, 7, &r->message)) != 0 ||
      (rc = column_dup(st, 9, &r->select_task)) != 0 ||
      (rc = column_dup(st, 10, &r->select_from)) != 0 ||
      (rc = column_dup(st, 11, &r->select_to)) != 0)
    jh_job_row_clear(r);
  return rc;
}

void jh_job_row_clear(jh_job_row *r) {
  if (r == NULL)
    return;
  free(r->job_id);
  free(r->pipeline_path);
  free(r->message);
  free(r->select_task);
  free(r->select_from);
  free(r->select_to);
  memset(r, 0, sizeof(*r));
}

void jh_job_rows_free(jh_job_row *rows, size_t n) {
  for (size_t i = 0; rows != NULL && i < n; i++)
    jh_job_row_clear(&rows[i]);
  free(rows);
}

static int read_job_row_any(jh_store *s, sqlite3_stmt *st, void *row) {
  return read_job_row(s, st, row);
}

static void job_rows_free_any(void *rows, size_t n) {
  jh_job_rows_free(rows, n);
}

static const row_type job_rows = {sizeof(jh_job_row), read_job_row_any,
                                  job_rows_free_any};

/* Read one instance without applying the liveness rule. */
static int job_read(jh_store *s, int64_t instance, jh_job_row *out) {
  return select_one(s, "SELECT " JOB_COLS " FROM job_instances WHERE id = ?1",
                    PARAMS(JH_DB_INT(instance)), "read job instance",
                    read_job_row_any, out);
}

static int job_insert(jh_store *s, const char *job_id,
                      const char *pipeline_path, long pid, int64_t *instance) {
  static const char sql[] =
      "INSERT INTO job_instances (job_id, pipeline_path, state, started_ms,"
      " pid, host_start) VALUES (?1, ?2, 'Running', ?3, ?4, ?5)";
  int rc = run(s, sql,
               PARAMS(JH_DB_TEXT(job_id), JH_DB_TEXT(pipeline_path),
                      JH_DB_INT(jh_now_ms()), JH_DB_INT(pid),
                      JH_DB_INT(proc_start_time(pid))),
               "insert job instance");
  if (rc == 0)
    *instance = jh_db_last_insert_id(s->db);
  return rc;
}

int jh_store_job_start(jh_store *s, const char *job_id,
                       const char *pipeline_path, long pid, int64_t *instance,
                       int64_t *holder) {
  int64_t live = 0;
  int rc;

  if (holder != NULL)
    *holder = 0;
  if (s == NULL || job_id == NULL || *job_id == '\0' || instance == NULL ||
      pid <= 0)
    return -EINVAL;
  if ((rc = begin(s)) != 0)
    return rc;
  rc = reap_running(s, job_id, &live);
  if (rc == 0 && live != 0) {
    if (holder != NULL)
      *holder = live;
    rc = -EBUSY;
  }
  if (rc == 0)
    rc = job_insert(s, job_id, pipeline_path, pid, instance);
  return end_tx_refusal(s, rc);
}

int jh_store_job_select(jh_store *s, int64_t instance, const char *task,
                        const char *from, const char *to) {
  static const char sql[] =
      "UPDATE job_instances SET select_task = ?2, select_from = ?3,"
      " select_to = ?4 WHERE id = ?1";
  return run_update(s, sql,
                    PARAMS(JH_DB_INT(instance), JH_DB_TEXT(task),
                           JH_DB_TEXT(from), JH_DB_TEXT(to)),
                    "record the selected steps");
}

static int resumable(jh_state st) {
  return st == JH_STATE_BLOCKED || st == JH_STATE_INTERRUPTED ||
         st == JH_STATE_CANCELLED;
}

static int job_set_running(jh_store *s, int64_t instance, long pid) {
  static const char sql[] =
      "UPDATE job_instances SET state = 'Running', pid = ?1, ended_ms = NULL,"
      " cancel_requested = 0, message = NULL, report_json = NULL,"
      " host_start = ?3 WHERE id = ?2";
  return run(s, sql,
             PARAMS(JH_DB_INT(pid), JH_DB_INT(instance),
                    JH_DB_INT(proc_start_time(pid))),
             "resume job instance");
}

/* Inside a transaction: the checks and the update of a resume. */
static int resume_locked(jh_store *s, int64_t instance, long pid,
                         int64_t *holder) {
  jh_job_row row;
  int64_t live = 0;
  int rc = job_read(s, instance, &row);
  if (rc != 0)
    return rc;
  rc = reap_running(s, row.job_id, &live);
  jh_job_row_clear(&row);
  if (rc != 0)
    return rc;
  if (live != 0) {
    if (holder != NULL)
      *holder = live;
    return -EBUSY;
  }
  /* Read again: the liveness rule may have made it Interrupted. */
  if ((rc = job_read(s, instance, &row)) != 0)
    return rc;
  rc = resumable(row.state) ? job_set_running(s, instance, pid) : -EINVAL;
  jh_job_row_clear(&row);
  return rc;
}

int jh_store_job_resume(jh_store *s, int64_t instance, long pid,
                        int64_t *holder) {
  int rc;
  if (holder != NULL)
    *holder = 0;
  if (s == NULL || pid <= 0)
    return -EINVAL;
  if ((rc = begin(s)) != 0)
    return rc;
  return end_tx_refusal(s, resume_locked(s, instance, pid, holder));
}

int jh_store_job_finish(jh_store *s, int64_t instance, jh_state state,
                        const char *message, const char *report_json) {
  static const char sql[] =
      "UPDATE job_instances SET state = ?1, ended_ms = ?2, message = ?3,"
      " report_json = ?4 WHERE id = ?5";
  if (s == NULL || !state_valid(state) || state == JH_STATE_RUNNING)
    return -EINVAL;
  return run_update(s, sql,
                    PARAMS(JH_DB_TEXT(jh_state_name(state)),
                           JH_DB_INT(jh_now_ms()), JH_DB_TEXT(message),
                           JH_DB_TEXT(report_json), JH_DB_INT(instance)),
                    "finish job instance");
}

static int job_set_cancel(jh_store *s, int64_t instance, int level) {
  return run(s,
             "UPDATE job_instances SET cancel_requested ="
             " max(cancel_requested, ?2) WHERE id = ?1",
             PARAMS(JH_DB_INT(instance), JH_DB_INT(level)), "request cancel");
}

static int cancel_locked(jh_store *s, int64_t instance, int level, long *pid) {
  jh_job_row row;
  int rc = job_read(s, instance, &row);
  if (rc != 0)
    return rc;
  if (row.state == JH_STATE_RUNNING && !host_alive(row.pid, row.host_start)) {
    /* Its host is gone: it becomes Interrupted, nothing left to cancel. */
    rc = mark_interrupted(s, instance, row.pid);
    if (rc == 0)
      rc = -EINVAL;
  } else if (row.state != JH_STATE_RUNNING) {
    rc = -EINVAL;
  } else if ((rc = job_set_cancel(s, instance, level)) == 0 && pid != NULL) {
    *pid = row.pid;
  }
  jh_job_row_clear(&row);
  return rc;
}

int jh_store_job_cancel(jh_store *s, int64_t instance, long *pid) {
  return jh_store_job_cancel_level(s, instance, JH_CANCEL_FINISH, pid);
}

int jh_store_job_cancel_level(jh_store *s, int64_t instance, int level,
                              long *pid) {
  int rc;
  if (pid != NULL)
    *pid = 0;
  if (s == NULL || level < JH_CANCEL_FINISH || level > JH_CANCEL_NOW)
    return -EINVAL;
  if ((rc = begin(s)) != 0)
    return rc;
  /* A dead host's instance is marked Interrupted and kept so, with
   * -EINVAL: nothing is left to cancel. */
  return end_tx_refusal(s, cancel_locked(s, instance, level, pid));
}

static int read_int(jh_store *s, sqlite3_stmt *st, void *out) {
  (void)s;
  *(int *)out = sqlite3_column_int(st, 0);
  return 0;
}

int jh_store_job_cancel_requested(jh_store *s, int64_t instance) {
  int level = 0, rc;
  if (s == NULL)
    return -EINVAL;
  rc = select_one(s, "SELECT cancel_requested FROM job_instances WHERE id = ?1",
                  PARAMS(JH_DB_INT(instance)), "read cancel flag", read_int,
                  &level);
  return rc != 0 ? rc : level;
}

/* Apply the liveness rule to job_id (all jobs when NULL) in its own
 * transaction. */
static int reap_tx(jh_store *s, const char *job_id) {
  struct dead_list dead = {NULL, 0, 0};
  int64_t live;
  int rc = scan_running(s, job_id, &live, &dead);
  size_t found = dead.n;

  /* A reader (history, show, a poller) takes the write lock only when a
   * dead host's instance is there to record: a running job's writers
   * never wait for it otherwise. */
  free(dead.items);
  if (rc != 0 || found == 0)
    return rc;
  if ((rc = begin(s)) != 0)
    return rc;
  return end_tx(s, reap_running(s, job_id, &live));
}

int jh_store_job_get(jh_store *s, int64_t instance, jh_job_row *out) {
  int rc;
  if (s == NULL || out == NULL)
    return -EINVAL;
  memset(out, 0, sizeof(*out));
  rc = job_read(s, instance, out);
  if (rc != 0 || out->state != JH_STATE_RUNNING ||
      host_alive(out->pid, out->host_start))
    return rc;
  /* Its host is gone: record that, then read the row as it now stands. */
  rc = reap_tx(s, out->job_id);
  jh_job_row_clear(out);
  return rc != 0 ? rc : job_read(s, instance, out);
}

static int job_select(jh_store *s, const char *job_id, size_t limit,
                      jh_job_row **rows, size_t *n) {
  static const char sql[] =
      "SELECT " JOB_COLS " FROM job_instances"
      " WHERE ?1 IS NULL OR job_id = ?1 ORDER BY id DESC LIMIT ?2";
  void *out;
  int rc = select_rows(s, sql,
                       PARAMS(JH_DB_TEXT(job_id),
                              JH_DB_INT(limit == 0 ? -1 : (int64_t)limit)),
                       "list job instances", &job_rows, &out, n);
  if (rc == 0)
    *rows = out;
  return rc;
}

int jh_store_job_list(jh_store *s, const char *job_id, size_t limit,
                      jh_job_row **rows, size_t *n) {
  int rc;
  if (rows != NULL)
    *rows = NULL;
  if (n != NULL)
    *n = 0;
  if (s == NULL || rows == NULL || n == NULL)
    return -EINVAL;
  if ((rc = reap_tx(s, job_id)) != 0)
    return rc;
  return job_select(s, job_id, limit, rows, n);
}

/* A text column that must not be NULL: 0, -ENOENT or -ENOMEM. */
static int read_text(jh_store *s, sqlite3_stmt *st, void *out) {
  int rc = column_dup(st, 0, out);
  (void)s;
  if (rc == 0 && *(char **)out == NULL)
    rc = -ENOENT;
  return rc;
}

char *jh_store_job_report(jh_store *s, int64_t instance, int *rc) {
  char *report = NULL;
  int r = -EINVAL;

  if (s != NULL)
    r = select_one(s, "SELECT report_json FROM job_instances WHERE id = ?1",
                   PARAMS(JH_DB_INT(instance)), "read report", read_text,
                   &report);
  if (rc != NULL)
    *rc = r;
  return report;
}

/* ---- task instances ---- */

/* An INSERT refused because the job instance does not exist. */
static int task_insert_fail(jh_store *s, int rc) {
  if (rc == -EIO && jh_db_errcode(s->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
    return -ENOENT;
  return rc;
}

int jh_store_task_start(jh_store *s, int64_t instance, const char *task_id,
                        const char *task_type, int level, int attempt,
                        const char *log_path, int64_t *task_instance) {
  static const char sql[] =
      "INSERT INTO task_instances (job_instance, task_id, task_type, level,"
      " attempt, state, started_ms, log_path)"
      " VALUES (?1, ?2, ?3, ?4, ?5, 'Running', ?6, ?7)";
  int rc;

  if (s == NULL || task_id == NULL || task_type == NULL ||
      task_instance == NULL || attempt < 1)
    return -EINVAL;
  rc = run(s, sql,
           PARAMS(JH_DB_INT(instance), JH_DB_TEXT(task_id),
                  JH_DB_TEXT(task_type), JH_DB_INT(level), JH_DB_INT(attempt),
                  JH_DB_INT(jh_now_ms()), JH_DB_TEXT(log_path)),
           "insert task instance");
  if (rc == 0)
    *task_instance = jh_db_last_insert_id(s->db);
  return task_insert_fail(s, rc);
}

int jh_store_task_rerecord(jh_store *s, int64_t instance,
                           const jh_task_row *row, int64_t *task_instance) {
  static const char upd[] =
      "UPDATE task_instances SET state = ?1, ended_ms = ?2, message = ?3,"
      " produced_output = ?4, counters_json = ?5, started_ms = ?6"
      " WHERE id = ?7 AND job_instance = ?8 AND task_id = ?9"
      " AND attempt = ?10";
  static const char ins[] =
      "INSERT INTO task_instances (job_instance, task_id, task_type, level,"
      " attempt, state, started_ms, ended_ms, produced_output,"
      " counters_json, message, log_path)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
  int rc;

  if (s == NULL || row == NULL || row->task_id == NULL ||
      row->task_type == NULL || !state_valid(row->state))
    return -EINVAL;
  rc = run(s, upd,
           PARAMS(JH_DB_TEXT(jh_state_name(row->state)),
                  JH_DB_INT(row->ended_ms), JH_DB_TEXT(row->message),
                  JH_DB_INT(row->produced_output),
                  JH_DB_TEXT(row->counters_json), JH_DB_INT(row->started_ms),
                  JH_DB_INT(row->id), JH_DB_INT(instance),
                  JH_DB_TEXT(row->task_id), JH_DB_INT(row->attempt)),
           "record a task instance again");
  if (rc != 0 || jh_db_changes(s->db) > 0) {
    if (rc == 0 && task_instance != NULL)
      *task_instance = row->id;
    return rc;
  }
  /* its row was lost with the write that failed: a new one */
  rc = run(
      s, ins,
      PARAMS(JH_DB_INT(instance), JH_DB_TEXT(row->task_id),
             JH_DB_TEXT(row->task_type), JH_DB_INT(row->level),
             JH_DB_INT(row->attempt), JH_DB_TEXT(jh_state_name(row->state)),
             JH_DB_INT(row->started_ms), JH_DB_INT(row->ended_ms),
             JH_DB_INT(row->produced_output), JH_DB_TEXT(row->counters_json),
             JH_DB_TEXT(row->message), JH_DB_TEXT(row->log_path)),
      "record a task instance again");
  if (rc == 0 && task_instance != NULL)
    *task_instance = jh_db_last_insert_id(s->db);
  return rc;
}

int jh_store_task_progress(jh_store *s, int64_t task_instance,
                           const char *message, const char *counters_json) {
  static const char sql[] =
      "UPDATE task_instances SET message = ?1, counters_json = ?2"
      " WHERE id = ?3 AND state = 'Running'";

  if (s == NULL)
    return -EINVAL;
  return run(s, sql,
             PARAMS(JH_DB_TEXT(message), JH_DB_TEXT(counters_json),
                    JH_DB_INT(task_instance)),
             "record task progress");
}

int jh_store_task_clear_log(jh_store *s, int64_t task_instance) {
  if (s == NULL)
    return -EINVAL;
  return run(s, "UPDATE task_instances SET log_path = NULL WHERE id = ?1",
             PARAMS(JH_DB_INT(task_instance)), "clear task log path");
}

int jh_store_task_finish(jh_store *s, int64_t task_instance, jh_state state,
                         const char *message, int produced_output,
                         const char *counters_json) {
  static const char sql[] =
      "UPDATE task_instances SET state = ?1, ended_ms = ?2, message = ?3,"
      " produced_output = ?4, counters_json = ?5 WHERE id = ?6";
  if (s == NULL || !state_valid(state) || state == JH_STATE_RUNNING)
    return -EINVAL;
  return run_update(s, sql,
                    PARAMS(JH_DB_TEXT(jh_state_name(state)),
                           JH_DB_INT(jh_now_ms()), JH_DB_TEXT(message),
                           JH_DB_INT(produced_output != 0),
                           JH_DB_TEXT(counters_json), JH_DB_INT(task_instance)),
                    "finish task instance");
}

int jh_store_task_record(jh_store *s, int64_t instance, const char *task_id,
                         const char *task_type, int level, jh_state state,
                         const char *message) {
  static const char sql[] =
      "INSERT INTO task_instances (job_instance, task_id, task_type, level,"
      " attempt, state, message) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)";
  int rc;

  if (s == NULL || task_id == NULL || task_type == NULL ||
      !state_valid(state) || state == JH_STATE_RUNNING)
    return -EINVAL;
  rc = run(s, sql,
           PARAMS(JH_DB_INT(instance), JH_DB_TEXT(task_id),
                  JH_DB_TEXT(task_type), JH_DB_INT(level),
                  JH_DB_TEXT(jh_state_name(state)), JH_DB_TEXT(message)),
           "record task instance");
  return task_insert_fail(s, rc);
}

#define TASK_COLS                                                              \
  "id, task_id, task_type, level, attempt, state, started_ms, ended_ms,"       \
  " produced_output, counters_json, message, log_path"

static void task_row_clear(jh_task_row *r) {
  free(r->task_id);
  free(r->task_type);
  free(r->counters_json);
  free(r->message);
  free(r->log_path);
  memset(r, 0, sizeof(*r));
}

static int read_task_row(jh_store *s, sqlite3_stmt *st, jh_task_row *r) {
  int rc;
  memset(r, 0, sizeof(*r));
  r->id = sqlite3_column_int64(st, 0);
  r->level = sqlite3_column_int(st, 3);
  r->attempt = sqlite3_column_int(st, 4);
  row_set_ms(st, 6, &r->started_ms);
  row_set_ms(st, 7, &r->ended_ms);
  r->produced_output = sqlite3_column_int(st, 8) != 0;
  if ((rc = column_dup(st, 1, &r->task_id)) != 0 ||
      (rc = column_dup(st, 2, &r->task_type)) != 0 ||
      (rc = column_state(s, st, 5, &r->state)) != 0 ||
      (rc = column_dup(st, 9, &r->counters_json)) != 0 ||
      (rc = column_dup(st, 10, &r->message)) != 0 ||
      (rc = column_dup(st, 11, &r->log_path)) != 0)
    task_row_clear(r);
  return rc;
}

static int read_task_row_any(jh_store *s, sqlite3_stmt *st, void *row) {
  return read_task_row(s, st, row);
}

void jh_task_row_clear(jh_task_row *row) {
  if (row != NULL)
    task_row_clear(row);
}

void jh_task_rows_free(jh_task_row *rows, size_t n) {
  for (size_t i = 0; rows != NULL && i < n; i++)
    task_row_clear(&rows[i]);
  free(rows);
}

static void task_rows_free_any(void *rows, size_t n) {
  jh_task_rows_free(rows, n);
}

static const row_type task_rows = {sizeof(jh_task_row), read_task_row_any,
                                   task_rows_free_any};

/* A task row followed by its job instance's id (column 12). */
struct task_and_instance {
  jh_task_row *row;
  int64_t *instance;
};

static int read_task_and_instance(jh_store *s, sqlite3_stmt *st, void *out) {
  struct task_and_instance *t = out;
  *t->instance = sqlite3_column_int64(st, 12);
  return read_task_row(s, st, t->row);
}

int jh_store_task_last(jh_store *s, const char *job_id, const char *task_id,
                       jh_task_row *out, int64_t *instance) {
  static const char sql[] = "SELECT " TASK_COLS
                            ", job_instance FROM task_instances"
                            " WHERE task_id = ?2 AND job_instance IN"
                            " (SELECT id FROM job_instances WHERE job_id = ?1)"
                            " ORDER BY id DESC LIMIT 1";
  struct task_and_instance t = {out, instance};

  if (out != NULL)
    memset(out, 0, sizeof(*out));
  if (s == NULL || job_id == NULL || task_id == NULL || out == NULL ||
      instance == NULL)
    return -EINVAL;
  return select_one(s, sql, PARAMS(JH_DB_TEXT(job_id), JH_DB_TEXT(task_id)),
                    "read the last task instance", read_task_and_instance, &t);
}

int jh_store_task_list(jh_store *s, int64_t instance, jh_task_row **rows,
                       size_t *n) {
  static const char sql[] = "SELECT " TASK_COLS " FROM task_instances"
                            " WHERE job_instance = ?1 ORDER BY id";
  void *out;
  int rc;

  if (rows != NULL)
    *rows = NULL;
  if (n != NULL)
    *n = 0;
  if (s == NULL || rows == NULL || n == NULL)
    return -EINVAL;
  rc = select_rows(s, sql, PARAMS(JH_DB_INT(instance)), "list task instances",
                   &task_rows, &out, n);
  if (rc == 0)
    *rows = out;
  return rc;
}
