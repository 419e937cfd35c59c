/*
 * strindex.c — see strindex.h.
 */
#include "config.h"

#include "strindex.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int names_cmp(const char *a, const char *b, int nocase) {
  return nocase ? strcasecmp(a, b) : strcmp(a, b);
}

static int entry_cmp_case(const void *pa, const void *pb) {
  const jh_strindex_entry *a = pa, *b = pb;
  int c = strcmp(a->name, b->name);
  if (c != 0)
    return c;
  return (a->at > b->at) - (a->at < b->at);
}

static int entry_cmp_nocase(const void *pa, const void *pb) {
  const jh_strindex_entry *a = pa, *b = pb;
  int c = strcasecmp(a->name, b->name);
  if (c != 0)
    return c;
  return (a->at > b->at) - (a->at < b->at);
}

int jh_strindex_build(jh_strindex *ix, const void *names, size_t stride,
                      size_t n, int nocase) {
  const char *base = names;
  size_t k = 0;

  ix->n = 0;
  ix->nocase = nocase;
  ix->e = malloc((n == 0 ? 1 : n) * sizeof(*ix->e));
  if (ix->e == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < n; i++) {
    const char *name;
    memcpy(&name, base + i * stride, sizeof(name));
    if (name == NULL)
      continue;
    ix->e[k].name = name;
    ix->e[k].at = i;
    k++;
  }
  ix->n = k;
  qsort(ix->e, k, sizeof(*ix->e), nocase ? entry_cmp_nocase : entry_cmp_case);
  return 0;
}

size_t jh_strindex_find(const jh_strindex *ix, const char *name) {
  size_t lo = 0, hi = ix->n;
  if (name == NULL)
    return (size_t)-1;
  /* the first entry not below name: the smallest position among equals */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (names_cmp(ix->e[mid].name, name, ix->nocase) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < ix->n && names_cmp(ix->e[lo].name, name, ix->nocase) == 0)
    return ix->e[lo].at;
  return (size_t)-1;
}

void jh_strindex_firsts(const jh_strindex *ix, size_t *first, size_t n) {
  size_t group = 0;
  for (size_t i = 0; i < n; i++)
    first[i] = (size_t)-1;
  for (size_t k = 0; k < ix->n; k++) {
    if (k == 0 || names_cmp(ix->e[k].name, ix->e[group].name, ix->nocase) != 0)
      group = k;
    if (ix->e[k].at < n)
      first[ix->e[k].at] = ix->e[group].at;
  }
}

void jh_strindex_free(jh_strindex *ix) {
  free(ix->e);
  ix->e = NULL;
  ix->n = 0;
}
