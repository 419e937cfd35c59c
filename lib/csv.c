/*
 * csv.c — see csv.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "csv.h"

#define READ_BUFSIZE 65536
#define WRITE_BUFSIZE (256 * 1024)
#define WRITEBACK_STEP (8 << 20)
#define BYTE_EOF (-1)
#define BYTE_ERR (-2)

/* Where a field lies in the record storage. */
struct span {
  size_t off, len;
};

struct read_ahead;

struct jh_csv_reader {
  struct read_ahead *ra; /* NULL: records are parsed by the caller's
                            thread */
  int fd;
  char *path; /* owned copy, for messages */
  char sep;
  char *trim; /* owned copy, NULL when nothing is trimmed */
  /* Bytes that end a run of plain bytes inside an unquoted field (the
   * separator, quotes, line ends, NUL and every non-ASCII byte) and
   * inside a quoted one (the same but the separator). */
  unsigned char stop_unquoted[256], stop_quoted[256];

  /* Fixed-size input window. */
  unsigned char buf[READ_BUFSIZE];
  size_t pos, len;
  int eof;

  /* Position of the last byte consumed. */
  unsigned long line, col;
  int after_cr, after_lf;

  /* UTF-8 decoder: continuation bytes still expected and the range the
   * next one must fall in. */
  unsigned utf8_need;
  unsigned char utf8_lo, utf8_hi;

  /* Current record: field bytes (each field NUL-terminated) and spans. */
  char *data;
  size_t data_len, data_cap;
  struct span *spans;
  size_t nspans, spans_cap;
  const char **ptrs;
  size_t ptrs_cap;
  size_t *lens;
  size_t lens_cap;
  jh_csv_record rec;
  unsigned long rec_line;

  /* Header, a copy owned by the reader. */
  int has_header;
  char *hdr_data;
  size_t hdr_size;
  const char **hdr_ptrs;
  size_t *hdr_lens;
  jh_csv_record hdr;

  int error;
  char errmsg[512];
};

/* ---------------------------------------------------------------- util */

/* Array p of *cap elements of `elem` bytes, grown (doubling) to hold at
 * least `need`: the array to use from now on, or NULL when out of memory
 * (p is then left as it was, and so is *cap). */
static void *grow(void *p, size_t *cap, size_t need, size_t elem) {
  size_t n = *cap ? *cap : 16;
  void *q;
  if (need <= *cap)
    return p;
  while (n < need) {
    if (n > SIZE_MAX / 2)
      return NULL;
    n *= 2;
  }
  if (n > SIZE_MAX / elem)
    return NULL;
  q = realloc(p, n * elem);
  if (q != NULL)
    *cap = n;
  return q;
}

static void copy_message(char *err, size_t errsize, const char *msg) {
  if (err != NULL && errsize > 0)
    snprintf(err, errsize, "%s", msg);
}

/* Record error `code` with a message "path:line: ..." and return it. */
static int fail_at(jh_csv_reader *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_at(jh_csv_reader *r, int code, const char *fmt, ...) {
  va_list ap;
  int n = snprintf(r->errmsg, sizeof(r->errmsg), "%s:%lu: ", r->path,
                   r->rec_line);
  if (n < 0 || (size_t)n >= sizeof(r->errmsg))
    n = 0;
  va_start(ap, fmt);
  vsnprintf(r->errmsg + n, sizeof(r->errmsg) - (size_t)n, fmt, ap);
  va_end(ap);
  r->error = code;
  return code;
}

/* Record error `code` with a message "path: ..." (no line). */
static int fail_file(jh_csv_reader *r, int code, const char *what) {
  snprintf(r->errmsg, sizeof(r->errmsg), "%s: %s", r->path, what);
  r->error = code;
  return code;
}

/* -------------------------------------------------------------- input */

/* Refill the window when it is used up: 0, BYTE_EOF or BYTE_ERR. */
static int fill(jh_csv_reader *r) {
  ssize_t got;
  if (r->pos < r->len)
    return 0;
  if (r->eof)
    return BYTE_EOF;
  do
    got = read(r->fd, r->buf, sizeof(r->buf));
  while (got < 0 && errno == EINTR);
  if (got < 0) {
    fail_file(r, -errno, strerror(errno));
    return BYTE_ERR;
  }
  r->pos = 0;
  r->len = (size_t)got;
  if (got == 0) {
    r->eof = 1;
    return BYTE_EOF;
  }
  return 0;
}

/* The next byte without consuming it, BYTE_EOF or BYTE_ERR. */
static int peek_byte(jh_csv_reader *r) {
  int rc = fill(r);
  return rc < 0 ? rc : r->buf[r->pos];
}

/* Consume the next byte and track its line and column. */
static int next_byte(jh_csv_reader *r) {
  int c = peek_byte(r);
  if (c < 0)
    return c;
  r->pos++;
  if (r->after_lf || (r->after_cr && c != '\n')) {
    r->line++;
    r->col = 0;
  }
  r->col++;
  r->after_cr = c == '\r';
  r->after_lf = c == '\n';
  return c;
}

/* Skip a UTF-8 byte order mark at the very start of the file. */
static int skip_bom(jh_csv_reader *r) {
  static const unsigned char bom[3] = {0xef, 0xbb, 0xbf};
  ssize_t got;
  while (r->len < sizeof(bom) && !r->eof) {
    do
      got = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);
    while (got < 0 && errno == EINTR);
    if (got < 0)
      return fail_file(r, -errno, strerror(errno));
    if (got == 0)
      r->eof = 1;
    r->len += (size_t)got;
  }
  if (r->len >= sizeof(bom) && memcmp(r->buf, bom, sizeof(bom)) == 0)
    r->pos = sizeof(bom);
  return 0;
}

/* Skip `n` physical lines (CRLF, LF or lone CR ended), unparsed. */
static int skip_lines(jh_csv_reader *r, unsigned n) {
  while (n > 0) {
    int c = next_byte(r);
    if (c == BYTE_ERR)
      return r->error;
    if (c == BYTE_EOF)
      return 0;
    if (c == '\r' && peek_byte(r) == '\n')
      c = next_byte(r);
    if (c == BYTE_ERR)
      return r->error;
    if (c == '\r' || c == '\n')
      n--;
  }
  return r->error;
}

