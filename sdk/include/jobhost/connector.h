/*
 * jobhost/connector.h — connector packages.
 *
 * A connector package (csv, ldif, ldap, or your own) holds only the
 * system-specific part of a connector: reading the system into tables
 * (export) and applying one provisioning order to it (fulfill). The
 * built-in ExportTask and FulfillTask do the mechanics around it: folders,
 * cookies, order files, result files, progress and counters.
 *
 * jobhost_package and jobhost_order are fixed-size structs: members are
 * never added at the end within ABI major 1; new members take a reserved
 * slot, which older plugins (and hosts) leave NULL. A plugin that sets
 * such a member says the minor that added it (JOBHOST_ABI_MINOR), so a
 * host too old to call it refuses the plugin instead of ignoring it.
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
 *
 * Names are the target entity type's property identifiers. resource_id is
 * the value of the target's primary key property: from `Resource` for
 * Modified and Deleted, from `Changes` for Added (NULL when the order has
 * none). `changes` sets each property it names to its values (none: the
 * property is cleared); in an Added order a multi-valued property gets
 * all its values there. In a Modified order the values a multi-valued
 * property gains and loses are in `added` and `removed` (ABI 1.2).
 */
typedef struct jobhost_order {
  const char *assigned_resource_type_id; /* key of the result line */
  jobhost_change_type change_type;
  const char *resource_type;          /* resource type identifier */
  const char *owner_id;               /* owner identifier, or NULL */
  const char *resource_id;            /* target resource key (see below) */
  const jobhost_order_value *changes; /* values to set (Added, Modified) */
  size_t nchanges;
  const jobhost_order_value *resource; /* current values of the target */
  size_t nresource;
  const char *json; /* the whole order as JSON text */

  /* ---- ABI 1.2: taken from reserved ---- */

  /* Values to add to and remove from a multi-valued property (the
   * navigations of a Modified order); a 1.1 host leaves them NULL/0. */
  const jobhost_order_value *JOBHOST_SINCE_1_2(added);
  size_t JOBHOST_SINCE_1_2(nadded);
  const jobhost_order_value *JOBHOST_SINCE_1_2(removed);
  size_t JOBHOST_SINCE_1_2(nremoved);
  void *reserved[4];
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
 *        ExportTask counts the tables and rows written into the counters
 *        "tables" and "rows", unless the package sets that counter
 *        itself (counter_add or counter_set): then the package's value is
 *        kept.
 * fulfill_order: apply one order. Returns 0 for Executed, a negative code
 *        for Errored, with a one-line reason written into message (a buffer
 *        of message_size bytes owned by the host). A per-order error does
 *        not fail the task.
 *
 * ABI 1.2 (taken from reserved; NULL in an older plugin: nothing to do):
 * fulfill_begin: called once after open, before the first fulfill_order
 *        (only when there are orders): make ready to apply orders (read
 *        the target, bind). Returns 0 or a negative code: the package
 *        cannot work at all, the task fails and no order is applied.
 * fulfill_end: called once after the last fulfill_order when
 *        fulfill_begin (or open) succeeded: make durable what the orders
 *        did, for a package that applies them in memory and writes once
 *        (ldif). Returns 0, or a negative code with the reason set by
 *        svc->set_message: then none of the orders that returned 0 took
 *        effect, and FulfillTask reports them Errored. A package whose
 *        fulfill_order acts at once has no fulfill_end ($docdir/sdk.md).
 * validate: checks the settings of each connection of the package before
 *        any task runs (jobhost_validate_fn, plugin.h). ABI 1.2.
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

  /* ---- ABI 1.2: taken from reserved ---- */

  int (*JOBHOST_SINCE_1_2(fulfill_begin))(jobhost_ctx *ctx, void *state);
  int (*JOBHOST_SINCE_1_2(fulfill_end))(jobhost_ctx *ctx, void *state);
  /* checks a connection's settings (jobhost_validate_fn in plugin.h) */
  int (*JOBHOST_SINCE_1_2(validate))(jobhost_ctx *ctx);
  void *reserved[5];
} jobhost_package;

/* The host walks package arrays with its own sizeof: the size is fixed. */
JOBHOST_STATIC_ASSERT(sizeof(jobhost_package) == JOBHOST_ABI_SIZE(120u, 60u),
                      "jobhost_package is fixed-size within ABI major 1");

/* Terminates an array of packages. */
#define JOBHOST_PACKAGE_END                                                    \
  {                                                                            \
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, { NULL }       \
  }

#ifdef __cplusplus
}
#endif

#endif /* JOBHOST_CONNECTOR_H */
