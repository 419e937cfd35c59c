/*
 * test_provisioning_cli.c — `jobhost provisioning` on an identity store
 * prepared through lib/provstore.h in a temporary home: the list as lines
 * and as JSON with its filters, approve and decline, and the refusals
 * (an unknown id, one not Awaiting Approval, a bad id or state) that exit
 * 2 and change nothing.
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
#include <jansson.h>
#include <sqlite3.h>

#include "harness_host.h"
#include "home.h"
#include "idstore.h"
#include "provstore.h"

struct fixture {
  jh_test_jobhost j;
  char store[PATH_MAX];                    /* the home's identity store */
  int64_t waiting, pending, orphan, other; /* assignment ids */
};

/* Put assignment a (vals from v) in s: its id. */
static int64_t put(jh_idstore *s, jh_prov_assignment *a, jh_prov_val *v,
                   size_t n) {
  char *buf = NULL, err[512];
  size_t cap = 0;
  int64_t id = 0;
  jh_prov_vals_sort(v, n);
  a->vals_len = jh_prov_vals_encode(v, n, &buf, &cap);
  assert_true(a->vals_len != (size_t)-1);
  a->vals = buf;
  if (jh_prov_assignment_put(s, a, 1, &id, err, sizeof(err)) != 0)
    fail_msg("%s", err);
  free(buf);
  return id;
}

#define VAL(p, nav, st, pol, obs)                                              \
  {                                                                            \
    .prop = (p), .navigation = (nav), .state = (st), .has_policy = 1,          \
    .policy = (pol), .policy_len = strlen(pol),                                \
    .has_observed = (obs)[0] != '\0', .observed = (obs),                       \
    .observed_len = strlen(obs)                                                \
  }

/* Four assignments: AD_User p1 (Added, Awaiting Approval: mail and a
 * manager to add, cn verified), AD_User p2 (Modified, Pending: mail),
 * an AD_User orphan (Deleted, Awaiting Approval), Other p1 (Added,
 * Awaiting Approval). */
static void prepare(struct fixture *f) {
  jh_home h;
  jh_idstore *s;
  char err[1024];
  uint32_t cn, mail, manager;

  if (jh_home_open(f->j.home, &h, err, sizeof(err)) != 0)
    fail_msg("%s", err);
  jh_test_path(f->store, sizeof(f->store), "%s", h.identity_store_path);
  jh_home_clear(&h);
  if (jh_idstore_open(f->store, &s, err, sizeof(err)) != 0 ||
      jh_idstore_property(s, "cn", &cn, err, sizeof(err)) != 0 ||
      jh_idstore_property(s, "mail", &mail, err, sizeof(err)) != 0 ||
      jh_idstore_property(s, "manager", &manager, err, sizeof(err)) != 0)
    fail_msg("%s", err);
  {
    jh_prov_val v[] = {
        VAL(cn, 0, JH_PROV_VERIFIED, "Alice", "Alice"),
        VAL(mail, 0, JH_PROV_AWAITING_APPROVAL, "alice@example.org", ""),
        VAL(manager, 1, JH_PROV_AWAITING_APPROVAL, "CN=Bob", "")};
    jh_prov_assignment a = {.resource_type = "AD_User",
                            .owner_key = "p1",
                            .change_type = JH_CHANGE_ADDED,
                            .state = JH_PROV_AWAITING_APPROVAL,
                            .policy_hash = "hash-p1"};
    f->waiting = put(s, &a, v, 3);
    a.resource_type = "Other";
    f->other = put(s, &a, v, 3);
  }
  {
    jh_prov_val v[] = {
        VAL(mail, 0, JH_PROV_PENDING, "bob@example.org", "bob@old.org")};
    jh_prov_assignment a = {.resource_type = "AD_User",
                            .owner_key = "p2",
                            .target_key = "CN=Bob",
                            .change_type = JH_CHANGE_MODIFIED,
                            .state = JH_PROV_PENDING,
                            .policy_hash = "hash-p2"};
    f->pending = put(s, &a, v, 1);
    a.owner_key = NULL;
    a.target_key = "CN=Gone";
    a.change_type = JH_CHANGE_DELETED;
    a.state = JH_PROV_AWAITING_APPROVAL;
    f->orphan = put(s, &a, v, 0);
  }
  jh_idstore_close(s);
}

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof(*f));
  assert_non_null(f);
  jh_test_jobhost_open(&f->j, NULL);
  prepare(f);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  jh_test_jobhost_close(&f->j);
  free(f);
  return 0;
}

/* Run `jobhost provisioning SUB --home HOME ARGS...`: its exit status,
 * stdout and stderr (free them). */
static int run(struct fixture *f, char **out, char **err, const char *sub,
               ...) {
  const char *argv[16] = {jh_test_env("JH_JOBHOST"), "provisioning", sub,
                          "--home", f->j.home};
  size_t n = 5;
  va_list ap;
  va_start(ap, sub);
  for (const char *a; (a = va_arg(ap, const char *)) != NULL && n < 15;)
    argv[n++] = a;
  va_end(ap);
  argv[n] = NULL;
  return jh_test_run(argv, out, err);
}