/* Feed one byte to the UTF-8 validator: 0 or an error. */
static int check_utf8(jh_csv_reader *r, int c) {
  unsigned char b = (unsigned char)c;
  if (r->utf8_need > 0) {
    if (b < r->utf8_lo || b > r->utf8_hi)
      goto invalid;
    r->utf8_need--;
    r->utf8_lo = 0x80;
    r->utf8_hi = 0xbf;
    return 0;
  }
  r->utf8_lo = 0x80;
  r->utf8_hi = 0xbf;
  if (b == 0)
    return fail_at(r, -EILSEQ, "NUL byte at line %lu, column %lu", r->line,
                   r->col);
  if (b < 0x80)
    return 0;
  if (b >= 0xc2 && b <= 0xdf)
    r->utf8_need = 1;
  else if (b >= 0xe0 && b <= 0xef) {
    r->utf8_need = 2;
    if (b == 0xe0)
      r->utf8_lo = 0xa0; /* no overlong forms */
    else if (b == 0xed)
      r->utf8_hi = 0x9f; /* no surrogates */
  } else if (b >= 0xf0 && b <= 0xf4) {
    r->utf8_need = 3;
    if (b == 0xf0)
      r->utf8_lo = 0x90;
    else if (b == 0xf4)
      r->utf8_hi = 0x8f; /* nothing above U+10FFFF */
  } else
    goto invalid;
  return 0;
invalid:
  if (r->line == r->rec_line)
    return fail_at(r, -EILSEQ, "invalid UTF-8 (byte 0x%02x at column %lu)", b,
                   r->col);
  return fail_at(r, -EILSEQ,
                 "invalid UTF-8 (byte 0x%02x at line %lu, column %lu)", b,
                 r->line, r->col);
}

/* ------------------------------------------------------------- fields */

static int is_trim(const jh_csv_reader *r, int c) {
  return r->trim != NULL && c != 0 && strchr(r->trim, c) != NULL;
}

static int append(jh_csv_reader *r, int c) {
  if (r->data_len + 1 >= r->data_cap) {
    char *p = grow(r->data, &r->data_cap, r->data_len + 2, 1);
    if (p == NULL)
      return fail_file(r, -ENOMEM, "out of memory");
    r->data = p;
  }
  r->data[r->data_len++] = (char)c;
  return 0;
}

#define LOW_BITS 0x0101010101010101ULL
#define HIGH_BITS 0x8080808080808080ULL

/* Whether one of the 8 bytes of v is zero (exact, no false positive). */
static inline int has_zero_byte(uint64_t v) {
  return ((v - LOW_BITS) & ~v & HIGH_BITS) != 0;
}

static inline int has_byte(uint64_t v, unsigned char c) {
  return has_zero_byte(v ^ (LOW_BITS * c));
}

/* Copy the plain bytes that follow in the input window into the field,
 * in bulk, while they need none of the per-byte checks: bytes that are
 * not in `stop` are ASCII, not NUL and no line end, so they are valid
 * UTF-8 and only move the column. Does nothing while a multi-byte UTF-8
 * sequence is open. */
static int copy_plain(jh_csv_reader *r, const unsigned char *stop) {
  const unsigned char *p, *q, *end;
  size_t k;
  if (r->utf8_need > 0 || r->pos >= r->len)
    return 0;
  p = r->buf + r->pos;
  end = r->buf + r->len;
  q = p;
  /* Eight bytes at a time while none of them can be a stop byte, then
   * byte by byte. */
  while (end - q >= 8) {
    uint64_t v;
    memcpy(&v, q, sizeof(v));
    if ((v & HIGH_BITS) || has_zero_byte(v) || has_byte(v, '"') ||
        has_byte(v, '\r') || has_byte(v, '\n') ||
        (stop == r->stop_unquoted && has_byte(v, (unsigned char)r->sep)))
      break;
    q += 8;
  }
  for (; q < end && !stop[*q]; q++)
    ;
  k = (size_t)(q - p);
  if (k == 0)
    return 0;
  if (r->data_len + k + 1 >= r->data_cap) {
    char *d = grow(r->data, &r->data_cap, r->data_len + k + 2, 1);
    if (d == NULL)
      return fail_file(r, -ENOMEM, "out of memory");
    r->data = d;
  }
  memcpy(r->data + r->data_len, p, k);
  r->data_len += k;
  if (r->after_lf || r->after_cr) { /* as next_byte would for the first */
    r->line++;
    r->col = 0;
  }
  r->after_cr = r->after_lf = 0;
  r->col += k;
  r->pos += k;
  return 0;
}

/* Whether the field started at `start` holds only trim characters. */
static int only_trim_since(const jh_csv_reader *r, size_t start) {
  if (r->trim == NULL)
    return 0;
  for (size_t i = start; i < r->data_len; i++)
    if (!is_trim(r, (unsigned char)r->data[i]))
      return 0;
  return 1;
}

/* Close the field that started at *start (trimmed unless quoted). */
static int end_field(jh_csv_reader *r, size_t *start, int quoted) {
  struct span s = {*start, r->data_len - *start};
  if (!quoted) {
    while (s.len > 0 && is_trim(r, (unsigned char)r->data[s.off])) {
      s.off++;
      s.len--;
    }
    while (s.len > 0 && is_trim(r, (unsigned char)r->data[s.off + s.len - 1]))
      s.len--;
  }
  if (append(r, 0) < 0)
    return r->error;
  r->data[s.off + s.len] = '\0';
  if (r->nspans == r->spans_cap) {
    struct span *p = grow(r->spans, &r->spans_cap, r->nspans + 1,
                          sizeof(*r->spans));
    if (p == NULL)
      return fail_file(r, -ENOMEM, "out of memory");
    r->spans = p;
  }
  r->spans[r->nspans++] = s;
  *start = r->data_len;
  return 0;
}

