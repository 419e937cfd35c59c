# tests/host/ — tests of the jobhost program's areas, and the end-to-end
# tests that run the binary. Each is one source file, tests/host/NAME.c,
# built with the test defaults (tests/local.mk).
HOST_TESTS = \
	tests/host/test_loader \
	tests/host/test_cli \
	tests/host/test_pipeline \
	tests/host/test_graph \
	tests/host/test_model \
	tests/host/test_model_rules \
	tests/host/test_model_classify \
	tests/host/test_xml_import \
	tests/host/test_xml_csharp \
	tests/host/test_xml_model \
	tests/host/test_store \
	tests/host/test_history_cli \
	tests/host/test_wire \
	tests/host/test_plan \
	tests/host/test_schedule \
	tests/host/test_engine \
	tests/host/test_sync_e2e \
	tests/host/test_readaccess \
	tests/host/test_provisioning_cli \
	tests/host/test_dry_run \
	tests/host/test_compute_e2e \
	tests/host/test_classify_e2e \
	tests/host/test_example_e2e \
	tests/host/test_scaffold \
	tests/host/test_daemon
check_PROGRAMS += $(HOST_TESTS)
TESTS += $(HOST_TESTS)

# Pipelines and Identity Manager XML the tests load.
PIPELINE_FIXTURES = \
	tests/data/pipelines/agent_mismatch.yaml \
	tests/data/pipelines/bad_bool.yaml \
	tests/data/pipelines/bad_enum.yaml \
	tests/data/pipelines/bad_id.yaml \
	tests/data/pipelines/bad_int_param.yaml \
	tests/data/pipelines/bad_list.yaml \
	tests/data/pipelines/bad_list_item.yaml \
	tests/data/pipelines/bad_ordering.yaml \
	tests/data/pipelines/bad_cron_zone.yaml \
	tests/data/pipelines/bad_log_level.yaml \
	tests/data/pipelines/good_job_properties.yaml \
	tests/data/pipelines/bad_schedule.yaml \
	tests/data/pipelines/bad_schedule_step.yaml \
	tests/data/pipelines/bad_schedule_range.yaml \
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

EXTRA_DIST += $(PIPELINE_FIXTURES) $(XML_FIXTURES)
# The jobs test_scaffold expects the scaffolds to generate.
EXTRA_DIST += tests/data/scaffold/incremental-AD.yaml \
	tests/data/scaffold/agent-complete-Local.yaml
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
	tests/data/xml/bad_cron_zone.xml \
	tests/data/xml/job_properties.xml \
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
# The model import (test_xml_model): a realistic configuration in five
# files with its data, and the refusals.
XML_MODEL_FIXTURES = \
	tests/data/xml/model_invalid.xml \
	tests/data/xml/model_unsupported.xml \
	tests/data/xml/realistic/ad.xml \
	tests/data/xml/realistic/connections.yaml \
	tests/data/xml/realistic/connectors.xml \
	tests/data/xml/realistic/directory.ldif \
	tests/data/xml/realistic/hr.xml \
	tests/data/xml/realistic/hr_departments.csv \
	tests/data/xml/realistic/hr_people.csv \
	tests/data/xml/realistic/job.xml \
	tests/data/xml/realistic/rolemodel.xml
EXTRA_DIST += $(XML_MODEL_FIXTURES)
