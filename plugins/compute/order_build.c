/*
 * order_build.c — see order_build.h. The order's shape is
 * doc/provisioning.md's "Order files": members in key order,
 * AssignedResourceTypeId, ChangeType, Changes, Owner, Resource,
 * ResourceType.
 */
#include "config.h"

#include "order_build.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <unistr.h>

#include "array.h"
#include "order_file.h"

/* One value that changes, on its way into Changes. */
typedef struct change {
  size_t rank; /* its property's place in name order */
  size_t at;   /* its property's index in the target entity type */
  int kind;    /* CH_* */
  const char *v;
  size_t len;
} change;

enum { CH_VALUE, CH_CLEAR, CH_ADD, CH_REMOVE };

struct order_builder {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t changed; /* a batch queued, built or given, or the stop */
  order_batch batches[ORDER_BUILD_BATCHES];
  int out[ORDER_BUILD_BATCHES];      /* being filled, queued or built */
  size_t queue[ORDER_BUILD_BATCHES]; /* queued batches, oldest first */
  size_t head, count;
  int busy; /* the thread is building one */
  int stopping;
  int failure;        /* the first failure, a negative code */
  char message[1024]; /* its message */
  jh_file_writer *files;
  /* the builder's thread alone: */
  jh_order_writer *writer;
  change *changes; /* of the order being written */
  size_t changes_cap;
  char err[1024];
};

static int oom(order_builder *b) {
  snprintf(b->err, sizeof(b->err), "out of memory");
  return -ENOMEM;
}

/* ---- checks ---- */

/* Say that the value of prop is not UTF-8 (JSON text is). */
static int not_utf8(order_builder *b, const char *what, const char *key,
                    const char *prop) {
  snprintf(b->err, sizeof(b->err), "%s %s: the value of %s is not UTF-8", what,
           key, prop);
  return -EILSEQ;
}

static int utf8(const char *v, size_t len) {
  return u8_check((const uint8_t *)v, len) == NULL;
}

/* Each value of r UTF-8, in the entity type's order of properties. */
static int check_values(order_builder *b, const jh_entity_type *et,
                        const jh_rv_res *r) {
  for (size_t i = 0; r != NULL && i < et->nproperties; i++) {
    const char *val;
    size_t len;
    if (et->properties[i].type != JH_PROP_LINKS &&
        jh_rv_value_at(r, i, &val, &len) && !utf8(val, len))
      return not_utf8(b, et->id, jh_rv_key(r, &len), et->properties[i].id);
  }
  return 0;
}

/* ---- the text ---- */

/* A resource's values, members in name order from props; the owner's Id
 * and Identifier (its key) put in their places when key is given. The
 * values were checked to be UTF-8 (check_values). */
static void put_values(order_builder *b, const jh_entity_type *et,
                       const size_t *props, size_t n, const jh_rv_res *r,
                       const char *key) {
  static const char *const names[2] = {"Id", "Identifier"};
  size_t next_name = key != NULL ? 0 : 2;
  for (size_t k = 0; k <= n; k++) {
    const char *id = k < n ? et->properties[props[k]].id : NULL, *val;
    size_t len;
    while (next_name < 2 && (id == NULL || strcmp(names[next_name], id) < 0))
      jh_order_writer_string(b->writer, names[next_name++], key, strlen(key));
    if (id != NULL && r != NULL && jh_rv_value_at(r, props[k], &val, &len))
      jh_order_writer_string(b->writer, id, val, len);
  }
}

/* Member name of a resource (r, key): the owner is named by its key even
 * when the store no longer has it; no member without key, or for
 * another resource missing. */
static void put_resource(order_builder *b, const char *member,
                         const jh_entity_type *et, const size_t *props,
                         size_t n, const char *key, const jh_rv_res *r,
                         int owner) {
  if (key == NULL || (r == NULL && !owner))
    return;
  jh_order_writer_object(b->writer, member);
  put_values(b, et, props, n, r, owner ? key : NULL);
  jh_order_writer_close(b->writer);
}

typedef struct changes_arg {
  order_builder *b;
  const order_rt *o;
  size_t n;
  const char *bad; /* a property whose value is not UTF-8 */
} changes_arg;

/* The index among tgt's properties of the store's property num. */
static ssize_t prop_at(const order_rt *o, uint32_t num) {
  for (size_t i = 0; i < o->tgt->nproperties; i++)
    if (o->nums[i] == num)
      return (ssize_t)i;
  return -1;
}

