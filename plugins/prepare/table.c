/*
 * table.c — see table.h. One pass over the export (project, null keys
 * aside, into the sorter), one pass over the sorted stream (duplicates
 * aside, clean table, delta against the previous snapshot read alongside).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jobhost/error.h>
#include <jobhost/services.h>

#include "array.h"
#include "collect_batch.h"
#include "csv.h"
#include "extsort.h"
#include "table.h"

/* Rows between two looks at the cancel flag. */
#define CANCEL_EVERY 8192

enum out { OUT_SORTED, OUT_DELTA, OUT_DUPLICATES, OUT_NULLPK, OUT_COUNT };

static const char *const out_suffix[OUT_COUNT] = {
    JH_BATCH_SORTED, JH_BATCH_DELTA, JH_BATCH_DUPLICATES, JH_BATCH_NULLPK};

struct job {
  const struct prep_table *t;
  const struct prep_env *env;
  jh_prep_table_stats *st;
  char *err;
  size_t errsize;
  unsigned long tick;

  /* Records carry the command first (Changes input): off = 1. */
  int changes;
  size_t off, nrec;
  size_t keys[2]; /* key positions in records */

  jh_csv_writer *w[OUT_COUNT];
  char *path[OUT_COUNT];
  int committed[OUT_COUNT];

  jh_csv_reader *in;
  size_t *colidx; /* export column of each output column */
  size_t cmdidx;  /* export column of the command (Changes) */
  const char **f; /* one record being written: nrec + 1 fields */
  size_t *l;

  jh_sorter *sorter;

  /* Previous snapshot (full incremental). */
  jh_csv_reader *prev;
  const jh_csv_record *prec; /* its current record, NULL at its end */
  char *pkey;                /* keys of the record before it */
  size_t pkey_cap, pkey_len[2];
  int have_pkey;
};

static int fail(struct job *j, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct job *j, int code, const char *fmt, ...) {
  va_list ap;
  if (j->err != NULL && j->errsize > 0) {
    va_start(ap, fmt);
    vsnprintf(j->err, j->errsize, fmt, ap);
    va_end(ap);
  }
  return code;
}

