/*
 * ldap_server.h — a slapd of the test's own: its configuration
 * (slapd.conf, mdb backend) and database in a folder of the test, on
 * free loopback ports, never the system's slapd.
 *
 * slapd runs in the foreground as a child of the test, logging each
 * operation into slapd.log in its folder, and gets SIGTERM
 * if the test process dies (so no slapd outlives a crashed test);
 * jh_slapd_stop ends it. Under valgrind, tests/testwrapper.sh leaves
 * slapd, slapadd and openssl out of --trace-children.
 *
 * When slapd is not installed, jh_slapd_require exits 77 (the test is
 * skipped), or fails when JOBHOST_REQUIRE_SLAPD=1 (CI).
 *
 * Every helper fails the current test (cmocka fail_msg) instead of
 * returning an error.
 */
#ifndef JH_LDAP_SERVER_H
#define JH_LDAP_SERVER_H

#include <limits.h>
#include <sys/types.h>

#include <ldap.h>

/* The directory every server holds: the suffix, an organizational unit
 * for people, and the root DN with its password. */
#define JH_SLAPD_SUFFIX "dc=example,dc=org"
#define JH_SLAPD_PEOPLE "ou=people,dc=example,dc=org"
#define JH_SLAPD_ROOT_DN "cn=admin,dc=example,dc=org"
#define JH_SLAPD_ROOT_PW "s3cret-Root-Pw"

typedef struct jh_slapd_opts {
  int tls;          /* also ldaps://, StartTLS, a CA made here */
  const char *ldif; /* a file of entries slapadd loads, or NULL */
} jh_slapd_opts;

typedef struct jh_slapd {
  char dir[PATH_MAX];     /* the server's folder (config, db, log, certs) */
  pid_t pid;              /* 0 when not running */
  int port, tls_port;     /* tls_port 0 without TLS */
  char uri[64];           /* ldap://127.0.0.1:port */
  char tls_uri[64];       /* ldaps://127.0.0.1:tls_port, or "" */
  char ca_file[PATH_MAX]; /* the CA certificate (PEM), or "" */
  int tls;
} jh_slapd;

/* Exit 77 when slapd is missing, unless JOBHOST_REQUIRE_SLAPD=1 (then
 * fail). Call it first in main(). */
void jh_slapd_require(void);

/* Make the server in `parent`/slapd (a new folder), load the base
 * entries and opts->ldif, start it and wait until it answers. */
void jh_slapd_start(jh_slapd *s, const char *parent, const jh_slapd_opts *opts);

/* Stop the server (SIGTERM, then SIGKILL after 10 s) and reap it. Its
 * folder stays. Accepts a stopped server. */
void jh_slapd_stop(jh_slapd *s);

/* Start a stopped server again, same ports, same database. */
void jh_slapd_restart(jh_slapd *s);

/* A connection bound as the root DN (ldap_unbind_ext_s it). */
LDAP *jh_slapd_connect(const jh_slapd *s);

/* Add an entry: attrs is a NULL-terminated list of "name", "value"
 * pairs (a name repeated: several values). */
void jh_slapd_add(const jh_slapd *s, const char *dn, const char *const *attrs);

/* Replace attribute attr of entry dn by the one value `value`. */
void jh_slapd_replace(const jh_slapd *s, const char *dn, const char *attr,
                      const char *value);

/* How many operations `op` (ADD, MOD, MODRDN, DEL: slapd's names) on
 * entry dn (as the client wrote it) the server received since it was
 * first started, failed ones included. */
long jh_slapd_count_ops(const jh_slapd *s, const char *op, const char *dn);

/* The values of attribute `attr` of entry dn, joined by '|' in the
 * server's order (malloc'd); NULL when the entry does not exist. */
char *jh_slapd_get(const jh_slapd *s, const char *dn, const char *attr);

#endif /* JH_LDAP_SERVER_H */
