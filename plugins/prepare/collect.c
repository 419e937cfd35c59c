/*
 * collect.c — see collect.h: tables of a connector from the model, the
 * batch folder and its number, the source-health guard, manifest.json,
 * publishing, previous snapshots and health.json.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <jobhost/error.h>
#include <jobhost/services.h>

#include "atomic_file.h"
#include "collect_batch.h"
#include "collect.h"
#include "faultpoint.h"
#include "table.h"
#include "timefmt.h"

/* Everything one prepare holds; freed by ctx_free. */
struct ctx {
  const jh_prep_options *opt;
  jh_prep_result *res;
  char *err;
  size_t errsize;
  const jh_connector *connector;
  const char *mode;
  int full; /* full extract (not Changes input) */
  size_t limit;

  struct prep_table *tables;
  size_t ntables;
  char **inputs;     /* export path of each table */
  const char **hdrs; /* one array: the header names of every table */
  const char **cols; /* same for the export column names */

  char *dir;      /* Work/Collect/<Connector> */
  char *batches;  /* dir/batches */
  char *previous; /* dir/previous */
  char *tmp;      /* batches/.<seq>-<mode>.tmp, while it exists */
  char *final;    /* batches/<seq>-<mode> */
  int lock_fd;
  uint64_t seq;
  int tmp_made;
  char **staged; /* previous/.<name>.sorted.csv.new made, per table */
};

static int fail(struct ctx *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct ctx *c, int code, const char *fmt, ...) {
  va_list ap;
  if (c->err != NULL && c->errsize > 0) {
    va_start(ap, fmt);
    vsnprintf(c->err, c->errsize, fmt, ap);
    va_end(ap);
  }
  return code;
}

static void say(const struct ctx *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(const struct ctx *c, int level, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  if (c->opt->log == NULL)
    return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  c->opt->log(c->opt->arg, level, msg);
}

static int cancelled(const struct ctx *c) {
  return c->opt->cancelled != NULL && c->opt->cancelled(c->opt->arg);
}

/* "a/<b><suffix>" (prefix may be ""), malloc'd. */
static char *join_name(const char *a, const char *prefix, const char *b,
                       const char *suffix) {
  size_t size = strlen(a) + strlen(prefix) + strlen(b) + strlen(suffix) + 2;
  char *p = malloc(size);
  if (p != NULL)
    snprintf(p, size, "%s/%s%s%s", a, prefix, b, suffix);
  return p;
}

/* A name that may be used as a file name stem. */
static int safe_name(const char *s) {
  if (s == NULL || *s == '\0' || s[0] == '.' || strlen(s) > 200)
    return 0;
  for (; *s; s++)
    if (*s == '/' || *s == '\\' || (unsigned char)*s < 0x20)
      return 0;
  return 1;
}

/* --------------------------------------------------------- file system */

static int mkdir_p(const char *path) {
  char buf[PATH_MAX];
  size_t len = strlen(path);
  if (len == 0 || len >= sizeof(buf))
    return -ENAMETOOLONG;
  memcpy(buf, path, len + 1);
  for (char *p = buf + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      if (mkdir(buf, 0750) != 0 && errno != EEXIST)
        return -errno;
      *p = '/';
    }
  if (mkdir(buf, 0750) != 0 && errno != EEXIST)
    return -errno;
  return 0;
}

/* ---------------------------------------------------------------- lock */

/* One prepare per connector at a time: wait for the lock, looking at the
 * cancel flag while waiting. */
static int take_lock(struct ctx *c) {
  char *path = jh_path_join(c->dir, JH_COLLECT_LOCK);
  int said = 0;
  if (path == NULL)
    return fail(c, -ENOMEM, "out of memory");
  c->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (c->lock_fd < 0) {
    int rc = fail(c, -errno, "%s: %s", path, strerror(errno));
    free(path);
    return rc;
  }
  while (flock(c->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    struct timespec ts = {0, 100 * 1000 * 1000};
    if (errno != EWOULDBLOCK && errno != EINTR) {
      int rc = fail(c, -errno, "%s: %s", path, strerror(errno));
      free(path);
      return rc;
    }
    if (!said) {
      say(c, JOBHOST_LOG_INFO,
          "waiting for another prepare of connector %s (%s)", c->connector->id,
          path);
      said = 1;
    }
    if (cancelled(c)) {
      free(path);
      return fail(c, JOBHOST_ECANCELLED,
                  "cancelled while waiting for another prepare of %s",
                  c->connector->id);
    }
    nanosleep(&ts, NULL);
  }
  free(path);
  return 0;
}

/* ----------------------------------------------------------------- seq */

static int read_seq(struct ctx *c, uint64_t *seq) {
  char *path = jh_path_join(c->dir, JH_COLLECT_SEQ), buf[64], *end;
  ssize_t n;
  int fd, rc = 0;
  unsigned long long v;
  *seq = 0;
  if (path == NULL)
    return fail(c, -ENOMEM, "out of memory");
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT)
      rc = fail(c, -errno, "%s: %s", path, strerror(errno));
    free(path);
    return rc;
  }
  n = read(fd, buf, sizeof(buf) - 1);
  if (n < 0)
    rc = fail(c, -errno, "%s: %s", path, strerror(errno));
  close(fd);
  if (rc == 0) {
    buf[n] = '\0';
    errno = 0;
    v = strtoull(buf, &end, 10);
    while (*end == '\n' || *end == '\r' || *end == ' ')
      end++;
    if (n == 0 || buf[0] < '0' || buf[0] > '9' || *end != '\0' || errno != 0 ||
        v >= JH_BATCH_SEQ_MAX)
      rc = fail(c, JOBHOST_ESOURCE,
                "%s:1: expected the last batch number (decimal, below "
                "9999999999)",
                path);
    else
      *seq = v;
  }
  free(path);
  return rc;
}

