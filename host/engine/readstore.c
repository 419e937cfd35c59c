/*
 * readstore.c — see readstore.h. The resources are read as the
 * synchronization wrote them (lib/idstore.h): `data` decoded into the
 * properties by name, a LINKS property through the association mapping
 * that fills it (the links table).
 */
#include "config.h"

#include "readstore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "db.h"
#include "idstore.h"

struct jh_readstore {
  const jh_model *m;
  const char *store_path;
  jobhost_entity_type *types; /* one per model entity type */
  jobhost_property *props;    /* all their properties */
  const jobhost_entity_type **all, **scoped;
  size_t ntypes;
  jh_db *db;  /* opened on the first cursor; NULL: no store (yet) */
  int opened; /* the store was looked for */
  struct jobhost_cursor *cursors; /* open ones, closed by _free too */
};

struct jobhost_cursor {
  jh_readstore *rs;
  const jobhost_entity_type *et;
  const jh_association_mapping **assoc; /* per property: LINKS' mapping */
  size_t *slot_of_prop;                 /* store property number -> index
                                           into et->properties, or -1 */
  size_t nslots;
  sqlite3_stmt *rows, *links; /* the cursor's own statements */
  /* the current resource */
  jobhost_resource res;
  jobhost_resource_value *vals;
  char **texts;     /* per property: its scalar value (owned) */
  char ***lists;    /* per property: LINKS keys (owned) */
  size_t *nlist;    /* their counts */
  const char **one; /* per property: &texts[i] as a 1-item list */
  char *key;        /* owned */
  struct jobhost_cursor *next;
};

static jobhost_property_type prop_type(jh_property_type t) {
  switch (t) {
  case JH_PROP_INTEGER:
    return JOBHOST_PROPERTY_INTEGER;
  case JH_PROP_BOOLEAN:
    return JOBHOST_PROPERTY_BOOLEAN;
  case JH_PROP_DATETIME:
    return JOBHOST_PROPERTY_DATETIME;
  case JH_PROP_LINK:
    return JOBHOST_PROPERTY_LINK;
  case JH_PROP_LINKS:
    return JOBHOST_PROPERTY_LINKS;
  case JH_PROP_STRING:
    break;
  }
  return JOBHOST_PROPERTY_STRING;
}

/* The SDK's view of the model's entity types, built once. */
static int build(jh_readstore *rs) {
  const jh_model *m = rs->m;
  size_t nprops = 0, k = 0;

  if (rs->types != NULL || m->nentity_types == 0)
    return 0;
  for (size_t i = 0; i < m->nentity_types; i++)
    nprops += m->entity_types[i].nproperties;
  rs->types = calloc(m->nentity_types, sizeof(*rs->types));
  rs->props = calloc(nprops ? nprops : 1, sizeof(*rs->props));
  rs->all = calloc(m->nentity_types, sizeof(*rs->all));
  rs->scoped = calloc(m->nentity_types, sizeof(*rs->scoped));
  if (rs->types == NULL || rs->props == NULL || rs->all == NULL ||
      rs->scoped == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < m->nentity_types; i++) {
    const jh_entity_type *et = &m->entity_types[i];
    const jh_entity_mapping *map;
    jobhost_entity_type *t = &rs->types[rs->ntypes];
    if (et->id == NULL)
      continue; /* refused while loading */
    map = jh_model_mapping(m, et->id);
    t->name = et->id;
    t->display_name = et->display_name;
    t->connector = map != NULL ? map->connector : NULL;
    t->key = map != NULL && map->nproperties > 0
                 ? map->properties[map->primary_key].property
                 : NULL;
    t->properties = &rs->props[k];
    for (size_t j = 0; j < et->nproperties; j++) {
      rs->props[k].name = et->properties[j].id;
      rs->props[k].type = prop_type(et->properties[j].type);
      rs->props[k].target = et->properties[j].target;
      k++;
    }
    t->nproperties = et->nproperties;
    rs->all[rs->ntypes++] = t;
  }
  return 0;
}

int jh_readstore_new(const jh_model *m, const char *store_path,
                     jh_readstore **out) {
  jh_readstore *rs = calloc(1, sizeof(*rs));
  *out = NULL;
  if (rs == NULL)
    return -ENOMEM;
  rs->m = m;
  rs->store_path = store_path;
  *out = rs;
  return 0;
}

