/*
 * test_prepare.c — PrepareSynchronizationTask against doc/synchronization.md:
 * cleansing (unmapped columns dropped, null keys and duplicates set aside,
 * the first of a key kept), sorting beyond the memory bound, batches
 * (folder, seq, manifest.json), incremental deltas against previous/,
 * Changes input, the source-health guard (missing, empty, shrunk tables),
 * nothing published on error, and the task glue through the stand-in
 * host services (tests/harness_services.h).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include <jobhost/jobhost.h>

#include "collect.h"
#include "csv.h"
#include "model.h"
#include "harness.h"
#include "harness_services.h"

extern const jobhost_plugin jobhost_plugin_descriptor;

#define PERSON_TABLE "HR_Export"
#define GROUP_TABLE "HR_Groups"

struct fixture {
  char dir[PATH_MAX / 2];
  char exp[PATH_MAX];    /* Temp/ExportOutput */
  char col[PATH_MAX];    /* Work/Collect */
  char hr[PATH_MAX + 8]; /* Work/Collect/HR */
  /* The model: connector HR maps HR_Person (from HR_Export.csv) and the
   * association HR_Person_groups (from HR_Groups.csv); connector Empty
   * maps nothing. */
  jh_connector connectors[2];
  jh_property person_props[4], group_props[1];
  jh_entity_type types[2];
  jh_mapped_property mapped[3];
  jh_entity_mapping mappings[1];
  jh_association_mapping assocs[1];
  jh_model model;
  char log[16384];
};

static void build_model(struct fixture *f) {
  jh_connector *hr = &f->connectors[0];
  hr->id = "HR";
  hr->health.allow_empty = 0;
  hr->health.max_shrink_percent = 50;
  f->connectors[1].id = "Empty";
  f->connectors[1].health.max_shrink_percent = 50;

  f->person_props[0] = (jh_property){.id = "employee_id"};
  f->person_props[1] = (jh_property){.id = "name"};
  f->person_props[2] = (jh_property){.id = "mail"};
  f->person_props[3] = (jh_property){.id = "groups",
                                     .type = JH_PROP_LINKS,
                                     .target = "HR_Group"};
  f->group_props[0] = (jh_property){.id = "group_id"};
  f->types[0] = (jh_entity_type){.id = "HR_Person",
                                 .properties = f->person_props,
                                 .nproperties = 4};
  f->types[1] = (jh_entity_type){.id = "HR_Group",
                                 .properties = f->group_props,
                                 .nproperties = 1};

  f->mapped[0] = (jh_mapped_property){.property = "employee_id",
                                      .column = "EmployeeId",
                                      .primary_key = 1};
  f->mapped[1] = (jh_mapped_property){.property = "name", .column = "Name"};
  f->mapped[2] = (jh_mapped_property){.property = "mail", .column = "Mail"};
  f->mappings[0] = (jh_entity_mapping){.entity_type = "HR_Person",
                                       .connector = "HR",
                                       .connection_table = PERSON_TABLE,
                                       .properties = f->mapped,
                                       .nproperties = 3,
                                       .primary_key = 0};
  f->assocs[0] = (jh_association_mapping){.id = "HR_Person_groups",
                                          .connector = "HR",
                                          .connection_table = GROUP_TABLE,
                                          .entity_type = "HR_Person",
                                          .property = "groups",
                                          .column1 = "EmployeeId",
                                          .column2 = "Group",
                                          .key1 = NULL, /* the primary key */
                                          .key2 = "group_id"};
  f->model = (jh_model){.connectors = f->connectors,
                        .nconnectors = 2,
                        .entity_types = f->types,
                        .nentity_types = 2,
                        .mappings = f->mappings,
                        .nmappings = 1,
                        .associations = f->assocs,
                        .nassociations = 1};
}

static int setup(void **state) {
  struct fixture *f = jh_test_fixture(sizeof(*f), sizeof(f->dir));
  jh_test_path(f->exp, sizeof(f->exp), "%s/ExportOutput", f->dir);
  jh_test_path(f->col, sizeof(f->col), "%s/Collect", f->dir);
  jh_test_path(f->hr, sizeof(f->hr), "%s/HR", f->col);
  jh_test_mkdir(f->exp);
  build_model(f);
  *state = f;
  return 0;
}

/* ------------------------------------------------------------ helpers */

static void capture_log(void *arg, int level, const char *msg) {
  struct fixture *f = arg;
  size_t len = strlen(f->log);
  snprintf(f->log + len, sizeof(f->log) - len, "%d %s\n", level, msg);
}

static void write_export(struct fixture *f, const char *table,
                         const char *text) {
  char path[PATH_MAX + 64];
  jh_test_path(path, sizeof(path), "%s/%s.csv", f->exp, table);
  jh_test_write_file(path, text, 0644);
}

static void remove_export(struct fixture *f, const char *table) {
  char path[PATH_MAX + 64];
  jh_test_path(path, sizeof(path), "%s/%s.csv", f->exp, table);
  unlink(path);
}

/* The file dir/name holds exactly `want`. */
static void assert_file(const char *dir, const char *name, const char *want) {
  char path[PATH_MAX * 2];
  jh_test_path(path, sizeof(path), "%s/%s", dir, name);
  jh_test_assert_file(path, want);
}

static int exists(const char *dir, const char *name) {
  char path[PATH_MAX * 2];
  jh_test_path(path, sizeof(path), "%s/%s", dir, name);
  return jh_test_exists(path);
}

static void batch_dir(const struct fixture *f, unsigned seq, const char *mode,
                      char *buf, size_t size) {
  jh_test_path(buf, size, "%s/batches/%010u-%s", f->hr, seq, mode);
}

