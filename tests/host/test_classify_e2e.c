/*
 * test_classify_e2e.c — UpdateClassificationTask and
 * SetInternalUserProfilesTask end to end: the jobhost program
 * synchronizes four HR people and eight directory accounts, computes the
 * correlation keys and the role model, classifies the accounts and gives
 * profiles.
 *
 *   - classification: the three accounts correlated with a person are
 *     left out, the service accounts get their resource type with the
 *     confidence of the best rule (100 beats 80; 80 alone is counted for
 *     review), the two others are orphans, which `jobhost provisioning
 *     list --orphans` shows (text and JSON);
 *   - profiles: given by a root criterion, to everyone, refused by a
 *     denied rule, scoped by a sub-binding over the owners of a resource
 *     type; then a data change (a title, a hire that correlates an
 *     orphan) removes and adds exactly the affected ones, and a rule
 *     removed from the model removes its profiles; counters in the
 *     report;
 *   - a Lua error in a rule: the task ends in Error naming the rule's
 *     file:line;
 *   - a model error: `jobhost validate` names its file:line:column;
 *   - the listings on a home with no store, and the options refused with
 *     them.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "harness_host.h"

typedef struct fixture {
  jh_test_jobhost j;
  char store[512];
} fixture;

#define USERS ",OU=Users,DC=example,DC=com"
#define SERVICE ",OU=Service,DC=example,DC=com"

static const char hr_first[] =
    "EmployeeId,FirstName,LastName,Department,Manager,Title\n"
    "E01,Ann,Adams,Dept 1,,Manager\n"
    "E02,Bob,Brown,Dept 1,E01,Employee\n"
    "E03,Cid,Clark,Dept 2,E01,Employee\n"
    "E04,Dan,Dale,Dept 2,E03,Manager\n";

/* Ann is no longer a Manager; E99 (Dept 9, reporting to Dan) is hired,
 * and the orphan account CN=stray1 is his. */
static const char hr_second[] =
    "EmployeeId,FirstName,LastName,Department,Manager,Title\n"
    "E01,Ann,Adams,Dept 1,,Director\n"
    "E02,Bob,Brown,Dept 1,E01,Employee\n"
    "E03,Cid,Clark,Dept 2,E01,Employee\n"
    "E04,Dan,Dale,Dept 2,E03,Manager\n"
    "E99,Eve,Evans,Dept 9,E04,Employee\n";

static const char directory[] = "version: 1\n\n"
                                "dn: CN=Ann" USERS
                                "\ncn: Ann\nemployeeID: E01\n\n"
                                "dn: CN=Bob" USERS
                                "\ncn: Bob\nemployeeID: E02\n\n"
                                "dn: CN=Cid" USERS
                                "\ncn: Cid\nemployeeID: E03\n\n"
                                "dn: CN=svc-backup" SERVICE
                                "\ncn: svc-backup\n\n"
                                "dn: CN=svc-print" SERVICE "\ncn: svc-print\n\n"
                                "dn: CN=svc-old" USERS "\ncn: svc-old\n\n"
                                "dn: CN=stray1" USERS
                                "\ncn: stray1\nemployeeID: E99\n\n"
                                "dn: CN=stray2" USERS "\ncn: stray2\n\n";

