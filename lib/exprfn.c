/*
 * exprfn.c — lookup, binding and application of the built-in functions
 * of expressions (exprfn.h); the functions themselves are in the tables
 * of exprfn_text.c and exprfn_dates.c.
 */
#include "config.h"

#include "exprfn.h"
#include "exprfn_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jh_exprfn_call {
  const jh_exprfn *fn;
  void *state;
};

static const jh_exprfn *const tables[] = {jh_exprfn_text, jh_exprfn_dates};
#define NTABLES (sizeof(tables) / sizeof(tables[0]))

const jh_exprfn *jh_exprfn_find(const char *name) {
  if (name == NULL)
    return NULL;
  for (size_t t = 0; t < NTABLES; t++)
    for (const jh_exprfn *f = tables[t]; f->name != NULL; f++)
      if (strcmp(f->name, name) == 0)
        return f;
  return NULL;
}

const char *jh_exprfn_name(const jh_exprfn *f) { return f->name; }

/* Built once, on first use; the tables are constant. */
static const char *names[64];

const char *const *jh_exprfn_names(void) {
  if (names[0] == NULL) {
    size_t n = 0;
    for (size_t t = 0; t < NTABLES; t++)
      for (const jh_exprfn *f = tables[t]; f->name != NULL; f++)
        if (n + 1 < sizeof(names) / sizeof(names[0]))
          names[n++] = f->name;
    names[n] = NULL;
  }
  return names;
}

int jh_exprfn_bind(const jh_exprfn *f, const char *const *args, size_t nargs,
                   jh_exprfn_call **out, char *err, size_t errsize) {
  if (nargs < f->min_args || nargs > f->max_args) {
    if (f->max_args == 0)
      snprintf(err, errsize, "%s takes no argument", f->name);
    else
      snprintf(err, errsize, "%s needs %s%zu argument%s: %s:%s", f->name,
               f->min_args == f->max_args ? "" : "up to ", f->max_args,
               f->max_args == 1 ? "" : "s", f->name, f->args_doc);
    return -EINVAL;
  }
  jh_exprfn_call *c = calloc(1, sizeof(*c));
  if (c == NULL) {
    snprintf(err, errsize, "out of memory");
    return -ENOMEM;
  }
  c->fn = f;
  if (f->bind != NULL) {
    int rc = f->bind(args, nargs, &c->state, err, errsize);
    if (rc < 0) {
      free(c);
      return rc;
    }
  }
  *out = c;
  return 0;
}

void jh_exprfn_call_free(jh_exprfn_call *c) {
  if (c == NULL)
    return;
  if (c->fn->free_state != NULL && c->state != NULL)
    c->fn->free_state(c->state);
  free(c);
}

int jh_exprfn_apply(const jh_exprfn_call *c, const char *in, size_t n,
                    char **out, char *err, size_t errsize) {
  *out = NULL;
  if (in == NULL || n == 0)
    return 0;
  return c->fn->apply(c->state, in, n, out, err, errsize);
}
