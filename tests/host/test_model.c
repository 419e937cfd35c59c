/*
 * test_model.c — the model sections of pipelines (doc/model.md): a good
 * model gives the values written, normalised and defaulted; every
 * malformed model is refused with its file:line:column and a message
 * saying what was expected; a task sees its connection's settings,
 * secrets and package through the services.
 *
 * Each case writes a pipeline and its included model into a temporary
 * folder. Task types and the package `testpkg` (settings of every type)
 * come from the enginetest plugin ($JH_ENGINE_PLUGIN_DIR).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "diag.h"
#include "loader.h"
#include "model.h"
#include "pipeline.h"
#include "harness_host.h"

static const char pipeline_text[] = "version: 1\n"
                                    "include: [model.yaml]\n"
                                    "job:\n"
                                    "  id: J\n"
                                    "  tasks:\n"
                                    "    - id: T\n"
                                    "      type: TestEnvTask\n"
                                    "      write_file: /dev/null\n"
                                    "      connection: HR_Export\n";

static int setup_registry(void **state) {
  *state = jh_test_registry("JH_BUILTIN_PLUGIN_DIR", "JH_ENGINE_PLUGIN_DIR",
                            NULL);
  return 0;
}

/* ---- a good model ---- */

static const char good_model[] =
    "version: 1\n"
    "connectors:\n"
    "  - id: HR\n"
    "    display_name: Human resources\n"
    "    thresholds: {maximum_deleted_lines: 7, max_percentage_updated_lines: 0}\n"
    "    source_health: {max_shrink_percent: 20}\n"
    "  - id: AD\n"
    "connections:\n"
    "  - id: HR_Export\n"
    "    connector: hr\n" /* connector ids ignore case */
    "    package: testpkg\n"
    "    settings:\n"
    "      path: data/hr.csv\n"
    "      count: 42\n"
    "      flag: True\n"
    "      mode: slow\n"
    "      columns: [a, b]\n"
    "    secrets:\n"
    "      password: {env: JH_TEST_MODEL_SECRET}\n"
    "entity_types:\n"
    "  - id: HR_Person\n"
    "    properties:\n"
    "      - {id: employee_id, type: string}\n"
    "      - {id: mail, type: string}\n"
    "      - {id: manager, type: link, target: HR_Person}\n"
    "      - {id: reports, type: links, target: HR_Person}\n"
    "      - {id: start, type: datetime}\n"
    "entity_type_mappings:\n"
    "  - entity_type: HR_Person\n"
    "    connector: HR\n"
    "    connection_table: HR_Export\n"
    "    thresholds: {maximum_inserted_lines: 3}\n"
    "    properties:\n"
    "      - {property: mail, column: Mail, unique_key: true}\n"
    "      - {property: employee_id, column: EmployeeId, primary_key: true}\n"
    "      - {property: manager, column: ManagerId}\n"
    "association_mappings:\n"
    "  - id: HR_reports\n"
    "    connector: HR\n"
    "    connection_table: HR_Export_reports\n"
    "    entity_type: HR_Person\n"
    "    property: reports\n"
    "    column1: Boss\n"
    "    column2: Mail\n"
    "    key2: mail\n";