static int prepare(struct fixture *f, jh_prep_mode mode, jh_prep_input input,
                   const char *command_column, jh_prep_result *res, char *err,
                   size_t errsize) {
  jh_prep_options o = {.model = &f->model,
                       .connector = "hr", /* ids are case-insensitive */
                       .mode = mode,
                       .input = input,
                       .command_column = command_column,
                       .export_dir = f->exp,
                       .collect_dir = f->col,
                       .task_instance = 42,
                       .now = 1795600800, /* 2026-11-25T10:00:00Z */
                       .log = capture_log,
                       .arg = f};
  return jh_prepare_collect(&o, res, err, errsize);
}

/* Run a prepare that must succeed and publish. */
static void prepare_ok(struct fixture *f, jh_prep_mode mode,
                       jh_prep_input input, jh_prep_result *res) {
  char err[1024] = "";
  int rc = prepare(f, mode, input, NULL, res, err, sizeof(err));
  if (rc != 0)
    fail_msg("prepare: %d %s", rc, err);
}

/* Batches in the batches folder (none when there is no such folder). */
static long batch_count(const char *batches) {
  long n = jh_test_count_entries(batches);
  return n < 0 ? 0 : n;
}

/* A prepare that must fail with `code`, leave no batch, no temporary
 * folder and the seq file as it was; the error must mention `what`. */
static void prepare_fails(struct fixture *f, jh_prep_mode mode,
                          jh_prep_input input, int code, const char *what) {
  char err[2048] = "", batches[PATH_MAX + 16], *seq_before = NULL,
       seq[PATH_MAX + 8];
  long before;
  jh_prep_result res;
  int rc;
  jh_test_path(batches, sizeof(batches), "%s/batches", f->hr);
  jh_test_path(seq, sizeof(seq), "%s/seq", f->hr);
  before = batch_count(batches);
  if (access(seq, F_OK) == 0)
    seq_before = jh_test_read_file(seq);
  rc = prepare(f, mode, input, NULL, &res, err, sizeof(err));
  jh_prep_result_free(&res);
  if (rc != code)
    fail_msg("expected %d, got %d: %s", code, rc, err);
  if (strstr(err, what) == NULL)
    fail_msg("\"%s\" not in \"%s\"", what, err);
  assert_int_equal(batch_count(batches), before);
  if (seq_before != NULL) {
    assert_file(f->hr, "seq", seq_before);
    free(seq_before);
  } else {
    assert_false(exists(f->hr, "seq"));
  }
}

static const char person_csv[] = "Extra,EmployeeId,Mail,Name,Other\n"
                                 "x,E3,c@x.org,\"Carol, C\",o\n"
                                 "x,E1,a@x.org,Alice,o\n"
                                 "x,,n@x.org,Nobody,o\n"
                                 "x,E2,b@x.org,Bob,o\n"
                                 "x,E1,a2@x.org,Alice Two,o\n";

static const char group_csv[] = "Group,EmployeeId\n"
                                "G2,E1\n"
                                "G1,E1\n"
                                "G1,E2\n"
                                ",E3\n"
                                "G2,E1\n";

static void write_both(struct fixture *f) {
  write_export(f, PERSON_TABLE, person_csv);
  write_export(f, GROUP_TABLE, group_csv);
}

/* Write a person export of n rows E<1000+i>, name "N<i><suffix>". */
static void write_persons(struct fixture *f, unsigned n, const char *suffix) {
  size_t size = 64 + (size_t)n * 64, len;
  char *text = malloc(size);
  assert_non_null(text);
  len = (size_t)snprintf(text, size, "EmployeeId,Name,Mail\n");
  for (unsigned i = 0; i < n; i++)
    len += (size_t)snprintf(text + len, size - len, "E%u,N%u%s,m%u@x\n",
                            1000 + i, i, suffix, i);
  write_export(f, PERSON_TABLE, text);
  free(text);
}

/* ---------------------------------------------------------- cleansing */

static void test_complete_cleansing(void **state) {
  struct fixture *f = *state;
  char b[PATH_MAX * 2];
  jh_prep_result res;
  write_both(f);
  prepare_ok(f, JH_PREP_COMPLETE, JH_PREP_FULL, &res);
  batch_dir(f, 1, "complete", b, sizeof(b));
  assert_true(res.published);
  assert_int_equal(res.seq, 1);
  assert_string_equal(res.batch_dir, b);
  /* Property ids in mapping order; unmapped columns dropped; sorted; the
   * first E1 kept. */
  assert_file(b, "HR_Person.sorted.csv",
              "employee_id,name,mail\r\n"
              "E1,Alice,a@x.org\r\n"
              "E2,Bob,b@x.org\r\n"
              "E3,\"Carol, C\",c@x.org\r\n");
  assert_file(b, "HR_Person.duplicates.csv",
              "employee_id,name,mail\r\nE1,Alice Two,a2@x.org\r\n");
  assert_file(b, "HR_Person.nullpk.csv",
              "employee_id,name,mail\r\n,Nobody,n@x.org\r\n");
  /* Pairs: column1 then column2, headers key1 (defaulted to the owner's
   * primary key) and key2. */
  assert_file(b, "HR_Person_groups.sorted.csv",
              "employee_id,group_id\r\nE1,G1\r\nE1,G2\r\nE2,G1\r\n");
  assert_file(b, "HR_Person_groups.duplicates.csv",
              "employee_id,group_id\r\nE1,G2\r\n");
  assert_file(b, "HR_Person_groups.nullpk.csv",
              "employee_id,group_id\r\nE3,\r\n");
  assert_false(exists(b, "HR_Person.sorted.delta"));
  /* 6 files and the manifest, nothing else (no sort leftovers). */
  assert_int_equal(jh_test_count_entries(b), 7);

  assert_int_equal(res.ntables, 2);
  assert_string_equal(res.tables[0].name, "HR_Person");
  assert_int_equal(res.tables[0].input_rows, 5);
  assert_int_equal(res.tables[0].rows, 3);
  assert_int_equal(res.tables[0].duplicates, 1);
  assert_int_equal(res.tables[0].nullpk, 1);
  assert_int_equal(res.total.input_rows, 10);
  assert_int_equal(res.total.rows, 6);
  assert_int_equal(res.total.duplicates, 2);
  assert_int_equal(res.total.nullpk, 2);

  /* The snapshot for later incremental prepares, the seq and health. */
  assert_file(f->hr, "seq", "1\n");
  {
    char prev[PATH_MAX + 16];
    jh_test_path(prev, sizeof(prev), "%s/previous", f->hr);
    assert_file(prev, "HR_Person.sorted.csv",
                "employee_id,name,mail\r\n"
                "E1,Alice,a@x.org\r\n"
                "E2,Bob,b@x.org\r\n"
                "E3,\"Carol, C\",c@x.org\r\n");
    assert_int_equal(jh_test_count_entries(prev), 2);
  }
  jh_prep_result_free(&res);
}

