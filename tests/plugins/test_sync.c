/*
 * test_sync.c — the synchronization core (plugins/synchronize/syncer.c)
 * on batches written by hand in the layout of doc/synchronization.md:
 * complete twice (the second changes nothing), 1% of rows changed
 * (exactly those applied), 10% deleted (Blocked by the default threshold,
 * store untouched, resume applies them), incremental with dirty flags,
 * initial, links, the source-health guard, a complete batch voiding
 * pending incremental ones, a blocked connector, and a worker killed in
 * the middle of its transaction (store unchanged), and a Blocked one
 * whose commit fails (an error naming the cause).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include <jobhost/jobhost.h>

#include "idstore.h"
#include "model.h"
#include "syncer.h"
#include "harness_host.h"

/* ---- a model by hand: connector HR, entity type HR_Person (id, name,
 * dept), association HR_member (group -> person) ---- */

static jh_mapped_property person_props[] = {
    {.property = (char *)"id", .column = (char *)"Id", .primary_key = 1},
    {.property = (char *)"name", .column = (char *)"Name"},
    {.property = (char *)"dept", .column = (char *)"Dept"},
};

static jh_property person_types[3];
static jh_entity_type entity_types[1];
static jh_connector connectors[1];
static jh_entity_mapping mappings[1];
static jh_association_mapping associations[1];
static jh_model model;

static void model_init(void) {
  memset(connectors, 0, sizeof(connectors));
  connectors[0].id = (char *)"HR";
  for (int k = 0; k < JH_TH_COUNT; k++) {
    connectors[0].thresholds.v[k] = JH_THRESHOLD_UNSET;
    mappings[0].thresholds.v[k] = JH_THRESHOLD_UNSET;
    associations[0].thresholds.v[k] = JH_THRESHOLD_UNSET;
  }
  connectors[0].health.max_shrink_percent = 50;
  mappings[0].entity_type = (char *)"HR_Person";
  mappings[0].connector = (char *)"HR";
  mappings[0].connection_table = (char *)"hr";
  mappings[0].properties = person_props;
  mappings[0].nproperties = 3;
  mappings[0].primary_key = 0;
  associations[0].id = (char *)"HR_member";
  associations[0].connector = (char *)"HR";
  associations[0].entity_type = (char *)"HR_Person";
  memset(person_types, 0, sizeof(person_types));
  person_types[0].id = (char *)"id";
  person_types[1].id = (char *)"name";
  person_types[2].id = (char *)"dept";
  entity_types[0].id = (char *)"HR_Person";
  entity_types[0].properties = person_types;
  entity_types[0].nproperties = 3;
  memset(&model, 0, sizeof(model));
  model.entity_types = entity_types;
  model.nentity_types = 1;
  model.connectors = connectors;
  model.nconnectors = 1;
  model.mappings = mappings;
  model.nmappings = 1;
  model.associations = associations;
  model.nassociations = 1;
}

typedef struct fx {
  char dir[PATH_MAX - 128];
  char collect[PATH_MAX];
  char work[PATH_MAX];
  char store[PATH_MAX];
  char report[PATH_MAX];
  int seq;
} fx;

static int setup(void **state) {
  fx *f = jh_test_fixture(sizeof(*f), sizeof(f->dir));
  model_init();
  snprintf(f->collect, sizeof(f->collect), "%s/Collect", f->dir);
  snprintf(f->work, sizeof(f->work), "%s/work", f->dir);
  snprintf(f->store, sizeof(f->store), "%s/identity.db", f->dir);
  snprintf(f->report, sizeof(f->report), "%s/changes.csv", f->dir);
  mkdir(f->collect, 0755);
  mkdir(f->work, 0755);
  *state = f;
  return 0;
}

/* Write a batch with one or two tables: HR_Person (entity) and, when
 * links is not NULL, HR_member. `delta` writes .sorted.delta files. */
