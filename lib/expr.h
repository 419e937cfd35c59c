/*
 * expr.h — expressions of the model (doc/expressions.md): how a rule
 * computes a value from a resource.
 *
 * A rule gives a binding, an expression, or both:
 *   binding        "mail", "manager.department": a property of the
 *                  resource, following single-valued links; when the
 *                  last step is a link (or links), the target keys
 *   Literal:text   the text itself
 *   Name[:a|b]     a built-in function (lib/exprfn.h) applied to the
 *                  binding's value (a binding is then required)
 *   lua:p:body     Lua 5.4: body is the body of a function of one
 *                  parameter p, the resource (p.mail, p.manager.department,
 *                  p.members is a list); it returns the value (nil: none;
 *                  a number or boolean is written as text; a table of
 *                  strings is a list). The built-in functions are
 *                  callable by name: ToUpper(x), ParseLocalDate(x, zone,
 *                  pattern); a nil argument gives nil.
 *
 * Lua runs in a sandbox: only the base (without load, loadfile, dofile,
 * require, collectgarbage, print, getmetatable, setmetatable on strings),
 * string (without dump), table, math (without random) and utf8
 * libraries; io, os, debug, package and coroutine are absent. Each
 * evaluation has an instruction limit and each state a memory limit; a
 * rule that passes either ends with an error naming the rule and its
 * file:line. Globals cannot be created or read when undeclared.
 *
 * An environment (one per task, one Lua state) owns the compiled
 * expressions: each is compiled once and evaluated once per resource.
 * Nothing here knows the store: a resolver says how a resource is read.
 */
#ifndef JH_EXPR_H
#define JH_EXPR_H

#include <stddef.h>
#include <stdint.h>

#include "model.h" /* jh_mloc */

/* Defaults of the limits. */
#define JH_EXPR_DEFAULT_INSTRUCTIONS 10000000u /* per evaluation */
#define JH_EXPR_DEFAULT_MEMORY (32u << 20)     /* per environment, bytes */

typedef struct jh_expr_limits {
  uint64_t instructions; /* 0: the default */
  size_t memory_bytes;   /* 0: the default */
} jh_expr_limits;

typedef enum jh_expr_prop_kind {
  JH_EXPR_PROP_UNKNOWN = 0, /* no such property */
  JH_EXPR_PROP_SCALAR,      /* string, integer, boolean, datetime */
  JH_EXPR_PROP_LINK,        /* single-valued link */
  JH_EXPR_PROP_LINKS        /* multi-valued link */
} jh_expr_prop_kind;

/*
 * How a rule reads a resource. A resource is an opaque handle of the
 * caller's. Text and arrays handed back are borrowed: they stay valid
 * until the jh_expr_eval that asked for them returns. Callbacks return a
 * negative errno (with a message in err) on failure.
 */
typedef struct jh_expr_resolver {
  void *ud;
  /* What prop is on res. */
  jh_expr_prop_kind (*kind)(void *ud, const void *res, const char *prop);
  /* A scalar: 1 and *v, *len, or 0 when res has no value. */
  int (*get)(void *ud, const void *res, const char *prop, const char **v,
             size_t *len, char *err, size_t errsize);
  /* The targets of a link or links property (0 or more) in *targets. A
   * link whose target is not in the store has none. */
  int (*follow)(void *ud, const void *res, const char *prop,
                const void *const **targets, size_t *n, char *err,
                size_t errsize);
  /* The key of res. */
  int (*key)(void *ud, const void *res, const char **v, size_t *len, char *err,
             size_t errsize);
  /* Optional: the key of the target of the single-valued link prop,
   * without reading the target: 1 and *v, *len, 0 when the link has no
   * target in the store. NULL: follow, then key. */
  int (*link_key)(void *ud, const void *res, const char *prop, const char **v,
                  size_t *len, char *err, size_t errsize);
} jh_expr_resolver;

typedef struct jh_expr_env jh_expr_env;
typedef struct jh_expr jh_expr;

/* A new environment; lim NULL for the defaults. The resolver is copied.
 * 0 and *out, or -ENOMEM. */
int jh_expr_env_new(const jh_expr_limits *lim, const jh_expr_resolver *r,
                    jh_expr_env **out);
/* Free the environment and every expression compiled in it. */
void jh_expr_env_free(jh_expr_env *e);
/* How many Lua bodies were compiled in e: one per jh_expr_compile of a
 * lua: expression, never one per evaluation. */
size_t jh_expr_env_compiled_count(const jh_expr_env *e);

/*
 * Compile a rule: binding and expression as written in the model (either
 * may be NULL, not both), loc where the expression (or the binding) is
 * written, rule a name for messages (the rule's id, or "resource type
 * X, scalar rule cn"). 0 and *out (owned by e), or -EINVAL with
 * "file:line:column: rule: what is wrong" in err.
 */
int jh_expr_compile(jh_expr_env *e, const char *binding, const char *expression,
                    jh_mloc loc, const char *rule, jh_expr **out, char *err,
                    size_t errsize);

/*
 * Check a rule without an environment (jobhost validate): the form, the
 * built-in's name and arguments, and for Lua the syntax and the names
 * the sandbox refuses (os, io, require, load, debug, string.dump, ...),
 * each at its file:line:column (a Lua line counts from loc). 0 or
 * -EINVAL with the message in err.
 */
int jh_expr_check(const char *binding, const char *expression, jh_mloc loc,
                  const char *rule, char *err, size_t errsize);

/* The value of a rule: n 0 (none), 1 (a scalar) or more (a list). The
 * text is borrowed until the next jh_expr_eval in the same environment. */
typedef struct jh_expr_value {
  size_t n;
  const char *const *v;
  const size_t *len;
} jh_expr_value;

/*
 * Evaluate x on resource res. 0 and *out, or a negative code with
 * "file:line: rule: what happened" in err: -EINVAL a runtime error of
 * the rule (Lua error, unknown property), -ETIME the instruction limit,
 * -ENOMEM the memory limit, -EIO a resolver failure.
 */
int jh_expr_eval(jh_expr *x, const void *res, jh_expr_value *out, char *err,
                 size_t errsize);

/* Evaluate x as a condition (a type rule's criterion): *truth 1 unless
 * the value is none, nil, false or the text "false". Codes as
 * jh_expr_eval. */
int jh_expr_eval_bool(jh_expr *x, const void *res, int *truth, char *err,
                      size_t errsize);

/* Whether x uses Lua (a caller may keep the cheap forms off a slow path). */
int jh_expr_is_lua(const jh_expr *x);

#endif /* JH_EXPR_H */
