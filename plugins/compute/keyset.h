/*
 * keyset.h — what the compute tasks learned about resources' existence:
 * a set of (entity type number, key) with a yes or no each, kept for one
 * task while the resources it reads do not change. Many resources name
 * the same few targets (every member of a team its manager), so asking
 * the store once per target instead of once per link is most of the
 * cost saved.
 */
#ifndef JH_COMPUTE_KEYSET_H
#define JH_COMPUTE_KEYSET_H

#include <stddef.h>
#include <stdint.h>

typedef struct jh_keyset jh_keyset;

/* A new, empty set: NULL when out of memory. */
jh_keyset *jh_keyset_new(void);
void jh_keyset_free(jh_keyset *s);

/* What the set holds for (et, key): 1 exists, 0 does not, -1 unknown. */
int jh_keyset_get(const jh_keyset *s, int64_t et, const char *key, size_t len);

/* Remember that (et, key) exists or not: 0, or -ENOMEM. When the set
 * holds JH_KEYSET_MAX entries it is emptied first (it is a cache). */
int jh_keyset_put(jh_keyset *s, int64_t et, const char *key, size_t len,
                  int exists);

#define JH_KEYSET_MAX (1u << 20)

#endif /* JH_COMPUTE_KEYSET_H */
