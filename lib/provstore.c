/*
 * provstore.c — see provstore.h. Every statement goes through the
 * database layer's cache (one prepared statement per SQL text); a writer
 * compares in the same statement, or reads first, and writes only what
 * changed.
 */
#include "config.h"

#include "provstore.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "timefmt.h"

/* Slots of jh_idstore_scratch: one per function whose results outlive
 * the statement that read them. */
enum { SLOT_GET = 0, SLOT_BY_TARGET = 1, SLOT_VALS = 2 };

/* What an empty blob is bound as: a zero-length blob, not NULL. */
static const char empty[1] = "";

static void now_iso(char buf[JH_TIME_SIZE]) { jh_time_iso(jh_now_ms(), buf); }

/* ---- names ---- */

static const char *const state_names[JH_PROV_STATE_COUNT] = {
    "None",     "Pending",  "Transmitted",
    "Errored",  "Verified", "Awaiting Approval",
    "Inactive", "Error",    "Executed"};

const char *jh_prov_state_name(int state) {
  return state >= 0 && state < JH_PROV_STATE_COUNT ? state_names[state] : NULL;
}

/* a and b equal when their letters are, case aside, and b's other
 * characters (space, '-', '_') are left out. */
static int same_letters(const char *name, const char *text) {
  const char *a = name, *b = text;
  for (;;) {
    while (*a == ' ')
      a++;
    while (*b == ' ' || *b == '-' || *b == '_')
      b++;
    if (*a == '\0' || *b == '\0')
      return *a == *b;
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
      return 0;
    a++;
    b++;
  }
}

int jh_prov_state_parse(const char *text) {
  if (text == NULL || *text == '\0')
    return -1;
  for (int i = 0; i < JH_PROV_STATE_COUNT; i++)
    if (same_letters(state_names[i], text))
      return i;
  return -1;
}

const char *jh_change_type_name(int change_type) {
  static const char *const names[] = {"None", "Added", "Modified", "Deleted"};
  return change_type >= 0 && change_type <= JH_CHANGE_DELETED
             ? names[change_type]
             : NULL;
}

/* ---- statements ---- */

/* Run a statement that returns no row, its binding's result in bound:
 * 1 when it changed a row, 0 when not, or a negative code with err. The
 * statement is given back. */
static int run_write(jh_idstore *s, sqlite3_stmt *st, int bound,
                     const char *what, char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  int rc = st == NULL ? -EIO : bound;
  if (rc == 0)
    rc = jh_db_step_done(db, st, what);
  if (rc == 0)
    rc = jh_db_changes(db) > 0;
  jh_db_done(db, st);
  return rc < 0 ? jh_idstore_db_fail(s, err, errsize) : rc;
}

/* The blob of column i, never NULL (an empty value is ""), its length in
 * *len. */
static const void *col_blob(sqlite3_stmt *st, int i, size_t *len) {
  const void *p = sqlite3_column_blob(st, i);
  *len = (size_t)sqlite3_column_bytes(st, i);
  return p != NULL ? p : empty;
}

/* The text of column i, NULL when it is NULL. */
static const char *col_text(sqlite3_stmt *st, int i) {
  return (const char *)sqlite3_column_text(st, i);
}

/* ---- resources ---- */

/* The resource of a row's columns at, at + 1, ...: key, data, computed,
 * dirty. */
static void resource_row(sqlite3_stmt *st, int at, jh_prov_resource *r) {
  r->key = col_text(st, at);
  r->key_len = (size_t)sqlite3_column_bytes(st, at);
  r->data = col_blob(st, at + 1, &r->data_len);
  r->computed = col_blob(st, at + 2, &r->computed_len);
  r->has_computed = sqlite3_column_type(st, at + 2) != SQLITE_NULL;
  r->dirty = sqlite3_column_int(st, at + 3);
}

/* Copy len bytes of p to *at, NUL-terminated; the copy. */
static const char *copy_out(char **at, const void *p, size_t len) {
  char *dst = *at;
  if (len > 0)
    memcpy(dst, p, len);
  dst[len] = '\0';
  *at += len + 1;
  return dst;
}

/* Copy a resource's bytes to the scratch slot of jh_prov_get. */
static int keep_resource(jh_idstore *s, jh_prov_resource *r) {
  char *at = jh_idstore_scratch(s, SLOT_GET,
                                r->key_len + r->data_len + r->computed_len + 3);
  if (at == NULL)
    return -ENOMEM;
  r->key = copy_out(&at, r->key, r->key_len);
  r->data = copy_out(&at, r->data, r->data_len);
  r->computed = copy_out(&at, r->computed, r->computed_len);
  return 0;
}

int jh_prov_get(jh_idstore *s, int64_t et, const char *key, size_t key_len,
                jh_prov_resource *out, char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st = jh_db_stmt(
      db, "SELECT r.key, r.data, c.data, r.dirty | coalesce(c.dirty, 0) "
          "FROM resources r "
          "LEFT JOIN computed c ON c.entity_type = r.entity_type "
          "AND c.key = r.key WHERE r.entity_type = ?1 AND r.key = ?2");
  int rc = st == NULL
               ? -EIO
               : JH_DB_BIND(db, st, JH_DB_INT(et), JH_DB_TEXTN(key, key_len));

  if (rc == 0 && (rc = jh_db_step(db, st, "resources")) == 1) {
    resource_row(st, 0, out);
    if (keep_resource(s, out) != 0) {
      jh_db_done(db, st);
      return jh_idstore_fail(err, errsize, -ENOMEM, "out of memory");
    }
  }
  jh_db_done(db, st);
  return rc < 0 ? jh_idstore_db_fail(s, err, errsize) : rc;
}

int jh_prov_exists(jh_idstore *s, int64_t et, const char *key, size_t key_len,
                   char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st = jh_db_stmt(db, "SELECT 1 FROM resources "
                                    "WHERE entity_type = ?1 AND key = ?2");
  int rc = st == NULL
               ? -EIO
               : JH_DB_BIND(db, st, JH_DB_INT(et), JH_DB_TEXTN(key, key_len));
  if (rc == 0)
    rc = jh_db_step(db, st, "resources");
  jh_db_done(db, st);
  return rc < 0 ? jh_idstore_db_fail(s, err, errsize) : rc;
}

