/*
 * jobhost/services.h — what the host offers a running task.
 *
 * A task's entry point receives a jobhost_ctx. The context carries the
 * host-services table (ctx->svc): logging, progress, counters, the
 * "produced output" flag, the cancel check, the task's folders, its
 * parameters, its connection's settings and secrets, the export table
 * writer and the incremental cookie.
 *
 * Ownership, once for the whole table: every pointer the host returns is
 * owned by the host and stays valid until the task's entry point returns,
 * unless a prototype says otherwise. Every pointer a plugin passes in is
 * only borrowed for the duration of the call; the host copies what it keeps.
 *
 * Growth: the table (and the context) only grows at the end. Each member
 * added after 1.0 is marked with the ABI minor that added it; a plugin
 * that uses one checks JOBHOST_SVC_HAS(ctx->svc, member) (for the context
 * JOBHOST_CTX_HAS(ctx, member)) first, and a plugin whose
 * JOBHOST_ABI_MIN_REQUIRED is older than that minor cannot name it.
 */
#ifndef JOBHOST_SERVICES_H
#define JOBHOST_SERVICES_H

#include <stddef.h>
#include <stdint.h>

#include <jobhost/version.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define JOBHOST_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define JOBHOST_PRINTF(fmt, args)
#endif

typedef struct jobhost_ctx jobhost_ctx;
typedef struct jobhost_services jobhost_services;
typedef struct jobhost_table jobhost_table; /* opaque, owned by the host */

/* ---- ABI 1.2: what the read services return ---- */

typedef struct jobhost_cursor jobhost_cursor; /* opaque, owned by the host */

/* Flag of entity_types and resources_open: only the task's connector. */
#define JOBHOST_READ_CONNECTOR (1u << 0)

/* The type of a property of an entity type. */
typedef enum jobhost_property_type {
  JOBHOST_PROPERTY_STRING = 1,
  JOBHOST_PROPERTY_INTEGER = 2,
  JOBHOST_PROPERTY_BOOLEAN = 3,
  JOBHOST_PROPERTY_DATETIME = 4,
  JOBHOST_PROPERTY_LINK = 5, /* one target resource, by its key */
  JOBHOST_PROPERTY_LINKS = 6 /* any number of target resources, by key */
} jobhost_property_type;

/* A property of an entity type. Host-owned; fixed size within ABI
 * major 1 (new members take a reserved slot). */
typedef struct jobhost_property {
  const char *name;
  jobhost_property_type type;
  const char *target; /* LINK, LINKS: the target entity type; else NULL */
  void *reserved[4];
} jobhost_property;

/* An entity type of the model. Host-owned; fixed size. */
typedef struct jobhost_entity_type {
  const char *name;
  const char *display_name;           /* or NULL */
  const char *connector;              /* whose mapping fills it, or NULL */
  const char *key;                    /* its primary key property, or NULL
                                         when no mapping fills it */
  const jobhost_property *properties; /* in declared order */
  size_t nproperties;
  void *reserved[4];
} jobhost_entity_type;

/* One property's values in a resource: one for a scalar or a LINK, any
 * number for LINKS (the targets' keys, in ascending order). Its size
 * never changes within ABI major 1 (plugins walk arrays of it). */
typedef struct jobhost_resource_value {
  const char *name;
  const char *const *values;
  size_t nvalues;
} jobhost_resource_value;

/* A resource read with resources_next. values holds the properties that
 * have a value, in the entity type's declared order. Host-owned; fixed
 * size. */
typedef struct jobhost_resource {
  const char *key; /* the primary key value */
  const jobhost_resource_value *values;
  size_t nvalues;
  void *reserved[4];
} jobhost_resource;

/* Log levels, most severe first. */
typedef enum jobhost_log_level {
  JOBHOST_LOG_ERROR = 0,
  JOBHOST_LOG_WARNING = 1,
  JOBHOST_LOG_INFO = 2,
  JOBHOST_LOG_DEBUG = 3
} jobhost_log_level;

/* The working folders of Identity Manager, as absolute paths. */
typedef enum jobhost_folder {
  JOBHOST_FOLDER_EXPORT_OUTPUT = 0,       /* Temp/ExportOutput */
  JOBHOST_FOLDER_EXPORT_COOKIES = 1,      /* Work/ExportCookies */
  JOBHOST_FOLDER_COLLECT = 2,             /* Work/Collect */
  JOBHOST_FOLDER_PROVISIONING_ORDERS = 3, /* Work/ProvisioningOrders */
  JOBHOST_FOLDER_JOB_LOGS = 4,            /* Temp/JobLogs */
  JOBHOST_FOLDER_TASK_WORK = 5 /* scratch folder of this task instance */
} jobhost_folder;

