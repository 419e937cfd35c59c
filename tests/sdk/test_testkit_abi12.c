/*
 * test_testkit_abi12.c — the services ABI 1.2 added, each run through the
 * test kit (jobhost/testkit.h) on a plugin defined here: the typed
 * getters (param_int, param_bool, param_duration), setting_list, the
 * read services (entity_types, entity_type, resources_open,
 * resources_next, resources_close) and ctx->connector, the checks of a
 * parameter's range and pattern, and the validate entry points of a task
 * type and a package.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jobhost/testkit.h>

/* ---- the plugin under test ---- */

static const jobhost_param typed_params[] = {
    {.name = "repeat",
     .type = JOBHOST_PARAM_INT,
     .default_value = "3",
     .range = JOBHOST_PARAM_RANGE(1, 100)},
    {.name = "loud", .type = JOBHOST_PARAM_BOOL, .default_value = "false"},
    {.name = "wait", .type = JOBHOST_PARAM_DURATION, .default_value = "1m"},
    {.name = "label", .type = JOBHOST_PARAM_STRING, .pattern = "[a-z]+"},
    {.name = "first", .type = JOBHOST_PARAM_INT, .default_value = "0"},
    {.name = "last", .type = JOBHOST_PARAM_INT, .default_value = "0"},
    {.name = JOBHOST_PARAM_NAME_CONNECTION, .type = JOBHOST_PARAM_STRING},
    JOBHOST_PARAM_END};

static int typed_validate(jobhost_ctx *ctx) {
  int64_t first, last;
  if (ctx->svc->param_int(ctx, "first", &first) != 0 ||
      ctx->svc->param_int(ctx, "last", &last) != 0)
    return JOBHOST_ECONFIG;
  if (first > last) {
    ctx->svc->set_message(ctx, "first must not be after last");
    return JOBHOST_ECONFIG;
  }
  return 0;
}

static int typed_run(jobhost_ctx *ctx) {
  const jobhost_services *svc = ctx->svc;
  const char *const *items;
  int64_t repeat = 0, wait = 0;
  int loud = -1;
  size_t n;

  if (svc->param_int(ctx, "repeat", &repeat) != 0 ||
      svc->param_bool(ctx, "loud", &loud) != 0 ||
      svc->param_duration(ctx, "wait", &wait) != 0)
    return -EINVAL;
  svc->counter_set(ctx, "repeat", repeat);
  svc->counter_set(ctx, "loud", loud);
  svc->counter_set(ctx, "wait_ms", wait);
  svc->counter_set(ctx, "label_unset",
                   svc->param_int(ctx, "label", &repeat) == -ENOENT);
  n = svc->setting_list(ctx, "hosts", &items);
  svc->counter_set(ctx, "hosts", (int64_t)n);
  for (size_t i = 0; i < n; i++)
    jobhost_info(ctx, "host %s", items[i]);
  return 0;
}

static const jobhost_param read_params[] = {
    {.name = "entity_type", .type = JOBHOST_PARAM_ENTITY_TYPE, .required = 1},
    {.name = "mine", .type = JOBHOST_PARAM_BOOL, .default_value = "false"},
    {.name = JOBHOST_PARAM_NAME_CONNECTION, .type = JOBHOST_PARAM_STRING},
    JOBHOST_PARAM_END};

