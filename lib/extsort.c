/*
 * extsort.c — see extsort.h.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "extsort.h"

/* One record held in memory: a single allocation holding this header,
 * the field pointers, the lengths, then the NUL-terminated bytes. */
struct mrec {
  size_t seq; /* input order, for stability */
  const char *key;
  size_t key_len;
  size_t n;
  const char **fields;
  size_t *lens;
};

struct sorter {
  char sep;
  size_t key;
  size_t limit;
  const char *input, *output;
  /* Records of the current run. */
  struct mrec **recs;
  size_t nrecs, recs_cap, used;
  size_t seq;
  /* Private temporary folder and runs in it (run-<id>.csv). */
  char *dir;
  size_t next_run;
  size_t *live;      /* ids of the runs still to merge, in input order */
  size_t nlive, live_cap;
  jh_extsort_stats stats;
  char *err;
  size_t errsize;
};

static int fail(struct sorter *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct sorter *s, int code, const char *fmt, ...) {
  va_list ap;
  if (s->err != NULL && s->errsize > 0) {
    va_start(ap, fmt);
    vsnprintf(s->err, s->errsize, fmt, ap);
    va_end(ap);
  }
  return code;
}

/* ---------------------------------------------------------------- keys */

static void record_key(const jh_csv_record *rec, size_t key, const char **k,
                       size_t *len) {
  *k = key < rec->nfields ? rec->fields[key] : "";
  *len = key < rec->nfields ? rec->lengths[key] : 0;
}

static int compare_keys(const char *a, size_t alen, const char *b,
                        size_t blen) {
  int c = memcmp(a, b, alen < blen ? alen : blen);
  if (c != 0)
    return c;
  return (alen > blen) - (alen < blen);
}

/* qsort comparison of two struct mrec pointers: key, then input order. */
static int compare_mrecs(const void *pa, const void *pb) {
  const struct mrec *a = *(struct mrec *const *)pa;
  const struct mrec *b = *(struct mrec *const *)pb;
  int c = compare_keys(a->key, a->key_len, b->key, b->key_len);
  if (c != 0)
    return c;
  return (a->seq > b->seq) - (a->seq < b->seq);
}

/* ------------------------------------------------------ memory records */

static size_t record_cost(const jh_csv_record *rec) {
  size_t cost = sizeof(struct mrec) + sizeof(struct mrec *) +
                rec->nfields * (sizeof(char *) + sizeof(size_t));
  for (size_t i = 0; i < rec->nfields; i++)
    cost += rec->lengths[i] + 1;
  return cost;
}

/* Copy rec into one allocation; NULL when out of memory. */
static struct mrec *record_copy(const jh_csv_record *rec, size_t cost,
                                size_t seq, size_t key) {
  size_t n = rec->nfields;
  struct mrec *m = malloc(cost);
  char *p;
  if (m == NULL)
    return NULL;
  m->seq = seq;
  m->n = n;
  m->fields = (const char **)(m + 1);
  m->lens = (size_t *)(m->fields + n);
  p = (char *)(m->lens + n);
  for (size_t i = 0; i < n; i++) {
    memcpy(p, rec->fields[i], rec->lengths[i] + 1);
    m->fields[i] = p;
    m->lens[i] = rec->lengths[i];
    p += rec->lengths[i] + 1;
  }
  m->key = key < n ? m->fields[key] : "";
  m->key_len = key < n ? m->lens[key] : 0;
  return m;
}

static void drop_records(struct sorter *s) {
  for (size_t i = 0; i < s->nrecs; i++)
    free(s->recs[i]);
  s->nrecs = 0;
  s->used = 0;
}

/* Sort the records in memory (stable thanks to seq). */
static void sort_records(struct sorter *s) {
  if (s->nrecs > 1)
    qsort(s->recs, s->nrecs, sizeof(*s->recs), compare_mrecs);
}

static int write_records(struct sorter *s, jh_csv_writer *w,
                         const char *name) {
  for (size_t i = 0; i < s->nrecs; i++) {
    const struct mrec *m = s->recs[i];
    int rc = jh_csv_write_record_n(w, m->fields, m->lens, m->n);
    if (rc < 0)
      return fail(s, rc, "%s: %s", name, strerror(-rc));
  }
  return 0;
}

