/*
 * test_sdk.c — the SDK keeps its promises to plugins already built:
 *   - a plugin built against the ABI 1.0 headers alone is accepted by
 *     today's loader and its task runs in `jobhost run`;
 *   - so is a plugin built against the ABI 1.1 headers alone, and one
 *     built against today's headers that targets ABI 1.0
 *     (JOBHOST_ABI_MIN_REQUIRED), whose descriptor says 1.0;
 *   - the frozen ABI sizes are the 1.0 layout (as the 1.0 plugin itself
 *     measured it);
 *   - a descriptor larger than the host's is accepted when its minor is
 *     one the host knows, and refused with a reason when the minor is newer;
 *   - jobhost-sdk.pc names the ABI of the headers and the skeleton folder
 *     the README sends authors to.
 */
#include "config.h"

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
#include <jansson.h>

#include "loader.h"
#include "harness_host.h"

/* ---- the ABI 1.0 plugin ---- */

static void copy_abi10_plugin(const char *dir) {
  char src[4096];
  snprintf(src, sizeof(src), "%s/abi10_counter.so",
           jh_test_env("JH_SDK_PLUGIN_DIR"));
  jh_test_copy_file(src, dir, "abi10_counter.so");
}

static void test_abi10_plugin_is_accepted(void **state) {
  char dir[256];
  jh_registry *reg;
  const jh_plugin *owner = NULL;
  (void)state;

  jh_test_mkdtemp(dir, sizeof(dir));
  copy_abi10_plugin(dir);
  reg = jh_test_registry_in(dir);
  jh_test_assert_no_refusals(reg);
  assert_int_equal(reg->nplugins, 1);
  assert_non_null(jh_registry_task_type(reg, "Abi10CounterTask", &owner));
  assert_int_equal(owner->desc->abi_major, 1);
  assert_int_equal(owner->desc->abi_minor, 0);
  /* What the 1.0 plugin measured is what the frozen numbers say. */
  assert_int_equal(owner->desc->struct_size, JOBHOST_PLUGIN_SIZE_1_0);
  assert_int_equal(owner->desc->struct_size,
                   (sizeof(void *) == 8 ? 184u : 96u));
  jh_registry_free(reg);
  jh_test_rmtree(dir);
}

static const char abi10_pipeline[] =
    "version: 1\n"
    "job:\n"
    "  id: Job_Abi10\n"
    "  tasks:\n"
    "    - {id: Count, type: Abi10CounterTask, step: 7}\n";

static void test_abi10_plugin_runs(void **state) {
  jh_test_jobhost j;
  char plugins[300], *err = NULL;
  json_t *r, *task;
  int rc;
  (void)state;

  jh_test_jobhost_open(&j, NULL);
  jh_test_path(plugins, sizeof(plugins), "%s/plugins", j.dir);
  assert_int_equal(mkdir(plugins, 0700), 0);
  copy_abi10_plugin(plugins);
  j.plugin_dirs[j.nplugin_dirs++] = plugins;
  jh_test_jobhost_pipeline(&j, abi10_pipeline);

  rc = jh_test_jobhost_run(&j, NULL, &err, "run", j.pipeline, NULL);
  if (rc != 0)
    fail_msg("jobhost run exited %d: %s", rc, err);
  r = jh_test_report_load(j.report);
  task = json_array_get(json_object_get(r, "tasks"), 0);
  assert_string_equal(json_string_value(json_object_get(task, "id")), "Count");
  assert_string_equal(json_string_value(json_object_get(task, "state")),
                      "Succeeded");
  assert_string_equal(json_string_value(json_object_get(task, "message")),
                      "counted 7");
  assert_int_equal(jh_test_counter(task, "runs"), 7);
  assert_int_equal(jh_test_counter(task, "abi_minor_built"), 0);
  json_decref(r);
  free(err);
  jh_test_jobhost_close(&j);
}

/* ---- the ABI 1.1 plugin, and one that targets 1.0 (ABI 1.2) ---- */

/* Copy plugin `name` (a .so of tests/sdk) into a new plugins folder of j
 * and run `pipeline` with it: the report's first task. */
