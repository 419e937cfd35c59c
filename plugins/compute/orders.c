/*
 * orders.c — GenerateProvisioningOrdersTask (doc/provisioning.md, "Order
 * files" and "Thresholds"): the Pending assignments of the task's
 * resource types become JSON order files under
 * ProvisioningOrders/<resource type>/, batch_insert_size orders a file;
 * then one transaction marks them Transmitted. The provisioning
 * thresholds are counted first: over one, nothing is written and the
 * task ends Blocked, unless forced.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <unistr.h>

#include "array.h"
#include "compute.h"
#include "faultpoint.h"
#include "order_file.h"
#include "timefmt.h"

/* One order written: its assignment, what it does, its file. */
typedef struct sent {
  int64_t id;
  int change;
  size_t file; /* index into the files written */
} sent;

/* One resource type's work. */
typedef struct rt_orders {
  const jh_resource_type *rt;
  const jh_entity_type *src, *tgt;
  int64_t n, counts[4]; /* Pending orders, by change type */
  int64_t live;         /* assignments with an owner and a target */
  uint32_t *nums;       /* the store's numbers of tgt's properties */
  json_t *rt_json;      /* order.ResourceType, shared by its orders */
} rt_orders;

typedef struct orders_job {
  jh_compute *c;
  jh_rv *rv;
  rt_orders *rts;
  size_t nrts;
  char **files;      /* relative paths written */
  int64_t leftovers; /* files of a killed run removed */
  size_t nfiles, files_cap;
  sent *sent;
  size_t nsent, sent_cap;
  const char *root;
  jh_order_writer *writer;
  int64_t per_file, written, by_change[4];
} orders_job;

static int oom(jh_compute *c) {
  snprintf(c->err, sizeof(c->err), "out of memory");
  return -ENOMEM;
}

/* ---- which resource types ---- */

/* The connector of rt: its own, else its target's mapping's. */
static const char *connector_of(const jh_model *m, const jh_resource_type *rt) {
  const jh_entity_mapping *map;
  if (rt->connector != NULL)
    return rt->connector;
  map = jh_model_mapping(m, rt->target_entity_type);
  return map != NULL ? map->connector : NULL;
}

static int add_rt(orders_job *j, const jh_resource_type *rt) {
  jh_compute *c = j->c;
  rt_orders *o = &j->rts[j->nrts];
  for (size_t i = 0; i < j->nrts; i++)
    if (j->rts[i].rt == rt)
      return 0;
  memset(o, 0, sizeof(*o));
  o->rt = rt;
  o->src = jh_model_entity_type(c->model, rt->source_entity_type);
  o->tgt = jh_model_entity_type(c->model, rt->target_entity_type);
  if (o->src == NULL || o->tgt == NULL) {
    snprintf(c->err, sizeof(c->err),
             "resource type %s: unknown source or target entity type", rt->id);
    return -EINVAL;
  }
  j->nrts++;
  return 0;
}

/* The resource_types list and the connector's resource types. */
static int select_rts(orders_job *j) {
  jh_compute *c = j->c;
  const jh_model *m = c->model;
  const char *connector = c->ctx->svc->param(c->ctx,
                                             JOBHOST_PARAM_NAME_CONNECTOR);
  const char *const *names;
  size_t n = c->ctx->svc->param_list(c->ctx, "resource_types", &names);
  int rc = 0;

  j->rts = calloc(m->nresource_types + 1, sizeof(*j->rts));
  if (j->rts == NULL)
    return oom(c);
  for (size_t i = 0; i < n && rc == 0; i++) {
    const jh_resource_type *rt = jh_model_resource_type(m, names[i]);
    if (rt == NULL) {
      snprintf(c->err, sizeof(c->err),
               "resource_types: the model has no resource type %s", names[i]);
      return -EINVAL;
    }
    rc = add_rt(j, rt);
  }
  for (size_t i = 0; i < m->nresource_types && rc == 0 && connector; i++) {
    const jh_resource_type *rt = &m->resource_types[i];
    const char *k = connector_of(m, rt);
    if (rt->id != NULL && k != NULL && strcasecmp(k, connector) == 0)
      rc = add_rt(j, rt);
  }
  return rc;
}

/* ---- reading the Pending assignments ---- */

