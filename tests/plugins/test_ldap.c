/*
 * test_ldap.c — the `ldap` package against a slapd of the test's own
 * (tests/ldap_server.h): export (every setting, 10,000 entries in pages,
 * incremental), fulfill (add, modify, modrdn, delete, one failing order,
 * a restart of the server between orders), and the one-line errors of a
 * server that is down, a wrong password and a certificate the CA does
 * not sign; StartTLS and ldaps with a CA made by the test.
 *
 * The package's entry points are called in the test process through the
 * stand-in services (tests/harness_services.h), with a secret of our own.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <jobhost/jobhost.h>

#include "harness.h"
#include "harness_services.h"
#include "ldap_server.h"

#define BULK 10000

extern const jobhost_plugin jobhost_plugin_descriptor;

typedef struct world {
  char dir[PATH_MAX];
  jh_slapd server;
  const jobhost_package *pkg;
} world;

/* ---- the services: the stand-in's, with a secret `password` ---- */

static const char *the_password = JH_SLAPD_ROOT_PW;
static jobhost_services services;

static int test_secret(jobhost_ctx *ctx, const char *name, char *buf,
                       size_t size) {
  (void)ctx;
  if (strcmp(name, "password") != 0 || the_password == NULL)
    return -ENOENT;
  if (strlen(the_password) >= size)
    return -ERANGE;
  strcpy(buf, the_password);
  return 0;
}

/* table_write, which restarts the server (drops the connection) at its
 * restart_at-th call when restart_at > 0. */
static jh_slapd *restart_server;
static long restart_at, writes;

static int restarting_table_write(jobhost_table *t, const char *const *values,
                                  size_t n) {
  if (restart_at > 0 && ++writes == restart_at)
    jh_slapd_restart(restart_server);
  return jh_fake_services.table_write(t, values, n);
}

/* ---- the directory of the tests ---- */

static void write_ldif(const char *path) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f, "dn: ou=bulk," JH_SLAPD_SUFFIX "\nobjectClass: "
             "organizationalUnit\nou: bulk\n\n");
  for (int i = 0; i < BULK; i++)
    fprintf(f,
            "dn: uid=b%05d,ou=bulk," JH_SLAPD_SUFFIX "\n"
            "objectClass: inetOrgPerson\nuid: b%05d\ncn: Bulk %d\n"
            "sn: Number%d\nmail: b%05d@example.org\n\n",
            i, i, i, i, i);
  for (int i = 0; i < 3; i++)
    fprintf(f,
            "%sdn: uid=i%d,ou=inc," JH_SLAPD_SUFFIX "\n"
            "objectClass: inetOrgPerson\nuid: i%d\ncn: Inc %d\nsn: I\n\n",
            i == 0 ? "dn: ou=inc," JH_SLAPD_SUFFIX
                     "\nobjectClass: organizationalUnit\nou: inc\n\n"
                   : "",
            i, i, i);
  fprintf(f, "dn: ou=groups," JH_SLAPD_SUFFIX "\nobjectClass: "
             "organizationalUnit\nou: groups\n\n");
  fprintf(f, "dn: ou=fulfill," JH_SLAPD_SUFFIX "\nobjectClass: "
             "organizationalUnit\nou: fulfill\n\n");
  fprintf(f, "dn: ou=moved," JH_SLAPD_SUFFIX "\nobjectClass: "
             "organizationalUnit\nou: moved\n\n");
  assert_int_equal(fclose(f), 0);
}

static void add_people(const jh_slapd *s) {
  static const char *const ada[] = {"objectClass",
                                    "inetOrgPerson",
                                    "uid",
                                    "ada",
                                    "cn",
                                    "Ada Lovelace",
                                    "sn",
                                    "Lovelace",
                                    "mail",
                                    "ada@example.org",
                                    "mail",
                                    "countess@example.org",
                                    "telephoneNumber",
                                    "+44 1",
                                    NULL};
  static const char *const alan[] = {
      "objectClass", "inetOrgPerson", "uid", "alan", "cn", "Alan Turing",
      "sn",          "Turing",        NULL};
  static const char *const grace[] = {
      "objectClass", "inetOrgPerson",
      "uid",         "grace",
      "cn",          "Grace Hopper",
      "sn",          "Hopper",
      "mail",        "grace@example.org",
      "description", "Rear admiral, \"Amazing Grace\"",
      NULL};
  static const char *const team[] = {
      "objectClass", "groupOfNames",
      "cn",          "team",
      "description", "The team",
      "member",      "uid=ada," JH_SLAPD_PEOPLE,
      "member",      "uid=grace," JH_SLAPD_PEOPLE,
      NULL};
  jh_slapd_add(s, "uid=ada," JH_SLAPD_PEOPLE, ada);
  jh_slapd_add(s, "uid=alan," JH_SLAPD_PEOPLE, alan);
  jh_slapd_add(s, "uid=grace," JH_SLAPD_PEOPLE, grace);
  jh_slapd_add(s, "cn=team,ou=groups," JH_SLAPD_SUFFIX, team);
}