int jh_prov_links(jh_idstore *s, const char *association, const char *key,
                  size_t key_len,
                  int (*fn)(void *ud, const char *v, size_t len), void *ud,
                  char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st = jh_db_stmt(
      db, "SELECT value2 FROM links WHERE association = ?1 "
          "AND value1 = ?2 ORDER BY value2");
  int rc = st == NULL ? -EIO
                      : JH_DB_BIND(db, st, JH_DB_TEXT(association),
                                   JH_DB_TEXTN(key, key_len));

  while (rc == 0 && (rc = jh_db_step(db, st, "links")) == 1) {
    rc = fn(ud, col_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    if (rc != 0) {
      jh_db_done(db, st);
      return rc;
    }
  }
  jh_db_done(db, st);
  return rc < 0 ? jh_idstore_db_fail(s, err, errsize) : 0;
}

int jh_prov_computed_put(jh_idstore *s, int64_t et, const char *key,
                         size_t key_len, const void *data, size_t len,
                         char *err, size_t errsize) {
  return jh_prov_computed_put_marked(s, et, key, key_len, data, len, 0, err,
                                     errsize);
}

/* Computed values removed: their flags, and mark, go to the resource's
 * row first. */
static int computed_remove(jh_idstore *s, int64_t et, const char *key,
                           size_t key_len, int mark, char *err,
                           size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st = jh_db_stmt(
      db, "UPDATE resources SET dirty = dirty | ?3 | coalesce((SELECT "
          "c.dirty FROM computed c WHERE c.entity_type = ?1 AND c.key = ?2), "
          "0) WHERE entity_type = ?1 AND key = ?2 AND EXISTS (SELECT 1 FROM "
          "computed c WHERE c.entity_type = ?1 AND c.key = ?2)");
  int rc = run_write(s, st,
                     st == NULL ? -EIO
                                : JH_DB_BIND(db, st, JH_DB_INT(et),
                                             JH_DB_TEXTN(key, key_len),
                                             JH_DB_INT(mark)),
                     "dirty flags", err, errsize);
  if (rc < 0)
    return rc;
  st = jh_db_stmt(db, "DELETE FROM computed WHERE entity_type = ?1 "
                      "AND key = ?2");
  return run_write(s, st,
                   st == NULL ? -EIO
                              : JH_DB_BIND(db, st, JH_DB_INT(et),
                                           JH_DB_TEXTN(key, key_len)),
                   "computed values", err, errsize);
}

int jh_prov_computed_put_marked(jh_idstore *s, int64_t et, const char *key,
                                size_t key_len, const void *data, size_t len,
                                int mark, char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st;

  if (len == 0)
    return computed_remove(s, et, key, key_len, mark, err, errsize);
  st = jh_db_stmt(db, "INSERT INTO computed(entity_type, key, data, dirty) "
                      "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(entity_type, key) "
                      "DO UPDATE SET data = excluded.data, "
                      "dirty = dirty | excluded.dirty "
                      "WHERE data <> excluded.data");
  return run_write(s, st,
                   st == NULL
                       ? -EIO
                       : JH_DB_BIND(db, st, JH_DB_INT(et),
                                    JH_DB_TEXTN(key, key_len),
                                    JH_DB_BLOB(data, len), JH_DB_INT(mark)),
                   "computed values", err, errsize);
}

int jh_prov_computed_put_scanned(jh_idstore *s, int64_t et,
                                 const jh_prov_resource *r, const void *data,
                                 size_t len, int mark, char *err,
                                 size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st;

  if (r->has_computed ? len == r->computed_len &&
                            (len == 0 || memcmp(data, r->computed, len) == 0)
                      : len == 0)
    return 0;          /* as they were */
  if (r->has_computed) /* replaced, or removed when len is 0 */
    return jh_prov_computed_put_marked(s, et, r->key, r->key_len, data, len,
                                       mark, err, errsize);
  st = jh_db_stmt(db, "INSERT INTO computed(entity_type, key, data, dirty) "
                      "VALUES (?1, ?2, ?3, ?4)");
  return run_write(s, st,
                   st == NULL
                       ? -EIO
                       : JH_DB_BIND(db, st, JH_DB_INT(et),
                                    JH_DB_TEXTN(r->key, r->key_len),
                                    JH_DB_BLOB(data, len), JH_DB_INT(mark)),
                   "computed values", err, errsize);
}

/* Change (et, key)'s dirty bits with sql, which takes et, key, mask. */
static int dirty_write(jh_idstore *s, const char *sql, int64_t et,
                       const char *key, size_t key_len, int mask, char *err,
                       size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st = jh_db_stmt(db, sql);
  int rc = run_write(s, st,
                     st == NULL ? -EIO
                                : JH_DB_BIND(db, st, JH_DB_INT(et),
                                             JH_DB_TEXTN(key, key_len),
                                             JH_DB_INT(mask)),
                     "dirty flags", err, errsize);
  return rc < 0 ? rc : 0;
}

int jh_prov_dirty_clear(jh_idstore *s, int64_t et, const char *key,
                        size_t key_len, int mask, char *err, size_t errsize) {
  int rc = dirty_write(s,
                       "UPDATE resources SET dirty = dirty & ~?3 "
                       "WHERE entity_type = ?1 AND key = ?2 "
                       "AND (dirty & ?3) <> 0",
                       et, key, key_len, mask, err, errsize);
  if (rc == 0)
    rc = dirty_write(s,
                     "UPDATE computed SET dirty = dirty & ~?3 "
                     "WHERE entity_type = ?1 AND key = ?2 "
                     "AND (dirty & ?3) <> 0",
                     et, key, key_len, mask, err, errsize);
  return rc;
}

int jh_prov_dirty_set(jh_idstore *s, int64_t et, const char *key,
                      size_t key_len, int mask, char *err, size_t errsize) {
  return dirty_write(s,
                     "UPDATE resources SET dirty = dirty | ?3 "
                     "WHERE entity_type = ?1 AND key = ?2 "
                     "AND (dirty & ?3) <> ?3",
                     et, key, key_len, mask, err, errsize);
}

/* Clear the bits of mask in every row of et in one table with sql: the
 * number of rows changed, or -EIO. */
static int64_t clear_all_in(jh_idstore *s, const char *sql, int64_t et,
                            int mask, char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st = jh_db_stmt(db, sql);
  int rc = st == NULL ? -EIO
                      : JH_DB_BIND(db, st, JH_DB_INT(et), JH_DB_INT(mask));
  int64_t n = 0;
  if (rc == 0 && (rc = jh_db_step_done(db, st, "dirty flags")) == 0)
    n = jh_db_changes(db);
  jh_db_done(db, st);
  return rc < 0 ? jh_idstore_db_fail(s, err, errsize) : n;
}

int64_t jh_prov_dirty_clear_all(jh_idstore *s, int64_t et, int mask, char *err,
                                size_t errsize) {
  int64_t n = clear_all_in(s,
                           "UPDATE resources SET dirty = dirty & ~?2 "
                           "WHERE entity_type = ?1 AND (dirty & ?2) <> 0",
                           et, mask, err, errsize),
          m;
  if (n < 0)
    return n;
  m = clear_all_in(s,
                   "UPDATE computed SET dirty = dirty & ~?2 "
                   "WHERE entity_type = ?1 AND (dirty & ?2) <> 0",
                   et, mask, err, errsize);
  return m < 0 ? m : n + m;
}

/* ---- correlation keys ---- */

static int bad_side(int side, char *err, size_t errsize) {
  if (side == JH_CORR_SOURCE || side == JH_CORR_TARGET)
    return 0;
  return jh_idstore_fail(
      err, errsize, -EINVAL,
      "correlation key side %d: expected %d (source) or %d (target)", side,
      JH_CORR_SOURCE, JH_CORR_TARGET);
}

int jh_prov_corrkey_put(jh_idstore *s, const char *resource_type, int rule,
                        int side, const char *key, size_t key_len,
                        const char *value, size_t value_len, char *err,
                        size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st;

  if (bad_side(side, err, errsize) != 0)
    return -EINVAL;
  if (value == NULL) {
    st = jh_db_stmt(db, "DELETE FROM correlation_keys WHERE "
                        "resource_type = ?1 AND rule = ?2 AND side = ?3 "
                        "AND key = ?4");
    return run_write(s, st,
                     st == NULL ? -EIO
                                : JH_DB_BIND(db, st, JH_DB_TEXT(resource_type),
                                             JH_DB_INT(rule), JH_DB_INT(side),
                                             JH_DB_TEXTN(key, key_len)),
                     "correlation keys", err, errsize);
  }
  st = jh_db_stmt(db, "INSERT INTO correlation_keys(resource_type, rule, "
                      "side, key, value) VALUES (?1, ?2, ?3, ?4, ?5) "
                      "ON CONFLICT(resource_type, rule, side, key) "
                      "DO UPDATE SET value = excluded.value "
                      "WHERE value <> excluded.value");
  return run_write(s, st,
                   st == NULL ? -EIO
                              : JH_DB_BIND(db, st, JH_DB_TEXT(resource_type),
                                           JH_DB_INT(rule), JH_DB_INT(side),
                                           JH_DB_TEXTN(key, key_len),
                                           JH_DB_TEXTN(value, value_len)),
                   "correlation keys", err, errsize);
}

int jh_prov_corrkey_any(jh_idstore *s, const char *resource_type, int rule,
                        int side, char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st;
  int rc = bad_side(side, err, errsize);
  if (rc != 0)
    return rc;
  st = jh_db_stmt(db, "SELECT 1 FROM correlation_keys WHERE "
                      "resource_type = ?1 AND rule = ?2 AND side = ?3 LIMIT 1");
  rc = st == NULL ? -EIO
                  : JH_DB_BIND(db, st, JH_DB_TEXT(resource_type),
                               JH_DB_INT(rule), JH_DB_INT(side));
  if (rc == 0)
    rc = jh_db_step(db, st, "correlation keys");
  jh_db_done(db, st);
  return rc < 0 ? jh_idstore_db_fail(s, err, errsize) : rc;
}

_Static_assert(JH_CORR_TARGET == 1, "the index by value is on side = 1");

int jh_prov_corrkey_find(jh_idstore *s, const char *resource_type, int rule,
                         int side, const char *value, size_t value_len,
                         int (*fn)(void *ud, const char *key, size_t len),
                         void *ud, char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st;
  int rc;

  if (bad_side(side, err, errsize) != 0)
    return -EINVAL;
  /* the index by value covers the target side only (side = 1 written
   * out, so that SQLite can use it); the source side is read in key
   * order */
  st = jh_db_stmt(db, side == JH_CORR_TARGET
                          ? "SELECT key FROM correlation_keys WHERE "
                            "resource_type = ?1 AND rule = ?2 AND side = 1 "
                            "AND ?3 = 1 AND value = ?4 ORDER BY key"
                          : "SELECT key FROM correlation_keys WHERE "
                            "resource_type = ?1 AND rule = ?2 AND side = ?3 "
                            "AND value = ?4 ORDER BY key");
  rc = st == NULL
           ? -EIO
           : JH_DB_BIND(db, st, JH_DB_TEXT(resource_type), JH_DB_INT(rule),
                        JH_DB_INT(side), JH_DB_TEXTN(value, value_len));
  while (rc == 0 && (rc = jh_db_step(db, st, "correlation keys")) == 1) {
    rc = fn(ud, col_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    if (rc != 0) {
      jh_db_done(db, st);
      return rc;
    }
  }
  jh_db_done(db, st);
  return rc < 0 ? jh_idstore_db_fail(s, err, errsize) : 0;
}

/* ---- values of an assignment ----
 *
 * Each value: the property number (a LEB128 varint), a varint holding
 * the state shifted left by 3 over three flags (1 navigation, 2 has a
 * policy value, 4 has an observed value), then for each value present
 * its length (varint) and its bytes. The state word of a valid state is
 * one byte long, so a state can be changed in place
 * (jh_prov_vals_restate). */

#define VAL_NAV 1u
#define VAL_POLICY 2u
#define VAL_OBSERVED 4u
#define VAL_FLAGS 7u
#define VARINT_MAX 10

static size_t put_varint(char *p, uint64_t v) {
  size_t n = 0;
  do {
    unsigned char b = (unsigned char)(v & 0x7f);
    v >>= 7;
    p[n++] = (char)(v != 0 ? b | 0x80 : b);
  } while (v != 0);
  return n;
}

static int get_varint(const char **p, const char *end, uint64_t *v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 64 && *p < end; shift += 7) {
    unsigned char b = (unsigned char)*(*p)++;
    r |= (uint64_t)(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *v = r;
      return 0;
    }
  }
  return -EILSEQ;
}

static unsigned val_flags(const jh_prov_val *v) {
  return (v->navigation ? VAL_NAV : 0) | (v->has_policy ? VAL_POLICY : 0) |
         (v->has_observed ? VAL_OBSERVED : 0);
}

/* The encoded size of v at most; 0 when v cannot be encoded. */
static size_t val_bound(const jh_prov_val *v) {
  size_t n = 2 * VARINT_MAX;
  if (v->state < 0 || v->state >= JH_PROV_STATE_COUNT)
    return 0;
  if (v->has_policy)
    n += VARINT_MAX + v->policy_len;
  if (v->has_observed)
    n += VARINT_MAX + v->observed_len;
  return n;
}

static size_t put_val(char *p, const jh_prov_val *v) {
  unsigned flags = val_flags(v);
  size_t o = put_varint(p, v->prop);
  o += put_varint(p + o, ((uint64_t)v->state << 3) | flags);
  if (flags & VAL_POLICY) {
    o += put_varint(p + o, v->policy_len);
    if (v->policy_len > 0)
      memcpy(p + o, v->policy, v->policy_len);
    o += v->policy_len;
  }
  if (flags & VAL_OBSERVED) {
    o += put_varint(p + o, v->observed_len);
    if (v->observed_len > 0)
      memcpy(p + o, v->observed, v->observed_len);
    o += v->observed_len;
  }
  return o;
}

size_t jh_prov_vals_encode(const jh_prov_val *v, size_t n, char **buf,
                           size_t *cap) {
  size_t need = 1, o = 0;
  for (size_t i = 0; i < n; i++) {
    size_t b = val_bound(&v[i]);
    if (b == 0) {
      errno = EINVAL; /* a state out of range */
      return (size_t)-1;
    }
    need += b;
  }
  if (*buf == NULL || need > *cap) {
    size_t ncap = need < 256 ? 256 : need * 2;
    char *g = realloc(*buf, ncap);
    if (g == NULL)
      return (size_t)-1;
    *buf = g;
    *cap = ncap;
  }
  for (size_t i = 0; i < n; i++)
    o += put_val(*buf + o, &v[i]);
  return o;
}

static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen) {
  size_t n = alen < blen ? alen : blen;
  int c = n > 0 ? memcmp(a, b, n) : 0;
  if (c != 0)
    return c;
  return alen < blen ? -1 : alen > blen;
}