static void batch(fx *f, const char *mode, const char *people,
                  const char *links, int delta) {
  char dir[PATH_MAX + 64], path[PATH_MAX + 128], manifest[1024];
  const char *ext = delta ? "sorted.delta" : "sorted.csv";
  snprintf(dir, sizeof(dir), "%s/HR", f->collect);
  mkdir(dir, 0755);
  snprintf(dir, sizeof(dir), "%s/HR/batches", f->collect);
  mkdir(dir, 0755);
  f->seq++;
  snprintf(dir, sizeof(dir), "%s/HR/batches/%010d-%s", f->collect, f->seq,
           mode);
  assert_int_equal(mkdir(dir, 0755), 0);
  snprintf(path, sizeof(path), "%s/HR_Person.%s", dir, ext);
  jh_test_write_file(path, people, 0644);
  if (links != NULL) {
    snprintf(path, sizeof(path), "%s/HR_member.%s", dir, ext);
    jh_test_write_file(path, links, 0644);
  }
  snprintf(manifest, sizeof(manifest),
           "{\"connector\": \"HR\", \"mode\": \"%s\", \"seq\": %d, "
           "\"tables\": [{\"name\": \"HR_Person\", \"kind\": \"entity\", "
           "\"file\": \"HR_Person.%s\"}%s%s%s]}",
           mode, f->seq, ext,
           links ? ", {\"name\": \"HR_member\", \"kind\": \"association\", "
                   "\"file\": \"HR_member."
                 : "",
           links ? ext : "", links ? "\"}" : "");
  snprintf(path, sizeof(path), "%s/manifest.json", dir);
  jh_test_write_file(path, manifest, 0644);
}

/* A sorted people table of n rows; rows whose number is a multiple of
 * `every` (when every > 0) get name suffix `mark`; rows whose number is
 * a multiple of `skip` (when > 0) are left out. */
static char *people(int n, int every, const char *mark, int skip) {
  size_t cap = (size_t)n * 48 + 64, o = 0;
  char *s = malloc(cap);
  assert_non_null(s);
  o += (size_t)snprintf(s + o, cap - o, "id,name,dept\n");
  for (int i = 0; i < n; i++) {
    if (skip > 0 && i % skip == 0)
      continue;
    o += (size_t)snprintf(s + o, cap - o, "P%06d,Name %d%s,D%d\n", i, i,
                          every > 0 && i % every == 0 ? mark : "", i % 7);
  }
  return s;
}

static int sync_run(fx *f, int64_t instance, int64_t resume_of, int force,
                    int keep, jh_sync_stats *st, char *err, size_t errsize) {
  jh_sync_args a;
  memset(&a, 0, sizeof(a));
  a.model = &model;
  a.connector = "hr";
  a.collect_dir = f->collect;
  a.store_path = f->store;
  a.work_dir = f->work;
  a.report_path = f->report;
  a.task_instance = instance;
  a.resume_of = resume_of;
  a.force = force;
  a.do_not_delete_changes = keep;
  return jh_sync_run(&a, st, err, errsize);
}

static int64_t query_int(fx *f, const char *sql) {
  return jh_test_query_int(f->store, sql);
}

static const char *journal_mode(fx *f) {
  static char mode[16];
  sqlite3 *db;
  sqlite3_stmt *q;
  mode[0] = '\0';
  assert_int_equal(sqlite3_open(f->store, &db), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL),
                   SQLITE_OK);
  if (sqlite3_step(q) == SQLITE_ROW)
    snprintf(mode, sizeof(mode), "%s", sqlite3_column_text(q, 0));
  sqlite3_finalize(q);
  sqlite3_close(db);
  return mode;
}

static int64_t count_lines(const char *path) {
  FILE *fp = fopen(path, "r");
  int64_t n = 0;
  int c;
  if (fp == NULL)
    return -1;
  while ((c = fgetc(fp)) != EOF)
    n += c == '\n';
  fclose(fp);
  return n;
}

static int file_has(const char *path, const char *needle) {
  FILE *fp = fopen(path, "r");
  char line[512];
  int found = 0;
  if (fp == NULL)
    return 0;
  while (!found && fgets(line, sizeof(line), fp) != NULL)
    found = strstr(line, needle) != NULL;
  fclose(fp);
  return found;
}

static int batches_left(fx *f) {
  char cmd[PATH_MAX + 64];
  FILE *p;
  int n = 0;
  snprintf(cmd, sizeof(cmd), "ls %s/HR/batches 2>/dev/null | wc -l",
           f->collect);
  p = popen(cmd, "r");
  assert_non_null(p);
  assert_int_equal(fscanf(p, "%d", &n), 1);
  pclose(p);
  return n;
}

/* ---- the cases ---- */

