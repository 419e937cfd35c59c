/*
 * textfn.c — the text built-ins of expressions (textfn.h). Case mapping,
 * normalisation and character classes come from libunistring; the only
 * mapping kept here is Simplify's short list of letters that have no
 * decomposition (ø, æ, œ, ß, ł, đ).
 */
#include "config.h"

#include "textfn.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

/* A growing UTF-8 buffer. */
typedef struct {
  uint8_t *p;
  size_t len, cap;
} ubuf;

static int ubuf_reserve(ubuf *b, size_t more) {
  if (b->len + more <= b->cap)
    return 0;
  size_t cap = b->cap != 0 ? b->cap : 32;
  while (cap < b->len + more)
    cap *= 2;
  uint8_t *p = realloc(b->p, cap);
  if (p == NULL)
    return -ENOMEM;
  b->p = p;
  b->cap = cap;
  return 0;
}

static int ubuf_add(ubuf *b, const void *bytes, size_t n) {
  if (ubuf_reserve(b, n) != 0)
    return -ENOMEM;
  memcpy(b->p + b->len, bytes, n);
  b->len += n;
  return 0;
}

/* Valid UTF-8, and without NUL unless allowed. */
static int check_text(const char *s, size_t n, int allow_nul) {
  if (u8_check((const uint8_t *)s, n) != NULL)
    return -EILSEQ;
  if (!allow_nul && memchr(s, '\0', n) != NULL)
    return -EILSEQ;
  return 0;
}

/* ---- ASCII fast paths ----
 * Text of ASCII letters, digits, punctuation and controls (bytes 1 to
 * 0x7F) is its own NFC and NFD, has no combining marks, and its case
 * mapping without a language is the a-z / A-Z one; on such text the
 * functions below give what the libunistring path gives, byte for byte,
 * without converting or normalising. */

/* Whether s holds only bytes 1 to 0x7F. */
static int plain_ascii(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] - 1u >= 0x7Fu)
      return 0;
  return 1;
}

