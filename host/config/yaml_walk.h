/*
 * yaml_walk.h — checked reading of composed libyaml documents, shared by
 * the pipeline loader (pipeline.c) and the model loader (model_load.c).
 *
 * Every helper reports what it rejects as a diagnostic with file:line:
 * column (libyaml marks are 0-based, diagnostics 1-based) and what was
 * expected, and returns a failure value; the caller goes on walking, so
 * one load reports every problem. Allocation failure sets w->oom.
 */
#ifndef JH_YAML_WALK_H
#define JH_YAML_WALK_H

#include <stddef.h>

#include <yaml.h>

#include <jobhost/jobhost.h>

#include "diag.h"
#include "pipeline.h"

/* Keys longer than this get no "did you mean" hint. */
#define HINT_LEN_MAX 64
/* Size of a buffer for jh_yw_describe: a quoted excerpt (diag.h). */
#define GOT_SIZE (JH_QUOTE_SIZE + 4)

#define BOOL_EXPECTED "a boolean (true, false, True, False, 1 or 0)"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Where diagnostics go. */
typedef struct jh_yw {
  jh_diags *diags;
  int oom;
} jh_yw;

/* One composed YAML file. */
typedef struct jh_yfile {
  const char *name; /* as shown in diagnostics; owned by the loader */
  yaml_document_t *doc;
  const char *text; /* the file's text (borrowed), to find where a block
                       scalar's lines are written; NULL when not kept */
  size_t len;
} jh_yfile;

/* A key of a mapping and its value, keys checked for duplicates. */
typedef struct jh_yentry {
  const char *key;
  yaml_node_t *knode;
  yaml_node_t *vnode;
} jh_yentry;

/* Allocation that sets w->oom on failure. */
char *jh_yw_xstrdup(jh_yw *w, const char *s);
void *jh_yw_xcalloc(jh_yw *w, size_t n, size_t size);

jh_loc jh_yw_node_loc(const jh_yfile *f, const yaml_node_t *n);
void jh_yw_err_at(jh_yw *w, jh_loc l, const char *fmt, ...)
    JOBHOST_PRINTF(3, 4);
void jh_yw_err_node(jh_yw *w, const jh_yfile *f, const yaml_node_t *n,
                    const char *fmt, ...) JOBHOST_PRINTF(4, 5);

/* The text of a scalar node (borrowed). */
const char *jh_yw_scalar(const yaml_node_t *n);
/* A plain empty scalar or `~`: what YAML reads as null. */
int jh_yw_is_null(const yaml_node_t *n);
/* How a value is shown after "got": a kind, or the quoted text (cut). */
const char *jh_yw_describe(const yaml_node_t *n, char *buf, size_t size);

/* "IgnoreCookieFile" -> "ignore_cookie_file" into buf (cut to size). */
void jh_yw_snake_case(const char *s, char *buf, size_t size);
/* The candidate closest to `word`, or NULL when none is close enough. */
const char *jh_yw_closest(const char *word, const char *const *cands, size_t n);
/* The names joined with `sep`, malloc'd; NULL when out of memory. */
char *jh_yw_join(const char *const *names, size_t n, const char *sep);
/* Report an unknown key with the closest candidate or the list. */
void jh_yw_unknown_key(jh_yw *w, const jh_yfile *f, const jh_yentry *e,
                       const char *const *cands, size_t n);

/* The entries of a mapping, keys checked (non-scalar and duplicate keys
 * reported; a duplicate's value is dropped). Returns a malloc'd array
 * (caller frees) and its length in *n, or NULL. */
jh_yentry *jh_yw_map_entries(jh_yw *w, const jh_yfile *f, yaml_node_t *map,
                             size_t *n);
/* jh_yw_map_entries of n when it is a mapping; otherwise NULL after
 * reporting "expected <expected>, got ...". */
jh_yentry *jh_yw_want_mapping(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                              const char *expected, size_t *ne);
const jh_yentry *jh_yw_find_entry(const jh_yentry *es, size_t n,
                                  const char *key);

/* Typed values. The want_* helpers report and return NULL / -1. */
const char *jh_yw_want_scalar(jh_yw *w, const jh_yfile *f, const yaml_node_t *n,
                              const char *key, const char *expected);
int jh_yw_want_string(jh_yw *w, const jh_yfile *f, const yaml_node_t *n,
                      const char *key, char **out);
/* Identifiers: letters, digits, '_', '-', '.', not starting with '-'/'.'. */
int jh_yw_ident_ok(const char *s);
int jh_yw_want_ident(jh_yw *w, const jh_yfile *f, const yaml_node_t *n,
                     const char *key, char **out);
int jh_yw_parse_ll(const char *s, long long *out);
int jh_yw_want_int(jh_yw *w, const jh_yfile *f, const yaml_node_t *n,
                   const char *key, int min, int *out);
/* Booleans as Identity Manager writes them: 0/1, or -1. */
int jh_yw_parse_bool(const char *s);
int jh_yw_want_bool(jh_yw *w, const jh_yfile *f, const yaml_node_t *n,
                    const char *key, int *out);
/* A duration as lib/timefmt.h parses it. */
int jh_yw_want_duration(jh_yw *w, const jh_yfile *f, const yaml_node_t *n,
                        const char *key, long *out);
int jh_yw_want_choice(jh_yw *w, const jh_yfile *f, const yaml_node_t *n,
                      const char *key, const char *const *choices,
                      size_t nchoices, size_t *out);
/* The scalar items of a list value (a sequence of strings, or one string
 * for a one-item list): a malloc'd array of borrowed nodes and *count, or
 * NULL with *count -1 after reporting. */
yaml_node_t **jh_yw_want_list(jh_yw *w, const jh_yfile *f, yaml_node_t *n,
                              const char *key, long *count);
/* `value` made absolute against the folder of `file` (malloc'd). */
char *jh_yw_resolve_path(jh_yw *w, const char *file, const char *value);
/* A path value, made absolute against the folder of the file. */
int jh_yw_want_path(jh_yw *w, const jh_yfile *f, const yaml_node_t *n,
                    const char *key, char **out);
/* Copies of the texts of list items, with their locations (locs may be
 * NULL). */
int jh_yw_copy_items(jh_yw *w, const jh_yfile *f, yaml_node_t **nodes, size_t n,
                     char ***out, jh_loc **locs);

#endif /* JH_YAML_WALK_H */