static int setup(void **state) {
  world *w = jh_test_fixture(sizeof(*w), sizeof(w->dir));
  char ldif[PATH_MAX];
  jh_slapd_opts opts = {.tls = 1, .ldif = ldif};
  *state = w;
  memcpy(&services, &jh_fake_services, sizeof(services));
  services.secret = test_secret;
  services.table_write = restarting_table_write;
  jh_test_path(ldif, sizeof(ldif), "%s/tree.ldif", w->dir);
  write_ldif(ldif);
  jh_slapd_start(&w->server, w->dir, &opts);
  add_people(&w->server);
  restart_server = &w->server;
  assert_string_equal(jobhost_plugin_descriptor.packages[0].name, "ldap");
  w->pkg = &jobhost_plugin_descriptor.packages[0];
  return 0;
}

static int teardown(void **state) {
  world *w = *state;
  jh_slapd_stop(&w->server);
  jh_test_fixture_free(w);
  return 0;
}

/* ---- running the package ---- */

typedef struct run {
  jh_fake_host h;
  jobhost_ctx ctx;
  void *state;
  char tables[PATH_MAX];
} run;

/* A host for connection "dir" with the server's settings as a root
 * bind; `more` adds or replaces settings (name, value, ..., NULL). */
static void run_init(run *r, world *w, const char *const *more) {
  static int n;
  jh_fake_host_init(&r->h);
  jh_fake_put(&r->h.params, "connection", "dir");
  jh_fake_put(&r->h.settings, "uri", w->server.uri);
  jh_fake_put(&r->h.settings, "bind_dn", JH_SLAPD_ROOT_DN);
  jh_fake_put_all(&r->h.settings, more);
  jh_test_path(r->tables, sizeof(r->tables), "%s/tables%d", w->dir, n++);
  jh_test_mkdir(r->tables);
  r->h.table_dir = r->tables;
  r->ctx = jh_fake_ctx(&r->h, "T", "ExportTask");
  r->ctx.svc = &services;
  r->state = NULL;
}

static int run_open(run *r, world *w) {
  return w->pkg->open(&r->ctx, &r->state);
}

static void run_close(run *r, world *w) {
  w->pkg->close(&r->ctx, r->state);
  r->state = NULL;
}

static void run_clear(run *r) { jh_fake_host_clear(&r->h); }

/* Open, export, close: the export's code (open must succeed). */
static int export(run *r, world *w) {
  int rc = run_open(r, w);
  assert_int_equal(rc, 0);
  rc = w->pkg->export_tables(&r->ctx, r->state);
  run_close(r, w);
  return rc;
}

/* A table's text, its CRLF line ends read as LF. */
static char *table(const run *r, const char *name) {
  char path[PATH_MAX], *text, *out;
  jh_test_path(path, sizeof(path), "%s/%s.csv", r->tables, name);
  text = jh_test_read_file(path);
  out = text;
  for (const char *p = text; *p; p++)
    if (!(p[0] == '\r' && p[1] == '\n'))
      *out++ = *p;
  *out = '\0';
  return text;
}

static size_t count_lines(const char *text) {
  size_t n = 0;
  for (; *text; text++)
    n += *text == '\n';
  return n;
}

