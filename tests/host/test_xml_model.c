/*
 * test_xml_model.c — Identity Manager model elements imported to model
 * YAML (host/xml/xml_model.c), by the jobhost program:
 *
 *   - the realistic configuration of tests/data/xml/realistic (five XML
 *     files: connectors, HR and directory models, role model, job)
 *     imports as a model (--model-only) and a job (--job-only --include),
 *     validates and runs end to end: the C# rules translated to Lua give
 *     the accounts written into the directory, the correlations, the
 *     classification and the profiles; a second run has nothing to do;
 *   - what the YAML holds for the parts that need a decision: links and
 *     their inverses, the association mapping, a resource type without
 *     TypeRule, thresholds, C# kept as a comment;
 *   - every part jobhost has no counterpart for is an error at its
 *     file:line:column, a warning and a comment with --lenient (a rule
 *     left out whole); invalid input is an error either way.
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

static const char *const xml_files[] = {"connectors.xml", "hr.xml", "ad.xml",
                                        "rolemodel.xml", "job.xml"};
static const char *const data_files[] = {"connections.yaml", "hr_people.csv",
                                         "hr_departments.csv",
                                         "directory.ldif"};

#define USERS ",OU=Users,DC=example,DC=com"

typedef struct fixture {
  jh_test_jobhost j;
  char store[512];
  char model[512], job[512], ldif[512];
  char *xml[5];
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof(*f));
  if (f == NULL)
    return -1;
  jh_test_jobhost_open(&f->j, "JH_BUILTIN_PLUGIN_DIR", NULL);
  jh_test_path(f->store, sizeof(f->store), "%s/identity.db", f->j.home);
  jh_test_path(f->model, sizeof(f->model), "%s/model.yaml", f->j.dir);
  jh_test_path(f->job, sizeof(f->job), "%s/job.yaml", f->j.dir);
  jh_test_path(f->ldif, sizeof(f->ldif), "%s/directory.ldif", f->j.dir);
  for (size_t i = 0; i < 5; i++)
    f->xml[i] = jh_test_source("tests/data/xml/realistic/%s", xml_files[i]);
  for (size_t i = 0; i < 4; i++) {
    char *src = jh_test_source("tests/data/xml/realistic/%s", data_files[i]);
    jh_test_copy_file(src, f->j.dir, data_files[i]);
    free(src);
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  jh_test_jobhost_close(&f->j);
  for (size_t i = 0; i < 5; i++)
    free(f->xml[i]);
  free(f);
  return 0;
}

/* jobhost import-xml OPT1 OPT2 OPT3 -o OUT (the five files); its exit
 * status, stderr in *err. */
static int import(fixture *f, const char *out, const char *o1, const char *o2,
                  const char *o3, const char *o4, const char *o5, char **err) {
  return jh_test_jobhost_run(&f->j, NULL, err, "import-xml", "-o", out,
                             f->xml[0], f->xml[1], f->xml[2], f->xml[3],
                             f->xml[4], o1, o2, o3, o4, o5, NULL);
}

static size_t count_lines(const char *text, const char *needle) {
  size_t n = 0;
  for (const char *s = text; (s = strstr(s, needle)) != NULL; s++)
    n++;
  return n;
}

static void import_all(fixture *f) {
  char *err = NULL;
  int rc = import(f, f->model, "--model-only", NULL, NULL, NULL, NULL, &err);
  if (rc != 0)
    fail_msg("import --model-only: exit %d: %s", rc, err);
  /* four inverse navigations, left out with a warning each */
  if (count_lines(err, ": warning: ") != 4 ||
      count_lines(err, "is the inverse of") != 4)
    fail_msg("expected 4 inverse warnings: %s", err);
  if (strstr(err, "error") != NULL)
    fail_msg("import --model-only: %s", err);
  free(err);
  err = NULL;
  rc = import(f, f->job, "--job-only", "--include", "model.yaml", "--include",
              "connections.yaml", &err);
  if (rc != 0)
    fail_msg("import --job-only: exit %d: %s", rc, err);
  free(err);
}

static void assert_has(const char *text, const char *needle) {
  if (strstr(text, needle) == NULL)
    fail_msg("expected to find:\n%s\nin:\n%s", needle, text);
}

static void assert_lacks(const char *text, const char *needle) {
  if (strstr(text, needle) != NULL)
    fail_msg("did not expect:\n%s", needle);
}

/* The LDIF entry of dn (up to the blank line after it), malloc'd; NULL
 * when there is none. */
