# host/exec.mk — running jobs: workers, host services, the executor, run
# reports, and the run/resume/cancel commands.
host_libjobhost_host_la_SOURCES += \
	host/wire.c host/wire.h \
	host/services.c host/services.h \
	host/worker.c host/worker.h \
	host/plan.c host/plan.h \
	host/executor.c host/executor.h \
	host/report.c host/report.h \
	host/sweep.c host/sweep.h \
	host/blocked.c host/blocked.h \
	host/cli_run.c

check_PROGRAMS += tests/host/test_wire
tests_host_test_wire_SOURCES = tests/host/test_wire.c
tests_host_test_wire_CPPFLAGS = $(TEST_CPPFLAGS)
tests_host_test_wire_CFLAGS = $(TEST_CFLAGS)
tests_host_test_wire_LDADD = $(TEST_LDADD)
TESTS += tests/host/test_wire

check_PROGRAMS += tests/host/test_plan
tests_host_test_plan_SOURCES = tests/host/test_plan.c
tests_host_test_plan_CPPFLAGS = $(TEST_CPPFLAGS)
tests_host_test_plan_CFLAGS = $(TEST_CFLAGS) $(SQLITE_CFLAGS)
tests_host_test_plan_LDADD = $(TEST_LDADD)
TESTS += tests/host/test_plan

check_PROGRAMS += tests/host/test_engine
tests_host_test_engine_SOURCES = tests/host/test_engine.c
tests_host_test_engine_CPPFLAGS = $(TEST_CPPFLAGS)
tests_host_test_engine_CFLAGS = $(TEST_CFLAGS) $(SQLITE_CFLAGS)
tests_host_test_engine_LDADD = lib/libjobhost-private.la $(TEST_LDADD) \
	$(SQLITE_LIBS)
TESTS += tests/host/test_engine