static int compare_lines(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* No line of text (modified: cut into lines) appears twice. */
static void assert_no_repeated_line(char *text) {
  size_t n = count_lines(text), k = 0;
  char **lines = calloc(n + 1, sizeof(*lines)), *save = NULL;
  assert_non_null(lines);
  for (char *l = strtok_r(text, "\n", &save); l != NULL && k < n;
       l = strtok_r(NULL, "\n", &save))
    lines[k++] = l;
  qsort(lines, k, sizeof(*lines), compare_lines);
  for (size_t i = 1; i < k; i++)
    if (strcmp(lines[i - 1], lines[i]) == 0)
      fail_msg("line written twice: %s", lines[i]);
  free(lines);
}

/* ---- export ---- */

static void export_small_tree_with_every_setting(void **state) {
  world *w = *state;
  static const char *const settings[] = {
      "base",
      "ou=people," JH_SLAPD_SUFFIX " ; ou=groups," JH_SLAPD_SUFFIX,
      "filter",
      "(|(objectClass=inetOrgPerson)(objectClass=groupOfNames))",
      "scope",
      "one",
      "attributes",
      "uid,cn,sn,description",
      "multi_valued",
      "mail,member",
      "table",
      "corp",
      "page_size",
      "2",
      "connect_timeout",
      "5",
      "timeout",
      "30",
      NULL};
  run r;
  char *t;

  run_init(&r, w, settings);
  assert_int_equal(export(&r, w), 0);
  t = table(&r, "corp_entries");
  assert_string_equal(
      t, "dn,uid,cn,sn,description\n"
         "\"uid=ada,ou=people,dc=example,dc=org\",ada,Ada Lovelace,Lovelace,\n"
         "\"uid=alan,ou=people,dc=example,dc=org\",alan,Alan Turing,Turing,\n"
         "\"uid=grace,ou=people,dc=example,dc=org\",grace,Grace Hopper,"
         "Hopper,\"Rear admiral, \"\"Amazing Grace\"\"\"\n"
         "\"cn=team,ou=groups,dc=example,dc=org\",,team,,The team\n");
  free(t);
  t = table(&r, "corp_mail");
  assert_string_equal(t, "dn,mail\n"
                         "\"uid=ada,ou=people,dc=example,dc=org\","
                         "ada@example.org\n"
                         "\"uid=ada,ou=people,dc=example,dc=org\","
                         "countess@example.org\n"
                         "\"uid=grace,ou=people,dc=example,dc=org\","
                         "grace@example.org\n");
  free(t);
  t = table(&r, "corp_member");
  assert_string_equal(t, "dn,member\n"
                         "\"cn=team,ou=groups,dc=example,dc=org\","
                         "\"uid=ada,ou=people,dc=example,dc=org\"\n"
                         "\"cn=team,ou=groups,dc=example,dc=org\","
                         "\"uid=grace,ou=people,dc=example,dc=org\"\n");
  free(t);
  assert_int_equal(jh_fake_counter(&r.h, "entries"), 4);
  /* 3 people in pages of 2, then the group: 3 pages */
  assert_int_equal(jh_fake_counter(&r.h, "pages"), 3);
  run_clear(&r);

  /* with a command column: first in every table */
  run_init(&r, w, settings);
  jh_fake_put(&r.h.settings, "command_column", "op");
  assert_int_equal(export(&r, w), 0);
  t = table(&r, "corp_mail");
  assert_string_equal(t, "op,dn,mail\n"
                         "merge,\"uid=ada,ou=people,dc=example,dc=org\","
                         "ada@example.org\n"
                         "merge,\"uid=ada,ou=people,dc=example,dc=org\","
                         "countess@example.org\n"
                         "merge,\"uid=grace,ou=people,dc=example,dc=org\","
                         "grace@example.org\n");
  free(t);
  t = table(&r, "corp_entries");
  assert_non_null(strstr(t, "op,dn,uid,cn,sn,description\nmerge,\"uid=ada,"));
  free(t);
  run_clear(&r);
}

static void export_unlisted_multi_value_fails(void **state) {
  world *w = *state;
  static const char *const settings[] = {"base", JH_SLAPD_PEOPLE, "attributes",
                                         "uid,mail", NULL};
  run r;
  run_init(&r, w, settings);
  assert_int_equal(export(&r, w), -EILSEQ);
  assert_non_null(strstr(r.h.message, "entry 'uid=ada,ou=people,dc=example,"
                                      "dc=org' holds 2 values of attribute "
                                      "mail"));
  run_clear(&r);
}

static void export_10000_entries_in_pages(void **state) {
  world *w = *state;
  static const char *const settings[] = {
      "base",       "ou=bulk," JH_SLAPD_SUFFIX,
      "filter",     "(objectClass=person)",
      "attributes", "uid,cn,sn,mail",
      "page_size",  "500",
      NULL};
  run r;
  char *t;

  run_init(&r, w, settings);
  assert_int_equal(export(&r, w), 0);
  t = table(&r, "dir_entries");
  assert_int_equal(count_lines(t), BULK + 1);
  assert_non_null(strstr(t, "\"uid=b09999,ou=bulk,dc=example,dc=org\",b09999,"
                            "Bulk 9999,Number9999,b09999@example.org\n"));
  free(t);
  assert_int_equal(jh_fake_counter(&r.h, "entries"), BULK);
  assert_int_equal(jh_fake_counter(&r.h, "pages"), BULK / 500);
  run_clear(&r);
}

/* The connection dropped in the middle of the paged search (after 700
 * rows: page 2 of 20): connected again, the search starts again and the
 * 1,000 entries already written are skipped. */
static void export_reconnects_in_the_middle(void **state) {
  world *w = *state;
  static const char *const settings[] = {
      "base",       "ou=bulk," JH_SLAPD_SUFFIX,
      "filter",     "(objectClass=person)",
      "attributes", "uid",
      "page_size",  "500",
      NULL};
  run r;
  char *t;

  run_init(&r, w, settings);
  writes = 0;
  restart_at = 700;
  assert_int_equal(export(&r, w), 0);
  restart_at = 0;
  assert_int_equal(jh_fake_counter(&r.h, "reconnects"), 1);
  assert_int_equal(jh_fake_counter(&r.h, "entries"), BULK);
  assert_int_equal(jh_fake_counter(&r.h, "pages"), 2 + BULK / 500);
  t = table(&r, "dir_entries");
  assert_int_equal(count_lines(t), BULK + 1);
  assert_no_repeated_line(t); /* each entry once */
  free(t);
  run_clear(&r);
}

static void export_missing_base_names_it(void **state) {
  world *w = *state;
  static const char *const settings[] = {"base",
                                         JH_SLAPD_PEOPLE
                                         "; ou=nowhere," JH_SLAPD_SUFFIX,
                                         "attributes", "uid", NULL};
  run r;
  run_init(&r, w, settings);
  assert_int_equal(export(&r, w), -ENOENT);
  assert_non_null(strstr(r.h.message, ": search of base 'ou=nowhere,"
                                      "dc=example,dc=org': No such object"));
  assert_null(strchr(r.h.message, '\n'));
  run_clear(&r);
}

/* A connection dropped between open and the search: connected again. */
static void export_reconnects_before_the_first_entry(void **state) {
  world *w = *state;
  static const char *const settings[] = {"base",       JH_SLAPD_PEOPLE,
                                         "filter",     "(uid=alan)",
                                         "attributes", "uid",
                                         NULL};
  run r;
  char *t;
  run_init(&r, w, settings);
  assert_int_equal(run_open(&r, w), 0);
  jh_slapd_restart(&w->server);
  assert_int_equal(w->pkg->export_tables(&r.ctx, r.state), 0);
  run_close(&r, w);
  assert_int_equal(jh_fake_counter(&r.h, "reconnects"), 1);
  t = table(&r, "dir_entries");
  assert_string_equal(t, "dn,uid\n"
                         "\"uid=alan,ou=people,dc=example,dc=org\",alan\n");
  free(t);
  run_clear(&r);
}

/* Wait until the clock's second changes (modifyTimestamp's unit). */
static void next_second(void) {
  time_t t0 = time(NULL);
  struct timespec pause = {0, 50 * 1000 * 1000};
  while (time(NULL) == t0)
    nanosleep(&pause, NULL);
}

/* Setting command_column of export_inc, or NULL. */
static const char *command_column;

/* Export ou=inc with the cookie the previous run left: the entries
 * table's text. */
static char *export_inc(world *w, char **cookie, size_t *cookie_len) {
  static const char *const settings[] = {
      "base",       "ou=inc," JH_SLAPD_SUFFIX, "filter", "(objectClass=person)",
      "attributes", "uid,description",         NULL};
  run r;
  char *t;
  run_init(&r, w, settings);
  if (command_column != NULL)
    jh_fake_put(&r.h.settings, "command_column", command_column);
  r.h.cookie_in = *cookie;
  r.h.cookie_in_len = *cookie_len;
  assert_int_equal(export(&r, w), 0);
  t = table(&r, "dir_entries");
  assert_non_null(r.h.cookie_out);
  *cookie = r.h.cookie_out;
  *cookie_len = r.h.cookie_out_len;
  r.h.cookie_out = NULL;
  run_clear(&r);
  return t;
}

static void export_incremental(void **state) {
  world *w = *state;
  char *cookie = NULL, *t;
  size_t len = 0;

  next_second();
  jh_slapd_replace(&w->server, "uid=i0,ou=inc," JH_SLAPD_SUFFIX, "description",
                   "first");
  t = export_inc(w, &cookie, &len); /* complete: no cookie yet */
  assert_int_equal(count_lines(t), 4);
  free(t);
  assert_non_null(strstr(cookie, "modify_timestamp "));

  next_second();
  jh_slapd_replace(&w->server, "uid=i2,ou=inc," JH_SLAPD_SUFFIX, "description",
                   "second");
  t = export_inc(w, &cookie, &len);
  /* i2 changed after the cookie; i0 is the cookie's own second (read
   * again, doc/ldap.md); i1 is not read */
  assert_string_equal(t, "dn,uid,description\n"
                         "\"uid=i0,ou=inc,dc=example,dc=org\",i0,first\n"
                         "\"uid=i2,ou=inc,dc=example,dc=org\",i2,second\n");
  free(t);

  t = export_inc(w, &cookie, &len); /* nothing changed since */
  assert_string_equal(t, "dn,uid,description\n"
                         "\"uid=i2,ou=inc,dc=example,dc=org\",i2,second\n");
  free(t);

  /* the command column an incremental prepare of type Changes reads */
  command_column = "command";
  t = export_inc(w, &cookie, &len);
  command_column = NULL;
  assert_string_equal(t,
                      "command,dn,uid,description\n"
                      "merge,\"uid=i2,ou=inc,dc=example,dc=org\",i2,second\n");
  free(t);
  free(cookie);
}

/* ---- fulfill ---- */

#define V(name, ...)                                                           \
  {                                                                            \
    name, (const char *const[]){__VA_ARGS__},                                  \
        sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)      \
  }
