/*
 * model_load.c — see model_load.h.
 *
 * Each section is a sequence of mappings; an item is added to the model
 * even when some of its keys are wrong (the error is reported), so that
 * later checks do not pile up follow-on errors about a missing item.
 * Required keys missing from an item are reported at the item.
 */
#include "config.h"

#include "model_load.h"
#include "model_load_impl.h"
#include "param_check.h"
#include "strindex.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const jh_model_sections[] = {
    "connectors",           "connections",
    "entity_types",         "entity_type_mappings",
    "association_mappings", "entity_property_expressions",
    "resource_types",       "resource_classification_rules",
    "profile_rule_contexts"};
const size_t jh_model_nsections = NELEM(jh_model_sections);

static const char *const connector_keys[] = {"id",           "display_name",
                                             "agent",        "deactivated",
                                             "thresholds",   "source_health",
                                             "complete_job", "incremental_job"};
static const char *const connection_keys[] = {"id",
                                              "connector",
                                              "package",
                                              "display_name",
                                              "settings",
                                              "secrets",
                                              "deactivation_export_fulfill"};
/* CompleteJob / IncrementalJob, in jh_job_use order */
static const char *const job_uses[] = {"Used", "NotUsed", "OnlySynchronization",
                                       "OnlyProvisioning"};
/* DeactivationExportFulfill, in jh_deactivation order */
static const char *const deactivations[] = {"None", "Export", "Fulfill"};
static const char *const entity_type_keys[] = {"id", "display_name",
                                               "properties"};
static const char *const property_keys[] = {"id", "type", "target"};
static const char *const property_types[] = {"string",   "integer", "boolean",
                                             "datetime", "link",    "links"};
static const char *const mapping_keys[] = {"entity_type", "connector",
                                           "connection_table", "thresholds",
                                           "properties"};
static const char *const mapped_keys[] = {"property", "column", "primary_key",
                                          "unique_key", "format"};
static const char *const association_keys[] = {
    "id",       "connector", "connection_table", "entity_type",
    "property", "column1",   "column2",          "key1",
    "key2",     "thresholds"};
static const char *const health_keys[] = {"allow_empty", "max_shrink_percent"};
static const char *const secret_keys[] = {"file", "env"};

#define DEFAULT_MAX_SHRINK 50

int jh_model_is_section(const char *key) {
  for (size_t i = 0; i < jh_model_nsections; i++)
    if (strcmp(key, jh_model_sections[i]) == 0)
      return 1;
  return 0;
}

jh_mloc jh_ml_loc(const jh_yfile *f, const yaml_node_t *n) {
  jh_loc l = jh_yw_node_loc(f, n);
  jh_mloc m = {l.file, l.line, l.column};
  return m;
}

jh_loc jh_ml_as_loc(jh_mloc m) {
  jh_loc l = {m.file, m.line, m.column};
  return l;
}

/* Grow *arr (of *n items of `size` bytes) by one zeroed item. */
void *jh_ml_grow(jh_yw *w, void *arrp, size_t *n, size_t size) {
  void **arr = arrp;
  char *g = realloc(*arr, (*n + 1) * size);
  if (g == NULL) {
    w->oom = 1;
    return NULL;
  }
  memset(g + *n * size, 0, size);
  *arr = g;
  return g + (*n)++ * size;
}

/* The items of a section: a sequence of mappings. Returns the sequence's
 * item count and start, or 0 after reporting. */
size_t jh_ml_items(jh_yw *w, const jh_yfile *f, yaml_node_t *n, const char *key,
                   yaml_node_item_t **start) {
  char got[GOT_SIZE];
  if (jh_yw_is_null(n))
    return 0;
  if (n->type != YAML_SEQUENCE_NODE) {
    jh_yw_err_node(w, f, n, "expected a list of %s for '%s', got %s",
                   strcmp(key, "properties") == 0 ? "properties" : "items", key,
                   jh_yw_describe(n, got, sizeof(got)));
    return 0;
  }
  *start = n->data.sequence.items.start;
  return (size_t)(n->data.sequence.items.top - *start);
}

/* The entries of item n (a mapping) or NULL after reporting. */
jh_yentry *jh_ml_entries(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                         const char *what, size_t *ne) {
  char expected[96];
  snprintf(expected, sizeof(expected), "%s (a mapping)", what);
  return jh_yw_want_mapping(w, f, n, expected, ne);
}

void jh_ml_missing(jh_yw *w, const jh_yfile *f, const yaml_node_t *n,
                   const char *what, const char *key, const char *hint) {
  jh_yw_err_node(w, f, n, "%s is missing '%s': expected %s", what, key, hint);
}

/* Report `key` missing from item n when none of its entries has it. */
void jh_ml_require_key(jh_yw *w, const jh_yfile *f, const yaml_node_t *n,
                       const jh_yentry *es, size_t ne, const char *what,
                       const char *key, const char *hint) {
  if (jh_yw_find_entry(es, ne, key) == NULL)
    jh_ml_missing(w, f, n, what, key, hint);
}

/* Read entry e when it names one of keys: 1 when it did, else 0. */
int jh_ml_read_plain(jh_yw *w, const jh_yfile *f, const jh_yentry *e,
                     const jh_ml_plain_key *keys, size_t nkeys) {
  for (size_t i = 0; i < nkeys; i++) {
    const jh_ml_plain_key *p = &keys[i];
    if (strcmp(e->key, p->key) != 0)
      continue;
    if (p->kind == JH_ML_IDENT)
      jh_yw_want_ident(w, f, e->vnode, e->key, p->out);
    else if (p->kind == JH_ML_STRING)
      jh_yw_want_string(w, f, e->vnode, e->key, p->out);
    else
      jh_yw_want_bool(w, f, e->vnode, e->key, p->out);
    if (p->loc != NULL)
      *p->loc = jh_ml_loc(f, e->vnode);
    return 1;
  }
  return 0;
}

