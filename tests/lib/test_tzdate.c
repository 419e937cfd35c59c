/*
 * test_tzdate.c — zones read from the system's zone files give the
 * offsets zdump gives (Paris's gap and fold, half-hour and 14-hour
 * offsets, Lord Howe's half-hour summer time, São Paulo without summer
 * time since 2019, a 2045 date from the footer rule); a slim zone file
 * (tests/data/tzdir) and files written here (footer-only, southern and
 * all-year summer time, damaged files) read right or are refused; zone
 * names outside the IANA syntax and Windows names are refused. Date
 * patterns format and parse back, and refuse what does not match.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"
#include "tzdate.h"

#define H 3600

/* UTC seconds of a calendar time (the test's own conversion). */
static int64_t at(int y, int mo, int d, int h, int mi, int s) {
  struct tm tm = {.tm_year = y - 1900,
                  .tm_mon = mo - 1,
                  .tm_mday = d,
                  .tm_hour = h,
                  .tm_min = mi,
                  .tm_sec = s};
  return (int64_t)timegm(&tm);
}

static jh_tz *load(const char *name) {
  jh_tz *z = NULL;
  char err[512];
  int rc = jh_tz_load(name, &z, err, sizeof(err));
  if (rc != 0)
    fail_msg("loading %s: %d %s", name, rc, err);
  return z;
}

static void test_paris_gap_fold(void **state) {
  jh_tz *z = load("Europe/Paris");
  (void)state;
  assert_int_equal(jh_tz_offset_at(z, at(2026, 1, 15, 12, 0, 0)), 1 * H);
  assert_int_equal(jh_tz_offset_at(z, at(2026, 7, 1, 10, 0, 0)), 2 * H);
  /* the change itself, to the second */
  assert_int_equal(jh_tz_offset_at(z, at(2026, 3, 29, 0, 59, 59)), 1 * H);
  assert_int_equal(jh_tz_offset_at(z, at(2026, 3, 29, 1, 0, 0)), 2 * H);
  assert_int_equal(jh_tz_offset_at(z, at(2026, 10, 25, 0, 59, 59)), 2 * H);
  assert_int_equal(jh_tz_offset_at(z, at(2026, 10, 25, 1, 0, 0)), 1 * H);
  /* the gap: 02:00 to 03:00 on 29 March does not exist; moved forward */
  assert_int_equal(jh_tz_local_to_utc(z, at(2026, 3, 29, 1, 59, 59)),
                   at(2026, 3, 29, 0, 59, 59));
  assert_int_equal(jh_tz_local_to_utc(z, at(2026, 3, 29, 2, 30, 0)),
                   at(2026, 3, 29, 1, 30, 0));
  assert_int_equal(jh_tz_local_to_utc(z, at(2026, 3, 29, 3, 0, 0)),
                   at(2026, 3, 29, 1, 0, 0));
  /* the fold: 02:00 to 03:00 on 25 October happens twice; the first */
  assert_int_equal(jh_tz_local_to_utc(z, at(2026, 10, 25, 2, 30, 0)),
                   at(2026, 10, 25, 0, 30, 0));
  assert_int_equal(jh_tz_local_to_utc(z, at(2026, 10, 25, 1, 59, 0)),
                   at(2026, 10, 24, 23, 59, 0));
  assert_int_equal(jh_tz_local_to_utc(z, at(2026, 10, 25, 3, 0, 0)),
                   at(2026, 10, 25, 2, 0, 0));
  jh_tz_free(z);
}

/* 2045 is after the last transition of the fat files: the footer. */
static void test_paris_2045(void **state) {
  jh_tz *z = load("Europe/Paris");
  (void)state;
  assert_int_equal(jh_tz_offset_at(z, at(2045, 1, 10, 0, 0, 0)), 1 * H);
  assert_int_equal(jh_tz_offset_at(z, at(2045, 3, 26, 0, 59, 59)), 1 * H);
  assert_int_equal(jh_tz_offset_at(z, at(2045, 3, 26, 1, 0, 0)), 2 * H);
  assert_int_equal(jh_tz_offset_at(z, at(2045, 10, 29, 0, 59, 59)), 2 * H);
  assert_int_equal(jh_tz_offset_at(z, at(2045, 10, 29, 1, 0, 0)), 1 * H);
  assert_int_equal(jh_tz_local_to_utc(z, at(2045, 3, 26, 2, 30, 0)),
                   at(2045, 3, 26, 1, 30, 0));
  assert_int_equal(jh_tz_local_to_utc(z, at(2045, 10, 29, 2, 30, 0)),
                   at(2045, 10, 29, 0, 30, 0));
  assert_int_equal(jh_tz_local_to_utc(z, at(2045, 7, 14, 12, 0, 0)),
                   at(2045, 7, 14, 10, 0, 0));
  jh_tz_free(z);
}

