/*
 * test_pipeline.c — the pipeline loader: every malformed file is refused
 * with the exact file:line:column and a message saying what was expected;
 * good files give the values written (normalised where the schema says).
 *
 * Fixtures are under tests/data/pipelines ($JH_TOP_SRCDIR); task types
 * come from the built-in plugins ($JH_BUILTIN_PLUGIN_DIR).
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "diag.h"
#include "loader.h"
#include "pipeline.h"
#include "harness_host.h"

/* Path of a fixture (malloc'd). */
static char *fixture(const char *name) {
  return jh_test_source("tests/data/pipelines/%s", name);
}

static void print_diags(const jh_diags *d) { jh_diags_print(d, stderr); }

/* ---- malformed files ---- */

struct bad_case {
  const char *file;  /* the fixture loaded */
  const char *where; /* the file the error is in (NULL: the same) */
  int line, column;
  const char *needle; /* part of the message */
  size_t nerrors;     /* errors expected in all */
};

static const struct bad_case bad_cases[] = {
    {"syntax_error.yaml", NULL, 6, 23,
     "invalid YAML: mapping values are not allowed", 1},
    {"empty.yaml", NULL, 1, 1,
     "file is empty: expected a mapping with 'version' and 'job'", 1},
    {"top_sequence.yaml", NULL, 1, 1,
     "expected a mapping with 'version' and 'job' at the top level, got a "
     "sequence",
     1},
    {"no_version.yaml", NULL, 1, 1, "missing 'version': expected 'version: 1'",
     1},
    {"version_2.yaml", NULL, 1, 10, "expected 'version: 1'", 1},
    {"unknown_task_key.yaml", NULL, 8, 7,
     "unknown key 'continue_on_eror' (did you mean 'continue_on_error'?)", 1},
    {"unknown_job_key.yaml", NULL, 4, 3,
     "unknown key 'max_paralel' (did you mean 'max_parallel'?)", 1},
    {"unknown_top_key.yaml", NULL, 2, 1,
     "unknown key 'model'; expected one of: version, include, job", 1},
    {"camel_case_key.yaml", NULL, 8, 7,
     "unknown key 'IgnoreCookieFile' (did you mean 'ignore_cookie_file'?)", 1},
    {"duplicate_key.yaml", NULL, 8, 7,
     "duplicate key 'connection' (first written at line 7, column 7): a key "
     "may appear once per mapping",
     1},
    {"max_parallel_text.yaml", NULL, 4, 17,
     "expected an integer >= 1 for 'max_parallel', got 'five'", 1},
    {"max_parallel_zero.yaml", NULL, 4, 17,
     "expected an integer >= 1 for 'max_parallel', got '0'", 1},
    {"duplicate_id.yaml", NULL, 11, 11,
     "duplicate task id 'A' (first defined at line 5): task ids must be "
     "unique",
     1},
    {"unknown_type.yaml", NULL, 6, 13,
     "unknown task type 'ExprtTask' (did you mean 'ExportTask'?); task types: "
     "ComputeCorrelationKeysTask, ComputeRoleModelTask, ExportTask, "
     "FulfillTask, GenerateProvisioningOrdersTask, "
     "PrepareSynchronizationTask, SetInternalUserProfilesTask, "
     "SetRecentlyModifiedFlagTask, SynchronizeTask, UpdateClassificationTask, "
     "UpdateEntityPropertyExpressionsTask",
     1},
    {"unknown_parent.yaml", NULL, 11, 28,
     "unknown task 'Exprot' in depends_on (did you mean 'Export'?)", 1},
    {"missing_param.yaml", NULL, 5, 7,
     "missing required parameter 'connection' in task 'A'", 1},
    {"bad_bool.yaml", NULL, 8, 27,
     "expected a boolean (true, false, True, False, 1 or 0) for "
     "'ignore_cookie_file', got 'yes'",
     1},
    {"bad_enum.yaml", NULL, 8, 29,
     "expected one of Initial, Complete, Incremental for "
     "'synchronization_mode', got 'Full'",
     1},
    {"bad_int_param.yaml", NULL, 7, 19,
     "expected an integer for 'batch_size', got 'many'", 1},
    {"bad_list.yaml", NULL, 8, 9,
     "expected a list of strings (or one string) for 'entity_types', got a "
     "mapping",
     1},
    {"bad_list_item.yaml", NULL, 7, 32,
     "expected a string in the list for 'entity_types', got a sequence", 1},
    {"bad_timeout.yaml", NULL, 8, 16,
     "expected a duration (N seconds, or Nms, Ns, Nm, Nh) for 'timeout', got "
     "'5x'",
     1},
    {"negative_retries.yaml", NULL, 8, 16,
     "expected an integer >= 0 for 'retries', got '-1'", 1},
    {"negative_level.yaml", NULL, 8, 14,
     "expected an integer >= 0 for 'level', got '-2'", 1},
    {"bad_ordering.yaml", NULL, 4, 13,
     "expected one of levels, dependencies for 'ordering', got 'dependency' "
     "(did you mean 'dependencies'?)",
     1},
    {"bad_schedule.yaml", NULL, 4, 14,
     "invalid cron expression for 'schedule': minute: expected a number "
     "0-59, got 'every'",
     1},
    /* the column of the bad field, inside the quotes or not */
    {"bad_schedule_step.yaml", NULL, 4, 16,
     "invalid cron expression for 'schedule': hour: step 0 in '*/0'", 1},
    {"bad_schedule_range.yaml", NULL, 4, 21,
     "day of week 9 is out of range 0-7", 1},
    {"bad_cron_zone.yaml", NULL, 5, 19,
     "expected one of UTC, local for 'cron_time_zone', got 'Paris'", 1},
    {"bad_log_level.yaml", NULL, 4, 14,
     "expected one of trace, debug, information, warning, error, critical, "
     "none for 'log_level', got 'verbose'",
     1},
    {"no_job.yaml", NULL, 1, 1, "missing 'job'", 1},
    {"no_tasks.yaml", NULL, 3, 3, "missing 'tasks' in 'job'", 1},
    {"empty_tasks.yaml", NULL, 4, 10, "expected at least one task in 'tasks'",
     1},
    {"task_not_mapping.yaml", NULL, 5, 7,
     "expected a task (a mapping with 'id' and 'type'), got 'ExportTask'", 1},
    {"missing_id.yaml", NULL, 5, 7, "missing 'id' in task", 1},
    {"missing_type.yaml", NULL, 5, 7, "missing 'type' in task 'A'", 1},
    {"agent_mismatch.yaml", NULL, 6, 7,
     "task 'E' runs on agent 'Remote' but job 'J' runs on agent 'Local'", 1},
    {"bad_id.yaml", NULL, 5, 11,
     "expected an identifier for 'id' (letters, digits", 1},
    {"two_documents.yaml", NULL, 6, 1,
     "expected one YAML document, found a second one", 1},
    {"include_missing.yaml", NULL, 4, 5, "cannot read included file", 1},
    /* each include item is checked, even after a bad one */
    {"include_items.yaml", NULL, 2, 11, "cannot read included file", 2},
    {"include_items.yaml", NULL, 2, 16,
     "expected a file name for 'include', got a sequence", 2},
    {"include_job.yaml", "inc/with_job.yaml", 2, 1,
     "'job' is only allowed in the top pipeline file", 1},
    {"billion_laughs.yaml", NULL, 2, 7, "alias expansion exceeds 10000 nodes",
     1},
    {"recursive_alias.yaml", NULL, 2, 6, "alias expansion exceeds 10000 nodes",
     1},
    /* every problem of a file is reported, not only the first */
    {"many_errors.yaml", NULL, 4, 17,
     "expected an integer >= 1 for 'max_parallel', got '-3'", 5},
    {"many_errors.yaml", NULL, 9, 16, "for 'retries', got 'lots'", 5},
    {"many_errors.yaml", NULL, 11, 13, "unknown task type 'NoSuchTask'", 5},
    {"many_errors.yaml", NULL, 12, 19, "unknown task 'Z' in depends_on", 5},
    {"many_errors.yaml", NULL, 16, 21,
     "expected one of None, Changes, ActiveDirectory for 'prepare_type', got "
     "'Delta'",
     5},
};

