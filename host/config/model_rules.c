/*
 * model_rules.c — the model sections `entity_property_expressions` and
 * `resource_types` (doc/model.md): reading each item, and checking its
 * references across the model once every file is read.
 *
 * What an item says by itself (keys, types, ranges, which keys go
 * together) is checked while it is read; what it names (entity types,
 * properties, bindings, connectors) is checked by jh_ml_check_rules.
 * Expressions are kept as text (lib/model.h).
 */
#include "config.h"

#include "model_load_impl.h"

#include "expr.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

static const char *const expression_keys[] = {"id",         "entity_type",
                                              "property",   "binding",
                                              "expression", "priority"};
static const char *const resource_type_keys[] = {"id",
                                                 "source_entity_type",
                                                 "target_entity_type",
                                                 "connector",
                                                 "allow_add",
                                                 "allow_remove",
                                                 "remove_orphans",
                                                 "block_provisioning",
                                                 "thresholds",
                                                 "type_rules",
                                                 "scalar_rules",
                                                 "navigation_rules",
                                                 "correlation_rules"};
static const char *const type_rule_keys[] = {"criterion", "binding"};
static const char *const scalar_rule_keys[] = {"property", "binding",
                                               "expression", "literal"};
static const char *const navigation_rule_keys[] = {"property", "resource",
                                                   "binding"};
static const char *const correlation_rule_keys[] = {
    "source_binding", "source_expression", "target_binding",
    "target_expression", "confidence"};

/* Defaults of a resource type's provisioning thresholds: counts off,
 * percentages 30 (Identity Manager's). */
static const int64_t prov_threshold_defaults[JH_PTH_COUNT] = {
    [JH_PTH_MAX_INSERT] = 0,  [JH_PTH_MAX_UPDATE] = 0,
    [JH_PTH_MAX_DELETE] = 0,  [JH_PTH_PCT_INSERT] = 30,
    [JH_PTH_PCT_UPDATE] = 30, [JH_PTH_PCT_DELETE] = 30};

#define CONFIDENCE_MAX 150
#define CONFIDENCE_DEFAULT 100

#define BINDING_HINT                                                           \
  "a property, or a path of single-valued links ending on a property "         \
  "(manager.department.name)"

/* ---- where an expression's text starts ---- */

/* The text of line `line` (0-based) of f, or NULL. */
static const char *line_start(const jh_yfile *f, size_t line) {
  const char *p = f->text, *end = f->text + f->len;
  for (size_t l = 0; l < line && p != NULL; l++) {
    p = memchr(p, '\n', (size_t)(end - p));
    if (p != NULL)
      p++;
  }
  return p;
}

/* The column (1-based) of the text of a block scalar whose indicator is
 * on line `line` (0-based): the indentation of its first line that is
 * not blank. 0 when the file's text is not at hand. */
static int block_column(const jh_yfile *f, size_t line) {
  const char *p, *end;
  if (f->text == NULL)
    return 0;
  p = line_start(f, line + 1);
  end = f->text + f->len;
  while (p != NULL && p < end) {
    const char *q = p;
    while (q < end && *q == ' ')
      q++;
    if (q < end && *q != '\n' && *q != '\r')
      return (int)(q - p) + 1;
    p = q < end ? q + 1 : NULL; /* a blank line: the next one */
  }
  return 0;
}

/* Where the text of scalar n starts: after the quote of a quoted scalar;
 * on the line after the indicator of a block scalar (`|` keeps the line
 * breaks, so a line of the text is a line of the file). */
jh_mloc jh_ml_text_loc(const jh_yfile *f, const yaml_node_t *n) {
  jh_mloc l = jh_ml_loc(f, n);
  switch (n->data.scalar.style) {
  case YAML_SINGLE_QUOTED_SCALAR_STYLE:
  case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
    l.column++;
    break;
  case YAML_LITERAL_SCALAR_STYLE:
  case YAML_FOLDED_SCALAR_STYLE: {
    int col = block_column(f, n->start_mark.line);
    l.line++;
    if (col > 0)
      l.column = col;
    break;
  }
  default:
    break;
  }
  return l;
}

/* ---- value rules: binding, expression, literal ---- */

typedef enum { FORM_NONE, FORM_BUILTIN, FORM_LITERAL, FORM_LUA } expr_form;

static expr_form form_of(const char *x) {
  if (x == NULL)
    return FORM_NONE;
  if (strncmp(x, "lua:", 4) == 0)
    return FORM_LUA;
  if (strncmp(x, "Literal:", 8) == 0)
    return FORM_LITERAL;
  return FORM_BUILTIN;
}

typedef jh_ml_value_keys value_keys;

