/*
 * fuzz_util.c — files and folders for the fuzz targets (fuzz.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

static char fuzz_dir[PATH_MAX];

static int remove_one(const char *path, const struct stat *sb, int type,
                      struct FTW *ftw) {
  (void)sb;
  (void)type;
  (void)ftw;
  (void)remove(path);
  return 0;
}

static void remove_dir(void) {
  if (fuzz_dir[0] != '\0')
    (void)nftw(fuzz_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *jh_fuzz_dir(void) {
  const char *tmp = getenv("TMPDIR");
  if (fuzz_dir[0] != '\0')
    return fuzz_dir;
  snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/jh-fuzz-XXXXXX",
           tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
  if (mkdtemp(fuzz_dir) == NULL) {
    fprintf(stderr, "fuzz: cannot make %s: %s\n", fuzz_dir, strerror(errno));
    exit(2);
  }
  atexit(remove_dir);
  return fuzz_dir;
}

const char *jh_fuzz_file(const char *name, const uint8_t *data, size_t size) {
  static char path[PATH_MAX];
  size_t done = 0;
  int fd;
  snprintf(path, sizeof(path), "%s/%s", jh_fuzz_dir(), name);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    fprintf(stderr, "fuzz: cannot write %s: %s\n", path, strerror(errno));
    exit(2);
  }
  while (done < size) {
    ssize_t n = write(fd, data + done, size - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      fprintf(stderr, "fuzz: cannot write %s: %s\n", path, strerror(errno));
      exit(2);
    }
    done += (size_t)n;
  }
  if (close(fd) != 0) {
    fprintf(stderr, "fuzz: cannot write %s: %s\n", path, strerror(errno));
    exit(2);
  }
  return path;
}

const char *jh_fuzz_plugin_dir(void) {
  const char *dir = getenv("JH_BUILTIN_PLUGIN_DIR");
  return dir != NULL && *dir != '\0' ? dir : JH_FUZZ_PLUGIN_DIR;
}