#define NONE(name)                                                             \
  { name, NULL, 0 }
#define N(a) (sizeof(a) / sizeof((a)[0]))

static int fulfill(run *r, world *w, jobhost_change_type type,
                   const char *target, const jobhost_order_value *changes,
                   size_t nchanges, const char *json, char *msg) {
  jobhost_order o;
  memset(&o, 0, sizeof(o));
  o.assigned_resource_type_id = "1";
  o.change_type = type;
  o.resource_type = "LDAP_User";
  o.resource_id = target;
  o.changes = changes;
  o.nchanges = nchanges;
  o.json = json;
  msg[0] = '\0';
  return w->pkg->fulfill_order(&r->ctx, r->state, &o, msg, 512);
}

static void assert_value(world *w, const char *dn, const char *attr,
                         const char *want) {
  char *got = jh_slapd_get(&w->server, dn, attr);
  if (want == NULL) {
    assert_null(got);
    return;
  }
  assert_non_null(got);
  assert_string_equal(got, want);
  free(got);
}

#define FDN(rdn) rdn ",ou=fulfill," JH_SLAPD_SUFFIX

static void fulfill_add_and_modify(void **state) {
  world *w = *state;
  const jobhost_order_value add[] = {V("dn", FDN("uid=eve")),
                                     V("objectClass", "inetOrgPerson"),
                                     V("uid", "eve"),
                                     V("cn", "Eve Moneypenny"),
                                     V("sn", "Moneypenny"),
                                     V("mail", "eve@example.org",
                                       "e.m@example.org"),
                                     NONE("title")};
  const jobhost_order_value mod[] = {V("mail", "eve@acme.example"),
                                     NONE("telephoneNumber"),
                                     V("title", "Secretary")};
  char msg[512];
  run r;

  run_init(&r, w, NULL);
  assert_int_equal(run_open(&r, w), 0);
  assert_int_equal(
      fulfill(&r, w, JOBHOST_CHANGE_ADDED, NULL, add, N(add), NULL, msg), 0);
  assert_value(w, FDN("uid=eve"), "mail", "eve@example.org|e.m@example.org");
  assert_value(w, FDN("uid=eve"), "title", "");
  /* replace, remove (absent already: no error), replace */
  assert_int_equal(fulfill(&r, w, JOBHOST_CHANGE_MODIFIED, FDN("uid=eve"), mod,
                           N(mod), NULL, msg),
                   0);
  assert_value(w, FDN("uid=eve"), "mail", "eve@acme.example");
  assert_value(w, FDN("uid=eve"), "title", "Secretary");
  run_close(&r, w);
  run_clear(&r);
}