/* Report each required key of keys that item n (`what`) lacks. */
void jh_ml_require_plain(jh_yw *w, const jh_yfile *f, const yaml_node_t *n,
                         const jh_yentry *es, size_t ne, const char *what,
                         const jh_ml_plain_key *keys, size_t nkeys) {
  for (size_t i = 0; i < nkeys; i++)
    if (keys[i].need != NULL)
      jh_ml_require_key(w, f, n, es, ne, what, keys[i].key, keys[i].need);
}

/* Start reading item n (`what` in messages) of a section: its entries go
 * to *es and *ne, and a new zeroed element of `size` bytes is appended to
 * the array *arrp of *count elements. Returns that element, or NULL after
 * reporting (then *es is NULL and nothing is to be freed). */
void *jh_ml_begin_item(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                       const char *what, void *arrp, size_t *count, size_t size,
                       jh_yentry **es, size_t *ne) {
  void *item;
  *es = jh_ml_entries(w, f, n, what, ne);
  if (*es == NULL)
    return NULL;
  item = jh_ml_grow(w, arrp, count, size);
  if (item == NULL) {
    free(*es);
    *es = NULL;
  }
  return item;
}

/* ---- thresholds and health ---- */

static void unset_thresholds(jh_thresholds *t) {
  for (int k = 0; k < JH_TH_COUNT; k++)
    t->v[k] = JH_THRESHOLD_UNSET;
}

static void parse_thresholds(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                             jh_thresholds *t, jh_threshold_kind first,
                             jh_threshold_kind last,
                             const jh_threshold_kind *also, size_t nalso) {
  const char *cands[JH_TH_COUNT];
  size_t ncands = 0, ne;
  jh_yentry *es;

  unset_thresholds(t);
  for (int k = first; k <= (int)last; k++)
    cands[ncands++] = jh_threshold_key((jh_threshold_kind)k);
  for (size_t i = 0; i < nalso; i++)
    cands[ncands++] = jh_threshold_key(also[i]);
  es = jh_ml_entries(w, f, n, "thresholds", &ne);
  if (es == NULL)
    return;
  for (size_t i = 0; i < ne; i++) {
    size_t c;
    int v;
    for (c = 0; c < ncands; c++)
      if (strcmp(es[i].key, cands[c]) == 0)
        break;
    if (c == ncands) {
      jh_yw_unknown_key(w, f, &es[i], cands, ncands);
      continue;
    }
    if (jh_yw_want_int(w, f, es[i].vnode, es[i].key, 0, &v) != 0)
      continue;
    if (strstr(es[i].key, "percentage") != NULL && v > 100) {
      jh_yw_err_node(w, f, es[i].vnode,
                     "expected a percentage from 0 to "
                     "100 for '%s', got %d",
                     JH_Q(es[i].key), v);
      continue;
    }
    for (int k = 0; k < JH_TH_COUNT; k++)
      if (strcmp(jh_threshold_key((jh_threshold_kind)k), es[i].key) == 0)
        t->v[k] = v;
  }
  free(es);
}

static void parse_health(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                         jh_source_health *h) {
  size_t ne;
  jh_yentry *es = jh_ml_entries(w, f, n, "source_health", &ne);
  if (es == NULL)
    return;
  for (size_t i = 0; i < ne; i++) {
    if (strcmp(es[i].key, "allow_empty") == 0) {
      jh_yw_want_bool(w, f, es[i].vnode, es[i].key, &h->allow_empty);
    } else if (strcmp(es[i].key, "max_shrink_percent") == 0) {
      int v;
      if (jh_yw_want_int(w, f, es[i].vnode, es[i].key, 0, &v) != 0)
        continue;
      if (v > 100)
        jh_yw_err_node(w, f, es[i].vnode,
                       "expected a percentage from 0 "
                       "to 100 for 'max_shrink_percent', got %d",
                       v);
      else
        h->max_shrink_percent = v;
    } else {
      jh_yw_unknown_key(w, f, &es[i], health_keys, NELEM(health_keys));
    }
  }
  free(es);
}

/* ---- connectors ---- */

static void parse_connector(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                            jh_model *m) {
  size_t ne;
  jh_yentry *es;
  jh_connector *c = jh_ml_begin_item(w, f, n, "a connector", &m->connectors,
                                     &m->nconnectors, sizeof(*c), &es, &ne);

  if (c == NULL)
    return;
  c->loc = jh_ml_loc(f, n);
  unset_thresholds(&c->thresholds);
  c->health.max_shrink_percent = DEFAULT_MAX_SHRINK;
  const jh_ml_plain_key plain[] = {
      {"id", JH_ML_IDENT, &c->id, NULL, "the connector's identifier"},
      {"display_name", JH_ML_STRING, &c->display_name, NULL, NULL},
      {"agent", JH_ML_IDENT, &c->agent, NULL, NULL},
      {"deactivated", JH_ML_BOOL, &c->deactivated, NULL, NULL}};
  for (size_t i = 0; i < ne; i++) {
    yaml_node_t *v = es[i].vnode;
    if (jh_ml_read_plain(w, f, &es[i], plain, NELEM(plain)))
      continue;
    if (strcmp(es[i].key, "thresholds") == 0)
      parse_thresholds(w, f, v, &c->thresholds, 0, JH_TH_COUNT - 1, NULL, 0);
    else if (strcmp(es[i].key, "source_health") == 0)
      parse_health(w, f, v, &c->health);
    else if (strcmp(es[i].key, "complete_job") == 0 ||
             strcmp(es[i].key, "incremental_job") == 0) {
      size_t u;
      if (jh_yw_want_choice(w, f, v, es[i].key, job_uses, NELEM(job_uses),
                            &u) == 0)
        *(strcmp(es[i].key, "complete_job") == 0
              ? &c->complete_job
              : &c->incremental_job) = (jh_job_use)u;
    } else
      jh_yw_unknown_key(w, f, &es[i], connector_keys, NELEM(connector_keys));
  }
  jh_ml_require_plain(w, f, n, es, ne, "a connector", plain, NELEM(plain));
  free(es);
}

