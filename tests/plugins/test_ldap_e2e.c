/*
 * test_ldap_e2e.c — the `ldap` package in the jobhost program, against a
 * slapd of the test's own (tests/ldap_server.h): ExportTask ->
 * PrepareSynchronizationTask -> SynchronizeTask with the password from
 * the connection's secrets (a file) — the tables carry a command column,
 * which the complete prepare drops —; an incremental job whose export
 * keeps its cookie between runs (the second reads what changed) and
 * whose prepare takes the tables as changes (nothing else deleted); and
 * the first job with a wrong password, whose text must appear nowhere:
 * not in the program's output, its report, nor any file of its home
 * (logs, stores, exports).
 */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "harness_host.h"
#include "ldap_server.h"

typedef struct fixture {
  jh_test_jobhost j; /* the built-in plugins, the ldap one among them */
  jh_slapd server;
} fixture;

static void add_tree(const jh_slapd *s) {
  static const char *const names[] = {"ada", "alan", "grace", "edsger",
                                      "barbara"};
  char dn[128], mail[64];
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    const char *attrs[] = {
        "objectClass", "inetOrgPerson", "uid",  names[i], "cn", names[i],
        "sn",          names[i],        "mail", mail,     NULL};
    snprintf(dn, sizeof(dn), "uid=%s," JH_SLAPD_PEOPLE, names[i]);
    snprintf(mail, sizeof(mail), "%s@example.org", names[i]);
    jh_slapd_add(s, dn, attrs);
  }
  {
    static const char *const groups[] = {"objectClass", "organizationalUnit",
                                         "ou", "groups", NULL};
    static const char *const team[] = {
        "objectClass", "groupOfNames",
        "cn",          "team",
        "member",      "uid=ada," JH_SLAPD_PEOPLE,
        "member",      "uid=alan," JH_SLAPD_PEOPLE,
        "member",      "uid=grace," JH_SLAPD_PEOPLE,
        NULL};
    jh_slapd_add(s, "ou=groups," JH_SLAPD_SUFFIX, groups);
    jh_slapd_add(s, "cn=team,ou=groups," JH_SLAPD_SUFFIX, team);
  }
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof(*f));
  if (f == NULL)
    return -1;
  jh_test_jobhost_open(&f->j, "JH_BUILTIN_PLUGIN_DIR", NULL);
  jh_slapd_start(&f->server, f->j.dir, NULL);
  add_tree(&f->server);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  jh_slapd_stop(&f->server);
  jh_test_jobhost_close(&f->j);
  free(f);
  return 0;
}

/* The model of a directory synchronization: %s the server's URI. */
static const char model_format[] =
    "version: 1\n"
    "connectors:\n"
    "  - id: DIR\n"
    "connections:\n"
    "  - id: DIR_Export\n"
    "    connector: DIR\n"
    "    package: ldap\n"
    "    settings:\n"
    "      uri: \"%s\"\n"
    "      bind_dn: \"" JH_SLAPD_ROOT_DN "\"\n"
    "      base: \"" JH_SLAPD_PEOPLE "; ou=groups," JH_SLAPD_SUFFIX "\"\n"
    "      filter: \"(|(objectClass=inetOrgPerson)"
    "(objectClass=groupOfNames))\"\n"
    "      attributes: [uid, cn, mail]\n"
    "      multi_valued: [member]\n"
    "      page_size: 2\n"
    "      command_column: command\n"
    "    secrets:\n"
    "      password: {file: password.txt}\n"
    "entity_types:\n"
    "  - id: DIR_Entry\n"
    "    properties:\n"
    "      - {id: dn, type: string}\n"
    "      - {id: uid, type: string}\n"
    "      - {id: cn, type: string}\n"
    "      - {id: mail, type: string}\n"
    "      - {id: members, type: links, target: DIR_Entry}\n"
    "entity_type_mappings:\n"
    "  - entity_type: DIR_Entry\n"
    "    connector: DIR\n"
    "    connection_table: DIR_Export_entries\n"
    "    properties:\n"
    "      - {property: dn, column: dn, primary_key: true}\n"
    "      - {property: uid, column: uid}\n"
    "      - {property: cn, column: cn}\n"
    "      - {property: mail, column: mail}\n"
    "association_mappings:\n"
    "  - id: DIR_Entry_members\n"
    "    connector: DIR\n"
    "    connection_table: DIR_Export_member\n"
    "    entity_type: DIR_Entry\n"
    "    property: members\n"
    "    column1: dn\n"
    "    column2: member\n";