/* Read entry e into v when it is one of the keys vk: 1 when it was. */
int jh_ml_read_value_key(jh_yw *w, const jh_yfile *f, const jh_yentry *e,
                         const value_keys *vk, jh_value_rule *v, int *literal) {
  const char *s;
  if (strcmp(e->key, vk->binding) == 0) {
    if (jh_yw_want_string(w, f, e->vnode, e->key, &v->binding) == 0)
      v->binding_loc = jh_ml_loc(f, e->vnode);
    return 1;
  }
  if (strcmp(e->key, vk->expression) == 0) {
    if (jh_yw_want_string(w, f, e->vnode, e->key, &v->expression) == 0)
      v->loc = jh_ml_text_loc(f, e->vnode);
    return 1;
  }
  if (vk->literal == NULL || strcmp(e->key, vk->literal) != 0)
    return 0;
  s = jh_yw_want_scalar(w, f, e->vnode, e->key, "a value");
  if (s == NULL)
    return 1;
  *literal = 1;
  free(v->expression);
  if (asprintf(&v->expression, "Literal:%s", s) < 0) {
    v->expression = NULL;
    w->oom = 1;
  }
  v->loc = jh_ml_loc(f, e->vnode);
  return 1;
}

/* What a value rule of item n (`what`) says by itself: something to
 * compute from; a literal alone; a built-in function applied to a
 * binding; a Lua or Literal: expression without one. */
void jh_ml_check_value_rule(jh_yw *w, const jh_yfile *f, const yaml_node_t *n,
                            const char *what, jh_value_rule *v,
                            const value_keys *vk, int literal) {
  expr_form form = form_of(v->expression);
  if (v->expression == NULL)
    v->loc = v->binding_loc;
  if (v->binding == NULL && v->expression == NULL) {
    char key[96];
    snprintf(key, sizeof(key), "%s' or '%s%s%s", vk->binding, vk->expression,
             vk->literal ? "' or '" : "", vk->literal ? vk->literal : "");
    jh_ml_missing(w, f, n, what, key,
                  "a binding (" BINDING_HINT "), an expression (lua:..., a "
                  "built-in function, Literal:...), or a built-in function "
                  "applied to a binding");
  } else if (literal && v->binding != NULL) {
    jh_yw_err_at(w, jh_ml_as_loc(v->binding_loc),
                 "'%s' and '%s' exclude each other: give exactly one of "
                 "'%s', '%s' or '%s'",
                 vk->literal, vk->binding, vk->binding, vk->expression,
                 vk->literal);
  } else if (form == FORM_BUILTIN && v->binding == NULL) {
    jh_yw_err_at(w, jh_ml_as_loc(v->loc),
                 "'%s' is a built-in function: it applies to the value of a "
                 "binding, so '%s' is required (or write lua:PARAM:BODY or "
                 "Literal:TEXT)",
                 JH_Q(v->expression), vk->binding);
  } else if ((form == FORM_LUA || form == FORM_LITERAL) && v->binding) {
    jh_yw_err_at(w, jh_ml_as_loc(v->binding_loc),
                 "'%s' is not used with a %s expression: expected either a "
                 "binding (with or without a built-in function) or that "
                 "expression",
                 vk->binding, form == FORM_LUA ? "lua:" : "Literal:");
  }
}

/* ---- entity_property_expressions ---- */

/* An integer of any sign into *out. 0, or -1 after reporting. */
static int want_any_int(jh_yw *w, const jh_yfile *f, const yaml_node_t *n,
                        const char *key, int *out) {
  const char *s = jh_yw_want_scalar(w, f, n, key, "an integer");
  char got[GOT_SIZE];
  long long v;
  if (s == NULL)
    return -1;
  if (jh_yw_parse_ll(s, &v) != 0 || v < INT_MIN || v > INT_MAX) {
    jh_yw_err_node(w, f, n, "expected an integer for '%s', got %s", JH_Q(key),
                   jh_yw_describe(n, got, sizeof(got)));
    return -1;
  }
  *out = (int)v;
  return 0;
}

void jh_ml_parse_expression(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                            jh_model *m) {
  static const char what[] = "an entity property expression";
  static const value_keys vk = {"binding", "expression", NULL};
  size_t ne;
  jh_yentry *es;
  jh_property_expression *x = jh_ml_begin_item(w, f, n, what, &m->expressions,
                                               &m->nexpressions, sizeof(*x),
                                               &es, &ne);
  int literal = 0;

  if (x == NULL)
    return;
  x->loc = jh_ml_loc(f, n);
  const jh_ml_plain_key plain[] = {
      {"id", JH_ML_IDENT, &x->id, NULL, "the expression's identifier"},
      {"entity_type", JH_ML_IDENT, &x->entity_type, &x->entity_type_loc,
       "the entity type whose property it computes"},
      {"property", JH_ML_IDENT, &x->property, &x->property_loc,
       "the property it computes"}};
  for (size_t i = 0; i < ne; i++) {
    if (jh_ml_read_plain(w, f, &es[i], plain, NELEM(plain)) ||
        jh_ml_read_value_key(w, f, &es[i], &vk, &x->value, &literal))
      continue;
    if (strcmp(es[i].key, "priority") == 0)
      want_any_int(w, f, es[i].vnode, es[i].key, &x->priority);
    else
      jh_yw_unknown_key(w, f, &es[i], expression_keys, NELEM(expression_keys));
  }
  jh_ml_require_plain(w, f, n, es, ne, what, plain, NELEM(plain));
  jh_ml_check_value_rule(w, f, n, what, &x->value, &vk, literal);
  free(es);
}

