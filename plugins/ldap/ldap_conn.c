/*
 * ldap_conn.c — the `ldap` package's connection: settings, connect,
 * StartTLS, simple bind with the password from the connection's secrets,
 * the one reconnect, and one-line errors that name the URI and never the
 * password (doc/ldap.md).
 *
 * The password is read from the host (the secret `password`) right
 * before each bind into a buffer on the stack, and wiped after it; it is
 * never kept in the connection state.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ldap_conn.h"

/* The largest password read from the secrets. */
#define PASSWORD_MAX 1024

struct timeval jh_ldap_timeout(const jh_ldap *l) {
  struct timeval tv = {.tv_sec = l->conf.timeout, .tv_usec = 0};
  return tv;
}

int jh_ldap_fail(const jh_ldap *l, int code, const char *fmt, ...) {
  char text[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  l->ctx->svc->set_message(l->ctx, "connection %s: %s: %s", l->conf.conn,
                           l->conf.uri != NULL ? l->conf.uri : "(no uri)",
                           text);
  return code;
}

int jh_ldap_is_down(int rc) {
  return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR ||
         rc == LDAP_UNAVAILABLE;
}

int jh_ldap_code(int rc) {
  switch (rc) {
  case LDAP_SERVER_DOWN:
  case LDAP_CONNECT_ERROR:
  case LDAP_UNAVAILABLE:
    return -ENOTCONN;
  case LDAP_TIMEOUT:
  case LDAP_TIMELIMIT_EXCEEDED:
    return -ETIMEDOUT;
  case LDAP_INVALID_CREDENTIALS:
  case LDAP_INAPPROPRIATE_AUTH:
  case LDAP_INSUFFICIENT_ACCESS:
  case LDAP_STRONG_AUTH_REQUIRED:
    return -EACCES;
  case LDAP_NO_SUCH_OBJECT:
    return -ENOENT;
  case LDAP_ALREADY_EXISTS:
    return -EEXIST;
  case LDAP_NO_MEMORY:
    return -ENOMEM;
  default:
    return -EIO;
  }
}

/* Replace line ends and other control characters by spaces. */
static void one_line(char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20)
      *s = ' ';
}

void jh_ldap_reason(const jh_ldap *l, int rc, const char *what, char *out,
                    size_t size) {
  char *diag = NULL;
  if (l->ld != NULL && ldap_get_option(l->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE,
                                       &diag) != LDAP_OPT_SUCCESS)
    diag = NULL;
  /* libldap says "(unknown error code)" when it knows no more */
  if (diag != NULL && *diag != '\0' &&
      strcmp(diag, "(unknown error code)") != 0)
    snprintf(out, size, "%s: %s (%s)", what, ldap_err2string(rc), diag);
  else
    snprintf(out, size, "%s: %s", what, ldap_err2string(rc));
  if (diag != NULL)
    ldap_memfree(diag);
  one_line(out);
}

/* ---- settings ---- */

static int int_setting(jh_ldap *l, const char *name, int def, int *out) {
  const char *v = l->ctx->svc->setting(l->ctx, name);
  char *end;
  long n;
  *out = def;
  if (v == NULL || *v == '\0')
    return 0;
  errno = 0;
  n = strtol(v, &end, 10);
  if (errno != 0 || *end != '\0' || n < 1 || n > INT_MAX)
    return jh_ldap_fail(l, JOBHOST_ECONFIG,
                        "setting %s: expected a number of seconds >= 1, "
                        "got '%s'",
                        name, v);
  *out = (int)n;
  return 0;
}

static const char *text_setting(jh_ldap *l, const char *name) {
  const char *v = l->ctx->svc->setting(l->ctx, name);
  return v != NULL && *v != '\0' ? v : NULL;
}

static int require_cert_setting(jh_ldap *l) {
  static const struct {
    const char *name;
    int value;
  } levels[] = {{"never", LDAP_OPT_X_TLS_NEVER},
                {"allow", LDAP_OPT_X_TLS_ALLOW},
                {"try", LDAP_OPT_X_TLS_TRY},
                {"demand", LDAP_OPT_X_TLS_DEMAND}};
  const char *v = text_setting(l, "tls_require_cert");
  l->conf.require_cert = LDAP_OPT_X_TLS_DEMAND;
  if (v == NULL)
    return 0;
  for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
    if (strcasecmp(v, levels[i].name) == 0) {
      l->conf.require_cert = levels[i].value;
      return 0;
    }
  return jh_ldap_fail(l, JOBHOST_ECONFIG,
                      "setting tls_require_cert: expected never, allow, try "
                      "or demand, got '%s'",
                      v);
}