static char *entry(const char *ldif, const char *dn) {
  char head[256];
  const char *s, *e;
  snprintf(head, sizeof(head), "\ndn: %s\n", dn);
  s = strstr(ldif, head);
  if (s == NULL)
    return NULL;
  e = strstr(s + 1, "\n\n");
  return strndup(s, e != NULL ? (size_t)(e - s) + 1 : strlen(s));
}

static void assert_entry_has(const char *ldif, const char *dn,
                             const char *line) {
  char *e = entry(ldif, dn);
  if (e == NULL)
    fail_msg("no entry %s in:\n%s", dn, ldif);
  assert_has(e, line);
  free(e);
}

/* The YAML made of the model: the decisions doc/xml-import.md
 * describes. */
static void test_model_yaml(void **state) {
  fixture *f = *state;
  char *m;
  import_all(f);
  m = jh_test_read_file(f->model);
  assert_has(m, "  - id: HR_Person\n    display_name: Employee\n"
                "    # DisplayName_L2: Collaborateur\n");
  assert_has(m, "      - id: Manager\n"
                "        # DisplayName_L1: Manager\n"
                "        # TargetColumnIndex: 129\n"
                "        type: link\n"
                "        target: HR_Person\n");
  assert_has(m, "      # left out: Subordinates, the inverse of "
                "HR_Person:Manager\n");
  assert_has(m, "        type: links\n        target: AD_Entry\n");
  assert_has(m, "      - id: Seniority\n"
                "        # DisplayName_L1: Seniority (years)\n"
                "        # TargetColumnIndex: 10\n"
                "        type: integer\n");
  assert_has(m, "association_mappings:\n"
                "  - id: AD_Entry_memberOf\n"
                "    connector: AD\n"
                "    connection_table: AD_Export_memberOf\n"
                "    entity_type: AD_Entry\n"
                "    property: memberOf\n"
                "    column1: dn\n"
                "    column2: memberOf\n"
                "    key1: dn\n"
                "    key2: dn\n"
                "    thresholds:\n"
                "      maximum_link_deleted_lines: 50\n");
  assert_has(m, "    thresholds:\n"
                "      maximum_inserted_lines: 500\n"
                "      maximum_deleted_lines: 10\n"
                "    properties:\n");
  assert_has(m, "    expression: \"lua:person:return ((person.FirstName or "
                "'') .. ' ' .. (ToUpper(person.LastName) or ''))\"\n");
  assert_has(m, "    # Expression: C#:person:return person.FirstName + \" "
                "\" + person.LastName.ToUpper(); (translated)\n");
  assert_has(m, "    binding: Mail\n    expression: ToLower\n");
  /* a TypeRule without criteria: everybody; no TypeRule: nobody */
  assert_has(m, "    # a TypeRule without criteria: every source resource "
                "gets the resource type (no type_rules)\n");
  assert_has(m, "  - id: AD_Entry_Group\n");
  assert_has(m, "    type_rules:\n"
                "      # no TypeRule: the role model assigns it to nobody\n"
                "      - criterion: \"Literal:false\"\n");
  assert_has(m, "    # Policy: Default (jobhost has one policy, Identity "
                "Manager's default one)\n");
  assert_has(m, "      - property: department\n"
                "        binding: Department.Name\n");
  assert_has(m, "    navigation_rules:\n"
                "      - property: memberOf\n"
                "        resource: \"CN=SG_All_Users,OU=Groups,DC=example,"
                "DC=com\"\n");
  /* correlation rules moved into their resource type, the entity type
   * prefix of the bindings dropped */
  assert_has(m, "      - source_binding: EmployeeId\n"
                "        target_binding: employeeID\n"
                "        confidence: 100\n");
  assert_has(m, "        confidence: 80\n");
  assert_has(m, "resource_classification_rules:\n"
                "  - resource_type: AD_Entry_Group\n");
  assert_has(m, "profile_rule_contexts:\n"
                "  - resource_type: AD_Entry_NominativeUser\n"
                "    profile_rules:\n"
                "      - profile: User\n");
  assert_has(m, "        is_denied: true\n");
  assert_lacks(m, "C#:person:return person.IsExternal == true;\"");
  assert_lacks(m, "\njob:");
  free(m);
  m = jh_test_read_file(f->job);
  assert_has(m, "include:\n  - model.yaml\n  - connections.yaml\n");
  assert_has(m, "job:\n  id: Job_Daily_Complete\n");
  assert_lacks(m, "entity_types:\n  - id:");
  free(m);
}

