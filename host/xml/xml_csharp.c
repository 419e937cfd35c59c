/*
 * xml_csharp.c — see xml_csharp.h.
 *
 * A lexer and a recursive-descent parser of the subset, with C#'s
 * precedence (?: below ?? below || below && below equality below
 * relational below + below unary below member access). Each rule returns
 * the Lua text of its part and a static type, which decides how the part
 * is used: a value read from a resource (text, or nil) is made a boolean
 * with cs_bool where C# wants a bool, and guarded with `or ''` in a
 * concatenation, where C# reads null as "". Every binary result is put in
 * parentheses, so Lua's precedence never matters.
 */
#include "config.h"

#include "xml_csharp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_DEPTH 64 /* nesting of parentheses and operators */
#define MAX_PARAM 63 /* the longest parameter name lib/expr.c reads */

/* Static types of translated parts. */
typedef enum ty {
  T_STR,  /* text (a literal, a concatenation, a string method) */
  T_BOOL, /* a Lua boolean (or nil after ?.) */
  T_VAL,  /* read from the resource: text, a resource, a list, or nil */
  T_NULL, /* null */
  T_INT   /* an integer literal */
} ty;

typedef struct node {
  char *s; /* Lua text, malloc'd; NULL on failure */
  ty t;
  int lit; /* a literal: never nil */
} node;

enum { K_END, K_IDENT, K_STR, K_INT, K_OP };

typedef struct tok {
  int kind;
  size_t pos, len; /* in the source */
  char op[3];      /* K_OP */
  char *str;       /* K_STR: decoded bytes, malloc'd */
  size_t slen;
} tok;

/* Helpers the Lua body may need, emitted before `return` when used. */
enum {
  H_GET,
  H_BOOL,
  H_TRIM,
  H_SUB,
  H_CONTAINS,
  H_STARTS,
  H_ENDS,
  H_REPLACE,
  H_EMPTY,
  H_BLANK,
  H_COUNT
};

static const char *const helper_text[H_COUNT] = {
    "local function cs_get(v, k) if v == nil then return nil end "
    "return v[k] end",
    "local function cs_bool(v) if type(v) == 'string' then v = v:lower() "
    "return v ~= 'false' and v ~= '0' and v ~= '' end "
    "return v ~= nil and v ~= false end",
    "local function cs_trim(s) if s == nil then return nil end "
    "return (s:match('^%s*(.-)%s*$')) end",
    "local function cs_substring(s, i, n) if s == nil then return nil end "
    "local len = utf8.len(s) if len == nil then "
    "error('Substring: the value is not valid UTF-8') end "
    "i = math.tointeger(tonumber(i)) if n ~= nil then "
    "n = math.tointeger(tonumber(n)) elseif i ~= nil then n = len - i end "
    "if i == nil or n == nil or i < 0 or n < 0 or i + n > len then "
    "error('Substring: index or length out of range') end "
    "return s:sub(utf8.offset(s, i + 1), utf8.offset(s, i + n + 1) - 1) end",
    "local function cs_contains(s, t) if s == nil or t == nil then "
    "return nil end return s:find(t, 1, true) ~= nil end",
    "local function cs_startswith(s, t) if s == nil or t == nil then "
    "return nil end return s:sub(1, #t) == t end",
    "local function cs_endswith(s, t) if s == nil or t == nil then "
    "return nil end return #t == 0 or s:sub(-#t) == t end",
    "local function cs_replace(s, a, b) if s == nil then return nil end "
    "if a == nil or a == '' then "
    "error('Replace: the text to replace is empty') end "
    "return (s:gsub(a:gsub('%p', '%%%0'), ((b or ''):gsub('%%', '%%%%')))) "
    "end",
    "local function cs_empty(s) return s == nil or s == '' end",
    "local function cs_blank(s) return s == nil or s:match('^%s*$') ~= nil "
    "end",
};

/* The built-in functions, callable as methods with their names kept. */
static const char *const builtins[] = {"Simplify",
                                       "RemoveDiacritics",
                                       "ToDoubleMetaphone",
                                       "ToSoundex",
                                       "ToFirstName",
                                       "ToTitle",
                                       "ToFormatedDN",
                                       "ParseLocalDate",
                                       "ParseLocalDateThenAddMinutes",
                                       "ParseUniversalDate",
                                       "ParseUniversalDateThenAddMinutes",
                                       "FormatLocalDate"};

static const char *const lua_keywords[] = {
    "and",      "break",  "do",   "else", "elseif", "end",  "false", "for",
    "function", "goto",   "if",   "in",   "local",  "nil",  "not",   "or",
    "repeat",   "return", "then", "true", "until",  "while"};

/* Names the parameter may not take: the sandbox refuses them, or the
 * translation uses them. */
