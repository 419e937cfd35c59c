/*
 * journal.c — the journal of one order file being fulfilled
 * (doc/fulfill.md, "Recovery"): a text file beside the file in its
 * Working folder, one line per event, appended as the task goes.
 *
 *   jobhost-fulfill-journal 1 direct|held
 *   S <i>                      order i is about to be applied (direct)
 *   R <i> E|X <message>        order i Executed (E) or Errored (X)
 *   B                          held: the package starts writing
 *   C                          held: the package wrote
 *   F <message>                held: the package could not write
 *
 * A direct package acts when it is called: each S is written before the
 * call, so an S without its R is an order whose outcome is unknown; it
 * is reported Errored and never applied again. Every line is written
 * with write(2) before the next step, so a killed process loses none;
 * against a power cut the journal is synced every JH_FF_SYNC_EVERY
 * starts, at the end of each file and at every mark (doc/fulfill.md). A held
 * package applies the orders in memory and writes them all at its end: its R
 * lines count only once a C follows them; R lines with no B after them were
 * never written by the package and their orders are applied again; R lines with
 * a B and no C or F have an unknown outcome (Errored, never applied again).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "fulfill.h"

#define HEAD "jobhost-fulfill-journal 1 "

static const char unknown_direct[] =
    "the host stopped while this order was applied: it is not applied "
    "again; check the target";
static const char unknown_held[] =
    "the host stopped while the package wrote its changes: this order is "
    "not applied again; check the target";

static int fail(char *err, size_t errsize, int rc, const char *path,
                const char *what) {
  snprintf(err, errsize, "%s: %s: %s", path, what, strerror(-rc));
  return rc;
}

static int set_message(ff_result *r, const char *text) {
  char *m = text != NULL ? strdup(text) : NULL;
  if (text != NULL && m == NULL)
    return -ENOMEM;
  free(r->message);
  r->message = m;
  return 0;
}

/* What one pass over the journal's lines learns, before it is settled. */
typedef enum line_state {
  L_NONE = 0,
  L_STARTED,    /* S, no R yet */
  L_FINAL,      /* R of a direct journal, or confirmed by C / F */
  L_HELD,       /* R of a held journal, no B after it yet */
  L_COMMITTING, /* R, then B, no C or F yet */
} line_state;

typedef struct replay {
  ff_file *f;
  line_state *ls;
} replay;

/* Index i of a line's text, within the file's orders: 0, or -1. */
static int parse_index(const ff_file *f, const char **p, size_t *i) {
  char *end;
  unsigned long long v = strtoull(*p, &end, 10);
  if (end == *p || v >= f->n)
    return -1;
  *i = (size_t)v;
  *p = end;
  return 0;
}

/* Held results move on at B, C and F. */
static int replay_mark(replay *r, char mark, const char *why) {
  ff_file *f = r->f;
  for (size_t i = 0; i < f->n; i++) {
    if (mark == 'B' && r->ls[i] == L_HELD)
      r->ls[i] = L_COMMITTING;
    else if (mark != 'B' && r->ls[i] == L_COMMITTING) {
      r->ls[i] = L_FINAL;
      if (mark == 'F' && f->res[i].state == FF_EXECUTED) {
        f->res[i].state = FF_ERRORED;
        if (set_message(&f->res[i], why) != 0)
          return -ENOMEM;
      }
    }
  }
  return 0;
}

/* One line (NUL-terminated, no newline); a line that cannot be read is
 * passed over (the last one may be cut by a kill). */
static int replay_line(replay *r, char *line) {
  ff_file *f = r->f;
  const char *p = line + 1;
  size_t i;
  if ((line[0] == 'B' || line[0] == 'C') && line[1] == '\0')
    return replay_mark(r, line[0], NULL);
  if (line[0] == 'F' && line[1] == ' ')
    return replay_mark(r, 'F', line + 2);
  if (line[0] != 'S' && line[0] != 'R')
    return 0;
  if (*p++ != ' ' || parse_index(f, &p, &i) != 0)
    return 0;
  if (line[0] == 'S') {
    r->ls[i] = L_STARTED;
    return 0;
  }
  if (p[0] != ' ' || (p[1] != 'E' && p[1] != 'X') ||
      (p[2] != ' ' && p[2] != '\0'))
    return 0;
  f->res[i].state = p[1] == 'E' ? FF_EXECUTED : FF_ERRORED;
  r->ls[i] = f->held ? L_HELD : L_FINAL;
  return set_message(&f->res[i], p[2] == ' ' && p[3] ? p + 3 : NULL);
}

/* Settle what a killed run left: see the head of this file. */
static int settle(replay *r) {
  ff_file *f = r->f;
  for (size_t i = 0; i < f->n; i++) {
    ff_result *res = &f->res[i];
    const char *unknown = NULL;
    if (r->ls[i] == L_STARTED)
      unknown = unknown_direct;
    else if (r->ls[i] == L_COMMITTING)
      unknown = unknown_held;
    else if (r->ls[i] == L_HELD || r->ls[i] == L_NONE) {
      res->state = FF_UNAPPLIED;
      if (set_message(res, NULL) != 0)
        return -ENOMEM;
    }
    if (unknown != NULL) {
      res->state = FF_ERRORED;
      if (set_message(res, unknown) != 0)
        return -ENOMEM;
    }
  }
  return 0;
}