/* ---- connections ---- */

const jobhost_package *jh_model_package(const jh_registry *reg,
                                        const jh_connection *c) {
  if (reg == NULL || c->package == NULL)
    return NULL;
  return jh_registry_package(reg, c->package, NULL);
}

const jobhost_param *jh_package_setting(const jobhost_package *pkg,
                                        const char *name) {
  for (size_t i = 0; pkg->settings != NULL && pkg->settings[i].name != NULL;
       i++)
    if (strcmp(pkg->settings[i].name, name) == 0)
      return &pkg->settings[i];
  return NULL;
}

static void unknown_setting(jh_yw *w, const jh_yfile *f, const jh_yentry *e,
                            const jobhost_package *pkg) {
  const char *names[64];
  size_t n = 0;
  for (size_t i = 0; pkg->settings != NULL && pkg->settings[i].name != NULL &&
                     n < NELEM(names);
       i++)
    names[n++] = pkg->settings[i].name;
  if (n == 0) {
    jh_yw_err_node(w, f, e->knode,
                   "unknown setting '%s': package '%s' "
                   "takes no settings",
                   JH_Q(e->key), pkg->name);
    return;
  }
  jh_yw_unknown_key(w, f, e, names, n);
}

/* One setting value checked against its schema entry, as text. */
static char *setting_value(jh_yw *w, const jh_yfile *f, const jh_yentry *e,
                           const jobhost_param *sp, jh_setting *set) {
  char got[GOT_SIZE], *out = NULL;
  const char *s;
  long long ll;
  int b;
  size_t choice, nch = 0;

  switch (sp->type) {
  case JOBHOST_PARAM_STRING:
    jh_yw_want_string(w, f, e->vnode, e->key, &out);
    return out;
  case JOBHOST_PARAM_PATH:
    jh_yw_want_path(w, f, e->vnode, e->key, &out);
    return out;
  case JOBHOST_PARAM_ENTITY_TYPE: /* the loader refuses it in settings */
    jh_yw_want_string(w, f, e->vnode, e->key, &out);
    return out;
  case JOBHOST_PARAM_DURATION: {
    long ms;
    if (jh_yw_want_duration(w, f, e->vnode, e->key, &ms) != 0)
      return NULL;
    return jh_yw_xstrdup(w, jh_yw_scalar(e->vnode));
  }
  case JOBHOST_PARAM_INT:
    s = jh_yw_want_scalar(w, f, e->vnode, e->key, "an integer");
    if (s == NULL)
      return NULL;
    if (jh_yw_parse_ll(s, &ll) != 0) {
      jh_yw_err_node(w, f, e->vnode, "expected an integer for '%s', got %s",
                     JH_Q(e->key), jh_yw_describe(e->vnode, got, sizeof(got)));
      return NULL;
    }
    return jh_yw_xstrdup(w, s);
  case JOBHOST_PARAM_BOOL:
    if (jh_yw_want_bool(w, f, e->vnode, e->key, &b) != 0)
      return NULL;
    return jh_yw_xstrdup(w, b ? "true" : "false");
  case JOBHOST_PARAM_ENUM:
    while (sp->choices != NULL && sp->choices[nch] != NULL)
      nch++;
    if (jh_yw_want_choice(w, f, e->vnode, e->key, sp->choices, nch, &choice) !=
        0)
      return NULL;
    return jh_yw_xstrdup(w, sp->choices[choice]);
  case JOBHOST_PARAM_LIST: {
    long count;
    yaml_node_t **items = jh_yw_want_list(w, f, e->vnode, e->key, &count);
    if (count < 0)
      return NULL;
    /* the items as a list (setting_list), and joined (setting) */
    set->nitems = (size_t)count;
    if (jh_yw_copy_items(w, f, items, set->nitems, &set->items, NULL) == 0) {
      out = jh_yw_join((const char **)set->items, set->nitems, ",");
      if (out == NULL)
        w->oom = 1;
    }
    free(items);
    return out;
  }
  }
  return NULL;
}

