/*
 * cli_dryrun.h — `jobhost run --dry-run` (doc/jobs.md, "Dry runs"): the
 * job runs through its order generation on copies, so that the identity
 * store, the working folders and every target stay as they were.
 *
 * The run gets a home of its own under <home>/DryRun/<instance>/: a
 * snapshot of the identity store, copies of the export output, cookies
 * and prepared files, and empty ProvisioningOrders, JobLogs and Tasks
 * folders. The job store and the Reports folder stay the real ones, so
 * the instance shows in `jobhost history`. Tasks that come after the
 * job's last GenerateProvisioningOrdersTask, and every FulfillTask, are
 * left out (Skipped, "dry run").
 */
#ifndef JH_CLI_DRYRUN_H
#define JH_CLI_DRYRUN_H

#include <stdint.h>
#include <stdio.h>

#include "home.h"
#include "job.h"

typedef struct jh_dry_run {
  jh_home home; /* what the executor is given */
  char *dir;    /* <home>/DryRun/<instance> */
  const jh_job *job;
  size_t *pos;        /* step position of each task, by task index */
  size_t last_orders; /* position of the last orders step + 1; 0: none */
} jh_dry_run;

/* Make the dry run's home for instance of job. 0, or a negative code
 * with err (and nothing left behind). */
int jh_dry_run_open(const jh_home *home, const jh_job *job, int64_t instance,
                    jh_dry_run *d, char *err, size_t errsize);

/* A leave_out function of jh_exec_options (arg: the jh_dry_run). */
const char *jh_dry_run_leave_out(void *arg, const jh_task_def *def,
                                 int64_t instance, char *why, size_t size);

/* Count the orders the run wrote, by resource type and change type,
 * write them to <dir>/changes.json and say where everything is on out.
 * 0, or a negative errno when changes.json could not be written. */
int jh_dry_run_summary(const jh_dry_run *d, FILE *out);

void jh_dry_run_close(jh_dry_run *d);

/* Whether instance was a dry run (its folder is there): such an
 * instance is not resumed. */
int jh_dry_run_exists(const jh_home *home, int64_t instance);

#endif /* JH_CLI_DRYRUN_H */
