# tests/sanitizers.mk — the test environment of a sanitizer build
# (./configure --enable-sanitizers or --enable-fuzz).
#
# AddressSanitizer and UndefinedBehaviorSanitizer report every memory
# error and undefined behaviour of the tests and of the jobhost programs
# they run (a report fails the test). LeakSanitizer is left out: its
# check at each process exit stops the process's threads with a tracer
# that now and then crashes itself ("Tracer caught signal 11"), failing a
# test that passed, and the tests run the program hundreds of times.
# Leaks are the valgrind pass's to find (make check in a normal build).
if JH_SANITIZERS
AM_TESTS_ENVIRONMENT += \
	ASAN_OPTIONS="detect_leaks=0$${ASAN_OPTIONS:+:$$ASAN_OPTIONS}"; \
	UBSAN_OPTIONS="print_stacktrace=1$${UBSAN_OPTIONS:+:$$UBSAN_OPTIONS}"; \
	export ASAN_OPTIONS UBSAN_OPTIONS;
endif
