/*
 * test_expr.c — the expressions of lib/expr.h over an in-memory
 * resolver: bindings through links, literals, Lua bodies with link
 * navigation and nil safety, the values a body may return, the limits
 * (instructions, memory) that end a runaway rule with its file:line,
 * runtime errors at the model's line, the names the sandbox refuses at
 * validate time with line:column, and each body compiled once.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "expr.h"

/* ---- an in-memory resolver --------------------------------------------- */

typedef struct tres tres;

typedef struct tprop {
  const char *name;
  jh_expr_prop_kind kind;
  const char *value; /* scalar; NULL: no value */
  const tres *targets[3];
  size_t ntargets;
} tprop;

struct tres {
  const char *key;
  tprop props[12];
};

/* A scalar property. */
#define S(name, value)                                                         \
  { name, JH_EXPR_PROP_SCALAR, value, {NULL}, 0 }

static const tres dept = {"D1", {S("name", "Sales")}};
static const tres g1 = {"G1", {S("name", "Staff")}};
static const tres g2 = {"G2", {S("name", "VPN")}};
static const tres boss = {"B1",
                          {S("mail", "boss@acme.test"),
                           {"department", JH_EXPR_PROP_LINK, NULL, {&dept}, 1},
                           {"manager", JH_EXPR_PROP_LINK, NULL, {NULL}, 0},
                           {"groups", JH_EXPR_PROP_LINKS, NULL, {NULL}, 0}}};
static const tres alice = {
    "A1",
    {S("mail", "alice@acme.test"),
     S("first_name", "Alice"),
     S("last_name", "Smith"),
     S("age", "42"),
     S("hired", "29/03/2026"),
     S("empty", NULL),
     S("broken", NULL),
     {"manager", JH_EXPR_PROP_LINK, NULL, {&boss}, 1},
     {"groups", JH_EXPR_PROP_LINKS, NULL, {&g1, &g2}, 2}}};

static int nget; /* calls of get, to see what a form reads */

static const tprop *find(const void *res, const char *prop) {
  const tres *r = res;
  for (size_t i = 0; i < 12 && r->props[i].name != NULL; i++)
    if (strcmp(r->props[i].name, prop) == 0)
      return &r->props[i];
  return NULL;
}

static jh_expr_prop_kind r_kind(void *ud, const void *res, const char *prop) {
  const tprop *p = find(res, prop);
  (void)ud;
  return p != NULL ? p->kind : JH_EXPR_PROP_UNKNOWN;
}

static int r_get(void *ud, const void *res, const char *prop, const char **v,
                 size_t *len, char *err, size_t errsize) {
  const tprop *p = find(res, prop);
  (void)ud;
  nget++;
  if (strcmp(prop, "broken") == 0) {
    snprintf(err, errsize, "the store cannot be read");
    return -EIO;
  }
  if (p == NULL || p->value == NULL)
    return 0;
  *v = p->value;
  *len = strlen(p->value);
  return 1;
}

static int r_follow(void *ud, const void *res, const char *prop,
                    const void *const **targets, size_t *n, char *err,
                    size_t errsize) {
  const tprop *p = find(res, prop);
  (void)ud;
  (void)err;
  (void)errsize;
  *targets = (const void *const *)p->targets;
  *n = p->ntargets;
  return 0;
}

static int r_key(void *ud, const void *res, const char **v, size_t *len,
                 char *err, size_t errsize) {
  (void)ud;
  (void)err;
  (void)errsize;
  *v = ((const tres *)res)->key;
  *len = strlen(*v);
  return 0;
}

static const jh_expr_resolver resolver = {NULL,     r_kind, r_get,
                                          r_follow, r_key,  NULL};

static int nfollow; /* calls of follow through counting_follow */

static int counting_follow(void *ud, const void *res, const char *prop,
                           const void *const **targets, size_t *n, char *err,
                           size_t errsize) {
  nfollow++;
  return r_follow(ud, res, prop, targets, n, err, errsize);
}

/* A link's key as the stand-in store holds it: its target's key, or none
 * when there is no target. */
static int r_link_key(void *ud, const void *res, const char *prop,
                      const char **v, size_t *len, char *err, size_t errsize) {
  const tprop *p = find(res, prop);
  (void)ud;
  (void)err;
  (void)errsize;
  if (p == NULL || p->ntargets == 0)
    return 0;
  *v = p->targets[0]->key;
  *len = strlen(*v);
  return 1;
}

