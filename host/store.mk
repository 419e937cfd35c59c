# host/store.mk — the store (SQLite job and task instances), the jobhost
# home and its folders, and the history/show commands; with their tests.
host_libjobhost_host_la_SOURCES += host/store.c host/home.c host/cli_history.c

check_PROGRAMS += tests/host/test_store tests/host/test_history_cli
tests_host_test_store_SOURCES = tests/host/test_store.c
tests_host_test_store_CPPFLAGS = $(TEST_CPPFLAGS)
tests_host_test_store_CFLAGS = $(TEST_CFLAGS) $(SQLITE_CFLAGS)
tests_host_test_store_LDADD = $(TEST_LDADD) $(SQLITE_LIBS)
tests_host_test_history_cli_SOURCES = tests/host/test_history_cli.c
tests_host_test_history_cli_CPPFLAGS = $(TEST_CPPFLAGS)
tests_host_test_history_cli_CFLAGS = $(TEST_CFLAGS) $(SQLITE_CFLAGS)
tests_host_test_history_cli_LDADD = $(TEST_LDADD) $(SQLITE_LIBS)

TESTS += tests/host/test_store tests/host/test_history_cli
