# host/config/ — what a job is made of: diagnostics, YAML walking, the
# pipeline and model loaders, the job graph.
# Uses: loader, lib.
noinst_LTLIBRARIES += host/config/libjh-config.la
host_config_libjh_config_la_SOURCES = \
	host/config/diag.c host/config/diag.h \
	host/config/strindex.c host/config/strindex.h \
	host/config/yaml_walk.c host/config/yaml_walk.h \
	host/config/model_load.c host/config/model_load.h \
	host/config/model_load_impl.h host/config/model_rules.c \
	host/config/model_classify.c \
	host/config/pipeline.c host/config/pipeline.h \
	host/config/scaffold.c host/config/scaffold_parse.c \
	host/config/scaffold.h \
	host/config/param_check.c host/config/param_check.h \
	host/config/graph.c host/config/graph.h \
	host/config/job.c host/config/job.h \
	host/config/hostconf.c host/config/hostconf.h
host_config_libjh_config_la_CPPFLAGS = $(BASE_CPPFLAGS) $(HOST_CONFIG_INC) \
	-DJOBHOST_CONFIG_PATH='"$(sysconfdir)/jobhost/jobhost.yaml"'
host_config_libjh_config_la_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS)
host_config_libjh_config_la_LIBADD = $(YAML_LIBS)
