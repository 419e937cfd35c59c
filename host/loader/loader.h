/*
 * loader.h — finding, checking and loading plugins (libltdl).
 *
 * The loader scans plugin directories, refuses every file that breaks a
 * rule of the SDK (see jobhost/plugin.h), and keeps the rest in a registry
 * indexed by task type and package name. A refused plugin is recorded with
 * its file and the reason, and never stops the others from loading.
 *
 * This file and loader.c are the only ones that know about libltdl.
 */
#ifndef JH_LOADER_H
#define JH_LOADER_H

#include <stddef.h>

#include <jobhost/jobhost.h>

/* A plugin that was accepted. */
typedef struct jh_plugin {
  char *path;                 /* file that was opened; owned by the registry */
  const jobhost_plugin *desc; /* inside the loaded module; valid until
                                 jh_registry_free() */
  void *handle;               /* lt_dlhandle */
} jh_plugin;

/* A file that was refused, and why. */
typedef struct jh_refusal {
  char *path;   /* owned by the registry */
  char *reason; /* one line, owned by the registry */
} jh_refusal;

typedef struct jh_registry {
  jh_plugin *plugins;
  size_t nplugins;
  jh_refusal *refusals;
  size_t nrefusals;
  char **dirs; /* directories searched, in order; owned */
  size_t ndirs;
} jh_registry;

/*
 * jh_plugin_dirs — the directories to search.
 *
 * `cli_dirs` (from --plugin-dir, may be NULL/0) win; else the
 * JOBHOST_PLUGIN_PATH environment variable (colon-separated; an empty entry
 * stands for the compiled default); else the compiled default. On success
 * *out receives a malloc'd array of malloc'd strings (free with
 * jh_strv_free) and *n its length. Returns 0 or -ENOMEM.
 */
int jh_plugin_dirs(const char *const *cli_dirs, size_t ncli, char ***out,
                   size_t *n);
void jh_strv_free(char **v, size_t n);

/* The compiled default plugin directory (static string). */
const char *jh_default_plugin_dir(void);

/*
 * jh_registry_load — scan `dirs` in order and load what is acceptable.
 *
 * A directory that does not exist is skipped silently; one that cannot be
 * read, or is writable by others, is recorded as a refusal. On success
 * *out receives a registry to free with jh_registry_free(). Returns 0, or
 * -ENOMEM (nothing is allocated then) or the libltdl initialisation error.
 */
int jh_registry_load(const char *const *dirs, size_t ndirs, jh_registry **out);

/* Unload every plugin and free the registry. NULL is a no-op. */
void jh_registry_free(jh_registry *reg);

/* The task type named `name`, or NULL. *owner (when not NULL) receives
 * the plugin providing it. Pointers are the registry's. */
const jobhost_task_type *jh_registry_task_type(const jh_registry *reg,
                                               const char *name,
                                               const jh_plugin **owner);

/* The connector package named `name`, or NULL. */
const jobhost_package *jh_registry_package(const jh_registry *reg,
                                           const char *name,
                                           const jh_plugin **owner);

/*
 * jh_registry_keep_only — unload every plugin that provides none of the
 * `used` task types and none of the packages `pkgs` (entries may be
 * NULL). For a process that will run only those (the fork server): fewer
 * mappings make every fork cheaper. The registry must not be used
 * afterwards except through the kept task types.
 */
void jh_registry_keep_only(jh_registry *reg,
                           const jobhost_task_type *const *used, size_t nused,
                           const jobhost_package *const *pkgs, size_t npkgs);

/*
 * jh_descriptor_check — the rules a descriptor must meet, without the
 * duplicate check. Returns 0, or a negative code with a one-line reason
 * written into why (size bytes). Reads only the descriptor, calls no plugin
 * code. Exposed for tests.
 */
int jh_descriptor_check(const jobhost_plugin *d, char *why, size_t size);

#endif /* JH_LOADER_H */
