/*
 * test_loader.c — the plugin loader accepts good plugins and refuses each
 * kind of bad one with a message naming the file (and versions), while the
 * good plugins beside it still load.
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "loader.h"
#include "harness_host.h"

/* ---- descriptor rules, in memory ---- */

static int dummy_run(jobhost_ctx *ctx) {
  (void)ctx;
  return 0;
}

static const jobhost_task_type one_task[] = {{.name = "T", .run = dummy_run},
                                             JOBHOST_TASK_TYPE_END};
static const jobhost_task_type no_run[] = {{.name = "NoRun"},
                                           JOBHOST_TASK_TYPE_END};
static const jobhost_task_type twice[] = {{.name = "Twice", .run = dummy_run},
                                          {.name = "Twice", .run = dummy_run},
                                          JOBHOST_TASK_TYPE_END};
static const jobhost_param bad_type_params[] = {
    {.name = "p", .type = (jobhost_param_type)42}, JOBHOST_PARAM_END};
static const jobhost_task_type bad_param[] = {
    {.name = "BadParam", .params = bad_type_params, .run = dummy_run},
    JOBHOST_TASK_TYPE_END};
static const jobhost_param enum_no_choices[] = {
    {.name = "mode", .type = JOBHOST_PARAM_ENUM}, JOBHOST_PARAM_END};
static const jobhost_task_type bad_enum[] = {
    {.name = "BadEnum", .params = enum_no_choices, .run = dummy_run},
    JOBHOST_TASK_TYPE_END};
static const jobhost_param bool_default[] = {
    {.name = "flag", .type = JOBHOST_PARAM_BOOL, .default_value = "yes"},
    JOBHOST_PARAM_END};
static const jobhost_task_type bad_bool[] = {
    {.name = "BadBool", .params = bool_default, .run = dummy_run},
    JOBHOST_TASK_TYPE_END};
/* The path type came with ABI 1.1: a 1.0 plugin may not use it. */
static const jobhost_param path_params[] = {
    {.name = "file", .type = JOBHOST_PARAM_PATH}, JOBHOST_PARAM_END};
static const jobhost_task_type path_task[] = {
    {.name = "PathTask", .params = path_params, .run = dummy_run},
    JOBHOST_TASK_TYPE_END};
static const jobhost_package no_entry[] = {{.name = "empty"},
                                           JOBHOST_PACKAGE_END};
/* ABI 1.2: the duration type, a range, a pattern, list choices, validate */
static const jobhost_param duration_params[] = {
    {.name = "wait", .type = JOBHOST_PARAM_DURATION}, JOBHOST_PARAM_END};
static const jobhost_task_type duration_task[] = {
    {.name = "WaitTask", .params = duration_params, .run = dummy_run},
    JOBHOST_TASK_TYPE_END};
static const jobhost_param range_params[] = {
    {.name = "repeat",
     .type = JOBHOST_PARAM_INT,
     .default_value = "1",
     .range = JOBHOST_PARAM_RANGE(1, 100)},
    JOBHOST_PARAM_END};
static const jobhost_task_type range_task[] = {
    {.name = "RangeTask", .params = range_params, .run = dummy_run},
    JOBHOST_TASK_TYPE_END};
static const jobhost_param range_default_params[] = {
    {.name = "repeat",
     .type = JOBHOST_PARAM_INT,
     .default_value = "0",
     .range = JOBHOST_PARAM_RANGE(1, 100)},
    JOBHOST_PARAM_END};
static const jobhost_task_type range_default_task[] = {
    {.name = "RangeDefault", .params = range_default_params, .run = dummy_run},
    JOBHOST_TASK_TYPE_END};
static const jobhost_param range_string_params[] = {
    {.name = "s",
     .type = JOBHOST_PARAM_STRING,
     .range = JOBHOST_PARAM_RANGE(1, 2)},
    JOBHOST_PARAM_END};
static const jobhost_task_type range_string_task[] = {
    {.name = "RangeString", .params = range_string_params, .run = dummy_run},
    JOBHOST_TASK_TYPE_END};
static const jobhost_param bad_pattern_params[] = {
    {.name = "s", .type = JOBHOST_PARAM_STRING, .pattern = "a(b"},
    JOBHOST_PARAM_END};
static const jobhost_task_type bad_pattern_task[] = {
    {.name = "BadPattern", .params = bad_pattern_params, .run = dummy_run},
    JOBHOST_TASK_TYPE_END};
static const jobhost_param pattern_default_params[] = {
    {.name = "s",
     .type = JOBHOST_PARAM_STRING,
     .default_value = "Upper",
     .pattern = "[a-z]+"},
    JOBHOST_PARAM_END};
