/*
 * test_order_file.c — provisioning order files: their names, the bytes
 * written (sorted keys, the list envelope), a round trip, orders of the
 * wrong shape refused on write and on read, and a failed write leaving
 * nothing behind.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "order_file.h"

typedef struct fx {
  char dir[PATH_MAX];
} fx;

static int setup(void **state) {
  *state = jh_test_fixture(sizeof(fx), PATH_MAX);
  return 0;
}

static json_t *one_order(const char *change) {
  json_t *o = json_pack(
      "{s:s, s:s, s:{s:s, s:{s:s}, s:{s:s}}, s:{s:s, s:s}, s:{s:s}}",
      "ChangeType", change, "AssignedResourceTypeId", "12", "ResourceType",
      "Identifier", "AD_User", "TargetEntityType", "Identifier", "AD_Entry",
      "SourceEntityType", "Identifier", "HR_Person", "Owner", "Identifier",
      "007", "Id", "007", "Changes", "mail", "james@example.org");
  assert_non_null(o);
  return o;
}

static void test_name(void **state) {
  char buf[128];
  (void)state;
  /* 2026-03-29T01:30:05Z */
  assert_int_equal(jh_order_file_name(buf, sizeof(buf), 1774747805123LL, 42, 7),
                   0);
  assert_string_equal(buf, "20260329T013005Z-42-0007.json");
  assert_int_equal(jh_order_file_name(buf, sizeof(buf), 0, 1, 12345), 0);
  assert_string_equal(buf, "19700101T000000Z-1-12345.json");
  assert_int_equal(jh_order_file_name(buf, 10, 0, 1, 1), -ENAMETOOLONG);
}

/* The writer lays the orders out one a line, each as json_dumps with
 * JSON_SORT_KEYS does, in the envelope's head and tail: escapes, UTF-8,
 * empty and nested objects and arrays, null, unsorted keys; the file
 * reads back as the same document. */
static void test_write_layout(void **state) {
  fx *f = *state;
  char path[PATH_MAX], err[512], ctl[40];
  json_t *list = json_array(), *o = one_order("Modified"), *ch;
  json_t *doc, *back;
  json_error_t je;
  char *text, *want, *o1, *o2;
  size_t n = 0;
  for (int c = 1; c < 0x20; c++)
    ctl[n++] = (char)c;
  memcpy(ctl + n, "\"\\/\x7f", 5);
  ch = json_object_get(o, "Changes");
  json_object_set_new(ch, "zeta", json_string(ctl));
  json_object_set_new(ch, "Alpha",
                      json_string("Zo\xc3\xab \xe2\x80\xa8 \xf0\x9f\x98\x80"));
  json_object_set_new(ch, "cleared", json_null());
  json_object_set_new(ch, "nav",
                      json_pack("{s:[s,s], s:[]}", "Add", "b", "a", "Remove"));
  json_object_set_new(o, "Resource", json_object());
  json_array_append_new(list, o);
  json_array_append_new(list, one_order("Deleted"));
  jh_test_path(path, sizeof(path), "%s/o.json", f->dir);
  assert_int_equal(jh_order_file_write(path, list, err, sizeof(err)), 0);
  doc = json_pack("{s:O}", "ProvisioningOrdersList", list);
  o1 = json_dumps(json_array_get(list, 0), JSON_SORT_KEYS);
  o2 = json_dumps(json_array_get(list, 1), JSON_SORT_KEYS);
  want = malloc(strlen(o1) + strlen(o2) + 64);
  assert_non_null(want);
  sprintf(want, "{\"ProvisioningOrdersList\": [\n%s,\n%s\n]}\n", o1, o2);
  text = jh_test_read_file(path);
  assert_non_null(text);
  assert_string_equal(text, want);
  back = json_loads(text, JSON_REJECT_DUPLICATES, &je);
  assert_non_null(back);
  assert_true(json_equal(back, doc));
  json_decref(back);
  free(text);
  free(want);
  free(o1);
  free(o2);
  json_decref(doc);
  json_decref(list);
}

static void test_change_type(void **state) {
  (void)state;
  assert_int_equal(jh_order_change_type("Added"), 1);
  assert_int_equal(jh_order_change_type("Modified"), 2);
  assert_int_equal(jh_order_change_type("Deleted"), 3);
  assert_int_equal(jh_order_change_type("added"), -1);
  assert_int_equal(jh_order_change_type("None"), -1);
  assert_int_equal(jh_order_change_type(NULL), -1);
}