static void test_good_model(void **state) {
  jh_diags diags = {0};
  jh_pipeline *p = NULL;
  char dir[PATH_MAX], want[PATH_MAX + 32];
  const jh_model *m;
  const jh_connector *hr;
  const jh_connection *c;
  const jh_entity_mapping *mp;
  const jh_association_mapping *a;
  int rc = jh_test_load_with_model(*state, dir, sizeof(dir), pipeline_text,
                                   good_model, &p, &diags);

  if (rc != 0)
    jh_diags_print(&diags, stderr);
  assert_int_equal(rc, 0);
  m = p->model;
  assert_int_equal(m->nconnectors, 2);
  hr = jh_model_connector(m, "hr");
  assert_non_null(hr);
  assert_string_equal(hr->display_name, "Human resources");
  assert_int_equal(jh_threshold_value(&hr->thresholds, JH_TH_MAX_DELETED, 1),
                   7);
  assert_int_equal(jh_threshold_value(&hr->thresholds, JH_TH_PCT_UPDATED, 1),
                   0);
  /* not written: the documented connector defaults */
  assert_int_equal(jh_threshold_value(&hr->thresholds, JH_TH_MAX_INSERTED, 1),
                   100);
  assert_int_equal(jh_threshold_value(&hr->thresholds, JH_TH_PCT_DELETED, 1),
                   5);
  assert_int_equal(
      jh_threshold_value(&hr->thresholds, JH_TH_LINK_MAX_DELETED, 1), 1000);
  assert_int_equal(hr->health.max_shrink_percent, 20);
  assert_int_equal(hr->health.allow_empty, 0);
  assert_int_equal(jh_model_connector(m, "AD")->health.max_shrink_percent, 50);

  c = jh_model_connection(m, "hr_export");
  assert_non_null(c);
  assert_string_equal(c->package, "testpkg");
  {
    char *real = realpath(dir, NULL);
    snprintf(want, sizeof(want), "%s/data/hr.csv", real);
    free(real);
  }
  assert_string_equal(jh_connection_setting(c, "path"), want);
  assert_string_equal(jh_connection_setting(c, "count"), "42");
  assert_string_equal(jh_connection_setting(c, "flag"), "true");
  assert_string_equal(jh_connection_setting(c, "mode"), "slow");
  assert_string_equal(jh_connection_setting(c, "columns"), "a,b");
  assert_null(jh_connection_setting(c, "separator"));
  assert_int_equal(c->nsecrets, 1);
  assert_int_equal(c->secrets[0].source, JH_SECRET_ENV);
  assert_string_equal(c->secrets[0].ref, "JH_TEST_MODEL_SECRET");
  assert_non_null(p->packages);
  assert_non_null(p->packages[0]);
  assert_string_equal(p->packages[0]->name, "testpkg");

  mp = jh_model_mapping(m, "HR_Person");
  assert_non_null(mp);
  assert_int_equal(mp->nproperties, 3);
  assert_int_equal(mp->primary_key, 1);
  assert_int_equal(mp->properties[0].unique_key, 1);
  assert_int_equal(jh_threshold_value(&mp->thresholds, JH_TH_MAX_INSERTED, 0),
                   3);
  assert_int_equal(jh_threshold_value(&mp->thresholds, JH_TH_MAX_DELETED, 0),
                   0);
  assert_int_equal(mp->loc.line, 29);
  assert_int_equal(mp->loc.column, 5);

  a = &m->associations[0];
  assert_string_equal(a->key1, "employee_id"); /* defaulted: primary key */
  assert_string_equal(a->key2, "mail");

  {
    const jh_entity_mapping **ms = NULL;
    const jh_association_mapping **as = NULL;
    assert_int_equal(jh_model_connector_mappings(m, "HR", &ms), 1);
    assert_ptr_equal(ms[0], mp);
    free(ms);
    assert_int_equal(jh_model_connector_associations(m, "hr", &as), 1);
    assert_int_equal(jh_model_connector_mappings(m, "AD", &ms), 0);
    free(ms);
    free(as);
  }
  jh_pipeline_free(p);
  jh_diags_clear(&diags);
  jh_test_rmtree(dir);
}

/* ---- malformed models ---- */

#define HEAD "version: 1\n"
#define CONNECTORS "connectors:\n  - id: HR\n"
#define CONNECTION                                                             \
  "connections:\n"                                                             \
  "  - id: HR_Export\n"                                                        \
  "    connector: HR\n"                                                        \
  "    package: testpkg\n"
#define PERSON                                                                 \
  "entity_types:\n"                                                            \
  "  - id: P\n"                                                                \
  "    properties:\n"                                                          \
  "      - {id: k, type: string}\n"                                            \
  "      - {id: m, type: string}\n"                                            \
  "      - {id: many, type: links, target: P}\n"

struct bad_model {
  const char *model;
  int line, column;
  const char *needle;
};

/* Line numbers count from the model's first line ("version: 1"). With
 * HEAD CONNECTORS CONNECTION, settings start at line 8; PERSON adds 6
 * lines. */
