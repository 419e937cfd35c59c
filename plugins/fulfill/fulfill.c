/*
 * fulfill.c — the fulfill plugin: FulfillTask (doc/fulfill.md).
 *
 * The order files GenerateProvisioningOrdersTask wrote for the task's
 * resource types (ProvisioningOrders/<resource type>/, *.json) are moved,
 * one at a time, into that folder's Working/ before their orders are
 * applied, so that no other run takes them; each order goes to the
 * connection package's fulfill_order and its result into the file's
 * journal (journal.c). A package that writes at its end (fulfill_end)
 * makes its orders durable once, after the last file. Then each file
 * whose every order has a result gets its result file in Completed/,
 * its assignments Executed or Errored in the identity store, and moves
 * to Completed/ itself. A run killed at any point leaves files in
 * Working/ whose journal says where it stopped: the next run finishes
 * them first, never applying an order twice.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "atomic_file.h"
#include "csv.h"
#include "db.h"
#include "faultpoint.h"
#include "fulfill.h"
#include "order_file.h"
#include "provstore.h"

#define WORKING "Working"
#define COMPLETED "Completed"
#define RESULT_SUFFIX ".result.csv"
#define JOURNAL_SUFFIX ".journal"
#define LOCK_NAME ".fulfill.lock"

/* One file to fulfill, found before anything is opened. */
typedef struct ff_found {
  const jh_resource_type *rt;
  char *name;
  int working; /* found in Working/: left by an earlier run */
} ff_found;

typedef struct ff_run {
  jobhost_ctx *ctx;
  const jobhost_services *svc;
  jobhost_ctx pctx;       /* what the package receives: svc = &psvc */
  jobhost_services psvc;  /* the host's table, set_message kept too */
  char pkg_message[1024]; /* the package's last set_message */
  const jh_model *model;
  jh_idstore *store;
  const jobhost_package *pkg;
  void *state;
  int opened;
  const char *conn;
  const char *root; /* the ProvisioningOrders folder */
  const jh_resource_type **rts;
  size_t nrts;
  ff_found *found;
  size_t nfound, found_cap;
  int *locks; /* one per resource type: its folder's lock, or -1 */
  size_t nlocks;
  ff_file *files; /* the files taken, in order */
  size_t nfiles;
  int held; /* the package writes at its end */
  int end_failed;
  int cancelled;
  int64_t done, executed, errored, finished;
  int64_t reported_ms; /* when the counters last went to the host */
  char err[JH_FF_ERR];
} ff_run;

static int oom(ff_run *r) {
  snprintf(r->err, sizeof(r->err), "out of memory");
  return -ENOMEM;
}

/* ---- the task's resource types ---- */

static void add_rt(ff_run *r, const jh_resource_type *rt) {
  for (size_t i = 0; i < r->nrts; i++)
    if (r->rts[i] == rt)
      return;
  r->rts[r->nrts++] = rt;
}

/* resource_types and the resource types of the connector. */
static int select_rts(ff_run *r) {
  const jh_model *m = r->model;
  const char *connector = r->svc->param(r->ctx, JOBHOST_PARAM_NAME_CONNECTOR);
  const char *const *names;
  size_t n = r->svc->param_list(r->ctx, "resource_types", &names);

  r->rts = calloc(m->nresource_types + 1, sizeof(*r->rts));
  if (r->rts == NULL)
    return oom(r);
  for (size_t i = 0; i < n; i++) {
    const jh_resource_type *rt = jh_model_resource_type(m, names[i]);
    if (rt == NULL) {
      snprintf(r->err, sizeof(r->err),
               "resource_types: the model has no resource type %s", names[i]);
      return JOBHOST_ECONFIG;
    }
    add_rt(r, rt);
  }
  for (size_t i = 0; connector != NULL && i < m->nresource_types; i++) {
    const char *k = jh_model_resource_type_connector(m, &m->resource_types[i]);
    if (m->resource_types[i].id != NULL && k != NULL &&
        strcasecmp(k, connector) == 0)
      add_rt(r, &m->resource_types[i]);
  }
  if (r->nrts == 0) {
    snprintf(r->err, sizeof(r->err),
             "no resource type to fulfill: the task names none "
             "(resource_types) and its connector %s has none",
             connector != NULL ? connector : "(none)");
    return JOBHOST_ECONFIG;
  }
  return 0;
}