/* The text a value sorts by: its policy value, else the observed one. */
static const char *sort_text(const jh_prov_val *v, size_t *len) {
  if (v->has_policy) {
    *len = v->policy_len;
    return v->policy;
  }
  *len = v->has_observed ? v->observed_len : 0;
  return v->has_observed ? v->observed : NULL;
}

/* A total order on everything the encoding holds, so that equal sets of
 * values give equal bytes whatever order they came in. */
static int cmp_val(const void *pa, const void *pb) {
  const jh_prov_val *a = pa, *b = pb;
  size_t al, bl;
  const char *at = sort_text(a, &al), *bt = sort_text(b, &bl);
  unsigned af = val_flags(a), bf = val_flags(b);
  int c;

  if (a->prop != b->prop)
    return a->prop < b->prop ? -1 : 1;
  if ((af & VAL_NAV) != (bf & VAL_NAV))
    return (af & VAL_NAV) ? 1 : -1;
  if ((c = cmp_bytes(at, al, bt, bl)) != 0)
    return c;
  if (af != bf)
    return af < bf ? -1 : 1;
  if (af & VAL_OBSERVED) {
    c = cmp_bytes(a->observed, a->observed_len, b->observed, b->observed_len);
    if (c != 0)
      return c;
  }
  return a->state < b->state ? -1 : a->state > b->state;
}

