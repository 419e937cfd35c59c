# tests/lib/ — tests of the private library; they link lib/ only.
check_PROGRAMS += tests/lib/test_csv tests/lib/test_extsort tests/lib/test_db
tests_lib_test_csv_CPPFLAGS = $(LIB_TEST_CPPFLAGS)
tests_lib_test_csv_LDADD = $(LIB_TEST_LDADD)
tests_lib_test_extsort_CPPFLAGS = $(LIB_TEST_CPPFLAGS)
tests_lib_test_extsort_LDADD = $(LIB_TEST_LDADD)
tests_lib_test_db_CPPFLAGS = $(LIB_TEST_CPPFLAGS) $(SQLITE_CFLAGS)
tests_lib_test_db_LDADD = $(LIB_TEST_LDADD) $(SQLITE_LIBS)
TESTS += tests/lib/test_csv tests/lib/test_extsort tests/lib/test_db
