/*
 * test_graph.c — the job graph (effective levels, parent-level check,
 * cycles, steps and their Order numbers, dependencies depths, printing)
 * and the validate, graph and steps commands.
 *
 * Pipelines are written inline into a temporary folder so that each test
 * shows the job it is about.
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
#include <time.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "diag.h"
#include "graph.h"
#include "loader.h"
#include "pipeline.h"
#include "harness_host.h"

typedef struct fixture {
  jh_registry *reg;
  char dir[PATH_MAX];
  char path[PATH_MAX + 32]; /* the pipeline of the current test */
  jh_pipeline *p;
  jh_graph *g;
  jh_diags d;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof(*f));
  if (f == NULL)
    return -1;
  f->reg = jh_test_registry("JH_BUILTIN_PLUGIN_DIR", NULL);
  jh_test_mkdtemp(f->dir, sizeof(f->dir));
  snprintf(f->path, sizeof(f->path), "%s/pipeline.yaml", f->dir);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  jh_graph_free(f->g);
  jh_pipeline_free(f->p);
  jh_diags_clear(&f->d);
  jh_registry_free(f->reg);
  jh_test_rmtree(f->dir);
  free(f);
  return 0;
}

/* Load `yaml` (must be a valid pipeline) and build its graph; returns the
 * graph build's result. */
static int build(fixture *f, const char *yaml) {
  jh_test_write_file(f->path, yaml, 0644);
  if (jh_pipeline_load(f->path, f->reg, &f->p, &f->d) != 0) {
    jh_diags_print(&f->d, stderr);
    fail_msg("pipeline did not load");
  }
  return jh_graph_build(f->p, &f->g, &f->d);
}

static int level_of(const fixture *f, const char *id) {
  size_t i;
  if (jh_pipeline_task(f->p, id, &i) == NULL)
    fail_msg("no task %s", id);
  return f->g->level[i];
}

/* Output of a print function, malloc'd. */
static char *printed(const jh_graph *g, int steps, jh_graph_format fmt) {
  char *buf = NULL;
  size_t size = 0;
  FILE *mem = open_memstream(&buf, &size);
  assert_non_null(mem);
  if (steps)
    assert_int_equal(jh_graph_print_steps(g, mem), 0);
  else
    assert_int_equal(jh_graph_print(g, fmt, mem), 0);
  fclose(mem);
  return buf;
}

#define HEAD "version: 1\njob:\n  id: J\n"
#define EXPORT(id) "    - {id: " id ", type: ExportTask, connection: C"

/* ---- levels ---- */

static void test_no_levels_is_document_order(void **state) {
  fixture *f = *state;
  assert_int_equal(build(f, HEAD "  tasks:\n" EXPORT("A") "}\n" EXPORT(
                                "B") "}\n" EXPORT("C") ", depends_on: A}\n"),
                   0);
  assert_int_equal(f->g->nlevels, 3);
  assert_int_equal(level_of(f, "A"), 0);
  assert_int_equal(level_of(f, "B"), 1);
  assert_int_equal(level_of(f, "C"), 2);
  assert_int_equal(f->g->nparents[2], 1);
  assert_int_equal(f->g->parents[2][0], 0);
  assert_int_equal(f->g->nchildren[0], 1);
  assert_int_equal(f->g->children[0][0], 2);
  assert_int_equal(f->g->nchildren[1], 0);
}

static void test_explicit_levels_are_renumbered(void **state) {
  fixture *f = *state;
  assert_int_equal(
      build(
          f, HEAD
          "  tasks:\n" EXPORT("A") ", level: 10}\n" EXPORT("B") ", level: 4}\n" EXPORT(
              "C") ", level: 4}\n" EXPORT("D") ", level: 30, depends_on: A}\n"),
      0);
  assert_int_equal(f->g->nlevels, 3);
  assert_int_equal(level_of(f, "B"), 0);
  assert_int_equal(level_of(f, "C"), 0);
  assert_int_equal(level_of(f, "A"), 1);
  assert_int_equal(level_of(f, "D"), 2);
}

