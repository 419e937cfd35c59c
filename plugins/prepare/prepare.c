/*
 * prepare.c — the prepare plugin: PrepareSynchronizationTask.
 *
 * Cleanses and sorts exported tables and computes incremental deltas
 * against the previous snapshot (doc/identity-manager.md). This
 * file is the task glue: parameters, folders, counters; the work is done
 * by collect.c (doc/synchronization.md is the contract it writes).
 *
 * Sort memory: JH_PREP_DEFAULT_MEMORY (64 MiB) per table, overridden by
 * the environment variable JOBHOST_PREPARE_MEMORY (bytes, or with a K, M
 * or G suffix; at least 1M).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "builtin.h"
#include "collect.h"
#include "idstore.h"
#include "model.h"

#define MEMORY_ENV "JOBHOST_PREPARE_MEMORY"

static const char *const prepare_modes[] = {"Initial", "Complete",
                                            "Incremental", NULL};

static const jobhost_param prepare_params[] = {
    JH_PARAM_CONNECTOR(1),
    {.name = JOBHOST_PARAM_NAME_SYNC_MODE,
     .type = JOBHOST_PARAM_ENUM,
     .default_value = "Complete",
     .choices = prepare_modes,
     .help =
         "Initial, Complete or Incremental; must match the synchronize task"},
    JH_PARAM_PREPARE_TYPE,
    {.name = "column_name",
     .type = JOBHOST_PARAM_STRING,
     .default_value = JH_PREP_DEFAULT_COMMAND,
     .help = "Column holding the command when the input is a delta"},
    {.name = "working_directory",
     .type = JOBHOST_PARAM_STRING,
     .help = "Working directory (default: the Collect folder; a relative "
             "path is taken from the Work folder)"},
    JH_PARAM_OPEN_ID_CLIENT,
    JOBHOST_PARAM_END};

static void log_line(void *arg, int level, const char *msg) {
  jobhost_ctx *ctx = arg;
  ctx->svc->log(ctx, (jobhost_log_level)level, "%s", msg);
}

static int is_cancelled(void *arg) {
  jobhost_ctx *ctx = arg;
  return ctx->svc->is_cancelled(ctx);
}

static int config_error(jobhost_ctx *ctx, const char *msg) {
  jobhost_error(ctx, "%s", msg);
  ctx->svc->set_message(ctx, "%s", msg);
  return JOBHOST_ECONFIG;
}

static int parse_mode(const char *text, jh_prep_mode *mode) {
  jh_batch_mode m;
  if (jh_batch_mode_parse(text, &m) != 0)
    return -1;
  *mode = (jh_prep_mode)m;
  return 0;
}

/* The Collect folder, or working_directory (a relative one is taken from
 * the Work folder, the Collect folder's parent). *owned is what to free. */
static const char *collect_folder(jobhost_ctx *ctx, char **owned) {
  const char *collect = ctx->svc->folder(ctx, JOBHOST_FOLDER_COLLECT);
  const char *wd = ctx->svc->param(ctx, "working_directory");
  const char *slash;
  int len;
  size_t size;
  *owned = NULL;
  if (wd == NULL || *wd == '\0')
    return collect;
  if (wd[0] == '/')
    return wd;
  if (collect == NULL || (slash = strrchr(collect, '/')) == NULL)
    return NULL;
  len = (int)(slash - collect);
  size = (size_t)len + strlen(wd) + 2;
  *owned = malloc(size);
  if (*owned != NULL)
    snprintf(*owned, size, "%.*s/%s", len, collect, wd);
  return *owned;
}

static void report(jobhost_ctx *ctx, const jh_prep_options *o,
                   const jh_prep_result *res) {
  const jobhost_services *svc = ctx->svc;
  const jh_prep_table_stats *t = &res->total;
  svc->counter_set(ctx, "tables", (int64_t)res->ntables);
  svc->counter_set(ctx, "input_rows", (int64_t)t->input_rows);
  svc->counter_set(ctx, "rows", (int64_t)t->rows);
  svc->counter_set(ctx, "duplicates", (int64_t)t->duplicates);
  svc->counter_set(ctx, "nullpk", (int64_t)t->nullpk);
  if (o->mode == JH_PREP_INCREMENTAL) {
    svc->counter_set(ctx, "inserted", (int64_t)t->inserted);
    svc->counter_set(ctx, "updated", (int64_t)t->updated);
    svc->counter_set(ctx, "deleted", (int64_t)t->deleted);
    if (o->input == JH_PREP_CHANGES)
      svc->counter_set(ctx, "merged", (int64_t)t->merged);
  }
}

/*
 * An incremental prepare takes its delta against previous/, which the
 * batch that failed (and was set aside by synchronize) already replaced:
 * its delta would skip changes the store never received. Until a
 * complete synchronization of the connector, it is refused.
 */
