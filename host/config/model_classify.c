/*
 * model_classify.c — the model sections `resource_classification_rules`
 * and `profile_rule_contexts` (doc/model.md, doc/classification.md):
 * reading each item, and checking what it names across the model once
 * every file is read, with the same helpers and the same discipline as
 * the role model (model_rules.c): every problem at its file:line:column,
 * every expression through jh_expr_check.
 */
#include "config.h"

#include "model_load_impl.h"

#include "expr.h"

#include <stdio.h>
#include <string.h>

#define CONFIDENCE_MAX 150
#define CONFIDENCE_DEFAULT 100

static const char *const classification_keys[] = {
    "resource_type", "target_binding", "target_expression", "confidence"};
static const char *const context_keys[] = {"entity_type", "resource_type",
                                           "sub_binding", "is_applied_to_root",
                                           "profile_rules"};
static const char *const profile_rule_keys[] = {"profile", "is_denied",
                                                "root_binding",
                                                "root_expression",
                                                "sub_expression"};

/* ---- resource_classification_rules ---- */

/* A confidence level 0..150 of entry e into *out. */
static void read_confidence(jh_yw *w, const jh_yfile *f, const jh_yentry *e,
                            int *out) {
  int v;
  if (jh_yw_want_int(w, f, e->vnode, e->key, 0, &v) != 0)
    return;
  if (v > CONFIDENCE_MAX)
    jh_yw_err_node(w, f, e->vnode,
                   "expected a confidence from 0 to %d for '%s' (under 100: "
                   "the classification goes to review), got %d",
                   CONFIDENCE_MAX, JH_Q(e->key), v);
  else
    *out = v;
}

void jh_ml_parse_classification_rule(jh_yw *w, const jh_yfile *f,
                                     yaml_node_t *n, jh_model *m) {
  static const char what[] = "a resource classification rule";
  static const jh_ml_value_keys vk = {"target_binding", "target_expression",
                                      NULL};
  size_t ne;
  jh_yentry *es;
  jh_classification_rule *r = jh_ml_begin_item(w, f, n, what,
                                               &m->classification_rules,
                                               &m->nclassification_rules,
                                               sizeof(*r), &es, &ne);
  int literal = 0;

  if (r == NULL)
    return;
  r->loc = jh_ml_loc(f, n);
  r->confidence = CONFIDENCE_DEFAULT;
  const jh_ml_plain_key plain[] = {
      {"resource_type", JH_ML_IDENT, &r->resource_type, &r->resource_type_loc,
       "the resource type the targets it selects are of"}};
  for (size_t i = 0; i < ne; i++) {
    if (jh_ml_read_plain(w, f, &es[i], plain, NELEM(plain)) ||
        jh_ml_read_value_key(w, f, &es[i], &vk, &r->target, &literal))
      continue;
    if (strcmp(es[i].key, "confidence") == 0)
      read_confidence(w, f, &es[i], &r->confidence);
    else
      jh_yw_unknown_key(w, f, &es[i], classification_keys,
                        NELEM(classification_keys));
  }
  jh_ml_require_plain(w, f, n, es, ne, what, plain, NELEM(plain));
  jh_ml_check_value_rule(w, f, n, what, &r->target, &vk, literal);
  free(es);
}

/* ---- profile_rule_contexts ---- */

/* The sub-resources' criterion: a lua: or Literal: expression (there is
 * no binding to apply a built-in function to). */
static void read_sub_expression(jh_yw *w, const jh_yfile *f, const jh_yentry *e,
                                jh_value_rule *v) {
  if (jh_yw_want_string(w, f, e->vnode, e->key, &v->expression) != 0)
    return;
  v->loc = jh_ml_text_loc(f, e->vnode);
  if (strncmp(v->expression, "lua:", 4) != 0 &&
      strncmp(v->expression, "Literal:", 8) != 0)
    jh_yw_err_at(w, jh_ml_as_loc(v->loc),
                 "'sub_expression' is read on each sub-resource: expected "
                 "lua:PARAM:BODY or Literal:TEXT, got '%s'",
                 JH_Q(v->expression));
}