static void test_mixed_levels(void **state) {
  fixture *f = *state;
  /* A 2; B (none) -> 3; C 0; D (none) -> 4: dense C 0, A 1, B 2, D 3 */
  assert_int_equal(
      build(
          f, HEAD
          "  tasks:\n" EXPORT("A") ", level: 2}\n" EXPORT("B") ", depends_on: A}\n" EXPORT(
              "C") ", level: 0}\n" EXPORT("D") "}\n" EXPORT("E") ", level: 3}\n"),
      0);
  assert_int_equal(f->g->nlevels, 4);
  assert_int_equal(level_of(f, "C"), 0);
  assert_int_equal(level_of(f, "A"), 1);
  assert_int_equal(level_of(f, "B"), 2);
  assert_int_equal(level_of(f, "E"), 2);
  assert_int_equal(level_of(f, "D"), 3);
}

static void test_parent_level_error(void **state) {
  fixture *f = *state;
  const jh_diag *e;
  assert_int_equal(build(f,
                         HEAD "  tasks:\n" EXPORT("A") ", level: 1}\n" EXPORT(
                             "B") ", level: 1, depends_on: [A]}\n"),
                   JOBHOST_ECONFIG);
  assert_null(f->g);
  assert_int_equal(f->d.nerrors, 1);
  e = &f->d.items[0];
  assert_string_equal(e->file, f->path);
  assert_int_equal(e->line, 6); /* at the depends_on item */
  assert_int_equal(e->column, 71);
  assert_non_null(strstr(e->message, "task 'B' (level 1) depends on 'A' "
                                     "(level 1): a parent must have a lower "
                                     "level"));
}

static void test_parent_later_in_document(void **state) {
  fixture *f = *state;
  assert_int_equal(build(f, HEAD "  tasks:\n" EXPORT(
                                "A") ", depends_on: B}\n" EXPORT("B") "}\n"),
                   JOBHOST_ECONFIG);
  assert_int_equal(f->d.nerrors, 1);
  assert_non_null(strstr(f->d.items[0].message,
                         "task 'A' (level 0, from document order) depends on "
                         "'B' (level 1, from document order)"));
}

/* ---- cycles ---- */

static void test_cycle_named_in_order(void **state) {
  fixture *f = *state;
  const jh_diag *e;
  assert_int_equal(
      build(
          f, HEAD
          "  ordering: dependencies\n  tasks:\n" EXPORT("X") "}\n" EXPORT("A") ", depends_on: C}\n" EXPORT(
              "B") ", depends_on: [A, X]}\n" EXPORT("C") ", depends_on: B}\n"),
      JOBHOST_ECONFIG);
  assert_null(f->g);
  assert_int_equal(f->d.nerrors, 1);
  e = &f->d.items[0];
  assert_string_equal(e->file, f->path);
  assert_int_equal(e->line, 7); /* task A, first of the cycle */
  assert_int_equal(e->column, 7);
  assert_non_null(strstr(e->message, "dependency cycle: A -> B -> C -> A"));
}

/* In levels mode the cycle is reported once, without level errors for
 * its own links. */
static void test_cycle_in_levels_mode(void **state) {
  fixture *f = *state;
  assert_int_equal(
      build(f, HEAD "  tasks:\n" EXPORT("A") ", depends_on: B}\n" EXPORT(
                   "B") ", depends_on: A}\n" EXPORT("S") ", depends_on: S}\n"),
      JOBHOST_ECONFIG);
  assert_int_equal(f->d.nerrors, 2);
  assert_non_null(strstr(f->d.items[0].message, "dependency cycle: A -> B -> "
                                                "A"));
  assert_non_null(strstr(f->d.items[1].message, "dependency cycle: S -> S"));
}

/* ---- steps ---- */

static void test_steps_chunked_by_max_parallel(void **state) {
  fixture *f = *state;
  char *out;
  assert_int_equal(
      build(
          f, HEAD
          "  max_parallel: 5\n  tasks:\n" EXPORT("Z") ", level: 0}\n" EXPORT("T1") ", level: 1}\n" EXPORT("T2") ", level: 1}\n" EXPORT("T3") ", level: 1}\n" EXPORT(
              "T4") ", level: 1}\n" EXPORT("T5") ", level: 1}\n" EXPORT("T6") ", level: 1}\n" EXPORT("T7") ", level: 1}\n" EXPORT("L") ", level: 2}\n"),
      0);
  assert_int_equal(f->g->nlevels, 3);
  /* Z: 0; T1-T5: 1; T6-T7: 2 (the extra level); L: 3 */
  static const size_t want[] = {0, 1, 1, 1, 1, 1, 2, 2, 3};
  for (size_t k = 0; k < 9; k++) {
    assert_int_equal(f->g->steps[k], k);
    assert_int_equal(f->g->step_order[k], want[k]);
  }
  out = printed(f->g, 1, JH_GRAPH_TEXT);
  assert_non_null(strstr(out, "Order 0: Z (ExportTask)\n"
                              "Order 1: T1 (ExportTask)\n"));
  assert_non_null(strstr(out, "Order 1: T5 (ExportTask)\n"
                              "Order 2: T6 (ExportTask)\n"
                              "Order 2: T7 (ExportTask)\n"
                              "Order 3: L (ExportTask)\n"));
  free(out);
}