/* A role model gives a handful of values an assignment: insertion sort
 * (no allocation, few moves) up to a few dozen, qsort beyond. */
void jh_prov_vals_sort(jh_prov_val *v, size_t n) {
  if (n > 32) {
    qsort(v, n, sizeof(*v), cmp_val);
    return;
  }
  for (size_t i = 1; i < n; i++) {
    jh_prov_val t = v[i];
    size_t k = i;
    for (; k > 0 && cmp_val(&v[k - 1], &t) > 0; k--)
      v[k] = v[k - 1];
    v[k] = t;
  }
}

/* Read one value's bytes (a length and the bytes) at *p. */
static int get_bytes(const char **p, const char *end, const char **out,
                     size_t *len) {
  uint64_t n;
  if (get_varint(p, end, &n) != 0 || n > (uint64_t)(end - *p))
    return -EILSEQ;
  *out = *p;
  *len = (size_t)n;
  *p += n;
  return 0;
}

/* Read the value at *p into v. 0 or -EILSEQ. */
static int get_val(const char **p, const char *end, jh_prov_val *v) {
  uint64_t prop, word;
  memset(v, 0, sizeof(*v));
  if (get_varint(p, end, &prop) != 0 || prop > UINT32_MAX ||
      get_varint(p, end, &word) != 0 ||
      (word >> 3) >= (uint64_t)JH_PROV_STATE_COUNT)
    return -EILSEQ;
  v->prop = (uint32_t)prop;
  v->state = (int)(word >> 3);
  v->navigation = (word & VAL_NAV) != 0;
  v->has_policy = (word & VAL_POLICY) != 0;
  v->has_observed = (word & VAL_OBSERVED) != 0;
  if (v->has_policy && get_bytes(p, end, &v->policy, &v->policy_len) != 0)
    return -EILSEQ;
  if (v->has_observed && get_bytes(p, end, &v->observed, &v->observed_len) != 0)
    return -EILSEQ;
  return 0;
}

int jh_prov_vals_decode(const void *vals, size_t len,
                        int (*fn)(void *ud, const jh_prov_val *v), void *ud) {
  const char *p = vals, *end = p + len;
  jh_prov_val v;
  while (p < end) {
    int rc = get_val(&p, end, &v);
    if (rc == 0)
      rc = fn(ud, &v);
    if (rc != 0)
      return rc;
  }
  return 0;
}

int jh_prov_vals_restate(char *vals, size_t len, int from, int to) {
  const char *p = vals, *end = vals + len;
  while (p < end) {
    const char *start = p;
    uint64_t prop;
    jh_prov_val v;
    char *word;
    if (get_varint(&p, end, &prop) != 0 || p >= end || (*p & 0x80) != 0)
      return -EILSEQ;
    word = vals + (p - vals);
    p = start;
    if (get_val(&p, end, &v) != 0)
      return -EILSEQ;
    if (v.state == from)
      *word = (char)(((unsigned)to << 3) | ((unsigned)*word & VAL_FLAGS));
  }
  return 0;
}

/* ---- assignments ---- */

/* What every write of an assignment sets since to: the last order id,
 * so that only an order recorded after it makes it Transmitted (the view
 * assignment_states, lib/idstore.c). */
#define LAST_ORDER "(SELECT coalesce(max(id), 0) FROM orders)"

/* The columns an assignment is read from, in assignment_row's order,
 * each name after prefix p; ASSIGNMENT_NCOLS of them. They are read from
 * the view assignment_states, which gives the state as it is now (an
 * assignment whose order was recorded is Transmitted) and says whether
 * its values are to be read so (sent). */
#define ASSIGNMENT_COLS_OF(p)                                                  \
  p "id, " p "resource_type, " p "owner_key, " p "target_key, " p              \
    "change_type, " p "state, " p "workflow_state, " p "confidence, " p        \
    "policy_hash, " p "declined_hash, " p "message, " p "task_instance, " p    \
    "vals, " p "sent"
#define ASSIGNMENT_COLS ASSIGNMENT_COLS_OF("")
#define ASSIGNMENT_NCOLS 14

/* A buffer the values of sent assignments are restated in. */
typedef struct vals_buf {
  char *p;
  size_t cap;
} vals_buf;

/* The values of an assignment as they are now, from the blob p of len
 * bytes read from assignment_states and its sent column: p itself when
 * not sent, else a copy in b with the Pending values Transmitted. NULL
 * when out of memory or when the values cannot be read (errno). */
static const char *vals_now(const void *p, size_t len, int sent, vals_buf *b) {
  if (!sent)
    return p;
  if (len + 1 > b->cap) {
    char *q = realloc(b->p, len + 1);
    if (q == NULL) {
      errno = ENOMEM;
      return NULL;
    }
    b->p = q;
    b->cap = len + 1;
  }
  memcpy(b->p, p, len);
  if (jh_prov_vals_restate(b->p, len, JH_PROV_PENDING, JH_PROV_TRANSMITTED)) {
    errno = EILSEQ;
    return NULL;
  }
  return b->p;
}

/* Read an assignment from st's columns (ASSIGNMENT_COLS), its values as
 * they are now (in b when restated): 0, or -ENOMEM or -EILSEQ. */
static int assignment_row(sqlite3_stmt *st, jh_prov_assignment *a,
                          vals_buf *b) {
  const void *vals;
  a->id = sqlite3_column_int64(st, 0);
  a->resource_type = col_text(st, 1);
  a->owner_key = col_text(st, 2);
  a->target_key = col_text(st, 3);
  a->change_type = sqlite3_column_int(st, 4);
  a->state = sqlite3_column_int(st, 5);
  a->workflow_state = sqlite3_column_int(st, 6);
  a->confidence = sqlite3_column_int(st, 7);
  a->policy_hash = col_text(st, 8);
  a->declined_hash = col_text(st, 9);
  a->message = col_text(st, 10);
  a->task_instance = sqlite3_column_int64(st, 11);
  vals = col_blob(st, 12, &a->vals_len);
  a->vals = vals_now(vals, a->vals_len, sqlite3_column_int(st, 13), b);
  return a->vals != NULL ? 0 : -errno;
}

/* The failure of a read whose rc came from assignment_row or the
 * database layer. */
static int read_fail(jh_idstore *s, int rc, char *err, size_t errsize) {
  if (rc == -ENOMEM)
    return jh_idstore_fail(err, errsize, rc, "out of memory");
  if (rc == -EILSEQ)
    return jh_idstore_fail(err, errsize, rc,
                           "%s: an assignment's values cannot be read",
                           jh_db_path(jh_idstore_db(s)));
  return jh_idstore_db_fail(s, err, errsize);
}

/* Call fn for each assignment st (bound: the result of its binding)
 * reads; the statement is given back. 0, fn's nonzero return, or a
 * negative code with err. */
