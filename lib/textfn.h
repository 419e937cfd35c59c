/*
 * textfn.h — the text built-ins of expressions on UTF-8 values
 * (doc/expressions.md, "Text functions"), on libunistring for case
 * mapping, normalisation and character classes.
 *
 * Each function reads s (n bytes, not NUL-terminated) and returns 0 with
 * *out malloc'd and NUL-terminated (the caller frees it), -EILSEQ when s
 * is not valid UTF-8 or holds a NUL character (ToFormatedDN escapes NUL
 * instead), or -ENOMEM. On error *out is NULL. An empty s gives "".
 */
#ifndef JH_TEXTFN_H
#define JH_TEXTFN_H

#include <stddef.h>

/* The size of a Soundex code with its NUL. */
#define JH_SOUNDEX_SIZE 5

/* True when lang is usable as the language of the case functions: an ISO
 * 639 code of 2 or 3 lowercase ASCII letters ("tr", "az", "lt"). */
int jh_text_lang_ok(const char *lang);

/* Full case mappings, NFC result. lang NULL is language-neutral (the
 * same result whatever the process locale); "tr" or "az" give the
 * Turkic dotted/dotless i, "lt" the Lithuanian dot rules. Title case
 * starts each word (Unicode word boundaries) with its title-case form
 * and lowercases the rest. */
int jh_text_upper(const char *s, size_t n, const char *lang, char **out);
int jh_text_lower(const char *s, size_t n, const char *lang, char **out);
int jh_text_title(const char *s, size_t n, const char *lang, char **out);

/* NFD, without the nonspacing marks (general category Mn), then NFC:
 * "Hélène" → "Helene". Letters without a decomposition (ø, ł, ß) stay. */
int jh_text_remove_diacritics(const char *s, size_t n, char **out);

/* A key for comparisons: lowercase, no diacritics, ø→o æ→ae œ→oe ß→ss
 * ł→l đ→d, then only letters and digits kept (NFC):
 * "O'Brien-Smith Jr." → "obriensmithjr". */
int jh_text_simplify(const char *s, size_t n, char **out);

/* A person's first name: lowercase, each letter at the start or right
 * after a space, a hyphen or an apostrophe in title case, white space
 * trimmed and each run of it one space: "  JEAN-pierre" → "Jean-Pierre".
 */
int jh_text_first_name(const char *s, size_t n, char **out);

/* American Soundex of the Latin letters of jh_text_simplify(s): the first
 * letter, then three digits ("Robert" → "R163"); "" when there is no such
 * letter. Returns 0, -EILSEQ or -ENOMEM. */
int jh_text_soundex(const char *s, size_t n, char out[JH_SOUNDEX_SIZE]);

/* s as one attribute value of a distinguished name (RFC 4514): a
 * backslash before , + " \ < > ; a leading # or space and a trailing
 * space, and NUL as \00; "Bond, James" → "Bond\, James". */
int jh_text_formatted_dn(const char *s, size_t n, char **out);

#endif /* JH_TEXTFN_H */
