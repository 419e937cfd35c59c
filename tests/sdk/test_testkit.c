/*
 * test_testkit.c — the test kit (jobhost/testkit.h) through its public
 * functions only, on a plugin defined here: a task type, and a package
 * with an export and a fulfill. Also the contracts the kit makes visible:
 * a package's own "rows" and "tables" counters are kept by ExportTask,
 * tables are published only on success, the cookie only on success.
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

#include <cmocka.h>

#include <jobhost/testkit.h>

/* ---- the plugin under test ---- */

static const jobhost_param count_params[] = {
    {.name = "word", .type = JOBHOST_PARAM_STRING, .required = 1},
    {.name = "times", .type = JOBHOST_PARAM_INT, .default_value = "2"},
    {.name = "loud", .type = JOBHOST_PARAM_BOOL, .default_value = "false"},
    {.name = "names", .type = JOBHOST_PARAM_LIST},
    {.name = "connection", .type = JOBHOST_PARAM_STRING},
    JOBHOST_PARAM_END};

static int count_run(jobhost_ctx *ctx) {
  const jobhost_services *svc = ctx->svc;
  const char *word = svc->param(ctx, "word");
  long times = strtol(svc->param(ctx, "times"), NULL, 10);
  const char *const *names;
  size_t n = svc->param_list(ctx, "names", &names);
  char secret[64];

  for (long i = 0; i < times; i++)
    jobhost_info(ctx, "%s %ld", word, i + 1);
  for (size_t i = 0; i < n; i++)
    jobhost_warning(ctx, "name %s", names[i]);
  if (svc->secret(ctx, "token", secret, sizeof(secret)) == 0)
    jobhost_info(ctx, "token is %zu bytes", strlen(secret));
  if (svc->setting(ctx, "path") != NULL)
    jobhost_info(ctx, "path %s", svc->setting(ctx, "path"));
  svc->counter_add(ctx, "words", times);
  svc->progress(ctx, 3, 4);
  svc->set_produced_output(ctx, strcmp(svc->param(ctx, "loud"), "true") == 0);
  svc->set_message(ctx, "said %s", word);
  return strcmp(word, "block") == 0 ? JOBHOST_EBLOCKED : 0;
}

/* A task that is not an export calls table_open with every kind of name
 * and columns the host refuses, each refusal checked, then writes one
 * table of its own. */
static int tables_run(jobhost_ctx *ctx) {
  static const char *const one[] = {"a"};
  static const char *const twice[] = {"a", "b", "a"};
  static const char *const unnamed[] = {"a", ""};
  static const char *const nulled[] = {"a", NULL};
  static char long_name[202];
  const struct {
    const char *name;
    const char *const *columns;
    size_t n;
  } refused[] = {{NULL, one, 1},      {"", one, 1},      {".hidden", one, 1},
                 {"a/b", one, 1},     {"a\\b", one, 1},  {"a\nb", one, 1},
                 {long_name, one, 1}, {"t", NULL, 0},    {"t", one, 0},
                 {"t", twice, 3},     {"t", unnamed, 2}, {"t", nulled, 2}};
  const char *row[1] = {"x"};
  jobhost_table *t, *again;
  int rc;

  memset(long_name, 'n', sizeof(long_name) - 1);
  for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
    t = (jobhost_table *)1;
    rc = ctx->svc->table_open(ctx, refused[i].name, refused[i].columns,
                              refused[i].n, &t);
    if (rc != -EINVAL || t != NULL) {
      ctx->svc->set_message(ctx, "case %zu: %d", i, rc);
      return -EPROTO;
    }
  }
  rc = ctx->svc->table_open(ctx, "made_by_a_task", one, 1, &t);
  if (rc == 0)
    rc = ctx->svc->table_write(t, row, 1);
  if (rc == 0 &&
      ctx->svc->table_open(ctx, "made_by_a_task", one, 1, &again) != -EEXIST)
    rc = -EPROTO;
  if (t != NULL && ctx->svc->table_close(t) != 0 && rc == 0)
    rc = -EIO;
  return rc;
}

