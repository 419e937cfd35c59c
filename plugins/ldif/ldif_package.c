/*
 * ldif_package.c — the `ldif` connector package: a directory kept as an
 * LDIF file (the embedded stand-in for an LDAP directory, README.md).
 * This file is the export and the reader both halves share (ldif.h); the
 * fulfillment, which writes the file, is ldif_fulfill.c.
 *
 * Settings:
 *   path          the .ldif file (required)
 *   table         prefix of the table names (default: the connection id)
 *   multi_valued  comma-separated attribute names that get a table of
 *                 their own; default: every attribute that has more than
 *                 one value in some entry
 *   allow_url_folder
 *                 a folder whose files URL values (`attr:< file:///...`)
 *                 may name; without it every URL value is refused
 *
 * Tables:
 *   <prefix>_entries   dn, then one column per single-valued attribute,
 *                      in the order attributes are first seen in the file
 *   <prefix>_<attr>    dn,<attr>: one row per value of a multi-valued
 *                      attribute (empty values are left out)
 * Column and table names use the first spelling of an attribute in the
 * file (or in multi_valued); attributes are matched case-insensitively,
 * as LDAP does. With multi_valued given, every table it names is written
 * even when empty, and an entry with several values of an attribute it
 * does not name is an error (file:line), not a silent truncation.
 *
 * Two passes over the file, so memory stays bounded by one entry and the
 * set of attribute names: the first learns the attributes and which are
 * multi-valued, and checks the whole file (so nothing is written from a
 * broken file); the second writes the rows.
 *
 * Records are collected here (read_record: lines up to a blank line,
 * CRLF, comments), so that the file is read alone: an `include:` line,
 * which libldap's own record reader would follow to any file, is an
 * error naming file:line. libldap's ldap_parse_ldif_record then splits
 * a record and decodes base64 (`attr:: `) and URL (`attr:< `) values.
 * The exported file is untrusted input, so before libldap sees a record
 * every URL value is checked (check_urls): refused with file:line unless
 * allow_url_folder is set and the URL is a file:/// URL of a regular
 * file that, all symbolic links resolved, lies inside that folder.
 * Records must be entries: a change record (changetype other than add)
 * is an error. A value that is not UTF-8 text (or holds a NUL byte) is
 * exported as its base64 text, with a warning naming the attribute.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lber.h>
#include <ldap.h>
#include <ldif.h>

#include <jobhost/jobhost.h>

#include "array.h"
#include "ldif.h"

/* Entries between two cancel checks and progress reports. */
#define ENTRIES_PER_CHECK 1024u

static const jobhost_param ldif_settings_schema[] = {
    {.name = "path",
     .type = JOBHOST_PARAM_PATH,
     .required = 1,
     .help = "The LDIF file holding the directory"},
    {.name = "table",
     .type = JOBHOST_PARAM_STRING,
     .help = "Prefix of the table names (default: the connection id)"},
    {.name = "multi_valued",
     .type = JOBHOST_PARAM_STRING,
     .help = "Comma-separated attributes exported as tables of their own "
             "(default: those with several values in some entry)"},
    {.name = "allow_url_folder",
     .type = JOBHOST_PARAM_PATH,
     .help = "Folder whose files URL values (attr:< file:///...) may name "
             "(default: URL values are refused)"},
    JOBHOST_PARAM_END};

/* ---- attribute set ---- */

typedef struct attr {
  char *name;               /* first spelling seen; owned */
  int multi;                /* exported as a table of its own */
  int listed;               /* named by multi_valued */
  unsigned long multi_line; /* first record holding several values, or 0 */
  size_t nvalues;           /* the most values one entry holds */
  size_t column;            /* single-valued: column of the entries table */
  jobhost_table *table;     /* multi-valued: its table */
  int warned_binary;
} attr;

/* Attributes in first-seen order, indexed by a case-insensitive hash
 * (open addressing; slot holds index + 1, 0 when free). */
typedef struct attr_set {
  attr *v;
  size_t n, cap;
  size_t *slot;
  size_t nslot; /* a power of two, at least twice n */
} attr_set;

static uint64_t name_hash(const char *s) {
  uint64_t h = 1469598103934665603u;
  for (; *s; s++) {
    h ^= (unsigned char)tolower((unsigned char)*s);
    h *= 1099511628211u;
  }
  return h;
}

static attr *set_find(const attr_set *set, const char *name) {
  size_t mask = set->nslot - 1, i;
  if (set->nslot == 0)
    return NULL;
  for (i = name_hash(name) & mask; set->slot[i] != 0; i = (i + 1) & mask)
    if (strcasecmp(set->v[set->slot[i] - 1].name, name) == 0)
      return &set->v[set->slot[i] - 1];
  return NULL;
}

static int set_rehash(attr_set *set, size_t nslot) {
  size_t *slot = calloc(nslot, sizeof(*slot));
  if (slot == NULL)
    return -ENOMEM;
  for (size_t k = 0; k < set->n; k++) {
    size_t i = name_hash(set->v[k].name) & (nslot - 1);
    while (slot[i] != 0)
      i = (i + 1) & (nslot - 1);
    slot[i] = k + 1;
  }
  free(set->slot);
  set->slot = slot;
  set->nslot = nslot;
  return 0;
}