static void test_fixed_offsets(void **state) {
  jh_tz *kolkata = load("Asia/Kolkata"), *kiri = load("Pacific/Kiritimati");
  jh_tz *utc = load("UTC");
  (void)state;
  assert_int_equal(jh_tz_offset_at(kolkata, at(2026, 1, 1, 0, 0, 0)),
                   5 * H + 1800);
  assert_int_equal(jh_tz_offset_at(kolkata, at(2026, 7, 1, 0, 0, 0)),
                   5 * H + 1800);
  assert_int_equal(jh_tz_local_to_utc(kolkata, at(2026, 3, 29, 9, 0, 0)),
                   at(2026, 3, 29, 3, 30, 0));
  assert_int_equal(jh_tz_offset_at(kiri, at(2026, 6, 1, 0, 0, 0)), 14 * H);
  assert_int_equal(jh_tz_local_to_utc(kiri, at(2026, 1, 1, 0, 0, 0)),
                   at(2025, 12, 31, 10, 0, 0));
  assert_int_equal(jh_tz_offset_at(utc, at(2045, 6, 1, 0, 0, 0)), 0);
  assert_int_equal(jh_tz_local_to_utc(utc, at(2026, 3, 29, 2, 30, 0)),
                   at(2026, 3, 29, 2, 30, 0));
  jh_tz_free(kolkata);
  jh_tz_free(kiri);
  jh_tz_free(utc);
}

static void test_lord_howe(void **state) {
  jh_tz *z = load("Australia/Lord_Howe");
  (void)state;
  /* +11 in the southern summer, +10:30 in winter: 30 minutes of DST */
  assert_int_equal(jh_tz_offset_at(z, at(2026, 1, 15, 0, 0, 0)), 11 * H);
  assert_int_equal(jh_tz_offset_at(z, at(2026, 7, 15, 0, 0, 0)), 10 * H + 1800);
  assert_int_equal(jh_tz_offset_at(z, at(2026, 4, 4, 14, 59, 59)), 11 * H);
  assert_int_equal(jh_tz_offset_at(z, at(2026, 4, 4, 15, 0, 0)), 10 * H + 1800);
  /* the gap of 4 October 2026 lasts half an hour, 02:00 to 02:30 */
  assert_int_equal(jh_tz_local_to_utc(z, at(2026, 10, 4, 2, 15, 0)),
                   at(2026, 10, 3, 15, 45, 0));
  assert_int_equal(jh_tz_local_to_utc(z, at(2026, 10, 4, 2, 30, 0)),
                   at(2026, 10, 3, 15, 30, 0));
  /* the fold of 5 April 2026, 01:30 to 02:00 twice: the first */
  assert_int_equal(jh_tz_local_to_utc(z, at(2026, 4, 5, 1, 45, 0)),
                   at(2026, 4, 4, 14, 45, 0));
  /* the footer rule, long after the last transition */
  assert_int_equal(jh_tz_offset_at(z, at(2045, 1, 15, 0, 0, 0)), 11 * H);
  assert_int_equal(jh_tz_offset_at(z, at(2045, 7, 15, 0, 0, 0)), 10 * H + 1800);
  jh_tz_free(z);
}

static void test_sao_paulo(void **state) {
  jh_tz *z = load("America/Sao_Paulo");
  (void)state;
  /* summer time until February 2019, none since */
  assert_int_equal(jh_tz_offset_at(z, at(2018, 12, 1, 0, 0, 0)), -2 * H);
  assert_int_equal(jh_tz_offset_at(z, at(2019, 2, 17, 1, 59, 59)), -2 * H);
  assert_int_equal(jh_tz_offset_at(z, at(2019, 2, 17, 2, 0, 0)), -3 * H);
  assert_int_equal(jh_tz_offset_at(z, at(2026, 1, 15, 0, 0, 0)), -3 * H);
  assert_int_equal(jh_tz_offset_at(z, at(2045, 1, 15, 0, 0, 0)), -3 * H);
  assert_int_equal(jh_tz_local_to_utc(z, at(2026, 11, 8, 0, 30, 0)),
                   at(2026, 11, 8, 3, 30, 0));
  jh_tz_free(z);
}