/*
 * The context of one running task instance. Created and freed by the host;
 * a plugin reads it and never writes to it.
 */
struct jobhost_ctx {
  uint32_t struct_size;        /* sizeof(jobhost_ctx) as the host built it */
  const jobhost_services *svc; /* host services, never NULL */
  const char *task_id;         /* task identifier in the pipeline */
  const char *task_type;       /* task type name, e.g. "ExportTask" */
  const char *connection;      /* connection id, or NULL when none applies */
  void *host_private;          /* the host's; plugins must not touch it */

  /* ---- ABI 1.1 (check with JOBHOST_CTX_HAS) ---- */

  int JOBHOST_SINCE_1_1(force); /* nonzero: thresholds must not block (run
                                   --force, or a resume validating a
                                   Blocked task) */
  int64_t JOBHOST_SINCE_1_1(resume_of);     /* when validating a Blocked task
                                               on resume: the id of its
                                               blocked task instance, whose
                                               held changes are to be
                                               applied; else 0 */
  int64_t JOBHOST_SINCE_1_1(task_instance); /* id of this task instance in
                                               the store (0 in validate) */

  /* ---- ABI 1.2 ---- */

  const char *JOBHOST_SINCE_1_2(connector); /* the connector the task
                                               belongs to: its `connector`
                                               parameter, else that of its
                                               connection; NULL when none */
};

struct jobhost_services {
  uint32_t struct_size;     /* sizeof(jobhost_services) as the host built it */
  uint16_t abi_major;       /* host's JOBHOST_ABI_MAJOR */
  uint16_t abi_minor;       /* host's JOBHOST_ABI_MINOR */
  const char *host_version; /* running host's release, static */

  /* ---- ABI 1.0 ---- */

  /* Log one line to the task instance's log, prefixed with the task id.
   * fmt and its arguments are borrowed. Never fails. */
  void (*log)(jobhost_ctx *ctx, jobhost_log_level level, const char *fmt, ...)
      JOBHOST_PRINTF(3, 4);

  /* Report progress: done units out of total (total 0 = unknown). */
  void (*progress)(jobhost_ctx *ctx, uint64_t done, uint64_t total);

  /* Add delta to the named counter (created at 0). name is borrowed and
   * copied; counters appear in the run report. */
  void (*counter_add)(jobhost_ctx *ctx, const char *name, int64_t delta);

  /* Set the named counter to value. */
  void (*counter_set)(jobhost_ctx *ctx, const char *name, int64_t value);

  /* Say whether the task produced output (default: yes on success). A
   * dependant of a task that produced nothing is skipped. */
  void (*set_produced_output)(jobhost_ctx *ctx, int produced);

  /* Set the one-line result message shown in the report (last call wins). */
  void (*set_message)(jobhost_ctx *ctx, const char *fmt, ...)
      JOBHOST_PRINTF(2, 3);

  /* Nonzero once the host asked the task to stop. A long task polls it and
   * returns JOBHOST_ECANCELLED soon after. */
  int (*is_cancelled)(jobhost_ctx *ctx);

  /* Absolute path of one of the task's folders (host-owned; exists). NULL
   * for an unknown folder. */
  const char *(*folder)(jobhost_ctx *ctx, jobhost_folder which);

  /* Effective value of a declared parameter, as text, with its default
   * applied; NULL when unset and without default. Booleans read "true" or
   * "false"; lists are read with param_list. */
  const char *(*param)(jobhost_ctx *ctx, const char *name);

  /* Items of a list parameter: *items receives a host-owned array of
   * host-owned strings. Returns the count (0 when unset). A host of ABI
   * 1.2 applies the parameter's default, its items separated by commas
   * (an older host ignored a list's default). */
  size_t (*param_list)(jobhost_ctx *ctx, const char *name,
                       const char *const **items);

  /* A setting of the task's connection (e.g. "path"); NULL when unset. */
  const char *(*setting)(jobhost_ctx *ctx, const char *name);

  /* Copy the named secret of the task's connection into buf (NUL
   * terminated). The plugin owns buf and should wipe it after use.
   * Returns 0, -ENOENT when there is no such secret, -ERANGE when buf is
   * too small. Secrets never reach logs or reports. */
  int (*secret)(jobhost_ctx *ctx, const char *name, char *buf, size_t size);

