/*
 * test_scaffold.c — jobs generated from the model (host/config/scaffold.c,
 * doc/scaffold.md): the complete scaffold of the example's AD connector
 * against the hand-written seed job, the incremental and agent-wide
 * scaffolds against expected YAML, what each scaffold child changes,
 * errors at the scaffold's file:line, and the XML scaffold elements.
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

#include <cmocka.h>
#include <jansson.h>

#include "diag.h"
#include "graph.h"
#include "loader.h"
#include "pipeline.h"
#include "scaffold.h"
#include "xml_import.h"
#include "harness.h"
#include "harness_host.h"

typedef struct fixture {
  char dir[PATH_MAX];
  jh_registry *reg;
  char *example; /* conf/examples/complete-sync */
  jh_pipeline *p;
  jh_graph *g;
  jh_diags d;
} fixture;

static int setup(void **state) {
  fixture *f = jh_test_fixture(sizeof(*f), PATH_MAX);
  f->reg = jh_test_registry("JH_BUILTIN_PLUGIN_DIR", NULL);
  f->example = jh_test_source("conf/examples/complete-sync");
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  jh_graph_free(f->g);
  jh_pipeline_free(f->p);
  jh_diags_clear(&f->d);
  jh_registry_free(f->reg);
  free(f->example);
  jh_test_fixture_free(f);
  return 0;
}

/* Load `text` as a pipeline file of folder dir (not written). */
static int load_in(fixture *f, const char *dir, const char *text) {
  char name[PATH_MAX + 32];
  jh_test_path(name, sizeof(name), "%s/scaffold-test.yaml", dir);
  jh_pipeline_free(f->p);
  f->p = NULL;
  jh_diags_clear(&f->d);
  return jh_pipeline_load_text(name, text, strlen(text), f->reg, NULL, &f->p,
                               &f->d);
}

/* Load a scaffold pipeline on the example's model; must be valid. */
static void load_ok(fixture *f, const char *scaffold) {
  char text[4096];
  int rc;
  snprintf(text, sizeof(text),
           "version: 1\ninclude: [model.yaml]\njob:\n  scaffold: %s\n",
           scaffold);
  rc = load_in(f, f->example, text);
  if (rc != 0)
    jh_diags_print(&f->d, stderr);
  assert_int_equal(rc, 0);
  jh_graph_free(f->g);
  f->g = NULL;
  assert_int_equal(jh_graph_build(f->p, &f->g, &f->d), 0);
}

/* The first error's text, after a load that must fail. */
static const char *load_error(fixture *f, const char *dir, const char *text) {
  assert_int_not_equal(load_in(f, dir, text), 0);
  for (size_t i = 0; i < f->d.n; i++)
    if (f->d.items[i].severity == JH_DIAG_ERROR)
      return f->d.items[i].message;
  fail_msg("no error");
  return NULL;
}

static size_t count_type(const jh_pipeline *p, const char *type) {
  size_t n = 0;
  for (size_t i = 0; i < p->ntasks; i++)
    n += strcmp(p->tasks[i].type, type) == 0;
  return n;
}

static const jh_task_def *first_of(const jh_pipeline *p, const char *type) {
  for (size_t i = 0; i < p->ntasks; i++)
    if (strcmp(p->tasks[i].type, type) == 0)
      return &p->tasks[i];
  return NULL;
}

static size_t index_of(const jh_pipeline *p, const jh_task_def *t) {
  return (size_t)(t - p->tasks);
}

/* Whether task `child` (a type) has a parent of type `parent`. */
static int linked(const jh_graph *g, const char *child, const char *parent) {
  const jh_pipeline *p = g->pipeline;
  for (size_t i = 0; i < g->n; i++) {
    if (strcmp(p->tasks[i].type, child) != 0)
      continue;
    for (size_t k = 0; k < g->nparents[i]; k++)
      if (strcmp(p->tasks[g->parents[i][k]].type, parent) == 0)
        return 1;
  }
  return 0;
}

