/*
 * classify.c — the classify plugin: UpdateClassificationTask
 * (doc/classification.md). For each entity type of the task, every
 * target resource is read in key order: one that an owner holds through
 * an assignment of the role model (ComputeRoleModelTask's correlation or
 * provisioning) is explained; any other is given the resource type of
 * the classification rule that holds for it with the highest confidence
 * (the first such rule on a tie), or, when none holds, recorded as an
 * orphan. The stored classification of the entity type is replaced by
 * what the run found, in one transaction.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_task.h"

static const jobhost_param classify_params[] = {JH_PARAM_ENTITY_TYPES,
                                                JH_PARAM_BATCH("batch_size"),
                                                JH_PARAM_DIRTY,
                                                JOBHOST_PARAM_END};

/* A classification rule compiled, and where it is written. */
typedef struct crule {
  const jh_classification_rule *r;
  jh_expr *x;
  char where[256];
} crule;

typedef struct counts {
  int64_t read, correlated, classified, review, orphans, changed;
} counts;

/* The classification of one entity type. */
typedef struct cjob {
  jh_rules_task *t;
  const jh_entity_type *et;
  const jh_resource_type **rts; /* the resource types targeting et */
  size_t nrts;
  crule *rules; /* the classification rules of those resource types */
  size_t nrules;
  counts *n;
} cjob;

static int oom(jh_rules_task *t) {
  snprintf(t->err, sizeof(t->err), "out of memory");
  return -ENOMEM;
}

static int targets_et(const jh_resource_type *rt, const jh_entity_type *et) {
  return rt != NULL && rt->id != NULL && rt->target_entity_type != NULL &&
         strcmp(rt->target_entity_type, et->id) == 0;
}

/* The resource types and the compiled rules of j->et. */
static int prepare(cjob *j) {
  const jh_model *m = j->t->model;
  j->rts = calloc(m->nresource_types + 1, sizeof(*j->rts));
  j->rules = calloc(m->nclassification_rules + 1, sizeof(*j->rules));
  if (j->rts == NULL || j->rules == NULL)
    return oom(j->t);
  for (size_t i = 0; i < m->nresource_types; i++)
    if (targets_et(&m->resource_types[i], j->et))
      j->rts[j->nrts++] = &m->resource_types[i];
  for (size_t i = 0; i < m->nclassification_rules; i++) {
    const jh_classification_rule *r = &m->classification_rules[i];
    crule *c = &j->rules[j->nrules];
    char name[512];
    int rc;
    if (!targets_et(jh_model_resource_type(m, r->resource_type), j->et))
      continue;
    snprintf(name, sizeof(name), "resource classification rule %zu ('%s')",
             i + 1, r->resource_type);
    rc = jh_expr_compile(j->t->env, r->target.binding, r->target.expression,
                         r->target.loc, name, &c->x, j->t->err,
                         sizeof(j->t->err));
    if (rc != 0)
      return rc;
    c->r = r;
    jh_rules_where(r->loc, c->where, sizeof(c->where));
    j->nrules++;
  }
  return 0;
}

/* Whether an owner holds target key through one of j's resource types:
 * 1, 0, or -EIO. */
static int correlated(cjob *j, const char *key) {
  for (size_t i = 0; i < j->nrts; i++) {
    jh_prov_assignment a;
    int rc = jh_prov_assignment_by_target(j->t->store, j->rts[i]->id, key, &a,
                                          j->t->err, sizeof(j->t->err));
    if (rc < 0)
      return rc;
    if (rc == 1 && a.owner_key != NULL)
      return 1;
  }
  return 0;
}

/* The rule of highest confidence that holds for res (NULL: none). 0 or
 * the evaluation's error. */
static int best_rule(cjob *j, const void *res, const crule **best) {
  *best = NULL;
  for (size_t i = 0; i < j->nrules; i++) {
    int truth = 0;
    int rc = jh_expr_eval_bool(j->rules[i].x, res, &truth, j->t->err,
                               sizeof(j->t->err));
    if (rc != 0)
      return rc;
    if (truth &&
        (*best == NULL || j->rules[i].r->confidence > (*best)->r->confidence))
      *best = &j->rules[i];
  }
  return 0;
}

static int classify_one(cjob *j, const jh_prov_resource *r) {
  jh_rules_task *t = j->t;
  const jh_rv_res *res;
  const crule *best;
  jh_prov_class c = {.entity_type = j->et->id,
                     .task_instance = t->ctx->task_instance};
  char *key = jh_rv_strdup(t->rv, r->key, r->key_len);
  int rc = key == NULL ? oom(t) : correlated(j, key);

  if (rc != 0) {
    j->n->correlated += rc == 1;
    return rc < 0 ? rc : 0;
  }
  rc = jh_rv_wrap(t->rv, j->et, r, &res, t->err, sizeof(t->err));
  if (rc == 0)
    rc = best_rule(j, res, &best);
  if (rc != 0)
    return rc;
  c.key = key;
  c.key_len = r->key_len;
  if (best != NULL) {
    c.resource_type = best->r->resource_type;
    c.confidence = best->r->confidence;
    c.rule = best->where;
    j->n->classified++;
    j->n->review += best->r->confidence < 100;
  } else {
    j->n->orphans++;
  }
  rc = jh_prov_class_put(t->store, &c, t->err, sizeof(t->err));
  if (rc < 0)
    return rc;
  j->n->changed += rc;
  return 0;
}

