/*
 * xmltest.c — a test plugin (never installed) that provides the connector
 * packages the XML import maps Identity Manager packages to (csv, ldap),
 * with no settings, so that imported connections can be validated before
 * and independently of the real connector plugins.
 */
#include <jobhost/jobhost.h>

static int export_nothing(jobhost_ctx *ctx, void *state) {
  (void)ctx;
  (void)state;
  return 0;
}

static const jobhost_package xmltest_packages[] = {
    {.name = "csv",
     .description = "Stands for csv in the XML import tests",
     .export_tables = export_nothing},
    {.name = "ldap",
     .description = "Stands for ldap in the XML import tests",
     .export_tables = export_nothing},
    JOBHOST_PACKAGE_END};

JOBHOST_PLUGIN_DEFINE("xmltest", "1.0.0",
                      "Packages for the XML import tests (not installed)", NULL,
                      xmltest_packages);
