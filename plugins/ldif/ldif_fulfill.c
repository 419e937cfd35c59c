/*
 * ldif_fulfill.c — the fulfillment of the `ldif` package (doc/fulfill.md,
 * "The ldif package").
 *
 * fulfill_begin reads the whole directory file (with the export's reader,
 * so the same files are accepted) into memory and checks that its folder
 * can be written; each order changes the entries in memory; fulfill_end
 * writes the directory once, beside the file, and renames it over the
 * file (lib/atomic_file.h), so a reader (the next export) sees the file
 * before or after every order of the task, never between.
 *
 * Entries are found by their DN compared without regard to case. An
 * Added order makes an entry of its changes (the dn property gives its
 * DN), a Modified one sets, adds and removes values (a change of the dn
 * property renames the entry), a Deleted one removes the entry. Values
 * are compared without regard to case when added or removed. The file
 * is written as version 1 LDIF in entry order (new entries last), values
 * in base64 where LDIF needs it; comments of the old file are not kept.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "array.h"
#include "atomic_file.h"
#include "ldif.h"

typedef struct lf_attr {
  char *name;
  char **vals; /* NUL-terminated copies (a NUL inside is refused) */
  size_t *lens;
  size_t n, cap;
} lf_attr;

typedef struct lf_entry {
  char *dn;
  lf_attr *attrs;
  size_t nattrs, cap;
  int gone;
} lf_entry;

typedef struct ldif_dir {
  char *path;
  const char *conn;
  lf_entry *e;
  size_t n, cap;
  size_t *slot; /* index + 1 of the live entry with that DN; 0 free */
  size_t nslot; /* a power of two, more than twice n */
  int loaded, changed;
} ldif_dir;

/* ---- entries ---- */

static void attr_free(lf_attr *a) {
  for (size_t i = 0; i < a->n; i++)
    free(a->vals[i]);
  free(a->vals);
  free(a->lens);
  free(a->name);
}

static void attrs_free(lf_attr *attrs, size_t n) {
  for (size_t i = 0; i < n; i++)
    attr_free(&attrs[i]);
  free(attrs);
}

static uint64_t dn_hash(const char *s) {
  uint64_t h = 1469598103934665603u;
  for (; *s; s++) {
    h ^= (unsigned char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
    h *= 1099511628211u;
  }
  return h;
}

/* The slot of dn: where it is, or the free one where it would go. */
static size_t *dn_slot(ldif_dir *d, const char *dn) {
  size_t mask = d->nslot - 1, i = dn_hash(dn) & mask;
  while (d->slot[i] != 0 && strcasecmp(d->e[d->slot[i] - 1].dn, dn) != 0)
    i = (i + 1) & mask;
  return &d->slot[i];
}

static lf_entry *find(ldif_dir *d, const char *dn) {
  size_t *s = d->nslot > 0 ? dn_slot(d, dn) : NULL;
  return s != NULL && *s != 0 ? &d->e[*s - 1] : NULL;
}

/* Rebuild the index over the live entries, with room for more. */
static int reindex(ldif_dir *d, size_t nslot) {
  size_t *slot = calloc(nslot, sizeof(*slot));
  if (slot == NULL)
    return -ENOMEM;
  free(d->slot);
  d->slot = slot;
  d->nslot = nslot;
  for (size_t k = 0; k < d->n; k++)
    if (!d->e[k].gone)
      *dn_slot(d, d->e[k].dn) = k + 1;
  return 0;
}

/* A new entry named dn (not in the index yet): its index, or -ENOMEM. */
static long new_entry(ldif_dir *d, const char *dn) {
  char *copy;
  if ((d->n + 1) * 2 >= d->nslot &&
      reindex(d, d->nslot ? d->nslot * 2 : 1024) != 0)
    return -ENOMEM;
  if (jh_array_reserve(&d->e, &d->cap, d->n + 1, sizeof(*d->e), 256) != 0 ||
      (copy = strdup(dn)) == NULL)
    return -ENOMEM;
  memset(&d->e[d->n], 0, sizeof(d->e[d->n]));
  d->e[d->n].dn = copy;
  *dn_slot(d, dn) = d->n + 1;
  return (long)d->n++;
}

static lf_attr *attr_find(lf_attr *attrs, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcasecmp(attrs[i].name, name) == 0)
      return &attrs[i];
  return NULL;
}

