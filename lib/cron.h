/*
 * cron.h — five-field cron expressions: parsing and the next fire time.
 *
 *   minute hour day-of-month month day-of-week
 *
 * Each field is `*`, or a comma-separated list of items; an item is a
 * value, a range `a-b`, or either followed by a step `/n` (`*` with a
 * step is the whole range; `a/n` runs from a to the field's end). Months
 * may be named jan..dec and days sun..sat (any case); day of week 0 and 7
 * are both Sunday; `?` stands for `*` in the two day fields. As in the
 * classic cron, when both day fields are restricted (neither starts with
 * `*` or `?`), a day matches when either does.
 *
 * Times are whole minutes; the wall clock of a zone is either UTC or the
 * process's local time zone (TZ).
 */
#ifndef JH_CRON_H
#define JH_CRON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct jh_cron {
  uint64_t minute; /* bit m: minute m (0-59) */
  uint32_t hour;   /* bit h: hour h (0-23) */
  uint32_t mday;   /* bit d: day d (1-31) */
  uint16_t month;  /* bit m: month m (1-12) */
  uint8_t wday;    /* bit d: day d (0-6, 0 Sunday) */
  int mday_any;    /* the day-of-month field starts with '*' or '?' */
  int wday_any;    /* the day-of-week field starts with '*' or '?' */
} jh_cron;

/* Room for an error message of jh_cron_parse. */
#define JH_CRON_ERR_SIZE 160

/*
 * Parse `text`. Returns 0 and fills *out; or -1 with *column the 1-based
 * column in `text` where the offending field or item starts (the end of
 * the text when a field is missing) and a message in err ("minute 61 is
 * out of range 0-59", "step 0 in '*\/0'", ...).
 */
int jh_cron_parse(const char *text, jh_cron *out, int *column, char *err,
                  size_t errsize);

/* Whether the wall-clock time `tm` (tm_min, tm_hour, tm_mday, tm_mon,
 * tm_wday as struct tm has them) matches. */
int jh_cron_matches(const jh_cron *c, const struct tm *tm);

/*
 * The first fire time strictly after `after` (seconds since the epoch), on
 * the wall clock of UTC (utc != 0) or of the local time zone. A local time
 * that a daylight-saving change skips fires at the time the clock moves
 * to; a local time that occurs twice fires once, the first time. Returns
 * 0 and sets *next, or -1 when nothing fires within eight years (e.g.
 * "0 0 31 2 *", a day that never comes).
 */
int jh_cron_next(const jh_cron *c, time_t after, int utc, time_t *next);

#endif /* JH_CRON_H */
