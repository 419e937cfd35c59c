/*
 * test_builtin.c — the built-in plugins load from the build tree,
 * declare the task types and parameter schemas of doc/identity-manager.md,
 * and a task type is marked not implemented exactly when it says so when
 * run (the implemented ones are listed in `implemented`).
 *
 * The test fails when the build produces a plugin it does not know: a new
 * plugin must be added to `expected` below, with its task types.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loader.h"
#include "harness_host.h"
#include "harness_services.h"

static const struct {
  const char *plugin;
  const char *task_types[5];
} expected[] = {
    {"export", {"ExportTask"}},
    {"prepare", {"PrepareSynchronizationTask"}},
    {"synchronize", {"SynchronizeTask", "SetRecentlyModifiedFlagTask"}},
    {"compute",
     {"UpdateEntityPropertyExpressionsTask", "ComputeCorrelationKeysTask",
      "ComputeRoleModelTask", "GenerateProvisioningOrdersTask"}},
    {"fulfill", {"FulfillTask"}},
    {"classify", {"UpdateClassificationTask"}},
    {"profiles", {"SetInternalUserProfilesTask"}},
    {"csv", {NULL}}, /* connector packages only */
    {"ldif", {NULL}},
    {"ldap", {NULL}},
};
#define NEXPECTED (sizeof(expected) / sizeof(expected[0]))

/* A few schema facts from doc/identity-manager.md, checked one by one. */
static const struct {
  const char *task_type;
  const char *param;
  jobhost_param_type type;
  int required;
  const char *default_value;
} schema_facts[] = {
    {"ExportTask", "connection", JOBHOST_PARAM_STRING, 1, NULL},
    {"ExportTask", "ignore_cookie_file", JOBHOST_PARAM_BOOL, 0, "false"},
    {"ExportTask", "init_mode", JOBHOST_PARAM_BOOL, 0, "false"},
    {"PrepareSynchronizationTask", "connector", JOBHOST_PARAM_STRING, 1, NULL},
    {"PrepareSynchronizationTask", "synchronization_mode", JOBHOST_PARAM_ENUM,
     0, "Complete"},
    {"PrepareSynchronizationTask", "prepare_type", JOBHOST_PARAM_ENUM, 0,
     "None"},
    {"PrepareSynchronizationTask", "column_name", JOBHOST_PARAM_STRING, 0,
     "command"},
    {"PrepareSynchronizationTask", "working_directory", JOBHOST_PARAM_STRING, 0,
     NULL},
    {"SynchronizeTask", "connector", JOBHOST_PARAM_STRING, 1, NULL},
    {"SynchronizeTask", "do_not_delete_changes", JOBHOST_PARAM_BOOL, 0,
     "false"},
    {"SynchronizeTask", "force_synchronization", JOBHOST_PARAM_BOOL, 0,
     "false"},
    {"UpdateEntityPropertyExpressionsTask", "entity_types", JOBHOST_PARAM_LIST,
     0, NULL},
    {"UpdateEntityPropertyExpressionsTask", "dirty", JOBHOST_PARAM_BOOL, 0,
     "false"},
    {"ComputeCorrelationKeysTask", "entity_types", JOBHOST_PARAM_LIST, 0, NULL},
    {"ComputeRoleModelTask", "block_provisioning", JOBHOST_PARAM_BOOL, 0,
     "false"},
    {"GenerateProvisioningOrdersTask", "force_provisioning", JOBHOST_PARAM_BOOL,
     0, "false"},
    {"GenerateProvisioningOrdersTask", "resource_types", JOBHOST_PARAM_LIST, 0,
     NULL},
    {"FulfillTask", "connection", JOBHOST_PARAM_STRING, 0, NULL},
    {"UpdateClassificationTask", "entity_types", JOBHOST_PARAM_LIST, 0, NULL},
    {"SetInternalUserProfilesTask", "resource_types", JOBHOST_PARAM_LIST, 0,
     NULL},
};

/* Task types that are implemented (their own tests cover them): they must
 * not carry JOBHOST_TASK_NOT_IMPLEMENTED, and every other one must. */
