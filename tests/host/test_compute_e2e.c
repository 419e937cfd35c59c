/*
 * test_compute_e2e.c — compute and provisioning end to end: the jobhost
 * program synchronizes 1,000 HR people and a directory (LDIF), computes
 * the expressions, the correlation keys and the role model of one
 * resource type, and writes provisioning orders; the tests read the
 * order files and compare them with what the rules must give, computed
 * here independently of the implementation.
 *
 *   - first run: an Added order for each person without an account, a
 *     Modified order (department only) for each account that differs,
 *     nothing for the accounts that agree, nothing for External people;
 *   - the orders applied to the directory by hand: a second run writes
 *     no order;
 *   - a rule change: exactly the affected Modified orders;
 *   - `run --dry-run` after a rule change: the orders are in the dry
 *     run's folder, the identity store and the orders folder unchanged;
 *   - the orders task killed between its files and its commit: the next
 *     run sends each order once;
 *   - a person leaving: one Deleted order;
 *   - a new person whose account exists already: correlated, no order.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "harness_host.h"

#define PEOPLE 1000
#define WITH_ACCOUNT 300 /* people 1..300 have an account at first */
#define RT "AD_Entry_NominativeUser"

typedef struct fixture {
  jh_test_jobhost j;
  char orders[PATH_MAX]; /* the orders folder of the resource type */
  char store[PATH_MAX];
  int gone;     /* a person who left (0: none) */
  int extra;    /* person PEOPLE + 1 is in HR (0: no) */
  int dept3_up; /* the mail rule that upper-cases Dept 3 is in force */
} fixture;

static int external(int k) { return k % 50 == 0; }
static int dept(int k) { return k % 10; }

/* ---- what the rules give, written here without the rules ---- */

static void expected_dn(int k, char *buf, size_t size) {
  snprintf(buf, size, "CN=Last%d\\, First%d,OU=Users,DC=example,DC=com", k, k);
}

static void expected_mail(const fixture *f, int k, char *buf, size_t size) {
  snprintf(buf, size, "first%d.last%d@example.com", k, k);
  if (f->dept3_up && dept(k) == 3)
    for (char *p = buf; *p; p++)
      *p = (char)toupper((unsigned char)*p);
}

/* The policy values of person k's account. */
static json_t *expected_values(const fixture *f, int k) {
  char dn[128], mail[128], id[16], login[16], cn[64], dep[16];
  expected_dn(k, dn, sizeof(dn));
  expected_mail(f, k, mail, sizeof(mail));
  snprintf(id, sizeof(id), "E%07d", k);
  snprintf(login, sizeof(login), "e%07d", k);
  snprintf(cn, sizeof(cn), "Last%d, First%d", k, k);
  snprintf(dep, sizeof(dep), "Dept %d", dept(k));
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "dn", dn, "cn", cn,
                   "sAMAccountName", login, "mail", mail, "employeeID", id,
                   "department", dep, "title", "Employee");
}

/* ---- the sources ---- */

static void write_hr(const fixture *f) {
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  int last = f->extra ? PEOPLE + 1 : PEOPLE;
  assert_non_null(m);
  fprintf(m, "EmployeeId,FirstName,LastName,Mail,Department,Manager,Status\n");
  for (int k = 1; k <= last; k++) {
    if (k == f->gone)
      continue;
    fprintf(m, "E%07d,First%d,Last%d,First%d.Last%d@Example.com,Dept %d,", k, k,
            k, k, k, dept(k));
    if (k >= 10)
      fprintf(m, "E%07d", k / 10);
    fprintf(m, ",%s\n", external(k) ? "External" : "Active");
  }
  fclose(m);
  jh_test_jobhost_file(&f->j, "hr.csv", text);
  free(text);
}

/* The account of person k, with the department given. */
static void write_account(FILE *m, const fixture *f, int k, const char *dep) {
  json_t *v = expected_values(f, k);
  const char *key;
  json_t *val;
  fprintf(m, "dn: %s\n", json_string_value(json_object_get(v, "dn")));
  json_object_foreach(v, key, val) if (strcmp(key, "dn") != 0)
      fprintf(m, "%s: %s\n", key,
              strcmp(key, "department") == 0 && dep ? dep
                                                    : json_string_value(val));
  if (k >= 10 && !external(k / 10)) {
    char mdn[128];
    expected_dn(k / 10, mdn, sizeof(mdn));
    fprintf(m, "manager: %s\n", mdn);
  }
  fprintf(m, "\n");
  json_decref(v);
}

