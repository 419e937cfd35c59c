/*
 * model.c — see model.h: lookups, threshold defaults, secrets, freeing.
 */
#include "config.h"

#include "model.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *const threshold_keys[JH_TH_COUNT] = {
    [JH_TH_MAX_DELETED] = "maximum_deleted_lines",
    [JH_TH_MAX_INSERTED] = "maximum_inserted_lines",
    [JH_TH_MAX_UPDATED] = "maximum_updated_lines",
    [JH_TH_PCT_DELETED] = "max_percentage_deleted_lines",
    [JH_TH_PCT_INSERTED] = "max_percentage_inserted_lines",
    [JH_TH_PCT_UPDATED] = "max_percentage_updated_lines",
    [JH_TH_LINK_MAX_DELETED] = "maximum_link_deleted_lines",
    [JH_TH_LINK_MAX_INSERTED] = "maximum_link_inserted_lines",
    [JH_TH_LINK_PCT_DELETED] = "max_link_percentage_deleted_lines",
    [JH_TH_LINK_PCT_INSERTED] = "max_link_percentage_inserted_lines",
};

/* Connector-level defaults (doc/identity-manager.md, thresholds). */
static const int64_t connector_defaults[JH_TH_COUNT] = {
    [JH_TH_MAX_DELETED] = 100,       [JH_TH_MAX_INSERTED] = 100,
    [JH_TH_MAX_UPDATED] = 100,       [JH_TH_PCT_DELETED] = 5,
    [JH_TH_PCT_INSERTED] = 5,        [JH_TH_PCT_UPDATED] = 5,
    [JH_TH_LINK_MAX_DELETED] = 1000, [JH_TH_LINK_MAX_INSERTED] = 1000,
    [JH_TH_LINK_PCT_DELETED] = 5,    [JH_TH_LINK_PCT_INSERTED] = 5,
};

static const char *const prov_threshold_keys[JH_PTH_COUNT] = {
    [JH_PTH_MAX_INSERT] = "maximum_insert",
    [JH_PTH_MAX_UPDATE] = "maximum_update",
    [JH_PTH_MAX_DELETE] = "maximum_delete",
    [JH_PTH_PCT_INSERT] = "maximum_insert_percent",
    [JH_PTH_PCT_UPDATE] = "maximum_update_percent",
    [JH_PTH_PCT_DELETE] = "maximum_delete_percent",
};

const char *jh_prov_threshold_key(jh_prov_threshold_kind k) {
  return (unsigned)k < JH_PTH_COUNT ? prov_threshold_keys[k] : NULL;
}

const char *jh_threshold_key(jh_threshold_kind k) {
  return (unsigned)k < JH_TH_COUNT ? threshold_keys[k] : NULL;
}

int64_t jh_threshold_value(const jh_thresholds *t, jh_threshold_kind k,
                           int connector_level) {
  if ((unsigned)k >= JH_TH_COUNT)
    return 0;
  if (t != NULL && t->v[k] != JH_THRESHOLD_UNSET)
    return t->v[k];
  return connector_level ? connector_defaults[k] : 0;
}

/* Whether an item's identifier is `id`. An item whose identifier was
 * refused while loading has none (NULL) and matches nothing: a model with
 * errors is still checked, and lookups then must not see it. */
static int same_id(const char *item_id, const char *id, int nocase) {
  if (item_id == NULL || id == NULL)
    return 0;
  return (nocase ? strcasecmp(item_id, id) : strcmp(item_id, id)) == 0;
}

const jh_connector *jh_model_connector(const jh_model *m, const char *id) {
  for (size_t i = 0; m != NULL && id != NULL && i < m->nconnectors; i++)
    if (same_id(m->connectors[i].id, id, 1))
      return &m->connectors[i];
  return NULL;
}

const jh_connection *jh_model_connection(const jh_model *m, const char *id) {
  for (size_t i = 0; m != NULL && id != NULL && i < m->nconnections; i++)
    if (same_id(m->connections[i].id, id, 1))
      return &m->connections[i];
  return NULL;
}

const jh_entity_type *jh_model_entity_type(const jh_model *m, const char *id) {
  for (size_t i = 0; m != NULL && id != NULL && i < m->nentity_types; i++)
    if (same_id(m->entity_types[i].id, id, 0))
      return &m->entity_types[i];
  return NULL;
}

