/*
 * xml_import.c — see xml_import.h.
 *
 * Three passes over the parsed files: collect the top-level elements
 * (connectors, connections, jobs, declared tasks), build the job's task
 * list (inline tasks, Steps, overrides; ids), then write the YAML. Each
 * YAML line records the XML place it comes from, so that the pipeline
 * loader's diagnostics can be moved back onto the XML
 * (jh_xml_pipeline_load, in xml_load.c). Checks are made while writing,
 * so a left-out part is reported and commented at the same place.
 *
 * Strings made during an import (attribute values, messages) live in a
 * pool freed at the end; on out of memory the pool hands out "?" and the
 * import returns -ENOMEM.
 */
#include "config.h"

#include "xml_import.h"
#include "xml_scaffold.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include <jobhost/jobhost.h>

#include "model.h"
#include "xml_mem.h"
#include "xml_model.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Prefixes of the YAML lines, by place. */
#define P_TOP ""
#define P_ITEM "  - "        /* first line of a connector or connection */
#define P_FIELD "    "       /* other lines of one */
#define P_SUB "      "       /* lines of a connector's thresholds */
#define P_JOB "  "           /* keys of the job */
#define P_TASK "    - "      /* first line of a task */
#define P_TFIELD "      "    /* other lines of a task */
#define P_TLIST "        - " /* items of a task's list */

/* An element of one of the input files. */
typedef jh_xml_node xnode;
typedef jh_xml_nodes xnodes;

/* A task of the job. */
typedef struct xtask {
  xnode el;       /* the task element (inline, or declared at the top level) */
  xnode over;     /* the override naming it (n NULL: none) */
  xnode step;     /* the Step naming it (n NULL: none) */
  xnode ref;      /* where the job names it: el, the Step or the override */
  const char *id; /* explicit or made; pooled */
  const char *made_from; /* the id the scheme gave, when the id was made */
  const jobhost_task_type *tt;
  int dropped; /* left out: no plugin provides the type */
} xtask;

/* The YAML being written, with the origin of each line. */
typedef struct emitter {
  char *buf;
  size_t len, cap;
  jh_xml_origin *org;
  size_t nlines, cap_lines;
} emitter;

typedef struct ctx {
  const jh_registry *reg;
  jh_xml_options opt;
  jh_diags *diags;
  size_t diag_first;
  size_t errors_before;
  jh_xml_file *files;
  size_t nfiles;
  jh_xml_pool mem; /* strings kept, arrays grown, out of memory */
  xnodes connectors, connections, jobs, decls;
  xnodes left_out;     /* top-level elements not imported */
  xnodes job_left_out; /* children of the job not imported */
  int bad_roots;       /* files whose root is not ConfigurationFile */
  size_t job_entries;  /* children of the job that name a task */
  xnode job;
  xnodes scaffolds; /* Create...Synchro... elements (xml_scaffold.c) */
  xtask *tasks;
  size_t ntasks, cap_tasks;
  emitter em;
} ctx;

/* ---- names and values ---- */

static const char *name_of(const xmlNode *n) { return (const char *)n->name; }

static int is_im(const xmlNode *n) {
  return n->ns != NULL && n->ns->href != NULL &&
         strcmp((const char *)n->ns->href, JH_XML_NAMESPACE) == 0;
}

static int ends_with(const char *s, const char *suffix) {
  size_t ls = strlen(s), lx = strlen(suffix);
  return ls > lx && strcmp(s + ls - lx, suffix) == 0;
}

static int is_blank(const xmlChar *s) {
  for (; s != NULL && *s != '\0'; s++)
    if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
      return 0;
  return 1;
}

/* An attribute's name as written (prefix:name when it has a namespace). */
static const char *attr_name(ctx *c, const xmlAttr *a) {
  if (a->ns != NULL && a->ns->prefix != NULL)
    return jh_xml_fmt(&c->mem, "%s:%s", a->ns->prefix, a->name);
  return (const char *)a->name;
}

static const char *elem_name(ctx *c, const xmlNode *n) {
  if (n->ns != NULL && n->ns->prefix != NULL)
    return jh_xml_fmt(&c->mem, "%s:%s", n->ns->prefix, n->name);
  return name_of(n);
}

static const char *attr_value(ctx *c, const xmlAttr *a) {
  xmlChar *v = xmlNodeListGetString(a->doc, a->children, 1);
  char *s = strdup(v != NULL ? (const char *)v : "");
  xmlFree(v);
  return jh_xml_keep(&c->mem, s);
}

static const xmlAttr *find_attr(const xmlNode *n, const char *name) {
  for (const xmlAttr *a = n->properties; a != NULL; a = a->next)
    if (a->ns == NULL && strcmp((const char *)a->name, name) == 0)
      return a;
  return NULL;
}

/* The value of attribute `name` of n (no namespace), or NULL. */
static const char *get(ctx *c, const xmlNode *n, const char *name) {
  const xmlAttr *a = find_attr(n, name);
  return a != NULL ? attr_value(c, a) : NULL;
}

/* 1 for DisplayName_L1, 2..16 for the other languages, 0 otherwise. */
static int display_lang(const char *name) {
  char *end;
  long l;
  if (strncmp(name, "DisplayName_L", 13) != 0 || name[13] < '1' ||
      name[13] > '9')
    return 0;
  l = strtol(name + 13, &end, 10);
  return *end == '\0' && l >= 1 && l <= 16 ? (int)l : 0;
}

char *jh_xml_snake(const char *name) {
  size_t n = strlen(name), k = 0;
  char *out = malloc(2 * n + 1);
  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)name[i];
    if (ch >= 'A' && ch <= 'Z') {
      unsigned char prev = i > 0 ? (unsigned char)name[i - 1] : '_';
      unsigned char next = (unsigned char)name[i + 1];
      int prev_low = (prev >= 'a' && prev <= 'z') ||
                     (prev >= '0' && prev <= '9');
      int prev_up = prev >= 'A' && prev <= 'Z';
      int next_low = next >= 'a' && next <= 'z';
      if (prev_low || (prev_up && next_low))
        out[k++] = '_';
      out[k++] = (char)(ch - 'A' + 'a');
    } else {
      out[k++] = (char)ch;
    }
  }
  out[k] = '\0';
  return out;
}

static const char *snake(ctx *c, const char *name) {
  return jh_xml_keep(&c->mem, jh_xml_snake(name));
}

/* The XML attribute name of a parameter key (its snake_case inverse). */
static const char *xml_name(ctx *c, const char *key) {
  char *out;
  size_t k = 0;
  int up = 1;
  if (strcmp(key, "prepare_type") == 0)
    return "Type";
  out = malloc(strlen(key) + 1);
  if (out == NULL)
    return jh_xml_keep(&c->mem, NULL);
  for (const char *p = key; *p != '\0'; p++) {
    if (*p == '_') {
      up = 1;
      continue;
    }
    out[k++] = up && *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
    up = 0;
  }
  out[k] = '\0';
  return jh_xml_keep(&c->mem, out);
}

static int parse_bool(const char *s, int *out) {
  if (strcmp(s, "1") == 0 || strcasecmp(s, "true") == 0)
    *out = 1;
  else if (strcmp(s, "0") == 0 || strcasecmp(s, "false") == 0)
    *out = 0;
  else
    return -1;
  return 0;
}

/* A decimal integer within [min, INT_MAX]. */
static int parse_int(const char *s, long min, long *out) {
  char *end;
  long v;
  if (!((s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '+'))
    return -1;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min || v > INT_MAX)
    return -1;
  *out = v;
  return 0;
}

