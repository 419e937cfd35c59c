/*
 * pipeline.c — see pipeline.h.
 *
 * Each file is composed into a libyaml document (yaml_parser_load), so that
 * every node keeps the mark where it starts; a walk over the document then
 * fills a jh_pipeline and reports every problem it meets as a diagnostic
 * (libyaml marks are 0-based, diagnostics 1-based). Nothing leaves this
 * file on error: the half-built pipeline is freed.
 *
 * Aliases: libyaml composes an alias as a second reference to the anchored
 * node, so a small file can describe a huge (or, with an alias inside its
 * own anchor, endless) tree. Before walking a document we count the node
 * visits a full walk would make and refuse the file when aliases add more
 * than ALIAS_EXTRA_MAX of them; the walk is then bounded.
 */
#include "config.h"

#include "pipeline.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

/* Node visits aliases may add to a document beyond the nodes it holds. */
#define ALIAS_EXTRA_MAX 10000
/* Characters of a written value quoted back in a message. */
#define SHOW_MAX 60
/* Keys longer than this get no "did you mean" hint. */
#define HINT_LEN_MAX 64

#define DEFAULT_MAX_PARALLEL 5
#define DEFAULT_RETRY_DELAY_MS 1000L

static const char *const top_keys[] = {"version", "include", "job"};
static const char *const job_keys[] = {"id",           "display_name",
                                       "agent",        "schedule",
                                       "max_parallel", "ordering",
                                       "tasks"};
static const char *const task_keys[] = {
    "id",      "type",        "level",        "depends_on", "continue_on_error",
    "timeout", "retries",     "retry_delay",  "display_name",
    "agent"};
static const char *const orderings[] = {"levels", "dependencies"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A file being read, on the include chain (a list on the C stack). */
typedef struct chain_link {
  const char *real;  /* canonical path, to detect cycles */
  const char *shown; /* path as composed, for messages */
  const struct chain_link *up; /* the file that included this one */
} chain_link;

/* One composed YAML file. */
typedef struct yfile {
  const char *name; /* as shown in diagnostics; points into p->files */
  yaml_document_t *doc;
} yfile;

/* A key of a mapping and its value, keys checked for duplicates. */
typedef struct entry {
  const char *key;
  yaml_node_t *knode;
  yaml_node_t *vnode;
} entry;

typedef struct ctx {
  const jh_registry *reg;
  jh_diags *diags;
  jh_pipeline *p;    /* being built; owned by jh_pipeline_load */
  char **seen;       /* canonical paths already read; owned */
  size_t nseen;
  jh_loc *id_loc;    /* where each task's id is written (line 0: nowhere) */
  jh_loc *level_loc; /* where each task's level is written */
  int oom;
} ctx;

/* ---- small helpers ---- */

static char *xstrdup(ctx *c, const char *s) {
  char *d = strdup(s);
  if (d == NULL)
    c->oom = 1;
  return d;
}

static void *xcalloc(ctx *c, size_t n, size_t size) {
  void *m = calloc(n == 0 ? 1 : n, size);
  if (m == NULL)
    c->oom = 1;
  return m;
}

static jh_loc node_loc(const yfile *f, const yaml_node_t *n) {
  jh_loc l = {f->name, (int)n->start_mark.line + 1,
              (int)n->start_mark.column + 1};
  return l;
}

static void verr_at(ctx *c, const char *file, int line, int col,
                    const char *fmt, va_list ap) {
  char *msg = NULL;
  if (vasprintf(&msg, fmt, ap) < 0) {
    c->oom = 1;
    jh_diag_error(c->diags, file, line, col, "out of memory");
    return;
  }
  jh_diag_error(c->diags, file, line, col, "%s", msg);
  free(msg);
}

static void err_at(ctx *c, jh_loc l, const char *fmt, ...) JOBHOST_PRINTF(3, 4);
static void err_at(ctx *c, jh_loc l, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  verr_at(c, l.file, l.line, l.column, fmt, ap);
  va_end(ap);
}

static void err_node(ctx *c, const yfile *f, const yaml_node_t *n,
                     const char *fmt, ...) JOBHOST_PRINTF(4, 5);
static void err_node(ctx *c, const yfile *f, const yaml_node_t *n,
                     const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  verr_at(c, f->name, (int)n->start_mark.line + 1,
          (int)n->start_mark.column + 1, fmt, ap);
  va_end(ap);
}

static const char *scalar(const yaml_node_t *n) {
  return (const char *)n->data.scalar.value;
}

/* A plain empty scalar or `~`: what YAML reads as null. */
static int is_null(const yaml_node_t *n) {
  if (n->type != YAML_SCALAR_NODE)
    return 0;
  if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return 0;
  return n->data.scalar.length == 0 || strcmp(scalar(n), "~") == 0;
}

/* How a value is shown after "got": a kind, or the quoted text (cut). */
static const char *describe(const yaml_node_t *n, char *buf, size_t size) {
  if (n->type == YAML_MAPPING_NODE)
    return "a mapping";
  if (n->type == YAML_SEQUENCE_NODE)
    return "a sequence";
  if (is_null(n))
    return "nothing";
  if (n->data.scalar.length > SHOW_MAX)
    snprintf(buf, size, "'%.*s...'", SHOW_MAX, scalar(n));
  else
    snprintf(buf, size, "'%s'", scalar(n));
  return buf;
}

#define GOT_SIZE (SHOW_MAX + 8)

/* ---- "did you mean" ---- */

/* Levenshtein distance; SIZE_MAX when a word is too long to bother. */
static size_t edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  size_t row[HINT_LEN_MAX + 1];

  if (la > HINT_LEN_MAX || lb > HINT_LEN_MAX)
    return SIZE_MAX;
  for (size_t j = 0; j <= lb; j++)
    row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j];
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      size_t best = diag + cost;
      if (up + 1 < best)
        best = up + 1;
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

/* "IgnoreCookieFile" -> "ignore_cookie_file" into buf (cut to size). */
static void snake_case(const char *s, char *buf, size_t size) {
  size_t o = 0;
  for (size_t i = 0; s[i] != '\0' && o + 2 < size; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch >= 'A' && ch <= 'Z') {
      if (i > 0 && s[i - 1] != '_')
        buf[o++] = '_';
      buf[o++] = (char)(ch - 'A' + 'a');
    } else {
      buf[o++] = (char)ch;
    }
  }
  buf[o] = '\0';
}

