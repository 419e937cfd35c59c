/*
 * jobhost/connector.h — connector packages.
 *
 * A connector package (csv, ldif, ldap, or your own) holds only the
 * system-specific part of a connector: reading the system into tables
 * (export) and applying one provisioning order to it (fulfill). The
 * built-in ExportTask and FulfillTask do the mechanics around it: folders,
 * cookies, order files, result files, progress and counters.
 *
 * jobhost_package is a fixed-size struct: members are never added at the
 * end within ABI major 1; new members take a reserved slot, which older
 * plugins leave NULL.
 */
#ifndef JOBHOST_CONNECTOR_H
#define JOBHOST_CONNECTOR_H

#include <stddef.h>

#include <jobhost/param.h>
#include <jobhost/services.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ChangeType of a provisioning order. */
typedef enum jobhost_change_type {
  JOBHOST_CHANGE_ADDED = 1,
  JOBHOST_CHANGE_MODIFIED = 2,
  JOBHOST_CHANGE_DELETED = 3
} jobhost_change_type;

/* One property of an order: a name and its values (one for a scalar, any
 * number for a multi-valued property, none to clear it). */
typedef struct jobhost_order_value {
  const char *name;
  const char *const *values;
  size_t nvalues;
} jobhost_order_value;

/*
 * One provisioning order, built by FulfillTask from an order file. Every
 * pointer in it is host-owned and valid for the duration of the fulfill
 * call only.
 */
typedef struct jobhost_order {
  const char *assigned_resource_type_id; /* key of the result line */
  jobhost_change_type change_type;
  const char *resource_type;          /* resource type identifier */
  const char *owner_id;               /* owner identifier, or NULL */
  const char *resource_id;            /* target resource key, NULL for Added */
  const jobhost_order_value *changes; /* new values (Added, Modified) */
  size_t nchanges;
  const jobhost_order_value *resource; /* current values of the target */
  size_t nresource;
  const char *json; /* the whole order as JSON text */
  void *reserved[8];
} jobhost_order;

JOBHOST_STATIC_ASSERT(sizeof(jobhost_order) == JOBHOST_ABI_SIZE(144u, 72u),
                      "jobhost_order is fixed-size within ABI major 1");

/*
 * Entry points of a package. All are optional except that a package has at
 * least one of export_tables and fulfill_order.
 *
 * open:  called once per task before export/fulfill; may set *state to a
 *        plugin-owned object (e.g. a directory connection). Returns 0 or a
 *        negative code (the task then fails with that code).
 * close: called once after the last export/fulfill call if open succeeded;
 *        frees state. Must accept state == NULL.
 * export_tables: read the system and write tables through
 *        ctx->svc->table_open/table_write/table_close; read and store the
 *        incremental cookie with cookie_get/cookie_set. Returns 0 or a
 *        negative code (the task fails and no table file is kept).
 * fulfill_order: apply one order. Returns 0 for Executed, a negative code
 *        for Errored, with a one-line reason written into message (a buffer
 *        of message_size bytes owned by the host). A per-order error does
 *        not fail the task.
 */
typedef struct jobhost_package {
  const char *name;              /* package name, e.g. "csv"; required */
  const char *description;       /* one line */
  const jobhost_param *settings; /* connection settings schema, terminated
                                    by JOBHOST_PARAM_END; may be NULL */
  int (*open)(jobhost_ctx *ctx, void **state);
  void (*close)(jobhost_ctx *ctx, void *state);
  int (*export_tables)(jobhost_ctx *ctx, void *state);
  int (*fulfill_order)(jobhost_ctx *ctx, void *state,
                       const jobhost_order *order, char *message,
                       size_t message_size);
  void *reserved[8];
} jobhost_package;

/* The host walks package arrays with its own sizeof: the size is fixed. */
JOBHOST_STATIC_ASSERT(sizeof(jobhost_package) == JOBHOST_ABI_SIZE(120u, 60u),
                      "jobhost_package is fixed-size within ABI major 1");

/* Terminates an array of packages. */
#define JOBHOST_PACKAGE_END                                                    \
  {                                                                            \
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, { NULL }                         \
  }

#ifdef __cplusplus
}
#endif

#endif /* JOBHOST_CONNECTOR_H */
