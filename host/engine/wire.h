/*
 * wire.h — what a task reports while it runs, and how it travels from a
 * worker process to the host.
 *
 * A task's services (services.c) turn each report — a log line, progress,
 * a counter, the produced-output flag, the message, the result — into one
 * record. In a worker process the records are written to a pipe; the host
 * reads them and applies them to the task's outcome. With --isolation none
 * they are applied at once. One code path either way.
 *
 * Record: u32 payload length (host byte order: both ends are the same
 * program), u8 type, payload. Text payloads are not NUL-terminated.
 */
#ifndef JH_WIRE_H
#define JH_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JH_WIRE_MAX_PAYLOAD (64u * 1024u) /* longer text is truncated */

typedef enum jh_wire_type {
  JH_WIRE_LOG = 1,         /* u8 level, text */
  JH_WIRE_PROGRESS = 2,    /* u64 done, u64 total */
  JH_WIRE_COUNTER_ADD = 3, /* i64 delta, name */
  JH_WIRE_COUNTER_SET = 4, /* i64 value, name */
  JH_WIRE_OUTPUT = 5,      /* u8 produced */
  JH_WIRE_MESSAGE = 6,     /* text */
  JH_WIRE_RESULT = 7,      /* i32 code */
  JH_WIRE_COMMITTED = 8    /* u8 held (or empty: 0): the task passed its
                              point of no return (its transaction is
                              committed, having applied its changes, or
                              held them when held is 1); a kill after this
                              does not undo it */
} jh_wire_type;

/* A task log's size cap: 64 MiB, or JOBHOST_TASK_LOG_MAX_BYTES. */
#define JH_TASK_LOG_MAX_BYTES (64ull * 1024u * 1024u)

typedef struct jh_counter {
  char *name; /* owned */
  int64_t value;
} jh_counter;

/* What a COMMITTED record said (jh_outcome.committed; 0: none came). */
enum { JH_COMMITTED_APPLIED = 1, JH_COMMITTED_HELD = 2 };

/* Everything the host learns about one task attempt. */
typedef struct jh_outcome {
  int has_result;      /* a RESULT record arrived */
  int result;          /* its code */
  int produced_output; /* -1: not said (defaults to 1 on success) */
  char *message;       /* owned, may be NULL */
  jh_counter *counters;
  size_t ncounters;
  uint64_t progress_done, progress_total;
  uint64_t log_lines;
  int committed;      /* a COMMITTED record arrived: JH_COMMITTED_* */
  uint64_t log_max;   /* the log's cap in bytes; 0: jh_task_log_max() */
  uint64_t log_bytes; /* written to the log by jh_outcome_log_write */
  uint64_t dropped_lines, dropped_bytes; /* kept out by the cap */
  FILE *log; /* where log records go; opened from log_path on first use
                and then owned by the outcome (see jh_outcome_close_log) */
  const char *log_path; /* borrowed; NULL: log records are only counted */
  const char *task_id;  /* borrowed, prefixes log lines */
} jh_outcome;

/* Write a record's 5-byte header and its head into buf (5 + head_len
 * bytes), for a text of *text_len bytes to follow; *text_len is cut so
 * that the payload fits JH_WIRE_MAX_PAYLOAD. Returns the payload length. */
uint32_t jh_wire_header(unsigned char *buf, jh_wire_type type, const void *head,
                        size_t head_len, size_t *text_len);

/* Encode one record into buf (at least 5 + payload bytes; payload is
 * truncated to JH_WIRE_MAX_PAYLOAD). Returns the record length. */
size_t jh_wire_encode(unsigned char *buf, jh_wire_type type, const void *head,
                      size_t head_len, const char *text, size_t text_len);

/* Apply one record's payload to an outcome. Returns 0, -EPROTO for a
 * malformed record, -ENOMEM. */
int jh_wire_apply(jh_outcome *o, jh_wire_type type, const unsigned char *p,
                  size_t len);

/* Incremental reader for the host side: append bytes, then apply every
 * complete record. */
typedef struct jh_wire_reader {
  unsigned char *buf;
  size_t len, cap;
} jh_wire_reader;

int jh_wire_feed(jh_wire_reader *r, jh_outcome *o, const unsigned char *data,
                 size_t n);
void jh_wire_reader_clear(jh_wire_reader *r);

/* The log, opened for append on first use (NULL when it cannot be). */
FILE *jh_outcome_log(jh_outcome *o);

/* Write len bytes holding `lines` lines of the task's output to its log,
 * within the cap: once the cap is reached a note says so and what follows
 * is dropped and counted. */
void jh_outcome_log_write(jh_outcome *o, const char *buf, size_t len,
                          uint64_t lines);

/* At the end of an attempt: when lines were dropped, a note with their
 * count (the host's own notes are not capped). */
void jh_outcome_log_dropped_note(jh_outcome *o);

/* The cap of a task log: JOBHOST_TASK_LOG_MAX_BYTES when set to a positive
 * number, else JH_TASK_LOG_MAX_BYTES. */
uint64_t jh_task_log_max(void);

/* Close the log if it was opened. */
void jh_outcome_close_log(jh_outcome *o);

/* Free the outcome's owned members and zero it (the log, log_path and
 * task_id are kept). */
void jh_outcome_clear(jh_outcome *o);

/* The counters as a JSON object text, malloc'd ("{}" when none). */
char *jh_outcome_counters_json(const jh_outcome *o);

#endif /* JH_WIRE_H */
