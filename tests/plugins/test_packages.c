/*
 * test_packages.c — ExportTask against the stand-in host services
 * (tests/harness_services.h): what the test kit cannot stage (no package,
 * a host of ABI 1.0, a package that leaves a table open, a cancel before
 * the start or in the middle of a csv export); the host's ExportOutput
 * bookkeeping (host/engine/export_output.c); and the csv and ldif
 * packages end to end through the jobhost program. The csv and ldif
 * packages' own tests run on the test kit: tests/plugins/test_csv_ldif.c.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "csv.h"
#include "export_output.h"
#include "loader.h"
#include "model.h"
#include "harness_host.h"
#include "harness_services.h"

/* ---- the stand-in host ---- */

typedef struct mock {
  char dir[256]; /* temporary folder of the test */
  char out[300]; /* every folder of the task; tables are written here */
  jh_fake_host h;
} mock;

/* ---- fixtures ---- */

static jh_registry *registry;

static int group_setup(void **state) {
  const char *dirs[1] = {jh_test_env("JH_BUILTIN_PLUGIN_DIR")};
  (void)state;
  if (jh_registry_load(dirs, 1, &registry) != 0)
    return -1;
  return jh_registry_package(registry, "csv", NULL) != NULL &&
                 jh_registry_package(registry, "ldif", NULL) != NULL
             ? 0
             : -1;
}

static int group_teardown(void **state) {
  (void)state;
  jh_registry_free(registry);
  return 0;
}

static int setup(void **state) {
  mock *m = jh_test_fixture(sizeof(*m), sizeof(m->dir));
  snprintf(m->out, sizeof(m->out), "%s/out", m->dir);
  jh_test_mkdir(m->out);
  jh_fake_host_init(&m->h);
  for (size_t i = 0; i <= JOBHOST_FOLDER_TASK_WORK; i++)
    m->h.folders[i] = m->out;
  m->h.table_dir = m->out;
  jh_fake_put(&m->h.params, "connection", "HR_Export");
  *state = m;
  return 0;
}

static int teardown(void **state) {
  mock *m = *state;
  jh_fake_host_clear(&m->h);
  jh_test_fixture_free(m);
  return 0;
}

/* A path under the test's folder, in one of a few rotating buffers. */
static const char *in_dir(const mock *m, const char *name) {
  static char paths[4][PATH_MAX];
  static unsigned next;
  char *p = paths[next++ % 4];
  snprintf(p, PATH_MAX, "%s/%s", m->dir, name);
  return p;
}

static void assert_table(const mock *m, const char *table,
                         const char *expected) {
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/%s.csv", m->out, table);
  jh_test_assert_file(path, expected);
}

static void assert_contains(const char *text, const char *needle) {
  if (text == NULL || strstr(text, needle) == NULL)
    fail_msg("'%s' lacks '%s'", text ? text : "(null)", needle);
}

/* Run ExportTask with the package `package` (NULL: none). */
static int run_export(mock *m, const jobhost_package *package) {
  const jobhost_task_type *t = jh_registry_task_type(registry, "ExportTask",
                                                     NULL);
  jobhost_ctx ctx = jh_fake_ctx(&m->h, "Export", "ExportTask");
  int rc;
  assert_non_null(t);
  m->h.type = t;
  m->h.package = package;
  m->h.message[0] = '\0';
  rc = t->run(&ctx);
  assert_int_equal(m->h.open_tables, 0); /* nothing left open, ever */
  return rc;
}

static int run_csv(mock *m) {
  return run_export(m, jh_registry_package(registry, "csv", NULL));
}

/* ---- ExportTask ---- */

static void test_export_no_package(void **state) {
  mock *m = *state;
  jh_connection conn = {.id = "hr_export", .package = "sql"};
  jh_model model = {.connections = &conn, .nconnections = 1};

  /* Not in the model (here: no model at all). */
  assert_int_equal(run_export(m, NULL), JOBHOST_ECONFIG);
  assert_contains(m->h.message, "connection HR_Export is not declared in the "
                                "model");
  /* Declared (ids ignore case), but its package is not loaded. */
  m->h.model = &model;
  assert_int_equal(run_export(m, NULL), JOBHOST_ECONFIG);
  assert_contains(m->h.message, "connection HR_Export: its package 'sql' is "
                                "provided by no loaded plugin");
}

