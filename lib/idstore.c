/*
 * idstore.c — see idstore.h.
 */
#include "config.h"

#include "idstore.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array.h"
#include "atomic_file.h"
#include "collect_batch.h"
#include "csv.h"
#include "db.h"

struct jh_idstore {
  jh_db *db;
  struct {
    void *p;
    size_t cap;
  } scratch[JH_IDSTORE_SCRATCH];
};

/* The connection settings of the identity store. A synchronization's
 * changes stay in the page cache until its commit instead of spilling to
 * the WAL as they are made: 32 MiB, a bounded share of the memory,
 * whatever the size of the store. */
static const jh_db_config store_config = {
    .busy_ms = JH_IDSTORE_BUSY_MS,
    .cache_size = JH_IDSTORE_CACHE,
    .page_size = JH_IDSTORE_PAGE_SIZE,
    .single_thread = 1,
};

/* A read-only look at a store that may not exist yet. */
static const jh_db_config peek_config = {
    .busy_ms = JH_IDSTORE_BUSY_MS,
    .read_only = 1,
    .single_thread = 1,
};

/* Whether an assignment (a row of assignments) is Pending and went out
 * with an order written after its last write: then it is Transmitted,
 * and so are its Pending values. The order ids only grow (no order row
 * is ever deleted), so "after its last write" is "an id above since". */
#define SENT_SQL                                                               \
  "(state = 1 AND since < (SELECT coalesce(max(id), 0) FROM orders) AND "      \
  "EXISTS(SELECT 1 FROM orders AS o WHERE o.assignment = assignments.id "      \
  "AND o.id > assignments.since))"

