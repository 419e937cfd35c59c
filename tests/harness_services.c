/*
 * harness_services.c — see harness_services.h.
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
#include "harness_services.h"
#include "model.h"

struct jobhost_table {
  jh_fake_host *h;
  jh_csv_writer *w;
  size_t ncolumns;
  int failed;
};

static jh_fake_host *host_of(jobhost_ctx *ctx) { return ctx->host_private; }

void jh_fake_host_init(jh_fake_host *h) {
  memset(h, 0, sizeof(*h));
  h->cancel_after = -1;
  h->log_fd = -1;
  h->produced = -1;
}

void jh_fake_host_reset(jh_fake_host *h) {
  free(h->log);
  free(h->cookie_out);
  h->message[0] = '\0';
  h->log = NULL;
  h->log_len = 0;
  memset(h->log_lines, 0, sizeof(h->log_lines));
  h->last_log[0] = '\0';
  h->ncounters = 0;
  h->counter_trail[0] = '\0';
  h->produced = -1;
  h->progress_done = h->progress_total = 0;
  h->cookie_out = NULL;
  h->cookie_out_len = 0;
  h->open_tables = 0;
  h->cancel_calls = 0;
  h->committed = h->committed_held = 0;
}

void jh_fake_host_clear(jh_fake_host *h) {
  jh_fake_host_reset(h);
  free(h->cookie_in);
  h->cookie_in = NULL;
}

void jh_fake_put(jh_fake_pairs *pairs, const char *name, const char *value) {
  for (size_t i = 0; i < pairs->n; i++)
    if (strcmp(pairs->item[i][0], name) == 0) {
      pairs->item[i][1] = value;
      return;
    }
  if (pairs->n == JH_FAKE_MAX_PAIRS)
    fail_msg("more than %d names set on the fake host", JH_FAKE_MAX_PAIRS);
  pairs->item[pairs->n][0] = name;
  pairs->item[pairs->n][1] = value;
  pairs->n++;
}

void jh_fake_put_all(jh_fake_pairs *pairs, const char *const *list) {
  for (size_t i = 0; list != NULL && list[i] != NULL; i += 2)
    jh_fake_put(pairs, list[i], list[i + 1]);
}

static const char *pair_value(const jh_fake_pairs *pairs, const char *name) {
  for (size_t i = 0; i < pairs->n; i++)
    if (strcmp(pairs->item[i][0], name) == 0)
      return pairs->item[i][1];
  return NULL;
}

jobhost_ctx jh_fake_ctx(jh_fake_host *h, const char *task_id,
                        const char *task_type) {
  jobhost_ctx ctx = {.struct_size = sizeof(ctx),
                     .svc = &jh_fake_services,
                     .task_id = task_id,
                     .task_type = task_type,
                     .connection = pair_value(&h->params, "connection"),
                     .host_private = h};
  return ctx;
}

/* ---- what the task says ---- */

static void append_log(jh_fake_host *h, jobhost_log_level level) {
  static const char *const names[] = {"error", "warning", "info", "debug"};
  size_t add = strlen(names[level]) + 2 + strlen(h->last_log) + 1;
  char *grown = realloc(h->log, h->log_len + add + 1);
  if (grown == NULL)
    fail_msg("out of memory");
  h->log = grown;
  h->log_len += (size_t)snprintf(h->log + h->log_len, add + 1, "%s: %s\n",
                                 names[level], h->last_log);
}

static void fake_log(jobhost_ctx *ctx, jobhost_log_level level, const char *fmt,
                     ...) JOBHOST_PRINTF(3, 4);
static void fake_log(jobhost_ctx *ctx, jobhost_log_level level, const char *fmt,
                     ...) {
  jh_fake_host *h = host_of(ctx);
  va_list ap;
  assert_true(level >= JOBHOST_LOG_ERROR && level <= JOBHOST_LOG_DEBUG);
  va_start(ap, fmt);
  vsnprintf(h->last_log, sizeof(h->last_log), fmt, ap);
  va_end(ap);
  h->log_lines[level]++;
  append_log(h, level);
  if (h->log_fd >= 0) {
    size_t len = strlen(h->last_log);
    h->last_log[len] = '\n';
    if (write(h->log_fd, h->last_log, len + 1) < 0)
      abort();
    h->last_log[len] = '\0';
  }
}

static void fake_progress(jobhost_ctx *ctx, uint64_t done, uint64_t total) {
  jh_fake_host *h = host_of(ctx);
  assert_true(total == 0 || done <= total);
  h->progress_done = done;
  h->progress_total = total;
}

