/*
 * test_readaccess.c — SDK 1.2's read access and typed parameters, through
 * the jobhost program with the test plugin tests/plugins/read/readtest.c:
 *
 *   - a csv export synchronized into the identity store, then a
 *     CountResourcesTask in the same pipeline counts its resources,
 *     values, single links and association links; with `scope:
 *     connector` it reads its connector's and is refused another's;
 *   - an entity type the model lacks, a value out of a range, against a
 *     pattern, a list item not among the choices, and the validate entry
 *     points of a task type and a package: `jobhost validate` and `jobhost
 *     run` fail with exit status 2 at the value's (task's, connection's)
 *     file:line:column before anything runs;
 *   - the typed getters, list defaults and a list setting read back;
 *   - one snapshot: a resource written into the store after a task's
 *     first cursor opened is not seen by its next cursor.
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
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "harness_host.h"
#include "readstore.h"

static const char model[] =
    "version: 1\n"
    "connectors:\n"
    "  - id: HR\n"
    "  - id: AD\n"
    "connections:\n"
    "  - id: HR_People\n"
    "    connector: HR\n"
    "    package: csv\n"
    "    settings: {path: people.csv}\n"
    "  - id: HR_Reports\n"
    "    connector: HR\n"
    "    package: csv\n"
    "    settings: {path: reports.csv}\n"
    "  - id: AD_Typed\n"
    "    connector: AD\n"
    "    package: typedpkg\n"
    "    settings:\n"
    "      hosts: [dc1.example.org, dc2.example.org]\n"
    "entity_types:\n"
    "  - id: HR_Person\n"
    "    properties:\n"
    "      - {id: employee_id, type: string}\n"
    "      - {id: name, type: string}\n"
    "      - {id: manager, type: link, target: HR_Person}\n"
    "      - {id: reports, type: links, target: HR_Person}\n"
    "  - id: AD_Entry\n"
    "    properties:\n"
    "      - {id: dn, type: string}\n"
    "entity_type_mappings:\n"
    "  - entity_type: HR_Person\n"
    "    connector: HR\n"
    "    connection_table: HR_People\n"
    "    properties:\n"
    "      - {property: employee_id, column: Id, primary_key: true}\n"
    "      - {property: name, column: Name}\n"
    "      - {property: manager, column: Manager}\n"
    "  - entity_type: AD_Entry\n"
    "    connector: AD\n"
    "    connection_table: AD_Entries\n"
    "    properties:\n"
    "      - {property: dn, column: dn, primary_key: true}\n"
    "association_mappings:\n"
    "  - id: HR_reports\n"
    "    connector: HR\n"
    "    connection_table: HR_Reports\n"
    "    entity_type: HR_Person\n"
    "    property: reports\n"
    "    column1: Boss\n"
    "    column2: Member\n";

/* E1 leads E2..E4; E2 leads E5; E6 alone. */
static const char people[] = "Id,Name,Manager\n"
                             "E1,Ann,\n"
                             "E2,Bob,E1\n"
                             "E3,Cid,E1\n"
                             "E4,Dee,E1\n"
                             "E5,Eve,E2\n"
                             "E6,Fay,\n";
static const char reports[] = "Boss,Member\n"
                              "E1,E2\n"
                              "E1,E3\n"
                              "E1,E4\n"
                              "E2,E5\n";

static const char sync_head[] = "version: 1\n"
                                "include: [model.yaml]\n"
                                "job:\n"
                                "  id: Job_Read\n"
                                "  tasks:\n"
                                "    - id: ExportPeople\n"
                                "      type: ExportTask\n"
                                "      connection: HR_People\n"
                                "    - id: ExportReports\n"
                                "      type: ExportTask\n"
                                "      connection: HR_Reports\n"
                                "    - id: Prepare\n"
                                "      type: PrepareSynchronizationTask\n"
                                "      connector: HR\n"
                                "      synchronization_mode: Complete\n"
                                "      depends_on: [ExportPeople, "
                                "ExportReports]\n"
                                "    - id: Sync\n"
                                "      type: SynchronizeTask\n"
                                "      connector: HR\n"
                                "      depends_on: [Prepare]\n";

