/*
 * ldif.h — what the two halves of the ldif package share: the export
 * (ldif_package.c) and the fulfillment (ldif_fulfill.c) read the
 * directory file with the same reader, so both accept and refuse the
 * same files.
 */
#ifndef JH_LDIF_H
#define JH_LDIF_H

#include <stdio.h>

#include <lber.h>
#include <ldap.h>
#include <ldif.h>

#include <jobhost/jobhost.h>

/* A grow-only byte buffer. */
typedef struct buf {
  char *p;
  size_t len, cap;
} buf;

/* Reading a directory file, one entry at a time. Set ctx, conn and path
 * (and url_folder with ldif_url_folder_setting), then ldif_in_open. */
typedef struct ldif_in {
  jobhost_ctx *ctx;
  const char *conn;
  const char *path;
  char *url_folder; /* allow_url_folder, resolved; NULL: none; owned */
  FILE *fp;
  unsigned long lineno; /* lines consumed */
  char *line;           /* getline's buffer */
  size_t line_size;
  buf rec;                /* the record's text, lines ended by \n */
  buf copy;               /* the record text as read, for diagnostics */
  unsigned long rec_line; /* first line of the current record */
  LDIFRecord lr;
  int have_lr;
  const char *not_done; /* what a file that cannot be read stops, e.g.
                           "the export is not launched" (the default) */
} ldif_in;

/* Set the task's message "connection <conn>: <text>"; returns code. */
int ldif_in_fail(ldif_in *in, int code, const char *fmt, ...)
    JOBHOST_PRINTF(3, 4);
/* Open in->path (a regular file): 0 or a negative code, message set. */
int ldif_in_open(ldif_in *in);
/* The next entry into in->lr: 1, 0 at the end, or a negative code with
 * the message set; check: check each record's lines first (file:line). */
int ldif_in_next(ldif_in *in, int check);
void ldif_in_close(ldif_in *in);
/* The setting allow_url_folder, resolved into in->url_folder. */
int ldif_url_folder_setting(ldif_in *in);

/* Valid UTF-8 without NUL bytes. */
int ldif_is_text(const unsigned char *s, size_t len);

/* While the file is read, libldap's own messages complete ours instead
 * of going to stderr: begin returns what end puts back. */
BER_LOG_PRINT_FN ldif_libldap_messages_begin(void);
void ldif_libldap_messages_end(BER_LOG_PRINT_FN old_print);

/* The fulfillment's entry points (ldif_fulfill.c). */
int lf_open(jobhost_ctx *ctx, void **state);
void lf_close(jobhost_ctx *ctx, void *state);
int lf_fulfill_begin(jobhost_ctx *ctx, void *state);
int lf_fulfill_order(jobhost_ctx *ctx, void *state, const jobhost_order *order,
                     char *message, size_t message_size);
int lf_fulfill_end(jobhost_ctx *ctx, void *state);

#endif /* JH_LDIF_H */
