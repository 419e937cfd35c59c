/*
 * exprfn_dates.c — the date functions of expressions (exprfn_impl.h,
 * doc/expressions.md): ParseLocalDate, ParseLocalDateThenAddMinutes,
 * ParseUniversalDate, ParseUniversalDateThenAddMinutes and
 * FormatLocalDate. Binding loads the zone and compiles the pattern;
 * applying only converts.
 */
#include "config.h"

#include "exprfn_impl.h"
#include "tzdate.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistr.h>

/* Results stay within 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z. */
#define MIN_SECS INT64_C(-62135596800)
#define MAX_SECS INT64_C(253402300799)

/* What the input of FormatLocalDate may look like (lib/model.c). */
#define STORED_FORMS                                                           \
  "YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM], or YYYYMMDDHHMM[SS][.f][Z|+HHMM]"

/* A shown input is cut to this many bytes. */
#define SHOWN 64

struct date_state {
  const char *fn;  /* the function's name, for messages */
  jh_tz *zone;     /* NULL: the text is UTC */
  jh_datefmt *fmt; /* the pattern argument */
  jh_datefmt *iso; /* YYYY-MM-DDTHH:MM:SSZ, the form of results */
  int64_t add;     /* seconds added to the wall-clock time read */
};

static void free_state(void *p) {
  struct date_state *s = p;
  if (s == NULL)
    return;
  jh_tz_free(s->zone);
  jh_datefmt_free(s->fmt);
  jh_datefmt_free(s->iso);
  free(s);
}

/* [+-]digits, at most 10 digits (some 19,000 years of minutes). */
static int minutes_arg(const char *text, int64_t *secs) {
  const char *p = text;
  int64_t v = 0;
  int sign = 1;
  if (*p == '+' || *p == '-')
    sign = *p++ == '-' ? -1 : 1;
  if (*p == '\0' || strlen(p) > 10)
    return -1;
  for (; *p != '\0'; p++) {
    if (*p < '0' || *p > '9')
      return -1;
    v = v * 10 + (*p - '0');
  }
  *secs = sign * v * 60;
  return 0;
}

/* Report a failure of argument number argn (1-based), called what. */
static int arg_error(const char *fn, size_t argn, const char *what, int rc,
                     const char *detail, char *err, size_t errsize) {
  if (rc == -ENOMEM) {
    snprintf(err, errsize, "out of memory");
    return rc;
  }
  snprintf(err, errsize, "%s: argument %zu (%s): %s", fn, argn, what, detail);
  return -EINVAL;
}

/* Where the arguments are: an index, or -1 when the function has none
 * of that kind; parse: the pattern must be readable. */
struct arg_places {
  int zone, pattern, minutes, parse;
};

/* Fill s from the arguments: 0, or a negative code with *argn and *what
 * naming the argument and why saying what is wrong with it. */
static int load_args(struct date_state *s, const char *const *args,
                     const struct arg_places *at, size_t *argn,
                     const char **what, char *why, size_t whysize) {
  int rc;
  if (at->zone >= 0) {
    *argn = (size_t)at->zone + 1;
    *what = "zone";
    if ((rc = jh_tz_load(args[at->zone], &s->zone, why, whysize)) < 0)
      return rc;
  }
  *argn = (size_t)at->pattern + 1;
  *what = "pattern";
  if ((rc = jh_datefmt_compile(args[at->pattern], &s->fmt, why, whysize)) < 0 ||
      (at->parse && (rc = jh_datefmt_check_parse(s->fmt, why, whysize)) < 0))
    return rc;
  if (at->minutes >= 0) {
    *argn = (size_t)at->minutes + 1;
    *what = "minutes";
    if (minutes_arg(args[at->minutes], &s->add) < 0) {
      snprintf(why, whysize,
               "'%.40s' is not a whole number of minutes (such as 1440 or "
               "-60)",
               args[at->minutes]);
      return -EINVAL;
    }
  }
  return jh_datefmt_compile("yyyy-MM-dd'T'HH:mm:ss'Z'", &s->iso, why, whysize);
}

static int bind_dates(const char *fn, const char *const *args,
                      struct arg_places at, void **state, char *err,
                      size_t errsize) {
  char why[256] = "";
  size_t argn = 0;
  const char *what = "";
  struct date_state *s = calloc(1, sizeof(*s));
  int rc = s == NULL ? -ENOMEM
                     : load_args(s, args, &at, &argn, &what, why, sizeof(why));
  if (rc < 0) {
    free_state(s);
    return arg_error(fn, argn, what, rc, why, err, errsize);
  }
  s->fn = fn;
  *state = s;
  return 0;
}

