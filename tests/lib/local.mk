# tests/lib/ — tests of the private library; they link lib/ only.
check_PROGRAMS += tests/lib/test_csv tests/lib/test_extsort tests/lib/test_db \
	tests/lib/test_timefmt tests/lib/test_instance_id \
	tests/lib/test_collect_batch tests/lib/test_change_report
tests_lib_test_csv_CPPFLAGS = $(LIB_TEST_CPPFLAGS)
tests_lib_test_csv_LDADD = $(LIB_TEST_LDADD)
tests_lib_test_extsort_CPPFLAGS = $(LIB_TEST_CPPFLAGS)
tests_lib_test_extsort_LDADD = $(LIB_TEST_LDADD)
tests_lib_test_db_CPPFLAGS = $(LIB_TEST_CPPFLAGS) $(SQLITE_CFLAGS)
tests_lib_test_db_LDADD = $(LIB_TEST_LDADD) $(SQLITE_LIBS)
tests_lib_test_timefmt_CPPFLAGS = $(LIB_TEST_CPPFLAGS)
tests_lib_test_timefmt_LDADD = $(LIB_TEST_LDADD)
tests_lib_test_instance_id_CPPFLAGS = $(LIB_TEST_CPPFLAGS)
tests_lib_test_instance_id_LDADD = $(LIB_TEST_LDADD)
tests_lib_test_collect_batch_CPPFLAGS = $(LIB_TEST_CPPFLAGS)
tests_lib_test_collect_batch_LDADD = $(LIB_TEST_LDADD)
tests_lib_test_change_report_CPPFLAGS = $(LIB_TEST_CPPFLAGS)
tests_lib_test_change_report_LDADD = $(LIB_TEST_LDADD)
TESTS += tests/lib/test_csv tests/lib/test_extsort tests/lib/test_db \
	tests/lib/test_timefmt tests/lib/test_instance_id \
	tests/lib/test_collect_batch tests/lib/test_change_report
check_PROGRAMS += tests/lib/test_provstore
tests_lib_test_provstore_CPPFLAGS = $(LIB_TEST_CPPFLAGS) $(SQLITE_CFLAGS)
tests_lib_test_provstore_LDADD = $(LIB_TEST_LDADD) $(SQLITE_LIBS)
TESTS += tests/lib/test_provstore