static void test_manifest(void **state) {
  struct fixture *f = *state;
  char b[PATH_MAX * 2], path[PATH_MAX * 3];
  jh_prep_result res;
  json_error_t jerr;
  json_t *m, *t;
  write_both(f);
  prepare_ok(f, JH_PREP_COMPLETE, JH_PREP_FULL, &res);
  jh_prep_result_free(&res);
  batch_dir(f, 1, "complete", b, sizeof(b));
  jh_test_path(path, sizeof(path), "%s/manifest.json", b);
  m = json_load_file(path, 0, &jerr);
  if (m == NULL)
    fail_msg("%s:%d: %s", path, jerr.line, jerr.text);
  assert_string_equal(json_string_value(json_object_get(m, "connector")), "HR");
  assert_string_equal(json_string_value(json_object_get(m, "mode")),
                      "complete");
  assert_int_equal(json_integer_value(json_object_get(m, "seq")), 1);
  assert_int_equal(json_integer_value(json_object_get(m, "task_instance")), 42);
  assert_string_equal(json_string_value(json_object_get(m, "created_at")),
                      "2026-11-25T10:00:00Z");
  assert_int_equal(json_array_size(json_object_get(m, "tables")), 2);
  t = json_array_get(json_object_get(m, "tables"), 0);
  assert_string_equal(json_string_value(json_object_get(t, "name")),
                      "HR_Person");
  assert_string_equal(json_string_value(json_object_get(t, "kind")), "entity");
  assert_string_equal(json_string_value(json_object_get(t, "file")),
                      "HR_Person.sorted.csv");
  assert_int_equal(json_integer_value(json_object_get(t, "input_rows")), 5);
  assert_int_equal(json_integer_value(json_object_get(t, "rows")), 3);
  assert_int_equal(json_integer_value(json_object_get(t, "duplicates")), 1);
  assert_int_equal(json_integer_value(json_object_get(t, "nullpk")), 1);
  t = json_array_get(json_object_get(m, "tables"), 1);
  assert_string_equal(json_string_value(json_object_get(t, "name")),
                      "HR_Person_groups");
  assert_string_equal(json_string_value(json_object_get(t, "kind")),
                      "association");
  assert_int_equal(json_integer_value(json_object_get(t, "rows")), 3);
  json_decref(m);

  /* health.json records the clean counts of this good run. */
  jh_test_path(path, sizeof(path), "%s/health.json", f->hr);
  m = json_load_file(path, 0, &jerr);
  assert_non_null(m);
  t = json_object_get(json_object_get(m, "tables"), "HR_Person");
  assert_int_equal(json_integer_value(json_object_get(t, "rows")), 3);
  json_decref(m);
}

static void test_seq_increments(void **state) {
  struct fixture *f = *state;
  char b[PATH_MAX * 2], batches[PATH_MAX + 16];
  jh_prep_result res;
  write_both(f);
  prepare_ok(f, JH_PREP_COMPLETE, JH_PREP_FULL, &res);
  jh_prep_result_free(&res);
  prepare_ok(f, JH_PREP_INITIAL, JH_PREP_FULL, &res);
  assert_int_equal(res.seq, 2);
  jh_prep_result_free(&res);
  batch_dir(f, 2, "initial", b, sizeof(b));
  assert_true(exists(b, "manifest.json"));
  assert_file(f->hr, "seq", "2\n");
  /* A failed prepare in between does not use a number. */
  remove_export(f, GROUP_TABLE);
  prepare_fails(f, JH_PREP_COMPLETE, JH_PREP_FULL, JOBHOST_ESOURCE,
                "export missing");
  write_both(f);
  prepare_ok(f, JH_PREP_COMPLETE, JH_PREP_FULL, &res);
  assert_int_equal(res.seq, 3);
  jh_prep_result_free(&res);
  jh_test_path(batches, sizeof(batches), "%s/batches", f->hr);
  assert_int_equal(jh_test_count_entries(batches), 3);
}

static void test_stale_tmp_removed(void **state) {
  struct fixture *f = *state;
  char stale[PATH_MAX * 2], batches[PATH_MAX + 16];
  jh_prep_result res;
  jh_test_path(batches, sizeof(batches), "%s/batches", f->hr);
  jh_test_path(stale, sizeof(stale), "%s/.0000000007-complete.tmp", batches);
  assert_int_equal(mkdir(f->col, 0700), 0);
  assert_int_equal(mkdir(f->hr, 0700), 0);
  assert_int_equal(mkdir(batches, 0700), 0);
  assert_int_equal(mkdir(stale, 0700), 0);
  jh_test_write_file(strcat(stale, "/junk.csv"), "x\n", 0644);
  write_both(f);
  prepare_ok(f, JH_PREP_COMPLETE, JH_PREP_FULL, &res);
  jh_prep_result_free(&res);
  assert_int_equal(jh_test_count_entries(batches), 1);
  assert_non_null(strstr(f->log, "interrupted prepare"));
}

