/*
 * jobhost/plugin.h — the plugin descriptor and task types.
 *
 * A plugin is a shared object that exports exactly one symbol,
 * `jobhost_plugin_descriptor`, a const struct made by JOBHOST_PLUGIN_DEFINE.
 * The host reads it without calling any plugin code and accepts the plugin
 * only when:
 *   - magic equals JOBHOST_PLUGIN_MAGIC;
 *   - abi_major equals the host's and abi_minor is not newer than the host's
 *     (abi_minor is the minor the plugin needs: see JOBHOST_ABI_MIN_REQUIRED
 *     in jobhost/version.h);
 *   - nothing in it needs a newer minor than abi_minor: a parameter type,
 *     a taken reserved slot (a task type's validate, a package's
 *     fulfill_begin, fulfill_end or validate, a parameter's range or
 *     pattern, choices on a list) — the refusal names the minor it needs;
 *   - struct_size is at least JOBHOST_PLUGIN_SIZE_1_0, the size of the ABI
 *     1.0 descriptor; a larger struct_size (a plugin built with members
 *     appended later in the same major, with an abi_minor the host knows)
 *     is accepted, and the host reads only the members it knows;
 *   - name and version are set, there is at least one task type or package,
 *     every task type has a name and a run entry point, every parameter a
 *     name and a valid type;
 *   - no task type or package name is already claimed by another plugin.
 *
 * Example. A complete plugin to copy, with its unit test, is installed in
 * the folder `pkg-config --variable=skeletondir jobhost-sdk` names
 * ($datadir/jobhost/skeleton); a complete connector package in
 * `pkg-config --variable=examplesdir jobhost-sdk`/jsonl; the jobhost-sdk(7)
 * man page and $docdir/sdk-guide.md (usually /usr/share/doc/jobhost) tell
 * how to build, test and ship one:
 *
 *   static const jobhost_param hello_params[] = {
 *     {.name = "greeting", .type = JOBHOST_PARAM_STRING,
 *      .default_value = "hello", .help = "What to say"},
 *     JOBHOST_PARAM_END};
 *   static int hello_run(jobhost_ctx *ctx) { ... return 0; }
 *   static const jobhost_task_type hello_tasks[] = {
 *     {.name = "HelloTask", .description = "Says hello",
 *      .params = hello_params, .run = hello_run},
 *     JOBHOST_TASK_TYPE_END};
 *   JOBHOST_PLUGIN_DEFINE("hello", "1.0.0", "Greets", hello_tasks, NULL);
 */
#ifndef JOBHOST_PLUGIN_H
#define JOBHOST_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include <jobhost/connector.h>
#include <jobhost/param.h>
#include <jobhost/services.h>
#include <jobhost/version.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "JHPL" */
#define JOBHOST_PLUGIN_MAGIC 0x4a48504cu

/* The one symbol a plugin exports. */
#define JOBHOST_PLUGIN_SYMBOL "jobhost_plugin_descriptor"

/*
 * Task type flags (jobhost_task_type.flags). Each is a promise the host
 * relies on when it schedules a job; the other bits are reserved (0).
 *
 * JOBHOST_TASK_NOT_IMPLEMENTED  run only returns JOBHOST_ENOTIMPL.
 * JOBHOST_TASK_CAN_BLOCK        the type may end Blocked (a threshold was
 *     exceeded; the job stops and `jobhost resume` validates). Only such a
 *     type may return JOBHOST_EBLOCKED: from a type without the flag that
 *     code ends the task in Error, with a message saying so. The flag
 *     changes nothing else: a task of the type is scheduled, retried and
 *     cancelled as any other. A Blocked task stops the job as an Error
 *     does, but the instance can be resumed: `jobhost resume ID` runs the
 *     blocked task again in forced mode (ctx->force set, ctx->resume_of
 *     its blocked instance; ABI 1.1), then the tasks that had not
 *     started.
 * JOBHOST_TASK_AGENT_SIDE       an Identity Manager agent task.
 * JOBHOST_TASK_SETS_DIRTY       the type flags the recently changed
 *     resources dirty (SetRecentlyModifiedFlagTask).
 * JOBHOST_TASK_READS_DIRTY      with its `dirty` parameter true, the type
 *     processes only the resources flagged dirty. Such a task is Skipped
 *     unless a task of a JOBHOST_TASK_SETS_DIRTY type Succeeded earlier in
 *     the same job run.
 *
 * The three steps of a connector's synchronization (ExportTask,
 * PrepareSynchronizationTask, SynchronizeTask). A task of such a type
 * belongs to the connector its `connector` parameter names or, for an
 * export without one, to the connector of its `connection` in the model.
 * When the job's prepare task of that connector has `synchronization_mode`
 * Incremental, the host leaves the connector's tasks of all three types
 * out (Skipped) while another job instance blocks the connector.
 *
 * JOBHOST_TASK_EXPORTS          the type exports the tables of its
 *     `connection` (ctx->connection) into the ExportOutput folder. When a
 *     task of it does not succeed, even when its worker died, the host
 *     removes the tables that connection had published, so that no stale
 *     table is prepared.
 * JOBHOST_TASK_PREPARES         the type makes its connector's batches
 *     from the exported tables.
 * JOBHOST_TASK_SYNCHRONIZES     the type applies its connector's batches
 *     to the identity store in one transaction and writes a change report
 *     beside its task log. When the host ended while a task of it ran, a
 *     resume records the task from that report if its transaction
 *     committed, instead of running it again.
 *
 * The flags take bits of a member that ABI 1.0 already has: a plugin built
 * before a flag existed has it clear, and the host accepts it unchanged.
 */
