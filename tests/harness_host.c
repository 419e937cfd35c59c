/*
 * harness_host.c — see harness_host.h.
 */
#include "config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "harness_host.h"

#define MAX_ARGS 24

/* ---- the jobhost program ---- */

/* Collect the NULL-terminated strings of ap into v (at most max - 1). */
static size_t collect_args(const char **v, size_t max, va_list ap) {
  size_t n = 0;
  const char *a;
  while ((a = va_arg(ap, const char *)) != NULL) {
    if (n + 1 >= max)
      fail_msg("more than %zu arguments", max - 1);
    v[n++] = a;
  }
  v[n] = NULL;
  return n;
}

void jh_test_jobhost_open(jh_test_jobhost *j, ...) {
  const char *envs[JH_TEST_MAX_PLUGIN_DIRS + 1];
  va_list ap;
  memset(j, 0, sizeof(*j));
  va_start(ap, j);
  j->nplugin_dirs = collect_args(envs, JH_TEST_MAX_PLUGIN_DIRS + 1, ap);
  va_end(ap);
  for (size_t i = 0; i < j->nplugin_dirs; i++)
    j->plugin_dirs[i] = jh_test_env(envs[i]);
  jh_test_mkdtemp(j->dir, sizeof(j->dir));
  jh_test_path(j->home, sizeof(j->home), "%s/home", j->dir);
  jh_test_path(j->pipeline, sizeof(j->pipeline), "%s/pipeline.yaml", j->dir);
  jh_test_path(j->report, sizeof(j->report), "%s/report.json", j->dir);
}

void jh_test_jobhost_close(jh_test_jobhost *j) { jh_test_rmtree(j->dir); }

void jh_test_jobhost_file(const jh_test_jobhost *j, const char *name,
                          const char *text) {
  char path[PATH_MAX];
  jh_test_path(path, sizeof(path), "%s/%s", j->dir, name);
  jh_test_write_file(path, text, 0644);
}

void jh_test_jobhost_pipeline(const jh_test_jobhost *j, const char *yaml) {
  jh_test_write_file(j->pipeline, yaml, 0644);
}

static int is_one_of(const char *cmd, const char *const *names) {
  for (size_t i = 0; names[i] != NULL; i++)
    if (strcmp(cmd, names[i]) == 0)
      return 1;
  return 0;
}

/* Which of j's options each command takes (host/cli_*.c). */
static const char *const runs[] = {"run", "resume", NULL};
static const char *const home_users[] = {"run",     "resume", "cancel",
                                         "history", "show",   NULL};
static const char *const plugin_users[] = {"run",        "resume",   "validate",
                                           "graph",      "steps",    "plugins",
                                           "import-xml", "scaffold", NULL};

static void push(const char **argv, size_t max, size_t *n, const char *a) {
  if (*n + 1 >= max)
    fail_msg("more than %zu arguments", max - 1);
  argv[(*n)++] = a;
}

size_t jh_test_jobhost_argv(const jh_test_jobhost *j, const char **argv,
                            size_t max, const char *cmd,
                            const char *const *args) {
  size_t n = 0;
  push(argv, max, &n, jh_test_env("JH_JOBHOST"));
  push(argv, max, &n, cmd);
  if (is_one_of(cmd, home_users)) {
    push(argv, max, &n, "--home");
    push(argv, max, &n, j->home);
  }
  if (is_one_of(cmd, plugin_users))
    for (size_t i = 0; i < j->nplugin_dirs; i++) {
      push(argv, max, &n, "--plugin-dir");
      push(argv, max, &n, j->plugin_dirs[i]);
    }
  if (is_one_of(cmd, runs)) {
    if (j->report[0] != '\0') {
      push(argv, max, &n, "--report");
      push(argv, max, &n, j->report);
    }
    if (j->grace != NULL) {
      push(argv, max, &n, "--grace");
      push(argv, max, &n, j->grace);
    }
  }
  for (size_t i = 0; args != NULL && args[i] != NULL; i++)
    push(argv, max, &n, args[i]);
  argv[n] = NULL;
  return n;
}

/* Run argv; with JH_TEST_VERBOSE set, echo what it said on stderr. */
static int run_told(const char *const *argv, char **out, char **err) {
  char *said = NULL;
  int rc;
  if (getenv("JH_TEST_VERBOSE") == NULL)
    return jh_test_run(argv, out, err);
  rc = jh_test_run(argv, out, &said);
  fprintf(stderr, "%s", said);
  if (err != NULL)
    *err = said;
  else
    free(said);
  return rc;
}

