/*
 * test_csv_ldif.c — the csv and ldif connector packages' own tests, on the
 * test kit (jobhost/testkit.h): each package, loaded from the build tree
 * as the host loads it, is offered to a kit and exported through the
 * host's own ExportTask and services. The kit's connection is
 * TestConnection, so a table without a `table` setting is named after it.
 * What only the stand-in services can stage (a cancel in the middle of a
 * csv export) stays in test_packages.c.
 */
#include "config.h"

#include <dlfcn.h>
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

#include <jobhost/testkit.h>

#include "harness.h"

/* ---- the kit ---- */

typedef struct mock {
  char dir[256]; /* temporary folder of the test: its input files */
  jobhost_testkit *kit;
  char *log;    /* the last run's log lines, joined */
  char *cookie; /* the saved cookie, as text */
} mock;

/* The csv and ldif plugins, opened once: the kit borrows their
 * descriptors. */
static void *plugins[2];

static const jobhost_plugin *descriptor(int i) {
  static const char *const names[] = {"csv.so", "ldif.so"};
  char path[PATH_MAX];
  const jobhost_plugin *d;
  /* the build tree keeps the shared object in .libs (libtool) */
  for (int in_libs = 0; plugins[i] == NULL && in_libs < 2; in_libs++) {
    snprintf(path, sizeof(path), "%s/%s%s",
             jh_test_env("JH_BUILTIN_PLUGIN_DIR"), in_libs ? ".libs/" : "",
             names[i]);
    plugins[i] = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  }
  if (plugins[i] == NULL)
    fail_msg("%s", dlerror());
  d = dlsym(plugins[i], JOBHOST_PLUGIN_SYMBOL);
  if (d == NULL)
    fail_msg("%s", dlerror());
  return d;
}

static int group_teardown(void **state) {
  (void)state;
  for (int i = 0; i < 2; i++)
    if (plugins[i] != NULL)
      dlclose(plugins[i]);
  return 0;
}

static int setup(void **state) {
  mock *m = jh_test_fixture(sizeof(*m), sizeof(m->dir));
  assert_int_equal(jobhost_testkit_new(&m->kit), 0);
  assert_int_equal(jobhost_testkit_add_plugin(m->kit, descriptor(0)), 0);
  assert_int_equal(jobhost_testkit_add_plugin(m->kit, descriptor(1)), 0);
  *state = m;
  return 0;
}

static int teardown(void **state) {
  mock *m = *state;
  jobhost_testkit_free(m->kit);
  free(m->log);
  free(m->cookie);
  jh_test_fixture_free(m);
  return 0;
}

static void setting(mock *m, const char *name, const char *value) {
  assert_int_equal(jobhost_testkit_setting(m->kit, name, value), 0);
}

static void param(mock *m, const char *name, const char *value) {
  assert_int_equal(jobhost_testkit_param(m->kit, name, value), 0);
}

static const char *message(const mock *m) {
  return jobhost_testkit_message(m->kit);
}

/* The last run's log, its lines joined with line ends. */
static const char *log_text(mock *m) {
  size_t len = 0;
  FILE *f;
  free(m->log);
  m->log = NULL;
  f = open_memstream(&m->log, &len);
  assert_non_null(f);
  for (size_t i = 0; i < jobhost_testkit_log_count(m->kit); i++)
    fprintf(f, "%s\n", jobhost_testkit_log_line(m->kit, i));
  assert_int_equal(fclose(f), 0);
  return m->log;
}

static long long counter(const mock *m, const char *name) {
  int64_t v = 0;
  return jobhost_testkit_counter(m->kit, name, &v) == 0 ? v : 0;
}

static uint64_t progress_done(const mock *m) {
  uint64_t done, total;
  jobhost_testkit_progress(m->kit, &done, &total);
  return done;
}

static uint64_t progress_total(const mock *m) {
  uint64_t done, total;
  jobhost_testkit_progress(m->kit, &done, &total);
  return total;
}

/* The cookie the next run reads, as text, or NULL. */
static const char *cookie(mock *m) {
  size_t size;
  const void *data = jobhost_testkit_cookie_saved(m->kit, &size);
  free(m->cookie);
  m->cookie = NULL;
  if (data == NULL)
    return NULL;
  m->cookie = malloc(size + 1);
  assert_non_null(m->cookie);
  memcpy(m->cookie, data, size);
  m->cookie[size] = '\0';
  return m->cookie;
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

/* The table `table` the last run published holds `expected`. */
static void assert_table(const mock *m, const char *table,
                         const char *expected) {
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/%s.csv",
           jobhost_testkit_folder(m->kit, JOBHOST_FOLDER_EXPORT_OUTPUT), table);
  jh_test_assert_file(path, expected);
}