/* ----------------------------------------------------------- run files */

static char *run_path(const struct sorter *s, size_t id) {
  size_t size = strlen(s->dir) + 48;
  char *p = malloc(size);
  if (p != NULL)
    snprintf(p, size, "%s/run-%zu.csv", s->dir, id);
  return p;
}

static int make_dir(struct sorter *s, const char *tmpdir) {
  size_t size = strlen(tmpdir) + sizeof("/jh-extsort-XXXXXX");
  s->dir = malloc(size);
  if (s->dir == NULL)
    return fail(s, -ENOMEM, "out of memory");
  snprintf(s->dir, size, "%s/jh-extsort-XXXXXX", tmpdir);
  if (mkdtemp(s->dir) == NULL) {
    int rc = -errno;
    free(s->dir);
    s->dir = NULL;
    return fail(s, rc, "%s: %s", tmpdir, strerror(-rc));
  }
  return 0;
}

/* Remove every run file ever made and the folder itself. */
static void remove_dir(struct sorter *s) {
  if (s->dir == NULL)
    return;
  for (size_t id = 0; id < s->next_run; id++) {
    char *p = run_path(s, id);
    if (p != NULL)
      unlink(p);
    free(p);
  }
  rmdir(s->dir);
  free(s->dir);
  s->dir = NULL;
}

static int add_live(struct sorter *s, size_t id) {
  if (s->nlive == s->live_cap) {
    size_t cap = s->live_cap ? 2 * s->live_cap : 16;
    size_t *p = realloc(s->live, cap * sizeof(*p));
    if (p == NULL)
      return fail(s, -ENOMEM, "out of memory");
    s->live = p;
    s->live_cap = cap;
  }
  s->live[s->nlive++] = id;
  return 0;
}

/* Open a writer on a new run file; *id receives its number. */
static int open_run(struct sorter *s, jh_csv_writer **w, size_t *id) {
  char *p;
  int rc;
  if (s->dir == NULL)
    return fail(s, -EINVAL, "no temporary folder");
  p = run_path(s, s->next_run);
  if (p == NULL)
    return fail(s, -ENOMEM, "out of memory");
  rc = jh_csv_writer_open(p, s->sep, w);
  if (rc < 0)
    fail(s, rc, "%s: %s", p, strerror(-rc));
  else
    *id = s->next_run++;
  free(p);
  return rc;
}

static int commit_run(struct sorter *s, jh_csv_writer *w, size_t id) {
  int rc = jh_csv_writer_commit(w);
  if (rc < 0)
    return fail(s, rc, "%s/run-%zu.csv: %s", s->dir, id, strerror(-rc));
  return 0;
}

/* Sort the records in memory and write them as a new run. */
static int spill(struct sorter *s) {
  jh_csv_writer *w;
  size_t id;
  int rc;
  sort_records(s);
  rc = open_run(s, &w, &id);
  if (rc < 0)
    return rc;
  rc = write_records(s, w, s->dir);
  if (rc < 0) {
    jh_csv_writer_abort(w);
    return rc;
  }
  rc = commit_run(s, w, id);
  if (rc == 0)
    rc = add_live(s, id);
  drop_records(s);
  s->stats.runs++;
  return rc;
}

/* ------------------------------------------------------------- reading */

static int add_record(struct sorter *s, const jh_csv_record *rec) {
  size_t cost = record_cost(rec);
  struct mrec *m;
  int rc;
  if (s->nrecs > 0 && s->used + cost > s->limit && (rc = spill(s)) < 0)
    return rc;
  if (s->nrecs == s->recs_cap) {
    size_t cap = s->recs_cap ? 2 * s->recs_cap : 256;
    struct mrec **p = realloc(s->recs, cap * sizeof(*p));
    if (p == NULL)
      return fail(s, -ENOMEM, "out of memory");
    s->recs = p;
    s->recs_cap = cap;
  }
  m = record_copy(rec, cost - sizeof(struct mrec *), s->seq++, s->key);
  if (m == NULL)
    return fail(s, -ENOMEM, "out of memory");
  s->recs[s->nrecs++] = m;
  s->used += cost;
  if (s->used > s->stats.peak_bytes)
    s->stats.peak_bytes = s->used;
  s->stats.records++;
  return 0;
}

