/*
 * tzdate.c — time zones read from compiled zone files (TZif, RFC 8536)
 * and .NET-style date patterns (tzdate.h, doc/expressions.md).
 *
 * A zone file of version 2 or later holds its transitions twice, in a
 * 32-bit block and a 64-bit block; only the second is read. The footer
 * after it is a POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3") that
 * gives local time after the last transition: files built "slim" stop
 * their transitions early and rely on it. Nothing here reads TZ or
 * calls tzset or localtime: a zone is a value of its own.
 */
#include "config.h"

#include "tzdate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAY 86400
#define DEFAULT_TZDIR "/usr/share/zoneinfo"
#define MAX_NAME 255
#define MAX_FILE (1024 * 1024) /* real zone files are a few KiB */
#define HEADER 44

/* ---- calendar ---- */

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int is_leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m) {
  static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). The year is
 * counted from March, so that a leap day ends it; 400 years are 146097
 * days, and the day of a year from March follows (153 * month + 2) / 5. */
static int64_t days_from_civil(int64_t y, int m, int d) {
  int64_t ym = m <= 2 ? y - 1 : y;
  int64_t era = floor_div(ym, 400);
  int64_t yoe = ym - era * 400;                        /* 0..399 */
  int64_t mp = m > 2 ? m - 3 : m + 9;                  /* March is 0 */
  int64_t doy = (153 * mp + 2) / 5 + d - 1;            /* 0..365 */
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* 0..146096 */
  return era * 146097 + doe - 719468; /* 719468: 0000-03-01 to 1970 */
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  int64_t zz = z + 719468;
  int64_t era = floor_div(zz, 146097);
  int64_t doe = zz - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

/* 0 Sunday .. 6 Saturday; 1970-01-01 was a Thursday. */
static int weekday(int64_t z) { return (int)((z % 7 + 7 + 4) % 7); }

/* ---- the POSIX TZ rule of the footer ---- */

struct rule_date {
  char kind;    /* 'J' (1..365, no leap day), 'n' (0..365), 'M' */
  int m, w, d;  /* M: month, week 1..5 (5: last), weekday; J/n: d */
  int32_t time; /* local seconds after midnight, -167h..167h */
};

struct rule {
  int32_t std_off, dst_off; /* seconds east of UTC */
  int has_dst;
  struct rule_date start, end;
};

static int64_t rule_day(const struct rule_date *r, int64_t y) {
  int64_t jan1 = days_from_civil(y, 1, 1);
  if (r->kind == 'J')
    return jan1 + r->d - 1 + (is_leap(y) && r->d >= 60);
  if (r->kind == 'n')
    return jan1 + r->d;
  int64_t first = days_from_civil(y, r->m, 1);
  int64_t day = first + (r->d - weekday(first) + 7) % 7 + (r->w - 1) * 7;
  while (day >= first + month_days(y, r->m))
    day -= 7;
  return day;
}

/* The UTC time of the rule's date in year y; off: the offset in force
 * before it (the rule's time is local time of that offset). */
static int64_t rule_at(const struct rule_date *r, int64_t y, int32_t off) {
  return rule_day(r, y) * DAY + r->time - off;
}

/* The offset the rule gives at utc: the latest change at or before it,
 * looked for in the years around (a change may cross a new year). */
static int32_t rule_offset(const struct rule *r, int64_t utc) {
  const int64_t far = INT64_C(1) << 52; /* some 140 million years */
  if (!r->has_dst)
    return r->std_off;
  utc = utc > far ? far : utc < -far ? -far : utc;
  int64_t y, best = INT64_MIN;
  int m, d;
  int32_t off = r->std_off;
  civil_from_days(floor_div(utc + r->std_off, DAY), &y, &m, &d);
  for (int64_t k = y - 1; k <= y + 1; k++) {
    int64_t e = rule_at(&r->end, k, r->dst_off);
    int64_t s = rule_at(&r->start, k, r->std_off);
    if (e <= utc && e > best) {
      best = e;
      off = r->std_off;
    }
    if (s <= utc && s >= best) { /* a tie: the start (all-year DST) */
      best = s;
      off = r->dst_off;
    }
  }
  return off;
}

/* Up to maxd decimal digits (at least one) at *p: their value, or -1. */
static long posix_num(const char **p, int maxd) {
  long v = 0;
  int n = 0;
  while (n < maxd && **p >= '0' && **p <= '9') {
    v = v * 10 + (**p - '0');
    (*p)++;
    n++;
  }
  return n == 0 ? -1 : v;
}

/* [+-]hh[:mm[:ss]] with hh <= maxh: 0 and *secs, or -1. */
static int posix_hms(const char **p, long maxh, int32_t *secs) {
  int sign = 1;
  long h, m = 0, s = 0;
  if (**p == '+' || **p == '-')
    sign = *(*p)++ == '-' ? -1 : 1;
  if ((h = posix_num(p, 3)) < 0 || h > maxh)
    return -1;
  if (**p == ':') {
    (*p)++;
    if ((m = posix_num(p, 2)) < 0 || m > 59)
      return -1;
    if (**p == ':') {
      (*p)++;
      if ((s = posix_num(p, 2)) < 0 || s > 59)
        return -1;
    }
  }
  *secs = (int32_t)(sign * (h * 3600 + m * 60 + s));
  return 0;
}

/* A zone abbreviation: 3 or more letters, or <...> of letters, digits,
 * + and -. */
static int posix_abbr(const char **p) {
  const char *s = *p;
  if (*s == '<') {
    const char *e = ++s;
    while ((*e >= 'A' && *e <= 'Z') || (*e >= 'a' && *e <= 'z') ||
           (*e >= '0' && *e <= '9') || *e == '+' || *e == '-')
      e++;
    if (*e != '>' || e - s < 3)
      return -1;
    *p = e + 1;
    return 0;
  }
  while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))
    s++;
  if (s - *p < 3)
    return -1;
  *p = s;
  return 0;
}

