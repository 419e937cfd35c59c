/*
 * test_model_rules.c — the role-model sections of the model
 * (doc/model.md): entity_property_expressions and resource_types. A good
 * model gives every value written and every default; each malformed item
 * is refused at its file:line:column with what was expected; tasks name
 * entity types and resource types the model declares.
 *
 * Each case writes a pipeline and its included model.yaml into a
 * temporary folder; task types come from the built-in plugins and the
 * enginetest plugin.
 */
#include "config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diag.h"
#include "harness_host.h"
#include "loader.h"
#include "model.h"
#include "pipeline.h"

static const char pipeline_text[] = "version: 1\n"
                                    "include: [model.yaml]\n"
                                    "job:\n"
                                    "  id: J\n"
                                    "  tasks:\n"
                                    "    - {id: T, type: TestSucceedTask}\n";

static int setup_registry(void **state) {
  *state = jh_test_registry("JH_BUILTIN_PLUGIN_DIR", "JH_ENGINE_PLUGIN_DIR",
                            NULL);
  return 0;
}

/* Whether diags hold an error in `file` (its base name) at line:column
 * whose message holds needle. */
static int has_error(const jh_diags *diags, const char *file, int line,
                     int column, const char *needle) {
  for (size_t k = 0; k < diags->n; k++) {
    const jh_diag *d = &diags->items[k];
    const char *slash = d->file ? strrchr(d->file, '/') : NULL;
    if (d->severity == JH_DIAG_ERROR && d->file != NULL &&
        strcmp(slash ? slash + 1 : d->file, file) == 0 && d->line == line &&
        d->column == column && strstr(d->message, needle) != NULL)
      return 1;
  }
  return 0;
}

/* ---- the entity types every case shares ---- */

#define BASE                                                                   \
  "version: 1\n"                                                               \
  "connectors:\n"                                                              \
  "  - id: HR\n"                                                               \
  "  - id: AD\n"                                                               \
  "entity_types:\n"                                                            \
  "  - id: Dept\n"                                                             \
  "    properties:\n"                                                          \
  "      - {id: name, type: string}\n"                                         \
  "  - id: Person\n"                                                           \
  "    properties:\n"                                                          \
  "      - {id: eid, type: string}\n"                                          \
  "      - {id: first, type: string}\n"                                        \
  "      - {id: last, type: string}\n"                                         \
  "      - {id: display, type: string}\n"                                      \
  "      - {id: simple, type: string}\n"                                       \
  "      - {id: active, type: boolean}\n"                                      \
  "      - {id: manager, type: link, target: Person}\n"                        \
  "      - {id: dept, type: link, target: Dept}\n"                             \
  "      - {id: groups, type: links, target: Account}\n"                       \
  "      - {id: friends, type: links, target: Person}\n"                       \
  "  - id: Account\n"                                                          \
  "    properties:\n"                                                          \
  "      - {id: dn, type: string}\n"                                           \
  "      - {id: cn, type: string}\n"                                           \
  "      - {id: mail, type: string}\n"                                         \
  "      - {id: uac, type: integer}\n"                                         \
  "      - {id: department, type: string}\n"                                   \
  "      - {id: boss, type: link, target: Account}\n"                          \
  "      - {id: memberOf, type: links, target: Account}\n"                     \
  "  - id: Unmapped\n"                                                         \
  "    properties:\n"                                                          \
  "      - {id: x, type: string}\n"                                            \
  "entity_type_mappings:\n"                                                    \
  "  - entity_type: Account\n"                                                 \
  "    connector: AD\n"                                                        \
  "    connection_table: accounts\n"                                           \
  "    properties:\n"                                                          \
  "      - {property: dn, column: dn, primary_key: true}\n"

/* ---- a good model ---- */