static int bind_local(const char *const *args, size_t nargs, void **state,
                      char *err, size_t errsize) {
  (void)nargs;
  return bind_dates("ParseLocalDate", args, (struct arg_places){0, 1, -1, 1},
                    state, err, errsize);
}

static int bind_local_add(const char *const *args, size_t nargs, void **state,
                          char *err, size_t errsize) {
  (void)nargs;
  return bind_dates("ParseLocalDateThenAddMinutes", args,
                    (struct arg_places){0, 1, 2, 1}, state, err, errsize);
}

static int bind_universal(const char *const *args, size_t nargs, void **state,
                          char *err, size_t errsize) {
  (void)nargs;
  return bind_dates("ParseUniversalDate", args,
                    (struct arg_places){-1, 0, -1, 1}, state, err, errsize);
}

static int bind_universal_add(const char *const *args, size_t nargs,
                              void **state, char *err, size_t errsize) {
  (void)nargs;
  return bind_dates("ParseUniversalDateThenAddMinutes", args,
                    (struct arg_places){-1, 0, 1, 1}, state, err, errsize);
}

static int bind_format(const char *const *args, size_t nargs, void **state,
                       char *err, size_t errsize) {
  (void)nargs;
  return bind_dates("FormatLocalDate", args, (struct arg_places){0, 1, -1, 0},
                    state, err, errsize);
}

static int check_utf8(const struct date_state *s, const char *in, size_t n,
                      char *err, size_t errsize) {
  if (u8_check((const uint8_t *)in, n) == NULL)
    return 0;
  snprintf(err, errsize, "%s: the value is not valid UTF-8", s->fn);
  return -EILSEQ;
}

/* The text formatted by f at secs, malloc'd into *out: 1, or -ENOMEM /
 * -EINVAL (out of range) with err. */
static int format_out(const struct date_state *s, const jh_datefmt *f,
                      int64_t secs, char **out, char *err, size_t errsize) {
  size_t size = 64;
  for (;;) {
    char *buf = malloc(size);
    if (buf == NULL) {
      snprintf(err, errsize, "out of memory");
      return -ENOMEM;
    }
    int len = jh_datefmt_format(f, secs, buf, size);
    if (len >= 0) {
      *out = buf;
      return 1;
    }
    free(buf);
    if (size >= 1024 * 1024 || secs < MIN_SECS || secs > MAX_SECS) {
      snprintf(err, errsize, "%s: the date is outside years 0001 to 9999",
               s->fn);
      return -EINVAL;
    }
    size *= 4;
  }
}

static int apply_parse(const void *state, const char *in, size_t n, char **out,
                       char *err, size_t errsize) {
  const struct date_state *s = state;
  int64_t secs;
  char why[256];
  int rc = check_utf8(s, in, n, err, errsize);
  if (rc < 0)
    return rc;
  if (jh_datefmt_parse(s->fmt, in, n, &secs, why, sizeof(why)) < 0) {
    snprintf(err, errsize, "%s: %s", s->fn, why);
    return -EINVAL;
  }
  secs += s->add; /* to the wall clock: 1440 is the same time next day */
  if (s->zone != NULL)
    secs = jh_tz_local_to_utc(s->zone, secs);
  if (secs < MIN_SECS || secs > MAX_SECS) {
    snprintf(err, errsize,
             "%s: '%.*s' gives a date outside years 0001 to "
             "9999",
             s->fn, (int)(n < SHOWN ? n : SHOWN), in);
    return -EINVAL;
  }
  return format_out(s, s->iso, secs, out, err, errsize);
}

/* ---- stored date and time values ---- */

struct cursor {
  const char *p, *end;
};

/* n digits: their value, or -1. */
static int digits(struct cursor *c, int n) {
  int v = 0;
  for (int i = 0; i < n; i++, c->p++) {
    if (c->p >= c->end || *c->p < '0' || *c->p > '9')
      return -1;
    v = v * 10 + (*c->p - '0');
  }
  return v;
}

static int next_is(struct cursor *c, char ch) {
  if (c->p < c->end && *c->p == ch) {
    c->p++;
    return 1;
  }
  return 0;
}