/* ,Jn ,n or ,Mm.w.d then an optional /time (default 02:00). */
static int posix_date(const char **p, struct rule_date *r) {
  long a, b = 0, c = 0;
  if (*(*p)++ != ',')
    return -1;
  r->kind = **p == 'J' || **p == 'M' ? *(*p)++ : 'n';
  if ((a = posix_num(p, 3)) < 0)
    return -1;
  if (r->kind == 'M') {
    if (*(*p)++ != '.' || (b = posix_num(p, 1)) < 1 || b > 5 ||
        *(*p)++ != '.' || (c = posix_num(p, 1)) < 0 || c > 6 || a < 1 || a > 12)
      return -1;
  } else if (r->kind == 'J' ? (a < 1 || a > 365) : a > 365) {
    return -1;
  }
  r->m = (int)a;
  r->w = (int)b;
  r->d = r->kind == 'M' ? (int)c : (int)a;
  r->time = 2 * 3600;
  if (**p == '/') {
    (*p)++;
    return posix_hms(p, 167, &r->time);
  }
  return 0;
}

/* Parse a POSIX TZ string (s, NUL-terminated, not empty). POSIX counts
 * offsets west of UTC, the opposite of TZif. */
static int parse_rule(const char *s, struct rule *r) {
  int32_t v;
  memset(r, 0, sizeof(*r));
  if (posix_abbr(&s) < 0 || posix_hms(&s, 24, &v) < 0)
    return -1;
  r->std_off = -v;
  if (*s == '\0')
    return 0;
  if (posix_abbr(&s) < 0)
    return -1;
  r->has_dst = 1;
  r->dst_off = r->std_off + 3600;
  if (*s != ',' && *s != '\0') {
    if (posix_hms(&s, 24, &v) < 0)
      return -1;
    r->dst_off = -v;
  }
  if (posix_date(&s, &r->start) < 0 || posix_date(&s, &r->end) < 0)
    return -1;
  return *s == '\0' ? 0 : -1;
}

/* ---- zone files ---- */

struct jh_tz {
  size_t ntrans;
  int64_t *at;   /* transition times, ascending */
  int32_t *off;  /* offset from at[i] on */
  int32_t first; /* offset before at[0] (time type 0) */
  int has_rule;  /* the footer gives local time after at[ntrans-1] */
  struct rule rule;
};