static const char *const implemented[] = {
    "ExportTask",
    "PrepareSynchronizationTask",
    "SynchronizeTask",
    "SetRecentlyModifiedFlagTask",
    "UpdateEntityPropertyExpressionsTask",
    "ComputeCorrelationKeysTask",
    "ComputeRoleModelTask",
    "GenerateProvisioningOrdersTask",
    "FulfillTask",
    "UpdateClassificationTask",
    "SetInternalUserProfilesTask",
};

static int is_implemented(const char *task_type) {
  for (size_t i = 0; i < sizeof(implemented) / sizeof(implemented[0]); i++)
    if (strcmp(implemented[i], task_type) == 0)
      return 1;
  return 0;
}

static jh_registry *load_builtins(void) {
  jh_registry *reg = jh_test_registry("JH_BUILTIN_PLUGIN_DIR", NULL);
  jh_test_assert_no_refusals(reg);
  return reg;
}

static void test_every_built_plugin_is_known(void **state) {
  const char *dir = jh_test_env("JH_BUILTIN_PLUGIN_DIR");
  DIR *dh = opendir(dir);
  struct dirent *e;
  size_t seen = 0;
  (void)state;

  assert_non_null(dh);
  while ((e = readdir(dh)) != NULL) {
    size_t len = strlen(e->d_name), i;
    if (len < 4 || strcmp(e->d_name + len - 3, ".la") != 0)
      continue;
    for (i = 0; i < NEXPECTED; i++)
      if (strlen(expected[i].plugin) == len - 3 &&
          strncmp(expected[i].plugin, e->d_name, len - 3) == 0)
        break;
    if (i == NEXPECTED)
      fail_msg("built plugin %s is unknown to this test: add it to "
               "`expected`",
               e->d_name);
    seen++;
  }
  closedir(dh);
  assert_int_equal(seen, NEXPECTED);
}

static void test_plugins_and_task_types(void **state) {
  jh_registry *reg = load_builtins();
  (void)state;

  assert_int_equal(reg->nplugins, NEXPECTED);
  for (size_t i = 0; i < NEXPECTED; i++) {
    const jh_plugin *pl = NULL;
    size_t n = 0;
    for (size_t j = 0; j < reg->nplugins; j++)
      if (strcmp(reg->plugins[j].desc->name, expected[i].plugin) == 0)
        pl = &reg->plugins[j];
    if (pl == NULL)
      fail_msg("plugin %s not loaded", expected[i].plugin);
    assert_int_equal(pl->desc->abi_major, 1);
    assert_int_equal(pl->desc->abi_minor, JOBHOST_ABI_MINOR);
    assert_string_equal(pl->desc->version, PACKAGE_VERSION);
    for (; pl->desc->task_types != NULL && pl->desc->task_types[n].name != NULL;
         n++) {
      const jh_plugin *owner = NULL;
      assert_string_equal(pl->desc->task_types[n].name,
                          expected[i].task_types[n]);
      assert_non_null(
          jh_registry_task_type(reg, expected[i].task_types[n], &owner));
      assert_ptr_equal(owner, pl);
    }
    assert_null(expected[i].task_types[n]);
  }
  jh_registry_free(reg);
}

static const jobhost_param *find_param(const jobhost_task_type *t,
                                       const char *name) {
  for (size_t i = 0; t->params != NULL && t->params[i].name != NULL; i++)
    if (strcmp(t->params[i].name, name) == 0)
      return &t->params[i];
  return NULL;
}