/* Point the public record at the parsed fields. */
static int publish(jh_csv_reader *r) {
  if (r->nspans > r->ptrs_cap) {
    const char **p = grow(r->ptrs, &r->ptrs_cap, r->nspans, sizeof(*p));
    if (p == NULL)
      return fail_file(r, -ENOMEM, "out of memory");
    r->ptrs = p;
  }
  if (r->nspans > r->lens_cap) {
    size_t *p = grow(r->lens, &r->lens_cap, r->nspans, sizeof(*p));
    if (p == NULL)
      return fail_file(r, -ENOMEM, "out of memory");
    r->lens = p;
  }
  for (size_t i = 0; i < r->nspans; i++) {
    r->ptrs[i] = r->data + r->spans[i].off;
    r->lens[i] = r->spans[i].len;
  }
  r->rec.nfields = r->nspans;
  r->rec.fields = r->ptrs;
  r->rec.lengths = r->lens;
  return 1;
}

/* ------------------------------------------------------------- parser */

/* F_QUOTE_END: just after a quote inside a quoted field (closing, or
 * the first of a doubled pair); F_TRAILING: trim characters after the
 * closing quote. */
enum field_state { F_START, F_UNQUOTED, F_QUOTED, F_QUOTE_END, F_TRAILING };

/* Skip line ends before a record: its first byte, BYTE_EOF or BYTE_ERR. */
static int first_byte(jh_csv_reader *r) {
  int c;
  do
    c = next_byte(r);
  while (c == '\r' || c == '\n');
  return c;
}

/* At end of file inside a record: close it or report what is missing. */
static int end_of_file(jh_csv_reader *r, enum field_state st, size_t *start,
                       unsigned long quote_line) {
  if (st == F_QUOTED)
    return fail_at(r, -EILSEQ, "unterminated quoted field (opened at line %lu)",
                   quote_line);
  if (r->utf8_need > 0)
    return fail_at(r, -EILSEQ, "truncated UTF-8 sequence at end of file");
  if (end_field(r, start, st == F_QUOTE_END || st == F_TRAILING) < 0)
    return r->error;
  return publish(r);
}

/*
 * The common case at once: a record that is one whole line of the input
 * window (ended by LF or CRLF), made of plain ASCII bytes (no quote, CR,
 * NUL or non-ASCII byte) and read without trimming. Its bytes need none
 * of the per-byte checks, so the line is copied, cut at each separator
 * and published, with the line and column moved as next_byte would
 * have. Returns 1 when it took the record, 0 when the record is left to
 * the byte-wise parser (nothing consumed), or an error.
 */
static int parse_plain_line(jh_csv_reader *r) {
  const unsigned char *p, *e, *nl, *end, *q;
  size_t n, off;

  /* the LF of a CRLF that ended the previous record */
  if (r->after_cr && r->pos < r->len && r->buf[r->pos] == '\n')
    (void)next_byte(r);
  if (r->trim != NULL || r->utf8_need > 0 || r->after_cr || r->pos >= r->len)
    return 0;
  p = r->buf + r->pos;
  e = r->buf + r->len;
  if (*p == '\n' || *p == '\r')
    return 0; /* empty lines are skipped by first_byte */
  nl = memchr(p, '\n', (size_t)(e - p));
  if (nl == NULL)
    return 0;                         /* the line goes on past the window */
  end = nl[-1] == '\r' ? nl - 1 : nl; /* LF or CRLF */
  for (q = p; end - q >= 8; q += 8) {
    uint64_t v;
    memcpy(&v, q, sizeof(v));
    if ((v & HIGH_BITS) || has_zero_byte(v) || has_byte(v, '"') ||
        has_byte(v, '\r'))
      return 0;
  }
  for (; q < end; q++)
    if (*q >= 0x80 || *q == 0 || *q == '"' || *q == '\r')
      return 0;

  n = (size_t)(end - p);
  if (n + 1 > r->data_cap) {
    char *d = grow(r->data, &r->data_cap, n + 1, 1);
    if (d == NULL)
      return fail_file(r, -ENOMEM, "out of memory");
    r->data = d;
  }
  memcpy(r->data, p, n);
  r->data[n] = '\0';
  r->data_len = n + 1;
  r->nspans = 0;
  for (off = 0;;) {
    char *sep = memchr(r->data + off, r->sep, n - off);
    size_t len = sep ? (size_t)(sep - (r->data + off)) : n - off;
    if (r->nspans == r->spans_cap) {
      struct span *g = grow(r->spans, &r->spans_cap, r->nspans + 1,
                            sizeof(*r->spans));
      if (g == NULL)
        return fail_file(r, -ENOMEM, "out of memory");
      r->spans = g;
    }
    r->spans[r->nspans].off = off;
    r->spans[r->nspans].len = len;
    r->nspans++;
    if (sep == NULL)
      break;
    *sep = '\0';
    off += len + 1;
  }
  if (r->after_lf) {
    r->line++;
    r->col = 0;
  }
  r->rec_line = r->line;
  r->col += (size_t)(nl - p) + 1;
  r->after_lf = 1;
  r->pos += (size_t)(nl - p) + 1;
  return publish(r);
}

/* Parse one record into the record storage: 1, 0 at end of file, or an
 * error. */