/* Migrations: migrations[i] takes the schema from version i to i + 1. */
static const char *const migrations[] = {
    "CREATE TABLE entity_types(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL UNIQUE,\n"
    "  connector TEXT NOT NULL);\n"
    "CREATE TABLE properties(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL UNIQUE);\n"
    "CREATE TABLE resources(\n"
    "  entity_type INTEGER NOT NULL,\n"
    "  key TEXT NOT NULL,\n"
    "  data BLOB NOT NULL,\n"
    "  dirty INTEGER NOT NULL DEFAULT 0,\n"
    "  PRIMARY KEY(entity_type, key)) WITHOUT ROWID;\n"
    "CREATE TABLE links(\n"
    "  association TEXT NOT NULL,\n"
    "  value1 TEXT NOT NULL,\n"
    "  value2 TEXT NOT NULL,\n"
    "  connector TEXT NOT NULL,\n"
    "  PRIMARY KEY(association, value1, value2)) WITHOUT ROWID;\n"
    "CREATE TABLE resource_changes(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  task_instance INTEGER NOT NULL,\n"
    "  connector TEXT NOT NULL,\n"
    "  entity_type TEXT NOT NULL,\n"
    "  key TEXT NOT NULL,\n"
    "  op TEXT NOT NULL CHECK(op IN ('insert', 'update', 'delete')),\n"
    "  data BLOB,\n"
    "  state TEXT NOT NULL CHECK(state IN ('held', 'applied')));\n"
    "CREATE INDEX resource_changes_by_task ON "
    "resource_changes(task_instance);\n"
    "CREATE TABLE link_changes(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  task_instance INTEGER NOT NULL,\n"
    "  connector TEXT NOT NULL,\n"
    "  association TEXT NOT NULL,\n"
    "  value1 TEXT NOT NULL,\n"
    "  value2 TEXT NOT NULL,\n"
    "  op TEXT NOT NULL CHECK(op IN ('insert', 'delete')),\n"
    "  state TEXT NOT NULL CHECK(state IN ('held', 'applied')));\n"
    "CREATE INDEX link_changes_by_task ON link_changes(task_instance);\n"
    "CREATE TABLE sync_state(\n"
    "  connector TEXT PRIMARY KEY COLLATE NOCASE,\n"
    "  last_batch INTEGER NOT NULL DEFAULT 0,\n"
    "  last_mode TEXT,\n"
    "  last_sync_at TEXT,\n"
    "  blocked_task_instance INTEGER);\n",
    /* 2: what became of each set of held changes, and the change reports
     * whose transaction committed before their file was in place */
    "CREATE TABLE holds(\n"
    "  task_instance INTEGER PRIMARY KEY,\n"
    "  connector TEXT NOT NULL COLLATE NOCASE,\n"
    "  job_instance INTEGER,\n"
    "  batch INTEGER NOT NULL,\n"
    "  mode TEXT NOT NULL,\n"
    "  changes INTEGER NOT NULL,\n"
    "  state TEXT NOT NULL CHECK(state IN ('held', 'applied', "
    "'superseded')),\n"
    "  held_at TEXT,\n"
    "  settled_by INTEGER,\n"
    "  settled_job INTEGER,\n"
    "  settled_at TEXT,\n"
    "  reason TEXT);\n"
    "INSERT INTO holds(task_instance, connector, batch, mode, changes, "
    "state, held_at)\n"
    "  SELECT blocked_task_instance, connector, last_batch,\n"
    "         coalesce(last_mode, 'complete'),\n"
    "         (SELECT count(*) FROM resource_changes c WHERE"
    " c.task_instance = blocked_task_instance AND c.state = 'held') +\n"
    "         (SELECT count(*) FROM link_changes c WHERE"
    " c.task_instance = blocked_task_instance AND c.state = 'held'),\n"
    "         'held', last_sync_at\n"
    "  FROM sync_state WHERE blocked_task_instance IS NOT NULL;\n"
    "CREATE TABLE pending_reports(\n"
    "  task_instance INTEGER PRIMARY KEY,\n"
    "  path TEXT NOT NULL);\n"
    "ALTER TABLE sync_state ADD COLUMN failed_batch INTEGER;\n"
    "ALTER TABLE sync_state ADD COLUMN failed_reason TEXT;\n",
    /* 3: the provisioning tables (lib/provstore.c, doc/provisioning.md);
     * dirty becomes a bit mask, a resource flagged before now flagged for
     * every consumer */
    "UPDATE resources SET dirty = 7 WHERE dirty <> 0;\n"
    "CREATE TABLE computed(\n"
    "  entity_type INTEGER NOT NULL,\n"
    "  key TEXT NOT NULL,\n"
    "  data BLOB NOT NULL,\n"
    "  dirty INTEGER NOT NULL DEFAULT 0,\n"
    "  PRIMARY KEY(entity_type, key)) WITHOUT ROWID;\n"
    "CREATE TABLE correlation_keys(\n"
    "  resource_type TEXT NOT NULL,\n"
    "  rule INTEGER NOT NULL,\n"
    "  side INTEGER NOT NULL CHECK(side IN (0, 1)),\n"
    "  key TEXT NOT NULL,\n"
    "  value TEXT NOT NULL,\n"
    "  PRIMARY KEY(resource_type, rule, side, key)) WITHOUT ROWID;\n"
    "CREATE INDEX correlation_keys_by_value ON\n"
    "  correlation_keys(resource_type, rule, side, value);\n"
    "CREATE TABLE assignments(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  resource_type TEXT NOT NULL,\n"
    "  owner_key TEXT,\n"
    "  target_key TEXT,\n"
    "  change_type INTEGER NOT NULL CHECK(change_type BETWEEN 0 AND 3),\n"
    "  state INTEGER NOT NULL CHECK(state BETWEEN 0 AND 8),\n"
    "  workflow_state INTEGER NOT NULL DEFAULT 0,\n"
    "  confidence INTEGER NOT NULL DEFAULT 0,\n"
    "  policy_hash TEXT,\n"
    "  declined_hash TEXT,\n"
    "  message TEXT,\n"
    "  updated_at TEXT NOT NULL,\n"
    "  task_instance INTEGER,\n"
    "  vals BLOB NOT NULL,\n"
    "  CHECK(owner_key IS NOT NULL OR target_key IS NOT NULL));\n"
    "CREATE UNIQUE INDEX assignments_by_owner ON\n"
    "  assignments(resource_type, owner_key) WHERE owner_key IS NOT NULL;\n"
    "CREATE UNIQUE INDEX assignments_by_target ON\n"
    "  assignments(resource_type, target_key) WHERE target_key IS NOT NULL;\n"
    "CREATE TABLE assignment_history(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  assignment INTEGER NOT NULL,\n"
    "  change_type INTEGER NOT NULL,\n"
    "  state INTEGER NOT NULL,\n"
    "  vals BLOB NOT NULL,\n"
    "  valid_to TEXT NOT NULL,\n"
    "  task_instance INTEGER);\n"
    "CREATE INDEX assignment_history_by_assignment ON\n"
    "  assignment_history(assignment);\n"
    "CREATE TABLE orders(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  assignment INTEGER NOT NULL,\n"
    "  change_type INTEGER NOT NULL CHECK(change_type BETWEEN 0 AND 3),\n"
    "  task_instance INTEGER,\n"
    "  file TEXT NOT NULL,\n"
    "  written_at TEXT NOT NULL);\n"
    "CREATE INDEX orders_by_file ON orders(file);\n"
    "CREATE TABLE reviews(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  assignment INTEGER NOT NULL,\n"
    "  decision TEXT NOT NULL CHECK(decision IN ('approved', 'declined')),\n"
    "  policy_hash TEXT,\n"
    "  decided_at TEXT NOT NULL);\n"
    "CREATE INDEX reviews_by_assignment ON reviews(assignment);\n",
    /* 4: classification results and orphans, profile assignments
     * (lib/provstore_classify.c, doc/classification.md) */
    "CREATE TABLE classifications(\n"
    "  entity_type TEXT NOT NULL,\n"
    "  key TEXT NOT NULL,\n"
    "  resource_type TEXT,\n"
    "  confidence INTEGER NOT NULL DEFAULT 0\n"
    "    CHECK(confidence BETWEEN 0 AND 150),\n"
    "  rule TEXT,\n"
    "  task_instance INTEGER,\n"
    "  updated_at TEXT NOT NULL,\n"
    "  CHECK(resource_type IS NOT NULL OR confidence = 0),\n"
    "  PRIMARY KEY(entity_type, key)) WITHOUT ROWID;\n"
    "CREATE TABLE profile_assignments(\n"
    "  entity_type TEXT NOT NULL,\n"
    "  key TEXT NOT NULL,\n"
    "  profile TEXT NOT NULL,\n"
    "  scope TEXT NOT NULL DEFAULT '',\n"
    "  task_instance INTEGER,\n"
    "  assigned_at TEXT NOT NULL,\n"
    "  PRIMARY KEY(entity_type, key, profile, scope)) WITHOUT ROWID;\n",
    /* 5: an order file named once, in order_files, rather than on each of
     * its orders (which then need no index); correlation keys indexed by
     * value on the target side only, the only side looked up by value
     * (doc/provisioning.md) */
    "CREATE TABLE order_files(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  path TEXT NOT NULL UNIQUE,\n"
    "  task_instance INTEGER,\n"
    "  written_at TEXT NOT NULL);\n"
    "INSERT INTO order_files(path, task_instance, written_at)\n"
    "  SELECT file, max(task_instance), min(written_at) FROM orders\n"
    "  GROUP BY file ORDER BY min(id);\n"
    "CREATE TABLE orders_5(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  assignment INTEGER NOT NULL,\n"
    "  change_type INTEGER NOT NULL CHECK(change_type BETWEEN 0 AND 3),\n"
    "  file INTEGER NOT NULL);\n"
    "INSERT INTO orders_5(id, assignment, change_type, file)\n"
    "  SELECT o.id, o.assignment, o.change_type, f.id FROM orders o\n"
    "  JOIN order_files f ON f.path = o.file;\n"
    "DROP TABLE orders;\n"
    "ALTER TABLE orders_5 RENAME TO orders;\n"
    "DROP INDEX correlation_keys_by_value;\n"
    "CREATE INDEX correlation_keys_by_value ON\n"
    "  correlation_keys(resource_type, rule, value) WHERE side = 1;\n",
    /* 6: recording an order no longer rewrites its assignment: a Pending
     * assignment with an order newer than its last write (since: the
     * last order id then) is Transmitted, and so are its Pending values;
     * assignment_states says so (doc/provisioning.md, "Transmitted") */
    "ALTER TABLE assignments ADD COLUMN since INTEGER NOT NULL DEFAULT 0;\n"
    "UPDATE assignments SET since = (SELECT coalesce(max(id), 0) FROM "
    "orders)\n"
    "  WHERE state = 1;\n"
    "CREATE INDEX orders_by_assignment ON orders(assignment, id);\n"
    "CREATE VIEW assignment_states AS SELECT id, resource_type, owner_key,\n"
    "  target_key, change_type,\n"
    "  CASE WHEN " SENT_SQL " THEN 2 ELSE state END AS state,\n"
    "  workflow_state, confidence, policy_hash, declined_hash, message,\n"
    "  updated_at, task_instance, vals, since, " SENT_SQL " AS sent\n"
    "  FROM assignments;\n",
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == JH_IDSTORE_SCHEMA,
               "one migration per schema version");

