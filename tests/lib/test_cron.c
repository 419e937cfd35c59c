/*
 * test_cron.c — cron expressions (lib/cron.h): what parses and what each
 * field then matches; what is refused, with the column of the bad item;
 * the next fire time in UTC, with both day fields set (either matches),
 * month ends, leap days, steps and names; and in a local zone across the
 * daylight-saving changes (a POSIX TZ rule, so no zone files are needed).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cron.h"

/* "YYYY-MM-DDTHH:MM" in UTC to seconds */
static time_t utc(const char *s) {
  struct tm tm = {0};
  int n = sscanf(s, "%d-%d-%dT%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                 &tm.tm_hour, &tm.tm_min);
  assert_int_equal(n, 5);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return timegm(&tm);
}

static void fmt_utc(time_t t, char *buf, size_t size) {
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M", &tm);
}

static void parse_ok(const char *expr, jh_cron *c) {
  char err[JH_CRON_ERR_SIZE] = "";
  int col = 0;
  if (jh_cron_parse(expr, c, &col, err, sizeof(err)) != 0)
    fail_msg("'%s' refused at column %d: %s", expr, col, err);
}

static void test_parse_fields(void **state) {
  jh_cron c;
  (void)state;
  parse_ok("* * * * *", &c);
  assert_true(c.minute == (UINT64_C(1) << 60) - 1);
  assert_int_equal(c.hour, (1u << 24) - 1);
  assert_int_equal(c.mday, 0xfffffffeu);
  assert_int_equal(c.month, 0x1ffe);
  assert_int_equal(c.wday, 0x7f);
  assert_true(c.mday_any && c.wday_any);

  parse_ok("*/15 1-3,22 1,15 jan-MAR,Dec 7", &c);
  assert_true(c.minute == (UINT64_C(1) | UINT64_C(1) << 15 | UINT64_C(1) << 30 |
                           UINT64_C(1) << 45));
  assert_int_equal(c.hour, (1u << 1) | (1u << 2) | (1u << 3) | (1u << 22));
  assert_int_equal(c.mday, (1u << 1) | (1u << 15));
  assert_int_equal(c.month, (1u << 1) | (1u << 2) | (1u << 3) | (1u << 12));
  assert_int_equal(c.wday, 1); /* 7 is Sunday */
  assert_false(c.mday_any || c.wday_any);

  parse_ok("5/20 10-20/5 ? * mon-fri", &c);
  assert_true(c.minute ==
              (UINT64_C(1) << 5 | UINT64_C(1) << 25 | UINT64_C(1) << 45));
  assert_int_equal(c.hour, (1u << 10) | (1u << 15) | (1u << 20));
  assert_true(c.mday_any);
  assert_int_equal(c.wday, 0x3e);

  parse_ok("  0\t2 * * sun,SAT  ", &c);
  assert_int_equal(c.wday, (1u << 0) | (1u << 6));
}

static const struct bad {
  const char *expr;
  int column;
  const char *msg; /* a part of the message */
} bads[] = {
    {"*/0 * * * *", 1, "step 0"},
    {"0 */0 * * *", 3, "step 0"},
    {"60 * * * *", 1, "minute 60 is out of range 0-59"},
    {"0 24 * * *", 3, "hour 24 is out of range 0-23"},
    {"0 0 0 * *", 5, "day of month 0 is out of range 1-31"},
    {"0 0 32 * *", 5, "out of range 1-31"},
    {"0 0 * 13 *", 7, "month 13 is out of range 1-12"},
    {"0 0 * * 8", 9, "day of week 8 is out of range 0-7"},
    {"0 0 * 1,foo *", 9, "unknown name 'foo'"},
    {"0 0 * * mon-xyz", 9, "unknown name 'xyz'"},
    {"0 0 * * monday", 9, "unknown name 'monday'"},
    {"0 jan * * *", 3, "hour: expected a number 0-23"},
    {"0 5-2 * * *", 3, "runs backwards"},
    {"0 1,2, * * *", 6, "ends with ','"},
    {"0 1- * * *", 3, "has no end"},
    {"0/ * * * *", 1, "expected a step"},
    {"*/61 * * * *", 1, "larger than the range"},
    {"0 0 * *", 8, "'day-of-week' is missing"},
    {"", 1, "0 fields"},
    {"0 0 * * * *", 11, "more than 5 fields"},
    {"0 0 ? * ?x", 10, "unexpected 'x'"},
    {"? * * * *", 1, "minute: expected a number"},
    {"1x * * * *", 2, "unexpected 'x'"},
    {"99999999999999999999 * * * *", 1, "out of range"},
};

static void test_parse_errors(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
    jh_cron c;
    char err[JH_CRON_ERR_SIZE] = "";
    int col = 0;
    if (jh_cron_parse(bads[i].expr, &c, &col, err, sizeof(err)) == 0)
      fail_msg("'%s' accepted", bads[i].expr);
    if (col != bads[i].column || strstr(err, bads[i].msg) == NULL)
      fail_msg("'%s': column %d '%s', expected column %d '%s'", bads[i].expr,
               col, err, bads[i].column, bads[i].msg);
  }
}