static void parse_profile_rule(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                               jh_profile_context *c) {
  static const char what[] = "a profile rule";
  static const jh_ml_value_keys vk = {"root_binding", "root_expression", NULL};
  size_t ne;
  jh_yentry *es;
  jh_profile_rule *r = jh_ml_begin_item(w, f, n, what, &c->rules, &c->nrules,
                                        sizeof(*r), &es, &ne);
  int literal = 0;

  if (r == NULL)
    return;
  r->loc = jh_ml_loc(f, n);
  const jh_ml_plain_key plain[] = {{"profile", JH_ML_IDENT, &r->profile,
                                    &r->profile_loc, "the profile it gives"},
                                   {"is_denied", JH_ML_BOOL, &r->is_denied,
                                    NULL, NULL}};
  for (size_t i = 0; i < ne; i++) {
    if (jh_ml_read_plain(w, f, &es[i], plain, NELEM(plain)) ||
        jh_ml_read_value_key(w, f, &es[i], &vk, &r->root, &literal))
      continue;
    if (strcmp(es[i].key, "sub_expression") == 0)
      read_sub_expression(w, f, &es[i], &r->sub);
    else
      jh_yw_unknown_key(w, f, &es[i], profile_rule_keys,
                        NELEM(profile_rule_keys));
  }
  jh_ml_require_plain(w, f, n, es, ne, what, plain, NELEM(plain));
  if (r->root.binding != NULL || r->root.expression != NULL)
    jh_ml_check_value_rule(w, f, n, what, &r->root, &vk, literal);
  free(es);
}

static void parse_profile_rules(jh_yw *w, const jh_yfile *f, const jh_yentry *e,
                                jh_profile_context *c) {
  yaml_node_item_t *start = NULL;
  size_t count = jh_ml_items(w, f, e->vnode, e->key, &start);
  for (size_t i = 0; i < count && !w->oom; i++)
    parse_profile_rule(w, f, yaml_document_get_node(f->doc, start[i]), c);
}

void jh_ml_parse_profile_context(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                                 jh_model *m) {
  static const char what[] = "a profile rule context";
  size_t ne;
  jh_yentry *es;
  jh_profile_context *c = jh_ml_begin_item(w, f, n, what, &m->profile_contexts,
                                           &m->nprofile_contexts, sizeof(*c),
                                           &es, &ne);
  const jh_yentry *et, *rt;

  if (c == NULL)
    return;
  c->loc = jh_ml_loc(f, n);
  c->is_applied_to_root = 1;
  const jh_ml_plain_key plain[] = {
      {"entity_type", JH_ML_IDENT, &c->entity_type, &c->entity_type_loc, NULL},
      {"resource_type", JH_ML_IDENT, &c->resource_type, &c->resource_type_loc,
       NULL},
      {"sub_binding", JH_ML_STRING, &c->sub_binding, &c->sub_binding_loc, NULL},
      {"is_applied_to_root", JH_ML_BOOL, &c->is_applied_to_root, NULL, NULL}};
  for (size_t i = 0; i < ne && !w->oom; i++) {
    if (jh_ml_read_plain(w, f, &es[i], plain, NELEM(plain)))
      continue;
    if (strcmp(es[i].key, "profile_rules") == 0)
      parse_profile_rules(w, f, &es[i], c);
    else
      jh_yw_unknown_key(w, f, &es[i], context_keys, NELEM(context_keys));
  }
  et = jh_yw_find_entry(es, ne, "entity_type");
  rt = jh_yw_find_entry(es, ne, "resource_type");
  if (et != NULL && rt != NULL)
    jh_yw_err_node(w, f, rt->knode,
                   "'entity_type' and 'resource_type' exclude each other: a "
                   "context names the entity type whose resources get "
                   "profiles, or the resource type whose owners do");
  else if (et == NULL && rt == NULL)
    jh_ml_missing(w, f, n, what, "entity_type' or 'resource_type",
                  "the entity type whose resources get profiles, or the "
                  "resource type whose owners do");
  free(es);
}

/* ---- checks across the model ---- */

#define RULE_NAME_SIZE (2 * JH_QUOTE_SIZE + 64)

static void check_classification(jh_yw *w, const jh_model *m,
                                 const jh_classification_rule *r, size_t nth) {
  const jh_resource_type *rt;
  const jh_entity_type *tgt;
  char rule[RULE_NAME_SIZE];
  if (r->resource_type == NULL)
    return;
  rt = jh_model_resource_type(m, r->resource_type);
  if (rt == NULL) {
    jh_yw_err_at(w, jh_ml_as_loc(r->resource_type_loc),
                 "resource classification rule: the model has no resource "
                 "type '%s': expected one declared in resource_types",
                 JH_Q(r->resource_type));
    return;
  }
  tgt = rt->target_entity_type != NULL
            ? jh_model_entity_type(m, rt->target_entity_type)
            : NULL;
  snprintf(rule, sizeof(rule), "resource classification rule %zu ('%s')", nth,
           JH_Q(r->resource_type));
  if (tgt != NULL)
    jh_ml_check_binding(w, m, tgt, &r->target, rule);
}

