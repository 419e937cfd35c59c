/*
 * ldap_fulfill.c — the `ldap` package's fulfill: one provisioning order
 * applied to the directory (doc/ldap.md).
 *
 *   Added     add of the entry whose DN is the order's `dn` value (the
 *             property setting dn_property names), with every other
 *             property that has values
 *   Modified  modrdn first when the DN changes (a new `dn` value, or a
 *             new value of the RDN's attribute), then one modify: a
 *             property with values replaces the attribute, one without
 *             removes it, and a navigation (`{"Add": [...], "Remove":
 *             [...]}` in the order's JSON) adds and deletes those values
 *   Deleted   delete of the entry
 *
 * The entry of a Modified or Deleted order is the target's `dn` value,
 * else the order's resource key. A failed operation is the order's
 * error, with the server's reason; a lost connection is connected again
 * once and the operation retried; lost again, the order fails with
 * -ENOTCONN and the task message says the server is unreachable.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "ldap_conn.h"

enum op_kind { OP_ADD, OP_MODIFY, OP_DELETE, OP_RENAME };

typedef struct op {
  enum op_kind kind;
  const char *dn;
  LDAPMod **mods;       /* add, modify */
  const char *newrdn;   /* rename */
  const char *newsuper; /* rename; NULL: same parent */
} op;

/* The modifications of an order, owned. */
typedef struct mods {
  LDAPMod *v;
  LDAPMod **ptrs; /* NULL-terminated, into v */
  struct berval *bvs;
  struct berval **bvptrs; /* each mod's NULL-terminated slice */
  size_t n, nbv, nbvptr;
} mods;

/* The fulfill settings: dn_property, attribute_map (property=attribute
 * pairs) and object_classes. */
typedef struct fconf {
  const char *dnprop;
  char *map_text; /* attribute_map, cut into from/to */
  const char **from, **to;
  size_t nmap;
  char *classes_text; /* object_classes, cut into classes */
  const char **classes;
  size_t nclasses;
} fconf;

static void fconf_free(fconf *fc) {
  free(fc->map_text);
  free(fc->from);
  free(fc->to);
  free(fc->classes_text);
  free(fc->classes);
  memset(fc, 0, sizeof(*fc));
}

/* Cut a list setting (items joined by commas) into items: *text owns
 * them, *items (NULL-terminated) points into it. */
static int cut_list(const char *v, char **text, const char ***items,
                    size_t *n) {
  char *save = NULL;
  *n = 0;
  *text = strdup(v != NULL ? v : "");
  *items = *text != NULL ? calloc(strlen(*text) / 2 + 2, sizeof(**items))
                         : NULL;
  if (*items == NULL)
    return -ENOMEM;
  for (char *t = strtok_r(*text, ", \t", &save); t != NULL;
       t = strtok_r(NULL, ", \t", &save))
    (*items)[(*n)++] = t;
  return 0;
}

/* Read the settings: 0, or a negative code with `error` set. */
static int fconf_read(jobhost_ctx *ctx, fconf *fc, char *error, size_t size) {
  const char *v = ctx->svc->setting(ctx, "dn_property");
  const char **pairs = NULL;
  memset(fc, 0, sizeof(*fc));
  fc->dnprop = v != NULL && *v != '\0' ? v : "dn";
  if (cut_list(ctx->svc->setting(ctx, "object_classes"), &fc->classes_text,
               &fc->classes, &fc->nclasses) != 0 ||
      cut_list(ctx->svc->setting(ctx, "attribute_map"), &fc->map_text, &pairs,
               &fc->nmap) != 0 ||
      (fc->to = calloc(fc->nmap + 1, sizeof(*fc->to))) == NULL) {
    free(pairs);
    snprintf(error, size, "out of memory");
    return -ENOMEM;
  }
  fc->from = pairs;
  for (size_t i = 0; i < fc->nmap; i++) {
    char *eq = strchr(pairs[i], '=');
    if (eq == NULL || eq == pairs[i] || eq[1] == '\0') {
      snprintf(error, size,
               "setting attribute_map: expected property=attribute, got "
               "'%s'",
               pairs[i]);
      return JOBHOST_ECONFIG;
    }
    *eq = '\0';
    fc->to[i] = eq + 1;
  }
  return 0;
}