static const char good_rules[] =
    "entity_property_expressions:\n"
    "  - id: Person_Display\n"
    "    entity_type: Person\n"
    "    property: display\n"
    "    expression: |\n"
    "        lua:p:\n"
    "        return p.last .. ' ' .. p.first\n"
    "  - {id: Person_Simple, entity_type: Person, property: simple,\n"
    "     binding: last, expression: Simplify, priority: 5}\n"
    "  - {id: Person_Simple_Dept, entity_type: Person, property: simple,\n"
    "     binding: manager.dept.name, priority: -1}\n"
    "resource_types:\n"
    "  - id: Account_Nominative\n"
    "    source_entity_type: Person\n"
    "    target_entity_type: Account\n"
    "    type_rules:\n"
    "      - criterion: \"lua:p:return p.last ~= 'External'\"\n"
    "      - binding: active\n"
    "    scalar_rules:\n"
    "      - {property: cn, binding: last}\n"
    "      - {property: mail, binding: last, expression: ToLower}\n"
    "      - {property: uac, literal: 514}\n"
    "      - {property: department, binding: manager.dept.name}\n"
    "    navigation_rules:\n"
    "      - {property: boss, binding: manager}\n"
    "      - {property: memberOf, resource: \"CN=All,DC=x\"}\n"
    "      - {property: memberOf, binding: groups}\n"
    "    correlation_rules:\n"
    "      - {source_binding: eid, target_binding: dn}\n"
    "      - source_expression: 'lua:p:return p.last'\n"
    "        target_binding: cn\n"
    "        target_expression: Simplify\n"
    "        confidence: 80\n"
    "  - id: Account_Admin\n"
    "    source_entity_type: Person\n"
    "    target_entity_type: Account\n"
    "    connector: ad\n"
    "    allow_add: false\n"
    "    remove_orphans: true\n"
    "    block_provisioning: false\n"
    "    thresholds: {maximum_insert: 10, maximum_update: 11,\n"
    "                 maximum_delete: 12, maximum_insert_percent: 0,\n"
    "                 maximum_update_percent: 100, maximum_delete_percent: 7}\n";

/* Lines of BASE, so that positions in the rules count from there. */
static int base_lines(void) {
  int n = 0;
  for (const char *p = BASE; *p != '\0'; p++)
    n += *p == '\n';
  return n;
}

static void assert_loc(jh_mloc l, int line, int column) {
  const char *slash = l.file ? strrchr(l.file, '/') : NULL;
  assert_non_null(slash);
  assert_string_equal(slash + 1, "model.yaml");
  if (l.line != line || l.column != column)
    fail_msg("at %d:%d, wanted %d:%d", l.line, l.column, line, column);
}

static void check_good_expressions(const jh_model *m, int b) {
  const jh_property_expression *x;
  assert_int_equal(m->nexpressions, 3);
  x = &m->expressions[0];
  assert_string_equal(x->id, "Person_Display");
  assert_string_equal(x->entity_type, "Person");
  assert_string_equal(x->property, "display");
  assert_null(x->value.binding);
  assert_string_equal(x->value.expression,
                      "lua:p:\nreturn p.last .. ' ' .. p.first\n");
  assert_int_equal(x->priority, 0); /* the default */
  assert_loc(x->loc, b + 2, 5);
  assert_loc(x->entity_type_loc, b + 3, 18);
  assert_loc(x->property_loc, b + 4, 15);
  /* a block scalar: its text starts on the next line, indented */
  assert_loc(x->value.loc, b + 6, 9);
  assert_int_equal(x->value.binding_loc.line, 0);

  x = &m->expressions[1];
  assert_string_equal(x->value.binding, "last");
  assert_string_equal(x->value.expression, "Simplify");
  assert_int_equal(x->priority, 5);
  assert_loc(x->value.loc, b + 9, 33);
  assert_loc(x->value.binding_loc, b + 9, 15);

  x = &m->expressions[2];
  assert_string_equal(x->value.binding, "manager.dept.name");
  assert_null(x->value.expression);
  assert_int_equal(x->priority, -1);
  /* a binding alone: the rule is where the binding is */
  assert_loc(x->value.loc, b + 11, 15);
}

