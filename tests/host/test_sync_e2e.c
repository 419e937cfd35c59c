/*
 * test_sync_e2e.c — synchronization end to end: the jobhost program runs
 * ExportTask (csv, ldif) -> PrepareSynchronizationTask ->
 * SynchronizeTask pipelines, and the tests read its exit status, its
 * report, the change report and the identity store.
 *
 *   - a complete HR synchronization on an empty store is Blocked by the
 *     default thresholds and leaves the store empty; `jobhost resume`
 *     applies it; a second run changes nothing;
 *   - 1% of the rows changed: exactly those are updated (change report);
 *   - 10% deleted: Blocked, store unchanged, resume applies the deletions;
 *   - an empty export: the source-health guard fails the job, the store
 *     is untouched;
 *   - incremental with DoNotDeleteChanges and SetRecentlyModifiedFlag:
 *     exactly the changed resources are flagged dirty;
 *   - the example's directory (LDIF) lands with its entries and links.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "harness_host.h"

typedef struct fixture {
  jh_test_jobhost j; /* the built-in plugins */
  char csv[300];     /* dir/hr.csv, the HR source */
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof(*f));
  if (f == NULL)
    return -1;
  jh_test_jobhost_open(&f->j, "JH_BUILTIN_PLUGIN_DIR", NULL);
  jh_test_path(f->csv, sizeof(f->csv), "%s/hr.csv", f->j.dir);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  (void)umount2(f->j.home, MNT_DETACH); /* the disk-full test's tmpfs */
  jh_test_jobhost_close(&f->j);
  free(f);
  return 0;
}

static const char model[] =
    "version: 1\n"
    "connectors:\n"
    "  - id: HR\n"
    "connections:\n"
    "  - id: HR_Export\n"
    "    connector: HR\n"
    "    package: csv\n"
    "    settings: {path: hr.csv}\n"
    "entity_types:\n"
    "  - id: HR_Person\n"
    "    properties:\n"
    "      - {id: employee_id, type: string}\n"
    "      - {id: name, type: string}\n"
    "      - {id: title, type: string}\n"
    "entity_type_mappings:\n"
    "  - entity_type: HR_Person\n"
    "    connector: HR\n"
    "    connection_table: HR_Export\n"
    "    properties:\n"
    "      - {property: employee_id, column: Id, primary_key: true}\n"
    "      - {property: name, column: Name}\n"
    "      - {property: title, column: Title}\n";

static const char complete_job[] = "version: 1\n"
                                   "include: [model.yaml]\n"
                                   "job:\n"
                                   "  id: Job_HR\n"
                                   "  tasks:\n"
                                   "    - id: Export\n"
                                   "      type: ExportTask\n"
                                   "      connection: HR_Export\n"
                                   "      ignore_cookie_file: true\n"
                                   "    - id: Prepare\n"
                                   "      type: PrepareSynchronizationTask\n"
                                   "      connector: HR\n"
                                   "      synchronization_mode: Complete\n"
                                   "      depends_on: [Export]\n"
                                   "    - id: Sync\n"
                                   "      type: SynchronizeTask\n"
                                   "      connector: HR\n"
                                   "      depends_on: [Prepare]\n";

static const char incremental_job[] =
    "version: 1\n"
    "include: [model.yaml]\n"
    "job:\n"
    "  id: Job_HR_Incremental\n"
    "  tasks:\n"
    "    - id: Export\n"
    "      type: ExportTask\n"
    "      connection: HR_Export\n"
    "      ignore_cookie_file: true\n"
    "    - id: Prepare\n"
    "      type: PrepareSynchronizationTask\n"
    "      connector: HR\n"
    "      synchronization_mode: Incremental\n"
    "      depends_on: [Export]\n"
    "    - id: Sync\n"
    "      type: SynchronizeTask\n"
    "      connector: HR\n"
    "      do_not_delete_changes: true\n"
    "      depends_on: [Prepare]\n"
    "    - id: MarkDirty\n"
    "      type: SetRecentlyModifiedFlagTask\n"
    "      depends_on: [Sync]\n";

static const char initial_job[] = "version: 1\n"
                                  "include: [model.yaml]\n"
                                  "job:\n"
                                  "  id: Job_HR_Initial\n"
                                  "  tasks:\n"
                                  "    - id: Export\n"
                                  "      type: ExportTask\n"
                                  "      connection: HR_Export\n"
                                  "      ignore_cookie_file: true\n"
                                  "    - id: Prepare\n"
                                  "      type: PrepareSynchronizationTask\n"
                                  "      connector: HR\n"
                                  "      synchronization_mode: Initial\n"
                                  "      depends_on: [Export]\n"
                                  "    - id: Sync\n"
                                  "      type: SynchronizeTask\n"
                                  "      connector: HR\n"
                                  "      depends_on: [Prepare]\n";

/* n rows; rows i with i % every == 0 (every > 0) get another title; rows
 * with i % skip == 0 (skip > 0) are left out. */
static void write_hr(const fixture *f, int n, int every, int skip) {
  FILE *fp = fopen(f->csv, "w");
  assert_non_null(fp);
  fprintf(fp, "Id,Name,Title\n");
  for (int i = n - 1; i >= 0; i--) { /* not in key order */
    if (skip > 0 && i % skip == 0)
      continue;
    fprintf(fp, "E%05d,\"Doe, J%d\",%s\n", i, i,
            every > 0 && i % every == 0 ? "Lead" : "Clerk");
  }
  assert_int_equal(fclose(fp), 0);
}

