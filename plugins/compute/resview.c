/*
 * resview.c — resources of the identity store as the rules see them
 * (compute.h): the synchronized data with the computed values laid over
 * it, property names by number, links followed by the target's key and
 * multi-valued links through the association mapping that fills them.
 *
 * Handles, their values and the targets they lead to live in one arena
 * that jh_rv_reset empties: reading a resource allocates only when the
 * arena must grow, never per value.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "compute.h"
#include "keyset.h"

/* ---- arena ---- */

typedef struct block {
  struct block *next;
  size_t size, used;
  char *data; /* follows the header, aligned */
} block;

#define ARENA_FIRST (64u << 10)
#define ARENA_ALIGN 16u

static void *arena_alloc(block **head, size_t n) {
  block *b = *head;
  size_t at = b != NULL
                  ? (b->used + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1)
                  : 0;
  if (b == NULL || at + n > b->size) {
    size_t size = b != NULL ? b->size * 2 : ARENA_FIRST;
    while (size < n)
      size *= 2;
    b = malloc(sizeof(*b) + ARENA_ALIGN + size);
    if (b == NULL)
      return NULL;
    b->next = *head;
    b->size = size;
    b->used = 0;
    b->data = (char *)b +
              ((sizeof(*b) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1));
    *head = b;
    at = 0;
  }
  b->used = at + n;
  return b->data + at;
}

static void *arena_zalloc(block **head, size_t n) {
  void *p = arena_alloc(head, n);
  if (p != NULL)
    memset(p, 0, n);
  return p;
}

/* Keep the newest (largest) block, emptied; free the others. */
static void arena_reset(block **head) {
  block *b = *head, *next;
  if (b == NULL)
    return;
  for (block *o = b->next; o != NULL; o = next) {
    next = o->next;
    free(o);
  }
  b->next = NULL;
  b->used = 0;
}

static void arena_free(block **head) {
  block *next;
  for (block *b = *head; b != NULL; b = next) {
    next = b->next;
    free(b);
  }
  *head = NULL;
}

/* ---- entity types ---- */

typedef struct by_num {
  uint32_t num;
  size_t index;
} by_num;

/* A property found by name: the name's address, checked again with
 * strcmp on each use, so that a reused address never gives a wrong
 * property. */
typedef struct prop_hit {
  const char *name;
  const jh_property *p;
} prop_hit;

#define PROP_HITS 32 /* a power of 2 */

/* What the view knows of one entity type of the model. */
typedef struct etinfo {
  const jh_entity_type *et;
  prop_hit hits[PROP_HITS]; /* recent jh_entity_type_property answers */
  int64_t num;              /* in the store */
  uint32_t *nums;           /* per property */
  by_num *sorted;           /* nums sorted, for decoding */
  ssize_t key_prop;         /* index of the mapping's primary key, or -1 */
  int ready;
} etinfo;

/* A cached property number. */
typedef struct propnum {
  const char *name;
  uint32_t num;
} propnum;

typedef struct follow_cache {
  int done;
  size_t n;
  const void **targets;
} follow_cache;

struct jh_rv_res {
  etinfo *ti;
  const char *key;
  size_t key_len;
  const char **val; /* per property index; NULL: none */
  size_t *len;
  follow_cache *fc; /* per property index */
};

struct jh_rv {
  const jh_model *model;
  jh_idstore *store;
  etinfo *types; /* parallel to model->entity_types */
  propnum *props;
  size_t nprops, props_cap;
  block *arena;
  jh_keyset *known; /* link targets found, or not, in the store */
  jh_expr_resolver resolver;
};

static etinfo *info_of(jh_rv *v, const jh_entity_type *et) {
  size_t i = (size_t)(et - v->model->entity_types);
  return i < v->model->nentity_types ? &v->types[i] : NULL;
}

