/*
 * test_xml_csharp.c — the C# subset translated to Lua (host/xml/xml_csharp.c):
 * each translation of the table, checked by lib/expr as jobhost validate
 * checks it; the translations run on a small resource and give what C#
 * gives; every refusal names the part not understood and its offset.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "expr.h"
#include "xml_csharp.h"

/* ---- the table of translations ---- */

/* Helper preambles, as the translation writes them (checked in full by
 * the first rows that use each, then only named). */
#define GET                                                                    \
  "local function cs_get(v, k) if v == nil then return nil end return v[k] end "
#define BOOL_                                                                  \
  "local function cs_bool(v) if type(v) == 'string' then v = v:lower() "       \
  "return v ~= 'false' and v ~= '0' and v ~= '' end return v ~= nil and v "    \
  "~= false end "

static const struct {
  const char *cs, *lua;
} table[] = {
    /* property access, concatenation, literals */
    {"C#:user:return user.FirstName;", "lua:user:return user.FirstName"},
    {"C#:user:return user.FirstName", "lua:user:return user.FirstName"},
    {"C#:user:user.FirstName", "lua:user:return user.FirstName"},
    {"C#:user:return user.FirstName+\" \"+user.LastName;",
     "lua:user:return ((user.FirstName or '') .. ' ' .. (user.LastName or ''))"},
    {"C#:person:return person.Manager.Mail;",
     "lua:person:return person.Manager.Mail"},
    {"C#:r:return r.end;", "lua:r:return r['end']"},
    {"C#:r:return \"it's \\\"x\\\"\\n\";", "lua:r:return 'it\\'s \"x\"\\n'"},
    {"C#:r:return @\"C:\\dir \"\"q\"\"\";", "lua:r:return 'C:\\\\dir \"q\"'"},
    {"C#:r:return \"a\" + 1;", "lua:r:return ('a' .. '1')"},
    {"C#:r:return \"a\" + null + r.x;", "lua:r:return ('a' .. (r.x or ''))"},
    {"C#:r:return null;", "lua:r:return nil"},
    {"C#:r:return true;", "lua:r:return true"},
    {"C#:r:return 42;", "lua:r:return 42"},
    {"C#:r:return \"\\t\\0\";", "lua:r:return '\\009\\000'"},
    /* ?. */
    {"C#:resource:return resource?.mail?.ToLower();",
     "lua:resource:" GET "return ToLower(cs_get(resource, 'mail'))"},
    {"C#:r:return r?.Manager.Mail;",
     "lua:r:" GET "return cs_get(cs_get(r, 'Manager'), 'Mail')"},
    /* string methods */
    {"C#:r:return r.a.ToUpper();", "lua:r:return ToUpper(r.a)"},
    {"C#:r:return r.a.ToLowerInvariant();", "lua:r:return ToLower(r.a)"},
    {"C#:r:return r.a.Trim();",
     "lua:r:local function cs_trim(s) if s == nil then return nil end return "
     "(s:match('^%s*(.-)%s*$')) end return cs_trim(r.a)"},
    {"C#:r:return r.a.Trim().ToLower();",
     "lua:r:local function cs_trim(s) if s == nil then return nil end return "
     "(s:match('^%s*(.-)%s*$')) end return ToLower(cs_trim(r.a))"},
    {"C#:r:return (r.LastName + r.FirstName).Simplify();",
     "lua:r:return Simplify(((r.LastName or '') .. (r.FirstName or '')))"},
    {"C#:r:return r.n.ToTitle(\"tr\");", "lua:r:return ToTitle(r.n, 'tr')"},
    {"C#:r:return r.d.ParseLocalDate(\"Europe/Paris\", \"dd/MM/yyyy\");",
     "lua:r:return ParseLocalDate(r.d, 'Europe/Paris', 'dd/MM/yyyy')"},
    /* conditions */
    {"C#:r:return r.a == \"x\";", "lua:r:return (r.a == 'x')"},
    {"C#:r:return r.a != null;", "lua:r:return (r.a ~= nil)"},
    {"C#:r:return r.n >= 18;", "lua:r:return (tonumber(r.n) >= 18)"},
    {"C#:r:return r.n == -1;", "lua:r:return (tonumber(r.n) == -1)"},
    {"C#:r:return r.IsActive == true;",
     "lua:r:" BOOL_ "return (cs_bool(r.IsActive) == true)"},
    {"C#:r:return !r.IsActive;",
     "lua:r:" BOOL_ "return (not cs_bool(r.IsActive))"},
    {"C#:r:return r.a == \"x\" && r.b != \"y\" || r.c == null;",
     "lua:r:return (((r.a == 'x') and (r.b ~= 'y')) or (r.c == nil))"},
    {"C#:r:return r.a == null ? \"none\" : r.a;",
     "lua:r:return (function() if (r.a == nil) then return 'none' end return "
     "r.a end)()"},
    {"C#:r:return r.a ?? \"none\";",
     "lua:r:return (function() local v = r.a if v == nil then return 'none' "
     "end return v end)()"},
    {"C#:r:return string.IsNullOrEmpty(r.a);",
     "lua:r:local function cs_empty(s) return s == nil or s == '' end return "
     "cs_empty(r.a)"},
};