/* n rows, every 7th with another title, every 10th left out. */
static void write_hr7(const fixture *f, int n) {
  FILE *fp = fopen(f->csv, "w");
  assert_non_null(fp);
  fprintf(fp, "Id,Name,Title\n");
  for (int i = 0; i < n; i++)
    if (i % 10 != 0)
      fprintf(fp, "E%05d,\"Doe, J%d\",%s\n", i, i,
              i % 7 == 0 ? "Lead" : "Clerk");
  assert_int_equal(fclose(fp), 0);
}

static void write_job(const fixture *f, const char *job) {
  jh_test_jobhost_file(&f->j, "model.yaml", model);
  jh_test_jobhost_pipeline(&f->j, job);
}

/* jobhost CMD TARGET [extra]; returns the exit status. */
static int jobhost(const fixture *f, const char *cmd, const char *target,
                   const char *extra) {
  return jh_test_jobhost_run(&f->j, NULL, NULL, cmd, target, extra, NULL);
}

/* Text `key` of task `id` in the report (a static copy, "" when absent). */
static const char *task_text(const fixture *f, const char *id,
                             const char *key) {
  static char text[1024];
  json_t *r = jh_test_report_load(f->j.report);
  const char *v = json_string_value(
      json_object_get(jh_test_report_task(r, id), key));
  snprintf(text, sizeof(text), "%s", v != NULL ? v : "");
  json_decref(r);
  return text;
}

static const char *task_state(const fixture *f, const char *id) {
  return task_text(f, id, "state");
}

static int message_has(const fixture *f, const char *id, const char *needle) {
  const char *m = task_text(f, id, "message");
  int found = strstr(m, needle) != NULL;
  if (!found)
    fprintf(stderr, "%s: message '%s' lacks '%s'\n", id, m, needle);
  return found;
}

static long long counter(const fixture *f, const char *id, const char *name) {
  json_t *r = jh_test_report_load(f->j.report);
  long long v = jh_test_counter(jh_test_report_task(r, id), name);
  json_decref(r);
  return v;
}

static long long instance(const fixture *f) {
  json_t *r = jh_test_report_load(f->j.report);
  long long v = json_integer_value(json_object_get(r, "instance"));
  json_decref(r);
  return v;
}

static long long query(const fixture *f, const char *sql) {
  char path[400];
  jh_test_path(path, sizeof(path), "%s/identity.db", f->j.home);
  if (access(path, F_OK) != 0)
    return 0; /* no store yet: nothing stored */
  return jh_test_query_int(path, sql);
}

/* The lines of the newest change report of task id that contain needle
 * (all lines when needle is NULL), header excluded. */
static int change_lines(const fixture *f, const char *needle) {
  char cmd[700];
  FILE *p;
  int n = -1;
  snprintf(cmd, sizeof(cmd),
           "f=$(ls -t %s/Temp/JobLogs/*-Sync-*.changes.csv | head -n 1) && "
           "grep -v '^change,table,' \"$f\" | grep -c -- '%s'",
           f->j.home, needle ? needle : "");
  p = popen(cmd, "r");
  assert_non_null(p);
  if (fscanf(p, "%d", &n) != 1)
    n = -1;
  pclose(p);
  return n;
}

#define RESOURCES "SELECT count(*) FROM resources"

static void test_complete_blocked_resume_again_changes(void **state) {
  fixture *f = *state;
  char inst[32];

  write_job(f, complete_job);
  write_hr(f, 300, 0, 0);
  /* an empty store: 300 insertions exceed the default thresholds */
  assert_int_equal(jobhost(f, "run", f->j.pipeline, NULL), 3);
  assert_string_equal(task_state(f, "Sync"), "Blocked");
  assert_int_equal(counter(f, "Sync", "inserted"), 300);
  assert_int_equal(query(f, RESOURCES), 0);
  snprintf(inst, sizeof(inst), "%lld", instance(f));
  assert_int_equal(jobhost(f, "resume", inst, NULL), 0);
  assert_string_equal(task_state(f, "Sync"), "Succeeded");
  assert_int_equal(counter(f, "Sync", "inserted"), 300);
  assert_int_equal(query(f, RESOURCES), 300);
  assert_int_equal(change_lines(f, "insert,HR_Person,"), 300);

  /* the same export again: nothing changes */
  assert_int_equal(jobhost(f, "run", f->j.pipeline, NULL), 0);
  assert_int_equal(counter(f, "Sync", "unchanged"), 300);
  assert_int_equal(counter(f, "Sync", "inserted") +
                       counter(f, "Sync", "updated") +
                       counter(f, "Sync", "deleted"),
                   0);
  assert_int_equal(change_lines(f, NULL), 0);

  /* 1% of the rows changed: exactly those are updated */
  write_hr(f, 300, 100, 0);
  assert_int_equal(jobhost(f, "run", f->j.pipeline, NULL), 0);
  assert_int_equal(counter(f, "Sync", "updated"), 3);
  assert_int_equal(change_lines(f, "update,HR_Person,"), 3);
  assert_int_equal(change_lines(f, "E00100,title"), 1);
  assert_int_equal(query(f, "SELECT count(*) FROM resources WHERE "
                            "CAST(data AS TEXT) LIKE '%Lead%'"),
                   3);

  /* 10% deleted: over 5% of the stored resources, Blocked; resume */
  write_hr(f, 300, 100, 10);
  assert_int_equal(jobhost(f, "run", f->j.pipeline, NULL), 3);
  assert_string_equal(task_state(f, "Sync"), "Blocked");
  assert_int_equal(counter(f, "Sync", "deleted"), 30);
  assert_int_equal(query(f, RESOURCES), 300);
  snprintf(inst, sizeof(inst), "%lld", instance(f));
  assert_int_equal(jobhost(f, "resume", inst, NULL), 0);
  assert_int_equal(query(f, RESOURCES), 270);
  assert_int_equal(change_lines(f, "delete,HR_Person,"), 30);
}

