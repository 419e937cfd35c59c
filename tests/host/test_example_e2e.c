/*
 * test_example_e2e.c — the example of the repository (conf/examples/),
 * as scripts/example runs it, checked end to end with the jobhost
 * program on a copy in a temporary folder:
 *
 *   - the HR job, then the seed job Job_AD_Complete on a fresh home:
 *     Blocked by the synchronization's thresholds (a first load), then
 *     resumed to Succeeded, every task Succeeded; 500 Added and 20
 *     Modified orders, all Executed; the LDIF directory holds the new
 *     accounts and no out-of-date department; groups and service
 *     accounts classified, former employees orphans; the profiles;
 *   - the same job again: Succeeded, every value Verified, no order,
 *     AD_Fulfill Skipped;
 *   - the incremental job after it: nothing changed, nothing done; then
 *     an account's department changed by hand in the directory: one
 *     Modified order puts it back.
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

#include <cmocka.h>
#include <jansson.h>

#include "harness.h"
#include "harness_host.h"

typedef struct fixture {
  jh_test_jobhost j;
  char complete[PATH_MAX];    /* the copy of conf/examples/complete-sync */
  char incremental[PATH_MAX]; /* and of incremental-sync */
  char ldif[PATH_MAX];        /* the copy's directory */
  char store[PATH_MAX];       /* the identity store */
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof(*f));
  char *src, dst[PATH_MAX];
  assert_non_null(f);
  jh_test_jobhost_open(&f->j, "JH_BUILTIN_PLUGIN_DIR", NULL);
  src = jh_test_source("conf/examples");
  jh_test_path(dst, sizeof(dst), "%s/examples", f->j.dir);
  {
    const char *argv[] = {"/bin/cp", "-R", src, dst, NULL};
    if (jh_test_run(argv, NULL, NULL) != 0)
      fail_msg("cannot copy %s", src);
  }
  free(src);
  jh_test_path(f->complete, sizeof(f->complete), "%s/complete-sync", dst);
  jh_test_path(f->incremental, sizeof(f->incremental), "%s/incremental-sync",
               dst);
  jh_test_path(f->ldif, sizeof(f->ldif), "%s/data/directory.ldif", f->complete);
  jh_test_path(f->store, sizeof(f->store), "%s/identity.db", f->j.home);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  jh_test_jobhost_close(&f->j);
  free(f);
  return 0;
}

/* Run pipeline name of folder dir; a Blocked run is resumed, as an
 * operator would, at most `resumes` times. The final report. */
static json_t *run_job(fixture *f, const char *dir, const char *name,
                       int resumes) {
  char path[PATH_MAX], inst[32];
  json_t *r;
  int rc;
  jh_test_path(path, sizeof(path), "%s/%s", dir, name);
  rc = jh_test_jobhost_run(&f->j, NULL, NULL, "run", path, NULL);
  while (rc == 3 && resumes-- > 0) {
    r = jh_test_report_load(f->j.report);
    jh_test_report_instance(r, inst, sizeof(inst));
    json_decref(r);
    rc = jh_test_jobhost_run(&f->j, NULL, NULL, "resume", inst, NULL);
  }
  r = jh_test_report_load(f->j.report);
  if (rc != 0)
    fail_msg("%s ended with exit status %d", name, rc);
  return r;
}

static long long counter(json_t *r, const char *task, const char *name) {
  return jh_test_counter(jh_test_report_task(r, task), name);
}

static size_t occurrences(const char *text, const char *part) {
  size_t n = 0;
  for (const char *p = strstr(text, part); p != NULL;
       p = strstr(p + strlen(part), part))
    n++;
  return n;
}

static const char *const ad_tasks[] = {
    "AD_Export_Complete",       "AD_PrepareSynchronization_Complete",
    "AD_Synchronization",       "All_ComputeAllProperties",
    "All_CorrelationKeys",      "Directory_ComputeRoleModel",
    "AD_Provisioning",          "AD_Fulfill",
    "AD_Update_Classification", "All_SetAllInternalUserProfiles"};

