/*
 * dmetaphone.h — Double Metaphone (Lawrence Philips, 2000): two phonetic
 * codes of a name, a primary and an alternate one, so that spellings of
 * the same name in several languages ("Smith", "Schmidt") share a code.
 *
 * The codes use the letters A F H J K L M N P R S T X and 0 (for "th"),
 * at most four each; the alternate equals the primary when the rules
 * give no other pronunciation. doc/expressions.md says how the text is
 * prepared (letters with diacritics, ç, other scripts).
 */
#ifndef JH_DMETAPHONE_H
#define JH_DMETAPHONE_H

#include <stddef.h>

/* The size of a code with its NUL. */
#define JH_DMETAPHONE_SIZE 5

/* The codes of s (n bytes of UTF-8, not NUL-terminated): 0 with both
 * codes set (empty when s has no Latin letter), -EILSEQ when s is not
 * valid UTF-8, -ENOMEM (also for a value of 2 GiB or more). On error
 * both codes are empty. */
int jh_double_metaphone(const char *s, size_t n,
                        char primary[JH_DMETAPHONE_SIZE],
                        char alternate[JH_DMETAPHONE_SIZE]);

#endif /* JH_DMETAPHONE_H */
