/*
 * test_exprfn.c — the built-in functions through exprfn.h: found by their
 * exact name, bound with their arguments checked (a wrong count or a bad
 * language is refused with a message saying what is expected), applied
 * to values; an empty input or an empty result is no value, invalid
 * UTF-8 an error that names the function.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exprfn.h"

/* Bind name to nargs args; the call, or fail. */
static jh_exprfn_call *bind(const char *name, const char *const *args,
                            size_t nargs) {
  char err[256] = "";
  jh_exprfn_call *c = NULL;
  const jh_exprfn *f = jh_exprfn_find(name);
  assert_non_null(f);
  assert_int_equal(jh_exprfn_bind(f, args, nargs, &c, err, sizeof(err)), 0);
  assert_non_null(c);
  return c;
}

/* Bind name to nargs args, apply it to in and check the result (NULL:
 * no value). */
static void check(const char *name, const char *const *args, size_t nargs,
                  const char *in, const char *want) {
  char err[256] = "";
  char *out = (char *)"unchanged";
  jh_exprfn_call *c = bind(name, args, nargs);
  int rc = jh_exprfn_apply(c, in, strlen(in), &out, err, sizeof(err));
  if (want == NULL) {
    assert_int_equal(rc, 0);
    assert_null(out);
  } else {
    assert_int_equal(rc, 1);
    assert_string_equal(out, want);
    free(out);
  }
  jh_exprfn_call_free(c);
}

/* Binding name to nargs args fails with a message containing want. */
static void check_bind_error(const char *name, const char *const *args,
                             size_t nargs, const char *want) {
  char err[256] = "";
  jh_exprfn_call *c = NULL;
  const jh_exprfn *f = jh_exprfn_find(name);
  assert_non_null(f);
  assert_int_equal(jh_exprfn_bind(f, args, nargs, &c, err, sizeof(err)),
                   -EINVAL);
  assert_null(c);
  if (strstr(err, want) == NULL)
    fail_msg("bind %s: '%s' does not say '%s'", name, err, want);
}

static const char *const text_names[] = {"ToUpper",     "ToLower",
                                         "ToTitle",     "RemoveDiacritics",
                                         "Simplify",    "ToFirstName",
                                         "ToSoundex",   "ToDoubleMetaphone",
                                         "ToFormatedDN"};
#define NTEXT (sizeof(text_names) / sizeof(text_names[0]))

static void test_lookup(void **state) {
  (void)state;
  for (size_t i = 0; i < NTEXT; i++) {
    const jh_exprfn *f = jh_exprfn_find(text_names[i]);
    if (f == NULL)
      fail_msg("%s not found", text_names[i]);
    assert_string_equal(jh_exprfn_name(f), text_names[i]);
    int listed = 0;
    for (const char *const *n = jh_exprfn_names(); *n != NULL; n++)
      listed += strcmp(*n, text_names[i]) == 0;
    assert_int_equal(listed, 1);
  }
  assert_null(jh_exprfn_find("toupper"));
  assert_null(jh_exprfn_find("ToUpper "));
  assert_null(jh_exprfn_find("NoSuchFunction"));
  assert_null(jh_exprfn_find(NULL));
}

static void test_bind_errors(void **state) {
  static const char *const two[] = {"tr", "az"};
  static const char *const one[] = {"x"};
  (void)state;
  check_bind_error("ToUpper", two, 2,
                   "ToUpper needs up to 1 argument: ToUpper:language");
  check_bind_error("ToTitle", two, 2, "ToTitle:language");
  check_bind_error("Simplify", one, 1, "Simplify takes no argument");
  check_bind_error("ToSoundex", one, 1, "ToSoundex takes no argument");
  check_bind_error("ToFormatedDN", two, 2, "ToFormatedDN takes no argument");
  check_bind_error("ToDoubleMetaphone", two, 2,
                   "ToDoubleMetaphone:primary|alternate");
  check_bind_error("ToDoubleMetaphone", one, 1,
                   "'x' is neither primary nor alternate");
  static const char *const bad_lang[] = {"Turkish"};
  check_bind_error("ToLower", bad_lang, 1,
                   "language 'Turkish' is not an ISO 639 code");
  static const char *const upper_lang[] = {"TR"};
  check_bind_error("ToUpper", upper_lang, 1, "'TR'");
}

static void test_apply(void **state) {
  static const char *const tr[] = {"tr"};
  static const char *const alt[] = {"alternate"};
  static const char *const prim[] = {"primary"};
  (void)state;
  check("ToUpper", NULL, 0, "straße", "STRASSE");
  check("ToUpper", tr, 1, "istanbul", "İSTANBUL");
  check("ToLower", NULL, 0, "Élodie", "élodie");
  check("ToLower", tr, 1, "ISPARTA", "ısparta");
  check("ToTitle", NULL, 0, "ǆemal", "ǅemal");
  check("RemoveDiacritics", NULL, 0, "Hélène", "Helene");
  check("Simplify", NULL, 0, "O'Brien-Smith Jr.", "obriensmithjr");
  check("ToFirstName", NULL, 0, "JEAN-pierre", "Jean-Pierre");
  check("ToSoundex", NULL, 0, "Ashcraft", "A261");
  check("ToFormatedDN", NULL, 0, "Bond, James", "Bond\\, James");
  check("ToDoubleMetaphone", NULL, 0, "Smith", "SM0");
  check("ToDoubleMetaphone", prim, 1, "Smith", "SM0");
  check("ToDoubleMetaphone", alt, 1, "Smith", "XMT");
}

static void test_no_value(void **state) {
  (void)state;
  for (size_t i = 0; i < NTEXT; i++)
    check(text_names[i], NULL, 0, "", NULL);
  /* an empty result is no value too */
  check("Simplify", NULL, 0, "-- '", NULL);
  check("ToSoundex", NULL, 0, "42", NULL);
  check("ToFirstName", NULL, 0, "   ", NULL);
  check("ToDoubleMetaphone", NULL, 0, "...", NULL);
}

static void test_invalid_utf8(void **state) {
  (void)state;
  for (size_t i = 0; i < NTEXT; i++) {
    char err[256] = "";
    char *out = (char *)"unchanged";
    jh_exprfn_call *c = bind(text_names[i], NULL, 0);
    assert_int_equal(jh_exprfn_apply(c, "ab\xff", 3, &out, err, sizeof(err)),
                     -EILSEQ);
    assert_null(out);
    if (strstr(err, text_names[i]) == NULL || strstr(err, "UTF-8") == NULL)
      fail_msg("%s: message '%s'", text_names[i], err);
    jh_exprfn_call_free(c);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lookup),       cmocka_unit_test(test_bind_errors),
      cmocka_unit_test(test_apply),        cmocka_unit_test(test_no_value),
      cmocka_unit_test(test_invalid_utf8),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
