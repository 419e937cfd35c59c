/*
 * provstore_classify.c — see provstore.h, "classification and profiles":
 * the tables classifications and profile_assignments (schema 4).
 *
 * What a run gathers goes to two temporary tables of the connection
 * (temp.class_seen, temp.profile_wanted), made by the begin functions;
 * the finish functions compare them with the stored rows in one
 * statement each, so a run writes only what changed.
 */
#include "config.h"

#include "provstore.h"

#include <errno.h>
#include <stdio.h>

#include "db.h"
#include "timefmt.h"

static int db_fail(jh_idstore *s, char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  int rc = (jh_db_errcode(db) & 0xff) == SQLITE_NOMEM ? -ENOMEM : -EIO;
  return jh_idstore_fail(err, errsize, rc, "%s: %s", jh_db_path(db),
                         jh_db_errmsg(db));
}

/* Run st (bound gives its binding's result) that returns no row; the
 * rows it changed, or a negative code with err. st is given back. */
static int64_t run(jh_idstore *s, sqlite3_stmt *st, int bound, const char *what,
                   char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  int rc = st == NULL ? -EIO : bound;
  int64_t n = 0;
  if (rc == 0)
    rc = jh_db_step_done(db, st, what);
  if (rc == 0)
    n = jh_db_changes(db);
  jh_db_done(db, st);
  return rc < 0 ? db_fail(s, err, errsize) : n;
}

static const char *col_text(sqlite3_stmt *st, int i) {
  return (const char *)sqlite3_column_text(st, i);
}

/* ---- classifications ---- */

int jh_prov_class_begin(jh_idstore *s, char *err, size_t errsize) {
  return jh_db_exec(jh_idstore_db(s),
                    "CREATE TEMP TABLE IF NOT EXISTS class_seen(\n"
                    "  key TEXT PRIMARY KEY) WITHOUT ROWID;\n"
                    "DELETE FROM temp.class_seen;",
                    "classification") == 0
             ? 0
             : db_fail(s, err, errsize);
}

int jh_prov_class_put(jh_idstore *s, const jh_prov_class *c, char *err,
                      size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  char now[JH_TIME_SIZE];
  sqlite3_stmt *st;
  int64_t changed;

  jh_time_iso(jh_now_ms(), now);
  st = jh_db_stmt(
      db, "INSERT INTO classifications(entity_type, key, resource_type, "
          "confidence, rule, task_instance, updated_at) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
          "ON CONFLICT(entity_type, key) DO UPDATE SET "
          "resource_type = excluded.resource_type, "
          "confidence = excluded.confidence, rule = excluded.rule, "
          "task_instance = excluded.task_instance, "
          "updated_at = excluded.updated_at "
          "WHERE resource_type IS NOT excluded.resource_type "
          "OR confidence <> excluded.confidence OR rule IS NOT excluded.rule");
  changed = run(s, st,
                st == NULL
                    ? -EIO
                    : JH_DB_BIND(db, st, JH_DB_TEXT(c->entity_type),
                                 JH_DB_TEXTN(c->key, c->key_len),
                                 JH_DB_TEXT(c->resource_type),
                                 JH_DB_INT(c->confidence), JH_DB_TEXT(c->rule),
                                 JH_DB_ID(c->task_instance), JH_DB_TEXT(now)),
                "store a classification", err, errsize);
  if (changed < 0)
    return (int)changed;
  st = jh_db_stmt(db, "INSERT OR IGNORE INTO temp.class_seen(key) VALUES (?1)");
  if (run(s, st,
          st == NULL ? -EIO
                     : JH_DB_BIND(db, st, JH_DB_TEXTN(c->key, c->key_len)),
          "note a classified key", err, errsize) < 0)
    return -EIO;
  return changed > 0;
}

int64_t jh_prov_class_finish(jh_idstore *s, const char *et, char *err,
                             size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st = jh_db_stmt(
      db, "DELETE FROM classifications WHERE entity_type = ?1 AND "
          "key NOT IN (SELECT key FROM temp.class_seen)");
  return run(s, st, st == NULL ? -EIO : JH_DB_BIND(db, st, JH_DB_TEXT(et)),
             "remove stale classifications", err, errsize);
}

int jh_prov_class_list(jh_idstore *s, const char *et, int orphans_only,
                       int (*fn)(void *ud, const jh_prov_class *c), void *ud,
                       char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st = jh_db_stmt(
      db, "SELECT entity_type, key, resource_type, confidence, rule, "
          "task_instance, updated_at FROM classifications "
          "WHERE (?1 IS NULL OR entity_type = ?1) "
          "AND (?2 = 0 OR resource_type IS NULL) ORDER BY entity_type, key");
  int rc = st == NULL ? -EIO
                      : JH_DB_BIND(db, st, JH_DB_TEXT(et),
                                   JH_DB_INT(orphans_only != 0));
  while (rc == 0 && (rc = jh_db_step(db, st, "list classifications")) == 1) {
    jh_prov_class c = {
        .entity_type = col_text(st, 0),
        .key = col_text(st, 1),
        .key_len = (size_t)sqlite3_column_bytes(st, 1),
        .resource_type = col_text(st, 2),
        .confidence = sqlite3_column_int(st, 3),
        .rule = col_text(st, 4),
        .task_instance = sqlite3_column_int64(st, 5),
        .updated_at = col_text(st, 6),
    };
    rc = fn(ud, &c);
    if (rc != 0) {
      jh_db_done(db, st);
      return rc;
    }
  }
  jh_db_done(db, st);
  return rc < 0 ? db_fail(s, err, errsize) : 0;
}