static void check_good_rules(const jh_resource_type *rt, int b) {
  assert_int_equal(rt->ntype_rules, 2);
  assert_string_equal(rt->type_rules[0].expression,
                      "lua:p:return p.last ~= 'External'");
  assert_null(rt->type_rules[0].binding);
  assert_loc(rt->type_rules[0].loc, b + 17, 21); /* after the quote */
  assert_string_equal(rt->type_rules[1].binding, "active");
  assert_null(rt->type_rules[1].expression);

  assert_int_equal(rt->nscalar_rules, 4);
  assert_string_equal(rt->scalar_rules[0].property, "cn");
  assert_string_equal(rt->scalar_rules[0].value.binding, "last");
  assert_null(rt->scalar_rules[0].value.expression);
  assert_string_equal(rt->scalar_rules[1].value.expression, "ToLower");
  assert_string_equal(rt->scalar_rules[2].property, "uac");
  assert_null(rt->scalar_rules[2].value.binding);
  assert_string_equal(rt->scalar_rules[2].value.expression, "Literal:514");
  assert_string_equal(rt->scalar_rules[3].value.binding, "manager.dept.name");
  assert_loc(rt->scalar_rules[3].loc, b + 23, 9);
  assert_loc(rt->scalar_rules[3].property_loc, b + 23, 20);

  assert_int_equal(rt->nnavigation_rules, 3);
  assert_string_equal(rt->navigation_rules[0].property, "boss");
  assert_null(rt->navigation_rules[0].resource);
  assert_string_equal(rt->navigation_rules[0].value.binding, "manager");
  assert_string_equal(rt->navigation_rules[1].resource, "CN=All,DC=x");
  assert_null(rt->navigation_rules[1].value.binding);
  assert_string_equal(rt->navigation_rules[2].value.binding, "groups");

  assert_int_equal(rt->ncorrelation_rules, 2);
  assert_string_equal(rt->correlation_rules[0].source.binding, "eid");
  assert_string_equal(rt->correlation_rules[0].target.binding, "dn");
  assert_null(rt->correlation_rules[0].source.expression);
  assert_int_equal(rt->correlation_rules[0].confidence, 100); /* default */
  assert_null(rt->correlation_rules[1].source.binding);
  assert_string_equal(rt->correlation_rules[1].source.expression,
                      "lua:p:return p.last");
  assert_string_equal(rt->correlation_rules[1].target.binding, "cn");
  assert_string_equal(rt->correlation_rules[1].target.expression, "Simplify");
  assert_int_equal(rt->correlation_rules[1].confidence, 80);
}

