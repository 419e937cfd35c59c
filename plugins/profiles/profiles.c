/*
 * profiles.c — the profiles plugin: SetInternalUserProfilesTask
 * (doc/identity-manager.md). Not implemented yet: the task type declares
 * its parameters and fails when run (jh_builtin_not_implemented).
 */
#include "config.h"

#include "builtin.h"

static const jobhost_param profiles_params[] = {
    JH_PARAM_ENTITY_TYPES, JH_PARAM_RESOURCE_TYPES,
    JH_PARAM_BATCH("batch_insert_size"), JH_PARAM_BATCH("batch_select_size"),
    JOBHOST_PARAM_END};

static const jobhost_task_type profiles_task_types[] = {
    {.name = "SetInternalUserProfilesTask",
     .description = "Assign internal user profiles with the profile rules",
     .params = profiles_params,
     .run = jh_builtin_not_implemented,
     .flags = JOBHOST_TASK_NOT_IMPLEMENTED},
    JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_DEFINE("profiles", PACKAGE_VERSION, "Internal user profiles",
                      profiles_task_types, NULL);
