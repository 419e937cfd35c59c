/*
 * progress.c — see progress.h.
 */
#include "config.h"

#include "progress.h"

#include <stdarg.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include "timefmt.h"

void jh_progress_clear(jh_progress *p) {
  if (p->live && p->shown) {
    fputs("\r\033[K", p->out);
    p->shown = 0;
  }
}

/* The line is put together first and written in one go: the stream is
 * usually stderr, unbuffered, where each piece would be a write. */
void jh_progress_note(jh_progress *p, const char *fmt, ...) {
  char buf[1024], *line = buf, *big = NULL;
  size_t len;
  va_list ap;
  int n;
  if (p->out == NULL)
    return;
  jh_progress_clear(p);
  jh_time_local_hms(time(NULL), buf);
  len = strlen(buf);
  buf[len++] = ' ';
  va_start(ap, fmt);
  n = vsnprintf(buf + len, sizeof(buf) - len - 1, fmt, ap);
  va_end(ap);
  if (n >= 0 && (size_t)n >= sizeof(buf) - len - 1) {
    big = malloc(len + (size_t)n + 2);
    if (big != NULL) {
      memcpy(big, buf, len);
      va_start(ap, fmt);
      vsnprintf(big + len, (size_t)n + 1, fmt, ap);
      va_end(ap);
      line = big;
    }
  }
  if (n >= 0) {
    len += line == big ? (size_t)n : strlen(buf + len);
    line[len++] = '\n';
    fwrite(line, 1, len, p->out);
  }
  free(big);
  fflush(p->out);
}

void jh_progress_status(jh_progress *p, size_t done, size_t total,
                        const jh_progress_item *items, size_t nitems,
                        size_t nrunning) {
  if (!p->live)
    return;
  fprintf(p->out, "\r\033[K[%zu/%zu]", done, total);
  for (size_t k = 0; k < nitems; k++)
    if (items[k].total > 0)
      fprintf(p->out, " %s %llu/%llu", items[k].id,
              (unsigned long long)items[k].done,
              (unsigned long long)items[k].total);
    else
      fprintf(p->out, " %s", items[k].id);
  if (nrunning > nitems)
    fprintf(p->out, " +%zu", nrunning - nitems);
  fflush(p->out);
  p->shown = 1;
}

void jh_progress_table_head(jh_progress *p) {
  if (p->out == NULL)
    return;
  jh_progress_clear(p);
  fprintf(p->out, "\n%-36s %-28s %-10s %s\n", "TASK", "TYPE", "STATE",
          "MESSAGE");
}

void jh_progress_table_row(jh_progress *p, const char *id, const char *type,
                           jh_state state, const char *message) {
  if (p->out != NULL)
    fprintf(p->out, "%-36s %-28s %-10s %s\n", id, type, jh_state_name(state),
            message ? message : "");
}

void jh_progress_job_line(jh_progress *p, const char *job_id, int64_t instance,
                          jh_state state, int64_t ms,
                          const size_t count[JH_STATE_INTERRUPTED + 1]) {
  if (p->out == NULL)
    return;
  fprintf(p->out, "\njob %s, instance %lld: %s in %.1f s (", job_id,
          (long long)instance, jh_state_name(state), (double)ms / 1000.0);
  for (int s = 0, first = 1; s <= JH_STATE_INTERRUPTED; s++)
    if (count[s] > 0) {
      fprintf(p->out, "%s%zu %s", first ? "" : ", ", count[s],
              jh_state_name((jh_state)s));
      first = 0;
    }
  fprintf(p->out, ")\n");
  fflush(p->out);
}