/* The directory attribute of an order property. */
static const char *attr_of(const fconf *fc, const char *property) {
  for (size_t i = 0; i < fc->nmap; i++)
    if (strcasecmp(fc->from[i], property) == 0)
      return fc->to[i];
  return property;
}

int jh_ldap_fulfill_check(jobhost_ctx *ctx, jh_ldap *l) {
  char error[512];
  fconf fc;
  int rc = fconf_read(ctx, &fc, error, sizeof(error));
  fconf_free(&fc);
  return rc != 0 ? jh_ldap_fail(l, rc, "%s", error) : 0;
}

static const char *first_value(const jobhost_order_value *v, size_t n,
                               const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcasecmp(v[i].name, name) == 0 && v[i].nvalues > 0 &&
        v[i].values[0] != NULL && v[i].values[0][0] != '\0')
      return v[i].values[0];
  return NULL;
}

/* The first value of the change whose attribute is attr. */
static const char *value_of_attr(const fconf *fc, const jobhost_order *o,
                                 const char *attr) {
  for (size_t i = 0; i < o->nchanges; i++)
    if (strcasecmp(attr_of(fc, o->changes[i].name), attr) == 0)
      return first_value(&o->changes[i], 1, o->changes[i].name);
  return NULL;
}

/* ---- running one operation, with the one reconnect ---- */

static int exec_op(jh_ldap *l, const op *o) {
  switch (o->kind) {
  case OP_ADD:
    return ldap_add_ext_s(l->ld, o->dn, o->mods, NULL, NULL);
  case OP_MODIFY:
    return ldap_modify_ext_s(l->ld, o->dn, o->mods, NULL, NULL);
  case OP_DELETE:
    return ldap_delete_ext_s(l->ld, o->dn, NULL, NULL);
  case OP_RENAME:
    return ldap_rename_s(l->ld, o->dn, o->newrdn, o->newsuper, 1, NULL, NULL);
  }
  return LDAP_OTHER;
}

static const char *op_name(enum op_kind k) {
  static const char *const names[] = {"add", "modify", "delete", "modrdn"};
  return names[k];
}

/* Run o; 0, or a negative code with message holding the reason. */
static int run_op(jh_ldap *l, const op *o, char *message, size_t size) {
  char what[512];
  int rc = l->ld != NULL ? exec_op(l, o) : LDAP_SERVER_DOWN;

  if (jh_ldap_is_down(rc)) {
    if (jh_ldap_reconnect(l) != 0) {
      snprintf(message, size, "%s of '%s': the server %s is unreachable",
               op_name(o->kind), o->dn, l->conf.uri);
      return -ENOTCONN;
    }
    rc = exec_op(l, o);
  }
  if (rc == LDAP_SUCCESS)
    return 0;
  snprintf(what, sizeof(what), "%s of '%s'", op_name(o->kind), o->dn);
  jh_ldap_reason(l, rc, what, message, size);
  return jh_ldap_code(rc);
}

/* ---- modifications ---- */

static void mods_free(mods *m) {
  free(m->v);
  free(m->ptrs);
  free(m->bvs);
  free(m->bvptrs);
  memset(m, 0, sizeof(*m));
}

/* Room for nmods modifications of nvalues values in all. */
static int mods_alloc(mods *m, size_t nmods, size_t nvalues) {
  memset(m, 0, sizeof(*m));
  m->v = calloc(nmods + 1, sizeof(*m->v));
  m->ptrs = calloc(nmods + 1, sizeof(*m->ptrs));
  m->bvs = calloc(nvalues + 1, sizeof(*m->bvs));
  m->bvptrs = calloc(nvalues + nmods + 1, sizeof(*m->bvptrs));
  if (m->v == NULL || m->ptrs == NULL || m->bvs == NULL || m->bvptrs == NULL) {
    mods_free(m);
    return -ENOMEM;
  }
  return 0;
}