void jh_readstore_free(jh_readstore *rs) {
  if (rs == NULL)
    return;
  while (rs->cursors != NULL) /* left open by the task */
    jh_readstore_close(rs->cursors);
  if (rs->db != NULL) {
    if (jh_db_in_transaction(rs->db))
      jh_db_rollback(rs->db); /* read only: nothing to keep */
    jh_db_close(rs->db);
  }
  free(rs->types);
  free(rs->props);
  free(rs->all);
  free(rs->scoped);
  free(rs);
}

size_t jh_readstore_entity_types(jh_readstore *rs, const char *connector,
                                 int only_connector,
                                 const jobhost_entity_type *const **out) {
  size_t n = 0;
  *out = NULL;
  if (build(rs) != 0)
    return 0;
  if (!only_connector) {
    *out = rs->all;
    return rs->ntypes;
  }
  for (size_t i = 0; connector != NULL && i < rs->ntypes; i++)
    if (rs->all[i]->connector != NULL &&
        strcasecmp(rs->all[i]->connector, connector) == 0)
      rs->scoped[n++] = rs->all[i];
  *out = rs->scoped;
  return n;
}

const jobhost_entity_type *jh_readstore_entity_type(jh_readstore *rs,
                                                    const char *name) {
  if (name == NULL || build(rs) != 0)
    return NULL;
  for (size_t i = 0; i < rs->ntypes; i++)
    if (strcmp(rs->all[i]->name, name) == 0)
      return rs->all[i];
  return NULL;
}

/* The store, read-only, in one read transaction that the first read
 * fixes: every cursor after it sees the same snapshot. A store that does
 * not exist yet leaves rs->db NULL (everything reads as empty). */
static int snapshot(jh_readstore *rs, char *err, size_t errsize) {
  static const jh_db_config cfg = {.busy_ms = JH_IDSTORE_BUSY_MS,
                                   .read_only = 1,
                                   .single_thread = 1};
  sqlite3_stmt *q;
  char reason[256];
  int rc;

  if (rs->opened)
    return 0;
  rs->opened = 1;
  if (access(rs->store_path, F_OK) != 0)
    return 0;
  rc = jh_db_open(rs->store_path, &cfg, &rs->db, reason, sizeof(reason));
  if (rc != 0) {
    rs->db = NULL;
    snprintf(err, errsize, "%s: cannot open the identity store: %s",
             rs->store_path, reason);
    return -EIO;
  }
  rc = jh_db_begin_deferred(rs->db);
  q = rc == 0 ? jh_db_stmt(rs->db, "SELECT count(*) FROM sqlite_master") : NULL;
  if (q == NULL || jh_db_step(rs->db, q, "snapshot") != 1)
    rc = -EIO;
  jh_db_done(rs->db, q);
  if (rc != 0)
    snprintf(err, errsize, "%s: %s", rs->store_path, jh_db_errmsg(rs->db));
  return rc;
}

static const jh_association_mapping *
association_of(const jh_model *m, const char *et, const char *prop) {
  for (size_t i = 0; i < m->nassociations; i++) {
    const jh_association_mapping *a = &m->associations[i];
    if (a->id != NULL && a->entity_type != NULL && a->property != NULL &&
        strcmp(a->entity_type, et) == 0 && strcmp(a->property, prop) == 0)
      return a;
  }
  return NULL;
}

static void clear_row(jobhost_cursor *c) {
  size_t n = c->et->nproperties;
  if (c->texts == NULL || c->lists == NULL || c->nlist == NULL)
    return;
  for (size_t i = 0; i < n; i++) {
    free(c->texts[i]);
    c->texts[i] = NULL;
    for (size_t j = 0; j < c->nlist[i]; j++)
      free(c->lists[i][j]);
    free(c->lists[i]);
    c->lists[i] = NULL;
    c->nlist[i] = 0;
  }
  free(c->key);
  c->key = NULL;
}

