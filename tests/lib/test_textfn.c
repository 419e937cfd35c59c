/*
 * test_textfn.c — the text built-ins: case mappings language-neutral
 * unless a language is asked for, full mappings (ß → SS) and title case
 * (ǆ → ǅ), diacritics removed also from decomposed input, Simplify's
 * key, first names, American Soundex, RFC 4514 escaping, and invalid
 * UTF-8 refused by every function.
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

#include "textfn.h"

typedef int (*text_fn)(const char *s, size_t n, char **out);
typedef int (*lang_fn)(const char *s, size_t n, const char *lang, char **out);

static void check(text_fn fn, const char *in, const char *want) {
  char *out = NULL;
  assert_int_equal(fn(in, strlen(in), &out), 0);
  assert_non_null(out);
  assert_string_equal(out, want);
  free(out);
}

static void check_lang(lang_fn fn, const char *in, const char *lang,
                       const char *want) {
  char *out = NULL;
  assert_int_equal(fn(in, strlen(in), lang, &out), 0);
  assert_non_null(out);
  assert_string_equal(out, want);
  free(out);
}

static void check_soundex(const char *in, const char *want) {
  char code[JH_SOUNDEX_SIZE];
  assert_int_equal(jh_text_soundex(in, strlen(in), code), 0);
  assert_string_equal(code, want);
}

static void test_upper_lower(void **state) {
  (void)state;
  check_lang(jh_text_upper, "Élodie", NULL, "ÉLODIE");
  check_lang(jh_text_lower, "Élodie", NULL, "élodie");
  check_lang(jh_text_upper, "straße", NULL, "STRASSE");
  check_lang(jh_text_upper, "ß", NULL, "SS");
  /* decomposed input comes out composed (NFC) */
  check_lang(jh_text_upper, "e\xcc\x81lodie", NULL, "ÉLODIE");
  check_lang(jh_text_lower, "ΟΔΟΣ", NULL, "οδος");
  check_lang(jh_text_upper, "", NULL, "");
}

static void test_lang_opt_in(void **state) {
  (void)state;
  /* neutral by default: the Turkish dotted and dotless i only on demand */
  check_lang(jh_text_upper, "istanbul", NULL, "ISTANBUL");
  check_lang(jh_text_upper, "istanbul", "tr", "İSTANBUL");
  check_lang(jh_text_lower, "İ", NULL, "i\xcc\x87");
  check_lang(jh_text_lower, "İ", "tr", "i");
  check_lang(jh_text_lower, "ISPARTA", "tr", "ısparta");
  check_lang(jh_text_lower, "ISPARTA", NULL, "isparta");
  check_lang(jh_text_title, "istanbul", "az", "İstanbul");
  assert_true(jh_text_lang_ok("tr"));
  assert_true(jh_text_lang_ok("fil"));
  assert_false(jh_text_lang_ok("TR"));
  assert_false(jh_text_lang_ok("tr_TR"));
  assert_false(jh_text_lang_ok("t"));
  assert_false(jh_text_lang_ok(""));
  assert_false(jh_text_lang_ok(NULL));
}

static void test_title(void **state) {
  (void)state;
  check_lang(jh_text_title, "jean-PIERRE de la tour", NULL,
             "Jean-Pierre De La Tour");
  check_lang(jh_text_title, "ǆemal", NULL, "ǅemal");
  check_lang(jh_text_title, "ÉLODIE", NULL, "Élodie");
}

static void test_remove_diacritics(void **state) {
  (void)state;
  check(jh_text_remove_diacritics, "Hélène Müller-Łukasz",
        "Helene Muller-Łukasz");
  /* already decomposed (NFD): the same */
  check(jh_text_remove_diacritics, "He\xcc\x81le\xcc\x80ne Mu\xcc\x88ller",
        "Helene Muller");
  check(jh_text_remove_diacritics, "Ærøskøbing Straße", "Ærøskøbing Straße");
  check(jh_text_remove_diacritics, "Ångström Čapek Ñuñez",
        "Angstrom Capek Nunez");
  /* a spacing mark (Mc) is not a diacritic: the Devanagari vowel sign stays */
  check(jh_text_remove_diacritics, "\xe0\xa4\x95\xe0\xa4\xbe",
        "\xe0\xa4\x95\xe0\xa4\xbe");
  /* Hangul decomposes to jamo under NFD and is composed again */
  check(jh_text_remove_diacritics, "한국", "한국");
}

