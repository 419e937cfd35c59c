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

#include "atomic_file.h"
#include "collect_batch.h"
#include "csv.h"

#define STMT_CACHE 48

struct jh_idstore {
  sqlite3 *db;
  char *path;
  struct {
    const char *sql; /* the caller's text, compared by content */
    sqlite3_stmt *stmt;
  } cache[STMT_CACHE];
  size_t ncache;
  char why[256]; /* jh_sqlite_errmsg's text for the last error */
};

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
};

static int fail(char *err, size_t errsize, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errsize, int rc, const char *fmt, ...) {
  va_list ap;
  if (err != NULL && errsize > 0) {
    va_start(ap, fmt);
    vsnprintf(err, errsize, fmt, ap);
    va_end(ap);
  }
  return rc;
}

const char *jh_sqlite_errmsg(sqlite3 *db, char *buf, size_t size) {
  int code = sqlite3_extended_errcode(db) & 0xff;
  int sys = sqlite3_system_errno(db);
  if (sys != 0 && (code == SQLITE_IOERR || code == SQLITE_CANTOPEN))
    snprintf(buf, size, "%s (%s)", sqlite3_errmsg(db), strerror(sys));
  else
    snprintf(buf, size, "%s", sqlite3_errmsg(db));
  return buf;
}

/* The message of s's last error (in s->why). */
#define WHY(s) jh_sqlite_errmsg((s)->db, (s)->why, sizeof((s)->why))

int jh_idstore_exec(jh_idstore *s, const char *sql, char *err,
                    size_t errsize) {
  if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return fail(err, errsize, -EIO, "%s: %s", s->path, WHY(s));
  return 0;
}

static int user_version(jh_idstore *s, int *v, char *err, size_t errsize) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
  if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    *v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
  }
  sqlite3_finalize(st);
  return fail(err, errsize, -EIO, "%s: cannot read the schema version: %s",
              s->path, WHY(s));
}

static int migrate(jh_idstore *s, char *err, size_t errsize) {
  int have, rc;
  const int want = (int)(sizeof(migrations) / sizeof(migrations[0]));

  if ((rc = user_version(s, &have, err, errsize)) != 0)
    return rc;
  if (have > want)
    return fail(err, errsize, -EPROTO, "%s: identity store schema %d is "
                "newer than this jobhost's (%d): use a newer jobhost",
                s->path, have, want);
  for (int v = have; v < want; v++) {
    char bump[48];
    snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", v + 1);
    if ((rc = jh_idstore_exec(s, "BEGIN IMMEDIATE", err, errsize)) != 0)
      return rc;
    /* another process may have migrated meanwhile */
    if ((rc = user_version(s, &have, err, errsize)) != 0 || have > v) {
      jh_idstore_exec(s, "ROLLBACK", NULL, 0);
      if (rc != 0)
        return rc;
      continue;
    }
    if ((rc = jh_idstore_exec(s, migrations[v], err, errsize)) != 0 ||
        (rc = jh_idstore_exec(s, bump, err, errsize)) != 0 ||
        (rc = jh_idstore_exec(s, "COMMIT", err, errsize)) != 0) {
      jh_idstore_exec(s, "ROLLBACK", NULL, 0);
      return rc;
    }
  }
  return 0;
}

int jh_idstore_open(const char *path, jh_idstore **out, char *err,
                    size_t errsize) {
  jh_idstore *s = calloc(1, sizeof(*s));
  int rc;

  *out = NULL;
  if (s == NULL || (s->path = strdup(path)) == NULL) {
    free(s);
    return fail(err, errsize, -ENOMEM, "out of memory");
  }
  if (sqlite3_open_v2(path, &s->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                          SQLITE_OPEN_NOMUTEX,
                      NULL) != SQLITE_OK) {
    rc = fail(err, errsize, -EIO, "%s: cannot open the identity store: %s",
              path, s->db ? WHY(s) : "out of memory");
    jh_idstore_close(s);
    return rc;
  }
  sqlite3_busy_timeout(s->db, JH_IDSTORE_BUSY_MS);
  /* A synchronization's changes stay in the page cache until its commit
   * instead of spilling to the WAL as they are made: 32 MiB, a bounded
   * share of the memory, whatever the size of the store. */
  if ((rc = jh_idstore_exec(s, "PRAGMA journal_mode = WAL", err, errsize)) !=
          0 ||
      (rc = jh_idstore_exec(s, "PRAGMA synchronous = NORMAL", err,
                            errsize)) != 0 ||
      (rc = jh_idstore_exec(s, "PRAGMA foreign_keys = ON", err, errsize)) !=
          0 ||
      (rc = jh_idstore_exec(s, "PRAGMA cache_size = " JH_IDSTORE_CACHE, err,
                            errsize)) != 0 ||
      (rc = migrate(s, err, errsize)) != 0) {
    jh_idstore_close(s);
    return rc;
  }
  *out = s;
  return 0;
}

