/*
 * expressions.c — UpdateEntityPropertyExpressionsTask
 * (doc/provisioning.md): every entity property expression of the
 * processed entity types, compiled once, evaluated on each resource; of
 * the rules of one property, the one of highest priority that gives a
 * value wins. The values are stored as the resource's computed values;
 * a change flags the resource for the correlation and the role model.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute.h"

/* The rules of one property, highest priority first. */
typedef struct prop_rules {
  uint32_t num;
  const char *name;
  jh_expr **x;
  size_t n;
} prop_rules;

typedef struct expr_job {
  jh_compute *c;
  jh_rv *rv;
  jh_expr_env *env;
  const jh_entity_type *et;
  int64_t etnum;
  prop_rules *props;
  size_t nprops;
  jh_idstore_value *vals, *sorted;
  uint32_t *nums;
  size_t *order;
  char *buf;
  size_t cap;
  int64_t read, changed;
} expr_job;

/* Rules of et, by property then highest priority first (model order
 * among equals). */
static int rule_order(const void *a, const void *b) {
  const jh_property_expression *x = *(const jh_property_expression *const *)a;
  const jh_property_expression *y = *(const jh_property_expression *const *)b;
  int c = strcmp(x->property, y->property);
  if (c != 0)
    return c;
  if (x->priority != y->priority)
    return x->priority > y->priority ? -1 : 1;
  return x < y ? -1 : x > y;
}

static size_t rules_of(const jh_model *m, const jh_entity_type *et,
                       const jh_property_expression **out) {
  size_t n = 0;
  for (size_t i = 0; i < m->nexpressions; i++) {
    const jh_property_expression *e = &m->expressions[i];
    if (e->entity_type != NULL && e->property != NULL &&
        strcmp(e->entity_type, et->id) == 0)
      out[n++] = e;
  }
  qsort(out, n, sizeof(*out), rule_order);
  return n;
}

static int compile_one(expr_job *j, const jh_property_expression *e,
                       prop_rules *p) {
  jh_compute *c = j->c;
  return jh_expr_compile(j->env, e->value.binding, e->value.expression,
                         e->value.loc, e->id != NULL ? e->id : e->property,
                         &p->x[p->n++], c->err, sizeof(c->err));
}

/* Group the sorted rules by property and compile them. */
static int compile_rules(expr_job *j, const jh_property_expression **r,
                         size_t n) {
  jh_compute *c = j->c;
  int rc = 0;
  j->props = calloc(n + 1, sizeof(*j->props));
  j->vals = calloc(n + 1, sizeof(*j->vals));
  j->sorted = calloc(n + 1, sizeof(*j->sorted));
  j->nums = calloc(n + 1, sizeof(*j->nums));
  j->order = calloc(n + 1, sizeof(*j->order));
  if (j->props == NULL || j->vals == NULL || j->sorted == NULL ||
      j->nums == NULL || j->order == NULL) {
    snprintf(c->err, sizeof(c->err), "out of memory");
    return -ENOMEM;
  }
  for (size_t i = 0; i < n && rc == 0; i++) {
    prop_rules *p = &j->props[j->nprops];
    if (j->nprops == 0 || strcmp(j->props[j->nprops - 1].name, r[i]->property))
      p->name = r[i]->property, p->x = calloc(n, sizeof(*p->x)), j->nprops++;
    else
      p = &j->props[j->nprops - 1];
    if (p->x == NULL) {
      snprintf(c->err, sizeof(c->err), "out of memory");
      return -ENOMEM;
    }
    rc = jh_rv_property(j->rv, p->name, &p->num, c->err, sizeof(c->err));
    if (rc == 0)
      rc = compile_one(j, r[i], p);
  }
  return rc;
}

/* The value of the first rule of p that gives one, copied: 1, 0 when
 * none does, or a negative code. */
static int property_value(expr_job *j, const jh_rv_res *res,
                          const prop_rules *p, jh_idstore_value *out) {
  jh_compute *c = j->c;
  for (size_t i = 0; i < p->n; i++) {
    jh_expr_value v;
    int rc = jh_expr_eval(p->x[i], res, &v, c->err, sizeof(c->err));
    if (rc != 0)
      return rc;
    if (v.n > 1) {
      snprintf(c->err, sizeof(c->err),
               "%s.%s: a rule gives %zu values; the property takes one",
               j->et->id, p->name, v.n);
      return -EINVAL;
    }
    if (v.n == 1 && v.len[0] > 0) {
      out->prop = p->num;
      out->length = v.len[0];
      out->value = jh_rv_strdup(j->rv, v.v[0], v.len[0]);
      return out->value != NULL ? 1 : -ENOMEM;
    }
  }
  return 0;
}

