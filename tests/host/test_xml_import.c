/*
 * test_xml_import.c — Identity Manager XML to pipelines: the fixture of
 * the documentation imports to the job of conf/examples/complete-sync;
 * Steps, levels, overrides, generated ids, quoting and model sections
 * come out as written; every invalid or unsupported input is refused with
 * its file:line:column; unsafe input (DOCTYPE, entities, oversize) is
 * refused before anything is expanded or fetched; the command's exit
 * statuses.
 *
 * Fixtures are under tests/data/xml ($JH_TOP_SRCDIR); task types come
 * from the built-in plugins ($JH_BUILTIN_PLUGIN_DIR), the csv and ldap
 * packages from the xmltest plugin ($JH_XML_PLUGIN_DIR).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "diag.h"
#include "job_load.h"
#include "loader.h"
#include "pipeline.h"
#include "harness_host.h"
#include "xml_import.h"

/* ---- helpers ---- */

/* Path of a fixture under tests/data/xml (malloc'd). */
static char *fixture(const char *name) {
  return jh_test_source("tests/data/xml/%s", name);
}

/* The fixture of the documentation's complete job (a copy of
 * job of "Set up Complete Synchronization", doc/identity-manager.md). */
static char *doc_fixture(void) { return fixture("job-ad-complete.xml"); }

static const jh_diag *find_diag(const jh_diags *d, jh_severity sev,
                                const char *file, int line, int column,
                                const char *needle) {
  for (size_t i = 0; i < d->n; i++) {
    const jh_diag *g = &d->items[i];
    if (g->severity == sev && g->file != NULL && strcmp(g->file, file) == 0 &&
        g->line == line && g->column == column &&
        strstr(g->message, needle) != NULL)
      return g;
  }
  return NULL;
}

static void expect_diag(const jh_diags *d, jh_severity sev, const char *file,
                        int line, int column, const char *needle) {
  if (find_diag(d, sev, file, line, column, needle) == NULL) {
    jh_diags_print(d, stderr);
    fail_msg("no %s at %s:%d:%d with '%s'",
             sev == JH_DIAG_ERROR ? "error" : "warning", file, line, column,
             needle);
  }
}

static size_t nwarnings(const jh_diags *d) { return d->n - d->nerrors; }

/* Import an XML fixture as a pipeline that must load without error. */
static jh_pipeline *load_ok(const jh_registry *reg, const char *path,
                            const jh_xml_options *opt) {
  jh_diags d = JH_DIAGS_INIT;
  jh_pipeline *p = NULL;
  int rc = jh_xml_pipeline_load(path, reg, opt, &p, &d);
  if (rc != 0 || p == NULL) {
    jh_diags_print(&d, stderr);
    fail_msg("%s: expected to load (rc %d)", path, rc);
  }
  jh_diags_clear(&d);
  return p;
}

static void same_str(const char *what, const char *a, const char *b) {
  if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0))
    fail_msg("%s differs: '%s' vs '%s'", what, a ? a : "(none)",
             b ? b : "(none)");
}

static void same_value(const jh_task_def *t, const jh_value *a,
                       const jh_value *b) {
  if (b == NULL)
    fail_msg("task %s: parameter %s only on one side", t->id, a->key);
  assert_int_equal(a->type, b->type);
  same_str(a->key, a->text, b->text);
  assert_int_equal(a->nitems, b->nitems);
  for (size_t k = 0; k < a->nitems; k++)
    same_str(a->key, a->items[k], b->items[k]);
}

/* Equal in meaning: same job, same tasks in the same order with the same
 * options, links and parameters (parameters in any order). */
static void assert_same_pipeline(const jh_pipeline *a, const jh_pipeline *b) {
  same_str("job id", a->job_id, b->job_id);
  same_str("job display_name", a->display_name, b->display_name);
  same_str("job agent", a->agent, b->agent);
  same_str("schedule", a->schedule, b->schedule);
  assert_int_equal(a->max_parallel, b->max_parallel);
  assert_int_equal(a->ordering, b->ordering);
  assert_int_equal(a->ntasks, b->ntasks);
  for (size_t i = 0; i < a->ntasks; i++) {
    const jh_task_def *x = &a->tasks[i], *y = &b->tasks[i];
    same_str("task id", x->id, y->id);
    same_str(x->id, x->type, y->type);
    same_str(x->id, x->display_name, y->display_name);
    same_str(x->id, x->agent, y->agent);
    assert_int_equal(x->level, y->level);
    assert_int_equal(x->continue_on_error, y->continue_on_error);
    assert_int_equal(x->timeout_ms, y->timeout_ms);
    assert_int_equal(x->retries, y->retries);
    assert_int_equal(x->retry_delay_ms, y->retry_delay_ms);
    assert_int_equal(x->ndepends, y->ndepends);
    for (size_t k = 0; k < x->ndepends; k++)
      same_str(x->id, x->depends_on[k], y->depends_on[k]);
    assert_int_equal(x->nparams, y->nparams);
    for (size_t k = 0; k < x->nparams; k++)
      same_value(x, &x->params[k], jh_task_value(y, x->params[k].key));
  }
}

static const char *param(const jh_task_def *t, const char *key) {
  const jh_value *v = jh_task_value(t, key);
  return v != NULL ? v->text : NULL;
}

/* ---- the documentation's job ---- */

/* The documentation's job with the one change the example makes: its
 * role model reads HR_Person, which the example's model declares, where
 * the job names Directory_User and Directory_Guest. Written into folder
 * dir; its path (malloc'd). */
static char *fixture_as_example(const char *dir) {
  static const char from[] =
      "<TaskEntityType EntityType=\"Directory_User\"/>\n"
      "      <TaskEntityType EntityType=\"Directory_Guest\"/>";
  static const char to[] = "<TaskEntityType EntityType=\"HR_Person\"/>";
  char *path = doc_fixture(), *text = jh_test_read_file(path), *at, *out;
  at = strstr(text, from);
  assert_non_null(at);
  if (asprintf(&out, "%.*s%s%s", (int)(at - text), text, to,
               at + strlen(from)) < 0)
    fail_msg("asprintf failed");
  free(path);
  if (asprintf(&path, "%s/job-ad-complete.xml", dir) < 0)
    fail_msg("asprintf failed");
  jh_test_write_file(path, out, 0644);
  free(out);
  free(text);
  return path;
}

/* job-ad-complete.xml is the job of conf/examples/complete-sync: alone,
 * and with the example's model included (import --job-only --include). */
