/*
 * test_timefmt.c — times are written in ISO 8601 UTC to the second (and
 * to the millisecond for log lines), rounded down also before 1970; the
 * short form drops the date only on the reference's UTC day; durations
 * parse in their one syntax and refuse the rest, overflow included, and
 * read well to people.
 */
#include "config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "timefmt.h"

/* 2026-11-25T10:00:00Z */
#define T0 INT64_C(1795600800000)

static void test_iso(void **state) {
  char buf[JH_TIME_SIZE];
  (void)state;
  jh_time_iso(T0, buf);
  assert_string_equal(buf, "2026-11-25T10:00:00Z");
  jh_time_iso(T0 + 9999, buf);
  assert_string_equal(buf, "2026-11-25T10:00:09Z");
  jh_time_iso(0, buf);
  assert_string_equal(buf, "1970-01-01T00:00:00Z");
  jh_time_iso(-1, buf);
  assert_string_equal(buf, "1969-12-31T23:59:59Z");
  /* the same second again, written from what the last call kept, and
   * the next second not */
  jh_time_iso(-1000, buf);
  assert_string_equal(buf, "1969-12-31T23:59:59Z");
  jh_time_iso(-1001, buf);
  assert_string_equal(buf, "1969-12-31T23:59:58Z");
  jh_time_iso(T0 + 999, buf);
  assert_string_equal(buf, "2026-11-25T10:00:00Z");
  jh_time_iso(T0 + 1000, buf);
  assert_string_equal(buf, "2026-11-25T10:00:01Z");
}

static void test_iso_ms(void **state) {
  char buf[JH_TIME_SIZE];
  (void)state;
  jh_time_iso_ms(T0 + 123, buf);
  assert_string_equal(buf, "2026-11-25T10:00:00.123Z");
  jh_time_iso_ms(T0 + 9007, buf);
  assert_string_equal(buf, "2026-11-25T10:00:09.007Z");
  jh_time_iso_ms(-1, buf);
  assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
}

static void test_iso_near(void **state) {
  char buf[JH_TIME_SIZE];
  (void)state;
  jh_time_iso_near(0, T0, buf);
  assert_string_equal(buf, "-");
  jh_time_iso_near(T0 + 9000, 0, buf);
  assert_string_equal(buf, "2026-11-25T10:00:09Z");
  jh_time_iso_near(T0 + 9000, T0, buf);
  assert_string_equal(buf, "10:00:09");
  /* 14 hours later is the next UTC day: the date stays */
  jh_time_iso_near(T0 + INT64_C(14) * 3600 * 1000, T0, buf);
  assert_string_equal(buf, "2026-11-26T00:00:00Z");
}

static void test_local_hms(void **state) {
  char buf[JH_TIME_SIZE];
  (void)state;
  jh_time_local_hms((time_t)(T0 / 1000), buf);
  assert_int_equal(strlen(buf), 8);
  assert_true(buf[2] == ':' && buf[5] == ':');
  assert_true(jh_now_ms() > INT64_C(1700000000000));
}

static void test_duration_parse(void **state) {
  static const struct {
    const char *text;
    long ms;
  } good[] = {{"0", 0},         {"5", 5000},    {"500ms", 500},
              {"5s", 5000},     {"2m", 120000}, {"1h", 3600000},
              {"30m", 1800000}, {"007s", 7000}};
  static const char *const bad[] = {"",
                                    "s",
                                    "5x",
                                    "5 s",
                                    " 5",
                                    "+5",
                                    "-5",
                                    "5S",
                                    "5sec",
                                    "1.5s",
                                    "5ms ",
                                    "99999999999999999999",
                                    "9223372036854775807h"};
  long ms;
  (void)state;
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    ms = -1;
    assert_int_equal(jh_duration_parse(good[i].text, &ms), 0);
    assert_int_equal(ms, good[i].ms);
  }
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    ms = 42;
    assert_int_equal(jh_duration_parse(bad[i], &ms), -1);
    assert_int_equal(ms, 42);
  }
  assert_string_equal(JH_DURATION_EXPECTED,
                      "a duration (N seconds, or Nms, Ns, Nm, Nh)");
}

static void test_duration_human(void **state) {
  static const struct {
    int64_t ms;
    const char *text;
  } cases[] = {{-1, "-"},          {0, "0ms"},          {812, "812ms"},
               {9000, "9.0s"},     {59999, "60.0s"},    {245000, "4m05s"},
               {7380000, "2h03m"}, {273600000, "3d04h"}};
  char buf[JH_TIME_SIZE];
  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    jh_duration_human(cases[i].ms, buf);
    assert_string_equal(buf, cases[i].text);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_iso),
      cmocka_unit_test(test_iso_ms),
      cmocka_unit_test(test_iso_near),
      cmocka_unit_test(test_local_hms),
      cmocka_unit_test(test_duration_parse),
      cmocka_unit_test(test_duration_human),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