/* Encode the values found (in property number order) into j->buf. */
static int encode(expr_job *j, size_t nv, size_t *len) {
  for (size_t i = 0; i < nv; i++)
    j->nums[i] = j->vals[i].prop;
  jh_idstore_sort_props(j->nums, nv, j->order);
  for (size_t i = 0; i < nv; i++)
    j->sorted[i] = j->vals[j->order[i]];
  *len = jh_idstore_encode(j->sorted, nv, &j->buf, &j->cap);
  if (*len == (size_t)-1) {
    snprintf(j->c->err, sizeof(j->c->err), "out of memory");
    return -ENOMEM;
  }
  return 0;
}

/* The bits a change of computed values sets. */
#define DOWNSTREAM (JH_DIRTY_CORRELATION | JH_DIRTY_ROLE_MODEL)

/* Store the values of resource r; when they change, the downstream
 * tasks' dirty bits go with them in the same write. */
static int store(expr_job *j, const jh_prov_resource *r, size_t nv) {
  jh_compute *c = j->c;
  size_t len;
  int rc = encode(j, nv, &len);
  if (rc == 0)
    rc = jh_prov_computed_put_scanned(c->store, j->etnum, r, j->buf, len,
                                      DOWNSTREAM, c->err, sizeof(c->err));
  if (rc == 1) {
    j->changed++;
    rc = 0;
  }
  /* r->dirty is the row as the scan read it; nothing above touches the
   * expressions bit, so when it is clear there is nothing to clear. */
  if (rc == 0 && jh_compute_clear_each(c) &&
      (r->dirty & JH_DIRTY_EXPRESSIONS) != 0)
    rc = jh_prov_dirty_clear(c->store, j->etnum, r->key, r->key_len,
                             JH_DIRTY_EXPRESSIONS, c->err, sizeof(c->err));
  return rc == 0 ? jh_compute_wrote(c) : rc;
}

static int on_resource(void *ud, const jh_prov_resource *r) {
  expr_job *j = ud;
  jh_compute *c = j->c;
  const jh_rv_res *res;
  size_t nv = 0;
  int rc;

  jh_rv_reset(j->rv);
  j->read++;
  rc = jh_rv_wrap(j->rv, j->et, r, &res, c->err, sizeof(c->err));
  for (size_t i = 0; i < j->nprops && rc == 0; i++) {
    rc = property_value(j, res, &j->props[i], &j->vals[nv]);
    if (rc == 1)
      nv++, rc = 0;
  }
  if (rc != 0)
    return jh_compute_failed_on(c, j->et->id, r->key, r->key_len, rc);
  rc = store(j, r, nv);
  return rc == 0 ? jh_compute_tick(c) : rc;
}

static void job_clear(expr_job *j) {
  for (size_t i = 0; i < j->nprops; i++)
    free(j->props[i].x);
  free(j->props);
  free(j->vals);
  free(j->sorted);
  free(j->nums);
  free(j->order);
  j->props = NULL;
  j->vals = j->sorted = NULL;
  j->nums = NULL;
  j->order = NULL;
  j->nprops = 0;
}

/* One entity type: compile its rules, then read every resource. */
static int entity_type(expr_job *j, const jh_entity_type *et) {
  jh_compute *c = j->c;
  const jh_property_expression **rules = calloc(c->model->nexpressions + 1,
                                                sizeof(*rules));
  size_t n;
  int rc;

  if (rules == NULL) {
    snprintf(c->err, sizeof(c->err), "out of memory");
    return -ENOMEM;
  }
  n = rules_of(c->model, et, rules);
  j->et = et;
  rc = n == 0 ? 0
              : jh_rv_entity_type(j->rv, et, &j->etnum, c->err, sizeof(c->err));
  if (rc == 0 && n > 0)
    rc = compile_rules(j, rules, n);
  if (rc == 0 && n > 0)
    rc = jh_prov_scan(c->store, j->etnum, c->dirty ? JH_DIRTY_EXPRESSIONS : 0,
                      on_resource, j, c->err, sizeof(c->err));
  if (rc == 0 && n > 0)
    rc = jh_compute_clear_all(c, j->etnum, JH_DIRTY_EXPRESSIONS);
  free(rules);
  job_clear(j);
  return rc;
}

static int each_entity_type(void *arg, const jh_entity_type *et) {
  return entity_type(arg, et);
}

int jh_compute_expressions(jh_compute *c) {
  jobhost_ctx *ctx = c->ctx;
  expr_job j;
  int rc;

  memset(&j, 0, sizeof(j));
  j.c = c;
  c->batch = jh_compute_int(ctx, "batch_update_size");
  rc = jh_compute_rules_open(c, &j.rv, &j.env);
  if (rc == 0)
    rc = jh_compute_each_entity_type(c, each_entity_type, &j);
  jh_compute_rollback(c);
  jh_compute_scan_report(c, rc, j.read, j.changed,
                         "with changed computed values");
  jh_compute_rules_close(j.rv, j.env);
  free(j.buf);
  return rc;
}