static void fulfill_navigations(void **state) {
  world *w = *state;
  const jobhost_order_value group[] = {V("dn", FDN("cn=ops")),
                                       V("objectClass", "groupOfNames"),
                                       V("cn", "ops"),
                                       V("member", FDN("uid=a"), FDN("uid=b"))};
  const jobhost_order_value nav[] = {V("member", FDN("uid=c"))};
  const char *nav_json =
      "{\"ChangeType\": \"Modified\", \"Changes\": {\"member\": {\"Add\": "
      "[\"uid=c,ou=fulfill,dc=example,dc=org\"], \"Remove\": "
      "[\"uid=a,ou=fulfill,dc=example,dc=org\"]}}}";
  char msg[512];
  run r;

  run_init(&r, w, NULL);
  assert_int_equal(run_open(&r, w), 0);
  assert_int_equal(fulfill(&r, w, JOBHOST_CHANGE_ADDED, NULL, group, N(group),
                           NULL, msg),
                   0);
  /* the values to add and to remove, from the JSON, not a replace */
  assert_int_equal(fulfill(&r, w, JOBHOST_CHANGE_MODIFIED, FDN("cn=ops"), nav,
                           N(nav), nav_json, msg),
                   0);
  assert_value(w, FDN("cn=ops"), "member", FDN("uid=b") "|" FDN("uid=c"));
  /* a navigation only in the JSON (the host lists it apart) */
  assert_int_equal(fulfill(&r, w, JOBHOST_CHANGE_MODIFIED, FDN("cn=ops"), NULL,
                           0,
                           "{\"Changes\": {\"member\": {\"Remove\": "
                           "[\"uid=b,ou=fulfill,dc=example,dc=org\"]}}}",
                           msg),
                   0);
  assert_value(w, FDN("cn=ops"), "member", FDN("uid=c"));
  run_close(&r, w);
  run_clear(&r);
}