const jh_property *jh_entity_type_property(const jh_entity_type *et,
                                           const char *id) {
  for (size_t i = 0; et != NULL && id != NULL && i < et->nproperties; i++)
    if (same_id(et->properties[i].id, id, 0))
      return &et->properties[i];
  return NULL;
}

const jh_entity_mapping *jh_model_mapping(const jh_model *m,
                                          const char *entity_type) {
  for (size_t i = 0; m != NULL && entity_type != NULL && i < m->nmappings; i++)
    if (same_id(m->mappings[i].entity_type, entity_type, 0))
      return &m->mappings[i];
  return NULL;
}

const jh_resource_type *jh_model_resource_type(const jh_model *m,
                                               const char *id) {
  for (size_t i = 0; m != NULL && id != NULL && i < m->nresource_types; i++)
    if (same_id(m->resource_types[i].id, id, 0))
      return &m->resource_types[i];
  return NULL;
}

const char *jh_model_resource_type_connector(const jh_model *m,
                                             const jh_resource_type *rt) {
  const jh_entity_mapping *map;
  if (rt->connector != NULL)
    return rt->connector;
  map = jh_model_mapping(m, rt->target_entity_type);
  return map != NULL ? map->connector : NULL;
}

const char *jh_connection_setting(const jh_connection *c, const char *name) {
  for (size_t i = 0; c != NULL && name != NULL && i < c->nsettings; i++)
    if (same_id(c->settings[i].name, name, 0))
      return c->settings[i].value;
  return NULL;
}

size_t jh_model_connector_mappings(const jh_model *m, const char *connector,
                                   const jh_entity_mapping ***out) {
  size_t n = 0;
  *out = calloc(m->nmappings + 1, sizeof(**out));
  if (*out == NULL)
    return (size_t)-1;
  for (size_t i = 0; i < m->nmappings; i++)
    if (same_id(m->mappings[i].connector, connector, 1))
      (*out)[n++] = &m->mappings[i];
  return n;
}

size_t jh_model_connector_associations(const jh_model *m, const char *connector,
                                       const jh_association_mapping ***out) {
  size_t n = 0;
  *out = calloc(m->nassociations + 1, sizeof(**out));
  if (*out == NULL)
    return (size_t)-1;
  for (size_t i = 0; i < m->nassociations; i++)
    if (same_id(m->associations[i].connector, connector, 1))
      (*out)[n++] = &m->associations[i];
  return n;
}

static int copy_value(const char *value, size_t len, char *buf, size_t size) {
  if (len > 0 && value[len - 1] == '\n')
    len--;
  if (len > 0 && value[len - 1] == '\r')
    len--;
  if (len + 1 > size)
    return -ERANGE;
  memcpy(buf, value, len);
  buf[len] = '\0';
  return 0;
}

int jh_secret_read(const jh_secret *s, char *buf, size_t size) {
  char tmp[4096];
  ssize_t got;
  size_t len = 0;
  int fd, rc;

  if (s == NULL)
    return -ENOENT;
  if (s->source == JH_SECRET_ENV) {
    const char *v = getenv(s->ref);
    if (v == NULL)
      return -ENOENT;
    return copy_value(v, strlen(v), buf, size);
  }
  fd = open(s->ref, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  while ((got = read(fd, tmp + len, sizeof(tmp) - len)) > 0) {
    len += (size_t)got;
    if (len == sizeof(tmp))
      break;
  }
  rc = got < 0 ? -errno : 0;
  close(fd);
  if (rc == 0)
    rc = len == sizeof(tmp) ? -ERANGE : copy_value(tmp, len, buf, size);
  explicit_bzero(tmp, sizeof(tmp));
  return rc;
}

static void free_value_rule(jh_value_rule *v) {
  free(v->binding);
  free(v->expression);
}

static void free_expressions(jh_property_expression *x, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(x[i].id);
    free(x[i].entity_type);
    free(x[i].property);
    free_value_rule(&x[i].value);
  }
  free(x);
}