/* Translations whose text is long: only that they translate, use the
 * helper, and check. */
static const struct {
  const char *cs, *needle;
} uses[] = {
    {"C#:r:return r.a.Substring(0, 2);", "return cs_substring(r.a, 0, 2)"},
    {"C#:r:return r.a.Substring(3);", "return cs_substring(r.a, 3)"},
    {"C#:resource:return resource.dn.Contains(\",CN=Roles,\");",
     "return cs_contains(resource.dn, ',CN=Roles,')"},
    {"C#:r:return r.a.StartsWith(\"x\");", "return cs_startswith(r.a, 'x')"},
    {"C#:r:return r.a.EndsWith(\"x\");", "return cs_endswith(r.a, 'x')"},
    {"C#:r:return r.a.Replace(\".\", \"%\");",
     "return cs_replace(r.a, '.', '%')"},
    {"C#:r:return string.IsNullOrWhiteSpace(r.a);", "return cs_blank(r.a)"},
};

/* ---- refusals: the message and the offset of the part ---- */

static const struct {
  const char *cs;
  size_t at;
  const char *needle;
} refusals[] = {
    {"C#:r:return r.a + ',';", 18, "character literal"},
    {"C#:r:return r.a.Split(\",\");", 16, "method 'Split'"},
    {"C#:r:return r.a.Length;", 16, "'Length'"},
    {"C#:r:return r.n + 1;", 18, "arithmetic"},
    {"C#:r:return 1 + 2;", 12, "arithmetic"},
    {"C#:r:return r.n * 2;", 16, "'*' is outside the subset"},
    {"C#:r:var x = r.a; return x;", 5, "the name 'var'"},
    {"C#:r:return other.a;", 12, "the name 'other'"},
    {"C#:r:return r.a; return r.b;", 17, "'return' is outside the subset"},
    {"C#:r:return \"abc;", 12, "not closed"},
    {"C#:r:return \"\\u00e9\";", 13, "escape '\\u'"},
    {"C#:r:return 1.5;", 12, "number '1.5'"},
    {"C#:r:return r.a.ToLower(\"tr\");", 24, "too many arguments"},
    {"C#:r:return r.a.Substring();", 16, "Substring needs 1 argument"},
    {"C#:r:return r.a.Replace(\"x\");", 16, "Replace needs 2 arguments"},
    {"C#:r:return r.a.Contains(1);", 16, "Contains takes a string argument"},
    /* a refusal after an argument was read (the arguments are freed:
     * found by fuzz_csharp, tests/fuzz/regressions/csharp/) */
    {"C#:r:return r.d.ParseLocalDate(\"Europe/Paris\", \"dd/M;", 47,
     "not closed"},
    {"C#:r:return r.a.Contains(\"x\", \"y\");", 30, "too many arguments"},
    {"C#:r:return r.a.Replace(\"x\" \"y\");", 28, "expected ',' or ')'"},
    {"C#:r:return (r.a == \"x\").ToLowerInvariant();", 25,
     "ToLowerInvariant is called on a boolean"},
    {"C#:r:return (r.a == \"x\").Trim();", 25, "Trim is called on a boolean"},
    {"C#:r:return \"x\" && r.a;", 12, "a string where a condition"},
    {"C#:r:return \"x\".Name;", 16, "the property 'Name' of a string"},
    {"C#:r:return (r.a == \"x\") + \"y\";", 12, "a boolean in a concatenation"},
    {"C#:r:return r.a < \"x\";", 16, "compare numbers"},
    {"C#:r:return r.a ? \"x\";", 21, "':' of the conditional"},
    {"C#:r:return (r.a;", 16, "expected ')'"},
    {"C#:r:return r.;", 14, "expected a property or method name"},
    {"C#:r:return ;", 12, "expected a value"},
    {"C#:r:return r.a(1);", 14, "the method 'a'"},
    {"C#:r:return r(1);", 13, "not a method"},
    {"C#:end:return end.a;", 3, "'end' is a name Lua"},
    {"C#:os:return os.a;", 3, "'os' is a name Lua"},
    {"C#:1x:return 1;", 3, "parameter's name"},
    /* lib/expr.c reads names of up to 63 characters (found by
     * fuzz_csharp) */
    {"C#:p23456789012345678901234567890123456789012345678901234567890123x:"
     "return 1;",
     3, "longer than 63 characters"},
    {"C#:r", 4, "expected ':'"},
    {"lua:r:return r", 0, "expected 'C#:param:body'"},
    {"C#:r:return string.Join(\",\", r.a);", 19, "IsNullOrEmpty"},
};