/* Accounts for people 1..upto (External people and the one who left
 * have none), a differing department where stale(k), and one for person
 * PEOPLE + 1 when extra_account. */
static void write_directory(const fixture *f, int upto, int (*stale)(int k),
                            int extra_account) {
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  assert_non_null(m);
  fprintf(m, "version: 1\n\n");
  for (int k = 1; k <= upto; k++)
    if (!external(k) && k != f->gone)
      write_account(m, f, k, stale != NULL && stale(k) ? "Old Dept" : NULL);
  if (extra_account)
    write_account(m, f, PEOPLE + 1, NULL);
  fclose(m);
  jh_test_jobhost_file(&f->j, "directory.ldif", text);
  free(text);
}

static int stale_every_seventh(int k) { return k % 7 == 0; }

static const char model_head[] =
    "version: 1\n"
    "connectors:\n"
    "  - id: HR\n"
    "  - id: AD\n"
    "connections:\n"
    "  - {id: HR_Export, connector: HR, package: csv, settings: {path: "
    "hr.csv}}\n"
    "  - {id: AD_Export, connector: AD, package: ldif,\n"
    "     settings: {path: directory.ldif}}\n"
    "entity_types:\n"
    "  - id: HR_Person\n"
    "    properties:\n"
    "      - {id: employee_id, type: string}\n"
    "      - {id: first_name, type: string}\n"
    "      - {id: last_name, type: string}\n"
    "      - {id: mail, type: string}\n"
    "      - {id: department, type: string}\n"
    "      - {id: manager, type: link, target: HR_Person}\n"
    "      - {id: status, type: string}\n"
    "      - {id: display_name, type: string}\n"
    "  - id: AD_Entry\n"
    "    properties:\n"
    "      - {id: dn, type: string}\n"
    "      - {id: cn, type: string}\n"
    "      - {id: sAMAccountName, type: string}\n"
    "      - {id: mail, type: string}\n"
    "      - {id: employeeID, type: string}\n"
    "      - {id: department, type: string}\n"
    "      - {id: title, type: string}\n"
    "      - {id: manager, type: link, target: AD_Entry}\n"
    "entity_type_mappings:\n"
    "  - entity_type: HR_Person\n"
    "    connector: HR\n"
    "    connection_table: HR_Export\n"
    "    properties:\n"
    "      - {property: employee_id, column: EmployeeId, primary_key: true}\n"
    "      - {property: first_name, column: FirstName}\n"
    "      - {property: last_name, column: LastName}\n"
    "      - {property: mail, column: Mail}\n"
    "      - {property: department, column: Department}\n"
    "      - {property: manager, column: Manager}\n"
    "      - {property: status, column: Status}\n"
    "  - entity_type: AD_Entry\n"
    "    connector: AD\n"
    "    connection_table: AD_Export_entries\n"
    "    properties:\n"
    "      - {property: dn, column: dn, primary_key: true}\n"
    "      - {property: cn, column: cn}\n"
    "      - {property: sAMAccountName, column: sAMAccountName}\n"
    "      - {property: mail, column: mail}\n"
    "      - {property: employeeID, column: employeeID}\n"
    "      - {property: department, column: department}\n"
    "      - {property: title, column: title}\n"
    "      - {property: manager, column: manager}\n"
    "entity_property_expressions:\n"
    "  - id: HR_Person_display_name\n"
    "    entity_type: HR_Person\n"
    "    property: display_name\n"
    "    expression: \"lua:p:return p.last_name .. ', ' .. p.first_name\"\n"
    "resource_types:\n"
    "  - id: " RT "\n"
    "    source_entity_type: HR_Person\n"
    "    target_entity_type: AD_Entry\n"
    "    block_provisioning: false\n"
    "    type_rules:\n"
    "      - criterion: \"lua:p:return p.status ~= 'External'\"\n"
    "    correlation_rules:\n"
    "      - {source_binding: employee_id, target_binding: employeeID}\n"
    "    navigation_rules:\n"
    "      - {property: manager, binding: manager}\n"
    "    scalar_rules:\n"
    "      - property: dn\n"
    "        expression: |\n"
    "          lua:p:local rdn = ToFormatedDN(p.display_name)\n"
    "          return 'CN=' .. rdn .. ',OU=Users,DC=example,DC=com'\n"
    "      - {property: cn, binding: display_name}\n"
    "      - {property: sAMAccountName, binding: employee_id, expression: "
    "ToLower}\n"
    "      - {property: employeeID, binding: employee_id}\n"
    "      - {property: department, binding: department}\n"
    "      - {property: title, literal: Employee}\n";