/* The temporary files of seq and health.json that a killed prepare left
 * go, whatever their pid says (here a live one: the lock tells). */
static void test_stale_seq_health_removed(void **state) {
  struct fixture *f = *state;
  char seq[PATH_MAX + 64], health[PATH_MAX + 64];
  jh_prep_result res;
  assert_int_equal(mkdir(f->col, 0700), 0);
  assert_int_equal(mkdir(f->hr, 0700), 0);
  jh_test_path(seq, sizeof(seq), "%s/seq.tmp.%ld", f->hr, (long)getpid());
  jh_test_path(health, sizeof(health), "%s/health.json.tmp.1", f->hr);
  jh_test_write_file(seq, "4\n", 0640);
  jh_test_write_file(health, "{", 0640);
  write_both(f);
  prepare_ok(f, JH_PREP_COMPLETE, JH_PREP_FULL, &res);
  jh_prep_result_free(&res);
  assert_int_not_equal(access(seq, F_OK), 0);
  assert_int_not_equal(access(health, F_OK), 0);
  assert_non_null(strstr(f->log, "temporary file(s)"));
}

static void test_mapping_errors(void **state) {
  struct fixture *f = *state;
  char err[1024];
  jh_prep_result res;
  int rc;
  /* A mapped column missing from the export names file and column. */
  write_export(f, PERSON_TABLE, "EmployeeId,Name\nE1,A\n");
  write_export(f, GROUP_TABLE, group_csv);
  prepare_fails(f, JH_PREP_COMPLETE, JH_PREP_FULL, JOBHOST_ESOURCE,
                "HR_Export.csv:1: the header has no column \"Mail\"");
  /* A short row names file:line. */
  write_export(f, PERSON_TABLE, "EmployeeId,Name,Mail\nE1,A,a\nE2,B\nE3,C,c\n");
  prepare_fails(f, JH_PREP_COMPLETE, JH_PREP_FULL, JOBHOST_ESOURCE,
                "HR_Export.csv:3: 2 fields where the header has 3");
  /* A table cut in the middle of its last field: as many fields as the
   * header, but no line end. */
  write_export(f, PERSON_TABLE, "EmployeeId,Name,Mail\nE1,A,a\nE2,B,b@exa");
  prepare_fails(f, JH_PREP_COMPLETE, JH_PREP_FULL, JOBHOST_ESOURCE,
                "HR_Export.csv:3: the last row has no line end: the table "
                "was cut short");
  /* Malformed CSV. */
  write_export(f, PERSON_TABLE, "EmployeeId,Name,Mail\nE1,\"A,a\n");
  prepare_fails(f, JH_PREP_COMPLETE, JH_PREP_FULL, -EILSEQ,
                "HR_Export.csv:2: unterminated quoted field");
  /* Connectors: unknown, and without any mapping. */
  rc = jh_prepare_collect(&(jh_prep_options){.model = &f->model,
                                             .connector = "Nope",
                                             .export_dir = f->exp,
                                             .collect_dir = f->col},
                          &res, err, sizeof(err));
  jh_prep_result_free(&res);
  assert_int_equal(rc, JOBHOST_ECONFIG);
  assert_non_null(strstr(err, "connector Nope is not in the model"));
  rc = jh_prepare_collect(&(jh_prep_options){.model = &f->model,
                                             .connector = "Empty",
                                             .export_dir = f->exp,
                                             .collect_dir = f->col},
                          &res, err, sizeof(err));
  jh_prep_result_free(&res);
  assert_int_equal(rc, JOBHOST_ECONFIG);
  assert_non_null(strstr(err, "no entity type mapping"));
  assert_int_equal(jh_test_count_entries(f->col), 1); /* only HR's folder */
}

/* Enough rows to spill several runs at the smallest memory bound. */
static void test_sort_beyond_memory(void **state) {
  struct fixture *f = *state;
  enum { N = 40000 };
  size_t size = 64 + (size_t)N * 80, len = 0;
  char *text = malloc(size), b[PATH_MAX * 2], path[PATH_MAX * 3];
  jh_prep_result res;
  jh_prep_options o = {.model = &f->model,
                       .connector = "HR",
                       .mode = JH_PREP_COMPLETE,
                       .export_dir = f->exp,
                       .collect_dir = f->col,
                       .memory_limit = JH_PREP_MIN_MEMORY};
  jh_csv_reader *r;
  const jh_csv_record *rec;
  jh_csv_options ropt = {.header = 1};
  char err[1024] = "", prev[64] = "";
  uint64_t x = 88172645463325252ULL;
  size_t rows = 0;
  int rc;
  assert_non_null(text);
  len += (size_t)snprintf(text, size, "EmployeeId,Name,Mail\n");
  for (unsigned i = 0; i < N; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    /* Keys repeat now and then: the first of each is kept. */
    len += (size_t)snprintf(text + len, size - len,
                            "K%llu,name %u with some padding text,%u@x\n",
                            (unsigned long long)(x % 30000), i, i);
  }
  write_export(f, PERSON_TABLE, text);
  free(text);
  write_export(f, GROUP_TABLE, group_csv);
  rc = jh_prepare_collect(&o, &res, err, sizeof(err));
  if (rc != 0)
    fail_msg("%d %s", rc, err);
  assert_int_equal(res.tables[0].input_rows, N);
  assert_int_equal(res.tables[0].rows + res.tables[0].duplicates, N);
  batch_dir(f, 1, "complete", b, sizeof(b));
  jh_test_path(path, sizeof(path), "%s/HR_Person.sorted.csv", b);
  assert_int_equal(jh_csv_reader_open(path, &ropt, &r, err, sizeof(err)), 0);
  while ((rc = jh_csv_read(r, &rec)) == 1) {
    if (rows > 0 && strcmp(prev, rec->fields[0]) >= 0)
      fail_msg("line %lu: %s after %s", jh_csv_reader_line(r), rec->fields[0],
               prev);
    jh_test_path(prev, sizeof(prev), "%s", rec->fields[0]);
    rows++;
  }
  assert_int_equal(rc, 0);
  jh_csv_reader_close(r);
  assert_int_equal(rows, res.tables[0].rows);
  assert_int_equal(jh_test_count_entries(b), 7);
  jh_prep_result_free(&res);
}