static const struct bad_model bad_models[] = {
    {HEAD "connectors:\n  - id: HR\n    thresolds: {}\n", 4, 5,
     "unknown key 'thresolds' (did you mean 'thresholds'?)"},
    {HEAD "connectors:\n  - id: HR\n    thresholds: "
          "{max_percentage_deleted_lines: 101}\n",
     4, 48, "expected a percentage from 0 to 100"},
    {HEAD "connectors:\n  - id: HR\n    thresholds: {maximum_deleted_lines: "
          "-1}\n",
     4, 41, "expected an integer >= 0 for 'maximum_deleted_lines'"},
    {HEAD "connectors:\n  - id: HR\n  - id: hr\n", 4, 5,
     "duplicate connector 'hr' (first declared at"},
    {HEAD "connectors:\n  - display_name: x\n", 3, 5,
     "a connector is missing 'id'"},
    {HEAD CONNECTORS "connections:\n  - id: C\n    connector: HR\n"
                     "    package: nope\n",
     7, 14,
     "unknown package 'nope': expected a connector package of a "
     "loaded plugin"},
    {HEAD CONNECTORS "connections:\n  - id: C\n    connector: XX\n"
                     "    package: testpkg\n    settings: {path: x}\n",
     6, 16, "unknown connector 'XX'"},
    {HEAD CONNECTORS CONNECTION "    settings: {path: x, seperator: ';'}\n", 8,
     25, "unknown key 'seperator' (did you mean 'separator'?)"},
    {HEAD CONNECTORS CONNECTION "    settings: {path: x, password: hunter2}\n",
     8, 25, "'password' is a secret: give it under 'secrets:'"},
    {HEAD CONNECTORS CONNECTION "    settings: {path: x}\n"
                                "    secrets: {password: hunter2}\n",
     9, 25, "expected {file: PATH} or {env: VARIABLE} for secret 'password'"},
    {HEAD CONNECTORS CONNECTION "    settings: {path: x}\n"
                                "    secrets: {password: {file: a, env: B}}\n",
     9, 25, "expected exactly one of 'file' or 'env'"},
    {HEAD CONNECTORS CONNECTION "    settings: {separator: ';'}\n", 5, 5,
     "connection 'HR_Export' is missing setting 'path' required by package "
     "'testpkg'"},
    {HEAD CONNECTORS CONNECTION "    settings: {path: x, count: many}\n", 8, 32,
     "expected an integer for 'count', got 'many'"},
    {HEAD CONNECTORS CONNECTION "    settings: {path: x, mode: quick}\n", 8, 31,
     "expected one of fast, slow for 'mode'"},
    {HEAD CONNECTORS "connections:\n  - id: C\n    connector: HR\n", 5, 5,
     "a connection is missing 'package'"},
    {HEAD "entity_types:\n  - id: P\n    properties:\n"
          "      - {id: k, type: text}\n",
     5, 23,
     "expected one of string, integer, boolean, datetime, link, links "
     "for 'type'"},
    {HEAD "entity_types:\n  - id: P\n    properties:\n"
          "      - {id: k, type: link}\n",
     5, 9, "property 'k' is a link: expected 'target'"},
    {HEAD "entity_types:\n  - id: P\n    properties:\n"
          "      - {id: k, type: link, target: Q}\n",
     5, 9, "unknown entity type 'Q'"},
    {HEAD "entity_types:\n  - id: P\n    properties:\n"
          "      - {id: k, type: string, target: P}\n",
     5, 9, "property 'k' has a 'target' but is not a link"},
    {HEAD "entity_types:\n  - id: P\n    properties:\n"
          "      - {id: k, type: string}\n      - {id: k, type: string}\n",
     6, 9, "duplicate property 'k'"},
    {HEAD CONNECTORS PERSON
     "entity_type_mappings:\n  - entity_type: P\n    connector: HR\n"
     "    connection_table: t\n    properties:\n"
     "      - {property: k, column: K}\n",
     15, 7, "no primary key: exactly one mapped property must have"},
    {HEAD CONNECTORS PERSON
     "entity_type_mappings:\n  - entity_type: P\n    connector: HR\n"
     "    connection_table: t\n    properties:\n"
     "      - {property: k, column: K, primary_key: true}\n"
     "      - {property: m, column: M, primary_key: true}\n",
     16, 9, "a second primary key"},
    {HEAD CONNECTORS PERSON
     "entity_type_mappings:\n  - entity_type: P\n    connector: HR\n"
     "    connection_table: t\n    properties:\n"
     "      - {property: k, column: K, primary_key: true}\n"
     "      - {property: nope, column: M}\n",
     16, 9, "entity type 'P' has no property 'nope'"},
    {HEAD CONNECTORS PERSON
     "entity_type_mappings:\n  - entity_type: P\n    connector: HR\n"
     "    connection_table: t\n    properties:\n"
     "      - {property: k, column: K, primary_key: true}\n"
     "      - {property: many, column: M}\n",
     16, 9, "property 'many' is multi-valued (links)"},
    {HEAD CONNECTORS PERSON
     "entity_type_mappings:\n  - entity_type: P\n    connector: HR\n"
     "    connection_table: t\n    properties:\n"
     "      - {property: k, column: K, primary_key: true}\n"
     "      - {property: k, column: M}\n",
     16, 9, "property 'k' is mapped twice"},
    {HEAD CONNECTORS PERSON
     "entity_type_mappings:\n  - entity_type: Q\n    connector: HR\n"
     "    connection_table: t\n    properties:\n"
     "      - {property: k, column: K, primary_key: true}\n",
     11, 18, "unknown entity type 'Q'"},
    {HEAD CONNECTORS PERSON
     "entity_type_mappings:\n  - entity_type: P\n    connector: HR\n"
     "    connection_table: t\n    properties:\n"
     "      - {property: k, column: K, primary_key: true}\n"
     "association_mappings:\n  - {id: A, connector: HR, connection_table: "
     "t2, entity_type: P, property: m, column1: a, column2: b}\n",
     17, 76, "'m' is not a 'links' property of entity type 'P'"},
    {HEAD CONNECTORS PERSON
     "entity_type_mappings:\n  - entity_type: P\n    connector: HR\n"
     "    connection_table: t\n    properties:\n"
     "      - {property: k, column: K, primary_key: true}\n"
     "      - {property: m, column: M}\n"
     "association_mappings:\n  - {id: A, connector: HR, connection_table: "
     "t2, entity_type: P, property: many, column1: a, column2: b, key1: m}\n",
     18, 112, "'m' is not a key of entity type 'P'"},
    {HEAD CONNECTORS PERSON
     "association_mappings:\n  - {id: A, connector: HR, connection_table: "
     "t2, entity_type: P, property: many, column1: a, column2: b}\n",
     11, 63, "entity type 'P' has no entity type mapping"},
    {HEAD "connectors:\n  - id: HR\nmodel: {}\n", 4, 1,
     "unknown key 'model'; expected one of: version, include, connectors"},
};