static const jh_mloc LOC = {"model.yaml", 20, 14};

/* ---- helpers ----------------------------------------------------------------
 */

static jh_expr_env *env_with(uint64_t instructions, size_t memory) {
  jh_expr_limits lim = {instructions, memory};
  jh_expr_env *e = NULL;
  assert_int_equal(jh_expr_env_new(&lim, &resolver, &e), 0);
  assert_non_null(e);
  return e;
}

/* Compile (must succeed) and evaluate on res; the evaluation's code. */
static int run(jh_expr_env *e, const char *binding, const char *expr,
               const tres *res, jh_expr_value *v, char *err, size_t errsize) {
  jh_expr *x = NULL;
  int rc = jh_expr_compile(e, binding, expr, LOC, "rule-x", &x, err, errsize);
  if (rc != 0)
    fail_msg("compile %s: %s", expr != NULL ? expr : binding, err);
  return jh_expr_eval(x, res, v, err, errsize);
}

/* The one text value of binding/expr on res ("" for none, "<n>" for n
 * values). */
static const char *value1(jh_expr_env *e, const char *binding, const char *expr,
                          const tres *res) {
  static char buf[256];
  char err[512];
  jh_expr_value v;
  int rc = run(e, binding, expr, res, &v, err, sizeof(err));
  if (rc != 0)
    fail_msg("eval %s: %d %s", expr != NULL ? expr : binding, rc, err);
  if (v.n == 0)
    return "";
  if (v.n > 1) {
    snprintf(buf, sizeof(buf), "<%zu>", v.n);
    return buf;
  }
  assert_int_equal(strlen(v.v[0]), v.len[0]);
  snprintf(buf, sizeof(buf), "%s", v.v[0]);
  return buf;
}

/* The error of an evaluation that must fail with rc. */
static const char *eval_error(jh_expr_env *e, const char *binding,
                              const char *expr, int rc) {
  static char err[512];
  jh_expr_value v;
  err[0] = '\0';
  assert_int_equal(run(e, binding, expr, &alice, &v, err, sizeof(err)), rc);
  return err;
}

/* The error of jh_expr_check, which must refuse. */
static const char *check_error(const char *binding, const char *expr) {
  static char err[512];
  err[0] = '\0';
  assert_int_equal(
      jh_expr_check(binding, expr, LOC, "rule-x", err, sizeof(err)), -EINVAL);
  return err;
}

static void check_ok(const char *binding, const char *expr) {
  char err[512] = "";
  int rc = jh_expr_check(binding, expr, LOC, "rule-x", err, sizeof(err));
  if (rc != 0)
    fail_msg("%s: %s", expr, err);
}

#define assert_has(s, part)                                                    \
  do {                                                                         \
    if (strstr((s), (part)) == NULL)                                           \
      fail_msg("'%s' does not contain '%s'", (s), (part));                     \
  } while (0)

/* ---- bindings and literals --------------------------------------------- */

static void test_binding(void **state) {
  jh_expr_env *e = env_with(0, 0);
  jh_expr_value v;
  char err[512];
  (void)state;
  assert_string_equal(value1(e, "mail", NULL, &alice), "alice@acme.test");
  assert_string_equal(value1(e, "manager.mail", NULL, &alice),
                      "boss@acme.test");
  /* a last step that is a link gives the target's key */
  assert_string_equal(value1(e, "manager.department", NULL, &alice), "D1");
  assert_string_equal(value1(e, "manager.department.name", NULL, &alice),
                      "Sales");
  /* nil safety: a link without target, a scalar without value */
  assert_string_equal(value1(e, "manager.manager", NULL, &alice), "");
  assert_string_equal(value1(e, "manager.manager.mail", NULL, &alice), "");
  assert_string_equal(value1(e, "empty", NULL, &alice), "");
  /* links: the keys of the targets, a list */
  assert_int_equal(run(e, "groups", NULL, &alice, &v, err, sizeof(err)), 0);
  assert_int_equal(v.n, 2);
  assert_string_equal(v.v[0], "G1");
  assert_string_equal(v.v[1], "G2");
  assert_int_equal(v.len[1], 2);
  assert_string_equal(value1(e, "groups", NULL, &boss), "");
  jh_expr_env_free(e);
}

