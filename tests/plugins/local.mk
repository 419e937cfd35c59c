# tests/plugins/ — the built-in plugins' tests, and the test plugins the
# host's tests load (never installed).

# Plugins the loader tests must refuse (and one it must accept). Built as
# shared modules, never installed.
check_LTLIBRARIES += \
	tests/plugins/bad/bad_magic.la tests/plugins/bad/other_major.la \
	tests/plugins/bad/newer_minor.la tests/plugins/bad/no_descriptor.la \
	tests/plugins/bad/zz_duplicate.la tests/plugins/bad/good_extra.la \
	tests/plugins/bad/ctor_crash.la tests/plugins/bad/ctor_exit.la \
	tests/plugins/bad/ctor_hang.la
tests_plugins_bad_bad_magic_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_bad_other_major_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_bad_newer_minor_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_bad_no_descriptor_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_bad_zz_duplicate_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_bad_good_extra_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_bad_ctor_crash_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_bad_ctor_exit_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_bad_ctor_hang_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

# enginetest: task types that succeed, fail, block, crash, hang, sleep,
# spam the log... (tests/plugins/engine/enginetest.c); engine tests load
# it from $JH_ENGINE_PLUGIN_DIR.
check_LTLIBRARIES += tests/plugins/engine/enginetest.la
tests_plugins_engine_enginetest_la_SOURCES = tests/plugins/engine/enginetest.c
tests_plugins_engine_enginetest_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

# xmltest: provides the csv and ldap packages (no settings) that imported
# connections name, so that they validate.
check_LTLIBRARIES += tests/plugins/xml/xmltest.la
tests_plugins_xml_xmltest_la_SOURCES = tests/plugins/xml/xmltest.c
tests_plugins_xml_xmltest_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

# readtest: SDK 1.2's read access and typed parameters
# (tests/host/test_readaccess), loaded from $JH_READ_PLUGIN_DIR.
check_LTLIBRARIES += tests/plugins/read/readtest.la
tests_plugins_read_readtest_la_SOURCES = tests/plugins/read/readtest.c
tests_plugins_read_readtest_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

AM_TESTS_ENVIRONMENT += \
	JH_READ_PLUGIN_DIR='$(abs_top_builddir)/tests/plugins/read'; \
	export JH_READ_PLUGIN_DIR; \
	JH_ENGINE_PLUGIN_DIR='$(abs_top_builddir)/tests/plugins/engine'; \
	JH_XML_PLUGIN_DIR='$(abs_top_builddir)/tests/plugins/xml'; \
	export JH_ENGINE_PLUGIN_DIR JH_XML_PLUGIN_DIR;

# The built-in plugins loaded as the host loads them, and the engine's
# test plugin on its own.
check_PROGRAMS += tests/plugins/test_builtin tests/plugins/test_enginetest
TESTS += tests/plugins/test_builtin tests/plugins/test_enginetest

# ExportTask against a stand-in services table (what the test kit cannot
# stage), ExportOutput, and the csv and ldif packages through jobhost.
check_PROGRAMS += tests/plugins/test_packages
tests_plugins_test_packages_CPPFLAGS = $(TEST_CPPFLAGS) \
	-DJH_EXPORT_TEST_DATA='"$(abs_top_srcdir)/tests/data/export"'
TESTS += tests/plugins/test_packages

# The csv and ldif packages' own tests, on the test kit (the SDK's
# libjobhost-testkit, as a plugin author's tests use it).
check_PROGRAMS += tests/plugins/test_csv_ldif
tests_plugins_test_csv_ldif_CPPFLAGS = $(TEST_CPPFLAGS) \
	-DJH_EXPORT_TEST_DATA='"$(abs_top_srcdir)/tests/data/export"'
tests_plugins_test_csv_ldif_LDADD = sdk/libjobhost-testkit.la $(LIB_TEST_LDADD)
TESTS += tests/plugins/test_csv_ldif
EXTRA_DIST += tests/data/export

check_PROGRAMS += tests/plugins/test_prepare
tests_plugins_test_prepare_SOURCES = tests/plugins/test_prepare.c \
	plugins/prepare/prepare.c plugins/prepare/collect.c \
	plugins/prepare/table.c
tests_plugins_test_prepare_CPPFLAGS = $(TEST_CPPFLAGS) \
	-I$(top_srcdir)/plugins -I$(top_srcdir)/plugins/prepare
tests_plugins_test_prepare_LDADD = tests/libjhtest-services.la \
	tests/libjhtest.la lib/libjobhost-private.la $(CMOCKA_LIBS) \
	$(JANSSON_LIBS)
TESTS += tests/plugins/test_prepare

check_PROGRAMS += tests/plugins/test_sync
TESTS += tests/plugins/test_sync
tests_plugins_test_sync_SOURCES = tests/plugins/test_sync.c \
	plugins/synchronize/syncer.c plugins/synchronize/syncer.h
tests_plugins_test_sync_CPPFLAGS = $(TEST_CPPFLAGS) \
	-I$(top_srcdir)/plugins/synchronize


