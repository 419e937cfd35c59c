/*
 * order_file.c — provisioning order files (order_file.h).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atomic_file.h"
#include "order_file.h"

#define LIST_KEY "ProvisioningOrdersList"

static const char *const change_names[] = {"Added", "Modified", "Deleted"};

int jh_order_file_name(char *buf, size_t size, int64_t ms,
                       int64_t task_instance, unsigned seq) {
  time_t secs = (time_t)(ms / 1000);
  struct tm tm;
  char stamp[32];
  int n;

  if (gmtime_r(&secs, &tm) == NULL ||
      strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) == 0)
    snprintf(stamp, sizeof(stamp), "%" PRId64, ms / 1000);
  n = snprintf(buf, size, "%s-%" PRId64 "-%04u.json", stamp, task_instance,
               seq);
  return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int jh_order_change_type(const char *text) {
  for (size_t i = 0; text != NULL && i < 3; i++)
    if (strcmp(text, change_names[i]) == 0)
      return (int)i + 1;
  return -1;
}

static int shape_error(char *err, size_t errsize, const char *what,
                       const char *key) {
  snprintf(err, errsize, "%s %s", key, what);
  return -EINVAL;
}

/* An optional member that must be an object when present. */
static int object_or_absent(const json_t *order, const char *key, char *err,
                            size_t errsize) {
  const json_t *v = json_object_get(order, key);
  if (v != NULL && !json_is_object(v))
    return shape_error(err, errsize, "is not an object", key);
  return 0;
}

int jh_order_check(const json_t *order, char *err, size_t errsize) {
  const json_t *id, *ct, *rt;
  static const char *const objects[] = {"Owner", "Changes", "Resource"};

  if (!json_is_object(order))
    return shape_error(err, errsize, "is not an object", "the order");
  id = json_object_get(order, "AssignedResourceTypeId");
  if (!json_is_string(id) || json_string_length(id) == 0)
    return shape_error(err, errsize, "is missing or not a text",
                       "AssignedResourceTypeId");
  ct = json_object_get(order, "ChangeType");
  if (!json_is_string(ct))
    return shape_error(err, errsize, "is missing or not a text", "ChangeType");
  if (jh_order_change_type(json_string_value(ct)) < 0) {
    snprintf(err, errsize,
             "ChangeType \"%s\" is not Added, Modified or Deleted",
             json_string_value(ct));
    return -EINVAL;
  }
  rt = json_object_get(order, "ResourceType");
  if (!json_is_object(rt) || !json_is_string(json_object_get(rt, "Identifier")))
    return shape_error(err, errsize, "is missing or has no Identifier",
                       "ResourceType");
  for (size_t i = 0; i < sizeof(objects) / sizeof(objects[0]); i++)
    if (object_or_absent(order, objects[i], err, errsize) != 0)
      return -EINVAL;
  return 0;
}

/* Check every order of list; the first bad one is named by its index. */
static int check_list(const json_t *list, char *err, size_t errsize) {
  size_t i;
  const json_t *o;
  char why[256];

  if (!json_is_array(list)) {
    snprintf(err, errsize, "%s is missing or not an array", LIST_KEY);
    return -EINVAL;
  }
  json_array_foreach(list, i, o) {
    if (jh_order_check(o, why, sizeof(why)) != 0) {
      snprintf(err, errsize, "order %zu: %s", i, why);
      return -EINVAL;
    }
  }
  return 0;
}

/* The text of a file: the envelope's head, the orders, one a line, the
 * tail added by the write. */
struct jh_order_writer {
  char *buf;
  size_t len, cap;
  size_t count;
  int failed; /* out of memory while appending */
  /* an order being streamed: its open objects and arrays, innermost
   * last, and whether each has a member yet */
  int depth;
  char closer[JH_ORDER_WRITER_DEPTH];
  char filled[JH_ORDER_WRITER_DEPTH];
};

/* One order a line, laid out as json_dumps with JSON_SORT_KEYS alone
 * lays it out (", " between members, ": " after a key): a file reads
 * and greps by order, and is a quarter smaller than an indented one. */
