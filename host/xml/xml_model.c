/*
 * xml_model.c — see xml_model.h.
 *
 * Each element becomes a record: its fields (key, value, origin) and
 * comments, in the order of its attributes. A record is written as one
 * YAML list item, or, when it is left out (lenient, a C# expression
 * outside the subset), as comments. Records of child elements (an entity
 * type's properties, a resource type's rules) are written under their
 * parent's list key. Strings live in a pool freed at the end.
 */
#include "config.h"

#include "xml_model.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "xml_mem.h"

#include <jobhost/jobhost.h>

#include "xml_csharp.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

typedef jh_xml_node xnode;
typedef jh_xml_nodes xnodes;

/* A line of a record: "key: value", "key:" opening a block of the
 * following `sub` fields, or a comment. */
typedef struct field {
  const char *key, *value; /* value NULL: a block, or a comment (key) */
  jh_xml_origin o;
  int comment;
  int sub; /* inside the block opened before it */
} field;

typedef struct rec {
  field *v;
  size_t n, cap;
  int dropped;     /* left out: written as comments */
  jh_xml_origin o; /* the element */
  int unsupported; /* parts reported unsupported */
} rec;

/* The elements, by kind. */
enum {
  E_TYPE,
  E_ASSOC,
  E_AMAP,
  E_MAP,
  E_EXPR,
  E_RTYPE,
  E_CORR,
  E_CLASS,
  E_CONTEXT,
  E_COUNT
};

static const char *const element_names[E_COUNT] = {"EntityType",
                                                   "EntityAssociation",
                                                   "EntityAssociationMapping",
                                                   "EntityTypeMapping",
                                                   "EntityPropertyExpression",
                                                   "ResourceType",
                                                   "ResourceCorrelationRule",
                                                   "ResourceClassificationRule",
                                                   "ProfileRuleContext"};

typedef struct mctx {
  const jh_xml_file *files;
  size_t nfiles;
  int lenient;
  jh_diags *diags;
  jh_xml_pool mem; /* strings kept, arrays grown, out of memory */
  xnodes el[E_COUNT];
  char *buf;
  size_t len, cap;
  jh_xml_origin *org;
  size_t nlines, cap_lines;
} mctx;

/* ---- names, values, places ---- */

static int is_im(const xmlNode *n) {
  return n->ns != NULL && n->ns->href != NULL &&
         strcmp((const char *)n->ns->href, JH_XML_NAMESPACE) == 0;
}

static int is_blank(const xmlChar *s) {
  for (; s != NULL && *s != '\0'; s++)
    if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
      return 0;
  return 1;
}

static const char *aname(const xmlAttr *a) { return (const char *)a->name; }

static const char *avalue(mctx *c, const xmlAttr *a) {
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

static const char *get(mctx *c, const xmlNode *n, const char *name) {
  const xmlAttr *a = find_attr(n, name);
  return a != NULL ? avalue(c, a) : NULL;
}

static jh_xml_origin norigin(const mctx *c, xnode x) {
  jh_xml_pos p = jh_xml_node_pos(&c->files[x.fi], x.n);
  jh_xml_origin o = {(int)x.fi, p.line, p.column};
  return o;
}

static jh_xml_origin aorigin(const mctx *c, size_t fi, const xmlAttr *a) {
  jh_xml_pos p = jh_xml_attr_pos(&c->files[fi], a);
  jh_xml_origin o = {(int)fi, p.line, p.column};
  return o;
}

static void vreport(mctx *c, jh_severity sev, jh_xml_origin o,
                    const char *suffix, const char *f, va_list ap) {
  char *msg = NULL;
  const char *file = c->files[o.file].path;
  if (vasprintf(&msg, f, ap) < 0) {
    c->mem.oom = 1;
    jh_diag_add(c->diags, sev, file, o.line, o.column, "out of memory");
    return;
  }
  jh_diag_add(c->diags, sev, file, o.line, o.column, "%s%s", msg, suffix);
  free(msg);
}

static void error_at(mctx *c, jh_xml_origin o, const char *f, ...)
    JOBHOST_PRINTF(3, 4);
static void error_at(mctx *c, jh_xml_origin o, const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  vreport(c, JH_DIAG_ERROR, o, "", f, ap);
  va_end(ap);
}

static void warn_at(mctx *c, jh_xml_origin o, const char *f, ...)
    JOBHOST_PRINTF(3, 4);
static void warn_at(mctx *c, jh_xml_origin o, const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  vreport(c, JH_DIAG_WARNING, o, "", f, ap);
  va_end(ap);
}

/* Something with no jobhost counterpart: an error, or with lenient a
 * warning (the part is then left out, as a comment). */
static void unsupported(mctx *c, jh_xml_origin o, const char *f, ...)
    JOBHOST_PRINTF(3, 4);
static void unsupported(mctx *c, jh_xml_origin o, const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  if (c->lenient)
    vreport(c, JH_DIAG_WARNING, o, "; left out (kept as a comment)", f, ap);
  else
    vreport(c, JH_DIAG_ERROR, o,
            " (--lenient imports the rest and keeps it as a comment)", f, ap);
  va_end(ap);
}

/* ---- records ---- */

static field *rec_add(mctx *c, rec *r) {
  field *g = jh_xml_grow(&c->mem, r->v, &r->cap, r->n + 1, sizeof(*r->v));
  if (g == NULL)
    return NULL;
  r->v = g;
  memset(&r->v[r->n], 0, sizeof(r->v[0]));
  return &r->v[r->n++];
}

static void rec_kv(mctx *c, rec *r, jh_xml_origin o, const char *key,
                   const char *value) {
  field *f = rec_add(c, r);
  if (f == NULL)
    return;
  f->key = key;
  f->value = value;
  f->o = o;
}

static void rec_comment(mctx *c, rec *r, jh_xml_origin o, const char *text) {
  field *f = rec_add(c, r);
  if (f == NULL)
    return;
  f->key = text;
  f->comment = 1;
  f->o = o;
}

/* The field `key` of r, or NULL. */
static const char *rec_get(const rec *r, const char *key) {
  for (size_t i = 0; i < r->n; i++)
    if (!r->v[i].comment && r->v[i].value != NULL &&
        strcmp(r->v[i].key, key) == 0)
      return r->v[i].value;
  return NULL;
}

static int rec_has_fields(const rec *r) {
  for (size_t i = 0; i < r->n; i++)
    if (!r->v[i].comment)
      return 1;
  return 0;
}

/* ---- the YAML text ---- */

static void put(mctx *c, const char *s, size_t n) {
  char *b = jh_xml_grow(&c->mem, c->buf, &c->cap, c->len + n + 1, 1);
  if (b == NULL)
    return;
  c->buf = b;
  memcpy(c->buf + c->len, s, n);
  c->len += n;
  c->buf[c->len] = '\0';
}

static void puts_(mctx *c, const char *s) { put(c, s, strlen(s)); }

static void spaces(mctx *c, int n) {
  for (int i = 0; i < n; i++)
    put(c, " ", 1);
}

static void end_line(mctx *c, jh_xml_origin o) {
  jh_xml_origin *g;
  put(c, "\n", 1);
  g = jh_xml_grow(&c->mem, c->org, &c->cap_lines, c->nlines + 1,
                  sizeof(*c->org));
  if (g == NULL)
    return;
  c->org = g;
  c->org[c->nlines++] = o;
}

/* A scalar YAML reads back as the same string without quotes. */
static int plain_ok(const char *s) {
  static const char *const words[] = {"yes",  "no", "on", "off",
                                      "null", "y",  "n",  "~"};
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

static void scalar(mctx *c, const char *s) {
  char esc[8];
  if (plain_ok(s)) {
    puts_(c, s);
    return;
  }
  put(c, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
    if (*p < 0x20 || *p == 0x7F) {
      snprintf(esc, sizeof(esc), "\\x%02X", *p);
      puts_(c, esc);
    } else if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
      snprintf(esc, sizeof(esc), "\\x%02X", p[1]);
      puts_(c, esc);
      p++;
    } else if (*p == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
      puts_(c, p[2] == 0xA8 ? "\\L" : "\\P");
      p += 2;
    } else if (*p == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
      puts_(c, "\\uFEFF");
      p += 2;
    } else {
      if (*p == '"' || *p == '\\')
        put(c, "\\", 1);
      put(c, (const char *)p, 1);
    }
  }
  put(c, "\"", 1);
}

/* "# text" at indent; line breaks and control characters become spaces. */
static void comment_line(mctx *c, int indent, jh_xml_origin o,
                         const char *text) {
  spaces(c, indent);
  puts_(c, "# ");
  for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
    if (*p < 0x20 || *p == 0x7F)
      put(c, " ", 1);
    else if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
      put(c, " ", 1);
      p++;
    } else if (*p == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
      put(c, " ", 1);
      p += 2;
    } else
      put(c, (const char *)p, 1);
  }
  end_line(c, o);
}