static const struct next_case {
  const char *expr;
  const char *after;
  const char *next[3];
} nexts[] = {
    {"* * * * *",
     "2026-01-01T00:00",
     {"2026-01-01T00:01", "2026-01-01T00:02", "2026-01-01T00:03"}},
    {"0 2 * * *",
     "2026-01-01T02:00",
     {"2026-01-02T02:00", "2026-01-03T02:00", "2026-01-04T02:00"}},
    {"*/20 * * * *",
     "2026-12-31T23:30",
     {"2026-12-31T23:40", "2027-01-01T00:00", "2027-01-01T00:20"}},
    /* both day fields: the 13th or a Friday (2026-02-13 is a Friday) */
    {"0 0 13 * fri",
     "2026-02-01T00:00",
     {"2026-02-06T00:00", "2026-02-13T00:00", "2026-02-20T00:00"}},
    /* one day field restricted: only it counts */
    {"0 0 13 * *",
     "2026-02-01T00:00",
     {"2026-02-13T00:00", "2026-03-13T00:00", "2026-04-13T00:00"}},
    {"0 0 * * fri",
     "2026-02-01T00:00",
     {"2026-02-06T00:00", "2026-02-13T00:00", "2026-02-20T00:00"}},
    /* the 31st skips the short months */
    {"30 12 31 * *",
     "2026-01-31T12:30",
     {"2026-03-31T12:30", "2026-05-31T12:30", "2026-07-31T12:30"}},
    /* a leap day */
    {"0 0 29 feb *",
     "2026-01-01T00:00",
     {"2028-02-29T00:00", "2032-02-29T00:00", "2036-02-29T00:00"}},
    /* weekdays at 8:30 and 17:30; 2026-01-02 is a Friday */
    {"30 8,17 * * 1-5",
     "2026-01-02T12:00",
     {"2026-01-02T17:30", "2026-01-05T08:30", "2026-01-05T17:30"}},
    /* the first Monday is not expressible: day 1-7 OR a Monday */
    {"0 6 1-7 * 1",
     "2026-03-06T07:00",
     {"2026-03-07T06:00", "2026-03-09T06:00", "2026-03-16T06:00"}},
    /* `after` within the minute: the next whole minute */
    {"* * * * *",
     "2026-05-05T05:05",
     {"2026-05-05T05:06", "2026-05-05T05:07", "2026-05-05T05:08"}},
};

static void test_next_utc(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(nexts) / sizeof(nexts[0]); i++) {
    jh_cron c;
    time_t t = utc(nexts[i].after);
    parse_ok(nexts[i].expr, &c);
    for (int k = 0; k < 3; k++) {
      char got[32];
      time_t n;
      assert_int_equal(jh_cron_next(&c, k == 0 ? t + 17 : t, 1, &n), 0);
      fmt_utc(n, got, sizeof(got));
      if (strcmp(got, nexts[i].next[k]) != 0)
        fail_msg("'%s' after %s: got %s, expected %s", nexts[i].expr,
                 nexts[i].after, got, nexts[i].next[k]);
      t = n;
    }
  }
}

