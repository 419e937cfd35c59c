/*
 * builtin.h — pieces shared by the built-in plugins' declarations.
 *
 * Parameter names follow the Identity Manager attributes in snake_case
 * (doc/identity-manager.md). Two renames: TaskEntityType/TaskResourceType
 * children become the lists entity_types/resource_types, and the task
 * attribute Type (PrepareSynchronizationType) becomes prepare_type, since
 * `type` already names the task type in a pipeline.
 */
#ifndef JH_PLUGINS_BUILTIN_H
#define JH_PLUGINS_BUILTIN_H

#include <jobhost/jobhost.h>

#define JH_PARAM_CONNECTOR(req)                                                \
  {                                                                            \
    .name = JOBHOST_PARAM_NAME_CONNECTOR, .type = JOBHOST_PARAM_STRING,        \
    .required = (req), .help = "Connector identifier"                          \
  }
#define JH_PARAM_CONNECTION(req)                                               \
  {                                                                            \
    .name = JOBHOST_PARAM_NAME_CONNECTION, .type = JOBHOST_PARAM_STRING,       \
    .required = (req),                                                         \
    .help = "Connection identifier (its package does the work)"                \
  }
#define JH_PARAM_OPEN_ID_CLIENT                                                \
  {                                                                            \
    .name = "open_id_client", .type = JOBHOST_PARAM_STRING,                    \
    .help = "Identity Manager client id; accepted for compatibility, unused"   \
  }
#define JH_PARAM_ENTITY_TYPES                                                  \
  {                                                                            \
    .name = "entity_types", .type = JOBHOST_PARAM_LIST,                        \
    .help = "Entity types to process (TaskEntityType)"                         \
  }
#define JH_PARAM_RESOURCE_TYPES                                                \
  {                                                                            \
    .name = "resource_types", .type = JOBHOST_PARAM_LIST,                      \
    .help = "Resource types to process (TaskResourceType)"                     \
  }
#define JH_PARAM_ALL_ENTITY_TYPE                                               \
  {                                                                            \
    .name = "all_entity_type", .type = JOBHOST_PARAM_BOOL,                     \
    .default_value = "false", .help = "Process every entity type"              \
  }
#define JH_PARAM_DIRTY                                                         \
  {                                                                            \
    .name = JOBHOST_PARAM_NAME_DIRTY, .type = JOBHOST_PARAM_BOOL,              \
    .default_value = "false", .help = "Process only resources flagged dirty"   \
  }
#define JH_PARAM_BOOL_OFF(name_, help_)                                        \
  {                                                                            \
    .name = (name_), .type = JOBHOST_PARAM_BOOL, .default_value = "false",     \
    .help = (help_)                                                            \
  }
#define JH_PARAM_BATCH(name_)                                                  \
  {                                                                            \
    .name = (name_), .type = JOBHOST_PARAM_INT, .default_value = "0",          \
    .help = "Batch size (0: the default)"                                      \
  }

/* PrepareSynchronizationType values. */
static const char *const jh_prepare_types[] = {"None", "Changes",
                                               "ActiveDirectory", NULL};
#define JH_PARAM_PREPARE_TYPE                                                  \
  {                                                                            \
    .name = "prepare_type", .type = JOBHOST_PARAM_ENUM,                        \
    .default_value = "None", .choices = jh_prepare_types,                      \
    .help = "Input variant (Type attribute): None, Changes, ActiveDirectory"   \
  }

/*
 * The run entry point of a task type that a later release fills in: it
 * fails with JOBHOST_ENOTIMPL and says so. Such task types also carry
 * JOBHOST_TASK_NOT_IMPLEMENTED so `jobhost plugins` shows it.
 */
static inline int jh_builtin_not_implemented(jobhost_ctx *ctx) {
  ctx->svc->set_message(ctx, "%s is not implemented in jobhost %s",
                        ctx->task_type, ctx->svc->host_version);
  return JOBHOST_ENOTIMPL;
}

#endif /* JH_PLUGINS_BUILTIN_H */
