/*
 * diag.h — diagnostics: errors and warnings tied to file:line:column.
 *
 * Loaders (pipeline YAML, XML import, model) collect every problem they
 * find instead of stopping at the first, so a user fixes a file in one go.
 * Printed as "FILE:LINE:COLUMN: error: MESSAGE" (GNU style, which editors
 * understand). Lines and columns are 1-based; 0 means "unknown".
 */
#ifndef JH_DIAG_H
#define JH_DIAG_H

#include <stddef.h>
#include <stdio.h>

#include <jobhost/services.h> /* JOBHOST_PRINTF */

typedef enum jh_severity { JH_DIAG_ERROR = 0, JH_DIAG_WARNING = 1 } jh_severity;

typedef struct jh_diag {
  jh_severity severity;
  char *file; /* owned */
  int line;
  int column;
  char *message; /* owned, one line, no trailing period needed */
} jh_diag;

/* Errors counted for one file (for JH_DIAG_FILE_ERRORS_MAX). */
typedef struct jh_diag_count {
  char *file; /* owned */
  size_t errors;
} jh_diag_count;

typedef struct jh_diags {
  jh_diag *items; /* owned */
  size_t n;
  size_t nerrors;
  size_t cap;            /* room in items */
  jh_diag_count *counts; /* errors per file; owned */
  size_t ncounts;
} jh_diags;

/* A zeroed jh_diags is empty and ready to use. */
#define JH_DIAGS_INIT                                                          \
  { NULL, 0, 0, 0, NULL, 0 }

/*
 * Source text quoted in a message. A file read as a pipeline may be
 * anything (a password file named by mistake in `include:`), so messages
 * never echo more than JH_QUOTE_MAX characters of what was read: longer
 * text is cut with "...", and control characters and bytes that are not
 * UTF-8 are shown as '?' (a newline as "\n"), so one quote stays on one
 * line of text.
 */
#define JH_QUOTE_MAX 40
/* Bytes an excerpt may take: UTF-8 characters, escapes, "..." and NUL. */
#define JH_QUOTE_SIZE (JH_QUOTE_MAX * 4 + 8)

/* The excerpt of `text` (NULL shows as "?") written into buf (size >=
 * JH_QUOTE_SIZE); returns buf. */
const char *jh_diag_quote(const char *text, char *buf, size_t size);

/* jh_diag_quote into a buffer that lives until the end of the enclosing
 * block: pass JH_Q(value) wherever a message shows text read from a
 * file. */
#define JH_Q(text)                                                             \
  jh_diag_quote((text), (char[JH_QUOTE_SIZE]){0}, JH_QUOTE_SIZE)

/* Errors reported about one file before the rest are summed up in one
 * last error: a file that is not a pipeline at all (a binary, a password
 * file) must not flood the terminal. */
#define JH_DIAG_FILE_ERRORS_MAX 50

/* Append one diagnostic. file is copied (NULL allowed). Out of memory is
 * reported on stderr and the diagnostic is dropped, but nerrors still
 * counts an error so that nothing runs. */
void jh_diag_add(jh_diags *d, jh_severity sev, const char *file, int line,
                 int column, const char *fmt, ...) JOBHOST_PRINTF(6, 7);

/* Shorthand for an error. */
#define jh_diag_error(d, file, line, col, ...)                                 \
  jh_diag_add((d), JH_DIAG_ERROR, (file), (line), (col), __VA_ARGS__)

/* Print every diagnostic, one per line, in the order added. */
void jh_diags_print(const jh_diags *d, FILE *out);

/* Free the items; leaves *d empty and reusable. */
void jh_diags_clear(jh_diags *d);

#endif /* JH_DIAG_H */
