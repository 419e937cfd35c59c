/*
 * harness.h — what every cmocka test of the tree shares, with nothing of
 * the host: the environment make check sets, temporary folders, files,
 * and running a program with its output captured. The tests of lib/ link
 * this and lib/ only; tests that run a plugin in their process add
 * harness_services.h (lib/ and the SDK), the host's tests harness_host.h.
 *
 * Every helper fails the current test (cmocka fail_msg) instead of
 * returning an error, unless it says otherwise.
 */
#ifndef JH_HARNESS_H
#define JH_HARNESS_H

#include <stddef.h>

#if defined(__GNUC__)
#define JH_TEST_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define JH_TEST_PRINTF(fmt, args)
#endif

/* Value of a required environment variable set by make check. */
const char *jh_test_env(const char *name);

/* The path of a file of the source tree, "$JH_TOP_SRCDIR/" followed by
 * the formatted text (malloc'd; free it). */
char *jh_test_source(const char *fmt, ...) JH_TEST_PRINTF(1, 2);

/* Create a fresh 0700 folder under $TMPDIR (or /tmp) into buf. */
void jh_test_mkdtemp(char *buf, size_t size);

/* A test's fixture: `size` zeroed bytes whose first member is the test's
 * temporary folder (char dir[dir_size]), made. Free it, folder and all,
 * with jh_test_fixture_free. */
void *jh_test_fixture(size_t size, size_t dir_size);
void jh_test_fixture_free(void *fixture);

/* A cmocka tear-down that frees the fixture *state with
 * jh_test_fixture_free. */
int jh_test_teardown_fixture(void **state);

/* Make the folder path, mode 0700. */
void jh_test_mkdir(const char *path);

/* Remove a folder and everything under it. */
void jh_test_rmtree(const char *dir);

/* snprintf into buf; a text that does not fit fails the test. */
void jh_test_path(char *buf, size_t size, const char *fmt, ...)
    JH_TEST_PRINTF(3, 4);

/* Write `text` to path with the given mode. */
void jh_test_write_file(const char *path, const char *text, unsigned mode);

/* Copy src into dir under the name `as`, mode 0644. */
void jh_test_copy_file(const char *src, const char *dir, const char *as);

/* Copy the built-in plugin `name` (its .so) into dir as name.so. */
void jh_test_copy_builtin(const char *name, const char *dir);

/* Copy the test plugin `name` built under tests/plugins into dir as `as`. */
void jh_test_copy_test_plugin(const char *name, const char *dir,
                              const char *as);

/* The whole file at path, NUL terminated (malloc'd; free it). */
char *jh_test_read_file(const char *path);

/* The file at path holds exactly `want` (a difference is shown). */
void jh_test_assert_file(const char *path, const char *want);

/* Nonzero when path names an existing file or folder. */
int jh_test_exists(const char *path);

/* Entries of folder dir other than . and .., or -1 when it cannot be
 * opened (it does not exist). */
long jh_test_count_entries(const char *dir);

/* A process id that names no process: a child that has exited and been
 * reaped. */
long jh_test_dead_pid(void);

/* Run argv (argv[0] a path) with stdout and stderr captured and nothing
 * else open; returns the exit status (or 128+signal). *out and *err
 * receive malloc'd text (free them); either may be NULL to discard. */
int jh_test_run(const char *const *argv, char **out, char **err);

#endif /* JH_HARNESS_H */