static json_t *run_sdk_plugin(jh_test_jobhost *j, const char *name,
                              const char *pipeline) {
  char plugins[300], src[4096], so[256], *err = NULL;
  json_t *r;
  int rc;

  jh_test_jobhost_open(j, NULL);
  jh_test_path(plugins, sizeof(plugins), "%s/plugins", j->dir);
  assert_int_equal(mkdir(plugins, 0700), 0);
  snprintf(so, sizeof(so), "%s.so", name);
  snprintf(src, sizeof(src), "%s/%s", jh_test_env("JH_SDK_PLUGIN_DIR"), so);
  jh_test_copy_file(src, plugins, so);
  j->plugin_dirs[j->nplugin_dirs++] = plugins;
  jh_test_jobhost_pipeline(j, pipeline);
  rc = jh_test_jobhost_run(j, NULL, &err, "run", j->pipeline, NULL);
  if (rc != 0)
    fail_msg("jobhost run exited %d: %s", rc, err);
  free(err);
  r = jh_test_report_load(j->report);
  return r;
}

/* The descriptor of plugin `name` of tests/sdk, as the loader read it. */
static void sdk_descriptor(const char *name, unsigned *minor, uint32_t *size) {
  char dir[256], src[4096], so[256];
  jh_registry *reg;
  jh_test_mkdtemp(dir, sizeof(dir));
  snprintf(so, sizeof(so), "%s.so", name);
  snprintf(src, sizeof(src), "%s/%s", jh_test_env("JH_SDK_PLUGIN_DIR"), so);
  jh_test_copy_file(src, dir, so);
  reg = jh_test_registry_in(dir);
  jh_test_assert_no_refusals(reg);
  assert_int_equal(reg->nplugins, 1);
  *minor = reg->plugins[0].desc->abi_minor;
  *size = reg->plugins[0].desc->struct_size;
  jh_registry_free(reg);
  jh_test_rmtree(dir);
}

static void test_abi11_plugin_runs(void **state) {
  jh_test_jobhost j;
  json_t *r, *task;
  unsigned minor;
  uint32_t size;
  (void)state;

  sdk_descriptor("abi11_reader", &minor, &size);
  assert_int_equal(minor, 1);
  assert_int_equal(size, JOBHOST_PLUGIN_SIZE_1_0); /* 1.1 appended nothing */
  r = run_sdk_plugin(&j, "abi11_reader",
                     "version: 1\n"
                     "job:\n"
                     "  id: Job_Abi11\n"
                     "  tasks:\n"
                     "    - {id: Read, type: Abi11ReaderTask, file: x.txt}\n");
  task = jh_test_report_task(r, "Read");
  assert_string_equal(json_string_value(json_object_get(task, "state")),
                      "Succeeded");
  assert_int_equal(jh_test_counter(task, "abi_minor_built"), 1);
  assert_int_equal(jh_test_counter(task, "has_host_object"), 1);
  assert_int_equal(jh_test_counter(task, "no_package"), 1);
  assert_int_equal(jh_test_counter(task, "task_instance_set"), 1);
  assert_int_equal(jh_test_counter(task, "absolute_path"), 1);
  json_decref(r);
  jh_test_jobhost_close(&j);
}

static void test_abi10_target(void **state) {
  jh_test_jobhost j;
  json_t *r, *task;
  unsigned minor;
  uint32_t size;
  (void)state;

  /* built with today's headers, it claims 1.0: a 1.0 host accepts it */
  sdk_descriptor("abi10_target", &minor, &size);
  assert_int_equal(minor, 0);
  assert_int_equal(size, (uint32_t)sizeof(jobhost_plugin));
  r = run_sdk_plugin(&j, "abi10_target",
                     "version: 1\n"
                     "job:\n"
                     "  id: Job_Abi10_Target\n"
                     "  tasks:\n"
                     "    - {id: Target, type: Abi10TargetTask}\n");
  task = jh_test_report_task(r, "Target");
  assert_string_equal(json_string_value(json_object_get(task, "message")),
                      "targets 1.0");
  assert_int_equal(jh_test_counter(task, "target_minor"), 0);
  assert_int_equal(jh_test_counter(task, "headers_minor"), JOBHOST_ABI_MINOR);
  json_decref(r);
  jh_test_jobhost_close(&j);
}

/* ---- a descriptor larger than the host's ---- */

static int dummy_run(jobhost_ctx *ctx) {
  (void)ctx;
  return 0;
}

static const jobhost_task_type one_task[] = {
    {.name = "GrownTask", .run = dummy_run}, JOBHOST_TASK_TYPE_END};

/* The host's descriptor followed by members it does not know. */
typedef struct grown_descriptor {
  jobhost_plugin known;
  void *appended[4];
} grown_descriptor;