static int read_settings(jh_ldap *l) {
  jh_ldap_conf *c = &l->conf;
  const char *v;
  int rc;

  c->conn = l->ctx->connection != NULL ? l->ctx->connection : "(none)";
  c->uri = text_setting(l, "uri");
  if (c->uri == NULL)
    return jh_ldap_fail(l, JOBHOST_ECONFIG, "setting uri is not set");
  if (strncasecmp(c->uri, "ldap://", 7) != 0 &&
      strncasecmp(c->uri, "ldaps://", 8) != 0)
    return jh_ldap_fail(l, JOBHOST_ECONFIG,
                        "setting uri: expected ldap://host:port or "
                        "ldaps://host:port");
  c->bind_dn = text_setting(l, "bind_dn");
  v = text_setting(l, "start_tls");
  c->start_tls = v != NULL && strcasecmp(v, "true") == 0;
  if (c->start_tls && strncasecmp(c->uri, "ldaps://", 8) == 0)
    return jh_ldap_fail(l, JOBHOST_ECONFIG,
                        "setting start_tls: an ldaps:// URI is already TLS");
  c->ca_file = text_setting(l, "tls_ca_file");
  c->ca_dir = text_setting(l, "tls_ca_dir");
  if (c->ca_file != NULL && access(c->ca_file, R_OK) != 0)
    return jh_ldap_fail(l, JOBHOST_ECONFIG, "setting tls_ca_file: %s: %s",
                        c->ca_file, strerror(errno));
  if (c->ca_dir != NULL && access(c->ca_dir, R_OK | X_OK) != 0)
    return jh_ldap_fail(l, JOBHOST_ECONFIG, "setting tls_ca_dir: %s: %s",
                        c->ca_dir, strerror(errno));
  if ((rc = require_cert_setting(l)) != 0 ||
      (rc = int_setting(l, "connect_timeout", 10, &c->connect_timeout)) != 0 ||
      (rc = int_setting(l, "timeout", 120, &c->timeout)) != 0)
    return rc;
  return 0;
}

/* ---- connect and bind ---- */

static int uses_tls(const jh_ldap *l) {
  return l->conf.start_tls || strncasecmp(l->conf.uri, "ldaps://", 8) == 0;
}

/* Options of a new handle: protocol 3, no referral chasing, the
 * timeouts, and the TLS options (a context of its own). */
static int set_options(jh_ldap *l) {
  int version = LDAP_VERSION3, zero = 0;
  struct timeval net = {.tv_sec = l->conf.connect_timeout, .tv_usec = 0};
  struct timeval op = jh_ldap_timeout(l);
  LDAP *ld = l->ld;

  if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version) ||
      ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) ||
      ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &net) ||
      ldap_set_option(ld, LDAP_OPT_TIMEOUT, &op))
    return jh_ldap_fail(l, -EIO, "cannot set the connection options");
  if (!uses_tls(l))
    return 0;
  if ((l->conf.ca_file != NULL &&
       ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, l->conf.ca_file)) ||
      (l->conf.ca_dir != NULL &&
       ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTDIR, l->conf.ca_dir)) ||
      ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &l->conf.require_cert) ||
      ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero))
    return jh_ldap_fail(l, -EIO,
                        "cannot set the TLS options (CA file or folder "
                        "unreadable?)");
  return 0;
}

/* A failure of step `what` of connecting: the message and the code. */
static int connect_failed(jh_ldap *l, int rc, const char *what) {
  char reason[768];
  jh_ldap_reason(l, rc, what, reason, sizeof(reason));
  return jh_ldap_fail(l, jh_ldap_code(rc), "%s", reason);
}

/* Simple bind as bind_dn with the secret `password` (anonymous without
 * bind_dn). */
