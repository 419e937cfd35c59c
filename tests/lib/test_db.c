/*
 * test_db.c — the SQLite layer: migrations run once each and in order, a
 * failing one is rolled back and leaves the version it found, a newer
 * schema is refused; the statement cache hands out one statement per SQL
 * text, reset and unbound, and refuses a text whose statement is still
 * out; binds are checked (count, length, type) and name the parameter;
 * step and transaction failures are reported; the reserve file.
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
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "db.h"
#include "harness.h"

struct fixture {
  char dir[PATH_MAX / 2];
  char path[PATH_MAX]; /* dir/test.db */
  jh_db *db;
};

static const jh_db_config config = {.busy_ms = 1000};

static int setup(void **state) {
  struct fixture *f = jh_test_fixture(sizeof(*f), sizeof(f->dir));
  char err[256];
  snprintf(f->path, sizeof(f->path), "%s/test.db", f->dir);
  assert_int_equal(jh_db_open(f->path, &config, &f->db, err, sizeof(err)), 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  jh_db_close(f->db);
  jh_test_fixture_free(f);
  return 0;
}

/* The first column of the one row sql returns, as an integer. */
static int64_t query_int(jh_db *db, const char *sql) {
  sqlite3_stmt *st;
  int64_t v;
  assert_int_equal(sqlite3_prepare_v2(jh_db_sqlite(db), sql, -1, &st, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

/* The first column of the one row sql returns, as text, in buf. */
static const char *query_text(jh_db *db, const char *sql, char *buf,
                              size_t size) {
  sqlite3_stmt *st;
  const unsigned char *v;
  assert_int_equal(sqlite3_prepare_v2(jh_db_sqlite(db), sql, -1, &st, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  v = sqlite3_column_text(st, 0);
  snprintf(buf, size, "%s", v != NULL ? (const char *)v : "(null)");
  sqlite3_finalize(st);
  return buf;
}

/* ---- opening ---- */

static void test_open_settings(void **state) {
  struct fixture *f = *state;
  char buf[32];
  assert_string_equal(
      query_text(f->db, "PRAGMA journal_mode", buf, sizeof(buf)), "wal");
  assert_int_equal(query_int(f->db, "PRAGMA synchronous"), 1); /* NORMAL */
  assert_int_equal(query_int(f->db, "PRAGMA foreign_keys"), 1);
  assert_int_equal(query_int(f->db, "PRAGMA busy_timeout"), 1000);
  assert_string_equal(jh_db_path(f->db), f->path);
}

static void test_open_failure(void **state) {
  struct fixture *f = *state;
  char path[PATH_MAX + 32], err[256] = "";
  jh_db *db = (jh_db *)1;
  jh_db_config ro = {.busy_ms = 10, .read_only = 1};

  snprintf(path, sizeof(path), "%s/missing/test.db", f->dir);
  assert_int_equal(jh_db_open(path, &config, &db, err, sizeof(err)), -EIO);
  assert_null(db);
  assert_non_null(strstr(err, "unable to open"));
  /* read only: a missing file is not created */
  snprintf(path, sizeof(path), "%s/none.db", f->dir);
  assert_int_equal(jh_db_open(path, &ro, &db, err, sizeof(err)), -EIO);
  assert_int_not_equal(access(path, F_OK), 0);
}

/* ---- migrations ---- */

static void test_migrations_once_in_order(void **state) {
  struct fixture *f = *state;
  static const char *const steps[] = {
      "CREATE TABLE log(n INTEGER); INSERT INTO log VALUES (1)",
      "INSERT INTO log VALUES (2)", "INSERT INTO log VALUES (3)",
      "INSERT INTO log VALUES (4)"};
  char buf[32], err[256];
  int version = -1;

  assert_int_equal(jh_db_migrate(f->db, steps, 3, &version), 0);
  assert_int_equal(version, 3);
  assert_int_equal(query_int(f->db, "PRAGMA user_version"), 3);
  assert_string_equal(query_text(f->db,
                                 "SELECT group_concat(n) FROM "
                                 "(SELECT n FROM log ORDER BY rowid)",
                                 buf, sizeof(buf)),
                      "1,2,3");
  /* again, and after a reopen: nothing runs twice */
  assert_int_equal(jh_db_migrate(f->db, steps, 3, &version), 0);
  jh_db_close(f->db);
  assert_int_equal(jh_db_open(f->path, &config, &f->db, err, sizeof(err)), 0);
  assert_int_equal(jh_db_migrate(f->db, steps, 3, &version), 0);
  assert_int_equal(query_int(f->db, "SELECT count(*) FROM log"), 3);
  /* a step appended later is the only one that runs */
  assert_int_equal(jh_db_migrate(f->db, steps, 4, &version), 0);
  assert_int_equal(version, 4);
  assert_string_equal(query_text(f->db,
                                 "SELECT group_concat(n) FROM "
                                 "(SELECT n FROM log ORDER BY rowid)",
                                 buf, sizeof(buf)),
                      "1,2,3,4");
}

static void test_failing_migration_rolled_back(void **state) {
  struct fixture *f = *state;
  static const char *const steps[] = {
      "CREATE TABLE a(x)",
      "CREATE TABLE b(x); INSERT INTO no_such_table VALUES (1)",
      "CREATE TABLE c(x)"};
  int version = -1;

  assert_int_equal(jh_db_migrate(f->db, steps, 3, &version), -EIO);
  assert_int_equal(version, 1);
  assert_int_equal(query_int(f->db, "PRAGMA user_version"), 1);
  assert_int_equal(query_int(f->db, "SELECT count(*) FROM sqlite_master "
                                    "WHERE name IN ('a', 'b', 'c')"),
                   1);
  assert_non_null(strstr(jh_db_errmsg(f->db), "migration 2"));
  assert_non_null(strstr(jh_db_errmsg(f->db), "no_such_table"));
  assert_false(jh_db_in_transaction(f->db));
}

static void test_newer_schema_refused(void **state) {
  struct fixture *f = *state;
  static const char *const steps[] = {"CREATE TABLE a(x)"};
  int version = -1;

  assert_int_equal(jh_db_exec(f->db, "PRAGMA user_version = 9", NULL), 0);
  assert_int_equal(jh_db_migrate(f->db, steps, 1, &version), -EPROTO);
  assert_int_equal(version, 9);
  assert_int_equal(query_int(f->db, "SELECT count(*) FROM sqlite_master "
                                    "WHERE name = 'a'"),
                   0);
}

/* ---- the statement cache ---- */

static void test_cache_same_statement_reset(void **state) {
  struct fixture *f = *state;
  char copy[64];
  sqlite3_stmt *st, *again;

  assert_int_equal(jh_db_exec(f->db,
                              "CREATE TABLE t(n INTEGER);"
                              "INSERT INTO t VALUES (1), (2)",
                              NULL),
                   0);
  st = jh_db_stmt(f->db, "SELECT n FROM t ORDER BY n");
  assert_non_null(st);
  assert_int_equal(jh_db_step(f->db, st, NULL), 1);
  assert_int_equal(sqlite3_column_int(st, 0), 1);
  assert_int_equal(jh_db_step(f->db, st, NULL), 1);
  /* out: the same text is refused until given back */
  assert_null(jh_db_stmt(f->db, "SELECT n FROM t ORDER BY n"));
  assert_non_null(strstr(jh_db_errmsg(f->db), "already in use"));
  jh_db_done(f->db, st);
  /* the same text at another address: the same statement, from the start */
  snprintf(copy, sizeof(copy), "%s", "SELECT n FROM t ORDER BY n");
  again = jh_db_stmt(f->db, copy);
  assert_ptr_equal(again, st);
  assert_int_equal(jh_db_step(f->db, again, NULL), 1);
  assert_int_equal(sqlite3_column_int(again, 0), 1);
  jh_db_done(f->db, again);
  /* given back, it holds no read transaction: a write can commit */
  assert_int_equal(jh_db_exec(f->db, "INSERT INTO t VALUES (3)", NULL), 0);

  /* bindings do not outlive a use */
  st = jh_db_stmt(f->db, "SELECT ?1");
  assert_int_equal(JH_DB_BIND(f->db, st, JH_DB_INT(5)), 0);
  assert_int_equal(jh_db_step(f->db, st, NULL), 1);
  assert_int_equal(sqlite3_column_int(st, 0), 5);
  jh_db_done(f->db, st);
  assert_ptr_equal(jh_db_stmt(f->db, "SELECT ?1"), st);
  assert_int_equal(jh_db_step(f->db, st, NULL), 1);
  assert_int_equal(sqlite3_column_type(st, 0), SQLITE_NULL);
  jh_db_done(f->db, st);

  /* a text SQLite refuses is reported, and nothing is cached for it */
  assert_null(jh_db_stmt(f->db, "SELEKT 1"));
  assert_non_null(strstr(jh_db_errmsg(f->db), "prepare: "));
  assert_non_null(strstr(jh_db_errmsg(f->db), "syntax error"));
}

/* ---- binds and steps ---- */

static void test_binds_checked(void **state) {
  struct fixture *f = *state;
  sqlite3_stmt *st;
  char buf[64];

  assert_int_equal(jh_db_exec(f->db,
                              "CREATE TABLE t(k TEXT PRIMARY KEY,"
                              " v BLOB, n INTEGER)",
                              NULL),
                   0);
  st = jh_db_stmt(f->db, "INSERT INTO t VALUES (?1, ?2, ?3)");
  assert_non_null(st);
  /* too few values */
  assert_int_equal(JH_DB_BIND(f->db, st, JH_DB_TEXT("a"), JH_DB_INT(1)), -EIO);
  assert_non_null(strstr(jh_db_errmsg(f->db), "2 values for 3 parameters"));
  /* a blob without a length: parameter 2 */
  assert_int_equal(JH_DB_BIND(f->db, st, JH_DB_TEXT("a"),
                              JH_DB_BLOB("xy", JH_DB_NTS), JH_DB_INT(1)),
                   -EIO);
  assert_non_null(strstr(jh_db_errmsg(f->db), "bind parameter 2"));
  /* a text longer than SQLite takes: parameter 1, its bytes never read */
  assert_int_equal(JH_DB_BIND(f->db, st, JH_DB_TEXTN("a", (size_t)INT_MAX + 1),
                              JH_DB_NULL, JH_DB_INT(1)),
                   -EIO);
  assert_non_null(strstr(jh_db_errmsg(f->db), "bind parameter 1"));
  /* typed values, lengths and NULLs */
  assert_int_equal(JH_DB_BIND(f->db, st, JH_DB_TEXTN("key-and-more", 3),
                              JH_DB_BLOB("\001\002", 2), JH_DB_ID(0)),
                   0);
  assert_int_equal(jh_db_step_done(f->db, st, "insert"), 0);
  assert_int_equal(jh_db_changes(f->db), 1);
  assert_int_equal(jh_db_last_insert_id(f->db), 1);
  jh_db_done(f->db, st);
  assert_string_equal(query_text(f->db,
                                 "SELECT k || ',' || length(v) || ','"
                                 " || coalesce(n, 'null') FROM t",
                                 buf, sizeof(buf)),
                      "key,2,null");

  /* a failing step: its code and what it was doing */
  st = jh_db_stmt(f->db, "INSERT INTO t VALUES (?1, ?2, ?3)");
  assert_int_equal(JH_DB_BIND(f->db, st, JH_DB_TEXT("key"), JH_DB_NULL,
                              JH_DB_TEXT(NULL)),
                   0);
  assert_int_equal(jh_db_step_done(f->db, st, "insert again"), -EIO);
  assert_int_equal(jh_db_errcode(f->db), SQLITE_CONSTRAINT_PRIMARYKEY);
  assert_non_null(strstr(jh_db_errmsg(f->db), "insert again: UNIQUE"));
  jh_db_done(f->db, st);
  /* a row where none was expected */
  st = jh_db_stmt(f->db, "SELECT 1");
  assert_int_equal(jh_db_step_done(f->db, st, "select"), -EIO);
  assert_non_null(strstr(jh_db_errmsg(f->db), "select: a row"));
  jh_db_done(f->db, st);
}

/* ---- transactions ---- */

static void test_transactions(void **state) {
  struct fixture *f = *state;
  jh_db *other;
  char err[256];

  assert_int_equal(jh_db_exec(f->db, "CREATE TABLE t(n)", NULL), 0);
  assert_int_equal(jh_db_begin(f->db), 0);
  assert_true(jh_db_in_transaction(f->db));
  assert_int_equal(jh_db_exec(f->db, "INSERT INTO t VALUES (1)", NULL), 0);
  jh_db_rollback(f->db);
  assert_false(jh_db_in_transaction(f->db));
  assert_int_equal(query_int(f->db, "SELECT count(*) FROM t"), 0);
  assert_int_equal(jh_db_begin_deferred(f->db), 0);
  assert_int_equal(jh_db_exec(f->db, "INSERT INTO t VALUES (2)", NULL), 0);
  assert_int_equal(jh_db_commit(f->db), 0);
  assert_int_equal(query_int(f->db, "SELECT count(*) FROM t"), 1);
  /* BEGIN IMMEDIATE takes the write lock: a second writer that does not
   * wait is refused with SQLite's reason */
  assert_int_equal(jh_db_begin(f->db), 0);
  assert_int_equal(jh_db_open(f->path, &config, &other, err, sizeof(err)), 0);
  jh_db_busy(other, 0);
  assert_int_equal(jh_db_begin(other), -EIO);
  assert_int_equal(jh_db_errcode(other) & 0xff, SQLITE_BUSY);
  assert_non_null(strstr(jh_db_errmsg(other), "begin transaction: "));
  jh_db_busy(other, -1);
  assert_int_equal(query_int(other, "PRAGMA busy_timeout"), 1000);
  jh_db_close(other);
  assert_int_equal(jh_db_commit(f->db), 0);
}

/* ---- the reserve ---- */

static void test_reserve(void **state) {
  struct fixture *f = *state;
  char path[PATH_MAX + 16];
  struct stat sb;

  snprintf(path, sizeof(path), "%s/reserve", f->dir);
  assert_int_equal(jh_db_keep_reserve(f->db, path), 0);
  assert_int_equal(stat(path, &sb), 0);
  assert_int_equal(sb.st_size, 1 << 20);
  assert_true(sb.st_blocks * 512 >= 1 << 20); /* written, not sparse */
  assert_int_equal(jh_db_keep_reserve(f->db, path), 0); /* kept as it is */
  assert_int_equal(jh_db_reserve_released(f->db), 0);
  assert_int_equal(jh_db_keep_reserve(f->db, NULL), -EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_open_settings, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_failure, setup, teardown),
      cmocka_unit_test_setup_teardown(test_migrations_once_in_order, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_failing_migration_rolled_back, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_cache_same_statement_reset, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_binds_checked, setup, teardown),
      cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reserve, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
