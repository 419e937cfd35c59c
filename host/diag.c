/*
 * diag.c — see diag.h.
 */
#include "config.h"

#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *jh_diag_quote(const char *text, char *buf, size_t size) {
  size_t o = 0, chars = 0;
  const unsigned char *q = (const unsigned char *)(text ? text : "?");

  if (size < JH_QUOTE_SIZE) {
    if (size > 0)
      buf[0] = '\0';
    return buf;
  }
  for (; *q != '\0'; q++) {
    int starts_char = (*q & 0xC0) != 0x80; /* not a UTF-8 continuation */
    if (starts_char && chars == JH_QUOTE_MAX) {
      memcpy(buf + o, "...", 3);
      o += 3;
      break;
    }
    if (starts_char)
      chars++;
    if (*q == '\n') {
      buf[o++] = '\\';
      buf[o++] = 'n';
    } else if (*q < 0x20 || *q == 0x7F) {
      buf[o++] = '?';
    } else {
      buf[o++] = (char)*q;
    }
  }
  buf[o] = '\0';
  return buf;
}

/* Errors already kept about `file`, counted up to the cap. */
static size_t file_errors(const jh_diags *d, const char *file) {
  size_t n = 0;
  if (file == NULL)
    return 0;
  for (size_t i = d->n; i > 0 && n <= JH_DIAG_FILE_ERRORS_MAX; i--) {
    const jh_diag *g = &d->items[i - 1];
    if (g->severity == JH_DIAG_ERROR && g->file != NULL &&
        strcmp(g->file, file) == 0)
      n++;
  }
  return n;
}

static int reserve(jh_diags *d) {
  size_t cap;
  jh_diag *grown;
  if (d->n < d->cap)
    return 0;
  cap = d->cap == 0 ? 16 : d->cap * 2;
  grown = realloc(d->items, cap * sizeof(*grown));
  if (grown == NULL)
    return -1;
  d->items = grown;
  d->cap = cap;
  return 0;
}

static void append(jh_diags *d, jh_severity sev, const char *file, int line,
                   int column, char *msg) {
  if (reserve(d) != 0) {
    fprintf(stderr, "jobhost: out of memory while reporting a problem\n");
    free(msg);
    return;
  }
  d->items[d->n].severity = sev;
  d->items[d->n].file = file ? strdup(file) : NULL;
  d->items[d->n].line = line;
  d->items[d->n].column = column;
  d->items[d->n].message = msg;
  d->n++;
}

void jh_diag_add(jh_diags *d, jh_severity sev, const char *file, int line,
                 int column, const char *fmt, ...) {
  char *msg = NULL;
  va_list ap;
  size_t kept;
  int len;

  if (sev == JH_DIAG_ERROR)
    d->nerrors++;
  kept = sev == JH_DIAG_ERROR ? file_errors(d, file) : 0;
  if (kept > JH_DIAG_FILE_ERRORS_MAX)
    return; /* counted, already summed up */
  if (kept == JH_DIAG_FILE_ERRORS_MAX) {
    msg = strdup("too many errors in this file; the others are not shown "
                 "(is it a pipeline file at all?)");
    if (msg == NULL)
      fprintf(stderr, "jobhost: out of memory while reporting a problem\n");
    else
      append(d, sev, file, 0, 0, msg);
    return;
  }
  va_start(ap, fmt);
  len = vasprintf(&msg, fmt, ap);
  va_end(ap);
  if (len < 0) {
    fprintf(stderr, "jobhost: out of memory while reporting a problem\n");
    return;
  }
  append(d, sev, file, line, column, msg);
}

void jh_diags_print(const jh_diags *d, FILE *out) {
  for (size_t i = 0; i < d->n; i++) {
    const jh_diag *g = &d->items[i];
    const char *sev = g->severity == JH_DIAG_ERROR ? "error" : "warning";
    if (g->file != NULL && g->line > 0)
      fprintf(out, "%s:%d:%d: %s: %s\n", g->file, g->line, g->column, sev,
              g->message);
    else if (g->file != NULL)
      fprintf(out, "%s: %s: %s\n", g->file, sev, g->message);
    else
      fprintf(out, "jobhost: %s: %s\n", sev, g->message);
  }
}

void jh_diags_clear(jh_diags *d) {
  for (size_t i = 0; i < d->n; i++) {
    free(d->items[i].file);
    free(d->items[i].message);
  }
  free(d->items);
  d->items = NULL;
  d->n = 0;
  d->nerrors = 0;
  d->cap = 0;
}