  /* Export table writer. table_open starts table `name` (a file name stem,
   * e.g. "hr_entries": the file is ExportOutput/<name>.csv) with the given
   * columns; *out receives a host-owned handle. table_write appends one
   * row of exactly ncolumns values (a NULL value is an empty field).
   * table_close finishes the table; the file becomes visible only if the
   * task succeeds, so a failed export never leaves a partial file. All
   * three return 0 or a negative code; after an error the handle must
   * still be closed.
   *
   * table_open accepts a name of 1 to 200 bytes that does not start with
   * '.' and has no '/', '\\' or control character, and at least one
   * column, each with a name, no name twice; else -EINVAL. A name the
   * task opened already is -EEXIST; in a validate entry point, -EPERM.
   * Each refusal writes its reason into the task's log (*out is NULL).
   * Any task type may write tables, not only ExportTask: they are
   * published when the task succeeds, and with a connection they replace
   * that connection's published tables (those not written again are
   * removed). */
  int (*table_open)(jobhost_ctx *ctx, const char *name,
                    const char *const *columns, size_t ncolumns,
                    jobhost_table **out);
  int (*table_write)(jobhost_table *table, const char *const *values,
                     size_t nvalues);
  int (*table_close)(jobhost_table *table);

  /* Incremental cookie of the task's connection. cookie_get sets *data
   * (host-owned) and *size and returns 0, or returns -ENOENT when there is
   * no cookie or the task ignores cookies (a complete export is expected).
   * cookie_set copies the new cookie; it is saved only if the task
   * succeeds. */
  int (*cookie_get)(jobhost_ctx *ctx, const void **data, size_t *size);
  int (*cookie_set)(jobhost_ctx *ctx, const void *data, size_t size);

  /* ---- ABI 1.1 ---- */

  /* The connector package of the task's connection (the `package` the
   * model gives it), found among the loaded plugins; NULL when the task
   * has no connection or its package is not loaded. Host-owned. This is
   * how ExportTask and FulfillTask reach the package that does the
   * system-specific part. */
  const struct jobhost_package *(*JOBHOST_SINCE_1_1(connection_package))(
      jobhost_ctx *ctx);

  /* An object the host shares by name with plugins built from the same
   * source tree (the built-in tasks: the model, the identity store's
   * path). Names carry their own version, e.g. "jobhost.model/1"; NULL
   * when the host has no such object. Host-owned, read-only. Out-of-tree
   * plugins have no use for it. */
  const void *(*JOBHOST_SINCE_1_1(host_object))(jobhost_ctx *ctx,
                                                const char *name);

  /* ---- ABI 1.2 ---- */

  /* Typed getters of a declared parameter, with its default applied.
   * Each returns 0 and sets *out, -ENOENT when the parameter is unset and
   * has no default, or -EINVAL when it is not of that kind (an int's
   * value that is not an integer, a bool's that is not true or false).
   * param_int reads INT parameters (any decimal integer text, in fact);
   * param_bool BOOL; param_duration DURATION (N, Nms, Ns, Nm, Nh; N
   * alone is seconds) in milliseconds. */
  int (*JOBHOST_SINCE_1_2(param_int))(jobhost_ctx *ctx, const char *name,
                                      int64_t *out);
  int (*JOBHOST_SINCE_1_2(param_bool))(jobhost_ctx *ctx, const char *name,
                                       int *out);
  int (*JOBHOST_SINCE_1_2(param_duration))(jobhost_ctx *ctx, const char *name,
                                           int64_t *ms);

  /* Items of a LIST setting of the task's connection, as param_list does
   * for parameters (setting returns them joined with commas, as before).
   * The package's default (items separated by commas) applies. */
  size_t (*JOBHOST_SINCE_1_2(setting_list))(jobhost_ctx *ctx, const char *name,
                                            const char *const **items);

  /*
   * Read access to the identity model and the identity store.
   *
   * entity_types: the model's entity types; with JOBHOST_READ_CONNECTOR in
   *   flags only those its connector fills (the entity types whose mapping
   *   names ctx->connector; none when the task has no connector). *out
   *   receives a host-owned array of host-owned pointers; returns the
   *   count.
   * entity_type: one entity type by identifier, or NULL.
   *
   * resources_open: a cursor over the resources of entity type `name`, in
   *   ascending key order, read-only. With JOBHOST_READ_CONNECTOR an
   *   entity type of another connector is refused (-EPERM). Every cursor
   *   of a task reads the same snapshot of the store: the first
   *   resources_open starts one read transaction, which stays until the
   *   task returns, so a synchronization that commits meanwhile is not
   *   seen, not even in part. Returns 0 and *out, -ENOENT for an entity
   *   type the model lacks, -EPERM where reading is not allowed (in
   *   validate), -EIO when the store cannot be read (the reason in the
   *   log). A store that does not exist yet reads as empty.
   * resources_next: 1 and *out (host-owned, valid until the next call on
   *   the cursor), 0 at the end, or a negative code.
   * resources_close: frees the cursor (NULL is a no-op); every cursor must
   *   be closed before the task returns.
   */
  size_t (*JOBHOST_SINCE_1_2(entity_types))(
      jobhost_ctx *ctx, unsigned flags, const jobhost_entity_type *const **out);
  const jobhost_entity_type *(*JOBHOST_SINCE_1_2(entity_type))(
      jobhost_ctx *ctx, const char *name);
  int (*JOBHOST_SINCE_1_2(resources_open))(jobhost_ctx *ctx, const char *name,
                                           unsigned flags,
                                           jobhost_cursor **out);
  int (*JOBHOST_SINCE_1_2(resources_next))(jobhost_cursor *cursor,
                                           const jobhost_resource **out);
  void (*JOBHOST_SINCE_1_2(resources_close))(jobhost_cursor *cursor);
};

