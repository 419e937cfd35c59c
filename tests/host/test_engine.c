/*
 * test_engine.c — the job engine end to end: the jobhost program runs
 * pipelines of test tasks (tests/plugins/engine) and the tests read its exit
 * status, its report and the store.
 *
 * Covers doc/identity-manager.md on a pipeline shaped like the
 * seed job, crashing and hanging tasks, retries, cancel, a second start,
 * a SIGKILLed host whose instance `resume` finishes, --task/--from/--to,
 * `steps` and --isolation none; and the scheduling rules of plan.h as
 * they play out in a run: Error outranks Blocked, level overflow, only
 * declared types block, dirty tasks, selections judged on last results.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <pty.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "csv.h"
#include "store.h"
#include "harness_host.h"

/* How many times (50 ms apart) a test looks again for what a background
 * host is to do: a minute, for a loaded machine running valgrind. */
#define WAIT_TRIES 1200

typedef struct fixture {
  jh_test_jobhost j; /* the built-in and engine test plugins, --grace 300ms */
  pid_t spawned;     /* a host started in the background, killed at teardown
                        if a failed test left it running */
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof(*f));
  assert_non_null(f);
  jh_test_jobhost_open(&f->j, "JH_BUILTIN_PLUGIN_DIR", "JH_ENGINE_PLUGIN_DIR",
                       NULL);
  f->j.grace = "300ms";
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  if (f->spawned > 0 && waitpid(f->spawned, NULL, WNOHANG) == 0) {
    kill(f->spawned, SIGKILL);
    waitpid(f->spawned, NULL, 0);
  }
  jh_test_jobhost_close(&f->j);
  free(f);
  return 0;
}

/* The first size - 1 bytes of a file, as a string. */
static void read_text(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "r");
  size_t n;
  if (f == NULL)
    fail_msg("cannot open %s", path);
  n = fread(buf, 1, size - 1, f);
  buf[n] = '\0';
  fclose(f);
}

/* Task rows of the newest instance in the fixture's store. */
static int64_t newest_instance(const fixture *f, jh_store **out) {
  char path[400], err[256];
  jh_job_row *rows = NULL;
  size_t n = 0;
  int64_t id;
  snprintf(path, sizeof(path), "%s/jobhost.db", f->j.home);
  assert_int_equal(jh_store_open(path, out, err, sizeof(err)), 0);
  assert_int_equal(jh_store_job_list(*out, NULL, 1, &rows, &n), 0);
  assert_int_equal(n, 1);
  id = rows[0].instance;
  jh_job_rows_free(rows, n);
  return id;
}

/* The start of the pipelines of the tests: job J. */
#define HEAD "version: 1\njob:\n  id: J\n"
#define TASKS HEAD "  tasks:\n"

/* ---- a pipeline shaped like the seed job ---- */

/* The seed job's chain with test tasks in place of the built-ins: export
 * (continue_on_error) -> prepare, synchronize; expressions, correlation,
 * role model; orders -> fulfill (continue_on_error) -> profiles;
 * classification. */
static const char *seed_shape(const char *export_type, const char *orders,
                              const char *fulfill) {
  static char buf[4096];
  snprintf(buf, sizeof(buf),
           "version: 1\n"
           "job:\n"
           "  id: Job_Seed_Shape\n"
           "  tasks:\n"
           "    - {id: AD_Export_Complete, type: %s, continue_on_error: true}\n"
           "    - id: AD_PrepareSynchronization_Complete\n"
           "      type: TestSucceedTask\n"
           "      depends_on: [AD_Export_Complete]\n"
           "    - id: AD_Synchronization\n"
           "      type: TestSucceedTask\n"
           "      depends_on: [AD_Export_Complete]\n"
           "    - {id: All_ComputeAllProperties, type: TestSucceedTask}\n"
           "    - {id: All_CorrelationKeys, type: TestSucceedTask}\n"
           "    - {id: Directory_ComputeRoleModel, type: TestSucceedTask}\n"
           "    - {id: AD_Provisioning, type: TestSucceedTask, %s}\n"
           "    - id: AD_Fulfill\n"
           "      type: %s\n"
           "      continue_on_error: true\n"
           "      depends_on: [AD_Provisioning]\n"
           "    - {id: AD_Update_Classification, type: TestSucceedTask}\n"
           "    - id: All_SetAllInternalUserProfiles\n"
           "      type: TestSucceedTask\n"
           "      depends_on: [AD_Fulfill]\n",
           export_type, orders, fulfill);
  return buf;
}

static void test_seed_shape_succeeds(void **state) {
  fixture *f = *state;
  json_t *r;
  jh_test_jobhost_pipeline(&f->j,
                           seed_shape("TestSucceedTask", "produce_output: true",
                                      "TestSucceedTask"));
  r = jh_test_jobhost_report(&f->j, 0, "run", f->j.pipeline, NULL);
  jh_test_assert_job_state(r, "Succeeded");
  assert_int_equal(json_array_size(json_object_get(r, "tasks")), 10);
  jh_test_assert_task(r, "All_SetAllInternalUserProfiles", "Succeeded", NULL);
  /* document order is launch order, one task at a time: levels 0..9 */
  assert_int_equal(jh_test_task_int(r, "AD_Fulfill", "level"), 7);
  json_decref(r);
}

/* Behaviours 4 and 5: a tolerated export error is a Warning that skips its
 * dependants only; a Warning Fulfill skips the profiles task. */
static void test_continue_on_error_and_warning_parent(void **state) {
  fixture *f = *state;
  json_t *r;
  jh_test_jobhost_pipeline(&f->j,
                           seed_shape("TestFailTask", "produce_output: true",
                                      "TestFailTask"));
  r = jh_test_jobhost_report(&f->j, 4, "run", f->j.pipeline, NULL);
  jh_test_assert_job_state(r, "Warning");
  jh_test_assert_task(r, "AD_Export_Complete", "Warning", "asked to fail");
  jh_test_assert_task(r, "AD_PrepareSynchronization_Complete", "Skipped",
                      "parent AD_Export_Complete ended Warning");
  jh_test_assert_task(r, "AD_Synchronization", "Skipped", "AD_Export_Complete");
  jh_test_assert_task(r, "All_ComputeAllProperties", "Succeeded", NULL);
  jh_test_assert_task(r, "AD_Fulfill", "Warning", NULL);
  jh_test_assert_task(r, "All_SetAllInternalUserProfiles", "Skipped",
                      "parent AD_Fulfill ended Warning");
  jh_test_assert_task(r, "AD_Update_Classification", "Succeeded", NULL);
  json_decref(r);
}

/* Behaviour 6 (and 3): no provisioning order means no fulfillment. */
static void test_no_output_skips_children(void **state) {
  fixture *f = *state;
  json_t *r;
  jh_test_jobhost_pipeline(&f->j, seed_shape("TestSucceedTask",
                                             "produce_output: false",
                                             "TestSucceedTask"));
  r = jh_test_jobhost_report(&f->j, 0, "run", f->j.pipeline, NULL);
  jh_test_assert_job_state(r, "Succeeded");
  jh_test_assert_task(r, "AD_Provisioning", "Succeeded", NULL);
  assert_true(json_is_false(json_object_get(
      jh_test_report_task(r, "AD_Provisioning"), "produced_output")));
  jh_test_assert_task(r, "AD_Fulfill", "Skipped",
                      "parent AD_Provisioning produced no output");
  jh_test_assert_task(r, "All_SetAllInternalUserProfiles", "Skipped",
                      "parent AD_Fulfill ended Skipped");
  json_decref(r);
}

/* Behaviour 4: an untolerated error ends the job; nothing new starts. */
static void test_untolerated_error_stops_job(void **state) {
  fixture *f = *state;
  json_t *r;
  jh_test_jobhost_pipeline(&f->j, TASKS
                           "    - {id: a, type: TestSucceedTask}\n"
                           "    - {id: b, type: TestFailTask, message: boom}\n"
                           "    - {id: c, type: TestSucceedTask}\n");
  r = jh_test_jobhost_report(&f->j, 1, "run", f->j.pipeline, NULL);
  jh_test_assert_job_state(r, "Error");
  jh_test_assert_task(r, "a", "Succeeded", NULL);
  jh_test_assert_task(r, "b", "Error", "boom");
  jh_test_assert_task(r, "c", "NotStarted", "the job stopped when b ended");
  json_decref(r);
}