static const char *const reserved_params[] = {
    "os",   "io",           "debug",        "package",        "require",
    "load", "loadfile",     "dofile",       "collectgarbage", "_G",
    "_ENV", "getmetatable", "setmetatable", "string",         "utf8",
    "math", "table",        "type",         "tonumber",       "error"};

typedef struct parser {
  const char *src;
  size_t n;   /* length of src */
  size_t pos; /* lexer position */
  tok cur;
  const char *param;
  size_t param_len;
  int helpers[H_COUNT];
  int depth;
  int failed; /* -EINVAL or -ENOMEM once failed */
  size_t at;
  char *err;
  size_t errsize;
} parser;

/* ---- errors and text ---- */

static void fail(parser *p, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(parser *p, size_t at, const char *fmt, ...) {
  va_list ap;
  if (p->failed)
    return;
  p->failed = -EINVAL;
  p->at = at;
  va_start(ap, fmt);
  vsnprintf(p->err, p->errsize, fmt, ap);
  va_end(ap);
}

static void oom(parser *p) {
  if (p->failed != -ENOMEM) {
    p->failed = -ENOMEM;
    snprintf(p->err, p->errsize, "out of memory");
  }
}

static char *fmt(parser *p, const char *f, ...)
    __attribute__((format(printf, 2, 3)));
static char *fmt(parser *p, const char *f, ...) {
  va_list ap;
  char *s = NULL;
  int rc;
  va_start(ap, f);
  rc = vasprintf(&s, f, ap);
  va_end(ap);
  if (rc < 0) {
    oom(p);
    return NULL;
  }
  return s;
}

/* The source text of the current token, for messages (at most 40
 * bytes, in a static-free buffer of the caller). */
static const char *tok_text(const parser *p, char *buf, size_t size) {
  size_t len = p->cur.len;
  if (p->cur.kind == K_END)
    return "the end of the expression";
  if (len > 40)
    len = 40;
  snprintf(buf, size, "'%.*s'", (int)len, p->src + p->cur.pos);
  return buf;
}

static int is_ident_start(unsigned char ch) {
  return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
}

static int is_ident_char(unsigned char ch) {
  return is_ident_start(ch) || (ch >= '0' && ch <= '9');
}

static int in_list(const char *const *list, size_t n, const char *s,
                   size_t len) {
  for (size_t i = 0; i < n; i++)
    if (strlen(list[i]) == len && strncmp(list[i], s, len) == 0)
      return 1;
  return 0;
}

/* ---- lexer ---- */

/* A string literal at p->pos (after the opening quote); verbatim for
 * @"...". Fills p->cur.str. */
static void lex_string(parser *p, int verbatim) {
  size_t start = p->cur.pos;
  char *out = malloc(p->n - p->pos + 1);
  size_t k = 0;
  if (out == NULL) {
    oom(p);
    return;
  }
  for (;;) {
    char ch;
    if (p->pos >= p->n) {
      free(out);
      fail(p, start, "a string literal is not closed: expected '\"'");
      return;
    }
    ch = p->src[p->pos++];
    if (ch == '"') {
      if (verbatim && p->pos < p->n && p->src[p->pos] == '"') {
        out[k++] = '"';
        p->pos++;
        continue;
      }
      break;
    }
    if (ch == '\n' && !verbatim) {
      free(out);
      fail(p, start, "a string literal is not closed on its line");
      return;
    }
    if (ch == '\\' && !verbatim) {
      char e = p->pos < p->n ? p->src[p->pos] : '\0';
      const char *from = "\"\\'ntr0", *to = "\"\\'\n\t\r";
      const char *hit = e != '\0' ? strchr(from, e) : NULL;
      if (hit == NULL) {
        free(out);
        fail(p, p->pos - 1,
             "the escape '\\%c' is outside the subset: it has \\\" \\\\ "
             "\\' \\n \\t \\r \\0",
             e != '\0' ? e : ' ');
        return;
      }
      out[k++] = to[hit - from]; /* "\0" maps on the terminator: a NUL */
      p->pos++;
      continue;
    }
    out[k++] = ch;
  }
  out[k] = '\0';
  p->cur.kind = K_STR;
  p->cur.str = out;
  p->cur.slen = k;
  p->cur.len = p->pos - start;
}

static void next(parser *p) {
  static const char *const ops2[] = {"?.", "??", "==", "!=",
                                     "<=", ">=", "&&", "||"};
  static const char ops1[] = ".(),+<>!?:;-";
  const char *s = p->src;
  free(p->cur.str);
  memset(&p->cur, 0, sizeof(p->cur));
  if (p->failed)
    return;
  while (p->pos < p->n && (s[p->pos] == ' ' || s[p->pos] == '\t' ||
                           s[p->pos] == '\r' || s[p->pos] == '\n'))
    p->pos++;
  p->cur.pos = p->pos;
  if (p->pos >= p->n) {
    p->cur.kind = K_END;
    return;
  }
  unsigned char ch = (unsigned char)s[p->pos];
  if (ch == '@' && p->pos + 1 < p->n && s[p->pos + 1] == '"') {
    p->pos += 2;
    lex_string(p, 1);
    return;
  }
  if (ch == '"') {
    p->pos++;
    lex_string(p, 0);
    return;
  }
  if (is_ident_start(ch)) {
    while (p->pos < p->n && is_ident_char((unsigned char)s[p->pos]))
      p->pos++;
    p->cur.kind = K_IDENT;
    p->cur.len = p->pos - p->cur.pos;
    return;
  }
  if (ch >= '0' && ch <= '9') {
    while (p->pos < p->n && s[p->pos] >= '0' && s[p->pos] <= '9')
      p->pos++;
    p->cur.len = p->pos - p->cur.pos;
    if ((p->pos < p->n &&
         (is_ident_char((unsigned char)s[p->pos]) || s[p->pos] == '.')) ||
        p->cur.len > 9) {
      while (p->pos < p->n &&
             (is_ident_char((unsigned char)s[p->pos]) || s[p->pos] == '.'))
        p->pos++;
      p->cur.len = p->pos - p->cur.pos;
      fail(p, p->cur.pos,
           "the number '%.*s' is outside the subset: it has integers of up "
           "to 9 digits",
           (int)(p->cur.len > 20 ? 20 : p->cur.len), s + p->cur.pos);
      return;
    }
    p->cur.kind = K_INT;
    return;
  }
  if (ch == '\'') {
    fail(p, p->pos,
         "a character literal is outside the subset: write a string "
         "(\"x\")");
    return;
  }
  for (size_t i = 0; i < NELEM(ops2); i++)
    if (p->pos + 1 < p->n && s[p->pos] == ops2[i][0] &&
        s[p->pos + 1] == ops2[i][1]) {
      p->cur.kind = K_OP;
      memcpy(p->cur.op, ops2[i], 2);
      p->cur.len = 2;
      p->pos += 2;
      return;
    }
  if (strchr(ops1, (char)ch) != NULL) {
    p->cur.kind = K_OP;
    p->cur.op[0] = (char)ch;
    p->cur.len = 1;
    p->pos++;
    return;
  }
  if (ch >= 0x20 && ch < 0x7F)
    fail(p, p->pos,
         "'%c' is outside the subset (operators: + == != < > <= >= && || ! "
         "?: ?? . ?.)",
         ch);
  else
    fail(p, p->pos, "unexpected byte 0x%02X", ch);
}

static int is_op(const parser *p, const char *op) {
  return p->cur.kind == K_OP && strcmp(p->cur.op, op) == 0;
}

static int is_word(const parser *p, const char *w) {
  return p->cur.kind == K_IDENT && strlen(w) == p->cur.len &&
         strncmp(p->src + p->cur.pos, w, p->cur.len) == 0;
}

static int expect_op(parser *p, const char *op, const char *what) {
  char buf[64];
  if (is_op(p, op)) {
    next(p);
    return 0;
  }
  fail(p, p->cur.pos, "expected %s, got %s", what,
       tok_text(p, buf, sizeof(buf)));
  return -1;
}

/* ---- nodes ---- */

static node bad(void) {
  node n = {NULL, T_VAL, 0};
  return n;
}

static node mk(char *s, ty t) {
  node n = {s, t, 0};
  return n;
}

static void drop(node *n) {
  free(n->s);
  n->s = NULL;
}

/* A Lua string literal of bytes s[0..len). */
static char *lua_string(parser *p, const char *s, size_t len) {
  char *out = malloc(4 * len + 3), *o = out;
  if (out == NULL) {
    oom(p);
    return NULL;
  }
  *o++ = '\'';
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch == '\\' || ch == '\'') {
      *o++ = '\\';
      *o++ = (char)ch;
    } else if (ch == '\n') {
      *o++ = '\\';
      *o++ = 'n';
    } else if (ch < 0x20 || ch == 0x7F) {
      o += sprintf(o, "\\%03u", ch);
    } else {
      *o++ = (char)ch;
    }
  }
  *o++ = '\'';
  *o = '\0';
  return out;
}