/* ---- the complete job against the seed job ---- */

static void complete_matches_seed(void **state) {
  fixture *f = *state;
  char *seed_path = jh_test_source("conf/examples/complete-sync/pipeline.yaml");
  jh_pipeline *seed = NULL;
  jh_graph *sg = NULL;
  jh_diags d = JH_DIAGS_INIT;

  assert_int_equal(jh_pipeline_load(seed_path, f->reg, &seed, &d), 0);
  assert_int_equal(jh_graph_build(seed, &sg, &d), 0);
  load_ok(f, "{kind: complete, connector: AD}");

  /* same tasks in the same launch order, each at the same level */
  assert_int_equal(f->p->ntasks, seed->ntasks);
  assert_int_equal(f->g->nlevels, sg->nlevels);
  for (size_t k = 0; k < seed->ntasks; k++) {
    const jh_task_def *a = &seed->tasks[sg->steps[k]];
    const jh_task_def *b = &f->p->tasks[f->g->steps[k]];
    assert_string_equal(b->type, a->type);
    assert_int_equal(f->g->level[f->g->steps[k]], sg->level[sg->steps[k]]);
  }
  /* the same links, by task type, but one: the seed (as the
   * documentation's XML) links the synchronization to the export, the
   * scaffold to the prepare task (domain of doc/scaffold.md) */
  for (size_t i = 0; i < seed->ntasks; i++)
    for (size_t k = 0; k < sg->nparents[i]; k++) {
      const char *child = seed->tasks[i].type;
      const char *parent = seed->tasks[sg->parents[i][k]].type;
      if (strcmp(child, "SynchronizeTask") == 0)
        assert_string_equal(parent, "ExportTask");
      else
        assert_true(linked(f->g, child, parent));
    }
  for (size_t i = 0; i < f->p->ntasks; i++)
    for (size_t k = 0; k < f->g->nparents[i]; k++) {
      const char *child = f->p->tasks[i].type;
      const char *parent = f->p->tasks[f->g->parents[i][k]].type;
      if (strcmp(child, "SynchronizeTask") == 0)
        assert_string_equal(parent, "PrepareSynchronizationTask");
      else
        assert_true(linked(sg, child, parent));
    }
  /* what the model ties to AD */
  const jh_value *v = jh_task_value(first_of(f->p, "ComputeRoleModelTask"),
                                    "entity_types");
  assert_non_null(v);
  assert_int_equal(v->nitems, 1);
  assert_string_equal(v->items[0], "HR_Person");
  v = jh_task_value(first_of(f->p, "FulfillTask"), "connection");
  assert_string_equal(v->text, "AD_Fulfillment");
  v = jh_task_value(first_of(f->p, "ExportTask"), "connection");
  assert_string_equal(v->text, "AD_Export");
  assert_string_equal(f->p->job_id, "AD_Synchronize_Complete_Scaffolding");
  assert_string_equal(f->p->agent, "Local");
  /* the left-out task types are named in the generated text */
  assert_non_null(strstr(f->p->scaffold_yaml, "ComputeRiskScoresTask"));
  assert_non_null(
      strstr(f->p->scaffold_yaml, "SendRoleModelNotificationsTask"));

  jh_graph_free(sg);
  jh_pipeline_free(seed);
  jh_diags_clear(&d);
  free(seed_path);
}

/* ---- expected YAML ---- */

static char *slurp(const char *path) {
  FILE *in = fopen(path, "rb");
  char *buf;
  long n;
  assert_non_null(in);
  assert_int_equal(fseek(in, 0, SEEK_END), 0);
  n = ftell(in);
  rewind(in);
  buf = calloc((size_t)n + 1, 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, in), (size_t)n);
  fclose(in);
  return buf;
}

static void expect_yaml(fixture *f, const char *scaffold, const char *file) {
  char *path = jh_test_source("tests/data/scaffold/%s", file);
  char *want = slurp(path);
  load_ok(f, scaffold);
  if (strcmp(f->p->scaffold_yaml, want) != 0)
    fprintf(stderr, "generated:\n%s", f->p->scaffold_yaml);
  assert_string_equal(f->p->scaffold_yaml, want);
  free(want);
  free(path);
}