static int refuse_after_failed_batch(jobhost_ctx *ctx, const char *connector) {
  const char *store = JOBHOST_SVC_HAS(ctx->svc, host_object)
                          ? ctx->svc->host_object(ctx, JH_IDSTORE_OBJECT)
                          : NULL;
  char why[1024], msg[1400];
  long long seq;
  int rc;
  if (store == NULL || connector == NULL)
    return 0;
  rc = jh_idstore_failed_batch(store, connector, &seq, why, sizeof(why));
  if (rc != 0)
    return config_error(ctx, why);
  if (seq == 0)
    return 0;
  snprintf(msg, sizeof(msg),
           "connector %s: batch %lld failed and was set "
           "aside (%.600s); an incremental prepare cannot follow it: run a "
           "complete synchronization of %s",
           connector, seq, why, connector);
  return config_error(ctx, msg);
}

static int prepare_run(jobhost_ctx *ctx) {
  const jobhost_services *svc = ctx->svc;
  const char *type = svc->param(ctx, "prepare_type");
  const char *memory = getenv(MEMORY_ENV);
  jh_prep_options o = {.task_instance = ctx->task_instance,
                       .log = log_line,
                       .cancelled = is_cancelled,
                       .arg = ctx};
  jh_prep_result res;
  char err[2048], *owned = NULL;
  int rc;

  if (JOBHOST_SVC_HAS(svc, host_object))
    o.model = svc->host_object(ctx, JH_MODEL_OBJECT);
  o.connector = svc->param(ctx, JOBHOST_PARAM_NAME_CONNECTOR);
  if (parse_mode(svc->param(ctx, JOBHOST_PARAM_NAME_SYNC_MODE), &o.mode) < 0)
    return config_error(ctx, "synchronization_mode: expected Initial, "
                             "Complete or Incremental");
  /* Changes and ActiveDirectory exports carry a command column; it only
   * means something to an incremental prepare (a complete one drops it
   * like any unmapped column). */
  if (type != NULL && strcasecmp(type, "None") != 0 &&
      o.mode == JH_PREP_INCREMENTAL)
    o.input = JH_PREP_CHANGES;
  if (o.mode == JH_PREP_INCREMENTAL &&
      (rc = refuse_after_failed_batch(ctx, o.connector)) != 0)
    return rc;
  o.command_column = svc->param(ctx, "column_name");
  o.export_dir = svc->folder(ctx, JOBHOST_FOLDER_EXPORT_OUTPUT);
  o.collect_dir = collect_folder(ctx, &owned);
  if (o.export_dir == NULL || o.collect_dir == NULL) {
    free(owned);
    return config_error(ctx, "the ExportOutput and Collect folders are "
                             "not available");
  }
  if (memory != NULL && (jh_prep_parse_size(memory, &o.memory_limit) < 0 ||
                         o.memory_limit < JH_PREP_MIN_MEMORY)) {
    free(owned);
    return config_error(ctx, MEMORY_ENV ": expected a size of at least 1M "
                                        "(bytes, or with a K, M or G suffix)");
  }

  rc = jh_prepare_collect(&o, &res, err, sizeof(err));
  report(ctx, &o, &res);
  if (rc < 0) {
    jobhost_error(ctx, "%s", err);
    svc->set_message(ctx, "%s", err);
  } else if (!res.published) {
    svc->set_produced_output(ctx, 0);
    svc->set_message(ctx,
                     "%zu table%s of %s: no change, nothing to "
                     "synchronize",
                     res.ntables, res.ntables == 1 ? "" : "s", o.connector);
  } else {
    const char *slash = strrchr(res.batch_dir, '/');
    svc->set_produced_output(ctx, 1);
    svc->set_message(ctx,
                     "%zu table%s of %s in batch %s: %llu rows, %llu "
                     "duplicates, %llu null keys",
                     res.ntables, res.ntables == 1 ? "" : "s", o.connector,
                     slash ? slash + 1 : res.batch_dir,
                     (unsigned long long)res.batch_rows,
                     (unsigned long long)res.total.duplicates,
                     (unsigned long long)res.total.nullpk);
  }
  jh_prep_result_free(&res);
  free(owned);
  return rc;
}

static const jobhost_task_type prepare_task_types[] = {
    {.name = "PrepareSynchronizationTask",
     .description =
         "Cleanse, sort and diff exported tables for synchronization",
     .params = prepare_params,
     .run = prepare_run,
     .flags = JOBHOST_TASK_AGENT_SIDE | JOBHOST_TASK_PREPARES},
    JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_DEFINE("prepare", PACKAGE_VERSION,
                      "Preparation of exported data for synchronization",
                      prepare_task_types, NULL);