/* Read the lines of the journal at f->journal, when there is one. */
static int replay_file(ff_file *f, char *err, size_t errsize) {
  FILE *fp = fopen(f->journal, "re");
  replay r = {f, NULL};
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int rc = 0, first = 1;

  if (fp == NULL)
    return errno == ENOENT ? 0 : fail(err, errsize, -errno, f->journal, "read");
  r.ls = calloc(f->n + 1, sizeof(*r.ls));
  if (r.ls == NULL)
    rc = -ENOMEM;
  while (rc == 0 && (len = getline(&line, &cap, fp)) > 0) {
    if (line[len - 1] != '\n')
      break; /* cut by a kill: never acted upon */
    line[len - 1] = '\0';
    if (first) {
      first = 0;
      if (strncmp(line, HEAD, strlen(HEAD)) == 0)
        f->held = strcmp(line + strlen(HEAD), "held") == 0;
      continue;
    }
    rc = replay_line(&r, line);
  }
  if (rc == 0 && ferror(fp))
    rc = -EIO;
  if (rc == 0)
    rc = settle(&r);
  free(line);
  free(r.ls);
  fclose(fp);
  return rc != 0 ? fail(err, errsize, rc, f->journal, "read") : 0;
}

/* A result as a journal line: tabs and line ends in the message become
 * spaces. malloc'd, or NULL. */
static char *result_line(const ff_file *f, size_t i) {
  const ff_result *res = &f->res[i];
  char *line = NULL;
  if (asprintf(&line, "R %zu %c%s%s\n", i,
               res->state == FF_EXECUTED ? 'E' : 'X', res->message ? " " : "",
               res->message ? res->message : "") < 0)
    return NULL;
  for (char *p = line + 2; p[1] != '\0'; p++)
    if (*p == '\n' || *p == '\r' || *p == '\t')
      *p = ' ';
  return line;
}

/* The settled journal: its head and the final results, then, held, B and
 * C so that they stay final. Written whole or not at all. */
static int rewrite(ff_file *f, char *err, size_t errsize) {
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  int rc = m == NULL ? -ENOMEM : 0;
  if (m != NULL) {
    fprintf(m, "%s%s\n", HEAD, f->held ? "held" : "direct");
    for (size_t i = 0; i < f->n && rc == 0; i++) {
      char *line = f->res[i].state != FF_UNAPPLIED ? result_line(f, i) : NULL;
      if (f->res[i].state != FF_UNAPPLIED && line == NULL)
        rc = -ENOMEM;
      else if (line != NULL)
        fputs(line, m);
      free(line);
    }
    if (f->held)
      fputs("B\nC\n", m);
    if (fclose(m) != 0 && rc == 0)
      rc = -ENOMEM;
  }
  if (rc == 0)
    rc = jh_write_file_atomic(f->journal, text, len, 0644);
  free(text);
  return rc != 0 ? fail(err, errsize, rc, f->journal, "write") : 0;
}

int jh_ff_journal_open(ff_file *f, int held, char *err, size_t errsize) {
  int rc;
  f->held = held;
  f->res = calloc(f->n + 1, sizeof(*f->res));
  if (f->res == NULL)
    return fail(err, errsize, -ENOMEM, f->journal, "read");
  rc = replay_file(f, err, errsize);
  if (rc == 0)
    rc = rewrite(f, err, errsize);
  if (rc != 0)
    return rc;
  f->fd = open(f->journal, O_WRONLY | O_APPEND | O_CLOEXEC);
  return f->fd < 0 ? fail(err, errsize, -errno, f->journal, "open") : 0;
}

/* Append text (one or more lines) with one write; durable when sync. */
static int append(ff_file *f, const char *text, int sync, char *err,
                  size_t errsize) {
  size_t len = strlen(text), done = 0;
  while (done < len) {
    ssize_t n = write(f->fd, text + done, len - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return fail(err, errsize, n < 0 ? -errno : -EIO, f->journal, "write");
    done += (size_t)n;
  }
  f->touched = 1;
  if (sync)
    return jh_ff_journal_sync(f, err, errsize);
  return 0;
}

int jh_ff_journal_start(ff_file *f, size_t i, char *err, size_t errsize) {
  char line[64];
  snprintf(line, sizeof(line), "S %zu\n", i);
  f->unsynced++;
  return append(f, line, f->unsynced >= JH_FF_SYNC_EVERY, err, errsize);
}

int jh_ff_journal_sync(ff_file *f, char *err, size_t errsize) {
  if (f->fd < 0 || !f->touched)
    return 0;
  f->unsynced = 0;
  return fdatasync(f->fd) == 0 ? 0
                               : fail(err, errsize, -errno, f->journal, "sync");
}

int jh_ff_journal_result(ff_file *f, size_t i, char *err, size_t errsize) {
  char *line = result_line(f, i);
  int rc;
  if (line == NULL)
    return fail(err, errsize, -ENOMEM, f->journal, "write");
  /* a result needs no sync of its own: a later sync takes it, and one
   * lost to a power cut reads as an unknown outcome, never as an order
   * to redo */
  rc = append(f, line, 0, err, errsize);
  free(line);
  return rc;
}

int jh_ff_journal_mark(ff_file *f, char mark, const char *why, char *err,
                       size_t errsize) {
  char *line = NULL;
  int rc;
  if (mark == 'F') {
    if (asprintf(&line, "F %s\n", why != NULL ? why : "") < 0)
      return fail(err, errsize, -ENOMEM, f->journal, "write");
    for (char *p = line + 2; p[1] != '\0'; p++)
      if (*p == '\n' || *p == '\r')
        *p = ' ';
  } else if (asprintf(&line, "%c\n", mark) < 0) {
    return fail(err, errsize, -ENOMEM, f->journal, "write");
  }
  rc = append(f, line, 1, err, errsize);
  free(line);
  return rc;
}

void jh_ff_journal_close(ff_file *f) {
  if (f->fd >= 0)
    close(f->fd);
  f->fd = -1;
}
