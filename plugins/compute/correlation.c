/*
 * correlation.c — ComputeCorrelationKeysTask (doc/provisioning.md): for
 * each processed entity type, every correlation rule of every resource
 * type whose source or target it is gives each resource a key on that
 * side; the role model matches owners to targets by these keys. Only
 * changed keys are written.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute.h"

/* One side of one rule that applies to the entity type. */
typedef struct corr_side {
  const char *resource_type;
  int rule;
  int side; /* JH_CORR_SOURCE or JH_CORR_TARGET */
  jh_expr *x;
} corr_side;

typedef struct corr_job {
  jh_compute *c;
  jh_rv *rv;
  jh_expr_env *env;
  const jh_entity_type *et;
  int64_t etnum;
  corr_side *sides;
  size_t nsides, cap;
  int64_t read, changed;
} corr_job;

/* "resource type X, correlation rule 2 (source)" */
static void rule_name(char *buf, size_t size, const jh_resource_type *rt,
                      size_t i, int side) {
  snprintf(buf, size, "%s/correlation %zu (%s)", rt->id, i + 1,
           side == JH_CORR_SOURCE ? "source" : "target");
}

static int add_side(corr_job *j, const jh_resource_type *rt, size_t i,
                    int side) {
  jh_compute *c = j->c;
  const jh_value_rule *v = side == JH_CORR_SOURCE
                               ? &rt->correlation_rules[i].source
                               : &rt->correlation_rules[i].target;
  corr_side *s;
  char name[256];

  if (v->binding == NULL && v->expression == NULL)
    return 0;
  if (j->nsides == j->cap) {
    size_t cap = j->cap ? j->cap * 2 : 8;
    corr_side *grown = realloc(j->sides, cap * sizeof(*grown));
    if (grown == NULL) {
      snprintf(c->err, sizeof(c->err), "out of memory");
      return -ENOMEM;
    }
    j->sides = grown;
    j->cap = cap;
  }
  s = &j->sides[j->nsides];
  s->resource_type = rt->id;
  s->rule = (int)i;
  s->side = side;
  rule_name(name, sizeof(name), rt, i, side);
  j->nsides++;
  return jh_expr_compile(j->env, v->binding, v->expression, v->loc, name, &s->x,
                         c->err, sizeof(c->err));
}

/* The rules of every resource type on either side of et. */
static int compile_sides(corr_job *j, const jh_entity_type *et) {
  const jh_model *m = j->c->model;
  int rc = 0;
  j->nsides = 0;
  for (size_t r = 0; r < m->nresource_types && rc == 0; r++) {
    const jh_resource_type *rt = &m->resource_types[r];
    int src = rt->source_entity_type != NULL &&
              strcmp(rt->source_entity_type, et->id) == 0;
    int tgt = rt->target_entity_type != NULL &&
              strcmp(rt->target_entity_type, et->id) == 0;
    if (rt->id == NULL)
      continue;
    for (size_t i = 0; i < rt->ncorrelation_rules && rc == 0; i++) {
      if (src)
        rc = add_side(j, rt, i, JH_CORR_SOURCE);
      if (tgt && rc == 0)
        rc = add_side(j, rt, i, JH_CORR_TARGET);
    }
  }
  return rc;
}

/* Evaluate one side on res and store the key. */
static int one_key(corr_job *j, const corr_side *s, const jh_rv_res *res,
                   const jh_prov_resource *r) {
  jh_compute *c = j->c;
  jh_expr_value v;
  const char *value = NULL;
  size_t len = 0;
  int rc = jh_expr_eval(s->x, res, &v, c->err, sizeof(c->err));

  if (rc != 0)
    return rc;
  if (v.n > 1) {
    snprintf(c->err, sizeof(c->err),
             "%s correlation rule %d gives %zu values; a key is one",
             s->resource_type, s->rule + 1, v.n);
    return -EINVAL;
  }
  if (v.n == 1 && v.len[0] > 0) {
    value = v.v[0];
    len = v.len[0];
  }
  rc = jh_prov_corrkey_put(c->store, s->resource_type, s->rule, s->side, r->key,
                           r->key_len, value, len, c->err, sizeof(c->err));
  if (rc == 1)
    j->changed++;
  return rc < 0 ? rc : 0;
}

static int on_resource(void *ud, const jh_prov_resource *r) {
  corr_job *j = ud;
  jh_compute *c = j->c;
  const jh_rv_res *res;
  int rc;

  jh_rv_reset(j->rv);
  j->read++;
  rc = jh_rv_wrap(j->rv, j->et, r, &res, c->err, sizeof(c->err));
  for (size_t i = 0; i < j->nsides && rc == 0; i++)
    rc = one_key(j, &j->sides[i], res, r);
  /* r->dirty is the row as the scan read it: when its bit is clear the
   * UPDATE would change nothing. */
  if (rc == 0 && jh_compute_clear_each(c) &&
      (r->dirty & JH_DIRTY_CORRELATION) != 0)
    rc = jh_prov_dirty_clear(c->store, j->etnum, r->key, r->key_len,
                             JH_DIRTY_CORRELATION, c->err, sizeof(c->err));
  if (rc != 0)
    return jh_compute_failed_on(c, j->et->id, r->key, r->key_len, rc);
  rc = jh_compute_wrote(c);
  return rc == 0 ? jh_compute_tick(c) : rc;
}

static int entity_type(corr_job *j, const jh_entity_type *et) {
  jh_compute *c = j->c;
  int rc = compile_sides(j, et);
  j->et = et;
  if (rc != 0 || j->nsides == 0)
    return rc;
  rc = jh_rv_entity_type(j->rv, et, &j->etnum, c->err, sizeof(c->err));
  if (rc == 0)
    rc = jh_prov_scan(c->store, j->etnum, c->dirty ? JH_DIRTY_CORRELATION : 0,
                      on_resource, j, c->err, sizeof(c->err));
  if (rc == 0)
    rc = jh_compute_clear_all(c, j->etnum, JH_DIRTY_CORRELATION);
  return rc;
}

static int each_entity_type(void *arg, const jh_entity_type *et) {
  return entity_type(arg, et);
}

int jh_compute_correlation(jh_compute *c) {
  jobhost_ctx *ctx = c->ctx;
  corr_job j;
  int rc;

  memset(&j, 0, sizeof(j));
  j.c = c;
  c->batch = jh_compute_int(ctx, "batch_size");
  rc = jh_compute_rules_open(c, &j.rv, &j.env);
  if (rc == 0)
    rc = jh_compute_each_entity_type(c, each_entity_type, &j);
  jh_compute_rollback(c);
  jh_compute_scan_report(c, rc, j.read, j.changed, "correlation keys changed");
  jh_compute_rules_close(j.rv, j.env);
  free(j.sides);
  return rc;
}
