# sdk/ — the public, versioned plugin API.
jobhostincludedir = $(includedir)/jobhost
jobhostinclude_HEADERS = \
	sdk/include/jobhost/jobhost.h \
	sdk/include/jobhost/error.h \
	sdk/include/jobhost/param.h \
	sdk/include/jobhost/services.h \
	sdk/include/jobhost/connector.h \
	sdk/include/jobhost/plugin.h
nodist_jobhostinclude_HEADERS = sdk/include/jobhost/version.h

pkgconfig_DATA = sdk/jobhost-sdk.pc

# The skeleton: what an out-of-tree author copies. make check builds it with
# the in-tree headers; installcheck builds it out of tree against the
# installed SDK with pkg-config flags only.
check_LTLIBRARIES += sdk/skeleton/skeleton.la
sdk_skeleton_skeleton_la_SOURCES = sdk/skeleton/skeleton.c
sdk_skeleton_skeleton_la_LDFLAGS = $(PLUGIN_LDFLAGS) -rpath /nowhere
EXTRA_DIST += sdk/skeleton/Makefile sdk/skeleton/README.md

installcheck-local: installcheck-skeleton
installcheck-skeleton:
	rm -rf sdk-oot && mkdir sdk-oot
	cp $(srcdir)/sdk/skeleton/skeleton.c $(srcdir)/sdk/skeleton/Makefile sdk-oot/
	PKG_CONFIG_PATH="$(DESTDIR)$(libdir)/pkgconfig" \
	PKG_CONFIG_SYSROOT_DIR="$(DESTDIR)" \
	  $(MAKE) -C sdk-oot CC="$(CC)"
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
