/*
 * test_csv.c — the CSV reader follows RFC 4180 and the export settings
 * (separator, BOM, lines to skip, values to trim), names file, line and
 * cause of malformed input, reads big files in constant memory; the
 * writer quotes what needs it and commits or aborts atomically.
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
#include <unistd.h>

#include <cmocka.h>

#include "csv.h"
#include "harness.h"

struct fixture {
  char dir[PATH_MAX];
  char path[PATH_MAX];
};

static int setup(void **state) {
  struct fixture *f = jh_test_fixture(sizeof(*f), sizeof(f->dir));
  *state = f;
  return 0;
}

/* Set f->path to dir/name and return it. */
static const char *set_path(struct fixture *f, const char *name) {
  jh_test_path(f->path, sizeof(f->path), "%s/%s", f->dir, name);
  return f->path;
}

/* Write `text` as dir/name; returns the path (in the fixture). */
static const char *put(struct fixture *f, const char *name, const char *text) {
  jh_test_write_file(set_path(f, name), text, 0644);
  return f->path;
}

/* Set for the second run of the reader tests: every reader parses ahead
 * in its thread (jh_csv_reader_background), and must give the same
 * records, lines and errors. */
static int parse_ahead;

static jh_csv_reader *open_ok(const char *path, const jh_csv_options *opt) {
  jh_csv_reader *r = NULL;
  char err[512] = "";
  int rc = jh_csv_reader_open(path, opt, &r, err, sizeof(err));
  if (rc != 0)
    fail_msg("open %s: %d %s", path, rc, err);
  if (parse_ahead)
    assert_int_equal(jh_csv_reader_background(r), 0);
  return r;
}

/* The next record starts at `line` and has the n given fields. */
static void expect(jh_csv_reader *r, unsigned long line, size_t n, ...) {
  const jh_csv_record *rec;
  va_list ap;
  int rc = jh_csv_read(r, &rec);
  if (rc != 1)
    fail_msg("read: %d %s", rc, jh_csv_reader_error(r));
  assert_int_equal(jh_csv_reader_line(r), line);
  assert_int_equal(jh_csv_record_nfields(rec), n);
  va_start(ap, n);
  for (size_t i = 0; i < n; i++) {
    const char *want = va_arg(ap, const char *);
    assert_string_equal(rec->fields[i], want);
    assert_int_equal(rec->lengths[i], strlen(want));
  }
  va_end(ap);
}

static void expect_end(jh_csv_reader *r) {
  const jh_csv_record *rec;
  assert_int_equal(jh_csv_read(r, &rec), 0);
  assert_null(rec);
}

/* Reading ends in an error whose message contains `want`. */
static void expect_error(jh_csv_reader *r, const char *want) {
  const jh_csv_record *rec;
  int rc;
  while ((rc = jh_csv_read(r, &rec)) == 1)
    ;
  assert_int_equal(rc, -EILSEQ);
  if (strstr(jh_csv_reader_error(r), want) == NULL)
    fail_msg("error \"%s\" lacks \"%s\"", jh_csv_reader_error(r), want);
  assert_int_equal(jh_csv_read(r, &rec), -EILSEQ); /* sticky */
}

static void test_quotes(void **state) {
  jh_csv_reader *r = open_ok(
      put(*state, "q.csv",
          "a,\"b \"\"x\"\" c\",\"d,e\"\n\"\",\"\"\"\",plain\n"),
      NULL);
  assert_null(jh_csv_reader_header(r));
  expect(r, 1, 3, "a", "b \"x\" c", "d,e");
  expect(r, 2, 3, "", "\"", "plain");
  expect_end(r);
  jh_csv_reader_close(r);
}

static void test_embedded_newlines(void **state) {
  jh_csv_options opt = {.header = 1};
  jh_csv_reader *r = open_ok(put(*state, "nl.csv",
                                 "id,note\r\n"
                                 "1,\"first\r\nsecond\"\r\n"
                                 "2,\"x\ny\n\nz\"\n"
                                 "3,\"a,b\"\r\n"
                                 "4,last\r\n"),
                             &opt);
  const jh_csv_record *h = jh_csv_reader_header(r);
  assert_non_null(h);
  assert_int_equal(h->nfields, 2);
  assert_string_equal(h->fields[1], "note");
  expect(r, 2, 2, "1", "first\r\nsecond");
  expect(r, 4, 2, "2", "x\ny\n\nz");
  expect(r, 8, 2, "3", "a,b");
  expect(r, 9, 2, "4", "last");
  expect_end(r);
  jh_csv_reader_close(r);
}