static int run_args(const jh_test_jobhost *j, char **out, char **err,
                    const char *cmd, va_list ap) {
  const char *args[MAX_ARGS], *argv[MAX_ARGS * 2];
  collect_args(args, MAX_ARGS, ap);
  jh_test_jobhost_argv(j, argv, MAX_ARGS * 2, cmd, args);
  if (is_one_of(cmd, runs) && j->report[0] != '\0')
    unlink(j->report);
  return run_told(argv, out, err);
}

int jh_test_jobhost_run(const jh_test_jobhost *j, char **out, char **err,
                        const char *cmd, ...) {
  va_list ap;
  int rc;
  va_start(ap, cmd);
  rc = run_args(j, out, err, cmd, ap);
  va_end(ap);
  return rc;
}

json_t *jh_test_jobhost_report(const jh_test_jobhost *j, int want,
                               const char *cmd, ...) {
  char *err = NULL;
  va_list ap;
  int rc;
  va_start(ap, cmd);
  rc = run_args(j, NULL, &err, cmd, ap);
  va_end(ap);
  if (rc != want)
    fail_msg("jobhost %s exited %d, expected %d: %s", cmd, rc, want, err);
  free(err);
  return jh_test_report_load(j->report);
}

int jh_test_jobhost_bare(char **out, char **err, ...) {
  const char *argv[MAX_ARGS + 1];
  va_list ap;
  argv[0] = jh_test_env("JH_JOBHOST");
  va_start(ap, err);
  collect_args(argv + 1, MAX_ARGS, ap);
  va_end(ap);
  return run_told(argv, out, err);
}

/* ---- the report ---- */

json_t *jh_test_report_load(const char *path) {
  json_error_t e;
  json_t *r = json_load_file(path, 0, &e);
  if (r == NULL)
    fail_msg("report %s: %s", path, e.text);
  return r;
}

json_t *jh_test_report_task(json_t *report, const char *id) {
  size_t i;
  json_t *t;
  json_array_foreach(json_object_get(report, "tasks"), i, t) {
    if (strcmp(json_string_value(json_object_get(t, "id")), id) == 0)
      return t;
  }
  fail_msg("task %s is not in the report", id);
  return NULL;
}

void jh_test_assert_task(json_t *report, const char *id, const char *state,
                         const char *message_part) {
  json_t *t = jh_test_report_task(report, id);
  const char *s = json_string_value(json_object_get(t, "state"));
  const char *m = json_string_value(json_object_get(t, "message"));
  if (strcmp(s, state) != 0)
    fail_msg("task %s is %s, expected %s (message: %s)", id, s, state, m);
  if (message_part != NULL && (m == NULL || strstr(m, message_part) == NULL))
    fail_msg("task %s message '%s' lacks '%s'", id, m ? m : "", message_part);
}

void jh_test_assert_job_state(json_t *report, const char *state) {
  assert_string_equal(json_string_value(json_object_get(report, "state")),
                      state);
}

void jh_test_report_instance(json_t *report, char *buf, size_t size) {
  json_t *v = json_object_get(report, "instance");
  if (!json_is_integer(v))
    fail_msg("the report names no instance");
  snprintf(buf, size, "%lld", (long long)json_integer_value(v));
}

long long jh_test_task_int(json_t *report, const char *id, const char *key) {
  return json_integer_value(
      json_object_get(jh_test_report_task(report, id), key));
}

long long jh_test_counter(json_t *task, const char *name) {
  json_t *v = json_object_get(json_object_get(task, "counters"), name);
  if (!json_is_integer(v))
    fail_msg("counter %s missing from the report", name);
  return json_integer_value(v);
}

/* ---- plugins ---- */

jh_registry *jh_test_registry(const char *env, ...) {
  const char *envs[MAX_ARGS], *dirs[MAX_ARGS];
  jh_registry *reg = NULL;
  size_t n;
  va_list ap;
  envs[0] = env;
  va_start(ap, env);
  n = 1 + collect_args(envs + 1, MAX_ARGS - 1, ap);
  va_end(ap);
  for (size_t i = 0; i < n; i++)
    dirs[i] = jh_test_env(envs[i]);
  if (jh_registry_load(dirs, n, &reg) != 0)
    fail_msg("cannot load the plugins of %s", dirs[0]);
  return reg;
}

