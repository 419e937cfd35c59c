/*
 * cli_dryrun.c — the home of a dry run, what it leaves out, and its
 * summary (cli_dryrun.h).
 */
#include "config.h"

#include "cli_dryrun.h"

#include "atomic_file.h"
#include "db.h"
#include "graph.h"
#include "order_file.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ORDERS_TASK "GenerateProvisioningOrdersTask"
#define FULFILL_TASK "FulfillTask"

/* The dry run's copy of each working folder: copied from the real one,
 * or made empty. */
static const struct {
  jobhost_folder which;
  const char *name;
  int copy;
} folders[] = {
    {JOBHOST_FOLDER_EXPORT_OUTPUT, "ExportOutput", 1},
    {JOBHOST_FOLDER_EXPORT_COOKIES, "ExportCookies", 1},
    {JOBHOST_FOLDER_COLLECT, "Collect", 1},
    {JOBHOST_FOLDER_PROVISIONING_ORDERS, "ProvisioningOrders", 0},
    {JOBHOST_FOLDER_JOB_LOGS, "JobLogs", 0},
    {JOBHOST_FOLDER_TASK_WORK, "Tasks", 0},
};

static int copy_file(const char *from, const char *to) {
  char buf[65536];
  ssize_t n = 0;
  int rc = 0, in = open(from, O_RDONLY | O_CLOEXEC), out;
  if (in < 0)
    return -errno;
  out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (out < 0) {
    rc = -errno;
    close(in);
    return rc;
  }
  while (rc == 0 && (n = read(in, buf, sizeof(buf))) > 0)
    for (ssize_t off = 0; off < n && rc == 0;) {
      ssize_t w = write(out, buf + off, (size_t)(n - off));
      if (w < 0 && errno != EINTR)
        rc = -errno;
      else if (w > 0)
        off += w;
    }
  if (rc == 0 && n < 0)
    rc = -errno;
  close(in);
  if (close(out) != 0 && rc == 0)
    rc = -errno;
  return rc;
}

typedef struct copy_ctx {
  const char *to;
  int rc;
} copy_ctx;

static int copy_tree(const char *from, const char *to);