#define HEAD "{\"" LIST_KEY "\": [\n"
#define TAIL "\n]}\n"

/* Grow the buffer for n more bytes and the final NUL: 0, or -1 (and
 * w->failed) when out of memory. */
static int grow(jh_order_writer *w, size_t n) {
  size_t cap = w->cap ? w->cap : 4096;
  char *grown;
  if (w->failed)
    return -1;
  while (cap < w->len + n + 1)
    cap *= 2;
  grown = realloc(w->buf, cap);
  if (grown == NULL) {
    w->failed = 1;
    return -1;
  }
  w->buf = grown;
  w->cap = cap;
  return 0;
}

/* Room for n more bytes and the final NUL: 0, or -1 (and w->failed)
 * when out of memory. */
static inline int reserve(jh_order_writer *w, size_t n) {
  if (!w->failed && w->len + n + 1 <= w->cap)
    return 0;
  return grow(w, n);
}

static void append(jh_order_writer *w, const char *p, size_t n) {
  if (reserve(w, n) != 0)
    return;
  memcpy(w->buf + w->len, p, n);
  w->len += n;
  w->buf[w->len] = '\0';
}

static void start(jh_order_writer *w) {
  w->len = 0;
  w->count = 0;
  w->failed = 0;
  append(w, HEAD, strlen(HEAD));
}

int jh_order_writer_new(jh_order_writer **out) {
  jh_order_writer *w = calloc(1, sizeof(*w));
  *out = NULL;
  if (w == NULL)
    return -ENOMEM;
  start(w);
  if (w->failed) {
    free(w);
    return -ENOMEM;
  }
  *out = w;
  return 0;
}

void jh_order_writer_free(jh_order_writer *w) {
  if (w != NULL)
    free(w->buf);
  free(w);
}

size_t jh_order_writer_count(const jh_order_writer *w) { return w->count; }

/* The escape of a byte of a JSON string: 0 for none, 'u' for \u00XX,
 * else the letter after the backslash. */