static void incremental_expected(void **state) {
  fixture *f = *state;
  expect_yaml(f, "{kind: incremental, connector: AD}", "incremental-AD.yaml");
  /* the dirty tasks wait for MarkDirty */
  assert_true(
      linked(f->g, "ComputeRoleModelTask", "SetRecentlyModifiedFlagTask"));
  assert_true(linked(f->g, "SetRecentlyModifiedFlagTask", "SynchronizeTask"));
}

static void agent_expected(void **state) {
  fixture *f = *state;
  expect_yaml(f, "{kind: agent-complete, agent: Local}",
              "agent-complete-Local.yaml");
  /* both connectors of agent Local: one prepare and one sync each */
  assert_int_equal(count_type(f->p, "PrepareSynchronizationTask"), 2);
  assert_int_equal(count_type(f->p, "SynchronizeTask"), 2);
  assert_int_equal(count_type(f->p, "ExportTask"), 2);
}

static void initialization_job(void **state) {
  fixture *f = *state;
  load_ok(f, "{kind: initialization}");
  assert_string_equal(f->p->job_id, "InitializationJob");
  assert_string_equal(jh_task_value(first_of(f->p,
                                             "PrepareSynchronizationTask"),
                                    "synchronization_mode")
                          ->text,
                      "Initial");
  assert_string_equal(jh_task_value(first_of(f->p, "SynchronizeTask"),
                                    "force_synchronization")
                          ->text,
                      "true");
  assert_string_equal(jh_task_value(first_of(f->p,
                                             "GenerateProvisioningOrdersTask"),
                                    "force_provisioning")
                          ->text,
                      "true");
  assert_string_equal(
      jh_task_value(first_of(f->p, "ExportTask"), "init_mode")->text, "true");
  assert_non_null(strstr(f->p->scaffold_yaml, "CreateDatabaseViewsTask"));
}

/* ---- children ---- */

static void no_provisioning(void **state) {
  fixture *f = *state;
  load_ok(f, "{kind: complete, connector: AD, no_provisioning: true}");
  assert_int_equal(count_type(f->p, "ComputeRoleModelTask"), 0);
  assert_int_equal(count_type(f->p, "GenerateProvisioningOrdersTask"), 0);
  assert_int_equal(count_type(f->p, "FulfillTask"), 0);
  assert_int_equal(count_type(f->p, "SetInternalUserProfilesTask"), 0);
  assert_int_equal(count_type(f->p, "SynchronizeTask"), 1);
  assert_int_equal(count_type(f->p, "UpdateClassificationTask"), 1);
}

static void no_synchronization(void **state) {
  fixture *f = *state;
  load_ok(f, "{kind: complete, connector: AD, no_synchronization: true}");
  assert_int_equal(count_type(f->p, "ExportTask"), 0);
  assert_int_equal(count_type(f->p, "PrepareSynchronizationTask"), 0);
  assert_int_equal(count_type(f->p, "SynchronizeTask"), 0);
  assert_int_equal(count_type(f->p, "GenerateProvisioningOrdersTask"), 1);
  assert_int_equal(count_type(f->p, "FulfillTask"), 1);
}