/* The error at file:line:column whose message holds needle, or NULL. */
static const jh_diag *find_error(const jh_diags *d, const char *file, int line,
                                 int column, const char *needle) {
  for (size_t i = 0; i < d->n; i++) {
    const jh_diag *g = &d->items[i];
    if (g->severity == JH_DIAG_ERROR && g->file != NULL &&
        strcmp(g->file, file) == 0 && g->line == line && g->column == column &&
        strstr(g->message, needle) != NULL)
      return g;
  }
  return NULL;
}

static void test_bad_pipelines(void **state) {
  const jh_registry *reg = *state;
  for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
    const struct bad_case *bc = &bad_cases[i];
    char *path = fixture(bc->file);
    char *where = fixture(bc->where ? bc->where : bc->file);
    jh_diags d = JH_DIAGS_INIT;
    jh_pipeline *p = (jh_pipeline *)1;
    int rc = jh_pipeline_load(path, reg, &p, &d);

    if (rc != JOBHOST_ECONFIG || p != NULL || d.nerrors != bc->nerrors ||
        find_error(&d, where, bc->line, bc->column, bc->needle) == NULL) {
      print_diags(&d);
      fail_msg("%s: expected %zu error(s) with %s:%d:%d '%s' (rc %d)", bc->file,
               bc->nerrors, where, bc->line, bc->column, bc->needle, rc);
    }
    jh_diags_clear(&d);
    free(path);
    free(where);
  }
}

