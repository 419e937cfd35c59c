/*
 * table.h — one table of a prepare (internal to the prepare plugin): read
 * the export once, project, set aside null keys, sort, set aside
 * duplicates and write the clean table and its delta. collect.c drives it
 * for every mapping of a connector.
 */
#ifndef JH_PREPARE_TABLE_H
#define JH_PREPARE_TABLE_H

#include <stddef.h>

#include "collect.h"

/* What to make of one export: output columns in order, each filled from
 * the export column of the same index. All borrowed. */
struct prep_table {
  const char *name;           /* output file stem */
  int association;            /* keys are the pair of columns */
  const char *input;          /* path of the export */
  const char *const *columns; /* export column names */
  const char *const *headers; /* output header names (property ids) */
  size_t ncolumns;
  size_t keys[2]; /* key positions among the output columns */
  size_t nkeys;
};

/* How to make it. All borrowed. */
struct prep_env {
  const char *outdir;   /* the batch's temporary folder */
  const char *previous; /* full incremental: previous/<name>.sorted.csv
                           (may not exist); else NULL */
  jh_prep_input input;
  const char *command_column; /* Changes only */
  size_t memory_limit;
  int (*cancelled)(void *arg);
  void (*log)(void *arg, int level, const char *msg);
  void *arg;
};

/* Write into env->outdir, for a full extract, <name>.sorted.csv (and
 * <name>.sorted.delta when env->previous is set) or, for Changes,
 * <name>.sorted.delta; and always <name>.duplicates.csv and
 * <name>.nullpk.csv. st receives the counts (st->name and
 * st->association are left as they are). On failure the files of this
 * table are absent and err holds why. Returns 0 or a negative code. */
int prep_table_run(const struct prep_table *t, const struct prep_env *env,
                   jh_prep_table_stats *st, char *err, size_t errsize);

#endif /* JH_PREPARE_TABLE_H */