static int parse_record(jh_csv_reader *r) {
  enum field_state st = F_START;
  size_t start = 0;
  unsigned long quote_line = 0;
  int c;

  r->data_len = 0;
  r->nspans = 0;
  if ((c = parse_plain_line(r)) != 0)
    return c;
  c = first_byte(r);
  if (c == BYTE_EOF)
    return 0;
  r->rec_line = r->line;
  for (;; c = next_byte(r)) {
    if (c == BYTE_ERR)
      return r->error;
    if (c == BYTE_EOF)
      return end_of_file(r, st, &start, quote_line);
    if (check_utf8(r, c) < 0)
      return r->error;
    switch (st) {
    case F_START:
      if (c == '"') {
        st = F_QUOTED;
        quote_line = r->line;
        break;
      }
      st = F_UNQUOTED;
      /* fall through */
    case F_UNQUOTED:
      if (c == r->sep) {
        if (end_field(r, &start, 0) < 0)
          return r->error;
        st = F_START;
      } else if (c == '\r' || c == '\n') {
        if (end_field(r, &start, 0) < 0)
          return r->error;
        return publish(r);
      } else if (c == '"') {
        if (!only_trim_since(r, start))
          return fail_at(r, -EILSEQ,
                         "quote inside an unquoted field (column %lu)", r->col);
        r->data_len = start; /* leading trim characters before a quote */
        st = F_QUOTED;
        quote_line = r->line;
      } else if (append(r, c) < 0 || copy_plain(r, r->stop_unquoted) < 0)
        return r->error;
      break;
    case F_QUOTED:
      if (c == '"')
        st = F_QUOTE_END;
      else if (append(r, c) < 0 || copy_plain(r, r->stop_quoted) < 0)
        return r->error;
      break;
    case F_QUOTE_END:
      if (c == '"') {
        if (append(r, c) < 0)
          return r->error;
        st = F_QUOTED;
        break;
      }
      st = F_TRAILING;
      /* fall through */
    case F_TRAILING:
      if (c == r->sep) {
        if (end_field(r, &start, 1) < 0)
          return r->error;
        st = F_START;
      } else if (c == '\r' || c == '\n') {
        if (end_field(r, &start, 1) < 0)
          return r->error;
        return publish(r);
      } else if (!is_trim(r, c))
        return fail_at(r, -EILSEQ,
                       "separator or end of line expected after a closing "
                       "quote (line %lu, column %lu)",
                       r->line, r->col);
      break;
    }
  }
}

/* ------------------------------------------------------------- reader */

/* Keep a copy of the current record as the header. */
static int keep_header(jh_csv_reader *r) {
  size_t n = r->nspans;
  r->hdr_size = r->data_len;
  r->hdr_data = malloc(r->data_len ? r->data_len : 1);
  r->hdr_ptrs = calloc(n ? n : 1, sizeof(*r->hdr_ptrs));
  r->hdr_lens = calloc(n ? n : 1, sizeof(*r->hdr_lens));
  if (r->hdr_data == NULL || r->hdr_ptrs == NULL || r->hdr_lens == NULL)
    return fail_file(r, -ENOMEM, "out of memory");
  memcpy(r->hdr_data, r->data, r->data_len);
  for (size_t i = 0; i < n; i++) {
    r->hdr_ptrs[i] = r->hdr_data + r->spans[i].off;
    r->hdr_lens[i] = r->spans[i].len;
  }
  r->hdr.nfields = n;
  r->hdr.fields = r->hdr_ptrs;
  r->hdr.lengths = r->hdr_lens;
  r->has_header = 1;
  return 0;
}

static int read_header(jh_csv_reader *r) {
  int rc = parse_record(r);
  if (rc < 0)
    return rc;
  if (rc == 0)
    return fail_file(r, -ENODATA, "empty file, expected a header line");
  return keep_header(r);
}

/* Allocate a reader for path with its options copied. */
static jh_csv_reader *reader_new(const char *path, const jh_csv_options *opt) {
  jh_csv_reader *r = calloc(1, sizeof(*r));
  if (r == NULL)
    return NULL;
  r->fd = -1;
  r->line = 1;
  r->sep = opt && opt->separator ? opt->separator : ',';
  for (int c = 0; c < 256; c++) {
    int stop = c == '"' || c == '\r' || c == '\n' || c == 0 || c >= 0x80;
    r->stop_quoted[c] = (unsigned char)stop;
    r->stop_unquoted[c] = (unsigned char)(stop || c == (unsigned char)r->sep);
  }
  r->path = strdup(path);
  if (opt && opt->trim && *opt->trim)
    r->trim = strdup(opt->trim);
  if (r->path == NULL || (opt && opt->trim && *opt->trim && !r->trim)) {
    jh_csv_reader_close(r);
    return NULL;
  }
  return r;
}

/* A separator must be one ASCII character other than a quote or a line
 * end. */
static int valid_separator(char sep) {
  return sep != '"' && sep != '\r' && sep != '\n' && sep != '\0' &&
         (unsigned char)sep < 0x80;
}

static int reader_start(jh_csv_reader *r, const jh_csv_options *opt) {
  int rc;
  if (!valid_separator(r->sep))
    return fail_file(r, -EINVAL, "invalid separator");
  r->fd = open(r->path, O_RDONLY | O_CLOEXEC);
  if (r->fd < 0)
    return fail_file(r, -errno, strerror(errno));
  rc = skip_bom(r);
  if (rc == 0 && opt)
    rc = skip_lines(r, opt->skip_lines);
  if (rc == 0 && opt && opt->header)
    rc = read_header(r);
  return rc;
}

int jh_csv_reader_open(const char *path, const jh_csv_options *opt,
                       jh_csv_reader **out, char *err, size_t errsize) {
  jh_csv_reader *r;
  int rc;
  *out = NULL;
  r = reader_new(path, opt);
  if (r == NULL) {
    copy_message(err, errsize, "out of memory");
    return -ENOMEM;
  }
  rc = reader_start(r, opt);
  if (rc < 0) {
    copy_message(err, errsize, r->errmsg);
    jh_csv_reader_close(r);
    return rc;
  }
  *out = r;
  return 0;
}

/* ----------------------------------------------------- helper thread */

/*
 * A reader's read-ahead and a writer's background writes both hand
 * records between the caller and a thread of their own through two
 * blocks, under one lock and one condition.
 */
struct block {
  char *data;
  size_t len, cap;
  int end;    /* read-ahead: the parse ended after these records, */
  int end_rc; /* with end_rc (0 at end of file, or the error) */
};

struct twin {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct block blocks[2];
  int stop; /* the caller is done: the thread is to end */
};

/* Allocate the blocks (`size` bytes each) and start main(arg): 0,
 * -ENOMEM, or the pthread error; on failure nothing is left to release. */
