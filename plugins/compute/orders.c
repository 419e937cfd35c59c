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
#include "atomic_file.h"
#include "compute.h"
#include "file_writer.h"
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
  size_t *owner_props, nowner_props; /* src's members of Owner, by name */
  size_t *tgt_props, ntgt_props;     /* tgt's members of Resource */
  size_t *rank; /* each of tgt's properties' place in name order */
} rt_orders;

typedef struct change change;

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
  jh_file_writer *files_out; /* writes and syncs the files, a thread */
  change *changes;           /* of the order being written */
  size_t changes_cap;
  int64_t per_file, written, by_change[4];
} orders_job;

static int oom(jh_compute *c) {
  snprintf(c->err, sizeof(c->err), "out of memory");
  return -ENOMEM;
}

/* ---- which resource types ---- */

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
    const char *k = jh_model_resource_type_connector(m, rt);
    if (rt->id != NULL && k != NULL && strcasecmp(k, connector) == 0)
      rc = add_rt(j, rt);
  }
  return rc;
}

/* ---- reading the Pending assignments ---- */

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

static int order_names(rt_orders *o);

/* Count the Pending orders of every resource type (and their live
 * assignments, for the thresholds). */
static int count_orders(orders_job *j) {
  jh_compute *c = j->c;
  int rc = 0;
  for (size_t i = 0; i < j->nrts && rc == 0; i++) {
    rt_orders *o = &j->rts[i];
    rc = jh_prov_count_pending(c->store, o->rt->id, o->counts, &o->live, c->err,
                               sizeof(c->err));
    o->n = o->counts[1] + o->counts[2] + o->counts[3];
    if (rc == 0 && o->n > 0)
      rc = number_props(j, o);
    if (rc == 0 && o->n > 0 && order_names(o) != 0)
      rc = oom(c);
  }
  return rc;
}

