/*
 * test_extsort.c — the external sort orders records by their key with
 * bounded memory (many runs, several merge passes), keeps the header, the
 * rows and the input order of equal keys, and leaves neither temporary
 * files nor, on error, an output file. The push/pull sorter underneath:
 * several key fields, the same-key flag used to set duplicates aside,
 * stability and the memory bound across runs and merge passes, records
 * larger than the bound, misuse.
 */
#include "config.h"

#include <errno.h>
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

#include "csv.h"
#include "extsort.h"
#include "harness.h"

struct fixture {
  char dir[PATH_MAX / 2];
  char tmp[PATH_MAX]; /* dir/tmp, the sort's temporary folder */
  char in[PATH_MAX];  /* dir/in.csv */
  char out[PATH_MAX]; /* dir/out.csv */
};

static int setup(void **state) {
  struct fixture *f = jh_test_fixture(sizeof(*f), sizeof(f->dir));
  jh_test_path(f->tmp, sizeof(f->tmp), "%s/tmp", f->dir);
  jh_test_path(f->in, sizeof(f->in), "%s/in.csv", f->dir);
  jh_test_path(f->out, sizeof(f->out), "%s/out.csv", f->dir);
  jh_test_mkdir(f->tmp);
  *state = f;
  return 0;
}

/* Deterministic generator (xorshift64). */
static uint64_t next_random(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

/* Order-independent digest of a multiset of records. */
struct digest {
  size_t count;
  uint64_t sum, xor;
};

static void digest_add(struct digest *d, const jh_csv_record *rec) {
  uint64_t h = 14695981039346656037ULL; /* FNV-1a */
  for (size_t i = 0; i < rec->nfields; i++) {
    for (size_t j = 0; j < rec->lengths[i]; j++)
      h = (h ^ (unsigned char)rec->fields[i][j]) * 1099511628211ULL;
    h = (h ^ 0x1f) * 1099511628211ULL;
  }
  d->count++;
  d->sum += h;
  d->xor ^= h;
}

/* Write `rows` random rows "seq,key,payload" (seq = input order) to
 * f->in, some with quotes, separators and newlines; keys repeat. */
static struct digest generate(struct fixture *f, size_t rows, unsigned nkeys) {
  struct digest d = {0};
  jh_csv_writer *w;
  uint64_t seed = 0x9e3779b97f4a7c15ULL;
  const char *const header[] = {"seq", "key", "payload"};
  assert_int_equal(jh_csv_writer_open(f->in, ',', &w), 0);
  assert_int_equal(jh_csv_write_record(w, header, 3), 0);
  for (size_t i = 0; i < rows; i++) {
    char seq[32], key[32], payload[64];
    const char *fields[3] = {seq, key, payload};
    size_t lens[3];
    jh_csv_record rec = {3, fields, lens};
    uint64_t r = next_random(&seed);
    snprintf(seq, sizeof(seq), "%zu", i);
    /* Keys of varied lengths so that prefixes sort first. */
    snprintf(key, sizeof(key), "k%.*u", (int)(r % 3) + 1,
             (unsigned)((r >> 8) % nkeys));
    snprintf(payload, sizeof(payload), r % 7 == 0 ? "a \"q\",\r\nb %u" : "p%u",
             (unsigned)(r >> 32));
    for (size_t j = 0; j < 3; j++)
      lens[j] = strlen(fields[j]);
    assert_int_equal(jh_csv_write_record(w, fields, 3), 0);
    digest_add(&d, &rec);
  }
  assert_int_equal(jh_csv_writer_commit(w), 0);
  return d;
}

static int compare_keys(const char *a, size_t alen, const char *b,
                        size_t blen) {
  int c = memcmp(a, b, alen < blen ? alen : blen);
  return c != 0 ? c : (alen > blen) - (alen < blen);
}

/* The output has the header, is sorted by key with equal keys in input
 * order, and holds the same rows as the input. */
static void check_sorted(const char *path, const struct digest *want) {
  jh_csv_options opt = {.header = 1};
  jh_csv_reader *r = NULL;
  const jh_csv_record *rec;
  struct digest got = {0};
  char prev_key[64] = "", err[512];
  size_t prev_len = 0, prev_seq = 0;
  int rc;
  if (jh_csv_reader_open(path, &opt, &r, err, sizeof(err)) != 0)
    fail_msg("%s", err);
  assert_string_equal(jh_csv_reader_header(r)->fields[0], "seq");
  assert_string_equal(jh_csv_reader_header(r)->fields[2], "payload");
  while ((rc = jh_csv_read(r, &rec)) == 1) {
    size_t seq = strtoul(rec->fields[0], NULL, 10);
    int c = compare_keys(prev_key, prev_len, rec->fields[1], rec->lengths[1]);
    if (got.count > 0 && (c > 0 || (c == 0 && seq <= prev_seq)))
      fail_msg("line %lu: out of order", jh_csv_reader_line(r));
    assert_true(rec->lengths[1] < sizeof(prev_key));
    memcpy(prev_key, rec->fields[1], rec->lengths[1]);
    prev_len = rec->lengths[1];
    prev_seq = seq;
    digest_add(&got, rec);
  }
  if (rc != 0)
    fail_msg("%s", jh_csv_reader_error(r));
  jh_csv_reader_close(r);
  assert_int_equal(got.count, want->count);
  assert_true(got.sum == want->sum);
  assert_true(got.xor == want->xor);
}

static void run_sort(struct fixture *f, size_t memory_limit,
                     jh_extsort_stats *stats) {
  char err[512] = "";
  int rc = jh_extsort(f->in, NULL, 1, f->out, f->tmp, memory_limit, stats, err,
                      sizeof(err));
  if (rc != 0)
    fail_msg("jh_extsort: %d %s", rc, err);
}

static void test_many_runs(void **state) {
  struct fixture *f = *state;
  struct digest d = generate(f, 200000, 50000);
  jh_extsort_stats stats;
  run_sort(f, 1 << 20, &stats);
  assert_int_equal(stats.records, 200000);
  assert_true(stats.runs >= 10);
  assert_true(stats.runs <= JH_EXTSORT_MAX_WAY);
  assert_int_equal(stats.merge_passes, 0);
  assert_true(stats.peak_bytes <= 1 << 20);
  assert_true(stats.peak_bytes > (1 << 20) / 2);
  check_sorted(f->out, &d);
  assert_int_equal(jh_test_count_entries(f->tmp), 0);
}

static void test_merge_passes(void **state) {
  struct fixture *f = *state;
  struct digest d = generate(f, 20000, 500); /* many duplicate keys */
  jh_extsort_stats stats;
  run_sort(f, 4096, &stats);
  assert_true(stats.runs > 2 * JH_EXTSORT_MAX_WAY);
  assert_true(stats.merge_passes >= 1);
  assert_true(stats.peak_bytes <= 4096);
  check_sorted(f->out, &d);
  assert_int_equal(jh_test_count_entries(f->tmp), 0);
}

static void test_in_memory(void **state) {
  struct fixture *f = *state;
  struct digest d = generate(f, 1000, 100);
  jh_extsort_stats stats;
  run_sort(f, 64 << 20, &stats);
  assert_int_equal(stats.records, 1000);
  assert_int_equal(stats.runs, 0);
  check_sorted(f->out, &d);
  assert_int_equal(jh_test_count_entries(f->tmp), 0);
}

static void test_options_and_short_rows(void **state) {
  struct fixture *f = *state;
  jh_csv_options opt = {.separator = ';', .skip_lines = 1, .trim = " "};
  jh_csv_options ropt = {.separator = ';', .header = 1};
  jh_csv_reader *r;
  const jh_csv_record *rec;
  char err[512] = "";
  jh_test_write_file(f->in,
                     "title line\n id ; name\n b ;2\n a;1\n\"\";0\nshort\n"
                     "a;3;extra\n",
                     0644);
  /* Sort by name; the short row has none, an empty key, so it is first. */
  assert_int_equal(
      jh_extsort(f->in, &opt, 1, f->out, f->tmp, 1, NULL, err, sizeof(err)), 0);
  assert_int_equal(jh_csv_reader_open(f->out, &ropt, &r, err, sizeof(err)), 0);
  assert_string_equal(jh_csv_reader_header(r)->fields[1], "name");
  static const char *const want[][2] = {
      {"short", NULL}, {"", "0"}, {"a", "1"}, {"b", "2"}, {"a", "3"}};
  for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
    assert_int_equal(jh_csv_read(r, &rec), 1);
    assert_string_equal(rec->fields[0], want[i][0]);
    if (want[i][1] != NULL)
      assert_string_equal(rec->fields[1], want[i][1]);
    else
      assert_int_equal(rec->nfields, 1);
  }
  assert_int_equal(jh_csv_read(r, &rec), 0);
  jh_csv_reader_close(r);
  assert_int_equal(jh_test_count_entries(f->tmp), 0);
}