/* table_open in a validate entry point: refused, no table there. */
static int tables_validate(jobhost_ctx *ctx) {
  static const char *const one[] = {"a"};
  jobhost_table *t;
  if (ctx->svc->table_open(ctx, "checked", one, 1, &t) != -EPERM) {
    ctx->svc->set_message(ctx, "table_open was not refused");
    return JOBHOST_ECONFIG;
  }
  return 0;
}

static const jobhost_task_type kit_types[] = {
    {.name = "CountTask", .params = count_params, .run = count_run},
    {.name = "TablesTask", .run = tables_run, .validate = tables_validate},
    JOBHOST_TASK_TYPE_END};

static const jobhost_param pkg_settings[] = {
    {.name = "values", .type = JOBHOST_PARAM_STRING, .required = 1},
    {.name = "own_counters",
     .type = JOBHOST_PARAM_BOOL,
     .default_value = "false"},
    {.name = "fail", .type = JOBHOST_PARAM_BOOL, .default_value = "false"},
    {.name = "token", .type = JOBHOST_PARAM_STRING, .secret = 1},
    JOBHOST_PARAM_END};

/* Exports one table, "items", of the comma-separated setting `values`. */
static int pkg_export(jobhost_ctx *ctx, void *state) {
  const jobhost_services *svc = ctx->svc;
  static const char *const cols[] = {"id", "text"};
  char *copy = strdup(svc->setting(ctx, "values")), *save = NULL;
  const void *cookie;
  size_t cookie_len;
  jobhost_table *t;
  int rc, n = 0;

  (void)state;
  if (svc->cookie_get(ctx, &cookie, &cookie_len) == 0)
    jobhost_info(ctx, "cookie %.*s", (int)cookie_len, (const char *)cookie);
  rc = svc->table_open(ctx, "items", cols, 2, &t);
  for (char *v = strtok_r(copy, ",", &save); rc == 0 && v != NULL;
       v = strtok_r(NULL, ",", &save)) {
    char id[16];
    const char *row[2] = {id, v};
    snprintf(id, sizeof(id), "%d", ++n);
    rc = svc->table_write(t, row, 2);
  }
  if (t != NULL) {
    int crc = svc->table_close(t);
    rc = rc != 0 ? rc : crc;
  }
  free(copy);
  if (strcmp(svc->setting(ctx, "own_counters"), "true") == 0) {
    svc->counter_set(ctx, "rows", 42);
    svc->counter_add(ctx, "tables", 7);
  }
  if (rc == 0)
    rc = svc->cookie_set(ctx, "after", 5);
  if (rc == 0 && strcmp(svc->setting(ctx, "fail"), "true") == 0) {
    svc->set_message(ctx, "told to fail");
    rc = -EIO;
  }
  return rc;
}

static int ended;

static int pkg_fulfill(jobhost_ctx *ctx, void *state,
                       const jobhost_order *order, char *message, size_t size) {
  (void)state;
  jobhost_info(ctx, "order %d on %s", (int)order->change_type,
               order->resource_id ? order->resource_id : "(none)");
  if (order->change_type == JOBHOST_CHANGE_DELETED) {
    snprintf(message, size, "cannot delete %s", order->resource_id);
    return -EPERM;
  }
  return 0;
}

static int pkg_end(jobhost_ctx *ctx, void *state) {
  (void)ctx;
  (void)state;
  ended++;
  return 0;
}

static const jobhost_package kit_packages[] = {{.name = "kitpkg",
                                                .settings = pkg_settings,
                                                .export_tables = pkg_export,
                                                .fulfill_order = pkg_fulfill,
                                                .fulfill_end = pkg_end},
                                               JOBHOST_PACKAGE_END};

static const jobhost_plugin kit_plugin = {
    JOBHOST_PLUGIN_MAGIC, JOBHOST_ABI_MAJOR,
    JOBHOST_ABI_MINOR,    (uint32_t)sizeof(jobhost_plugin),
    "kitplugin",          "1.0",
    "for the kit test",   kit_types,
    kit_packages,         {NULL}};

/* ---- fixtures ---- */

