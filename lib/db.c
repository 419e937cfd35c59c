/*
 * db.c — the SQLite layer. See db.h, THE STATEMENT RULE especially.
 */
#include "config.h"

#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One statement of the cache. */
typedef struct cached {
  const char *seen; /* the address its text was last asked for with */
  uint32_t hash;    /* of its SQL text */
  int out;          /* handed out and not given back yet */
  sqlite3_stmt *st;
} cached;

struct jh_db {
  sqlite3 *db;
  char *path;
  int busy_ms;   /* the timeout the connection was opened with */
  cached *cache; /* every statement prepared by jh_db_stmt */
  size_t ncache, capcache;
  char *reserve;    /* the reserve file (jh_db_keep_reserve), or NULL */
  int released;     /* the reserve was removed to make room */
  int code;         /* extended SQLite code of the last failure */
  char errmsg[512]; /* text of the last failure */
};

#define RESERVE_BYTES (1 << 20)

const char *jh_sqlite_errmsg(sqlite3 *db, char *buf, size_t size) {
  int code = sqlite3_extended_errcode(db) & 0xff;
  int sys = sqlite3_system_errno(db);
  if (sys != 0 && (code == SQLITE_IOERR || code == SQLITE_CANTOPEN))
    snprintf(buf, size, "%s (%s)", sqlite3_errmsg(db), strerror(sys));
  else
    snprintf(buf, size, "%s", sqlite3_errmsg(db));
  return buf;
}

/* ---- failures ---- */

static int errno_of(int sqlrc) {
  return (sqlrc & 0xff) == SQLITE_NOMEM ? -ENOMEM : -EIO;
}

/* Out of space: the reserve makes room for the writes that follow. */
static void release_reserve(jh_db *d, int sqlrc) {
  if ((sqlrc & 0xff) == SQLITE_FULL && d->reserve != NULL && !d->released &&
      unlink(d->reserve) == 0)
    d->released = 1;
}

/* Record SQLite's failure sqlrc (with what, may be NULL); returns the
 * errno it maps to. */
static int sql_fail(jh_db *d, int sqlrc, const char *what) {
  char why[384];
  d->code = sqlrc;
  jh_sqlite_errmsg(d->db, why, sizeof(why));
  if (what != NULL)
    snprintf(d->errmsg, sizeof(d->errmsg), "%s: %s", what, why);
  else
    snprintf(d->errmsg, sizeof(d->errmsg), "%s", why);
  release_reserve(d, sqlrc);
  return errno_of(sqlrc);
}

int jh_db_fail(jh_db *d, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->errmsg, sizeof(d->errmsg), fmt, ap);
  va_end(ap);
  return rc;
}

const char *jh_db_errmsg(jh_db *d) {
  return d != NULL ? d->errmsg : "no database";
}

int jh_db_errcode(jh_db *d) { return d != NULL ? d->code : 0; }

/* ---- opening and closing ---- */

/* The file in WAL mode (the mode stays in the file). Switching needs the
 * file to itself: when another connection opens a new store at the same
 * moment (two synchronizations of one level on a first run), SQLite may
 * answer BUSY at once, without waiting, since waiting could deadlock;
 * the switch is then tried again for up to busy_ms. */
static int set_wal(jh_db *d) {
  int waited = 0;
  for (;;) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(d->db, "PRAGMA journal_mode = WAL", -1, &st,
                                NULL);
    int wal = 0;
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(st);
      wal = rc == SQLITE_ROW &&
            strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
    }
    sqlite3_finalize(st);
    if (wal)
      return 0;
    if (((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED ||
         rc == SQLITE_ROW) &&
        waited < d->busy_ms) {
      usleep(10000);
      waited += 10;
      continue;
    }
    if (rc == SQLITE_ROW)
      return jh_db_fail(d, -EIO,
                        "journal mode: the store stays out of WAL "
                        "mode");
    return sql_fail(d, rc, "journal mode");
  }
}

