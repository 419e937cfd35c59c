# tests/prepare.mk — PrepareSynchronizationTask: the core (collect.c,
# table.c) and the task glue (prepare.c) compiled into the test program.
check_PROGRAMS += tests/plugins/test_prepare
tests_plugins_test_prepare_SOURCES = tests/plugins/test_prepare.c \
	plugins/prepare/prepare.c plugins/prepare/collect.c \
	plugins/prepare/table.c
tests_plugins_test_prepare_CPPFLAGS = $(TEST_CPPFLAGS) \
	-I$(top_srcdir)/plugins -I$(top_srcdir)/plugins/prepare
tests_plugins_test_prepare_CFLAGS = $(TEST_CFLAGS)
tests_plugins_test_prepare_LDADD = lib/libjobhost-private.la \
	tests/libjhtest.la $(CMOCKA_LIBS) $(JANSSON_LIBS)
TESTS += tests/plugins/test_prepare