struct header {
  char version;
  uint32_t isut, isstd, leap, times, types, chars;
};

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}

static int64_t be64(const unsigned char *p) {
  return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* The header at b (n bytes left): 0, or -1 with *what. */
static int read_header(const unsigned char *b, size_t n, struct header *h,
                       const char **what) {
  if (n < HEADER || memcmp(b, "TZif", 4) != 0) {
    *what = "no TZif header";
    return -1;
  }
  h->version = (char)b[4];
  h->isut = be32(b + 20);
  h->isstd = be32(b + 24);
  h->leap = be32(b + 28);
  h->times = be32(b + 32);
  h->types = be32(b + 36);
  h->chars = be32(b + 40);
  if (h->types == 0 || h->types > 256 || h->chars == 0 ||
      (h->isut != 0 && h->isut != h->types) ||
      (h->isstd != 0 && h->isstd != h->types)) {
    *what = "inconsistent counts in the TZif header";
    return -1;
  }
  return 0;
}

/* Size of the data block after a header, times of tsize bytes. */
static size_t block_size(const struct header *h, size_t tsize) {
  return (size_t)h->times * (tsize + 1) + (size_t)h->types * 6 + h->chars +
         (size_t)h->leap * (tsize + 4) + h->isstd + h->isut;
}

/* The time types and transitions of the 64-bit block at b (its size
 * checked by the caller) into z. */
static int read_block(const unsigned char *b, const struct header *h, jh_tz *z,
                      const char **what) {
  const unsigned char *idx = b + (size_t)h->times * 8;
  const unsigned char *types = idx + h->times;
  int32_t offs[256];
  for (uint32_t i = 0; i < h->types; i++) {
    const unsigned char *t = types + 6 * (size_t)i;
    offs[i] = (int32_t)be32(t);
    if (offs[i] <= -25 * 3600 || offs[i] >= 26 * 3600 || t[4] > 1 ||
        t[5] >= h->chars) { /* RFC 8536's range of offsets */
      *what = "a bad local time type";
      return -1;
    }
  }
  z->first = offs[0];
  z->ntrans = h->times;
  if (h->times == 0)
    return 0;
  z->at = malloc((size_t)h->times * sizeof(*z->at));
  z->off = malloc((size_t)h->times * sizeof(*z->off));
  if (z->at == NULL || z->off == NULL)
    return -ENOMEM;
  for (uint32_t i = 0; i < h->times; i++) {
    z->at[i] = be64(b + 8 * (size_t)i);
    if (idx[i] >= h->types || (i > 0 && z->at[i] <= z->at[i - 1])) {
      *what = i > 0 && z->at[i] <= z->at[i - 1]
                  ? "transition times out of order"
                  : "a transition to a type that does not exist";
      return -1;
    }
    z->off[i] = offs[idx[i]];
  }
  return 0;
}

/* The footer at b (n bytes, the end of the file): "\n" TZ "\n". */
static int read_footer(const unsigned char *b, size_t n, jh_tz *z,
                       const char **what) {
  char tz[128];
  if (n < 2 || b[0] != '\n' || b[n - 1] != '\n' || n - 2 >= sizeof(tz) ||
      memchr(b + 1, '\n', n - 2) != NULL || memchr(b + 1, '\0', n - 2)) {
    *what = "a malformed footer (a TZ string between two newlines)";
    return -1;
  }
  memcpy(tz, b + 1, n - 2);
  tz[n - 2] = '\0';
  if (tz[0] == '\0')
    return 0;
  if (parse_rule(tz, &z->rule) < 0) {
    *what = "a footer TZ string that does not parse";
    return -1;
  }
  z->has_rule = 1;
  return 0;
}

/* Decode a whole zone file: 0, -1 with *what, or -ENOMEM. */
static int parse_tzif(const unsigned char *b, size_t n, jh_tz *z,
                      const char **what) {
  struct header h1, h2;
  if (read_header(b, n, &h1, what) < 0)
    return -1;
  if (h1.version < '2') {
    *what = "version 1 (no 64-bit data); version 2 or later is needed";
    return -1;
  }
  size_t skip = HEADER + block_size(&h1, 4);
  if (skip > n || read_header(b + skip, n - skip, &h2, what) < 0) {
    *what = skip > n ? "truncated data" : *what;
    return -1;
  }
  size_t data = skip + HEADER, size = block_size(&h2, 8);
  if (size > n - data) {
    *what = "truncated data";
    return -1;
  }
  if (h2.leap != 0) {
    *what = "leap second records (a right/ zone), which are not supported";
    return -1;
  }
  int rc = read_block(b + data, &h2, z, what);
  if (rc != 0)
    return rc;
  return read_footer(b + data + size, n - data - size, z, what);
}

/* Windows zone names people write, and the IANA zone each stands for. */
static const char *const windows_zones[][2] = {
    {"Romance Standard Time", "Europe/Paris"},
    {"W. Europe Standard Time", "Europe/Berlin"},
    {"Central Europe Standard Time", "Europe/Budapest"},
    {"Central European Standard Time", "Europe/Warsaw"},
    {"GMT Standard Time", "Europe/London"},
    {"Eastern Standard Time", "America/New_York"},
    {"Central Standard Time", "America/Chicago"},
    {"Mountain Standard Time", "America/Denver"},
    {"Pacific Standard Time", "America/Los_Angeles"},
    {"E. South America Standard Time", "America/Sao_Paulo"},
    {"India Standard Time", "Asia/Kolkata"},
    {"China Standard Time", "Asia/Shanghai"},
    {"Tokyo Standard Time", "Asia/Tokyo"},
    {"AUS Eastern Standard Time", "Australia/Sydney"},
};

static int name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-';
}

