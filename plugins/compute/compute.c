/*
 * compute.c — the compute plugin: entity property expressions,
 * correlation keys, role model and provisioning orders
 * (doc/identity-manager.md). Not implemented yet: the task types declare
 * their parameters and fail when run (jh_builtin_not_implemented).
 */
#include "config.h"

#include "builtin.h"

static const jobhost_param expressions_params[] = {
    JH_PARAM_ENTITY_TYPES,
    JH_PARAM_ALL_ENTITY_TYPE,
    JH_PARAM_BATCH("batch_select_size"),
    JH_PARAM_BATCH("batch_update_size"),
    JH_PARAM_DIRTY,
    JOBHOST_PARAM_END};

static const jobhost_param correlation_params[] = {
    JH_PARAM_ENTITY_TYPES, JH_PARAM_ALL_ENTITY_TYPE,
    JH_PARAM_BATCH("batch_size"), JH_PARAM_DIRTY, JOBHOST_PARAM_END};

static const jobhost_param role_model_params[] = {
    JH_PARAM_ENTITY_TYPES,
    JH_PARAM_BATCH("batch_insert_size"),
    JH_PARAM_BATCH("batch_select_size"),
    JH_PARAM_BOOL_OFF("block_all_resource_type_provisioning",
                      "Send every order of every resource type to review"),
    JH_PARAM_BOOL_OFF("block_provisioning",
                      "Send the orders produced by the policy to review"),
    JH_PARAM_DIRTY,
    JH_PARAM_BOOL_OFF("ignore_historization", "Do not archive prior values"),
    {.name = "ldif_file_path",
     .type = JOBHOST_PARAM_STRING,
     .help = "LDIF file the simulation writes to (with use_ldif)"},
    JH_PARAM_BOOL_OFF("use_ldif", "Simulate into an LDIF file"),
    JOBHOST_PARAM_END};

static const jobhost_param orders_params[] = {
    JH_PARAM_CONNECTOR(0),
    JH_PARAM_RESOURCE_TYPES,
    JH_PARAM_BATCH("batch_insert_size"),
    JH_PARAM_BATCH("batch_select_size"),
    JH_PARAM_BOOL_OFF("force_provisioning",
                      "Bypass provisioning thresholds (set by resume, not "
                      "by configuration)"),
    JOBHOST_PARAM_END};

static const jobhost_task_type compute_task_types[] = {
    {.name = "UpdateEntityPropertyExpressionsTask",
     .description = "Compute entity property expressions",
     .params = expressions_params,
     .run = jh_builtin_not_implemented,
     .flags = JOBHOST_TASK_NOT_IMPLEMENTED | JOBHOST_TASK_READS_DIRTY},
    {.name = "ComputeCorrelationKeysTask",
     .description = "Compute the correlation keys of resources",
     .params = correlation_params,
     .run = jh_builtin_not_implemented,
     .flags = JOBHOST_TASK_NOT_IMPLEMENTED | JOBHOST_TASK_READS_DIRTY},
    {.name = "ComputeRoleModelTask",
     .description = "Apply the role model: expected assignments and their "
                    "provisioning states",
     .params = role_model_params,
     .run = jh_builtin_not_implemented,
     .flags = JOBHOST_TASK_NOT_IMPLEMENTED | JOBHOST_TASK_READS_DIRTY},
    {.name = "GenerateProvisioningOrdersTask",
     .description = "Write pending assignments as JSON provisioning orders",
     .params = orders_params,
     .run = jh_builtin_not_implemented,
     .flags = JOBHOST_TASK_NOT_IMPLEMENTED | JOBHOST_TASK_CAN_BLOCK},
    JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_DEFINE("compute", PACKAGE_VERSION,
                      "Expressions, correlation keys, role model and "
                      "provisioning orders",
                      compute_task_types, NULL);