/* A value that changes: a scalar's new value (none: cleared), a
 * navigation's key to add or remove. */
static int add_change(void *ud, const jh_prov_val *v) {
  changes_arg *a = ud;
  ssize_t at;
  change c;
  if (v->state == JH_PROV_VERIFIED)
    return 0;
  if ((at = prop_at(a->o, v->prop)) < 0)
    return 0; /* a property the model no longer has */
  if (v->navigation && v->has_policy && v->has_observed)
    return 0; /* held already */
  c.rank = a->o->rank[at];
  c.at = (size_t)at;
  c.kind = v->navigation ? (v->has_policy ? CH_ADD : CH_REMOVE)
                         : (v->has_policy ? CH_VALUE : CH_CLEAR);
  c.v = c.kind == CH_REMOVE ? v->observed : v->policy;
  c.len = c.kind == CH_REMOVE ? v->observed_len : v->policy_len;
  if (c.kind != CH_CLEAR && !utf8(c.v, c.len)) {
    a->bad = a->o->tgt->properties[at].id;
    return -EILSEQ;
  }
  if (jh_array_reserve(&a->b->changes, &a->b->changes_cap, a->n + 1,
                       sizeof(*a->b->changes), 32) != 0)
    return -ENOMEM;
  a->b->changes[a->n++] = c;
  return 0;
}

/* Changes in name order, a navigation's additions before its removals,
 * each list in the order the store gives (a stable insertion sort: the
 * lists are short). */
static void sort_changes(change *ch, size_t n) {
  for (size_t i = 1; i < n; i++) {
    change c = ch[i];
    size_t k = i;
    while (k > 0 && (ch[k - 1].rank > c.rank ||
                     (ch[k - 1].rank == c.rank && ch[k - 1].kind > c.kind))) {
      ch[k] = ch[k - 1];
      k--;
    }
    ch[k] = c;
  }
}

static void put_changes(order_builder *b, const order_rt *o, const change *ch,
                        size_t n) {
  jh_order_writer *w = b->writer;
  jh_order_writer_object(w, "Changes");
  for (size_t i = 0; i < n;) {
    const jh_property *p = &o->tgt->properties[ch[i].at];
    size_t rank = ch[i].rank;
    if (ch[i].kind == CH_VALUE || ch[i].kind == CH_CLEAR) {
      jh_order_writer_string(w, p->id, ch[i].kind == CH_VALUE ? ch[i].v : NULL,
                             ch[i].len);
      i++;
      continue;
    }
    jh_order_writer_object(w, p->id);
    for (int kind = CH_ADD; kind <= CH_REMOVE; kind++) {
      if (i >= n || ch[i].rank != rank || ch[i].kind != kind)
        continue;
      jh_order_writer_array(w, kind == CH_ADD ? "Add" : "Remove");
      for (; i < n && ch[i].rank == rank && ch[i].kind == kind; i++)
        jh_order_writer_string(w, NULL, ch[i].v, ch[i].len);
      jh_order_writer_close(w);
    }
    jh_order_writer_close(w);
  }
  jh_order_writer_close(w);
}

/* The Changes of s, read from its stored values. */
static int changes_of(order_builder *b, const order_rt *o,
                      const order_staged *s, size_t *n) {
  changes_arg ca = {b, o, 0, NULL};
  char id[32];
  int rc = jh_prov_vals_decode(s->vals, s->vals_len, add_change, &ca);
  *n = ca.n;
  if (rc == -EILSEQ && ca.bad != NULL) {
    snprintf(id, sizeof(id), "%" PRId64, s->id);
    return not_utf8(b, "assignment", id, ca.bad);
  }
  if (rc == -EILSEQ)
    snprintf(b->err, sizeof(b->err),
             "assignment %" PRId64 ": malformed stored values", s->id);
  else if (rc == -ENOMEM)
    oom(b);
  if (rc == 0)
    sort_changes(b->changes, ca.n);
  return rc;
}

/* The order of s. Everything is checked before the first byte is
 * written. */