/* A resolver that gives a link's key reads no target for a binding whose
 * last step is that link; a step through the link still follows it. */
static void test_binding_link_key(void **state) {
  jh_expr_resolver r = resolver;
  jh_expr_env *e = NULL;
  (void)state;
  r.follow = counting_follow;
  r.link_key = r_link_key;
  assert_int_equal(jh_expr_env_new(NULL, &r, &e), 0);
  nfollow = 0;
  assert_string_equal(value1(e, "manager", NULL, &alice), "B1");
  assert_string_equal(value1(e, "manager.department", NULL, &alice), "D1");
  assert_string_equal(value1(e, "manager.manager", NULL, &alice), "");
  assert_int_equal(nfollow, 2); /* alice's manager, twice */
  assert_string_equal(value1(e, "manager.mail", NULL, &alice),
                      "boss@acme.test");
  assert_int_equal(nfollow, 3);
  jh_expr_env_free(e);
}

static void test_binding_errors(void **state) {
  jh_expr_env *e = env_with(0, 0);
  (void)state;
  assert_string_equal(eval_error(e, "mial", NULL, -EINVAL),
                      "model.yaml:20: rule-x: binding mial: unknown property "
                      "'mial'");
  assert_has(eval_error(e, "groups.name", NULL, -EINVAL), "multi-valued");
  assert_has(eval_error(e, "mail.name", NULL, -EINVAL), "'mail' is not a link");
  assert_string_equal(eval_error(e, "broken", NULL, -EIO),
                      "model.yaml:20: rule-x: binding broken: the store "
                      "cannot be read");
  assert_has(check_error("manager..mail", NULL), "empty step");
  assert_has(check_error("manager mail", NULL), "unexpected character ' '");
  assert_string_equal(check_error(NULL, NULL),
                      "model.yaml:20:14: rule-x: neither a binding nor an "
                      "expression");
  check_ok("manager.department.name", NULL);
  check_ok("employee-id", NULL);
  jh_expr_env_free(e);
}

static void test_literal(void **state) {
  jh_expr_env *e = env_with(0, 0);
  (void)state;
  assert_string_equal(value1(e, NULL, "Literal:514", &alice), "514");
  assert_string_equal(value1(e, NULL, "Literal:a:b|c", &alice), "a:b|c");
  assert_string_equal(value1(e, NULL, "Literal:", &alice), "");
  assert_has(check_error("mail", "Literal:x"), "a literal takes no binding");
  assert_has(check_error("manager", "lua:m:return m.mail"),
             "a lua: expression takes no binding");
  check_ok(NULL, "Literal:false");
  jh_expr_env_free(e);
  /* without a resolver, only literals can be evaluated */
  jh_expr *x, *b;
  jh_expr_value v;
  char err[512];
  assert_int_equal(jh_expr_env_new(NULL, NULL, &e), 0);
  assert_int_equal(
      jh_expr_compile(e, NULL, "Literal:x", LOC, "r", &x, err, sizeof(err)), 0);
  assert_int_equal(
      jh_expr_compile(e, "mail", NULL, LOC, "r", &b, err, sizeof(err)), 0);
  assert_int_equal(jh_expr_eval(x, NULL, &v, err, sizeof(err)), 0);
  assert_string_equal(v.v[0], "x");
  assert_int_equal(jh_expr_eval(b, NULL, &v, err, sizeof(err)), -EIO);
  assert_string_equal(err, "model.yaml:20: r: the environment has no resolver");
  assert_int_equal(v.n, 0);
  jh_expr_env_free(e);
}

static void test_forms(void **state) {
  (void)state;
  assert_has(check_error(NULL, "lua:p"), "expected lua:param:body");
  assert_has(check_error(NULL, "lua::return 1"), "expected lua:param:body");
  assert_has(check_error(NULL, "lua:end:return 1"), "'end' cannot name");
  assert_has(check_error(NULL, "lua:_ENV:return x"), "'_ENV' cannot name");
  assert_has(check_error(NULL, "lua:p:  \n "), "the Lua body is empty");
  assert_has(check_error(NULL, "C#:p:return p.Mail;"),
             "C# expressions are not supported");
  assert_has(check_error(NULL, "ToUpper"), "ToUpper needs a binding");
  assert_has(check_error("mail", "NoSuchFunction:a|b"),
             "unknown function 'NoSuchFunction'");
  assert_has(check_error("mail", ""), "expected a built-in function");
}