static int each_assignment(jh_idstore *s, sqlite3_stmt *st, int bound,
                           int (*fn)(void *ud, const jh_prov_assignment *a),
                           void *ud, char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  int rc = st == NULL ? -EIO : bound, stopped = 0;
  vals_buf b = {NULL, 0};
  jh_prov_assignment a;

  while (rc == 0 && (rc = jh_db_step(db, st, "assignments")) == 1 &&
         (rc = assignment_row(st, &a, &b)) == 0)
    stopped = (rc = fn(ud, &a)) != 0;
  jh_db_done(db, st);
  free(b.p);
  if (stopped)
    return rc;
  return rc < 0 ? read_fail(s, rc, err, errsize) : 0;
}

int jh_prov_assignments(jh_idstore *s, const char *resource_type,
                        int (*fn)(void *ud, const jh_prov_assignment *a),
                        void *ud, char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st = jh_db_stmt(
      db, "SELECT " ASSIGNMENT_COLS " FROM assignment_states WHERE "
          "resource_type = ?1 AND owner_key IS NOT NULL ORDER BY owner_key");
  int rc = each_assignment(
      s, st, st == NULL ? -EIO : JH_DB_BIND(db, st, JH_DB_TEXT(resource_type)),
      fn, ud, err, errsize);
  if (rc != 0)
    return rc;
  /* the orphans (no owner, always a target), few as a rule: the table read
   * in order and the orphans sorted ('+' keeps SQLite from walking the
   * target index, one lookup of the table per assignment that has a
   * target) */
  st = jh_db_stmt(db, "SELECT " ASSIGNMENT_COLS " FROM assignment_states WHERE "
                      "resource_type = ?1 AND owner_key IS NULL "
                      "ORDER BY +target_key");
  return each_assignment(
      s, st, st == NULL ? -EIO : JH_DB_BIND(db, st, JH_DB_TEXT(resource_type)),
      fn, ud, err, errsize);
}

static size_t text_size(const char *t) { return t != NULL ? strlen(t) + 1 : 0; }

/* Copy t to *at (NULL stays NULL). */
static const char *copy_text(char **at, const char *t) {
  return t != NULL ? copy_out(at, t, strlen(t)) : NULL;
}

/* Copy an assignment's texts and values to the scratch slot of
 * jh_prov_assignment_by_target. */
static int keep_assignment(jh_idstore *s, jh_prov_assignment *a) {
  size_t need = text_size(a->resource_type) + text_size(a->owner_key) +
                text_size(a->target_key) + text_size(a->policy_hash) +
                text_size(a->declined_hash) + text_size(a->message) +
                a->vals_len + 1;
  char *at = jh_idstore_scratch(s, SLOT_BY_TARGET, need);
  if (at == NULL)
    return -ENOMEM;
  a->resource_type = copy_text(&at, a->resource_type);
  a->owner_key = copy_text(&at, a->owner_key);
  a->target_key = copy_text(&at, a->target_key);
  a->policy_hash = copy_text(&at, a->policy_hash);
  a->declined_hash = copy_text(&at, a->declined_hash);
  a->message = copy_text(&at, a->message);
  a->vals = copy_out(&at, a->vals, a->vals_len);
  return 0;
}

int jh_prov_assignment_by_target(jh_idstore *s, const char *resource_type,
                                 const char *target_key,
                                 jh_prov_assignment *out, char *err,
                                 size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st = jh_db_stmt(
      db, "SELECT " ASSIGNMENT_COLS " FROM assignment_states WHERE "
          "resource_type = ?1 AND target_key = ?2 AND target_key IS NOT NULL");
  int rc = st == NULL ? -EIO
                      : JH_DB_BIND(db, st, JH_DB_TEXT(resource_type),
                                   JH_DB_TEXT(target_key));
  vals_buf b = {NULL, 0};

  if (rc == 0 && (rc = jh_db_step(db, st, "assignments")) == 1) {
    int got = assignment_row(st, out, &b);
    if (got == 0)
      got = keep_assignment(s, out);
    if (got != 0)
      rc = got;
  }
  jh_db_done(db, st);
  free(b.p);
  return rc < 0 ? read_fail(s, rc, err, errsize) : rc;
}

/* An assignment that the table's constraints would refuse: -EINVAL with
 * what is wrong, else 0. */
static int bad_assignment(const jh_prov_assignment *a, char *err,
                          size_t errsize) {
  if (a->resource_type == NULL)
    return jh_idstore_fail(err, errsize, -EINVAL,
                           "assignment %" PRId64 ": no resource "
                           "type",
                           a->id);
  if (a->owner_key == NULL && a->target_key == NULL)
    return jh_idstore_fail(err, errsize, -EINVAL,
                           "assignment %" PRId64
                           " of %s: neither an owner nor a target",
                           a->id, a->resource_type);
  if (jh_change_type_name(a->change_type) == NULL)
    return jh_idstore_fail(err, errsize, -EINVAL,
                           "assignment %" PRId64
                           " of %s: change type %d, expected 0 to 3",
                           a->id, a->resource_type, a->change_type);
  if (jh_prov_state_name(a->state) == NULL)
    return jh_idstore_fail(err, errsize, -EINVAL,
                           "assignment %" PRId64
                           " of %s: state %d, expected 0 to %d",
                           a->id, a->resource_type, a->state,
                           JH_PROV_STATE_COUNT - 1);
  return 0;
}

/* The values of a, bound as a blob (empty, not NULL, when there are
 * none). */
static jh_db_value vals_value(const jh_prov_assignment *a) {
  return a->vals_len > 0 ? JH_DB_BLOB(a->vals, a->vals_len)
                         : JH_DB_BLOB(empty, 0);
}

static int assignment_insert(jh_idstore *s, const jh_prov_assignment *a,
                             int64_t *id, char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st = jh_db_stmt(
      db,
      "INSERT INTO assignments(resource_type, owner_key, target_key, "
      "change_type, state, workflow_state, confidence, policy_hash, "
      "declined_hash, message, updated_at, task_instance, vals, since) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, " LAST_ORDER
      ")");
  char now[JH_TIME_SIZE];
  int rc;

  now_iso(now);
  rc = run_write(
      s, st,
      st == NULL
          ? -EIO
          : JH_DB_BIND(db, st, JH_DB_TEXT(a->resource_type),
                       JH_DB_TEXT(a->owner_key), JH_DB_TEXT(a->target_key),
                       JH_DB_INT(a->change_type), JH_DB_INT(a->state),
                       JH_DB_INT(a->workflow_state), JH_DB_INT(a->confidence),
                       JH_DB_TEXT(a->policy_hash), JH_DB_TEXT(a->declined_hash),
                       JH_DB_TEXT(a->message), JH_DB_TEXT(now),
                       JH_DB_ID(a->task_instance), vals_value(a)),
      "assignments", err, errsize);
  if (rc < 0)
    return rc;
  if (id != NULL)
    *id = jh_db_last_insert_id(db);
  return 0;
}

/* How a replacement differs from the stored version of a->id as it is
 * now (assignment_states): bit 1 in what history keeps (change type,
 * state, values), bit 2 in the rest. -ENOENT when there is no such
 * assignment, -EILSEQ, -ENOMEM or -EIO. The values of a sent assignment
 * are compared here, once restated; the others in the statement. */
