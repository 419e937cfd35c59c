/*
 * tzdate.h — time zones by IANA name and .NET-style date patterns, for
 * the date functions of expressions (doc/expressions.md).
 *
 * Zones are read from the compiled zone files ($TZDIR, else
 * /usr/share/zoneinfo), including the rule that follows the last
 * transition; nothing here touches TZ, tzset or any global state, so
 * it is safe in any process and thread. A loaded jh_tz is immutable.
 * Times are seconds since the epoch (UTC).
 */
#ifndef JH_TZDATE_H
#define JH_TZDATE_H

#include <stddef.h>
#include <stdint.h>

typedef struct jh_tz jh_tz;

/* Load zone name ("Europe/Paris", "UTC"). 0 and *out (jh_tz_free), or
 * -EINVAL (a name that is not an IANA zone name, with a suggestion for
 * a few common Windows names), -ENOENT (no such zone) or -errno, with a
 * message in err. */
int jh_tz_load(const char *name, jh_tz **out, char *err, size_t errsize);
void jh_tz_free(jh_tz *z);

/* Offset from UTC (seconds east) in force at utc. */
int32_t jh_tz_offset_at(const jh_tz *z, int64_t utc);
/* The UTC time of local wall-clock time local (seconds as if UTC). In a
 * gap (spring forward) the time is moved forward by the gap; in a fold
 * (fall back) the earlier occurrence is taken. */
int64_t jh_tz_local_to_utc(const jh_tz *z, int64_t local);

/*
 * Date patterns: yyyy yy MM M dd d HH H mm ss fff, text in single quotes
 * and \x as literals, any other character literal. jh_datefmt_compile
 * checks a pattern: 0 and *out (jh_datefmt_free), or -EINVAL with err.
 */
typedef struct jh_datefmt jh_datefmt;
int jh_datefmt_compile(const char *pattern, jh_datefmt **out, char *err,
                       size_t errsize);
void jh_datefmt_free(jh_datefmt *f);
/* 0 when f can be parsed, having a year, a month and a day field; else
 * -EINVAL with err (a pattern such as HH:mm only formats). */
int jh_datefmt_check_parse(const jh_datefmt *f, char *err, size_t errsize);
/* Parse s (n bytes, all of it) as wall-clock time: 0 and *secs (as if
 * UTC), or -EINVAL with err naming the pattern. */
int jh_datefmt_parse(const jh_datefmt *f, const char *s, size_t n,
                     int64_t *secs, char *err, size_t errsize);
/* Format wall-clock time secs into buf: the length, or -ERANGE. */
int jh_datefmt_format(const jh_datefmt *f, int64_t secs, char *buf,
                      size_t size);

#endif /* JH_TZDATE_H */
