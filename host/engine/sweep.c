/*
 * sweep.c — see sweep.h.
 */
#include "config.h"

#include "sweep.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "csv.h"
#include "idstore.h"
#include "instance_id.h"

typedef struct live {
  int64_t *ids; /* running job instances, the starting one excluded */
  size_t n;
} live;

static int live_load(jh_store *store, int64_t instance, live *l) {
  jh_job_row *rows = NULL;
  size_t n = 0;
  int rc = jh_store_job_list(store, NULL, 0, &rows, &n);
  l->ids = NULL;
  l->n = 0;
  if (rc != 0)
    return rc;
  l->ids = calloc(n ? n : 1, sizeof(*l->ids));
  if (l->ids == NULL) {
    jh_job_rows_free(rows, n);
    return -ENOMEM;
  }
  for (size_t i = 0; i < n; i++)
    if (rows[i].state == JH_STATE_RUNNING && rows[i].instance != instance)
      l->ids[l->n++] = rows[i].instance;
  jh_job_rows_free(rows, n);
  return 0;
}

/* Whether an entry named "<instance>-..." belongs to a running instance.
 * A name that does not start so is not the host's: it stays. */
static int keep(const live *l, const char *name) {
  int64_t v = jh_instance_of_name(name);
  if (v == 0)
    return 1;
  for (size_t i = 0; i < l->n; i++)
    if (l->ids[i] == v)
      return 1;
  return 0;
}

/* A change report's file while it is written (lib/csv.h). */
#define TMP_LEN (sizeof(JH_CSV_TEMP_SUFFIX) - 1)

static int is_tmp(const char *name) {
  size_t len = strlen(name);
  return len > TMP_LEN && strcmp(name + len - TMP_LEN, JH_CSV_TEMP_SUFFIX) == 0;
}

/* What sweep_dir removes and where it says what it could not. */
typedef struct sweep_what {
  const live *l;
  int only_tmp;
  jh_idstore *ids;
  FILE *log;
} sweep_what;

/* jh_dir_each: remove path when it is dead; 1 when removed. */
static int sweep_entry(const char *path, const char *name, void *arg) {
  const sweep_what *w = arg;
  int rc;
  if (name[0] == '.' || keep(w->l, name) || (w->only_tmp && !is_tmp(name)))
    return 0;
  if (w->only_tmp && w->ids != NULL) {
    /* a report whose transaction committed, not yet in place (the
     * store was busy): the next sweep puts it there */
    char final[PATH_MAX];
    snprintf(final, sizeof(final), "%.*s", (int)(strlen(path) - TMP_LEN), path);
    if (jh_idstore_is_pending_report(w->ids, final))
      return 0;
  }
  rc = jh_remove_tree(path);
  if (rc != 0 && w->log != NULL)
    fprintf(w->log,
            "jobhost: cannot remove %s, left by a run that ended: "
            "%s\n",
            path, strerror(-rc));
  return rc == 0;
}

/* Remove the dead entries of dir (all, or only *.tmp files). */
static int sweep_dir(const char *dir, const live *l, int only_tmp,
                     jh_idstore *ids, FILE *log) {
  sweep_what w = {l, only_tmp, ids, log};
  return jh_dir_each(dir, sweep_entry, &w);
}

/* jh_dir_each: the atomic writers' dead temporary files in the folder
 * path, added to *removed. */
static int sweep_atomic_subdir(const char *path, const char *name,
                               void *removed) {
  struct stat st;
  if (name[0] != '.' && lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
    *(int *)removed += jh_sweep_atomic_temps(path, 0);
  return 0;
}

/* The atomic writers' dead temporary files in dir and, with subdirs, in
 * each of its folders (Work/Collect/<connector>). */
static int sweep_atomic(const char *dir, int subdirs) {
  int removed = jh_sweep_atomic_temps(dir, 0);
  if (subdirs)
    jh_dir_each(dir, sweep_atomic_subdir, &removed);
  return removed;
}

int jh_sweep_dead_writers(const jh_home *home) {
  int removed = 0;
  for (int f = 0; f < JOBHOST_FOLDER_TASK_WORK; f++)
    removed += sweep_atomic(home->folders[f], f == JOBHOST_FOLDER_COLLECT);
  return removed + sweep_atomic(home->reports, 0);
}

int jh_sweep_job_end(const jh_home *home, FILE *log) {
  jh_idstore *ids = NULL;
  char err[512];
  if (access(home->identity_store_path, F_OK) == 0) {
    if (jh_idstore_open(home->identity_store_path, &ids, err, sizeof(err)) !=
            0 ||
        jh_idstore_settle_reports(ids, 0, err, sizeof(err)) < 0) {
      if (log != NULL)
        fprintf(log,
                "jobhost: %s; a committed change report may be left "
                "for the next job to put in place\n",
                err);
    }
    jh_idstore_close(ids);
  }
  return jh_sweep_dead_writers(home);
}

int jh_sweep_leftovers(const jh_home *home, jh_store *store, int64_t instance,
                       FILE *log) {
  jh_idstore *ids = NULL;
  live l;
  int removed = 0, only_work = 0;
  char err[512];

  if (access(home->identity_store_path, F_OK) == 0 &&
      (jh_idstore_open(home->identity_store_path, &ids, err, sizeof(err)) !=
           0 ||
       jh_idstore_settle_reports(ids, 0, err, sizeof(err)) < 0)) {
    /* without the store no temporary report can be judged dead */
    if (log != NULL)
      fprintf(log, "jobhost: %s; temporary change reports are kept\n", err);
    only_work = 1;
  }
  if (live_load(store, instance, &l) != 0) {
    jh_idstore_close(ids);
    return 0;
  }
  removed += sweep_dir(home->folders[JOBHOST_FOLDER_TASK_WORK], &l, 0, NULL,
                       log);
  if (!only_work)
    removed += sweep_dir(home->folders[JOBHOST_FOLDER_JOB_LOGS], &l, 1, ids,
                         log);
  removed += jh_sweep_dead_writers(home);
  free(l.ids);
  jh_idstore_close(ids);
  return removed;
}
