/*
 * expr.c — the expressions of the model (expr.h, doc/expressions.md):
 * bindings, Literal:text, built-in functions applied to a binding, and
 * lua:p:body run in a Lua 5.4 sandbox.
 *
 * The forms other than Lua never enter Lua: a binding walks the
 * resolver, a literal is kept as written, a built-in is bound to its
 * arguments once, at compile time. A Lua body is loaded once into the
 * environment's state as a chunk `local p = ...; body` (so its lines are
 * the body's lines) and kept in the registry; each evaluation calls it
 * under lua_pcall with the resource as its argument.
 */
#include "config.h"

#include "expr.h"
#include "exprfn.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

/* The chunk name of every Lua body: its messages start "lua:N: ". */
#define CHUNK "lua"
#define PROXY_MT "jobhost.resource"
#define HOOK_STEP 1000  /* instructions between two checks of the budget */
#define BOUND_MAX 64    /* bound calls from Lua kept per environment */
#define CALL_ARGS_MAX 8 /* arguments of a built-in called from Lua */
#define MSG_SIZE 512

typedef enum form_kind {
  FORM_BINDING,
  FORM_LITERAL,
  FORM_BUILTIN,
  FORM_LUA
} form_kind;

/* An expression as written, split but not compiled. */
typedef struct form {
  form_kind kind;
  const char *text; /* literal text, built-in arguments (NULL: none) or body */
  size_t off;       /* where text starts in the expression */
  char name[64];    /* built-in name or Lua parameter */
} form;

/* A built-in bound from Lua to constant arguments, kept for later calls. */
typedef struct bound {
  const jh_exprfn *fn;
  size_t nargs;
  char **args;
  jh_exprfn_call *call;
} bound;

struct jh_expr_env {
  size_t mem_used, mem_limit; /* bytes held by the Lua state, its limit */
  uint64_t instructions;      /* limit per evaluation */
  int64_t budget;             /* left in the evaluation under way */
  int hook_step;
  lua_State *L;
  jh_expr_resolver r;
  jh_expr **exprs;
  size_t nexprs, capexprs;
  size_t compiled; /* Lua chunks loaded */
  /* The value of the last evaluation: texts one after the other. */
  char *text;
  size_t tlen, tcap;
  size_t *off, *len;
  const char **ptr;
  size_t nv, capv;
  bound bound[BOUND_MAX];
  size_t nbound;
  /* The evaluation under way. */
  const void *res;
  int fatal;     /* 0, or -ETIME, -ENOMEM, -EIO: not catchable by pcall */
  int err_line;  /* Lua line where the error was raised (0: unknown) */
  char *pending; /* malloc'd text being pushed onto the Lua stack */
  char fatal_msg[MSG_SIZE];
};

struct jh_expr {
  jh_expr_env *env;
  form_kind kind;
  char *rule, *file;
  int line;
  char *binding;  /* as written, for messages */
  char *bind_buf; /* the binding, its dots made NULs */
  const char **steps;
  size_t nsteps;
  char *literal;
  size_t literal_len;
  char fname[64]; /* the built-in's name */
  char *args_buf; /* the built-in's arguments, its bars made NULs */
  const char **args;
  size_t nargs;
  jh_exprfn_call *call;
  int ref; /* the Lua chunk in the registry */
};

/* Free names a body may not use, checked before it is compiled. */
static const char *const refused_names[] = {
    "os",           "io",      "debug",
    "package",      "require", "load",
    "loadfile",     "dofile",  "collectgarbage",
    "_G",           "_ENV",    "getmetatable",
    "setmetatable", NULL};

/* ---- messages ---------------------------------------------------------- */

static const char *nz(const char *s, const char *dflt) {
  return s != NULL ? s : dflt;
}

/* "file:line:column: rule: message"; returns -EINVAL. */
static int fail_at(char *err, size_t errsize, jh_mloc loc, int line, int col,
                   const char *rule, const char *fmt, ...) {
  char msg[MSG_SIZE];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  snprintf(err, errsize, "%s:%d:%d: %s: %s", nz(loc.file, "?"), line, col,
           nz(rule, "expression"), msg);
  return -EINVAL;
}

/* "file:line: rule: message" of a runtime error; returns rc. */
static int fail_run(const jh_expr *x, int line, int rc, char *err,
                    size_t errsize, const char *fmt, ...) {
  char msg[MSG_SIZE];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  snprintf(err, errsize, "%s:%d: %s: %s", x->file, line, x->rule, msg);
  return rc;
}

static void describe_bytes(size_t n, char *buf, size_t size) {
  if (n % (1u << 20) == 0)
    snprintf(buf, size, "%zu MiB", n >> 20);
  else
    snprintf(buf, size, "%zu bytes", n);
}

/* ---- the forms --------------------------------------------------------- */

