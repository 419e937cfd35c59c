# host/ — the jobhost program. Everything but main() goes into a
# convenience library so that tests link the same code.
HOST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/host \
	-DJOBHOST_PLUGINDIR='"$(plugindir)"'

noinst_LTLIBRARIES += host/libjobhost-host.la
host_libjobhost_host_la_SOURCES = \
	host/loader.c host/loader.h \
	host/diag.c host/diag.h \
	host/cli.h host/cli_args.c host/cli_plugins.c
EXTRA_DIST += host/pipeline.h host/graph.h host/job_load.h host/store.h \
	host/home.h
host_libjobhost_host_la_CPPFLAGS = $(HOST_CPPFLAGS)
host_libjobhost_host_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(YAML_CFLAGS) \
	$(SQLITE_CFLAGS)
host_libjobhost_host_la_LIBADD = lib/libjobhost-private.la $(LTDL_LIBS) $(JANSSON_LIBS) $(YAML_LIBS) \
	$(SQLITE_LIBS)

bin_PROGRAMS += jobhost
jobhost_SOURCES = host/main.c
jobhost_CPPFLAGS = $(HOST_CPPFLAGS)
jobhost_LDADD = host/libjobhost-host.la