static void parse_settings(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                           jh_connection *c, const jobhost_package *pkg) {
  size_t ne;
  jh_yentry *es = jh_ml_entries(w, f, n, "settings", &ne);
  if (es == NULL)
    return;
  for (size_t i = 0; i < ne; i++) {
    const jobhost_param *sp = NULL;
    jh_setting *s, one = {NULL, NULL, NULL, 0};
    char *value, why[512];
    size_t bad;
    if (pkg != NULL) {
      sp = jh_package_setting(pkg, es[i].key);
      if (sp == NULL) {
        unknown_setting(w, f, &es[i], pkg);
        continue;
      }
      if (sp->secret) {
        jh_yw_err_node(w, f, es[i].knode,
                       "'%s' is a secret: give it under "
                       "'secrets:' as {file: PATH} or {env: VARIABLE}, never "
                       "in the model text",
                       JH_Q(es[i].key));
        continue;
      }
      value = setting_value(w, f, &es[i], sp, &one);
      if (value != NULL && !w->oom &&
          jh_param_check(sp, sp->type == JOBHOST_PARAM_LIST ? NULL : value,
                         one.items, one.nitems, &bad, why, sizeof(why)) != 0) {
        yaml_node_t *at = es[i].vnode;
        if (bad != (size_t)-1 && at->type == YAML_SEQUENCE_NODE)
          at = yaml_document_get_node(f->doc,
                                      at->data.sequence.items.start[bad]);
        jh_yw_err_node(w, f, at, "%s", why);
      }
    } else {
      /* the package is unknown (reported): keep the text unchecked */
      value = NULL;
      jh_yw_want_string(w, f, es[i].vnode, es[i].key, &value);
    }
    if (value == NULL) {
      for (size_t k = 0; k < one.nitems && one.items != NULL; k++)
        free(one.items[k]);
      free(one.items);
      continue;
    }
    s = jh_ml_grow(w, &c->settings, &c->nsettings, sizeof(*s));
    if (s == NULL) {
      free(value);
      for (size_t k = 0; k < one.nitems && one.items != NULL; k++)
        free(one.items[k]);
      free(one.items);
      break;
    }
    s->name = jh_yw_xstrdup(w, es[i].key);
    s->value = value;
    s->items = one.items;
    s->nitems = one.nitems;
  }
  free(es);
}

static void parse_secret(jh_yw *w, const jh_yfile *f, const jh_yentry *e,
                         jh_connection *c, const jobhost_package *pkg) {
  char got[GOT_SIZE];
  size_t ne;
  jh_yentry *es;
  jh_secret *s;

  if (pkg != NULL && jh_package_setting(pkg, e->key) == NULL) {
    unknown_setting(w, f, e, pkg);
    return;
  }
  if (e->vnode->type != YAML_MAPPING_NODE) {
    jh_yw_err_node(w, f, e->vnode,
                   "expected {file: PATH} or {env: "
                   "VARIABLE} for secret '%s', got %s (secrets are never "
                   "written in the model)",
                   JH_Q(e->key), jh_yw_describe(e->vnode, got, sizeof(got)));
    return;
  }
  es = jh_yw_map_entries(w, f, e->vnode, &ne);
  if (es == NULL)
    return;
  if (ne != 1) {
    jh_yw_err_node(w, f, e->vnode,
                   "expected exactly one of 'file' or 'env' "
                   "for secret '%s'",
                   JH_Q(e->key));
    free(es);
    return;
  }
  if (strcmp(es[0].key, "file") != 0 && strcmp(es[0].key, "env") != 0) {
    jh_yw_unknown_key(w, f, &es[0], secret_keys, NELEM(secret_keys));
    free(es);
    return;
  }
  s = jh_ml_grow(w, &c->secrets, &c->nsecrets, sizeof(*s));
  if (s != NULL) {
    s->name = jh_yw_xstrdup(w, e->key);
    if (strcmp(es[0].key, "file") == 0) {
      s->source = JH_SECRET_FILE;
      jh_yw_want_path(w, f, es[0].vnode, "file", &s->ref);
    } else {
      s->source = JH_SECRET_ENV;
      jh_yw_want_ident(w, f, es[0].vnode, "env", &s->ref);
    }
  }
  free(es);
}

static void parse_secrets(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                          jh_connection *c, const jobhost_package *pkg) {
  size_t ne;
  jh_yentry *es = jh_ml_entries(w, f, n, "secrets", &ne);
  if (es == NULL)
    return;
  for (size_t i = 0; i < ne; i++)
    parse_secret(w, f, &es[i], c, pkg);
  free(es);
}

static char *dir_of(jh_yw *w, const char *file) {
  char *abs = jh_yw_resolve_path(w, file, ".");
  size_t len;
  if (abs == NULL)
    return NULL;
  len = strlen(abs);
  if (len >= 2 && strcmp(abs + len - 2, "/.") == 0)
    abs[len - 2] = '\0';
  return abs;
}

static void required_settings(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                              const jh_connection *c,
                              const jobhost_package *pkg) {
  for (size_t i = 0; pkg->settings != NULL && pkg->settings[i].name != NULL;
       i++) {
    const jobhost_param *sp = &pkg->settings[i];
    int found = jh_connection_setting(c, sp->name) != NULL;
    for (size_t j = 0; j < c->nsecrets && !found; j++)
      found = strcmp(c->secrets[j].name, sp->name) == 0;
    if (sp->required && !found)
      jh_yw_err_node(w, f, n,
                     "connection '%s' is missing setting '%s' "
                     "required by package '%s'%s%s",
                     JH_Q(c->id), sp->name, pkg->name, sp->help ? ": " : "",
                     sp->help ? sp->help : "");
  }
}