/* The cycle is named from the top file, through each include, back to
 * the file that closes it, and located at that include item. */
static void test_include_cycle(void **state) {
  char *top = fixture("include_cycle.yaml");
  char *b = fixture("inc/cycle_b.yaml");
  char *c = fixture("inc/cycle_c.yaml");
  char *again = fixture("inc/../include_cycle.yaml");
  char *chain;
  jh_diags d = JH_DIAGS_INIT;
  jh_pipeline *p;

  if (asprintf(&chain, "include cycle: %s -> %s -> %s -> %s", top, b, c,
               again) < 0)
    fail_msg("asprintf failed");
  assert_int_equal(jh_pipeline_load(top, *state, &p, &d), JOBHOST_ECONFIG);
  assert_null(p);
  assert_int_equal(d.nerrors, 1);
  if (find_error(&d, c, 2, 11, chain) == NULL) {
    print_diags(&d);
    fail_msg("no '%s' at %s:2:11", chain, c);
  }
  jh_diags_clear(&d);
  free(chain);
  free(top);
  free(b);
  free(c);
  free(again);
}

static void test_unreadable_files(void **state) {
  char *missing = fixture("does-not-exist.yaml");
  char *dir = fixture("inc");
  jh_diags d = JH_DIAGS_INIT;
  jh_pipeline *p;

  assert_int_equal(jh_pipeline_load(missing, *state, &p, &d), JOBHOST_ECONFIG);
  assert_null(p);
  assert_int_equal(d.n, 1);
  assert_string_equal(d.items[0].file, missing);
  assert_non_null(strstr(d.items[0].message, strerror(ENOENT)));
  jh_diags_clear(&d);

  assert_int_equal(jh_pipeline_load(dir, *state, &p, &d), JOBHOST_ECONFIG);
  assert_null(p);
  assert_int_equal(d.n, 1);
  assert_non_null(strstr(d.items[0].message, strerror(EISDIR)));
  jh_diags_clear(&d);
  free(missing);
  free(dir);
}

/* Errors already in diags (from elsewhere) do not make a good file bad,
 * and a bad file's errors are added after them. */
static void test_diags_are_appended(void **state) {
  char *path = fixture("good_include.yaml");
  jh_diags d = JH_DIAGS_INIT;
  jh_pipeline *p;

  jh_diag_error(&d, NULL, 0, 0, "earlier problem");
  assert_int_equal(jh_pipeline_load(path, *state, &p, &d), 0);
  assert_non_null(p);
  assert_int_equal(d.nerrors, 1);
  jh_pipeline_free(p);
  jh_diags_clear(&d);
  free(path);
}

/* Without plugins every type is unknown, and the message says why. */
static void test_no_plugins(void **state) {
  jh_registry empty;
  char *path = fixture("good_include.yaml");
  jh_diags d = JH_DIAGS_INIT;
  jh_pipeline *p;

  (void)state;
  memset(&empty, 0, sizeof(empty));
  assert_int_equal(jh_pipeline_load(path, &empty, &p, &d), JOBHOST_ECONFIG);
  assert_int_equal(d.nerrors, 1);
  assert_non_null(
      strstr(d.items[0].message, "unknown task type 'ExportTask': no plugin"));
  jh_diags_clear(&d);
  free(path);
}

/* ---- good files ---- */

static const jh_pipeline *load_good(void **state, const char *path,
                                    jh_diags *d) {
  jh_pipeline *p = NULL;
  int rc = jh_pipeline_load(path, *state, &p, d);
  if (rc != 0) {
    print_diags(d);
    fail_msg("%s: load failed (%d)", path, rc);
  }
  assert_non_null(p);
  return p;
}

static void assert_list(const jh_value *v, size_t n, const char *const *items) {
  assert_non_null(v);
  assert_int_equal(v->type, JOBHOST_PARAM_LIST);
  assert_null(v->text);
  assert_int_equal(v->nitems, n);
  for (size_t i = 0; i < n; i++)
    assert_string_equal(v->items[i], items[i]);
}