static char escape_of(unsigned char ch) {
  static const char short_esc[32] = {
      ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'};
  if (ch == '"' || ch == '\\')
    return (char)ch;
  if (ch >= 0x20)
    return 0;
  return short_esc[ch] ? short_esc[ch] : 'u';
}

#define BYTES(c) (UINT64_C(0x0101010101010101) * (c))

/* Whether none of the 8 bytes of x is written escaped: none below 0x20,
 * no quote, no backslash (each test is exact as to whether a byte
 * matches). */
static inline int plain8(uint64_t x) {
  uint64_t q = x ^ BYTES('"'), b = x ^ BYTES('\\');
  uint64_t t = ((x - BYTES(0x20)) & ~x) | ((q - BYTES(1)) & ~q) |
               ((b - BYTES(1)) & ~b);
  return (t & BYTES(0x80)) == 0;
}

/* A JSON string of s (UTF-8, checked when it was made): quotes,
 * backslashes and control characters escaped, the rest as it is, copied
 * 8 bytes at a time where none of them needs an escape. */
static void put_string(jh_order_writer *w, const char *s, size_t len) {
  static const char hex[] = "0123456789ABCDEF";
  char *out;
  size_t i = 0;
  if (len > (SIZE_MAX - 2) / 6) {
    w->failed = 1;
    return;
  }
  if (reserve(w, 6 * len + 2) != 0)
    return;
  out = w->buf + w->len;
  *out++ = '"';
  while (i < len) {
    unsigned char ch;
    char e;
    if (len - i >= 8) {
      uint64_t x;
      memcpy(&x, s + i, 8);
      if (plain8(x)) {
        memcpy(out, &x, 8);
        out += 8;
        i += 8;
        continue;
      }
    }
    ch = (unsigned char)s[i++];
    if (ch >= 0x20 && ch != '"' && ch != '\\') {
      *out++ = (char)ch;
      continue;
    }
    e = escape_of(ch);
    *out++ = '\\';
    *out++ = e;
    if (e == 'u') {
      memcpy(out, "00", 2);
      out[2] = hex[ch >> 4];
      out[3] = hex[ch & 15];
      out += 4;
    }
  }
  *out++ = '"';
  *out = '\0';
  w->len = (size_t)(out - w->buf);
}

static int put_value(jh_order_writer *w, const json_t *v);

/* One member of an object being written. */
typedef struct member {
  const char *key;
  const json_t *value;
} member;

static int key_order(const void *a, const void *b) {
  return strcmp(((const member *)a)->key, ((const member *)b)->key);
}

/* An object's members in key order (JSON_SORT_KEYS). */
static int put_object(jh_order_writer *w, const json_t *v) {
  member small[32], *ms = small;
  size_t n = json_object_size(v), i = 0;
  const char *k;
  json_t *m;
  int rc = 0;
  if (n == 0) {
    append(w, "{}", 2);
    return 0;
  }
  if (n > sizeof(small) / sizeof(small[0]) &&
      (ms = malloc(n * sizeof(*ms))) == NULL)
    return -1;
  json_object_foreach((json_t *)v, k, m) { ms[i++] = (member){k, m}; }
  qsort(ms, n, sizeof(*ms), key_order);
  append(w, "{", 1);
  for (i = 0; i < n && rc == 0; i++) {
    if (i > 0)
      append(w, ", ", 2);
    put_string(w, ms[i].key, strlen(ms[i].key));
    append(w, ": ", 2);
    rc = put_value(w, ms[i].value);
  }
  append(w, "}", 1);
  if (ms != small)
    free(ms);
  return rc;
}

static int put_array(jh_order_writer *w, const json_t *v) {
  size_t n = json_array_size(v);
  int rc = 0;
  if (n == 0) {
    append(w, "[]", 2);
    return 0;
  }
  append(w, "[", 1);
  for (size_t i = 0; i < n && rc == 0; i++) {
    if (i > 0)
      append(w, ", ", 2);
    rc = put_value(w, json_array_get(v, i));
  }
  append(w, "]", 1);
  return rc;
}

/* Any other value (numbers, true, false, null) as jansson gives it. */
static int put_scalar(jh_order_writer *w, const json_t *v) {
  char *text = json_dumps(v, JSON_ENCODE_ANY);
  if (text == NULL)
    return -1;
  append(w, text, strlen(text));
  free(text);
  return 0;
}

/* v as JSON_SORT_KEYS lays it out. */
static int put_value(jh_order_writer *w, const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT:
    return put_object(w, v);
  case JSON_ARRAY:
    return put_array(w, v);
  case JSON_STRING:
    put_string(w, json_string_value(v), json_string_length(v));
    return 0;
  case JSON_NULL:
    append(w, "null", 4);
    return 0;
  default:
    return put_scalar(w, v);
  }
}

int jh_order_writer_add(jh_order_writer *w, const json_t *order, char *err,
                        size_t errsize) {
  if (jh_order_check(order, err, errsize) != 0)
    return -EINVAL;
  if (w->count > 0)
    append(w, ",\n", 2);
  if (w->failed || put_value(w, order) != 0 || w->failed) {
    snprintf(err, errsize, "out of memory");
    w->failed = 1;
    return -ENOMEM;
  }
  w->count++;
  return 0;
}

/* ---- an order streamed ---- */

static void open_container(jh_order_writer *w, char opener, char closer) {
  char c = opener;
  append(w, &c, 1);
  if (w->depth >= JH_ORDER_WRITER_DEPTH) {
    w->failed = 1;
    return;
  }
  w->closer[w->depth] = closer;
  w->filled[w->depth] = 0;
  w->depth++;
}

/* The separator before the next member or item, then the key when
 * given. */
static void next_member(jh_order_writer *w, const char *key) {
  int top = w->depth - 1;
  if (top < 0) {
    w->failed = 1;
    return;
  }
  if (w->filled[top])
    append(w, ", ", 2);
  w->filled[top] = 1;
  if (key != NULL) {
    put_string(w, key, strlen(key));
    append(w, ": ", 2);
  }
}

void jh_order_writer_begin(jh_order_writer *w) {
  if (w->count > 0)
    append(w, ",\n", 2);
  w->depth = 0;
  open_container(w, '{', '}');
}