static void free_resource_type(jh_resource_type *rt) {
  free(rt->id);
  free(rt->source_entity_type);
  free(rt->target_entity_type);
  free(rt->connector);
  for (size_t j = 0; j < rt->ntype_rules; j++)
    free_value_rule(&rt->type_rules[j]);
  free(rt->type_rules);
  for (size_t j = 0; j < rt->nscalar_rules; j++) {
    free(rt->scalar_rules[j].property);
    free_value_rule(&rt->scalar_rules[j].value);
  }
  free(rt->scalar_rules);
  for (size_t j = 0; j < rt->nnavigation_rules; j++) {
    free(rt->navigation_rules[j].property);
    free(rt->navigation_rules[j].resource);
    free_value_rule(&rt->navigation_rules[j].value);
  }
  free(rt->navigation_rules);
  for (size_t j = 0; j < rt->ncorrelation_rules; j++) {
    free_value_rule(&rt->correlation_rules[j].source);
    free_value_rule(&rt->correlation_rules[j].target);
  }
  free(rt->correlation_rules);
}

void jh_model_free_classify(jh_model *m) {
  for (size_t i = 0; i < m->nclassification_rules; i++) {
    free(m->classification_rules[i].resource_type);
    free_value_rule(&m->classification_rules[i].target);
  }
  free(m->classification_rules);
  for (size_t i = 0; i < m->nprofile_contexts; i++) {
    jh_profile_context *c = &m->profile_contexts[i];
    free(c->entity_type);
    free(c->resource_type);
    free(c->sub_binding);
    free(c->sub_entity_type);
    for (size_t j = 0; j < c->nrules; j++) {
      free(c->rules[j].profile);
      free_value_rule(&c->rules[j].root);
      free_value_rule(&c->rules[j].sub);
    }
    free(c->rules);
  }
  free(m->profile_contexts);
  m->classification_rules = NULL;
  m->profile_contexts = NULL;
  m->nclassification_rules = m->nprofile_contexts = 0;
}

void jh_model_free(jh_model *m) {
  if (m == NULL)
    return;
  free_expressions(m->expressions, m->nexpressions);
  jh_model_free_classify(m);
  for (size_t i = 0; i < m->nresource_types; i++)
    free_resource_type(&m->resource_types[i]);
  free(m->resource_types);
  for (size_t i = 0; i < m->nconnectors; i++) {
    free(m->connectors[i].id);
    free(m->connectors[i].display_name);
    free(m->connectors[i].agent);
  }
  free(m->connectors);
  for (size_t i = 0; i < m->nconnections; i++) {
    jh_connection *c = &m->connections[i];
    free(c->id);
    free(c->connector);
    free(c->package);
    free(c->display_name);
    free(c->base_dir);
    for (size_t j = 0; j < c->nsettings; j++) {
      free(c->settings[j].name);
      free(c->settings[j].value);
      for (size_t k = 0; k < c->settings[j].nitems; k++)
        free(c->settings[j].items[k]);
      free(c->settings[j].items);
    }
    free(c->settings);
    for (size_t j = 0; j < c->nsecrets; j++) {
      free(c->secrets[j].name);
      free(c->secrets[j].ref);
    }
    free(c->secrets);
  }
  free(m->connections);
  for (size_t i = 0; i < m->nentity_types; i++) {
    jh_entity_type *et = &m->entity_types[i];
    free(et->id);
    free(et->display_name);
    for (size_t j = 0; j < et->nproperties; j++) {
      free(et->properties[j].id);
      free(et->properties[j].target);
    }
    free(et->properties);
  }
  free(m->entity_types);
  for (size_t i = 0; i < m->nmappings; i++) {
    jh_entity_mapping *mp = &m->mappings[i];
    free(mp->entity_type);
    free(mp->connector);
    free(mp->connection_table);
    for (size_t j = 0; j < mp->nproperties; j++) {
      free(mp->properties[j].property);
      free(mp->properties[j].column);
      free(mp->properties[j].format);
    }
    free(mp->properties);
  }
  free(m->mappings);
  for (size_t i = 0; i < m->nassociations; i++) {
    jh_association_mapping *a = &m->associations[i];
    free(a->id);
    free(a->connector);
    free(a->connection_table);
    free(a->entity_type);
    free(a->property);
    free(a->column1);
    free(a->column2);
    free(a->key1);
    free(a->key2);
  }
  free(m->associations);
  free(m);
}