static void add_task_after_before(void **state) {
  fixture *f = *state;
  const jh_task_def *t, *crm, *gpo, *x;
  load_ok(f, "{kind: complete, connector: AD, add_tasks: ["
             "{id: Extra, type: ComputeCorrelationKeysTask, after: "
             "ComputeRoleModelTask, params: {entity_types: [HR_Person]}},"
             "{id: First, type: ExportTask, before: ExportTask, "
             "params: {connection: HR_Export}}]}");
  t = jh_pipeline_task(f->p, "Extra", NULL);
  crm = first_of(f->p, "ComputeRoleModelTask");
  gpo = first_of(f->p, "GenerateProvisioningOrdersTask");
  assert_non_null(t);
  /* a level of its own between the role model and the orders */
  assert_int_equal(f->g->level[index_of(f->p, t)],
                   f->g->level[index_of(f->p, crm)] + 1);
  assert_int_equal(f->g->level[index_of(f->p, gpo)],
                   f->g->level[index_of(f->p, t)] + 1);
  assert_string_equal(jh_task_value(t, "entity_types")->items[0], "HR_Person");
  x = jh_pipeline_task(f->p, "First", NULL);
  assert_non_null(x);
  assert_int_equal(f->g->level[index_of(f->p, x)], 0);
  t = jh_pipeline_task(
      f->p, "AD_Synchronize_Complete_Scaffolding_Export_AD_Complete_AD_Export",
      NULL);
  assert_non_null(t);
  assert_int_equal(f->g->level[index_of(f->p, t)], 1);
}

static void link_depend_task(void **state) {
  fixture *f = *state;
  const char *e;
  load_ok(f, "{kind: complete, connector: AD}");
  assert_false(
      linked(f->g, "UpdateEntityPropertyExpressionsTask", "SynchronizeTask"));
  load_ok(f, "{kind: complete, connector: AD, link_depend_tasks: "
             "[{task: UpdateEntityPropertyExpressionsTask, depends_on: "
             "SynchronizeTask}]}");
  assert_true(
      linked(f->g, "UpdateEntityPropertyExpressionsTask", "SynchronizeTask"));
  /* a parent at a later level is refused, at the item's place */
  e = load_error(f, f->example,
                 "version: 1\ninclude: [model.yaml]\njob:\n  scaffold:\n"
                 "    kind: complete\n    connector: AD\n"
                 "    link_depend_tasks:\n"
                 "      - {task: ExportTask, depends_on: FulfillTask}\n");
  assert_non_null(strstr(e, "a parent must come at a lower level"));
  assert_int_equal(f->d.items[0].line, 8);
  assert_int_equal(f->d.items[0].column, 9);
}

static void schedule_and_id(void **state) {
  fixture *f = *state;
  char text[512];
  snprintf(text, sizeof(text),
           "version: 1\ninclude: [model.yaml]\njob:\n  id: Job_Daily\n"
           "  schedule: \"0 2 * * *\"\n"
           "  scaffold: {kind: complete, connector: AD}\n");
  assert_int_equal(load_in(f, f->example, text), 0);
  assert_string_equal(f->p->job_id, "Job_Daily");
  assert_string_equal(f->p->schedule, "0 2 * * *");
  assert_non_null(jh_pipeline_task(f->p, "Job_Daily_Synchronize_AD", NULL));
}