/* level_overflow: window runs a level as one window: no extra level in
 * the steps; the default cuts it as above. */
static void test_steps_of_a_window(void **state) {
  fixture *f = *state;
  char *out;
  assert_int_equal(
      build(
          f, HEAD
          "  max_parallel: 2\n"
          "  level_overflow: window\n  tasks:\n" EXPORT("A") ", level: 0}\n" EXPORT(
              "B") ", level: 0}\n" EXPORT("C") ", level: 0}\n" EXPORT("D") ", level: 1}\n"),
      0);
  assert_int_equal(f->p->level_overflow, JH_OVERFLOW_WINDOW);
  static const size_t want[] = {0, 0, 0, 1};
  for (size_t k = 0; k < 4; k++)
    assert_int_equal(f->g->step_order[k], want[k]);
  out = printed(f->g, 0, JH_GRAPH_TEXT);
  assert_non_null(strstr(out, "(ordering: levels, max_parallel: 2, "
                              "level_overflow: window)\n"));
  free(out);
}

static void test_level_overflow_checked(void **state) {
  fixture *f = *state;
  jh_test_write_file(f->path,
                     HEAD
                     "  level_overflow: sideways\n  tasks:\n" EXPORT("A") "}\n",
                     0644);
  assert_int_equal(jh_pipeline_load(f->path, f->reg, &f->p, &f->d),
                   JOBHOST_ECONFIG);
  assert_int_equal(f->d.items[0].line, 4);
  assert_non_null(strstr(f->d.items[0].message, "level_overflow"));
  assert_non_null(strstr(f->d.items[0].message, "window"));
  jh_diags_clear(&f->d);
  assert_int_equal(build(f, HEAD "  tasks:\n" EXPORT("A") "}\n"), 0);
  assert_int_equal(f->p->level_overflow, JH_OVERFLOW_LEVELS);
}

static void test_steps_sorted_by_level(void **state) {
  fixture *f = *state;
  assert_int_equal(
      build(
          f, HEAD
          "  tasks:\n" EXPORT("Late") ", level: 2}\n" EXPORT("Early") ", level: 0}\n" EXPORT(
              "Mid") ", level: 1}\n" EXPORT("Early2") ", level: 0}\n"),
      0);
  /* by level, then document order */
  assert_int_equal(f->g->steps[0], 1);
  assert_int_equal(f->g->steps[1], 3);
  assert_int_equal(f->g->steps[2], 2);
  assert_int_equal(f->g->steps[3], 0);
  assert_int_equal(f->g->step_order[0], 0);
  assert_int_equal(f->g->step_order[1], 0);
  assert_int_equal(f->g->step_order[2], 1);
  assert_int_equal(f->g->step_order[3], 2);
}

static void test_dependencies_depths(void **state) {
  fixture *f = *state;
  assert_int_equal(
      build(
          f, HEAD
          "  ordering: dependencies\n"
          "  max_parallel: 2\n  tasks:\n" EXPORT("D") ", depends_on: [B, C]}\n" EXPORT("A") "}\n" EXPORT("B") ", depends_on: A}\n" EXPORT(
              "C") ", depends_on: B}\n" EXPORT("Alone") "}\n" EXPORT("Other") "}\n"),
      0);
  assert_int_equal(f->g->nlevels, 4);
  assert_int_equal(level_of(f, "A"), 0);
  assert_int_equal(level_of(f, "Alone"), 0);
  assert_int_equal(level_of(f, "Other"), 0);
  assert_int_equal(level_of(f, "B"), 1);
  assert_int_equal(level_of(f, "C"), 2);
  assert_int_equal(level_of(f, "D"), 3); /* 1 + the deepest parent */
  /* three tasks at depth 0 with max_parallel 2: Orders 0, 0, 1 */
  assert_int_equal(f->g->step_order[0], 0);
  assert_int_equal(f->g->step_order[1], 0);
  assert_int_equal(f->g->step_order[2], 1);
  assert_int_equal(f->g->step_order[5], 4);
}