static void test_complete_twice_then_one_percent(void **state) {
  fx *f = *state;
  jh_sync_stats st;
  char err[1024];
  char *t = people(1000, 0, "", 0);

  /* an empty store: every insert is over the thresholds */
  batch(f, "complete", t, NULL, 0);
  assert_int_equal(sync_run(f, 1, 0, 0, 0, &st, err, sizeof(err)),
                   JOBHOST_EBLOCKED);
  assert_non_null(strstr(err, "connector HR: 1000 insertions > 100"));
  assert_int_equal(query_int(f, "SELECT count(*) FROM resources"), 0);
  /* forced, it lands */
  batch(f, "complete", t, NULL, 0);
  assert_int_equal(sync_run(f, 2, 0, 1, 0, &st, err, sizeof(err)), 0);
  assert_int_equal(st.inserted, 1000);
  assert_int_equal(st.applied, 1);
  assert_int_equal(query_int(f, "SELECT count(*) FROM resources"), 1000);
  /* the first load into the empty store ran with a rollback journal; the
   * store is back in WAL, with no journal left */
  assert_string_equal(journal_mode(f), "wal");
  {
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s-journal", f->store);
    assert_int_not_equal(access(path, F_OK), 0);
  }
  /* 1000 inserts and the line saying the held changes were discarded */
  assert_int_equal(count_lines(f->report), 1002);
  assert_int_equal(st.superseded, 1000);
  /* the held changes of instance 1 were dropped by the complete batch */
  assert_int_equal(query_int(f, "SELECT count(*) FROM resource_changes"), 0);
  assert_int_equal(query_int(f, "SELECT count(*) FROM holds WHERE "
                                "task_instance = 1 AND state = 'superseded' "
                                "AND settled_by = 2"),
                   1);
  /* the same data again changes nothing */
  batch(f, "complete", t, NULL, 0);
  assert_int_equal(sync_run(f, 3, 0, 0, 0, &st, err, sizeof(err)), 0);
  assert_int_equal(st.inserted + st.updated + st.deleted, 0);
  assert_int_equal(st.unchanged, 1000);
  assert_int_equal(st.applied, 0);
  assert_int_equal(count_lines(f->report), 1);
  free(t);
  /* 1% of the rows changed: exactly those are updated */
  t = people(1000, 100, " changed", 0);
  batch(f, "complete", t, NULL, 0);
  assert_int_equal(sync_run(f, 4, 0, 0, 0, &st, err, sizeof(err)), 0);
  assert_int_equal(st.updated, 10);
  assert_int_equal(st.inserted + st.deleted, 0);
  assert_int_equal(count_lines(f->report), 11);
  assert_true(file_has(f->report, "update,HR_Person,P000100,name"));
  assert_false(file_has(f->report, "P000101"));
  assert_int_equal(batches_left(f), 0);
  free(t);
}

static void test_ten_percent_deleted_blocks_then_resume(void **state) {
  fx *f = *state;
  jh_sync_stats st;
  char err[1024];
  char *full = people(1000, 0, "", 0), *less = people(1000, 0, "", 10);

  batch(f, "complete", full, NULL, 0);
  assert_int_equal(sync_run(f, 1, 0, 1, 0, &st, err, sizeof(err)), 0);
  batch(f, "complete", less, NULL, 0);
  assert_int_equal(sync_run(f, 2, 0, 0, 0, &st, err, sizeof(err)),
                   JOBHOST_EBLOCKED);
  assert_non_null(strstr(err, "100 deletions > 5% of stored (1000)"));
  assert_int_equal(st.deleted, 100); /* counted, not applied */
  assert_int_equal(query_int(f, "SELECT count(*) FROM resources"), 1000);
  assert_int_equal(query_int(f, "SELECT count(*) FROM resource_changes "
                                "WHERE state = 'held' AND task_instance = 2"),
                   100);
  assert_int_equal(query_int(f, "SELECT blocked_task_instance FROM "
                                "sync_state"),
                   2);
  /* while blocked, an incremental batch is refused */
  batch(f, "incremental", "command,id,name,dept\ninsert,Z1,z,D\n", NULL, 1);
  assert_int_equal(sync_run(f, 3, 0, 0, 0, &st, err, sizeof(err)),
                   JOBHOST_EBLOCKED);
  assert_non_null(strstr(err, "connector HR is blocked: task instance 2"));
  /* resuming the refused run validates nothing and leaves the block to
   * the instance that holds the changes */
  assert_int_equal(sync_run(f, 6, 3, 1, 0, &st, err, sizeof(err)),
                   JOBHOST_EBLOCKED);
  assert_non_null(strstr(err, "connector HR is blocked: task instance 2"));
  assert_int_equal(query_int(f, "SELECT blocked_task_instance FROM "
                                "sync_state"),
                   2);
  assert_int_equal(query_int(f, "SELECT count(*) FROM resource_changes "
                                "WHERE state = 'held'"),
                   100);
  /* resume (synchronization validation) applies exactly the held ones */
  assert_int_equal(sync_run(f, 4, 2, 1, 0, &st, err, sizeof(err)), 0);
  assert_int_equal(st.deleted, 100);
  assert_int_equal(query_int(f, "SELECT count(*) FROM resources"), 900);
  assert_int_equal(query_int(f, "SELECT count(*) FROM resource_changes"), 0);
  assert_int_equal(query_int(f, "SELECT count(blocked_task_instance) FROM "
                                "sync_state"),
                   0);
  assert_true(file_has(f->report, "delete,HR_Person,P000010"));
  /* the pending incremental batch is applied by the next run */
  assert_int_equal(sync_run(f, 5, 0, 0, 0, &st, err, sizeof(err)), 0);
  assert_int_equal(st.inserted, 1);
  /* resuming the validated instance again applies nothing twice */
  assert_int_equal(sync_run(f, 7, 2, 1, 0, &st, err, sizeof(err)), 0);
  assert_int_equal(st.deleted, 0);
  assert_non_null(strstr(st.note, "were applied"));
  assert_int_equal(query_int(f, "SELECT count(*) FROM resources"), 901);
  free(full);
  free(less);
}