static void parse_connection(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                             jh_model *m, const jh_registry *reg) {
  size_t ne;
  jh_yentry *es;
  const jh_yentry *pe;
  const jobhost_package *pkg = NULL;
  jh_connection *c = jh_ml_begin_item(w, f, n, "a connection", &m->connections,
                                      &m->nconnections, sizeof(*c), &es, &ne);

  if (c == NULL)
    return;
  c->loc = jh_ml_loc(f, n);
  c->base_dir = dir_of(w, f->name);
  /* the package first: it gives the settings their schema */
  pe = jh_yw_find_entry(es, ne, "package");
  if (pe != NULL &&
      jh_yw_want_ident(w, f, pe->vnode, "package", &c->package) == 0) {
    c->package_loc = jh_ml_loc(f, pe->vnode);
    pkg = jh_model_package(reg, c);
    if (pkg == NULL && reg != NULL) {
      const char *names[64];
      size_t np = 0;
      char *all;
      for (size_t i = 0; i < reg->nplugins; i++)
        for (size_t j = 0; reg->plugins[i].desc->packages != NULL &&
                           reg->plugins[i].desc->packages[j].name != NULL &&
                           np < NELEM(names);
             j++)
          names[np++] = reg->plugins[i].desc->packages[j].name;
      all = jh_yw_join(names, np, ", ");
      jh_yw_err_node(w, f, pe->vnode,
                     "unknown package '%s': expected a "
                     "connector package of a loaded plugin (%s)",
                     JH_Q(c->package),
                     np == 0 ? "none is loaded"
                     : all   ? all
                             : "?");
      free(all);
    }
  }
  const jh_ml_plain_key plain[] = {
      {"id", JH_ML_IDENT, &c->id, NULL, "the connection's identifier"},
      {"connector", JH_ML_IDENT, &c->connector, &c->connector_loc,
       "the connector it belongs to"},
      {"display_name", JH_ML_STRING, &c->display_name, NULL, NULL}};
  for (size_t i = 0; i < ne; i++) {
    const char *k = es[i].key;
    if (jh_ml_read_plain(w, f, &es[i], plain, NELEM(plain)) ||
        strcmp(k, "package") == 0)
      continue;
    if (strcmp(k, "settings") == 0)
      parse_settings(w, f, es[i].vnode, c, pkg);
    else if (strcmp(k, "secrets") == 0)
      parse_secrets(w, f, es[i].vnode, c, pkg);
    else if (strcmp(k, "deactivation_export_fulfill") == 0) {
      size_t d;
      if (jh_yw_want_choice(w, f, es[i].vnode, k, deactivations,
                            NELEM(deactivations), &d) == 0)
        c->deactivation = (jh_deactivation)d;
    } else
      jh_yw_unknown_key(w, f, &es[i], connection_keys, NELEM(connection_keys));
  }
  jh_ml_require_plain(w, f, n, es, ne, "a connection", plain, NELEM(plain));
  if (pe == NULL)
    jh_ml_missing(w, f, n, "a connection", "package",
                  "the connector package that serves it, e.g. csv or ldif");
  if (pkg != NULL)
    required_settings(w, f, n, c, pkg);
  free(es);
}

/* ---- entity types ---- */

static void parse_property(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                           jh_entity_type *et) {
  size_t ne, t;
  jh_yentry *es;
  jh_property *p = jh_ml_begin_item(w, f, n, "a property", &et->properties,
                                    &et->nproperties, sizeof(*p), &es, &ne);

  if (p == NULL)
    return;
  p->loc = jh_ml_loc(f, n);
  const jh_ml_plain_key plain[] = {
      {"id", JH_ML_IDENT, &p->id, NULL, "the property's identifier"},
      {"target", JH_ML_IDENT, &p->target, NULL, NULL}};
  for (size_t i = 0; i < ne; i++) {
    const char *k = es[i].key;
    if (jh_ml_read_plain(w, f, &es[i], plain, NELEM(plain)))
      continue;
    if (strcmp(k, "type") != 0)
      jh_yw_unknown_key(w, f, &es[i], property_keys, NELEM(property_keys));
    else if (jh_yw_want_choice(w, f, es[i].vnode, k, property_types,
                               NELEM(property_types), &t) == 0)
      p->type = (jh_property_type)t;
  }
  jh_ml_require_plain(w, f, n, es, ne, "a property", plain, NELEM(plain));
  jh_ml_require_key(w, f, n, es, ne, "a property", "type",
                    "string, integer, boolean, datetime, link or links");
  free(es);
}

static void parse_entity_type(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                              jh_model *m) {
  size_t ne;
  jh_yentry *es;
  jh_entity_type *et = jh_ml_begin_item(w, f, n, "an entity type",
                                        &m->entity_types, &m->nentity_types,
                                        sizeof(*et), &es, &ne);

  if (et == NULL)
    return;
  et->loc = jh_ml_loc(f, n);
  const jh_ml_plain_key plain[] = {
      {"id", JH_ML_IDENT, &et->id, NULL, "the entity type's identifier"},
      {"display_name", JH_ML_STRING, &et->display_name, NULL, NULL}};
  for (size_t i = 0; i < ne; i++) {
    const char *k = es[i].key;
    if (jh_ml_read_plain(w, f, &es[i], plain, NELEM(plain)))
      continue;
    if (strcmp(k, "properties") == 0) {
      yaml_node_item_t *start = NULL;
      size_t np = jh_ml_items(w, f, es[i].vnode, k, &start);
      for (size_t j = 0; j < np && !w->oom; j++)
        parse_property(w, f, yaml_document_get_node(f->doc, start[j]), et);
    } else {
      jh_yw_unknown_key(w, f, &es[i], entity_type_keys,
                        NELEM(entity_type_keys));
    }
  }
  jh_ml_require_plain(w, f, n, es, ne, "an entity type", plain, NELEM(plain));
  free(es);
}

/* ---- mappings ---- */

