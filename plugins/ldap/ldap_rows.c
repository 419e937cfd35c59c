/*
 * ldap_rows.c — the tables of an `ldap` export, in the shape the `ldif`
 * package writes (doc/ldap.md):
 *
 *   <prefix>_entries  dn, then one column per single-valued attribute of
 *                     setting `attributes`, in that order
 *   <prefix>_<attr>   dn,<attr>: one row per value of each attribute
 *                     that setting `multi_valued` lists
 *
 * A value that is not UTF-8 text (or holds a NUL byte) is written as its
 * base64 text, with one warning per attribute. An entry with several
 * values of an attribute multi_valued does not list is an error naming
 * the entry and the attribute: the export is not kept.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <unistr.h>

#include "array.h"
#include "ldap_export.h"

static int reserve(jh_ldap_buf *b, size_t more) {
  if (more > SIZE_MAX - b->len)
    return -ENOMEM;
  return jh_array_reserve(&b->p, &b->cap, b->len + more, 1, 512);
}

static int is_text(const struct berval *v) {
  return memchr(v->bv_val, '\0', v->bv_len) == NULL &&
         u8_check((const uint8_t *)v->bv_val, v->bv_len) == NULL;
}

static void base64(const unsigned char *in, size_t len, char *out) {
  static const char digit[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i;
  for (i = 0; i + 3 <= len; i += 3) {
    unsigned long v = (unsigned long)in[i] << 16 | in[i + 1] << 8 | in[i + 2];
    for (int k = 3; k >= 0; k--)
      *out++ = digit[(v >> (6 * k)) & 63];
  }
  if (i < len) {
    unsigned long v = (unsigned long)in[i] << 16;
    if (i + 1 < len)
      v |= (unsigned long)in[i + 1] << 8;
    *out++ = digit[v >> 18];
    *out++ = digit[(v >> 12) & 63];
    *out++ = i + 1 < len ? digit[(v >> 6) & 63] : '=';
    *out++ = '=';
  }
  *out = '\0';
}

/* Append v as a NUL-terminated field: its offset in *off, *binary set
 * when it went in as base64. */
static int append(jh_ldap_buf *b, const struct berval *v, size_t *off,
                  int *binary) {
  size_t len = v->bv_len;
  *binary = len > 0 && !is_text(v);
  if (*binary) {
    size_t n = (len + 2) / 3 * 4;
    if (reserve(b, n + 1) != 0)
      return -ENOMEM;
    *off = b->len;
    base64((const unsigned char *)v->bv_val, len, b->p + b->len);
    b->len += n + 1;
    return 0;
  }
  if (reserve(b, len + 1) != 0)
    return -ENOMEM;
  *off = b->len;
  if (len > 0)
    memcpy(b->p + b->len, v->bv_val, len);
  b->p[b->len + len] = '\0';
  b->len += len + 1;
  return 0;
}

static int oom(jh_ldap_job *x) {
  return jh_ldap_fail(x->l, -ENOMEM, "out of memory");
}

static int open_table(jh_ldap_job *x, const char *suffix,
                      const char *const *cols, size_t n, jobhost_table **out) {
  char *name = NULL;
  int rc;
  if (asprintf(&name, "%s_%s", x->prefix, suffix) < 0)
    return oom(x);
  rc = x->ctx->svc->table_open(x->ctx, name, cols, n, out);
  if (rc != 0 && rc != JOBHOST_ECANCELLED)
    jh_ldap_fail(x->l, rc, "cannot start table %s: %s", name,
                 jobhost_strerror(rc));
  free(name);
  return rc;
}

int jh_ldap_rows_open(jh_ldap_job *x) {
  size_t lead = x->command != NULL; /* the command column first */
  int rc;
  x->ncolumns = 1 + lead;
  for (size_t i = 0; i < x->nattrs; i++)
    if (!x->attrs[i].multi)
      x->ncolumns++;
  x->row = calloc(x->ncolumns, sizeof(*x->row));
  x->offsets = calloc(x->ncolumns, sizeof(*x->offsets));
  if (x->row == NULL || x->offsets == NULL)
    return oom(x);
  if (lead)
    x->row[0] = x->command;
  x->row[lead] = "dn";
  for (size_t i = 0, c = 1 + lead; i < x->nattrs; i++)
    if (!x->attrs[i].multi) {
      x->attrs[i].column = c;
      x->row[c++] = x->attrs[i].name;
    }
  rc = open_table(x, "entries", x->row, x->ncolumns, &x->entries);
  for (size_t i = 0; rc == 0 && i < x->nattrs; i++) {
    jh_ldap_attr *a = &x->attrs[i];
    const char *cols[3] = {x->command, "dn", a->name};
    if (a->multi)
      rc = open_table(x, a->name, cols + !lead, 2 + lead, &a->table);
  }
  return rc;
}