void jh_idstore_name_resource(char *err, size_t size, const char *et,
                              const char *key, size_t len) {
  char head[256];
  size_t n, have;
  snprintf(head, sizeof(head), "%s %.*s: ", et, (int)(len > 160 ? 160 : len),
           key);
  n = strlen(head);
  if (size <= n)
    return;
  have = strnlen(err, size - 1);
  if (n + have >= size)
    have = size - 1 - n;
  memmove(err + n, err, have);
  memcpy(err, head, n);
  err[n + have] = '\0';
}

int jh_idstore_fail(char *err, size_t errsize, int rc, const char *fmt, ...) {
  va_list ap;
  if (err != NULL && errsize > 0) {
    va_start(ap, fmt);
    vsnprintf(err, errsize, fmt, ap);
    va_end(ap);
  }
  return rc;
}

int jh_idstore_db_fail(jh_idstore *s, char *err, size_t errsize) {
  int rc = (jh_db_errcode(s->db) & 0xff) == SQLITE_NOMEM ? -ENOMEM : -EIO;
  return jh_idstore_fail(err, errsize, rc, "%s: %s", jh_db_path(s->db),
                         jh_db_errmsg(s->db));
}

/* The store's file and the database layer's last failure. */
static int db_fail(jh_idstore *s, char *err, size_t errsize, int rc) {
  return jh_idstore_fail(err, errsize, rc, "%s: %s", jh_db_path(s->db),
                         jh_db_errmsg(s->db));
}

