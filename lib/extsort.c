/*
 * extsort.c — see extsort.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array.h"
#include "extsort.h"

/*
 * One record, laid out the same way in memory and in run files, as
 * 32-bit words: [0] its total size in bytes (a multiple of 4), [1] its
 * field count n, [2 .. 2+n) the field lengths, then the field bytes, each
 * followed by a NUL, then zero padding. A record read back is used in
 * place: no parsing, no copy.
 */
#define REC_HEADER_WORDS 2
#define RUN_WRITE_BUFSIZE (256 * 1024)
#define RUN_READ_BUFSIZE (128 * 1024)

/* An in-memory record to sort: the first 8 bytes of its first key, big
 * endian and zero padded, decide most comparisons without touching the
 * record. Since a zero pad never sorts after a real byte, the prefix
 * order never contradicts the full order. */
struct entry {
  uint64_t prefix;
  const uint32_t *rec;
};

/* Arena block for in-memory records (reused from one run to the next). */
struct block {
  struct block *next;
  size_t size, used;
  uint64_t data[]; /* 8-byte aligned */
};

/* A run being read back. */
struct run_in {
  int fd;
  size_t id;
  uint32_t *buf; /* 4-byte aligned; positions stay multiples of 4 */
  size_t cap, pos, len;
};

/* A source of sorted records in a merge: a run file or the in-memory
 * records (run == NULL). */
struct source {
  struct run_in *run;
  size_t pos; /* next entry, for the in-memory source */
  const uint32_t *cur;
  uint64_t prefix;
};

/* Sources merged through a binary min-heap of their indices ordered by
 * (key of the current record, index): earlier sources win ties, so
 * merging consecutive runs keeps the sort stable. */
struct merger {
  struct source *src;
  size_t nsrc;
  size_t *heap;
  size_t nheap;
};

enum state { ADDING, READING, DONE };

struct jh_sorter {
  size_t keys[JH_SORTER_MAX_KEYS];
  size_t nkeys;
  size_t limit;
  char *dir; /* private folder; run files are run-<id> */
  size_t next_run;

  /* Records of the current chunk: arena and sort index. */
  struct block *blocks, *cur, *big;
  size_t block_size;
  struct entry *ents, *scratch;
  size_t nents, cap;
  size_t rec_bytes;

  /* Spilled runs still to merge, in input order. */
  size_t *live;
  size_t nlive, live_cap;
  unsigned char *wbuf; /* run writer buffer */
  size_t wlen;

  /* Output. */
  enum state state;
  struct merger out;
  int have_last;
  char *lastkey; /* bytes of the keys of the record returned last */
  size_t lastkey_cap;
  size_t lastkey_len[JH_SORTER_MAX_KEYS];
  const char **ptrs;
  size_t *lens;
  size_t ptrs_cap;
  jh_csv_record rec;

  jh_extsort_stats stats;
  int error;
  char errmsg[512];
};

