/*
 * provstore.h — the provisioning side of the identity store
 * (doc/provisioning.md): computed property values, correlation keys,
 * assignments of resource types with their scalar and navigation values
 * and provisioning states, their history, the orders written and the
 * review decisions. The tables live in the identity store (schema 3,
 * lib/idstore.c); the SQL that reads and writes them is here and only
 * here.
 *
 * Tables (schema 3):
 *   resources.dirty            a bit mask, one bit per consumer
 *                              (JH_DIRTY_*); the synchronization sets
 *                              them all, each task clears its own
 *   computed(entity_type, key, data)
 *                              computed values of a resource, encoded as
 *                              resources.data (jh_idstore_encode)
 *   correlation_keys(resource_type, rule, side, key, value)
 *                              one key per resource, rule and side,
 *                              indexed by value
 *   assignments(id, resource_type, owner_key, target_key, change_type,
 *               state, workflow_state, confidence, policy_hash,
 *               declined_hash, message, updated_at, task_instance,
 *               vals)          one per (resource type, owner) or, for an
 *                              orphan, per (resource type, target); vals
 *                              holds every scalar and navigation value
 *                              (jh_prov_vals_encode)
 *   assignment_history(assignment, change_type, state, vals, valid_to,
 *                      task_instance)
 *                              prior versions (unless ignore_historization)
 *   orders(assignment, change_type, task_instance, file, written_at)
 *   reviews(assignment, decision, policy_hash, decided_at)
 *
 * Every writer runs inside the caller's transaction (jh_db_begin on
 * jh_idstore_db): a task commits its writes with what it consumed.
 */
#ifndef JH_PROVSTORE_H
#define JH_PROVSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "idstore.h"

/* Provisioning states (doc/provisioning.md). */
typedef enum jh_prov_state {
  JH_PROV_NONE = 0,
  JH_PROV_PENDING = 1,
  JH_PROV_TRANSMITTED = 2,
  JH_PROV_ERRORED = 3,
  JH_PROV_VERIFIED = 4,
  JH_PROV_AWAITING_APPROVAL = 5,
  JH_PROV_INACTIVE = 6,
  JH_PROV_ERROR = 7,
  JH_PROV_EXECUTED = 8
} jh_prov_state;
#define JH_PROV_STATE_COUNT 9

/* "Pending", "Awaiting Approval", ... (NULL when out of range). */
const char *jh_prov_state_name(int state);
/* The state named text ("pending", "awaiting-approval", "Awaiting
 * Approval", any case), or -1. */
int jh_prov_state_parse(const char *text);

typedef enum jh_change_type {
  JH_CHANGE_NONE = 0,
  JH_CHANGE_ADDED = 1,
  JH_CHANGE_MODIFIED = 2,
  JH_CHANGE_DELETED = 3
} jh_change_type;
/* "None", "Added", "Modified", "Deleted". */
const char *jh_change_type_name(int change_type);

/* Workflow states of an assignment that the review uses. */
#define JH_WORKFLOW_NONE 0
#define JH_WORKFLOW_APPROVED 16
#define JH_WORKFLOW_DECLINED 17

/* Dirty bits of resources.dirty. */
#define JH_DIRTY_EXPRESSIONS 1
#define JH_DIRTY_CORRELATION 2
#define JH_DIRTY_ROLE_MODEL 4
#define JH_DIRTY_ALL 7

/* ---- resources, as the compute tasks read them ---------------------- */

/* One resource: its key, its synchronized data and its computed values
 * (both jh_idstore_encode; computed may be empty), its dirty bits. The
 * pointers are borrowed for the duration of the callback. */
typedef struct jh_prov_resource {
  const char *key;
  size_t key_len;
  const void *data;
  size_t data_len;
  const void *computed;
  size_t computed_len;
  int has_computed; /* the resource has a row of computed values */
  int dirty;
} jh_prov_resource;

/* Whether entity type et has a resource with key: 1, 0, or -EIO. */
int jh_prov_exists(jh_idstore *s, int64_t et, const char *key, size_t key_len,
                   char *err, size_t errsize);

/* Call fn for every resource of entity type et in key order (only those
 * with a bit of dirty_mask set when dirty_mask is not 0). fn returns 0
 * to go on; a nonzero return stops and is returned. Else 0 or -EIO. */
int jh_prov_scan(jh_idstore *s, int64_t et, int dirty_mask,
                 int (*fn)(void *ud, const jh_prov_resource *r), void *ud,
                 char *err, size_t errsize);

/* One resource by key: 1 and *out (pointers valid until the next call
 * of jh_prov_get on s), 0 when there is none, or -EIO. */
int jh_prov_get(jh_idstore *s, int64_t et, const char *key, size_t key_len,
                jh_prov_resource *out, char *err, size_t errsize);