int jh_idstore_exec(jh_idstore *s, const char *sql, char *err, size_t errsize) {
  int rc = jh_db_exec(s->db, sql, NULL);
  return rc == 0 ? 0 : db_fail(s, err, errsize, rc);
}

int jh_idstore_cache_size(jh_idstore *s, int kib, char *err, size_t errsize) {
  char sql[64];
  snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", kib);
  return jh_idstore_exec(s, sql, err, errsize);
}

static int migrate(jh_idstore *s, char *err, size_t errsize) {
  const int want = (int)(sizeof(migrations) / sizeof(migrations[0]));
  int have, rc = jh_db_migrate(s->db, migrations, want, &have);
  if (rc == -EPROTO)
    return jh_idstore_fail(
        err, errsize, rc,
        "%s: identity store schema %d is "
        "newer than this jobhost's (%d): use a newer jobhost",
        jh_db_path(s->db), have, want);
  return rc == 0 ? 0 : db_fail(s, err, errsize, rc);
}

int jh_idstore_open(const char *path, jh_idstore **out, char *err,
                    size_t errsize) {
  jh_idstore *s = calloc(1, sizeof(*s));
  char why[384];
  int rc;

  *out = NULL;
  if (s == NULL)
    return jh_idstore_fail(err, errsize, -ENOMEM, "out of memory");
  rc = jh_db_open(path, &store_config, &s->db, why, sizeof(why));
  if (rc != 0) {
    free(s);
    return jh_idstore_fail(err, errsize, rc,
                           "%s: cannot open the identity store: %s", path, why);
  }
  if ((rc = migrate(s, err, errsize)) != 0) {
    jh_idstore_close(s);
    return rc;
  }
  *out = s;
  return 0;
}

void jh_idstore_close(jh_idstore *s) {
  if (s == NULL)
    return;
  jh_db_close(s->db);
  for (int i = 0; i < JH_IDSTORE_SCRATCH; i++)
    free(s->scratch[i].p);
  free(s);
}

jh_db *jh_idstore_db(jh_idstore *s) { return s->db; }

void *jh_idstore_scratch(jh_idstore *s, int slot, size_t size) {
  if (slot < 0 || slot >= JH_IDSTORE_SCRATCH)
    return NULL;
  if (size == 0)
    size = 1;
  if (jh_array_reserve(&s->scratch[slot].p, &s->scratch[slot].cap, size, 1,
                       256) != 0)
    return NULL;
  return s->scratch[slot].p;
}