static const char job[] = "version: 1\n"
                          "include: [model.yaml]\n"
                          "job:\n"
                          "  id: Job_DIR\n"
                          "  tasks:\n"
                          "    - id: Export\n"
                          "      type: ExportTask\n"
                          "      connection: DIR_Export\n"
                          "      ignore_cookie_file: true\n"
                          "    - id: Prepare\n"
                          "      type: PrepareSynchronizationTask\n"
                          "      connector: DIR\n"
                          "      synchronization_mode: Complete\n"
                          "      depends_on: [Export]\n"
                          "    - id: Sync\n"
                          "      type: SynchronizeTask\n"
                          "      connector: DIR\n"
                          "      depends_on: [Prepare]\n";

/* model.yaml and pipeline.yaml of a directory synchronization; the
 * password file holds `password`. */
static void write_job(const fixture *f, const char *password) {
  char *model = NULL;
  if (asprintf(&model, model_format, f->server.uri) < 0)
    fail_msg("out of memory");
  jh_test_jobhost_file(&f->j, "model.yaml", model);
  free(model);
  jh_test_jobhost_file(&f->j, "password.txt", password);
  jh_test_jobhost_pipeline(&f->j, job);
}

/* Wait until the clock's second changes (modifyTimestamp's unit). */
static void next_second(void) {
  time_t t0 = time(NULL);
  struct timespec pause = {0, 50 * 1000 * 1000};
  while (time(NULL) == t0)
    nanosleep(&pause, NULL);
}

static long long query(const fixture *f, const char *sql) {
  char path[400];
  jh_test_path(path, sizeof(path), "%s/identity.db", f->j.home);
  return jh_test_query_int(path, sql);
}

static void directory_synchronized(void **state) {
  fixture *f = *state;
  json_t *r;
  write_job(f, JH_SLAPD_ROOT_PW "\n");
  r = jh_test_jobhost_report(&f->j, 0, "run", f->j.pipeline, "--force", NULL);
  jh_test_assert_job_state(r, "Succeeded");
  assert_int_equal(jh_test_counter(jh_test_report_task(r, "Export"), "entries"),
                   6);
  /* 5 people in pages of 2, then the group in a page of its own */
  assert_int_equal(jh_test_counter(jh_test_report_task(r, "Export"), "pages"),
                   4);
  json_decref(r);
  assert_int_equal(query(f, "SELECT count(*) FROM resources"), 6);
  assert_int_equal(query(f, "SELECT count(*) FROM links WHERE association = "
                            "'DIR_Entry_members'"),
                   3);
}

/* Export (keeping its cookie), prepare as changes, synchronize. */
static const char incremental_job[] =
    "version: 1\n"
    "include: [model.yaml]\n"
    "job:\n"
    "  id: Job_DIR_Incremental\n"
    "  tasks:\n"
    "    - id: Export\n"
    "      type: ExportTask\n"
    "      connection: DIR_Export\n"
    "    - id: Prepare\n"
    "      type: PrepareSynchronizationTask\n"
    "      connector: DIR\n"
    "      synchronization_mode: Incremental\n"
    "      prepare_type: Changes\n"
    "      depends_on: [Export]\n"
    "    - id: Sync\n"
    "      type: SynchronizeTask\n"
    "      connector: DIR\n"
    "      depends_on: [Prepare]\n";

/* An ExportTask that keeps its cookie: the second run reads only what
 * changed since the first (and the entry of the first's last second). */
