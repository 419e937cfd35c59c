/*
 * array.h — one rule for growing an array: make room, doubling.
 *
 * Header only, so that a plugin that links nothing of lib/ can use it.
 */
#ifndef JH_ARRAY_H
#define JH_ARRAY_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Make room for `need` items of `size` bytes in the array *arrp (a
 * pointer to the array's pointer, of any item type) whose capacity is
 * *cap items. When *cap is short, the capacity doubles (from `first`
 * when it was 0) until it holds `need`, and the array is reallocated.
 * Returns 0, or -ENOMEM with the array and *cap as they were.
 */
static inline int jh_array_reserve(void *arrp, size_t *cap, size_t need,
                                   size_t size, size_t first) {
  size_t n = *cap != 0 ? *cap : first;
  void *old, *grown;

  if (need <= *cap)
    return 0;
  while (n < need) {
    if (n > SIZE_MAX / 2)
      return -ENOMEM;
    n *= 2;
  }
  if (size != 0 && n > SIZE_MAX / size)
    return -ENOMEM;
  memcpy(&old, arrp, sizeof(old));
  grown = realloc(old, n * size);
  if (grown == NULL)
    return -ENOMEM;
  memcpy(arrp, &grown, sizeof(grown));
  *cap = n;
  return 0;
}

#endif