static int64_t *counter_slot(jh_fake_host *h, const char *name) {
  size_t i;
  for (i = 0; i < h->ncounters; i++)
    if (strcmp(h->counters[i].name, name) == 0)
      return &h->counters[i].value;
  if (h->ncounters == JH_FAKE_MAX_COUNTERS)
    fail_msg("more than %d counters", JH_FAKE_MAX_COUNTERS);
  if (strlen(name) >= sizeof(h->counters[i].name))
    fail_msg("counter name %s is too long", name);
  strcpy(h->counters[i].name, name);
  h->counters[i].value = 0;
  h->ncounters++;
  return &h->counters[i].value;
}

static void counter_changed(jh_fake_host *h, const char *name, int64_t value) {
  size_t len = strlen(h->counter_trail);
  snprintf(h->counter_trail + len, sizeof(h->counter_trail) - len, "%s=%lld ",
           name, (long long)value);
}

static void fake_counter_add(jobhost_ctx *ctx, const char *name,
                             int64_t delta) {
  int64_t *v = counter_slot(host_of(ctx), name);
  *v += delta;
  counter_changed(host_of(ctx), name, *v);
}

static void fake_counter_set(jobhost_ctx *ctx, const char *name,
                             int64_t value) {
  *counter_slot(host_of(ctx), name) = value;
  counter_changed(host_of(ctx), name, value);
}

int64_t jh_fake_counter(const jh_fake_host *h, const char *name) {
  for (size_t i = 0; i < h->ncounters; i++)
    if (strcmp(h->counters[i].name, name) == 0)
      return h->counters[i].value;
  fail_msg("no counter %s", name);
  return -1;
}

static void fake_set_produced_output(jobhost_ctx *ctx, int produced) {
  host_of(ctx)->produced = produced != 0;
}

static void fake_set_message(jobhost_ctx *ctx, const char *fmt, ...)
    JOBHOST_PRINTF(2, 3);
static void fake_set_message(jobhost_ctx *ctx, const char *fmt, ...) {
  jh_fake_host *h = host_of(ctx);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(h->message, sizeof(h->message), fmt, ap);
  va_end(ap);
}

static int fake_is_cancelled(jobhost_ctx *ctx) {
  jh_fake_host *h = host_of(ctx);
  return h->cancel_after >= 0 && h->cancel_calls++ >= h->cancel_after;
}

/* ---- what the task reads ---- */

static const char *fake_folder(jobhost_ctx *ctx, jobhost_folder which) {
  jh_fake_host *h = host_of(ctx);
  if ((unsigned)which >= sizeof(h->folders) / sizeof(h->folders[0]))
    return NULL;
  return h->folders[which];
}

/* Like the host: the value written, else the schema's default (NULL for
 * a parameter the schema does not declare, *declared 0). */
static const char *param_value(const jh_fake_host *h, const char *name,
                               int *declared) {
  const jobhost_param *schema = h->type != NULL ? h->type->params : NULL;
  const char *v = pair_value(&h->params, name);
  *declared = 1;
  if (v != NULL)
    return v;
  for (size_t i = 0; schema != NULL && schema[i].name != NULL; i++)
    if (strcmp(schema[i].name, name) == 0)
      return schema[i].default_value;
  *declared = 0;
  return NULL;
}

static const char *fake_param(jobhost_ctx *ctx, const char *name) {
  jh_fake_host *h = host_of(ctx);
  int declared;
  const char *v = param_value(h, name, &declared);
  if (!declared && h->strict_params)
    fail_msg("%s read undeclared parameter %s",
             h->type != NULL ? h->type->name : "the task", name);
  return v;
}

void jh_fake_put_list(jh_fake_host *h, const char *name,
                      const char *const *items) {
  size_t n = sizeof(h->lists) / sizeof(h->lists[0]);
  for (size_t i = 0; i < n; i++)
    if (h->lists[i].name == NULL || strcmp(h->lists[i].name, name) == 0) {
      h->lists[i].name = name;
      h->lists[i].items = items;
      return;
    }
  fail_msg("more than %zu lists set on the fake host", n);
}

static size_t fake_param_list(jobhost_ctx *ctx, const char *name,
                              const char *const **items) {
  jh_fake_host *h = host_of(ctx);
  size_t n = 0;
  *items = NULL;
  for (size_t i = 0; i < sizeof(h->lists) / sizeof(h->lists[0]); i++)
    if (h->lists[i].name != NULL && strcmp(h->lists[i].name, name) == 0 &&
        h->lists[i].items != NULL) {
      *items = h->lists[i].items;
      while ((*items)[n] != NULL)
        n++;
    }
  return n;
}

static const char *fake_setting(jobhost_ctx *ctx, const char *name) {
  return pair_value(&host_of(ctx)->settings, name);
}