static const char mail_lower[] =
    "      - {property: mail, binding: mail, expression: ToLower}\n";
static const char mail_dept3_upper[] =
    "      - property: mail\n"
    "        expression: |\n"
    "          lua:p:if p.department == 'Dept 3' then\n"
    "            return ToUpper(p.mail)\n"
    "          end\n"
    "          return ToLower(p.mail)\n";

static void write_model(fixture *f, int dept3_up) {
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  assert_non_null(m);
  fputs(model_head, m);
  fputs(dept3_up ? mail_dept3_upper : mail_lower, m);
  fclose(m);
  jh_test_jobhost_file(&f->j, "model.yaml", text);
  free(text);
  f->dept3_up = dept3_up;
}

static const char pipeline[] =
    "version: 1\n"
    "include: [model.yaml]\n"
    "job:\n"
    "  id: Job_Compute\n"
    "  tasks:\n"
    "    - {id: HR_Export, type: ExportTask, connection: HR_Export}\n"
    "    - {id: HR_Prepare, type: PrepareSynchronizationTask, connector: HR,\n"
    "       synchronization_mode: Complete, depends_on: [HR_Export]}\n"
    "    - {id: HR_Sync, type: SynchronizeTask, connector: HR,\n"
    "       depends_on: [HR_Prepare]}\n"
    "    - {id: AD_Export, type: ExportTask, connection: AD_Export}\n"
    "    - {id: AD_Prepare, type: PrepareSynchronizationTask, connector: AD,\n"
    "       synchronization_mode: Complete, depends_on: [AD_Export]}\n"
    "    - {id: AD_Sync, type: SynchronizeTask, connector: AD,\n"
    "       depends_on: [AD_Prepare]}\n"
    "    - {id: Expressions, type: UpdateEntityPropertyExpressionsTask,\n"
    "       entity_types: [HR_Person]}\n"
    "    - {id: Keys, type: ComputeCorrelationKeysTask,\n"
    "       entity_types: [HR_Person, AD_Entry]}\n"
    "    - {id: RoleModel, type: ComputeRoleModelTask,\n"
    "       entity_types: [HR_Person]}\n"
    "    - {id: Orders, type: GenerateProvisioningOrdersTask, connector: AD,\n"
    "       batch_insert_size: 250}\n";

