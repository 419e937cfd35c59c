/* jsonl.c — a JSON Lines connector package, told in doc/sdk-guide.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <jobhost/jobhost.h>

static const jobhost_param settings[] = {
    {.name = "path", .type = JOBHOST_PARAM_PATH, .required = 1},
    {.name = "columns", .type = JOBHOST_PARAM_LIST, .required = 1},
    JOBHOST_PARAM_END};

static int jl_export(jobhost_ctx *ctx, __attribute__((unused)) void *state) {
  const char *path = ctx->svc->setting(ctx, "path"), *const * cols;
  size_t n = ctx->svc->setting_list(ctx, "columns", &cols), cap = 0;
  const char **row = calloc(n + 1, sizeof(*row));
  FILE *f = fopen(path, "r");
  jobhost_table *table = NULL;
  char *line = NULL;
  json_error_t err;
  int rc = f == NULL || row == NULL
               ? -errno
               : ctx->svc->table_open(ctx, ctx->connection, cols, n, &table);
  for (size_t no = 1; rc == 0 && getline(&line, &cap, f) > 0; no++) {
    json_t *obj = json_loads(line, 0, &err), *v;
    int strings = json_is_object(obj);
    for (size_t k = 0; k < n; k++) {
      row[k] = json_string_value(v = json_object_get(obj, cols[k]));
      strings &= row[k] != NULL || v == NULL || json_is_null(v);
    }
    rc = strings && row[0] ? ctx->svc->table_write(table, row, n) : -EILSEQ;
    if (rc == -EILSEQ)
      ctx->svc->set_message(ctx, "%s:%zu:%d: %s", path, no,
                            obj ? 1 : err.column,
                            obj ? "expected strings, a key" : err.text);
    json_decref(obj);
  }
  if (table != NULL && ctx->svc->table_close(table) != 0)
    rc = rc ? rc : -EIO;
  if (f == NULL || row == NULL)
    ctx->svc->set_message(ctx, "%s: %s", path, strerror(-rc));
  if (f != NULL)
    fclose(f);
  free(line);
  free(row);
  return rc;
}

static int jl_fulfill(jobhost_ctx *ctx, __attribute__((unused)) void *state,
                      const jobhost_order *o, char *message, size_t size) {
  const char *path = ctx->svc->setting(ctx, "path"), *const * cols, *id;
  const char *key = o->resource_id ? o->resource_id : "";
  char tmp[4096], *line = NULL;
  FILE *in = fopen(path, "r"), *out = NULL;
  json_t *obj, *next = json_object();
  size_t cap = 0, many = o->nadded + o->nremoved;
  snprintf(tmp, sizeof(tmp), "%s.new", path);
  if (ctx->svc->setting_list(ctx, "columns", &cols) > 0 && in != NULL)
    out = fopen(tmp, "w");
  while (out != NULL && getline(&line, &cap, in) > 0) {
    obj = json_loads(line, 0, NULL);
    id = json_string_value(json_object_get(obj, cols[0]));
    if (id != NULL && strcmp(id, key) == 0)
      json_object_update(next, obj);
    else
      fprintf(out, "%s%s", line, strchr(line, '\n') ? "" : "\n");
    json_decref(obj);
  }
  for (size_t i = 0; i < o->nchanges; i++) {
    const jobhost_order_value *c = &o->changes[i];
    json_object_set_new(next, c->name,
                        c->nvalues ? json_string(c->values[0]) : json_null());
    many += c->nvalues > 1;
  }
  if (out != NULL && o->change_type != JOBHOST_CHANGE_DELETED &&
      json_dumpf(next, out, JSON_COMPACT) == 0)
    fputc('\n', out);
  if (in != NULL)
    fclose(in);
  json_decref(next);
  free(line);
  if (out == NULL || (ferror(out) | fclose(out)) || many > 0 ||
      rename(tmp, path) != 0) {
    snprintf(message, size, "'%s': %s", key,
             many ? "a member takes one value" : "the file cannot be written");
    remove(tmp);
    return -EIO;
  }
  return 0;
}

static const jobhost_package packages[] = {{.name = "jsonl",
                                            .settings = settings,
                                            .export_tables = jl_export,
                                            .fulfill_order = jl_fulfill},
                                           JOBHOST_PACKAGE_END};

JOBHOST_PLUGIN_DEFINE("jsonl", "1.0.0", "JSON Lines files", NULL, packages);
