# tests/fuzz/fuzz.mk — fuzz targets of the parsers (doc/fuzzing.md).
#
# Each target's entry point (LLVMFuzzerTestOneInput, in fuzz_<target>.c)
# is linked twice:
#  - always, with replay.c, as tests/fuzz/replay_<target>: a test of
#    make check that replays the committed seeds
#    (tests/fuzz/seeds/<target>/) and saved crash inputs
#    (tests/fuzz/regressions/<target>/) with any compiler;
#  - with ./configure CC=clang --enable-fuzz, with libFuzzer, as
#    tests/fuzz/fuzz_<target>, which `make fuzz FUZZ_SECONDS=N` runs.
FUZZ_TARGETS = csv ldif xml pipeline model textfn expr_check csharp
FUZZ_SECONDS = 60

FUZZ_CPPFLAGS = $(BASE_CPPFLAGS) $(HOST_CLI_INC) -I$(top_srcdir)/tests/fuzz \
	$(XML_CFLAGS) $(YAML_CFLAGS) \
	-DJH_FUZZ_PLUGIN_DIR='"$(abs_top_builddir)/plugins"'
FUZZ_UTIL = tests/fuzz/fuzz.h tests/fuzz/fuzz_util.c
FUZZ_REGISTRY = tests/fuzz/fuzz_registry.c tests/fuzz/fuzz_registry.h
FUZZ_HOST_LIBS = $(HOST_LIBS)

check_PROGRAMS += tests/fuzz/replay_csv tests/fuzz/replay_ldif \
	tests/fuzz/replay_xml tests/fuzz/replay_pipeline tests/fuzz/replay_model \
	tests/fuzz/replay_textfn
TESTS += tests/fuzz/replay_csv tests/fuzz/replay_ldif \
	tests/fuzz/replay_xml tests/fuzz/replay_pipeline tests/fuzz/replay_model \
	tests/fuzz/replay_textfn

tests_fuzz_replay_csv_SOURCES = tests/fuzz/fuzz_csv.c tests/fuzz/replay.c \
	$(FUZZ_UTIL)
tests_fuzz_replay_csv_CPPFLAGS = $(FUZZ_CPPFLAGS) -DJH_FUZZ_TARGET='"csv"'
tests_fuzz_replay_csv_LDADD = lib/libjobhost-private.la

tests_fuzz_replay_ldif_SOURCES = tests/fuzz/fuzz_ldif.c tests/fuzz/replay.c \
	plugins/ldif/ldif_package.c plugins/ldif/ldif_fulfill.c $(FUZZ_UTIL)
tests_fuzz_replay_ldif_CPPFLAGS = $(FUZZ_CPPFLAGS) -DJH_FUZZ_TARGET='"ldif"'
tests_fuzz_replay_ldif_CFLAGS = $(AM_CFLAGS) $(LDAP_CFLAGS)
tests_fuzz_replay_ldif_LDADD = lib/libjobhost-private.la $(LDAP_LIBS)

tests_fuzz_replay_xml_SOURCES = tests/fuzz/fuzz_xml.c tests/fuzz/replay.c \
	$(FUZZ_UTIL) $(FUZZ_REGISTRY)
tests_fuzz_replay_xml_CPPFLAGS = $(FUZZ_CPPFLAGS) -DJH_FUZZ_TARGET='"xml"'
tests_fuzz_replay_xml_LDADD = $(FUZZ_HOST_LIBS)

tests_fuzz_replay_pipeline_SOURCES = tests/fuzz/fuzz_pipeline.c \
	tests/fuzz/replay.c $(FUZZ_UTIL) $(FUZZ_REGISTRY)
tests_fuzz_replay_pipeline_CPPFLAGS = $(FUZZ_CPPFLAGS) \
	-DJH_FUZZ_TARGET='"pipeline"'
tests_fuzz_replay_pipeline_LDADD = $(FUZZ_HOST_LIBS)

tests_fuzz_replay_model_SOURCES = tests/fuzz/fuzz_model.c tests/fuzz/replay.c \
	$(FUZZ_UTIL) $(FUZZ_REGISTRY)
tests_fuzz_replay_model_CPPFLAGS = $(FUZZ_CPPFLAGS) -DJH_FUZZ_TARGET='"model"'
tests_fuzz_replay_model_LDADD = $(FUZZ_HOST_LIBS)

tests_fuzz_replay_textfn_SOURCES = tests/fuzz/fuzz_textfn.c tests/fuzz/replay.c \
	$(FUZZ_UTIL)
tests_fuzz_replay_textfn_CPPFLAGS = $(FUZZ_CPPFLAGS) -DJH_FUZZ_TARGET='"textfn"'
tests_fuzz_replay_textfn_LDADD = lib/libjobhost-private.la
# expressions (lib/expr.c): jh_expr_check
check_PROGRAMS += tests/fuzz/replay_expr_check
TESTS += tests/fuzz/replay_expr_check
tests_fuzz_replay_expr_check_SOURCES = tests/fuzz/fuzz_expr_check.c \
	tests/fuzz/replay.c $(FUZZ_UTIL)
tests_fuzz_replay_expr_check_CPPFLAGS = $(FUZZ_CPPFLAGS) \
	-DJH_FUZZ_TARGET='"expr_check"'