/* The values of a multi-valued link: the value2 of every row of links
 * with association and value1 = key, in order, to fn. 0 or -EIO. */
int jh_prov_links(jh_idstore *s, const char *association, const char *key,
                  size_t key_len,
                  int (*fn)(void *ud, const char *v, size_t len), void *ud,
                  char *err, size_t errsize);

/* Replace the computed values of (et, key) with data (len 0 removes
 * them). 1 when they changed, 0 when equal, or -EIO. */
int jh_prov_computed_put(jh_idstore *s, int64_t et, const char *key,
                         size_t key_len, const void *data, size_t len,
                         char *err, size_t errsize);
/* The same, and when they changed the resource's dirty flags get the
 * bits of mark in the same write: a resource's flags are those of its
 * row in resources and of its computed values together (what
 * jh_prov_scan and jh_prov_get give, what the clears clear). */
int jh_prov_computed_put_marked(jh_idstore *s, int64_t et, const char *key,
                                size_t key_len, const void *data, size_t len,
                                int mark, char *err, size_t errsize);
/* The same for r, a resource of et as jh_prov_scan gave it in the pass
 * still under way: values equal to those r was read with write nothing,
 * and a resource that had none gets them without the search for a row
 * to update. */
int jh_prov_computed_put_scanned(jh_idstore *s, int64_t et,
                                 const jh_prov_resource *r, const void *data,
                                 size_t len, int mark, char *err,
                                 size_t errsize);

/* Clear the bits of mask in (et, key)'s dirty flags; set them with
 * jh_prov_dirty_set. 0 or -EIO. */
int jh_prov_dirty_clear(jh_idstore *s, int64_t et, const char *key,
                        size_t key_len, int mask, char *err, size_t errsize);
int jh_prov_dirty_set(jh_idstore *s, int64_t et, const char *key,
                      size_t key_len, int mask, char *err, size_t errsize);
/* Clear the bits of mask in the dirty flags of every resource of entity
 * type et, in one statement: for a task that consumed every resource of
 * et flagged with them (a fifth of the cost of jh_prov_dirty_clear per
 * resource). The number of resources changed, or -EIO. */
int64_t jh_prov_dirty_clear_all(jh_idstore *s, int64_t et, int mask, char *err,
                                size_t errsize);

/* ---- correlation keys -------------------------------------------- */

#define JH_CORR_SOURCE 0
#define JH_CORR_TARGET 1

/* Set the correlation key of resource key for (resource type, rule
 * index, side); value NULL removes it. 1 changed, 0 equal, or -EIO. */
int jh_prov_corrkey_put(jh_idstore *s, const char *resource_type, int rule,
                        int side, const char *key, size_t key_len,
                        const char *value, size_t value_len, char *err,
                        size_t errsize);

/* Whether rule of resource_type has any key on side: 1, 0, or -EIO. */
int jh_prov_corrkey_any(jh_idstore *s, const char *resource_type, int rule,
                        int side, char *err, size_t errsize);
/* The resources whose key for (resource type, rule, side) is value, to
 * fn in key order. 0 or -EIO. */
int jh_prov_corrkey_find(jh_idstore *s, const char *resource_type, int rule,
                         int side, const char *value, size_t value_len,
                         int (*fn)(void *ud, const char *key, size_t len),
                         void *ud, char *err, size_t errsize);

/* ---- assignments ------------------------------------------------- */

/*
 * The values of an assignment: scalars (one entry per property) and
 * navigations (one entry per property and target key), each with the
 * policy's value (what the rules compute), the observed one (what the
 * last synchronization read from the target) and a provisioning state.
 */
typedef struct jh_prov_val {
  uint32_t prop;  /* jh_idstore_property */
  int navigation; /* 0 scalar, 1 one value of a navigation */
  int state;      /* jh_prov_state */
  int has_policy, has_observed;
  const char *policy; /* scalar: the value; navigation: the target key */
  size_t policy_len;
  const char *observed;
  size_t observed_len;
} jh_prov_val;

/* Encode n values (sorted by prop, navigation, policy/observed text:
 * the order jh_prov_vals_sort gives) into *buf (grown with realloc, *cap
 * its size): the length, or (size_t)-1 when out of memory. Equal values
 * give equal bytes. */
size_t jh_prov_vals_encode(const jh_prov_val *v, size_t n, char **buf,
                           size_t *cap);
void jh_prov_vals_sort(jh_prov_val *v, size_t n);
/* Set the state of every value of encoded vals (len bytes, writable)
 * that is at state from to state to, in place (a value's state takes
 * one byte). 0, or -EILSEQ when vals cannot be read. */
int jh_prov_vals_restate(char *vals, size_t len, int from, int to);
/* Call fn for each value of vals; stops at the first nonzero return,
 * which is returned; -EILSEQ when malformed. */