/* complete_job / incremental_job of a connector, on a copy of the model */
static void connector_job_use(void **state) {
  fixture *f = *state;
  char *src = jh_test_source("conf/examples/complete-sync/model.yaml");
  char *model = slurp(src), path[PATH_MAX + 32];
  const char *at = strstr(model, "  - id: HR\n");
  char *edited;
  const char *uses[] = {"NotUsed", "OnlySynchronization", "OnlyProvisioning"};

  assert_non_null(at);
  for (size_t u = 0; u < 3; u++) {
    size_t head = (size_t)(at - model) + strlen("  - id: HR\n");
    edited = calloc(strlen(model) + 64, 1);
    assert_non_null(edited);
    memcpy(edited, model, head);
    sprintf(edited + head, "    complete_job: %s\n%s", uses[u], model + head);
    jh_test_path(path, sizeof(path), "%s/model.yaml", f->dir);
    jh_test_write_file(path, edited, 0644);
    free(edited);
    assert_int_equal(load_in(f, f->dir,
                             "version: 1\ninclude: [model.yaml]\njob:\n"
                             "  scaffold: {kind: agent-complete, agent: "
                             "Local}\n"),
                     0);
    size_t hr_prepare = 0, hr_gpo = 0;
    for (size_t i = 0; i < f->p->ntasks; i++) {
      const jh_value *c = jh_task_value(&f->p->tasks[i], "connector");
      if (c == NULL || strcmp(c->text, "HR") != 0)
        continue;
      hr_prepare += strcmp(f->p->tasks[i].type, "PrepareSynchronizationTask") ==
                    0;
      hr_gpo += strcmp(f->p->tasks[i].type, "GenerateProvisioningOrdersTask") ==
                0;
    }
    /* HR has no resource type: never provisioned; synchronized unless
     * NotUsed or OnlyProvisioning */
    assert_int_equal(hr_gpo, 0);
    assert_int_equal(hr_prepare, u == 1 ? 1 : 0);
    /* AD is untouched */
    assert_int_equal(count_type(f->p, "FulfillTask"), 1);
  }
  /* the connector scaffold of a NotUsed connector is an error */
  edited = calloc(strlen(model) + 64, 1);
  assert_non_null(edited);
  strcpy(edited, model);
  at = strstr(edited, "  - id: AD\n");
  assert_non_null(at);
  {
    size_t head = (size_t)(at - edited) + strlen("  - id: AD\n");
    sprintf(edited + head, "    incremental_job: NotUsed\n%s", model + head);
  }
  jh_test_write_file(path, edited, 0644);
  free(edited);
  assert_non_null(strstr(load_error(f, f->dir,
                                    "version: 1\ninclude: [model.yaml]\n"
                                    "job:\n  scaffold: {kind: incremental, "
                                    "connector: AD}\n"),
                         "NotUsed"));
  free(model);
  free(src);
}

/* ---- errors ---- */

static void errors_point_at_scaffold(void **state) {
  fixture *f = *state;
  const char *e;
  e = load_error(f, f->example,
                 "version: 1\ninclude: [model.yaml]\njob:\n  id: X\n"
                 "  scaffold: {kind: complete, connector: Nope}\n");
  assert_non_null(strstr(e, "unknown connector 'Nope'"));
  assert_int_equal(f->d.items[0].line, 5);
  assert_int_equal(f->d.items[0].column, 13);
  assert_non_null(strstr(f->d.items[0].file, "scaffold-test.yaml"));

  /* an added task whose parameters its type refuses: at the scaffold */
  e = load_error(f, f->example,
                 "version: 1\ninclude: [model.yaml]\njob:\n  scaffold:\n"
                 "    kind: complete\n    connector: AD\n    add_tasks:\n"
                 "      - {id: Y, type: ExportTask, after: ExportTask,\n"
                 "         params: {no_such: 1}}\n");
  assert_non_null(strstr(e, "no_such"));
  assert_int_equal(f->d.items[0].line, 5);

  e = load_error(f, f->example,
                 "version: 1\ninclude: [model.yaml]\njob:\n"
                 "  scaffold: {kind: complete, connector: AD, "
                 "do_not_create_job: true}\n");
  assert_non_null(strstr(e, "do_not_create_job"));
  e = load_error(
      f, f->example,
      "version: 1\ninclude: [model.yaml]\njob:\n  id: X\n"
      "  scaffold: {kind: complete, connector: AD}\n"
      "  tasks: [{id: A, type: ExportTask, connection: AD_Export}]\n");
  assert_non_null(strstr(e, "'scaffold' and 'tasks'"));
  e = load_error(f, f->example,
                 "version: 1\ninclude: [model.yaml]\njob:\n"
                 "  scaffold: {kind: monthly}\n");
  assert_non_null(strstr(e, "kind"));
  e = load_error(f, f->example,
                 "version: 1\ninclude: [model.yaml]\njob:\n"
                 "  scaffold: {kind: complete}\n");
  assert_non_null(strstr(e, "missing 'connector'"));
}