static void test_empty_export_guard(void **state) {
  fixture *f = *state;
  FILE *fp;

  write_job(f, complete_job);
  write_hr(f, 50, 0, 0);
  assert_int_equal(jobhost(f, "run", f->j.pipeline, "--force"), 0);
  assert_int_equal(query(f, RESOURCES), 50);
  fp = fopen(f->csv, "w");
  assert_non_null(fp);
  fprintf(fp, "Id,Name,Title\n");
  fclose(fp);
  /* even forced, an empty source never deletes */
  assert_int_equal(jobhost(f, "run", f->j.pipeline, "--force"), 1);
  assert_int_equal(query(f, RESOURCES), 50);

  /* a failing export leaves no table behind for prepare to take as
   * current */
  {
    char table[400];
    snprintf(table, sizeof(table), "%s/Temp/ExportOutput/HR_Export.csv",
             f->j.home);
    assert_int_equal(access(table, F_OK), 0);
    fp = fopen(f->csv, "w");
    assert_non_null(fp);
    fprintf(fp, "Id,Name,Title\nE1,\xff,x\n"); /* not UTF-8 */
    fclose(fp);
    assert_int_equal(jobhost(f, "run", f->j.pipeline, "--force"), 1);
    assert_string_equal(task_state(f, "Export"), "Error");
    assert_string_equal(task_state(f, "Prepare"), "NotStarted");
    assert_int_equal(access(table, F_OK), -1);
    assert_int_equal(query(f, RESOURCES), 50);
  }
}

static void test_incremental_dirty(void **state) {
  fixture *f = *state;

  write_job(f, incremental_job);
  write_hr(f, 200, 0, 0);
  assert_int_equal(jobhost(f, "run", f->j.pipeline, "--force"), 0);
  assert_int_equal(query(f, RESOURCES), 200);
  assert_int_equal(counter(f, "MarkDirty", "flagged"), 200);
  assert_int_equal(query(f, "SELECT count(*) FROM resources WHERE dirty"), 200);
  assert_int_equal(query(f, "SELECT count(*) FROM resource_changes"), 0);
  /* start the second run with no dirty flag */
  {
    char path[400];
    sqlite3 *db;
    snprintf(path, sizeof(path), "%s/identity.db", f->j.home);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE resources SET dirty = 0", NULL,
                                  NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
  }
  /* against the previous extract: every 7th row updated (26 of them
   * remain), every 10th deleted (20) */
  write_hr7(f, 200);
  assert_int_equal(jobhost(f, "run", f->j.pipeline, "--force"), 0);
  assert_int_equal(counter(f, "Prepare", "updated"), 26);
  assert_int_equal(counter(f, "Prepare", "deleted"), 20);
  assert_int_equal(counter(f, "Sync", "updated"), 26);
  assert_int_equal(counter(f, "Sync", "deleted"), 20);
  assert_int_equal(counter(f, "MarkDirty", "flagged"), 26);
  assert_int_equal(counter(f, "MarkDirty", "cleared"), 46);
  assert_int_equal(query(f, RESOURCES), 180);
  assert_int_equal(query(f, "SELECT count(*) FROM resources WHERE dirty"), 26);
}

/* The example of conf/examples: the directory (LDIF) and the HR CSV land
 * with the right counts. The AD job runs up to its synchronization (the
 * whole job is test_example_e2e's); on an empty store its thresholds
 * block it, and `jobhost resume` applies what was held. */
static void test_example(void **state) {
  fixture *f = *state;
  char *ad = jh_test_source("conf/examples/complete-sync/pipeline.yaml");
  char *hr = jh_test_source("conf/examples/complete-sync/hr-pipeline.yaml");
  json_t *r;
  /* an empty store: every insertion is over the default thresholds */
  json_decref(jh_test_jobhost_report(&f->j, 3, "run", ad, "--to",
                                     "AD_Synchronization", NULL));
  assert_string_equal(task_state(f, "AD_Synchronization"), "Blocked");
  assert_int_equal(query(f, RESOURCES), 0);
  /* resume validates the held changes and keeps the run's --to: the
   * tasks after AD_Synchronization are not run */
  assert_int_equal(jobhost(f, "resume", "1", NULL), 0);
  /* 2,500 people's accounts, 8 groups, 5 service accounts, 3 former
   * employees; each account a member of its department's group */
  assert_int_equal(counter(f, "AD_Synchronization", "inserted"), 2516);
  assert_int_equal(counter(f, "AD_Synchronization", "link_inserted"), 2500);
  r = jh_test_report_load(f->j.report);
  assert_int_equal(json_array_size(json_object_get(r, "tasks")), 3);
  jh_test_assert_job_state(r, "Succeeded");
  json_decref(r);
  assert_int_equal(query(f, RESOURCES), 2516);
  assert_int_equal(query(f, "SELECT count(*) FROM links WHERE association = "
                            "'AD_Entry_members'"),
                   2500);
  assert_int_equal(jobhost(f, "run", hr, "--force"), 0);
  assert_int_equal(counter(f, "HR_Synchronization", "inserted"), 3000);
  assert_int_equal(query(f, RESOURCES), 5516);
  free(ad);
  free(hr);
}