/* Count a Pending assignment that has an order to send. */
static int count_pending(void *ud, const jh_prov_assignment *a) {
  rt_orders *o = ud;
  if (a->change_type < JH_CHANGE_ADDED || a->change_type > JH_CHANGE_DELETED)
    return 0; /* nothing to send */
  o->counts[a->change_type]++;
  o->n++;
  return 0;
}

static int count_live(void *ud, const jh_prov_assignment *a) {
  rt_orders *o = ud;
  if (a->target_key != NULL && a->owner_key != NULL)
    o->live++;
  return 0;
}

/* The numbers of the target's properties, to name the values. */
static int number_props(orders_job *j, rt_orders *o) {
  jh_compute *c = j->c;
  int rc = 0;
  o->nums = calloc(o->tgt->nproperties + 1, sizeof(*o->nums));
  if (o->nums == NULL)
    return oom(c);
  for (size_t i = 0; i < o->tgt->nproperties && rc == 0; i++)
    rc = jh_rv_property(j->rv, o->tgt->properties[i].id, &o->nums[i], c->err,
                        sizeof(c->err));
  return rc;
}

static json_t *resource_type_json(const rt_orders *o);

/* Count the Pending orders of every resource type (and their live
 * assignments, for the thresholds). */
static int count_orders(orders_job *j) {
  jh_compute *c = j->c;
  int rc = 0;
  for (size_t i = 0; i < j->nrts && rc == 0; i++) {
    rt_orders *o = &j->rts[i];
    jh_prov_filter pf = {JH_PROV_PENDING, o->rt->id};
    jh_prov_filter all = {-1, o->rt->id};
    rc = jh_prov_list(c->store, &pf, count_pending, o, c->err, sizeof(c->err));
    if (rc == 0 && o->n > 0)
      rc = jh_prov_list(c->store, &all, count_live, o, c->err, sizeof(c->err));
    if (rc == 0 && o->n > 0)
      rc = number_props(j, o);
    if (rc == 0 && o->n > 0 && (o->rt_json = resource_type_json(o)) == NULL)
      rc = oom(c);
  }
  return rc;
}

static void free_job(orders_job *j) {
  for (size_t i = 0; i < j->nrts; i++) {
    free(j->rts[i].nums);
    json_decref(j->rts[i].rt_json);
  }
  free(j->sent);
  free(j->rts);
  for (size_t i = 0; i < j->nfiles; i++)
    free(j->files[i]);
  free(j->files);
}

/* ---- thresholds ---- */

static const struct limit {
  int change;
  jh_prov_threshold_kind max, pct;
} limits[] = {
    {JH_CHANGE_ADDED, JH_PTH_MAX_INSERT, JH_PTH_PCT_INSERT},
    {JH_CHANGE_MODIFIED, JH_PTH_MAX_UPDATE, JH_PTH_PCT_UPDATE},
    {JH_CHANGE_DELETED, JH_PTH_MAX_DELETE, JH_PTH_PCT_DELETE},
};

#define DEFAULT_PERCENT 30

static int64_t threshold(const jh_resource_type *rt, jh_prov_threshold_kind k,
                         int64_t unset) {
  return rt->thresholds[k] < 0 ? unset : rt->thresholds[k];
}

/* JOBHOST_EBLOCKED with the reason when one of o's thresholds is
 * exceeded; percentages count against the live assignments and are
 * skipped while there are none. */
static int over_threshold(orders_job *j, const rt_orders *o) {
  jh_compute *c = j->c;
  const int64_t *n = o->counts;
  for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
    const struct limit *l = &limits[i];
    int64_t count = n[l->change];
    int64_t max = threshold(o->rt, l->max, 0);
    int64_t pct = threshold(o->rt, l->pct, DEFAULT_PERCENT);
    if (max > 0 && count > max) {
      snprintf(c->err, sizeof(c->err),
               "resource type %s: %" PRId64 " %s orders exceed %s (%" PRId64
               "); nothing was written (resume or --force to send them)",
               o->rt->id, count, jh_change_type_name(l->change),
               jh_prov_threshold_key(l->max), max);
      return JOBHOST_EBLOCKED;
    }
    if (pct > 0 && o->live > 0 && count * 100 > pct * o->live) {
      snprintf(c->err, sizeof(c->err),
               "resource type %s: %" PRId64 " %s orders for %" PRId64
               " assignments exceed %s (%" PRId64
               "%%); nothing was written (resume or --force to send them)",
               o->rt->id, count, jh_change_type_name(l->change), o->live,
               jh_prov_threshold_key(l->pct), pct);
      return JOBHOST_EBLOCKED;
    }
  }
  return 0;
}