/* ---- Lua --------------------------------------------------------------- */

static void test_lua_navigation(void **state) {
  jh_expr_env *e = env_with(0, 0);
  (void)state;
  assert_string_equal(value1(e, NULL, "lua:p:return p.mail", &alice),
                      "alice@acme.test");
  assert_string_equal(value1(e, NULL,
                             "lua:person:return person.manager.department.name",
                             &alice),
                      "Sales");
  assert_string_equal(
      value1(e, NULL, "lua:p:return p.last_name .. ' ' .. p.first_name:upper()",
             &alice),
      "Smith ALICE");
  /* a link without target is nil; p.manager.manager.mail would fail */
  assert_string_equal(value1(e, NULL, "lua:p:return p.manager.manager", &alice),
                      "");
  assert_string_equal(
      value1(e, NULL, "lua:p:local m = p.manager.manager\nreturn m and m.mail",
             &alice),
      "");
  assert_string_equal(value1(e, NULL, "lua:p:return p.empty", &alice), "");
  /* a resource as a value is its key; p.groups is a list of resources */
  assert_string_equal(value1(e, NULL, "lua:p:return p.manager", &alice), "B1");
  assert_string_equal(
      value1(e, NULL, "lua:p:return tostring(p.manager.department)", &alice),
      "D1");
  assert_string_equal(
      value1(e, NULL, "lua:p:return #p.groups .. p.groups[2].name", &alice),
      "2VPN");
  assert_string_equal(value1(e, NULL, "lua:p:return #p.manager.groups", &alice),
                      "0");
  jh_expr_env_free(e);
}

static void test_lua_values(void **state) {
  jh_expr_env *e = env_with(0, 0);
  jh_expr_value v;
  char err[512];
  (void)state;
  assert_string_equal(value1(e, NULL, "lua:p:return 1 + 1", &alice), "2");
  assert_string_equal(value1(e, NULL, "lua:p:return 7 / 2", &alice), "3.5");
  assert_string_equal(value1(e, NULL, "lua:p:return 10 / 2", &alice), "5");
  assert_string_equal(value1(e, NULL, "lua:p:return -2^63", &alice),
                      "-9.2233720368548e+18");
  assert_string_equal(
      value1(e, NULL, "lua:p:return tonumber(p.age) > 40", &alice), "true");
  assert_string_equal(value1(e, NULL, "lua:p:return false", &alice), "false");
  assert_string_equal(value1(e, NULL, "lua:p:return nil", &alice), "");
  assert_string_equal(value1(e, NULL, "lua:p:local x = 1", &alice), "");
  assert_string_equal(value1(e, NULL, "lua:p:return {}", &alice), "");
  assert_int_equal(run(e, NULL,
                       "lua:p:local t = {p.first_name, 3, true}\n"
                       "for _, g in ipairs(p.groups) do t[#t + 1] = g end\n"
                       "return t",
                       &alice, &v, err, sizeof(err)),
                   0);
  assert_int_equal(v.n, 5);
  assert_string_equal(v.v[0], "Alice");
  assert_string_equal(v.v[1], "3");
  assert_string_equal(v.v[2], "true");
  assert_string_equal(v.v[4], "G2");
  assert_has(eval_error(e, NULL, "lua:p:return print", -EINVAL),
             "unknown name 'print'");
  assert_has(eval_error(e, NULL, "lua:p:return string.upper", -EINVAL),
             "returns a function value");
  assert_has(eval_error(e, NULL, "lua:p:return {{1}}", -EINVAL),
             "item 1 is a table");
  assert_has(eval_error(e, NULL, "lua:p:return 1/0", -EINVAL), "not finite");
  jh_expr_env_free(e);
}

static void test_lua_bool(void **state) {
  jh_expr_env *e = env_with(0, 0);
  const char *cases[][3] = {
      {NULL, "lua:p:return p.age == '42'", "1"},
      {NULL, "lua:p:return p.age == '41'", "0"},
      {NULL, "lua:p:return nil", "0"},
      {NULL, "lua:p:return 'no'", "1"},
      {NULL, "Literal:false", "0"},
      {NULL, "Literal:true", "1"},
      {"empty", NULL, "0"},
      {"mail", NULL, "1"},
  };
  char err[512];
  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    jh_expr *x;
    int truth = -1;
    assert_int_equal(jh_expr_compile(e, cases[i][0], cases[i][1], LOC, "crit",
                                     &x, err, sizeof(err)),
                     0);
    assert_int_equal(jh_expr_eval_bool(x, &alice, &truth, err, sizeof(err)), 0);
    assert_int_equal(truth, cases[i][2][0] - '0');
    assert_int_equal(jh_expr_is_lua(x),
                     cases[i][1] != NULL &&
                         strncmp(cases[i][1], "lua:", 4) == 0);
  }
  jh_expr_env_free(e);
}

