/*
 * test_model_classify.c — the model sections resource_classification_rules
 * and profile_rule_contexts (doc/model.md): a good model gives every
 * value written and every default; each malformed item is refused at its
 * file:line:column with what was expected.
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

#define BASE                                                                   \
  "version: 1\n"                                                               \
  "connectors:\n"                                                              \
  "  - id: AD\n"                                                               \
  "entity_types:\n"                                                            \
  "  - id: Dept\n"                                                             \
  "    properties:\n"                                                          \
  "      - {id: name, type: string}\n"                                         \
  "  - id: Person\n"                                                           \
  "    properties:\n"                                                          \
  "      - {id: title, type: string}\n"                                        \
  "      - {id: admin, type: boolean}\n"                                       \
  "      - {id: dept, type: link, target: Dept}\n"                             \
  "      - {id: manages, type: links, target: Dept}\n"                         \
  "  - id: Account\n"                                                          \
  "    properties:\n"                                                          \
  "      - {id: dn, type: string}\n"                                           \
  "      - {id: cn, type: string}\n"                                           \
  "resource_types:\n"                                                          \
  "  - {id: RT, source_entity_type: Person, target_entity_type: Account,\n"    \
  "     connector: AD}\n"

/* Lines of BASE, so that positions in the rules count from there. */
static int base_lines(void) {
  int n = 0;
  for (const char *p = BASE; *p != '\0'; p++)
    n += *p == '\n';
  return n;
}

static void assert_loc(jh_mloc l, int line, int column) {
  if (l.line != line || l.column != column)
    fail_msg("at %d:%d, wanted %d:%d", l.line, l.column, line, column);
}

static const char good[] =
    "resource_classification_rules:\n"
    "  - resource_type: RT\n"
    "    target_expression: \"lua:r:return r.cn:sub(1, 4) == 'svc-'\"\n"
    "  - {resource_type: RT, target_binding: cn, target_expression: "
    "ToLower,\n"
    "     confidence: 80}\n"
    "profile_rule_contexts:\n"
    "  - entity_type: Person\n"
    "    profile_rules:\n"
    "      - {profile: Admin, root_binding: admin}\n"
    "      - {profile: Admin, is_denied: true,\n"
    "         root_expression: \"lua:p:return p.title == 'Intern'\"}\n"
    "      - {profile: Everyone}\n"
    "  - resource_type: RT\n"
    "    sub_binding: manages\n"
    "    is_applied_to_root: false\n"
    "    profile_rules:\n"
    "      - profile: Manager\n"
    "        sub_expression: \"lua:d:return d.name ~= 'Board'\"\n";

static void check_good(const jh_model *m, int b) {
  const jh_profile_context *c;
  assert_int_equal(m->nclassification_rules, 2);
  assert_string_equal(m->classification_rules[0].resource_type, "RT");
  assert_int_equal(m->classification_rules[0].confidence, 100); /* default */
  assert_null(m->classification_rules[0].target.binding);
  assert_loc(m->classification_rules[0].target.loc, b + 3, 25);
  assert_loc(m->classification_rules[0].resource_type_loc, b + 2, 20);
  assert_string_equal(m->classification_rules[1].target.binding, "cn");
  assert_string_equal(m->classification_rules[1].target.expression, "ToLower");
  assert_int_equal(m->classification_rules[1].confidence, 80);

  assert_int_equal(m->nprofile_contexts, 2);
  c = &m->profile_contexts[0];
  assert_string_equal(c->entity_type, "Person");
  assert_null(c->resource_type);
  assert_null(c->sub_binding);
  assert_null(c->sub_entity_type);
  assert_int_equal(c->is_applied_to_root, 1); /* default */
  assert_int_equal(c->nrules, 3);
  assert_string_equal(c->rules[0].profile, "Admin");
  assert_string_equal(c->rules[0].root.binding, "admin");
  assert_int_equal(c->rules[0].is_denied, 0);
  assert_int_equal(c->rules[1].is_denied, 1);
  assert_loc(c->rules[1].root.loc, b + 11, 28);
  assert_null(c->rules[2].root.binding);
  assert_null(c->rules[2].root.expression);
  c = &m->profile_contexts[1];
  /* a resource type's context gives profiles to its owners */
  assert_string_equal(c->resource_type, "RT");
  assert_string_equal(c->entity_type, "Person");
  assert_string_equal(c->sub_binding, "manages");
  assert_string_equal(c->sub_entity_type, "Dept"); /* where it leads */
  assert_int_equal(c->is_applied_to_root, 0);
  assert_string_equal(c->rules[0].sub.expression,
                      "lua:d:return d.name ~= 'Board'");
  assert_loc(c->rules[0].loc, b + 17, 9);
}