static void test_empty_input(void **state) {
  struct fixture *f = *state;
  char err[512] = "";
  jh_test_write_file(f->in, "id,name\n", 0644);
  assert_int_equal(jh_extsort(f->in, NULL, 0, f->out, f->tmp, 100, NULL, err,
                              sizeof(err)),
                   0);
  jh_test_assert_file(f->out, "id,name\r\n");
}

static void test_bad_input(void **state) {
  struct fixture *f = *state;
  char err[512] = "", tmpout[PATH_MAX + 8];
  FILE *out = fopen(f->in, "w");
  jh_extsort_stats stats = {0};
  assert_non_null(out);
  fputs("id,name\n", out);
  for (int i = 0; i < 5000; i++)
    fprintf(out, "%d,name%d\n", 5000 - i, i);
  fputs("x,bad\xff\n", out);
  fclose(out);
  snprintf(tmpout, sizeof(tmpout), "%s.tmp", f->out);
  assert_int_equal(jh_extsort(f->in, NULL, 0, f->out, f->tmp, 2048, &stats, err,
                              sizeof(err)),
                   -EILSEQ);
  assert_non_null(strstr(err, "in.csv:5002: invalid UTF-8 (byte 0xff"));
  assert_int_equal(stats.records, 0); /* stats only filled on success */
  assert_false(jh_test_exists(f->out));
  assert_false(jh_test_exists(tmpout));
  assert_int_equal(jh_test_count_entries(f->tmp), 0);

  /* An earlier output survives a failed sort. */
  jh_test_write_file(f->out, "old\n", 0644);
  assert_int_equal(jh_extsort(f->in, NULL, 0, f->out, f->tmp, 2048, NULL, err,
                              sizeof(err)),
                   -EILSEQ);
  assert_true(jh_test_exists(f->out));
  assert_false(jh_test_exists(tmpout));
  assert_int_equal(jh_test_count_entries(f->tmp), 0);
}