static void test_line_ends(void **state) {
  static const char *const texts[] = {"a,b\r\nc,d\r\n", "a,b\nc,d\n",
                                      "a,b\rc,d\r", "a,b\nc,d"};
  for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
    jh_csv_reader *r = open_ok(put(*state, "le.csv", texts[i]), NULL);
    expect(r, 1, 2, "a", "b");
    expect(r, 2, 2, "c", "d");
    expect_end(r);
    jh_csv_reader_close(r);
  }
}

static void test_bom_and_last_line(void **state) {
  jh_csv_options opt = {.header = 1};
  jh_csv_reader *r = open_ok(
      put(*state, "bom.csv", "\xef\xbb\xbfid,name\n1,\"x\""), &opt);
  assert_string_equal(jh_csv_reader_header(r)->fields[0], "id");
  expect(r, 2, 2, "1", "x");
  expect_end(r);
  jh_csv_reader_close(r);
  /* A BOM is only skipped at the start; a file shorter than a BOM. */
  r = open_ok(put(*state, "tiny.csv", "a"), NULL);
  expect(r, 1, 1, "a");
  expect_end(r);
  jh_csv_reader_close(r);
}

static void test_empty_fields_and_lines(void **state) {
  jh_csv_reader *r = open_ok(put(*state, "e.csv", ",,\n\na,\n\r\n\"\",x\n,\n"),
                             NULL);
  expect(r, 1, 3, "", "", "");
  expect(r, 3, 2, "a", "");
  expect(r, 5, 2, "", "x");
  expect(r, 6, 2, "", "");
  expect_end(r);
  jh_csv_reader_close(r);
}

static void test_short_and_long_rows(void **state) {
  jh_csv_options opt = {.header = 1};
  jh_csv_reader *r = open_ok(
      put(*state, "rows.csv", "a,b,c\n1,2\n1,2,3,4\n1,2,3\n"), &opt);
  assert_int_equal(jh_csv_record_nfields(jh_csv_reader_header(r)), 3);
  expect(r, 2, 2, "1", "2");
  expect(r, 3, 4, "1", "2", "3", "4");
  expect(r, 4, 3, "1", "2", "3");
  expect_end(r);
  jh_csv_reader_close(r);
}

static void test_separator(void **state) {
  jh_csv_options opt = {.separator = ';'};
  jh_csv_reader *r = open_ok(put(*state, "s.csv", "a;b,c;\"d;e\"\n"), &opt);
  expect(r, 1, 3, "a", "b,c", "d;e");
  expect_end(r);
  jh_csv_reader_close(r);
}

static void test_skip_lines(void **state) {
  jh_csv_options opt = {.skip_lines = 2, .header = 1};
  jh_csv_reader *r = open_ok(put(*state, "skip.csv",
                                 "\xef\xbb\xbfReport \"HR\", \xff\r\n"
                                 "generated\rid,name\n1,a\n"),
                             &opt);
  assert_string_equal(jh_csv_reader_header(r)->fields[1], "name");
  assert_int_equal(jh_csv_reader_line(r), 3); /* the header's, before a read */
  expect(r, 4, 2, "1", "a");
  expect_end(r);
  jh_csv_reader_close(r);
  /* More lines to skip than the file has: no record. */
  opt = (jh_csv_options){.skip_lines = 5};
  r = open_ok(put(*state, "short.csv", "a\nb\n"), &opt);
  expect_end(r);
  jh_csv_reader_close(r);
}

static void test_trim(void **state) {
  jh_csv_options opt = {.trim = " \t"};
  jh_csv_reader *r = open_ok(
      put(*state, "t.csv", "  a  ,\t\"b \"  , c d ,\"\"\n   \n"), &opt);
  expect(r, 1, 4, "a", "b ", "c d", "");
  expect(r, 2, 1, "");
  expect_end(r);
  jh_csv_reader_close(r);
  /* After a closing quote and trim characters, a quote is no escape. */
  r = open_ok(put(*state, "tq.csv", "x\n\"a\" \"b\"\n"), &opt);
  expect(r, 1, 1, "x");
  expect_error(r, "tq.csv:2: separator or end of line expected after a "
                  "closing quote (line 2, column 5)");
  jh_csv_reader_close(r);
  /* Without trim, spaces are data and a quote after them is an error. */
  r = open_ok(put(*state, "nt.csv", " a ,b\n \"c\"\n"), NULL);
  expect(r, 1, 2, " a ", "b");
  expect_error(r, "nt.csv:2: quote inside an unquoted field");
  jh_csv_reader_close(r);
}

