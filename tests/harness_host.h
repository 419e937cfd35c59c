/*
 * harness_host.h — what the host's tests share on top of harness.h: the
 * jobhost program run on a temporary home, its JSON report, registries
 * of the plugins make check built, and a look into a SQLite file.
 *
 * Every helper fails the current test (cmocka fail_msg) instead of
 * returning an error, unless it says otherwise.
 */
#ifndef JH_HARNESS_HOST_H
#define JH_HARNESS_HOST_H

#include <stddef.h>

#include <jansson.h>

#include "harness.h"
#include "loader.h"
#include "pipeline.h"

/* ---- the jobhost program ---- */

#define JH_TEST_MAX_PLUGIN_DIRS 4

/* A temporary folder for one test of the program, and how it is run. */
typedef struct jh_test_jobhost {
  char dir[256];      /* the temporary folder */
  char home[300];     /* dir/home: --home of the commands that use a home */
  char pipeline[300]; /* dir/pipeline.yaml */
  char report[300];   /* dir/report.json: --report of run and resume
                         (made "" by a test: no report asked for) */
  const char *plugin_dirs[JH_TEST_MAX_PLUGIN_DIRS]; /* --plugin-dir */
  size_t nplugin_dirs;
  const char *grace; /* --grace of run and resume, or NULL */
} jh_test_jobhost;

/* Make the folder; the plugins are those of the folders named by the
 * environment variables given (NULL-terminated, e.g.
 * "JH_BUILTIN_PLUGIN_DIR", "JH_ENGINE_PLUGIN_DIR", NULL). */
void jh_test_jobhost_open(jh_test_jobhost *j, ...);

/* Remove the folder. */
void jh_test_jobhost_close(jh_test_jobhost *j);

/* Write `text` as dir/name. */
void jh_test_jobhost_file(const jh_test_jobhost *j, const char *name,
                          const char *text);

/* Write `yaml` as the pipeline. */
void jh_test_jobhost_pipeline(const jh_test_jobhost *j, const char *yaml);

/* argv of `jobhost CMD options ARGS...`: the options of j that CMD takes,
 * then args (NULL-terminated), so that an option given in args wins over
 * j's; returns argc. max counts the final NULL. */
size_t jh_test_jobhost_argv(const jh_test_jobhost *j, const char **argv,
                            size_t max, const char *cmd,
                            const char *const *args);

/* Run `jobhost CMD options ARGS...` (NULL-terminated), the report of an
 * earlier run removed first; returns the exit status. out and err as in
 * jh_test_run. With JH_TEST_VERBOSE set, the program's stderr is echoed. */
int jh_test_jobhost_run(const jh_test_jobhost *j, char **out, char **err,
                        const char *cmd, ...);

/* Run `jobhost CMD options ARGS...` as jh_test_jobhost_run does: it must
 * exit with `want` (else its stderr is shown); its report (the caller's
 * reference). */
json_t *jh_test_jobhost_report(const jh_test_jobhost *j, int want,
                               const char *cmd, ...);

/* Run `jobhost ARGS...` (NULL-terminated) with no option added. */
int jh_test_jobhost_bare(char **out, char **err, ...);

/* ---- pipelines ---- */

/* Write model.yaml (mtext) and pipeline.yaml (ptext), which includes
 * it, into a new temporary folder (its path into dir), then load the
 * pipeline with reg: jh_pipeline_load's result. */
int jh_test_load_with_model(const jh_registry *reg, char *dir, size_t dirsize,
                            const char *ptext, const char *mtext,
                            jh_pipeline **out, jh_diags *diags);

/* ---- the report ---- */

/* The report at path (the caller's reference). */
json_t *jh_test_report_load(const char *path);

/* The task `id` of a report (borrowed). */
json_t *jh_test_report_task(json_t *report, const char *id);

/* Task `id` ended in `state`, its message holding message_part (unless
 * NULL). */
void jh_test_assert_task(json_t *report, const char *id, const char *state,
                         const char *message_part);

/* The job ended in `state`. */
void jh_test_assert_job_state(json_t *report, const char *state);

/* The report's instance number, as text, into buf. */
void jh_test_report_instance(json_t *report, char *buf, size_t size);

/* Integer `key` of task `id` (attempts, level...); 0 when absent. */
long long jh_test_task_int(json_t *report, const char *id, const char *key);

/* Counter `name` of a task of a report; one absent fails the test. */
long long jh_test_counter(json_t *task, const char *name);

/* ---- plugins ---- */

/* The registry of the plugin folders named by the environment variables
 * given (NULL-terminated); free it with jh_registry_free. */
jh_registry *jh_test_registry(const char *env, ...);

/* The registry of the plugins of folder dir. */
jh_registry *jh_test_registry_in(const char *dir);

/* No plugin was refused (each refusal is printed). */
void jh_test_assert_no_refusals(const jh_registry *reg);

/* Group set-up and tear-down: *state is the registry of the built-in
 * plugins. */
int jh_test_setup_builtins(void **state);
int jh_test_teardown_registry(void **state);

/* ---- SQLite files (the stores) ---- */

/* The first column of the first row `sql` gives in the database at path
 * (opened read-write, never created), or -1 when it gives no row. */
long long jh_test_query_int(const char *path, const char *sql);

/* Every row of every table of the database at path (opened read-only),
 * as text, tables by name and rows by their first columns: equal dumps
 * mean equal contents. The caller frees it. */
char *jh_test_db_dump(const char *path);

#endif /* JH_HARNESS_HOST_H */