static void test_fixture_matches_example(void **state) {
  char fixture_dir[PATH_MAX];
  char *xml;
  char *yaml = jh_test_source("conf/examples/complete-sync/pipeline.yaml");
  char *model = jh_test_source("conf/examples/complete-sync/model.yaml");
  const char *includes[1] = {model};
  jh_xml_options alone = {.job_only = 1};
  jh_xml_options with_model = {.job_only = 1,
                               .includes = includes,
                               .nincludes = 1};
  char dir[PATH_MAX], out_path[PATH_MAX + 16];
  jh_diags d = JH_DIAGS_INIT;
  jh_pipeline *expected = NULL, *got = NULL;
  jh_xml_output out;
  char *example_dir = jh_test_source("conf/examples/complete-sync");
  const char *allowed[1] = {example_dir};
  jh_pipeline_options model_dir = {allowed, 1};

  jh_test_mkdtemp(fixture_dir, sizeof(fixture_dir));
  xml = fixture_as_example(fixture_dir);
  if (jh_pipeline_load(yaml, *state, &expected, &d) != 0) {
    jh_diags_print(&d, stderr);
    fail_msg("the example pipeline does not load");
  }
  got = load_ok(*state, xml, &alone);
  assert_same_pipeline(got, expected);
  /* the task without Identifier got the documented id */
  assert_string_equal(got->tasks[1].id, "AD_PrepareSynchronization_Complete");
  assert_string_equal(param(&got->tasks[0], "ignore_cookie_file"), "true");
  jh_pipeline_free(got);

  assert_int_equal(jh_xml_import((const char *const *)&xml, 1, *state,
                                 &with_model, &out, &d),
                   0);
  jh_test_mkdtemp(dir, sizeof(dir));
  snprintf(out_path, sizeof(out_path), "%s/pipeline.yaml", dir);
  jh_test_write_file(out_path, out.yaml, 0644);
  got = NULL;
  /* the model lies outside the imported pipeline's folder: allowed by
   * name, as with --allow-include */
  if (jh_pipeline_load_opts(out_path, *state, &model_dir, &got, &d) != 0) {
    jh_diags_print(&d, stderr);
    fail_msg("the imported pipeline with the example's model does not load");
  }
  assert_same_pipeline(got, expected);
  assert_int_equal(got->model->nconnectors, expected->model->nconnectors);
  assert_int_equal(got->model->nconnections, expected->model->nconnections);
  assert_int_equal(got->model->nentity_types, expected->model->nentity_types);
  jh_pipeline_free(got);
  jh_pipeline_free(expected);
  jh_xml_output_clear(&out);
  jh_diags_clear(&d);
  jh_test_rmtree(dir);
  jh_test_rmtree(fixture_dir);
  free(xml);
  free(yaml);
  free(model);
  free(example_dir);
}

/* With its Connector, the fixture has a model of connectors only: the
 * connectors its tasks name are checked against it, the connections (none
 * declared) are left to the model the job is run with. */
static void test_fixture_with_model(void **state) {
  char *xml = doc_fixture();
  jh_diags d = JH_DIAGS_INIT;
  jh_xml_output out;
  jh_pipeline *p = NULL;

  assert_int_equal(
      jh_xml_import((const char *const *)&xml, 1, *state, NULL, &out, &d), 0);
  assert_int_equal(d.n, 0);
  assert_non_null(strstr(out.yaml, "connectors:\n  - id: AD\n"
                                   "    display_name: AD\n"
                                   "    agent: Local\n"));
  assert_non_null(strstr(out.yaml, "# DisplayName_L2: Job de l'AD (mode "
                                   "complet)\n"));
  jh_xml_output_clear(&out);

  assert_int_equal(jh_xml_pipeline_load(xml, *state, NULL, &p, &d), 0);
  assert_int_equal(d.nerrors, 0);
  assert_non_null(p);
  assert_int_equal(p->model->nconnectors, 1);
  assert_int_equal(p->model->nconnections, 0);
  jh_pipeline_free(p);
  jh_diags_clear(&d);
  free(xml);
}

/* ---- shapes of jobs ---- */

static void test_steps_and_levels(void **state) {
  char *xml = fixture("steps_levels.xml");
  jh_pipeline *p = load_ok(*state, xml, NULL);
  static const char *const ids[] = {"HR_Export_Complete", "HR_Prepare_Complete",
                                    "HR_Synchronize",     "HR_Expressions",
                                    "HR_CorrelationKeys", "HR_Classification"};
  static const int levels[] = {0, 1, 2, 3, 3, 4};

  assert_string_equal(p->job_id, "HR_Synchronize_Complete_Scaffolding");
  assert_int_equal(p->max_parallel, 3);
  assert_int_equal(p->ntasks, 6);
  for (size_t i = 0; i < 6; i++) {
    assert_string_equal(p->tasks[i].id, ids[i]);
    assert_int_equal(p->tasks[i].level, levels[i]);
  }
  /* Step keeps the declared task's attributes and children */
  assert_true(p->tasks[0].continue_on_error);
  assert_string_equal(param(&p->tasks[0], "ignore_cookie_file"), "true");
  assert_string_equal(param(&p->tasks[1], "synchronization_mode"), "Complete");
  assert_int_equal(p->tasks[1].ndepends, 1);
  assert_string_equal(p->tasks[1].depends_on[0], "HR_Export_Complete");
  /* the override changes Dirty and the level, keeps the rest */
  assert_string_equal(p->tasks[5].type, "UpdateClassificationTask");
  assert_string_equal(param(&p->tasks[5], "dirty"), "true");
  assert_string_equal(p->tasks[5].display_name, "HR - Classification");
  assert_int_equal(jh_task_value(&p->tasks[5], "entity_types")->nitems, 1);
  /* both TaskEntityType spellings */
  assert_string_equal(jh_task_value(&p->tasks[4], "entity_types")->items[0],
                      "HR_Person");
  jh_pipeline_free(p);
  free(xml);
}