int jh_prov_vals_decode(const void *vals, size_t len,
                        int (*fn)(void *ud, const jh_prov_val *v), void *ud);

typedef struct jh_prov_assignment {
  int64_t id; /* 0: not stored yet */
  const char *resource_type;
  const char *owner_key;  /* NULL: an orphan */
  const char *target_key; /* NULL: no target resource yet */
  int change_type;        /* what the next order does */
  int state;              /* of the assignment itself */
  int workflow_state;
  int confidence; /* of the correlation that found the target (0: none) */
  const char *policy_hash;   /* digest of the policy values */
  const char *declined_hash; /* policy_hash when a review declined it */
  const char *message;
  int64_t task_instance; /* the task that wrote it last */
  const void *vals;
  size_t vals_len;
} jh_prov_assignment;

/* Call fn for every assignment of resource_type, in owner_key order
 * (orphans last, by target key). Pointers are borrowed for the call.
 * 0, fn's nonzero return, or -EIO. */
int jh_prov_assignments(jh_idstore *s, const char *resource_type,
                        int (*fn)(void *ud, const jh_prov_assignment *a),
                        void *ud, char *err, size_t errsize);

/* The assignment of resource_type whose target is target_key: 1 and
 * *out (pointers valid until the next call on s), 0 when none, or -EIO. */
int jh_prov_assignment_by_target(jh_idstore *s, const char *resource_type,
                                 const char *target_key,
                                 jh_prov_assignment *out, char *err,
                                 size_t errsize);

/* Insert (a->id 0: *id receives the new id) or replace an assignment.
 * When historize and the stored version differs, the stored version is
 * kept in assignment_history first. 0 or -EIO. */
int jh_prov_assignment_put(jh_idstore *s, const jh_prov_assignment *a,
                           int historize, int64_t *id, char *err,
                           size_t errsize);

/* Remove assignment id (an owner gone whose Deleted order was verified,
 * an orphan that no longer exists), with history when historize. */
int jh_prov_assignment_remove(jh_idstore *s, int64_t id, int historize,
                              char *err, size_t errsize);

/* ---- orders ------------------------------------------------------ */

/* The Pending assignments of resource_type with an order to send, by
 * change type (counts[JH_CHANGE_ADDED..JH_CHANGE_DELETED]; counts[0] is
 * 0), and, when there is one, how many of its assignments have both an
 * owner and a target (*live; the base of the percentage thresholds).
 * 0, or a negative code with err. */
int jh_prov_count_pending(jh_idstore *s, const char *resource_type,
                          int64_t counts[4], int64_t *live, char *err,
                          size_t errsize);

/* ---- review (jobhost provisioning) ----------------------------------- */

/* Filter of jh_prov_list: state -1 and resource_type NULL match all. */
typedef struct jh_prov_filter {
  int state;
  const char *resource_type;
} jh_prov_filter;

/* Call fn for every assignment matching f, in id order. */
int jh_prov_list(jh_idstore *s, const jh_prov_filter *f,
                 int (*fn)(void *ud, const jh_prov_assignment *a), void *ud,
                 char *err, size_t errsize);

/* jh_prov_list for one state and one resource type (both set in f),
 * each assignment given with its owner, read in the same pass as
 * jh_prov_get reads it (owner_et: the owners' entity type): owner is
 * NULL when the assignment has no owner or the store no such resource.
 * What fn is given lasts until it returns. */
int jh_prov_list_owned(jh_idstore *s, const jh_prov_filter *f, int64_t owner_et,
                       int (*fn)(void *ud, const jh_prov_assignment *a,
                                 const jh_prov_resource *owner),
                       void *ud, char *err, size_t errsize);

/*
 * Review decisions, all or none, each in its own transaction: approve
 * moves assignments Awaiting Approval to Pending (workflow Approved);
 * decline records the decision with the assignment's policy hash and
 * sets its state None (workflow Declined), so the role model leaves it
 * until the policy's values change. An unknown id or one not Awaiting
 * Approval changes nothing and returns -ENOENT / -EINVAL with err
 * naming the id and its state.
 */
int jh_prov_approve(jh_idstore *s, const int64_t *ids, size_t n, char *err,
                    size_t errsize);
int jh_prov_decline(jh_idstore *s, const int64_t *ids, size_t n, char *err,
                    size_t errsize);

/* Record that the n assignments ids (at least one, in the order their
 * orders were written) went out in file (relative to the orders folder),
 * each as an order of its change type: one statement over the set. The
 * assignments themselves are not written: a Pending assignment with an
 * order recorded after its last write is Transmitted, and so are its
 * Pending values, for every reader here and for the view
 * assignment_states (doc/provisioning.md). 0, -ENOENT when one of them is
 * not in the store (the orders of the others may be recorded: the
 * caller's transaction is to be rolled back), -EINVAL, -ENOMEM or -EIO. */
