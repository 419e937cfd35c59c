# host/ — the jobhost program, in six areas (doc/architecture.md). Each
# area is a folder with its own local.mk and convenience library. An area
# is compiled with -I for itself and the areas it may use only, so an
# include that runs the wrong way does not compile; the program links the
# areas from the top down, so a call that runs the wrong way does not link;
# tests/layers.test checks every include against doc/architecture.md.
HOST_LOADER_INC = -I$(top_srcdir)/host/loader
HOST_STORE_INC = -I$(top_srcdir)/host/store
HOST_CONFIG_INC = -I$(top_srcdir)/host/config $(HOST_LOADER_INC)
HOST_XML_INC = -I$(top_srcdir)/host/xml $(HOST_CONFIG_INC)
HOST_ENGINE_INC = -I$(top_srcdir)/host/engine $(HOST_CONFIG_INC) \
	$(HOST_STORE_INC)
HOST_CLI_INC = -I$(top_srcdir)/host/cli $(HOST_XML_INC) \
	-I$(top_srcdir)/host/engine $(HOST_STORE_INC)

# Top-down link order: an area comes before every area it uses.
HOST_LIBS = host/cli/libjh-cli.la host/xml/libjh-xml.la \
	host/engine/libjh-engine.la host/config/libjh-config.la \
	host/store/libjh-store.la host/loader/libjh-loader.la \
	lib/libjobhost-private.la

include $(top_srcdir)/host/loader/local.mk
include $(top_srcdir)/host/store/local.mk
include $(top_srcdir)/host/config/local.mk
include $(top_srcdir)/host/xml/local.mk
include $(top_srcdir)/host/engine/local.mk
include $(top_srcdir)/host/cli/local.mk