static int configure(jh_db *d, const jh_db_config *cfg) {
  char sql[64];
  int rc;
  (void)sqlite3_extended_result_codes(d->db, 1);
  if ((rc = sqlite3_busy_timeout(d->db, d->busy_ms)) != SQLITE_OK)
    return sql_fail(d, rc, "busy timeout");
  if (cfg->read_only)
    return 0;
  /* before the switch to WAL, which writes the first page */
  if (cfg->page_size > 0) {
    snprintf(sql, sizeof(sql), "PRAGMA page_size = %d", cfg->page_size);
    if ((rc = jh_db_exec(d, sql, "page size")) != 0)
      return rc;
  }
  if ((rc = set_wal(d)) != 0 ||
      (rc = jh_db_exec(d, "PRAGMA synchronous = NORMAL", "synchronous")) != 0 ||
      (rc = jh_db_exec(d, "PRAGMA foreign_keys = ON", "foreign keys")) != 0)
    return rc;
  if (cfg->cache_size == NULL)
    return 0;
  snprintf(sql, sizeof(sql), "PRAGMA cache_size = %s", cfg->cache_size);
  return jh_db_exec(d, sql, "cache size");
}

int jh_db_open(const char *path, const jh_db_config *cfg, jh_db **out,
               char *err, size_t errsize) {
  int flags, rc;
  jh_db *d;

  *out = NULL;
  d = calloc(1, sizeof(*d));
  if (d == NULL || (d->path = strdup(path)) == NULL) {
    free(d);
    snprintf(err, errsize, "out of memory");
    return -ENOMEM;
  }
  d->busy_ms = cfg->busy_ms;
  flags = cfg->read_only ? SQLITE_OPEN_READONLY
                         : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (cfg->single_thread)
    flags |= SQLITE_OPEN_NOMUTEX;
  rc = sqlite3_open_v2(path, &d->db, flags, NULL);
  if (rc != SQLITE_OK) {
    char why[256];
    snprintf(err, errsize, "%s",
             d->db != NULL ? jh_sqlite_errmsg(d->db, why, sizeof(why))
                           : sqlite3_errstr(rc));
    jh_db_close(d);
    return errno_of(rc);
  }
  if ((rc = configure(d, cfg)) != 0) {
    snprintf(err, errsize, "%s", d->errmsg);
    jh_db_close(d);
    return rc;
  }
  *out = d;
  return 0;
}

void jh_db_close(jh_db *d) {
  if (d == NULL)
    return;
  /* every statement is the cache's: once they are finalized,
   * sqlite3_close cannot report SQLITE_BUSY */
  for (size_t i = 0; i < d->ncache; i++)
    (void)sqlite3_finalize(d->cache[i].st);
  free(d->cache);
  (void)sqlite3_close(d->db);
  free(d->reserve);
  free(d->path);
  free(d);
}

const char *jh_db_path(jh_db *d) { return d->path; }

sqlite3 *jh_db_sqlite(jh_db *d) { return d != NULL ? d->db : NULL; }

void jh_db_busy(jh_db *d, int ms) {
  (void)sqlite3_busy_timeout(d->db, ms < 0 ? d->busy_ms : ms);
}

/* ---- the statement cache ---- */

