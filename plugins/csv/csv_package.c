/*
 * csv_package.c — the `csv` connector package: export of a CSV file
 * (Identity Manager's Usercube-Export-Csv, doc/identity-manager.md).
 *
 * Settings (connection `settings` in the model):
 *   path                     the file of a complete export
 *   path_incremental         the file of an incremental export
 *   is_file_name_regex       the last component of both paths is a POSIX
 *                            extended regex matched against whole file
 *                            names; the newest matching file (mtime, then
 *                            name) is read
 *   encoding                 UTF-8 only, with or without BOM
 *   separator                one ASCII character ("\t" or "tab": a tab)
 *   number_of_lines_to_skip  physical lines skipped before the header
 *   values_to_trim           characters trimmed from both ends of
 *                            unquoted values
 *   table                    the table published (default: the
 *                            connection id, i.e. ExportOutput/<conn>.csv)
 *   pad_short_rows           false (default): a row with fewer fields
 *                            than the header is an error; true: it is
 *                            padded with empty values (with a warning)
 *
 * Mode: without a cookie (none yet, or ignore_cookie_file) the export is
 * complete and reads `path`; with one it is incremental and reads
 * `path_incremental`. The file a mode needs must be configured and exist,
 * else the export is refused, as Identity Manager does
 * (doc/identity-manager.md). A cookie is written after every successful
 * export when `path_incremental` is configured, so a connection with only
 * `path` never turns incremental.
 *
 * Cookie (text, opaque to the host):
 *   jobhost-csv-cookie 1
 *   mode complete|incremental
 *   file /abs/path/read.csv
 *   size 1234
 *   mtime 1764064800.000000000
 * An incremental export that finds the same file, size and mtime as the
 * last incremental one warns that the file did not change.
 *
 * Rows: the header row gives the columns; a column whose header is empty
 * is dropped. A short row (fewer fields than the header: a file cut in
 * the middle of its last line, a row missing its separators) is an error
 * naming file:line and both counts, and nothing is published: padding
 * it would blank the values it lacks in the identity store. With
 * pad_short_rows it is padded with empty values instead (a warning gives
 * the count and the first line). A long row is accepted when its extra
 * fields are all empty (trailing separators) and refused with file:line
 * otherwise, since data beyond the header usually means a separator
 * inside an unquoted value. Quoting, embedded line ends, CRLF, BOM and
 * UTF-8 checks are lib/csv's; its errors name file:line.
 *
 * Memory: lib/csv reads through a fixed buffer and one record's storage;
 * this file allocates nothing per row.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jobhost/jobhost.h>

#include "csv.h"

#define COOKIE_MAGIC "jobhost-csv-cookie 1\n"

static const jobhost_param csv_settings_schema[] = {
    {.name = "path",
     .type = JOBHOST_PARAM_PATH,
     .help = "File read by a complete export"},
    {.name = "path_incremental",
     .type = JOBHOST_PARAM_PATH,
     .help = "File read by an incremental export (when a cookie exists)"},
    {.name = "is_file_name_regex",
     .type = JOBHOST_PARAM_BOOL,
     .default_value = "false",
     .help = "The paths' last component is a regex: the newest matching "
             "file is read"},
    {.name = "encoding",
     .type = JOBHOST_PARAM_STRING,
     .default_value = "UTF-8",
     .help = "File encoding: UTF-8 only (with or without BOM)"},
    {.name = "separator",
     .type = JOBHOST_PARAM_STRING,
     .default_value = ",",
     .help = "Field separator: one ASCII character (\\t or tab for a tab)"},
    {.name = "number_of_lines_to_skip",
     .type = JOBHOST_PARAM_INT,
     .default_value = "0",
     .help = "Lines skipped before the header line"},
    {.name = "values_to_trim",
     .type = JOBHOST_PARAM_STRING,
     .help = "Characters trimmed from both ends of unquoted values"},
    {.name = "table",
     .type = JOBHOST_PARAM_STRING,
     .help = "Name of the exported table (default: the connection id)"},
    {.name = "pad_short_rows",
     .type = JOBHOST_PARAM_BOOL,
     .default_value = "false",
     .help = "Pad rows with fewer fields than the header with empty values "
             "(default: such a row is an error)"},
    JOBHOST_PARAM_END};

typedef struct csv_conf {
  const char *conn;             /* connection id, for messages */
  const char *path;             /* NULL when not configured */
  const char *path_incremental; /* NULL when not configured */
  int regex;
  char separator;
  unsigned skip_lines;
  const char *trim; /* NULL: nothing trimmed */
  const char *table;
  int pad_short_rows; /* short rows padded, not refused */
} csv_conf;