static void test_incremental_dirty(void **state) {
  fx *f = *state;
  jh_sync_stats st;
  char err[1024];
  char *full = people(200, 0, "", 0);
  int64_t flagged, cleared;

  batch(f, "complete", full, NULL, 0);
  assert_int_equal(sync_run(f, 1, 0, 1, 0, &st, err, sizeof(err)), 0);
  batch(f, "incremental",
        "command,id,name,dept\n"
        "update,P000003,Three,D3\n"
        "delete,P000005,,\n"
        "merge,P000007,Name 7,D0\n" /* unchanged */
        "insert,P999999,New,D1\n",
        NULL, 1);
  assert_int_equal(sync_run(f, 2, 0, 0, 1, &st, err, sizeof(err)), 0);
  assert_int_equal(st.updated, 1);
  assert_int_equal(st.deleted, 1);
  assert_int_equal(st.inserted, 1);
  assert_int_equal(st.unchanged, 1);
  assert_int_equal(query_int(f, "SELECT count(*) FROM resource_changes "
                                "WHERE state = 'applied'"),
                   3);
  assert_int_equal(
      jh_sync_mark_dirty(f->store, &flagged, &cleared, err, sizeof(err)), 0);
  assert_int_equal(flagged, 2); /* the deleted one is gone */
  assert_int_equal(cleared, 3);
  assert_int_equal(query_int(f, "SELECT count(*) FROM resources WHERE dirty"),
                   2);
  /* flagged for every consumer (JH_DIRTY_ALL, lib/provstore.h) */
  assert_int_equal(query_int(f, "SELECT dirty FROM resources WHERE key = "
                                "'P999999'"),
                   7);
  assert_int_equal(query_int(f, "SELECT count(*) FROM resource_changes"), 0);
  free(full);
}

/* Forced runs apply as they diff; in a complete merge over a loaded store
 * the stored rows are walked while diffing, and an update must never turn
 * into a delete (regression: every updated key was deleted after). */
static void test_forced_complete_over_loaded_store(void **state) {
  fx *f = *state;
  jh_sync_stats st;
  char err[1024];
  char *t = people(2000, 0, "", 0);

  batch(f, "complete", t, "key1,key2\nG1,P000001\nG1,P000002\n", 0);
  assert_int_equal(sync_run(f, 1, 0, 1, 0, &st, err, sizeof(err)), 0);
  assert_int_equal(query_int(f, "SELECT count(*) FROM resources"), 2000);
  free(t);
  /* 1% updated, 1% deleted, one link changed, all forced */
  t = people(2000, 40, " changed", 50); /* 40 of 50 changed rows remain */
  batch(f, "complete", t, "key1,key2\nG1,P000001\nG2,P000003\n", 0);
  assert_int_equal(sync_run(f, 2, 0, 1, 0, &st, err, sizeof(err)), 0);
  assert_int_equal(st.deleted, 40);
  assert_int_equal(st.updated, 40);
  assert_int_equal(st.inserted, 0);
  assert_int_equal(st.link_inserted, 1);
  assert_int_equal(st.link_deleted, 1);
  assert_int_equal(query_int(f, "SELECT count(*) FROM resources"), 1960);
  assert_int_equal(query_int(f, "SELECT count(*) FROM links"), 2);
  assert_int_equal(query_int(f, "SELECT count(*) FROM resources "
                                "WHERE key = 'P000040'"),
                   1);
  assert_true(file_has(f->report, "update,HR_Person,P000040,name"));
  assert_false(file_has(f->report, "delete,HR_Person,P000040"));
  assert_true(file_has(f->report, "delete,HR_Person,P000050"));
  free(t);
}

/* A value that does not fit its property's type stops the task with
 * the batch file and line, and nothing is written. */
