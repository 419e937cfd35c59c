/*
 * jobhost/plugin.h — the plugin descriptor and task types.
 *
 * A plugin is a shared object that exports exactly one symbol,
 * `jobhost_plugin_descriptor`, a const struct made by JOBHOST_PLUGIN_DEFINE.
 * The host reads it without calling any plugin code and accepts the plugin
 * only when:
 *   - magic equals JOBHOST_PLUGIN_MAGIC;
 *   - abi_major equals the host's and abi_minor is not newer than the host's;
 *   - struct_size covers every member of ABI 1.0;
 *   - name and version are set, there is at least one task type or package,
 *     every task type has a name and a run entry point, every parameter a
 *     name and a valid type;
 *   - no task type or package name is already claimed by another plugin.
 *
 * Example (see sdk/skeleton/skeleton.c for a complete plugin):
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

/* Task type flags. */
#define JOBHOST_TASK_NOT_IMPLEMENTED (1u << 0) /* run returns JOBHOST_ENOTIMPL */
#define JOBHOST_TASK_CAN_BLOCK (1u << 1) /* may end Blocked (thresholds) */
#define JOBHOST_TASK_AGENT_SIDE (1u << 2) /* an Identity Manager agent task */

/*
 * run — the entry point of a task type.
 *
 * Called in the task's worker process with a host-owned context; all
 * parameters have been validated against `params`. Returns 0 (Succeeded),
 * JOBHOST_EBLOCKED (Blocked), JOBHOST_ECANCELLED (Cancelled) or another
 * negative code (Error; the message set with svc->set_message, or
 * jobhost_strerror(code), explains why).
 */
typedef int (*jobhost_run_fn)(jobhost_ctx *ctx);

/* A task type. Fixed size within ABI major 1 (new members take a reserved
 * slot). */
typedef struct jobhost_task_type {
  const char *name;             /* e.g. "ExportTask"; required */
  const char *description;      /* one line */
  const jobhost_param *params;  /* terminated by JOBHOST_PARAM_END; may be NULL */
  jobhost_run_fn run;           /* required */
  unsigned flags;               /* JOBHOST_TASK_* */
  void *reserved[8];
} jobhost_task_type;

/* Terminates an array of task types. */
#define JOBHOST_TASK_TYPE_END { NULL, NULL, NULL, NULL, 0, { NULL } }

/* The descriptor. Grows only at the end (struct_size tells how much the
 * plugin knows); reserved slots may also be taken. */
typedef struct jobhost_plugin {
  uint32_t magic;       /* JOBHOST_PLUGIN_MAGIC */
  uint16_t abi_major;   /* JOBHOST_ABI_MAJOR the plugin was built with */
  uint16_t abi_minor;   /* JOBHOST_ABI_MINOR the plugin was built with */
  uint32_t struct_size; /* sizeof(jobhost_plugin) the plugin was built with */
  const char *name;        /* plugin name, e.g. "export"; required */
  const char *version;     /* plugin release, e.g. "1.2.0"; required */
  const char *description; /* one line */
  const jobhost_task_type *task_types; /* terminated; may be NULL */
  const jobhost_package *packages;     /* terminated; may be NULL */
  void *reserved[16];
} jobhost_plugin;

/* Size of the ABI 1.0 descriptor: the least a host accepts. */
#define JOBHOST_PLUGIN_SIZE_1_0 ((uint32_t)sizeof(jobhost_plugin))

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
#define JOBHOST_PLUGIN_DEFINE(name_, version_, description_, task_types_,     \
                              packages_)                                      \
  JOBHOST_PLUGIN_LINKAGE JOBHOST_PLUGIN_EXPORT const jobhost_plugin           \
      jobhost_plugin_descriptor;                                              \
  JOBHOST_PLUGIN_LINKAGE JOBHOST_PLUGIN_EXPORT const jobhost_plugin           \
      jobhost_plugin_descriptor = {                                           \
          JOBHOST_PLUGIN_MAGIC,                                               \
          JOBHOST_ABI_MAJOR,                                                  \
          JOBHOST_ABI_MINOR,                                                  \
          (uint32_t)sizeof(jobhost_plugin),                                   \
          (name_),                                                            \
          (version_),                                                         \
          (description_),                                                     \
          (task_types_),                                                      \
          (packages_),                                                        \
          {NULL}}

#ifdef __cplusplus
}
#endif

#endif /* JOBHOST_PLUGIN_H */