/* Run an upsert that returns the row's id. */
static int upsert_id(jh_idstore *s, const char *sql, const char *name,
                     const char *connector, int64_t *id) {
  sqlite3_stmt *st = jh_db_stmt(s->db, sql);
  int rc;
  if (st == NULL)
    return -EIO;
  rc = connector != NULL
           ? JH_DB_BIND(s->db, st, JH_DB_TEXT(name), JH_DB_TEXT(connector))
           : JH_DB_BIND(s->db, st, JH_DB_TEXT(name));
  if (rc == 0 && (rc = jh_db_step(s->db, st, NULL)) == 0)
    rc = jh_db_fail(s->db, -EIO, "no id returned");
  if (rc == 1) {
    *id = sqlite3_column_int64(st, 0);
    rc = 0;
  }
  jh_db_done(s->db, st);
  return rc;
}

int jh_idstore_entity_type(jh_idstore *s, const char *name,
                           const char *connector, int64_t *id, char *err,
                           size_t errsize) {
  int rc = upsert_id(
      s,
      "INSERT INTO entity_types(name, connector) VALUES (?1, ?2) "
      "ON CONFLICT(name) DO UPDATE SET connector = excluded.connector "
      "RETURNING id",
      name, connector, id);
  if (rc != 0)
    return jh_idstore_fail(err, errsize, -EIO, "%s: entity type '%s': %s",
                           jh_db_path(s->db), name, jh_db_errmsg(s->db));
  return 0;
}

int jh_idstore_property(jh_idstore *s, const char *name, uint32_t *id,
                        char *err, size_t errsize) {
  int64_t v;
  int rc = upsert_id(
      s,
      "INSERT INTO properties(name) VALUES (?1) "
      "ON CONFLICT(name) DO UPDATE SET name = excluded.name RETURNING id",
      name, NULL, &v);
  if (rc != 0)
    return jh_idstore_fail(err, errsize, -EIO, "%s: property '%s': %s",
                           jh_db_path(s->db), name, jh_db_errmsg(s->db));
  if (v <= 0 || v > UINT32_MAX)
    return jh_idstore_fail(err, errsize, -ERANGE,
                           "%s: property '%s' has number %lld",
                           jh_db_path(s->db), name, (long long)v);
  *id = (uint32_t)v;
  return 0;
}

int jh_idstore_property_name(jh_idstore *s, uint32_t id, char **name, char *err,
                             size_t errsize) {
  sqlite3_stmt *q = jh_db_stmt(s->db,
                               "SELECT name FROM properties WHERE id = ?1");
  int rc = q == NULL ? -EIO : JH_DB_BIND(s->db, q, JH_DB_INT(id));

  *name = NULL;
  if (rc == 0 && (rc = jh_db_step(s->db, q, NULL)) == 1) {
    *name = strdup((const char *)sqlite3_column_text(q, 0));
    if (*name == NULL)
      rc = -ENOMEM;
  }
  if (rc < 0 && rc != -ENOMEM)
    rc = jh_idstore_fail(err, errsize, -EIO, "%s: property %u: %s",
                         jh_db_path(s->db), (unsigned)id, jh_db_errmsg(s->db));
  else if (rc == -ENOMEM)
    rc = jh_idstore_fail(err, errsize, rc, "out of memory");
  jh_db_done(s->db, q);
  return rc;
}

/* ---- value encoding ---- */

static size_t put_varint(char *p, uint64_t v) {
  size_t n = 0;
  do {
    unsigned char b = v & 0x7f;
    v >>= 7;
    p[n++] = (char)(v ? b | 0x80 : b);
  } while (v);
  return n;
}

static int get_varint(const char **p, const char *end, uint64_t *v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 64 && *p < end; shift += 7) {
    unsigned char b = (unsigned char)*(*p)++;
    r |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *v = r;
      return 0;
    }
  }
  return -EILSEQ;
}

size_t jh_idstore_encode(const jh_idstore_value *values, size_t n, char **buf,
                         size_t *cap) {
  size_t need = 0, o = 0;
  for (size_t i = 0; i < n; i++)
    if (values[i].length > 0)
      need += values[i].length + 15;
  if (need > *cap || *buf == NULL) {
    size_t ncap = need < 256 ? 256 : need * 2;
    char *g = realloc(*buf, ncap);
    if (g == NULL)
      return (size_t)-1;
    *buf = g;
    *cap = ncap;
  }
  for (size_t i = 0; i < n; i++) {
    if (values[i].length == 0)
      continue;
    o += put_varint(*buf + o, values[i].prop);
    o += put_varint(*buf + o, values[i].length);
    memcpy(*buf + o, values[i].value, values[i].length);
    o += values[i].length;
  }
  return o;
}

