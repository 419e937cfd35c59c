/*
 * report.h — the run report (README.md, "Commands"):
 *
 *   {"job": "...", "instance": 7, "state": "Warning",
 *    "started_at": "...Z", "ended_at": "...Z",
 *    "tasks": [{"id", "type", "level", "state", "produced_output",
 *               "started_at", "ended_at", "duration_ms", "attempts",
 *               "counters": {...}, "message": ""}]}
 *
 * Tasks that never started have null times and duration 0. Secrets never
 * reach a report: it holds only states, counters and messages.
 */
#ifndef JH_REPORT_H
#define JH_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

typedef struct jh_report_task {
  const char *id;
  const char *type;
  int level;
  jh_state state;
  int produced_output;
  int64_t started_ms; /* 0: never started */
  int64_t ended_ms;
  int attempts;
  const char *counters_json; /* JSON object text or NULL */
  const char *message;       /* NULL: "" */
} jh_report_task;

/* The report as JSON text, malloc'd (caller frees), or NULL when out of
 * memory. */
char *jh_report_json(const char *job_id, int64_t instance, jh_state state,
                     int64_t started_ms, int64_t ended_ms,
                     const jh_report_task *tasks, size_t ntasks);

/* Write text to path atomically (temporary file, fsync, rename): the file
 * is either the old one or the whole new one. Returns 0 or -errno. */
int jh_report_write(const char *path, const char *json);

#endif /* JH_REPORT_H */
