/*
 * synchronize.c — the synchronize plugin: SynchronizeTask and
 * SetRecentlyModifiedFlagTask. reference/domain.md §6.4, §6.5, §8.4, §8.5.
 */
#include "config.h"

#include "builtin.h"

static const jobhost_param synchronize_params[] = {
    JH_PARAM_CONNECTOR(1),
    JH_PARAM_BOOL_OFF("do_not_delete_changes",
                      "Keep the change tables for SetRecentlyModifiedFlagTask"),
    JH_PARAM_BOOL_OFF("force_synchronization",
                      "Apply the changes even when a threshold is exceeded"),
    JH_PARAM_BOOL_OFF("orphans", "Write orphaned resources to a CSV file"),
    JH_PARAM_PREPARE_TYPE,
    JOBHOST_PARAM_END};

static const jobhost_task_type synchronize_task_types[] = {
    {.name = "SynchronizeTask",
     .description = "Load prepared tables into the store (complete, "
                    "incremental or initial), guarded by thresholds",
     .params = synchronize_params,
     .run = jh_builtin_not_implemented,
     .flags = JOBHOST_TASK_NOT_IMPLEMENTED | JOBHOST_TASK_CAN_BLOCK},
    {.name = "SetRecentlyModifiedFlagTask",
     .description = "Flag the resources in the change tables dirty, then "
                    "clear the tables",
     .params = NULL,
     .run = jh_builtin_not_implemented,
     .flags = JOBHOST_TASK_NOT_IMPLEMENTED},
    JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_DEFINE("synchronize", PACKAGE_VERSION,
                      "Synchronization of prepared data into the store",
                      synchronize_task_types, NULL);