/* ---- zone files of the test ---- */

static void put32(unsigned char **p, uint32_t v) {
  for (int i = 3; i >= 0; i--)
    *(*p)++ = (unsigned char)(v >> (8 * i));
}

/* A version-v zone file: a v1 block of one type, then the 64-bit block
 * with nt transitions at t[] to types idx[] of offsets off[] (nty), leap
 * leap-second records, and footer. Its length. */
static size_t tzif(unsigned char *b, char v, const int64_t *t,
                   const unsigned char *idx, uint32_t nt, const int32_t *off,
                   uint32_t nty, uint32_t leap, const char *footer) {
  unsigned char *p = b;
  const uint32_t v1[6] = {0, 0, 0, 0, 1, 1}, v2[6] = {0, 0, leap, nt, nty, 1};
  for (int block = 0; block < 2; block++) {
    const uint32_t *c = block == 0 ? v1 : v2;
    memcpy(p, "TZif", 4);
    p[4] = (unsigned char)v;
    memset(p + 5, 0, 15);
    p += 20;
    for (int i = 0; i < 6; i++)
      put32(&p, c[i]);
    if (block == 0) {
      memset(p, 0, 7); /* one type (offset 0) and one designation byte */
      p += 7;
    }
  }
  for (uint32_t i = 0; i < nt; i++) {
    put32(&p, (uint32_t)((uint64_t)t[i] >> 32));
    put32(&p, (uint32_t)t[i]);
  }
  if (nt > 0) /* a file with no transition: idx may be NULL */
    memcpy(p, idx, nt);
  p += nt;
  for (uint32_t i = 0; i < nty; i++) {
    put32(&p, (uint32_t)off[i]);
    *p++ = 0;
    *p++ = 0;
  }
  *p++ = 0;
  memset(p, 0, 12 * (size_t)leap);
  p += 12 * (size_t)leap;
  p += sprintf((char *)p, "\n%s\n", footer);
  return (size_t)(p - b);
}

struct fixture {
  char dir[256];
};

static int setup(void **state) {
  struct fixture *f = jh_test_fixture(sizeof(*f), sizeof(f->dir));
  setenv("TZDIR", f->dir, 1);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  unsetenv("TZDIR");
  return jh_test_teardown_fixture(state);
}

static void write_zone(const struct fixture *f, const char *name,
                       const unsigned char *b, size_t n) {
  char path[512];
  jh_test_path(path, sizeof(path), "%s/%s", f->dir, name);
  FILE *fp = fopen(path, "wb");
  assert_non_null(fp);
  assert_int_equal(fwrite(b, 1, n, fp), n);
  assert_int_equal(fclose(fp), 0);
}

/* A zone written here with no transition and only a footer rule. */
static jh_tz *footer_zone(const struct fixture *f, const char *footer) {
  unsigned char b[512];
  const int32_t off[1] = {0};
  write_zone(f, "Footer", b, tzif(b, '3', NULL, NULL, 0, off, 1, 0, footer));
  return load("Footer");
}

