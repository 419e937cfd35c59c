/*
 * test_wire.c — the worker-to-host report records survive any split of the
 * byte stream, apply to the outcome as documented, and malformed records
 * are refused.
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

#include "wire.h"

/* A stream of every record type, as a worker would write it. */
static size_t sample_stream(unsigned char *buf) {
  size_t n = 0;
  unsigned char level = 2, yes = 0;
  int64_t d5 = 5, d7 = 7, v100 = 100;
  uint64_t prog[2] = {3, 10};
  int32_t result = -5;
  n += jh_wire_encode(buf + n, JH_WIRE_LOG, &level, 1, "hello world", 11);
  n += jh_wire_encode(buf + n, JH_WIRE_COUNTER_ADD, &d5, 8, "rows", 4);
  n += jh_wire_encode(buf + n, JH_WIRE_COUNTER_ADD, &d7, 8, "rows", 4);
  n += jh_wire_encode(buf + n, JH_WIRE_COUNTER_SET, &v100, 8, "errors", 6);
  n += jh_wire_encode(buf + n, JH_WIRE_PROGRESS, prog, 16, NULL, 0);
  n += jh_wire_encode(buf + n, JH_WIRE_MESSAGE, NULL, 0, "first", 5);
  n += jh_wire_encode(buf + n, JH_WIRE_MESSAGE, NULL, 0, "second", 6);
  n += jh_wire_encode(buf + n, JH_WIRE_OUTPUT, &yes, 1, NULL, 0);
  n += jh_wire_encode(buf + n, JH_WIRE_RESULT, &result, 4, NULL, 0);
  return n;
}

static void check_outcome(jh_outcome *o) {
  char *json;
  assert_true(o->has_result);
  assert_int_equal(o->result, -5);
  assert_int_equal(o->produced_output, 0);
  assert_string_equal(o->message, "second");
  assert_int_equal(o->progress_done, 3);
  assert_int_equal(o->progress_total, 10);
  assert_int_equal(o->log_lines, 1);
  json = jh_outcome_counters_json(o);
  assert_string_equal(json, "{\"rows\":12,\"errors\":100}");
  free(json);
}

static void test_every_split(void **state) {
  unsigned char stream[1024];
  size_t n = sample_stream(stream);
  (void)state;
  /* Feed the stream in chunks of every size from 1 byte to all of it. */
  for (size_t chunk = 1; chunk <= n; chunk++) {
    jh_outcome o;
    jh_wire_reader r = {0};
    memset(&o, 0, sizeof(o));
    o.produced_output = -1;
    for (size_t off = 0; off < n; off += chunk) {
      size_t len = n - off < chunk ? n - off : chunk;
      assert_int_equal(jh_wire_feed(&r, &o, stream + off, len), 0);
    }
    assert_int_equal(r.len, 0);
    check_outcome(&o);
    jh_outcome_clear(&o);
    jh_wire_reader_clear(&r);
  }
}

static void test_log_lines_are_written(void **state) {
  unsigned char buf[256];
  char text[512];
  unsigned char level = 1;
  FILE *log = tmpfile();
  jh_outcome o;
  size_t n;
  (void)state;
  memset(&o, 0, sizeof(o));
  o.log = log;
  o.task_id = "T1";
  n = jh_wire_encode(buf, JH_WIRE_LOG, &level, 1, "disk is full", 12);
  assert_int_equal(jh_wire_apply(&o, JH_WIRE_LOG, buf + 5, n - 5), 0);
  rewind(log);
  assert_non_null(fgets(text, sizeof(text), log));
  assert_non_null(strstr(text, "WARNING [T1] disk is full"));
  fclose(log);
  jh_outcome_clear(&o);
}

static void test_malformed_records(void **state) {
  unsigned char buf[64] = {0};
  uint32_t huge = 1u << 30;
  jh_outcome o;
  jh_wire_reader r = {0};
  (void)state;
  memset(&o, 0, sizeof(o));
  /* A result must carry exactly 4 bytes; a progress exactly 16. */
  assert_int_equal(jh_wire_apply(&o, JH_WIRE_RESULT, buf, 3), -EPROTO);
  assert_int_equal(jh_wire_apply(&o, JH_WIRE_PROGRESS, buf, 8), -EPROTO);
  assert_int_equal(jh_wire_apply(&o, (jh_wire_type)99, buf, 0), -EPROTO);
  assert_false(o.has_result);
  /* An absurd length is refused instead of buffered forever. */
  memcpy(buf, &huge, 4);
  buf[4] = JH_WIRE_LOG;
  assert_int_equal(jh_wire_feed(&r, &o, buf, 5), -EPROTO);
  jh_wire_reader_clear(&r);
  jh_outcome_clear(&o);
}

