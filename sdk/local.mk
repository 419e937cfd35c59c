# sdk/ — the public, versioned plugin API.
jobhostincludedir = $(includedir)/jobhost
jobhostinclude_HEADERS = \
	sdk/include/jobhost/jobhost.h \
	sdk/include/jobhost/error.h \
	sdk/include/jobhost/param.h \
	sdk/include/jobhost/services.h \
	sdk/include/jobhost/connector.h \
	sdk/include/jobhost/plugin.h \
	sdk/include/jobhost/testkit.h
nodist_jobhostinclude_HEADERS = sdk/include/jobhost/version.h

pkgconfig_DATA = sdk/jobhost-sdk.pc sdk/jobhost-testkit.pc

# The test kit (jobhost/testkit.h, doc/sdk.md "The test kit"): a plugin's
# unit tests link it to run a task, an export or a fulfill in process. It
# is the host's own code: the services table, the pipeline loader and the
# built-in ExportTask and FulfillTask, compiled in with their descriptors
# renamed (the test's plugin has the one jobhost_plugin_descriptor). It is
# installed as a static library only: it is linked into test programs,
# never loaded at run time, and so makes no ABI promise of its own
# (jobhost-testkit.pc lists the libraries it needs).
lib_LTLIBRARIES = sdk/libjobhost-testkit.la
noinst_LTLIBRARIES += sdk/testkit/libjh-kit-export.la \
	sdk/testkit/libjh-kit-fulfill.la
sdk_testkit_libjh_kit_export_la_SOURCES = plugins/export/export.c
sdk_testkit_libjh_kit_export_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) \
	-Djobhost_plugin_descriptor=jh_testkit_export_plugin
sdk_testkit_libjh_kit_fulfill_la_SOURCES = plugins/fulfill/fulfill.c \
	plugins/fulfill/journal.c plugins/fulfill/order.c
sdk_testkit_libjh_kit_fulfill_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) \
	$(SQLITE_CFLAGS) $(JANSSON_CFLAGS) \
	-Djobhost_plugin_descriptor=jh_testkit_fulfill_plugin
sdk_libjobhost_testkit_la_SOURCES = sdk/testkit/testkit.c
sdk_libjobhost_testkit_la_CPPFLAGS = $(BASE_CPPFLAGS) $(HOST_ENGINE_INC) \
	$(SQLITE_CFLAGS) $(JANSSON_CFLAGS)
sdk_libjobhost_testkit_la_LDFLAGS = -static
sdk_libjobhost_testkit_la_LIBADD = sdk/testkit/libjh-kit-export.la \
	sdk/testkit/libjh-kit-fulfill.la host/engine/libjh-engine.la \
	host/config/libjh-config.la host/store/libjh-store.la \
	host/loader/libjh-loader.la lib/libjobhost-private.la \
	$(JANSSON_LIBS) $(SQLITE_LIBS)

# The SDK's documents, installed in $(docdir) (jobhost-sdk(7) names them):
# the guide from the skeleton to a connector, and the ABI's rules.
dist_doc_DATA = doc/sdk-guide.md doc/sdk.md

# The skeleton is installed where jobhost-sdk.pc says (skeletondir), for
# authors to copy.
skeletondir = $(pkgdatadir)/skeleton
dist_skeleton_DATA = sdk/skeleton/skeleton.c sdk/skeleton/Makefile \
	sdk/skeleton/README.md sdk/skeleton/test_skeleton.c

# The skeleton: what an out-of-tree author copies. make check builds it with
# the in-tree headers; installcheck builds it out of tree against the
# installed SDK with pkg-config flags only, from the copy installed in the
# skeletondir that jobhost-sdk.pc names (what the skeleton README tells).
check_LTLIBRARIES += sdk/skeleton/skeleton.la
sdk_skeleton_skeleton_la_SOURCES = sdk/skeleton/skeleton.c
sdk_skeleton_skeleton_la_LDFLAGS = $(PLUGIN_LDFLAGS) -rpath /nowhere
# Its unit test (test_skeleton.c, on the test kit), the one `make check`
# in the skeleton folder runs.
check_PROGRAMS += sdk/skeleton/test_skeleton
TESTS += sdk/skeleton/test_skeleton
sdk_skeleton_test_skeleton_SOURCES = sdk/skeleton/test_skeleton.c \
	sdk/skeleton/skeleton.c
sdk_skeleton_test_skeleton_CPPFLAGS = $(BASE_CPPFLAGS)
sdk_skeleton_test_skeleton_LDADD = sdk/libjobhost-testkit.la

# The jsonl example (sdk/examples/jsonl): a connector package written
# against the SDK alone, installed beside the skeleton for authors to read
# and copy (examplesdir in jobhost-sdk.pc). make check builds the package
# and runs its unit test (the test kit) in the tree; installcheck builds
# both from the installed copy with pkg-config only, runs the test, and
# runs the package in a pipeline with the installed jobhost.
examplesdir = $(pkgdatadir)/examples
jsonldir = $(examplesdir)/jsonl
dist_jsonl_DATA = sdk/examples/jsonl/jsonl.c sdk/examples/jsonl/test_jsonl.c \
	sdk/examples/jsonl/Makefile sdk/examples/jsonl/README.md \
	sdk/examples/jsonl/model.yaml sdk/examples/jsonl/pipeline.yaml \
	sdk/examples/jsonl/people.jsonl sdk/examples/jsonl/accounts.jsonl