static void test_good_model(void **state) {
  jh_diags diags = {0};
  jh_pipeline *p = NULL;
  char dir[PATH_MAX], model[8192];
  const jh_model *m;
  const jh_resource_type *rt;
  int b = base_lines(), rc;

  snprintf(model, sizeof(model), "%s%s", BASE, good_rules);
  rc = jh_test_load_with_model(*state, dir, sizeof(dir), pipeline_text, model,
                               &p, &diags);
  if (rc != 0)
    jh_diags_print(&diags, stderr);
  assert_int_equal(rc, 0);
  assert_int_equal(diags.n, 0);
  m = p->model;
  check_good_expressions(m, b);

  assert_int_equal(m->nresource_types, 2);
  rt = jh_model_resource_type(m, "Account_Nominative");
  assert_ptr_equal(rt, &m->resource_types[0]);
  assert_null(jh_model_resource_type(m, "account_nominative")); /* exact */
  assert_null(jh_model_resource_type(m, "Nope"));
  assert_string_equal(rt->source_entity_type, "Person");
  assert_string_equal(rt->target_entity_type, "Account");
  /* defaults: the connector of Account's mapping, add and remove allowed,
   * orphans kept, provisioning blocked, thresholds 0 and 30 % */
  assert_string_equal(rt->connector, "AD");
  assert_int_equal(rt->connector_loc.line, 0);
  assert_int_equal(rt->allow_add, 1);
  assert_int_equal(rt->allow_remove, 1);
  assert_int_equal(rt->remove_orphans, 0);
  assert_int_equal(rt->block_provisioning, 1);
  for (int k = JH_PTH_MAX_INSERT; k <= JH_PTH_MAX_DELETE; k++)
    assert_int_equal(rt->thresholds[k], 0);
  for (int k = JH_PTH_PCT_INSERT; k <= JH_PTH_PCT_DELETE; k++)
    assert_int_equal(rt->thresholds[k], 30);
  assert_loc(rt->loc, b + 13, 5);
  assert_loc(rt->source_loc, b + 14, 25);
  assert_loc(rt->target_loc, b + 15, 25);
  check_good_rules(rt, b);

  rt = &m->resource_types[1];
  assert_string_equal(rt->id, "Account_Admin");
  assert_string_equal(rt->connector, "ad"); /* as written */
  assert_loc(rt->connector_loc, b + 37, 16);
  assert_int_equal(rt->allow_add, 0);
  assert_int_equal(rt->allow_remove, 1);
  assert_int_equal(rt->remove_orphans, 1);
  assert_int_equal(rt->block_provisioning, 0);
  assert_int_equal(rt->thresholds[JH_PTH_MAX_INSERT], 10);
  assert_int_equal(rt->thresholds[JH_PTH_MAX_UPDATE], 11);
  assert_int_equal(rt->thresholds[JH_PTH_MAX_DELETE], 12);
  assert_int_equal(rt->thresholds[JH_PTH_PCT_INSERT], 0);
  assert_int_equal(rt->thresholds[JH_PTH_PCT_UPDATE], 100);
  assert_int_equal(rt->thresholds[JH_PTH_PCT_DELETE], 7);
  assert_int_equal(rt->ntype_rules + rt->nscalar_rules + rt->nnavigation_rules +
                       rt->ncorrelation_rules,
                   0);
  assert_string_equal(jh_prov_threshold_key(JH_PTH_MAX_DELETE),
                      "maximum_delete");
  assert_string_equal(jh_prov_threshold_key(JH_PTH_PCT_UPDATE),
                      "maximum_update_percent");
  assert_null(jh_prov_threshold_key(JH_PTH_COUNT));
  jh_pipeline_free(p);
  jh_diags_clear(&diags);
  jh_test_rmtree(dir);
}

/* ---- malformed items ---- */

#define EXPRS "entity_property_expressions:\n"
#define RT                                                                     \
  "resource_types:\n"                                                          \
  "  - id: RT\n"                                                               \
  "    source_entity_type: Person\n"                                           \
  "    target_entity_type: Account\n"

struct bad_case {
  const char *rules; /* after BASE */
  int line, column;  /* line 1: the first line of rules */
  const char *needle;
};