/* ---- resource_types ---- */

static void parse_prov_thresholds(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                                  int64_t *t) {
  const char *cands[JH_PTH_COUNT];
  size_t ne;
  jh_yentry *es;

  for (int k = 0; k < JH_PTH_COUNT; k++)
    cands[k] = jh_prov_threshold_key((jh_prov_threshold_kind)k);
  es = jh_ml_entries(w, f, n, "thresholds", &ne);
  for (size_t i = 0; es != NULL && i < ne; i++) {
    int k, v;
    for (k = 0; k < JH_PTH_COUNT; k++)
      if (strcmp(es[i].key, cands[k]) == 0)
        break;
    if (k == JH_PTH_COUNT)
      jh_yw_unknown_key(w, f, &es[i], cands, JH_PTH_COUNT);
    else if (jh_yw_want_int(w, f, es[i].vnode, es[i].key, 0, &v) != 0)
      continue;
    else if (k >= JH_PTH_PCT_INSERT && v > 100)
      jh_yw_err_node(w, f, es[i].vnode,
                     "expected a percentage from 0 to 100 for '%s', got %d",
                     JH_Q(es[i].key), v);
    else
      t[k] = v;
  }
  free(es);
}

/* The items of list value n of a resource type, each read by `parse`. */
typedef void (*rule_parser)(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                            jh_resource_type *rt);

static void parse_rules(jh_yw *w, const jh_yfile *f, const jh_yentry *e,
                        jh_resource_type *rt, rule_parser parse) {
  yaml_node_item_t *start = NULL;
  size_t count = jh_ml_items(w, f, e->vnode, e->key, &start);
  for (size_t i = 0; i < count && !w->oom; i++)
    parse(w, f, yaml_document_get_node(f->doc, start[i]), rt);
}

static void parse_type_rule(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                            jh_resource_type *rt) {
  static const char what[] = "a type rule";
  static const value_keys vk = {"binding", "criterion", NULL};
  size_t ne;
  jh_yentry *es;
  jh_value_rule *r = jh_ml_begin_item(w, f, n, what, &rt->type_rules,
                                      &rt->ntype_rules, sizeof(*r), &es, &ne);
  int literal = 0;

  if (r == NULL)
    return;
  for (size_t i = 0; i < ne; i++)
    if (!jh_ml_read_value_key(w, f, &es[i], &vk, r, &literal))
      jh_yw_unknown_key(w, f, &es[i], type_rule_keys, NELEM(type_rule_keys));
  jh_ml_check_value_rule(w, f, n, what, r, &vk, literal);
  free(es);
}

static void parse_scalar_rule(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                              jh_resource_type *rt) {
  static const char what[] = "a scalar rule";
  static const value_keys vk = {"binding", "expression", "literal"};
  size_t ne;
  jh_yentry *es;
  jh_scalar_rule *r = jh_ml_begin_item(w, f, n, what, &rt->scalar_rules,
                                       &rt->nscalar_rules, sizeof(*r), &es,
                                       &ne);
  int literal = 0;

  if (r == NULL)
    return;
  r->loc = jh_ml_loc(f, n);
  const jh_ml_plain_key plain[] = {
      {"property", JH_ML_IDENT, &r->property, &r->property_loc,
       "the scalar property of the target entity type it fills"}};
  for (size_t i = 0; i < ne; i++)
    if (!jh_ml_read_plain(w, f, &es[i], plain, NELEM(plain)) &&
        !jh_ml_read_value_key(w, f, &es[i], &vk, &r->value, &literal))
      jh_yw_unknown_key(w, f, &es[i], scalar_rule_keys,
                        NELEM(scalar_rule_keys));
  jh_ml_require_plain(w, f, n, es, ne, what, plain, NELEM(plain));
  if (literal && jh_yw_find_entry(es, ne, "expression") != NULL)
    jh_yw_err_at(w, jh_ml_as_loc(r->value.loc),
                 "'literal' and 'expression' exclude each other: give "
                 "exactly one of 'binding', 'expression' or 'literal'");
  else
    jh_ml_check_value_rule(w, f, n, what, &r->value, &vk, literal);
  free(es);
}