static void fulfill_modrdn_move_delete(void **state) {
  world *w = *state;
  const jobhost_order_value cn_rdn[] = {V("dn", FDN("cn=Old Name")),
                                        V("objectClass", "inetOrgPerson"),
                                        V("cn", "Old Name"), V("sn", "Name"),
                                        V("mail", "old@example.org")};
  const jobhost_order_value rename_cn[] = {V("cn", "Eve Bond"),
                                           V("sn", "Bond")};
  const jobhost_order_value move[] = {
      V("dn", "cn=Eve Bond,ou=moved," JH_SLAPD_SUFFIX)};
  char msg[512];
  run r;

  run_init(&r, w, NULL);
  assert_int_equal(run_open(&r, w), 0);
  assert_int_equal(fulfill(&r, w, JOBHOST_CHANGE_ADDED, NULL, cn_rdn, N(cn_rdn),
                           NULL, msg),
                   0);
  /* the RDN's attribute changes: a modrdn, then the other changes */
  assert_int_equal(fulfill(&r, w, JOBHOST_CHANGE_MODIFIED, FDN("cn=Old Name"),
                           rename_cn, N(rename_cn), NULL, msg),
                   0);
  assert_value(w, FDN("cn=Old Name"), "cn", NULL);
  assert_value(w, FDN("cn=Eve Bond"), "cn", "Eve Bond");
  assert_value(w, FDN("cn=Eve Bond"), "sn", "Bond");
  /* a new DN under another parent: the entry moves */
  assert_int_equal(fulfill(&r, w, JOBHOST_CHANGE_MODIFIED, FDN("cn=Eve Bond"),
                           move, N(move), NULL, msg),
                   0);
  assert_value(w, FDN("cn=Eve Bond"), "cn", NULL);
  assert_value(w, "cn=Eve Bond,ou=moved," JH_SLAPD_SUFFIX, "mail",
               "old@example.org");
  assert_int_equal(fulfill(&r, w, JOBHOST_CHANGE_DELETED,
                           "cn=Eve Bond,ou=moved," JH_SLAPD_SUFFIX, NULL, 0,
                           NULL, msg),
                   0);
  assert_value(w, "cn=Eve Bond,ou=moved," JH_SLAPD_SUFFIX, "cn", NULL);
  run_close(&r, w);
  run_clear(&r);
}

static void fulfill_object_classes_and_attribute_map(void **state) {
  world *w = *state;
  static const char *const settings[] = {"object_classes", "top,groupOfNames",
                                         "attribute_map",
                                         "members=member, name=cn", NULL};
  static const char *const bad[] = {"attribute_map", "members", NULL};
  const jobhost_order_value add[] = {V("dn", FDN("cn=devs")), V("name", "devs"),
                                     V("members", FDN("uid=a"), FDN("uid=b"))};
  const jobhost_order_value rename[] = {V("name", "developers")};
  char msg[512];
  run r;

  run_init(&r, w, settings);
  assert_int_equal(run_open(&r, w), 0);
  assert_int_equal(
      fulfill(&r, w, JOBHOST_CHANGE_ADDED, NULL, add, N(add), NULL, msg), 0);
  assert_value(w, FDN("cn=devs"), "objectClass", "top|groupOfNames");
  assert_value(w, FDN("cn=devs"), "member", FDN("uid=a") "|" FDN("uid=b"));
  assert_int_equal(fulfill(&r, w, JOBHOST_CHANGE_MODIFIED, FDN("cn=devs"), NULL,
                           0,
                           "{\"Changes\": {\"members\": {\"Remove\": "
                           "[\"uid=a,ou=fulfill,dc=example,dc=org\"]}}}",
                           msg),
                   0);
  assert_value(w, FDN("cn=devs"), "member", FDN("uid=b"));
  /* name is the RDN's attribute cn: a modrdn */
  assert_int_equal(fulfill(&r, w, JOBHOST_CHANGE_MODIFIED, FDN("cn=devs"),
                           rename, N(rename), NULL, msg),
                   0);
  assert_value(w, FDN("cn=developers"), "cn", "developers");
  run_close(&r, w);
  run_clear(&r);

  run_init(&r, w, bad);
  assert_int_equal(run_open(&r, w), JOBHOST_ECONFIG);
  assert_null(r.state);
  assert_non_null(strstr(r.h.message, "setting attribute_map: expected "
                                      "property=attribute, got 'members'"));
  run_clear(&r);
}