int jh_ldap_rows_close(jh_ldap_job *x, int rc) {
  const jobhost_services *svc = x->ctx->svc;
  int crc;
  if (x->entries != NULL) {
    crc = svc->table_close(x->entries);
    x->entries = NULL;
    if (rc == 0 && crc != 0)
      rc = jh_ldap_fail(x->l, crc, "cannot finish the entries table: %s",
                        jobhost_strerror(crc));
  }
  for (size_t i = 0; i < x->nattrs; i++) {
    jh_ldap_attr *a = &x->attrs[i];
    if (a->table == NULL)
      continue;
    crc = svc->table_close(a->table);
    a->table = NULL;
    if (rc == 0 && crc != 0)
      rc = jh_ldap_fail(x->l, crc, "cannot finish the table of %s: %s", a->name,
                        jobhost_strerror(crc));
  }
  return rc;
}

void jh_ldap_rows_free(jh_ldap_job *x) {
  free(x->seen);
  x->seen = NULL;
  free(x->row);
  free(x->offsets);
  free(x->buf.p);
  free(x->value.p);
  x->row = NULL;
  x->offsets = NULL;
  memset(&x->buf, 0, sizeof(x->buf));
  memset(&x->value, 0, sizeof(x->value));
}

/* The DN of the entry being written (the buffer may move). */
static const char *cur_dn(const jh_ldap_job *x) { return x->buf.p + x->dn_off; }

static jh_ldap_attr *find_attr(jh_ldap_job *x, const struct berval *name) {
  for (size_t i = 0; i < x->nattrs; i++)
    if (strlen(x->attrs[i].name) == name->bv_len &&
        strncasecmp(x->attrs[i].name, name->bv_val, name->bv_len) == 0)
      return &x->attrs[i];
  return NULL;
}

static void warn_binary(jh_ldap_job *x, jh_ldap_attr *a) {
  if (a->warned_binary)
    return;
  a->warned_binary = 1;
  jobhost_warning(x->ctx,
                  "entry '%s': values of attribute %s are not UTF-8 text: "
                  "exported in base64",
                  cur_dn(x), a->name);
}

static int write_failed(jh_ldap_job *x, int rc) {
  if (rc != JOBHOST_ECANCELLED)
    jh_ldap_fail(x->l, rc, "cannot write entry '%s': %s", cur_dn(x),
                 jobhost_strerror(rc));
  return rc;
}

/* The association rows of multi-valued attribute a. */
static int write_multi(jh_ldap_job *x, jh_ldap_attr *a, struct berval *vals) {
  for (size_t k = 0; vals[k].bv_val != NULL; k++) {
    const char *cols[3] = {JH_LDAP_COMMAND};
    size_t lead = x->command != NULL, off;
    int binary, rc;
    if (vals[k].bv_len == 0)
      continue;
    x->value.len = 0;
    if (append(&x->value, &vals[k], &off, &binary) != 0)
      return oom(x);
    if (binary)
      warn_binary(x, a);
    cols[1] = cur_dn(x);
    cols[2] = x->value.p + off;
    rc = x->ctx->svc->table_write(a->table, cols + !lead, 2 + lead);
    if (rc != 0)
      return write_failed(x, rc);
  }
  return 0;
}

/* Keep a modifyTimestamp value when it is later than max_time. */
static void keep_time(jh_ldap_job *x, const struct berval *v) {
  size_t n = strlen(x->max_time);
  if (v->bv_len == 0 || v->bv_len >= sizeof(x->max_time))
    return;
  if (n == 0 || (v->bv_len == n && memcmp(v->bv_val, x->max_time, n) > 0) ||
      v->bv_len > n) {
    memcpy(x->max_time, v->bv_val, v->bv_len);
    x->max_time[v->bv_len] = '\0';
  }
}

/* One attribute of the entry: into the row, or its association rows. */
static int take_attr(jh_ldap_job *x, const struct berval *name,
                     struct berval *vals) {
  static const struct berval mts = {15, (char *)"modifyTimestamp"};
  jh_ldap_attr *a;
  size_t n = 0;
  int binary;

  if (vals == NULL)
    return 0;
  while (vals[n].bv_val != NULL)
    n++;
  if (n > 0 && name->bv_len == mts.bv_len &&
      strncasecmp(name->bv_val, mts.bv_val, mts.bv_len) == 0)
    keep_time(x, &vals[0]);
  a = find_attr(x, name);
  if (a == NULL || n == 0)
    return 0;
  if (a->multi)
    return write_multi(x, a, vals);
  if (n > 1)
    return jh_ldap_fail(x->l, -EILSEQ,
                        "entry '%s' holds %zu values of attribute %s, which "
                        "setting multi_valued does not list",
                        cur_dn(x), n, a->name);
  if (append(&x->buf, &vals[0], &x->offsets[a->column], &binary) != 0)
    return oom(x);
  if (binary)
    warn_binary(x, a);
  return 0;
}

