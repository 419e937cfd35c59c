/*
 * syncer.c — see syncer.h.
 *
 * Batches are handled one at a time, in seq order, inside the task's one
 * transaction: each is diffed against the store as the earlier ones left
 * it, checked, and applied, so a later batch sees the earlier ones. The
 * first batch that exceeds a threshold is held and ends the call Blocked;
 * the batches after it stay pending for the next run.
 *
 * The diff of a table streams: the sorted file is merged with an index
 * scan of the store (keys compare bytewise on both sides), and every
 * change goes to a spill file, so memory does not grow with the rows.
 */
#include "config.h"

#include "syncer.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <jobhost/jobhost.h>

#include "atomic_file.h"
#include "change_report.h"
#include "collect_batch.h"
#include "csv.h"
#include "db.h"
#include "faultpoint.h"
#include "idstore.h"
#include "timefmt.h"

enum { KIND_RESOURCE = 1, KIND_LINK = 2 };
enum { OP_INSERT = 1, OP_UPDATE = 2, OP_DELETE = 3 };

/* Rows between two polls of the cancel flag. */
#define POLL_ROWS 4096

/* One table of the connector: an entity type mapping or an association. */
typedef struct table {
  int kind;
  const char *name; /* the entity type or the association id */
  const jh_entity_mapping *mp;
  const jh_association_mapping *as;
  int64_t et_id;   /* KIND_RESOURCE: entity type number in the store */
  uint32_t *props; /* KIND_RESOURCE: number of each mapped property */
  int64_t stored;  /* resources or links stored before this batch */
  int counted;     /* stored is known for this batch */
  int64_t ins, upd, del, same, rows;
  int in_batch; /* the current batch has it */
} table;

typedef struct batch {
  long long seq;
  jh_batch_mode mode;
  char *dir;
} batch;

typedef struct spill_head {
  uint8_t kind, op;
  uint16_t table;
  uint32_t klen, dlen, xlen;
} spill_head;

typedef struct syncer {
  const jh_sync_args *a;
  const jh_connector *connector;
  jh_idstore *st;
  jh_db *db;
  table *tables;
  size_t ntables;
  FILE *spill;
  int direct; /* no threshold to check: apply changes as they come */
  char spill_path[PATH_MAX];
  int64_t nspill;
  int64_t nheld; /* changes held by this call */
  /* the batch whose data failed the call (set aside after the rollback) */
  long long failed_seq;
  char failed_name[JH_BATCH_NAME_SIZE];
  jh_csv_writer *report;
  char *err;
  size_t errsize;
  char *enc; /* encode buffer */
  size_t enccap;
  char *names; /* changed property names of an update */
  size_t namescap;
  char now[JH_TIME_SIZE];
  jh_sync_stats *stats;
  long poll;
} syncer;