static void test_utf8(void **state) {
  jh_csv_reader *r = open_ok(put(*state, "ok.csv",
                                 "caf\xc3\xa9,\xe2\x82\xac,\xf0\x9f\x98\x80\n"),
                             NULL);
  expect(r, 1, 3, "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80");
  expect_end(r);
  jh_csv_reader_close(r);

  r = open_ok(put(*state, "hr.csv", "id,name\n1,ok\n2,abcdef\xff\n"), NULL);
  expect(r, 1, 2, "id", "name");
  expect(r, 2, 2, "1", "ok");
  expect_error(r, "hr.csv:3: invalid UTF-8 (byte 0xff at column 9)");
  jh_csv_reader_close(r);

  r = open_ok(put(*state, "ml.csv", "1,\"a\nb\xc0\xaf\"\n"), NULL);
  expect_error(r, "ml.csv:1: invalid UTF-8 (byte 0xc0 at line 2, column 2)");
  jh_csv_reader_close(r);

  r = open_ok(put(*state, "sur.csv", "\xed\xa0\x80\n"), NULL);
  expect_error(r, "sur.csv:1: invalid UTF-8 (byte 0xa0 at column 2)");
  jh_csv_reader_close(r);

  r = open_ok(put(*state, "cut.csv", "a,\xe2\x82"), NULL);
  expect_error(r, "cut.csv:1: truncated UTF-8 sequence");
  jh_csv_reader_close(r);
}

/* Plain lines are taken whole (lib/csv.c parse_plain_line), the others
 * byte by byte: mixed, they must agree on fields, lines and columns. */
static void test_plain_and_parsed_lines_agree(void **state) {
  jh_csv_reader *r = open_ok(
      put(*state, "mix.csv",
          "a,b\n\n\nc,d\r\ne,f\ng,\"h\"\ni,\n\r\nk,\"l\nm\"\nn,o\n"
          "caf\xc3\xa9,p\r\nq,r\r\nu,v\rw,x\r\ns,t\xff\n"),
      NULL);
  expect(r, 1, 2, "a", "b");
  expect(r, 4, 2, "c", "d");
  expect(r, 5, 2, "e", "f");
  expect(r, 6, 2, "g", "h");
  expect(r, 7, 2, "i", "");
  expect(r, 9, 2, "k", "l\nm");
  expect(r, 11, 2, "n", "o");
  expect(r, 12, 2, "caf\xc3\xa9", "p");
  expect(r, 13, 2, "q", "r");
  expect(r, 14, 2, "u", "v");
  expect(r, 15, 2, "w", "x");
  expect_error(r, "mix.csv:16: invalid UTF-8 (byte 0xff at column 4)");
  jh_csv_reader_close(r);
}

static void test_nul_byte(void **state) {
  struct fixture *f = *state;
  jh_csv_reader *r;
  FILE *out;
  set_path(f, "nul.csv");
  out = fopen(f->path, "w");
  assert_non_null(out);
  fwrite("a,b\nc,d\0e\n", 1, 10, out);
  fclose(out);
  r = open_ok(f->path, NULL);
  expect(r, 1, 2, "a", "b");
  expect_error(r, "nul.csv:2: NUL byte at line 2, column 4");
  jh_csv_reader_close(r);
}

static void test_unterminated_quote(void **state) {
  jh_csv_reader *r = open_ok(
      put(*state, "hr.csv",
          "id,name\n1,x\n2,\"closed\nover two lines\"\n3,\"abc\nmore\n"),
      NULL);
  expect(r, 1, 2, "id", "name");
  expect(r, 2, 2, "1", "x");
  expect(r, 3, 2, "2", "closed\nover two lines");
  expect_error(r, "hr.csv:5: unterminated quoted field (opened at line 5)");
  jh_csv_reader_close(r);
}

static void test_bad_quotes(void **state) {
  jh_csv_reader *r = open_ok(put(*state, "q.csv", "a,b\nc,d\"e\n"), NULL);
  expect(r, 1, 2, "a", "b");
  expect_error(r, "q.csv:2: quote inside an unquoted field (column 4)");
  jh_csv_reader_close(r);
  r = open_ok(put(*state, "q2.csv", "\"a\"b,c\n"), NULL);
  expect_error(r, "q2.csv:1: separator or end of line expected after a "
                  "closing quote");
  jh_csv_reader_close(r);
}

