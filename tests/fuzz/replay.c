/*
 * replay.c — the driver that stands in for libFuzzer in make check: it
 * passes every regular file of the folders (or the files) named on its
 * command line, one at a time, to the target's LLVMFuzzerTestOneInput,
 * the entry point libFuzzer calls. A crash, a sanitizer report or a
 * memory error under valgrind fails the test like any other.
 *
 * Without arguments it replays the target's seeds and saved crash
 * inputs: tests/fuzz/seeds/<target> and tests/fuzz/regressions/<target>
 * of $JH_TOP_SRCDIR (the source tree), so that the test runs from any
 * build folder. JH_FUZZ_TARGET, the target's name, is set at build time.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Weak: targets without an initializer need not define one. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  return 0;
}

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  uint8_t *data = NULL;
  size_t size = 0, cap = 0;
  if (f == NULL) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    return -1;
  }
  for (;;) {
    size_t n;
    if (size == cap) {
      uint8_t *p = realloc(data, cap ? cap * 2 : 4096);
      if (p == NULL) {
        fprintf(stderr, "replay: %s: out of memory\n", path);
        free(data);
        fclose(f);
        return -1;
      }
      data = p;
      cap = cap ? cap * 2 : 4096;
    }
    n = fread(data + size, 1, cap - size, f);
    size += n;
    if (n == 0)
      break;
  }
  if (ferror(f)) {
    fprintf(stderr, "replay: %s: read error\n", path);
    free(data);
    fclose(f);
    return -1;
  }
  fclose(f);
  (void)LLVMFuzzerTestOneInput(data, size);
  free(data);
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay the files of dir in name order (so runs are reproducible);
 * returns how many, or -1. */
static long replay_dir(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char **names = NULL;
  size_t n = 0, cap = 0;
  long count = 0;
  if (d == NULL) {
    fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
    return -1;
  }
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    if (n == cap) {
      char **p = realloc(names, (cap ? cap * 2 : 16) * sizeof(*names));
      if (p == NULL)
        break;
      names = p;
      cap = cap ? cap * 2 : 16;
    }
    names[n] = strdup(e->d_name);
    if (names[n] == NULL)
      break;
    n++;
  }
  closedir(d);
  if (e != NULL) {
    fprintf(stderr, "replay: %s: out of memory\n", dir);
    count = -1;
  }
  qsort(names, n, sizeof(*names), by_name);
  for (size_t i = 0; i < n && count >= 0; i++) {
    char path[PATH_MAX];
    struct stat sb;
    snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
      continue;
    if (replay_file(path) != 0)
      count = -1;
    else
      count++;
  }
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  return count;
}

int main(int argc, char **argv) {
  const char *top = getenv("JH_TOP_SRCDIR");
  long total = 0;
  (void)LLVMFuzzerInitialize(&argc, &argv);
  for (int i = 1; i < argc; i++) {
    char path[PATH_MAX];
    struct stat sb;
    long n;
    snprintf(path, sizeof(path), "%s", argv[i]);
    if (stat(path, &sb) != 0) {
      fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
      return 1;
    }
    n = S_ISDIR(sb.st_mode) ? replay_dir(path) : (replay_file(path) ? -1 : 1);
    if (n < 0)
      return 1;
    total += n;
  }
  if (argc <= 1) {
    static const char *const kinds[] = {"seeds", "regressions"};
    for (size_t k = 0; k < 2; k++) {
      char path[PATH_MAX];
      struct stat sb;
      long n;
      snprintf(path, sizeof(path), "%s/tests/fuzz/%s/%s",
               top != NULL && *top != '\0' ? top : ".", kinds[k],
               JH_FUZZ_TARGET);
      if (stat(path, &sb) != 0 && k == 1)
        continue; /* no crash saved for this target */
      n = replay_dir(path);
      if (n < 0)
        return 1;
      total += n;
    }
    if (total == 0) {
      fprintf(stderr, "replay: no seed found for %s\n", JH_FUZZ_TARGET);
      return 1;
    }
  }
  printf("replay: %ld inputs, no crash\n", total);
  return 0;
}
