/*
 * extsort.h — external merge sort of records by one or more key fields,
 * with bounded memory (Prepare-Synchronization: "sort by primary key").
 *
 * Two interfaces:
 *  - jh_sorter, the core: the caller pushes records one at a time (already
 *    projected and filtered as it likes), then pulls them back in key
 *    order, each flagged when its key equals the previous record's (so a
 *    caller deduplicates while it writes, in the same pass);
 *  - jh_extsort, a CSV file to CSV file sort built on it.
 *
 * Records that fit in memory_limit bytes are sorted in memory (a stable
 * merge sort); when memory is full they are spilled as a sorted run into
 * a private folder made under tmpdir, in a binary form that is read back
 * without parsing. The records still in memory at the end are not
 * spilled: they are merged with the runs directly. At most
 * JH_EXTSORT_MAX_WAY runs are merged at once (runs are first merged in
 * groups, in input order, when there are more). The private folder and
 * its files are removed when the sorter is closed, on success and error.
 *
 * Order: fields are compared bytewise (memcmp, a prefix before the longer
 * value: SQLite's BINARY collation on UTF-8), key by key; a key field a
 * record lacks (a short record) compares as empty. The sort is stable:
 * records with equal keys come out in the order they were added.
 *
 * Memory: memory_limit bounds the record bytes held at once plus the
 * sorter's bookkeeping per record (an index entry and its merge-sort
 * scratch); a single record larger than the limit is still accepted
 * alone. Outside that bound the sorter holds fixed-size I/O buffers (one
 * per run being merged) and a copy of the largest record read back.
 *
 * Functions return 0 (or 1 for "a record") on success and a negative
 * errno value on failure; the sorter's error message then names the
 * file involved. No global state.
 */
#ifndef JH_EXTSORT_H
#define JH_EXTSORT_H

#include <stddef.h>
#include <string.h>

#include "csv.h"

/* Most runs merged at once (bounds the open files and read buffers). */
#define JH_EXTSORT_MAX_WAY 64
/* Most key fields of a sorter. */
#define JH_SORTER_MAX_KEYS 8

typedef struct jh_extsort_stats {
  size_t records;      /* records sorted (a file's header not counted) */
  size_t runs;         /* runs spilled to disk (0: sorted in memory) */
  size_t merge_passes; /* intermediate merge passes before the last */
  size_t peak_bytes;   /* most bytes held at once under memory_limit (at
                          most memory_limit unless one record is larger) */
} jh_extsort_stats;

/* Bytewise order of two values: <0, 0 or >0. */
static inline int jh_key_compare(const char *a, size_t alen, const char *b,
                                 size_t blen) {
  int c = memcmp(a, b, alen < blen ? alen : blen);
  if (c != 0)
    return c;
  return (alen > blen) - (alen < blen);
}

/* ------------------------------------------------------------ sorter */

typedef struct jh_sorter jh_sorter;

typedef struct jh_sorter_config {
  const size_t *keys;  /* field indices compared in this order (copied) */
  size_t nkeys;        /* 1 to JH_SORTER_MAX_KEYS */
  size_t memory_limit; /* bytes; see the memory note above */
  const char *tmpdir;  /* existing folder for the private run folder */
} jh_sorter_config;

/* Make a sorter (its private folder is made under cfg->tmpdir at once).
 * On success the caller owns *out and ends it with jh_sorter_close. On
 * failure *out is NULL and err (if not NULL) receives a message. */
int jh_sorter_open(const jh_sorter_config *cfg, jh_sorter **out, char *err,
                   size_t errsize);

/* Add one record of n fields. fields[i] need not be NUL-terminated (a
 * NULL field is empty); lengths may be NULL (strlen of each field). The
 * bytes are copied. Only before the first jh_sorter_next; -EINVAL after. */
int jh_sorter_add(jh_sorter *s, const char *const *fields,
                  const size_t *lengths, size_t n);

/* Next record in key order: returns 1 with *rec set (owned by the sorter,
 * valid until the next call; fields NUL-terminated) and *same_key (may be
 * NULL) nonzero when its keys equal those of the record returned before
 * it; 0 when there are no more; a negative errno on failure (sticky). The
 * first call ends the input. */
int jh_sorter_next(jh_sorter *s, const jh_csv_record **rec, int *same_key);

/* Message of the last error ("" if none). */
const char *jh_sorter_error(const jh_sorter *s);

/* Counts so far. */
void jh_sorter_stats(const jh_sorter *s, jh_extsort_stats *stats);

/* Free s and remove its private folder (NULL is allowed). */
void jh_sorter_close(jh_sorter *s);

/* --------------------------------------------------------- file sort */

/* Sort the records of `input` (read with opt, NULL for defaults; its
 * first record is always taken as the header) by the bytes of field
 * key_index (a missing field sorts as empty; equal keys keep their input
 * order). Write the header then the sorted records to `output` with the
 * input's separator, through jh_csv_writer: a failed sort leaves no
 * output file and any earlier one untouched. memory_limit as for a
 * sorter. stats (may be NULL) receives counts on success. Returns 0 or a
 * negative errno; err (may be NULL) receives a message naming the file
 * (and line, for malformed input). */
int jh_extsort(const char *input, const jh_csv_options *opt, size_t key_index,
               const char *output, const char *tmpdir, size_t memory_limit,
               jh_extsort_stats *stats, char *err, size_t errsize);

#endif /* JH_EXTSORT_H */