void jh_idstore_close(jh_idstore *s) {
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->ncache; i++)
    sqlite3_finalize(s->cache[i].stmt);
  sqlite3_close(s->db);
  free(s->path);
  free(s);
}

sqlite3 *jh_idstore_db(jh_idstore *s) { return s->db; }

sqlite3_stmt *jh_idstore_stmt(jh_idstore *s, const char *sql, char *err,
                              size_t errsize) {
  sqlite3_stmt *st = NULL;
  for (size_t i = 0; i < s->ncache; i++)
    if (s->cache[i].sql == sql || strcmp(s->cache[i].sql, sql) == 0) {
      sqlite3_reset(s->cache[i].stmt);
      sqlite3_clear_bindings(s->cache[i].stmt);
      return s->cache[i].stmt;
    }
  if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
    fail(err, errsize, -EIO, "%s: %s", s->path, WHY(s));
    return NULL;
  }
  if (s->ncache < STMT_CACHE) {
    s->cache[s->ncache].sql = sql;
    s->cache[s->ncache].stmt = st;
    s->ncache++;
    return st;
  }
  /* a full cache is a programming error: keep working, slowly */
  sqlite3_finalize(s->cache[STMT_CACHE - 1].stmt);
  s->cache[STMT_CACHE - 1].sql = sql;
  s->cache[STMT_CACHE - 1].stmt = st;
  return st;
}

int jh_idstore_entity_type(jh_idstore *s, const char *name,
                           const char *connector, int64_t *id, char *err,
                           size_t errsize) {
  sqlite3_stmt *st = jh_idstore_stmt(
      s, "INSERT INTO entity_types(name, connector) VALUES (?1, ?2) "
         "ON CONFLICT(name) DO UPDATE SET connector = excluded.connector "
         "RETURNING id",
      err, errsize);
  int rc;
  if (st == NULL)
    return -EIO;
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, connector, -1, SQLITE_STATIC);
  rc = sqlite3_step(st);
  if (rc != SQLITE_ROW)
    return fail(err, errsize, -EIO, "%s: entity type '%s': %s", s->path,
                name, WHY(s));
  *id = sqlite3_column_int64(st, 0);
  sqlite3_reset(st);
  return 0;
}