# The compute plugin: the role model's decision table (pure).
check_PROGRAMS += tests/plugins/test_compute_decision
tests_plugins_test_compute_decision_SOURCES = \
	tests/plugins/test_compute_decision.c plugins/compute/decision.c \
	plugins/compute/decision.h
tests_plugins_test_compute_decision_CPPFLAGS = $(LIB_TEST_CPPFLAGS) \
	-I$(top_srcdir)/plugins/compute
tests_plugins_test_compute_decision_LDADD = $(LIB_TEST_LDADD)
TESTS += tests/plugins/test_compute_decision

# The compute plugin's four tasks on a stand-in host and a real store.
check_PROGRAMS += tests/plugins/test_compute
tests_plugins_test_compute_SOURCES = tests/plugins/test_compute.c \
	plugins/compute/compute.c plugins/compute/compute.h \
	plugins/compute/resview.c plugins/compute/expressions.c \
	plugins/compute/correlation.c plugins/compute/rolemodel.c \
	plugins/compute/decision.c plugins/compute/decision.h \
	plugins/compute/orders.c plugins/compute/order_build.c \
	plugins/compute/order_build.h plugins/compute/orders_sweep.c \
	plugins/compute/keyset.c plugins/compute/keyset.h
tests_plugins_test_compute_CPPFLAGS = $(TEST_CPPFLAGS) \
	-I$(top_srcdir)/plugins -I$(top_srcdir)/plugins/compute
tests_plugins_test_compute_LDADD = tests/libjhtest-services.la \
	tests/libjhtest.la lib/libjobhost-private.la $(CMOCKA_LIBS) \
	$(JANSSON_LIBS) $(SQLITE_LIBS)
TESTS += tests/plugins/test_compute

# The ldap package against a slapd of the test's own (tests/ldap_server.c;
# skipped without slapd unless JOBHOST_REQUIRE_SLAPD=1).
check_PROGRAMS += tests/plugins/test_ldap
TESTS += tests/plugins/test_ldap
tests_plugins_test_ldap_SOURCES = tests/plugins/test_ldap.c \
	tests/ldap_server.c tests/ldap_server.h \
	plugins/ldap/ldap_package.c plugins/ldap/ldap_conn.c \
	plugins/ldap/ldap_conn.h plugins/ldap/ldap_export.c \
	plugins/ldap/ldap_export.h plugins/ldap/ldap_rows.c \
	plugins/ldap/ldap_fulfill.c
tests_plugins_test_ldap_CPPFLAGS = $(LIB_TEST_CPPFLAGS) $(LDAP_CFLAGS) \
	$(JANSSON_CFLAGS) -I$(top_srcdir)/plugins/ldap
tests_plugins_test_ldap_LDADD = tests/libjhtest-services.la \
	tests/libjhtest.la lib/libjobhost-private.la $(CMOCKA_LIBS) \
	$(LDAP_LIBS) $(JANSSON_LIBS) $(UNISTRING_LIBS)
# The same in the jobhost program: export, prepare and synchronize of a
# directory, and a wrong password found nowhere.
check_PROGRAMS += tests/plugins/test_ldap_e2e
TESTS += tests/plugins/test_ldap_e2e
tests_plugins_test_ldap_e2e_SOURCES = tests/plugins/test_ldap_e2e.c \
	tests/ldap_server.c tests/ldap_server.h
tests_plugins_test_ldap_e2e_CPPFLAGS = $(TEST_CPPFLAGS) $(LDAP_CFLAGS)
tests_plugins_test_ldap_e2e_LDADD = $(TEST_LDADD) $(LDAP_LIBS)
# The whole job against slapd: synchronize, compute, fulfill with the
# ldap package, classify, profiles; the server down; a killed fulfillment.
check_PROGRAMS += tests/plugins/test_ldap_job
TESTS += tests/plugins/test_ldap_job
tests_plugins_test_ldap_job_SOURCES = tests/plugins/test_ldap_job.c \
	tests/ldap_server.c tests/ldap_server.h
tests_plugins_test_ldap_job_CPPFLAGS = $(TEST_CPPFLAGS) $(LDAP_CFLAGS)
tests_plugins_test_ldap_job_LDADD = $(TEST_LDADD) $(LDAP_LIBS)
# FulfillTask end to end (tests/plugins/test_fulfill.c) with the ldif
# package and the test package `counting` (tests/plugins/fulfill), which
# the test finds in $JH_FULFILL_PLUGIN_DIR.
check_LTLIBRARIES += tests/plugins/fulfill/fulfilltest.la
tests_plugins_fulfill_fulfilltest_la_SOURCES = \
	tests/plugins/fulfill/fulfilltest.c
tests_plugins_fulfill_fulfilltest_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
AM_TESTS_ENVIRONMENT += \
	JH_FULFILL_PLUGIN_DIR='$(abs_top_builddir)/tests/plugins/fulfill'; \
	export JH_FULFILL_PLUGIN_DIR;
check_PROGRAMS += tests/plugins/test_fulfill
TESTS += tests/plugins/test_fulfill
