/*
 * compute.c — the compute plugin: entity property expressions,
 * correlation keys, role model and provisioning orders
 * (doc/provisioning.md). This file declares the task types and their
 * parameters and gives every task its setting: the model, the identity
 * store, the transaction its writes go in. The work is in
 * expressions.c, correlation.c, rolemodel.c and orders.c.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute.h"
#include "db.h"

static const jobhost_param expressions_params[] = {
    JH_PARAM_ENTITY_TYPES,
    JH_PARAM_ALL_ENTITY_TYPE,
    JH_PARAM_BATCH("batch_select_size"),
    JH_PARAM_BATCH("batch_update_size"),
    JH_PARAM_DIRTY,
    JOBHOST_PARAM_END};

static const jobhost_param correlation_params[] = {
    JH_PARAM_ENTITY_TYPES, JH_PARAM_ALL_ENTITY_TYPE,
    JH_PARAM_BATCH("batch_size"), JH_PARAM_DIRTY, JOBHOST_PARAM_END};

static const jobhost_param role_model_params[] = {
    JH_PARAM_ENTITY_TYPES,
    JH_PARAM_BATCH("batch_insert_size"),
    JH_PARAM_BATCH("batch_select_size"),
    JH_PARAM_BOOL_OFF("block_all_resource_type_provisioning",
                      "Send every order of every resource type to review"),
    JH_PARAM_BOOL_OFF("block_provisioning",
                      "Send the orders produced by the policy to review"),
    JH_PARAM_DIRTY,
    JH_PARAM_BOOL_OFF("ignore_historization", "Do not archive prior values"),
    {.name = "ldif_file_path",
     .type = JOBHOST_PARAM_STRING,
     .help = "LDIF file the simulation writes to (with use_ldif)"},
    JH_PARAM_BOOL_OFF("use_ldif", "Simulate into an LDIF file"),
    JOBHOST_PARAM_END};

static const jobhost_param orders_params[] = {
    JH_PARAM_CONNECTOR(0),
    JH_PARAM_RESOURCE_TYPES,
    JH_PARAM_BATCH("batch_insert_size"),
    JH_PARAM_BATCH("batch_select_size"),
    JH_PARAM_BOOL_OFF("force_provisioning",
                      "Bypass provisioning thresholds (set by resume, not "
                      "by configuration)"),
    JOBHOST_PARAM_END};

int jh_compute_flag(jobhost_ctx *ctx, const char *name) {
  const char *v = ctx->svc->param(ctx, name);
  return v != NULL && strcmp(v, "true") == 0;
}

int64_t jh_compute_int(jobhost_ctx *ctx, const char *name) {
  const char *v = ctx->svc->param(ctx, name);
  char *end;
  long long n;
  if (v == NULL)
    return 0;
  errno = 0;
  n = strtoll(v, &end, 10);
  return errno != 0 || end == v || *end != '\0' || n < 0 ? 0 : (int64_t)n;
}

long jh_compute_entity_types(jh_compute *c, int has_all,
                             const jh_entity_type ***out) {
  const jh_model *m = c->model;
  const char *const *names;
  int all = has_all && jh_compute_flag(c->ctx, "all_entity_type");
  size_t n = all ? 0 : c->ctx->svc->param_list(c->ctx, "entity_types", &names);
  size_t count = all ? m->nentity_types : n;
  const jh_entity_type **ets = calloc(count + 1, sizeof(*ets));

  *out = NULL;
  if (ets == NULL) {
    snprintf(c->err, sizeof(c->err), "out of memory");
    return -1;
  }
  for (size_t i = 0; i < count; i++) {
    ets[i] = all ? &m->entity_types[i] : jh_model_entity_type(m, names[i]);
    if (ets[i] == NULL) {
      snprintf(c->err, sizeof(c->err),
               "entity_types: the model has no entity type %s", names[i]);
      free(ets);
      return -1;
    }
  }
  *out = ets;
  return (long)count;
}

static int db_failed(jh_compute *c, const char *what) {
  snprintf(c->err, sizeof(c->err), "%s: %s", what,
           jh_db_errmsg(jh_idstore_db(c->store)));
  return -EIO;
}

int jh_compute_begin(jh_compute *c) {
  c->since_commit = 0;
  return jh_db_begin(jh_idstore_db(c->store)) == 0
             ? 0
             : db_failed(c, "cannot begin a transaction");
}

int jh_compute_commit(jh_compute *c) {
  return jh_db_commit(jh_idstore_db(c->store)) == 0
             ? 0
             : db_failed(c, "cannot commit");
}

void jh_compute_rollback(jh_compute *c) {
  if (c->store != NULL && jh_db_in_transaction(jh_idstore_db(c->store)))
    jh_db_rollback(jh_idstore_db(c->store));
}

int jh_compute_wrote(jh_compute *c) {
  int rc;
  if (c->batch <= 0 || ++c->since_commit < c->batch)
    return 0;
  rc = jh_compute_commit(c);
  return rc == 0 ? jh_compute_begin(c) : rc;
}

int jh_compute_failed_on(jh_compute *c, const char *et, const char *key,
                         size_t len, int rc) {
  if (rc != JOBHOST_ECANCELLED)
    jh_idstore_name_resource(c->err, sizeof(c->err), et, key, len);
  return rc;
}

int jh_compute_clear_each(const jh_compute *c) {
  return c->dirty && c->batch > 0;
}

int jh_compute_clear_all(jh_compute *c, int64_t et, int mask) {
  int64_t n;
  if (!c->dirty || c->batch > 0)
    return 0;
  n = jh_prov_dirty_clear_all(c->store, et, mask, c->err, sizeof(c->err));
  return n < 0 ? (int)n : 0;
}

#define TICK 4096

int jh_compute_tick(jh_compute *c) {
  jobhost_ctx *ctx = c->ctx;
  if (++c->done % TICK != 0)
    return 0;
  ctx->svc->progress(ctx, (uint64_t)c->done, 0);
  if (ctx->svc->is_cancelled(ctx)) {
    snprintf(c->err, sizeof(c->err), "cancelled");
    return JOBHOST_ECANCELLED;
  }
  return 0;
}

/* The model and the identity store, from the host (ABI 1.1). */
static int open_setting(jobhost_ctx *ctx, jh_compute *c) {
  const jobhost_services *svc = ctx->svc;
  const char *path;
  int rc;

  if (!JOBHOST_SVC_HAS(svc, host_object)) {
    snprintf(c->err, sizeof(c->err),
             "this host (ABI %u.%u) lacks the model service",
             (unsigned)svc->abi_major, (unsigned)svc->abi_minor);
    return JOBHOST_EABI;
  }
  c->model = svc->host_object(ctx, JH_MODEL_OBJECT);
  path = svc->host_object(ctx, JH_IDSTORE_OBJECT);
  if (c->model == NULL || path == NULL) {
    snprintf(c->err, sizeof(c->err),
             "the host shares no model or identity store");
    return JOBHOST_ECONFIG;
  }
  rc = jh_idstore_open(path, &c->store, c->err, sizeof(c->err));
  if (rc == 0)
    rc = jh_idstore_cache_size(c->store, JH_IDSTORE_COMPUTE_CACHE_KIB, c->err,
                               sizeof(c->err));
  return rc;
}

