/*
 * ldap_export.h — the export's state, shared by ldap_export.c (settings,
 * paged search, cookie) and ldap_rows.c (tables and rows).
 */
#ifndef JH_LDAP_EXPORT_H
#define JH_LDAP_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ldap_conn.h"

/* One attribute of setting `attributes`. */
typedef struct jh_ldap_attr {
  const char *name;     /* as the setting spells it; points into names */
  int multi;            /* listed by multi_valued: a table of its own */
  size_t column;        /* single-valued: column of the entries table */
  jobhost_table *table; /* multi-valued: its table */
  int warned_binary;
} jh_ldap_attr;

/* A grow-only byte buffer. */
typedef struct jh_ldap_buf {
  char *p;
  size_t len, cap;
} jh_ldap_buf;

/* The command of every row when tables carry a command column: insert,
 * or update when the key is stored (doc/synchronization.md). */
#define JH_LDAP_COMMAND "merge"

typedef struct jh_ldap_job {
  jobhost_ctx *ctx;
  jh_ldap *l;
  const char *prefix;  /* table name prefix */
  const char *command; /* setting command_column: the tables' first
                          column, or NULL */
  char *names;         /* copy of setting attributes, cut into names */
  jh_ldap_attr *attrs;
  size_t nattrs;
  char **request; /* attributes asked for, NULL-terminated */
  jobhost_table *entries;
  size_t ncolumns;   /* of the entries table: dn + single-valued */
  const char **row;  /* ncolumns values of the current entry */
  size_t *offsets;   /* per column: offset in buf, or SIZE_MAX */
  jh_ldap_buf buf;   /* the current entry's single values */
  jh_ldap_buf value; /* one association row */
  char max_time[64]; /* the latest modifyTimestamp seen, or "" */
  size_t dn_off;     /* the entry's DN: offset in buf */
  uint64_t nentries;
  /* The DNs written from the current base DN, as 64-bit hashes (open
   * addressing, 0 free; seen_cap a power of two): after a reconnect in
   * the middle of its search, the search starts again (resumed) and
   * skips them. */
  uint64_t *seen;
  size_t nseen, seen_cap;
  int resumed;
} jh_ldap_job;

/* Open the entries table and one table per multi-valued attribute. */
int jh_ldap_rows_open(jh_ldap_job *x);

/* Write one search result entry (its multi values, then its entries
 * row) and keep its modifyTimestamp when later than max_time: 0, or 1
 * when the entry was skipped (resumed, and written before), or a
 * negative code with the message set. */
int jh_ldap_rows_write(jh_ldap_job *x, LDAPMessage *entry);

/* Close every open table; the first error wins over rc == 0. */
int jh_ldap_rows_close(jh_ldap_job *x, int rc);

/* Forget the DNs of the previous base DN. */
void jh_ldap_rows_new_base(jh_ldap_job *x);

/* Free the row buffers. */
void jh_ldap_rows_free(jh_ldap_job *x);

#endif /* JH_LDAP_EXPORT_H */