/* The attribute name of *attrs, added when absent. */
static lf_attr *attr_get(lf_attr **attrs, size_t *n, size_t *cap,
                         const char *name) {
  lf_attr *a = attr_find(*attrs, *n, name);
  if (a != NULL)
    return a;
  if (jh_array_reserve(attrs, cap, *n + 1, sizeof(**attrs), 8) != 0)
    return NULL;
  a = &(*attrs)[*n];
  memset(a, 0, sizeof(*a));
  if ((a->name = strdup(name)) == NULL)
    return NULL;
  (*n)++;
  return a;
}

static int has_value(const lf_attr *a, const char *v, size_t len) {
  for (size_t i = 0; i < a->n; i++)
    if (a->lens[i] == len && strncasecmp(a->vals[i], v, len) == 0)
      return 1;
  return 0;
}

/* Append a copy of v (len bytes) to a: 0 or -ENOMEM. */
static int value_add(lf_attr *a, const char *v, size_t len) {
  char *copy;
  size_t cap = a->cap;
  if (jh_array_reserve(&a->vals, &cap, a->n + 1, sizeof(*a->vals), 4) != 0 ||
      jh_array_reserve(&a->lens, &a->cap, a->n + 1, sizeof(*a->lens), 4) != 0)
    return -ENOMEM;
  if ((copy = malloc(len + 1)) == NULL)
    return -ENOMEM;
  memcpy(copy, v, len);
  copy[len] = '\0';
  a->vals[a->n] = copy;
  a->lens[a->n++] = len;
  return 0;
}

static void value_remove(lf_attr *a, const char *v, size_t len) {
  for (size_t i = 0; i < a->n; i++) {
    if (a->lens[i] != len || strncasecmp(a->vals[i], v, len) != 0)
      continue;
    free(a->vals[i]);
    a->n--;
    memmove(&a->vals[i], &a->vals[i + 1], (a->n - i) * sizeof(*a->vals));
    memmove(&a->lens[i], &a->lens[i + 1], (a->n - i) * sizeof(*a->lens));
    i--;
  }
}

/* ---- reading the file ---- */

/* The entry in->lr into the directory. */
static int load_entry(ldif_dir *d, ldif_in *in) {
  const struct berval *dnv = &in->lr.lr_dn;
  char dn[4096];
  lf_entry *e;
  long k;
  if (dnv->bv_len >= sizeof(dn))
    return ldif_in_fail(in, -ENAMETOOLONG, "%s:%lu: the dn is too long",
                        in->path, in->rec_line);
  memcpy(dn, dnv->bv_val, dnv->bv_len);
  dn[dnv->bv_len] = '\0';
  if (find(d, dn) != NULL)
    return ldif_in_fail(in, -EEXIST,
                        "%s:%lu: a second entry %s: the directory cannot be "
                        "changed while two entries have one DN",
                        in->path, in->rec_line, dn);
  if ((k = new_entry(d, dn)) < 0)
    return ldif_in_fail(in, -ENOMEM, "out of memory");
  e = &d->e[k];
  for (LDAPMod **m = in->lr.lrop_mods; m != NULL && *m != NULL; m++) {
    lf_attr *a = attr_get(&e->attrs, &e->nattrs, &e->cap, (*m)->mod_type);
    for (size_t i = 0;
         a != NULL && (*m)->mod_bvalues != NULL && (*m)->mod_bvalues[i] != NULL;
         i++) {
      const struct berval *v = (*m)->mod_bvalues[i];
      if (value_add(a, v->bv_val, v->bv_len) != 0)
        a = NULL;
    }
    if (a == NULL)
      return ldif_in_fail(in, -ENOMEM, "out of memory");
  }
  return 0;
}

