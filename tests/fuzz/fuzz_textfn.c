/*
 * fuzz_textfn.c — fuzz target of the text built-ins (lib/textfn.c,
 * lib/dmetaphone.c).
 *
 * The whole input is the value. Every function runs on it, and what each
 * promises is checked: invalid UTF-8 is refused by all of them, a result
 * is valid UTF-8, RemoveDiacritics leaves no nonspacing mark, Simplify
 * only letters and digits, ToFirstName no space at an end nor two in a
 * row, a Soundex code is a letter and three digits, an escaped DN value
 * has a backslash only before what RFC 4514 escapes, and the Double
 * Metaphone codes are at most four letters of their alphabet.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <unictype.h>
#include <unistr.h>

#include "dmetaphone.h"
#include "fuzz.h"
#include "textfn.h"

/* A result: rc as promised, and valid UTF-8 when there is one. */
static const char *checked(int rc, int valid, const char *out) {
  if (rc == -ENOMEM)
    return NULL;
  if (!valid) {
    if (rc != -EILSEQ || out != NULL)
      abort(); /* invalid UTF-8 accepted */
    return NULL;
  }
  if (rc == -EILSEQ)
    return NULL; /* a NUL character, refused as not text */
  if (rc != 0 || out == NULL)
    abort();
  if (u8_check((const uint8_t *)out, strlen(out)) != NULL)
    abort(); /* a result that is not UTF-8 */
  return out;
}

/* Every code point of s passes test (or fails it, when want is 0). */
static void check_each(const char *s, int (*test)(ucs4_t uc), int want) {
  const uint8_t *p = (const uint8_t *)s;
  size_t n = strlen(s);
  for (size_t i = 0; i < n;) {
    ucs4_t uc;
    i += (size_t)u8_mbtouc(&uc, p + i, n - i);
    if (!test(uc) != !want)
      abort();
  }
}

static int is_mn(ucs4_t uc) {
  return uc_is_general_category(uc, UC_CATEGORY_Mn);
}

static int is_alnum(ucs4_t uc) { return uc_is_alnum(uc); }

static void check_first_name(const char *s) {
  size_t n = strlen(s);
  if (n > 0 && (s[0] == ' ' || s[n - 1] == ' '))
    abort();
  if (strstr(s, "  ") != NULL)
    abort();
}

static void check_soundex(const char *code) {
  if (code[0] == '\0')
    return;
  if (strlen(code) != 4 || code[0] < 'A' || code[0] > 'Z')
    abort();
  for (int i = 1; i < 4; i++)
    if (code[i] < '0' || code[i] > '6')
      abort();
}

static void check_dn(const char *s) {
  for (const char *p = s; *p != '\0'; p++) {
    if (strchr(",+\"<>;", *p) != NULL)
      abort(); /* a special character left unescaped */
    if (*p != '\\')
      continue;
    p++;
    if (*p == '0' && p[1] == '0')
      p++;
    else if (*p == '\0' || strchr(",+\"\\<>;# ", *p) == NULL)
      abort(); /* a backslash before what needs no escape */
  }
}

static void check_metaphone(const char *code) {
  if (strlen(code) > 4 || strspn(code, "AFHJKLMNPRSTX0") != strlen(code))
    abort();
}

typedef int (*text_fn)(const char *s, size_t n, char **out);
typedef int (*lang_fn)(const char *s, size_t n, const char *lang, char **out);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  int valid = u8_check(data, size) == NULL;
  static const lang_fn cases[] = {jh_text_upper, jh_text_lower, jh_text_title};
  static const char *const langs[] = {NULL, "tr", "lt"};
  static const text_fn plain[] = {jh_text_remove_diacritics, jh_text_simplify,
                                  jh_text_first_name, jh_text_formatted_dn};
  static void (*const checks[])(const char *) = {NULL, NULL, check_first_name,
                                                 check_dn};
  char *out = NULL;

  for (size_t f = 0; f < 3; f++)
    for (size_t l = 0; l < 3; l++) {
      int rc = cases[f](s, size, langs[l], &out);
      (void)checked(rc, valid, out);
      free(out);
    }
  for (size_t f = 0; f < 4; f++) {
    int rc = plain[f](s, size, &out);
    /* ToFormatedDN escapes NUL: only invalid UTF-8 is refused */
    const char *r = checked(rc, valid, out);
    if (r != NULL && f == 0)
      check_each(r, is_mn, 0);
    else if (r != NULL && f == 1)
      check_each(r, is_alnum, 1);
    else if (r != NULL)
      checks[f](r);
    free(out);
  }
  char code[JH_SOUNDEX_SIZE], alt[JH_DMETAPHONE_SIZE];
  int rc = jh_text_soundex(s, size, code);
  if (checked(rc, valid, valid ? code : NULL))
    check_soundex(code);
  rc = jh_double_metaphone(s, size, code, alt);
  if (checked(rc, valid, valid ? code : NULL)) {
    check_metaphone(code);
    check_metaphone(alt);
  }
  return 0;
}