static void test_footer_rules(void **state) {
  const struct fixture *f = *state;
  jh_tz *z = footer_zone(f, "<+0545>-5:45");
  assert_int_equal(jh_tz_offset_at(z, at(2026, 1, 1, 0, 0, 0)),
                   5 * H + 45 * 60);
  jh_tz_free(z);
  /* southern: summer time from October to April, across the new year */
  z = footer_zone(f, "AEST-10AEDT,M10.1.0,M4.1.0/3");
  assert_int_equal(jh_tz_offset_at(z, at(2030, 1, 1, 0, 0, 0)), 11 * H);
  assert_int_equal(jh_tz_offset_at(z, at(2030, 7, 1, 0, 0, 0)), 10 * H);
  assert_int_equal(jh_tz_offset_at(z, at(2030, 12, 31, 23, 0, 0)), 11 * H);
  /* 6 October 2030, 02:00 local standard time: 5 October 16:00 UTC */
  assert_int_equal(jh_tz_offset_at(z, at(2030, 10, 5, 15, 59, 59)), 10 * H);
  assert_int_equal(jh_tz_offset_at(z, at(2030, 10, 5, 16, 0, 0)), 11 * H);
  jh_tz_free(z);
  /* summer time all year: starts at 00:00 on 1 January, ends at 25:00
   * on 31 December (RFC 8536's way to say it) */
  z = footer_zone(f, "EST5EDT,0/0,J365/25");
  assert_int_equal(jh_tz_offset_at(z, at(2030, 1, 1, 4, 0, 0)), -4 * H);
  assert_int_equal(jh_tz_offset_at(z, at(2030, 12, 31, 12, 0, 0)), -4 * H);
  assert_int_equal(jh_tz_offset_at(z, at(2031, 1, 1, 4, 30, 0)), -4 * H);
  jh_tz_free(z);
  /* Julian days without 29 February: J60 is 1 March, also in 2032 */
  z = footer_zone(f, "XST3XDT,J60/0,J300/0");
  assert_int_equal(jh_tz_offset_at(z, at(2032, 3, 1, 2, 59, 59)), -3 * H);
  assert_int_equal(jh_tz_offset_at(z, at(2032, 3, 1, 3, 0, 0)), -2 * H);
  jh_tz_free(z);
}

/* tests/data/tzdir/Test/Slim, built by zic -b slim from slim.zi there:
 * two transitions, the last in March 2020, then the footer. */
static void test_slim_fixture(void **state) {
  char *dir = jh_test_source("tests/data/tzdir");
  char *path = jh_test_source("tests/data/tzdir/Test/Slim");
  char *bytes = jh_test_read_file(path);
  (void)state;
  setenv("TZDIR", dir, 1);
  /* the second header (after an empty v1 block) counts 2 transitions */
  assert_memory_equal(bytes + 44 + 7, "TZif2", 5);
  assert_int_equal((unsigned char)bytes[44 + 7 + 35], 2);
  jh_tz *z = load("Test/Slim");
  assert_int_equal(jh_tz_offset_at(z, at(1985, 1, 1, 0, 0, 0)), 1800);
  assert_int_equal(jh_tz_offset_at(z, at(2020, 7, 1, 0, 0, 0)), 2 * H);
  /* October 2020 on: only the footer knows */
  assert_int_equal(jh_tz_offset_at(z, at(2020, 10, 25, 0, 59, 59)), 2 * H);
  assert_int_equal(jh_tz_offset_at(z, at(2020, 10, 25, 1, 0, 0)), 1 * H);
  assert_int_equal(jh_tz_offset_at(z, at(2026, 7, 1, 0, 0, 0)), 2 * H);
  assert_int_equal(jh_tz_local_to_utc(z, at(2026, 3, 29, 2, 30, 0)),
                   at(2026, 3, 29, 1, 30, 0));
  assert_int_equal(jh_tz_local_to_utc(z, at(2026, 10, 25, 2, 30, 0)),
                   at(2026, 10, 25, 0, 30, 0));
  jh_tz_free(z);
  unsetenv("TZDIR");
  free(bytes);
  free(path);
  free(dir);
}

static void expect_bad_file(const struct fixture *f, const unsigned char *b,
                            size_t n, const char *why) {
  jh_tz *z = NULL;
  char err[512];
  write_zone(f, "Bad", b, n);
  assert_int_equal(jh_tz_load("Bad", &z, err, sizeof(err)), -EINVAL);
  assert_null(z);
  if (strstr(err, why) == NULL || strstr(err, f->dir) == NULL)
    fail_msg("expected '%s' and the path in: %s", why, err);
}