/* Locations in the loaded pipeline are the XML's. */
static void test_locations(void **state) {
  char *xml = fixture("steps_levels.xml");
  jh_pipeline *p = load_ok(*state, xml, NULL);
  const jh_task_def *sync = &p->tasks[2];

  assert_string_equal(p->path, xml);
  assert_string_equal(p->files[0], xml);
  assert_string_equal(p->job_loc.file, xml);
  assert_int_equal(p->job_loc.line, 16);
  assert_int_equal(p->job_loc.column, 3);
  /* a Step's task is where the Step is */
  assert_string_equal(sync->loc.file, xml);
  assert_int_equal(sync->loc.line, 19);
  assert_int_equal(sync->loc.column, 5);
  /* its parent is where the declared task's TaskDependsOnTask says it */
  assert_int_equal(sync->depends_loc[0].line, 11);
  assert_int_equal(sync->depends_loc[0].column, 24);
  /* a parameter is at its attribute */
  assert_int_equal(jh_task_value(sync, "connector")->loc.line, 10);
  assert_int_equal(jh_task_value(sync, "connector")->loc.column, 48);
  jh_pipeline_free(p);
  free(xml);
}

static void test_generated_ids(void **state) {
  char *xml = fixture("ids.xml");
  jh_pipeline *p = load_ok(*state, xml, NULL);
  static const char *const ids[] = {"AD_PrepareSynchronization_Complete",
                                    "AD_PrepareSynchronization_Complete_2",
                                    "AD_Synchronize_2", "AD_Synchronize",
                                    "Job_Ids_SetRecentlyModifiedFlag"};

  assert_int_equal(p->ntasks, 5);
  for (size_t i = 0; i < 5; i++)
    assert_string_equal(p->tasks[i].id, ids[i]);
  jh_pipeline_free(p);
  free(xml);
}

/* Text YAML must quote, escape or cannot hold comes back exact. */
static void test_quoting(void **state) {
  char *xml = fixture("quoting.xml");
  jh_pipeline *p = load_ok(*state, xml, NULL);

  assert_string_equal(p->display_name, "He said \"hi\" \\ back: #1");
  assert_string_equal(p->tasks[0].display_name, "no");
  assert_string_equal(p->tasks[1].display_name,
                      "- a: b, [c] {d} & *e !f %g @h `i");
  assert_string_equal(p->tasks[2].display_name,
                      " \xc3\xa9t\xc3\xa9\t\xc2\x85\xe2\x80\xa9\xef\xbb\xbf"
                      "\x7f ");
  assert_string_equal(p->tasks[3].display_name, "");
  jh_pipeline_free(p);
  free(xml);
}

/* Steps may name tasks declared in another file; --job picks a job. */
static void test_several_files(void **state) {
  char *files[2] = {fixture("decls.xml"), fixture("multi_job.xml")};
  char dir[PATH_MAX], yaml[PATH_MAX + 16];
  jh_xml_options pick = {.job = "J2"};
  jh_diags d = JH_DIAGS_INIT;
  jh_xml_output out;
  jh_pipeline *p = NULL;
  char *two = fixture("two_jobs.xml");

  assert_int_equal(
      jh_xml_import((const char *const *)files, 2, *state, NULL, &out, &d), 0);
  assert_int_equal(d.n, 0);
  jh_test_mkdtemp(dir, sizeof(dir));
  snprintf(yaml, sizeof(yaml), "%s/multi.yaml", dir);
  jh_test_write_file(yaml, out.yaml, 0644);
  assert_int_equal(jh_pipeline_load(yaml, *state, &p, &d), 0);
  assert_int_equal(p->ntasks, 3);
  assert_string_equal(p->tasks[0].id, "Shared_Export");
  assert_string_equal(p->tasks[1].id, "HR_Sync");
  assert_string_equal(param(&p->tasks[1], "do_not_delete_changes"), "true");
  assert_string_equal(p->tasks[2].id, "Shared_MarkDirty");
  assert_int_equal(p->tasks[2].level, -1);
  jh_pipeline_free(p);
  jh_xml_output_clear(&out);

  assert_int_equal(
      jh_xml_import((const char *const *)&two, 1, *state, &pick, &out, &d), 0);
  assert_non_null(strstr(out.yaml, "  id: J2\n"));
  assert_non_null(strstr(out.yaml, "# left out: <Job Identifier=\"J1\">"));
  jh_xml_output_clear(&out);
  pick.job = "J3";
  assert_int_equal(jh_xml_import((const char *const *)&two, 1, *state, &pick,
                                 &out, &d),
                   JOBHOST_ECONFIG);
  assert_null(out.yaml);
  assert_non_null(
      strstr(d.items[0].message, "no Job with Identifier 'J3'; jobs: J1, J2"));
  jh_xml_output_clear(&out);
  jh_diags_clear(&d);
  jh_test_rmtree(dir);
  free(files[0]);
  free(files[1]);
  free(two);
}

/* import -> YAML -> load gives what loading the XML gives. */
static void test_round_trip(void **state) {
  char *xml = fixture("steps_levels.xml");
  char dir[PATH_MAX], yaml[PATH_MAX + 16];
  jh_diags d = JH_DIAGS_INIT;
  jh_xml_output out;
  jh_pipeline *direct = load_ok(*state, xml, NULL), *again = NULL;

  assert_int_equal(
      jh_xml_import((const char *const *)&xml, 1, *state, NULL, &out, &d), 0);
  jh_test_mkdtemp(dir, sizeof(dir));
  snprintf(yaml, sizeof(yaml), "%s/imported.yaml", dir);
  jh_test_write_file(yaml, out.yaml, 0644);
  assert_int_equal(jh_pipeline_load(yaml, *state, &again, &d), 0);
  assert_int_equal(d.n, 0);
  assert_same_pipeline(direct, again);
  jh_pipeline_free(direct);
  jh_pipeline_free(again);
  jh_xml_output_clear(&out);
  jh_test_rmtree(dir);
  free(xml);
}

/* The job properties of Identity Manager (IsIncremental, which its own
 * scaffolding writes, among them) become pipeline keys. */
static void test_job_properties(void **state) {
  char *xml = fixture("job_properties.xml");
  jh_diags d = JH_DIAGS_INIT;
  jh_xml_output out;
  jh_pipeline *p = load_ok(*state, xml, NULL);

  assert_string_equal(p->schedule, "*/10 * * * *");
  assert_int_equal(p->cron_local, 1);
  assert_string_equal(jh_job_log_levels[p->log_level], "debug");
  assert_int_equal(p->is_incremental, 1);
  assert_int_equal(p->is_connector_job, 1);
  assert_int_equal(p->is_initialization_job, 0);
  assert_int_equal(p->user_start_denied, 1);
  assert_int_equal(p->catch_up, 0);
  jh_pipeline_free(p);
  assert_int_equal(
      jh_xml_import((const char *const *)&xml, 1, *state, NULL, &out, &d), 0);
  assert_int_equal(d.nerrors, 0);
  assert_non_null(strstr(out.yaml, "  cron_time_zone: local\n"));
  assert_non_null(strstr(out.yaml, "  log_level: debug\n"));
  assert_non_null(strstr(out.yaml, "  is_incremental: true\n"));
  assert_non_null(strstr(out.yaml, "  is_connector_job: true\n"));
  assert_non_null(strstr(out.yaml, "  is_initialization_job: false\n"));
  assert_non_null(strstr(out.yaml, "  user_start_denied: true\n"));
  jh_xml_output_clear(&out);
  jh_diags_clear(&d);
  free(xml);
}