/* ---- printing ---- */

#define SMALL                                                                            \
  HEAD "  tasks:\n" EXPORT(                                                              \
      "Exp") ", continue_on_error: true}\n"                                              \
             "    - {id: Sync, type: SynchronizeTask, connector: AD, depends_on: Exp}\n" \
             "    - {id: Keys, type: ComputeCorrelationKeysTask, level: 1}\n"

static void test_print_text(void **state) {
  fixture *f = *state;
  char *out;
  assert_int_equal(build(f, SMALL), 0);
  out = printed(f->g, 0, JH_GRAPH_TEXT);
  assert_non_null(strstr(out, "job J: 3 tasks, 2 levels (ordering: levels, "
                              "max_parallel: 5)\n"));
  assert_non_null(strstr(out, "level 0:\n  Exp (ExportTask) "
                              "[continue_on_error]\n"));
  assert_non_null(strstr(out, "level 1:\n  Sync (SynchronizeTask) depends on "
                              "Exp\n  Keys (ComputeCorrelationKeysTask)\n"));
  free(out);
}

static void test_print_dot(void **state) {
  fixture *f = *state;
  char *out;
  assert_int_equal(build(f, SMALL), 0);
  out = printed(f->g, 0, JH_GRAPH_DOT);
  assert_non_null(strstr(out, "digraph \"J\" {\n"));
  assert_non_null(strstr(out, "subgraph cluster_level_0 {\n"
                              "    label=\"level 0\";\n"
                              "    \"Exp\" [label=\"Exp\\nExportTask\\n"
                              "continue_on_error\", style=dashed];\n"));
  assert_non_null(strstr(out, "    \"Sync\" [label=\"Sync\\n"
                              "SynchronizeTask\"];\n"));
  assert_non_null(strstr(out, "  \"Exp\" -> \"Sync\";\n"));
  assert_null(strstr(out, "-> \"Keys\""));
  assert_int_equal(out[strlen(out) - 2], '}');
  free(out);
}

static void test_print_mermaid(void **state) {
  fixture *f = *state;
  char *out;
  assert_int_equal(build(f, SMALL), 0);
  out = printed(f->g, 0, JH_GRAPH_MERMAID);
  assert_true(strncmp(out, "flowchart TD\n", 13) == 0);
  assert_non_null(strstr(out, "  subgraph level_1 [\"level 1\"]\n"
                              "    t1[\"Sync<br/>SynchronizeTask\"]\n"
                              "    t2[\"Keys<br/>ComputeCorrelationKeysTask\"]"
                              "\n  end\n"));
  assert_non_null(strstr(out, "t0[\"Exp<br/>ExportTask<br/>"
                              "continue_on_error\"]"));
  assert_non_null(strstr(out, "  t0 --> t1\n"));
  assert_non_null(strstr(out, "  class t0 continueOnError\n"));
  free(out);
}

static void test_format_parse(void **state) {
  jh_graph_format fmt;
  (void)state;
  assert_int_equal(jh_graph_format_parse("dot", &fmt), 0);
  assert_int_equal(fmt, JH_GRAPH_DOT);
  assert_int_equal(jh_graph_format_parse("mermaid", &fmt), 0);
  assert_int_equal(fmt, JH_GRAPH_MERMAID);
  assert_int_equal(jh_graph_format_parse("text", &fmt), 0);
  assert_int_equal(fmt, JH_GRAPH_TEXT);
  assert_int_equal(jh_graph_format_parse("svg", &fmt), -EINVAL);
}

/* ---- the commands ---- */

static char *example_path(void) {
  return jh_test_source("conf/examples/complete-sync/pipeline.yaml");
}

/* Run jobhost CMD [args...] --plugin-dir <built-in plugins>. */
#define jobhost(out, err, ...)                                                 \
  jh_test_jobhost_bare(out, err, __VA_ARGS__, "--plugin-dir",                  \
                       jh_test_env("JH_BUILTIN_PLUGIN_DIR"), NULL)

