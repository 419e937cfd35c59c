/*
 * rolemodel.c — ComputeRoleModelTask (doc/provisioning.md, "Role-model
 * decision"): for each resource type whose source entity type is
 * processed, every source resource is read in key order beside the
 * stored assignments (also in owner order, a merge join): the type rules
 * say whether the owner should have the resource type, the correlation
 * rules find its target, the scalar and navigation rules give the
 * policy's values, the target's observed values are compared with them,
 * and decision.c says what becomes of the assignment. Targets that no
 * owner explains are orphans.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "compute.h"
#include "decision.h"

/* A stored assignment, as far as the decision needs it. */
typedef struct stored {
  int64_t id;
  char *owner, *target; /* NULL: none */
  int state, change, workflow, confidence;
  char *policy_hash, *declined_hash;
  int seen;         /* its owner or target was read this run */
  int target_dirty; /* its target changed since the last run */
} stored;

/* How a navigation rule gives its target keys. */
enum { NAV_FIXED, NAV_TARGET_KEYS, NAV_VIA_OWNER };

typedef struct rules {
  const jh_resource_type *rt;
  const jh_entity_type *src, *tgt;
  int64_t src_num, tgt_num;
  jh_expr **type;   /* ntype_rules */
  jh_expr **scalar; /* nscalar_rules */
  uint32_t *scalar_num;
  jh_expr **nav; /* nnavigation_rules (NULL for a fixed one) */
  uint32_t *nav_num;
  int *nav_mode;
  jh_expr **corr; /* ncorrelation_rules, the source sides */
} rules;

/* Targets claimed: key -> index into stored, or CLAIM_NEW. */
#define CLAIM_NEW (-2)
typedef struct claim {
  const char *key;
  long index;
} claim;

typedef struct counts {
  int64_t read, added, modified, deleted, verified, awaiting, orphans, removed,
      unchanged, waiting;
} counts;

/* An owner matched with an existing target during the run. */
typedef struct met {
  char *owner, *target;
} met;

typedef struct rm_job {
  jh_compute *c;
  jh_rv *rv;
  jh_expr_env *env;
  rules r;
  stored *st;
  size_t nst, st_cap, nowned, cursor;
  claim *claims;
  size_t claims_cap, nclaims;
  char **owned_keys; /* keys claimed this run (freed at the end) */
  size_t nowned_keys, owned_keys_cap;
  met *met; /* owners given an existing target this run, by owner key */
  size_t nmet, met_cap;
  jh_prov_val *vals;
  size_t nvals, vals_cap;
  char *enc;
  size_t enc_cap;
  int block_task, historize;
  counts n;
} rm_job;

static int oom(jh_compute *c) {
  snprintf(c->err, sizeof(c->err), "out of memory");
  return -ENOMEM;
}

/* Bytewise, as the store orders keys. */
static int key_cmp(const char *a, const char *b, size_t blen) {
  size_t alen = strlen(a);
  int d = memcmp(a, b, alen < blen ? alen : blen);
  if (d != 0)
    return d;
  return alen < blen ? -1 : alen > blen;
}

/* ---- claims: an open-addressing table of target keys ---- */

static uint64_t hash_bytes(const char *s, size_t n, uint64_t h) {
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ull;
  }
  return h;
}
#define HASH_SEED 1469598103934665603ull

static claim *claim_slot(rm_job *j, const char *key, size_t len) {
  size_t mask = j->claims_cap - 1;
  size_t i = (size_t)hash_bytes(key, len, HASH_SEED) & mask;
  while (j->claims[i].key != NULL && (strlen(j->claims[i].key) != len ||
                                      memcmp(j->claims[i].key, key, len) != 0))
    i = (i + 1) & mask;
  return &j->claims[i];
}

static int claims_grow(rm_job *j) {
  claim *old = j->claims;
  size_t cap = j->claims_cap;
  j->claims_cap = cap ? cap * 2 : 1024;
  j->claims = calloc(j->claims_cap, sizeof(*j->claims));
  if (j->claims == NULL) {
    j->claims = old;
    j->claims_cap = cap;
    return -ENOMEM;
  }
  for (size_t i = 0; i < cap; i++)
    if (old[i].key != NULL)
      *claim_slot(j, old[i].key, strlen(old[i].key)) = old[i];
  free(old);
  return 0;
}

/* The claim of key, or NULL. */
static const claim *claim_find(rm_job *j, const char *key, size_t len) {
  const claim *c;
  if (j->claims_cap == 0)
    return NULL;
  c = claim_slot(j, key, len);
  return c->key != NULL ? c : NULL;
}

/* Claim key (borrowed: alive until the job ends) for index. */
static int claim_put(rm_job *j, const char *key, long index) {
  claim *c;
  if ((j->nclaims + 1) * 2 > j->claims_cap && claims_grow(j) != 0)
    return -ENOMEM;
  c = claim_slot(j, key, strlen(key));
  if (c->key == NULL)
    j->nclaims++;
  c->key = key;
  c->index = index;
  return 0;
}

/* ---- the stored assignments ---- */

static char *dup_or_null(const char *s, int *failed) {
  char *d;
  if (s == NULL)
    return NULL;
  d = strdup(s);
  if (d == NULL)
    *failed = 1;
  return d;
}

static int keep_stored(void *ud, const jh_prov_assignment *a) {
  rm_job *j = ud;
  stored *s;
  int failed = 0;
  if (jh_array_reserve(&j->st, &j->st_cap, j->nst + 1, sizeof(*j->st), 256))
    return oom(j->c);
  s = &j->st[j->nst];
  memset(s, 0, sizeof(*s));
  s->id = a->id;
  s->owner = dup_or_null(a->owner_key, &failed);
  s->target = dup_or_null(a->target_key, &failed);
  s->policy_hash = dup_or_null(a->policy_hash, &failed);
  s->declined_hash = dup_or_null(a->declined_hash, &failed);
  s->state = a->state;
  s->change = a->change_type;
  s->workflow = a->workflow_state;
  s->confidence = a->confidence;
  j->nst++;
  if (a->owner_key != NULL)
    j->nowned = j->nst;
  return failed ? oom(j->c) : 0;
}

