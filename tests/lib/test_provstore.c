/*
 * test_provstore.c — the provisioning tables of the identity store: the
 * scan with its dirty mask and computed values, writes that change only
 * what differs, dirty bits, correlation keys, the values' encoding,
 * assignments with and without history, orders, the review's filters and
 * all-or-none decisions; and the migration of a schema-2 store.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
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
  int64_t person, account; /* entity types */
  char err[512];
};

static int setup(void **state) {
  struct fixture *f = jh_test_fixture(sizeof(*f), sizeof(f->dir));
  jh_test_path(f->path, sizeof(f->path), "%s/identity.db", f->dir);
  if (jh_idstore_open(f->path, &f->s, f->err, sizeof(f->err)) != 0 ||
      jh_idstore_entity_type(f->s, "Person", "HR", &f->person, f->err,
                             sizeof(f->err)) != 0 ||
      jh_idstore_entity_type(f->s, "Account", "AD", &f->account, f->err,
                             sizeof(f->err)) != 0)
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

/* ---- helpers ---- */

static size_t slen(const char *t) { return t != NULL ? strlen(t) : 0; }

static jh_db *db_of(struct fixture *f) { return jh_idstore_db(f->s); }

/* The first column of the one row sql gives, or -1 when none. */
static int64_t query_int(struct fixture *f, const char *sql) {
  sqlite3_stmt *st;
  int64_t v = -1;
  assert_int_equal(sqlite3_prepare_v2(jh_db_sqlite(db_of(f)), sql, -1, &st,
                                      NULL),
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

static void put_resource(struct fixture *f, int64_t et, const char *key,
                         const char *data, int dirty) {
  jh_db *db = db_of(f);
  sqlite3_stmt *st = jh_db_stmt(
      db, "INSERT INTO resources(entity_type, key, data, dirty) "
          "VALUES (?1, ?2, ?3, ?4)");
  assert_non_null(st);
  assert_int_equal(JH_DB_BIND(db, st, JH_DB_INT(et), JH_DB_TEXT(key),
                              JH_DB_BLOB(data, strlen(data)), JH_DB_INT(dirty)),
                   0);
  assert_int_equal(jh_db_step_done(db, st, NULL), 0);
  jh_db_done(db, st);
}

/* What a scan saw, one line per resource. */
struct seen {
  char text[1024];
  int stop_after; /* 0: never stop */
  int count;
};

static int see(void *ud, const jh_prov_resource *r) {
  struct seen *s = ud;
  size_t n = strlen(s->text);
  snprintf(s->text + n, sizeof(s->text) - n, "%.*s=%.*s|%.*s|%d;",
           (int)r->key_len, r->key, (int)r->data_len, (const char *)r->data,
           (int)r->computed_len, (const char *)r->computed, r->dirty);
  s->count++;
  return s->stop_after != 0 && s->count == s->stop_after ? 42 : 0;
}

static const char *scan(struct fixture *f, int64_t et, int mask,
                        struct seen *s) {
  memset(s, 0, sizeof(*s));
  assert_int_equal(jh_prov_scan(f->s, et, mask, see, s, f->err, sizeof(f->err)),
                   0);
  return s->text;
}

/* ---- names ---- */

/* A store this code creates has its own page size, in WAL mode. */
static void test_new_store_page_size(void **state) {
  struct fixture *f = *state;
  assert_int_equal(query_int(f, "PRAGMA page_size"), JH_IDSTORE_PAGE_SIZE);
  assert_int_equal(JH_IDSTORE_PAGE_SIZE, 32768);
  assert_int_equal(query_int(f, "SELECT count(*) FROM pragma_journal_mode "
                                "WHERE journal_mode = 'wal'"),
                   1);
}

static void test_names(void **state) {
  (void)state;
  assert_string_equal(jh_prov_state_name(JH_PROV_AWAITING_APPROVAL),
                      "Awaiting Approval");
  assert_string_equal(jh_prov_state_name(JH_PROV_EXECUTED), "Executed");
  assert_null(jh_prov_state_name(JH_PROV_STATE_COUNT));
  assert_null(jh_prov_state_name(-1));
  assert_int_equal(jh_prov_state_parse("awaiting-approval"),
                   JH_PROV_AWAITING_APPROVAL);
  assert_int_equal(jh_prov_state_parse("Awaiting Approval"),
                   JH_PROV_AWAITING_APPROVAL);
  assert_int_equal(jh_prov_state_parse("PENDING"), JH_PROV_PENDING);
  assert_int_equal(jh_prov_state_parse("none"), JH_PROV_NONE);
  assert_int_equal(jh_prov_state_parse("pend"), -1);
  assert_int_equal(jh_prov_state_parse(""), -1);
  assert_string_equal(jh_change_type_name(JH_CHANGE_DELETED), "Deleted");
  assert_null(jh_change_type_name(4));
}

/* ---- resources ---- */

static void test_scan_mask_and_computed(void **state) {
  struct fixture *f = *state;
  struct seen s;

  put_resource(f, f->person, "p2", "two", 7);
  put_resource(f, f->person, "p1", "one", 0);
  put_resource(f, f->person, "p3", "three", JH_DIRTY_CORRELATION);
  put_resource(f, f->account, "a1", "acct", 7);
  assert_int_equal(jh_prov_computed_put(f->s, f->person, "p3", 2, "c3", 2,
                                        f->err, sizeof(f->err)),
                   1);
  assert_string_equal(scan(f, f->person, 0, &s),
                      "p1=one||0;p2=two||7;p3=three|c3|2;");
  assert_string_equal(scan(f, f->person, JH_DIRTY_CORRELATION, &s),
                      "p2=two||7;p3=three|c3|2;");
  assert_string_equal(scan(f, f->person, JH_DIRTY_EXPRESSIONS, &s),
                      "p2=two||7;");
  assert_string_equal(scan(f, f->account, JH_DIRTY_ALL, &s), "a1=acct||7;");
  /* a nonzero return stops the scan and is returned */
  memset(&s, 0, sizeof(s));
  s.stop_after = 2;
  assert_int_equal(
      jh_prov_scan(f->s, f->person, 0, see, &s, f->err, sizeof(f->err)), 42);
  assert_int_equal(s.count, 2);
}

/* A callback that writes while the scan runs: clear what it consumed;
 * the resource it was given stays readable through the writes. */
static int consume(void *ud, const jh_prov_resource *r) {
  struct fixture *f = ud;
  char value[64], key[64], data[64];
  int n = snprintf(value, sizeof(value), "c-%.*s", (int)r->key_len, r->key);
  if (r->key_len >= sizeof(key) || r->data_len >= sizeof(data))
    return -1;
  memcpy(key, r->key, r->key_len);
  memcpy(data, r->data, r->data_len);
  if (jh_prov_computed_put(f->s, f->person, r->key, r->key_len, value,
                           (size_t)n, f->err, sizeof(f->err)) < 0 ||
      jh_prov_dirty_clear(f->s, f->person, r->key, r->key_len,
                          JH_DIRTY_EXPRESSIONS, f->err, sizeof(f->err)) != 0)
    return -1;
  /* a change of the stored size of dirty (7 -> 0) moves the row */
  if (r->dirty == JH_DIRTY_ALL &&
      (jh_prov_dirty_clear(f->s, f->person, r->key, r->key_len, JH_DIRTY_ALL,
                           f->err, sizeof(f->err)) != 0 ||
       jh_prov_dirty_set(f->s, f->person, r->key, r->key_len,
                         JH_DIRTY_ALL & ~JH_DIRTY_EXPRESSIONS, f->err,
                         sizeof(f->err)) != 0))
    return -1;
  return memcmp(key, r->key, r->key_len) != 0 ||
                 memcmp(data, r->data, r->data_len) != 0
             ? -2
             : 0;
}

static void test_scan_writes_as_it_goes(void **state) {
  struct fixture *f = *state;
  struct seen s;
  for (int i = 0; i < 2000; i++) {
    char key[16];
    snprintf(key, sizeof(key), "k%04d", i);
    put_resource(f, f->person, key, i % 3 ? "some data of a resource" : "d",
                 i % 2 ? 7 : 0);
  }
  assert_int_equal(jh_db_begin(db_of(f)), 0);
  assert_int_equal(jh_prov_scan(f->s, f->person, JH_DIRTY_EXPRESSIONS, consume,
                                f, f->err, sizeof(f->err)),
                   0);
  assert_int_equal(jh_db_commit(db_of(f)), 0);
  assert_int_equal(query_int(f, "SELECT count(*) FROM computed"), 1000);
  assert_int_equal(
      query_int(f, "SELECT count(*) FROM resources WHERE dirty = 6"), 1000);
  scan(f, f->person, JH_DIRTY_EXPRESSIONS, &s);
  assert_int_equal(s.count, 0);
  scan(f, f->person, JH_DIRTY_ROLE_MODEL, &s);
  assert_int_equal(s.count, 1000);
}

/* Counts what a scan gives: resources, those with computed values that
 * are their own, and keys out of order. */
struct merged {
  char last[32];
  int n, with_computed, wrong, out_of_order;
};

static int count_merged(void *ud, const jh_prov_resource *r) {
  struct merged *m = ud;
  char key[32], want[40];
  snprintf(key, sizeof(key), "%.*s", (int)r->key_len, r->key);
  if (m->n > 0 && strcmp(m->last, key) >= 0)
    m->out_of_order++;
  snprintf(m->last, sizeof(m->last), "%s", key);
  m->n++;
  if (r->has_computed) {
    m->with_computed++;
    snprintf(want, sizeof(want), "c-%s", key);
    if (r->computed_len != strlen(want) ||
        memcmp(r->computed, want, r->computed_len) != 0)
      m->wrong++;
  } else if (r->computed_len != 0) {
    m->wrong++;
  }
  return 0;
}

/* The scan merges the resources with their computed rows, a batch of
 * each at a time: over several batches, with keys that are prefixes of
 * others, with computed rows of keys that have no resource (left out)
 * and resources without computed rows, every resource comes once, in
 * SQLite's order, with its own computed values or none. */
static void test_scan_merges_batches(void **state) {
  struct fixture *f = *state;
  struct merged m;
  int expect_computed = 0;
  for (int i = 0; i < 1500; i++) {
    char key[16], value[24];
    snprintf(key, sizeof(key), "k%d", i); /* k1 < k10 < k100 < k11 */
    put_resource(f, f->person, key, "d", i % 5 == 0 ? 7 : 0);
    if (i % 3 == 0) {
      snprintf(value, sizeof(value), "c-%s", key);
      assert_int_equal(jh_prov_computed_put(f->s, f->person, key, strlen(key),
                                            value, strlen(value), f->err,
                                            sizeof(f->err)),
                       1);
      expect_computed++;
    }
    /* computed values of a key with no resource: never given */
    snprintf(key, sizeof(key), "k%d-gone", i);
    if (i % 7 == 0)
      assert_int_equal(jh_prov_computed_put(f->s, f->person, key, strlen(key),
                                            "x", 1, f->err, sizeof(f->err)),
                       1);
  }
  put_resource(f, f->account, "k1", "other entity type", 7);
  memset(&m, 0, sizeof(m));
  assert_int_equal(jh_prov_scan(f->s, f->person, 0, count_merged, &m, f->err,
                                sizeof(f->err)),
                   0);
  assert_int_equal(m.n, 1500);
  assert_int_equal(m.with_computed, expect_computed);
  assert_int_equal(m.wrong, 0);
  assert_int_equal(m.out_of_order, 0);
  assert_string_equal(m.last, "k999");
  /* the dirty mask: 300 resources flagged */
  memset(&m, 0, sizeof(m));
  assert_int_equal(jh_prov_scan(f->s, f->person, JH_DIRTY_EXPRESSIONS,
                                count_merged, &m, f->err, sizeof(f->err)),
                   0);
  assert_int_equal(m.n, 300);
}

static void test_get(void **state) {
  struct fixture *f = *state;
  jh_prov_resource r;

  put_resource(f, f->person, "p1", "one", 5);
  put_resource(f, f->person, "p2", "two", 0);
  assert_int_equal(jh_prov_computed_put(f->s, f->person, "p1", 2, "cc", 2,
                                        f->err, sizeof(f->err)),
                   1);
  assert_int_equal(
      jh_prov_get(f->s, f->person, "p1", 2, &r, f->err, sizeof(f->err)), 1);
  /* the copies outlive other statements */
  assert_int_equal(jh_prov_computed_put(f->s, f->person, "p1", 2, "dd", 2,
                                        f->err, sizeof(f->err)),
                   1);
  assert_int_equal(r.key_len, 2);
  assert_memory_equal(r.key, "p1", 2);
  assert_int_equal(r.data_len, 3);
  assert_memory_equal(r.data, "one", 3);
  assert_int_equal(r.computed_len, 2);
  assert_memory_equal(r.computed, "cc", 2);
  assert_int_equal(r.dirty, 5);
  assert_int_equal(
      jh_prov_get(f->s, f->person, "p2", 2, &r, f->err, sizeof(f->err)), 1);
  assert_int_equal(r.computed_len, 0);
  assert_int_equal(
      jh_prov_get(f->s, f->person, "p9", 2, &r, f->err, sizeof(f->err)), 0);
  assert_int_equal(
      jh_prov_get(f->s, f->account, "p1", 2, &r, f->err, sizeof(f->err)), 0);
}

struct strings {
  char text[256];
};

static int add_string(void *ud, const char *v, size_t len) {
  struct strings *s = ud;
  size_t n = strlen(s->text);
  snprintf(s->text + n, sizeof(s->text) - n, "%.*s;", (int)len, v);
  return 0;
}

static void test_links(void **state) {
  struct fixture *f = *state;
  struct strings s = {""};
  exec(f, "INSERT INTO links VALUES ('groups', 'p1', 'g2', 'HR'),"
          " ('groups', 'p1', 'g1', 'HR'), ('groups', 'p2', 'g3', 'HR'),"
          " ('roles', 'p1', 'r1', 'HR')");
  assert_int_equal(jh_prov_links(f->s, "groups", "p1", 2, add_string, &s,
                                 f->err, sizeof(f->err)),
                   0);
  assert_string_equal(s.text, "g1;g2;");
  s.text[0] = '\0';
  assert_int_equal(jh_prov_links(f->s, "groups", "p9", 2, add_string, &s,
                                 f->err, sizeof(f->err)),
                   0);
  assert_string_equal(s.text, "");
}

static void test_computed_put_changed_only(void **state) {
  struct fixture *f = *state;
  char e[sizeof(f->err)];
  put_resource(f, f->person, "p1", "one", 0);
#define PUT(data, len)                                                         \
  jh_prov_computed_put(f->s, f->person, "p1", 2, data, len, e, sizeof(e))
  assert_int_equal(PUT("abc", 3), 1);
  assert_int_equal(PUT("abc", 3), 0);
  assert_int_equal(PUT("abd", 3), 1);
  assert_int_equal(PUT("abd\0", 4), 1);
  assert_int_equal(query_int(f, "SELECT length(data) FROM computed"), 4);
  assert_int_equal(PUT(NULL, 0), 1);
  assert_int_equal(PUT(NULL, 0), 0);
  assert_int_equal(query_int(f, "SELECT count(*) FROM computed"), 0);
#undef PUT
}

/* Flags given with computed values are the resource's flags: seen by
 * jh_prov_get and a dirty scan, cleared by both clears, and kept on the
 * resource's row when the computed values go. */
static int count_resource(void *ud, const jh_prov_resource *r) {
  (void)r;
  ++*(int *)ud;
  return 0;
}

static int scanned(struct fixture *f, int mask) {
  int n = 0;
  assert_int_equal(jh_prov_scan(f->s, f->person, mask, count_resource, &n,
                                f->err, sizeof(f->err)),
                   0);
  return n;
}

static void test_computed_marks(void **state) {
  struct fixture *f = *state;
  jh_prov_resource r;
  const int mark = JH_DIRTY_CORRELATION | JH_DIRTY_ROLE_MODEL;
  put_resource(f, f->person, "p1", "one", JH_DIRTY_EXPRESSIONS);
  put_resource(f, f->person, "p2", "two", 0);
  assert_int_equal(jh_prov_computed_put_marked(f->s, f->person, "p1", 2, "c", 1,
                                               mark, f->err, sizeof(f->err)),
                   1);
  assert_int_equal(
      jh_prov_get(f->s, f->person, "p1", 2, &r, f->err, sizeof(f->err)), 1);
  assert_int_equal(r.dirty, JH_DIRTY_ALL);
  assert_int_equal(query_int(f, "SELECT dirty FROM resources WHERE key='p1'"),
                   JH_DIRTY_EXPRESSIONS);
  assert_int_equal(scanned(f, JH_DIRTY_ROLE_MODEL), 1);
  /* equal values: no mark */
  assert_int_equal(jh_prov_computed_put_marked(f->s, f->person, "p2", 2, "c", 1,
                                               0, f->err, sizeof(f->err)),
                   1);
  assert_int_equal(jh_prov_computed_put_marked(f->s, f->person, "p2", 2, "c", 1,
                                               mark, f->err, sizeof(f->err)),
                   0);
  assert_int_equal(scanned(f, JH_DIRTY_CORRELATION), 1);

  assert_int_equal(jh_prov_dirty_clear(f->s, f->person, "p1", 2,
                                       JH_DIRTY_CORRELATION, f->err,
                                       sizeof(f->err)),
                   0);
  assert_int_equal(scanned(f, JH_DIRTY_CORRELATION), 0);
  assert_int_equal(scanned(f, JH_DIRTY_ROLE_MODEL), 1);
  /* removed computed values leave their flags on the resource */
  assert_int_equal(jh_prov_computed_put_marked(f->s, f->person, "p1", 2, NULL,
                                               0, 0, f->err, sizeof(f->err)),
                   1);
  assert_int_equal(query_int(f, "SELECT dirty FROM resources WHERE key='p1'"),
                   JH_DIRTY_EXPRESSIONS | JH_DIRTY_ROLE_MODEL);
  assert_int_equal(jh_prov_computed_put_marked(f->s, f->person, "p2", 2, "d", 1,
                                               mark, f->err, sizeof(f->err)),
                   1);
  assert_int_equal(jh_prov_dirty_clear_all(f->s, f->person, JH_DIRTY_ALL,
                                           f->err, sizeof(f->err)),
                   2);
  assert_int_equal(scanned(f, JH_DIRTY_ALL), 0);
}

/* jh_prov_computed_put_scanned of each resource a scan gives: the value
 * is the resource's key with the suffix, none when the suffix is empty;
 * what each call returned, in order. */
struct put_scanned {
  struct fixture *f;
  const char *suffix;
  char got[64];
};

static int put_scanned_each(void *ud, const jh_prov_resource *r) {
  struct put_scanned *p = ud;
  char v[32];
  size_t len = 0;
  int rc;
  if (p->suffix[0] != '\0')
    len = (size_t)snprintf(v, sizeof(v), "%.*s%s", (int)r->key_len, r->key,
                           p->suffix);
  rc = jh_prov_computed_put_scanned(p->f->s, p->f->person, r, v, len,
                                    JH_DIRTY_ROLE_MODEL, p->f->err,
                                    sizeof(p->f->err));
  if (rc < 0)
    return rc;
  p->got[strlen(p->got)] = (char)('0' + rc);
  return 0;
}

static const char *put_all(struct fixture *f, struct put_scanned *p,
                           const char *suffix) {
  memset(p->got, 0, sizeof(p->got));
  p->f = f;
  p->suffix = suffix;
  assert_int_equal(jh_prov_scan(f->s, f->person, 0, put_scanned_each, p, f->err,
                                sizeof(f->err)),
                   0);
  return p->got;
}

/* Values put from a scan: inserted with the mark where there were none,
 * nothing written (no mark) where they are as read, replaced with the
 * mark where they differ, removed when empty; the same as
 * jh_prov_computed_put_marked gives. */
static void test_computed_put_scanned(void **state) {
  struct fixture *f = *state;
  struct put_scanned p;
  put_resource(f, f->person, "p1", "one", 0);
  put_resource(f, f->person, "p2", "two", 0);
  assert_int_equal(jh_prov_computed_put(f->s, f->person, "p2", 2, "p2x", 3,
                                        f->err, sizeof(f->err)),
                   1);
  assert_string_equal(put_all(f, &p, "x"), "10");
  assert_int_equal(query_int(f, "SELECT group_concat(key || ':' || "
                                "CAST(data AS TEXT) || ':' || dirty, ' ') = "
                                "'p1:p1x:4 p2:p2x:0' FROM computed"),
                   1);
  assert_int_equal(jh_prov_dirty_clear_all(f->s, f->person, JH_DIRTY_ALL,
                                           f->err, sizeof(f->err)),
                   1);
  assert_string_equal(put_all(f, &p, "x"), "00");
  assert_int_equal(scanned(f, JH_DIRTY_ROLE_MODEL), 0);
  assert_string_equal(put_all(f, &p, "y"), "11");
  assert_int_equal(scanned(f, JH_DIRTY_ROLE_MODEL), 2);
  assert_string_equal(put_all(f, &p, ""), "11");
  assert_int_equal(query_int(f, "SELECT count(*) FROM computed"), 0);
  assert_string_equal(put_all(f, &p, ""), "00");
}

static void test_dirty_set_and_clear(void **state) {
  struct fixture *f = *state;
  put_resource(f, f->person, "p1", "one", JH_DIRTY_ALL);
  assert_int_equal(jh_prov_dirty_clear(f->s, f->person, "p1", 2,
                                       JH_DIRTY_CORRELATION, f->err,
                                       sizeof(f->err)),
                   0);
  assert_int_equal(query_int(f, "SELECT dirty FROM resources"), 5);
  assert_int_equal(jh_prov_dirty_clear(f->s, f->person, "p1", 2,
                                       JH_DIRTY_CORRELATION, f->err,
                                       sizeof(f->err)),
                   0);
  assert_int_equal(query_int(f, "SELECT dirty FROM resources"), 5);
  assert_int_equal(jh_prov_dirty_clear(f->s, f->person, "p1", 2,
                                       JH_DIRTY_EXPRESSIONS |
                                           JH_DIRTY_ROLE_MODEL,
                                       f->err, sizeof(f->err)),
                   0);
  assert_int_equal(query_int(f, "SELECT dirty FROM resources"), 0);
  assert_int_equal(jh_prov_dirty_set(f->s, f->person, "p1", 2,
                                     JH_DIRTY_CORRELATION | JH_DIRTY_ROLE_MODEL,
                                     f->err, sizeof(f->err)),
                   0);
  assert_int_equal(query_int(f, "SELECT dirty FROM resources"), 6);
  /* another resource's flags are left alone; an unknown one is no error */
  assert_int_equal(jh_prov_dirty_set(f->s, f->person, "p9", 2, 1, f->err,
                                     sizeof(f->err)),
                   0);
  assert_int_equal(query_int(f, "SELECT count(*) FROM resources"), 1);
  /* every resource of an entity type at once; another type's stay */
  put_resource(f, f->person, "p2", "two", JH_DIRTY_ALL);
  put_resource(f, f->person, "p3", "three", JH_DIRTY_EXPRESSIONS);
  put_resource(f, f->account, "a1", "acct", JH_DIRTY_ALL);
  assert_int_equal(jh_prov_dirty_clear_all(f->s, f->person,
                                           JH_DIRTY_CORRELATION, f->err,
                                           sizeof(f->err)),
                   2);
  /* p1 6 -> 4, p2 7 -> 5; p3 (1) and the account (7) as they were */
  assert_int_equal(query_int(f, "SELECT sum(dirty * (CASE key WHEN 'p1' "
                                "THEN 1 WHEN 'p2' THEN 10 WHEN 'p3' THEN 100 "
                                "ELSE 1000 END)) FROM resources"),
                   4 + 50 + 100 + 7000);
}

/* ---- correlation keys ---- */

static void test_corrkeys(void **state) {
  struct fixture *f = *state;
  struct strings s = {""};
  char *e = f->err;
  size_t es = sizeof(f->err);
#define KEY(key, value)                                                        \
  jh_prov_corrkey_put(f->s, "AD_User", 0, JH_CORR_SOURCE, key, strlen(key),    \
                      value, slen(value), e, es)
  assert_int_equal(KEY("p2", "E1"), 1);
  assert_int_equal(KEY("p1", "E1"), 1);
  assert_int_equal(KEY("p3", "E2"), 1);
  assert_int_equal(KEY("p1", "E1"), 0);
  assert_int_equal(jh_prov_corrkey_put(f->s, "AD_User", 0, JH_CORR_TARGET, "a1",
                                       2, "E1", 2, e, es),
                   1);
  assert_int_equal(jh_prov_corrkey_put(f->s, "AD_User", 1, JH_CORR_SOURCE, "p4",
                                       2, "E1", 2, e, es),
                   1);
  assert_int_equal(jh_prov_corrkey_find(f->s, "AD_User", 0, JH_CORR_SOURCE,
                                        "E1", 2, add_string, &s, e, es),
                   0);
  assert_string_equal(s.text, "p1;p2;");
  /* a changed value moves the key; NULL removes it */
  assert_int_equal(KEY("p2", "E2"), 1);
  assert_int_equal(KEY("p3", NULL), 1);
  assert_int_equal(KEY("p3", NULL), 0);
  s.text[0] = '\0';
  assert_int_equal(jh_prov_corrkey_find(f->s, "AD_User", 0, JH_CORR_SOURCE,
                                        "E2", 2, add_string, &s, e, es),
                   0);
  assert_string_equal(s.text, "p2;");
  s.text[0] = '\0';
  assert_int_equal(jh_prov_corrkey_find(f->s, "AD_User", 0, JH_CORR_TARGET,
                                        "E1", 2, add_string, &s, e, es),
                   0);
  assert_string_equal(s.text, "a1;");
  assert_int_equal(jh_prov_corrkey_put(f->s, "AD_User", 0, 2, "p1", 2, "E1", 2,
                                       e, es),
                   -EINVAL);
  assert_non_null(strstr(e, "side 2"));
#undef KEY
}

/* ---- values ---- */

#define SCALAR(p, st, pol, obs)                                                \
  {                                                                            \
    .prop = (p), .state = (st), .has_policy = (pol) != NULL, .policy = (pol),  \
    .policy_len = slen(pol), .has_observed = (obs) != NULL, .observed = (obs), \
    .observed_len = slen(obs)                                                  \
  }
#define NAV(p, st, pol, obs)                                                   \
  {                                                                            \
    .prop = (p), .navigation = 1, .state = (st), .has_policy = (pol) != NULL,  \
    .policy = (pol), .policy_len = slen(pol), .has_observed = (obs) != NULL,   \
    .observed = (obs), .observed_len = slen(obs)                               \
  }

struct decoded {
  char text[1024];
};

static int show_val(void *ud, const jh_prov_val *v) {
  struct decoded *d = ud;
  size_t n = strlen(d->text);
  snprintf(d->text + n, sizeof(d->text) - n, "%u%s%d:%s%.*s/%s%.*s;", v->prop,
           v->navigation ? "n" : "s", v->state, v->has_policy ? "=" : "-",
           (int)v->policy_len, v->has_policy ? v->policy : "",
           v->has_observed ? "=" : "-", (int)v->observed_len,
           v->has_observed ? v->observed : "");
  return 0;
}

static void test_vals_round_trip(void **state) {
  jh_prov_val v[] = {
      SCALAR(3, JH_PROV_PENDING, "alice@x", "old@x"),
      NAV(7, JH_PROV_VERIFIED, "CN=b", "CN=b"),
      SCALAR(1, JH_PROV_VERIFIED, "Alice", "Alice"),
      NAV(7, JH_PROV_PENDING, "CN=a", NULL),
      NAV(7, JH_PROV_PENDING, NULL, "CN=c"),
      SCALAR(300, JH_PROV_AWAITING_APPROVAL, "", NULL),
  };
  jh_prov_val w[6];
  struct decoded d = {""};
  char *a = NULL, *b = NULL;
  size_t acap = 0, bcap = 0, alen, blen;
  (void)state;

  memcpy(w, v, sizeof(v));
  jh_prov_vals_sort(v, 6);
  alen = jh_prov_vals_encode(v, 6, &a, &acap);
  assert_true(alen != (size_t)-1 && alen > 0);
  assert_int_equal(jh_prov_vals_decode(a, alen, show_val, &d), 0);
  assert_string_equal(d.text, "1s4:=Alice/=Alice;3s1:=alice@x/=old@x;"
                              "7n1:=CN=a/-;7n4:=CN=b/=CN=b;7n1:-/=CN=c;"
                              "300s5:=/-;");
  /* another order of the same values: the same bytes */
  for (size_t i = 0; i < 3; i++) {
    jh_prov_val t = w[i];
    w[i] = w[5 - i];
    w[5 - i] = t;
  }
  jh_prov_vals_sort(w, 6);
  blen = jh_prov_vals_encode(w, 6, &b, &bcap);
  assert_int_equal(blen, alen);
  assert_memory_equal(a, b, alen);
  /* a value that differs gives other bytes */
  w[0].state = JH_PROV_PENDING;
  blen = jh_prov_vals_encode(w, 6, &b, &bcap);
  assert_int_equal(blen, alen);
  assert_true(memcmp(a, b, alen) != 0);
  /* truncated or bad data is refused; none is empty */
  d.text[0] = '\0';
  assert_int_equal(jh_prov_vals_decode(a, alen - 1, show_val, &d), -EILSEQ);
  assert_int_equal(jh_prov_vals_decode("\x01\x7f", 2, show_val, &d), -EILSEQ);
  assert_int_equal(jh_prov_vals_decode("", 0, show_val, &d), 0);
  assert_int_equal(jh_prov_vals_encode(v, 0, &b, &bcap), 0);
  /* a state out of range cannot be encoded */
  w[0].state = JH_PROV_STATE_COUNT;
  assert_true(jh_prov_vals_encode(w, 6, &b, &bcap) == (size_t)-1);
  free(a);
  free(b);
}

/* ---- assignments ---- */

/* An assignment of AD_User with vals encoded into *buf. */
static jh_prov_assignment assignment(const char *owner, const char *target,
                                     int state, const jh_prov_val *v, size_t n,
                                     char **buf, size_t *cap) {
  jh_prov_assignment a = {.resource_type = "AD_User",
                          .owner_key = owner,
                          .target_key = target,
                          .change_type = target ? JH_CHANGE_MODIFIED
                                                : JH_CHANGE_ADDED,
                          .state = state,
                          .policy_hash = "h1",
                          .task_instance = 9};
  size_t len = jh_prov_vals_encode(v, n, buf, cap);
  assert_true(len != (size_t)-1);
  a.vals = *buf;
  a.vals_len = len;
  return a;
}

static int64_t put(struct fixture *f, const jh_prov_assignment *a, int hist) {
  int64_t id = 0;
  if (jh_prov_assignment_put(f->s, a, hist, &id, f->err, sizeof(f->err)) != 0)
    fail_msg("%s", f->err);
  return id;
}

static void test_assignment_put_and_history(void **state) {
  struct fixture *f = *state;
  jh_prov_val v1[] = {SCALAR(1, JH_PROV_PENDING, "Alice", NULL)};
  jh_prov_val v2[] = {SCALAR(1, JH_PROV_PENDING, "Alicia", NULL)};
  char *buf = NULL;
  size_t cap = 0;
  jh_prov_assignment a = assignment("p1", NULL, JH_PROV_PENDING, v1, 1, &buf,
                                    &cap),
                     got;
  int64_t id = put(f, &a, 1), id2;

  assert_true(id > 0);
  assert_int_equal(query_int(f, "SELECT count(*) FROM assignment_history"), 0);
  /* the same again: nothing written, no history */
  a.id = id;
  exec(f, "UPDATE assignments SET updated_at = 'then'");
  assert_int_equal(put(f, &a, 1), id);
  assert_int_equal(query_int(f, "SELECT updated_at = 'then' FROM assignments"),
                   1);
  assert_int_equal(query_int(f, "SELECT count(*) FROM assignment_history"), 0);
  /* a target found: written; what history keeps is unchanged */
  a.target_key = "a1";
  a.confidence = 100;
  put(f, &a, 1);
  assert_int_equal(query_int(f, "SELECT count(*) FROM assignment_history"), 0);
  assert_int_equal(query_int(f, "SELECT target_key = 'a1' FROM assignments"),
                   1);
  /* a new change type: the version before it historized */
  a.change_type = JH_CHANGE_MODIFIED;
  put(f, &a, 1);
  assert_int_equal(query_int(f, "SELECT count(*) FROM assignment_history"), 1);
  assert_int_equal(query_int(f, "SELECT change_type FROM assignment_history"),
                   1);
  assert_int_equal(query_int(f, "SELECT confidence FROM assignments"), 100);
  /* only the message differs: written, nothing historized */
  a.message = "note";
  put(f, &a, 1);
  assert_int_equal(query_int(f, "SELECT count(*) FROM assignment_history"), 1);
  assert_int_equal(query_int(f, "SELECT message = 'note' FROM assignments"), 1);
  /* new values without history */
  a = assignment("p1", "a1", JH_PROV_PENDING, v2, 1, &buf, &cap);
  a.id = id;
  put(f, &a, 0);
  assert_int_equal(query_int(f, "SELECT count(*) FROM assignment_history"), 1);
  /* by target: a copy that outlives the next statements */
  assert_int_equal(jh_prov_assignment_by_target(f->s, "AD_User", "a1", &got,
                                                f->err, sizeof(f->err)),
                   1);
  a = assignment("p2", "a2", JH_PROV_VERIFIED, v1, 1, &buf, &cap);
  id2 = put(f, &a, 1);
  assert_int_equal(got.id, id);
  assert_string_equal(got.owner_key, "p1");
  assert_string_equal(got.target_key, "a1");
  assert_null(got.message);
  assert_string_equal(got.policy_hash, "h1");
  assert_int_equal(got.task_instance, 9);
  assert_int_equal(got.vals_len, 9);
  assert_int_equal(jh_prov_assignment_by_target(f->s, "AD_User", "a3", &got,
                                                f->err, sizeof(f->err)),
                   0);
  assert_int_equal(jh_prov_assignment_by_target(f->s, "AD_Other", "a1", &got,
                                                f->err, sizeof(f->err)),
                   0);
  /* one assignment per owner, per target; unknown ids; bad values */
  a = assignment("p1", NULL, JH_PROV_PENDING, v1, 1, &buf, &cap);
  assert_int_equal(
      jh_prov_assignment_put(f->s, &a, 1, NULL, f->err, sizeof(f->err)), -EIO);
  assert_non_null(strstr(f->err, "UNIQUE"));
  a = assignment("p3", "a2", JH_PROV_PENDING, v1, 1, &buf, &cap);
  assert_int_equal(
      jh_prov_assignment_put(f->s, &a, 1, NULL, f->err, sizeof(f->err)), -EIO);
  a.id = id2 + 10;
  assert_int_equal(jh_prov_assignment_put(f->s, &a, 1, NULL, f->err,
                                          sizeof(f->err)),
                   -ENOENT);
  a.id = 0;
  a.state = 9;
  assert_int_equal(jh_prov_assignment_put(f->s, &a, 1, NULL, f->err,
                                          sizeof(f->err)),
                   -EINVAL);
  assert_non_null(strstr(f->err, "state 9"));
  assert_int_equal(query_int(f, "SELECT count(*) FROM assignments"), 2);
  free(buf);
}

struct owners {
  char text[512];
};

static int add_owner(void *ud, const jh_prov_assignment *a) {
  struct owners *o = ud;
  size_t n = strlen(o->text);
  snprintf(o->text + n, sizeof(o->text) - n, "%s>%s;",
           a->owner_key ? a->owner_key : "-",
           a->target_key ? a->target_key : "-");
  return 0;
}

static void test_assignments_order_and_remove(void **state) {
  struct fixture *f = *state;
  jh_prov_val v[] = {SCALAR(1, JH_PROV_VERIFIED, "x", "x")};
  char *buf = NULL;
  size_t cap = 0;
  struct owners o = {""};
  jh_prov_assignment a = assignment("p2", "a9", JH_PROV_VERIFIED, v, 1, &buf,
                                    &cap);
  int64_t keep, orphan;

  put(f, &a, 1);
  a.owner_key = NULL;
  a.target_key = "a5";
  orphan = put(f, &a, 1);
  a.target_key = "a1";
  put(f, &a, 1);
  a.owner_key = "p1";
  a.target_key = NULL;
  keep = put(f, &a, 1);
  a.resource_type = "Other";
  a.owner_key = "p0";
  put(f, &a, 1);
  assert_int_equal(jh_prov_assignments(f->s, "AD_User", add_owner, &o, f->err,
                                       sizeof(f->err)),
                   0);
  assert_string_equal(o.text, "p1>-;p2>a9;->a1;->a5;");
  assert_int_equal(
      jh_prov_assignment_remove(f->s, orphan, 1, f->err, sizeof(f->err)), 0);
  assert_int_equal(
      jh_prov_assignment_remove(f->s, keep, 0, f->err, sizeof(f->err)), 0);
  assert_int_equal(query_int(f, "SELECT count(*) FROM assignment_history"), 1);
  assert_int_equal(query_int(f, "SELECT count(*) FROM assignments"), 3);
  assert_int_equal(jh_prov_assignment_remove(f->s, keep, 1, f->err,
                                             sizeof(f->err)),
                   -ENOENT);
  o.text[0] = '\0';
  assert_int_equal(jh_prov_assignments(f->s, "AD_User", add_owner, &o, f->err,
                                       sizeof(f->err)),
                   0);
  assert_string_equal(o.text, "p2>a9;->a1;");
  free(buf);
}

/* The decoded values of assignment id as the store says they are now
 * (assignment_states: a sent assignment's Pending values are
 * Transmitted). */
static void vals_of(struct fixture *f, int64_t id, struct decoded *d) {
  jh_db *db = db_of(f);
  sqlite3_stmt *st = jh_db_stmt(
      db, "SELECT vals, sent FROM assignment_states WHERE id = ?1");
  size_t len;
  char *copy;
  d->text[0] = '\0';
  assert_non_null(st);
  assert_int_equal(JH_DB_BIND(db, st, JH_DB_INT(id)), 0);
  assert_int_equal(jh_db_step(db, st, NULL), 1);
  len = (size_t)sqlite3_column_bytes(st, 0);
  copy = malloc(len + 1);
  assert_non_null(copy);
  memcpy(copy, len > 0 ? sqlite3_column_blob(st, 0) : "", len);
  if (sqlite3_column_int(st, 1))
    assert_int_equal(jh_prov_vals_restate(copy, len, JH_PROV_PENDING,
                                          JH_PROV_TRANSMITTED),
                     0);
  jh_db_done(db, st);
  assert_int_equal(jh_prov_vals_decode(copy, len, show_val, d), 0);
  free(copy);
}

/* The orders of one file recorded as a set: an order row each, in the
 * order given, the file named once; the assignments, not written, are
 * Transmitted as the store says it, and so are their Pending values; an
 * id not in the store is refused. */
static void test_orders_written_set(void **state) {
  struct fixture *f = *state;
  jh_prov_val v[] = {SCALAR(1, JH_PROV_VERIFIED, "x", "x"),
                     SCALAR(2, JH_PROV_PENDING, "new", "old"),
                     NAV(3, JH_PROV_PENDING, "CN=m", NULL)};
  char *buf = NULL;
  size_t cap = 0;
  jh_prov_assignment a = assignment("p1", "a1", JH_PROV_PENDING, v, 3, &buf,
                                    &cap);
  int64_t ids[3];
  struct decoded d;

  ids[1] = put(f, &a, 1);
  a.owner_key = "p2";
  a.target_key = NULL;
  a.change_type = JH_CHANGE_ADDED;
  ids[0] = put(f, &a, 1);
  assert_int_equal(jh_prov_orders_written(f->s, ids, 2, 12, "AD_User/y.json",
                                          f->err, sizeof(f->err)),
                   0);
  /* Transmitted as the store says it, each by an order of task 12, and
   * the rows themselves not written again */
  assert_int_equal(query_int(f, "SELECT count(*) FROM assignment_states a "
                                "JOIN orders o ON o.assignment = a.id "
                                "JOIN order_files f ON f.id = o.file "
                                "WHERE a.state = 2 AND a.sent "
                                "AND f.task_instance = 12"),
                   2);
  assert_int_equal(query_int(f, "SELECT count(*) FROM assignments WHERE "
                                "state = 1"),
                   2);
  for (size_t i = 0; i < 2; i++) {
    vals_of(f, ids[i], &d);
    assert_string_equal(d.text, "1s4:=x/=x;2s2:=new/=old;3n2:=CN=m/-;");
  }
  assert_int_equal(query_int(f, "SELECT group_concat(change_type, '') FROM "
                                "(SELECT o.change_type FROM orders o JOIN "
                                "order_files f ON f.id = o.file WHERE "
                                "f.path = 'AD_User/y.json' AND "
                                "f.task_instance = 12 AND f.written_at <> '' "
                                "ORDER BY o.id)"),
                   12);
  /* the file is named once, whatever the number of its orders */
  assert_int_equal(query_int(f, "SELECT count(*) FROM order_files"), 1);
  assert_int_equal(jh_prov_order_file_recorded(f->s, "AD_User/y.json", f->err,
                                               sizeof(f->err)),
                   1);
  assert_int_equal(jh_prov_order_file_recorded(f->s, "AD_User/z.json", f->err,
                                               sizeof(f->err)),
                   0);
  assert_int_equal(query_int(f, "SELECT min(assignment = (SELECT max(id) FROM "
                                "assignments)) FROM orders WHERE id = 1"),
                   1);
  ids[2] = ids[0] + 100;
  assert_int_equal(jh_prov_orders_written(f->s, ids + 1, 2, 13, "z.json",
                                          f->err, sizeof(f->err)),
                   -ENOENT);
  assert_int_equal(jh_prov_orders_written(f->s, ids, 0, 13, "z.json", f->err,
                                          sizeof(f->err)),
                   -EINVAL);
  free(buf);
}

/* ---- review ---- */

struct ids {
  int64_t id[16];
  size_t n;
};

static int add_id(void *ud, const jh_prov_assignment *a) {
  struct ids *l = ud;
  if (l->n < 16)
    l->id[l->n++] = a->id;
  return 0;
}

static void list(struct fixture *f, int state, const char *rt, struct ids *l) {
  jh_prov_filter flt = {.state = state, .resource_type = rt};
  l->n = 0;
  assert_int_equal(jh_prov_list(f->s, &flt, add_id, l, f->err, sizeof(f->err)),
                   0);
}

/* Three assignments of AD_User (Awaiting Approval, Pending, Awaiting
 * Approval) and one of Other (Awaiting Approval): their ids in id[]. */
static void review_fixture(struct fixture *f, int64_t id[4]) {
  jh_prov_val v[] = {SCALAR(1, JH_PROV_AWAITING_APPROVAL, "new", "old"),
                     SCALAR(2, JH_PROV_VERIFIED, "x", "x")};
  char *buf = NULL;
  size_t cap = 0;
  jh_prov_assignment a = assignment("p1", "a1", JH_PROV_AWAITING_APPROVAL, v, 2,
                                    &buf, &cap);
  id[0] = put(f, &a, 1);
  a.owner_key = "p2";
  a.target_key = "a2";
  a.state = JH_PROV_PENDING;
  id[1] = put(f, &a, 1);
  a.owner_key = "p3";
  a.target_key = NULL;
  a.state = JH_PROV_AWAITING_APPROVAL;
  a.policy_hash = "h3";
  id[2] = put(f, &a, 1);
  a.resource_type = "Other";
  id[3] = put(f, &a, 1);
  free(buf);
}

static void test_list_filters(void **state) {
  struct fixture *f = *state;
  int64_t id[4];
  struct ids l;
  review_fixture(f, id);
  list(f, -1, NULL, &l);
  assert_int_equal(l.n, 4);
  assert_true(l.id[0] == id[0] && l.id[3] == id[3]);
  list(f, JH_PROV_AWAITING_APPROVAL, NULL, &l);
  assert_int_equal(l.n, 3);
  list(f, JH_PROV_AWAITING_APPROVAL, "AD_User", &l);
  assert_int_equal(l.n, 2);
  assert_true(l.id[0] == id[0] && l.id[1] == id[2]);
  list(f, -1, "Other", &l);
  assert_int_equal(l.n, 1);
  list(f, JH_PROV_ERRORED, NULL, &l);
  assert_int_equal(l.n, 0);
  assert_int_equal(jh_prov_list(f->s, NULL, add_id, &l, f->err, sizeof(f->err)),
                   0);
  assert_int_equal(l.n, 4);
}

/* What jh_prov_list_owned gave: id, then the owner's key, data and
 * computed values, or '-' when none; one entry an assignment. */
static int see_owned(void *ud, const jh_prov_assignment *a,
                     const jh_prov_resource *owner) {
  struct seen *s = ud;
  size_t n = strlen(s->text);
  if (owner == NULL)
    snprintf(s->text + n, sizeof(s->text) - n, "%" PRId64 "=-;", a->id);
  else
    snprintf(s->text + n, sizeof(s->text) - n, "%" PRId64 "=%s/%.*s/%.*s;",
             a->id, owner->key, (int)owner->data_len, (const char *)owner->data,
             (int)owner->computed_len, (const char *)owner->computed);
  s->count++;
  return s->stop_after > 0 && s->count >= s->stop_after ? 7 : 0;
}

/* The assignments of one state and resource type, in id order, each with
 * its owner read in the same pass: the owner's data and computed values
 * when the store has it under the owners' entity type, none when it does
 * not (or only under another entity type), none for an orphan; the
 * callback's nonzero return ends the pass. */
static void test_list_owned(void **state) {
  struct fixture *f = *state;
  int64_t id[5];
  jh_prov_val v[] = {SCALAR(1, JH_PROV_AWAITING_APPROVAL, "new", NULL)};
  char *buf = NULL, want[256];
  size_t cap = 0;
  jh_prov_assignment a = assignment(NULL, "a9", JH_PROV_AWAITING_APPROVAL, v, 1,
                                    &buf, &cap);
  jh_prov_filter flt = {JH_PROV_AWAITING_APPROVAL, "AD_User"};
  struct seen seen = {0};

  review_fixture(f, id);
  id[4] = put(f, &a, 1); /* an orphan */
  put_resource(f, f->person, "p1", "d1", 0);
  put_resource(f, f->person, "p2", "d2", 0);
  put_resource(f, f->account, "p3", "x3", 0);
  exec(f, "INSERT INTO computed(entity_type, key, data) "
          "SELECT id, 'p1', 'c1' FROM entity_types WHERE name = 'Person'");
  assert_int_equal(jh_prov_list_owned(f->s, &flt, f->person, see_owned, &seen,
                                      f->err, sizeof(f->err)),
                   0);
  snprintf(want, sizeof(want),
           "%" PRId64 "=p1/d1/c1;%" PRId64 "=-;%" PRId64 "=-;", id[0], id[2],
           id[4]);
  assert_string_equal(seen.text, want);
  memset(&seen, 0, sizeof(seen));
  seen.stop_after = 1;
  assert_int_equal(jh_prov_list_owned(f->s, &flt, f->person, see_owned, &seen,
                                      f->err, sizeof(f->err)),
                   7);
  assert_int_equal(seen.count, 1);
  free(buf);
}

static void test_approve_and_decline(void **state) {
  struct fixture *f = *state;
  int64_t id[4], two[2];
  struct decoded d;
  review_fixture(f, id);

  two[0] = id[2];
  two[1] = id[0];
  assert_int_equal(jh_prov_approve(f->s, two, 2, f->err, sizeof(f->err)), 0);
  assert_int_equal(query_int(f, "SELECT count(*) FROM assignments WHERE "
                                "state = 1 AND workflow_state = 16"),
                   2);
  vals_of(f, id[0], &d);
  assert_string_equal(d.text, "1s1:=new/=old;2s4:=x/=x;");
  assert_int_equal(query_int(f, "SELECT count(*) FROM reviews WHERE "
                                "decision = 'approved'"),
                   2);
  /* decline, the same id twice is one decision */
  two[0] = two[1] = id[3];
  assert_int_equal(jh_prov_decline(f->s, two, 2, f->err, sizeof(f->err)), 0);
  assert_int_equal(query_int(f, "SELECT count(*) FROM assignments WHERE "
                                "state = 0 AND workflow_state = 17 AND "
                                "declined_hash = 'h3'"),
                   1);
  vals_of(f, id[3], &d);
  assert_string_equal(d.text, "1s0:=new/=old;2s4:=x/=x;");
  assert_int_equal(query_int(f, "SELECT count(*) FROM reviews WHERE "
                                "decision = 'declined' AND policy_hash = 'h3'"),
                   1);
  assert_false(jh_db_in_transaction(db_of(f)));
}

static void test_review_all_or_none(void **state) {
  struct fixture *f = *state;
  int64_t id[4], ids[3];
  char want[64];
  review_fixture(f, id);

  ids[0] = id[0];
  ids[1] = id[3] + 100;
  ids[2] = id[2];
  assert_int_equal(jh_prov_approve(f->s, ids, 3, f->err, sizeof(f->err)),
                   -ENOENT);
  snprintf(want, sizeof(want), "assignment %lld does not exist",
           (long long)ids[1]);
  assert_non_null(strstr(f->err, want));
  ids[1] = id[1]; /* Pending */
  assert_int_equal(jh_prov_decline(f->s, ids, 3, f->err, sizeof(f->err)),
                   -EINVAL);
  snprintf(want, sizeof(want), "assignment %lld is Pending", (long long)id[1]);
  assert_non_null(strstr(f->err, want));
  assert_int_equal(query_int(f, "SELECT count(*) FROM assignments WHERE "
                                "state = 5 AND workflow_state = 0 AND "
                                "declined_hash IS NULL"),
                   3);
  assert_int_equal(query_int(f, "SELECT count(*) FROM reviews"), 0);
  assert_false(jh_db_in_transaction(db_of(f)));
  /* inside the caller's transaction: refused */
  assert_int_equal(jh_db_begin(db_of(f)), 0);
  assert_int_equal(jh_prov_approve(f->s, id, 1, f->err, sizeof(f->err)),
                   -EINVAL);
  jh_db_rollback(db_of(f));
}

/* ---- migration ---- */

/* The tables of a schema-2 store, as jobhost wrote them. */
static const char schema2[] =
    "CREATE TABLE entity_types(id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE, connector TEXT NOT NULL);"
    "CREATE TABLE properties(id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE resources(entity_type INTEGER NOT NULL, key TEXT NOT NULL,"
    " data BLOB NOT NULL, dirty INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(entity_type, key)) WITHOUT ROWID;"
    "CREATE TABLE links(association TEXT NOT NULL, value1 TEXT NOT NULL,"
    " value2 TEXT NOT NULL, connector TEXT NOT NULL,"
    " PRIMARY KEY(association, value1, value2)) WITHOUT ROWID;"
    "CREATE TABLE resource_changes(id INTEGER PRIMARY KEY,"
    " task_instance INTEGER NOT NULL, connector TEXT NOT NULL,"
    " entity_type TEXT NOT NULL, key TEXT NOT NULL, op TEXT NOT NULL,"
    " data BLOB, state TEXT NOT NULL);"
    "CREATE TABLE link_changes(id INTEGER PRIMARY KEY,"
    " task_instance INTEGER NOT NULL, connector TEXT NOT NULL,"
    " association TEXT NOT NULL, value1 TEXT NOT NULL, value2 TEXT NOT NULL,"
    " op TEXT NOT NULL, state TEXT NOT NULL);"
    "CREATE TABLE sync_state(connector TEXT PRIMARY KEY COLLATE NOCASE,"
    " last_batch INTEGER NOT NULL DEFAULT 0, last_mode TEXT,"
    " last_sync_at TEXT, blocked_task_instance INTEGER, failed_batch INTEGER,"
    " failed_reason TEXT);"
    "CREATE TABLE holds(task_instance INTEGER PRIMARY KEY,"
    " connector TEXT NOT NULL, job_instance INTEGER, batch INTEGER NOT NULL,"
    " mode TEXT NOT NULL, changes INTEGER NOT NULL, state TEXT NOT NULL,"
    " held_at TEXT, settled_by INTEGER, settled_job INTEGER,"
    " settled_at TEXT, reason TEXT);"
    "CREATE TABLE pending_reports(task_instance INTEGER PRIMARY KEY,"
    " path TEXT NOT NULL);"
    "INSERT INTO entity_types VALUES (1, 'Person', 'HR');"
    "INSERT INTO resources VALUES (1, 'p1', x'0103616263', 1),"
    " (1, 'p2', x'0103646566', 0);"
    "PRAGMA user_version = 2;";

static void test_migration_from_schema2(void **state) {
  struct fixture *f = *state;
  char path[PATH_MAX + 16];
  const jh_db_config cfg = {.busy_ms = 1000};
  jh_db *db = NULL;
  jh_idstore *s = NULL;
  struct seen seen;
  static const char *const tables[] = {"computed",    "correlation_keys",
                                       "assignments", "assignment_history",
                                       "orders",      "order_files",
                                       "reviews"};

  jh_test_path(path, sizeof(path), "%s/old.db", f->dir);
  assert_int_equal(jh_db_open(path, &cfg, &db, f->err, sizeof(f->err)), 0);
  assert_int_equal(jh_db_exec(db, schema2, NULL), 0);
  jh_db_close(db);

  assert_int_equal(jh_idstore_open(path, &s, f->err, sizeof(f->err)), 0);
  jh_idstore_close(f->s);
  f->s = s;
  assert_int_equal(query_int(f, "PRAGMA user_version"), JH_IDSTORE_SCHEMA);
  assert_int_equal(JH_IDSTORE_SCHEMA, 6);
  /* the store keeps the page size it was created with */
  assert_int_equal(query_int(f, "PRAGMA page_size"), 4096);
  assert_int_equal(query_int(f, "SELECT dirty FROM resources WHERE key='p1'"),
                   JH_DIRTY_ALL);
  assert_int_equal(query_int(f, "SELECT dirty FROM resources WHERE key='p2'"),
                   0);
  for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
    char sql[128];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM sqlite_schema WHERE name = '%s'", tables[i]);
    assert_int_equal(query_int(f, sql), 1);
  }
  assert_int_equal(query_int(f, "SELECT count(*) FROM sqlite_schema WHERE "
                                "name = 'correlation_keys_by_value'"),
                   1);
  /* the old data reads through the new module */
  assert_string_equal(scan(f, 1, JH_DIRTY_ROLE_MODEL, &seen), "p1=\x01\x03"
                                                              "abc||7;");
  /* the CHECKs hold */
  assert_int_equal(
      jh_idstore_exec(s,
                      "INSERT INTO assignments(resource_type, owner_key, "
                      "change_type, state, updated_at, vals) "
                      "VALUES ('R', 'o', 1, 9, 'now', x'')",
                      f->err, sizeof(f->err)),
      -EIO);
  assert_non_null(strstr(f->err, "CHECK"));
}

/* Whether SQLite's plan for sql names index. */
static int plan_uses(struct fixture *f, const char *sql, const char *index) {
  char q[512];
  sqlite3_stmt *st;
  int found = 0;
  snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", sql);
  assert_int_equal(sqlite3_prepare_v2(jh_db_sqlite(db_of(f)), q, -1, &st, NULL),
                   SQLITE_OK);
  while (sqlite3_step(st) == SQLITE_ROW)
    found |= strstr((const char *)sqlite3_column_text(st, 3), index) != NULL;
  sqlite3_finalize(st);
  return found;
}

/* The values an assignment is given to fn with, decoded into the
 * decoded ud. */
static int show_assignment_vals(void *ud, const jh_prov_assignment *a) {
  assert_int_equal(jh_prov_vals_decode(a->vals, a->vals_len, show_val, ud), 0);
  return 0;
}

/* A recorded order makes its Pending assignment Transmitted without
 * writing it, for every reader, until the assignment is written again:
 * then it is what was written, and an older order no longer counts. */
static void test_transmitted_until_written(void **state) {
  struct fixture *f = *state;
  jh_prov_val v[] = {SCALAR(1, JH_PROV_VERIFIED, "x", "x"),
                     SCALAR(2, JH_PROV_PENDING, "new", "old")};
  jh_prov_val w[] = {SCALAR(1, JH_PROV_VERIFIED, "x", "x"),
                     SCALAR(2, JH_PROV_TRANSMITTED, "new", "old")};
  jh_prov_val later[] = {SCALAR(1, JH_PROV_PENDING, "y", "x"),
                         SCALAR(2, JH_PROV_TRANSMITTED, "new", "old")};
  char *buf = NULL, *wbuf = NULL;
  size_t cap = 0, wcap = 0;
  jh_prov_assignment a = assignment("p1", NULL, JH_PROV_PENDING, v, 2, &buf,
                                    &cap);
  int64_t ids[2], counts[4], live;
  struct decoded d = {""};
  struct ids l;

  ids[0] = put(f, &a, 1);
  a.owner_key = "p2";
  ids[1] = put(f, &a, 1);
  assert_int_equal(jh_prov_orders_written(f->s, ids, 2, 12, "AD_User/a.json",
                                          f->err, sizeof(f->err)),
                   0);
  /* read as Transmitted everywhere: the list, the count of what is to
   * send, the values */
  list(f, JH_PROV_PENDING, "AD_User", &l);
  assert_int_equal(l.n, 0);
  list(f, JH_PROV_TRANSMITTED, "AD_User", &l);
  assert_int_equal(l.n, 2);
  assert_int_equal(jh_prov_count_pending(f->s, "AD_User", counts, &live, f->err,
                                         sizeof(f->err)),
                   0);
  assert_int_equal(counts[JH_CHANGE_ADDED], 0);
  assert_int_equal(
      jh_prov_list(f->s, &(jh_prov_filter){JH_PROV_TRANSMITTED, "AD_User"},
                   show_assignment_vals, &d, f->err, sizeof(f->err)),
      0);
  assert_string_equal(d.text, "1s4:=x/=x;2s2:=new/=old;"
                              "1s4:=x/=x;2s2:=new/=old;");

  /* put as read: nothing changes, nothing is written */
  a = assignment("p1", NULL, JH_PROV_TRANSMITTED, w, 2, &wbuf, &wcap);
  a.id = ids[0];
  exec(f, "UPDATE assignments SET updated_at = 'then'");
  put(f, &a, 1);
  assert_int_equal(query_int(f, "SELECT count(*) FROM assignments WHERE "
                                "updated_at = 'then'"),
                   2);
  assert_int_equal(query_int(f, "SELECT count(*) FROM assignment_history"), 0);

  /* a new policy: Pending again, the old order no longer counts, and
   * history keeps the version as it was, Transmitted */
  a = assignment("p1", NULL, JH_PROV_PENDING, later, 2, &wbuf, &wcap);
  a.id = ids[0];
  put(f, &a, 1);
  list(f, JH_PROV_PENDING, "AD_User", &l);
  assert_int_equal(l.n, 1);
  assert_int_equal(l.id[0], ids[0]);
  assert_int_equal(query_int(f, "SELECT state FROM assignment_history"),
                   JH_PROV_TRANSMITTED);
  d.text[0] = '\0';
  {
    jh_db *db = db_of(f);
    sqlite3_stmt *st = jh_db_stmt(db, "SELECT vals FROM assignment_history");
    assert_int_equal(jh_db_step(db, st, NULL), 1);
    assert_int_equal(jh_prov_vals_decode(sqlite3_column_blob(st, 0),
                                         (size_t)sqlite3_column_bytes(st, 0),
                                         show_val, &d),
                     0);
    jh_db_done(db, st);
  }
  assert_string_equal(d.text, "1s4:=x/=x;2s2:=new/=old;");
  /* sent again: Transmitted again; p2's first order still holds */
  assert_int_equal(jh_prov_orders_written(f->s, ids, 1, 13, "AD_User/b.json",
                                          f->err, sizeof(f->err)),
                   0);
  list(f, JH_PROV_TRANSMITTED, "AD_User", &l);
  assert_int_equal(l.n, 2);
  d.text[0] = '\0';
  vals_of(f, ids[0], &d);
  assert_string_equal(d.text, "1s2:=y/=x;2s2:=new/=old;");

  /* a fulfillment reads and writes the state as it is */
  assert_int_equal(jh_prov_fulfilled(f->s, ids[1], JH_PROV_EXECUTED, NULL, 14,
                                     f->err, sizeof(f->err)),
                   1);
  d.text[0] = '\0';
  vals_of(f, ids[1], &d);
  assert_string_equal(d.text, "1s4:=x/=x;2s8:=new/=old;");
  assert_int_equal(query_int(f, "SELECT state FROM assignment_states WHERE "
                                "owner_key = 'p2'"),
                   JH_PROV_EXECUTED);
  free(buf);
  free(wbuf);
}

/* A schema-5 store: an assignment Pending again after an order (a
 * Modified to send after its Added went), one Transmitted. Migrated:
 * the Pending one stays Pending (the older order does not count), the
 * Transmitted one stays Transmitted, and an order recorded now makes the
 * Pending one Transmitted. */
static void test_migration_from_schema5(void **state) {
  struct fixture *f = *state;
  jh_prov_val v[] = {SCALAR(1, JH_PROV_PENDING, "x", NULL)};
  char *buf = NULL;
  size_t cap = 0;
  jh_prov_assignment a = assignment("p1", NULL, JH_PROV_PENDING, v, 1, &buf,
                                    &cap);
  int64_t id = put(f, &a, 1);
  struct ids l;

  a.owner_key = "p2";
  a.state = JH_PROV_TRANSMITTED;
  put(f, &a, 1);
  exec(f, "DROP VIEW assignment_states; DROP INDEX orders_by_assignment;"
          "ALTER TABLE assignments DROP COLUMN since;"
          "INSERT INTO order_files VALUES (1, 'AD_User/a.json', 7, 't1');"
          "INSERT INTO orders VALUES (1, 1, 1, 1), (2, 2, 1, 1);"
          "PRAGMA user_version = 5;");
  jh_idstore_close(f->s);
  f->s = NULL;
  assert_int_equal(jh_idstore_open(f->path, &f->s, f->err, sizeof(f->err)), 0);
  assert_int_equal(query_int(f, "PRAGMA user_version"), JH_IDSTORE_SCHEMA);
  list(f, JH_PROV_PENDING, NULL, &l);
  assert_int_equal(l.n, 1);
  assert_int_equal(l.id[0], id);
  list(f, JH_PROV_TRANSMITTED, NULL, &l);
  assert_int_equal(l.n, 1);
  assert_int_equal(jh_prov_orders_written(f->s, &id, 1, 8, "AD_User/b.json",
                                          f->err, sizeof(f->err)),
                   0);
  list(f, JH_PROV_TRANSMITTED, NULL, &l);
  assert_int_equal(l.n, 2);
  /* an assignment's orders are found by its index */
  assert_true(plan_uses(f,
                        "SELECT state FROM assignment_states WHERE "
                        "owner_key = 'p1' AND resource_type = 'AD_User'",
                        "orders_by_assignment"));
  free(buf);
}

/* A schema-4 store: orders naming their file each, the index by value
 * over both sides. Migrated: each file named once in order_files, every
 * order kept with its id and its file's row, the index on the target
 * side only, and used by the lookup of a target by value. */
static void test_migration_from_schema4(void **state) {
  struct fixture *f = *state;
  int64_t id;
  char *buf = NULL;
  size_t cap = 0;
  jh_prov_val v[] = {SCALAR(1, JH_PROV_PENDING, "x", NULL)};
  jh_prov_assignment a = assignment("p1", NULL, JH_PROV_TRANSMITTED, v, 1, &buf,
                                    &cap);

  id = put(f, &a, 1);
  assert_int_equal(
      jh_idstore_exec(
          f->s,
          "DROP VIEW assignment_states;"
          "ALTER TABLE assignments DROP COLUMN since;"
          "DROP TABLE orders; DROP TABLE order_files;"
          "CREATE TABLE orders(id INTEGER PRIMARY KEY,"
          " assignment INTEGER NOT NULL, change_type INTEGER NOT NULL"
          " CHECK(change_type BETWEEN 0 AND 3), task_instance INTEGER,"
          " file TEXT NOT NULL, written_at TEXT NOT NULL);"
          "CREATE INDEX orders_by_file ON orders(file);"
          "INSERT INTO orders VALUES (5, 1, 1, 7, 'R/a.json', 't1'),"
          " (6, 1, 2, 7, 'R/a.json', 't1'), (9, 1, 3, 8, 'R/b.json', 't2');"
          "DROP INDEX correlation_keys_by_value;"
          "CREATE INDEX correlation_keys_by_value ON"
          " correlation_keys(resource_type, rule, side, value);"
          "PRAGMA user_version = 4;",
          f->err, sizeof(f->err)),
      0);
  jh_idstore_close(f->s);
  f->s = NULL;
  assert_int_equal(jh_idstore_open(f->path, &f->s, f->err, sizeof(f->err)), 0);
  assert_int_equal(query_int(f, "PRAGMA user_version"), JH_IDSTORE_SCHEMA);
  assert_int_equal(query_int(f, "SELECT count(*) FROM order_files"), 2);
  assert_int_equal(query_int(f, "SELECT count(*) FROM order_files WHERE "
                                "(path, task_instance, written_at) IN "
                                "(VALUES ('R/a.json', 7, 't1'), "
                                "('R/b.json', 8, 't2'))"),
                   2);
  assert_int_equal(query_int(f, "SELECT group_concat(o.id || ':' || "
                                "o.change_type || ':' || substr(f.path, 3, 1),"
                                " ',') = '5:1:a,6:2:a,9:3:b' FROM orders o "
                                "JOIN order_files f ON f.id = o.file "
                                "ORDER BY o.id"),
                   1);
  assert_int_equal(query_int(f, "SELECT min(assignment) = max(assignment) "
                                "FROM orders"),
                   1);
  assert_int_equal(id, 1);
  assert_int_equal(
      jh_prov_order_file_recorded(f->s, "R/b.json", f->err, sizeof(f->err)), 1);
  assert_int_equal(query_int(f, "SELECT count(*) FROM sqlite_schema WHERE "
                                "name = 'orders_by_file'"),
                   0);
  assert_int_equal(query_int(f, "SELECT sql LIKE '%WHERE side = 1' FROM "
                                "sqlite_schema WHERE "
                                "name = 'correlation_keys_by_value'"),
                   1);
  /* the lookup by value of jh_prov_corrkey_find goes through it */
  assert_true(plan_uses(f,
                        "SELECT key FROM correlation_keys WHERE "
                        "resource_type = 'R' AND rule = 0 AND side = 1 AND "
                        "1 = 1 AND value = 'v' ORDER BY key",
                        "correlation_keys_by_value"));
  free(buf);
}

int main(void) {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(test_names),
      T(test_scan_mask_and_computed),
      T(test_scan_writes_as_it_goes),
      T(test_scan_merges_batches),
      T(test_get),
      T(test_links),
      T(test_computed_put_changed_only),
      T(test_computed_marks),
      T(test_computed_put_scanned),
      T(test_dirty_set_and_clear),
      T(test_corrkeys),
      T(test_vals_round_trip),
      T(test_assignment_put_and_history),
      T(test_assignments_order_and_remove),
      T(test_orders_written_set),
      T(test_list_filters),
      T(test_list_owned),
      T(test_approve_and_decline),
      T(test_review_all_or_none),
      T(test_new_store_page_size),
      T(test_migration_from_schema2),
      T(test_migration_from_schema4),
      T(test_migration_from_schema5),
      T(test_transmitted_until_written),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
