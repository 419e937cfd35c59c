/*
 * ldap_export.c — the `ldap` package's export: a paged search (RFC 2696)
 * of each base DN, written as tables by ldap_rows.c, and the incremental
 * cookie (doc/ldap.md).
 *
 * Incremental mechanism: the latest modifyTimestamp of the entries an
 * export read is its cookie. With a cookie, the filter becomes
 * (&<filter>(modifyTimestamp>=<cookie>)): entries changed in the same
 * second as the latest one seen are read again (at least once, never
 * lost). The cookie also holds a digest of the query (base DNs, filter,
 * scope, attributes); a cookie of another query makes the export
 * complete. Deletions are not seen by an incremental export.
 *
 * A connection lost during the search of a base DN is connected again
 * once and the search of that base started again (a paged search cannot
 * go on over a new connection); the entries already written from it are
 * skipped, known by their DN. Lost a second time, the export fails and
 * nothing of it is kept.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ldap_export.h"

#define COOKIE_MAGIC "jobhost-ldap-cookie 1\n"
/* Entries between two cancel checks and progress reports. */
#define ENTRIES_PER_CHECK 512u

typedef struct query {
  char *bases_text; /* copy of setting base, cut into bases */
  char **bases;
  size_t nbases;
  const char *filter; /* the setting */
  char *effective;    /* filter sent: with the cookie's clause */
  int scope;
  int page_size;
  char digest[17];
  char since[64]; /* the cookie's timestamp, or "" */
} query;

/* ---- settings ---- */

static const char *setting(jh_ldap_job *x, const char *name) {
  const char *v = x->ctx->svc->setting(x->ctx, name);
  return v != NULL && *v != '\0' ? v : NULL;
}

/* An attribute description: a name or an OID, options after ';'. */
static int valid_attr(const char *s) {
  if (!isalnum((unsigned char)*s))
    return 0;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '-' && *s != ';' && *s != '.')
      return 0;
  return 1;
}

static jh_ldap_attr *attr_named(jh_ldap_job *x, const char *name) {
  for (size_t i = 0; i < x->nattrs; i++)
    if (strcasecmp(x->attrs[i].name, name) == 0)
      return &x->attrs[i];
  return NULL;
}

/* Cut the list text `text` (items separated by commas or blanks, as the
 * host joins a list setting) into attributes; `multi` marks them. */
static int add_attrs(jh_ldap_job *x, const char *setting_name, char *text,
                     int multi) {
  char *save = NULL;
  for (char *item = strtok_r(text, ", \t\n", &save); item != NULL;
       item = strtok_r(NULL, ", \t\n", &save)) {
    jh_ldap_attr *a = attr_named(x, item);
    if (strcasecmp(item, "dn") == 0 || !valid_attr(item))
      return jh_ldap_fail(x->l, JOBHOST_ECONFIG,
                          "setting %s: '%s' is not an attribute name",
                          setting_name, item);
    if (a == NULL) {
      a = &x->attrs[x->nattrs++];
      a->name = item;
    } else if (!multi) {
      return jh_ldap_fail(x->l, JOBHOST_ECONFIG,
                          "setting %s: attribute '%s' is listed twice",
                          setting_name, item);
    }
    if (multi && strcasecmp(item, "entries") == 0)
      return jh_ldap_fail(x->l, JOBHOST_ECONFIG,
                          "setting multi_valued: attribute 'entries' would "
                          "be exported as table %s_entries, the name of the "
                          "entries table",
                          x->prefix);
    a->multi |= multi;
  }
  return 0;
}

/* attributes (required) and multi_valued (added when not listed). */
static int read_attrs(jh_ldap_job *x) {
  const char *attrs = setting(x, "attributes");
  const char *multi = setting(x, "multi_valued");
  size_t len;
  int rc;

  if (attrs == NULL)
    return jh_ldap_fail(x->l, JOBHOST_ECONFIG,
                        "setting attributes is not set: list the "
                        "attributes to export");
  len = strlen(attrs) + 1 + (multi != NULL ? strlen(multi) + 1 : 0);
  x->names = malloc(len);
  x->attrs = calloc(len / 2 + 1, sizeof(*x->attrs));
  if (x->names == NULL || x->attrs == NULL)
    return jh_ldap_fail(x->l, -ENOMEM, "out of memory");
  strcpy(x->names, attrs);
  rc = add_attrs(x, "attributes", x->names, 0);
  if (rc == 0 && multi != NULL) {
    char *m = x->names + strlen(attrs) + 1;
    strcpy(m, multi);
    rc = add_attrs(x, "multi_valued", m, 1);
  }
  if (rc == 0 && x->nattrs == 0)
    rc = jh_ldap_fail(x->l, JOBHOST_ECONFIG,
                      "setting attributes: no attribute listed");
  return rc;
}