typedef struct fixture {
  jh_test_jobhost j;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof(*f));
  if (f == NULL)
    return -1;
  jh_test_jobhost_open(&f->j, "JH_BUILTIN_PLUGIN_DIR", "JH_READ_PLUGIN_DIR",
                       NULL);
  jh_test_jobhost_file(&f->j, "model.yaml", model);
  jh_test_jobhost_file(&f->j, "people.csv", people);
  jh_test_jobhost_file(&f->j, "reports.csv", reports);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  jh_test_jobhost_close(&f->j);
  free(f);
  return 0;
}

/* The pipeline: sync_head, then `tasks` (more task items). */
static void pipeline(const fixture *f, const char *tasks) {
  char *text = NULL;
  assert_true(asprintf(&text, "%s%s", sync_head, tasks) > 0);
  jh_test_jobhost_pipeline(&f->j, text);
  free(text);
}

static long long counter(json_t *report, const char *task, const char *name) {
  return jh_test_counter(jh_test_report_task(report, task), name);
}

static void test_count_resources(void **state) {
  fixture *f = *state;
  json_t *r;

  pipeline(f, "    - id: Count\n"
              "      type: CountResourcesTask\n"
              "      entity_type: HR_Person\n"
              "      depends_on: [Sync]\n"
              "    - id: CountMine\n"
              "      type: CountResourcesTask\n"
              "      entity_type: HR_Person\n"
              "      scope: connector\n"
              "      connector: HR\n"
              "      depends_on: [Sync]\n"
              "    - id: CountOthers\n"
              "      type: CountResourcesTask\n"
              "      entity_type: AD_Entry\n"
              "      scope: connector\n"
              "      connector: HR\n"
              "      continue_on_error: true\n"
              "      depends_on: [Sync]\n");
  /* an empty store: --force lets the thresholds pass */
  r = jh_test_jobhost_report(&f->j, 4, "run", f->j.pipeline, "--force", NULL);
  jh_test_assert_task(r, "Sync", "Succeeded", NULL);
  jh_test_assert_task(r, "Count", "Succeeded", "6 resources of HR_Person");
  assert_int_equal(counter(r, "Count", "entity_types"), 2);
  assert_int_equal(counter(r, "Count", "properties"), 4);
  assert_int_equal(counter(r, "Count", "resources"), 6);
  assert_int_equal(counter(r, "Count", "values"), 12); /* id and name */
  /* 4 managers (link) and 4 reports (links, through the association) */
  assert_int_equal(counter(r, "Count", "links"), 8);
  jh_test_assert_task(r, "CountMine", "Succeeded", NULL);
  assert_int_equal(counter(r, "CountMine", "entity_types"), 1);
  assert_int_equal(counter(r, "CountMine", "resources"), 6);
  /* AD's entity type is not HR's to read */
  /* not HR's to read (continue_on_error: a Warning) */
  jh_test_assert_task(r, "CountOthers", "Warning",
                      "cannot read AD_Entry: Operation not permitted");
  json_decref(r);
}

/* The values of E1 and E2, read through the readstore the services use,
 * and one snapshot across cursors while another connection writes. */
