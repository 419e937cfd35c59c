/*
 * export.c — the export plugin: ExportTask.
 *
 * ExportTask runs the export of one connection through its connector
 * package and keeps the mechanics (ExportOutput, ExportCookies,
 * IgnoreCookieFile, counters, progress, cancellation) out of the
 * packages. doc/identity-manager.md, doc/synchronization.md.
 *
 * How: the package is called with a context whose services table is a
 * copy of the host's with a few members wrapped — the table writer (to
 * count tables and rows, report progress and stop a cancelled export),
 * set_message (to know whether the package explained its failure),
 * progress (a package that reports its own progress silences ours) and
 * the counters (a package that sets "rows" or "tables" itself keeps its
 * value: ours are then not written).
 * Everything else goes to the host unchanged: the host identifies the
 * task through ctx->host_private, which the copy keeps.
 *
 * IgnoreCookieFile is the host's: its cookie_get answers -ENOENT when the
 * task ignores cookies, so a package sees a complete export. Tables and
 * the new cookie are published by the host only when run() returns 0.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "builtin.h"
#include "model.h"

/* Rows between two looks at the cancel flag and two progress reports. */
#define ROWS_PER_CHECK 4096u

typedef struct export_table export_table;

/* The state of one run, around the context the package sees. */
typedef struct export_run {
  jobhost_ctx ctx;       /* what the package receives; svc = &svc */
  jobhost_services svc;  /* the host's table, some members wrapped */
  jobhost_ctx *host_ctx; /* the host's context */
  const jobhost_services *host;
  export_table *open_tables; /* wrappers not closed yet */
  uint64_t rows;             /* rows written, every table */
  uint64_t tables;           /* tables closed successfully */
  unsigned since_check;      /* rows since the last cancel check */
  int message_set;           /* the package called set_message */
  int package_progress;      /* the package reports progress itself */
  int own_rows, own_tables;  /* the package keeps these counters itself */
  int cancelled;             /* a write was refused because of a cancel */
} export_run;

/* A table handle given to the package: the host's handle and counts. */
struct export_table {
  export_run *run;
  jobhost_table *host_table;
  char *name; /* owned, for the log */
  uint64_t rows;
  export_table *next;
};

static export_run *run_of(jobhost_ctx *ctx) {
  /* ctx is &run->ctx: the only context wrapped functions receive. */
  return (export_run *)(void *)((char *)ctx - offsetof(export_run, ctx));
}

/* ---- wrapped services ---- */

static void report_progress(export_run *run) {
  if (!run->package_progress)
    run->host->progress(run->host_ctx, run->rows, 0);
  if (!run->own_rows)
    run->host->counter_set(run->host_ctx, "rows", (int64_t)run->rows);
}

static int wrap_table_open(jobhost_ctx *ctx, const char *name,
                           const char *const *columns, size_t ncolumns,
                           jobhost_table **out) {
  export_run *run = run_of(ctx);
  export_table *t;
  int rc;

  *out = NULL;
  if (run->host->is_cancelled(run->host_ctx)) {
    run->cancelled = 1;
    return JOBHOST_ECANCELLED;
  }
  t = calloc(1, sizeof(*t));
  if (t == NULL || (t->name = strdup(name != NULL ? name : "")) == NULL) {
    free(t);
    return -ENOMEM;
  }
  rc = run->host->table_open(run->host_ctx, name, columns, ncolumns,
                             &t->host_table);
  if (rc != 0) {
    free(t->name);
    free(t);
    return rc;
  }
  t->run = run;
  t->next = run->open_tables;
  run->open_tables = t;
  *out = (jobhost_table *)(void *)t;
  return 0;
}

static int wrap_table_write(jobhost_table *table, const char *const *values,
                            size_t nvalues) {
  export_table *t = (export_table *)(void *)table;
  export_run *run;
  int rc;

  if (t == NULL)
    return -EBADF;
  run = t->run;
  if (++run->since_check >= ROWS_PER_CHECK) {
    run->since_check = 0;
    if (run->host->is_cancelled(run->host_ctx)) {
      run->cancelled = 1;
      return JOBHOST_ECANCELLED;
    }
    report_progress(run);
  }
  rc = run->host->table_write(t->host_table, values, nvalues);
  if (rc == 0) {
    t->rows++;
    run->rows++;
  }
  return rc;
}

