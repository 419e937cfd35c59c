/*
 * test_ldap_job.c — the whole job against a slapd of the test's own
 * (tests/ldap_server.h), through the jobhost program: HR (a CSV file)
 * and the directory (the `ldap` package) exported, prepared and
 * synchronized; computed properties, correlation keys, the role model
 * and the provisioning orders; FulfillTask on the `ldap` package;
 * classification of the directory's accounts; profiles.
 *
 *   - first run: the accounts are created in slapd (read back), with
 *     their manager (a navigation to person 1's account), person 1's
 *     stale account is modified; the External person's account,
 *     which no assignment ever claimed, is an orphan, left alone; orders
 *     counted by change type; job Succeeded;
 *   - second run: no order, the fulfillment Skipped, the values
 *     Verified;
 *   - third run, person 5 gone External: one Deleted order, the entry
 *     deleted from slapd, the profile removed;
 *   - the server down at fulfill time: the fulfillment Warning
 *     (continue_on_error), the profiles Skipped (a child of a Warning
 *     parent), job Warning, exit status 4;
 *   - the fulfillment's worker killed (SIGKILL, fault point
 *     fulfill.after_order) in the middle of the orders, then the job run
 *     again from the fulfillment: the server received each add once;
 *   - the host itself killed there, then the instance resumed: the same.
 */
#include "config.h"

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
#include "ldap_server.h"

#define PEOPLE 6
#define RT "DIR_NominativeUser"
#define SERVICE "uid=svc-backup," JH_SLAPD_PEOPLE
#define ORPHAN "uid=stray," JH_SLAPD_PEOPLE

typedef struct fixture {
  jh_test_jobhost j;
  jh_slapd server;
  char store[PATH_MAX];
  int leaver; /* a person whose status becomes External, or 0 */
} fixture;

/* The DN the role model gives person k. */
static void dn_of(int k, char *buf, size_t size) {
  snprintf(buf, size, "uid=e%07d," JH_SLAPD_PEOPLE, k);
}

/* HR: people 1..PEOPLE, each managed by person 1 but 1; person 6
 * External (no account wanted), and f->leaver too. */
static void write_hr(const fixture *f) {
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  assert_non_null(m);
  fprintf(m, "EmployeeId,FirstName,LastName,Mail,Department,Manager,Status\n");
  for (int k = 1; k <= PEOPLE; k++)
    fprintf(m,
            "E%07d,First%d,Last%d,first%d.last%d@example.org,Dept %d,%s,%s\n",
            k, k, k, k, k, k, k > 1 ? "E0000001" : "",
            k == 6 || k == f->leaver ? "External" : "Active");
  fclose(m);
  jh_test_jobhost_file(&f->j, "hr.csv", text);
  free(text);
}

/* An account of person k in the directory, department dep. */
static void add_account(const fixture *f, int k, const char *dep) {
  char dn[128], uid[16], cn[32], sn[16], mail[64], number[16];
  const char *attrs[] = {"objectClass",
                         "inetOrgPerson",
                         "uid",
                         uid,
                         "cn",
                         cn,
                         "sn",
                         sn,
                         "mail",
                         mail,
                         "employeeNumber",
                         number,
                         "departmentNumber",
                         dep,
                         "title",
                         "Employee",
                         NULL};
  dn_of(k, dn, sizeof(dn));
  snprintf(uid, sizeof(uid), "e%07d", k);
  snprintf(cn, sizeof(cn), "Last%d, First%d", k, k);
  snprintf(sn, sizeof(sn), "Last%d", k);
  snprintf(mail, sizeof(mail), "first%d.last%d@example.org", k, k);
  snprintf(number, sizeof(number), "E%07d", k);
  jh_slapd_add(&f->server, dn, attrs);
}

/* The directory before the first run: person 1's account with an old
 * department, person 6's (External), a service account and an account
 * nobody explains. */
static void fill_directory(const fixture *f) {
  static const char *const service[] = {
      "objectClass", "inetOrgPerson", "uid", "svc-backup", "cn", "svc-backup",
      "sn",          "svc",           NULL};
  static const char *const stray[] = {
      "objectClass", "inetOrgPerson", "uid", "stray", "cn", "stray",
      "sn",          "stray",         NULL};
  add_account(f, 1, "Old Dept");
  add_account(f, 6, "Dept 6");
  jh_slapd_add(&f->server, SERVICE, service);
  jh_slapd_add(&f->server, ORPHAN, stray);
}