/* n as a condition: a Lua boolean. */
static node as_cond(parser *p, node n, size_t at) {
  char *s;
  switch (n.t) {
  case T_BOOL:
    return n;
  case T_VAL:
    p->helpers[H_BOOL] = 1;
    s = fmt(p, "cs_bool(%s)", n.s);
    drop(&n);
    return mk(s, T_BOOL);
  default:
    drop(&n);
    fail(p, at,
         "a %s where a condition is expected: a condition is a comparison, "
         "a boolean method (Contains, ...) or a property",
         n.t == T_STR   ? "string"
         : n.t == T_INT ? "number"
                        : "null");
    return bad();
  }
}

/* n as an operand of a concatenation. */
static char *concat_part(parser *p, node *n, size_t at) {
  char *s;
  switch (n->t) {
  case T_NULL:
    drop(n);
    return NULL; /* adds nothing */
  case T_INT:
    s = fmt(p, "'%s'", n->s);
    drop(n);
    return s;
  case T_BOOL:
    drop(n);
    fail(p, at, "a boolean in a concatenation is outside the subset");
    return NULL;
  default:
    if (n->lit) {
      s = n->s;
      n->s = NULL;
      return s;
    }
    s = fmt(p, "(%s or '')", n->s);
    drop(n);
    return s;
  }
}

