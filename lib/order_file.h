/*
 * order_file.h — provisioning order files (doc/provisioning.md, "Order
 * files"): JSON documents {"ProvisioningOrdersList": [order, ...]}
 * written with sorted keys, so that equal orders give equal bytes, and
 * put in place whole or not at all (lib/atomic_file.h).
 *
 * An order is an object with at least AssignedResourceTypeId (text),
 * ChangeType ("Added", "Modified" or "Deleted") and ResourceType (an
 * object with Identifier); Owner, Changes and Resource are objects when
 * present. This module writes and checks the envelope; the orders
 * themselves are built by GenerateProvisioningOrdersTask.
 */
#ifndef JH_ORDER_FILE_H
#define JH_ORDER_FILE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* The name of one order file: "<UTC stamp>-<task instance>-<seq>.json",
 * the stamp YYYYMMDDTHHMMSSZ of ms (milliseconds since the epoch) and seq
 * on four digits at least. 0, or -ENAMETOOLONG when buf is too small. */
int jh_order_file_name(char *buf, size_t size, int64_t ms,
                       int64_t task_instance, unsigned seq);

/* The change type named text ("Added", "Modified", "Deleted"), or -1. */
int jh_order_change_type(const char *text);

/* Check one order's shape: 0, or -EINVAL with what is wrong in err. */
int jh_order_check(const json_t *order, char *err, size_t errsize);

/* Write orders (an array of at least one order, borrowed) to path as an
 * order file.
 * 0, or a negative errno with a message naming path in err; nothing is
 * left at path on failure. */
int jh_order_file_write(const char *path, const json_t *orders, char *err,
                        size_t errsize);

/*
 * An order file built one order at a time, so that only the text is
 * kept, never the orders: add each order (checked, then turned into
 * text at once), then write the file; the writer is then empty for the
 * next one. The bytes are those jh_order_file_write gives.
 */
typedef struct jh_order_writer jh_order_writer;

/* A new writer: 0 and *out, or -ENOMEM. */
int jh_order_writer_new(jh_order_writer **out);
/* Add one order (borrowed): 0, -EINVAL (its shape, in err) or -ENOMEM. */
int jh_order_writer_add(jh_order_writer *w, const json_t *order, char *err,
                        size_t errsize);
/* The orders added since the last write. */
size_t jh_order_writer_count(const jh_order_writer *w);
/* Write the orders added (at least one) to path, atomically: 0, or a
 * negative errno with err naming path. The writer is empty afterwards
 * either way. */
int jh_order_writer_write(jh_order_writer *w, const char *path, char *err,
                          size_t errsize);
/* The file of the orders added (at least one), handed out: 0 with *buf
 * (malloc'd, the caller frees it) and *len, or a negative errno with err
 * naming path. The writer is empty afterwards either way. */
int jh_order_writer_take(jh_order_writer *w, const char *path, char **buf,
                         size_t *len, char *err, size_t errsize);
void jh_order_writer_free(jh_order_writer *w);

/*
 * An order written straight as text, member by member, with no json_t in
 * between (GenerateProvisioningOrdersTask's way, for speed). The caller
 * gives each object's members in strcmp order of their keys, as the
 * sorted layout has them, and values that are UTF-8; the bytes are then
 * those jh_order_writer_add gives for the same order. The shape is the
 * caller's to get right: it is not checked. Objects nest at most
 * JH_ORDER_WRITER_DEPTH deep.
 *
 *   jh_order_writer_begin(w);
 *   jh_order_writer_string(w, "AssignedResourceTypeId", "12", 2);
 *   jh_order_writer_object(w, "Changes");
 *   jh_order_writer_string(w, "cn", "Ann", 3);
 *   jh_order_writer_close(w);
 *   ...
 *   rc = jh_order_writer_end(w);      0, or -ENOMEM
 */
#define JH_ORDER_WRITER_DEPTH 8
void jh_order_writer_begin(jh_order_writer *w);
/* A member "key": "value" (value NULL: null) of the open object, or an
 * item "value" of the open array (key NULL). */
void jh_order_writer_string(jh_order_writer *w, const char *key,
                            const char *value, size_t len);
/* Open an object or an array as a member of the open object. */
void jh_order_writer_object(jh_order_writer *w, const char *key);
void jh_order_writer_array(jh_order_writer *w, const char *key);
/* Close the innermost open object or array. */
void jh_order_writer_close(jh_order_writer *w);
/* Close the order and count it: 0, or -ENOMEM (the writer is then
 * unusable until written, which fails). */
int jh_order_writer_end(jh_order_writer *w);

/* Read and check the order file at path: 0 and *orders (the array of
 * orders, a new reference), or a negative code (-EINVAL for a file that
 * is not an order file, -errno when it cannot be read) with
 * "path:line:column: what" or "path: what" in err. */
int jh_order_file_read(const char *path, json_t **orders, char *err,
                       size_t errsize);

#endif /* JH_ORDER_FILE_H */