static void test_example_pipeline(void **state) {
  char *path;
  jh_diags d = JH_DIAGS_INIT;
  const jh_pipeline *p;
  const jh_task_def *t;
  size_t idx;
  static const char *const roles[] = {"HR_Person"};
  static const char *const entry[] = {"AD_Entry"};
  static const char *const nominative[] = {"AD_Entry_NominativeUser"};

  if (asprintf(&path, "%s/conf/examples/complete-sync/pipeline.yaml",
               jh_test_env("JH_TOP_SRCDIR")) < 0)
    fail_msg("asprintf failed");
  p = load_good(state, path, &d);
  assert_int_equal(d.n, 0);
  assert_string_equal(p->path, path);
  assert_int_equal(p->nfiles, 2); /* and its model.yaml */
  assert_non_null(jh_model_connector(p->model, "AD"));
  assert_string_equal(jh_model_connection(p->model, "AD_Export")->package,
                      "ldif");
  assert_string_equal(
      jh_model_connection(p->model, "AD_Fulfillment")->connector, "AD");
  assert_string_equal(p->job_id, "Job_AD_Complete");
  assert_string_equal(p->display_name, "AD Job's (Complete mode)");
  assert_string_equal(p->agent, "Local");
  assert_string_equal(p->schedule, "0 2 * * *");
  assert_int_equal(p->max_parallel, 5);
  assert_int_equal(p->ordering, JH_ORDER_LEVELS);
  assert_int_equal(p->ntasks, 10);

  t = &p->tasks[0];
  assert_string_equal(t->id, "AD_Export_Complete");
  assert_string_equal(t->type, "ExportTask");
  assert_non_null(t->task_type);
  assert_string_equal(t->task_type->name, "ExportTask");
  assert_int_equal(t->level, -1);
  assert_true(t->continue_on_error);
  assert_string_equal(t->display_name, "Export AD");
  assert_string_equal(jh_task_value(t, "connection")->text, "AD_Export");
  assert_string_equal(jh_task_value(t, "ignore_cookie_file")->text, "true");
  assert_string_equal(jh_task_value(t, "open_id_client")->text, "Job");
  assert_null(jh_task_value(t, "init_mode")); /* defaults are not applied */
  assert_string_equal(t->loc.file, p->files[0]);

  t = jh_pipeline_task(p, "AD_PrepareSynchronization_Complete", &idx);
  assert_non_null(t);
  assert_int_equal(idx, 1);
  assert_string_equal(jh_task_value(t, "prepare_type")->text,
                      "ActiveDirectory");
  assert_string_equal(jh_task_value(t, "synchronization_mode")->text,
                      "Complete");
  assert_int_equal(t->ndepends, 1);
  assert_string_equal(t->depends_on[0], "AD_Export_Complete");

  t = jh_pipeline_task(p, "AD_Synchronization", NULL);
  assert_string_equal(t->depends_on[0], "AD_Export_Complete");
  assert_false(t->continue_on_error);

  assert_list(jh_task_value(jh_pipeline_task(p, "Directory_ComputeRoleModel",
                                             NULL),
                            "entity_types"),
              1, roles);
  t = jh_pipeline_task(p, "AD_Fulfill", NULL);
  assert_true(t->continue_on_error);
  assert_string_equal(t->depends_on[0], "AD_Provisioning");
  assert_string_equal(jh_task_value(t, "connection")->text, "AD_Fulfillment");
  t = jh_pipeline_task(p, "All_SetAllInternalUserProfiles", &idx);
  assert_int_equal(idx, 9);
  assert_list(jh_task_value(t, "entity_types"), 1, entry);
  assert_list(jh_task_value(t, "resource_types"), 1, nominative);
  assert_string_equal(t->depends_on[0], "AD_Fulfill");
  assert_null(jh_pipeline_task(p, "SendRoleModelNotifications", NULL));

  jh_pipeline_free((jh_pipeline *)p);
  jh_diags_clear(&d);
  free(path);
}

/* The job properties: cron_time_zone, catch_up, log_level and the
 * Identity Manager flags; and their defaults. */
