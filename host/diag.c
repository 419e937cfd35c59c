/*
 * diag.c — see diag.h.
 */
#include "config.h"

#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void jh_diag_add(jh_diags *d, jh_severity sev, const char *file, int line,
                 int column, const char *fmt, ...) {
  jh_diag *grown;
  char *msg = NULL;
  va_list ap;
  int len;

  if (sev == JH_DIAG_ERROR)
    d->nerrors++;
  va_start(ap, fmt);
  len = vasprintf(&msg, fmt, ap);
  va_end(ap);
  grown = len < 0 ? NULL : realloc(d->items, (d->n + 1) * sizeof(*grown));
  if (grown == NULL) {
    fprintf(stderr, "jobhost: out of memory while reporting a problem\n");
    if (len >= 0)
      free(msg);
    return;
  }
  d->items = grown;
  grown[d->n].severity = sev;
  grown[d->n].file = file ? strdup(file) : NULL;
  grown[d->n].line = line;
  grown[d->n].column = column;
  grown[d->n].message = msg;
  d->n++;
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
}
