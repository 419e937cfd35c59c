/*
 * idstore.h — the identity store: resources, links, change tables and
 * per-connector synchronization state, in one SQLite file (WAL) beside
 * the job store (doc/identity-manager.md).
 *
 * Tables (schema version in PRAGMA user_version, migrations applied on
 * open, each in its own transaction):
 *
 *   entity_types(id, name, connector) entity type names, by number
 *   properties(id, name)              property names, by number
 *   resources(entity_type, key, data, dirty)
 *                                     one row per resource, keyed by
 *                                     (entity_type, key); `key` is the
 *                                     primary key value, `data` the mapped
 *                                     values (jh_idstore_encode)
 *   links(association, value1, value2, connector)
 *                                     multi-valued links, as the two key
 *                                     values written in the source
 *   resource_changes(task_instance, connector, entity_type, key, op, data,
 *                    state)           the change tables: 'held' while a
 *                                     synchronization is Blocked, 'applied'
 *                                     when kept by DoNotDeleteChanges
 *   link_changes(task_instance, connector, association, value1, value2,
 *                op, state)
 *   sync_state(connector, last_batch, last_mode, last_sync_at,
 *              blocked_task_instance, failed_batch, failed_reason)
 *                                     failed_batch: a batch that failed was
 *                                     set aside; only a complete or initial
 *                                     batch may follow it
 *   holds(task_instance, connector, job_instance, batch, mode, changes,
 *         state, held_at, settled_by, settled_job, settled_at, reason)
 *                                     every set of changes a Blocked run
 *                                     held, and what became of it: 'held',
 *                                     'applied' (by a resume) or
 *                                     'superseded' (by a newer batch)
 *   pending_reports(task_instance, path)
 *                                     change reports whose transaction
 *                                     committed while their file was still
 *                                     path + ".tmp" (doc/synchronization.md)
 *
 * From schema 3, resources.dirty is a bit mask, one bit per task that
 * consumes it (JH_DIRTY_*), and the provisioning tables follow; their SQL
 * is in lib/provstore.c, their columns in lib/provstore.h
 * (doc/provisioning.md):
 *
 *   computed(entity_type, key, data)  computed values of a resource
 *   correlation_keys(resource_type, rule, side, key, value)
 *                                     indexed by value
 *   assignments(id, resource_type, owner_key, target_key, change_type,
 *               state, ...)           one per (resource type, owner) or
 *                                     (resource type, target)
 *   assignment_history(assignment, ...)
 *                                     prior versions of assignments
 *   orders(assignment, change_type, task_instance, file, written_at)
 *   reviews(assignment, decision, policy_hash, decided_at)
 *
 * Schema 4 adds the classification's results and the profiles (SQL in
 * lib/provstore_classify.c, doc/classification.md):
 *
 *   classifications(entity_type, key, resource_type, confidence, rule,
 *                   task_instance, updated_at)
 *                                     a target resource no owner holds:
 *                                     its resource type by classification,
 *                                     or NULL for an orphan
 *   profile_assignments(entity_type, key, profile, scope, task_instance,
 *                       assigned_at)  profiles the profile rules give
 *
 * Keys and values are compared bytewise (SQLite's BINARY collation), the
 * order prepare sorts by, so a sorted file merges with an index scan.
 */
#ifndef JH_IDSTORE_H
#define JH_IDSTORE_H

#include <stddef.h>
#include <stdint.h>

struct jh_db;

/* Schema version this code writes. */
#define JH_IDSTORE_SCHEMA 6
/* How long a writer waits for another one, in milliseconds. */
#define JH_IDSTORE_BUSY_MS 60000
/* The page cache of a connection, in KiB (a negative cache_size). */
#define JH_IDSTORE_CACHE "-32768"
/* The larger one of the compute tasks (jh_idstore_cache_size), at most
 * 128 MiB, taken only as pages are read: over a million identities they
 * read their B-trees again and again within one transaction, and with
 * 32 MiB read the same pages back from the file (bench/compute,
 * doc/compute.md "Speed"). The synchronization keeps the smaller one, so
 * that its memory stays flat as the source grows (bench/sync). */
#define JH_IDSTORE_COMPUTE_CACHE_KIB 131072

/* The page size of a store this code creates: 32 KiB rather than
 * SQLite's 4 KiB. The tasks read and write whole tables in key order;
 * with larger pages a B-tree is shallower and a million rows take an
 * eighth of the page writes, reads and cell moves (bench/compute's floor
 * falls from 8.6 s to 4.9 s). An existing store keeps its page size. */
#define JH_IDSTORE_PAGE_SIZE 32768

typedef struct jh_idstore jh_idstore;

/* Open (creating and migrating as needed) the store at path. Returns 0
 * and *out (close with jh_idstore_close), or a negative code with a
 * message naming the file in err. A store written by a newer jobhost is
 * refused (-EPROTO). */
int jh_idstore_open(const char *path, jh_idstore **out, char *err,
                    size_t errsize);
void jh_idstore_close(jh_idstore *s);
/* Set the connection's page cache to kib KiB: 0, or a negative code with
 * err. */
int jh_idstore_cache_size(jh_idstore *s, int kib, char *err, size_t errsize);

/* The connection (owned by the store), for the code that reads and writes
 * the tables through the database layer (lib/db.h). */
struct jh_db *jh_idstore_db(jh_idstore *s);

/* Slots of jh_idstore_scratch. */
#define JH_IDSTORE_SCRATCH 4