static void test_job_properties(void **state) {
  char *path = fixture("good_job_properties.yaml");
  jh_diags d = JH_DIAGS_INIT;
  const jh_pipeline *p = load_good(state, path, &d);

  assert_int_equal(d.n, 0);
  assert_string_equal(p->schedule, "30 6 * * mon-fri");
  assert_int_equal(p->cron_local, 1);
  assert_int_equal(p->catch_up, 1);
  assert_string_equal(jh_job_log_levels[p->log_level], "warning");
  assert_int_equal(p->user_start_denied, 1);
  assert_int_equal(p->is_incremental, 1);
  assert_int_equal(p->is_connector_job, 0);
  assert_int_equal(p->is_initialization_job, 1);
  jh_pipeline_free((jh_pipeline *)p);
  free(path);

  path = fixture("good_levels.yaml");
  p = load_good(state, path, &d);
  assert_int_equal(p->cron_local, 0);
  assert_int_equal(p->catch_up, 0);
  assert_int_equal(p->log_level, JH_JOB_LOG_NONE);
  assert_int_equal(p->user_start_denied, 0);
  assert_int_equal(p->is_incremental, 0);
  jh_pipeline_free((jh_pipeline *)p);
  jh_diags_clear(&d);
  free(path);
}

static void test_levels_and_values(void **state) {
  char *path = fixture("good_levels.yaml");
  jh_diags d = JH_DIAGS_INIT;
  const jh_pipeline *p = load_good(state, path, &d);
  const jh_task_def *t;
  static const char *const entry[] = {"AD_Entry"};

  assert_int_equal(d.n, 0);
  assert_int_equal(p->max_parallel, 2);
  assert_string_equal(p->schedule, "*/15 * * * *");
  assert_int_equal(p->ntasks, 4);

  t = &p->tasks[0];
  assert_int_equal(t->level, 0);
  assert_string_equal(jh_task_value(t, "ignore_cookie_file")->text, "true");
  assert_string_equal(jh_task_value(t, "init_mode")->text, "false");
  assert_int_equal(jh_task_value(t, "init_mode")->type, JOBHOST_PARAM_BOOL);
  assert_int_equal(t->timeout_ms, 30000);
  assert_int_equal(t->retries, 2);
  assert_int_equal(t->retry_delay_ms, 250);
  assert_int_equal(jh_task_value(t, "connection")->loc.line, 15);
  assert_int_equal(jh_task_value(t, "connection")->loc.column, 19);

  t = &p->tasks[1];
  assert_string_equal(jh_task_value(t, "ignore_cookie_file")->text, "true");
  assert_int_equal(t->timeout_ms, 120000);
  assert_int_equal(t->retries, 0);
  assert_int_equal(t->retry_delay_ms, 1000); /* the default */

  t = &p->tasks[2];
  assert_int_equal(t->level, 5);
  assert_int_equal(t->timeout_ms, 45000); /* bare number: seconds */
  assert_int_equal(t->ndepends, 1);       /* a scalar is one parent */
  assert_string_equal(t->depends_on[0], "Export_AD");
  assert_int_equal(t->depends_loc[0].line, 33);
  assert_int_equal(t->depends_loc[0].column, 19);
  assert_string_equal(jh_task_value(t, "synchronization_mode")->text,
                      "Incremental");

  t = &p->tasks[3];
  assert_int_equal(t->timeout_ms, 3600000);
  assert_false(t->continue_on_error);
  assert_string_equal(t->display_name, "Keys: all");
  assert_list(jh_task_value(t, "entity_types"), 1, entry);
  assert_string_equal(jh_task_value(t, "batch_size")->text, "42");
  assert_int_equal(jh_task_value(t, "batch_size")->type, JOBHOST_PARAM_INT);
  assert_int_equal(t->loc.line, 35);
  assert_int_equal(t->loc.column, 7);

  jh_pipeline_free((jh_pipeline *)p);
  jh_diags_clear(&d);
  free(path);
}

static void test_include(void **state) {
  char *path = fixture("good_include.yaml");
  char *common = fixture("inc/common.yaml");
  char *more = fixture("inc/more.yaml");
  jh_diags d = JH_DIAGS_INIT;
  const jh_pipeline *p = load_good(state, path, &d);

  assert_int_equal(d.n, 0);
  /* every file read once, top first, in the order met */
  assert_int_equal(p->nfiles, 3);
  assert_string_equal(p->files[0], path);
  assert_string_equal(p->files[1], common);
  assert_string_equal(p->files[2], more);
  assert_string_equal(p->job_id, "Job_Include");
  jh_pipeline_free((jh_pipeline *)p);
  jh_diags_clear(&d);
  free(path);
  free(common);
  free(more);
}