static void first_run(fixture *f) {
  json_t *r;
  char *text;

  r = run_job(f, f->complete, "hr-pipeline.yaml", 1);
  jh_test_assert_job_state(r, "Succeeded");
  json_decref(r);
  /* a first load into an empty store: Blocked once, then resumed */
  r = run_job(f, f->complete, "pipeline.yaml", 1);
  jh_test_assert_job_state(r, "Succeeded");
  for (size_t i = 0; i < sizeof(ad_tasks) / sizeof(ad_tasks[0]); i++)
    jh_test_assert_task(r, ad_tasks[i], "Succeeded", NULL);
  assert_int_equal(json_array_size(json_object_get(r, "tasks")), 10);
  assert_int_equal(counter(r, "AD_Provisioning", "added"), 500);
  assert_int_equal(counter(r, "AD_Provisioning", "modified"), 20);
  assert_int_equal(counter(r, "AD_Provisioning", "deleted"), 0);
  assert_int_equal(counter(r, "AD_Fulfill", "executed"), 520);
  assert_int_equal(counter(r, "AD_Fulfill", "errored"), 0);
  assert_int_equal(counter(r, "AD_Update_Classification", "classified"), 13);
  assert_int_equal(counter(r, "AD_Update_Classification", "orphans"), 3);
  assert_int_equal(counter(r, "All_SetAllInternalUserProfiles", "added"),
                   2508); /* 2,500 Users, 8 Managers */
  json_decref(r);

  text = jh_test_read_file(f->ldif);
  assert_int_equal(occurrences(text, "\ndn:"), 3016);
  assert_int_equal(occurrences(text, "department: Old "), 0);
  assert_int_equal(occurrences(text, "employeeID: E4000\n"), 1);
  assert_int_equal(occurrences(text, "employeeID: E3501\n"), 1);
  free(text);
  assert_int_equal(jh_test_query_int(f->store,
                                     "SELECT count(*) FROM assignments WHERE "
                                     "state = 8"), /* Executed */
                   520);
}

static void test_complete_then_again(void **state) {
  fixture *f = *state;
  json_t *r;

  first_run(f);
  /* again: the accounts are read back and agree; nothing to send */
  r = run_job(f, f->complete, "pipeline.yaml", 0);
  jh_test_assert_job_state(r, "Succeeded");
  jh_test_assert_task(r, "AD_Synchronization", "Succeeded", NULL);
  jh_test_assert_task(r, "AD_Provisioning", "Succeeded", NULL);
  assert_int_equal(counter(r, "AD_Provisioning", "orders"), 0);
  jh_test_assert_task(r, "AD_Fulfill", "Skipped", NULL);
  jh_test_assert_task(r, "All_SetAllInternalUserProfiles", "Skipped", NULL);
  json_decref(r);
  assert_int_equal(jh_test_query_int(f->store,
                                     "SELECT count(*) FROM assignments WHERE "
                                     "state = 4 AND owner_key IS NOT NULL"),
                   3000); /* Verified */
  assert_int_equal(jh_test_query_int(f->store,
                                     "SELECT count(*) FROM assignments WHERE "
                                     "state <> 4 AND owner_key IS NOT NULL"),
                   0);
}

/* Replace the first occurrence of from with to in the file at path. */
static void edit_file(const char *path, const char *from, const char *to) {
  char *text = jh_test_read_file(path), *at = strstr(text, from), *out;
  assert_non_null(at);
  if (asprintf(&out, "%.*s%s%s", (int)(at - text), text, to,
               at + strlen(from)) < 0)
    fail_msg("out of memory");
  jh_test_write_file(path, out, 0644);
  free(out);
  free(text);
}

static void test_incremental(void **state) {
  fixture *f = *state;
  json_t *r;
  char *text;

  first_run(f);
  /* the fulfilled accounts come in as changes, then nothing more */
  r = run_job(f, f->incremental, "pipeline.yaml", 0);
  jh_test_assert_job_state(r, "Succeeded");
  assert_int_equal(counter(r, "Synchronization_AD_Incremental", "inserted"),
                   500);
  jh_test_assert_task(r, "AD_Fulfill", "Skipped", NULL);
  json_decref(r);
  r = run_job(f, f->incremental, "pipeline.yaml", 0);
  jh_test_assert_job_state(r, "Succeeded");
  jh_test_assert_task(r, "Synchronization_AD_Incremental", "Skipped", NULL);
  jh_test_assert_task(r, "Directory_ComputeRoleModel_WithDirty", "Skipped",
                      NULL);
  json_decref(r);

  /* someone edits an account by hand: the dirty role model sees it and
   * one Modified order puts the department back */
  edit_file(f->ldif, "employeeID: E1100\ndepartment: HR",
            "employeeID: E1100\ndepartment: Elsewhere");
  r = run_job(f, f->incremental, "pipeline.yaml", 0);
  jh_test_assert_job_state(r, "Succeeded");
  assert_int_equal(counter(r, "Synchronization_AD_Incremental", "updated"), 1);
  assert_int_equal(counter(r, "AD_Provisioning", "modified"), 1);
  assert_int_equal(counter(r, "AD_Fulfill", "executed"), 1);
  json_decref(r);
  text = jh_test_read_file(f->ldif);
  assert_int_equal(occurrences(text, "department: Elsewhere"), 0);
  assert_int_equal(occurrences(text, "employeeID: E1100\ndepartment: HR"), 1);
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_complete_then_again, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_incremental, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