/* ---- connectors and connections ---- */

static void test_model_sections(void **state) {
  jh_registry *reg = jh_test_registry("JH_XML_PLUGIN_DIR",
                                      "JH_BUILTIN_PLUGIN_DIR", NULL);
  char *xml = fixture("model.xml");
  char *dir = realpath(xml, NULL);
  jh_pipeline *p = load_ok(reg, xml, NULL);
  const jh_model *m = p->model;
  static const char *const pkgs[] = {"csv", "ldap", "ldap"};

  (void)state;
  *strrchr(dir, '/') = '\0';
  assert_int_equal(m->nconnectors, 2);
  assert_string_equal(m->connectors[0].id, "HR");
  assert_string_equal(m->connectors[0].display_name, "HR");
  assert_string_equal(m->connectors[0].agent, "Local");
  assert_false(m->connectors[0].deactivated);
  assert_int_equal(m->connectors[0].thresholds.v[JH_TH_MAX_DELETED], 50);
  assert_int_equal(m->connectors[0].thresholds.v[JH_TH_PCT_DELETED], 10);
  assert_int_equal(m->connectors[0].thresholds.v[JH_TH_LINK_MAX_INSERTED],
                   2000);
  assert_int_equal(m->connectors[0].thresholds.v[JH_TH_MAX_INSERTED],
                   JH_THRESHOLD_UNSET);
  assert_string_equal(m->connectors[1].display_name, "Active Directory");
  /* CompleteJob and IncrementalJob by name in any case or by number;
   * DeactivationExportFulfill by number (what the scaffolds read) */
  assert_int_equal(m->connectors[0].complete_job, JH_JOB_USED);
  assert_int_equal(m->connectors[1].complete_job, JH_JOB_ONLY_SYNCHRONIZATION);
  assert_int_equal(m->connectors[1].incremental_job, JH_JOB_NOT_USED);
  assert_int_equal(m->connections[1].deactivation, JH_DEACTIVATE_NONE);
  assert_int_equal(m->connections[2].deactivation, JH_DEACTIVATE_FULFILL);
  assert_int_equal(m->nconnections, 3);
  for (size_t i = 0; i < 3; i++) {
    assert_string_equal(m->connections[i].package, pkgs[i]);
    assert_string_equal(m->connections[i].base_dir, dir);
    assert_string_equal(m->connections[i].loc.file, xml);
    assert_int_equal(m->connections[i].loc.line, 6 + (int)i);
  }
  assert_string_equal(m->connections[0].connector, "HR");
  assert_string_equal(m->connections[0].display_name, "HR export");
  assert_int_equal(m->connections[0].package_loc.column, 80);
  jh_pipeline_free(p);
  jh_registry_free(reg);
  free(xml);
  free(dir);
}

static void test_package_names(void **state) {
  (void)state;
  assert_string_equal(jh_xml_package("Usercube.CSV@0000001"), "csv");
  assert_string_equal(jh_xml_package("Usercube.CSV.Complete@0000001"), "csv");
  assert_string_equal(jh_xml_package("usercube.csv"), "csv");
  assert_string_equal(jh_xml_package("Usercube.LDAP@0000001"), "ldap");
  assert_string_equal(jh_xml_package("Usercube.AD@0000002"), "ldap");
  assert_null(jh_xml_package("Usercube.SQL@0000001"));
  assert_null(jh_xml_package("Usercube.CSVX@0000001"));
  assert_null(jh_xml_package(""));
}

static void test_snake_case(void **state) {
  static const char *const cases[][2] = {
      {"IgnoreCookieFile", "ignore_cookie_file"},
      {"OpenIdClient", "open_id_client"},
      {"SynchronizationMode", "synchronization_mode"},
      {"BlockAllResourceTypeProvisioning",
       "block_all_resource_type_provisioning"},
      {"MaxLinkPercentageDeletedLines", "max_link_percentage_deleted_lines"},
      {"LDIFPath", "ldif_path"},
      {"Dirty", "dirty"}};
  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *s = jh_xml_snake(cases[i][0]);
    assert_string_equal(s, cases[i][1]);
    free(s);
  }
}

/* ---- refused input ---- */

struct bad_case {
  const char *file;
  int line, column; /* 0, 0: the file itself */
  const char *needle;
  size_t nerrors;
};

