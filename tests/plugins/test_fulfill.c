/*
 * test_fulfill.c — FulfillTask end to end: the jobhost program
 * synchronizes seven HR people and a directory (an LDIF file), writes
 * provisioning orders with GenerateProvisioningOrdersTask, and fulfills
 * them, through the ldif package (which writes the file once, at its
 * end) or the test package `counting` (tests/plugins/fulfill: it acts
 * at once and counts each order it receives).
 *
 *   - Added, Modified and Deleted orders applied to the LDIF file; the
 *     next run exports it, sees the values (Verified) and, with nothing
 *     left to send, skips the fulfillment;
 *   - the result file and the store's states;
 *   - a Modified order on an entry that is not there: that order
 *     Errored with its reason, the others Executed, task Succeeded;
 *   - a package that cannot open: task Error, or Warning with
 *     continue_on_error, and no order file moved;
 *   - a second fulfillment of a resource type while one runs: refused;
 *   - the task killed in the middle of a file (fault point
 *     fulfill.after_order), then run again: each order applied once, for
 *     both kinds of package.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "harness_host.h"

#define PEOPLE 7
#define RT "AD_Entry_NominativeUser"

typedef struct fixture {
  jh_test_jobhost j;
  char orders[PATH_MAX]; /* the orders folder of the resource type */
  char store[PATH_MAX];
  char ldif[PATH_MAX];
  char count[PATH_MAX]; /* the counting package's file */
  int external7;        /* person 7 is External: its account is unwanted */
} fixture;

static void dn_of(int k, char *buf, size_t size) {
  snprintf(buf, size, "CN=Last%d\\, First%d,OU=Users,DC=example,DC=com", k, k);
}

static void write_hr(const fixture *f) {
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  assert_non_null(m);
  fprintf(m, "EmployeeId,FirstName,LastName,Mail,Department,Manager,Status\n");
  for (int k = 1; k <= PEOPLE; k++)
    fprintf(m,
            "E%07d,First%d,Last%d,first%d.last%d@example.com,Dept %d,%s,%s\n",
            k, k, k, k, k, k, k > 1 ? "E0000001" : "",
            k == 7 && f->external7 ? "External" : "Active");
  fclose(m);
  jh_test_jobhost_file(&f->j, "hr.csv", text);
  free(text);
}

/* The account of person k as the rules want it, but department dep. */
static void write_account(FILE *m, int k, const char *dep) {
  char dn[128], boss[128];
  dn_of(k, dn, sizeof(dn));
  dn_of(1, boss, sizeof(boss));
  fprintf(m,
          "dn: %s\ncn: Last%d, First%d\nsAMAccountName: e%07d\n"
          "mail: first%d.last%d@example.com\nemployeeID: E%07d\n"
          "department: %s\ntitle: Employee\n",
          dn, k, k, k, k, k, k, dep);
  if (k > 1)
    fprintf(m, "manager: %s\n", boss);
  fprintf(m, "\n");
}

/* Accounts of 1, 2 (department out of date, unless fixed) and 7. */
static void write_directory(const fixture *f, int with2) {
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  assert_non_null(m);
  fprintf(m, "version: 1\n\n");
  write_account(m, 1, "Dept 1");
  if (with2)
    write_account(m, 2, "Old Dept");
  write_account(m, 7, "Dept 7");
  fclose(m);
  jh_test_jobhost_file(&f->j, "directory.ldif", text);
  free(text);
}

static const char model_head[] =
    "version: 1\n"
    "connectors:\n"
    "  - id: HR\n"
    "  - id: AD\n"
    "connections:\n"
    "  - {id: HR_Export, connector: HR, package: csv, settings: {path: "
    "hr.csv}}\n"
    "  - {id: AD_Export, connector: AD, package: ldif,\n"
    "     settings: {path: directory.ldif}}\n";

static const char model_tail[] =
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
    "      - {property: mail, binding: mail}\n"
    "      - {property: employeeID, binding: employee_id}\n"
    "      - {property: department, binding: department}\n"
    "      - {property: title, literal: Employee}\n";