static int fail(syncer *s, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(syncer *s, int rc, const char *fmt, ...) {
  va_list ap;
  if (s->err != NULL && s->errsize > 0) {
    va_start(ap, fmt);
    vsnprintf(s->err, s->errsize, fmt, ap);
    va_end(ap);
  }
  return rc;
}

static void logf_(syncer *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void logf_(syncer *s, int level, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  if (s->a->log == NULL)
    return;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  s->a->log(s->a->arg, level, line);
}

static int polled(syncer *s) {
  if (++s->poll % POLL_ROWS != 0 || s->a->cancelled == NULL)
    return 0;
  if (s->a->cancelled(s->a->arg))
    return fail(s, -ECANCELED, "cancelled");
  return 0;
}

/* The store's last failure (lib/db.h), what the call was doing first. */
static int db_fail(syncer *s, const char *what) {
  return fail(s, -EIO, "%s: %s: %s", s->a->store_path, what,
              jh_db_errmsg(s->db));
}

/* The statement for sql, taken for one use and given back with
 * jh_db_done (lib/db.h); NULL with the reason in s->err. */
static sqlite3_stmt *stmt(syncer *s, const char *sql) {
  sqlite3_stmt *q = jh_db_stmt(s->db, sql);
  if (q == NULL)
    fail(s, -EIO, "%s: %s", s->a->store_path, jh_db_errmsg(s->db));
  return q;
}

/* Step q once, bound is the result of its JH_DB_BIND: 1 for a row, 0
 * when done, -EIO with what in s->err. */
static int sql_step(syncer *s, sqlite3_stmt *q, int bound, const char *what) {
  int rc = bound != 0 ? bound : jh_db_step(s->db, q, NULL);
  return rc < 0 ? db_fail(s, what) : rc;
}

/* Step to its end and give back a statement that returns no row. */
static int sql_run(syncer *s, sqlite3_stmt *q, int bound, const char *what) {
  int rc = sql_step(s, q, bound, what);
  jh_db_done(s->db, q);
  if (rc == 1)
    rc = fail(s, -EIO, "%s: %s: a row where none was expected",
              s->a->store_path, what);
  return rc;
}

/* Bytewise order of two keys (a shorter prefix first). */
static int keycmp(const void *a, size_t al, const void *b, size_t bl) {
  int c = memcmp(a, b, al < bl ? al : bl);
  if (c != 0)
    return c;
  return al < bl ? -1 : al > bl ? 1 : 0;
}

/* ---- the spill file ---- */

static int apply_change(syncer *s, const struct table *t, int op, const char *k,
                        size_t kl, const char *d, size_t dl, const char *x,
                        size_t xl);

static int spill_put(syncer *s, int kind, int op, size_t ti, const void *k,
                     size_t kl, const void *d, size_t dl, const void *x,
                     size_t xl) {
  spill_head h = {(uint8_t)kind, (uint8_t)op,  (uint16_t)ti,
                  (uint32_t)kl,  (uint32_t)dl, (uint32_t)xl};
  (void)kind;
  if (s->direct)
    return apply_change(s, &s->tables[ti], op, k, kl, d, dl, x, xl);
  if (fwrite(&h, sizeof(h), 1, s->spill) != 1 ||
      (kl > 0 && fwrite(k, 1, kl, s->spill) != kl) ||
      (dl > 0 && fwrite(d, 1, dl, s->spill) != dl) ||
      (xl > 0 && fwrite(x, 1, xl, s->spill) != xl))
    return fail(s, -EIO, "%s: cannot write: %s", s->spill_path,
                strerror(errno));
  s->nspill++;
  return 0;
}

static int spill_open(syncer *s) {
  snprintf(s->spill_path, sizeof(s->spill_path), "%s/changes.spill",
           s->a->work_dir);
  s->spill = fopen(s->spill_path, "w+");
  if (s->spill == NULL)
    return fail(s, -errno, "%s: cannot create: %s", s->spill_path,
                strerror(errno));
  setvbuf(s->spill, NULL, _IOFBF, 1 << 20);
  s->nspill = 0;
  return 0;
}

static void spill_close(syncer *s) {
  if (s->spill != NULL) {
    fclose(s->spill);
    unlink(s->spill_path);
    s->spill = NULL;
  }
}

/* Read the next record: 1, 0 at the end, or negative. *buf grows. */
static int spill_get(syncer *s, spill_head *h, char **buf, size_t *cap) {
  size_t need;
  if (fread(h, sizeof(*h), 1, s->spill) != 1)
    return feof(s->spill) ? 0 : fail(s, -EIO, "%s: cannot read", s->spill_path);
  need = (size_t)h->klen + h->dlen + h->xlen + 3;
  if (need > *cap) {
    char *g = realloc(*buf, need * 2);
    if (g == NULL)
      return fail(s, -ENOMEM, "out of memory");
    *buf = g;
    *cap = need * 2;
  }
  if (fread(*buf, 1, need - 3, s->spill) != need - 3)
    return fail(s, -EIO, "%s: truncated", s->spill_path);
  return 1;
}

/* ---- the change report ---- */

static int report_row(syncer *s, const char *change, const char *tname,
                      const char *key, size_t kl, const char *detail,
                      size_t dl) {
  const char *f[4] = {change, tname, key, detail ? detail : ""};
  size_t l[4] = {strlen(change), strlen(tname), kl, detail ? dl : 0};
  int rc;
  if (s->report == NULL)
    return 0;
  rc = jh_csv_write_record_n(s->report, f, l, 4);
  if (rc != 0)
    return fail(s, rc, "%s: cannot write the change report: %s",
                s->a->report_path, strerror(-rc));
  return 0;
}

/* ---- which properties changed ---- */

typedef struct kv {
  uint32_t prop;
  const char *value;
  size_t vlen;
} kv;

typedef struct kvs {
  kv *v;
  size_t n, cap;
} kvs;

static int kv_add(void *arg, uint32_t prop, const char *value, size_t vlen) {
  kvs *k = arg;
  if (k->n == k->cap) {
    size_t ncap = k->cap ? k->cap * 2 : 16;
    kv *g = realloc(k->v, ncap * sizeof(*g));
    if (g == NULL)
      return -ENOMEM;
    k->v = g;
    k->cap = ncap;
  }
  k->v[k->n].prop = prop;
  k->v[k->n].value = value;
  k->v[k->n].vlen = vlen;
  k->n++;
  return 0;
}

static const char *prop_name(const struct table *t, uint32_t prop) {
  for (size_t i = 0; i < t->mp->nproperties; i++)
    if (t->props[i] == prop)
      return t->mp->properties[i].property;
  return "?"; /* stored by a property the mapping no longer has */
}

/* The names of the properties whose values differ between two encodings,
 * joined with ';' into *out (grown). Returns the length or (size_t)-1. */
static size_t changed_names(const struct table *t, const void *a, size_t al,
                            const void *b, size_t bl, char **out, size_t *cap) {
  kvs x = {0}, y = {0};
  size_t i = 0, j = 0, o = 0;
  if (jh_idstore_decode(a, al, kv_add, &x) != 0 ||
      jh_idstore_decode(b, bl, kv_add, &y) != 0) {
    free(x.v);
    free(y.v);
    return (size_t)-1;
  }
  while (i < x.n || j < y.n) {
    const char *name;
    int c = i >= x.n                    ? 1
            : j >= y.n                  ? -1
            : x.v[i].prop < y.v[j].prop ? -1
                                        : x.v[i].prop > y.v[j].prop;
    size_t nl;
    if (c == 0) {
      int same = x.v[i].vlen == y.v[j].vlen &&
                 memcmp(x.v[i].value, y.v[j].value, x.v[i].vlen) == 0;
      name = prop_name(t, x.v[i].prop);
      i++;
      j++;
      if (same)
        continue;
    } else if (c < 0) {
      name = prop_name(t, x.v[i++].prop);
    } else {
      name = prop_name(t, y.v[j++].prop);
    }
    nl = strlen(name);
    if (o + nl + 2 > *cap) {
      size_t ncap = (o + nl + 2) * 2;
      char *g = realloc(*out, ncap);
      if (g == NULL) {
        o = (size_t)-1;
        break;
      }
      *out = g;
      *cap = ncap;
    }
    if (o > 0)
      (*out)[o++] = ';';
    memcpy(*out + o, name, nl);
    o += nl;
  }
  free(x.v);
  free(y.v);
  return o;
}

/* ---- batches ---- */

static void batches_free(batch *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(b[i].dir);
  free(b);
}

static int cmp_batch(const void *a, const void *b) {
  long long x = ((const batch *)a)->seq, y = ((const batch *)b)->seq;
  return x < y ? -1 : x > y;
}

/* The batches of the connector above last_batch, in seq order. */
static int list_batches(syncer *s, long long last, batch **out, size_t *n) {
  char dir[PATH_MAX];
  DIR *d;
  struct dirent *e;
  batch *b = NULL;
  size_t nb = 0;

  *out = NULL;
  *n = 0;
  snprintf(dir, sizeof(dir), "%s/%s/" JH_COLLECT_BATCHES, s->a->collect_dir,
           s->connector->id);
  d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT
               ? 0
               : fail(s, -errno, "%s: cannot list: %s", dir, strerror(errno));
  while ((e = readdir(d)) != NULL) {
    long long seq;
    jh_batch_mode mode;
    batch *g;
    /* not ".", "..", nor an unfinished ".N-mode.tmp" */
    if (!jh_batch_name_parse(e->d_name, &seq, &mode) || seq <= last)
      continue;
    g = realloc(b, (nb + 1) * sizeof(*b));
    if (g == NULL || asprintf(&g[nb].dir, "%s/%s", dir, e->d_name) < 0) {
      closedir(d);
      batches_free(g ? g : b, nb);
      return fail(s, -ENOMEM, "out of memory");
    }
    b = g;
    b[nb].seq = seq;
    b[nb].mode = mode;
    nb++;
  }
  closedir(d);
  if (nb > 1)
    qsort(b, nb, sizeof(*b), cmp_batch);
  *out = b;
  *n = nb;
  return 0;
}

/* ---- tables of the connector ---- */

static int tables_build(syncer *s) {
  const jh_model *m = s->a->model;
  size_t n = 0; /* s->ntables follows, so that a failure frees all */
  s->tables = calloc(m->nmappings + m->nassociations + 1, sizeof(table));
  if (s->tables == NULL)
    return fail(s, -ENOMEM, "out of memory");
  for (size_t i = 0; i < m->nmappings; i++)
    if (strcasecmp(m->mappings[i].connector, s->connector->id) == 0) {
      table *t = &s->tables[n++];
      s->ntables = n;
      t->kind = KIND_RESOURCE;
      t->mp = &m->mappings[i];
      t->name = t->mp->entity_type;
      if (jh_idstore_entity_type(s->st, t->name, s->connector->id, &t->et_id,
                                 s->err, s->errsize) != 0)
        return -EIO;
      t->props = calloc(t->mp->nproperties, sizeof(*t->props));
      if (t->props == NULL)
        return fail(s, -ENOMEM, "out of memory");
      for (size_t k = 0; k < t->mp->nproperties; k++)
        if (jh_idstore_property(s->st, t->mp->properties[k].property,
                                &t->props[k], s->err, s->errsize) != 0)
          return -EIO;
    }
  for (size_t i = 0; i < m->nassociations; i++)
    if (strcasecmp(m->associations[i].connector, s->connector->id) == 0) {
      table *t = &s->tables[n++];
      t->kind = KIND_LINK;
      t->as = &m->associations[i];
      t->name = t->as->id;
    }
  s->ntables = n;
  if (n == 0)
    return fail(s, JOBHOST_ECONFIG,
                "connector '%s' has no entity type "
                "mapping nor association mapping in the model: nothing "
                "to synchronize",
                s->connector->id);
  return 0;
}

static table *table_named(syncer *s, const char *name) {
  for (size_t i = 0; i < s->ntables; i++)
    if (strcmp(s->tables[i].name, name) == 0)
      return &s->tables[i];
  return NULL;
}

/* A statement over what table t has stored (its entity type's resources
 * or its association's links): their count, or (any) whether there is
 * one. Bound and ready to step (the caller gives it back); NULL on
 * error. */
static sqlite3_stmt *stored_query(syncer *s, const table *t, int any) {
  static const char *const sql[2][2] = {
      {"SELECT count(*) FROM resources WHERE entity_type = ?1",
       "SELECT 1 FROM resources WHERE entity_type = ?1 LIMIT 1"},
      {"SELECT count(*) FROM links WHERE association = ?1",
       "SELECT 1 FROM links WHERE association = ?1 LIMIT 1"}};
  int link = t->kind != KIND_RESOURCE;
  sqlite3_stmt *q = stmt(s, sql[link][any != 0]);
  if (q == NULL)
    return NULL;
  if ((link ? JH_DB_BIND(s->db, q, JH_DB_TEXT(t->name))
            : JH_DB_BIND(s->db, q, JH_DB_INT(t->et_id))) != 0) {
    db_fail(s, "count");
    jh_db_done(s->db, q);
    return NULL;
  }
  return q;
}

static int count_stored(syncer *s, table *t) {
  sqlite3_stmt *q = stored_query(s, t, 0);
  int rc;
  if (q == NULL)
    return -EIO;
  rc = sql_step(s, q, 0, "count");
  if (rc == 1) {
    t->stored = sqlite3_column_int64(q, 0);
    t->counted = 1;
    rc = 0;
  } else if (rc == 0) {
    rc = fail(s, -EIO, "%s: count: no result", s->a->store_path);
  }
  jh_db_done(s->db, q);
  return rc;
}

/* Whether the table has anything stored (1, 0, or an error). */
static int any_stored(syncer *s, const table *t) {
  sqlite3_stmt *q = stored_query(s, t, 1);
  int rc;
  if (q == NULL)
    return -EIO;
  rc = sql_step(s, q, 0, "count");
  jh_db_done(s->db, q);
  return rc;
}

/* ---- reading a table file ---- */

typedef struct tfile {
  jh_csv_reader *r;
  const char *path;
  int has_command;
  size_t ncols;            /* value columns (after the command) */
  const char **names;      /* property ids (resource) */
  uint32_t *props;         /* their numbers in the store */
  jh_property_type *types; /* their types in the model */
  size_t *order;           /* encode order */
  size_t key;              /* resource: key column among the values */
  jh_idstore_value *vals;  /* scratch */
} tfile;

static void tfile_close(tfile *f) {
  jh_csv_reader_close(f->r);
  free(f->names);
  free(f->props);
  free(f->types);
  free(f->order);
  free(f->vals);
  memset(f, 0, sizeof(*f));
}

static int tfile_open(syncer *s, const table *t, const char *path,
                      int has_command, tfile *f) {
  const jh_csv_options opt = {',', 0, NULL, 1};
  const jh_csv_record *h;
  int rc;
  size_t first;

  memset(f, 0, sizeof(*f));
  f->path = path;
  f->has_command = has_command;
  rc = jh_csv_reader_open(path, &opt, &f->r, s->err, s->errsize);
  if (rc != 0)
    return rc;
  (void)jh_csv_reader_background(f->r); /* parse while the store is read */
  h = jh_csv_reader_header(f->r);
  first = has_command ? 1 : 0;
  if (h->nfields < first + (t->kind == KIND_LINK ? 2 : 1)) {
    tfile_close(f);
    return fail(s, JOBHOST_ECONFIG, "%s:1: expected a header with %s%s", path,
                has_command ? "the command column and " : "",
                t->kind == KIND_LINK ? "two key columns" : "the properties");
  }
  if (has_command && strcmp(h->fields[0], JH_BATCH_COMMAND_COLUMN) != 0) {
    rc = fail(s, JOBHOST_ECONFIG,
              "%s:1: expected '" JH_BATCH_COMMAND_COLUMN
              "' as the first column, got '%s'",
              path, h->fields[0]);
    tfile_close(f);
    return rc;
  }
  f->ncols = h->nfields - first;
  if (t->kind == KIND_LINK)
    return 0;
  f->names = calloc(f->ncols, sizeof(*f->names));
  f->props = calloc(f->ncols, sizeof(*f->props));
  f->types = calloc(f->ncols, sizeof(*f->types));
  f->order = calloc(f->ncols, sizeof(*f->order));
  f->vals = calloc(f->ncols, sizeof(*f->vals));
  if (f->names == NULL || f->props == NULL || f->types == NULL ||
      f->order == NULL || f->vals == NULL) {
    tfile_close(f);
    return fail(s, -ENOMEM, "out of memory");
  }
  f->key = (size_t)-1;
  for (size_t i = 0; i < f->ncols; i++) {
    const char *name = h->fields[first + i];
    size_t k;
    for (k = 0; k < t->mp->nproperties; k++)
      if (strcmp(t->mp->properties[k].property, name) == 0)
        break;
    if (k == t->mp->nproperties) {
      rc = fail(s, JOBHOST_ECONFIG,
                "%s:1: column '%s' is not a mapped "
                "property of entity type '%s' (the batch was prepared "
                "with another model?)",
                path, name, t->name);
      tfile_close(f);
      return rc;
    }
    if (k == t->mp->primary_key)
      f->key = i;
    f->names[i] = t->mp->properties[k].property;
    f->props[i] = t->props[k];
    {
      const jh_property *pr = jh_entity_type_property(
          jh_model_entity_type(s->a->model, t->name), f->names[i]);
      f->types[i] = pr != NULL ? pr->type : JH_PROP_STRING;
    }
  }
  if (f->key == (size_t)-1) {
    tfile_close(f);
    return fail(s, JOBHOST_ECONFIG,
                "%s:1: no column for the primary key "
                "'%s' of entity type '%s'",
                path, t->mp->properties[t->mp->primary_key].property, t->name);
  }
  jh_idstore_sort_props(f->props, f->ncols, f->order);
  return 0;
}

/* Next row: 1 with the record, 0 at the end, negative on error. */
static int tfile_next(syncer *s, tfile *f, const jh_csv_record **rec) {
  int rc = jh_csv_read(f->r, rec);
  if (rc < 0)
    return fail(s, rc, "%s", jh_csv_reader_error(f->r));
  if (rc == 1 && (*rec)->nfields != f->ncols + (f->has_command ? 1 : 0))
    return fail(s, JOBHOST_ECONFIG, "%s:%lu: expected %zu fields, got %zu",
                f->path, jh_csv_reader_line(f->r),
                f->ncols + (f->has_command ? 1 : 0), (*rec)->nfields);
  return rc;
}

/* The encoded values of a resource row (in s->enc). */
static int encode_row(syncer *s, tfile *f, const jh_csv_record *rec,
                      size_t *len) {
  size_t first = f->has_command ? 1 : 0;
  for (size_t i = 0; i < f->ncols; i++) {
    size_t c = f->order[i];
    const char *expected = NULL;
    f->vals[i].prop = f->props[c];
    f->vals[i].value = rec->fields[first + c];
    f->vals[i].length = rec->lengths[first + c];
    if (f->types[c] != JH_PROP_STRING &&
        !jh_property_value_ok(f->types[c], f->vals[i].value, f->vals[i].length,
                              &expected))
      return fail(s, JOBHOST_ECONFIG,
                  "%s:%lu: property '%s': '%.*s%s' is "
                  "not valid: expected %s",
                  f->path, jh_csv_reader_line(f->r), f->names[c],
                  f->vals[i].length > 40 ? 40 : (int)f->vals[i].length,
                  f->vals[i].value, f->vals[i].length > 40 ? "..." : "",
                  expected);
  }
  *len = jh_idstore_encode(f->vals, f->ncols, &s->enc, &s->enccap);
  return *len == (size_t)-1 ? fail(s, -ENOMEM, "out of memory") : 0;
}

/* Rows must come in strictly increasing key order. */
typedef struct prevkey {
  char *buf;
  size_t len, cap;
  int have;
} prevkey;

static int check_order(syncer *s, tfile *f, prevkey *p, const char *k,
                       size_t kl, const char *k2, size_t k2l) {
  int c = 0;
  size_t total = kl + 1 + k2l;
  if (p->have) {
    /* compare (k, k2) with the previous pair stored as k NUL k2 */
    size_t pl = strlen(p->buf);
    c = keycmp(k, kl, p->buf, pl);
    if (c == 0 && k2 != NULL)
      c = keycmp(k2, k2l, p->buf + pl + 1, p->len - pl - 1);
    if (c <= 0)
      return fail(s, JOBHOST_ECONFIG,
                  "%s:%lu: %s: the file must be sorted "
                  "by key without repeats (was the batch altered?)",
                  f->path, jh_csv_reader_line(f->r),
                  c == 0 ? "repeated key" : "key out of order");
  }
  if (total + 1 > p->cap) {
    char *g = realloc(p->buf, (total + 1) * 2);
    if (g == NULL)
      return fail(s, -ENOMEM, "out of memory");
    p->buf = g;
    p->cap = (total + 1) * 2;
  }
  memcpy(p->buf, k, kl);
  p->buf[kl] = '\0';
  if (k2 != NULL)
    memcpy(p->buf + kl + 1, k2, k2l);
  p->len = kl + 1 + (k2 ? k2l : 0);
  p->have = 1;
  return 0;
}

/* ---- diff of a resource table ---- */

static int spill_update(syncer *s, size_t ti, const char *k, size_t kl,
                        const void *old, size_t ol, const char *nd, size_t nl) {
  size_t xl = changed_names(&s->tables[ti], old, ol, nd, nl, &s->names,
                            &s->namescap);
  if (xl == (size_t)-1)
    return fail(s, -ENOMEM, "out of memory");
  return spill_put(s, KIND_RESOURCE, OP_UPDATE, ti, k, kl, nd, nl, s->names,
                   xl);
}

/*
 * A complete merge walks the stored rows with a cursor while it diffs.
 * Writing those rows under the cursor would disturb the walk, so even
 * when changes need no threshold check (s->direct), a table that already
 * has stored rows collects its changes in the spill, applied after the
 * walk. *was_direct keeps s->direct for the caller to restore.
 *
 * The walk meets every stored row once (unchanged, updated or deleted),
 * so it also counts them: the thresholds need no count(*) of their own
 * (end_walk).
 */
static int begin_walk(syncer *s, const table *t, int *was_direct) {
  int any;
  *was_direct = s->direct;
  if (!s->direct)
    return 0;
  if ((any = any_stored(s, t)) <= 0)
    return any;
  if (s->spill == NULL) {
    int rc = spill_open(s);
    if (rc != 0)
      return rc;
  }
  s->direct = 0;
  return 0;
}

/*
 * Open a complete walk of table t: begin_walk, the file at path in *f,
 * and q (taken for the walk; NULL when it could not be) bound to key and
 * stepped to its first stored row: *have_db is 1 for a row, 0 for none,
 * or a negative code. 0, or a negative code with q given back and
 * nothing left open.
 */
static int walk_open(syncer *s, table *t, const char *path, sqlite3_stmt *q,
                     jh_db_value key, tfile *f, int *was_direct, int *have_db) {
  int rc;
  if (q == NULL)
    return -EIO;
  if ((rc = begin_walk(s, t, was_direct)) != 0) {
    jh_db_done(s->db, q);
    return rc;
  }
  if ((rc = tfile_open(s, t, path, 0, f)) != 0) {
    jh_db_done(s->db, q);
    s->direct = *was_direct;
    return rc;
  }
  *have_db = jh_db_bind(s->db, q, &key, 1);
  if (*have_db == 0)
    *have_db = jh_db_step(s->db, q, NULL);
  return 0;
}

static void end_walk(syncer *s, table *t, int was_direct, int rc) {
  s->direct = was_direct;
  if (rc == 0) {
    t->stored = t->same + t->upd + t->del;
    t->counted = 1;
  }
}

static int diff_resources_complete(syncer *s, size_t ti, const char *path) {
  table *t = &s->tables[ti];
  sqlite3_stmt *q = stmt(s, "SELECT key, data FROM resources "
                            "WHERE entity_type = ?1 ORDER BY key");
  const jh_csv_record *rec;
  prevkey prev = {0};
  tfile f;
  int rc, have_db, was_direct;

  if ((rc = walk_open(s, t, path, q, JH_DB_INT(t->et_id), &f, &was_direct,
                      &have_db)) != 0)
    return rc;
  while (rc == 0 && (rc = tfile_next(s, &f, &rec)) == 1) {
    const char *k = rec->fields[f.key];
    size_t kl = rec->lengths[f.key], dl;
    rc = polled(s);
    if (rc == 0 && kl == 0)
      rc = fail(s, JOBHOST_ECONFIG, "%s:%lu: empty primary key", path,
                jh_csv_reader_line(f.r));
    if (rc == 0)
      rc = check_order(s, &f, &prev, k, kl, NULL, 0);
    if (rc == 0)
      rc = encode_row(s, &f, rec, &dl);
    t->rows++;
    while (rc == 0 && have_db == 1) {
      const char *dk = (const char *)sqlite3_column_text(q, 0);
      size_t dkl = (size_t)sqlite3_column_bytes(q, 0);
      int c = keycmp(dk, dkl, k, kl);
      if (c > 0)
        break;
      if (c < 0) {
        rc = spill_put(s, KIND_RESOURCE, OP_DELETE, ti, dk, dkl, NULL, 0, NULL,
                       0);
        t->del++;
      } else {
        const void *od = sqlite3_column_blob(q, 1);
        size_t ol = (size_t)sqlite3_column_bytes(q, 1);
        if (ol == dl && memcmp(od, s->enc, dl) == 0) {
          t->same++;
        } else {
          rc = spill_update(s, ti, k, kl, od, ol, s->enc, dl);
          t->upd++;
        }
        have_db = jh_db_step(s->db, q, NULL);
        goto next_row;
      }
      have_db = jh_db_step(s->db, q, NULL);
    }
    if (rc == 0) {
      rc = spill_put(s, KIND_RESOURCE, OP_INSERT, ti, k, kl, s->enc, dl, NULL,
                     0);
      t->ins++;
    }
  next_row:;
  }
  if (rc == 0) {
    for (; have_db == 1 && rc == 0; have_db = jh_db_step(s->db, q, NULL)) {
      rc = spill_put(s, KIND_RESOURCE, OP_DELETE, ti, sqlite3_column_text(q, 0),
                     (size_t)sqlite3_column_bytes(q, 0), NULL, 0, NULL, 0);
      t->del++;
    }
    if (rc == 0 && have_db < 0)
      rc = db_fail(s, "reading resources");
  }
  jh_db_done(s->db, q);
  free(prev.buf);
  tfile_close(&f);
  end_walk(s, t, was_direct, rc);
  return rc;
}

/* The operation of a delta row's command: OP_INSERT (insert, merge),
 * OP_UPDATE or OP_DELETE; 0 when unknown. */
static int delta_op(const char *c) {
  switch (jh_batch_command_parse(c, strlen(c))) {
  case JH_COMMAND_INSERT:
  case JH_COMMAND_MERGE:
    return OP_INSERT;
  case JH_COMMAND_UPDATE:
    return OP_UPDATE;
  case JH_COMMAND_DELETE:
    return OP_DELETE;
  default:
    return 0;
  }
}

/* Open the file at path for a delta (or, when initial, an initial) diff
 * of t, q being the statement taken for it (NULL when it could not be):
 * 0, or a negative code with q given back. */
static int delta_open(syncer *s, table *t, const char *path, int initial,
                      sqlite3_stmt *q, tfile *f) {
  int rc;
  if (q == NULL)
    return -EIO;
  if ((rc = tfile_open(s, t, path, !initial, f)) != 0)
    jh_db_done(s->db, q);
  return rc;
}

static int diff_resources_delta(syncer *s, size_t ti, const char *path,
                                int initial) {
  table *t = &s->tables[ti];
  sqlite3_stmt *q = stmt(s, "SELECT data FROM resources "
                            "WHERE entity_type = ?1 AND key = ?2");
  const jh_csv_record *rec;
  prevkey prev = {0};
  tfile f;
  int rc;

  if ((rc = delta_open(s, t, path, initial, q, &f)) != 0)
    return rc;
  while (rc == 0 && (rc = tfile_next(s, &f, &rec)) == 1) {
    size_t first = initial ? 0 : 1;
    const char *k = rec->fields[first + f.key];
    size_t kl = rec->lengths[first + f.key], dl;
    int op = initial ? OP_INSERT : delta_op(rec->fields[0]), found;

    rc = polled(s);
    t->rows++;
    if (rc == 0 && op == 0)
      rc = fail(s, JOBHOST_ECONFIG,
                "%s:%lu: unknown command '%s': expected "
                "insert, update, delete or merge",
                path, jh_csv_reader_line(f.r), rec->fields[0]);
    if (rc == 0 && kl == 0)
      rc = fail(s, JOBHOST_ECONFIG, "%s:%lu: empty primary key", path,
                jh_csv_reader_line(f.r));
    if (rc == 0)
      rc = check_order(s, &f, &prev, k, kl, NULL, 0);
    if (rc == 0 && op != OP_DELETE)
      rc = encode_row(s, &f, rec, &dl);
    if (rc != 0)
      break;
    if (initial) {
      rc = spill_put(s, KIND_RESOURCE, OP_INSERT, ti, k, kl, s->enc, dl, NULL,
                     0);
      t->ins++;
      continue;
    }
    sqlite3_reset(q); /* run again within this use (lib/db.h) */
    found = JH_DB_BIND(s->db, q, JH_DB_INT(t->et_id), JH_DB_TEXTN(k, kl));
    if (found == 0)
      found = jh_db_step(s->db, q, NULL);
    if (found < 0) {
      rc = db_fail(s, "looking up a resource");
      break;
    }
    if (op == OP_DELETE) {
      if (found == 1) {
        rc = spill_put(s, KIND_RESOURCE, OP_DELETE, ti, k, kl, NULL, 0, NULL,
                       0);
        t->del++;
      } else {
        t->same++;
      }
    } else if (found == 1) {
      const void *od = sqlite3_column_blob(q, 0);
      size_t ol = (size_t)sqlite3_column_bytes(q, 0);
      if (ol == dl && memcmp(od, s->enc, dl) == 0) {
        t->same++;
      } else {
        rc = spill_update(s, ti, k, kl, od, ol, s->enc, dl);
        t->upd++;
      }
    } else {
      rc = spill_put(s, KIND_RESOURCE, OP_INSERT, ti, k, kl, s->enc, dl, NULL,
                     0);
      t->ins++;
    }
  }
  jh_db_done(s->db, q);
  free(prev.buf);
  tfile_close(&f);
  return rc;
}

/* ---- diff of a link table ---- */

static int paircmp(const char *a1, size_t a1l, const char *a2, size_t a2l,
                   const char *b1, size_t b1l, const char *b2, size_t b2l) {
  int c = keycmp(a1, a1l, b1, b1l);
  return c != 0 ? c : keycmp(a2, a2l, b2, b2l);
}

static int diff_links_complete(syncer *s, size_t ti, const char *path) {
  table *t = &s->tables[ti];
  sqlite3_stmt *q = stmt(s, "SELECT value1, value2 FROM links "
                            "WHERE association = ?1 "
                            "ORDER BY value1, value2");
  const jh_csv_record *rec;
  prevkey prev = {0};
  tfile f;
  int rc, have_db, was_direct;

  if ((rc = walk_open(s, t, path, q, JH_DB_TEXT(t->name), &f, &was_direct,
                      &have_db)) != 0)
    return rc;
  while (rc == 0 && (rc = tfile_next(s, &f, &rec)) == 1) {
    const char *v1 = rec->fields[0], *v2 = rec->fields[1];
    size_t l1 = rec->lengths[0], l2 = rec->lengths[1];
    int matched = 0;
    rc = polled(s);
    t->rows++;
    if (rc == 0 && (l1 == 0 || l2 == 0))
      rc = fail(s, JOBHOST_ECONFIG, "%s:%lu: empty link value", path,
                jh_csv_reader_line(f.r));
    if (rc == 0)
      rc = check_order(s, &f, &prev, v1, l1, v2, l2);
    while (rc == 0 && have_db == 1) {
      const char *d1 = (const char *)sqlite3_column_text(q, 0);
      const char *d2 = (const char *)sqlite3_column_text(q, 1);
      size_t dl1 = (size_t)sqlite3_column_bytes(q, 0);
      size_t dl2 = (size_t)sqlite3_column_bytes(q, 1);
      int c = paircmp(d1, dl1, d2, dl2, v1, l1, v2, l2);
      if (c > 0)
        break;
      if (c < 0) {
        rc = spill_put(s, KIND_LINK, OP_DELETE, ti, d1, dl1, d2, dl2, NULL, 0);
        t->del++;
      } else {
        t->same++;
        matched = 1;
      }
      have_db = jh_db_step(s->db, q, NULL);
      if (matched)
        break;
    }
    if (rc == 0 && !matched) {
      rc = spill_put(s, KIND_LINK, OP_INSERT, ti, v1, l1, v2, l2, NULL, 0);
      t->ins++;
    }
  }
  if (rc == 0) {
    for (; have_db == 1 && rc == 0; have_db = jh_db_step(s->db, q, NULL)) {
      rc = spill_put(s, KIND_LINK, OP_DELETE, ti, sqlite3_column_text(q, 0),
                     (size_t)sqlite3_column_bytes(q, 0),
                     sqlite3_column_text(q, 1),
                     (size_t)sqlite3_column_bytes(q, 1), NULL, 0);
      t->del++;
    }
    if (rc == 0 && have_db < 0)
      rc = db_fail(s, "reading links");
  }
  jh_db_done(s->db, q);
  free(prev.buf);
  tfile_close(&f);
  end_walk(s, t, was_direct, rc);
  return rc;
}

static int diff_links_delta(syncer *s, size_t ti, const char *path,
                            int initial) {
  table *t = &s->tables[ti];
  sqlite3_stmt *q = stmt(s, "SELECT 1 FROM links WHERE association = ?1 "
                            "AND value1 = ?2 AND value2 = ?3");
  const jh_csv_record *rec;
  tfile f;
  int rc;

  if ((rc = delta_open(s, t, path, initial, q, &f)) != 0)
    return rc;
  while (rc == 0 && (rc = tfile_next(s, &f, &rec)) == 1) {
    size_t first = initial ? 0 : 1;
    const char *v1 = rec->fields[first], *v2 = rec->fields[first + 1];
    size_t l1 = rec->lengths[first], l2 = rec->lengths[first + 1];
    int op = initial ? OP_INSERT : delta_op(rec->fields[0]), found;
    rc = polled(s);
    t->rows++;
    if (rc == 0 && (op == 0 || op == OP_UPDATE))
      op = op == OP_UPDATE ? OP_INSERT : 0; /* a link has no other value */
    if (rc == 0 && op == 0)
      rc = fail(s, JOBHOST_ECONFIG,
                "%s:%lu: unknown command '%s': expected "
                "insert, update, delete or merge",
                path, jh_csv_reader_line(f.r), rec->fields[0]);
    if (rc == 0 && (l1 == 0 || l2 == 0))
      rc = fail(s, JOBHOST_ECONFIG, "%s:%lu: empty link value", path,
                jh_csv_reader_line(f.r));
    if (rc != 0)
      break;
    sqlite3_reset(q); /* run again within this use (lib/db.h) */
    found = JH_DB_BIND(s->db, q, JH_DB_TEXT(t->name), JH_DB_TEXTN(v1, l1),
                       JH_DB_TEXTN(v2, l2));
    if (found == 0)
      found = jh_db_step(s->db, q, NULL);
    if (found < 0) {
      rc = db_fail(s, "looking up a link");
      break;
    }
    if ((op == OP_INSERT) == (found == 1)) {
      t->same++; /* already there, or already gone */
      if (initial)
        rc = fail(s, JOBHOST_ECONFIG,
                  "%s:%lu: initial synchronization: "
                  "the link is already in the store (use Complete mode)",
                  path, jh_csv_reader_line(f.r));
      continue;
    }
    rc = spill_put(s, KIND_LINK, op, ti, v1, l1, v2, l2, NULL, 0);
    if (op == OP_INSERT)
      t->ins++;
    else
      t->del++;
  }
  jh_db_done(s->db, q);
  tfile_close(&f);
  return rc;
}

/* ---- the manifest of a batch ---- */

static int diff_batch(syncer *s, const batch *b) {
  char path[PATH_MAX];
  json_error_t je;
  json_t *root, *tables;
  size_t i;
  json_t *it;
  int rc = 0;

  snprintf(path, sizeof(path), "%s/" JH_BATCH_MANIFEST, b->dir);
  root = json_load_file(path, 0, &je);
  if (root == NULL)
    return fail(s, JOBHOST_ECONFIG, "%s:%d: %s", path, je.line, je.text);
  tables = json_object_get(root, JH_MANIFEST_TABLES);
  if (!json_is_array(tables)) {
    json_decref(root);
    return fail(s, JOBHOST_ECONFIG,
                "%s: expected a '" JH_MANIFEST_TABLES "' array", path);
  }
  json_array_foreach(tables, i, it) {
    const char *name = json_string_value(json_object_get(it, JH_MANIFEST_NAME));
    const char *file = json_string_value(json_object_get(it, JH_MANIFEST_FILE));
    char fpath[PATH_MAX];
    table *t;
    size_t ti;
    int delta;
    if (name == NULL || file == NULL || strchr(file, '/') != NULL) {
      rc = fail(s, JOBHOST_ECONFIG,
                "%s: table %zu: expected '" JH_MANIFEST_NAME
                "' and '" JH_MANIFEST_FILE "' (a file name "
                "in the batch)",
                path, i);
      break;
    }
    t = table_named(s, name);
    if (t == NULL) {
      rc = fail(s, JOBHOST_ECONFIG,
                "%s: table '%s' is not a mapping of "
                "connector '%s' in the model",
                path, name, s->connector->id);
      break;
    }
    ti = (size_t)(t - s->tables);
    t->in_batch = 1;
    snprintf(fpath, sizeof(fpath), "%s/%s", b->dir, file);
    delta = jh_batch_file_is_delta(file);
    if (b->mode == JH_BATCH_COMPLETE && delta) {
      rc = fail(s, JOBHOST_ECONFIG,
                "%s: a complete batch holds the delta "
                "'%s'",
                path, file);
      break;
    }
    if (t->kind == KIND_RESOURCE)
      rc = b->mode == JH_BATCH_INITIAL ? diff_resources_delta(s, ti, fpath, 1)
           : delta                     ? diff_resources_delta(s, ti, fpath, 0)
                                       : diff_resources_complete(s, ti, fpath);
    else
      rc = b->mode == JH_BATCH_INITIAL ? diff_links_delta(s, ti, fpath, 1)
           : delta                     ? diff_links_delta(s, ti, fpath, 0)
                                       : diff_links_complete(s, ti, fpath);
    if (rc != 0)
      break;
  }
  json_decref(root);
  return rc;
}

/* ---- guard and thresholds ---- */

/* doc/identity-manager.md guard against a broken source. */
static int guard(syncer *s, const batch *b) {
  const jh_source_health *h = &s->connector->health;
  if (b->mode != JH_BATCH_COMPLETE)
    return 0;
  for (size_t i = 0; i < s->ntables; i++) {
    const table *t = &s->tables[i];
    if (!t->in_batch || t->kind != KIND_RESOURCE || t->stored == 0)
      continue;
    if (t->rows == 0 && !h->allow_empty)
      return fail(s, JOBHOST_ESOURCE,
                  "source-health guard: table '%s' of "
                  "connector '%s' is empty while the store holds %" PRId64
                  " of its resources; nothing was deleted (an empty export "
                  "is an error; set source_health.allow_empty to accept "
                  "one)",
                  t->name, s->connector->id, t->stored);
    if (jh_batch_shrank((uint64_t)t->stored, (uint64_t)t->rows,
                        h->max_shrink_percent))
      return fail(s, JOBHOST_ESOURCE,
                  "source-health guard: table '%s' of "
                  "connector '%s' has %" PRId64 " rows against %" PRId64
                  " stored, a loss of more than %d%%; nothing was changed "
                  "(check the export, or raise "
                  "source_health.max_shrink_percent)",
                  t->name, s->connector->id, t->rows, t->stored,
                  h->max_shrink_percent);
  }
  return 0;
}

/* Append "what" to the reasons when count exceeds the threshold. */
static void check_one(char *why, size_t size, int *n, const char *scope,
                      const char *what, int64_t count, int64_t stored,
                      int64_t limit, int percent) {
  size_t used = strlen(why);
  int over;
  if (limit <= 0 || count == 0)
    return;
  over = percent ? count * 100 > limit * stored : count > limit;
  if (!over)
    return;
  if ((*n)++ >= 4)
    return;
  if (percent)
    snprintf(why + used, size - used,
             "%s%s: %" PRId64 " %s > %" PRId64 "%% of stored (%" PRId64 ")",
             used ? "; " : "", scope, count, what, limit, stored);
  else
    snprintf(why + used, size - used, "%s%s: %" PRId64 " %s > %" PRId64,
             used ? "; " : "", scope, count, what, limit);
}

/* What a scope's thresholds count: insertions, updates, deletions. */
enum { COUNT_INS, COUNT_UPD, COUNT_DEL, COUNT_KINDS };

/* The changes of a scope and the rows it held before them. */
typedef struct change_counts {
  int64_t n[COUNT_KINDS];
  int64_t stored;
} change_counts;

/* One threshold: its kind, what it counts, whether it is a percentage. */
typedef struct threshold_check {
  jh_threshold_kind kind;
  const char *what;
  int count; /* COUNT_* */
  int percent;
} threshold_check;

static const threshold_check resource_checks[] = {
    {JH_TH_MAX_DELETED, "deletions", COUNT_DEL, 0},
    {JH_TH_MAX_INSERTED, "insertions", COUNT_INS, 0},
    {JH_TH_MAX_UPDATED, "updates", COUNT_UPD, 0},
    {JH_TH_PCT_DELETED, "deletions", COUNT_DEL, 1},
    {JH_TH_PCT_INSERTED, "insertions", COUNT_INS, 1},
    {JH_TH_PCT_UPDATED, "updates", COUNT_UPD, 1}};

static const threshold_check link_checks[] = {
    {JH_TH_LINK_MAX_DELETED, "link deletions", COUNT_DEL, 0},
    {JH_TH_LINK_MAX_INSERTED, "link insertions", COUNT_INS, 0},
    {JH_TH_LINK_PCT_DELETED, "link deletions", COUNT_DEL, 1},
    {JH_TH_LINK_PCT_INSERTED, "link insertions", COUNT_INS, 1}};

#define NCHECKS(a) (sizeof(a) / sizeof((a)[0]))

/* Check the counts c of scope against the thresholds th (a connector's
 * when connector is 1) that checks name. */
static void check_scope(char *why, size_t size, int *n, const char *scope,
                        const jh_thresholds *th, int connector,
                        const threshold_check *checks, size_t nchecks,
                        const change_counts *c) {
  for (size_t i = 0; i < nchecks; i++)
    check_one(why, size, n, scope, checks[i].what, c->n[checks[i].count],
              c->stored, jh_threshold_value(th, checks[i].kind, connector),
              checks[i].percent);
}

static void count_add(change_counts *sum, const change_counts *c) {
  for (int k = 0; k < COUNT_KINDS; k++)
    sum->n[k] += c->n[k];
  sum->stored += c->stored;
}

static void check_thresholds(syncer *s, char *why, size_t size, int *n) {
  const jh_thresholds *ct = &s->connector->thresholds;
  change_counts res = {{0, 0, 0}, 0}, links = {{0, 0, 0}, 0};
  char scope[256];

  for (size_t i = 0; i < s->ntables; i++) {
    const table *t = &s->tables[i];
    change_counts c = {{t->ins, t->upd, t->del}, t->stored};
    if (t->kind == KIND_RESOURCE) {
      count_add(&res, &c);
      snprintf(scope, sizeof(scope), "entity type mapping %s", t->name);
      check_scope(why, size, n, scope, &t->mp->thresholds, 0, resource_checks,
                  NCHECKS(resource_checks), &c);
    } else {
      count_add(&links, &c);
      snprintf(scope, sizeof(scope), "association mapping %s", t->name);
      check_scope(why, size, n, scope, &t->as->thresholds, 0, link_checks,
                  NCHECKS(link_checks), &c);
    }
  }
  snprintf(scope, sizeof(scope), "connector %s", s->connector->id);
  check_scope(why, size, n, scope, ct, 1, resource_checks,
              NCHECKS(resource_checks), &res);
  check_scope(why, size, n, scope, ct, 1, link_checks, NCHECKS(link_checks),
              &links);
}

/* ---- applying ---- */

static const char *const op_names[] = {"", "insert", "update", "delete"};

static int keep_change(syncer *s, const table *t, int op, const char *k,
                       size_t kl, const char *d, size_t dl, const char *state) {
  sqlite3_stmt *q;
  int rc;
  if (t->kind == KIND_RESOURCE) {
    q = stmt(s, "INSERT INTO resource_changes(task_instance, connector, "
                "entity_type, key, op, data, state) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (q == NULL)
      return -EIO;
    rc = JH_DB_BIND(s->db, q, JH_DB_INT(s->a->task_instance),
                    JH_DB_TEXT(s->connector->id), JH_DB_TEXT(t->name),
                    JH_DB_TEXTN(k, kl), JH_DB_TEXT(op_names[op]),
                    op == OP_DELETE ? JH_DB_NULL : JH_DB_BLOB(d, dl),
                    JH_DB_TEXT(state));
  } else {
    q = stmt(s, "INSERT INTO link_changes(task_instance, connector, "
                "association, value1, value2, op, state) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (q == NULL)
      return -EIO;
    rc = JH_DB_BIND(s->db, q, JH_DB_INT(s->a->task_instance),
                    JH_DB_TEXT(s->connector->id), JH_DB_TEXT(t->name),
                    JH_DB_TEXTN(k, kl), JH_DB_TEXTN(d, dl),
                    JH_DB_TEXT(op_names[op]), JH_DB_TEXT(state));
  }
  return sql_run(s, q, rc, "writing the change tables");
}

/* Apply one change to resources or links. */
static int apply_one(syncer *s, const table *t, int op, const char *k,
                     size_t kl, const char *d, size_t dl) {
  sqlite3_stmt *q;
  int rc;
  if (t->kind == KIND_RESOURCE) {
    if (op == OP_INSERT)
      q = stmt(s, "INSERT INTO resources(entity_type, key, data) "
                  "VALUES (?1, ?2, ?3)");
    else if (op == OP_UPDATE)
      q = stmt(s, "UPDATE resources SET data = ?3 "
                  "WHERE entity_type = ?1 AND key = ?2");
    else
      q = stmt(s, "DELETE FROM resources WHERE entity_type = ?1 AND key = ?2");
    if (q == NULL)
      return -EIO;
    rc = op != OP_DELETE
             ? JH_DB_BIND(s->db, q, JH_DB_INT(t->et_id), JH_DB_TEXTN(k, kl),
                          JH_DB_BLOB(d, dl))
             : JH_DB_BIND(s->db, q, JH_DB_INT(t->et_id), JH_DB_TEXTN(k, kl));
  } else {
    if (op == OP_INSERT)
      q = stmt(s, "INSERT INTO links(association, value1, value2, connector) "
                  "VALUES (?1, ?2, ?3, ?4)");
    else
      q = stmt(s, "DELETE FROM links WHERE association = ?1 AND value1 = ?2 "
                  "AND value2 = ?3 AND ?4 IS NOT NULL");
    if (q == NULL)
      return -EIO;
    rc = JH_DB_BIND(s->db, q, JH_DB_TEXT(t->name), JH_DB_TEXTN(k, kl),
                    JH_DB_TEXTN(d, dl), JH_DB_TEXT(s->connector->id));
  }
  if (rc == 0)
    rc = jh_db_step_done(s->db, q, NULL);
  jh_db_done(s->db, q);
  if (rc != 0 && (jh_db_errcode(s->db) & 0xff) == SQLITE_CONSTRAINT)
    return fail(s, JOBHOST_ECONFIG,
                "%s '%.*s' of %s is already in the store "
                "(an initial synchronization loads an empty store: use "
                "Complete mode)",
                t->kind == KIND_RESOURCE ? "resource" : "link from", (int)kl, k,
                t->name);
  if (rc != 0)
    return db_fail(s, "applying a change");
  return 0;
}

/* The change report's kind of a change. */
static jh_change_kind change_kind(const table *t, int op) {
  if (t->kind == KIND_LINK)
    return op == OP_INSERT ? JH_CHANGE_LINK_INSERT : JH_CHANGE_LINK_DELETE;
  return op == OP_INSERT   ? JH_CHANGE_INSERT
         : op == OP_UPDATE ? JH_CHANGE_UPDATE
                           : JH_CHANGE_DELETE;
}

static int report_change(syncer *s, const table *t, int op, const char *k,
                         size_t kl, const char *d, size_t dl, const char *x,
                         size_t xl) {
  const char *word = jh_change_word(change_kind(t, op));
  if (t->kind == KIND_RESOURCE)
    return report_row(s, word, t->name, k, kl, x, op == OP_UPDATE ? xl : 0);
  return report_row(s, word, t->name, k, kl, d, dl);
}

/* Apply one change, keep it when asked, and report it. The merge of a
 * complete table may apply while its scan of the same table is running:
 * it only inserts keys before the scan's current row and deletes or
 * updates that row, and SQLite's cursors carry on from their saved
 * position. */
static int apply_change(syncer *s, const table *t, int op, const char *k,
                        size_t kl, const char *d, size_t dl, const char *x,
                        size_t xl) {
  int rc = apply_one(s, t, op, k, kl, d, dl);
  if (rc == 0 && s->a->do_not_delete_changes)
    rc = keep_change(s, t, op, k, kl, d, dl, "applied");
  if (rc == 0)
    rc = report_change(s, t, op, k, kl, d, dl, x, xl);
  return rc;
}

/* Apply (or, when hold, keep as 'held') every change of the spill. */
static int drain_spill(syncer *s, int hold) {
  char *buf = NULL;
  size_t cap = 0;
  spill_head h;
  int rc;

  if (fflush(s->spill) != 0 || fseek(s->spill, 0, SEEK_SET) != 0)
    return fail(s, -EIO, "%s: %s", s->spill_path, strerror(errno));
  while ((rc = spill_get(s, &h, &buf, &cap)) == 1) {
    const table *t = &s->tables[h.table];
    const char *k = buf, *d = buf + h.klen, *x = d + h.dlen;
    if ((rc = polled(s)) != 0)
      break;
    if (hold) {
      s->nheld++;
      rc = keep_change(s, t, h.op, k, h.klen, d, h.dlen, "held");
      if (rc == 0)
        rc = report_change(s, t, h.op, k, h.klen, d, h.dlen, x, h.xlen);
    } else {
      rc = apply_change(s, t, h.op, k, h.klen, d, h.dlen, x, h.xlen);
    }
    if (rc != 0)
      break;
  }
  free(buf);
  return rc; /* 0 at the end of the spill */
}

static void add_stats(syncer *s) {
  for (size_t i = 0; i < s->ntables; i++) {
    const table *t = &s->tables[i];
    s->stats->rows += t->rows;
    if (t->kind == KIND_RESOURCE) {
      s->stats->inserted += t->ins;
      s->stats->updated += t->upd;
      s->stats->deleted += t->del;
    } else {
      s->stats->link_inserted += t->ins;
      s->stats->link_deleted += t->del;
    }
    s->stats->unchanged += t->same;
  }
}

static int save_state(syncer *s, long long last_batch, const char *mode,
                      int64_t blocked) {
  sqlite3_stmt *q = stmt(
      s, "INSERT INTO sync_state(connector, last_batch, last_mode, "
         "last_sync_at, blocked_task_instance) VALUES (?1, ?2, ?3, ?4, ?5) "
         "ON CONFLICT(connector) DO UPDATE SET "
         "last_batch = max(last_batch, excluded.last_batch), "
         "last_mode = coalesce(excluded.last_mode, last_mode), "
         "last_sync_at = excluded.last_sync_at, "
         "blocked_task_instance = excluded.blocked_task_instance");
  if (q == NULL)
    return -EIO;
  return sql_run(s, q,
                 JH_DB_BIND(s->db, q, JH_DB_TEXT(s->connector->id),
                            JH_DB_INT(last_batch), JH_DB_TEXT(mode),
                            JH_DB_TEXT(s->now), JH_DB_ID(blocked)),
                 "saving the synchronization state");
}

static int load_state(syncer *s, long long *last, int64_t *blocked) {
  sqlite3_stmt *q = stmt(s, "SELECT last_batch, blocked_task_instance "
                            "FROM sync_state WHERE connector = ?1");
  int rc;
  *last = 0;
  *blocked = 0;
  if (q == NULL)
    return -EIO;
  rc = sql_step(s, q, JH_DB_BIND(s->db, q, JH_DB_TEXT(s->connector->id)),
                "reading the synchronization state");
  if (rc == 1) {
    *last = sqlite3_column_int64(q, 0);
    *blocked = sqlite3_column_int64(q, 1);
  }
  jh_db_done(s->db, q);
  return rc < 0 ? rc : 0;
}

/* Drop the changes a blocked instance holds (superseded). */
static int drop_held(syncer *s, int64_t instance) {
  sqlite3_stmt *q;
  const char *sql[] = {
      "DELETE FROM resource_changes WHERE task_instance = ?1 AND "
      "state = 'held'",
      "DELETE FROM link_changes WHERE task_instance = ?1 AND state = 'held'"};
  for (int i = 0; i < 2; i++) {
    int rc;
    q = stmt(s, sql[i]);
    if (q == NULL)
      return -EIO;
    rc = sql_run(s, q, JH_DB_BIND(s->db, q, JH_DB_INT(instance)),
                 "dropping held changes");
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* ---- holds: what became of the changes a Blocked run held ---- */

typedef struct hold {
  int64_t task_instance;
  int64_t job_instance; /* 0: unknown (held before jobs were recorded) */
  char state[16];       /* held, applied, superseded */
  int64_t settled_by, settled_job;
  char settled_at[32];
  char reason[256];
} hold;

/* " (job instance J)" or "" when J is unknown. */
static const char *job_words(int64_t job, char *buf, size_t size) {
  if (job <= 0)
    return "";
  snprintf(buf, size, " of job instance %" PRId64, job);
  return buf;
}

static void copy_col(sqlite3_stmt *q, int col, char *buf, size_t size) {
  const unsigned char *t = sqlite3_column_text(q, col);
  snprintf(buf, size, "%s", t != NULL ? (const char *)t : "");
}

/* The hold of a task instance: 1 found, 0 none, or an error. */
static int hold_get(syncer *s, int64_t task_instance, hold *h) {
  sqlite3_stmt *q = stmt(s, "SELECT task_instance, coalesce(job_instance, "
                            "0), state, coalesce(settled_by, 0), "
                            "coalesce(settled_job, 0), settled_at, reason "
                            "FROM holds WHERE task_instance = ?1");
  int rc;
  memset(h, 0, sizeof(*h));
  if (q == NULL)
    return -EIO;
  rc = sql_step(s, q, JH_DB_BIND(s->db, q, JH_DB_INT(task_instance)),
                "reading held changes");
  if (rc == 1) {
    h->task_instance = sqlite3_column_int64(q, 0);
    h->job_instance = sqlite3_column_int64(q, 1);
    copy_col(q, 2, h->state, sizeof(h->state));
    h->settled_by = sqlite3_column_int64(q, 3);
    h->settled_job = sqlite3_column_int64(q, 4);
    copy_col(q, 5, h->settled_at, sizeof(h->settled_at));
    copy_col(q, 6, h->reason, sizeof(h->reason));
  }
  jh_db_done(s->db, q);
  return rc;
}

/* The newest hold of the connector made by job instance job (0: none). */
static int hold_of_job(syncer *s, int64_t job, int64_t *task_instance) {
  sqlite3_stmt *q = stmt(s, "SELECT max(task_instance) FROM holds "
                            "WHERE job_instance = ?1 AND connector = ?2");
  int rc;
  *task_instance = 0;
  if (q == NULL)
    return -EIO;
  rc = sql_step(
      s, q, JH_DB_BIND(s->db, q, JH_DB_INT(job), JH_DB_TEXT(s->connector->id)),
      "reading held changes");
  if (rc == 1)
    *task_instance = sqlite3_column_int64(q, 0);
  jh_db_done(s->db, q);
  if (rc == 0) /* an aggregate always has its row */
    return fail(s, -EIO, "%s: reading held changes: no result",
                s->a->store_path);
  return rc < 0 ? rc : 0;
}

static int hold_record(syncer *s, long long seq, jh_batch_mode mode,
                       int64_t n) {
  sqlite3_stmt *q = stmt(s, "INSERT OR REPLACE INTO holds(task_instance, "
                            "connector, job_instance, batch, mode, changes, "
                            "state, held_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                            "'held', ?7)");
  if (q == NULL)
    return -EIO;
  return sql_run(s, q,
                 JH_DB_BIND(s->db, q, JH_DB_INT(s->a->task_instance),
                            JH_DB_TEXT(s->connector->id),
                            JH_DB_ID(s->a->job_instance), JH_DB_INT(seq),
                            JH_DB_TEXT(jh_batch_mode_name(mode)), JH_DB_INT(n),
                            JH_DB_TEXT(s->now)),
                 "recording held changes");
}

static int hold_settle(syncer *s, int64_t task_instance, const char *state,
                       const char *reason) {
  sqlite3_stmt *q = stmt(s, "UPDATE holds SET state = ?2, settled_by = ?3, "
                            "settled_job = ?4, settled_at = ?5, reason = ?6 "
                            "WHERE task_instance = ?1");
  if (q == NULL)
    return -EIO;
  return sql_run(s, q,
                 JH_DB_BIND(s->db, q, JH_DB_INT(task_instance),
                            JH_DB_TEXT(state), JH_DB_INT(s->a->task_instance),
                            JH_DB_ID(s->a->job_instance), JH_DB_TEXT(s->now),
                            JH_DB_TEXT(reason)),
                 "recording what became of held changes");
}

/* The number of changes task_instance still holds. */
static int held_count(syncer *s, int64_t task_instance, int64_t *n) {
  static const char *const sql[2] = {
      "SELECT count(*) FROM resource_changes WHERE task_instance = ?1 AND "
      "state = 'held'",
      "SELECT count(*) FROM link_changes WHERE task_instance = ?1 AND "
      "state = 'held'"};
  *n = 0;
  for (int i = 0; i < 2; i++) {
    sqlite3_stmt *q = stmt(s, sql[i]);
    int rc;
    if (q == NULL)
      return -EIO;
    rc = sql_step(s, q, JH_DB_BIND(s->db, q, JH_DB_INT(task_instance)),
                  "counting held changes");
    if (rc == 1)
      *n += sqlite3_column_int64(q, 0);
    jh_db_done(s->db, q);
    if (rc == 0) /* an aggregate always has its row */
      return fail(s, -EIO, "%s: counting held changes: no result",
                  s->a->store_path);
    if (rc < 0)
      return rc;
  }
  return 0;
}

/*
 * A newer batch (b) replaces what `blocked` held: the held changes are
 * discarded, the hold says by whom and why, the change report has a line
 * and the task's message a sentence.
 */
static int supersede(syncer *s, int64_t blocked, const batch *b) {
  char reason[256], jw[48], key[32], detail[64];
  hold h;
  int64_t n;
  int rc = hold_get(s, blocked, &h);
  if (rc < 0 || (rc = held_count(s, blocked, &n)) != 0)
    return rc;
  snprintf(reason, sizeof(reason),
           "batch %lld (%s) of connector %s was "
           "applied by task instance %" PRId64 "%s",
           b->seq, jh_batch_mode_name(b->mode), s->connector->id,
           s->a->task_instance, job_words(s->a->job_instance, jw, sizeof(jw)));
  logf_(s, JOBHOST_LOG_WARNING,
        "the %" PRId64 " changes held by task "
        "instance %" PRId64 "%s are discarded: %s",
        n, blocked, job_words(h.job_instance, jw, sizeof(jw)), reason);
  if ((rc = drop_held(s, blocked)) != 0 ||
      (rc = hold_settle(s, blocked, "superseded", reason)) != 0)
    return rc;
  snprintf(key, sizeof(key), "%" PRId64,
           h.job_instance > 0 ? h.job_instance : blocked);
  snprintf(detail, sizeof(detail), "%" PRId64 " held changes discarded", n);
  if ((rc = report_row(s, jh_change_word(JH_CHANGE_SUPERSEDED),
                       s->connector->id, key, strlen(key), detail,
                       strlen(detail))) != 0)
    return rc;
  s->stats->superseded += n;
  snprintf(s->stats->note, sizeof(s->stats->note),
           "superseded the %" PRId64 " changes held by %s %" PRId64, n,
           h.job_instance > 0 ? "job instance" : "task instance",
           h.job_instance > 0 ? h.job_instance : blocked);
  return 0;
}

/* Why a connector is blocked, naming the job instance to resume. */
static int blocked_by(syncer *s, int64_t blocked) {
  hold h;
  int rc = hold_get(s, blocked, &h);
  if (rc < 0)
    return rc;
  if (h.job_instance > 0)
    return fail(s, JOBHOST_EBLOCKED,
                "connector %s is blocked: job instance "
                "%" PRId64 " (task instance %" PRId64 ") holds changes over "
                "a threshold; `jobhost resume %" PRId64 "` applies them, a "
                "complete synchronization replaces them",
                s->connector->id, h.job_instance, blocked, h.job_instance);
  return fail(s, JOBHOST_EBLOCKED,
              "connector %s is blocked: task instance "
              "%" PRId64 " holds changes over a threshold; resume its job "
              "instance to apply them, or run a complete synchronization",
              s->connector->id, blocked);
}

/* ---- resume: apply what a blocked instance held ---- */

/* The op of a held change: insert, update (resources only) or delete. */
static int held_op(int kind, const char *op) {
  if (strcmp(op, "insert") == 0)
    return OP_INSERT;
  if (kind == KIND_RESOURCE && strcmp(op, "update") == 0)
    return OP_UPDATE;
  return OP_DELETE;
}

/*
 * Apply the changes of one kind (KIND_RESOURCE or KIND_LINK) held by
 * instance, read by sql as (table, key or value1, op, data or value2),
 * adding their count to *n.
 */
static int apply_held_kind(syncer *s, int64_t instance, int kind,
                           const char *sql, int64_t *n) {
  sqlite3_stmt *q = stmt(s, sql);
  int rc, step = 0;

  if (q == NULL)
    return -EIO;
  rc = JH_DB_BIND(s->db, q, JH_DB_INT(instance)) != 0
           ? db_fail(s, "reading held changes")
           : 0;
  while (rc == 0 && (step = jh_db_step(s->db, q, NULL)) == 1) {
    table *t = table_named(s, (const char *)sqlite3_column_text(q, 0));
    int o = held_op(kind, (const char *)sqlite3_column_text(q, 2));
    const char *k = (const char *)sqlite3_column_text(q, 1);
    size_t kl = (size_t)sqlite3_column_bytes(q, 1);
    const char *d = kind == KIND_RESOURCE
                        ? sqlite3_column_blob(q, 3)
                        : (const char *)sqlite3_column_text(q, 3);
    size_t dl = (size_t)sqlite3_column_bytes(q, 3);
    if (t == NULL || t->kind != kind) {
      rc = fail(s, JOBHOST_ECONFIG,
                "held %s '%s': not %s of connector '%s' "
                "any more",
                kind == KIND_RESOURCE ? "change of entity type"
                                      : "link change of",
                sqlite3_column_text(q, 0),
                kind == KIND_RESOURCE ? "a mapping" : "an association",
                s->connector->id);
      break;
    }
    rc = apply_one(s, t, o, k, kl, d, dl);
    if (rc == 0)
      rc = report_change(s, t, o, k, kl, d, dl,
                         kind == KIND_RESOURCE ? "" : NULL, 0);
    if (o == OP_INSERT)
      t->ins++;
    else if (o == OP_UPDATE)
      t->upd++;
    else
      t->del++;
    (*n)++;
  }
  if (rc == 0 && step < 0)
    rc = db_fail(s, "reading held changes");
  jh_db_done(s->db, q);
  return rc;
}

static int apply_held(syncer *s, int64_t instance) {
  sqlite3_stmt *q;
  int64_t n = 0, blocked;
  long long last;
  int rc;

  for (size_t i = 0; i < s->ntables; i++)
    s->tables[i].in_batch = 1;
  if ((rc = apply_held_kind(
           s, instance, KIND_RESOURCE,
           "SELECT entity_type, key, op, data FROM resource_changes "
           "WHERE task_instance = ?1 AND state = 'held' ORDER BY id",
           &n)) != 0 ||
      (rc = apply_held_kind(
           s, instance, KIND_LINK,
           "SELECT association, value1, op, value2 FROM link_changes "
           "WHERE task_instance = ?1 AND state = 'held' ORDER BY id",
           &n)) != 0)
    return rc;
  {
    const char *sql[2][2] = {
        {"UPDATE resource_changes SET state = 'applied' "
         "WHERE task_instance = ?1 AND state = 'held'",
         "DELETE FROM resource_changes WHERE task_instance = ?1 AND "
         "state = 'held'"},
        {"UPDATE link_changes SET state = 'applied' "
         "WHERE task_instance = ?1 AND state = 'held'",
         "DELETE FROM link_changes WHERE task_instance = ?1 AND "
         "state = 'held'"}};
    for (int i = 0; i < 2; i++) {
      q = stmt(s, sql[i][s->a->do_not_delete_changes ? 0 : 1]);
      if (q == NULL)
        return -EIO;
      rc = sql_run(s, q, JH_DB_BIND(s->db, q, JH_DB_INT(instance)),
                   "clearing held changes");
      if (rc != 0)
        return rc;
    }
  }
  logf_(s, JOBHOST_LOG_INFO,
        "validated the blocked synchronization of task "
        "instance %" PRId64 ": %" PRId64 " held changes applied",
        instance, n);
  add_stats(s);
  if ((rc = hold_settle(s, instance, "applied", "validated by resume")) != 0)
    return rc;
  jh_fault_point("sync.resume_applied");
  /* the block is lifted only when it is this instance's */
  if ((rc = load_state(s, &last, &blocked)) != 0)
    return rc;
  return save_state(s, 0, NULL, blocked == instance ? 0 : blocked);
}

/*
 * Resume: the changes held by task instance resume_of, or, when it held
 * none (an interrupted validation ran as a new task instance, or the run
 * was refused because another instance blocks the connector), those held
 * by its job instance. Held changes that were applied or superseded meanwhile
 * are not applied again; the note says what became of them.
 */
static int resume_held(syncer *s) {
  char jw[48];
  int64_t ti = s->a->resume_of, blocked;
  long long last;
  hold h;
  int rc = hold_get(s, ti, &h);

  if (rc == 0 && s->a->job_instance > 0) {
    if ((rc = hold_of_job(s, s->a->job_instance, &ti)) != 0)
      return rc;
    rc = ti > 0 ? hold_get(s, ti, &h) : 0;
  }
  if (rc < 0)
    return rc;
  if (rc == 0) { /* nothing held by this run */
    if ((rc = load_state(s, &last, &blocked)) != 0)
      return rc;
    if (blocked > 0)
      return blocked_by(s, blocked);
    snprintf(s->stats->note, sizeof(s->stats->note),
             "nothing to validate: "
             "this run held no changes of connector %s",
             s->connector->id);
    return 0;
  }
  if (strcmp(h.state, "held") == 0)
    return apply_held(s, ti);
  if (strcmp(h.state, "applied") == 0)
    snprintf(s->stats->note, sizeof(s->stats->note),
             "nothing changed: the "
             "changes held by task instance %" PRId64 " were applied on %s "
             "by task instance %" PRId64 "%s",
             ti, h.settled_at, h.settled_by,
             job_words(h.settled_job, jw, sizeof(jw)));
  else
    snprintf(s->stats->note, sizeof(s->stats->note),
             "nothing changed: the "
             "changes held by task instance %" PRId64 " were superseded on "
             "%s: %s",
             ti, h.settled_at, h.reason);
  logf_(s, JOBHOST_LOG_WARNING, "%s", s->stats->note);
  return 0;
}

/* ---- one batch ---- */

static void tables_reset(syncer *s) {
  for (size_t i = 0; i < s->ntables; i++) {
    table *t = &s->tables[i];
    t->ins = t->upd = t->del = t->same = t->rows = 0;
    t->in_batch = 0;
    t->counted = 0;
  }
}

/* 0 applied, JOBHOST_EBLOCKED held, or an error. */
static int do_batch(syncer *s, const batch *b) {
  char why[1024] = "";
  int nwhy = 0, rc;

  tables_reset(s);
  /* forced or initial: nothing can block, so no need to collect first */
  s->direct = s->a->force || b->mode == JH_BATCH_INITIAL;
  if (!s->direct && (rc = spill_open(s)) != 0)
    return rc;
  rc = diff_batch(s, b);
  for (size_t i = 0; rc == 0 && i < s->ntables; i++)
    if (!s->tables[i].counted)
      rc = count_stored(s, &s->tables[i]);
  if (rc == 0)
    rc = guard(s, b);
  if (rc == 0 && b->mode != JH_BATCH_INITIAL && !s->a->force)
    check_thresholds(s, why, sizeof(why), &nwhy);
  if (rc == 0) {
    jh_fault_point("sync.diffed");
    if (s->spill != NULL)
      rc = drain_spill(s, nwhy > 0);
    add_stats(s);
    s->stats->batches++;
  }
  spill_close(s);
  if (rc == 0 && nwhy > 0) {
    char resume[48] = "";
    rc = save_state(s, b->seq, jh_batch_mode_name(b->mode),
                    s->a->task_instance);
    if (rc == 0)
      rc = hold_record(s, b->seq, b->mode, (int64_t)s->nheld);
    if (s->a->job_instance > 0)
      snprintf(resume, sizeof(resume), " %" PRId64, s->a->job_instance);
    if (rc == 0)
      rc = fail(s, JOBHOST_EBLOCKED,
                "threshold exceeded (batch %lld, %s): "
                "%s%s; the changes are held: `jobhost resume%s` applies "
                "them, `jobhost run --force` ignores thresholds",
                b->seq, jh_batch_mode_name(b->mode), why,
                nwhy > 4 ? "; ..." : "", resume);
    return rc;
  }
  if (rc == 0) {
    rc = save_state(s, b->seq, jh_batch_mode_name(b->mode), 0);
    logf_(s, JOBHOST_LOG_INFO, "batch %lld (%s): %" PRId64 " rows", b->seq,
          jh_batch_mode_name(b->mode), s->stats->rows);
  }
  return rc;
}

/* ---- failed batches ---- */

/* The batch set aside last (0: none) and why. */
static int load_failed(syncer *s, long long *seq, char *why, size_t size) {
  sqlite3_stmt *q = stmt(s, "SELECT coalesce(failed_batch, 0), "
                            "failed_reason FROM sync_state "
                            "WHERE connector = ?1");
  int rc;
  *seq = 0;
  why[0] = '\0';
  if (q == NULL)
    return -EIO;
  rc = sql_step(s, q, JH_DB_BIND(s->db, q, JH_DB_TEXT(s->connector->id)),
                "reading the synchronization state");
  if (rc == 1) {
    *seq = sqlite3_column_int64(q, 0);
    copy_col(q, 1, why, size);
  }
  jh_db_done(s->db, q);
  return rc < 0 ? rc : 0;
}

static int clear_failed(syncer *s) {
  sqlite3_stmt *q = stmt(s, "UPDATE sync_state SET failed_batch = NULL, "
                            "failed_reason = NULL WHERE connector = ?1");
  if (q == NULL)
    return -EIO;
  return sql_run(s, q, JH_DB_BIND(s->db, q, JH_DB_TEXT(s->connector->id)),
                 "saving the synchronization state");
}

/*
 * After the rollback of a call whose batch failed on its data: the batch
 * moves to <connector>/failed/ with reason.txt, and the store remembers it,
 * so that it is never read again and no incremental batch (whose delta was
 * taken against the failed one's tables) follows it. The reason is
 * appended to err.
 */
static void set_aside(syncer *s) {
  char from[PATH_MAX], dir[PATH_MAX], to[PATH_MAX + 64], file[PATH_MAX + 80],
      text[1400];
  size_t used = s->err != NULL ? strlen(s->err) : 0;
  sqlite3_stmt *q;
  int rc;

  snprintf(dir, sizeof(dir), "%s/%s/" JH_COLLECT_FAILED, s->a->collect_dir,
           s->connector->id);
  snprintf(from, sizeof(from), "%s/%s/" JH_COLLECT_BATCHES "/%s",
           s->a->collect_dir, s->connector->id, s->failed_name);
  snprintf(to, sizeof(to), "%s/%s", dir, s->failed_name);
  snprintf(text, sizeof(text),
           "batch %lld failed on %s (task instance %" PRId64
           "): %s\nIt is never read again. Run a complete "
           "synchronization of connector %s next.\n",
           s->failed_seq, s->now, s->a->task_instance,
           s->err != NULL ? s->err : "", s->connector->id);
  if ((mkdir(dir, 0750) != 0 && errno != EEXIST) || rename(from, to) != 0) {
    logf_(s, JOBHOST_LOG_ERROR, "%s: cannot set the failed batch aside: %s",
          from, strerror(errno));
    return;
  }
  snprintf(file, sizeof(file), "%s/" JH_BATCH_REASON, to);
  (void)jh_write_file_atomic(file, text, strlen(text), 0640);
  (void)jh_fsync_dir(dir);
  rc = jh_db_begin(s->db);
  q = rc == 0 ? stmt(s, "INSERT INTO sync_state(connector, failed_batch, "
                        "failed_reason) VALUES (?1, ?2, ?3) "
                        "ON CONFLICT(connector) DO UPDATE SET "
                        "failed_batch = excluded.failed_batch, "
                        "failed_reason = excluded.failed_reason")
              : NULL;
  if (q != NULL) {
    rc = JH_DB_BIND(s->db, q, JH_DB_TEXT(s->connector->id),
                    JH_DB_INT(s->failed_seq),
                    JH_DB_TEXT(s->err != NULL ? s->err : ""));
    if (rc == 0)
      rc = jh_db_step_done(s->db, q, NULL);
    jh_db_done(s->db, q);
  }
  if (rc == 0 && q != NULL)
    rc = jh_db_commit(s->db);
  if (rc != 0 || q == NULL)
    jh_db_rollback(s->db);
  if (s->err != NULL && used < s->errsize)
    snprintf(s->err + used, s->errsize - used,
             "; the batch is set aside in "
             "%s (" JH_BATCH_REASON "): run a complete synchronization of %s "
             "next",
             to, s->connector->id);
}

/* ---- the whole call ---- */

static int run_batches(syncer *s) {
  long long last;
  int64_t was_blocked;
  hold h;
  batch *b = NULL;
  size_t nb = 0, from = 0;
  int rc;

  if ((rc = load_state(s, &last, &was_blocked)) != 0)
    return rc;
  if ((rc = list_batches(s, last, &b, &nb)) != 0)
    return rc;
  for (size_t i = 0; i < nb; i++)
    if (b[i].mode != JH_BATCH_INCREMENTAL)
      from = i;
  if (from > 0)
    logf_(s, JOBHOST_LOG_INFO,
          "%zu pending batch(es) before batch %lld (%s) "
          "are void: a complete batch supersedes them",
          from, b[from].seq, jh_batch_mode_name(b[from].mode));
  if (was_blocked > 0 && (rc = hold_get(s, was_blocked, &h)) >= 0) {
    if (rc > 0 && s->a->job_instance > 0 &&
        h.job_instance == s->a->job_instance) {
      /* this job instance blocked the connector and runs again: it is a
       * resume whose validation was cut short; finish it */
      logf_(s, JOBHOST_LOG_INFO,
            "job instance %" PRId64 " resumed: the "
            "changes its task instance %" PRId64 " held are validated",
            h.job_instance, was_blocked);
      batches_free(b, nb);
      return apply_held(s, was_blocked);
    }
    if (nb > 0 && (b[from].mode != JH_BATCH_INCREMENTAL || s->a->force))
      rc = supersede(s, was_blocked, &b[from]);
    else
      rc = blocked_by(s, was_blocked);
  }
  if (rc == 0) {
    char why[512];
    long long failed;
    rc = load_failed(s, &failed, why, sizeof(why));
    if (rc == 0 && failed > 0 && nb > 0 && b[from].mode == JH_BATCH_INCREMENTAL)
      rc = fail(s, JOBHOST_ECONFIG,
                "connector %s: batch %lld failed and was "
                "set aside (%s); an incremental batch cannot follow it: run "
                "a complete synchronization of %s",
                s->connector->id, failed, why, s->connector->id);
    else if (rc == 0 && failed > 0 && nb > 0)
      rc = clear_failed(s);
  }
  for (size_t i = from; rc == 0 && i < nb; i++) {
    rc = do_batch(s, &b[i]);
    /* a batch whose data does not fit is set aside; one the source-health
     * guard refused stays, for the operator to accept or replace */
    if (rc == JOBHOST_ECONFIG) {
      const char *name = strrchr(b[i].dir, '/');
      s->failed_seq = b[i].seq;
      snprintf(s->failed_name, sizeof(s->failed_name), "%s",
               name != NULL ? name + 1 : b[i].dir);
    }
  }
  if (rc == 0 && nb == 0)
    logf_(s, JOBHOST_LOG_INFO, "no pending batch for connector %s",
          s->connector->id);
  /* consumed batch folders go once the transaction holds them; caller
   * removes them after commit */
  batches_free(b, nb);
  return rc;
}

static void remove_consumed(syncer *s) {
  if (jh_idstore_remove_consumed(s->st, s->a->collect_dir, s->connector->id) !=
      0)
    logf_(s, JOBHOST_LOG_WARNING,
          "connector %s: consumed batches stay "
          "until the next synchronization: %s",
          s->connector->id, jh_db_errmsg(s->db));
}

/*
 * The change report follows the transaction (doc/synchronization.md):
 * before the commit the whole report is made durable as path + ".tmp"
 * and its path recorded in pending_reports inside the transaction; after
 * the commit it is renamed and the row removed. Whatever stops the
 * process in between, the next synchronization finds the row
 * (jh_idstore_settle_reports) and renames the file: a report exists
 * exactly when its transaction committed.
 */
static int report_prepare(syncer *s) {
  sqlite3_stmt *q;
  int rc;
  if (s->report == NULL)
    return 0;
  rc = jh_csv_writer_sync(s->report);
  if (rc != 0)
    return fail(s, rc, "%s: cannot write the change report: %s",
                s->a->report_path, strerror(-rc));
  q = stmt(s, "INSERT OR REPLACE INTO pending_reports(task_instance, path) "
              "VALUES (?1, ?2)");
  if (q == NULL)
    return -EIO;
  return sql_run(s, q,
                 JH_DB_BIND(s->db, q, JH_DB_INT(s->a->task_instance),
                            JH_DB_TEXT(s->a->report_path)),
                 "recording the change report");
}

/* After the commit: the report in place, its row gone. A failure is
 * logged: the row stays and the next synchronization finishes the job. */
static void report_finish(syncer *s) {
  sqlite3_stmt *q;
  int rc;
  if (s->report == NULL)
    return;
  rc = jh_csv_writer_commit(s->report);
  s->report = NULL;
  if (rc != 0) {
    logf_(s, JOBHOST_LOG_WARNING,
          "%s: the change report stays as %s" JH_CSV_TEMP_SUFFIX
          " (%s); the next synchronization puts it in "
          "place",
          s->a->report_path, s->a->report_path, strerror(-rc));
    return;
  }
  jh_fault_point("sync.after_report");
  q = stmt(s, "DELETE FROM pending_reports WHERE task_instance = ?1");
  if (q == NULL)
    return;
  rc = JH_DB_BIND(s->db, q, JH_DB_INT(s->a->task_instance));
  if (rc == 0)
    rc = jh_db_step_done(s->db, q, NULL);
  jh_db_done(s->db, q);
  if (rc != 0)
    logf_(s, JOBHOST_LOG_WARNING,
          "%s: the change report is in place, but "
          "its record stays until the next synchronization: %s",
          s->a->report_path, jh_db_errmsg(s->db));
}

/*
 * A first load into an empty store runs with a rollback journal: every
 * page it writes is new, so the journal stays tiny and the data is written
 * once, where WAL writes it twice (to the log, then into the database at
 * the checkpoint). Only when nothing at all is stored, and only if no
 * other connection is in the way (no waiting for it: the load then simply
 * stays in WAL). 1 when switched, else 0. The store goes back to WAL right
 * after the transaction (and at every open).
 */
static int bulk_journal(syncer *s) {
  sqlite3_stmt *q = jh_db_stmt(s->db, "SELECT NOT EXISTS (SELECT 1 FROM "
                                      "resources) AND NOT EXISTS (SELECT 1 "
                                      "FROM links)");
  int empty = 0, switched = 0;
  if (q != NULL && jh_db_step(s->db, q, NULL) == 1)
    empty = sqlite3_column_int(q, 0);
  jh_db_done(s->db, q);
  if (!empty)
    return 0;
  jh_db_busy(s->db, 0);
  q = jh_db_stmt(s->db, "PRAGMA journal_mode = DELETE");
  if (q != NULL && jh_db_step(s->db, q, NULL) == 1)
    switched = strcmp((const char *)sqlite3_column_text(q, 0), "delete") == 0;
  jh_db_done(s->db, q);
  jh_db_busy(s->db, -1);
  return switched;
}

int jh_sync_run(const jh_sync_args *a, jh_sync_stats *stats, char *err,
                size_t errsize) {
  syncer s;
  int rc, rc2, bulk;

  memset(&s, 0, sizeof(s));
  memset(stats, 0, sizeof(*stats));
  s.a = a;
  s.err = err;
  s.errsize = errsize;
  s.stats = stats;
  if (err != NULL && errsize > 0)
    err[0] = '\0';
  jh_time_iso(jh_now_ms(), s.now);
  s.connector = jh_model_connector(a->model, a->connector);
  if (s.connector == NULL)
    return fail(&s, JOBHOST_ECONFIG, "connector '%s' is not in the model",
                a->connector ? a->connector : "(none)");
  rc = jh_idstore_open(a->store_path, &s.st, err, errsize);
  if (rc != 0)
    return rc;
  s.db = jh_idstore_db(s.st);
  rc = jh_idstore_settle_reports(s.st, 1, err, errsize);
  if (rc > 0)
    logf_(&s, JOBHOST_LOG_INFO,
          "%d change report(s) of earlier runs put in "
          "place (their transactions had committed)",
          rc);
  if (rc < 0) {
    jh_idstore_close(s.st);
    return rc;
  }
  bulk = a->resume_of == 0 && bulk_journal(&s);
  rc = jh_idstore_exec(s.st, "BEGIN IMMEDIATE", err, errsize);
  if (rc == 0)
    rc = tables_build(&s);
  if (rc == 0 && a->report_path != NULL) {
    rc = jh_csv_writer_open(a->report_path, ',', &s.report);
    if (rc == 0)
      rc = jh_csv_write_record(s.report, jh_change_report_header,
                               JH_CHANGE_REPORT_NFIELDS);
    if (rc == 0) /* a first load reports every row: write it aside */
      (void)jh_csv_writer_background(s.report);
    if (rc != 0)
      rc = fail(&s, rc, "%s: cannot write the change report: %s",
                a->report_path, strerror(-rc));
  }
  if (rc == 0)
    rc = a->resume_of > 0 ? resume_held(&s) : run_batches(&s);
  if (rc == 0 || rc == JOBHOST_EBLOCKED) {
    /* its failure, or a failed commit's reason, replaces a threshold
     * message: nothing was held */
    rc2 = report_prepare(&s);
    if (rc2 == 0) {
      jh_fault_point("sync.before_commit");
      rc2 = jh_idstore_exec(s.st, "COMMIT", err, errsize);
    }
    if (rc2 != 0) {
      jh_idstore_exec(s.st, "ROLLBACK", NULL, 0);
      rc = rc2;
    } else {
      /* committed, the host not told yet: it learns it from the stores */
      jh_fault_point("sync.before_notice");
      if (a->committed != NULL)
        a->committed(a->arg, rc == JOBHOST_EBLOCKED, stats);
    }
  } else {
    jh_idstore_exec(s.st, "ROLLBACK", NULL, 0);
    if (s.failed_seq > 0)
      set_aside(&s);
  }
  if (bulk)
    jh_idstore_exec(s.st, "PRAGMA journal_mode = WAL", NULL, 0);
  stats->applied = rc == 0 &&
                   (stats->inserted || stats->updated || stats->deleted ||
                    stats->link_inserted || stats->link_deleted);
  if (rc == 0 || rc == JOBHOST_EBLOCKED) {
    jh_fault_point("sync.after_commit");
    report_finish(&s);
  } else if (s.report != NULL) {
    jh_csv_writer_abort(s.report);
  }
  s.report = NULL;
  if (rc == 0 || rc == JOBHOST_EBLOCKED)
    remove_consumed(&s);
  if (rc != 0) {
    /* a failed call changed nothing: its counts would mislead */
    if (rc != JOBHOST_EBLOCKED)
      memset(stats, 0, sizeof(*stats));
  }
  for (size_t i = 0; i < s.ntables; i++)
    free(s.tables[i].props);
  free(s.tables);
  free(s.enc);
  free(s.names);
  jh_idstore_close(s.st);
  return rc;
}

/* ---- SetRecentlyModifiedFlagTask ---- */

int jh_sync_mark_dirty(const char *store_path, int64_t *flagged,
                       int64_t *cleared, char *err, size_t errsize) {
  static const char *const steps[] = {
      "UPDATE resources SET dirty = 7 WHERE (entity_type, key) IN ("
      " SELECT e.id, c.key FROM resource_changes c"
      " JOIN entity_types e ON e.name = c.entity_type"
      " WHERE c.state = 'applied')",
      "DELETE FROM resource_changes WHERE state = 'applied'",
      "DELETE FROM link_changes WHERE state = 'applied'"};
  jh_idstore *st = NULL;
  int rc = jh_idstore_open(store_path, &st, err, errsize);

  *flagged = *cleared = 0;
  if (rc != 0)
    return rc;
  rc = jh_idstore_exec(st, "BEGIN IMMEDIATE", err, errsize);
  for (int i = 0; rc == 0 && i < 3; i++) {
    rc = jh_idstore_exec(st, steps[i], err, errsize);
    if (rc == 0 && i == 0)
      *flagged = jh_db_changes(jh_idstore_db(st));
    else if (rc == 0)
      *cleared += jh_db_changes(jh_idstore_db(st));
  }
  if (rc == 0)
    rc = jh_idstore_exec(st, "COMMIT", err, errsize);
  if (rc != 0) {
    jh_idstore_exec(st, "ROLLBACK", NULL, 0);
    *flagged = *cleared = 0;
  }
  jh_idstore_close(st);
  return rc;
}