static void test_typed_values(void **state) {
  fx *f = *state;
  jh_sync_stats st;
  char err[1024];

  person_types[2].type = JH_PROP_INTEGER;
  batch(f, "complete", "id,name,dept\nA,a,1\nB,b,-42\nC,c,4x\n", NULL, 0);
  assert_int_equal(sync_run(f, 1, 0, 1, 0, &st, err, sizeof(err)),
                   JOBHOST_ECONFIG);
  assert_non_null(strstr(err, "HR_Person.sorted.csv:4: property 'dept': "
                              "'4x' is not valid: expected an integer"));
  assert_int_equal(query_int(f, "SELECT count(*) FROM resources"), 0);
  person_types[2].type = JH_PROP_DATETIME;
  batch(f, "complete",
        "id,name,dept\nA,a,2024-02-29\nB,b,\n"
        "C,c,20240101123000.0Z\nD,d,2023-02-29\n",
        NULL, 0);
  assert_int_equal(sync_run(f, 2, 0, 1, 0, &st, err, sizeof(err)),
                   JOBHOST_ECONFIG);
  assert_non_null(strstr(err, "HR_Person.sorted.csv:5: property 'dept': "
                              "'2023-02-29' is not valid"));
  person_types[2].type = JH_PROP_BOOLEAN;
  batch(f, "complete", "id,name,dept\nA,a,True\nB,b,0\n", NULL, 0);
  assert_int_equal(sync_run(f, 3, 0, 1, 0, &st, err, sizeof(err)), 0);
  assert_int_equal(query_int(f, "SELECT count(*) FROM resources"), 2);
  person_types[2].type = JH_PROP_STRING;
}

static void test_links_and_initial(void **state) {
  fx *f = *state;
  jh_sync_stats st;
  char err[1024];

  batch(f, "initial", "id,name,dept\nA,a,1\nB,b,1\nC,c,2\n",
        "key1,key2\nG1,A\nG1,B\nG2,C\n", 0);
  assert_int_equal(sync_run(f, 1, 0, 0, 0, &st, err, sizeof(err)), 0);
  assert_int_equal(st.inserted, 3);
  assert_int_equal(st.link_inserted, 3);
  /* an initial batch into a loaded store is refused, nothing changes */
  batch(f, "initial", "id,name,dept\nA,a,1\n", NULL, 0);
  assert_int_equal(sync_run(f, 2, 0, 0, 0, &st, err, sizeof(err)),
                   JOBHOST_ECONFIG);
  assert_non_null(strstr(err, "already in the store"));
  assert_int_equal(query_int(f, "SELECT count(*) FROM resources"), 3);
  /* the refused batch is still pending: clear it with a complete one */
  batch(f, "complete", "id,name,dept\nA,a,1\nB,b,1\nC,c,2\n",
        "key1,key2\nG1,A\nG3,C\n", 0);
  assert_int_equal(sync_run(f, 3, 0, 1, 0, &st, err, sizeof(err)), 0);
  assert_int_equal(st.link_inserted, 1);
  assert_int_equal(st.link_deleted, 2);
  assert_true(file_has(f->report, "link_delete,HR_member,G1,B"));
  assert_true(file_has(f->report, "link_insert,HR_member,G3,C"));
  assert_int_equal(query_int(f, "SELECT count(*) FROM links"), 2);
  batch(f, "incremental", "command,id,name,dept\n",
        "command,key1,key2\ndelete,G1,A\ninsert,G4,B\ninsert,G3,C\n", 1);
  assert_int_equal(sync_run(f, 4, 0, 1, 0, &st, err, sizeof(err)), 0);
  assert_int_equal(st.link_inserted, 1);
  assert_int_equal(st.link_deleted, 1);
  assert_int_equal(query_int(f, "SELECT count(*) FROM links WHERE value1 = "
                                "'G4'"),
                   1);
}

static void test_guard(void **state) {
  fx *f = *state;
  jh_sync_stats st;
  char err[1024];
  char *full = people(100, 0, "", 0), *half = people(100, 0, "", 2);

  batch(f, "complete", full, NULL, 0);
  assert_int_equal(sync_run(f, 1, 0, 1, 0, &st, err, sizeof(err)), 0);
  /* an empty export never deletes, even forced */
  batch(f, "complete", "id,name,dept\n", NULL, 0);
  assert_int_equal(sync_run(f, 2, 0, 1, 0, &st, err, sizeof(err)),
                   JOBHOST_ESOURCE);
  assert_non_null(strstr(err, "source-health guard: table 'HR_Person' of "
                              "connector 'HR' is empty"));
  assert_int_equal(query_int(f, "SELECT count(*) FROM resources"), 100);
  /* losing more than max_shrink_percent (50) is refused as well */
  connectors[0].health.max_shrink_percent = 40;
  batch(f, "complete", half, NULL, 0);
  assert_int_equal(sync_run(f, 3, 0, 1, 0, &st, err, sizeof(err)),
                   JOBHOST_ESOURCE);
  assert_non_null(strstr(err, "has 50 rows against 100 stored"));
  assert_int_equal(query_int(f, "SELECT count(*) FROM resources"), 100);
  /* within the share it goes through (forced past the thresholds) */
  connectors[0].health.max_shrink_percent = 50;
  assert_int_equal(sync_run(f, 4, 0, 1, 0, &st, err, sizeof(err)), 0);
  assert_int_equal(st.deleted, 50);
  free(full);
  free(half);
}