static void section(mctx *c, jh_xml_origin o, const char *key) {
  puts_(c, key);
  puts_(c, ":");
  end_line(c, o);
}

/* "key:" at indent, opening a list or block. */
static void key_line(mctx *c, int indent, jh_xml_origin o, const char *key) {
  spaces(c, indent);
  puts_(c, key);
  puts_(c, ":");
  end_line(c, o);
}

/* Record r as a list item at indent ("- " at indent). Returns the
 * indent of its fields. */
static int write_rec(mctx *c, const rec *r, int indent) {
  int first = 1;
  for (size_t i = 0; i < r->n; i++) {
    const field *f = &r->v[i];
    int ind = indent + 2 + (f->sub ? 2 : 0);
    if (f->comment) {
      comment_line(c, ind, f->o, f->key);
      continue;
    }
    if (r->dropped)
      continue;
    if (first) {
      spaces(c, indent);
      puts_(c, "- ");
      first = 0;
    } else {
      spaces(c, ind);
    }
    puts_(c, f->key);
    puts_(c, ":");
    if (f->value != NULL) {
      put(c, " ", 1);
      scalar(c, f->value);
    }
    end_line(c, f->o);
  }
  return indent + 2;
}

/* ---- attribute conversions ---- */

static int parse_bool(const char *s, int *out) {
  if (strcmp(s, "1") == 0 || strcasecmp(s, "true") == 0)
    *out = 1;
  else if (strcmp(s, "0") == 0 || strcasecmp(s, "false") == 0)
    *out = 0;
  else
    return -1;
  return 0;
}