/* Text the pipeline loader reads as an integer parameter. */
static int int_text_ok(const char *s) {
  char *end;
  if (!((s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '+'))
    return 0;
  errno = 0;
  (void)strtoll(s, &end, 10);
  return errno == 0 && end != s && *end == '\0';
}

const char *jh_xml_package(const char *im_package) {
  static const struct {
    const char *im, *jh;
  } map[] = {{"Usercube.CSV", "csv"},
             {"Usercube.CSV.Complete", "csv"},
             {"Usercube.LDAP", "ldap"},
             {"Usercube.AD", "ldap"}};
  const char *at = strchr(im_package, '@');
  size_t len = at != NULL ? (size_t)(at - im_package) : strlen(im_package);
  for (size_t i = 0; i < NELEM(map); i++)
    if (strlen(map[i].im) == len &&
        strncasecmp(im_package, map[i].im, len) == 0)
      return map[i].jh;
  return NULL;
}

/* ---- places and diagnostics ---- */

static jh_xml_pos node_pos(const ctx *c, xnode x) {
  return jh_xml_node_pos(&c->files[x.fi], x.n);
}

static jh_xml_pos attr_pos(const ctx *c, size_t fi, const xmlAttr *a) {
  return jh_xml_attr_pos(&c->files[fi], a);
}

static jh_xml_origin origin(size_t fi, jh_xml_pos p) {
  jh_xml_origin o;
  o.file = (int)fi;
  o.line = p.line;
  o.column = p.column;
  return o;
}

static jh_xml_origin node_origin(const ctx *c, xnode x) {
  return origin(x.fi, node_pos(c, x));
}

static jh_xml_origin attr_origin(const ctx *c, size_t fi, const xmlAttr *a) {
  return origin(fi, attr_pos(c, fi, a));
}

static void vreport(ctx *c, jh_severity sev, size_t fi, jh_xml_pos p,
                    const char *suffix, const char *fmt, va_list ap) {
  char *msg = NULL;
  if (vasprintf(&msg, fmt, ap) < 0) {
    c->mem.oom = 1;
    jh_diag_add(c->diags, sev, c->files[fi].path, p.line, p.column,
                "out of memory");
    return;
  }
  jh_diag_add(c->diags, sev, c->files[fi].path, p.line, p.column, "%s%s", msg,
              suffix);
  free(msg);
}

static void report_at(ctx *c, jh_severity sev, size_t fi, jh_xml_pos p,
                      const char *fmt, ...) JOBHOST_PRINTF(5, 6);
static void report_at(ctx *c, jh_severity sev, size_t fi, jh_xml_pos p,
                      const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(c, sev, fi, p, "", fmt, ap);
  va_end(ap);
}

/* error_at(c, fi, p, fmt, ...) */
#define error_at(c, ...) report_at((c), JH_DIAG_ERROR, __VA_ARGS__)

/* Something jobhost does not support: an error, or a warning with
 * --lenient (the part is then left out, as a comment). */
static void unsupported(ctx *c, size_t fi, jh_xml_pos p, const char *fmt, ...)
    JOBHOST_PRINTF(4, 5);
static void unsupported(ctx *c, size_t fi, jh_xml_pos p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (c->opt.lenient)
    vreport(c, JH_DIAG_WARNING, fi, p, "; left out (kept as a comment)", fmt,
            ap);
  else
    vreport(c, JH_DIAG_ERROR, fi, p,
            " (--lenient imports the rest and keeps it as a comment)", fmt, ap);
  va_end(ap);
}

/* ---- the YAML emitter ---- */

static void em_put(ctx *c, const char *s, size_t n) {
  emitter *e = &c->em;
  char *buf = jh_xml_grow(&c->mem, e->buf, &e->cap, e->len + n + 1, 1);
  if (buf == NULL)
    return;
  e->buf = buf;
  memcpy(e->buf + e->len, s, n);
  e->len += n;
  e->buf[e->len] = '\0';
}

static void em_puts(ctx *c, const char *s) { em_put(c, s, strlen(s)); }

/* End the current line; it comes from o. */
static void em_end(ctx *c, jh_xml_origin o) {
  emitter *e = &c->em;
  jh_xml_origin *org;
  em_put(c, "\n", 1);
  org = jh_xml_grow(&c->mem, e->org, &e->cap_lines, e->nlines + 1,
                    sizeof(*e->org));
  if (org == NULL)
    return;
  e->org = org;
  e->org[e->nlines++] = o;
}

/* A scalar that YAML reads back as the same string without quotes. */
static int plain_ok(const char *s) {
  /* YAML 1.1 words another reader could take for a boolean or null;
   * "true" and "false" stay plain: they are the booleans written */
  static const char *const words[] = {"yes",  "no", "on", "off",
                                      "null", "y",  "n"};
  unsigned char first = (unsigned char)s[0];
  if (!((first >= 'A' && first <= 'Z') || (first >= 'a' && first <= 'z') ||
        (first >= '0' && first <= '9') || first == '_' || first == '/'))
    return 0;
  for (const char *p = s; *p != '\0'; p++) {
    unsigned char ch = (unsigned char)*p;
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
          (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.' ||
          ch == '/'))
      return 0;
  }
  for (size_t i = 0; i < NELEM(words); i++)
    if (strcasecmp(s, words[i]) == 0)
      return 0;
  return 1;
}

/* Length of a character YAML may not hold raw (C0/C1 controls, DEL, the
 * Unicode line breaks NEL, LS, PS, and the BOM) at s, with its escape in
 * esc; 0 when s holds an ordinary character. */
static size_t special_char(const unsigned char *s, char *esc, size_t size) {
  if (s[0] < 0x20 || s[0] == 0x7F) {
    snprintf(esc, size, "\\x%02X", s[0]);
    return 1;
  }
  if (s[0] == 0xC2 && s[1] >= 0x80 && s[1] <= 0x9F) {
    snprintf(esc, size, "\\x%02X", s[1]);
    return 2;
  }
  if (s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9)) {
    snprintf(esc, size, "%s", s[2] == 0xA8 ? "\\L" : "\\P");
    return 3;
  }
  if (s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
    snprintf(esc, size, "\\uFEFF");
    return 3;
  }
  return 0;
}

static void em_scalar(ctx *c, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  char esc[8];
  if (plain_ok(s)) {
    em_puts(c, s);
    return;
  }
  em_put(c, "\"", 1);
  while (*p != '\0') {
    size_t n = special_char(p, esc, sizeof(esc));
    if (n > 0) {
      em_puts(c, esc);
      p += n;
    } else if (*p == '"' || *p == '\\') {
      em_put(c, "\\", 1);
      em_put(c, (const char *)p++, 1);
    } else {
      em_put(c, (const char *)p++, 1);
    }
  }
  em_put(c, "\"", 1);
}

/* Text in a comment: characters YAML would take as a line break, or
 * refuse, become spaces. */
static void em_comment_text(ctx *c, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  char esc[8];
  while (*p != '\0') {
    size_t n = special_char(p, esc, sizeof(esc));
    if (n > 0) {
      em_put(c, " ", 1);
      p += n;
    } else {
      em_put(c, (const char *)p++, 1);
    }
  }
}

/* "PREFIXkey: value" */
static void em_key(ctx *c, jh_xml_origin o, const char *prefix, const char *key,
                   const char *value) {
  em_puts(c, prefix);
  em_puts(c, key);
  em_puts(c, ": ");
  em_scalar(c, value);
  em_end(c, o);
}

/* "PREFIXkey:" opening a block */
static void em_block(ctx *c, jh_xml_origin o, const char *prefix,
                     const char *key) {
  em_puts(c, prefix);
  em_puts(c, key);
  em_puts(c, ":");
  em_end(c, o);
}

static void em_item(ctx *c, jh_xml_origin o, const char *prefix,
                    const char *value) {
  em_puts(c, prefix);
  em_scalar(c, value);
  em_end(c, o);
}

/* "INDENT# text" where INDENT is as wide as prefix. */
static void em_comment(ctx *c, jh_xml_origin o, const char *prefix,
                       const char *fmt, ...) JOBHOST_PRINTF(4, 5);
static void em_comment(ctx *c, jh_xml_origin o, const char *prefix,
                       const char *fmt, ...) {
  va_list ap;
  char *text = NULL;
  int rc;
  for (const char *p = prefix; *p != '\0'; p++)
    em_put(c, " ", 1);
  va_start(ap, fmt);
  rc = vasprintf(&text, fmt, ap);
  va_end(ap);
  if (rc < 0) {
    c->mem.oom = 1;
    return;
  }
  em_puts(c, "# ");
  em_comment_text(c, text);
  free(text);
  em_end(c, o);
}

/* The comment left for an attribute that is not imported. */
static void em_left_out_attr(ctx *c, size_t fi, const xmlAttr *a,
                             const char *prefix) {
  em_comment(c, attr_origin(c, fi, a), prefix, "left out: %s=\"%s\"",
             attr_name(c, a), attr_value(c, a));
}

static void em_left_out_node(ctx *c, xnode x, const char *prefix,
                             const char *why) {
  jh_xml_pos p = node_pos(c, x);
  const char *id = get(c, x.n, "Identifier");
  em_comment(c, origin(x.fi, p), prefix, "left out: <%s%s%s%s> at %s:%d (%s)",
             elem_name(c, x.n), id ? " Identifier=\"" : "", id ? id : "",
             id ? "\"" : "", c->files[x.fi].path, p.line, why);
}

/* An attribute in a foreign namespace, or text inside an element: never
 * supported. Returns nonzero when a was one (and is reported). */
static int foreign_attr(ctx *c, size_t fi, const xmlAttr *a, const char *in,
                        const char *prefix) {
  if (a->ns == NULL)
    return 0;
  unsupported(c, fi, attr_pos(c, fi, a),
              "unsupported attribute '%s' on %s: attributes in another "
              "namespace are not read",
              attr_name(c, a), in);
  em_left_out_attr(c, fi, a, prefix);
  return 1;
}

static void check_text(ctx *c, size_t fi, const xmlNode *t, const char *in,
                       const char *prefix) {
  xnode x;
  if (is_blank(t->content))
    return;
  x.fi = fi;
  x.n = (xmlNode *)t->parent;
  unsupported(c, fi, node_pos(c, x),
              "unsupported text inside %s: it contains elements only", in);
  em_comment(c, node_origin(c, x), prefix, "left out: the text inside %s", in);
}

/* ---- collect the top level ---- */