static void test_write_sorted(void **state) {
  fx *f = *state;
  char path[PATH_MAX], err[512];
  json_t *list = json_array(), *back = NULL;
  json_array_append_new(list, one_order("Added"));
  jh_test_path(path, sizeof(path), "%s/o.json", f->dir);
  assert_int_equal(jh_order_file_write(path, list, err, sizeof(err)), 0);
  jh_test_assert_file(path,
                      "{\"ProvisioningOrdersList\": [\n"
                      "{\"AssignedResourceTypeId\": \"12\", "
                      "\"ChangeType\": \"Added\", "
                      "\"Changes\": {\"mail\": \"james@example.org\"}, "
                      "\"Owner\": {\"Id\": \"007\", \"Identifier\": \"007\"}, "
                      "\"ResourceType\": {\"Identifier\": \"AD_User\", "
                      "\"SourceEntityType\": {\"Identifier\": \"HR_Person\"}, "
                      "\"TargetEntityType\": {\"Identifier\": \"AD_Entry\"}}}\n"
                      "]}\n");
  assert_int_equal(jh_order_file_read(path, &back, err, sizeof(err)), 0);
  assert_true(json_equal(back, list));
  assert_int_equal(jh_test_count_entries(f->dir), 1);
  json_decref(back);
  json_decref(list);
}

/* An order streamed member by member gives the bytes of the same order
 * added as a json_t: nesting, arrays, null, an empty object, escapes,
 * and the comma between orders. */
static void test_streamed_equals_added(void **state) {
  fx *f = *state;
  char a[PATH_MAX], b[PATH_MAX], err[512];
  jh_order_writer *w;
  json_t *list = json_array();
  /* escapes first, last, side by side, and control characters */
  static const char odd[] = "\"\x01\\x\t\x1f\"\"";
  /* escapes in the middle of runs of 8 plain bytes, and at their ends */
  static const char run[] =
      "abcdefgh\"ijklmnop\\qrstuvw\x01"
      "ABCDEFGHIJKLMNO\n\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"";
  json_t *o = json_pack("{s:s, s:s, s:{s:n, s:{s:[s, s], s:[s]}, s:{}, s:s, "
                        "s:s, s:s}, s:{s:s}}",
                        "AssignedResourceTypeId", "7", "ChangeType", "Modified",
                        "Changes", "cn", "manager", "Add", "E1", "E\"2",
                        "Remove", "E3", "none", "sn", "B\xc3\xa9\n", "y", run,
                        "z", odd, "ResourceType", "Identifier", "AD_User");
  assert_non_null(o);
  json_array_append_new(list, o);
  json_array_append_new(list, one_order("Added"));
  jh_test_path(a, sizeof(a), "%s/added.json", f->dir);
  jh_test_path(b, sizeof(b), "%s/streamed.json", f->dir);
  assert_int_equal(jh_order_file_write(a, list, err, sizeof(err)), 0);

  assert_int_equal(jh_order_writer_new(&w), 0);
  jh_order_writer_begin(w);
  jh_order_writer_string(w, "AssignedResourceTypeId", "7", 1);
  jh_order_writer_string(w, "ChangeType", "Modified", 8);
  jh_order_writer_object(w, "Changes");
  jh_order_writer_string(w, "cn", NULL, 0);
  jh_order_writer_object(w, "manager");
  jh_order_writer_array(w, "Add");
  jh_order_writer_string(w, NULL, "E1", 2);
  jh_order_writer_string(w, NULL, "E\"2", 3);
  jh_order_writer_close(w);
  jh_order_writer_array(w, "Remove");
  jh_order_writer_string(w, NULL, "E3", 2);
  jh_order_writer_close(w);
  jh_order_writer_close(w);
  jh_order_writer_object(w, "none");
  jh_order_writer_close(w);
  jh_order_writer_string(w, "sn", "B\xc3\xa9\n", 4);
  jh_order_writer_string(w, "y", run, strlen(run));
  jh_order_writer_string(w, "z", odd, strlen(odd));
  jh_order_writer_close(w);
  jh_order_writer_object(w, "ResourceType");
  jh_order_writer_string(w, "Identifier", "AD_User", 7);
  jh_order_writer_close(w);
  assert_int_equal(jh_order_writer_end(w), 0);
  o = one_order("Added");
  assert_int_equal(jh_order_writer_add(w, o, err, sizeof(err)), 0);
  json_decref(o);
  assert_int_equal(jh_order_writer_count(w), 2);
  assert_int_equal(jh_order_writer_write(w, b, err, sizeof(err)), 0);

  /* an order left open is refused, and so is the file */
  jh_order_writer_begin(w);
  jh_order_writer_object(w, "Changes");
  assert_int_equal(jh_order_writer_end(w), -ENOMEM);
  assert_int_not_equal(jh_order_writer_write(w, b, err, sizeof(err)), 0);
  jh_order_writer_free(w);

  {
    char *want = jh_test_read_file(a), *got = jh_test_read_file(b);
    assert_string_equal(got, want);
    free(want);
    free(got);
  }
  /* read back by jansson, the escaped strings are the same bytes */
  {
    json_error_t e;
    json_t *doc = json_load_file(b, 0, &e), *changes;
    assert_non_null(doc);
    changes = json_object_get(
        json_array_get(json_object_get(doc, "ProvisioningOrdersList"), 0),
        "Changes");
    assert_string_equal(json_string_value(json_object_get(changes, "y")), run);
    assert_string_equal(json_string_value(json_object_get(changes, "z")), odd);
    assert_string_equal(json_string_value(json_object_get(changes, "sn")),
                        "B\xc3\xa9\n");
    json_decref(doc);
  }
  json_decref(list);
}