/* %s: the server's URI, twice. */
static const char model_format[] =
    "version: 1\n"
    "connectors:\n"
    "  - id: HR\n"
    "  - id: DIR\n"
    "connections:\n"
    "  - {id: HR_Export, connector: HR, package: csv, settings: {path: "
    "hr.csv}}\n"
    "  - id: DIR_Export\n"
    "    connector: DIR\n"
    "    package: ldap\n"
    "    settings:\n"
    "      uri: \"%s\"\n"
    "      bind_dn: \"" JH_SLAPD_ROOT_DN "\"\n"
    "      base: \"" JH_SLAPD_PEOPLE "\"\n"
    "      filter: \"(objectClass=inetOrgPerson)\"\n"
    "      attributes: [uid, cn, sn, mail, employeeNumber, departmentNumber,\n"
    "                   title, manager]\n"
    "      page_size: 3\n"
    "    secrets:\n"
    "      password: {file: password.txt}\n"
    "  - id: DIR_Fulfillment\n"
    "    connector: DIR\n"
    "    package: ldap\n"
    "    settings:\n"
    "      uri: \"%s\"\n"
    "      bind_dn: \"" JH_SLAPD_ROOT_DN "\"\n"
    "      object_classes: [inetOrgPerson]\n"
    "      connect_timeout: 2\n"
    "      timeout: 10\n"
    "    secrets:\n"
    "      password: {file: password.txt}\n"
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
    "  - id: DIR_Entry\n"
    "    properties:\n"
    "      - {id: dn, type: string}\n"
    "      - {id: uid, type: string}\n"
    "      - {id: cn, type: string}\n"
    "      - {id: sn, type: string}\n"
    "      - {id: mail, type: string}\n"
    "      - {id: employeeNumber, type: string}\n"
    "      - {id: departmentNumber, type: string}\n"
    "      - {id: title, type: string}\n"
    "      - {id: manager, type: link, target: DIR_Entry}\n"
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
    "  - entity_type: DIR_Entry\n"
    "    connector: DIR\n"
    "    connection_table: DIR_Export_entries\n"
    "    properties:\n"
    "      - {property: dn, column: dn, primary_key: true}\n"
    "      - {property: uid, column: uid}\n"
    "      - {property: cn, column: cn}\n"
    "      - {property: sn, column: sn}\n"
    "      - {property: mail, column: mail}\n"
    "      - {property: employeeNumber, column: employeeNumber}\n"
    "      - {property: departmentNumber, column: departmentNumber}\n"
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
    "    target_entity_type: DIR_Entry\n"
    "    block_provisioning: false\n"
    "    type_rules:\n"
    "      - criterion: \"lua:p:return p.status ~= 'External'\"\n"
    "    correlation_rules:\n"
    "      - {source_binding: employee_id, target_binding: employeeNumber}\n"
    "    navigation_rules:\n"
    "      - {property: manager, binding: manager}\n"
    "    scalar_rules:\n"
    "      - property: dn\n"
    "        expression: |\n"
    "          lua:p:return 'uid=' .. p.employee_id:lower() .. "
    "'," JH_SLAPD_PEOPLE "'\n"
    "      - {property: uid, binding: employee_id, expression: ToLower}\n"
    "      - {property: cn, binding: display_name}\n"
    "      - {property: sn, binding: last_name}\n"
    "      - {property: mail, binding: mail}\n"
    "      - {property: employeeNumber, binding: employee_id}\n"
    "      - {property: departmentNumber, binding: department}\n"
    "      - {property: title, literal: Employee}\n"
    "  - id: DIR_Service\n"
    "    source_entity_type: HR_Person\n"
    "    target_entity_type: DIR_Entry\n"
    "    type_rules:\n"
    "      - criterion: \"Literal:false\"\n"
    "resource_classification_rules:\n"
    "  - resource_type: DIR_Service\n"
    "    target_expression: \"lua:r:return r.uid:sub(1, 4) == 'svc-'\"\n"
    "profile_rule_contexts:\n"
    "  - entity_type: HR_Person\n"
    "    profile_rules:\n"
    "      - profile: Employee\n"
    "        root_expression: \"lua:p:return p.status == 'Active'\"\n";

