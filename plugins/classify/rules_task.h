/*
 * rules_task.h — what the classify and profiles plugins share
 * (doc/classification.md): a task that evaluates model rules on the
 * resources of the identity store, in one write transaction. Rules read
 * resources through the compute plugin's resource view (resview.c,
 * compiled into both plugins; plugins/compute/compute.h).
 */
#ifndef JH_RULES_TASK_H
#define JH_RULES_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "compute.h"

#define JH_RULES_ERR 2048

typedef struct jh_rules_task {
  jobhost_ctx *ctx;
  const jh_model *model;
  jh_idstore *store;
  jh_rv *rv;
  jh_expr_env *env;
  int64_t done; /* resources read, for progress */
  char err[JH_RULES_ERR];
} jh_rules_task;

/* Open the model, the identity store, the resource view and the
 * expression environment, and begin the write transaction. 0, or a
 * negative code or JOBHOST_E* with t->err. */
int jh_rules_open(jobhost_ctx *ctx, jh_rules_task *t);
/* Commit the transaction. 0 or -EIO with t->err. */
int jh_rules_commit(jh_rules_task *t);
/* Roll back what is not committed, report rc (not 0) as the task's error
 * with t->err as its message, and free everything. Returns rc. */
int jh_rules_close(jh_rules_task *t, int rc);

/* One more resource read: progress now and then, and the cancel check.
 * 0 or JOBHOST_ECANCELLED. */
int jh_rules_tick(jh_rules_task *t);
/* Put "<entity type> <key>: " before t->err; returns rc. */
int jh_rules_failed_on(jh_rules_task *t, const char *et, const char *key,
                       size_t len, int rc);

/* Whether the task's list parameter `name` holds id. */
int jh_rules_listed(jobhost_ctx *ctx, const char *name, const char *id);
/* The number of items of the task's list parameter `name`. */
size_t jh_rules_list_size(jobhost_ctx *ctx, const char *name);

/* "file:line" of where loc is written, into buf. */
void jh_rules_where(jh_mloc loc, char *buf, size_t size);

#endif /* JH_RULES_TASK_H */