/* ---- the DNs written from the current base ---- */

void jh_ldap_rows_new_base(jh_ldap_job *x) {
  if (x->seen != NULL)
    memset(x->seen, 0, x->seen_cap * sizeof(*x->seen));
  x->nseen = 0;
  x->resumed = 0;
}

static uint64_t dn_hash(const char *s) {
  uint64_t h = 1469598103934665603u;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211u;
  }
  return h != 0 ? h : 1;
}

/* The slot of h: where it is, or the free slot where it goes. */
static size_t seen_slot(const jh_ldap_job *x, uint64_t h) {
  size_t mask = x->seen_cap - 1, i = (size_t)h & mask;
  while (x->seen[i] != 0 && x->seen[i] != h)
    i = (i + 1) & mask;
  return i;
}

static int seen_grow(jh_ldap_job *x) {
  size_t cap = x->seen_cap ? x->seen_cap * 2 : 1024;
  uint64_t *old = x->seen;
  size_t oldcap = x->seen_cap;
  x->seen = calloc(cap, sizeof(*x->seen));
  if (x->seen == NULL) {
    x->seen = old;
    return -ENOMEM;
  }
  x->seen_cap = cap;
  for (size_t i = 0; i < oldcap; i++)
    if (old[i] != 0)
      x->seen[seen_slot(x, old[i])] = old[i];
  free(old);
  return 0;
}

/* Record the DN being written: 1 when it was already (and resumed), 0
 * when new, -ENOMEM. */
static int seen_check(jh_ldap_job *x, const char *dn) {
  uint64_t h = dn_hash(dn);
  size_t i;
  if ((x->nseen + 1) * 2 > x->seen_cap && seen_grow(x) != 0)
    return -ENOMEM;
  i = seen_slot(x, h);
  if (x->seen[i] == h)
    return x->resumed;
  x->seen[i] = h;
  x->nseen++;
  return 0;
}

/* The row values once the buffer no longer moves. */
static void fill_row(jh_ldap_job *x) {
  for (size_t c = 0; c < x->ncolumns; c++)
    x->row[c] = x->offsets[c] == SIZE_MAX ? NULL : x->buf.p + x->offsets[c];
  if (x->command != NULL)
    x->row[0] = JH_LDAP_COMMAND;
}

int jh_ldap_rows_write(jh_ldap_job *x, LDAPMessage *entry) {
  BerElement *ber = NULL;
  struct berval dn, name, *vals = NULL;
  int binary, rc;

  x->buf.len = 0;
  for (size_t c = 0; c < x->ncolumns; c++)
    x->offsets[c] = SIZE_MAX;
  rc = ldap_get_dn_ber(x->l->ld, entry, &ber, &dn);
  if (rc != LDAP_SUCCESS)
    return jh_ldap_fail(x->l, -EPROTO, "a search result entry without a DN");
  /* The DN is text: a DN that is not goes in as base64, like a value. */
  if (append(&x->buf, &dn, &x->dn_off, &binary) != 0) {
    ber_free(ber, 0);
    return oom(x);
  }
  x->offsets[x->command != NULL] = x->dn_off;
  rc = seen_check(x, cur_dn(x));
  if (rc != 0) {
    ber_free(ber, 0);
    return rc > 0 ? 1 : oom(x);
  }
  for (rc = ldap_get_attribute_ber(x->l->ld, entry, ber, &name, &vals);
       rc == LDAP_SUCCESS && name.bv_val != NULL;
       rc = ldap_get_attribute_ber(x->l->ld, entry, ber, &name, &vals)) {
    int trc = take_attr(x, &name, vals);
    ber_memfree(vals);
    vals = NULL;
    if (trc != 0) {
      ber_free(ber, 0);
      return trc;
    }
  }
  ber_memfree(vals);
  ber_free(ber, 0);
  if (rc != LDAP_SUCCESS)
    return jh_ldap_fail(x->l, -EPROTO, "entry '%s': malformed attributes",
                        cur_dn(x));
  fill_row(x);
  rc = x->ctx->svc->table_write(x->entries, x->row, x->ncolumns);
  return rc != 0 ? write_failed(x, rc) : 0;
}