static void test_complete_voids_pending_incremental(void **state) {
  fx *f = *state;
  jh_sync_stats st;
  char err[1024];

  batch(f, "incremental", "command,id,name,dept\ninsert,X,x,1\n", NULL, 1);
  batch(f, "complete", "id,name,dept\nA,a,1\n", NULL, 0);
  batch(f, "incremental", "command,id,name,dept\ninsert,B,b,1\n", NULL, 1);
  assert_int_equal(sync_run(f, 1, 0, 1, 0, &st, err, sizeof(err)), 0);
  assert_int_equal(st.batches, 2);
  assert_int_equal(query_int(f, "SELECT count(*) FROM resources"), 2);
  assert_int_equal(query_int(f, "SELECT count(*) FROM resources WHERE key = "
                                "'X'"),
                   0);
  assert_int_equal(query_int(f, "SELECT last_batch FROM sync_state"), 3);
  assert_int_equal(batches_left(f), 0);
}

static void test_bad_batches(void **state) {
  fx *f = *state;
  jh_sync_stats st;
  char err[1024];

  batch(f, "complete", "id,name,dept\nB,b,1\nA,a,1\n", NULL, 0);
  assert_int_equal(sync_run(f, 1, 0, 1, 0, &st, err, sizeof(err)),
                   JOBHOST_ECONFIG);
  assert_non_null(strstr(err, "HR_Person.sorted.csv:3: key out of order"));
  /* a batch that failed on its data is set aside with its reason */
  assert_non_null(strstr(err, "the batch is set aside in"));
  assert_int_equal(batches_left(f), 0);
  {
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path),
             "%s/HR/failed/0000000001-complete/"
             "reason.txt",
             f->collect);
    assert_true(file_has(path, "key out of order"));
  }
  assert_int_equal(query_int(f, "SELECT failed_batch FROM sync_state"), 1);
  /* an incremental batch cannot follow it */
  batch(f, "incremental", "command,id,name,dept\ninsert,Z1,z,D\n", NULL, 1);
  assert_int_equal(sync_run(f, 2, 0, 1, 0, &st, err, sizeof(err)),
                   JOBHOST_ECONFIG);
  assert_non_null(strstr(err, "an incremental batch cannot follow it"));
  assert_int_equal(batches_left(f), 1);
  f->seq = 10;
  batch(f, "complete", "id,name,title\nA,a,1\n", NULL, 0);
  assert_int_equal(sync_run(f, 3, 0, 1, 0, &st, err, sizeof(err)),
                   JOBHOST_ECONFIG);
  assert_non_null(strstr(err, "column 'title' is not a mapped property"));
  assert_int_equal(query_int(f, "SELECT count(*) FROM resources"), 0);
  /* a good complete batch replaces them and clears the failure */
  f->seq = 20;
  batch(f, "complete", "id,name,dept\nA,a,1\n", NULL, 0);
  assert_int_equal(sync_run(f, 4, 0, 1, 0, &st, err, sizeof(err)), 0);
  assert_int_equal(query_int(f, "SELECT count(*) FROM resources"), 1);
  assert_int_equal(query_int(f, "SELECT count(failed_batch) FROM "
                                "sync_state"),
                   0);
}

/* The synchronizer says once that its transaction committed (the host
 * then takes a later kill as too late to undo it), and never when it
 * rolled back. */
static void count_commit(void *arg, int held, const jh_sync_stats *st) {
  (void)held;
  (void)st;
  ++*(int *)arg;
}

static int sync_counting_commits(fx *f, int64_t instance, int *commits,
                                 char *err, size_t errsize) {
  jh_sync_args a;
  jh_sync_stats st;
  memset(&a, 0, sizeof(a));
  a.model = &model;
  a.connector = "hr";
  a.collect_dir = f->collect;
  a.store_path = f->store;
  a.work_dir = f->work;
  a.report_path = f->report;
  a.task_instance = instance;
  a.force = 1;
  a.committed = count_commit;
  a.arg = commits;
  return jh_sync_run(&a, &st, err, errsize);
}