static void test_bad_arguments(void **state) {
  struct fixture *f = *state;
  char err[512] = "", missing[PATH_MAX];
  jh_test_write_file(f->in, "id,name\n1,a\n", 0644);
  assert_int_equal(jh_extsort(f->in, NULL, 2, f->out, f->tmp, 100, NULL, err,
                              sizeof(err)),
                   -EINVAL);
  assert_non_null(strstr(err, "key column 2"));
  assert_false(jh_test_exists(f->out));
  jh_test_path(missing, sizeof(missing), "%s/%s", f->dir, "nope");
  assert_int_equal(jh_extsort(f->in, NULL, 0, f->out, missing, 100, NULL, err,
                              sizeof(err)),
                   -ENOENT);
  assert_false(jh_test_exists(f->out));
  assert_int_equal(jh_test_count_entries(f->tmp), 0);
}

/* ------------------------------------------------------------ sorter */

static const char *const *keys_as_fields(void) {
  static const char *const one[1] = {"late"};
  return one;
}

static jh_sorter *open_sorter(struct fixture *f, const size_t *keys,
                              size_t nkeys, size_t limit) {
  jh_sorter_config cfg = {
      .keys = keys, .nkeys = nkeys, .memory_limit = limit, .tmpdir = f->tmp};
  jh_sorter *s = NULL;
  char err[512] = "";
  if (jh_sorter_open(&cfg, &s, err, sizeof(err)) != 0)
    fail_msg("jh_sorter_open: %s", err);
  return s;
}

static void add3(jh_sorter *s, const char *a, const char *b, const char *c) {
  const char *const fields[3] = {a, b, c};
  assert_int_equal(jh_sorter_add(s, fields, NULL, c ? 3 : b ? 2 : 1), 0);
}

