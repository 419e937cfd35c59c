/*
 * home.h — the jobhost home: store and working folders.
 *
 * Resolved from --home, else $JOBHOST_HOME, else $XDG_STATE_HOME/jobhost,
 * else $HOME/.local/state/jobhost. Layout, after Identity Manager's
 * (doc/identity-manager.md, "Working folders"):
 *
 *   jobhost.db                 the store (job and task instances)
 *   identity.db                the identity store (lib/idstore.h)
 *   Temp/ExportOutput          export tables
 *   Temp/JobLogs               one log per task instance
 *   Work/ExportCookies         incremental cookies
 *   Work/Collect               prepared files (with previous/)
 *   Work/ProvisioningOrders    order files
 *   Work/Tasks                 per-task-instance scratch folders
 *   Reports                    the run report of each job instance
 */
#ifndef JH_HOME_H
#define JH_HOME_H

#include <jobhost/services.h>

typedef struct jh_home {
  char *root;
  char *store_path;          /* job and task instances */
  char *identity_store_path; /* resources, links, changes (lib/idstore) */
  char *folders[JOBHOST_FOLDER_TASK_WORK + 1]; /* by jobhost_folder */
  char *reports;
} jh_home;

/* Resolve the root (cli_root may be NULL for the default; an empty
 * cli_root is refused with -EINVAL), create the folders (0750) and
 * fill *h. Returns 0, or a negative code with a reason in err. */
int jh_home_open(const char *cli_root, jh_home *h, char *err, size_t errsize);

/* Free the strings; NULL-safe. */
void jh_home_clear(jh_home *h);

#endif /* JH_HOME_H */