static void assert_contains(const char *text, const char *needle) {
  if (text == NULL || strstr(text, needle) == NULL)
    fail_msg("'%s' lacks '%s'", text ? text : "(null)", needle);
}

static int run_csv(mock *m) { return jobhost_testkit_export(m->kit, "csv"); }

static int run_ldif(mock *m) { return jobhost_testkit_export(m->kit, "ldif"); }

/* ---- csv ---- */

static void test_csv_quotes_newlines_crlf_bom(void **state) {
  mock *m = *state;
  setting(m, "path",
          write_input(m, "hr.csv",
                      "\xef\xbb\xbfId,Name,Note\r\n"
                      "1,\"Doe, John\",\"said \"\"hi\"\"\"\r\n"
                      "2,Smith,\"two\r\nlines\"\r\n"
                      "\r\n"
                      "3,Zoë,\"\"\r\n"));
  assert_int_equal(run_csv(m), 0);
  assert_table(m, "TestConnection",
               "Id,Name,Note\r\n"
               "1,\"Doe, John\",\"said \"\"hi\"\"\"\r\n"
               "2,Smith,\"two\r\nlines\"\r\n"
               "3,Zoë,\r\n");
  assert_int_equal(counter(m, "rows"), 3);
  assert_int_equal(counter(m, "tables"), 1);
  assert_null(cookie(m)); /* no path_incremental: never incremental */
}

static void test_csv_fixture(void **state) {
  mock *m = *state;
  setting(m, "path", JH_EXPORT_TEST_DATA "/hr.csv");
  setting(m, "table", "HR_People");
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
  setting(m, "path",
          write_input(m, "short.csv",
                      "a,b,c,d,e,f,g,h\n"
                      "1,2,3,4,5,6,7,8\n"
                      "9,10\n"
                      "11,12,13,14,15,16,17,18\n"));
  assert_int_equal(run_csv(m), -EILSEQ);
  assert_contains(message(m), "connection TestConnection: ");
  assert_contains(message(m), "short.csv:3: 2 fields where the header (line "
                              "1) has 8");
  assert_contains(message(m), "pad_short_rows");

  /* A file cut in the middle of its last line (no line end). */
  setting(m, "path",
          write_input(m, "cut.csv",
                      "Id,Last,First,Mail\n"
                      "1,Doe,John,john@x\n"
                      "2,Smi"));
  assert_int_equal(run_csv(m), -EILSEQ);
  assert_contains(message(m), "cut.csv:3: 2 fields where the header (line "
                              "1) has 4");

  /* One field only: the counts say so in the singular. */
  setting(m, "path", write_input(m, "one.csv", "a,b\n\"x\"\n"));
  assert_int_equal(run_csv(m), -EILSEQ);
  assert_contains(message(m), "one.csv:2: 1 field where the header (line "
                              "1) has 2");
}

/* pad_short_rows: true pads short rows (a warning gives the count and the
 * first line); long rows with empty extra fields are accepted either way,
 * others refused. */
static void test_csv_short_and_long_rows(void **state) {
  mock *m = *state;
  setting(m, "pad_short_rows", "true");
  setting(m, "path",
          write_input(m, "rows.csv",
                      "a,b,c\n"
                      "1,2\n"     /* short: padded */
                      "3,4,5,,\n" /* trailing empties */
                      "6\n"));
  assert_int_equal(run_csv(m), 0);
  assert_table(m, "TestConnection", "a,b,c\r\n1,2,\r\n3,4,5\r\n6,,\r\n");
  assert_contains(log_text(m), "2 rows had fewer fields than the header (first "
                               "at line 2)");

  setting(m, "pad_short_rows", "false");
  setting(m, "path", write_input(m, "long.csv", "a,b\n1,2\n3,4,,\n"));
  assert_int_equal(run_csv(m), 0);
  assert_table(m, "TestConnection", "a,b\r\n1,2\r\n3,4\r\n");
  setting(m, "path", write_input(m, "long.csv", "a,b\n1,2\n3,4,5\n"));
  assert_int_equal(run_csv(m), -EILSEQ);
  assert_contains(message(m), "long.csv:3: 3 fields where the header (line "
                              "1) has 2, and field 3 is not empty");

  /* a value the schema refuses: the export does not start (the kit checks
   * settings as the host checks a model) */
  setting(m, "pad_short_rows", "maybe");
  assert_int_equal(run_csv(m), JOBHOST_ECONFIG);
  assert_contains(jobhost_testkit_error(m->kit),
                  "expected a boolean (true, false, True, False, 1 or 0) for "
                  "'pad_short_rows', got 'maybe'");
}

