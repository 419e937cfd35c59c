/*
 * collect.h — the core of PrepareSynchronizationTask (doc/identity-manager.md
 * §6.3, §8.3): from the exported tables of one connector to one batch in
 * Work/Collect/<Connector>/batches, exactly as doc/synchronization.md
 * describes it. No SDK context is needed: the task glue (prepare.c)
 * turns parameters and folders into jh_prep_options.
 *
 * For each mapping of the connector (entity type mappings, then
 * association mappings, in model order) the export
 * ExportOutput/<connection_table>.csv is read once: its columns are
 * matched by name to the mapping's columns (the others are dropped), each
 * row is projected to the mapping's order, rows with an empty key go to
 * <name>.nullpk.csv and the others to an external sort (jh_sorter) by
 * key; the sorted stream is written in one pass to <name>.sorted.csv,
 * with the later rows of a repeated key in <name>.duplicates.csv and,
 * for an incremental prepare, merged at the same time with
 * previous/<name>.sorted.csv into <name>.sorted.delta.
 *
 * Everything of a batch is written into batches/.<seq>-<mode>.tmp/ and
 * renamed to batches/<seq>-<mode>/ when whole; on any error (and when the
 * source-health guard fires) the temporary folder is removed and nothing
 * else changes. One prepare per connector runs at a time (an flock on
 * Work/Collect/<Connector>/.lock; a second one waits for it).
 *
 * Source-health guard (doc/synchronization.md), checked before anything is
 * published:
 *  - a mapped table whose export is missing: JOBHOST_ESOURCE;
 *  - for full extracts (not Changes input): a table with no clean row,
 *    unless the connector's source_health.allow_empty, and a table that
 *    lost more than source_health.max_shrink_percent of the clean rows of
 *    the last published full-extract batch (0 disables): JOBHOST_ESOURCE.
 *    The counts of that last good batch are kept in
 *    Work/Collect/<Connector>/health.json, rewritten only when a batch is
 *    published.
 *
 * previous/<name>.sorted.csv is replaced by the batch's sorted table
 * after every published full-extract batch (complete, initial and
 * incremental alike: the server then holds that content), never by a
 * Changes batch, and never before the batch is published.
 */
#ifndef JH_PREPARE_COLLECT_H
#define JH_PREPARE_COLLECT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "collect_batch.h"
#include "model.h"

/* Default bound of the memory the sort of one table uses. */
#define JH_PREP_DEFAULT_MEMORY ((size_t)64 << 20)
/* Smallest accepted bound. */
#define JH_PREP_MIN_MEMORY ((size_t)1 << 20)
/* Default name of the command column of a Changes input. */
#define JH_PREP_DEFAULT_COMMAND "command"

/* The modes of the batch it makes (lib/collect_batch.h). */
typedef enum jh_prep_mode {
  JH_PREP_INITIAL = JH_BATCH_INITIAL,
  JH_PREP_COMPLETE = JH_BATCH_COMPLETE,
  JH_PREP_INCREMENTAL = JH_BATCH_INCREMENTAL
} jh_prep_mode;

typedef enum jh_prep_input {
  JH_PREP_FULL = 0,   /* the export is the whole table */
  JH_PREP_CHANGES = 1 /* the export carries a command column (incremental
                         only) */
} jh_prep_input;

typedef struct jh_prep_options {
  const jh_model *model; /* borrowed */
  const char *connector; /* connector id (case-insensitive) */
  jh_prep_mode mode;
  jh_prep_input input;        /* JH_PREP_CHANGES needs JH_PREP_INCREMENTAL */
  const char *command_column; /* Changes: NULL for "command" */
  const char *export_dir;     /* Temp/ExportOutput (absolute) */
  const char *collect_dir;    /* Work/Collect or the working directory;
                                 made when missing */
  size_t memory_limit;        /* sort memory per table; 0: the default */
  int64_t task_instance;      /* recorded in manifest.json */
  time_t now;                 /* manifest time; 0: the current time */
  /* Optional: log one line (level is a jobhost_log_level). */
  void (*log)(void *arg, int level, const char *msg);
  /* Optional: nonzero once the work must stop (JOBHOST_ECANCELLED). */
  int (*cancelled)(void *arg);
  void *arg;
} jh_prep_options;

/* Counts of one table (rows are data rows, headers not counted). */
typedef struct jh_prep_table_stats {
  const char *name;    /* borrowed from the model */
  int association;     /* 0: entity type mapping */
  uint64_t input_rows; /* rows read from the export */
  uint64_t rows;       /* clean rows (full extract: of <name>.sorted.csv;
                          Changes: of <name>.sorted.delta) */
  uint64_t duplicates; /* rows in <name>.duplicates.csv */
  uint64_t nullpk;     /* rows in <name>.nullpk.csv */
  uint64_t inserted, updated, deleted, merged; /* delta rows (incremental) */
} jh_prep_table_stats;

typedef struct jh_prep_result {
  int published;   /* 1: a batch was published */
  uint64_t seq;    /* its number */
  char *batch_dir; /* its folder (owned; NULL when none was published) */
  jh_prep_table_stats *tables; /* owned; one per table processed */
  size_t ntables;
  jh_prep_table_stats total; /* sums (name NULL) */
  uint64_t batch_rows;       /* rows the batch's tables hold, as its manifest
                                counts them: the delta's commands for an
                                incremental prepare of a full export, else the
                                clean rows */
} jh_prep_result;

/* Prepare one batch. res is always initialised (free it with
 * jh_prep_result_free, also after a failure: it then holds the tables
 * processed). Returns 0 — with res->published 0 only for an incremental
 * prepare that found no change at all, which publishes nothing — or a
 * negative code: JOBHOST_ECONFIG (options, model), JOBHOST_ESOURCE (the
 * source-health guard, an export that does not match its mapping),
 * JOBHOST_ECANCELLED, -EILSEQ (malformed CSV), or another -errno; err
 * (may be NULL) then receives a message naming the file (file:line for
 * data errors) and what was expected. */
int jh_prepare_collect(const jh_prep_options *opt, jh_prep_result *res,
                       char *err, size_t errsize);

/* Free what res owns (not res itself); NULL is allowed. */
void jh_prep_result_free(jh_prep_result *res);

/* Parse a memory size: decimal bytes with an optional K, M or G suffix
 * (binary multiples). Returns 0 and *out, or -EINVAL. */
int jh_prep_parse_size(const char *text, size_t *out);

#endif /* JH_PREPARE_COLLECT_H */