/* -------------------------------------------------------- incremental */

static void test_incremental_delta(void **state) {
  struct fixture *f = *state;
  char b[PATH_MAX * 2], prev[PATH_MAX + 16];
  jh_prep_result res;
  jh_test_path(prev, sizeof(prev), "%s/previous", f->hr);
  write_export(f, PERSON_TABLE,
               "EmployeeId,Name,Mail\nE2,Bob,b\nE1,Alice,a\nE3,Carol,c\n");
  write_export(f, GROUP_TABLE, "EmployeeId,Group\nE1,G1\nE2,G1\n");

  /* No previous snapshot: every row is an insert, and the log says so. */
  prepare_ok(f, JH_PREP_INCREMENTAL, JH_PREP_FULL, &res);
  assert_int_equal(res.total.inserted, 5);
  jh_prep_result_free(&res);
  assert_non_null(strstr(f->log, "HR_Person: no previous snapshot"));
  batch_dir(f, 1, "incremental", b, sizeof(b));
  assert_file(b, "HR_Person.sorted.delta",
              "command,employee_id,name,mail\r\n"
              "insert,E1,Alice,a\r\ninsert,E2,Bob,b\r\ninsert,E3,Carol,c\r\n");
  /* The full clean table rides along and became the snapshot. */
  assert_file(b, "HR_Person.sorted.csv",
              "employee_id,name,mail\r\nE1,Alice,a\r\nE2,Bob,b\r\n"
              "E3,Carol,c\r\n");
  assert_file(prev, "HR_Person.sorted.csv",
              "employee_id,name,mail\r\nE1,Alice,a\r\nE2,Bob,b\r\n"
              "E3,Carol,c\r\n");

  /* E1 unchanged, E2 deleted, E3 updated, E0 and E4 inserted. */
  write_export(f, PERSON_TABLE,
               "EmployeeId,Name,Mail\nE4,Dan,d\nE3,Carol,"
               "c2\nE1,Alice,a\nE0,Zed,z\n");
  write_export(f, GROUP_TABLE, "EmployeeId,Group\nE1,G2\nE2,G1\n");
  prepare_ok(f, JH_PREP_INCREMENTAL, JH_PREP_FULL, &res);
  assert_int_equal(res.seq, 2);
  assert_int_equal(res.tables[0].inserted, 2);
  assert_int_equal(res.tables[0].updated, 1);
  assert_int_equal(res.tables[0].deleted, 1);
  assert_int_equal(res.tables[1].inserted, 1);
  assert_int_equal(res.tables[1].deleted, 1);
  jh_prep_result_free(&res);
  batch_dir(f, 2, "incremental", b, sizeof(b));
  assert_file(b, "HR_Person.sorted.delta",
              "command,employee_id,name,mail\r\n"
              "insert,E0,Zed,z\r\n"
              "delete,E2,,\r\n"
              "update,E3,Carol,c2\r\n"
              "insert,E4,Dan,d\r\n");
  assert_file(b, "HR_Person_groups.sorted.delta",
              "command,employee_id,group_id\r\n"
              "delete,E1,G1\r\ninsert,E1,G2\r\n");
  assert_file(prev, "HR_Person.sorted.csv",
              "employee_id,name,mail\r\nE0,Zed,z\r\nE1,Alice,a\r\n"
              "E3,Carol,c2\r\nE4,Dan,d\r\n");
  {
    char path[PATH_MAX * 3];
    json_t *m;
    jh_test_path(path, sizeof(path), "%s/manifest.json", b);
    m = json_load_file(path, 0, NULL);
    assert_non_null(m);
    json_t *t = json_array_get(json_object_get(m, "tables"), 0);
    assert_string_equal(json_string_value(json_object_get(t, "file")),
                        "HR_Person.sorted.delta");
    assert_int_equal(json_integer_value(json_object_get(t, "rows")), 4);
    assert_int_equal(json_integer_value(json_object_get(t, "updated")), 1);
    json_decref(m);
  }

  /* Same data again: no change, no batch, no new number. */
  prepare_ok(f, JH_PREP_INCREMENTAL, JH_PREP_FULL, &res);
  assert_false(res.published);
  assert_null(res.batch_dir);
  jh_prep_result_free(&res);
  assert_file(f->hr, "seq", "2\n");
}

