/*
 * enospc.c — an LD_PRELOAD shim that makes one write to a regular file
 * fail with ENOSPC, as a full disk would (doc/faults.md).
 *
 *   JH_ENOSPC_COUNT  a file holding a 64-bit counter (made by the harness,
 *                    zeroed); every process of the run adds its writes to
 *                    it, so the count goes over the host and its workers
 *   JH_ENOSPC_AT     N: the N-th counted call fails with ENOSPC and
 *                    writes nothing; 0 only counts
 *   JH_ENOSPC_IGNORE a comma-separated list of texts: writes to a file
 *                    whose path contains one of them are not counted
 *
 * The call that fails writes the path of its file after the counter (at
 * offset 8, NUL-terminated), so that the harness can name it.
 *
 * Counted calls: write, pwrite, pwrite64, writev, fallocate, fallocate64,
 * posix_fallocate, posix_fallocate64, and ftruncate/ftruncate64 that
 * extend a file; only on regular files (pipes, sockets, terminals and the
 * standard descriptors are never full). stdio's own flushes go through
 * the C library's internal write, which no preload reaches.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static uint64_t *counter; /* shared, in JH_ENOSPC_COUNT */
static char count_path[4096];
static const char *ignore; /* JH_ENOSPC_IGNORE */
static uint64_t fail_at;
static int setup_done;

static void setup(void) {
  const char *path = getenv("JH_ENOSPC_COUNT");
  const char *at = getenv("JH_ENOSPC_AT");
  int fd;
  setup_done = 1;
  if (path == NULL || at == NULL)
    return;
  fail_at = strtoull(at, NULL, 10);
  ignore = getenv("JH_ENOSPC_IGNORE");
  fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return;
  counter = mmap(NULL, sizeof(*counter), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                 0);
  if (counter == MAP_FAILED)
    counter = NULL;
  close(fd);
  snprintf(count_path, sizeof(count_path), "%s", path);
}

typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);

/* Name the file of the failed call in the counter file (opened by its
 * name: a descriptor kept open would not survive the fork server, which
 * closes what it inherits). */
static void name_it(int fd) {
  char link[64], path[4096];
  ssize_t n;
  int cfd;
  snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  n = readlink(link, path, sizeof(path) - 1);
  if (n < 0)
    n = 0;
  path[n] = '\0';
  cfd = open(count_path, O_WRONLY | O_CLOEXEC);
  if (cfd < 0)
    return;
  ((pwrite_fn)dlsym(RTLD_NEXT, "pwrite"))(cfd, path, (size_t)n + 1, 8);
  close(cfd);
}

/* Whether fd's file is one JH_ENOSPC_IGNORE leaves out. */
static int ignored(int fd) {
  char link[64], path[4096];
  ssize_t n;
  if (ignore == NULL || *ignore == '\0')
    return 0;
  snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  n = readlink(link, path, sizeof(path) - 1);
  if (n < 0)
    return 0;
  path[n] = '\0';
  for (const char *s = ignore; *s;) {
    size_t len = strcspn(s, ",");
    if (len > 0 && memmem(path, (size_t)n, s, len) != NULL)
      return 1;
    s += len + (s[len] == ',');
  }
  return 0;
}

/* Whether this call on fd is the one to fail. */
static int full(int fd) {
  struct stat st;
  if (!setup_done)
    setup();
  if (counter == NULL || fd <= 2 || fstat(fd, &st) != 0 ||
      !S_ISREG(st.st_mode) || ignored(fd))
    return 0;
  if (__atomic_add_fetch(counter, 1, __ATOMIC_SEQ_CST) != fail_at)
    return 0;
  name_it(fd);
  return 1;
}

/* Whether ftruncate(fd, len) extends the file (and so needs space). */
static int extends(int fd, off_t len) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && len > st.st_size;
}

#define NEXT(name) ((name##_fn)dlsym(RTLD_NEXT, #name))

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite64_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef int (*fallocate_fn)(int, int, off_t, off_t);
typedef int (*fallocate64_fn)(int, int, off_t, off_t);
typedef int (*posix_fallocate_fn)(int, off_t, off_t);
typedef int (*posix_fallocate64_fn)(int, off_t, off_t);
typedef int (*ftruncate_fn)(int, off_t);
typedef int (*ftruncate64_fn)(int, off_t);

ssize_t write(int fd, const void *buf, size_t n) {
  if (full(fd)) {
    errno = ENOSPC;
    return -1;
  }
  return NEXT(write)(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
  if (full(fd)) {
    errno = ENOSPC;
    return -1;
  }
  return NEXT(pwrite)(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) {
  if (full(fd)) {
    errno = ENOSPC;
    return -1;
  }
  return NEXT(pwrite64)(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int n) {
  if (full(fd)) {
    errno = ENOSPC;
    return -1;
  }
  return NEXT(writev)(fd, iov, n);
}

int fallocate(int fd, int mode, off_t off, off_t len) {
  if (full(fd)) {
    errno = ENOSPC;
    return -1;
  }
  return NEXT(fallocate)(fd, mode, off, len);
}

int fallocate64(int fd, int mode, off_t off, off_t len) {
  if (full(fd)) {
    errno = ENOSPC;
    return -1;
  }
  return NEXT(fallocate64)(fd, mode, off, len);
}

/* posix_fallocate returns the error instead of setting errno. */
int posix_fallocate(int fd, off_t off, off_t len) {
  if (full(fd))
    return ENOSPC;
  return NEXT(posix_fallocate)(fd, off, len);
}

int posix_fallocate64(int fd, off_t off, off_t len) {
  if (full(fd))
    return ENOSPC;
  return NEXT(posix_fallocate64)(fd, off, len);
}

int ftruncate(int fd, off_t len) {
  if (extends(fd, len) && full(fd)) {
    errno = ENOSPC;
    return -1;
  }
  return NEXT(ftruncate)(fd, len);
}

int ftruncate64(int fd, off_t len) {
  if (extends(fd, len) && full(fd)) {
    errno = ENOSPC;
    return -1;
  }
  return NEXT(ftruncate64)(fd, len);
}