static void assert_class(fixture *f, const char *dn, const char *rt,
                         long long confidence) {
  char sql[512];
  long long got;
  snprintf(sql, sizeof(sql),
           "SELECT count(*) FROM classifications WHERE key = '%s' AND "
           "%s%s%s AND confidence = %lld",
           dn, rt != NULL ? "resource_type = '" : "resource_type IS NULL",
           rt != NULL ? rt : "", rt != NULL ? "'" : "", confidence);
  got = jh_test_query_int(f->store, sql);
  if (got != 1)
    fail_msg("%s: expected classification %s (%lld)", dn,
             rt != NULL ? rt : "orphan", confidence);
}

/* `jobhost provisioning list --profiles --json` as "key profile;" */
static char *profiles(fixture *f) {
  const char *argv[] = {jh_test_env("JH_JOBHOST"),
                        "provisioning",
                        "list",
                        "--home",
                        f->j.home,
                        "--profiles",
                        "--json",
                        NULL};
  char *out = NULL, *err = NULL, *text = NULL;
  size_t len = 0, i;
  json_error_t jerr;
  json_t *rows, *row;
  FILE *m;
  if (jh_test_run(argv, &out, &err) != 0)
    fail_msg("provisioning list --profiles: %s", err);
  rows = json_loads(out, 0, &jerr);
  if (rows == NULL)
    fail_msg("--profiles --json: %s", jerr.text);
  m = open_memstream(&text, &len);
  json_array_foreach(rows, i, row) {
    fprintf(m, "%s %s;", json_string_value(json_object_get(row, "key")),
            json_string_value(json_object_get(row, "profile")));
  }
  fclose(m);
  json_decref(rows);
  free(out);
  free(err);
  return text;
}

static void test_realistic_runs(void **state) {
  fixture *f = *state;
  char *out = NULL, *err = NULL, *ldif, *p;
  json_t *report;
  int rc;

  import_all(f);
  rc = jh_test_jobhost_run(&f->j, &out, &err, "validate", f->job, NULL);
  if (rc != 0)
    fail_msg("validate: exit %d: %s%s", rc, out, err);
  assert_has(out, "job Job_Daily_Complete is valid (14 tasks, 10 levels)");
  free(out);
  free(err);

  /* first run: the four employees without an account get one; the one
   * matched by name only (80) waits for a review */
  report = jh_test_jobhost_report(&f->j, 0, "run", f->job, "--force", NULL);
  jh_test_assert_job_state(report, "Succeeded");
  jh_test_assert_task(report, "All_Expressions", "Succeeded",
                      "6 resources read, 6 with changed computed values");
  jh_test_assert_task(report, "HR_RoleModel", "Succeeded",
                      "4 added, 1 modified, 0 deleted, 1 awaiting approval");
  jh_test_assert_task(report, "AD_Fulfill", "Succeeded",
                      "4 orders applied: 4 executed, 0 errored");
  jh_test_assert_task(report, "AD_Classification", "Succeeded",
                      "2 correlated, 3 classified, 1 orphans");
  json_decref(report);

  ldif = jh_test_read_file(f->ldif);
  /* DisplayName (C# concatenation, ToUpper) in dn (ToFormatedDN), cn;
   * Login (Substring, Simplify); title trimmed or "Staff" (?:, Trim);
   * description (== true, Substring of a date); department through a
   * link; the navigation to the group */
  assert_entry_has(ldif, "CN=Daniel O'NEIL" USERS, "\ncn: Daniel O'NEIL\n");
  assert_entry_has(ldif, "CN=Daniel O'NEIL" USERS,
                   "\nsAMAccountName: doneil\n");
  assert_entry_has(ldif, "CN=Daniel O'NEIL" USERS, "\ntitle: Staff\n");
  assert_entry_has(ldif, "CN=Daniel O'NEIL" USERS, "\ndescription: Employee\n");
  assert_entry_has(ldif, "CN=Daniel O'NEIL" USERS,
                   "\ndepartment: Engineering\n");
  assert_entry_has(ldif, "CN=Daniel O'NEIL" USERS,
                   "\nmemberOf: CN=SG_All_Users,OU=Groups,DC=example,DC=com\n");
  assert_entry_has(ldif, "CN=Emma ROSSI" USERS,
                   "\ndescription: External, since 2024\n");
  assert_entry_has(ldif, "CN=Emma ROSSI" USERS, "\ntitle: Consultant\n");
  assert_entry_has(ldif, "CN=Emma ROSSI" USERS, "\nsAMAccountName: erossi\n");
  /* Bruno Lefèvre: an accented name, written in base64 */
  p = strstr(ldif, "sAMAccountName: blefevre\n");
  assert_non_null(p);
  /* Farid's account, matched by name only, is not changed yet */
  assert_entry_has(ldif, "CN=Farid Haddad" USERS, "\ncn: Farid Haddad\n");
  free(ldif);

  /* second run: the new accounts are read back and verified; nothing to
   * do */
  report = jh_test_jobhost_report(&f->j, 0, "run", f->job, "--force", NULL);
  jh_test_assert_job_state(report, "Succeeded");
  jh_test_assert_task(report, "HR_RoleModel", "Succeeded",
                      "0 added, 0 modified, 0 deleted, 0 awaiting approval, "
                      "4 verified");
  jh_test_assert_task(report, "AD_Provisioning", "Succeeded",
                      "no Pending order");
  jh_test_assert_task(report, "AD_Fulfill", "Skipped", NULL);
  jh_test_assert_task(report, "AD_Classification", "Succeeded",
                      "6 correlated, 3 classified, 1 orphans");
  json_decref(report);

  /* classification: by tree position (100), by description (80, ?. and
   * Contains), the account nobody owns is an orphan */
  assert_class(f, "CN=SG_All_Users,OU=Groups,DC=example,DC=com",
               "AD_Entry_Group", 100);
  assert_class(f, "CN=svc-backup,OU=Service,DC=example,DC=com",
               "AD_Entry_Service", 100);
  assert_class(f, "CN=app-reports,OU=Apps,DC=example,DC=com",
               "AD_Entry_Service", 80);
  assert_class(f, "CN=Old Account" USERS, NULL, 0);

  /* profiles: every owner a User; heads of department Managers, except
   * the external one (a denied rule) */
  p = profiles(f);
  assert_string_equal(p, "E001 Manager;E001 User;E002 User;E003 Manager;"
                         "E003 User;E004 User;E005 User;E006 User;");
  free(p);
}