static int setup(void **state) {
  fixture *f = calloc(1, sizeof(*f));
  if (f == NULL)
    return -1;
  jh_test_jobhost_open(&f->j, "JH_BUILTIN_PLUGIN_DIR", NULL);
  jh_test_path(f->orders, sizeof(f->orders), "%s/Work/ProvisioningOrders/" RT,
               f->j.home);
  jh_test_path(f->store, sizeof(f->store), "%s/identity.db", f->j.home);
  jh_test_jobhost_pipeline(&f->j, pipeline);
  write_model(f, 0);
  write_hr(f);
  write_directory(f, WITH_ACCOUNT, stale_every_seventh, 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  jh_test_jobhost_close(&f->j);
  free(f);
  return 0;
}

/* ---- the orders ---- */

/* Every order of the .json files of dir, by owner identifier ("E0000001");
 * the files are removed once read, as a fulfillment would take them. */
static json_t *take_orders(const char *dir) {
  json_t *all = json_object();
  DIR *d = opendir(dir);
  struct dirent *e;
  if (d == NULL)
    return all; /* no order was ever written */
  while ((e = readdir(d)) != NULL) {
    char path[PATH_MAX];
    json_error_t jerr;
    json_t *doc, *o;
    size_t i;
    if (strstr(e->d_name, ".json") == NULL)
      continue;
    jh_test_path(path, sizeof(path), "%s/%s", dir, e->d_name);
    doc = json_load_file(path, 0, &jerr);
    if (doc == NULL)
      fail_msg("%s:%d: %s", path, jerr.line, jerr.text);
    json_array_foreach(json_object_get(doc, "ProvisioningOrdersList"), i, o) {
      const char *owner = json_string_value(
          json_object_get(json_object_get(o, "Owner"), "Identifier"));
      if (owner == NULL || json_object_get(all, owner) != NULL)
        fail_msg("%s: an order without an owner, or a second order of its "
                 "owner: %s",
                 path, json_dumps(o, JSON_SORT_KEYS));
      json_object_set(all, owner, o);
    }
    json_decref(doc);
    assert_int_equal(unlink(path), 0);
  }
  closedir(d);
  return all;
}

/* The .json files in dir. */
static int count_files(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  assert_non_null(d);
  while ((e = readdir(d)) != NULL)
    n += strstr(e->d_name, ".json") != NULL;
  closedir(d);
  return n;
}

static const char *change_type(json_t *order) {
  return json_string_value(json_object_get(order, "ChangeType"));
}

/* The scalar changes of an order (the navigation "manager" left out:
 * its shape is checked apart). */
static json_t *scalar_changes(json_t *order) {
  json_t *c = json_deep_copy(json_object_get(order, "Changes"));
  assert_non_null(c);
  json_object_del(c, "manager");
  return c;
}

static void assert_json_equal(json_t *got, json_t *want, const char *what) {
  if (!json_equal(got, want)) {
    char *g = json_dumps(got, JSON_SORT_KEYS),
         *w = json_dumps(want, JSON_SORT_KEYS);
    fail_msg("%s: got %s, want %s", what, g, w);
  }
}

static json_t *run_job(fixture *f, int want) {
  return jh_test_jobhost_report(&f->j, want, "run", f->j.pipeline, "--force",
                                NULL);
}

/* The orders of the first run, one by one. */
static void check_first_orders(fixture *f, json_t *orders) {
  size_t added = 0, modified = 0;
  for (int k = 1; k <= PEOPLE; k++) {
    char id[16];
    json_t *o, *want, *got;
    snprintf(id, sizeof(id), "E%07d", k);
    o = json_object_get(orders, id);
    if (external(k) || (k <= WITH_ACCOUNT && !stale_every_seventh(k))) {
      if (o != NULL)
        fail_msg("%s: no order expected, got %s", id,
                 json_dumps(o, JSON_SORT_KEYS));
      continue;
    }
    if (o == NULL)
      fail_msg("%s: no order", id);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(o, "ResourceType"), "Identifier")),
                        RT);
    got = scalar_changes(o);
    if (k > WITH_ACCOUNT) {
      assert_string_equal(change_type(o), "Added");
      want = expected_values(f, k);
      added++;
    } else {
      char dep[16];
      assert_string_equal(change_type(o), "Modified");
      snprintf(dep, sizeof(dep), "Dept %d", dept(k));
      want = json_pack("{s:s}", "department", dep);
      modified++;
    }
    assert_json_equal(got, want, id);
    json_decref(got);
    json_decref(want);
  }
  assert_int_equal(json_object_size(orders), added + modified);
  assert_int_equal(added, 686);   /* 700 without account, 14 External */
  assert_int_equal(modified, 42); /* multiples of 7 up to 300 (none is
                                     External: 350 is the first) */
}

/* ---- the scenario ---- */