static int twin_start(struct twin *t, size_t size, void *(*main)(void *),
                      void *arg) {
  int rc;
  for (int i = 0; i < 2; i++) {
    t->blocks[i].cap = size;
    t->blocks[i].data = malloc(size);
  }
  if (t->blocks[0].data == NULL || t->blocks[1].data == NULL) {
    free(t->blocks[0].data);
    free(t->blocks[1].data);
    return -ENOMEM;
  }
  pthread_mutex_init(&t->mu, NULL);
  pthread_cond_init(&t->cv, NULL);
  rc = pthread_create(&t->thread, NULL, main, arg);
  if (rc != 0) {
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    free(t->blocks[0].data);
    free(t->blocks[1].data);
  }
  return rc;
}

/* Ask the thread to stop, wait for it and release what twin_start took. */
static void twin_stop(struct twin *t) {
  pthread_mutex_lock(&t->mu);
  t->stop = 1;
  pthread_cond_broadcast(&t->cv);
  pthread_mutex_unlock(&t->mu);
  pthread_join(t->thread, NULL);
  pthread_cond_destroy(&t->cv);
  pthread_mutex_destroy(&t->mu);
  free(t->blocks[0].data);
  free(t->blocks[1].data);
}

/* Make room for `need` more bytes in b: 0 or -ENOMEM. */
static int block_fit(struct block *b, size_t need) {
  char *g;
  if (b->len + need <= b->cap)
    return 0;
  g = realloc(b->data, b->len + need);
  if (g == NULL)
    return -ENOMEM;
  b->data = g;
  b->cap = b->len + need;
  return 0;
}

/* Make room for n fields in *fields and *lengths (*cap of each): 0 or
 * -ENOMEM. */
static int fields_fit(const char ***fields, size_t **lengths, size_t *cap,
                      size_t n) {
  const char **f;
  size_t *l;
  if (n <= *cap)
    return 0;
  f = realloc(*fields, n * sizeof(**fields));
  l = f ? realloc(*lengths, n * sizeof(**lengths)) : NULL;
  if (f != NULL)
    *fields = f;
  if (l == NULL)
    return -ENOMEM;
  *lengths = l;
  *cap = n;
  return 0;
}

/* ------------------------------------------------------- read-ahead */

/*
 * In the background, a thread of the reader parses the records and copies
 * them into a block (for each record: its line, its field count, the
 * lengths, then the fields, each NUL-terminated) while the caller takes
 * the records of the other block. Two blocks of RA_BLOCK bytes (more for a
 * record that is larger). The thread owns everything the parser uses
 * (the window, the record storage, line, error and message) until it has
 * handed over the block that ends the file or holds the error; the caller
 * then sees the same error and message as without the thread.
 */
#define RA_BLOCK (1u << 20)

struct read_ahead {
  struct twin t; /* t.stop: the caller closes the reader */
  int ready[2];  /* filled, for the caller */
  /* the caller's side */
  int next;    /* the block to take next */
  int reading; /* the block being read, or -1 */
  size_t off;  /* in it */
  int done;    /* the end was reached: done_rc for every read */
  int done_rc;
  unsigned long line;
  const char **ptrs;
  size_t *lens, cap;
  jh_csv_record rec;
};

static int parse_record(jh_csv_reader *r);

/* Copy the record just parsed into b: 0 or -ENOMEM. */
static int ra_copy(jh_csv_reader *r, struct block *b) {
  uint64_t line = r->rec_line;
  uint32_t n = (uint32_t)r->nspans, len;
  size_t need = sizeof(line) + sizeof(n) + n * sizeof(len);
  char *p;
  for (size_t i = 0; i < r->nspans; i++)
    need += r->spans[i].len + 1;
  if (block_fit(b, need) != 0)
    return -ENOMEM;
  p = b->data + b->len;
  memcpy(p, &line, sizeof(line));
  p += sizeof(line);
  memcpy(p, &n, sizeof(n));
  p += sizeof(n);
  for (size_t i = 0; i < r->nspans; i++) {
    len = (uint32_t)r->spans[i].len;
    memcpy(p, &len, sizeof(len));
    p += sizeof(len);
  }
  for (size_t i = 0; i < r->nspans; i++) {
    memcpy(p, r->data + r->spans[i].off, r->spans[i].len + 1);
    p += r->spans[i].len + 1;
  }
  b->len += need;
  return 0;
}

static void *ra_main(void *arg) {
  jh_csv_reader *r = arg;
  struct read_ahead *ra = r->ra;
  int k = 0, end = 0;
  while (!end) {
    struct block *b = &ra->t.blocks[k];
    pthread_mutex_lock(&ra->t.mu);
    while (ra->ready[k] && !ra->t.stop)
      pthread_cond_wait(&ra->t.cv, &ra->t.mu);
    end = ra->t.stop;
    pthread_mutex_unlock(&ra->t.mu);
    if (end)
      break;
    b->len = 0;
    b->end = 0;
    while (b->len < RA_BLOCK) {
      int rc = parse_record(r);
      if (rc == 1 && ra_copy(r, b) < 0)
        rc = fail_file(r, -ENOMEM, "out of memory");
      if (rc != 1) {
        b->end = 1;
        b->end_rc = rc;
        end = 1;
        break;
      }
    }
    pthread_mutex_lock(&ra->t.mu);
    ra->ready[k] = 1;
    pthread_cond_broadcast(&ra->t.cv);
    pthread_mutex_unlock(&ra->t.mu);
    k = 1 - k;
  }
  return NULL;
}

int jh_csv_reader_background(jh_csv_reader *r) {
  struct read_ahead *ra;
  int rc;
  if (r->ra != NULL || r->error != 0)
    return r->error;
  ra = calloc(1, sizeof(*ra));
  if (ra == NULL)
    return -ENOMEM;
  ra->reading = -1;
  ra->line = r->rec_line; /* the header's, until a record is read */
  r->ra = ra;
  rc = twin_start(&ra->t, RA_BLOCK, ra_main, r);
  if (rc != 0) {
    r->ra = NULL;
    free(ra);
    /* without a thread the reader goes on in the caller's thread */
    return rc < 0 ? rc : -rc;
  }
  return 0;
}