static const struct bad_case bad_cases[] = {
    /* entity_property_expressions */
    {EXPRS "  - {id: X, entity_type: Person, property: last}\n", 2, 5,
     "an entity property expression is missing 'binding' or 'expression'"},
    {EXPRS "  - {entity_type: Person, property: last, binding: eid}\n", 2, 5,
     "an entity property expression is missing 'id'"},
    {EXPRS "  - {id: X, entity_type: Nope, property: last, binding: eid}\n", 2,
     26, "unknown entity type 'Nope'"},
    {EXPRS "  - {id: X, entity_type: Person, property: lastt, binding: eid}\n",
     2, 44,
     "entity type 'Person' has no property 'lastt': expected one of its "
     "declared properties (did you mean 'last'?)"},
    {EXPRS "  - {id: X, entity_type: Person, property: manager, binding: "
           "eid}\n",
     2, 44,
     "property 'manager' of entity type 'Person' is a link: an entity "
     "property expression fills a scalar property"},
    {EXPRS "  - {id: X, entity_type: Person, property: last, binding: "
           "manager.dept.nme}\n",
     2, 59,
     "binding 'manager.dept.nme': entity type 'Dept' has no property "
     "'nme'"},
    {EXPRS "  - {id: X, entity_type: Person, property: last, binding: "
           "friends.last}\n",
     2, 59,
     "binding 'friends.last': 'friends' is a links property: expected a "
     "single-valued link before a '.'"},
    {EXPRS "  - {id: X, entity_type: Person, property: last, binding: "
           "first.name}\n",
     2, 59, "binding 'first.name': 'first' is a string property"},
    {EXPRS "  - {id: X, entity_type: Person, property: last, binding: "
           "'manager..last'}\n",
     2, 59, "expected a binding, a property, or a path of single-valued links"},
    {EXPRS "  - {id: X, entity_type: Person, property: last, expression: "
           "ToUpper}\n",
     2, 62,
     "'ToUpper' is a built-in function: it applies to the value of a "
     "binding, so 'binding' is required"},
    {EXPRS "  - {id: X, entity_type: Person, property: last, binding: eid,\n"
           "     expression: 'lua:p:return p.eid'}\n",
     2, 59, "'binding' is not used with a lua: expression"},
    {EXPRS "  - {id: X, entity_type: Person, property: last, binding: eid,\n"
           "     expression: 'Literal:x'}\n",
     2, 59, "'binding' is not used with a Literal: expression"},
    {EXPRS "  - {id: X, entity_type: Person, property: last, binding: eid}\n"
           "  - {id: X, entity_type: Person, property: first, binding: eid}\n",
     3, 5, "duplicate entity property expression 'X' (first declared at"},
    {EXPRS "  - {id: X, entity_type: Person, property: last, binding: eid}\n"
           "  - {id: Y, entity_type: Person, property: last, binding: first,\n"
           "     priority: 0}\n",
     3, 5,
     "property 'last' of entity type 'Person' already has an expression of "
     "priority 0"},
    {EXPRS "  - {id: X, entity_type: Person, property: last, binding: eid,\n"
           "     priority: high}\n",
     3, 16, "expected an integer for 'priority', got 'high'"},
    {EXPRS "  - {id: X, entity_type: Person, property: last, bindng: eid}\n", 2,
     50, "unknown key 'bindng' (did you mean 'binding'?)"},
    {"entity_property_expressions: {id: X}\n", 1, 30,
     "expected a list of items for 'entity_property_expressions'"},
    /* resource_types: the item */
    {"resource_types:\n  - {connector: AD}\n", 2, 5,
     "a resource type is missing 'id'"},
    {"resource_types:\n  - {id: RT, target_entity_type: Account}\n", 2, 5,
     "a resource type is missing 'source_entity_type'"},
    {"resource_types:\n  - {id: RT, source_entity_type: Persn, "
     "target_entity_type: Account}\n",
     2, 34, "unknown entity type 'Persn'"},
    {RT "    connector: XX\n", 5, 16, "unknown connector 'XX'"},
    {"resource_types:\n  - {id: RT, source_entity_type: Person, "
     "target_entity_type: Unmapped}\n",
     2, 62,
     "resource type 'RT' has no connector: give 'connector', or map its "
     "target entity type 'Unmapped'"},
    {RT "    allow_remove: false\n    remove_orphans: true\n", 6, 21,
     "'remove_orphans: true' needs 'allow_remove: true'"},
    {RT "    allow_add: maybe\n", 5, 16, "expected a boolean"},
    {RT "    thresholds: {maximum_insert: -1}\n", 5, 34,
     "expected an integer >= 0 for 'maximum_insert'"},
    {RT "    thresholds: {maximum_delete_percent: 101}\n", 5, 42,
     "expected a percentage from 0 to 100 for 'maximum_delete_percent', got "
     "101"},
    {RT "    thresholds: {maximum_inserts: 1}\n", 5, 18,
     "unknown key 'maximum_inserts' (did you mean 'maximum_insert'?)"},
    {RT "    scalar_rule: []\n", 5, 5,
     "unknown key 'scalar_rule' (did you mean 'scalar_rules'?)"},
    {RT "  - id: RT\n    source_entity_type: Person\n"
        "    target_entity_type: Account\n",
     5, 5, "duplicate resource type 'RT' (first declared at"},
    /* type rules */
    {RT "    type_rules:\n      - {}\n", 6, 9,
     "a type rule is missing 'binding' or 'criterion'"},
    {RT "    type_rules:\n      - {binding: dn}\n", 6, 19,
     "entity type 'Person' has no property 'dn'"},
    {RT "    type_rules:\n      - {criterion: ToUpper}\n", 6, 21,
     "'ToUpper' is a built-in function"},
    /* scalar rules */
    {RT "    scalar_rules:\n      - {property: cm, binding: eid}\n", 6, 20,
     "entity type 'Account' has no property 'cm'"},
    {RT "    scalar_rules:\n      - {property: boss, binding: eid}\n", 6, 20,
     "property 'boss' of entity type 'Account' is a link: a scalar rule "
     "fills a scalar property"},
    {RT "    scalar_rules:\n      - {property: cn}\n", 6, 9,
     "a scalar rule is missing 'binding' or 'expression' or 'literal'"},
    {RT "    scalar_rules:\n      - {property: cn, binding: eid, literal: "
        "x}\n",
     6, 33, "'literal' and 'binding' exclude each other"},
    {RT "    scalar_rules:\n      - {property: cn, literal: x, expression: "
        "'lua:p:return 1'}\n",
     6, 49, "'literal' and 'expression' exclude each other"},
    {RT "    scalar_rules:\n      - {property: cn, binding: eid}\n"
        "      - {property: cn, binding: last}\n",
     7, 20, "property 'cn' already has a scalar rule (line"},
    {RT "    scalar_rules:\n      - {property: cn, binding: dn}\n", 6, 33,
     "binding 'dn': entity type 'Person' has no property 'dn'"},
    {RT "    scalar_rules:\n      - {property: cn, binding: eid, "
        "expresion: ToUpper}\n",
     6, 38, "unknown key 'expresion' (did you mean 'expression'?)"},
    /* navigation rules */
    {RT "    navigation_rules:\n      - {property: cn, binding: manager}\n", 6,
     20,
     "property 'cn' of entity type 'Account' is a string: a navigation rule "
     "fills a link or links property"},
    {RT "    navigation_rules:\n      - {property: memberOf, resource: a, "
        "binding: groups}\n",
     6, 52, "'resource' and 'binding' exclude each other"},
    {RT "    navigation_rules:\n      - {property: memberOf}\n", 6, 9,
     "a navigation rule is missing 'resource' or 'binding'"},
    {RT "    navigation_rules:\n      - {property: memberOf, binding: last}\n",
     6, 39,
     "binding 'last' ends on 'last', a string property: a navigation rule's "
     "binding ends on a link or links property"},
    {RT "    navigation_rules:\n      - {property: memberOf, binding: dept}\n",
     6, 39,
     "binding 'dept' leads to entity type 'Dept': expected 'Account' (the "
     "targets, by key) or 'Person' (owners"},
    {RT "    navigation_rules:\n      - {property: boss, binding: manager}\n"
        "      - {property: boss, resource: x}\n",
     7, 20,
     "property 'boss' is single-valued (link) and already has a "
     "navigation rule"},
    /* correlation rules */
    {RT "    correlation_rules:\n      - {source_binding: eid, "
        "target_binding: dn, confidence: 151}\n",
     6, 63, "expected a confidence from 0 to 150 for 'confidence'"},
    {RT "    correlation_rules:\n      - {source_binding: eid}\n", 6, 9,
     "a correlation rule is missing 'target_binding' or 'target_expression'"},
    {RT "    correlation_rules:\n      - {source_binding: eid, "
        "target_binding: eid}\n",
     6, 47, "binding 'eid': entity type 'Account' has no property 'eid'"},
    {RT "    correlation_rules:\n      - {source_expression: Simplify, "
        "target_binding: dn}\n",
     6, 29,
     "'Simplify' is a built-in function: it applies to the value of a "
     "binding, so 'source_binding' is required"},
};