/* End, Z, or a sign and hours and minutes (with a colon when iso):
 * 0 and *off (seconds east of UTC), or -1. */
static int zone_part(struct cursor *c, int iso, long *off) {
  int sign, h, m;
  *off = 0;
  if (c->p == c->end)
    return 0;
  if (next_is(c, 'Z'))
    return c->p == c->end ? 0 : -1;
  if (*c->p != '+' && *c->p != '-')
    return -1;
  sign = *c->p++ == '-' ? -1 : 1;
  if ((h = digits(c, 2)) < 0 || h > 23 || (iso && !next_is(c, ':')) ||
      (m = digits(c, 2)) < 0 || m > 59 || c->p != c->end)
    return -1;
  *off = sign * (h * 3600L + m * 60L);
  return 0;
}

/* The time of day after the date: hours, minutes, optional seconds and
 * fraction (dropped) into tm. */
static int time_part(struct cursor *c, int iso, struct tm *tm) {
  if ((tm->tm_hour = digits(c, 2)) < 0 || tm->tm_hour > 23 ||
      (iso && !next_is(c, ':')) || (tm->tm_min = digits(c, 2)) < 0 ||
      tm->tm_min > 59)
    return -1;
  if (iso ? next_is(c, ':') : (c->p < c->end && *c->p >= '0' && *c->p <= '9')) {
    if ((tm->tm_sec = digits(c, 2)) < 0 || tm->tm_sec > 60)
      return -1;
    if (tm->tm_sec == 60)
      tm->tm_sec = 59; /* a leap second: its wall clock stays in :59 */
  }
  if (next_is(c, '.') || next_is(c, ',')) {
    const char *start = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
      c->p++;
    if (c->p == start)
      return -1;
  }
  return 0;
}

/* A stored date and time (STORED_FORMS; no zone: UTC) as UTC seconds. */
static int parse_stored(const char *s, size_t n, int64_t *utc) {
  struct cursor c = {s, s + n};
  struct tm tm;
  int iso, y;
  long off = 0;
  memset(&tm, 0, sizeof(tm));
  if ((y = digits(&c, 4)) < 1)
    return -1;
  iso = next_is(&c, '-');
  if ((tm.tm_mon = digits(&c, 2)) < 1 || tm.tm_mon > 12 ||
      (iso && !next_is(&c, '-')) || (tm.tm_mday = digits(&c, 2)) < 1)
    return -1;
  tm.tm_year = y - 1900;
  tm.tm_mon -= 1;
  if (iso && c.p == c.end) {
    /* a date alone: midnight UTC */
  } else if ((iso && !next_is(&c, 'T') && !next_is(&c, ' ')) ||
             time_part(&c, iso, &tm) < 0 || zone_part(&c, iso, &off) < 0) {
    return -1;
  }
  struct tm check = tm;
  time_t t = timegm(&check);
  if (check.tm_mday != tm.tm_mday) /* 31 April and the like */
    return -1;
  *utc = (int64_t)t - off;
  return 0;
}

static int apply_format(const void *state, const char *in, size_t n, char **out,
                        char *err, size_t errsize) {
  const struct date_state *s = state;
  int64_t utc;
  int rc = check_utf8(s, in, n, err, errsize);
  if (rc < 0)
    return rc;
  if (parse_stored(in, n, &utc) < 0) {
    snprintf(err, errsize, "%s: '%.*s' is not a date and time (%s)", s->fn,
             (int)(n < SHOWN ? n : SHOWN), in, STORED_FORMS);
    return -EINVAL;
  }
  return format_out(s, s->fmt, utc + jh_tz_offset_at(s->zone, utc), out, err,
                    errsize);
}

const struct jh_exprfn jh_exprfn_dates[] = {
    {"ParseLocalDate", 2, 2, "zone|pattern", bind_local, free_state,
     apply_parse},
    {"ParseLocalDateThenAddMinutes", 3, 3, "zone|pattern|minutes",
     bind_local_add, free_state, apply_parse},
    {"ParseUniversalDate", 1, 1, "pattern", bind_universal, free_state,
     apply_parse},
    {"ParseUniversalDateThenAddMinutes", 2, 2, "pattern|minutes",
     bind_universal_add, free_state, apply_parse},
    {"FormatLocalDate", 2, 2, "zone|pattern", bind_format, free_state,
     apply_format},
    {.name = NULL}};