/* ---- settings ---- */

/* A setting's value, NULL when unset or empty. Host-owned. */
static const char *setting(jobhost_ctx *ctx, const char *name) {
  const char *v = ctx->svc->setting(ctx, name);
  return v != NULL && *v != '\0' ? v : NULL;
}

static int parse_bool(const char *s, int *out) {
  static const char *const yes[] = {"true", "1", "yes", "on"};
  static const char *const no[] = {"false", "0", "no", "off"};
  for (size_t i = 0; i < 4; i++) {
    if (strcasecmp(s, yes[i]) == 0) {
      *out = 1;
      return 0;
    }
    if (strcasecmp(s, no[i]) == 0) {
      *out = 0;
      return 0;
    }
  }
  return -1;
}

static int valid_table_name(const char *s) {
  if (*s == '\0' || *s == '.' || strlen(s) > 200)
    return 0;
  for (; *s; s++)
    if (*s == '/' || *s == '\\' || (unsigned char)*s < 0x20)
      return 0;
  return 1;
}

static int bad_setting(jobhost_ctx *ctx, const char *conn, const char *name,
                       const char *what, const char *value) {
  ctx->svc->set_message(ctx, "connection %s: setting %s: %s, got '%s'", conn,
                        name, what, value);
  return JOBHOST_ECONFIG;
}

static int read_conf(jobhost_ctx *ctx, csv_conf *c) {
  const char *v;
  char *end;
  unsigned long long n;

  memset(c, 0, sizeof(*c));
  c->conn = ctx->connection != NULL ? ctx->connection : "(none)";
  c->path = setting(ctx, "path");
  c->path_incremental = setting(ctx, "path_incremental");

  v = setting(ctx, "is_file_name_regex");
  if (v != NULL && parse_bool(v, &c->regex) != 0)
    return bad_setting(ctx, c->conn, "is_file_name_regex",
                       "expected true or false", v);

  v = setting(ctx, "pad_short_rows");
  if (v != NULL && parse_bool(v, &c->pad_short_rows) != 0)
    return bad_setting(ctx, c->conn, "pad_short_rows", "expected true or false",
                       v);

  v = setting(ctx, "encoding");
  if (v != NULL && strcasecmp(v, "UTF-8") != 0 && strcasecmp(v, "UTF8") != 0)
    return bad_setting(ctx, c->conn, "encoding",
                       "only UTF-8 is supported (with or without BOM)", v);

  v = setting(ctx, "separator");
  if (v == NULL)
    c->separator = ',';
  else if (strcmp(v, "\\t") == 0 || strcasecmp(v, "tab") == 0)
    c->separator = '\t';
  else if (v[1] == '\0' && (unsigned char)v[0] < 0x80 && v[0] != '"' &&
           v[0] != '\r' && v[0] != '\n')
    c->separator = v[0];
  else
    return bad_setting(ctx, c->conn, "separator",
                       "expected one ASCII character other than a quote or "
                       "a line end",
                       v);

  v = setting(ctx, "number_of_lines_to_skip");
  if (v != NULL) {
    errno = 0;
    n = strtoull(v, &end, 10);
    if (errno != 0 || *end != '\0' || v[0] == '-' || n > UINT_MAX)
      return bad_setting(ctx, c->conn, "number_of_lines_to_skip",
                         "expected an integer from 0", v);
    c->skip_lines = (unsigned)n;
  }

  c->trim = ctx->svc->setting(ctx, "values_to_trim");
  if (c->trim != NULL && *c->trim == '\0')
    c->trim = NULL;

  c->table = setting(ctx, "table");
  if (c->table == NULL)
    c->table = ctx->connection;
  if (c->table == NULL) {
    ctx->svc->set_message(ctx, "the csv package needs a connection (or a "
                               "`table` setting) to name its table");
    return JOBHOST_ECONFIG;
  }
  if (!valid_table_name(c->table))
    return bad_setting(ctx, c->conn, "table",
                       "expected a file name stem (no '/', not starting "
                       "with '.')",
                       c->table);
  return 0;
}