static void test_open_errors(void **state) {
  struct fixture *f = *state;
  jh_csv_options opt = {.header = 1};
  jh_csv_reader *r = (jh_csv_reader *)f; /* must be reset to NULL */
  jh_csv_writer *w = (jh_csv_writer *)f;
  char err[512] = "";
  assert_int_equal(jh_csv_reader_open(set_path(f, "missing.csv"), NULL, &r, err,
                                      sizeof(err)),
                   -ENOENT);
  assert_null(r);
  assert_non_null(strstr(err, "missing.csv: "));
  assert_int_equal(jh_csv_reader_open(put(f, "empty.csv", "\r\n\n"), &opt, &r,
                                      err, sizeof(err)),
                   -ENODATA);
  assert_non_null(strstr(err, "empty.csv: empty file"));
  assert_int_equal(jh_csv_reader_open(put(f, "bad.csv", "a\"b\n"), &opt, &r,
                                      err, sizeof(err)),
                   -EILSEQ);
  assert_non_null(strstr(err, "bad.csv:1: quote inside"));
  opt.separator = '"';
  assert_int_equal(jh_csv_reader_open(put(f, "sep.csv", "a\n"), &opt, &r, err,
                                      sizeof(err)),
                   -EINVAL);
  opt.separator = (char)0xc3;
  assert_int_equal(jh_csv_reader_open(f->path, &opt, &r, err, sizeof(err)),
                   -EINVAL);
  assert_null(r);
  assert_int_equal(jh_csv_writer_open(f->path, '\n', &w), -EINVAL);
  assert_null(w);
}

/* ~10 MB of rows; the reader's memory stays small while reading it all. */
static void test_big_file(void **state) {
  struct fixture *f = *state;
  const unsigned long rows = 200000;
  jh_csv_options opt = {.header = 1};
  const jh_csv_record *rec;
  jh_csv_reader *r;
  unsigned long n = 0;
  size_t peak = 0;
  FILE *out;
  int rc;
  set_path(f, "big.csv");
  out = fopen(f->path, "w");
  assert_non_null(out);
  fputs("id,name,comment\r\n", out);
  for (unsigned long i = 0; i < rows; i++)
    fprintf(out, "%08lu,name %lu,\"comment, with \"\"quotes\"\" %lu\"\r\n", i,
            i, i);
  assert_int_equal(fclose(out), 0);
  r = open_ok(f->path, &opt);
  while ((rc = jh_csv_read(r, &rec)) == 1) {
    size_t mem = jh_csv_reader_memory(r);
    if (mem > peak)
      peak = mem;
    if (rec->nfields != 3)
      fail_msg("line %lu: %zu fields", jh_csv_reader_line(r), rec->nfields);
    n++;
  }
  if (rc != 0)
    fail_msg("%s", jh_csv_reader_error(r));
  assert_int_equal(n, rows);
  assert_int_equal(jh_csv_reader_line(r), rows + 1);
  /* the file is ~10 MB; parsing ahead holds two blocks of 1 MiB */
  assert_true(peak < (parse_ahead ? 3 * 1024 * 1024 : 128 * 1024));
  jh_csv_reader_close(r);
}

static void test_long_field(void **state) {
  struct fixture *f = *state;
  size_t len = 300000;
  char *text = malloc(len + 8);
  jh_csv_reader *r;
  const jh_csv_record *rec;
  assert_non_null(text);
  text[0] = '"';
  memset(text + 1, 'x', len);
  memcpy(text + 1 + len, "\",y\n", 5);
  r = open_ok(put(f, "long.csv", text), NULL);
  assert_int_equal(jh_csv_read(r, &rec), 1);
  assert_int_equal(rec->lengths[0], len);
  assert_string_equal(rec->fields[1], "y");
  jh_csv_reader_close(r);
  free(text);
}