static void do_not_create_job_tasks_only(void **state) {
  fixture *f = *state;
  char *yaml = NULL, err[256];
  jh_loc where;
  load_ok(f, "{kind: complete, connector: AD}");
  f->p->scaffold->do_not_create_job = 1;
  assert_int_equal(jh_scaffold_generate(f->p->scaffold, f->p->model, f->reg,
                                        &yaml, err, sizeof(err), &where),
                   0);
  assert_null(strstr(yaml, "\njob:"));
  assert_int_not_equal(strncmp(yaml, "job:", 4), 0);
  assert_non_null(strstr(yaml, "\ntasks:\n"));
  assert_non_null(
      strstr(yaml, "\n  - id: AD_Synchronize_Complete_Scaffolding_Export_"));
  free(yaml);
}

/* ---- XML ---- */

static void xml_scaffold(void **state) {
  fixture *f = *state;
  char path[PATH_MAX + 32], model[PATH_MAX + 32];
  char *src = jh_test_source("conf/examples/complete-sync/model.yaml");
  const char *paths[1] = {path};
  jh_xml_options opt = {0};
  jh_xml_output out;
  const char *inc[1] = {"model.yaml"};

  jh_test_path(model, sizeof(model), "%s", f->dir);
  jh_test_copy_file(src, f->dir, "model.yaml");
  jh_test_path(path, sizeof(path), "%s/scaffold.xml", f->dir);
  jh_test_write_file(
      path,
      "<ConfigurationFile "
      "xmlns=\"urn:schemas-usercube-com:configuration\">\n"
      "  <ComputeCorrelationKeysTask Identifier=\"Extra\">\n"
      "    <TaskEntityType EntityType=\"HR_Person\"/>\n"
      "  </ComputeCorrelationKeysTask>\n"
      "  <CreateConnectorSynchroIncremental Connector=\"AD\" "
      "DisplayName_L1=\"AD incremental\">\n"
      "    <OpenIdIdentifier Identifier=\"Job\"/>\n"
      "    <NoProvisioning/>\n"
      "    <AddTask Task=\"Extra\" TaskToCompareWith=\"SynchronizeTask\" "
      "After=\"true\"/>\n"
      "    <LinkDependTask Task=\"ComputeCorrelationKeysTask\" "
      "DependOn=\"SynchronizeTask\" ChildOccurence=\"1\"/>\n"
      "  </CreateConnectorSynchroIncremental>\n"
      "</ConfigurationFile>\n",
      0644);
  opt.job_only = 1;
  opt.includes = inc;
  opt.nincludes = 1;
  assert_int_equal(jh_xml_import(paths, 1, f->reg, &opt, &out, &f->d), 0);
  assert_non_null(strstr(out.yaml, "  scaffold:\n    kind: incremental\n"
                                   "    connector: AD\n"));
  assert_non_null(strstr(out.yaml, "no_provisioning: true"));
  assert_non_null(strstr(out.yaml, "id: AD_Synchronize_Incremental_"
                                   "Scaffolding"));
  jh_xml_output_clear(&out);

  /* the XML itself loads as the generated job */
  jh_pipeline_free(f->p);
  f->p = NULL;
  jh_diags_clear(&f->d);
  jh_test_path(path, sizeof(path), "%s/scaffold.xml", f->dir);
  {
    jh_test_path(model, sizeof(model), "%s/pipeline.yaml", f->dir);
    assert_int_equal(jh_xml_import(paths, 1, f->reg, &opt, &out, &f->d), 0);
    jh_test_write_file(model, out.yaml, 0644);
    jh_xml_output_clear(&out);
    assert_int_equal(jh_pipeline_load(model, f->reg, &f->p, &f->d), 0);
  }
  assert_non_null(jh_pipeline_task(f->p, "Extra", NULL));
  assert_int_equal(count_type(f->p, "GenerateProvisioningOrdersTask"), 0);
  assert_int_equal(count_type(f->p, "SetRecentlyModifiedFlagTask"), 1);

  /* an unsupported child: an error at its line */
  jh_test_write_file(
      path,
      "<ConfigurationFile "
      "xmlns=\"urn:schemas-usercube-com:configuration\">\n"
      "  <CreateConnectorSynchroComplete Connector=\"AD\">\n"
      "    <FulfillInternalWorkflowsPath ConnectorIdentifier=\"AD\" "
      "Path=\"x\"/>\n"
      "  </CreateConnectorSynchroComplete>\n"
      "</ConfigurationFile>\n",
      0644);
  jh_diags_clear(&f->d);
  assert_int_equal(jh_xml_import(paths, 1, f->reg, &opt, &out, &f->d),
                   JOBHOST_ECONFIG);
  assert_true(f->d.nerrors >= 1);
  assert_int_equal(f->d.items[0].line, 3);
  assert_non_null(
      strstr(f->d.items[0].message, "FulfillInternalWorkflowsPath"));
  jh_xml_output_clear(&out);
  free(src);
}