/* ---- the orders as JSON ---- */

/* A JSON text of v: 0 and *out, -EILSEQ when v is not UTF-8 (JSON text
 * is), or -ENOMEM. */
static int json_text(const char *v, size_t len, json_t **out) {
  *out = NULL;
  if (u8_check((const uint8_t *)v, len) != NULL)
    return -EILSEQ;
  *out = json_stringn(v, len);
  return *out != NULL ? 0 : -ENOMEM;
}

/* Say what failed: out of memory, or a value that is not UTF-8. */
static int json_failed(jh_compute *c, int rc, const char *what, const char *key,
                       const char *prop) {
  if (rc == -EILSEQ)
    snprintf(c->err, sizeof(c->err), "%s %s: the value of %s is not UTF-8",
             what, key, prop);
  else
    oom(c);
  return rc;
}

typedef struct props_arg {
  json_t *obj;
  const char *bad; /* the property that failed */
} props_arg;

static int add_prop(void *ud, const jh_property *p, const char *val,
                    size_t len) {
  props_arg *a = ud;
  json_t *s;
  int rc = json_text(val, len, &s);
  if (rc == 0 && json_object_set_new(a->obj, p->id, s) != 0)
    rc = -ENOMEM;
  if (rc != 0)
    a->bad = p->id;
  return rc;
}

/* The values of the resource of et with key as an object; *obj NULL when
 * the store has no such resource. */
static int resource_json(orders_job *j, const jh_entity_type *et,
                         const char *key, json_t **obj) {
  jh_compute *c = j->c;
  const jh_rv_res *r;
  props_arg a = {NULL, "?"};
  int rc;
  *obj = NULL;
  if (key == NULL)
    return 0;
  rc = jh_rv_load(j->rv, et, key, strlen(key), &r, c->err, sizeof(c->err));
  if (rc <= 0)
    return rc;
  a.obj = *obj = json_object();
  rc = *obj == NULL ? -ENOMEM : jh_rv_each(r, add_prop, &a);
  if (rc == 0)
    return 0;
  json_decref(*obj);
  *obj = NULL;
  return json_failed(c, rc, et->id, key, a.bad);
}

typedef struct changes_arg {
  const rt_orders *o;
  json_t *changes;
  const char *bad; /* the property that failed */
  int not_utf8;    /* because its value is not UTF-8 */
} changes_arg;

static const char *prop_name(const rt_orders *o, uint32_t num) {
  for (size_t i = 0; i < o->tgt->nproperties; i++)
    if (o->nums[i] == num)
      return o->tgt->properties[i].id;
  return NULL;
}

/* Append key to changes[name][list], made when absent. */
static int nav_change(json_t *changes, const char *name, const char *list,
                      const char *key, size_t len) {
  json_t *nav = json_object_get(changes, name), *arr;
  if (nav == NULL && (nav = json_object()) != NULL &&
      json_object_set_new(changes, name, nav) != 0)
    return -ENOMEM;
  arr = nav != NULL ? json_object_get(nav, list) : NULL;
  if (nav != NULL && arr == NULL && (arr = json_array()) != NULL &&
      json_object_set_new(nav, list, arr) != 0)
    return -ENOMEM;
  if (arr == NULL)
    return -ENOMEM;
  if (u8_check((const uint8_t *)key, len) != NULL)
    return -EILSEQ;
  return json_array_append_new(arr, json_stringn(key, len)) != 0 ? -ENOMEM : 0;
}

/* A value that changes: a scalar's new value (null: cleared), a
 * navigation's key to add or remove. */
