/*
 * atomic_file.c — see atomic_file.h. Shared by the host and the built-in
 * plugins (lib/libjobhost-private).
 */
#include "config.h"

#include "atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEMP_MARK ".tmp."

int jh_write_file_atomic(const char *path, const void *data, size_t len,
                         mode_t mode) {
  char tmp[PATH_MAX];
  int fd, rc = 0;

  if ((size_t)snprintf(tmp, sizeof(tmp), "%s" TEMP_MARK "%ld", path,
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

int jh_atomic_temp_name(const char *name, long *pid) {
  const char *mark = strstr(name, TEMP_MARK), *digits;
  char *end;
  long v;
  /* the last ".tmp." of the name, with only digits after it */
  for (const char *m = mark; m != NULL; m = strstr(m + 1, TEMP_MARK))
    mark = m;
  if (mark == NULL || mark == name)
    return 0;
  digits = mark + strlen(TEMP_MARK);
  if (*digits < '0' || *digits > '9')
    return 0;
  errno = 0;
  v = strtol(digits, &end, 10);
  if (*end != '\0' || errno != 0 || v <= 0 || v > INT_MAX)
    return 0;
  *pid = v;
  return 1;
}

/* Whether the process pid is gone (not merely someone else's): it does
 * not exist, or it has exited and waits to be reaped (a zombie). */
static int process_gone(long pid) {
  char path[64], buf[512], *close_paren;
  FILE *f;
  size_t n;
  if (kill((pid_t)pid, 0) != 0)
    return errno == ESRCH;
  snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
  if ((f = fopen(path, "re")) == NULL)
    return errno == ENOENT;
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  /* "pid (comm) S ...": the state follows the last parenthesis */
  close_paren = strrchr(buf, ')');
  return close_paren != NULL && close_paren[1] == ' ' && close_paren[2] == 'Z';
}

int jh_dir_each(const char *dir,
                int (*fn)(const char *path, const char *name, void *arg),
                void *arg) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int count = 0;
  if (d == NULL)
    return 0;
  while ((e = readdir(d)) != NULL) {
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >=
        sizeof(path))
      continue;
    if (fn(path, e->d_name, arg))
      count++;
  }
  closedir(d);
  return count;
}

/* jh_dir_each: remove path when it is a dead writer's temporary file (or
 * any writer's, with *all nonzero); 1 when removed. */
static int remove_atomic_temp(const char *path, const char *name, void *all) {
  struct stat st;
  long pid;
  if (!jh_atomic_temp_name(name, &pid) ||
      (!*(const int *)all && !process_gone(pid)))
    return 0;
  return lstat(path, &st) == 0 && S_ISREG(st.st_mode) && unlink(path) == 0;
}

int jh_sweep_atomic_temps(const char *dir, int all) {
  return jh_dir_each(dir, remove_atomic_temp, &all);
}

/* ---- removing a tree ---- */

static _Thread_local int remove_first_error;

static int remove_entry(const char *path, const struct stat *sb, int flag,
                        struct FTW *ftw) {
  (void)sb;
  (void)ftw;
  if ((flag == FTW_DP ? rmdir(path) : unlink(path)) != 0 && errno != ENOENT &&
      remove_first_error == 0)
    remove_first_error = -errno;
  return 0; /* on with the rest */
}

int jh_remove_tree(const char *path) {
  if (unlink(path) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR && errno != EPERM)
    return -errno;
  remove_first_error = 0;
  if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
    return errno == ENOENT ? 0 : -errno;
  return remove_first_error;
}

char *jh_path_join(const char *dir, const char *name) {
  size_t size = strlen(dir) + strlen(name) + 2;
  char *p = malloc(size);
  if (p != NULL)
    snprintf(p, size, "%s/%s", dir, name);
  return p;
}
