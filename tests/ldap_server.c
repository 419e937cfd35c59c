/*
 * ldap_server.c — a slapd of the test's own (ldap_server.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "ldap_server.h"

#define SLAPD "/usr/sbin/slapd"
#define SLAPADD "/usr/sbin/slapadd"
#define OPENSSL "/usr/bin/openssl"
#define MODULE_DIR "/usr/lib/ldap"
#define SCHEMA_DIR "/etc/ldap/schema"

void jh_slapd_require(void) {
  const char *req = getenv("JOBHOST_REQUIRE_SLAPD");
  if (access(SLAPD, X_OK) == 0 && access(SLAPADD, X_OK) == 0 &&
      access(SCHEMA_DIR "/core.schema", R_OK) == 0)
    return;
  if (req != NULL && strcmp(req, "1") == 0) {
    fprintf(stderr,
            "slapd is needed (JOBHOST_REQUIRE_SLAPD=1): install the Debian "
            "packages slapd and ldap-utils (scripts/setup)\n");
    exit(1);
  }
  fprintf(stderr, "slapd is not installed (%s): test skipped\n", SLAPD);
  exit(77);
}

/* A loopback TCP port nothing listens on now. */
static int free_port(void) {
  struct sockaddr_in a;
  socklen_t len = sizeof(a);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &len) != 0)
    fail_msg("cannot find a free port: %s", strerror(errno));
  port = ntohs(a.sin_port);
  close(fd);
  return port;
}

/* Run argv; a failure fails the test with its output. */
static void run(const char *const *argv) {
  char *out = NULL, *err = NULL;
  int st = jh_test_run(argv, &out, &err);
  if (st != 0)
    fail_msg("%s exited %d: %s%s", argv[0], st, out ? out : "", err ? err : "");
  free(out);
  free(err);
}

/* A CA, and a certificate for 127.0.0.1 and localhost signed by it. */
static void make_certs(jh_slapd *s) {
  char key[PATH_MAX], csr[PATH_MAX], cakey[PATH_MAX], crt[PATH_MAX],
      ext[PATH_MAX];
  jh_test_path(cakey, sizeof(cakey), "%s/ca.key", s->dir);
  jh_test_path(s->ca_file, sizeof(s->ca_file), "%s/ca.pem", s->dir);
  jh_test_path(key, sizeof(key), "%s/server.key", s->dir);
  jh_test_path(csr, sizeof(csr), "%s/server.csr", s->dir);
  jh_test_path(crt, sizeof(crt), "%s/server.pem", s->dir);
  jh_test_path(ext, sizeof(ext), "%s/server.ext", s->dir);
  jh_test_write_file(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n", 0600);
  {
    const char *ca[] = {OPENSSL,
                        "req",
                        "-x509",
                        "-newkey",
                        "ec",
                        "-pkeyopt",
                        "ec_paramgen_curve:prime256v1",
                        "-nodes",
                        "-keyout",
                        cakey,
                        "-out",
                        s->ca_file,
                        "-days",
                        "2",
                        "-subj",
                        "/CN=jobhost test CA",
                        NULL};
    const char *req[] = {OPENSSL,
                         "req",
                         "-newkey",
                         "ec",
                         "-pkeyopt",
                         "ec_paramgen_curve:prime256v1",
                         "-nodes",
                         "-keyout",
                         key,
                         "-out",
                         csr,
                         "-subj",
                         "/CN=127.0.0.1",
                         NULL};
    const char *sign[] = {
        OPENSSL, "x509",     "-req",   "-in", csr,
        "-CA",   s->ca_file, "-CAkey", cakey, "-CAcreateserial",
        "-out",  crt,        "-days",  "2",   "-extfile",
        ext,     NULL};
    run(ca);
    run(req);
    run(sign);
  }
}

static void write_config(const jh_slapd *s) {
  char path[PATH_MAX], db[PATH_MAX], tls[3 * PATH_MAX + 128] = "";
  char *text = NULL;
  int mod = access(MODULE_DIR "/back_mdb.so", R_OK) == 0;
  jh_test_path(db, sizeof(db), "%s/db", s->dir);
  jh_test_mkdir(db);
  if (s->tls)
    snprintf(tls, sizeof(tls),
             "TLSCACertificateFile %s\nTLSCertificateFile %s/server.pem\n"
             "TLSCertificateKeyFile %s/server.key\n",
             s->ca_file, s->dir, s->dir);
  if (asprintf(&text,
               "include " SCHEMA_DIR "/core.schema\n"
               "include " SCHEMA_DIR "/cosine.schema\n"
               "include " SCHEMA_DIR "/inetorgperson.schema\n"
               "include " SCHEMA_DIR "/nis.schema\n"
               "%s"
               "pidfile %s/slapd.pid\n"
               "%s"
               "database mdb\n"
               "maxsize 1073741824\n"
               "suffix \"" JH_SLAPD_SUFFIX "\"\n"
               "rootdn \"" JH_SLAPD_ROOT_DN "\"\n"
               "rootpw " JH_SLAPD_ROOT_PW "\n"
               "directory %s\n"
               "index objectClass eq\n",
               mod ? "modulepath " MODULE_DIR "\nmoduleload back_mdb\n" : "",
               s->dir, tls, db) < 0)
    fail_msg("out of memory");
  jh_test_path(path, sizeof(path), "%s/slapd.conf", s->dir);
  jh_test_write_file(path, text, 0600);
  free(text);
}

static void slapadd(const jh_slapd *s, const char *ldif) {
  char conf[PATH_MAX];
  const char *argv[] = {SLAPADD, "-q", "-f", conf, "-l", ldif, NULL};
  jh_test_path(conf, sizeof(conf), "%s/slapd.conf", s->dir);
  run(argv);
}

static void load_base(const jh_slapd *s) {
  char path[PATH_MAX];
  jh_test_path(path, sizeof(path), "%s/base.ldif", s->dir);
  jh_test_write_file(path,
                     "dn: " JH_SLAPD_SUFFIX "\n"
                     "objectClass: dcObject\nobjectClass: organization\n"
                     "o: Example\ndc: example\n\n"
                     "dn: " JH_SLAPD_PEOPLE "\n"
                     "objectClass: organizationalUnit\nou: people\n",
                     0600);
  slapadd(s, path);
}

/* The child: slapd in the foreground, ended when the test (parent)
 * dies. */
static void exec_slapd(const jh_slapd *s, pid_t parent) {
  char conf[PATH_MAX], log[PATH_MAX], urls[160];
  int fd;
  jh_test_path(conf, sizeof(conf), "%s/slapd.conf", s->dir);
  jh_test_path(log, sizeof(log), "%s/slapd.log", s->dir);
  snprintf(urls, sizeof(urls), "ldap://127.0.0.1:%d/%s%s%s", s->port,
           s->tls ? " " : "", s->tls ? s->tls_uri : "", s->tls ? "/" : "");
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) /* the test died before prctl */
    _exit(1);
  /* appended: a restarted server's operations count with the first's */
  fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (fd >= 0) {
    dup2(fd, 1);
    dup2(fd, 2);
  }
  close_range(3, ~0U, 0);
  /* in the foreground, each operation logged (jh_slapd_count_ops) */
  execl(SLAPD, SLAPD, "-f", conf, "-h", urls, "-d", "stats", (char *)NULL);
  _exit(127);
}