/* The candidate closest to `word`, or NULL when none is close enough. */
static const char *closest(const char *word, const char *const *cands,
                           size_t n) {
  char snake[HINT_LEN_MAX * 2 + 2];
  size_t len = strlen(word), best = SIZE_MAX, limit;
  const char *found = NULL;

  snake_case(word, snake, sizeof(snake));
  for (size_t i = 0; i < n; i++)
    if (strcmp(snake, cands[i]) == 0)
      return cands[i]; /* the Identity Manager spelling of a key */
  /* short words are all close to each other: hint only real typos */
  limit = len <= 2 ? 0 : len <= 4 ? 1 : len <= 8 ? 2 : 3;
  for (size_t i = 0; i < n; i++) {
    size_t d = edit_distance(word, cands[i]);
    if (d < best) {
      best = d;
      found = cands[i];
    }
  }
  return best <= limit ? found : NULL;
}

/* The names joined with `sep`, malloc'd; NULL when out of memory. */
static char *join(const char *const *names, size_t n, const char *sep) {
  size_t len = 1, seplen = strlen(sep);
  char *s, *o;
  for (size_t i = 0; i < n; i++)
    len += strlen(names[i]) + seplen;
  s = malloc(len);
  if (s == NULL)
    return NULL;
  o = s;
  *o = '\0';
  for (size_t i = 0; i < n; i++)
    o += sprintf(o, "%s%s", i > 0 ? sep : "", names[i]);
  return s;
}

static void unknown_key(ctx *c, const yfile *f, const entry *e,
                        const char *const *cands, size_t n) {
  const char *hint = closest(e->key, cands, n);
  char *all;
  if (hint != NULL) {
    err_node(c, f, e->knode, "unknown key '%s' (did you mean '%s'?)", e->key,
             hint);
    return;
  }
  all = join(cands, n, ", ");
  if (all == NULL)
    c->oom = 1;
  err_node(c, f, e->knode, "unknown key '%s'; expected one of: %s", e->key,
           all ? all : "?");
  free(all);
}

/* ---- mappings ---- */

/*
 * The entries of a mapping, keys checked: each key must be a scalar, and
 * a key written twice is reported (only its first value is kept). Returns
 * a malloc'd array (free it) and its length in *n, or NULL.
 */
static entry *map_entries(ctx *c, const yfile *f, yaml_node_t *map,
                          size_t *n) {
  yaml_node_pair_t *start = map->data.mapping.pairs.start;
  size_t npairs = (size_t)(map->data.mapping.pairs.top - start), k = 0;
  entry *es = xcalloc(c, npairs, sizeof(*es));
  char got[GOT_SIZE];

  *n = 0;
  if (es == NULL)
    return NULL;
  for (size_t i = 0; i < npairs; i++) {
    yaml_node_t *kn = yaml_document_get_node(f->doc, start[i].key);
    yaml_node_t *vn = yaml_document_get_node(f->doc, start[i].value);
    size_t j;
    if (kn->type != YAML_SCALAR_NODE) {
      err_node(c, f, kn, "expected a key (a plain word), got %s",
               describe(kn, got, sizeof(got)));
      continue;
    }
    for (j = 0; j < k; j++)
      if (strcmp(es[j].key, scalar(kn)) == 0)
        break;
    if (j < k) {
      err_node(c, f, kn, "duplicate key '%s' (first written at line %d, "
               "column %d): a key may appear once per mapping", scalar(kn),
               (int)es[j].knode->start_mark.line + 1,
               (int)es[j].knode->start_mark.column + 1);
      continue;
    }
    es[k].key = scalar(kn);
    es[k].knode = kn;
    es[k].vnode = vn;
    k++;
  }
  *n = k;
  return es;
}

static const entry *find_entry(const entry *es, size_t n, const char *key) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(es[i].key, key) == 0)
      return &es[i];
  return NULL;
}

/* ---- typed values ---- */

/* The text of a non-null scalar, or NULL after saying `expected` was
 * wanted for `key`. */
static const char *want_scalar(ctx *c, const yfile *f, const yaml_node_t *n,
                               const char *key, const char *expected) {
  char got[GOT_SIZE];
  if (n->type != YAML_SCALAR_NODE || is_null(n)) {
    err_node(c, f, n, "expected %s for '%s', got %s", expected, key,
             describe(n, got, sizeof(got)));
    return NULL;
  }
  if (strlen(scalar(n)) != n->data.scalar.length) {
    err_node(c, f, n, "expected %s for '%s', got text with a NUL character",
             expected, key);
    return NULL;
  }
  return scalar(n);
}

/* A copy of a string value into *out. Returns 0 or -1 (reported). */
static int want_string(ctx *c, const yfile *f, const yaml_node_t *n,
                       const char *key, char **out) {
  const char *s = want_scalar(c, f, n, key, "a string");
  if (s == NULL)
    return -1;
  free(*out);
  *out = xstrdup(c, s);
  return *out ? 0 : -1;
}

/* Identifiers end up in file names and logs: letters, digits, '_', '-' and
 * '.', not starting with '-' or '.'. */
