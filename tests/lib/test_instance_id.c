/*
 * test_instance_id.c — job instance ids parse only as positive decimal
 * numbers; a task file's name gives back the instance it starts with;
 * task file paths make the task id safe; the change report takes the
 * place of the log's ".log".
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "instance_id.h"

static void test_parse(void **state) {
  static const char *const bad[] = {"",   "0",   "-3",
                                    "+3", " 3",  "3 ",
                                    "3a", "0x3", "99999999999999999999"};
  int64_t id;
  (void)state;
  assert_int_equal(jh_instance_parse("7", &id), 0);
  assert_int_equal(id, 7);
  assert_int_equal(jh_instance_parse("0012", &id), 0);
  assert_int_equal(id, 12);
  assert_int_equal(jh_instance_parse("9223372036854775807", &id), 0);
  assert_true(id == INT64_MAX);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    id = 42;
    assert_int_equal(jh_instance_parse(bad[i], &id), -EINVAL);
    assert_int_equal(id, 42);
  }
  assert_int_equal(jh_instance_parse(NULL, &id), -EINVAL);
}

static void test_of_name(void **state) {
  (void)state;
  assert_int_equal(jh_instance_of_name("12-Sync-1.log"), 12);
  assert_int_equal(jh_instance_of_name("/home/Temp/JobLogs/3-A-2.changes.csv"),
                   3);
  assert_int_equal(jh_instance_of_name("4-Export-1"), 4);
  assert_int_equal(jh_instance_of_name("12"), 0);
  assert_int_equal(jh_instance_of_name("0-A-1.log"), 0);
  assert_int_equal(jh_instance_of_name("x12-A-1.log"), 0);
  assert_int_equal(jh_instance_of_name("12/A-1.log"), 0);
  assert_int_equal(jh_instance_of_name(".12-A-1.log"), 0);
  assert_int_equal(jh_instance_of_name("-12-A"), 0);
  assert_int_equal(jh_instance_of_name(""), 0);
}

static void test_task_file_path(void **state) {
  char *p, id[300];
  (void)state;
  p = jh_task_file_path("/h/Temp/JobLogs", 12, "AD_Sync", 2, ".log");
  assert_non_null(p);
  assert_string_equal(p, "/h/Temp/JobLogs/12-AD_Sync-2.log");
  assert_int_equal(jh_instance_of_name(p), 12);
  free(p);
  p = jh_task_file_path("/w", 3, ".a/b\\c\td", 1, "");
  assert_non_null(p);
  assert_string_equal(p, "/w/3-_a_b_c_d-1");
  free(p);
  /* a long id is cut to 127 bytes */
  memset(id, 'x', sizeof(id) - 1);
  id[sizeof(id) - 1] = '\0';
  p = jh_task_file_path("/w", 1, id, 1, ".log");
  assert_non_null(p);
  assert_int_equal(strlen(p), strlen("/w/1-") + 127 + strlen("-1.log"));
  free(p);
}

static void test_change_report_path(void **state) {
  char buf[64];
  (void)state;
  assert_int_equal(jh_change_report_path("/l/12-Sync-1.log", buf, sizeof(buf)),
                   0);
  assert_string_equal(buf, "/l/12-Sync-1.changes.csv");
  assert_int_equal(jh_change_report_path("/l/12-Sync-1", buf, sizeof(buf)), 0);
  assert_string_equal(buf, "/l/12-Sync-1.changes.csv");
  assert_int_equal(jh_change_report_path(".log", buf, sizeof(buf)), 0);
  assert_string_equal(buf, ".log.changes.csv");
  assert_int_equal(jh_change_report_path("/l/12-Sync-1.log", buf, 10),
                   -ENAMETOOLONG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse),
      cmocka_unit_test(test_of_name),
      cmocka_unit_test(test_task_file_path),
      cmocka_unit_test(test_change_report_path),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