/* Append one modification of the non-empty values among vals[0..n). */
static void mods_add(mods *m, int mod_op, const char *name,
                     const char *const *vals, size_t n) {
  LDAPMod *mod = &m->v[m->n];
  mod->mod_op = mod_op | LDAP_MOD_BVALUES;
  mod->mod_type = (char *)name;
  mod->mod_bvalues = &m->bvptrs[m->nbvptr];
  for (size_t k = 0; k < n; k++) {
    struct berval *bv;
    if (vals[k] == NULL || vals[k][0] == '\0')
      continue;
    bv = &m->bvs[m->nbv++];
    bv->bv_val = (char *)vals[k];
    bv->bv_len = strlen(vals[k]);
    m->bvptrs[m->nbvptr++] = bv;
  }
  m->bvptrs[m->nbvptr++] = NULL;
  m->ptrs[m->n++] = mod;
}

static size_t count_values(const jobhost_order_value *v, size_t n) {
  size_t total = 0;
  for (size_t i = 0; i < n; i++)
    total += v[i].nvalues;
  return total;
}

/* ---- Added ---- */

/* objectClass from setting object_classes, when the order has none. */
static void add_classes(mods *m, const fconf *fc) {
  for (size_t i = 0; i < m->n; i++)
    if (strcasecmp(m->v[i].mod_type, "objectClass") == 0)
      return;
  if (fc->nclasses > 0)
    mods_add(m, LDAP_MOD_ADD, "objectClass", fc->classes, fc->nclasses);
}

static int fulfill_add(jh_ldap *l, const jobhost_order *o, const fconf *fc,
                       char *message, size_t size) {
  const char *dnprop = fc->dnprop;
  const char *dn = first_value(o->changes, o->nchanges, dnprop);
  mods m;
  op add = {.kind = OP_ADD};
  int rc;

  if (dn == NULL) {
    snprintf(message, size, "Added order without a '%s' value: no DN to add",
             dnprop);
    return -EINVAL;
  }
  if (mods_alloc(&m, o->nchanges + 1,
                 count_values(o->changes, o->nchanges) + fc->nclasses) != 0) {
    snprintf(message, size, "out of memory");
    return -ENOMEM;
  }
  for (size_t i = 0; i < o->nchanges; i++) {
    const jobhost_order_value *c = &o->changes[i];
    if (strcasecmp(c->name, dnprop) == 0 || c->nvalues == 0)
      continue;
    mods_add(&m, LDAP_MOD_ADD, attr_of(fc, c->name), c->values, c->nvalues);
    if (m.v[m.n - 1].mod_bvalues[0] == NULL)
      m.ptrs[--m.n] = NULL; /* only empty values: no attribute */
  }
  add_classes(&m, fc);
  add.dn = dn;
  add.mods = m.ptrs;
  rc = run_op(l, &add, message, size);
  mods_free(&m);
  return rc;
}

/* ---- Modified ---- */

/* A navigation of the order's JSON: Changes.<name> as an object. */
static json_t *navigation(json_t *changes, const char *name) {
  json_t *v = changes != NULL ? json_object_get(changes, name) : NULL;
  return json_is_object(v) ? v : NULL;
}

/* Strings of array `arr` into a NULL-terminated malloc'd array
 * (borrowed strings); *n their count. */
static const char **strings_of(json_t *arr, size_t *n) {
  size_t i, size = json_is_array(arr) ? json_array_size(arr) : 0;
  const char **out = calloc(size + 1, sizeof(*out));
  json_t *item;
  *n = 0;
  if (out == NULL)
    return NULL;
  json_array_foreach(arr, i, item) {
    if (json_is_string(item))
      out[(*n)++] = json_string_value(item);
  }
  return out;
}

/* Add and delete of a navigation's values. */
static int add_navigation(mods *m, const char *name, json_t *nav,
                          const char ***keep) {
  static const char *const keys[2] = {"Add", "Remove"};
  for (int k = 0; k < 2; k++) {
    size_t n;
    const char **vals = strings_of(json_object_get(nav, keys[k]), &n);
    if (vals == NULL)
      return -ENOMEM;
    keep[k] = vals;
    if (n > 0)
      mods_add(m, k == 0 ? LDAP_MOD_ADD : LDAP_MOD_DELETE, name, vals, n);
  }
  return 0;
}

/* The navigations of the order's JSON: Changes members that are
 * objects; *nvals counts their values. */
static size_t count_navigations(json_t *changes, size_t *nvals) {
  const char *key;
  json_t *v;
  size_t n = 0;
  json_object_foreach(changes, key, v) {
    if (!json_is_object(v))
      continue;
    n++;
    *nvals += json_array_size(json_object_get(v, "Add")) +
              json_array_size(json_object_get(v, "Remove"));
  }
  return n;
}