/* ---- the file to read ---- */

/* Compile `pattern` (POSIX ERE) to match whole names: 0, or a negative
 * code with the message set. */
static int compile_pattern(jobhost_ctx *ctx, const csv_conf *c,
                           const char *name, const char *pattern, regex_t *re) {
  char *anchored = NULL;
  int rc;
  if (asprintf(&anchored, "^(%s)$", pattern) < 0)
    return -ENOMEM;
  rc = regcomp(re, anchored, REG_EXTENDED | REG_NOSUB);
  free(anchored);
  if (rc != 0) {
    char why[256];
    regerror(rc, re, why, sizeof(why));
    ctx->svc->set_message(ctx,
                          "connection %s: setting %s: invalid regular "
                          "expression '%s': %s",
                          c->conn, name, pattern, why);
    return JOBHOST_ECONFIG;
  }
  return 0;
}

/* Whether a file of time t and name `file` comes before the best one so
 * far (time best_t, name best; none when best is NULL): older, or as old
 * with a smaller name. */
static int before_best(const struct timespec *t, const char *file,
                       const struct timespec *best_t, const char *best) {
  if (best == NULL)
    return 0;
  if (t->tv_sec != best_t->tv_sec)
    return t->tv_sec < best_t->tv_sec;
  if (t->tv_nsec != best_t->tv_nsec)
    return t->tv_nsec < best_t->tv_nsec;
  return strcmp(file, best) < 0;
}

/* The name of the newest regular file of dh that re matches, into *best
 * (malloc'd; NULL when none): 0 or -ENOMEM. */
static int newest_entry(DIR *dh, const regex_t *re, char **best) {
  struct timespec best_t = {0, 0};
  struct dirent *e;
  *best = NULL;
  while ((e = readdir(dh)) != NULL) {
    struct stat st;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
        regexec(re, e->d_name, 0, NULL, 0) != 0)
      continue;
    if (fstatat(dirfd(dh), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode))
      continue;
    if (before_best(&st.st_mtim, e->d_name, &best_t, *best))
      continue;
    free(*best);
    *best = strdup(e->d_name);
    if (*best == NULL)
      return -ENOMEM;
    best_t = st.st_mtim;
  }
  return 0;
}

/* The newest regular file of `dir` whose whole name matches `pattern`
 * (POSIX ERE): 0 and *out (malloc'd, caller frees) and *sb, or a
 * negative code with the message set. */
static int newest_match(jobhost_ctx *ctx, const csv_conf *c, const char *name,
                        const char *dir, const char *pattern, char **out,
                        struct stat *sb) {
  char *best = NULL;
  regex_t re;
  DIR *dh;
  int rc;

  *out = NULL;
  if ((rc = compile_pattern(ctx, c, name, pattern, &re)) != 0)
    return rc;
  dh = opendir(dir);
  if (dh == NULL) {
    rc = -errno;
    regfree(&re);
    ctx->svc->set_message(ctx,
                          "connection %s: setting %s: cannot read folder %s: "
                          "%s; the export is not launched",
                          c->conn, name, dir, strerror(-rc));
    return rc;
  }
  rc = newest_entry(dh, &re, &best);
  closedir(dh);
  regfree(&re);
  if (rc != 0)
    return rc;
  if (best == NULL) {
    ctx->svc->set_message(ctx,
                          "connection %s: setting %s: no file of %s matches "
                          "'%s'; the export is not launched",
                          c->conn, name, dir, pattern);
    return -ENOENT;
  }
  rc = asprintf(out, "%s/%s", dir, best) < 0 ? -ENOMEM : 0;
  free(best);
  if (rc != 0) {
    *out = NULL;
    return rc;
  }
  if (stat(*out, sb) != 0) { /* removed meanwhile */
    rc = -errno;
    ctx->svc->set_message(ctx, "connection %s: setting %s: %s: %s", c->conn,
                          name, *out, strerror(-rc));
    free(*out);
    *out = NULL;
  }
  return rc;
}