/* Whether something accepts connections on the port. */
static int answers(int port) {
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
  if (fd >= 0)
    close(fd);
  return ok;
}

static void spawn(jh_slapd *s) {
  struct timespec pause = {0, 20 * 1000 * 1000};
  pid_t parent = getpid();
  int st;
  s->pid = fork();
  if (s->pid < 0)
    fail_msg("fork: %s", strerror(errno));
  if (s->pid == 0)
    exec_slapd(s, parent);
  for (int i = 0; i < 1000; i++) { /* 20 s */
    if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
      char path[PATH_MAX], *log;
      s->pid = 0;
      jh_test_path(path, sizeof(path), "%s/slapd.log", s->dir);
      log = jh_test_read_file(path);
      fail_msg("slapd exited (status %d) before it answered: %s", st, log);
    }
    if (answers(s->port) && (!s->tls || answers(s->tls_port)))
      return;
    nanosleep(&pause, NULL);
  }
  jh_slapd_stop(s);
  fail_msg("slapd did not answer on port %d within 20 s", s->port);
}

void jh_slapd_start(jh_slapd *s, const char *parent,
                    const jh_slapd_opts *opts) {
  memset(s, 0, sizeof(*s));
  jh_test_path(s->dir, sizeof(s->dir), "%s/slapd", parent);
  jh_test_mkdir(s->dir);
  s->tls = opts != NULL && opts->tls;
  s->port = free_port();
  snprintf(s->uri, sizeof(s->uri), "ldap://127.0.0.1:%d", s->port);
  if (s->tls) {
    do
      s->tls_port = free_port();
    while (s->tls_port == s->port);
    snprintf(s->tls_uri, sizeof(s->tls_uri), "ldaps://127.0.0.1:%d",
             s->tls_port);
    make_certs(s);
  }
  write_config(s);
  load_base(s);
  if (opts != NULL && opts->ldif != NULL)
    slapadd(s, opts->ldif);
  spawn(s);
}

void jh_slapd_stop(jh_slapd *s) {
  int st;
  if (s->pid <= 0)
    return;
  kill(s->pid, SIGTERM);
  for (int i = 0; i < 500; i++) { /* 10 s */
    struct timespec pause = {0, 20 * 1000 * 1000};
    if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
      s->pid = 0;
      return;
    }
    nanosleep(&pause, NULL);
  }
  kill(s->pid, SIGKILL);
  waitpid(s->pid, &st, 0);
  s->pid = 0;
}

void jh_slapd_restart(jh_slapd *s) {
  jh_slapd_stop(s);
  spawn(s);
}