/* The modify of a Modified order (less the DN): the structured changes
 * replace or remove attributes; the navigations, read from the order's
 * JSON whether or not the host also lists them as changes, add and
 * delete values. *keep receives the arrays of navigation values (2 per
 * navigation, *nkeep in all), freed by the caller. */
static int build_modify(const jobhost_order *o, const fconf *fc,
                        json_t *changes, mods *m, const char ****keep,
                        size_t *nkeep) {
  size_t nvals = count_values(o->changes, o->nchanges);
  size_t nnav = count_navigations(changes, &nvals), k = 0;
  const char *key;
  json_t *v;

  *nkeep = 2 * nnav;
  *keep = calloc(*nkeep + 1, sizeof(**keep));
  if (*keep == NULL ||
      mods_alloc(m, o->nchanges + 2 * nnav, nvals + 2 * nnav) != 0)
    return -ENOMEM;
  for (size_t i = 0; i < o->nchanges; i++) {
    const jobhost_order_value *c = &o->changes[i];
    if (strcasecmp(c->name, fc->dnprop) == 0 ||
        navigation(changes, c->name) != NULL)
      continue;
    mods_add(m, LDAP_MOD_REPLACE, attr_of(fc, c->name), c->values, c->nvalues);
  }
  json_object_foreach(changes, key, v) {
    if (!json_is_object(v))
      continue;
    if (add_navigation(m, attr_of(fc, key), v, &(*keep)[k]) != 0)
      return -ENOMEM;
    k += 2;
  }
  return 0;
}

/* The RDN the entry takes: from a new DN, or from a new value of the
 * RDN's attribute. *newrdn and *newsuper (NULL: same parent) are
 * ldap_memalloc'd; both NULL when the RDN stays. */