static void parse_navigation_rule(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                                  jh_resource_type *rt) {
  static const char what[] = "a navigation rule";
  size_t ne;
  jh_yentry *es;
  jh_navigation_rule *r = jh_ml_begin_item(w, f, n, what, &rt->navigation_rules,
                                           &rt->nnavigation_rules, sizeof(*r),
                                           &es, &ne);

  if (r == NULL)
    return;
  r->loc = jh_ml_loc(f, n);
  const jh_ml_plain_key plain[] = {
      {"property", JH_ML_IDENT, &r->property, &r->property_loc,
       "the link or links property of the target entity type it fills"},
      {"resource", JH_ML_STRING, &r->resource, NULL, NULL},
      {"binding", JH_ML_STRING, &r->value.binding, &r->value.binding_loc,
       NULL}};
  for (size_t i = 0; i < ne; i++)
    if (!jh_ml_read_plain(w, f, &es[i], plain, NELEM(plain)))
      jh_yw_unknown_key(w, f, &es[i], navigation_rule_keys,
                        NELEM(navigation_rule_keys));
  jh_ml_require_plain(w, f, n, es, ne, what, plain, NELEM(plain));
  r->value.loc = r->value.binding_loc;
  if (jh_yw_find_entry(es, ne, "resource") != NULL &&
      jh_yw_find_entry(es, ne, "binding") != NULL)
    jh_yw_err_at(w, jh_ml_as_loc(r->value.binding_loc),
                 "'resource' and 'binding' exclude each other: a navigation "
                 "rule gives one fixed target resource or one binding");
  else if (jh_yw_find_entry(es, ne, "resource") == NULL &&
           jh_yw_find_entry(es, ne, "binding") == NULL)
    jh_ml_missing(w, f, n, what, "resource' or 'binding",
                  "the key of one target resource, or a binding on the "
                  "source whose targets give the values");
  free(es);
}

static void parse_correlation_rule(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                                   jh_resource_type *rt) {
  static const char what[] = "a correlation rule";
  static const value_keys src = {"source_binding", "source_expression", NULL};
  static const value_keys tgt = {"target_binding", "target_expression", NULL};
  size_t ne;
  jh_yentry *es;
  jh_correlation_rule *r = jh_ml_begin_item(w, f, n, what,
                                            &rt->correlation_rules,
                                            &rt->ncorrelation_rules, sizeof(*r),
                                            &es, &ne);
  int literal = 0;

  if (r == NULL)
    return;
  r->loc = jh_ml_loc(f, n);
  r->confidence = CONFIDENCE_DEFAULT;
  for (size_t i = 0; i < ne; i++) {
    int v;
    if (jh_ml_read_value_key(w, f, &es[i], &src, &r->source, &literal) ||
        jh_ml_read_value_key(w, f, &es[i], &tgt, &r->target, &literal))
      continue;
    if (strcmp(es[i].key, "confidence") != 0)
      jh_yw_unknown_key(w, f, &es[i], correlation_rule_keys,
                        NELEM(correlation_rule_keys));
    else if (jh_yw_want_int(w, f, es[i].vnode, es[i].key, 0, &v) == 0) {
      if (v > CONFIDENCE_MAX)
        jh_yw_err_node(w, f, es[i].vnode,
                       "expected a confidence from 0 to %d for 'confidence' "
                       "(under 100: the match goes to review), got %d",
                       CONFIDENCE_MAX, v);
      else
        r->confidence = v;
    }
  }
  jh_ml_check_value_rule(w, f, n, what, &r->source, &src, 0);
  jh_ml_check_value_rule(w, f, n, what, &r->target, &tgt, 0);
  free(es);
}

/* The keys of a resource type read by a function of their own. */
static int read_rt_lists(jh_yw *w, const jh_yfile *f, const jh_yentry *e,
                         jh_resource_type *rt) {
  static const struct {
    const char *key;
    rule_parser parse;
  } lists[] = {{"type_rules", parse_type_rule},
               {"scalar_rules", parse_scalar_rule},
               {"navigation_rules", parse_navigation_rule},
               {"correlation_rules", parse_correlation_rule}};
  if (strcmp(e->key, "thresholds") == 0) {
    parse_prov_thresholds(w, f, e->vnode, rt->thresholds);
    return 1;
  }
  for (size_t i = 0; i < NELEM(lists); i++)
    if (strcmp(e->key, lists[i].key) == 0) {
      parse_rules(w, f, e, rt, lists[i].parse);
      return 1;
    }
  return 0;
}