/* ---- the complete job runs as the seed job does ---- */

#define SC "Job_AD_Scaffolded_"

static json_t *run_blocked_once(jh_test_jobhost *j, const char *path) {
  char inst[32];
  json_t *r;
  int rc = jh_test_jobhost_run(j, NULL, NULL, "run", path, NULL);
  if (rc == 3) { /* a first load into an empty store: resumed */
    r = jh_test_report_load(j->report);
    jh_test_report_instance(r, inst, sizeof(inst));
    json_decref(r);
    rc = jh_test_jobhost_run(j, NULL, NULL, "resume", inst, NULL);
  }
  assert_int_equal(rc, 0);
  return jh_test_report_load(j->report);
}

/* jobhost scaffold: what it prints validates; its usage errors */
static void cli(jh_test_jobhost *j, const char *dst, const char *scaffold) {
  char model[PATH_MAX + 64], gen[PATH_MAX + 64], seed[PATH_MAX + 64];
  char *out = NULL, *err = NULL;

  jh_test_path(model, sizeof(model), "%s/complete-sync/model.yaml", dst);
  jh_test_path(gen, sizeof(gen), "%s/complete-sync/generated.yaml", dst);
  jh_test_path(seed, sizeof(seed), "%s/complete-sync/pipeline.yaml", dst);
  assert_int_equal(jh_test_jobhost_run(j, &out, NULL, "scaffold", "incremental",
                                       "--connector", "AD", "--schedule",
                                       "*/15 * * * *", model, NULL),
                   0);
  assert_non_null(strstr(out, "\njob:\n  id: "
                              "AD_Synchronize_Incremental_Scaffolding\n"));
  assert_non_null(strstr(out, "\n  schedule: \"*/15 * * * *\"\n"));
  jh_test_write_file(gen, out, 0644);
  free(out);
  out = NULL;
  assert_int_equal(jh_test_jobhost_run(j, &out, NULL, "validate", gen, NULL),
                   0);
  assert_non_null(strstr(out, "is valid (11 tasks"));
  free(out);
  out = NULL;
  /* the tasks only */
  assert_int_equal(jh_test_jobhost_run(j, &out, NULL, "scaffold", scaffold,
                                       "--do-not-create-job", NULL),
                   0);
  assert_non_null(strstr(out, "\ntasks:\n"));
  assert_null(strstr(out, "\njob:"));
  free(out);
  out = NULL;
  /* usage and configuration errors: 2, nothing printed */
  assert_int_equal(jh_test_jobhost_run(j, &out, NULL, "scaffold", "complete",
                                       model, NULL),
                   2);
  assert_string_equal(out, "");
  free(out);
  out = NULL;
  assert_int_equal(jh_test_jobhost_run(j, &out, &err, "scaffold", "complete",
                                       "--connector", "Nope", model, NULL),
                   2);
  assert_string_equal(out, "");
  assert_non_null(strstr(err, "unknown connector 'Nope'"));
  free(out);
  free(err);
  out = err = NULL;
  assert_int_equal(jh_test_jobhost_run(j, &out, &err, "scaffold", seed, NULL),
                   2);
  assert_non_null(strstr(err, "has no 'scaffold:'"));
  free(out);
  free(err);
}

