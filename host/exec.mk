# host/exec.mk — running jobs: workers, host services, the executor, run
# reports, and the run/resume/cancel commands.
host_libjobhost_host_la_SOURCES += \
	host/wire.c host/wire.h \
	host/services.c host/services.h \
	host/worker.c host/worker.h \
	host/executor.c host/executor.h \
	host/report.c host/report.h \
	host/cli_run.c