static int fail(jh_sorter *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(jh_sorter *s, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
  va_end(ap);
  s->error = code;
  return code;
}

static size_t pad4(size_t x) { return (x + 3) & ~(size_t)3; }

/* --------------------------------------------------------------- keys */

/* Field i of a record (empty when the record is shorter). */
static void rec_field(const uint32_t *r, size_t i, const char **p,
                      size_t *len) {
  size_t n = r[1];
  const char *q = (const char *)(r + REC_HEADER_WORDS + n);
  if (i >= n) {
    *p = "";
    *len = 0;
    return;
  }
  for (size_t j = 0; j < i; j++)
    q += r[REC_HEADER_WORDS + j] + 1;
  *p = q;
  *len = r[REC_HEADER_WORDS + i];
}

static uint64_t key_prefix(const jh_sorter *s, const uint32_t *r) {
  const char *p;
  size_t len;
  uint64_t v = 0;
  rec_field(r, s->keys[0], &p, &len);
  for (size_t i = 0; i < 8; i++)
    v = (v << 8) | (i < len ? (unsigned char)p[i] : 0);
  return v;
}

static int rec_compare(const jh_sorter *s, const uint32_t *a,
                       const uint32_t *b) {
  for (size_t k = 0; k < s->nkeys; k++) {
    const char *pa, *pb;
    size_t la, lb;
    int c;
    rec_field(a, s->keys[k], &pa, &la);
    rec_field(b, s->keys[k], &pb, &lb);
    c = jh_key_compare(pa, la, pb, lb);
    if (c != 0)
      return c;
  }
  return 0;
}

static int compare(const jh_sorter *s, uint64_t pa, const uint32_t *a,
                   uint64_t pb, const uint32_t *b) {
  if (pa != pb)
    return pa < pb ? -1 : 1;
  return rec_compare(s, a, b);
}

/* ---------------------------------------------------- in-memory chunk */

/* Room for size bytes (a multiple of 4) in the arena, or NULL. */
static uint32_t *arena_alloc(jh_sorter *s, size_t size) {
  struct block *b = s->cur;
  if (b != NULL && b->size - b->used >= size) {
    uint32_t *p = (uint32_t *)((char *)b->data + b->used);
    b->used += size;
    return p;
  }
  if (size > s->block_size) { /* a large record gets a block of its own */
    b = malloc(sizeof(*b) + size);
    if (b == NULL)
      return NULL;
    b->size = b->used = size;
    b->next = s->big;
    s->big = b;
    return (uint32_t *)b->data;
  }
  if (b != NULL && b->next != NULL) {
    b = b->next;
  } else {
    struct block *nb = malloc(sizeof(*nb) + s->block_size);
    if (nb == NULL)
      return NULL;
    nb->size = s->block_size;
    nb->next = NULL;
    if (b != NULL)
      b->next = nb;
    else
      s->blocks = nb;
    b = nb;
  }
  b->used = size;
  s->cur = b;
  return (uint32_t *)b->data;
}

/* Forget the chunk's records (blocks are kept for the next chunk). */
static void arena_reset(jh_sorter *s) {
  while (s->big != NULL) {
    struct block *b = s->big;
    s->big = b->next;
    free(b);
  }
  s->cur = s->blocks;
  if (s->cur != NULL)
    s->cur->used = 0;
  s->nents = 0;
  s->rec_bytes = 0;
}

/* Bytes the chunk holds under the limit, with `extra` record bytes and
 * an index of `cap` entries (each with its merge-sort scratch). */
static size_t chunk_cost(const jh_sorter *s, size_t extra, size_t cap) {
  return s->rec_bytes + extra + cap * 2 * sizeof(struct entry);
}

static int entry_less(const jh_sorter *s, const struct entry *a,
                      const struct entry *b) {
  return compare(s, a->prefix, a->rec, b->prefix, b->rec) < 0;
}

/* Stable merge sort of a[0..n) with scratch t[0..n). */
static void merge_sort(const jh_sorter *s, struct entry *a, struct entry *t,
                       size_t n) {
  size_t h, i, j, k;
  if (n <= 12) {
    for (i = 1; i < n; i++) {
      struct entry e = a[i];
      for (j = i; j > 0 && entry_less(s, &e, &a[j - 1]); j--)
        a[j] = a[j - 1];
      a[j] = e;
    }
    return;
  }
  h = n / 2;
  merge_sort(s, a, t, h);
  merge_sort(s, a + h, t + h, n - h);
  if (!entry_less(s, &a[h], &a[h - 1]))
    return; /* already in order */
  memcpy(t, a, h * sizeof(*a));
  for (i = 0, j = h, k = 0; i < h && j < n;)
    a[k++] = entry_less(s, &a[j], &t[i]) ? a[j++] : t[i++];
  while (i < h)
    a[k++] = t[i++];
}

static void sort_chunk(jh_sorter *s) {
  merge_sort(s, s->ents, s->scratch, s->nents);
}

/* ------------------------------------------------------------- runs */

static char *run_path(const jh_sorter *s, size_t id) {
  size_t size = strlen(s->dir) + 32;
  char *p = malloc(size);
  if (p != NULL)
    snprintf(p, size, "%s/run-%zu", s->dir, id);
  return p;
}

static int write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int run_flush(jh_sorter *s, int fd) {
  int rc = write_all(fd, s->wbuf, s->wlen);
  s->wlen = 0;
  return rc;
}

static int run_put(jh_sorter *s, int fd, const uint32_t *r) {
  size_t size = r[0];
  int rc;
  if (s->wlen + size > RUN_WRITE_BUFSIZE && (rc = run_flush(s, fd)) < 0)
    return rc;
  if (size > RUN_WRITE_BUFSIZE)
    return write_all(fd, r, size);
  memcpy(s->wbuf + s->wlen, r, size);
  s->wlen += size;
  return 0;
}

/* Create run file number s->next_run for writing. */
static int run_create(jh_sorter *s, int *fd, size_t *id) {
  char *p = run_path(s, s->next_run);
  if (p == NULL)
    return fail(s, -ENOMEM, "out of memory");
  *fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (*fd < 0) {
    int rc = -errno;
    fail(s, rc, "%s: %s", p, strerror(-rc));
    free(p);
    return rc;
  }
  free(p);
  *id = s->next_run++;
  s->wlen = 0;
  return 0;
}

/* Flush and close a run being written; on success it joins `live`. */
static int run_finish(jh_sorter *s, int fd, size_t id, int rc) {
  if (rc == 0)
    rc = run_flush(s, fd);
  if (close(fd) != 0 && rc == 0)
    rc = -errno;
  if (rc < 0)
    return s->error ? s->error
                    : fail(s, rc, "%s/run-%zu: %s", s->dir, id, strerror(-rc));
  if (jh_array_reserve(&s->live, &s->live_cap, s->nlive + 1, sizeof(*s->live),
                       16) != 0)
    return fail(s, -ENOMEM, "out of memory");
  s->live[s->nlive++] = id;
  return 0;
}

/* Sort the chunk and write it as a new run. */
static int spill(jh_sorter *s) {
  int fd, rc = 0;
  size_t id;
  sort_chunk(s);
  if ((rc = run_create(s, &fd, &id)) < 0)
    return rc;
  for (size_t i = 0; rc == 0 && i < s->nents; i++)
    rc = run_put(s, fd, s->ents[i].rec);
  if ((rc = run_finish(s, fd, id, rc)) < 0)
    return rc;
  s->stats.runs++;
  arena_reset(s);
  return 0;
}

static void run_close(jh_sorter *s, struct run_in *r, int remove_file) {
  if (r == NULL)
    return;
  if (r->fd >= 0)
    close(r->fd);
  if (remove_file) {
    char *p = run_path(s, r->id);
    if (p != NULL)
      unlink(p);
    free(p);
  }
  free(r->buf);
  free(r);
}

static int run_open(jh_sorter *s, size_t id, struct run_in **out) {
  struct run_in *r = calloc(1, sizeof(*r));
  char *p = run_path(s, id);
  int rc = 0;
  *out = NULL;
  if (r == NULL || p == NULL) {
    free(r);
    free(p);
    return fail(s, -ENOMEM, "out of memory");
  }
  r->id = id;
  r->cap = RUN_READ_BUFSIZE;
  r->buf = malloc(r->cap);
  r->fd = open(p, O_RDONLY | O_CLOEXEC);
  if (r->buf == NULL)
    rc = fail(s, -ENOMEM, "out of memory");
  else if (r->fd < 0)
    rc = fail(s, -errno, "%s: %s", p, strerror(errno));
  free(p);
  if (rc < 0) {
    run_close(s, r, 0);
    return rc;
  }
  *out = r;
  return 0;
}

/* Make `need` bytes available from r->pos: 1, 0 at a clean end of file
 * (nothing left at all), or an error. */
static int run_fill(jh_sorter *s, struct run_in *r, size_t need) {
  if (r->len - r->pos >= need)
    return 1;
  if (r->pos > 0) {
    memmove(r->buf, (char *)r->buf + r->pos, r->len - r->pos);
    r->len -= r->pos;
    r->pos = 0;
  }
  if (jh_array_reserve(&r->buf, &r->cap, need, 1, need) != 0)
    return fail(s, -ENOMEM, "out of memory");
  while (r->len < need) {
    ssize_t got = read(r->fd, (char *)r->buf + r->len, r->cap - r->len);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      return fail(s, -errno, "%s/run-%zu: %s", s->dir, r->id, strerror(errno));
    if (got == 0) {
      if (r->len == 0)
        return 0;
      return fail(s, -EIO, "%s/run-%zu: truncated run file", s->dir, r->id);
    }
    r->len += (size_t)got;
  }
  return 1;
}

/* Next record of a run: 1 with *rec (valid until the next call), 0 at
 * the end, or an error. */
static int run_next(jh_sorter *s, struct run_in *r, const uint32_t **rec) {
  uint32_t size;
  int rc = run_fill(s, r, sizeof(uint32_t));
  if (rc <= 0)
    return rc;
  size = r->buf[r->pos / 4];
  if (size < 4 * REC_HEADER_WORDS || size % 4 != 0)
    return fail(s, -EIO, "%s/run-%zu: corrupt run file", s->dir, r->id);
  if ((rc = run_fill(s, r, size)) <= 0)
    return rc < 0
               ? rc
               : fail(s, -EIO, "%s/run-%zu: truncated run file", s->dir, r->id);
  *rec = r->buf + r->pos / 4;
  if ((size_t)4 * (REC_HEADER_WORDS + (*rec)[1]) > size)
    return fail(s, -EIO, "%s/run-%zu: corrupt run file", s->dir, r->id);
  r->pos += size;
  return 1;
}

/* ----------------------------------------------------------- merging */

static int heap_less(const jh_sorter *s, const struct merger *m, size_t a,
                     size_t b) {
  int c = compare(s, m->src[a].prefix, m->src[a].cur, m->src[b].prefix,
                  m->src[b].cur);
  return c < 0 || (c == 0 && a < b);
}

static void sift_up(const jh_sorter *s, struct merger *m, size_t i) {
  while (i > 0) {
    size_t parent = (i - 1) / 2, t;
    if (!heap_less(s, m, m->heap[i], m->heap[parent]))
      return;
    t = m->heap[i];
    m->heap[i] = m->heap[parent];
    m->heap[parent] = t;
    i = parent;
  }
}

static void sift_down(const jh_sorter *s, struct merger *m, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, min = i, t;
    if (l < m->nheap && heap_less(s, m, m->heap[l], m->heap[min]))
      min = l;
    if (r < m->nheap && heap_less(s, m, m->heap[r], m->heap[min]))
      min = r;
    if (min == i)
      return;
    t = m->heap[i];
    m->heap[i] = m->heap[min];
    m->heap[min] = t;
    i = min;
  }
}