/* Behaviour 2: a level runs together (capped by max_parallel) and the next
 * level waits for all of it. Checked on the store's millisecond times. */
static void test_levels_and_max_parallel(void **state) {
  fixture *f = *state;
  jh_store *s = NULL;
  jh_task_row *rows = NULL;
  size_t n = 0;
  int64_t inst, a_end = 0, b_end = 0, c_start = 0, d_start = 0, c_end = 0;

  jh_test_jobhost_pipeline(
      &f->j, HEAD "  max_parallel: 2\n"
                  "  tasks:\n"
                  "    - {id: a, type: TestSleepTask, ms: 300, level: 0}\n"
                  "    - {id: b, type: TestSleepTask, ms: 300, level: 0}\n"
                  "    - {id: c, type: TestSleepTask, ms: 300, level: 0}\n"
                  "    - {id: d, type: TestSucceedTask, level: 1}\n");
  assert_int_equal(
      jh_test_jobhost_run(&f->j, NULL, NULL, "run", f->j.pipeline, NULL), 0);
  inst = newest_instance(f, &s);
  assert_int_equal(jh_store_task_list(s, inst, &rows, &n), 0);
  assert_int_equal(n, 4);
  for (size_t i = 0; i < n; i++) {
    if (strcmp(rows[i].task_id, "a") == 0)
      a_end = rows[i].ended_ms;
    if (strcmp(rows[i].task_id, "b") == 0)
      b_end = rows[i].ended_ms;
    if (strcmp(rows[i].task_id, "c") == 0) {
      c_start = rows[i].started_ms;
      c_end = rows[i].ended_ms;
    }
    if (strcmp(rows[i].task_id, "d") == 0)
      d_start = rows[i].started_ms;
    assert_int_equal(rows[i].state, JH_STATE_SUCCEEDED);
  }
  /* c waited for a slot; d waited for the whole level. */
  assert_true(c_start >= (a_end < b_end ? a_end : b_end));
  assert_true(d_start >= c_end && d_start >= a_end && d_start >= b_end);
  jh_task_rows_free(rows, n);
  jh_store_close(s);
}

/* Behaviour 15: every launched task has a task instance with a log. */
static void test_task_instances_and_logs(void **state) {
  fixture *f = *state;
  jh_store *s = NULL;
  jh_task_row *rows = NULL;
  size_t n = 0;
  struct stat st;
  int64_t inst;

  jh_test_jobhost_pipeline(
      &f->j, TASKS "    - {id: spam, type: TestSpamTask, lines: 20000}\n"
                   "    - {id: ok, type: TestSucceedTask, counter_value: 7}\n"
                   "    - {id: quiet, type: TestNoopTask}\n"
                   "    - {id: bad, type: TestFailTask, "
                   "continue_on_error: true}\n");
  assert_int_equal(
      jh_test_jobhost_run(&f->j, NULL, NULL, "run", f->j.pipeline, NULL), 4);
  inst = newest_instance(f, &s);
  assert_int_equal(jh_store_task_list(s, inst, &rows, &n), 0);
  assert_int_equal(n, 4);
  for (size_t i = 0; i < n; i++) {
    if (strcmp(rows[i].task_id, "quiet") == 0) {
      /* A task that wrote nothing and succeeded leaves no empty file, and
       * its row lists no log. */
      assert_null(rows[i].log_path);
      continue;
    }
    assert_non_null(rows[i].log_path);
    assert_int_equal(stat(rows[i].log_path, &st), 0);
    if (strcmp(rows[i].task_id, "bad") == 0) {
      char text[1024];
      read_text(rows[i].log_path, text, sizeof(text));
      assert_non_null(strstr(text, "# attempt 1 ended Error after"));
      assert_non_null(strstr(text, "asked to fail"));
      continue;
    }
    assert_true(rows[i].started_ms > 0 &&
                rows[i].ended_ms >= rows[i].started_ms);
    assert_int_equal(rows[i].attempt, 1);
    if (strcmp(rows[i].task_id, "spam") == 0)
      assert_true(st.st_size > 20000 * 100); /* every line reached the log */
    else
      assert_non_null(strstr(rows[i].counters_json, "\"items\":7"));
  }
  jh_task_rows_free(rows, n);
  jh_store_close(s);
}

/* A crash, an abort, an exit() and a hang end their task, not the host. */
static void test_crashes_and_hangs(void **state) {
  fixture *f = *state;
  json_t *r;
  jh_test_jobhost_pipeline(
      &f->j, TASKS "    - {id: segv, type: TestCrashTask, how: segv, "
                   "continue_on_error: true}\n"
                   "    - {id: abrt, type: TestCrashTask, how: abort, "
                   "continue_on_error: true}\n"
                   "    - {id: quit, type: TestCrashTask, how: exit, "
                   "exit_status: 7, continue_on_error: true}\n"
                   "    - {id: hang, type: TestHangTask, ignore_term: true, "
                   "timeout: 300ms, continue_on_error: true}\n"
                   "    - {id: after, type: TestSucceedTask}\n");
  r = jh_test_jobhost_report(&f->j, 4, "run", f->j.pipeline, NULL);
  jh_test_assert_task(r, "segv", "Warning", "killed by signal 11");
  jh_test_assert_task(r, "abrt", "Warning", "killed by signal 6");
  jh_test_assert_task(r, "quit", "Warning",
                      "exited with status 7 without a result");
  jh_test_assert_task(r, "hang", "Warning", "timed out after 300 ms (killed)");
  jh_test_assert_task(r, "after", "Succeeded", NULL);
  json_decref(r);
  /* What the plugin printed on stdout and stderr is in its task log. */
  {
    jh_store *s = NULL;
    jh_task_row *rows = NULL;
    size_t n = 0;
    int64_t inst = newest_instance(f, &s);
    int found = 0;
    assert_int_equal(jh_store_task_list(s, inst, &rows, &n), 0);
    for (size_t i = 0; i < n; i++)
      if (strcmp(rows[i].task_id, "quit") == 0) {
        char text[4096];
        read_text(rows[i].log_path, text, sizeof(text));
        assert_non_null(strstr(text, "crashing: exit"));
        assert_non_null(strstr(text, "exiting with status 7 (said on stderr)"));
        assert_non_null(strstr(text, "exiting with status 7 (said on stdout)"));
        found = 1;
      }
    assert_true(found);
    jh_task_rows_free(rows, n);
    jh_store_close(s);
  }
}

/* A worker's stdout is its task log's, even what stdio still buffered
 * when the task returned (printf into a pipe, no newline, no flush). */
static void test_unflushed_stdout_logged(void **state) {
  fixture *f = *state;
  jh_store *s = NULL;
  jh_task_row *rows = NULL;
  size_t n = 0;
  char text[4096];
  int64_t inst;

  jh_test_jobhost_pipeline(&f->j,
                           TASKS "    - {id: talk, type: TestSucceedTask, "
                                 "print: \"left in the buffer\"}\n");
  assert_int_equal(
      jh_test_jobhost_run(&f->j, NULL, NULL, "run", f->j.pipeline, NULL), 0);
  inst = newest_instance(f, &s);
  assert_int_equal(jh_store_task_list(s, inst, &rows, &n), 0);
  assert_int_equal(n, 1);
  read_text(rows[0].log_path, text, sizeof(text));
  assert_non_null(strstr(text, "left in the buffer"));
  jh_task_rows_free(rows, n);
  jh_store_close(s);
}

static void test_retries(void **state) {
  fixture *f = *state;
  char yaml[1024];
  json_t *r;
  snprintf(yaml, sizeof(yaml),
           TASKS
           "    - {id: flaky, type: TestFlakyTask, fail_times: 2, retries: 2, "
           "retry_delay: 50ms, state_file: %s/flaky.count}\n",
           f->j.dir);
  jh_test_jobhost_pipeline(&f->j, yaml);
  r = jh_test_jobhost_report(&f->j, 0, "run", f->j.pipeline, NULL);
  jh_test_assert_task(r, "flaky", "Succeeded", NULL);
  assert_int_equal(jh_test_task_int(r, "flaky", "attempts"), 3);
  json_decref(r);
}