static const char pipeline[] =
    "version: 1\n"
    "include: [model.yaml]\n"
    "job:\n"
    "  id: Job_DIR_Complete\n"
    "  tasks:\n"
    "    - {id: HR_Export, type: ExportTask, connection: HR_Export}\n"
    "    - {id: HR_Prepare, type: PrepareSynchronizationTask, connector: HR,\n"
    "       synchronization_mode: Complete, depends_on: [HR_Export]}\n"
    "    - {id: HR_Sync, type: SynchronizeTask, connector: HR,\n"
    "       depends_on: [HR_Prepare]}\n"
    "    - {id: DIR_Export, type: ExportTask, connection: DIR_Export,\n"
    "       ignore_cookie_file: true, continue_on_error: true}\n"
    "    - {id: DIR_Prepare, type: PrepareSynchronizationTask,\n"
    "       connector: DIR, synchronization_mode: Complete,\n"
    "       depends_on: [DIR_Export]}\n"
    "    - {id: DIR_Sync, type: SynchronizeTask, connector: DIR,\n"
    "       depends_on: [DIR_Prepare]}\n"
    "    - {id: Expressions, type: UpdateEntityPropertyExpressionsTask,\n"
    "       entity_types: [HR_Person]}\n"
    "    - {id: Keys, type: ComputeCorrelationKeysTask,\n"
    "       entity_types: [HR_Person, DIR_Entry]}\n"
    "    - {id: RoleModel, type: ComputeRoleModelTask,\n"
    "       entity_types: [HR_Person]}\n"
    "    - {id: Orders, type: GenerateProvisioningOrdersTask, connector: "
    "DIR}\n"
    "    - {id: Fulfill, type: FulfillTask, connector: DIR,\n"
    "       connection: DIR_Fulfillment, continue_on_error: true,\n"
    "       depends_on: [Orders]}\n"
    "    - {id: Classify, type: UpdateClassificationTask,\n"
    "       entity_types: [DIR_Entry]}\n"
    "    - {id: Profiles, type: SetInternalUserProfilesTask,\n"
    "       entity_types: [DIR_Entry], resource_types: [" RT "],\n"
    "       depends_on: [Fulfill]}\n";

static int setup(void **state) {
  fixture *f = calloc(1, sizeof(*f));
  char *model = NULL;
  if (f == NULL)
    return -1;
  jh_test_jobhost_open(&f->j, "JH_BUILTIN_PLUGIN_DIR", NULL);
  jh_test_path(f->store, sizeof(f->store), "%s/identity.db", f->j.home);
  jh_slapd_start(&f->server, f->j.dir, NULL);
  fill_directory(f);
  if (asprintf(&model, model_format, f->server.uri, f->server.uri) < 0)
    fail_msg("out of memory");
  jh_test_jobhost_file(&f->j, "model.yaml", model);
  free(model);
  jh_test_jobhost_file(&f->j, "password.txt", JH_SLAPD_ROOT_PW "\n");
  jh_test_jobhost_pipeline(&f->j, pipeline);
  write_hr(f);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  jh_slapd_stop(&f->server);
  jh_test_jobhost_close(&f->j);
  free(f);
  return 0;
}

/* ---- looking at the results ---- */

static json_t *run_job(fixture *f, int want, const char *opt, const char *arg) {
  return jh_test_jobhost_report(&f->j, want, "run", f->j.pipeline, "--force",
                                opt, arg, NULL);
}

static long long query(const fixture *f, const char *sql) {
  return jh_test_query_int(f->store, sql);
}

static long long in_state(const fixture *f, int state) {
  char sql[128];
  snprintf(sql, sizeof(sql),
           "SELECT count(*) FROM assignment_states WHERE state = %d", state);
  return query(f, sql);
}

static void assert_counter(json_t *report, const char *task, const char *name,
                           long long want) {
  long long got = jh_test_counter(jh_test_report_task(report, task), name);
  if (got != want)
    fail_msg("task %s counter %s: got %lld, want %lld", task, name, got, want);
}

/* Attribute attr of person k's entry in slapd must be want (NULL: the
 * entry must not exist). */
static void assert_entry(const fixture *f, int k, const char *attr,
                         const char *want) {
  char dn[128], *got;
  dn_of(k, dn, sizeof(dn));
  got = jh_slapd_get(&f->server, dn, attr);
  if (want == NULL) {
    if (got != NULL)
      fail_msg("%s is still in the directory (%s: %s)", dn, attr, got);
    return;
  }
  if (got == NULL)
    fail_msg("no entry %s in the directory", dn);
  if (strcmp(got, want) != 0)
    fail_msg("%s: %s is '%s', want '%s'", dn, attr, got, want);
  free(got);
}

/* The server's add operations on person k's entry. */
static long adds_of(const fixture *f, int k) {
  char dn[128];
  dn_of(k, dn, sizeof(dn));
  return jh_slapd_count_ops(&f->server, "ADD", dn);
}

/* Persons 2..5 created with person 1 as their manager, 1 fixed, 6 left
 * alone: what the first run does. */