static void test_previous_kept_on_error(void **state) {
  struct fixture *f = *state;
  char prev[PATH_MAX + 16], *before;
  jh_prep_result res;
  jh_test_path(prev, sizeof(prev), "%s/previous/HR_Person.sorted.csv", f->hr);
  write_both(f);
  prepare_ok(f, JH_PREP_COMPLETE, JH_PREP_FULL, &res);
  jh_prep_result_free(&res);
  before = jh_test_read_file(prev);
  /* The person table is processed, then the group table fails. */
  write_export(f, PERSON_TABLE, "EmployeeId,Name,Mail\nE9,N,m\n");
  write_export(f, GROUP_TABLE, "EmployeeId,Group\nE1,G1\nE1\n");
  f->connectors[0].health.max_shrink_percent = 0;
  prepare_fails(f, JH_PREP_INCREMENTAL, JH_PREP_FULL, JOBHOST_ESOURCE,
                "HR_Groups.csv:3:");
  assert_file(f->hr, "previous/HR_Person.sorted.csv", before);
  /* .lock, batches, previous, seq and health.json: nothing more. */
  assert_int_equal(jh_test_count_entries(f->hr), 5);
  {
    char pdir[PATH_MAX + 16];
    jh_test_path(pdir, sizeof(pdir), "%s/previous", f->hr);
    assert_int_equal(jh_test_count_entries(pdir), 2); /* nothing staged left */
  }
  free(before);
}

static void test_previous_tampered(void **state) {
  struct fixture *f = *state;
  char prev[PATH_MAX + 16];
  jh_prep_result res;
  write_both(f);
  prepare_ok(f, JH_PREP_COMPLETE, JH_PREP_FULL, &res);
  jh_prep_result_free(&res);
  jh_test_path(prev, sizeof(prev), "%s/previous/HR_Person.sorted.csv", f->hr);
  jh_test_write_file(prev, "employee_id,name,mail\nE2,B,b\nE1,A,a\n", 0644);
  prepare_fails(f, JH_PREP_INCREMENTAL, JH_PREP_FULL, JOBHOST_ESOURCE,
                "HR_Person.sorted.csv:3: keys are not in strictly increasing");
  jh_test_write_file(prev, "employee_id,mail\nE1,a\n", 0644);
  prepare_fails(f, JH_PREP_INCREMENTAL, JH_PREP_FULL, JOBHOST_ECONFIG,
                "the mapping changed");
}

static void test_changes_input(void **state) {
  struct fixture *f = *state;
  char b[PATH_MAX * 2], err[1024];
  jh_prep_result res;
  int rc;
  write_export(f, PERSON_TABLE,
               "command,EmployeeId,Name,Mail\n"
               "Add,E3,Carol,c\n"
               "MODIFY,E1,Alice,a\n"
               "remove,E2,Bob,b\n"
               "merge,E4,Dan,d\n"
               "update,E1,Alice Again,a2\n"
               "insert,,Nobody,n\n");
  write_export(f, GROUP_TABLE,
               "command,EmployeeId,Group\n"
               "delete,E1,G1\nadd,E2,G2\n");
  prepare_ok(f, JH_PREP_INCREMENTAL, JH_PREP_CHANGES, &res);
  batch_dir(f, 1, "incremental", b, sizeof(b));
  /* Normalised commands, sorted by key, deletes carry their key only,
   * the first change of a key kept. */
  assert_file(b, "HR_Person.sorted.delta",
              "command,employee_id,name,mail\r\n"
              "update,E1,Alice,a\r\n"
              "delete,E2,,\r\n"
              "insert,E3,Carol,c\r\n"
              "merge,E4,Dan,d\r\n");
  assert_file(b, "HR_Person.duplicates.csv",
              "command,employee_id,name,mail\r\n"
              "update,E1,Alice Again,a2\r\n");
  assert_file(b, "HR_Person.nullpk.csv",
              "command,employee_id,name,mail\r\ninsert,,Nobody,n\r\n");
  assert_file(b, "HR_Person_groups.sorted.delta",
              "command,employee_id,group_id\r\n"
              "delete,E1,G1\r\ninsert,E2,G2\r\n");
  assert_false(exists(b, "HR_Person.sorted.csv"));
  assert_int_equal(res.tables[0].rows, 4);
  assert_int_equal(res.tables[0].inserted, 1);
  assert_int_equal(res.tables[0].updated, 1);
  assert_int_equal(res.tables[0].deleted, 1);
  assert_int_equal(res.tables[0].merged, 1);
  jh_prep_result_free(&res);
  /* A Changes batch does not touch the snapshot or the health counts. */
  assert_false(exists(f->hr, "previous/HR_Person.sorted.csv"));
  assert_false(exists(f->hr, "health.json"));

  /* Another command column name. */
  write_export(f, PERSON_TABLE, "op,EmployeeId,Name,Mail\nadd,E5,E,e\n");
  write_export(f, GROUP_TABLE, "EmployeeId,Group,op\nE5,G1,Remove\n");
  rc = prepare(f, JH_PREP_INCREMENTAL, JH_PREP_CHANGES, "op", &res, err,
               sizeof(err));
  if (rc != 0)
    fail_msg("%d %s", rc, err);
  assert_int_equal(res.seq, 2);
  assert_int_equal(res.total.deleted, 1);
  jh_prep_result_free(&res);

  /* Unknown commands and a missing command column. */
  write_export(f, PERSON_TABLE,
               "command,EmployeeId,Name,Mail\nadd,E1,A,a\nrename,E2,B,b\n");
  prepare_fails(f, JH_PREP_INCREMENTAL, JH_PREP_CHANGES, JOBHOST_ESOURCE,
                "HR_Export.csv:3: command \"rename\" in column command");
  write_export(f, PERSON_TABLE, "EmployeeId,Name,Mail\nE1,A,a\n");
  prepare_fails(f, JH_PREP_INCREMENTAL, JH_PREP_CHANGES, JOBHOST_ESOURCE,
                "no column \"command\"");
  /* Changes only make sense to an incremental prepare. */
  prepare_fails(f, JH_PREP_COMPLETE, JH_PREP_CHANGES, JOBHOST_ECONFIG,
                "Incremental");
}

/* -------------------------------------------------------------- guard */