void jh_ml_parse_resource_type(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                               jh_model *m) {
  static const char what[] = "a resource type";
  size_t ne;
  jh_yentry *es;
  const jh_yentry *ro;
  jh_resource_type *rt = jh_ml_begin_item(w, f, n, what, &m->resource_types,
                                          &m->nresource_types, sizeof(*rt), &es,
                                          &ne);

  if (rt == NULL)
    return;
  rt->loc = jh_ml_loc(f, n);
  rt->allow_add = rt->allow_remove = rt->block_provisioning = 1;
  memcpy(rt->thresholds, prov_threshold_defaults, sizeof(rt->thresholds));
  const jh_ml_plain_key plain[] = {
      {"id", JH_ML_IDENT, &rt->id, NULL, "the resource type's identifier"},
      {"source_entity_type", JH_ML_IDENT, &rt->source_entity_type,
       &rt->source_loc, "the entity type of its owners"},
      {"target_entity_type", JH_ML_IDENT, &rt->target_entity_type,
       &rt->target_loc, "the entity type of the resources it provisions"},
      {"connector", JH_ML_IDENT, &rt->connector, &rt->connector_loc, NULL},
      {"allow_add", JH_ML_BOOL, &rt->allow_add, NULL, NULL},
      {"allow_remove", JH_ML_BOOL, &rt->allow_remove, NULL, NULL},
      {"remove_orphans", JH_ML_BOOL, &rt->remove_orphans, NULL, NULL},
      {"block_provisioning", JH_ML_BOOL, &rt->block_provisioning, NULL, NULL}};
  for (size_t i = 0; i < ne && !w->oom; i++)
    if (!jh_ml_read_plain(w, f, &es[i], plain, NELEM(plain)) &&
        !read_rt_lists(w, f, &es[i], rt))
      jh_yw_unknown_key(w, f, &es[i], resource_type_keys,
                        NELEM(resource_type_keys));
  jh_ml_require_plain(w, f, n, es, ne, what, plain, NELEM(plain));
  ro = jh_yw_find_entry(es, ne, "remove_orphans");
  if (rt->remove_orphans && !rt->allow_remove)
    jh_yw_err_node(w, f, ro->vnode,
                   "'remove_orphans: true' needs 'allow_remove: true': an "
                   "orphan is removed the way an assignment is");
  free(es);
}

/* ---- checks across the model ---- */

/* The closest property id of et to `word` ("" when none is close). */
static const char *property_hint(jh_yw *w, const jh_entity_type *et,
                                 const char *word, char *buf, size_t size) {
  const char **ids = jh_yw_xcalloc(w, et->nproperties, sizeof(*ids));
  size_t n = 0;
  const char *best;
  buf[0] = '\0';
  if (ids == NULL)
    return buf;
  for (size_t i = 0; i < et->nproperties; i++)
    if (et->properties[i].id != NULL)
      ids[n++] = et->properties[i].id;
  best = jh_yw_closest(word, ids, n);
  if (best != NULL)
    snprintf(buf, size, " (did you mean '%s'?)", best);
  free(ids);
  return buf;
}

static const char *type_name(jh_property_type t) {
  static const char *const names[] = {"string",   "integer", "boolean",
                                      "datetime", "link",    "links"};
  return (unsigned)t < NELEM(names) ? names[t] : "?";
}

/* Property `id` of et, or NULL after reporting at `at` (`ctx` says what
 * names it). */
static const jh_property *need_property(jh_yw *w, const jh_entity_type *et,
                                        const char *id, jh_mloc at,
                                        const char *ctx) {
  const jh_property *p = jh_entity_type_property(et, id);
  char hint[HINT_LEN_MAX + 32];
  if (p == NULL)
    jh_yw_err_at(w, jh_ml_as_loc(at),
                 "%sentity type '%s' has no property '%s': expected one of "
                 "its declared properties%s",
                 ctx, JH_Q(et->id), JH_Q(id),
                 property_hint(w, et, id, hint, sizeof(hint)));
  return p;
}

/* One step of a binding, written `step` (its text cut at the next '.'),
 * read on entity type et: the property, or NULL after reporting. */
static const jh_property *binding_step(jh_yw *w, const jh_entity_type *et,
                                       const char *binding, const char *step,
                                       int last, jh_mloc at) {
  char ctx[JH_QUOTE_SIZE + 32];
  const jh_property *p;
  snprintf(ctx, sizeof(ctx), "binding '%s': ", JH_Q(binding));
  p = need_property(w, et, step, at, ctx);
  if (p == NULL || last || p->type == JH_PROP_LINK)
    return p;
  jh_yw_err_at(w, jh_ml_as_loc(at),
               "binding '%s': '%s' is a %s property: expected a single-valued "
               "link before a '.' (only the last step may be %s)",
               JH_Q(binding), JH_Q(step), type_name(p->type),
               p->type == JH_PROP_LINKS ? "multi-valued" : "a scalar");
  return NULL;
}

