/*
 * fuzz_ldif.c — fuzz target of the LDIF reader: the ldif connector
 * package (plugins/ldif/ldif_package.c, linked in) exports the input as
 * a directory file through a minimal services table whose tables only
 * check and count what they are given.
 *
 * The first byte of an input chooses the package settings (multi_valued
 * given or not, a folder URL values may come from or not); the rest is
 * the file.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jobhost/jobhost.h>

#include "fuzz.h"

extern const jobhost_plugin jobhost_plugin_descriptor;

struct jobhost_table {
  size_t ncolumns;
  unsigned long rows;
};

typedef struct fuzz_host {
  const char *path;
  const char *multi_valued;
  const char *url_folder;
  int open_tables;
} fuzz_host;

static fuzz_host *host_of(jobhost_ctx *ctx) { return ctx->host_private; }

static void f_log(jobhost_ctx *ctx, jobhost_log_level level, const char *fmt,
                  ...) JOBHOST_PRINTF(3, 4);
static void f_log(jobhost_ctx *ctx, jobhost_log_level level, const char *fmt,
                  ...) {
  char text[1024];
  va_list ap;
  (void)ctx;
  (void)level;
  va_start(ap, fmt);
  vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
}

static void f_set_message(jobhost_ctx *ctx, const char *fmt, ...)
    JOBHOST_PRINTF(2, 3);
static void f_set_message(jobhost_ctx *ctx, const char *fmt, ...) {
  char text[1024];
  va_list ap;
  (void)ctx;
  va_start(ap, fmt);
  vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
}

static void f_progress(jobhost_ctx *ctx, uint64_t done, uint64_t total) {
  (void)ctx;
  (void)done;
  (void)total;
}

static void f_counter(jobhost_ctx *ctx, const char *name, int64_t v) {
  (void)ctx;
  (void)name;
  (void)v;
}

static void f_produced(jobhost_ctx *ctx, int produced) {
  (void)ctx;
  (void)produced;
}

static int f_is_cancelled(jobhost_ctx *ctx) {
  (void)ctx;
  return 0;
}

static const char *f_folder(jobhost_ctx *ctx, jobhost_folder which) {
  (void)ctx;
  (void)which;
  return jh_fuzz_dir();
}

static const char *f_param(jobhost_ctx *ctx, const char *name) {
  (void)ctx;
  (void)name;
  return NULL;
}

static size_t f_param_list(jobhost_ctx *ctx, const char *name,
                           const char *const **items) {
  (void)ctx;
  (void)name;
  *items = NULL;
  return 0;
}

static const char *f_setting(jobhost_ctx *ctx, const char *name) {
  fuzz_host *h = host_of(ctx);
  if (strcmp(name, "path") == 0)
    return h->path;
  if (strcmp(name, "multi_valued") == 0)
    return h->multi_valued;
  if (strcmp(name, "allow_url_folder") == 0)
    return h->url_folder;
  return NULL;
}

static int f_secret(jobhost_ctx *ctx, const char *name, char *buf,
                    size_t size) {
  (void)ctx;
  (void)name;
  if (size > 0)
    buf[0] = '\0';
  return -1;
}

static int f_table_open(jobhost_ctx *ctx, const char *name,
                        const char *const *columns, size_t ncolumns,
                        jobhost_table **out) {
  jobhost_table *t;
  if (name == NULL || *name == '\0' || ncolumns == 0)
    abort(); /* a table without a name or columns */
  for (size_t i = 0; i < ncolumns; i++)
    if (columns[i] == NULL)
      abort();
  t = calloc(1, sizeof(*t));
  if (t == NULL)
    return -12;
  t->ncolumns = ncolumns;
  host_of(ctx)->open_tables++;
  *out = t;
  return 0;
}

static int f_table_write(jobhost_table *t, const char *const *values,
                         size_t nvalues) {
  size_t total = 0;
  if (nvalues != t->ncolumns)
    abort(); /* a row of the wrong width */
  for (size_t i = 0; i < nvalues; i++)
    if (values[i] != NULL)
      total += strlen(values[i]);
  (void)total;
  t->rows++;
  return 0;
}

static fuzz_host *table_host;

static int f_table_close(jobhost_table *t) {
  free(t);
  table_host->open_tables--;
  return 0;
}

static int f_cookie_get(jobhost_ctx *ctx, const void **data, size_t *size) {
  (void)ctx;
  *data = NULL;
  *size = 0;
  return 0;
}

static int f_cookie_set(jobhost_ctx *ctx, const void *data, size_t size) {
  (void)ctx;
  (void)data;
  (void)size;
  return 0;
}

static const jobhost_package *f_connection_package(jobhost_ctx *ctx) {
  (void)ctx;
  return NULL;
}

static const void *f_host_object(jobhost_ctx *ctx, const char *name) {
  (void)ctx;
  (void)name;
  return NULL;
}

static const jobhost_services services = {
    .struct_size = sizeof(jobhost_services),
    .abi_major = JOBHOST_ABI_MAJOR,
    .abi_minor = JOBHOST_ABI_MINOR,
    .host_version = PACKAGE_VERSION,
    .log = f_log,
    .progress = f_progress,
    .counter_add = f_counter,
    .counter_set = f_counter,
    .set_produced_output = f_produced,
    .set_message = f_set_message,
    .is_cancelled = f_is_cancelled,
    .folder = f_folder,
    .param = f_param,
    .param_list = f_param_list,
    .setting = f_setting,
    .secret = f_secret,
    .table_open = f_table_open,
    .table_write = f_table_write,
    .table_close = f_table_close,
    .cookie_get = f_cookie_get,
    .cookie_set = f_cookie_set,
    .connection_package = f_connection_package,
    .host_object = f_host_object,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const jobhost_package *pkg = jobhost_plugin_descriptor.packages;
  fuzz_host h;
  jobhost_ctx ctx;
  unsigned char mode;

  if (size == 0)
    return 0;
  mode = data[0];
  memset(&h, 0, sizeof(h));
  h.path = jh_fuzz_file("input.ldif", data + 1, size - 1);
  h.multi_valued = (mode & 1) ? "member,mail" : NULL;
  h.url_folder = (mode & 2) ? jh_fuzz_dir() : NULL;
  memset(&ctx, 0, sizeof(ctx));
  ctx.struct_size = sizeof(ctx);
  ctx.svc = &services;
  ctx.task_id = "Fuzz_Export";
  ctx.task_type = "ExportTask";
  ctx.connection = "Fuzz";
  ctx.host_private = &h;
  table_host = &h;
  (void)pkg->export_tables(&ctx, NULL);
  if (h.open_tables != 0)
    abort(); /* a table left open */
  return 0;
}