/*
 * Sizes of the 1.0 context and services table: frozen numbers, each tied
 * by an assertion to where the first member added in 1.1 begins, which
 * does not move when later members are appended.
 */
#define JOBHOST_CTX_SIZE_1_0 JOBHOST_ABI_SIZE(48u, 24u)
#define JOBHOST_SERVICES_SIZE_1_0 JOBHOST_ABI_SIZE(152u, 80u)
JOBHOST_STATIC_ASSERT(offsetof(jobhost_ctx, JOBHOST_SINCE_1_1(force)) ==
                          JOBHOST_CTX_SIZE_1_0,
                      "JOBHOST_CTX_SIZE_1_0 is the end of the 1.0 members");
JOBHOST_STATIC_ASSERT(
    offsetof(jobhost_services, JOBHOST_SINCE_1_1(connection_package)) ==
        JOBHOST_SERVICES_SIZE_1_0,
    "JOBHOST_SERVICES_SIZE_1_0 is the end of the 1.0 members");
/* ABI 1.2: the end of the 1.1 services table. */
#define JOBHOST_SERVICES_SIZE_1_1 JOBHOST_ABI_SIZE(168u, 88u)
JOBHOST_STATIC_ASSERT(
    offsetof(jobhost_services, JOBHOST_SINCE_1_2(param_int)) ==
        JOBHOST_SERVICES_SIZE_1_1,
    "JOBHOST_SERVICES_SIZE_1_1 is the end of the 1.1 members");
JOBHOST_STATIC_ASSERT(sizeof(jobhost_property) == JOBHOST_ABI_SIZE(56u, 28u),
                      "jobhost_property is fixed-size within ABI major 1");
JOBHOST_STATIC_ASSERT(sizeof(jobhost_entity_type) == JOBHOST_ABI_SIZE(80u, 40u),
                      "jobhost_entity_type is fixed-size within ABI major 1");
JOBHOST_STATIC_ASSERT(sizeof(jobhost_resource) == JOBHOST_ABI_SIZE(56u, 28u),
                      "jobhost_resource is fixed-size within ABI major 1");
JOBHOST_STATIC_ASSERT(sizeof(jobhost_resource_value) ==
                          JOBHOST_ABI_SIZE(24u, 12u),
                      "jobhost_resource_value never changes within ABI "
                      "major 1");

/* True when the services table has member `m` (for members added after
 * 1.0). A member of a minor newer than the plugin's target does not
 * compile here either (jobhost/version.h). */
#define JOBHOST_SVC_HAS(svc, m)                                                \
  ((svc)->struct_size >= offsetof(jobhost_services, m) + sizeof((svc)->m))

/* ABI 1.2: true when the context has member `m` (for members added after
 * 1.0): a host of an older minor builds a shorter context. */
#define JOBHOST_CTX_HAS(ctx, m)                                                \
  ((ctx)->struct_size >= offsetof(jobhost_ctx, m) + sizeof((ctx)->m))

/* Shorthands for the most used services. */
#define jobhost_log(ctx, level, ...)                                           \
  ((ctx)->svc->log((ctx), (level), __VA_ARGS__))
#define jobhost_error(ctx, ...)                                                \
  jobhost_log((ctx), JOBHOST_LOG_ERROR, __VA_ARGS__)
#define jobhost_warning(ctx, ...)                                              \
  jobhost_log((ctx), JOBHOST_LOG_WARNING, __VA_ARGS__)
#define jobhost_info(ctx, ...) jobhost_log((ctx), JOBHOST_LOG_INFO, __VA_ARGS__)
#define jobhost_debug(ctx, ...)                                                \
  jobhost_log((ctx), JOBHOST_LOG_DEBUG, __VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif /* JOBHOST_SERVICES_H */