static void test_dependencies_ordering(void **state) {
  char *path = fixture("good_dependencies.yaml");
  jh_diags d = JH_DIAGS_INIT;
  const jh_pipeline *p = load_good(state, path, &d);
  const jh_task_def *t;

  assert_int_equal(p->ordering, JH_ORDER_DEPENDENCIES);
  /* a level written anyway is a warning, not an error */
  assert_int_equal(d.nerrors, 0);
  assert_int_equal(d.n, 1);
  assert_int_equal(d.items[0].severity, JH_DIAG_WARNING);
  assert_int_equal(d.items[0].line, 7);
  assert_non_null(strstr(d.items[0].message, "'level' is ignored"));
  t = jh_pipeline_task(p, "Sync", NULL);
  assert_int_equal(t->ndepends, 2);
  assert_string_equal(t->depends_on[1], "Export_HR");
  jh_pipeline_free((jh_pipeline *)p);
  jh_diags_clear(&d);
  free(path);
}

/* ---- what errors show of a file, and which files may be included ---- */

#define SECRET "TOPSECRET"

/* Write `text` at dir/name. */
static void put(const char *dir, const char *name, const char *text) {
  char path[PATH_MAX + 64];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  jh_test_write_file(path, text, 0600);
}

static int load_in(const jh_registry *reg, const char *dir, const char *name,
                   const jh_pipeline_options *opt, jh_diags *d) {
  char path[PATH_MAX + 64];
  jh_pipeline *p = NULL;
  int rc;
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  rc = jh_pipeline_load_opts(path, reg, opt, &p, d);
  jh_pipeline_free(p);
  return rc;
}

static size_t errors_about(const jh_diags *d, const char *suffix) {
  size_t n = 0, ls = strlen(suffix);
  for (size_t i = 0; i < d->n; i++) {
    const char *f = d->items[i].file;
    if (d->items[i].severity == JH_DIAG_ERROR && f != NULL && strlen(f) >= ls &&
        strcmp(f + strlen(f) - ls, suffix) == 0)
      n++;
  }
  return n;
}

static void no_secret(const jh_diags *d) {
  for (size_t i = 0; i < d->n; i++)
    if (strstr(d->items[i].message, SECRET) != NULL) {
      print_diags(d);
      fail_msg("a message shows text from past its excerpt");
    }
}

#define JOB_TEXT                                                               \
  "job:\n  id: J\n  tasks:\n    - {id: A, type: ExportTask, "                  \
  "connection: C}\n"

/* A password file named in `include:` is not echoed line by line: one
 * error says it is no pipeline file, with at most an excerpt of a line. */
static void test_non_yaml_include(void **state) {
  char dir[PATH_MAX];
  jh_diags d = JH_DIAGS_INIT;
  jh_test_mkdtemp(dir, sizeof(dir));
  put(dir, "shadow",
      "root:$6$abcdefghijklmnopqrstuvwxyz0123456789ABCDEF" SECRET ":19000:0::\n"
      "daemon:*:19000:0:99999:7::" SECRET ":\n"
      "bin:*:19000:0:99999:7:::\n");
  put(dir, "p.yaml", "version: 1\ninclude: [shadow]\n" JOB_TEXT);
  assert_int_equal(load_in(*state, dir, "p.yaml", NULL, &d), JOBHOST_ECONFIG);
  no_secret(&d);
  assert_int_equal(errors_about(&d, "/shadow"), 1);
  assert_non_null(strstr(d.items[0].message, "not a pipeline file"));
  jh_diags_clear(&d);
  jh_test_rmtree(dir);
}

/* The excerpt itself: 40 characters (not bytes) and "...", one line,
 * whatever the bytes. */
static void test_diag_quote(void **state) {
  char buf[JH_QUOTE_SIZE], *stray = malloc(4001), e41[2 * 41 + 1];
  char e40[2 * 40 + 4];
  (void)state;
  assert_string_equal(jh_diag_quote("short", buf, sizeof(buf)), "short");
  assert_string_equal(jh_diag_quote(NULL, buf, sizeof(buf)), "?");
  assert_string_equal(jh_diag_quote("0123456789012345678901234567890123456789X",
                                    buf, sizeof(buf)),
                      "0123456789012345678901234567890123456789...");
  assert_string_equal(jh_diag_quote("a\nb\tc\x7f", buf, sizeof(buf)),
                      "a\\nb?c?");
  /* 41 two-byte characters: 40 kept whole */
  for (int i = 0; i < 41; i++)
    memcpy(e41 + 2 * i, "\xc3\xa9", 2);
  e41[82] = '\0';
  memcpy(e40, e41, 80);
  strcpy(e40 + 80, "...");
  assert_string_equal(jh_diag_quote(e41, buf, sizeof(buf)), e40);
  /* stray bytes and cut sequences: one '?' each, still 40 at most */
  assert_non_null(stray);
  memset(stray, 0x80, 4000);
  stray[4000] = '\0';
  jh_diag_quote(stray, buf, sizeof(buf));
  assert_int_equal(strlen(buf), 43);
  assert_string_equal(jh_diag_quote("\xc3x\xe2\x82", buf, sizeof(buf)), "?x??");
  free(stray);
}

