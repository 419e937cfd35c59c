# lib/local.mk — the private library shared by the host and the built-in plugins (not part of the SDK ABI).
noinst_LTLIBRARIES += lib/libjobhost-private.la
lib_libjobhost_private_la_SOURCES = \
	lib/atomic_file.c lib/atomic_file.h \
	lib/csv.c lib/csv.h \
	lib/extsort.c lib/extsort.h \
	lib/model.c lib/model.h \
	lib/idstore.c lib/idstore.h \
	lib/faultpoint.c lib/faultpoint.h

check_PROGRAMS += tests/lib/test_csv tests/lib/test_extsort
tests_lib_test_csv_SOURCES = tests/lib/test_csv.c
tests_lib_test_csv_CPPFLAGS = $(TEST_CPPFLAGS)
tests_lib_test_csv_CFLAGS = $(TEST_CFLAGS)
tests_lib_test_csv_LDADD = lib/libjobhost-private.la $(TEST_LDADD)
tests_lib_test_extsort_SOURCES = tests/lib/test_extsort.c
tests_lib_test_extsort_CPPFLAGS = $(TEST_CPPFLAGS)
tests_lib_test_extsort_CFLAGS = $(TEST_CFLAGS)
tests_lib_test_extsort_LDADD = lib/libjobhost-private.la $(TEST_LDADD)
TESTS += tests/lib/test_csv tests/lib/test_extsort
lib_libjobhost_private_la_CPPFLAGS = $(AM_CPPFLAGS) $(SQLITE_CFLAGS)
lib_libjobhost_private_la_LIBADD = $(SQLITE_LIBS)
