# tests/xml.mk — the Identity Manager XML import's tests, fixtures and test
# plugin. See Makefile.am; owned by one area of the code.

# xmltest: provides the csv and ldap packages (no settings) that imported
# connections name, so that they validate; never installed.
check_LTLIBRARIES += tests/plugins/xml/xmltest.la
tests_plugins_xml_xmltest_la_SOURCES = tests/plugins/xml/xmltest.c
tests_plugins_xml_xmltest_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

AM_TESTS_ENVIRONMENT += \
	JH_XML_PLUGIN_DIR='$(abs_top_builddir)/tests/plugins/xml'; \
	export JH_XML_PLUGIN_DIR;

check_PROGRAMS += tests/host/test_xml_import
TESTS += tests/host/test_xml_import
tests_host_test_xml_import_SOURCES = tests/host/test_xml_import.c
tests_host_test_xml_import_CPPFLAGS = $(TEST_CPPFLAGS)
tests_host_test_xml_import_CFLAGS = $(TEST_CFLAGS) $(YAML_CFLAGS) $(XML_CFLAGS)
tests_host_test_xml_import_LDADD = $(TEST_LDADD) $(YAML_LIBS) $(XML_LIBS)

EXTRA_DIST += $(XML_FIXTURES)
XML_FIXTURES = \
	tests/data/xml/agent_mismatch.xml \
	tests/data/xml/bad_batch.xml \
	tests/data/xml/bad_connector_id.xml \
	tests/data/xml/bad_bool.xml tests/data/xml/long_value.xml \
	tests/data/xml/bad_enum.xml \
	tests/data/xml/bad_int.xml \
	tests/data/xml/bad_level.xml \
	tests/data/xml/bad_param_bool.xml \
	tests/data/xml/bad_schedule.xml \
	tests/data/xml/billion_laughs.xml \
	tests/data/xml/cycle.xml \
	tests/data/xml/decls.xml \
	tests/data/xml/duplicate_step.xml \
	tests/data/xml/empty.xml \
	tests/data/xml/entity_type_both.xml \
	tests/data/xml/external_dtd.xml \
	tests/data/xml/foreign_attr.xml \
	tests/data/xml/ids.xml \
	tests/data/xml/job-ad-complete.xml \
	tests/data/xml/job_attr.xml \
	tests/data/xml/lenient.xml \
	tests/data/xml/malformed.xml \
	tests/data/xml/many_errors.xml \
	tests/data/xml/missing_param.xml \
	tests/data/xml/model.xml \
	tests/data/xml/multi_job.xml \
	tests/data/xml/no_job.xml \
	tests/data/xml/no_namespace.xml \
	tests/data/xml/override_unknown.xml \
	tests/data/xml/package.xml \
	tests/data/xml/quoting.xml \
	tests/data/xml/step_unknown.xml \
	tests/data/xml/steps_levels.xml \
	tests/data/xml/stray.xml \
	tests/data/xml/task_attr.xml \
	tests/data/xml/task_child.xml \
	tests/data/xml/task_type.xml \
	tests/data/xml/text.xml \
	tests/data/xml/two_jobs.xml \
	tests/data/xml/unknown_element.xml \
	tests/data/xml/unknown_parent.xml \
	tests/data/xml/wrong_root.xml \
	tests/data/xml/xxe.xml
