/*
 * test_change_report.c — the change report's words and run-report
 * counter names, and counting a report's lines by kind: a word counts
 * only as a whole first field, the header and other lines not at all;
 * a report that cannot be read says why.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "change_report.h"
#include "harness.h"

static void test_words(void **state) {
  (void)state;
  assert_string_equal(jh_change_report_header[0], "change");
  assert_string_equal(jh_change_report_header[3], "detail");
  assert_string_equal(jh_change_word(JH_CHANGE_INSERT), "insert");
  assert_string_equal(jh_change_word(JH_CHANGE_LINK_DELETE), "link_delete");
  assert_string_equal(jh_change_word(JH_CHANGE_SUPERSEDED), "superseded");
  assert_string_equal(jh_change_word(JH_CHANGE_NKINDS), "");
  assert_string_equal(jh_change_counter(JH_CHANGE_UPDATE), "updated");
  assert_string_equal(jh_change_counter(JH_CHANGE_LINK_INSERT),
                      "link_inserted");
  assert_null(jh_change_counter(JH_CHANGE_SUPERSEDED));
}

static void test_count(void **state) {
  char dir[PATH_MAX], path[PATH_MAX + 32];
  int64_t n[JH_CHANGE_NKINDS];
  (void)state;
  jh_test_mkdtemp(dir, sizeof(dir));
  snprintf(path, sizeof(path), "%s/1-Sync-1.changes.csv", dir);
  jh_test_write_file(path,
                     "change,table,key,detail\r\n"
                     "insert,HR_Person,E1,\r\n"
                     "insert,HR_Person,E2,\r\n"
                     "update,HR_Person,E3,title\r\n"
                     "delete,HR_Person,E4,\r\n"
                     "link_insert,AD_members,CN=A,CN=B\r\n"
                     "link_delete,AD_members,CN=A,CN=C\r\n"
                     "link_delete,AD_members,CN=A,CN=D\r\n"
                     "superseded,HR,2,12 held changes discarded\r\n"
                     "inserted,HR_Person,E5,\r\n"
                     "insert\r\n",
                     0644);
  assert_int_equal(jh_change_report_count(path, n), 0);
  assert_int_equal(n[JH_CHANGE_INSERT], 2);
  assert_int_equal(n[JH_CHANGE_UPDATE], 1);
  assert_int_equal(n[JH_CHANGE_DELETE], 1);
  assert_int_equal(n[JH_CHANGE_LINK_INSERT], 1);
  assert_int_equal(n[JH_CHANGE_LINK_DELETE], 2);
  assert_int_equal(n[JH_CHANGE_SUPERSEDED], 1);
  snprintf(path, sizeof(path), "%s/missing.changes.csv", dir);
  assert_int_equal(jh_change_report_count(path, n), -ENOENT);
  assert_int_equal(n[JH_CHANGE_INSERT], 0);
  jh_test_rmtree(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_words),
      cmocka_unit_test(test_count),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
