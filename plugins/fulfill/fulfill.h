/*
 * fulfill.h — what the files of the fulfill plugin share (doc/fulfill.md):
 * one order file being fulfilled, its journal (journal.c) and the
 * orders built from it for the package (order.c).
 */
#ifndef JH_FULFILL_H
#define JH_FULFILL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "builtin.h"
#include "model.h"

#define JH_FF_ERR 2048

/* The result of one order, as the journal knows it. */
typedef enum ff_state {
  FF_UNAPPLIED = 0, /* not applied (or applied in memory by a run that died
                  before its package wrote anything: to do again) */
  FF_EXECUTED = 1,  /* applied */
  FF_ERRORED = 2    /* failed, or its outcome is unknown */
} ff_state;

typedef struct ff_result {
  ff_state state;
  int held;      /* executed in this run by a package that writes at its
                    end: final once fulfill_end succeeds */
  char *message; /* malloc'd, or NULL */
} ff_result;

/* One order file, moved into the Working folder of its resource type. */
typedef struct ff_file {
  char *rt;      /* resource type identifier */
  char *name;    /* file name, "<stamp>-<instance>-<nnnn>.json" */
  char *json;    /* Working/<name> */
  char *journal; /* Working/<name>.journal */
  json_t *orders;
  size_t n;
  ff_result *res;
  int fd;      /* the journal, open for appending; -1 when closed */
  int held;    /* the journal's mode: orders written at the package's end */
  int touched; /* this run appended results to the journal */
  unsigned unsynced; /* starts written since the last sync */
} ff_file;

/* ---- the journal (journal.c) ---- */

/* Read f->journal (when it exists) into f->res (f->n results, allocated
 * here), settle what a killed run left (doc/fulfill.md, "Recovery"),
 * rewrite the journal with the settled results only, and open it for
 * appending. held: the mode for a new journal. 0, or a negative code with
 * err. */
int jh_ff_journal_open(ff_file *f, int held, char *err, size_t errsize);

/* Starts written between two syncs of a journal (direct mode). */
#define JH_FF_SYNC_EVERY 64u

/* Record that order i is about to be applied (direct mode only): written
 * before the package is called, synced every JH_FF_SYNC_EVERY starts. */
int jh_ff_journal_start(ff_file *f, size_t i, char *err, size_t errsize);

/* Make what the journal holds durable (a no-op when nothing was
 * appended). 0, or a negative code with err. */
int jh_ff_journal_sync(ff_file *f, char *err, size_t errsize);

/* Record order i's result (f->res[i] already set). */
int jh_ff_journal_result(ff_file *f, size_t i, char *err, size_t errsize);

/* Held mode: the package is about to write (B), wrote (C), or failed to
 * write (F, with why). Each is made durable. */
int jh_ff_journal_mark(ff_file *f, char mark, const char *why, char *err,
                       size_t errsize);

void jh_ff_journal_close(ff_file *f);

/* ---- orders (order.c) ---- */

/* The jobhost_order of one order and what it points to. */
typedef struct ff_order ff_order;

/* Build order o (an element of an order file) for the package: 0 and
 * *out, or a negative code with the reason in err (the order is then
 * Errored). key: the target's primary key property, or NULL. */
int jh_ff_order_build(const json_t *o, const char *key, ff_order **out,
                      char *err, size_t errsize);
const jobhost_order *jh_ff_order(const ff_order *o);
void jh_ff_order_free(ff_order *o);

#endif /* JH_FULFILL_H */