static int read_run(jobhost_ctx *ctx) {
  const jobhost_services *svc = ctx->svc;
  const char *name = svc->param(ctx, "entity_type");
  const jobhost_entity_type *const *all;
  const jobhost_entity_type *et = svc->entity_type(ctx, name);
  const jobhost_resource *r;
  jobhost_cursor *cur;
  int mine = 0, rc;
  int64_t count = 0;

  (void)svc->param_bool(ctx, "mine", &mine);
  svc->counter_set(ctx, "entity_types",
                   (int64_t)svc->entity_types(ctx, 0, &all));
  svc->counter_set(ctx, "mine_types",
                   (int64_t)svc->entity_types(ctx, JOBHOST_READ_CONNECTOR,
                                              &all));
  jobhost_info(ctx, "connector %s", ctx->connector ? ctx->connector : "-");
  if (et == NULL)
    return -ENOENT;
  jobhost_info(ctx, "key %s, %zu properties, first %s", et->key,
               et->nproperties, et->properties[0].name);
  rc = svc->resources_open(ctx, name, mine ? JOBHOST_READ_CONNECTOR : 0, &cur);
  if (rc != 0) {
    svc->set_message(ctx, "open: %s", jobhost_strerror(rc));
    return rc;
  }
  while ((rc = svc->resources_next(cur, &r)) == 1) {
    count++;
    for (size_t i = 0; i < r->nvalues; i++)
      for (size_t k = 0; k < r->values[i].nvalues; k++)
        jobhost_info(ctx, "%s.%s=%s", r->key, r->values[i].name,
                     r->values[i].values[k]);
  }
  svc->resources_close(cur);
  svc->counter_set(ctx, "resources", count);
  return rc;
}

static const jobhost_task_type types[] = {
    {.name = "TypedTask",
     .params = typed_params,
     .run = typed_run,
     .validate = typed_validate},
    {.name = "ReadTask", .params = read_params, .run = read_run},
    JOBHOST_TASK_TYPE_END};

static const jobhost_param pkg_settings[] = {
    {.name = "hosts", .type = JOBHOST_PARAM_LIST, .pattern = "[a-z0-9.]+"},
    JOBHOST_PARAM_END};

static int pkg_validate(jobhost_ctx *ctx) {
  const char *const *items;
  if (ctx->svc->setting_list(ctx, "hosts", &items) == 0) {
    ctx->svc->set_message(ctx, "hosts must name a host");
    return JOBHOST_ECONFIG;
  }
  return 0;
}

static int pkg_export(jobhost_ctx *ctx, void *state) {
  (void)ctx;
  (void)state;
  return 0;
}

static const jobhost_package packages[] = {{.name = "hostpkg",
                                            .settings = pkg_settings,
                                            .export_tables = pkg_export,
                                            .validate = pkg_validate},
                                           JOBHOST_PACKAGE_END};

static const jobhost_plugin plugin = {JOBHOST_PLUGIN_MAGIC,
                                      JOBHOST_ABI_MAJOR,
                                      JOBHOST_ABI_MINOR,
                                      (uint32_t)sizeof(jobhost_plugin),
                                      "abi12",
                                      "1.0",
                                      "ABI 1.2 services",
                                      types,
                                      packages,
                                      {NULL}};

/* ---- fixtures ---- */

static int setup(void **state) {
  jobhost_testkit *kit;
  if (jobhost_testkit_new(&kit) != 0)
    return -1;
  if (jobhost_testkit_add_plugin(kit, &plugin) != 0) {
    jobhost_testkit_free(kit);
    return -1;
  }
  *state = kit;
  return 0;
}

static int teardown(void **state) {
  jobhost_testkit_free(*state);
  return 0;
}

static int64_t counter(jobhost_testkit *kit, const char *name) {
  int64_t v = -1;
  if (jobhost_testkit_counter(kit, name, &v) != 0)
    fail_msg("counter %s was never set", name);
  return v;
}

static void ran(jobhost_testkit *kit, const char *type) {
  int rc = jobhost_testkit_run(kit, type);
  if (rc != 0)
    fail_msg("%s: %d %s %s", type, rc, jobhost_testkit_error(kit),
             jobhost_testkit_message(kit));
}

/* ---- param_int, param_bool, param_duration ---- */