/* Read every record of the input, spilling runs as memory fills. */
static int read_input(struct sorter *s, jh_csv_reader *in) {
  const jh_csv_record *rec;
  int rc;
  while ((rc = jh_csv_read(in, &rec)) == 1)
    if ((rc = add_record(s, rec)) < 0)
      return rc;
  if (rc < 0)
    return fail(s, rc, "%s", jh_csv_reader_error(in));
  return 0;
}

/* ------------------------------------------------------------- merging */

/* Readers of the runs being merged and a binary min-heap of their
 * indices, ordered by (key of the current record, index). */
struct merge {
  jh_csv_reader **in;
  const jh_csv_record **cur;
  size_t *heap;
  size_t n, nheap;
  size_t key;
};

static int heap_less(const struct merge *m, size_t a, size_t b) {
  const char *ka, *kb;
  size_t la, lb;
  int c;
  record_key(m->cur[a], m->key, &ka, &la);
  record_key(m->cur[b], m->key, &kb, &lb);
  c = compare_keys(ka, la, kb, lb);
  return c < 0 || (c == 0 && a < b);
}

static void heap_swap(struct merge *m, size_t i, size_t j) {
  size_t t = m->heap[i];
  m->heap[i] = m->heap[j];
  m->heap[j] = t;
}

static void sift_up(struct merge *m, size_t i) {
  while (i > 0 && heap_less(m, m->heap[i], m->heap[(i - 1) / 2])) {
    heap_swap(m, i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
}

static void sift_down(struct merge *m, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, min = i;
    if (l < m->nheap && heap_less(m, m->heap[l], m->heap[min]))
      min = l;
    if (r < m->nheap && heap_less(m, m->heap[r], m->heap[min]))
      min = r;
    if (min == i)
      return;
    heap_swap(m, i, min);
    i = min;
  }
}

static void merge_close(struct merge *m) {
  for (size_t i = 0; i < m->n; i++)
    jh_csv_reader_close(m->in[i]);
  free(m->in);
  free(m->cur);
  free(m->heap);
}

/* Read the next record of run i into the heap (or drop run i). */
static int merge_advance(struct sorter *s, struct merge *m, size_t i) {
  int rc = jh_csv_read(m->in[i], &m->cur[i]);
  if (rc < 0)
    return fail(s, rc, "%s", jh_csv_reader_error(m->in[i]));
  if (rc == 1) {
    m->heap[m->nheap++] = i;
    sift_up(m, m->nheap - 1);
  }
  return 0;
}

/* Open runs ids[0..n) and fill the heap. */
static int merge_open(struct sorter *s, struct merge *m, const size_t *ids,
                      size_t n) {
  jh_csv_options opt = {.separator = s->sep};
  memset(m, 0, sizeof(*m));
  m->key = s->key;
  m->in = calloc(n, sizeof(*m->in));
  m->cur = calloc(n, sizeof(*m->cur));
  m->heap = calloc(n, sizeof(*m->heap));
  if (m->in == NULL || m->cur == NULL || m->heap == NULL)
    return fail(s, -ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    char *p = run_path(s, ids[i]);
    int rc;
    if (p == NULL)
      return fail(s, -ENOMEM, "out of memory");
    rc = jh_csv_reader_open(p, &opt, &m->in[i], s->err, s->errsize);
    free(p);
    if (rc < 0)
      return rc;
    m->n++;
    if ((rc = merge_advance(s, m, i)) < 0)
      return rc;
  }
  return 0;
}

/* Merge runs ids[0..n) into w, deleting each run file once read. */
static int merge_runs(struct sorter *s, const size_t *ids, size_t n,
                      jh_csv_writer *w, const char *name) {
  struct merge m;
  int rc = merge_open(s, &m, ids, n);
  while (rc == 0 && m.nheap > 0) {
    size_t i = m.heap[0];
    const jh_csv_record *rec = m.cur[i];
    rc = jh_csv_write_record_n(w, rec->fields, rec->lengths, rec->nfields);
    if (rc < 0) {
      fail(s, rc, "%s: %s", name, strerror(-rc));
      break;
    }
    m.heap[0] = m.heap[--m.nheap];
    sift_down(&m, 0);
    rc = merge_advance(s, &m, i);
  }
  merge_close(&m);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    char *p = run_path(s, ids[i]);
    if (p != NULL)
      unlink(p);
    free(p);
  }
  return rc;
}