static void collect_child(ctx *c, size_t fi, xmlNode *n) {
  xnode x = {fi, n};
  const char *name = name_of(n);
  if (!is_im(n)) {
    unsupported(c, fi, node_pos(c, x),
                "unsupported element '%s' in ConfigurationFile: not in "
                "namespace %s",
                elem_name(c, n), JH_XML_NAMESPACE);
    jh_xml_push(&c->mem, &c->left_out, fi, n);
  } else if (strcmp(name, "Connector") == 0) {
    jh_xml_push(&c->mem, &c->connectors, fi, n);
  } else if (strcmp(name, "Connection") == 0) {
    jh_xml_push(&c->mem, &c->connections, fi, n);
  } else if (strcmp(name, "Job") == 0) {
    jh_xml_push(&c->mem, &c->jobs, fi, n);
  } else if (jh_xml_scaffold_kind(name) != NULL) {
    jh_xml_push(&c->mem, &c->scaffolds, fi, n);
  } else if (ends_with(name, "Task")) {
    jh_xml_push(&c->mem, &c->decls, fi, n);
  } else if (jh_xml_model_element(name)) {
    /* imported by xml_model.c (write_model) */
  } else {
    unsupported(c, fi, node_pos(c, x),
                "unsupported element '%s' in ConfigurationFile; jobhost "
                "reads Connector, Connection, Job, task elements "
                "(...Task) and the model elements (EntityType, ...)",
                name);
    jh_xml_push(&c->mem, &c->left_out, fi, n);
  }
}

static void collect_file(ctx *c, size_t fi) {
  xmlNode *root = xmlDocGetRootElement(c->files[fi].doc);
  xnode x = {fi, root};

  if (root == NULL) {
    c->bad_roots++;
    error_at(c, fi, (jh_xml_pos){0, 0},
             "no root element: expected "
             "<ConfigurationFile xmlns=\"%s\">",
             JH_XML_NAMESPACE);
    return;
  }
  if (!is_im(root) || strcmp(name_of(root), "ConfigurationFile") != 0) {
    c->bad_roots++;
    error_at(c, fi, node_pos(c, x),
             "expected the root element ConfigurationFile in namespace %s "
             "(an Identity Manager configuration file), got <%s>%s%s",
             JH_XML_NAMESPACE, elem_name(c, root),
             root->ns ? " in namespace " : " in no namespace",
             root->ns && root->ns->href ? (const char *)root->ns->href : "");
    return;
  }
  for (const xmlAttr *a = root->properties; a != NULL; a = a->next)
    unsupported(c, fi, attr_pos(c, fi, a),
                "unsupported attribute '%s' on ConfigurationFile: it takes "
                "none",
                attr_name(c, a));
  for (xmlNode *n = root->children; n != NULL; n = n->next) {
    if (n->type == XML_ELEMENT_NODE) {
      collect_child(c, fi, n);
    } else if (n->type == XML_TEXT_NODE && !is_blank(n->content)) {
      unsupported(c, fi, node_pos(c, x),
                  "unsupported text inside "
                  "ConfigurationFile: it contains elements only");
    }
  }
}

/* ---- the job and its tasks ---- */

static void list_jobs(ctx *c, char *buf, size_t size) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < c->jobs.n && used < size; i++) {
    const char *id = get(c, c->jobs.v[i].n, "Identifier");
    int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
                     id ? id : "(no Identifier)");
    if (n < 0)
      break;
    used += (size_t)n;
  }
}

/* Choose the job to import. Returns 0, or -1 (reported). */
static int select_job(ctx *c) {
  char ids[512];
  if (c->jobs.n == 0) {
    xnode root = {0, xmlDocGetRootElement(c->files[0].doc)};
    if (c->bad_roots == 0)
      error_at(c, 0, node_pos(c, root),
               "no Job element: expected a <Job Identifier=\"...\"> with its "
               "tasks in ConfigurationFile");
    return -1;
  }
  list_jobs(c, ids, sizeof(ids));
  if (c->opt.job != NULL) {
    for (size_t i = 0; i < c->jobs.n; i++) {
      const char *id = get(c, c->jobs.v[i].n, "Identifier");
      if (id != NULL && strcmp(id, c->opt.job) == 0) {
        c->job = c->jobs.v[i];
        return 0;
      }
    }
    error_at(c, 0, (jh_xml_pos){0, 0}, "no Job with Identifier '%s'; jobs: %s",
             JH_Q(c->opt.job), ids);
    return -1;
  }
  if (c->jobs.n > 1) {
    error_at(c, c->jobs.v[1].fi, node_pos(c, c->jobs.v[1]),
             "%zu jobs found (%s): a pipeline holds one job; choose one with "
             "'jobhost import-xml --job ID'",
             c->jobs.n, ids);
    return -1;
  }
  c->job = c->jobs.v[0];
  if (get(c, c->job.n, "Identifier") == NULL) {
    error_at(c, c->job.fi, node_pos(c, c->job),
             "missing Identifier on Job: expected the job's identifier");
    return -1;
  }
  return 0;
}

/* The declared (top-level) task with this Identifier, of element
 * `element` when not NULL. */
static const xnode *find_decl(ctx *c, const char *id, const char *element) {
  for (size_t i = 0; i < c->decls.n; i++) {
    const char *did = get(c, c->decls.v[i].n, "Identifier");
    if (did != NULL && strcmp(did, id) == 0 &&
        (element == NULL || strcmp(name_of(c->decls.v[i].n), element) == 0))
      return &c->decls.v[i];
  }
  return NULL;
}

static xtask *add_task(ctx *c, xnode el, xnode ref) {
  xtask *t, *grown = jh_xml_grow(&c->mem, c->tasks, &c->cap_tasks,
                                 c->ntasks + 1, sizeof(*c->tasks));
  if (grown == NULL)
    return NULL;
  c->tasks = grown;
  t = &c->tasks[c->ntasks++];
  memset(t, 0, sizeof(*t));
  t->el = el;
  t->ref = ref;
  t->id = get(c, el.n, "Identifier");
  return t;
}

/* <Step Identifier="TaskId" Level="n"/> (Task= is the property's name in
 * the documentation). Other attributes are checked when it is written. */
static void step_task(ctx *c, xnode step) {
  const char *by_id = get(c, step.n, "Identifier");
  const char *by_task = get(c, step.n, "Task");
  const char *id = by_id ? by_id : by_task;
  const xnode *decl;
  xtask *t;

  if (by_id != NULL && by_task != NULL) {
    error_at(c, step.fi, node_pos(c, step),
             "Step has both Identifier and Task: write one, the task's "
             "identifier");
    return;
  }
  if (id == NULL) {
    error_at(c, step.fi, node_pos(c, step),
             "missing Identifier on Step: expected the identifier of a "
             "task declared at the top level");
    return;
  }
  decl = find_decl(c, id, NULL);
  if (decl == NULL) {
    error_at(c, step.fi, node_pos(c, step),
             "Step names task '%s', which no file declares at the top level "
             "of ConfigurationFile",
             JH_Q(id));
    return;
  }
  t = add_task(c, *decl, step);
  if (t != NULL)
    t->step = step;
}

/* <XxxTaskOverride Identifier="TaskId" Attr="new"/>. */
static void override_task(ctx *c, xnode over) {
  const char *name = name_of(over.n);
  const char *base = jh_xml_fmt(&c->mem, "%.*s", (int)(strlen(name) - 8), name);
  const char *id = get(c, over.n, "Identifier");
  const xnode *decl;
  xtask *t;

  if (id == NULL) {
    error_at(c, over.fi, node_pos(c, over),
             "missing Identifier on %s: expected the identifier of the "
             "top-level %s it changes",
             name, base);
    return;
  }
  decl = find_decl(c, id, base);
  if (decl == NULL) {
    const xnode *other = find_decl(c, id, NULL);
    if (other != NULL)
      error_at(c, over.fi, node_pos(c, over),
               "%s names '%s', which is a %s, not a %s", name, JH_Q(id),
               name_of(other->n), base);
    else
      error_at(c, over.fi, node_pos(c, over),
               "%s names '%s', but no file declares a %s with that "
               "Identifier at the top level",
               name, JH_Q(id), base);
    return;
  }
  t = add_task(c, *decl, over);
  if (t != NULL)
    t->over = over;
}

static void build_tasks(ctx *c) {
  for (xmlNode *n = c->job.n->children; n != NULL && !c->mem.oom; n = n->next) {
    xnode x = {c->job.fi, n};
    const char *name;
    if (n->type == XML_TEXT_NODE && !is_blank(n->content))
      unsupported(c, x.fi, node_pos(c, c->job),
                  "unsupported text inside Job: it contains elements only");
    if (n->type != XML_ELEMENT_NODE)
      continue;
    name = name_of(n);
    if (is_im(n) && (strcmp(name, "Step") == 0 || ends_with(name, "Task") ||
                     ends_with(name, "TaskOverride")))
      c->job_entries++;
    if (is_im(n) && strcmp(name, "Step") == 0) {
      step_task(c, x);
    } else if (is_im(n) && ends_with(name, "TaskOverride")) {
      override_task(c, x);
    } else if (is_im(n) && ends_with(name, "Task")) {
      add_task(c, x, x);
    } else {
      if (!is_im(n))
        unsupported(c, x.fi, node_pos(c, x),
                    "unsupported element '%s' in Job: not in namespace %s",
                    elem_name(c, n), JH_XML_NAMESPACE);
      else
        unsupported(c, x.fi, node_pos(c, x),
                    "unsupported element '%s' in Job; a Job contains task "
                    "elements (...Task), Step and ...TaskOverride",
                    name);
      jh_xml_push(&c->mem, &c->job_left_out, x.fi, n);
    }
  }
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "A, B, C": the task types of the registry, sorted. */
static const char *task_type_list(ctx *c) {
  const char **names = NULL;
  size_t n = 0, cap = 0, len = 1;
  char *out;

  for (size_t i = 0; i < c->reg->nplugins; i++) {
    const jobhost_task_type *t = c->reg->plugins[i].desc->task_types;
    for (size_t j = 0; t != NULL && t[j].name != NULL; j++) {
      const char **grown = jh_xml_grow(&c->mem, names, &cap, n + 1,
                                       sizeof(*names));
      if (grown == NULL) {
        free(names);
        return "?";
      }
      names = grown;
      names[n++] = t[j].name;
      len += strlen(t[j].name) + 2;
    }
  }
  if (n == 0) {
    free(names);
    return "none (no plugin was loaded; see 'jobhost plugins')";
  }
  qsort(names, n, sizeof(*names), cmp_names);
  out = malloc(len);
  if (out != NULL) {
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
      if (i > 0)
        strcat(out, ", ");
      strcat(out, names[i]);
    }
  }
  free(names);
  return jh_xml_keep(&c->mem, out);
}

