# tests/sync.mk — see Makefile.am. The synchronization core and the
# identity store.
check_PROGRAMS += tests/plugins/test_sync
TESTS += tests/plugins/test_sync
tests_plugins_test_sync_SOURCES = tests/plugins/test_sync.c \
	plugins/synchronize/syncer.c plugins/synchronize/syncer.h
tests_plugins_test_sync_CPPFLAGS = $(TEST_CPPFLAGS) \
	-I$(top_srcdir)/plugins/synchronize $(SQLITE_CFLAGS) $(JANSSON_CFLAGS)
tests_plugins_test_sync_CFLAGS = $(TEST_CFLAGS)
tests_plugins_test_sync_LDADD = lib/libjobhost-private.la $(TEST_LDADD) \
	$(SQLITE_LIBS) $(JANSSON_LIBS)
