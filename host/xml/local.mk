# host/xml/ — Identity Manager XML: safe reading (libxml2), the import to
# pipeline YAML and model, loading an XML job in memory.
# Uses: config, loader, lib.
noinst_LTLIBRARIES += host/xml/libjh-xml.la
host_xml_libjh_xml_la_SOURCES = \
	host/xml/xml_read.c host/xml/xml_read.h \
	host/xml/xml_mem.c host/xml/xml_mem.h \
	host/xml/xml_import.c host/xml/xml_import.h host/xml/xml_load.c \
	host/xml/xml_scaffold.c host/xml/xml_scaffold.h \
	host/xml/xml_csharp.c host/xml/xml_csharp.h \
	host/xml/xml_model.c host/xml/xml_model.h
host_xml_libjh_xml_la_CPPFLAGS = $(BASE_CPPFLAGS) $(HOST_XML_INC)
host_xml_libjh_xml_la_CFLAGS = $(AM_CFLAGS) $(XML_CFLAGS) $(YAML_CFLAGS)
host_xml_libjh_xml_la_LIBADD = $(XML_LIBS)
