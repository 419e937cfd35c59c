/*
 * timefmt.c — see timefmt.h.
 */
#include "config.h"

#include "timefmt.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* "2026-11-25T" is the date and its 'T'; "10:00:09" the time after it. */
#define DATE_LEN 11
#define HMS_LEN 8

int64_t jh_now_ms(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
    return (int64_t)time(NULL) * 1000;
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whole seconds of ms, rounded down (also before 1970). */
static int64_t floor_seconds(int64_t ms) {
  return ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
}

/* The UTC time t as "2026-11-25T10:00:00" into buf; 0 or -1. */
static int utc_seconds(time_t t, char buf[JH_TIME_SIZE]) {
  struct tm tm;
  if (gmtime_r(&t, &tm) == NULL ||
      strftime(buf, JH_TIME_SIZE, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
    return -1;
  return 0;
}

/* The last second jh_time_iso wrote, and its text: a task stamps every
 * row it writes with the time, most often of the same second, and
 * strftime costs about as much as the rest of a row's stamping. */
static _Thread_local int64_t iso_secs = INT64_MIN;
static _Thread_local char iso_text[JH_TIME_SIZE];

void jh_time_iso(int64_t ms, char buf[JH_TIME_SIZE]) {
  int64_t secs = floor_seconds(ms);
  if (secs == iso_secs && secs != INT64_MIN) {
    memcpy(buf, iso_text, JH_TIME_SIZE);
    return;
  }
  if (utc_seconds((time_t)secs, buf) != 0) {
    snprintf(buf, JH_TIME_SIZE, "(invalid time)");
    return;
  }
  strcat(buf, "Z");
  memcpy(iso_text, buf, JH_TIME_SIZE);
  iso_secs = secs;
}

void jh_time_iso_ms(int64_t ms, char buf[JH_TIME_SIZE]) {
  int64_t secs = floor_seconds(ms);
  size_t len;
  if (utc_seconds((time_t)secs, buf) != 0) {
    snprintf(buf, JH_TIME_SIZE, "(invalid time)");
    return;
  }
  len = strlen(buf);
  snprintf(buf + len, JH_TIME_SIZE - len, ".%03" PRId64 "Z", ms - secs * 1000);
}

void jh_time_iso_near(int64_t ms, int64_t ref, char buf[JH_TIME_SIZE]) {
  char day[JH_TIME_SIZE];
  if (ms == 0) {
    snprintf(buf, JH_TIME_SIZE, "-");
    return;
  }
  jh_time_iso(ms, buf);
  if (ref == 0 || strlen(buf) != DATE_LEN + HMS_LEN + 1)
    return;
  jh_time_iso(ref, day);
  if (strncmp(buf, day, DATE_LEN) == 0) {
    memmove(buf, buf + DATE_LEN, HMS_LEN);
    buf[HMS_LEN] = '\0';
  }
}

void jh_time_local_hms(time_t t, char buf[JH_TIME_SIZE]) {
  struct tm tm;
  if (localtime_r(&t, &tm) == NULL ||
      strftime(buf, JH_TIME_SIZE, "%H:%M:%S", &tm) == 0)
    snprintf(buf, JH_TIME_SIZE, "--:--:--");
}

int jh_duration_parse(const char *text, long *ms) {
  long long n = 0, unit;
  const char *q = text;

  if (*q < '0' || *q > '9')
    return -1;
  for (; *q >= '0' && *q <= '9'; q++) {
    if (n > (LLONG_MAX - 9) / 10)
      return -1;
    n = n * 10 + (*q - '0');
  }
  if (strcmp(q, "ms") == 0)
    unit = 1;
  else if (*q == '\0' || strcmp(q, "s") == 0)
    unit = 1000;
  else if (strcmp(q, "m") == 0)
    unit = 60 * 1000;
  else if (strcmp(q, "h") == 0)
    unit = 3600 * 1000;
  else
    return -1;
  if (n > LONG_MAX / unit)
    return -1;
  *ms = (long)(n * unit);
  return 0;
}

void jh_duration_human(int64_t ms, char buf[JH_TIME_SIZE]) {
  int64_t s = ms / 1000;
  if (ms < 0)
    snprintf(buf, JH_TIME_SIZE, "-");
  else if (ms < 1000)
    snprintf(buf, JH_TIME_SIZE, "%" PRId64 "ms", ms);
  else if (ms < 60000)
    snprintf(buf, JH_TIME_SIZE, "%.1fs", (double)ms / 1000.0);
  else if (s < 3600)
    snprintf(buf, JH_TIME_SIZE, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
  else if (s < 86400)
    snprintf(buf, JH_TIME_SIZE, "%" PRId64 "h%02" PRId64 "m", s / 3600,
             s / 60 % 60);
  else
    snprintf(buf, JH_TIME_SIZE, "%" PRId64 "d%02" PRId64 "h", s / 86400,
             s / 3600 % 24);
}
