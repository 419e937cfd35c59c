# host/loader/ — the plugin search path, loading and probing plugins, the
# registry of task types and packages. The only user of libltdl.
# Uses: lib, sdk.
noinst_LTLIBRARIES += host/loader/libjh-loader.la
host_loader_libjh_loader_la_SOURCES = host/loader/loader.c host/loader/loader.h
host_loader_libjh_loader_la_CPPFLAGS = $(BASE_CPPFLAGS) $(HOST_LOADER_INC) \
	-DJOBHOST_PLUGINDIR='"$(plugindir)"'
host_loader_libjh_loader_la_LIBADD = $(LTDL_LIBS)