static void test_simplify(void **state) {
  (void)state;
  check(jh_text_simplify, "O'Brien-Smith Jr.", "obriensmithjr");
  check(jh_text_simplify, "Hélène Müller", "helenemuller");
  check(jh_text_simplify, "Ørsted Æsir Œuvre Straße Łódź Đorđe",
        "orstedaesiroeuvrestrasselodzdorde");
  check(jh_text_simplify, "ø æ œ ß ł đ", "oaeoessld");
  check(jh_text_simplify, "He\xcc\x81le\xcc\x80ne", "helene");
  check(jh_text_simplify, "İstanbul 2026", "istanbul2026");
  check(jh_text_simplify, " -'. ", "");
  /* letters of other scripts are letters */
  check(jh_text_simplify, "Иван Петров", "иванпетров");
}

static void test_first_name(void **state) {
  (void)state;
  check(jh_text_first_name, "JEAN-pierre", "Jean-Pierre");
  check(jh_text_first_name, "  marie  claire", "Marie Claire");
  check(jh_text_first_name, "marie\t \n claire  ", "Marie Claire");
  check(jh_text_first_name, "o'brien", "O'Brien");
  check(jh_text_first_name, "d’ARTAGNAN", "D’Artagnan");
  check(jh_text_first_name, "ÉLODIE", "Élodie");
  check(jh_text_first_name, "e\xcc\x81lodie", "Élodie");
  check(jh_text_first_name, "ǆemal", "ǅemal");
  check(jh_text_first_name, "   ", "");
  /* only a letter right after a separator starts a part */
  check(jh_text_first_name, "(jean)", "(jean)");
}

static void test_soundex(void **state) {
  (void)state;
  check_soundex("Robert", "R163");
  check_soundex("Rupert", "R163");
  check_soundex("Rubin", "R150");
  check_soundex("Ashcraft", "A261");
  check_soundex("Tymczak", "T522");
  check_soundex("Pfister", "P236");
  check_soundex("Honeyman", "H555");
  check_soundex("Lee", "L000");
  check_soundex("Müller", "M460");
  check_soundex("O'Hara", "O600");
  check_soundex("Wu", "W000");
  check_soundex("Gutierrez", "G362");
  check_soundex("Jackson", "J250");
  check_soundex("", "");
  check_soundex("1234", "");
  check_soundex("Иван", "");
}

static void test_formatted_dn(void **state) {
  char *out = NULL;
  (void)state;
  check(jh_text_formatted_dn, "Bond, James", "Bond\\, James");
  check(jh_text_formatted_dn, " #x", "\\ #x");
  check(jh_text_formatted_dn, "#x", "\\#x");
  check(jh_text_formatted_dn, "x#", "x#");
  check(jh_text_formatted_dn, "a ", "a\\ ");
  check(jh_text_formatted_dn, " ", "\\ ");
  check(jh_text_formatted_dn, "a+b\"c\\d<e>f;g", "a\\+b\\\"c\\\\d\\<e\\>f\\;g");
  check(jh_text_formatted_dn, "Hélène=x", "Hélène=x");
  assert_int_equal(jh_text_formatted_dn("a\0b", 3, &out), 0);
  assert_string_equal(out, "a\\00b");
  free(out);
}

static void test_invalid_utf8(void **state) {
  static const char *const bad[] = {
      "\xff",
      "abc\xc3",
      "\xc0\xaf",
      "\xed\xa0\x80",     /* surrogate */
      "\xf4\x90\x80\x80", /* beyond U+10FFFF */
  };
  text_fn fns[] = {jh_text_remove_diacritics, jh_text_simplify,
                   jh_text_first_name, jh_text_formatted_dn};
  lang_fn lfns[] = {jh_text_upper, jh_text_lower, jh_text_title};
  char code[JH_SOUNDEX_SIZE];
  (void)state;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    size_t n = strlen(bad[i]);
    for (size_t f = 0; f < sizeof(fns) / sizeof(fns[0]); f++) {
      char *out = (char *)"unchanged";
      assert_int_equal(fns[f](bad[i], n, &out), -EILSEQ);
      assert_null(out);
    }
    for (size_t f = 0; f < sizeof(lfns) / sizeof(lfns[0]); f++) {
      char *out = (char *)"unchanged";
      assert_int_equal(lfns[f](bad[i], n, NULL, &out), -EILSEQ);
      assert_null(out);
    }
    assert_int_equal(jh_text_soundex(bad[i], n, code), -EILSEQ);
  }
}