static int ident_start(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int ident_char(int c) {
  return ident_start(c) || (c >= '0' && c <= '9');
}

static int is_lua_keyword(const char *s) {
  static const char *const kw[] = {
      "and",      "break",  "do",   "else", "elseif", "end",   "false", "for",
      "function", "goto",   "if",   "in",   "local",  "nil",   "not",   "or",
      "repeat",   "return", "then", "true", "until",  "while", NULL};
  for (size_t i = 0; kw[i] != NULL; i++)
    if (strcmp(kw[i], s) == 0)
      return 1;
  return 0;
}

static int is_refused(const char *s) {
  for (size_t i = 0; refused_names[i] != NULL; i++)
    if (strcmp(refused_names[i], s) == 0)
      return 1;
  return 0;
}

/* A binding: steps of letters, digits, '_' and '-', separated by dots. */
static int binding_check(const char *b, jh_mloc loc, const char *rule,
                         char *err, size_t errsize) {
  size_t step = 0;
  for (size_t i = 0;; i++) {
    char c = b[i];
    if (c == '.' || c == '\0') {
      if (step == 0)
        return fail_at(err, errsize, loc, loc.line, loc.column, rule,
                       "binding '%s' has an empty step (expected property "
                       "names separated by dots, e.g. manager.department)",
                       b);
      if (c == '\0')
        return 0;
      step = 0;
      continue;
    }
    if (!(ident_char((unsigned char)c) || (c == '-' && step > 0)))
      return fail_at(err, errsize, loc, loc.line, loc.column, rule,
                     "binding '%s': unexpected character '%c' (expected "
                     "property names separated by dots)",
                     b, c);
    step++;
  }
}

/* lua:param:body */
static int parse_lua(const char *e, jh_mloc loc, const char *rule, form *f,
                     char *err, size_t errsize) {
  const char *p = e + 4, *colon = strchr(p, ':');
  size_t n = colon != NULL ? (size_t)(colon - p) : 0;
  if (colon == NULL || n == 0 || n >= sizeof(f->name))
    return fail_at(err, errsize, loc, loc.line, loc.column, rule,
                   "expected lua:param:body (e.g. lua:p:return p.mail)");
  memcpy(f->name, p, n);
  f->name[n] = '\0';
  int ok = ident_start((unsigned char)f->name[0]);
  for (size_t i = 1; ok && i < n; i++)
    ok = ident_char((unsigned char)f->name[i]);
  if (!ok || is_lua_keyword(f->name) || is_refused(f->name))
    return fail_at(err, errsize, loc, loc.line, loc.column + 4, rule,
                   "'%s' cannot name the parameter (expected a Lua name "
                   "such as p)",
                   f->name);
  f->kind = FORM_LUA;
  f->text = colon + 1;
  f->off = (size_t)(f->text - e);
  for (const char *q = f->text; *q != '\0'; q++)
    if (*q != ' ' && *q != '\t' && *q != '\n' && *q != '\r')
      return 0;
  return fail_at(err, errsize, loc, loc.line, loc.column, rule,
                 "the Lua body is empty (expected e.g. lua:%s:return %s.mail)",
                 f->name, f->name);
}

/* Name or Name:a|b */
static int parse_builtin(const char *e, const char *binding, jh_mloc loc,
                         const char *rule, form *f, char *err, size_t errsize) {
  const char *colon = strchr(e, ':');
  size_t n = colon != NULL ? (size_t)(colon - e) : strlen(e);
  if (n == 0 || n >= sizeof(f->name))
    return fail_at(err, errsize, loc, loc.line, loc.column, rule,
                   "expected a built-in function, Literal:text or "
                   "lua:param:body, got '%s'",
                   e);
  memcpy(f->name, e, n);
  f->name[n] = '\0';
  f->kind = FORM_BUILTIN;
  f->text = colon != NULL ? colon + 1 : NULL;
  f->off = n + 1;
  if (strcmp(f->name, "C#") == 0)
    return fail_at(err, errsize, loc, loc.line, loc.column, rule,
                   "C# expressions are not supported: write the body in "
                   "Lua, as lua:param:body");
  if (binding == NULL)
    return fail_at(err, errsize, loc, loc.line, loc.column, rule,
                   "%s needs a binding: the value it applies to", f->name);
  return 0;
}

static int parse_form(const char *binding, const char *expr, jh_mloc loc,
                      const char *rule, form *f, char *err, size_t errsize) {
  memset(f, 0, sizeof(*f));
  if (binding != NULL) {
    int rc = binding_check(binding, loc, rule, err, errsize);
    if (rc < 0)
      return rc;
  }
  if (expr == NULL) {
    if (binding == NULL)
      return fail_at(err, errsize, loc, loc.line, loc.column, rule,
                     "neither a binding nor an expression");
    f->kind = FORM_BINDING;
    return 0;
  }
  if (strncmp(expr, "Literal:", 8) == 0) {
    if (binding != NULL)
      return fail_at(err, errsize, loc, loc.line, loc.column, rule,
                     "a literal takes no binding");
    f->kind = FORM_LITERAL;
    f->text = expr + 8;
    f->off = 8;
    return 0;
  }
  if (strncmp(expr, "lua:", 4) == 0) {
    if (binding != NULL)
      return fail_at(err, errsize, loc, loc.line, loc.column, rule,
                     "a lua: expression takes no binding (its parameter is "
                     "the resource: read the property from it)");
    return parse_lua(expr, loc, rule, f, err, errsize);
  }
  return parse_builtin(expr, binding, loc, rule, f, err, errsize);
}

/* Split a copy of s at sep: *buf (malloc'd) and *parts (malloc'd array of
 * pointers into it). 0 or -ENOMEM. */
static int split(const char *s, char sep, char **buf, const char ***parts,
                 size_t *n) {
  size_t count = 1;
  for (const char *q = s; *q != '\0'; q++)
    count += *q == sep;
  *buf = strdup(s);
  *parts = malloc(count * sizeof(**parts));
  if (*buf == NULL || *parts == NULL) {
    free(*buf);
    free(*parts);
    *buf = NULL;
    *parts = NULL;
    return -ENOMEM;
  }
  char *q = *buf;
  for (size_t i = 0; i < count; i++) {
    (*parts)[i] = q;
    char *end = strchr(q, sep);
    if (end != NULL) {
      *end = '\0';
      q = end + 1;
    }
  }
  *n = count;
  return 0;
}

/* Find and bind the built-in of f: 0 and *call, or -EINVAL/-ENOMEM. The
 * arguments are kept in *args_buf / *args for as long as the call. */
static int builtin_bind(const form *f, jh_mloc loc, const char *rule,
                        char **args_buf, const char ***args, size_t *nargs,
                        jh_exprfn_call **call, char *err, size_t errsize) {
  const jh_exprfn *fn = jh_exprfn_find(f->name);
  char msg[MSG_SIZE];
  *args_buf = NULL;
  *args = NULL;
  *nargs = 0;
  if (fn == NULL) {
    size_t used = 0;
    msg[0] = '\0';
    for (const char *const *n = jh_exprfn_names(); *n != NULL; n++)
      if (used < sizeof(msg))
        used += (size_t)snprintf(msg + used, sizeof(msg) - used, "%s%s",
                                 used > 0 ? ", " : "", *n);
    return fail_at(err, errsize, loc, loc.line, loc.column, rule,
                   "unknown function '%s' (expected Literal:text, "
                   "lua:param:body or one of: %s)",
                   f->name, msg[0] != '\0' ? msg : "no built-in");
  }
  if (f->text != NULL && split(f->text, '|', args_buf, args, nargs) < 0) {
    snprintf(err, errsize, "out of memory");
    return -ENOMEM;
  }
  int rc = jh_exprfn_bind(fn, *args, *nargs, call, msg, sizeof(msg));
  if (rc < 0) {
    free(*args_buf);
    free((void *)*args);
    *args_buf = NULL;
    *args = NULL;
    if (rc == -ENOMEM) {
      snprintf(err, errsize, "out of memory");
      return rc;
    }
    return fail_at(err, errsize, loc, loc.line, loc.column + (int)f->off, rule,
                   "%s", msg);
  }
  return 0;
}

/* ---- the Lua-aware scan of a body ------------------------------------- */

typedef struct lex {
  const char *s;
  size_t n, i, line_start;
  int line;
} lex;

static void lex_newline(lex *x) {
  char c = x->s[x->i++];
  if (x->i < x->n && (x->s[x->i] == '\n' || x->s[x->i] == '\r') &&
      x->s[x->i] != c)
    x->i++;
  x->line++;
  x->line_start = x->i;
}

/* At '[': the level of a long bracket "[==[" (0 or more), or -1. */
static int long_open(const lex *x) {
  size_t j = x->i + 1;
  while (j < x->n && x->s[j] == '=')
    j++;
  return j < x->n && x->s[j] == '[' ? (int)(j - x->i - 1) : -1;
}

/* Skip a long bracket of that level, from its '['. */
static void skip_long(lex *x, int level) {
  x->i += (size_t)level + 2;
  while (x->i < x->n) {
    char c = x->s[x->i];
    if (c == '\n' || c == '\r') {
      lex_newline(x);
      continue;
    }
    if (c == ']') {
      size_t j = x->i + 1;
      while (j < x->n && x->s[j] == '=')
        j++;
      if (j < x->n && x->s[j] == ']' && (int)(j - x->i - 1) == level) {
        x->i = j + 1;
        return;
      }
    }
    x->i++;
  }
}

/* Skip blanks, newlines included (as Lua's \z does in a string). */
static void skip_blanks(lex *x) {
  while (x->i < x->n && strchr(" \t\v\f\n\r", x->s[x->i]) != NULL &&
         x->s[x->i] != '\0') {
    if (x->s[x->i] == '\n' || x->s[x->i] == '\r')
      lex_newline(x);
    else
      x->i++;
  }
}

/* Skip a quoted string, from its quote. */
static void skip_quoted(lex *x) {
  char q = x->s[x->i++];
  while (x->i < x->n) {
    char c = x->s[x->i];
    if (c == q) {
      x->i++;
      return;
    }
    if (c == '\n' || c == '\r')
      return; /* unfinished: the syntax check reports it */
    if (c == '\\' && x->i + 1 < x->n) {
      x->i++;
      if (x->s[x->i] == 'z') { /* skips the blanks and newlines after it */
        x->i++;
        skip_blanks(x);
        continue;
      }
      if (x->s[x->i] == '\n' || x->s[x->i] == '\r') {
        lex_newline(x);
        continue;
      }
    }
    x->i++;
  }
}

/* Skip blanks and comments; 1 while there is text left. */
static int skip_space(lex *x) {
  while (x->i < x->n) {
    char c = x->s[x->i];
    if (c == '\n' || c == '\r') {
      lex_newline(x);
    } else if (c == ' ' || c == '\t' || c == '\f' || c == '\v') {
      x->i++;
    } else if (c == '-' && x->i + 1 < x->n && x->s[x->i + 1] == '-') {
      x->i += 2;
      int level = x->i < x->n && x->s[x->i] == '[' ? long_open(x) : -1;
      if (level >= 0)
        skip_long(x, level);
      else
        while (x->i < x->n && x->s[x->i] != '\n' && x->s[x->i] != '\r')
          x->i++;
    } else {
      return 1;
    }
  }
  return 0;
}

/* What the scan found refused: its name and where (body line, column). */
typedef struct refusal {
  char name[32];
  int line, col;
} refusal;

typedef enum tok_kind { TOK_OTHER, TOK_MEMBER, TOK_OPEN } tok_kind;

/* The scan of a body: the token before, and a free `string` just read. */
typedef struct scan {
  lex x;
  tok_kind prev;
  char prevc;   /* the punctuation when prev is TOK_OPEN */
  int str_line; /* where that `string` is (0: none) */
  int str_col;
} scan;

static int col_of(const lex *x, size_t at) {
  return (int)(at - x->line_start) + 1;
}

/* Whether the name just read is a table constructor's key: after '{',
 * ',' or ';' and before a single '='. */
static int is_field_key(const scan *s) {
  const lex *x = &s->x;
  size_t j = x->i;
  while (j < x->n && (x->s[j] == ' ' || x->s[j] == '\t'))
    j++;
  return s->prev == TOK_OPEN && strchr("{,;", s->prevc) != NULL && j < x->n &&
         x->s[j] == '=' && (j + 1 >= x->n || x->s[j + 1] != '=');
}

/* A name: 1 and r filled when it is refused. */
static int scan_name(scan *s, refusal *r) {
  lex *x = &s->x;
  size_t start = x->i;
  while (x->i < x->n && ident_char((unsigned char)x->s[x->i]))
    x->i++;
  size_t len = x->i - start;
  char name[32];
  snprintf(name, sizeof(name), "%.*s", (int)(len < 31 ? len : 31),
           x->s + start);
  int member = s->prev == TOK_MEMBER;
  if (member && s->str_line > 0 && strcmp(name, "dump") == 0) {
    snprintf(r->name, sizeof(r->name), "string.dump");
    r->line = s->str_line;
    r->col = s->str_col;
    return 1;
  }
  s->str_line = 0;
  if (!member && strcmp(name, "string") == 0) {
    s->str_line = x->line;
    s->str_col = col_of(x, start);
  }
  if (!member && is_refused(name) && !is_field_key(s)) {
    snprintf(r->name, sizeof(r->name), "%s", name);
    r->line = x->line;
    r->col = col_of(x, start);
    return 1;
  }
  s->prev = TOK_OTHER;
  return 0;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* A number, string or punctuation. */
static void scan_other(scan *s) {
  lex *x = &s->x;
  char c = x->s[x->i];
  char next = x->i + 1 < x->n ? x->s[x->i + 1] : '\0';
  if ((c == '.' || c == ':') && next != c && !(c == '.' && is_digit(next))) {
    x->i++;
    s->prev = TOK_MEMBER; /* a `string` before it stays watched */
    return;
  }
  s->str_line = 0;
  s->prev = TOK_OTHER;
  if (c == '"' || c == '\'') {
    skip_quoted(x);
  } else if (c == '[' && long_open(x) >= 0) {
    skip_long(x, long_open(x));
  } else if (is_digit(c) || c == '.') {
    if (c == '.' && !is_digit(next)) { /* "..", "..." */
      while (x->i < x->n && x->s[x->i] == '.')
        x->i++;
      s->prev = TOK_OPEN;
      s->prevc = c;
      return;
    }
    while (x->i < x->n &&
           (ident_char((unsigned char)x->s[x->i]) || x->s[x->i] == '.' ||
            ((x->s[x->i] == '+' || x->s[x->i] == '-') &&
             strchr("eEpP", x->s[x->i - 1]) != NULL)))
      x->i++;
  } else {
    x->i += c == ':' && next == ':' ? 2 : 1;
    s->prev = TOK_OPEN;
    s->prevc = c;
  }
}

/* 1 and r when the body uses a refused free name. */
static int scan_body(const char *body, refusal *r) {
  scan s;
  memset(&s, 0, sizeof(s));
  s.x.s = body;
  s.x.n = strlen(body);
  s.x.line = 1;
  s.prev = TOK_OPEN;
  s.prevc = ';';
  while (skip_space(&s.x)) {
    if (ident_start((unsigned char)s.x.s[s.x.i])) {
      if (scan_name(&s, r))
        return 1;
    } else {
      scan_other(&s);
    }
  }
  return 0;
}

/* ---- Lua states and syntax -------------------------------------------- */

/* The allocator of every state: the environment counts the bytes and
 * refuses growth beyond its limit (Lua then raises a memory error). */
static void *env_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  jh_expr_env *e = ud;
  size_t old = ptr != NULL ? osize : 0;
  if (nsize == 0) {
    free(ptr);
    e->mem_used -= old;
    return NULL;
  }
  if (nsize > old && nsize - old > e->mem_limit - e->mem_used)
    return NULL;
  void *p = realloc(ptr, nsize);
  if (p != NULL)
    e->mem_used = e->mem_used - old + nsize;
  return p;
}

static jh_expr_env *env_of(lua_State *L) {
  void *ud = NULL;
  (void)lua_getallocf(L, &ud);
  return ud;
}

static int at_panic(lua_State *L) {
  fprintf(stderr, "jobhost: Lua error outside protected mode: %s\n",
          nz(lua_tostring(L, -1), "?"));
  abort();
}

/* The model line and column of Lua's "line" of the body. */
static void map_pos(jh_mloc loc, const form *f, int line, int col, int *mline,
                    int *mcol) {
  *mline = loc.line + line - 1;
  *mcol = line == 1 ? loc.column + (int)f->off + col - 1 : col;
}

/* Split a Lua message "lua:N: text": N (0 if absent) and the text. */
static const char *lua_msg_line(const char *msg, int *line) {
  size_t k = strlen(CHUNK);
  *line = 0;
  if (strncmp(msg, CHUNK ":", k + 1) != 0)
    return msg;
  char *end;
  long n = strtol(msg + k + 1, &end, 10);
  if (end == msg + k + 1 || n <= 0 || n > 1000000000 || strncmp(end, ": ", 2))
    return msg;
  *line = (int)n;
  return end + 2;
}

/* The column of a syntax error: where the token it is "near" starts on
 * that line of the body, else the line's end or start. */
static int syntax_col(const char *body, int line, const char *text) {
  const char *p = body;
  for (int l = 1; l < line && p != NULL; l++) {
    p = strpbrk(p, "\n\r");
    if (p != NULL)
      p += (p[0] == '\r' && p[1] == '\n') || (p[0] == '\n' && p[1] == '\r') ? 2
                                                                            : 1;
  }
  if (p == NULL)
    return 1;
  size_t linelen = strcspn(p, "\n\r");
  const char *near = strstr(text, "near '");
  if (near != NULL) {
    near += 6;
    const char *q = strchr(near, '\'');
    size_t tlen = q != NULL ? (size_t)(q - near) : 0;
    for (size_t i = 0; tlen > 0 && i + tlen <= linelen; i++)
      if (memcmp(p + i, near, tlen) == 0)
        return (int)i + 1;
  }
  if (strstr(text, "near <eof>") != NULL)
    return (int)linelen + 1;
  return 1;
}

/* Copy a Lua message, its "at line N" (a line of the body) made a line of
 * the model file, where the body's first line is first. */
static void map_at_line(const char *text, int first, char *out, size_t size) {
  const char *at = strstr(text, "at line ");
  char *end = NULL;
  long n = at != NULL ? strtol(at + 8, &end, 10) : 0;
  if (at == NULL || end == at + 8 || n <= 0 || n > 1000000000) {
    snprintf(out, size, "%s", text);
    return;
  }
  snprintf(out, size, "%.*sat line %ld%s", (int)(at - text), text,
           (long)first + n - 1, end);
}

/* A syntax error of the body as "file:line:column: rule: text". */
static int syntax_fail(const char *msg, const form *f, jh_mloc loc,
                       const char *rule, char *err, size_t errsize) {
  int line, mline, mcol;
  const char *text = lua_msg_line(msg, &line);
  if (line == 0)
    line = 1;
  map_pos(loc, f, line, syntax_col(f->text, line, text), &mline, &mcol);
  char mapped[MSG_SIZE];
  map_at_line(text, loc.line, mapped, sizeof(mapped));
  return fail_at(err, errsize, loc, mline, mcol, rule, "Lua: %s", mapped);
}

/* The chunk of a body: "local p = ...; body". malloc'd, or NULL. */
static char *chunk_source(const form *f, size_t *len) {
  size_t n = strlen(f->name) + strlen(f->text) + 32;
  char *src = malloc(n);
  if (src != NULL)
    *len = (size_t)snprintf(src, n, "local %s = ...; %s", f->name, f->text);
  return src;
}

/* What load_chunk does under lua_pcall. */
typedef struct loading {
  const char *src;
  size_t len;
  int status; /* of luaL_loadbufferx */
  int ref;
} loading;

static int load_chunk(lua_State *L) {
  loading *ld = lua_touserdata(L, 1);
  ld->status = luaL_loadbufferx(L, ld->src, ld->len, "=" CHUNK, "t");
  if (ld->status != LUA_OK)
    return lua_error(L);
  ld->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return 0;
}

/* Load the body of f into L: 0 and *ref, or -EINVAL (syntax) / -ENOMEM. */
static int load_body(lua_State *L, const form *f, jh_mloc loc, const char *rule,
                     int *ref, char *err, size_t errsize) {
  loading ld = {NULL, 0, LUA_OK, LUA_NOREF};
  char *src = chunk_source(f, &ld.len);
  char limit[32];
  if (src == NULL) {
    snprintf(err, errsize, "out of memory");
    return -ENOMEM;
  }
  ld.src = src;
  lua_settop(L, 0);
  lua_pushcfunction(L, load_chunk);
  lua_pushlightuserdata(L, &ld);
  int status = lua_pcall(L, 1, 0, 0);
  free(src);
  int rc = 0;
  if (status != LUA_OK && ld.status == LUA_ERRSYNTAX) {
    rc = syntax_fail(nz(lua_tostring(L, -1), "?"), f, loc, rule, err, errsize);
  } else if (status != LUA_OK) {
    describe_bytes(env_of(L)->mem_limit, limit, sizeof(limit));
    rc = fail_at(err, errsize, loc, loc.line, loc.column, rule,
                 "the memory limit of %s was reached while compiling", limit);
    rc = -ENOMEM;
  }
  lua_settop(L, 0);
  *ref = ld.ref;
  return rc;
}

/* Check a body: the refused names, then its syntax in a throwaway state. */
static int lua_check(const form *f, jh_mloc loc, const char *rule, char *err,
                     size_t errsize) {
  refusal r;
  int line, col, ref;
  if (scan_body(f->text, &r)) {
    map_pos(loc, f, r.line, r.col, &line, &col);
    return fail_at(err, errsize, loc, line, col, rule,
                   "'%s' is not available in the Lua sandbox", r.name);
  }
  jh_expr_env acct;
  memset(&acct, 0, sizeof(acct));
  acct.mem_limit = JH_EXPR_DEFAULT_MEMORY;
  lua_State *L = lua_newstate(env_alloc, &acct);
  if (L == NULL) {
    snprintf(err, errsize, "out of memory");
    return -ENOMEM;
  }
  lua_atpanic(L, at_panic);
  int rc = load_body(L, f, loc, rule, &ref, err, errsize);
  lua_close(L);
  return rc;
}

int jh_expr_check(const char *binding, const char *expression, jh_mloc loc,
                  const char *rule, char *err, size_t errsize) {
  form f;
  int rc = parse_form(binding, expression, loc, rule, &f, err, errsize);
  if (rc < 0)
    return rc;
  if (f.kind == FORM_LUA)
    return lua_check(&f, loc, rule, err, errsize);
  if (f.kind == FORM_BUILTIN) {
    char *buf;
    const char **args;
    size_t nargs;
    jh_exprfn_call *call;
    rc = builtin_bind(&f, loc, rule, &buf, &args, &nargs, &call, err, errsize);
    if (rc == 0)
      jh_exprfn_call_free(call);
    free(buf);
    free((void *)args);
  }
  return rc;
}

/* ---- the value of an evaluation ---------------------------------------- */

static void out_reset(jh_expr_env *e) {
  e->tlen = 0;
  e->nv = 0;
}

/* Append a text to the value under way: 0 or -ENOMEM. */
static int out_add(jh_expr_env *e, const char *s, size_t n) {
  if (e->nv == e->capv) {
    size_t cap = e->capv != 0 ? 2 * e->capv : 8;
    size_t *off = realloc(e->off, cap * sizeof(*off));
    if (off != NULL)
      e->off = off;
    size_t *len = realloc(e->len, cap * sizeof(*len));
    if (len != NULL)
      e->len = len;
    const char **ptr = realloc((void *)e->ptr, cap * sizeof(*ptr));
    if (ptr != NULL)
      e->ptr = ptr;
    if (off == NULL || len == NULL || ptr == NULL)
      return -ENOMEM;
    e->capv = cap;
  }
  if (n + 1 > e->tcap - e->tlen) {
    size_t cap = e->tcap != 0 ? e->tcap : 256;
    while (n + 1 > cap - e->tlen)
      cap *= 2;
    char *text = realloc(e->text, cap);
    if (text == NULL)
      return -ENOMEM;
    e->text = text;
    e->tcap = cap;
  }
  memcpy(e->text + e->tlen, s, n);
  e->text[e->tlen + n] = '\0';
  e->off[e->nv] = e->tlen;
  e->len[e->nv++] = n;
  e->tlen += n + 1;
  return 0;
}

static void out_finish(jh_expr_env *e, jh_expr_value *v) {
  for (size_t i = 0; i < e->nv; i++)
    e->ptr[i] = e->text + e->off[i];
  v->n = e->nv;
  v->v = e->nv > 0 ? e->ptr : NULL;
  v->len = e->nv > 0 ? e->len : NULL;
}

/* ---- reading resources -------------------------------------------------- */

/* Follow a middle step of a binding, a single-valued link: 1 and *next,
 * 0 when it has no target, -EINVAL (not such a link) or -EIO (the
 * resolver), with msg. */
static int follow_link(jh_expr_env *e, const void *res, const char *prop,
                       const void **next, char *msg, size_t msgsize) {
  const void *const *targets;
  size_t n;
  msg[0] = '\0';
  switch (e->r.kind(e->r.ud, res, prop)) {
  case JH_EXPR_PROP_LINK:
    break;
  case JH_EXPR_PROP_LINKS:
    snprintf(msg, msgsize,
             "'%s' is multi-valued: a binding follows single-valued links",
             prop);
    return -EINVAL;
  case JH_EXPR_PROP_SCALAR:
    snprintf(msg, msgsize, "'%s' is not a link: nothing to follow", prop);
    return -EINVAL;
  default:
    snprintf(msg, msgsize, "unknown property '%s'", prop);
    return -EINVAL;
  }
  int rc = e->r.follow(e->r.ud, res, prop, &targets, &n, msg, msgsize);
  if (rc < 0)
    return -EIO;
  if (n == 0)
    return 0;
  *next = targets[0];
  return 1;
}

/* The last step of a binding into the value: a scalar, or the keys of a
 * link's targets. 0, or -EINVAL / -EIO / -ENOMEM with msg. */
static int read_last(jh_expr_env *e, const void *res, const char *prop,
                     char *msg, size_t msgsize) {
  const char *v;
  size_t len, n;
  const void *const *targets;
  int rc;
  msg[0] = '\0';
  switch (e->r.kind(e->r.ud, res, prop)) {
  case JH_EXPR_PROP_SCALAR:
    rc = e->r.get(e->r.ud, res, prop, &v, &len, msg, msgsize);
    if (rc < 0)
      return -EIO;
    return rc == 0 ? 0 : out_add(e, v, len);
  case JH_EXPR_PROP_LINK:
    if (e->r.link_key != NULL) {
      rc = e->r.link_key(e->r.ud, res, prop, &v, &len, msg, msgsize);
      if (rc < 0)
        return -EIO;
      return rc == 0 ? 0 : out_add(e, v, len);
    }
    /* fall through */
  case JH_EXPR_PROP_LINKS:
    if (e->r.follow(e->r.ud, res, prop, &targets, &n, msg, msgsize) < 0)
      return -EIO;
    for (size_t i = 0; i < n; i++) {
      if (e->r.key(e->r.ud, targets[i], &v, &len, msg, msgsize) < 0)
        return -EIO;
      if ((rc = out_add(e, v, len)) < 0)
        return rc;
    }
    return 0;
  default:
    snprintf(msg, msgsize, "unknown property '%s'", prop);
    return -EINVAL;
  }
}

/* A binding's value into the environment's value. */
static int eval_binding(jh_expr *x, const void *res, char *err,
                        size_t errsize) {
  jh_expr_env *e = x->env;
  char msg[MSG_SIZE];
  int rc = 1;
  for (size_t i = 0; rc == 1 && i + 1 < x->nsteps; i++)
    rc = follow_link(e, res, x->steps[i], &res, msg, sizeof(msg));
  if (rc == 1)
    rc = read_last(e, res, x->steps[x->nsteps - 1], msg, sizeof(msg));
  if (rc == -ENOMEM)
    return fail_run(x, x->line, rc, err, errsize, "out of memory");
  if (rc < 0)
    return fail_run(x, x->line, rc, err, errsize, "binding %s: %s", x->binding,
                    msg[0] != '\0' ? msg : "resolver failed");
  return 0;
}

/* What goes before a built-in's message so that it names the function:
 * "Name: " in buf, or nothing when the message does already. */
static const char *fn_prefix(const char *name, const char *msg, char *buf,
                             size_t size) {
  size_t n = strlen(name);
  if (strncmp(msg, name, n) == 0 && (msg[n] == ':' || msg[n] == ' '))
    return "";
  snprintf(buf, size, "%s: ", name);
  return buf;
}

/* A built-in applied to every value of its binding. */
static int eval_builtin(jh_expr *x, const void *res, char *err,
                        size_t errsize) {
  jh_expr_env *e = x->env;
  int rc = eval_binding(x, res, err, errsize);
  size_t n = e->nv;
  if (rc < 0 || n == 0)
    return rc;
  /* Most bindings give one value or a few: no allocation for those. */
  char *got_few[4] = {NULL, NULL, NULL, NULL};
  size_t glen_few[4];
  char **got = n <= 4 ? got_few : calloc(n, sizeof(*got));
  size_t *glen = n <= 4 ? glen_few : calloc(n, sizeof(*glen));
  char msg[MSG_SIZE], pre[80];
  if (got == NULL || glen == NULL)
    rc = -ENOMEM;
  for (size_t i = 0; rc >= 0 && i < n; i++) {
    rc = jh_exprfn_apply(x->call, e->text + e->off[i], e->len[i], &got[i], msg,
                         sizeof(msg));
    if (rc > 0)
      glen[i] = strlen(got[i]);
  }
  out_reset(e);
  for (size_t i = 0; rc >= 0 && i < n; i++)
    if (got[i] != NULL)
      rc = out_add(e, got[i], glen[i]);
  for (size_t i = 0; got != NULL && i < n; i++)
    free(got[i]);
  if (got != got_few) {
    free(got);
    free(glen);
  }
  if (rc == -ENOMEM)
    return fail_run(x, x->line, rc, err, errsize, "out of memory");
  if (rc < 0)
    return fail_run(x, x->line, -EINVAL, err, errsize, "%s%s",
                    fn_prefix(x->fname, msg, pre, sizeof(pre)), msg);
  return 0;
}

/* ---- resources seen from Lua ------------------------------------------- */

typedef struct proxy {
  const void *res;
} proxy;

static void push_proxy(lua_State *L, const void *res) {
  proxy *p = lua_newuserdatauv(L, sizeof(*p), 0);
  p->res = res;
  luaL_setmetatable(L, PROXY_MT);
}

/* A resolver failure ends the evaluation with -EIO, whatever catches it. */
static int resolver_fail(lua_State *L, jh_expr_env *e, const char *msg) {
  e->fatal = -EIO;
  snprintf(e->fatal_msg, sizeof(e->fatal_msg), "%s",
           msg[0] != '\0' ? msg : "resolver failed");
  return luaL_error(L, "%s", e->fatal_msg);
}

/* Push the value of prop on res: a string or nil (scalar), a resource or
 * nil (link), a table of resources (links). */
static void push_prop(lua_State *L, jh_expr_env *e, const void *res,
                      const char *prop) {
  char msg[MSG_SIZE];
  const char *v;
  size_t len, n;
  const void *const *targets;
  jh_expr_prop_kind kind = e->r.kind(e->r.ud, res, prop);
  msg[0] = '\0';
  if (kind == JH_EXPR_PROP_SCALAR) {
    int rc = e->r.get(e->r.ud, res, prop, &v, &len, msg, sizeof(msg));
    if (rc < 0)
      resolver_fail(L, e, msg);
    if (rc == 0)
      lua_pushnil(L);
    else
      lua_pushlstring(L, v, len);
    return;
  }
  if (kind != JH_EXPR_PROP_LINK && kind != JH_EXPR_PROP_LINKS)
    luaL_error(L, "unknown property '%s'", prop);
  if (e->r.follow(e->r.ud, res, prop, &targets, &n, msg, sizeof(msg)) < 0)
    resolver_fail(L, e, msg);
  if (kind == JH_EXPR_PROP_LINK) {
    if (n == 0)
      lua_pushnil(L);
    else
      push_proxy(L, targets[0]);
    return;
  }
  lua_createtable(L, n < INT32_MAX ? (int)n : 0, 0);
  for (size_t i = 0; i < n; i++) {
    push_proxy(L, targets[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

static int proxy_index(lua_State *L) {
  proxy *p = luaL_checkudata(L, 1, PROXY_MT);
  if (lua_type(L, 2) != LUA_TSTRING)
    return luaL_error(L,
                      "a resource's properties have names (strings), "
                      "not %s keys",
                      luaL_typename(L, 2));
  push_prop(L, env_of(L), p->res, lua_tostring(L, 2));
  return 1;
}

static int proxy_tostring(lua_State *L) {
  proxy *p = luaL_checkudata(L, 1, PROXY_MT);
  jh_expr_env *e = env_of(L);
  char msg[MSG_SIZE] = "";
  const char *v;
  size_t len;
  if (e->r.key(e->r.ud, p->res, &v, &len, msg, sizeof(msg)) < 0)
    return resolver_fail(L, e, msg);
  lua_pushlstring(L, v, len);
  return 1;
}

static int refuse_write(lua_State *L) {
  return luaL_error(L,
                    "cannot assign '%s': resources and libraries are "
                    "read-only (declare a local)",
                    lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?");
}

static int strict_read(lua_State *L) {
  return luaL_error(L, "unknown name '%s'",
                    lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?");
}

static int strict_write(lua_State *L) {
  return luaL_error(L, "cannot create the global '%s' (declare it local)",
                    lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?");
}

/* ---- built-ins called from Lua ----------------------------------------- */

/* The call of fn bound to args: cached in the environment when there is
 * room (*temp 0), else bound for this call only (*temp 1, the caller
 * frees it). 0, -EINVAL or -ENOMEM with msg. */
static int bound_get(jh_expr_env *e, const jh_exprfn *fn,
                     const char *const *args, size_t nargs,
                     jh_exprfn_call **call, int *temp, char *msg,
                     size_t msgsize) {
  for (size_t i = 0; i < e->nbound; i++) {
    bound *b = &e->bound[i];
    size_t k = 0;
    if (b->fn != fn || b->nargs != nargs)
      continue;
    while (k < nargs && strcmp(b->args[k], args[k]) == 0)
      k++;
    if (k == nargs) {
      *call = b->call;
      *temp = 0;
      return 0;
    }
  }
  int rc = jh_exprfn_bind(fn, args, nargs, call, msg, msgsize);
  *temp = 1;
  if (rc < 0 || e->nbound == BOUND_MAX)
    return rc;
  bound *b = &e->bound[e->nbound];
  b->args = calloc(nargs + 1, sizeof(*b->args));
  size_t k = 0;
  while (b->args != NULL && k < nargs && (b->args[k] = strdup(args[k])))
    k++;
  if (b->args == NULL || k < nargs) {
    for (size_t j = 0; b->args != NULL && j < k; j++)
      free(b->args[j]);
    free(b->args);
    b->args = NULL;
    return 0; /* not cached: still usable for this call */
  }
  b->fn = fn;
  b->nargs = nargs;
  b->call = *call;
  e->nbound++;
  *temp = 0;
  return 0;
}

/* Push a malloc'd text and free it, even when pushing fails. */
static void push_owned(lua_State *L, jh_expr_env *e, char *s) {
  e->pending = s;
  lua_pushstring(L, s);
  e->pending = NULL;
  free(s);
}

/* Name(x, a, b): the built-in bound to a, b applied to x; nil when an
 * argument is nil. */
static int lua_builtin(lua_State *L) {
  const jh_exprfn *fn = lua_touserdata(L, lua_upvalueindex(1));
  jh_expr_env *e = env_of(L);
  int n = lua_gettop(L);
  const char *args[CALL_ARGS_MAX];
  char msg[MSG_SIZE] = "", pre[80];
  size_t inlen;
  if (n == 0)
    return luaL_error(L, "%s needs the value it applies to",
                      jh_exprfn_name(fn));
  if (n - 1 > CALL_ARGS_MAX)
    return luaL_error(L, "%s: too many arguments", jh_exprfn_name(fn));
  for (int i = 1; i <= n; i++)
    if (lua_isnil(L, i)) {
      lua_pushnil(L);
      return 1;
    }
  for (int i = 2; i <= n; i++)
    args[i - 2] = luaL_checkstring(L, i);
  const char *in = luaL_checklstring(L, 1, &inlen);
  jh_exprfn_call *call;
  int temp;
  char *out = NULL;
  int rc = bound_get(e, fn, args, (size_t)n - 1, &call, &temp, msg,
                     sizeof(msg));
  if (rc == 0) {
    rc = jh_exprfn_apply(call, in, inlen, &out, msg, sizeof(msg));
    if (temp)
      jh_exprfn_call_free(call);
  }
  if (rc == -ENOMEM) {
    e->fatal = -ENOMEM;
    snprintf(e->fatal_msg, sizeof(e->fatal_msg), "out of memory in %s",
             jh_exprfn_name(fn));
  }
  if (rc < 0)
    return luaL_error(L, "%s%s",
                      fn_prefix(jh_exprfn_name(fn), msg, pre, sizeof(pre)),
                      msg);
  if (rc == 0)
    lua_pushnil(L);
  else
    push_owned(L, e, out);
  return 1;
}

/* pcall that cannot catch the limits nor a resolver failure. */
static int sandbox_pcall(lua_State *L) {
  int n = lua_gettop(L);
  luaL_checkany(L, 1);
  lua_pushboolean(L, 1);
  lua_insert(L, 1);
  int status = lua_pcall(L, n - 1, LUA_MULTRET, 0);
  jh_expr_env *e = env_of(L);
  if (status == LUA_ERRMEM && e->fatal == 0)
    e->fatal = -ENOMEM;
  if (status != LUA_OK && e->fatal != 0)
    return lua_error(L);
  if (status != LUA_OK) {
    lua_pushboolean(L, 0);
    lua_replace(L, 1);
    return 2;
  }
  return lua_gettop(L);
}

/* The count hook: the instruction budget of the evaluation. */
static void count_hook(lua_State *L, lua_Debug *ar) {
  jh_expr_env *e = env_of(L);
  e->budget -= e->hook_step;
  if (e->budget > 0)
    return;
  if (e->fatal == 0) {
    e->fatal = -ETIME;
    if (lua_getinfo(L, "l", ar) && ar->currentline > 0)
      e->err_line = ar->currentline;
  }
  luaL_error(L, "instruction limit exceeded");
}

/* The message handler: remembers the line of the innermost body. */
static int msg_handler(lua_State *L) {
  jh_expr_env *e = env_of(L);
  lua_Debug ar;
  for (int level = 1; e->err_line == 0 && lua_getstack(L, level, &ar); level++)
    if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0 &&
        strcmp(ar.short_src, CHUNK) == 0)
      e->err_line = ar.currentline;
  if (lua_type(L, 1) != LUA_TSTRING)
    lua_pushfstring(L, "error object is a %s value", luaL_typename(L, 1));
  return 1;
}

/* ---- the sandbox -------------------------------------------------------- */

/* Replace the library table name by a read-only view of it. */
static void readonly_lib(lua_State *L, const char *name) {
  lua_pushglobaltable(L);
  lua_getfield(L, -1, name);
  lua_newtable(L);          /* the view */
  lua_createtable(L, 0, 3); /* its metatable */
  lua_pushvalue(L, -3);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, refuse_write);
  lua_setfield(L, -2, "__newindex");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_setfield(L, -3, name);
  lua_pop(L, 2);
}

static void remove_field(lua_State *L, const char *table, const char *name) {
  lua_pushglobaltable(L);
  if (table != NULL)
    lua_getfield(L, -1, table);
  lua_pushnil(L);
  lua_setfield(L, -2, name);
  lua_pop(L, table != NULL ? 2 : 1);
}

static void open_libs(lua_State *L) {
  static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},
                                  {LUA_STRLIBNAME, luaopen_string},
                                  {LUA_TABLIBNAME, luaopen_table},
                                  {LUA_MATHLIBNAME, luaopen_math},
                                  {LUA_UTF8LIBNAME, luaopen_utf8}};
  static const char *const removed[] = {"load",
                                        "loadfile",
                                        "dofile",
                                        "require",
                                        "collectgarbage",
                                        "print",
                                        "getmetatable",
                                        "setmetatable",
                                        "warn",
                                        "xpcall",
                                        "rawset",
                                        LUA_GNAME,
                                        NULL};
  for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
    luaL_requiref(L, libs[i].name, libs[i].func, 1);
    lua_pop(L, 1);
  }
  for (size_t i = 0; removed[i] != NULL; i++)
    remove_field(L, NULL, removed[i]);
  remove_field(L, LUA_STRLIBNAME, "dump");
  remove_field(L, LUA_MATHLIBNAME, "random");
  remove_field(L, LUA_MATHLIBNAME, "randomseed");
  lua_pushliteral(L, "");
  lua_getmetatable(L, -1);
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 2);
}

static void open_resources(lua_State *L) {
  luaL_newmetatable(L, PROXY_MT);
  lua_pushcfunction(L, proxy_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, refuse_write);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, proxy_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
}

/* Under lua_pcall: the libraries, the built-ins, the strict globals. */
static int open_sandbox(lua_State *L) {
  open_libs(L);
  open_resources(L);
  lua_pushglobaltable(L);
  lua_pushcfunction(L, sandbox_pcall);
  lua_setfield(L, -2, "pcall");
  for (const char *const *n = jh_exprfn_names(); *n != NULL; n++) {
    lua_pushlightuserdata(L, (void *)jh_exprfn_find(*n));
    lua_pushcclosure(L, lua_builtin, 1);
    lua_setfield(L, -2, *n);
  }
  lua_pop(L, 1);
  readonly_lib(L, LUA_STRLIBNAME);
  readonly_lib(L, LUA_TABLIBNAME);
  readonly_lib(L, LUA_MATHLIBNAME);
  readonly_lib(L, LUA_UTF8LIBNAME);
  lua_pushglobaltable(L);
  lua_createtable(L, 0, 3);
  lua_pushcfunction(L, strict_read);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, strict_write);
  lua_setfield(L, -2, "__newindex");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_pop(L, 1);
  return 0;
}

/* ---- environments -------------------------------------------------------- */

int jh_expr_env_new(const jh_expr_limits *lim, const jh_expr_resolver *r,
                    jh_expr_env **out) {
  jh_expr_env *e = calloc(1, sizeof(*e));
  *out = NULL;
  if (e == NULL)
    return -ENOMEM;
  e->instructions = lim != NULL && lim->instructions != 0
                        ? lim->instructions
                        : JH_EXPR_DEFAULT_INSTRUCTIONS;
  e->mem_limit = lim != NULL && lim->memory_bytes != 0 ? lim->memory_bytes
                                                       : JH_EXPR_DEFAULT_MEMORY;
  e->hook_step = e->instructions < HOOK_STEP ? (int)e->instructions : HOOK_STEP;
  if (r != NULL)
    e->r = *r;
  e->L = lua_newstate(env_alloc, e);
  if (e->L == NULL) {
    free(e);
    return -ENOMEM;
  }
  lua_atpanic(e->L, at_panic);
  lua_pushcfunction(e->L, open_sandbox);
  if (lua_pcall(e->L, 0, 0, 0) != LUA_OK) {
    lua_close(e->L);
    free(e);
    return -ENOMEM;
  }
  lua_sethook(e->L, count_hook, LUA_MASKCOUNT, e->hook_step);
  *out = e;
  return 0;
}

static void expr_free(jh_expr *x) {
  free(x->rule);
  free(x->file);
  free(x->binding);
  free(x->bind_buf);
  free((void *)x->steps);
  free(x->literal);
  jh_exprfn_call_free(x->call);
  free(x->args_buf);
  free((void *)x->args);
  free(x);
}

void jh_expr_env_free(jh_expr_env *e) {
  if (e == NULL)
    return;
  for (size_t i = 0; i < e->nexprs; i++)
    expr_free(e->exprs[i]);
  free(e->exprs);
  for (size_t i = 0; i < e->nbound; i++) {
    for (size_t k = 0; k < e->bound[i].nargs; k++)
      free(e->bound[i].args[k]);
    free(e->bound[i].args);
    jh_exprfn_call_free(e->bound[i].call);
  }
  lua_close(e->L);
  free(e->text);
  free(e->off);
  free(e->len);
  free((void *)e->ptr);
  free(e);
}

size_t jh_expr_env_compiled_count(const jh_expr_env *e) { return e->compiled; }

/* ---- compiling ------------------------------------------------------------
 */

/* A new expression owned by e, with its names for messages. */
static jh_expr *expr_new(jh_expr_env *e, form_kind kind, jh_mloc loc,
                         const char *rule) {
  if (e->nexprs == e->capexprs) {
    size_t cap = e->capexprs != 0 ? 2 * e->capexprs : 16;
    jh_expr **a = realloc(e->exprs, cap * sizeof(*a));
    if (a == NULL)
      return NULL;
    e->exprs = a;
    e->capexprs = cap;
  }
  jh_expr *x = calloc(1, sizeof(*x));
  if (x == NULL)
    return NULL;
  x->env = e;
  x->kind = kind;
  x->ref = LUA_NOREF;
  x->line = loc.line;
  x->rule = strdup(nz(rule, "expression"));
  x->file = strdup(nz(loc.file, "?"));
  if (x->rule == NULL || x->file == NULL) {
    expr_free(x);
    return NULL;
  }
  e->exprs[e->nexprs++] = x;
  return x;
}

/* The parts of x its form needs: 0, -EINVAL or -ENOMEM. */
static int expr_prepare(jh_expr *x, const form *f, const char *binding,
                        jh_mloc loc, const char *rule, char *err,
                        size_t errsize) {
  refusal r;
  int line, col;
  if (binding != NULL &&
      split(binding, '.', &x->bind_buf, &x->steps, &x->nsteps) < 0)
    return -ENOMEM;
  if (binding != NULL && (x->binding = strdup(binding)) == NULL)
    return -ENOMEM;
  switch (f->kind) {
  case FORM_LITERAL:
    x->literal = strdup(f->text);
    x->literal_len = strlen(f->text);
    return x->literal != NULL ? 0 : -ENOMEM;
  case FORM_BUILTIN:
    snprintf(x->fname, sizeof(x->fname), "%s", f->name);
    return builtin_bind(f, loc, rule, &x->args_buf, &x->args, &x->nargs,
                        &x->call, err, errsize);
  case FORM_LUA:
    if (scan_body(f->text, &r)) {
      map_pos(loc, f, r.line, r.col, &line, &col);
      return fail_at(err, errsize, loc, line, col, rule,
                     "'%s' is not available in the Lua sandbox", r.name);
    }
    x->env->compiled++;
    return load_body(x->env->L, f, loc, rule, &x->ref, err, errsize);
  default:
    return 0;
  }
}

int jh_expr_compile(jh_expr_env *e, const char *binding, const char *expression,
                    jh_mloc loc, const char *rule, jh_expr **out, char *err,
                    size_t errsize) {
  form f;
  *out = NULL;
  if (errsize > 0)
    err[0] = '\0';
  int rc = parse_form(binding, expression, loc, rule, &f, err, errsize);
  if (rc < 0)
    return rc;
  jh_expr *x = expr_new(e, f.kind, loc, rule);
  if (x == NULL) {
    snprintf(err, errsize, "out of memory");
    return -ENOMEM;
  }
  rc = expr_prepare(x, &f, binding, loc, rule, err, errsize);
  if (rc < 0) {
    if (rc == -ENOMEM && err[0] == '\0')
      snprintf(err, errsize, "out of memory");
    e->nexprs--;
    expr_free(x);
    return rc;
  }
  *out = x;
  return 0;
}

/* ---- evaluating ------------------------------------------------------------
 */

/* Under lua_pcall: call the body of x with the resource. */
static int lua_run(lua_State *L) {
  const jh_expr *x = lua_touserdata(L, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, x->ref);
  push_proxy(L, x->env->res);
  lua_call(L, 1, 1);
  return 1;
}

/* A number as text: integral values without a fraction, others as Lua's
 * tostring writes them. -1 when not finite. */
static int number_text(lua_State *L, int idx, char *buf, size_t size) {
  if (lua_isinteger(L, idx)) {
    snprintf(buf, size, "%lld", (long long)lua_tointeger(L, idx));
    return 0;
  }
  double d = (double)lua_tonumber(L, idx);
  if (!isfinite(d))
    return -1;
  if (d == floor(d) && fabs(d) < 9.0e18)
    snprintf(buf, size, "%lld", (long long)d);
  else
    snprintf(buf, size, "%.14g", d);
  return 0;
}

/* One value returned by a body (at idx) into the environment's value. */
static int scalar_text(jh_expr_env *e, lua_State *L, int idx, char *msg,
                       size_t msgsize) {
  char buf[64];
  size_t n;
  const char *s;
  proxy *p;
  switch (lua_type(L, idx)) {
  case LUA_TSTRING:
    s = lua_tolstring(L, idx, &n);
    return out_add(e, s, n);
  case LUA_TNUMBER:
    if (number_text(L, idx, buf, sizeof(buf)) == 0)
      return out_add(e, buf, strlen(buf));
    snprintf(msg, msgsize, "returns a number that is not finite");
    return -EINVAL;
  case LUA_TBOOLEAN:
    s = lua_toboolean(L, idx) ? "true" : "false";
    return out_add(e, s, strlen(s));
  case LUA_TUSERDATA:
    if ((p = luaL_testudata(L, idx, PROXY_MT)) == NULL)
      break;
    if (e->r.key(e->r.ud, p->res, &s, &n, msg, msgsize) < 0)
      return -EIO;
    return out_add(e, s, n);
  default:
    break;
  }
  snprintf(msg, msgsize,
           "returns a %s value (expected a string, number, boolean, "
           "resource, a list of these, or nil)",
           luaL_typename(L, idx));
  return -EINVAL;
}

/* The value a body returned (top of the stack). */
static int lua_value(jh_expr_env *e, lua_State *L, char *msg, size_t msgsize) {
  int type = lua_type(L, -1);
  if (type == LUA_TNIL)
    return 0;
  if (type != LUA_TTABLE)
    return scalar_text(e, L, -1, msg, msgsize);
  lua_Unsigned n = lua_rawlen(L, -1);
  for (lua_Unsigned i = 1; i <= n; i++) {
    int rc = 0;
    type = lua_rawgeti(L, -1, (lua_Integer)i);
    if (type == LUA_TTABLE) {
      snprintf(msg, msgsize, "returns a list whose item %llu is a table",
               (unsigned long long)i);
      rc = -EINVAL;
    } else if (type != LUA_TNIL) {
      rc = scalar_text(e, L, -1, msg, msgsize);
    }
    lua_pop(L, 1);
    if (rc < 0)
      return rc;
  }
  return 0;
}

/* The error of a failed call, with the line mapped to the model file. */
static int lua_failure(const jh_expr *x, int status, char *err,
                       size_t errsize) {
  jh_expr_env *e = x->env;
  char limit[32];
  int line = e->err_line > 0 ? x->line + e->err_line - 1 : x->line;
  if (e->fatal == -ETIME)
    return fail_run(x, line, -ETIME, err, errsize,
                    "instruction limit of %llu exceeded (a loop that never "
                    "ends?)",
                    (unsigned long long)e->instructions);
  if (e->fatal == -EIO)
    return fail_run(x, line, -EIO, err, errsize, "%s", e->fatal_msg);
  if (status == LUA_ERRMEM || e->fatal == -ENOMEM) {
    if (e->fatal_msg[0] != '\0')
      return fail_run(x, line, -ENOMEM, err, errsize, "%s", e->fatal_msg);
    describe_bytes(e->mem_limit, limit, sizeof(limit));
    return fail_run(x, line, -ENOMEM, err, errsize,
                    "memory limit of %s exceeded", limit);
  }
  int at;
  const char *msg = lua_type(e->L, -1) == LUA_TSTRING
                        ? lua_tostring(e->L, -1)
                        : "error object is not a string";
  const char *text = lua_msg_line(msg, &at);
  if (at > 0)
    line = x->line + at - 1;
  return fail_run(x, line, -EINVAL, err, errsize, "%s", text);
}

static int eval_lua(jh_expr *x, const void *res, char *err, size_t errsize) {
  jh_expr_env *e = x->env;
  lua_State *L = e->L;
  char msg[MSG_SIZE] = "";
  e->fatal = 0;
  e->err_line = 0;
  e->fatal_msg[0] = '\0';
  e->budget = e->instructions > INT64_MAX ? INT64_MAX
                                          : (int64_t)e->instructions;
  e->res = res;
  lua_settop(L, 0);
  lua_pushcfunction(L, msg_handler);
  lua_pushcfunction(L, lua_run);
  lua_pushlightuserdata(L, x);
  int status = lua_pcall(L, 1, 1, 1);
  free(e->pending);
  e->pending = NULL;
  int rc;
  if (status != LUA_OK) {
    rc = lua_failure(x, status, err, errsize);
  } else if ((rc = lua_value(e, L, msg, sizeof(msg))) < 0) {
    rc = fail_run(x, x->line, rc, err, errsize, "%s",
                  rc == -ENOMEM ? "out of memory" : msg);
  }
  lua_settop(L, 0);
  if (rc == -ENOMEM)
    lua_gc(L, LUA_GCCOLLECT);
  return rc;
}

int jh_expr_eval(jh_expr *x, const void *res, jh_expr_value *out, char *err,
                 size_t errsize) {
  jh_expr_env *e = x->env;
  const jh_expr_resolver *r = &e->r;
  int rc = 0;
  out_reset(e);
  memset(out, 0, sizeof(*out));
  if (x->kind == FORM_LITERAL) {
    if (x->literal_len > 0) {
      out->n = 1;
      out->v = (const char *const *)&x->literal;
      out->len = &x->literal_len;
    }
    return 0;
  }
  if (r->kind == NULL || r->get == NULL || r->follow == NULL || r->key == NULL)
    return fail_run(x, x->line, -EIO, err, errsize,
                    "the environment has no resolver");
  if (x->kind == FORM_BINDING)
    rc = eval_binding(x, res, err, errsize);
  else if (x->kind == FORM_BUILTIN)
    rc = eval_builtin(x, res, err, errsize);
  else
    rc = eval_lua(x, res, err, errsize);
  if (rc < 0) {
    out_reset(e);
    return rc;
  }
  out_finish(e, out);
  return 0;
}

int jh_expr_eval_bool(jh_expr *x, const void *res, int *truth, char *err,
                      size_t errsize) {
  jh_expr_value v;
  int rc = jh_expr_eval(x, res, &v, err, errsize);
  *truth = 0;
  if (rc < 0)
    return rc;
  *truth = !(v.n == 0 ||
             (v.n == 1 && v.len[0] == 5 && memcmp(v.v[0], "false", 5) == 0));
  return 0;
}

int jh_expr_is_lua(const jh_expr *x) { return x->kind == FORM_LUA; }