static int do_bind(jh_ldap *l) {
  char password[PASSWORD_MAX];
  struct berval cred = {0, NULL};
  int rc;

  if (l->conf.bind_dn != NULL) {
    rc = l->ctx->svc->secret(l->ctx, "password", password, sizeof(password));
    if (rc != 0) {
      explicit_bzero(password, sizeof(password));
      return jh_ldap_fail(l, JOBHOST_ECONFIG,
                          "setting bind_dn needs the secret 'password': %s",
                          rc == -ERANGE ? "longer than 1023 bytes"
                                        : "not given or not readable");
    }
    cred.bv_val = password;
    cred.bv_len = strlen(password);
  }
  rc = ldap_sasl_bind_s(l->ld, l->conf.bind_dn, LDAP_SASL_SIMPLE, &cred, NULL,
                        NULL, NULL);
  explicit_bzero(password, sizeof(password));
  if (rc == LDAP_SUCCESS)
    return 0;
  if (rc == LDAP_INVALID_CREDENTIALS)
    return jh_ldap_fail(l, -EACCES,
                        "bind as '%s' refused: invalid credentials (check "
                        "bind_dn and the secret 'password')",
                        l->conf.bind_dn != NULL ? l->conf.bind_dn : "");
  {
    char what[512];
    snprintf(what, sizeof(what), "bind as '%s'",
             l->conf.bind_dn != NULL ? l->conf.bind_dn : "(anonymous)");
    return connect_failed(l, rc, what);
  }
}

static void drop(jh_ldap *l) {
  if (l->ld != NULL)
    ldap_unbind_ext_s(l->ld, NULL, NULL);
  l->ld = NULL;
}

/* Connect and bind: 0, or a negative code with the message set and no
 * handle left. */
static int connect_bind(jh_ldap *l) {
  int rc = ldap_initialize(&l->ld, l->conf.uri);
  if (rc != LDAP_SUCCESS) {
    l->ld = NULL;
    return jh_ldap_fail(l, JOBHOST_ECONFIG, "not a valid LDAP URI: %s",
                        ldap_err2string(rc));
  }
  rc = set_options(l);
  if (rc == 0) {
    int lrc = ldap_connect(l->ld);
    if (lrc != LDAP_SUCCESS)
      rc = connect_failed(l, lrc,
                          strncasecmp(l->conf.uri, "ldaps://", 8) == 0
                              ? "cannot connect, or the TLS handshake failed "
                                "(is the server's certificate signed by a "
                                "CA of tls_ca_file or tls_ca_dir?)"
                              : "cannot connect");
  }
  if (rc == 0 && l->conf.start_tls) {
    int lrc = ldap_start_tls_s(l->ld, NULL, NULL);
    if (lrc != LDAP_SUCCESS)
      rc = connect_failed(l, lrc,
                          "StartTLS failed (is the server's certificate "
                          "signed by a CA of tls_ca_file or tls_ca_dir?)");
  }
  if (rc == 0)
    rc = do_bind(l);
  if (rc != 0)
    drop(l);
  return rc;
}

int jh_ldap_open(jobhost_ctx *ctx, jh_ldap **out) {
  jh_ldap *l = calloc(1, sizeof(*l));
  int rc;
  *out = NULL;
  if (l == NULL) {
    ctx->svc->set_message(ctx, "out of memory");
    return -ENOMEM;
  }
  l->ctx = ctx;
  rc = read_settings(l);
  if (rc == 0)
    rc = connect_bind(l);
  if (rc != 0) {
    free(l);
    return rc;
  }
  jobhost_info(ctx, "connected to %s%s as %s", l->conf.uri,
               l->conf.start_tls ? " (StartTLS)" : "",
               l->conf.bind_dn != NULL ? l->conf.bind_dn : "anonymous");
  *out = l;
  return 0;
}

int jh_ldap_reconnect(jh_ldap *l) {
  int rc;
  drop(l);
  jobhost_warning(l->ctx, "connection to %s lost: connecting again",
                  l->conf.uri);
  rc = connect_bind(l);
  if (rc == 0) {
    l->reconnects++;
    l->ctx->svc->counter_add(l->ctx, "reconnects", 1);
  }
  return rc;
}

void jh_ldap_close(jh_ldap *l) {
  if (l == NULL)
    return;
  drop(l);
  free(l);
}