static void test_bad_models(void **state) {
  size_t failed = 0;
  for (size_t i = 0; i < sizeof(bad_models) / sizeof(bad_models[0]); i++) {
    const struct bad_model *bc = &bad_models[i];
    jh_diags diags = {0};
    jh_pipeline *p = NULL;
    char dir[PATH_MAX];
    int rc = jh_test_load_with_model(*state, dir, sizeof(dir), pipeline_text,
                                     bc->model, &p, &diags);
    int found = 0;

    for (size_t k = 0; k < diags.n; k++) {
      const jh_diag *d = &diags.items[k];
      const char *slash = strrchr(d->file, '/');
      if (d->severity == JH_DIAG_ERROR &&
          strcmp(slash ? slash + 1 : d->file, "model.yaml") == 0 &&
          d->line == bc->line && d->column == bc->column &&
          strstr(d->message, bc->needle) != NULL)
        found = 1;
    }
    if (rc != JOBHOST_ECONFIG || p != NULL || !found) {
      jh_diags_print(&diags, stderr);
      print_error("case %zu: rc=%d, wanted model.yaml:%d:%d: ...%s...\n", i, rc,
                  bc->line, bc->column, bc->needle);
      failed++;
    }
    jh_pipeline_free(p);
    jh_diags_clear(&diags);
    jh_test_rmtree(dir);
  }
  assert_int_equal(failed, 0);
}