static int ident_ok(const char *s) {
  if (s[0] == '-' || s[0] == '.')
    return 0;
  for (const char *q = s; *q != '\0'; q++) {
    unsigned char ch = (unsigned char)*q;
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
          (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.'))
      return 0;
  }
  return 1;
}

static int want_ident(ctx *c, const yfile *f, const yaml_node_t *n,
                      const char *key, char **out) {
  const char *s = want_scalar(c, f, n, key, "an identifier");
  char got[GOT_SIZE];
  if (s == NULL)
    return -1;
  if (!ident_ok(s)) {
    err_node(c, f, n, "expected an identifier for '%s' (letters, digits, "
             "'_', '-' and '.', not starting with '-' or '.'), got %s",
             key, describe(n, got, sizeof(got)));
    return -1;
  }
  free(*out);
  *out = xstrdup(c, s);
  return *out ? 0 : -1;
}

/* A decimal integer, whole text. Returns 0 or -1. */
static int parse_ll(const char *s, long long *out) {
  char *end;
  if (!((s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '+'))
    return -1;
  errno = 0;
  *out = strtoll(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0')
    return -1;
  return 0;
}

/* An int >= min. Returns 0 or -1 (reported). */
static int want_int(ctx *c, const yfile *f, const yaml_node_t *n,
                    const char *key, int min, int *out) {
  char expected[48], got[GOT_SIZE];
  const char *s;
  long long v;

  snprintf(expected, sizeof(expected), "an integer >= %d", min);
  s = want_scalar(c, f, n, key, expected);
  if (s == NULL)
    return -1;
  if (parse_ll(s, &v) != 0 || v < min || v > INT_MAX) {
    err_node(c, f, n, "expected %s for '%s', got %s", expected, key,
             describe(n, got, sizeof(got)));
    return -1;
  }
  *out = (int)v;
  return 0;
}

/* Booleans as Identity Manager writes them. Returns 0/1, or -1. */
static int parse_bool(const char *s) {
  if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 ||
      strcmp(s, "1") == 0)
    return 1;
  if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 ||
      strcmp(s, "0") == 0)
    return 0;
  return -1;
}

#define BOOL_EXPECTED "a boolean (true, false, True, False, 1 or 0)"

static int want_bool(ctx *c, const yfile *f, const yaml_node_t *n,
                     const char *key, int *out) {
  const char *s = want_scalar(c, f, n, key, BOOL_EXPECTED);
  char got[GOT_SIZE];
  int b;
  if (s == NULL)
    return -1;
  b = parse_bool(s);
  if (b < 0) {
    err_node(c, f, n, "expected %s for '%s', got %s", BOOL_EXPECTED, key,
             describe(n, got, sizeof(got)));
    return -1;
  }
  *out = b;
  return 0;
}

/* "N" (seconds), "Nms", "Ns", "Nm", "Nh" into milliseconds. */
static int parse_duration(const char *s, long *ms) {
  long long n = 0, unit;
  const char *q = s;

  if (*q < '0' || *q > '9')
    return -1;
  for (; *q >= '0' && *q <= '9'; q++) {
    if (n > (LLONG_MAX - 9) / 10)
      return -1;
    n = n * 10 + (*q - '0');
  }
  if (strcmp(q, "ms") == 0)
    unit = 1;
  else if (*q == '\0' || strcmp(q, "s") == 0)
    unit = 1000;
  else if (strcmp(q, "m") == 0)
    unit = 60 * 1000;
  else if (strcmp(q, "h") == 0)
    unit = 3600 * 1000;
  else
    return -1;
  if (n > LONG_MAX / unit)
    return -1;
  *ms = (long)(n * unit);
  return 0;
}

#define DURATION_EXPECTED "a duration (N seconds, or Nms, Ns, Nm, Nh)"

static int want_duration(ctx *c, const yfile *f, const yaml_node_t *n,
                         const char *key, long *out) {
  const char *s = want_scalar(c, f, n, key, DURATION_EXPECTED);
  char got[GOT_SIZE];
  if (s == NULL)
    return -1;
  if (parse_duration(s, out) != 0) {
    err_node(c, f, n, "expected %s for '%s', got %s", DURATION_EXPECTED, key,
             describe(n, got, sizeof(got)));
    return -1;
  }
  return 0;
}

/* One of `choices`; the index in *out. */
static int want_choice(ctx *c, const yfile *f, const yaml_node_t *n,
                       const char *key, const char *const *choices,
                       size_t nchoices, size_t *out) {
  const char *s = want_scalar(c, f, n, key, "a value");
  const char *hint;
  char got[GOT_SIZE], *all;

  if (s == NULL)
    return -1;
  for (size_t i = 0; i < nchoices; i++)
    if (strcmp(s, choices[i]) == 0) {
      *out = i;
      return 0;
    }
  all = join(choices, nchoices, ", ");
  if (all == NULL)
    c->oom = 1;
  hint = closest(s, choices, nchoices);
  if (hint != NULL)
    err_node(c, f, n, "expected one of %s for '%s', got %s (did you mean "
             "'%s'?)", all ? all : "?", key, describe(n, got, sizeof(got)),
             hint);
  else
    err_node(c, f, n, "expected one of %s for '%s', got %s", all ? all : "?",
             key, describe(n, got, sizeof(got)));
  free(all);
  return -1;
}

/*
 * The scalar items of a list value: a sequence of strings (every item is
 * checked), or one string standing for a one-item list. Returns a malloc'd
 * array of borrowed nodes (free it) with their number in *count, or NULL
 * with -1 in *count after reporting.
 */
static yaml_node_t **want_list(ctx *c, const yfile *f, yaml_node_t *n,
                               const char *key, long *count) {
  yaml_node_item_t *start;
  yaml_node_t **items;
  size_t len;
  int bad = 0;

  *count = -1;
  if (n->type == YAML_SCALAR_NODE) {
    if (want_scalar(c, f, n, key, "a list of strings (or one string)") ==
        NULL)
      return NULL;
    items = xcalloc(c, 1, sizeof(*items));
    if (items != NULL) {
      items[0] = n;
      *count = 1;
    }
    return items;
  }
  if (n->type != YAML_SEQUENCE_NODE) {
    char got[GOT_SIZE];
    err_node(c, f, n, "expected a list of strings (or one string) for '%s', "
             "got %s", key, describe(n, got, sizeof(got)));
    return NULL;
  }
  start = n->data.sequence.items.start;
  len = (size_t)(n->data.sequence.items.top - start);
  items = xcalloc(c, len, sizeof(*items));
  if (items == NULL)
    return NULL;
  for (size_t i = 0; i < len; i++) {
    items[i] = yaml_document_get_node(f->doc, start[i]);
    if (want_scalar(c, f, items[i], key, "a string in the list") == NULL)
      bad = 1;
  }
  if (bad) {
    free(items);
    return NULL;
  }
  *count = (long)len;
  return items;
}

/* Copies of the texts of list items, with their locations. */
static int copy_items(ctx *c, const yfile *f, yaml_node_t **nodes, size_t n,
                      char ***out, jh_loc **locs) {
  *out = xcalloc(c, n, sizeof(**out));
  if (locs != NULL)
    *locs = xcalloc(c, n, sizeof(**locs));
  if (*out == NULL || (locs != NULL && *locs == NULL))
    return -1;
  for (size_t i = 0; i < n; i++) {
    (*out)[i] = xstrdup(c, scalar(nodes[i]));
    if ((*out)[i] == NULL)
      return -1;
    if (locs != NULL)
      (*locs)[i] = node_loc(f, nodes[i]);
  }
  return 0;
}

/* ---- schedule ---- */

/* Five whitespace-separated cron fields made of what cron accepts. */
static int cron_ok(const char *s) {
  int fields = 0, in_field = 0;
  for (const char *q = s; *q != '\0'; q++) {
    unsigned char ch = (unsigned char)*q;
    if (ch == ' ' || ch == '\t') {
      in_field = 0;
      continue;
    }
    if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') ||
          (ch >= 'a' && ch <= 'z') || ch == '*' || ch == ',' || ch == '-' ||
          ch == '/' || ch == '?'))
      return 0;
    if (!in_field)
      fields++;
    in_field = 1;
  }
  return fields == 5;
}

/* ---- task types and parameters ---- */

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of every task type in the registry, sorted; malloc'd array of
 * borrowed strings. */