/* jobhost CMD TARGET [extra] with a fault point armed (JOBHOST_FAULT).
 * In the host (in_host: the task run in the host process, --isolation
 * none) the fault kills the host itself; else it kills the task's worker
 * (the default isolation) and the host records what became of the
 * attempt, in a report. */
static int jobhost_fault(const fixture *f, int in_host, const char *cmd,
                         const char *target, const char *fault,
                         const char *extra) {
  jh_test_jobhost no_report = f->j; /* the last report stays */
  int rc;
  no_report.report[0] = '\0';
  assert_int_equal(setenv("JOBHOST_FAULT", fault, 1), 0);
  if (in_host)
    rc = jh_test_jobhost_run(&no_report, NULL, NULL, cmd, target, "--isolation",
                             "none", extra, NULL);
  else
    rc = jh_test_jobhost_run(&f->j, NULL, NULL, cmd, target, extra, NULL);
  unsetenv("JOBHOST_FAULT");
  return rc;
}

/* Files under the home whose path matches a shell pattern. */
static int count_files(const fixture *f, const char *pattern) {
  char cmd[700];
  FILE *p;
  int n = -1;
  /* no cd: under valgrind the shell's children must keep the folder
   * the suppressions file is named from */
  snprintf(cmd, sizeof(cmd), "ls -d '%s'/%s 2>/dev/null | wc -l", f->j.home,
           pattern);
  p = popen(cmd, "r");
  assert_non_null(p);
  if (fscanf(p, "%d", &n) != 1)
    n = -1;
  pclose(p);
  return n;
}

/* Lines of one file under the home holding needle (header excluded). */
static int file_lines(const fixture *f, const char *name, const char *needle) {
  char cmd[700];
  FILE *p;
  int n = -1;
  snprintf(cmd, sizeof(cmd),
           "grep -v '^change,table,' '%s/%s' | "
           "grep -c -- '%s'",
           f->j.home, name, needle);
  p = popen(cmd, "r");
  assert_non_null(p);
  if (fscanf(p, "%d", &n) != 1)
    n = -1;
  pclose(p);
  return n;
}

#define HELD "SELECT count(*) FROM resource_changes WHERE state = 'held'"

/* A complete run of 300 people into the empty store: Blocked by the
 * default thresholds, its changes held; its instance number into inst. */
static void blocked_first_run(const fixture *f, char *inst, size_t size) {
  write_job(f, complete_job);
  write_hr(f, 300, 0, 0);
  assert_int_equal(jobhost(f, "run", f->j.pipeline, NULL), 3);
  snprintf(inst, size, "%lld", instance(f));
}

/* The blocked first run, then a resume whose worker the fault point
 * kills: it exits with `want`. */
static void resume_with_fault(const fixture *f, char *inst, size_t size,
                              const char *fault, int want) {
  blocked_first_run(f, inst, size);
  assert_int_equal(jobhost_fault(f, 0, "resume", inst, fault, NULL), want);
}

/* The synchronization is Blocked, naming the resume to run: nothing is
 * applied, the 300 insertions are held. */
static void still_held(const fixture *f) {
  assert_string_equal(task_state(f, "Sync"), "Blocked");
  assert_true(message_has(f, "Sync", "jobhost resume"));
  assert_int_equal(query(f, RESOURCES), 0);
  assert_int_equal(query(f, HELD), 300);
}

/* The synchronization Succeeded with the 300 insertions; none is left
 * held. */
static void all_applied(const fixture *f) {
  assert_string_equal(task_state(f, "Sync"), "Succeeded");
  assert_int_equal(counter(f, "Sync", "inserted"), 300);
  assert_int_equal(query(f, RESOURCES), 300);
  assert_int_equal(query(f, HELD), 0);
}

/* `jobhost resume inst` applies the 300 held insertions. */
static void resume_applies_held(const fixture *f, const char *inst) {
  assert_int_equal(jobhost(f, "resume", inst, NULL), 0);
  all_applied(f);
}

/* A resume killed while it applies the held changes (before the commit):
 * the next resume applies exactly those changes, and none is left held. */
static void test_resume_killed_mid_apply(void **state) {
  fixture *f = *state;
  char inst[32];

  blocked_first_run(f, inst, sizeof(inst));
  assert_int_equal(query(f, HELD), 300);
  assert_int_equal(
      jobhost_fault(f, 1, "resume", inst, "sync.before_commit", NULL), 128 + 9);
  assert_int_equal(query(f, RESOURCES), 0);
  assert_int_equal(query(f, HELD), 300);
  /* the same job instance again: its held changes are validated */
  resume_applies_held(f, inst);
  assert_int_equal(query(f, "SELECT count(*) FROM holds WHERE state = "
                            "'applied'"),
                   1);
  assert_int_equal(query(f, "SELECT count(*) FROM sync_state WHERE "
                            "blocked_task_instance IS NOT NULL"),
                   0);
  /* resumed once more, nothing is applied twice */
  assert_int_equal(jobhost(f, "resume", inst, NULL), 2);
  assert_int_equal(query(f, RESOURCES), 300);
}

