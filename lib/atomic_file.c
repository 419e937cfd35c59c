/*
 * atomic_file.c — see atomic_file.h. Shared by the host and the built-in
 * plugins (lib/libjobhost-private).
 */
#include "config.h"

#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

int jh_write_file_atomic(const char *path, const void *data, size_t len,
                         mode_t mode) {
  char tmp[PATH_MAX];
  int fd, rc = 0;

  if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path,
                       (long)getpid()) >= sizeof(tmp))
    return -ENAMETOOLONG;
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return -errno;
  for (size_t off = 0; rc == 0 && off < len;) {
    ssize_t w = write(fd, (const char *)data + off, len - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      rc = w < 0 ? -errno : -EIO;
    else
      off += (size_t)w;
  }
  if (rc == 0 && fsync(fd) != 0)
    rc = -errno;
  if (close(fd) != 0 && rc == 0)
    rc = -errno;
  if (rc == 0 && rename(tmp, path) != 0)
    rc = -errno;
  if (rc != 0)
    unlink(tmp);
  return rc;
}

int jh_fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;
  if (fd < 0)
    return -errno;
  if (fsync(fd) != 0)
    rc = -errno;
  close(fd);
  return rc;
}
