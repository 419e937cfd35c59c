/*
 * test_cli.c — the jobhost program's contract: --help, --version, exit
 * statuses, and `jobhost plugins` in text and JSON.
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

#include "harness_host.h"

static void test_version_and_help(void **state) {
  char *out, *err;
  (void)state;
  assert_int_equal(jh_test_jobhost_bare(&out, &err, "--version", NULL), 0);
  assert_non_null(strstr(out, "jobhost " PACKAGE_VERSION " (plugin ABI 1.2)"));
  free(out);
  free(err);
  assert_int_equal(jh_test_jobhost_bare(&out, &err, "--help", NULL), 0);
  assert_non_null(strstr(out, "Usage: jobhost COMMAND"));
  assert_non_null(strstr(out, "plugins"));
  assert_non_null(strstr(out, "3 blocked"));
  free(out);
  free(err);
}

static void test_usage_errors_exit_2(void **state) {
  char *out, *err;
  (void)state;
  assert_int_equal(jh_test_jobhost_bare(&out, &err, NULL), 2);
  free(out);
  free(err);
  assert_int_equal(jh_test_jobhost_bare(&out, &err, "frobnicate", NULL), 2);
  assert_non_null(strstr(err, "unknown command 'frobnicate'"));
  free(out);
  free(err);
  assert_int_equal(jh_test_jobhost_bare(&out, &err, "plugins", "--bogus", NULL),
                   2);
  free(out);
  free(err);
  assert_int_equal(jh_test_jobhost_bare(&out, &err, "plugins", "extra", NULL),
                   2);
  assert_non_null(strstr(err, "unexpected argument 'extra'"));
  free(out);
  free(err);
}

/* An empty file or folder option is a usage error naming the option, not
 * a silent fall back to a default ($JOBHOST_HOME, the plugin path,
 * stdout). JOBHOST_HOME points at a scratch folder, so a fallback would
 * succeed there and be seen. */
static void test_empty_path_options(void **state) {
  static const char *const cases[][7] = {
      {"history", "--home", "", NULL},
      {"show", "--home=", "1", NULL},
      {"cancel", "--home", "", "1", NULL},
      {"resume", "--home", "", "1", NULL},
      {"run", "--home", "", "x.yaml", NULL},
      {"run", "--report", "", "x.yaml", NULL},
      {"run", "--plugin-dir", "", "x.yaml", NULL},
      {"validate", "--plugin-dir", "", "x.yaml", NULL},
      {"validate", "--allow-include", "", "x.yaml", NULL},
      {"run", "--allow-include=", "x.yaml", NULL},
      {"steps", "--plugin-dir=", "x.yaml", NULL},
      {"plugins", "--plugin-dir", "", NULL},
      {"import-xml", "-o", "", "x.xml", NULL},
      {"import-xml", "--plugin-dir", "", "x.xml", NULL},
  };
  char home[PATH_MAX];
  (void)state;
  jh_test_mkdtemp(home, sizeof(home));
  setenv("JOBHOST_HOME", home, 1);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const char *argv[8] = {jh_test_env("JH_JOBHOST")};
    char *out = NULL, *err = NULL, needle[64];
    const char *opt = cases[i][1];
    int rc;
    for (size_t k = 0; cases[i][k] != NULL; k++)
      argv[k + 1] = cases[i][k];
    rc = jh_test_run(argv, &out, &err);
    snprintf(needle, sizeof(needle), "%.*s needs ", (int)strcspn(opt, "="),
             opt);
    if (rc != 2 || strstr(err, needle) == NULL ||
        strstr(err, "empty value") == NULL)
      fail_msg("%s %s '': rc %d, stderr: %s", cases[i][0], opt, rc, err);
    free(out);
    free(err);
  }
  unsetenv("JOBHOST_HOME");
  jh_test_rmtree(home);
}

static void test_plugins_json(void **state) {
  char *out, *err;
  json_error_t jerr;
  json_t *root, *plugins, *pl;
  size_t i, ntasks = 0;
  (void)state;

  assert_int_equal(
      jh_test_jobhost_bare(&out, &err, "plugins", "--json", "--plugin-dir",
                           jh_test_env("JH_BUILTIN_PLUGIN_DIR"), NULL),
      0);
  root = json_loads(out, 0, &jerr);
  if (root == NULL)
    fail_msg("invalid JSON at line %d: %s", jerr.line, jerr.text);
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(root, "host"), "abi")),
      "1.2");
  plugins = json_object_get(root, "plugins");
  /* 7 plugins of task types + the packages csv, ldif and ldap */
  assert_int_equal(json_array_size(plugins), 10);
  json_array_foreach(plugins, i, pl) {
    json_t *tasks = json_object_get(pl, "task_types"), *t;
    size_t j;
    assert_string_equal(json_string_value(json_object_get(pl, "abi")), "1.2");
    assert_non_null(strstr(json_string_value(json_object_get(pl, "file")),
                           json_string_value(json_object_get(pl, "name"))));
    json_array_foreach(tasks, j, t) {
      const char *name = json_string_value(json_object_get(t, "name"));
      /* synchronization, compute, classification and profiles are
       * implemented */
      if (strcmp(name, "SynchronizeTask") == 0 ||
          strcmp(name, "ExportTask") == 0 ||
          strcmp(name, "PrepareSynchronizationTask") == 0 ||
          strcmp(name, "ComputeRoleModelTask") == 0 ||
          strcmp(name, "UpdateClassificationTask") == 0 ||
          strcmp(name, "SetInternalUserProfilesTask") == 0)
        assert_true(json_is_true(json_object_get(t, "implemented")));
      else
        assert_true(json_is_boolean(json_object_get(t, "implemented")));
      assert_true(json_is_array(json_object_get(t, "parameters")));
      ntasks++;
    }
  }
  assert_int_equal(ntasks, 11);
  assert_int_equal(json_array_size(json_object_get(root, "refused")), 0);
  json_decref(root);
  free(out);
  free(err);
}

static void test_plugins_text_with_refusal(void **state) {
  char dir[256], path[PATH_MAX], *out, *err;
  (void)state;

  jh_test_mkdtemp(dir, sizeof(dir));
  jh_test_copy_builtin("export", dir);
  snprintf(path, sizeof(path), "%s/junk.so", dir);
  jh_test_write_file(path, "junk", 0644);
  assert_int_equal(jh_test_jobhost_bare(&out, &err, "plugins", "--plugin-dir",
                                        dir, NULL),
                   0);
  assert_non_null(strstr(out, "task type ExportTask\n")); /* implemented */
  assert_non_null(strstr(out, "ignore_cookie_file"));
  assert_non_null(strstr(out, "refused:"));
  assert_non_null(strstr(out, path));
  assert_non_null(strstr(out, "not a shared object"));
  free(out);
  free(err);
  jh_test_rmtree(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_version_and_help),
      cmocka_unit_test(test_usage_errors_exit_2),
      cmocka_unit_test(test_empty_path_options),
      cmocka_unit_test(test_plugins_json),
      cmocka_unit_test(test_plugins_text_with_refusal),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