static void test_damaged_files(void **state) {
  const struct fixture *f = *state;
  unsigned char b[512];
  const int64_t t[2] = {1000, 500};
  const unsigned char idx[2] = {1, 0}, bad_idx[1] = {5};
  const int32_t off[2] = {0, 3600};
  size_t n = tzif(b, '2', t, idx, 1, off, 2, 0, "");
  expect_bad_file(f, b, n - 5, "truncated");
  expect_bad_file(f, (const unsigned char *)"not a zone file", 15,
                  "no TZif header");
  n = tzif(b, '\0', t, idx, 1, off, 2, 0, "");
  expect_bad_file(f, b, n, "version 1");
  n = tzif(b, '2', t, idx, 2, off, 2, 0, "");
  expect_bad_file(f, b, n, "out of order");
  n = tzif(b, '2', t, bad_idx, 1, off, 2, 0, "");
  expect_bad_file(f, b, n, "does not exist");
  const int32_t far[2] = {0, 26 * H};
  n = tzif(b, '2', t, idx, 1, far, 2, 0, "");
  expect_bad_file(f, b, n, "a bad local time type");
  n = tzif(b, '2', t, idx, 1, off, 2, 1, "");
  expect_bad_file(f, b, n, "leap second");
  n = tzif(b, '2', t, idx, 1, off, 2, 0, "CET-1CEST,M3.5.0");
  expect_bad_file(f, b, n, "footer");
  n = tzif(b, '2', t, idx, 1, off, 2, 0, "CE");
  expect_bad_file(f, b, n, "footer");
  /* the same file, well formed, loads: offset 0 before 1000, then 1h */
  n = tzif(b, '2', t, idx, 1, off, 2, 0, "");
  write_zone(f, "Good", b, n);
  jh_tz *z = load("Good");
  assert_int_equal(jh_tz_offset_at(z, 999), 0);
  assert_int_equal(jh_tz_offset_at(z, 1000), 3600);
  assert_int_equal(jh_tz_offset_at(z, INT64_C(4000000000)), 3600);
  jh_tz_free(z);
}

static void expect_name(const char *name, int want, const char *msg) {
  jh_tz *z = NULL;
  char err[512] = "";
  assert_int_equal(jh_tz_load(name, &z, err, sizeof(err)), want);
  assert_null(z);
  if (strstr(err, msg) == NULL)
    fail_msg("'%s': expected '%s' in: %s", name, msg, err);
}

static void test_bad_names(void **state) {
  static const char *const bad[] = {"",
                                    "/etc/passwd",
                                    "../etc/passwd",
                                    "Europe/../../etc/passwd",
                                    "..",
                                    "Europe/./Paris",
                                    "Europe//Paris",
                                    "Europe/Paris/",
                                    "Europe/Par is",
                                    "Europe/Paris\n",
                                    "Europe\\Paris",
                                    "Zoné"};
  (void)state;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    expect_name(bad[i], -EINVAL, "an IANA name such as Europe/Paris");
  expect_name("Mars/Olympus_Mons", -ENOENT, "no zone file");
  expect_name("Europe", -ENOENT, "not a zone file");
  expect_name("Europe/Paris/x", -ENOENT, "no zone file");
  char longname[400];
  memset(longname, 'a', sizeof(longname) - 1);
  longname[sizeof(longname) - 1] = '\0';
  expect_name(longname, -EINVAL, "an IANA name");
}

static void test_windows_names(void **state) {
  (void)state;
  expect_name("Romance Standard Time", -EINVAL,
              "a Windows name; use the IANA name Europe/Paris");
  expect_name("W. Europe Standard Time", -EINVAL, "Europe/Berlin");
  expect_name("eastern standard time", -EINVAL, "America/New_York");
  expect_name("India Standard Time", -EINVAL, "Asia/Kolkata");
  expect_name("Martian Standard Time", -EINVAL,
              "unknown time zone 'Martian Standard Time' (an IANA name");
}

/* ---- patterns ---- */

static jh_datefmt *pattern(const char *p) {
  jh_datefmt *f = NULL;
  char err[512];
  int rc = jh_datefmt_compile(p, &f, err, sizeof(err));
  if (rc != 0)
    fail_msg("pattern %s: %s", p, err);
  return f;
}

static void expect_format(const char *p, int64_t secs, const char *want) {
  jh_datefmt *f = pattern(p);
  char buf[128];
  int n = jh_datefmt_format(f, secs, buf, sizeof(buf));
  assert_int_equal(n, (int)strlen(want));
  assert_string_equal(buf, want);
  jh_datefmt_free(f);
}