static void test_csv_invalid_utf8(void **state) {
  mock *m = *state;
  setting(m, "path", write_input(m, "bad.csv", "a,b\n1,ok\n2,caf\xe9\n"));
  assert_int_equal(run_csv(m), -EILSEQ);
  assert_contains(message(m), "bad.csv:3: invalid UTF-8");
  assert_contains(message(m), "connection TestConnection");
}

static void test_csv_bad_quoting(void **state) {
  mock *m = *state;
  setting(m, "path", write_input(m, "q.csv", "a,b\n1,\"open\n2,x\n"));
  assert_int_equal(run_csv(m), -EILSEQ);
  assert_contains(message(m), "q.csv:2: unterminated quoted field");
}

static void test_csv_skip_trim_separator(void **state) {
  mock *m = *state;
  setting(m, "path",
          write_input(m, "semi.csv",
                      "exported by HR, 2026-11-25\n"
                      "# second line of preamble\n"
                      "Id;Name ;City\n"
                      " 1 ;  Doe ;*Paris*\n"
                      "2;\" kept \";Lyon\n"));
  setting(m, "number_of_lines_to_skip", "2");
  setting(m, "values_to_trim", " *");
  setting(m, "separator", ";");
  assert_int_equal(run_csv(m), 0);
  assert_table(m, "TestConnection",
               "Id,Name,City\r\n1,Doe,Paris\r\n2,\" kept "
               "\",Lyon\r\n");
}

static void test_csv_header_rules(void **state) {
  mock *m = *state;
  setting(m, "path", write_input(m, "h.csv", "a,,c\n1,dropped,3\n"));
  assert_int_equal(run_csv(m), 0);
  assert_table(m, "TestConnection", "a,c\r\n1,3\r\n");
  assert_contains(log_text(m), "h.csv:1: column 2 has no header");

  setting(m, "path", write_input(m, "dup.csv", "a,b,a\n1,2,3\n"));
  assert_int_equal(run_csv(m), -EILSEQ);
  assert_contains(message(m), "dup.csv:1: column 'a' appears twice");

  setting(m, "path", write_input(m, "empty.csv", ""));
  assert_int_equal(run_csv(m), -ENODATA);
  assert_contains(message(m), "empty.csv: empty file, expected a header");
}

static void test_csv_missing_path(void **state) {
  mock *m = *state;
  assert_int_equal(run_csv(m), JOBHOST_ECONFIG);
  assert_contains(message(m), "needs setting path, which is not set");
  assert_contains(message(m), "not launched");

  setting(m, "path", in_dir(m, "absent.csv"));
  assert_int_equal(run_csv(m), -ENOENT);
  assert_contains(message(m), "setting path: ");
  assert_contains(message(m), "/absent.csv: No such file or directory");
  assert_contains(message(m), "not launched");
}

static void test_csv_bad_settings(void **state) {
  mock *m = *state;
  setting(m, "path", write_input(m, "x.csv", "a\n1\n"));
  setting(m, "encoding", "ISO-8859-1");
  assert_int_equal(run_csv(m), JOBHOST_ECONFIG);
  assert_contains(message(m), "setting encoding: only UTF-8");
  setting(m, "encoding", "utf-8");
  setting(m, "separator", "||");
  assert_int_equal(run_csv(m), JOBHOST_ECONFIG);
  assert_contains(message(m), "setting separator");
  setting(m, "separator", "tab");
  setting(m, "number_of_lines_to_skip", "-1");
  assert_int_equal(run_csv(m), JOBHOST_ECONFIG);
  assert_contains(message(m), "number_of_lines_to_skip");
  setting(m, "number_of_lines_to_skip", "0");
  setting(m, "table", "../escape");
  assert_int_equal(run_csv(m), JOBHOST_ECONFIG);
  assert_contains(message(m), "setting table");
  setting(m, "table", "T");
  assert_int_equal(run_csv(m), 0);
  assert_table(m, "T", "a\r\n1\r\n");
}