static void resolve_types(ctx *c) {
  for (size_t i = 0; i < c->ntasks; i++) {
    xtask *t = &c->tasks[i];
    const char *type = name_of(t->el.n);
    t->tt = jh_registry_task_type(c->reg, type, NULL);
    if (t->tt != NULL)
      continue;
    t->dropped = 1;
    unsupported(c, t->ref.fi, node_pos(c, t->ref),
                "unsupported task type '%s': no loaded plugin provides it; "
                "task types: %s",
                type, task_type_list(c));
  }
}

static int id_taken(const ctx *c, const char *id, size_t upto) {
  for (size_t i = 0; i < upto; i++)
    if (c->tasks[i].id != NULL && strcmp(c->tasks[i].id, id) == 0)
      return 1;
  for (size_t i = upto; i < c->ntasks; i++)
    if (c->tasks[i].made_from == NULL && c->tasks[i].id != NULL &&
        strcmp(c->tasks[i].id, id) == 0)
      return 1;
  return 0;
}

/* <Connector or Job>_<element without "Task">[_<SynchronizationMode>],
 * then _2, _3, ... while taken. */
static void make_id(ctx *c, size_t idx) {
  xtask *t = &c->tasks[idx];
  const char *name = name_of(t->el.n);
  const char *connector = get(c, t->el.n, "Connector");
  const char *mode = get(c, t->el.n, "SynchronizationMode");
  const char *first = connector ? connector : get(c, c->job.n, "Identifier");
  const char *base = jh_xml_fmt(&c->mem, "%s_%.*s%s%s", first ? first : "Job",
                                (int)(strlen(name) - 4), name, mode ? "_" : "",
                                mode ? mode : "");
  const char *id = base;
  t->made_from = base;
  t->id = NULL;
  for (int k = 2; id_taken(c, id, idx) && !c->mem.oom; k++)
    id = jh_xml_fmt(&c->mem, "%s_%d", base, k);
  t->id = id;
}

static void assign_ids(ctx *c) {
  for (size_t i = 0; i < c->ntasks; i++) {
    xtask *t = &c->tasks[i];
    if (t->id != NULL || t->dropped)
      continue;
    make_id(c, i);
  }
  for (size_t i = 0; i < c->ntasks; i++) {
    xtask *t = &c->tasks[i];
    if (t->id == NULL || t->made_from != NULL)
      continue;
    for (size_t j = 0; j < i; j++)
      if (c->tasks[j].id != NULL && c->tasks[j].made_from == NULL &&
          strcmp(c->tasks[j].id, t->id) == 0) {
        error_at(c, t->ref.fi, node_pos(c, t->ref),
                 "task '%s' is in job '%s' twice (first at %s:%d): a job "
                 "holds a task once",
                 JH_Q(t->id), JH_Q(get(c, c->job.n, "Identifier")),
                 c->files[c->tasks[j].ref.fi].path,
                 node_pos(c, c->tasks[j].ref).line);
        break;
      }
  }
}

/* ---- writing: connectors and connections ---- */

static int threshold_key(ctx *c, const char *attr, const char **key) {
  const char *k = snake(c, attr);
  for (int i = 0; i < JH_TH_COUNT; i++)
    if (strcmp(k, jh_threshold_key((jh_threshold_kind)i)) == 0 &&
        strcmp(xml_name(c, k), attr) == 0) {
      *key = k;
      return 1;
    }
  return 0;
}

static const char *connector_attrs(ctx *c) {
  const char *s = "Identifier, DisplayName_L1..L16, Agent, IsDeactivated, "
                  "CompleteJob, IncrementalJob";
  for (int i = 0; i < JH_TH_COUNT; i++)
    s = jh_xml_fmt(&c->mem, "%s, %s", s,
                   xml_name(c, jh_threshold_key((jh_threshold_kind)i)));
  return s;
}

/* A child element or text of an element that takes none. */
static void no_children(ctx *c, xnode x, const char *prefix) {
  for (xmlNode *n = x.n->children; n != NULL; n = n->next) {
    xnode ch = {x.fi, n};
    if (n->type == XML_TEXT_NODE)
      check_text(c, x.fi, n, name_of(x.n), prefix);
    if (n->type != XML_ELEMENT_NODE)
      continue;
    unsupported(c, x.fi, node_pos(c, ch),
                "unsupported element '%s' in %s: jobhost reads its "
                "attributes only",
                elem_name(c, n), name_of(x.n));
    em_left_out_node(c, ch, prefix, "not supported");
  }
}

/* The display names of an element: L1 as display_name, the others as
 * comments. Returns nonzero when a was one. */
static int display_name(ctx *c, size_t fi, const xmlAttr *a,
                        const char *prefix) {
  int lang = a->ns == NULL ? display_lang((const char *)a->name) : 0;
  if (lang == 0)
    return 0;
  if (lang == 1)
    em_key(c, attr_origin(c, fi, a), prefix, "display_name", attr_value(c, a));
  else
    em_comment(c, attr_origin(c, fi, a), prefix, "%s: %s",
               (const char *)a->name, attr_value(c, a));
  return 1;
}

static void bool_attr(ctx *c, size_t fi, const xmlAttr *a, const char *prefix,
                      const char *key) {
  const char *v = attr_value(c, a);
  int b;
  if (parse_bool(v, &b) != 0) {
    error_at(c, fi, attr_pos(c, fi, a),
             "expected a boolean (1, 0, true or false) for %s, got '%s'",
             JH_Q((const char *)a->name), JH_Q(v));
    em_key(c, attr_origin(c, fi, a), prefix, key, v);
    return;
  }
  em_key(c, attr_origin(c, fi, a), prefix, key, b ? "true" : "false");
}

static void int_attr(ctx *c, size_t fi, const xmlAttr *a, const char *prefix,
                     const char *key, long min) {
  const char *v = attr_value(c, a);
  long n;
  if (parse_int(v, min, &n) != 0)
    error_at(c, fi, attr_pos(c, fi, a),
             "expected an integer >= %ld for %s, got '%s'", min,
             JH_Q((const char *)a->name), JH_Q(v));
  em_key(c, attr_origin(c, fi, a), prefix, key, v);
}

/* An enumeration written as its number (0, 1, ...) or its name, in any
 * case, as Identity Manager's XML has both; the model key gets the name. */
static void enum_attr(ctx *c, size_t fi, const xmlAttr *a, const char *prefix,
                      const char *key, const char *const *names, int n) {
  const char *v = attr_value(c, a);
  long i;
  for (int k = 0; k < n; k++)
    if (strcasecmp(v, names[k]) == 0) {
      em_key(c, attr_origin(c, fi, a), prefix, key, names[k]);
      return;
    }
  if (parse_int(v, 0, &i) == 0 && i < n) {
    em_key(c, attr_origin(c, fi, a), prefix, key, names[i]);
    return;
  }
  {
    const char *all = names[0];
    for (int k = 1; k < n; k++)
      all = jh_xml_fmt(&c->mem, "%s, %s", all, names[k]);
    error_at(c, fi, attr_pos(c, fi, a),
             "expected 0 to %d or one of %s for %s, got '%s'", n - 1, all,
             JH_Q((const char *)a->name), JH_Q(v));
  }
  em_key(c, attr_origin(c, fi, a), prefix, key, v);
}

/* The connector's CompleteJob and IncrementalJob, the connection's
 * DeactivationExportFulfill: what the scaffolds read (doc/scaffold.md). */
static const char *const job_uses[] = {"Used", "NotUsed", "OnlySynchronization",
                                       "OnlyProvisioning"};
static const char *const deactivations[] = {"None", "Export", "Fulfill"};

static void connector_thresholds(ctx *c, xnode x) {
  int opened = 0;
  for (const xmlAttr *a = x.n->properties; a != NULL; a = a->next) {
    const char *key;
    if (a->ns != NULL || !threshold_key(c, (const char *)a->name, &key))
      continue;
    if (!opened)
      em_block(c, attr_origin(c, x.fi, a), P_FIELD, "thresholds");
    opened = 1;
    int_attr(c, x.fi, a, P_SUB, key, 0);
  }
}

/* The Identifier of model element x (a Connector or a Connection), or
 * NULL when it has none: reported, and the element left out. */
static const char *model_id(ctx *c, xnode x) {
  const char *id = get(c, x.n, "Identifier");
  const char *what = (const char *)x.n->name;
  if (id == NULL) {
    error_at(c, x.fi, node_pos(c, x),
             "missing Identifier on %s: expected the %s's identifier", what,
             strcmp(what, "Connector") == 0 ? "connector" : "connection");
    em_left_out_node(c, x, P_ITEM, "no Identifier");
  }
  return id;
}