static void test_nul_refused(void **state) {
  char *out = (char *)"unchanged";
  (void)state;
  assert_int_equal(jh_text_upper("a\0b", 3, NULL, &out), -EILSEQ);
  assert_null(out);
  assert_int_equal(jh_text_simplify("a\0b", 3, &out), -EILSEQ);
  assert_null(out);
}

/* ---- plain ASCII against the general path ----
 * Text of bytes 1 to 0x7F takes a shortcut; the same text followed by a
 * non-ASCII suffix takes the libunistring path. Each function maps the
 * suffix on its own, so the general path's answer is the shortcut's
 * answer followed by the suffix's. */

/* A pseudo-random ASCII string (bytes 1 to 0x7F, letters, spaces,
 * hyphens and apostrophes more often) of up to 23 bytes, in buf. */
static size_t random_ascii(uint32_t *seed, char *buf) {
  static const char often[] = "aZ -'\t0eE";
  size_t n;
  *seed = *seed * 1103515245u + 12345u;
  n = (*seed >> 16) % 24;
  for (size_t i = 0; i < n; i++) {
    *seed = *seed * 1103515245u + 12345u;
    uint32_t r = *seed >> 16;
    buf[i] = r % 3 == 0 ? often[(r / 3) % (sizeof(often) - 1)]
                        : (char)(1 + (r / 3) % 0x7F);
  }
  buf[n] = '\0';
  return n;
}

/* fn(s) followed by tail equals fn(s + suffix). */
static void same_as_general(text_fn fn, const char *s, const char *suffix,
                            const char *tail) {
  char in[64], want[128];
  char *fast = NULL, *slow = NULL;
  assert_int_equal(fn(s, strlen(s), &fast), 0);
  snprintf(in, sizeof(in), "%s%s", s, suffix);
  snprintf(want, sizeof(want), "%s%s", fast,
           tail[0] == ' ' && fast[0] == '\0' ? tail + 1 : tail);
  assert_int_equal(fn(in, strlen(in), &slow), 0);
  assert_string_equal(slow, want);
  free(fast);
  free(slow);
}

static int upper_neutral(const char *s, size_t n, char **out) {
  return jh_text_upper(s, n, NULL, out);
}

static int lower_neutral(const char *s, size_t n, char **out) {
  return jh_text_lower(s, n, NULL, out);
}

static void test_ascii_shortcut(void **state) {
  (void)state;
  uint32_t seed = 7;
  char s[32];
  for (int i = 0; i < 4000; i++) {
    random_ascii(&seed, s);
    same_as_general(upper_neutral, s, "\xC3\xA9", "\xC3\x89");
    same_as_general(lower_neutral, s, "\xC3\x89", "\xC3\xA9");
    same_as_general(jh_text_remove_diacritics, s, "\xC3\xA9", "e");
    same_as_general(jh_text_simplify, s, "\xC3\xA9", "e");
    same_as_general(jh_text_first_name, s, " \xC3\xA9", " \xC3\x89");
  }
  check(upper_neutral, "a-b c\x7F", "A-B C\x7F");
  check(jh_text_simplify, "O'Brien-2 x", "obrien2x");
  check(jh_text_first_name, "  jEAN-pIERRE\t o'neil  ", "Jean-Pierre O'Neil");
  check_lang(jh_text_upper, "i", "tr", "\xC4\xB0");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_upper_lower),
      cmocka_unit_test(test_lang_opt_in),
      cmocka_unit_test(test_title),
      cmocka_unit_test(test_remove_diacritics),
      cmocka_unit_test(test_simplify),
      cmocka_unit_test(test_first_name),
      cmocka_unit_test(test_soundex),
      cmocka_unit_test(test_formatted_dn),
      cmocka_unit_test(test_invalid_utf8),
      cmocka_unit_test(test_nul_refused),
      cmocka_unit_test(test_ascii_shortcut),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