static const char model_head[] =
    "version: 1\n"
    "connectors:\n"
    "  - id: HR\n"
    "  - id: AD\n"
    "connections:\n"
    "  - {id: HR_Export, connector: HR, package: csv, settings: {path: "
    "hr.csv}}\n"
    "  - {id: AD_Export, connector: AD, package: ldif,\n"
    "     settings: {path: directory.ldif}}\n"
    "entity_types:\n"
    "  - id: HR_Person\n"
    "    properties:\n"
    "      - {id: employee_id, type: string}\n"
    "      - {id: first_name, type: string}\n"
    "      - {id: last_name, type: string}\n"
    "      - {id: department, type: string}\n"
    "      - {id: manager, type: link, target: HR_Person}\n"
    "      - {id: title, type: string}\n"
    "  - id: AD_Entry\n"
    "    properties:\n"
    "      - {id: dn, type: string}\n"
    "      - {id: cn, type: string}\n"
    "      - {id: employeeID, type: string}\n"
    "entity_type_mappings:\n"
    "  - entity_type: HR_Person\n"
    "    connector: HR\n"
    "    connection_table: HR_Export\n"
    "    properties:\n"
    "      - {property: employee_id, column: EmployeeId, primary_key: true}\n"
    "      - {property: first_name, column: FirstName}\n"
    "      - {property: last_name, column: LastName}\n"
    "      - {property: department, column: Department}\n"
    "      - {property: manager, column: Manager}\n"
    "      - {property: title, column: Title}\n"
    "  - entity_type: AD_Entry\n"
    "    connector: AD\n"
    "    connection_table: AD_Export_entries\n"
    "    properties:\n"
    "      - {property: dn, column: dn, primary_key: true}\n"
    "      - {property: cn, column: cn}\n"
    "      - {property: employeeID, column: employeeID}\n"
    "resource_types:\n"
    "  - id: AD_User\n"
    "    source_entity_type: HR_Person\n"
    "    target_entity_type: AD_Entry\n"
    "    correlation_rules:\n"
    "      - {source_binding: employee_id, target_binding: employeeID}\n"
    "  - id: AD_Service\n"
    "    source_entity_type: HR_Person\n"
    "    target_entity_type: AD_Entry\n"
    "    type_rules:\n"
    "      - criterion: \"Literal:false\"\n";

static const char classification[] =
    "resource_classification_rules:\n"
    "  - resource_type: AD_Service\n"
    "    confidence: 80\n"
    "    target_expression: \"lua:r:return r.cn:sub(1, 4) == 'svc-'\"\n"
    "  - resource_type: AD_Service\n"
    "    target_expression: |\n"
    "      lua:r:local ou = ',OU=Service,'\n"
    "      return r.dn:find(ou, 1, true) ~= nil\n";

/* The profile rules; everyone: with the rule giving everyone a profile. */
static void profiles(FILE *m, int everyone) {
  fputs("profile_rule_contexts:\n"
        "  - entity_type: HR_Person\n"
        "    profile_rules:\n"
        "      - profile: Manager\n"
        "        root_expression: \"lua:p:return p.title == 'Manager'\"\n"
        "      - {profile: Everyone, is_denied: true,\n"
        "         root_expression: \"lua:p:return p.department == 'Dept "
        "9'\"}\n",
        m);
  if (everyone)
    fputs("      - {profile: Everyone}\n", m);
  fputs("  - resource_type: AD_User\n"
        "    sub_binding: manager\n"
        "    is_applied_to_root: false\n"
        "    profile_rules:\n"
        "      - profile: TeamMember\n"
        "        sub_expression: \"lua:m:return m.title == 'Manager'\"\n",
        m);
}

/* Write model.yaml: the head, the classification and the profiles. */
static void write_model(fixture *f, int everyone) {
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  assert_non_null(m);
  fputs(model_head, m);
  fputs(classification, m);
  profiles(m, everyone);
  fclose(m);
  jh_test_jobhost_file(&f->j, "model.yaml", text);
  free(text);
}

static const char pipeline[] =
    "version: 1\n"
    "include: [model.yaml, extra.yaml]\n"
    "job:\n"
    "  id: Job_Classify\n"
    "  tasks:\n"
    "    - {id: HR_Export, type: ExportTask, connection: HR_Export}\n"
    "    - {id: HR_Prepare, type: PrepareSynchronizationTask, connector: HR,\n"
    "       synchronization_mode: Complete, depends_on: [HR_Export]}\n"
    "    - {id: HR_Sync, type: SynchronizeTask, connector: HR,\n"
    "       depends_on: [HR_Prepare]}\n"
    "    - {id: AD_Export, type: ExportTask, connection: AD_Export}\n"
    "    - {id: AD_Prepare, type: PrepareSynchronizationTask, connector: AD,\n"
    "       synchronization_mode: Complete, depends_on: [AD_Export]}\n"
    "    - {id: AD_Sync, type: SynchronizeTask, connector: AD,\n"
    "       depends_on: [AD_Prepare]}\n"
    "    - {id: Keys, type: ComputeCorrelationKeysTask,\n"
    "       entity_types: [HR_Person, AD_Entry]}\n"
    "    - {id: RoleModel, type: ComputeRoleModelTask,\n"
    "       entity_types: [HR_Person]}\n"
    "    - {id: Classify, type: UpdateClassificationTask,\n"
    "       entity_types: [AD_Entry]}\n"
    "    - {id: Profiles, type: SetInternalUserProfilesTask,\n"
    "       entity_types: [AD_Entry], resource_types: [AD_User]}\n";