/* [A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*, at most MAX_NAME bytes. */
static int name_ok(const char *name) {
  size_t run = 0, len = 0;
  for (const char *p = name; *p != '\0'; p++, len++) {
    if (*p == '/') {
      if (run == 0)
        return 0;
      run = 0;
    } else if (name_char(*p)) {
      run++;
    } else {
      return 0;
    }
  }
  return run > 0 && len <= MAX_NAME;
}

static int check_name(const char *name, char *err, size_t errsize) {
  if (name_ok(name))
    return 0;
  for (size_t i = 0; i < sizeof(windows_zones) / sizeof(windows_zones[0]); i++)
    if (strcasecmp(name, windows_zones[i][0]) == 0) {
      snprintf(err, errsize,
               "unknown time zone '%s': a Windows name; use the IANA name %s",
               name, windows_zones[i][1]);
      return -EINVAL;
    }
  snprintf(err, errsize,
           "unknown time zone '%.*s' (an IANA name such as Europe/Paris)",
           MAX_NAME, name);
  return -EINVAL;
}

/* The whole regular file at fd, at most MAX_FILE bytes, into *buf. */
static int read_fd(int fd, unsigned char **buf, size_t *n) {
  struct stat st;
  if (fstat(fd, &st) < 0)
    return -errno;
  if (!S_ISREG(st.st_mode))
    return -EISDIR; /* or anything else that is not a file */
  if (st.st_size > MAX_FILE)
    return -EFBIG;
  *buf = malloc((size_t)st.st_size + 1);
  if (*buf == NULL)
    return -ENOMEM;
  ssize_t got = read(fd, *buf, (size_t)st.st_size + 1);
  if (got < 0) {
    int e = errno;
    free(*buf);
    return -e;
  }
  *n = (size_t)got;
  return 0;
}

static int read_zone_file(const char *path, const char *name,
                          unsigned char **buf, size_t *n, char *err,
                          size_t errsize) {
  int fd = open(path, O_RDONLY | O_CLOEXEC), rc;
  if (fd < 0)
    rc = errno == ENOTDIR ? -ENOENT : -errno;
  else {
    rc = read_fd(fd, buf, n);
    close(fd);
  }
  if (rc == -EISDIR)
    snprintf(err, errsize,
             "unknown time zone '%s' (%s is not a zone file; an IANA name "
             "such as Europe/Paris)",
             name, path);
  else if (rc == -ENOENT)
    snprintf(err, errsize,
             "unknown time zone '%s' (no zone file %s; an IANA name such as "
             "Europe/Paris)",
             name, path);
  else if (rc == -EFBIG)
    snprintf(err, errsize, "time zone '%s': %s: larger than %d bytes", name,
             path, MAX_FILE);
  else if (rc < 0)
    snprintf(err, errsize, "time zone '%s': %s: %s", name, path, strerror(-rc));
  return rc == -EFBIG ? -EINVAL : rc == -EISDIR ? -ENOENT : rc;
}

