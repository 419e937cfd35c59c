# host/cli/ — the jobhost program: main, the commands, their shared option
# handling, loading a job from YAML or XML.
# Uses: every other area.
noinst_LTLIBRARIES += host/cli/libjh-cli.la
host_cli_libjh_cli_la_SOURCES = \
	host/cli/cli.h host/cli/cli_args.c \
	host/cli/job_load.c host/cli/job_load.h \
	host/cli/cli_plugins.c host/cli/cli_graph.c host/cli/cli_import.c \
	host/cli/cli_history.c host/cli/cli_run.c \
	host/cli/cli_provisioning.c \
	host/cli/cli_dryrun.c host/cli/cli_dryrun.h \
	host/cli/cli_scaffold.c \
	host/cli/cli_daemon.c
host_cli_libjh_cli_la_CPPFLAGS = $(BASE_CPPFLAGS) $(HOST_CLI_INC) \
	$(SQLITE_CFLAGS)
host_cli_libjh_cli_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(XML_CFLAGS) \
	$(YAML_CFLAGS) $(SYSTEMD_CFLAGS)
host_cli_libjh_cli_la_LIBADD = $(SYSTEMD_LIBS)

bin_PROGRAMS += jobhost
jobhost_SOURCES = host/cli/main.c
jobhost_CPPFLAGS = $(BASE_CPPFLAGS) $(HOST_CLI_INC)
jobhost_LDADD = $(HOST_LIBS)
# Symbols bound at start, once: each worker is a fork of the fork server
# and would otherwise look up, and copy the page of, each function it
# calls first (bench/engine: about a tenth of a job's CPU time).
jobhost_LDFLAGS = -Wl,-z,now
