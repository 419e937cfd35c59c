/*
 * prepare.c — the prepare plugin: PrepareSynchronizationTask.
 *
 * Cleanses and sorts exported tables and computes incremental deltas
 * against the previous snapshot. reference/domain.md §6.3 and §8.3.
 */
#include "config.h"

#include "builtin.h"

static const char *const prepare_modes[] = {"Initial", "Complete",
                                            "Incremental", NULL};

static const jobhost_param prepare_params[] = {
    JH_PARAM_CONNECTOR(1),
    {.name = "synchronization_mode",
     .type = JOBHOST_PARAM_ENUM,
     .default_value = "Complete",
     .choices = prepare_modes,
     .help = "Initial, Complete or Incremental; must match the synchronize task"},
    JH_PARAM_PREPARE_TYPE,
    {.name = "column_name",
     .type = JOBHOST_PARAM_STRING,
     .help = "Column holding the command when the input is a delta"},
    {.name = "working_directory",
     .type = JOBHOST_PARAM_STRING,
     .help = "Working directory (default: the Collect folder)"},
    JH_PARAM_OPEN_ID_CLIENT,
    JOBHOST_PARAM_END};

static const jobhost_task_type prepare_task_types[] = {
    {.name = "PrepareSynchronizationTask",
     .description = "Cleanse, sort and diff exported tables for synchronization",
     .params = prepare_params,
     .run = jh_builtin_not_implemented,
     .flags = JOBHOST_TASK_NOT_IMPLEMENTED | JOBHOST_TASK_AGENT_SIDE},
    JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_DEFINE("prepare", PACKAGE_VERSION,
                      "Preparation of exported data for synchronization",
                      prepare_task_types, NULL);