#define JOBHOST_TASK_NOT_IMPLEMENTED (1u << 0)
#define JOBHOST_TASK_CAN_BLOCK (1u << 1)
#define JOBHOST_TASK_AGENT_SIDE (1u << 2)
#define JOBHOST_TASK_SETS_DIRTY (1u << 3)
#define JOBHOST_TASK_READS_DIRTY (1u << 4)
#define JOBHOST_TASK_EXPORTS (1u << 5)
#define JOBHOST_TASK_PREPARES (1u << 6)
#define JOBHOST_TASK_SYNCHRONIZES (1u << 7)

/*
 * The parameters the host reads by name, for the flags above and for its
 * services: a task type that has one declares it under this name.
 *
 * JOBHOST_PARAM_NAME_CONNECTION  the task's connection: ctx->connection,
 *     its settings, secrets, package and incremental cookie.
 * JOBHOST_PARAM_NAME_CONNECTOR   the connector of a synchronization step.
 * JOBHOST_PARAM_NAME_SYNC_MODE   Initial, Complete or Incremental.
 * JOBHOST_PARAM_NAME_DIRTY       a boolean (JOBHOST_TASK_READS_DIRTY).
 * JOBHOST_PARAM_NAME_IGNORE_COOKIE  a boolean: true, cookie_get finds no
 *     cookie (a complete export is expected).
 */
#define JOBHOST_PARAM_NAME_CONNECTION "connection"
#define JOBHOST_PARAM_NAME_CONNECTOR "connector"
#define JOBHOST_PARAM_NAME_SYNC_MODE "synchronization_mode"
#define JOBHOST_PARAM_NAME_DIRTY "dirty"
#define JOBHOST_PARAM_NAME_IGNORE_COOKIE "ignore_cookie_file"

/*
 * run — the entry point of a task type.
 *
 * Called in the task's worker process with a host-owned context; all
 * parameters have been validated against `params`. What the task writes
 * to stdout or stderr goes to its log; the worker flushes both when run
 * returns, so output without a newline or a flush is kept, but the log
 * service (with its levels) is the way to speak. Returns 0 (Succeeded),
 * JOBHOST_EBLOCKED (Blocked; only for a JOBHOST_TASK_CAN_BLOCK type),
 * JOBHOST_ECANCELLED (Cancelled) or another
 * negative code (Error; the message set with svc->set_message, or
 * jobhost_strerror(code), explains why).
 */
typedef int (*jobhost_run_fn)(jobhost_ctx *ctx);

/*
 * validate — ABI 1.2: the optional check of a task's parameters (in a
 * task type) or of a connection's settings (in a package) that the
 * schema cannot express, e.g. "first must not be after last".
 *
 * `jobhost validate` calls it for every task of the type (every
 * connection of the package) once the pipeline has loaded, and so does
 * `jobhost run` before any task runs. It runs in the host process with a
 * context whose services read what a pipeline gives: param and the typed
 * getters, setting, setting_list, secret, entity_types and entity_type,
 * log, set_message. The others do nothing or fail (folder NULL,
 * table_open, cookie_*, resources_open -EPERM). ctx->task_id and
 * ctx->task_type are set for a task; ctx->connection for a task with
 * one, and for a package's connection.
 *
 * Returns 0 when the values are fine, else a negative code with the
 * reason set by svc->set_message (e.g. "repeat must be between 1 and
 * 100"); the host reports it at the task's (the connection's) place in
 * the pipeline, file:line:column, and exits 2. It must not change
 * anything outside the process.
 */