static int on_target(void *ud, const jh_prov_resource *r) {
  cjob *j = ud;
  int rc;
  jh_rv_reset(j->t->rv);
  j->n->read++;
  rc = classify_one(j, r);
  if (rc != 0)
    return jh_rules_failed_on(j->t, j->et->id, r->key, r->key_len, rc);
  return jh_rules_tick(j->t);
}

static int classify_entity_type(jh_rules_task *t, const jh_entity_type *et,
                                counts *n) {
  cjob j = {.t = t, .et = et, .n = n};
  int64_t num, removed;
  int rc = prepare(&j);

  if (rc == 0)
    rc = jh_rv_entity_type(t->rv, et, &num, t->err, sizeof(t->err));
  if (rc == 0)
    rc = jh_prov_class_begin(t->store, t->err, sizeof(t->err));
  if (rc == 0)
    rc = jh_prov_scan(t->store, num, 0, on_target, &j, t->err, sizeof(t->err));
  if (rc == 0) {
    removed = jh_prov_class_finish(t->store, et->id, t->err, sizeof(t->err));
    if (removed < 0)
      rc = (int)removed;
    else
      n->changed += removed;
  }
  free(j.rts);
  free(j.rules);
  return rc;
}

/* The entity types of the task: its entity_types, or, with none, the
 * target entity types of the model's resource types. *out: a malloc'd
 * array of borrowed pointers. The count, or -1 with t->err. */
static long task_entity_types(jh_rules_task *t, const jh_entity_type ***out) {
  const jh_model *m = t->model;
  const char *const *names;
  size_t n = t->ctx->svc->param_list(t->ctx, "entity_types", &names);
  size_t cap = n > 0 ? n : m->nresource_types, count = 0;
  const jh_entity_type **ets = calloc(cap + 1, sizeof(*ets));

  if ((*out = ets) == NULL) {
    oom(t);
    return -1;
  }
  for (size_t i = 0; i < n; i++)
    if ((ets[count++] = jh_model_entity_type(m, names[i])) == NULL) {
      snprintf(t->err, sizeof(t->err),
               "entity_types: the model has no entity type %s", names[i]);
      return -1;
    }
  for (size_t i = 0; n == 0 && i < m->nresource_types; i++) {
    const jh_entity_type *et = jh_model_entity_type(
        m, m->resource_types[i].target_entity_type);
    int seen = et == NULL;
    for (size_t k = 0; k < count && !seen; k++)
      seen = ets[k] == et;
    if (!seen)
      ets[count++] = et;
  }
  return (long)count;
}

static void report(jobhost_ctx *ctx, const counts *n, int rc) {
  const jobhost_services *svc = ctx->svc;
  svc->counter_set(ctx, "resources", n->read);
  svc->counter_set(ctx, "correlated", n->correlated);
  svc->counter_set(ctx, "classified", n->classified);
  svc->counter_set(ctx, "orphans", n->orphans);
  svc->counter_set(ctx, "changed", n->changed);
  if (n->review > 0)
    svc->counter_set(ctx, "to_review", n->review);
  if (rc == 0)
    svc->set_message(ctx,
                     "%" PRId64 " targets read: %" PRId64
                     " correlated, %" PRId64 " classified, %" PRId64
                     " orphans (%" PRId64 " rows changed)",
                     n->read, n->correlated, n->classified, n->orphans,
                     n->changed);
}

static int classify_run(jobhost_ctx *ctx) {
  jh_rules_task t;
  counts n = {0};
  const jh_entity_type **ets = NULL;
  long count = -1;
  int rc = jh_rules_open(ctx, &t);

  if (rc == 0 && (count = task_entity_types(&t, &ets)) < 0)
    rc = -EINVAL;
  for (long i = 0; i < count && rc == 0; i++)
    rc = classify_entity_type(&t, ets[i], &n);
  if (rc == 0)
    rc = jh_rules_commit(&t);
  free(ets);
  report(ctx, &n, rc);
  return jh_rules_close(&t, rc);
}

static const jobhost_task_type classify_task_types[] = {
    {.name = "UpdateClassificationTask",
     .description = "Classify resources with the resource classification rules",
     .params = classify_params,
     .run = classify_run,
     .flags = JOBHOST_TASK_READS_DIRTY},
    JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_DEFINE("classify", PACKAGE_VERSION,
                      "Classification of resources", classify_task_types, NULL);