/* Unlink t from the run's open tables, close it at the host, free it. */
static int close_table(export_table *t) {
  export_run *run = t->run;
  export_table **p = &run->open_tables;
  int rc;

  while (*p != NULL && *p != t)
    p = &(*p)->next;
  if (*p == NULL)
    return -EBADF; /* not one of ours, or closed twice */
  *p = t->next;
  rc = run->host->table_close(t->host_table);
  if (rc == 0) {
    run->tables++;
    jobhost_info(run->host_ctx, "table %s: %llu rows", t->name,
                 (unsigned long long)t->rows);
  }
  free(t->name);
  free(t);
  return rc;
}

static int wrap_table_close(jobhost_table *table) {
  export_table *t = (export_table *)(void *)table;
  return t != NULL ? close_table(t) : -EBADF;
}

static void wrap_set_message(jobhost_ctx *ctx, const char *fmt, ...)
    JOBHOST_PRINTF(2, 3);
static void wrap_set_message(jobhost_ctx *ctx, const char *fmt, ...) {
  export_run *run = run_of(ctx);
  char text[1024];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  run->message_set = 1;
  run->host->set_message(run->host_ctx, "%s", text);
}

/* A package that sets "rows" or "tables" itself keeps them: ExportTask
 * then leaves that counter alone (jobhost/connector.h). */
static void own_counter(export_run *run, const char *name) {
  if (name != NULL && strcmp(name, "rows") == 0)
    run->own_rows = 1;
  if (name != NULL && strcmp(name, "tables") == 0)
    run->own_tables = 1;
}

static void wrap_counter_add(jobhost_ctx *ctx, const char *name,
                             int64_t delta) {
  export_run *run = run_of(ctx);
  own_counter(run, name);
  run->host->counter_add(run->host_ctx, name, delta);
}

static void wrap_counter_set(jobhost_ctx *ctx, const char *name,
                             int64_t value) {
  export_run *run = run_of(ctx);
  own_counter(run, name);
  run->host->counter_set(run->host_ctx, name, value);
}

static void wrap_progress(jobhost_ctx *ctx, uint64_t done, uint64_t total) {
  export_run *run = run_of(ctx);
  run->package_progress = 1;
  run->host->progress(run->host_ctx, done, total);
}

/* Build the context and services the package sees. */
static void run_init(export_run *run, jobhost_ctx *ctx) {
  size_t svc_size = ctx->svc->struct_size < sizeof(run->svc)
                        ? ctx->svc->struct_size
                        : sizeof(run->svc);
  size_t ctx_size = ctx->struct_size < sizeof(run->ctx) ? ctx->struct_size
                                                        : sizeof(run->ctx);

  memset(run, 0, sizeof(*run));
  run->host_ctx = ctx;
  run->host = ctx->svc;
  memcpy(&run->svc, ctx->svc, svc_size);
  run->svc.struct_size = (uint32_t)svc_size;
  run->svc.table_open = wrap_table_open;
  run->svc.table_write = wrap_table_write;
  run->svc.table_close = wrap_table_close;
  run->svc.set_message = wrap_set_message;
  run->svc.progress = wrap_progress;
  run->svc.counter_add = wrap_counter_add;
  run->svc.counter_set = wrap_counter_set;
  memcpy(&run->ctx, ctx, ctx_size);
  run->ctx.struct_size = (uint32_t)ctx_size;
  run->ctx.svc = &run->svc;
}

/* Close what the package left open: its export is then a failure, since
 * the host would refuse to publish an unfinished table anyway. Returns
 * the number of tables closed. */
static size_t close_leftovers(export_run *run, const char *package) {
  size_t n = 0;
  while (run->open_tables != NULL) {
    export_table *t = run->open_tables;
    jobhost_error(run->host_ctx, "package %s left table %s open", package,
                  t->name);
    (void)close_table(t);
    n++;
  }
  return n;
}

/* ---- ExportTask ---- */

static const char *connection_of(jobhost_ctx *ctx) {
  const char *conn = ctx->connection;
  if (conn == NULL)
    conn = ctx->svc->param(ctx, JOBHOST_PARAM_NAME_CONNECTION);
  return conn != NULL ? conn : "(none)";
}

static int param_true(jobhost_ctx *ctx, const char *name) {
  const char *v = ctx->svc->param(ctx, name);
  return v != NULL && strcmp(v, "true") == 0;
}

/* Say why the connection has no package: undeclared, or its package is
 * not loaded. The model is the host's (host_object), read only. */
