/*
 * test_file_writer.c — files written by the writer's thread: every file
 * handed over, in full, more than the queue holds; the first failure
 * named, the files after it dropped, those before it in place; a stop
 * writes what is still queued; nothing temporary is left.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "file_writer.h"
#include "harness.h"

typedef struct fx {
  char dir[PATH_MAX];
} fx;

static int setup(void **state) {
  *state = jh_test_fixture(sizeof(fx), PATH_MAX);
  return 0;
}

/* File i's bytes, malloc'd: i lines of text, so that sizes differ. */
static char *content(int i, size_t *len) {
  size_t cap = (size_t)i * 32 + 64, n = 0;
  char *b = malloc(cap);
  assert_non_null(b);
  n += (size_t)snprintf(b + n, cap - n, "file %d\n", i);
  for (int k = 0; k < i; k++)
    n += (size_t)snprintf(b + n, cap - n, "line %d of file %d\n", k, i);
  *len = n;
  return b;
}

static void check_file(const fx *f, int i) {
  char path[PATH_MAX + 32];
  size_t len;
  char *want = content(i, &len), *got;
  jh_test_path(path, sizeof(path), "%s/f%02d.txt", f->dir, i);
  got = jh_test_read_file(path);
  assert_non_null(got);
  assert_string_equal(got, want);
  free(got);
  free(want);
}

static int exists(const fx *f, int i) {
  char path[PATH_MAX + 32];
  jh_test_path(path, sizeof(path), "%s/f%02d.txt", f->dir, i);
  return access(path, F_OK) == 0;
}

/* Files in dir whose name holds ".tmp.". */
static int temps(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  assert_non_null(d);
  while ((e = readdir(d)) != NULL)
    n += strstr(e->d_name, ".tmp.") != NULL;
  closedir(d);
  return n;
}

static void put(fx *f, jh_file_writer *w, const char *folder, int i,
                int expect) {
  char path[PATH_MAX + 64];
  size_t len;
  char *b = content(i, &len);
  jh_test_path(path, sizeof(path), "%s%s/f%02d.txt", f->dir, folder, i);
  assert_int_equal(jh_file_writer_put(w, path, b, len), expect);
}

static void test_writes_every_file(void **state) {
  fx *f = *state;
  jh_file_writer *w;
  char err[PATH_MAX + 64] = "";
  const int n = 5 * JH_FILE_WRITER_QUEUE;
  assert_int_equal(jh_file_writer_start(0640, &w), 0);
  for (int i = 0; i < n; i++)
    put(f, w, "", i, 0);
  assert_int_equal(jh_file_writer_drain(w, err, sizeof(err)), 0);
  assert_string_equal(err, "");
  /* drained: every file is in place, whole */
  for (int i = 0; i < n; i++)
    check_file(f, i);
  /* the writer goes on after a drain */
  put(f, w, "", n, 0);
  jh_file_writer_stop(w);
  check_file(f, n);
  assert_int_equal(temps(f->dir), 0);
  jh_file_writer_stop(NULL);
}

static void test_first_failure_stops(void **state) {
  fx *f = *state;
  jh_file_writer *w;
  char err[PATH_MAX + 128], want[PATH_MAX + 64];
  int rc = 0;
  assert_int_equal(jh_file_writer_start(0644, &w), 0);
  put(f, w, "", 0, 0);
  put(f, w, "", 1, 0);
  /* file 2 goes to a folder that does not exist */
  put(f, w, "/missing", 2, 0);
  assert_int_equal(jh_file_writer_drain(w, err, sizeof(err)), -ENOENT);
  jh_test_path(want, sizeof(want),
               "%s/missing/f02.txt: cannot write: ", f->dir);
  assert_memory_equal(err, want, strlen(want));
  assert_non_null(strstr(err, strerror(ENOENT)));
  /* later files are refused, and not written */
  for (int i = 3; i < 3 + 2 * JH_FILE_WRITER_QUEUE; i++) {
    char path[PATH_MAX + 32];
    size_t len;
    char *b = content(i, &len);
    jh_test_path(path, sizeof(path), "%s/f%02d.txt", f->dir, i);
    rc = jh_file_writer_put(w, path, b, len);
    assert_int_equal(rc, -ENOENT);
  }
  jh_file_writer_stop(w);
  check_file(f, 0);
  check_file(f, 1);
  for (int i = 3; i < 3 + 2 * JH_FILE_WRITER_QUEUE; i++)
    assert_false(exists(f, i));
  assert_int_equal(temps(f->dir), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_writes_every_file, setup,
                                      jh_test_teardown_fixture),
      cmocka_unit_test_setup_teardown(test_first_failure_stops, setup,
                                      jh_test_teardown_fixture),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