static int setup(void **state) {
  jobhost_testkit *kit;
  if (jobhost_testkit_new(&kit) != 0)
    return -1;
  if (jobhost_testkit_add_plugin(kit, &kit_plugin) != 0) {
    jobhost_testkit_free(kit);
    return -1;
  }
  *state = kit;
  return 0;
}

static int teardown(void **state) {
  jobhost_testkit_free(*state);
  return 0;
}

static int64_t counter(jobhost_testkit *kit, const char *name) {
  int64_t v = -1;
  if (jobhost_testkit_counter(kit, name, &v) != 0)
    fail_msg("counter %s was never set", name);
  return v;
}

/* ---- tests ---- */

static void test_run_task(void **state) {
  jobhost_testkit *kit = *state;
  static const char *const names[] = {"ann", "bob"};
  uint64_t done, total;

  assert_int_equal(jobhost_testkit_param(kit, "word", "hi \"there\""), 0);
  assert_int_equal(jobhost_testkit_param(kit, "times", "3"), 0);
  assert_int_equal(jobhost_testkit_param(kit, "loud", "True"), 0);
  assert_int_equal(jobhost_testkit_param_list(kit, "names", names, 2), 0);
  assert_int_equal(jobhost_testkit_run(kit, "CountTask"), 0);
  assert_string_equal(jobhost_testkit_message(kit), "said hi \"there\"");
  assert_int_equal(counter(kit, "words"), 3);
  assert_int_equal(jobhost_testkit_produced_output(kit), 1);
  jobhost_testkit_progress(kit, &done, &total);
  assert_int_equal(done, 3);
  assert_int_equal(total, 4);
  assert_int_equal(jobhost_testkit_log_count(kit), 5);
  assert_string_equal(jobhost_testkit_log_line(kit, 0),
                      "INFO    [Test] hi \"there\" 1");
  assert_non_null(jobhost_testkit_log_find(kit, "WARNING [Test] name bob"));
  assert_null(jobhost_testkit_log_find(kit, "token"));
  assert_int_equal(jobhost_testkit_table_count(kit), 0);

  /* the returned state, as the task returned it */
  assert_int_equal(jobhost_testkit_param(kit, "word", "block"), 0);
  assert_int_equal(jobhost_testkit_run(kit, "CountTask"), JOBHOST_EBLOCKED);
  assert_int_equal(jobhost_testkit_log_count(kit), 5); /* this run's only */
}

static void test_run_refused(void **state) {
  jobhost_testkit *kit = *state;
  /* checked as a pipeline is: a missing required parameter */
  assert_int_equal(jobhost_testkit_run(kit, "CountTask"), JOBHOST_ECONFIG);
  assert_non_null(
      strstr(jobhost_testkit_error(kit), "missing required parameter 'word'"));
  /* a value of the wrong type */
  jobhost_testkit_param(kit, "word", "x");
  jobhost_testkit_param(kit, "times", "many");
  assert_int_equal(jobhost_testkit_run(kit, "CountTask"), JOBHOST_ECONFIG);
  assert_non_null(strstr(jobhost_testkit_error(kit), "times"));
  /* an undeclared one */
  jobhost_testkit_param(kit, "times", NULL);
  jobhost_testkit_param(kit, "colour", "red");
  assert_int_equal(jobhost_testkit_run(kit, "CountTask"), JOBHOST_ECONFIG);
  assert_non_null(strstr(jobhost_testkit_error(kit), "colour"));
  /* an unknown type */
  assert_int_equal(jobhost_testkit_run(kit, "NoSuchTask"), JOBHOST_ECONFIG);
  assert_non_null(strstr(jobhost_testkit_error(kit), "NoSuchTask"));
  /* a plugin added twice */
  assert_int_equal(jobhost_testkit_add_plugin(kit, &kit_plugin),
                   JOBHOST_EDUPLICATE);
  assert_non_null(strstr(jobhost_testkit_error(kit), "CountTask"));
}