static int no_package(jobhost_ctx *ctx, const char *conn) {
  const jobhost_services *svc = ctx->svc;
  const jh_model *m = NULL;
  const jh_connection *c = NULL;

  if (JOBHOST_SVC_HAS(svc, host_object))
    m = svc->host_object(ctx, JH_MODEL_OBJECT);
  for (size_t i = 0; m != NULL && i < m->nconnections && c == NULL; i++)
    if (strcasecmp(m->connections[i].id, conn) == 0)
      c = &m->connections[i];
  if (c == NULL)
    svc->set_message(ctx,
                     "connection %s is not declared in the model (a "
                     "`connections:` entry of a file the pipeline includes)",
                     conn);
  else
    svc->set_message(ctx,
                     "connection %s: its package '%s' is provided by no "
                     "loaded plugin (see `jobhost plugins`)",
                     conn, c->package != NULL ? c->package : "");
  return JOBHOST_ECONFIG;
}

static int export_run_task(jobhost_ctx *ctx) {
  const jobhost_services *svc = ctx->svc;
  const char *conn = connection_of(ctx);
  const jobhost_package *pkg;
  export_run *run;
  void *state = NULL;
  int rc;

  if (!JOBHOST_SVC_HAS(svc, connection_package)) {
    svc->set_message(ctx,
                     "ExportTask needs host services of ABI 1.1 "
                     "(connection_package); this host offers %u.%u",
                     (unsigned)svc->abi_major, (unsigned)svc->abi_minor);
    return -ENOTSUP;
  }
  pkg = svc->connection_package(ctx);
  if (pkg == NULL)
    return no_package(ctx, conn);
  if (pkg->export_tables == NULL) {
    svc->set_message(ctx,
                     "connection %s: package %s cannot export (it has no "
                     "export entry point)",
                     conn, pkg->name);
    return JOBHOST_ECONFIG;
  }
  if (svc->is_cancelled(ctx))
    return JOBHOST_ECANCELLED;

  run = malloc(sizeof(*run));
  if (run == NULL)
    return -ENOMEM;
  run_init(run, ctx);
  jobhost_info(ctx, "export of connection %s with package %s%s", conn,
               pkg->name,
               param_true(ctx, JOBHOST_PARAM_NAME_IGNORE_COOKIE)
                   ? " (complete: cookie ignored)"
                   : "");

  rc = pkg->open != NULL ? pkg->open(&run->ctx, &state) : 0;
  if (rc == 0) {
    rc = pkg->export_tables(&run->ctx, state);
    if (pkg->close != NULL)
      pkg->close(&run->ctx, state);
  }
  if (close_leftovers(run, pkg->name) > 0 && rc == 0) {
    svc->set_message(ctx, "connection %s: package %s left a table open", conn,
                     pkg->name);
    run->message_set = 1;
    rc = -EIO;
  }
  if (run->cancelled)
    rc = JOBHOST_ECANCELLED; /* a refused write: the export is incomplete,
                                whatever the package made of it */

  if (!run->own_tables)
    svc->counter_set(ctx, "tables", (int64_t)run->tables);
  if (!run->own_rows)
    svc->counter_set(ctx, "rows", (int64_t)run->rows);
  if (rc == 0) {
    if (!run->package_progress)
      svc->progress(ctx, run->rows, run->rows);
    svc->set_produced_output(ctx, run->tables > 0);
    if (!run->message_set)
      svc->set_message(ctx, "%llu table%s, %llu row%s from connection %s",
                       (unsigned long long)run->tables,
                       run->tables == 1 ? "" : "s",
                       (unsigned long long)run->rows, run->rows == 1 ? "" : "s",
                       conn);
  } else if (rc == JOBHOST_ECANCELLED) {
    svc->set_message(ctx, "connection %s: export cancelled", conn);
  } else if (!run->message_set) {
    svc->set_message(ctx, "connection %s: export by package %s failed: %s",
                     conn, pkg->name, jobhost_strerror(rc));
  }
  free(run);
  return rc;
}

static const jobhost_param export_params[] = {
    JH_PARAM_CONNECTION(1),
    JH_PARAM_CONNECTOR(0),
    JH_PARAM_BOOL_OFF(JOBHOST_PARAM_NAME_IGNORE_COOKIE,
                      "Ignore the incremental cookie: export everything"),
    JH_PARAM_BOOL_OFF("init_mode",
                      "Initialization export: do not historize changes"),
    JH_PARAM_OPEN_ID_CLIENT,
    JOBHOST_PARAM_END};

static const jobhost_task_type export_task_types[] = {
    {.name = "ExportTask",
     .description = "Export a connection's system into CSV tables",
     .params = export_params,
     .run = export_run_task,
     .flags = JOBHOST_TASK_AGENT_SIDE | JOBHOST_TASK_EXPORTS},
    JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_DEFINE("export", PACKAGE_VERSION,
                      "Export of connections through their connector package",
                      export_task_types, NULL);