/* ---- grammar ---- */

static node expr(parser *p);

static int enter(parser *p) {
  if (++p->depth > MAX_DEPTH) {
    fail(p, p->cur.pos, "the expression is nested more than %d deep",
         MAX_DEPTH);
    return -1;
  }
  return 0;
}

static void drop_all(node *v, int n) {
  for (int i = 0; i < n; i++)
    drop(&v[i]);
}

/* Arguments of a call, after '('. Returns the count, or -1 (the
 * arguments read so far freed). */
static int args(parser *p, node *out, int max) {
  int n = 0;
  if (is_op(p, ")")) {
    next(p);
    return 0;
  }
  for (;;) {
    if (n == max) {
      fail(p, p->cur.pos, "too many arguments: at most %d here", max);
      break;
    }
    out[n] = expr(p);
    if (out[n].s == NULL)
      break;
    n++;
    if (is_op(p, ",")) {
      next(p);
      continue;
    }
    if (expect_op(p, ")", "',' or ')'") != 0)
      break;
    return n;
  }
  drop_all(out, n);
  return -1;
}

/* An argument that must be text (or a value, or null). */
static const char *text_arg(parser *p, const node *a, size_t at,
                            const char *method) {
  if (a->t == T_BOOL || a->t == T_INT) {
    fail(p, at, "%s takes a string argument", method);
    return NULL;
  }
  return a->t == T_NULL ? "nil" : a->s;
}

/* The method call `recv.name(args)`, at name's position. */
static node method(parser *p, node recv, const char *name, size_t len,
                   size_t at) {
  static const struct {
    const char *cs;
    int helper; /* -1: a built-in, by its own name */
    const char *lua;
    int min, max;
    ty t;
  } methods[] = {{"ToLower", -1, "ToLower", 0, 0, T_STR},
                 {"ToUpper", -1, "ToUpper", 0, 0, T_STR},
                 {"ToLowerInvariant", -1, "ToLower", 0, 0, T_STR},
                 {"ToUpperInvariant", -1, "ToUpper", 0, 0, T_STR},
                 {"Trim", H_TRIM, "cs_trim", 0, 0, T_STR},
                 {"Substring", H_SUB, "cs_substring", 1, 2, T_STR},
                 {"Contains", H_CONTAINS, "cs_contains", 1, 1, T_BOOL},
                 {"StartsWith", H_STARTS, "cs_startswith", 1, 1, T_BOOL},
                 {"EndsWith", H_ENDS, "cs_endswith", 1, 1, T_BOOL},
                 {"Replace", H_REPLACE, "cs_replace", 2, 2, T_STR}};
  node a[4];
  int na, k = -1;
  char *s, *list, *cs_name;
  const char *lua = NULL;
  int helper = -1, min = 0, max = 3;
  ty t = T_STR;

  for (size_t i = 0; i < NELEM(methods); i++)
    if (strlen(methods[i].cs) == len && strncmp(methods[i].cs, name, len) == 0)
      k = (int)i;
  if (k >= 0) {
    lua = methods[k].lua;
    helper = methods[k].helper;
    min = methods[k].min;
    max = methods[k].max;
    t = methods[k].t;
  } else if (in_list(builtins, NELEM(builtins), name, len)) {
    for (size_t i = 0; i < NELEM(builtins); i++)
      if (strlen(builtins[i]) == len && strncmp(builtins[i], name, len) == 0)
        lua = builtins[i];
  } else {
    drop(&recv);
    fail(p, at,
         "the method '%.*s' is outside the subset: it has ToLower, ToUpper, "
         "Trim, Substring, Contains, StartsWith, EndsWith, Replace and the "
         "built-in functions (Simplify, ToTitle, ...)",
         (int)(len > 40 ? 40 : len), name);
    return bad();
  }
  if (recv.t == T_BOOL || recv.t == T_INT || recv.t == T_NULL) {
    drop(&recv);
    fail(p, at, "%.*s is called on a %s: it takes a string", (int)len, name,
         recv.t == T_BOOL  ? "boolean"
         : recv.t == T_INT ? "number"
                           : "null");
    return bad();
  }
  next(p); /* the '(' */
  na = args(p, a, max);
  if (na < 0) {
    drop(&recv);
    return bad();
  }
  if (na < min) {
    drop(&recv);
    drop_all(a, na);
    fail(p, at, "%.*s needs %d argument%s", (int)len, name, min,
         min > 1 ? "s" : "");
    return bad();
  }
  cs_name = fmt(p, "%.*s", (int)len, name); /* messages name the C# */
  list = cs_name != NULL ? strdup(recv.s) : NULL;
  for (int i = 0; i < na && list != NULL && !p->failed; i++) {
    const char *v = (helper == H_SUB) ? (a[i].t == T_NULL ? "nil" : a[i].s)
                                      : text_arg(p, &a[i], at, cs_name);
    if (helper == H_SUB && (a[i].t == T_BOOL || a[i].t == T_STR))
      fail(p, at, "Substring takes integer arguments");
    char *grown = v != NULL ? fmt(p, "%s, %s", list, v) : NULL;
    free(list);
    list = grown;
  }
  free(cs_name);
  drop(&recv);
  drop_all(a, na);
  if (list == NULL) {
    if (!p->failed)
      oom(p);
    return bad();
  }
  if (helper >= 0)
    p->helpers[helper] = 1;
  s = fmt(p, "%s(%s)", lua, list);
  free(list);
  return mk(s, t);
}

