/*
 * provstore_scan.c — jh_prov_scan (provstore.h): every resource of an
 * entity type with its computed values, in key order.
 *
 * resources and computed share their key, (entity_type, key), so both are
 * read in key order and merged here, rather than joined in SQL: a join
 * looks each resource's computed row up from the root of its B-tree, and
 * over a million resources those lookups cost several times the two
 * reads (doc/compute.md, "Speed").
 *
 * Each side is read a batch of rows at a time into memory owned by the
 * scan, the next batch starting after the last key read. The callback may
 * so write to either table as it goes without moving a cursor of the
 * scan, and what it is given stays valid through its writes. Rows it
 * writes behind the scan's position are not read again: a batch is
 * fetched before the callback of the first resource past the previous
 * one, when every row written so far has a key before that resource's.
 */
#include "config.h"

#include "provstore.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

/* Rows read at a time from each side. */
#define SCAN_BATCH 512

typedef struct scan_row {
  size_t key, key_len, data, data_len; /* offsets into the side's bytes */
  int dirty;
} scan_row;

/* One side of the merge: the rows of one table in key order. */
typedef struct scan_side {
  const char *table;
  const char *first, *next; /* SQL of the first batch, of the others */
  scan_row rows[SCAN_BATCH];
  size_t n, at;
  char *bytes;
  size_t len, cap;
  char *last; /* a copy of the last key read, where the next batch starts */
  size_t last_len, last_cap;
  int started, ended;
} scan_side;

/* Room for n more bytes in *p (of *len used, *cap allocated): 0 or
 * -ENOMEM. */
static int grow(char **p, size_t *cap, size_t len, size_t n) {
  size_t want = *cap ? *cap : 16384;
  char *q;
  if (len + n <= *cap)
    return 0;
  while (want < len + n)
    want *= 2;
  q = realloc(*p, want);
  if (q == NULL)
    return -ENOMEM;
  *p = q;
  *cap = want;
  return 0;
}

static int keep_bytes(scan_side *d, const void *p, size_t n, size_t *at) {
  if (grow(&d->bytes, &d->cap, d->len, n + 1) != 0)
    return -ENOMEM;
  *at = d->len;
  if (n > 0)
    memcpy(d->bytes + d->len, p, n);
  d->bytes[d->len + n] = '\0';
  d->len += n + 1;
  return 0;
}

/* Read d's next batch: 0 (d->ended when there was none), or a negative
 * code. */
static int fetch(jh_idstore *s, scan_side *d, int64_t et) {
  jh_db *db = jh_idstore_db(s);
  sqlite3_stmt *st = jh_db_stmt(db, d->started ? d->next : d->first);
  int rc = st == NULL ? -EIO
           : d->started
               ? JH_DB_BIND(db, st, JH_DB_INT(et),
                            JH_DB_TEXTN(d->last, d->last_len),
                            JH_DB_INT(SCAN_BATCH))
               : JH_DB_BIND(db, st, JH_DB_INT(et), JH_DB_INT(SCAN_BATCH));

  d->n = d->at = d->len = 0;
  d->started = 1;
  while (rc == 0 && (rc = jh_db_step(db, st, d->table)) == 1) {
    scan_row *r = &d->rows[d->n];
    const void *key = sqlite3_column_text(st, 0);
    const void *data = sqlite3_column_blob(st, 1);
    r->key_len = (size_t)sqlite3_column_bytes(st, 0);
    r->data_len = (size_t)sqlite3_column_bytes(st, 1);
    r->dirty = sqlite3_column_int(st, 2);
    rc = keep_bytes(d, key, r->key_len, &r->key);
    if (rc == 0)
      rc = keep_bytes(d, data, r->data_len, &r->data);
    if (rc == 0)
      d->n++;
  }
  jh_db_done(db, st);
  if (rc < 0)
    return rc;
  if (d->n == 0) {
    d->ended = 1;
    return 0;
  }
  {
    const scan_row *r = &d->rows[d->n - 1];
    if (grow(&d->last, &d->last_cap, 0, r->key_len + 1) != 0)
      return -ENOMEM;
    memcpy(d->last, d->bytes + r->key, r->key_len);
    d->last_len = r->key_len;
  }
  return 0;
}

/* d's current row, reading the next batch when needed: the row, or NULL
 * at the end (*rc set when a read failed). */
static const scan_row *current(jh_idstore *s, scan_side *d, int64_t et,
                               int *rc) {
  if (d->at == d->n && !d->ended && (*rc = fetch(s, d, et)) != 0)
    return NULL;
  return d->at < d->n ? &d->rows[d->at] : NULL;
}

/* Keys in SQLite's order for text (BINARY: bytes, then length). */
static int cmp_key(const char *a, size_t alen, const char *b, size_t blen) {
  int c = memcmp(a, b, alen < blen ? alen : blen);
  if (c != 0)
    return c;
  return alen < blen ? -1 : alen > blen;
}

static void side_free(scan_side *d) {
  free(d->bytes);
  free(d->last);
}

#define NEXT_AFTER " AND key > ?2 ORDER BY key LIMIT ?3"

int jh_prov_scan(jh_idstore *s, int64_t et, int dirty_mask,
                 int (*fn)(void *ud, const jh_prov_resource *r), void *ud,
                 char *err, size_t errsize) {
  scan_side *res = calloc(1, sizeof(*res)), *com = calloc(1, sizeof(*com));
  int rc = res == NULL || com == NULL ? -ENOMEM : 0, stopped = 0;
  const scan_row *r, *c;

  if (rc == 0) {
    res->table = "resources";
    com->table = "computed";
    res->first = "SELECT key, data, dirty FROM resources WHERE "
                 "entity_type = ?1 ORDER BY key LIMIT ?2";
    res->next = "SELECT key, data, dirty FROM resources WHERE "
                "entity_type = ?1" NEXT_AFTER;
    com->first = "SELECT key, data, dirty FROM computed WHERE "
                 "entity_type = ?1 ORDER BY key LIMIT ?2";
    com->next = "SELECT key, data, dirty FROM computed WHERE "
                "entity_type = ?1" NEXT_AFTER;
  }
  while (rc == 0 && (r = current(s, res, et, &rc)) != NULL) {
    const char *key = res->bytes + r->key;
    jh_prov_resource out;
    /* the computed row of r, if any, past those of keys before it */
    while ((c = current(s, com, et, &rc)) != NULL &&
           cmp_key(com->bytes + c->key, c->key_len, key, r->key_len) < 0)
      com->at++;
    if (rc != 0)
      break;
    if (c != NULL &&
        cmp_key(com->bytes + c->key, c->key_len, key, r->key_len) != 0)
      c = NULL;
    out.key = key;
    out.key_len = r->key_len;
    out.data = res->bytes + r->data;
    out.data_len = r->data_len;
    out.has_computed = c != NULL;
    out.computed = c != NULL ? com->bytes + c->data : "";
    out.computed_len = c != NULL ? c->data_len : 0;
    out.dirty = r->dirty | (c != NULL ? c->dirty : 0);
    res->at++;
    if (dirty_mask != 0 && (out.dirty & dirty_mask) == 0)
      continue;
    if ((rc = fn(ud, &out)) != 0)
      stopped = 1;
  }
  if (res != NULL)
    side_free(res);
  if (com != NULL)
    side_free(com);
  free(res);
  free(com);
  if (stopped || rc == 0)
    return rc;
  if (rc == -ENOMEM)
    return jh_idstore_fail(err, errsize, rc, "out of memory");
  return jh_idstore_db_fail(s, err, errsize);
}