static void parse_mapped(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                         jh_entity_mapping *mp) {
  size_t ne;
  jh_yentry *es;
  jh_mapped_property *p = jh_ml_begin_item(w, f, n, "a mapped property",
                                           &mp->properties, &mp->nproperties,
                                           sizeof(*p), &es, &ne);

  if (p == NULL)
    return;
  p->loc = jh_ml_loc(f, n);
  const jh_ml_plain_key plain[] = {
      {"property", JH_ML_IDENT, &p->property, NULL,
       "a property of the entity type"},
      {"column", JH_ML_STRING, &p->column, NULL,
       "the column of the connection table that fills it"},
      {"primary_key", JH_ML_BOOL, &p->primary_key, NULL, NULL},
      {"unique_key", JH_ML_BOOL, &p->unique_key, NULL, NULL},
      {"format", JH_ML_STRING, &p->format, NULL, NULL}};
  for (size_t i = 0; i < ne; i++)
    if (!jh_ml_read_plain(w, f, &es[i], plain, NELEM(plain)))
      jh_yw_unknown_key(w, f, &es[i], mapped_keys, NELEM(mapped_keys));
  jh_ml_require_plain(w, f, n, es, ne, "a mapped property", plain,
                      NELEM(plain));
  free(es);
}

static const jh_threshold_kind no_extra[1] = {JH_TH_MAX_DELETED};

static void parse_mapping(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                          jh_model *m) {
  size_t ne, npk = 0;
  jh_yentry *es;
  const jh_yentry *props;
  jh_entity_mapping *mp = jh_ml_begin_item(w, f, n, "an entity type mapping",
                                           &m->mappings, &m->nmappings,
                                           sizeof(*mp), &es, &ne);

  if (mp == NULL)
    return;
  mp->loc = jh_ml_loc(f, n);
  unset_thresholds(&mp->thresholds);
  const jh_ml_plain_key plain[] = {
      {"entity_type", JH_ML_IDENT, &mp->entity_type, &mp->entity_type_loc,
       "the entity type it fills"},
      {"connector", JH_ML_IDENT, &mp->connector, &mp->connector_loc,
       "the connector whose data fills it"},
      {"connection_table", JH_ML_IDENT, &mp->connection_table, NULL,
       "the exported table (file stem in ExportOutput)"}};
  for (size_t i = 0; i < ne; i++) {
    const char *k = es[i].key;
    yaml_node_t *v = es[i].vnode;
    if (jh_ml_read_plain(w, f, &es[i], plain, NELEM(plain)))
      continue;
    if (strcmp(k, "thresholds") == 0) {
      parse_thresholds(w, f, v, &mp->thresholds, JH_TH_MAX_DELETED,
                       JH_TH_PCT_UPDATED, no_extra, 0);
    } else if (strcmp(k, "properties") == 0) {
      yaml_node_item_t *start = NULL;
      size_t np = jh_ml_items(w, f, v, k, &start);
      for (size_t j = 0; j < np && !w->oom; j++)
        parse_mapped(w, f, yaml_document_get_node(f->doc, start[j]), mp);
    } else {
      jh_yw_unknown_key(w, f, &es[i], mapping_keys, NELEM(mapping_keys));
    }
  }
  jh_ml_require_plain(w, f, n, es, ne, "an entity type mapping", plain,
                      NELEM(plain));
  props = jh_yw_find_entry(es, ne, "properties");
  if (props == NULL || mp->nproperties == 0) {
    if (props == NULL)
      jh_ml_missing(w, f, n, "an entity type mapping", "properties",
                    "the mapped properties, one of them the primary key");
    else
      jh_yw_err_node(w, f, props->vnode,
                     "expected at least one mapped "
                     "property, one of them with 'primary_key: true'");
  } else {
    for (size_t i = 0; i < mp->nproperties; i++)
      if (mp->properties[i].primary_key) {
        if (npk++ == 0)
          mp->primary_key = i;
        else
          jh_yw_err_at(w, jh_ml_as_loc(mp->properties[i].loc),
                       "a second primary "
                       "key: an entity type mapping has exactly one "
                       "property with 'primary_key: true'");
      }
    if (npk == 0)
      jh_yw_err_node(w, f, props->vnode,
                     "no primary key: exactly one "
                     "mapped property must have 'primary_key: true'");
  }
  free(es);
}

static const jh_threshold_kind link_extra[] = {JH_TH_LINK_MAX_DELETED};

static void parse_association(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                              jh_model *m) {
  static const char need[] = "see doc/model.md (association_mappings)";
  size_t ne;
  jh_yentry *es;
  jh_association_mapping *a = jh_ml_begin_item(
      w, f, n, "an association mapping", &m->associations, &m->nassociations,
      sizeof(*a), &es, &ne);

  if (a == NULL)
    return;
  a->loc = jh_ml_loc(f, n);
  unset_thresholds(&a->thresholds);
  const jh_ml_plain_key plain[] = {
      {"id", JH_ML_IDENT, &a->id, NULL, need},
      {"connector", JH_ML_IDENT, &a->connector, &a->connector_loc, need},
      {"connection_table", JH_ML_IDENT, &a->connection_table, NULL, need},
      {"entity_type", JH_ML_IDENT, &a->entity_type, &a->entity_type_loc, need},
      {"property", JH_ML_IDENT, &a->property, &a->property_loc, need},
      {"column1", JH_ML_STRING, &a->column1, NULL, need},
      {"column2", JH_ML_STRING, &a->column2, NULL, need},
      {"key1", JH_ML_IDENT, &a->key1, &a->key1_loc, NULL},
      {"key2", JH_ML_IDENT, &a->key2, &a->key2_loc, NULL}};
  for (size_t i = 0; i < ne; i++) {
    if (jh_ml_read_plain(w, f, &es[i], plain, NELEM(plain)))
      continue;
    if (strcmp(es[i].key, "thresholds") == 0)
      parse_thresholds(w, f, es[i].vnode, &a->thresholds,
                       JH_TH_LINK_MAX_INSERTED, JH_TH_LINK_PCT_INSERTED,
                       link_extra, 1);
    else
      jh_yw_unknown_key(w, f, &es[i], association_keys,
                        NELEM(association_keys));
  }
  jh_ml_require_plain(w, f, n, es, ne, "an association mapping", plain,
                      NELEM(plain));
  free(es);
}