/* The model, with the fulfillment's connection `conn` (a YAML item). */
static void write_model(fixture *f, const char *conn) {
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  assert_non_null(m);
  fprintf(m, "%s  - %s\n%s", model_head, conn, model_tail);
  fclose(m);
  jh_test_jobhost_file(&f->j, "model.yaml", text);
  free(text);
}

static const char ldif_conn[] =
    "{id: AD_Fulfillment, connector: AD, package: ldif, settings: {path: "
    "directory.ldif}}";

static void write_counting_model(fixture *f, const char *extra) {
  char conn[PATH_MAX + 256];
  snprintf(conn, sizeof(conn),
           "{id: AD_Fulfillment, connector: AD, package: counting, "
           "settings: {path: '%s'%s}}",
           f->count, extra);
  write_model(f, conn);
}

static void write_pipeline(fixture *f, int continue_on_error) {
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  assert_non_null(m);
  fprintf(m,
          "version: 1\n"
          "include: [model.yaml]\n"
          "job:\n"
          "  id: Job_Fulfill\n"
          "  tasks:\n"
          "    - {id: HR_Export, type: ExportTask, connection: HR_Export}\n"
          "    - {id: HR_Prepare, type: PrepareSynchronizationTask, connector: "
          "HR,\n"
          "       synchronization_mode: Complete, depends_on: [HR_Export]}\n"
          "    - {id: HR_Sync, type: SynchronizeTask, connector: HR,\n"
          "       depends_on: [HR_Prepare]}\n"
          "    - {id: AD_Export, type: ExportTask, connection: AD_Export}\n"
          "    - {id: AD_Prepare, type: PrepareSynchronizationTask, connector: "
          "AD,\n"
          "       synchronization_mode: Complete, depends_on: [AD_Export]}\n"
          "    - {id: AD_Sync, type: SynchronizeTask, connector: AD,\n"
          "       depends_on: [AD_Prepare]}\n"
          "    - {id: Expressions, type: UpdateEntityPropertyExpressionsTask,\n"
          "       entity_types: [HR_Person]}\n"
          "    - {id: Keys, type: ComputeCorrelationKeysTask,\n"
          "       entity_types: [HR_Person, AD_Entry]}\n"
          "    - {id: RoleModel, type: ComputeRoleModelTask,\n"
          "       entity_types: [HR_Person]}\n"
          "    - {id: Orders, type: GenerateProvisioningOrdersTask, connector: "
          "AD}\n"
          "    - {id: Fulfill, type: FulfillTask, connector: AD,\n"
          "       connection: AD_Fulfillment, continue_on_error: %s,\n"
          "       depends_on: [Orders]}\n",
          continue_on_error ? "true" : "false");
  fclose(m);
  jh_test_jobhost_pipeline(&f->j, text);
  free(text);
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof(*f));
  if (f == NULL)
    return -1;
  jh_test_jobhost_open(&f->j, "JH_BUILTIN_PLUGIN_DIR", "JH_FULFILL_PLUGIN_DIR",
                       NULL);
  jh_test_path(f->orders, sizeof(f->orders), "%s/Work/ProvisioningOrders/" RT,
               f->j.home);
  jh_test_path(f->store, sizeof(f->store), "%s/identity.db", f->j.home);
  jh_test_path(f->ldif, sizeof(f->ldif), "%s/directory.ldif", f->j.dir);
  jh_test_path(f->count, sizeof(f->count), "%s/applied.txt", f->j.dir);
  write_pipeline(f, 0);
  write_model(f, ldif_conn);
  write_hr(f);
  write_directory(f, 1);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
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

/* How many times text occurs in s. */
static int occurrences(const char *s, const char *text) {
  int n = 0;
  for (const char *p = strstr(s, text); p != NULL; p = strstr(p + 1, text))
    n++;
  return n;
}

/* The entries of the directory file: how many "dn: " lines, and that
 * person k's account is there (once) or not. */
static int directory_has(const fixture *f, int k) {
  char *text = jh_test_read_file(f->ldif), dn[160], line[200];
  int n;
  dn_of(k, dn, sizeof(dn));
  snprintf(line, sizeof(line), "dn: %s\n", dn);
  n = occurrences(text, line);
  free(text);
  return n;
}

