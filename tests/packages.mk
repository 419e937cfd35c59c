# tests/packages.mk — ExportTask and the csv and ldif packages against a
# mock services table (tests/plugins/test_packages.c). Included by
# plugins/packages.mk.
check_PROGRAMS += tests/plugins/test_packages
tests_plugins_test_packages_SOURCES = tests/plugins/test_packages.c
tests_plugins_test_packages_CPPFLAGS = $(TEST_CPPFLAGS) \
	-DJH_EXPORT_TEST_DATA='"$(abs_top_srcdir)/tests/data/export"'
tests_plugins_test_packages_CFLAGS = $(TEST_CFLAGS)
tests_plugins_test_packages_LDADD = lib/libjobhost-private.la $(TEST_LDADD)
TESTS += tests/plugins/test_packages
EXTRA_DIST += tests/data/export