static int setup(void **state) {
  fixture *f = calloc(1, sizeof(*f));
  if (f == NULL)
    return -1;
  jh_test_jobhost_open(&f->j, "JH_BUILTIN_PLUGIN_DIR", NULL);
  jh_test_path(f->store, sizeof(f->store), "%s/identity.db", f->j.home);
  jh_test_jobhost_pipeline(&f->j, pipeline);
  jh_test_jobhost_file(&f->j, "hr.csv", hr_first);
  jh_test_jobhost_file(&f->j, "directory.ldif", directory);
  write_model(f, 1);
  jh_test_jobhost_file(&f->j, "extra.yaml", "version: 1\n");
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  jh_test_jobhost_close(&f->j);
  free(f);
  return 0;
}

static json_t *run_job(fixture *f, int want) {
  return jh_test_jobhost_report(&f->j, want, "run", f->j.pipeline, "--force",
                                NULL);
}

static void assert_counter(json_t *report, const char *task, const char *name,
                           long long want) {
  long long got = jh_test_counter(jh_test_report_task(report, task), name);
  if (got != want)
    fail_msg("task %s counter %s: got %lld, want %lld", task, name, got, want);
}

/* `jobhost provisioning list ARGS...` (its stdout, to free). */
static char *provisioning_list(fixture *f, const char *a1, const char *a2) {
  const char *argv[] = {jh_test_env("JH_JOBHOST"),
                        "provisioning",
                        "list",
                        "--home",
                        f->j.home,
                        a1,
                        a2,
                        NULL};
  char *out = NULL, *err = NULL;
  int rc = jh_test_run(argv, &out, &err);
  if (rc != 0)
    fail_msg("provisioning list %s: exit %d: %s", a1, rc, err);
  free(err);
  return out;
}

/* The classification row of account cn: "resource type|confidence|rule
 * line" (resource type "-" for an orphan), or "" when it has none. */
static void class_of(fixture *f, const char *dn, char *buf, size_t size) {
  char sql[512];
  long long n, conf;
  snprintf(sql, sizeof(sql),
           "SELECT count(*) FROM classifications WHERE key = '%s'", dn);
  n = jh_test_query_int(f->store, sql);
  buf[0] = '\0';
  if (n == 0)
    return;
  snprintf(sql, sizeof(sql),
           "SELECT confidence FROM classifications WHERE key = '%s'", dn);
  conf = jh_test_query_int(f->store, sql);
  snprintf(sql, sizeof(sql),
           "SELECT resource_type IS NULL FROM classifications WHERE key = "
           "'%s'",
           dn);
  snprintf(buf, size, "%s|%lld",
           jh_test_query_int(f->store, sql) ? "-" : "AD_Service", conf);
}

static void assert_class(fixture *f, const char *dn, const char *want) {
  char got[128];
  class_of(f, dn, got, sizeof(got));
  if (strcmp(got, want) != 0)
    fail_msg("%s: classification '%s', want '%s'", dn, got, want);
}

/* The profiles, as "key profile scope;" lines in key order. */
static char *profile_list(fixture *f) {
  char *out = provisioning_list(f, "--profiles", "--json");
  json_error_t jerr;
  json_t *rows = json_loads(out, 0, &jerr), *row;
  char *text = NULL;
  size_t len = 0, i;
  FILE *m = open_memstream(&text, &len);
  if (rows == NULL)
    fail_msg("--profiles --json: %s: %s", jerr.text, out);
  json_array_foreach(rows, i, row) {
    const char *scope = json_string_value(json_object_get(row, "scope"));
    assert_string_equal(json_string_value(json_object_get(row, "entity_type")),
                        "HR_Person");
    fprintf(m, "%s %s %s;", json_string_value(json_object_get(row, "key")),
            json_string_value(json_object_get(row, "profile")),
            scope != NULL ? scope : "-");
  }
  fclose(m);
  json_decref(rows);
  free(out);
  return text;
}