int jh_idstore_property(jh_idstore *s, const char *name, uint32_t *id,
                        char *err, size_t errsize) {
  sqlite3_stmt *st = jh_idstore_stmt(
      s, "INSERT INTO properties(name) VALUES (?1) "
         "ON CONFLICT(name) DO UPDATE SET name = excluded.name RETURNING id",
      err, errsize);
  int64_t v;
  if (st == NULL)
    return -EIO;
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  if (sqlite3_step(st) != SQLITE_ROW)
    return fail(err, errsize, -EIO, "%s: property '%s': %s", s->path, name,
                WHY(s));
  v = sqlite3_column_int64(st, 0);
  sqlite3_reset(st);
  if (v <= 0 || v > UINT32_MAX)
    return fail(err, errsize, -ERANGE, "%s: property '%s' has number %lld",
                s->path, name, (long long)v);
  *id = (uint32_t)v;
  return 0;
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

size_t jh_idstore_encode(const jh_idstore_value *values, size_t n,
                         char **buf, size_t *cap) {
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

int jh_idstore_settle_reports(jh_idstore *s, int wait, char *err,
                              size_t errsize) {
  sqlite3_stmt *q = NULL, *del = NULL;
  int rc = 0, n = 0, step;

  if (sqlite3_prepare_v2(s->db, "SELECT task_instance, path FROM "
                         "pending_reports ORDER BY task_instance", -1, &q,
                         NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(s->db, "DELETE FROM pending_reports WHERE "
                         "task_instance = ?1", -1, &del, NULL) != SQLITE_OK) {
    rc = fail(err, errsize, -EIO, "%s: pending change reports: %s", s->path,
              sqlite3_errmsg(s->db));
    goto out;
  }
  if (!wait)
    sqlite3_busy_timeout(s->db, 0);
  while ((step = sqlite3_step(q)) == SQLITE_ROW) {
    const char *path = (const char *)sqlite3_column_text(q, 1);
    int one = settle_one(path);
    if (one < 0) {
      rc = fail(err, errsize, one, "%s" JH_CSV_TEMP_SUFFIX ": cannot put "
                "the change report in place: %s", path, strerror(-one));
      break;
    }
    n += one;
    sqlite3_bind_int64(del, 1, sqlite3_column_int64(q, 0));
    step = sqlite3_step(del);
    sqlite3_reset(del);
    if (step == SQLITE_BUSY && !wait)
      continue; /* another writer: the next run removes the row */
    if (step != SQLITE_DONE) {
      rc = fail(err, errsize, -EIO, "%s: pending change reports: %s",
                s->path, sqlite3_errmsg(s->db));
      break;
    }
  }
  if (rc == 0 && step != SQLITE_DONE && step != SQLITE_ROW)
    rc = fail(err, errsize, -EIO, "%s: pending change reports: %s", s->path,
              sqlite3_errmsg(s->db));
out:
  sqlite3_finalize(q);
  sqlite3_finalize(del);
  sqlite3_busy_timeout(s->db, JH_IDSTORE_BUSY_MS);
  return rc != 0 ? rc : n;
}

/* ---- batches consumed by a committed transaction ---- */

static long long last_batch(jh_idstore *s, const char *connector) {
  sqlite3_stmt *q = NULL;
  long long last = -1;
  if (sqlite3_prepare_v2(s->db, "SELECT coalesce(last_batch, 0) FROM "
                         "sync_state WHERE connector = ?1", -1, &q,
                         NULL) != SQLITE_OK) {
    sqlite3_finalize(q);
    return -1;
  }
  sqlite3_bind_text(q, 1, connector, -1, SQLITE_STATIC);
  switch (sqlite3_step(q)) {
  case SQLITE_ROW:
    last = sqlite3_column_int64(q, 0);
    break;
  case SQLITE_DONE:
    last = 0;
    break;
  default:
    break;
  }
  sqlite3_finalize(q);
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

int jh_idstore_finish_committed(const char *path, const char *collect_dir,
                                char *err, size_t errsize) {
  jh_idstore *s = NULL;
  sqlite3_stmt *q = NULL;
  int rc = jh_idstore_open(path, &s, err, errsize);

  if (rc != 0)
    return rc;
  rc = jh_idstore_settle_reports(s, 0, err, errsize);
  if (rc >= 0 && collect_dir != NULL) {
    rc = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT connector FROM sync_state", -1, &q,
                           NULL) != SQLITE_OK)
      rc = fail(err, errsize, -EIO, "%s: synchronization state: %s", path,
                sqlite3_errmsg(s->db));
    while (rc == 0 && q != NULL && sqlite3_step(q) == SQLITE_ROW) {
      char *connector = strdup((const char *)sqlite3_column_text(q, 0));
      if (connector == NULL)
        rc = -ENOMEM;
      else
        rc = jh_idstore_remove_consumed(s, collect_dir, connector);
      free(connector);
      if (rc != 0 && rc != -ENOMEM)
        rc = fail(err, errsize, rc, "%s: synchronization state: %s", path,
                  sqlite3_errmsg(s->db));
    }
    sqlite3_finalize(q);
  }
  jh_idstore_close(s);
  return rc < 0 ? rc : 0;
}

int jh_idstore_held_by(const char *path, int64_t task_instance) {
  jh_idstore *s = NULL;
  sqlite3_stmt *q = NULL;
  int rc = jh_idstore_open(path, &s, NULL, 0), step;
  if (rc != 0)
    return -EIO;
  rc = -EIO;
  if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM holds WHERE task_instance "
                         "= ?1", -1, &q, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(q, 1, task_instance);
    step = sqlite3_step(q);
    rc = step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : -EIO;
  }
  sqlite3_finalize(q);
  jh_idstore_close(s);
  return rc;
}

int jh_idstore_is_pending_report(jh_idstore *s, const char *path) {
  sqlite3_stmt *q = NULL;
  int found = 0;
  if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM pending_reports WHERE "
                         "path = ?1", -1, &q, NULL) == SQLITE_OK) {
    sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
    found = sqlite3_step(q) == SQLITE_ROW;
  }
  sqlite3_finalize(q);
  return found;
}

int jh_idstore_failed_batch(const char *path, const char *connector,
                            long long *seq, char *why, size_t size) {
  sqlite3 *db = NULL;
  sqlite3_stmt *q = NULL;
  int rc = 0, step;

  *seq = 0;
  if (size > 0)
    why[0] = '\0';
  if (access(path, F_OK) != 0)
    return 0; /* no store: nothing ever failed */
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    rc = fail(why, size, -EIO, "%s: cannot open the identity store: %s",
              path, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return rc;
  }
  sqlite3_busy_timeout(db, JH_IDSTORE_BUSY_MS);
  if (sqlite3_prepare_v2(db, "SELECT failed_batch, failed_reason FROM "
                         "sync_state WHERE connector = ?1 AND failed_batch "
                         "IS NOT NULL", -1, &q, NULL) != SQLITE_OK) {
    /* a store older than failed batches (or not made yet) has none */
    sqlite3_close(db);
    return 0;
  }
  sqlite3_bind_text(q, 1, connector, -1, SQLITE_STATIC);
  step = sqlite3_step(q);
  if (step == SQLITE_ROW) {
    const unsigned char *r = sqlite3_column_text(q, 1);
    *seq = sqlite3_column_int64(q, 0);
    snprintf(why, size, "%s", r != NULL ? (const char *)r : "");
  } else if (step != SQLITE_DONE) {
    rc = fail(why, size, -EIO, "%s: %s", path, sqlite3_errmsg(db));
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  return rc;
}