static int assignment_diff(jh_idstore *s, const jh_prov_assignment *a,
                           char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st = jh_db_stmt(
      db, "SELECT change_type IS NOT ?2 OR state IS NOT ?3 OR"
          " (NOT sent AND vals IS NOT ?4),"
          " resource_type IS NOT ?5 OR owner_key IS NOT ?6 OR"
          " target_key IS NOT ?7 OR workflow_state IS NOT ?8 OR"
          " confidence IS NOT ?9 OR policy_hash IS NOT ?10 OR"
          " declined_hash IS NOT ?11 OR message IS NOT ?12, sent, vals"
          " FROM assignment_states WHERE id = ?1");
  int rc = st == NULL
               ? -EIO
               : JH_DB_BIND(
                     db, st, JH_DB_INT(a->id), JH_DB_INT(a->change_type),
                     JH_DB_INT(a->state), vals_value(a),
                     JH_DB_TEXT(a->resource_type), JH_DB_TEXT(a->owner_key),
                     JH_DB_TEXT(a->target_key), JH_DB_INT(a->workflow_state),
                     JH_DB_INT(a->confidence), JH_DB_TEXT(a->policy_hash),
                     JH_DB_TEXT(a->declined_hash), JH_DB_TEXT(a->message));
  vals_buf b = {NULL, 0};
  int diff = 0;

  if (rc == 0 && (rc = jh_db_step(db, st, "assignments")) == 1) {
    diff = (sqlite3_column_int(st, 0) ? 1 : 0) |
           (sqlite3_column_int(st, 1) ? 2 : 0);
    if (sqlite3_column_int(st, 2)) {
      size_t len = 0;
      const void *stored = col_blob(st, 3, &len);
      const char *now = vals_now(stored, len, 1, &b);
      if (now == NULL)
        rc = -errno;
      else if (len != a->vals_len || (len > 0 && memcmp(now, a->vals, len)))
        diff |= 1;
    }
  }
  jh_db_done(db, st);
  free(b.p);
  if (rc < 0)
    return read_fail(s, rc, err, errsize);
  if (rc == 0)
    return jh_idstore_fail(err, errsize, -ENOENT, "%s: no assignment %" PRId64,
                           jh_db_path(db), a->id);
  return diff;
}

/* Keep the stored version of assignment id, as it is now
 * (assignment_states), in assignment_history; nothing when there is no
 * such assignment. */