/* The one result file of the Completed folder (there must be one). */
static char *result_file(const fixture *f) {
  char dir[PATH_MAX], path[PATH_MAX] = "";
  DIR *d;
  struct dirent *e;
  int n = 0;
  jh_test_path(dir, sizeof(dir), "%s/Completed", f->orders);
  d = opendir(dir);
  assert_non_null(d);
  while ((e = readdir(d)) != NULL)
    if (strstr(e->d_name, ".result.csv") != NULL) {
      jh_test_path(path, sizeof(path), "%s/%s", dir, e->d_name);
      n++;
    }
  closedir(d);
  assert_int_equal(n, 1);
  return jh_test_read_file(path);
}

/* The .json files directly in dir. */
static long count_json(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  long n = 0;
  if (d == NULL)
    return 0;
  while ((e = readdir(d)) != NULL)
    n += strstr(e->d_name, ".json") != NULL &&
         strstr(e->d_name, ".journal") == NULL;
  closedir(d);
  return n;
}

static long long assignment_of(const fixture *f, int k) {
  char sql[160];
  snprintf(sql, sizeof(sql),
           "SELECT id FROM assignments WHERE owner_key = 'E%07d'", k);
  return query(f, sql);
}

/* ---- the scenarios ---- */

/* Added (3..6), Modified (2), then Deleted (7): the LDIF file, the
 * result file, the store; then nothing left to do. */
static void test_ldif_end_to_end(void **state) {
  fixture *f = *state;
  json_t *r;
  char *csv, line[160], work[PATH_MAX];

  r = run_job(f, 0, NULL, NULL);
  jh_test_assert_task(r, "Fulfill", "Succeeded", NULL);
  assert_int_equal(
      jh_test_counter(jh_test_report_task(r, "Fulfill"), "executed"), 5);
  assert_int_equal(
      jh_test_counter(jh_test_report_task(r, "Fulfill"), "errored"), 0);
  json_decref(r);
  for (int k = 1; k <= PEOPLE; k++)
    assert_int_equal(directory_has(f, k), 1);
  {
    char *text = jh_test_read_file(f->ldif);
    assert_int_equal(occurrences(text, "department: Old Dept"), 0);
    assert_int_equal(occurrences(text, "department: Dept 2\n"), 1);
    assert_int_equal(occurrences(text, "sAMAccountName: e0000004\n"), 1);
    /* person 1 is matched with its account before the others are read
     * (doc/compute.md): every account but 1's names it as manager */
    assert_int_equal(occurrences(text, "manager: CN=Last1\\, First1"), 6);
    free(text);
  }
  assert_int_equal(in_state(f, 8), 5); /* Executed */
  assert_int_equal(in_state(f, 4), 2); /* 1 and 7 agreed: Verified */
  csv = result_file(f);
  assert_true(strncmp(csv,
                      "AssignmentId,ProvisioningState,Message,ChangeType\r\n",
                      50) == 0);
  snprintf(line, sizeof(line), "\r\n%lld,Executed,,Modified\r\n",
           assignment_of(f, 2));
  assert_non_null(strstr(csv, line));
  snprintf(line, sizeof(line), "\r\n%lld,Executed,,Added\r\n",
           assignment_of(f, 5));
  assert_non_null(strstr(csv, line));
  assert_int_equal(occurrences(csv, "\r\n"), 6);
  free(csv);
  assert_int_equal(count_json(f->orders), 0);
  jh_test_path(work, sizeof(work), "%s/Working", f->orders);
  assert_int_equal(jh_test_count_entries(work), 0);

  /* the next run sees the accounts as the orders made them (Verified);
   * person 7 leaves: Deleted */
  f->external7 = 1;
  write_hr(f);
  r = run_job(f, 0, NULL, NULL);
  jh_test_assert_task(r, "Orders", "Succeeded", NULL);
  assert_int_equal(
      jh_test_counter(jh_test_report_task(r, "Orders"), "modified"), 0);
  assert_int_equal(jh_test_counter(jh_test_report_task(r, "Orders"), "deleted"),
                   1);
  assert_int_equal(
      jh_test_counter(jh_test_report_task(r, "Fulfill"), "executed"), 1);
  json_decref(r);
  assert_int_equal(in_state(f, 4), 6);
  assert_int_equal(directory_has(f, 7), 0);
  assert_int_equal(directory_has(f, 6), 1);
  {
    char *text = jh_test_read_file(f->ldif);
    assert_int_equal(occurrences(text, "manager: CN=Last1\\, First1"), 5);
    free(text);
  }

  /* and then every value is seen (Verified), 7's assignment is gone,
   * nothing is left to send: the fulfillment is skipped */
  r = run_job(f, 0, NULL, NULL);
  jh_test_assert_task(r, "Orders", "Succeeded", NULL);
  jh_test_assert_task(r, "Fulfill", "Skipped", NULL);
  json_decref(r);
  assert_int_equal(in_state(f, 4), 6);
  assert_int_equal(query(f, "SELECT count(*) FROM assignments"), 6);
}