static const struct bad_case bad_cases[] = {
    {"malformed.xml", 5, 9,
     "malformed XML: Opening and ending tag mismatch: "
     "ExportTask line 4 and Job",
     3},
    {"wrong_root.xml", 2, 1,
     "expected the root element ConfigurationFile in "
     "namespace urn:schemas-usercube-com:configuration (an Identity Manager "
     "configuration file), got <Configuration>",
     1},
    {"no_namespace.xml", 2, 1, "got <ConfigurationFile> in no namespace", 1},
    {"empty.xml", 1, 1,
     "file is empty: expected an Identity Manager "
     "configuration file",
     1},
    {"text.xml", 1, 1, "malformed XML: Start tag expected, '<' not found", 1},
    {"no_job.xml", 2, 1, "no Job element: expected a <Job Identifier=\"...\">",
     1},
    {"two_jobs.xml", 6, 3,
     "2 jobs found (J1, J2): a pipeline holds one job; "
     "choose one with 'jobhost import-xml --job ID'",
     1},
    {"unknown_element.xml", 3, 3,
     "unsupported element 'Dimension' in "
     "ConfigurationFile; jobhost reads Connector, Connection, Job, task "
     "elements (...Task) and the model elements (EntityType, ...) (--lenient",
     1},
    {"job_attr.xml", 3, 56,
     "unsupported attribute 'IsDeleted' on Job; "
     "Job takes Identifier, DisplayName_L1..L16, Agent, CronTabExpression, "
     "CronTimeZone, LogLevel, IsIncremental, IsConnectorJob, "
     "IsInitializationJob, UserStartDenied, MaxTaskBatchSize",
     1},
    /* an attribute on the third line of a start tag */
    {"task_attr.xml", 6, 32,
     "unsupported attribute 'IgnoreCookie' on "
     "ExportTask; ExportTask takes Identifier, DisplayName_L1..L16, Agent, "
     "Level, ContinueOnError, Connection, Connector, IgnoreCookieFile, "
     "InitMode, OpenIdClient",
     1},
    {"task_type.xml", 5, 5,
     "unsupported task type "
     "'SendRoleModelNotificationsTask': no loaded plugin provides it; task "
     "types: ComputeCorrelationKeysTask, ",
     1},
    {"foreign_attr.xml", 3, 51,
     "unsupported attribute 'x:Note' on Job: "
     "attributes in another namespace are not read",
     1},
    {"task_child.xml", 5, 7,
     "unsupported element 'TaskEntityType' in "
     "ExportTask; ExportTask contains TaskDependsOnTask",
     1},
    {"package.xml", 4, 50,
     "unsupported package 'Usercube.SQL@0000001' on "
     "Connection 'HR_Sql'; jobhost has csv (Usercube.CSV, "
     "Usercube.CSV.Complete) and ldap (Usercube.LDAP, Usercube.AD)",
     1},
    {"bad_bool.xml", 4, 47,
     "expected a boolean (1, 0, true or false) for "
     "ContinueOnError, got 'yes'",
     1},
    {"bad_param_bool.xml", 4, 47,
     "expected a boolean (1, 0, true or false) "
     "for IgnoreCookieFile, got '2'",
     1},
    {"bad_level.xml", 4, 49,
     "expected an integer >= -1 for Level (-1: no "
     "level), got 'first'",
     1},
    {"bad_enum.xml", 4, 63,
     "expected one of Initial, Complete, Incremental "
     "for SynchronizationMode, got 'Full'",
     1},
    {"bad_int.xml", 4, 46, "expected an integer for BatchSize, got 'many'", 1},
    {"bad_batch.xml", 3, 37,
     "expected an integer >= 1 for MaxTaskBatchSize, "
     "got '0'",
     1},
    {"step_unknown.xml", 5, 5,
     "Step names task 'MarkDirt', which no file "
     "declares at the top level of ConfigurationFile",
     1},
    {"override_unknown.xml", 5, 5,
     "ComputeRoleModelTaskOverride names "
     "'Classify', which is a UpdateClassificationTask, not a "
     "ComputeRoleModelTask",
     1},
    {"duplicate_step.xml", 6, 5,
     "task 'MarkDirty' is in job 'J' twice "
     "(first at ",
     1},
    {"entity_type_both.xml", 5, 7,
     "TaskEntityType has both EntityType and "
     "Identifier: write one",
     1},
    /* the pipeline loader's checks, moved onto the XML */
    {"bad_schedule.xml", 3, 37,
     "invalid cron expression for 'schedule': minute: expected a number", 1},
    {"unknown_parent.xml", 6, 26,
     "unknown task 'Exprot' in depends_on (did "
     "you mean 'Export'?)",
     1},
    {"missing_param.xml", 4, 5,
     "missing required parameter 'connection' in "
     "task 'E'",
     1},
    {"agent_mismatch.xml", 4, 5,
     "task 'E' runs on agent 'Remote' but job "
     "'J' runs on agent 'Local'",
     1},
    /* every problem of a file, in document order */
    {"many_errors.xml", 3, 37,
     "expected 0 to 6 or Trace, Debug, Information, Warning, Error, "
     "Critical, None for 'LogLevel', got '9'",
     5},
    {"bad_cron_zone.xml", 3, 37,
     "expected 0, UTC, 1 or ServerTime for 'CronTimeZone', got 'Paris'", 1},
    {"many_errors.xml", 4, 47, "for ContinueOnError, got 'maybe'", 5},
    {"many_errors.xml", 5, 5, "Step names task 'Nowhere'", 5},
    {"many_errors.xml", 6, 52, "for Orphans, got 'sometimes'", 5},
    {"many_errors.xml", 7, 26, "unknown task 'Z' in depends_on", 5},
    /* a connector refused by the identifier rule, yet named elsewhere */
    {"bad_connector_id.xml", 5, 3, "expected an identifier for 'id'", 3},
    /* safety: no DOCTYPE, hence no entity and no DTD is read */
    {"xxe.xml", 2, 1,
     "document type declarations (<!DOCTYPE ...>) are "
     "refused: no DTD, external entity or entity expansion is read",
     1},
    {"billion_laughs.xml", 2, 1,
     "document type declarations (<!DOCTYPE "
     "...>) are refused",
     1},
    {"external_dtd.xml", 2, 1,
     "document type declarations (<!DOCTYPE ...>) "
     "are refused",
     1},
};

static void test_bad_files(void **state) {
  for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
    const struct bad_case *bc = &bad_cases[i];
    char *path = fixture(bc->file);
    jh_diags d = JH_DIAGS_INIT;
    jh_pipeline *p = (jh_pipeline *)1;
    int rc = jh_xml_pipeline_load(path, *state, NULL, &p, &d);

    if (rc != JOBHOST_ECONFIG || p != NULL || d.nerrors != bc->nerrors ||
        find_diag(&d, JH_DIAG_ERROR, path, bc->line, bc->column, bc->needle) ==
            NULL) {
      jh_diags_print(&d, stderr);
      fail_msg("%s: expected %zu error(s) with %s:%d:%d '%s' (rc %d)", bc->file,
               bc->nerrors, path, bc->line, bc->column, bc->needle, rc);
    }
    /* errors come in document order */
    for (size_t k = 1; k < d.n; k++)
      assert_true(d.items[k - 1].line <= d.items[k].line);
    jh_diags_clear(&d);
    free(path);
  }
}

/* A value read from the file is quoted in a message by its first
 * characters only, never whole. */
static void test_long_value_cut(void **state) {
  char *path = fixture("long_value.xml");
  jh_diags d = JH_DIAGS_INIT;
  jh_pipeline *p = NULL;

  assert_int_equal(jh_xml_pipeline_load(path, *state, NULL, &p, &d),
                   JOBHOST_ECONFIG);
  assert_null(p);
  assert_int_equal(d.nerrors, 1);
  assert_non_null(strstr(d.items[0].message, "for ContinueOnError, got"));
  assert_null(strstr(d.items[0].message, "19000:0:99999"));
  assert_non_null(strstr(d.items[0].message, "..."));
  jh_diags_clear(&d);
  free(path);
}

