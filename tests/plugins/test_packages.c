/*
 * test_packages.c — ExportTask and the csv and ldif connector packages,
 * loaded from the build tree and run against the stand-in host services
 * (tests/harness_services.h), which write tables into a temporary folder; and
 * the host's ExportOutput bookkeeping (host/engine/export_output.c).
 *
 * Every package test goes through ExportTask, as the host runs it: the
 * stand-in's connection_package answers the package under test.
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

static const char *write_input(const mock *m, const char *name,
                               const char *text) {
  const char *path = in_dir(m, name);
  jh_test_write_file(path, text, 0644);
  return path;
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

static int run_ldif(mock *m) {
  return run_export(m, jh_registry_package(registry, "ldif", NULL));
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

/* ---- csv ---- */

static void test_csv_quotes_newlines_crlf_bom(void **state) {
  mock *m = *state;
  jh_fake_put(&m->h.settings, "path",
              write_input(m, "hr.csv",
                          "\xef\xbb\xbfId,Name,Note\r\n"
                          "1,\"Doe, John\",\"said \"\"hi\"\"\"\r\n"
                          "2,Smith,\"two\r\nlines\"\r\n"
                          "\r\n"
                          "3,Zoë,\"\"\r\n"));
  assert_int_equal(run_csv(m), 0);
  assert_table(m, "HR_Export",
               "Id,Name,Note\r\n"
               "1,\"Doe, John\",\"said \"\"hi\"\"\"\r\n"
               "2,Smith,\"two\r\nlines\"\r\n"
               "3,Zoë,\r\n");
  assert_int_equal(jh_fake_counter(&m->h, "rows"), 3);
  assert_int_equal(jh_fake_counter(&m->h, "tables"), 1);
  assert_null(m->h.cookie_out); /* no path_incremental: never incremental */
}

static void test_csv_fixture(void **state) {
  mock *m = *state;
  jh_fake_put(&m->h.settings, "path", JH_EXPORT_TEST_DATA "/hr.csv");
  jh_fake_put(&m->h.settings, "table", "HR_People");
  assert_int_equal(run_csv(m), 0);
  assert_table(m, "HR_People",
               "EmployeeId,LastName,FirstName,Mail,ManagerId\r\n"
               "1001,Doe,John,john.doe@example.org,\r\n"
               "1002,Smith,Alice,alice.smith@example.org,1001\r\n"
               "1003,\"O'Brien, Jr.\",Pat,pat.obrien@example.org,1001\r\n");
}

/* A row with fewer fields than the header is an error naming file:line
 * and both counts (the host then publishes nothing: test_sync_e2e). */
static void test_csv_short_row_refused(void **state) {
  mock *m = *state;
  jh_fake_put(&m->h.settings, "path",
              write_input(m, "short.csv",
                          "a,b,c,d,e,f,g,h\n"
                          "1,2,3,4,5,6,7,8\n"
                          "9,10\n"
                          "11,12,13,14,15,16,17,18\n"));
  assert_int_equal(run_csv(m), -EILSEQ);
  assert_contains(m->h.message, "connection HR_Export: ");
  assert_contains(m->h.message, "short.csv:3: 2 fields where the header (line "
                                "1) has 8");
  assert_contains(m->h.message, "pad_short_rows");

  /* A file cut in the middle of its last line (no line end). */
  jh_fake_put(&m->h.settings, "path",
              write_input(m, "cut.csv",
                          "Id,Last,First,Mail\n"
                          "1,Doe,John,john@x\n"
                          "2,Smi"));
  assert_int_equal(run_csv(m), -EILSEQ);
  assert_contains(m->h.message, "cut.csv:3: 2 fields where the header (line "
                                "1) has 4");

  /* One field only: the counts say so in the singular. */
  jh_fake_put(&m->h.settings, "path",
              write_input(m, "one.csv", "a,b\n\"x\"\n"));
  assert_int_equal(run_csv(m), -EILSEQ);
  assert_contains(m->h.message, "one.csv:2: 1 field where the header (line "
                                "1) has 2");
}

/* pad_short_rows: true pads short rows (a warning gives the count and the
 * first line); long rows with empty extra fields are accepted either way,
 * others refused. */
