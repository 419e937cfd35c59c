/*
 * profiles.c — the profiles plugin: SetInternalUserProfilesTask
 * (doc/classification.md, "Profiles"). The task covers entity types: its
 * entity_types, the owners' entity type of each of its resource_types,
 * or, with neither, every entity type a profile rule context names. For
 * each covered entity type, every context on it is applied to its
 * resources (a resource_type context: the owners holding a target of
 * it), each rule giving or refusing its profile, unscoped or once per
 * sub-resource; then the stored profiles of the entity type become
 * exactly those given and not refused: the new ones are added, the
 * others removed.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_task.h"

static const jobhost_param profiles_params[] = {
    JH_PARAM_ENTITY_TYPES, JH_PARAM_RESOURCE_TYPES,
    JH_PARAM_BATCH("batch_insert_size"), JH_PARAM_BATCH("batch_select_size"),
    JOBHOST_PARAM_END};

typedef struct counts {
  int64_t read, added, removed;
} counts;

/* A rule compiled. */
typedef struct prule {
  const jh_profile_rule *r;
  jh_expr *root, *sub; /* NULL: selects every resource */
} prule;

/* One context being applied. */
typedef struct pjob {
  jh_rules_task *t;
  const jh_profile_context *c;
  const jh_entity_type *et, *sub_et;
  jh_expr *sub_binding; /* NULL without a sub_binding */
  prule *rules;
  counts *n;
} pjob;

static int oom(jh_rules_task *t) {
  snprintf(t->err, sizeof(t->err), "out of memory");
  return -ENOMEM;
}

/* Compile an optional criterion (NULL when the rule gives none). */
static int compile(pjob *j, const jh_value_rule *v, const char *rule,
                   jh_expr **out) {
  *out = NULL;
  if (v->binding == NULL && v->expression == NULL)
    return 0;
  return jh_expr_compile(j->t->env, v->binding, v->expression, v->loc, rule,
                         out, j->t->err, sizeof(j->t->err));
}

/* The context's sub_binding compiled, and its entity type. */
static int prepare_sub(pjob *j) {
  const jh_profile_context *c = j->c;
  char name[512];
  j->sub_et = jh_model_entity_type(j->t->model, c->sub_entity_type);
  if (j->sub_et == NULL) { /* the loader fills it in for a sub_binding */
    snprintf(j->t->err, sizeof(j->t->err),
             "sub_binding '%s' of a profile rule context of %s leads to no "
             "entity type",
             c->sub_binding, c->entity_type);
    return -EINVAL;
  }
  snprintf(name, sizeof(name), "profile rule context (%s), sub_binding",
           c->entity_type);
  return jh_expr_compile(j->t->env, c->sub_binding, NULL, c->sub_binding_loc,
                         name, &j->sub_binding, j->t->err, sizeof(j->t->err));
}

static int prepare(pjob *j) {
  const jh_profile_context *c = j->c;
  char name[512];
  int rc = 0;
  j->rules = calloc(c->nrules + 1, sizeof(*j->rules));
  if (j->rules == NULL)
    return oom(j->t);
  if (c->sub_binding != NULL)
    rc = prepare_sub(j);
  for (size_t i = 0; i < c->nrules && rc == 0; i++) {
    snprintf(name, sizeof(name), "profile rule '%s'", c->rules[i].profile);
    j->rules[i].r = &c->rules[i];
    rc = compile(j, &c->rules[i].root, name, &j->rules[i].root);
    if (rc == 0)
      rc = compile(j, &c->rules[i].sub, name, &j->rules[i].sub);
  }
  return rc;
}

/* Whether criterion x (NULL: none) holds for res: 1, 0, or an error. */
static int holds(pjob *j, jh_expr *x, const void *res) {
  int truth = 1;
  int rc = x == NULL ? 0
                     : jh_expr_eval_bool(x, res, &truth, j->t->err,
                                         sizeof(j->t->err));
  return rc != 0 ? rc : truth;
}