static int fulfill_only(jobhost_ctx *ctx, void *state,
                        const jobhost_order *order, char *message,
                        size_t size) {
  (void)ctx;
  (void)state;
  (void)order;
  (void)message;
  (void)size;
  return 0;
}

static void test_export_package_without_export(void **state) {
  static const jobhost_package pkg = {.name = "robot",
                                      .fulfill_order = fulfill_only};
  mock *m = *state;
  assert_int_equal(run_export(m, &pkg), JOBHOST_ECONFIG);
  assert_contains(m->h.message, "connection HR_Export");
  assert_contains(m->h.message, "package robot cannot export");
}

static void test_export_old_host(void **state) {
  mock *m = *state;
  const jobhost_task_type *t = jh_registry_task_type(registry, "ExportTask",
                                                     NULL);
  jobhost_services old = jh_fake_services;
  jobhost_ctx ctx = jh_fake_ctx(&m->h, NULL, NULL);
  ctx.svc = &old;
  m->h.type = t;
  old.struct_size = (uint32_t)offsetof(jobhost_services, connection_package);
  old.abi_minor = 0;
  assert_int_equal(t->run(&ctx), -ENOTSUP);
  assert_contains(m->h.message, "ABI 1.1");
}

/* A package that opens a table and forgets it. */
static int leaky_export(jobhost_ctx *ctx, void *state) {
  static const char *const cols[] = {"a"};
  jobhost_table *t;
  (void)state;
  return ctx->svc->table_open(ctx, "leaky", cols, 1, &t);
}

static void test_export_table_left_open(void **state) {
  static const jobhost_package pkg = {.name = "leaky",
                                      .export_tables = leaky_export};
  mock *m = *state;
  assert_int_equal(run_export(m, &pkg), -EIO);
  assert_contains(m->h.message, "left a table open");
  assert_contains(m->h.log, "package leaky left table leaky open");
}

/* A package with open/close that writes two tables and reports its own
 * failure message when asked to. */
static int opened, closed;
static int two_open(jobhost_ctx *ctx, void **state) {
  (void)ctx;
  opened++;
  *state = &opened;
  return 0;
}
static void two_close(jobhost_ctx *ctx, void *state) {
  (void)ctx;
  assert_ptr_equal(state, &opened);
  closed++;
}
static int two_export(jobhost_ctx *ctx, void *state) {
  static const char *const cols[] = {"k", "v"};
  const char *row[2] = {"1", "x"};
  jobhost_table *t;
  (void)state;
  for (int i = 0; i < 2; i++) {
    assert_int_equal(
        ctx->svc->table_open(ctx, i ? "two_b" : "two_a", cols, 2, &t), 0);
    for (int r = 0; r <= i; r++)
      assert_int_equal(ctx->svc->table_write(t, row, 2), 0);
    assert_int_equal(ctx->svc->table_close(t), 0);
  }
  return 0;
}

static void test_export_counts_and_open_close(void **state) {
  static const jobhost_package pkg = {.name = "two",
                                      .open = two_open,
                                      .close = two_close,
                                      .export_tables = two_export};
  mock *m = *state;
  opened = closed = 0;
  assert_int_equal(run_export(m, &pkg), 0);
  assert_int_equal(opened, 1);
  assert_int_equal(closed, 1);
  assert_int_equal(jh_fake_counter(&m->h, "tables"), 2);
  assert_int_equal(jh_fake_counter(&m->h, "rows"), 3);
  assert_int_equal(m->h.produced, 1);
  assert_contains(m->h.message, "2 tables, 3 rows from connection HR_Export");
  assert_contains(m->h.log, "table two_b: 2 rows");
  assert_table(m, "two_b", "k,v\r\n1,x\r\n1,x\r\n");
}

static void test_export_cancelled_before_start(void **state) {
  mock *m = *state;
  m->h.cancel_after = 0;
  assert_int_equal(run_csv(m), JOBHOST_ECANCELLED);
}

/* ---- csv: cancelled (the stand-in's cancel_after; the test kit has no
 * cancel) ---- */

