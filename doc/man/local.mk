# doc/man/ — the man pages. Each is written once in scdoc's source format
# (doc/man/NAME.SECTION.scd) and generated at build time. A page is added
# with its file in man_MANS and one rule line:
#   doc/man/jobhost.1: doc/man/jobhost.1.scd ; $(SCDOC_GEN)

SCDOC_GEN = $(AM_V_GEN)$(MKDIR_P) $(@D) && \
	$(SCDOC) <$< >$@.tmp && mv $@.tmp $@

man_MANS =
EXTRA_DIST += $(man_MANS:=.scd)
CLEANFILES += $(man_MANS)

man_MANS += doc/man/jobhost.1
doc/man/jobhost.1: doc/man/jobhost.1.scd ; $(SCDOC_GEN)

man_MANS += doc/man/jobhost-pipeline.5 doc/man/jobhost-model.5
doc/man/jobhost-pipeline.5: doc/man/jobhost-pipeline.5.scd ; $(SCDOC_GEN)
doc/man/jobhost-model.5: doc/man/jobhost-model.5.scd ; $(SCDOC_GEN)

man_MANS += doc/man/jobhost-sdk.7
doc/man/jobhost-sdk.7: doc/man/jobhost-sdk.7.scd ; $(SCDOC_GEN)
man_MANS += doc/man/jobhost.yaml.5
doc/man/jobhost.yaml.5: doc/man/jobhost.yaml.5.scd ; $(SCDOC_GEN)
