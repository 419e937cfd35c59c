/*
 * compute.h — what the files of the compute plugin share
 * (doc/provisioning.md): the task's setting (model, store, parameters),
 * the resource view the rules read resources through (resview.c), and
 * the four tasks' entry points.
 */
#ifndef JH_COMPUTE_H
#define JH_COMPUTE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "builtin.h"
#include "expr.h"
#include "idstore.h"
#include "model.h"
#include "provstore.h"

#define JH_COMPUTE_ERR 2048

/* One running compute task. */
typedef struct jh_compute {
  jobhost_ctx *ctx;
  const jh_model *model;
  jh_idstore *store;
  int64_t task_instance;
  int dirty;            /* the dirty parameter */
  int64_t batch;        /* writes per transaction (0: all in one) */
  int64_t since_commit; /* writes since the last commit */
  int64_t done;         /* resources read, for progress */
  char err[JH_COMPUTE_ERR];
} jh_compute;

/* Whether boolean parameter name is "true". */
int jh_compute_flag(jobhost_ctx *ctx, const char *name);
/* An integer parameter (its default when unset or unreadable). */
int64_t jh_compute_int(jobhost_ctx *ctx, const char *name);

/* The entity types a task processes: the entity_types list, or, when the
 * task has the all_entity_type parameter (has_all) and it is true, every
 * entity type of the model. *out: a malloc'd array of borrowed pointers.
 * The count, or -1 with the reason in c->err. */
long jh_compute_entity_types(jh_compute *c, int has_all,
                             const jh_entity_type ***out);

/* In one transaction (begun here, committed when every call returned 0):
 * fn for each entity type of jh_compute_entity_types(c, 1, ...). 0, or
 * the first nonzero return of fn or of the transaction, with c->err. */
int jh_compute_each_entity_type(jh_compute *c,
                                int (*fn)(void *arg, const jh_entity_type *et),
                                void *arg);

/* The transaction the writes go in: begin, commit, roll back (a no-op
 * outside one). 0 or -EIO with c->err. */
int jh_compute_begin(jh_compute *c);
int jh_compute_commit(jh_compute *c);
void jh_compute_rollback(jh_compute *c);
/* Put "<entity type> <key>: " before the message in c->err; returns rc
 * (a cancel is left as it is). */
int jh_compute_failed_on(jh_compute *c, const char *et, const char *key,
                         size_t len, int rc);
/* Dirty bits: with batches, each resource's bit is cleared as it is
 * processed (jh_compute_clear_each says so); in one transaction, every
 * bit of et is cleared at once after the scan (jh_compute_clear_all,
 * 0 or -EIO; nothing to do outside dirty mode or with batches). */
int jh_compute_clear_each(const jh_compute *c);
int jh_compute_clear_all(jh_compute *c, int64_t et, int mask);
/* Count one write: commit and begin again every c->batch writes. 0 or
 * -EIO with c->err. */
int jh_compute_wrote(jh_compute *c);
/* One more resource read: progress every few thousand, and the cancel
 * check. 0 or JOBHOST_ECANCELLED. */
int jh_compute_tick(jh_compute *c);

/* ---- the resource view (resview.c) -------------------------------- */

typedef struct jh_rv jh_rv;
typedef struct jh_rv_res jh_rv_res;

/* A view over the store for the model. 0 and *out, or -ENOMEM. */
int jh_rv_new(const jh_model *m, jh_idstore *s, jh_rv **out);
void jh_rv_free(jh_rv *v);

/* What every task that evaluates rules opens: the resource view and the
 * expression environment over it. 0, or -ENOMEM with c->err; free both
 * with jh_compute_rules_close (NULL-safe). */
int jh_compute_rules_open(jh_compute *c, jh_rv **rv, jh_expr_env **env);
void jh_compute_rules_close(jh_rv *rv, jh_expr_env *env);

/* The end of a task that scans resources: counters `resources` and
 * `changed`, and, when rc is 0, the message "<read> resources read,
 * <changed> <what>". */
void jh_compute_scan_report(jh_compute *c, int rc, int64_t read,
                            int64_t changed, const char *what);
/* The resolver rules read resources with (its handles are jh_rv_res). */
const jh_expr_resolver *jh_rv_resolver(jh_rv *v);
/* Forget every resource handed out (the memory is kept for the next). */
void jh_rv_reset(jh_rv *v);
/* A copy of len bytes of s, NUL terminated, alive until jh_rv_reset;
 * NULL when out of memory. */
char *jh_rv_strdup(jh_rv *v, const char *s, size_t len);

/* The store's number of entity type et (created when absent). */
int jh_rv_entity_type(jh_rv *v, const jh_entity_type *et, int64_t *num,
                      char *err, size_t errsize);
/* The store's number of property name (cached). */
int jh_rv_property(jh_rv *v, const char *name, uint32_t *id, char *err,
                   size_t errsize);

/* A handle on r, a resource of et read by jh_prov_scan (copied). */
int jh_rv_wrap(jh_rv *v, const jh_entity_type *et, const jh_prov_resource *r,
               const jh_rv_res **out, char *err, size_t errsize);
/* The resource of et with key: 1 and *out, 0 when the store has none, or
 * a negative code with err. */
int jh_rv_load(jh_rv *v, const jh_entity_type *et, const char *key, size_t len,
               const jh_rv_res **out, char *err, size_t errsize);

/* Its key, and its value of a scalar (or link) property: 1 and *val, or
 * 0 when it has none. */
const char *jh_rv_key(const jh_rv_res *r, size_t *len);
int jh_rv_value(const jh_rv_res *r, const char *prop, const char **val,
                size_t *len);
/* The same for the property at index i of r's entity type. */
int jh_rv_value_at(const jh_rv_res *r, size_t i, const char **val, size_t *len);
/* The keys a link or links property of r holds as stored (targets need
 * not exist): *n keys in *keys and *lens, alive until jh_rv_reset. */
int jh_rv_link_keys(jh_rv *v, const jh_rv_res *r, const char *prop,
                    const char *const **keys, const size_t **lens, size_t *n,
                    char *err, size_t errsize);
/* Call fn for every scalar value of r (data with computed values laid
 * over), in the entity type's property order; stops at a nonzero return. */
int jh_rv_each(const jh_rv_res *r,
               int (*fn)(void *ud, const jh_property *p, const char *val,
                         size_t len),
               void *ud);

/* ---- the tasks ---------------------------------------------------- */

int jh_compute_expressions(jh_compute *c);
int jh_compute_correlation(jh_compute *c);
int jh_compute_role_model(jh_compute *c);
int jh_compute_orders(jh_compute *c);

/* Remove from root/rt the order files no recorded order names: those of
 * a run killed between writing them and its commit (orders_sweep.c).
 * Called inside the task's write transaction. Adds the count to
 * *removed; 0 or a negative code with c->err. */
int jh_compute_orders_sweep(jh_compute *c, const char *root, const char *rt,
                            int64_t *removed);

#endif /* JH_COMPUTE_H */