static void test_writer_round_trip(void **state) {
  struct fixture *f = *state;
  static const char *const tricky[] = {
      "plain",    "with,comma", "say \"hi\"",       "crlf\r\ninside",
      "lf\nonly", " lead",      "trail ",           "\ttab",
      "",         NULL,         "caf\xc3\xa9;semi", "\"",
      "cr\r"};
  const size_t n = sizeof(tricky) / sizeof(tricky[0]);
  const char *const one_empty[] = {""};
  const size_t lens[] = {3, 2};
  const char *const counted[] = {"abcdef", "xyz"};
  const jh_csv_record *rec;
  jh_csv_writer *w;
  jh_csv_reader *r;
  char tmp[PATH_MAX + 8];
  set_path(f, "out.csv");
  jh_test_path(tmp, sizeof(tmp), "%s.tmp", f->path);
  for (int sep = 0; sep < 2; sep++) {
    jh_csv_options opt = {.separator = sep ? ';' : ','};
    assert_int_equal(jh_csv_writer_open(f->path, opt.separator, &w), 0);
    assert_int_equal(access(tmp, F_OK), 0);
    assert_int_equal(jh_csv_write_record(w, tricky, n), 0);
    assert_int_equal(jh_csv_write_record(w, one_empty, 1), 0);
    assert_int_equal(jh_csv_write_record_n(w, counted, lens, 2), 0);
    assert_int_equal(jh_csv_writer_commit(w), 0);
    assert_int_not_equal(access(tmp, F_OK), 0);

    r = open_ok(f->path, &opt);
    assert_int_equal(jh_csv_read(r, &rec), 1);
    assert_int_equal(rec->nfields, n);
    for (size_t i = 0; i < n; i++)
      assert_string_equal(rec->fields[i], tricky[i] ? tricky[i] : "");
    expect(r, 5, 1, "");
    expect(r, 6, 2, "abc", "xy");
    expect_end(r);
    jh_csv_reader_close(r);
  }
}

static void test_writer_quotes_only_when_needed(void **state) {
  struct fixture *f = *state;
  const char *const fields[] = {"a b", "c,d", "e"};
  jh_csv_writer *w;
  set_path(f, "min.csv");
  assert_int_equal(jh_csv_writer_open(f->path, 0, &w), 0);
  assert_int_equal(jh_csv_write_record(w, fields, 3), 0);
  assert_int_equal(jh_csv_writer_commit(w), 0);
  jh_test_assert_file(f->path, "a b,\"c,d\",e\r\n");
}

static void test_writer_abort(void **state) {
  struct fixture *f = *state;
  const char *const fields[] = {"x"};
  jh_csv_writer *w;
  char tmp[PATH_MAX + 8];
  put(f, "keep.csv", "old\n");
  jh_test_path(tmp, sizeof(tmp), "%s.tmp", f->path);
  assert_int_equal(jh_csv_writer_open(f->path, ',', &w), 0);
  assert_int_equal(jh_csv_write_record(w, fields, 1), 0);
  jh_csv_writer_abort(w);
  assert_int_not_equal(access(tmp, F_OK), 0);
  jh_test_assert_file(f->path, "old\n");

  set_path(f, "new.csv");
  assert_int_equal(jh_csv_writer_open(f->path, ',', &w), 0);
  jh_csv_writer_abort(w);
  assert_int_not_equal(access(f->path, F_OK), 0);
  jh_csv_writer_abort(NULL);
}

/* Line ends inside a field, as the reader counts them. */
static unsigned long line_ends(const char *s) {
  unsigned long n = 0;
  for (; *s; s++)
    if (*s == '\n' || (*s == '\r' && s[1] != '\n'))
      n++;
  return n;
}

/* Writer then reader over many generated records: plain runs of every
 * length (the eight-bytes-at-a-time paths), separators, quotes, line ends
 * and multi-byte UTF-8 at every offset, reads across the input window and
 * fields larger than the writer's buffer. Values and start lines match. */