static const char **task_type_names(ctx *c, size_t *n) {
  size_t count = 0, k = 0;
  const char **names;
  for (size_t i = 0; i < c->reg->nplugins; i++) {
    const jobhost_task_type *t = c->reg->plugins[i].desc->task_types;
    for (size_t j = 0; t != NULL && t[j].name != NULL; j++)
      count++;
  }
  names = xcalloc(c, count, sizeof(*names));
  if (names == NULL)
    return NULL;
  for (size_t i = 0; i < c->reg->nplugins; i++) {
    const jobhost_task_type *t = c->reg->plugins[i].desc->task_types;
    for (size_t j = 0; t != NULL && t[j].name != NULL; j++)
      names[k++] = t[j].name;
  }
  qsort(names, count, sizeof(*names), cmp_names);
  *n = count;
  return names;
}

static void unknown_task_type(ctx *c, const yfile *f, const yaml_node_t *n) {
  size_t count = 0;
  const char **names = task_type_names(c, &count);
  const char *hint;
  char *all;

  if (names == NULL)
    return;
  if (count == 0) {
    err_node(c, f, n, "unknown task type '%s': no plugin providing task "
             "types was loaded (see 'jobhost plugins')", scalar(n));
    free(names);
    return;
  }
  all = join(names, count, ", ");
  if (all == NULL)
    c->oom = 1;
  hint = closest(scalar(n), names, count);
  if (hint != NULL)
    err_node(c, f, n, "unknown task type '%s' (did you mean '%s'?); task "
             "types: %s", scalar(n), hint, all ? all : "?");
  else
    err_node(c, f, n, "unknown task type '%s'; task types: %s", scalar(n),
             all ? all : "?");
  free(all);
  free(names);
}

static const jobhost_param *schema_param(const jobhost_task_type *tt,
                                         const char *name) {
  for (size_t i = 0; tt->params != NULL && tt->params[i].name != NULL; i++)
    if (strcmp(tt->params[i].name, name) == 0)
      return &tt->params[i];
  return NULL;
}

static void value_clear(jh_value *v) {
  free(v->key);
  free(v->text);
  for (size_t i = 0; v->items != NULL && i < v->nitems; i++)
    free(v->items[i]);
  free(v->items);
  memset(v, 0, sizeof(*v));
}

/* Check a parameter value against its schema entry and fill *out.
 * Returns 0, or -1 with *out cleared. */
static int param_value(ctx *c, const yfile *f, const jobhost_param *sp,
                       yaml_node_t *n, jh_value *out) {
  const char *s;
  long long ll;
  size_t choice;
  int b, rc = 0;
  char got[GOT_SIZE], num[32];

  memset(out, 0, sizeof(*out));
  out->type = sp->type;
  out->loc = node_loc(f, n);
  switch (sp->type) {
  case JOBHOST_PARAM_STRING:
    rc = want_string(c, f, n, sp->name, &out->text);
    break;
  case JOBHOST_PARAM_INT:
    s = want_scalar(c, f, n, sp->name, "an integer");
    if (s == NULL) {
      rc = -1;
    } else if (parse_ll(s, &ll) != 0) {
      err_node(c, f, n, "expected an integer for '%s', got %s", sp->name,
               describe(n, got, sizeof(got)));
      rc = -1;
    } else {
      snprintf(num, sizeof(num), "%lld", ll);
      out->text = xstrdup(c, num);
    }
    break;
  case JOBHOST_PARAM_BOOL:
    rc = want_bool(c, f, n, sp->name, &b);
    if (rc == 0)
      out->text = xstrdup(c, b ? "true" : "false");
    break;
  case JOBHOST_PARAM_ENUM: {
    size_t nch = 0;
    while (sp->choices != NULL && sp->choices[nch] != NULL)
      nch++;
    rc = want_choice(c, f, n, sp->name, sp->choices, nch, &choice);
    if (rc == 0)
      out->text = xstrdup(c, sp->choices[choice]);
    break;
  }
  case JOBHOST_PARAM_LIST: {
    long count;
    yaml_node_t **items = want_list(c, f, n, sp->name, &count);
    if (count < 0) {
      rc = -1;
    } else {
      out->nitems = (size_t)count;
      rc = copy_items(c, f, items, out->nitems, &out->items, NULL);
    }
    free(items);
    break;
  }
  }
  out->key = xstrdup(c, sp->name);
  if (rc != 0 || c->oom) {
    value_clear(out);
    return -1;
  }
  return 0;
}

/* ---- tasks ---- */

static void task_key_unknown(ctx *c, const yfile *f, const entry *e,
                             const jobhost_task_type *tt) {
  size_t n = NELEM(task_keys), k = 0;
  const char **cands;
  const char *hint;
  char *host, *params;

  for (size_t i = 0; tt->params != NULL && tt->params[i].name != NULL; i++)
    n++;
  cands = xcalloc(c, n, sizeof(*cands));
  if (cands == NULL)
    return;
  for (size_t i = 0; i < NELEM(task_keys); i++)
    cands[k++] = task_keys[i];
  for (size_t i = 0; tt->params != NULL && tt->params[i].name != NULL; i++)
    cands[k++] = tt->params[i].name;
  hint = closest(e->key, cands, n);
  if (hint != NULL) {
    err_node(c, f, e->knode, "unknown key '%s' (did you mean '%s'?)", e->key,
             hint);
    free(cands);
    return;
  }
  host = join(cands, NELEM(task_keys), ", ");
  params = join(cands + NELEM(task_keys), n - NELEM(task_keys), ", ");
  if (host == NULL || params == NULL)
    c->oom = 1;
  if (n > NELEM(task_keys))
    err_node(c, f, e->knode, "unknown key '%s'; expected a task key (%s) or "
             "a parameter of %s (%s)", e->key, host ? host : "?", tt->name,
             params ? params : "?");
  else
    err_node(c, f, e->knode, "unknown key '%s'; expected a task key (%s); "
             "%s takes no parameter", e->key, host ? host : "?", tt->name);
  free(host);
  free(params);
  free(cands);
}

static void task_depends(ctx *c, const yfile *f, jh_task_def *t,
                         yaml_node_t *n) {
  long count;
  yaml_node_t **items = want_list(c, f, n, "depends_on", &count);
  if (count >= 0) {
    t->ndepends = (size_t)count;
    copy_items(c, f, items, t->ndepends, &t->depends_on, &t->depends_loc);
  }
  free(items);
}