static void free_stored(rm_job *j) {
  for (size_t i = 0; i < j->nst; i++) {
    free(j->st[i].owner);
    free(j->st[i].target);
    free(j->st[i].policy_hash);
    free(j->st[i].declined_hash);
  }
  free(j->st);
  j->st = NULL;
  j->nst = j->st_cap = j->nowned = j->cursor = 0;
  for (size_t i = 0; i < j->nowned_keys; i++)
    free(j->owned_keys[i]);
  free(j->owned_keys);
  j->owned_keys = NULL;
  j->nowned_keys = j->owned_keys_cap = 0;
  free(j->claims);
  j->claims = NULL;
  j->claims_cap = j->nclaims = 0;
  for (size_t i = 0; i < j->nmet; i++) {
    free(j->met[i].owner);
    free(j->met[i].target);
  }
  free(j->met);
  j->met = NULL;
  j->nmet = j->met_cap = 0;
}

/* Read the assignments of the resource type and claim their targets. */
static int load_stored(rm_job *j) {
  jh_compute *c = j->c;
  int rc = jh_prov_assignments(c->store, j->r.rt->id, keep_stored, j, c->err,
                               sizeof(c->err));
  for (size_t i = 0; i < j->nst && rc == 0; i++)
    if (j->st[i].target != NULL && claim_put(j, j->st[i].target, (long)i))
      rc = oom(c);
  return rc;
}