static void free_job(orders_job *j) {
  for (size_t i = 0; i < j->nrts; i++) {
    free(j->rts[i].nums);
    free(j->rts[i].owner_props);
    free(j->rts[i].tgt_props);
    free(j->rts[i].rank);
  }
  free(j->sent);
  free(j->changes);
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

/* ---- the orders as text ---- */

/* The writer wants each object's members in key order: the properties'
 * indexes sorted by name, worked out once per resource type. */
typedef struct by_name_arg {
  const jh_entity_type *et;
} by_name_arg;

static int by_name(const void *a, const void *b, void *ud) {
  const jh_entity_type *et = ((by_name_arg *)ud)->et;
  return strcmp(et->properties[*(const size_t *)a].id,
                et->properties[*(const size_t *)b].id);
}

/* Whether a property of an owner gives way to the Id and Identifier the
 * order names it by. */
static int is_owner_name(const char *id) {
  return strcmp(id, "Id") == 0 || strcmp(id, "Identifier") == 0;
}

/* The indexes of et's properties, LINKS ones left out unless all, owner
 * names left out when asked, sorted by name. */
static int sorted_props(const jh_entity_type *et, int all, int owner,
                        size_t **out, size_t *n) {
  by_name_arg arg = {et};
  *n = 0;
  *out = malloc((et->nproperties + 1) * sizeof(**out));
  if (*out == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < et->nproperties; i++)
    if ((all || et->properties[i].type != JH_PROP_LINKS) &&
        !(owner && is_owner_name(et->properties[i].id)))
      (*out)[(*n)++] = i;
  qsort_r(*out, *n, sizeof(**out), by_name, &arg);
  return 0;
}

/* The orders of names, once: the owner's and the target's members, and
 * each target property's place among the Changes. */
static int order_names(rt_orders *o) {
  size_t *all, n;
  if (sorted_props(o->src, 0, 1, &o->owner_props, &o->nowner_props) != 0 ||
      sorted_props(o->tgt, 0, 0, &o->tgt_props, &o->ntgt_props) != 0 ||
      sorted_props(o->tgt, 1, 0, &all, &n) != 0)
    return -ENOMEM;
  o->rank = calloc(o->tgt->nproperties + 1, sizeof(*o->rank));
  if (o->rank != NULL)
    for (size_t r = 0; r < n; r++)
      o->rank[all[r]] = r;
  free(all);
  return o->rank != NULL ? 0 : -ENOMEM;
}

/* Say that the value of prop is not UTF-8 (JSON text is). */
static int not_utf8(jh_compute *c, const char *what, const char *key,
                    const char *prop) {
  snprintf(c->err, sizeof(c->err), "%s %s: the value of %s is not UTF-8", what,
           key, prop);
  return -EILSEQ;
}

static int utf8(const char *v, size_t len) {
  return u8_check((const uint8_t *)v, len) == NULL;
}

/* A resource's values, members in name order from props; the owner's Id
 * and Identifier (its key) put in their places when key is given. The
 * values were checked to be UTF-8 (check_values). */
static void put_values(orders_job *j, const jh_entity_type *et,
                       const size_t *props, size_t n, const jh_rv_res *r,
                       const char *key) {
  static const char *const names[2] = {"Id", "Identifier"};
  size_t next_name = key != NULL ? 0 : 2;
  for (size_t k = 0; k <= n; k++) {
    const char *id = k < n ? et->properties[props[k]].id : NULL, *val;
    size_t len;
    while (next_name < 2 && (id == NULL || strcmp(names[next_name], id) < 0))
      jh_order_writer_string(j->writer, names[next_name++], key, strlen(key));
    if (id != NULL && r != NULL && jh_rv_value_at(r, props[k], &val, &len))
      jh_order_writer_string(j->writer, id, val, len);
  }
}

/* Each value of r UTF-8, in the entity type's order of properties. */
static int check_values(orders_job *j, const jh_entity_type *et,
                        const jh_rv_res *r) {
  for (size_t i = 0; r != NULL && i < et->nproperties; i++) {
    const char *val;
    size_t len;
    if (et->properties[i].type != JH_PROP_LINKS &&
        jh_rv_value_at(r, i, &val, &len) && !utf8(val, len))
      return not_utf8(j->c, et->id, jh_rv_key(r, &len), et->properties[i].id);
  }
  return 0;
}

/* et's resource with key, from the store, its values checked: 1 and *r,
 * 0 when there is none (or no key). */
/* The owner the assignment listing read (p, NULL when none) as a
 * handle, its values checked: 1, 0 when none, or a negative code. */
static int owner_checked(orders_job *j, const jh_entity_type *et,
                         const jh_prov_resource *p, const jh_rv_res **r) {
  jh_compute *c = j->c;
  int rc;
  *r = NULL;
  if (p == NULL)
    return 0;
  rc = jh_rv_wrap(j->rv, et, p, r, c->err, sizeof(c->err));
  if (rc == 0 && check_values(j, et, *r) != 0)
    return -EILSEQ;
  return rc == 0 ? 1 : rc;
}

static int load_checked(orders_job *j, const jh_entity_type *et,
                        const char *key, const jh_rv_res **r) {
  jh_compute *c = j->c;
  int rc;
  *r = NULL;
  if (key == NULL)
    return 0;
  rc = jh_rv_load(j->rv, et, key, strlen(key), r, c->err, sizeof(c->err));
  if (rc == 1 && check_values(j, et, *r) != 0)
    return -EILSEQ;
  return rc;
}

/* Member name of a resource (r, key): the owner is named by its key even
 * when the store no longer has it; no member without key, or for
 * another resource missing. */
static void put_resource(orders_job *j, const char *member,
                         const jh_entity_type *et, const size_t *props,
                         size_t n, const char *key, const jh_rv_res *r,
                         int owner) {
  if (key == NULL || (r == NULL && !owner))
    return;
  jh_order_writer_object(j->writer, member);
  put_values(j, et, props, n, r, owner ? key : NULL);
  jh_order_writer_close(j->writer);
}

/* One value that changes, on its way into Changes. */
struct change {
  size_t rank; /* its property's place in name order */
  size_t at;   /* its property's index in the target entity type */
  int kind;    /* CH_* */
  const char *v;
  size_t len;
};

enum { CH_VALUE, CH_CLEAR, CH_ADD, CH_REMOVE };

typedef struct changes_arg {
  orders_job *j;
  const rt_orders *o;
  change *ch;
  size_t n;
  const char *bad; /* a property whose value is not UTF-8 */
} changes_arg;

/* The index among tgt's properties of the store's property num. */
static ssize_t prop_at(const rt_orders *o, uint32_t num) {
  for (size_t i = 0; i < o->tgt->nproperties; i++)
    if (o->nums[i] == num)
      return (ssize_t)i;
  return -1;
}

/* A value that changes: a scalar's new value (none: cleared), a
 * navigation's key to add or remove. */
static int add_change(void *ud, const jh_prov_val *v) {
  changes_arg *a = ud;
  ssize_t at;
  change c;
  if (v->state == JH_PROV_VERIFIED)
    return 0;
  if ((at = prop_at(a->o, v->prop)) < 0)
    return 0; /* a property the model no longer has */
  if (v->navigation && v->has_policy && v->has_observed)
    return 0; /* held already */
  c.rank = a->o->rank[at];
  c.at = (size_t)at;
  c.kind = v->navigation ? (v->has_policy ? CH_ADD : CH_REMOVE)
                         : (v->has_policy ? CH_VALUE : CH_CLEAR);
  c.v = c.kind == CH_REMOVE ? v->observed : v->policy;
  c.len = c.kind == CH_REMOVE ? v->observed_len : v->policy_len;
  if (c.kind != CH_CLEAR && !utf8(c.v, c.len)) {
    a->bad = a->o->tgt->properties[at].id;
    return -EILSEQ;
  }
  if (jh_array_reserve(&a->j->changes, &a->j->changes_cap, a->n + 1,
                       sizeof(*a->ch), 32) != 0)
    return -ENOMEM;
  a->ch = a->j->changes;
  a->ch[a->n++] = c;
  return 0;
}

/* Changes in name order, a navigation's additions before its removals,
 * each list in the order the store gives (a stable insertion sort: the
 * lists are short). */
static void sort_changes(change *ch, size_t n) {
  for (size_t i = 1; i < n; i++) {
    change c = ch[i];
    size_t k = i;
    while (k > 0 && (ch[k - 1].rank > c.rank ||
                     (ch[k - 1].rank == c.rank && ch[k - 1].kind > c.kind))) {
      ch[k] = ch[k - 1];
      k--;
    }
    ch[k] = c;
  }
}

static void put_changes(orders_job *j, const rt_orders *o, const change *ch,
                        size_t n) {
  jh_order_writer *w = j->writer;
  jh_order_writer_object(w, "Changes");
  for (size_t i = 0; i < n;) {
    const jh_property *p = &o->tgt->properties[ch[i].at];
    size_t rank = ch[i].rank;
    if (ch[i].kind == CH_VALUE || ch[i].kind == CH_CLEAR) {
      jh_order_writer_string(w, p->id, ch[i].kind == CH_VALUE ? ch[i].v : NULL,
                             ch[i].len);
      i++;
      continue;
    }
    jh_order_writer_object(w, p->id);
    for (int kind = CH_ADD; kind <= CH_REMOVE; kind++) {
      if (i >= n || ch[i].rank != rank || ch[i].kind != kind)
        continue;
      jh_order_writer_array(w, kind == CH_ADD ? "Add" : "Remove");
      for (; i < n && ch[i].rank == rank && ch[i].kind == kind; i++)
        jh_order_writer_string(w, NULL, ch[i].v, ch[i].len);
      jh_order_writer_close(w);
    }
    jh_order_writer_close(w);
  }
  jh_order_writer_close(w);
}

/* The Changes of a, read from its stored values. */
static int changes_of(orders_job *j, const rt_orders *o,
                      const jh_prov_assignment *a, size_t *n) {
  jh_compute *c = j->c;
  changes_arg ca = {j, o, j->changes, 0, NULL};
  char id[32];
  int rc = jh_prov_vals_decode(a->vals, a->vals_len, add_change, &ca);
  *n = ca.n;
  if (rc == -EILSEQ && ca.bad != NULL) {
    snprintf(id, sizeof(id), "%" PRId64, a->id);
    return not_utf8(c, "assignment", id, ca.bad);
  }
  if (rc == -EILSEQ)
    snprintf(c->err, sizeof(c->err),
             "assignment %" PRId64 ": malformed stored values", a->id);
  else if (rc == -ENOMEM)
    oom(c);
  if (rc == 0)
    sort_changes(j->changes, ca.n);
  return rc;
}

/* The order of a, members in key order: AssignedResourceTypeId,
 * ChangeType, Changes, Owner, Resource, ResourceType. Everything is read
 * and checked before the first byte is written. */
static int put_order(orders_job *j, const rt_orders *o,
                     const jh_prov_assignment *a,
                     const jh_prov_resource *owner_row) {
  jh_order_writer *w = j->writer;
  const char *ct = jh_change_type_name(a->change_type);
  const jh_rv_res *owner, *target;
  char id[32];
  size_t nch = 0;
  int rc;

  jh_rv_reset(j->rv);
  if (a->owner_key != NULL && !utf8(a->owner_key, strlen(a->owner_key)))
    return not_utf8(j->c, o->src->id, a->owner_key, "its key");
  rc = owner_checked(j, o->src, owner_row, &owner);
  if (rc >= 0)
    rc = load_checked(j, o->tgt, a->target_key, &target);
  if (rc >= 0 && a->change_type != JH_CHANGE_DELETED)
    rc = changes_of(j, o, a, &nch);
  if (rc < 0)
    return rc;
  snprintf(id, sizeof(id), "%" PRId64, a->id);
  jh_order_writer_begin(w);
  jh_order_writer_string(w, "AssignedResourceTypeId", id, strlen(id));
  jh_order_writer_string(w, "ChangeType", ct, strlen(ct));
  if (a->change_type != JH_CHANGE_DELETED)
    put_changes(j, o, j->changes, nch);
  put_resource(j, "Owner", o->src, o->owner_props, o->nowner_props,
               a->owner_key, owner, 1);
  put_resource(j, "Resource", o->tgt, o->tgt_props, o->ntgt_props,
               a->target_key, target, 0);
  jh_order_writer_object(w, "ResourceType");
  jh_order_writer_string(w, "Identifier", o->rt->id, strlen(o->rt->id));
  jh_order_writer_object(w, "SourceEntityType");
  jh_order_writer_string(w, "Identifier", o->src->id, strlen(o->src->id));
  jh_order_writer_close(w);
  jh_order_writer_object(w, "TargetEntityType");
  jh_order_writer_string(w, "Identifier", o->tgt->id, strlen(o->tgt->id));
  jh_order_writer_close(w);
  jh_order_writer_close(w);
  return jh_order_writer_end(w) == 0 ? 0 : oom(j->c);
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
  char name[128], rel[PATH_MAX], path[PATH_MAX], *buf = NULL;
  size_t len = 0;
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
    rc = jh_order_writer_take(j->writer, path, &buf, &len, c->err,
                              sizeof(c->err));
  /* listed before it is handed over: a failure removes it too */
  if (rc == 0 && (rc = add_file(j, rel)) != 0)
    free(buf);
  else if (rc == 0 &&
           (rc = jh_file_writer_put(j->files_out, path, buf, len)) != 0)
    (void)jh_file_writer_drain(j->files_out, c->err, sizeof(c->err));
  return rc;
}

/* One Pending assignment: its order into the file being built, which is
 * written once it holds batch_insert_size orders. */
static int emit(void *ud, const jh_prov_assignment *a,
                const jh_prov_resource *owner) {
  emit_arg *e = ud;
  orders_job *j = e->j;
  int rc;

  if (a->change_type < JH_CHANGE_ADDED || a->change_type > JH_CHANGE_DELETED)
    return 0;
  if (jh_array_reserve(&j->sent, &j->sent_cap, j->nsent + 1, sizeof(*j->sent),
                       256) != 0)
    return oom(j->c);
  rc = put_order(j, e->o, a, owner);
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
  int64_t owner_et;
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
    rc = jh_rv_entity_type(j->rv, o->src, &owner_et, c->err, sizeof(c->err));
  if (rc == 0)
    rc = jh_prov_list_owned(c->store, &pf, owner_et, emit, &e, c->err,
                            sizeof(c->err));
  if (rc == 0 && jh_order_writer_count(j->writer) > 0)
    rc = flush(&e);
  return rc;
}

/* Every file written and synced (by the writer's thread, while the next
 * ones were built), then their folders made durable, before anything
 * records them. */
static int sync_files(orders_job *j) {
  jh_compute *c = j->c;
  char path[PATH_MAX];
  int rc = jh_file_writer_drain(j->files_out, c->err, sizeof(c->err));
  for (size_t i = 0; i < j->nrts && rc == 0; i++) {
    if (j->rts[i].n == 0)
      continue;
    snprintf(path, sizeof(path), "%s/%s", j->root, j->rts[i].rt->id);
    if ((rc = jh_fsync_dir(path)) != 0)
      snprintf(c->err, sizeof(c->err),
               "%.1900s: cannot sync the order files: %s", path, strerror(-rc));
  }
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
    rc = sync_files(j);
  if (rc == 0)
    rc = record(j);
  if (rc == 0)
    jh_fault_point("orders.before_commit");
  if (rc == 0)
    rc = jh_compute_commit(j->c);
  if (rc != 0) {
    /* nothing is written after the files are removed */
    char ignored[8];
    (void)jh_file_writer_drain(j->files_out, ignored, sizeof(ignored));
    unwrite(j);
  }
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
  if (rc == 0)
    rc = jh_file_writer_start(0644, &j.files_out);
  rc = rc == 0 ? generate(&j, force) : oom(c);
  jh_file_writer_stop(j.files_out);
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