/* ---- refusals ---- */

static const struct {
  int line, column;
  const char *message;
} unsupported_parts[] = {
    {6, 45, "unsupported element 'Note' in Property"},
    {7, 34, "unsupported Type 'Binary' of property 'Photo'"},
    {8, 47, "unsupported attribute 'Format' on Property"},
    {11, 73, "unsupported element 'Note' in Property"},
    {12, 57, "unsupported attribute 'Format' on Property"},
    {15, 7,
     "C# expression of Expression outside the subset jobhost "
     "translates, at character 18: the method 'Split'"},
    {16, 33, "Policy=\"Other\" on ResourceType: jobhost has only Default"},
    {18, 15, "unsupported attribute 'D0' on TypeRule"},
    {19, 48, "unsupported attribute 'SingleRole' on ScalarRule"},
    {20, 31, "at character 18: '*' is outside the subset"},
    {21, 5, "unsupported element 'QueryRule' in ResourceType"},
    {24, 34, "unsupported attribute 'B0' on ProfileRule"},
    {28, 183, "unsupported element 'Note' in EntityAssociationMapping"},
};

static void expect_lines(const char *err, const char *file, const char *sev,
                         size_t *count) {
  for (size_t i = 0; i < sizeof(unsupported_parts) / sizeof(*unsupported_parts);
       i++) {
    char head[512];
    const char *s;
    snprintf(head, sizeof(head), "%s:%d:%d: %s: ", file,
             unsupported_parts[i].line, unsupported_parts[i].column, sev);
    s = strstr(err, head);
    if (s == NULL || strstr(s, unsupported_parts[i].message) == NULL ||
        strstr(s, unsupported_parts[i].message) > strchr(s, '\n'))
      fail_msg("expected '%s%s' in:\n%s", head, unsupported_parts[i].message,
               err);
    (*count)++;
  }
}