/* Keys (field 1, then field 0); a short record has empty keys. */
static void test_sorter_multikey(void **state) {
  struct fixture *f = *state;
  static const size_t keys[] = {1, 0};
  static const char *const want[][4] = {
      /* field0, field1, field2, same_key */
      {"z", NULL, NULL, "0"},    {"a", "1", "first", "0"},
      {"a", "1", "second", "1"}, {"b", "1", "x", "0"},
      {"a", "10", "x", "0"},     {"a", "2", "x", "0"},
      {"a", "2", "again", "1"}};
  jh_sorter *s = open_sorter(f, keys, 2, 1 << 20);
  const jh_csv_record *rec;
  int same;
  add3(s, "a", "2", "x");
  add3(s, "a", "1", "first");
  add3(s, "b", "1", "x");
  add3(s, "a", "10", "x");
  add3(s, "z", NULL, NULL);
  add3(s, "a", "1", "second");
  add3(s, "a", "2", "again");
  for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
    assert_int_equal(jh_sorter_next(s, &rec, &same), 1);
    assert_string_equal(rec->fields[0], want[i][0]);
    if (want[i][1] == NULL)
      assert_int_equal(rec->nfields, 1);
    else {
      assert_int_equal(rec->nfields, 3);
      assert_string_equal(rec->fields[1], want[i][1]);
      assert_string_equal(rec->fields[2], want[i][2]);
      assert_int_equal(rec->lengths[2], strlen(want[i][2]));
    }
    assert_int_equal(same, want[i][3][0] == '1');
  }
  assert_int_equal(jh_sorter_next(s, &rec, &same), 0);
  assert_null(rec);
  assert_int_equal(jh_sorter_next(s, &rec, NULL), 0);
  /* No more records once reading began. */
  assert_int_equal(jh_sorter_add(s, keys_as_fields(), NULL, 1), -EINVAL);
  jh_sorter_close(s);
  assert_int_equal(jh_test_count_entries(f->tmp), 0);
}

/* Many runs and merge passes with two keys: the order, the stability of
 * equal keys, the same-key flags and the memory bound all hold. */
static void check_sorter_runs(struct fixture *f, size_t rows, size_t limit,
                              unsigned nkeys_a, size_t min_runs,
                              size_t min_passes) {
  static const size_t keys[] = {1, 2};
  jh_sorter *s = open_sorter(f, keys, 2, limit);
  jh_extsort_stats st;
  const jh_csv_record *rec;
  uint64_t seed = 0x2545f4914f6cdd1dULL;
  char prev1[32] = "", prev2[32] = "";
  size_t n = 0, prev_seq = 0, dups = 0, want_dups = 0;
  unsigned char *seen = calloc(nkeys_a * 4u, 1);
  int same, rc;
  assert_non_null(seen);
  for (size_t i = 0; i < rows; i++) {
    char seq[32], k1[32], k2[32];
    const char *fields[4] = {seq, k1, k2, "payload that takes some room"};
    uint64_t r = next_random(&seed);
    unsigned a = (unsigned)(r % nkeys_a), b = (unsigned)((r >> 20) % 4);
    snprintf(seq, sizeof(seq), "%zu", i);
    snprintf(k1, sizeof(k1), "k%u", a);
    snprintf(k2, sizeof(k2), "%u", b);
    if (seen[a * 4 + b])
      want_dups++;
    seen[a * 4 + b] = 1;
    assert_int_equal(jh_sorter_add(s, fields, NULL, 4), 0);
  }
  free(seen);
  while ((rc = jh_sorter_next(s, &rec, &same)) == 1) {
    size_t seq = strtoul(rec->fields[0], NULL, 10);
    int c1 = strcmp(prev1, rec->fields[1]);
    int c = c1 != 0 ? c1 : strcmp(prev2, rec->fields[2]);
    if (n > 0 && (c > 0 || (c == 0 && seq <= prev_seq)))
      fail_msg("record %zu out of order", n);
    assert_int_equal(same, n > 0 && c == 0);
    dups += same != 0;
    snprintf(prev1, sizeof(prev1), "%s", rec->fields[1]);
    snprintf(prev2, sizeof(prev2), "%s", rec->fields[2]);
    prev_seq = seq;
    n++;
  }
  assert_int_equal(rc, 0);
  assert_int_equal(n, rows);
  assert_int_equal(dups, want_dups);
  jh_sorter_stats(s, &st);
  assert_int_equal(st.records, rows);
  assert_true(st.runs >= min_runs);
  assert_true(st.merge_passes >= min_passes);
  assert_true(st.peak_bytes <= limit);
  jh_sorter_close(s);
  assert_int_equal(jh_test_count_entries(f->tmp), 0);
}