static void assert_directory_done(const fixture *f) {
  char want[64], boss[128];
  dn_of(1, boss, sizeof(boss));
  for (int k = 1; k <= 5; k++) {
    snprintf(want, sizeof(want), "Dept %d", k);
    assert_entry(f, k, "departmentNumber", want);
    snprintf(want, sizeof(want), "Last%d, First%d", k, k);
    assert_entry(f, k, "cn", want);
    assert_entry(f, k, "objectClass", "inetOrgPerson");
    assert_entry(f, k, "title", "Employee");
    if (k > 1)
      assert_entry(f, k, "manager", boss);
  }
  assert_entry(f, 6, "departmentNumber", "Dept 6");
}

/* ---- the scenarios ---- */

/* The whole job: the directory brought to the role model, then nothing
 * left to do, then one person leaves. */
static void whole_job_twice(void **state) {
  fixture *f = *state;
  json_t *r;

  r = run_job(f, 0, NULL, NULL);
  jh_test_assert_job_state(r, "Succeeded");
  assert_counter(r, "DIR_Export", "entries", 4);
  assert_counter(r, "Orders", "added", 4);
  assert_counter(r, "Orders", "modified", 1);
  assert_counter(r, "Orders", "deleted", 0);
  jh_test_assert_task(r, "Fulfill", "Succeeded", NULL);
  assert_counter(r, "Fulfill", "executed", 5);
  assert_counter(r, "Fulfill", "errored", 0);
  jh_test_assert_task(r, "Classify", "Succeeded", NULL);
  assert_counter(r, "Classify", "classified", 1); /* svc-backup */
  assert_counter(r, "Classify", "orphans", 2);    /* stray, person 6 */
  jh_test_assert_task(r, "Profiles", "Succeeded", NULL);
  assert_counter(r, "Profiles", "added", 5);
  json_decref(r);
  assert_directory_done(f);
  for (int k = 2; k <= 5; k++)
    assert_int_equal(adds_of(f, k), 1);
  assert_int_equal(in_state(f, 8), 5); /* Executed: 4 added, 1 modified */

  /* the accounts are seen as the role model wants them: Verified, no
   * order, the fulfillment Skipped (its parent produced no output) */
  r = run_job(f, 0, NULL, NULL);
  jh_test_assert_job_state(r, "Succeeded");
  assert_counter(r, "DIR_Export", "entries", 8);
  assert_counter(r, "Orders", "added", 0);
  assert_counter(r, "Orders", "modified", 0);
  assert_counter(r, "Orders", "deleted", 0);
  jh_test_assert_task(r, "Fulfill", "Skipped", NULL);
  jh_test_assert_task(r, "Profiles", "Skipped", NULL);
  assert_counter(r, "Classify", "orphans", 2);
  json_decref(r);
  assert_int_equal(in_state(f, 4), 5); /* Verified */
  assert_int_equal(query(f, "SELECT count(*) FROM assignments WHERE "
                            "resource_type = '" RT "' AND owner_key IS NOT "
                            "NULL"),
                   5);
  for (int k = 2; k <= 5; k++)
    assert_int_equal(adds_of(f, k), 1);

  /* person 5 leaves: the account is deleted, the profile removed */
  f->leaver = 5;
  write_hr(f);
  r = run_job(f, 0, NULL, NULL);
  jh_test_assert_job_state(r, "Succeeded");
  assert_counter(r, "Orders", "added", 0);
  assert_counter(r, "Orders", "modified", 0);
  assert_counter(r, "Orders", "deleted", 1);
  assert_counter(r, "Fulfill", "executed", 1);
  assert_counter(r, "Profiles", "removed", 1);
  json_decref(r);
  assert_entry(f, 5, "uid", NULL);
  {
    char dn[128];
    dn_of(5, dn, sizeof(dn));
    assert_int_equal(jh_slapd_count_ops(&f->server, "DEL", dn), 1);
  }
}

/* The server gone when the orders are fulfilled: Warning, the profiles
 * Skipped, the job Warning (exit 4); the orders wait for the next run. */
static void server_down_at_fulfill(void **state) {
  fixture *f = *state;
  json_t *r;

  r = run_job(f, 0, "--to", "Orders");
  jh_test_assert_job_state(r, "Succeeded");
  assert_counter(r, "Orders", "added", 4);
  json_decref(r);
  jh_slapd_stop(&f->server);
  r = run_job(f, 4, "--from", "Fulfill");
  jh_test_assert_job_state(r, "Warning");
  jh_test_assert_task(r, "Fulfill", "Warning", f->server.uri);
  jh_test_assert_task(r, "Profiles", "Skipped", "Fulfill");
  jh_test_assert_task(r, "Classify", "Succeeded", NULL);
  json_decref(r);
  assert_int_equal(in_state(f, 2), 5); /* still Transmitted */

  /* the server back: the same orders are fulfilled */
  jh_slapd_restart(&f->server);
  r = run_job(f, 0, "--from", "Fulfill");
  jh_test_assert_job_state(r, "Succeeded");
  assert_counter(r, "Fulfill", "executed", 5);
  jh_test_assert_task(r, "Profiles", "Succeeded", NULL);
  json_decref(r);
  assert_directory_done(f);
}