static int add_change(void *ud, const jh_prov_val *v) {
  changes_arg *a = ud;
  const char *name;
  json_t *s = NULL;
  int rc = 0;
  if (v->state == JH_PROV_VERIFIED)
    return 0;
  name = prop_name(a->o, v->prop);
  if (name == NULL)
    return 0; /* a property the model no longer has */
  if (v->navigation && v->has_policy && v->has_observed)
    return 0; /* held already */
  a->bad = name;
  if (v->navigation && v->has_policy)
    rc = nav_change(a->changes, name, "Add", v->policy, v->policy_len);
  else if (v->navigation)
    rc = nav_change(a->changes, name, "Remove", v->observed, v->observed_len);
  else if (v->has_policy)
    rc = json_text(v->policy, v->policy_len, &s);
  else if ((s = json_null()) == NULL)
    rc = -ENOMEM;
  if (rc == 0 && !v->navigation && json_object_set_new(a->changes, name, s))
    rc = -ENOMEM;
  a->not_utf8 = rc == -EILSEQ;
  return rc;
}

static json_t *resource_type_json(const rt_orders *o) {
  return json_pack("{s:s, s:{s:s}, s:{s:s}}", "Identifier", o->rt->id,
                   "SourceEntityType", "Identifier", o->src->id,
                   "TargetEntityType", "Identifier", o->tgt->id);
}

/* The owner's values, with Id and Identifier its key, as order.Owner.
 * An owner who left is still named by its key: the fulfillment's audit
 * says whose account a Deleted order removes. */
static int owner_json(orders_job *j, const rt_orders *o,
                      const jh_prov_assignment *a, json_t *order) {
  json_t *owner, *key[2];
  int rc = resource_json(j, o->src, a->owner_key, &owner);
  static const char *const names[2] = {"Id", "Identifier"};
  if (rc != 0 || a->owner_key == NULL)
    return rc;
  if (owner == NULL && (owner = json_object()) == NULL)
    return oom(j->c);
  for (size_t i = 0; i < 2 && rc == 0; i++) {
    rc = json_text(a->owner_key, strlen(a->owner_key), &key[i]);
    if (rc == 0 && json_object_set_new(owner, names[i], key[i]) != 0)
      rc = -ENOMEM;
  }
  if (rc != 0) {
    json_decref(owner);
    return json_failed(j->c, rc, o->src->id, a->owner_key, "its key");
  }
  return json_object_set_new(order, "Owner", owner) != 0 ? oom(j->c) : 0;
}

static int order_members(orders_job *j, const rt_orders *o,
                         const jh_prov_assignment *a, json_t *order) {
  jh_compute *c = j->c;
  json_t *resource;
  changes_arg ca = {o, NULL, "?", 0};
  char id[32];
  int rc = owner_json(j, o, a, order);
  if (rc == 0)
    rc = resource_json(j, o->tgt, a->target_key, &resource);
  if (rc == 0 && resource != NULL &&
      json_object_set_new(order, "Resource", resource) != 0)
    return oom(c);
  if (rc != 0 || a->change_type == JH_CHANGE_DELETED)
    return rc;
  ca.changes = json_object();
  if (ca.changes == NULL || json_object_set_new(order, "Changes", ca.changes))
    return oom(c);
  snprintf(id, sizeof(id), "%" PRId64, a->id);
  rc = jh_prov_vals_decode(a->vals, a->vals_len, add_change, &ca);
  if (rc == -EILSEQ && !ca.not_utf8) {
    snprintf(c->err, sizeof(c->err),
             "assignment %" PRId64 ": malformed stored values", a->id);
    return rc;
  }
  return rc != 0 ? json_failed(c, rc, "assignment", id, ca.bad) : 0;
}

static int order_json(orders_job *j, const rt_orders *o,
                      const jh_prov_assignment *a, json_t **out) {
  char id[32];
  json_t *order;
  int rc;
  snprintf(id, sizeof(id), "%" PRId64, a->id);
  order = json_pack("{s:s, s:s, s:O}", "AssignedResourceTypeId", id,
                    "ChangeType", jh_change_type_name(a->change_type),
                    "ResourceType", o->rt_json);
  *out = NULL;
  if (order == NULL)
    return oom(j->c);
  jh_rv_reset(j->rv);
  rc = order_members(j, o, a, order);
  if (rc != 0) {
    json_decref(order);
    return rc;
  }
  *out = order;
  return 0;
}

/* ---- files ---- */

static int add_file(orders_job *j, const char *rel) {
  char *d = strdup(rel);
  if (d == NULL || jh_array_reserve(&j->files, &j->files_cap, j->nfiles + 1,
                                    sizeof(*j->files), 16) != 0) {
    free(d);
    return oom(j->c);
  }
  j->files[j->nfiles++] = d;
  return 0;
}

