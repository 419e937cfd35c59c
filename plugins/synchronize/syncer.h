/*
 * syncer.h — the synchronization of one connector's prepared batches into
 * the identity store (doc/identity-manager.md; doc/synchronization.md).
 *
 * One call is one task's work, done in one store transaction:
 *
 *   1. the pending batches of the connector (seq above the last applied;
 *      a complete or initial batch voids the ones before it) are compared
 *      with the store — complete: by primary key, resources absent from
 *      the files deleted; incremental: the delta's commands; initial:
 *      plain inserts — and the changes spilled to a scratch file;
 *   2. the source-health guard refuses an empty table, or one that
 *      shrinks by more than the connector's share, against the stored
 *      resources (never a mass deletion);
 *   3. the thresholds (connector, mapping and association levels) are
 *      checked, unless forced or initial: when one is exceeded the changes
 *      are kept in the change tables as 'held' and the call ends Blocked;
 *   4. otherwise the changes are applied; with do_not_delete_changes they
 *      also stay in the change tables as 'applied' for
 *      SetRecentlyModifiedFlagTask.
 *
 * Resuming (resume_of) applies the changes held by that task instance
 * (or, when it held none, by its job instance) instead, without reading
 * any batch; held changes that a newer batch superseded, or that were
 * applied already, are not applied again, and the note says so. Every
 * change applied (or held) is written to the change report, a CSV file,
 * put in place by a protocol tied to the transaction's commit
 * (doc/synchronization.md): a report whose transaction committed is never
 * lost, one whose transaction did not commit never appears.
 */
#ifndef JH_SYNCER_H
#define JH_SYNCER_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

struct jh_sync_stats;

typedef struct jh_sync_args {
  const jh_model *model;
  const char *connector;   /* connector id */
  const char *collect_dir; /* Work/Collect */
  const char *store_path;  /* the identity store */
  const char *work_dir;    /* scratch folder (the spill file goes there) */
  const char *report_path; /* change report CSV; NULL for none */
  int64_t task_instance;   /* this task instance (owner of held changes) */
  int64_t job_instance;    /* its job instance (0: unknown), the one
                              `jobhost resume` takes */
  int64_t resume_of;       /* nonzero: apply the changes it held */
  int force;               /* thresholds do not block */
  int do_not_delete_changes;
  /* polled between rows; nonzero stops the call (-ECANCELED) */
  int (*cancelled)(void *arg);
  /* one line of the task log (level as jobhost_log_level) */
  void (*log)(void *arg, int level, const char *line);
  /* called once the store's transaction committed (may be NULL) */
  void (*committed)(void *arg, int held, const struct jh_sync_stats *stats);
  void *arg;
} jh_sync_args;

typedef struct jh_sync_stats {
  int64_t batches; /* batches read */
  int64_t rows;    /* rows read from them */
  int64_t inserted, updated, deleted, unchanged;
  int64_t link_inserted, link_deleted;
  int applied;        /* the changes reached the resources */
  int64_t superseded; /* held changes of an earlier Blocked run
                         discarded because a newer batch was applied */
  /* when nonzero: a sentence for the task's message (what became of held
   * changes: superseded, already applied, nothing held) */
  char note[512];
} jh_sync_stats;

/*
 * Returns 0 (done; stats->applied tells whether anything was applied),
 * JOBHOST_EBLOCKED (a threshold was exceeded, or the connector is blocked;
 * the reason in err), JOBHOST_ESOURCE (the guard refused a table),
 * JOBHOST_ECONFIG (the model or the batch does not fit), -ECANCELED, or
 * another negative errno. err always says why when nonzero. The store is
 * unchanged unless the call returns 0 or JOBHOST_EBLOCKED.
 */
int jh_sync_run(const jh_sync_args *a, jh_sync_stats *stats, char *err,
                size_t errsize);

/*
 * SetRecentlyModifiedFlagTask: flag dirty every resource named by an
 * 'applied' row of the change tables, then clear those rows. *flagged
 * receives the resources flagged, *cleared the rows removed.
 */
int jh_sync_mark_dirty(const char *store_path, int64_t *flagged,
                       int64_t *cleared, char *err, size_t errsize);

#endif /* JH_SYNCER_H */
