/*
 * exprfn.h — the built-in functions of expressions (doc/expressions.md):
 * ToUpper, ToLower, Simplify, RemoveDiacritics, ToSoundex,
 * ToDoubleMetaphone, ToTitle, ToFirstName, ToFormatedDN and the date
 * family (ParseLocalDate, ParseLocalDateThenAddMinutes, ParseUniversalDate,
 * ParseUniversalDateThenAddMinutes, FormatLocalDate).
 *
 * A function is bound once to its arguments (the `:a|b` part of
 * `Name:a|b`, or the extra arguments of a call from Lua): binding checks
 * them (count, zone names, date patterns) and prepares what they need
 * (a loaded zone, a parsed pattern), so that applying it to a value
 * costs no lookup. Values are UTF-8; an empty input gives no value.
 */
#ifndef JH_EXPRFN_H
#define JH_EXPRFN_H

#include <stddef.h>

typedef struct jh_exprfn jh_exprfn;           /* a function, static */
typedef struct jh_exprfn_call jh_exprfn_call; /* a function bound to args */

/* The function called name (exact, e.g. "ToUpper"), or NULL. */
const jh_exprfn *jh_exprfn_find(const char *name);
const char *jh_exprfn_name(const jh_exprfn *f);
/* The names of every function, NULL-terminated (for messages). */
const char *const *jh_exprfn_names(void);

/*
 * Bind f to nargs arguments (each NUL-terminated). Returns 0 and *out
 * (free with jh_exprfn_call_free), -EINVAL with a message in err naming
 * what was expected ("ParseLocalDate needs 2 arguments: zone|pattern",
 * "unknown time zone 'Romance Standard Time' (an IANA name such as
 * Europe/Paris)"), or -ENOMEM.
 */
int jh_exprfn_bind(const jh_exprfn *f, const char *const *args, size_t nargs,
                   jh_exprfn_call **out, char *err, size_t errsize);
void jh_exprfn_call_free(jh_exprfn_call *c);

/*
 * Apply a bound function to in (n bytes, not NUL-terminated). Returns 1
 * and *out (malloc'd, NUL-terminated; the caller frees it), 0 when the
 * result is no value (empty input), -EILSEQ when in is not valid UTF-8,
 * -EINVAL when it does not fit (a date that does not match its pattern),
 * or -ENOMEM; err says why for the negative codes.
 */
int jh_exprfn_apply(const jh_exprfn_call *c, const char *in, size_t n,
                    char **out, char *err, size_t errsize);

#endif /* JH_EXPRFN_H */
