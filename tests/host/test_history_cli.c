/*
 * test_history_cli.c — `jobhost history` and `jobhost show` on a store
 * prepared through the store API in a temporary home: order, Interrupted
 * instances, JSON output, task details, exit statuses.
 */
#include "config.h"

#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "home.h"
#include "store.h"
#include "harness_host.h"

static const char kept_report[] =
    "{\"job\": \"Job_AD\", \"instance\": 4, \"state\": \"Succeeded\","
    " \"started_at\": \"2026-11-25T10:00:00Z\","
    " \"ended_at\": \"2026-11-25T10:00:09Z\", \"tasks\": []}";

/* The home and the instances put in it. */
struct fixture {
  char home[PATH_MAX];
  int64_t hr_ok;       /* Job_HR, Succeeded, two task rows */
  int64_t ad_error;    /* Job_AD, Error with a message */
  int64_t hr_stale;    /* Job_HR, Running with a dead host */
  int64_t ad_reported; /* Job_AD, Succeeded with a kept report */
};

static void prepare_store(struct fixture *f) {
  jh_home h;
  jh_store *s;
  char err[1024];
  int64_t task;
  long me = (long)getpid();

  if (jh_home_open(f->home, &h, err, sizeof(err)) != 0 ||
      jh_store_open(h.store_path, &s, err, sizeof(err)) != 0)
    fail_msg("%s", err);
  assert_int_equal(jh_store_job_start(s, "Job_HR", "/etc/jobhost/hr.yaml", me,
                                      &f->hr_ok, NULL),
                   0);
  assert_int_equal(jh_store_task_start(s, f->hr_ok, "HR_Export", "ExportTask",
                                       0, 1, "/tmp/HR_Export.log", &task),
                   0);
  assert_int_equal(jh_store_task_finish(s, task, JH_STATE_SUCCEEDED, NULL, 1,
                                        "{\"rows\": 1000}"),
                   0);
  assert_int_equal(jh_store_task_record(s, f->hr_ok, "HR_Prepare",
                                        "PrepareSynchronizationTask", 1,
                                        JH_STATE_SKIPPED,
                                        "parent HR_Export was skipped"),
                   0);
  assert_int_equal(
      jh_store_job_finish(s, f->hr_ok, JH_STATE_SUCCEEDED, NULL, NULL), 0);

  assert_int_equal(
      jh_store_job_start(s, "Job_AD", NULL, me, &f->ad_error, NULL), 0);
  assert_int_equal(jh_store_job_finish(s, f->ad_error, JH_STATE_ERROR,
                                       "task AD_Export failed", NULL),
                   0);
  assert_int_equal(jh_store_job_start(s, "Job_HR", "/etc/jobhost/hr.yaml",
                                      jh_test_dead_pid(), &f->hr_stale, NULL),
                   0);
  assert_int_equal(
      jh_store_job_start(s, "Job_AD", NULL, me, &f->ad_reported, NULL), 0);
  assert_int_equal(jh_store_job_finish(s, f->ad_reported, JH_STATE_SUCCEEDED,
                                       NULL, kept_report),
                   0);
  jh_store_close(s);
  jh_home_clear(&h);
}

static int setup(void **state) {
  struct fixture *f = jh_test_fixture(sizeof(*f), sizeof(f->home));
  prepare_store(f);
  *state = f;
  return 0;
}

/* The line of the output that starts with the instance number. */
static const char *instance_line(const char *out, int64_t id) {
  char want[32];
  size_t len = (size_t)snprintf(want, sizeof(want), "%" PRId64 " ", id);
  for (const char *p = out; p != NULL && *p != '\0';) {
    if (strncmp(p, want, len) == 0)
      return p;
    p = strchr(p, '\n');
    p = p != NULL ? p + 1 : NULL;
  }
  return NULL;
}

static void test_history_newest_first(void **state) {
  struct fixture *f = *state;
  const char *l1, *l2, *l3, *l4, *nl;
  char *out, *err;

  assert_int_equal(
      jh_test_jobhost_bare(&out, &err, "history", "--home", f->home, NULL), 0);
  assert_string_equal(err, "");
  assert_true(strncmp(out, "INSTANCE  JOB", 13) == 0);
  l4 = instance_line(out, f->ad_reported);
  l3 = instance_line(out, f->hr_stale);
  l2 = instance_line(out, f->ad_error);
  l1 = instance_line(out, f->hr_ok);
  assert_non_null(l1);
  assert_non_null(l2);
  assert_non_null(l3);
  assert_non_null(l4);
  assert_true(l4 < l3 && l3 < l2 && l2 < l1);
  nl = strchr(l3, '\n');
  assert_non_null(strstr(l3, "Interrupted"));
  assert_true(strstr(l3, "Interrupted") < nl);
  assert_true(strstr(l3, "ended while the job was running") < nl);
  assert_true(strstr(l2, "task AD_Export failed") < strchr(l2, '\n'));
  /* Columns are aligned: STATE starts at the same offset on every line. */
  assert_int_equal(strstr(l1, "Succeeded") - l1, strstr(out, "STATE") - out);
  assert_int_equal(strstr(l3, "Interrupted") - l3, strstr(out, "STATE") - out);
  free(out);
  free(err);

  /* --job and --limit; the home from JOBHOST_HOME. */
  setenv("JOBHOST_HOME", f->home, 1);
  assert_int_equal(jh_test_jobhost_bare(&out, &err, "history", "--job",
                                        "Job_HR", "--limit", "1", NULL),
                   0);
  unsetenv("JOBHOST_HOME");
  assert_non_null(instance_line(out, f->hr_stale));
  assert_null(instance_line(out, f->hr_ok));
  assert_null(strstr(out, "Job_AD"));
  assert_non_null(strstr(out, "--limit 0 shows all"));
  free(out);
  free(err);
}