int jh_prov_orders_written(jh_idstore *s, const int64_t *ids, size_t n,
                           int64_t task_instance, const char *file, char *err,
                           size_t errsize);

/* Whether orders were recorded as written in file (as given to
 * jh_prov_orders_written): 1, 0, or -EIO. A file of orders that no row
 * names was left by a task killed before its commit. */
int jh_prov_order_file_recorded(jh_idstore *s, const char *file, char *err,
                                size_t errsize);

/* ---- fulfillment (lib/provstore_fulfill.c) ------------------------- */

/*
 * Record what the fulfillment of assignment id's order gave: state
 * JH_PROV_EXECUTED or JH_PROV_ERRORED, with message (NULL: none). Only an
 * assignment still Transmitted changes: its state, and the state of each
 * of its Transmitted values, become state. 1 when it changed, 0 when the
 * assignment is gone or has moved on (a later role model replaced it, or
 * this result was recorded already), or a negative code with err.
 */
int jh_prov_fulfilled(jh_idstore *s, int64_t id, int state, const char *message,
                      int64_t task_instance, char *err, size_t errsize);

/* ---- classification and profiles (lib/provstore_classify.c) ------- */

/*
 * Tables of schema 4 (doc/classification.md). The classification of an
 * entity type's targets is replaced whole by each run: the task starts
 * with jh_prov_class_begin, gives each target no owner holds to
 * jh_prov_class_put, and jh_prov_class_finish removes the rows of the
 * targets it did not give (gone, or held by an owner now). Profiles go
 * the same way: jh_prov_profiles_begin, jh_prov_profile_want for every
 * (resource, profile, scope) a rule gives or denies, then
 * jh_prov_profiles_finish adds those given and not denied and removes
 * the others of the entity type. All inside the caller's transaction.
 */

/* One row of classifications: resource_type NULL is an orphan (then
 * confidence is 0 and rule NULL). rule: where the rule that matched is
 * written ("file:line"). */
typedef struct jh_prov_class {
  const char *entity_type;
  const char *key;
  size_t key_len;
  const char *resource_type;
  int confidence;
  const char *rule;
  int64_t task_instance;
  const char *updated_at; /* read back only */
} jh_prov_class;

/* Start gathering a classification. 0 or -EIO. */
int jh_prov_class_begin(jh_idstore *s, char *err, size_t errsize);
/* Store c (its updated_at ignored) when it differs from the stored row,
 * and count its key as seen. 1 written, 0 equal, or -EIO. */
int jh_prov_class_put(jh_idstore *s, const jh_prov_class *c, char *err,
                      size_t errsize);
/* Remove the rows of entity type et whose key was not put since
 * jh_prov_class_begin: their number, or -EIO. */
int64_t jh_prov_class_finish(jh_idstore *s, const char *et, char *err,
                             size_t errsize);
/* Call fn for every row of classifications (of entity type et unless
 * NULL; only the orphans when orphans_only), by entity type and key.
 * 0, fn's nonzero return, or -EIO. */
int jh_prov_class_list(jh_idstore *s, const char *et, int orphans_only,
                       int (*fn)(void *ud, const jh_prov_class *c), void *ud,
                       char *err, size_t errsize);

/* One profile assignment: scope "" for the resource itself, else the
 * key of the sub-resource that scopes it. */
typedef struct jh_prov_profile {
  const char *entity_type;
  const char *key;
  size_t key_len;
  const char *profile;
  const char *scope;
  size_t scope_len;
  int64_t task_instance;
  const char *assigned_at; /* read back only */
} jh_prov_profile;

/* Start gathering the profiles of one entity type. 0 or -EIO. */
int jh_prov_profiles_begin(jh_idstore *s, char *err, size_t errsize);
/* A rule gives (denied 0) or refuses (denied 1) p (its entity_type
 * ignored): a refusal wins over any number of gifts. 0 or -EIO. */
int jh_prov_profile_want(jh_idstore *s, const jh_prov_profile *p, int denied,
                         char *err, size_t errsize);
/* Make the profiles of entity type et those given and not refused since
 * jh_prov_profiles_begin: *added and *removed receive the counts. 0 or
 * -EIO. */
int jh_prov_profiles_finish(jh_idstore *s, const char *et,
                            int64_t task_instance, int64_t *added,
                            int64_t *removed, char *err, size_t errsize);
/* Call fn for every profile assignment (of entity type et unless NULL),
 * by entity type, key, profile and scope. 0, fn's return, or -EIO. */
int jh_prov_profiles_list(jh_idstore *s, const char *et,
                          int (*fn)(void *ud, const jh_prov_profile *p),
                          void *ud, char *err, size_t errsize);

#endif /* JH_PROVSTORE_H */