static void test_commit_notice(void **state) {
  fx *f = *state;
  char err[1024];
  int commits = 0;

  batch(f, "complete", "id,name,dept\nB,b,1\nA,a,1\n", NULL, 0);
  assert_int_equal(sync_counting_commits(f, 1, &commits, err, sizeof(err)),
                   JOBHOST_ECONFIG);
  assert_int_equal(commits, 0);
  f->seq = 10;
  batch(f, "complete", "id,name,dept\nA,a,1\nB,b,1\n", NULL, 0);
  assert_int_equal(sync_counting_commits(f, 2, &commits, err, sizeof(err)), 0);
  assert_int_equal(commits, 1);
  assert_int_equal(query_int(f, "SELECT count(*) FROM resources"), 2);
}

/* Killing the worker in the middle of its transaction leaves the store
 * as it was. */
static int kill_self(void *arg) {
  static int calls;
  (void)arg;
  /* forced, changes apply as the 20,000 rows are read, with a poll
   * every 4,096 rows: the 3rd comes with thousands applied */
  if (++calls == 3)
    raise(SIGKILL);
  return 0;
}

static void test_killed_mid_transaction(void **state) {
  fx *f = *state;
  jh_sync_stats st;
  char err[1024];
  char *full = people(20000, 0, "", 0), *changed = people(20000, 3, "x", 0);
  pid_t pid;
  int status;

  batch(f, "complete", full, NULL, 0);
  assert_int_equal(sync_run(f, 1, 0, 1, 0, &st, err, sizeof(err)), 0);
  batch(f, "complete", changed, NULL, 0);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    jh_sync_args a;
    memset(&a, 0, sizeof(a));
    a.model = &model;
    a.connector = "HR";
    a.collect_dir = f->collect;
    a.store_path = f->store;
    a.work_dir = f->work;
    a.task_instance = 2;
    a.force = 1;
    a.cancelled = kill_self;
    jh_sync_run(&a, &st, err, sizeof(err));
    _exit(0);
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFSIGNALED(status));
  assert_int_equal(query_int(f, "SELECT count(*) FROM resources WHERE "
                                "data LIKE '%x%'"),
                   0);
  assert_int_equal(query_int(f, "SELECT last_batch FROM sync_state"), 1);
  /* the batch is still pending and applies whole afterwards */
  assert_int_equal(sync_run(f, 3, 0, 1, 0, &st, err, sizeof(err)), 0);
  assert_int_equal(st.updated, 6667);
  free(full);
  free(changed);
}

/* Mapping and association thresholds apply on their own (default 0:
 * off), below the connector's. */
static void test_mapping_and_link_thresholds(void **state) {
  fx *f = *state;
  jh_sync_stats st;
  char err[1024];
  char *full = people(1000, 0, "", 0), *changed = people(1000, 250, "!", 0);

  batch(f, "complete", full, "key1,key2\nG,P000001\nG,P000002\n", 0);
  assert_int_equal(sync_run(f, 1, 0, 1, 0, &st, err, sizeof(err)), 0);
  /* 4 updates: under the connector's 100 and 5%, over the mapping's 3 */
  mappings[0].thresholds.v[JH_TH_MAX_UPDATED] = 3;
  batch(f, "complete", changed, "key1,key2\nG,P000001\nG,P000002\n", 0);
  assert_int_equal(sync_run(f, 2, 0, 0, 0, &st, err, sizeof(err)),
                   JOBHOST_EBLOCKED);
  assert_non_null(strstr(err, "entity type mapping HR_Person: 4 updates > 3"));
  mappings[0].thresholds.v[JH_TH_MAX_UPDATED] = JH_THRESHOLD_UNSET;
  /* a complete batch replaces the held changes; 3 link insertions are
   * 150% of the 2 stored links, over the association's 100% (the
   * connector's 5% is turned off to show the association's alone) */
  associations[0].thresholds.v[JH_TH_LINK_PCT_INSERTED] = 100;
  connectors[0].thresholds.v[JH_TH_LINK_PCT_INSERTED] = 0;
  batch(f, "complete", changed,
        "key1,key2\nG,P000001\nG,P000002\nH,P000001\nH,P000002\n"
        "H,P000003\n",
        0);
  assert_int_equal(sync_run(f, 3, 0, 0, 0, &st, err, sizeof(err)),
                   JOBHOST_EBLOCKED);
  assert_non_null(strstr(err, "association mapping HR_member: 3 link "
                              "insertions > 100% of stored"));
  assert_int_equal(query_int(f, "SELECT count(*) FROM links"), 2);
  assert_int_equal(query_int(f, "SELECT count(*) FROM link_changes WHERE "
                                "state = 'held'"),
                   3);
  /* resume applies the held resources and links together */
  assert_int_equal(sync_run(f, 4, 3, 1, 0, &st, err, sizeof(err)), 0);
  assert_int_equal(st.updated, 4);
  assert_int_equal(st.link_inserted, 3);
  assert_int_equal(query_int(f, "SELECT count(*) FROM links"), 5);
  associations[0].thresholds.v[JH_TH_LINK_PCT_INSERTED] = JH_THRESHOLD_UNSET;
  free(full);
  free(changed);
}