/* Remove the files written so far (the task failed before its commit). */
static void unwrite(orders_job *j) {
  char path[PATH_MAX];
  for (size_t i = 0; i < j->nfiles; i++)
    if (snprintf(path, sizeof(path), "%s/%s", j->root, j->files[i]) <
        (int)sizeof(path))
      unlink(path);
}

static int make_dir(jh_compute *c, const char *dir) {
  int e;
  if (mkdir(dir, 0755) == 0 || errno == EEXIST)
    return 0;
  e = errno;
  snprintf(c->err, sizeof(c->err), "cannot make %.1900s: %s", dir, strerror(e));
  return -e;
}

/* Orders [from, to) of o as one file. */
/* Writing one resource type's files, while its Pending assignments are
 * read. */
typedef struct emit_arg {
  orders_job *j;
  const rt_orders *o;
  int64_t now;
  unsigned seq;
} emit_arg;

/* Write what the writer holds as the next file of e's resource type. */
static int flush(emit_arg *e) {
  orders_job *j = e->j;
  jh_compute *c = j->c;
  char name[128], rel[PATH_MAX], path[PATH_MAX];
  int rc = 0;

  if (jh_order_file_name(name, sizeof(name), e->now, c->task_instance,
                         e->seq++) ||
      snprintf(rel, sizeof(rel), "%s/%s", e->o->rt->id, name) >=
          (int)sizeof(rel) ||
      snprintf(path, sizeof(path), "%s/%s", j->root, rel) >=
          (int)sizeof(path)) {
    snprintf(c->err, sizeof(c->err), "%s/%s: the path is too long", j->root,
             e->o->rt->id);
    rc = -ENAMETOOLONG;
  }
  if (rc == 0)
    rc = jh_order_writer_write(j->writer, path, c->err, sizeof(c->err));
  return rc == 0 ? add_file(j, rel) : rc;
}

/* One Pending assignment: its order into the file being built, which is
 * written once it holds batch_insert_size orders. */
static int emit(void *ud, const jh_prov_assignment *a) {
  emit_arg *e = ud;
  orders_job *j = e->j;
  json_t *order;
  int rc;

  if (a->change_type < JH_CHANGE_ADDED || a->change_type > JH_CHANGE_DELETED)
    return 0;
  if (jh_array_reserve(&j->sent, &j->sent_cap, j->nsent + 1, sizeof(*j->sent),
                       256) != 0)
    return oom(j->c);
  rc = order_json(j, e->o, a, &order);
  if (rc == 0)
    rc = jh_order_writer_add(j->writer, order, j->c->err, sizeof(j->c->err));
  json_decref(order);
  if (rc != 0)
    return rc;
  j->sent[j->nsent++] = (sent){a->id, a->change_type, j->nfiles};
  if (j->per_file > 0 &&
      jh_order_writer_count(j->writer) >= (size_t)j->per_file)
    return flush(e);
  return 0;
}

static int write_rt(orders_job *j, const rt_orders *o, int64_t now) {
  jh_compute *c = j->c;
  jh_prov_filter pf = {JH_PROV_PENDING, o->rt->id};
  emit_arg e = {j, o, now, 1};
  char dir[PATH_MAX];
  int rc;

  if (o->n == 0)
    return 0;
  if (strchr(o->rt->id, '/') != NULL || o->rt->id[0] == '.') {
    snprintf(c->err, sizeof(c->err),
             "resource type %s: not usable as a folder name", o->rt->id);
    return -EINVAL;
  }
  if (snprintf(dir, sizeof(dir), "%s/%s", j->root, o->rt->id) >=
      (int)sizeof(dir)) {
    snprintf(c->err, sizeof(c->err), "%s: the path is too long", j->root);
    return -ENAMETOOLONG;
  }
  rc = make_dir(c, dir);
  if (rc == 0)
    rc = jh_prov_list(c->store, &pf, emit, &e, c->err, sizeof(c->err));
  if (rc == 0 && jh_order_writer_count(j->writer) > 0)
    rc = flush(&e);
  return rc;
}