static void test_parameter_schemas(void **state) {
  jh_registry *reg = load_builtins();
  (void)state;
  for (size_t i = 0; i < sizeof(schema_facts) / sizeof(schema_facts[0]); i++) {
    const jobhost_task_type *t = jh_registry_task_type(
        reg, schema_facts[i].task_type, NULL);
    const jobhost_param *p;
    assert_non_null(t);
    p = find_param(t, schema_facts[i].param);
    if (p == NULL)
      fail_msg("%s lacks parameter %s", schema_facts[i].task_type,
               schema_facts[i].param);
    assert_int_equal(p->type, schema_facts[i].type);
    assert_int_equal(!!p->required, schema_facts[i].required);
    if (schema_facts[i].default_value == NULL)
      assert_null(p->default_value);
    else
      assert_string_equal(p->default_value, schema_facts[i].default_value);
  }
  /* Blocking task types: synchronize and provisioning orders. */
  assert_true(jh_registry_task_type(reg, "SynchronizeTask", NULL)->flags &
              JOBHOST_TASK_CAN_BLOCK);
  assert_true(jh_registry_task_type(reg, "GenerateProvisioningOrdersTask", NULL)
                  ->flags &
              JOBHOST_TASK_CAN_BLOCK);
  assert_false(jh_registry_task_type(reg, "ExportTask", NULL)->flags &
               JOBHOST_TASK_CAN_BLOCK);
  /* The dirty flags of the implicit skip rule (doc/jobs.md): the one
   * type that flags resources, the types whose `dirty` reads the flags. */
  assert_true(
      jh_registry_task_type(reg, "SetRecentlyModifiedFlagTask", NULL)->flags &
      JOBHOST_TASK_SETS_DIRTY);
  for (size_t i = 0; i < 4; i++) {
    static const char *const readers[] = {"UpdateEntityPropertyExpressionsTask",
                                          "ComputeCorrelationKeysTask",
                                          "ComputeRoleModelTask",
                                          "UpdateClassificationTask"};
    assert_true(jh_registry_task_type(reg, readers[i], NULL)->flags &
                JOBHOST_TASK_READS_DIRTY);
  }
  assert_false(jh_registry_task_type(reg, "FulfillTask", NULL)->flags &
               JOBHOST_TASK_READS_DIRTY);
  /* The steps of a connector's synchronization, one flag each: what the
   * host knows of them (doc/sdk.md), and no other type has one. */
  for (size_t p = 0; p < reg->nplugins; p++)
    for (const jobhost_task_type *t = reg->plugins[p].desc->task_types;
         t != NULL && t->name != NULL; t++) {
      static const struct {
        const char *type;
        unsigned flag;
      } steps[] = {{"ExportTask", JOBHOST_TASK_EXPORTS},
                   {"PrepareSynchronizationTask", JOBHOST_TASK_PREPARES},
                   {"SynchronizeTask", JOBHOST_TASK_SYNCHRONIZES}};
      unsigned want = 0;
      for (size_t k = 0; k < 3; k++)
        if (strcmp(t->name, steps[k].type) == 0)
          want = steps[k].flag;
      assert_int_equal(t->flags &
                           (JOBHOST_TASK_EXPORTS | JOBHOST_TASK_PREPARES |
                            JOBHOST_TASK_SYNCHRONIZES),
                       want);
    }
  jh_registry_free(reg);
}

static void test_not_implemented_is_declared(void **state) {
  jh_registry *reg = load_builtins();
  jh_fake_host h; /* a host that gives the task nothing */
  (void)state;

  jh_fake_host_init(&h);
  for (size_t i = 0; i < reg->nplugins; i++) {
    const jobhost_task_type *t = reg->plugins[i].desc->task_types;
    for (size_t j = 0; t != NULL && t[j].name != NULL; j++) {
      jobhost_ctx ctx = jh_fake_ctx(&h, "t", t[j].name);
      int rc;
      jh_fake_host_reset(&h);
      if (is_implemented(t[j].name)) {
        /* Run with no model, folder, parameter or connection: it
         * refuses, but never as "not implemented". */
        if (t[j].flags & JOBHOST_TASK_NOT_IMPLEMENTED)
          fail_msg("%s is implemented but flagged otherwise", t[j].name);
        rc = t[j].run(&ctx);
        assert_int_not_equal(rc, JOBHOST_ENOTIMPL);
        assert_true(rc < 0);
        assert_null(strstr(h.message, "not implemented"));
        continue;
      }
      if (!(t[j].flags & JOBHOST_TASK_NOT_IMPLEMENTED))
        fail_msg("%s is not flagged JOBHOST_TASK_NOT_IMPLEMENTED; add it to "
                 "`implemented` with tests of its own",
                 t[j].name);
      rc = t[j].run(&ctx);
      assert_int_equal(rc, JOBHOST_ENOTIMPL);
      assert_non_null(strstr(h.message, t[j].name));
      assert_non_null(strstr(h.message, "not implemented"));
    }
  }
  jh_fake_host_clear(&h);
  jh_registry_free(reg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_built_plugin_is_known),
      cmocka_unit_test(test_plugins_and_task_types),
      cmocka_unit_test(test_parameter_schemas),
      cmocka_unit_test(test_not_implemented_is_declared),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