static int want(pjob *j, const char *key, const jh_profile_rule *r,
                const char *scope) {
  jh_prov_profile p = {.key = key,
                       .key_len = strlen(key),
                       .profile = r->profile,
                       .scope = scope,
                       .scope_len = strlen(scope)};
  return jh_prov_profile_want(j->t->store, &p, r->is_denied, j->t->err,
                              sizeof(j->t->err));
}

/* The keys of root's sub-resources, copied (alive until jh_rv_reset). */
static int sub_keys(pjob *j, const void *root, char ***keys, size_t *n) {
  jh_expr_value v;
  int rc = jh_expr_eval(j->sub_binding, root, &v, j->t->err, sizeof(j->t->err));
  *n = 0;
  *keys = NULL;
  if (rc != 0 || v.n == 0)
    return rc;
  *keys = calloc(v.n, sizeof(**keys));
  if (*keys == NULL)
    return oom(j->t);
  for (size_t i = 0; i < v.n; i++)
    if (((*keys)[i] = jh_rv_strdup(j->t->rv, v.v[i], v.len[i])) == NULL)
      return oom(j->t);
  *n = v.n;
  return 0;
}

/* Rule r (whose root criterion held) on each sub-resource of root. */
static int apply_sub(pjob *j, const char *key, const prule *r, char **subs,
                     size_t nsubs) {
  int rc = 0;
  for (size_t i = 0; i < nsubs && rc == 0; i++) {
    const jh_rv_res *sub;
    rc = jh_rv_load(j->t->rv, j->sub_et, subs[i], strlen(subs[i]), &sub,
                    j->t->err, sizeof(j->t->err));
    if (rc <= 0)
      continue; /* 0: a link to a resource the store lacks gives no scope */
    rc = holds(j, r->sub, sub);
    if (rc == 1)
      rc = want(j, key, r->r, subs[i]);
  }
  return rc;
}

static int apply_root(pjob *j, const char *key, const void *root) {
  char **subs = NULL;
  size_t nsubs = 0;
  int rc = j->sub_binding != NULL ? sub_keys(j, root, &subs, &nsubs) : 0;
  for (size_t i = 0; i < j->c->nrules && rc == 0; i++) {
    const prule *r = &j->rules[i];
    rc = holds(j, r->root, root);
    if (rc != 1)
      continue;
    rc = j->c->is_applied_to_root ? want(j, key, r->r, "") : 0;
    if (rc == 0 && j->sub_binding != NULL)
      rc = apply_sub(j, key, r, subs, nsubs);
  }
  free(subs);
  return rc;
}

static int on_resource(void *ud, const jh_prov_resource *r) {
  pjob *j = ud;
  const jh_rv_res *res;
  char *key;
  int rc;
  jh_rv_reset(j->t->rv);
  j->n->read++;
  key = jh_rv_strdup(j->t->rv, r->key, r->key_len);
  rc = key == NULL
           ? oom(j->t)
           : jh_rv_wrap(j->t->rv, j->et, r, &res, j->t->err, sizeof(j->t->err));
  if (rc == 0)
    rc = apply_root(j, key, res);
  if (rc != 0)
    return jh_rules_failed_on(j->t, j->et->id, r->key, r->key_len, rc);
  return jh_rules_tick(j->t);
}

/* A resource_type context: the owners of its assignments that hold a
 * target. */
static int on_assignment(void *ud, const jh_prov_assignment *a) {
  pjob *j = ud;
  const jh_rv_res *res;
  int rc;
  if (a->owner_key == NULL || a->target_key == NULL)
    return 0;
  jh_rv_reset(j->t->rv);
  j->n->read++;
  rc = jh_rv_load(j->t->rv, j->et, a->owner_key, strlen(a->owner_key), &res,
                  j->t->err, sizeof(j->t->err));
  if (rc == 1)
    rc = apply_root(j, a->owner_key, res);
  if (rc < 0)
    return jh_rules_failed_on(j->t, j->et->id, a->owner_key,
                              strlen(a->owner_key), rc);
  return jh_rules_tick(j->t);
}