static void test_guard_missing(void **state) {
  struct fixture *f = *state;
  write_export(f, GROUP_TABLE, group_csv);
  prepare_fails(f, JH_PREP_COMPLETE, JH_PREP_FULL, JOBHOST_ESOURCE,
                "table HR_Person (");
  prepare_fails(f, JH_PREP_COMPLETE, JH_PREP_FULL, JOBHOST_ESOURCE,
                "HR_Export.csv): export missing or failed");
  /* Also for Changes input. */
  prepare_fails(f, JH_PREP_INCREMENTAL, JH_PREP_CHANGES, JOBHOST_ESOURCE,
                "export missing or failed");
  /* An empty file (not even a header) is no export either. */
  write_export(f, PERSON_TABLE, "");
  prepare_fails(f, JH_PREP_COMPLETE, JH_PREP_FULL, JOBHOST_ESOURCE,
                "empty file");
}

static void test_guard_empty(void **state) {
  struct fixture *f = *state;
  jh_prep_result res;
  write_export(f, PERSON_TABLE, "EmployeeId,Name,Mail\n");
  write_export(f, GROUP_TABLE, group_csv);
  prepare_fails(f, JH_PREP_COMPLETE, JH_PREP_FULL, JOBHOST_ESOURCE,
                "table HR_Person is empty");
  /* Only null keys is empty too. */
  write_export(f, PERSON_TABLE, "EmployeeId,Name,Mail\n,A,a\n");
  prepare_fails(f, JH_PREP_COMPLETE, JH_PREP_FULL, JOBHOST_ESOURCE,
                "table HR_Person is empty (1 rows read, none clean)");
  f->connectors[0].health.allow_empty = 1;
  prepare_ok(f, JH_PREP_COMPLETE, JH_PREP_FULL, &res);
  assert_true(res.published);
  jh_prep_result_free(&res);
}

static void test_guard_shrink(void **state) {
  struct fixture *f = *state;
  jh_prep_result res;
  char health[PATH_MAX + 16], *before;
  write_export(f, GROUP_TABLE, group_csv);
  write_persons(f, 10, "");
  prepare_ok(f, JH_PREP_COMPLETE, JH_PREP_FULL, &res);
  jh_prep_result_free(&res);
  jh_test_path(health, sizeof(health), "%s/health.json", f->hr);
  before = jh_test_read_file(health);

  /* 10 -> 4 rows: -60 %, more than 50 %. Nothing published, and the
   * last good counts stay those of the first run. */
  write_persons(f, 4, "");
  prepare_fails(f, JH_PREP_COMPLETE, JH_PREP_FULL, JOBHOST_ESOURCE,
                "table HR_Person shrank from 10 to 4 rows (-60%)");
  assert_file(f->hr, "health.json", before);
  free(before);
  /* Also for an incremental prepare of a full extract. */
  prepare_fails(f, JH_PREP_INCREMENTAL, JH_PREP_FULL, JOBHOST_ESOURCE,
                "shrank");

  /* 10 -> 5: exactly 50 %, within the share. */
  write_persons(f, 5, "");
  prepare_ok(f, JH_PREP_COMPLETE, JH_PREP_FULL, &res);
  assert_int_equal(res.seq, 2);
  jh_prep_result_free(&res);

  /* 5 -> 2 (-60 %) with the check disabled. */
  f->connectors[0].health.max_shrink_percent = 0;
  write_persons(f, 2, "");
  prepare_ok(f, JH_PREP_COMPLETE, JH_PREP_FULL, &res);
  assert_int_equal(res.seq, 3);
  jh_prep_result_free(&res);

  /* An empty table is allowed when allow_empty says so, whatever it
   * shrank from. */
  f->connectors[0].health.max_shrink_percent = 50;
  f->connectors[0].health.allow_empty = 1;
  write_export(f, PERSON_TABLE, "EmployeeId,Name,Mail\n");
  prepare_ok(f, JH_PREP_COMPLETE, JH_PREP_FULL, &res);
  jh_prep_result_free(&res);
}

/* ---------------------------------------------------------- task glue */

/* The stand-in host of the task glue's runs. */
static jh_fake_host glue;

/* Run the task type as the host would, on the fixture's folders and its
 * model (none when the model has no connector). */
static int run_task(struct fixture *f) {
  jobhost_ctx ctx;
  jh_fake_host_reset(&glue);
  glue.type = &jobhost_plugin_descriptor.task_types[0];
  glue.folders[JOBHOST_FOLDER_EXPORT_OUTPUT] = f->exp;
  glue.folders[JOBHOST_FOLDER_COLLECT] = f->col;
  glue.model = f->model.nconnectors > 0 ? &f->model : NULL;
  ctx = jh_fake_ctx(&glue, "prepare_hr", "PrepareSynchronizationTask");
  ctx.task_instance = 7;
  return glue.type->run(&ctx);
}

