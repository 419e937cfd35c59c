/*
 * exprfn_impl.h — how a built-in function of expressions is defined:
 * shared by lib/exprfn.c (lookup, binding, application) and the tables
 * of lib/exprfn_text.c (text functions) and lib/exprfn_dates.c (date
 * functions). Not for other modules: they use lib/exprfn.h.
 */
#ifndef JH_EXPRFN_IMPL_H
#define JH_EXPRFN_IMPL_H

#include <stddef.h>

struct jh_exprfn {
  const char *name; /* NULL ends a table */
  size_t min_args;  /* arguments after the name (Name:a|b) */
  size_t max_args;
  const char *args_doc; /* "zone|pattern", "" when none: for messages */
  /* Prepare what the arguments need: 0 and *state (NULL allowed), or
   * -EINVAL / -ENOMEM with err. NULL when the function keeps no state. */
  int (*bind)(const char *const *args, size_t nargs, void **state, char *err,
              size_t errsize);
  void (*free_state)(void *state); /* NULL when bind keeps none */
  /* As jh_exprfn_apply; in is never empty (empty input gives no value
   * before this is called). */
  int (*apply)(const void *state, const char *in, size_t n, char **out,
               char *err, size_t errsize);
};

/* The tables, each ended by an entry whose name is NULL. */
extern const struct jh_exprfn jh_exprfn_text[];
extern const struct jh_exprfn jh_exprfn_dates[];

#endif /* JH_EXPRFN_IMPL_H */
