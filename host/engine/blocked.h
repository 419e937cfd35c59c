/*
 * blocked.h — blocked connectors (doc/identity-manager.md, blocked connectors).
 *
 * While a connector's synchronization is Blocked (its changes held,
 * doc/synchronization.md), the export, prepare and synchronize tasks of
 * that connector are left out of incremental jobs, until the blocked job
 * instance is resumed or a complete synchronization of the connector
 * replaces the held changes. The job instance that holds the block is
 * never left out: resuming it is how the block is lifted.
 */
#ifndef JH_BLOCKED_H
#define JH_BLOCKED_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline.h"

/*
 * The connector whose incremental synchronization task t is (a task of
 * a type flagged JOBHOST_TASK_EXPORTS, JOBHOST_TASK_PREPARES or
 * JOBHOST_TASK_SYNCHRONIZES, in a job whose prepare task for that
 * connector runs in Incremental mode), or NULL. The task's connector is
 * its `connector` parameter, or for an export its connection's connector
 * in the model.
 */
const char *jh_task_incremental_connector(const jh_pipeline *p,
                                          const jh_task_def *t);

/*
 * Why t must be left out of job instance `instance`: the connector of
 * its incremental synchronization is blocked by another job instance.
 * Returns why (filled) or NULL when t may run. identity_store is the
 * identity store's path; a missing store blocks nothing.
 */
const char *jh_blocked_reason(const char *identity_store, const jh_pipeline *p,
                              const jh_task_def *t, int64_t instance, char *why,
                              size_t size);

#endif /* JH_BLOCKED_H */