static void test_orders_follow_the_rules(void **state) {
  fixture *f = *state;
  json_t *r, *orders;
  char instance[32], path[PATH_MAX];
  char *before, *after;

  /* 1. first run: Added and Modified orders, exactly as the rules say */
  r = run_job(f, 0);
  jh_test_assert_job_state(r, "Succeeded");
  json_decref(r);
  orders = take_orders(f->orders);
  check_first_orders(f, orders);
  json_decref(orders);

  /* 2. the orders applied by hand; nothing changed: no order */
  write_directory(f, PEOPLE, NULL, 0);
  r = run_job(f, 0);
  jh_test_assert_task(r, "Orders", "Succeeded", NULL);
  json_decref(r);
  orders = take_orders(f->orders);
  assert_int_equal(json_object_size(orders), 0);
  json_decref(orders);

  /* 3. a dry run after a rule change: the orders only in its folder */
  write_model(f, 1);
  before = jh_test_db_dump(f->store);
  r = jh_test_jobhost_report(&f->j, 0, "run", f->j.pipeline, "--force",
                             "--dry-run", NULL);
  jh_test_report_instance(r, instance, sizeof(instance));
  json_decref(r);
  after = jh_test_db_dump(f->store);
  assert_string_equal(before, after);
  free(before);
  free(after);
  orders = take_orders(f->orders);
  assert_int_equal(json_object_size(orders), 0);
  json_decref(orders);
  jh_test_path(path, sizeof(path), "%s/DryRun/%s/ProvisioningOrders/" RT,
               f->j.home, instance);
  orders = take_orders(path);
  assert_int_equal(json_object_size(orders), 100); /* Dept 3: no
                                                      External there */
  json_decref(orders);
  {
    /* and the dry run's summary counts them */
    json_t *changes;
    jh_test_path(path, sizeof(path), "%s/DryRun/%s/changes.json", f->j.home,
                 instance);
    changes = json_load_file(path, 0, NULL);
    assert_non_null(changes);
    assert_int_equal(
        json_integer_value(json_object_get(
            json_object_get(json_object_get(changes, "orders"), RT),
            "Modified")),
        100);
    json_decref(changes);
  }

  /* 4. the same rule change for real, first killed between writing its
   * order files and its commit: the files stay, the assignments stay
   * Pending; the next run removes those files and sends each order once
   * (take_orders fails on a second order of one owner) */
  setenv("JOBHOST_FAULT", "orders.before_commit", 1);
  r = run_job(f, 1);
  unsetenv("JOBHOST_FAULT");
  jh_test_assert_task(r, "Orders", "Error", NULL);
  json_decref(r);
  assert_true(count_files(f->orders) > 0);
  r = run_job(f, 0);
  json_decref(r);
  orders = take_orders(f->orders);
  assert_int_equal(json_object_size(orders), 100);
  {
    const char *owner;
    json_t *o;
    json_object_foreach(orders, owner, o) {
      int k = atoi(owner + 1);
      char mail[128];
      json_t *want, *got = scalar_changes(o);
      assert_int_equal(dept(k), 3);
      assert_string_equal(change_type(o), "Modified");
      expected_mail(f, k, mail, sizeof(mail));
      want = json_pack("{s:s}", "mail", mail);
      assert_json_equal(got, want, owner);
      json_decref(want);
      json_decref(got);
    }
  }
  json_decref(orders);
  write_directory(f, PEOPLE, NULL, 0); /* applied */

  /* 5. a person leaves: one Deleted order */
  f->gone = 501;
  write_hr(f);
  r = run_job(f, 0);
  json_decref(r);
  orders = take_orders(f->orders);
  assert_int_equal(json_object_size(orders), 1);
  assert_non_null(json_object_get(orders, "E0000501"));
  assert_string_equal(change_type(json_object_get(orders, "E0000501")),
                      "Deleted");
  json_decref(orders);
  write_directory(f, PEOPLE, NULL, 0); /* applied: 501's account gone */

  /* 6. a new person whose account exists already: correlated, no order */
  f->extra = 1;
  write_hr(f);
  write_directory(f, PEOPLE, NULL, 1);
  r = run_job(f, 0);
  json_decref(r);
  orders = take_orders(f->orders);
  assert_int_equal(json_object_size(orders), 0);
  json_decref(orders);
  assert_int_equal(
      jh_test_query_int(f->store,
                        "SELECT count(*) FROM assignments WHERE owner_key = "
                        "'E0001001' AND target_key IS NOT NULL"),
      1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_orders_follow_the_rules, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
