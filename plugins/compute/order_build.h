/*
 * order_build.h — the text of the provisioning orders, built by a thread
 * of its own while the orders task reads the next assignments
 * (doc/provisioning.md, "Order files").
 *
 * The task reads each Pending assignment with its owner (SQLite, on its
 * own thread), copies what the order needs into a batch, the resources
 * wrapped by the batch's resource view, and hands full batches over. The
 * builder's thread checks the values (JSON text is UTF-8), writes each
 * order as text and, at the end of a file, hands the file to the file
 * writer (lib/file_writer.h). It never touches the store: every read
 * happens in the task's thread, when the batch is filled.
 *
 * At most ORDER_BUILD_BATCHES batches exist; a task asking for one more
 * waits until the builder has given one back, so memory stays bounded.
 * The first failure stops the building: later batches are dropped, and
 * the failure (with its message) is returned by every later call.
 */
#ifndef JH_ORDER_BUILD_H
#define JH_ORDER_BUILD_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "compute.h"
#include "file_writer.h"

/* Batches in all: one being filled, one waiting, one being built. */
#define ORDER_BUILD_BATCHES 3
/* Orders a batch holds at most (a file may span several batches). */
#define ORDER_BUILD_CHUNK 512

/* One resource type's names, worked out once by the task and read by
 * both threads. */
typedef struct order_rt {
  const jh_resource_type *rt;
  const jh_entity_type *src, *tgt;
  int64_t n, counts[4]; /* Pending orders, by change type */
  int64_t live;         /* assignments with an owner and a target */
  uint32_t *nums;       /* the store's numbers of tgt's properties */
  size_t *owner_props, nowner_props; /* src's members of Owner, by name */
  size_t *tgt_props, ntgt_props;     /* tgt's members of Resource */
  size_t *rank; /* each of tgt's properties' place in name order */
} order_rt;

/* One order's inputs, copied into the batch's view. */
typedef struct order_staged {
  int64_t id;
  int change_type;
  const char *owner_key, *target_key; /* NULL: none */
  const void *vals;
  size_t vals_len;
  const jh_rv_res *owner, *target; /* NULL: none */
} order_staged;

typedef struct order_batch {
  jh_rv *rv; /* owns every copy of the batch */
  const order_rt *o;
  order_staged *orders;
  size_t n, cap;
  int ends_file;       /* the file is complete after these orders */
  char path[PATH_MAX]; /* its path, when ends_file */
} order_batch;

typedef struct order_builder order_builder;

/* Start a builder (its thread) whose batches read through views of m and
 * s, and whose files go to files: 0 and *out, or -ENOMEM. */
int order_builder_start(const jh_model *m, jh_idstore *s, jh_file_writer *files,
                        order_builder **out);

/* An empty batch to fill, waiting for one when all are out; NULL once
 * the building failed (order_builder_drain says why). */
order_batch *order_builder_batch(order_builder *b);

/* Stage one order into batch: its assignment's values and keys copied,
 * its owner (a row read with it, NULL when none) wrapped, its target
 * loaded from the store. 0, or a negative code with err. */
int order_builder_stage(order_batch *batch, const jh_prov_assignment *a,
                        const jh_prov_resource *owner, char *err,
                        size_t errsize);

/* Hand batch (from order_builder_batch) over to be built: 0, or the
 * first failure so far. */
int order_builder_put(order_builder *b, order_batch *batch);

/* Wait until every batch handed over is built and its files handed to
 * the file writer: 0, or the first failure with its message in err. */
int order_builder_drain(order_builder *b, char *err, size_t errsize);

/* Drain, stop the thread and free. NULL is a no-op. */
void order_builder_stop(order_builder *b);

#endif