static const char *write_big(const mock *m, long rows) {
  const char *path = in_dir(m, "big.csv");
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("c0,c1,c2,c3,c4,c5,c6,c7,c8,c9\n", f);
  for (long i = 0; i < rows; i++)
    fprintf(f,
            "%ld,first %ld,last,%ld@example.org,dept %ld,\"a, b\",x,y,"
            "z,%ld\n",
            i, i, i, i % 97, i * 7);
  assert_int_equal(fclose(f), 0);
  return path;
}

static void test_csv_cancelled_midway(void **state) {
  mock *m = *state;
  jh_fake_put(&m->h.settings, "path", write_big(m, 10000));
  m->h.cancel_after = 2; /* the checks before the start and at table_open
                          pass, the one after 4096 rows does not */
  assert_int_equal(run_csv(m), JOBHOST_ECANCELLED);
  assert_contains(m->h.message, "cancelled");
  assert_true(jh_fake_counter(&m->h, "rows") < 10000);
}

/* ---- ExportOutput bookkeeping (host) ---- */

static void touch(const mock *m, const char *name, const char *text) {
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/%s", m->out, name);
  jh_test_write_file(path, text, 0644);
}

static int exists(const mock *m, const char *name) {
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/%s", m->out, name);
  return access(path, F_OK) == 0;
}

static void test_export_output_publish_and_discard(void **state) {
  mock *m = *state;
  char path[PATH_MAX];
  jh_export_file files[2] = {{"AD_entries", path}, {"AD_member", NULL}};
  char path2[PATH_MAX];

  /* First success: two tables, listed. */
  snprintf(path, sizeof(path), "%s/t1", m->dir);
  snprintf(path2, sizeof(path2), "%s/t2", m->dir);
  files[1].tmp_path = path2;
  jh_test_write_file(path, "dn\r\n", 0644);
  jh_test_write_file(path2, "dn,member\r\n", 0644);
  touch(m, "Other.csv", "other connection\n");
  assert_int_equal(jh_export_output_publish(m->out, "AD", files, 2), 0);
  assert_true(exists(m, "AD_entries.csv"));
  assert_true(exists(m, "AD_member.csv"));
  snprintf(path, sizeof(path), "%s/AD.tables", m->out);
  jh_test_assert_file(path, "AD_entries\nAD_member\n");

  /* Second success without AD_member: it is removed, the list follows. */
  snprintf(path, sizeof(path), "%s/t1", m->dir);
  jh_test_write_file(path, "dn\r\nx\r\n", 0644);
  assert_int_equal(jh_export_output_publish(m->out, "AD", files, 1), 0);
  assert_false(exists(m, "AD_member.csv"));
  snprintf(path, sizeof(path), "%s/AD.tables", m->out);
  jh_test_assert_file(path, "AD_entries\n");

  /* A failure removes the connection's tables and the list, nothing
   * else; names in a list that are not table names are ignored. */
  jh_test_write_file(path, "AD_entries\n../Other\n.hidden\n\n", 0644);
  assert_int_equal(jh_export_output_discard(m->out, "AD"), 0);
  assert_false(exists(m, "AD_entries.csv"));
  assert_false(exists(m, "AD.tables"));
  assert_true(exists(m, "Other.csv"));
  /* Nothing published yet: nothing to do. */
  assert_int_equal(jh_export_output_discard(m->out, "AD"), 0);
  assert_int_equal(jh_export_output_discard(m->out, "../x"), -EINVAL);
  /* Without a connection the files are only moved. */
  snprintf(path, sizeof(path), "%s/t1", m->dir);
  jh_test_write_file(path, "dn\r\n", 0644);
  assert_int_equal(jh_export_output_publish(m->out, NULL, files, 1), 0);
  assert_true(exists(m, "AD_entries.csv"));
}

/* ---- end to end: the jobhost program, a model, ExportTask ---- */

static const char e2e_model[] =
    "version: 1\n"
    "connectors:\n"
    "  - id: HR\n"
    "  - id: AD\n"
    "connections:\n"
    "  - id: HR_Export\n"
    "    connector: HR\n"
    "    package: csv\n"
    "    settings:\n"
    "      path: " JH_EXPORT_TEST_DATA "/hr.csv\n"
    "      path_incremental: delta.csv\n" /* relative to this file */
    "  - id: AD_Export\n"
    "    connector: AD\n"
    "    package: ldif\n"
    "    settings:\n"
    "      path: " JH_EXPORT_TEST_DATA "/directory.ldif\n"
    "      table: AD\n";

