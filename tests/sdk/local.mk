# tests/sdk/ — the SDK's promises to plugins already built. See
# tests/sdk/test_sdk.c and tests/sdk/test_grown_host.c.

# A plugin built against the frozen ABI 1.0 headers and nothing else: its
# CPPFLAGS replace AM_CPPFLAGS, so sdk/include is not on its path.
check_LTLIBRARIES += tests/sdk/abi10_counter.la
tests_sdk_abi10_counter_la_SOURCES = tests/sdk/abi10_counter.c
tests_sdk_abi10_counter_la_CPPFLAGS = \
	-I$(top_srcdir)/tests/sdk/abi-1.0/include
tests_sdk_abi10_counter_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
EXTRA_DIST += tests/sdk/abi-1.0/README.md \
	tests/sdk/abi-1.0/include/jobhost/connector.h \
	tests/sdk/abi-1.0/include/jobhost/error.h \
	tests/sdk/abi-1.0/include/jobhost/jobhost.h \
	tests/sdk/abi-1.0/include/jobhost/param.h \
	tests/sdk/abi-1.0/include/jobhost/plugin.h \
	tests/sdk/abi-1.0/include/jobhost/services.h \
	tests/sdk/abi-1.0/include/jobhost/version.h

# A plugin built against the frozen ABI 1.1 headers and nothing else.
check_LTLIBRARIES += tests/sdk/abi11_reader.la
tests_sdk_abi11_reader_la_SOURCES = tests/sdk/abi11_reader.c
tests_sdk_abi11_reader_la_CPPFLAGS = \
	-I$(top_srcdir)/tests/sdk/abi-1.1/include
tests_sdk_abi11_reader_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
EXTRA_DIST += tests/sdk/abi-1.1/README.md \
	tests/sdk/abi-1.1/include/jobhost/connector.h \
	tests/sdk/abi-1.1/include/jobhost/error.h \
	tests/sdk/abi-1.1/include/jobhost/jobhost.h \
	tests/sdk/abi-1.1/include/jobhost/param.h \
	tests/sdk/abi-1.1/include/jobhost/plugin.h \
	tests/sdk/abi-1.1/include/jobhost/services.h \
	tests/sdk/abi-1.1/include/jobhost/version.h

# A plugin built against today's headers that targets ABI 1.0
# (JOBHOST_ABI_MIN_REQUIRED).
check_LTLIBRARIES += tests/sdk/abi10_target.la
tests_sdk_abi10_target_la_SOURCES = tests/sdk/abi10_target.c
tests_sdk_abi10_target_la_CPPFLAGS = -I$(top_builddir)/sdk/include \
	-I$(top_srcdir)/sdk/include
tests_sdk_abi10_target_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

# Using a member newer than the targeted minor must not compile.
TESTS += tests/sdk/abi_target.test
EXTRA_DIST += tests/sdk/abi_target.test

check_PROGRAMS += tests/sdk/test_sdk
TESTS += tests/sdk/test_sdk

# The next minor, rehearsed: today's plugin.h with one member appended to
# the descriptor, and a copy of the loader built against it.
SDK_GROWN_PLUGIN_H = tests/sdk/grown/include/jobhost/plugin.h
$(SDK_GROWN_PLUGIN_H): $(top_srcdir)/sdk/include/jobhost/plugin.h
	$(AM_V_GEN)$(MKDIR_P) $(@D) && \
	sed 's/^} jobhost_plugin;$$/  uint32_t appended_by_test;\n} jobhost_plugin;/' \
	  $(top_srcdir)/sdk/include/jobhost/plugin.h > $@.tmp && \
	grep -q appended_by_test $@.tmp && mv $@.tmp $@
check_PROGRAMS += tests/sdk/test_grown_host
tests_sdk_test_grown_host_SOURCES = tests/sdk/test_grown_host.c \
	host/loader/loader.c
tests_sdk_test_grown_host_CPPFLAGS = \
	-I$(top_builddir)/tests/sdk/grown/include $(TEST_CPPFLAGS)
tests_sdk_test_grown_host_LDADD = tests/libjhtest.la $(LTDL_LIBS) \
	$(CMOCKA_LIBS)
$(tests_sdk_test_grown_host_OBJECTS): $(SDK_GROWN_PLUGIN_H)
TESTS += tests/sdk/test_grown_host
CLEANFILES += $(SDK_GROWN_PLUGIN_H)

AM_TESTS_ENVIRONMENT += \
	JH_SDK_PLUGIN_DIR='$(abs_top_builddir)/tests/sdk/.libs'; \
	JH_TOP_BUILDDIR='$(abs_top_builddir)'; \
	JH_CC='$(CC)'; \
	JH_SDK_CPPFLAGS='-I$(abs_top_builddir)/sdk/include -I$(abs_top_srcdir)/sdk/include'; \
	export JH_SDK_PLUGIN_DIR JH_TOP_BUILDDIR JH_CC JH_SDK_CPPFLAGS;

# The test kit (jobhost/testkit.h) through its public functions alone.
check_PROGRAMS += tests/sdk/test_testkit
TESTS += tests/sdk/test_testkit
tests_sdk_test_testkit_CPPFLAGS = $(BASE_CPPFLAGS) $(CMOCKA_CFLAGS)
tests_sdk_test_testkit_LDADD = sdk/libjobhost-testkit.la $(CMOCKA_LIBS)
