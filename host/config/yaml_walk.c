/*
 * yaml_walk.c — see yaml_walk.h.
 */
#include "config.h"

#include "yaml_walk.h"
#include "strindex.h"
#include "timefmt.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ---- */

char *jh_yw_xstrdup(jh_yw *c, const char *s) {
  char *d = strdup(s);
  if (d == NULL)
    c->oom = 1;
  return d;
}

void *jh_yw_xcalloc(jh_yw *c, size_t n, size_t size) {
  void *m = calloc(n == 0 ? 1 : n, size);
  if (m == NULL)
    c->oom = 1;
  return m;
}

jh_loc jh_yw_node_loc(const jh_yfile *f, const yaml_node_t *n) {
  jh_loc l = {f->name, (int)n->start_mark.line + 1,
              (int)n->start_mark.column + 1};
  return l;
}

static void jh_yw_verr_at(jh_yw *c, const char *file, int line, int col,
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

void jh_yw_err_at(jh_yw *c, jh_loc l, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  jh_yw_verr_at(c, l.file, l.line, l.column, fmt, ap);
  va_end(ap);
}

void jh_yw_err_node(jh_yw *c, const jh_yfile *f, const yaml_node_t *n,
                    const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  jh_yw_verr_at(c, f->name, (int)n->start_mark.line + 1,
                (int)n->start_mark.column + 1, fmt, ap);
  va_end(ap);
}

const char *jh_yw_scalar(const yaml_node_t *n) {
  return (const char *)n->data.scalar.value;
}

/* A plain empty scalar or `~`: what YAML reads as null. */
int jh_yw_is_null(const yaml_node_t *n) {
  if (n->type != YAML_SCALAR_NODE)
    return 0;
  if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return 0;
  return n->data.scalar.length == 0 || strcmp(jh_yw_scalar(n), "~") == 0;
}

/* How a value is shown after "got": a kind, or the quoted text (cut). */
const char *jh_yw_describe(const yaml_node_t *n, char *buf, size_t size) {
  if (n->type == YAML_MAPPING_NODE)
    return "a mapping";
  if (n->type == YAML_SEQUENCE_NODE)
    return "a sequence";
  if (jh_yw_is_null(n))
    return "nothing";
  snprintf(buf, size, "'%s'", JH_Q(jh_yw_scalar(n)));
  return buf;
}

/* ---- "did you mean" ---- */

/* Levenshtein distance; SIZE_MAX when a word is too long to bother. */
static size_t jh_yw_edit_distance(const char *a, const char *b) {
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
void jh_yw_snake_case(const char *s, char *buf, size_t size) {
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
const char *jh_yw_closest(const char *word, const char *const *cands,
                          size_t n) {
  char snake[HINT_LEN_MAX * 2 + 2];
  size_t len = strlen(word), best = SIZE_MAX, limit;
  const char *found = NULL;

  jh_yw_snake_case(word, snake, sizeof(snake));
  for (size_t i = 0; i < n; i++)
    if (strcmp(snake, cands[i]) == 0)
      return cands[i]; /* the Identity Manager spelling of a key */
  /* short words are all close to each other: hint only real typos */
  limit = len <= 2 ? 0 : len <= 4 ? 1 : len <= 8 ? 2 : 3;
  for (size_t i = 0; i < n; i++) {
    size_t d = jh_yw_edit_distance(word, cands[i]);
    if (d < best) {
      best = d;
      found = cands[i];
    }
  }
  return best <= limit ? found : NULL;
}

/* The names joined with `sep`, malloc'd; NULL when out of memory. */
char *jh_yw_join(const char *const *names, size_t n, const char *sep) {
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

void jh_yw_unknown_key(jh_yw *c, const jh_yfile *f, const jh_yentry *e,
                       const char *const *cands, size_t n) {
  const char *hint = jh_yw_closest(e->key, cands, n);
  char *all;
  if (hint != NULL) {
    jh_yw_err_node(c, f, e->knode, "unknown key '%s' (did you mean '%s'?)",
                   JH_Q(e->key), hint);
    return;
  }
  all = jh_yw_join(cands, n, ", ");
  if (all == NULL)
    c->oom = 1;
  jh_yw_err_node(c, f, e->knode, "unknown key '%s'; expected one of: %s",
                 JH_Q(e->key), all ? all : "?");
  free(all);
}

/* ---- mappings ---- */

/*
 * The entries of a mapping, keys checked: each key must be a scalar, and
 * a key written twice is reported (only its first value is kept). Returns
 * a malloc'd array (free it) and its length in *n, or NULL.
 */
/* Drop the entries whose key was already written (reported, in document
 * order); returns the number kept. */
static size_t drop_duplicates(jh_yw *c, const jh_yfile *f, jh_yentry *es,
                              size_t n) {
  jh_strindex ix;
  size_t *first, k = 0;

  if (n < 2)
    return n;
  first = jh_yw_xcalloc(c, n, sizeof(*first));
  if (first == NULL)
    return 0;
  if (jh_strindex_build(&ix, JH_STRINDEX_FIELD(es, key), n, 0) != 0) {
    c->oom = 1;
    free(first);
    return 0;
  }
  jh_strindex_firsts(&ix, first, n);
  jh_strindex_free(&ix);
  for (size_t i = 0; i < n; i++) {
    const jh_yentry *j = &es[first[i]];
    if (first[i] != i)
      jh_yw_err_node(c, f, es[i].knode,
                     "duplicate key '%s' (first written "
                     "at line %d, column %d): a key may appear once per "
                     "mapping",
                     JH_Q(es[i].key), (int)j->knode->start_mark.line + 1,
                     (int)j->knode->start_mark.column + 1);
  }
  for (size_t i = 0; i < n; i++)
    if (first[i] == i)
      es[k++] = es[i];
  free(first);
  return k;
}

jh_yentry *jh_yw_map_entries(jh_yw *c, const jh_yfile *f, yaml_node_t *map,
                             size_t *n) {
  yaml_node_pair_t *start = map->data.mapping.pairs.start;
  size_t npairs = (size_t)(map->data.mapping.pairs.top - start), k = 0;
  jh_yentry *es = jh_yw_xcalloc(c, npairs, sizeof(*es));
  char got[GOT_SIZE];

  *n = 0;
  if (es == NULL)
    return NULL;
  for (size_t i = 0; i < npairs; i++) {
    yaml_node_t *kn = yaml_document_get_node(f->doc, start[i].key);
    yaml_node_t *vn = yaml_document_get_node(f->doc, start[i].value);
    if (kn->type != YAML_SCALAR_NODE) {
      jh_yw_err_node(c, f, kn, "expected a key (a plain word), got %s",
                     jh_yw_describe(kn, got, sizeof(got)));
      continue;
    }
    es[k].key = jh_yw_scalar(kn);
    es[k].knode = kn;
    es[k].vnode = vn;
    k++;
  }
  *n = drop_duplicates(c, f, es, k);
  return es;
}

jh_yentry *jh_yw_want_mapping(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                              const char *expected, size_t *ne) {
  char got[GOT_SIZE];
  if (n->type != YAML_MAPPING_NODE) {
    jh_yw_err_node(w, f, n, "expected %s, got %s", expected,
                   jh_yw_describe(n, got, sizeof(got)));
    return NULL;
  }
  return jh_yw_map_entries(w, f, n, ne);
}

const jh_yentry *jh_yw_find_entry(const jh_yentry *es, size_t n,
                                  const char *key) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(es[i].key, key) == 0)
      return &es[i];
  return NULL;
}

/* ---- typed values ---- */

/* The text of a non-null scalar, or NULL after saying `expected` was
 * wanted for `key`. */
const char *jh_yw_want_scalar(jh_yw *c, const jh_yfile *f, const yaml_node_t *n,
                              const char *key, const char *expected) {
  char got[GOT_SIZE];
  if (n->type != YAML_SCALAR_NODE || jh_yw_is_null(n)) {
    jh_yw_err_node(c, f, n, "expected %s for '%s', got %s", expected, JH_Q(key),
                   jh_yw_describe(n, got, sizeof(got)));
    return NULL;
  }
  if (strlen(jh_yw_scalar(n)) != n->data.scalar.length) {
    jh_yw_err_node(c, f, n,
                   "expected %s for '%s', got text with a NUL character",
                   expected, JH_Q(key));
    return NULL;
  }
  return jh_yw_scalar(n);
}

/* A copy of a string value into *out. Returns 0 or -1 (reported). */
int jh_yw_want_string(jh_yw *c, const jh_yfile *f, const yaml_node_t *n,
                      const char *key, char **out) {
  const char *s = jh_yw_want_scalar(c, f, n, key, "a string");
  if (s == NULL)
    return -1;
  free(*out);
  *out = jh_yw_xstrdup(c, s);
  return *out ? 0 : -1;
}

/* Identifiers end up in file names and logs: letters, digits, '_', '-' and
 * '.', not starting with '-' or '.'. */
int jh_yw_ident_ok(const char *s) {
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

int jh_yw_want_ident(jh_yw *c, const jh_yfile *f, const yaml_node_t *n,
                     const char *key, char **out) {
  const char *s = jh_yw_want_scalar(c, f, n, key, "an identifier");
  char got[GOT_SIZE];
  if (s == NULL)
    return -1;
  if (!jh_yw_ident_ok(s)) {
    jh_yw_err_node(c, f, n,
                   "expected an identifier for '%s' (letters, digits, "
                   "'_', '-' and '.', not starting with '-' or '.'), got %s",
                   JH_Q(key), jh_yw_describe(n, got, sizeof(got)));
    return -1;
  }
  free(*out);
  *out = jh_yw_xstrdup(c, s);
  return *out ? 0 : -1;
}

/* A decimal integer, whole text. Returns 0 or -1. */
int jh_yw_parse_ll(const char *s, long long *out) {
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
int jh_yw_want_int(jh_yw *c, const jh_yfile *f, const yaml_node_t *n,
                   const char *key, int min, int *out) {
  char expected[48], got[GOT_SIZE];
  const char *s;
  long long v;

  snprintf(expected, sizeof(expected), "an integer >= %d", min);
  s = jh_yw_want_scalar(c, f, n, key, expected);
  if (s == NULL)
    return -1;
  if (jh_yw_parse_ll(s, &v) != 0 || v < min || v > INT_MAX) {
    jh_yw_err_node(c, f, n, "expected %s for '%s', got %s", expected, JH_Q(key),
                   jh_yw_describe(n, got, sizeof(got)));
    return -1;
  }
  *out = (int)v;
  return 0;
}

/* Booleans as Identity Manager writes them. Returns 0/1, or -1. */
int jh_yw_parse_bool(const char *s) {
  if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "1") == 0)
    return 1;
  if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "0") == 0)
    return 0;
  return -1;
}