static void fulfill_one_order_fails(void **state) {
  world *w = *state;
  const jobhost_order_value first[] = {V("dn", FDN("uid=f1")),
                                       V("objectClass", "inetOrgPerson"),
                                       V("cn", "F1"), V("sn", "One")};
  const jobhost_order_value again[] = {V("dn", FDN("uid=f1")),
                                       V("objectClass", "inetOrgPerson"),
                                       V("cn", "F1 again"), V("sn", "Two")};
  const jobhost_order_value third[] = {V("dn", FDN("uid=f3")),
                                       V("objectClass", "inetOrgPerson"),
                                       V("cn", "F3"), V("sn", "Three")};
  char msg[512];
  run r;

  run_init(&r, w, NULL);
  assert_int_equal(run_open(&r, w), 0);
  assert_int_equal(fulfill(&r, w, JOBHOST_CHANGE_ADDED, NULL, first, N(first),
                           NULL, msg),
                   0);
  assert_int_equal(fulfill(&r, w, JOBHOST_CHANGE_ADDED, NULL, again, N(again),
                           NULL, msg),
                   -EEXIST);
  assert_string_equal(msg, "add of 'uid=f1,ou=fulfill,dc=example,dc=org': "
                           "Already exists");
  assert_int_equal(fulfill(&r, w, JOBHOST_CHANGE_ADDED, NULL, third, N(third),
                           NULL, msg),
                   0);
  assert_int_equal(fulfill(&r, w, JOBHOST_CHANGE_DELETED, FDN("uid=nobody"),
                           NULL, 0, NULL, msg),
                   -ENOENT);
  assert_string_equal(msg, "delete of 'uid=nobody,ou=fulfill,dc=example,"
                           "dc=org': No such object");
  run_close(&r, w);
  assert_value(w, FDN("uid=f1"), "cn", "F1");
  assert_value(w, FDN("uid=f3"), "cn", "F3");
  /* what the server received: the failed add too, each once */
  assert_int_equal(jh_slapd_count_ops(&w->server, "ADD", FDN("uid=f1")), 2);
  assert_int_equal(jh_slapd_count_ops(&w->server, "ADD", FDN("uid=f3")), 1);
  assert_int_equal(jh_slapd_count_ops(&w->server, "DEL", FDN("uid=nobody")), 1);
  run_clear(&r);
}

static void fulfill_reconnects_once(void **state) {
  world *w = *state;
  const jobhost_order_value a[] = {V("dn", FDN("uid=r1")),
                                   V("objectClass", "inetOrgPerson"),
                                   V("cn", "R1"), V("sn", "R")};
  const jobhost_order_value b[] = {V("dn", FDN("uid=r2")),
                                   V("objectClass", "inetOrgPerson"),
                                   V("cn", "R2"), V("sn", "R")};
  char msg[512];
  run r;

  run_init(&r, w, NULL);
  assert_int_equal(run_open(&r, w), 0);
  assert_int_equal(
      fulfill(&r, w, JOBHOST_CHANGE_ADDED, NULL, a, N(a), NULL, msg), 0);
  jh_slapd_restart(&w->server); /* the connection is dropped */
  assert_int_equal(
      fulfill(&r, w, JOBHOST_CHANGE_ADDED, NULL, b, N(b), NULL, msg), 0);
  assert_int_equal(jh_fake_counter(&r.h, "reconnects"), 1);
  assert_value(w, FDN("uid=r2"), "cn", "R2");

  jh_slapd_stop(&w->server); /* gone for good: the order fails */
  assert_int_equal(fulfill(&r, w, JOBHOST_CHANGE_DELETED, FDN("uid=r2"), NULL,
                           0, NULL, msg),
                   -ENOTCONN);
  assert_non_null(strstr(msg, w->server.uri));
  run_close(&r, w);
  jh_slapd_restart(&w->server);
  run_clear(&r);
}

/* ---- errors ---- */

static void assert_one_line_naming(const char *text, const char *uri) {
  assert_null(strchr(text, '\n'));
  assert_non_null(strstr(text, uri));
  assert_non_null(strstr(text, "connection dir: "));
}

static void server_down_is_one_line(void **state) {
  world *w = *state;
  jh_slapd down;
  char uri[64], parent[PATH_MAX];
  run r;

  /* a port nothing listens on: a server started, then stopped */
  jh_test_path(parent, sizeof(parent), "%s/down", w->dir);
  jh_test_mkdir(parent);
  jh_slapd_start(&down, parent, NULL);
  snprintf(uri, sizeof(uri), "%s", down.uri);
  jh_slapd_stop(&down);
  {
    const char *const settings[] = {"uri", uri, "connect_timeout", "2", NULL};
    run_init(&r, w, settings);
  }
  assert_int_equal(run_open(&r, w), -ENOTCONN);
  assert_null(r.state);
  assert_one_line_naming(r.h.message, uri);
  assert_non_null(strstr(r.h.message, "Can't contact LDAP server"));
  run_clear(&r);
}