static void test_good_model(void **state) {
  jh_diags diags = {0};
  jh_pipeline *p = NULL;
  char dir[PATH_MAX], model[8192];
  int rc;

  snprintf(model, sizeof(model), "%s%s", BASE, good);
  rc = jh_test_load_with_model(*state, dir, sizeof(dir), pipeline_text, model,
                               &p, &diags);
  if (rc != 0)
    jh_diags_print(&diags, stderr);
  assert_int_equal(rc, 0);
  assert_int_equal(diags.n, 0);
  check_good(p->model, base_lines());
  jh_pipeline_free(p);
  jh_diags_clear(&diags);
  jh_test_rmtree(dir);
}

/* Whether diags hold an error in model.yaml at line:column whose message
 * holds needle. */
static int has_error(const jh_diags *diags, int line, int column,
                     const char *needle) {
  for (size_t k = 0; k < diags->n; k++) {
    const jh_diag *d = &diags->items[k];
    const char *slash = d->file ? strrchr(d->file, '/') : NULL;
    if (d->severity == JH_DIAG_ERROR && slash != NULL &&
        strcmp(slash + 1, "model.yaml") == 0 && d->line == line &&
        d->column == column && strstr(d->message, needle) != NULL)
      return 1;
  }
  return 0;
}

#define RCR "resource_classification_rules:\n"
#define PRC "profile_rule_contexts:\n"

static const struct bad_case {
  const char *rules;
  int line, column; /* line from 1 after BASE */
  const char *needle;
} bad_cases[] = {
    {RCR "  - {target_binding: cn}\n", 2, 5, "is missing 'resource_type'"},
    {RCR "  - {resource_type: RT}\n", 2, 5,
     "is missing 'target_binding' or 'target_expression'"},
    {RCR "  - {resource_type: RT, target_binding: cn, level: 3}\n", 2, 45,
     "level"},
    {RCR "  - {resource_type: RT, target_expression: ToUpper}\n", 2, 44,
     "'ToUpper' is a built-in function"},
    {RCR "  - {resource_type: RT, target_binding: dn, confidence: -1}\n", 2, 57,
     "confidence"},
    {RCR "  - {resource_type: RT, target_expression: 'lua:r:return r.cn ..'}\n",
     2, 65, "unexpected"},
    {PRC "  - {entity_type: Person, resource_type: RT}\n", 2, 27,
     "'entity_type' and 'resource_type' exclude each other"},
    {PRC "  - {profile_rules: []}\n", 2, 5,
     "is missing 'entity_type' or 'resource_type'"},
    {PRC "  - {entity_type: Nobody}\n", 2, 19, "Nobody"},
    {PRC "  - {resource_type: RX}\n", 2, 21, "no resource type 'RX'"},
    {PRC "  - {entity_type: Person, sub_binding: dept.nope}\n", 2, 40,
     "has no property 'nope'"},
    {PRC "  - {entity_type: Person, is_applied_to_root: false}\n", 2, 5,
     "gives no profile"},
    {PRC "  - entity_type: Person\n    profile_rules:\n      - {is_denied: "
         "true}\n",
     4, 9, "is missing 'profile'"},
    {PRC "  - entity_type: Person\n    profile_rules:\n      - {profile: P, "
         "sub_expression: 'lua:d:return true'}\n",
     4, 39, "give the context a 'sub_binding'"},
    {PRC "  - {entity_type: Person, sub_binding: manages,\n     "
         "profile_rules: [{profile: P, sub_expression: ToLower}]}\n",
     3, 51, "expected lua:PARAM:BODY or Literal:TEXT"},
    {PRC "  - entity_type: Person\n    profile_rules:\n      - {profile: P, "
         "root_binding: dept.name.x}\n",
     4, 36, "'name' is a string property"},
};

static void test_bad_models(void **state) {
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
        !has_error(&diags, b + bc->line, bc->column, bc->needle)) {
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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good_model),
      cmocka_unit_test(test_bad_models),
  };
  return cmocka_run_group_tests(tests, setup_registry,
                                jh_test_teardown_registry);
}