static int copy_entry(const char *path, const char *name, void *arg) {
  copy_ctx *c = arg;
  struct stat st;
  char *dst;
  int rc;
  if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
    return 0;
  if (lstat(path, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
    return 0; /* links and special files are not the dry run's business */
  if ((dst = jh_path_join(c->to, name)) == NULL) {
    c->rc = -ENOMEM;
    return 1;
  }
  rc = S_ISDIR(st.st_mode) ? copy_tree(path, dst) : copy_file(path, dst);
  free(dst);
  if (rc != 0 && c->rc == 0)
    c->rc = rc;
  return rc != 0;
}

/* Copy the folder from (which may not exist) to the new folder to. */
static int copy_tree(const char *from, const char *to) {
  copy_ctx c = {to, 0};
  if (mkdir(to, 0750) != 0)
    return -errno;
  if (access(from, F_OK) == 0)
    jh_dir_each(from, copy_entry, &c);
  return c.rc;
}

static int fail(char *err, size_t errsize, int rc, const char *what,
                const char *path) {
  snprintf(err, errsize, "dry run: %s %s: %s", what, path, strerror(-rc));
  return rc;
}

/* Where each task stands in the launch order, and where the last orders
 * step is. */
static int find_positions(jh_dry_run *d) {
  const jh_graph *g = d->job->graph;
  const jh_pipeline *p = d->job->pipeline;
  d->pos = calloc(g->n ? g->n : 1, sizeof(*d->pos));
  if (d->pos == NULL)
    return -ENOMEM;
  for (size_t k = 0; k < g->n; k++) {
    d->pos[g->steps[k]] = k;
    if (strcmp(p->tasks[g->steps[k]].type, ORDERS_TASK) == 0)
      d->last_orders = k + 1;
  }
  return 0;
}

static int make_folders(jh_dry_run *d, const jh_home *home, char *err,
                        size_t errsize) {
  for (size_t i = 0; i < sizeof(folders) / sizeof(folders[0]); i++) {
    char *dst = jh_path_join(d->dir, folders[i].name);
    int rc;
    if (dst == NULL)
      return fail(err, errsize, -ENOMEM, "cannot make", d->dir);
    d->home.folders[folders[i].which] = dst;
    rc = folders[i].copy ? copy_tree(home->folders[folders[i].which], dst)
                         : (mkdir(dst, 0750) == 0 ? 0 : -errno);
    if (rc != 0)
      return fail(err, errsize, rc, "cannot copy into", dst);
  }
  return 0;
}

static int copy_home(jh_dry_run *d, const jh_home *home, int64_t instance,
                     char *err, size_t errsize) {
  char name[32];
  char *base = jh_path_join(home->root, "DryRun");
  int rc;
  snprintf(name, sizeof(name), "%lld", (long long)instance);
  if (base == NULL || (d->dir = jh_path_join(base, name)) == NULL) {
    free(base);
    return fail(err, errsize, -ENOMEM, "cannot make", home->root);
  }
  rc = mkdir(base, 0750) == 0 || errno == EEXIST ? 0 : -errno;
  free(base);
  if (rc == 0 && mkdir(d->dir, 0750) != 0)
    rc = -errno;
  if (rc != 0)
    return fail(err, errsize, rc, "cannot make", d->dir);
  if ((d->home.root = strdup(home->root)) == NULL ||
      (d->home.store_path = strdup(home->store_path)) == NULL ||
      (d->home.reports = strdup(home->reports)) == NULL ||
      (d->home.identity_store_path = jh_path_join(d->dir, "identity.db")) ==
          NULL)
    return fail(err, errsize, -ENOMEM, "cannot make", d->dir);
  if ((rc = make_folders(d, home, err, errsize)) != 0)
    return rc;
  if (access(home->identity_store_path, F_OK) == 0)
    return jh_db_snapshot(home->identity_store_path,
                          d->home.identity_store_path, err, errsize);
  return 0;
}

int jh_dry_run_open(const jh_home *home, const jh_job *job, int64_t instance,
                    jh_dry_run *d, char *err, size_t errsize) {
  int rc;
  memset(d, 0, sizeof(*d));
  d->job = job;
  rc = find_positions(d);
  if (rc != 0) {
    snprintf(err, errsize, "dry run: out of memory");
    return rc;
  }
  rc = copy_home(d, home, instance, err, errsize);
  if (rc != 0) {
    if (d->dir != NULL)
      jh_remove_tree(d->dir);
    jh_dry_run_close(d);
  }
  return rc;
}

const char *jh_dry_run_leave_out(void *arg, const jh_task_def *def,
                                 int64_t instance, char *why, size_t size) {
  const jh_dry_run *d = arg;
  size_t i = (size_t)(def - d->job->pipeline->tasks);
  (void)instance;
  if (strcmp(def->type, FULFILL_TASK) == 0)
    snprintf(why, size, "dry run: a FulfillTask would change its targets");
  else if (d->last_orders != 0 && d->pos[i] >= d->last_orders)
    snprintf(why, size,
             "dry run: after the job's last " ORDERS_TASK " (step %zu)",
             d->last_orders);
  else
    return NULL;
  return why;
}

/* Count the ChangeType of every order of one file into counts
 * ({change type: n}). */
static void count_file(const char *path, json_t *counts) {
  char err[512];
  json_t *orders = NULL, *o;
  size_t i;
  if (jh_order_file_read(path, &orders, err, sizeof(err)) != 0) {
    fprintf(stderr, "dry run: %s\n", err);
    return;
  }
  json_array_foreach(orders, i, o) {
    /* checked by the reader: one of the change types */
    const char *ct = json_string_value(json_object_get(o, "ChangeType"));
    json_t *n = json_object_get(counts, ct);
    json_object_set_new(counts, ct,
                        json_integer((n ? json_integer_value(n) : 0) + 1));
  }
  json_decref(orders);
}

static int count_type_file(const char *path, const char *name, void *arg) {
  size_t n = strlen(name);
  if (n > 5 && strcmp(name + n - 5, ".json") == 0)
    count_file(path, arg);
  return 0;
}

/* One sub-folder per resource type. */
static int count_type(const char *path, const char *name, void *arg) {
  json_t *counts;
  struct stat st;
  if (name[0] == '.' || stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
    return 0;
  counts = json_object();
  jh_dir_each(path, count_type_file, counts);
  json_object_set_new(arg, name, counts);
  return 0;
}

int jh_dry_run_summary(const jh_dry_run *d, FILE *out) {
  const char *orders = d->home.folders[JOBHOST_FOLDER_PROVISIONING_ORDERS];
  json_t *doc = json_object(), *types = json_object();
  char *path = jh_path_join(d->dir, "changes.json"), *text = NULL;
  const char *rt;
  json_t *counts;
  int rc = -ENOMEM;

  jh_dir_each(orders, count_type, types);
  json_object_set_new(doc, "orders", types);
  json_object_set_new(doc, "orders_folder", json_string(orders));
  json_object_set_new(doc, "identity_store",
                      json_string(d->home.identity_store_path));
  json_object_set_new(doc, "task_logs",
                      json_string(d->home.folders[JOBHOST_FOLDER_JOB_LOGS]));
  if (path != NULL &&
      (text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS)) != NULL) {
    rc = jh_write_file_atomic(path, text, strlen(text), 0640);
  }
  fprintf(out,
          "dry run: the identity store, the working folders and the "
          "targets are unchanged; what the run would do is in %s\n",
          d->dir);
  json_object_foreach(types, rt, counts) {
    const char *ct;
    json_t *n;
    json_object_foreach(counts, ct, n)
        fprintf(out, "  %s: %lld %s\n", rt, (long long)json_integer_value(n),
                ct);
  }
  if (rc != 0)
    fprintf(out, "dry run: cannot write %s: %s\n", path ? path : d->dir,
            strerror(-rc));
  free(text);
  free(path);
  json_decref(doc);
  return rc;
}

void jh_dry_run_close(jh_dry_run *d) {
  jh_home_clear(&d->home);
  free(d->dir);
  free(d->pos);
  memset(d, 0, sizeof(*d));
}

int jh_dry_run_exists(const jh_home *home, int64_t instance) {
  char path[PATH_MAX];
  int n = snprintf(path, sizeof(path), "%s/DryRun/%lld", home->root,
                   (long long)instance);
  return n > 0 && (size_t)n < sizeof(path) && access(path, F_OK) == 0;
}
