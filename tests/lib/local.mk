# tests/lib/ — tests of the private library; they link lib/ only.
check_PROGRAMS += tests/lib/test_csv tests/lib/test_extsort
tests_lib_test_csv_CPPFLAGS = $(LIB_TEST_CPPFLAGS)
tests_lib_test_csv_LDADD = $(LIB_TEST_LDADD)
tests_lib_test_extsort_CPPFLAGS = $(LIB_TEST_CPPFLAGS)
tests_lib_test_extsort_LDADD = $(LIB_TEST_LDADD)
TESTS += tests/lib/test_csv tests/lib/test_extsort