static int put_order(order_builder *b, const order_rt *o,
                     const order_staged *s) {
  jh_order_writer *w = b->writer;
  const char *ct = jh_change_type_name(s->change_type);
  char id[32];
  size_t nch = 0;
  int rc = 0;

  if (s->owner_key != NULL && !utf8(s->owner_key, strlen(s->owner_key)))
    return not_utf8(b, o->src->id, s->owner_key, "its key");
  if (check_values(b, o->src, s->owner) != 0 ||
      check_values(b, o->tgt, s->target) != 0)
    return -EILSEQ;
  if (s->change_type != JH_CHANGE_DELETED)
    rc = changes_of(b, o, s, &nch);
  if (rc < 0)
    return rc;
  snprintf(id, sizeof(id), "%" PRId64, s->id);
  jh_order_writer_begin(w);
  jh_order_writer_string(w, "AssignedResourceTypeId", id, strlen(id));
  jh_order_writer_string(w, "ChangeType", ct, strlen(ct));
  if (s->change_type != JH_CHANGE_DELETED)
    put_changes(b, o, b->changes, nch);
  put_resource(b, "Owner", o->src, o->owner_props, o->nowner_props,
               s->owner_key, s->owner, 1);
  put_resource(b, "Resource", o->tgt, o->tgt_props, o->ntgt_props,
               s->target_key, s->target, 0);
  jh_order_writer_object(w, "ResourceType");
  jh_order_writer_string(w, "Identifier", o->rt->id, strlen(o->rt->id));
  jh_order_writer_object(w, "SourceEntityType");
  jh_order_writer_string(w, "Identifier", o->src->id, strlen(o->src->id));
  jh_order_writer_close(w);
  jh_order_writer_object(w, "TargetEntityType");
  jh_order_writer_string(w, "Identifier", o->tgt->id, strlen(o->tgt->id));
  jh_order_writer_close(w);
  jh_order_writer_close(w);
  return jh_order_writer_end(w) == 0 ? 0 : oom(b);
}

/* The batch's orders into the file being built, and the file to the
 * file writer when the batch ends it. */
static int build(order_builder *b, const order_batch *batch) {
  char *buf = NULL;
  size_t len = 0;
  int rc = 0;
  for (size_t i = 0; i < batch->n && rc == 0; i++)
    rc = put_order(b, batch->o, &batch->orders[i]);
  if (rc != 0 || !batch->ends_file)
    return rc;
  rc = jh_order_writer_take(b->writer, batch->path, &buf, &len, b->err,
                            sizeof(b->err));
  if (rc == 0 && (rc = jh_file_writer_put(b->files, batch->path, buf, len)))
    (void)jh_file_writer_drain(b->files, b->err, sizeof(b->err));
  return rc;
}

static void *run(void *arg) {
  order_builder *b = arg;
  pthread_mutex_lock(&b->lock);
  for (;;) {
    order_batch *batch;
    int rc = 0, failed;
    size_t i;
    while (b->count == 0 && !b->stopping)
      pthread_cond_wait(&b->changed, &b->lock);
    if (b->count == 0)
      break;
    i = b->queue[b->head];
    b->head = (b->head + 1) % ORDER_BUILD_BATCHES;
    b->count--;
    b->busy = 1;
    failed = b->failure != 0;
    batch = &b->batches[i];
    pthread_mutex_unlock(&b->lock);
    if (!failed)
      rc = build(b, batch);
    jh_rv_reset(batch->rv);
    batch->n = 0;
    batch->ends_file = 0;
    batch->o = NULL;
    pthread_mutex_lock(&b->lock);
    if (rc != 0 && b->failure == 0) {
      b->failure = rc;
      snprintf(b->message, sizeof(b->message), "%s", b->err);
    }
    b->out[i] = 0;
    b->busy = 0;
    pthread_cond_broadcast(&b->changed);
  }
  pthread_mutex_unlock(&b->lock);
  return NULL;
}

/* ---- the task's side ---- */

int order_builder_start(const jh_model *m, jh_idstore *s, jh_file_writer *files,
                        order_builder **out) {
  order_builder *b = calloc(1, sizeof(*b));
  int rc = b == NULL ? -ENOMEM : 0;
  *out = NULL;
  if (rc != 0)
    return rc;
  b->files = files;
  for (size_t i = 0; i < ORDER_BUILD_BATCHES && rc == 0; i++)
    rc = jh_rv_new(m, s, &b->batches[i].rv);
  if (rc == 0)
    rc = jh_order_writer_new(&b->writer);
  if (rc == 0 && pthread_mutex_init(&b->lock, NULL) != 0)
    rc = -ENOMEM;
  else if (rc == 0 && pthread_cond_init(&b->changed, NULL) != 0) {
    pthread_mutex_destroy(&b->lock);
    rc = -ENOMEM;
  } else if (rc == 0 && pthread_create(&b->thread, NULL, run, b) != 0) {
    pthread_cond_destroy(&b->changed);
    pthread_mutex_destroy(&b->lock);
    rc = -EAGAIN;
  }
  if (rc != 0) {
    for (size_t i = 0; i < ORDER_BUILD_BATCHES; i++)
      jh_rv_free(b->batches[i].rv);
    jh_order_writer_free(b->writer);
    free(b);
    return rc == -EAGAIN ? rc : -ENOMEM;
  }
  *out = b;
  return 0;
}