static void assert_profiles(fixture *f, const char *want) {
  char *got = profile_list(f);
  if (strcmp(got, want) != 0)
    fail_msg("profiles:\n got  %s\n want %s", got, want);
  free(got);
}

static void check_first_classification(fixture *f, json_t *report) {
  char *text, *json;
  json_t *rows;
  jh_test_assert_task(report, "Classify", "Succeeded", "2 orphans");
  assert_counter(report, "Classify", "resources", 8);
  assert_counter(report, "Classify", "correlated", 3);
  assert_counter(report, "Classify", "classified", 3);
  assert_counter(report, "Classify", "to_review", 1);
  assert_counter(report, "Classify", "orphans", 2);
  assert_class(f, "CN=Ann" USERS, "");
  assert_class(f, "CN=svc-backup" SERVICE, "AD_Service|100");
  assert_class(f, "CN=svc-old" USERS, "AD_Service|80");
  assert_class(f, "CN=stray2" USERS, "-|0");
  /* the rule is recorded by where it is written */
  assert_int_equal(jh_test_query_int(f->store,
                                     "SELECT count(*) FROM classifications "
                                     "WHERE rule LIKE '%model.yaml:%'"),
                   3);

  text = provisioning_list(f, "--orphans", NULL);
  assert_non_null(strstr(text, "ENTITY TYPE\tKEY\t"));
  assert_non_null(strstr(text, "AD_Entry\tCN=stray1" USERS "\t"));
  assert_non_null(strstr(text, "AD_Entry\tCN=stray2" USERS "\t"));
  assert_null(strstr(text, "svc-"));
  free(text);
  json = provisioning_list(f, "--orphans", "--json");
  rows = json_loads(json, 0, NULL);
  assert_non_null(rows);
  assert_int_equal(json_array_size(rows), 2);
  assert_string_equal(json_string_value(
                          json_object_get(json_array_get(rows, 0), "key")),
                      "CN=stray1" USERS);
  json_decref(rows);
  free(json);
}

static void test_classification_and_profiles(void **state) {
  fixture *f = *state;
  json_t *report = run_job(f, 0);

  check_first_classification(f, report);
  jh_test_assert_task(report, "Profiles", "Succeeded", "8 profiles added");
  assert_counter(report, "Profiles", "added", 8);
  assert_counter(report, "Profiles", "removed", 0);
  assert_profiles(f, "E01 Everyone -;E01 Manager -;E02 Everyone -;"
                     "E02 TeamMember E01;E03 Everyone -;E03 TeamMember E01;"
                     "E04 Everyone -;E04 Manager -;");
  json_decref(report);

  /* Ann is a Director now; Eve is hired and owns stray1 */
  jh_test_jobhost_file(&f->j, "hr.csv", hr_second);
  report = run_job(f, 0);
  assert_counter(report, "Classify", "correlated", 4);
  assert_counter(report, "Classify", "orphans", 1);
  assert_counter(report, "Classify", "changed", 1);
  assert_class(f, "CN=stray1" USERS, "");
  assert_counter(report, "Profiles", "added", 1);
  assert_counter(report, "Profiles", "removed", 3);
  assert_profiles(f, "E01 Everyone -;E02 Everyone -;E03 Everyone -;"
                     "E04 Everyone -;E04 Manager -;E99 TeamMember E04;");
  json_decref(report);

  /* the same again: nothing changes */
  report = run_job(f, 0);
  assert_counter(report, "Classify", "changed", 0);
  assert_counter(report, "Profiles", "added", 0);
  assert_counter(report, "Profiles", "removed", 0);
  json_decref(report);

  /* the rule giving everyone a profile is removed from the model */
  write_model(f, 0);
  report = run_job(f, 0);
  assert_counter(report, "Profiles", "added", 0);
  assert_counter(report, "Profiles", "removed", 4);
  assert_profiles(f, "E04 Manager -;E99 TeamMember E04;");
  json_decref(report);
}