void jh_order_writer_string(jh_order_writer *w, const char *key,
                            const char *value, size_t len) {
  next_member(w, key);
  if (value == NULL)
    append(w, "null", 4);
  else
    put_string(w, value, len);
}

void jh_order_writer_object(jh_order_writer *w, const char *key) {
  next_member(w, key);
  open_container(w, '{', '}');
}

void jh_order_writer_array(jh_order_writer *w, const char *key) {
  next_member(w, key);
  open_container(w, '[', ']');
}

void jh_order_writer_close(jh_order_writer *w) {
  int top = w->depth - 1;
  if (top < 0) {
    w->failed = 1;
    return;
  }
  w->depth--;
  append(w, &w->closer[top], 1);
}

int jh_order_writer_end(jh_order_writer *w) {
  if (w->depth != 1)
    w->failed = 1;
  else
    jh_order_writer_close(w);
  if (w->failed)
    return -ENOMEM;
  w->count++;
  return 0;
}

/* Close the file's list: 0, or a negative errno with err naming path. */
static int finish(jh_order_writer *w, const char *path, char *err,
                  size_t errsize) {
  append(w, TAIL, strlen(TAIL));
  if (w->failed) {
    snprintf(err, errsize, "%s: out of memory", path);
    return -ENOMEM;
  }
  if (w->count == 0) {
    snprintf(err, errsize, "%s: no order to write", path);
    return -EINVAL;
  }
  return 0;
}

int jh_order_writer_write(jh_order_writer *w, const char *path, char *err,
                          size_t errsize) {
  int rc = finish(w, path, err, errsize);
  if (rc == 0 && (rc = jh_write_file_atomic(path, w->buf, w->len, 0644)) != 0)
    snprintf(err, errsize, "%s: cannot write: %s", path, strerror(-rc));
  start(w);
  return rc;
}

int jh_order_writer_take(jh_order_writer *w, const char *path, char **buf,
                         size_t *len, char *err, size_t errsize) {
  int rc = finish(w, path, err, errsize);
  size_t had = w->len;
  *buf = NULL;
  *len = 0;
  if (rc == 0) {
    *buf = w->buf;
    *len = w->len;
    w->buf = NULL;
    w->cap = 0;
  }
  /* room for a file as large as this one (a failure shows on the next
   * order, as any other) */
  start(w);
  (void)reserve(w, had);
  return rc;
}

int jh_order_file_write(const char *path, const json_t *orders, char *err,
                        size_t errsize) {
  char why[512];
  jh_order_writer *w;
  const json_t *o;
  size_t i;
  int rc;

  if (check_list(orders, why, sizeof(why)) != 0) {
    snprintf(err, errsize, "%s: %s", path, why);
    return -EINVAL;
  }
  if (jh_order_writer_new(&w) != 0) {
    snprintf(err, errsize, "%s: out of memory", path);
    return -ENOMEM;
  }
  rc = 0;
  json_array_foreach(orders, i, o) {
    if (rc == 0)
      rc = jh_order_writer_add(w, o, why, sizeof(why));
  }
  if (rc != 0)
    snprintf(err, errsize, "%s: %s", path, why);
  else
    rc = jh_order_writer_write(w, path, err, errsize);
  jh_order_writer_free(w);
  return rc;
}

int jh_order_file_read(const char *path, json_t **orders, char *err,
                       size_t errsize) {
  json_error_t je;
  json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
  json_t *list;
  char why[512];

  *orders = NULL;
  if (doc == NULL) {
    if (json_error_code(&je) == json_error_cannot_open_file) {
      snprintf(err, errsize, "%s: %s", path, je.text);
      return -ENOENT;
    }
    snprintf(err, errsize, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    return -EINVAL;
  }
  list = json_is_object(doc) ? json_object_get(doc, LIST_KEY) : NULL;
  if (!json_is_object(doc) || check_list(list, why, sizeof(why)) != 0) {
    snprintf(err, errsize, "%s: %s", path,
             json_is_object(doc) ? why : "the document is not an object");
    json_decref(doc);
    return -EINVAL;
  }
  *orders = json_incref(list);
  json_decref(doc);
  return 0;
}