static void complete_runs(void **state) {
  jh_test_jobhost j;
  char *src = jh_test_source("conf/examples");
  char dst[PATH_MAX], path[PATH_MAX + 64];
  json_t *r;
  (void)state;

  jh_test_jobhost_open(&j, "JH_BUILTIN_PLUGIN_DIR", NULL);
  jh_test_path(dst, sizeof(dst), "%s/examples", j.dir);
  {
    const char *argv[] = {"/bin/cp", "-R", src, dst, NULL};
    if (jh_test_run(argv, NULL, NULL) != 0)
      fail_msg("cannot copy %s", src);
  }
  free(src);
  jh_test_path(path, sizeof(path), "%s/complete-sync/hr-pipeline.yaml", dst);
  r = run_blocked_once(&j, path);
  jh_test_assert_job_state(r, "Succeeded");
  json_decref(r);

  jh_test_path(path, sizeof(path), "%s/complete-sync/scaffold.yaml", dst);
  jh_test_write_file(path,
                     "version: 1\ninclude: [model.yaml]\njob:\n"
                     "  id: Job_AD_Scaffolded\n"
                     "  scaffold: {kind: complete, connector: AD}\n",
                     0644);
  cli(&j, dst, path);
  r = run_blocked_once(&j, path);
  jh_test_assert_job_state(r, "Succeeded");
  assert_int_equal(json_array_size(json_object_get(r, "tasks")), 10);
  for (size_t i = 0; i < json_array_size(json_object_get(r, "tasks")); i++) {
    json_t *t = json_array_get(json_object_get(r, "tasks"), i);
    assert_string_equal(json_string_value(json_object_get(t, "state")),
                        "Succeeded");
  }
  /* the seed job's figures (test_example_e2e) */
  assert_int_equal(jh_test_counter(jh_test_report_task(
                                       r, SC "GenerateProvisioningOrders_AD"),
                                   "added"),
                   500);
  assert_int_equal(jh_test_counter(jh_test_report_task(
                                       r, SC "GenerateProvisioningOrders_AD"),
                                   "modified"),
                   20);
  assert_int_equal(
      jh_test_counter(jh_test_report_task(r, SC "Fulfill_AD_AD_Fulfillment"),
                      "executed"),
      520);
  assert_int_equal(jh_test_counter(jh_test_report_task(r, SC
                                                       "UpdateClassification"),
                                   "classified"),
                   13);
  json_decref(r);
  /* again: nothing to send, the fulfillment and the profiles skipped */
  assert_int_equal(jh_test_jobhost_run(&j, NULL, NULL, "run", path, NULL), 0);
  r = jh_test_report_load(j.report);
  jh_test_assert_task(r, SC "Fulfill_AD_AD_Fulfillment", "Skipped", NULL);
  jh_test_assert_task(r, SC "SetInternalUserProfiles", "Skipped", NULL);
  json_decref(r);
  jh_test_jobhost_close(&j);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(complete_matches_seed, setup, teardown),
      cmocka_unit_test_setup_teardown(incremental_expected, setup, teardown),
      cmocka_unit_test_setup_teardown(agent_expected, setup, teardown),
      cmocka_unit_test_setup_teardown(initialization_job, setup, teardown),
      cmocka_unit_test_setup_teardown(no_provisioning, setup, teardown),
      cmocka_unit_test_setup_teardown(no_synchronization, setup, teardown),
      cmocka_unit_test_setup_teardown(add_task_after_before, setup, teardown),
      cmocka_unit_test_setup_teardown(link_depend_task, setup, teardown),
      cmocka_unit_test_setup_teardown(schedule_and_id, setup, teardown),
      cmocka_unit_test_setup_teardown(connector_job_use, setup, teardown),
      cmocka_unit_test_setup_teardown(errors_point_at_scaffold, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(do_not_create_job_tasks_only, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(xml_scaffold, setup, teardown),
      cmocka_unit_test(complete_runs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