/* The file setting `name` (value `value`, maybe NULL) designates: 0 and
 * *out (malloc'd) and *sb, or a negative code with the message set. */
static int resolve_file(jobhost_ctx *ctx, const csv_conf *c, const char *name,
                        const char *value, int incremental, char **out,
                        struct stat *sb) {
  *out = NULL;
  if (value == NULL) {
    if (incremental)
      ctx->svc->set_message(
          ctx,
          "connection %s: a cookie from an earlier export makes this export "
          "incremental, and setting %s is not set; the export is not "
          "launched (set ignore_cookie_file: true for a complete export)",
          c->conn, name);
    else
      ctx->svc->set_message(ctx,
                            "connection %s: a complete export needs setting "
                            "%s, which is not set; the export is not launched",
                            c->conn, name);
    return JOBHOST_ECONFIG;
  }
  if (c->regex) {
    const char *slash = strrchr(value, '/');
    char *dir;
    int rc;
    if (slash == NULL)
      dir = strdup(".");
    else
      dir = strndup(value, slash == value ? 1 : (size_t)(slash - value));
    if (dir == NULL)
      return -ENOMEM;
    rc = newest_match(ctx, c, name, dir, slash ? slash + 1 : value, out, sb);
    free(dir);
    return rc;
  }
  if (stat(value, sb) != 0) {
    int rc = -errno;
    ctx->svc->set_message(ctx,
                          "connection %s: setting %s: %s: %s; the export "
                          "is not launched",
                          c->conn, name, value, strerror(-rc));
    return rc;
  }
  if (!S_ISREG(sb->st_mode)) {
    ctx->svc->set_message(ctx,
                          "connection %s: setting %s: %s is not a regular "
                          "file; the export is not launched",
                          c->conn, name, value);
    return -EINVAL;
  }
  *out = strdup(value);
  return *out != NULL ? 0 : -ENOMEM;
}

/* ---- cookie ---- */

/* The cookie describing an export of `file`: malloc'd text (caller
 * frees), NULL when out of memory. *identity points at its part that
 * names the file, its size and mtime. */
static char *make_cookie(int incremental, const char *file,
                         const struct stat *sb, const char **identity) {
  char *text = NULL;
  int n = asprintf(&text,
                   COOKIE_MAGIC "mode %s\nfile %s\nsize %jd\nmtime %jd.%09ld\n",
                   incremental ? "incremental" : "complete", file,
                   (intmax_t)sb->st_size, (intmax_t)sb->st_mtim.tv_sec,
                   (long)sb->st_mtim.tv_nsec);
  if (n < 0)
    return NULL;
  *identity = strstr(text, "\nfile ") + 1;
  return text;
}

/* Whether the previous cookie is an incremental export of the same
 * file, size and mtime. */
static int same_incremental(const void *old, size_t old_len,
                            const char *identity) {
  static const char mode[] = COOKIE_MAGIC "mode incremental\n";
  size_t id_len = strlen(identity);
  return old_len == sizeof(mode) - 1 + id_len &&
         memcmp(old, mode, sizeof(mode) - 1) == 0 &&
         memcmp((const char *)old + sizeof(mode) - 1, identity, id_len) == 0;
}

/* ---- export ---- */

/* The header's named columns: kept[i] is the field index of output
 * column i. Returns the count, or a negative code with the message. */