/* Tasks must name declared connections and connectors. */
static void test_task_references(void **state) {
  static const struct {
    const char *task;
    int line, column;
    const char *needle;
  } cases[] = {
      {"      connection: Nope\n", 9, 19, "unknown connection 'Nope'"},
      {"      connection: HR_Export\n      connector: AD\n", 9, 19,
       "connection 'HR_Export' belongs to connector 'HR', not to 'AD'"},
      {"      connector: LDAP\n", 9, 18, "unknown connector 'LDAP'"},
  };
  static const char model[] = HEAD
      "connectors:\n  - id: HR\n  - id: AD\n" CONNECTION
      "    settings: {path: x}\n";
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char ptext[1024], dir[PATH_MAX];
    jh_diags diags = {0};
    jh_pipeline *p = NULL;
    int rc, found = 0;
    snprintf(ptext, sizeof(ptext),
             "version: 1\ninclude: [model.yaml]\njob:\n  id: J\n  tasks:\n"
             "    - id: T\n      type: TestEnvTask\n"
             "      write_file: /dev/null\n%s",
             cases[i].task);
    rc = jh_test_load_with_model(*state, dir, sizeof(dir), ptext, model, &p,
                                 &diags);
    for (size_t k = 0; k < diags.n; k++)
      if (diags.items[k].line == cases[i].line &&
          diags.items[k].column == cases[i].column &&
          strstr(diags.items[k].message, cases[i].needle) != NULL)
        found = 1;
    if (rc != JOBHOST_ECONFIG || !found) {
      jh_diags_print(&diags, stderr);
      fail_msg("case %zu: rc=%d, wanted pipeline.yaml:%d:%d: %s", i, rc,
               cases[i].line, cases[i].column, cases[i].needle);
    }
    jh_diags_clear(&diags);
    jh_test_rmtree(dir);
  }
}

/* An identifier refused by the identifier rule leaves its item without
 * one; whatever names that item (a connection, a task, a mapping, a link)
 * is still checked without crashing, and the refusal is reported where
 * the identifier is written. */
static void test_refused_ids(void **state) {
  static const struct {
    const char *model;
    int line, column;
  } cases[] = {
      {HEAD "connectors:\n  - id: \"HR Connector\"\n" CONNECTION
            "    settings: {path: x}\n",
       3, 9},
      {HEAD "connectors:\n  - id: HR\n"
            "connections:\n"
            "  - id: \"HR Export\"\n    connector: HR\n    package: testpkg\n"
            "    settings: {path: x}\n",
       5, 9},
      {HEAD CONNECTORS
       "entity_types:\n  - id: \"P Q\"\n    properties:\n"
       "      - {id: k, type: string}\n"
       "      - {id: up, type: link, target: P}\n"
       "entity_type_mappings:\n  - entity_type: P\n    connector: HR\n"
       "    connection_table: t\n    properties:\n"
       "      - {property: k, column: K, primary_key: true}\n",
       5, 9},
      {HEAD CONNECTORS
       "entity_types:\n  - id: P\n    properties:\n"
       "      - {id: \"k k\", type: string}\n"
       "entity_type_mappings:\n  - entity_type: P\n    connector: HR\n"
       "    connection_table: t\n    properties:\n"
       "      - {property: k, column: K, primary_key: true}\n"
       "association_mappings:\n  - {id: A, connector: HR, "
       "connection_table: t2, entity_type: P, property: k, column1: a, "
       "column2: b, key1: k}\n",
       7, 14},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char dir[PATH_MAX];
    jh_diags diags = {0};
    jh_pipeline *p = NULL;
    int rc, found = 0;
    rc = jh_test_load_with_model(
        *state, dir, sizeof(dir),
        "version: 1\ninclude: [model.yaml]\njob:\n  id: J\n  tasks:\n"
        "    - id: T\n      type: TestEnvTask\n"
        "      write_file: /dev/null\n      connection: HR Export\n"
        "      connector: HR Connector\n",
        cases[i].model, &p, &diags);
    for (size_t k = 0; k < diags.n; k++)
      if (diags.items[k].line == cases[i].line &&
          diags.items[k].column == cases[i].column &&
          strstr(diags.items[k].message, "expected an identifier") != NULL)
        found = 1;
    if (rc != JOBHOST_ECONFIG || p != NULL || !found) {
      jh_diags_print(&diags, stderr);
      fail_msg("case %zu: rc=%d, wanted model.yaml:%d:%d: expected an "
               "identifier",
               i, rc, cases[i].line, cases[i].column);
    }
    jh_diags_clear(&diags);
    jh_test_rmtree(dir);
  }
}