static const jobhost_task_type pattern_default_task[] = {
    {.name = "PatternDefault",
     .params = pattern_default_params,
     .run = dummy_run},
    JOBHOST_TASK_TYPE_END};
static const jobhost_param duration_default_params[] = {
    {.name = "wait", .type = JOBHOST_PARAM_DURATION, .default_value = "5x"},
    JOBHOST_PARAM_END};
static const jobhost_task_type duration_default_task[] = {
    {.name = "DurationDefault",
     .params = duration_default_params,
     .run = dummy_run},
    JOBHOST_TASK_TYPE_END};
static const char *const kinds[] = {"a", "b", NULL};
static const jobhost_param list_choice_params[] = {
    {.name = "kinds", .type = JOBHOST_PARAM_LIST, .choices = kinds},
    JOBHOST_PARAM_END};
static const jobhost_task_type list_choice_task[] = {
    {.name = "ListChoice", .params = list_choice_params, .run = dummy_run},
    JOBHOST_TASK_TYPE_END};
static const jobhost_task_type validate_task[] = {
    {.name = "Checked", .run = dummy_run, .validate = dummy_run},
    JOBHOST_TASK_TYPE_END};
static int dummy_fulfill(jobhost_ctx *ctx, void *state,
                         const jobhost_order *order, char *message,
                         size_t size) {
  (void)ctx, (void)state, (void)order, (void)message, (void)size;
  return 0;
}
static const jobhost_package validate_pkg[] = {
    {.name = "checked", .fulfill_order = dummy_fulfill, .validate = dummy_run},
    JOBHOST_PACKAGE_END};
static const jobhost_param entity_setting[] = {
    {.name = "et", .type = JOBHOST_PARAM_ENTITY_TYPE}, JOBHOST_PARAM_END};
static const jobhost_package entity_setting_pkg[] = {
    {.name = "et", .settings = entity_setting, .fulfill_order = dummy_fulfill},
    JOBHOST_PACKAGE_END};

#define DESC(magic_, major_, minor_, size_, name_, version_, tasks_, pkgs_)    \
  {                                                                            \
    .magic = (magic_), .abi_major = (major_), .abi_minor = (minor_),           \
    .struct_size = (size_), .name = (name_), .version = (version_),            \
    .task_types = (tasks_), .packages = (pkgs_)                                \
  }
#define M JOBHOST_PLUGIN_MAGIC
#define MJ JOBHOST_ABI_MAJOR
#define MN JOBHOST_ABI_MINOR
#define SZ ((uint32_t)sizeof(jobhost_plugin))