/* Load the next record of source i: 1, 0 when it is used up, or error. */
static int source_next(jh_sorter *s, struct source *src) {
  int rc;
  if (src->run == NULL) {
    if (src->pos >= s->nents)
      return 0;
    src->cur = s->ents[src->pos].rec;
    src->prefix = s->ents[src->pos].prefix;
    src->pos++;
    return 1;
  }
  rc = run_next(s, src->run, &src->cur);
  if (rc == 1)
    src->prefix = key_prefix(s, src->cur);
  return rc;
}

/* Remove the run files a merger read; then free it. */
static void merger_close(jh_sorter *s, struct merger *m) {
  for (size_t i = 0; i < m->nsrc; i++)
    run_close(s, m->src[i].run, 1);
  free(m->src);
  free(m->heap);
  memset(m, 0, sizeof(*m));
}

/* Open the runs ids[0..n), then the in-memory records when with_memory,
 * and fill the heap. */
static int merger_open(jh_sorter *s, struct merger *m, const size_t *ids,
                       size_t n, int with_memory) {
  size_t total = n + (with_memory ? 1 : 0);
  memset(m, 0, sizeof(*m));
  m->src = calloc(total ? total : 1, sizeof(*m->src));
  m->heap = calloc(total ? total : 1, sizeof(*m->heap));
  if (m->src == NULL || m->heap == NULL)
    return fail(s, -ENOMEM, "out of memory");
  for (size_t i = 0; i < total; i++) {
    int rc;
    if (i < n && (rc = run_open(s, ids[i], &m->src[i].run)) < 0)
      return rc;
    m->nsrc++;
    rc = source_next(s, &m->src[i]);
    if (rc < 0)
      return rc;
    if (rc == 1) {
      m->heap[m->nheap++] = i;
      sift_up(s, m, m->nheap - 1);
    }
  }
  return 0;
}