static void write_connector(ctx *c, xnode x) {
  const char *id = model_id(c, x);
  if (id == NULL)
    return;
  em_key(c, node_origin(c, x), P_ITEM, "id", id);
  for (const xmlAttr *a = x.n->properties; a != NULL; a = a->next) {
    const char *name = (const char *)a->name, *key;
    if (foreign_attr(c, x.fi, a, "Connector", P_FIELD) ||
        strcmp(name, "Identifier") == 0 || display_name(c, x.fi, a, P_FIELD) ||
        threshold_key(c, name, &key))
      continue;
    if (strcmp(name, "Agent") == 0) {
      em_key(c, attr_origin(c, x.fi, a), P_FIELD, "agent", attr_value(c, a));
    } else if (strcmp(name, "IsDeactivated") == 0) {
      bool_attr(c, x.fi, a, P_FIELD, "deactivated");
    } else if (strcmp(name, "CompleteJob") == 0 ||
               strcmp(name, "IncrementalJob") == 0) {
      enum_attr(c, x.fi, a, P_FIELD,
                strcmp(name, "CompleteJob") == 0 ? "complete_job"
                                                 : "incremental_job",
                job_uses, (int)NELEM(job_uses));
    } else {
      unsupported(c, x.fi, attr_pos(c, x.fi, a),
                  "unsupported attribute '%s' on Connector; Connector takes "
                  "%s",
                  name, connector_attrs(c));
      em_left_out_attr(c, x.fi, a, P_FIELD);
    }
  }
  connector_thresholds(c, x);
  no_children(c, x, P_FIELD);
}

/* Checks a connection's package first: a connection whose package has no
 * jobhost equivalent is left out whole. Returns the jobhost package, or
 * NULL (reported). */
static const char *connection_package(ctx *c, xnode x, const char *id) {
  const xmlAttr *a = find_attr(x.n, "Package");
  const char *im, *pkg;
  if (a == NULL) {
    error_at(c, x.fi, node_pos(c, x),
             "missing Package on Connection '%s': expected an Identity "
             "Manager package such as Usercube.CSV@0000001",
             JH_Q(id));
    return NULL;
  }
  im = attr_value(c, a);
  pkg = jh_xml_package(im);
  if (pkg == NULL)
    unsupported(c, x.fi, attr_pos(c, x.fi, a),
                "unsupported package '%s' on Connection '%s'; jobhost has "
                "csv (Usercube.CSV, Usercube.CSV.Complete) and ldap "
                "(Usercube.LDAP, Usercube.AD)",
                JH_Q(im), JH_Q(id));
  return pkg;
}

static void write_connection(ctx *c, xnode x) {
  const char *id = model_id(c, x);
  const char *pkg;
  if (id == NULL)
    return;
  pkg = connection_package(c, x, id);
  if (pkg == NULL) {
    em_left_out_node(c, x, P_ITEM, "package not supported");
    return;
  }
  em_key(c, node_origin(c, x), P_ITEM, "id", id);
  for (const xmlAttr *a = x.n->properties; a != NULL; a = a->next) {
    const char *name = (const char *)a->name;
    if (foreign_attr(c, x.fi, a, "Connection", P_FIELD) ||
        strcmp(name, "Identifier") == 0 || display_name(c, x.fi, a, P_FIELD))
      continue;
    if (strcmp(name, "Connector") == 0) {
      em_key(c, attr_origin(c, x.fi, a), P_FIELD, "connector",
             attr_value(c, a));
    } else if (strcmp(name, "Package") == 0) {
      em_comment(c, attr_origin(c, x.fi, a), P_FIELD, "Package: %s",
                 attr_value(c, a));
      em_key(c, attr_origin(c, x.fi, a), P_FIELD, "package", pkg);
    } else if (strcmp(name, "DeactivationExportFulfill") == 0) {
      enum_attr(c, x.fi, a, P_FIELD, "deactivation_export_fulfill",
                deactivations, (int)NELEM(deactivations));
    } else {
      unsupported(c, x.fi, attr_pos(c, x.fi, a),
                  "unsupported attribute '%s' on Connection; Connection "
                  "takes Identifier, DisplayName_L1..L16, Connector, "
                  "Package, DeactivationExportFulfill",
                  name);
      em_left_out_attr(c, x.fi, a, P_FIELD);
    }
  }
  no_children(c, x, P_FIELD);
}

/* The model elements (xml_model.c), line by line with their origins. */
static void write_model_elements(ctx *c) {
  jh_xml_output m;
  size_t line = 0;
  if (jh_xml_model_write(c->files, c->nfiles, c->opt.lenient, &m, c->diags) !=
      0) {
    c->mem.oom = 1;
    return;
  }
  for (const char *p = m.yaml; p != NULL && *p != '\0'; line++) {
    const char *nl = strchr(p, '\n');
    size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
    em_put(c, p, n);
    em_end(c, line < m.nlines ? m.origins[line] : (jh_xml_origin){-1, 0, 0});
    p += n + (nl != NULL);
  }
  jh_xml_output_clear(&m);
}

static void write_model(ctx *c) {
  if (c->opt.job_only)
    return;
  if (c->connectors.n > 0) {
    em_block(c, node_origin(c, c->connectors.v[0]), P_TOP, "connectors");
    for (size_t i = 0; i < c->connectors.n; i++)
      write_connector(c, c->connectors.v[i]);
  }
  if (c->connections.n > 0) {
    em_block(c, node_origin(c, c->connections.v[0]), P_TOP, "connections");
    for (size_t i = 0; i < c->connections.n; i++)
      write_connection(c, c->connections.v[i]);
  }
  write_model_elements(c);
}

/* ---- writing: tasks ---- */

static const jobhost_param *schema_param(const jobhost_task_type *tt,
                                         const char *key) {
  for (size_t i = 0; tt->params != NULL && tt->params[i].name != NULL; i++)
    if (strcmp(tt->params[i].name, key) == 0)
      return &tt->params[i];
  return NULL;
}

/* What a task element of type tt takes, in XML names. */
static const char *task_attrs(ctx *c, const jobhost_task_type *tt) {
  const char *s = "Identifier, DisplayName_L1..L16, Agent, Level, "
                  "ContinueOnError";
  for (size_t i = 0; tt->params != NULL && tt->params[i].name != NULL; i++)
    if (tt->params[i].type != JOBHOST_PARAM_LIST)
      s = jh_xml_fmt(&c->mem, "%s, %s", s, xml_name(c, tt->params[i].name));
  return s;
}

/* Folder of the file (absolute), for path parameters. */
static const char *file_dir(ctx *c, size_t fi) {
  char *real = realpath(c->files[fi].path, NULL);
  const char *dir;
  char *slash;
  if (real == NULL)
    return ".";
  slash = strrchr(real, '/');
  if (slash != NULL && slash != real)
    *slash = '\0';
  else if (slash != NULL)
    slash[1] = '\0';
  dir = jh_xml_fmt(&c->mem, "%s", real);
  free(real);
  return dir;
}

/* The value of parameter sp written as attribute a, as the schema wants
 * it; reports a wrong value (and keeps it, for the loader to point at). */
static const char *param_text(ctx *c, const jobhost_param *sp, size_t fi,
                              const xmlAttr *a) {
  const char *v = attr_value(c, a);
  const char *name = (const char *)a->name;
  int b;

  switch (sp->type) {
  case JOBHOST_PARAM_BOOL:
    if (parse_bool(v, &b) == 0)
      return b ? "true" : "false";
    error_at(c, fi, attr_pos(c, fi, a),
             "expected a boolean (1, 0, true or false) for %s, got '%s'",
             JH_Q(name), JH_Q(v));
    return v;
  case JOBHOST_PARAM_INT:
    if (!int_text_ok(v))
      error_at(c, fi, attr_pos(c, fi, a),
               "expected an integer for %s, got '%s'", JH_Q(name), JH_Q(v));
    return v;
  case JOBHOST_PARAM_ENUM: {
    const char *all = "";
    for (size_t i = 0; sp->choices != NULL && sp->choices[i] != NULL; i++) {
      if (strcasecmp(v, sp->choices[i]) == 0)
        return sp->choices[i];
      all = jh_xml_fmt(&c->mem, "%s%s%s", all, i ? ", " : "", sp->choices[i]);
    }
    error_at(c, fi, attr_pos(c, fi, a), "expected one of %s for %s, got '%s'",
             all, JH_Q(name), JH_Q(v));
    return v;
  }
  case JOBHOST_PARAM_PATH:
    if (v[0] == '\0' || v[0] == '/')
      return v;
    return jh_xml_fmt(&c->mem, "%s/%s", file_dir(c, fi), v);
  case JOBHOST_PARAM_STRING:
  case JOBHOST_PARAM_LIST:
  case JOBHOST_PARAM_DURATION:    /* checked by the loader */
  case JOBHOST_PARAM_ENTITY_TYPE: /* checked against the model */
    break;
  }
  return v;
}