/* Killed between the identity store's commit and the change report's
 * rename: the next run puts the report of what was applied in place. */
static void test_report_survives_kill_after_commit(void **state) {
  fixture *f = *state;

  write_job(f, complete_job);
  write_hr(f, 300, 0, 0);
  assert_int_equal(jobhost_fault(f, 1, "run", f->j.pipeline,
                                 "sync.after_commit", "--force"),
                   128 + 9);
  assert_int_equal(query(f, RESOURCES), 300);
  assert_int_equal(count_files(f, "Temp/JobLogs/1-Sync-1.changes.csv"), 0);
  assert_int_equal(count_files(f, "Temp/JobLogs/1-Sync-1.changes.csv.tmp"), 1);
  assert_int_equal(jobhost(f, "run", f->j.pipeline, NULL), 0);
  assert_int_equal(file_lines(f, "Temp/JobLogs/1-Sync-1.changes.csv",
                              "insert,HR_Person,"),
                   300);
  assert_int_equal(count_files(f, "Temp/JobLogs/*.tmp"), 0);
  assert_int_equal(query(f, "SELECT count(*) FROM pending_reports"), 0);
}

/* A synchronization whose worker is killed after its commit, before it
 * told the host: Succeeded (not Error), with the counters of its change
 * report, which the host put in place. */
static void test_applied_killed_before_notice(void **state) {
  fixture *f = *state;

  write_job(f, complete_job);
  write_hr(f, 300, 0, 0);
  assert_int_equal(jobhost_fault(f, 0, "run", f->j.pipeline,
                                 "sync.before_notice", "--force"),
                   0);
  assert_string_equal(task_state(f, "Sync"), "Succeeded");
  assert_true(message_has(f, "Sync", "its changes were committed"));
  assert_int_equal(query(f, RESOURCES), 300);
  assert_int_equal(file_lines(f, "Temp/JobLogs/1-Sync-1.changes.csv",
                              "insert,HR_Person,"),
                   300);
  assert_int_equal(query(f, "SELECT count(*) FROM pending_reports"), 0);
}

/* What a killed run leaves (the spill file of its work folder, the
 * temporary change report) is gone after the next run of the job. */
static void test_leftovers_swept(void **state) {
  fixture *f = *state;

  write_job(f, complete_job);
  write_hr(f, 300, 0, 0);
  assert_int_equal(jobhost(f, "run", f->j.pipeline, "--force"), 0);
  write_hr(f, 300, 0, 5); /* 60 deletions: over the thresholds */
  assert_int_equal(
      jobhost_fault(f, 1, "run", f->j.pipeline, "sync.diffed", NULL), 128 + 9);
  assert_int_equal(count_files(f, "Work/Tasks/2-Sync-1/changes.spill"), 1);
  assert_int_equal(count_files(f, "Temp/JobLogs/2-Sync-1.changes.csv.tmp"), 1);
  assert_int_equal(query(f, RESOURCES), 300);
  assert_int_equal(jobhost(f, "run", f->j.pipeline, NULL), 3);
  assert_int_equal(count_files(f, "Work/Tasks/*"), 0);
  assert_int_equal(count_files(f, "Temp/JobLogs/*.tmp"), 0);
  assert_int_equal(count_files(f, "Temp/JobLogs/2-Sync-1.changes.csv"), 0);
}

/* A blocked connector stays blocked until its own instance is resolved:
 * incremental jobs leave its tasks out (naming the job instance to
 * resume); a newer complete batch supersedes the held changes, and a
 * resume of the superseded instance changes nothing. */
static void test_blocked_connector_superseded(void **state) {
  fixture *f = *state;
  char inc[400];

  write_job(f, complete_job);
  snprintf(inc, sizeof(inc), "%s/incremental.yaml", f->j.dir);
  jh_test_write_file(inc, incremental_job, 0644);
  write_hr(f, 300, 0, 0);
  assert_int_equal(jobhost(f, "run", f->j.pipeline, NULL), 3);
  assert_int_equal(instance(f), 1);
  assert_true(message_has(f, "Sync", "jobhost resume 1"));

  /* an incremental job of the blocked connector: its export, prepare and
   * synchronize are left out, with the reason; nothing is prepared */
  assert_int_equal(jobhost(f, "run", inc, NULL), 0);
  assert_string_equal(task_state(f, "Export"), "Skipped");
  assert_string_equal(task_state(f, "Prepare"), "Skipped");
  assert_string_equal(task_state(f, "Sync"), "Skipped");
  assert_true(message_has(f, "Export", "blocked by job instance 1"));
  assert_true(message_has(f, "Sync", "jobhost resume 1"));
  assert_int_equal(count_files(f, "Work/Collect/HR/batches/*-incremental"), 0);
  assert_int_equal(query(f, HELD), 300);

  /* a forced complete run with newer data supersedes the held changes */
  write_hr(f, 300, 7, 10);
  assert_int_equal(jobhost(f, "run", f->j.pipeline, "--force"), 0);
  assert_int_equal(counter(f, "Sync", "inserted"), 270);
  assert_int_equal(counter(f, "Sync", "superseded"), 300);
  assert_true(message_has(f, "Sync",
                          "superseded the 300 changes held by "
                          "job instance 1"));
  assert_int_equal(change_lines(f, "superseded,HR,1,"), 1);
  assert_int_equal(query(f, HELD), 0);
  assert_int_equal(query(f, RESOURCES), 270);

  /* resuming the superseded instance says so and changes nothing */
  assert_int_equal(jobhost(f, "resume", "1", NULL), 0);
  assert_true(message_has(f, "Sync", "superseded"));
  assert_int_equal(counter(f, "Sync", "inserted"), 0);
  assert_int_equal(query(f, RESOURCES), 270);
  assert_int_equal(query(f, "SELECT count(*) FROM resources WHERE key = "
                            "'E00010'"),
                   0);

  /* the block is lifted: the incremental job runs (nothing changed in
   * the source, so prepare has no batch and the rest is skipped) */
  assert_int_equal(jobhost(f, "run", inc, NULL), 0);
  assert_string_equal(task_state(f, "Export"), "Succeeded");
  assert_string_equal(task_state(f, "Prepare"), "Succeeded");
  assert_true(message_has(f, "Sync", "produced no output"));
  assert_int_equal(query(f, RESOURCES), 270);
}