/* The property a binding ends on, following its steps from entity type
 * et through single-valued links; NULL after reporting at `at` (or
 * silently when a link's target is unknown: reported with the link). */
const jh_property *jh_ml_resolve_binding(jh_yw *w, const jh_model *m,
                                         const jh_entity_type *et,
                                         const char *binding, jh_mloc at) {
  char *steps = jh_yw_xstrdup(w, binding), *step, *dot;
  const jh_property *p = NULL;

  if (steps == NULL)
    return NULL;
  for (step = steps; et != NULL; step = dot + 1) {
    dot = strchr(step, '.');
    if (dot != NULL)
      *dot = '\0';
    if (*step == '\0') {
      jh_yw_err_at(w, jh_ml_as_loc(at),
                   "expected a binding, " BINDING_HINT ", got '%s'",
                   JH_Q(binding));
      p = NULL;
      break;
    }
    p = binding_step(w, et, binding, step, dot == NULL, at);
    if (p == NULL || dot == NULL)
      break;
    et = jh_model_entity_type(m, p->target);
    p = NULL;
  }
  free(steps);
  return p;
}

/* A property of a rule that must be a scalar (links 0) or a link or
 * links property (links 1) of et; NULL after reporting. */
static const jh_property *need_kind(jh_yw *w, const jh_entity_type *et,
                                    const char *id, jh_mloc at, int links,
                                    const char *what) {
  const jh_property *p;
  int is_link;
  if (et == NULL || id == NULL)
    return NULL;
  p = need_property(w, et, id, at, "");
  if (p == NULL)
    return NULL;
  is_link = p->type == JH_PROP_LINK || p->type == JH_PROP_LINKS;
  if (is_link == links)
    return p;
  jh_yw_err_at(w, jh_ml_as_loc(at),
               "property '%s' of entity type '%s' is a %s: %s fills %s",
               JH_Q(id), JH_Q(et->id), type_name(p->type), what,
               links ? "a link or links property (use a scalar rule for the "
                       "others)"
                     : "a scalar property (string, integer, boolean, "
                       "datetime), not a link");
  return NULL;
}

/* Report a message of jh_expr_check, "file:line:column: rule: text", at
 * its own location (or at the rule's when it has none). On a line after
 * the rule's first, the column counts from the start of that line of the
 * text: in a block scalar, the file's line has the block's indentation
 * (the column of the rule's first line) before it. */
static void expr_report(jh_yw *w, const jh_value_rule *v, const char *msg) {
  jh_loc at = jh_ml_as_loc(v->loc);
  size_t flen = at.file != NULL ? strlen(at.file) : 0;
  int line, col, used = 0;
  if (flen > 0 && strncmp(msg, at.file, flen) == 0 &&
      sscanf(msg + flen, ":%d:%d: %n", &line, &col, &used) == 2 && used > 0) {
    at.column = line > at.line ? col + v->loc.column - 1 : col;
    at.line = line;
    msg += flen + (size_t)used;
  }
  jh_yw_err_at(w, at, "%s", msg);
}

/* Check rule v the way the expression module reads it (Lua syntax, the
 * names the sandbox refuses, built-in functions and their arguments),
 * unless an error was already reported about it (since `before` errors,
 * or by the reading checks of jh_ml_check_value_rule). */
static void check_expr(jh_yw *w, const jh_value_rule *v, size_t before,
                       const char *rule) {
  char err[1024];
  expr_form form = form_of(v->expression);
  if (w->diags->nerrors != before ||
      (v->binding == NULL && v->expression == NULL) ||
      (form == FORM_BUILTIN && v->binding == NULL) ||
      ((form == FORM_LUA || form == FORM_LITERAL) && v->binding != NULL))
    return;
  if (jh_expr_check(v->binding, v->expression, v->loc, rule, err,
                    sizeof(err)) != 0)
    expr_report(w, v, err);
}

/* A value rule on entity type et (NULL: unknown, reported): its binding
 * resolves, and the expression module accepts it. */
void jh_ml_check_binding(jh_yw *w, const jh_model *m, const jh_entity_type *et,
                         const jh_value_rule *v, const char *rule) {
  size_t before = w->diags->nerrors;
  if (et != NULL && v->binding != NULL)
    jh_ml_resolve_binding(w, m, et, v->binding, v->binding_loc);
  check_expr(w, v, before, rule);
}

/* Two expressions of one property with the same priority: which one wins
 * would be a matter of order, so it is refused. */