static void check_lua(const char *lua, const char *what) {
  static const jh_mloc loc = {"model.yaml", 1, 1};
  char err[512];
  int rc = jh_expr_check(NULL, lua, loc, what, err, sizeof(err));
  if (rc != 0)
    fail_msg("%s: %s does not check: %s", what, lua, err);
}

static void test_translations(void **state) {
  (void)state;
  {
    /* the longest parameter name */
    const char *cs = "C#:p23456789012345678901234567890123456789012345678901"
                     "234567890123:return 1;";
    char *lua = NULL, err[256];
    assert_int_equal(jh_cs_to_lua(cs, &lua, NULL, err, sizeof(err)), 0);
    check_lua(lua, cs);
    free(lua);
  }
  for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
    char *lua = NULL, err[256];
    size_t at = 99;
    int rc = jh_cs_to_lua(table[i].cs, &lua, &at, err, sizeof(err));
    if (rc != 0)
      fail_msg("%s: refused at %zu: %s", table[i].cs, at, err);
    if (strcmp(lua, table[i].lua) != 0)
      fail_msg("%s\n  gave     %s\n  expected %s", table[i].cs, lua,
               table[i].lua);
    check_lua(lua, table[i].cs);
    free(lua);
  }
  for (size_t i = 0; i < sizeof(uses) / sizeof(uses[0]); i++) {
    char *lua = NULL, err[256];
    int rc = jh_cs_to_lua(uses[i].cs, &lua, NULL, err, sizeof(err));
    if (rc != 0)
      fail_msg("%s: refused: %s", uses[i].cs, err);
    if (strstr(lua, uses[i].needle) == NULL)
      fail_msg("%s gave %s, without %s", uses[i].cs, lua, uses[i].needle);
    check_lua(lua, uses[i].cs);
    free(lua);
  }
}

static void test_refusals(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
    char *lua = (char *)"untouched", err[256];
    size_t at = 999;
    int rc = jh_cs_to_lua(refusals[i].cs, &lua, &at, err, sizeof(err));
    if (rc != -EINVAL)
      fail_msg("%s: expected a refusal, got %d (%s)", refusals[i].cs, rc,
               rc == 0 ? lua : err);
    assert_null(lua);
    if (strstr(err, refusals[i].needle) == NULL)
      fail_msg("%s: message '%s' lacks '%s'", refusals[i].cs, err,
               refusals[i].needle);
    if (at != refusals[i].at)
      fail_msg("%s: refused at %zu, expected %zu (%s)", refusals[i].cs, at,
               refusals[i].at, err);
  }
}

/* ---- the translations run: a resource of named text values, with a
 * link 'Manager' to another one ---- */

typedef struct res {
  const char *const *kv; /* name, value, ..., NULL */
  const struct res *manager;
} res;

static jh_expr_prop_kind r_kind(void *ud, const void *r, const char *prop) {
  (void)ud;
  (void)r;
  return strcmp(prop, "Manager") == 0 ? JH_EXPR_PROP_LINK : JH_EXPR_PROP_SCALAR;
}

static int r_get(void *ud, const void *r, const char *prop, const char **v,
                 size_t *len, char *err, size_t errsize) {
  const res *x = r;
  (void)ud;
  (void)err;
  (void)errsize;
  for (size_t i = 0; x->kv[i] != NULL; i += 2)
    if (strcmp(x->kv[i], prop) == 0) {
      *v = x->kv[i + 1];
      *len = strlen(*v);
      return 1;
    }
  return 0;
}

static int r_follow(void *ud, const void *r, const char *prop,
                    const void *const **targets, size_t *n, char *err,
                    size_t errsize) {
  const res *x = r;
  (void)ud;
  (void)prop;
  (void)err;
  (void)errsize;
  *targets = (const void *const *)&x->manager;
  *n = x->manager != NULL;
  return 0;
}