static int write_seq(struct ctx *c) {
  char *path = jh_path_join(c->dir, JH_COLLECT_SEQ), buf[32];
  int rc, n;
  if (path == NULL)
    return fail(c, -ENOMEM, "out of memory");
  n = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", c->seq);
  rc = jh_write_file_atomic(path, buf, (size_t)n, 0640);
  if (rc < 0)
    fail(c, rc, "%s: %s", path, strerror(-rc));
  free(path);
  return rc;
}

/* Remove temporary batch folders, and the temporary files of seq and
 * health.json, a crashed prepare left (the lock is held, so none is in
 * use: every writer of them holds it). */
static void remove_stale(struct ctx *c) {
  DIR *d;
  struct dirent *e;
  int n = jh_sweep_atomic_temps(c->dir, 1);
  if (n > 0)
    say(c, JOBHOST_LOG_WARNING,
        "removed %d temporary file(s) of %s, left by an interrupted prepare", n,
        c->dir);
  if ((d = opendir(c->batches)) == NULL)
    return;
  while ((e = readdir(d)) != NULL) {
    if (jh_batch_is_temp_name(e->d_name)) {
      char *p = jh_path_join(c->batches, e->d_name);
      if (p != NULL) {
        say(c, JOBHOST_LOG_WARNING,
            "removing %s, left by an interrupted prepare", p);
        (void)jh_remove_tree(p);
      }
      free(p);
    }
  }
  closedir(d);
}

/* ----------------------------------------------------------- the model */

/* Primary key property of the mapping of entity type `et`, or NULL. */
static const char *mapping_key(const jh_model *m, const char *et) {
  const jh_entity_mapping *em = jh_model_mapping(m, et);
  if (em == NULL || em->primary_key >= em->nproperties)
    return NULL;
  return em->properties[em->primary_key].property;
}

/* Header names of an association: key1 and key2, defaulting to the
 * primary keys of the owner and the target, else to the columns. */
static void association_headers(const jh_model *m,
                                const jh_association_mapping *a,
                                const char **h1, const char **h2) {
  const jh_property *p = jh_entity_type_property(
      jh_model_entity_type(m, a->entity_type), a->property);
  *h1 = a->key1 != NULL ? a->key1 : mapping_key(m, a->entity_type);
  *h2 = a->key2 != NULL                  ? a->key2
        : p != NULL && p->target != NULL ? mapping_key(m, p->target)
                                         : NULL;
  if (*h1 == NULL)
    *h1 = a->column1;
  if (*h2 == NULL)
    *h2 = a->column2;
}

