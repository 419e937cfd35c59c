# tests/faults/faults.mk — see Makefile.am. The fault injection harness
# (doc/faults.md): kills at random and at fault points, and ENOSPC at
# writes through an LD_PRELOAD shim.
check_PROGRAMS += tests/faults/faults
tests_faults_faults_SOURCES = tests/faults/faults.c
tests_faults_faults_CPPFLAGS = $(BASE_CPPFLAGS) $(SQLITE_CFLAGS) \
	$(JANSSON_CFLAGS)
tests_faults_faults_LDADD = lib/libjobhost-private.la $(SQLITE_LIBS) \
	$(JANSSON_LIBS)

check_LTLIBRARIES += tests/faults/enospc.la
tests_faults_enospc_la_SOURCES = tests/faults/enospc.c
tests_faults_enospc_la_LDFLAGS = -module -avoid-version -shared \
	-rpath /nowhere
tests_faults_enospc_la_LIBADD = -ldl

FAULTS_ENV = JH_JOBHOST='$(abs_top_builddir)/jobhost' \
	JH_BUILTIN_PLUGIN_DIR='$(abs_top_builddir)/plugins' \
	JH_ENOSPC_SHIM='$(abs_top_builddir)/tests/faults/.libs/enospc.so'

# The short version, in make check: 10 kills and 10 ENOSPC. It runs as a
# script (.test) rather than through tests/testwrapper.sh: that wrapper
# puts every child under valgrind, which would move every timed kill and
# clash with the shim's LD_PRELOAD. The script runs the harness itself
# under valgrind (jobhost's own runs are checked by the other tests).
TESTS += tests/faults/short.test
EXTRA_DIST += tests/faults/short.test

# The full campaign: 200 kills, then ENOSPC at every write of every
# command. SEED=n starts from iteration seed n; FAULTS_ARGS changes the
# campaign (tests/faults/faults.c lists the options).
FAULTS_ARGS = -n 200 -E
check-faults: all tests/faults/faults tests/faults/enospc.la
	$(FAULTS_ENV) tests/faults/faults $(FAULTS_ARGS)
.PHONY: check-faults
