# tests/lib/ — tests of the private library; they link lib/ only.
check_PROGRAMS += tests/lib/test_csv tests/lib/test_extsort tests/lib/test_db \
	tests/lib/test_timefmt tests/lib/test_instance_id \
	tests/lib/test_collect_batch tests/lib/test_change_report
# expressions (lib/expr.c)
check_PROGRAMS += tests/lib/test_expr
tests_lib_test_expr_CPPFLAGS = $(LIB_TEST_CPPFLAGS)
tests_lib_test_expr_LDADD = $(LIB_TEST_LDADD)
TESTS += tests/lib/test_expr
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

# Provisioning order files (jansson).
check_PROGRAMS += tests/lib/test_file_writer
tests_lib_test_file_writer_CPPFLAGS = $(LIB_TEST_CPPFLAGS)
tests_lib_test_file_writer_LDADD = $(LIB_TEST_LDADD)
TESTS += tests/lib/test_file_writer

check_PROGRAMS += tests/lib/test_order_file
tests_lib_test_order_file_CPPFLAGS = $(LIB_TEST_CPPFLAGS) $(JANSSON_CFLAGS)
tests_lib_test_order_file_LDADD = $(LIB_TEST_LDADD) $(JANSSON_LIBS)
TESTS += tests/lib/test_order_file

# text built-ins (lib/textfn, lib/dmetaphone, lib/exprfn_text)
check_PROGRAMS += tests/lib/test_textfn tests/lib/test_exprfn \
	tests/lib/test_dmetaphone
tests_lib_test_textfn_CPPFLAGS = $(LIB_TEST_CPPFLAGS)
tests_lib_test_textfn_LDADD = $(LIB_TEST_LDADD)
tests_lib_test_exprfn_CPPFLAGS = $(LIB_TEST_CPPFLAGS)
tests_lib_test_exprfn_LDADD = $(LIB_TEST_LDADD)
tests_lib_test_dmetaphone_CPPFLAGS = $(LIB_TEST_CPPFLAGS)
tests_lib_test_dmetaphone_LDADD = $(LIB_TEST_LDADD)
TESTS += tests/lib/test_textfn tests/lib/test_exprfn tests/lib/test_dmetaphone
# Zones, date patterns and the date functions of expressions.
check_PROGRAMS += tests/lib/test_tzdate tests/lib/test_exprfn_dates
tests_lib_test_tzdate_CPPFLAGS = $(LIB_TEST_CPPFLAGS)
tests_lib_test_tzdate_LDADD = $(LIB_TEST_LDADD)
tests_lib_test_exprfn_dates_CPPFLAGS = $(LIB_TEST_CPPFLAGS)
tests_lib_test_exprfn_dates_LDADD = $(LIB_TEST_LDADD)
TESTS += tests/lib/test_tzdate tests/lib/test_exprfn_dates
EXTRA_DIST += tests/data/tzdir/slim.zi tests/data/tzdir/Test/Slim
check_PROGRAMS += tests/lib/test_provstore
tests_lib_test_provstore_CPPFLAGS = $(LIB_TEST_CPPFLAGS) $(SQLITE_CFLAGS)
tests_lib_test_provstore_LDADD = $(LIB_TEST_LDADD) $(SQLITE_LIBS)
TESTS += tests/lib/test_provstore
# classification and profile tables, schema 4 (lib/provstore_classify.c)
check_PROGRAMS += tests/lib/test_provstore_classify
tests_lib_test_provstore_classify_CPPFLAGS = $(LIB_TEST_CPPFLAGS) \
	$(SQLITE_CFLAGS)
tests_lib_test_provstore_classify_LDADD = $(LIB_TEST_LDADD) $(SQLITE_LIBS)
TESTS += tests/lib/test_provstore_classify

# Cron expressions (lib/cron.c).
check_PROGRAMS += tests/lib/test_cron
tests_lib_test_cron_CPPFLAGS = $(LIB_TEST_CPPFLAGS)
tests_lib_test_cron_LDADD = $(LIB_TEST_LDADD)
TESTS += tests/lib/test_cron