void jh_idstore_sort_props(const uint32_t *props, size_t n, size_t *order) {
  /* insertion sort: a mapping has a handful of properties */
  for (size_t i = 0; i < n; i++)
    order[i] = i;
  for (size_t i = 1; i < n; i++) {
    size_t v = order[i], j = i;
    while (j > 0 && props[order[j - 1]] > props[v]) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = v;
  }
}

int jh_idstore_decode(const void *data, size_t len,
                      int (*fn)(void *arg, uint32_t prop, const char *value,
                                size_t vlen),
                      void *arg) {
  const char *p = data, *end = p + len;
  while (p < end) {
    uint64_t prop, vlen;
    int rc;
    if (get_varint(&p, end, &prop) != 0 || get_varint(&p, end, &vlen) != 0 ||
        vlen > (uint64_t)(end - p) || prop > UINT32_MAX)
      return -EILSEQ;
    rc = fn(arg, (uint32_t)prop, p, (size_t)vlen);
    if (rc != 0)
      return rc;
    p += vlen;
  }
  return 0;
}

/* ---- change reports whose transaction committed ---- */

static int settle_one(const char *path) {
  char tmp[4096];
  char dir[4096];
  char *slash;
  if (snprintf(tmp, sizeof(tmp), "%s" JH_CSV_TEMP_SUFFIX, path) >=
      (int)sizeof(tmp))
    return -ENAMETOOLONG;
  if (access(tmp, F_OK) != 0)
    return 0; /* renamed already (or never made: nothing to keep) */
  if (rename(tmp, path) != 0)
    return -errno;
  snprintf(dir, sizeof(dir), "%s", path);
  slash = strrchr(dir, '/');
  if (slash != NULL && slash != dir) {
    *slash = '\0';
    (void)jh_fsync_dir(dir);
  }
  return 1;
}

/* Remove the row of a settled report. 0, 1 when another writer holds the
 * store and wait is 0 (the row stays for a later call), or -EIO. */
static int forget_report(jh_idstore *s, int64_t task_instance, int wait) {
  sqlite3_stmt *del = jh_db_stmt(
      s->db, "DELETE FROM pending_reports WHERE task_instance = ?1");
  int rc;
  if (del == NULL)
    return -EIO;
  rc = JH_DB_BIND(s->db, del, JH_DB_INT(task_instance));
  if (rc == 0)
    rc = jh_db_step_done(s->db, del, NULL);
  jh_db_done(s->db, del);
  if (rc != 0 && !wait && (jh_db_errcode(s->db) & 0xff) == SQLITE_BUSY)
    return 1;
  return rc;
}

/* Settle the reports listed by q; the number renamed, or an error. */
static int settle_rows(jh_idstore *s, sqlite3_stmt *q, int wait, char *err,
                       size_t errsize) {
  int n = 0, step;
  while ((step = jh_db_step(s->db, q, NULL)) == 1) {
    const char *path = (const char *)sqlite3_column_text(q, 1);
    int one = settle_one(path), rc;
    if (one < 0)
      return jh_idstore_fail(err, errsize, one,
                             "%s" JH_CSV_TEMP_SUFFIX ": cannot put "
                             "the change report in place: %s",
                             path, strerror(-one));
    n += one;
    rc = forget_report(s, sqlite3_column_int64(q, 0), wait);
    if (rc < 0)
      return jh_idstore_fail(err, errsize, -EIO,
                             "%s: pending change reports: %s",
                             jh_db_path(s->db), jh_db_errmsg(s->db));
  }
  if (step < 0)
    return jh_idstore_fail(err, errsize, -EIO, "%s: pending change reports: %s",
                           jh_db_path(s->db), jh_db_errmsg(s->db));
  return n;
}