/* FNV-1a of a text. */
static uint32_t text_hash(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s != '\0'; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

/* The statement of sql: first among those last asked for at the same
 * address (most texts are literals: no hashing on that path), then by the
 * text's hash; the text itself is compared either way. */
static cached *cache_find(jh_db *d, const char *sql, uint32_t *hash) {
  for (size_t i = 0; i < d->ncache; i++)
    if (d->cache[i].seen == sql &&
        strcmp(sqlite3_sql(d->cache[i].st), sql) == 0)
      return &d->cache[i];
  *hash = text_hash(sql);
  for (size_t i = 0; i < d->ncache; i++)
    if (d->cache[i].hash == *hash &&
        strcmp(sqlite3_sql(d->cache[i].st), sql) == 0) {
      d->cache[i].seen = sql;
      return &d->cache[i];
    }
  return NULL;
}

static cached *cache_add(jh_db *d, const char *sql, uint32_t hash) {
  sqlite3_stmt *st = NULL;
  int rc;
  if (d->ncache == d->capcache) {
    size_t cap = d->capcache ? d->capcache * 2 : 16;
    cached *grown = realloc(d->cache, cap * sizeof(*grown));
    if (grown == NULL) {
      jh_db_fail(d, -ENOMEM, "out of memory preparing a statement");
      return NULL;
    }
    d->cache = grown;
    d->capcache = cap;
  }
  rc = sqlite3_prepare_v3(d->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
  if (rc != SQLITE_OK) {
    (void)sqlite3_finalize(st);
    sql_fail(d, rc, "prepare");
    return NULL;
  }
  d->cache[d->ncache] = (cached){sql, hash, 0, st};
  return &d->cache[d->ncache++];
}

sqlite3_stmt *jh_db_stmt(jh_db *d, const char *sql) {
  uint32_t hash = 0;
  cached *c = cache_find(d, sql, &hash);
  if (c == NULL && (c = cache_add(d, sql, hash)) == NULL)
    return NULL;
  if (c->out) {
    jh_db_fail(d, -EBUSY, "prepare: statement already in use: %.200s", sql);
    return NULL;
  }
  c->out = 1;
  return c->st;
}

void jh_db_done(jh_db *d, sqlite3_stmt *st) {
  if (st == NULL)
    return;
  /* the step's result was checked already: the reset only releases */
  (void)sqlite3_reset(st);
  (void)sqlite3_clear_bindings(st);
  for (size_t i = 0; i < d->ncache; i++)
    if (d->cache[i].st == st) {
      d->cache[i].out = 0;
      return;
    }
}

/* ---- binding and stepping ---- */

static int bind_one(sqlite3_stmt *st, int i, const jh_db_value *v) {
  int n;
  switch (v->type) {
  case JH_DB_T_NULL:
    return sqlite3_bind_null(st, i);
  case JH_DB_T_INT:
    return sqlite3_bind_int64(st, i, (sqlite3_int64)v->i);
  case JH_DB_T_TEXT:
  case JH_DB_T_BLOB:
    if (v->n != JH_DB_NTS && v->n > INT_MAX)
      return SQLITE_TOOBIG;
    n = v->n == JH_DB_NTS ? -1 : (int)v->n;
    if (v->type == JH_DB_T_TEXT)
      return sqlite3_bind_text(st, i, v->p, n, SQLITE_STATIC);
    if (n < 0)
      return SQLITE_MISUSE; /* a blob has a length */
    return sqlite3_bind_blob(st, i, v->p, n, SQLITE_STATIC);
  }
  return SQLITE_MISUSE;
}

int jh_db_bind(jh_db *d, sqlite3_stmt *st, const jh_db_value *values, int n) {
  int want = sqlite3_bind_parameter_count(st);
  if (n != want) {
    d->code = SQLITE_RANGE;
    return jh_db_fail(d, -EIO, "bind: %d values for %d parameters", n, want);
  }
  for (int i = 0; i < n; i++) {
    int rc = bind_one(st, i + 1, &values[i]);
    if (rc != SQLITE_OK) {
      char what[32];
      snprintf(what, sizeof(what), "bind parameter %d", i + 1);
      if (rc == SQLITE_MISUSE || rc == SQLITE_TOOBIG) {
        d->code = rc;
        return jh_db_fail(d, -EIO, "%s: %s", what, sqlite3_errstr(rc));
      }
      return sql_fail(d, rc, what);
    }
  }
  return 0;
}

int jh_db_step(jh_db *d, sqlite3_stmt *st, const char *what) {
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    return 1;
  if (rc == SQLITE_DONE)
    return 0;
  return sql_fail(d, rc, what);
}

int jh_db_step_done(jh_db *d, sqlite3_stmt *st, const char *what) {
  int rc = jh_db_step(d, st, what);
  if (rc == 1) {
    d->code = SQLITE_MISUSE;
    return jh_db_fail(d, -EIO, "%s: a row where none was expected",
                      what != NULL ? what : "step");
  }
  return rc;
}

int64_t jh_db_last_insert_id(jh_db *d) {
  return (int64_t)sqlite3_last_insert_rowid(d->db);
}

int64_t jh_db_changes(jh_db *d) { return (int64_t)sqlite3_changes64(d->db); }

/* ---- SQL text and transactions ---- */

int jh_db_exec(jh_db *d, const char *sql, const char *what) {
  int rc = sqlite3_exec(d->db, sql, NULL, NULL, NULL);
  return rc == SQLITE_OK ? 0 : sql_fail(d, rc, what);
}

int jh_db_begin(jh_db *d) {
  return jh_db_exec(d, "BEGIN IMMEDIATE", "begin transaction");
}

int jh_db_begin_deferred(jh_db *d) {
  return jh_db_exec(d, "BEGIN", "begin transaction");
}

int jh_db_commit(jh_db *d) { return jh_db_exec(d, "COMMIT", "commit"); }

void jh_db_rollback(jh_db *d) {
  if (!sqlite3_get_autocommit(d->db))
    (void)sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
}

int jh_db_in_transaction(jh_db *d) { return !sqlite3_get_autocommit(d->db); }

/* ---- migrations ---- */

static int user_version(jh_db *d, int *version) {
  sqlite3_stmt *st = jh_db_stmt(d, "PRAGMA user_version");
  int rc;
  if (st == NULL)
    return -EIO;
  rc = jh_db_step(d, st, "read schema version");
  if (rc == 1)
    *version = sqlite3_column_int(st, 0);
  else if (rc == 0)
    rc = jh_db_fail(d, -EIO, "no schema version");
  jh_db_done(d, st);
  return rc < 0 ? rc : 0;
}

/* Apply steps[v] when the version, read again inside the transaction, is
 * still v; *version receives what was read. */
static int migrate_step(jh_db *d, const char *const *steps, int v,
                        int *version) {
  char what[32], bump[48];
  int rc = jh_db_begin(d);
  if (rc == 0)
    rc = user_version(d, version);
  if (rc == 0 && *version == v) {
    snprintf(what, sizeof(what), "migration %d", v + 1);
    snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", v + 1);
    if ((rc = jh_db_exec(d, steps[v], what)) == 0)
      rc = jh_db_exec(d, bump, "set schema version");
  }
  if (rc == 0)
    rc = jh_db_commit(d);
  if (rc != 0)
    jh_db_rollback(d);
  return rc;
}

int jh_db_migrate(jh_db *d, const char *const *steps, int nsteps,
                  int *version) {
  int rc;
  *version = 0;
  for (;;) {
    int found = *version;
    if ((rc = user_version(d, version)) != 0)
      return rc;
    if (*version < 0 || *version > nsteps)
      return jh_db_fail(d, -EPROTO,
                        "schema version %d is newer than this "
                        "program's (%d)",
                        *version, nsteps);
    if (*version == nsteps)
      return 0;
    if ((rc = migrate_step(d, steps, *version, &found)) != 0) {
      *version = found;
      return rc;
    }
  }
}

/* ---- the reserve ---- */

int jh_db_keep_reserve(jh_db *d, const char *path) {
  static const char zeros[65536];
  int fd, rc = 0;
  if (d == NULL || path == NULL)
    return -EINVAL;
  free(d->reserve);
  if ((d->reserve = strdup(path)) == NULL)
    return -ENOMEM;
  d->released = 0;
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return errno == EEXIST ? 0 : -errno;
  /* written, not sparse: the blocks must really be taken */
  for (size_t done = 0; rc == 0 && done < RESERVE_BYTES; done += sizeof(zeros))
    if (write(fd, zeros, sizeof(zeros)) != (ssize_t)sizeof(zeros))
      rc = -errno;
  if (close(fd) != 0 && rc == 0)
    rc = -errno;
  if (rc != 0)
    unlink(path); /* no room even for the reserve: none */
  return rc;
}

int jh_db_reserve_released(jh_db *d) { return d != NULL && d->released; }

int jh_db_snapshot(const char *src, const char *dst, char *err,
                   size_t errsize) {
  const jh_db_config cfg = {.read_only = 1,
                            .busy_ms = 60000,
                            .single_thread = 1};
  sqlite3_stmt *st = NULL;
  jh_db *d;
  int rc = jh_db_open(src, &cfg, &d, err, errsize);
  if (rc != 0)
    return rc;
  if (sqlite3_prepare_v2(d->db, "VACUUM INTO ?1", -1, &st, NULL) != SQLITE_OK ||
      sqlite3_bind_text(st, 1, dst, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
      sqlite3_step(st) != SQLITE_DONE) {
    char why[256];
    snprintf(err, errsize, "%s: cannot copy to %s: %s", src, dst,
             jh_sqlite_errmsg(d->db, why, sizeof(why)));
    rc = -EIO;
  }
  sqlite3_finalize(st);
  jh_db_close(d);
  return rc;
}