jh_registry *jh_test_registry_in(const char *dir) {
  const char *const dirs[1] = {dir};
  jh_registry *reg = NULL;
  if (jh_registry_load(dirs, 1, &reg) != 0)
    fail_msg("cannot load the plugins of %s", dir);
  return reg;
}

void jh_test_assert_no_refusals(const jh_registry *reg) {
  for (size_t i = 0; i < reg->nrefusals; i++)
    print_error("refused %s: %s\n", reg->refusals[i].path,
                reg->refusals[i].reason);
  assert_int_equal(reg->nrefusals, 0);
}

int jh_test_setup_builtins(void **state) {
  *state = jh_test_registry("JH_BUILTIN_PLUGIN_DIR", NULL);
  return 0;
}

int jh_test_teardown_registry(void **state) {
  jh_registry_free(*state);
  return 0;
}

/* ---- SQLite files ---- */

long long jh_test_query_int(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  sqlite3_stmt *q = NULL;
  long long v = -1;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
    fail_msg("%s: %s", path, sqlite3_errmsg(db));
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
    fail_msg("%s: %s: %s", path, sql, sqlite3_errmsg(db));
  if (sqlite3_step(q) == SQLITE_ROW)
    v = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  sqlite3_close(db);
  return v;
}

/* Append n bytes of v and a separator to the dump. */
static void dump_add(char **out, size_t *len, size_t *cap, const char *v,
                     size_t n, char sep) {
  if (*len + n + 2 > *cap) {
    *cap = 2 * (*cap + n + 2);
    *out = realloc(*out, *cap);
    assert_non_null(*out);
  }
  memcpy(*out + *len, v, n);
  *len += n;
  (*out)[(*len)++] = sep;
  (*out)[*len] = '\0';
}

static void dump_table(sqlite3 *db, const char *table, char **out, size_t *len,
                       size_t *cap) {
  char sql[512];
  sqlite3_stmt *rows = NULL;
  snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\" ORDER BY 1, 2", table);
  if (sqlite3_prepare_v2(db, sql, -1, &rows, NULL) != SQLITE_OK) {
    snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\" ORDER BY 1", table);
    if (sqlite3_prepare_v2(db, sql, -1, &rows, NULL) != SQLITE_OK)
      fail_msg("%s: %s", sql, sqlite3_errmsg(db));
  }
  dump_add(out, len, cap, table, strlen(table), '\n');
  while (sqlite3_step(rows) == SQLITE_ROW) {
    for (int c = 0; c < sqlite3_column_count(rows); c++) {
      const char *v = (const char *)sqlite3_column_text(rows, c);
      dump_add(out, len, cap, v ? v : "", (size_t)sqlite3_column_bytes(rows, c),
               '|');
    }
    dump_add(out, len, cap, "", 0, '\n');
  }
  sqlite3_finalize(rows);
}

char *jh_test_db_dump(const char *path) {
  sqlite3 *db = NULL;
  sqlite3_stmt *tables = NULL;
  size_t cap = 1 << 16, len = 0;
  char *out = calloc(1, cap);
  assert_non_null(out);
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    fail_msg("%s: %s", path, sqlite3_errmsg(db));
  if (sqlite3_prepare_v2(db,
                         "SELECT name, sql FROM sqlite_master WHERE type = "
                         "'table' ORDER BY name",
                         -1, &tables, NULL) != SQLITE_OK)
    fail_msg("%s: %s", path, sqlite3_errmsg(db));
  while (sqlite3_step(tables) == SQLITE_ROW) {
    const char *sql = (const char *)sqlite3_column_text(tables, 1);
    dump_add(&out, &len, &cap, sql ? sql : "", sql ? strlen(sql) : 0, '\n');
    dump_table(db, (const char *)sqlite3_column_text(tables, 0), &out, &len,
               &cap);
  }
  sqlite3_finalize(tables);
  sqlite3_close(db);
  return out;
}

int jh_test_load_with_model(const jh_registry *reg, char *dir, size_t dirsize,
                            const char *ptext, const char *mtext,
                            jh_pipeline **out, jh_diags *diags) {
  char path[PATH_MAX + 32];
  jh_test_mkdtemp(dir, dirsize);
  jh_test_path(path, sizeof(path), "%s/model.yaml", dir);
  jh_test_write_file(path, mtext, 0644);
  jh_test_path(path, sizeof(path), "%s/pipeline.yaml", dir);
  jh_test_write_file(path, ptext, 0644);
  return jh_pipeline_load(path, reg, out, diags);
}