/* A host-level key of a task; returns 0 when `e` is not one. */
static int task_host_key(ctx *c, const yfile *f, jh_task_def *t, size_t idx,
                         const entry *e) {
  yaml_node_t *v = e->vnode;
  if (strcmp(e->key, "id") == 0) {
    if (want_ident(c, f, v, "id", &t->id) == 0)
      c->id_loc[idx] = node_loc(f, v);
  } else if (strcmp(e->key, "type") == 0) {
    /* resolved before the other keys */
  } else if (strcmp(e->key, "level") == 0) {
    if (want_int(c, f, v, "level", 0, &t->level) == 0)
      c->level_loc[idx] = node_loc(f, v);
  } else if (strcmp(e->key, "depends_on") == 0) {
    task_depends(c, f, t, v);
  } else if (strcmp(e->key, "continue_on_error") == 0) {
    want_bool(c, f, v, "continue_on_error", &t->continue_on_error);
  } else if (strcmp(e->key, "timeout") == 0) {
    want_duration(c, f, v, "timeout", &t->timeout_ms);
  } else if (strcmp(e->key, "retries") == 0) {
    want_int(c, f, v, "retries", 0, &t->retries);
  } else if (strcmp(e->key, "retry_delay") == 0) {
    want_duration(c, f, v, "retry_delay", &t->retry_delay_ms);
  } else if (strcmp(e->key, "display_name") == 0) {
    want_string(c, f, v, "display_name", &t->display_name);
  } else if (strcmp(e->key, "agent") == 0) {
    want_string(c, f, v, "agent", &t->agent);
  } else {
    return 0;
  }
  return 1;
}

static void task_required(ctx *c, const yfile *f, const jh_task_def *t,
                          const yaml_node_t *n) {
  const jobhost_task_type *tt = t->task_type;
  for (size_t i = 0; tt->params != NULL && tt->params[i].name != NULL; i++) {
    const jobhost_param *sp = &tt->params[i];
    if (sp->required && jh_task_value(t, sp->name) == NULL)
      err_node(c, f, n, "missing required parameter '%s' in task '%s' (%s: "
               "%s)", sp->name, t->id ? t->id : "?", tt->name,
               sp->help ? sp->help : jobhost_param_type_name(sp->type));
  }
}

/* Resolve the task's type (first, so that parameters can be checked). */
static void task_type(ctx *c, const yfile *f, jh_task_def *t,
                      const entry *e) {
  if (want_string(c, f, e->vnode, "type", &t->type) != 0)
    return;
  t->task_type = jh_registry_task_type(c->reg, t->type, NULL);
  if (t->task_type == NULL)
    unknown_task_type(c, f, e->vnode);
}

static void parse_task(ctx *c, const yfile *f, yaml_node_t *n, size_t idx) {
  jh_task_def *t = &c->p->tasks[idx];
  entry *es;
  const entry *te;
  size_t ne;
  char got[GOT_SIZE];

  t->level = -1;
  t->retry_delay_ms = DEFAULT_RETRY_DELAY_MS;
  t->loc = node_loc(f, n);
  if (n->type != YAML_MAPPING_NODE) {
    err_node(c, f, n, "expected a task (a mapping with 'id' and 'type'), "
             "got %s", describe(n, got, sizeof(got)));
    return;
  }
  es = map_entries(c, f, n, &ne);
  if (es == NULL)
    return;
  te = find_entry(es, ne, "type");
  if (te != NULL)
    task_type(c, f, t, te);
  t->params = xcalloc(c, ne, sizeof(*t->params));
  for (size_t i = 0; i < ne && t->params != NULL; i++) {
    const jobhost_param *sp;
    if (task_host_key(c, f, t, idx, &es[i]))
      continue;
    if (t->task_type == NULL)
      continue; /* type missing or unknown: already reported */
    sp = schema_param(t->task_type, es[i].key);
    if (sp == NULL)
      task_key_unknown(c, f, &es[i], t->task_type);
    else if (param_value(c, f, sp, es[i].vnode, &t->params[t->nparams]) == 0)
      t->nparams++;
  }
  if (find_entry(es, ne, "id") == NULL)
    err_node(c, f, n, "missing 'id' in task: expected a unique task "
             "identifier");
  if (te == NULL)
    err_node(c, f, n, "missing 'type' in task '%s': expected a task type "
             "such as ExportTask", t->id ? t->id : "?");
  if (t->task_type != NULL)
    task_required(c, f, t, n);
  free(es);
}

static void parse_tasks(ctx *c, const yfile *f, yaml_node_t *n) {
  yaml_node_item_t *start;
  size_t len;
  char got[GOT_SIZE];

  if (n->type != YAML_SEQUENCE_NODE) {
    err_node(c, f, n, "expected a non-empty sequence of tasks for 'tasks', "
             "got %s", describe(n, got, sizeof(got)));
    return;
  }
  start = n->data.sequence.items.start;
  len = (size_t)(n->data.sequence.items.top - start);
  if (len == 0) {
    err_node(c, f, n, "expected at least one task in 'tasks'");
    return;
  }
  c->p->tasks = xcalloc(c, len, sizeof(*c->p->tasks));
  c->id_loc = xcalloc(c, len, sizeof(*c->id_loc));
  c->level_loc = xcalloc(c, len, sizeof(*c->level_loc));
  if (c->p->tasks == NULL || c->id_loc == NULL || c->level_loc == NULL)
    return;
  c->p->ntasks = len;
  for (size_t i = 0; i < len; i++)
    parse_task(c, f, yaml_document_get_node(f->doc, start[i]), i);
}

/* ---- job ---- */

static void job_schedule(ctx *c, const yfile *f, yaml_node_t *v) {
  char got[GOT_SIZE];
  if (want_string(c, f, v, "schedule", &c->p->schedule) != 0)
    return;
  if (!cron_ok(c->p->schedule))
    err_node(c, f, v, "expected a 5-field cron expression (minute hour "
             "day-of-month month day-of-week) for 'schedule', got %s",
             describe(v, got, sizeof(got)));
}

static void parse_job(ctx *c, const yfile *f, yaml_node_t *n) {
  jh_pipeline *p = c->p;
  entry *es;
  size_t ne, choice;
  char got[GOT_SIZE];

  p->job_loc = node_loc(f, n);
  if (n->type != YAML_MAPPING_NODE) {
    err_node(c, f, n, "expected a mapping with 'id' and 'tasks' for 'job', "
             "got %s", describe(n, got, sizeof(got)));
    return;
  }
  es = map_entries(c, f, n, &ne);
  if (es == NULL)
    return;
  for (size_t i = 0; i < ne; i++) {
    const char *k = es[i].key;
    yaml_node_t *v = es[i].vnode;
    if (strcmp(k, "id") == 0)
      want_ident(c, f, v, "id", &p->job_id);
    else if (strcmp(k, "display_name") == 0)
      want_string(c, f, v, k, &p->display_name);
    else if (strcmp(k, "agent") == 0)
      want_string(c, f, v, k, &p->agent);
    else if (strcmp(k, "schedule") == 0)
      job_schedule(c, f, v);
    else if (strcmp(k, "max_parallel") == 0)
      want_int(c, f, v, k, 1, &p->max_parallel);
    else if (strcmp(k, "ordering") == 0) {
      if (want_choice(c, f, v, k, orderings, NELEM(orderings), &choice) == 0)
        p->ordering = choice == 1 ? JH_ORDER_DEPENDENCIES : JH_ORDER_LEVELS;
    } else if (strcmp(k, "tasks") == 0)
      parse_tasks(c, f, v);
    else
      unknown_key(c, f, &es[i], job_keys, NELEM(job_keys));
  }
  if (find_entry(es, ne, "id") == NULL)
    err_node(c, f, n, "missing 'id' in 'job': expected the job identifier");
  if (find_entry(es, ne, "tasks") == NULL)
    err_node(c, f, n, "missing 'tasks' in 'job': expected a non-empty "
             "sequence of tasks");
  free(es);
}

