# tests/ — cmocka tests mirroring the tree, run by make check, each under
# valgrind when it is installed (tests/testwrapper.sh).
TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/host -I$(top_srcdir)/tests \
	-DJOBHOST_PLUGINDIR='"$(plugindir)"'
TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)

check_LTLIBRARIES += tests/libjhtest.la
tests_libjhtest_la_SOURCES = tests/testutil.c tests/testutil.h
tests_libjhtest_la_CPPFLAGS = $(TEST_CPPFLAGS)
tests_libjhtest_la_CFLAGS = $(TEST_CFLAGS)
tests_libjhtest_la_LIBADD = $(CMOCKA_LIBS)

# Plugins the loader tests must refuse (and one it must accept). Built as
# shared modules, never installed.
TEST_PLUGIN_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
check_LTLIBRARIES += \
	tests/plugins/bad/bad_magic.la tests/plugins/bad/other_major.la \
	tests/plugins/bad/newer_minor.la tests/plugins/bad/no_descriptor.la \
	tests/plugins/bad/zz_duplicate.la tests/plugins/bad/good_extra.la \
	tests/plugins/bad/ctor_crash.la tests/plugins/bad/ctor_exit.la \
	tests/plugins/bad/ctor_hang.la
tests_plugins_bad_bad_magic_la_SOURCES = tests/plugins/bad/bad_magic.c
tests_plugins_bad_bad_magic_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_bad_other_major_la_SOURCES = tests/plugins/bad/other_major.c
tests_plugins_bad_other_major_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_bad_newer_minor_la_SOURCES = tests/plugins/bad/newer_minor.c
tests_plugins_bad_newer_minor_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_bad_no_descriptor_la_SOURCES = tests/plugins/bad/no_descriptor.c
tests_plugins_bad_no_descriptor_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_bad_zz_duplicate_la_SOURCES = tests/plugins/bad/zz_duplicate.c
tests_plugins_bad_zz_duplicate_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_bad_good_extra_la_SOURCES = tests/plugins/bad/good_extra.c
tests_plugins_bad_good_extra_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_bad_ctor_crash_la_SOURCES = tests/plugins/bad/ctor_crash.c
tests_plugins_bad_ctor_crash_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_bad_ctor_exit_la_SOURCES = tests/plugins/bad/ctor_exit.c
tests_plugins_bad_ctor_exit_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_bad_ctor_hang_la_SOURCES = tests/plugins/bad/ctor_hang.c
tests_plugins_bad_ctor_hang_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

TEST_LDADD = tests/libjhtest.la host/libjobhost-host.la $(CMOCKA_LIBS) \
	$(JANSSON_LIBS)

check_PROGRAMS += tests/host/test_loader tests/host/test_cli \
	tests/plugins/test_builtin
tests_host_test_loader_SOURCES = tests/host/test_loader.c
tests_host_test_loader_CPPFLAGS = $(TEST_CPPFLAGS)
tests_host_test_loader_CFLAGS = $(TEST_CFLAGS)
tests_host_test_loader_LDADD = $(TEST_LDADD)
tests_host_test_cli_SOURCES = tests/host/test_cli.c
tests_host_test_cli_CPPFLAGS = $(TEST_CPPFLAGS)
tests_host_test_cli_CFLAGS = $(TEST_CFLAGS)
tests_host_test_cli_LDADD = $(TEST_LDADD)
tests_plugins_test_builtin_SOURCES = tests/plugins/test_builtin.c
tests_plugins_test_builtin_CPPFLAGS = $(TEST_CPPFLAGS)
tests_plugins_test_builtin_CFLAGS = $(TEST_CFLAGS)
tests_plugins_test_builtin_LDADD = $(TEST_LDADD)

TESTS += tests/host/test_loader tests/host/test_cli tests/plugins/test_builtin

AM_TESTS_ENVIRONMENT = \
	JH_BUILTIN_PLUGIN_DIR='$(abs_top_builddir)/plugins'; \
	JH_TEST_PLUGIN_DIR='$(abs_top_builddir)/tests/plugins/bad/.libs'; \
	JH_SKELETON_SO='$(abs_top_builddir)/sdk/skeleton/.libs/skeleton.so'; \
	JH_JOBHOST='$(abs_top_builddir)/jobhost'; \
	JH_TOP_SRCDIR='$(abs_top_srcdir)'; \
	VALGRIND='$(VALGRIND)'; \
	export JH_BUILTIN_PLUGIN_DIR JH_TEST_PLUGIN_DIR JH_SKELETON_SO \
	  JH_JOBHOST JH_TOP_SRCDIR VALGRIND;
LOG_COMPILER = $(SHELL) $(top_srcdir)/tests/testwrapper.sh
EXTRA_DIST += tests/testwrapper.sh tests/valgrind.supp