/* One attribute of a task (not Identifier nor Level). */
static void task_attr(ctx *c, const xtask *t, size_t fi, const xmlAttr *a) {
  const char *name = (const char *)a->name;
  const jobhost_param *sp;
  const char *key;

  if (foreign_attr(c, fi, a, name_of(t->el.n), P_TFIELD) ||
      display_name(c, fi, a, P_TFIELD))
    return;
  if (strcmp(name, "Agent") == 0) {
    em_key(c, attr_origin(c, fi, a), P_TFIELD, "agent", attr_value(c, a));
    return;
  }
  if (strcmp(name, "ContinueOnError") == 0) {
    bool_attr(c, fi, a, P_TFIELD, "continue_on_error");
    return;
  }
  key = strcmp(name, "Type") == 0 ? "prepare_type" : snake(c, name);
  sp = schema_param(t->tt, key);
  if (sp == NULL || sp->type == JOBHOST_PARAM_LIST ||
      strcmp(xml_name(c, key), name) != 0) {
    unsupported(c, fi, attr_pos(c, fi, a),
                "unsupported attribute '%s' on %s; %s takes %s", name,
                t->tt->name, t->tt->name, task_attrs(c, t->tt));
    em_left_out_attr(c, fi, a, P_TFIELD);
    return;
  }
  em_key(c, attr_origin(c, fi, a), P_TFIELD, key, param_text(c, sp, fi, a));
}

/* The task's attributes: the element's (those the override does not
 * replace), then the override's. */
static void task_attrs_write(ctx *c, const xtask *t) {
  for (const xmlAttr *a = t->el.n->properties; a != NULL; a = a->next) {
    const char *name = (const char *)a->name;
    if (a->ns == NULL &&
        (strcmp(name, "Identifier") == 0 || strcmp(name, "Level") == 0))
      continue;
    if (t->over.n != NULL && a->ns == NULL && find_attr(t->over.n, name))
      continue;
    task_attr(c, t, t->el.fi, a);
  }
  if (t->over.n == NULL)
    return;
  for (const xmlAttr *a = t->over.n->properties; a != NULL; a = a->next) {
    const char *name = (const char *)a->name;
    if (a->ns == NULL &&
        (strcmp(name, "Identifier") == 0 || strcmp(name, "Level") == 0))
      continue;
    task_attr(c, t, t->over.fi, a);
  }
}

/* Level: the Step's (unless -1), else the override's, else the task's. */
static void task_level(ctx *c, const xtask *t) {
  const xmlAttr *a = NULL;
  size_t fi = t->el.fi;
  long lv;

  if (t->step.n != NULL && (a = find_attr(t->step.n, "Level")) != NULL) {
    fi = t->step.fi;
    if (parse_int(attr_value(c, a), -1, &lv) == 0 && lv == -1)
      a = NULL;
  }
  if (a == NULL && t->over.n != NULL &&
      (a = find_attr(t->over.n, "Level")) != NULL)
    fi = t->over.fi;
  if (a == NULL && (a = find_attr(t->el.n, "Level")) != NULL)
    fi = t->el.fi;
  if (a == NULL)
    return;
  if (parse_int(attr_value(c, a), -1, &lv) != 0) {
    error_at(c, fi, attr_pos(c, fi, a),
             "expected an integer >= -1 for Level (-1: no level), got '%s'",
             JH_Q(attr_value(c, a)));
    return;
  }
  if (lv >= 0)
    em_key(c, attr_origin(c, fi, a), P_TFIELD, "level", attr_value(c, a));
}

/* A Step's own attributes: Identifier or Task, and Level. */
static void step_attrs(ctx *c, const xtask *t) {
  for (const xmlAttr *a = t->step.n->properties; a != NULL; a = a->next) {
    const char *name = (const char *)a->name;
    if (foreign_attr(c, t->step.fi, a, "Step", P_TFIELD))
      continue;
    if (strcmp(name, "Identifier") == 0 || strcmp(name, "Task") == 0 ||
        strcmp(name, "Level") == 0)
      continue;
    unsupported(c, t->step.fi, attr_pos(c, t->step.fi, a),
                "unsupported attribute '%s' on Step; Step takes Identifier "
                "(or Task) and Level",
                name);
    em_left_out_attr(c, t->step.fi, a, P_TFIELD);
  }
  no_children(c, t->step, P_TFIELD);
}

/* The lists a task's children make. */
static const struct child_kind {
  const char *element; /* TaskEntityType */
  const char *key;     /* entity_types */
  const char *attr;    /* EntityType */
  const char *alias;   /* Identifier (or NULL) */
} child_kinds[] = {
    {"TaskEntityType", "entity_types", "EntityType", "Identifier"},
    {"TaskResourceType", "resource_types", "ResourceType", NULL},
    {"TaskDependsOnTask", "depends_on", "ParentTask", NULL},
};

static const struct child_kind *child_kind(const char *element) {
  for (size_t i = 0; i < NELEM(child_kinds); i++)
    if (strcmp(child_kinds[i].element, element) == 0)
      return &child_kinds[i];
  return NULL;
}

/* The elements a task of type tt may contain. */
static const char *task_children(ctx *c, const jobhost_task_type *tt) {
  const char *s = "TaskDependsOnTask";
  for (size_t i = 0; i < 2; i++)
    if (schema_param(tt, child_kinds[i].key) != NULL)
      s = jh_xml_fmt(&c->mem, "%s, %s", s, child_kinds[i].element);
  return s;
}

/* The value attribute of a list child (EntityType=, ...); reports a
 * missing, doubled or unknown attribute. Returns it or NULL. */
static const xmlAttr *child_value(ctx *c, xnode ch,
                                  const struct child_kind *k) {
  const xmlAttr *v = find_attr(ch.n, k->attr);
  const xmlAttr *alias = k->alias ? find_attr(ch.n, k->alias) : NULL;
  for (const xmlAttr *a = ch.n->properties; a != NULL; a = a->next) {
    if (a->ns == NULL && (a == v || a == alias))
      continue;
    unsupported(c, ch.fi, attr_pos(c, ch.fi, a),
                "unsupported attribute '%s' on %s; %s takes %s%s%s",
                attr_name(c, a), k->element, k->element, k->attr,
                k->alias ? " (or " : "", k->alias ? "Identifier)" : "");
    em_left_out_attr(c, ch.fi, a, P_TLIST);
  }
  if (v != NULL && alias != NULL) {
    error_at(c, ch.fi, node_pos(c, ch), "%s has both %s and %s: write one",
             k->element, k->attr, k->alias);
    return v;
  }
  if (v == NULL && alias == NULL)
    error_at(c, ch.fi, node_pos(c, ch), "missing %s on %s", k->attr,
             k->element);
  return v ? v : alias;
}

/* Nonzero when id names a task of the job that was left out (and no
 * kept one). */
static int left_out_task(const ctx *c, const char *id) {
  int dropped = 0;
  for (size_t i = 0; i < c->ntasks; i++) {
    if (c->tasks[i].id == NULL || strcmp(c->tasks[i].id, id) != 0)
      continue;
    if (!c->tasks[i].dropped)
      return 0;
    dropped = 1;
  }
  return dropped;
}

static void task_list(ctx *c, const xtask *t, const struct child_kind *k) {
  int opened = 0;
  for (xmlNode *n = t->el.n->children; n != NULL; n = n->next) {
    xnode ch = {t->el.fi, n};
    const xmlAttr *a;
    const char *v;
    if (n->type != XML_ELEMENT_NODE || !is_im(n) ||
        strcmp(name_of(n), k->element) != 0)
      continue;
    a = child_value(c, ch, k);
    if (a == NULL)
      continue;
    v = attr_value(c, a);
    if (strcmp(k->key, "depends_on") == 0 && left_out_task(c, v)) {
      report_at(c, JH_DIAG_WARNING, ch.fi, attr_pos(c, ch.fi, a),
                "link from '%s' to '%s' left out: task '%s' was left out",
                JH_Q(t->id), JH_Q(v), JH_Q(v));
      em_comment(c, attr_origin(c, ch.fi, a), P_TLIST,
                 "left out: depends on %s (left out)", v);
      continue;
    }
    if (!opened)
      em_block(c, node_origin(c, ch), P_TFIELD, k->key);
    opened = 1;
    em_item(c, attr_origin(c, ch.fi, a), P_TLIST, v);
  }
}

/* Children of the task element that make no list (or a list its type
 * does not take), and any child of an override. */
static void task_other_children(ctx *c, const xtask *t) {
  for (xmlNode *n = t->el.n->children; n != NULL; n = n->next) {
    xnode ch = {t->el.fi, n};
    const struct child_kind *k;
    if (n->type == XML_TEXT_NODE)
      check_text(c, ch.fi, n, name_of(t->el.n), P_TFIELD);
    if (n->type != XML_ELEMENT_NODE)
      continue;
    k = is_im(n) ? child_kind(name_of(n)) : NULL;
    if (k != NULL && (strcmp(k->key, "depends_on") == 0 ||
                      schema_param(t->tt, k->key) != NULL))
      continue;
    unsupported(c, ch.fi, node_pos(c, ch),
                "unsupported element '%s' in %s; %s contains %s",
                elem_name(c, n), t->tt->name, t->tt->name,
                task_children(c, t->tt));
    em_left_out_node(c, ch, P_TFIELD, "not supported");
  }
  if (t->over.n != NULL)
    for (xmlNode *n = t->over.n->children; n != NULL; n = n->next) {
      xnode ch = {t->over.fi, n};
      if (n->type == XML_TEXT_NODE)
        check_text(c, ch.fi, n, name_of(t->over.n), P_TFIELD);
      if (n->type != XML_ELEMENT_NODE)
        continue;
      unsupported(c, ch.fi, node_pos(c, ch),
                  "unsupported element '%s' in %s: an override changes "
                  "attributes only",
                  elem_name(c, n), name_of(t->over.n));
      em_left_out_node(c, ch, P_TFIELD, "not supported");
    }
}