/* A failed initial load is set aside with its reason and never replayed
 * into a later mode: incremental runs are refused until a complete one,
 * which removes what the source dropped. */
static void test_failed_initial_set_aside(void **state) {
  fixture *f = *state;
  char ini[400], inc[400];

  write_job(f, complete_job);
  snprintf(ini, sizeof(ini), "%s/initial.yaml", f->j.dir);
  jh_test_write_file(ini, initial_job, 0644);
  snprintf(inc, sizeof(inc), "%s/incremental.yaml", f->j.dir);
  jh_test_write_file(inc, incremental_job, 0644);
  write_hr(f, 300, 0, 0);
  assert_int_equal(jobhost(f, "run", ini, NULL), 0);
  assert_int_equal(query(f, RESOURCES), 300);
  /* a second initial load is refused, and its batch set aside */
  assert_int_equal(jobhost(f, "run", ini, NULL), 1);
  assert_string_equal(task_state(f, "Sync"), "Error");
  assert_true(message_has(f, "Sync", "set aside"));
  assert_int_equal(count_files(f, "Work/Collect/HR/batches/*"), 0);
  assert_int_equal(
      count_files(f, "Work/Collect/HR/failed/*-initial/reason.txt"), 1);
  /* the source drops 30 people: incremental runs are refused, every time */
  write_hr(f, 300, 0, 10);
  assert_int_equal(jobhost(f, "run", inc, NULL), 1);
  assert_true(message_has(f, "Prepare", "run a complete synchronization"));
  assert_int_equal(jobhost(f, "run", inc, NULL), 1);
  assert_int_equal(query(f, RESOURCES), 300);
  /* a complete run makes the store match the source again */
  assert_int_equal(jobhost(f, "run", f->j.pipeline, "--force"), 0);
  assert_int_equal(query(f, RESOURCES), 270);
  assert_int_equal(jobhost(f, "run", inc, NULL), 0);
  assert_string_equal(task_state(f, "Prepare"), "Succeeded");
}

/* The host's store fills up after the identity store committed: the
 * console names the task being recorded and the cause, and the store
 * ends up recording how every task and the job really ended. */
static void test_host_store_full(void **state) {
  fixture *f = *state;
  char job[1600], fill[400], *err = NULL;
  int rc;

  assert_int_equal(mkdir(f->j.home, 0700), 0);
  if (mount("tmpfs", f->j.home, "tmpfs", 0, "size=8m") != 0) {
    fprintf(stderr,
            "test_host_store_full skipped: cannot mount a tmpfs: "
            "%s\n",
            strerror(errno));
    skip();
  }
  snprintf(fill, sizeof(fill), "%s/filler", f->j.home);
  snprintf(job, sizeof(job),
           "%s"
           "    - id: Fill\n"
           "      type: TestFillDiskTask\n"
           "      path: %s\n"
           "      depends_on: [Sync]\n"
           "    - id: After\n"
           "      type: TestSucceedTask\n"
           "      depends_on: [Fill]\n",
           complete_job, fill);
  write_job(f, job);
  write_hr(f, 50, 0, 0);
  f->j.plugin_dirs[f->j.nplugin_dirs++] = jh_test_env("JH_ENGINE_PLUGIN_DIR");
  rc = jh_test_jobhost_run(&f->j, NULL, &err, "run", f->j.pipeline, "--force",
                           NULL);
  {
    int named = strstr(err, "recording task Fill (") != NULL &&
                strstr(err, "database or disk is full") != NULL;
    if (!named)
      fprintf(stderr, "the cause is not named:\n%s", err);
    free(err);
    assert_true(named);
  }
  assert_int_equal(rc, 0);
  assert_int_equal(query(f, RESOURCES), 50);
  assert_int_equal(unlink(fill), 0);
  /* the store says what happened: the job and every task Succeeded */
  {
    char path[400];
    sqlite3 *db;
    sqlite3_stmt *q;
    snprintf(path, sizeof(path), "%s/jobhost.db", f->j.home);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT state, message FROM "
                                        "job_instances WHERE id = 1",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "Succeeded");
    assert_non_null(strstr((const char *)sqlite3_column_text(q, 1),
                           "database or disk is full"));
    sqlite3_finalize(q);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM "
                                        "task_instances WHERE job_instance "
                                        "= 1 AND state = 'Succeeded'",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 5);
    sqlite3_finalize(q);
    sqlite3_close(db);
  }
  assert_int_equal(umount2(f->j.home, MNT_DETACH), 0);
}