void jh_model_parse_section(jh_yw *w, const jh_yfile *f, const char *key,
                            yaml_node_t *n, jh_model *m,
                            const jh_registry *reg) {
  yaml_node_item_t *start = NULL;
  size_t count = jh_ml_items(w, f, n, key, &start);

  for (size_t i = 0; i < count && !w->oom; i++) {
    yaml_node_t *item = yaml_document_get_node(f->doc, start[i]);
    if (strcmp(key, "connectors") == 0)
      parse_connector(w, f, item, m);
    else if (strcmp(key, "connections") == 0)
      parse_connection(w, f, item, m, reg);
    else if (strcmp(key, "entity_types") == 0)
      parse_entity_type(w, f, item, m);
    else if (strcmp(key, "entity_type_mappings") == 0)
      parse_mapping(w, f, item, m);
    else if (strcmp(key, "association_mappings") == 0)
      parse_association(w, f, item, m);
    else if (strcmp(key, "entity_property_expressions") == 0)
      jh_ml_parse_expression(w, f, item, m);
    else if (strcmp(key, "resource_types") == 0)
      jh_ml_parse_resource_type(w, f, item, m);
    else if (strcmp(key, "resource_classification_rules") == 0)
      jh_ml_parse_classification_rule(w, f, item, m);
    else if (strcmp(key, "profile_rule_contexts") == 0)
      jh_ml_parse_profile_context(w, f, item, m);
  }
}

/* ---- checks across the model ---- */

/* For each item of a list, the position of the first item with the same
 * identifier (itself when it is the first; (size_t)-1 without an
 * identifier): a malloc'd array, or NULL (w->oom set). */
size_t *jh_ml_first_ids(jh_yw *w, const void *ids, size_t stride, size_t n,
                        int nocase) {
  size_t *first = jh_yw_xcalloc(w, n, sizeof(*first));
  jh_strindex ix;
  if (first == NULL)
    return NULL;
  if (jh_strindex_build(&ix, ids, stride, n, nocase) != 0) {
    w->oom = 1;
    free(first);
    return NULL;
  }
  jh_strindex_firsts(&ix, first, n);
  jh_strindex_free(&ix);
  return first;
}

void jh_ml_dup_report(jh_yw *w, const char *what, const char *id, jh_mloc at,
                      jh_mloc first, int nocase) {
  jh_yw_err_at(w, jh_ml_as_loc(at),
               "duplicate %s '%s' (first declared at %s:%d)%s", what, JH_Q(id),
               first.file ? first.file : "?", first.line,
               nocase ? ": identifiers are compared without case" : "");
}

static void check_unique(jh_yw *w, const jh_model *m) {
  CHECK_UNIQUE(w, "connector", m->connectors, m->nconnectors, id, 1);
  CHECK_UNIQUE(w, "connection", m->connections, m->nconnections, id, 1);
  CHECK_UNIQUE(w, "entity type", m->entity_types, m->nentity_types, id, 0);
  CHECK_UNIQUE(w, "entity type mapping for", m->mappings, m->nmappings,
               entity_type, 0);
  CHECK_UNIQUE(w, "association mapping", m->associations, m->nassociations, id,
               0);
}

void jh_ml_need_connector(jh_yw *w, const jh_model *m, const char *id,
                          jh_mloc at) {
  if (id != NULL && jh_model_connector(m, id) == NULL)
    jh_yw_err_at(w, jh_ml_as_loc(at),
                 "unknown connector '%s': expected a "
                 "connector declared under 'connectors:'",
                 JH_Q(id));
}

const jh_entity_type *jh_ml_need_entity_type(jh_yw *w, const jh_model *m,
                                             const char *id, jh_mloc at) {
  const jh_entity_type *et = jh_model_entity_type(m, id);
  if (id != NULL && et == NULL)
    jh_yw_err_at(w, jh_ml_as_loc(at),
                 "unknown entity type '%s': expected an "
                 "entity type declared under 'entity_types:'",
                 JH_Q(id));
  return et;
}

static void check_entity_types(jh_yw *w, const jh_model *m) {
  for (size_t i = 0; i < m->nentity_types; i++) {
    const jh_entity_type *et = &m->entity_types[i];
    CHECK_UNIQUE(w, "property", et->properties, et->nproperties, id, 0);
    for (size_t j = 0; j < et->nproperties; j++) {
      const jh_property *p = &et->properties[j];
      if (p->type == JH_PROP_LINK || p->type == JH_PROP_LINKS) {
        if (p->target == NULL)
          jh_yw_err_at(w, jh_ml_as_loc(p->loc),
                       "property '%s' is a %s: expected "
                       "'target', the entity type it points to",
                       JH_Q(p->id), p->type == JH_PROP_LINK ? "link" : "links");
        else
          jh_ml_need_entity_type(w, m, p->target, p->loc);
      } else if (p->target != NULL) {
        jh_yw_err_at(w, jh_ml_as_loc(p->loc),
                     "property '%s' has a 'target' but "
                     "is not a link: only 'link' and 'links' properties "
                     "point to an entity type",
                     JH_Q(p->id));
      }
    }
  }
}

