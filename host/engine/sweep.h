/*
 * sweep.h — what runs that died leave behind, removed when a job starts.
 *
 * A host or worker killed mid-task leaves its scratch folder
 * (Work/Tasks/<instance>-<task>-<attempt>, with the synchronizer's spill
 * file) and maybe a temporary change report (a .tmp file in Temp/JobLogs).
 * When a job instance starts or is resumed, before any task runs:
 *
 *   1. the change reports whose synchronization committed are put in
 *      place (lib/idstore.h, jh_idstore_settle_reports);
 *   2. every scratch folder and every temporary file of Temp/JobLogs that
 *      belongs to a job instance that is not running any more, or to the
 *      instance that is starting (none of its tasks runs yet), is
 *      removed;
 *   3. every temporary file of an atomic write (lib/atomic_file.h,
 *      "<name>.tmp.<pid>") whose writer process is gone is removed from
 *      the home's folders, each connector's Work/Collect/<connector>
 *      and Reports: an export, prepare or report killed while it wrote.
 *
 * Folders and files of instances that are running (other jobs) stay.
 * doc/synchronization.md describes it for operators.
 */
#ifndef JH_SWEEP_H
#define JH_SWEEP_H

#include <stdint.h>
#include <stdio.h>

#include "home.h"
#include "store.h"

/* Sweep for `instance`, which has just become Running. What cannot be
 * removed is named on log (may be NULL) and left for the next sweep.
 * Returns the number of entries removed. */
int jh_sweep_leftovers(const jh_home *home, jh_store *store, int64_t instance,
                       FILE *log);

/* Steps 1 and 3 again, when a job instance ends: the change report of a
 * synchronization whose worker died after its commit is put in place
 * (no later job may come to do it), and the temporary files of writers
 * that are gone now are removed (a worker of a killed host may still be
 * dying when the next instance starts, and its file is kept then). What
 * cannot be done is named on log (may be NULL). Returns the number of
 * files removed. */
int jh_sweep_job_end(const jh_home *home, FILE *log);

/* Only step 3. Returns the number of files removed. */
int jh_sweep_dead_writers(const jh_home *home);

#endif /* JH_SWEEP_H */