/* Every order written becomes Transmitted, one file at a time. */
static int record(orders_job *j) {
  jh_compute *c = j->c;
  int64_t *ids = malloc((j->nsent + 1) * sizeof(*ids));
  int rc = ids == NULL ? oom(c) : 0;
  for (size_t i = 0, n = 0; i < j->nsent && rc == 0; i++) {
    const sent *x = &j->sent[i];
    ids[n++] = x->id;
    j->by_change[x->change]++;
    j->written++;
    if (i + 1 < j->nsent && j->sent[i + 1].file == x->file)
      continue;
    rc = jh_prov_orders_written(c->store, ids, n, c->task_instance,
                                j->files[x->file], c->err, sizeof(c->err));
    n = 0;
  }
  free(ids);
  return rc;
}

static void notify_committed(jobhost_ctx *ctx) {
  const jh_commit_notice *n = ctx->svc->host_object(ctx, JH_COMMIT_OBJECT);
  if (n != NULL && n->committed != NULL)
    n->committed(ctx, 0);
}

static int check_thresholds(orders_job *j) {
  int rc = 0;
  for (size_t i = 0; i < j->nrts && rc == 0; i++)
    rc = over_threshold(j, &j->rts[i]);
  return rc;
}

/* One transaction from the reading of the Pending assignments to their
 * being Transmitted: what is sent is what is marked. */
static int generate(orders_job *j, int force) {
  int64_t now = jh_now_ms();
  int rc = select_rts(j);
  if (rc == 0)
    rc = jh_compute_begin(j->c);
  for (size_t i = 0; i < j->nrts && rc == 0; i++)
    rc = jh_compute_orders_sweep(j->c, j->root, j->rts[i].rt->id,
                                 &j->leftovers);
  if (rc == 0)
    rc = count_orders(j);
  if (rc == 0 && !force)
    rc = check_thresholds(j);
  for (size_t i = 0; i < j->nrts && rc == 0; i++)
    rc = write_rt(j, &j->rts[i], now);
  if (rc == 0)
    rc = record(j);
  if (rc == 0)
    jh_fault_point("orders.before_commit");
  if (rc == 0)
    rc = jh_compute_commit(j->c);
  if (rc != 0)
    unwrite(j);
  return rc;
}

int jh_compute_orders(jh_compute *c) {
  jobhost_ctx *ctx = c->ctx;
  const jobhost_services *svc = ctx->svc;
  int force = ctx->force || jh_compute_flag(ctx, "force_provisioning");
  orders_job j;
  int rc;

  memset(&j, 0, sizeof(j));
  j.c = c;
  j.per_file = jh_compute_int(ctx, "batch_insert_size");
  j.root = svc->folder(ctx, JOBHOST_FOLDER_PROVISIONING_ORDERS);
  if (j.root == NULL) {
    snprintf(c->err, sizeof(c->err),
             "the host gave no ProvisioningOrders folder");
    return JOBHOST_ECONFIG;
  }
  rc = jh_rv_new(c->model, c->store, &j.rv);
  if (rc == 0)
    rc = jh_order_writer_new(&j.writer);
  rc = rc == 0 ? generate(&j, force) : oom(c);
  if (rc != 0)
    j.written = j.by_change[1] = j.by_change[2] = j.by_change[3] = 0;
  svc->counter_set(ctx, "orders", j.written);
  svc->counter_set(ctx, "added", j.by_change[JH_CHANGE_ADDED]);
  svc->counter_set(ctx, "modified", j.by_change[JH_CHANGE_MODIFIED]);
  svc->counter_set(ctx, "deleted", j.by_change[JH_CHANGE_DELETED]);
  svc->counter_set(ctx, "files", rc == 0 ? (int64_t)j.nfiles : 0);
  if (j.leftovers > 0)
    svc->log(ctx, JOBHOST_LOG_WARNING,
             "%" PRId64 " order files of a run killed before its commit "
             "removed (their orders are sent again)",
             j.leftovers);
  if (rc == 0) {
    if (j.written > 0)
      notify_committed(ctx);
    svc->set_produced_output(ctx, j.written > 0);
    if (j.written == 0)
      svc->set_message(ctx, "no Pending order");
    else
      svc->set_message(ctx, "%" PRId64 " orders written in %zu files%s",
                       j.written, j.nfiles,
                       force ? " (thresholds forced)" : "");
  }
  jh_rv_free(j.rv);
  jh_order_writer_free(j.writer);
  free_job(&j);
  return rc;
}