static void test_typed_getters(void **state) {
  jobhost_testkit *kit = *state;
  ran(kit, "TypedTask"); /* the defaults */
  assert_int_equal(counter(kit, "repeat"), 3);
  assert_int_equal(counter(kit, "loud"), 0);
  assert_int_equal(counter(kit, "wait_ms"), 60000);
  assert_int_equal(counter(kit, "label_unset"), 1);
  jobhost_testkit_param(kit, "repeat", "100");
  jobhost_testkit_param(kit, "loud", "True");
  jobhost_testkit_param(kit, "wait", "250ms");
  ran(kit, "TypedTask");
  assert_int_equal(counter(kit, "repeat"), 100);
  assert_int_equal(counter(kit, "loud"), 1);
  assert_int_equal(counter(kit, "wait_ms"), 250);
}

/* ---- a range, a pattern, the validate entry points ---- */

static void test_checks_and_validate(void **state) {
  jobhost_testkit *kit = *state;
  static const char *const none[] = {NULL};
  static const char *const hosts[] = {"dc1", "dc2"};

  jobhost_testkit_param(kit, "repeat", "101");
  assert_int_equal(jobhost_testkit_validate(kit, "TypedTask"), JOBHOST_ECONFIG);
  assert_non_null(strstr(jobhost_testkit_error(kit),
                         "'repeat' must be between 1 and 100, got 101"));
  jobhost_testkit_param(kit, "repeat", NULL);
  jobhost_testkit_param(kit, "label", "Upper");
  assert_int_equal(jobhost_testkit_run(kit, "TypedTask"), JOBHOST_ECONFIG);
  assert_non_null(strstr(jobhost_testkit_error(kit), "'label' must match"));
  jobhost_testkit_param(kit, "label", "lower");
  jobhost_testkit_param(kit, "first", "5");
  jobhost_testkit_param(kit, "last", "3");
  assert_int_equal(jobhost_testkit_validate(kit, "TypedTask"), JOBHOST_ECONFIG);
  assert_non_null(strstr(jobhost_testkit_error(kit),
                         "task 'Test' (TypedTask): first must not be after "
                         "last"));
  assert_int_equal(jobhost_testkit_run(kit, "TypedTask"), JOBHOST_ECONFIG);
  jobhost_testkit_param(kit, "last", "5");
  assert_int_equal(jobhost_testkit_validate(kit, "TypedTask"), 0);

  /* the package's validate, for its connection */
  jobhost_testkit_package(kit, "hostpkg");
  jobhost_testkit_setting_list(kit, "hosts", none, 0);
  assert_int_equal(jobhost_testkit_validate(kit, "TypedTask"), JOBHOST_ECONFIG);
  assert_non_null(strstr(jobhost_testkit_error(kit),
                         "(package hostpkg): hosts must name a host"));
  jobhost_testkit_setting_list(kit, "hosts", hosts, 2);
  assert_int_equal(jobhost_testkit_validate(kit, "TypedTask"), 0);
}

/* ---- setting_list ---- */

static void test_setting_list(void **state) {
  jobhost_testkit *kit = *state;
  static const char *const hosts[] = {"dc1.example.org", "dc2.example.org",
                                      "dc3"};
  jobhost_testkit_package(kit, "hostpkg");
  jobhost_testkit_setting_list(kit, "hosts", hosts, 3);
  ran(kit, "TypedTask");
  assert_int_equal(counter(kit, "hosts"), 3);
  assert_non_null(jobhost_testkit_log_find(kit, "host dc2.example.org"));
  assert_non_null(jobhost_testkit_log_find(kit, "host dc3"));
}

/* ---- entity_types, entity_type, resources_*, ctx->connector ---- */

static void declare(jobhost_testkit *kit) {
  static const char *const person[] = {"id", "name", "age:integer",
                                       "manager:link:Person",
                                       "reports:links:Person"};
  static const char *const group[] = {"gid"};
  static const char *const ann[] = {"id=1", "name=Ann", "reports=2",
                                    "reports=3"};
  static const char *const bob[] = {"id=2", "name=Bob", "age=41", "manager=1"};
  static const char *const cid[] = {"id=3", "name=Cid", "manager=1"};
  if (jobhost_testkit_entity_type(kit, "Person", person, 5) != 0 ||
      jobhost_testkit_entity_type(kit, "Group", group, 1) != 0 ||
      jobhost_testkit_resource(kit, "Person", bob, 4) != 0 ||
      jobhost_testkit_resource(kit, "Person", ann, 4) != 0 ||
      jobhost_testkit_resource(kit, "Person", cid, 3) != 0)
    fail_msg("%s", jobhost_testkit_error(kit));
}