/* E00000 is stored, with its name and title. */
#define E0_INTACT                                                              \
  "SELECT count(*) FROM resources WHERE key = 'E00000' AND "                   \
  "CAST(data AS TEXT) LIKE '%Clerk%' AND CAST(data AS TEXT) LIKE '%Doe, J0%'"

/* A Blocked synchronization whose worker is killed after its transaction
 * committed (the changes held) is Blocked, not Succeeded: the job exits 3
 * and a resume applies exactly the held changes. The worker may die
 * before it has told the host of its commit (sync.before_notice): the
 * host then learns it from the stores. */
static void test_blocked_killed_after_commit(void **state) {
  fixture *f = *state;
  static const char *const points[] = {"sync.after_commit", "sync.after_report",
                                       "sync.before_notice"};

  for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
    char inst[32];
    if (i > 0) {
      teardown(state);
      setup(state);
      f = *state;
    }
    write_job(f, complete_job);
    write_hr(f, 300, 0, 0);
    assert_int_equal(jobhost_fault(f, 0, "run", f->j.pipeline, points[i], NULL),
                     3);
    still_held(f);
    snprintf(inst, sizeof(inst), "%lld", instance(f));
    resume_applies_held(f, inst);
  }
}

/* A resume whose worker is killed before its commit leaves the instance
 * resumable: the task is Blocked again, naming the failure and the
 * resume, the changes stay held and the next resume applies them. */
static void test_failed_validation_resumable(void **state) {
  fixture *f = *state;
  char inst[32];

  resume_with_fault(f, inst, sizeof(inst), "sync.before_commit", 3);
  still_held(f);
  assert_true(message_has(f, "Sync",
                          "validation of the held changes "
                          "failed"));
  resume_applies_held(f, inst);
}

/* A resume whose worker is killed at fault, after its commit: Succeeded
 * with the counters of what it applied, and its change report (put in
 * place by the host, no later synchronization needed) lists as many. */
static void validation_committed(fixture *f, const char *fault) {
  char inst[32];

  resume_with_fault(f, inst, sizeof(inst), fault, 0);
  all_applied(f);
  assert_int_equal(file_lines(f, "Temp/JobLogs/1-Sync-2.changes.csv",
                              "insert,HR_Person,"),
                   300);
  assert_int_equal(count_files(f, "Temp/JobLogs/*.tmp"), 0);
  assert_int_equal(query(f, "SELECT count(*) FROM pending_reports"), 0);
}

/* Killed after its commit and its notice to the host. */
static void test_validation_killed_after_commit(void **state) {
  validation_committed(*state, "sync.after_commit");
}

/* Killed after the commit but before it told the host
 * (sync.before_notice): the host reads the commit from the stores, so the
 * task is not Blocked as if its changes were still held. */
static void test_validation_killed_before_notice(void **state) {
  validation_committed(*state, "sync.before_notice");
  assert_true(message_has(*state, "Sync", "its changes were committed"));
}

/* A host killed after its validation committed (the result received, not
 * recorded): the next resume records that attempt Succeeded with the
 * counters its change report lists, and applies nothing again. */
static void test_host_killed_after_validation(void **state) {
  fixture *f = *state;
  char inst[32];

  resume_with_fault(f, inst, sizeof(inst), "exec.result_received", 128 + 9);
  assert_int_equal(query(f, RESOURCES), 300);
  resume_applies_held(f, inst);
  assert_true(message_has(f, "Sync", "committed"));
}

/* A host killed after a run's commit: the job resumed records the run
 * from its change report and removes the batch it consumed. */
static void test_host_killed_after_run_commit(void **state) {
  fixture *f = *state;
  char inst[32];

  write_job(f, complete_job);
  write_hr(f, 20, 0, 0);
  assert_int_equal(jobhost(f, "run", f->j.pipeline, "--force"), 0);
  write_hr(f, 21, 0, 0);
  assert_int_equal(jobhost_fault(f, 1, "run", f->j.pipeline,
                                 "sync.after_commit", NULL),
                   128 + 9);
  snprintf(inst, sizeof(inst), "%lld", instance(f) + 1);
  assert_int_equal(jobhost(f, "resume", inst, NULL), 0);
  assert_string_equal(task_state(f, "Sync"), "Succeeded");
  assert_int_equal(counter(f, "Sync", "inserted"), 1);
  assert_int_equal(query(f, RESOURCES), 21);
  assert_int_equal(count_files(f, "Work/Collect/HR/batches/*"), 0);
}

/* A run whose worker is killed after its change report is in place leaves
 * no consumed batch behind: the host removes it. */