static void test_format(void **state) {
  int64_t t = at(2026, 3, 9, 7, 5, 3);
  (void)state;
  expect_format("dd/MM/yyyy HH:mm:ss", t, "09/03/2026 07:05:03");
  expect_format("d/M/yy H:mm", t, "9/3/26 7:05");
  expect_format("yyyyMMddHHmmss", t, "20260309070503");
  expect_format("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", t, "2026-03-09T07:05:03.000Z");
  expect_format("'day' d 'of' M, \\year yyyy", t, "day 9 of 3, year 2026");
  expect_format("HH\\h", at(2026, 12, 31, 23, 0, 0), "23h");
  expect_format("yyyy-MM-dd", at(1, 1, 1, 0, 0, 0), "0001-01-01");
  expect_format("dd.MM.yyyy", at(1969, 12, 31, 23, 59, 59), "31.12.1969");
  expect_format("d/M", at(2024, 2, 29, 0, 0, 0), "29/2");
  /* a buffer too small, a year of five digits */
  jh_datefmt *f = pattern("yyyy-MM-dd");
  char buf[10];
  assert_int_equal(jh_datefmt_format(f, t, buf, sizeof(buf)), -ERANGE);
  assert_int_equal(jh_datefmt_format(
                       f, at(2026, 1, 1, 0, 0, 0) + INT64_C(8000) * 365 * 86400,
                       buf, sizeof(buf)),
                   -ERANGE);
  jh_datefmt_free(f);
}

static int64_t parse_ok(const char *p, const char *s) {
  jh_datefmt *f = pattern(p);
  int64_t secs = -1;
  char err[512];
  int rc = jh_datefmt_parse(f, s, strlen(s), &secs, err, sizeof(err));
  if (rc != 0)
    fail_msg("'%s' with %s: %s", s, p, err);
  jh_datefmt_free(f);
  return secs;
}

static void test_round_trips(void **state) {
  static const char *const pats[] = {"dd/MM/yyyy HH:mm:ss", "yyyyMMddHHmmss",
                                     "d/M/yyyy H:mm:ss",
                                     "yyyy-MM-dd'T'HH:mm:ss.fff'Z'",
                                     "'le' d M yyyy \\à HH\\hmm ss"};
  const int64_t times[] = {
      at(2026, 3, 29, 2, 30, 0),    at(2026, 12, 1, 23, 59, 59),
      at(2000, 2, 29, 0, 0, 0),     at(1, 1, 1, 0, 0, 0),
      at(9999, 12, 31, 23, 59, 59), at(1969, 7, 20, 20, 17, 40)};
  char buf[128], err[512];
  (void)state;
  for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
    jh_datefmt *f = pattern(pats[i]);
    for (size_t j = 0; j < sizeof(times) / sizeof(times[0]); j++) {
      int64_t back = -1;
      int n = jh_datefmt_format(f, times[j], buf, sizeof(buf));
      assert_true(n > 0);
      if (jh_datefmt_parse(f, buf, (size_t)n, &back, err, sizeof(err)) != 0)
        fail_msg("%s: %s", pats[i], err);
      assert_int_equal(back, times[j]);
    }
    jh_datefmt_free(f);
  }
  assert_int_equal(parse_ok("dd/MM/yyyy", "29/03/2026"),
                   at(2026, 3, 29, 0, 0, 0));
  assert_int_equal(parse_ok("d/M/yyyy H:mm", "9/3/2026 7:05"),
                   at(2026, 3, 9, 7, 5, 0));
  assert_int_equal(parse_ok("d/M/yyyy", "09/03/2026"), at(2026, 3, 9, 0, 0, 0));
  /* two-digit years: 00-49 are 2000s, 50-99 the 1900s */
  assert_int_equal(parse_ok("dd/MM/yy", "01/01/49"), at(2049, 1, 1, 0, 0, 0));
  assert_int_equal(parse_ok("dd/MM/yy", "01/01/50"), at(1950, 1, 1, 0, 0, 0));
  /* a field twice must agree with itself */
  assert_int_equal(parse_ok("yyyy MM dd (yyyy)", "2026 03 29 (2026)"),
                   at(2026, 3, 29, 0, 0, 0));
  /* milliseconds are read and dropped: times are whole seconds */
  assert_int_equal(parse_ok("yyyyMMddHHmmssfff", "20260329023000999"),
                   at(2026, 3, 29, 2, 30, 0));
}

static void expect_no_parse(const char *p, const char *s, const char *why) {
  jh_datefmt *f = pattern(p);
  int64_t secs = 42;
  char err[512] = "";
  assert_int_equal(jh_datefmt_parse(f, s, strlen(s), &secs, err, sizeof(err)),
                   -EINVAL);
  assert_int_equal(secs, 42);
  if (strstr(err, why) == NULL || strstr(err, p) == NULL)
    fail_msg("'%s' with %s: expected '%s' and the pattern in: %s", s, p, why,
             err);
  jh_datefmt_free(f);
}

