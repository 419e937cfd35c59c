# host/engine/ — running a job: the plan (scheduling rules, no I/O), the
# executor, the runners (fork server, in process) and the progress it
# prints, workers and the wire between them, the host services plugins
# call, run reports, leftovers swept at job start and end.
# Uses: config, loader, store, lib.
noinst_LTLIBRARIES += host/engine/libjh-engine.la
host_engine_libjh_engine_la_SOURCES = \
	host/engine/plan.c host/engine/plan.h \
	host/engine/blocked.c host/engine/blocked.h \
	host/engine/wire.c host/engine/wire.h \
	host/engine/export_output.c host/engine/export_output.h \
	host/engine/services.c host/engine/services.h \
	host/engine/readstore.c host/engine/readstore.h \
	host/engine/worker.c host/engine/worker.h \
	host/engine/runner.h host/engine/runner_fork.c \
	host/engine/runner_inproc.c \
	host/engine/progress.c host/engine/progress.h \
	host/engine/report.c host/engine/report.h \
	host/engine/sweep.c host/engine/sweep.h \
	host/engine/executor.c host/engine/executor.h
host_engine_libjh_engine_la_CPPFLAGS = $(BASE_CPPFLAGS) $(HOST_ENGINE_INC) \
	$(SQLITE_CFLAGS)
host_engine_libjh_engine_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
host_engine_libjh_engine_la_LIBADD = $(JANSSON_LIBS)
