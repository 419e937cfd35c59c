/*
 * wire.c — see wire.h.
 */
#include "config.h"

#include "wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <jobhost/services.h>

#include "array.h"
#include "timefmt.h"

uint32_t jh_wire_header(unsigned char *buf, jh_wire_type type, const void *head,
                        size_t head_len, size_t *text_len) {
  uint32_t len;
  if (head_len + *text_len > JH_WIRE_MAX_PAYLOAD)
    *text_len = JH_WIRE_MAX_PAYLOAD - head_len;
  len = (uint32_t)(head_len + *text_len);
  memcpy(buf, &len, 4);
  buf[4] = (unsigned char)type;
  if (head_len > 0)
    memcpy(buf + 5, head, head_len);
  return len;
}

size_t jh_wire_encode(unsigned char *buf, jh_wire_type type, const void *head,
                      size_t head_len, const char *text, size_t text_len) {
  uint32_t len = jh_wire_header(buf, type, head, head_len, &text_len);
  if (text_len > 0)
    memcpy(buf + 5 + head_len, text, text_len);
  return 5 + (size_t)len;
}

static jh_counter *counter_find(jh_outcome *o, const char *name, size_t len,
                                int create) {
  jh_counter *grown;
  for (size_t i = 0; i < o->ncounters; i++)
    if (strlen(o->counters[i].name) == len &&
        memcmp(o->counters[i].name, name, len) == 0)
      return &o->counters[i];
  if (!create)
    return NULL;
  grown = realloc(o->counters, (o->ncounters + 1) * sizeof(*grown));
  if (grown == NULL)
    return NULL;
  o->counters = grown;
  grown[o->ncounters].name = strndup(name, len);
  if (grown[o->ncounters].name == NULL)
    return NULL;
  grown[o->ncounters].value = 0;
  return &grown[o->ncounters++];
}

static const char *const level_names[] = {"ERROR", "WARNING", "INFO", "DEBUG"};

FILE *jh_outcome_log(jh_outcome *o) {
  if (o->log == NULL && o->log_path != NULL) {
    o->log = fopen(o->log_path, "ae");
    if (o->log != NULL)
      setvbuf(o->log, NULL, _IOLBF, 0);
  }
  return o->log;
}

void jh_outcome_close_log(jh_outcome *o) {
  if (o->log != NULL)
    fclose(o->log);
  o->log = NULL;
}

uint64_t jh_task_log_max(void) {
  const char *env = getenv("JOBHOST_TASK_LOG_MAX_BYTES");
  char *end = NULL;
  unsigned long long v;
  if (env == NULL || *env == '\0')
    return JH_TASK_LOG_MAX_BYTES;
  errno = 0;
  v = strtoull(env, &end, 10);
  if (errno != 0 || *end != '\0' || v == 0 || env[0] == '-')
    return JH_TASK_LOG_MAX_BYTES;
  return (uint64_t)v;
}

void jh_outcome_log_write(jh_outcome *o, const char *buf, size_t len,
                          uint64_t lines) {
  FILE *log;
  if (o->log_max == 0)
    o->log_max = jh_task_log_max();
  if (o->dropped_lines > 0 || o->dropped_bytes > 0 ||
      o->log_bytes + len > o->log_max) {
    if (o->dropped_lines == 0 && o->dropped_bytes == 0 &&
        (log = jh_outcome_log(o)) != NULL)
      fprintf(log,
              "# the log reached its cap of %llu bytes: later lines "
              "are dropped (counted at the end)\n",
              (unsigned long long)o->log_max);
    o->dropped_lines += lines;
    o->dropped_bytes += len;
    return;
  }
  log = jh_outcome_log(o);
  if (log == NULL)
    return;
  fwrite(buf, 1, len, log);
  o->log_bytes += len;
}

void jh_outcome_log_dropped_note(jh_outcome *o) {
  FILE *log;
  if (o->dropped_lines == 0 && o->dropped_bytes == 0)
    return;
  log = jh_outcome_log(o);
  if (log != NULL)
    fprintf(log,
            "# %llu lines (%llu bytes) dropped beyond the log cap of "
            "%llu bytes\n",
            (unsigned long long)o->dropped_lines,
            (unsigned long long)o->dropped_bytes,
            (unsigned long long)o->log_max);
}