static void test_run_killed_after_report(void **state) {
  fixture *f = *state;

  write_job(f, complete_job);
  write_hr(f, 20, 0, 0);
  assert_int_equal(jobhost(f, "run", f->j.pipeline, "--force"), 0);
  write_hr(f, 21, 0, 0);
  assert_int_equal(
      jobhost_fault(f, 0, "run", f->j.pipeline, "sync.after_report", NULL), 0);
  assert_string_equal(task_state(f, "Sync"), "Succeeded");
  assert_int_equal(counter(f, "Sync", "inserted"), 1);
  assert_int_equal(query(f, RESOURCES), 21);
  assert_int_equal(count_files(f, "Work/Collect/HR/batches/*"), 0);
}

static size_t file_size(const char *path) {
  struct stat sb;
  assert_int_equal(stat(path, &sb), 0);
  return (size_t)sb.st_size;
}

/* Cut the file at `path` in the middle of its last line: `keep` bytes of
 * it are kept. */
static void cut_last_line(const char *path, size_t keep) {
  assert_int_equal(truncate(path, (off_t)keep), 0);
}

/* jobhost run --force with --to or --from (flag) task; the exit status. */
static int run_part(const fixture *f, const char *flag, const char *task) {
  return jh_test_jobhost_run(&f->j, NULL, NULL, "run", f->j.pipeline, flag,
                             task, "--force", NULL);
}

/* A source row with fewer fields than the header (the file cut in the
 * middle of its last line) fails the export: nothing is published, no
 * batch is made, the stored person keeps its values, the job ends Error
 * (1). */
static void test_short_row_changes_nothing(void **state) {
  fixture *f = *state;
  char table[400];
  size_t size;

  write_job(f, complete_job);
  write_hr(f, 20, 0, 0); /* E00000 is the last row */
  assert_int_equal(jobhost(f, "run", f->j.pipeline, "--force"), 0);
  assert_int_equal(query(f, RESOURCES), 20);
  assert_int_equal(query(f, E0_INTACT), 1);
  snprintf(table, sizeof(table), "%s/Temp/ExportOutput/HR_Export.csv",
           f->j.home);

  /* the last row, E00000,"Doe, J0",Clerk, cut after E00000: 1 field */
  size = file_size(f->csv);
  cut_last_line(f->csv, size - strlen("\"Doe, J0\",Clerk\n") - 1);
  assert_int_equal(jobhost(f, "run", f->j.pipeline, "--force"), 1);
  assert_string_equal(task_state(f, "Export"), "Error");
  assert_string_equal(task_state(f, "Prepare"), "NotStarted");
  assert_non_null(strstr(task_text(f, "Export", "message"),
                         "hr.csv:21: 1 field where the header (line 1) "
                         "has 3"));
  assert_int_equal(access(table, F_OK), -1);
  assert_int_equal(query(f, RESOURCES), 20);
  assert_int_equal(query(f, E0_INTACT), 1);

  /* cut before its last separator: 2 fields of 3 */
  write_hr(f, 20, 0, 0);
  cut_last_line(f->csv, size - strlen(",Clerk\n"));
  assert_int_equal(jobhost(f, "run", f->j.pipeline, "--force"), 1);
  assert_string_equal(task_state(f, "Export"), "Error");
  assert_non_null(strstr(task_text(f, "Export", "message"),
                         "hr.csv:21: 2 fields where the header (line 1) "
                         "has 3"));
  assert_int_equal(query(f, RESOURCES), 20);
  assert_int_equal(query(f, E0_INTACT), 1);

  /* An exported table cut short is refused by prepare the same way. */
  write_hr(f, 20, 0, 0);
  assert_int_equal(run_part(f, "--to", "Export"), 0);
  size = file_size(table);
  cut_last_line(table, size - strlen(",Clerk\r\n"));
  assert_int_equal(run_part(f, "--from", "Prepare"), 1);
  assert_string_equal(task_state(f, "Prepare"), "Error");
  assert_non_null(strstr(task_text(f, "Prepare", "message"),
                         "2 fields where the header has 3"));
  assert_int_equal(query(f, RESOURCES), 20);
  assert_int_equal(query(f, E0_INTACT), 1);

  /* Cut in the middle of its last field: as many fields as the header,
   * and still refused, since the row lacks its line end. */
  assert_int_equal(run_part(f, "--to", "Export"), 0);
  cut_last_line(table, size - strlen("rk\r\n"));
  assert_int_equal(run_part(f, "--from", "Prepare"), 1);
  assert_string_equal(task_state(f, "Prepare"), "Error");
  assert_non_null(strstr(task_text(f, "Prepare", "message"),
                         "HR_Export.csv:21: the last row has no line end"));
  assert_int_equal(query(f, RESOURCES), 20);
  assert_int_equal(query(f, E0_INTACT), 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_complete_blocked_resume_again_changes),
      T(test_empty_export_guard),
      T(test_incremental_dirty),
      T(test_example),
      T(test_resume_killed_mid_apply),
      T(test_report_survives_kill_after_commit),
      T(test_leftovers_swept),
      T(test_blocked_connector_superseded),
      T(test_failed_initial_set_aside),
      T(test_host_store_full),
      T(test_short_row_changes_nothing),
      T(test_blocked_killed_after_commit),
      T(test_failed_validation_resumable),
      T(test_validation_killed_after_commit),
      T(test_validation_killed_before_notice),
      T(test_applied_killed_before_notice),
      T(test_run_killed_after_report),
      T(test_host_killed_after_validation),
      T(test_host_killed_after_run_commit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