/* Behaviour 8 (and 9): Blocked stops the job and keeps the instance;
 * resume validates the blocked task, then runs what had not started. */
static void test_blocked_then_resume(void **state) {
  fixture *f = *state;
  json_t *r;
  char inst[32], *err = NULL, cwd[PATH_MAX], elsewhere[PATH_MAX];
  int rc;
  jh_test_jobhost_pipeline(&f->j,
                           TASKS "    - {id: sync, type: TestBlockTask}\n"
                                 "    - {id: next, type: TestSucceedTask}\n");
  /* started from the pipeline's folder with a relative path: the instance
   * records the absolute one, so that resume works from any folder */
  assert_non_null(getcwd(cwd, sizeof(cwd)));
  assert_int_equal(chdir(f->j.dir), 0);
  rc = jh_test_jobhost_run(&f->j, NULL, NULL, "run", "pipeline.yaml", NULL);
  assert_int_equal(chdir(cwd), 0); /* before any check can fail */
  assert_int_equal(rc, 3);
  r = jh_test_report_load(f->j.report);
  jh_test_assert_job_state(r, "Blocked");
  jh_test_assert_task(r, "sync", "Blocked", "threshold exceeded");
  jh_test_assert_task(r, "next", "NotStarted", NULL);
  jh_test_report_instance(r, inst, sizeof(inst));
  json_decref(r);
  {
    jh_store *s = NULL;
    jh_job_row job;
    int64_t id = newest_instance(f, &s);
    assert_int_equal(jh_store_job_get(s, id, &job), 0);
    assert_true(job.pipeline_path[0] == '/');
    assert_non_null(strstr(job.pipeline_path, "/pipeline.yaml"));
    jh_job_row_clear(&job);
    jh_store_close(s);
  }

  /* resumed from another folder, where pipeline.yaml names nothing */
  jh_test_path(elsewhere, sizeof(elsewhere), "%s/elsewhere", f->j.dir);
  jh_test_mkdir(elsewhere);
  assert_int_equal(chdir(elsewhere), 0);
  rc = jh_test_jobhost_run(&f->j, NULL, NULL, "resume", inst, NULL);
  assert_int_equal(chdir(cwd), 0);
  assert_int_equal(rc, 0);
  r = jh_test_report_load(f->j.report);
  jh_test_assert_job_state(r, "Succeeded");
  jh_test_assert_task(r, "sync", "Succeeded", "forced");
  jh_test_assert_task(r, "next", "Succeeded", NULL);
  json_decref(r);
  /* A finished instance cannot be resumed. */
  assert_int_equal(jh_test_jobhost_run(&f->j, NULL, &err, "resume", inst, NULL),
                   2);
  assert_non_null(strstr(err, "only Blocked, Interrupted and Cancelled"));
  free(err);
}

/* An untolerated Error outranks Blocked: a task Blocked and another in
 * Error at the same level end the job in Error, which resume refuses,
 * naming the Error task. */
static void test_error_outranks_blocked(void **state) {
  fixture *f = *state;
  json_t *r;
  char inst[32], *err = NULL;
  jh_test_jobhost_pipeline(
      &f->j, TASKS "    - {id: sync, type: TestBlockTask, level: 0}\n"
                   "    - {id: bad, type: TestFailTask, message: boom, "
                   "level: 0}\n"
                   "    - {id: next, type: TestSucceedTask, level: 1}\n");
  r = jh_test_jobhost_report(&f->j, 1, "run", f->j.pipeline, NULL);
  jh_test_assert_job_state(r, "Error");
  jh_test_assert_task(r, "sync", "Blocked", "threshold exceeded");
  jh_test_assert_task(r, "bad", "Error", "boom");
  jh_test_assert_task(r, "next", "NotStarted", NULL);
  jh_test_report_instance(r, inst, sizeof(inst));
  json_decref(r);

  assert_int_equal(jh_test_jobhost_run(&f->j, NULL, &err, "resume", inst, NULL),
                   2);
  assert_non_null(strstr(err, "is Error"));
  assert_non_null(strstr(err, "task bad ended Error: boom"));
  assert_non_null(strstr(err, "task sync is Blocked"));
  free(err);
  {
    jh_store *s = NULL;
    jh_task_row *rows = NULL;
    size_t n = 0;
    jh_job_row job;
    int64_t id = newest_instance(f, &s);
    assert_int_equal(jh_store_task_list(s, id, &rows, &n), 0);
    assert_int_equal(n, 3); /* resume started nothing */
    jh_task_rows_free(rows, n);
    assert_int_equal(jh_store_job_get(s, id, &job), 0);
    assert_string_equal(job.message, "stopped when bad ended");
    jh_job_row_clear(&job);
    jh_store_close(s);
  }
}

/* Start and end times of task `id` in the newest instance. */
static void task_times(const fixture *f, const char *id, int64_t *start,
                       int64_t *end) {
  jh_store *s = NULL;
  jh_task_row *rows = NULL;
  size_t n = 0;
  int64_t inst = newest_instance(f, &s);
  *start = *end = -1;
  assert_int_equal(jh_store_task_list(s, inst, &rows, &n), 0);
  for (size_t i = 0; i < n; i++)
    if (strcmp(rows[i].task_id, id) == 0) {
      *start = rows[i].started_ms;
      *end = rows[i].ended_ms;
    }
  jh_task_rows_free(rows, n);
  jh_store_close(s);
  if (*start < 0)
    fail_msg("task %s has no task instance", id);
}

/* A level larger than max_parallel runs as the extra levels `steps`
 * prints; `level_overflow: window` keeps a sliding window instead. */
static void test_level_overflow(void **state) {
  static const char yaml[] = HEAD
      "  max_parallel: 2\n"
      "%s"
      "  tasks:\n"
      "    - {id: a, type: TestSleepTask, ms: 50, level: 0}\n"
      "    - {id: b, type: TestSleepTask, ms: 1500, level: 0}\n"
      "    - {id: c, type: TestSucceedTask, level: 0}\n"
      "    - {id: d, type: TestSucceedTask, level: 1}\n";
  fixture *f = *state;
  char text[1024], *out = NULL, *err = NULL;
  int64_t b_start, b_end, c_start, c_end;

  snprintf(text, sizeof(text), yaml, "");
  jh_test_jobhost_pipeline(&f->j, text);
  assert_int_equal(
      jh_test_jobhost_run(&f->j, &out, &err, "steps", f->j.pipeline, NULL), 0);
  assert_non_null(strstr(out, "Order 0: b (TestSleepTask)\n"
                              "Order 1: c (TestSucceedTask)\n"
                              "Order 2: d (TestSucceedTask)"));
  free(out);
  free(err);
  assert_int_equal(
      jh_test_jobhost_run(&f->j, NULL, NULL, "run", f->j.pipeline, NULL), 0);
  task_times(f, "b", &b_start, &b_end);
  task_times(f, "c", &c_start, &c_end);
  assert_true(c_start >= b_end); /* Order 1 waits for all of Order 0 */

  snprintf(text, sizeof(text), yaml, "  level_overflow: window\n");
  jh_test_jobhost_pipeline(&f->j, text);
  assert_int_equal(
      jh_test_jobhost_run(&f->j, NULL, NULL, "run", f->j.pipeline, NULL), 0);
  task_times(f, "b", &b_start, &b_end);
  task_times(f, "c", &c_start, &c_end);
  assert_true(c_start < b_end); /* c took a's slot as soon as a ended */
}

/* Only a task type declared able to block may end Blocked; another one
 * returning the blocked code ends in Error and stops the job. */
static void test_undeclared_block_is_an_error(void **state) {
  fixture *f = *state;
  json_t *r;
  jh_test_jobhost_pipeline(&f->j, TASKS
                           "    - {id: rogue, type: TestUndeclaredBlockTask}\n"
                           "    - {id: next, type: TestSucceedTask}\n");
  r = jh_test_jobhost_report(&f->j, 1, "run", f->j.pipeline, NULL);
  jh_test_assert_job_state(r, "Error");
  jh_test_assert_task(
      r, "rogue", "Error",
      "task type TestUndeclaredBlockTask is not declared able to "
      "block");
  jh_test_assert_task(r, "next", "NotStarted", NULL);
  json_decref(r);
}

