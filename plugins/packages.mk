# plugins/packages.mk — the connector packages csv and ldif (one libtool
# module each, installed beside the built-in plugins), the host's
# ExportOutput bookkeeping they rely on, and their tests.
plugin_LTLIBRARIES += plugins/csv.la plugins/ldif.la

plugins_csv_la_SOURCES = plugins/csv/csv_package.c
plugins_csv_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_csv_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_csv_la_LIBADD = lib/libjobhost-private.la

plugins_ldif_la_SOURCES = plugins/ldif/ldif_package.c
plugins_ldif_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_ldif_la_CFLAGS = $(AM_CFLAGS) $(LDAP_CFLAGS)
plugins_ldif_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_ldif_la_LIBADD = $(LDAP_LIBS)
EXTRA_DIST += doc/packages.md

# ExportOutput/<connection>.tables (doc/synchronization.md).
host_libjobhost_host_la_SOURCES += host/export_output.c host/export_output.h

include $(top_srcdir)/tests/packages.mk