int jh_tz_load(const char *name, jh_tz **out, char *err, size_t errsize) {
  const char *dir = getenv("TZDIR");
  char path[4096];
  unsigned char *buf = NULL;
  size_t n = 0;
  const char *what = NULL;
  int rc = check_name(name, err, errsize);
  if (rc < 0)
    return rc;
  if (dir == NULL || dir[0] == '\0')
    dir = DEFAULT_TZDIR;
  if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
      sizeof(path)) {
    snprintf(err, errsize, "time zone '%s': the path under %s is too long",
             name, dir);
    return -ENAMETOOLONG;
  }
  if ((rc = read_zone_file(path, name, &buf, &n, err, errsize)) < 0)
    return rc;
  jh_tz *z = calloc(1, sizeof(*z));
  rc = z == NULL ? -ENOMEM : parse_tzif(buf, n, z, &what);
  free(buf);
  if (rc != 0) {
    jh_tz_free(z);
    if (rc == -ENOMEM)
      snprintf(err, errsize, "out of memory");
    else
      snprintf(err, errsize, "time zone '%s': %s: %s", name, path, what);
    return rc == -ENOMEM ? rc : -EINVAL;
  }
  *out = z;
  return 0;
}

void jh_tz_free(jh_tz *z) {
  if (z == NULL)
    return;
  free(z->at);
  free(z->off);
  free(z);
}

int32_t jh_tz_offset_at(const jh_tz *z, int64_t utc) {
  size_t n = z->ntrans;
  if (n == 0 || utc > z->at[n - 1]) {
    if (z->has_rule)
      return rule_offset(&z->rule, utc);
    return n == 0 ? z->first : z->off[n - 1];
  }
  if (utc < z->at[0])
    return z->first;
  size_t lo = 0, hi = n - 1; /* at[lo] <= utc; find the last such */
  while (lo < hi) {
    size_t mid = lo + (hi - lo + 1) / 2;
    if (z->at[mid] <= utc)
      lo = mid;
    else
      hi = mid - 1;
  }
  return z->off[lo];
}

/* Offsets are under 26 hours either way (read_block and the footer's
 * syntax hold them there), so the UTC instants of a wall time lie within
 * that much of it; zones change their offset at most once in such a
 * window (two changes a day apart would be seen as none). */
#define WINDOW (26 * 3600)

int64_t jh_tz_local_to_utc(const jh_tz *z, int64_t local) {
  if (local < INT64_MIN / 2 || local > INT64_MAX / 2)
    return local - jh_tz_offset_at(z, local);
  int32_t early = jh_tz_offset_at(z, local - WINDOW);
  int32_t late = jh_tz_offset_at(z, local + WINDOW);
  if (early == late)
    return local - early;
  if (jh_tz_offset_at(z, local - early) == early)
    return local - early; /* before the change; in a fold, the earlier */
  if (jh_tz_offset_at(z, local - late) == late)
    return local - late;
  return local - early; /* in a gap: moved forward by the gap */
}

/* ---- date patterns ---- */

enum field {
  F_LIT,
  F_YEAR4,
  F_YEAR2,
  F_MONTH2,
  F_MONTH,
  F_DAY2,
  F_DAY,
  F_HOUR2,
  F_HOUR,
  F_MIN2,
  F_SEC2,
  F_MS3
};

struct item {
  enum field f;
  size_t lit, len; /* F_LIT: text[lit .. lit+len) */
};

struct jh_datefmt {
  char *pattern; /* as written, for messages */
  char *text;    /* the literal text of every F_LIT item */
  struct item *items;
  size_t n;
  unsigned has; /* bit per field kind present */
};