/* Nothing of an external entity reaches a message or the output. */
static void test_no_entity_content(void **state) {
  char *xml = fixture("xxe.xml");
  jh_diags d = JH_DIAGS_INIT;
  jh_xml_output out;

  assert_int_equal(jh_xml_import((const char *const *)&xml, 1, *state, NULL,
                                 &out, &d),
                   JOBHOST_ECONFIG);
  assert_null(out.yaml);
  assert_int_equal(d.n, 1);
  assert_null(strstr(d.items[0].message, "root:"));
  jh_xml_output_clear(&out);
  jh_diags_clear(&d);
  free(xml);
}

static void test_oversize_and_unreadable(void **state) {
  char dir[PATH_MAX], big[PATH_MAX + 16], missing[PATH_MAX + 16];
  const char *path;
  jh_diags d = JH_DIAGS_INIT;
  jh_xml_output out;
  int fd;

  jh_test_mkdtemp(dir, sizeof(dir));
  snprintf(big, sizeof(big), "%s/big.xml", dir);
  fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "<?xml version=\"1.0\"?>\n", 22), 22);
  assert_int_equal(ftruncate(fd, JH_XML_MAX_BYTES + 1), 0);
  close(fd);
  path = big;
  assert_int_equal(jh_xml_import(&path, 1, *state, NULL, &out, &d),
                   JOBHOST_ECONFIG);
  expect_diag(&d, JH_DIAG_ERROR, big, 0, 0,
              "XML file larger than 16777216 "
              "bytes (16 MiB), refused");
  jh_diags_clear(&d);
  jh_xml_output_clear(&out);

  path = dir;
  assert_int_equal(jh_xml_import(&path, 1, *state, NULL, &out, &d),
                   JOBHOST_ECONFIG);
  expect_diag(&d, JH_DIAG_ERROR, dir, 0, 0, strerror(EISDIR));
  jh_diags_clear(&d);
  jh_xml_output_clear(&out);

  snprintf(missing, sizeof(missing), "%s/missing.xml", dir);
  path = missing;
  assert_int_equal(jh_xml_import(&path, 1, *state, NULL, &out, &d),
                   JOBHOST_ECONFIG);
  expect_diag(&d, JH_DIAG_ERROR, missing, 0, 0, strerror(ENOENT));
  jh_diags_clear(&d);
  jh_xml_output_clear(&out);
  jh_test_rmtree(dir);
}

/* ---- unsupported parts with --lenient ---- */

static void test_lenient(void **state) {
  char *xml = fixture("lenient.xml");
  jh_xml_options lenient = {.lenient = 1};
  jh_diags d = JH_DIAGS_INIT;
  jh_xml_output out;
  jh_pipeline *p = NULL;

  /* strict: four errors; the link to the left-out task is a warning */
  assert_int_equal(jh_xml_pipeline_load(xml, *state, NULL, &p, &d),
                   JOBHOST_ECONFIG);
  assert_int_equal(d.nerrors, 4);
  assert_int_equal(nwarnings(&d), 1);
  jh_diags_clear(&d);

  assert_int_equal(jh_xml_import((const char *const *)&xml, 1, *state, &lenient,
                                 &out, &d),
                   0);
  assert_int_equal(d.nerrors, 0);
  assert_int_equal(nwarnings(&d), 5);
  expect_diag(&d, JH_DIAG_WARNING, xml, 3, 3,
              "unsupported element "
              "'Dimension' in ConfigurationFile; jobhost reads Connector, "
              "Connection, Job, task elements (...Task) and the model "
              "elements (EntityType, ...); left out (kept as a comment)");
  expect_diag(&d, JH_DIAG_WARNING, xml, 5, 47, "unsupported attribute 'Foo'");
  expect_diag(&d, JH_DIAG_WARNING, xml, 11, 26,
              "link from 'S' to 'N' left "
              "out: task 'N' was left out");
  assert_non_null(strstr(out.yaml, "# left out: <Dimension "
                                   "Identifier=\"AD_Entry\"> at "));
  assert_non_null(strstr(out.yaml, "  # left out: Weight=\"2\"\n"));
  assert_non_null(strstr(out.yaml, "# left out: Foo=\"bar\"\n"));
  assert_non_null(strstr(out.yaml, "# left out: "
                                   "<SendRoleModelNotificationsTask "
                                   "Identifier=\"N\">"));
  jh_xml_output_clear(&out);
  jh_diags_clear(&d);

  assert_int_equal(jh_xml_pipeline_load(xml, *state, &lenient, &p, &d), 0);
  assert_int_equal(p->ntasks, 2);
  assert_int_equal(p->tasks[1].ndepends, 1);
  assert_string_equal(p->tasks[1].depends_on[0], "E");
  jh_pipeline_free(p);
  jh_diags_clear(&d);
  free(xml);
}

/* Stray text and attributes anywhere are reported, and kept as
 * comments with --lenient. */
static void test_stray_parts(void **state) {
  char *xml = fixture("stray.xml");
  jh_xml_options lenient = {.lenient = 1};
  jh_diags d = JH_DIAGS_INIT;
  jh_xml_output out;

  assert_int_equal(jh_xml_import((const char *const *)&xml, 1, *state, NULL,
                                 &out, &d),
                   JOBHOST_ECONFIG);
  assert_int_equal(d.nerrors, 4);
  expect_diag(&d, JH_DIAG_ERROR, xml, 2, 67,
              "unsupported attribute "
              "'Version' on ConfigurationFile: it takes none");
  expect_diag(&d, JH_DIAG_ERROR, xml, 2, 1,
              "unsupported text inside "
              "ConfigurationFile");
  expect_diag(&d, JH_DIAG_ERROR, xml, 3, 3, "unsupported text inside Job");
  expect_diag(&d, JH_DIAG_ERROR, xml, 5, 38,
              "unsupported attribute 'Other' "
              "on TaskEntityType; TaskEntityType takes EntityType (or "
              "Identifier)");
  jh_xml_output_clear(&out);
  jh_diags_clear(&d);

  assert_int_equal(jh_xml_import((const char *const *)&xml, 1, *state, &lenient,
                                 &out, &d),
                   0);
  assert_int_equal(nwarnings(&d), 4);
  assert_non_null(strstr(out.yaml, "# left out: Version=\"1\"\n"));
  assert_non_null(strstr(out.yaml, "# left out: the text inside Job\n"));
  assert_non_null(strstr(out.yaml, "# left out: Other=\"x\"\n"));
  jh_xml_output_clear(&out);
  jh_diags_clear(&d);
  free(xml);
}

/* ---- commands ---- */