/* The attribute `name`, added when new: 0 and *out, or -ENOMEM. */
static int set_add(attr_set *set, const char *name, attr **out) {
  attr *a = set_find(set, name);
  if (a != NULL) {
    *out = a;
    return 0;
  }
  if (jh_array_reserve(&set->v, &set->cap, set->n + 1, sizeof(*set->v), 32))
    return -ENOMEM;
  if ((set->n + 1) * 2 > set->nslot &&
      set_rehash(set, set->nslot ? set->nslot * 2 : 64) != 0)
    return -ENOMEM;
  a = &set->v[set->n];
  memset(a, 0, sizeof(*a));
  a->name = strdup(name);
  if (a->name == NULL)
    return -ENOMEM;
  set->n++;
  {
    size_t mask = set->nslot - 1, i = name_hash(name) & mask;
    while (set->slot[i] != 0)
      i = (i + 1) & mask;
    set->slot[i] = set->n;
  }
  *out = a;
  return 0;
}

static void set_free(attr_set *set) {
  for (size_t i = 0; i < set->n; i++)
    free(set->v[i].name);
  free(set->v);
  free(set->slot);
  memset(set, 0, sizeof(*set));
}

/* ---- text helpers ---- */

static int buf_reserve(buf *b, size_t more) {
  size_t cap = b->cap ? b->cap : 256;
  char *p;
  if (b->len + more <= b->cap)
    return 0;
  while (cap < b->len + more) {
    if (cap > SIZE_MAX / 2)
      return -ENOMEM;
    cap *= 2;
  }
  p = realloc(b->p, cap);
  if (p == NULL)
    return -ENOMEM;
  b->p = p;
  b->cap = cap;
  return 0;
}

/* Valid UTF-8 without NUL bytes, so a NUL-terminated CSV field. */
int ldif_is_text(const unsigned char *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    unsigned char c = s[i];
    size_t need;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c == 0)
      return 0;
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0xc2 && c <= 0xdf)
      need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c == 0xe0)
        lo = 0xa0;
      else if (c == 0xed)
        hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c == 0xf0)
        lo = 0x90;
      else if (c == 0xf4)
        hi = 0x8f;
    } else
      return 0;
    if (len - i <= need)
      return 0;
    for (size_t k = 1; k <= need; k++) {
      if (s[i + k] < lo || s[i + k] > hi)
        return 0;
      lo = 0x80;
      hi = 0xbf;
    }
    i += need + 1;
  }
  return 1;
}

static size_t b64_len(size_t len) { return (len + 2) / 3 * 4; }

static void b64_encode(const unsigned char *in, size_t len, char *out) {
  static const char digits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 2 < len; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    *out++ = digits[v >> 18];
    *out++ = digits[(v >> 12) & 63];
    *out++ = digits[(v >> 6) & 63];
    *out++ = digits[v & 63];
  }
  if (i < len) {
    uint32_t v = (uint32_t)in[i] << 16;
    if (i + 1 < len)
      v |= (uint32_t)in[i + 1] << 8;
    *out++ = digits[v >> 18];
    *out++ = digits[(v >> 12) & 63];
    *out++ = i + 1 < len ? digits[(v >> 6) & 63] : '=';
    *out++ = '=';
  }
  *out = '\0';
}

/* Append v to b as a NUL-terminated field (base64 text when it is not
 * UTF-8 text): 0 and *off (where it starts) and *binary, or -ENOMEM. */
static int append_value(buf *b, const struct berval *v, size_t *off,
                        int *binary) {
  const unsigned char *s = (const unsigned char *)v->bv_val;
  size_t len = v->bv_len;
  *binary = len > 0 && !ldif_is_text(s, len);
  if (buf_reserve(b, (*binary ? b64_len(len) : len) + 1) != 0)
    return -ENOMEM;
  *off = b->len;
  if (*binary) {
    b64_encode(s, len, b->p + b->len);
    b->len += b64_len(len) + 1;
  } else {
    if (len > 0)
      memcpy(b->p + b->len, s, len);
    b->p[b->len + len] = '\0';
    b->len += len + 1;
  }
  return 0;
}

/* An attribute description: a name or OID, options after ';'. */
static int valid_attr_name(const char *s) {
  if (!isalnum((unsigned char)*s))
    return 0;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '-' && *s != ';' && *s != '.' &&
        *s != '_')
      return 0;
  return 1;
}

/* ---- reading records ---- */