static void test_csv_short_and_long_rows(void **state) {
  mock *m = *state;
  jh_fake_put(&m->h.settings, "pad_short_rows", "true");
  jh_fake_put(&m->h.settings, "path",
              write_input(m, "rows.csv",
                          "a,b,c\n"
                          "1,2\n"     /* short: padded */
                          "3,4,5,,\n" /* trailing empties */
                          "6\n"));
  assert_int_equal(run_csv(m), 0);
  assert_table(m, "HR_Export", "a,b,c\r\n1,2,\r\n3,4,5\r\n6,,\r\n");
  assert_contains(m->h.log, "2 rows had fewer fields than the header (first "
                            "at line 2)");

  jh_fake_put(&m->h.settings, "pad_short_rows", "false");
  jh_fake_put(&m->h.settings, "path",
              write_input(m, "long.csv", "a,b\n1,2\n3,4,,\n"));
  assert_int_equal(run_csv(m), 0);
  assert_table(m, "HR_Export", "a,b\r\n1,2\r\n3,4\r\n");
  jh_fake_put(&m->h.settings, "path",
              write_input(m, "long.csv", "a,b\n1,2\n3,4,5\n"));
  assert_int_equal(run_csv(m), -EILSEQ);
  assert_contains(m->h.message, "long.csv:3: 3 fields where the header (line "
                                "1) has 2, and field 3 is not empty");

  jh_fake_put(&m->h.settings, "pad_short_rows", "maybe");
  assert_int_equal(run_csv(m), JOBHOST_ECONFIG);
  assert_contains(m->h.message, "pad_short_rows");
}

static void test_csv_invalid_utf8(void **state) {
  mock *m = *state;
  jh_fake_put(&m->h.settings, "path",
              write_input(m, "bad.csv", "a,b\n1,ok\n2,caf\xe9\n"));
  assert_int_equal(run_csv(m), -EILSEQ);
  assert_contains(m->h.message, "bad.csv:3: invalid UTF-8");
  assert_contains(m->h.message, "connection HR_Export");
}

static void test_csv_bad_quoting(void **state) {
  mock *m = *state;
  jh_fake_put(&m->h.settings, "path",
              write_input(m, "q.csv", "a,b\n1,\"open\n2,x\n"));
  assert_int_equal(run_csv(m), -EILSEQ);
  assert_contains(m->h.message, "q.csv:2: unterminated quoted field");
}

static void test_csv_skip_trim_separator(void **state) {
  mock *m = *state;
  jh_fake_put(&m->h.settings, "path",
              write_input(m, "semi.csv",
                          "exported by HR, 2026-11-25\n"
                          "# second line of preamble\n"
                          "Id;Name ;City\n"
                          " 1 ;  Doe ;*Paris*\n"
                          "2;\" kept \";Lyon\n"));
  jh_fake_put(&m->h.settings, "number_of_lines_to_skip", "2");
  jh_fake_put(&m->h.settings, "values_to_trim", " *");
  jh_fake_put(&m->h.settings, "separator", ";");
  assert_int_equal(run_csv(m), 0);
  assert_table(m, "HR_Export",
               "Id,Name,City\r\n1,Doe,Paris\r\n2,\" kept "
               "\",Lyon\r\n");
}

static void test_csv_header_rules(void **state) {
  mock *m = *state;
  jh_fake_put(&m->h.settings, "path",
              write_input(m, "h.csv", "a,,c\n1,dropped,3\n"));
  assert_int_equal(run_csv(m), 0);
  assert_table(m, "HR_Export", "a,c\r\n1,3\r\n");
  assert_contains(m->h.log, "h.csv:1: column 2 has no header");

  jh_fake_put(&m->h.settings, "path",
              write_input(m, "dup.csv", "a,b,a\n1,2,3\n"));
  assert_int_equal(run_csv(m), -EILSEQ);
  assert_contains(m->h.message, "dup.csv:1: column 'a' appears twice");

  jh_fake_put(&m->h.settings, "path", write_input(m, "empty.csv", ""));
  assert_int_equal(run_csv(m), -ENODATA);
  assert_contains(m->h.message, "empty.csv: empty file, expected a header");
}