/* The attributes asked for: the setting's, and modifyTimestamp. */
static int make_request(jh_ldap_job *x) {
  size_t n = 0;
  x->request = calloc(x->nattrs + 2, sizeof(*x->request));
  if (x->request == NULL)
    return jh_ldap_fail(x->l, -ENOMEM, "out of memory");
  for (size_t i = 0; i < x->nattrs; i++)
    x->request[n++] = (char *)x->attrs[i].name;
  if (attr_named(x, "modifyTimestamp") == NULL)
    x->request[n++] = (char *)"modifyTimestamp";
  return 0;
}

/* Setting base: DNs separated by ';' (a ';' inside a DN is written
 * "\;"), blanks around each trimmed. */
static int read_bases(jh_ldap_job *x, query *q) {
  const char *v = setting(x, "base");
  char *p, *start;
  if (v == NULL)
    return jh_ldap_fail(x->l, JOBHOST_ECONFIG, "setting base is not set");
  q->bases_text = strdup(v);
  q->bases = calloc(strlen(v) / 2 + 2, sizeof(*q->bases));
  if (q->bases_text == NULL || q->bases == NULL)
    return jh_ldap_fail(x->l, -ENOMEM, "out of memory");
  for (p = start = q->bases_text;; p++) {
    if (*p == '\\' && p[1] != '\0') {
      p++;
      continue;
    }
    if (*p == ';' || *p == '\0') {
      char *end = p, done = *p == '\0';
      *p = '\0';
      while (isspace((unsigned char)*start))
        start++;
      while (end > start && isspace((unsigned char)end[-1]))
        *--end = '\0';
      if (*start != '\0')
        q->bases[q->nbases++] = start;
      if (done)
        break;
      start = p + 1;
    }
  }
  if (q->nbases == 0)
    return jh_ldap_fail(x->l, JOBHOST_ECONFIG,
                        "setting base: no DN given (DNs are separated by ';')");
  return 0;
}

static int read_query(jh_ldap_job *x, query *q) {
  const char *scope = setting(x, "scope"), *ps = setting(x, "page_size");
  int rc = read_bases(x, q);
  if (rc != 0)
    return rc;
  q->filter = setting(x, "filter");
  if (q->filter == NULL)
    q->filter = "(objectClass=*)";
  q->scope = LDAP_SCOPE_SUBTREE;
  if (scope != NULL && strcasecmp(scope, "base") == 0)
    q->scope = LDAP_SCOPE_BASE;
  else if (scope != NULL && strcasecmp(scope, "one") == 0)
    q->scope = LDAP_SCOPE_ONELEVEL;
  else if (scope != NULL && strcasecmp(scope, "sub") != 0)
    return jh_ldap_fail(x->l, JOBHOST_ECONFIG,
                        "setting scope: expected base, one or sub, got '%s'",
                        scope);
  q->page_size = 500;
  if (ps != NULL) {
    char *end;
    long n;
    errno = 0;
    n = strtol(ps, &end, 10);
    if (errno != 0 || *end != '\0' || n < 0 || n > INT_MAX)
      return jh_ldap_fail(x->l, JOBHOST_ECONFIG,
                          "setting page_size: expected a number >= 0 (0: no "
                          "paging), got '%s'",
                          ps);
    q->page_size = (int)n;
  }
  return 0;
}

/* ---- cookie ---- */

static void hash_text(uint64_t *h, const char *s) {
  for (; *s; s++) {
    *h ^= (unsigned char)*s;
    *h *= 1099511628211u;
  }
  *h ^= 0xff; /* a separator no text holds */
  *h *= 1099511628211u;
}

/* The digest of what the export reads: bases, filter, scope, columns. */
static void query_digest(const jh_ldap_job *x, query *q) {
  uint64_t h = 1469598103934665603u;
  char scope[16];
  for (size_t i = 0; i < q->nbases; i++)
    hash_text(&h, q->bases[i]);
  hash_text(&h, q->filter);
  snprintf(scope, sizeof(scope), "%d", q->scope);
  hash_text(&h, scope);
  for (size_t i = 0; i < x->nattrs; i++) {
    hash_text(&h, x->attrs[i].name);
    hash_text(&h, x->attrs[i].multi ? "m" : "s");
  }
  snprintf(q->digest, sizeof(q->digest), "%016" PRIx64, h);
}

