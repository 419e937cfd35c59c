/*
 * provstore_fulfill.c — what a fulfillment writes into the provisioning
 * tables (provstore.h, "fulfillment"; doc/fulfill.md): the result of
 * each order on its assignment.
 */
#include "config.h"

#include "provstore.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "timefmt.h"

static int store_fail(jh_idstore *s, char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  return jh_idstore_fail(err, errsize, -EIO, "%s: %s", jh_db_path(db),
                         jh_db_errmsg(db));
}

/* Read id's state and a malloc'd copy of its values, as they are now
 * (assignment_states: the Pending values of a sent assignment are
 * Transmitted): 1, 0 when there is no such assignment, or a negative
 * code. */
static int read_assignment(jh_idstore *s, int64_t id, int *state, char **vals,
                           size_t *len, char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st = jh_db_stmt(
      db, "SELECT state, vals, sent FROM assignment_states WHERE id = ?1");
  int rc = st == NULL ? -EIO : JH_DB_BIND(db, st, JH_DB_INT(id));
  *vals = NULL;
  if (rc == 0 && (rc = jh_db_step(db, st, "assignments")) == 1) {
    const void *p = sqlite3_column_blob(st, 1);
    *len = (size_t)sqlite3_column_bytes(st, 1);
    *state = sqlite3_column_int(st, 0);
    *vals = malloc(*len + 1);
    if (*vals == NULL)
      rc = -ENOMEM;
    else if (*len > 0)
      memcpy(*vals, p, *len);
    if (rc == 1 && sqlite3_column_int(st, 2) &&
        jh_prov_vals_restate(*vals, *len, JH_PROV_PENDING,
                             JH_PROV_TRANSMITTED) != 0)
      rc = -EILSEQ;
  }
  jh_db_done(db, st);
  if (rc == -ENOMEM)
    return jh_idstore_fail(err, errsize, rc, "out of memory");
  if (rc == -EILSEQ)
    return jh_idstore_fail(err, errsize, rc,
                           "%s: assignment %" PRId64
                           ": its values cannot be read",
                           jh_db_path(db), id);
  return rc < 0 ? store_fail(s, err, errsize) : rc;
}

static int write_result(jh_idstore *s, int64_t id, int state,
                        const char *message, int64_t task_instance,
                        const char *vals, size_t len, char *err,
                        size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  char now[JH_TIME_SIZE];
  sqlite3_stmt *st;
  int rc;
  jh_time_iso(jh_now_ms(), now);
  st = jh_db_stmt(db, "UPDATE assignments SET state = ?2, message = ?3, "
                      "vals = ?4, task_instance = ?5, updated_at = ?6, "
                      "since = (SELECT coalesce(max(id), 0) FROM orders) "
                      "WHERE id = ?1 AND (SELECT state FROM "
                      "assignment_states WHERE id = ?1) = ?7");
  rc = st == NULL ? -EIO
                  : JH_DB_BIND(db, st, JH_DB_INT(id), JH_DB_INT(state),
                               JH_DB_TEXT(message),
                               JH_DB_BLOB(len > 0 ? vals : "", len),
                               JH_DB_ID(task_instance), JH_DB_TEXT(now),
                               JH_DB_INT(JH_PROV_TRANSMITTED));
  if (rc == 0)
    rc = jh_db_step_done(db, st, "assignments");
  if (rc == 0)
    rc = jh_db_changes(db) > 0;
  jh_db_done(db, st);
  return rc < 0 ? store_fail(s, err, errsize) : rc;
}

int jh_prov_fulfilled(jh_idstore *s, int64_t id, int state, const char *message,
                      int64_t task_instance, char *err, size_t errsize) {
  char *vals;
  size_t len = 0;
  int stored = 0, rc;

  if (state != JH_PROV_EXECUTED && state != JH_PROV_ERRORED)
    return jh_idstore_fail(err, errsize, -EINVAL,
                           "assignment %" PRId64 ": %d is not a result state",
                           id, state);
  rc = read_assignment(s, id, &stored, &vals, &len, err, errsize);
  if (rc <= 0 || stored != JH_PROV_TRANSMITTED) {
    free(vals);
    return rc < 0 ? rc : 0;
  }
  if (jh_prov_vals_restate(vals, len, JH_PROV_TRANSMITTED, state) != 0) {
    free(vals);
    return jh_idstore_fail(err, errsize, -EILSEQ,
                           "%s: assignment %" PRId64
                           ": its values cannot be read",
                           jh_db_path(jh_idstore_db(s)), id);
  }
  rc = write_result(s, id, state, message, task_instance, vals, len, err,
                    errsize);
  free(vals);
  return rc;
}