static void test_task_glue(void **state) {
  struct fixture *f = *state;
  const jobhost_task_type *t = &jobhost_plugin_descriptor.task_types[0];
  char b[PATH_MAX * 2];
  jh_fake_host_init(&glue);
  assert_string_equal(t->name, "PrepareSynchronizationTask");
  assert_false(t->flags & JOBHOST_TASK_NOT_IMPLEMENTED);
  write_both(f);

  jh_fake_put(&glue.params, "connector", "HR");
  assert_int_equal(run_task(f), 0);
  assert_int_equal(glue.produced, 1);
  assert_non_null(strstr(glue.message, "batch 0000000001-complete"));
  assert_string_equal(glue.counter_trail, "tables=2 input_rows=10 rows=6 "
                                          "duplicates=2 nullpk=2 ");
  batch_dir(f, 1, "complete", b, sizeof(b));
  assert_true(exists(b, "manifest.json"));

  /* Incremental with nothing changed since: no output for dependants. */
  jh_fake_put(&glue.params, "synchronization_mode", "incremental");
  assert_int_equal(run_task(f), 0);
  assert_int_equal(glue.produced, 0);
  assert_non_null(strstr(glue.counter_trail, "inserted=0 updated=0 deleted=0"));

  /* working_directory relative to Work (the Collect folder's parent). */
  jh_fake_put(&glue.params, "synchronization_mode", "Complete");
  jh_fake_put(&glue.params, "working_directory", "Elsewhere");
  assert_int_equal(run_task(f), 0);
  jh_test_path(b, sizeof(b), "%s/Elsewhere/HR/batches/0000000001-complete",
               f->dir);
  assert_true(exists(b, "HR_Person.sorted.csv"));
  jh_fake_put(&glue.params, "working_directory", NULL);

  /* Changes through prepare_type and column_name. */
  write_export(f, PERSON_TABLE, "op,EmployeeId,Name,Mail\nadd,E7,G,g\n");
  write_export(f, GROUP_TABLE, "op,EmployeeId,Group\nadd,E7,G1\n");
  jh_fake_put(&glue.params, "synchronization_mode", "Incremental");
  jh_fake_put(&glue.params, "prepare_type", "Changes");
  jh_fake_put(&glue.params, "column_name", "op");
  assert_int_equal(run_task(f), 0);
  assert_non_null(strstr(glue.counter_trail, "inserted=2"));
  assert_non_null(strstr(glue.counter_trail, "merged=0"));
  batch_dir(f, 2, "incremental", b, sizeof(b));
  assert_file(b, "HR_Person.sorted.delta",
              "command,employee_id,name,mail\r\ninsert,E7,G,g\r\n");

  /* Cancelled: nothing published. */
  glue.cancel_after = 0;
  assert_int_equal(run_task(f), JOBHOST_ECANCELLED);
  batch_dir(f, 3, "incremental", b, sizeof(b));
  assert_false(exists(b, "."));
  glue.cancel_after = -1;

  /* An incremental batch of a full export holds the delta: its message
   * counts the delta's rows, not every row of the export. */
  jh_fake_put(&glue.params, "prepare_type", NULL); /* a full export again */
  jh_fake_put(&glue.params, "column_name", NULL);
  write_export(f, GROUP_TABLE, group_csv);
  write_persons(f, 4, "");
  assert_int_equal(run_task(f), 0);
  write_persons(f, 5, ""); /* one more person: a delta of one row */
  assert_int_equal(run_task(f), 0);
  assert_int_equal(glue.produced, 1);
  {
    unsigned long long ins, upd, del, said;
    const char *at = strstr(glue.counter_trail, "inserted=");
    const char *rows = strstr(glue.message, "-incremental: ");
    assert_non_null(at);
    assert_non_null(rows);
    assert_int_equal(sscanf(at, "inserted=%llu updated=%llu deleted=%llu", &ins,
                            &upd, &del),
                     3);
    assert_int_equal(sscanf(rows, "-incremental: %llu rows", &said), 1);
    assert_int_equal(ins + upd + del, 1);
    assert_int_equal(said, 1);
  }
  /* Unknown connector; a bad memory setting; no model. */
  jh_fake_put(&glue.params, "connector", "Nope");
  assert_int_equal(run_task(f), JOBHOST_ECONFIG);
  assert_non_null(strstr(glue.message, "connector Nope is not in the model"));
  jh_fake_put(&glue.params, "connector", "HR");
  setenv("JOBHOST_PREPARE_MEMORY", "12parsecs", 1);
  assert_int_equal(run_task(f), JOBHOST_ECONFIG);
  assert_non_null(strstr(glue.message, "JOBHOST_PREPARE_MEMORY"));
  setenv("JOBHOST_PREPARE_MEMORY", "2M", 1);
  jh_fake_put(&glue.params, "synchronization_mode", "Complete");
  write_both(f);
  assert_int_equal(run_task(f), 0);
  unsetenv("JOBHOST_PREPARE_MEMORY");
  f->model.nconnectors = 0;
  assert_int_equal(run_task(f), JOBHOST_ECONFIG);
  assert_non_null(strstr(glue.message, "no model"));
  jh_fake_host_clear(&glue);
}

static void test_parse_size(void **state) {
  size_t v;
  (void)state;
  assert_int_equal(jh_prep_parse_size("1048576", &v), 0);
  assert_int_equal(v, 1048576);
  assert_int_equal(jh_prep_parse_size("64M", &v), 0);
  assert_int_equal(v, (size_t)64 << 20);
  assert_int_equal(jh_prep_parse_size("2GiB", &v), 0);
  assert_int_equal(v, (size_t)2 << 30);
  assert_int_equal(jh_prep_parse_size("512k", &v), 0);
  assert_int_equal(v, 512 << 10);
  assert_int_equal(jh_prep_parse_size("", &v), -EINVAL);
  assert_int_equal(jh_prep_parse_size("-1M", &v), -EINVAL);
  assert_int_equal(jh_prep_parse_size("1T", &v), -EINVAL);
  assert_int_equal(jh_prep_parse_size("M", &v), -EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(fn)                                                                  \
  cmocka_unit_test_setup_teardown(fn, setup, jh_test_teardown_fixture)
      T(test_complete_cleansing),
      T(test_manifest),
      T(test_seq_increments),
      T(test_stale_tmp_removed),
      T(test_stale_seq_health_removed),
      T(test_mapping_errors),
      T(test_sort_beyond_memory),
      T(test_incremental_delta),
      T(test_previous_kept_on_error),
      T(test_previous_tampered),
      T(test_changes_input),
      T(test_guard_missing),
      T(test_guard_empty),
      T(test_guard_shrink),
      T(test_task_glue),
#undef T
      cmocka_unit_test(test_parse_size),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