/* A property name as Lua reads it on v. */
static char *property(parser *p, const char *v, const char *name, size_t len,
                      int safe) {
  if (safe) {
    p->helpers[H_GET] = 1;
    return fmt(p, "cs_get(%s, '%.*s')", v, (int)len, name);
  }
  if (in_list(lua_keywords, NELEM(lua_keywords), name, len))
    return fmt(p, "%s['%.*s']", v, (int)len, name);
  return fmt(p, "%s.%.*s", v, (int)len, name);
}

/* Member accesses and calls after a primary. */
static node postfix(parser *p, node n) {
  int safe = 0;
  while (n.s != NULL && (is_op(p, ".") || is_op(p, "?."))) {
    const char *name;
    size_t len, at;
    char buf[64];
    if (is_op(p, "?."))
      safe = 1;
    next(p);
    if (p->cur.kind != K_IDENT) {
      drop(&n);
      fail(p, p->cur.pos, "expected a property or method name, got %s",
           tok_text(p, buf, sizeof(buf)));
      return bad();
    }
    name = p->src + p->cur.pos;
    len = p->cur.len;
    at = p->cur.pos;
    next(p);
    if (is_op(p, "(")) {
      n = method(p, n, name, len, at);
      continue;
    }
    if (n.t != T_VAL) {
      drop(&n);
      fail(p, at,
           "the property '%.*s' of a %s is outside the subset (only the "
           "properties of the parameter and of its links are read)",
           (int)(len > 40 ? 40 : len), name,
           n.t == T_STR ? "string" : "value that is not a resource");
      return bad();
    }
    if (len == 6 && strncmp(name, "Length", 6) == 0) {
      drop(&n);
      fail(p, at, "the property 'Length' is outside the subset");
      return bad();
    }
    char *s = property(p, n.s, name, len, safe);
    drop(&n);
    n = mk(s, T_VAL);
  }
  if (n.s != NULL && is_op(p, "(")) {
    drop(&n);
    fail(p, p->cur.pos,
         "a call of something that is not a method is "
         "outside the subset");
    return bad();
  }
  return n;
}

/* string.IsNullOrEmpty(x) / string.IsNullOrWhiteSpace(x) */
static node static_string(parser *p) {
  size_t at;
  int blank;
  node a[1];
  char *s;
  next(p); /* string */
  if (expect_op(p, ".", "'.' after 'string'") != 0)
    return bad();
  at = p->cur.pos;
  if (is_word(p, "IsNullOrEmpty"))
    blank = 0;
  else if (is_word(p, "IsNullOrWhiteSpace"))
    blank = 1;
  else {
    fail(p, at,
         "outside the subset: of string's static methods it has "
         "IsNullOrEmpty and IsNullOrWhiteSpace");
    return bad();
  }
  next(p);
  if (expect_op(p, "(", "'('") != 0)
    return bad();
  if (args(p, a, 1) != 1) {
    fail(p, at, "%s takes one argument",
         blank ? "IsNullOrWhiteSpace" : "IsNullOrEmpty");
    return bad();
  }
  if (text_arg(p, &a[0], at, blank ? "IsNullOrWhiteSpace" : "IsNullOrEmpty") ==
      NULL) {
    drop(&a[0]);
    return bad();
  }
  p->helpers[blank ? H_BLANK : H_EMPTY] = 1;
  s = fmt(p, "%s(%s)", blank ? "cs_blank" : "cs_empty",
          a[0].t == T_NULL ? "nil" : a[0].s);
  drop(&a[0]);
  return mk(s, T_BOOL);
}

