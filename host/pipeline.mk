# host/pipeline.mk — see Makefile.am; owned by one area of the code.
# The pipeline loader (YAML), the job graph, job loading and the validate,
# graph and steps commands, with their tests and fixtures.
host_libjobhost_host_la_SOURCES += \
	host/pipeline.c host/yaml_walk.c host/yaml_walk.h \
	host/model_load.c host/model_load.h host/graph.c host/job_load.c host/cli_graph.c \
	host/strindex.c host/strindex.h

check_PROGRAMS += tests/host/test_pipeline tests/host/test_graph
TESTS += tests/host/test_pipeline tests/host/test_graph
tests_host_test_pipeline_SOURCES = tests/host/test_pipeline.c
tests_host_test_pipeline_CPPFLAGS = $(TEST_CPPFLAGS)
tests_host_test_pipeline_CFLAGS = $(TEST_CFLAGS) $(YAML_CFLAGS)
tests_host_test_pipeline_LDADD = $(TEST_LDADD) $(YAML_LIBS)
tests_host_test_graph_SOURCES = tests/host/test_graph.c
tests_host_test_graph_CPPFLAGS = $(TEST_CPPFLAGS)
tests_host_test_graph_CFLAGS = $(TEST_CFLAGS) $(YAML_CFLAGS)
tests_host_test_graph_LDADD = $(TEST_LDADD) $(YAML_LIBS)

# Pipelines the tests load, and the example they check.
EXTRA_DIST += \
	conf/examples/complete-sync/pipeline.yaml \
	conf/examples/complete-sync/hr-pipeline.yaml \
	conf/examples/complete-sync/model.yaml \
	conf/examples/complete-sync/data/hr.csv \
	conf/examples/complete-sync/data/directory.ldif \
	bench/sync \
	$(PIPELINE_FIXTURES)
PIPELINE_FIXTURES = \
	tests/data/pipelines/agent_mismatch.yaml \
	tests/data/pipelines/bad_bool.yaml \
	tests/data/pipelines/bad_enum.yaml \
	tests/data/pipelines/bad_id.yaml \
	tests/data/pipelines/bad_int_param.yaml \
	tests/data/pipelines/bad_list.yaml \
	tests/data/pipelines/bad_list_item.yaml \
	tests/data/pipelines/bad_ordering.yaml \
	tests/data/pipelines/bad_schedule.yaml \
	tests/data/pipelines/bad_timeout.yaml \
	tests/data/pipelines/billion_laughs.yaml \
	tests/data/pipelines/camel_case_key.yaml \
	tests/data/pipelines/duplicate_id.yaml \
	tests/data/pipelines/duplicate_key.yaml \
	tests/data/pipelines/empty.yaml \
	tests/data/pipelines/empty_tasks.yaml \
	tests/data/pipelines/good_dependencies.yaml \
	tests/data/pipelines/good_include.yaml \
	tests/data/pipelines/good_levels.yaml \
	tests/data/pipelines/inc/common.yaml \
	tests/data/pipelines/inc/cycle_b.yaml \
	tests/data/pipelines/inc/cycle_c.yaml \
	tests/data/pipelines/inc/more.yaml \
	tests/data/pipelines/inc/with_job.yaml \
	tests/data/pipelines/include_cycle.yaml \
	tests/data/pipelines/include_items.yaml \
	tests/data/pipelines/include_job.yaml \
	tests/data/pipelines/include_missing.yaml \
	tests/data/pipelines/many_errors.yaml \
	tests/data/pipelines/max_parallel_text.yaml \
	tests/data/pipelines/max_parallel_zero.yaml \
	tests/data/pipelines/missing_id.yaml \
	tests/data/pipelines/missing_param.yaml \
	tests/data/pipelines/missing_type.yaml \
	tests/data/pipelines/negative_level.yaml \
	tests/data/pipelines/negative_retries.yaml \
	tests/data/pipelines/no_job.yaml \
	tests/data/pipelines/no_tasks.yaml \
	tests/data/pipelines/no_version.yaml \
	tests/data/pipelines/recursive_alias.yaml \
	tests/data/pipelines/syntax_error.yaml \
	tests/data/pipelines/task_not_mapping.yaml \
	tests/data/pipelines/top_sequence.yaml \
	tests/data/pipelines/two_documents.yaml \
	tests/data/pipelines/unknown_job_key.yaml \
	tests/data/pipelines/unknown_parent.yaml \
	tests/data/pipelines/unknown_task_key.yaml \
	tests/data/pipelines/unknown_top_key.yaml \
	tests/data/pipelines/unknown_type.yaml \
	tests/data/pipelines/version_2.yaml

# The model sections (doc/model.md).
check_PROGRAMS += tests/host/test_model
TESTS += tests/host/test_model
tests_host_test_model_SOURCES = tests/host/test_model.c
tests_host_test_model_CPPFLAGS = $(TEST_CPPFLAGS)
tests_host_test_model_CFLAGS = $(TEST_CFLAGS) $(YAML_CFLAGS)
tests_host_test_model_LDADD = $(TEST_LDADD) $(YAML_LIBS)
EXTRA_DIST += doc/model.md doc/synchronization.md doc/pipeline.md \
	doc/identity-manager.md