/* Every column of every assignment and review, as text. */
static char *dump(struct fixture *f) {
  sqlite3 *db;
  sqlite3_stmt *st;
  char *text;
  assert_int_equal(sqlite3_open_v2(f->store, &db, SQLITE_OPEN_READONLY, NULL),
                   SQLITE_OK);
  assert_int_equal(
      sqlite3_prepare_v2(
          db,
          "SELECT (SELECT group_concat(id || ':' || state || ':' || "
          "workflow_state || ':' || coalesce(declined_hash, '-') || ':' || "
          "hex(vals) || ':' || updated_at, ';') FROM assignments) || '/' || "
          "(SELECT count(*) FROM reviews)",
          -1, &st, NULL),
      SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  text = strdup((const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  assert_non_null(text);
  return text;
}

static void test_list_text(void **state) {
  struct fixture *f = *state;
  char *out, *err, line[256];

  assert_int_equal(run(f, &out, &err, "list", NULL), 0);
  assert_non_null(strstr(
      out, "ID\tRESOURCE TYPE\tOWNER\tTARGET\tCHANGE\tSTATE\tCHANGES\n"));
  snprintf(line, sizeof(line),
           "\n%" PRId64 "\tAD_User\tp1\t-\tAdded\tAwaiting Approval\t"
           "mail,manager\n",
           f->waiting);
  assert_non_null(strstr(out, line));
  snprintf(line, sizeof(line),
           "\n%" PRId64 "\tAD_User\tp2\tCN=Bob\tModified\tPending\tmail\n",
           f->pending);
  assert_non_null(strstr(out, line));
  snprintf(line, sizeof(line),
           "\n%" PRId64 "\tAD_User\t-\tCN=Gone\tDeleted\tAwaiting Approval\t\n",
           f->orphan);
  assert_non_null(strstr(out, line));
  free(out);
  free(err);

  assert_int_equal(run(f, &out, &err, "list", "--state", "awaiting-approval",
                       "--resource-type", "AD_User", NULL),
                   0);
  snprintf(line, sizeof(line), "\n%" PRId64 "\t", f->pending);
  assert_null(strstr(out, line));
  snprintf(line, sizeof(line), "\n%" PRId64 "\tOther", f->other);
  assert_null(strstr(out, line));
  snprintf(line, sizeof(line), "\n%" PRId64 "\tAD_User\t-", f->orphan);
  assert_non_null(strstr(out, line));
  free(out);
  free(err);

  assert_int_equal(run(f, &out, &err, "list", "--state", "Errored", NULL), 0);
  assert_string_equal(out, "no assignment matches\n");
  free(out);
  free(err);
}

static void test_list_json(void **state) {
  struct fixture *f = *state;
  char *out, *err;
  json_error_t jerr;
  json_t *arr, *o, *change;
  const char *key_order[] = {"\"id\"",     "\"resource_type\"", "\"owner\"",
                             "\"target\"", "\"change_type\"",   "\"state\"",
                             "\"changes\""};
  const char *at;

  assert_int_equal(run(f, &out, &err, "list", "--json", "--resource-type",
                       "AD_User", NULL),
                   0);
  arr = json_loads(out, 0, &jerr);
  if (arr == NULL)
    fail_msg("not JSON (%s): %s", jerr.text, out);
  assert_int_equal(json_array_size(arr), 3);
  o = json_array_get(arr, 0);
  assert_int_equal(json_integer_value(json_object_get(o, "id")), f->waiting);
  assert_string_equal(json_string_value(json_object_get(o, "owner")), "p1");
  assert_true(json_is_null(json_object_get(o, "target")));
  assert_string_equal(json_string_value(json_object_get(o, "change_type")),
                      "Added");
  assert_string_equal(json_string_value(json_object_get(o, "state")),
                      "Awaiting Approval");
  assert_int_equal(json_array_size(json_object_get(o, "changes")), 2);
  change = json_array_get(json_object_get(o, "changes"), 0);
  assert_string_equal(json_string_value(json_object_get(change, "property")),
                      "mail");
  assert_string_equal(json_string_value(json_object_get(change, "policy")),
                      "alice@example.org");
  assert_true(json_is_null(json_object_get(change, "observed")));
  change = json_array_get(json_object_get(o, "changes"), 1);
  assert_true(json_is_true(json_object_get(change, "navigation")));
  o = json_array_get(arr, 1);
  change = json_array_get(json_object_get(o, "changes"), 0);
  assert_string_equal(json_string_value(json_object_get(change, "observed")),
                      "bob@old.org");
  /* the keys in a stable order */
  at = out;
  for (size_t i = 0; i < sizeof(key_order) / sizeof(key_order[0]); i++) {
    at = strstr(at, key_order[i]);
    assert_non_null(at);
  }
  json_decref(arr);
  free(out);
  free(err);

  assert_int_equal(run(f, &out, &err, "list", "--json", "--resource-type",
                       "Nothing", NULL),
                   0);
  assert_string_equal(out, "[]\n");
  free(out);
  free(err);
}

static void test_approve_and_decline(void **state) {
  struct fixture *f = *state;
  char *out, *err, a[32], b[32], want[256];

  snprintf(a, sizeof(a), "%" PRId64, f->waiting);
  snprintf(b, sizeof(b), "%" PRId64, f->orphan);
  assert_int_equal(run(f, &out, &err, "approve", a, b, NULL), 0);
  snprintf(want, sizeof(want), "assignment %s: approved, now Pending\n", a);
  assert_non_null(strstr(out, want));
  free(out);
  free(err);
  assert_int_equal(jh_test_query_int(f->store,
                                     "SELECT count(*) FROM assignments WHERE "
                                     "state = 1 AND workflow_state = 16"),
                   2);
  assert_int_equal(jh_test_query_int(f->store,
                                     "SELECT count(*) FROM reviews WHERE "
                                     "decision = 'approved'"),
                   2);

  snprintf(a, sizeof(a), "%" PRId64, f->other);
  assert_int_equal(run(f, &out, &err, "decline", a, NULL), 0);
  free(out);
  free(err);
  snprintf(want, sizeof(want),
           "SELECT count(*) FROM assignments WHERE id = %s AND state = 0 AND "
           "workflow_state = 17 AND declined_hash = 'hash-p1'",
           a);
  assert_int_equal(jh_test_query_int(f->store, want), 1);
  /* listed as None now */
  assert_int_equal(run(f, &out, &err, "list", "--state", "none", NULL), 0);
  snprintf(want, sizeof(want), "\n%s\tOther\tp1\t-\tAdded\tNone\t", a);
  assert_non_null(strstr(out, want));
  free(out);
  free(err);
}

/* cmd with args exits 2, its stderr holding want, the store unchanged. */
static void refused(struct fixture *f, const char *want, const char *cmd,
                    const char *x, const char *y) {
  char *before = dump(f), *after, *out, *err;
  assert_int_equal(run(f, &out, &err, cmd, x, y, NULL), 2);
  if (strstr(err, want) == NULL)
    fail_msg("'%s' not in: %s", want, err);
  after = dump(f);
  assert_string_equal(before, after);
  free(before);
  free(after);
  free(out);
  free(err);
}

static void test_refusals_change_nothing(void **state) {
  struct fixture *f = *state;
  char good[32], pending[32], unknown[32], want[128];

  snprintf(good, sizeof(good), "%" PRId64, f->waiting);
  snprintf(pending, sizeof(pending), "%" PRId64, f->pending);
  snprintf(unknown, sizeof(unknown), "%" PRId64, f->other + 100);
  snprintf(want, sizeof(want), "assignment %s does not exist", unknown);
  refused(f, want, "approve", good, unknown);
  refused(f, want, "decline", unknown, good);
  snprintf(want, sizeof(want), "assignment %s is Pending", pending);
  refused(f, want, "approve", good, pending);
  refused(f, want, "decline", pending, good);
  refused(f, "'x1' is not an assignment id", "approve", good, "x1");
  refused(f, "'0' is not an assignment id", "decline", "0", NULL);
  refused(f, "'soon' is not a provisioning state", "list", "--state", "soon");
  refused(f, "options of list", "approve", "--json", good);
  refused(f, "which assignments?", "approve", NULL, NULL);
  refused(f, "takes no argument", "list", good, NULL);
}

static void test_home_without_store(void **state) {
  char *out, *err, path[PATH_MAX];
  jh_test_jobhost j;
  (void)state;
  jh_test_jobhost_open(&j, NULL);
  {
    const char *list[] = {jh_test_env("JH_JOBHOST"),
                          "provisioning",
                          "list",
                          "--home",
                          j.home,
                          NULL};
    const char *approve[] = {jh_test_env("JH_JOBHOST"),
                             "provisioning",
                             "approve",
                             "--home",
                             j.home,
                             "4",
                             NULL};
    assert_int_equal(jh_test_run(list, &out, &err), 0);
    assert_string_equal(out, "no assignment\n");
    free(out);
    free(err);
    assert_int_equal(jh_test_run(approve, &out, &err), 2);
    assert_non_null(strstr(err, "assignment 4 does not exist"));
    free(out);
    free(err);
  }
  /* neither made the store */
  jh_test_path(path, sizeof(path), "%s/identity.db", j.home);
  assert_false(jh_test_exists(path));
  jh_test_jobhost_close(&j);
}

int main(void) {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(test_list_text),           T(test_list_json),
      T(test_approve_and_decline), T(test_refusals_change_nothing),
      T(test_home_without_store),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
