#!/bin/sh
# Runs one test, under valgrind when configure found it (VALGRIND set) and
# JH_NO_VALGRIND is not set. Any memory error or definite leak fails it.
# The LDAP server a test starts (slapd, slapadd, openssl making its
# certificates) runs outside valgrind: it is not the code under test.
# absolute: a test may run the program from another folder, and valgrind
# follows it there with the same options
here=$(cd "$(dirname "$0")" && pwd)
# test_daemon runs `jobhost daemon` and the jobs it starts against a
# test clock that runs many times faster than time: they run outside
# valgrind too (the test itself does not).
skip='*/slapd,*/slapadd,*/openssl'
case "$1" in
*/test_daemon) skip="$skip,*/jobhost" ;;
esac
if [ -n "$VALGRIND" ] && [ -z "$JH_NO_VALGRIND" ]; then
  exec "$VALGRIND" --quiet --error-exitcode=99 --trace-children=yes \
    --trace-children-skip="$skip" \
    --leak-check=full --show-leak-kinds=definite \
    --errors-for-leak-kinds=definite \
    --suppressions="$here/valgrind.supp" "$@"
fi
exec "$@"