static void check_mappings(jh_yw *w, const jh_model *m) {
  for (size_t i = 0; i < m->nmappings; i++) {
    const jh_entity_mapping *mp = &m->mappings[i];
    const jh_entity_type *et = jh_ml_need_entity_type(w, m, mp->entity_type,
                                                      mp->entity_type_loc);
    size_t *first = mp->nproperties > 1
                        ? jh_ml_first_ids(
                              w, JH_STRINDEX_FIELD(mp->properties, property),
                              mp->nproperties, 0)
                        : NULL;
    jh_ml_need_connector(w, m, mp->connector, mp->connector_loc);
    for (size_t j = 0; j < mp->nproperties; j++) {
      const jh_mapped_property *p = &mp->properties[j];
      const jh_property *ep;
      if (first != NULL && first[j] != (size_t)-1 && first[j] != j)
        jh_yw_err_at(w, jh_ml_as_loc(p->loc),
                     "property '%s' is mapped twice "
                     "(first at line %d): map each property once",
                     JH_Q(p->property), mp->properties[first[j]].loc.line);
      if (et == NULL || p->property == NULL)
        continue;
      ep = jh_entity_type_property(et, p->property);
      if (ep == NULL)
        jh_yw_err_at(w, jh_ml_as_loc(p->loc),
                     "entity type '%s' has no property "
                     "'%s': expected one of its declared properties",
                     JH_Q(et->id), JH_Q(p->property));
      else if (ep->type == JH_PROP_LINKS)
        jh_yw_err_at(w, jh_ml_as_loc(p->loc),
                     "property '%s' is multi-valued "
                     "(links): fill it with an association mapping, not a "
                     "column",
                     JH_Q(p->property));
    }
    free(first);
  }
}

/* Whether `key` names the primary key or a unique key of the mapping of
 * entity type et; the default (NULL) is the primary key. */
static const char *resolve_key(jh_yw *w, const jh_model *m, const char *et,
                               const char *key, jh_mloc at, const char *which) {
  const jh_entity_mapping *mp = jh_model_mapping(m, et);
  if (mp == NULL) {
    jh_yw_err_at(w, jh_ml_as_loc(at),
                 "entity type '%s' has no entity type "
                 "mapping: its keys are unknown, so %s cannot be matched",
                 JH_Q(et), which);
    return NULL;
  }
  if (key == NULL) /* no mapped property: an error of the mapping */
    return mp->nproperties > 0 ? mp->properties[mp->primary_key].property
                               : NULL;
  for (size_t i = 0; i < mp->nproperties; i++)
    if (mp->properties[i].property != NULL &&
        strcmp(mp->properties[i].property, key) == 0 &&
        (mp->properties[i].primary_key || mp->properties[i].unique_key))
      return key;
  jh_yw_err_at(w, jh_ml_as_loc(at),
               "'%s' is not a key of entity type '%s': "
               "expected its primary key or a property mapped with "
               "'unique_key: true'",
               JH_Q(key), JH_Q(et));
  return NULL;
}

static void check_associations(jh_yw *w, jh_model *m) {
  for (size_t i = 0; i < m->nassociations; i++) {
    jh_association_mapping *a = &m->associations[i];
    const jh_entity_type *et;
    const jh_property *p;
    const char *k1 = NULL, *k2 = NULL;
    jh_ml_need_connector(w, m, a->connector, a->connector_loc);
    et = jh_ml_need_entity_type(w, m, a->entity_type, a->entity_type_loc);
    if (et == NULL || a->property == NULL)
      continue;
    p = jh_entity_type_property(et, a->property);
    if (p == NULL || p->type != JH_PROP_LINKS) {
      jh_yw_err_at(w, jh_ml_as_loc(a->property_loc),
                   "'%s' is not a 'links' "
                   "property of entity type '%s': an association mapping "
                   "fills a multi-valued link",
                   JH_Q(a->property), JH_Q(et->id));
      continue;
    }
    k1 = resolve_key(w, m, et->id, a->key1,
                     a->key1 ? a->key1_loc : a->entity_type_loc, "column1");
    if (p->target != NULL && jh_model_entity_type(m, p->target) != NULL)
      k2 = resolve_key(w, m, p->target, a->key2,
                       a->key2 ? a->key2_loc : a->property_loc, "column2");
    /* defaults written in, so readers need not resolve them again */
    if (a->key1 == NULL && k1 != NULL)
      a->key1 = jh_yw_xstrdup(w, k1);
    if (a->key2 == NULL && k2 != NULL)
      a->key2 = jh_yw_xstrdup(w, k2);
  }
}

static void check_connections(jh_yw *w, const jh_model *m) {
  for (size_t i = 0; i < m->nconnections; i++)
    jh_ml_need_connector(w, m, m->connections[i].connector,
                         m->connections[i].connector_loc);
}

void jh_model_check(jh_yw *w, jh_model *m) {
  if (w->oom)
    return;
  check_unique(w, m);
  check_connections(w, m);
  check_entity_types(w, m);
  check_mappings(w, m);
  check_associations(w, m);
  jh_ml_check_rules(w, m);
  jh_ml_check_classify(w, m);
}