/* A dirty task runs only after a task that sets dirty flags Succeeded in
 * the same run, linked to it or not. */
static void test_dirty_tasks_need_the_flags_set(void **state) {
  fixture *f = *state;
  json_t *r;
  jh_test_jobhost_pipeline(
      &f->j, TASKS "    - {id: sync, type: TestSucceedTask}\n"
                   "    - {id: mark, type: TestMarkDirtyTask, "
                   "depends_on: [sync]}\n"
                   "    - {id: linked, type: TestDirtyTask, dirty: true, "
                   "depends_on: [mark]}\n"
                   "    - {id: unlinked, type: TestDirtyTask, dirty: true}\n"
                   "    - {id: plain, type: TestDirtyTask}\n");
  r = jh_test_jobhost_report(&f->j, 0, "run", f->j.pipeline, NULL);
  jh_test_assert_task(r, "linked", "Succeeded", "the dirty");
  jh_test_assert_task(r, "unlinked", "Succeeded", "the dirty");
  json_decref(r);

  /* the marker outside the selection: its dirty flags are not this run's */
  r = jh_test_jobhost_report(&f->j, 0, "run", f->j.pipeline, "--from", "linked",
                             NULL);
  jh_test_assert_task(
      r, "linked", "Skipped",
      "dirty: mark (TestMarkDirtyTask) is not among the selected "
      "steps");
  jh_test_assert_task(r, "unlinked", "Skipped",
                      "is not among the selected steps");
  jh_test_assert_task(r, "plain", "Succeeded", "all");
  json_decref(r);

  /* the marker skipped: its parent produced no output */
  jh_test_jobhost_pipeline(
      &f->j, TASKS "    - {id: sync, type: TestSucceedTask, "
                   "produce_output: false}\n"
                   "    - {id: mark, type: TestMarkDirtyTask, "
                   "depends_on: [sync]}\n"
                   "    - {id: unlinked, type: TestDirtyTask, dirty: true}\n");
  r = jh_test_jobhost_report(&f->j, 0, "run", f->j.pipeline, NULL);
  jh_test_assert_task(r, "mark", "Skipped", NULL);
  jh_test_assert_task(r, "unlinked", "Skipped",
                      "dirty: mark (TestMarkDirtyTask) ended Skipped");
  json_decref(r);

  /* no marker in the job, and ordering: dependencies */
  jh_test_jobhost_pipeline(
      &f->j, HEAD "  ordering: dependencies\n"
                  "  tasks:\n"
                  "    - {id: unlinked, type: TestDirtyTask, dirty: true}\n"
                  "    - {id: plain, type: TestDirtyTask}\n");
  r = jh_test_jobhost_report(&f->j, 0, "run", f->j.pipeline, NULL);
  jh_test_assert_task(r, "unlinked", "Skipped",
                      "the job has no task that flags resources dirty");
  jh_test_assert_task(r, "plain", "Succeeded", NULL);
  json_decref(r);
}

/* In dependencies ordering a dirty task waits for the marker, even
 * unlinked. */
static void test_dirty_task_waits_for_the_marker(void **state) {
  fixture *f = *state;
  json_t *r;
  jh_test_jobhost_pipeline(
      &f->j, HEAD "  ordering: dependencies\n"
                  "  tasks:\n"
                  "    - {id: slow, type: TestSleepTask, ms: 300}\n"
                  "    - {id: mark, type: TestMarkDirtyTask, "
                  "depends_on: [slow]}\n"
                  "    - {id: unlinked, type: TestDirtyTask, dirty: true}\n");
  r = jh_test_jobhost_report(&f->j, 0, "run", f->j.pipeline, NULL);
  jh_test_assert_task(r, "unlinked", "Succeeded", "the dirty");
  json_decref(r);
}

/* --task, --from and --to run a task whose parent is outside the
 * selection only when that parent's last result in the job Succeeded with
 * output; resume takes them too. */
static void test_selection_respects_links(void **state) {
  static const char yaml[] = TASKS "    - {id: a, type: TestSucceedTask, "
                                   "produce_output: %s}\n"
                                   "    - {id: b, type: TestSucceedTask, "
                                   "depends_on: [a]}\n";
  fixture *f = *state;
  json_t *r;
  char text[512];

  snprintf(text, sizeof(text), yaml, "true");
  jh_test_jobhost_pipeline(&f->j, text);
  r = jh_test_jobhost_report(&f->j, 0, "run", f->j.pipeline, "--task", "b",
                             NULL);
  jh_test_assert_task(
      r, "b", "Skipped",
      "parent a is not among the selected steps and has no result "
      "in this job");
  json_decref(r);

  snprintf(text, sizeof(text), yaml, "false");
  jh_test_jobhost_pipeline(&f->j, text);
  assert_int_equal(jh_test_jobhost_run(&f->j, NULL, NULL, "run", f->j.pipeline,
                                       "--to", "a", NULL),
                   0);
  r = jh_test_jobhost_report(&f->j, 0, "run", f->j.pipeline, "--from", "b",
                             NULL);
  jh_test_assert_task(r, "b", "Skipped", "(instance 2) produced no output");
  json_decref(r);

  snprintf(text, sizeof(text), yaml, "true");
  jh_test_jobhost_pipeline(&f->j, text);
  assert_int_equal(jh_test_jobhost_run(&f->j, NULL, NULL, "run", f->j.pipeline,
                                       "--task", "a", NULL),
                   0);
  r = jh_test_jobhost_report(&f->j, 0, "run", f->j.pipeline, "--task", "b",
                             NULL);
  jh_test_assert_task(r, "b", "Succeeded", NULL);
  json_decref(r);
}

/* resume --from: the Blocked task is validated, then only the selected
 * tasks run, judged on their parents' last results (NotStarted here). */
static void test_resume_takes_a_selection(void **state) {
  fixture *f = *state;
  json_t *r;
  char inst[32];
  jh_test_jobhost_pipeline(
      &f->j, TASKS "    - {id: sync, type: TestBlockTask}\n"
                   "    - {id: a, type: TestSucceedTask}\n"
                   "    - {id: b, type: TestSucceedTask, depends_on: [a]}\n"
                   "    - {id: c, type: TestSucceedTask}\n");
  r = jh_test_jobhost_report(&f->j, 3, "run", f->j.pipeline, NULL);
  jh_test_report_instance(r, inst, sizeof(inst));
  json_decref(r);

  r = jh_test_jobhost_report(&f->j, 0, "resume", inst, "--from", "b", NULL);
  jh_test_assert_job_state(r, "Succeeded");
  jh_test_assert_task(r, "sync", "Succeeded", "forced");
  jh_test_assert_task(r, "b", "Skipped",
                      "its last result in this job (instance 1) "
                      "is NotStarted");
  jh_test_assert_task(r, "c", "Succeeded", NULL);
  assert_int_equal(json_array_size(json_object_get(r, "tasks")), 3);
  json_decref(r);
  { /* the steps given to resume are the instance's now */
    jh_store *s = NULL;
    jh_job_row job;
    int64_t id = newest_instance(f, &s);
    assert_int_equal(jh_store_job_get(s, id, &job), 0);
    assert_null(job.select_task);
    assert_string_equal(job.select_from, "b");
    jh_job_row_clear(&job);
    jh_store_close(s);
  }
}

static pid_t spawn_jobhost_with(fixture *f, const char *cmd, const char *target,
                                const char *extra1, const char *extra2) {
  const char *const args[] = {target, extra1, extra2, NULL};
  const char *argv[20];
  pid_t pid;
  jh_test_jobhost_argv(&f->j, argv, 20, cmd, args);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char out[400];
    int fd;
    snprintf(out, sizeof(out), "%s/host.out", f->j.dir);
    fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
      fd = open("/dev/null", O_RDWR);
    dup2(fd, 1);
    dup2(fd, 2);
    close_range(3, ~0U, 0);
    setpgid(0, 0);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  f->spawned = pid;
  return pid;
}