static void test_never(void **state) {
  jh_cron c;
  time_t n = 0;
  (void)state;
  parse_ok("0 0 31 2 *", &c);
  assert_int_equal(jh_cron_next(&c, utc("2026-01-01T00:00"), 1, &n), -1);
  parse_ok("0 0 30 feb *", &c);
  assert_int_equal(jh_cron_next(&c, utc("2026-01-01T00:00"), 0, &n), -1);
  /* the 31st of February or a Sunday: Sundays in February */
  parse_ok("0 0 31 2 0", &c);
  assert_int_equal(jh_cron_next(&c, utc("2026-01-01T00:00"), 1, &n), 0);
  {
    char got[32];
    fmt_utc(n, got, sizeof(got));
    assert_string_equal(got, "2026-02-01T00:00");
  }
}

static void test_matches(void **state) {
  jh_cron c;
  struct tm tm;
  time_t t = utc("2026-02-13T08:30"); /* a Friday */
  (void)state;
  gmtime_r(&t, &tm);
  parse_ok("30 8 * * fri", &c);
  assert_true(jh_cron_matches(&c, &tm));
  parse_ok("30 8 1 * fri", &c);
  assert_true(jh_cron_matches(&c, &tm));
  parse_ok("30 8 1 * mon", &c);
  assert_false(jh_cron_matches(&c, &tm));
  parse_ok("31 8 * * *", &c);
  assert_false(jh_cron_matches(&c, &tm));
}

/* Central Europe: clocks go 02:00 -> 03:00 on 2026-03-29 and
 * 03:00 -> 02:00 on 2026-10-25. */
static void test_next_local_dst(void **state) {
  jh_cron c;
  time_t n, t;
  char got[32];
  (void)state;
  setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
  tzset();
  /* 02:30 does not exist on 2026-03-29: it fires at 03:30 CEST (01:30Z) */
  parse_ok("30 2 * * *", &c);
  assert_int_equal(jh_cron_next(&c, utc("2026-03-28T12:00"), 0, &n), 0);
  fmt_utc(n, got, sizeof(got));
  assert_string_equal(got, "2026-03-29T01:30");
  assert_int_equal(jh_cron_next(&c, n, 0, &n), 0);
  fmt_utc(n, got, sizeof(got));
  assert_string_equal(got, "2026-03-30T00:30"); /* 02:30 CEST */
  /* 02:30 happens twice on 2026-10-25: it fires once, the first time */
  assert_int_equal(jh_cron_next(&c, utc("2026-10-24T12:00"), 0, &n), 0);
  fmt_utc(n, got, sizeof(got));
  assert_string_equal(got, "2026-10-25T00:30"); /* 02:30 CEST */
  t = n;
  assert_int_equal(jh_cron_next(&c, t, 0, &n), 0);
  fmt_utc(n, got, sizeof(got));
  assert_string_equal(got, "2026-10-26T01:30"); /* 02:30 CET, next day */
  /* local midnight is 23:00Z in winter */
  parse_ok("0 0 * * *", &c);
  assert_int_equal(jh_cron_next(&c, utc("2026-01-10T12:00"), 0, &n), 0);
  fmt_utc(n, got, sizeof(got));
  assert_string_equal(got, "2026-01-10T23:00");
  /* and in UTC, the same expression is 00:00Z */
  assert_int_equal(jh_cron_next(&c, utc("2026-01-10T12:00"), 1, &n), 0);
  fmt_utc(n, got, sizeof(got));
  assert_string_equal(got, "2026-01-11T00:00");
  unsetenv("TZ");
  tzset();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_fields),
      cmocka_unit_test(test_parse_errors),
      cmocka_unit_test(test_next_utc),
      cmocka_unit_test(test_never),
      cmocka_unit_test(test_matches),
      cmocka_unit_test(test_next_local_dst),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
