/*
 * fulfill.c — the fulfill plugin: FulfillTask, which is to apply
 * provisioning orders through the connection's connector package
 * (doc/identity-manager.md). Not implemented yet: the task type declares
 * its parameters, so that jobs naming it validate, and fails when run
 * (jh_builtin_not_implemented).
 */
#include "config.h"

#include "builtin.h"

static const jobhost_param fulfill_params[] = {
    JH_PARAM_CONNECTION(0),
    JH_PARAM_CONNECTOR(0),
    JH_PARAM_RESOURCE_TYPES,
    JH_PARAM_BATCH("batch_size"),
    JH_PARAM_BOOL_OFF("dirty",
                      "Flag resources written by the fulfillment dirty"),
    JH_PARAM_BOOL_OFF("ignore_historization", "Do not archive prior values"),
    JH_PARAM_OPEN_ID_CLIENT,
    JOBHOST_PARAM_END};

static const jobhost_task_type fulfill_task_types[] = {
    {.name = "FulfillTask",
     .description = "Apply provisioning orders through a connector package",
     .params = fulfill_params,
     .run = jh_builtin_not_implemented,
     .flags = JOBHOST_TASK_NOT_IMPLEMENTED | JOBHOST_TASK_AGENT_SIDE},
    JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_DEFINE("fulfill", PACKAGE_VERSION,
                      "Fulfillment of provisioning orders", fulfill_task_types,
                      NULL);
