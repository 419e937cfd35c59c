/*
 * keyset.c — a set of (entity type number, key) → exists (keyset.h):
 * open addressing with linear probing, grown at half full.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyset.h"

typedef struct entry {
  char *key; /* NULL: an empty slot */
  size_t len;
  int64_t et;
  uint64_t hash;
  int exists;
} entry;

struct jh_keyset {
  entry *slots;
  size_t cap, n; /* cap a power of 2 */
};

#define FIRST_CAP 1024u

static uint64_t hash_of(int64_t et, const char *key, size_t len) {
  uint64_t h = 1469598103934665603ull ^ (uint64_t)et;
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)key[i]) * 1099511628211ull;
  return h;
}

jh_keyset *jh_keyset_new(void) {
  jh_keyset *s = calloc(1, sizeof(*s));
  if (s != NULL && (s->slots = calloc(FIRST_CAP, sizeof(*s->slots))) == NULL) {
    free(s);
    return NULL;
  }
  if (s != NULL)
    s->cap = FIRST_CAP;
  return s;
}

static void free_keys(jh_keyset *s) {
  for (size_t i = 0; i < s->cap; i++) {
    free(s->slots[i].key);
    s->slots[i].key = NULL;
  }
  s->n = 0;
}

void jh_keyset_free(jh_keyset *s) {
  if (s == NULL)
    return;
  free_keys(s);
  free(s->slots);
  free(s);
}

/* The slot of (et, key) or the empty one where it would go. */
static entry *slot_of(const jh_keyset *s, int64_t et, const char *key,
                      size_t len, uint64_t h) {
  size_t i = (size_t)h & (s->cap - 1);
  for (;;) {
    entry *e = &s->slots[i];
    if (e->key == NULL || (e->hash == h && e->et == et && e->len == len &&
                           memcmp(e->key, key, len) == 0))
      return e;
    i = (i + 1) & (s->cap - 1);
  }
}

int jh_keyset_get(const jh_keyset *s, int64_t et, const char *key, size_t len) {
  const entry *e = slot_of(s, et, key, len, hash_of(et, key, len));
  return e->key != NULL ? e->exists : -1;
}

static int grow(jh_keyset *s) {
  entry *old = s->slots;
  size_t old_cap = s->cap;
  entry *slots = calloc(old_cap * 2, sizeof(*slots));
  if (slots == NULL)
    return -ENOMEM;
  s->slots = slots;
  s->cap = old_cap * 2;
  for (size_t i = 0; i < old_cap; i++)
    if (old[i].key != NULL)
      *slot_of(s, old[i].et, old[i].key, old[i].len, old[i].hash) = old[i];
  free(old);
  return 0;
}

int jh_keyset_put(jh_keyset *s, int64_t et, const char *key, size_t len,
                  int exists) {
  uint64_t h = hash_of(et, key, len);
  entry *e;
  if (s->n >= JH_KEYSET_MAX)
    free_keys(s);
  if (2 * (s->n + 1) > s->cap && grow(s) != 0)
    return -ENOMEM;
  e = slot_of(s, et, key, len, h);
  if (e->key == NULL) {
    if ((e->key = malloc(len + 1)) == NULL)
      return -ENOMEM;
    memcpy(e->key, key, len);
    e->key[len] = '\0';
    e->len = len;
    e->et = et;
    e->hash = h;
    s->n++;
  }
  e->exists = exists != 0;
  return 0;
}