static void test_parse_failures(void **state) {
  (void)state;
  expect_no_parse("dd/MM/yyyy", "29/02/2026", "has no day 29");
  expect_no_parse("dd/MM/yyyy", "31/04/2026", "has no day 31");
  expect_no_parse("dd/MM/yyyy", "01/13/2026", "month 13");
  expect_no_parse("dd/MM/yyyy", "01/01/0000", "year 0");
  expect_no_parse("dd/MM/yyyy", "29/03/2026 ", "text after the date");
  expect_no_parse("dd/MM/yyyy", "29/03/26", "4 digits (yyyy) expected");
  expect_no_parse("dd/MM/yyyy", "29-03-2026", "'/' expected");
  expect_no_parse("dd/MM/yyyy", "2/03/2026", "2 digits (dd) expected");
  expect_no_parse("dd/MM/yyyy", "", "2 digits (dd) expected");
  expect_no_parse("dd/MM/yyyy HH:mm", "29/03/2026 24:00", "out of range");
  expect_no_parse("dd/MM/yyyy HH:mm:ss", "29/03/2026 12:00:60", "out of range");
  expect_no_parse("dd/MM/yyyy 'year'", "01/01/2026 yeah",
                  "' year' expected at position 11");
  expect_no_parse("yyyy MM dd (yyyy)", "2026 03 29 (2027)", "disagrees");
  expect_no_parse("d/M/yyyy", "1/2/20261", "text after the date");
  /* a pattern without a date formats but does not parse */
  jh_datefmt *f = pattern("HH:mm");
  int64_t secs = 0;
  char err[512] = "";
  assert_int_equal(jh_datefmt_check_parse(f, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "needs a year"));
  assert_int_equal(jh_datefmt_parse(f, "10:00", 5, &secs, err, sizeof(err)),
                   -EINVAL);
  jh_datefmt_free(f);
  f = pattern("dd/MM/yyyy");
  assert_int_equal(jh_datefmt_check_parse(f, err, sizeof(err)), 0);
  jh_datefmt_free(f);
}

static void expect_bad_pattern(const char *p, const char *why) {
  jh_datefmt *f = NULL;
  char err[512] = "";
  assert_int_equal(jh_datefmt_compile(p, &f, err, sizeof(err)), -EINVAL);
  assert_null(f);
  if (strstr(err, why) == NULL)
    fail_msg("pattern '%s': expected '%s' in: %s", p, why, err);
}

static void test_bad_patterns(void **state) {
  (void)state;
  expect_bad_pattern("", "empty date pattern");
  expect_bad_pattern("yyy", "'yyy' at position 1 is a field");
  expect_bad_pattern("dd MMM yyyy", "'MMM' at position 4");
  expect_bad_pattern("dd/MM/yyyy hh:mm", "'hh' at position 12");
  expect_bad_pattern("HH:mm tt", "'tt' at position 7");
  expect_bad_pattern("H:m", "'m' at position 3");
  expect_bad_pattern("ss.ff", "'ff' at position 4");
  expect_bad_pattern("yyyy-MM-ddTHH:mm:ssz", "'z' at position 20");
  expect_bad_pattern("dddd", "'dddd'");
  expect_bad_pattern("yyyy 'open",
                     "''' at position 6 is a quote that is not closed");
  expect_bad_pattern("yyyy\\", "at position 5 is a \\ at the end");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_paris_gap_fold),
      cmocka_unit_test(test_paris_2045),
      cmocka_unit_test(test_fixed_offsets),
      cmocka_unit_test(test_lord_howe),
      cmocka_unit_test(test_sao_paulo),
      cmocka_unit_test_setup_teardown(test_footer_rules, setup, teardown),
      cmocka_unit_test(test_slim_fixture),
      cmocka_unit_test_setup_teardown(test_damaged_files, setup, teardown),
      cmocka_unit_test(test_bad_names),
      cmocka_unit_test(test_windows_names),
      cmocka_unit_test(test_format),
      cmocka_unit_test(test_round_trips),
      cmocka_unit_test(test_parse_failures),
      cmocka_unit_test(test_bad_patterns),
  };
  unsetenv("TZDIR");
  return cmocka_run_group_tests(tests, NULL, NULL);
}