static void test_csv_missing_path(void **state) {
  mock *m = *state;
  assert_int_equal(run_csv(m), JOBHOST_ECONFIG);
  assert_contains(m->h.message, "needs setting path, which is not set");
  assert_contains(m->h.message, "not launched");

  jh_fake_put(&m->h.settings, "path", in_dir(m, "absent.csv"));
  assert_int_equal(run_csv(m), -ENOENT);
  assert_contains(m->h.message, "setting path: ");
  assert_contains(m->h.message, "/absent.csv: No such file or directory");
  assert_contains(m->h.message, "not launched");
}

static void test_csv_bad_settings(void **state) {
  mock *m = *state;
  jh_fake_put(&m->h.settings, "path", write_input(m, "x.csv", "a\n1\n"));
  jh_fake_put(&m->h.settings, "encoding", "ISO-8859-1");
  assert_int_equal(run_csv(m), JOBHOST_ECONFIG);
  assert_contains(m->h.message, "setting encoding: only UTF-8");
  jh_fake_put(&m->h.settings, "encoding", "utf-8");
  jh_fake_put(&m->h.settings, "separator", "||");
  assert_int_equal(run_csv(m), JOBHOST_ECONFIG);
  assert_contains(m->h.message, "setting separator");
  jh_fake_put(&m->h.settings, "separator", "tab");
  jh_fake_put(&m->h.settings, "number_of_lines_to_skip", "-1");
  assert_int_equal(run_csv(m), JOBHOST_ECONFIG);
  assert_contains(m->h.message, "number_of_lines_to_skip");
  jh_fake_put(&m->h.settings, "number_of_lines_to_skip", "0");
  jh_fake_put(&m->h.settings, "table", "../escape");
  assert_int_equal(run_csv(m), JOBHOST_ECONFIG);
  assert_contains(m->h.message, "setting table");
  jh_fake_put(&m->h.settings, "table", "T");
  assert_int_equal(run_csv(m), 0);
  assert_table(m, "T", "a\r\n1\r\n");
}

static void test_csv_incremental_and_cookie(void **state) {
  mock *m = *state;
  const char *full = write_input(m, "full.csv", "id,v\n1,a\n2,b\n");
  const char *delta = write_input(m, "delta.csv", "id,v\n2,B\n");
  char *first;

  jh_fake_put(&m->h.settings, "path", full);
  jh_fake_put(&m->h.settings, "path_incremental", delta);
  /* No cookie yet: complete, and a cookie for the next run. */
  assert_int_equal(run_csv(m), 0);
  assert_table(m, "HR_Export", "id,v\r\n1,a\r\n2,b\r\n");
  assert_non_null(m->h.cookie_out);
  assert_contains(m->h.cookie_out, "jobhost-csv-cookie 1\nmode complete\n");
  assert_contains(m->h.cookie_out, "/full.csv\n");

  /* With the cookie: incremental, from path_incremental. */
  m->h.cookie_in = m->h.cookie_out;
  m->h.cookie_in_len = m->h.cookie_out_len;
  m->h.cookie_out = NULL;
  assert_int_equal(run_csv(m), 0);
  assert_table(m, "HR_Export", "id,v\r\n2,B\r\n");
  assert_contains(m->h.cookie_out, "mode incremental\n");
  assert_contains(m->h.cookie_out, "/delta.csv\n");
  assert_null(strstr(m->h.log, "has not changed"));

  /* The same delta again: exported, with a warning. */
  first = m->h.cookie_in;
  m->h.cookie_in = m->h.cookie_out;
  m->h.cookie_in_len = m->h.cookie_out_len;
  m->h.cookie_out = NULL;
  free(first);
  assert_int_equal(run_csv(m), 0);
  assert_contains(m->h.log, "delta.csv has not changed since the last "
                            "incremental export");

  /* ignore_cookie_file: complete again. */
  jh_fake_put(&m->h.params, "ignore_cookie_file", "true");
  assert_int_equal(run_csv(m), 0);
  assert_table(m, "HR_Export", "id,v\r\n1,a\r\n2,b\r\n");
  jh_fake_put(&m->h.params, "ignore_cookie_file", "false");

  /* A cookie but no path_incremental: refused. */
  jh_fake_put(&m->h.settings, "path_incremental", NULL);
  assert_int_equal(run_csv(m), JOBHOST_ECONFIG);
  assert_contains(m->h.message, "setting path_incremental is not set");
  assert_contains(m->h.message, "ignore_cookie_file");

  /* A cookie and a missing incremental file: refused, naming both. */
  jh_fake_put(&m->h.settings, "path_incremental", in_dir(m, "gone.csv"));
  assert_int_equal(run_csv(m), -ENOENT);
  assert_contains(m->h.message, "setting path_incremental: ");
  assert_contains(m->h.message, "/gone.csv");
}