static void test_history_json(void **state) {
  struct fixture *f = *state;
  json_error_t jerr;
  json_t *root, *first, *stale;
  char *out, *err;

  assert_int_equal(jh_test_jobhost_bare(&out, &err, "history", "--json",
                                        "--home", f->home, NULL),
                   0);
  root = json_loads(out, 0, &jerr);
  if (root == NULL)
    fail_msg("history --json: %s\n%s", jerr.text, out);
  assert_true(json_is_array(root));
  assert_int_equal(json_array_size(root), 4);
  first = json_array_get(root, 0);
  assert_int_equal(json_integer_value(json_object_get(first, "instance")),
                   f->ad_reported);
  assert_string_equal(json_string_value(json_object_get(first, "job")),
                      "Job_AD");
  assert_string_equal(json_string_value(json_object_get(first, "state")),
                      "Succeeded");
  assert_true(json_is_integer(json_object_get(first, "duration_ms")));
  stale = json_array_get(root, 1);
  assert_int_equal(json_integer_value(json_object_get(stale, "instance")),
                   f->hr_stale);
  assert_string_equal(json_string_value(json_object_get(stale, "state")),
                      "Interrupted");
  assert_string_equal(json_string_value(json_object_get(stale, "pipeline")),
                      "/etc/jobhost/hr.yaml");
  json_decref(root);
  free(out);
  free(err);
}

static void test_history_empty_home(void **state) {
  char home[PATH_MAX], *out, *err;
  (void)state;
  jh_test_mkdtemp(home, sizeof(home));
  assert_int_equal(
      jh_test_jobhost_bare(&out, &err, "history", "--home", home, NULL), 0);
  assert_string_equal(out, "no job instance recorded\n");
  free(out);
  free(err);
  jh_test_rmtree(home);
}

static void test_show_tasks(void **state) {
  struct fixture *f = *state;
  char id[32], *out, *err;
  const char *export_line, *prepare_line;

  snprintf(id, sizeof(id), "%" PRId64, f->hr_ok);
  assert_int_equal(
      jh_test_jobhost_bare(&out, &err, "show", id, "--home", f->home, NULL), 0);
  assert_string_equal(err, "");
  assert_non_null(strstr(out, "of Job_HR: Succeeded"));
  assert_non_null(strstr(out, "/etc/jobhost/hr.yaml"));
  export_line = strstr(out, "  HR_Export ");
  prepare_line = strstr(out, "  HR_Prepare ");
  assert_non_null(export_line);
  assert_non_null(prepare_line);
  assert_true(export_line < prepare_line);
  assert_non_null(strstr(export_line, "ExportTask"));
  assert_non_null(strstr(export_line, "yes"));
  assert_non_null(strstr(out, "counters  rows=1000"));
  assert_non_null(strstr(out, "log       /tmp/HR_Export.log"));
  assert_non_null(strstr(prepare_line, "Skipped"));
  assert_non_null(strstr(prepare_line, "message   parent HR_Export was "
                                       "skipped"));
  free(out);
  free(err);

  /* The host of this one died: it is shown Interrupted. */
  snprintf(id, sizeof(id), "%" PRId64, f->hr_stale);
  assert_int_equal(
      jh_test_jobhost_bare(&out, &err, "show", "--home", f->home, id, NULL), 0);
  assert_non_null(strstr(out, ": Interrupted"));
  assert_non_null(strstr(out, "no task instance recorded"));
  free(out);
  free(err);
}