static node primary(parser *p) {
  char buf[64];
  node n;
  size_t at = p->cur.pos;
  switch (p->cur.kind) {
  case K_STR:
    n = mk(lua_string(p, p->cur.str, p->cur.slen), T_STR);
    n.lit = 1;
    next(p);
    return postfix(p, n);
  case K_INT:
    n = mk(fmt(p, "%.*s", (int)p->cur.len, p->src + p->cur.pos), T_INT);
    n.lit = 1;
    next(p);
    return n;
  case K_IDENT:
    if (is_word(p, "null")) {
      next(p);
      return mk(strdup("nil"), T_NULL);
    }
    if (is_word(p, "true") || is_word(p, "false")) {
      n = mk(fmt(p, "%.*s", (int)p->cur.len, p->src + p->cur.pos), T_BOOL);
      n.lit = 1;
      next(p);
      return n;
    }
    if (is_word(p, "string") || is_word(p, "String"))
      return static_string(p);
    if (p->cur.len == p->param_len &&
        strncmp(p->src + p->cur.pos, p->param, p->param_len) == 0) {
      n = mk(fmt(p, "%s", p->param), T_VAL);
      next(p);
      return postfix(p, n);
    }
    fail(p, at,
         "the name '%.*s' is outside the subset: the body reads its "
         "parameter '%s' (and null, true, false)",
         (int)(p->cur.len > 40 ? 40 : p->cur.len), p->src + p->cur.pos,
         p->param);
    return bad();
  default:
    if (is_op(p, "(")) {
      next(p);
      n = expr(p);
      if (n.s == NULL)
        return n;
      if (expect_op(p, ")", "')'") != 0) {
        drop(&n);
        return bad();
      }
      return postfix(p, n); /* every compound part has its parentheses */
    }
    fail(p, at, "expected a value (a string, the parameter, null, ...), got %s",
         tok_text(p, buf, sizeof(buf)));
    return bad();
  }
}

static node unary(parser *p) {
  size_t at = p->cur.pos;
  node n;
  if (enter(p) != 0)
    return bad();
  if (is_op(p, "!")) {
    next(p);
    n = as_cond(p, unary(p), at);
    if (n.s != NULL) {
      char *s = fmt(p, "(not %s)", n.s);
      drop(&n);
      n = mk(s, T_BOOL);
    }
  } else if (is_op(p, "-")) {
    next(p);
    if (p->cur.kind != K_INT) {
      fail(p, at, "'-' is outside the subset except before a number");
      n = bad();
    } else {
      n = mk(fmt(p, "-%.*s", (int)p->cur.len, p->src + p->cur.pos), T_INT);
      n.lit = 1;
      next(p);
    }
  } else {
    n = primary(p);
  }
  p->depth--;
  if (n.s == NULL && !p->failed)
    oom(p);
  return n;
}

static node additive(parser *p) {
  size_t at = p->cur.pos;
  node first = unary(p), right;
  char *acc;
  if (first.s == NULL || !is_op(p, "+"))
    return first;
  if (is_op(p, "+") && first.t == T_INT) {
    drop(&first);
    fail(p, at, "arithmetic is outside the subset: '+' joins strings");
    return bad();
  }
  acc = NULL;
  {
    ty t0 = first.t;
    char *part = concat_part(p, &first, at);
    if (p->failed) {
      free(part);
      return bad();
    }
    acc = part;
    while (is_op(p, "+")) {
      size_t rat;
      next(p);
      rat = p->cur.pos;
      right = unary(p);
      if (right.s == NULL) {
        free(acc);
        return bad();
      }
      if (right.t == T_INT && t0 == T_VAL) {
        drop(&right);
        free(acc);
        fail(p, rat,
             "'+' between a property and a number is outside the subset "
             "(arithmetic); '+' joins strings");
        return bad();
      }
      part = concat_part(p, &right, rat);
      if (p->failed) {
        free(part);
        free(acc);
        return bad();
      }
      if (part != NULL) {
        char *j = acc != NULL ? fmt(p, "%s .. %s", acc, part) : part;
        if (acc != NULL)
          free(part);
        free(acc);
        acc = j;
        if (acc == NULL)
          return bad();
      }
      t0 = T_STR;
    }
  }
  if (acc == NULL)
    acc = strdup("''");
  {
    node n = mk(fmt(p, "(%s)", acc), T_STR);
    free(acc);
    n.lit = 1; /* never nil */
    return n;
  }
}