static int header_columns(jobhost_ctx *ctx, const csv_conf *c, jh_csv_reader *r,
                          const char *file, size_t *kept, const char **names) {
  const jh_csv_record *hdr = jh_csv_reader_header(r);
  unsigned long line = jh_csv_reader_line(r);
  size_t n = 0;

  for (size_t i = 0; i < hdr->nfields; i++) {
    if (hdr->lengths[i] == 0) {
      jobhost_info(ctx,
                   "%s:%lu: column %zu has no header: its values are "
                   "dropped",
                   file, line, i + 1);
      continue;
    }
    for (size_t j = 0; j < n; j++)
      if (strcmp(names[j], hdr->fields[i]) == 0) {
        ctx->svc->set_message(ctx,
                              "connection %s: %s:%lu: column '%s' appears "
                              "twice in the header (columns %zu and %zu)",
                              c->conn, file, line, hdr->fields[i], kept[j] + 1,
                              i + 1);
        return -EILSEQ;
      }
    kept[n] = i;
    names[n] = hdr->fields[i];
    n++;
  }
  if (n == 0) {
    ctx->svc->set_message(ctx,
                          "connection %s: %s:%lu: the header names no "
                          "column",
                          c->conn, file, line);
    return -EILSEQ;
  }
  return (int)n;
}

/* Copy every row of r into the table. Returns 0 or a negative code with
 * the message set (none for a cancel). */
static int copy_rows(jobhost_ctx *ctx, const csv_conf *c, jh_csv_reader *r,
                     const char *file, jobhost_table *table, const size_t *kept,
                     size_t nkept, size_t nheader, const char **vals) {
  const jobhost_services *svc = ctx->svc;
  const jh_csv_record *rec;
  unsigned long first_short = 0, header_line = jh_csv_reader_line(r);
  uint64_t nshort = 0;
  int rc;

  while ((rc = jh_csv_read(r, &rec)) == 1) {
    size_t nf = rec->nfields;
    if (nf < nheader && !c->pad_short_rows) {
      svc->set_message(ctx,
                       "connection %s: %s:%lu: %zu field%s where the header "
                       "(line %lu) has %zu (a row cut short, or missing "
                       "separators?); nothing is exported (setting "
                       "pad_short_rows: true pads such rows with empty "
                       "values)",
                       c->conn, file, jh_csv_reader_line(r), nf,
                       nf == 1 ? "" : "s", header_line, nheader);
      return -EILSEQ;
    }
    if (nf < nheader) {
      if (nshort++ == 0)
        first_short = jh_csv_reader_line(r);
    } else if (nf > nheader) {
      for (size_t i = nheader; i < nf; i++)
        if (rec->lengths[i] != 0) {
          svc->set_message(ctx,
                           "connection %s: %s:%lu: %zu fields where the "
                           "header (line %lu) has %zu, and field %zu is not "
                           "empty (a separator inside an unquoted value?)",
                           c->conn, file, jh_csv_reader_line(r), nf,
                           header_line, nheader, i + 1);
          return -EILSEQ;
        }
    }
    for (size_t k = 0; k < nkept; k++)
      vals[k] = kept[k] < nf ? rec->fields[kept[k]] : "";
    rc = svc->table_write(table, vals, nkept);
    if (rc != 0) {
      if (rc != JOBHOST_ECANCELLED)
        svc->set_message(ctx,
                         "connection %s: table %s: cannot write the row of "
                         "%s:%lu: %s",
                         c->conn, c->table, file, jh_csv_reader_line(r),
                         jobhost_strerror(rc));
      return rc;
    }
  }
  if (rc < 0) {
    svc->set_message(ctx, "connection %s: %s", c->conn, jh_csv_reader_error(r));
    return rc;
  }
  if (nshort > 0)
    jobhost_warning(ctx,
                    "%s: %" PRIu64 " row%s had fewer fields than the header "
                    "(first at line %lu): padded with empty values",
                    file, nshort, nshort == 1 ? "" : "s", first_short);
  return 0;
}