static int load(ldif_dir *d, jobhost_ctx *ctx) {
  ldif_in in;
  BER_LOG_PRINT_FN old;
  int rc;
  memset(&in, 0, sizeof(in));
  in.ctx = ctx;
  in.conn = d->conn;
  in.path = d->path;
  in.not_done = "no order is applied";
  rc = ldif_url_folder_setting(&in);
  if (rc != 0)
    return rc;
  old = ldif_libldap_messages_begin();
  rc = ldif_in_open(&in);
  while (rc == 0 && (rc = ldif_in_next(&in, 1)) == 1)
    rc = load_entry(d, &in);
  ldif_libldap_messages_end(old);
  ldif_in_close(&in);
  free(in.url_folder);
  return rc < 0 ? rc : 0;
}

/* ---- entry points ---- */

int lf_open(jobhost_ctx *ctx, void **state) {
  ldif_dir *d = calloc(1, sizeof(*d));
  if (d == NULL)
    return -ENOMEM;
  d->conn = ctx->connection != NULL ? ctx->connection : "(none)";
  *state = d;
  return 0;
}

void lf_close(jobhost_ctx *ctx, void *state) {
  ldif_dir *d = state;
  (void)ctx;
  if (d == NULL)
    return;
  for (size_t k = 0; k < d->n; k++) {
    attrs_free(d->e[k].attrs, d->e[k].nattrs);
    free(d->e[k].dn);
  }
  free(d->e);
  free(d->slot);
  free(d->path);
  free(d);
}

/* The folder of path can take a new file. */
static int check_writable(jobhost_ctx *ctx, const ldif_dir *d) {
  char *dir = strdup(d->path), *slash;
  int rc = 0;
  if (dir == NULL)
    return -ENOMEM;
  slash = strrchr(dir, '/');
  if (slash == NULL)
    strcpy(dir, ".");
  else if (slash == dir)
    dir[1] = '\0';
  else
    *slash = '\0';
  if (access(dir, W_OK | X_OK) != 0) {
    rc = -errno;
    ctx->svc->set_message(ctx,
                          "connection %s: %s: the folder of the directory "
                          "file cannot be written: %s",
                          d->conn, dir, strerror(errno));
  }
  free(dir);
  return rc;
}

int lf_fulfill_begin(jobhost_ctx *ctx, void *state) {
  ldif_dir *d = state;
  const char *path = ctx->svc->setting(ctx, "path");
  int rc;
  if (path == NULL || *path == '\0') {
    ctx->svc->set_message(ctx,
                          "connection %s: setting path is not set; no order "
                          "is applied",
                          d->conn);
    return JOBHOST_ECONFIG;
  }
  if ((d->path = strdup(path)) == NULL)
    return -ENOMEM;
  rc = load(d, ctx);
  if (rc == 0)
    rc = check_writable(ctx, d);
  d->loaded = rc == 0;
  if (rc == 0)
    jobhost_info(ctx, "directory %s: %zu entries read", d->path, d->n);
  return rc;
}

/* ---- orders ---- */

static int is_dn(const char *name) { return strcasecmp(name, "dn") == 0; }

/* The first value of v as the new DN, or NULL. */
static const char *dn_change(const jobhost_order *o) {
  for (size_t i = 0; i < o->nchanges; i++)
    if (is_dn(o->changes[i].name) && o->changes[i].nvalues > 0)
      return o->changes[i].values[0];
  return NULL;
}

/* A deep copy of e's attributes: 0 or -ENOMEM. */
static int copy_attrs(const lf_entry *e, lf_attr **out, size_t *n,
                      size_t *cap) {
  *out = NULL;
  *n = *cap = 0;
  for (size_t i = 0; i < e->nattrs; i++) {
    lf_attr *a = attr_get(out, n, cap, e->attrs[i].name);
    for (size_t k = 0; a != NULL && k < e->attrs[i].n; k++)
      if (value_add(a, e->attrs[i].vals[k], e->attrs[i].lens[k]) != 0)
        a = NULL;
    if (a == NULL)
      return -ENOMEM;
  }
  return 0;
}

/* Set each changed property to its values (none: removed), then add
 * and remove the values of multi-valued ones. */