static void test_descriptor_rules(void **state) {
  static const struct {
    jobhost_plugin d;
    int code;
    const char *needle;
  } cases[] = {
      {DESC(M, MJ, MN, SZ, "ok", "1", one_task, NULL), 0, ""},
      {DESC(0x12345678u, MJ, MN, SZ, "x", "1", one_task, NULL),
       JOBHOST_EBADMAGIC, "bad magic 0x12345678 (expected 0x4a48504c)"},
      {DESC(M, MJ + 1, 0, SZ, "x", "1", one_task, NULL), JOBHOST_EABI,
       "built for plugin ABI 2.0, host ABI is 1.2 (different major"},
      {DESC(M, MJ, MN + 3, SZ, "x", "1", one_task, NULL), JOBHOST_EABI,
       "built for plugin ABI 1.5, newer than host ABI 1.2"},
      {DESC(M, MJ, MN, 16, "x", "1", one_task, NULL), JOBHOST_EABI,
       "descriptor is 16 bytes, smaller than"},
      {DESC(M, MJ, MN, SZ, NULL, "1", one_task, NULL), JOBHOST_ECONFIG,
       "descriptor has no name"},
      {DESC(M, MJ, MN, SZ, "x", "", one_task, NULL), JOBHOST_ECONFIG,
       "plugin 'x' has no version"},
      {DESC(M, MJ, MN, SZ, "x", "1", NULL, NULL), JOBHOST_ECONFIG,
       "provides no task type and no package"},
      {DESC(M, MJ, MN, SZ, "x", "1", no_run, NULL), JOBHOST_ECONFIG,
       "task type 'NoRun' has no run entry point"},
      {DESC(M, MJ, MN, SZ, "x", "1", twice, NULL), JOBHOST_ECONFIG,
       "task type 'Twice' is declared twice"},
      {DESC(M, MJ, MN, SZ, "x", "1", bad_param, NULL), JOBHOST_ECONFIG,
       "BadParam: parameter 'p' has invalid type 42"},
      {DESC(M, MJ, MN, SZ, "x", "1", bad_enum, NULL), JOBHOST_ECONFIG,
       "enum parameter 'mode' declares no choices"},
      {DESC(M, MJ, MN, SZ, "x", "1", bad_bool, NULL), JOBHOST_ECONFIG,
       "parameter 'flag' has bool default 'yes'"},
      {DESC(M, MJ, 1, SZ, "x", "1", path_task, NULL), 0, ""},
      {DESC(M, MJ, 0, SZ, "x", "1", path_task, NULL), JOBHOST_EABI,
       "PathTask: parameter 'file' of type path needs plugin ABI 1.1, but "
       "the plugin claims 1.0 (define JOBHOST_ABI_MIN_REQUIRED as "
       "JOBHOST_ABI_VERSION(1, 1) or newer)"},
      {DESC(M, MJ, 2, SZ, "x", "1", duration_task, NULL), 0, ""},
      {DESC(M, MJ, 1, SZ, "x", "1", duration_task, NULL), JOBHOST_EABI,
       "WaitTask: parameter 'wait' of type duration needs plugin ABI 1.2, "
       "but the plugin claims 1.1"},
      {DESC(M, MJ, 2, SZ, "x", "1", range_task, NULL), 0, ""},
      {DESC(M, MJ, 1, SZ, "x", "1", range_task, NULL), JOBHOST_EABI,
       "RangeTask: the range of parameter 'repeat' needs plugin ABI 1.2"},
      {DESC(M, MJ, 2, SZ, "x", "1", range_default_task, NULL), JOBHOST_ECONFIG,
       "RangeDefault: parameter 'repeat' has default 0 outside its range"},
      {DESC(M, MJ, 2, SZ, "x", "1", range_string_task, NULL), JOBHOST_ECONFIG,
       "parameter 's' has a range but is not an int"},
      {DESC(M, MJ, 2, SZ, "x", "1", bad_pattern_task, NULL), JOBHOST_ECONFIG,
       "parameter 's' has pattern 'a(b', which is not a POSIX extended"},
      {DESC(M, MJ, 2, SZ, "x", "1", list_choice_task, NULL), 0, ""},
      {DESC(M, MJ, 2, SZ, "x", "1", pattern_default_task, NULL),
       JOBHOST_ECONFIG,
       "parameter 's' has default 'Upper' that does not match its pattern"},
      {DESC(M, MJ, 2, SZ, "x", "1", duration_default_task, NULL),
       JOBHOST_ECONFIG, "parameter 'wait' has duration default '5x'"},
      {DESC(M, MJ, 1, SZ, "x", "1", list_choice_task, NULL), JOBHOST_EABI,
       "ListChoice: the choices of parameter 'kinds' needs plugin ABI 1.2"},
      {DESC(M, MJ, 2, SZ, "x", "1", validate_task, NULL), 0, ""},
      {DESC(M, MJ, 1, SZ, "x", "1", validate_task, NULL), JOBHOST_EABI,
       "Checked: the validate entry point needs plugin ABI 1.2"},
      {DESC(M, MJ, 2, SZ, "x", "1", NULL, validate_pkg), 0, ""},
      {DESC(M, MJ, 0, SZ, "x", "1", NULL, validate_pkg), JOBHOST_EABI,
       "checked: the validate entry point needs plugin ABI 1.2, but the "
       "plugin claims 1.0"},
      {DESC(M, MJ, 2, SZ, "x", "1", NULL, entity_setting_pkg), JOBHOST_ECONFIG,
       "et: setting 'et' has type entity_type, which only a task"},
      {DESC(M, MJ, MN, SZ, "x", "1", NULL, no_entry), JOBHOST_ECONFIG,
       "package 'empty' has neither export_tables nor fulfill_order"},
  };
  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char why[512] = "";
    int rc = jh_descriptor_check(&cases[i].d, why, sizeof(why));
    if (rc != cases[i].code || strstr(why, cases[i].needle) == NULL)
      fail_msg("case %zu: rc=%d (want %d), why='%s' (want '%s')", i, rc,
               cases[i].code, why, cases[i].needle);
  }
}

/* ---- real shared objects in a directory ---- */

static const char *const builtin_names[] = {"export",  "prepare", "synchronize",
                                            "compute", "fulfill", "classify",
                                            "profiles"};

static const jh_refusal *refusal_for(const jh_registry *reg, const char *file) {
  for (size_t i = 0; i < reg->nrefusals; i++) {
    const char *slash = strrchr(reg->refusals[i].path, '/');
    if (strcmp(slash ? slash + 1 : reg->refusals[i].path, file) == 0)
      return &reg->refusals[i];
  }
  return NULL;
}