/* The target's primary key property of rt, or NULL. */
static const char *key_of(const ff_run *r, const jh_resource_type *rt) {
  const jh_entity_mapping *map = jh_model_mapping(r->model,
                                                  rt->target_entity_type);
  if (map == NULL || map->primary_key >= map->nproperties)
    return NULL;
  return map->properties[map->primary_key].property;
}

/* ---- finding the files ---- */

static int is_order_file(const char *name) {
  size_t n = strlen(name);
  return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".json") == 0;
}

typedef struct list_arg {
  ff_run *r;
  const jh_resource_type *rt;
  int working;
  int rc;
} list_arg;

static int list_one(const char *path, const char *name, void *ud) {
  list_arg *a = ud;
  ff_run *r = a->r;
  struct stat sb;
  char *copy;
  if (!is_order_file(name) || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
    return 0;
  copy = strdup(name);
  if (copy == NULL || jh_array_reserve(&r->found, &r->found_cap, r->nfound + 1,
                                       sizeof(*r->found), 16) != 0) {
    free(copy);
    a->rc = oom(r);
    return 1;
  }
  r->found[r->nfound++] = (ff_found){a->rt, copy, a->working};
  return 0;
}

/* Left-over files first (an earlier run's), then by resource type and
 * name: the names start with the time they were written. */
static int found_order(const void *pa, const void *pb) {
  const ff_found *a = pa, *b = pb;
  int c = b->working - a->working;
  if (c == 0)
    c = strcmp(a->rt->id, b->rt->id);
  return c != 0 ? c : strcmp(a->name, b->name);
}

/* Hold the lock of rt's folder for the task (released when the process
 * ends, however it ends): two fulfillments of one resource type at once
 * would each take the other's Working/ files for a killed run's. */
static int lock_rt(ff_run *r, const char *rt, int *fd) {
  char path[PATH_MAX];
  *fd = -1;
  if (snprintf(path, sizeof(path), "%s/%s/" LOCK_NAME, r->root, rt) >=
      (int)sizeof(path)) {
    snprintf(r->err, sizeof(r->err), "%s/%s: the path is too long", r->root,
             rt);
    return -ENAMETOOLONG;
  }
  *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (*fd < 0 && errno == ENOENT)
    return 0; /* no folder: no order was ever written there */
  if (*fd < 0) {
    int e = errno;
    snprintf(r->err, sizeof(r->err), "%.1900s: cannot open: %s", path,
             strerror(e));
    return -e;
  }
  if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
    return 0;
  snprintf(r->err, sizeof(r->err),
           "resource type %s: another FulfillTask is fulfilling its orders "
           "(%.1800s is locked); run this one when it has ended",
           rt, path);
  return -EBUSY;
}

static int list_files(ff_run *r) {
  r->locks = malloc((r->nrts + 1) * sizeof(*r->locks));
  if (r->locks == NULL)
    return oom(r);
  for (size_t i = 0; i < r->nrts; i++) {
    const char *rt = r->rts[i]->id;
    char dir[PATH_MAX];
    int rc = lock_rt(r, rt, &r->locks[r->nlocks++]);
    if (rc != 0)
      return rc;
    for (int working = 1; working >= 0; working--) {
      list_arg a = {r, r->rts[i], working, 0};
      if (snprintf(dir, sizeof(dir), "%s/%s%s", r->root, rt,
                   working ? "/" WORKING : "") >= (int)sizeof(dir)) {
        snprintf(r->err, sizeof(r->err), "%s/%s: the path is too long", r->root,
                 rt);
        return -ENAMETOOLONG;
      }
      if (working) /* a journal's rewrite a kill left half done */
        (void)jh_sweep_atomic_temps(dir, 1);
      jh_dir_each(dir, list_one, &a);
      if (a.rc != 0)
        return a.rc;
    }
  }
  if (r->nfound > 1)
    qsort(r->found, r->nfound, sizeof(*r->found), found_order);
  return 0;
}

/* ---- moving files ---- */

static int make_dir(ff_run *r, const char *dir) {
  int e;
  if (mkdir(dir, 0755) == 0 || errno == EEXIST)
    return 0;
  e = errno;
  snprintf(r->err, sizeof(r->err), "cannot make %.1900s: %s", dir, strerror(e));
  return -e;
}

/* Rename from into folder to_dir (made when missing) as name, durably. */
static int move_into(ff_run *r, const char *from, const char *from_dir,
                     const char *to_dir, const char *name) {
  char to[PATH_MAX];
  int rc = make_dir(r, to_dir);
  if (rc != 0)
    return rc;
  if (snprintf(to, sizeof(to), "%s/%s", to_dir, name) >= (int)sizeof(to)) {
    snprintf(r->err, sizeof(r->err), "%s: the path is too long", to_dir);
    return -ENAMETOOLONG;
  }
  if (rename(from, to) != 0) {
    rc = -errno;
    snprintf(r->err, sizeof(r->err), "cannot move %.900s to %.900s: %s", from,
             to, strerror(-rc));
    return rc;
  }
  rc = jh_fsync_dir(to_dir);
  if (rc == 0)
    rc = jh_fsync_dir(from_dir);
  if (rc != 0)
    snprintf(r->err, sizeof(r->err), "%s: cannot sync the folder: %s", to_dir,
             strerror(-rc));
  return rc;
}

/* "<root>/<rt>[/sub][/name]" into buf, or -ENAMETOOLONG with r->err. */
static int rt_path(ff_run *r, char *buf, size_t size, const char *rt,
                   const char *sub, const char *name, const char *suffix) {
  int n = snprintf(buf, size, "%s/%s%s%s%s%s%s", r->root, rt, sub ? "/" : "",
                   sub ? sub : "", name ? "/" : "", name ? name : "",
                   suffix ? suffix : "");
  if (n < 0 || (size_t)n >= size) {
    snprintf(r->err, sizeof(r->err), "%s/%s: the path is too long", r->root,
             rt);
    return -ENAMETOOLONG;
  }
  return 0;
}

/* Take found file x: move it into Working/ (unless it is there), read
 * its orders and its journal. */
static int take_file(ff_run *r, const ff_found *x, ff_file *f) {
  char dir[PATH_MAX], work[PATH_MAX], path[PATH_MAX];
  int rc;

  f->fd = -1;
  rc = rt_path(r, dir, sizeof(dir), x->rt->id, NULL, NULL, NULL);
  if (rc == 0)
    rc = rt_path(r, work, sizeof(work), x->rt->id, WORKING, NULL, NULL);
  if (rc == 0)
    rc = rt_path(r, path, sizeof(path), x->rt->id, NULL, x->name, NULL);
  if (rc == 0 && !x->working)
    rc = move_into(r, path, dir, work, x->name);
  if (rc != 0)
    return rc;
  f->rt = strdup(x->rt->id);
  f->name = strdup(x->name);
  f->json = jh_path_join(work, x->name);
  if (f->rt == NULL || f->name == NULL || f->json == NULL ||
      asprintf(&f->journal, "%s" JOURNAL_SUFFIX, f->json) < 0) {
    f->journal = NULL;
    return oom(r);
  }
  rc = jh_order_file_read(f->json, &f->orders, r->err, sizeof(r->err));
  if (rc != 0)
    return rc;
  f->n = json_array_size(f->orders);
  return jh_ff_journal_open(f, r->held, r->err, sizeof(r->err));
}

static void free_file(ff_file *f) {
  jh_ff_journal_close(f);
  for (size_t i = 0; f->res != NULL && i < f->n; i++)
    free(f->res[i].message);
  free(f->res);
  json_decref(f->orders);
  free(f->rt);
  free(f->name);
  free(f->json);
  free(f->journal);
}

/* ---- applying orders ---- */

static void count_result(ff_run *r, ff_state s, int delta) {
  if (s == FF_EXECUTED)
    r->executed += delta;
  else if (s == FF_ERRORED)
    r->errored += delta;
}

/* Counters and progress to the host, at most every REPORT_MS while
 * orders are applied (each call is a message to the host, which wakes
 * it: once per order, they cost more than a fast target's answer);
 * report() sends the final values. */
#define REPORT_MS 100

static void report_progress(ff_run *r) {
  struct timespec now;
  int64_t ms;
  clock_gettime(CLOCK_MONOTONIC, &now);
  ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
  if (r->reported_ms != 0 && ms - r->reported_ms < REPORT_MS)
    return;
  r->reported_ms = ms;
  r->svc->counter_set(r->ctx, "executed", r->executed);
  r->svc->counter_set(r->ctx, "errored", r->errored);
  r->svc->counter_set(r->ctx, "orders", r->done);
  r->svc->progress(r->ctx, (uint64_t)r->done, 0);
}

/* Apply order i of f through the package; its result into f->res[i].
 * An order that cannot be built is Errored without a call. */
static int apply(ff_run *r, ff_file *f, size_t i, const char *key) {
  char message[1024] = "";
  ff_order *ord = NULL;
  ff_result *res = &f->res[i];
  int rc = jh_ff_order_build(json_array_get(f->orders, i), key, &ord, message,
                             sizeof(message));
  if (rc == -ENOMEM)
    return oom(r);
  if (rc == 0 && !f->held &&
      jh_ff_journal_start(f, i, r->err, sizeof(r->err)) != 0) {
    jh_ff_order_free(ord);
    return -EIO; /* not recorded as started: not applied */
  }
  if (rc == 0) {
    message[0] = '\0';
    rc = r->pkg->fulfill_order(&r->pctx, r->state, jh_ff_order(ord), message,
                               sizeof(message));
    message[sizeof(message) - 1] = '\0';
    if (rc != 0 && message[0] == '\0')
      snprintf(message, sizeof(message), "%s", jobhost_strerror(rc));
  }
  jh_ff_order_free(ord);
  res->state = rc == 0 ? FF_EXECUTED : FF_ERRORED;
  res->held = rc == 0 && f->held;
  res->message = message[0] != '\0' ? strdup(message) : NULL;
  if (message[0] != '\0' && res->message == NULL)
    return oom(r);
  count_result(r, res->state, 1);
  return jh_ff_journal_result(f, i, r->err, sizeof(r->err));
}

/* The orders of f that have no result yet. */
static int apply_file(ff_run *r, ff_file *f, const char *key) {
  int rc = 0;
  for (size_t i = 0; i < f->n && rc == 0; i++) {
    if (f->res[i].state != FF_UNAPPLIED)
      continue;
    if (r->svc->is_cancelled(r->ctx)) {
      r->cancelled = 1;
      return 0;
    }
    rc = apply(r, f, i, key);
    if (rc == 0) {
      r->done++;
      report_progress(r);
      jh_fault_point("fulfill.after_order");
    }
  }
  return rc;
}

/* Take and apply every file found (until a cancel). */
static int apply_all(ff_run *r) {
  int rc = 0;
  r->files = calloc(r->nfound + 1, sizeof(*r->files));
  if (r->files == NULL)
    return oom(r);
  for (size_t i = 0; i < r->nfound && rc == 0 && !r->cancelled; i++) {
    ff_file *f = &r->files[r->nfiles++];
    rc = take_file(r, &r->found[i], f);
    if (rc == 0)
      rc = apply_file(r, f, key_of(r, r->found[i].rt));
    if (rc == 0)
      rc = jh_ff_journal_sync(f, r->err, sizeof(r->err));
  }
  return rc;
}

/* ---- the package's end ---- */

static int mark_all(ff_run *r, char mark, const char *why) {
  int rc = 0;
  for (size_t i = 0; i < r->nfiles && rc == 0; i++)
    if (r->files[i].touched && r->files[i].fd >= 0)
      rc = jh_ff_journal_mark(&r->files[i], mark, why, r->err, sizeof(r->err));
  return rc;
}

/* The held results become final (C) or Errored with why (F). */
static int settle_held(ff_run *r, const char *why) {
  for (size_t k = 0; k < r->nfiles; k++) {
    ff_file *f = &r->files[k];
    for (size_t i = 0; i < f->n; i++) {
      ff_result *res = &f->res[i];
      if (!res->held)
        continue;
      res->held = 0;
      if (why == NULL)
        continue;
      count_result(r, FF_EXECUTED, -1);
      count_result(r, FF_ERRORED, 1);
      res->state = FF_ERRORED;
      free(res->message);
      res->message = strdup(why);
      if (res->message == NULL)
        return oom(r);
    }
  }
  return 0;
}

/* fulfill_end, between B and C (or F) in every journal it concerns. A
 * failure fails the task: the package could not write the target. */
static int end_package(ff_run *r) {
  char why[1200];
  int rc = mark_all(r, 'B', NULL), end;
  if (rc != 0)
    return rc;
  r->pkg_message[0] = '\0';
  end = r->pkg->fulfill_end(&r->pctx, r->state);
  if (end == 0) {
    rc = mark_all(r, 'C', NULL);
    return rc == 0 ? settle_held(r, NULL) : rc;
  }
  r->end_failed = 1;
  snprintf(why, sizeof(why), "the package could not write its changes: %s",
           r->pkg_message[0] ? r->pkg_message : jobhost_strerror(end));
  rc = mark_all(r, 'F', why);
  if (rc == 0)
    rc = settle_held(r, why);
  snprintf(r->err, sizeof(r->err), "connection %s: package %s: %s", r->conn,
           r->pkg->name, why);
  return rc != 0 ? rc : end;
}

/* ---- finishing a file ---- */

static const char *state_name(ff_state s) {
  return s == FF_EXECUTED ? "Executed" : "Errored";
}

static int write_results(ff_run *r, const ff_file *f, const char *path) {
  static const char *const head[] = {"AssignmentId", "ProvisioningState",
                                     "Message", "ChangeType"};
  jh_csv_writer *w = NULL;
  int rc = jh_csv_writer_open(path, ',', &w);
  if (rc == 0)
    rc = jh_csv_write_record(w, head, 4);
  for (size_t i = 0; i < f->n && rc == 0; i++) {
    const json_t *o = json_array_get(f->orders, i);
    const char *row[4] = {json_string_value(
                              json_object_get(o, "AssignedResourceTypeId")),
                          state_name(f->res[i].state), f->res[i].message,
                          json_string_value(json_object_get(o, "ChangeType"))};
    rc = jh_csv_write_record(w, row, 4);
  }
  if (rc == 0)
    rc = jh_csv_writer_commit(w);
  else if (w != NULL)
    jh_csv_writer_abort(w);
  if (rc != 0)
    snprintf(r->err, sizeof(r->err), "%.1900s: cannot write: %s", path,
             strerror(-rc));
  return rc;
}

/* Every result of f into the store, in one transaction. */
static int record_results(ff_run *r, const ff_file *f) {
  jh_db *db = jh_idstore_db(r->store);
  int rc = jh_db_begin(db) == 0 ? 0 : -EIO;
  if (rc != 0)
    snprintf(r->err, sizeof(r->err), "%s: %s", jh_db_path(db),
             jh_db_errmsg(db));
  for (size_t i = 0; i < f->n && rc == 0; i++) {
    const json_t *o = json_array_get(f->orders, i);
    const char *id = json_string_value(
        json_object_get(o, "AssignedResourceTypeId"));
    char *end;
    long long n = strtoll(id, &end, 10);
    if (*end != '\0' || end == id)
      continue; /* not an assignment of this store: the file says so */
    rc = jh_prov_fulfilled(r->store, (int64_t)n,
                           f->res[i].state == FF_EXECUTED ? JH_PROV_EXECUTED
                                                          : JH_PROV_ERRORED,
                           f->res[i].message, r->ctx->task_instance, r->err,
                           sizeof(r->err));
    rc = rc < 0 ? rc : 0;
  }
  if (rc == 0 && jh_db_commit(db) != 0) {
    snprintf(r->err, sizeof(r->err), "%s: %s", jh_db_path(db),
             jh_db_errmsg(db));
    rc = -EIO;
  }
  if (rc != 0 && jh_db_in_transaction(db))
    jh_db_rollback(db);
  return rc;
}

static int complete(const ff_file *f) {
  for (size_t i = 0; i < f->n; i++)
    if (f->res[i].state == FF_UNAPPLIED || f->res[i].held)
      return 0;
  return 1;
}

/* A file whose orders all have a result: its result file, the store,
 * then the file itself into Completed/, its journal removed. Each step
 * can be done again, so a run killed between them is finished by the
 * next. */
static int finish_file(ff_run *r, ff_file *f) {
  char work[PATH_MAX], done[PATH_MAX], result[PATH_MAX];
  char stem[NAME_MAX + 1];
  int rc;
  snprintf(stem, sizeof(stem), "%.*s", (int)(strlen(f->name) - 5), f->name);
  rc = rt_path(r, work, sizeof(work), f->rt, WORKING, NULL, NULL);
  if (rc == 0)
    rc = rt_path(r, done, sizeof(done), f->rt, COMPLETED, NULL, NULL);
  if (rc == 0)
    rc = rt_path(r, result, sizeof(result), f->rt, COMPLETED, stem,
                 RESULT_SUFFIX);
  if (rc == 0)
    rc = make_dir(r, done);
  if (rc == 0)
    rc = write_results(r, f, result);
  if (rc == 0)
    rc = record_results(r, f);
  if (rc == 0)
    rc = move_into(r, f->json, work, done, f->name);
  jh_ff_journal_close(f);
  if (rc == 0 && unlink(f->journal) != 0 && errno != ENOENT) {
    rc = -errno;
    snprintf(r->err, sizeof(r->err), "%s: cannot remove: %s", f->journal,
             strerror(errno));
  }
  if (rc == 0)
    r->finished++;
  return rc;
}

static int finish_all(ff_run *r) {
  int rc = 0;
  for (size_t i = 0; i < r->nfiles && rc == 0; i++)
    if (complete(&r->files[i]))
      rc = finish_file(r, &r->files[i]);
  return rc;
}

/* ---- the task ---- */

/* The model, the identity store and the package, from the host. */
static int setup(ff_run *r) {
  const char *path;
  int rc;
  if (!JOBHOST_SVC_HAS(r->svc, host_object)) {
    snprintf(r->err, sizeof(r->err),
             "FulfillTask needs host services of ABI 1.1; this host offers "
             "%u.%u",
             (unsigned)r->svc->abi_major, (unsigned)r->svc->abi_minor);
    return -ENOTSUP;
  }
  r->model = r->svc->host_object(r->ctx, JH_MODEL_OBJECT);
  path = r->svc->host_object(r->ctx, JH_IDSTORE_OBJECT);
  r->root = r->svc->folder(r->ctx, JOBHOST_FOLDER_PROVISIONING_ORDERS);
  if (r->model == NULL || path == NULL || r->root == NULL) {
    snprintf(r->err, sizeof(r->err),
             "the host shares no model, identity store or ProvisioningOrders "
             "folder");
    return JOBHOST_ECONFIG;
  }
  rc = select_rts(r);
  if (rc == 0)
    rc = jh_idstore_open(path, &r->store, r->err, sizeof(r->err));
  return rc;
}

static int find_package(ff_run *r) {
  r->pkg = r->svc->connection_package(r->ctx);
  if (r->pkg == NULL) {
    snprintf(r->err, sizeof(r->err),
             "connection %s: no loaded plugin provides its package (see "
             "`jobhost plugins`), or the task names no connection",
             r->conn);
    return JOBHOST_ECONFIG;
  }
  if (r->pkg->fulfill_order == NULL) {
    snprintf(r->err, sizeof(r->err),
             "connection %s: package %s cannot fulfill (it has no "
             "fulfill entry point)",
             r->conn, r->pkg->name);
    return JOBHOST_ECONFIG;
  }
  r->held = r->pkg->fulfill_end != NULL;
  return 0;
}

/* The package's set_message: kept, to name why it failed, and passed
 * on. ctx is &r->pctx, the only context the package receives. */
static void keep_message(jobhost_ctx *ctx, const char *fmt, ...)
    JOBHOST_PRINTF(2, 3);
static void keep_message(jobhost_ctx *ctx, const char *fmt, ...) {
  ff_run *r = (ff_run *)(void *)((char *)ctx - offsetof(ff_run, pctx));
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->pkg_message, sizeof(r->pkg_message), fmt, ap);
  va_end(ap);
  r->svc->set_message(r->ctx, "%s", r->pkg_message);
}