/* Move past the record at the top of the heap. */
static int merger_pop(jh_sorter *s, struct merger *m) {
  int rc = source_next(s, &m->src[m->heap[0]]);
  if (rc < 0)
    return rc;
  if (rc == 0)
    m->heap[0] = m->heap[--m->nheap];
  if (m->nheap > 0)
    sift_down(s, m, 0);
  return 0;
}

/* Merge runs ids[0..n) into one new run. */
static int merge_into_run(jh_sorter *s, const size_t *ids, size_t n) {
  struct merger m;
  int fd = -1, rc;
  size_t id = 0;
  rc = merger_open(s, &m, ids, n, 0);
  if (rc == 0)
    rc = run_create(s, &fd, &id);
  while (rc == 0 && m.nheap > 0) {
    rc = run_put(s, fd, m.src[m.heap[0]].cur);
    if (rc < 0)
      rc = fail(s, rc, "%s/run-%zu: %s", s->dir, id, strerror(-rc));
    else
      rc = merger_pop(s, &m);
  }
  if (fd >= 0)
    rc = run_finish(s, fd, id, rc);
  merger_close(s, &m);
  return rc;
}

/* Merge groups of JH_EXTSORT_MAX_WAY consecutive runs into new runs until
 * at most that many are left. Consecutive groups keep stability. */