static void test_cli_example(void **state) {
  char *path = example_path(), *out, *err, *want;
  (void)state;

  assert_int_equal(jobhost(&out, &err, "validate", path), 0);
  if (asprintf(&want,
               "%s: job Job_AD_Complete is valid (10 tasks, 10 "
               "levels)\n",
               path) < 0)
    fail_msg("asprintf failed");
  assert_string_equal(out, want);
  assert_string_equal(err, "");
  free(want);
  free(out);
  free(err);

  assert_int_equal(jobhost(&out, &err, "steps", path), 0);
  assert_true(strncmp(out,
                      "Order 0: AD_Export_Complete (ExportTask)\n"
                      "Order 1: AD_PrepareSynchronization_Complete "
                      "(PrepareSynchronizationTask)\n",
                      93) == 0);
  assert_non_null(strstr(out, "Order 9: All_SetAllInternalUserProfiles "
                              "(SetInternalUserProfilesTask)\n"));
  free(out);
  free(err);

  assert_int_equal(jobhost(&out, &err, "graph", path), 0);
  assert_non_null(strstr(out, "  AD_Fulfill (FulfillTask) [continue_on_error]"
                              " depends on AD_Provisioning\n"));
  free(out);
  free(err);
  assert_int_equal(jobhost(&out, &err, "graph", "--format", "dot", path), 0);
  assert_non_null(strstr(out, "  \"AD_Fulfill\" -> "
                              "\"All_SetAllInternalUserProfiles\";\n"));
  free(out);
  free(err);
  assert_int_equal(jobhost(&out, &err, "graph", path, "--format", "mermaid"),
                   0);
  assert_non_null(strstr(out, "  t6 --> t7\n"));
  free(out);
  free(err);
  free(path);
}

static void test_cli_invalid_pipeline(void **state) {
  static const char *const cmds[] = {"validate", "graph", "steps"};
  char *bad, *out, *err, *want;
  (void)state;

  bad = jh_test_source("tests/data/pipelines/unknown_task_key.yaml");
  if (asprintf(&want,
               "%s:8:7: error: unknown key 'continue_on_eror' (did you "
               "mean 'continue_on_error'?)\n",
               bad) < 0)
    fail_msg("asprintf failed");
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(jobhost(&out, &err, cmds[i], bad), 2);
    assert_string_equal(out, "");
    assert_string_equal(err, want);
    free(out);
    free(err);
  }
  free(want);
  free(bad);
}

/* --allow-include names a folder whose files may be included. */
static void test_cli_allow_include(void **state) {
  static const char *const cmds[] = {"validate", "graph", "steps"};
  char dir[PATH_MAX], top[PATH_MAX + 8], path[PATH_MAX + 32];
  char other[PATH_MAX + 8], *out, *err;
  (void)state;
  jh_test_mkdtemp(dir, sizeof(dir));
  snprintf(top, sizeof(top), "%s/top", dir);
  snprintf(other, sizeof(other), "%s/other", dir);
  assert_int_equal(mkdir(top, 0700), 0);
  assert_int_equal(mkdir(other, 0700), 0);
  snprintf(path, sizeof(path), "%s/model.yaml", other);
  jh_test_write_file(path, "version: 1\nconnectors:\n  - id: HR\n", 0644);
  snprintf(path, sizeof(path), "%s/pipeline.yaml", top);
  jh_test_write_file(path,
                     "version: 1\ninclude: ../other/model.yaml\n"
                     "job:\n  id: J\n  tasks:\n" EXPORT("A") "}\n",
                     0644);
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(jobhost(&out, &err, cmds[i], path), 2);
    assert_non_null(strstr(err, "is outside the folder of the pipeline"));
    free(out);
    free(err);
    assert_int_equal(
        jobhost(&out, &err, cmds[i], path, "--allow-include", other), 0);
    free(out);
    free(err);
  }
  jh_test_rmtree(dir);
}

static void test_cli_usage(void **state) {
  char *path = example_path(), *out, *err;
  (void)state;

  assert_int_equal(jobhost(&out, &err, "validate"), 2);
  assert_non_null(strstr(err, "missing PIPELINE"));
  assert_non_null(strstr(err, "Usage: jobhost validate PIPELINE"));
  assert_string_equal(out, "");
  free(out);
  free(err);
  assert_int_equal(jobhost(&out, &err, "graph", path, "--format", "svg"), 2);
  assert_non_null(strstr(err, "unknown format 'svg'"));
  assert_string_equal(out, "");
  free(out);
  free(err);
  assert_int_equal(jobhost(&out, &err, "steps", path, "--format", "dot"), 2);
  assert_non_null(strstr(err, "--format is an option of 'graph'"));
  free(out);
  free(err);
  assert_int_equal(jobhost(&out, &err, "steps", path, "extra"), 2);
  assert_non_null(strstr(err, "unexpected argument 'extra'"));
  free(out);
  free(err);
  assert_int_equal(jobhost(&out, &err, "graph", "--help"), 0);
  assert_non_null(strstr(out, "Usage: jobhost graph PIPELINE"));
  free(out);
  free(err);
  free(path);
}

