/*
 * hostconf.h — the host configuration, /etc/jobhost/jobhost.yaml
 * (doc/scheduler.md, jobhost.yaml(5)).
 *
 *   home: /var/lib/jobhost          # the jobhost home
 *   plugin_dirs: [DIR, ...]         # plugin folders
 *   pipelines: [FILE-OR-GLOB, ...]  # the pipelines `jobhost daemon` runs
 *   max_parallel_jobs: 4            # jobs running at once (>= 1)
 *   grace_period: 30s               # SIGTERM to SIGKILL delay of a task
 *   time_zone: Europe/Paris         # the zone of cron_time_zone: local
 *   log_level: information          # the daemon's own log lines
 *
 * Relative paths are relative to the folder of the file. Every problem is
 * a diagnostic at file:line:column; nothing is returned on error.
 */
#ifndef JH_HOSTCONF_H
#define JH_HOSTCONF_H

#include <stddef.h>

#include "diag.h"

/* The daemon's log levels, most verbose first. */
typedef enum jh_hc_level {
  JH_HC_DEBUG = 0,
  JH_HC_INFORMATION = 1,
  JH_HC_WARNING = 2,
  JH_HC_ERROR = 3
} jh_hc_level;

typedef struct jh_hostconf {
  char *path;         /* the file, as given */
  char *home;         /* absolute; NULL when not given */
  char **plugin_dirs; /* absolute */
  size_t nplugin_dirs;
  char **pipelines; /* absolute files, globs expanded (sorted, no
                       duplicates) */
  size_t npipelines;
  int max_parallel_jobs; /* default 4 */
  long grace_ms;         /* default 5000 */
  char *time_zone;       /* NULL: the system's */
  jh_hc_level log_level; /* default information */
} jh_hostconf;

#define JH_HOSTCONF_DEFAULT_PARALLEL 4
#define JH_HOSTCONF_DEFAULT_GRACE_MS 5000L

/* Read and check the file. Returns 0 and fills *out (clear with
 * jh_hostconf_clear), or JOBHOST_ECONFIG with errors in diags, or
 * -ENOENT (nothing in diags) when the file does not exist. */
int jh_hostconf_load(const char *path, jh_hostconf *out, jh_diags *diags);

void jh_hostconf_clear(jh_hostconf *c);

/*
 * Which file to read: `cli` (--config) when not NULL, else
 * $JOBHOST_CONFIG when set and not empty, else the installed default
 * (JOBHOST_CONFIG_PATH, $(sysconfdir)/jobhost/jobhost.yaml). *named is
 * set when the file was named (option or environment): then it must
 * exist.
 */
const char *jh_hostconf_path(const char *cli, int *named);

/* The installed default path. */
const char *jh_hostconf_default_path(void);

#endif /* JH_HOSTCONF_H */