int jh_rv_property(jh_rv *v, const char *name, uint32_t *id, char *err,
                   size_t errsize) {
  int rc;
  for (size_t i = 0; i < v->nprops; i++)
    if (strcmp(v->props[i].name, name) == 0) {
      *id = v->props[i].num;
      return 0;
    }
  rc = jh_idstore_property(v->store, name, id, err, errsize);
  if (rc != 0)
    return rc;
  if (jh_array_reserve(&v->props, &v->props_cap, v->nprops + 1,
                       sizeof(*v->props), 32) != 0) {
    snprintf(err, errsize, "out of memory");
    return -ENOMEM;
  }
  v->props[v->nprops].name = name;
  v->props[v->nprops++].num = *id;
  return 0;
}

static int cmp_num(const void *a, const void *b) {
  const by_num *x = a, *y = b;
  return x->num < y->num ? -1 : x->num > y->num;
}

static ssize_t key_property(const jh_model *m, const jh_entity_type *et) {
  const jh_entity_mapping *map = jh_model_mapping(m, et->id);
  const jh_property *p;
  if (map == NULL || map->primary_key >= map->nproperties)
    return -1;
  p = jh_entity_type_property(et, map->properties[map->primary_key].property);
  return p != NULL ? p - et->properties : -1;
}

/* Learn et's numbers, once. */
static int prepare(jh_rv *v, etinfo *ti, char *err, size_t errsize) {
  const jh_entity_type *et = ti->et;
  const jh_entity_mapping *map = jh_model_mapping(v->model, et->id);
  size_t n = et->nproperties;
  int rc;

  if (ti->ready)
    return 0;
  rc = jh_idstore_entity_type(v->store, et->id,
                              map != NULL ? map->connector : NULL, &ti->num,
                              err, errsize);
  if (rc != 0)
    return rc;
  ti->nums = calloc(n + 1, sizeof(*ti->nums));
  ti->sorted = calloc(n + 1, sizeof(*ti->sorted));
  if (ti->nums == NULL || ti->sorted == NULL) {
    snprintf(err, errsize, "out of memory");
    return -ENOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    rc = jh_rv_property(v, et->properties[i].id, &ti->nums[i], err, errsize);
    if (rc != 0)
      return rc;
    ti->sorted[i].num = ti->nums[i];
    ti->sorted[i].index = i;
  }
  qsort(ti->sorted, n, sizeof(*ti->sorted), cmp_num);
  ti->key_prop = key_property(v->model, et);
  ti->ready = 1;
  return 0;
}

int jh_rv_entity_type(jh_rv *v, const jh_entity_type *et, int64_t *num,
                      char *err, size_t errsize) {
  etinfo *ti = info_of(v, et);
  int rc;
  if (ti == NULL) {
    snprintf(err, errsize, "entity type %s is not the model's", et->id);
    return -EINVAL;
  }
  rc = prepare(v, ti, err, errsize);
  if (rc == 0)
    *num = ti->num;
  return rc;
}

/* ---- handles ---- */

typedef struct decode_arg {
  const etinfo *ti;
  jh_rv_res *r;
} decode_arg;

static int put_value(void *arg, uint32_t prop, const char *value, size_t vlen) {
  decode_arg *d = arg;
  size_t lo = 0, hi = d->ti->et->nproperties;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (d->ti->sorted[mid].num < prop)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < d->ti->et->nproperties && d->ti->sorted[lo].num == prop) {
    size_t i = d->ti->sorted[lo].index;
    d->r->val[i] = value;
    d->r->len[i] = vlen;
  }
  return 0; /* a property the model no longer has is passed over */
}

/* Copy and decode blob (data or computed) into r. */
static int decode_into(jh_rv *v, jh_rv_res *r, const void *blob, size_t len,
                       char *err, size_t errsize) {
  decode_arg d = {r->ti, r};
  char *copy;
  if (len == 0)
    return 0;
  copy = arena_alloc(&v->arena, len);
  if (copy == NULL) {
    snprintf(err, errsize, "out of memory");
    return -ENOMEM;
  }
  memcpy(copy, blob, len);
  if (jh_idstore_decode(copy, len, put_value, &d) != 0) {
    snprintf(err, errsize, "%s %.*s: malformed stored values", r->ti->et->id,
             (int)r->key_len, r->key);
    return -EIO;
  }
  return 0;
}