static void test_write_refuses(void **state) {
  fx *f = *state;
  char path[PATH_MAX], err[512];
  json_t *list = json_array();
  json_array_append_new(list, one_order("Added"));
  json_array_append_new(list, one_order("Renamed"));
  jh_test_path(path, sizeof(path), "%s/bad.json", f->dir);
  assert_int_equal(jh_order_file_write(path, list, err, sizeof(err)), -EINVAL);
  assert_non_null(strstr(err, "order 1: ChangeType \"Renamed\""));
  assert_int_equal(jh_test_count_entries(f->dir), 0);
  json_array_remove(list, 1);
  jh_test_path(path, sizeof(path), "%s/none/o.json", f->dir);
  assert_int_not_equal(jh_order_file_write(path, list, err, sizeof(err)), 0);
  assert_non_null(strstr(err, "none/o.json: cannot write"));
  assert_int_equal(jh_test_count_entries(f->dir), 0);
  json_decref(list);
}

static void read_fails(const char *dir, const char *text, int code,
                       const char *want) {
  char path[PATH_MAX], err[512];
  json_t *orders = (json_t *)1;
  jh_test_path(path, sizeof(path), "%s/r.json", dir);
  jh_test_write_file(path, text, 0644);
  assert_int_equal(jh_order_file_read(path, &orders, err, sizeof(err)), code);
  assert_null(orders);
  if (strstr(err, want) == NULL)
    fail_msg("\"%s\" does not say \"%s\"", err, want);
}

static void test_read_refuses(void **state) {
  fx *f = *state;
  read_fails(f->dir, "{\"ProvisioningOrdersList\": [\n  {]}", -EINVAL,
             "r.json:2:");
  read_fails(f->dir, "[]", -EINVAL, "not an object");
  read_fails(f->dir, "{\"Orders\": []}", -EINVAL,
             "ProvisioningOrdersList is missing");
  read_fails(f->dir,
             "{\"ProvisioningOrdersList\": [{\"AssignedResourceTypeId\": "
             "\"1\", \"ChangeType\": \"Added\"}]}",
             -EINVAL, "order 0: ResourceType is missing");
  read_fails(f->dir,
             "{\"ProvisioningOrdersList\": [{\"AssignedResourceTypeId\": "
             "\"1\", \"ChangeType\": \"Added\", \"ResourceType\": "
             "{\"Identifier\": \"X\"}, \"Changes\": []}]}",
             -EINVAL, "Changes is not an object");
}

static void test_read_missing(void **state) {
  fx *f = *state;
  char path[PATH_MAX], err[512];
  json_t *orders;
  jh_test_path(path, sizeof(path), "%s/absent.json", f->dir);
  assert_int_equal(jh_order_file_read(path, &orders, err, sizeof(err)),
                   -ENOENT);
  assert_non_null(strstr(err, "absent.json"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_name),
      cmocka_unit_test(test_change_type),
      cmocka_unit_test_setup_teardown(test_write_layout, setup,
                                      jh_test_teardown_fixture),
      cmocka_unit_test_setup_teardown(test_write_sorted, setup,
                                      jh_test_teardown_fixture),
      cmocka_unit_test_setup_teardown(test_streamed_equals_added, setup,
                                      jh_test_teardown_fixture),
      cmocka_unit_test_setup_teardown(test_write_refuses, setup,
                                      jh_test_teardown_fixture),
      cmocka_unit_test_setup_teardown(test_read_refuses, setup,
                                      jh_test_teardown_fixture),
      cmocka_unit_test_setup_teardown(test_read_missing, setup,
                                      jh_test_teardown_fixture),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