/* ---- the sandbox at run time --------------------------------------------- */

static void test_runtime_errors(void **state) {
  jh_expr_env *e = env_with(0, 0);
  (void)state;
  /* the body starts on the rule's line (20): its third line is 22 */
  assert_string_equal(
      eval_error(e, NULL,
                 "lua:p:local a = p.mail\nlocal m = p.manager.manager\n"
                 "return m.mail",
                 -EINVAL),
      "model.yaml:22: rule-x: attempt to index a nil value (local 'm')");
  assert_string_equal(
      eval_error(e, NULL, "lua:p:\n\nerror('no mail for ' .. p.first_name)",
                 -EINVAL),
      "model.yaml:22: rule-x: no mail for Alice");
  assert_string_equal(eval_error(e, NULL, "lua:p:\nerror('plain', 0)", -EINVAL),
                      "model.yaml:21: rule-x: plain");
  assert_string_equal(eval_error(e, NULL, "lua:p:\nreturn p.mial", -EINVAL),
                      "model.yaml:21: rule-x: unknown property 'mial'");
  assert_string_equal(eval_error(e, NULL, "lua:p:return undeclared", -EINVAL),
                      "model.yaml:20: rule-x: unknown name 'undeclared'");
  assert_has(eval_error(e, NULL, "lua:p:x = 1 return x", -EINVAL),
             "cannot create the global 'x'");
  assert_has(eval_error(e, NULL, "lua:p:string.upper = nil", -EINVAL),
             "cannot assign 'upper'");
  assert_has(eval_error(e, NULL, "lua:p:p.mail = 'x'", -EINVAL),
             "cannot assign 'mail'");
  assert_has(eval_error(e, NULL, "lua:p:return ('x'):rep(2, {})", -EINVAL),
             "bad argument #2 to 'rep'");
  /* what the sandbox removed is absent at run time too */
  assert_string_equal(value1(e, NULL, "lua:p:return math.random", &alice), "");
  assert_string_equal(
      value1(e, NULL, "lua:p:return string['du' .. 'mp']", &alice), "");
  assert_string_equal(value1(e, NULL, "lua:p:return ('').dump", &alice), "");
  assert_has(eval_error(e, NULL, "lua:p:return coroutine", -EINVAL),
             "unknown name 'coroutine'");
  assert_has(eval_error(e, NULL, "lua:p:return xpcall", -EINVAL),
             "unknown name 'xpcall'");
  /* rawset would write past the read-only library tables */
  assert_has(eval_error(e, NULL, "lua:p:rawset(string, 'x', 1)", -EINVAL),
             "unknown name 'rawset'");
  assert_string_equal(
      value1(e, NULL, "lua:p:return rawget(string, 'upper')", &alice), "");
  /* a caught error is just a value */
  assert_string_equal(
      value1(e, NULL, "lua:p:local ok, m = pcall(error, 'x', 0) return m",
             &alice),
      "x");
  jh_expr_env_free(e);
}

static void test_resolver_failure(void **state) {
  jh_expr_env *e = env_with(0, 0);
  (void)state;
  assert_string_equal(eval_error(e, NULL, "lua:p:\nreturn p.broken", -EIO),
                      "model.yaml:21: rule-x: the store cannot be read");
  /* pcall does not hide it */
  assert_has(eval_error(e, NULL,
                        "lua:p:pcall(function() return p.broken end)\n"
                        "return 'x'",
                        -EIO),
             "the store cannot be read");
  jh_expr_env_free(e);
}