int jh_rv_wrap(jh_rv *v, const jh_entity_type *et, const jh_prov_resource *p,
               const jh_rv_res **out, char *err, size_t errsize) {
  etinfo *ti = info_of(v, et);
  size_t n = et->nproperties + 1;
  jh_rv_res *r;
  int rc;

  if (ti == NULL || (rc = prepare(v, ti, err, errsize)) != 0)
    return ti == NULL ? -EINVAL : rc;
  r = arena_zalloc(&v->arena, sizeof(*r));
  if (r != NULL) {
    r->val = arena_zalloc(&v->arena, n * sizeof(*r->val));
    r->len = arena_zalloc(&v->arena, n * sizeof(*r->len));
    r->fc = arena_zalloc(&v->arena, n * sizeof(*r->fc));
    r->key = jh_rv_strdup(v, p->key, p->key_len);
  }
  if (r == NULL || r->val == NULL || r->len == NULL || r->fc == NULL ||
      r->key == NULL) {
    snprintf(err, errsize, "out of memory");
    return -ENOMEM;
  }
  r->ti = ti;
  r->key_len = p->key_len;
  rc = decode_into(v, r, p->data, p->data_len, err, errsize);
  if (rc == 0)
    rc = decode_into(v, r, p->computed, p->computed_len, err, errsize);
  *out = rc == 0 ? r : NULL;
  return rc;
}

int jh_rv_load(jh_rv *v, const jh_entity_type *et, const char *key, size_t len,
               const jh_rv_res **out, char *err, size_t errsize) {
  etinfo *ti = info_of(v, et);
  jh_prov_resource p;
  int rc;

  *out = NULL;
  if (ti == NULL || (rc = prepare(v, ti, err, errsize)) != 0)
    return ti == NULL ? -EINVAL : rc;
  rc = jh_prov_get(v->store, ti->num, key, len, &p, err, errsize);
  if (rc <= 0)
    return rc;
  rc = jh_rv_wrap(v, et, &p, out, err, errsize);
  return rc == 0 ? 1 : rc;
}

char *jh_rv_strdup(jh_rv *v, const char *s, size_t len) {
  char *d = arena_alloc(&v->arena, len + 1);
  if (d != NULL) {
    memcpy(d, s, len);
    d[len] = '\0';
  }
  return d;
}

const char *jh_rv_key(const jh_rv_res *r, size_t *len) {
  *len = r->key_len;
  return r->key;
}

/* jh_entity_type_property(ti->et, name), remembered by the address of
 * name: expressions ask for the same few names on every resource. */
static const jh_property *property_of(etinfo *ti, const char *name) {
  prop_hit *h;
  const jh_property *p;
  if (name == NULL)
    return NULL;
  h = &ti->hits[((uintptr_t)name >> 3) & (PROP_HITS - 1)];
  if (h->name == name && strcmp(h->p->id, name) == 0)
    return h->p;
  p = jh_entity_type_property(ti->et, name);
  if (p != NULL) {
    h->name = name;
    h->p = p;
  }
  return p;
}

static ssize_t prop_index(const jh_rv_res *r, const char *prop) {
  const jh_property *p = property_of(r->ti, prop);
  return p != NULL ? p - r->ti->et->properties : -1;
}

/* The value of property i; the key stands for the primary key property
 * when the data does not hold it. */
static int value_at(const jh_rv_res *r, ssize_t i, const char **val,
                    size_t *len) {
  if (i < 0)
    return 0;
  if (r->val[i] != NULL) {
    *val = r->val[i];
    *len = r->len[i];
    return 1;
  }
  if (i == r->ti->key_prop) {
    *val = r->key;
    *len = r->key_len;
    return 1;
  }
  return 0;
}