static void write_task(ctx *c, const xtask *t) {
  jh_xml_origin at = node_origin(c, t->ref);
  if (t->dropped) {
    em_left_out_node(c, t->ref, P_TASK, "task type not supported");
    return;
  }
  em_key(c, at, P_TASK, "id", t->id);
  if (t->made_from != NULL && strcmp(t->made_from, t->id) != 0)
    em_comment(c, at, P_TFIELD,
               "no Identifier in the XML: id made by "
               "jobhost (%s was taken)",
               t->made_from);
  else if (t->made_from != NULL)
    em_comment(c, at, P_TFIELD,
               "no Identifier in the XML: id made by "
               "jobhost, <Connector|Job>_<Task>[_<SynchronizationMode>]");
  em_key(c, node_origin(c, t->el), P_TFIELD, "type", name_of(t->el.n));
  task_level(c, t);
  if (t->step.n != NULL)
    step_attrs(c, t);
  task_attrs_write(c, t);
  task_other_children(c, t);
  for (size_t i = 0; i < NELEM(child_kinds); i++)
    task_list(c, t, &child_kinds[i]);
}

/* CronTimeZone: 0 or UTC, 1 or ServerTime (the host's local time). */
static void cron_zone_attr(ctx *c, size_t fi, const xmlAttr *a) {
  const char *v = attr_value(c, a);
  const char *zone = NULL;
  if (strcmp(v, "0") == 0 || strcmp(v, "UTC") == 0)
    zone = "UTC";
  else if (strcmp(v, "1") == 0 || strcmp(v, "ServerTime") == 0)
    zone = "local";
  if (zone == NULL) {
    error_at(c, fi, attr_pos(c, fi, a),
             "expected 0, UTC, 1 or ServerTime for 'CronTimeZone', got '%s'",
             JH_Q(v));
    zone = v;
  }
  em_key(c, attr_origin(c, fi, a), P_JOB, "cron_time_zone", zone);
}

/* LogLevel: 0 Trace .. 6 None, by number or name. */
static void log_level_attr(ctx *c, size_t fi, const xmlAttr *a) {
  const char *v = attr_value(c, a);
  const char *level = NULL;
  for (int i = 0; i < JH_JOB_LOG_LEVELS; i++)
    if ((v[0] == '0' + i && v[1] == '\0') ||
        strcasecmp(v, jh_job_log_levels[i]) == 0)
      level = jh_job_log_levels[i];
  if (level == NULL) {
    error_at(c, fi, attr_pos(c, fi, a),
             "expected 0 to 6 or Trace, Debug, Information, Warning, Error, "
             "Critical, None for 'LogLevel', got '%s'",
             JH_Q(v));
    level = v;
  }
  em_key(c, attr_origin(c, fi, a), P_JOB, "log_level", level);
}

/* ---- writing: the job ---- */

static void job_attr(ctx *c, const xmlAttr *a) {
  size_t fi = c->job.fi;
  const char *name = (const char *)a->name;
  if (foreign_attr(c, fi, a, "Job", P_JOB) || strcmp(name, "Identifier") == 0 ||
      display_name(c, fi, a, P_JOB))
    return;
  if (strcmp(name, "Agent") == 0)
    em_key(c, attr_origin(c, fi, a), P_JOB, "agent", attr_value(c, a));
  else if (strcmp(name, "CronTabExpression") == 0)
    em_key(c, attr_origin(c, fi, a), P_JOB, "schedule", attr_value(c, a));
  else if (strcmp(name, "MaxTaskBatchSize") == 0)
    int_attr(c, fi, a, P_JOB, "max_parallel", 1);
  else if (strcmp(name, "CronTimeZone") == 0)
    cron_zone_attr(c, fi, a);
  else if (strcmp(name, "LogLevel") == 0)
    log_level_attr(c, fi, a);
  else if (strcmp(name, "IsIncremental") == 0)
    bool_attr(c, fi, a, P_JOB, "is_incremental");
  else if (strcmp(name, "IsConnectorJob") == 0)
    bool_attr(c, fi, a, P_JOB, "is_connector_job");
  else if (strcmp(name, "IsInitializationJob") == 0)
    bool_attr(c, fi, a, P_JOB, "is_initialization_job");
  else if (strcmp(name, "UserStartDenied") == 0)
    bool_attr(c, fi, a, P_JOB, "user_start_denied");
  else {
    unsupported(c, fi, attr_pos(c, fi, a),
                "unsupported attribute '%s' on Job; Job takes Identifier, "
                "DisplayName_L1..L16, Agent, CronTabExpression, "
                "CronTimeZone, LogLevel, IsIncremental, IsConnectorJob, "
                "IsInitializationJob, UserStartDenied, MaxTaskBatchSize",
                name);
    em_left_out_attr(c, fi, a, P_JOB);
  }
}

/* Nonzero when the job keeps a task; reports a job with none. */
static int job_has_tasks(ctx *c) {
  const char *id = get(c, c->job.n, "Identifier");
  for (size_t i = 0; i < c->ntasks; i++)
    if (!c->tasks[i].dropped)
      return 1;
  if (c->job_entries == 0)
    error_at(c, c->job.fi, node_pos(c, c->job),
             "job '%s' has no task: expected task elements (...Task), Step "
             "or ...TaskOverride",
             JH_Q(id));
  else if (c->diags->nerrors == c->errors_before)
    error_at(c, c->job.fi, node_pos(c, c->job),
             "job '%s' has no task left once the unsupported ones are left "
             "out",
             JH_Q(id));
  return 0;
}

static void write_job(ctx *c) {
  em_block(c, node_origin(c, c->job), P_TOP, "job");
  em_key(c, node_origin(c, c->job), P_JOB, "id",
         get(c, c->job.n, "Identifier"));
  for (const xmlAttr *a = c->job.n->properties; a != NULL; a = a->next)
    job_attr(c, a);
  em_block(c, node_origin(c, c->job), P_JOB, "tasks");
  for (size_t i = 0; i < c->job_left_out.n; i++)
    em_left_out_node(c, c->job_left_out.v[i], P_TASK, "not supported");
  for (const xmlNode *n = c->job.n->children; n != NULL; n = n->next)
    if (n->type == XML_TEXT_NODE && !is_blank(n->content))
      em_comment(c, node_origin(c, c->job), P_TASK,
                 "left out: the text inside Job");
  for (size_t i = 0; i < c->ntasks; i++)
    write_task(c, &c->tasks[i]);
}

/* Comments for what a file's root holds besides elements (reported when
 * collected). */
static void left_out_in_root(ctx *c, size_t fi) {
  xnode root = {fi, xmlDocGetRootElement(c->files[fi].doc)};
  for (const xmlAttr *a = root.n->properties; a != NULL; a = a->next)
    em_left_out_attr(c, fi, a, P_TOP);
  for (const xmlNode *n = root.n->children; n != NULL; n = n->next)
    if (n->type == XML_TEXT_NODE && !is_blank(n->content))
      em_comment(c, node_origin(c, root), P_TOP,
                 "left out: the text inside ConfigurationFile in %s",
                 c->files[fi].path);
}

/* The header: sources, and what the input holds that is not imported. */
static void write_header(ctx *c) {
  jh_xml_origin none = {-1, 0, 0};
  em_comment(c, none, P_TOP,
             "Imported from Identity Manager configuration "
             "by jobhost import-xml:");
  for (size_t i = 0; i < c->nfiles; i++)
    em_comment(c, none, P_TOP, "  %s", c->files[i].path);
  em_comment(c, none, P_TOP, "Check it with: jobhost validate FILE");
  for (size_t i = 0; i < c->jobs.n; i++)
    if (c->jobs.v[i].n != c->job.n)
      em_left_out_node(c, c->jobs.v[i], P_TOP,
                       c->opt.model_only ? "a job (--model-only)"
                                         : "another job; see --job");
  for (size_t i = 0; i < c->decls.n; i++) {
    size_t k;
    for (k = 0; k < c->ntasks; k++)
      if (c->tasks[k].el.n == c->decls.v[i].n)
        break;
    if (k == c->ntasks)
      em_left_out_node(c, c->decls.v[i], P_TOP,
                       c->opt.model_only ? "a task (--model-only)"
                                         : "not a step of this job");
  }
  for (size_t i = 0; i < c->left_out.n; i++)
    em_left_out_node(c, c->left_out.v[i], P_TOP, "not supported");
  for (size_t i = 0; i < c->nfiles; i++)
    left_out_in_root(c, i);
  if (c->opt.job_only && c->connectors.n + c->connections.n > 0)
    em_comment(c, none, P_TOP,
               "Connector, Connection and model elements left out "
               "(--job-only)");
  em_puts(c, "version: 1");
  em_end(c, none);
  if (c->opt.nincludes > 0)
    em_block(c, none, P_TOP, "include");
  for (size_t i = 0; i < c->opt.nincludes; i++)
    em_item(c, none, P_ITEM, c->opt.includes[i]);
}