static void test_instruction_limit(void **state) {
  jh_expr_env *e = env_with(100000, 0);
  (void)state;
  assert_string_equal(
      eval_error(e, NULL, "lua:p:local n = 0\n\nwhile true do n = n + 1 end",
                 -ETIME),
      "model.yaml:22: rule-x: instruction limit of 100000 exceeded (a loop "
      "that never ends?)");
  assert_has(eval_error(e, NULL, "lua:p:while true do end", -ETIME),
             "model.yaml:20: rule-x: instruction limit");
  /* pcall cannot catch the limit */
  assert_has(eval_error(e, NULL,
                        "lua:p:while true do\n"
                        "  pcall(function() while true do end end)\nend",
                        -ETIME),
             "rule-x: instruction limit of 100000");
  /* the limit is per evaluation: the next one has its whole budget */
  assert_string_equal(
      value1(e, NULL,
             "lua:p:local n = 0 for i = 1, 10000 do n = n + i end return n",
             &alice),
      "50005000");
  jh_expr_env_free(e);
}

static void test_memory_limit(void **state) {
  jh_expr_env *e = env_with(0, 2u << 20);
  (void)state;
  assert_string_equal(
      eval_error(e, NULL,
                 "lua:p:local t = {}\n"
                 "while true do t[#t + 1] = string.rep('x', 64) .. #t end",
                 -ENOMEM),
      "model.yaml:20: rule-x: memory limit of 2 MiB exceeded");
  /* pcall cannot catch it either */
  assert_has(eval_error(e, NULL,
                        "lua:p:pcall(function()\n"
                        "  local t = {} while true do t[#t + 1] = {} end\n"
                        "end) return 'caught'",
                        -ENOMEM),
             "rule-x: memory limit of 2 MiB exceeded");
  assert_has(eval_error(e, NULL, "lua:p:return ('x'):rep(1 << 30)", -ENOMEM),
             "memory limit");
  /* the environment goes on */
  assert_string_equal(value1(e, NULL, "lua:p:return p.mail", &alice),
                      "alice@acme.test");
  jh_expr_env_free(e);
  /* a limit too small for the state itself */
  jh_expr_limits tiny = {0, 1024};
  jh_expr_env *t = NULL;
  assert_int_equal(jh_expr_env_new(&tiny, &resolver, &t), -ENOMEM);
  assert_null(t);
}

static void test_compiled_once(void **state) {
  jh_expr_env *e = env_with(0, 0);
  jh_expr *x, *y, *b;
  jh_expr_value v;
  char err[512];
  const tres *people[] = {&alice, &boss};
  (void)state;
  assert_int_equal(jh_expr_env_compiled_count(e), 0);
  assert_int_equal(jh_expr_compile(e, NULL, "lua:p:return p.mail", LOC, "r", &x,
                                   err, sizeof(err)),
                   0);
  assert_int_equal(
      jh_expr_compile(e, "mail", NULL, LOC, "r", &b, err, sizeof(err)), 0);
  assert_int_equal(jh_expr_env_compiled_count(e), 1);
  for (int i = 0; i < 200; i++) {
    assert_int_equal(jh_expr_eval(x, people[i % 2], &v, err, sizeof(err)), 0);
    assert_string_equal(v.v[0], i % 2 ? "boss@acme.test" : "alice@acme.test");
    assert_int_equal(jh_expr_eval(b, people[i % 2], &v, err, sizeof(err)), 0);
  }
  assert_int_equal(jh_expr_env_compiled_count(e), 1);
  assert_int_equal(jh_expr_compile(e, NULL, "lua:p:return 1", LOC, "r", &y, err,
                                   sizeof(err)),
                   0);
  assert_int_equal(jh_expr_env_compiled_count(e), 2);
  /* a binding reads the store, a literal does not */
  nget = 0;
  assert_int_equal(jh_expr_eval(b, &alice, &v, err, sizeof(err)), 0);
  assert_int_equal(nget, 1);
  jh_expr_env_free(e);
}

/* ---- the sandbox at validate time -----------------------------------------
 */

