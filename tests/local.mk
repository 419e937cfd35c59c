# tests/ — cmocka tests mirroring the tree, run by make check, each under
# valgrind when it is installed (tests/testwrapper.sh). The folders below
# keep their own rules; this file holds what they share.
# A test program names no flags of its own unless it needs more: the
# defaults (AM_CPPFLAGS, LDADD in Makefile.am) are these.
TEST_CPPFLAGS = $(BASE_CPPFLAGS) $(HOST_CLI_INC) -I$(top_srcdir)/tests \
	$(CMOCKA_CFLAGS) $(JANSSON_CFLAGS) $(YAML_CFLAGS) $(XML_CFLAGS) \
	$(SQLITE_CFLAGS) -DJOBHOST_PLUGINDIR='"$(plugindir)"'
TEST_LDADD = tests/libjhtest-host.la tests/libjhtest-services.la \
	tests/libjhtest.la $(HOST_LIBS) $(CMOCKA_LIBS) $(JANSSON_LIBS) \
	$(SQLITE_LIBS) $(YAML_LIBS) $(XML_LIBS)
# Tests of lib/ see lib/ and the harness only, and link nothing else.
LIB_TEST_CPPFLAGS = $(BASE_CPPFLAGS) -I$(top_srcdir)/tests $(CMOCKA_CFLAGS)
LIB_TEST_LDADD = tests/libjhtest.la lib/libjobhost-private.la $(CMOCKA_LIBS)
# Test plugins: shared modules built by make check, never installed.
TEST_PLUGIN_LDFLAGS = -module -avoid-version -shared -rpath /nowhere

# The test harness, in three convenience libraries by what they need:
# harness.[ch] nothing but cmocka (every test, the tests of lib/ too);
# harness_services.[ch], the stand-in for the host services, lib/ and the
# SDK headers (tests of plugins built without the host); harness_host.[ch]
# the host, jansson and SQLite.
check_LTLIBRARIES += tests/libjhtest.la tests/libjhtest-services.la \
	tests/libjhtest-host.la
tests_libjhtest_la_SOURCES = tests/harness.c tests/harness.h
tests_libjhtest_la_CPPFLAGS = $(LIB_TEST_CPPFLAGS)
tests_libjhtest_la_LIBADD = $(CMOCKA_LIBS)
tests_libjhtest_services_la_SOURCES = tests/harness_services.c \
	tests/harness_services.h
tests_libjhtest_services_la_CPPFLAGS = $(LIB_TEST_CPPFLAGS)
tests_libjhtest_host_la_SOURCES = tests/harness_host.c tests/harness_host.h
tests_libjhtest_host_la_CPPFLAGS = $(TEST_CPPFLAGS)

AM_TESTS_ENVIRONMENT = \
	JH_BUILTIN_PLUGIN_DIR='$(abs_top_builddir)/plugins'; \
	JH_TEST_PLUGIN_DIR='$(abs_top_builddir)/tests/plugins/bad/.libs'; \
	JH_SKELETON_SO='$(abs_top_builddir)/sdk/skeleton/.libs/skeleton.so'; \
	JH_JOBHOST='$(abs_top_builddir)/jobhost'; \
	JH_TOP_SRCDIR='$(abs_top_srcdir)'; \
	JH_TOP_BUILDDIR='$(abs_top_builddir)'; \
	VALGRIND='$(VALGRIND)'; \
	export JH_BUILTIN_PLUGIN_DIR JH_TEST_PLUGIN_DIR JH_SKELETON_SO \
	  JH_JOBHOST JH_TOP_SRCDIR JH_TOP_BUILDDIR VALGRIND;
LOG_COMPILER = $(SHELL) $(top_srcdir)/tests/testwrapper.sh
# Shell tests (.test) run as scripts, not through the valgrind wrapper.
TEST_EXTENSIONS = .test
TEST_LOG_COMPILER = $(SHELL)
EXTRA_DIST += tests/testwrapper.sh tests/valgrind.supp

include $(top_srcdir)/tests/lib/local.mk
include $(top_srcdir)/tests/host/local.mk
include $(top_srcdir)/tests/plugins/local.mk
include $(top_srcdir)/tests/sdk/local.mk
include $(top_srcdir)/tests/faults/faults.mk
include $(top_srcdir)/tests/sanitizers.mk
include $(top_srcdir)/tests/fuzz/fuzz.mk

# The allowed dependencies between areas (doc/architecture.md).
TESTS += tests/layers.test
EXTRA_DIST += tests/layers.test
# The systemd unit of `jobhost daemon` passes systemd-analyze verify.
TESTS += tests/systemd_unit.test
EXTRA_DIST += tests/systemd_unit.test
check_DATA = conf/systemd/jobhost.service