int jh_idstore_settle_reports(jh_idstore *s, int wait, char *err,
                              size_t errsize) {
  sqlite3_stmt *q = jh_db_stmt(s->db, "SELECT task_instance, path FROM "
                                      "pending_reports ORDER BY task_instance");
  int rc;
  if (q == NULL)
    return jh_idstore_fail(err, errsize, -EIO, "%s: pending change reports: %s",
                           jh_db_path(s->db), jh_db_errmsg(s->db));
  if (!wait)
    jh_db_busy(s->db, 0);
  rc = settle_rows(s, q, wait, err, errsize);
  jh_db_done(s->db, q);
  jh_db_busy(s->db, -1);
  return rc;
}

/* ---- batches consumed by a committed transaction ---- */

static long long last_batch(jh_idstore *s, const char *connector) {
  sqlite3_stmt *q = jh_db_stmt(s->db, "SELECT coalesce(last_batch, 0) FROM "
                                      "sync_state WHERE connector = ?1");
  long long last = -1;
  int rc;
  if (q == NULL)
    return -1;
  rc = JH_DB_BIND(s->db, q, JH_DB_TEXT(connector));
  if (rc == 0)
    rc = jh_db_step(s->db, q, NULL);
  if (rc == 1)
    last = sqlite3_column_int64(q, 0);
  else if (rc == 0)
    last = 0;
  jh_db_done(s->db, q);
  return last;
}

int jh_idstore_remove_consumed(jh_idstore *s, const char *collect_dir,
                               const char *connector) {
  char dir[4096];
  long long last = last_batch(s, connector);
  DIR *d;
  struct dirent *e;

  if (last < 0)
    return -EIO;
  snprintf(dir, sizeof(dir), "%s/%s/" JH_COLLECT_BATCHES, collect_dir,
           connector);
  d = opendir(dir);
  if (d == NULL)
    return 0;
  while ((e = readdir(d)) != NULL) {
    char p[4096 + 256];
    long long seq;
    if (!jh_batch_name_parse(e->d_name, &seq, NULL) || seq > last)
      continue;
    snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
    (void)jh_remove_tree(p);
  }
  closedir(d);
  return 0;
}

/* Remove the consumed batches of every connector of the store. */
static int remove_all_consumed(jh_idstore *s, const char *collect_dir,
                               char *err, size_t errsize) {
  sqlite3_stmt *q = jh_db_stmt(s->db, "SELECT connector FROM sync_state");
  int rc = 0, step;
  if (q == NULL)
    return jh_idstore_fail(err, errsize, -EIO, "%s: synchronization state: %s",
                           jh_db_path(s->db), jh_db_errmsg(s->db));
  while (rc == 0 && (step = jh_db_step(s->db, q, NULL)) == 1) {
    char *connector = strdup((const char *)sqlite3_column_text(q, 0));
    if (connector == NULL)
      rc = -ENOMEM;
    else
      rc = jh_idstore_remove_consumed(s, collect_dir, connector);
    free(connector);
    if (rc != 0 && rc != -ENOMEM)
      rc = jh_idstore_fail(err, errsize, rc, "%s: synchronization state: %s",
                           jh_db_path(s->db), jh_db_errmsg(s->db));
  }
  jh_db_done(s->db, q);
  return rc;
}

int jh_idstore_finish_committed(const char *path, const char *collect_dir,
                                char *err, size_t errsize) {
  jh_idstore *s = NULL;
  int rc = jh_idstore_open(path, &s, err, errsize);

  if (rc != 0)
    return rc;
  rc = jh_idstore_settle_reports(s, 0, err, errsize);
  if (rc >= 0 && collect_dir != NULL)
    rc = remove_all_consumed(s, collect_dir, err, errsize);
  jh_idstore_close(s);
  return rc < 0 ? rc : 0;
}

/* Step q, bound already, for one row: 1 found, 0 none, -EIO. */
static int one_row(jh_db *db, sqlite3_stmt *q, int bound) {
  int rc = bound == 0 ? jh_db_step(db, q, NULL) : bound;
  return rc < 0 ? -EIO : rc;
}

int jh_idstore_held_by(const char *path, int64_t task_instance) {
  jh_idstore *s = NULL;
  sqlite3_stmt *q;
  int rc = jh_idstore_open(path, &s, NULL, 0);
  if (rc != 0)
    return -EIO;
  q = jh_db_stmt(s->db, "SELECT 1 FROM holds WHERE task_instance = ?1");
  rc = q == NULL
           ? -EIO
           : one_row(s->db, q, JH_DB_BIND(s->db, q, JH_DB_INT(task_instance)));
  jh_db_done(s->db, q);
  jh_idstore_close(s);
  return rc;
}