static void check_priorities(jh_yw *w, const jh_model *m) {
  for (size_t i = 0; i < m->nexpressions; i++) {
    const jh_property_expression *a = &m->expressions[i];
    if (a->entity_type == NULL || a->property == NULL)
      continue;
    for (size_t j = 0; j < i; j++) {
      const jh_property_expression *b = &m->expressions[j];
      if (b->entity_type == NULL || b->property == NULL ||
          strcmp(a->entity_type, b->entity_type) != 0 ||
          strcmp(a->property, b->property) != 0 || a->priority != b->priority)
        continue;
      jh_yw_err_at(w, jh_ml_as_loc(a->loc),
                   "property '%s' of entity type '%s' already has an "
                   "expression of priority %d (%s:%d): give them different "
                   "priorities (of those with a value, the highest wins)",
                   JH_Q(a->property), JH_Q(a->entity_type), a->priority,
                   b->loc.file ? b->loc.file : "?", b->loc.line);
      break;
    }
  }
}

static void check_expressions(jh_yw *w, const jh_model *m) {
  CHECK_UNIQUE(w, "entity property expression", m->expressions, m->nexpressions,
               id, 0);
  for (size_t i = 0; i < m->nexpressions; i++) {
    const jh_property_expression *x = &m->expressions[i];
    const jh_entity_type *et = jh_ml_need_entity_type(w, m, x->entity_type,
                                                      x->entity_type_loc);
    char rule[JH_QUOTE_SIZE + 40];
    need_kind(w, et, x->property, x->property_loc, 0,
              "an entity property expression");
    snprintf(rule, sizeof(rule), "entity property expression '%s'",
             JH_Q(x->id ? x->id : "?"));
    jh_ml_check_binding(w, m, et, &x->value, rule);
  }
  check_priorities(w, m);
}

#define RULE_NAME_SIZE (2 * JH_QUOTE_SIZE + 64)

/* How messages name a rule of resource type rt: "resource type 'RT',
 * scalar rule 'cn'" (by its property), or "..., type rule 2" (by its
 * position, from 1). */
static void rule_name(char *buf, size_t size, const jh_resource_type *rt,
                      const char *kind, const char *property, size_t nth) {
  const char *id = rt->id ? rt->id : "?";
  if (property != NULL)
    snprintf(buf, size, "resource type '%s', %s '%s'", JH_Q(id), kind,
             JH_Q(property));
  else
    snprintf(buf, size, "resource type '%s', %s %zu", JH_Q(id), kind, nth);
}

/* The connector of a resource type: the one written, else the one of its
 * target entity type's mapping (written in). */
static void check_rt_connector(jh_yw *w, const jh_model *m,
                               jh_resource_type *rt) {
  const jh_entity_mapping *mp;
  if (rt->connector != NULL) {
    jh_ml_need_connector(w, m, rt->connector, rt->connector_loc);
    return;
  }
  if (rt->target_entity_type == NULL ||
      jh_model_entity_type(m, rt->target_entity_type) == NULL)
    return; /* reported with the entity type */
  mp = jh_model_mapping(m, rt->target_entity_type);
  if (mp != NULL && mp->connector != NULL) {
    rt->connector = jh_yw_xstrdup(w, mp->connector);
    return;
  }
  jh_yw_err_at(w, jh_ml_as_loc(rt->target_loc),
               "resource type '%s' has no connector: give 'connector', or "
               "map its target entity type '%s' (entity_type_mappings) so "
               "that the mapping's connector is the default",
               JH_Q(rt->id ? rt->id : "?"), JH_Q(rt->target_entity_type));
}

static void check_scalar_rules(jh_yw *w, const jh_model *m,
                               const jh_resource_type *rt,
                               const jh_entity_type *src,
                               const jh_entity_type *tgt) {
  char rule[RULE_NAME_SIZE];
  size_t *first = rt->nscalar_rules > 1
                      ? jh_ml_first_ids(
                            w, JH_STRINDEX_FIELD(rt->scalar_rules, property),
                            rt->nscalar_rules, 0)
                      : NULL;
  for (size_t i = 0; i < rt->nscalar_rules; i++) {
    const jh_scalar_rule *r = &rt->scalar_rules[i];
    if (first != NULL && first[i] != (size_t)-1 && first[i] != i)
      jh_yw_err_at(w, jh_ml_as_loc(r->property_loc),
                   "property '%s' already has a scalar rule (line %d): one "
                   "rule per property",
                   JH_Q(r->property), rt->scalar_rules[first[i]].loc.line);
    else
      need_kind(w, tgt, r->property, r->property_loc, 0, "a scalar rule");
    rule_name(rule, sizeof(rule), rt, "scalar rule", r->property, 0);
    jh_ml_check_binding(w, m, src, &r->value, rule);
  }
  free(first);
}

/* Where a navigation rule's binding may lead: to the targets of the
 * navigation property itself (by their keys), or, when the property
 * points to the resource type's own targets, to source resources, whose
 * own assignment of this resource type gives the targets. */