/* ---- files and includes ---- */

static void load_file(ctx *c, const char *shown, const yfile *from,
                      const yaml_node_t *from_node, const chain_link *up);

/* Where an included path is read from: relative to the including file. */
static char *include_path(ctx *c, const char *including, const char *item) {
  const char *slash = strrchr(including, '/');
  char *path;
  if (item[0] == '/' || slash == NULL)
    return xstrdup(c, item);
  if (asprintf(&path, "%.*s/%s", (int)(slash - including), including, item) <
      0) {
    c->oom = 1;
    return NULL;
  }
  return path;
}

/* Read one include item (a path relative to the including file). */
static void include_item(ctx *c, const yfile *f, yaml_node_t *item,
                         const chain_link *link) {
  const char *text = want_scalar(c, f, item, "include", "a file name");
  char *path;
  if (text == NULL)
    return;
  path = include_path(c, f->name, text);
  if (path != NULL)
    load_file(c, path, f, item, link);
  free(path);
}

/* `include`: one file name, or a sequence of them; every item is checked
 * even when another is wrong. */
static void parse_include(ctx *c, const yfile *f, yaml_node_t *n,
                          const chain_link *link) {
  char got[GOT_SIZE];
  if (n->type == YAML_SCALAR_NODE) {
    include_item(c, f, n, link);
    return;
  }
  if (n->type != YAML_SEQUENCE_NODE) {
    err_node(c, f, n, "expected a file name or a list of file names for "
             "'include', got %s", describe(n, got, sizeof(got)));
    return;
  }
  for (yaml_node_item_t *it = n->data.sequence.items.start;
       it < n->data.sequence.items.top && !c->oom; it++)
    include_item(c, f, yaml_document_get_node(f->doc, *it), link);
}

static void parse_version(ctx *c, const yfile *f, yaml_node_t *n) {
  char got[GOT_SIZE];
  if (n->type != YAML_SCALAR_NODE || strcmp(scalar(n), "1") != 0)
    err_node(c, f, n, "expected 'version: 1' (the only pipeline format "
             "version), got %s", describe(n, got, sizeof(got)));
}

static void walk_top(ctx *c, const yfile *f, yaml_node_t *root,
                     const chain_link *link) {
  int is_top = link->up == NULL;
  size_t ne, ncands = is_top ? NELEM(top_keys) : NELEM(top_keys) - 1;
  entry *es;
  char got[GOT_SIZE];

  if (root->type != YAML_MAPPING_NODE) {
    err_node(c, f, root, "expected a mapping with 'version'%s at the top "
             "level, got %s", is_top ? " and 'job'" : "",
             describe(root, got, sizeof(got)));
    return;
  }
  es = map_entries(c, f, root, &ne);
  if (es == NULL)
    return;
  for (size_t i = 0; i < ne && !c->oom; i++) {
    const char *k = es[i].key;
    if (strcmp(k, "version") == 0)
      parse_version(c, f, es[i].vnode);
    else if (strcmp(k, "include") == 0)
      parse_include(c, f, es[i].vnode, link);
    else if (strcmp(k, "job") == 0 && is_top)
      parse_job(c, f, es[i].vnode);
    else if (strcmp(k, "job") == 0)
      err_node(c, f, es[i].knode, "'job' is only allowed in the top "
               "pipeline file, not in an included file");
    else
      unknown_key(c, f, &es[i], top_keys, ncands);
  }
  if (is_top && find_entry(es, ne, "version") == NULL)
    err_node(c, f, root, "missing 'version': expected 'version: 1'");
  if (is_top && find_entry(es, ne, "job") == NULL)
    err_node(c, f, root, "missing 'job': expected the job with its 'id' and "
             "'tasks'");
  free(es);
}

/* Count, without recursion, the node visits a full walk of the document
 * would make; returns the node where the count passed `limit`, or NULL. */
static yaml_node_t *alias_bomb(ctx *c, yaml_document_t *doc, size_t limit) {
  yaml_node_t **stack = xcalloc(c, limit + 1, sizeof(*stack));
  yaml_node_t *found = NULL;
  size_t top = 0, visits = 1;

  if (stack == NULL)
    return NULL;
  stack[top++] = yaml_document_get_root_node(doc);
  while (top > 0 && found == NULL) {
    yaml_node_t *n = stack[--top];
    if (n->type == YAML_SEQUENCE_NODE) {
      for (yaml_node_item_t *it = n->data.sequence.items.start;
           it < n->data.sequence.items.top && found == NULL; it++) {
        if (visits + 1 > limit) {
          found = n;
        } else {
          visits++;
          stack[top++] = yaml_document_get_node(doc, *it);
        }
      }
    } else if (n->type == YAML_MAPPING_NODE) {
      for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
           pr < n->data.mapping.pairs.top && found == NULL; pr++) {
        if (visits + 2 > limit) {
          found = n;
        } else {
          visits += 2;
          stack[top++] = yaml_document_get_node(doc, pr->key);
          stack[top++] = yaml_document_get_node(doc, pr->value);
        }
      }
    }
  }
  free(stack);
  return found;
}

/* Line and column (1-based) of a byte offset, read again from fp. */
static void offset_mark(FILE *fp, size_t offset, int *line, int *col) {
  size_t pos = 0;
  int ch;
  *line = 1;
  *col = 1;
  if (fseek(fp, 0, SEEK_SET) != 0)
    return;
  while (pos < offset && (ch = getc(fp)) != EOF) {
    pos++;
    if (ch == '\n') {
      (*line)++;
      *col = 1;
    } else {
      (*col)++;
    }
  }
}