static int change_attrs(const jobhost_order *o, lf_attr **attrs, size_t *n,
                        size_t *cap) {
  for (size_t i = 0; i < o->nchanges; i++) {
    const jobhost_order_value *c = &o->changes[i];
    lf_attr *a;
    if (is_dn(c->name))
      continue;
    a = attr_get(attrs, n, cap, c->name);
    if (a == NULL)
      return -ENOMEM;
    while (a->n > 0)
      free(a->vals[--a->n]);
    for (size_t k = 0; k < c->nvalues; k++)
      if (c->values[k][0] != '\0' &&
          value_add(a, c->values[k], strlen(c->values[k])) != 0)
        return -ENOMEM;
  }
  for (size_t i = 0; i < o->nadded; i++) {
    lf_attr *a = attr_get(attrs, n, cap, o->added[i].name);
    for (size_t k = 0; a != NULL && k < o->added[i].nvalues; k++) {
      const char *v = o->added[i].values[k];
      if (!has_value(a, v, strlen(v)) && value_add(a, v, strlen(v)) != 0)
        a = NULL;
    }
    if (a == NULL)
      return -ENOMEM;
  }
  for (size_t i = 0; i < o->nremoved; i++) {
    lf_attr *a = attr_find(*attrs, *n, o->removed[i].name);
    for (size_t k = 0; a != NULL && k < o->removed[i].nvalues; k++)
      value_remove(a, o->removed[i].values[k], strlen(o->removed[i].values[k]));
  }
  return 0;
}

/* Drop the attributes left without a value. */
static void compact(lf_attr *attrs, size_t *n) {
  size_t w = 0;
  for (size_t i = 0; i < *n; i++) {
    if (attrs[i].n == 0)
      attr_free(&attrs[i]);
    else
      attrs[w++] = attrs[i];
  }
  *n = w;
}

static int order_failed(char *message, size_t size, int rc, const char *fmt,
                        ...) JOBHOST_PRINTF(4, 5);
static int order_failed(char *message, size_t size, int rc, const char *fmt,
                        ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, size, fmt, ap);
  va_end(ap);
  return rc;
}

static int add_entry(ldif_dir *d, const jobhost_order *o, char *message,
                     size_t size) {
  const char *dn = o->resource_id != NULL ? o->resource_id : dn_change(o);
  lf_attr *attrs = NULL;
  size_t n = 0, cap = 0;
  long k;
  int rc;
  if (dn == NULL || *dn == '\0')
    return order_failed(message, size, -EINVAL,
                        "the order gives no dn for the new entry");
  if (find(d, dn) != NULL)
    return order_failed(message, size, -EEXIST, "entry %s exists already", dn);
  rc = change_attrs(o, &attrs, &n, &cap);
  if (rc == 0 && (k = new_entry(d, dn)) >= 0) {
    compact(attrs, &n);
    d->e[k].attrs = attrs;
    d->e[k].nattrs = n;
    d->e[k].cap = cap;
    return 0;
  }
  attrs_free(attrs, n);
  return order_failed(message, size, -ENOMEM, "out of memory");
}

/* Move e (index k) to newdn in the index. */
static int rename_entry(ldif_dir *d, lf_entry *e, const char *newdn) {
  char *copy = strdup(newdn);
  if (copy == NULL)
    return -ENOMEM;
  *dn_slot(d, e->dn) = 0;
  free(e->dn);
  e->dn = copy;
  return reindex(d, d->nslot);
}

