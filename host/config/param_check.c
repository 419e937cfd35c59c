/*
 * param_check.c — range, pattern and list choices of a value (SDK 1.2).
 */
#include "config.h"

#include "param_check.h"

#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int jh_param_pattern_match(const char *pattern, const char *text) {
  regex_t re;
  regmatch_t m;
  int rc;

  if (regcomp(&re, pattern, REG_EXTENDED) != 0)
    return -1;
  rc = regexec(&re, text, 1, &m, 0);
  regfree(&re);
  /* the match must cover the whole value */
  return rc == 0 && m.rm_so == 0 && (size_t)m.rm_eo == strlen(text);
}

static int one_of(const char *const *choices, const char *v) {
  for (size_t i = 0; choices[i] != NULL; i++)
    if (strcmp(choices[i], v) == 0)
      return 1;
  return 0;
}

static void list_choices(const char *const *choices, char *buf, size_t size) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; choices[i] != NULL && used < size; i++) {
    int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
                     choices[i]);
    if (n < 0)
      break;
    used += (size_t)n;
  }
}

int jh_param_check(const jobhost_param *sp, const char *text,
                   char *const *items, size_t n, size_t *item, char *why,
                   size_t size) {
  char all[256];

  *item = (size_t)-1;
  if (sp->type == JOBHOST_PARAM_INT && sp->range != NULL && text != NULL) {
    char *end = NULL;
    long long v;
    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno == 0 && end != text && *end == '\0' &&
        (v < sp->range->min || v > sp->range->max)) {
      snprintf(why, size,
               "'%s' must be between %" PRId64 " and %" PRId64 ", got %lld",
               sp->name, sp->range->min, sp->range->max, v);
      return -1;
    }
  }
  if (sp->pattern != NULL && text != NULL &&
      (sp->type == JOBHOST_PARAM_STRING || sp->type == JOBHOST_PARAM_PATH) &&
      jh_param_pattern_match(sp->pattern, text) != 1) {
    snprintf(why, size, "'%s' must match the pattern %s, got '%s'", sp->name,
             sp->pattern, text);
    return -1;
  }
  if (sp->type != JOBHOST_PARAM_LIST)
    return 0;
  for (size_t i = 0; i < n; i++) {
    if (sp->pattern != NULL &&
        jh_param_pattern_match(sp->pattern, items[i]) != 1) {
      *item = i;
      snprintf(why, size,
               "item %zu of '%s' must match the pattern %s, got '%s'", i + 1,
               sp->name, sp->pattern, items[i]);
      return -1;
    }
    if (sp->choices != NULL && !one_of(sp->choices, items[i])) {
      *item = i;
      list_choices(sp->choices, all, sizeof(all));
      snprintf(why, size, "item %zu of '%s' must be one of %s, got '%s'", i + 1,
               sp->name, all, items[i]);
      return -1;
    }
  }
  return 0;
}