/* The newest instance's id. */
static int64_t newest_instance_id(const fixture *f) {
  jh_store *s = NULL;
  int64_t id = newest_instance(f, &s);
  jh_store_close(s);
  return id;
}

static pid_t spawn_jobhost(fixture *f, const char *cmd, const char *target) {
  return spawn_jobhost_with(f, cmd, target, NULL, NULL);
}

/* Whether the host started by spawn_jobhost has ended (it is not reaped:
 * a later wait_exit still gets its status). */
static int host_ended(const fixture *f) {
  siginfo_t info;
  if (f->spawned <= 0)
    return 0;
  memset(&info, 0, sizeof(info));
  return waitid(P_PID, (id_t)f->spawned, &info, WEXITED | WNOHANG | WNOWAIT) ==
             0 &&
         info.si_pid == f->spawned;
}

/* Fail, with what the host printed, because it ended while a wait
 * expected it to go on. */
static void fail_host_ended(const fixture *f, const char *waiting_for) {
  char out[400], text[4096];
  FILE *fp;
  size_t n = 0;

  snprintf(out, sizeof(out), "%s/host.out", f->j.dir);
  if ((fp = fopen(out, "r")) != NULL) {
    n = fread(text, 1, sizeof(text) - 1, fp);
    fclose(fp);
  }
  text[n] = '\0';
  fail_msg("waiting for %s, the host ended; it said:\n%s", waiting_for, text);
}

/* Wait until the newest instance has a task `id` in state `want`. */
static int64_t wait_task_state(const fixture *f, const char *id,
                               jh_state want) {
  char path[400], err[256];
  snprintf(path, sizeof(path), "%s/jobhost.db", f->j.home);
  for (int tries = 0; tries < WAIT_TRIES; tries++) {
    jh_store *s = NULL;
    struct stat st;
    /* looked at before reading: what an ended host wrote is then seen */
    int ended = host_ended(f);
    if (stat(path, &st) == 0 &&
        jh_store_open(path, &s, err, sizeof(err)) == 0) {
      jh_job_row *jobs = NULL;
      size_t nj = 0;
      if (jh_store_job_list(s, NULL, 1, &jobs, &nj) == 0 && nj == 1) {
        jh_task_row *rows = NULL;
        size_t n = 0;
        int64_t inst = jobs[0].instance;
        if (jh_store_task_list(s, inst, &rows, &n) == 0)
          for (size_t i = 0; i < n; i++)
            if (strcmp(rows[i].task_id, id) == 0 && rows[i].state == want) {
              jh_task_rows_free(rows, n);
              jh_job_rows_free(jobs, nj);
              jh_store_close(s);
              return inst;
            }
        jh_task_rows_free(rows, n);
      }
      jh_job_rows_free(jobs, nj);
      jh_store_close(s);
    }
    if (ended)
      fail_host_ended(f, id);
    usleep(50000);
  }
  fail_msg("task %s never was %s", id, jh_state_name(want));
  return 0;
}

/* Wait until the newest instance has a task `id` Running. */
static int64_t wait_running(const fixture *f, const char *id) {
  return wait_task_state(f, id, JH_STATE_RUNNING);
}