/* Merge groups of JH_EXTSORT_MAX_WAY consecutive runs into new runs
 * until at most that many are left. Consecutive groups keep stability. */
static int merge_passes(struct sorter *s) {
  while (s->nlive > JH_EXTSORT_MAX_WAY) {
    size_t *old = s->live, nold = s->nlive;
    int rc = 0;
    s->live = NULL;
    s->nlive = s->live_cap = 0;
    for (size_t i = 0; rc == 0 && i < nold; i += JH_EXTSORT_MAX_WAY) {
      size_t n = nold - i < JH_EXTSORT_MAX_WAY ? nold - i : JH_EXTSORT_MAX_WAY;
      jh_csv_writer *w;
      size_t id;
      rc = open_run(s, &w, &id);
      if (rc < 0)
        break;
      rc = merge_runs(s, old + i, n, w, s->dir);
      if (rc < 0) {
        jh_csv_writer_abort(w);
        break;
      }
      rc = commit_run(s, w, id);
      if (rc == 0)
        rc = add_live(s, id);
    }
    free(old);
    if (rc < 0)
      return rc;
    s->stats.merge_passes++;
  }
  return 0;
}

/* ------------------------------------------------------------- driver */

/* Write the sorted records (header first) to the output writer. */
static int write_output(struct sorter *s, const jh_csv_record *hdr,
                        jh_csv_writer *w) {
  int rc = jh_csv_write_record_n(w, hdr->fields, hdr->lengths, hdr->nfields);
  if (rc < 0)
    return fail(s, rc, "%s: %s", s->output, strerror(-rc));
  if (s->nlive == 0) { /* everything fitted in memory */
    sort_records(s);
    return write_records(s, w, s->output);
  }
  if (s->nrecs > 0 && (rc = spill(s)) < 0)
    return rc;
  if ((rc = merge_passes(s)) < 0)
    return rc;
  return merge_runs(s, s->live, s->nlive, w, s->output);
}

static int sort_file(struct sorter *s, jh_csv_reader *in) {
  const jh_csv_record *hdr = jh_csv_reader_header(in);
  jh_csv_writer *w;
  int rc;
  if (s->key >= hdr->nfields)
    return fail(s, -EINVAL, "%s: key column %zu is beyond the %zu columns "
                "of the header", s->input, s->key, hdr->nfields);
  if ((rc = read_input(s, in)) < 0)
    return rc;
  rc = jh_csv_writer_open(s->output, s->sep, &w);
  if (rc < 0)
    return fail(s, rc, "%s: %s", s->output, strerror(-rc));
  rc = write_output(s, hdr, w);
  if (rc < 0) {
    jh_csv_writer_abort(w);
    return rc;
  }
  rc = jh_csv_writer_commit(w);
  if (rc < 0)
    return fail(s, rc, "%s: %s", s->output, strerror(-rc));
  return 0;
}

int jh_extsort(const char *input, const jh_csv_options *opt,
               size_t key_index, const char *output, const char *tmpdir,
               size_t memory_limit, jh_extsort_stats *stats, char *err,
               size_t errsize) {
  struct sorter s = {.key = key_index, .limit = memory_limit,
                     .input = input, .output = output, .err = err, .errsize = errsize};
  jh_csv_options o = opt ? *opt : (jh_csv_options){0};
  jh_csv_reader *in;
  int rc;
  o.header = 1;
  s.sep = o.separator ? o.separator : ',';
  rc = jh_csv_reader_open(input, &o, &in, err, errsize);
  if (rc < 0)
    return rc;
  rc = make_dir(&s, tmpdir);
  if (rc == 0)
    rc = sort_file(&s, in);
  jh_csv_reader_close(in);
  drop_records(&s);
  free(s.recs);
  free(s.live);
  remove_dir(&s);
  if (rc == 0 && stats != NULL)
    *stats = s.stats;
  return rc;
}