/* A Modified order whose entry left the directory after the orders were
 * written: that order Errored with its reason, the rest Executed. */
static void test_ldif_one_order_fails(void **state) {
  fixture *f = *state;
  json_t *r;
  char *csv, line[200];
  long long two;

  r = run_job(f, 0, "--to", "Orders");
  json_decref(r);
  write_directory(f, 0); /* person 2's account is gone */
  r = run_job(f, 0, "--task", "Fulfill");
  jh_test_assert_task(r, "Fulfill", "Succeeded", NULL);
  assert_int_equal(
      jh_test_counter(jh_test_report_task(r, "Fulfill"), "executed"), 4);
  assert_int_equal(
      jh_test_counter(jh_test_report_task(r, "Fulfill"), "errored"), 1);
  json_decref(r);
  two = assignment_of(f, 2);
  assert_int_equal(in_state(f, 8), 4);
  assert_int_equal(in_state(f, 3), 1);
  snprintf(line, sizeof(line),
           "SELECT count(*) FROM assignments WHERE id = %lld AND state = 3 "
           "AND message LIKE 'no entry CN=Last2%%in the directory'",
           two);
  assert_int_equal(query(f, line), 1);
  csv = result_file(f);
  snprintf(line, sizeof(line),
           "\r\n%lld,Errored,\"no entry CN=Last2\\, First2,OU=Users,DC=example,"
           "DC=com in the directory\",Modified\r\n",
           two);
  if (strstr(csv, line) == NULL)
    fail_msg("no line %s in %s", line, csv);
  free(csv);
  for (int k = 3; k <= 6; k++)
    assert_int_equal(directory_has(f, k), 1);
  assert_int_equal(directory_has(f, 2), 0);
}

/* A package that cannot open: Error, no file moved; continue_on_error
 * makes it a Warning. */
static void test_open_failure(void **state) {
  fixture *f = *state;
  json_t *r;
  char work[PATH_MAX];

  write_counting_model(f, ", refuse: 'true'");
  r = run_job(f, 1, NULL, NULL);
  jh_test_assert_task(r, "Fulfill", "Error", "bind refused by the test target");
  json_decref(r);
  assert_int_equal(count_json(f->orders), 1);
  jh_test_path(work, sizeof(work), "%s/Working", f->orders);
  assert_int_equal(jh_test_exists(work), 0);
  assert_int_equal(in_state(f, 2), 5); /* still Transmitted */

  write_pipeline(f, 1);
  r = run_job(f, 4, "--task", "Fulfill");
  jh_test_assert_task(r, "Fulfill", "Warning", "cannot fulfill");
  json_decref(r);
  assert_int_equal(count_json(f->orders), 1);

  /* the ldif package: a directory file that is not there */
  write_model(f, "{id: AD_Fulfillment, connector: AD, package: ldif, "
                 "settings: {path: nowhere.ldif}}");
  r = run_job(f, 4, "--task", "Fulfill");
  jh_test_assert_task(r, "Fulfill", "Warning", "nowhere.ldif");
  json_decref(r);
  assert_int_equal(count_json(f->orders), 1);
}

/* A second fulfillment of the same resource type while one runs (its
 * lock held) is refused, and moves nothing. */