static int loaded(const jh_registry *reg, const char *name) {
  for (size_t i = 0; i < reg->nplugins; i++)
    if (strcmp(reg->plugins[i].desc->name, name) == 0)
      return 1;
  return 0;
}

static void assert_refused(const jh_registry *reg, const char *dir,
                           const char *file, const char *needle) {
  const jh_refusal *r = refusal_for(reg, file);
  char path[PATH_MAX];
  if (r == NULL)
    fail_msg("%s was not refused", file);
  snprintf(path, sizeof(path), "%s/%s", dir, file);
  assert_string_equal(r->path, path);
  if (strstr(r->reason, needle) == NULL)
    fail_msg("%s: reason '%s' lacks '%s'", file, r->reason, needle);
}

static void test_bad_plugins_beside_good(void **state) {
  char path[PATH_MAX];
  const char *dir = *state;
  jh_registry *reg = NULL;

  for (size_t i = 0; i < 7; i++)
    jh_test_copy_builtin(builtin_names[i], dir);
  jh_test_copy_test_plugin("bad_magic", dir, "bad_magic.so");
  jh_test_copy_test_plugin("other_major", dir, "other_major.so");
  jh_test_copy_test_plugin("newer_minor", dir, "newer_minor.so");
  jh_test_copy_test_plugin("no_descriptor", dir, "no_descriptor.so");
  jh_test_copy_test_plugin("zz_duplicate", dir, "zz_duplicate.so");
  jh_test_copy_test_plugin("good_extra", dir, "good_extra.so");
  jh_test_copy_test_plugin("ctor_crash", dir, "ctor_crash.so");
  jh_test_copy_test_plugin("ctor_exit", dir, "ctor_exit.so");
  snprintf(path, sizeof(path), "%s/garbage.so", dir);
  jh_test_write_file(path, "this is not an ELF file\n", 0644);
  jh_test_copy_file(jh_test_env("JH_SKELETON_SO"), dir, "world_writable.so");
  snprintf(path, sizeof(path), "%s/world_writable.so", dir);
  assert_int_equal(chmod(path, 0666), 0);

  reg = jh_test_registry_in(dir);

  /* Every good plugin loads, in spite of its bad neighbours. */
  for (size_t i = 0; i < 7; i++)
    if (!loaded(reg, builtin_names[i]))
      fail_msg("built-in plugin %s did not load", builtin_names[i]);
  assert_true(loaded(reg, "good_extra"));
  assert_int_equal(reg->nplugins, 8);

  assert_refused(reg, dir, "bad_magic.so",
                 "bad magic 0xdeadbeef (expected 0x4a48504c)");
  assert_refused(reg, dir, "other_major.so",
                 "built for plugin ABI 2.0, host ABI is 1.2");
  assert_refused(reg, dir, "newer_minor.so",
                 "built for plugin ABI 1.9, newer than host ABI 1.2");
  assert_refused(reg, dir, "no_descriptor.so",
                 "no jobhost_plugin_descriptor symbol");
  assert_refused(reg, dir, "zz_duplicate.so",
                 "task type 'ExportTask' is already provided by plugin "
                 "'export'");
  assert_refused(reg, dir, "garbage.so", "not a shared object");
  assert_refused(reg, dir, "world_writable.so",
                 "is writable by others (mode 0666)");
  /* Constructors run at load: a plugin that crashes or exits there is
   * refused, and the host is still here to say so. */
  assert_refused(reg, dir, "ctor_crash.so", "crashed while loading (signal 11");
  assert_refused(reg, dir, "ctor_exit.so",
                 "ended the process while loading (exit status 0)");
  assert_int_equal(reg->nrefusals, 9);

  /* The registry resolves names to the accepted plugins only. */
  {
    const jh_plugin *owner = NULL;
    const jobhost_task_type *t = jh_registry_task_type(reg, "ExportTask",
                                                       &owner);
    assert_non_null(t);
    assert_string_equal(owner->desc->name, "export");
    assert_null(jh_registry_task_type(reg, "BadMagicTask", NULL));
    assert_null(jh_registry_task_type(reg, "OtherMajorTask", NULL));
    assert_non_null(jh_registry_task_type(reg, "GoodExtraTask", NULL));
  }
  jh_registry_free(reg);
}

/* A constructor that never returns: the probe is killed when its time is
 * up, the plugin refused with the reason, and its neighbours still load. */