/* The context the package sees: the host's, set_message wrapped. */
static void package_ctx(ff_run *r) {
  jobhost_ctx *ctx = r->ctx;
  size_t svc_size = ctx->svc->struct_size < sizeof(r->psvc)
                        ? ctx->svc->struct_size
                        : sizeof(r->psvc);
  size_t ctx_size = ctx->struct_size < sizeof(r->pctx) ? ctx->struct_size
                                                       : sizeof(r->pctx);
  memcpy(&r->psvc, ctx->svc, svc_size);
  r->psvc.struct_size = (uint32_t)svc_size;
  r->psvc.set_message = keep_message;
  memcpy(&r->pctx, ctx, ctx_size);
  r->pctx.struct_size = (uint32_t)ctx_size;
  r->pctx.svc = &r->psvc;
}

/* open and fulfill_begin: a failure means the package cannot work. */
static int open_package(ff_run *r) {
  int rc;
  package_ctx(r);
  rc = r->pkg->open != NULL ? r->pkg->open(&r->pctx, &r->state) : 0;
  r->opened = rc == 0;
  if (rc == 0 && r->pkg->fulfill_begin != NULL)
    rc = r->pkg->fulfill_begin(&r->pctx, r->state);
  if (rc != 0)
    snprintf(r->err, sizeof(r->err),
             "connection %s: package %s cannot fulfill: %s; no order was "
             "applied",
             r->conn, r->pkg->name,
             r->pkg_message[0] ? r->pkg_message : jobhost_strerror(rc));
  return rc;
}