static void set_mtime(const char *path, time_t t) {
  struct timespec ts[2] = {{t, 0}, {t, 0}};
  assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void test_csv_file_name_regex(void **state) {
  mock *m = *state;
  char pattern[PATH_MAX];
  set_mtime(write_input(m, "hr_2026-01.csv", "id\nold\n"), 1000000);
  set_mtime(write_input(m, "hr_2026-03.csv", "id\nnewest\n"), 3000000);
  set_mtime(write_input(m, "hr_2026-02.csv", "id\nmiddle\n"), 2000000);
  set_mtime(write_input(m, "other.csv", "id\nnot matching\n"), 4000000);
  set_mtime(write_input(m, "hr_2026-04.csv.bak", "id\nnot whole\n"), 5000000);
  snprintf(pattern, sizeof(pattern), "%s/hr_[0-9-]+\\.csv", m->dir);
  jh_fake_put(&m->h.settings, "path", pattern);
  jh_fake_put(&m->h.settings, "is_file_name_regex", "true");
  assert_int_equal(run_csv(m), 0);
  assert_table(m, "HR_Export", "id\r\nnewest\r\n");
  assert_contains(m->h.log, "/hr_2026-03.csv");

  snprintf(pattern, sizeof(pattern), "%s/nothing_[0-9]+\\.csv", m->dir);
  jh_fake_put(&m->h.settings, "path", pattern);
  assert_int_equal(run_csv(m), -ENOENT);
  assert_contains(m->h.message, "setting path: no file of ");
  assert_contains(m->h.message, "matches 'nothing_[0-9]+\\.csv'");

  snprintf(pattern, sizeof(pattern), "%s/bad(regex", m->dir);
  jh_fake_put(&m->h.settings, "path", pattern);
  assert_int_equal(run_csv(m), JOBHOST_ECONFIG);
  assert_contains(m->h.message, "invalid regular expression 'bad(regex'");
}

/* Rows of the large-file test: under valgrind a smaller file. */
static long big_rows(void) {
  const char *vg = getenv("VALGRIND");
  return vg != NULL && *vg != '\0' && getenv("JH_NO_VALGRIND") == NULL
             ? 20000
             : 1000000;
}

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

static void test_csv_large_file_streams(void **state) {
  mock *m = *state;
  long rows = big_rows();
  struct timespec t0, t1;
  double secs;

  jh_fake_put(&m->h.settings, "path", write_big(m, rows));
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(run_csv(m), 0);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  print_message("csv export: %ld rows x 10 columns in %.2f s\n", rows, secs);
  assert_int_equal(jh_fake_counter(&m->h, "rows"), rows);
  assert_int_equal(m->h.progress_done, (uint64_t)rows);
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

/* ---- ldif ---- */

static void test_ldif_tables(void **state) {
  mock *m = *state;
  jh_fake_put(&m->h.params, "connection", "AD_Export");
  jh_fake_put(&m->h.settings, "path", JH_EXPORT_TEST_DATA "/directory.ldif");
  jh_fake_put(&m->h.settings, "table", "dir");
  assert_int_equal(run_ldif(m), 0);
  assert_table(m, "dir_entries",
               "dn,dc,uid,cn,sn,mail,description,title\r\n"
               "\"dc=example,dc=org\",example,,,,,,\r\n"
               "\"uid=jdoe,ou=people,dc=example,dc=org\",,jdoe,John Doe,Doe,"
               "john.doe@example.org,\"Café owner, Zürich\","
               "Senior engineer of the identity team\r\n"
               "\"cn=admins,ou=groups,dc=example,dc=org\",,,admins,,,,\r\n"
               "\"uid=asmith,ou=people,dc=example,dc=org\",,asmith,"
               "Alice Smith,Smith,,,\r\n");
  assert_table(m, "dir_objectClass",
               "dn,objectClass\r\n"
               "\"dc=example,dc=org\",top\r\n"
               "\"dc=example,dc=org\",domain\r\n"
               "\"uid=jdoe,ou=people,dc=example,dc=org\",top\r\n"
               "\"uid=jdoe,ou=people,dc=example,dc=org\",inetOrgPerson\r\n"
               "\"cn=admins,ou=groups,dc=example,dc=org\",top\r\n"
               "\"cn=admins,ou=groups,dc=example,dc=org\",groupOfNames\r\n"
               "\"uid=asmith,ou=people,dc=example,dc=org\",inetOrgPerson\r\n");
  assert_table(m, "dir_member",
               "dn,member\r\n"
               "\"cn=admins,ou=groups,dc=example,dc=org\","
               "\"uid=jdoe,ou=people,dc=example,dc=org\"\r\n"
               "\"cn=admins,ou=groups,dc=example,dc=org\","
               "\"uid=asmith,ou=people,dc=example,dc=org\"\r\n");
  assert_int_equal(jh_fake_counter(&m->h, "tables"), 3);
  assert_int_equal(jh_fake_counter(&m->h, "rows"), 4 + 7 + 2);
  assert_int_equal(m->h.progress_done, 4);
  assert_int_equal(m->h.progress_total, 4);
}

static void test_ldif_multi_valued_setting(void **state) {
  mock *m = *state;
  jh_fake_put(&m->h.settings, "path",
              write_input(m, "d.ldif",
                          "dn: cn=g,dc=x\n"
                          "cn: g\n"
                          "member: cn=a,dc=x\n"
                          "\n"
                          "dn: cn=h,dc=x\n"
                          "cn: h\n"));
  /* Named but single-valued here, and named but absent: both tables. */
  jh_fake_put(&m->h.settings, "multi_valued", "member, mail");
  assert_int_equal(run_ldif(m), 0);
  assert_table(m, "HR_Export_entries",
               "dn,cn\r\n\"cn=g,dc=x\",g\r\n\"cn=h,dc=x\",h\r\n");
  assert_table(m, "HR_Export_member",
               "dn,member\r\n\"cn=g,dc=x\",\"cn=a,dc=x\"\r\n");
  assert_table(m, "HR_Export_mail", "dn,mail\r\n");

  /* Several values of an attribute the setting does not name. */
  jh_fake_put(&m->h.settings, "path",
              write_input(m, "e.ldif",
                          "dn: cn=g,dc=x\n"
                          "cn: g\n"
                          "\n"
                          "dn: cn=h,dc=x\n"
                          "cn: h\n"
                          "cn: aitch\n"));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(m->h.message, "e.ldif:4: an entry holds 2 values of "
                                "attribute cn, which setting multi_valued does "
                                "not list");
}

static void test_ldif_binary_and_crlf(void **state) {
  mock *m = *state;
  jh_fake_put(&m->h.settings, "path",
              write_input(m, "b.ldif",
                          "dn: cn=p,dc=x\r\n"
                          "cn: p\r\n"
                          "jpegPhoto:: /9j/AAE=\r\n"
                          "description: folded\r\n"
                          "  value\r\n"));
  assert_int_equal(run_ldif(m), 0);
  assert_table(m, "HR_Export_entries",
               "dn,cn,jpegPhoto,description\r\n"
               "\"cn=p,dc=x\",p,/9j/AAE=,folded value\r\n");
  assert_contains(m->h.log, "values of attribute jpegPhoto are not UTF-8 "
                            "text: exported in base64");
}

static void test_ldif_bad_files(void **state) {
  mock *m = *state;
  jh_fake_put(&m->h.settings, "path",
              write_input(m, "bad1.ldif",
                          "dn: cn=a,dc=x\n"
                          "cn: a\n"
                          "\n"
                          "# comment\n"
                          "dn: cn=b,dc=x\n"
                          "cn: b\n"
                          "this line has no colon\n"));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(m->h.message, "bad1.ldif:7: invalid LDIF line");

  jh_fake_put(&m->h.settings, "path",
              write_input(m, "bad2.ldif",
                          "dn: cn=a,dc=x\n"
                          "cn:: !!!notbase64\n"));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(m->h.message, "bad2.ldif:2: invalid LDIF line (invalid "
                                "base64 encoding char (!) 0x21)");

  jh_fake_put(&m->h.settings, "path",
              write_input(m, "bad3.ldif",
                          "dn: cn=a,dc=x\n"
                          "changetype: modify\n"
                          "replace: cn\n"
                          "cn: b\n"));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(m->h.message, "bad3.ldif:2: 'changetype: modify': a "
                                "directory file holds entries only");

  jh_fake_put(&m->h.settings, "path",
              write_input(m, "bad4.ldif",
                          "dn: cn=a,dc=x\n"
                          "cn: a\n"
                          "dn: cn=b,dc=x\n"
                          "cn: b\n"));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(m->h.message, "bad4.ldif:3: a second 'dn:' line in one "
                                "entry");

  jh_fake_put(&m->h.settings, "path",
              write_input(m, "bad5.ldif", "cn: a\nsn: b\n"));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(m->h.message, "bad5.ldif:1: expected a 'dn:' line, got "
                                "'cn:'");
  /* Nothing was written from a broken file. */
  assert_int_equal(jh_fake_counter(&m->h, "tables"), 0);
}

/* URL values and includes read other files: refused with file:line
 * unless allow_url_folder names the folder a URL value's file is in
 * (after every symbolic link is resolved). */
static void test_ldif_urls_and_includes(void **state) {
  mock *m = *state;
  char allowed[512], text[2048], link[600];

  jh_fake_put(&m->h.settings, "path",
              write_input(m, "url.ldif",
                          "# a comment\n"
                          "dn: cn=a,dc=x\n"
                          "cn: a\n"
                          "displayName:< file:///etc/hostname\n"));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(m->h.message, "url.ldif:4: attribute 'displayName' takes "
                                "its value from a URL (file:///etc/hostname): "
                                "URL values are refused");
  assert_int_equal(jh_fake_counter(&m->h, "tables"), 0);

  jh_fake_put(&m->h.settings, "path",
              write_input(m, "inc.ldif",
                          "version: 1\n"
                          "\n"
                          "dn: cn=a,dc=x\n"
                          "cn: a\n"
                          "\n"
                          "include: file:///etc/hostname\n"
                          "\n"
                          "dn: cn=b,dc=x\n"
                          "cn: b\n"));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(m->h.message, "inc.ldif:6: 'include:' is refused");
  assert_int_equal(jh_fake_counter(&m->h, "tables"), 0);

  /* allowed: a file of the folder, and only that */
  snprintf(allowed, sizeof(allowed), "%s/allowed", m->dir);
  assert_int_equal(mkdir(allowed, 0700), 0);
  jh_test_write_file(in_dir(m, "allowed/photo.txt"), "hello", 0644);
  jh_test_write_file(in_dir(m, "secret.txt"), "secret", 0644);
  snprintf(link, sizeof(link), "%s/link.txt", allowed);
  assert_int_equal(symlink(in_dir(m, "secret.txt"), link), 0);
  jh_fake_put(&m->h.settings, "allow_url_folder", allowed);
  snprintf(text, sizeof(text),
           "dn: cn=a,dc=x\ncn: a\ndisplayName:< file://%s/photo.txt\n",
           allowed);
  jh_fake_put(&m->h.settings, "path", write_input(m, "ok.ldif", text));
  assert_int_equal(run_ldif(m), 0);
  assert_table(m, "HR_Export_entries",
               "dn,cn,displayName\r\n\"cn=a,dc=x\",a,hello\r\n");

  snprintf(text, sizeof(text),
           "dn: cn=a,dc=x\ncn: a\ndisplayName:< file://%s/../secret.txt\n",
           allowed);
  jh_fake_put(&m->h.settings, "path", write_input(m, "up.ldif", text));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(m->h.message, "up.ldif:3: attribute 'displayName': URL ");
  assert_contains(m->h.message, "is not a file inside");

  snprintf(
      text, sizeof(text),
      "dn: cn=a,dc=x\ncn: a\ndisplayName:< file://%s/%%2e%%2e/secret.txt\n",
      allowed);
  jh_fake_put(&m->h.settings, "path", write_input(m, "esc.ldif", text));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(m->h.message, "esc.ldif:3: attribute 'displayName': URL ");

  snprintf(text, sizeof(text),
           "dn: cn=a,dc=x\ncn: a\ndisplayName:< file://%s\n", link);
  jh_fake_put(&m->h.settings, "path", write_input(m, "link.ldif", text));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(m->h.message, "link.ldif:3: attribute 'displayName': URL ");

  jh_fake_put(&m->h.settings, "path",
              write_input(m, "http.ldif",
                          "dn: cn=a,dc=x\ncn: a\n"
                          "displayName:< http://example.org/x\n"));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(m->h.message, "http.ldif:3: attribute 'displayName': URL "
                                "http://example.org/x: expected file:///PATH");

  /* includes stay refused */
  jh_fake_put(&m->h.settings, "path", in_dir(m, "inc.ldif"));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(m->h.message, "inc.ldif:6: 'include:' is refused");

  jh_fake_put(&m->h.settings, "allow_url_folder", in_dir(m, "none"));
  assert_int_equal(run_ldif(m), JOBHOST_ECONFIG);
  assert_contains(m->h.message, "setting allow_url_folder: ");
}

static void test_ldif_missing_path(void **state) {
  mock *m = *state;
  assert_int_equal(run_ldif(m), JOBHOST_ECONFIG);
  assert_contains(m->h.message, "setting path is not set");
  jh_fake_put(&m->h.settings, "path", in_dir(m, "none.ldif"));
  assert_int_equal(run_ldif(m), -ENOENT);
  assert_contains(m->h.message, "setting path: ");
  assert_contains(m->h.message, "none.ldif: No such file or directory");
}

static void test_ldif_empty_file(void **state) {
  mock *m = *state;
  jh_fake_put(&m->h.settings, "path",
              write_input(m, "empty.ldif", "version: 1\n\n# nothing\n"));
  assert_int_equal(run_ldif(m), 0);
  assert_table(m, "HR_Export_entries", "dn\r\n");
  assert_int_equal(jh_fake_counter(&m->h, "rows"), 0);

  /* An index line (a number) alone, then the end of the file (found by
   * the fuzz target: the record reader wrote through a NULL buffer). */
  jh_fake_put(&m->h.settings, "path",
              write_input(m, "index.ldif", "1version:x"));
  assert_int_equal(run_ldif(m), 0);
  assert_table(m, "HR_Export_entries", "dn\r\n");

  /* An index line before an entry is dropped. */
  jh_fake_put(&m->h.settings, "path",
              write_input(m, "index2.ldif", "7\ndn: cn=a,dc=x\ncn: a\n"));
  assert_int_equal(run_ldif(m), 0);
  assert_table(m, "HR_Export_entries", "dn,cn\r\n\"cn=a,dc=x\",a\r\n");
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
      T(test_csv_quotes_newlines_crlf_bom),
      T(test_csv_fixture),
      T(test_csv_short_row_refused),
      T(test_csv_short_and_long_rows),
      T(test_csv_invalid_utf8),
      T(test_csv_bad_quoting),
      T(test_csv_skip_trim_separator),
      T(test_csv_header_rules),
      T(test_csv_missing_path),
      T(test_csv_bad_settings),
      T(test_csv_incremental_and_cookie),
      T(test_csv_file_name_regex),
      T(test_csv_large_file_streams),
      T(test_csv_cancelled_midway),
      T(test_ldif_tables),
      T(test_ldif_multi_valued_setting),
      T(test_ldif_binary_and_crlf),
      T(test_ldif_bad_files),
      T(test_ldif_urls_and_includes),
      T(test_ldif_missing_path),
      T(test_ldif_empty_file),
      T(test_export_output_publish_and_discard),
      T(test_end_to_end),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
