/*
 * order.c — one order of an order file as the package sees it
 * (jobhost_order, sdk/include/jobhost/connector.h; doc/fulfill.md): every
 * pointer into the JSON document or into arrays owned here.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fulfill.h"
#include "order_file.h"

/* The values of one list of properties. */
typedef struct value_list {
  jobhost_order_value *v;
  size_t n;
} value_list;

struct ff_order {
  jobhost_order o;
  value_list changes, added, removed, resource;
  const char **texts; /* every value pointer, one array */
  size_t ntexts, texts_cap;
  char *json;
};

static const char *text_of(const json_t *o, const char *key) {
  return json_string_value(json_object_get(o, key));
}

/* Room for the values of a whole order: counted before anything is
 * pointed to, so that the array never moves. */
static size_t count_texts(const json_t *obj) {
  const char *k;
  const json_t *v;
  size_t n = 0;
  json_object_foreach((json_t *)obj, k, v) {
    if (json_is_object(v))
      n += json_array_size(json_object_get(v, "Add")) +
           json_array_size(json_object_get(v, "Remove"));
    else if (json_is_array(v))
      n += json_array_size(v);
    else
      n++;
  }
  return n;
}

/* Append the strings of arr (or the one string v) to ord->texts; the
 * first of them into *first. -EINVAL with err when one is not a text. */
static int add_texts(ff_order *ord, const char *name, const json_t *v,
                     const char *const **first, size_t *n, char *err,
                     size_t errsize) {
  size_t count = json_is_array(v) ? json_array_size(v) : v != NULL;
  *first = ord->texts + ord->ntexts;
  *n = 0;
  for (size_t i = 0; i < count; i++) {
    const json_t *item = json_is_array(v) ? json_array_get(v, i) : v;
    if (!json_is_string(item)) {
      snprintf(err, errsize, "the value of %s is not a text", name);
      return -EINVAL;
    }
    if (ord->ntexts >= ord->texts_cap)
      return -ENOMEM; /* counted wrong: never expected */
    ord->texts[ord->ntexts++] = json_string_value(item);
    (*n)++;
  }
  return 0;
}

static int push(value_list *l, const char *name, const char *const *values,
                size_t n) {
  jobhost_order_value *g = realloc(l->v, (l->n + 1) * sizeof(*l->v));
  if (g == NULL)
    return -ENOMEM;
  l->v = g;
  l->v[l->n++] = (jobhost_order_value){name, values, n};
  return 0;
}

/* One navigation change {"Add": [...], "Remove": [...]}: in an Added
 * order every key is a value to set; in a Modified one, to add or to
 * remove. */
static int navigation(ff_order *ord, const char *name, const json_t *v,
                      char *err, size_t errsize) {
  const json_t *add = json_object_get(v, "Add"),
               *rem = json_object_get(v, "Remove");
  const char *const *first;
  size_t n;
  int rc = add_texts(ord, name, add, &first, &n, err, errsize);
  if (rc == 0 && ord->o.change_type == JOBHOST_CHANGE_ADDED)
    return push(&ord->changes, name, first, n);
  if (rc == 0 && n > 0)
    rc = push(&ord->added, name, first, n);
  if (rc == 0)
    rc = add_texts(ord, name, rem, &first, &n, err, errsize);
  if (rc == 0 && n > 0)
    rc = push(&ord->removed, name, first, n);
  return rc;
}

/* The members of obj into l (Changes, or Resource when nav is 0). */
static int values_of(ff_order *ord, const json_t *obj, value_list *l, int nav,
                     char *err, size_t errsize) {
  const char *k;
  const json_t *v;
  int rc = 0;
  json_object_foreach((json_t *)obj, k, v) {
    const char *const *first;
    size_t n;
    if (rc != 0)
      break;
    if (nav && json_is_object(v)) {
      rc = navigation(ord, k, v, err, errsize);
      continue;
    }
    rc = add_texts(ord, k, json_is_null(v) ? NULL : v, &first, &n, err,
                   errsize);
    if (rc == 0)
      rc = push(l, k, first, n);
  }
  return rc;
}

/* The target's key: from Resource, or for Added from Changes. */
static const char *resource_id(const json_t *o, int change, const char *key) {
  const json_t *from = json_object_get(o, change == JOBHOST_CHANGE_ADDED
                                              ? "Changes"
                                              : "Resource");
  return key != NULL ? text_of(from, key) : NULL;
}

static int fill(ff_order *ord, const json_t *o, const char *key, char *err,
                size_t errsize) {
  const json_t *changes = json_object_get(o, "Changes");
  const json_t *resource = json_object_get(o, "Resource");
  int change = jh_order_change_type(text_of(o, "ChangeType"));
  int rc;

  ord->texts_cap = count_texts(changes) + count_texts(resource) + 1;
  ord->texts = calloc(ord->texts_cap, sizeof(*ord->texts));
  ord->json = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
  if (ord->texts == NULL || ord->json == NULL)
    return -ENOMEM;
  ord->o.assigned_resource_type_id = text_of(o, "AssignedResourceTypeId");
  ord->o.change_type = (jobhost_change_type)change;
  ord->o.resource_type = text_of(json_object_get(o, "ResourceType"),
                                 "Identifier");
  ord->o.owner_id = text_of(json_object_get(o, "Owner"), "Identifier");
  ord->o.resource_id = resource_id(o, change, key);
  ord->o.json = ord->json;
  rc = values_of(ord, changes, &ord->changes, 1, err, errsize);
  if (rc == 0)
    rc = values_of(ord, resource, &ord->resource, 0, err, errsize);
  if (rc == -ENOMEM)
    snprintf(err, errsize, "out of memory");
  return rc;
}

int jh_ff_order_build(const json_t *o, const char *key, ff_order **out,
                      char *err, size_t errsize) {
  ff_order *ord = calloc(1, sizeof(*ord));
  int rc;
  *out = NULL;
  if (ord == NULL) {
    snprintf(err, errsize, "out of memory");
    return -ENOMEM;
  }
  rc = jh_order_check(o, err, errsize);
  if (rc == 0)
    rc = fill(ord, o, key, err, errsize);
  if (rc != 0) {
    if (rc == -ENOMEM)
      snprintf(err, errsize, "out of memory");
    jh_ff_order_free(ord);
    return rc;
  }
  ord->o.changes = ord->changes.v;
  ord->o.nchanges = ord->changes.n;
  ord->o.added = ord->added.v;
  ord->o.nadded = ord->added.n;
  ord->o.removed = ord->removed.v;
  ord->o.nremoved = ord->removed.n;
  ord->o.resource = ord->resource.v;
  ord->o.nresource = ord->resource.n;
  *out = ord;
  return 0;
}

const jobhost_order *jh_ff_order(const ff_order *o) { return &o->o; }

void jh_ff_order_free(ff_order *o) {
  if (o == NULL)
    return;
  free(o->changes.v);
  free(o->added.v);
  free(o->removed.v);
  free(o->resource.v);
  free(o->texts);
  free(o->json);
  free(o);
}