static void wrong_password_never_shown(void **state) {
  world *w = *state;
  const char *wrong = "Wr0ng-PaSsWoRd-7731";
  char errpath[PATH_MAX], *err;
  int saved = dup(2), fd, rc;
  run r;

  jh_test_path(errpath, sizeof(errpath), "%s/stderr.txt", w->dir);
  fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0 && saved >= 0);
  the_password = wrong;
  run_init(&r, w, NULL);
  dup2(fd, 2);
  rc = run_open(&r, w);
  dup2(saved, 2);
  close(fd);
  close(saved);
  the_password = JH_SLAPD_ROOT_PW;
  assert_int_equal(rc, -EACCES);
  assert_one_line_naming(r.h.message, w->server.uri);
  assert_non_null(strstr(r.h.message, "invalid credentials"));
  assert_null(strstr(r.h.message, wrong));
  assert_null(r.h.log != NULL ? strstr(r.h.log, wrong) : NULL);
  err = jh_test_read_file(errpath);
  assert_null(strstr(err, wrong));
  free(err);
  run_clear(&r);

  /* no password at all: a configuration error, before any bind */
  the_password = NULL;
  run_init(&r, w, NULL);
  assert_int_equal(run_open(&r, w), JOBHOST_ECONFIG);
  assert_non_null(strstr(r.h.message, "secret 'password'"));
  the_password = JH_SLAPD_ROOT_PW;
  run_clear(&r);
}

/* ---- TLS ---- */

static void tls_export(world *w, const char *const *settings) {
  run r;
  char *t;
  run_init(&r, w, settings);
  assert_int_equal(export(&r, w), 0);
  t = table(&r, "dir_entries");
  assert_string_equal(t, "dn,uid\n"
                         "\"uid=alan,ou=people,dc=example,dc=org\",alan\n");
  free(t);
  run_clear(&r);
}

static void starttls_and_ldaps_with_the_test_ca(void **state) {
  world *w = *state;
  const char *const starttls[] = {
      "start_tls",  "true",          "tls_ca_file", w->server.ca_file,
      "base",       JH_SLAPD_PEOPLE, "filter",      "(uid=alan)",
      "attributes", "uid",           NULL};
  const char *const ldaps[] = {"uri",         w->server.tls_uri,
                               "tls_ca_file", w->server.ca_file,
                               "base",        JH_SLAPD_PEOPLE,
                               "filter",      "(uid=alan)",
                               "attributes",  "uid",
                               NULL};
  tls_export(w, starttls);
  tls_export(w, ldaps);
}

static void tls_unknown_ca_is_one_line(void **state) {
  world *w = *state;
  run r;
  {
    const char *const ldaps[] = {"uri", w->server.tls_uri, "tls_ca_file",
                                 "/nonexistent/ca.pem", NULL};
    run_init(&r, w, ldaps);
    assert_int_equal(run_open(&r, w), JOBHOST_ECONFIG);
    assert_non_null(strstr(r.h.message, "setting tls_ca_file: "
                                        "/nonexistent/ca.pem: No such file"));
    assert_one_line_naming(r.h.message, w->server.tls_uri);
    run_clear(&r);
  }
  {
    /* the system's CAs, which did not sign the test's certificate */
    const char *const starttls[] = {"start_tls", "true", NULL};
    const char *const ldaps[] = {"uri", w->server.tls_uri, NULL};
    run_init(&r, w, starttls);
    assert_int_equal(run_open(&r, w), -ENOTCONN);
    assert_one_line_naming(r.h.message, w->server.uri);
    assert_non_null(strstr(r.h.message, "StartTLS failed"));
    run_clear(&r);
    run_init(&r, w, ldaps);
    assert_int_equal(run_open(&r, w), -ENOTCONN);
    assert_one_line_naming(r.h.message, w->server.tls_uri);
    assert_non_null(
        strstr(r.h.message, "cannot connect, or the TLS handshake failed"));
    run_clear(&r);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(export_small_tree_with_every_setting),
      cmocka_unit_test(export_unlisted_multi_value_fails),
      cmocka_unit_test(export_10000_entries_in_pages),
      cmocka_unit_test(export_reconnects_in_the_middle),
      cmocka_unit_test(export_missing_base_names_it),
      cmocka_unit_test(export_reconnects_before_the_first_entry),
      cmocka_unit_test(export_incremental),
      cmocka_unit_test(fulfill_add_and_modify),
      cmocka_unit_test(fulfill_navigations),
      cmocka_unit_test(fulfill_modrdn_move_delete),
      cmocka_unit_test(fulfill_object_classes_and_attribute_map),
      cmocka_unit_test(fulfill_one_order_fails),
      cmocka_unit_test(fulfill_reconnects_once),
      cmocka_unit_test(server_down_is_one_line),
      cmocka_unit_test(wrong_password_never_shown),
      cmocka_unit_test(starttls_and_ldaps_with_the_test_ca),
      cmocka_unit_test(tls_unknown_ca_is_one_line),
  };
  jh_slapd_require();
  return cmocka_run_group_tests(tests, setup, teardown);
}
