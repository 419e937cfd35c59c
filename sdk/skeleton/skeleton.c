/*
 * skeleton.c — a complete jobhost plugin to copy.
 *
 * It provides one task type, SkeletonTask, and one connector package,
 * "skeleton". Copy this file and the Makefile beside it, rename
 * "skeleton"/"Skeleton" to your names, and build with:
 *
 *   make            # uses pkg-config --cflags jobhost-sdk
 *   make install    # into $(pkg-config --variable=plugindir jobhost-sdk)
 *
 * Rules worth keeping from this file:
 *   - everything is static except the descriptor made by
 *     JOBHOST_PLUGIN_DEFINE, the plugin's only exported symbol;
 *   - parameters are declared in a schema; the host has validated them
 *     before run() is called, so run() only reads them;
 *   - errors are returned as negative codes, with a message for the report;
 *   - nothing is printed to stdout/stderr: use the log service.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jobhost/jobhost.h>

static const jobhost_param skeleton_params[] = {
    {.name = "greeting",
     .type = JOBHOST_PARAM_STRING,
     .default_value = "hello",
     .help = "Word written to the log"},
    {.name = "repeat",
     .type = JOBHOST_PARAM_INT,
     .default_value = "1",
     .help = "How many times to write it (1-100)"},
    JOBHOST_PARAM_END};

static int skeleton_run(jobhost_ctx *ctx) {
  const jobhost_services *svc = ctx->svc;
  const char *greeting = svc->param(ctx, "greeting");
  const char *repeat_text = svc->param(ctx, "repeat");
  char *end = NULL;
  long repeat = strtol(repeat_text ? repeat_text : "1", &end, 10);

  if (end == NULL || *end != '\0' || repeat < 1 || repeat > 100) {
    svc->set_message(ctx, "repeat must be between 1 and 100");
    return JOBHOST_ECONFIG;
  }
  for (long i = 0; i < repeat; i++) {
    if (svc->is_cancelled(ctx))
      return JOBHOST_ECANCELLED;
    jobhost_info(ctx, "%s (%ld/%ld)", greeting, i + 1, repeat);
    svc->progress(ctx, (uint64_t)(i + 1), (uint64_t)repeat);
    svc->counter_add(ctx, "greetings", 1);
  }
  svc->set_produced_output(ctx, 1);
  return 0;
}

static const jobhost_task_type skeleton_task_types[] = {
    {.name = "SkeletonTask",
     .description = "Writes a greeting to the task log",
     .params = skeleton_params,
     .run = skeleton_run},
    JOBHOST_TASK_TYPE_END};

/* Connector package: export writes one table with one row per line of the
 * connection setting "lines" (a comma-separated list). */
static const jobhost_param skeleton_settings[] = {
    {.name = "lines",
     .type = JOBHOST_PARAM_STRING,
     .required = 1,
     .help = "Comma-separated values exported as rows"},
    JOBHOST_PARAM_END};

static int skeleton_export(jobhost_ctx *ctx, void *state) {
  const jobhost_services *svc = ctx->svc;
  static const char *const columns[] = {"value"};
  const char *lines = svc->setting(ctx, "lines");
  jobhost_table *table = NULL;
  char *copy, *save = NULL;
  int rc;

  (void)state;
  if (lines == NULL)
    return JOBHOST_ECONFIG;
  copy = strdup(lines);
  if (copy == NULL)
    return -ENOMEM;
  rc = svc->table_open(ctx, "skeleton_entries", columns, 1, &table);
  for (char *v = strtok_r(copy, ",", &save); rc == 0 && v != NULL;
       v = strtok_r(NULL, ",", &save)) {
    const char *row[1] = {v};
    rc = svc->table_write(table, row, 1);
    if (rc == 0)
      svc->counter_add(ctx, "rows", 1);
  }
  if (table != NULL) {
    int close_rc = svc->table_close(table);
    if (rc == 0)
      rc = close_rc;
  }
  free(copy);
  return rc;
}

static int skeleton_fulfill(jobhost_ctx *ctx, void *state,
                            const jobhost_order *order, char *message,
                            size_t message_size) {
  (void)ctx;
  (void)state;
  if (order->change_type == JOBHOST_CHANGE_DELETED) {
    strncpy(message, "the skeleton cannot delete", message_size - 1);
    message[message_size - 1] = '\0';
    return -EPERM;
  }
  return 0;
}

static const jobhost_package skeleton_packages[] = {
    {.name = "skeleton",
     .description =
         "Exports a list of values; accepts Added and Modified orders",
     .settings = skeleton_settings,
     .export_tables = skeleton_export,
     .fulfill_order = skeleton_fulfill},
    JOBHOST_PACKAGE_END};

JOBHOST_PLUGIN_DEFINE(
    "skeleton", "1.0.0",
    "Template plugin: one task type and one connector package",
    skeleton_task_types, skeleton_packages);
