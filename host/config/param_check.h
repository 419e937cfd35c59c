/*
 * param_check.h — the checks of a parameter's (or a setting's) value that
 * go beyond its type (SDK 1.2, jobhost/param.h): an INT's range, the
 * pattern of a STRING, PATH or LIST, and the choices of a LIST's items.
 * The pipeline and the model loaders call it once a value has its type.
 */
#ifndef JH_PARAM_CHECK_H
#define JH_PARAM_CHECK_H

#include <stddef.h>

#include <jobhost/jobhost.h>

/*
 * Check value `text` (a scalar; NULL for a list) or the n `items` of a
 * list against the constraints of sp. Returns 0 when it meets them, else
 * -1 with a message for people in why (size bytes) that names the
 * parameter and what was expected, e.g. "'repeat' must be between 1 and
 * 100, got 200". *item receives the index of the list item at fault (or
 * (size_t)-1), so that the caller can point at it.
 */
int jh_param_check(const jobhost_param *sp, const char *text,
                   char *const *items, size_t n, size_t *item, char *why,
                   size_t size);

/* Whether the whole of text matches the extended regular expression
 * pattern: 1 yes, 0 no, -1 when the pattern does not compile (the loader
 * refuses such a plugin, so this is not expected here). */
int jh_param_pattern_match(const char *pattern, const char *text);

#endif /* JH_PARAM_CHECK_H */
