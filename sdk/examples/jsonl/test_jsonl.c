/*
 * test_jsonl.c — the jsonl package's unit test, on the test kit
 * (jobhost/testkit.h): the package runs in this process under the host's
 * own ExportTask and FulfillTask. No test framework: each failed check
 * prints its line, and the exit status is 1 when any failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jobhost/testkit.h>

/* The package under test, linked in (jsonl.c). */
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

static int contains(const char *text, const char *part) {
  return text != NULL && strstr(text, part) != NULL;
}

static void write_file(const jobhost_testkit *kit, const char *name,
                       const char *text) {
  char path[4096];
  FILE *f;
  snprintf(path, sizeof(path), "%s/%s", jobhost_testkit_dir(kit), name);
  f = fopen(path, "w");
  if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(1);
  }
}

/* The whole file, or "" (static buffer). */
static const char *read_file(const jobhost_testkit *kit, const char *name) {
  static char text[4096];
  char path[4096];
  FILE *f;
  size_t n = 0;
  snprintf(path, sizeof(path), "%s/%s", jobhost_testkit_dir(kit), name);
  f = fopen(path, "r");
  if (f != NULL) {
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
  }
  text[n] = '\0';
  return text;
}

/* A kit with the package and a connection on people.jsonl. */
static jobhost_testkit *new_kit(void) {
  static const char *const columns[] = {"id", "name", "mail"};
  jobhost_testkit *kit = NULL;
  if (jobhost_testkit_new(&kit) != 0 ||
      jobhost_testkit_add_plugin(kit, &jobhost_plugin_descriptor) != 0 ||
      jobhost_testkit_setting(kit, "path", "people.jsonl") != 0 ||
      jobhost_testkit_setting_list(kit, "columns", columns, 3) != 0) {
    fprintf(stderr, "test kit: %s\n",
            kit ? jobhost_testkit_error(kit) : "cannot start");
    exit(1);
  }
  return kit;
}

static void test_export(void) {
  jobhost_testkit *kit = new_kit();
  const char *t = "TestConnection"; /* the table is named after it */
  int64_t rows = 0;
  write_file(
      kit, "people.jsonl",
      "{\"id\": \"ann\", \"name\": \"Ann\", \"mail\": \"ann@example.org\","
      " \"age\": 41}\n"
      "{\"name\": null, \"id\": \"bob\"}");
  CHECK(jobhost_testkit_export(kit, "jsonl") == 0);
  CHECK(jobhost_testkit_table_count(kit) == 1);
  CHECK(same(jobhost_testkit_table_name(kit, 0), t));
  CHECK(jobhost_testkit_rows(kit, t) == 2);
  CHECK(same(jobhost_testkit_cell(kit, t, 0, "id"), "ann"));
  CHECK(same(jobhost_testkit_cell(kit, t, 0, "mail"), "ann@example.org"));
  CHECK(jobhost_testkit_cell(kit, t, 0, "age") == NULL); /* not a column */
  CHECK(same(jobhost_testkit_cell(kit, t, 1, "id"), "bob"));
  CHECK(same(jobhost_testkit_cell(kit, t, 1, "name"), ""));
  CHECK(same(jobhost_testkit_cell(kit, t, 1, "mail"), ""));
  CHECK(jobhost_testkit_counter(kit, "rows", &rows) == 0 && rows == 2);
  jobhost_testkit_free(kit);
}

/* A line that breaks the format fails the export at file:line:column,
 * and no table is published. */