static void test_job_load_reads_xml(void **state) {
  const char *dir = jh_test_env("JH_BUILTIN_PLUGIN_DIR");
  char *xml = fixture("steps_levels.xml"), *cycle = fixture("cycle.xml");
  char tmp[PATH_MAX], conf[PATH_MAX + 16];
  jh_diags d = JH_DIAGS_INIT;
  jh_job job;

  (void)state;
  assert_int_equal(jh_job_load(xml, &dir, 1, &job, &d), 0);
  assert_int_equal(job.graph->nlevels, 5);
  jh_job_clear(&job);

  /* the graph's checks point at the XML too */
  assert_int_equal(jh_job_load(cycle, &dir, 1, &job, &d), JOBHOST_ECONFIG);
  expect_diag(&d, JH_DIAG_ERROR, cycle, 4, 5,
              "dependency cycle: A -> B -> "
              "A");
  jh_diags_clear(&d);

  /* XML is recognised by its first character too */
  jh_test_mkdtemp(tmp, sizeof(tmp));
  snprintf(conf, sizeof(conf), "%s/job.conf", tmp);
  jh_test_copy_file(xml, tmp, "job.conf");
  assert_int_equal(jh_job_load(conf, &dir, 1, &job, &d), 0);
  assert_string_equal(job.pipeline->path, conf);
  jh_job_clear(&job);
  jh_test_rmtree(tmp);
  free(xml);
  free(cycle);
}

/* Names of jobhost's temporary files in folder dir. */
static size_t jobhost_files_in(const char *dir) {
  size_t n = 0;
  DIR *d = opendir(dir);
  struct dirent *e;
  assert_non_null(d);
  while ((e = readdir(d)) != NULL)
    if (strncmp(e->d_name, "jobhost", 7) == 0) {
      print_error("left in the temporary folder: %s\n", e->d_name);
      n++;
    }
  closedir(d);
  return n;
}

/* An XML job is checked from memory: nothing is written to the temporary
 * folder, so nothing can be left there when the host dies, whenever that
 * is; a temporary folder that cannot be written to does not matter. */
static void test_no_temporary_file(void **state) {
  const char *old_tmpdir = getenv("TMPDIR");
  char *saved = old_tmpdir ? strdup(old_tmpdir) : NULL;
  char *xml = doc_fixture();
  char dir[PATH_MAX], tmpdir[PATH_MAX + 16], none[PATH_MAX + 16];
  char sleep_xml[PATH_MAX + 16], home[PATH_MAX + 16];
  jh_diags d = JH_DIAGS_INIT;
  jh_pipeline *p = NULL;
  pid_t pid;
  int status;

  jh_test_mkdtemp(dir, sizeof(dir));
  snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", dir);
  snprintf(none, sizeof(none), "%s/no/such/folder", dir);
  snprintf(sleep_xml, sizeof(sleep_xml), "%s/sleep.xml", dir);
  snprintf(home, sizeof(home), "%s/home", dir);
  assert_int_equal(mkdir(tmpdir, 0700), 0);
  jh_test_write_file(sleep_xml,
                     "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                     "<ConfigurationFile xmlns=\"" JH_XML_NAMESPACE "\">\n"
                     "  <Job Identifier=\"Job_Sleep\">\n"
                     "    <TestSleepTask Identifier=\"S\" Ms=\"2000\"/>\n"
                     "  </Job>\n</ConfigurationFile>\n",
                     0644);

  /* no temporary folder at all */
  setenv("TMPDIR", none, 1);
  if (jh_xml_pipeline_load(xml, *state, NULL, &p, &d) != 0) {
    jh_diags_print(&d, stderr);
    fail_msg("an XML job needs a temporary folder to load");
  }
  jh_pipeline_free(p);
  jh_diags_clear(&d);

  /* a run killed while its task runs */
  setenv("TMPDIR", tmpdir, 1);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    const char *argv[] = {jh_test_env("JH_JOBHOST"),
                          "run",
                          sleep_xml,
                          "--home",
                          home,
                          "--plugin-dir",
                          jh_test_env("JH_BUILTIN_PLUGIN_DIR"),
                          "--plugin-dir",
                          jh_test_env("JH_ENGINE_PLUGIN_DIR"),
                          NULL};
    int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  usleep(700 * 1000);
  kill(pid, SIGKILL);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_int_equal(jobhost_files_in(tmpdir), 0);

  if (saved != NULL)
    setenv("TMPDIR", saved, 1);
  else
    unsetenv("TMPDIR");
  free(saved);
  jh_test_rmtree(dir);
  free(xml);
}

/* A connector refused by the identifier rule and named by a task: validate
 * and run say where, exit 2, and do not crash. */
static void test_cli_refused_connector(void **state) {
  const char *plugins = jh_test_env("JH_BUILTIN_PLUGIN_DIR");
  char *xml = fixture("bad_connector_id.xml"), *out = NULL, *err = NULL;
  char dir[PATH_MAX], want[PATH_MAX + 64];
  (void)state;
  jh_test_mkdtemp(dir, sizeof(dir));
  snprintf(want, sizeof(want), "%s:5:3: error: expected an identifier", xml);
  assert_int_equal(jh_test_jobhost_bare(&out, &err, "validate", "--plugin-dir",
                                        plugins, xml, NULL),
                   2);
  assert_non_null(strstr(err, want));
  free(out);
  free(err);
  assert_int_equal(jh_test_jobhost_bare(&out, &err, "run", "--plugin-dir",
                                        plugins, "--home", dir, xml, NULL),
                   2);
  assert_non_null(strstr(err, want));
  free(out);
  free(err);
  jh_test_rmtree(dir);
  free(xml);
}