static void test_values_and_snapshot(void **state) {
  fixture *f = *state;
  char store[PATH_MAX];
  const jobhost_resource *res;
  jobhost_cursor *a = NULL, *b = NULL;
  jh_readstore *rs = NULL;
  jh_registry *reg;
  jh_pipeline *p = NULL;
  jh_diags diags = {0};
  char err[256] = "", dir[PATH_MAX];
  sqlite3 *db;
  int n = 0;

  pipeline(f, "");
  json_decref(
      jh_test_jobhost_report(&f->j, 0, "run", f->j.pipeline, "--force", NULL));
  snprintf(store, sizeof(store), "%s/identity.db", f->j.home);
  reg = jh_test_registry("JH_BUILTIN_PLUGIN_DIR", "JH_READ_PLUGIN_DIR", NULL);
  assert_int_equal(jh_test_load_with_model(reg, dir, sizeof(dir), sync_head,
                                           model, &p, &diags),
                   0);
  assert_int_equal(jh_readstore_new(p->model, store, &rs), 0);
  assert_int_equal(
      jh_readstore_open(rs, "HR_Person", NULL, 0, &a, err, sizeof(err)), 0);
  assert_int_equal(jh_readstore_next(a, &res), 1);
  assert_string_equal(res->key, "E1");
  assert_int_equal(res->nvalues, 3); /* employee_id, name, reports */
  assert_string_equal(res->values[1].name, "name");
  assert_string_equal(res->values[1].values[0], "Ann");
  assert_string_equal(res->values[2].name, "reports");
  assert_int_equal(res->values[2].nvalues, 3);
  assert_string_equal(res->values[2].values[0], "E2");
  assert_string_equal(res->values[2].values[2], "E4");
  assert_int_equal(jh_readstore_next(a, &res), 1);
  assert_string_equal(res->key, "E2");
  assert_string_equal(res->values[2].name, "manager");
  assert_string_equal(res->values[2].values[0], "E1");

  /* another connection adds a resource and commits */
  assert_int_equal(sqlite3_open(store, &db), SQLITE_OK);
  assert_int_equal(
      sqlite3_exec(db,
                   "INSERT INTO resources(entity_type, key, data) SELECT id, "
                   "'E9', x'' FROM entity_types WHERE name = 'HR_Person'",
                   NULL, NULL, NULL),
      SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(jh_test_query_int(store, "SELECT count(*) FROM resources"),
                   7);
  /* a cursor opened now still reads the snapshot of the first */
  assert_int_equal(
      jh_readstore_open(rs, "HR_Person", "hr", 1, &b, err, sizeof(err)), 0);
  while (jh_readstore_next(b, &res) == 1)
    n++;
  assert_int_equal(n, 6);
  jh_readstore_close(b);
  assert_int_equal(
      jh_readstore_open(rs, "AD_Entry", "HR", 1, &b, err, sizeof(err)), -EPERM);
  assert_int_equal(jh_readstore_open(rs, "Nope", NULL, 0, &b, err, sizeof(err)),
                   -ENOENT);
  jh_readstore_free(rs); /* closes a, left open */

  /* a new reader sees it */
  assert_int_equal(jh_readstore_new(p->model, store, &rs), 0);
  assert_int_equal(
      jh_readstore_open(rs, "HR_Person", NULL, 0, &b, err, sizeof(err)), 0);
  n = 0;
  while (jh_readstore_next(b, &res) == 1)
    n++;
  assert_int_equal(n, 7);
  jh_readstore_close(b);
  jh_readstore_free(rs);
  jh_pipeline_free(p);
  jh_diags_clear(&diags);
  jh_registry_free(reg);
  jh_test_rmtree(dir);
}

/* `jobhost validate` (and run) of a pipeline with one task item: exit
 * status 2 and `want` in stderr; nothing ran. */
static void refused(const fixture *f, const char *tasks, const char *want) {
  char *err = NULL;
  int rc;
  pipeline(f, tasks);
  rc = jh_test_jobhost_run(&f->j, NULL, &err, "validate", f->j.pipeline, NULL);
  if (rc != 2 || strstr(err, want) == NULL)
    fail_msg("validate: exit %d (want 2), stderr:\n%s\nwanted: %s", rc, err,
             want);
  free(err);
  err = NULL;
  rc = jh_test_jobhost_run(&f->j, NULL, &err, "run", f->j.pipeline, NULL);
  if (rc != 2 || strstr(err, want) == NULL)
    fail_msg("run: exit %d (want 2), stderr:\n%s\nwanted: %s", rc, err, want);
  free(err);
  assert_int_not_equal(access(f->j.report, F_OK), 0); /* nothing ran */
}

static void test_validate_errors(void **state) {
  fixture *f = *state;
  /* the task items start at line 21 of pipeline.yaml */
  refused(f,
          "    - id: Count\n"
          "      type: CountResourcesTask\n"
          "      entity_type: HR_Persons\n",
          "pipeline.yaml:23:20: error: unknown entity type 'HR_Persons' in "
          "'entity_type'");
  refused(f,
          "    - id: T\n"
          "      type: TypedTask\n"
          "      repeat: 200\n",
          "pipeline.yaml:23:15: error: 'repeat' must be between 1 and 100, "
          "got 200");
  refused(f,
          "    - id: T\n"
          "      type: TypedTask\n"
          "      label: Not-OK\n",
          "pipeline.yaml:23:14: error: 'label' must match the pattern "
          "[a-z][a-z0-9_]*, got 'Not-OK'");
  refused(f,
          "    - id: T\n"
          "      type: TypedTask\n"
          "      kinds: [a, z]\n",
          "pipeline.yaml:23:18: error: item 2 of 'kinds' must be one of a, "
          "b, c, got 'z'");
  refused(f,
          "    - id: T\n"
          "      type: TypedTask\n"
          "      first: 5\n"
          "      last: 3\n",
          "pipeline.yaml:21:7: error: task 'T' (TypedTask): first (5) must "
          "not be after last (3)");
}

static void test_package_validate(void **state) {
  fixture *f = *state;
  char *err = NULL;
  int rc;
  /* port out of range, then hosts empty (the package's validate) */
  jh_test_jobhost_file(&f->j, "more.yaml",
                       "version: 1\n"
                       "connections:\n"
                       "  - id: AD_Bad\n"
                       "    connector: AD\n"
                       "    package: typedpkg\n"
                       "    settings: {port: 70000}\n");
  jh_test_jobhost_pipeline(&f->j, "version: 1\n"
                                  "include: [model.yaml, more.yaml]\n"
                                  "job:\n"
                                  "  id: J\n"
                                  "  tasks:\n"
                                  "    - {id: T, type: TypedTask}\n");
  rc = jh_test_jobhost_run(&f->j, NULL, &err, "validate", f->j.pipeline, NULL);
  assert_int_equal(rc, 2);
  if (strstr(err, "more.yaml:6:22: error: 'port' must be between 1 and "
                  "65535, got 70000") == NULL)
    fail_msg("stderr:\n%s", err);
  free(err);
  err = NULL;
  jh_test_jobhost_file(&f->j, "more.yaml",
                       "version: 1\n"
                       "connections:\n"
                       "  - id: AD_Bad\n"
                       "    connector: AD\n"
                       "    package: typedpkg\n"
                       "    settings: {hosts: []}\n");
  rc = jh_test_jobhost_run(&f->j, NULL, &err, "validate", f->j.pipeline, NULL);
  assert_int_equal(rc, 2);
  if (strstr(err, "more.yaml:3:5: error: connection 'AD_Bad' (package "
                  "typedpkg): hosts must name at least one host") == NULL)
    fail_msg("stderr:\n%s", err);
  free(err);
}

static void test_typed_getters(void **state) {
  fixture *f = *state;
  json_t *r;
  jh_test_jobhost_pipeline(&f->j, "version: 1\n"
                                  "include: [model.yaml]\n"
                                  "job:\n"
                                  "  id: J\n"
                                  "  tasks:\n"
                                  "    - id: Defaults\n"
                                  "      type: TypedTask\n"
                                  "    - id: Given\n"
                                  "      type: TypedTask\n"
                                  "      repeat: 100\n"
                                  "      wait: 1500ms\n"
                                  "      verbose: true\n"
                                  "      kinds: [c, b, c]\n"
                                  "      connection: AD_Typed\n");
  r = jh_test_jobhost_report(&f->j, 0, "run", f->j.pipeline, NULL);
  assert_int_equal(counter(r, "Defaults", "repeat"), 1);
  assert_int_equal(counter(r, "Defaults", "wait_ms"), 2000);
  assert_int_equal(counter(r, "Defaults", "verbose"), 0);
  assert_int_equal(counter(r, "Defaults", "kinds"), 2); /* "a,b" */
  assert_int_equal(counter(r, "Defaults", "kinds_c"), 0);
  assert_int_equal(counter(r, "Defaults", "hosts"), 0);
  assert_int_equal(counter(r, "Given", "repeat"), 100);
  assert_int_equal(counter(r, "Given", "wait_ms"), 1500);
  assert_int_equal(counter(r, "Given", "verbose"), 1);
  assert_int_equal(counter(r, "Given", "kinds"), 3);
  assert_int_equal(counter(r, "Given", "kinds_c"), 1);
  /* a real list: two items, not "dc1.example.org,dc2.example.org" */
  assert_int_equal(counter(r, "Given", "hosts"), 2);
  jh_test_assert_task(r, "Given", "Succeeded", "last host dc2.example.org");
  json_decref(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_count_resources, setup, teardown),
      cmocka_unit_test_setup_teardown(test_values_and_snapshot, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_validate_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_package_validate, setup, teardown),
      cmocka_unit_test_setup_teardown(test_typed_getters, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