static void test_csv_incremental_and_cookie(void **state) {
  mock *m = *state;
  const char *full = write_input(m, "full.csv", "id,v\n1,a\n2,b\n");
  const char *delta = write_input(m, "delta.csv", "id,v\n2,B\n");

  setting(m, "path", full);
  setting(m, "path_incremental", delta);
  /* No cookie yet: complete, and a cookie for the next run. */
  assert_int_equal(run_csv(m), 0);
  assert_table(m, "TestConnection", "id,v\r\n1,a\r\n2,b\r\n");
  assert_non_null(cookie(m));
  assert_contains(cookie(m), "jobhost-csv-cookie 1\nmode complete\n");
  assert_contains(cookie(m), "/full.csv\n");

  /* With the cookie (the kit gives the next run the one saved): incremental,
   * from path_incremental. */
  assert_int_equal(run_csv(m), 0);
  assert_table(m, "TestConnection", "id,v\r\n2,B\r\n");
  assert_contains(cookie(m), "mode incremental\n");
  assert_contains(cookie(m), "/delta.csv\n");
  assert_null(strstr(log_text(m), "has not changed"));

  /* The same delta again: exported, with a warning. */
  assert_int_equal(run_csv(m), 0);
  assert_contains(log_text(m), "delta.csv has not changed since the last "
                               "incremental export");

  /* ignore_cookie_file: complete again. */
  param(m, "ignore_cookie_file", "true");
  assert_int_equal(run_csv(m), 0);
  assert_table(m, "TestConnection", "id,v\r\n1,a\r\n2,b\r\n");
  param(m, "ignore_cookie_file", "false");

  /* A cookie but no path_incremental: refused. */
  setting(m, "path_incremental", NULL);
  assert_int_equal(run_csv(m), JOBHOST_ECONFIG);
  assert_contains(message(m), "setting path_incremental is not set");
  assert_contains(message(m), "ignore_cookie_file");

  /* A cookie and a missing incremental file: refused, naming both. */
  setting(m, "path_incremental", in_dir(m, "gone.csv"));
  assert_int_equal(run_csv(m), -ENOENT);
  assert_contains(message(m), "setting path_incremental: ");
  assert_contains(message(m), "/gone.csv");
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
  setting(m, "path", pattern);
  setting(m, "is_file_name_regex", "true");
  assert_int_equal(run_csv(m), 0);
  assert_table(m, "TestConnection", "id\r\nnewest\r\n");
  assert_contains(log_text(m), "/hr_2026-03.csv");

  snprintf(pattern, sizeof(pattern), "%s/nothing_[0-9]+\\.csv", m->dir);
  setting(m, "path", pattern);
  assert_int_equal(run_csv(m), -ENOENT);
  assert_contains(message(m), "setting path: no file of ");
  assert_contains(message(m), "matches 'nothing_[0-9]+\\.csv'");

  snprintf(pattern, sizeof(pattern), "%s/bad(regex", m->dir);
  setting(m, "path", pattern);
  assert_int_equal(run_csv(m), JOBHOST_ECONFIG);
  assert_contains(message(m), "invalid regular expression 'bad(regex'");
}

/* Rows of the large-file test: a file many times the reader's buffer.
 * The kit keeps every row a test may read back, so the file stays at
 * 20,000 rows (with a million, the sanitizer build spent minutes and
 * gigabytes on the kit's copy); the CSV reader and writer over many
 * buffers are tested in tests/lib/test_csv.c. */
static long big_rows(void) { return 20000; }

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

  setting(m, "path", write_big(m, rows));
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(run_csv(m), 0);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  print_message("csv export: %ld rows x 10 columns in %.2f s\n", rows, secs);
  assert_int_equal(counter(m, "rows"), rows);
  assert_int_equal(progress_done(m), (uint64_t)rows);
}

/* ---- ldif ---- */

static void test_ldif_tables(void **state) {
  mock *m = *state;
  setting(m, "path", JH_EXPORT_TEST_DATA "/directory.ldif");
  setting(m, "table", "dir");
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
  assert_int_equal(counter(m, "tables"), 3);
  assert_int_equal(counter(m, "rows"), 4 + 7 + 2);
  assert_int_equal(progress_done(m), 4);
  assert_int_equal(progress_total(m), 4);
}