static int fulfill(ff_run *r) {
  int rc = setup(r);
  if (rc == 0)
    rc = find_package(r);
  if (rc == 0)
    rc = list_files(r);
  if (rc != 0 || r->nfound == 0)
    return rc;
  rc = open_package(r);
  if (rc != 0)
    return rc;
  rc = apply_all(r);
  /* after a failed journal write the held results stay held: the next
   * run applies those orders again, the package having written nothing */
  if (rc == 0 && r->held)
    rc = end_package(r);
  if (rc == 0 || r->end_failed) {
    int frc = finish_all(r);
    rc = rc != 0 ? rc : frc;
  }
  return rc;
}

static void report(ff_run *r, int rc) {
  const jobhost_services *svc = r->svc;
  svc->counter_set(r->ctx, "orders", r->done);
  svc->counter_set(r->ctx, "executed", r->executed);
  svc->counter_set(r->ctx, "errored", r->errored);
  svc->counter_set(r->ctx, "files", r->finished);
  if (rc != 0) {
    svc->set_message(r->ctx, "%s", r->err);
    jobhost_error(r->ctx, "%s", r->err);
    return;
  }
  if (r->cancelled) {
    svc->set_message(r->ctx,
                     "cancelled after %" PRId64 " orders; the next run "
                     "goes on from there",
                     r->done);
    return;
  }
  svc->set_produced_output(r->ctx, r->executed > 0);
  if (r->nfound == 0)
    svc->set_message(r->ctx, "no order file to fulfill");
  else
    svc->set_message(r->ctx,
                     "%" PRId64 " orders applied: %" PRId64
                     " executed, %" PRId64 " errored; %" PRId64
                     " files completed",
                     r->done, r->executed, r->errored, r->finished);
}

