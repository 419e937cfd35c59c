/*
 * model_load_impl.h — what the two halves of the model loader share:
 * model_load.c (connectors, connections, entity types, mappings) and
 * model_rules.c (computed properties and the role model). Not for other
 * callers: they use model_load.h.
 *
 * Every helper reports what it rejects through the walk's diagnostics
 * with file:line:column; allocation failure sets w->oom.
 */
#ifndef JH_MODEL_LOAD_IMPL_H
#define JH_MODEL_LOAD_IMPL_H

#include <stdlib.h>

#include "model.h"
#include "strindex.h"
#include "yaml_walk.h"

/* Where node n of file f is written, as a model location. */
jh_mloc jh_ml_loc(const jh_yfile *f, const yaml_node_t *n);
/* A model location as a diagnostic location. */
jh_loc jh_ml_as_loc(jh_mloc m);

/* Grow *arrp (of *n items of `size` bytes) by one zeroed item; the new
 * item, or NULL (w->oom set). */
void *jh_ml_grow(jh_yw *w, void *arrp, size_t *n, size_t size);

/* The items of a list value: a sequence (its count, start in *start), a
 * null value (0), or anything else (0 after reporting). */
size_t jh_ml_items(jh_yw *w, const jh_yfile *f, yaml_node_t *n, const char *key,
                   yaml_node_item_t **start);
/* The entries of item n (a mapping; `what` in messages), or NULL after
 * reporting. */
jh_yentry *jh_ml_entries(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                         const char *what, size_t *ne);

/* "<what> is missing '<key>': expected <hint>" at node n. */
void jh_ml_missing(jh_yw *w, const jh_yfile *f, const yaml_node_t *n,
                   const char *what, const char *key, const char *hint);
/* jh_ml_missing when none of the entries es has `key`. */
void jh_ml_require_key(jh_yw *w, const jh_yfile *f, const yaml_node_t *n,
                       const jh_yentry *es, size_t ne, const char *what,
                       const char *key, const char *hint);

/* How the value of a plain key is read. */
typedef enum { JH_ML_IDENT, JH_ML_STRING, JH_ML_BOOL } jh_ml_value_kind;

/* A key of an item whose value is read as it stands: into *out (a char *
 * for JH_ML_IDENT and JH_ML_STRING, an int for JH_ML_BOOL), with where it
 * was written into *loc when loc is not NULL. need: what it gives, for
 * the message when a required key is missing; NULL when the key is
 * optional. */
typedef struct jh_ml_plain_key {
  const char *key;
  jh_ml_value_kind kind;
  void *out;
  jh_mloc *loc;
  const char *need;
} jh_ml_plain_key;

/* Read entry e when it names one of keys: 1 when it did, else 0. */
int jh_ml_read_plain(jh_yw *w, const jh_yfile *f, const jh_yentry *e,
                     const jh_ml_plain_key *keys, size_t nkeys);
/* Report each required key of keys that item n (`what`) lacks. */
void jh_ml_require_plain(jh_yw *w, const jh_yfile *f, const yaml_node_t *n,
                         const jh_yentry *es, size_t ne, const char *what,
                         const jh_ml_plain_key *keys, size_t nkeys);

/* Start reading item n (`what` in messages) of a list: its entries go to
 * *es and *ne, and a new zeroed element of `size` bytes is appended to
 * the array *arrp of *count elements. Returns that element, or NULL after
 * reporting (then *es is NULL and nothing is to be freed). */
void *jh_ml_begin_item(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                       const char *what, void *arrp, size_t *count, size_t size,
                       jh_yentry **es, size_t *ne);

/* For each item of a list, the position of the first item with the same
 * identifier (itself when it is the first; (size_t)-1 without an
 * identifier): a malloc'd array, or NULL (w->oom set). */
size_t *jh_ml_first_ids(jh_yw *w, const void *ids, size_t stride, size_t n,
                        int nocase);