static const struct {
  char c;
  size_t len;
  enum field f;
} fields[] = {{'y', 4, F_YEAR4}, {'y', 2, F_YEAR2}, {'M', 2, F_MONTH2},
              {'M', 1, F_MONTH}, {'d', 2, F_DAY2},  {'d', 1, F_DAY},
              {'H', 2, F_HOUR2}, {'H', 1, F_HOUR},  {'m', 2, F_MIN2},
              {'s', 2, F_SEC2},  {'f', 3, F_MS3}};

/* Letters .NET reads as fields: a run of one of them is a field, and
 * one this module does not know is an error, never literal text. */
static int field_letter(char c) {
  return c != '\0' && strchr("yMdHhmsfFtzKg", c) != NULL;
}

static int field_of(char c, size_t len, enum field *f) {
  for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
    if (fields[i].c == c && fields[i].len == len) {
      *f = fields[i].f;
      return 0;
    }
  return -1;
}

static int add_item(jh_datefmt *f, enum field kind, size_t lit, size_t len) {
  if (kind == F_LIT && f->n > 0 && f->items[f->n - 1].f == F_LIT) {
    f->items[f->n - 1].len += len; /* text is appended contiguously */
    return 0;
  }
  f->items[f->n].f = kind;
  f->items[f->n].lit = lit;
  f->items[f->n].len = len;
  f->n++;
  f->has |= 1u << kind;
  return 0;
}

/* Where and why a pattern does not compile. */
struct bad_pattern {
  const char *what;
  size_t pos, len; /* the offending text: pattern[pos .. pos+len) */
};

/* Literal text at *p: a quoted run or \x, appended to f->text at *tn. */
static int compile_literal(jh_datefmt *f, const char **p, size_t *tn,
                           struct bad_pattern *bad) {
  const char *s = *p;
  size_t start = *tn;
  if (*s == '\\') {
    if (s[1] == '\0') {
      bad->what = "a \\ at the end (it quotes the next character)";
      return -1;
    }
    f->text[(*tn)++] = s[1];
    *p = s + 2;
  } else {
    const char *e = strchr(s + 1, '\'');
    if (e == NULL) {
      bad->what = "a quote that is not closed";
      return -1;
    }
    memcpy(f->text + *tn, s + 1, (size_t)(e - s - 1));
    *tn += (size_t)(e - s - 1);
    *p = e + 1;
  }
  if (*tn > start)
    add_item(f, F_LIT, start, *tn - start);
  return 0;
}

static int compile_items(jh_datefmt *f, const char *pat,
                         struct bad_pattern *bad) {
  size_t tn = 0;
  const char *p = pat;
  while (*p != '\0') {
    bad->pos = (size_t)(p - pat);
    bad->len = 1;
    if (*p == '\'' || *p == '\\') {
      if (compile_literal(f, &p, &tn, bad) < 0)
        return -1;
    } else if (field_letter(*p)) {
      size_t len = 1;
      enum field kind;
      while (p[len] == *p)
        len++;
      if (field_of(*p, len, &kind) < 0) {
        bad->what = "a field this module does not know";
        bad->len = len;
        return -1;
      }
      add_item(f, kind, 0, 0);
      p += len;
    } else {
      f->text[tn] = *p++;
      add_item(f, F_LIT, tn++, 1);
    }
  }
  return 0;
}

int jh_datefmt_compile(const char *pattern, jh_datefmt **out, char *err,
                       size_t errsize) {
  size_t len = strlen(pattern);
  struct bad_pattern bad = {NULL, 0, 0};
  if (len == 0) {
    snprintf(err, errsize, "empty date pattern (e.g. dd/MM/yyyy)");
    return -EINVAL;
  }
  jh_datefmt *f = calloc(1, sizeof(*f));
  if (f == NULL || (f->pattern = strdup(pattern)) == NULL ||
      (f->text = malloc(len)) == NULL ||
      (f->items = calloc(len, sizeof(*f->items))) == NULL) {
    jh_datefmt_free(f);
    snprintf(err, errsize, "out of memory");
    return -ENOMEM;
  }
  if (compile_items(f, pattern, &bad) < 0) {
    snprintf(err, errsize,
             "date pattern '%s': '%.*s' at position %zu is %s (fields: "
             "yyyy yy MM M dd d HH H mm ss fff; literal text in '...' or "
             "after \\)",
             pattern, (int)bad.len, pattern + bad.pos, bad.pos + 1, bad.what);
    jh_datefmt_free(f);
    return -EINVAL;
  }
  *out = f;
  return 0;
}