int jh_yw_want_bool(jh_yw *c, const jh_yfile *f, const yaml_node_t *n,
                    const char *key, int *out) {
  const char *s = jh_yw_want_scalar(c, f, n, key, BOOL_EXPECTED);
  char got[GOT_SIZE];
  int b;
  if (s == NULL)
    return -1;
  b = jh_yw_parse_bool(s);
  if (b < 0) {
    jh_yw_err_node(c, f, n, "expected %s for '%s', got %s", BOOL_EXPECTED,
                   JH_Q(key), jh_yw_describe(n, got, sizeof(got)));
    return -1;
  }
  *out = b;
  return 0;
}

int jh_yw_want_duration(jh_yw *c, const jh_yfile *f, const yaml_node_t *n,
                        const char *key, long *out) {
  const char *s = jh_yw_want_scalar(c, f, n, key, JH_DURATION_EXPECTED);
  char got[GOT_SIZE];
  if (s == NULL)
    return -1;
  if (jh_duration_parse(s, out) != 0) {
    jh_yw_err_node(c, f, n, "expected %s for '%s', got %s",
                   JH_DURATION_EXPECTED, JH_Q(key),
                   jh_yw_describe(n, got, sizeof(got)));
    return -1;
  }
  return 0;
}

/* One of `choices`; the index in *out. */
int jh_yw_want_choice(jh_yw *c, const jh_yfile *f, const yaml_node_t *n,
                      const char *key, const char *const *choices,
                      size_t nchoices, size_t *out) {
  const char *s = jh_yw_want_scalar(c, f, n, key, "a value");
  const char *hint;
  char got[GOT_SIZE], *all;

  if (s == NULL)
    return -1;
  for (size_t i = 0; i < nchoices; i++)
    if (strcmp(s, choices[i]) == 0) {
      *out = i;
      return 0;
    }
  all = jh_yw_join(choices, nchoices, ", ");
  if (all == NULL)
    c->oom = 1;
  hint = jh_yw_closest(s, choices, nchoices);
  if (hint != NULL)
    jh_yw_err_node(c, f, n,
                   "expected one of %s for '%s', got %s (did you mean "
                   "'%s'?)",
                   all ? all : "?", JH_Q(key),
                   jh_yw_describe(n, got, sizeof(got)), hint);
  else
    jh_yw_err_node(c, f, n, "expected one of %s for '%s', got %s",
                   all ? all : "?", JH_Q(key),
                   jh_yw_describe(n, got, sizeof(got)));
  free(all);
  return -1;
}