/* The timestamp of a cookie of this query into q->since, else "". */
static int read_cookie(jh_ldap_job *x, query *q) {
  const void *data;
  size_t size;
  char text[256], digest[17], since[64];
  int rc = x->ctx->svc->cookie_get(x->ctx, &data, &size);

  q->since[0] = '\0';
  if (rc == -ENOENT)
    return 0;
  if (rc != 0)
    return jh_ldap_fail(x->l, rc, "cannot read the export cookie: %s",
                        jobhost_strerror(rc));
  if (size >= sizeof(text) || size < strlen(COOKIE_MAGIC) ||
      memcmp(data, COOKIE_MAGIC, strlen(COOKIE_MAGIC)) != 0) {
    jobhost_warning(x->ctx, "the export cookie is not an ldap cookie: the "
                            "export is complete");
    return 0;
  }
  memcpy(text, data, size);
  text[size] = '\0';
  if (sscanf(text + strlen(COOKIE_MAGIC), "query %16s\nmodify_timestamp %63s",
             digest, since) != 2 ||
      strcmp(digest, q->digest) != 0) {
    jobhost_info(x->ctx, "the export cookie is of another query (base, "
                         "filter, scope or attributes changed): the export "
                         "is complete");
    return 0;
  }
  for (const char *s = since; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '.' && *s != '+' && *s != '-')
      return 0;
  snprintf(q->since, sizeof(q->since), "%s", since);
  return 0;
}

static int write_cookie(jh_ldap_job *x, const query *q) {
  const char *t = x->max_time[0] != '\0' ? x->max_time : q->since;
  char text[256];
  int n, rc;
  if (t[0] == '\0')
    return 0; /* no timestamp seen: the next export is complete too */
  n = snprintf(text, sizeof(text), "%squery %s\nmodify_timestamp %s\n",
               COOKIE_MAGIC, q->digest, t);
  rc = x->ctx->svc->cookie_set(x->ctx, text, (size_t)n);
  if (rc != 0)
    return jh_ldap_fail(x->l, rc, "cannot keep the export cookie: %s",
                        jobhost_strerror(rc));
  return 0;
}

/* The filter sent: the setting's, restricted by the cookie. */
static int effective_filter(jh_ldap_job *x, query *q) {
  const char *f = q->filter;
  int paren = f[0] == '(';
  int n;
  if (q->since[0] == '\0')
    n = asprintf(&q->effective, "%s%s%s", paren ? "" : "(", f,
                 paren ? "" : ")");
  else
    n = asprintf(&q->effective, "(&%s%s%s(modifyTimestamp>=%s))",
                 paren ? "" : "(", f, paren ? "" : ")", q->since);
  if (n < 0) {
    q->effective = NULL;
    return jh_ldap_fail(x->l, -ENOMEM, "out of memory");
  }
  return 0;
}

/* ---- the search ---- */

typedef struct page_state {
  struct berval cookie; /* the server's paging cookie, owned */
  uint64_t entries;     /* read from this base */
  int retried;
} page_state;

/* Send one page's search: the result in *res (rc is LDAP's). */
static int search_page(jh_ldap_job *x, const query *q, const char *base,
                       page_state *ps, LDAPMessage **res) {
  LDAPControl *pc = NULL, *ctrls[2] = {NULL, NULL};
  struct timeval tv = jh_ldap_timeout(x->l);
  int rc;

  *res = NULL;
  if (q->page_size > 0) {
    rc = ldap_create_page_control(x->l->ld, q->page_size, &ps->cookie, 0, &pc);
    if (rc != LDAP_SUCCESS)
      return rc;
    ctrls[0] = pc;
  }
  rc = ldap_search_ext_s(x->l->ld, base, q->scope, q->effective, x->request, 0,
                         pc != NULL ? ctrls : NULL, NULL, &tv, LDAP_NO_LIMIT,
                         res);
  if (pc != NULL)
    ldap_control_free(pc);
  return rc;
}

/* The entries of one page, then the paging cookie of the next. */
static int take_page(jh_ldap_job *x, const char *base, page_state *ps,
                     LDAPMessage *res) {
  LDAPControl **sctrls = NULL, *pr;
  int err = LDAP_SUCCESS, rc;

  for (LDAPMessage *e = ldap_first_entry(x->l->ld, res); e != NULL;
       e = ldap_next_entry(x->l->ld, e)) {
    rc = jh_ldap_rows_write(x, e);
    if (rc == 1)
      continue; /* written before the reconnect */
    if (rc != 0)
      return rc;
    ps->entries++;
    if (++x->nentries % ENTRIES_PER_CHECK == 0) {
      x->ctx->svc->progress(x->ctx, x->nentries, 0);
      if (x->ctx->svc->is_cancelled(x->ctx))
        return JOBHOST_ECANCELLED;
    }
  }
  rc = ldap_parse_result(x->l->ld, res, &err, NULL, NULL, NULL, &sctrls, 0);
  if (rc == LDAP_SUCCESS && err != LDAP_SUCCESS)
    rc = err;
  ber_memfree(ps->cookie.bv_val);
  ps->cookie.bv_val = NULL;
  ps->cookie.bv_len = 0;
  pr = rc == LDAP_SUCCESS
           ? ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, sctrls, NULL)
           : NULL;
  if (pr != NULL) {
    ber_int_t estimate;
    if (ldap_parse_pageresponse_control(x->l->ld, pr, &estimate, &ps->cookie) !=
        LDAP_SUCCESS)
      rc = LDAP_DECODING_ERROR;
  }
  ldap_controls_free(sctrls);
  if (rc != LDAP_SUCCESS) {
    char what[600], reason[768];
    snprintf(what, sizeof(what), "search of base '%s'", base);
    jh_ldap_reason(x->l, rc, what, reason, sizeof(reason));
    return jh_ldap_fail(x->l, jh_ldap_code(rc), "%s", reason);
  }
  return 0;
}