static void test_one_fulfillment_at_a_time(void **state) {
  fixture *f = *state;
  json_t *r;
  char lock[PATH_MAX];
  int fd;

  r = run_job(f, 0, "--to", "Orders");
  json_decref(r);
  jh_test_path(lock, sizeof(lock), "%s/.fulfill.lock", f->orders);
  fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(flock(fd, LOCK_EX), 0);
  r = run_job(f, 1, "--task", "Fulfill");
  jh_test_assert_task(r, "Fulfill", "Error", "another FulfillTask");
  json_decref(r);
  assert_int_equal(count_json(f->orders), 1);
  close(fd);
  r = run_job(f, 0, "--task", "Fulfill");
  jh_test_assert_task(r, "Fulfill", "Succeeded", NULL);
  json_decref(r);
  assert_int_equal(in_state(f, 8), 5);
}

/* Killed after the second order of the file, then run again: the
 * counting target saw each order once, and every order is Executed. */
static void test_killed_mid_file_direct(void **state) {
  fixture *f = *state;
  json_t *r;
  char *applied;

  write_counting_model(f, ", fail_owner: E0000006");
  r = run_job(f, 0, "--to", "Orders");
  json_decref(r);
  setenv("JOBHOST_FAULT", "fulfill.after_order:2", 1);
  r = run_job(f, 1, "--task", "Fulfill");
  unsetenv("JOBHOST_FAULT");
  jh_test_assert_task(r, "Fulfill", "Error", NULL);
  json_decref(r);
  applied = jh_test_read_file(f->count);
  assert_int_equal(occurrences(applied, "\n"), 2);
  free(applied);
  assert_int_equal(count_json(f->orders), 0); /* moved aside */

  r = run_job(f, 0, "--task", "Fulfill");
  jh_test_assert_task(r, "Fulfill", "Succeeded", NULL);
  json_decref(r);
  applied = jh_test_read_file(f->count);
  /* five orders, one refused by the target (person 6): four lines, each
   * assignment once */
  assert_int_equal(occurrences(applied, "\n"), 4);
  for (int k = 2; k <= 6; k++) {
    char id[32];
    snprintf(id, sizeof(id), "%lld ", assignment_of(f, k));
    assert_int_equal(occurrences(applied, id), k == 6 ? 0 : 1);
  }
  free(applied);
  assert_int_equal(in_state(f, 8), 4);
  assert_int_equal(in_state(f, 3), 1);
  applied = result_file(f);
  assert_int_equal(occurrences(applied, ",Executed,"), 4);
  assert_int_equal(occurrences(applied, ",Errored,"), 1);
  free(applied);
}

/* The same with the ldif package: the killed run wrote nothing, so the
 * next one applies all five, each once. */
static void test_killed_mid_file_ldif(void **state) {
  fixture *f = *state;
  json_t *r;
  char *before, *after;

  r = run_job(f, 0, "--to", "Orders");
  json_decref(r);
  before = jh_test_read_file(f->ldif);
  setenv("JOBHOST_FAULT", "fulfill.after_order:3", 1);
  r = run_job(f, 1, "--task", "Fulfill");
  unsetenv("JOBHOST_FAULT");
  jh_test_assert_task(r, "Fulfill", "Error", NULL);
  json_decref(r);
  after = jh_test_read_file(f->ldif);
  assert_string_equal(before, after); /* written once, at the end only */
  free(before);
  free(after);

  r = run_job(f, 0, "--task", "Fulfill");
  jh_test_assert_task(r, "Fulfill", "Succeeded", NULL);
  assert_int_equal(
      jh_test_counter(jh_test_report_task(r, "Fulfill"), "executed"), 5);
  json_decref(r);
  for (int k = 1; k <= PEOPLE; k++)
    assert_int_equal(directory_has(f, k), 1);
  assert_int_equal(in_state(f, 8), 5);
  assert_int_equal(in_state(f, 3), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_ldif_end_to_end, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ldif_one_order_fails, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_open_failure, setup, teardown),
      cmocka_unit_test_setup_teardown(test_one_fulfillment_at_a_time, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_killed_mid_file_direct, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_killed_mid_file_ldif, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