/* A store written by a newer jobhost is refused, not damaged. */
/* A Blocked synchronization whose commit fails (here: files may not grow,
 * as on a full disk) is an error that says so; not Blocked with the
 * threshold's "the changes are held", since nothing was held. */
static void test_blocked_commit_fails(void **state) {
  fx *f = *state;
  jh_sync_stats st;
  char err[1024];
  struct rlimit old, small;
  struct stat sb;
  jh_idstore *store;
  size_t cap = 20000 * 16 + 64, o = 0;
  char *t = malloc(cap);
  int rc;

  /* rows of a key only: their held copies in the store take about twice
   * the room of the spill file and of the change report, so a limit
   * between the two lets both be written and fails the commit */
  assert_non_null(t);
  o += (size_t)snprintf(t + o, cap - o, "id,name,dept\n");
  for (int i = 0; i < 20000; i++)
    o += (size_t)snprintf(t + o, cap - o, "P%06d,,\n", i);
  batch(f, "complete", t, NULL, 0);
  assert_int_equal(jh_idstore_open(f->store, &store, err, sizeof(err)), 0);
  jh_idstore_close(store);
  assert_int_equal(stat(f->store, &sb), 0);
  assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
  small = old;
  small.rlim_cur = (rlim_t)sb.st_size + 900 * 1024;
  signal(SIGXFSZ, SIG_IGN);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
  rc = sync_run(f, 1, 0, 0, 0, &st, err, sizeof(err));
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
  signal(SIGXFSZ, SIG_DFL);
  assert_int_equal(rc, -EIO);
  if (strstr(err, "identity.db: disk I/O error") == NULL ||
      strstr(err, "held") != NULL)
    fail_msg("wanted the commit's failure, got: %s", err);
  assert_int_equal(query_int(f, "SELECT count(*) FROM resource_changes"), 0);
  free(t);
}

static void test_newer_schema_refused(void **state) {
  fx *f = *state;
  sqlite3 *db;
  jh_idstore *st = NULL;
  char err[512];
  assert_int_equal(sqlite3_open(f->store, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL,
                                NULL),
                   SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(jh_idstore_open(f->store, &st, err, sizeof(err)), -EPROTO);
  assert_null(st);
  assert_non_null(strstr(err, "identity store schema 99 is newer"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_complete_twice_then_one_percent,
                                      setup, jh_test_teardown_fixture),
      cmocka_unit_test_setup_teardown(
          test_ten_percent_deleted_blocks_then_resume, setup,
          jh_test_teardown_fixture),
      cmocka_unit_test_setup_teardown(test_incremental_dirty, setup,
                                      jh_test_teardown_fixture),
      cmocka_unit_test_setup_teardown(test_forced_complete_over_loaded_store,
                                      setup, jh_test_teardown_fixture),
      cmocka_unit_test_setup_teardown(test_typed_values, setup,
                                      jh_test_teardown_fixture),
      cmocka_unit_test_setup_teardown(test_links_and_initial, setup,
                                      jh_test_teardown_fixture),
      cmocka_unit_test_setup_teardown(test_guard, setup,
                                      jh_test_teardown_fixture),
      cmocka_unit_test_setup_teardown(test_complete_voids_pending_incremental,
                                      setup, jh_test_teardown_fixture),
      cmocka_unit_test_setup_teardown(test_commit_notice, setup,
                                      jh_test_teardown_fixture),
      cmocka_unit_test_setup_teardown(test_bad_batches, setup,
                                      jh_test_teardown_fixture),
      cmocka_unit_test_setup_teardown(test_killed_mid_transaction, setup,
                                      jh_test_teardown_fixture),
      cmocka_unit_test_setup_teardown(test_mapping_and_link_thresholds, setup,
                                      jh_test_teardown_fixture),
      cmocka_unit_test_setup_teardown(test_blocked_commit_fails, setup,
                                      jh_test_teardown_fixture),
      cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup,
                                      jh_test_teardown_fixture),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