static void write_log_line(jh_outcome *o, unsigned level,
                           const unsigned char *text, size_t len) {
  char stamp[JH_TIME_SIZE], small[1024], *line = small;
  int n;
  o->log_lines++;
  if (o->log_path == NULL && o->log == NULL)
    return;
  jh_time_iso_ms(jh_now_ms(), stamp);
  n = snprintf(small, sizeof(small), "%s %-7s [%s] %.*s\n", stamp,
               level < 4 ? level_names[level] : "LOG",
               o->task_id ? o->task_id : "-", (int)len, (const char *)text);
  if (n >= (int)sizeof(small) &&
      asprintf(&line, "%s %-7s [%s] %.*s\n", stamp,
               level < 4 ? level_names[level] : "LOG",
               o->task_id ? o->task_id : "-", (int)len, (const char *)text) < 0)
    return;
  if (n < 0)
    return;
  jh_outcome_log_write(o, line, (size_t)n, 1);
  if (line != small)
    free(line);
}

int jh_wire_apply(jh_outcome *o, jh_wire_type type, const unsigned char *p,
                  size_t len) {
  int64_t v;
  uint64_t a, b;
  int32_t code;
  jh_counter *c;

  switch (type) {
  case JH_WIRE_LOG:
    if (len < 1)
      return -EPROTO;
    write_log_line(o, p[0], p + 1, len - 1);
    return 0;
  case JH_WIRE_PROGRESS:
    if (len != 16)
      return -EPROTO;
    memcpy(&a, p, 8);
    memcpy(&b, p + 8, 8);
    o->progress_done = a;
    o->progress_total = b;
    return 0;
  case JH_WIRE_COUNTER_ADD:
  case JH_WIRE_COUNTER_SET:
    if (len < 9)
      return -EPROTO;
    memcpy(&v, p, 8);
    c = counter_find(o, (const char *)p + 8, len - 8, 1);
    if (c == NULL)
      return -ENOMEM;
    c->value = type == JH_WIRE_COUNTER_ADD ? c->value + v : v;
    return 0;
  case JH_WIRE_OUTPUT:
    if (len != 1)
      return -EPROTO;
    o->produced_output = p[0] != 0;
    return 0;
  case JH_WIRE_MESSAGE: {
    char *m = strndup((const char *)p, len);
    if (m == NULL)
      return -ENOMEM;
    free(o->message);
    o->message = m;
    return 0;
  }
  case JH_WIRE_RESULT:
    if (len != 4)
      return -EPROTO;
    memcpy(&code, p, 4);
    o->has_result = 1;
    o->result = code;
    return 0;
  case JH_WIRE_COMMITTED:
    if (len > 1 || (len == 1 && p[0] > 1))
      return -EPROTO;
    o->committed = len == 1 && p[0] == 1 ? JH_COMMITTED_HELD
                                         : JH_COMMITTED_APPLIED;
    return 0;
  }
  return -EPROTO;
}

int jh_wire_feed(jh_wire_reader *r, jh_outcome *o, const unsigned char *data,
                 size_t n) {
  size_t off = 0;
  if (jh_array_reserve(&r->buf, &r->cap, r->len + n, 1, 8192) != 0)
    return -ENOMEM;
  memcpy(r->buf + r->len, data, n);
  r->len += n;
  while (r->len - off >= 5) {
    uint32_t len;
    int rc;
    memcpy(&len, r->buf + off, 4);
    if (len > JH_WIRE_MAX_PAYLOAD + 16)
      return -EPROTO;
    if (r->len - off < 5 + (size_t)len)
      break;
    rc = jh_wire_apply(o, (jh_wire_type)r->buf[off + 4], r->buf + off + 5, len);
    if (rc != 0)
      return rc;
    off += 5 + (size_t)len;
  }
  memmove(r->buf, r->buf + off, r->len - off);
  r->len -= off;
  return 0;
}

void jh_wire_reader_clear(jh_wire_reader *r) {
  free(r->buf);
  r->buf = NULL;
  r->len = r->cap = 0;
}

void jh_outcome_clear(jh_outcome *o) {
  FILE *log = o->log;
  const char *log_path = o->log_path;
  const char *task_id = o->task_id;
  uint64_t log_max = o->log_max;
  free(o->message);
  for (size_t i = 0; i < o->ncounters; i++)
    free(o->counters[i].name);
  free(o->counters);
  memset(o, 0, sizeof(*o));
  o->produced_output = -1;
  o->log = log;
  o->log_path = log_path;
  o->task_id = task_id;
  o->log_max = log_max;
}

char *jh_outcome_counters_json(const jh_outcome *o) {
  json_t *obj = json_object();
  char *text;
  if (obj == NULL)
    return NULL;
  for (size_t i = 0; i < o->ncounters; i++)
    json_object_set_new(obj, o->counters[i].name,
                        json_integer((json_int_t)o->counters[i].value));
  text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(obj);
  return text;
}
