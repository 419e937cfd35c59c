# plugins/ — the built-in plugins, one libtool module each, installed to
# $(plugindir).
PLUGIN_CPPFLAGS = $(BASE_CPPFLAGS) -I$(top_srcdir)/plugins
BUILTIN_PLUGINS = export prepare synchronize compute fulfill classify profiles \
	csv ldif ldap

plugin_LTLIBRARIES += \
	plugins/export.la plugins/prepare.la plugins/synchronize.la \
	plugins/compute.la plugins/fulfill.la plugins/classify.la \
	plugins/profiles.la
EXTRA_DIST += plugins/builtin.h

plugins_export_la_SOURCES = plugins/export/export.c
plugins_export_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_export_la_LDFLAGS = $(PLUGIN_LDFLAGS)

plugins_prepare_la_SOURCES = plugins/prepare/prepare.c \
	plugins/prepare/collect.c plugins/prepare/collect.h \
	plugins/prepare/table.c plugins/prepare/table.h
plugins_prepare_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) $(SQLITE_CFLAGS)
plugins_prepare_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
plugins_prepare_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_prepare_la_LIBADD = lib/libjobhost-private.la $(JANSSON_LIBS)

plugins_synchronize_la_SOURCES = plugins/synchronize/synchronize.c \
	plugins/synchronize/syncer.c plugins/synchronize/syncer.h
plugins_synchronize_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) $(SQLITE_CFLAGS) \
	$(JANSSON_CFLAGS)
plugins_synchronize_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_synchronize_la_LIBADD = lib/libjobhost-private.la $(SQLITE_LIBS) \
	$(JANSSON_LIBS)

plugins_compute_la_SOURCES = plugins/compute/compute.c \
	plugins/compute/compute.h plugins/compute/resview.c \
	plugins/compute/expressions.c plugins/compute/correlation.c \
	plugins/compute/rolemodel.c plugins/compute/decision.c \
	plugins/compute/decision.h plugins/compute/orders.c \
	plugins/compute/order_build.c plugins/compute/order_build.h \
	plugins/compute/orders_sweep.c plugins/compute/keyset.c \
	plugins/compute/keyset.h
plugins_compute_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) $(SQLITE_CFLAGS) \
	$(JANSSON_CFLAGS)
plugins_compute_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_compute_la_LIBADD = lib/libjobhost-private.la $(SQLITE_LIBS) \
	$(JANSSON_LIBS)

plugins_fulfill_la_SOURCES = plugins/fulfill/fulfill.c \
	plugins/fulfill/fulfill.h plugins/fulfill/journal.c \
	plugins/fulfill/order.c
plugins_fulfill_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) $(SQLITE_CFLAGS) \
	$(JANSSON_CFLAGS)
plugins_fulfill_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_fulfill_la_LIBADD = lib/libjobhost-private.la $(SQLITE_LIBS) \
	$(JANSSON_LIBS)

# classify and profiles evaluate rules through the compute plugin's
# resource view (resview.c and its keyset.c, built into each of them too).
RULES_TASK_SOURCES = plugins/classify/rules_task.c \
	plugins/classify/rules_task.h plugins/compute/resview.c \
	plugins/compute/keyset.c plugins/compute/keyset.h
RULES_TASK_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/plugins/compute \
	$(SQLITE_CFLAGS) $(JANSSON_CFLAGS)

plugins_classify_la_SOURCES = plugins/classify/classify.c \
	$(RULES_TASK_SOURCES)
plugins_classify_la_CPPFLAGS = $(RULES_TASK_CPPFLAGS)
plugins_classify_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_classify_la_LIBADD = lib/libjobhost-private.la $(SQLITE_LIBS) \
	$(JANSSON_LIBS)

plugins_profiles_la_SOURCES = plugins/profiles/profiles.c \
	$(RULES_TASK_SOURCES)
plugins_profiles_la_CPPFLAGS = $(RULES_TASK_CPPFLAGS) \
	-I$(top_srcdir)/plugins/classify
plugins_profiles_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_profiles_la_LIBADD = lib/libjobhost-private.la $(SQLITE_LIBS) \
	$(JANSSON_LIBS)

# The connector packages, installed beside the built-in plugins.
plugin_LTLIBRARIES += plugins/csv.la plugins/ldif.la

plugins_csv_la_SOURCES = plugins/csv/csv_package.c
plugins_csv_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_csv_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_csv_la_LIBADD = lib/libjobhost-private.la

plugins_ldif_la_SOURCES = plugins/ldif/ldif_package.c \
	plugins/ldif/ldif_fulfill.c plugins/ldif/ldif.h
plugins_ldif_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_ldif_la_CFLAGS = $(AM_CFLAGS) $(LDAP_CFLAGS)
plugins_ldif_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_ldif_la_LIBADD = lib/libjobhost-private.la $(LDAP_LIBS)

# The ldap package: the one plugin that links libldap to reach a server.
plugin_LTLIBRARIES += plugins/ldap.la
plugins_ldap_la_SOURCES = plugins/ldap/ldap_package.c \
	plugins/ldap/ldap_conn.c plugins/ldap/ldap_conn.h \
	plugins/ldap/ldap_export.c plugins/ldap/ldap_export.h \
	plugins/ldap/ldap_rows.c plugins/ldap/ldap_fulfill.c
plugins_ldap_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_ldap_la_CFLAGS = $(AM_CFLAGS) $(LDAP_CFLAGS) $(JANSSON_CFLAGS)
plugins_ldap_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_ldap_la_LIBADD = $(LDAP_LIBS) $(JANSSON_LIBS) $(UNISTRING_LIBS)


# Installed plugins need no libtool archive: the loader opens the .so.
install-data-hook: remove-plugin-la
remove-plugin-la:
	for p in $(BUILTIN_PLUGINS); do rm -f "$(DESTDIR)$(plugindir)/$$p.la"; done
uninstall-hook:
	for p in $(BUILTIN_PLUGINS); do rm -f "$(DESTDIR)$(plugindir)/$$p.so"; done
.PHONY: remove-plugin-la