int ldif_in_fail(ldif_in *in, int code, const char *fmt, ...) {
  char text[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  in->ctx->svc->set_message(in->ctx, "connection %s: %s", in->conn, text);
  return code;
}

static void in_done_record(ldif_in *in) {
  if (in->have_lr)
    ldap_ldif_record_done(&in->lr);
  in->have_lr = 0;
}

void ldif_in_close(ldif_in *in) {
  in_done_record(in);
  if (in->fp != NULL)
    fclose(in->fp);
  in->fp = NULL;
  free(in->line);
  in->line = NULL;
  in->line_size = 0;
  free(in->rec.p);
  memset(&in->rec, 0, sizeof(in->rec));
  free(in->copy.p);
  memset(&in->copy, 0, sizeof(in->copy));
}

static const char *not_done(const ldif_in *in) {
  return in->not_done != NULL ? in->not_done : "the export is not launched";
}

int ldif_in_open(ldif_in *in) {
  struct stat sb;
  if (stat(in->path, &sb) != 0)
    return ldif_in_fail(in, -errno, "setting path: %s: %s; %s", in->path,
                        strerror(errno), not_done(in));
  if (!S_ISREG(sb.st_mode))
    return ldif_in_fail(in, -EINVAL,
                        "setting path: %s is not a regular file; %s", in->path,
                        not_done(in));
  in->fp = fopen(in->path, "re");
  if (in->fp == NULL)
    return ldif_in_fail(in, errno ? -errno : -ENOMEM, "%s: %s", in->path,
                        strerror(errno ? errno : ENOMEM));
  in->lineno = 0;
  return 0;
}

static int in_rewind(ldif_in *in) {
  if (fseek(in->fp, 0, SEEK_SET) != 0)
    return ldif_in_fail(in, -errno, "%s: %s", in->path, strerror(errno));
  clearerr(in->fp);
  in->lineno = 0;
  return 0;
}

/* ---- libldap's own messages ----
 *
 * libldap reports some details (a bad base64 character...) through
 * liblber's log print function, which writes to stderr by default. While
 * an export runs, that function is ours: it keeps the last message, which
 * then completes our error message. The function is process-wide, and a
 * task runs alone in its process (or one at a time with --isolation
 * none); it is put back when the export ends.
 */
static _Thread_local char ldap_said[256];

static void keep_ldap_message(const char *text) {
  const char *colon = strstr(text, ": ");
  size_t len;
  /* "ldap_pvt_decode_b64_inplace: invalid ..." -> "invalid ..." */
  if (colon != NULL && strcspn(text, " :") == (size_t)(colon - text))
    text = colon + 2;
  snprintf(ldap_said, sizeof(ldap_said), "%s", text);
  len = strlen(ldap_said);
  while (len > 0 && (ldap_said[len - 1] == '\n' || ldap_said[len - 1] == ' '))
    ldap_said[--len] = '\0';
}

BER_LOG_PRINT_FN ldif_libldap_messages_begin(void) {
  BER_LOG_PRINT_FN old_print = NULL;
  if (ber_get_option(NULL, LBER_OPT_LOG_PRINT_FN, &old_print) !=
          LBER_OPT_SUCCESS ||
      ber_set_option(NULL, LBER_OPT_LOG_PRINT_FN,
                     (const void *)keep_ldap_message) != LBER_OPT_SUCCESS)
    old_print = NULL; /* libldap then writes its details to stderr */
  return old_print;
}

void ldif_libldap_messages_end(BER_LOG_PRINT_FN old_print) {
  if (old_print != NULL)
    (void)ber_set_option(NULL, LBER_OPT_LOG_PRINT_FN, (const void *)old_print);
}

/* ---- records ----
 *
 * The rules of libldap's ldif_read_record, less `include:`: physical
 * lines (CR LF read as LF) up to a blank line or the end of the file;
 * blank lines and comments before a record that are followed by a blank
 * line are dropped, and so are lines starting with a digit (an index)
 * before the record's first line.
 */

/* Read one physical line into in->line: its length, 0 at the end of the
 * file, or a negative code with the message set. */
static ssize_t read_line(ldif_in *in) {
  ssize_t n;
  errno = 0;
  n = getline(&in->line, &in->line_size, in->fp);
  if (n < 0) {
    if (ferror(in->fp))
      return ldif_in_fail(in, errno == ENOMEM ? -ENOMEM : -EIO,
                          "%s: read error: %s", in->path,
                          strerror(errno ? errno : EIO));
    return 0;
  }
  in->lineno++;
  if (memchr(in->line, '\0', (size_t)n) != NULL)
    return ldif_in_fail(in, -EILSEQ, "%s:%lu: a NUL byte: not an LDIF file",
                        in->path, in->lineno);
  if (n >= 2 && in->line[n - 2] == '\r' && in->line[n - 1] == '\n') {
    in->line[n - 2] = '\n';
    in->line[--n] = '\0';
  }
  return n;
}

/* Read the next record into in->rec (NUL-terminated, every line ended
 * by \n) and in->rec_line: 1, 0 at the end of the file, or a negative
 * code with the message set. */
static int read_record(ldif_in *in) {
  int found = 0, top_comment = 0;
  ssize_t n;

  in->rec.len = 0;
  while ((n = read_line(in)) > 0) {
    const char *l = in->line;
    if (l[0] == '\n') {
      if (found)
        break;
      in->rec.len = 0; /* comments before a blank line are dropped */
      top_comment = 0;
      continue;
    }
    if (!found) {
      if (l[0] == '#') {
        top_comment = 1;
      } else if (isdigit((unsigned char)l[0])) {
        continue; /* an index line before the record: dropped */
      } else if (!(top_comment && l[0] == ' ')) {
        found = 1;
        if (strncasecmp(l, "include:", 8) == 0)
          return ldif_in_fail(in, -EILSEQ,
                              "%s:%lu: 'include:' is refused: a directory file "
                              "is read alone, never the files it names",
                              in->path, in->lineno);
      }
    }
    if (in->rec.len == 0)
      in->rec_line = in->lineno;
    if (buf_reserve(&in->rec, (size_t)n + 2) != 0)
      return ldif_in_fail(in, -ENOMEM, "out of memory");
    memcpy(in->rec.p + in->rec.len, l, (size_t)n);
    in->rec.len += (size_t)n;
  }
  if (n < 0)
    return (int)n;
  if (!found)
    return 0;
  if (in->rec.len == 0 || in->rec.p[in->rec.len - 1] != '\n')
    in->rec.p[in->rec.len++] = '\n'; /* the last line of the file */
  in->rec.p[in->rec.len] = '\0';
  return 1;
}

/* The next logical line of a record (continuation lines start with a
 * space) from *p into tmp, NUL-terminated; *at receives its first line
 * number, *line advances. 1, 0 at the end of the text, or -ENOMEM. */
static int next_logical(const char **p, unsigned long *line, buf *tmp,
                        unsigned long *at) {
  if (**p == '\0')
    return 0;
  *at = *line;
  tmp->len = 0;
  for (;;) {
    const char *nl = strchr(*p, '\n');
    size_t n = nl ? (size_t)(nl - *p) : strlen(*p);
    if (buf_reserve(tmp, n + 1) != 0)
      return -ENOMEM;
    memcpy(tmp->p + tmp->len, *p, n);
    tmp->len += n;
    (*line)++;
    *p = nl ? nl + 1 : *p + n;
    if (**p != ' ')
      break;
    (*p)++; /* the continuation's leading space */
  }
  tmp->p[tmp->len] = '\0';
  return 1;
}

/* ---- URL values ----
 *
 * libldap reads the file a URL value names (`attr:< file:///path`,
 * percent escapes decoded) when it parses the record. The export file is
 * untrusted, so a URL value is refused unless allow_url_folder is set,
 * the URL is file:/// with a path free of spaces and control characters,
 * and that path, every symbolic link resolved (realpath), is a regular
 * file inside the folder.
 */

static int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Decode the percent escapes of url into out (size bytes): 0, or -1 for
 * a bad escape, a character that is not allowed, or a path too long. */
static int url_path(const char *url, char *out, size_t size) {
  size_t n = 0;
  for (const char *p = url; *p != '\0'; p++) {
    int c = (unsigned char)*p;
    if (c <= 0x20 || c == 0x7f)
      return -1;
    if (c == '%') {
      int hi = hex_value(p[1]), lo = hi < 0 ? -1 : hex_value(p[2]);
      if (lo < 0 || (hi == 0 && lo == 0))
        return -1;
      c = hi * 16 + lo;
      p += 2;
    }
    if (n + 1 >= size)
      return -1;
    out[n++] = (char)c;
  }
  out[n] = '\0';
  return 0;
}

/* Check the URL value of attribute name (namelen bytes) at line `at`. */
static int check_url(ldif_in *in, const char *name, size_t namelen,
                     const char *url, unsigned long at) {
  char path[PATH_MAX], real[PATH_MAX];
  size_t flen;
  struct stat sb;

  while (*url == ' ' || *url == '\t')
    url++;
  if (in->url_folder == NULL)
    return ldif_in_fail(in, -EILSEQ,
                        "%s:%lu: attribute '%.*s' takes its value from a URL "
                        "(%.200s): URL values are refused (setting "
                        "allow_url_folder names a folder they may come from)",
                        in->path, at, (int)namelen, name, url);
  if (strncasecmp(url, "file:///", 8) != 0 ||
      url_path(url + 7, path, sizeof(path)) != 0)
    return ldif_in_fail(in, -EILSEQ,
                        "%s:%lu: attribute '%.*s': URL %.200s: expected "
                        "file:///PATH, a file inside %s (setting "
                        "allow_url_folder)",
                        in->path, at, (int)namelen, name, url, in->url_folder);
  flen = strlen(in->url_folder);
  if (realpath(path, real) == NULL || stat(real, &sb) != 0 ||
      !S_ISREG(sb.st_mode) ||
      !(strncmp(real, in->url_folder, flen) == 0 &&
        (real[flen] == '/' || (flen == 1 && real[0] == '/'))))
    return ldif_in_fail(in, -EILSEQ,
                        "%s:%lu: attribute '%.*s': URL %.200s is not a file "
                        "inside %s (setting allow_url_folder)",
                        in->path, at, (int)namelen, name, url, in->url_folder);
  return 0;
}

/* Check every URL value of a record (text, line `first` on). */
static int check_urls(ldif_in *in, const char *text, unsigned long first) {
  const char *p = text;
  unsigned long line = first, at = first;
  buf tmp = {NULL, 0, 0};
  int rc;

  while ((rc = next_logical(&p, &line, &tmp, &at)) == 1) {
    const char *colon = strchr(tmp.p, ':');
    if (tmp.p[0] == '#' || colon == NULL || colon[1] != '<')
      continue;
    rc = check_url(in, tmp.p, (size_t)(colon - tmp.p), colon + 2, at);
    if (rc < 0)
      break;
  }
  free(tmp.p);
  if (rc == -ENOMEM)
    return ldif_in_fail(in, -ENOMEM, "out of memory");
  return rc < 0 ? rc : 0;
}

/* ---- pre-scan ----
 *
 * ldap_parse_ldif_record says only that a record is wrong, and writes
 * details to stderr itself. So pass 1 first checks each logical line of
 * a record with ldif_parse_line2 (the same line parser), which tells the
 * line, and the record's shape: an optional version line, the dn, then
 * attributes; no second dn, no change record.
 */

/* Split `text` (one record, line `first` on) into logical lines and
 * check them. Returns 1 for an entry, 0 for a record holding only a
 * version line, or a negative code with the message set. */
static int prescan(ldif_in *in, const char *text, unsigned long first) {
  unsigned long line = first, at = first;
  const char *p = text;
  buf tmp = {NULL, 0, 0};
  int have_dn = 0, rc = 0, more;

  while (rc == 0 && (more = next_logical(&p, &line, &tmp, &at)) != 0) {
    struct berval type, value;
    int freeval = 0;

    if (more < 0) {
      rc = ldif_in_fail(in, -ENOMEM, "out of memory");
      break;
    }
    if (tmp.p[0] == '#')
      continue;
    if (strcmp(tmp.p, "-") == 0) {
      rc = ldif_in_fail(
          in, -EILSEQ,
          "%s:%lu: '-' belongs to change records; a directory file "
          "holds entries only",
          in->path, at);
      break;
    }
    ldap_said[0] = '\0';
    if (ldif_parse_line2(tmp.p, &type, &value, &freeval) < 0) {
      rc = ldif_in_fail(in, -EILSEQ,
                        "%s:%lu: invalid LDIF line%s%s%s: expected 'attribute: "
                        "value', 'attribute:: base64' or 'attribute:< URL'",
                        in->path, at, ldap_said[0] ? " (" : "", ldap_said,
                        ldap_said[0] ? ")" : "");
      break;
    }
    if (!have_dn) {
      if (strcasecmp(type.bv_val, "dn") == 0) {
        have_dn = 1;
        if (!ldif_is_text((const unsigned char *)value.bv_val, value.bv_len))
          rc = ldif_in_fail(in, -EILSEQ, "%s:%lu: the dn is not UTF-8 text",
                            in->path, at);
      } else if (strcasecmp(type.bv_val, "version") != 0) {
        rc = ldif_in_fail(in, -EILSEQ,
                          "%s:%lu: expected a 'dn:' line, got '%s:'", in->path,
                          at, type.bv_val);
      }
    } else if (strcasecmp(type.bv_val, "dn") == 0) {
      rc = ldif_in_fail(
          in, -EILSEQ,
          "%s:%lu: a second 'dn:' line in one entry (a blank line "
          "missing between two entries?)",
          in->path, at);
    } else if (strcasecmp(type.bv_val, "changetype") == 0) {
      if (strcasecmp(value.bv_val, "add") != 0)
        rc = ldif_in_fail(in, -EILSEQ,
                          "%s:%lu: 'changetype: %.*s': a directory file holds "
                          "entries only",
                          in->path, at, (int)value.bv_len, value.bv_val);
    } else if (strcasecmp(type.bv_val, "control") != 0 &&
               !valid_attr_name(type.bv_val)) {
      rc = ldif_in_fail(in, -EILSEQ, "%s:%lu: '%s' is not an attribute name",
                        in->path, at, type.bv_val);
    }
    if (freeval)
      ber_memfree(value.bv_val);
  }
  free(tmp.p);
  if (rc != 0)
    return rc;
  return have_dn;
}

/* Whether the record text holds only comments and a version line. */
static int version_only(const char *text) {
  for (const char *p = text; *p;) {
    const char *nl = strchr(p, '\n');
    if (*p != '#' && *p != ' ' && strncasecmp(p, "version:", 8) != 0)
      return 0;
    if (nl == NULL)
      break;
    p = nl + 1;
  }
  return 1;
}

/* printf arguments for a berval: "%.*s". */
#define BV_ARGS(bv) (int)(bv).bv_len, (bv).bv_val

/*
 * Read and parse the next entry into in->lr: 1, 0 at end of file, or a
 * negative code with the message set. `check` (pass 1) pre-scans the
 * record first (see prescan).
 */
int ldif_in_next(ldif_in *in, int check) {
  struct berval rb;
  int rc;

  for (;;) {
    size_t len;

    in_done_record(in);
    rc = read_record(in);
    if (rc <= 0)
      return rc;
    len = in->rec.len;
    rc = check_urls(in, in->rec.p, in->rec_line);
    if (rc < 0)
      return rc;
    /* The parser writes into the record: keep the text as read. */
    in->copy.len = 0;
    if (buf_reserve(&in->copy, len + 1) != 0)
      return ldif_in_fail(in, -ENOMEM, "out of memory");
    memcpy(in->copy.p, in->rec.p, len + 1);
    if (check) {
      rc = prescan(in, in->copy.p, in->rec_line);
      if (rc < 0)
        return rc;
      if (rc == 0)
        continue; /* "version: 1" on its own */
    } else if (version_only(in->copy.p)) {
      continue;
    }
    rb.bv_val = in->rec.p;
    rb.bv_len = len;
    ldap_said[0] = '\0';
    rc = ldap_parse_ldif_record(&rb, in->rec_line, &in->lr, "jobhost",
                                LDIF_DEFAULT_ADD | LDIF_NO_CONTROLS);
    if (rc == LDAP_NO_MEMORY)
      return ldif_in_fail(in, -ENOMEM, "%s:%lu: out of memory", in->path,
                          in->rec_line);
    if (rc != LDAP_SUCCESS)
      return ldif_in_fail(in, -EILSEQ, "%s:%lu: invalid LDIF record%s%s%s",
                          in->path, in->rec_line, ldap_said[0] ? " (" : "",
                          ldap_said, ldap_said[0] ? ")" : "");
    in->have_lr = 1;
    if (in->lr.lr_dn.bv_val == NULL || in->lr.lr_op != LDAP_REQ_ADD)
      return ldif_in_fail(in, -EAGAIN,
                          "%s:%lu: the file changed while it was exported",
                          in->path, in->rec_line);
    return 1;
  }
}

static size_t count_values(const LDAPMod *m) {
  size_t n = 0;
  while (m->mod_bvalues != NULL && m->mod_bvalues[n] != NULL)
    n++;
  return n;
}

/* ---- export ---- */

typedef struct ldif_job {
  ldif_in in;
  attr_set attrs;
  const char *prefix;
  const char *multi_setting; /* NULL: by the data */
  uint64_t nentries;
  jobhost_table *entries;
  size_t ncolumns;    /* of the entries table */
  const char **names; /* column names, then reused for row values */
  size_t *offsets;    /* per column: offset in row, or SIZE_MAX */
  buf row;            /* the entry's single values */
  buf value;          /* one multi value */
} ldif_job;

/* Mark the attributes multi_valued names. */
static int apply_multi_setting(ldif_job *j) {
  char *copy = strdup(j->multi_setting), *save = NULL, *item;
  int rc = 0;
  if (copy == NULL)
    return -ENOMEM;
  for (item = strtok_r(copy, ", \t[]\"'", &save); item != NULL && rc == 0;
       item = strtok_r(NULL, ", \t[]\"'", &save)) {
    attr *a;
    if (strcasecmp(item, "dn") == 0 || !valid_attr_name(item)) {
      j->in.ctx->svc->set_message(
          j->in.ctx,
          "connection %s: setting multi_valued: '%s' is not an attribute "
          "name",
          j->in.conn, item);
      rc = JOBHOST_ECONFIG;
      break;
    }
    rc = set_add(&j->attrs, item, &a);
    if (rc == 0)
      a->listed = a->multi = 1;
  }
  free(copy);
  return rc;
}

/* Pass 1: learn the attributes and check the whole file. */
static int learn(ldif_job *j) {
  ldif_in *in = &j->in;
  int rc;

  if (j->multi_setting != NULL && (rc = apply_multi_setting(j)) != 0)
    return rc;
  while ((rc = ldif_in_next(in, 1)) == 1) {
    if (++j->nentries % ENTRIES_PER_CHECK == 0 &&
        in->ctx->svc->is_cancelled(in->ctx))
      return JOBHOST_ECANCELLED;
    for (LDAPMod **m = in->lr.lrop_mods; m != NULL && *m != NULL; m++) {
      const char *name = (*m)->mod_type;
      size_t n = count_values(*m);
      attr *a;
      if (set_add(&j->attrs, name, &a) != 0)
        return ldif_in_fail(in, -ENOMEM, "out of memory");
      if (n > 1 && a->multi_line == 0)
        a->multi_line = in->rec_line;
      if (n > a->nvalues)
        a->nvalues = n;
    }
  }
  if (rc < 0)
    return rc;
  for (size_t i = 0; i < j->attrs.n; i++) {
    attr *a = &j->attrs.v[i];
    if (j->multi_setting == NULL)
      a->multi = a->multi_line != 0;
    else if (!a->listed && a->multi_line != 0)
      return ldif_in_fail(in, -EILSEQ,
                          "%s:%lu: an entry holds %zu values of attribute %s, "
                          "which setting multi_valued does not list",
                          in->path, a->multi_line, a->nvalues, a->name);
    if (a->multi && strcasecmp(a->name, "entries") == 0)
      return ldif_in_fail(in, JOBHOST_ECONFIG,
                          "multi-valued attribute '%s' would be exported as "
                          "table %s_entries, the name of the entries table",
                          a->name, j->prefix);
  }
  return 0;
}

static int open_table(ldif_job *j, const char *name, const char *const *columns,
                      size_t n, jobhost_table **out) {
  int rc = j->in.ctx->svc->table_open(j->in.ctx, name, columns, n, out);
  if (rc != 0 && rc != JOBHOST_ECANCELLED)
    ldif_in_fail(&j->in, rc, "cannot start table %s: %s", name,
                 jobhost_strerror(rc));
  return rc;
}

static int open_tables(ldif_job *j) {
  char *name = NULL;
  int rc;

  j->ncolumns = 1;
  for (size_t i = 0; i < j->attrs.n; i++)
    if (!j->attrs.v[i].multi)
      j->ncolumns++;
  j->names = calloc(j->ncolumns, sizeof(*j->names));
  j->offsets = calloc(j->ncolumns, sizeof(*j->offsets));
  if (j->names == NULL || j->offsets == NULL)
    return ldif_in_fail(&j->in, -ENOMEM, "out of memory");
  j->names[0] = "dn";
  for (size_t i = 0, c = 1; i < j->attrs.n; i++)
    if (!j->attrs.v[i].multi) {
      j->attrs.v[i].column = c;
      j->names[c++] = j->attrs.v[i].name;
    }
  if (asprintf(&name, "%s_entries", j->prefix) < 0)
    return ldif_in_fail(&j->in, -ENOMEM, "out of memory");
  rc = open_table(j, name, j->names, j->ncolumns, &j->entries);
  free(name);
  for (size_t i = 0; rc == 0 && i < j->attrs.n; i++) {
    attr *a = &j->attrs.v[i];
    const char *cols[2] = {"dn", a->name};
    if (!a->multi)
      continue;
    if (asprintf(&name, "%s_%s", j->prefix, a->name) < 0)
      return ldif_in_fail(&j->in, -ENOMEM, "out of memory");
    rc = open_table(j, name, cols, 2, &a->table);
    free(name);
  }
  return rc;
}

/* Close every open table; the first error wins over rc == 0. */
static int close_tables(ldif_job *j, int rc) {
  const jobhost_services *svc = j->in.ctx->svc;
  int crc;
  if (j->entries != NULL) {
    crc = svc->table_close(j->entries);
    j->entries = NULL;
    if (rc == 0 && crc != 0)
      rc = ldif_in_fail(&j->in, crc, "cannot finish the entries table: %s",
                        jobhost_strerror(crc));
  }
  for (size_t i = 0; i < j->attrs.n; i++) {
    attr *a = &j->attrs.v[i];
    if (a->table == NULL)
      continue;
    crc = svc->table_close(a->table);
    a->table = NULL;
    if (rc == 0 && crc != 0)
      rc = ldif_in_fail(&j->in, crc, "cannot finish the table of %s: %s",
                        a->name, jobhost_strerror(crc));
  }
  return rc;
}

static void warn_binary(ldif_job *j, attr *a) {
  if (a->warned_binary)
    return;
  a->warned_binary = 1;
  jobhost_warning(j->in.ctx,
                  "%s:%lu: values of attribute %s are not UTF-8 text: "
                  "exported in base64",
                  j->in.path, j->in.rec_line, a->name);
}

static int write_failed(ldif_job *j, int rc) {
  if (rc != JOBHOST_ECANCELLED)
    ldif_in_fail(&j->in, rc, "%s:%lu: cannot write entry '%.*s': %s",
                 j->in.path, j->in.rec_line, BV_ARGS(j->in.lr.lr_dn),
                 jobhost_strerror(rc));
  return rc;
}

/* Write the current entry: its multi values now, then its entries row. */
static int write_entry(ldif_job *j) {
  const jobhost_services *svc = j->in.ctx->svc;
  ldif_in *in = &j->in;
  size_t off;
  int binary, rc;

  j->row.len = 0;
  for (size_t c = 0; c < j->ncolumns; c++)
    j->offsets[c] = SIZE_MAX;
  if (append_value(&j->row, &in->lr.lr_dn, &j->offsets[0], &binary) != 0)
    return ldif_in_fail(in, -ENOMEM, "out of memory");
  for (LDAPMod **m = in->lr.lrop_mods; m != NULL && *m != NULL; m++) {
    attr *a = set_find(&j->attrs, (*m)->mod_type);
    size_t n = count_values(*m);
    if (a == NULL || (!a->multi && n > 1))
      return ldif_in_fail(in, -EAGAIN,
                          "%s:%lu: the file changed while it was exported",
                          in->path, in->rec_line);
    if (!a->multi) {
      if (n == 0)
        continue;
      if (append_value(&j->row, (*m)->mod_bvalues[0], &j->offsets[a->column],
                       &binary) != 0)
        return ldif_in_fail(in, -ENOMEM, "out of memory");
      if (binary)
        warn_binary(j, a);
      continue;
    }
    for (size_t k = 0; k < n; k++) {
      const char *vals[2];
      if ((*m)->mod_bvalues[k]->bv_len == 0)
        continue;
      j->value.len = 0;
      if (append_value(&j->value, &in->lr.lr_dn, &off, &binary) != 0 ||
          append_value(&j->value, (*m)->mod_bvalues[k], &off, &binary) != 0)
        return ldif_in_fail(in, -ENOMEM, "out of memory");
      if (binary)
        warn_binary(j, a);
      vals[0] = j->value.p;
      vals[1] = j->value.p + off;
      rc = svc->table_write(a->table, vals, 2);
      if (rc != 0)
        return write_failed(j, rc);
    }
  }
  for (size_t c = 0; c < j->ncolumns; c++)
    j->names[c] = j->offsets[c] == SIZE_MAX ? NULL : j->row.p + j->offsets[c];
  rc = svc->table_write(j->entries, j->names, j->ncolumns);
  return rc != 0 ? write_failed(j, rc) : 0;
}

/* Pass 2: write the rows. */
static int write_rows(ldif_job *j) {
  jobhost_ctx *ctx = j->in.ctx;
  uint64_t done = 0;
  int rc;

  rc = in_rewind(&j->in);
  if (rc == 0)
    rc = open_tables(j);
  while (rc == 0 && (rc = ldif_in_next(&j->in, 0)) == 1) {
    rc = write_entry(j);
    if (rc == 0 && ++done % ENTRIES_PER_CHECK == 0)
      ctx->svc->progress(ctx, done, j->nentries);
  }
  rc = close_tables(j, rc);
  if (rc == 0) {
    ctx->svc->progress(ctx, done, done);
    if (done != j->nentries)
      rc = ldif_in_fail(&j->in, -EAGAIN,
                        "%s: the file changed while it was "
                        "exported",
                        j->in.path);
  }
  return rc;
}

/* allow_url_folder: resolved into in->url_folder (NULL when unset). */
int ldif_url_folder_setting(ldif_in *in) {
  const char *v = in->ctx->svc->setting(in->ctx, "allow_url_folder");
  struct stat sb;
  if (v == NULL || *v == '\0')
    return 0;
  in->url_folder = realpath(v, NULL);
  if (in->url_folder == NULL || stat(in->url_folder, &sb) != 0 ||
      !S_ISDIR(sb.st_mode)) {
    int err = in->url_folder == NULL ? errno : ENOTDIR;
    free(in->url_folder);
    in->url_folder = NULL;
    return ldif_in_fail(in, JOBHOST_ECONFIG,
                        "setting allow_url_folder: %s: %s; %s", v,
                        strerror(err), not_done(in));
  }
  return 0;
}

static int ldif_export(jobhost_ctx *ctx, void *state) {
  BER_LOG_PRINT_FN old_print = NULL;
  ldif_job j;
  const char *v;
  int rc;
  (void)state;

  memset(&j, 0, sizeof(j));
  j.in.ctx = ctx;
  j.in.conn = ctx->connection != NULL ? ctx->connection : "(none)";
  j.in.path = ctx->svc->setting(ctx, "path");
  v = ctx->svc->setting(ctx, "table");
  j.prefix = v != NULL && *v != '\0' ? v : ctx->connection;
  v = ctx->svc->setting(ctx, "multi_valued");
  j.multi_setting = v != NULL && *v != '\0' ? v : NULL;
  if (j.in.path == NULL || *j.in.path == '\0')
    return ldif_in_fail(&j.in, JOBHOST_ECONFIG,
                        "setting path is not set; the export is not launched");
  if (j.prefix == NULL || *j.prefix == '\0' || j.prefix[0] == '.' ||
      strchr(j.prefix, '/') != NULL)
    return ldif_in_fail(&j.in, JOBHOST_ECONFIG,
                        "setting table: expected a table name prefix (no '/', "
                        "not starting with '.'), got '%s'",
                        j.prefix != NULL ? j.prefix : "");
  rc = ldif_url_folder_setting(&j.in);
  if (rc != 0)
    return rc;
  jobhost_info(ctx, "export of %s into tables %s_*", j.in.path, j.prefix);

  old_print = ldif_libldap_messages_begin();
  rc = ldif_in_open(&j.in);
  if (rc == 0)
    rc = learn(&j);
  if (rc == 0)
    rc = write_rows(&j);
  if (rc != 0)
    (void)close_tables(&j, rc);
  ldif_libldap_messages_end(old_print);
  ldif_in_close(&j.in);
  free(j.in.url_folder);
  set_free(&j.attrs);
  free(j.names);
  free(j.offsets);
  free(j.row.p);
  free(j.value.p);
  return rc;
}

static const jobhost_package ldif_packages[] = {
    {.name = "ldif",
     .description = "A directory kept as an LDIF file (export, fulfill)",
     .settings = ldif_settings_schema,
     .open = lf_open,
     .close = lf_close,
     .export_tables = ldif_export,
     .fulfill_order = lf_fulfill_order,
     .fulfill_begin = lf_fulfill_begin,
     .fulfill_end = lf_fulfill_end},
    JOBHOST_PACKAGE_END};

JOBHOST_PLUGIN_DEFINE("ldif", PACKAGE_VERSION,
                      "Connector package ldif: a directory in an LDIF file",
                      NULL, ldif_packages);