/* Read `file` into the table. */
static int export_file(jobhost_ctx *ctx, const csv_conf *c, const char *file) {
  const jobhost_services *svc = ctx->svc;
  jh_csv_options opt = {.separator = c->separator,
                        .skip_lines = c->skip_lines,
                        .trim = c->trim,
                        .header = 1};
  jh_csv_reader *r = NULL;
  jobhost_table *table = NULL;
  size_t *kept = NULL, nheader;
  const char **names = NULL, **vals = NULL;
  char err[600];
  int rc, n;

  rc = jh_csv_reader_open(file, &opt, &r, err, sizeof(err));
  if (rc != 0) {
    svc->set_message(ctx, "connection %s: %s", c->conn, err);
    return rc;
  }
  /* No parsing ahead here: the table writer already has a thread, and a
   * third one (on two cores) made the export slower (bench/sync). */
  nheader = jh_csv_reader_header(r)->nfields;
  kept = calloc(nheader, sizeof(*kept));
  names = calloc(nheader, sizeof(*names));
  vals = calloc(nheader, sizeof(*vals));
  if (kept == NULL || names == NULL || vals == NULL) {
    rc = -ENOMEM;
    goto out;
  }
  n = header_columns(ctx, c, r, file, kept, names);
  if (n < 0) {
    rc = n;
    goto out;
  }
  rc = svc->table_open(ctx, c->table, names, (size_t)n, &table);
  if (rc != 0) {
    if (rc != JOBHOST_ECANCELLED)
      svc->set_message(ctx, "connection %s: cannot start table %s: %s", c->conn,
                       c->table, jobhost_strerror(rc));
    goto out;
  }
  rc = copy_rows(ctx, c, r, file, table, kept, (size_t)n, nheader, vals);
  {
    int crc = svc->table_close(table);
    if (rc == 0 && crc != 0) {
      svc->set_message(ctx, "connection %s: cannot finish table %s: %s",
                       c->conn, c->table, jobhost_strerror(crc));
      rc = crc;
    }
  }
out:
  free(kept);
  free(names);
  free(vals);
  jh_csv_reader_close(r);
  return rc;
}

static int csv_export(jobhost_ctx *ctx, void *state) {
  const jobhost_services *svc = ctx->svc;
  const char *name, *value, *identity = NULL;
  const void *old = NULL;
  size_t old_len = 0;
  char *file = NULL, *cookie = NULL;
  struct stat sb;
  csv_conf c;
  int rc, incremental;
  (void)state;

  rc = read_conf(ctx, &c);
  if (rc != 0)
    return rc;
  rc = svc->cookie_get(ctx, &old, &old_len);
  if (rc != 0 && rc != -ENOENT) {
    svc->set_message(ctx, "connection %s: cannot read the export cookie: %s",
                     c.conn, jobhost_strerror(rc));
    return rc;
  }
  incremental = rc == 0;
  name = incremental ? "path_incremental" : "path";
  value = incremental ? c.path_incremental : c.path;
  rc = resolve_file(ctx, &c, name, value, incremental, &file, &sb);
  if (rc != 0)
    return rc;
  cookie = make_cookie(incremental, file, &sb, &identity);
  if (cookie == NULL) {
    free(file);
    return -ENOMEM;
  }
  if (incremental && same_incremental(old, old_len, identity))
    jobhost_warning(ctx, "%s has not changed since the last incremental export",
                    file);
  jobhost_info(ctx, "%s export from %s (setting %s) into table %s",
               incremental ? "incremental" : "complete", file, name, c.table);

  rc = export_file(ctx, &c, file);
  if (rc == 0 && c.path_incremental != NULL) {
    rc = svc->cookie_set(ctx, cookie, strlen(cookie));
    if (rc != 0)
      svc->set_message(ctx, "connection %s: cannot keep the export cookie: %s",
                       c.conn, jobhost_strerror(rc));
  }
  free(cookie);
  free(file);
  return rc;
}

static const jobhost_package csv_packages[] = {
    {.name = "csv",
     .description = "CSV file export (Identity Manager's CSV connector)",
     .settings = csv_settings_schema,
     .export_tables = csv_export},
    JOBHOST_PACKAGE_END};

JOBHOST_PLUGIN_DEFINE("csv", PACKAGE_VERSION,
                      "Connector package csv: export of CSV files", NULL,
                      csv_packages);