/* ---- diagnostics in document order ---- */

typedef struct ranked {
  jh_diag d;
  size_t file, index;
} ranked;

static int cmp_ranked(const void *pa, const void *pb) {
  const ranked *a = pa, *b = pb;
  if (a->file != b->file)
    return a->file < b->file ? -1 : 1;
  if (a->d.line != b->d.line)
    return a->d.line < b->d.line ? -1 : 1;
  if (a->d.column != b->d.column)
    return a->d.column < b->d.column ? -1 : 1;
  return a->index < b->index ? -1 : (a->index > b->index);
}

void jh_xml_sort_diags(jh_diags *d, size_t first, char *const *files,
                       size_t nfiles) {
  size_t n = d->n - first;
  ranked *r;
  if (n < 2)
    return;
  r = calloc(n, sizeof(*r));
  if (r == NULL)
    return; /* left in the order found */
  for (size_t i = 0; i < n; i++) {
    r[i].d = d->items[first + i];
    r[i].index = i;
    r[i].file = nfiles;
    for (size_t k = 0; k < nfiles && r[i].d.file != NULL; k++)
      if (strcmp(r[i].d.file, files[k]) == 0) {
        r[i].file = k;
        break;
      }
  }
  qsort(r, n, sizeof(*r), cmp_ranked);
  for (size_t i = 0; i < n; i++)
    d->items[first + i] = r[i].d;
  free(r);
}

/* ---- public ---- */

static int read_inputs(ctx *c, const char *const *paths, size_t npaths) {
  int rc = 0;
  c->files = calloc(npaths, sizeof(*c->files));
  if (c->files == NULL)
    return -ENOMEM;
  c->nfiles = npaths;
  for (size_t i = 0; i < npaths; i++) {
    int r = jh_xml_read(paths[i], &c->files[i], c->diags);
    if (r == -ENOMEM)
      return r;
    if (r != 0)
      rc = r;
  }
  return rc;
}

static int fill_output(ctx *c, jh_xml_output *out, const char *const *paths,
                       size_t npaths) {
  out->files = calloc(npaths, sizeof(*out->files));
  if (out->files == NULL)
    return -ENOMEM;
  out->nfiles = npaths;
  for (size_t i = 0; i < npaths; i++) {
    out->files[i] = strdup(paths[i]);
    if (out->files[i] == NULL)
      return -ENOMEM;
  }
  out->yaml = c->em.buf;
  out->len = c->em.len;
  out->origins = c->em.org;
  out->nlines = c->em.nlines;
  memset(&c->em, 0, sizeof(c->em));
  return 0;
}

/* ---- scaffolds (xml_scaffold.c) ---- */

static size_t scaffold_file(const ctx *c, const xmlNode *n) {
  for (size_t i = 0; i < c->nfiles; i++)
    if (c->files[i].doc == n->doc)
      return i;
  return 0;
}

static jh_xml_origin sc_origin(ctx *c, const xmlNode *n, const xmlAttr *a) {
  size_t fi = scaffold_file(c, n);
  xnode x = {fi, (xmlNode *)n};
  return a != NULL ? attr_origin(c, fi, a) : node_origin(c, x);
}

static void sc_line(void *arg, const xmlNode *n, const xmlAttr *a,
                    const char *prefix, const char *key, const char *value) {
  ctx *c = arg;
  jh_xml_origin o = sc_origin(c, n, a);
  if (key == NULL)
    em_item(c, o, prefix, value);
  else if (value == NULL)
    em_block(c, o, prefix, key);
  else
    em_key(c, o, prefix, key, value);
}

static void sc_comment(void *arg, const xmlNode *n, const xmlAttr *a,
                       const char *prefix, const char *text) {
  em_comment(arg, sc_origin(arg, n, a), prefix, "%s", text);
}

static void sc_unsupported(void *arg, const xmlNode *n, const xmlAttr *a,
                           const char *message, const char *left_out) {
  ctx *c = arg;
  size_t fi = scaffold_file(c, n);
  xnode x = {fi, (xmlNode *)n};
  unsupported(c, fi, a != NULL ? attr_pos(c, fi, a) : node_pos(c, x), "%s",
              message);
  em_comment(c, sc_origin(c, n, a), "    ", "%s", left_out);
}

static const xmlNode *sc_decl(void *arg, const char *id) {
  const xnode *d = find_decl(arg, id, NULL);
  return d != NULL ? d->n : NULL;
}

/* The scaffold to import instead of a Job: 1 when one was written, -1
 * when the choice is wrong (reported), 0 when a Job is to be imported. */
static int convert_scaffold(ctx *c) {
  jh_xml_scaffold_io io = {c, sc_line, sc_comment, sc_unsupported, sc_decl};
  const xnode *pick = NULL;
  char *id;
  int rc;

  for (size_t i = 0; c->opt.job != NULL && i < c->scaffolds.n && !pick; i++) {
    id = jh_xml_scaffold_job_id(c->scaffolds.v[i].n);
    if (id == NULL) {
      c->mem.oom = 1;
      return -1;
    }
    if (strcmp(id, c->opt.job) == 0)
      pick = &c->scaffolds.v[i];
    free(id);
  }
  if (pick == NULL && (c->opt.job != NULL || c->scaffolds.n == 0))
    return 0;
  if (pick == NULL && c->scaffolds.n + c->jobs.n > 1) {
    const xnode *x = &c->scaffolds.v[c->scaffolds.n - 1];
    error_at(c, x->fi, node_pos(c, *x),
             "%zu jobs and scaffolds found: a pipeline holds one job; choose "
             "one with 'jobhost import-xml --job ID' (a scaffold's ID is its "
             "JobIdentifier, or the computed one)",
             c->scaffolds.n + c->jobs.n);
    return -1;
  }
  if (pick == NULL)
    pick = &c->scaffolds.v[0];
  /* the tasks its AddTask children name are used, not left out */
  for (const xmlNode *k = pick->n->children; k != NULL; k = k->next) {
    const char *task;
    const xnode *d;
    if (k->type != XML_ELEMENT_NODE || strcmp(name_of(k), "AddTask") != 0 ||
        (task = get(c, k, "Task")) == NULL ||
        (d = find_decl(c, task, NULL)) == NULL)
      continue;
    add_task(c, *d, *d);
  }
  write_header(c);
  for (size_t i = 0; i < c->scaffolds.n; i++)
    if (&c->scaffolds.v[i] != pick)
      em_left_out_node(c, c->scaffolds.v[i], P_TOP, "another job; see --job");
  write_model(c);
  rc = jh_xml_scaffold_write(pick->n, &io);
  if (rc != 0)
    c->mem.oom = 1;
  return 1;
}

static void convert(ctx *c) {
  for (size_t i = 0; i < c->nfiles; i++)
    collect_file(c, i);
  if (c->opt.model_only) {
    if (c->bad_roots > 0)
      return;
    write_header(c);
    write_model(c);
    return;
  }
  if (convert_scaffold(c) != 0)
    return;
  if (select_job(c) != 0)
    return;
  build_tasks(c);
  resolve_types(c);
  assign_ids(c);
  if (!job_has_tasks(c))
    return; /* no pipeline to write */
  write_header(c);
  for (size_t i = 0; i < c->scaffolds.n; i++) /* --job chose the Job */
    em_left_out_node(c, c->scaffolds.v[i], P_TOP, "another job; see --job");
  write_model(c);
  write_job(c);
}

static void ctx_free(ctx *c) {
  for (size_t i = 0; i < c->nfiles; i++)
    jh_xml_file_clear(&c->files[i]);
  free(c->files);
  jh_xml_pool_free(&c->mem);
  free(c->connectors.v);
  free(c->connections.v);
  free(c->jobs.v);
  free(c->scaffolds.v);
  free(c->decls.v);
  free(c->left_out.v);
  free(c->job_left_out.v);
  free(c->tasks);
  free(c->em.buf);
  free(c->em.org);
}

int jh_xml_import(const char *const *paths, size_t npaths,
                  const jh_registry *reg, const jh_xml_options *opt,
                  jh_xml_output *out, jh_diags *diags) {
  ctx c;
  int rc;

  memset(out, 0, sizeof(*out));
  memset(&c, 0, sizeof(c));
  c.reg = reg;
  if (opt != NULL)
    c.opt = *opt;
  c.diags = diags;
  c.diag_first = diags->n;
  c.errors_before = diags->nerrors;
  rc = read_inputs(&c, paths, npaths);
  if (rc == 0)
    convert(&c);
  if (rc == 0 && c.em.buf != NULL && !c.mem.oom)
    rc = fill_output(&c, out, paths, npaths);
  if (rc == 0 && c.mem.oom)
    rc = -ENOMEM;
  if (rc == 0 && diags->nerrors > c.errors_before)
    rc = JOBHOST_ECONFIG;
  jh_xml_sort_diags(diags, c.diag_first, (char *const *)paths, npaths);
  ctx_free(&c);
  if (rc == -ENOMEM)
    jh_xml_output_clear(out);
  return rc;
}

void jh_xml_output_clear(jh_xml_output *o) {
  free(o->yaml);
  free(o->origins);
  for (size_t i = 0; o->files != NULL && i < o->nfiles; i++)
    free(o->files[i]);
  free(o->files);
  memset(o, 0, sizeof(*o));
}