void jh_readstore_close(jobhost_cursor *c) {
  if (c == NULL)
    return;
  clear_row(c);
  sqlite3_finalize(c->rows);
  sqlite3_finalize(c->links);
  for (jobhost_cursor **p = &c->rs->cursors; *p != NULL; p = &(*p)->next)
    if (*p == c) {
      *p = c->next;
      break;
    }
  free(c->assoc);
  free(c->slot_of_prop);
  free(c->vals);
  free(c->texts);
  free(c->lists);
  free(c->nlist);
  free(c->one);
  free(c);
}

/* Map the store's property numbers to the entity type's properties. */
static int map_properties(jobhost_cursor *c) {
  sqlite3_stmt *q = NULL;
  int rc;
  if (sqlite3_prepare_v2(jh_db_sqlite(c->rs->db),
                         "SELECT id, name FROM properties", -1, &q,
                         NULL) != SQLITE_OK)
    return -EIO;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(q, 0);
    const char *name = (const char *)sqlite3_column_text(q, 1);
    if (id < 0 || id > 1000000 || name == NULL)
      continue;
    if ((size_t)id >= c->nslots) {
      size_t *grown = realloc(c->slot_of_prop,
                              ((size_t)id + 1) * sizeof(*grown));
      if (grown == NULL) {
        sqlite3_finalize(q);
        return -ENOMEM;
      }
      for (size_t k = c->nslots; k <= (size_t)id; k++)
        grown[k] = (size_t)-1;
      c->slot_of_prop = grown;
      c->nslots = (size_t)id + 1;
    }
    for (size_t k = 0; k < c->et->nproperties; k++)
      if (strcmp(c->et->properties[k].name, name) == 0)
        c->slot_of_prop[id] = k;
  }
  sqlite3_finalize(q);
  return rc == SQLITE_DONE ? 0 : -EIO;
}

static int prepare(jobhost_cursor *c) {
  sqlite3 *db = jh_db_sqlite(c->rs->db);
  int rc;
  if (sqlite3_prepare_v2(db,
                         "SELECT r.key, r.data FROM resources r "
                         "JOIN entity_types t ON t.id = r.entity_type "
                         "WHERE t.name = ?1 ORDER BY r.key",
                         -1, &c->rows, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db,
                         "SELECT value2 FROM links WHERE association = ?1 "
                         "AND value1 = ?2 ORDER BY value2",
                         -1, &c->links, NULL) != SQLITE_OK)
    return -EIO;
  if (sqlite3_bind_text(c->rows, 1, c->et->name, -1, SQLITE_STATIC) !=
      SQLITE_OK)
    return -EIO;
  rc = map_properties(c);
  return rc;
}

int jh_readstore_open(jh_readstore *rs, const char *name, const char *connector,
                      int only_connector, jobhost_cursor **out, char *err,
                      size_t errsize) {
  const jobhost_entity_type *et;
  jobhost_cursor *c;
  size_t n;
  int rc;

  *out = NULL;
  if (rs->store_path == NULL)
    return -EPERM;
  et = jh_readstore_entity_type(rs, name);
  if (et == NULL)
    return -ENOENT;
  if (only_connector && (connector == NULL || et->connector == NULL ||
                         strcasecmp(et->connector, connector) != 0))
    return -EPERM;
  rc = snapshot(rs, err, errsize);
  if (rc != 0)
    return rc;
  c = calloc(1, sizeof(*c));
  if (c == NULL)
    return -ENOMEM;
  c->rs = rs;
  c->et = et;
  c->next = rs->cursors;
  rs->cursors = c;
  n = et->nproperties ? et->nproperties : 1;
  c->assoc = calloc(n, sizeof(*c->assoc));
  c->vals = calloc(n, sizeof(*c->vals));
  c->texts = calloc(n, sizeof(*c->texts));
  c->lists = calloc(n, sizeof(*c->lists));
  c->nlist = calloc(n, sizeof(*c->nlist));
  c->one = calloc(n, sizeof(*c->one));
  if (c->assoc == NULL || c->vals == NULL || c->texts == NULL ||
      c->lists == NULL || c->nlist == NULL || c->one == NULL) {
    jh_readstore_close(c);
    return -ENOMEM;
  }
  for (size_t i = 0; i < et->nproperties; i++)
    if (et->properties[i].type == JOBHOST_PROPERTY_LINKS)
      c->assoc[i] = association_of(rs->m, et->name, et->properties[i].name);
  if (rs->db != NULL && (rc = prepare(c)) != 0) {
    snprintf(err, errsize, "%s: %s", rs->store_path,
             sqlite3_errmsg(jh_db_sqlite(rs->db)));
    jh_readstore_close(c);
    return rc;
  }
  *out = c;
  return 0;
}