static int wait_exit(pid_t pid) {
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Behaviour 7, and the one-instance rule: a second start is refused while
 * the job runs; `jobhost cancel --now` ends it Cancelled, stopping the
 * running task, and nothing new starts. */
static void test_second_start_and_cancel(void **state) {
  fixture *f = *state;
  char inst[32], *err = NULL;
  int64_t id;
  json_t *r;
  pid_t pid;

  jh_test_jobhost_pipeline(&f->j, TASKS
                           "    - {id: long, type: TestSleepTask, ms: 20000}\n"
                           "    - {id: never, type: TestSucceedTask}\n");
  pid = spawn_jobhost(f, "run", f->j.pipeline);
  id = wait_running(f, "long");
  snprintf(inst, sizeof(inst), "%lld", (long long)id);

  assert_int_equal(
      jh_test_jobhost_run(&f->j, NULL, &err, "run", f->j.pipeline, NULL), 1);
  assert_non_null(strstr(err, "already running as instance"));
  assert_non_null(strstr(err, inst));
  free(err);

  assert_int_equal(
      jh_test_jobhost_run(&f->j, NULL, NULL, "cancel", inst, "--now", NULL), 0);
  assert_int_equal(wait_exit(pid), 5);
  r = jh_test_report_load(f->j.report);
  jh_test_assert_job_state(r, "Cancelled");
  jh_test_assert_task(r, "long", "Cancelled", "cancelled after");
  jh_test_assert_task(r, "never", "NotStarted",
                      "cancelled before the task started");
  json_decref(r);
}

/* The state of task `id` in the newest instance's rows (its last row)
 * into *state, and its message into msg. Returns 0, or nonzero when the
 * store cannot be read now (a running host may hold it). */
static int read_stored_state(const fixture *f, const char *id, jh_state *state,
                             char *msg, size_t size) {
  char path[400], err[256];
  jh_store *s = NULL;
  jh_job_row *jobs = NULL;
  jh_task_row *rows = NULL;
  size_t nj = 0, n = 0;
  int rc;

  *state = JH_STATE_INTERRUPTED;
  snprintf(path, sizeof(path), "%s/jobhost.db", f->j.home);
  if (jh_store_open(path, &s, err, sizeof(err)) != 0)
    return -1;
  rc = jh_store_job_list(s, NULL, 1, &jobs, &nj);
  if (rc == 0 && nj == 1)
    rc = jh_store_task_list(s, jobs[0].instance, &rows, &n);
  for (size_t i = 0; rc == 0 && i < n; i++)
    if (strcmp(rows[i].task_id, id) == 0) {
      *state = rows[i].state;
      if (msg != NULL)
        snprintf(msg, size, "%s", rows[i].message ? rows[i].message : "");
    }
  jh_task_rows_free(rows, n);
  jh_job_rows_free(jobs, nj);
  jh_store_close(s);
  return rc != 0 || nj != 1;
}

static jh_state stored_state(const fixture *f, const char *id, char *msg,
                             size_t size) {
  jh_state state;
  assert_int_equal(read_stored_state(f, id, &state, msg, size), 0);
  return state;
}

/* Wait until the newest instance's row of task `id` has a message holding
 * `part` (a task's progress while it runs, a retry's note...). */
static void wait_message(const fixture *f, const char *id, const char *part) {
  char msg[1024];
  for (int tries = 0; tries < WAIT_TRIES; tries++) {
    jh_state state;
    msg[0] = '\0';
    if (read_stored_state(f, id, &state, msg, sizeof(msg)) == 0 &&
        strstr(msg, part) != NULL)
      return;
    usleep(50000);
  }
  fail_msg("task %s: message '%s' never held '%s'", id, msg, part);
}

/* Wait until file `path` exists and holds `part`. */
static void wait_file_text(const char *path, const char *part) {
  char text[8192];
  for (int tries = 0; tries < WAIT_TRIES; tries++) {
    FILE *fp = fopen(path, "r");
    if (fp != NULL) {
      size_t n = fread(text, 1, sizeof(text) - 1, fp);
      text[n] = '\0';
      fclose(fp);
      if (strstr(text, part) != NULL)
        return;
    }
    usleep(50000);
  }
  fail_msg("%s never held '%s'", path, part);
}

/* Wait until the host started by spawn_jobhost has printed `part`. */
static void wait_host_said(const fixture *f, const char *part) {
  char out[400];
  snprintf(out, sizeof(out), "%s/host.out", f->j.dir);
  wait_file_text(out, part);
}

/* A job of a task that sleeps until a file appears (its path in release),
 * then a task that a cancel keeps from starting. */
static void write_long_task(fixture *f, char *release, size_t size) {
  char yaml[1024];
  snprintf(release, size, "%s/release", f->j.dir);
  unlink(release);
  snprintf(yaml, sizeof(yaml),
           TASKS "    - {id: long, type: TestSleepTask, ms: 120000, "
                 "release_file: %s}\n"
                 "    - {id: never, type: TestSucceedTask}\n",
           release);
  jh_test_jobhost_pipeline(&f->j, yaml);
}

/* Behaviour 7 as Identity Manager has it: a cancel ends the job Cancelled,
 * lets the running task finish with its own result and starts nothing
 * more (NotStarted); the report and the store agree. */
static void test_cancel_lets_running_tasks_finish(void **state) {
  fixture *f = *state;
  char inst[32], release[300];
  json_t *r;
  pid_t pid;

  write_long_task(f, release, sizeof(release));
  pid = spawn_jobhost(f, "run", f->j.pipeline);
  snprintf(inst, sizeof(inst), "%lld", (long long)wait_running(f, "long"));
  assert_int_equal(jh_test_jobhost_run(&f->j, NULL, NULL, "cancel", inst, NULL),
                   0);
  /* The host took the cancel; the task goes on until released. */
  wait_host_said(f, "cancel requested: the job ends Cancelled");
  jh_test_write_file(release, "", 0644);
  assert_int_equal(wait_exit(pid), 5);
  r = jh_test_report_load(f->j.report);
  jh_test_assert_job_state(r, "Cancelled");
  jh_test_assert_task(r, "long", "Succeeded", "released after");
  jh_test_assert_task(r, "never", "NotStarted",
                      "cancelled before the task started");
  json_decref(r);
  assert_int_equal(stored_state(f, "long", NULL, 0), JH_STATE_SUCCEEDED);
  assert_int_equal(stored_state(f, "never", NULL, 0), JH_STATE_NOT_STARTED);

  /* Resumed, the instance runs what the cancel kept from starting, and
   * only that (doc/jobs.md). */
  r = jh_test_jobhost_report(&f->j, 0, "resume", inst, NULL);
  jh_test_assert_job_state(r, "Succeeded");
  jh_test_assert_task(r, "long", "Succeeded", "released after");
  assert_int_equal(jh_test_task_int(r, "long", "attempts"), 1);
  jh_test_assert_task(r, "never", "Succeeded", NULL);
  json_decref(r);
}

/* SIGHUP is a cancel like SIGINT and SIGTERM: the first lets the running
 * task finish; a second signal stops it. */
static void test_hangup_and_second_signal(void **state) {
  fixture *f = *state;
  char release[300];
  json_t *r;
  pid_t pid;

  write_long_task(f, release, sizeof(release));
  pid = spawn_jobhost(f, "run", f->j.pipeline);
  (void)wait_running(f, "long");
  assert_int_equal(kill(pid, SIGHUP), 0);
  wait_host_said(f, "cancel requested: the job ends Cancelled");
  jh_test_write_file(release, "", 0644);
  assert_int_equal(wait_exit(pid), 5);
  r = jh_test_report_load(f->j.report);
  jh_test_assert_job_state(r, "Cancelled");
  jh_test_assert_task(r, "long", "Succeeded", NULL);
  jh_test_assert_task(r, "never", "NotStarted", NULL);
  json_decref(r);

  jh_test_jobhost_pipeline(&f->j, TASKS
                           "    - {id: long, type: TestSleepTask, ms: 60000}\n"
                           "    - {id: never, type: TestSucceedTask}\n");
  pid = spawn_jobhost(f, "run", f->j.pipeline);
  (void)wait_running(f, "long");
  assert_int_equal(kill(pid, SIGHUP), 0);
  usleep(300000);
  assert_int_equal(kill(pid, SIGTERM), 0);
  assert_int_equal(wait_exit(pid), 5);
  r = jh_test_report_load(f->j.report);
  jh_test_assert_job_state(r, "Cancelled");
  jh_test_assert_task(r, "long", "Cancelled", "cancelled after");
  json_decref(r);
}

/* A task that committed its changes is Succeeded, whatever the cancel
 * does after: its own result when it ends in time, and also when the
 * grace period runs out and it is killed. */
static void test_cancel_after_commit(void **state) {
  fixture *f = *state;
  char inst[32], log[512], yaml[1024], release[300];
  json_t *r;
  pid_t pid;
  int64_t id;

  snprintf(release, sizeof(release), "%s/release", f->j.dir);
  snprintf(yaml, sizeof(yaml),
           TASKS "    - {id: sync, type: TestCommitTask, after_ms: 120000, "
                 "release_file: %s}\n"
                 "    - {id: never, type: TestSucceedTask}\n",
           release);
  jh_test_jobhost_pipeline(&f->j, yaml);
  /* A grace period longer than what the task does after its commit. */
  pid = spawn_jobhost_with(f, "run", f->j.pipeline, "--grace", "20s");
  id = wait_running(f, "sync");
  snprintf(inst, sizeof(inst), "%lld", (long long)id);
  snprintf(log, sizeof(log), "%s/Temp/JobLogs/%lld-sync-1.log", f->j.home,
           (long long)id);
  wait_file_text(log, "committed");
  assert_int_equal(
      jh_test_jobhost_run(&f->j, NULL, NULL, "cancel", inst, "--now", NULL), 0);
  /* The task saw the cancel flag after its commit, and goes on. */
  wait_file_text(log, "cancel seen after the commit");
  jh_test_write_file(release, "", 0644);
  assert_int_equal(wait_exit(pid), 5);
  r = jh_test_report_load(f->j.report);
  jh_test_assert_job_state(r, "Cancelled");
  jh_test_assert_task(r, "sync", "Succeeded", "the cancel came too late");
  jh_test_assert_task(r, "never", "NotStarted", NULL);
  json_decref(r);

  /* Deaf to SIGTERM after its commit: killed after the grace period. */
  jh_test_jobhost_pipeline(
      &f->j, TASKS "    - {id: sync, type: TestCommitTask, after_ms: 60000, "
                   "ignore_term: true}\n");
  pid = spawn_jobhost(f, "run", f->j.pipeline);
  id = wait_running(f, "sync");
  snprintf(inst, sizeof(inst), "%lld", (long long)id);
  snprintf(log, sizeof(log), "%s/Temp/JobLogs/%lld-sync-1.log", f->j.home,
           (long long)id);
  wait_file_text(log, "committed");
  assert_int_equal(
      jh_test_jobhost_run(&f->j, NULL, NULL, "cancel", inst, "--now", NULL), 0);
  assert_int_equal(wait_exit(pid), 5);
  r = jh_test_report_load(f->j.report);
  jh_test_assert_task(r, "sync", "Succeeded",
                      "its changes were committed; then "
                      "stopped by the cancel (killed");
  json_decref(r);
  assert_int_equal(stored_state(f, "sync", NULL, 0), JH_STATE_SUCCEEDED);
}

/* A cancel while a task waits for its retry: the task is Cancelled, in
 * the report and in the store alike. */
static void test_cancel_while_waiting_for_retry(void **state) {
  fixture *f = *state;
  char yaml[1024], inst[32], msg[1024];
  json_t *r;
  pid_t pid;

  snprintf(yaml, sizeof(yaml),
           TASKS
           "    - {id: flaky, type: TestFlakyTask, fail_times: 5, retries: 3, "
           "retry_delay: 60s, state_file: %s/flaky.count}\n"
           "    - {id: never, type: TestSucceedTask}\n",
           f->j.dir);
  jh_test_jobhost_pipeline(&f->j, yaml);
  pid = spawn_jobhost(f, "run", f->j.pipeline);
  wait_message(f, "flaky", "retrying in");
  snprintf(inst, sizeof(inst), "%lld", (long long)newest_instance_id(f));
  assert_int_equal(jh_test_jobhost_run(&f->j, NULL, NULL, "cancel", inst, NULL),
                   0);
  assert_int_equal(wait_exit(pid), 5);
  r = jh_test_report_load(f->j.report);
  jh_test_assert_job_state(r, "Cancelled");
  jh_test_assert_task(r, "flaky", "Cancelled", "waited for a retry");
  jh_test_assert_task(r, "never", "NotStarted", NULL);
  json_decref(r);
  assert_int_equal(stored_state(f, "flaky", msg, sizeof(msg)),
                   JH_STATE_CANCELLED);
  assert_non_null(strstr(msg, "waited for a retry"));
}

/* While a task runs, its progress and counters are in the store, and
 * `jobhost show` prints them. */
static void test_progress_while_running(void **state) {
  fixture *f = *state;
  char inst[32];
  pid_t pid;

  jh_test_jobhost_pipeline(
      &f->j, TASKS "    - {id: long, type: TestSleepTask, ms: 60000}\n");
  pid = spawn_jobhost(f, "run", f->j.pipeline);
  snprintf(inst, sizeof(inst), "%lld", (long long)wait_running(f, "long"));
  wait_message(f, "long", "running: ");
  {
    char *out = NULL;
    assert_int_equal(jh_test_jobhost_run(&f->j, &out, NULL, "show", inst, NULL),
                     0);
    assert_non_null(strstr(out, "message   running: "));
    assert_non_null(strstr(out, "of 60000"));
    free(out);
  }
  /* Two different signals: two of one kind may arrive as one. */
  assert_int_equal(kill(pid, SIGTERM), 0);
  usleep(100000);
  assert_int_equal(kill(pid, SIGINT), 0);
  assert_int_equal(wait_exit(pid), 5);
}

/* A task log stops growing at its cap, with a note there, and the dropped
 * lines are counted at the end. */
static void test_task_log_cap(void **state) {
  fixture *f = *state;
  char path[512], *text, *err = NULL;
  struct stat st;
  FILE *fp;
  int64_t id;
  jh_store *s = NULL;

  jh_test_jobhost_pipeline(&f->j, TASKS
                           "    - {id: spam, type: TestSpamTask, lines: 5000, "
                           "line_bytes: 100}\n");
  assert_int_equal(setenv("JOBHOST_TASK_LOG_MAX_BYTES", "100000", 1), 0);
  assert_int_equal(
      jh_test_jobhost_run(&f->j, NULL, &err, "run", f->j.pipeline, NULL), 0);
  assert_int_equal(unsetenv("JOBHOST_TASK_LOG_MAX_BYTES"), 0);
  free(err);
  id = newest_instance(f, &s);
  jh_store_close(s);
  snprintf(path, sizeof(path), "%s/Temp/JobLogs/%lld-spam-1.log", f->j.home,
           (long long)id);
  assert_int_equal(stat(path, &st), 0);
  assert_true(st.st_size <= 100000 + 1024);
  text = calloc(1, (size_t)st.st_size + 1);
  fp = fopen(path, "r");
  assert_non_null(fp);
  assert_int_equal(fread(text, 1, (size_t)st.st_size, fp), st.st_size);
  fclose(fp);
  assert_non_null(strstr(text, "# the log reached its cap of 100000 bytes"));
  assert_non_null(strstr(text, " lines ("));
  assert_non_null(strstr(text, "dropped beyond the log cap"));
  assert_null(strstr(text, "line 5000 x"));
  free(text);
}

/* The fork server dies in the middle of a job: the host says so, starts
 * another one, and the tasks after it run. */
static pid_t child_of(pid_t parent) {
  for (int tries = 0; tries < WAIT_TRIES; tries++) {
    char path[64], line[512];
    FILE *fp;
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)parent,
             (int)parent);
    fp = fopen(path, "r");
    if (fp != NULL) {
      int pid = 0;
      int got = fgets(line, sizeof(line), fp) != NULL &&
                sscanf(line, "%d", &pid) == 1;
      fclose(fp);
      if (got && pid > 0)
        return (pid_t)pid;
    }
    usleep(50000);
  }
  fail_msg("process %d has no child", (int)parent);
  return 0;
}