static void ra_end(jh_csv_reader *r) {
  struct read_ahead *ra = r->ra;
  twin_stop(&ra->t);
  free(ra->ptrs);
  free(ra->lens);
  free(ra);
  r->ra = NULL;
}

/* The next record from the blocks: as jh_csv_read. */
static int ra_read(jh_csv_reader *r, const jh_csv_record **rec) {
  struct read_ahead *ra = r->ra;
  for (;;) {
    if (ra->done)
      return ra->done_rc;
    if (ra->reading >= 0) {
      struct block *b = &ra->t.blocks[ra->reading];
      if (ra->off < b->len) {
        const char *p = b->data + ra->off;
        uint64_t line;
        uint32_t n, len;
        memcpy(&line, p, sizeof(line));
        p += sizeof(line);
        memcpy(&n, p, sizeof(n));
        p += sizeof(n);
        if (fields_fit(&ra->ptrs, &ra->lens, &ra->cap, n) != 0)
          return -ENOMEM;
        for (uint32_t i = 0; i < n; i++) {
          memcpy(&len, p + i * sizeof(len), sizeof(len));
          ra->lens[i] = len;
        }
        p += n * sizeof(len);
        for (uint32_t i = 0; i < n; i++) {
          ra->ptrs[i] = p;
          p += ra->lens[i] + 1;
        }
        ra->off = (size_t)(p - b->data);
        ra->line = (unsigned long)line;
        ra->rec.nfields = n;
        ra->rec.fields = ra->ptrs;
        ra->rec.lengths = ra->lens;
        *rec = &ra->rec;
        return 1;
      }
      if (b->end) {
        ra->done = 1;
        ra->done_rc = b->end_rc;
        continue;
      }
      pthread_mutex_lock(&ra->t.mu); /* give the block back */
      ra->ready[ra->reading] = 0;
      pthread_cond_broadcast(&ra->t.cv);
      pthread_mutex_unlock(&ra->t.mu);
      ra->reading = -1;
    }
    pthread_mutex_lock(&ra->t.mu);
    while (!ra->ready[ra->next])
      pthread_cond_wait(&ra->t.cv, &ra->t.mu);
    pthread_mutex_unlock(&ra->t.mu);
    ra->reading = ra->next;
    ra->next = 1 - ra->next;
    ra->off = 0;
  }
}

int jh_csv_read(jh_csv_reader *r, const jh_csv_record **rec) {
  int rc;
  *rec = NULL;
  if (r->ra != NULL)
    return ra_read(r, rec);
  if (r->error)
    return r->error;
  rc = parse_record(r);
  if (rc == 1)
    *rec = &r->rec;
  return rc;
}

const jh_csv_record *jh_csv_reader_header(const jh_csv_reader *r) {
  return r->has_header ? &r->hdr : NULL;
}

unsigned long jh_csv_reader_line(const jh_csv_reader *r) {
  return r->ra != NULL ? r->ra->line : r->rec_line;
}

const char *jh_csv_reader_error(const jh_csv_reader *r) {
  if (r->ra != NULL && !r->ra->done)
    return ""; /* the thread's until the end */
  return r->errmsg;
}

size_t jh_csv_reader_memory(const jh_csv_reader *r) {
  if (r->ra != NULL) /* a bound: the thread owns the parser's buffers */
    return sizeof(*r) + sizeof(*r->ra) + 2 * RA_BLOCK + r->hdr_size +
           r->hdr.nfields * (sizeof(*r->hdr_ptrs) + sizeof(*r->hdr_lens)) +
           r->ra->cap * (sizeof(*r->ra->ptrs) + sizeof(*r->ra->lens));
  return sizeof(*r) + r->data_cap + r->spans_cap * sizeof(*r->spans) +
         r->ptrs_cap * sizeof(*r->ptrs) + r->lens_cap * sizeof(*r->lens) +
         r->hdr_size +
         r->hdr.nfields * (sizeof(*r->hdr_ptrs) + sizeof(*r->hdr_lens));
}

void jh_csv_reader_close(jh_csv_reader *r) {
  if (r == NULL)
    return;
  if (r->ra != NULL)
    ra_end(r);
  if (r->fd >= 0)
    close(r->fd);
  free(r->path);
  free(r->trim);
  free(r->data);
  free(r->spans);
  free(r->ptrs);
  free(r->lens);
  free(r->hdr_data);
  free(r->hdr_ptrs);
  free(r->hdr_lens);
  free(r);
}

size_t jh_csv_record_nfields(const jh_csv_record *rec) { return rec->nfields; }

/* ------------------------------------------------------------- writer */

struct background;

struct jh_csv_writer {
  struct background *bg; /* NULL: records are formatted and written by
                            the caller's thread */
  int fd;
  char *path; /* final name */
  char *tmp;  /* path + ".tmp" */
  char sep;
  int error; /* first write error, sticky */
  char *buf; /* WRITE_BUFSIZE bytes of output not written yet */
  size_t len;
  off_t written, kicked; /* bytes written; bytes handed to writeback */
};

static void writer_free(jh_csv_writer *w) {
  if (w->fd >= 0)
    close(w->fd);
  free(w->path);
  free(w->tmp);
  free(w->buf);
  free(w);
}

int jh_csv_writer_open(const char *path, char separator, jh_csv_writer **out) {
  jh_csv_writer *w;
  size_t len = strlen(path);
  int rc;
  *out = NULL;
  if (separator != '\0' && !valid_separator(separator))
    return -EINVAL;
  w = calloc(1, sizeof(*w));
  if (w == NULL)
    return -ENOMEM;
  w->fd = -1;
  w->sep = separator ? separator : ',';
  w->path = strdup(path);
  w->tmp = malloc(len + sizeof(JH_CSV_TEMP_SUFFIX));
  w->buf = malloc(WRITE_BUFSIZE);
  if (w->path == NULL || w->tmp == NULL || w->buf == NULL) {
    writer_free(w);
    return -ENOMEM;
  }
  memcpy(w->tmp, path, len);
  memcpy(w->tmp + len, JH_CSV_TEMP_SUFFIX, sizeof(JH_CSV_TEMP_SUFFIX));
  w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (w->fd < 0) {
    rc = -errno;
    writer_free(w);
    return rc;
  }
  *out = w;
  return 0;
}