/* Search one base DN, page after page. */
static int search_base(jh_ldap_job *x, const query *q, const char *base) {
  page_state ps;
  int rc = 0;

  memset(&ps, 0, sizeof(ps));
  jh_ldap_rows_new_base(x);
  for (;;) {
    LDAPMessage *res = NULL;
    int lrc = search_page(x, q, base, &ps, &res);
    if (jh_ldap_is_down(lrc) && !ps.retried) {
      ldap_msgfree(res);
      ps.retried = 1;
      ber_memfree(ps.cookie.bv_val); /* paging starts again */
      ps.cookie.bv_val = NULL;
      ps.cookie.bv_len = 0;
      if (ps.entries > 0)
        jobhost_info(x->ctx,
                     "the search of base '%s' starts again after %" PRIu64
                     " entries: those are skipped",
                     base, ps.entries);
      x->resumed = ps.entries > 0;
      rc = jh_ldap_reconnect(x->l);
      if (rc != 0)
        break;
      continue;
    }
    if (res == NULL || jh_ldap_is_down(lrc)) {
      char what[600], reason[768];
      ldap_msgfree(res);
      snprintf(what, sizeof(what), "search of base '%s'", base);
      jh_ldap_reason(x->l, lrc, what, reason, sizeof(reason));
      rc = jh_ldap_fail(x->l, jh_ldap_code(lrc), "%s%s", reason,
                        ps.retried ? " (after one reconnect)" : "");
      break;
    }
    rc = take_page(x, base, &ps, res);
    ldap_msgfree(res);
    x->ctx->svc->counter_add(x->ctx, "pages", 1);
    if (rc != 0 || ps.cookie.bv_len == 0)
      break;
  }
  ber_memfree(ps.cookie.bv_val);
  return rc;
}

static void query_free(query *q) {
  free(q->bases_text);
  free(q->bases);
  free(q->effective);
}

static int run(jh_ldap_job *x, query *q) {
  int rc = read_attrs(x);
  if (rc == 0)
    rc = make_request(x);
  if (rc == 0)
    rc = read_query(x, q);
  if (rc != 0)
    return rc;
  query_digest(x, q);
  if ((rc = read_cookie(x, q)) != 0 || (rc = effective_filter(x, q)) != 0)
    return rc;
  if (q->since[0] != '\0')
    jobhost_info(x->ctx,
                 "incremental export of the entries modified since %s "
                 "into tables %s_*",
                 q->since, x->prefix);
  else
    jobhost_info(x->ctx, "complete export into tables %s_*", x->prefix);
  rc = jh_ldap_rows_open(x);
  for (size_t i = 0; rc == 0 && i < q->nbases; i++)
    rc = search_base(x, q, q->bases[i]);
  rc = jh_ldap_rows_close(x, rc);
  if (rc == 0) {
    x->ctx->svc->progress(x->ctx, x->nentries, x->nentries);
    x->ctx->svc->counter_add(x->ctx, "entries", (int64_t)x->nentries);
    rc = write_cookie(x, q);
  }
  return rc;
}

int jh_ldap_export(jobhost_ctx *ctx, jh_ldap *l) {
  jh_ldap_job x;
  query q;
  const char *prefix;
  int rc;

  memset(&x, 0, sizeof(x));
  memset(&q, 0, sizeof(q));
  x.ctx = ctx;
  x.l = l;
  prefix = setting(&x, "table");
  x.prefix = prefix != NULL ? prefix : ctx->connection;
  x.command = setting(&x, "command_column");
  if (x.prefix == NULL || x.prefix[0] == '.' || strchr(x.prefix, '/') != NULL)
    return jh_ldap_fail(l, JOBHOST_ECONFIG,
                        "setting table: expected a table name prefix (no "
                        "'/', not starting with '.'), got '%s'",
                        x.prefix != NULL ? x.prefix : "");
  rc = run(&x, &q);
  if (rc != 0)
    (void)jh_ldap_rows_close(&x, rc);
  jh_ldap_rows_free(&x);
  query_free(&q);
  free(x.request);
  free(x.attrs);
  free(x.names);
  return rc;
}