static void test_fork_server_death(void **state) {
  fixture *f = *state;
  char yaml[1024], release[300];
  json_t *r;
  pid_t pid, server;
  jh_store *s = NULL;
  jh_job_row row;

  snprintf(release, sizeof(release), "%s/release", f->j.dir);
  snprintf(yaml, sizeof(yaml),
           TASKS "    - {id: first, type: TestSleepTask, ms: 120000, "
                 "release_file: %s, retries: 1, retry_delay: 10ms, level: 0}\n"
                 "    - {id: second, type: TestSucceedTask, level: 1}\n"
                 "    - {id: third, type: TestSucceedTask, level: 2}\n",
           release);
  jh_test_jobhost_pipeline(&f->j, yaml);
  pid = spawn_jobhost(f, "run", f->j.pipeline);
  (void)wait_running(f, "first");
  server = child_of(pid);
  assert_int_equal(kill(server, SIGKILL), 0);
  /* Its worker died with it; the retry, by a new one, finds the file. */
  wait_host_said(f, "died (killed by signal 9");
  jh_test_write_file(release, "", 0644);
  assert_int_equal(wait_exit(pid), 0);
  r = jh_test_report_load(f->j.report);
  jh_test_assert_job_state(r, "Succeeded");
  jh_test_assert_task(r, "first", "Succeeded", NULL);
  assert_int_equal(jh_test_task_int(r, "first", "attempts"), 2);
  jh_test_assert_task(r, "second", "Succeeded", NULL);
  jh_test_assert_task(r, "third", "Succeeded", NULL);
  json_decref(r);
  assert_int_equal(stored_state(f, "first", NULL, 0), JH_STATE_SUCCEEDED);
  {
    int64_t id = newest_instance(f, &s);
    assert_int_equal(jh_store_job_get(s, id, &row), 0);
    assert_non_null(row.message);
    assert_non_null(strstr(row.message, "the fork server died 1 time and was "
                                        "started again"));
    jh_job_row_clear(&row);
    jh_store_close(s);
  }
}

/* A host killed with SIGKILL leaves an Interrupted instance that resume
 * finishes. */
static void test_killed_host_then_resume(void **state) {
  fixture *f = *state;
  char inst[32];
  int64_t id;
  json_t *r;
  pid_t pid;

  jh_test_jobhost_pipeline(&f->j, TASKS
                           "    - {id: first, type: TestSucceedTask}\n"
                           "    - {id: slow, type: TestSleepTask, ms: 20000}\n"
                           "    - {id: last, type: TestSucceedTask}\n");
  pid = spawn_jobhost(f, "run", f->j.pipeline);
  id = wait_running(f, "slow");
  assert_int_equal(kill(pid, SIGKILL), 0);
  assert_int_equal(wait_exit(pid), 128 + SIGKILL);
  snprintf(inst, sizeof(inst), "%lld", (long long)id);
  {
    char *out = NULL;
    assert_int_equal(jh_test_jobhost_run(&f->j, &out, NULL, "history", NULL),
                     0);
    assert_non_null(strstr(out, "Interrupted"));
    free(out);
  }
  /* The slow task's worker died with its host: make it quick this time. */
  jh_test_jobhost_pipeline(&f->j, TASKS
                           "    - {id: first, type: TestSucceedTask}\n"
                           "    - {id: slow, type: TestSleepTask, ms: 10}\n"
                           "    - {id: last, type: TestSucceedTask}\n");
  r = jh_test_jobhost_report(&f->j, 0, "resume", inst, NULL);
  jh_test_assert_job_state(r, "Succeeded");
  jh_test_assert_task(r, "first", "Succeeded", NULL);
  assert_int_equal(jh_test_task_int(r, "first", "attempts"),
                   1); /* not run again */
  jh_test_assert_task(r, "slow", "Succeeded", NULL);
  jh_test_assert_task(r, "last", "Succeeded", NULL);
  json_decref(r);
}

/* A host killed after a task ended in Error: resume finds the Error and
 * starts nothing new; the instance ends in Error. */
static void test_interrupted_after_error_stays_error(void **state) {
  static const char yaml[] = TASKS
      "    - {id: bad, type: TestFailTask, message: boom, level: 0}\n"
      "    - {id: slow, type: TestSleepTask, ms: %d, level: 0}\n"
      "    - {id: last, type: TestSucceedTask, level: 1}\n";
  fixture *f = *state;
  char text[512], inst[32];
  int64_t id;
  json_t *r;
  pid_t pid;

  snprintf(text, sizeof(text), yaml, 20000);
  jh_test_jobhost_pipeline(&f->j, text);
  pid = spawn_jobhost(f, "run", f->j.pipeline);
  wait_running(f, "slow");
  id = wait_task_state(f, "bad", JH_STATE_ERROR);
  assert_int_equal(kill(pid, SIGKILL), 0);
  assert_int_equal(wait_exit(pid), 128 + SIGKILL);
  snprintf(inst, sizeof(inst), "%lld", (long long)id);
  snprintf(text, sizeof(text), yaml, 10);
  jh_test_jobhost_pipeline(&f->j, text);
  r = jh_test_jobhost_report(&f->j, 1, "resume", inst, NULL);
  jh_test_assert_job_state(r, "Error");
  jh_test_assert_task(r, "bad", "Error", "boom");
  jh_test_assert_task(r, "slow", "NotStarted",
                      "the job stopped when bad ended");
  jh_test_assert_task(r, "last", "NotStarted", NULL);
  json_decref(r);
}