static void parser_error(ctx *c, const char *name, yaml_parser_t *ps,
                         FILE *fp) {
  int line, col;
  switch (ps->error) {
  case YAML_MEMORY_ERROR:
    c->oom = 1;
    jh_diag_error(c->diags, name, 0, 0, "out of memory while reading YAML");
    break;
  case YAML_READER_ERROR:
    offset_mark(fp, ps->problem_offset, &line, &col);
    if (ps->problem_value != -1)
      jh_diag_error(c->diags, name, line, col, "invalid YAML: %s (byte #%X)",
                    ps->problem, (unsigned)ps->problem_value);
    else
      jh_diag_error(c->diags, name, line, col, "invalid YAML: %s",
                    ps->problem);
    break;
  default:
    line = (int)ps->problem_mark.line + 1;
    col = (int)ps->problem_mark.column + 1;
    if (ps->context != NULL)
      jh_diag_error(c->diags, name, line, col,
                    "invalid YAML: %s (%s at line %d, column %d)",
                    ps->problem ? ps->problem : "syntax error", ps->context,
                    (int)ps->context_mark.line + 1,
                    (int)ps->context_mark.column + 1);
    else
      jh_diag_error(c->diags, name, line, col, "invalid YAML: %s",
                    ps->problem ? ps->problem : "syntax error");
    break;
  }
}

/*
 * Compose the one document of fp into *doc. Returns 0, or -1 after
 * reporting (a syntax error, an empty file, a second document); *doc is
 * to be deleted only on success.
 */
static int compose(ctx *c, const char *name, FILE *fp, int is_top,
                   yaml_document_t *doc) {
  yaml_parser_t ps;
  yaml_document_t extra;
  int rc = -1;

  if (!yaml_parser_initialize(&ps)) {
    c->oom = 1;
    return -1;
  }
  yaml_parser_set_input_file(&ps, fp);
  if (!yaml_parser_load(&ps, doc)) {
    parser_error(c, name, &ps, fp);
    yaml_parser_delete(&ps);
    return -1;
  }
  if (yaml_document_get_root_node(doc) == NULL) {
    jh_diag_error(c->diags, name, 1, 1, "file is empty: expected a mapping "
                  "with 'version'%s", is_top ? " and 'job'" : "");
  } else if (!yaml_parser_load(&ps, &extra)) {
    parser_error(c, name, &ps, fp);
  } else {
    if (yaml_document_get_root_node(&extra) != NULL)
      jh_diag_error(c->diags, name, (int)extra.start_mark.line + 1,
                    (int)extra.start_mark.column + 1,
                    "expected one YAML document, found a second one");
    else
      rc = 0;
    yaml_document_delete(&extra);
  }
  if (rc != 0)
    yaml_document_delete(doc);
  yaml_parser_delete(&ps);
  return rc;
}

/* Report that `path` cannot be read, at the include item when there is
 * one. */
static void cannot_read(ctx *c, const char *path, const yfile *from,
                        const yaml_node_t *from_node, int err) {
  if (from != NULL)
    err_node(c, from, from_node, "cannot read included file '%s': %s", path,
             strerror(err));
  else
    jh_diag_error(c->diags, path, 0, 0, "cannot read the pipeline: %s",
                  strerror(err));
}

/* Report "include cycle: a -> b -> a": the chain from the top file to
 * `link`, then `again`, the file it tries to include. */
static void include_cycle(ctx *c, const yfile *from,
                          const yaml_node_t *from_node,
                          const chain_link *link, const char *again) {
  size_t n = 1, k;
  const char **names;
  char *text;

  for (const chain_link *l = link; l != NULL; l = l->up)
    n++;
  names = xcalloc(c, n, sizeof(*names));
  if (names == NULL)
    return;
  k = n - 1;
  names[k] = again;
  for (const chain_link *l = link; l != NULL; l = l->up)
    names[--k] = l->shown;
  text = join(names, n, " -> ");
  if (text == NULL)
    c->oom = 1;
  err_node(c, from, from_node, "include cycle: %s", text ? text : "?");
  free(text);
  free(names);
}

/* Add a path to p->files; returns the stored copy or NULL. */
static const char *add_file(ctx *c, const char *path) {
  jh_pipeline *p = c->p;
  char **grown = realloc(p->files, (p->nfiles + 1) * sizeof(*grown));
  if (grown == NULL) {
    c->oom = 1;
    return NULL;
  }
  p->files = grown;
  p->files[p->nfiles] = xstrdup(c, path);
  if (p->files[p->nfiles] == NULL)
    return NULL;
  return p->files[p->nfiles++];
}

static int add_seen(ctx *c, char *real) {
  char **grown = realloc(c->seen, (c->nseen + 1) * sizeof(*grown));
  if (grown == NULL) {
    c->oom = 1;
    free(real);
    return -1;
  }
  c->seen = grown;
  c->seen[c->nseen++] = real; /* owned by c->seen from now on */
  return 0;
}

/* Read one composed file and walk it. */
static void read_and_walk(ctx *c, const char *name, FILE *fp,
                          const chain_link *link) {
  yaml_document_t doc;
  yfile f = {name, &doc};
  yaml_node_t *bomb;
  size_t nnodes;

  if (compose(c, name, fp, link->up == NULL, &doc) != 0)
    return;
  nnodes = (size_t)(doc.nodes.top - doc.nodes.start);
  bomb = alias_bomb(c, &doc, nnodes + ALIAS_EXTRA_MAX);
  if (bomb != NULL)
    err_node(c, &f, bomb, "alias expansion exceeds %d nodes: aliases may "
             "not repeat large or recursive structures", ALIAS_EXTRA_MAX);
  else if (!c->oom)
    walk_top(c, &f, yaml_document_get_root_node(&doc), link);
  yaml_document_delete(&doc);
}

/*
 * Read `shown` (the top file when from is NULL, else included by the item
 * from_node of `from`). A file already read is not read again; a file on
 * the include chain is a cycle.
 */
static void load_file(ctx *c, const char *shown, const yfile *from,
                      const yaml_node_t *from_node, const chain_link *up) {
  char *real = realpath(shown, NULL);
  const char *name;
  struct stat st;
  chain_link link;
  FILE *fp;

  if (real == NULL) {
    cannot_read(c, shown, from, from_node, errno);
    return;
  }
  for (const chain_link *l = up; l != NULL; l = l->up)
    if (strcmp(l->real, real) == 0) {
      include_cycle(c, from, from_node, up, shown);
      free(real);
      return;
    }
  for (size_t i = 0; i < c->nseen; i++)
    if (strcmp(c->seen[i], real) == 0) {
      free(real); /* included twice (not a cycle): read once */
      return;
    }
  if (add_seen(c, real) != 0)
    return;
  name = add_file(c, shown);
  if (name == NULL)
    return;
  fp = fopen(shown, "rb");
  if (fp == NULL) {
    cannot_read(c, shown, from, from_node, errno);
    return;
  }
  if (fstat(fileno(fp), &st) != 0) {
    cannot_read(c, shown, from, from_node, errno);
    fclose(fp);
    return;
  }
  if (!S_ISREG(st.st_mode)) {
    cannot_read(c, shown, from, from_node,
                S_ISDIR(st.st_mode) ? EISDIR : EINVAL);
    fclose(fp);
    return;
  }
  link.real = real;
  link.shown = name;
  link.up = up;
  read_and_walk(c, name, fp, &link);
  fclose(fp);
}

