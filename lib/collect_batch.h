/*
 * collect_batch.h — the Work/Collect batch format: the one place that
 * knows its folder and file names, its modes, its command words and its
 * shrink guard. PrepareSynchronizationTask writes batches with it,
 * SynchronizeTask and the identity store read and consume them with it,
 * and doc/synchronization.md describes it for people.
 *
 * Under Work/Collect/<Connector>/:
 *
 *   seq                      the last batch number given out
 *   health.json              clean row counts of the last full extract
 *   .lock                    held by the prepare that writes
 *   previous/<name>.sorted.csv   the last full clean table
 *   batches/<seq>-<mode>/    a published batch (<seq> ten digits),
 *                            written as batches/.<seq>-<mode>.tmp/
 *   failed/<seq>-<mode>/     a batch set aside, with reason.txt
 *
 * A batch holds manifest.json and, per table <name>, <name>.sorted.csv,
 * <name>.sorted.delta (incremental: the command column first),
 * <name>.duplicates.csv and <name>.nullpk.csv.
 */
#ifndef JH_COLLECT_BATCH_H
#define JH_COLLECT_BATCH_H

#include <stddef.h>
#include <stdint.h>

/* Entries of Work/Collect/<Connector>/. */
#define JH_COLLECT_SEQ "seq"
#define JH_COLLECT_HEALTH "health.json"
#define JH_COLLECT_LOCK ".lock"
#define JH_COLLECT_PREVIOUS "previous"
#define JH_COLLECT_BATCHES "batches"
#define JH_COLLECT_FAILED "failed"

/* Files of a batch folder (a failed one has reason.txt too). */
#define JH_BATCH_MANIFEST "manifest.json"
#define JH_BATCH_REASON "reason.txt"

/* Suffixes of a table's files, after its name. */
#define JH_BATCH_SORTED ".sorted.csv"
#define JH_BATCH_DELTA ".sorted.delta"
#define JH_BATCH_DUPLICATES ".duplicates.csv"
#define JH_BATCH_NULLPK ".nullpk.csv"

/* Keys of manifest.json that its reader relies on: the array of tables,
 * and for each its name and the file (in the batch) that holds it. */
#define JH_MANIFEST_TABLES "tables"
#define JH_MANIFEST_NAME "name"
#define JH_MANIFEST_FILE "file"

/* The header of the command column of a delta. */
#define JH_BATCH_COMMAND_COLUMN "command"

/* The largest batch number (ten digits). */
#define JH_BATCH_SEQ_MAX 9999999999ULL

/* Size of a buffer for a batch folder name, temporary ones included. */
#define JH_BATCH_NAME_SIZE 64

/* How a batch was prepared and is applied. */
typedef enum jh_batch_mode {
  JH_BATCH_INITIAL = 0,    /* every row is inserted into an empty store */
  JH_BATCH_COMPLETE = 1,   /* the whole table: the store is made equal */
  JH_BATCH_INCREMENTAL = 2 /* a delta of commands */
} jh_batch_mode;

#define JH_BATCH_NMODES 3

/* The mode as batch folders, manifests and the identity store write it:
 * "initial", "complete", "incremental" ("" for no mode). */
const char *jh_batch_mode_name(jh_batch_mode mode);

/* The mode a word names, whatever its case: a folder's "incremental" as
 * well as a pipeline's synchronization_mode "Incremental". Returns 0 and
 * *mode, or -1. */
int jh_batch_mode_parse(const char *word, jh_batch_mode *mode);

/* The folder name of batch seq, "0000000003-complete", or with temp set
 * the name it is written under, ".0000000003-complete.tmp". Returns 0,
 * or -1 when seq is 0 or above JH_BATCH_SEQ_MAX, or size is too small. */
int jh_batch_name(uint64_t seq, jh_batch_mode mode, int temp, char *buf,
                  size_t size);

/* Whether name is a published batch's folder name ("<digits>-<mode>");
 * then *seq and *mode (either may be NULL) receive its parts. */
int jh_batch_name_parse(const char *name, long long *seq, jh_batch_mode *mode);

/* Whether name is a batch's temporary folder name (".<...>.tmp"). */
int jh_batch_is_temp_name(const char *name);

/* Whether the table file name holds a delta (ends with ".delta"). */
int jh_batch_file_is_delta(const char *file);

/* Commands of a delta. */
typedef enum jh_batch_command {
  JH_COMMAND_NONE = 0, /* not a command word */
  JH_COMMAND_INSERT,
  JH_COMMAND_UPDATE,
  JH_COMMAND_DELETE,
  JH_COMMAND_MERGE
} jh_batch_command;

/* The command a word of len bytes names, whatever its case: insert or
 * add, update or modify, delete or remove, merge. JH_COMMAND_NONE when
 * it names none. */
jh_batch_command jh_batch_command_parse(const char *word, size_t len);

/* The word a batch writes for a command: "insert", "update", "delete",
 * "merge" (NULL for JH_COMMAND_NONE). */
const char *jh_batch_command_name(jh_batch_command command);

/* The shrink guard of source health: whether a table that had `before`
 * rows and now has `after` lost more than max_percent of them. Never
 * with max_percent 0 (the guard is off) or before 0. */
int jh_batch_shrank(uint64_t before, uint64_t after, int max_percent);

#endif /* JH_COLLECT_BATCH_H */