/* "duplicate <what> '<id>' (first declared at file:line)" at `at`. */
void jh_ml_dup_report(jh_yw *w, const char *what, const char *id, jh_mloc at,
                      jh_mloc first, int nocase);

/* Report every item whose identifier an earlier item of the list has. */
#define CHECK_UNIQUE(w, what, arr, n, idfield, nocase)                         \
  do {                                                                         \
    size_t *first_ = (n) > 1                                                   \
                         ? jh_ml_first_ids((w),                                \
                                           JH_STRINDEX_FIELD(arr, idfield),    \
                                           (n), (nocase))                      \
                         : NULL;                                               \
    for (size_t i_ = 0; first_ != NULL && i_ < (n); i_++)                      \
      if (first_[i_] != (size_t)-1 && first_[i_] != i_)                        \
        jh_ml_dup_report((w), (what), (arr)[i_].idfield, (arr)[i_].loc,        \
                         (arr)[first_[i_]].loc, (nocase));                     \
    free(first_);                                                              \
  } while (0)

/* Report a connector id the model does not declare (NULL: nothing). */
void jh_ml_need_connector(jh_yw *w, const jh_model *m, const char *id,
                          jh_mloc at);
/* The entity type `id`, or NULL (reported when id is not NULL). */
const jh_entity_type *jh_ml_need_entity_type(jh_yw *w, const jh_model *m,
                                             const char *id, jh_mloc at);

/* model_rules.c: one item of `entity_property_expressions` and of
 * `resource_types`, and the checks of both sections across the model
 * (run after the other sections' checks). */
void jh_ml_parse_expression(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                            jh_model *m);
void jh_ml_parse_resource_type(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                               jh_model *m);
void jh_ml_check_rules(jh_yw *w, jh_model *m);

/* model_rules.c, for the other rule sections: the keys of a value rule
 * in one kind of item. */
typedef struct jh_ml_value_keys {
  const char *binding;    /* "binding", "source_binding", ... */
  const char *expression; /* "expression", "criterion", ... */
  const char *literal;    /* "literal", or NULL when not allowed */
} jh_ml_value_keys;
/* Where the text of scalar n starts (after a quote; for a block scalar,
 * its first line of text). */
jh_mloc jh_ml_text_loc(const jh_yfile *f, const yaml_node_t *n);
/* Read entry e into v when it is one of the keys vk: 1 when it was (a
 * literal sets *literal). */
int jh_ml_read_value_key(jh_yw *w, const jh_yfile *f, const jh_yentry *e,
                         const jh_ml_value_keys *vk, jh_value_rule *v,
                         int *literal);
/* What a value rule of item n (`what`) says by itself (something to
 * compute from, a built-in with a binding, ...), reported at its place. */
void jh_ml_check_value_rule(jh_yw *w, const jh_yfile *f, const yaml_node_t *n,
                            const char *what, jh_value_rule *v,
                            const jh_ml_value_keys *vk, int literal);
/* A value rule on entity type et (NULL: unknown, reported elsewhere): its
 * binding resolves and jh_expr_check accepts it; rule names it. */
void jh_ml_check_binding(jh_yw *w, const jh_model *m, const jh_entity_type *et,
                         const jh_value_rule *v, const char *rule);
/* The property a binding ends on from entity type et, or NULL after
 * reporting at `at`. */
const jh_property *jh_ml_resolve_binding(jh_yw *w, const jh_model *m,
                                         const jh_entity_type *et,
                                         const char *binding, jh_mloc at);

/* model_classify.c: one item of `resource_classification_rules` and of
 * `profile_rule_contexts`, and their checks across the model. */
void jh_ml_parse_classification_rule(jh_yw *w, const jh_yfile *f,
                                     yaml_node_t *n, jh_model *m);
void jh_ml_parse_profile_context(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                                 jh_model *m);
void jh_ml_check_classify(jh_yw *w, jh_model *m);

#endif /* JH_MODEL_LOAD_IMPL_H */
