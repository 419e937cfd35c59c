/*
 * progress.h — what a running job prints for the person who started it:
 * timestamped lines (a task started, ended, was retried...), a status
 * line redrawn on a terminal, and the summary table at the end. Nothing
 * here decides anything; the executor says what to print.
 */
#ifndef JH_PROGRESS_H
#define JH_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jobhost/jobhost.h>

#include "store.h"

typedef struct jh_progress {
  FILE *out; /* NULL: print nothing */
  int live;  /* out is a terminal: a status line is redrawn */
  int shown; /* the status line is on screen */
} jh_progress;

/* "HH:MM:SS <text>\n", written at once (the status line cleared first). */
void jh_progress_note(jh_progress *p, const char *fmt, ...)
    JOBHOST_PRINTF(2, 3);

/* One running task on the status line. */
typedef struct jh_progress_item {
  const char *id;
  uint64_t done, total; /* its progress; total 0: none reported */
} jh_progress_item;

/* Live only: "[done/total] id done/total ... +more", where the items are
 * the first running tasks (at most JH_PROGRESS_ITEMS) of nrunning. */
#define JH_PROGRESS_ITEMS 4
void jh_progress_status(jh_progress *p, size_t done, size_t total,
                        const jh_progress_item *items, size_t nitems,
                        size_t nrunning);

/* Erase the status line, if shown. */
void jh_progress_clear(jh_progress *p);

/* The summary: a header, then one row per task, then the job's line with
 * the number of tasks in each state (count, by jh_state). */
void jh_progress_table_head(jh_progress *p);
void jh_progress_table_row(jh_progress *p, const char *id, const char *type,
                           jh_state state, const char *message);
void jh_progress_job_line(jh_progress *p, const char *job_id, int64_t instance,
                          jh_state state, int64_t ms,
                          const size_t count[JH_STATE_INTERRUPTED + 1]);

#endif /* JH_PROGRESS_H */