LDAP *jh_slapd_connect(const jh_slapd *s) {
  LDAP *ld = NULL;
  int version = LDAP_VERSION3, rc;
  struct berval pw = {strlen(JH_SLAPD_ROOT_PW), (char *)JH_SLAPD_ROOT_PW};
  if (ldap_initialize(&ld, s->uri) != LDAP_SUCCESS)
    fail_msg("ldap_initialize %s", s->uri);
  ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
  rc = ldap_sasl_bind_s(ld, JH_SLAPD_ROOT_DN, LDAP_SASL_SIMPLE, &pw, NULL, NULL,
                        NULL);
  if (rc != LDAP_SUCCESS) {
    ldap_unbind_ext_s(ld, NULL, NULL);
    fail_msg("bind to %s: %s", s->uri, ldap_err2string(rc));
  }
  return ld;
}

void jh_slapd_add(const jh_slapd *s, const char *dn, const char *const *attrs) {
  LDAPMod mods[16], *ptrs[17];
  char *vals[16][16];
  size_t nmods = 0, nvals[16] = {0};
  LDAP *ld;
  int rc;

  for (size_t i = 0; attrs[i] != NULL && attrs[i + 1] != NULL; i += 2) {
    size_t m = 0;
    while (m < nmods && strcmp(mods[m].mod_type, attrs[i]) != 0)
      m++;
    if (m == nmods) {
      if (nmods == 16)
        fail_msg("jh_slapd_add: too many attributes");
      mods[nmods].mod_op = LDAP_MOD_ADD;
      mods[nmods].mod_type = (char *)attrs[i];
      mods[nmods].mod_values = vals[nmods];
      nmods++;
    }
    if (nvals[m] == 15)
      fail_msg("jh_slapd_add: too many values");
    vals[m][nvals[m]++] = (char *)attrs[i + 1];
    vals[m][nvals[m]] = NULL;
  }
  for (size_t m = 0; m < nmods; m++)
    ptrs[m] = &mods[m];
  ptrs[nmods] = NULL;
  ld = jh_slapd_connect(s);
  rc = ldap_add_ext_s(ld, dn, ptrs, NULL, NULL);
  ldap_unbind_ext_s(ld, NULL, NULL);
  if (rc != LDAP_SUCCESS)
    fail_msg("add %s: %s", dn, ldap_err2string(rc));
}

void jh_slapd_replace(const jh_slapd *s, const char *dn, const char *attr,
                      const char *value) {
  LDAP *ld = jh_slapd_connect(s);
  char *vals[2] = {(char *)value, NULL};
  LDAPMod mod = {.mod_op = LDAP_MOD_REPLACE,
                 .mod_type = (char *)attr,
                 .mod_values = vals};
  LDAPMod *mods[2] = {&mod, NULL};
  int rc = ldap_modify_ext_s(ld, dn, mods, NULL, NULL);
  ldap_unbind_ext_s(ld, NULL, NULL);
  if (rc != LDAP_SUCCESS)
    fail_msg("modify %s: %s", dn, ldap_err2string(rc));
}

/* Append v and a separator to *out. */
static void join(char **out, size_t *len, const struct berval *v) {
  char *p = realloc(*out, *len + v->bv_len + 2);
  if (p == NULL)
    fail_msg("out of memory");
  if (*len > 0)
    p[(*len)++] = '|';
  memcpy(p + *len, v->bv_val, v->bv_len);
  *len += v->bv_len;
  p[*len] = '\0';
  *out = p;
}

char *jh_slapd_get(const jh_slapd *s, const char *dn, const char *attr) {
  LDAP *ld = jh_slapd_connect(s);
  LDAPMessage *res = NULL, *e;
  char *attrs[2] = {(char *)attr, NULL}, *out = NULL;
  size_t len = 0;
  int rc = ldap_search_ext_s(ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs,
                             0, NULL, NULL, NULL, 0, &res);
  if (rc == LDAP_NO_SUCH_OBJECT) {
    ldap_msgfree(res);
    ldap_unbind_ext_s(ld, NULL, NULL);
    return NULL;
  }
  if (rc != LDAP_SUCCESS)
    fail_msg("search %s: %s", dn, ldap_err2string(rc));
  out = strdup("");
  e = ldap_first_entry(ld, res);
  if (e != NULL) {
    struct berval **v = ldap_get_values_len(ld, e, attr);
    for (size_t i = 0; v != NULL && v[i] != NULL; i++)
      join(&out, &len, v[i]);
    ldap_value_free_len(v);
  }
  ldap_msgfree(res);
  ldap_unbind_ext_s(ld, NULL, NULL);
  return out;
}

long jh_slapd_count_ops(const jh_slapd *s, const char *op, const char *dn) {
  char path[PATH_MAX], *log, *want = NULL;
  long n = 0;
  jh_test_path(path, sizeof(path), "%s/slapd.log", s->dir);
  log = jh_test_read_file(path);
  if (asprintf(&want, " %s dn=\"%s\"\n", op, dn) < 0)
    fail_msg("out of memory");
  for (const char *p = log; (p = strstr(p, want)) != NULL; p += strlen(want))
    n++;
  free(want);
  free(log);
  return n;
}
