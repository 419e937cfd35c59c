/*
 * orders.c — GenerateProvisioningOrdersTask (doc/provisioning.md, "Order
 * files" and "Thresholds"): the Pending assignments of the task's
 * resource types become JSON order files under
 * ProvisioningOrders/<resource type>/, batch_insert_size orders a file,
 * their text built by order_build.c's thread while the next ones are
 * read; the task's one transaction records each file's orders (its
 * assignments Transmitted) as the file is handed over, and commits once
 * every file is durable. The provisioning
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

#include "array.h"
#include "atomic_file.h"
#include "compute.h"
#include "file_writer.h"
#include "faultpoint.h"
#include "order_build.h"
#include "order_file.h"
#include "timefmt.h"

typedef struct orders_job {
  jh_compute *c;
  jh_rv *rv;
  order_rt *rts;
  size_t nrts;
  char **files;      /* relative paths written */
  int64_t leftovers; /* files of a killed run removed */
  size_t nfiles, files_cap;
  int64_t *ids;       /* the assignments of the file being built */
  int64_t by_file[4]; /* its orders by change type */
  size_t nids, ids_cap;
  const char *root;
  jh_file_writer *files_out; /* writes and syncs the files, a thread */
  order_builder *builder;    /* builds their text, a thread */
  order_batch *batch;        /* being filled, NULL when none */
  int64_t per_file, written, by_change[4];
} orders_job;

static int oom(jh_compute *c) {
  snprintf(c->err, sizeof(c->err), "out of memory");
  return -ENOMEM;
}

/* ---- which resource types ---- */

static int add_rt(orders_job *j, const jh_resource_type *rt) {
  jh_compute *c = j->c;
  order_rt *o = &j->rts[j->nrts];
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
static int number_props(orders_job *j, order_rt *o) {
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

static int order_names(order_rt *o);

/* Count the Pending orders of every resource type (and their live
 * assignments, for the thresholds). */
static int count_orders(orders_job *j) {
  jh_compute *c = j->c;
  int rc = 0;
  for (size_t i = 0; i < j->nrts && rc == 0; i++) {
    order_rt *o = &j->rts[i];
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
  free(j->ids);
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
static int over_threshold(orders_job *j, const order_rt *o) {
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
static int order_names(order_rt *o) {
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

/* Writing one resource type's files, while its Pending assignments are
 * read. */
typedef struct emit_arg {
  orders_job *j;
  const order_rt *o;
  int64_t now;
  unsigned seq;
} emit_arg;

/* The builder's failure, its message in the task's. */
static int builder_failed(orders_job *j) {
  jh_compute *c = j->c;
  int rc = order_builder_drain(j->builder, c->err, sizeof(c->err));
  return rc != 0 ? rc : -EIO;
}

/* The batch being filled, taken from the builder when there is none. */
static int batch_of(emit_arg *e) {
  orders_job *j = e->j;
  if (j->batch != NULL)
    return 0;
  if ((j->batch = order_builder_batch(j->builder)) == NULL)
    return builder_failed(j);
  j->batch->o = e->o;
  return 0;
}

/* Hand the batch over to be built. */
static int hand_over(orders_job *j) {
  int rc = order_builder_put(j->builder, j->batch);
  j->batch = NULL;
  return rc == 0 ? 0 : builder_failed(j);
}

/* End the file being built with the batch: it is named, listed (before
 * anything is written: a failure removes it too) and handed over. */
static int end_file(emit_arg *e) {
  orders_job *j = e->j;
  jh_compute *c = j->c;
  char name[128], rel[PATH_MAX];
  int rc = batch_of(e);

  if (rc == 0 && (jh_order_file_name(name, sizeof(name), e->now,
                                     c->task_instance, e->seq++) ||
                  snprintf(rel, sizeof(rel), "%s/%s", e->o->rt->id, name) >=
                      (int)sizeof(rel) ||
                  snprintf(j->batch->path, sizeof(j->batch->path), "%s/%s",
                           j->root, rel) >= (int)sizeof(j->batch->path))) {
    snprintf(c->err, sizeof(c->err), "%s/%s: the path is too long", j->root,
             e->o->rt->id);
    rc = -ENAMETOOLONG;
  }
  if (rc == 0)
    rc = add_file(j, rel);
  if (rc != 0)
    return rc;
  j->batch->ends_file = 1;
  rc = hand_over(j);
  if (rc == 0)
    rc = jh_prov_orders_written(c->store, j->ids, j->nids, c->task_instance,
                                rel, c->err, sizeof(c->err));
  for (int k = 0; k < 4 && rc == 0; k++) {
    j->by_change[k] += j->by_file[k];
    j->written += j->by_file[k];
    j->by_file[k] = 0;
  }
  j->nids = 0;
  return rc;
}

/* One Pending assignment: its order staged into the batch, which is
 * handed over when full or when it ends a file of batch_insert_size
 * orders. */
static int emit(void *ud, const jh_prov_assignment *a,
                const jh_prov_resource *owner) {
  emit_arg *e = ud;
  orders_job *j = e->j;
  jh_compute *c = j->c;
  int rc;

  if (a->change_type < JH_CHANGE_ADDED || a->change_type > JH_CHANGE_DELETED)
    return 0;
  if (jh_array_reserve(&j->ids, &j->ids_cap, j->nids + 1, sizeof(*j->ids),
                       256) != 0)
    return oom(c);
  rc = batch_of(e);
  if (rc == 0)
    rc = order_builder_stage(j->batch, a, owner, c->err, sizeof(c->err));
  if (rc != 0)
    return rc;
  j->ids[j->nids++] = a->id;
  j->by_file[a->change_type]++;
  if (j->per_file > 0 && (int64_t)j->nids >= j->per_file)
    return end_file(e);
  if (j->batch->n >= ORDER_BUILD_CHUNK)
    return hand_over(j);
  return 0;
}

static int write_rt(orders_job *j, const order_rt *o, int64_t now) {
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
  if (rc == 0 && j->nids > 0)
    rc = end_file(&e);
  return rc;
}

/* Every file built, written and synced (by the builder's and the
 * writer's threads, while the next ones were read), then their folders
 * made durable, before the transaction that records them commits. */
static int sync_files(orders_job *j) {
  jh_compute *c = j->c;
  char path[PATH_MAX];
  int rc = order_builder_drain(j->builder, c->err, sizeof(c->err));
  if (rc == 0)
    rc = jh_file_writer_drain(j->files_out, c->err, sizeof(c->err));
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
    jh_fault_point("orders.before_commit");
  if (rc == 0)
    rc = jh_compute_commit(j->c);
  if (rc != 0) {
    /* nothing is written after the files are removed */
    char ignored[8];
    (void)order_builder_drain(j->builder, ignored, sizeof(ignored));
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
    rc = jh_file_writer_start(0644, &j.files_out);
  if (rc == 0)
    rc = order_builder_start(c->model, c->store, j.files_out, &j.builder);
  rc = rc == 0 ? generate(&j, force) : oom(c);
  order_builder_stop(j.builder);
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
  free_job(&j);
  return rc;
}