/* Write out the buffer; a failure is kept in w->error. */
static int writer_flush(jh_csv_writer *w) {
  const char *p = w->buf;
  size_t n = w->len;
  while (n > 0 && w->error == 0) {
    ssize_t got = write(w->fd, p, n);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      w->error = -errno;
    else {
      p += got;
      n -= (size_t)got;
      w->written += got;
    }
  }
  w->len = 0;
#ifdef SYNC_FILE_RANGE_WRITE
  /* Start writing back what is written so far, so that the fsync of a
   * large file at commit has little left to wait for. Only a hint. */
  if (w->error == 0 && w->written - w->kicked >= WRITEBACK_STEP) {
    sync_file_range(w->fd, w->kicked, w->written - w->kicked,
                    SYNC_FILE_RANGE_WRITE);
    w->kicked = w->written;
  }
#endif
  return w->error;
}

/* Room for n more bytes in the buffer (n at most WRITE_BUFSIZE). */
static int writer_room(jh_csv_writer *w, size_t n) {
  if (w->len + n > WRITE_BUFSIZE)
    return writer_flush(w);
  return w->error;
}

static int writer_put(jh_csv_writer *w, const char *s, size_t n) {
  while (n > 0) {
    size_t chunk = n < WRITE_BUFSIZE ? n : WRITE_BUFSIZE;
    if (writer_room(w, chunk) < 0)
      return w->error;
    memcpy(w->buf + w->len, s, chunk);
    w->len += chunk;
    s += chunk;
    n -= chunk;
  }
  return w->error;
}

/* Whether a field must be quoted: it holds the separator, a quote, CR
 * or LF (looked for eight bytes at a time), or starts or ends with a
 * space or a tab. */