static void test_settings_and_secrets(void **state) {
  jobhost_testkit *kit = *state;
  jobhost_testkit_param(kit, "word", "x");
  jobhost_testkit_param(kit, "times", "0");
  assert_int_equal(jobhost_testkit_package(kit, "kitpkg"), 0);
  assert_int_equal(jobhost_testkit_setting(kit, "values", "a,b"), 0);
  assert_int_equal(jobhost_testkit_secret(kit, "token", "s3cr\"t"), 0);
  if (jobhost_testkit_run(kit, "CountTask") != 0)
    fail_msg("%s", jobhost_testkit_error(kit));
  assert_non_null(jobhost_testkit_log_find(kit, "token is 6 bytes"));
  /* a secret never reaches the log */
  assert_null(jobhost_testkit_log_find(kit, "s3cr"));
  /* a setting the package does not declare is refused */
  jobhost_testkit_setting(kit, "path", "here");
  assert_int_equal(jobhost_testkit_run(kit, "CountTask"), JOBHOST_ECONFIG);
  assert_non_null(strstr(jobhost_testkit_error(kit), "path"));
}

static void test_export(void **state) {
  jobhost_testkit *kit = *state;
  const char *const *cols;
  size_t len;
  const char *cookie;

  jobhost_testkit_setting(kit, "values", "apple,pear, plum");
  assert_int_equal(jobhost_testkit_cookie(kit, "before", 6), 0);
  assert_int_equal(jobhost_testkit_export(kit, "kitpkg"), 0);
  assert_non_null(jobhost_testkit_log_find(kit, "cookie before"));
  assert_int_equal(jobhost_testkit_table_count(kit), 1);
  assert_string_equal(jobhost_testkit_table_name(kit, 0), "items");
  assert_int_equal(jobhost_testkit_columns(kit, "items", &cols), 2);
  assert_string_equal(cols[0], "id");
  assert_string_equal(cols[1], "text");
  assert_int_equal(jobhost_testkit_rows(kit, "items"), 3);
  assert_string_equal(jobhost_testkit_cell(kit, "items", 2, "text"), " plum");
  assert_string_equal(jobhost_testkit_cell(kit, "items", 0, "id"), "1");
  assert_null(jobhost_testkit_cell(kit, "items", 3, "id"));
  assert_null(jobhost_testkit_cell(kit, "items", 0, "nope"));
  /* ExportTask's counters and message */
  assert_int_equal(counter(kit, "rows"), 3);
  assert_int_equal(counter(kit, "tables"), 1);
  assert_int_equal(jobhost_testkit_produced_output(kit), 1);
  assert_non_null(strstr(jobhost_testkit_message(kit), "1 table, 3 rows"));
  assert_non_null(jobhost_testkit_log_find(kit, "table items: 3 rows"));
  cookie = jobhost_testkit_cookie_saved(kit, &len);
  assert_int_equal(len, 5);
  assert_memory_equal(cookie, "after", 5);

  /* ignore_cookie_file: the host's, the package sees no cookie */
  jobhost_testkit_cookie(kit, "before", 6);
  jobhost_testkit_param(kit, "ignore_cookie_file", "true");
  assert_int_equal(jobhost_testkit_export(kit, "kitpkg"), 0);
  assert_null(jobhost_testkit_log_find(kit, "cookie before"));
}

/* A package's own rows and tables counters are kept: ExportTask does not
 * overwrite them with its own counts (it did before issue 15). */
static void test_export_keeps_package_counters(void **state) {
  jobhost_testkit *kit = *state;
  jobhost_testkit_setting(kit, "values", "a,b");
  jobhost_testkit_setting(kit, "own_counters", "true");
  assert_int_equal(jobhost_testkit_export(kit, "kitpkg"), 0);
  assert_int_equal(counter(kit, "rows"), 42);
  assert_int_equal(counter(kit, "tables"), 7);
  assert_int_equal(jobhost_testkit_rows(kit, "items"), 2);
}

/* A failed export publishes nothing and keeps the cookie it started
 * with. */
static void test_export_failed(void **state) {
  jobhost_testkit *kit = *state;
  size_t len;
  jobhost_testkit_setting(kit, "values", "a,b");
  jobhost_testkit_setting(kit, "fail", "true");
  jobhost_testkit_cookie(kit, "before", 6);
  assert_int_equal(jobhost_testkit_export(kit, "kitpkg"), -EIO);
  assert_string_equal(jobhost_testkit_message(kit), "told to fail");
  assert_int_equal(jobhost_testkit_table_count(kit), 0);
  assert_memory_equal(jobhost_testkit_cookie_saved(kit, &len), "before", 6);
  assert_int_equal(len, 6);
}