static void test_bad_rules(void **state) {
  size_t failed = 0;
  int b = base_lines();
  for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
    const struct bad_case *bc = &bad_cases[i];
    jh_diags diags = {0};
    jh_pipeline *p = NULL;
    char dir[PATH_MAX], model[8192];
    int rc;

    snprintf(model, sizeof(model), "%s%s", BASE, bc->rules);
    rc = jh_test_load_with_model(*state, dir, sizeof(dir), pipeline_text, model,
                                 &p, &diags);
    if (rc != JOBHOST_ECONFIG || p != NULL ||
        !has_error(&diags, "model.yaml", b + bc->line, bc->column,
                   bc->needle)) {
      jh_diags_print(&diags, stderr);
      print_error("case %zu: rc=%d, wanted model.yaml:%d:%d: ...%s...\n", i, rc,
                  b + bc->line, bc->column, bc->needle);
      failed++;
    }
    jh_pipeline_free(p);
    jh_diags_clear(&diags);
    jh_test_rmtree(dir);
  }
  assert_int_equal(failed, 0);
}

/* ---- tasks name what the model declares ---- */

/* Load the pipeline whose only task is `task` (lines from line 6) over
 * BASE + rules; 1 when it loads, else 0 (diags kept). */
static int load_task(void **state, const char *task, const char *rules,
                     jh_diags *diags) {
  char ptext[1024], model[8192], dir[PATH_MAX];
  jh_pipeline *p = NULL;
  int rc;
  snprintf(ptext, sizeof(ptext),
           "version: 1\ninclude: [model.yaml]\njob:\n  id: J\n  tasks:\n%s",
           task);
  snprintf(model, sizeof(model), "%s%s", BASE, rules);
  rc = jh_test_load_with_model(*state, dir, sizeof(dir), ptext, model, &p,
                               diags);
  jh_pipeline_free(p);
  jh_test_rmtree(dir);
  return rc == 0;
}

