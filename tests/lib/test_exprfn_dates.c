/*
 * test_exprfn_dates.c — the date functions of expressions, found, bound
 * and applied through exprfn.h: local and universal parsing to ISO UTC
 * (DST gap included), minutes added to the wall clock, formatting of
 * every stored datetime form in a zone; empty input gives no value;
 * wrong argument counts, zones, patterns and minutes are refused at
 * binding with the argument named; input that does not fit is refused
 * at application.
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

#include "exprfn.h"

static jh_exprfn_call *bind_args(const char *fn, const char *const *args,
                                 size_t nargs) {
  const jh_exprfn *f = jh_exprfn_find(fn);
  jh_exprfn_call *c = NULL;
  char err[512];
  if (f == NULL)
    fail_msg("no function %s", fn);
  assert_string_equal(jh_exprfn_name(f), fn);
  if (jh_exprfn_bind(f, args, nargs, &c, err, sizeof(err)) != 0)
    fail_msg("binding %s: %s", fn, err);
  return c;
}

/* fn bound to args (a NULL-terminated list) applied to in gives want. */
static void expect(const char *fn, const char *const *args, const char *in,
                   const char *want) {
  size_t nargs = 0;
  while (args[nargs] != NULL)
    nargs++;
  jh_exprfn_call *c = bind_args(fn, args, nargs);
  char *out = NULL, err[512];
  int rc = jh_exprfn_apply(c, in, strlen(in), &out, err, sizeof(err));
  if (rc != 1)
    fail_msg("%s on '%s': %d %s", fn, in, rc, rc < 0 ? err : "");
  assert_string_equal(out, want);
  free(out);
  jh_exprfn_call_free(c);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_parse_local(void **state) {
  (void)state;
  expect("ParseLocalDate", ARGS("Europe/Paris", "dd/MM/yyyy"), "29/03/2026",
         "2026-03-28T23:00:00Z");
  expect("ParseLocalDate", ARGS("Europe/Paris", "dd/MM/yyyy"), "01/07/2026",
         "2026-06-30T22:00:00Z");
  /* in the gap: moved forward; in the fold: the first */
  expect("ParseLocalDate", ARGS("Europe/Paris", "dd/MM/yyyy HH:mm"),
         "29/03/2026 02:30", "2026-03-29T01:30:00Z");
  expect("ParseLocalDate", ARGS("Europe/Paris", "dd/MM/yyyy HH:mm"),
         "25/10/2026 02:30", "2026-10-25T00:30:00Z");
  expect("ParseLocalDate", ARGS("Asia/Kolkata", "yyyyMMddHHmmss"),
         "20260101000000", "2025-12-31T18:30:00Z");
  expect("ParseLocalDate", ARGS("Pacific/Kiritimati", "yyyy-MM-dd"),
         "2026-01-01", "2025-12-31T10:00:00Z");
  expect("ParseLocalDate", ARGS("UTC", "d/M/yy"), "1/1/01",
         "2001-01-01T00:00:00Z");
}

static void test_parse_local_add(void **state) {
  (void)state;
  /* minutes go to the wall clock: 1440 is midnight the next day, also
   * across the change to summer time */
  expect("ParseLocalDateThenAddMinutes",
         ARGS("Europe/Paris", "dd/MM/yyyy", "1440"), "29/03/2026",
         "2026-03-29T22:00:00Z");
  expect("ParseLocalDateThenAddMinutes",
         ARGS("Europe/Paris", "dd/MM/yyyy", "-60"), "01/01/2026",
         "2025-12-31T22:00:00Z");
  expect("ParseLocalDateThenAddMinutes",
         ARGS("Europe/Paris", "dd/MM/yyyy", "+0"), "01/01/2026",
         "2025-12-31T23:00:00Z");
}

static void test_parse_universal(void **state) {
  (void)state;
  expect("ParseUniversalDate", ARGS("yyyyMMdd"), "20260329",
         "2026-03-29T00:00:00Z");
  expect("ParseUniversalDate", ARGS("dd/MM/yyyy HH:mm:ss"),
         "29/03/2026 02:30:15", "2026-03-29T02:30:15Z");
  expect("ParseUniversalDate", ARGS("dd/MM/yyyy"), "01/01/0001",
         "0001-01-01T00:00:00Z");
  expect("ParseUniversalDateThenAddMinutes", ARGS("yyyy-MM-dd", "-90"),
         "2026-03-29", "2026-03-28T22:30:00Z");
  expect("ParseUniversalDateThenAddMinutes", ARGS("yyyy-MM-dd", "1440"),
         "2028-02-28", "2028-02-29T00:00:00Z");
}

static void test_format_local(void **state) {
  static const char *const same[] = {"2026-07-01T10:00:00Z",
                                     "2026-07-01T10:00:00",
                                     "2026-07-01 10:00:00Z",
                                     "2026-07-01T10:00Z",
                                     "2026-07-01T12:00:00+02:00",
                                     "2026-07-01T05:30:00-04:30",
                                     "2026-07-01T10:00:00.123Z",
                                     "2026-07-01T10:00:00,5Z",
                                     "20260701100000Z",
                                     "202607011000Z",
                                     "20260701100000.0Z",
                                     "20260701120000+0200",
                                     "20260701100000"};
  (void)state;
  for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
    expect("FormatLocalDate", ARGS("Europe/Paris", "yyyyMMddHHmmss"), same[i],
           "20260701120000");
  /* a date alone is midnight UTC */
  expect("FormatLocalDate", ARGS("Europe/Paris", "dd/MM/yyyy HH:mm"),
         "2026-01-15", "15/01/2026 01:00");
  expect("FormatLocalDate", ARGS("Australia/Lord_Howe", "HH:mm"),
         "2026-07-15T00:00:00Z", "10:30");
  expect("FormatLocalDate", ARGS("America/Sao_Paulo", "d/M/yyyy H'h'"),
         "2026-01-15T12:00:00Z", "15/1/2026 9h");
  expect("FormatLocalDate", ARGS("Europe/Paris", "yyyy-MM-dd"),
         "2045-07-01T23:00:00Z", "2045-07-02");
  /* a leap second stays in its minute */
  expect("FormatLocalDate", ARGS("UTC", "HH:mm:ss"), "2016-12-31T23:59:60Z",
         "23:59:59");
}

/* Binding fn to args fails with -EINVAL and a message holding want. */
static void expect_bind_error(const char *fn, const char *const *args,
                              size_t nargs, const char *want) {
  jh_exprfn_call *c = NULL;
  char err[512] = "";
  assert_int_equal(jh_exprfn_bind(jh_exprfn_find(fn), args, nargs, &c, err,
                                  sizeof(err)),
                   -EINVAL);
  assert_null(c);
  if (strstr(err, want) == NULL)
    fail_msg("%s: expected '%s' in: %s", fn, want, err);
}

static void test_bind_errors(void **state) {
  const char *const three[] = {"Europe/Paris", "dd/MM/yyyy", "10"};
  (void)state;
  expect_bind_error("ParseLocalDate", three, 1,
                    "ParseLocalDate needs 2 arguments: "
                    "ParseLocalDate:zone|pattern");
  expect_bind_error("ParseLocalDate", three, 3, "needs 2 arguments");
  expect_bind_error("ParseLocalDateThenAddMinutes", three, 2,
                    "needs 3 arguments: "
                    "ParseLocalDateThenAddMinutes:zone|pattern|minutes");
  expect_bind_error("ParseUniversalDate", three, 0,
                    "ParseUniversalDate needs 1 argument: "
                    "ParseUniversalDate:pattern");
  expect_bind_error("ParseUniversalDateThenAddMinutes", three, 1,
                    "needs 2 arguments");
  expect_bind_error("FormatLocalDate", three, 3, "needs 2 arguments");
  expect_bind_error("ParseLocalDate", ARGS("Romance Standard Time", "yyyy"), 2,
                    "ParseLocalDate: argument 1 (zone): unknown time zone "
                    "'Romance Standard Time': a Windows name; use the IANA "
                    "name Europe/Paris");
  expect_bind_error("FormatLocalDate", ARGS("Mars/Olympus_Mons", "yyyy"), 2,
                    "FormatLocalDate: argument 1 (zone): unknown time zone "
                    "'Mars/Olympus_Mons'");
  expect_bind_error("ParseLocalDate", ARGS("../../etc/passwd", "yyyy"), 2,
                    "argument 1 (zone)");
  expect_bind_error("ParseLocalDate", ARGS("Europe/Paris", "dd/MMM/yyyy"), 2,
                    "ParseLocalDate: argument 2 (pattern): date pattern "
                    "'dd/MMM/yyyy': 'MMM' at position 4");
  expect_bind_error("ParseUniversalDate", ARGS(""), 1,
                    "ParseUniversalDate: argument 1 (pattern): empty");
  /* a pattern without a date can format, not parse */
  expect_bind_error("ParseUniversalDate", ARGS("HH:mm"), 1,
                    "argument 1 (pattern): date pattern 'HH:mm' cannot be "
                    "read: it needs a year");
  expect_bind_error("ParseLocalDateThenAddMinutes",
                    ARGS("Europe/Paris", "dd/MM/yyyy", "1 day"), 3,
                    "ParseLocalDateThenAddMinutes: argument 3 (minutes): "
                    "'1 day' is not a whole number of minutes");
  expect_bind_error("ParseUniversalDateThenAddMinutes",
                    ARGS("yyyyMMdd", "12345678901"), 2, "argument 2 (minutes)");
  expect_bind_error("ParseUniversalDateThenAddMinutes", ARGS("yyyyMMdd", "-"),
                    2, "argument 2 (minutes)");
  expect_bind_error("ParseUniversalDateThenAddMinutes", ARGS("yyyyMMdd", ""), 2,
                    "argument 2 (minutes)");
  expect("FormatLocalDate", ARGS("Europe/Paris", "HH:mm"),
         "2026-07-01T10:00:00Z", "12:00");
}

/* fn bound to args applied to in (n bytes) gives rc and a message. */
static void expect_apply_error(const char *fn, const char *const *args,
                               const char *in, size_t n, int want_rc,
                               const char *want) {
  size_t nargs = 0;
  while (args[nargs] != NULL)
    nargs++;
  jh_exprfn_call *c = bind_args(fn, args, nargs);
  char *out = NULL, err[512] = "";
  assert_int_equal(jh_exprfn_apply(c, in, n, &out, err, sizeof(err)), want_rc);
  assert_null(out);
  if (strstr(err, want) == NULL)
    fail_msg("%s on '%s': expected '%s' in: %s", fn, in, want, err);
  jh_exprfn_call_free(c);
}

#define APPLY_ERROR(fn, args, in, rc, want)                                    \
  expect_apply_error(fn, args, in, strlen(in), rc, want)

static void test_apply_errors(void **state) {
  (void)state;
  APPLY_ERROR("ParseLocalDate", ARGS("Europe/Paris", "dd/MM/yyyy"),
              "2026-03-29", -EINVAL,
              "ParseLocalDate: '2026-03-29' does not match the date pattern "
              "'dd/MM/yyyy'");
  APPLY_ERROR("ParseUniversalDate", ARGS("dd/MM/yyyy"), "30/02/2026", -EINVAL,
              "2026-02 has no day 30");
  APPLY_ERROR("ParseUniversalDateThenAddMinutes", ARGS("dd/MM/yyyy", "1440"),
              "31/12/9999", -EINVAL, "outside years 0001 to 9999");
  APPLY_ERROR("ParseLocalDate", ARGS("America/New_York", "dd/MM/yyyy HH:mm"),
              "31/12/9999 23:00", -EINVAL, "outside years 0001 to 9999");
  APPLY_ERROR("FormatLocalDate", ARGS("America/New_York", "yyyy"),
              "0001-01-01T00:00:00Z", -EINVAL, "outside years 0001 to 9999");
  APPLY_ERROR("FormatLocalDate", ARGS("Pacific/Kiritimati", "yyyy"),
              "9999-12-31T23:00:00Z", -EINVAL, "outside years 0001 to 9999");
  static const char *const bad[] = {"2026-07-01T25:00:00Z",
                                    "2026-02-30",
                                    "2026-02-30T10:00:00Z",
                                    "yesterday",
                                    "2026-07-01T10:00:00+0200",
                                    "20260701120000+02:00",
                                    "2026-07-01T10:00:00ZZ",
                                    "2026-07-01T10:00:00.Z",
                                    "2026-7-1",
                                    "20260701",
                                    "2026-07-01T",
                                    "0000-01-01"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    APPLY_ERROR("FormatLocalDate", ARGS("Europe/Paris", "yyyy"), bad[i],
                -EINVAL, "is not a date and time (YYYY-MM-DD");
  APPLY_ERROR("ParseUniversalDate", ARGS("yyyyMMdd"), "20\xff", -EILSEQ,
              "not valid UTF-8");
  APPLY_ERROR("FormatLocalDate", ARGS("UTC", "yyyy"), "\xc3(", -EILSEQ,
              "not valid UTF-8");
}

static void test_empty_and_names(void **state) {
  static const char *const fns[] = {
      "ParseLocalDate", "ParseLocalDateThenAddMinutes", "ParseUniversalDate",
      "ParseUniversalDateThenAddMinutes", "FormatLocalDate"};
  const char *const args[] = {"UTC", "yyyyMMdd", "0"};
  const char *const uargs[] = {"yyyyMMdd", "0"};
  (void)state;
  for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
    int universal = strstr(fns[i], "Universal") != NULL;
    int adds = strstr(fns[i], "AddMinutes") != NULL;
    jh_exprfn_call *c = bind_args(fns[i], universal ? uargs : args,
                                  (universal ? 1u : 2u) + (adds ? 1u : 0u));
    char *out = (char *)"x", err[64];
    assert_int_equal(jh_exprfn_apply(c, "", 0, &out, err, sizeof(err)), 0);
    assert_null(out);
    jh_exprfn_call_free(c);
    int listed = 0;
    for (const char *const *n = jh_exprfn_names(); *n != NULL; n++)
      listed += strcmp(*n, fns[i]) == 0;
    assert_int_equal(listed, 1);
  }
  assert_null(jh_exprfn_find("parselocaldate"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_local),
      cmocka_unit_test(test_parse_local_add),
      cmocka_unit_test(test_parse_universal),
      cmocka_unit_test(test_format_local),
      cmocka_unit_test(test_bind_errors),
      cmocka_unit_test(test_apply_errors),
      cmocka_unit_test(test_empty_and_names),
  };
  unsetenv("TZDIR");
  return cmocka_run_group_tests(tests, NULL, NULL);
}