static int merge_passes(jh_sorter *s) {
  while (s->nlive > JH_EXTSORT_MAX_WAY) {
    size_t *old = s->live, nold = s->nlive;
    int rc = 0;
    s->live = NULL;
    s->nlive = s->live_cap = 0;
    for (size_t i = 0; rc == 0 && i < nold; i += JH_EXTSORT_MAX_WAY) {
      size_t n = nold - i < JH_EXTSORT_MAX_WAY ? nold - i : JH_EXTSORT_MAX_WAY;
      rc = merge_into_run(s, old + i, n);
    }
    free(old);
    if (rc < 0)
      return rc;
    s->stats.merge_passes++;
  }
  return 0;
}

/* End of input: sort what is in memory, reduce the runs, start the final
 * merge of the runs and the in-memory records. */
static int start_output(jh_sorter *s) {
  int rc;
  free(s->wbuf); /* no more runs are written after the passes */
  s->wbuf = NULL;
  sort_chunk(s);
  if (s->nlive > JH_EXTSORT_MAX_WAY) {
    if ((s->wbuf = malloc(RUN_WRITE_BUFSIZE)) == NULL)
      return fail(s, -ENOMEM, "out of memory");
    rc = merge_passes(s);
    free(s->wbuf);
    s->wbuf = NULL;
    if (rc < 0)
      return rc;
  }
  rc = merger_open(s, &s->out, s->live, s->nlive, s->nents > 0);
  s->nlive = 0; /* the merger owns them now */
  return rc;
}

/* ------------------------------------------------------------ public */