static void test_hanging_constructor(void **state) {
  const char *dir = *state;
  jh_registry *reg = NULL;

  jh_test_copy_builtin(builtin_names[0], dir);
  jh_test_copy_test_plugin("ctor_hang", dir, "ctor_hang.so");
  jh_test_copy_test_plugin("good_extra", dir, "good_extra.so");
  assert_int_equal(setenv("JOBHOST_PLUGIN_PROBE_TIMEOUT_MS", "300", 1), 0);
  reg = jh_test_registry_in(dir);
  assert_int_equal(unsetenv("JOBHOST_PLUGIN_PROBE_TIMEOUT_MS"), 0);
  assert_true(loaded(reg, builtin_names[0]));
  assert_true(loaded(reg, "good_extra"));
  assert_false(loaded(reg, "ctor_hang"));
  assert_refused(reg, dir, "ctor_hang.so",
                 "did not finish loading within 300 ms");
  assert_int_equal(reg->nrefusals, 1);
  jh_registry_free(reg);
}

static void test_world_writable_directory(void **state) {
  const char *dir = *state;
  jh_registry *reg = NULL;

  jh_test_copy_test_plugin("good_extra", dir, "good_extra.so");
  assert_int_equal(chmod(dir, 0777), 0);
  reg = jh_test_registry_in(dir);
  assert_int_equal(reg->nplugins, 0);
  assert_int_equal(reg->nrefusals, 1);
  assert_string_equal(reg->refusals[0].path, dir);
  assert_non_null(strstr(reg->refusals[0].reason,
                         "plugin directory is writable by others (mode 0777)"));
  jh_registry_free(reg);
}

static void test_missing_and_repeated_dirs(void **state) {
  char missing[PATH_MAX];
  const char *dirs[3];
  const char *dir = *state;
  jh_registry *reg = NULL;

  jh_test_copy_test_plugin("good_extra", dir, "good_extra.so");
  snprintf(missing, sizeof(missing), "%s/none", dir);
  dirs[0] = missing;
  dirs[1] = dir;
  dirs[2] = dir; /* the same directory twice is scanned once */
  assert_int_equal(jh_registry_load(dirs, 3, &reg), 0);
  assert_int_equal(reg->nplugins, 1);
  assert_int_equal(reg->nrefusals, 0);
  assert_int_equal(reg->ndirs, 3);
  jh_registry_free(reg);
}

static void test_search_path(void **state) {
  char **v = NULL;
  size_t n = 0;
  const char *const cli[2] = {"/a", "/b"};
  (void)state;

  /* --plugin-dir wins over the environment. */
  assert_int_equal(setenv("JOBHOST_PLUGIN_PATH", "/env", 1), 0);
  assert_int_equal(jh_plugin_dirs(cli, 2, &v, &n), 0);
  assert_int_equal(n, 2);
  assert_string_equal(v[0], "/a");
  assert_string_equal(v[1], "/b");
  jh_strv_free(v, n);

  /* An empty entry in JOBHOST_PLUGIN_PATH stands for the default. */
  assert_int_equal(setenv("JOBHOST_PLUGIN_PATH", "/x::/y", 1), 0);
  assert_int_equal(jh_plugin_dirs(NULL, 0, &v, &n), 0);
  assert_int_equal(n, 3);
  assert_string_equal(v[0], "/x");
  assert_string_equal(v[1], jh_default_plugin_dir());
  assert_string_equal(v[2], "/y");
  jh_strv_free(v, n);

  assert_int_equal(unsetenv("JOBHOST_PLUGIN_PATH"), 0);
  assert_int_equal(jh_plugin_dirs(NULL, 0, &v, &n), 0);
  assert_int_equal(n, 1);
  assert_string_equal(v[0], jh_default_plugin_dir());
  jh_strv_free(v, n);
}

static void test_strerror(void **state) {
  (void)state;
  assert_string_equal(jobhost_strerror(0), "success");
  assert_string_equal(jobhost_strerror(JOBHOST_ENOTIMPL), "not implemented");
  assert_string_equal(jobhost_strerror(-ENOENT), strerror(ENOENT));
  assert_string_equal(jobhost_strerror(-999999), "unknown error");
}

/* Each test of a folder of plugins gets a fresh one. */
static int setup(void **state) {
  *state = jh_test_fixture(PATH_MAX, PATH_MAX);
  return 0;
}

#define T(fn)                                                                  \
  cmocka_unit_test_setup_teardown(fn, setup, jh_test_teardown_fixture)

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_descriptor_rules),
      T(test_bad_plugins_beside_good),
      T(test_hanging_constructor),
      T(test_world_writable_directory),
      T(test_missing_and_repeated_dirs),
      cmocka_unit_test(test_search_path),
      cmocka_unit_test(test_strerror),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