/* Run work with the task's setting; reads_dirty: the task has the dirty
 * parameter. */
static int run_task(jobhost_ctx *ctx, int (*work)(jh_compute *c),
                    int reads_dirty) {
  jh_compute c;
  int rc;

  memset(&c, 0, sizeof(c));
  c.ctx = ctx;
  c.task_instance = ctx->task_instance;
  c.dirty = reads_dirty && jh_compute_flag(ctx, JOBHOST_PARAM_NAME_DIRTY);
  rc = open_setting(ctx, &c);
  if (rc == 0)
    rc = work(&c);
  jh_compute_rollback(&c);
  if (rc != 0) {
    ctx->svc->set_message(ctx, "%s", c.err);
    if (rc == JOBHOST_EBLOCKED)
      jobhost_warning(ctx, "%s", c.err);
    else
      jobhost_error(ctx, "%s", c.err);
  }
  jh_idstore_close(c.store);
  return rc;
}

static int expressions_run(jobhost_ctx *ctx) {
  return run_task(ctx, jh_compute_expressions, 1);
}
static int correlation_run(jobhost_ctx *ctx) {
  return run_task(ctx, jh_compute_correlation, 1);
}
static int role_model_run(jobhost_ctx *ctx) {
  return run_task(ctx, jh_compute_role_model, 1);
}
static int orders_run(jobhost_ctx *ctx) {
  return run_task(ctx, jh_compute_orders, 0);
}

static const jobhost_task_type compute_task_types[] = {
    {.name = "UpdateEntityPropertyExpressionsTask",
     .description = "Compute entity property expressions",
     .params = expressions_params,
     .run = expressions_run,
     .flags = JOBHOST_TASK_READS_DIRTY},
    {.name = "ComputeCorrelationKeysTask",
     .description = "Compute the correlation keys of resources",
     .params = correlation_params,
     .run = correlation_run,
     .flags = JOBHOST_TASK_READS_DIRTY},
    {.name = "ComputeRoleModelTask",
     .description = "Apply the role model: expected assignments and their "
                    "provisioning states",
     .params = role_model_params,
     .run = role_model_run,
     .flags = JOBHOST_TASK_READS_DIRTY},
    {.name = "GenerateProvisioningOrdersTask",
     .description = "Write pending assignments as JSON provisioning orders",
     .params = orders_params,
     .run = orders_run,
     .flags = JOBHOST_TASK_CAN_BLOCK},
    JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_DEFINE("compute", PACKAGE_VERSION,
                      "Expressions, correlation keys, role model and "
                      "provisioning orders",
                      compute_task_types, NULL);

int jh_compute_each_entity_type(jh_compute *c,
                                int (*fn)(void *arg, const jh_entity_type *et),
                                void *arg) {
  const jh_entity_type **ets;
  long n = jh_compute_entity_types(c, 1, &ets);
  int rc = n < 0 ? -EINVAL : jh_compute_begin(c);

  for (long i = 0; i < n && rc == 0; i++)
    rc = fn(arg, ets[i]);
  if (rc == 0)
    rc = jh_compute_commit(c);
  free(ets);
  return rc;
}

int jh_compute_rules_open(jh_compute *c, jh_rv **rv, jh_expr_env **env) {
  int rc = jh_rv_new(c->model, c->store, rv);
  *env = NULL;
  if (rc == 0)
    rc = jh_expr_env_new(NULL, jh_rv_resolver(*rv), env);
  if (rc != 0) {
    snprintf(c->err, sizeof(c->err), "out of memory");
    return -ENOMEM;
  }
  return 0;
}

void jh_compute_rules_close(jh_rv *rv, jh_expr_env *env) {
  jh_expr_env_free(env);
  jh_rv_free(rv);
}

void jh_compute_scan_report(jh_compute *c, int rc, int64_t read,
                            int64_t changed, const char *what) {
  jobhost_ctx *ctx = c->ctx;
  ctx->svc->counter_set(ctx, "resources", read);
  ctx->svc->counter_set(ctx, "changed", changed);
  if (rc == 0)
    ctx->svc->set_message(ctx, "%" PRId64 " resources read, %" PRId64 " %s",
                          read, changed, what);
}
