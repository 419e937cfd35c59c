/*
 * readstore.h — the read access of SDK 1.2 (jobhost/services.h): the
 * model's entity types as the SDK describes them, and cursors over the
 * resources of the identity store, all of a task's cursors in one read
 * transaction (one snapshot).
 */
#ifndef JH_READSTORE_H
#define JH_READSTORE_H

#include <stddef.h>

#include <jobhost/jobhost.h>

#include "model.h"

typedef struct jh_readstore jh_readstore;

/* A reader of model m and of the identity store at store_path (NULL: no
 * store may be read, as in validate). Nothing is opened yet. 0 and *out
 * (free with jh_readstore_free), or -ENOMEM. */
int jh_readstore_new(const jh_model *m, const char *store_path,
                     jh_readstore **out);
/* Ends the read transaction and closes the store; NULL is a no-op. The
 * cursors must have been closed. */
void jh_readstore_free(jh_readstore *rs);

/* The entity types (all, or only those connector fills when connector is
 * not NULL); *out host-owned. The count (0 when out of memory). */
size_t jh_readstore_entity_types(jh_readstore *rs, const char *connector,
                                 int only_connector,
                                 const jobhost_entity_type *const **out);
const jobhost_entity_type *jh_readstore_entity_type(jh_readstore *rs,
                                                    const char *name);

/* A cursor over the resources of entity type name. With only_connector,
 * an entity type that `connector` does not fill is refused (-EPERM).
 * 0 and *out, -ENOENT (no such entity type), -EPERM, -EIO (why in err),
 * -ENOMEM. */
int jh_readstore_open(jh_readstore *rs, const char *name, const char *connector,
                      int only_connector, jobhost_cursor **out, char *err,
                      size_t errsize);
/* 1 and *out, 0 at the end, or -EIO / -ENOMEM / -EILSEQ. */
int jh_readstore_next(jobhost_cursor *c, const jobhost_resource **out);
void jh_readstore_close(jobhost_cursor *c);

#endif /* JH_READSTORE_H */
