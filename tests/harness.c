/*
 * harness.c — see harness.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

const char *jh_test_env(const char *name) {
  const char *v = getenv(name);
  if (v == NULL || *v == '\0')
    fail_msg("environment variable %s is not set (run through make check)",
             name);
  return v;
}

char *jh_test_source(const char *fmt, ...) {
  char *rel, *path;
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vasprintf(&rel, fmt, ap);
  va_end(ap);
  if (n < 0 || asprintf(&path, "%s/%s", jh_test_env("JH_TOP_SRCDIR"), rel) < 0)
    fail_msg("out of memory");
  free(rel);
  return path;
}

void jh_test_mkdtemp(char *buf, size_t size) {
  const char *tmp = getenv("TMPDIR");
  if ((size_t)snprintf(buf, size, "%s/jobhost-test-XXXXXX",
                       tmp && *tmp ? tmp : "/tmp") >= size)
    fail_msg("temporary path too long");
  if (mkdtemp(buf) == NULL)
    fail_msg("mkdtemp %s: %s", buf, strerror(errno));
}

void *jh_test_fixture(size_t size, size_t dir_size) {
  char *f = calloc(1, size);
  if (f == NULL || dir_size > size)
    fail_msg("cannot make a fixture of %zu bytes", size);
  jh_test_mkdtemp(f, dir_size);
  return f;
}

void jh_test_fixture_free(void *fixture) {
  jh_test_rmtree(fixture);
  free(fixture);
}

void jh_test_mkdir(const char *path) {
  if (mkdir(path, 0700) != 0)
    fail_msg("mkdir %s: %s", path, strerror(errno));
}

int jh_test_teardown_fixture(void **state) {
  jh_test_fixture_free(*state);
  return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

void jh_test_rmtree(const char *dir) {
  chmod(dir, 0700);
  if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
    fail_msg("cannot remove %s: %s", dir, strerror(errno));
}

void jh_test_path(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= size)
    fail_msg("path too long: %s...", buf);
}

void jh_test_write_file(const char *path, const char *text, unsigned mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  size_t len = strlen(text);
  if (fd < 0)
    fail_msg("open %s: %s", path, strerror(errno));
  if (write(fd, text, len) != (ssize_t)len)
    fail_msg("write %s: %s", path, strerror(errno));
  close(fd);
  if (chmod(path, mode) != 0)
    fail_msg("chmod %s: %s", path, strerror(errno));
}

void jh_test_copy_file(const char *src, const char *dir, const char *as) {
  char dst[PATH_MAX], buf[65536];
  ssize_t got;
  int in = open(src, O_RDONLY | O_CLOEXEC), out;
  if (in < 0)
    fail_msg("open %s: %s", src, strerror(errno));
  snprintf(dst, sizeof(dst), "%s/%s", dir, as);
  out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0)
    fail_msg("open %s: %s", dst, strerror(errno));
  while ((got = read(in, buf, sizeof(buf))) > 0)
    if (write(out, buf, (size_t)got) != got)
      fail_msg("write %s: %s", dst, strerror(errno));
  if (got < 0)
    fail_msg("read %s: %s", src, strerror(errno));
  close(in);
  close(out);
}

void jh_test_copy_builtin(const char *name, const char *dir) {
  char src[PATH_MAX], as[256];
  snprintf(src, sizeof(src), "%s/.libs/%s.so",
           jh_test_env("JH_BUILTIN_PLUGIN_DIR"), name);
  snprintf(as, sizeof(as), "%s.so", name);
  jh_test_copy_file(src, dir, as);
}

void jh_test_copy_test_plugin(const char *name, const char *dir,
                              const char *as) {
  char src[PATH_MAX];
  snprintf(src, sizeof(src), "%s/%s.so", jh_test_env("JH_TEST_PLUGIN_DIR"),
           name);
  jh_test_copy_file(src, dir, as);
}

char *jh_test_read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t len = 0, cap = 0, got;
  if (f == NULL)
    fail_msg("cannot open %s: %s", path, strerror(errno));
  do {
    if (cap - len < 4096 + 1) {
      char *grown = realloc(buf, cap = cap * 2 + 4096 + 1);
      if (grown == NULL)
        fail_msg("out of memory");
      buf = grown;
    }
    got = fread(buf + len, 1, cap - len - 1, f);
    len += got;
  } while (got > 0);
  if (ferror(f))
    fail_msg("read %s: %s", path, strerror(errno));
  fclose(f);
  buf[len] = '\0';
  return buf;
}

void jh_test_assert_file(const char *path, const char *want) {
  char *got = jh_test_read_file(path);
  if (strcmp(got, want) != 0)
    fail_msg("%s:\n--- got ---\n%s--- expected ---\n%s", path, got, want);
  free(got);
}

int jh_test_exists(const char *path) { return access(path, F_OK) == 0; }

long jh_test_count_entries(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  long n = 0;
  if (d == NULL)
    return -1;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      n++;
  closedir(d);
  return n;
}

long jh_test_dead_pid(void) {
  int status;
  pid_t pid = fork();
  if (pid < 0)
    fail_msg("fork: %s", strerror(errno));
  if (pid == 0)
    _exit(0);
  if (waitpid(pid, &status, 0) != pid)
    fail_msg("waitpid: %s", strerror(errno));
  return (long)pid;
}

static char *slurp_fd(int fd) {
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  ssize_t got;
  if (buf == NULL)
    fail_msg("out of memory");
  while ((got = read(fd, buf + len, cap - len - 1)) > 0) {
    len += (size_t)got;
    if (cap - len < 2) {
      char *grown = realloc(buf, cap *= 2);
      if (grown == NULL)
        fail_msg("out of memory");
      buf = grown;
    }
  }
  buf[len] = '\0';
  return buf;
}

int jh_test_run(const char *const *argv, char **out, char **err) {
  char outpath[] = "/tmp/jobhost-test-out-XXXXXX";
  char errpath[] = "/tmp/jobhost-test-err-XXXXXX";
  int ofd = mkstemp(outpath), efd = mkstemp(errpath), status;
  pid_t pid;

  if (ofd < 0 || efd < 0)
    fail_msg("mkstemp: %s", strerror(errno));
  unlink(outpath);
  unlink(errpath);
  pid = fork();
  if (pid < 0)
    fail_msg("fork: %s", strerror(errno));
  if (pid == 0) {
    dup2(ofd, 1);
    dup2(efd, 2);
    /* Nothing else open, as when a user starts jobhost: the program must
     * not depend on which descriptors happen to be taken. */
    close_range(3, ~0U, 0);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  if (waitpid(pid, &status, 0) != pid)
    fail_msg("waitpid: %s", strerror(errno));
  lseek(ofd, 0, SEEK_SET);
  lseek(efd, 0, SEEK_SET);
  if (out != NULL)
    *out = slurp_fd(ofd);
  if (err != NULL)
    *err = slurp_fd(efd);
  close(ofd);
  close(efd);
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}
