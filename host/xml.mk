# host/xml.mk — see Makefile.am; owned by one area of the code.
# Identity Manager XML: safe reading (libxml2), import to pipeline YAML,
# the import-xml command, with their tests and fixtures.
host_libjobhost_host_la_SOURCES += \
	host/xml_read.c host/xml_read.h \
	host/xml_import.c host/xml_import.h host/xml_load.c \
	host/cli_import.c
host_libjobhost_host_la_CFLAGS += $(XML_CFLAGS)
host_libjobhost_host_la_LIBADD += $(XML_LIBS)
EXTRA_DIST += doc/xml-import.md