static void test_sorter_runs(void **state) {
  check_sorter_runs(*state, 30000, 64 << 10, 3000, 20, 0);
}

static void test_sorter_merge_passes(void **state) {
  check_sorter_runs(*state, 20000, 4096, 200, 2 * JH_EXTSORT_MAX_WAY, 1);
}

/* A record larger than the bound is taken alone; the others around it
 * keep to the bound. */
static void test_sorter_large_record(void **state) {
  struct fixture *f = *state;
  static const size_t key = 0;
  jh_sorter *s = open_sorter(f, &key, 1, 2048);
  char *big = malloc(10000);
  const jh_csv_record *rec;
  jh_extsort_stats st;
  assert_non_null(big);
  memset(big, 'x', 9999);
  big[9999] = '\0';
  for (int i = 0; i < 200; i++) {
    char k[16];
    const char *fields[2] = {k, i == 100 ? big : "small"};
    snprintf(k, sizeof(k), "%03d", 199 - i);
    assert_int_equal(jh_sorter_add(s, fields, NULL, 2), 0);
  }
  for (int i = 0; i < 200; i++) {
    char k[16];
    snprintf(k, sizeof(k), "%03d", i);
    assert_int_equal(jh_sorter_next(s, &rec, NULL), 1);
    assert_string_equal(rec->fields[0], k);
    assert_int_equal(rec->lengths[1], i == 99 ? 9999 : 5);
  }
  assert_int_equal(jh_sorter_next(s, &rec, NULL), 0);
  jh_sorter_stats(s, &st);
  assert_true(st.runs > 5);
  assert_true(st.peak_bytes > 9999);
  jh_sorter_close(s);
  free(big);
  assert_int_equal(jh_test_count_entries(f->tmp), 0);
}

static void test_sorter_misuse(void **state) {
  struct fixture *f = *state;
  static const size_t keys[] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
  jh_sorter_config cfg = {
      .keys = keys, .nkeys = 0, .memory_limit = 1 << 20, .tmpdir = f->tmp};
  jh_sorter *s = (jh_sorter *)&cfg;
  const jh_csv_record *rec;
  char err[256] = "", missing[PATH_MAX];
  assert_int_equal(jh_sorter_open(&cfg, &s, err, sizeof(err)), -EINVAL);
  assert_null(s);
  cfg.nkeys = JH_SORTER_MAX_KEYS + 1;
  assert_int_equal(jh_sorter_open(&cfg, &s, err, sizeof(err)), -EINVAL);
  jh_test_path(missing, sizeof(missing), "%s/%s", f->dir, "nope");
  cfg.nkeys = 1;
  cfg.tmpdir = missing;
  assert_int_equal(jh_sorter_open(&cfg, &s, err, sizeof(err)), -ENOENT);
  assert_non_null(strstr(err, "nope"));
  /* Nothing added: nothing out, nothing spilled. */
  s = open_sorter(f, keys, 1, 1 << 20);
  assert_int_equal(jh_sorter_next(s, &rec, NULL), 0);
  assert_int_equal(jh_sorter_add(s, keys_as_fields(), NULL, 1), -EINVAL);
  assert_non_null(strstr(jh_sorter_error(s), "after reading began"));
  /* Errors are sticky. */
  assert_int_equal(jh_sorter_next(s, &rec, NULL), -EINVAL);
  jh_sorter_close(s);
  jh_sorter_close(NULL);
  assert_int_equal(jh_test_count_entries(f->tmp), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(fn)                                                                  \
  cmocka_unit_test_setup_teardown(fn, setup, jh_test_teardown_fixture)
      T(test_many_runs),           T(test_merge_passes),
      T(test_in_memory),           T(test_options_and_short_rows),
      T(test_empty_input),         T(test_bad_input),
      T(test_bad_arguments),       T(test_sorter_multikey),
      T(test_sorter_runs),         T(test_sorter_merge_passes),
      T(test_sorter_large_record), T(test_sorter_misuse),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