tests_fuzz_replay_expr_check_LDADD = lib/libjobhost-private.la
# the C# subset's translation (host/xml/xml_csharp.c): jh_cs_to_lua
check_PROGRAMS += tests/fuzz/replay_csharp
TESTS += tests/fuzz/replay_csharp
tests_fuzz_replay_csharp_SOURCES = tests/fuzz/fuzz_csharp.c \
	tests/fuzz/replay.c $(FUZZ_UTIL)
tests_fuzz_replay_csharp_CPPFLAGS = $(FUZZ_CPPFLAGS) \
	-DJH_FUZZ_TARGET='"csharp"'
tests_fuzz_replay_csharp_LDADD = $(FUZZ_HOST_LIBS)

if JH_FUZZ
noinst_PROGRAMS = tests/fuzz/fuzz_csv tests/fuzz/fuzz_ldif \
	tests/fuzz/fuzz_xml tests/fuzz/fuzz_pipeline tests/fuzz/fuzz_model \
	tests/fuzz/fuzz_textfn

tests_fuzz_fuzz_csv_SOURCES = tests/fuzz/fuzz_csv.c $(FUZZ_UTIL)
tests_fuzz_fuzz_csv_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_csv_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_csv_LDADD = lib/libjobhost-private.la

tests_fuzz_fuzz_ldif_SOURCES = tests/fuzz/fuzz_ldif.c \
	plugins/ldif/ldif_package.c plugins/ldif/ldif_fulfill.c $(FUZZ_UTIL)
tests_fuzz_fuzz_ldif_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_ldif_CFLAGS = $(AM_CFLAGS) $(LDAP_CFLAGS)
tests_fuzz_fuzz_ldif_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ldif_LDADD = lib/libjobhost-private.la $(LDAP_LIBS)

tests_fuzz_fuzz_xml_SOURCES = tests/fuzz/fuzz_xml.c $(FUZZ_UTIL) \
	$(FUZZ_REGISTRY)
tests_fuzz_fuzz_xml_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_xml_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_xml_LDADD = $(FUZZ_HOST_LIBS)

tests_fuzz_fuzz_pipeline_SOURCES = tests/fuzz/fuzz_pipeline.c $(FUZZ_UTIL) \
	$(FUZZ_REGISTRY)
tests_fuzz_fuzz_pipeline_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_pipeline_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_pipeline_LDADD = $(FUZZ_HOST_LIBS)

tests_fuzz_fuzz_model_SOURCES = tests/fuzz/fuzz_model.c $(FUZZ_UTIL) \
	$(FUZZ_REGISTRY)
tests_fuzz_fuzz_model_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_model_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_model_LDADD = $(FUZZ_HOST_LIBS)

tests_fuzz_fuzz_textfn_SOURCES = tests/fuzz/fuzz_textfn.c $(FUZZ_UTIL)
tests_fuzz_fuzz_textfn_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_textfn_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_textfn_LDADD = lib/libjobhost-private.la
noinst_PROGRAMS += tests/fuzz/fuzz_expr_check
tests_fuzz_fuzz_expr_check_SOURCES = tests/fuzz/fuzz_expr_check.c $(FUZZ_UTIL)
tests_fuzz_fuzz_expr_check_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_expr_check_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_expr_check_LDADD = lib/libjobhost-private.la
noinst_PROGRAMS += tests/fuzz/fuzz_csharp
tests_fuzz_fuzz_csharp_SOURCES = tests/fuzz/fuzz_csharp.c $(FUZZ_UTIL)
tests_fuzz_fuzz_csharp_CPPFLAGS = $(FUZZ_CPPFLAGS)
tests_fuzz_fuzz_csharp_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_csharp_LDADD = $(FUZZ_HOST_LIBS)

# Each target runs FUZZ_SECONDS from its seeds, its saved crash inputs
# and what earlier runs found (fuzz-corpus/<target>, in the build
# folder; the committed seeds are only read). A crash is written to
# fuzz-crashes/<target>/ and fails make fuzz once every target has run.
fuzz: $(noinst_PROGRAMS)
	@failed=; \
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz-corpus/$$t fuzz-crashes/$$t; \
	  dirs="fuzz-corpus/$$t $(srcdir)/tests/fuzz/seeds/$$t"; \
	  if test -d $(srcdir)/tests/fuzz/regressions/$$t; then \
	    dirs="$$dirs $(srcdir)/tests/fuzz/regressions/$$t"; fi; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s (log in fuzz-$$t.log)"; \
	  JH_BUILTIN_PLUGIN_DIR='$(abs_top_builddir)/plugins' \
	  tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=25 \
	    -print_final_stats=1 -artifact_prefix=fuzz-crashes/$$t/ \
	    $(FUZZ_FLAGS) $$dirs >fuzz-$$t.log 2>&1 || failed="$$failed $$t"; \
	  grep -E '^(#[0-9]+.*DONE|stat::)' fuzz-$$t.log || true; \
	done; \
	if test -n "$$failed"; then \
	  echo "fuzz: crashes in:$$failed (inputs in fuzz-crashes/)"; exit 1; fi
else
fuzz:
	@echo "make fuzz needs a fuzz build: ./configure CC=clang --enable-fuzz" >&2; \
	exit 1
endif
.PHONY: fuzz

EXTRA_DIST += tests/fuzz/seeds tests/fuzz/regressions
CLEANFILES += fuzz-*.log
clean-local: clean-fuzz
clean-fuzz:
	-rm -rf fuzz-corpus fuzz-crashes
.PHONY: clean-fuzz