static int modify_entry(ldif_dir *d, const jobhost_order *o, char *message,
                        size_t size) {
  lf_entry *e = o->resource_id != NULL ? find(d, o->resource_id) : NULL;
  const char *newdn = dn_change(o);
  lf_attr *attrs;
  size_t n, cap;
  int rc;
  if (e == NULL)
    return order_failed(message, size, -ENOENT, "no entry %s in the directory",
                        o->resource_id ? o->resource_id : "(no dn given)");
  if (newdn != NULL && strcasecmp(newdn, e->dn) != 0 && find(d, newdn) != NULL)
    return order_failed(message, size, -EEXIST,
                        "cannot rename: entry %s exists already", newdn);
  rc = copy_attrs(e, &attrs, &n, &cap);
  if (rc == 0)
    rc = change_attrs(o, &attrs, &n, &cap);
  if (rc == 0 && newdn != NULL && strcmp(newdn, e->dn) != 0)
    rc = rename_entry(d, e, newdn);
  if (rc != 0) {
    attrs_free(attrs, n);
    return order_failed(message, size, rc, "out of memory");
  }
  compact(attrs, &n);
  attrs_free(e->attrs, e->nattrs);
  e->attrs = attrs;
  e->nattrs = n;
  e->cap = cap;
  return 0;
}

static int delete_entry(ldif_dir *d, const jobhost_order *o, char *message,
                        size_t size) {
  lf_entry *e = o->resource_id != NULL ? find(d, o->resource_id) : NULL;
  if (e == NULL)
    return order_failed(message, size, -ENOENT, "no entry %s in the directory",
                        o->resource_id ? o->resource_id : "(no dn given)");
  *dn_slot(d, e->dn) = 0;
  e->gone = 1;
  return reindex(d, d->nslot) == 0
             ? 0
             : order_failed(message, size, -ENOMEM, "out of memory");
}

int lf_fulfill_order(jobhost_ctx *ctx, void *state, const jobhost_order *order,
                     char *message, size_t message_size) {
  ldif_dir *d = state;
  int rc;
  (void)ctx;
  if (d == NULL || !d->loaded)
    return order_failed(message, message_size, -EINVAL,
                        "the directory was not read");
  switch (order->change_type) {
  case JOBHOST_CHANGE_ADDED:
    rc = add_entry(d, order, message, message_size);
    break;
  case JOBHOST_CHANGE_MODIFIED:
    rc = modify_entry(d, order, message, message_size);
    break;
  case JOBHOST_CHANGE_DELETED:
    rc = delete_entry(d, order, message, message_size);
    break;
  default:
    rc = order_failed(message, message_size, -EINVAL, "unknown change type %d",
                      (int)order->change_type);
  }
  if (rc == 0)
    d->changed = 1;
  return rc;
}

/* ---- writing the file ---- */

/* One "name: value" line (base64 and folded where LDIF needs it). */
static int put_line(FILE *m, const char *name, const char *v, size_t len) {
  char *line = ldif_put_wrap(LDIF_PUT_VALUE, name, v, len, LDIF_LINE_WIDTH);
  if (line == NULL)
    return -ENOMEM;
  fputs(line, m);
  ber_memfree(line);
  return 0;
}

static int put_entry(FILE *m, const lf_entry *e) {
  int rc = put_line(m, "dn", e->dn, strlen(e->dn));
  for (size_t i = 0; i < e->nattrs && rc == 0; i++)
    for (size_t k = 0; k < e->attrs[i].n && rc == 0; k++)
      rc = put_line(m, e->attrs[i].name, e->attrs[i].vals[k],
                    e->attrs[i].lens[k]);
  fputc('\n', m);
  return rc;
}

int lf_fulfill_end(jobhost_ctx *ctx, void *state) {
  ldif_dir *d = state;
  char *text = NULL;
  size_t len = 0, live = 0;
  FILE *m;
  int rc = 0;
  if (d == NULL || !d->changed)
    return 0;
  m = open_memstream(&text, &len);
  if (m == NULL)
    return -ENOMEM;
  fputs("version: 1\n\n", m);
  for (size_t k = 0; k < d->n && rc == 0; k++)
    if (!d->e[k].gone) {
      rc = put_entry(m, &d->e[k]);
      live++;
    }
  if (fclose(m) != 0 && rc == 0)
    rc = -ENOMEM;
  if (rc == 0)
    rc = jh_write_file_atomic(d->path, text, len, 0644);
  free(text);
  if (rc != 0)
    ctx->svc->set_message(ctx, "connection %s: %s: cannot write: %s", d->conn,
                          d->path, strerror(-rc));
  else
    jobhost_info(ctx, "directory %s written: %zu entries", d->path, live);
  return rc;
}