static int add_table(struct ctx *c, size_t *used, const char *name,
                     int association, const char *table, size_t ncolumns) {
  struct prep_table *t = &c->tables[c->ntables];
  if (!safe_name(name))
    return fail(c, JOBHOST_ECONFIG,
                "connector %s: \"%s\" cannot name output files (empty, "
                "starting with a dot, or holding a slash)",
                c->connector->id, name ? name : "");
  if (!safe_name(table))
    return fail(c, JOBHOST_ECONFIG,
                "%s: connection table \"%s\" cannot name a file", name,
                table ? table : "");
  for (size_t i = 0; i < c->ntables; i++)
    if (strcmp(c->tables[i].name, name) == 0)
      return fail(c, JOBHOST_ECONFIG,
                  "connector %s: two mappings are named %s; their files "
                  "would collide",
                  c->connector->id, name);
  c->inputs[c->ntables] = join_name(c->opt->export_dir, "", table, ".csv");
  if (c->inputs[c->ntables] == NULL)
    return fail(c, -ENOMEM, "out of memory");
  t->name = name;
  t->association = association;
  t->input = c->inputs[c->ntables];
  t->columns = c->cols + *used;
  t->headers = c->hdrs + *used;
  t->ncolumns = ncolumns;
  *used += ncolumns;
  c->res->tables[c->ntables].name = name;
  c->res->tables[c->ntables].association = association;
  c->ntables++;
  return 0;
}

/* The tables of the connector: its entity type mappings, then its
 * association mappings, in model order. */
static int build_tables(struct ctx *c) {
  const jh_model *m = c->opt->model;
  const jh_entity_mapping **maps = NULL;
  const jh_association_mapping **assocs = NULL;
  size_t nmaps, nassocs, ncols = 0, used = 0;
  int rc = 0;
  nmaps = jh_model_connector_mappings(m, c->connector->id, &maps);
  nassocs = jh_model_connector_associations(m, c->connector->id, &assocs);
  if (nmaps == (size_t)-1 || nassocs == (size_t)-1) {
    rc = fail(c, -ENOMEM, "out of memory");
    goto out;
  }
  if (nmaps + nassocs == 0) {
    rc = fail(c, JOBHOST_ECONFIG,
              "connector %s has no entity type mapping and no association "
              "mapping: nothing to prepare",
              c->connector->id);
    goto out;
  }
  for (size_t i = 0; i < nmaps; i++)
    ncols += maps[i]->nproperties;
  ncols += 2 * nassocs;
  c->tables = calloc(nmaps + nassocs, sizeof(*c->tables));
  c->inputs = calloc(nmaps + nassocs, sizeof(*c->inputs));
  c->staged = calloc(nmaps + nassocs, sizeof(*c->staged));
  c->res->tables = calloc(nmaps + nassocs, sizeof(*c->res->tables));
  c->cols = calloc(ncols, sizeof(*c->cols));
  c->hdrs = calloc(ncols, sizeof(*c->hdrs));
  if (c->tables == NULL || c->inputs == NULL || c->staged == NULL ||
      c->res->tables == NULL || c->cols == NULL || c->hdrs == NULL) {
    rc = fail(c, -ENOMEM, "out of memory");
    goto out;
  }
  for (size_t i = 0; rc == 0 && i < nmaps; i++) {
    const jh_entity_mapping *em = maps[i];
    if (em->nproperties == 0 || em->primary_key >= em->nproperties) {
      rc = fail(c, JOBHOST_ECONFIG,
                "mapping %s: no properties or no primary key", em->entity_type);
      break;
    }
    for (size_t k = 0; k < em->nproperties; k++) {
      c->cols[used + k] = em->properties[k].column;
      c->hdrs[used + k] = em->properties[k].property;
    }
    rc = add_table(c, &used, em->entity_type, 0, em->connection_table,
                   em->nproperties);
    if (rc == 0) {
      c->tables[c->ntables - 1].keys[0] = em->primary_key;
      c->tables[c->ntables - 1].nkeys = 1;
    }
  }
  for (size_t i = 0; rc == 0 && i < nassocs; i++) {
    const jh_association_mapping *a = assocs[i];
    c->cols[used] = a->column1;
    c->cols[used + 1] = a->column2;
    association_headers(m, a, &c->hdrs[used], &c->hdrs[used + 1]);
    if (a->column1 == NULL || a->column2 == NULL) {
      rc = fail(c, JOBHOST_ECONFIG,
                "association mapping %s: column1 and "
                "column2 are required",
                a->id ? a->id : "");
      break;
    }
    rc = add_table(c, &used, a->id, 1, a->connection_table, 2);
    if (rc == 0) {
      c->tables[c->ntables - 1].keys[0] = 0;
      c->tables[c->ntables - 1].keys[1] = 1;
      c->tables[c->ntables - 1].nkeys = 2;
    }
  }
out:
  free(maps);
  free(assocs);
  return rc;
}