check_LTLIBRARIES += sdk/examples/jsonl/jsonl.la
sdk_examples_jsonl_jsonl_la_SOURCES = sdk/examples/jsonl/jsonl.c
sdk_examples_jsonl_jsonl_la_CPPFLAGS = $(BASE_CPPFLAGS) $(JANSSON_CFLAGS)
sdk_examples_jsonl_jsonl_la_LDFLAGS = $(PLUGIN_LDFLAGS) -rpath /nowhere
sdk_examples_jsonl_jsonl_la_LIBADD = $(JANSSON_LIBS)
check_PROGRAMS += sdk/examples/jsonl/test_jsonl
TESTS += sdk/examples/jsonl/test_jsonl
sdk_examples_jsonl_test_jsonl_SOURCES = sdk/examples/jsonl/test_jsonl.c \
	sdk/examples/jsonl/jsonl.c
sdk_examples_jsonl_test_jsonl_CPPFLAGS = $(BASE_CPPFLAGS) $(JANSSON_CFLAGS)
sdk_examples_jsonl_test_jsonl_LDADD = sdk/libjobhost-testkit.la \
	$(JANSSON_LIBS)

installcheck-local: installcheck-skeleton installcheck-jsonl
installcheck-skeleton:
	rm -rf sdk-oot && mkdir sdk-oot
	pc() { PKG_CONFIG_PATH="$(DESTDIR)$(libdir)/pkgconfig" \
	  $(PKG_CONFIG) --variable=$$1 jobhost-sdk; } && \
	dir=`pc skeletondir` && test "$$dir" = "$(skeletondir)" && \
	cp "$(DESTDIR)$$dir"/skeleton.c "$(DESTDIR)$$dir"/Makefile \
	  "$(DESTDIR)$$dir"/README.md "$(DESTDIR)$$dir"/test_skeleton.c \
	  sdk-oot/ && \
	test "`pc abi_major`" = "$(JOBHOST_ABI_MAJOR)" && \
	test "`pc abi_minor`" = "$(JOBHOST_ABI_MINOR)"
	PKG_CONFIG_PATH="$(DESTDIR)$(libdir)/pkgconfig" \
	PKG_CONFIG_SYSROOT_DIR="$(DESTDIR)" \
	LD_LIBRARY_PATH="$(DESTDIR)$(libdir)$${LD_LIBRARY_PATH:+:$$LD_LIBRARY_PATH}" \
	  $(MAKE) -C sdk-oot CC="$(CC)" skeleton.so check
	$(DESTDIR)$(bindir)/jobhost plugins --json --plugin-dir sdk-oot > sdk-oot/plugins.json
	grep -q '"name": "skeleton"' sdk-oot/plugins.json
	grep -q '"refused": \[\]' sdk-oot/plugins.json
	$(DESTDIR)$(bindir)/jobhost plugins --json \
	  --plugin-dir "$(DESTDIR)$(plugindir)" --plugin-dir sdk-oot > sdk-oot/all.json
	for p in export prepare synchronize compute fulfill classify profiles skeleton; do \
	  grep -q "\"name\": \"$$p\"" sdk-oot/all.json || { echo "plugin $$p missing" >&2; exit 1; }; \
	done
	rm -rf sdk-oot
.PHONY: installcheck-skeleton

# The jsonl example from its installed copy: built with pkg-config only
# (jobhost-sdk, jobhost-testkit, jansson), its test run against the
# installed test kit, then its job run twice with the installed jobhost:
# the first fulfills three orders into accounts.jsonl, the second finds
# the accounts as wanted (3 verified) and skips the fulfillment.
installcheck-jsonl:
	rm -rf sdk-oot-jsonl && mkdir sdk-oot-jsonl
	pc() { PKG_CONFIG_PATH="$(DESTDIR)$(libdir)/pkgconfig" \
	  $(PKG_CONFIG) --variable=$$1 jobhost-sdk; } && \
	dir=`pc examplesdir` && test "$$dir" = "$(examplesdir)" && \
	cp "$(DESTDIR)$$dir"/jsonl/* sdk-oot-jsonl/
	PKG_CONFIG_PATH="$(DESTDIR)$(libdir)/pkgconfig" \
	PKG_CONFIG_SYSROOT_DIR="$(DESTDIR)" \
	LD_LIBRARY_PATH="$(DESTDIR)$(libdir)$${LD_LIBRARY_PATH:+:$$LD_LIBRARY_PATH}" \
	  $(MAKE) -C sdk-oot-jsonl CC="$(CC)" all check
	cd sdk-oot-jsonl && \
	jh() { "$(DESTDIR)$(bindir)/jobhost" "$$@"; } && \
	dirs="--plugin-dir $(DESTDIR)$(plugindir) --plugin-dir ." && \
	jh validate $$dirs pipeline.yaml && \
	jh run --home home $$dirs --force --report first.json pipeline.yaml \
	  > first.out 2>&1 && \
	grep -q '"state": "Succeeded"' first.json && \
	grep -q '3 orders applied: 3 executed, 0 errored' first.out && \
	test `wc -l < accounts.jsonl` -eq 3 && \
	grep -q '"login":"E001","display_name":"Ann Lee","department":"Sales"' \
	  accounts.jsonl && \
	grep -q '"display_name":"Cy Moss","login":"E003"' accounts.jsonl && \
	jh run --home home $$dirs --force --report second.json pipeline.yaml \
	  > second.out 2>&1 && \
	grep -q '3 verified' second.out && \
	grep -q 'Fulfill Skipped' second.out
	rm -rf sdk-oot-jsonl
.PHONY: installcheck-jsonl