static void test_check_refused(void **state) {
  (void)state;
  /* the body starts after "lua:p:" at column 14 + 6 */
  assert_string_equal(check_error(NULL, "lua:p:return os.execute('ls')"),
                      "model.yaml:20:27: rule-x: 'os' is not available in the "
                      "Lua sandbox");
  assert_string_equal(
      check_error(NULL, "lua:p:local f = 1\n  return io.open('/etc/passwd')"),
      "model.yaml:21:10: rule-x: 'io' is not available in the Lua sandbox");
  assert_has(check_error(NULL, "lua:p:\nreturn require('socket')"),
             "model.yaml:21:8: rule-x: 'require' is not");
  assert_has(check_error(NULL, "lua:p:return load('return 1')()"),
             "model.yaml:20:27: rule-x: 'load' is not");
  assert_has(check_error(NULL, "lua:p:return string.dump(print)"),
             "model.yaml:20:27: rule-x: 'string.dump' is not");
  assert_has(check_error(NULL, "lua:p:return string\n  : dump()"),
             "model.yaml:20:27: rule-x: 'string.dump' is not");
  /* \z in a string skips the newline: the string ends on the next line */
  assert_has(check_error(NULL, "lua:p:local s = 'a\\z\n   ' os.exit() --'"),
             "model.yaml:21:6: rule-x: 'os' is not");
  assert_has(check_error(NULL, "lua:p:return getmetatable('').__index"),
             "model.yaml:20:27: rule-x: 'getmetatable' is not");
  const char *names[] = {"debug",  "package",        "loadfile",
                         "dofile", "collectgarbage", "_G",
                         "_ENV",   "setmetatable"};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    char expr[64], want[64];
    snprintf(expr, sizeof(expr), "lua:p:return %s", names[i]);
    snprintf(want, sizeof(want), "'%s' is not available", names[i]);
    assert_has(check_error(NULL, expr), want);
  }
  /* compiling refuses them too */
  jh_expr_env *e = env_with(0, 0);
  jh_expr *x = NULL;
  char err[512];
  assert_int_equal(jh_expr_compile(e, NULL, "lua:p:return os.time()", LOC, "r",
                                   &x, err, sizeof(err)),
                   -EINVAL);
  assert_null(x);
  assert_has(err, "'os' is not available");
  assert_int_equal(jh_expr_env_compiled_count(e), 0);
  jh_expr_env_free(e);
}

static void test_check_allowed(void **state) {
  (void)state;
  /* the names as fields, in strings, in comments, as constructor keys */
  check_ok(NULL, "lua:p:return p.os .. p.io");
  check_ok(NULL, "lua:p:return 'os.execute' .. \"io\" .. [==[require]==]");
  check_ok(NULL, "lua:p:-- os.execute('x')\nreturn 1");
  check_ok(NULL, "lua:p:--[[ load\nio ]] return 1");
  check_ok(NULL, "lua:p:local t = {os = 1, load = 2} return t.os");
  check_ok(NULL, "lua:p:return string.format('%d', 1) .. ('x'):rep(2)");
  check_ok(NULL, "lua:p:return 'it\\'s os' .. 0x1p4 .. 1e-3");
}

static void test_check_syntax(void **state) {
  (void)state;
  assert_string_equal(check_error(NULL, "lua:p:return p.mail +"),
                      "model.yaml:20:35: rule-x: Lua: unexpected symbol near "
                      "<eof>");
  assert_string_equal(check_error(NULL, "lua:p:local x = 1\nretrun x"),
                      "model.yaml:21:8: rule-x: Lua: syntax error near 'x'");
  assert_string_equal(check_error(NULL, "lua:p:\nif p.mail then\nreturn 1"),
                      "model.yaml:22:9: rule-x: Lua: 'end' expected (to close "
                      "'if' at line 21) near <eof>");
  assert_has(check_error(NULL, "lua:p:return 'unfinished"), "model.yaml:20:");
  assert_has(check_error(NULL, "lua:p:return 1 end, function() end"),
             "Lua: <eof> expected");
  /* the same from jh_expr_compile */
  jh_expr_env *e = env_with(0, 0);
  jh_expr *x = NULL;
  char err[512];
  assert_int_equal(jh_expr_compile(e, NULL, "lua:p:\nreturn )", LOC, "r", &x,
                                   err, sizeof(err)),
                   -EINVAL);
  assert_string_equal(err,
                      "model.yaml:21:8: r: Lua: unexpected symbol near ')'");
  jh_expr_env_free(e);
}

/* ---- built-in functions ----------------------------------------------------
 */

