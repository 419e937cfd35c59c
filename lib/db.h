/*
 * db.h — the one SQLite layer under the host's job store (host/store) and
 * the identity store (lib/idstore), and for the code that reads or writes
 * their tables (the synchronizer). Only this layer and the code built on
 * it include sqlite3.h; the stores' own headers do not.
 *
 * A jh_db is one connection. It must not be used across fork() (a forked
 * child never touches its parent's connection) nor by two threads at once.
 *
 * Errors: every function that can fail returns 0 (or a documented
 * positive value) or a negative errno: -EIO for an SQLite failure (-ENOMEM
 * when SQLite ran out of memory), -EPROTO for a schema newer than the
 * caller knows. The text of the last failure is jh_db_errmsg(): when the
 * call was given a `what`, "what: reason", else the reason alone, where
 * the reason is SQLite's message followed, when a system call failed, by
 * the system's (as in "disk I/O error (No space left on device)").
 *
 * THE STATEMENT RULE. A statement is prepared once per connection for its
 * SQL text (texts are compared, not their addresses) and finalized by
 * jh_db_close. jh_db_stmt hands it out reset and with no bindings; its
 * user gives it back with jh_db_done, on every path, before it asks for
 * the same text again — jh_db_done resets it, so that no statement keeps
 * a read snapshot or a lock after its use. Asking for a text whose
 * statement is still out is a programming error and is refused.
 *
 * Values are bound with jh_db_bind (or JH_DB_BIND), which binds parameters
 * 1..n in order, requires n to be the statement's parameter count and
 * names the failing parameter. Texts and blobs are bound without a copy:
 * they must stay valid until the statement is given back. Within one use
 * the user may sqlite3_reset the statement and bind it again, to run it
 * once per row of its own loop.
 */
#ifndef JH_DB_H
#define JH_DB_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

typedef struct jh_db jh_db;

/* How a connection is opened. */
typedef struct jh_db_config {
  int busy_ms;            /* how long a writer waits for another one */
  const char *cache_size; /* value of PRAGMA cache_size, or NULL */
  int page_size;          /* bytes a page of a file this open creates, or 0 */
  int read_only;          /* an existing file, read only, no pragmas set */
  int single_thread;      /* the connection has no mutex of its own */
} jh_db_config;

/*
 * Open the database at path: created when missing (unless read_only),
 * extended result codes on, the busy timeout set, and, unless read_only,
 * journal_mode WAL, synchronous NORMAL, foreign_keys ON and cache_size
 * when given. page_size, when given, is the page size of a file the open
 * creates (SQLite keeps an existing file's own: a file in WAL mode cannot
 * change it). 0 and *out (close with jh_db_close), or a negative code
 * with the reason (not naming the file) in err.
 */
int jh_db_open(const char *path, const jh_db_config *cfg, jh_db **out,
               char *err, size_t errsize);
/* Finalizes every statement, then closes. NULL is a no-op. */
void jh_db_close(jh_db *db);

/* The file the connection was opened on (owned by db). */
const char *jh_db_path(jh_db *db);

/*
 * Bring the schema (PRAGMA user_version) up to nsteps: steps[i] takes it
 * from version i to i + 1. Each step runs in its own BEGIN IMMEDIATE
 * transaction together with the new version, after reading the version
 * again inside it (another connection may have migrated meanwhile); a
 * step that fails is rolled back, leaving the version it found. *version
 * receives the version read last. 0 when up to date, -EPROTO when the
 * file's version is above nsteps (or below 0), -EIO.
 */
int jh_db_migrate(jh_db *db, const char *const *steps, int nsteps,
                  int *version);

/* Run SQL text without results (several statements may follow each
 * other), outside the statement cache. 0 or -EIO. */
int jh_db_exec(jh_db *db, const char *sql, const char *what);

/* The statement for sql (see THE STATEMENT RULE), or NULL with the
 * reason in jh_db_errmsg. */
sqlite3_stmt *jh_db_stmt(jh_db *db, const char *sql);
/* Give back a statement from jh_db_stmt (reset). NULL is a no-op. */
void jh_db_done(jh_db *db, sqlite3_stmt *st);

/* A typed value to bind. */
typedef struct jh_db_value {
  enum { JH_DB_T_NULL, JH_DB_T_INT, JH_DB_T_TEXT, JH_DB_T_BLOB } type;
  int64_t i;
  const void *p; /* TEXT or BLOB; NULL binds SQL NULL */
  size_t n;      /* length in bytes; JH_DB_NTS: up to the NUL */
} jh_db_value;