typedef int (*jobhost_validate_fn)(jobhost_ctx *ctx);

/* A task type. Fixed size within ABI major 1 (new members take a reserved
 * slot). */
typedef struct jobhost_task_type {
  const char *name;        /* e.g. "ExportTask"; required */
  const char *description; /* one line */
  const jobhost_param
      *params;        /* terminated by JOBHOST_PARAM_END; may be NULL */
  jobhost_run_fn run; /* required */
  unsigned flags;     /* JOBHOST_TASK_* */

  /* ---- ABI 1.2: taken from reserved ---- */

  jobhost_validate_fn JOBHOST_SINCE_1_2(validate); /* or NULL */
  void *reserved[7];
} jobhost_task_type;

/* The host walks task type arrays with its own sizeof: the size is fixed. */
JOBHOST_STATIC_ASSERT(sizeof(jobhost_task_type) == JOBHOST_ABI_SIZE(104u, 52u),
                      "jobhost_task_type is fixed-size within ABI major 1");

/* Terminates an array of task types. */
#define JOBHOST_TASK_TYPE_END                                                  \
  {                                                                            \
    NULL, NULL, NULL, NULL, 0, NULL, { NULL }                                  \
  }

/* The descriptor. Grows only at the end (struct_size tells how much the
 * plugin knows); reserved slots may also be taken. */
typedef struct jobhost_plugin {
  uint32_t magic;       /* JOBHOST_PLUGIN_MAGIC */
  uint16_t abi_major;   /* JOBHOST_ABI_MAJOR the plugin was built with */
  uint16_t abi_minor;   /* the minor the plugin needs: that of
                           JOBHOST_ABI_MIN_REQUIRED (ABI 1.2), by default
                           the headers' JOBHOST_ABI_MINOR */
  uint32_t struct_size; /* sizeof(jobhost_plugin) the plugin was built with */
  const char *name;     /* plugin name, e.g. "export"; required */
  const char *version;  /* plugin release, e.g. "1.2.0"; required */
  const char *description;             /* one line */
  const jobhost_task_type *task_types; /* terminated; may be NULL */
  const jobhost_package *packages;     /* terminated; may be NULL */
  void *reserved[16];
  /* ---- members appended after 1.0 go here, marked with their minor ---- */
} jobhost_plugin;

/*
 * Size of the ABI 1.0 descriptor (magic through reserved): the least a
 * host accepts. A frozen number, not sizeof(jobhost_plugin): once members
 * are appended, a plugin built for 1.0 still says this many bytes. The
 * assertion ties the number to the end of the 1.0 members, which stays
 * where it is when members are appended.
 */
#define JOBHOST_PLUGIN_SIZE_1_0 JOBHOST_ABI_SIZE(184u, 96u)
JOBHOST_STATIC_ASSERT(offsetof(jobhost_plugin, reserved) +
                              sizeof(((const jobhost_plugin *)0)->reserved) ==
                          JOBHOST_PLUGIN_SIZE_1_0,
                      "JOBHOST_PLUGIN_SIZE_1_0 is the end of the 1.0 members");

#if defined(__GNUC__)
#define JOBHOST_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define JOBHOST_PLUGIN_EXPORT
#endif

/*
 * JOBHOST_PLUGIN_DEFINE — declare the plugin. Use once per plugin, at file
 * scope. task_types and packages are terminated arrays or NULL. The
 * version fields are filled from the headers the plugin is compiled with.
 */
#ifdef __cplusplus
#define JOBHOST_PLUGIN_LINKAGE extern "C"
#else
#define JOBHOST_PLUGIN_LINKAGE
#endif
#define JOBHOST_PLUGIN_DEFINE(name_, version_, description_, task_types_,      \
                              packages_)                                       \
  JOBHOST_PLUGIN_LINKAGE JOBHOST_PLUGIN_EXPORT const jobhost_plugin            \
      jobhost_plugin_descriptor;                                               \
  JOBHOST_PLUGIN_LINKAGE JOBHOST_PLUGIN_EXPORT const jobhost_plugin            \
      jobhost_plugin_descriptor = {JOBHOST_PLUGIN_MAGIC,                       \
                                   JOBHOST_ABI_MAJOR,                          \
                                   JOBHOST_ABI_TARGET_MINOR,                   \
                                   (uint32_t)sizeof(jobhost_plugin),           \
                                   (name_),                                    \
                                   (version_),                                 \
                                   (description_),                             \
                                   (task_types_),                              \
                                   (packages_),                                \
                                   {NULL}}

#ifdef __cplusplus
}
#endif

#endif /* JOBHOST_PLUGIN_H */
