/*
 * test_provstore_classify.c — the tables of schema 4: classifications
 * (written only when they differ, the targets not seen removed, orphans
 * listed apart, the CHECKs), profile assignments (added, refused,
 * removed, one entity type at a time), and the migration of a store as
 * schema 3 left it.
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

#include <cmocka.h>

#include "db.h"
#include "harness.h"
#include "idstore.h"
#include "provstore.h"

struct fixture {
  char dir[PATH_MAX / 2];
  char path[PATH_MAX]; /* dir/identity.db */
  jh_idstore *s;
  char err[512];
};

static int setup(void **state) {
  struct fixture *f = jh_test_fixture(sizeof(*f), sizeof(f->dir));
  jh_test_path(f->path, sizeof(f->path), "%s/identity.db", f->dir);
  if (jh_idstore_open(f->path, &f->s, f->err, sizeof(f->err)) != 0)
    fail_msg("%s", f->err);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  jh_idstore_close(f->s);
  jh_test_fixture_free(f);
  return 0;
}

static int64_t query_int(struct fixture *f, const char *sql) {
  sqlite3_stmt *st;
  int64_t v = -1;
  assert_int_equal(sqlite3_prepare_v2(jh_db_sqlite(jh_idstore_db(f->s)), sql,
                                      -1, &st, NULL),
                   SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

static void exec(struct fixture *f, const char *sql) {
  if (jh_idstore_exec(f->s, sql, f->err, sizeof(f->err)) != 0)
    fail_msg("%s: %s", sql, f->err);
}

/* ---- classifications ---- */

static int put(struct fixture *f, const char *key, const char *rt, int conf) {
  jh_prov_class c = {.entity_type = "Account",
                     .key = key,
                     .key_len = strlen(key),
                     .resource_type = rt,
                     .confidence = conf,
                     .rule = rt != NULL ? "model.yaml:12" : NULL,
                     .task_instance = 7};
  int rc = jh_prov_class_put(f->s, &c, f->err, sizeof(f->err));
  if (rc < 0)
    fail_msg("%s", f->err);
  return rc;
}

/* The rows listed, as "key=resource type/confidence;" ("-" orphan). */
typedef struct listed {
  char text[512];
} listed;

static int on_class(void *ud, const jh_prov_class *c) {
  listed *l = ud;
  size_t n = strlen(l->text);
  assert_string_equal(c->entity_type, "Account");
  assert_non_null(c->updated_at);
  snprintf(l->text + n, sizeof(l->text) - n, "%s=%s/%d;", c->key,
           c->resource_type != NULL ? c->resource_type : "-", c->confidence);
  return 0;
}

static const char *list(struct fixture *f, int orphans_only, listed *l) {
  l->text[0] = '\0';
  assert_int_equal(jh_prov_class_list(f->s, NULL, orphans_only, on_class, l,
                                      f->err, sizeof(f->err)),
                   0);
  return l->text;
}

static void test_classification_replaced_whole(void **state) {
  struct fixture *f = *state;
  listed l;

  assert_int_equal(jh_prov_class_begin(f->s, f->err, sizeof(f->err)), 0);
  assert_int_equal(put(f, "a", "Service", 100), 1);
  assert_int_equal(put(f, "b", NULL, 0), 1);
  assert_int_equal(put(f, "c", "Service", 80), 1);
  assert_int_equal(
      jh_prov_class_finish(f->s, "Account", f->err, sizeof(f->err)), 0);
  assert_string_equal(list(f, 0, &l), "a=Service/100;b=-/0;c=Service/80;");
  assert_string_equal(list(f, 1, &l), "b=-/0;");

  /* the next run: a equal, b now classified, c gone */
  assert_int_equal(jh_prov_class_begin(f->s, f->err, sizeof(f->err)), 0);
  assert_int_equal(put(f, "a", "Service", 100), 0);
  assert_int_equal(put(f, "b", "Service", 100), 1);
  assert_int_equal(
      jh_prov_class_finish(f->s, "Account", f->err, sizeof(f->err)), 1);
  assert_string_equal(list(f, 0, &l), "a=Service/100;b=Service/100;");
  assert_string_equal(list(f, 1, &l), "");
  /* another entity type's finish leaves these alone */
  assert_int_equal(jh_prov_class_begin(f->s, f->err, sizeof(f->err)), 0);
  assert_int_equal(jh_prov_class_finish(f->s, "Group", f->err, sizeof(f->err)),
                   0);
  assert_int_equal(query_int(f, "SELECT count(*) FROM classifications"), 2);
  assert_int_equal(query_int(f, "SELECT task_instance FROM classifications "
                                "WHERE key = 'a'"),
                   7);
}

static void test_classification_checks(void **state) {
  struct fixture *f = *state;
  /* an orphan has no confidence; a confidence is at most 150 */
  assert_int_equal(jh_idstore_exec(f->s,
                                   "INSERT INTO classifications(entity_type, "
                                   "key, confidence, updated_at) VALUES "
                                   "('A', 'k', 50, 'now')",
                                   f->err, sizeof(f->err)),
                   -EIO);
  assert_non_null(strstr(f->err, "CHECK"));
  assert_int_equal(jh_idstore_exec(f->s,
                                   "INSERT INTO classifications(entity_type, "
                                   "key, resource_type, confidence, "
                                   "updated_at) VALUES "
                                   "('A', 'k', 'R', 151, 'now')",
                                   f->err, sizeof(f->err)),
                   -EIO);
}

/* ---- profiles ---- */

static void want(struct fixture *f, const char *key, const char *profile,
                 const char *scope, int denied) {
  jh_prov_profile p = {.key = key,
                       .key_len = strlen(key),
                       .profile = profile,
                       .scope = scope,
                       .scope_len = strlen(scope)};
  if (jh_prov_profile_want(f->s, &p, denied, f->err, sizeof(f->err)) != 0)
    fail_msg("%s", f->err);
}

static void finish(struct fixture *f, const char *et, int64_t added,
                   int64_t removed) {
  int64_t a = -1, r = -1;
  assert_int_equal(
      jh_prov_profiles_finish(f->s, et, 9, &a, &r, f->err, sizeof(f->err)), 0);
  assert_int_equal(a, added);
  assert_int_equal(r, removed);
}

static int on_profile(void *ud, const jh_prov_profile *p) {
  listed *l = ud;
  size_t n = strlen(l->text);
  snprintf(l->text + n, sizeof(l->text) - n, "%s:%s %s@%s;", p->entity_type,
           p->key, p->profile, p->scope_len > 0 ? p->scope : "-");
  return 0;
}

static const char *profiles(struct fixture *f, const char *et, listed *l) {
  l->text[0] = '\0';
  assert_int_equal(jh_prov_profiles_list(f->s, et, on_profile, l, f->err,
                                         sizeof(f->err)),
                   0);
  return l->text;
}

static void test_profiles_added_refused_removed(void **state) {
  struct fixture *f = *state;
  listed l;

  assert_int_equal(jh_prov_profiles_begin(f->s, f->err, sizeof(f->err)), 0);
  want(f, "p1", "Admin", "", 0);
  want(f, "p1", "Admin", "", 0); /* twice: once */
  want(f, "p2", "Admin", "", 0);
  want(f, "p2", "Admin", "", 1); /* refused: wins */
  want(f, "p2", "Manager", "d1", 0);
  finish(f, "Person", 2, 0);
  assert_int_equal(jh_prov_profiles_begin(f->s, f->err, sizeof(f->err)), 0);
  want(f, "g1", "Owner", "", 0);
  finish(f, "Group", 1, 0);
  assert_string_equal(profiles(f, NULL, &l), "Group:g1 Owner@-;"
                                             "Person:p1 Admin@-;"
                                             "Person:p2 Manager@d1;");

  /* the next run of Person: p1 keeps Admin, p2's scope changes */
  assert_int_equal(jh_prov_profiles_begin(f->s, f->err, sizeof(f->err)), 0);
  want(f, "p1", "Admin", "", 0);
  want(f, "p2", "Manager", "d2", 0);
  finish(f, "Person", 1, 1);
  assert_string_equal(profiles(f, "Person", &l),
                      "Person:p1 Admin@-;Person:p2 Manager@d2;");
  /* nothing given any more: all of Person's go, Group's stay */
  assert_int_equal(jh_prov_profiles_begin(f->s, f->err, sizeof(f->err)), 0);
  finish(f, "Person", 0, 2);
  assert_string_equal(profiles(f, NULL, &l), "Group:g1 Owner@-;");
  assert_int_equal(query_int(f, "SELECT task_instance FROM "
                                "profile_assignments"),
                   9);
}

/* ---- migration ---- */

/* A store as schema 3 left it: today's without the tables of schema 4,
 * with the orders and the index by value of schema 3 and 4, its version
 * set back, with an assignment and a resource in it. */
static void make_schema3(struct fixture *f) {
  exec(f, "DROP TABLE classifications; DROP TABLE profile_assignments;"
          "DROP VIEW assignment_states;"
          "ALTER TABLE assignments DROP COLUMN since;"
          "DROP TABLE orders; DROP TABLE order_files;"
          "CREATE TABLE orders(id INTEGER PRIMARY KEY,"
          " assignment INTEGER NOT NULL, change_type INTEGER NOT NULL,"
          " task_instance INTEGER, file TEXT NOT NULL,"
          " written_at TEXT NOT NULL);"
          "CREATE INDEX orders_by_file ON orders(file);"
          "DROP INDEX correlation_keys_by_value;"
          "CREATE INDEX correlation_keys_by_value ON"
          " correlation_keys(resource_type, rule, side, value);"
          "INSERT INTO entity_types VALUES (1, 'Account', 'AD');"
          "INSERT INTO resources VALUES (1, 'a1', x'0103616263', 4);"
          "INSERT INTO assignments(resource_type, target_key, change_type,"
          " state, updated_at, vals) VALUES ('R', 'a1', 0, 0, 'then', x'');"
          "PRAGMA user_version = 3;");
  jh_idstore_close(f->s);
  f->s = NULL;
}

static void test_migration_from_schema3(void **state) {
  struct fixture *f = *state;
  listed l;

  make_schema3(f);
  assert_int_equal(jh_idstore_open(f->path, &f->s, f->err, sizeof(f->err)), 0);
  assert_int_equal(query_int(f, "PRAGMA user_version"), JH_IDSTORE_SCHEMA);
  assert_int_equal(JH_IDSTORE_SCHEMA, 6);
  assert_int_equal(query_int(f, "SELECT count(*) FROM sqlite_schema WHERE "
                                "name IN ('classifications', "
                                "'profile_assignments')"),
                   2);
  /* what schema 3 held is kept */
  assert_int_equal(query_int(f, "SELECT dirty FROM resources"), 4);
  assert_int_equal(query_int(f, "SELECT count(*) FROM assignments WHERE "
                                "target_key = 'a1' AND owner_key IS NULL"),
                   1);
  /* and the new tables work */
  assert_int_equal(jh_prov_class_begin(f->s, f->err, sizeof(f->err)), 0);
  assert_int_equal(put(f, "a1", NULL, 0), 1);
  assert_string_equal(list(f, 1, &l), "a1=-/0;");
  /* opened again: nothing to migrate, nothing lost */
  jh_idstore_close(f->s);
  assert_int_equal(jh_idstore_open(f->path, &f->s, f->err, sizeof(f->err)), 0);
  assert_string_equal(list(f, 1, &l), "a1=-/0;");
}

int main(void) {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(test_classification_replaced_whole),
      T(test_classification_checks),
      T(test_profiles_added_refused_removed),
      T(test_migration_from_schema3),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
