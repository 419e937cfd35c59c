/*
 * ldap_package.c — the `ldap` connector package: an LDAP directory
 * through OpenLDAP's libldap (doc/ldap.md). Its settings, and the
 * package entry points: open connects and binds (ldap_conn.c), export
 * reads (ldap_export.c, ldap_rows.c), fulfill writes (ldap_fulfill.c).
 */
#include "config.h"

#include <jobhost/jobhost.h>

#include "ldap_conn.h"

static const char *const scopes[] = {"base", "one", "sub", NULL};
static const char *const cert_levels[] = {"never", "allow", "try", "demand",
                                          NULL};

static const jobhost_param ldap_settings_schema[] = {
    {.name = "uri",
     .type = JOBHOST_PARAM_STRING,
     .required = 1,
     .help = "The server: ldap://host:port or ldaps://host:port"},
    {.name = "bind_dn",
     .type = JOBHOST_PARAM_STRING,
     .help = "DN of the simple bind (default: anonymous); its password is "
             "the secret 'password'"},
    {.name = "password",
     .type = JOBHOST_PARAM_STRING,
     .secret = 1,
     .help = "Password of bind_dn: a secret, {file: PATH} or {env: VAR}"},
    {.name = "base",
     .type = JOBHOST_PARAM_STRING,
     .help = "Base DNs of the export, separated by ';'"},
    {.name = "filter",
     .type = JOBHOST_PARAM_STRING,
     .default_value = "(objectClass=*)",
     .help = "Search filter of the export"},
    {.name = "scope",
     .type = JOBHOST_PARAM_ENUM,
     .default_value = "sub",
     .choices = scopes,
     .help = "Search scope under each base DN"},
    {.name = "attributes",
     .type = JOBHOST_PARAM_LIST,
     .help = "Attributes exported (one column each, or a table each when "
             "multi_valued lists them); required for an export"},
    {.name = "multi_valued",
     .type = JOBHOST_PARAM_LIST,
     .help = "Attributes exported as tables <table>_<attribute> of "
             "dn,<attribute> rows"},
    {.name = "table",
     .type = JOBHOST_PARAM_STRING,
     .help = "Prefix of the table names (default: the connection id)"},
    {.name = "command_column",
     .type = JOBHOST_PARAM_STRING,
     .help = "A first column of this name in every table, each row 'merge' "
             "(for incremental prepares of type Changes; default: none)"},
    {.name = "page_size",
     .type = JOBHOST_PARAM_INT,
     .default_value = "500",
     .help = "Entries per page of the paged search (0: no paging)"},
    {.name = "start_tls",
     .type = JOBHOST_PARAM_BOOL,
     .default_value = "false",
     .help = "StartTLS on an ldap:// URI"},
    {.name = "tls_ca_file",
     .type = JOBHOST_PARAM_PATH,
     .help = "CA certificates (PEM) the server's certificate is checked "
             "against"},
    {.name = "tls_ca_dir",
     .type = JOBHOST_PARAM_PATH,
     .help = "Folder of CA certificates (hashed names)"},
    {.name = "tls_require_cert",
     .type = JOBHOST_PARAM_ENUM,
     .default_value = "demand",
     .choices = cert_levels,
     .help = "Check of the server's certificate"},
    {.name = "connect_timeout",
     .type = JOBHOST_PARAM_INT,
     .default_value = "10",
     .help = "Seconds to connect"},
    {.name = "timeout",
     .type = JOBHOST_PARAM_INT,
     .default_value = "120",
     .help = "Seconds for each operation (a page of the search, an order)"},
    {.name = "object_classes",
     .type = JOBHOST_PARAM_LIST,
     .help = "objectClass values of an added entry whose order has none"},
    {.name = "attribute_map",
     .type = JOBHOST_PARAM_LIST,
     .help = "property=attribute pairs: the attribute an order's property "
             "is written to (default: the property's name)"},
    {.name = "dn_property",
     .type = JOBHOST_PARAM_STRING,
     .default_value = "dn",
     .help = "Property of the orders holding the entry's DN"},
    JOBHOST_PARAM_END};

static int pkg_open(jobhost_ctx *ctx, void **state) {
  jh_ldap *l = NULL;
  int rc = jh_ldap_open(ctx, &l);
  if (rc == 0 && (rc = jh_ldap_fulfill_check(ctx, l)) != 0) {
    jh_ldap_close(l);
    l = NULL;
  }
  *state = l;
  return rc;
}

static void pkg_close(jobhost_ctx *ctx, void *state) {
  (void)ctx;
  jh_ldap_close(state);
}

static int pkg_export(jobhost_ctx *ctx, void *state) {
  return jh_ldap_export(ctx, state);
}

static int pkg_fulfill(jobhost_ctx *ctx, void *state,
                       const jobhost_order *order, char *message,
                       size_t message_size) {
  return jh_ldap_fulfill(ctx, state, order, message, message_size);
}

static const jobhost_package ldap_packages[] = {
    {.name = "ldap",
     .description = "An LDAP directory (paged export, fulfill by add, "
                    "modify, modrdn and delete)",
     .settings = ldap_settings_schema,
     .open = pkg_open,
     .close = pkg_close,
     .export_tables = pkg_export,
     .fulfill_order = pkg_fulfill},
    JOBHOST_PACKAGE_END};

JOBHOST_PLUGIN_DEFINE("ldap", PACKAGE_VERSION,
                      "Connector package ldap: an LDAP directory (libldap)",
                      NULL, ldap_packages);