/* -------------------------------------------------------------- health */

/* The last good clean row counts (health.json; NULL when there is none
 * or it cannot be read, which is said in the log). New reference. */
static json_t *load_health(struct ctx *c) {
  char *path = jh_path_join(c->dir, JH_COLLECT_HEALTH);
  json_error_t jerr;
  json_t *h;
  if (path == NULL)
    return NULL;
  if (access(path, F_OK) != 0) {
    free(path);
    return NULL;
  }
  h = json_load_file(path, 0, &jerr);
  if (h == NULL || !json_is_object(json_object_get(h, "tables"))) {
    say(c, JOBHOST_LOG_WARNING,
        "%s:%d: unreadable (%s); the shrink check is skipped this time", path,
        h == NULL ? jerr.line : 1,
        h == NULL ? jerr.text : "no \"tables\" object");
    json_decref(h);
    h = NULL;
  }
  free(path);
  return h;
}

static int64_t last_good_rows(json_t *health, const char *name) {
  json_t *t = json_object_get(json_object_get(health, "tables"), name);
  json_t *rows = json_object_get(t, "rows");
  return json_is_integer(rows) ? (int64_t)json_integer_value(rows) : -1;
}

/* Append "; msg" to the error text (the first without "; "). */
static void add_problem(struct ctx *c, size_t *count, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_problem(struct ctx *c, size_t *count, const char *fmt, ...) {
  char msg[512];
  size_t len;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  say(c, JOBHOST_LOG_ERROR, "source health: %s", msg);
  if (c->err != NULL && c->errsize > 0) {
    if (*count == 0)
      c->err[0] = '\0';
    len = strlen(c->err);
    snprintf(c->err + len, c->errsize - len, "%s%s", *count ? "; " : "", msg);
  }
  (*count)++;
}

/* Before any work: every mapped export is there. */
static int check_exports(struct ctx *c) {
  size_t problems = 0;
  for (size_t i = 0; i < c->ntables; i++) {
    struct stat sb;
    if (stat(c->tables[i].input, &sb) != 0 || !S_ISREG(sb.st_mode))
      add_problem(c, &problems, "table %s (%s): export missing or failed",
                  c->tables[i].name, c->tables[i].input);
  }
  return problems ? JOBHOST_ESOURCE : 0;
}

/* After the tables are made, for full extracts: empty and shrunk tables. */
static int check_counts(struct ctx *c) {
  const jh_source_health *h = &c->connector->health;
  json_t *health;
  size_t problems = 0;
  if (!c->full)
    return 0;
  health = load_health(c);
  for (size_t i = 0; i < c->ntables; i++) {
    const jh_prep_table_stats *st = &c->res->tables[i];
    int64_t last = health ? last_good_rows(health, st->name) : -1;
    if (st->rows == 0) {
      if (!h->allow_empty)
        add_problem(c, &problems,
                    "table %s is empty (%" PRIu64 " rows read, none clean); "
                    "set source_health.allow_empty on connector %s to accept "
                    "it",
                    st->name, st->input_rows, c->connector->id);
    } else if (last > 0 &&
               jh_batch_shrank((uint64_t)last, st->rows, h->max_shrink_percent))
      add_problem(c, &problems,
                  "table %s shrank from %" PRId64 " to %" PRIu64
                  " rows (-%" PRIu64 "%%), more than max_shrink_percent "
                  "(%d%%) of connector %s allows against the last good run",
                  st->name, last, st->rows,
                  ((uint64_t)last - st->rows) * 100 / (uint64_t)last,
                  h->max_shrink_percent, c->connector->id);
  }
  json_decref(health);
  return problems ? JOBHOST_ESOURCE : 0;
}

/* After publishing: the new last good counts. A failure is only a
 * warning: the batch is out already. */
static void save_health(struct ctx *c, const char *when) {
  char *path = jh_path_join(c->dir, JH_COLLECT_HEALTH), *text = NULL;
  json_t *h = load_health(c), *tables;
  int rc = -ENOMEM;
  if (h == NULL)
    h = json_object();
  tables = json_object_get(h, "tables");
  if (h != NULL && tables == NULL) {
    tables = json_object();
    json_object_set_new(h, "tables", tables);
  }
  if (path != NULL && h != NULL && tables != NULL) {
    json_object_set_new(h, "connector", json_string(c->connector->id));
    json_object_set_new(h, "seq", json_integer((json_int_t)c->seq));
    json_object_set_new(h, "updated_at", json_string(when));
    for (size_t i = 0; i < c->ntables; i++)
      json_object_set_new(tables, c->res->tables[i].name,
                          json_pack("{s:I,s:I}", "rows",
                                    (json_int_t)c->res->tables[i].rows, "seq",
                                    (json_int_t)c->seq));
    text = json_dumps(h, JSON_INDENT(1));
    if (text != NULL)
      rc = jh_write_file_atomic(path, text, strlen(text), 0640);
  }
  if (rc < 0)
    say(c, JOBHOST_LOG_WARNING, "%s: not updated (%s)",
        path ? path : JH_COLLECT_HEALTH, strerror(-rc));
  free(text);
  free(path);
  json_decref(h);
}

/* ------------------------------------------------------------ manifest */

static const char *table_file(const struct ctx *c) {
  return c->opt->mode == JH_PREP_INCREMENTAL ? JH_BATCH_DELTA : JH_BATCH_SORTED;
}

/* The rows table i's file in the batch holds. */
static uint64_t batch_table_rows(const struct ctx *c,
                                 const jh_prep_table_stats *st) {
  return c->opt->mode == JH_PREP_INCREMENTAL && c->full
             ? st->inserted + st->updated + st->deleted
             : st->rows;
}

static json_t *table_json(const struct ctx *c, size_t i) {
  const jh_prep_table_stats *st = &c->res->tables[i];
  json_t *t = json_object();
  char file[512];
  if (t == NULL)
    return NULL;
  snprintf(file, sizeof(file), "%s%s", st->name, table_file(c));
  json_object_set_new(t, JH_MANIFEST_NAME, json_string(st->name));
  json_object_set_new(t, "kind",
                      json_string(st->association ? "association" : "entity"));
  json_object_set_new(t, JH_MANIFEST_FILE, json_string(file));
  json_object_set_new(t, "input_rows",
                      json_integer((json_int_t)st->input_rows));
  json_object_set_new(t, "rows",
                      json_integer((json_int_t)batch_table_rows(c, st)));
  json_object_set_new(t, "duplicates",
                      json_integer((json_int_t)st->duplicates));
  json_object_set_new(t, "nullpk", json_integer((json_int_t)st->nullpk));
  if (c->opt->mode == JH_PREP_INCREMENTAL) {
    json_object_set_new(t, "inserted", json_integer((json_int_t)st->inserted));
    json_object_set_new(t, "updated", json_integer((json_int_t)st->updated));
    json_object_set_new(t, "deleted", json_integer((json_int_t)st->deleted));
    json_object_set_new(t, "merged", json_integer((json_int_t)st->merged));
    if (c->full) { /* the full clean table rides along */
      snprintf(file, sizeof(file), "%s" JH_BATCH_SORTED, st->name);
      json_object_set_new(t, "snapshot", json_string(file));
      json_object_set_new(t, "snapshot_rows",
                          json_integer((json_int_t)st->rows));
    }
  }
  return t;
}

static int write_manifest(struct ctx *c, const char *when) {
  json_t *root = json_object(), *tables = json_array();
  char *path = jh_path_join(c->tmp, JH_BATCH_MANIFEST), *text = NULL;
  int rc = -ENOMEM;
  if (root != NULL && tables != NULL && path != NULL) {
    json_object_set_new(root, "connector", json_string(c->connector->id));
    json_object_set_new(root, "mode", json_string(c->mode));
    json_object_set_new(root, "input",
                        json_string(c->full ? "full" : "changes"));
    json_object_set_new(root, "seq", json_integer((json_int_t)c->seq));
    json_object_set_new(root, "created_at", json_string(when));
    json_object_set_new(root, "task_instance",
                        json_integer((json_int_t)c->opt->task_instance));
    for (size_t i = 0; tables != NULL && i < c->ntables; i++)
      if (json_array_append_new(tables, table_json(c, i)) != 0) {
        json_decref(tables); /* out of memory */
        tables = NULL;
      }
    if (tables != NULL &&
        json_object_set(root, JH_MANIFEST_TABLES, tables) == 0)
      text = json_dumps(root, JSON_INDENT(1));
    if (text != NULL)
      rc = jh_write_file_atomic(path, text, strlen(text), 0640);
  }
  if (rc < 0)
    fail(c, rc, "%s: %s", path ? path : JH_BATCH_MANIFEST, strerror(-rc));
  free(text);
  free(path);
  json_decref(tables);
  json_decref(root);
  return rc;
}

/* ------------------------------------------------------------- publish */

/* Hard links previous/.<name>.sorted.csv.new to the batch's sorted
 * tables, made before publishing so that nothing can fail after it but
 * renames. */
static int stage_previous(struct ctx *c) {
  int rc = mkdir_p(c->previous);
  if (rc < 0)
    return fail(c, rc, "%s: %s", c->previous, strerror(-rc));
  for (size_t i = 0; i < c->ntables; i++) {
    const char *name = c->tables[i].name;
    char *src = join_name(c->tmp, "", name, JH_BATCH_SORTED);
    c->staged[i] = join_name(c->previous, ".", name, JH_BATCH_SORTED ".new");
    if (src == NULL || c->staged[i] == NULL) {
      free(src);
      return fail(c, -ENOMEM, "out of memory");
    }
    unlink(c->staged[i]);
    if (link(src, c->staged[i]) != 0) {
      rc = fail(c, -errno, "%s: cannot link to %s: %s", c->staged[i], src,
                strerror(errno));
      free(c->staged[i]);
      c->staged[i] = NULL;
      free(src);
      return rc;
    }
    free(src);
  }
  return 0;
}

static void unstage_previous(struct ctx *c) {
  for (size_t i = 0; c->staged != NULL && i < c->ntables; i++)
    if (c->staged[i] != NULL)
      unlink(c->staged[i]);
}

/* After publishing: the staged snapshots replace the previous ones. */
static int replace_previous(struct ctx *c) {
  int rc = 0;
  for (size_t i = 0; i < c->ntables; i++) {
    char *dst = join_name(c->previous, "", c->tables[i].name, JH_BATCH_SORTED);
    if (dst == NULL)
      return fail(c, -ENOMEM, "out of memory");
    if (rename(c->staged[i], dst) != 0 && rc == 0)
      rc = fail(c, -errno,
                "%s: not replaced (%s); the next incremental "
                "prepare needs a complete one first",
                dst, strerror(errno));
    else {
      free(c->staged[i]);
      c->staged[i] = NULL;
    }
    free(dst);
  }
  jh_fsync_dir(c->previous);
  return rc;
}

static int publish(struct ctx *c) {
  int rc;
  if ((rc = jh_fsync_dir(c->tmp)) < 0)
    return fail(c, rc, "%s: %s", c->tmp, strerror(-rc));
  if ((rc = write_seq(c)) < 0)
    return rc;
  jh_fault_point("prepare.before_publish");
  if (rename(c->tmp, c->final) != 0)
    return fail(c, -errno, "%s: cannot publish as %s: %s", c->tmp, c->final,
                strerror(errno));
  c->tmp_made = 0;
  jh_fault_point("prepare.after_publish");
  jh_fsync_dir(c->batches);
  c->res->published = 1;
  c->res->seq = c->seq;
  c->res->batch_dir = strdup(c->final);
  if (c->res->batch_dir == NULL)
    return fail(c, -ENOMEM, "out of memory");
  return 0;
}

/* --------------------------------------------------------------- tables */

static int make_tables(struct ctx *c) {
  struct prep_env env = {.outdir = c->tmp,
                         .input = c->opt->input,
                         .command_column = c->opt->command_column
                                               ? c->opt->command_column
                                               : JH_PREP_DEFAULT_COMMAND,
                         .memory_limit = c->limit,
                         .cancelled = c->opt->cancelled,
                         .log = c->opt->log,
                         .arg = c->opt->arg};
  for (size_t i = 0; i < c->ntables; i++) {
    jh_prep_table_stats *st = &c->res->tables[i];
    char *prev = NULL;
    int rc;
    if (c->full && c->opt->mode == JH_PREP_INCREMENTAL) {
      prev = join_name(c->previous, "", c->tables[i].name, JH_BATCH_SORTED);
      if (prev == NULL)
        return fail(c, -ENOMEM, "out of memory");
    }
    env.previous = prev;
    if (cancelled(c))
      rc = fail(c, JOBHOST_ECANCELLED, "cancelled before %s",
                c->tables[i].name);
    else
      rc = prep_table_run(&c->tables[i], &env, st, c->err, c->errsize);
    free(prev);
    if (rc < 0)
      return rc;
    c->res->ntables = i + 1;
    c->res->total.input_rows += st->input_rows;
    c->res->total.rows += st->rows;
    c->res->total.duplicates += st->duplicates;
    c->res->total.nullpk += st->nullpk;
    c->res->total.inserted += st->inserted;
    c->res->total.updated += st->updated;
    c->res->total.deleted += st->deleted;
    c->res->total.merged += st->merged;
    c->res->batch_rows += batch_table_rows(c, st);
    say(c, JOBHOST_LOG_INFO,
        "%s: %" PRIu64 " rows read, %" PRIu64 " clean, %" PRIu64
        " duplicates, %" PRIu64 " null keys",
        st->name, st->input_rows, st->rows, st->duplicates, st->nullpk);
    if (c->opt->mode == JH_PREP_INCREMENTAL)
      say(c, JOBHOST_LOG_INFO,
          "%s: delta %" PRIu64 " inserts, %" PRIu64 " updates, %" PRIu64
          " deletes, %" PRIu64 " merges",
          st->name, st->inserted, st->updated, st->deleted, st->merged);
  }
  return 0;
}

/* ----------------------------------------------------------------- run */

static int check_options(struct ctx *c) {
  const jh_prep_options *o = c->opt;
  if (o->model == NULL)
    return fail(c, JOBHOST_ECONFIG,
                "no model: the pipeline must include "
                "one that maps the connector's tables");
  if (o->connector == NULL || o->export_dir == NULL || o->collect_dir == NULL)
    return fail(c, JOBHOST_ECONFIG,
                "connector, export folder and collect folder are required");
  if ((unsigned)o->mode > JH_PREP_INCREMENTAL)
    return fail(c, JOBHOST_ECONFIG, "unknown synchronization mode %d",
                (int)o->mode);
  if (o->input == JH_PREP_CHANGES && o->mode != JH_PREP_INCREMENTAL)
    return fail(c, JOBHOST_ECONFIG,
                "a Changes input needs the Incremental "
                "synchronization mode");
  c->connector = jh_model_connector(o->model, o->connector);
  if (c->connector == NULL)
    return fail(c, JOBHOST_ECONFIG, "connector %s is not in the model",
                o->connector);
  if (!safe_name(c->connector->id))
    return fail(c, JOBHOST_ECONFIG,
                "connector id \"%s\" cannot name a "
                "folder",
                c->connector->id);
  if (o->command_column != NULL && *o->command_column == '\0')
    return fail(c, JOBHOST_ECONFIG, "column_name is empty");
  c->mode = jh_batch_mode_name((jh_batch_mode)o->mode);
  c->full = o->input == JH_PREP_FULL;
  c->limit = o->memory_limit ? o->memory_limit : JH_PREP_DEFAULT_MEMORY;
  if (c->limit < JH_PREP_MIN_MEMORY)
    c->limit = JH_PREP_MIN_MEMORY;
  return 0;
}

static int make_folders(struct ctx *c) {
  char name[JH_BATCH_NAME_SIZE], temp[JH_BATCH_NAME_SIZE];
  int rc;
  c->dir = jh_path_join(c->opt->collect_dir, c->connector->id);
  if (c->dir == NULL)
    return fail(c, -ENOMEM, "out of memory");
  c->batches = jh_path_join(c->dir, JH_COLLECT_BATCHES);
  c->previous = jh_path_join(c->dir, JH_COLLECT_PREVIOUS);
  if (c->batches == NULL || c->previous == NULL)
    return fail(c, -ENOMEM, "out of memory");
  if ((rc = mkdir_p(c->batches)) < 0)
    return fail(c, rc, "%s: %s", c->batches, strerror(-rc));
  if ((rc = take_lock(c)) < 0)
    return rc;
  remove_stale(c);
  if ((rc = read_seq(c, &c->seq)) < 0)
    return rc;
  c->seq++;
  if (jh_batch_name(c->seq, (jh_batch_mode)c->opt->mode, 0, name,
                    sizeof(name)) != 0 ||
      jh_batch_name(c->seq, (jh_batch_mode)c->opt->mode, 1, temp,
                    sizeof(temp)) != 0)
    return fail(c, JOBHOST_ESOURCE, "%s/%s: no batch number is left", c->dir,
                JH_COLLECT_SEQ);
  c->final = jh_path_join(c->batches, name);
  c->tmp = jh_path_join(c->batches, temp);
  if (c->final == NULL || c->tmp == NULL)
    return fail(c, -ENOMEM, "out of memory");
  if (access(c->final, F_OK) == 0)
    return fail(c, -EEXIST,
                "%s exists although %s/seq says %" PRIu64
                " was the last batch; the seq file was changed by hand?",
                c->final, c->dir, c->seq - 1);
  if (mkdir(c->tmp, 0750) != 0)
    return fail(c, -errno, "%s: %s", c->tmp, strerror(errno));
  c->tmp_made = 1;
  return 0;
}

static int nothing_changed(const struct ctx *c) {
  const jh_prep_table_stats *t = &c->res->total;
  return c->opt->mode == JH_PREP_INCREMENTAL &&
         t->inserted + t->updated + t->deleted + t->merged == 0;
}

static int run(struct ctx *c) {
  char when[JH_TIME_SIZE];
  int rc;
  if ((rc = check_options(c)) < 0 || (rc = build_tables(c)) < 0 ||
      (rc = make_folders(c)) < 0)
    return rc;
  if ((rc = check_exports(c)) < 0)
    return rc;
  if ((rc = make_tables(c)) < 0)
    return rc;
  if ((rc = check_counts(c)) < 0)
    return rc;
  if (nothing_changed(c)) {
    say(c, JOBHOST_LOG_INFO,
        "connector %s: no change since the last "
        "prepare; no batch is published",
        c->connector->id);
    return 0;
  }
  jh_time_iso(c->opt->now ? (int64_t)c->opt->now * 1000 : jh_now_ms(), when);
  if ((rc = write_manifest(c, when)) < 0)
    return rc;
  if (c->full && (rc = stage_previous(c)) < 0)
    return rc;
  if ((rc = publish(c)) < 0)
    return rc;
  say(c, JOBHOST_LOG_INFO, "published %s", c->final);
  if (c->full) {
    save_health(c, when);
    return replace_previous(c);
  }
  return 0;
}

int jh_prepare_collect(const jh_prep_options *opt, jh_prep_result *res,
                       char *err, size_t errsize) {
  struct ctx c = {
      .opt = opt, .res = res, .err = err, .errsize = errsize, .lock_fd = -1};
  int rc;
  memset(res, 0, sizeof(*res));
  if (err != NULL && errsize > 0)
    err[0] = '\0';
  rc = run(&c);
  if (!res->published)
    unstage_previous(&c);
  if (c.tmp_made)
    (void)jh_remove_tree(c.tmp);
  if (c.lock_fd >= 0)
    close(c.lock_fd); /* releases the lock */
  for (size_t i = 0; c.inputs != NULL && i < c.ntables; i++)
    free(c.inputs[i]);
  for (size_t i = 0; c.staged != NULL && i < c.ntables; i++)
    free(c.staged[i]);
  free(c.inputs);
  free(c.staged);
  free(c.tables);
  free(c.cols);
  free(c.hdrs);
  free(c.dir);
  free(c.batches);
  free(c.previous);
  free(c.tmp);
  free(c.final);
  return rc;
}

void jh_prep_result_free(jh_prep_result *res) {
  if (res == NULL)
    return;
  free(res->batch_dir);
  free(res->tables);
  memset(res, 0, sizeof(*res));
}

int jh_prep_parse_size(const char *text, size_t *out) {
  char *end;
  unsigned long long v;
  unsigned shift = 0;
  if (text == NULL || *text < '0' || *text > '9')
    return -EINVAL;
  errno = 0;
  v = strtoull(text, &end, 10);
  if (errno != 0)
    return -EINVAL;
  switch (*end) {
  case 'k':
  case 'K':
    shift = 10;
    end++;
    break;
  case 'm':
  case 'M':
    shift = 20;
    end++;
    break;
  case 'g':
  case 'G':
    shift = 30;
    end++;
    break;
  default:
    break;
  }
  if (*end == 'i' && shift)
    end++;
  if ((*end == 'B' || *end == 'b') && (shift || end != text))
    end++;
  if (*end != '\0' || v > (SIZE_MAX >> shift))
    return -EINVAL;
  *out = (size_t)(v << shift);
  return 0;
}