/*
 * The scalar items of a list value: a sequence of strings (every item is
 * checked), or one string standing for a one-item list. Returns a malloc'd
 * array of borrowed nodes (free it) with their number in *count, or NULL
 * with -1 in *count after reporting.
 */
yaml_node_t **jh_yw_want_list(jh_yw *c, const jh_yfile *f, yaml_node_t *n,
                              const char *key, long *count) {
  yaml_node_item_t *start;
  yaml_node_t **items;
  size_t len;
  int bad = 0;

  *count = -1;
  if (n->type == YAML_SCALAR_NODE) {
    if (jh_yw_want_scalar(c, f, n, key, "a list of strings (or one string)") ==
        NULL)
      return NULL;
    items = jh_yw_xcalloc(c, 1, sizeof(*items));
    if (items != NULL) {
      items[0] = n;
      *count = 1;
    }
    return items;
  }
  if (n->type != YAML_SEQUENCE_NODE) {
    char got[GOT_SIZE];
    jh_yw_err_node(c, f, n,
                   "expected a list of strings (or one string) for '%s', "
                   "got %s",
                   JH_Q(key), jh_yw_describe(n, got, sizeof(got)));
    return NULL;
  }
  start = n->data.sequence.items.start;
  len = (size_t)(n->data.sequence.items.top - start);
  items = jh_yw_xcalloc(c, len, sizeof(*items));
  if (items == NULL)
    return NULL;
  for (size_t i = 0; i < len; i++) {
    items[i] = yaml_document_get_node(f->doc, start[i]);
    if (jh_yw_want_scalar(c, f, items[i], key, "a string in the list") == NULL)
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
int jh_yw_copy_items(jh_yw *c, const jh_yfile *f, yaml_node_t **nodes, size_t n,
                     char ***out, jh_loc **locs) {
  *out = jh_yw_xcalloc(c, n, sizeof(**out));
  if (locs != NULL)
    *locs = jh_yw_xcalloc(c, n, sizeof(**locs));
  if (*out == NULL || (locs != NULL && *locs == NULL))
    return -1;
  for (size_t i = 0; i < n; i++) {
    (*out)[i] = jh_yw_xstrdup(c, jh_yw_scalar(nodes[i]));
    if ((*out)[i] == NULL)
      return -1;
    if (locs != NULL)
      (*locs)[i] = jh_yw_node_loc(f, nodes[i]);
  }
  return 0;
}

char *jh_yw_resolve_path(jh_yw *w, const char *file, const char *value) {
  char *dir, *real, *out = NULL;
  const char *slash;

  if (value[0] == '/')
    return jh_yw_xstrdup(w, value);
  slash = strrchr(file, '/');
  dir = slash == NULL ? strdup(".") : strndup(file, (size_t)(slash - file));
  if (dir == NULL) {
    w->oom = 1;
    return NULL;
  }
  real = realpath(dir, NULL);
  if (asprintf(&out, "%s/%s", real != NULL ? real : dir, value) < 0) {
    out = NULL;
    w->oom = 1;
  }
  free(real);
  free(dir);
  return out;
}

int jh_yw_want_path(jh_yw *w, const jh_yfile *f, const yaml_node_t *n,
                    const char *key, char **out) {
  const char *s = jh_yw_want_scalar(w, f, n, key, "a path");
  if (s == NULL)
    return -1;
  free(*out);
  *out = jh_yw_resolve_path(w, f->name, s);
  return *out ? 0 : -1;
}