/* table_open's refusals, each with its message in the task's log; a task
 * other than ExportTask may write tables, published when it succeeds. */
static void test_table_open_refusals(void **state) {
  jobhost_testkit *kit = *state;
  static const char *const logged[] = {
      "table_open: refused: a table needs a name",
      "table_open: refused: a table name does not start with '.'",
      "table_open: refused: a table name has no '/', '\\' or control "
      "character",
      "table_open: refused: a table name has at most 200 bytes",
      "table_open(t): refused: a table needs at least one column",
      "table_open(t): refused: column 3 appears twice (column 1 has the same "
      "name)",
      "table_open(t): refused: column 2 has no name",
      "table_open(made_by_a_task): refused: the task opened a table of that "
      "name already"};
  size_t errors = 0;

  assert_int_equal(jobhost_testkit_run(kit, "TablesTask"), 0);
  for (size_t i = 0; i < sizeof(logged) / sizeof(logged[0]); i++)
    if (jobhost_testkit_log_find(kit, logged[i]) == NULL)
      fail_msg("no log line '%s'", logged[i]);
  for (size_t i = 0; i < jobhost_testkit_log_count(kit); i++)
    errors += strncmp(jobhost_testkit_log_line(kit, i), "ERROR", 5) == 0;
  assert_int_equal(errors, 13); /* one line each refusal */
  assert_null(jobhost_testkit_log_find(kit, "a\nb"));
  assert_int_equal(jobhost_testkit_table_count(kit), 1);
  assert_string_equal(jobhost_testkit_table_name(kit, 0), "made_by_a_task");
  assert_string_equal(jobhost_testkit_cell(kit, "made_by_a_task", 0, "a"), "x");
  /* in validate: refused (the entry point checks -EPERM) */
  assert_int_equal(jobhost_testkit_validate(kit, "TablesTask"), 0);
}

static void test_fulfill(void **state) {
  jobhost_testkit *kit = *state;
  const char *why;
  jobhost_testkit_setting(kit, "values", "unused");
  ended = 0;
  assert_int_equal(
      jobhost_testkit_fulfill(
          kit, "kitpkg", "login",
          "[{\"ChangeType\": \"Added\", \"Changes\": {\"login\": \"ann\"}},"
          " {\"ChangeType\": \"Deleted\", \"Resource\": {\"login\": "
          "\"bob\"}}]"),
      0);
  assert_int_equal(ended, 1);
  assert_int_equal(jobhost_testkit_order_count(kit), 2);
  assert_int_equal(jobhost_testkit_order_result(kit, 0, &why), 0);
  assert_int_equal(jobhost_testkit_order_result(kit, 1, &why), -1);
  assert_string_equal(why, "cannot delete bob");
  assert_int_equal(jobhost_testkit_order_result(kit, 2, &why), -ENOENT);
  assert_non_null(jobhost_testkit_log_find(kit, "order 1 on ann"));
  assert_int_equal(counter(kit, "executed"), 1);
  assert_int_equal(counter(kit, "errored"), 1);

  /* orders that are not an array of orders */
  assert_int_equal(jobhost_testkit_fulfill(kit, "kitpkg", NULL, "{}"), -EINVAL);
  assert_non_null(strstr(jobhost_testkit_error(kit), "JSON array"));
  assert_int_equal(
      jobhost_testkit_fulfill(kit, "kitpkg", NULL,
                              "[{\"ChangeType\": \"Added\", "
                              "\"AssignedResourceTypeId\": \"12\"}]"),
      -EINVAL);
  assert_non_null(strstr(jobhost_testkit_error(kit), "numeric"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
      T(test_run_task),
      T(test_run_refused),
      T(test_settings_and_secrets),
      T(test_export),
      T(test_export_keeps_package_counters),
      T(test_export_failed),
      T(test_table_open_refusals),
      T(test_fulfill),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
