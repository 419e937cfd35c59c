/*
 * ldap_conn.h — what the files of the `ldap` package share: the
 * connection (settings, connect, StartTLS, bind, the one reconnect),
 * error messages, and the export and fulfill entry points
 * (doc/ldap.md).
 */
#ifndef JH_LDAP_CONN_H
#define JH_LDAP_CONN_H

#include <stddef.h>

#include <lber.h>
#include <ldap.h>

#include <jobhost/jobhost.h>

/* The connection settings, read once by jh_ldap_open (host-owned text). */
typedef struct jh_ldap_conf {
  const char *conn;    /* connection id, for messages */
  const char *uri;     /* ldap://host:port or ldaps://host:port */
  const char *bind_dn; /* NULL: anonymous */
  int start_tls;       /* StartTLS on an ldap:// URI */
  const char *ca_file; /* NULL: the system's */
  const char *ca_dir;  /* NULL: the system's */
  int require_cert;    /* LDAP_OPT_X_TLS_NEVER...DEMAND */
  int connect_timeout; /* seconds */
  int timeout;         /* seconds, for each operation */
} jh_ldap_conf;

/* An open connection: owned by the package state between open and
 * close. */
typedef struct jh_ldap {
  jobhost_ctx *ctx;
  jh_ldap_conf conf;
  LDAP *ld; /* NULL while disconnected */
  unsigned reconnects;
} jh_ldap;

/* Read the settings, connect (StartTLS when asked) and bind. 0 and *out,
 * or a negative code with the task message set to one line naming the
 * URI. */
int jh_ldap_open(jobhost_ctx *ctx, jh_ldap **out);

/* Unbind and free; accepts NULL. */
void jh_ldap_close(jh_ldap *l);

/* Whether an LDAP result code means the connection is gone. */
int jh_ldap_is_down(int rc);

/* After an operation failed with a code jh_ldap_is_down accepts: drop
 * the connection and connect and bind again, once. 0 when the operation
 * may be retried; else a negative code with the message set. */
int jh_ldap_reconnect(jh_ldap *l);

/* The operation timeout as a struct timeval. */
struct timeval jh_ldap_timeout(const jh_ldap *l);

/* Write "what: <server's reason>" into out (one line, never a secret):
 * the result code's text, then the server's diagnostic message when it
 * gave one. */
void jh_ldap_reason(const jh_ldap *l, int rc, const char *what, char *out,
                    size_t size);

/* Set the task message to "connection <id>: <uri>: <text>" and return
 * code. */
int jh_ldap_fail(const jh_ldap *l, int code, const char *fmt, ...)
    JOBHOST_PRINTF(3, 4);

/* A negative code for an LDAP result code (-ENOTCONN for a lost
 * connection, -EACCES for refused credentials...). */
int jh_ldap_code(int rc);

/* The package's entry points, one file each. */
int jh_ldap_export(jobhost_ctx *ctx, jh_ldap *l);
int jh_ldap_fulfill(jobhost_ctx *ctx, jh_ldap *l, const jobhost_order *order,
                    char *message, size_t message_size);

/* Check the fulfill settings (attribute_map): 0, or a negative code with
 * the task message set. */
int jh_ldap_fulfill_check(jobhost_ctx *ctx, jh_ldap *l);

#endif /* JH_LDAP_CONN_H */