/* The entity type whose resources a context gives profiles to (for a
 * resource type, its source entity type, written into c->entity_type);
 * NULL after reporting. */
static const jh_entity_type *context_entity_type(jh_yw *w, const jh_model *m,
                                                 jh_profile_context *c) {
  const jh_resource_type *rt;
  if (c->resource_type == NULL)
    return jh_ml_need_entity_type(w, m, c->entity_type, c->entity_type_loc);
  rt = jh_model_resource_type(m, c->resource_type);
  if (rt == NULL) {
    jh_yw_err_at(w, jh_ml_as_loc(c->resource_type_loc),
                 "profile rule context: the model has no resource type '%s': "
                 "expected one declared in resource_types",
                 JH_Q(c->resource_type));
    return NULL;
  }
  if (rt->source_entity_type == NULL)
    return NULL; /* reported with the resource type */
  free(c->entity_type);
  c->entity_type = jh_yw_xstrdup(w, rt->source_entity_type);
  c->entity_type_loc = c->resource_type_loc;
  return jh_model_entity_type(m, rt->source_entity_type);
}

/* The entity type of a context's sub-resources: where its sub_binding
 * leads (a link or links property); NULL without one or after
 * reporting. */
static const jh_entity_type *sub_entity_type(jh_yw *w, const jh_model *m,
                                             jh_profile_context *c,
                                             const jh_entity_type *et) {
  const jh_entity_type *sub;
  const jh_property *p;
  if (c->sub_binding == NULL || et == NULL)
    return NULL;
  p = jh_ml_resolve_binding(w, m, et, c->sub_binding, c->sub_binding_loc);
  if (p == NULL)
    return NULL;
  if (p->type != JH_PROP_LINK && p->type != JH_PROP_LINKS) {
    jh_yw_err_at(w, jh_ml_as_loc(c->sub_binding_loc),
                 "sub_binding '%s' ends on '%s', a scalar property: expected "
                 "a link or links property, whose targets are the "
                 "sub-resources (the profiles' scopes)",
                 JH_Q(c->sub_binding), JH_Q(p->id));
    return NULL;
  }
  sub = p->target != NULL ? jh_model_entity_type(m, p->target) : NULL;
  if (sub != NULL) {
    free(c->sub_entity_type);
    c->sub_entity_type = jh_yw_xstrdup(w, sub->id);
  }
  return sub;
}

static void check_profile_rule(jh_yw *w, const jh_model *m,
                               const jh_profile_context *c,
                               const jh_profile_rule *r,
                               const jh_entity_type *et,
                               const jh_entity_type *sub) {
  char rule[RULE_NAME_SIZE];
  snprintf(rule, sizeof(rule), "profile rule '%s'",
           JH_Q(r->profile ? r->profile : "?"));
  if (et != NULL && (r->root.binding != NULL || r->root.expression != NULL))
    jh_ml_check_binding(w, m, et, &r->root, rule);
  if (r->sub.expression == NULL)
    return;
  if (c->sub_binding == NULL)
    jh_yw_err_at(w, jh_ml_as_loc(r->sub.loc),
                 "'sub_expression' is read on the context's sub-resources: "
                 "give the context a 'sub_binding'");
  else if (sub != NULL)
    jh_ml_check_binding(w, m, sub, &r->sub, rule);
}

static void check_context(jh_yw *w, const jh_model *m, jh_profile_context *c) {
  const jh_entity_type *et = context_entity_type(w, m, c);
  const jh_entity_type *sub = sub_entity_type(w, m, c, et);
  if (c->sub_binding == NULL && !c->is_applied_to_root)
    jh_yw_err_at(w, jh_ml_as_loc(c->loc),
                 "profile rule context with 'is_applied_to_root: false' and "
                 "no 'sub_binding' gives no profile: give a sub_binding, or "
                 "apply it to the root");
  for (size_t i = 0; i < c->nrules && !w->oom; i++)
    check_profile_rule(w, m, c, &c->rules[i], et, sub);
}

void jh_ml_check_classify(jh_yw *w, jh_model *m) {
  for (size_t i = 0; i < m->nclassification_rules && !w->oom; i++)
    check_classification(w, m, &m->classification_rules[i], i + 1);
  for (size_t i = 0; i < m->nprofile_contexts && !w->oom; i++)
    check_context(w, m, &m->profile_contexts[i]);
}