static void test_larger_descriptor(void **state) {
  grown_descriptor g = {
      .known = {.magic = JOBHOST_PLUGIN_MAGIC,
                .abi_major = JOBHOST_ABI_MAJOR,
                .abi_minor = JOBHOST_ABI_MINOR,
                .struct_size = (uint32_t)sizeof(grown_descriptor),
                .name = "grown",
                .version = "1",
                .task_types = one_task}};
  char why[512] = "";
  (void)state;

  /* A minor the host knows: the host reads the members it knows. */
  assert_int_equal(jh_descriptor_check(&g.known, why, sizeof(why)), 0);
  /* A newer minor (the members were appended by it): refused, saying so. */
  g.known.abi_minor = JOBHOST_ABI_MINOR + 1;
  assert_int_equal(jh_descriptor_check(&g.known, why, sizeof(why)),
                   JOBHOST_EABI);
  assert_non_null(strstr(why, "newer than host ABI"));
  /* One byte short of 1.0: refused, naming the 1.0 size. */
  g.known.abi_minor = 0;
  g.known.struct_size = JOBHOST_PLUGIN_SIZE_1_0 - 1;
  assert_int_equal(jh_descriptor_check(&g.known, why, sizeof(why)),
                   JOBHOST_EABI);
  assert_non_null(strstr(why, "smaller than the"));
}

/* ---- jobhost-sdk.pc ---- */

/* Value of `key=` or `key:` in the .pc text, into buf ("" when absent). */
static const char *pc_field(const char *pc, const char *key, char *buf,
                            size_t size) {
  size_t klen = strlen(key);
  buf[0] = '\0';
  for (const char *line = pc; line != NULL && *line != '\0';) {
    const char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) : strlen(line);
    if (len > klen && strncmp(line, key, klen) == 0 &&
        (line[klen] == '=' || line[klen] == ':')) {
      const char *v = line + klen + 1;
      while (*v == ' ')
        v++;
      snprintf(buf, size, "%.*s", (int)(len - (size_t)(v - line)), v);
      break;
    }
    line = nl ? nl + 1 : NULL;
  }
  return buf;
}

static void test_pc_names_the_abi(void **state) {
  char path[4096], buf[256], want[64];
  char *pc;
  (void)state;

  snprintf(path, sizeof(path), "%s/sdk/jobhost-sdk.pc",
           jh_test_env("JH_TOP_BUILDDIR"));
  pc = jh_test_read_file(path);
  snprintf(want, sizeof(want), "%d", JOBHOST_ABI_MAJOR);
  assert_string_equal(pc_field(pc, "abi_major", buf, sizeof(buf)), want);
  snprintf(want, sizeof(want), "%d", JOBHOST_ABI_MINOR);
  assert_string_equal(pc_field(pc, "abi_minor", buf, sizeof(buf)), want);
  snprintf(want, sizeof(want), "(ABI %d.%d)", JOBHOST_ABI_MAJOR,
           JOBHOST_ABI_MINOR);
  if (strstr(pc_field(pc, "Description", buf, sizeof(buf)), want) == NULL)
    fail_msg("Description '%s' does not name %s", buf, want);
  free(pc);
}

static void test_readme_names_installed_skeleton(void **state) {
  char path[4096], buf[256];
  char *pc, *readme;
  (void)state;

  snprintf(path, sizeof(path), "%s/sdk/jobhost-sdk.pc",
           jh_test_env("JH_TOP_BUILDDIR"));
  pc = jh_test_read_file(path);
  snprintf(path, sizeof(path), "%s/sdk/skeleton/README.md",
           jh_test_env("JH_TOP_SRCDIR"));
  readme = jh_test_read_file(path);
  /* The README copies from the folder the .pc file names, which
   * `make install` fills (sdk/local.mk; checked by make installcheck). */
  assert_non_null(strstr(readme, "pkg-config --variable=skeletondir"));
  assert_string_equal(pc_field(pc, "skeletondir", buf, sizeof(buf)),
                      "${datadir}/jobhost/skeleton");
  assert_null(strstr(readme, "/usr/share/doc/"));
  free(readme);
  free(pc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_abi10_plugin_is_accepted),
      cmocka_unit_test(test_abi10_plugin_runs),
      cmocka_unit_test(test_abi11_plugin_runs),
      cmocka_unit_test(test_abi10_target),
      cmocka_unit_test(test_larger_descriptor),
      cmocka_unit_test(test_pc_names_the_abi),
      cmocka_unit_test(test_readme_names_installed_skeleton),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