static int fulfill_run(jobhost_ctx *ctx) {
  ff_run *r = calloc(1, sizeof(*r));
  int rc;
  if (r == NULL)
    return -ENOMEM;
  r->ctx = ctx;
  r->svc = ctx->svc;
  r->conn = ctx->connection != NULL ? ctx->connection : "(none)";
  rc = fulfill(r);
  if (r->opened && r->pkg->close != NULL)
    r->pkg->close(&r->pctx, r->state);
  report(r, rc);
  for (size_t i = 0; i < r->nfiles; i++)
    free_file(&r->files[i]);
  for (size_t i = 0; i < r->nfound; i++)
    free(r->found[i].name);
  free(r->files);
  free(r->found);
  free(r->rts);
  for (size_t i = 0; i < r->nlocks; i++)
    if (r->locks[i] >= 0)
      close(r->locks[i]);
  free(r->locks);
  jh_idstore_close(r->store);
  rc = rc == 0 && r->cancelled ? JOBHOST_ECANCELLED : rc;
  free(r);
  return rc;
}

static const jobhost_param fulfill_params[] = {
    JH_PARAM_CONNECTION(0),
    JH_PARAM_CONNECTOR(0),
    JH_PARAM_RESOURCE_TYPES,
    JH_PARAM_BATCH("batch_size"),
    JH_PARAM_BOOL_OFF("dirty",
                      "Flag resources written by the fulfillment dirty"),
    JH_PARAM_BOOL_OFF("ignore_historization", "Do not archive prior values"),
    JH_PARAM_OPEN_ID_CLIENT,
    JOBHOST_PARAM_END};

static const jobhost_task_type fulfill_task_types[] = {
    {.name = "FulfillTask",
     .description = "Apply provisioning orders through a connector package",
     .params = fulfill_params,
     .run = fulfill_run,
     .flags = JOBHOST_TASK_AGENT_SIDE},
    JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_DEFINE("fulfill", PACKAGE_VERSION,
                      "Fulfillment of provisioning orders", fulfill_task_types,
                      NULL);