#define JH_DB_NTS ((size_t)-1)
#define JH_DB_NULL ((jh_db_value){.type = JH_DB_T_NULL})
#define JH_DB_INT(v) ((jh_db_value){.type = JH_DB_T_INT, .i = (int64_t)(v)})
/* A NUL-terminated text, or SQL NULL when s is NULL. */
#define JH_DB_TEXT(s)                                                          \
  ((jh_db_value){.type = JH_DB_T_TEXT, .p = (s), .n = JH_DB_NTS})
#define JH_DB_TEXTN(s, len)                                                    \
  ((jh_db_value){.type = JH_DB_T_TEXT, .p = (s), .n = (size_t)(len)})
#define JH_DB_BLOB(b, len)                                                     \
  ((jh_db_value){.type = JH_DB_T_BLOB, .p = (b), .n = (size_t)(len)})
/* An integer, or SQL NULL when it is 0 or less (v is read twice). */
#define JH_DB_ID(v) ((v) > 0 ? JH_DB_INT(v) : JH_DB_NULL)

/*
 * Bind values[0..n-1] to parameters 1..n of st. 0, or -EIO with "bind
 * parameter K: reason" (or "N values for M parameters") in jh_db_errmsg,
 * nothing being stepped.
 */
int jh_db_bind(jh_db *db, sqlite3_stmt *st, const jh_db_value *values, int n);
/* jh_db_bind of the values listed: JH_DB_BIND(db, st, JH_DB_INT(1), ...) */
#define JH_DB_BIND(db, st, ...)                                                \
  jh_db_bind((db), (st), (const jh_db_value[]){__VA_ARGS__},                   \
             (int)(sizeof((const jh_db_value[]){__VA_ARGS__}) /                \
                   sizeof(jh_db_value)))

/* Step st: 1 for a row, 0 when done, or a negative code (the failure is
 * recorded with what, which may be NULL). */
int jh_db_step(jh_db *db, sqlite3_stmt *st, const char *what);
/* Step a statement that returns no row: 0 or a negative code. */
int jh_db_step_done(jh_db *db, sqlite3_stmt *st, const char *what);

/* Transactions: BEGIN IMMEDIATE (take the write lock now), BEGIN
 * (deferred), COMMIT; 0 or -EIO. jh_db_rollback ends an open transaction
 * and keeps the message of the failure that led to it. */
int jh_db_begin(jh_db *db);
int jh_db_begin_deferred(jh_db *db);
int jh_db_commit(jh_db *db);
void jh_db_rollback(jh_db *db);
/* 1 inside a transaction, else 0. */
int jh_db_in_transaction(jh_db *db);

/* The rowid of the last insert, and the rows changed by the last
 * statement. */
int64_t jh_db_last_insert_id(jh_db *db);
int64_t jh_db_changes(jh_db *db);

/* The busy timeout, in ms, until the next call; a negative ms restores
 * the one the connection was opened with. */
void jh_db_busy(jh_db *db, int ms);

/* The last failure's text (see above; static until the next failure). */
const char *jh_db_errmsg(jh_db *db);
/* The last failure's extended SQLite code (SQLITE_CONSTRAINT_FOREIGNKEY,
 * ...), 0 when none yet. Its low byte is the primary code. */
int jh_db_errcode(jh_db *db);
/* Record a failure of the caller's own (a value the store cannot read);
 * returns rc. */
int jh_db_fail(jh_db *db, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Keep a reserve file of 1 MiB at path (made when missing): when a write
 * fails because the disk is full, the layer removes it, so that the few
 * writes that follow (recording how a job ended) find room. 0, or a
 * negative errno when no reserve could be made (the connection works
 * without one). jh_db_reserve_released: 1 once removed to make room.
 */
int jh_db_keep_reserve(jh_db *db, const char *path);
int jh_db_reserve_released(jh_db *db);

/* Write a consistent copy of the database at src (opened read-only,
 * never migrated nor changed) to dst, which must not exist. 0, or a
 * negative code with a message naming the file in err. */
int jh_db_snapshot(const char *src, const char *dst, char *err, size_t errsize);

/* The SQLite connection itself, for tests that inspect it. */
sqlite3 *jh_db_sqlite(jh_db *db);

/* SQLite's message for the last error on a connection, with the
 * system's reason when a system call failed, in buf. Returns buf. */
const char *jh_sqlite_errmsg(sqlite3 *db, char *buf, size_t size);

#endif /* JH_DB_H */
