/*
 * extsort.h — external merge sort of CSV records by one field, with
 * bounded memory (Prepare-Synchronization: "sort by primary key").
 *
 * Runs of records that fit in memory_limit bytes are sorted in memory,
 * spilled as CSV files into a private folder made under tmpdir, then
 * merged at most JH_EXTSORT_MAX_WAY at a time (several passes when there
 * are more runs). The output is written through jh_csv_writer, so a
 * failed sort leaves no output file and any earlier one untouched. The
 * temporary folder and its files are removed on success and on error.
 */
#ifndef JH_EXTSORT_H
#define JH_EXTSORT_H

#include <stddef.h>

#include "csv.h"

/* Most runs merged at once (bounds the open files and read buffers). */
#define JH_EXTSORT_MAX_WAY 64

typedef struct jh_extsort_stats {
  size_t records;      /* records sorted (the header not counted) */
  size_t runs;         /* runs spilled to disk (0: sorted in memory) */
  size_t merge_passes; /* intermediate merge passes before the last */
  size_t peak_bytes;   /* most record bytes held at once (at most
                          memory_limit unless one record is larger) */
} jh_extsort_stats;

/* Sort the records of `input` (read with opt, NULL for defaults; its
 * first record is always taken as the header) by the bytes of field
 * key_index: memcmp order, a prefix before the longer key, a missing
 * field (short row) as an empty key. Equal keys keep their input order.
 * Write the header then the sorted records to `output` with the input's
 * separator. memory_limit bounds the bytes of record data (fields plus
 * per-record bookkeeping) held at once; a single record larger than it is
 * still accepted alone. stats (may be NULL) receives counts on success.
 * Returns 0 or a negative errno; err (may be NULL) receives a message
 * naming the file (and line, for malformed input). */
int jh_extsort(const char *input, const jh_csv_options *opt,
               size_t key_index, const char *output, const char *tmpdir,
               size_t memory_limit, jh_extsort_stats *stats, char *err,
               size_t errsize);

#endif /* JH_EXTSORT_H */