static int apply_context(jh_rules_task *t, const jh_profile_context *c,
                         const jh_entity_type *et, counts *n) {
  pjob j = {.t = t, .c = c, .et = et, .n = n};
  int64_t num;
  int rc = prepare(&j);
  if (rc == 0 && c->resource_type != NULL)
    rc = jh_prov_assignments(t->store, c->resource_type, on_assignment, &j,
                             t->err, sizeof(t->err));
  else if (rc == 0) {
    rc = jh_rv_entity_type(t->rv, et, &num, t->err, sizeof(t->err));
    if (rc == 0)
      rc = jh_prov_scan(t->store, num, 0, on_resource, &j, t->err,
                        sizeof(t->err));
  }
  free(j.rules);
  return rc;
}

/* Every context on entity type et, then the profiles of et replaced. */
static int profiles_of(jh_rules_task *t, const jh_entity_type *et, counts *n) {
  const jh_model *m = t->model;
  int64_t added = 0, removed = 0;
  int rc = jh_prov_profiles_begin(t->store, t->err, sizeof(t->err));
  for (size_t i = 0; i < m->nprofile_contexts && rc == 0; i++)
    if (m->profile_contexts[i].entity_type != NULL &&
        strcmp(m->profile_contexts[i].entity_type, et->id) == 0)
      rc = apply_context(t, &m->profile_contexts[i], et, n);
  if (rc == 0)
    rc = jh_prov_profiles_finish(t->store, et->id, t->ctx->task_instance,
                                 &added, &removed, t->err, sizeof(t->err));
  n->added += added;
  n->removed += removed;
  return rc;
}

/* Whether the task covers entity type et (see the top of this file). */
static int covers(jh_rules_task *t, const jh_entity_type *et, int any_list) {
  const jh_model *m = t->model;
  if (!any_list) {
    for (size_t i = 0; i < m->nprofile_contexts; i++)
      if (m->profile_contexts[i].entity_type != NULL &&
          strcmp(m->profile_contexts[i].entity_type, et->id) == 0)
        return 1;
    return 0;
  }
  if (jh_rules_listed(t->ctx, "entity_types", et->id))
    return 1;
  for (size_t i = 0; i < m->nresource_types; i++) {
    const jh_resource_type *rt = &m->resource_types[i];
    if (rt->source_entity_type != NULL &&
        strcmp(rt->source_entity_type, et->id) == 0 &&
        jh_rules_listed(t->ctx, "resource_types", rt->id))
      return 1;
  }
  return 0;
}

static void report(jobhost_ctx *ctx, const counts *n, int rc) {
  const jobhost_services *svc = ctx->svc;
  svc->counter_set(ctx, "resources", n->read);
  svc->counter_set(ctx, "added", n->added);
  svc->counter_set(ctx, "removed", n->removed);
  if (rc == 0)
    svc->set_message(ctx,
                     "%" PRId64 " resources read: %" PRId64
                     " profiles added, %" PRId64 " removed",
                     n->read, n->added, n->removed);
}

static int profiles_run(jobhost_ctx *ctx) {
  jh_rules_task t;
  counts n = {0};
  int rc = jh_rules_open(ctx, &t);
  int any_list = rc == 0 && (jh_rules_list_size(ctx, "entity_types") > 0 ||
                             jh_rules_list_size(ctx, "resource_types") > 0);

  for (size_t i = 0; rc == 0 && i < t.model->nentity_types; i++) {
    const jh_entity_type *et = &t.model->entity_types[i];
    if (et->id != NULL && covers(&t, et, any_list))
      rc = profiles_of(&t, et, &n);
  }
  if (rc == 0)
    rc = jh_rules_commit(&t);
  report(ctx, &n, rc);
  return jh_rules_close(&t, rc);
}

static const jobhost_task_type profiles_task_types[] = {
    {.name = "SetInternalUserProfilesTask",
     .description = "Assign internal user profiles with the profile rules",
     .params = profiles_params,
     .run = profiles_run,
     .flags = 0},
    JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_DEFINE("profiles", PACKAGE_VERSION, "Internal user profiles",
                      profiles_task_types, NULL);