/* A buffer of at least size bytes owned by the store, one per slot
 * (0 .. JH_IDSTORE_SCRATCH - 1), kept until the next call for the same
 * slot and freed by jh_idstore_close: where a function copies results
 * whose pointers stay valid until its next call (lib/provstore.c). NULL
 * when out of memory or slot is out of range. */
void *jh_idstore_scratch(jh_idstore *s, int slot, size_t size);

/* Write the message (printf-style) into err, when err is not NULL, and
 * return rc: how the identity store's modules report a failure. */
int jh_idstore_fail(char *err, size_t errsize, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The store's file and its connection's last failure in err: -EIO, or
 * -ENOMEM when SQLite ran out of memory. */
int jh_idstore_db_fail(jh_idstore *s, char *err, size_t errsize);

/* Put "<et> <key>: " (the key cut at 160 bytes) before the message in
 * err (size bytes), cutting its end when it no longer fits: how a task
 * names the resource a failure is about. */
void jh_idstore_name_resource(char *err, size_t size, const char *et,
                              const char *key, size_t len);

/* Run one SQL text without results. Returns 0 or -EIO with the message
 * in err. */
int jh_idstore_exec(jh_idstore *s, const char *sql, char *err, size_t errsize);

/* The number of entity type `name` (of `connector`), created when absent;
 * 0 or -EIO. */
int jh_idstore_entity_type(jh_idstore *s, const char *name,
                           const char *connector, int64_t *id, char *err,
                           size_t errsize);

/* The number of property `name`, created when absent; 0 or -EIO. Numbers
 * never change once given, so stored data stays readable. */
int jh_idstore_property(jh_idstore *s, const char *name, uint32_t *id,
                        char *err, size_t errsize);

/* The name of property number id: 1 and *name (malloc'd), 0 when there
 * is none, or a negative code (-EIO, -ENOMEM) with err. */
int jh_idstore_property_name(jh_idstore *s, uint32_t id, char **name, char *err,
                             size_t errsize);

/*
 * Encoding of a resource's values. `data` holds, for every property with
 * a non-empty value, in ascending order of property number, the number
 * and the value's length (LEB128 varints) and the value's bytes. The
 * order and the omission of empty values make it independent of the
 * mapping's column order, so equal values give equal bytes.
 */
typedef struct jh_idstore_value {
  uint32_t prop; /* jh_idstore_property */
  const char *value;
  size_t length;
} jh_idstore_value;

/* Encode n values (in ascending prop order: see jh_idstore_sort_props)
 * into *buf (grown with realloc; *cap its size). Returns the encoded
 * length, or (size_t)-1 when out of memory. */
size_t jh_idstore_encode(const jh_idstore_value *values, size_t n, char **buf,
                         size_t *cap);

/* The order in which to pass n values to jh_idstore_encode: order[i] is
 * the index of the i-th smallest of props. */
void jh_idstore_sort_props(const uint32_t *props, size_t n, size_t *order);

/* Call fn for each (prop, value) of data; stops at the first nonzero
 * return, which is returned. -EILSEQ for malformed data. */
int jh_idstore_decode(const void *data, size_t len,
                      int (*fn)(void *arg, uint32_t prop, const char *value,
                                size_t vlen),
                      void *arg);

/*
 * Put in place the change reports of committed transactions: for each
 * row of pending_reports, rename path + ".tmp" to path when it is there,
 * then remove the row. With wait 0 a row that another writer keeps from
 * being removed stays for a later call (the rename is done either way).
 * Returns the number of files renamed, or a negative code with err.
 */
int jh_idstore_settle_reports(jh_idstore *s, int wait, char *err,
                              size_t errsize);

/* The batch of connector that failed and was set aside (its number in
 * *seq, its reason in why), or 0 in *seq when none: read-only, without
 * creating the store at path. 0, or -EIO with the message in why. */
int jh_idstore_failed_batch(const char *path, const char *connector,
                            long long *seq, char *why, size_t size);

/*
 * Remove the batch folders of connector (collect_dir/<connector>/batches/
 * <seq>-<mode>) that the store has consumed: seq up to sync_state's
 * last_batch. A synchronization does it after its commit; the host does
 * it for one killed after its commit. Returns 0, or -EIO when the state
 * cannot be read (folders that cannot be removed stay for the next run).
 */
int jh_idstore_remove_consumed(jh_idstore *s, const char *collect_dir,
                               const char *connector);

/*
 * Finish what a synchronization killed after its commit left undone: its
 * change report put in place (jh_idstore_settle_reports, not waiting for
 * another writer) and the consumed batches of every connector removed.
 * Opens the store at path. 0, or a negative code with err.
 */
int jh_idstore_finish_committed(const char *path, const char *collect_dir,
                                char *err, size_t errsize);

/* 1 when task_instance held changes (a row of holds names it, whatever
 * became of them since), 0 when not, -EIO when the store at path cannot
 * be read. */
int jh_idstore_held_by(const char *path, int64_t task_instance);

/* Whether connector is blocked, read-only, without creating the store at
 * path: *task receives the task instance whose held changes block it (0
 * when none) and *job that task's job instance (0 when not known). 0, or
 * -EIO when the store cannot be read. */
int jh_idstore_blocked(const char *path, const char *connector, int64_t *task,
                       int64_t *job);

/* 1 when path is the final name of a pending report, else 0. */
int jh_idstore_is_pending_report(jh_idstore *s, const char *path);

#endif /* JH_IDSTORE_H */