static int take_value(void *arg, uint32_t prop, const char *value, size_t len) {
  jobhost_cursor *c = arg;
  size_t k = prop < c->nslots ? c->slot_of_prop[prop] : (size_t)-1;
  if (k == (size_t)-1 || c->texts[k] != NULL)
    return 0; /* a property this entity type does not have */
  c->texts[k] = strndup(value, len);
  return c->texts[k] != NULL ? 0 : -ENOMEM;
}

/* The keys a LINKS property k of the current resource leads to. */
static int read_links(jobhost_cursor *c, size_t k) {
  const jh_association_mapping *a = c->assoc[k];
  const char *owner = c->key;
  size_t cap = 0;
  int rc;

  if (a->key1 != NULL) { /* column1 holds another unique key */
    owner = NULL;
    for (size_t i = 0; i < c->et->nproperties; i++)
      if (strcmp(c->et->properties[i].name, a->key1) == 0)
        owner = c->texts[i];
    if (owner == NULL)
      return 0;
  }
  sqlite3_reset(c->links);
  if (sqlite3_bind_text(c->links, 1, a->id, -1, SQLITE_STATIC) != SQLITE_OK ||
      sqlite3_bind_text(c->links, 2, owner, -1, SQLITE_STATIC) != SQLITE_OK)
    return -EIO;
  while ((rc = sqlite3_step(c->links)) == SQLITE_ROW) {
    const char *v = (const char *)sqlite3_column_text(c->links, 0);
    if (c->nlist[k] == cap) {
      size_t ncap = cap ? cap * 2 : 8;
      char **grown = realloc(c->lists[k], ncap * sizeof(*grown));
      if (grown == NULL)
        return -ENOMEM;
      c->lists[k] = grown;
      cap = ncap;
    }
    c->lists[k][c->nlist[k]] = strdup(v != NULL ? v : "");
    if (c->lists[k][c->nlist[k]] == NULL)
      return -ENOMEM;
    c->nlist[k]++;
  }
  sqlite3_reset(c->links);
  return rc == SQLITE_DONE ? 0 : -EIO;
}

int jh_readstore_next(jobhost_cursor *c, const jobhost_resource **out) {
  const jobhost_entity_type *et = c->et;
  const char *key;
  int rc;

  *out = NULL;
  clear_row(c);
  if (c->rows == NULL)
    return 0; /* no store yet: no resource */
  rc = sqlite3_step(c->rows);
  if (rc == SQLITE_DONE)
    return 0;
  if (rc != SQLITE_ROW)
    return -EIO;
  key = (const char *)sqlite3_column_text(c->rows, 0);
  c->key = strdup(key != NULL ? key : "");
  if (c->key == NULL)
    return -ENOMEM;
  rc = jh_idstore_decode(sqlite3_column_blob(c->rows, 1),
                         (size_t)sqlite3_column_bytes(c->rows, 1), take_value,
                         c);
  for (size_t k = 0; rc == 0 && k < et->nproperties; k++)
    if (c->assoc[k] != NULL)
      rc = read_links(c, k);
  if (rc != 0)
    return rc;
  c->res.key = c->key;
  c->res.values = c->vals;
  c->res.nvalues = 0;
  for (size_t k = 0; k < et->nproperties; k++) {
    jobhost_resource_value *v = &c->vals[c->res.nvalues];
    if (c->nlist[k] > 0) {
      v->values = (const char *const *)c->lists[k];
      v->nvalues = c->nlist[k];
    } else if (c->texts[k] != NULL) {
      c->one[k] = c->texts[k];
      v->values = &c->one[k];
      v->nvalues = 1;
    } else {
      continue;
    }
    v->name = et->properties[k].name;
    c->res.nvalues++;
  }
  *out = &c->res;
  return 1;
}