int jh_sorter_open(const jh_sorter_config *cfg, jh_sorter **out, char *err,
                   size_t errsize) {
  jh_sorter *s;
  size_t size;
  *out = NULL;
  if (cfg->nkeys == 0 || cfg->nkeys > JH_SORTER_MAX_KEYS ||
      cfg->tmpdir == NULL) {
    if (err != NULL && errsize > 0)
      snprintf(err, errsize,
               "sorter: between 1 and %d keys and a "
               "temporary folder are required",
               JH_SORTER_MAX_KEYS);
    return -EINVAL;
  }
  s = calloc(1, sizeof(*s));
  if (s == NULL) {
    if (err != NULL && errsize > 0)
      snprintf(err, errsize, "out of memory");
    return -ENOMEM;
  }
  memcpy(s->keys, cfg->keys, cfg->nkeys * sizeof(*s->keys));
  s->nkeys = cfg->nkeys;
  s->limit = cfg->memory_limit;
  s->block_size = s->limit / 16;
  if (s->block_size < 4096)
    s->block_size = 4096;
  if (s->block_size > (1 << 20))
    s->block_size = 1 << 20;
  size = strlen(cfg->tmpdir) + sizeof("/jh-extsort-XXXXXX");
  s->dir = malloc(size);
  s->wbuf = malloc(RUN_WRITE_BUFSIZE);
  if (s->dir == NULL || s->wbuf == NULL) {
    jh_sorter_close(s);
    if (err != NULL && errsize > 0)
      snprintf(err, errsize, "out of memory");
    return -ENOMEM;
  }
  snprintf(s->dir, size, "%s/jh-extsort-XXXXXX", cfg->tmpdir);
  if (mkdtemp(s->dir) == NULL) {
    int rc = -errno;
    if (err != NULL && errsize > 0)
      snprintf(err, errsize, "%s: %s", cfg->tmpdir, strerror(-rc));
    free(s->dir);
    s->dir = NULL;
    jh_sorter_close(s);
    return rc;
  }
  *out = s;
  return 0;
}

/* Make room in the index for one more entry (spilling when the index
 * would outgrow the limit): 0 or an error. */
static int reserve_entry(jh_sorter *s, size_t size) {
  size_t cap;
  struct entry *e, *t;
  if (s->nents < s->cap)
    return 0;
  cap = s->cap ? 2 * s->cap : 16;
  if (s->nents > 0 && chunk_cost(s, size, cap) > s->limit) {
    int rc = spill(s);
    if (rc < 0 || s->nents < s->cap)
      return rc;
  }
  if (cap > SIZE_MAX / (2 * sizeof(*e)))
    return fail(s, -ENOMEM, "out of memory");
  e = realloc(s->ents, cap * sizeof(*e));
  if (e == NULL)
    return fail(s, -ENOMEM, "out of memory");
  s->ents = e;
  t = realloc(s->scratch, cap * sizeof(*t));
  if (t == NULL)
    return fail(s, -ENOMEM, "out of memory");
  s->scratch = t;
  s->cap = cap;
  return 0;
}

int jh_sorter_add(jh_sorter *s, const char *const *fields,
                  const size_t *lengths, size_t n) {
  size_t size, words = REC_HEADER_WORDS + n;
  uint32_t *r;
  char *p;
  int rc;
  if (s->error)
    return s->error;
  if (s->state != ADDING)
    return fail(s, -EINVAL, "sorter: record added after reading began");
  if (n > UINT32_MAX / 4 - REC_HEADER_WORDS)
    return fail(s, -E2BIG, "sorter: too many fields (%zu)", n);
  size = 4 * words;
  for (size_t i = 0; i < n; i++) {
    size_t len = fields[i] == NULL ? 0
                 : lengths != NULL ? lengths[i]
                                   : strlen(fields[i]);
    if (len > UINT32_MAX - size - 4)
      return fail(s, -E2BIG, "sorter: record too large");
    size += len + 1;
  }
  size = pad4(size);
  if (size > UINT32_MAX)
    return fail(s, -E2BIG, "sorter: record too large");
  /* Spill first when this record would not fit beside the others. */
  if (s->nents > 0 && chunk_cost(s, size, s->cap) > s->limit &&
      (rc = spill(s)) < 0)
    return rc;
  if ((rc = reserve_entry(s, size)) < 0)
    return rc;
  r = arena_alloc(s, size);
  if (r == NULL)
    return fail(s, -ENOMEM, "out of memory");
  r[0] = (uint32_t)size;
  r[1] = (uint32_t)n;
  p = (char *)(r + words);
  for (size_t i = 0; i < n; i++) {
    size_t len = fields[i] == NULL ? 0
                 : lengths != NULL ? lengths[i]
                                   : strlen(fields[i]);
    r[REC_HEADER_WORDS + i] = (uint32_t)len;
    if (len > 0)
      memcpy(p, fields[i], len);
    p[len] = '\0';
    p += len + 1;
  }
  while ((size_t)(p - (char *)r) < size)
    *p++ = '\0';
  s->ents[s->nents].rec = r;
  s->ents[s->nents].prefix = key_prefix(s, r);
  s->nents++;
  s->rec_bytes += size;
  if (chunk_cost(s, 0, s->cap) > s->stats.peak_bytes)
    s->stats.peak_bytes = chunk_cost(s, 0, s->cap);
  s->stats.records++;
  return 0;
}