static void test_ldif_multi_valued_setting(void **state) {
  mock *m = *state;
  setting(m, "path",
          write_input(m, "d.ldif",
                      "dn: cn=g,dc=x\n"
                      "cn: g\n"
                      "member: cn=a,dc=x\n"
                      "\n"
                      "dn: cn=h,dc=x\n"
                      "cn: h\n"));
  /* Named but single-valued here, and named but absent: both tables. */
  setting(m, "multi_valued", "member, mail");
  assert_int_equal(run_ldif(m), 0);
  assert_table(m, "TestConnection_entries",
               "dn,cn\r\n\"cn=g,dc=x\",g\r\n\"cn=h,dc=x\",h\r\n");
  assert_table(m, "TestConnection_member",
               "dn,member\r\n\"cn=g,dc=x\",\"cn=a,dc=x\"\r\n");
  assert_table(m, "TestConnection_mail", "dn,mail\r\n");

  /* Several values of an attribute the setting does not name. */
  setting(m, "path",
          write_input(m, "e.ldif",
                      "dn: cn=g,dc=x\n"
                      "cn: g\n"
                      "\n"
                      "dn: cn=h,dc=x\n"
                      "cn: h\n"
                      "cn: aitch\n"));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(message(m), "e.ldif:4: an entry holds 2 values of "
                              "attribute cn, which setting multi_valued does "
                              "not list");
}

static void test_ldif_binary_and_crlf(void **state) {
  mock *m = *state;
  setting(m, "path",
          write_input(m, "b.ldif",
                      "dn: cn=p,dc=x\r\n"
                      "cn: p\r\n"
                      "jpegPhoto:: /9j/AAE=\r\n"
                      "description: folded\r\n"
                      "  value\r\n"));
  assert_int_equal(run_ldif(m), 0);
  assert_table(m, "TestConnection_entries",
               "dn,cn,jpegPhoto,description\r\n"
               "\"cn=p,dc=x\",p,/9j/AAE=,folded value\r\n");
  assert_contains(log_text(m), "values of attribute jpegPhoto are not UTF-8 "
                               "text: exported in base64");
}

static void test_ldif_bad_files(void **state) {
  mock *m = *state;
  setting(m, "path",
          write_input(m, "bad1.ldif",
                      "dn: cn=a,dc=x\n"
                      "cn: a\n"
                      "\n"
                      "# comment\n"
                      "dn: cn=b,dc=x\n"
                      "cn: b\n"
                      "this line has no colon\n"));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(message(m), "bad1.ldif:7: invalid LDIF line");

  setting(m, "path",
          write_input(m, "bad2.ldif",
                      "dn: cn=a,dc=x\n"
                      "cn:: !!!notbase64\n"));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(message(m), "bad2.ldif:2: invalid LDIF line (invalid "
                              "base64 encoding char (!) 0x21)");

  setting(m, "path",
          write_input(m, "bad3.ldif",
                      "dn: cn=a,dc=x\n"
                      "changetype: modify\n"
                      "replace: cn\n"
                      "cn: b\n"));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(message(m), "bad3.ldif:2: 'changetype: modify': a "
                              "directory file holds entries only");

  setting(m, "path",
          write_input(m, "bad4.ldif",
                      "dn: cn=a,dc=x\n"
                      "cn: a\n"
                      "dn: cn=b,dc=x\n"
                      "cn: b\n"));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(message(m), "bad4.ldif:3: a second 'dn:' line in one "
                              "entry");

  setting(m, "path", write_input(m, "bad5.ldif", "cn: a\nsn: b\n"));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(message(m), "bad5.ldif:1: expected a 'dn:' line, got "
                              "'cn:'");
  /* Nothing was written from a broken file. */
  assert_int_equal(counter(m, "tables"), 0);
}

/* URL values and includes read other files: refused with file:line
 * unless allow_url_folder names the folder a URL value's file is in
 * (after every symbolic link is resolved). */