/* ---- profile assignments ---- */

int jh_prov_profiles_begin(jh_idstore *s, char *err, size_t errsize) {
  return jh_db_exec(jh_idstore_db(s),
                    "CREATE TEMP TABLE IF NOT EXISTS profile_wanted(\n"
                    "  key TEXT NOT NULL,\n"
                    "  profile TEXT NOT NULL,\n"
                    "  scope TEXT NOT NULL,\n"
                    "  denied INTEGER NOT NULL,\n"
                    "  PRIMARY KEY(key, profile, scope)) WITHOUT ROWID;\n"
                    "DELETE FROM temp.profile_wanted;",
                    "profiles") == 0
             ? 0
             : db_fail(s, err, errsize);
}

int jh_prov_profile_want(jh_idstore *s, const jh_prov_profile *p, int denied,
                         char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st = jh_db_stmt(
      db, "INSERT INTO temp.profile_wanted(key, profile, scope, denied) "
          "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(key, profile, scope) "
          "DO UPDATE SET denied = max(denied, excluded.denied)");
  int64_t n = run(
      s, st,
      st == NULL ? -EIO
                 : JH_DB_BIND(db, st, JH_DB_TEXTN(p->key, p->key_len),
                              JH_DB_TEXT(p->profile),
                              JH_DB_TEXTN(p->scope != NULL ? p->scope : "",
                                          p->scope != NULL ? p->scope_len : 0),
                              JH_DB_INT(denied != 0)),
      "gather a profile", err, errsize);
  return n < 0 ? (int)n : 0;
}

int jh_prov_profiles_finish(jh_idstore *s, const char *et,
                            int64_t task_instance, int64_t *added,
                            int64_t *removed, char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  char now[JH_TIME_SIZE];
  sqlite3_stmt *st = jh_db_stmt(
      db, "DELETE FROM profile_assignments AS a WHERE a.entity_type = ?1 "
          "AND NOT EXISTS (SELECT 1 FROM temp.profile_wanted w "
          "WHERE w.key = a.key AND w.profile = a.profile "
          "AND w.scope = a.scope AND w.denied = 0)");
  int64_t n = run(s, st, st == NULL ? -EIO : JH_DB_BIND(db, st, JH_DB_TEXT(et)),
                  "remove profiles", err, errsize);
  if (n < 0)
    return (int)n;
  *removed = n;
  jh_time_iso(jh_now_ms(), now);
  st = jh_db_stmt(
      db, "INSERT OR IGNORE INTO profile_assignments(entity_type, key, "
          "profile, scope, task_instance, assigned_at) "
          "SELECT ?1, key, profile, scope, ?2, ?3 FROM temp.profile_wanted "
          "WHERE denied = 0");
  n = run(s, st,
          st == NULL ? -EIO
                     : JH_DB_BIND(db, st, JH_DB_TEXT(et),
                                  JH_DB_ID(task_instance), JH_DB_TEXT(now)),
          "add profiles", err, errsize);
  if (n < 0)
    return (int)n;
  *added = n;
  return 0;
}

int jh_prov_profiles_list(jh_idstore *s, const char *et,
                          int (*fn)(void *ud, const jh_prov_profile *p),
                          void *ud, char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st = jh_db_stmt(
      db, "SELECT entity_type, key, profile, scope, task_instance, "
          "assigned_at FROM profile_assignments "
          "WHERE ?1 IS NULL OR entity_type = ?1 "
          "ORDER BY entity_type, key, profile, scope");
  int rc = st == NULL ? -EIO : JH_DB_BIND(db, st, JH_DB_TEXT(et));
  while (rc == 0 && (rc = jh_db_step(db, st, "list profiles")) == 1) {
    jh_prov_profile p = {
        .entity_type = col_text(st, 0),
        .key = col_text(st, 1),
        .key_len = (size_t)sqlite3_column_bytes(st, 1),
        .profile = col_text(st, 2),
        .scope = col_text(st, 3),
        .scope_len = (size_t)sqlite3_column_bytes(st, 3),
        .task_instance = sqlite3_column_int64(st, 4),
        .assigned_at = col_text(st, 5),
    };
    rc = fn(ud, &p);
    if (rc != 0) {
      jh_db_done(db, st);
      return rc;
    }
  }
  jh_db_done(db, st);
  return rc < 0 ? db_fail(s, err, errsize) : 0;
}