/* ---- property values ---- */

/* n digits at *p (advanced past them): their value, or -1. */
static int digits(const char **p, const char *end, int n) {
  int v = 0;
  for (int i = 0; i < n; i++, (*p)++) {
    if (*p >= end || **p < '0' || **p > '9')
      return -1;
    v = v * 10 + (**p - '0');
  }
  return v;
}

static int days_in(int y, int m) {
  static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
    return 29;
  return d[m - 1];
}

/* Z, or a sign and an offset with (colon) or without a colon. */
static int zone_ok(const char *p, const char *end, int colon) {
  int h, m;
  if (p == end)
    return 1;
  if (*p == 'Z')
    return p + 1 == end;
  if (*p != '+' && *p != '-')
    return 0;
  p++;
  if ((h = digits(&p, end, 2)) < 0 || h > 23)
    return 0;
  if (colon && (p >= end || *p++ != ':'))
    return 0;
  return (m = digits(&p, end, 2)) >= 0 && m < 60 && p == end;
}

static int fraction(const char **p, const char *end) {
  const char *s;
  if (*p >= end || (**p != '.' && **p != ','))
    return 1;
  s = ++*p;
  while (*p < end && **p >= '0' && **p <= '9')
    (*p)++;
  return *p > s;
}

static int datetime_ok(const char *p, const char *end) {
  int y, mo, d, h, mi, sec = 0, iso;
  if ((y = digits(&p, end, 4)) < 0)
    return 0;
  iso = p < end && *p == '-';
  if (iso)
    p++;
  if ((mo = digits(&p, end, 2)) < 1 || mo > 12)
    return 0;
  if (iso && (p >= end || *p++ != '-'))
    return 0;
  if ((d = digits(&p, end, 2)) < 1 || d > days_in(y, mo))
    return 0;
  if (iso) {
    if (p == end)
      return 1; /* a date */
    if (*p != 'T' && *p != ' ')
      return 0;
    p++;
  }
  if ((h = digits(&p, end, 2)) < 0 || h > 23)
    return 0;
  if (iso && (p >= end || *p++ != ':'))
    return 0;
  if ((mi = digits(&p, end, 2)) < 0 || mi > 59)
    return 0;
  if (iso ? (p < end && *p == ':') : (p < end && *p >= '0' && *p <= '9')) {
    if (iso)
      p++;
    if ((sec = digits(&p, end, 2)) < 0 || sec > 60) /* 60: a leap second */
      return 0;
  }
  if (!fraction(&p, end))
    return 0;
  return zone_ok(p, end, iso);
}

int jh_property_value_ok(jh_property_type type, const char *v, size_t len,
                         const char **expected) {
  const char *end = v + len, *p = v;
  int ok = 1;
  if (len == 0)
    return 1;
  switch (type) {
  case JH_PROP_INTEGER: {
    uint64_t n = 0, limit = (uint64_t)INT64_MAX;
    if (*p == '+' || *p == '-') {
      if (*p == '-')
        limit += 1;
      p++;
    }
    ok = p < end;
    for (; ok && p < end; p++) {
      if (*p < '0' || *p > '9' || n > (limit - (uint64_t)(*p - '0')) / 10)
        ok = 0;
      else
        n = n * 10 + (uint64_t)(*p - '0');
    }
    if (!ok && expected)
      *expected = "an integer of at most 64 bits ([+-]digits)";
    break;
  }
  case JH_PROP_BOOLEAN:
    ok = (len == 1 && (*v == '0' || *v == '1')) ||
         (len == 4 && strncasecmp(v, "true", 4) == 0) ||
         (len == 5 && strncasecmp(v, "false", 5) == 0);
    if (!ok && expected)
      *expected = "a boolean (true, false, 1 or 0)";
    break;
  case JH_PROP_DATETIME:
    ok = datetime_ok(v, end);
    if (!ok && expected)
      *expected = "a date and time (YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM], or "
                  "YYYYMMDDHHMM[SS][.f][Z|+HHMM])";
    break;
  default:
    break;
  }
  return ok;
}