static void test_task_references(void **state) {
  static const char rt[] = "resource_types:\n"
                           "  - {id: RT, source_entity_type: Person, "
                           "target_entity_type: Account}\n";
  static const struct {
    const char *task;
    int line, column;
    const char *needle;
  } bad[] = {
      {"    - id: T\n      type: ComputeRoleModelTask\n"
       "      entity_types: [Person, Nope]\n",
       8, 21,
       "unknown entity type 'Nope' in 'entity_types': expected one declared "
       "under 'entity_types:' in the model"},
      {"    - id: T\n      type: UpdateEntityPropertyExpressionsTask\n"
       "      entity_types: person\n",
       8, 21, "unknown entity type 'person'"},
      {"    - id: T\n      type: ComputeCorrelationKeysTask\n"
       "      entity_types: [Account, Dept, X]\n",
       8, 21, "unknown entity type 'X'"},
      {"    - id: T\n      type: GenerateProvisioningOrdersTask\n"
       "      resource_types: [RT, Nope]\n",
       8, 23,
       "unknown resource type 'Nope' in 'resource_types': expected one "
       "declared under 'resource_types:' in the model"},
      {"    - id: T\n      type: SetInternalUserProfilesTask\n"
       "      resource_types: rt\n",
       8, 23, "unknown resource type 'rt'"},
  };
  jh_diags diags = {0};

  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    if (load_task(state, bad[i].task, rt, &diags) ||
        !has_error(&diags, "pipeline.yaml", bad[i].line, bad[i].column,
                   bad[i].needle)) {
      jh_diags_print(&diags, stderr);
      fail_msg("case %zu: wanted pipeline.yaml:%d:%d: %s", i, bad[i].line,
               bad[i].column, bad[i].needle);
    }
    jh_diags_clear(&diags);
  }
  /* declared ones load */
  assert_true(load_task(state,
                        "    - id: T\n      type: ComputeRoleModelTask\n"
                        "      entity_types: [Person, Account]\n"
                        "    - id: U\n      type: "
                        "GenerateProvisioningOrdersTask\n"
                        "      resource_types: [RT]\n",
                        rt, &diags));
  /* a model that declares no resource type leaves the names unchecked
   * (a job imported from Identity Manager names those of its own model) */
  assert_true(load_task(state,
                        "    - id: U\n      type: "
                        "GenerateProvisioningOrdersTask\n"
                        "      resource_types: [Elsewhere]\n",
                        "", &diags));
  assert_int_equal(diags.nerrors, 0);
  jh_diags_clear(&diags);
}