static int historize(jh_idstore *s, int64_t id, char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *rd = jh_db_stmt(db, "SELECT change_type, state, vals, sent, "
                                    "task_instance FROM assignment_states "
                                    "WHERE id = ?1");
  sqlite3_stmt *wr;
  char now[JH_TIME_SIZE];
  vals_buf b = {NULL, 0};
  const char *vals;
  size_t len;
  int rc = rd == NULL ? -EIO : JH_DB_BIND(db, rd, JH_DB_INT(id));

  if (rc == 0 && (rc = jh_db_step(db, rd, "assignments")) == 1) {
    vals = col_blob(rd, 2, &len);
    vals = vals_now(vals, len, sqlite3_column_int(rd, 3), &b);
    rc = vals == NULL ? -errno : 0;
    if (rc == 0) {
      /* the row read stays valid until rd is given back */
      now_iso(now);
      wr = jh_db_stmt(db, "INSERT INTO assignment_history(assignment, "
                          "change_type, state, vals, valid_to, task_instance) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
      rc = run_write(s, wr,
                     wr == NULL
                         ? -EIO
                         : JH_DB_BIND(db, wr, JH_DB_INT(id),
                                      JH_DB_INT(sqlite3_column_int(rd, 0)),
                                      JH_DB_INT(sqlite3_column_int(rd, 1)),
                                      JH_DB_BLOB(vals, len), JH_DB_TEXT(now),
                                      JH_DB_ID(sqlite3_column_int64(rd, 4))),
                     "assignment history", err, errsize);
      rc = rc < 0 ? rc : 0;
      jh_db_done(db, rd);
      free(b.p);
      return rc;
    }
  }
  jh_db_done(db, rd);
  free(b.p);
  return rc < 0 ? read_fail(s, rc, err, errsize) : 0;
}

static int assignment_update(jh_idstore *s, const jh_prov_assignment *a,
                             char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st = jh_db_stmt(
      db, "UPDATE assignments SET resource_type = ?2, owner_key = ?3, "
          "target_key = ?4, change_type = ?5, state = ?6, workflow_state = ?7, "
          "confidence = ?8, policy_hash = ?9, declined_hash = ?10, "
          "message = ?11, updated_at = ?12, task_instance = ?13, vals = ?14, "
          "since = " LAST_ORDER " WHERE id = ?1");
  char now[JH_TIME_SIZE];
  int rc;

  now_iso(now);
  rc = run_write(
      s, st,
      st == NULL
          ? -EIO
          : JH_DB_BIND(db, st, JH_DB_INT(a->id), JH_DB_TEXT(a->resource_type),
                       JH_DB_TEXT(a->owner_key), JH_DB_TEXT(a->target_key),
                       JH_DB_INT(a->change_type), JH_DB_INT(a->state),
                       JH_DB_INT(a->workflow_state), JH_DB_INT(a->confidence),
                       JH_DB_TEXT(a->policy_hash), JH_DB_TEXT(a->declined_hash),
                       JH_DB_TEXT(a->message), JH_DB_TEXT(now),
                       JH_DB_ID(a->task_instance), vals_value(a)),
      "assignments", err, errsize);
  return rc < 0 ? rc : 0;
}

int jh_prov_assignment_put(jh_idstore *s, const jh_prov_assignment *a,
                           int historize_it, int64_t *id, char *err,
                           size_t errsize) {
  int diff, rc = bad_assignment(a, err, errsize);

  if (rc != 0)
    return rc;
  if (a->id <= 0)
    return assignment_insert(s, a, id, err, errsize);
  if (id != NULL)
    *id = a->id;
  if ((diff = assignment_diff(s, a, err, errsize)) <= 0)
    return diff; /* unchanged, or an error */
  if (historize_it && (diff & 1) && (rc = historize(s, a->id, err, errsize)))
    return rc;
  return assignment_update(s, a, err, errsize);
}

int jh_prov_assignment_remove(jh_idstore *s, int64_t id, int historize_it,
                              char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st;
  int rc;

  if (historize_it && (rc = historize(s, id, err, errsize)) != 0)
    return rc;
  st = jh_db_stmt(db, "DELETE FROM assignments WHERE id = ?1");
  rc = run_write(s, st, st == NULL ? -EIO : JH_DB_BIND(db, st, JH_DB_INT(id)),
                 "assignments", err, errsize);
  if (rc == 0)
    return jh_idstore_fail(err, errsize, -ENOENT, "%s: no assignment %" PRId64,
                           jh_db_path(db), id);
  return rc < 0 ? rc : 0;
}

/* ---- state changes of stored assignments ---- */

/* Read assignment id's state and a writable copy of its values (in the
 * scratch slot of state changes): 1, 0 when there is no such
 * assignment, or a negative code with err. */
static int read_vals(jh_idstore *s, int64_t id, int *state, char **vals,
                     size_t *len, char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st = jh_db_stmt(
      db, "SELECT state, vals, sent FROM assignment_states WHERE id = ?1");
  int rc = st == NULL ? -EIO : JH_DB_BIND(db, st, JH_DB_INT(id));

  if (rc == 0 && (rc = jh_db_step(db, st, "assignments")) == 1) {
    const void *p = col_blob(st, 1, len);
    *state = sqlite3_column_int(st, 0);
    *vals = jh_idstore_scratch(s, SLOT_VALS, *len + 1);
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
  return rc < 0 ? read_fail(s, rc, err, errsize) : rc;
}

static int bad_vals(jh_idstore *s, int64_t id, char *err, size_t errsize) {
  return jh_idstore_fail(err, errsize, -EILSEQ,
                         "%s: assignment %" PRId64
                         ": its values cannot be read",
                         jh_db_path(jh_idstore_db(s)), id);
}

/* The row of order file file (relative to the orders folder) in
 * order_files, made when there is none, in *id: 0, or a negative code
 * with err. */
static int order_file_id(jh_idstore *s, const char *file, int64_t task_instance,
                         const char *now, int64_t *id, char *err,
                         size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st = jh_db_stmt(db,
                                "INSERT INTO order_files(path, "
                                "task_instance, written_at) VALUES "
                                "(?1, ?2, ?3) ON CONFLICT(path) DO NOTHING");
  int rc = run_write(s, st,
                     st == NULL
                         ? -EIO
                         : JH_DB_BIND(db, st, JH_DB_TEXT(file),
                                      JH_DB_ID(task_instance), JH_DB_TEXT(now)),
                     "order files", err, errsize);
  if (rc < 0)
    return rc;
  st = jh_db_stmt(db, "SELECT id FROM order_files WHERE path = ?1");
  rc = st == NULL ? -EIO : JH_DB_BIND(db, st, JH_DB_TEXT(file));
  if (rc == 0 && (rc = jh_db_step(db, st, "order files")) == 1)
    *id = sqlite3_column_int64(st, 0);
  jh_db_done(db, st);
  if (rc == 0)
    return jh_idstore_fail(err, errsize, -EIO, "%s: order file %s not recorded",
                           jh_db_path(db), file);
  return rc < 0 ? jh_idstore_db_fail(s, err, errsize) : 0;
}

/* ---- review ---- */

int jh_prov_list(jh_idstore *s, const jh_prov_filter *f,
                 int (*fn)(void *ud, const jh_prov_assignment *a), void *ud,
                 char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  int state = f != NULL ? f->state : -1;
  const char *rt = f != NULL ? f->resource_type : NULL;
  /* one pass over the table, in id order (no index on state: it would
   * cost every write of an assignment more than it saves here) */
  sqlite3_stmt *st = jh_db_stmt(
      db, state >= 0
              ? "SELECT " ASSIGNMENT_COLS " FROM assignment_states WHERE "
                "state = ?1 AND (?2 IS NULL OR resource_type = ?2) "
                "ORDER BY id"
              : "SELECT " ASSIGNMENT_COLS " FROM assignment_states WHERE "
                "?1 < 0 AND (?2 IS NULL OR resource_type = ?2) "
                "ORDER BY id");
  return each_assignment(
      s, st,
      st == NULL ? -EIO : JH_DB_BIND(db, st, JH_DB_INT(state), JH_DB_TEXT(rt)),
      fn, ud, err, errsize);
}

int jh_prov_list_owned(jh_idstore *s, const jh_prov_filter *f, int64_t owner_et,
                       int (*fn)(void *ud, const jh_prov_assignment *a,
                                 const jh_prov_resource *owner),
                       void *ud, char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  /* the owner's two rows by key, in the pass over the assignments */
  sqlite3_stmt *st = jh_db_stmt(
      db,
      "SELECT " ASSIGNMENT_COLS_OF(
          "a.") ", r.key, r.data, c.data, "
                "r.dirty | coalesce(c.dirty, 0) FROM assignment_states a "
                "LEFT JOIN resources r ON r.entity_type = ?3 AND r.key = a.owner_key "
                "LEFT JOIN computed c ON c.entity_type = ?3 AND c.key = a.owner_key "
                "WHERE a.state = ?1 AND a.resource_type = ?2 ORDER BY a.id");
  int rc = st == NULL
               ? -EIO
               : JH_DB_BIND(db, st, JH_DB_INT(f->state),
                            JH_DB_TEXT(f->resource_type), JH_DB_INT(owner_et));
  vals_buf b = {NULL, 0};
  jh_prov_assignment a;
  jh_prov_resource r;
  int stopped = 0;

  while (rc == 0 && (rc = jh_db_step(db, st, "assignments")) == 1 &&
         (rc = assignment_row(st, &a, &b)) == 0) {
    resource_row(st, ASSIGNMENT_NCOLS, &r);
    stopped = (rc = fn(ud, &a, r.key != NULL ? &r : NULL)) != 0;
  }
  jh_db_done(db, st);
  free(b.p);
  if (stopped)
    return rc;
  return rc < 0 ? read_fail(s, rc, err, errsize) : 0;
}

/* Add to *out the integer of st's first row, column 1, under the index
 * its column 0 gives (0..n-1; others are left out). */
static int count_rows(jh_idstore *s, sqlite3_stmt *st, int rc, int64_t *out,
                      int n, char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  while (rc == 0 && (rc = jh_db_step(db, st, "count assignments")) == 1) {
    int at = sqlite3_column_int(st, 0);
    if (at >= 0 && at < n)
      out[at] += sqlite3_column_int64(st, 1);
    rc = 0;
  }
  jh_db_done(db, st);
  return rc < 0 ? jh_idstore_db_fail(s, err, errsize) : 0;
}

int jh_prov_count_pending(jh_idstore *s, const char *resource_type,
                          int64_t counts[4], int64_t *live, char *err,
                          size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st;
  int rc;

  memset(counts, 0, 4 * sizeof(*counts));
  *live = 0;
  st = jh_db_stmt(db, "SELECT change_type, count(*) FROM assignment_states "
                      "WHERE resource_type = ?1 AND state = ?2 "
                      "GROUP BY change_type");
  rc = count_rows(s, st,
                  st == NULL ? -EIO
                             : JH_DB_BIND(db, st, JH_DB_TEXT(resource_type),
                                          JH_DB_INT(JH_PROV_PENDING)),
                  counts, 4, err, errsize);
  counts[0] = 0; /* nothing to send */
  if (rc != 0 || counts[1] + counts[2] + counts[3] == 0)
    return rc;
  st = jh_db_stmt(db, "SELECT 0, count(*) FROM assignments "
                      "WHERE resource_type = ?1 AND owner_key IS NOT NULL "
                      "AND target_key IS NOT NULL");
  return count_rows(s, st,
                    st == NULL ? -EIO
                               : JH_DB_BIND(db, st, JH_DB_TEXT(resource_type)),
                    live, 1, err, errsize);
}

/* What a review decision does. */
typedef struct decision {
  const char *name; /* "approved", "declined": reviews.decision */
  const char *verb; /* "approve", "decline" */
  int state;        /* of the assignment and its values Awaiting Approval */
  int workflow;
  int keep_hash; /* declined_hash = policy_hash */
} decision;

static const decision approval = {"approved", "approve", JH_PROV_PENDING,
                                  JH_WORKFLOW_APPROVED, 0};
static const decision declination = {"declined", "decline", JH_PROV_NONE,
                                     JH_WORKFLOW_DECLINED, 1};

/* Apply decision d to assignment id, which must be Awaiting Approval. */
static int decide_one(jh_idstore *s, const decision *d, int64_t id,
                      const char *now, char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st;
  char *vals = NULL;
  size_t len = 0;
  int state = JH_PROV_NONE;
  int rc = read_vals(s, id, &state, &vals, &len, err, errsize);

  if (rc == 0)
    return jh_idstore_fail(err, errsize, -ENOENT,
                           "assignment %" PRId64
                           " does not exist: nothing was %s",
                           id, d->name);
  if (rc < 0)
    return rc;
  if (state != JH_PROV_AWAITING_APPROVAL)
    return jh_idstore_fail(
        err, errsize, -EINVAL,
        "assignment %" PRId64 " is %s, not Awaiting Approval: "
        "nothing was %s",
        id, jh_prov_state_name(state) ? jh_prov_state_name(state) : "?",
        d->name);
  if (jh_prov_vals_restate(vals, len, JH_PROV_AWAITING_APPROVAL, d->state) != 0)
    return bad_vals(s, id, err, errsize);
  st = jh_db_stmt(db, "UPDATE assignments SET state = ?2, workflow_state = "
                      "?3, declined_hash = CASE WHEN ?4 THEN policy_hash "
                      "ELSE declined_hash END, vals = ?5, updated_at = ?6, "
                      "since = " LAST_ORDER " WHERE id = ?1");
  rc = run_write(s, st,
                 st == NULL
                     ? -EIO
                     : JH_DB_BIND(db, st, JH_DB_INT(id), JH_DB_INT(d->state),
                                  JH_DB_INT(d->workflow),
                                  JH_DB_INT(d->keep_hash),
                                  JH_DB_BLOB(vals, len), JH_DB_TEXT(now)),
                 "assignments", err, errsize);
  if (rc < 0)
    return rc;
  st = jh_db_stmt(db, "INSERT INTO reviews(assignment, decision, "
                      "policy_hash, decided_at) SELECT id, ?2, policy_hash, "
                      "?3 FROM assignments WHERE id = ?1");
  rc = run_write(s, st,
                 st == NULL ? -EIO
                            : JH_DB_BIND(db, st, JH_DB_INT(id),
                                         JH_DB_TEXT(d->name), JH_DB_TEXT(now)),
                 "reviews", err, errsize);
  return rc < 0 ? rc : 0;
}

static int cmp_id(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* The ids sorted, each once: a malloc'd array of *m ids, or NULL. */
static int64_t *unique_ids(const int64_t *ids, size_t n, size_t *m) {
  int64_t *u = malloc((n > 0 ? n : 1) * sizeof(*u));
  size_t k = 0;
  if (u == NULL)
    return NULL;
  if (n > 0)
    memcpy(u, ids, n * sizeof(*u));
  qsort(u, n, sizeof(*u), cmp_id);
  for (size_t i = 0; i < n; i++)
    if (k == 0 || u[k - 1] != u[i])
      u[k++] = u[i];
  *m = k;
  return u;
}

/* Apply d to every id in one transaction of its own, all or none. */
static int decide(jh_idstore *s, const decision *d, const int64_t *ids,
                  size_t n, char *err, size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  char now[JH_TIME_SIZE];
  size_t m = 0;
  int64_t *u;
  int rc;

  if (jh_db_in_transaction(db))
    return jh_idstore_fail(err, errsize, -EINVAL,
                           "%s: cannot %s inside another transaction",
                           jh_db_path(db), d->verb);
  if ((u = unique_ids(ids, n, &m)) == NULL)
    return jh_idstore_fail(err, errsize, -ENOMEM, "out of memory");
  now_iso(now);
  rc = jh_db_begin(db);
  if (rc != 0)
    rc = jh_idstore_db_fail(s, err, errsize);
  for (size_t i = 0; rc == 0 && i < m; i++)
    rc = decide_one(s, d, u[i], now, err, errsize);
  if (rc == 0 && (rc = jh_db_commit(db)) != 0)
    rc = jh_idstore_db_fail(s, err, errsize);
  if (rc != 0 && jh_db_in_transaction(db))
    jh_db_rollback(db);
  free(u);
  return rc;
}

int jh_prov_approve(jh_idstore *s, const int64_t *ids, size_t n, char *err,
                    size_t errsize) {
  return decide(s, &approval, ids, n, err, errsize);
}

int jh_prov_decline(jh_idstore *s, const int64_t *ids, size_t n, char *err,
                    size_t errsize) {
  return decide(s, &declination, ids, n, err, errsize);
}

/* ---- orders of one file, as a set ---- */

/* ids as a JSON array of integers (for json_each): NULL when out of
 * memory. */
static char *ids_json(const int64_t *ids, size_t n) {
  size_t cap = n * 21 + 3, len = 1;
  char *t = malloc(cap);
  if (t == NULL)
    return NULL;
  t[0] = '[';
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(t + len, cap - len, "%s%" PRId64, i ? "," : "",
                            ids[i]);
  t[len++] = ']';
  t[len] = '\0';
  return t;
}

int jh_prov_orders_written(jh_idstore *s, const int64_t *ids, size_t n,
                           int64_t task_instance, const char *file, char *err,
                           size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  char now[JH_TIME_SIZE], *list;
  int64_t file_id = 0;
  sqlite3_stmt *st;
  int rc;

  if (ids == NULL || n == 0 || file == NULL)
    return jh_idstore_fail(err, errsize, -EINVAL, "orders of %s: no assignment",
                           file != NULL ? file : "(no file)");
  if ((list = ids_json(ids, n)) == NULL)
    return jh_idstore_fail(err, errsize, -ENOMEM, "out of memory");
  now_iso(now);
  rc = order_file_id(s, file, task_instance, now, &file_id, err, errsize);
  /* the order rows alone: each makes its assignment, Pending since before
   * it, Transmitted (assignment_states), without a write of the
   * assignment */
  if (rc == 0) {
    st = jh_db_stmt(db, "INSERT INTO orders(assignment, change_type, file) "
                        "SELECT a.id, a.change_type, ?2 "
                        "FROM json_each(?1) AS j JOIN assignments AS a "
                        "ON a.id = j.value ORDER BY j.key");
    rc = st == NULL ? -EIO
                    : JH_DB_BIND(db, st, JH_DB_TEXT(list), JH_DB_INT(file_id));
    if (rc == 0)
      rc = jh_db_step_done(db, st, "orders");
    jh_db_done(db, st);
    if (rc < 0)
      rc = jh_idstore_db_fail(s, err, errsize);
    else if ((size_t)jh_db_changes(db) != n)
      rc = jh_idstore_fail(
          err, errsize, -ENOENT,
          "%s: %zu orders of %s name assignments not in the store",
          jh_db_path(db), n - (size_t)jh_db_changes(db), file);
  }
  free(list);
  return rc;
}

int jh_prov_order_file_recorded(jh_idstore *s, const char *file, char *err,
                                size_t errsize) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st = jh_db_stmt(db,
                                "SELECT 1 FROM order_files WHERE path = ?1");
  int rc = st == NULL ? -EIO : JH_DB_BIND(db, st, JH_DB_TEXT(file));
  if (rc == 0)
    rc = jh_db_step(db, st, "orders");
  jh_db_done(db, st);
  return rc < 0 ? jh_idstore_db_fail(s, err, errsize) : rc;
}