static void test_export_refused(void) {
  jobhost_testkit *kit = new_kit();
  write_file(kit, "people.jsonl",
             "{\"id\": \"ann\"}\n{\"id\": \"bob\", \"name\": 7}\n");
  CHECK(jobhost_testkit_export(kit, "jsonl") != 0);
  CHECK(contains(jobhost_testkit_message(kit),
                 "people.jsonl:2:1: expected strings, a key"));
  CHECK(jobhost_testkit_table_count(kit) == 0);

  write_file(kit, "people.jsonl", "{\"name\": \"no key\"}\n");
  CHECK(jobhost_testkit_export(kit, "jsonl") != 0);
  CHECK(contains(jobhost_testkit_message(kit),
                 "people.jsonl:1:1: expected strings, a key"));

  write_file(kit, "people.jsonl", "{\"id\": \"ann\"}\n{\"id\": \"bob\",\n");
  CHECK(jobhost_testkit_export(kit, "jsonl") != 0);
  CHECK(contains(jobhost_testkit_message(kit), "people.jsonl:2:"));
  CHECK(jobhost_testkit_table_count(kit) == 0);

  jobhost_testkit_setting(kit, "path", "absent.jsonl");
  CHECK(jobhost_testkit_export(kit, "jsonl") != 0);
  CHECK(contains(jobhost_testkit_message(kit),
                 "absent.jsonl: No such file or directory"));
  jobhost_testkit_free(kit);
}

/* Orders rewrite the file: Added, Modified and Deleted act, the object of
 * an order goes last; a member of two values is refused. */
static void test_fulfill(void) {
  jobhost_testkit *kit = new_kit();
  const char *why = NULL;
  write_file(
      kit, "people.jsonl",
      "{\"id\":\"ann\",\"name\":\"Ann\"}\n{\"id\":\"bob\",\"name\":\"Bob\"}");
  CHECK(jobhost_testkit_fulfill(
            kit, "jsonl", "id",
            "[{\"ChangeType\": \"Added\","
            "  \"Changes\": {\"id\": \"cy\", \"name\": \"Cy\"}},"
            " {\"ChangeType\": \"Modified\", \"Resource\": {\"id\": \"ann\"},"
            "  \"Changes\": {\"name\": \"Anne\", \"mail\": \"a@example.org\"}},"
            " {\"ChangeType\": \"Deleted\", \"Resource\": {\"id\": \"bob\"}},"
            " {\"ChangeType\": \"Modified\", \"Resource\": {\"id\": \"cy\"},"
            "  \"Changes\": {\"name\": [\"C\", \"Y\"]}}]") == 0);
  CHECK(jobhost_testkit_order_count(kit) == 4);
  CHECK(jobhost_testkit_order_result(kit, 0, NULL) == 0);
  CHECK(jobhost_testkit_order_result(kit, 1, NULL) == 0);
  CHECK(jobhost_testkit_order_result(kit, 2, NULL) == 0);
  CHECK(jobhost_testkit_order_result(kit, 3, &why) == -1);
  CHECK(same(why, "'cy': a member takes one value"));
  CHECK(
      same(read_file(kit, "people.jsonl"),
           "{\"id\":\"cy\",\"name\":\"Cy\"}\n"
           "{\"id\":\"ann\",\"name\":\"Anne\",\"mail\":\"a@example.org\"}\n"));
  CHECK(same(read_file(kit, "people.jsonl.new"), "")); /* not left behind */

  /* what was written exports again */
  CHECK(jobhost_testkit_export(kit, "jsonl") == 0);
  CHECK(jobhost_testkit_rows(kit, "TestConnection") == 2);
  CHECK(same(jobhost_testkit_cell(kit, "TestConnection", 1, "mail"),
             "a@example.org"));

  /* a file that cannot be read: every order Errored, the file untouched */
  jobhost_testkit_setting(kit, "path", "absent.jsonl");
  CHECK(jobhost_testkit_fulfill(kit, "jsonl", "id",
                                "[{\"ChangeType\": \"Deleted\", "
                                "\"Resource\": {\"id\": \"ann\"}}]") == 0);
  CHECK(jobhost_testkit_order_result(kit, 0, &why) == -1);
  CHECK(same(why, "'ann': the file cannot be written"));
  jobhost_testkit_free(kit);
}

int main(void) {
  test_export();
  test_export_refused();
  test_fulfill();
  if (failures > 0)
    fprintf(stderr, "test_jsonl: %d checks failed\n", failures);
  return failures > 0;
}