static const char e2e_pipeline[] =
    "version: 1\n"
    "include: [model.yaml]\n"
    "job:\n"
    "  id: Export_All\n"
    "  tasks:\n"
    "    - {id: HR_Export, type: ExportTask, connection: HR_Export}\n"
    "    - {id: AD_Export, type: ExportTask, connection: AD_Export}\n";

/* The table `table` the runs of j published holds `expected`. */
static void assert_published(const jh_test_jobhost *j, const char *table,
                             const char *expected) {
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/Temp/ExportOutput/%s.csv", j->home, table);
  jh_test_assert_file(path, expected);
}

static long long task_counter(json_t *report, const char *id,
                              const char *name) {
  return jh_test_counter(jh_test_report_task(report, id), name);
}

static void test_end_to_end(void **state) {
  jh_test_jobhost j;
  char path[PATH_MAX];
  char *cookie;
  json_t *report;
  (void)state;

  jh_test_jobhost_open(&j, "JH_BUILTIN_PLUGIN_DIR", NULL);
  jh_test_jobhost_file(&j, "model.yaml", e2e_model);
  jh_test_jobhost_pipeline(&j, e2e_pipeline);
  jh_test_jobhost_file(&j, "delta.csv",
                       "EmployeeId,LastName,FirstName,Mail,ManagerId\n"
                       "1002,Smith,Alice,alice@example.org,1001\n");

  /* First run: no cookie, so a complete export of `path`. */
  report = jh_test_jobhost_report(&j, 0, "run", j.pipeline, NULL);
  assert_int_equal(task_counter(report, "HR_Export", "tables"), 1);
  assert_int_equal(task_counter(report, "HR_Export", "rows"), 3);
  assert_int_equal(task_counter(report, "AD_Export", "tables"), 3);
  assert_int_equal(task_counter(report, "AD_Export", "rows"), 13);
  json_decref(report);
  assert_published(&j, "HR_Export",
                   "EmployeeId,LastName,FirstName,Mail,ManagerId\r\n"
                   "1001,Doe,John,john.doe@example.org,\r\n"
                   "1002,Smith,Alice,alice.smith@example.org,1001\r\n"
                   "1003,\"O'Brien, Jr.\",Pat,pat.obrien@example.org,1001"
                   "\r\n");
  assert_published(&j, "AD_member",
                   "dn,member\r\n"
                   "\"cn=admins,ou=groups,dc=example,dc=org\","
                   "\"uid=jdoe,ou=people,dc=example,dc=org\"\r\n"
                   "\"cn=admins,ou=groups,dc=example,dc=org\","
                   "\"uid=asmith,ou=people,dc=example,dc=org\"\r\n");
  snprintf(path, sizeof(path), "%s/Work/ExportCookies/HR_Export.cookie",
           j.home);
  cookie = jh_test_read_file(path);
  assert_contains(cookie, "mode complete\n");
  free(cookie);

  /* Second run: the cookie makes it incremental, from delta.csv. */
  json_decref(jh_test_jobhost_report(&j, 0, "run", j.pipeline, NULL));
  assert_published(&j, "HR_Export",
                   "EmployeeId,LastName,FirstName,Mail,ManagerId\r\n"
                   "1002,Smith,Alice,alice@example.org,1001\r\n");
  cookie = jh_test_read_file(path);
  assert_contains(cookie, "mode incremental\n");
  assert_contains(cookie, "/delta.csv\n");
  free(cookie);

  /* The incremental file gone: refused, the job ends in Error. */
  snprintf(path, sizeof(path), "%s/delta.csv", j.dir);
  assert_int_equal(unlink(path), 0);
  report = jh_test_jobhost_report(&j, 1, "run", j.pipeline, NULL);
  jh_test_assert_task(report, "HR_Export", "Error",
                      "setting path_incremental: ");
  jh_test_assert_task(report, "HR_Export", "Error",
                      "the export is not launched");
  json_decref(report);
  jh_test_jobhost_close(&j);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_export_no_package),
      T(test_export_package_without_export),
      T(test_export_old_host),
      T(test_export_table_left_open),
      T(test_export_counts_and_open_close),
      T(test_export_cancelled_before_start),
      T(test_csv_cancelled_midway),
      T(test_export_output_publish_and_discard),
      T(test_end_to_end),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