/* A rule that fails when run: the task ends in Error naming where the
 * rule is written; nothing of the run is kept. */
static void test_lua_error_names_the_rule(void **state) {
  fixture *f = *state;
  static const char bad[] =
      "resource_classification_rules:\n"
      "  - resource_type: AD_User\n"
      "    target_expression: \"lua:r:return r.cn .. r.nothing_here\"\n";
  json_t *report;

  jh_test_jobhost_file(&f->j, "extra.yaml", bad);
  report = run_job(f, 1);
  jh_test_assert_task(report, "Classify", "Error", "extra.yaml:3:");
  jh_test_assert_task(report, "Classify", "Error", "AD_Entry CN=");
  assert_int_equal(
      jh_test_query_int(f->store, "SELECT count(*) FROM classifications"), 0);
  json_decref(report);
}

/* Model errors are reported by validate at their file:line:column. */
static void test_validate_names_the_place(void **state) {
  fixture *f = *state;
  static const char bad[] =
      "resource_classification_rules:\n"
      "  - {resource_type: AD_Nothing, target_binding: cn}\n"
      "  - {resource_type: AD_User, target_binding: no_such, confidence: "
      "151}\n"
      "profile_rule_contexts:\n"
      "  - entity_type: HR_Person\n"
      "    sub_binding: title\n"
      "    profile_rules:\n"
      "      - {profile: X, root_expression: \"lua:p:return os.time()\"}\n";
  char *out = NULL, *err = NULL, want[96];
  int rc;
  static const struct {
    int line, column;
    const char *text;
  } errors[] = {{2, 21, "no resource type 'AD_Nothing'"},
                {3, 46, "has no property 'no_such'"},
                {3, 67, "expected a confidence from 0 to 150"},
                {6, 18, "sub_binding 'title' ends on 'title'"},
                {8, 53, "os"}};

  jh_test_jobhost_file(&f->j, "extra.yaml", bad);
  rc = jh_test_jobhost_run(&f->j, &out, &err, "validate", f->j.pipeline, NULL);
  assert_int_equal(rc, 2);
  for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
    const char *at;
    snprintf(want, sizeof(want), "extra.yaml:%d:%d: ", errors[i].line,
             errors[i].column);
    at = strstr(err, want);
    if (at == NULL || strstr(at, errors[i].text) == NULL)
      fail_msg("validate: no '%s' ... '%s' in:\n%s", want, errors[i].text, err);
  }
  free(out);
  free(err);
}

/* `provisioning list SUB-OPTIONS...`: its exit status; stdout in *out. */
static int list_status(fixture *f, char **out, const char *a1, const char *a2,
                       const char *a3) {
  const char *argv[] = {jh_test_env("JH_JOBHOST"),
                        "provisioning",
                        "list",
                        "--home",
                        f->j.home,
                        a1,
                        a2,
                        a3,
                        NULL};
  char *err = NULL;
  int rc = jh_test_run(argv, out, &err);
  free(err);
  return rc;
}

/* The listings on a home with no store, and the options they refuse. */
static void test_list_options(void **state) {
  fixture *f = *state;
  char *out = NULL;

  assert_int_equal(list_status(f, &out, "--orphans", NULL, NULL), 0);
  assert_string_equal(out, "no orphan\n");
  free(out);
  assert_int_equal(list_status(f, &out, "--profiles", "--json", NULL), 0);
  assert_string_equal(out, "[]\n");
  free(out);
  assert_int_equal(list_status(f, &out, "--orphans", "--profiles", NULL), 2);
  free(out);
  assert_int_equal(list_status(f, &out, "--orphans", "--state", "pending"), 2);
  free(out);
  assert_int_equal(
      list_status(f, &out, "--profiles", "--resource-type", "AD_User"), 2);
  free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_classification_and_profiles, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_lua_error_names_the_rule, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_validate_names_the_place, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_list_options, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