static void test_ldif_urls_and_includes(void **state) {
  mock *m = *state;
  char allowed[512], text[2048], link[600];

  setting(m, "path",
          write_input(m, "url.ldif",
                      "# a comment\n"
                      "dn: cn=a,dc=x\n"
                      "cn: a\n"
                      "displayName:< file:///etc/hostname\n"));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(message(m), "url.ldif:4: attribute 'displayName' takes "
                              "its value from a URL (file:///etc/hostname): "
                              "URL values are refused");
  assert_int_equal(counter(m, "tables"), 0);

  setting(m, "path",
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
  assert_contains(message(m), "inc.ldif:6: 'include:' is refused");
  assert_int_equal(counter(m, "tables"), 0);

  /* allowed: a file of the folder, and only that */
  snprintf(allowed, sizeof(allowed), "%s/allowed", m->dir);
  assert_int_equal(mkdir(allowed, 0700), 0);
  jh_test_write_file(in_dir(m, "allowed/photo.txt"), "hello", 0644);
  jh_test_write_file(in_dir(m, "secret.txt"), "secret", 0644);
  snprintf(link, sizeof(link), "%s/link.txt", allowed);
  assert_int_equal(symlink(in_dir(m, "secret.txt"), link), 0);
  setting(m, "allow_url_folder", allowed);
  snprintf(text, sizeof(text),
           "dn: cn=a,dc=x\ncn: a\ndisplayName:< file://%s/photo.txt\n",
           allowed);
  setting(m, "path", write_input(m, "ok.ldif", text));
  assert_int_equal(run_ldif(m), 0);
  assert_table(m, "TestConnection_entries",
               "dn,cn,displayName\r\n\"cn=a,dc=x\",a,hello\r\n");

  snprintf(text, sizeof(text),
           "dn: cn=a,dc=x\ncn: a\ndisplayName:< file://%s/../secret.txt\n",
           allowed);
  setting(m, "path", write_input(m, "up.ldif", text));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(message(m), "up.ldif:3: attribute 'displayName': URL ");
  assert_contains(message(m), "is not a file inside");

  snprintf(
      text, sizeof(text),
      "dn: cn=a,dc=x\ncn: a\ndisplayName:< file://%s/%%2e%%2e/secret.txt\n",
      allowed);
  setting(m, "path", write_input(m, "esc.ldif", text));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(message(m), "esc.ldif:3: attribute 'displayName': URL ");

  snprintf(text, sizeof(text),
           "dn: cn=a,dc=x\ncn: a\ndisplayName:< file://%s\n", link);
  setting(m, "path", write_input(m, "link.ldif", text));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(message(m), "link.ldif:3: attribute 'displayName': URL ");

  setting(m, "path",
          write_input(m, "http.ldif",
                      "dn: cn=a,dc=x\ncn: a\n"
                      "displayName:< http://example.org/x\n"));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(message(m), "http.ldif:3: attribute 'displayName': URL "
                              "http://example.org/x: expected file:///PATH");

  /* includes stay refused */
  setting(m, "path", in_dir(m, "inc.ldif"));
  assert_int_equal(run_ldif(m), -EILSEQ);
  assert_contains(message(m), "inc.ldif:6: 'include:' is refused");

  setting(m, "allow_url_folder", in_dir(m, "none"));
  assert_int_equal(run_ldif(m), JOBHOST_ECONFIG);
  assert_contains(message(m), "setting allow_url_folder: ");
}

static void test_ldif_missing_path(void **state) {
  mock *m = *state;
  /* required: the export does not start */
  assert_int_equal(run_ldif(m), JOBHOST_ECONFIG);
  assert_contains(jobhost_testkit_error(m->kit),
                  "connection 'TestConnection' is missing setting 'path' "
                  "required by package 'ldif'");
  setting(m, "path", in_dir(m, "none.ldif"));
  assert_int_equal(run_ldif(m), -ENOENT);
  assert_contains(message(m), "setting path: ");
  assert_contains(message(m), "none.ldif: No such file or directory");
}

static void test_ldif_empty_file(void **state) {
  mock *m = *state;
  setting(m, "path", write_input(m, "empty.ldif", "version: 1\n\n# nothing\n"));
  assert_int_equal(run_ldif(m), 0);
  assert_table(m, "TestConnection_entries", "dn\r\n");
  assert_int_equal(counter(m, "rows"), 0);

  /* An index line (a number) alone, then the end of the file (found by
   * the fuzz target: the record reader wrote through a NULL buffer). */
  setting(m, "path", write_input(m, "index.ldif", "1version:x"));
  assert_int_equal(run_ldif(m), 0);
  assert_table(m, "TestConnection_entries", "dn\r\n");

  /* An index line before an entry is dropped. */
  setting(m, "path",
          write_input(m, "index2.ldif", "7\ndn: cn=a,dc=x\ncn: a\n"));
  assert_int_equal(run_ldif(m), 0);
  assert_table(m, "TestConnection_entries", "dn,cn\r\n\"cn=a,dc=x\",a\r\n");
}
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
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
      T(test_ldif_tables),
      T(test_ldif_multi_valued_setting),
      T(test_ldif_binary_and_crlf),
      T(test_ldif_bad_files),
      T(test_ldif_urls_and_includes),
      T(test_ldif_missing_path),
      T(test_ldif_empty_file),
  };
  return cmocka_run_group_tests(tests, NULL, group_teardown);
}