/* A model that declares connectors but no connections checks connector
 * references only: an imported job that names its connections still
 * validates, and its export says the connection is undeclared when run. */
static void test_connectors_only_model(void **state) {
  static const char model[] = HEAD "connectors:\n  - id: HR\n";
  char dir[PATH_MAX];
  jh_diags diags = {0};
  jh_pipeline *p = NULL;
  int rc = jh_test_load_with_model(
      *state, dir, sizeof(dir),
      "version: 1\ninclude: [model.yaml]\njob:\n  id: J\n"
      "  tasks:\n    - id: T\n      type: TestEnvTask\n"
      "      write_file: /dev/null\n      connection: Elsewhere\n"
      "      connector: HR\n",
      model, &p, &diags);
  if (rc != 0)
    jh_diags_print(&diags, stderr);
  assert_int_equal(rc, 0);
  assert_int_equal(diags.nerrors, 0);
  jh_pipeline_free(p);
  jh_diags_clear(&diags);
  jh_test_rmtree(dir);
}

/* Values against property types. */
static void test_property_values(void **state) {
  static const struct {
    jh_property_type type;
    const char *value;
    int ok;
  } cases[] = {
      {JH_PROP_INTEGER, "0", 1},
      {JH_PROP_INTEGER, "-9223372036854775808", 1},
      {JH_PROP_INTEGER, "9223372036854775807", 1},
      {JH_PROP_INTEGER, "9223372036854775808", 0},
      {JH_PROP_INTEGER, "+12", 1},
      {JH_PROP_INTEGER, "-", 0},
      {JH_PROP_INTEGER, "1.5", 0},
      {JH_PROP_INTEGER, " 1", 0},
      {JH_PROP_BOOLEAN, "TRUE", 1},
      {JH_PROP_BOOLEAN, "false", 1},
      {JH_PROP_BOOLEAN, "1", 1},
      {JH_PROP_BOOLEAN, "yes", 0},
      {JH_PROP_BOOLEAN, "10", 0},
      {JH_PROP_DATETIME, "2024-02-29", 1},
      {JH_PROP_DATETIME, "2023-02-29", 0},
      {JH_PROP_DATETIME, "2024-13-01", 0},
      {JH_PROP_DATETIME, "2024-01-31T23:59:59Z", 1},
      {JH_PROP_DATETIME, "2024-01-31 23:59", 1},
      {JH_PROP_DATETIME, "2024-01-31T23:59:59.123+02:00", 1},
      {JH_PROP_DATETIME, "2024-01-31T24:00:00", 0},
      {JH_PROP_DATETIME, "2024-01-31T23:59:59+0200", 0},
      {JH_PROP_DATETIME, "20240131235959.0Z", 1},
      {JH_PROP_DATETIME, "202401312359Z", 1},
      {JH_PROP_DATETIME, "20240131235959-0500", 1},
      {JH_PROP_DATETIME, "20240131", 0},
      {JH_PROP_DATETIME, "31/01/2024", 0},
      {JH_PROP_DATETIME, "", 1},
      {JH_PROP_STRING, "anything \xe2\x82\xac", 1},
  };
  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const char *expected = NULL;
    int ok = jh_property_value_ok(cases[i].type, cases[i].value,
                                  strlen(cases[i].value), &expected);
    if (ok != cases[i].ok)
      fail_msg("case %zu '%s': got %d", i, cases[i].value, ok);
    if (!ok)
      assert_non_null(expected);
  }
}

/* Secrets: from a file (trailing newline dropped) or a variable; a
 * missing one is -ENOENT, a small buffer -ERANGE. */