order_batch *order_builder_batch(order_builder *b) {
  order_batch *batch = NULL;
  pthread_mutex_lock(&b->lock);
  for (;;) {
    if (b->failure != 0)
      break;
    for (size_t i = 0; i < ORDER_BUILD_BATCHES && batch == NULL; i++)
      if (!b->out[i]) {
        b->out[i] = 1;
        batch = &b->batches[i];
      }
    if (batch != NULL)
      break;
    pthread_cond_wait(&b->changed, &b->lock);
  }
  pthread_mutex_unlock(&b->lock);
  return batch;
}

int order_builder_stage(order_batch *batch, const jh_prov_assignment *a,
                        const jh_prov_resource *owner, char *err,
                        size_t errsize) {
  const order_rt *o = batch->o;
  order_staged *s;
  int rc = 0;

  if (jh_array_reserve(&batch->orders, &batch->cap, batch->n + 1,
                       sizeof(*batch->orders), 64) != 0) {
    snprintf(err, errsize, "out of memory");
    return -ENOMEM;
  }
  s = &batch->orders[batch->n];
  memset(s, 0, sizeof(*s));
  s->id = a->id;
  s->change_type = a->change_type;
  s->vals_len = a->vals_len;
  if ((a->owner_key != NULL &&
       (s->owner_key = jh_rv_strdup(batch->rv, a->owner_key,
                                    strlen(a->owner_key))) == NULL) ||
      (a->target_key != NULL &&
       (s->target_key = jh_rv_strdup(batch->rv, a->target_key,
                                     strlen(a->target_key))) == NULL) ||
      (s->vals = a->vals_len > 0 ? jh_rv_strdup(batch->rv, a->vals, a->vals_len)
                                 : "") == NULL) {
    snprintf(err, errsize, "out of memory");
    return -ENOMEM;
  }
  if (owner != NULL)
    rc = jh_rv_wrap(batch->rv, o->src, owner, &s->owner, err, errsize);
  if (rc == 0 && s->target_key != NULL)
    rc = jh_rv_load(batch->rv, o->tgt, s->target_key, strlen(s->target_key),
                    &s->target, err, errsize);
  if (rc < 0)
    return rc;
  batch->n++;
  return 0;
}

int order_builder_put(order_builder *b, order_batch *batch) {
  int rc;
  pthread_mutex_lock(&b->lock);
  b->queue[(b->head + b->count) % ORDER_BUILD_BATCHES] = (size_t)(batch -
                                                                  b->batches);
  b->count++;
  rc = b->failure;
  pthread_cond_broadcast(&b->changed);
  pthread_mutex_unlock(&b->lock);
  return rc;
}

int order_builder_drain(order_builder *b, char *err, size_t errsize) {
  int rc;
  pthread_mutex_lock(&b->lock);
  while (b->count > 0 || b->busy)
    pthread_cond_wait(&b->changed, &b->lock);
  rc = b->failure;
  if (rc != 0)
    snprintf(err, errsize, "%s", b->message);
  pthread_mutex_unlock(&b->lock);
  return rc;
}

void order_builder_stop(order_builder *b) {
  if (b == NULL)
    return;
  pthread_mutex_lock(&b->lock);
  b->stopping = 1;
  pthread_cond_broadcast(&b->changed);
  pthread_mutex_unlock(&b->lock);
  pthread_join(b->thread, NULL);
  pthread_cond_destroy(&b->changed);
  pthread_mutex_destroy(&b->lock);
  for (size_t i = 0; i < ORDER_BUILD_BATCHES; i++) {
    jh_rv_free(b->batches[i].rv);
    free(b->batches[i].orders);
  }
  jh_order_writer_free(b->writer);
  free(b->changes);
  free(b);
}