static int fake_secret(jobhost_ctx *ctx, const char *name, char *buf,
                       size_t size) {
  (void)ctx;
  (void)name;
  if (size > 0)
    buf[0] = '\0';
  return -ENOENT;
}

static const jobhost_package *fake_connection_package(jobhost_ctx *ctx) {
  return host_of(ctx)->package;
}

static void fake_committed(jobhost_ctx *ctx, int held) {
  host_of(ctx)->committed++;
  host_of(ctx)->committed_held = held;
}

static const jh_commit_notice fake_notice = {fake_committed};

static const void *fake_host_object(jobhost_ctx *ctx, const char *name) {
  if (strcmp(name, JH_IDSTORE_OBJECT) == 0)
    return host_of(ctx)->idstore;
  if (strcmp(name, JH_COMMIT_OBJECT) == 0)
    return &fake_notice;
  return strcmp(name, JH_MODEL_OBJECT) == 0 ? host_of(ctx)->model : NULL;
}

/* ---- tables ---- */

static int fake_table_open(jobhost_ctx *ctx, const char *name,
                           const char *const *columns, size_t ncolumns,
                           jobhost_table **out) {
  jh_fake_host *h = host_of(ctx);
  char path[PATH_MAX];
  jobhost_table *t;
  int rc;
  *out = NULL;
  if (h->table_dir == NULL)
    return -EPERM;
  t = calloc(1, sizeof(*t));
  assert_non_null(t);
  snprintf(path, sizeof(path), "%s/%s.csv", h->table_dir, name);
  rc = jh_csv_writer_open(path, ',', &t->w);
  if (rc == 0)
    rc = jh_csv_write_record(t->w, columns, ncolumns);
  if (rc != 0) {
    jh_csv_writer_abort(t->w);
    free(t);
    return rc;
  }
  t->h = h;
  t->ncolumns = ncolumns;
  h->open_tables++;
  *out = t;
  return 0;
}

/* A row of the wrong width, or one that cannot be written, fails the
 * table: its close then discards it. */
static int fake_table_write(jobhost_table *t, const char *const *values,
                            size_t nvalues) {
  int rc;
  if (t == NULL)
    return -EPERM;
  rc = nvalues != t->ncolumns ? -EINVAL
                              : jh_csv_write_record(t->w, values, nvalues);
  t->failed |= rc != 0;
  return rc;
}

static int fake_table_close(jobhost_table *t) {
  int rc;
  if (t == NULL)
    return -EPERM;
  t->h->open_tables--;
  if (t->failed) {
    jh_csv_writer_abort(t->w);
    rc = -EIO;
  } else {
    rc = jh_csv_writer_commit(t->w);
  }
  free(t);
  return rc;
}

/* ---- the cookie ---- */

/* Like the host: none when the task ignores cookies. */
static int fake_cookie_get(jobhost_ctx *ctx, const void **data, size_t *size) {
  jh_fake_host *h = host_of(ctx);
  int declared;
  const char *ignore = param_value(h, "ignore_cookie_file", &declared);
  *data = NULL;
  *size = 0;
  if (h->cookie_in == NULL || (ignore != NULL && strcmp(ignore, "true") == 0))
    return -ENOENT;
  *data = h->cookie_in;
  *size = h->cookie_in_len;
  return 0;
}

static int fake_cookie_set(jobhost_ctx *ctx, const void *data, size_t size) {
  jh_fake_host *h = host_of(ctx);
  free(h->cookie_out);
  h->cookie_out = malloc(size + 1);
  assert_non_null(h->cookie_out);
  memcpy(h->cookie_out, data, size);
  h->cookie_out[size] = '\0';
  h->cookie_out_len = size;
  return 0;
}

const jobhost_services jh_fake_services = {
    .struct_size = sizeof(jobhost_services),
    .abi_major = JOBHOST_ABI_MAJOR,
    .abi_minor = JOBHOST_ABI_MINOR,
    .host_version = PACKAGE_VERSION,
    .log = fake_log,
    .progress = fake_progress,
    .counter_add = fake_counter_add,
    .counter_set = fake_counter_set,
    .set_produced_output = fake_set_produced_output,
    .set_message = fake_set_message,
    .is_cancelled = fake_is_cancelled,
    .folder = fake_folder,
    .param = fake_param,
    .param_list = fake_param_list,
    .setting = fake_setting,
    .secret = fake_secret,
    .table_open = fake_table_open,
    .table_write = fake_table_write,
    .table_close = fake_table_close,
    .cookie_get = fake_cookie_get,
    .cookie_set = fake_cookie_set,
    .connection_package = fake_connection_package,
    .host_object = fake_host_object,
};
