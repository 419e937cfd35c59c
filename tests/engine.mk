# tests/engine.mk — the engine's test plugin, its unit test and the engine
# benchmark. See Makefile.am; owned by one area of the code.

# enginetest: task types that succeed, fail, block, crash, hang, sleep,
# spam the log... (tests/plugins/engine/enginetest.c). A libtool module
# built by make check and never installed; engine tests load it from
# $JH_ENGINE_PLUGIN_DIR.
check_LTLIBRARIES += tests/plugins/engine/enginetest.la
tests_plugins_engine_enginetest_la_SOURCES = tests/plugins/engine/enginetest.c
tests_plugins_engine_enginetest_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

AM_TESTS_ENVIRONMENT += \
	JH_ENGINE_PLUGIN_DIR='$(abs_top_builddir)/tests/plugins/engine'; \
	export JH_ENGINE_PLUGIN_DIR;

check_PROGRAMS += tests/plugins/test_enginetest
tests_plugins_test_enginetest_SOURCES = tests/plugins/test_enginetest.c
tests_plugins_test_enginetest_CPPFLAGS = $(TEST_CPPFLAGS)
tests_plugins_test_enginetest_CFLAGS = $(TEST_CFLAGS)
tests_plugins_test_enginetest_LDADD = $(TEST_LDADD)
TESTS += tests/plugins/test_enginetest

# bench/engine: jobhost against ninja on the same 2,000-task graph.
EXTRA_DIST += bench/engine bench/README.md
