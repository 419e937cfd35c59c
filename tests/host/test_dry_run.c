/*
 * test_dry_run.c — `jobhost run --dry-run` (doc/jobs.md, "Dry runs"):
 * the job runs on copies, so the identity store, the working folders and
 * the targets stay as they were; a FulfillTask is left out; the run's
 * folder holds the copy, the logs and changes.json; a dry-run instance
 * is not resumed; a real run afterwards does what the dry run showed.
 */
#include "config.h"

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

static const char model[] = "version: 1\n"
                            "connectors:\n"
                            "  - id: HR\n"
                            "connections:\n"
                            "  - id: HR_Export\n"
                            "    connector: HR\n"
                            "    package: csv\n"
                            "    settings: {path: hr.csv}\n"
                            "entity_types:\n"
                            "  - id: HR_Person\n"
                            "    properties:\n"
                            "      - {id: employee_id, type: string}\n"
                            "      - {id: name, type: string}\n"
                            "entity_type_mappings:\n"
                            "  - entity_type: HR_Person\n"
                            "    connector: HR\n"
                            "    connection_table: HR_Export\n"
                            "    properties:\n"
                            "      - {property: employee_id, column: Id, "
                            "primary_key: true}\n"
                            "      - {property: name, column: Name}\n";

static const char job[] =
    "version: 1\n"
    "include: [model.yaml]\n"
    "job:\n"
    "  id: Job_HR\n"
    "  tasks:\n"
    "    - {id: Export, type: ExportTask,"
    " connection: HR_Export}\n"
    "    - {id: Prepare, type: PrepareSynchronizationTask,"
    " connector: HR, synchronization_mode: Complete,"
    " depends_on: [Export]}\n"
    "    - {id: Sync, type: SynchronizeTask,"
    " connector: HR, depends_on: [Prepare]}\n"
    "    - {id: Fulfill, type: FulfillTask,"
    " connector: HR, connection: HR_Export,"
    " depends_on: [Sync]}\n";

static void test_dry_run_changes_nothing(void **state) {
  jh_test_jobhost j;
  char path[PATH_MAX], store[PATH_MAX], instance[32];
  char *before, *after, *out = NULL, *err = NULL;
  json_t *r;
  (void)state;

  jh_test_jobhost_open(&j, "JH_BUILTIN_PLUGIN_DIR", NULL);
  jh_test_jobhost_file(&j, "model.yaml", model);
  jh_test_jobhost_pipeline(&j, job);
  jh_test_jobhost_file(&j, "hr.csv", "Id,Name\n1,Ada\n2,Alan\n");
  jh_test_path(store, sizeof(store), "%s/identity.db", j.home);

  /* a real run fills the store (the fulfill task is not the point) */
  r = jh_test_jobhost_report(&j, 0, "run", j.pipeline, "--force", "--to",
                             "Sync", NULL);
  jh_test_assert_task(r, "Sync", "Succeeded", NULL);
  json_decref(r);
  assert_int_equal(jh_test_query_int(store, "SELECT count(*) FROM resources"),
                   2);
  before = jh_test_db_dump(store);

  /* the source changes; the dry run sees it, the store does not */
  jh_test_jobhost_file(&j, "hr.csv", "Id,Name\n1,Ada L.\n2,Alan\n3,Grace\n");
  r = jh_test_jobhost_report(&j, 0, "run", j.pipeline, "--force", "--dry-run",
                             NULL);
  jh_test_assert_job_state(r, "Succeeded");
  jh_test_assert_task(r, "Sync", "Succeeded", NULL);
  jh_test_assert_task(r, "Fulfill", "Skipped", "dry run");
  jh_test_report_instance(r, instance, sizeof(instance));
  json_decref(r);
  after = jh_test_db_dump(store);
  assert_string_equal(before, after);
  free(after);

  /* what the run did is in its folder */
  jh_test_path(path, sizeof(path), "%s/DryRun/%s/identity.db", j.home,
               instance);
  assert_int_equal(jh_test_query_int(path, "SELECT count(*) FROM resources"),
                   3);
  jh_test_path(path, sizeof(path), "%s/DryRun/%s/changes.json", j.home,
               instance);
  assert_int_equal(access(path, R_OK), 0);
  jh_test_path(path, sizeof(path), "%s/Work/ProvisioningOrders", j.home);
  {
    DIR *d = opendir(path);
    struct dirent *e;
    int entries = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
      entries += e->d_name[0] != '.';
    closedir(d);
    assert_int_equal(entries, 0);
  }

  /* not resumed */
  assert_int_equal(
      jh_test_jobhost_run(&j, &out, &err, "resume", instance, NULL), 2);
  assert_non_null(strstr(err, "was a dry run"));
  free(out);
  free(err);

  /* a real run does what the dry run showed */
  r = jh_test_jobhost_report(&j, 0, "run", j.pipeline, "--force", "--to",
                             "Sync", NULL);
  jh_test_assert_task(r, "Sync", "Succeeded", NULL);
  json_decref(r);
  assert_int_equal(jh_test_query_int(store, "SELECT count(*) FROM resources"),
                   3);
  free(before);
  jh_test_jobhost_close(&j);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dry_run_changes_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