static int new_rdn(const jobhost_order *o, const char *dn, const fconf *fc,
                   char **newrdn, char **newsuper) {
  const char *newdn = first_value(o->changes, o->nchanges, fc->dnprop);
  LDAPDN old = NULL, nw = NULL;
  char *oldparent = NULL;
  int rc = 0;

  *newrdn = *newsuper = NULL;
  if (ldap_str2dn(dn, &old, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS ||
      old == NULL || old[0] == NULL)
    return newdn != NULL ? -EINVAL : 0;
  if (newdn != NULL && strcasecmp(newdn, dn) != 0) {
    if (ldap_str2dn(newdn, &nw, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS ||
        nw == NULL || nw[0] == NULL) {
      ldap_dnfree(old);
      return -EINVAL;
    }
    if (ldap_rdn2str(nw[0], newrdn, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS ||
        ldap_dn2str(&nw[1], newsuper, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS ||
        ldap_dn2str(&old[1], &oldparent, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
      rc = -ENOMEM;
    else if (strcasecmp(oldparent != NULL ? oldparent : "",
                        *newsuper != NULL ? *newsuper : "") == 0) {
      ldap_memfree(*newsuper);
      *newsuper = NULL;
    }
  } else if (newdn == NULL && old[0][1] == NULL) {
    /* a single-valued RDN whose attribute gets a new value */
    LDAPAVA *ava = old[0][0], nava;
    const char *v = value_of_attr(fc, o, ava->la_attr.bv_val);
    if (v != NULL &&
        (strlen(v) != ava->la_value.bv_len ||
         strncasecmp(v, ava->la_value.bv_val, ava->la_value.bv_len) != 0)) {
      LDAPAVA *rdn[2] = {&nava, NULL};
      nava = *ava;
      nava.la_value.bv_val = (char *)v;
      nava.la_value.bv_len = strlen(v);
      nava.la_flags = LDAP_AVA_STRING;
      if (ldap_rdn2str(rdn, newrdn, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
        rc = -ENOMEM;
    }
  }
  ldap_memfree(oldparent);
  ldap_dnfree(old);
  if (nw != NULL)
    ldap_dnfree(nw);
  return rc;
}

/* The DN after a rename: newrdn, then newsuper or the old parent. */
static char *renamed_dn(const char *dn, const char *newrdn,
                        const char *newsuper) {
  const char *parent = newsuper;
  char *out = NULL;
  LDAPDN old = NULL;
  char *oldparent = NULL;
  if (parent == NULL) {
    if (ldap_str2dn(dn, &old, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
      return NULL;
    if (ldap_dn2str(&old[1], &oldparent, LDAP_DN_FORMAT_LDAPV3) !=
        LDAP_SUCCESS) {
      ldap_dnfree(old);
      return NULL;
    }
    parent = oldparent;
  }
  if (asprintf(&out, "%s%s%s", newrdn, parent != NULL && *parent ? "," : "",
               parent != NULL ? parent : "") < 0)
    out = NULL;
  ldap_memfree(oldparent);
  if (old != NULL)
    ldap_dnfree(old);
  return out;
}

static int fulfill_modify(jh_ldap *l, const jobhost_order *o, const char *dn,
                          const fconf *fc, char *message, size_t size) {
  char *newrdn = NULL, *newsuper = NULL, *target = NULL;
  json_t *root = o->json != NULL ? json_loads(o->json, 0, NULL) : NULL;
  const char ***keep = NULL;
  size_t nkeep = 0;
  mods m;
  int rc;

  memset(&m, 0, sizeof(m));
  rc = new_rdn(o, dn, fc, &newrdn, &newsuper);
  if (rc == -EINVAL)
    snprintf(message, size, "modify of '%s': the new %s is not a DN", dn,
             fc->dnprop);
  if (rc == 0 && newrdn != NULL) {
    op ren = {
        .kind = OP_RENAME, .dn = dn, .newrdn = newrdn, .newsuper = newsuper};
    rc = run_op(l, &ren, message, size);
    if (rc == 0 && (target = renamed_dn(dn, newrdn, newsuper)) == NULL)
      rc = -ENOMEM;
  }
  if (rc == 0 && build_modify(o, fc, json_object_get(root, "Changes"), &m,
                              &keep, &nkeep) != 0)
    rc = -ENOMEM;
  if (rc == 0 && m.n > 0) {
    op mod = {.kind = OP_MODIFY,
              .dn = target != NULL ? target : dn,
              .mods = m.ptrs};
    rc = run_op(l, &mod, message, size);
  }
  if (rc == -ENOMEM)
    snprintf(message, size, "out of memory");
  for (size_t i = 0; keep != NULL && i < nkeep; i++)
    free(keep[i]);
  free(keep);
  mods_free(&m);
  json_decref(root);
  ldap_memfree(newrdn);
  ldap_memfree(newsuper);
  free(target);
  return rc;
}

/* A Deleted or Modified order, on the entry dn. */
static int fulfill_existing(jh_ldap *l, const jobhost_order *order,
                            const char *dn, const fconf *fc, char *message,
                            size_t message_size) {
  if (order->change_type == JOBHOST_CHANGE_DELETED) {
    op del = {.kind = OP_DELETE, .dn = dn};
    return run_op(l, &del, message, message_size);
  }
  if (order->change_type != JOBHOST_CHANGE_MODIFIED) {
    snprintf(message, message_size, "unknown change type %d",
             (int)order->change_type);
    return -EINVAL;
  }
  return fulfill_modify(l, order, dn, fc, message, message_size);
}

int jh_ldap_fulfill(jobhost_ctx *ctx, jh_ldap *l, const jobhost_order *order,
                    char *message, size_t message_size) {
  const char *dn;
  fconf fc;
  int rc = fconf_read(ctx, &fc, message, message_size);

  if (rc != 0) {
    fconf_free(&fc);
    return rc;
  }
  if (order->change_type == JOBHOST_CHANGE_ADDED) {
    rc = fulfill_add(l, order, &fc, message, message_size);
    fconf_free(&fc);
    return rc;
  }
  dn = first_value(order->resource, order->nresource, fc.dnprop);
  if (dn == NULL)
    dn = order->resource_id;
  if (dn == NULL || *dn == '\0') {
    snprintf(message, message_size,
             "order without a target: no '%s' value and no resource key",
             fc.dnprop);
    rc = -EINVAL;
  } else {
    rc = fulfill_existing(l, order, dn, &fc, message, message_size);
  }
  fconf_free(&fc);
  return rc;
}