static void test_entity_types(void **state) {
  jobhost_testkit *kit = *state;
  declare(kit);
  jobhost_testkit_param(kit, "entity_type", "Group");
  ran(kit, "ReadTask");
  assert_int_equal(counter(kit, "entity_types"), 2);
  assert_int_equal(counter(kit, "mine_types"), 0); /* no connector */
  assert_int_equal(counter(kit, "resources"), 0);
  assert_non_null(jobhost_testkit_log_find(kit, "key gid, 1 properties"));
  /* a task with the kit's connection belongs to the kit's connector */
  jobhost_testkit_package(kit, "hostpkg");
  {
    static const char *const h[] = {"dc1"};
    jobhost_testkit_setting_list(kit, "hosts", h, 1);
  }
  jobhost_testkit_param(kit, "entity_type", "Person");
  ran(kit, "ReadTask");
  assert_int_equal(counter(kit, "mine_types"), 2);
  assert_non_null(jobhost_testkit_log_find(kit, "connector TestConnector"));
  assert_non_null(jobhost_testkit_log_find(kit, "key id, 5 properties"));
  /* an entity type the model lacks is refused before the run */
  jobhost_testkit_param(kit, "entity_type", "Nobody");
  assert_int_equal(jobhost_testkit_run(kit, "ReadTask"), JOBHOST_ECONFIG);
  assert_non_null(
      strstr(jobhost_testkit_error(kit), "unknown entity type 'Nobody'"));
}

static void test_resources(void **state) {
  jobhost_testkit *kit = *state;
  static const char *const h[] = {"dc1"};
  declare(kit);
  jobhost_testkit_param(kit, "entity_type", "Person");
  ran(kit, "ReadTask");
  assert_int_equal(counter(kit, "resources"), 3);
  /* in key order, values in declared order, links by key */
  assert_string_equal(jobhost_testkit_log_line(kit, 2),
                      "INFO    [Test] 1.id=1");
  assert_non_null(jobhost_testkit_log_find(kit, "1.name=Ann"));
  assert_non_null(jobhost_testkit_log_find(kit, "1.reports=2"));
  assert_non_null(jobhost_testkit_log_find(kit, "1.reports=3"));
  assert_non_null(jobhost_testkit_log_find(kit, "2.age=41"));
  assert_non_null(jobhost_testkit_log_find(kit, "2.manager=1"));
  assert_null(jobhost_testkit_log_find(kit, "1.age="));
  /* JOBHOST_READ_CONNECTOR: the task's connector only */
  jobhost_testkit_param(kit, "mine", "true");
  assert_int_equal(jobhost_testkit_run(kit, "ReadTask"), -EPERM);
  jobhost_testkit_package(kit, "hostpkg");
  jobhost_testkit_setting_list(kit, "hosts", h, 1);
  ran(kit, "ReadTask");
  assert_int_equal(counter(kit, "resources"), 3);
  /* the kit refuses what it cannot store */
  {
    static const char *const bad[] = {"name=NoKey"};
    static const char *const odd[] = {"id=9", "colour=red"};
    assert_int_equal(jobhost_testkit_resource(kit, "Person", bad, 1), -EINVAL);
    assert_int_equal(jobhost_testkit_resource(kit, "Person", odd, 2), -EINVAL);
    assert_non_null(strstr(jobhost_testkit_error(kit), "colour"));
    assert_int_equal(jobhost_testkit_resource(kit, "Nobody", odd, 1), -ENOENT);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
      T(test_typed_getters), T(test_checks_and_validate), T(test_setting_list),
      T(test_entity_types),  T(test_resources),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