int jh_idstore_is_pending_report(jh_idstore *s, const char *path) {
  sqlite3_stmt *q = jh_db_stmt(s->db,
                               "SELECT 1 FROM pending_reports WHERE path = ?1");
  int found = q != NULL &&
              one_row(s->db, q, JH_DB_BIND(s->db, q, JH_DB_TEXT(path))) == 1;
  jh_db_done(s->db, q);
  return found;
}

/* Open the store at path read-only, when it exists: 0 and *db (NULL when
 * there is no store), or -EIO with the reason in why. */
static int peek_open(const char *path, int busy_ms, jh_db **db, char *why,
                     size_t size) {
  jh_db_config cfg = peek_config;
  char reason[384];
  int rc;
  *db = NULL;
  if (access(path, F_OK) != 0)
    return 0;
  cfg.busy_ms = busy_ms;
  rc = jh_db_open(path, &cfg, db, reason, sizeof(reason));
  if (rc != 0)
    return jh_idstore_fail(why, size, -EIO,
                           "%s: cannot open the identity store: %s", path,
                           reason);
  return 0;
}

int jh_idstore_failed_batch(const char *path, const char *connector,
                            long long *seq, char *why, size_t size) {
  jh_db *db = NULL;
  sqlite3_stmt *q;
  int rc;

  *seq = 0;
  if (size > 0)
    why[0] = '\0';
  if ((rc = peek_open(path, JH_IDSTORE_BUSY_MS, &db, why, size)) != 0 ||
      db == NULL)
    return rc; /* no store: nothing ever failed */
  q = jh_db_stmt(db, "SELECT failed_batch, failed_reason FROM sync_state "
                     "WHERE connector = ?1 AND failed_batch IS NOT NULL");
  /* a store older than failed batches (or not made yet) has none */
  rc = q == NULL ? 0 : JH_DB_BIND(db, q, JH_DB_TEXT(connector));
  if (q != NULL && rc == 0 && (rc = jh_db_step(db, q, NULL)) == 1) {
    const unsigned char *r = sqlite3_column_text(q, 1);
    *seq = sqlite3_column_int64(q, 0);
    snprintf(why, size, "%s", r != NULL ? (const char *)r : "");
    rc = 0;
  }
  if (rc < 0)
    rc = jh_idstore_fail(why, size, -EIO, "%s: %s", path, jh_db_errmsg(db));
  jh_db_done(db, q);
  jh_db_close(db);
  return rc;
}

/* The task instance that blocks connector (0: none). */
static int blocking_task(jh_db *db, const char *connector, int64_t *task) {
  sqlite3_stmt *q = jh_db_stmt(db, "SELECT coalesce(blocked_task_instance, "
                                   "0) FROM sync_state WHERE connector = ?1");
  int rc = q == NULL ? -EIO : JH_DB_BIND(db, q, JH_DB_TEXT(connector));
  if (rc == 0 && (rc = jh_db_step(db, q, NULL)) == 1)
    *task = sqlite3_column_int64(q, 0);
  jh_db_done(db, q);
  return rc < 0 ? -EIO : 0;
}

/* The job instance of the hold of task (left as it is when unknown: a
 * store older than the holds table knows none). */
static void hold_job(jh_db *db, int64_t task, int64_t *job) {
  sqlite3_stmt *q = jh_db_stmt(db, "SELECT coalesce(job_instance, 0) FROM "
                                   "holds WHERE task_instance = ?1");
  if (q != NULL && JH_DB_BIND(db, q, JH_DB_INT(task)) == 0 &&
      jh_db_step(db, q, NULL) == 1)
    *job = sqlite3_column_int64(q, 0);
  jh_db_done(db, q);
}

int jh_idstore_blocked(const char *path, const char *connector, int64_t *task,
                       int64_t *job) {
  jh_db *db = NULL;
  int rc;

  *task = *job = 0;
  /* the host asks while it plans a job: a shorter wait than a writer's */
  if ((rc = peek_open(path, 5000, &db, NULL, 0)) != 0 || db == NULL)
    return rc;
  rc = blocking_task(db, connector, task);
  if (rc == 0 && *task > 0)
    hold_job(db, *task, job);
  jh_db_close(db);
  return rc;
}
