/*
 * rules_task.c — see rules_task.h.
 */
#include "config.h"

#include "rules_task.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "idstore.h"

/* The model and the identity store, from the host. */
static int open_setting(jobhost_ctx *ctx, jh_rules_task *t) {
  const jobhost_services *svc = ctx->svc;
  const char *path;

  if (!JOBHOST_SVC_HAS(svc, host_object)) {
    snprintf(t->err, sizeof(t->err),
             "this host (ABI %u.%u) lacks the model service",
             (unsigned)svc->abi_major, (unsigned)svc->abi_minor);
    return JOBHOST_EABI;
  }
  t->model = svc->host_object(ctx, JH_MODEL_OBJECT);
  path = svc->host_object(ctx, JH_IDSTORE_OBJECT);
  if (t->model == NULL || path == NULL) {
    snprintf(t->err, sizeof(t->err),
             "the host shares no model or identity store");
    return JOBHOST_ECONFIG;
  }
  return jh_idstore_open(path, &t->store, t->err, sizeof(t->err));
}

static int db_failed(jh_rules_task *t, const char *what) {
  snprintf(t->err, sizeof(t->err), "%s: %s", what,
           jh_db_errmsg(jh_idstore_db(t->store)));
  return -EIO;
}

int jh_rules_open(jobhost_ctx *ctx, jh_rules_task *t) {
  int rc;
  memset(t, 0, sizeof(*t));
  t->ctx = ctx;
  rc = open_setting(ctx, t);
  if (rc != 0)
    return rc;
  if (jh_rv_new(t->model, t->store, &t->rv) != 0 ||
      jh_expr_env_new(NULL, jh_rv_resolver(t->rv), &t->env) != 0) {
    snprintf(t->err, sizeof(t->err), "out of memory");
    return -ENOMEM;
  }
  if (jh_db_begin(jh_idstore_db(t->store)) != 0)
    return db_failed(t, "cannot begin a transaction");
  return 0;
}

int jh_rules_commit(jh_rules_task *t) {
  return jh_db_commit(jh_idstore_db(t->store)) == 0
             ? 0
             : db_failed(t, "cannot commit");
}

int jh_rules_close(jh_rules_task *t, int rc) {
  jobhost_ctx *ctx = t->ctx;
  if (t->store != NULL && jh_db_in_transaction(jh_idstore_db(t->store)))
    jh_db_rollback(jh_idstore_db(t->store));
  if (rc != 0) {
    ctx->svc->set_message(ctx, "%s", t->err);
    jobhost_error(ctx, "%s", t->err);
  }
  jh_expr_env_free(t->env);
  jh_rv_free(t->rv);
  jh_idstore_close(t->store);
  t->env = NULL;
  t->rv = NULL;
  t->store = NULL;
  return rc;
}

#define TICK 4096

int jh_rules_tick(jh_rules_task *t) {
  jobhost_ctx *ctx = t->ctx;
  if (++t->done % TICK != 0)
    return 0;
  ctx->svc->progress(ctx, (uint64_t)t->done, 0);
  if (ctx->svc->is_cancelled(ctx)) {
    snprintf(t->err, sizeof(t->err), "cancelled");
    return JOBHOST_ECANCELLED;
  }
  return 0;
}

int jh_rules_failed_on(jh_rules_task *t, const char *et, const char *key,
                       size_t len, int rc) {
  if (rc != JOBHOST_ECANCELLED)
    jh_idstore_name_resource(t->err, sizeof(t->err), et, key, len);
  return rc;
}

int jh_rules_listed(jobhost_ctx *ctx, const char *name, const char *id) {
  const char *const *items;
  size_t n = ctx->svc->param_list(ctx, name, &items);
  for (size_t i = 0; id != NULL && i < n; i++)
    if (strcmp(items[i], id) == 0)
      return 1;
  return 0;
}

size_t jh_rules_list_size(jobhost_ctx *ctx, const char *name) {
  const char *const *items;
  return ctx->svc->param_list(ctx, name, &items);
}

void jh_rules_where(jh_mloc loc, char *buf, size_t size) {
  snprintf(buf, size, "%s:%d", loc.file != NULL ? loc.file : "?", loc.line);
}