static void test_builtin_form(void **state) {
  jh_expr_env *e = env_with(0, 0);
  jh_expr_value v;
  char err[512];
  (void)state;
  assert_string_equal(value1(e, "last_name", "ToUpper", &alice), "SMITH");
  assert_string_equal(value1(e, "manager.department.name", "ToLower", &alice),
                      "sales");
  assert_string_equal(value1(e, "empty", "ToUpper", &alice), "");
  assert_string_equal(value1(e, "manager.manager.mail", "ToUpper", &alice), "");
  assert_string_equal(value1(e, "hired",
                             "ParseLocalDate:Europe/Paris|dd/MM/yyyy", &alice),
                      "2026-03-28T23:00:00Z");
  /* applied to each value of a list */
  assert_int_equal(run(e, "groups", "ToLower", &alice, &v, err, sizeof(err)),
                   0);
  assert_int_equal(v.n, 2);
  assert_string_equal(v.v[0], "g1");
  assert_string_equal(v.v[1], "g2");
  /* a value that does not fit: an error of the rule */
  assert_has(eval_error(e, "first_name", "ParseUniversalDate:dd/MM/yyyy",
                        -EINVAL),
             "model.yaml:20: rule-x: ParseUniversalDate: ");
  /* the arguments are checked when compiled and by jobhost validate */
  assert_has(check_error("hired", "ParseLocalDate:Europe/Paris"),
             "model.yaml:20:");
  assert_has(check_error("hired", "ParseLocalDate:Nowhere/City|dd/MM/yyyy"),
             "Nowhere/City");
  check_ok("hired",
           "ParseLocalDateThenAddMinutes:Europe/Paris|dd/MM/yyyy|1440");
  check_ok("last_name", "Simplify");
  jh_expr_env_free(e);
}

static void test_builtin_lua(void **state) {
  jh_expr_env *e = env_with(0, 0);
  (void)state;
  assert_string_equal(
      value1(e, NULL, "lua:p:return ToUpper(p.last_name)", &alice), "SMITH");
  assert_string_equal(value1(e, NULL,
                             "lua:p:return ToLower(p.first_name) .. '.' .. "
                             "ToLower(p.last_name)",
                             &alice),
                      "alice.smith");
  /* a nil argument gives nil */
  assert_string_equal(value1(e, NULL,
                             "lua:p:return ToUpper(p.manager.manager and "
                             "p.manager.manager.mail)",
                             &alice),
                      "");
  assert_string_equal(
      value1(e, NULL, "lua:p:return ParseLocalDate(p.hired, nil, 'dd/MM/yyyy')",
             &alice),
      "");
  assert_string_equal(value1(e, NULL, "lua:p:return ToUpper(42)", &alice),
                      "42");
  /* the same call for every resource: bound once, then reused */
  for (int i = 0; i < 3; i++)
    assert_string_equal(
        value1(e, NULL,
               "lua:p:return ParseLocalDate(p.hired, 'Europe/Paris', "
               "'dd/MM/yyyy')",
               &alice),
        "2026-03-28T23:00:00Z");
  assert_has(eval_error(e, NULL,
                        "lua:p:\nreturn ParseLocalDate(p.hired, "
                        "'Nowhere/City', 'dd/MM/yyyy')",
                        -EINVAL),
             "model.yaml:21: rule-x: ");
  assert_has(eval_error(e, NULL, "lua:p:return ParseLocalDate(p.hired)",
                        -EINVAL),
             "ParseLocalDate");
  assert_has(eval_error(e, NULL, "lua:p:return ToUpper()", -EINVAL),
             "ToUpper needs the value it applies to");
  assert_has(eval_error(e, NULL, "lua:p:return ToUpper({})", -EINVAL),
             "bad argument #1 to 'ToUpper'");
  assert_has(eval_error(e, NULL, "lua:p:return ToUppr(p.mail)", -EINVAL),
             "unknown name 'ToUppr'");
  jh_expr_env_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_binding),
      cmocka_unit_test(test_binding_link_key),
      cmocka_unit_test(test_binding_errors),
      cmocka_unit_test(test_literal),
      cmocka_unit_test(test_forms),
      cmocka_unit_test(test_lua_navigation),
      cmocka_unit_test(test_lua_values),
      cmocka_unit_test(test_lua_bool),
      cmocka_unit_test(test_runtime_errors),
      cmocka_unit_test(test_resolver_failure),
      cmocka_unit_test(test_instruction_limit),
      cmocka_unit_test(test_memory_limit),
      cmocka_unit_test(test_compiled_once),
      cmocka_unit_test(test_check_refused),
      cmocka_unit_test(test_check_allowed),
      cmocka_unit_test(test_check_syntax),
      cmocka_unit_test(test_builtin_form),
      cmocka_unit_test(test_builtin_lua),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