/* ---- expressions checked as the expression module reads them ---- */

/* A Lua syntax error on the third line of a literal block scalar is on
 * the third line after the `|`, at its column in the file. */
static void test_lua_in_block_scalar(void **state) {
  static const char rules[] = "entity_property_expressions:\n"
                              "  - id: X\n"
                              "    entity_type: Person\n"
                              "    property: display\n"
                              "    expression: |\n"
                              "        lua:p:\n"
                              "        local a = p.last\n"
                              "        return a = 1\n";
  jh_diags diags = {0};
  jh_pipeline *p = NULL;
  char dir[PATH_MAX], model[8192];
  int b = base_lines(), rc;

  snprintf(model, sizeof(model), "%s%s", BASE, rules);
  rc = jh_test_load_with_model(*state, dir, sizeof(dir), pipeline_text, model,
                               &p, &diags);
  if (rc != JOBHOST_ECONFIG ||
      !has_error(&diags, "model.yaml", b + 8, 18, "near '='") ||
      !has_error(&diags, "model.yaml", b + 8, 18,
                 "entity property expression 'X'")) {
    jh_diags_print(&diags, stderr);
    fail_msg("wanted model.yaml:%d:18: ... near '=' (rc %d)", b + 8, rc);
  }
  assert_int_equal(diags.nerrors, 1);
  jh_pipeline_free(p);
  jh_diags_clear(&diags);
  jh_test_rmtree(dir);
}

/* jobhost validate refuses a rule that reaches outside the sandbox:
 * each at its file:line:column, exit status 2 (invalid pipeline). */
static void test_validate_refuses_escapes(void **state) {
  static const char rules[] =
      "resource_types:\n"
      "  - id: RT\n"
      "    source_entity_type: Person\n"
      "    target_entity_type: Account\n"
      "    type_rules:\n"
      "      - criterion: \"lua:p:return os.execute('touch /tmp/x')\"\n"
      "    scalar_rules:\n"
      "      - {property: cn, expression: \"lua:p:return io.open('f')\"}\n"
      "    correlation_rules:\n"
      "      - {source_expression: 'lua:p:return require(\"x\")',\n"
      "         target_binding: dn}\n";
  jh_test_jobhost j;
  char model[8192], want[3][64], *out = NULL, *err = NULL;
  int b = base_lines(), rc;
  (void)state;

  jh_test_jobhost_open(&j, "JH_BUILTIN_PLUGIN_DIR", "JH_ENGINE_PLUGIN_DIR",
                       NULL);
  snprintf(model, sizeof(model), "%s%s", BASE, rules);
  jh_test_jobhost_file(&j, "model.yaml", model);
  jh_test_jobhost_pipeline(&j, pipeline_text);
  rc = jh_test_jobhost_run(&j, &out, &err, "validate", j.pipeline, NULL);
  snprintf(want[0], sizeof(want[0]), "model.yaml:%d:34: ", b + 6);
  snprintf(want[1], sizeof(want[1]), "model.yaml:%d:50: ", b + 8);
  snprintf(want[2], sizeof(want[2]), "model.yaml:%d:43: ", b + 10);
  if (rc != 2 || strstr(err, want[0]) == NULL || strstr(err, want[1]) == NULL ||
      strstr(err, want[2]) == NULL || strstr(err, "'os'") == NULL ||
      strstr(err, "'io'") == NULL || strstr(err, "'require'") == NULL)
    fail_msg("validate exited %d, wanted 2 and %s, %s, %s:\n%s", rc, want[0],
             want[1], want[2], err);
  free(out);
  free(err);
  jh_test_jobhost_close(&j);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good_model),
      cmocka_unit_test(test_bad_rules),
      cmocka_unit_test(test_task_references),
      cmocka_unit_test(test_lua_in_block_scalar),
      cmocka_unit_test(test_validate_refuses_escapes),
  };
  return cmocka_run_group_tests(tests, setup_registry,
                                jh_test_teardown_registry);
}
