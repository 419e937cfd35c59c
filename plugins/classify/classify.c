/*
 * classify.c — the classify plugin: UpdateClassificationTask
 * (doc/identity-manager.md). Not implemented yet: the task type declares
 * its parameters and fails when run (jh_builtin_not_implemented).
 */
#include "config.h"

#include "builtin.h"

static const jobhost_param classify_params[] = {JH_PARAM_ENTITY_TYPES,
                                                JH_PARAM_BATCH("batch_size"),
                                                JH_PARAM_DIRTY,
                                                JOBHOST_PARAM_END};

static const jobhost_task_type classify_task_types[] = {
    {.name = "UpdateClassificationTask",
     .description = "Classify resources with the resource classification rules",
     .params = classify_params,
     .run = jh_builtin_not_implemented,
     .flags = JOBHOST_TASK_NOT_IMPLEMENTED | JOBHOST_TASK_READS_DIRTY},
    JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_DEFINE("classify", PACKAGE_VERSION,
                      "Classification of resources", classify_task_types, NULL);
