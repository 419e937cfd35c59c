/*
 * test_grown_host.c — the next minor, rehearsed: this program and its own
 * copy of the loader are built against today's headers with one member
 * appended to jobhost_plugin (tests/sdk/local.mk makes that plugin.h). Such
 * a host must still accept a plugin built for ABI 1.0: the least it
 * accepts is the frozen 1.0 size, not the size of its own descriptor.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "loader.h"
#include "harness.h"

static void test_headers_are_grown(void **state) {
  (void)state;
  assert_true(offsetof(jobhost_plugin, appended_by_test) ==
              JOBHOST_PLUGIN_SIZE_1_0);
  assert_true(sizeof(jobhost_plugin) > JOBHOST_PLUGIN_SIZE_1_0);
}

static void test_grown_host_accepts_abi10_plugin(void **state) {
  char dir[256], src[4096];
  const char *dirs[1];
  jh_registry *reg = NULL;
  (void)state;

  jh_test_mkdtemp(dir, sizeof(dir));
  snprintf(src, sizeof(src), "%s/abi10_counter.so",
           jh_test_env("JH_SDK_PLUGIN_DIR"));
  jh_test_copy_file(src, dir, "abi10_counter.so");
  dirs[0] = dir;
  assert_int_equal(jh_registry_load(dirs, 1, &reg), 0);
  for (size_t i = 0; i < reg->nrefusals; i++)
    fail_msg("refused %s: %s", reg->refusals[i].path, reg->refusals[i].reason);
  assert_non_null(jh_registry_task_type(reg, "Abi10CounterTask", NULL));
  jh_registry_free(reg);
  jh_test_rmtree(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_headers_are_grown),
      cmocka_unit_test(test_grown_host_accepts_abi10_plugin),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
