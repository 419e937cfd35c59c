/*
 * diag.c — see diag.h.
 */
#include "config.h"

#include "diag.h"

#include "array.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Continuation bytes a UTF-8 lead byte announces; -1: not a lead byte. */
static int utf8_follow(unsigned char b) {
  if (b < 0x80)
    return 0;
  if (b >= 0xC2 && b <= 0xDF)
    return 1;
  if (b >= 0xE0 && b <= 0xEF)
    return 2;
  if (b >= 0xF0 && b <= 0xF4)
    return 3;
  return -1;
}

/* Append one shown character starting at *q (advanced past it) to buf;
 * returns the new length. At most 4 bytes are written. */
static size_t quote_char(const unsigned char **q, char *buf, size_t o) {
  const unsigned char *p = *q;
  int follow = utf8_follow(*p);
  int k;

  if (*p == '\n') {
    buf[o++] = '\\';
    buf[o++] = 'n';
    *q = p + 1;
    return o;
  }
  if (*p < 0x20 || *p == 0x7F || follow < 0) {
    buf[o++] = '?'; /* a control character or a stray byte */
    *q = p + 1;
    return o;
  }
  for (k = 1; k <= follow; k++)
    if ((p[k] & 0xC0) != 0x80)
      break;
  if (k <= follow) {
    buf[o++] = '?'; /* a cut UTF-8 sequence */
    *q = p + 1;
    return o;
  }
  memcpy(buf + o, p, (size_t)follow + 1);
  *q = p + follow + 1;
  return o + (size_t)follow + 1;
}

const char *jh_diag_quote(const char *text, char *buf, size_t size) {
  const unsigned char *q = (const unsigned char *)(text ? text : "?");
  size_t o = 0, chars = 0;

  if (size < JH_QUOTE_SIZE) {
    if (size > 0)
      buf[0] = '\0';
    return buf;
  }
  while (*q != '\0') {
    if (chars == JH_QUOTE_MAX) {
      memcpy(buf + o, "...", 3);
      o += 3;
      break;
    }
    o = quote_char(&q, buf, o);
    chars++;
  }
  buf[o] = '\0';
  return buf;
}

/* Count one more error about `file`; returns how many there were before
 * (0 for no file, or when out of memory: nothing is then held back). */
static size_t count_error(jh_diags *d, const char *file) {
  jh_diag_count *grown;
  char *copy;
  if (file == NULL)
    return 0;
  /* few files per load: a scan is enough */
  for (size_t i = 0; i < d->ncounts; i++)
    if (strcmp(d->counts[i].file, file) == 0)
      return d->counts[i].errors++;
  copy = strdup(file);
  grown = copy ? realloc(d->counts, (d->ncounts + 1) * sizeof(*grown)) : NULL;
  if (grown == NULL) {
    free(copy);
    return 0;
  }
  d->counts = grown;
  d->counts[d->ncounts].file = copy;
  d->counts[d->ncounts].errors = 1;
  d->ncounts++;
  return 0;
}

static int reserve(jh_diags *d) {
  if (jh_array_reserve(&d->items, &d->cap, d->n + 1, sizeof(*d->items), 16))
    return -1;
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
  kept = sev == JH_DIAG_ERROR ? count_error(d, file) : 0;
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
  for (size_t i = 0; i < d->ncounts; i++)
    free(d->counts[i].file);
  free(d->counts);
  d->items = NULL;
  d->n = 0;
  d->nerrors = 0;
  d->cap = 0;
  d->counts = NULL;
  d->ncounts = 0;
}