int jh_rv_value(const jh_rv_res *r, const char *prop, const char **val,
                size_t *len) {
  return value_at(r, prop_index(r, prop), val, len);
}

int jh_rv_value_at(const jh_rv_res *r, size_t i, const char **val,
                   size_t *len) {
  return i < r->ti->et->nproperties && value_at(r, (ssize_t)i, val, len);
}

int jh_rv_each(const jh_rv_res *r,
               int (*fn)(void *ud, const jh_property *p, const char *val,
                         size_t len),
               void *ud) {
  const jh_entity_type *et = r->ti->et;
  for (size_t i = 0; i < et->nproperties; i++) {
    const char *val;
    size_t len;
    int rc;
    if (et->properties[i].type == JH_PROP_LINKS ||
        !value_at(r, (ssize_t)i, &val, &len))
      continue;
    rc = fn(ud, &et->properties[i], val, len);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* ---- links ---- */

static const jh_association_mapping *
association_of(const jh_model *m, const jh_entity_type *et, const char *prop) {
  for (size_t i = 0; i < m->nassociations; i++) {
    const jh_association_mapping *a = &m->associations[i];
    if (a->entity_type != NULL && a->property != NULL &&
        strcmp(a->entity_type, et->id) == 0 && strcmp(a->property, prop) == 0)
      return a;
  }
  return NULL;
}

/* Keys gathered from jh_prov_links, copied into the arena. */
typedef struct gather {
  jh_rv *v;
  const char **keys;
  size_t *lens;
  size_t n, cap;
  int failed;
} gather;

static int gather_key(void *ud, const char *k, size_t len) {
  gather *g = ud;
  size_t cap = g->cap;
  const char *copy = jh_rv_strdup(g->v, k, len);
  if (copy == NULL ||
      jh_array_reserve(&g->keys, &g->cap, g->n + 1, sizeof(*g->keys), 8) != 0 ||
      jh_array_reserve(&g->lens, &cap, g->n + 1, sizeof(*g->lens), 8) != 0) {
    g->failed = 1;
    return -ENOMEM;
  }
  g->keys[g->n] = copy;
  g->lens[g->n++] = len;
  return 0;
}

/* The owner's value that column1 of a holds: its key, or another unique
 * key. 0 when it has none. */
static int owner_value(const jh_rv_res *r, const jh_association_mapping *a,
                       const char **val, size_t *len) {
  if (a->key1 == NULL) {
    *val = r->key;
    *len = r->key_len;
    return 1;
  }
  return jh_rv_value(r, a->key1, val, len);
}

/* Move what g gathered into the arena. */
static int settle(jh_rv *v, gather *g, const char *const **keys,
                  const size_t **lens, size_t *n) {
  const char **k = arena_alloc(&v->arena, (g->n + 1) * sizeof(*k));
  size_t *l = arena_alloc(&v->arena, (g->n + 1) * sizeof(*l));
  if (k == NULL || l == NULL)
    return -ENOMEM;
  if (g->n > 0) {
    memcpy(k, g->keys, g->n * sizeof(*k));
    memcpy(l, g->lens, g->n * sizeof(*l));
  }
  *keys = k;
  *lens = l;
  *n = g->n;
  return 0;
}

static int links_keys(jh_rv *v, const jh_rv_res *r, const jh_property *p,
                      const char *const **keys, const size_t **lens, size_t *n,
                      char *err, size_t errsize) {
  const jh_association_mapping *a = association_of(v->model, r->ti->et, p->id);
  gather g = {v, NULL, NULL, 0, 0, 0};
  const char *owner;
  size_t olen;
  int rc = 0;

  if (a != NULL && owner_value(r, a, &owner, &olen))
    rc = jh_prov_links(v->store, a->id, owner, olen, gather_key, &g, err,
                       errsize);
  if (rc == 0 && settle(v, &g, keys, lens, n) != 0)
    rc = -ENOMEM;
  if (rc == -ENOMEM || g.failed)
    snprintf(err, errsize, "out of memory");
  free(g.keys);
  free(g.lens);
  return g.failed ? -ENOMEM : rc;
}

int jh_rv_link_keys(jh_rv *v, const jh_rv_res *r, const char *prop,
                    const char *const **keys, const size_t **lens, size_t *n,
                    char *err, size_t errsize) {
  const jh_property *p = property_of(r->ti, prop);
  ssize_t i = prop_index(r, prop);
  static const size_t none_len[1];
  static const char *const none[1];

  *keys = none;
  *lens = none_len;
  *n = 0;
  if (p == NULL) {
    snprintf(err, errsize, "%s has no property %s", r->ti->et->id, prop);
    return -EINVAL;
  }
  if (p->type == JH_PROP_LINKS)
    return links_keys(v, r, p, keys, lens, n, err, errsize);
  if (r->val[i] != NULL) {
    *keys = (const char *const *)&r->val[i];
    *lens = &r->len[i];
    *n = 1;
  }
  return 0;
}

/* Whether the targets of p (a LINKS property of et) are named by their
 * key, the only way jh_prov_get finds them. */
static int by_target_key(jh_rv *v, const jh_entity_type *et,
                         const jh_property *p, const jh_entity_type *target,
                         char *err, size_t errsize) {
  const jh_association_mapping *a;
  etinfo *tt = info_of(v, target);
  if (p->type != JH_PROP_LINKS)
    return 0;
  a = association_of(v->model, et, p->id);
  if (a == NULL || a->key2 == NULL || tt == NULL || tt->key_prop < 0 ||
      strcmp(a->key2, target->properties[tt->key_prop].id) == 0)
    return 0;
  snprintf(err, errsize,
           "%s.%s: association %s names its targets by %s, not by their "
           "key; such links cannot be followed",
           et->id, p->id, a->id, a->key2);
  return -EINVAL;
}

static int load_targets(jh_rv *v, const jh_rv_res *r, const jh_property *p,
                        follow_cache *fc, char *err, size_t errsize) {
  const jh_entity_type *target = jh_model_entity_type(v->model, p->target);
  const char *const *keys;
  const size_t *lens;
  size_t n;
  int rc;

  fc->n = 0;
  if (target == NULL)
    return 0;
  rc = prepare(v, info_of(v, target), err, errsize);
  if (rc == 0)
    rc = by_target_key(v, r->ti->et, p, target, err, errsize);
  if (rc == 0)
    rc = jh_rv_link_keys(v, r, p->id, &keys, &lens, &n, err, errsize);
  if (rc != 0)
    return rc;
  fc->targets = arena_alloc(&v->arena, (n + 1) * sizeof(*fc->targets));
  if (fc->targets == NULL) {
    snprintf(err, errsize, "out of memory");
    return -ENOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    const jh_rv_res *t;
    rc = jh_rv_load(v, target, keys[i], lens[i], &t, err, errsize);
    if (rc < 0)
      return rc;
    if (rc == 1)
      fc->targets[fc->n++] = t;
  }
  return 0;
}

static int rv_follow(void *ud, const void *res, const char *prop,
                     const void *const **targets, size_t *n, char *err,
                     size_t errsize) {
  jh_rv *v = ud;
  const jh_rv_res *r = res;
  const jh_property *p = property_of(r->ti, prop);
  follow_cache *fc;
  int rc;

  *n = 0;
  if (p == NULL || (p->type != JH_PROP_LINK && p->type != JH_PROP_LINKS)) {
    snprintf(err, errsize, "%s.%s is not a link", r->ti->et->id, prop);
    return -EINVAL;
  }
  fc = &r->fc[p - r->ti->et->properties];
  if (!fc->done) {
    rc = load_targets(v, r, p, fc, err, errsize);
    if (rc != 0)
      return rc;
    fc->done = 1;
  }
  *targets = fc->targets;
  *n = fc->n;
  return 0;
}

/* Whether the resource (et, key) is in the store, asked once a task. */
static int rv_exists(jh_rv *v, etinfo *ti, const char *key, size_t len,
                     char *err, size_t errsize) {
  int rc = jh_keyset_get(v->known, ti->num, key, len);
  if (rc >= 0)
    return rc;
  rc = jh_prov_exists(v->store, ti->num, key, len, err, errsize);
  if (rc >= 0 && jh_keyset_put(v->known, ti->num, key, len, rc) != 0) {
    snprintf(err, errsize, "out of memory");
    return -ENOMEM;
  }
  return rc;
}

/* A link's target key, when its target is in the store, without reading
 * the target. */
static int rv_link_key(void *ud, const void *res, const char *prop,
                       const char **val, size_t *len, char *err,
                       size_t errsize) {
  jh_rv *v = ud;
  const jh_rv_res *r = res;
  const jh_property *p = property_of(r->ti, prop);
  const jh_entity_type *target;
  etinfo *tt;
  int rc;

  if (p == NULL || p->type != JH_PROP_LINK) {
    snprintf(err, errsize, "%s.%s is not a link", r->ti->et->id, prop);
    return -EINVAL;
  }
  if (!value_at(r, p - r->ti->et->properties, val, len) || *len == 0)
    return 0;
  target = jh_model_entity_type(v->model, p->target);
  if (target == NULL || (tt = info_of(v, target)) == NULL)
    return 0;
  rc = prepare(v, tt, err, errsize);
  return rc != 0 ? rc : rv_exists(v, tt, *val, *len, err, errsize);
}

static jh_expr_prop_kind rv_kind(void *ud, const void *res, const char *prop) {
  const jh_rv_res *r = res;
  const jh_property *p = property_of(r->ti, prop);
  (void)ud;
  if (p == NULL)
    return JH_EXPR_PROP_UNKNOWN;
  if (p->type == JH_PROP_LINK)
    return JH_EXPR_PROP_LINK;
  return p->type == JH_PROP_LINKS ? JH_EXPR_PROP_LINKS : JH_EXPR_PROP_SCALAR;
}

static int rv_get(void *ud, const void *res, const char *prop, const char **v,
                  size_t *len, char *err, size_t errsize) {
  (void)ud;
  (void)err;
  (void)errsize;
  return jh_rv_value(res, prop, v, len);
}

static int rv_key(void *ud, const void *res, const char **v, size_t *len,
                  char *err, size_t errsize) {
  (void)ud;
  (void)err;
  (void)errsize;
  *v = jh_rv_key(res, len);
  return 0;
}

int jh_rv_new(const jh_model *m, jh_idstore *s, jh_rv **out) {
  jh_rv *v = calloc(1, sizeof(*v));
  *out = NULL;
  if (v == NULL)
    return -ENOMEM;
  v->types = calloc(m->nentity_types + 1, sizeof(*v->types));
  if (v->types == NULL) {
    free(v);
    return -ENOMEM;
  }
  for (size_t i = 0; i < m->nentity_types; i++)
    v->types[i].et = &m->entity_types[i];
  v->known = jh_keyset_new();
  if (v->known == NULL) {
    free(v->types);
    free(v);
    return -ENOMEM;
  }
  v->model = m;
  v->store = s;
  v->resolver.ud = v;
  v->resolver.kind = rv_kind;
  v->resolver.get = rv_get;
  v->resolver.follow = rv_follow;
  v->resolver.key = rv_key;
  v->resolver.link_key = rv_link_key;
  *out = v;
  return 0;
}

void jh_rv_free(jh_rv *v) {
  if (v == NULL)
    return;
  for (size_t i = 0; i < v->model->nentity_types; i++) {
    free(v->types[i].nums);
    free(v->types[i].sorted);
  }
  free(v->types);
  free(v->props);
  jh_keyset_free(v->known);
  arena_free(&v->arena);
  free(v);
}

const jh_expr_resolver *jh_rv_resolver(jh_rv *v) { return &v->resolver; }

void jh_rv_reset(jh_rv *v) { arena_reset(&v->arena); }