static void say(struct job *j, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(struct job *j, int level, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  if (j->env->log == NULL)
    return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  j->env->log(j->env->arg, level, msg);
}

static int poll_cancel(struct job *j) {
  if (j->env->cancelled != NULL && ++j->tick % CANCEL_EVERY == 0 &&
      j->env->cancelled(j->env->arg))
    return fail(j, JOBHOST_ECANCELLED, "cancelled while preparing %s",
                j->t->name);
  return 0;
}

/* ------------------------------------------------------------ commands */

static void count_command(jh_prep_table_stats *st, const char *command,
                          size_t len) {
  switch (jh_batch_command_parse(command, len)) {
  case JH_COMMAND_INSERT:
    st->inserted++;
    break;
  case JH_COMMAND_UPDATE:
    st->updated++;
    break;
  case JH_COMMAND_DELETE:
    st->deleted++;
    break;
  default:
    st->merged++;
    break;
  }
}

/* ------------------------------------------------------------- outputs */

static int write_rec(struct job *j, enum out o, const char *const *f,
                     const size_t *l, size_t n) {
  int rc = jh_csv_write_record_n(j->w[o], f, l, n);
  if (rc < 0)
    return fail(j, rc, "%s: %s", j->path[o], strerror(-rc));
  return 0;
}

/* Header of output o: [command,] property ids. */
static int write_header(struct job *j, enum out o, int with_command) {
  size_t n = 0;
  j->f[n++] = JH_BATCH_COMMAND_COLUMN;
  for (size_t i = 0; i < j->t->ncolumns; i++)
    j->f[n++] = j->t->headers[i];
  if (with_command)
    return write_rec(j, o, j->f, NULL, n);
  return write_rec(j, o, j->f + 1, NULL, n - 1);
}

static int open_output(struct job *j, enum out o, int with_command) {
  size_t size = strlen(j->env->outdir) + strlen(j->t->name) + 32;
  int rc;
  j->path[o] = malloc(size);
  if (j->path[o] == NULL)
    return fail(j, -ENOMEM, "out of memory");
  snprintf(j->path[o], size, "%s/%s%s", j->env->outdir, j->t->name,
           out_suffix[o]);
  rc = jh_csv_writer_open(j->path[o], ',', &j->w[o]);
  if (rc < 0)
    return fail(j, rc, "%s: %s", j->path[o], strerror(-rc));
  /* the sorted table is formatted and written while the merge goes on */
  if (o == OUT_SORTED)
    (void)jh_csv_writer_background(j->w[o]);
  return write_header(j, o, with_command);
}

static int open_outputs(struct job *j) {
  int rc;
  if (j->changes)
    rc = open_output(j, OUT_DELTA, 1);
  else {
    rc = open_output(j, OUT_SORTED, 0);
    if (rc == 0 && j->env->previous != NULL)
      rc = open_output(j, OUT_DELTA, 1);
  }
  if (rc == 0)
    rc = open_output(j, OUT_DUPLICATES, j->changes);
  if (rc == 0)
    rc = open_output(j, OUT_NULLPK, j->changes);
  return rc;
}

static int commit_outputs(struct job *j) {
  for (int o = 0; o < OUT_COUNT; o++) {
    int rc;
    if (j->w[o] == NULL)
      continue;
    rc = jh_csv_writer_commit(j->w[o]);
    j->w[o] = NULL;
    if (rc < 0)
      return fail(j, rc, "%s: %s", j->path[o], strerror(-rc));
    j->committed[o] = 1;
  }
  return 0;
}

/* On failure: no file of this table stays. */
static void discard_outputs(struct job *j) {
  for (int o = 0; o < OUT_COUNT; o++) {
    jh_csv_writer_abort(j->w[o]);
    j->w[o] = NULL;
    if (j->committed[o])
      unlink(j->path[o]);
  }
}

/* -------------------------------------------------------------- export */

/* Index of the header column named `name`: 0 and *idx, or an error for a
 * missing or repeated column. */
static int find_column(struct job *j, const jh_csv_record *hdr,
                       const char *name, const char *what, size_t *idx) {
  size_t found = (size_t)-1;
  for (size_t i = 0; i < hdr->nfields; i++)
    if (strcmp(hdr->fields[i], name) == 0) {
      if (found != (size_t)-1)
        return fail(j, JOBHOST_ESOURCE,
                    "%s:%lu: column \"%s\" (%s) appears twice in the header",
                    j->t->input, jh_csv_reader_line(j->in), name, what);
      found = i;
    }
  if (found == (size_t)-1)
    return fail(j, JOBHOST_ESOURCE,
                "%s:%lu: the header has no column \"%s\" (%s)", j->t->input,
                jh_csv_reader_line(j->in), name, what);
  *idx = found;
  return 0;
}

static int open_export(struct job *j) {
  jh_csv_options opt = {.header = 1};
  const jh_csv_record *hdr;
  char what[256];
  int rc = jh_csv_reader_open(j->t->input, &opt, &j->in, j->err, j->errsize);
  if (rc == -ENODATA) /* no header at all: not a table an export wrote */
    return JOBHOST_ESOURCE;
  if (rc < 0)
    return rc;
  (void)jh_csv_reader_background(j->in); /* parse while rows are sorted */
  hdr = jh_csv_reader_header(j->in);
  j->colidx = calloc(j->t->ncolumns, sizeof(*j->colidx));
  if (j->colidx == NULL)
    return fail(j, -ENOMEM, "out of memory");
  for (size_t i = 0; i < j->t->ncolumns; i++) {
    snprintf(what, sizeof(what), "mapped to %s of %s", j->t->headers[i],
             j->t->name);
    if ((rc = find_column(j, hdr, j->t->columns[i], what, &j->colidx[i])) < 0)
      return rc;
  }
  if (j->changes)
    return find_column(j, hdr, j->env->command_column, "the command column",
                       &j->cmdidx);
  return 0;
}

static int has_empty_key(const struct job *j, const size_t *l) {
  for (size_t k = 0; k < j->t->nkeys; k++)
    if (l[j->keys[k]] == 0)
      return 1;
  return 0;
}

/* Project one export row into j->f/j->l. */
static int project(struct job *j, const jh_csv_record *rec, size_t nhdr) {
  jh_batch_command cmd = JH_COMMAND_NONE;
  if (rec->nfields != nhdr)
    return fail(j, JOBHOST_ESOURCE,
                "%s:%lu: %zu fields where the header has %zu", j->t->input,
                jh_csv_reader_line(j->in), rec->nfields, nhdr);
  if (j->changes) {
    cmd = jh_batch_command_parse(rec->fields[j->cmdidx],
                                 rec->lengths[j->cmdidx]);
    if (cmd == JH_COMMAND_NONE)
      return fail(j, JOBHOST_ESOURCE,
                  "%s:%lu: command \"%s\" in column %s: expected insert, add, "
                  "update, modify, delete, remove or merge",
                  j->t->input, jh_csv_reader_line(j->in),
                  rec->fields[j->cmdidx], j->env->command_column);
    j->f[0] = jh_batch_command_name(cmd);
    j->l[0] = strlen(j->f[0]);
  }
  for (size_t i = 0; i < j->t->ncolumns; i++) {
    j->f[j->off + i] = rec->fields[j->colidx[i]];
    j->l[j->off + i] = rec->lengths[j->colidx[i]];
  }
  if (cmd == JH_COMMAND_DELETE) /* a delete carries its key only */
    for (size_t i = 0; i < j->t->ncolumns; i++) {
      int key = 0;
      for (size_t k = 0; k < j->t->nkeys; k++)
        key |= j->t->keys[k] == i;
      if (!key) {
        j->f[j->off + i] = "";
        j->l[j->off + i] = 0;
      }
    }
  return 0;
}

/* Every row of an exported table ends with a line end (the host's CSV
 * writer ends each with CRLF), so a table whose last byte is not one was
 * cut short: its last row may be a prefix of the real one, with as many
 * fields, and must not be taken for data. */
static int check_ends_whole(struct job *j) {
  struct stat sb;
  char last = '\n';
  int fd = open(j->t->input, O_RDONLY | O_CLOEXEC), rc = 0;
  if (fd < 0)
    return fail(j, -errno, "%s: %s", j->t->input, strerror(errno));
  if (fstat(fd, &sb) != 0)
    rc = fail(j, -errno, "%s: %s", j->t->input, strerror(errno));
  else if (sb.st_size > 0 && pread(fd, &last, 1, sb.st_size - 1) != 1)
    rc = fail(j, -EIO, "%s: cannot read its last byte", j->t->input);
  else if (last != '\n')
    rc = fail(j, JOBHOST_ESOURCE,
              "%s:%lu: the last row has no line end: the table was cut "
              "short (an export ends every row with one)",
              j->t->input, jh_csv_reader_line(j->in));
  close(fd);
  return rc;
}

/* Read the export: null keys aside, the rest into the sorter. */
static int read_export(struct job *j) {
  const jh_csv_record *rec;
  size_t nhdr = jh_csv_reader_header(j->in)->nfields;
  int rc;
  while ((rc = jh_csv_read(j->in, &rec)) == 1) {
    j->st->input_rows++;
    if ((rc = project(j, rec, nhdr)) < 0)
      return rc;
    if (has_empty_key(j, j->l)) {
      if ((rc = write_rec(j, OUT_NULLPK, j->f, j->l, j->nrec)) < 0)
        return rc;
      j->st->nullpk++;
    } else if ((rc = jh_sorter_add(j->sorter, j->f, j->l, j->nrec)) < 0)
      return fail(j, rc, "%s", jh_sorter_error(j->sorter));
    if ((rc = poll_cancel(j)) < 0)
      return rc;
  }
  if (rc < 0)
    return fail(j, rc, "%s", jh_csv_reader_error(j->in));
  return check_ends_whole(j);
}

/* ------------------------------------------------------------ previous */

static int compare_keys(const struct job *j, const jh_csv_record *a,
                        const jh_csv_record *b) {
  for (size_t k = 0; k < j->t->nkeys; k++) {
    size_t i = j->t->keys[k];
    int c = jh_key_compare(a->fields[i], a->lengths[i], b->fields[i],
                           b->lengths[i]);
    if (c != 0)
      return c;
  }
  return 0;
}

/* Compare the current previous record's keys with the saved ones. */
static int compare_saved(const struct job *j, const jh_csv_record *r) {
  size_t off = 0;
  for (size_t k = 0; k < j->t->nkeys; k++) {
    size_t i = j->t->keys[k];
    int c = jh_key_compare(r->fields[i], r->lengths[i], j->pkey + off,
                           j->pkey_len[k]);
    if (c != 0)
      return c;
    off += j->pkey_len[k];
  }
  return 0;
}

static int save_prev_key(struct job *j, const jh_csv_record *r) {
  size_t total = 0, off = 0;
  for (size_t k = 0; k < j->t->nkeys; k++)
    total += r->lengths[j->t->keys[k]];
  if (jh_array_reserve(&j->pkey, &j->pkey_cap, total, 1, 64) != 0)
    return fail(j, -ENOMEM, "out of memory");
  for (size_t k = 0; k < j->t->nkeys; k++) {
    size_t i = j->t->keys[k];
    if (r->lengths[i] > 0)
      memcpy(j->pkey + off, r->fields[i], r->lengths[i]);
    j->pkey_len[k] = r->lengths[i];
    off += r->lengths[i];
  }
  j->have_pkey = 1;
  return 0;
}

/* Move to the next previous record, checking that the snapshot is what
 * prepare wrote: rows as wide as the header, keys strictly increasing. */
static int prev_advance(struct job *j) {
  int rc = jh_csv_read(j->prev, &j->prec);
  if (rc < 0)
    return fail(j, rc, "%s", jh_csv_reader_error(j->prev));
  if (rc == 0) {
    j->prec = NULL;
    return 0;
  }
  if (j->prec->nfields != j->t->ncolumns)
    return fail(j, JOBHOST_ESOURCE,
                "%s:%lu: %zu fields where the header has %zu; run a complete "
                "synchronization to replace the snapshot",
                j->env->previous, jh_csv_reader_line(j->prev), j->prec->nfields,
                j->t->ncolumns);
  if (j->have_pkey && compare_saved(j, j->prec) <= 0)
    return fail(j, JOBHOST_ESOURCE,
                "%s:%lu: keys are not in strictly increasing order (was the "
                "snapshot modified?); run a complete synchronization to "
                "replace it",
                j->env->previous, jh_csv_reader_line(j->prev));
  return save_prev_key(j, j->prec);
}

static int open_previous(struct job *j) {
  jh_csv_options opt = {.header = 1};
  const jh_csv_record *hdr;
  int rc;
  if (access(j->env->previous, F_OK) != 0) {
    if (errno != ENOENT)
      return fail(j, -errno, "%s: %s", j->env->previous, strerror(errno));
    say(j, JOBHOST_LOG_INFO,
        "%s: no previous snapshot (%s): every row is an insert", j->t->name,
        j->env->previous);
    return 0;
  }
  rc = jh_csv_reader_open(j->env->previous, &opt, &j->prev, j->err, j->errsize);
  if (rc < 0)
    return rc;
  hdr = jh_csv_reader_header(j->prev);
  for (size_t i = 0; i < hdr->nfields || i < j->t->ncolumns; i++)
    if (i >= hdr->nfields || i >= j->t->ncolumns ||
        strcmp(hdr->fields[i], j->t->headers[i]) != 0)
      return fail(j, JOBHOST_ECONFIG,
                  "%s:1: column %zu of the header is \"%s\", the mapping "
                  "has \"%s\" (the mapping changed?); run a complete "
                  "synchronization to replace the snapshot",
                  j->env->previous, i + 1,
                  i < hdr->nfields ? hdr->fields[i] : "(none)",
                  i < j->t->ncolumns ? j->t->headers[i] : "(none)");
  return prev_advance(j);
}

/* Write [command, fields of r]. */
static int write_command(struct job *j, const char *command,
                         const jh_csv_record *r) {
  j->f[0] = command;
  j->l[0] = strlen(command);
  for (size_t i = 0; i < j->t->ncolumns; i++) {
    j->f[1 + i] = r->fields[i];
    j->l[1 + i] = r->lengths[i];
  }
  return write_rec(j, OUT_DELTA, j->f, j->l, 1 + j->t->ncolumns);
}

/* A delete carries the key only. */
static int write_delete(struct job *j, const jh_csv_record *r) {
  j->f[0] = jh_batch_command_name(JH_COMMAND_DELETE);
  j->l[0] = strlen(j->f[0]);
  for (size_t i = 0; i < j->t->ncolumns; i++) {
    j->f[1 + i] = "";
    j->l[1 + i] = 0;
  }
  for (size_t k = 0; k < j->t->nkeys; k++) {
    size_t i = j->t->keys[k];
    j->f[1 + i] = r->fields[i];
    j->l[1 + i] = r->lengths[i];
  }
  j->st->deleted++;
  return write_rec(j, OUT_DELTA, j->f, j->l, 1 + j->t->ncolumns);
}

static int same_row(const struct job *j, const jh_csv_record *a,
                    const jh_csv_record *b) {
  for (size_t i = 0; i < j->t->ncolumns; i++)
    if (a->lengths[i] != b->lengths[i] ||
        memcmp(a->fields[i], b->fields[i], a->lengths[i]) != 0)
      return 0;
  return 1;
}

/* One clean row of the new table against the previous snapshot. */
static int delta_step(struct job *j, const jh_csv_record *r) {
  int rc, c = 1;
  while (j->prec != NULL && (c = compare_keys(j, j->prec, r)) < 0)
    if ((rc = write_delete(j, j->prec)) < 0 || (rc = prev_advance(j)) < 0)
      return rc;
  if (j->prec == NULL || c > 0) {
    j->st->inserted++;
    return write_command(j, jh_batch_command_name(JH_COMMAND_INSERT), r);
  }
  if (!same_row(j, j->prec, r)) {
    j->st->updated++;
    if ((rc = write_command(j, jh_batch_command_name(JH_COMMAND_UPDATE), r)) <
        0)
      return rc;
  }
  return prev_advance(j);
}

static int delta_finish(struct job *j) {
  int rc;
  while (j->prec != NULL)
    if ((rc = write_delete(j, j->prec)) < 0 || (rc = prev_advance(j)) < 0)
      return rc;
  return 0;
}

/* -------------------------------------------------------------- output */

/* The sorted stream: duplicates aside, clean rows out. */
static int write_sorted(struct job *j) {
  const jh_csv_record *r;
  int rc, same;
  while ((rc = jh_sorter_next(j->sorter, &r, &same)) == 1) {
    if (same) {
      rc = write_rec(j, OUT_DUPLICATES, r->fields, r->lengths, r->nfields);
      j->st->duplicates++;
    } else if (j->changes) {
      rc = write_rec(j, OUT_DELTA, r->fields, r->lengths, r->nfields);
      j->st->rows++;
      count_command(j->st, r->fields[0], r->lengths[0]);
    } else {
      rc = write_rec(j, OUT_SORTED, r->fields, r->lengths, r->nfields);
      j->st->rows++;
      if (rc == 0 && j->env->previous != NULL)
        rc = delta_step(j, r);
    }
    if (rc < 0 || (rc = poll_cancel(j)) < 0)
      return rc;
  }
  if (rc < 0)
    return fail(j, rc, "%s", jh_sorter_error(j->sorter));
  if (j->env->previous != NULL)
    return delta_finish(j);
  return 0;
}

/* ---------------------------------------------------------------- run */

static int run(struct job *j) {
  jh_sorter_config cfg = {.keys = j->keys,
                          .nkeys = j->t->nkeys,
                          .memory_limit = j->env->memory_limit,
                          .tmpdir = j->env->outdir};
  int rc;
  j->f = calloc(j->nrec + 1, sizeof(*j->f));
  j->l = calloc(j->nrec + 1, sizeof(*j->l));
  if (j->f == NULL || j->l == NULL)
    return fail(j, -ENOMEM, "out of memory");
  if ((rc = open_export(j)) < 0 || (rc = open_outputs(j)) < 0)
    return rc;
  if ((rc = jh_sorter_open(&cfg, &j->sorter, j->err, j->errsize)) < 0)
    return rc;
  if ((rc = read_export(j)) < 0)
    return rc;
  jh_csv_reader_close(j->in); /* its buffers are not needed any more */
  j->in = NULL;
  if (j->env->previous != NULL && !j->changes && (rc = open_previous(j)) < 0)
    return rc;
  if ((rc = write_sorted(j)) < 0)
    return rc;
  return commit_outputs(j);
}

int prep_table_run(const struct prep_table *t, const struct prep_env *env,
                   jh_prep_table_stats *st, char *err, size_t errsize) {
  struct job j = {.t = t, .env = env, .st = st, .err = err, .errsize = errsize};
  int rc;
  if (t->nkeys < 1 || t->nkeys > 2 || t->ncolumns == 0)
    return fail(&j, JOBHOST_ECONFIG, "%s: a table needs columns and keys",
                t->name);
  for (size_t k = 0; k < t->nkeys; k++)
    if (t->keys[k] >= t->ncolumns)
      return fail(&j, JOBHOST_ECONFIG, "%s: key column out of range", t->name);
  j.changes = env->input == JH_PREP_CHANGES;
  j.off = j.changes ? 1 : 0;
  j.nrec = j.off + t->ncolumns;
  for (size_t k = 0; k < t->nkeys; k++)
    j.keys[k] = j.off + t->keys[k];
  st->input_rows = st->rows = st->duplicates = st->nullpk = 0;
  st->inserted = st->updated = st->deleted = st->merged = 0;
  rc = run(&j);
  if (rc < 0)
    discard_outputs(&j);
  jh_sorter_close(j.sorter);
  jh_csv_reader_close(j.in);
  jh_csv_reader_close(j.prev);
  for (int o = 0; o < OUT_COUNT; o++)
    free(j.path[o]);
  free(j.colidx);
  free(j.f);
  free(j.l);
  free(j.pkey);
  return rc;
}
