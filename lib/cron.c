/*
 * cron.c — see cron.h.
 *
 * The next fire time is searched on the wall clock as a calendar (year,
 * month, day, hour, minute), skipping a whole month, day or hour when that
 * field does not match; calendar arithmetic is timegm's normalisation of a
 * struct tm, which does not depend on any zone. Only a matching wall time
 * is turned into an instant, in UTC or in the local zone.
 */
#include "config.h"

#include "cron.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct field {
  const char *name; /* in messages */
  int min, max;
  const char *const *names; /* names of min..min+nnames-1, or NULL */
  int nnames;
} field;

static const char *const month_names[] = {"jan", "feb", "mar", "apr",
                                          "may", "jun", "jul", "aug",
                                          "sep", "oct", "nov", "dec"};
static const char *const day_names[] = {"sun", "mon", "tue", "wed",
                                        "thu", "fri", "sat"};

static const field fields[5] = {
    {"minute", 0, 59, NULL, 0},          {"hour", 0, 23, NULL, 0},
    {"day of month", 1, 31, NULL, 0},    {"month", 1, 12, month_names, 12},
    {"day of week", 0, 7, day_names, 7},
};

static int fail(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t size, const char *fmt, ...) {
  va_list ap;
  if (err != NULL && size > 0) {
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* A value of field f at *p (digits or a name); advances *p. */
static int parse_value(const field *f, const char **p, int *out, char *err,
                       size_t size) {
  const char *s = *p;
  if (isdigit((unsigned char)*s)) {
    long v = 0;
    while (isdigit((unsigned char)*s)) {
      v = v * 10 + (*s - '0');
      if (v > 1000)
        v = 1000; /* out of every range; no overflow */
      s++;
    }
    if (v < f->min || v > f->max)
      return fail(err, size, "%s %ld is out of range %d-%d", f->name, v, f->min,
                  f->max);
    *out = (int)v;
    *p = s;
    return 0;
  }
  if (isalpha((unsigned char)*s)) {
    size_t n = 0;
    while (isalpha((unsigned char)s[n]))
      n++;
    for (int i = 0; f->names != NULL && i < f->nnames; i++)
      if (n == 3 && strncasecmp(s, f->names[i], 3) == 0) {
        *out = f->min + i;
        *p = s + n;
        return 0;
      }
    if (f->names == NULL)
      return fail(err, size, "%s: expected a number %d-%d, got '%.*s'", f->name,
                  f->min, f->max, (int)(n > 20 ? 20 : n), s);
    return fail(err, size, "%s: unknown name '%.*s' (expected %s to %s)",
                f->name, (int)(n > 20 ? 20 : n), s, f->names[0],
                f->names[f->nnames - 1]);
  }
  return fail(err, size, "%s: expected a number%s, got '%c'", f->name,
              f->names != NULL ? " or a name" : "", *s);
}

/* One field (no whitespace inside, `len` bytes at `s`) into *bits. On
 * error, *bad is the offset in the field of the offending item. */
static int parse_field(const field *f, int is_day, const char *s, size_t len,
                       uint64_t *bits, int *any, size_t *bad, char *err,
                       size_t size) {
  const char *end = s + len, *p = s;
  *bits = 0;
  *any = len > 0 && (s[0] == '*' || (is_day && s[0] == '?'));
  for (;;) {
    const char *item = p;
    int lo, hi, step = 1, star = 0;
    *bad = (size_t)(item - s);
    if (p < end && (*p == '*' || (is_day && *p == '?'))) {
      star = 1;
      lo = f->min;
      hi = f->max;
      p++;
    } else {
      if (parse_value(f, &p, &lo, err, size) != 0)
        return -1;
      hi = lo;
      if (p < end && *p == '-') {
        p++;
        if (p >= end)
          return fail(err, size, "%s: range '%.*s' has no end", f->name,
                      (int)(p - item), item);
        if (parse_value(f, &p, &hi, err, size) != 0) {
          *bad = (size_t)(item - s);
          return -1;
        }
        if (hi < lo)
          return fail(err, size, "%s: range %d-%d runs backwards", f->name, lo,
                      hi);
      }
    }
    if (p < end && *p == '/') {
      long v = 0;
      const char *q = ++p;
      while (p < end && isdigit((unsigned char)*p)) {
        v = v * 10 + (*p - '0');
        if (v > 1000)
          v = 1000;
        p++;
      }
      if (p == q)
        return fail(err, size, "%s: expected a step after '/' in '%.*s'",
                    f->name, (int)(p - item), item);
      if (v == 0)
        return fail(err, size, "%s: step 0 in '%.*s' (expected 1 or more)",
                    f->name, (int)(p - item), item);
      if (v > f->max - f->min + 1)
        return fail(err, size,
                    "%s: step %ld in '%.*s' is larger than the "
                    "range %d-%d",
                    f->name, v, (int)(p - item), item, f->min, f->max);
      step = (int)v;
      if (!star && hi == lo)
        hi = f->max; /* a/n: from a to the end */
    }
    for (int v = lo; v <= hi; v += step)
      *bits |= UINT64_C(1) << v;
    if (p == end)
      return 0;
    if (*p != ',') {
      *bad = (size_t)(p - s);
      return fail(err, size, "%s: unexpected '%c' in '%.*s'", f->name, *p,
                  (int)len, s);
    }
    p++;
    if (p == end) {
      *bad = (size_t)(p - s - 1);
      return fail(err, size, "%s: list '%.*s' ends with ','", f->name, (int)len,
                  s);
    }
  }
}

int jh_cron_parse(const char *text, jh_cron *out, int *column, char *err,
                  size_t errsize) {
  const char *p = text;
  uint64_t bits[5];
  int any[5];
  int nf = 0;

  memset(out, 0, sizeof(*out));
  *column = 1;
  for (;;) {
    const char *start;
    size_t bad = 0;
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p == '\0')
      break;
    start = p;
    while (*p != '\0' && *p != ' ' && *p != '\t')
      p++;
    if (nf == 5) {
      *column = (int)(start - text) + 1;
      return fail(err, errsize,
                  "more than 5 fields (minute hour day-of-month month "
                  "day-of-week)");
    }
    if (parse_field(&fields[nf], nf >= 2 && nf != 3, start, (size_t)(p - start),
                    &bits[nf], &any[nf], &bad, err, errsize) != 0) {
      *column = (int)(start - text + (ptrdiff_t)bad) + 1;
      return -1;
    }
    nf++;
  }
  if (nf < 5) {
    static const char *const names[] = {"minute", "hour", "day-of-month",
                                        "month", "day-of-week"};
    *column = (int)(p - text) + 1;
    return fail(err, errsize,
                "%d field%s, expected 5 (minute hour day-of-month month "
                "day-of-week): '%s' is missing",
                nf, nf == 1 ? "" : "s", names[nf]);
  }
  out->minute = bits[0];
  out->hour = (uint32_t)bits[1];
  out->mday = (uint32_t)bits[2];
  out->month = (uint16_t)bits[3];
  if (bits[4] & (UINT64_C(1) << 7))
    bits[4] |= 1; /* 7 is Sunday too */
  out->wday = (uint8_t)(bits[4] & 0x7f);
  out->mday_any = any[2];
  out->wday_any = any[4];
  return 0;
}

static int day_matches(const jh_cron *c, const struct tm *tm) {
  int md = (c->mday >> tm->tm_mday) & 1;
  int wd = (c->wday >> tm->tm_wday) & 1;
  if (c->mday_any || c->wday_any)
    return md && wd; /* one of them matches every day */
  return md || wd;
}

int jh_cron_matches(const jh_cron *c, const struct tm *tm) {
  return ((c->minute >> tm->tm_min) & 1) && ((c->hour >> tm->tm_hour) & 1) &&
         ((c->month >> (tm->tm_mon + 1)) & 1) && day_matches(c, tm);
}

/* Normalise a wall-clock calendar time (fields out of range carry over),
 * setting tm_wday too. */
static void normalise(struct tm *tm) {
  time_t t;
  tm->tm_isdst = 0;
  t = timegm(tm);
  gmtime_r(&t, tm);
}

/* The instant of wall time `w` in the local zone: of the readings that
 * give back w, the earliest after `after` (-1 when they all come at or
 * before it); when none gives it back (a time skipped by a daylight-saving
 * change), the latest reading. */
static int local_instant(const struct tm *w, time_t after, time_t *out) {
  time_t best = 0, latest = 0;
  int exists = 0, found = 0, any = 0;
  for (int dst = -1; dst <= 1; dst++) {
    struct tm tm = *w, back;
    time_t t;
    tm.tm_isdst = dst;
    t = mktime(&tm);
    if (t == (time_t)-1 || localtime_r(&t, &back) == NULL)
      continue;
    if (!any || t > latest)
      latest = t;
    any = 1;
    if (back.tm_min != w->tm_min || back.tm_hour != w->tm_hour ||
        back.tm_mday != w->tm_mday || back.tm_mon != w->tm_mon ||
        back.tm_year != w->tm_year)
      continue;
    exists = 1;
    if (t > after && (!found || t < best)) {
      best = t;
      found = 1;
    }
  }
  if (found)
    *out = best;
  else if (!exists && any && latest > after)
    *out = latest;
  else
    return -1;
  return 0;
}

int jh_cron_next(const jh_cron *c, time_t after, int utc, time_t *next) {
  struct tm w;
  int last_year;

  if (c->minute == 0 || c->hour == 0 || c->month == 0 ||
      (c->mday == 0 && c->wday == 0))
    return -1;
  if ((utc ? gmtime_r(&after, &w) : localtime_r(&after, &w)) == NULL)
    return -1;
  last_year = w.tm_year + 8;
  w.tm_sec = 0;
  w.tm_min++;
  normalise(&w);
  while (w.tm_year <= last_year) {
    if (!((c->month >> (w.tm_mon + 1)) & 1)) {
      w.tm_mon++;
      w.tm_mday = 1;
      w.tm_hour = w.tm_min = 0;
    } else if (!day_matches(c, &w)) {
      w.tm_mday++;
      w.tm_hour = w.tm_min = 0;
    } else if (!((c->hour >> w.tm_hour) & 1)) {
      w.tm_hour++;
      w.tm_min = 0;
    } else if (!((c->minute >> w.tm_min) & 1)) {
      w.tm_min++;
    } else {
      time_t t;
      if (utc) {
        struct tm u = w;
        t = timegm(&u);
        if (t > after) {
          *next = t;
          return 0;
        }
      } else if (local_instant(&w, after, &t) == 0) {
        *next = t;
        return 0;
      }
      w.tm_min++;
    }
    normalise(&w);
  }
  return -1;
}