/* A long value is quoted cut at 40 characters, wherever it is quoted. */
static void test_quotes_are_cut(void **state) {
  static const char *const files[] = {
      "version: 1\njob:\n  id: \"01234567890123456789012345678901234567!!" SECRET
      "\"\n  tasks:\n    - {id: A, type: ExportTask, connection: C}\n",
      "version: 1\njob:\n  id: J\n  tasks:\n    - {id: A, type: "
      "ExportTask0123456789012345678901234567890123456789" SECRET ", "
      "connection: C}\n",
      "version: 1\njob:\n  id: J\n  tasks:\n    - {id: A, type: ExportTask, "
      "connection: C, depends_on: [Nope012345678901234567890123456789012345"
      "6789" SECRET "]}\n",
      "version: 1\nunknown0123456789012345678901234567890123456789" SECRET
      ": 1\n" JOB_TEXT,
      "version: \"1\n  0123456789012345678901234567890123456789" SECRET
      "\"\n" JOB_TEXT,
  };
  char dir[PATH_MAX];
  jh_test_mkdtemp(dir, sizeof(dir));
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
    jh_diags d = JH_DIAGS_INIT;
    put(dir, "p.yaml", files[i]);
    assert_int_equal(load_in(*state, dir, "p.yaml", NULL, &d), JOBHOST_ECONFIG);
    assert_true(d.nerrors > 0);
    no_secret(&d);
    jh_diags_clear(&d);
  }
  jh_test_rmtree(dir);
}

/* A file with many errors stops after the cap, and says so. */
static void test_errors_capped_per_file(void **state) {
  char dir[PATH_MAX], *text;
  size_t size = 200 * 64 + 256, o;
  jh_diags d = JH_DIAGS_INIT;
  jh_test_mkdtemp(dir, sizeof(dir));
  text = malloc(size);
  assert_non_null(text);
  o = (size_t)snprintf(text, size, "version: 1\n" JOB_TEXT);
  for (int i = 0; i < 200; i++)
    o += (size_t)snprintf(text + o, size - o,
                          "    - {id: T%d, type: NoSuchTask}\n", i);
  put(dir, "p.yaml", text);
  free(text);
  assert_int_equal(load_in(*state, dir, "p.yaml", NULL, &d), JOBHOST_ECONFIG);
  assert_int_equal(d.nerrors, 200);
  assert_int_equal(errors_about(&d, "/p.yaml"), JH_DIAG_FILE_ERRORS_MAX + 1);
  assert_non_null(strstr(d.items[d.n - 1].message, "too many errors"));
  jh_diags_clear(&d);
  jh_test_rmtree(dir);
}

/* Included files come from the top file's folder tree (after symbolic
 * links and '..'), or from a folder allowed by name. */