/* The stored assignment of owner, by binary search; NULL when none. */
static stored *stored_of_owner(rm_job *j, const char *key, size_t len) {
  size_t lo = 0, hi = j->nowned;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int d = key_cmp(j->st[mid].owner, key, len);
    if (d == 0)
      return &j->st[mid];
    if (d < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

/* Where owner key goes among the owners met this run (binary search). */
static size_t met_slot(const rm_job *j, const char *key, size_t len,
                       int *found) {
  size_t lo = 0, hi = j->nmet;
  *found = 0;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int d = key_cmp(j->met[mid].owner, key, len);
    if (d == 0) {
      *found = 1;
      return mid;
    }
    if (d < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* The target an owner was matched with this run, or NULL. */
static const char *met_target(const rm_job *j, const char *key, size_t len) {
  int found;
  size_t at = met_slot(j, key, len, &found);
  return found ? j->met[at].target : NULL;
}

/* Remember that owner got the existing target this run, so that a
 * navigation to that owner read later in the run finds it (the scan
 * reads owners in key order: the slot is the end but for a dirty
 * target's owner). */
static int met_put(rm_job *j, const char *owner, size_t len,
                   const char *target) {
  int found;
  size_t at = met_slot(j, owner, len, &found);
  char *o, *t;
  if (found)
    return 0;
  o = strndup(owner, len);
  t = strdup(target);
  if (o == NULL || t == NULL ||
      jh_array_reserve(&j->met, &j->met_cap, j->nmet + 1, sizeof(*j->met),
                       64) != 0) {
    free(o);
    free(t);
    return oom(j->c);
  }
  memmove(&j->met[at + 1], &j->met[at], (j->nmet - at) * sizeof(*j->met));
  j->met[at] = (met){o, t};
  j->nmet++;
  return 0;
}

/* ---- compiling the rules ---- */

/* The entity type a binding ends on when its last step is a link, else
 * NULL. */
static const jh_entity_type *
binding_end(const jh_model *m, const jh_entity_type *et, const char *binding) {
  const char *p = binding;
  while (et != NULL && *p != '\0') {
    const char *dot = strchr(p, '.');
    size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);
    const jh_property *prop = NULL;
    for (size_t i = 0; i < et->nproperties; i++)
      if (strlen(et->properties[i].id) == n &&
          memcmp(et->properties[i].id, p, n) == 0)
        prop = &et->properties[i];
    if (prop == NULL ||
        (prop->type != JH_PROP_LINK && prop->type != JH_PROP_LINKS))
      return NULL;
    et = jh_model_entity_type(m, prop->target);
    p = dot != NULL ? dot + 1 : p + n;
  }
  return et;
}

static int compile_rule(rm_job *j, const jh_value_rule *v, const char *what,
                        size_t i, const char *prop, jh_expr **out) {
  jh_compute *c = j->c;
  char name[256];
  if (prop != NULL)
    snprintf(name, sizeof(name), "%s/%s %s", j->r.rt->id, what, prop);
  else
    snprintf(name, sizeof(name), "%s/%s %zu", j->r.rt->id, what, i + 1);
  *out = NULL;
  if (v->binding == NULL && v->expression == NULL)
    return 0;
  return jh_expr_compile(j->env, v->binding, v->expression, v->loc, name, out,
                         c->err, sizeof(c->err));
}

static int nav_mode(rm_job *j, const jh_navigation_rule *n, int *mode) {
  const jh_entity_type *end;
  if (n->resource != NULL || n->value.binding == NULL) {
    *mode = n->resource != NULL ? NAV_FIXED : NAV_TARGET_KEYS;
    return 0;
  }
  end = binding_end(j->c->model, j->r.src, n->value.binding);
  if (end == j->r.tgt || end == j->r.src) {
    *mode = end == j->r.tgt ? NAV_TARGET_KEYS : NAV_VIA_OWNER;
    return 0;
  }
  snprintf(j->c->err, sizeof(j->c->err),
           "%s:%d: %s/navigation %s: binding %s leads to neither %s nor %s",
           n->loc.file ? n->loc.file : "model", n->loc.line, j->r.rt->id,
           n->property, n->value.binding, j->r.src->id, j->r.tgt->id);
  return -EINVAL;
}

static void free_rules(rules *r) {
  free(r->type);
  free(r->scalar);
  free(r->scalar_num);
  free(r->nav);
  free(r->nav_num);
  free(r->nav_mode);
  free(r->corr);
  memset(r, 0, sizeof(*r));
}

static int alloc_rules(rules *r) {
  const jh_resource_type *rt = r->rt;
  r->type = calloc(rt->ntype_rules + 1, sizeof(*r->type));
  r->scalar = calloc(rt->nscalar_rules + 1, sizeof(*r->scalar));
  r->scalar_num = calloc(rt->nscalar_rules + 1, sizeof(*r->scalar_num));
  r->nav = calloc(rt->nnavigation_rules + 1, sizeof(*r->nav));
  r->nav_num = calloc(rt->nnavigation_rules + 1, sizeof(*r->nav_num));
  r->nav_mode = calloc(rt->nnavigation_rules + 1, sizeof(*r->nav_mode));
  r->corr = calloc(rt->ncorrelation_rules + 1, sizeof(*r->corr));
  return r->type && r->scalar && r->scalar_num && r->nav && r->nav_num &&
                 r->nav_mode && r->corr
             ? 0
             : -ENOMEM;
}

static int compile_values(rm_job *j) {
  const jh_resource_type *rt = j->r.rt;
  jh_compute *c = j->c;
  int rc = 0;
  for (size_t i = 0; i < rt->nscalar_rules && rc == 0; i++) {
    const jh_scalar_rule *s = &rt->scalar_rules[i];
    rc = jh_rv_property(j->rv, s->property, &j->r.scalar_num[i], c->err,
                        sizeof(c->err));
    if (rc == 0)
      rc = compile_rule(j, &s->value, "scalar", i, s->property,
                        &j->r.scalar[i]);
  }
  for (size_t i = 0; i < rt->nnavigation_rules && rc == 0; i++) {
    const jh_navigation_rule *n = &rt->navigation_rules[i];
    rc = jh_rv_property(j->rv, n->property, &j->r.nav_num[i], c->err,
                        sizeof(c->err));
    if (rc == 0)
      rc = nav_mode(j, n, &j->r.nav_mode[i]);
    if (rc == 0 && n->resource == NULL)
      rc = compile_rule(j, &n->value, "navigation", i, n->property,
                        &j->r.nav[i]);
  }
  return rc;
}

/* Compile correlation rule i; while no target has a key of it (a first
 * load), it is left out of the task: nothing to look up per owner. */
static int compile_correlation(rm_job *j, size_t i) {
  const jh_resource_type *rt = j->r.rt;
  jh_compute *c = j->c;
  int rc = compile_rule(j, &rt->correlation_rules[i].source, "correlation", i,
                        NULL, &j->r.corr[i]);
  if (rc == 0)
    rc = jh_prov_corrkey_any(c->store, rt->id, (int)i, JH_CORR_TARGET, c->err,
                             sizeof(c->err));
  if (rc == 0)
    j->r.corr[i] = NULL;
  return rc < 0 ? rc : 0;
}

/* Compile every rule of rt once for the task. */
static int compile_all(rm_job *j, const jh_resource_type *rt) {
  jh_compute *c = j->c;
  const jh_model *m = c->model;
  int rc;

  j->r.rt = rt;
  j->r.src = jh_model_entity_type(m, rt->source_entity_type);
  j->r.tgt = jh_model_entity_type(m, rt->target_entity_type);
  if (j->r.src == NULL || j->r.tgt == NULL) {
    snprintf(c->err, sizeof(c->err),
             "resource type %s: unknown source or target entity type", rt->id);
    return -EINVAL;
  }
  if (alloc_rules(&j->r) != 0)
    return oom(c);
  rc = jh_rv_entity_type(j->rv, j->r.src, &j->r.src_num, c->err,
                         sizeof(c->err));
  if (rc == 0)
    rc = jh_rv_entity_type(j->rv, j->r.tgt, &j->r.tgt_num, c->err,
                           sizeof(c->err));
  for (size_t i = 0; i < rt->ntype_rules && rc == 0; i++)
    rc = compile_rule(j, &rt->type_rules[i], "type rule", i, NULL,
                      &j->r.type[i]);
  for (size_t i = 0; i < rt->ncorrelation_rules && rc == 0; i++)
    rc = compile_correlation(j, i);
  return rc == 0 ? compile_values(j) : rc;
}

/* ---- values ---- */

static int push_val(rm_job *j, const jh_prov_val *v) {
  if (jh_array_reserve(&j->vals, &j->vals_cap, j->nvals + 1, sizeof(*j->vals),
                       32) != 0)
    return oom(j->c);
  j->vals[j->nvals++] = *v;
  return 0;
}

/* The one value of x on res, copied (NULL when none). */
static int eval_one(rm_job *j, jh_expr *x, const jh_rv_res *res,
                    const char **out, size_t *len) {
  jh_compute *c = j->c;
  jh_expr_value v;
  int rc = jh_expr_eval(x, res, &v, c->err, sizeof(c->err));
  *out = NULL;
  *len = 0;
  if (rc != 0)
    return rc;
  if (v.n > 1) {
    snprintf(c->err, sizeof(c->err),
             "%s: a rule gives %zu values where one is expected", j->r.rt->id,
             v.n);
    return -EINVAL;
  }
  if (v.n == 1 && v.len[0] > 0) {
    *out = jh_rv_strdup(j->rv, v.v[0], v.len[0]);
    *len = v.len[0];
    if (*out == NULL)
      return oom(c);
  }
  return 0;
}

static int scalar_values(rm_job *j, const jh_rv_res *src,
                         const jh_rv_res *tgt) {
  const jh_resource_type *rt = j->r.rt;
  for (size_t i = 0; i < rt->nscalar_rules; i++) {
    jh_prov_val v;
    int rc = 0;
    memset(&v, 0, sizeof(v));
    v.prop = j->r.scalar_num[i];
    if (j->r.scalar[i] != NULL)
      rc = eval_one(j, j->r.scalar[i], src, &v.policy, &v.policy_len);
    if (rc != 0)
      return rc;
    v.has_policy = v.policy != NULL;
    v.has_observed = tgt != NULL &&
                     jh_rv_value(tgt, rt->scalar_rules[i].property, &v.observed,
                                 &v.observed_len) &&
                     v.observed_len > 0;
    if ((v.has_policy || v.has_observed) && (rc = push_val(j, &v)) != 0)
      return rc;
  }
  return 0;
}

/* Add key as a policy value of navigation rule i, once. */
static int nav_key(rm_job *j, size_t i, size_t first, const char *key,
                   size_t len) {
  jh_prov_val v;
  for (size_t k = first; k < j->nvals; k++)
    if (j->vals[k].policy_len == len &&
        memcmp(j->vals[k].policy, key, len) == 0)
      return 0;
  memset(&v, 0, sizeof(v));
  v.prop = j->r.nav_num[i];
  v.navigation = 1;
  v.has_policy = 1;
  v.policy = key;
  v.policy_len = len;
  return push_val(j, &v);
}

/* A source key of a navigation through owners: the target of that
 * owner's assignment, when it has one (else the value waits). */
static int via_owner(rm_job *j, size_t i, size_t first, const char *key,
                     size_t len) {
  stored *s = stored_of_owner(j, key, len);
  const char *target = s != NULL ? s->target : NULL;
  if (target == NULL)
    target = met_target(j, key, len);
  if (target == NULL) {
    j->n.waiting++;
    return 0;
  }
  return nav_key(j, i, first, target, strlen(target));
}

static int nav_policy(rm_job *j, size_t i, size_t first, const jh_rv_res *src) {
  const jh_navigation_rule *n = &j->r.rt->navigation_rules[i];
  jh_compute *c = j->c;
  jh_expr_value v;
  int rc;

  if (j->r.nav_mode[i] == NAV_FIXED)
    return nav_key(j, i, first, n->resource, strlen(n->resource));
  rc = jh_expr_eval(j->r.nav[i], src, &v, c->err, sizeof(c->err));
  for (size_t k = 0; k < v.n && rc == 0; k++) {
    char *key = jh_rv_strdup(j->rv, v.v[k], v.len[k]);
    if (key == NULL)
      return oom(c);
    if (v.len[k] == 0)
      continue;
    if (j->r.nav_mode[i] == NAV_VIA_OWNER)
      rc = via_owner(j, i, first, key, v.len[k]);
    else
      rc = nav_key(j, i, first, key, v.len[k]);
  }
  return rc;
}

/* The target's keys of navigation i: matched with the policy's, or added
 * as observed only (to be removed) unless the policy is incomplete: while
 * a value waits, the target's other keys are left as they are. */
static int nav_observed(rm_job *j, size_t i, size_t first, int incomplete,
                        const jh_rv_res *tgt) {
  const char *const *keys;
  const size_t *lens;
  size_t n, end = j->nvals;
  int rc = jh_rv_link_keys(j->rv, tgt, j->r.rt->navigation_rules[i].property,
                           &keys, &lens, &n, j->c->err, sizeof(j->c->err));
  for (size_t k = 0; k < n && rc == 0; k++) {
    jh_prov_val v;
    size_t m = first;
    while (m < end && (j->vals[m].policy_len != lens[k] ||
                       memcmp(j->vals[m].policy, keys[k], lens[k]) != 0))
      m++;
    if (m < end) {
      j->vals[m].has_observed = 1;
      j->vals[m].observed = keys[k];
      j->vals[m].observed_len = lens[k];
      continue;
    }
    if (incomplete)
      continue;
    memset(&v, 0, sizeof(v));
    v.prop = j->r.nav_num[i];
    v.navigation = 1;
    v.has_observed = 1;
    v.observed = keys[k];
    v.observed_len = lens[k];
    rc = push_val(j, &v);
  }
  return rc;
}

static int nav_values(rm_job *j, const jh_rv_res *src, const jh_rv_res *tgt) {
  int rc = 0;
  for (size_t i = 0; i < j->r.rt->nnavigation_rules && rc == 0; i++) {
    size_t first = j->nvals;
    int64_t waiting = j->n.waiting;
    rc = nav_policy(j, i, first, src);
    if (rc == 0 && tgt != NULL)
      rc = nav_observed(j, i, first, j->n.waiting > waiting, tgt);
  }
  return rc;
}

static int val_equal(const jh_prov_val *v) {
  if (v->has_policy != v->has_observed)
    return 0;
  return !v->has_policy || (v->policy_len == v->observed_len &&
                            memcmp(v->policy, v->observed, v->policy_len) == 0);
}

static int differing(const rm_job *j) {
  int n = 0;
  for (size_t i = 0; i < j->nvals; i++)
    n += !val_equal(&j->vals[i]);
  return n;
}

/* The decimal digits of v at p, then c; the number of bytes written. */
static size_t put_decimal(char *p, uint64_t v, char c) {
  char t[20];
  size_t n = 0, k = 0;
  do
    t[n++] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  while (n > 0)
    p[k++] = t[--n];
  p[k++] = c;
  return k;
}

/* "<prop>:<navigation>:<policy length>:", the head of one value in the
 * digest, in head (64 bytes are enough); its length. */
static size_t value_head(const jh_prov_val *v, char *head) {
  size_t n = put_decimal(head, v->prop, ':');
  if (v->navigation < 0) {
    head[n++] = '-';
    n += put_decimal(head + n, -(uint64_t)(int64_t)v->navigation, ':');
  } else {
    n += put_decimal(head + n, (uint64_t)v->navigation, ':');
  }
  return n + put_decimal(head + n, v->policy_len, ':');
}

/* A digest of the policy's values (sorted first): 16 lowercase hex
 * digits. */
static void policy_hash(rm_job *j, char out[17]) {
  static const char hex[] = "0123456789abcdef";
  uint64_t h = HASH_SEED;
  jh_prov_vals_sort(j->vals, j->nvals);
  for (size_t i = 0; i < j->nvals; i++) {
    const jh_prov_val *v = &j->vals[i];
    char head[64];
    if (!v->has_policy)
      continue;
    h = hash_bytes(head, value_head(v, head), h);
    h = hash_bytes(v->policy, v->policy_len, h);
  }
  for (int k = 0; k < 16; k++)
    out[k] = hex[(h >> (60 - 4 * k)) & 15];
  out[16] = '\0';
}

/* ---- writing what was decided ---- */

/* One assignment as decided. */
typedef struct outcome {
  stored *existing;
  const char *owner, *target; /* NUL terminated */
  int confidence;
  const char *hash;
} outcome;

static void count(rm_job *j, const jh_rm_decision *d) {
  if (d->state == JH_PROV_AWAITING_APPROVAL)
    j->n.awaiting++;
  switch (d->change_type) {
  case JH_CHANGE_ADDED:
    j->n.added++;
    break;
  case JH_CHANGE_MODIFIED:
    j->n.modified++;
    break;
  case JH_CHANGE_DELETED:
    j->n.deleted++;
    break;
  default:
    if (d->state == JH_PROV_VERIFIED)
      j->n.verified++;
    else
      j->n.orphans++;
  }
}

static int put(rm_job *j, const jh_rm_decision *d, const outcome *o) {
  jh_compute *c = j->c;
  jh_prov_assignment a;
  size_t len;
  int64_t id = 0;

  for (size_t i = 0; i < j->nvals; i++)
    j->vals[i].state = val_equal(&j->vals[i]) ? JH_PROV_VERIFIED
                                              : d->value_state;
  jh_prov_vals_sort(j->vals, j->nvals);
  len = jh_prov_vals_encode(j->vals, j->nvals, &j->enc, &j->enc_cap);
  if (len == (size_t)-1)
    return oom(c);
  memset(&a, 0, sizeof(a));
  a.id = o->existing != NULL ? o->existing->id : 0;
  a.resource_type = j->r.rt->id;
  a.owner_key = o->owner;
  a.target_key = o->target;
  a.change_type = d->change_type;
  a.state = d->state;
  a.workflow_state = o->existing != NULL ? o->existing->workflow : 0;
  a.confidence = o->confidence;
  a.policy_hash = o->hash;
  a.declined_hash = o->existing != NULL ? o->existing->declined_hash : NULL;
  a.task_instance = c->task_instance;
  a.vals = j->enc;
  a.vals_len = len;
  count(j, d);
  return jh_prov_assignment_put(c->store, &a, j->historize, &id, c->err,
                                sizeof(c->err));
}

static int apply(rm_job *j, const jh_rm_decision *d, const outcome *o) {
  jh_compute *c = j->c;
  int rc = 0;
  if (d->action == JH_RM_LEAVE) {
    j->n.unchanged++;
    return 0;
  }
  if (d->action == JH_RM_REMOVE) {
    j->n.removed++;
    rc = jh_prov_assignment_remove(c->store, o->existing->id, j->historize,
                                   c->err, sizeof(c->err));
  } else {
    rc = put(j, d, o);
  }
  return rc == 0 ? jh_compute_wrote(c) : rc;
}

/* The facts every decision of the resource type shares. */
static jh_rm_facts base_facts(const rm_job *j, const stored *s) {
  jh_rm_facts f;
  memset(&f, 0, sizeof(f));
  f.blocked_type = j->r.rt->block_provisioning;
  f.blocked_task = j->block_task;
  f.allow_add = j->r.rt->allow_add;
  f.allow_remove = j->r.rt->allow_remove;
  f.remove_orphans = j->r.rt->remove_orphans;
  f.confidence = 100;
  if (s != NULL) {
    f.has_assignment = 1;
    f.stored_state = s->state;
    f.stored_change = s->change;
    f.earlier_blocked = s->state == JH_PROV_AWAITING_APPROVAL;
  }
  return f;
}

static int same_text(const char *a, const char *b) {
  return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static void policy_facts(jh_rm_facts *f, const stored *s, const char *hash,
                         const char *target) {
  if (s == NULL)
    return;
  f->same_policy = same_text(s->policy_hash, hash) &&
                   same_text(s->target, target);
  f->declined = same_text(s->declined_hash, hash);
}

/* An assignment whose owner is gone or no longer expected. */
static int unwanted(rm_job *j, stored *s) {
  jh_compute *c = j->c;
  const jh_rv_res *t = NULL;
  jh_rm_facts f = base_facts(j, s);
  jh_rm_decision d;
  outcome o = {s, s->owner, s->target, s->confidence, NULL};
  char hash[17];
  int rc = 0;

  if (s->target != NULL)
    rc = jh_rv_load(j->rv, j->r.tgt, s->target, strlen(s->target), &t, c->err,
                    sizeof(c->err));
  if (rc < 0)
    return rc;
  j->nvals = 0;
  policy_hash(j, hash);
  o.hash = hash;
  f.has_owner = 1;
  f.has_target = t != NULL;
  policy_facts(&f, s, hash, s->target);
  d = jh_rm_decide(&f);
  return apply(j, &d, &o);
}

/* ---- one owner ---- */

typedef struct found {
  stored *existing;     /* the owner's stored assignment */
  const jh_rv_res *tgt; /* its target, NULL when none */
  const char *key;      /* the target's key (NUL terminated) */
  int confidence;       /* as stored */
  int fact_confidence;  /* as the decision sees it */
  stored *orphan;       /* a stored orphan assignment of that target */
} found;

/* Candidates of one correlation rule that no other owner holds. */
typedef struct candidates {
  rm_job *j;
  const stored *self;
  const char *key[2];
  size_t n;
} candidates;

static int candidate(void *ud, const char *key, size_t len) {
  candidates *cs = ud;
  const claim *cl = claim_find(cs->j, key, len);
  if (cl != NULL &&
      (cl->index == CLAIM_NEW || (cs->j->st[cl->index].owner != NULL &&
                                  &cs->j->st[cl->index] != cs->self)))
    return 0;
  if (cs->n < 2) {
    cs->key[cs->n] = jh_rv_strdup(cs->j->rv, key, len);
    if (cs->key[cs->n] == NULL)
      return oom(cs->j->c);
  }
  cs->n++;
  return 0;
}

/* The correlation rules in order: the first whose key matches exactly
 * one free target gives it. */
static int correlate(rm_job *j, const jh_rv_res *src, found *fd) {
  jh_compute *c = j->c;
  const jh_resource_type *rt = j->r.rt;
  for (size_t i = 0; i < rt->ncorrelation_rules; i++) {
    candidates cs = {j, fd->existing, {NULL, NULL}, 0};
    const char *value;
    size_t len;
    int rc;
    if (j->r.corr[i] == NULL)
      continue;
    rc = eval_one(j, j->r.corr[i], src, &value, &len);
    if (rc == 0 && value != NULL)
      rc = jh_prov_corrkey_find(c->store, rt->id, (int)i, JH_CORR_TARGET, value,
                                len, candidate, &cs, c->err, sizeof(c->err));
    if (rc != 0)
      return rc;
    if (cs.n != 1)
      continue;
    rc = jh_rv_load(j->rv, j->r.tgt, cs.key[0], strlen(cs.key[0]), &fd->tgt,
                    c->err, sizeof(c->err));
    if (rc < 0)
      return rc;
    if (rc == 1) {
      fd->key = cs.key[0];
      fd->confidence = fd->fact_confidence =
          rt->correlation_rules[i].confidence;
      return 0;
    }
  }
  return 0;
}

/* The owner's target: the stored one while it exists, else what the
 * correlation finds. */
static int find_target(rm_job *j, const jh_rv_res *src, found *fd) {
  jh_compute *c = j->c;
  const stored *s = fd->existing;
  const claim *cl;
  int rc;

  if (s != NULL && s->target != NULL) {
    rc = jh_rv_load(j->rv, j->r.tgt, s->target, strlen(s->target), &fd->tgt,
                    c->err, sizeof(c->err));
    if (rc < 0)
      return rc;
    if (rc == 1) {
      fd->key = s->target;
      fd->confidence = s->confidence;
      fd->fact_confidence = 100; /* its correlation was decided already */
      return 0;
    }
  }
  rc = correlate(j, src, fd);
  if (rc != 0 || fd->key == NULL)
    return rc;
  cl = claim_find(j, fd->key, strlen(fd->key));
  if (cl != NULL && cl->index >= 0 && j->st[cl->index].owner == NULL)
    fd->orphan = &j->st[cl->index];
  return 0;
}

/* The target now belongs to this owner: an orphan assignment of it goes,
 * and the claim is recorded. */
static int take_target(rm_job *j, found *fd) {
  jh_compute *c = j->c;
  long index = fd->existing != NULL ? (long)(fd->existing - j->st) : CLAIM_NEW;
  const claim *cl = claim_find(j, fd->key, strlen(fd->key));
  char *key;
  int rc;

  if (fd->orphan != NULL) {
    rc = jh_prov_assignment_remove(c->store, fd->orphan->id, j->historize,
                                   c->err, sizeof(c->err));
    if (rc != 0)
      return rc;
    fd->orphan->seen = 1;
  }
  if (cl != NULL && cl->index == index)
    return 0;
  key = strdup(fd->key);
  if (key == NULL ||
      jh_array_reserve(&j->owned_keys, &j->owned_keys_cap, j->nowned_keys + 1,
                       sizeof(*j->owned_keys), 64) != 0) {
    free(key);
    return oom(c);
  }
  j->owned_keys[j->nowned_keys++] = key;
  return claim_put(j, key, index) == 0 ? 0 : oom(c);
}

/* Whether the type rules give the owner the resource type. */
static int expected(rm_job *j, const jh_rv_res *src, int *yes) {
  const jh_resource_type *rt = j->r.rt;
  *yes = rt->ntype_rules == 0;
  for (size_t i = 0; i < rt->ntype_rules && !*yes; i++) {
    int rc = j->r.type[i] == NULL
                 ? (*yes = 1, 0)
                 : jh_expr_eval_bool(j->r.type[i], src, yes, j->c->err,
                                     sizeof(j->c->err));
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int wanted(rm_job *j, const jh_rv_res *src, stored *s) {
  found fd;
  jh_rm_facts f = base_facts(j, s);
  jh_rm_decision d;
  outcome o;
  char hash[17];
  size_t klen;
  int rc;

  memset(&fd, 0, sizeof(fd));
  fd.existing = s;
  fd.fact_confidence = 100;
  rc = find_target(j, src, &fd);
  j->nvals = 0;
  if (rc == 0)
    rc = scalar_values(j, src, fd.tgt);
  if (rc == 0)
    rc = nav_values(j, src, fd.tgt);
  if (rc != 0)
    return rc;
  policy_hash(j, hash);
  f.has_owner = f.expected = 1;
  f.has_target = fd.tgt != NULL;
  f.confidence = fd.fact_confidence;
  f.differing = differing(j);
  f.earlier_blocked |= fd.orphan != NULL &&
                       fd.orphan->state == JH_PROV_AWAITING_APPROVAL;
  policy_facts(&f, s, hash, fd.key);
  d = jh_rm_decide(&f);
  o = (outcome){s, jh_rv_key(src, &klen), fd.key, fd.confidence, hash};
  if (d.action == JH_RM_PUT && fd.key != NULL && (rc = take_target(j, &fd)))
    return rc;
  if (d.action == JH_RM_PUT && fd.tgt != NULL &&
      (s == NULL || s->target == NULL) &&
      (rc = met_put(j, o.owner, klen, fd.key)) != 0)
    return rc;
  return apply(j, &d, &o);
}

static int owner(rm_job *j, const jh_prov_resource *r, stored *s) {
  jh_compute *c = j->c;
  const jh_rv_res *src;
  int yes = 0;
  int rc = jh_rv_wrap(j->rv, j->r.src, r, &src, c->err, sizeof(c->err));
  if (rc == 0)
    rc = expected(j, src, &yes);
  if (rc == 0)
    rc = yes ? wanted(j, src, s) : s != NULL ? unwanted(j, s) : 0;
  return rc;
}

/* ---- the scans ---- */

/* Owners before key whose resource is gone. */
static int gone_before(rm_job *j, const char *key, size_t len) {
  int rc = 0;
  while (rc == 0 && j->cursor < j->nowned &&
         (key == NULL || key_cmp(j->st[j->cursor].owner, key, len) < 0)) {
    stored *s = &j->st[j->cursor++];
    s->seen = 1;
    rc = unwanted(j, s);
    if (rc != 0)
      rc = jh_compute_failed_on(j->c, j->r.src->id, s->owner, strlen(s->owner),
                                rc);
  }
  return rc;
}

static int on_source(void *ud, const jh_prov_resource *r) {
  rm_job *j = ud;
  jh_compute *c = j->c;
  stored *s = NULL;
  int rc;

  jh_rv_reset(j->rv);
  rc = gone_before(j, r->key, r->key_len);
  if (rc != 0)
    return rc;
  if (j->cursor < j->nowned &&
      key_cmp(j->st[j->cursor].owner, r->key, r->key_len) == 0) {
    s = &j->st[j->cursor++];
    s->seen = 1;
  }
  if (c->dirty && !(r->dirty & JH_DIRTY_ROLE_MODEL) &&
      (s == NULL || !s->target_dirty))
    return jh_compute_tick(c);
  j->n.read++;
  rc = owner(j, r, s);
  if (rc != 0)
    return jh_compute_failed_on(c, j->r.src->id, r->key, r->key_len, rc);
  return jh_compute_tick(c);
}

/* Dirty mode: the targets that changed make their owners be read. */
static int on_dirty_target(void *ud, const jh_prov_resource *r) {
  rm_job *j = ud;
  const claim *cl = claim_find(j, r->key, r->key_len);
  if (cl != NULL && cl->index >= 0)
    j->st[cl->index].target_dirty = 1;
  return 0;
}

/* Whether an owner holds key through another resource type of the same
 * target entity type: such a resource is no orphan of this one. 1, 0, or
 * a negative code. */
static int owned_elsewhere(rm_job *j, const char *key) {
  const jh_model *m = j->c->model;
  for (size_t i = 0; i < m->nresource_types; i++) {
    const jh_resource_type *rt = &m->resource_types[i];
    jh_prov_assignment a;
    int rc;
    if (rt == j->r.rt || rt->id == NULL || rt->target_entity_type == NULL ||
        strcmp(rt->target_entity_type, j->r.tgt->id) != 0)
      continue;
    rc = jh_prov_assignment_by_target(j->c->store, rt->id, key, &a, j->c->err,
                                      sizeof(j->c->err));
    if (rc < 0)
      return rc;
    if (rc == 1 && a.owner_key != NULL)
      return 1;
  }
  return 0;
}

/* A target resource no owner holds is an orphan. */
static int on_target(void *ud, const jh_prov_resource *r) {
  rm_job *j = ud;
  const claim *cl = claim_find(j, r->key, r->key_len);
  stored *s = NULL;
  jh_rm_facts f;
  jh_rm_decision d;
  outcome o;
  char hash[17];
  int rc;

  if (cl != NULL && (cl->index == CLAIM_NEW || j->st[cl->index].owner != NULL))
    return 0;
  jh_rv_reset(j->rv);
  if (cl != NULL) {
    s = &j->st[cl->index];
    s->seen = 1;
  }
  j->nvals = 0;
  policy_hash(j, hash);
  o = (outcome){s, NULL, jh_rv_strdup(j->rv, r->key, r->key_len), 0, hash};
  if (o.target == NULL)
    return oom(j->c);
  rc = owned_elsewhere(j, o.target);
  f = base_facts(j, s);
  f.has_target = rc == 0; /* held elsewhere: not an orphan of this type */
  policy_facts(&f, s, hash, s != NULL ? s->target : NULL);
  d = jh_rm_decide(&f);
  if (rc >= 0)
    rc = apply(j, &d, &o);
  return rc != 0
             ? jh_compute_failed_on(j->c, j->r.tgt->id, r->key, r->key_len, rc)
             : 0;
}

/* Stored orphans whose target is gone. */
static int orphans_gone(rm_job *j) {
  int rc = 0;
  for (size_t i = j->nowned; i < j->nst && rc == 0; i++) {
    stored *s = &j->st[i];
    jh_rm_facts f = base_facts(j, s);
    jh_rm_decision d;
    outcome o = {s, NULL, s->target, 0, s->policy_hash};
    if (s->seen || s->owner != NULL)
      continue;
    d = jh_rm_decide(&f);
    rc = apply(j, &d, &o);
  }
  return rc;
}

static int resource_type(rm_job *j, const jh_resource_type *rt) {
  jh_compute *c = j->c;
  int rc = compile_all(j, rt);
  if (rc == 0)
    rc = load_stored(j);
  if (rc == 0 && c->dirty)
    rc = jh_prov_scan(c->store, j->r.tgt_num, JH_DIRTY_ROLE_MODEL,
                      on_dirty_target, j, c->err, sizeof(c->err));
  if (rc == 0)
    rc = jh_prov_scan(c->store, j->r.src_num, 0, on_source, j, c->err,
                      sizeof(c->err));
  if (rc == 0)
    rc = gone_before(j, NULL, 0);
  if (rc == 0)
    rc = jh_prov_scan(c->store, j->r.tgt_num, 0, on_target, j, c->err,
                      sizeof(c->err));
  if (rc == 0)
    rc = orphans_gone(j);
  free_stored(j);
  free_rules(&j->r);
  return rc;
}

/* Dirty mode: the role model bit of the sources read and of their
 * resource types' targets, cleared once every resource type has seen
 * them (two resource types may share an entity type). */
static int clear_dirty(rm_job *j, const jh_entity_type **ets, long n) {
  jh_compute *c = j->c;
  const jh_model *m = c->model;
  for (size_t r = 0; r < m->nresource_types; r++) {
    const jh_resource_type *rt = &m->resource_types[r];
    const jh_entity_type *both[2];
    for (long i = 0; i < n; i++) {
      if (rt->id == NULL || rt->source_entity_type == NULL ||
          strcmp(rt->source_entity_type, ets[i]->id) != 0)
        continue;
      both[0] = ets[i];
      both[1] = jh_model_entity_type(m, rt->target_entity_type);
      for (int k = 0; k < 2; k++) {
        int64_t num;
        int rc = both[k] == NULL ? 0
                                 : jh_rv_entity_type(j->rv, both[k], &num,
                                                     c->err, sizeof(c->err));
        if (rc == 0 && both[k] != NULL &&
            jh_prov_dirty_clear_all(c->store, num, JH_DIRTY_ROLE_MODEL, c->err,
                                    sizeof(c->err)) < 0)
          rc = -EIO;
        if (rc != 0)
          return rc;
      }
    }
  }
  return 0;
}

/* The resource types whose source entity type the task processes. */
static int run_all(rm_job *j) {
  jh_compute *c = j->c;
  const jh_entity_type **ets;
  long n = jh_compute_entity_types(c, 0, &ets);
  int rc = n < 0 ? -EINVAL : jh_compute_begin(c);

  for (size_t r = 0; r < c->model->nresource_types && rc == 0; r++) {
    const jh_resource_type *rt = &c->model->resource_types[r];
    for (long i = 0; i < n && rc == 0; i++)
      if (rt->id != NULL && rt->source_entity_type != NULL &&
          strcmp(rt->source_entity_type, ets[i]->id) == 0)
        rc = resource_type(j, rt);
  }
  if (rc == 0 && c->dirty)
    rc = clear_dirty(j, ets, n);
  if (rc == 0)
    rc = jh_compute_commit(c);
  free(ets);
  return rc;
}

static void report(jobhost_ctx *ctx, const counts *n) {
  const jobhost_services *svc = ctx->svc;
  svc->counter_set(ctx, "resources", n->read);
  svc->counter_set(ctx, "added", n->added);
  svc->counter_set(ctx, "modified", n->modified);
  svc->counter_set(ctx, "deleted", n->deleted);
  svc->counter_set(ctx, "verified", n->verified);
  svc->counter_set(ctx, "awaiting_approval", n->awaiting);
  svc->counter_set(ctx, "orphans", n->orphans);
  svc->counter_set(ctx, "removed", n->removed);
  svc->counter_set(ctx, "unchanged", n->unchanged);
  if (n->waiting > 0)
    svc->counter_set(ctx, "waiting", n->waiting);
}

int jh_compute_role_model(jh_compute *c) {
  jobhost_ctx *ctx = c->ctx;
  rm_job j;
  int rc;

  memset(&j, 0, sizeof(j));
  j.c = c;
  c->batch = jh_compute_int(ctx, "batch_insert_size");
  j.block_task = jh_compute_flag(ctx, "block_provisioning") ||
                 jh_compute_flag(ctx, "block_all_resource_type_provisioning");
  j.historize = !jh_compute_flag(ctx, "ignore_historization");
  rc = jh_compute_rules_open(c, &j.rv, &j.env);
  if (rc == 0)
    rc = run_all(&j);
  jh_compute_rollback(c);
  report(ctx, &j.n);
  if (rc == 0)
    ctx->svc->set_message(ctx,
                          "%" PRId64 " owners read: %" PRId64 " added, %" PRId64
                          " modified, %" PRId64 " deleted, %" PRId64
                          " awaiting approval, %" PRId64 " verified, %" PRId64
                          " orphans",
                          j.n.read, j.n.added, j.n.modified, j.n.deleted,
                          j.n.awaiting, j.n.verified, j.n.orphans);
  jh_compute_rules_close(j.rv, j.env);
  free(j.vals);
  free(j.enc);
  return rc;
}