void jh_datefmt_free(jh_datefmt *f) {
  if (f == NULL)
    return;
  free(f->pattern);
  free(f->text);
  free(f->items);
  free(f);
}

#define HAS(f, k) (((f)->has >> (k)) & 1u)

int jh_datefmt_check_parse(const jh_datefmt *f, char *err, size_t errsize) {
  if ((HAS(f, F_YEAR4) || HAS(f, F_YEAR2)) &&
      (HAS(f, F_MONTH2) || HAS(f, F_MONTH)) &&
      (HAS(f, F_DAY2) || HAS(f, F_DAY)))
    return 0;
  snprintf(err, errsize,
           "date pattern '%s' cannot be read: it needs a year (yyyy or yy), "
           "a month (MM or M) and a day (dd or d)",
           f->pattern);
  return -EINVAL;
}

/* ---- parsing ---- */

enum slot { S_YEAR, S_MONTH, S_DAY, S_HOUR, S_MIN, S_SEC, S_MS, NSLOTS };

struct numspec {
  int min, max; /* digits */
  enum slot slot;
  const char *name; /* the pattern letters, for messages */
};

static const struct numspec numspecs[] = {
    [F_YEAR4] = {4, 4, S_YEAR, "yyyy"}, [F_YEAR2] = {2, 2, S_YEAR, "yy"},
    [F_MONTH2] = {2, 2, S_MONTH, "MM"}, [F_MONTH] = {1, 2, S_MONTH, "M"},
    [F_DAY2] = {2, 2, S_DAY, "dd"},     [F_DAY] = {1, 2, S_DAY, "d"},
    [F_HOUR2] = {2, 2, S_HOUR, "HH"},   [F_HOUR] = {1, 2, S_HOUR, "H"},
    [F_MIN2] = {2, 2, S_MIN, "mm"},     [F_SEC2] = {2, 2, S_SEC, "ss"},
    [F_MS3] = {3, 3, S_MS, "fff"}};

struct reading {
  const char *s;
  size_t n, pos;
  int v[NSLOTS];
  unsigned set;
  char why[96];
};

/* One numeric field at r->pos into its slot: 0, or -1 with r->why. */
static int read_number(struct reading *r, enum field kind) {
  const struct numspec *ns = &numspecs[kind];
  int v = 0, d = 0;
  while (d < ns->max && r->pos < r->n && r->s[r->pos] >= '0' &&
         r->s[r->pos] <= '9') {
    v = v * 10 + (r->s[r->pos++] - '0');
    d++;
  }
  if (d < ns->min) {
    snprintf(r->why, sizeof(r->why), "%d digit%s (%s) expected", ns->min,
             ns->min == 1 ? "" : "s", ns->name);
    return -1;
  }
  if (kind == F_YEAR2)
    v += v < 50 ? 2000 : 1900; /* 00-49: 2000s; 50-99: 1900s */
  if (((r->set >> ns->slot) & 1u) && r->v[ns->slot] != v) {
    snprintf(r->why, sizeof(r->why), "%s disagrees with an earlier field",
             ns->name);
    return -1;
  }
  r->v[ns->slot] = v;
  r->set |= 1u << ns->slot;
  return 0;
}

static int read_items(const jh_datefmt *f, struct reading *r) {
  for (size_t i = 0; i < f->n; i++) {
    const struct item *it = &f->items[i];
    if (it->f != F_LIT) {
      if (read_number(r, it->f) < 0)
        return -1;
    } else if (r->n - r->pos < it->len ||
               memcmp(r->s + r->pos, f->text + it->lit, it->len) != 0) {
      snprintf(r->why, sizeof(r->why), "'%.*s' expected",
               (int)(it->len < 40 ? it->len : 40), f->text + it->lit);
      return -1;
    } else {
      r->pos += it->len;
    }
  }
  if (r->pos < r->n) {
    snprintf(r->why, sizeof(r->why), "text after the date");
    return -1;
  }
  return 0;
}