/* The fulfillment killed after its third order, then run again: each
 * entry added once, person 1's modified once, every order Executed. */
static void killed_during_fulfill(void **state) {
  fixture *f = *state;
  json_t *r;
  long total = 0;

  r = run_job(f, 0, "--to", "Orders");
  json_decref(r);
  setenv("JOBHOST_FAULT", "fulfill.after_order:3", 1);
  r = run_job(f, 4, "--from", "Fulfill");
  unsetenv("JOBHOST_FAULT");
  /* a crash, which continue_on_error tolerates as any failure */
  jh_test_assert_job_state(r, "Warning");
  jh_test_assert_task(r, "Fulfill", "Warning", "signal 9");
  jh_test_assert_task(r, "Profiles", "Skipped", NULL);
  json_decref(r);
  for (int k = 2; k <= 5; k++)
    total += adds_of(f, k);
  {
    char dn[128];
    dn_of(1, dn, sizeof(dn));
    total += jh_slapd_count_ops(&f->server, "MOD", dn);
  }
  assert_int_equal(total, 3); /* three of the five sent, then killed */

  r = run_job(f, 0, "--from", "Fulfill");
  jh_test_assert_job_state(r, "Succeeded");
  jh_test_assert_task(r, "Fulfill", "Succeeded", NULL);
  json_decref(r);
  for (int k = 2; k <= 5; k++)
    assert_int_equal(adds_of(f, k), 1);
  {
    char dn[128];
    dn_of(1, dn, sizeof(dn));
    assert_int_equal(jh_slapd_count_ops(&f->server, "MOD", dn), 1);
  }
  assert_directory_done(f);
  assert_int_equal(in_state(f, 8), 5);
  assert_int_equal(in_state(f, 3), 0);
}

/* The host itself killed (SIGKILL, the task run in the host process)
 * after the fulfillment's third order, then the instance resumed as an
 * operator would (`jobhost resume`, the instance Interrupted): each entry
 * added once, person 1's modified once. */
static void host_killed_then_resumed(void **state) {
  fixture *f = *state;
  json_t *r;
  char db[PATH_MAX], inst[32];
  long total = 0;
  int rc;

  r = run_job(f, 0, "--to", "Orders");
  json_decref(r);
  setenv("JOBHOST_FAULT", "fulfill.after_order:3", 1);
  rc = jh_test_jobhost_run(&f->j, NULL, NULL, "run", f->j.pipeline, "--force",
                           "--from", "Fulfill", "--isolation", "none", NULL);
  unsetenv("JOBHOST_FAULT");
  assert_int_equal(rc, 128 + 9);
  for (int k = 2; k <= 5; k++)
    total += adds_of(f, k);
  {
    char dn[128];
    dn_of(1, dn, sizeof(dn));
    total += jh_slapd_count_ops(&f->server, "MOD", dn);
  }
  assert_int_equal(total, 3);

  snprintf(db, sizeof(db), "%s/jobhost.db", f->j.home);
  snprintf(inst, sizeof(inst), "%lld",
           jh_test_query_int(db, "SELECT max(id) FROM job_instances"));
  r = jh_test_jobhost_report(&f->j, 0, "resume", inst, NULL);
  jh_test_assert_job_state(r, "Succeeded");
  jh_test_assert_task(r, "Fulfill", "Succeeded", NULL);
  json_decref(r);
  for (int k = 2; k <= 5; k++)
    assert_int_equal(adds_of(f, k), 1);
  {
    char dn[128];
    dn_of(1, dn, sizeof(dn));
    assert_int_equal(jh_slapd_count_ops(&f->server, "MOD", dn), 1);
  }
  assert_directory_done(f);
  assert_int_equal(in_state(f, 3), 0); /* none Errored */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(whole_job_twice, setup, teardown),
      cmocka_unit_test_setup_teardown(server_down_at_fulfill, setup, teardown),
      cmocka_unit_test_setup_teardown(killed_during_fulfill, setup, teardown),
      cmocka_unit_test_setup_teardown(host_killed_then_resumed, setup,
                                      teardown),
  };
  jh_slapd_require();
  return cmocka_run_group_tests(tests, NULL, NULL);
}