/* Keep the keys of record r as the "last" keys. */
static int save_keys(jh_sorter *s, const uint32_t *r) {
  size_t total = 0, off = 0;
  for (size_t k = 0; k < s->nkeys; k++) {
    const char *p;
    rec_field(r, s->keys[k], &p, &s->lastkey_len[k]);
    total += s->lastkey_len[k];
  }
  if (jh_array_reserve(&s->lastkey, &s->lastkey_cap, total, 1, 64) != 0)
    return fail(s, -ENOMEM, "out of memory");
  for (size_t k = 0; k < s->nkeys; k++) {
    const char *p;
    size_t len;
    rec_field(r, s->keys[k], &p, &len);
    if (len > 0)
      memcpy(s->lastkey + off, p, len);
    off += len;
  }
  return 0;
}

static int same_as_saved(const jh_sorter *s, const uint32_t *r) {
  size_t off = 0;
  for (size_t k = 0; k < s->nkeys; k++) {
    const char *p;
    size_t len;
    rec_field(r, s->keys[k], &p, &len);
    if (len != s->lastkey_len[k] || memcmp(p, s->lastkey + off, len) != 0)
      return 0;
    off += len;
  }
  return 1;
}

/* Point s->rec at the fields of r. */
static int publish(jh_sorter *s, const uint32_t *r) {
  size_t n = r[1];
  const char *p = (const char *)(r + REC_HEADER_WORDS + n);
  if (n > s->ptrs_cap) {
    const char **np = realloc(s->ptrs, n * sizeof(*np));
    size_t *nl;
    if (np == NULL)
      return fail(s, -ENOMEM, "out of memory");
    s->ptrs = np;
    nl = realloc(s->lens, n * sizeof(*nl));
    if (nl == NULL)
      return fail(s, -ENOMEM, "out of memory");
    s->lens = nl;
    s->ptrs_cap = n;
  }
  for (size_t i = 0; i < n; i++) {
    s->ptrs[i] = p;
    s->lens[i] = r[REC_HEADER_WORDS + i];
    p += s->lens[i] + 1;
  }
  s->rec.nfields = n;
  s->rec.fields = s->ptrs;
  s->rec.lengths = s->lens;
  return 0;
}

int jh_sorter_next(jh_sorter *s, const jh_csv_record **rec, int *same_key) {
  const uint32_t *r;
  int rc;
  *rec = NULL;
  if (same_key != NULL)
    *same_key = 0;
  if (s->error)
    return s->error;
  if (s->state == DONE)
    return 0;
  if (s->state == ADDING) {
    s->state = READING;
    if ((rc = start_output(s)) < 0)
      return rc;
  } else if (s->have_last) {
    /* The record returned last is still at the top: keep its keys, then
     * move past it (which may overwrite it). */
    if ((rc = save_keys(s, s->out.src[s->out.heap[0]].cur)) < 0 ||
        (rc = merger_pop(s, &s->out)) < 0)
      return rc;
  }
  if (s->out.nheap == 0) {
    s->state = DONE;
    return 0;
  }
  r = s->out.src[s->out.heap[0]].cur;
  if ((rc = publish(s, r)) < 0)
    return rc;
  if (same_key != NULL)
    *same_key = s->have_last && same_as_saved(s, r);
  s->have_last = 1;
  *rec = &s->rec;
  return 1;
}

const char *jh_sorter_error(const jh_sorter *s) { return s->errmsg; }

void jh_sorter_stats(const jh_sorter *s, jh_extsort_stats *stats) {
  *stats = s->stats;
}