static void check_nav_binding(jh_yw *w, const jh_model *m,
                              const jh_resource_type *rt,
                              const jh_entity_type *src,
                              const jh_property *prop,
                              const jh_navigation_rule *r) {
  const jh_property *end;
  int via_owners;
  if (src == NULL || r->value.binding == NULL || prop->target == NULL)
    return;
  end = jh_ml_resolve_binding(w, m, src, r->value.binding,
                              r->value.binding_loc);
  if (end == NULL)
    return;
  if (end->type != JH_PROP_LINK && end->type != JH_PROP_LINKS) {
    jh_yw_err_at(w, jh_ml_as_loc(r->value.binding_loc),
                 "binding '%s' ends on '%s', a %s property: a navigation "
                 "rule's binding ends on a link or links property, whose "
                 "targets give the values",
                 JH_Q(r->value.binding), JH_Q(end->id), type_name(end->type));
    return;
  }
  via_owners = strcmp(prop->target, rt->target_entity_type) == 0;
  if (end->target == NULL || strcmp(end->target, prop->target) == 0 ||
      (via_owners && strcmp(end->target, rt->source_entity_type) == 0))
    return;
  if (via_owners)
    jh_yw_err_at(w, jh_ml_as_loc(r->value.binding_loc),
                 "binding '%s' leads to entity type '%s': expected '%s' (the "
                 "targets, by key) or '%s' (owners, whose own assignment of "
                 "this resource type gives the targets)",
                 JH_Q(r->value.binding), JH_Q(end->target), prop->target,
                 rt->source_entity_type);
  else
    jh_yw_err_at(w, jh_ml_as_loc(r->value.binding_loc),
                 "binding '%s' leads to entity type '%s': expected '%s' (the "
                 "targets of property '%s', by key)",
                 JH_Q(r->value.binding), JH_Q(end->target), prop->target,
                 prop->id);
}

static void check_navigation_rules(jh_yw *w, const jh_model *m,
                                   const jh_resource_type *rt,
                                   const jh_entity_type *src,
                                   const jh_entity_type *tgt) {
  char rule[RULE_NAME_SIZE];
  for (size_t i = 0; i < rt->nnavigation_rules; i++) {
    const jh_navigation_rule *r = &rt->navigation_rules[i];
    const jh_property *p = need_kind(w, tgt, r->property, r->property_loc, 1,
                                     "a navigation rule");
    for (size_t j = 0; p != NULL && p->type == JH_PROP_LINK && j < i; j++)
      if (rt->navigation_rules[j].property != NULL &&
          strcmp(rt->navigation_rules[j].property, r->property) == 0) {
        jh_yw_err_at(w, jh_ml_as_loc(r->property_loc),
                     "property '%s' is single-valued (link) and already has "
                     "a navigation rule (line %d): one rule per link",
                     JH_Q(r->property), rt->navigation_rules[j].loc.line);
        break;
      }
    if (p != NULL && r->value.binding != NULL) {
      size_t before = w->diags->nerrors;
      check_nav_binding(w, m, rt, src, p, r);
      rule_name(rule, sizeof(rule), rt, "navigation rule", r->property, 0);
      check_expr(w, &r->value, before, rule);
    }
  }
}

static void check_resource_type(jh_yw *w, const jh_model *m,
                                jh_resource_type *rt) {
  const jh_entity_type *src = jh_ml_need_entity_type(w, m,
                                                     rt->source_entity_type,
                                                     rt->source_loc);
  const jh_entity_type *tgt = jh_ml_need_entity_type(w, m,
                                                     rt->target_entity_type,
                                                     rt->target_loc);
  char rule[RULE_NAME_SIZE];
  check_rt_connector(w, m, rt);
  for (size_t i = 0; i < rt->ntype_rules; i++) {
    rule_name(rule, sizeof(rule), rt, "type rule", NULL, i + 1);
    jh_ml_check_binding(w, m, src, &rt->type_rules[i], rule);
  }
  check_scalar_rules(w, m, rt, src, tgt);
  check_navigation_rules(w, m, rt, src, tgt);
  for (size_t i = 0; i < rt->ncorrelation_rules; i++) {
    rule_name(rule, sizeof(rule), rt, "correlation rule (source)", NULL, i + 1);
    jh_ml_check_binding(w, m, src, &rt->correlation_rules[i].source, rule);
    rule_name(rule, sizeof(rule), rt, "correlation rule (target)", NULL, i + 1);
    jh_ml_check_binding(w, m, tgt, &rt->correlation_rules[i].target, rule);
  }
}

void jh_ml_check_rules(jh_yw *w, jh_model *m) {
  check_expressions(w, m);
  CHECK_UNIQUE(w, "resource type", m->resource_types, m->nresource_types, id,
               0);
  for (size_t i = 0; i < m->nresource_types && !w->oom; i++)
    check_resource_type(w, m, &m->resource_types[i]);
}