static void test_include_confined(void **state) {
  char dir[PATH_MAX], top[PATH_MAX + 16], other[PATH_MAX + 16];
  char link[PATH_MAX + 64];
  const char *allowed[1] = {other};
  jh_pipeline_options opt = {allowed, 1};
  jh_diags d = JH_DIAGS_INIT;

  jh_test_mkdtemp(dir, sizeof(dir));
  snprintf(top, sizeof(top), "%s/top", dir);
  snprintf(other, sizeof(other), "%s/other", dir);
  assert_int_equal(mkdir(top, 0700), 0);
  assert_int_equal(mkdir(other, 0700), 0);
  assert_int_equal(mkdir(strcat(strcpy(link, top), "/sub"), 0700), 0);
  put(other, "model.yaml", "version: 1\nconnectors:\n  - id: HR\n");
  put(top, "sub/model.yaml", "version: 1\nconnectors:\n  - id: HR\n");
  snprintf(link, sizeof(link), "%s/linked.yaml", top);
  assert_int_equal(symlink("../other/model.yaml", link), 0);

  /* inside the tree */
  put(top, "in.yaml", "version: 1\ninclude: [sub/model.yaml]\n" JOB_TEXT);
  assert_int_equal(load_in(*state, top, "in.yaml", NULL, &d), 0);
  /* outside, by '..', by an absolute path, through a symbolic link */
  put(top, "up.yaml", "version: 1\ninclude: [../other/model.yaml]\n" JOB_TEXT);
  put(top, "link.yaml", "version: 1\ninclude: linked.yaml\n" JOB_TEXT);
  assert_int_equal(load_in(*state, top, "up.yaml", NULL, &d), JOBHOST_ECONFIG);
  assert_int_equal(d.nerrors, 1);
  assert_int_equal(d.items[0].line, 2);
  assert_int_equal(d.items[0].column, 11);
  assert_non_null(strstr(d.items[0].message, "is outside the folder"));
  jh_diags_clear(&d);
  assert_int_equal(load_in(*state, top, "link.yaml", NULL, &d),
                   JOBHOST_ECONFIG);
  assert_non_null(strstr(d.items[0].message, "is outside the folder"));
  jh_diags_clear(&d);
  /* allowed by the options, or by the top file */
  assert_int_equal(load_in(*state, top, "up.yaml", &opt, &d), 0);
  assert_int_equal(load_in(*state, top, "link.yaml", &opt, &d), 0);
  put(top, "allow.yaml",
      "version: 1\nallow_include: [../other]\n"
      "include: [../other/model.yaml]\n" JOB_TEXT);
  assert_int_equal(load_in(*state, top, "allow.yaml", NULL, &d), 0);
  assert_int_equal(d.n, 0);
  /* allow_include belongs to the top file, and names folders */
  put(top, "sub/allow.yaml", "version: 1\nallow_include: [/]\n");
  put(top, "nested.yaml", "version: 1\ninclude: sub/allow.yaml\n" JOB_TEXT);
  assert_int_equal(load_in(*state, top, "nested.yaml", NULL, &d),
                   JOBHOST_ECONFIG);
  assert_non_null(strstr(d.items[0].message, "only allowed in the top"));
  jh_diags_clear(&d);
  put(top, "bad.yaml", "version: 1\nallow_include: [nowhere]\n" JOB_TEXT);
  assert_int_equal(load_in(*state, top, "bad.yaml", NULL, &d), JOBHOST_ECONFIG);
  assert_non_null(strstr(d.items[0].message, "expected a folder"));
  jh_diags_clear(&d);
  jh_test_rmtree(dir);
}

/* The top file may come from memory, read as if it were at its name. */
static void test_load_text(void **state) {
  static const char text[] = "version: 1\ninclude: [sub/model.yaml]\n" JOB_TEXT
                             "  tasks: oops\n";
  char dir[PATH_MAX], name[PATH_MAX + 16];
  jh_diags d = JH_DIAGS_INIT;
  jh_pipeline *p = NULL;
  jh_test_mkdtemp(dir, sizeof(dir));
  assert_int_equal(mkdir(strcat(strcpy(name, dir), "/sub"), 0700), 0);
  put(dir, "sub/model.yaml", "version: 1\nconnectors:\n  - id: HR\n");
  snprintf(name, sizeof(name), "%s/virtual.yaml", dir);
  assert_int_equal(jh_pipeline_load_text(name, text, sizeof(text) - 1 - 14,
                                         *state, NULL, &p, &d),
                   0);
  assert_string_equal(p->path, name);
  assert_int_equal(p->model->nconnectors, 1);
  jh_pipeline_free(p);
  /* locations name it */
  assert_int_equal(jh_pipeline_load_text(name, text, sizeof(text) - 1, *state,
                                         NULL, &p, &d),
                   JOBHOST_ECONFIG);
  assert_string_equal(d.items[0].file, name);
  assert_int_equal(d.items[0].line, 7);
  jh_diags_clear(&d);
  jh_test_rmtree(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_pipelines),
      cmocka_unit_test(test_include_cycle),
      cmocka_unit_test(test_unreadable_files),
      cmocka_unit_test(test_diags_are_appended),
      cmocka_unit_test(test_no_plugins),
      cmocka_unit_test(test_example_pipeline),
      cmocka_unit_test(test_job_properties),
      cmocka_unit_test(test_levels_and_values),
      cmocka_unit_test(test_include),
      cmocka_unit_test(test_dependencies_ordering),
      cmocka_unit_test(test_non_yaml_include),
      cmocka_unit_test(test_diag_quote),
      cmocka_unit_test(test_quotes_are_cut),
      cmocka_unit_test(test_errors_capped_per_file),
      cmocka_unit_test(test_include_confined),
      cmocka_unit_test(test_load_text),
  };
  return cmocka_run_group_tests(tests, jh_test_setup_builtins,
                                jh_test_teardown_registry);
}
