# jh_sanitize.m4 — the sanitizer build (--enable-sanitizers) and the fuzz
# build (--enable-fuzz, clang's libFuzzer).
#
# Both put their flags into CC itself, so that every object, every
# libtool library and plugin, every program and test is compiled and
# linked with them (libtool drops some -f flags from the link lines of
# shared libraries, never the compiler's own words).

# JH_CC_ACCEPTS(FLAGS, [IF-YES], [IF-NO], [PROGRAM])
# --------------------------------------------------
# Whether $CC compiles and links PROGRAM (default: an empty main) with
# FLAGS.
AC_DEFUN([JH_CC_ACCEPTS], [
  jh_save_CFLAGS=$CFLAGS
  jh_save_LDFLAGS=$LDFLAGS
  CFLAGS="$CFLAGS $1"
  LDFLAGS="$LDFLAGS $1"
  AC_LINK_IFELSE([m4_default([$4], [AC_LANG_PROGRAM([], [])])], [$2], [$3])
  CFLAGS=$jh_save_CFLAGS
  LDFLAGS=$jh_save_LDFLAGS
])

# JH_SANITIZERS
# -------------
# --enable-sanitizers: AddressSanitizer (with LeakSanitizer) and
# UndefinedBehaviorSanitizer, an undefined-behaviour report ending the
# program (so that a test fails), frame pointers kept for readable
# stacks. valgrind cannot run such programs: it is left out.
# --enable-fuzz: clang only; everything is instrumented for libFuzzer
# (-fsanitize=fuzzer-no-link) with the same sanitizers, and the fuzz
# targets of tests/fuzz are linked with -fsanitize=fuzzer (FUZZ_LDFLAGS).
AC_DEFUN([JH_SANITIZERS], [
  AC_ARG_ENABLE([sanitizers],
    [AS_HELP_STRING([--enable-sanitizers],
      [build and test with AddressSanitizer and UndefinedBehaviorSanitizer (no valgrind)])],
    [], [enable_sanitizers=no])
  AC_ARG_ENABLE([fuzz],
    [AS_HELP_STRING([--enable-fuzz],
      [build the libFuzzer targets of tests/fuzz (clang; implies the sanitizers)])],
    [], [enable_fuzz=no])

  JH_SAN_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
  FUZZ_LDFLAGS=
  AS_IF([test "x$enable_fuzz" = xyes], [
    AC_MSG_CHECKING([whether $CC is clang])
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [[
#ifndef __clang__
#error not clang
#endif
]])], [AC_MSG_RESULT([yes])],
      [AC_MSG_RESULT([no])
       AC_MSG_ERROR([--enable-fuzz needs clang: ./configure CC=clang --enable-fuzz])])
    JH_SAN_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
    AC_MSG_CHECKING([whether $CC links libFuzzer])
    JH_CC_ACCEPTS([-fsanitize=fuzzer],
      [AC_MSG_RESULT([yes])],
      [AC_MSG_RESULT([no])
       AC_MSG_ERROR([clang cannot link -fsanitize=fuzzer.
    On Debian, install libFuzzer with:  apt-get install libclang-rt-14-dev])],
      [AC_LANG_SOURCE([[
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return data != NULL && size > 0 ? 0 : 0;
}
]])])
    FUZZ_LDFLAGS="-fsanitize=fuzzer"
    enable_sanitizers=yes
  ])
  AS_IF([test "x$enable_sanitizers" = xyes], [
    AC_MSG_CHECKING([whether $CC accepts $JH_SAN_FLAGS])
    JH_CC_ACCEPTS([$JH_SAN_FLAGS],
      [AC_MSG_RESULT([yes])],
      [AC_MSG_RESULT([no])
       AC_MSG_ERROR([$CC cannot build with $JH_SAN_FLAGS.
    On Debian, gcc needs libasan and libubsan (apt-get install gcc), clang libclang-rt-14-dev])])
    CC="$CC $JH_SAN_FLAGS"
  ])
  AC_SUBST([FUZZ_LDFLAGS])
  AM_CONDITIONAL([JH_FUZZ], [test "x$enable_fuzz" = xyes])
  AM_CONDITIONAL([JH_SANITIZERS], [test "x$enable_sanitizers" = xyes])
])