static void test_show_json(void **state) {
  struct fixture *f = *state;
  char id[32], *out, *err;
  json_error_t jerr;
  json_t *root, *tasks, *t0, *t1, *kept;

  /* No report kept: one built from the rows. */
  snprintf(id, sizeof(id), "%" PRId64, f->hr_ok);
  assert_int_equal(jh_test_jobhost_bare(&out, &err, "show", id, "--json",
                                        "--home", f->home, NULL),
                   0);
  root = json_loads(out, 0, &jerr);
  if (root == NULL)
    fail_msg("show --json: %s\n%s", jerr.text, out);
  assert_string_equal(json_string_value(json_object_get(root, "job")),
                      "Job_HR");
  assert_int_equal(json_integer_value(json_object_get(root, "instance")),
                   f->hr_ok);
  assert_string_equal(json_string_value(json_object_get(root, "state")),
                      "Succeeded");
  assert_true(json_is_string(json_object_get(root, "started_at")));
  assert_true(json_is_string(json_object_get(root, "ended_at")));
  tasks = json_object_get(root, "tasks");
  assert_int_equal(json_array_size(tasks), 2);
  t0 = json_array_get(tasks, 0);
  t1 = json_array_get(tasks, 1);
  assert_string_equal(json_string_value(json_object_get(t0, "id")),
                      "HR_Export");
  assert_string_equal(json_string_value(json_object_get(t0, "type")),
                      "ExportTask");
  assert_int_equal(json_integer_value(json_object_get(t0, "level")), 0);
  assert_true(json_is_true(json_object_get(t0, "produced_output")));
  assert_true(json_is_integer(json_object_get(t0, "duration_ms")));
  assert_int_equal(json_integer_value(json_object_get(
                       json_object_get(t0, "counters"), "rows")),
                   1000);
  assert_string_equal(json_string_value(json_object_get(t0, "message")), "");
  assert_string_equal(json_string_value(json_object_get(t1, "state")),
                      "Skipped");
  assert_true(json_is_null(json_object_get(t1, "started_at")));
  assert_string_equal(json_string_value(json_object_get(t1, "message")),
                      "parent HR_Export was skipped");
  json_decref(root);
  free(out);
  free(err);

  /* A report was kept: that one is printed. */
  snprintf(id, sizeof(id), "%" PRId64, f->ad_reported);
  assert_int_equal(jh_test_jobhost_bare(&out, &err, "show", id, "--json",
                                        "--home", f->home, NULL),
                   0);
  root = json_loads(out, 0, &jerr);
  kept = json_loads(kept_report, 0, &jerr);
  assert_non_null(root);
  assert_non_null(kept);
  assert_true(json_equal(root, kept));
  json_decref(root);
  json_decref(kept);
  free(out);
  free(err);
}

static void test_exit_statuses(void **state) {
  struct fixture *f = *state;
  char *out, *err;

  assert_int_equal(jh_test_jobhost_bare(&out, &err, "show", "999", "--home",
                                        f->home, NULL),
                   1);
  assert_non_null(strstr(err, "no job instance 999"));
  assert_string_equal(out, "");
  free(out);
  free(err);

  static const char *const bad[][4] = {
      {"history", "--bogus", NULL, NULL}, {"history", "--limit", "many", NULL},
      {"history", "--limit", "-3", NULL}, {"history", "extra", NULL, NULL},
      {"show", NULL, NULL, NULL},         {"show", "abc", NULL, NULL},
      {"show", "0", NULL, NULL},          {"show", "1", "2", NULL},
      {"show", "1", "--bogus", NULL},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int rc = jh_test_jobhost_bare(&out, &err, bad[i][0], bad[i][1], bad[i][2],
                                  "--home", f->home, NULL);
    if (rc != 2)
      fail_msg("case %zu (%s %s): exit %d, want 2\n%s", i, bad[i][0],
               bad[i][1] ? bad[i][1] : "", rc, err);
    assert_string_not_equal(err, "");
    free(out);
    free(err);
  }

  assert_int_equal(jh_test_jobhost_bare(&out, &err, "history", "--help", NULL),
                   0);
  assert_non_null(strstr(out, "Usage: jobhost history"));
  free(out);
  free(err);
  assert_int_equal(jh_test_jobhost_bare(&out, &err, "--help", NULL), 0);
  assert_non_null(strstr(out, "history"));
  assert_non_null(strstr(out, "show"));
  free(out);
  free(err);
}

static void test_home_not_creatable(void **state) {
  struct fixture *f = *state;
  char file[PATH_MAX + 16], home[PATH_MAX + 32], *out, *err;

  snprintf(file, sizeof(file), "%s/afile", f->home);
  jh_test_write_file(file, "x", 0644);
  snprintf(home, sizeof(home), "%s/home", file);
  assert_int_equal(
      jh_test_jobhost_bare(&out, &err, "history", "--home", home, NULL), 1);
  assert_non_null(strstr(err, file));
  free(out);
  free(err);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_history_newest_first, setup,
                                      jh_test_teardown_fixture),
      cmocka_unit_test_setup_teardown(test_history_json, setup,
                                      jh_test_teardown_fixture),
      cmocka_unit_test(test_history_empty_home),
      cmocka_unit_test_setup_teardown(test_show_tasks, setup,
                                      jh_test_teardown_fixture),
      cmocka_unit_test_setup_teardown(test_show_json, setup,
                                      jh_test_teardown_fixture),
      cmocka_unit_test_setup_teardown(test_exit_statuses, setup,
                                      jh_test_teardown_fixture),
      cmocka_unit_test_setup_teardown(test_home_not_creatable, setup,
                                      jh_test_teardown_fixture),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