static void test_selection_steps_and_isolation(void **state) {
  fixture *f = *state;
  char *out = NULL, *err = NULL;
  json_t *r;

  jh_test_jobhost_pipeline(
      &f->j, TASKS "    - {id: a, type: TestSucceedTask}\n"
                   "    - {id: b, type: TestSucceedTask, depends_on: [a]}\n"
                   "    - {id: c, type: TestSucceedTask}\n"
                   "    - {id: d, type: TestSucceedTask}\n");
  /* b's parent a, outside the selection, Succeeded in the job's last run */
  assert_int_equal(
      jh_test_jobhost_run(&f->j, NULL, NULL, "run", f->j.pipeline, NULL), 0);
  r = jh_test_jobhost_report(&f->j, 0, "run", f->j.pipeline, "--task", "b",
                             NULL);
  assert_int_equal(json_array_size(json_object_get(r, "tasks")), 1);
  jh_test_assert_task(r, "b", "Succeeded", NULL);
  json_decref(r);

  r = jh_test_jobhost_report(&f->j, 0, "run", f->j.pipeline, "--from", "b",
                             NULL);
  assert_int_equal(json_array_size(json_object_get(r, "tasks")), 3);
  json_decref(r);

  assert_int_equal(jh_test_jobhost_run(&f->j, NULL, &err, "run", f->j.pipeline,
                                       "--to", "nope", NULL),
                   2);
  assert_non_null(strstr(err, "--to nope: no such task"));
  free(err);

  assert_int_equal(
      jh_test_jobhost_run(&f->j, &out, &err, "steps", f->j.pipeline, NULL), 0);
  assert_non_null(strstr(out, "Order 3: d (TestSucceedTask)"));
  free(out);
  free(err);

  r = jh_test_jobhost_report(&f->j, 0, "run", f->j.pipeline, "--isolation",
                             "none", NULL);
  jh_test_assert_job_state(r, "Succeeded");
  assert_int_equal(json_array_size(json_object_get(r, "tasks")), 4);
  json_decref(r);
}

/* On a terminal, progress is a status line redrawn in place; the summary
 * follows. */
static void test_live_progress_on_a_terminal(void **state) {
  fixture *f = *state;
  const char *const args[] = {f->j.pipeline, NULL};
  const char *argv[20];
  char buf[65536];
  size_t len = 0;
  int master, status;
  pid_t pid;

  jh_test_jobhost_pipeline(&f->j, TASKS
                           "    - {id: nap, type: TestSleepTask, ms: 1500}\n");
  jh_test_jobhost_argv(&f->j, argv, 20, "run", args);
  pid = forkpty(&master, NULL, NULL, NULL);
  assert_true(pid >= 0);
  if (pid == 0) {
    close_range(3, ~0U, 0);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  for (;;) {
    ssize_t n = read(master, buf + len, sizeof(buf) - 1 - len);
    if (n <= 0)
      break; /* EIO once the child has closed the terminal */
    len += (size_t)n;
    if (len == sizeof(buf) - 1)
      break;
  }
  buf[len] = '\0';
  close(master);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_non_null(strstr(buf, "\r\033[K[0/1] nap")); /* the live line */
  assert_non_null(strstr(buf, "job J, instance"));
  assert_non_null(strstr(buf, "Succeeded"));
}

/* The export table writer and the cookie: published whole when the task
 * succeeds, not at all when it fails. */
static void test_export_tables_and_cookie(void **state) {
  fixture *f = *state;
  char path[600], cookie[600], text[256];
  const jh_csv_options with_header = {.separator = ',', .header = 1};
  const jh_csv_record *rec;
  jh_csv_reader *rd = NULL;
  size_t nrec = 0;

  jh_test_jobhost_pipeline(&f->j, TASKS
                           "    - {id: exp, type: TestExportTask, rows: 3, "
                           "connection: C1}\n");
  assert_int_equal(
      jh_test_jobhost_run(&f->j, NULL, NULL, "run", f->j.pipeline, NULL), 0);
  snprintf(path, sizeof(path), "%s/Temp/ExportOutput/test_entries.csv",
           f->j.home);
  snprintf(cookie, sizeof(cookie), "%s/Work/ExportCookies/C1.cookie",
           f->j.home);
  assert_int_equal(
      jh_csv_reader_open(path, &with_header, &rd, text, sizeof(text)), 0);
  assert_string_equal(jh_csv_reader_header(rd)->fields[0], "id");
  while (jh_csv_read(rd, &rec) == 1) {
    char want[64];
    snprintf(want, sizeof(want), "Doe, \"J\"\nrow %zu", nrec);
    assert_int_equal(jh_csv_record_nfields(rec), 2);
    assert_string_equal(rec->fields[1], want);
    nrec++;
  }
  jh_csv_reader_close(rd);
  assert_int_equal(nrec, 3);
  read_text(cookie, text, sizeof(text));
  assert_string_equal(text, "rows=3");

  /* A failing export publishes nothing: the last good table and cookie
   * stay as they were. */
  jh_test_jobhost_pipeline(&f->j, TASKS
                           "    - {id: exp, type: TestExportTask, rows: 5, "
                           "fail_after: 2, connection: C1}\n");
  assert_int_equal(
      jh_test_jobhost_run(&f->j, NULL, NULL, "run", f->j.pipeline, NULL), 1);
  assert_int_equal(
      jh_csv_reader_open(path, &with_header, &rd, text, sizeof(text)), 0);
  nrec = 0;
  while (jh_csv_read(rd, &rec) == 1)
    nrec++;
  jh_csv_reader_close(rd);
  assert_int_equal(nrec, 3);
  read_text(cookie, text, sizeof(text));
  assert_string_equal(text, "rows=3");
}

static void test_invalid_pipeline_runs_nothing(void **state) {
  fixture *f = *state;
  char *err = NULL;
  struct stat st;
  jh_test_jobhost_pipeline(
      &f->j, TASKS "    - {id: a, type: TestSucceedTask, bogus_key: 1}\n");
  assert_int_equal(
      jh_test_jobhost_run(&f->j, NULL, &err, "run", f->j.pipeline, NULL), 2);
  assert_non_null(strstr(err, "pipeline.yaml:5:"));
  assert_non_null(strstr(err, "nothing was run"));
  free(err);
  assert_int_not_equal(stat(f->j.home, &st), 0); /* no home, no store */
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_seed_shape_succeeds),
      T(test_continue_on_error_and_warning_parent),
      T(test_no_output_skips_children),
      T(test_untolerated_error_stops_job),
      T(test_levels_and_max_parallel),
      T(test_task_instances_and_logs),
      T(test_crashes_and_hangs),
      T(test_unflushed_stdout_logged),
      T(test_retries),
      T(test_blocked_then_resume),
      T(test_error_outranks_blocked),
      T(test_level_overflow),
      T(test_undeclared_block_is_an_error),
      T(test_dirty_tasks_need_the_flags_set),
      T(test_dirty_task_waits_for_the_marker),
      T(test_selection_respects_links),
      T(test_resume_takes_a_selection),
      T(test_second_start_and_cancel),
      T(test_cancel_lets_running_tasks_finish),
      T(test_hangup_and_second_signal),
      T(test_cancel_after_commit),
      T(test_cancel_while_waiting_for_retry),
      T(test_progress_while_running),
      T(test_task_log_cap),
      T(test_fork_server_death),
      T(test_killed_host_then_resume),
      T(test_interrupted_after_error_stays_error),
      T(test_selection_steps_and_isolation),
      T(test_live_progress_on_a_terminal),
      T(test_export_tables_and_cookie),
      T(test_invalid_pipeline_runs_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