/* Operands of a comparison, made comparable. */
static int compare_operands(parser *p, node *l, node *r, size_t at,
                            int relational) {
  node *v[2] = {l, r};
  if (relational) {
    for (int i = 0; i < 2; i++) {
      if (v[i]->t == T_INT)
        continue;
      if (v[i]->t != T_VAL) {
        fail(p, at,
             "'<', '>', '<=' and '>=' compare numbers: a property or an "
             "integer");
        return -1;
      }
      char *s = fmt(p, "tonumber(%s)", v[i]->s);
      free(v[i]->s);
      v[i]->s = s;
      if (s == NULL)
        return -1;
    }
    return 0;
  }
  for (int i = 0; i < 2; i++) {
    node *a = v[i], *b = v[1 - i];
    char *s = NULL;
    ty to = a->t;
    if (a->t == T_VAL && b->t == T_BOOL) {
      p->helpers[H_BOOL] = 1;
      s = fmt(p, "cs_bool(%s)", a->s);
      to = T_BOOL;
    } else if (a->t == T_VAL && b->t == T_INT) {
      s = fmt(p, "tonumber(%s)", a->s);
      to = T_INT;
    } else if ((a->t == T_INT && (b->t == T_STR || b->t == T_BOOL)) ||
               (a->t == T_STR && b->t == T_BOOL)) {
      fail(p, at, "a comparison of a %s with a %s",
           a->t == T_INT ? "number" : "string",
           b->t == T_STR ? "string" : "boolean");
      return -1;
    } else {
      continue;
    }
    if (s == NULL)
      return -1;
    free(a->s);
    a->s = s;
    a->t = to; /* converted: compared as the other side */
  }
  return 0;
}

static node comparison(parser *p, int relational) {
  static const char *const eq[] = {"==", "!="}, *const rel[] = {"<", ">",
                                                                "<=", ">="};
  const char *const *ops = relational ? rel : eq;
  size_t nops = relational ? 4 : 2;
  node l = relational ? additive(p) : comparison(p, 1);
  for (;;) {
    size_t i, at = p->cur.pos;
    node r;
    char *s;
    for (i = 0; i < nops; i++)
      if (is_op(p, ops[i]))
        break;
    if (l.s == NULL || i == nops)
      return l;
    next(p);
    r = relational ? additive(p) : comparison(p, 1);
    if (r.s == NULL || compare_operands(p, &l, &r, at, relational) != 0) {
      drop(&l);
      drop(&r);
      return bad();
    }
    s = fmt(p, "(%s %s %s)", l.s, strcmp(ops[i], "!=") == 0 ? "~=" : ops[i],
            r.s);
    drop(&l);
    drop(&r);
    l = mk(s, T_BOOL);
  }
}

/* && (and_op 1) and || (0). */
static node logical(parser *p, int and_op) {
  const char *op = and_op ? "&&" : "||";
  size_t at = p->cur.pos;
  node l = and_op ? comparison(p, 0) : logical(p, 1);
  if (l.s == NULL || !is_op(p, op))
    return l;
  l = as_cond(p, l, at);
  while (l.s != NULL && is_op(p, op)) {
    size_t rat;
    node r;
    char *s;
    next(p);
    rat = p->cur.pos;
    r = as_cond(p, and_op ? comparison(p, 0) : logical(p, 1), rat);
    if (r.s == NULL) {
      drop(&l);
      return bad();
    }
    s = fmt(p, "(%s %s %s)", l.s, and_op ? "and" : "or", r.s);
    drop(&l);
    drop(&r);
    l = mk(s, T_BOOL);
  }
  return l;
}

static ty join_type(ty a, ty b) {
  if (a == b)
    return a;
  if (a == T_NULL)
    return b == T_STR ? T_VAL : b;
  if (b == T_NULL)
    return a == T_STR ? T_VAL : a;
  return T_VAL;
}

static node coalesce(parser *p) {
  node l = logical(p, 0), r;
  char *s;
  if (l.s == NULL || !is_op(p, "??"))
    return l;
  next(p);
  if (enter(p) != 0) {
    drop(&l);
    return bad();
  }
  r = coalesce(p);
  p->depth--;
  if (r.s == NULL) {
    drop(&l);
    return bad();
  }
  s = fmt(p,
          "(function() local v = %s if v == nil then return %s end "
          "return v end)()",
          l.s, r.s);
  {
    ty t = r.t == T_NULL ? l.t : join_type(l.t, r.t);
    int lit = r.lit;
    drop(&l);
    drop(&r);
    l = mk(s, t);
    l.lit = lit && t == T_STR;
  }
  return l;
}

static node conditional(parser *p) {
  size_t at = p->cur.pos;
  node c = coalesce(p), a, b;
  char *s;
  if (c.s == NULL || !is_op(p, "?"))
    return c;
  c = as_cond(p, c, at);
  if (c.s == NULL)
    return bad();
  next(p);
  if (enter(p) != 0) {
    drop(&c);
    return bad();
  }
  a = expr(p);
  if (a.s == NULL || expect_op(p, ":", "':' of the conditional operator")) {
    p->depth--;
    drop(&c);
    drop(&a);
    return bad();
  }
  b = conditional(p);
  p->depth--;
  if (b.s == NULL) {
    drop(&c);
    drop(&a);
    return bad();
  }
  s = fmt(p, "(function() if %s then return %s end return %s end)()", c.s, a.s,
          b.s);
  {
    node n = mk(s, join_type(a.t, b.t));
    n.lit = a.lit && b.lit && n.t == T_STR;
    drop(&c);
    drop(&a);
    drop(&b);
    return n;
  }
}