static void test_long_text_is_truncated(void **state) {
  static unsigned char buf[5 + JH_WIRE_MAX_PAYLOAD];
  size_t big = JH_WIRE_MAX_PAYLOAD * 2;
  char *text = malloc(big);
  jh_outcome o;
  size_t n;
  (void)state;
  memset(text, 'x', big);
  memset(&o, 0, sizeof(o));
  n = jh_wire_encode(buf, JH_WIRE_MESSAGE, NULL, 0, text, big);
  assert_int_equal(n, 5 + JH_WIRE_MAX_PAYLOAD);
  assert_int_equal(jh_wire_apply(&o, JH_WIRE_MESSAGE, buf + 5, n - 5), 0);
  assert_int_equal(strlen(o.message), JH_WIRE_MAX_PAYLOAD);
  free(text);
  jh_outcome_clear(&o);
}

/* A task says it committed with one byte, 1 when its transaction held
 * its changes (an empty record: applied); anything more is malformed. */
static void test_committed_record(void **state) {
  unsigned char buf[16] = {0}, held = 1;
  jh_outcome o;
  (void)state;
  memset(&o, 0, sizeof(o));
  assert_int_equal(jh_wire_apply(&o, JH_WIRE_COMMITTED, buf, 2), -EPROTO);
  buf[0] = 2;
  assert_int_equal(jh_wire_apply(&o, JH_WIRE_COMMITTED, buf, 1), -EPROTO);
  assert_false(o.committed);
  assert_int_equal(jh_wire_encode(buf, JH_WIRE_COMMITTED, &held, 1, NULL, 0),
                   6);
  assert_int_equal(jh_wire_apply(&o, JH_WIRE_COMMITTED, buf + 5, 1), 0);
  assert_int_equal(o.committed, JH_COMMITTED_HELD);
  assert_int_equal(jh_wire_encode(buf, JH_WIRE_COMMITTED, NULL, 0, NULL, 0), 5);
  assert_int_equal(jh_wire_apply(&o, JH_WIRE_COMMITTED, buf + 5, 0), 0);
  assert_int_equal(o.committed, JH_COMMITTED_APPLIED);
  assert_false(o.has_result);
  jh_outcome_clear(&o);
}

/* The log stops at its cap with one note; what follows is counted, and
 * the count is written at the end. */
static void test_log_cap(void **state) {
  unsigned char buf[256];
  char text[4096];
  unsigned char level = 2;
  FILE *log = tmpfile();
  jh_outcome o;
  size_t n, got;
  (void)state;
  memset(&o, 0, sizeof(o));
  o.log = log;
  o.task_id = "T";
  o.log_max = 300;
  n = jh_wire_encode(buf, JH_WIRE_LOG, &level, 1,
                     "a line of about fifty bytes, more or less", 41);
  for (int i = 0; i < 20; i++)
    assert_int_equal(jh_wire_apply(&o, JH_WIRE_LOG, buf + 5, n - 5), 0);
  jh_outcome_log_write(&o, "raw\nprinted\n", 12, 2);
  assert_int_equal(o.log_lines, 20);
  assert_true(o.log_bytes <= 300);
  assert_true(o.dropped_lines >= 14);
  jh_outcome_log_dropped_note(&o);
  rewind(log);
  got = fread(text, 1, sizeof(text) - 1, log);
  text[got] = '\0';
  assert_non_null(strstr(text, "# the log reached its cap of 300 bytes"));
  {
    char expect[128];
    snprintf(expect, sizeof(expect), "# %llu lines (",
             (unsigned long long)o.dropped_lines);
    assert_non_null(strstr(text, expect));
  }
  assert_null(strstr(text, "printed"));
  /* One note about the cap, however many lines were dropped. */
  assert_null(strstr(strstr(text, "reached its cap") + 1, "reached its cap"));
  fclose(log);
  jh_outcome_clear(&o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_split),
      cmocka_unit_test(test_log_lines_are_written),
      cmocka_unit_test(test_malformed_records),
      cmocka_unit_test(test_long_text_is_truncated),
      cmocka_unit_test(test_committed_record),
      cmocka_unit_test(test_log_cap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