/* ---- checks across tasks ---- */

static void check_ids(ctx *c) {
  const jh_pipeline *p = c->p;
  for (size_t i = 0; i < p->ntasks; i++) {
    if (p->tasks[i].id == NULL)
      continue;
    for (size_t j = 0; j < i; j++)
      if (p->tasks[j].id != NULL &&
          strcmp(p->tasks[i].id, p->tasks[j].id) == 0) {
        err_at(c, c->id_loc[i], "duplicate task id '%s' (first defined at "
               "line %d): task ids must be unique within the job",
               p->tasks[i].id, c->id_loc[j].line);
        break;
      }
  }
}

static void check_parents(ctx *c) {
  const jh_pipeline *p = c->p;
  const char **ids = xcalloc(c, p->ntasks, sizeof(*ids));
  size_t nids = 0;

  if (ids == NULL)
    return;
  for (size_t i = 0; i < p->ntasks; i++)
    if (p->tasks[i].id != NULL)
      ids[nids++] = p->tasks[i].id;
  for (size_t i = 0; i < p->ntasks; i++) {
    const jh_task_def *t = &p->tasks[i];
    for (size_t d = 0; d < t->ndepends; d++) {
      const char *hint;
      size_t e;
      for (e = 0; e < d; e++)
        if (strcmp(t->depends_on[e], t->depends_on[d]) == 0)
          break;
      if (e < d) {
        err_at(c, t->depends_loc[d], "'%s' is listed twice in depends_on: list each parent "
               "once",
               t->depends_on[d]);
        continue;
      }
      if (jh_pipeline_task(p, t->depends_on[d], NULL) != NULL)
        continue;
      hint = closest(t->depends_on[d], ids, nids);
      if (hint != NULL)
        err_at(c, t->depends_loc[d], "unknown task '%s' in depends_on (did "
               "you mean '%s'?)", t->depends_on[d], hint);
      else
        err_at(c, t->depends_loc[d], "unknown task '%s' in depends_on: no "
               "task of this job has this id", t->depends_on[d]);
    }
  }
  free(ids);
}

/* domain.md §5.1: all tasks of a job run on the job's agent, or all on
 * the server when the job names none. */
static void check_agents(ctx *c) {
  const jh_pipeline *p = c->p;
  for (size_t i = 0; i < p->ntasks; i++) {
    const jh_task_def *t = &p->tasks[i];
    if (t->agent == NULL || t->id == NULL)
      continue;
    if (p->agent != NULL && strcmp(t->agent, p->agent) != 0)
      err_at(c, t->loc,
             "task '%s' runs on agent '%s' but job '%s' runs on agent '%s': "
             "all tasks of a job run on the job's agent",
             t->id, t->agent, p->job_id ? p->job_id : "?", p->agent);
    else if (p->agent == NULL)
      jh_diag_add(c->diags, JH_DIAG_WARNING, t->loc.file, t->loc.line,
                  t->loc.column,
                  "task '%s' names agent '%s' but the job has no agent: a "
                  "job without agent runs all its tasks on the server",
                  t->id, t->agent);
  }
}

static void warn_levels(ctx *c) {
  const jh_pipeline *p = c->p;
  if (p->ordering != JH_ORDER_DEPENDENCIES)
    return;
  for (size_t i = 0; i < p->ntasks; i++)
    if (c->level_loc[i].line > 0)
      jh_diag_add(c->diags, JH_DIAG_WARNING, c->level_loc[i].file,
                  c->level_loc[i].line, c->level_loc[i].column,
                  "'level' is ignored with 'ordering: dependencies'");
}

/* ---- public ---- */

int jh_pipeline_load(const char *path, const jh_registry *reg,
                     jh_pipeline **out, jh_diags *diags) {
  size_t errors_before = diags->nerrors;
  ctx c;
  jh_pipeline *p;

  *out = NULL;
  memset(&c, 0, sizeof(c));
  c.reg = reg;
  c.diags = diags;
  p = calloc(1, sizeof(*p));
  if (p == NULL)
    return -ENOMEM;
  c.p = p;
  p->max_parallel = DEFAULT_MAX_PARALLEL;
  p->ordering = JH_ORDER_LEVELS;
  p->path = xstrdup(&c, path);
  if (p->path != NULL)
    load_file(&c, path, NULL, NULL, NULL);
  if (!c.oom && p->tasks != NULL) {
    check_ids(&c);
    check_parents(&c);
    check_agents(&c);
    warn_levels(&c);
  }
  for (size_t i = 0; i < c.nseen; i++)
    free(c.seen[i]);
  free(c.seen);
  free(c.id_loc);
  free(c.level_loc);
  if (c.oom) {
    jh_pipeline_free(p);
    return -ENOMEM;
  }
  if (diags->nerrors > errors_before) {
    jh_pipeline_free(p);
    return JOBHOST_ECONFIG;
  }
  *out = p;
  return 0;
}

static void task_free(jh_task_def *t) {
  free(t->id);
  free(t->type);
  free(t->display_name);
  free(t->agent);
  for (size_t i = 0; t->depends_on != NULL && i < t->ndepends; i++)
    free(t->depends_on[i]);
  free(t->depends_on);
  free(t->depends_loc);
  for (size_t i = 0; i < t->nparams; i++)
    value_clear(&t->params[i]);
  free(t->params);
}

void jh_pipeline_free(jh_pipeline *p) {
  if (p == NULL)
    return;
  for (size_t i = 0; i < p->ntasks; i++)
    task_free(&p->tasks[i]);
  free(p->tasks);
  free(p->job_id);
  free(p->display_name);
  free(p->agent);
  free(p->schedule);
  for (size_t i = 0; i < p->nfiles; i++)
    free(p->files[i]);
  free(p->files);
  free(p->path);
  free(p);
}

const jh_task_def *jh_pipeline_task(const jh_pipeline *p, const char *id,
                                    size_t *index) {
  for (size_t i = 0; i < p->ntasks; i++)
    if (p->tasks[i].id != NULL && strcmp(p->tasks[i].id, id) == 0) {
      if (index != NULL)
        *index = i;
      return &p->tasks[i];
    }
  return NULL;
}

const jh_value *jh_task_value(const jh_task_def *t, const char *key) {
  for (size_t i = 0; i < t->nparams; i++)
    if (strcmp(t->params[i].key, key) == 0)
      return &t->params[i];
  return NULL;
}