static char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static char ascii_upper(char c) {
  return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static int ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

/* The White_Space characters of ASCII. */
static int ascii_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* A copy of s (n bytes) with map applied to each byte, in *out. */
static int ascii_map(const char *s, size_t n, char (*map)(char), char **out) {
  char *r = malloc(n + 1);
  if (r == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < n; i++)
    r[i] = map != NULL ? map(s[i]) : s[i];
  r[n] = '\0';
  *out = r;
  return 0;
}

/* buf (len bytes, malloc'd, may be NULL when len is 0) as a NUL-terminated
 * string in *out; buf is taken over in every case. */
static int finish(uint8_t *buf, size_t len, char **out) {
  char *s = realloc(buf, len + 1);
  if (s == NULL) {
    free(buf);
    return -ENOMEM;
  }
  s[len] = '\0';
  *out = s;
  return 0;
}

/* What a libunistring call that returned NULL means. */
static int unistring_error(void) { return errno == ENOMEM ? -ENOMEM : -EILSEQ; }

/* The NFC form of b's text in *out; b is emptied. Plain ASCII is its own
 * NFC form. */
static int finish_nfc(ubuf *b, char **out) {
  size_t len = 0;
  uint8_t *nfc;
  if (plain_ascii((const char *)b->p, b->len)) {
    len = b->len;
    nfc = b->p;
    b->p = NULL;
    b->len = b->cap = 0;
    return finish(nfc, len, out);
  }
  nfc = u8_normalize(UNINORM_NFC, b->p != NULL ? b->p : (uint8_t *)"", b->len,
                     NULL, &len);
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
  if (nfc == NULL)
    return unistring_error();
  return finish(nfc, len, out);
}

int jh_text_lang_ok(const char *lang) {
  size_t n = lang != NULL ? strlen(lang) : 0;
  if (n < 2 || n > 3)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (lang[i] < 'a' || lang[i] > 'z')
      return 0;
  return 1;
}

typedef uint8_t *(*case_fn)(const uint8_t *s, size_t n, const char *lang,
                            uninorm_t nf, uint8_t *resultbuf, size_t *len);

static int case_map(case_fn fn, const char *s, size_t n, const char *lang,
                    char **out) {
  *out = NULL;
  if (lang == NULL && fn != u8_totitle && plain_ascii(s, n))
    return ascii_map(s, n, fn == u8_toupper ? ascii_upper : ascii_lower, out);
  int rc = check_text(s, n, 0);
  if (rc != 0)
    return rc;
  size_t len = 0;
  uint8_t *r = fn((const uint8_t *)s, n, lang, UNINORM_NFC, NULL, &len);
  if (r == NULL)
    return unistring_error();
  return finish(r, len, out);
}

int jh_text_upper(const char *s, size_t n, const char *lang, char **out) {
  return case_map(u8_toupper, s, n, lang, out);
}

int jh_text_lower(const char *s, size_t n, const char *lang, char **out) {
  return case_map(u8_tolower, s, n, lang, out);
}

int jh_text_title(const char *s, size_t n, const char *lang, char **out) {
  return case_map(u8_totitle, s, n, lang, out);
}

/* What a filter does with a code point: keep it, drop it, or write the
 * ASCII text it gives instead. */
typedef const char *(*uc_filter)(ucs4_t uc);
static const char KEEP[] = "";
#define DROP NULL

/* Apply filter to each code point of t (len bytes of valid UTF-8), then
 * NFC, into *out. */
static int filter_text(const uint8_t *t, size_t len, uc_filter filter,
                       char **out) {
  ubuf b = {0};
  size_t i = 0;
  while (i < len) {
    ucs4_t uc;
    int k = u8_mbtouc(&uc, t + i, len - i);
    const char *what = filter(uc);
    int rc = 0;
    if (what == KEEP)
      rc = ubuf_add(&b, t + i, (size_t)k);
    else if (what != DROP)
      rc = ubuf_add(&b, what, strlen(what));
    if (rc != 0) {
      free(b.p);
      return rc;
    }
    i += (size_t)k;
  }
  return finish_nfc(&b, out);
}

static const char *drop_marks(ucs4_t uc) {
  return uc_is_general_category(uc, UC_CATEGORY_Mn) ? DROP : KEEP;
}

int jh_text_remove_diacritics(const char *s, size_t n, char **out) {
  *out = NULL;
  if (plain_ascii(s, n))
    return ascii_map(s, n, NULL, out);
  int rc = check_text(s, n, 0);
  if (rc != 0)
    return rc;
  size_t len = 0;
  uint8_t *nfd = u8_normalize(UNINORM_NFD, (const uint8_t *)s, n, NULL, &len);
  if (nfd == NULL)
    return unistring_error();
  rc = filter_text(nfd, len, drop_marks, out);
  free(nfd);
  return rc;
}

/* Simplify's filter, on lowercase NFD text. */
static const char *simplify_uc(ucs4_t uc) {
  switch (uc) {
  case 0x00F8: /* ø */
    return "o";
  case 0x00E6: /* æ */
    return "ae";
  case 0x0153: /* œ */
    return "oe";
  case 0x00DF: /* ß */
    return "ss";
  case 0x0142: /* ł */
    return "l";
  case 0x0111: /* đ */
    return "d";
  default:
    break;
  }
  if (uc_is_general_category(uc, UC_CATEGORY_Mn))
    return DROP;
  return uc_is_alnum(uc) ? KEEP : DROP;
}

/* Simplify of plain ASCII: the letters, lowercase, and the digits. */
static int ascii_simplify(const char *s, size_t n, char **out) {
  char *r = malloc(n + 1);
  size_t len = 0;
  if (r == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < n; i++)
    if (ascii_alnum(s[i]))
      r[len++] = ascii_lower(s[i]);
  r[len] = '\0';
  *out = r;
  return 0;
}

int jh_text_simplify(const char *s, size_t n, char **out) {
  *out = NULL;
  if (plain_ascii(s, n))
    return ascii_simplify(s, n, out);
  int rc = check_text(s, n, 0);
  if (rc != 0)
    return rc;
  size_t len = 0;
  uint8_t *low = u8_tolower((const uint8_t *)s, n, NULL, UNINORM_NFD, NULL,
                            &len);
  if (low == NULL)
    return unistring_error();
  rc = filter_text(low, len, simplify_uc, out);
  free(low);
  return rc;
}

/* After these, ToFirstName starts a new part of the name. */
static int first_name_separator(ucs4_t uc) {
  return uc == '-' || uc == 0x2010 || uc == 0x2011 || /* hyphens */
         uc == '\'' || uc == 0x2019 || uc == 0x02BC;  /* apostrophes */
}

/* Append the title-case form of the one character at t (k bytes). */
static int add_title(ubuf *b, const uint8_t *t, size_t k) {
  size_t len = 0;
  uint8_t *r = u8_totitle(t, k, NULL, NULL, NULL, &len);
  if (r == NULL)
    return unistring_error();
  int rc = ubuf_add(b, r, len);
  free(r);
  return rc;
}

/* The walk of ToFirstName over lowercase NFC text t. */
static int first_name_walk(const uint8_t *t, size_t len, ubuf *b) {
  int start = 1, space = 0, rc = 0;
  for (size_t i = 0; i < len && rc == 0;) {
    ucs4_t uc;
    size_t k = (size_t)u8_mbtouc(&uc, t + i, len - i);
    if (uc_is_property_white_space(uc)) {
      space = b->len > 0;
    } else {
      if (space) {
        rc = ubuf_add(b, " ", 1);
        start = 1;
        space = 0;
      }
      if (rc == 0 && start && uc_is_general_category(uc, UC_CATEGORY_L))
        rc = add_title(b, t + i, k);
      else if (rc == 0)
        rc = ubuf_add(b, t + i, k);
      start = first_name_separator(uc);
    }
    i += k;
  }
  return rc;
}

/* ToFirstName of plain ASCII: the walk of first_name_walk with the
 * ASCII forms of its character classes. */
static int ascii_first_name(const char *s, size_t n, char **out) {
  char *r = malloc(n + 1);
  size_t len = 0;
  int start = 1, space = 0;
  if (r == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < n; i++) {
    char c = ascii_lower(s[i]);
    if (ascii_space(c)) {
      space = len > 0;
      continue;
    }
    if (space)
      r[len++] = ' ', start = 1, space = 0;
    r[len++] = start && c >= 'a' && c <= 'z' ? ascii_upper(c) : c;
    start = c == '-' || c == '\'';
  }
  r[len] = '\0';
  *out = r;
  return 0;
}

int jh_text_first_name(const char *s, size_t n, char **out) {
  *out = NULL;
  if (plain_ascii(s, n))
    return ascii_first_name(s, n, out);
  int rc = check_text(s, n, 0);
  if (rc != 0)
    return rc;
  size_t len = 0;
  uint8_t *low = u8_tolower((const uint8_t *)s, n, NULL, UNINORM_NFC, NULL,
                            &len);
  if (low == NULL)
    return unistring_error();
  ubuf b = {0};
  rc = first_name_walk(low, len, &b);
  free(low);
  if (rc != 0) {
    free(b.p);
    return rc;
  }
  return finish_nfc(&b, out);
}

/* The Soundex digit of a lowercase ASCII letter; '0' for the vowels and
 * y, 0 for h and w (which do not separate equal digits). */
static char soundex_digit(char c) {
  static const char digits[] = "01230120022455012623010202";
  /*                            abcdefghijklmnopqrstuvwxyz */
  if (c == 'h' || c == 'w')
    return 0;
  return digits[c - 'a'];
}

int jh_text_soundex(const char *s, size_t n, char out[JH_SOUNDEX_SIZE]) {
  char *simple = NULL;
  memset(out, 0, JH_SOUNDEX_SIZE);
  int rc = jh_text_simplify(s, n, &simple);
  if (rc != 0)
    return rc;
  size_t len = 0;
  char last = 0;
  for (const char *p = simple; *p != '\0' && len < 4; p++) {
    if (*p < 'a' || *p > 'z')
      continue; /* digits and letters outside a-z have no code */
    char d = soundex_digit(*p);
    if (len == 0)
      out[len++] = (char)(*p - 'a' + 'A');
    else if (d != 0 && d != '0' && d != last)
      out[len++] = d;
    if (d != 0)
      last = d;
  }
  free(simple);
  while (len > 0 && len < 4)
    out[len++] = '0';
  return 0;
}

int jh_text_formatted_dn(const char *s, size_t n, char **out) {
  *out = NULL;
  int rc = check_text(s, n, 1);
  if (rc != 0)
    return rc;
  ubuf b = {0};
  for (size_t i = 0; i < n && rc == 0; i++) {
    char c = s[i];
    int edge = (i == 0 && (c == '#' || c == ' ')) || (i == n - 1 && c == ' ');
    if (c == '\0')
      rc = ubuf_add(&b, "\\00", 3);
    else if (edge || strchr(",+\"\\<>;", c) != NULL)
      rc = ubuf_add(&b, "\\", 1) != 0 ? -ENOMEM : ubuf_add(&b, &c, 1);
    else
      rc = ubuf_add(&b, &c, 1);
  }
  if (rc != 0) {
    free(b.p);
    return rc;
  }
  return finish(b.p, b.len, out);
}