static void test_unsupported(void **state) {
  fixture *f = *state;
  char *xml = jh_test_source("tests/data/xml/model_unsupported.xml");
  char out[600], *err = NULL, *yaml;
  size_t n = 0;
  int rc;

  jh_test_path(out, sizeof(out), "%s/unsupported.yaml", f->j.dir);
  rc = jh_test_jobhost_run(&f->j, NULL, &err, "import-xml", "-o", out, xml,
                           NULL);
  assert_int_equal(rc, 2);
  expect_lines(err, xml, "error", &n);
  assert_int_equal(count_lines(err, ": error: "), n);
  assert_has(err, "nothing written");
  assert_int_equal(jh_test_exists(out), 0);
  free(err);
  err = NULL;

  rc = jh_test_jobhost_run(&f->j, NULL, &err, "import-xml", "--lenient", "-o",
                           out, xml, NULL);
  assert_int_equal(rc, 0);
  n = 0;
  expect_lines(err, xml, "warning", &n);
  assert_int_equal(count_lines(err, ": warning: "), n);
  assert_int_equal(count_lines(err, ": error: "), 0);
  free(err);
  yaml = jh_test_read_file(out);
  /* a rule with a part left out is left out whole: the TypeRule limited
   * by D0 does not become a rule for everybody */
  assert_has(yaml, "    type_rules:\n"
                   "      # left out: D0=\"Sales\"\n"
                   "      # left out: <TypeRule> at line 18\n"
                   "      # no TypeRule left: the role model assigns it to "
                   "nobody\n"
                   "      - criterion: \"Literal:false\"\n");
  assert_has(yaml, "  # C# not translated: Expression=\"C#:p:return "
                   "p.Id.Split(\"-\")[0];\"\n"
                   "  # left out: EntityPropertyExpression P_Name\n");
  assert_has(yaml, "    # left out: SingleRole=\"R1\"\n"
                   "    # left out: <ScalarRule> at line 19\n");
  assert_lacks(yaml, "scalar_rules:");
  assert_has(yaml, "      # left out: <ProfileRule> at line 24\n"
                   "      - profile: User\n");
  assert_has(yaml, "      # left out: property Photo of Type Binary\n");
  free(yaml);

  /* what is left validates */
  rc = jh_test_jobhost_run(&f->j, NULL, &err, "validate", out, NULL);
  if (rc != 0)
    fail_msg("validate the lenient import: %d: %s", rc, err);
  free(err);
  free(xml);
}

static void test_invalid(void **state) {
  static const struct {
    int line, column;
    const char *message;
  } errors[] = {
      {7, 5,
       "ForeignKey property 'Boss' of EntityType 'P' has no "
       "EntityAssociation naming P:Boss"},
      {10, 17,
       "AllowAdd on ResourceType: expected true or false, got "
       "'maybe'"},
      {10, 34,
       "MaximumInsert on ResourceType: expected an integer >= 0, "
       "got '-3'"},
      {11, 3,
       "ResourceCorrelationRule of ResourceType 'Nope': no "
       "ResourceType of that Identifier"},
      {13, 49, "TargetBinding 'Q:Id' names the entity type 'Q', expected P"},
      {14, 7,
       "ResourceTypeIdentificationConfidenceLevel on "
       "ResourceClassificationRule: expected an integer from 0 to "
       "150, got '151'"},
      {15, 3,
       "EntityAssociationMapping 'Missing' has no EntityAssociation "
       "of the same Identifier"},
  };
  fixture *f = *state;
  char *xml = jh_test_source("tests/data/xml/model_invalid.xml");
  for (int lenient = 0; lenient < 2; lenient++) {
    char *err = NULL;
    int rc = jh_test_jobhost_run(&f->j, NULL, &err, "import-xml", xml,
                                 lenient ? "--lenient" : NULL, NULL);
    assert_int_equal(rc, 2);
    for (size_t i = 0; i < sizeof(errors) / sizeof(*errors); i++) {
      char want[700];
      snprintf(want, sizeof(want), "%s:%d:%d: error: %s", xml, errors[i].line,
               errors[i].column, errors[i].message);
      assert_has(err, want);
    }
    assert_int_equal(count_lines(err, ": error: "),
                     sizeof(errors) / sizeof(*errors));
    free(err);
  }
  free(xml);
}

/* --model-only writes no job and takes none of the job's options. */
static void test_model_only_usage(void **state) {
  fixture *f = *state;
  char *err = NULL;
  int rc = jh_test_jobhost_run(&f->j, NULL, &err, "import-xml", "--model-only",
                               "--job-only", f->xml[0], NULL);
  assert_int_equal(rc, 2);
  assert_has(err, "--model-only writes no job");
  free(err);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_model_yaml, setup, teardown),
      cmocka_unit_test_setup_teardown(test_realistic_runs, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unsupported, setup, teardown),
      cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
      cmocka_unit_test_setup_teardown(test_model_only_usage, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