static void test_cli(void **state) {
  const char *plugins = jh_test_env("JH_BUILTIN_PLUGIN_DIR");
  char *lenient = fixture("lenient.xml"), *steps = fixture("steps_levels.xml");
  char *laughs = fixture("billion_laughs.xml");
  char dir[PATH_MAX], yaml[PATH_MAX + 16], nodir[PATH_MAX + 32];
  char *out = NULL, *err = NULL, *text = NULL;
  struct stat st;

  (void)state;
  jh_test_mkdtemp(dir, sizeof(dir));
  snprintf(yaml, sizeof(yaml), "%s/out.yaml", dir);
  snprintf(nodir, sizeof(nodir), "%s/no/such/out.yaml", dir);

  /* unsupported input: 2, nothing written anywhere */
  assert_int_equal(jh_test_jobhost_bare(&out, &err, "import-xml",
                                        "--plugin-dir", plugins, lenient, "-o",
                                        yaml, NULL),
                   2);
  assert_string_equal(out, "");
  assert_non_null(strstr(err, "lenient.xml:5:47: error: unsupported "
                              "attribute 'Foo' on ExportTask"));
  assert_non_null(strstr(err, "nothing written"));
  assert_int_equal(stat(yaml, &st), -1);
  free(out);
  free(err);

  /* --lenient: 0, the file is written whole, and validates */
  assert_int_equal(jh_test_jobhost_bare(&out, &err, "import-xml", "--lenient",
                                        "--plugin-dir", plugins, lenient, "-o",
                                        yaml, NULL),
                   0);
  assert_string_equal(out, "");
  assert_non_null(strstr(err, "warning: unsupported attribute 'Foo'"));
  free(out);
  free(err);
  assert_int_equal(jh_test_jobhost_bare(&out, &err, "validate", "--plugin-dir",
                                        plugins, yaml, NULL),
                   0);
  free(out);
  free(err);

  /* stdout gets the same text as -o */
  assert_int_equal(jh_test_jobhost_bare(&out, &err, "import-xml", "--lenient",
                                        "--plugin-dir", plugins, lenient, NULL),
                   0);
  assert_int_equal(jh_test_jobhost_bare(&text, NULL, "import-xml", "--lenient",
                                        "--plugin-dir", plugins, lenient, "-o",
                                        yaml, NULL),
                   0);
  free(text);
  {
    FILE *f = fopen(yaml, "r");
    char buf[8192];
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    assert_non_null(f);
    fclose(f);
    buf[n] = '\0';
    assert_string_equal(buf, out);
  }
  free(out);
  free(err);

  /* an output that cannot be written: 1 */
  assert_int_equal(jh_test_jobhost_bare(&out, &err, "import-xml",
                                        "--plugin-dir", plugins, steps, "-o",
                                        nodir, NULL),
                   1);
  assert_non_null(strstr(err, "cannot write"));
  free(out);
  free(err);

  /* bad usage: 2 */
  assert_int_equal(jh_test_jobhost_bare(&out, &err, "import-xml", NULL), 2);
  assert_non_null(strstr(err, "missing FILE"));
  free(out);
  free(err);

  /* the other commands take XML directly */
  assert_int_equal(jh_test_jobhost_bare(&out, &err, "validate", "--plugin-dir",
                                        plugins, steps, NULL),
                   0);
  assert_non_null(strstr(out, "job HR_Synchronize_Complete_Scaffolding is "
                              "valid (6 tasks, 5 levels)"));
  free(out);
  free(err);
  assert_int_equal(jh_test_jobhost_bare(&out, &err, "steps", "--plugin-dir",
                                        plugins, steps, NULL),
                   0);
  assert_non_null(strstr(out, "Order 3: HR_Expressions"));
  assert_non_null(strstr(out, "Order 4: HR_Classification"));
  free(out);
  free(err);
  assert_int_equal(jh_test_jobhost_bare(&out, &err, "validate", "--plugin-dir",
                                        plugins, laughs, NULL),
                   2);
  assert_string_equal(out, "");
  assert_non_null(strstr(err, "billion_laughs.xml:2:1: error: document type "
                              "declarations"));
  free(out);
  free(err);
  assert_int_equal(jh_test_jobhost_bare(&out, &err, "steps", "--plugin-dir",
                                        plugins, steps, NULL),
                   0);
  assert_non_null(strstr(out, "Order 0: HR_Export_Complete (ExportTask)"));
  free(out);
  free(err);

  /* the seed job: validate accepts it as written, and steps orders it
   * like the YAML example */
  {
    char *seed = doc_fixture();
    char *example = jh_test_source("conf/examples/complete-sync/pipeline.yaml");
    char *seed_steps = NULL, *example_steps = NULL;
    assert_int_equal(jh_test_jobhost_bare(&out, &err, "validate",
                                          "--plugin-dir", plugins, seed, NULL),
                     0);
    assert_non_null(strstr(out, "job Job_AD_Complete is valid (10 tasks"));
    free(out);
    free(err);
    assert_int_equal(jh_test_jobhost_bare(&seed_steps, &err, "steps",
                                          "--plugin-dir", plugins, seed, NULL),
                     0);
    free(err);
    assert_int_equal(jh_test_jobhost_bare(&example_steps, &err, "steps",
                                          "--plugin-dir", plugins, example,
                                          NULL),
                     0);
    free(err);
    assert_non_null(strstr(seed_steps, "Order 9: "
                                       "All_SetAllInternalUserProfiles"));
    assert_string_equal(seed_steps, example_steps);
    free(seed_steps);
    free(example_steps);
    free(seed);
    free(example);
  }

  /* statuses are documented */
  assert_int_equal(
      jh_test_jobhost_bare(&out, &err, "import-xml", "--help", NULL), 0);
  assert_non_null(strstr(out, "Exit status: 0 written, 1 the output could "
                              "not be written, 2 invalid usage\nor input"));
  free(out);
  free(err);
  assert_int_equal(jh_test_jobhost_bare(&out, &err, "--help", NULL), 0);
  assert_non_null(strstr(out, "import-xml"));
  assert_non_null(strstr(out, "import-xml\nexits 0 when written"));
  free(out);
  free(err);

  jh_test_rmtree(dir);
  free(lenient);
  free(steps);
  free(laughs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fixture_matches_example),
      cmocka_unit_test(test_fixture_with_model),
      cmocka_unit_test(test_steps_and_levels),
      cmocka_unit_test(test_locations),
      cmocka_unit_test(test_generated_ids),
      cmocka_unit_test(test_quoting),
      cmocka_unit_test(test_several_files),
      cmocka_unit_test(test_job_properties),
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_model_sections),
      cmocka_unit_test(test_package_names),
      cmocka_unit_test(test_snake_case),
      cmocka_unit_test(test_bad_files),
      cmocka_unit_test(test_long_value_cut),
      cmocka_unit_test(test_no_entity_content),
      cmocka_unit_test(test_oversize_and_unreadable),
      cmocka_unit_test(test_lenient),
      cmocka_unit_test(test_stray_parts),
      cmocka_unit_test(test_job_load_reads_xml),
      cmocka_unit_test(test_no_temporary_file),
      cmocka_unit_test(test_cli_refused_connector),
      cmocka_unit_test(test_cli),
  };
  return cmocka_run_group_tests(tests, jh_test_setup_builtins,
                                jh_test_teardown_registry);
}