static int parse_int(const char *s, long min, long max) {
  char *end;
  long v;
  if (!((s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '+'))
    return -1;
  errno = 0;
  v = strtol(s, &end, 10);
  return errno == 0 && end != s && *end == '\0' && v >= min && v <= max ? 0
                                                                        : -1;
}

static int display_lang(const char *name) {
  char *end;
  long l;
  if (strncmp(name, "DisplayName_L", 13) != 0 || name[13] < '1' ||
      name[13] > '9')
    return 0;
  l = strtol(name + 13, &end, 10);
  return *end == '\0' && l >= 1 && l <= 16 ? (int)l : 0;
}

/* Kinds of attribute. */
enum {
  A_STR,     /* copied */
  A_BOOL,    /* true/false */
  A_INT,     /* an integer >= 0 */
  A_SINT,    /* any integer */
  A_CONF,    /* a confidence 0..150 */
  A_EXPR,    /* an expression: C# translated */
  A_BIND,    /* a binding: an "EntityType:" prefix dropped */
  A_NOTE,    /* kept as a comment, no warning (descriptive) */
  A_DEFAULT, /* kept as a comment when it says `note`, else unsupported */
  A_THRESH,  /* under thresholds: */
  A_SKIP     /* read by the caller */
};

typedef struct aspec {
  const char *attr;
  int kind;
  const char *key;  /* YAML key; A_DEFAULT: the only value accepted */
  const char *what; /* A_DEFAULT: why it is the only one */
} aspec;

/* The translation of an expression attribute; NULL when a C# body is
 * outside the subset (reported; r->dropped set, the C# kept as a
 * comment). */
static const char *expr_value(mctx *c, rec *r, size_t fi, const xmlAttr *a) {
  const char *v = avalue(c, a);
  char *lua = NULL, err[300];
  size_t at = 0;
  int rc;
  if (!jh_cs_is_csharp(v))
    return v;
  rc = jh_cs_to_lua(v, &lua, &at, err, sizeof(err));
  if (rc == -ENOMEM) {
    c->mem.oom = 1;
    return NULL;
  }
  if (rc != 0) {
    jh_xml_origin o = aorigin(c, fi, a);
    if (c->lenient)
      warn_at(c, o,
              "C# expression of %s outside the subset jobhost translates, at "
              "character %zu: %s; the rule is left out (its C# kept as a "
              "comment)",
              aname(a), at + 1, err);
    else
      error_at(c, o,
               "C# expression of %s outside the subset jobhost translates, at "
               "character %zu: %s (doc/xml-import.md lists the subset; "
               "--lenient leaves the rule out)",
               aname(a), at + 1, err);
    rec_comment(c, r, o,
                jh_xml_fmt(&c->mem, "C# not translated: %s=\"%s\"", aname(a),
                           v));
    r->dropped = 1;
    return NULL;
  }
  rec_comment(c, r, aorigin(c, fi, a),
              jh_xml_fmt(&c->mem, "%s: %s (translated)", aname(a), v));
  return jh_xml_keep(&c->mem, lua);
}

/* A binding: "EntityType:path" or "path". */
static const char *binding_value(mctx *c, size_t fi, const xmlAttr *a,
                                 const char *want_type) {
  const char *v = avalue(c, a);
  const char *colon = strchr(v, ':');
  if (colon == NULL)
    return v;
  if (want_type != NULL && (strlen(want_type) != (size_t)(colon - v) ||
                            strncmp(v, want_type, strlen(want_type)) != 0))
    error_at(c, aorigin(c, fi, a),
             "%s '%s' names the entity type '%.*s', expected %s", aname(a),
             JH_Q(v), (int)(colon - v), v, want_type);
  return jh_xml_keep(&c->mem, strdup(colon + 1));
}

/* Record the attributes of x by spec; unknown ones are unsupported.
 * `in` names the element in messages, `want_type` the entity type of
 * bindings (NULL: not checked). */
static void read_attrs(mctx *c, rec *r, xnode x, const aspec *spec,
                       size_t nspec, const char *want_type) {
  const char *in = (const char *)x.n->name;
  int thresholds = 0;
  for (const xmlAttr *a = x.n->properties; a != NULL; a = a->next) {
    jh_xml_origin o = aorigin(c, x.fi, a);
    const char *name = aname(a), *v;
    const aspec *s = NULL;
    int b;
    if (a->ns != NULL) {
      r->unsupported++;
      unsupported(c, o,
                  "unsupported attribute '%s:%s' on %s: attributes in "
                  "another namespace are not read",
                  a->ns->prefix ? (const char *)a->ns->prefix : "", name, in);
      rec_comment(c, r, o, jh_xml_fmt(&c->mem, "left out: %s", name));
      continue;
    }
    for (size_t i = 0; i < nspec; i++)
      if (strcmp(spec[i].attr, name) == 0)
        s = &spec[i];
    if (display_lang(name) > 0) {
      /* DisplayName_L1 is display_name where the section has one (the
       * spec names it); the other languages, and DisplayName_L1
       * elsewhere, are kept as comments */
      if (display_lang(name) == 1 && s != NULL)
        rec_kv(c, r, o, "display_name", avalue(c, a));
      else
        rec_comment(c, r, o, jh_xml_fmt(&c->mem, "%s: %s", name, avalue(c, a)));
      continue;
    }
    if (s == NULL) {
      size_t n = 0;
      char list[600];
      list[0] = '\0';
      for (size_t i = 0; i < nspec; i++)
        if (display_lang(spec[i].attr) == 0)
          n += (size_t)snprintf(list + (n < sizeof(list) ? n : sizeof(list)),
                                n < sizeof(list) ? sizeof(list) - n : 0, "%s%s",
                                i ? ", " : "", spec[i].attr);
      r->unsupported++;
      unsupported(c, o,
                  "unsupported attribute '%s' on %s: jobhost has no "
                  "counterpart; %s takes %s, DisplayName_L1..L16",
                  name, in, in, list);
      rec_comment(c, r, o,
                  jh_xml_fmt(&c->mem, "left out: %s=\"%s\"", name,
                             avalue(c, a)));
      continue;
    }
    v = avalue(c, a);
    switch (s->kind) {
    case A_SKIP:
      break;
    case A_STR:
      rec_kv(c, r, o, s->key, v);
      break;
    case A_BOOL:
      if (parse_bool(v, &b) != 0)
        error_at(c, o, "%s on %s: expected true or false, got '%s'", name, in,
                 JH_Q(v));
      else
        rec_kv(c, r, o, s->key, b ? "true" : "false");
      break;
    case A_INT:
    case A_SINT:
    case A_CONF:
    case A_THRESH:
      if (parse_int(v, s->kind == A_SINT ? INT_MIN : 0,
                    s->kind == A_CONF ? 150 : INT_MAX) != 0) {
        error_at(c, o, "%s on %s: expected %s, got '%s'", name, in,
                 s->kind == A_SINT   ? "an integer"
                 : s->kind == A_CONF ? "an integer from 0 to 150"
                                     : "an integer >= 0",
                 JH_Q(v));
        break;
      }
      if (s->kind == A_THRESH && !thresholds) {
        rec_kv(c, r, o, "thresholds", NULL);
        thresholds = 1;
      }
      rec_kv(c, r, o, s->key, v);
      if (s->kind == A_THRESH)
        r->v[r->n - 1].sub = 1;
      break;
    case A_EXPR: {
      const char *e = expr_value(c, r, x.fi, a);
      if (e != NULL)
        rec_kv(c, r, o, s->key, e);
      break;
    }
    case A_BIND:
      rec_kv(c, r, o, s->key, binding_value(c, x.fi, a, want_type));
      break;
    case A_NOTE:
      rec_comment(c, r, o, jh_xml_fmt(&c->mem, "%s: %s", name, v));
      break;
    case A_DEFAULT:
      if (strcasecmp(v, s->key) == 0) {
        rec_comment(c, r, o,
                    jh_xml_fmt(&c->mem, "%s: %s (%s)", name, v, s->what));
      } else {
        r->unsupported++;
        unsupported(c, o, "%s=\"%s\" on %s: jobhost has only %s (%s)", name,
                    JH_Q(v), in, s->key, s->what);
        rec_comment(c, r, o,
                    jh_xml_fmt(&c->mem, "left out: %s=\"%s\"", name, v));
      }
      break;
    }
  }
  /* thresholds fields must follow their block line: move them */
  if (thresholds) {
    rec sorted = {0};
    for (int pass = 0; pass < 2; pass++)
      for (size_t i = 0; i < r->n; i++) {
        int in_block = r->v[i].sub ||
                       (!r->v[i].comment && r->v[i].value == NULL &&
                        strcmp(r->v[i].key, "thresholds") == 0);
        if (in_block == pass) {
          field *f = rec_add(c, &sorted);
          if (f != NULL)
            *f = r->v[i];
        }
      }
    free(r->v);
    *r = (rec){sorted.v,   sorted.n, sorted.cap,
               r->dropped, r->o,     r->unsupported};
  }
}

/* Text inside an element, and child elements where there are none. */
static void no_text(mctx *c, rec *r, xnode x) {
  for (xmlNode *n = x.n->children; n != NULL; n = n->next)
    if (n->type == XML_TEXT_NODE && !is_blank(n->content)) {
      unsupported(c, norigin(c, x), "unsupported text inside %s",
                  (const char *)x.n->name);
      rec_comment(c, r, norigin(c, x), "left out: text");
      return;
    }
}

static void child_unsupported(mctx *c, rec *r, xnode ch, const char *in,
                              const char *takes) {
  jh_xml_origin o = norigin(c, ch);
  r->unsupported++;
  unsupported(c, o,
              "unsupported element '%s' in %s: jobhost has no counterpart; "
              "%s takes %s",
              (const char *)ch.n->name, in, in, takes);
  rec_comment(c, r, o,
              jh_xml_fmt(&c->mem, "left out: <%s> at line %d",
                         (const char *)ch.n->name, o.line));
}

/* x takes no child element: each one is unsupported (a comment in r). */
static void no_child_elements(mctx *c, rec *r, xnode x) {
  for (xmlNode *ch = x.n->children; ch != NULL; ch = ch->next)
    if (ch->type == XML_ELEMENT_NODE)
      child_unsupported(c, r, (xnode){x.fi, ch}, (const char *)x.n->name,
                        "no child element");
}

/* The element children of x, in order; `ok` names those the caller
 * reads, the others are unsupported (a comment in r). */
static size_t children(mctx *c, rec *r, xnode x, const char *const *ok,
                       size_t nok, const char *takes, xnode *out, size_t max) {
  size_t n = 0;
  no_text(c, r, x);
  for (xmlNode *ch = x.n->children; ch != NULL; ch = ch->next) {
    xnode y = {x.fi, ch};
    size_t i;
    if (ch->type != XML_ELEMENT_NODE)
      continue;
    for (i = 0; i < nok && is_im(ch); i++)
      if (strcmp((const char *)ch->name, ok[i]) == 0)
        break;
    if (i == nok || !is_im(ch)) {
      child_unsupported(c, r, y, (const char *)x.n->name, takes);
      continue;
    }
    if (n < max)
      out[n++] = y;
  }
  return n;
}

/* ---- entity types and associations ---- */

/* The association side naming EntityType:Property, or -1: side (1 or 2)
 * in *side. */
static const xnode *find_assoc(mctx *c, const char *type, const char *prop,
                               int *side) {
  for (size_t i = 0; i < c->el[E_ASSOC].n; i++) {
    const xnode *x = &c->el[E_ASSOC].v[i];
    for (int s = 1; s <= 2; s++) {
      const char *v = get(c, x->n, s == 1 ? "Property1" : "Property2");
      const char *colon = v != NULL ? strchr(v, ':') : NULL;
      if (colon != NULL && (size_t)(colon - v) == strlen(type) &&
          strncmp(v, type, strlen(type)) == 0 && strcmp(colon + 1, prop) == 0) {
        *side = s;
        return x;
      }
    }
  }
  return NULL;
}

static int assoc_collection(mctx *c, const xnode *x, int side) {
  const char *v = get(c, x->n,
                      side == 1 ? "IsProperty1Collection"
                                : "IsProperty2Collection");
  int b = 0;
  return v != NULL && parse_bool(v, &b) == 0 ? b : 0;
}

/* The association mapping of association x, or NULL. */
static const xnode *find_amap(mctx *c, const xnode *assoc) {
  const char *id = get(c, assoc->n, "Identifier");
  for (size_t i = 0; id != NULL && i < c->el[E_AMAP].n; i++) {
    const char *m = get(c, c->el[E_AMAP].v[i].n, "Identifier");
    if (m != NULL && strcmp(m, id) == 0)
      return &c->el[E_AMAP].v[i];
  }
  return NULL;
}

/* The side an association mapping fills (the owner of the links): side 1
 * unless only side 2 is a collection. */
static int owner_side(mctx *c, const xnode *assoc) {
  return !assoc_collection(c, assoc, 1) && assoc_collection(c, assoc, 2) ? 2
                                                                         : 1;
}

static void assoc_side(mctx *c, const xnode *assoc, int side, const char **type,
                       const char **prop) {
  const char *v = get(c, assoc->n, side == 1 ? "Property1" : "Property2");
  const char *colon = v != NULL ? strchr(v, ':') : NULL;
  *type = colon != NULL ? jh_xml_fmt(&c->mem, "%.*s", (int)(colon - v), v)
                        : NULL;
  *prop = colon != NULL ? colon + 1 : NULL;
}

static const struct {
  const char *im, *jh;
} prop_types[] = {{"String", "string"}, {"Guid", "string"},
                  {"Int32", "integer"}, {"Int64", "integer"},
                  {"Bool", "boolean"},  {"DateTime", "datetime"}};

/* A Property of an EntityType. */
static void entity_property(mctx *c, rec *r, xnode x, const char *type) {
  static const aspec spec[] = {{"Identifier", A_STR, "id", NULL},
                               {"Type", A_SKIP, NULL, NULL},
                               {"TargetColumnIndex", A_NOTE, NULL, NULL},
                               {"IsKey", A_NOTE, NULL, NULL}};
  const char *id = get(c, x.n, "Identifier"), *t = get(c, x.n, "Type");
  jh_xml_origin o = norigin(c, x);
  const xmlAttr *ta = find_attr(x.n, "Type");
  r->o = o;
  read_attrs(c, r, x, spec, NELEM(spec), NULL);
  no_text(c, r, x);
  no_child_elements(c, r, x);
  if (id == NULL) {
    error_at(c, o, "missing Identifier on Property of EntityType '%s'",
             JH_Q(type));
    r->dropped = 1;
    return;
  }
  if (t == NULL)
    t = "String"; /* Identity Manager's default */
  if (strcmp(t, "ForeignKey") == 0) {
    int side = 0;
    const xnode *as = find_assoc(c, type, id, &side);
    const char *ot, *op;
    if (as == NULL) {
      error_at(c, o,
               "ForeignKey property '%s' of EntityType '%s' has no "
               "EntityAssociation naming %s:%s in Property1 or Property2",
               JH_Q(id), JH_Q(type), type, id);
      r->dropped = 1;
      return;
    }
    assoc_side(c, as, 3 - side, &ot, &op);
    if (assoc_collection(c, as, side)) {
      const xnode *m = find_amap(c, as);
      if (m == NULL || owner_side(c, as) != side) {
        /* the inverse of a navigation jobhost stores on the other side */
        warn_at(c, o,
                "property '%s' of EntityType '%s' is the inverse of %s:%s "
                "(EntityAssociation '%s'): jobhost follows links from the "
                "side that stores them only; left out (kept as a comment)",
                JH_Q(id), JH_Q(type), ot != NULL ? ot : "?",
                op != NULL ? op : "?", JH_Q(get(c, as->n, "Identifier")));
        rec_comment(c, r, o,
                    jh_xml_fmt(&c->mem, "left out: %s, the inverse of %s:%s",
                               id, ot != NULL ? ot : "?",
                               op != NULL ? op : "?"));
        r->dropped = 1;
        return;
      }
      rec_kv(c, r, ta ? aorigin(c, x.fi, ta) : o, "type", "links");
    } else {
      rec_kv(c, r, ta ? aorigin(c, x.fi, ta) : o, "type", "link");
    }
    rec_kv(c, r, o, "target", ot != NULL ? ot : "?");
    return;
  }
  for (size_t i = 0; i < NELEM(prop_types); i++)
    if (strcmp(t, prop_types[i].im) == 0) {
      rec_kv(c, r, ta ? aorigin(c, x.fi, ta) : o, "type", prop_types[i].jh);
      return;
    }
  unsupported(c, ta ? aorigin(c, x.fi, ta) : o,
              "unsupported Type '%s' of property '%s': jobhost has String, "
              "Guid (as string), Int32, Int64, Bool, DateTime and ForeignKey",
              JH_Q(t), JH_Q(id));
  rec_comment(c, r, o,
              jh_xml_fmt(&c->mem, "left out: property %s of Type %s", id, t));
  r->dropped = 1;
}

static void write_children(mctx *c, const char *key, jh_xml_origin o, rec *kids,
                           size_t n, int indent) {
  int any = 0;
  for (size_t i = 0; i < n; i++)
    any |= !kids[i].dropped && rec_has_fields(&kids[i]);
  if (any)
    key_line(c, indent, o, key);
  for (size_t i = 0; i < n; i++) {
    if (!any) {
      for (size_t k = 0; k < kids[i].n; k++)
        if (kids[i].v[k].comment)
          comment_line(c, indent, kids[i].v[k].o, kids[i].v[k].key);
      continue;
    }
    if (kids[i].dropped || !rec_has_fields(&kids[i])) {
      for (size_t k = 0; k < kids[i].n; k++)
        if (kids[i].v[k].comment)
          comment_line(c, indent + 2, kids[i].v[k].o, kids[i].v[k].key);
      continue;
    }
    write_rec(c, &kids[i], indent + 2);
  }
}

static void free_recs(rec *r, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(r[i].v);
  free(r);
}

#define MAX_CHILDREN 4096

/* An element with child records under `list_key`: the parent record,
 * then its children. */
static void write_parent(mctx *c, rec *r, const char *list_key, rec *kids,
                         size_t nkids) {
  int ind;
  if (r->dropped || !rec_has_fields(r)) {
    for (size_t k = 0; k < r->n; k++)
      if (r->v[k].comment)
        comment_line(c, 2, r->v[k].o, r->v[k].key);
    return;
  }
  ind = write_rec(c, r, 2);
  if (list_key != NULL)
    write_children(c, list_key, r->o, kids, nkids, ind);
}

static void write_entity_type(mctx *c, xnode x) {
  static const aspec spec[] = {{"Identifier", A_STR, "id", NULL},
                               {"DisplayName_L1", A_SKIP, NULL, NULL}};
  static const char *const ok[] = {"Property"};
  rec r = {0};
  xnode *ch = calloc(MAX_CHILDREN, sizeof(*ch));
  rec *kids = NULL;
  size_t n;
  const char *id = get(c, x.n, "Identifier");
  if (ch == NULL) {
    c->mem.oom = 1;
    return;
  }
  r.o = norigin(c, x);
  read_attrs(c, &r, x, spec, NELEM(spec), NULL);
  if (id == NULL) {
    error_at(c, r.o, "missing Identifier on EntityType");
    r.dropped = 1;
  }
  n = children(c, &r, x, ok, 1, "Property", ch, MAX_CHILDREN);
  kids = calloc(n + 1, sizeof(*kids));
  if (kids == NULL) {
    c->mem.oom = 1;
    free(ch);
    free(r.v);
    return;
  }
  for (size_t i = 0; i < n && id != NULL; i++)
    entity_property(c, &kids[i], ch[i], id);
  write_parent(c, &r, "properties", kids, n);
  free_recs(kids, n);
  free(r.v);
  free(ch);
}

/* EntityAssociation: checked here, written through its properties and
 * its mapping. */
static void check_association(mctx *c, xnode x) {
  static const aspec spec[] = {{"Identifier", A_SKIP, NULL, NULL},
                               {"Property1", A_SKIP, NULL, NULL},
                               {"Property2", A_SKIP, NULL, NULL},
                               {"IsProperty1Collection", A_BOOL, "c1", NULL},
                               {"IsProperty2Collection", A_BOOL, "c2", NULL},
                               {"DisplayName_L1", A_SKIP, NULL, NULL}};
  rec r = {0};
  jh_xml_origin o = norigin(c, x);
  read_attrs(c, &r, x, spec, NELEM(spec), NULL);
  no_text(c, &r, x);
  if (get(c, x.n, "Identifier") == NULL)
    error_at(c, o, "missing Identifier on EntityAssociation");
  for (int s = 1; s <= 2; s++) {
    const char *v = get(c, x.n, s == 1 ? "Property1" : "Property2");
    if (v == NULL || strchr(v, ':') == NULL || strchr(v, ':') == v ||
        strchr(v, ':')[1] == '\0')
      error_at(c, o,
               "EntityAssociation '%s': Property%d must be "
               "EntityType:Property",
               JH_Q(get(c, x.n, "Identifier")), s);
  }
  /* what was left out of it (other attributes, children) is reported;
   * its comments would have no place of their own */
  for (xmlNode *ch = x.n->children; ch != NULL; ch = ch->next)
    if (ch->type == XML_ELEMENT_NODE)
      child_unsupported(c, &r, (xnode){x.fi, ch}, "EntityAssociation",
                        "no child element");
  free(r.v);
}

/* ---- mappings ---- */

static const aspec resource_thresholds[] = {
    {"MaximumDeletedLines", A_THRESH, "maximum_deleted_lines", NULL},
    {"MaximumInsertedLines", A_THRESH, "maximum_inserted_lines", NULL},
    {"MaximumUpdatedLines", A_THRESH, "maximum_updated_lines", NULL},
    {"MaxPercentageDeletedLines", A_THRESH, "max_percentage_deleted_lines",
     NULL},
    {"MaxPercentageInsertedLines", A_THRESH, "max_percentage_inserted_lines",
     NULL},
    {"MaxPercentageUpdatedLines", A_THRESH, "max_percentage_updated_lines",
     NULL}};

static void write_mapping(mctx *c, xnode x) {
  static const aspec base[] = {{"Identifier", A_STR, "entity_type", NULL},
                               {"Connector", A_STR, "connector", NULL},
                               {"ConnectionTable", A_STR, "connection_table",
                                NULL}};
  static const aspec prop_spec[] = {
      {"Identifier", A_STR, "property", NULL},
      {"ConnectionColumn", A_STR, "column", NULL},
      {"IsPrimaryKey", A_BOOL, "primary_key", NULL},
      {"IsUniqueKey", A_BOOL, "unique_key", NULL}};
  static const char *const ok[] = {"Property"};
  aspec spec[NELEM(base) + NELEM(resource_thresholds)];
  rec r = {0};
  xnode *ch = calloc(MAX_CHILDREN, sizeof(*ch));
  rec *kids;
  size_t n;
  if (ch == NULL) {
    c->mem.oom = 1;
    return;
  }
  memcpy(spec, base, sizeof(base));
  memcpy(spec + NELEM(base), resource_thresholds, sizeof(resource_thresholds));
  r.o = norigin(c, x);
  read_attrs(c, &r, x, spec, NELEM(spec), NULL);
  if (rec_get(&r, "entity_type") == NULL) {
    error_at(c, r.o,
             "missing Identifier on EntityTypeMapping: expected the "
             "entity type it maps");
    r.dropped = 1;
  }
  n = children(c, &r, x, ok, 1, "Property", ch, MAX_CHILDREN);
  kids = calloc(n + 1, sizeof(*kids));
  if (kids == NULL) {
    c->mem.oom = 1;
    free(ch);
    free(r.v);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    kids[i].o = norigin(c, ch[i]);
    read_attrs(c, &kids[i], ch[i], prop_spec, NELEM(prop_spec), NULL);
    no_text(c, &kids[i], ch[i]);
    no_child_elements(c, &kids[i], ch[i]);
  }
  write_parent(c, &r, "properties", kids, n);
  free_recs(kids, n);
  free(r.v);
  free(ch);
}

static void write_association_mapping(mctx *c, xnode x) {
  static const aspec spec[] = {
      {"Identifier", A_STR, "id", NULL},
      {"Connector", A_STR, "connector", NULL},
      {"ConnectionTable", A_STR, "connection_table", NULL},
      {"Column1", A_SKIP, NULL, NULL},
      {"Column2", A_SKIP, NULL, NULL},
      {"EntityPropertyMapping1", A_SKIP, NULL, NULL},
      {"EntityPropertyMapping2", A_SKIP, NULL, NULL},
      {"MaximumLinkDeletedLines", A_THRESH, "maximum_link_deleted_lines", NULL},
      {"MaximumLinkInsertedLines", A_THRESH, "maximum_link_inserted_lines",
       NULL},
      {"MaxLinkPercentageDeletedLines", A_THRESH,
       "max_link_percentage_deleted_lines", NULL},
      {"MaxLinkPercentageInsertedLines", A_THRESH,
       "max_link_percentage_inserted_lines", NULL}};
  rec r = {0};
  const char *id = get(c, x.n, "Identifier");
  const xnode *as = NULL;
  int side;
  r.o = norigin(c, x);
  read_attrs(c, &r, x, spec, NELEM(spec), NULL);
  no_text(c, &r, x);
  no_child_elements(c, &r, x);
  for (size_t i = 0; id != NULL && i < c->el[E_ASSOC].n; i++) {
    const char *a = get(c, c->el[E_ASSOC].v[i].n, "Identifier");
    if (a != NULL && strcmp(a, id) == 0)
      as = &c->el[E_ASSOC].v[i];
  }
  if (as == NULL) {
    error_at(c, r.o,
             "EntityAssociationMapping '%s' has no EntityAssociation of the "
             "same Identifier",
             JH_Q(id));
    free(r.v);
    return;
  }
  side = owner_side(c, as);
  {
    const char *type, *prop;
    const char *col[2] = {get(c, x.n, "Column1"), get(c, x.n, "Column2")};
    const char *key[2] = {get(c, x.n, "EntityPropertyMapping1"),
                          get(c, x.n, "EntityPropertyMapping2")};
    int a = side == 1 ? 0 : 1, b = 1 - a;
    assoc_side(c, as, side, &type, &prop);
    if (!assoc_collection(c, as, side))
      error_at(c, r.o,
               "EntityAssociationMapping '%s': neither side of its "
               "EntityAssociation is a collection; jobhost fills a "
               "multi-valued link (links) from a table",
               JH_Q(id));
    if (col[0] == NULL || col[1] == NULL)
      error_at(c, r.o,
               "EntityAssociationMapping '%s' needs Column1 and Column2",
               JH_Q(id));
    rec_kv(c, &r, r.o, "entity_type", type != NULL ? type : "?");
    rec_kv(c, &r, r.o, "property", prop != NULL ? prop : "?");
    if (col[a] != NULL)
      rec_kv(c, &r, r.o, "column1", col[a]);
    if (col[b] != NULL)
      rec_kv(c, &r, r.o, "column2", col[b]);
    for (int k = 0; k < 2; k++) {
      const char *v = key[k == 0 ? a : b];
      const char *colon = v != NULL ? strchr(v, ':') : NULL;
      if (v != NULL)
        rec_kv(c, &r, r.o, k == 0 ? "key1" : "key2",
               colon != NULL ? colon + 1 : v);
    }
    if (side == 2)
      rec_comment(c, &r, r.o,
                  "Property2 is the collection: Column2 and "
                  "EntityPropertyMapping2 are the owner's");
  }
  /* the thresholds block must come last: move it */
  {
    rec out = {0};
    for (int pass = 0; pass < 2; pass++)
      for (size_t i = 0; i < r.n; i++) {
        int th = r.v[i].sub || (!r.v[i].comment && r.v[i].value == NULL);
        if (th == pass) {
          field *f = rec_add(c, &out);
          if (f != NULL)
            *f = r.v[i];
        }
      }
    out.o = r.o;
    write_rec(c, &out, 2);
    free(out.v);
  }
  free(r.v);
}

/* ---- computed properties ---- */

static void write_expression(mctx *c, xnode x) {
  static const aspec spec[] = {{"Identifier", A_STR, "id", NULL},
                               {"EntityType", A_STR, "entity_type", NULL},
                               {"Property", A_STR, "property", NULL},
                               {"Binding", A_BIND, "binding", NULL},
                               {"Expression", A_EXPR, "expression", NULL},
                               {"Priority", A_SINT, "priority", NULL}};
  rec r = {0};
  r.o = norigin(c, x);
  read_attrs(c, &r, x, spec, NELEM(spec), get(c, x.n, "EntityType"));
  no_text(c, &r, x);
  for (xmlNode *ch = x.n->children; ch != NULL; ch = ch->next)
    if (ch->type == XML_ELEMENT_NODE)
      child_unsupported(c, &r, (xnode){x.fi, ch}, "EntityPropertyExpression",
                        "no child element");
  if (r.dropped)
    rec_comment(c, &r, r.o,
                jh_xml_fmt(&c->mem, "left out: EntityPropertyExpression %s",
                           get(c, x.n, "Identifier") ? get(c, x.n, "Identifier")
                                                     : "?"));
  write_parent(c, &r, NULL, NULL, 0);
  free(r.v);
}

/* ---- resource types ---- */

#define POLICY                                                                 \
  {                                                                            \
    "Policy", A_DEFAULT, "Default",                                            \
        "jobhost has one policy, Identity "                                    \
        "Manager's default one"                                                \
  }

/* The resource type of that Identifier, or NULL. */
static const xnode *find_rtype(mctx *c, const char *id) {
  for (size_t i = 0; id != NULL && i < c->el[E_RTYPE].n; i++) {
    const char *v = get(c, c->el[E_RTYPE].v[i].n, "Identifier");
    if (v != NULL && strcmp(v, id) == 0)
      return &c->el[E_RTYPE].v[i];
  }
  return NULL;
}

static void rule_rec(mctx *c, rec *r, xnode x, const aspec *spec, size_t n,
                     const char *want_type) {
  r->o = norigin(c, x);
  read_attrs(c, r, x, spec, n, want_type);
  no_text(c, r, x);
  for (xmlNode *ch = x.n->children; ch != NULL; ch = ch->next)
    if (ch->type == XML_ELEMENT_NODE)
      child_unsupported(c, r, (xnode){x.fi, ch}, (const char *)x.n->name,
                        "no child element");
  /* a rule is left out whole: without a criterion it would apply more
   * widely than written */
  if (r->unsupported > 0)
    r->dropped = 1;
  if (r->dropped)
    rec_comment(c, r, r->o,
                jh_xml_fmt(&c->mem, "left out: <%s> at line %d",
                           (const char *)x.n->name, r->o.line));
}

static void write_rule_list(mctx *c, const char *key, jh_xml_origin o, rec *v,
                            size_t n, int indent) {
  if (n > 0)
    write_children(c, key, o, v, n, indent);
}

static void write_resource_type(mctx *c, xnode x) {
  static const aspec base[] = {
      {"Identifier", A_STR, "id", NULL},
      {"SourceEntityType", A_STR, "source_entity_type", NULL},
      {"TargetEntityType", A_STR, "target_entity_type", NULL},
      {"AllowAdd", A_BOOL, "allow_add", NULL},
      {"AllowRemove", A_BOOL, "allow_remove", NULL},
      {"RemoveOrphans", A_BOOL, "remove_orphans", NULL},
      {"BlockProvisioning", A_BOOL, "block_provisioning", NULL},
      {"MaximumInsert", A_THRESH, "maximum_insert", NULL},
      {"MaximumUpdate", A_THRESH, "maximum_update", NULL},
      {"MaximumDelete", A_THRESH, "maximum_delete", NULL},
      {"MaximumInsertPercent", A_THRESH, "maximum_insert_percent", NULL},
      {"MaximumUpdatePercent", A_THRESH, "maximum_update_percent", NULL},
      {"MaximumDeletePercent", A_THRESH, "maximum_delete_percent", NULL},
      {"Category", A_NOTE, NULL, NULL},
      POLICY,
      {"ApprovalWorkflowType", A_DEFAULT, "None",
       "jobhost has no approval workflows; review is block_provisioning"}};
  static const aspec type_spec[] = {POLICY};
  static const aspec scalar_spec[] = {{"Property", A_STR, "property", NULL},
                                      {"Binding", A_BIND, "binding", NULL},
                                      {"Expression", A_EXPR, "expression",
                                       NULL},
                                      POLICY};
  static const aspec nav_spec[] = {{"Property", A_STR, "property", NULL},
                                   {"Resource", A_STR, "resource", NULL},
                                   POLICY};
  static const aspec corr_spec[] = {
      {"ResourceType", A_SKIP, NULL, NULL},
      {"SourceBinding", A_BIND, "source_binding", NULL},
      {"SourceExpression", A_EXPR, "source_expression", NULL},
      {"TargetBinding", A_BIND, "target_binding", NULL},
      {"TargetExpression", A_EXPR, "target_expression", NULL},
      {"SourceMatchedConfidenceLevel", A_CONF, "confidence", NULL},
      POLICY};
  static const char *const ok[] = {"TypeRule", "ScalarRule", "NavigationRule"};
  const char *id = get(c, x.n, "Identifier");
  const char *src = get(c, x.n, "SourceEntityType");
  const char *tgt = get(c, x.n, "TargetEntityType");
  xnode *ch = calloc(MAX_CHILDREN, sizeof(*ch));
  rec r = {0}, *types = NULL, *scalars = NULL, *navs = NULL, *corrs = NULL;
  size_t n, nt = 0, ns = 0, nn = 0, nc = 0;
  int every = 0;
  size_t live_types = 0;
  jh_xml_origin every_at = {0, 0, 0};
  int ind;

  if (ch == NULL) {
    c->mem.oom = 1;
    return;
  }
  r.o = norigin(c, x);
  read_attrs(c, &r, x, base, NELEM(base), NULL);
  if (id == NULL) {
    error_at(c, r.o, "missing Identifier on ResourceType");
    r.dropped = 1;
  }
  n = children(c, &r, x, ok, NELEM(ok),
               "TypeRule, ScalarRule and NavigationRule", ch, MAX_CHILDREN);
  types = calloc(n + 1, sizeof(*types));
  scalars = calloc(n + 1, sizeof(*scalars));
  navs = calloc(n + 1, sizeof(*navs));
  corrs = calloc(c->el[E_CORR].n + 1, sizeof(*corrs));
  if (types == NULL || scalars == NULL || navs == NULL || corrs == NULL) {
    c->mem.oom = 1;
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    const char *name = (const char *)ch[i].n->name;
    if (strcmp(name, "TypeRule") == 0) {
      rec *t = &types[nt++];
      rule_rec(c, t, ch[i], type_spec, NELEM(type_spec), src);
      live_types += !t->dropped;
      if (!t->dropped && !rec_has_fields(t) && !every) {
        every = 1;
        every_at = t->o;
      }
    } else if (strcmp(name, "ScalarRule") == 0) {
      rule_rec(c, &scalars[ns++], ch[i], scalar_spec, NELEM(scalar_spec), src);
    } else {
      rule_rec(c, &navs[nn++], ch[i], nav_spec, NELEM(nav_spec), src);
    }
  }
  for (size_t i = 0; id != NULL && i < c->el[E_CORR].n; i++) {
    xnode y = c->el[E_CORR].v[i];
    const char *rt = get(c, y.n, "ResourceType");
    if (rt == NULL || strcmp(rt, id) != 0)
      continue;
    rec *k = &corrs[nc++];
    k->o = norigin(c, y);
    /* bindings name the source (owner) and the target entity type */
    rule_rec(c, k, y, corr_spec, NELEM(corr_spec), NULL);
    for (size_t f = 0; f < k->n; f++) {
      const xmlAttr *a = NULL;
      const char *want = NULL;
      if (k->v[f].comment || k->v[f].value == NULL)
        continue;
      if (strcmp(k->v[f].key, "source_binding") == 0) {
        a = find_attr(y.n, "SourceBinding");
        want = src;
      } else if (strcmp(k->v[f].key, "target_binding") == 0) {
        a = find_attr(y.n, "TargetBinding");
        want = tgt;
      }
      if (a != NULL && want != NULL)
        (void)binding_value(c, y.fi, a, want);
    }
  }
  if (r.dropped || !rec_has_fields(&r)) {
    write_parent(c, &r, NULL, NULL, 0);
    goto done;
  }
  ind = write_rec(c, &r, 2);
  if (every) {
    comment_line(c, ind, every_at,
                 "a TypeRule without criteria: every source resource gets "
                 "the resource type (no type_rules)");
    for (size_t i = 0; i < nt; i++)
      for (size_t k = 0; k < types[i].n; k++)
        if (types[i].v[k].comment)
          comment_line(c, ind, types[i].v[k].o, types[i].v[k].key);
  } else if (live_types == 0) {
    /* Identity Manager assigns a resource type without TypeRule to
     * nobody; jobhost's default (no type_rules) is everybody */
    key_line(c, ind, r.o, "type_rules");
    for (size_t i = 0; i < nt; i++)
      for (size_t k = 0; k < types[i].n; k++)
        if (types[i].v[k].comment)
          comment_line(c, ind + 2, types[i].v[k].o, types[i].v[k].key);
    comment_line(c, ind + 2, r.o,
                 nt == 0 ? "no TypeRule: the role model assigns it to nobody"
                         : "no TypeRule left: the role model assigns it to "
                           "nobody");
    spaces(c, ind + 2);
    puts_(c, "- criterion: \"Literal:false\"");
    end_line(c, r.o);
  } else {
    write_rule_list(c, "type_rules", r.o, types, nt, ind);
  }
  write_rule_list(c, "scalar_rules", r.o, scalars, ns, ind);
  write_rule_list(c, "navigation_rules", r.o, navs, nn, ind);
  write_rule_list(c, "correlation_rules", r.o, corrs, nc, ind);
done:
  if (types != NULL)
    free_recs(types, nt);
  if (scalars != NULL)
    free_recs(scalars, ns);
  if (navs != NULL)
    free_recs(navs, nn);
  if (corrs != NULL)
    free_recs(corrs, nc);
  free(r.v);
  free(ch);
}

/* Correlation rules naming no resource type of the files. */
static void check_correlations(mctx *c) {
  for (size_t i = 0; i < c->el[E_CORR].n; i++) {
    xnode y = c->el[E_CORR].v[i];
    const char *rt = get(c, y.n, "ResourceType");
    if (rt == NULL)
      error_at(c, norigin(c, y),
               "missing ResourceType on "
               "ResourceCorrelationRule");
    else if (find_rtype(c, rt) == NULL)
      error_at(c, norigin(c, y),
               "ResourceCorrelationRule of ResourceType '%s': no ResourceType "
               "of that Identifier in the files (jobhost keeps correlation "
               "rules in their resource type)",
               JH_Q(rt));
  }
}

/* ---- classification and profiles ---- */

static void write_classification(mctx *c, xnode x) {
  static const aspec spec[] = {
      {"ResourceType", A_STR, "resource_type", NULL},
      {"TargetBinding", A_BIND, "target_binding", NULL},
      {"TargetExpression", A_EXPR, "target_expression", NULL},
      {"ResourceTypeIdentificationConfidenceLevel", A_CONF, "confidence", NULL},
      POLICY};
  const xnode *rt = find_rtype(c, get(c, x.n, "ResourceType"));
  rec r = {0};
  rule_rec(c, &r, x, spec, NELEM(spec),
           rt != NULL ? get(c, rt->n, "TargetEntityType") : NULL);
  write_parent(c, &r, NULL, NULL, 0);
  free(r.v);
}

static void write_context(mctx *c, xnode x) {
  static const aspec spec[] = {{"EntityType", A_STR, "entity_type", NULL},
                               {"ResourceType", A_STR, "resource_type", NULL},
                               {"SubBinding", A_BIND, "sub_binding", NULL},
                               {"IsAppliedToRoot", A_BOOL, "is_applied_to_root",
                                NULL}};
  static const aspec rule_spec[] = {
      {"Profile", A_STR, "profile", NULL},
      {"IsDenied", A_BOOL, "is_denied", NULL},
      {"RootExpression", A_EXPR, "root_expression", NULL},
      {"SubExpression", A_EXPR, "sub_expression", NULL}};
  static const char *const ok[] = {"ProfileRule"};
  const char *et = get(c, x.n, "EntityType");
  const xnode *rt = find_rtype(c, get(c, x.n, "ResourceType"));
  xnode *ch = calloc(MAX_CHILDREN, sizeof(*ch));
  rec r = {0}, *kids;
  size_t n;
  if (ch == NULL) {
    c->mem.oom = 1;
    return;
  }
  if (et == NULL && rt != NULL)
    et = get(c, rt->n, "SourceEntityType");
  r.o = norigin(c, x);
  read_attrs(c, &r, x, spec, NELEM(spec), et);
  n = children(c, &r, x, ok, 1, "ProfileRule", ch, MAX_CHILDREN);
  kids = calloc(n + 1, sizeof(*kids));
  if (kids == NULL) {
    c->mem.oom = 1;
    free(ch);
    free(r.v);
    return;
  }
  for (size_t i = 0; i < n; i++)
    rule_rec(c, &kids[i], ch[i], rule_spec, NELEM(rule_spec), NULL);
  write_parent(c, &r, "profile_rules", kids, n);
  free_recs(kids, n);
  free(r.v);
  free(ch);
}

/* ---- public ---- */

int jh_xml_model_element(const char *name) {
  for (size_t i = 0; i < E_COUNT; i++)
    if (strcmp(name, element_names[i]) == 0)
      return 1;
  return 0;
}

static void collect(mctx *c) {
  for (size_t fi = 0; fi < c->nfiles; fi++) {
    xmlNode *root = c->files[fi].doc != NULL
                        ? xmlDocGetRootElement(c->files[fi].doc)
                        : NULL;
    if (root == NULL || !is_im(root) ||
        strcmp((const char *)root->name, "ConfigurationFile") != 0)
      continue;
    for (xmlNode *n = root->children; n != NULL; n = n->next) {
      if (n->type != XML_ELEMENT_NODE || !is_im(n))
        continue;
      for (size_t k = 0; k < E_COUNT; k++)
        if (strcmp((const char *)n->name, element_names[k]) == 0)
          jh_xml_push(&c->mem, &c->el[k], fi, n);
    }
  }
}

static void write_all(mctx *c) {
  static const struct {
    int kind;
    const char *section;
    void (*write)(mctx *, xnode);
  } order[] = {{E_TYPE, "entity_types", write_entity_type},
               {E_MAP, "entity_type_mappings", write_mapping},
               {E_AMAP, "association_mappings", write_association_mapping},
               {E_EXPR, "entity_property_expressions", write_expression},
               {E_RTYPE, "resource_types", write_resource_type},
               {E_CLASS, "resource_classification_rules", write_classification},
               {E_CONTEXT, "profile_rule_contexts", write_context}};
  for (size_t i = 0; i < c->el[E_ASSOC].n; i++)
    check_association(c, c->el[E_ASSOC].v[i]);
  check_correlations(c);
  for (size_t i = 0; i < NELEM(order); i++) {
    const xnodes *v = &c->el[order[i].kind];
    if (v->n == 0)
      continue;
    section(c, norigin(c, v->v[0]), order[i].section);
    for (size_t k = 0; k < v->n; k++)
      order[i].write(c, v->v[k]);
  }
}

int jh_xml_model_write(const jh_xml_file *files, size_t nfiles, int lenient,
                       jh_xml_output *out, jh_diags *diags) {
  mctx c;
  memset(out, 0, sizeof(*out));
  memset(&c, 0, sizeof(c));
  c.files = files;
  c.nfiles = nfiles;
  c.lenient = lenient;
  c.diags = diags;
  collect(&c);
  write_all(&c);
  jh_xml_pool_free(&c.mem);
  for (size_t k = 0; k < E_COUNT; k++)
    free(c.el[k].v);
  if (c.mem.oom) {
    free(c.buf);
    free(c.org);
    return -ENOMEM;
  }
  out->yaml = c.buf;
  out->len = c.len;
  out->origins = c.org;
  out->nlines = c.nlines;
  return 0;
}
