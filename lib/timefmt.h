/*
 * timefmt.h — times and durations as jobhost writes and reads them: the
 * one place that knows their text forms.
 *
 * Times are milliseconds since the Unix epoch (UTC). They are written in
 * ISO 8601, UTC, to the second ("2026-11-25T10:00:00Z") in reports, the
 * stores, manifests and change reports, and to the millisecond in task
 * logs ("2026-11-25T10:00:00.123Z"). Durations are written in pipelines
 * and on the command line as "N" (seconds) or "Nms", "Ns", "Nm", "Nh",
 * and shown to people as "812ms", "9.0s", "4m05s", "2h03m" or "3d04h".
 */
#ifndef JH_TIMEFMT_H
#define JH_TIMEFMT_H

#include <stdint.h>
#include <time.h>

/* Size of a buffer for any of the formats below, its NUL included. */
#define JH_TIME_SIZE 32

/* What a duration parsed by jh_duration_parse looks like, for messages. */
#define JH_DURATION_EXPECTED "a duration (N seconds, or Nms, Ns, Nm, Nh)"

/* The current time. */
int64_t jh_now_ms(void);

/* ms as "2026-11-25T10:00:00Z" (rounded down to the second, also before
 * 1970), or "(invalid time)" when it cannot be shown. */
void jh_time_iso(int64_t ms, char buf[JH_TIME_SIZE]);

/* ms as "2026-11-25T10:00:00.123Z", for log lines. */
void jh_time_iso_ms(int64_t ms, char buf[JH_TIME_SIZE]);

/* "-" for ms 0 (a time not set), else jh_time_iso; but only the time of
 * day, "10:00:09", when ms falls on the same UTC day as ref (nonzero):
 * task times read against their job's start. */
void jh_time_iso_near(int64_t ms, int64_t ref, char buf[JH_TIME_SIZE]);

/* The local time of day of t, "10:00:09", for console lines. */
void jh_time_local_hms(time_t t, char buf[JH_TIME_SIZE]);

/* Parse a duration: decimal digits and an optional unit, ms, s, m or h
 * (none: seconds), nothing else (no sign, no space). Returns 0 and *ms,
 * or -1 (malformed, or more than a long holds). */
int jh_duration_parse(const char *text, long *ms);

/* A duration for people: "812ms", "9.0s", "4m05s", "2h03m", "3d04h";
 * "-" for a negative one (not known). */
void jh_duration_human(int64_t ms, char buf[JH_TIME_SIZE]);

#endif /* JH_TIMEFMT_H */