void jh_sorter_close(jh_sorter *s) {
  if (s == NULL)
    return;
  merger_close(s, &s->out);
  arena_reset(s);
  while (s->blocks != NULL) {
    struct block *b = s->blocks;
    s->blocks = b->next;
    free(b);
  }
  if (s->dir != NULL) {
    for (size_t id = 0; id < s->next_run; id++) {
      char *p = run_path(s, id);
      if (p != NULL)
        unlink(p);
      free(p);
    }
    rmdir(s->dir);
  }
  free(s->dir);
  free(s->ents);
  free(s->scratch);
  free(s->live);
  free(s->wbuf);
  free(s->lastkey);
  free(s->ptrs);
  free(s->lens);
  free(s);
}

/* --------------------------------------------------------- file sort */

static void copy_error(char *err, size_t errsize, const char *msg) {
  if (err != NULL && errsize > 0)
    snprintf(err, errsize, "%s", msg);
}

/* Write the header, then the sorted records. */
static int write_sorted(jh_sorter *s, const jh_csv_record *hdr, char sep,
                        const char *output, char *err, size_t errsize) {
  jh_csv_writer *w;
  const jh_csv_record *rec;
  int rc = jh_csv_writer_open(output, sep, &w);
  if (rc == 0)
    rc = jh_csv_write_record_n(w, hdr->fields, hdr->lengths, hdr->nfields);
  if (rc < 0) {
    jh_csv_writer_abort(w);
    snprintf(err, errsize, "%s: %s", output, strerror(-rc));
    return rc;
  }
  while ((rc = jh_sorter_next(s, &rec, NULL)) == 1)
    if ((rc = jh_csv_write_record_n(w, rec->fields, rec->lengths,
                                    rec->nfields)) < 0) {
      snprintf(err, errsize, "%s: %s", output, strerror(-rc));
      break;
    }
  if (rc < 0) {
    if (s->error)
      copy_error(err, errsize, jh_sorter_error(s));
    jh_csv_writer_abort(w);
    return rc;
  }
  rc = jh_csv_writer_commit(w);
  if (rc < 0)
    snprintf(err, errsize, "%s: %s", output, strerror(-rc));
  return rc;
}

int jh_extsort(const char *input, const jh_csv_options *opt, size_t key_index,
               const char *output, const char *tmpdir, size_t memory_limit,
               jh_extsort_stats *stats, char *err, size_t errsize) {
  jh_csv_options o = opt ? *opt : (jh_csv_options){0};
  jh_sorter_config cfg = {.keys = &key_index,
                          .nkeys = 1,
                          .memory_limit = memory_limit,
                          .tmpdir = tmpdir};
  char msg[512] = "";
  const jh_csv_record *hdr, *rec;
  jh_csv_reader *in;
  jh_sorter *s = NULL;
  int rc;
  o.header = 1;
  rc = jh_csv_reader_open(input, &o, &in, err, errsize);
  if (rc < 0)
    return rc;
  hdr = jh_csv_reader_header(in);
  if (key_index >= hdr->nfields) {
    snprintf(msg, sizeof(msg),
             "%s: key column %zu is beyond the %zu columns of the header",
             input, key_index, hdr->nfields);
    rc = -EINVAL;
  } else {
    rc = jh_sorter_open(&cfg, &s, msg, sizeof(msg));
  }
  while (rc == 0 && (rc = jh_csv_read(in, &rec)) == 1)
    if ((rc = jh_sorter_add(s, rec->fields, rec->lengths, rec->nfields)) < 0)
      copy_error(msg, sizeof(msg), jh_sorter_error(s));
  if (rc < 0 && msg[0] == '\0')
    copy_error(msg, sizeof(msg), jh_csv_reader_error(in));
  if (rc == 0)
    rc = write_sorted(s, hdr, o.separator ? o.separator : ',', output, msg,
                      sizeof(msg));
  if (rc == 0 && stats != NULL)
    jh_sorter_stats(s, stats);
  if (rc < 0)
    copy_error(err, errsize, msg);
  jh_sorter_close(s);
  jh_csv_reader_close(in);
  return rc;
}