static node expr(parser *p) {
  node n;
  if (enter(p) != 0)
    return bad();
  n = conditional(p);
  p->depth--;
  if (n.s == NULL && !p->failed)
    oom(p);
  return n;
}

/* ---- the envelope ---- */

int jh_cs_is_csharp(const char *expr) {
  return expr != NULL && strncmp(expr, "C#:", 3) == 0;
}

/* Checks the parameter name at expr[3..colon). */
static int check_param(parser *p, size_t colon) {
  const char *name = p->src + 3;
  size_t len = colon - 3;
  if (len == 0 || !is_ident_start((unsigned char)name[0])) {
    fail(p, 3, "expected the parameter's name after 'C#:' (C#:param:body)");
    return -1;
  }
  if (len > MAX_PARAM) {
    fail(p, 3, "the parameter's name is longer than %d characters", MAX_PARAM);
    return -1;
  }
  for (size_t i = 0; i < len; i++)
    if (!is_ident_char((unsigned char)name[i])) {
      fail(p, 3 + i, "the parameter's name '%.*s' is not a name",
           (int)(len > 40 ? 40 : len), name);
      return -1;
    }
  if (in_list(lua_keywords, NELEM(lua_keywords), name, len) ||
      in_list(reserved_params, NELEM(reserved_params), name, len) ||
      (len == 4 && strncmp(name, "null", 4) == 0) ||
      (len >= 3 && strncmp(name, "cs_", 3) == 0) ||
      (len == 1 && name[0] == 'v')) {
    fail(p, 3,
         "the parameter's name '%.*s' is a name Lua or the translation "
         "uses: rename it",
         (int)(len > 40 ? 40 : len), name);
    return -1;
  }
  p->param_len = len;
  return 0;
}

static int translate(parser *p, char **lua) {
  const char *colon = p->n > 3 ? memchr(p->src + 3, ':', p->n - 3) : NULL;
  char *param = NULL, *out = NULL, *helpers = NULL;
  node n;
  char buf[64];

  if (!jh_cs_is_csharp(p->src)) {
    fail(p, 0, "expected 'C#:param:body'");
    return p->failed;
  }
  if (colon == NULL) {
    fail(p, p->n, "expected ':' after the parameter's name (C#:param:body)");
    return p->failed;
  }
  if (check_param(p, (size_t)(colon - p->src)) != 0)
    return p->failed;
  param = strndup(p->src + 3, p->param_len);
  if (param == NULL) {
    oom(p);
    return p->failed;
  }
  p->param = param;
  p->pos = (size_t)(colon - p->src) + 1;
  next(p);
  if (is_word(p, "return"))
    next(p);
  n = expr(p);
  if (n.s != NULL && is_op(p, ";"))
    next(p);
  if (n.s != NULL && p->cur.kind != K_END)
    fail(p, p->cur.pos,
         "%s is outside the subset: the body is one 'return EXPR;'",
         tok_text(p, buf, sizeof(buf)));
  if (n.s != NULL && !p->failed) {
    helpers = strdup("");
    for (int i = 0; i < H_COUNT && helpers != NULL; i++)
      if (p->helpers[i]) {
        char *h = fmt(p, "%s%s ", helpers, helper_text[i]);
        free(helpers);
        helpers = h;
      }
    if (helpers != NULL)
      out = fmt(p, "lua:%s:%sreturn %s", param, helpers,
                n.t == T_NULL ? "nil" : n.s);
    else
      oom(p);
  }
  free(helpers);
  drop(&n);
  free(param);
  free(p->cur.str);
  p->cur.str = NULL;
  if (p->failed) {
    free(out);
    return p->failed;
  }
  if (out == NULL) {
    oom(p);
    return p->failed;
  }
  *lua = out;
  return 0;
}

int jh_cs_to_lua(const char *expr, char **lua, size_t *at, char *err,
                 size_t errsize) {
  parser p;
  int rc;
  char dummy[8];
  memset(&p, 0, sizeof(p));
  p.src = expr;
  p.n = strlen(expr);
  p.err = err != NULL && errsize > 0 ? err : dummy;
  p.errsize = err != NULL && errsize > 0 ? errsize : sizeof(dummy);
  p.err[0] = '\0';
  *lua = NULL;
  rc = translate(&p, lua);
  if (at != NULL)
    *at = rc != 0 ? p.at : 0;
  return rc;
}
