/*
 * test_plan.c — the scheduling rules of plan.h, without running anything:
 * what a result code means for a task type, how a job ends, when a parent
 * or the dirty flags let a task start, and the launch groups of levels.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "plan.h"

/* ---- result codes ---- */

static void test_blocked_code_needs_the_flag(void **state) {
  char why[300];
  (void)state;
  assert_int_equal(jh_plan_result_state(JOBHOST_EBLOCKED, "SynchronizeTask",
                                        JOBHOST_TASK_CAN_BLOCK, why,
                                        sizeof(why)),
                   JH_STATE_BLOCKED);
  assert_string_equal(why, "");
  assert_int_equal(jh_plan_result_state(JOBHOST_EBLOCKED, "ExportTask",
                                        JOBHOST_TASK_AGENT_SIDE, why,
                                        sizeof(why)),
                   JH_STATE_ERROR);
  assert_non_null(strstr(why, "task type ExportTask is not declared able "
                              "to block"));
}

static void test_other_codes(void **state) {
  char why[300];
  (void)state;
  assert_int_equal(jh_plan_result_state(0, "T", 0, why, sizeof(why)),
                   JH_STATE_SUCCEEDED);
  assert_int_equal(jh_plan_result_state(JOBHOST_ECANCELLED, "T", 0, why,
                                        sizeof(why)),
                   JH_STATE_CANCELLED);
  assert_int_equal(jh_plan_result_state(-5, "T", JOBHOST_TASK_CAN_BLOCK, why,
                                        sizeof(why)),
                   JH_STATE_ERROR);
  assert_string_equal(why, "");
}

/* ---- job state ---- */

static jh_state job_of(size_t blocked, size_t error, size_t warning,
                       int cancelled, int store_failed) {
  jh_plan_tally t;
  memset(&t, 0, sizeof(t));
  t.count[JH_STATE_SUCCEEDED] = 2;
  t.count[JH_STATE_BLOCKED] = blocked;
  t.count[JH_STATE_ERROR] = error;
  t.count[JH_STATE_WARNING] = warning;
  return jh_plan_job_state(&t, cancelled, store_failed);
}

static void test_error_outranks_blocked(void **state) {
  (void)state;
  assert_int_equal(job_of(1, 1, 0, 0, 0), JH_STATE_ERROR);
  assert_int_equal(job_of(1, 0, 1, 0, 0), JH_STATE_BLOCKED);
  assert_int_equal(job_of(1, 0, 0, 0, 1), JH_STATE_ERROR);
  assert_int_equal(job_of(1, 1, 0, 1, 0), JH_STATE_CANCELLED);
  assert_int_equal(job_of(0, 0, 1, 0, 0), JH_STATE_WARNING);
  assert_int_equal(job_of(0, 0, 0, 0, 0), JH_STATE_SUCCEEDED);
}

/* ---- parents ---- */

static void test_parent_in_the_run(void **state) {
  char buf[300];
  jh_plan_parent p = {.id = "P", .selected = 1};
  (void)state;
  assert_string_equal(jh_plan_parent_verdict(&p, buf, sizeof(buf)),
                      "parent P did not run");
  p.ended = 1;
  p.state = JH_STATE_WARNING;
  assert_string_equal(jh_plan_parent_verdict(&p, buf, sizeof(buf)),
                      "parent P ended Warning");
  p.state = JH_STATE_SUCCEEDED;
  assert_string_equal(jh_plan_parent_verdict(&p, buf, sizeof(buf)),
                      "parent P produced no output");
  p.produced_output = 1;
  assert_null(jh_plan_parent_verdict(&p, buf, sizeof(buf)));
}

static void test_parent_outside_the_selection(void **state) {
  char buf[300];
  jh_plan_parent p = {.id = "P", .selected = 0};
  (void)state;
  assert_string_equal(jh_plan_parent_verdict(&p, buf, sizeof(buf)),
                      "parent P is not among the selected steps and has no "
                      "result in this job");
  p.ended = 1;
  p.instance = 7;
  p.state = JH_STATE_BLOCKED;
  assert_string_equal(jh_plan_parent_verdict(&p, buf, sizeof(buf)),
                      "parent P is not among the selected steps and its last "
                      "result in this job (instance 7) is Blocked");
  p.state = JH_STATE_SUCCEEDED;
  assert_non_null(
      strstr(jh_plan_parent_verdict(&p, buf, sizeof(buf)), "no output"));
  p.produced_output = 1;
  assert_null(jh_plan_parent_verdict(&p, buf, sizeof(buf)));
}

/* ---- dirty tasks ---- */

static void test_dirty_needs_a_marker_that_succeeded(void **state) {
  char buf[300];
  jh_plan_marker m = {0};
  (void)state;
  assert_null(jh_plan_dirty_verdict(0, &m, buf, sizeof(buf)));
  assert_non_null(strstr(jh_plan_dirty_verdict(1, &m, buf, sizeof(buf)),
                         "the job has no task that flags resources dirty"));
  m.id = "MarkDirty";
  m.type = "SetRecentlyModifiedFlagTask";
  assert_string_equal(jh_plan_dirty_verdict(1, &m, buf, sizeof(buf)),
                      "dirty: MarkDirty (SetRecentlyModifiedFlagTask) is not "
                      "among the selected steps");
  m.selected = 1;
  assert_non_null(
      strstr(jh_plan_dirty_verdict(1, &m, buf, sizeof(buf)), "not ended"));
  m.ended = 1;
  m.state = JH_STATE_SKIPPED;
  assert_string_equal(jh_plan_dirty_verdict(1, &m, buf, sizeof(buf)),
                      "dirty: MarkDirty (SetRecentlyModifiedFlagTask) ended "
                      "Skipped");
  m.state = JH_STATE_SUCCEEDED;
  assert_null(jh_plan_dirty_verdict(1, &m, buf, sizeof(buf)));
}

/* ---- launch groups ---- */

/* Five tasks on level 0, one on level 1, max_parallel 2: `steps` prints
 * Orders 0 0 1 1 2 3. */
static void test_groups_follow_steps(void **state) {
  jh_pipeline p;
  jh_graph g;
  int level[6] = {0, 0, 0, 0, 0, 1};
  size_t steps[6] = {0, 1, 2, 3, 4, 5};
  size_t order[6] = {0, 0, 1, 1, 2, 3};
  size_t want_levels[6] = {0, 0, 1, 1, 2, 3};
  size_t want_window[6] = {0, 0, 0, 0, 0, 1};
  (void)state;
  memset(&p, 0, sizeof(p));
  memset(&g, 0, sizeof(g));
  p.max_parallel = 2;
  g.pipeline = &p;
  g.n = 6;
  g.level = level;
  g.nlevels = 2;
  g.steps = steps;
  g.step_order = order;
  p.level_overflow = JH_OVERFLOW_LEVELS;
  for (size_t k = 0; k < 6; k++)
    assert_int_equal(jh_plan_group(&g, k), want_levels[k]);
  p.level_overflow = JH_OVERFLOW_WINDOW;
  for (size_t k = 0; k < 6; k++)
    assert_int_equal(jh_plan_group(&g, k), want_window[k]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_blocked_code_needs_the_flag),
      cmocka_unit_test(test_other_codes),
      cmocka_unit_test(test_error_outranks_blocked),
      cmocka_unit_test(test_parent_in_the_run),
      cmocka_unit_test(test_parent_outside_the_selection),
      cmocka_unit_test(test_dirty_needs_a_marker_that_succeeded),
      cmocka_unit_test(test_groups_follow_steps),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