static int r_key(void *ud, const void *r, const char **v, size_t *len,
                 char *err, size_t errsize) {
  (void)ud;
  (void)r;
  (void)err;
  (void)errsize;
  *v = "k";
  *len = 1;
  return 0;
}

/* The value of C# expression cs on x: its text, "(none)", or "(error)". */
static void eval_cs(jh_expr_env *env, const char *cs, const res *x, char *out,
                    size_t size) {
  static const jh_mloc loc = {"model.yaml", 1, 1};
  char *lua = NULL, err[512];
  jh_expr *e = NULL;
  jh_expr_value v;
  int rc = jh_cs_to_lua(cs, &lua, NULL, err, sizeof(err));
  if (rc != 0)
    fail_msg("%s: %s", cs, err);
  rc = jh_expr_compile(env, NULL, lua, loc, cs, &e, err, sizeof(err));
  if (rc != 0)
    fail_msg("%s: %s", lua, err);
  free(lua);
  rc = jh_expr_eval(e, x, &v, err, sizeof(err));
  if (rc != 0)
    snprintf(out, size, "(error)");
  else if (v.n == 0)
    snprintf(out, size, "(none)");
  else
    snprintf(out, size, "%.*s", (int)v.len[0], v.v[0]);
}

static void test_semantics(void **state) {
  static const char *const boss_kv[] = {"Mail", "Boss@Acme.Test", NULL};
  static const res boss = {boss_kv, NULL};
  static const char *const kv[] = {
      "FirstName", "Élodie",  "LastName", "Martin",
      "Pad",       "  x y  ", "Dn",       "CN=a,CN=Roles,DC=x",
      "Active",    "False",   "Age",      "42",
      "Dots",      "a.b.c%d", NULL};
  static const res r = {kv, &boss};
  static const res lone = {kv, NULL};
  static const struct {
    const char *cs;
    const res *on;
    const char *want;
  } cases[] = {
      {"C#:p:return p.FirstName + \" \" + p.LastName;", &r, "Élodie Martin"},
      {"C#:p:return p.Missing + \"-\" + p.LastName;", &r, "-Martin"},
      {"C#:p:return p.Manager.Mail.ToLower();", &r, "boss@acme.test"},
      {"C#:p:return p?.Manager?.Mail;", &lone, "(none)"},
      {"C#:p:return p.Manager.Mail;", &lone, "(error)"},
      {"C#:p:return p.Pad.Trim();", &r, "x y"},
      {"C#:p:return p.FirstName.Substring(0, 3);", &r, "Élo"},
      {"C#:p:return p.FirstName.Substring(2);", &r, "odie"},
      {"C#:p:return p.FirstName.Substring(4, 9);", &r, "(error)"},
      {"C#:p:return p.Dn.Contains(\",CN=Roles,\");", &r, "true"},
      {"C#:p:return p.Dn.StartsWith(\"CN=b\");", &r, "false"},
      {"C#:p:return p.Dn.EndsWith(\"DC=x\");", &r, "true"},
      {"C#:p:return p.Dots.Replace(\".\", \"%\");", &r, "a%b%c%d"},
      {"C#:p:return p.Dots.Replace(\"%d\", \"%1\");", &r, "a.b.c%1"},
      {"C#:p:return p.Active ? \"on\" : \"off\";", &r, "off"},
      {"C#:p:return !p.Active && p.Age >= 18;", &r, "true"},
      {"C#:p:return p.Age > 50 || p.LastName == \"Martin\";", &r, "true"},
      {"C#:p:return p.Missing ?? \"default\";", &r, "default"},
      {"C#:p:return (p.LastName + p.FirstName).Simplify();", &r,
       "martinelodie"},
      {"C#:p:return p.Missing == null ? null : p.Missing.Trim();", &r,
       "(none)"},
      {"C#:p:return string.IsNullOrWhiteSpace(p.Pad);", &r, "false"},
  };
  jh_expr_resolver rv = {NULL, r_kind, r_get, r_follow, r_key, NULL};
  jh_expr_env *env = NULL;
  char out[256];
  (void)state;
  assert_int_equal(jh_expr_env_new(NULL, &rv, &env), 0);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    eval_cs(env, cases[i].cs, cases[i].on, out, sizeof(out));
    if (strcmp(out, cases[i].want) != 0)
      fail_msg("%s gave '%s', expected '%s'", cases[i].cs, out, cases[i].want);
  }
  jh_expr_env_free(env);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_translations),
      cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_semantics),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
