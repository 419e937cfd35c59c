/*
 * synchronize.c — the synchronize plugin: SynchronizeTask and
 * SetRecentlyModifiedFlagTask. See doc/identity-manager.md.
 *
 * The work is in syncer.c; this file reads the task's parameters and
 * folders and reports counters, messages and the produced-output flag.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "change_report.h"
#include "instance_id.h"
#include "model.h"
#include "syncer.h"

static const jobhost_param synchronize_params[] = {
    JH_PARAM_CONNECTOR(1),
    JH_PARAM_BOOL_OFF("do_not_delete_changes",
                      "Keep the change tables for SetRecentlyModifiedFlagTask"),
    JH_PARAM_BOOL_OFF("force_synchronization",
                      "Apply the changes even when a threshold is exceeded"),
    JH_PARAM_BOOL_OFF("orphans", "Write orphaned resources to a CSV file"),
    JH_PARAM_PREPARE_TYPE,
    JOBHOST_PARAM_END};

static int is_true(jobhost_ctx *ctx, const char *name) {
  const char *v = ctx->svc->param(ctx, name);
  return v != NULL && strcmp(v, "true") == 0;
}

static int cancelled(void *arg) {
  jobhost_ctx *ctx = arg;
  return ctx->svc->is_cancelled(ctx);
}

static void log_line(void *arg, int level, const char *line) {
  jobhost_ctx *ctx = arg;
  ctx->svc->log(ctx, (jobhost_log_level)level, "%s", line);
}

static void counters(jobhost_ctx *ctx, const jh_sync_stats *st);

/* Tell the host the transaction is committed, with the counters of what
 * it did first: a cancel that comes later is too late, and whatever
 * happens next the task is recorded Succeeded (changes applied) or
 * Blocked (changes held), with these counters. */
static void committed(void *arg, int held, const jh_sync_stats *stats) {
  jobhost_ctx *ctx = arg;
  const jh_commit_notice *n = ctx->svc->host_object(ctx, JH_COMMIT_OBJECT);
  counters(ctx, stats);
  if (n != NULL && n->committed != NULL)
    n->committed(ctx, held);
}

/* What the built-in tasks need from the host (ABI 1.1). */
static int host_objects(jobhost_ctx *ctx, const jh_model **model,
                        const char **store) {
  const jobhost_services *svc = ctx->svc;
  if (!JOBHOST_SVC_HAS(svc, host_object)) {
    svc->set_message(ctx, "this host (ABI %u.%u) lacks the model service",
                     (unsigned)svc->abi_major, (unsigned)svc->abi_minor);
    return JOBHOST_EABI;
  }
  *model = svc->host_object(ctx, JH_MODEL_OBJECT);
  *store = svc->host_object(ctx, JH_IDSTORE_OBJECT);
  if (*model == NULL || *store == NULL) {
    svc->set_message(ctx, "the host shares no model or identity store");
    return JOBHOST_ECONFIG;
  }
  return 0;
}

static void counters(jobhost_ctx *ctx, const jh_sync_stats *st) {
  const jobhost_services *svc = ctx->svc;
  svc->counter_set(ctx, "batches", st->batches);
  svc->counter_set(ctx, "rows", st->rows);
  svc->counter_set(ctx, jh_change_counter(JH_CHANGE_INSERT), st->inserted);
  svc->counter_set(ctx, jh_change_counter(JH_CHANGE_UPDATE), st->updated);
  svc->counter_set(ctx, jh_change_counter(JH_CHANGE_DELETE), st->deleted);
  svc->counter_set(ctx, "unchanged", st->unchanged);
  svc->counter_set(ctx, jh_change_counter(JH_CHANGE_LINK_INSERT),
                   st->link_inserted);
  svc->counter_set(ctx, jh_change_counter(JH_CHANGE_LINK_DELETE),
                   st->link_deleted);
  if (st->superseded > 0)
    svc->counter_set(ctx, "superseded", st->superseded);
}

/* The change report goes beside the task log: <log stem>.changes.csv. */
static int report_path(jobhost_ctx *ctx, char *buf, size_t size) {
  const char *log = ctx->svc->host_object(ctx, JH_TASKLOG_OBJECT);
  return log != NULL && jh_change_report_path(log, buf, size) == 0;
}

/* The job instance this task runs in, which its log's name starts with
 * (lib/instance_id.h). 0 when it cannot tell. */