/* The fields read, checked, as seconds: 0, or -1 with r->why. */
static int to_seconds(struct reading *r, int64_t *secs) {
  const int *v = r->v;
  if (v[S_YEAR] < 1 || v[S_MONTH] < 1 || v[S_MONTH] > 12) {
    snprintf(r->why, sizeof(r->why), "%s %d is out of range",
             v[S_YEAR] < 1 ? "year" : "month",
             v[S_YEAR] < 1 ? v[S_YEAR] : v[S_MONTH]);
    return -1;
  }
  if (v[S_DAY] < 1 || v[S_DAY] > month_days(v[S_YEAR], v[S_MONTH])) {
    snprintf(r->why, sizeof(r->why), "%04d-%02d has no day %d", v[S_YEAR],
             v[S_MONTH], v[S_DAY]);
    return -1;
  }
  if (v[S_HOUR] > 23 || v[S_MIN] > 59 || v[S_SEC] > 59) {
    snprintf(r->why, sizeof(r->why), "time %02d:%02d:%02d is out of range",
             v[S_HOUR], v[S_MIN], v[S_SEC]);
    return -1;
  }
  *secs = days_from_civil(v[S_YEAR], v[S_MONTH], v[S_DAY]) * DAY +
          v[S_HOUR] * 3600 + v[S_MIN] * 60 + v[S_SEC];
  return 0;
}

int jh_datefmt_parse(const jh_datefmt *f, const char *s, size_t n,
                     int64_t *secs, char *err, size_t errsize) {
  struct reading r;
  int rc = jh_datefmt_check_parse(f, err, errsize);
  if (rc < 0)
    return rc;
  memset(&r, 0, sizeof(r));
  r.s = s;
  r.n = n;
  if (read_items(f, &r) < 0) {
    snprintf(err, errsize,
             "'%.*s' does not match the date pattern '%s': %s at position %zu",
             (int)(n < 64 ? n : 64), s, f->pattern, r.why, r.pos + 1);
    return -EINVAL;
  }
  if (to_seconds(&r, secs) < 0) {
    snprintf(err, errsize, "'%.*s' (date pattern '%s'): %s",
             (int)(n < 64 ? n : 64), s, f->pattern, r.why);
    return -EINVAL;
  }
  return 0;
}

/* ---- formatting ---- */

/* v in at least width digits (v >= 0) at buf[*len]; -1 when it does not
 * fit in size (room kept for the NUL). */
static int put_number(char *buf, size_t size, size_t *len, int v, int width) {
  char tmp[16];
  int k = snprintf(tmp, sizeof(tmp), "%0*d", width, v);
  if (k < 0 || (size_t)k >= size - *len)
    return -1;
  memcpy(buf + *len, tmp, (size_t)k);
  *len += (size_t)k;
  return 0;
}

static int field_value(enum field kind, const int *v) {
  switch (kind) {
  case F_YEAR2:
    return v[S_YEAR] % 100;
  case F_MS3:
    return 0; /* times are whole seconds */
  default:
    return v[numspecs[kind].slot];
  }
}

int jh_datefmt_format(const jh_datefmt *f, int64_t secs, char *buf,
                      size_t size) {
  int64_t y, day = floor_div(secs, DAY), tod = secs - day * DAY;
  int m, d, v[NSLOTS];
  size_t len = 0;
  civil_from_days(day, &y, &m, &d);
  if (size == 0 || y < 1 || y > 9999)
    return -ERANGE;
  v[S_YEAR] = (int)y;
  v[S_MONTH] = m;
  v[S_DAY] = d;
  v[S_HOUR] = (int)(tod / 3600);
  v[S_MIN] = (int)(tod / 60 % 60);
  v[S_SEC] = (int)(tod % 60);
  for (size_t i = 0; i < f->n; i++) {
    const struct item *it = &f->items[i];
    if (it->f == F_LIT) {
      if (it->len >= size - len)
        return -ERANGE;
      memcpy(buf + len, f->text + it->lit, it->len);
      len += it->len;
    } else if (put_number(buf, size, &len, field_value(it->f, v),
                          numspecs[it->f].min) < 0) {
      return -ERANGE;
    }
  }
  buf[len] = '\0';
  return (int)len;
}