static void round_trip_stress(struct fixture *f, int background) {
  static const char *const pieces[] = {"a",
                                       "b",
                                       "z",
                                       "0",
                                       ",",
                                       "\"",
                                       "\n",
                                       "\r\n",
                                       " ",
                                       "\xc3\xa9",
                                       "\xe2\x82\xac",
                                       "\r",
                                       "xyzxyzxyz"};
  enum { ROWS = 3000, COLS = 5 };
  uint64_t seed = 0x853c49e6748fea9bULL;
  char *(*vals)[COLS] = calloc(ROWS, sizeof(*vals));
  const jh_csv_record *rec;
  jh_csv_writer *w;
  jh_csv_reader *r;
  unsigned long line = 1;
  assert_non_null(vals);
  set_path(f, "stress.csv");
  assert_int_equal(jh_csv_writer_open(f->path, ',', &w), 0);
  if (background)
    assert_int_equal(jh_csv_writer_background(w), 0);
  for (size_t i = 0; i < ROWS; i++) {
    for (size_t j = 0; j < COLS; j++) {
      size_t cap = 64, len = 0, want;
      char *v = malloc(cap);
      assert_non_null(v);
      seed ^= seed << 13;
      seed ^= seed >> 7;
      seed ^= seed << 17;
      want = i == 1234 && j == 2 ? 1500000 : seed % 40; /* > a block */
      while (len < want) {
        uint64_t k = (seed = seed * 6364136223846793005ULL + 1) >> 33;
        /* Mostly plain letters so that long plain runs occur. */
        const char *p = k % 4 ? pieces[k % 4] : pieces[(k >> 8) % 13];
        size_t plen = strlen(p);
        if (len + plen + 1 > cap) {
          cap = 2 * (len + plen + 1);
          v = realloc(v, cap);
          assert_non_null(v);
        }
        memcpy(v + len, p, plen);
        len += plen;
      }
      v[len] = '\0';
      vals[i][j] = v;
    }
    assert_int_equal(jh_csv_write_record(w, (const char *const *)vals[i], COLS),
                     0);
  }
  assert_int_equal(jh_csv_writer_commit(w), 0);

  r = open_ok(f->path, NULL);
  for (size_t i = 0; i < ROWS; i++) {
    int rc = jh_csv_read(r, &rec);
    if (rc != 1)
      fail_msg("row %zu: %d %s", i, rc, jh_csv_reader_error(r));
    assert_int_equal(jh_csv_reader_line(r), line);
    assert_int_equal(rec->nfields, COLS);
    for (size_t j = 0; j < COLS; j++) {
      assert_int_equal(rec->lengths[j], strlen(vals[i][j]));
      assert_string_equal(rec->fields[j], vals[i][j]);
      line += line_ends(vals[i][j]);
      free(vals[i][j]);
    }
    line++;
  }
  expect_end(r);
  jh_csv_reader_close(r);
  free(vals);
}

static void test_round_trip_stress(void **state) {
  round_trip_stress(*state, 0);
}

/* The same records formatted and written by the writer's thread: blocks
 * handed over many times, and a field larger than a block. */
static void test_round_trip_stress_background(void **state) {
  round_trip_stress(*state, 1);
}

/* Aborting a background writer stops its thread, leaves no file. */
static void test_background_abort(void **state) {
  struct fixture *f = *state;
  const char *const row[] = {"abc", "def", "ghi"};
  char tmp[PATH_MAX + 8];
  jh_csv_writer *w;
  set_path(f, "gone.csv");
  jh_test_path(tmp, sizeof(tmp), "%s.tmp", f->path);
  assert_int_equal(jh_csv_writer_open(f->path, ',', &w), 0);
  assert_int_equal(jh_csv_writer_background(w), 0);
  for (int i = 0; i < 200000; i++)
    assert_int_equal(jh_csv_write_record(w, row, 3), 0);
  jh_csv_writer_abort(w);
  assert_int_not_equal(access(tmp, F_OK), 0);
  assert_int_not_equal(access(f->path, F_OK), 0);
}

/* The reader's tests, run twice: as they are, then parsing ahead. */
#define T(fn)                                                                  \
  cmocka_unit_test_setup_teardown(fn, setup, jh_test_teardown_fixture)
#define READER_TESTS                                                           \
  T(test_quotes), T(test_embedded_newlines), T(test_line_ends),                \
      T(test_bom_and_last_line), T(test_empty_fields_and_lines),               \
      T(test_short_and_long_rows), T(test_separator), T(test_skip_lines),      \
      T(test_trim), T(test_utf8), T(test_plain_and_parsed_lines_agree),        \
      T(test_nul_byte), T(test_unterminated_quote), T(test_bad_quotes),        \
      T(test_big_file), T(test_long_field)

int main(void) {
  const struct CMUnitTest tests[] = {
      READER_TESTS,
      T(test_open_errors),
      T(test_writer_round_trip),
      T(test_writer_quotes_only_when_needed),
      T(test_writer_abort),
      T(test_round_trip_stress),
      T(test_round_trip_stress_background),
      T(test_background_abort),
  };
  const struct CMUnitTest ahead[] = {
      READER_TESTS,
      T(test_round_trip_stress_background),
  };
  int failed = cmocka_run_group_tests_name("csv", tests, NULL, NULL);
  parse_ahead = 1;
  failed += cmocka_run_group_tests_name("csv, parsed ahead", ahead, NULL, NULL);
  return failed;
}
