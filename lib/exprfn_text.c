/*
 * exprfn_text.c — the text functions of expressions (exprfn_impl.h) over
 * textfn.h and dmetaphone.h; doc/expressions.md, "Text functions", says
 * what each does. An empty result is no value, as an empty input is.
 */
#include "config.h"

#include "exprfn_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmetaphone.h"
#include "textfn.h"

/* The outcome of a textfn call named name: 1 and *out, 0 (no value) when
 * the result is empty, or the error with its message. */
static int outcome(const char *name, int rc, char **out, char *err,
                   size_t errsize) {
  if (rc == -EILSEQ)
    snprintf(err, errsize, "%s: the value is not valid UTF-8 text", name);
  else if (rc == -ENOMEM)
    snprintf(err, errsize, "%s: out of memory", name);
  else if (rc < 0)
    snprintf(err, errsize, "%s: failed (error %d)", name, rc);
  if (rc < 0) {
    free(*out);
    *out = NULL;
    return rc;
  }
  if (*out == NULL || (*out)[0] == '\0') {
    free(*out);
    *out = NULL;
    return 0;
  }
  return 1;
}

/* The optional language of ToUpper, ToLower and ToTitle: state is a copy
 * of it, or NULL (language-neutral). */
static int bind_lang(const char *const *args, size_t nargs, void **state,
                     char *err, size_t errsize) {
  *state = NULL;
  if (nargs == 0)
    return 0;
  if (!jh_text_lang_ok(args[0])) {
    snprintf(
        err, errsize,
        "language '%s' is not an ISO 639 code of 2 or 3 lowercase letters (such as tr)",
        args[0]);
    return -EINVAL;
  }
  *state = strdup(args[0]);
  if (*state == NULL) {
    snprintf(err, errsize, "out of memory");
    return -ENOMEM;
  }
  return 0;
}

static int apply_upper(const void *state, const char *in, size_t n, char **out,
                       char *err, size_t errsize) {
  int rc = jh_text_upper(in, n, state, out);
  return outcome("ToUpper", rc, out, err, errsize);
}

static int apply_lower(const void *state, const char *in, size_t n, char **out,
                       char *err, size_t errsize) {
  int rc = jh_text_lower(in, n, state, out);
  return outcome("ToLower", rc, out, err, errsize);
}

static int apply_title(const void *state, const char *in, size_t n, char **out,
                       char *err, size_t errsize) {
  int rc = jh_text_title(in, n, state, out);
  return outcome("ToTitle", rc, out, err, errsize);
}

static int apply_remove_diacritics(const void *state, const char *in, size_t n,
                                   char **out, char *err, size_t errsize) {
  (void)state;
  int rc = jh_text_remove_diacritics(in, n, out);
  return outcome("RemoveDiacritics", rc, out, err, errsize);
}

static int apply_simplify(const void *state, const char *in, size_t n,
                          char **out, char *err, size_t errsize) {
  (void)state;
  int rc = jh_text_simplify(in, n, out);
  return outcome("Simplify", rc, out, err, errsize);
}

static int apply_first_name(const void *state, const char *in, size_t n,
                            char **out, char *err, size_t errsize) {
  (void)state;
  int rc = jh_text_first_name(in, n, out);
  return outcome("ToFirstName", rc, out, err, errsize);
}

static int apply_soundex(const void *state, const char *in, size_t n,
                         char **out, char *err, size_t errsize) {
  char code[JH_SOUNDEX_SIZE];
  (void)state;
  *out = NULL;
  int rc = jh_text_soundex(in, n, code);
  if (rc == 0) {
    *out = strdup(code);
    if (*out == NULL)
      rc = -ENOMEM;
  }
  return outcome("ToSoundex", rc, out, err, errsize);
}

/* ToDoubleMetaphone's one argument: which code it gives. state points
 * at one of these (static: nothing to free). */
static const int dm_primary = 0, dm_alternate = 1;

static int bind_metaphone(const char *const *args, size_t nargs, void **state,
                          char *err, size_t errsize) {
  *state = (void *)&dm_primary;
  if (nargs == 0 || strcmp(args[0], "primary") == 0)
    return 0;
  if (strcmp(args[0], "alternate") == 0) {
    *state = (void *)&dm_alternate;
    return 0;
  }
  snprintf(err, errsize,
           "ToDoubleMetaphone: '%s' is neither primary nor alternate", args[0]);
  return -EINVAL;
}

static int apply_metaphone(const void *state, const char *in, size_t n,
                           char **out, char *err, size_t errsize) {
  char primary[JH_DMETAPHONE_SIZE], alternate[JH_DMETAPHONE_SIZE];
  *out = NULL;
  int rc = jh_double_metaphone(in, n, primary, alternate);
  if (rc == 0) {
    *out = strdup(state == &dm_alternate ? alternate : primary);
    if (*out == NULL)
      rc = -ENOMEM;
  }
  return outcome("ToDoubleMetaphone", rc, out, err, errsize);
}

static int apply_formatted_dn(const void *state, const char *in, size_t n,
                              char **out, char *err, size_t errsize) {
  (void)state;
  int rc = jh_text_formatted_dn(in, n, out);
  return outcome("ToFormatedDN", rc, out, err, errsize);
}

#define LANG_FN(fname, fapply)                                                 \
  {                                                                            \
    .name = fname, .min_args = 0, .max_args = 1, .args_doc = "language",       \
    .bind = bind_lang, .free_state = free, .apply = fapply                     \
  }
#define PLAIN_FN(fname, fapply)                                                \
  {                                                                            \
    .name = fname, .min_args = 0, .max_args = 0, .args_doc = "",               \
    .apply = fapply                                                            \
  }

const struct jh_exprfn jh_exprfn_text[] = {
    LANG_FN("ToUpper", apply_upper),
    LANG_FN("ToLower", apply_lower),
    LANG_FN("ToTitle", apply_title),
    PLAIN_FN("RemoveDiacritics", apply_remove_diacritics),
    PLAIN_FN("Simplify", apply_simplify),
    PLAIN_FN("ToFirstName", apply_first_name),
    PLAIN_FN("ToSoundex", apply_soundex),
    {.name = "ToDoubleMetaphone",
     .min_args = 0,
     .max_args = 1,
     .args_doc = "primary|alternate",
     .bind = bind_metaphone,
     .apply = apply_metaphone},
    PLAIN_FN("ToFormatedDN", apply_formatted_dn),
    {.name = NULL}};
