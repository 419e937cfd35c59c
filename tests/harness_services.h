/*
 * harness_services.h — a stand-in for the host services, to call a task
 * type's or a package's entry points in the test process.
 *
 * A jh_fake_host is the ctx->host_private of the task it runs: the test
 * sets what the task is to see (parameters, settings, folders, a cookie,
 * a package, the model) and reads what it did (message, log, counters,
 * produced output, progress, cookie, tables). Tables are written as
 * <table_dir>/<name>.csv through lib/csv. It needs lib/ and the SDK
 * headers only: tests of plugins link it without the host.
 */
#ifndef JH_HARNESS_SERVICES_H
#define JH_HARNESS_SERVICES_H

#include <stddef.h>
#include <stdint.h>

#include <jobhost/jobhost.h>

#define JH_FAKE_MAX_PAIRS 16
#define JH_FAKE_MAX_COUNTERS 16

/* name -> value, in the order they were first set */
typedef struct jh_fake_pairs {
  const char *item[JH_FAKE_MAX_PAIRS][2];
  size_t n;
} jh_fake_pairs;

typedef struct jh_fake_host {
  /* ---- what the task sees: set by the test, kept across runs ---- */
  const jobhost_task_type *type; /* its schema gives parameter defaults */
  int strict_params;             /* reading an undeclared parameter fails */
  jh_fake_pairs params;          /* parameters written (value NULL: unset) */
  jh_fake_pairs settings;        /* the connection's settings */
  const char *folders[JOBHOST_FOLDER_TASK_WORK + 1]; /* NULL: unknown */
  const char *table_dir; /* NULL: table_open refuses (-EPERM) */
  char *cookie_in;       /* malloc'd, owned; NULL: no cookie */
  size_t cookie_in_len;
  const jobhost_package *package; /* connection_package */
  const void *model;              /* host object JH_MODEL_OBJECT, or NULL */
  const char *idstore;            /* host object JH_IDSTORE_OBJECT, or NULL */
  struct {
    const char *name;
    const char *const *items; /* NULL-terminated */
  } lists[4];                 /* list parameters (param_list) */
  long cancel_after;          /* is_cancelled says yes from this call on
                                 (0: at once); < 0: never */
  int log_fd;                 /* >= 0: each log line is also written there */

  /* ---- what the task did: cleared by jh_fake_host_reset ---- */
  char message[2048];
  char *log; /* "level: text\n" lines, malloc'd */
  size_t log_len;
  size_t log_lines[JOBHOST_LOG_DEBUG + 1];
  char last_log[2048];
  struct {
    char name[64];
    int64_t value;
  } counters[JH_FAKE_MAX_COUNTERS];
  size_t ncounters;
  char counter_trail[1024]; /* "name=value " at each change, in order */
  int produced;             /* -1 until set_produced_output */
  uint64_t progress_done, progress_total;
  char *cookie_out; /* what cookie_set gave, malloc'd, or NULL */
  size_t cookie_out_len;
  int open_tables;
  long cancel_calls;
  int committed; /* calls of the JH_COMMIT_OBJECT notice */
  int committed_held;
} jh_fake_host;

/* The services table; every entry reads ctx->host_private. */
extern const jobhost_services jh_fake_services;

/* A host that sees nothing: no parameter, setting, folder, table folder,
 * cookie, package or model, never cancelled. */
void jh_fake_host_init(jh_fake_host *h);

/* Forget what the task did (the outputs above). */
void jh_fake_host_reset(jh_fake_host *h);

/* Free what the host owns (log, cookies). */
void jh_fake_host_clear(jh_fake_host *h);

/* Set name to value in pairs, replacing an earlier value. */
void jh_fake_put(jh_fake_pairs *pairs, const char *name, const char *value);

/* Set every (name, value) of a NULL-terminated list; NULL sets none. */
void jh_fake_put_all(jh_fake_pairs *pairs, const char *const *list);

/* Set list parameter name to items (NULL-terminated, borrowed). */
void jh_fake_put_list(jh_fake_host *h, const char *name,
                      const char *const *items);

/* A context for task `task_id` of type `task_type` on host h. */
jobhost_ctx jh_fake_ctx(jh_fake_host *h, const char *task_id,
                        const char *task_type);

/* The named counter; one never set fails the test. */
int64_t jh_fake_counter(const jh_fake_host *h, const char *name);

#endif /* JH_HARNESS_SERVICES_H */