static int needs_quotes(const char *s, size_t len, char sep) {
  size_t i = 0;
  if (len == 0)
    return 0;
  if (s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' || s[len - 1] == '\t')
    return 1;
  for (; i + 8 <= len; i += 8) {
    uint64_t v;
    memcpy(&v, s + i, sizeof(v));
    if (has_byte(v, '"') || has_byte(v, '\r') || has_byte(v, '\n') ||
        has_byte(v, (unsigned char)sep))
      return 1;
  }
  for (; i < len; i++)
    if (s[i] == sep || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
      return 1;
  return 0;
}

static int write_quoted(jh_csv_writer *w, const char *s, size_t len) {
  if (writer_put(w, "\"", 1) < 0)
    return w->error;
  while (len > 0) {
    const char *q = memchr(s, '"', len);
    size_t n = q != NULL ? (size_t)(q - s) + 1 : len;
    if (writer_put(w, s, n) < 0 || (q != NULL && writer_put(w, "\"", 1) < 0))
      return w->error;
    s += n;
    len -= n;
  }
  return writer_put(w, "\"", 1);
}

static size_t field_length(const char *const *fields, const size_t *lengths,
                           size_t i) {
  if (fields[i] == NULL)
    return 0;
  return lengths ? lengths[i] : strlen(fields[i]);
}

static int format_record(jh_csv_writer *w, const char *const *fields,
                         const size_t *lengths, size_t n) {
  if (w->error)
    return w->error;
  if (n == 1 && field_length(fields, lengths, 0) == 0)
    return writer_put(w, "\"\"\r\n", 4); /* not an empty line, which
                                              readers skip */
  for (size_t i = 0; i < n; i++) {
    const char *s = fields[i] ? fields[i] : "";
    size_t len = field_length(fields, lengths, i);
    if (needs_quotes(s, len, w->sep)) {
      if ((i > 0 && writer_put(w, &w->sep, 1) < 0) ||
          write_quoted(w, s, len) < 0)
        return w->error;
    } else if (len < WRITE_BUFSIZE - w->len) { /* the common case */
      if (i > 0)
        w->buf[w->len++] = w->sep;
      memcpy(w->buf + w->len, s, len);
      w->len += len;
    } else if ((i > 0 && writer_put(w, &w->sep, 1) < 0) ||
               writer_put(w, s, len) < 0)
      return w->error;
  }
  return writer_put(w, "\r\n", 2);
}

/* ------------------------------------------------- background writer */

/*
 * In the background, the caller's thread only copies each record into a
 * block (a count, the lengths, then the bytes); a thread of the writer
 * formats full blocks and writes them, while the caller fills the other
 * block. Two blocks of BLOCK_SIZE (more for a record that is larger): the
 * memory stays bounded whatever the file's size. The thread owns buf, fd,
 * len, written, kicked and error until it is joined; the caller learns
 * of a write error at the next block it hands over, or at commit.
 */
#define BLOCK_SIZE (1u << 20)

struct background {
  struct twin t; /* t.stop: no more blocks will come */
  int filling;   /* the block the caller fills */
  int handed;    /* the block the thread is to write, or -1 */
  int error;     /* the thread's first error */
};

/* Format and write the records of one block (in the writer's thread). */
static int write_block(jh_csv_writer *w, const struct block *b,
                       const char ***fields, size_t **lengths, size_t *cap) {
  size_t off = 0;
  while (off < b->len && w->error == 0) {
    uint32_t n, len;
    memcpy(&n, b->data + off, sizeof(n));
    off += sizeof(n);
    if (fields_fit(fields, lengths, cap, n) != 0)
      return -ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
      memcpy(&len, b->data + off + i * sizeof(len), sizeof(len));
      (*lengths)[i] = len;
    }
    off += n * sizeof(len);
    for (uint32_t i = 0; i < n; i++) {
      (*fields)[i] = b->data + off;
      off += (*lengths)[i];
    }
    format_record(w, *fields, *lengths, n);
  }
  return w->error;
}

static void *background_main(void *arg) {
  jh_csv_writer *w = arg;
  struct background *bg = w->bg;
  const char **fields = NULL;
  size_t *lengths = NULL, cap = 0;
  pthread_mutex_lock(&bg->t.mu);
  for (;;) {
    int rc;
    while (bg->handed < 0 && !bg->t.stop)
      pthread_cond_wait(&bg->t.cv, &bg->t.mu);
    if (bg->handed < 0)
      break;
    pthread_mutex_unlock(&bg->t.mu);
    rc = write_block(w, &bg->t.blocks[bg->handed], &fields, &lengths, &cap);
    pthread_mutex_lock(&bg->t.mu);
    if (rc != 0 && bg->error == 0)
      bg->error = rc;
    bg->t.blocks[bg->handed].len = 0;
    bg->handed = -1;
    pthread_cond_broadcast(&bg->t.cv);
  }
  pthread_mutex_unlock(&bg->t.mu);
  free(fields);
  free(lengths);
  return NULL;
}

int jh_csv_writer_background(jh_csv_writer *w) {
  struct background *bg;
  int rc;
  if (w->bg != NULL || w->error != 0)
    return w->error;
  bg = calloc(1, sizeof(*bg));
  if (bg == NULL)
    return -ENOMEM;
  bg->handed = -1;
  w->bg = bg;
  rc = twin_start(&bg->t, BLOCK_SIZE, background_main, w);
  if (rc != 0) {
    w->bg = NULL;
    free(bg);
    /* without a thread the writer goes on in the caller's thread */
    return rc < 0 ? rc : -rc;
  }
  return 0;
}

/* Hand the block being filled to the thread once it is free: 0, or the
 * thread's error. */
static int hand_over(struct background *bg) {
  int rc;
  pthread_mutex_lock(&bg->t.mu);
  while (bg->handed >= 0)
    pthread_cond_wait(&bg->t.cv, &bg->t.mu);
  rc = bg->error;
  if (rc == 0 && bg->t.blocks[bg->filling].len > 0) {
    bg->handed = bg->filling;
    bg->filling = 1 - bg->filling;
    pthread_cond_broadcast(&bg->t.cv);
  }
  pthread_mutex_unlock(&bg->t.mu);
  return rc;
}

static int put_record(jh_csv_writer *w, const char *const *fields,
                      const size_t *lengths, size_t n) {
  struct background *bg = w->bg;
  struct block *b = &bg->t.blocks[bg->filling];
  size_t need = sizeof(uint32_t) * (n + 1);
  uint32_t small[32], *lens = small, u;
  char *p;
  int rc = 0;
  if (n > UINT32_MAX / 2)
    return -EOVERFLOW;
  if (n > sizeof(small) / sizeof(small[0]) &&
      (lens = malloc(n * sizeof(*lens))) == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < n && rc == 0; i++) {
    size_t len = field_length(fields, lengths, i);
    if (len > UINT32_MAX)
      rc = -EOVERFLOW;
    lens[i] = (uint32_t)len;
    need += len;
  }
  if (rc == 0 && b->len > 0 && b->len + need > b->cap &&
      (rc = hand_over(bg)) == 0)
    b = &bg->t.blocks[bg->filling];
  if (rc == 0) /* a record larger than a block */
    rc = block_fit(b, need);
  if (rc == 0) {
    p = b->data + b->len;
    u = (uint32_t)n;
    memcpy(p, &u, sizeof(u));
    memcpy(p + sizeof(u), lens, n * sizeof(*lens));
    p += sizeof(u) * (n + 1);
    for (size_t i = 0; i < n; i++) {
      if (lens[i] > 0)
        memcpy(p, fields[i], lens[i]);
      p += lens[i];
    }
    b->len += need;
  }
  if (lens != small)
    free(lens);
  return rc;
}

/* Stop the thread, after it has written what is left when `flush`: 0 or
 * the first error, which the writer keeps. */
static int background_end(jh_csv_writer *w, int flush) {
  struct background *bg = w->bg;
  int rc = 0;
  if (bg == NULL)
    return w->error;
  if (flush)
    rc = hand_over(bg);
  twin_stop(&bg->t);
  if (rc == 0)
    rc = bg->error;
  free(bg);
  w->bg = NULL;
  if (rc != 0 && w->error == 0)
    w->error = rc;
  return w->error;
}

int jh_csv_write_record_n(jh_csv_writer *w, const char *const *fields,
                          const size_t *lengths, size_t n) {
  if (w->bg != NULL)
    return put_record(w, fields, lengths, n);
  return format_record(w, fields, lengths, n);
}

int jh_csv_write_record(jh_csv_writer *w, const char *const *fields, size_t n) {
  return jh_csv_write_record_n(w, fields, NULL, n);
}

/* fsync the folder holding path so that the rename is durable. */
static int sync_parent(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir;
  int rc;
  if (slash == NULL)
    dir = strdup(".");
  else
    dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
  if (dir == NULL)
    return -ENOMEM;
  rc = jh_fsync_dir(dir);
  free(dir);
  return rc;
}

int jh_csv_writer_sync(jh_csv_writer *w) {
  int rc = background_end(w, 1);
  if (rc == 0)
    rc = writer_flush(w);
  if (rc == 0 && fsync(w->fd) != 0)
    rc = -errno;
  if (rc != 0 && w->error == 0)
    w->error = rc;
  return rc;
}

int jh_csv_writer_commit(jh_csv_writer *w) {
  int rc = background_end(w, 1);
  if (rc == 0)
    rc = writer_flush(w);
  if (rc == 0 && fsync(w->fd) != 0)
    rc = -errno;
  if (close(w->fd) != 0 && rc == 0)
    rc = -errno;
  w->fd = -1;
  if (rc == 0 && rename(w->tmp, w->path) != 0)
    rc = -errno;
  if (rc < 0)
    unlink(w->tmp);
  else
    rc = sync_parent(w->path);
  writer_free(w);
  return rc;
}

void jh_csv_writer_abort(jh_csv_writer *w) {
  if (w == NULL)
    return;
  background_end(w, 0);
  close(w->fd);
  w->fd = -1;
  unlink(w->tmp);
  writer_free(w);
}