static int64_t job_instance(jobhost_ctx *ctx) {
  const char *log = ctx->svc->host_object(ctx, JH_TASKLOG_OBJECT);
  return log != NULL ? jh_instance_of_name(log) : 0;
}

static int synchronize_run(jobhost_ctx *ctx) {
  const jobhost_services *svc = ctx->svc;
  const jh_model *model;
  const char *store;
  char report[PATH_MAX], err[1024];
  jh_sync_args a;
  jh_sync_stats st;
  int rc = host_objects(ctx, &model, &store);

  if (rc != 0)
    return rc;
  memset(&a, 0, sizeof(a));
  a.model = model;
  a.connector = svc->param(ctx, JOBHOST_PARAM_NAME_CONNECTOR);
  a.collect_dir = svc->folder(ctx, JOBHOST_FOLDER_COLLECT);
  a.work_dir = svc->folder(ctx, JOBHOST_FOLDER_TASK_WORK);
  a.store_path = store;
  a.report_path = report_path(ctx, report, sizeof(report)) ? report : NULL;
  a.task_instance = ctx->task_instance;
  a.job_instance = job_instance(ctx);
  a.resume_of = ctx->resume_of;
  a.force = ctx->force || is_true(ctx, "force_synchronization");
  a.do_not_delete_changes = is_true(ctx, "do_not_delete_changes");
  a.cancelled = cancelled;
  a.log = log_line;
  a.committed = committed;
  a.arg = ctx;
  if (a.collect_dir == NULL || a.work_dir == NULL) {
    svc->set_message(ctx, "the host gave no Collect or work folder");
    return JOBHOST_ECONFIG;
  }
  rc = jh_sync_run(&a, &st, err, sizeof(err));
  counters(ctx, &st);
  if (rc != 0) {
    svc->set_message(ctx, "%s", err);
    if (rc != JOBHOST_EBLOCKED)
      jobhost_error(ctx, "%s", err);
    else
      jobhost_warning(ctx, "%s", err);
    return rc;
  }
  svc->set_produced_output(ctx, st.applied);
  if (a.report_path != NULL)
    jobhost_info(ctx, "change report: %s", a.report_path);
  svc->set_message(ctx,
                   "%s%" PRId64 " inserted, %" PRId64 " updated, %" PRId64
                   " deleted, %" PRId64 " links inserted, %" PRId64
                   " links deleted%s%s",
                   ctx->resume_of > 0 ? "validated: " : "", st.inserted,
                   st.updated, st.deleted, st.link_inserted, st.link_deleted,
                   st.note[0] ? "; " : "", st.note);
  return 0;
}

static int mark_dirty_run(jobhost_ctx *ctx) {
  const jobhost_services *svc = ctx->svc;
  const jh_model *model;
  const char *store;
  char err[1024];
  int64_t flagged, cleared;
  int rc = host_objects(ctx, &model, &store);

  if (rc != 0)
    return rc;
  rc = jh_sync_mark_dirty(store, &flagged, &cleared, err, sizeof(err));
  if (rc != 0) {
    svc->set_message(ctx, "%s", err);
    return rc;
  }
  svc->counter_set(ctx, "flagged", flagged);
  svc->counter_set(ctx, "cleared", cleared);
  svc->set_produced_output(ctx, flagged > 0 || cleared > 0);
  svc->set_message(ctx,
                   "%" PRId64 " resources flagged dirty, %" PRId64
                   " change rows cleared",
                   flagged, cleared);
  return 0;
}

static const jobhost_task_type synchronize_task_types[] = {
    {.name = "SynchronizeTask",
     .description = "Load prepared tables into the store (complete, "
                    "incremental or initial), guarded by thresholds",
     .params = synchronize_params,
     .run = synchronize_run,
     .flags = JOBHOST_TASK_CAN_BLOCK | JOBHOST_TASK_SYNCHRONIZES},
    {.name = "SetRecentlyModifiedFlagTask",
     .description = "Flag the resources in the change tables dirty, then "
                    "clear the tables",
     .params = NULL,
     .run = mark_dirty_run,
     .flags = JOBHOST_TASK_SETS_DIRTY},
    JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_DEFINE("synchronize", PACKAGE_VERSION,
                      "Synchronization of prepared data into the store",
                      synchronize_task_types, NULL);
