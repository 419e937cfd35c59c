/*
 * test_collect_batch.c — the batch format: mode names and words, batch
 * folder names (published and temporary) written and read back, the
 * names a batch reader must pass over, delta files, the command words
 * and their aliases in any case, and the shrink guard at its edges.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "collect_batch.h"

static void test_modes(void **state) {
  jh_batch_mode m;
  (void)state;
  assert_string_equal(jh_batch_mode_name(JH_BATCH_INITIAL), "initial");
  assert_string_equal(jh_batch_mode_name(JH_BATCH_COMPLETE), "complete");
  assert_string_equal(jh_batch_mode_name(JH_BATCH_INCREMENTAL), "incremental");
  assert_string_equal(jh_batch_mode_name((jh_batch_mode)7), "");
  assert_int_equal(jh_batch_mode_parse("Incremental", &m), 0);
  assert_int_equal(m, JH_BATCH_INCREMENTAL);
  assert_int_equal(jh_batch_mode_parse("complete", &m), 0);
  assert_int_equal(m, JH_BATCH_COMPLETE);
  assert_int_equal(jh_batch_mode_parse("INITIAL", &m), 0);
  assert_int_equal(m, JH_BATCH_INITIAL);
  assert_int_equal(jh_batch_mode_parse("Full", &m), -1);
  assert_int_equal(jh_batch_mode_parse("", &m), -1);
  assert_int_equal(jh_batch_mode_parse(NULL, &m), -1);
}

static void test_names(void **state) {
  char buf[JH_BATCH_NAME_SIZE];
  long long seq = 0;
  jh_batch_mode m = JH_BATCH_INITIAL;
  (void)state;
  assert_int_equal(jh_batch_name(3, JH_BATCH_COMPLETE, 0, buf, sizeof(buf)), 0);
  assert_string_equal(buf, "0000000003-complete");
  assert_true(jh_batch_name_parse(buf, &seq, &m));
  assert_int_equal(seq, 3);
  assert_int_equal(m, JH_BATCH_COMPLETE);
  assert_false(jh_batch_is_temp_name(buf));

  assert_int_equal(jh_batch_name(12, JH_BATCH_INCREMENTAL, 1, buf, sizeof(buf)),
                   0);
  assert_string_equal(buf, ".0000000012-incremental.tmp");
  assert_true(jh_batch_is_temp_name(buf));
  assert_false(jh_batch_name_parse(buf, &seq, &m));

  assert_int_equal(jh_batch_name(JH_BATCH_SEQ_MAX, JH_BATCH_INITIAL, 0, buf,
                                 sizeof(buf)),
                   0);
  assert_string_equal(buf, "9999999999-initial");
  assert_int_equal(jh_batch_name(JH_BATCH_SEQ_MAX + 1, JH_BATCH_INITIAL, 0, buf,
                                 sizeof(buf)),
                   -1);
  assert_int_equal(jh_batch_name(0, JH_BATCH_INITIAL, 0, buf, sizeof(buf)), -1);
  assert_int_equal(jh_batch_name(1, (jh_batch_mode)5, 0, buf, sizeof(buf)), -1);
  assert_int_equal(jh_batch_name(1, JH_BATCH_COMPLETE, 0, buf, 10), -1);

  /* what a reader of batches/ passes over */
  assert_false(jh_batch_name_parse(".", NULL, NULL));
  assert_false(jh_batch_name_parse("..", NULL, NULL));
  assert_false(jh_batch_name_parse("3-Complete", NULL, NULL));
  assert_false(jh_batch_name_parse("3-full", NULL, NULL));
  assert_false(jh_batch_name_parse("3complete", NULL, NULL));
  assert_false(jh_batch_name_parse("3-complete.tmp", NULL, NULL));
  assert_false(jh_batch_name_parse("x3-complete", NULL, NULL));
  assert_true(jh_batch_name_parse("7-initial", NULL, NULL));
  assert_false(jh_batch_is_temp_name(".tmp"));
  assert_false(jh_batch_is_temp_name("a.tmp"));
  assert_true(jh_batch_is_temp_name(".a.tmp"));
}

static void test_files(void **state) {
  (void)state;
  assert_true(jh_batch_file_is_delta("HR_Person" JH_BATCH_DELTA));
  assert_false(jh_batch_file_is_delta("HR_Person" JH_BATCH_SORTED));
  assert_false(jh_batch_file_is_delta(".delta"));
  assert_string_equal(JH_BATCH_SORTED, ".sorted.csv");
  assert_string_equal(JH_BATCH_DELTA, ".sorted.delta");
  assert_string_equal(JH_BATCH_DUPLICATES, ".duplicates.csv");
  assert_string_equal(JH_BATCH_NULLPK, ".nullpk.csv");
  assert_string_equal(JH_BATCH_COMMAND_COLUMN, "command");
}

static void test_commands(void **state) {
  static const struct {
    const char *word;
    jh_batch_command command;
  } cases[] = {{"insert", JH_COMMAND_INSERT}, {"ADD", JH_COMMAND_INSERT},
               {"Update", JH_COMMAND_UPDATE}, {"modify", JH_COMMAND_UPDATE},
               {"delete", JH_COMMAND_DELETE}, {"Remove", JH_COMMAND_DELETE},
               {"MERGE", JH_COMMAND_MERGE},   {"", JH_COMMAND_NONE},
               {"ins", JH_COMMAND_NONE},      {"inserts", JH_COMMAND_NONE},
               {"upsert", JH_COMMAND_NONE}};
  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    assert_int_equal(jh_batch_command_parse(cases[i].word,
                                            strlen(cases[i].word)),
                     cases[i].command);
  /* the length bounds the word: "insert" of "insertion" */
  assert_int_equal(jh_batch_command_parse("insertion", 6), JH_COMMAND_INSERT);
  assert_int_equal(jh_batch_command_parse("insert", 5), JH_COMMAND_NONE);
  assert_string_equal(jh_batch_command_name(JH_COMMAND_INSERT), "insert");
  assert_string_equal(jh_batch_command_name(JH_COMMAND_UPDATE), "update");
  assert_string_equal(jh_batch_command_name(JH_COMMAND_DELETE), "delete");
  assert_string_equal(jh_batch_command_name(JH_COMMAND_MERGE), "merge");
  assert_null(jh_batch_command_name(JH_COMMAND_NONE));
}

static void test_shrank(void **state) {
  (void)state;
  assert_false(jh_batch_shrank(100, 50, 50)); /* exactly the share */
  assert_true(jh_batch_shrank(100, 49, 50));
  assert_false(jh_batch_shrank(100, 0, 0)); /* the guard is off */
  assert_false(jh_batch_shrank(100, 0, -5));
  assert_false(jh_batch_shrank(0, 0, 10));     /* nothing to lose */
  assert_false(jh_batch_shrank(100, 150, 10)); /* it grew */
  assert_true(jh_batch_shrank(100, 0, 99));
  assert_false(jh_batch_shrank(100, 0, 100));
  assert_true(jh_batch_shrank(3, 2, 33)); /* 33.3% lost */
  assert_false(jh_batch_shrank(3, 2, 34));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_modes),  cmocka_unit_test(test_names),
      cmocka_unit_test(test_files),  cmocka_unit_test(test_commands),
      cmocka_unit_test(test_shrank),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