static void incremental_export_through_the_host(void **state) {
  fixture *f = *state;
  char cookies[400];
  json_t *r;
  /* the cookie an earlier run of the connection left: gone, so that the
   * first run here is complete */
  jh_test_path(cookies, sizeof(cookies), "%s/Work/ExportCookies", f->j.home);
  jh_test_rmtree(cookies);
  write_job(f, JH_SLAPD_ROOT_PW);
  jh_test_jobhost_pipeline(&f->j, incremental_job);
  next_second();
  jh_slapd_replace(&f->server, "uid=edsger," JH_SLAPD_PEOPLE, "mail",
                   "ewd@example.org");
  r = jh_test_jobhost_report(&f->j, 0, "run", f->j.pipeline, "--force", NULL);
  jh_test_assert_job_state(r, "Succeeded");
  assert_int_equal(jh_test_counter(jh_test_report_task(r, "Export"), "entries"),
                   6);
  json_decref(r);
  assert_int_equal(jh_test_count_entries(cookies), 1);
  next_second();
  jh_slapd_replace(&f->server, "uid=alan," JH_SLAPD_PEOPLE, "mail",
                   "turing@example.org");
  r = jh_test_jobhost_report(&f->j, 0, "run", f->j.pipeline, "--force", NULL);
  jh_test_assert_job_state(r, "Succeeded");
  /* alan, changed since; edsger, the cookie's own second */
  assert_int_equal(jh_test_counter(jh_test_report_task(r, "Export"), "entries"),
                   2);
  /* prepared as changes: the others are not deleted, alan's mail moves */
  assert_int_equal(jh_test_counter(jh_test_report_task(r, "Prepare"), "merged"),
                   2);
  json_decref(r);
  assert_int_equal(query(f, "SELECT count(*) FROM resources"), 6);
  assert_int_equal(query(f, "SELECT count(*) FROM links"), 3);
}

/* ---- the wrong password, nowhere ---- */

static const char *needle;
static const char *found_in;
static size_t visited; /* files read */

static int search_file(const char *path, const struct stat *sb, int flag,
                       struct FTW *ftw) {
  char *text;
  size_t len;
  FILE *fp;
  (void)ftw;
  if (flag != FTW_F || sb->st_size == 0)
    return 0;
  fp = fopen(path, "rb");
  if (fp == NULL)
    return 0; /* a socket, a file that went away */
  text = malloc((size_t)sb->st_size);
  assert_non_null(text);
  len = fread(text, 1, (size_t)sb->st_size, fp);
  fclose(fp);
  visited++;
  if (memmem(text, len, needle, strlen(needle)) != NULL) {
    static char where[PATH_MAX];
    snprintf(where, sizeof(where), "%s", path);
    found_in = where;
  }
  free(text);
  return found_in != NULL;
}

static void wrong_password_nowhere(void **state) {
  fixture *f = *state;
  const char *wrong = "Wr0ng-E2e-PaSsWoRd-5519";
  char *out = NULL, *err = NULL, *report;
  int rc;

  write_job(f, wrong);
  rc = jh_test_jobhost_run(&f->j, &out, &err, "run", f->j.pipeline, NULL);
  assert_int_not_equal(rc, 0);
  {
    json_t *r = jh_test_report_load(f->j.report);
    jh_test_assert_task(r, "Export", "Error", "invalid credentials");
    jh_test_assert_task(r, "Export", "Error", f->server.uri);
    json_decref(r);
  }
  assert_null(strstr(out, wrong));
  assert_null(strstr(err, wrong));
  report = jh_test_read_file(f->j.report);
  assert_null(strstr(report, wrong));
  free(report);
  needle = wrong;
  found_in = NULL;
  visited = 0;
  rc = nftw(f->j.home, search_file, 16, FTW_PHYS);
  if (found_in != NULL)
    fail_msg("the password is in %s", found_in);
  assert_int_equal(rc, 0);
  assert_true(visited >= 2); /* the host's store and the job's log at least */
  free(out);
  free(err);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(directory_synchronized),
      cmocka_unit_test(incremental_export_through_the_host),
      cmocka_unit_test(wrong_password_nowhere),
  };
  jh_slapd_require();
  return cmocka_run_group_tests(tests, setup, teardown);
}