static void test_secrets(void **state) {
  char dir[PATH_MAX - 8], path[PATH_MAX], buf[32];
  jh_secret file = {.name = "p", .source = JH_SECRET_FILE, .ref = path};
  jh_secret env = {.name = "p",
                   .source = JH_SECRET_ENV,
                   .ref = "JH_TEST_SECRET_VAR"};
  (void)state;
  jh_test_mkdtemp(dir, sizeof(dir));
  snprintf(path, sizeof(path), "%s/s", dir);
  jh_test_write_file(path, "s3cret\n", 0600);
  assert_int_equal(jh_secret_read(&file, buf, sizeof(buf)), 0);
  assert_string_equal(buf, "s3cret");
  assert_int_equal(jh_secret_read(&file, buf, 4), -ERANGE);
  unlink(path);
  assert_int_equal(jh_secret_read(&file, buf, sizeof(buf)), -ENOENT);
  unsetenv("JH_TEST_SECRET_VAR");
  assert_int_equal(jh_secret_read(&env, buf, sizeof(buf)), -ENOENT);
  setenv("JH_TEST_SECRET_VAR", "v", 1);
  assert_int_equal(jh_secret_read(&env, buf, sizeof(buf)), 0);
  assert_string_equal(buf, "v");
  jh_test_rmtree(dir);
}

/* A task in its worker sees the connection's package, settings (written,
 * defaulted, unset) and secret; the secret's value reaches neither the
 * report nor the output. */
static void test_task_sees_connection(void **state) {
  jh_test_jobhost j;
  char out[PATH_MAX], ptext[PATH_MAX + 512];
  char *stdout_text = NULL, *stderr_text = NULL, *env, *rep;
  int rc;
  (void)state;

  jh_test_jobhost_open(&j, "JH_BUILTIN_PLUGIN_DIR", "JH_ENGINE_PLUGIN_DIR",
                       NULL);
  jh_test_path(out, sizeof(out), "%s/env.txt", j.dir);
  jh_test_jobhost_file(&j, "model.yaml", good_model);
  snprintf(ptext, sizeof(ptext),
           "version: 1\ninclude: [model.yaml]\njob:\n  id: J\n  tasks:\n"
           "    - id: T\n      type: TestEnvTask\n      write_file: %s\n"
           "      connection: HR_Export\n",
           out);
  jh_test_jobhost_pipeline(&j, ptext);
  setenv("JH_TEST_MODEL_SECRET", "correct horse battery", 1);
  rc = jh_test_jobhost_run(&j, &stdout_text, &stderr_text, "run", j.pipeline,
                           NULL);
  unsetenv("JH_TEST_MODEL_SECRET");
  if (rc != 0)
    fail_msg("jobhost run exited %d: %s", rc, stderr_text);
  env = jh_test_read_file(out);
  assert_non_null(strstr(env, "connection=HR_Export\n"));
  assert_non_null(strstr(env, "abi=1.2\n"));
  assert_non_null(strstr(env, "package=testpkg\n"));
  assert_non_null(strstr(env, "/data/hr.csv\n"));
  assert_non_null(strstr(env, "setting.separator=,\n")); /* default */
  assert_non_null(strstr(env, "setting.count=42\n"));
  assert_non_null(strstr(env, "setting.mode=slow\n"));
  assert_non_null(strstr(env, "setting.columns=a,b\n"));
  assert_non_null(strstr(env, "secret.password.length=21\n"));
  assert_null(strstr(env, "correct horse"));
  rep = jh_test_read_file(j.report);
  assert_null(strstr(rep, "correct horse"));
  assert_null(strstr(stdout_text, "correct horse"));
  assert_null(strstr(stderr_text, "correct horse"));
  free(rep);
  free(env);
  free(stdout_text);
  free(stderr_text);
  jh_test_jobhost_close(&j);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good_model),
      cmocka_unit_test(test_bad_models),
      cmocka_unit_test(test_task_references),
      cmocka_unit_test(test_refused_ids),
      cmocka_unit_test(test_connectors_only_model),
      cmocka_unit_test(test_property_values),
      cmocka_unit_test(test_secrets),
      cmocka_unit_test(test_task_sees_connection),
  };
  return cmocka_run_group_tests(tests, setup_registry,
                                jh_test_teardown_registry);
}
