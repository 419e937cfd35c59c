/*
 * testutil.h — helpers shared by the cmocka tests: temporary folders,
 * copying built plugins, running the jobhost program.
 *
 * Every helper fails the current test (cmocka fail_msg) instead of
 * returning an error.
 */
#ifndef JH_TESTUTIL_H
#define JH_TESTUTIL_H

#include <stddef.h>

/* Value of a required environment variable set by tests/local.mk. */
const char *jh_test_env(const char *name);

/* Create a fresh 0700 folder under $TMPDIR (or /tmp) into buf. */
void jh_test_mkdtemp(char *buf, size_t size);

/* Remove a folder and everything under it. */
void jh_test_rmtree(const char *dir);

/* Write `text` to path with the given mode. */
void jh_test_write_file(const char *path, const char *text, unsigned mode);

/* Copy src into dir under the name `as`, mode 0644. */
void jh_test_copy_file(const char *src, const char *dir, const char *as);

/* Copy the built-in plugin `name` (its .so) into dir as name.so. */
void jh_test_copy_builtin(const char *name, const char *dir);

/* Copy the test plugin `name` built under tests/plugins into dir as `as`. */
void jh_test_copy_test_plugin(const char *name, const char *dir,
                              const char *as);

/* Run argv (argv[0] a path) with stdout and stderr captured; returns the
 * exit status (or 128+signal). *out and *err receive malloc'd text (free
 * them); either may be NULL to discard. */
int jh_test_run(const char *const *argv, char **out, char **err);

#endif /* JH_TESTUTIL_H */
