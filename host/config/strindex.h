/*
 * strindex.h — a sorted index of names, to find a name among many in
 * O(log n) and every repeated name in O(n log n).
 *
 * Loaders check that identifiers are unique and resolve references to
 * them (task ids and depends_on, model identifiers, mapping keys); with
 * a linear scan per check, a pipeline of 100,000 tasks takes minutes.
 * An index borrows its names: they must outlive it. A NULL name (an
 * identifier that was refused while loading) is not indexed, so lookups
 * never see it.
 */
#ifndef JH_STRINDEX_H
#define JH_STRINDEX_H

#include <stddef.h>

typedef struct jh_strindex_entry {
  const char *name; /* borrowed */
  size_t at;        /* position of the item in the caller's list */
} jh_strindex_entry;

typedef struct jh_strindex {
  jh_strindex_entry *e; /* sorted by name, then by at */
  size_t n;
  int nocase; /* names compared without ASCII case */
} jh_strindex;

/* Index the n names (NULL ones skipped), the i-th at position i. The
 * names may be a field of an array of structs: `stride` is the distance
 * in bytes between two consecutive `const char *` to read (sizeof(char *)
 * for a plain array; JH_STRINDEX_FIELD gives both). Returns 0, or -ENOMEM
 * with *ix empty. */
int jh_strindex_build(jh_strindex *ix, const void *names, size_t stride,
                      size_t n, int nocase);

/* The smallest position of `name`, or (size_t)-1 when it is not there. */
size_t jh_strindex_find(const jh_strindex *ix, const char *name);

/* For each indexed position, the smallest position holding the same name
 * (itself for the first): first[at] for every at < n. Positions whose name
 * is NULL get (size_t)-1. `first` has room for the n of the build. */
void jh_strindex_firsts(const jh_strindex *ix, size_t *first, size_t n);

void jh_strindex_free(jh_strindex *ix);

/* The first two arguments after ix to index the field `field` of the
 * items of array `arr`. */
#define JH_STRINDEX_FIELD(arr, field)                                          \
  ((const char *)&(arr)[0].field), sizeof((arr)[0])

#endif /* JH_STRINDEX_H */