/* A missing file is a configuration error like any other. */
static void test_cli_missing_file(void **state) {
  char *out, *err;
  (void)state;
  assert_int_equal(jobhost(&out, &err, "validate", "/nonexistent/p.yaml"), 2);
  assert_string_equal(out, "");
  assert_non_null(strstr(err, "/nonexistent/p.yaml: error: cannot read the "
                              "pipeline: No such file or directory"));
  free(out);
  free(err);
}

/* ---- size ---- */

/* A chain of n tasks without levels, each after the one before it and
 * after the one at half its position: n levels, 2n links. */
static char *chain_pipeline(size_t n) {
  size_t size = 64 + n * 120, o;
  char *text = malloc(size);
  assert_non_null(text);
  o = (size_t)snprintf(text, size, HEAD "  tasks:\n");
  for (size_t i = 0; i < n; i++) {
    o += (size_t)snprintf(text + o, size - o,
                          "    - {id: t%07zu, type: ExportTask, "
                          "connection: C",
                          i);
    if (i >= 2)
      o += (size_t)snprintf(text + o, size - o,
                            ", depends_on: [t%07zu, t%07zu]", i - 1, i / 2 - 1);
    else if (i == 1)
      o += (size_t)snprintf(text + o, size - o, ", depends_on: t0000000");
    o += (size_t)snprintf(text + o, size - o, "}\n");
  }
  return text;
}

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time to load and build the graph of the chain of n tasks (best of
 * two runs). */
static double load_time(fixture *f, size_t n) {
  char *text = chain_pipeline(n);
  double best = -1;
  jh_test_write_file(f->path, text, 0644);
  free(text);
  for (int rep = 0; rep < 2; rep++) {
    double t0 = cpu_seconds(), t;
    jh_pipeline *p = NULL;
    jh_graph *g = NULL;
    assert_int_equal(jh_pipeline_load(f->path, f->reg, &p, &f->d), 0);
    assert_int_equal(jh_graph_build(p, &g, &f->d), 0);
    t = cpu_seconds() - t0;
    assert_int_equal(g->nlevels, (int)n);
    assert_int_equal(g->steps[n - 1], n - 1);
    jh_graph_free(g);
    jh_pipeline_free(p);
    if (best < 0 || t < best)
      best = t;
  }
  return best;
}

/* Checking a job costs O(n log n) in its tasks, not O(n^2): four times
 * the tasks take well under sixteen times the time. */
static void test_validation_scales(void **state) {
  fixture *f = *state;
  double small = load_time(f, 4000), large = load_time(f, 16000);
  print_message("4000 tasks: %.3f s, 16000 tasks: %.3f s\n", small, large);
  if (large > 8 * small && large > 0.05)
    fail_msg("4000 tasks: %.3f s, 16000 tasks: %.3f s (x%.1f): quadratic",
             small, large, large / small);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_no_levels_is_document_order),
      T(test_explicit_levels_are_renumbered),
      T(test_mixed_levels),
      T(test_parent_level_error),
      T(test_parent_later_in_document),
      T(test_cycle_named_in_order),
      T(test_cycle_in_levels_mode),
      T(test_steps_chunked_by_max_parallel),
      T(test_steps_of_a_window),
      T(test_level_overflow_checked),
      T(test_steps_sorted_by_level),
      T(test_dependencies_depths),
      T(test_print_text),
      T(test_print_dot),
      T(test_print_mermaid),
      T(test_validation_scales),
      cmocka_unit_test(test_format_parse),
      cmocka_unit_test(test_cli_example),
      cmocka_unit_test(test_cli_invalid_pipeline),
      cmocka_unit_test(test_cli_allow_include),
      cmocka_unit_test(test_cli_usage),
      cmocka_unit_test(test_cli_missing_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
