/*
 * test_skeleton.c — the skeleton's unit test, on the test kit
 * (jobhost/testkit.h, pkg-config jobhost-testkit): the plugin is linked
 * in and runs in this process with the host's own services, ExportTask
 * and FulfillTask. Copy it with the skeleton and keep it growing with
 * your plugin. No test framework: each failed check prints its line, and
 * the exit status is 1 when any failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jobhost/testkit.h>

/* The plugin under test, linked in (skeleton.c). */
extern const jobhost_plugin jobhost_plugin_descriptor;

static int failures;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      failures++;                                                              \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

static int same(const char *a, const char *b) {
  return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static jobhost_testkit *new_kit(void) {
  jobhost_testkit *kit = NULL;
  if (jobhost_testkit_new(&kit) != 0 ||
      jobhost_testkit_add_plugin(kit, &jobhost_plugin_descriptor) != 0) {
    fprintf(stderr, "test kit: %s\n",
            kit ? jobhost_testkit_error(kit) : "cannot start");
    exit(1);
  }
  return kit;
}

/* The task type: a greeting written `repeat` times, counted. */
static void test_task(void) {
  jobhost_testkit *kit = new_kit();
  int64_t greetings = 0;
  uint64_t done = 0, total = 0;
  jobhost_testkit_param(kit, "greeting", "hi");
  jobhost_testkit_param(kit, "repeat", "3");
  CHECK(jobhost_testkit_run(kit, "SkeletonTask") == 0);
  CHECK(jobhost_testkit_log_find(kit, "hi (1/3)") != NULL);
  CHECK(jobhost_testkit_log_find(kit, "hi (3/3)") != NULL);
  CHECK(jobhost_testkit_log_find(kit, "hi (4/3)") == NULL);
  CHECK(jobhost_testkit_counter(kit, "greetings", &greetings) == 0 &&
        greetings == 3);
  jobhost_testkit_progress(kit, &done, &total);
  CHECK(done == 3 && total == 3);
  CHECK(jobhost_testkit_produced_output(kit) == 1);

  /* the default greeting, and a repeat out of bounds */
  jobhost_testkit_clear_params(kit);
  CHECK(jobhost_testkit_run(kit, "SkeletonTask") == 0);
  CHECK(jobhost_testkit_log_find(kit, "hello (1/1)") != NULL);
  jobhost_testkit_param(kit, "repeat", "101");
  CHECK(jobhost_testkit_run(kit, "SkeletonTask") == JOBHOST_ECONFIG);
  CHECK(same(jobhost_testkit_message(kit), "repeat must be between 1 and 100"));
  jobhost_testkit_free(kit);
}

/* The package's export: a row a value of the setting `lines`. */
static void test_export(void) {
  jobhost_testkit *kit = new_kit();
  int64_t rows = 0;
  jobhost_testkit_setting(kit, "lines", "red,green,blue");
  CHECK(jobhost_testkit_export(kit, "skeleton") == 0);
  CHECK(jobhost_testkit_table_count(kit) == 1);
  CHECK(same(jobhost_testkit_table_name(kit, 0), "skeleton_entries"));
  CHECK(jobhost_testkit_rows(kit, "skeleton_entries") == 3);
  CHECK(same(jobhost_testkit_cell(kit, "skeleton_entries", 0, "value"), "red"));
  CHECK(
      same(jobhost_testkit_cell(kit, "skeleton_entries", 2, "value"), "blue"));
  CHECK(jobhost_testkit_counter(kit, "rows", &rows) == 0 && rows == 3);

  /* without its required setting, the export does not start */
  jobhost_testkit_setting(kit, "lines", NULL);
  CHECK(jobhost_testkit_export(kit, "skeleton") != 0);
  CHECK(jobhost_testkit_table_count(kit) == 0);
  jobhost_testkit_free(kit);
}

/* The package's fulfill: Added and Modified accepted, Deleted refused. */
static void test_fulfill(void) {
  jobhost_testkit *kit = new_kit();
  const char *why = NULL;
  jobhost_testkit_setting(kit, "lines", "red");
  CHECK(jobhost_testkit_fulfill(
            kit, "skeleton", "value",
            "[{\"ChangeType\": \"Added\", \"Changes\": {\"value\": \"red\"}},"
            " {\"ChangeType\": \"Deleted\", \"Resource\": {\"value\": "
            "\"red\"}}]") == 0);
  CHECK(jobhost_testkit_order_count(kit) == 2);
  CHECK(jobhost_testkit_order_result(kit, 0, NULL) == 0);
  CHECK(jobhost_testkit_order_result(kit, 1, &why) == -1);
  CHECK(same(why, "the skeleton cannot delete"));
  jobhost_testkit_free(kit);
}

int main(void) {
  test_task();
  test_export();
  test_fulfill();
  if (failures > 0)
    fprintf(stderr, "test_skeleton: %d checks failed\n", failures);
  return failures > 0;
}
