/*
 * export_output.c — see export_output.h.
 */
#include "config.h"

#include "export_output.h"

#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A list larger than this is not one we wrote. */
#define LIST_MAX (4u * 1024 * 1024)

/* A name list: the names point into `text` or the caller's strings. */
typedef struct names {
  char *text; /* owned: the list file read */
  const char **v;
  size_t n, cap;
} names;

static int valid_stem(const char *s) {
  size_t len = strlen(s);
  if (len == 0 || len > 200 || s[0] == '.')
    return 0;
  for (; *s; s++)
    if (*s == '/' || *s == '\\' || (unsigned char)*s < 0x20)
      return 0;
  return 1;
}

static int names_add(names *l, const char *name) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i], name) == 0)
      return 0;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    const char **v = realloc(l->v, cap * sizeof(*v));
    if (v == NULL)
      return -ENOMEM;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = name;
  return 0;
}

static int names_has(const names *l, const char *name) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i], name) == 0)
      return 1;
  return 0;
}

static void names_free(names *l) {
  free(l->text);
  free(l->v);
  memset(l, 0, sizeof(*l));
}

static int list_path(const char *out_dir, const char *connection, char **out) {
  *out = NULL;
  if (!valid_stem(connection))
    return -EINVAL;
  if (asprintf(out, "%s/%s.tables", out_dir, connection) < 0) {
    *out = NULL;
    return -ENOMEM;
  }
  return 0;
}

/* Read the list at path into l (no file: an empty list). Lines that are
 * not valid names are ignored: nothing outside out_dir's tables is ever
 * removed because of them. */
static int read_list(const char *path, names *l) {
  struct stat sb;
  size_t got = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  char *p, *line;

  memset(l, 0, sizeof(*l));
  if (fd < 0)
    return errno == ENOENT ? 0 : -errno;
  if (fstat(fd, &sb) != 0 || sb.st_size < 0 || sb.st_size > LIST_MAX) {
    int rc = errno ? -errno : -EFBIG;
    close(fd);
    return rc;
  }
  l->text = malloc((size_t)sb.st_size + 1);
  if (l->text == NULL) {
    close(fd);
    return -ENOMEM;
  }
  while (got < (size_t)sb.st_size) {
    ssize_t r = read(fd, l->text + got, (size_t)sb.st_size - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  close(fd);
  l->text[got] = '\0';
  for (p = l->text; (line = strsep(&p, "\n")) != NULL;) {
    size_t len = strlen(line);
    if (len > 0 && line[len - 1] == '\r')
      line[len - 1] = '\0';
    if (valid_stem(line) && names_add(l, line) != 0) {
      names_free(l);
      return -ENOMEM;
    }
  }
  return 0;
}

static int write_list(const char *path, const names *l) {
  size_t len = 0, off = 0;
  char *text;
  int rc;

  for (size_t i = 0; i < l->n; i++)
    len += strlen(l->v[i]) + 1;
  text = malloc(len + 1);
  if (text == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < l->n; i++) {
    size_t n = strlen(l->v[i]);
    memcpy(text + off, l->v[i], n);
    off += n;
    text[off++] = '\n';
  }
  rc = jh_write_file_atomic(path, text, len, 0640);
  free(text);
  return rc;
}

/* Remove out_dir/<name>.csv; a missing file is fine. */
static int remove_table(const char *out_dir, const char *name) {
  char *path;
  int rc = 0;
  if (asprintf(&path, "%s/%s.csv", out_dir, name) < 0)
    return -ENOMEM;
  if (unlink(path) != 0 && errno != ENOENT)
    rc = -errno;
  free(path);
  return rc;
}

int jh_export_output_publish(const char *out_dir, const char *connection,
                             const jh_export_file *files, size_t n) {
  names old = {0}, both = {0}, now = {0};
  char *list = NULL, *dest = NULL;
  int rc = 0;

  for (size_t i = 0; i < n; i++)
    if (!valid_stem(files[i].name))
      return -EINVAL;
  if (connection != NULL) {
    rc = list_path(out_dir, connection, &list);
    if (rc == 0)
      rc = read_list(list, &old);
    for (size_t i = 0; rc == 0 && i < old.n; i++)
      rc = names_add(&both, old.v[i]);
    for (size_t i = 0; rc == 0 && i < n; i++)
      rc = names_add(&both, files[i].name);
    if (rc == 0)
      rc = write_list(list, &both);
  }
  for (size_t i = 0; rc == 0 && i < n; i++) {
    if (asprintf(&dest, "%s/%s.csv", out_dir, files[i].name) < 0) {
      dest = NULL;
      rc = -ENOMEM;
    } else if (rename(files[i].tmp_path, dest) != 0) {
      rc = -errno;
    }
    free(dest);
    dest = NULL;
  }
  if (connection != NULL) {
    for (size_t i = 0; rc == 0 && i < n; i++)
      rc = names_add(&now, files[i].name);
    if (rc == 0)
      rc = write_list(list, &now);
    for (size_t i = 0; rc == 0 && i < old.n; i++)
      if (!names_has(&now, old.v[i]))
        rc = remove_table(out_dir, old.v[i]);
  }
  names_free(&old);
  names_free(&both);
  names_free(&now);
  free(list);
  return rc;
}

int jh_export_output_discard(const char *out_dir, const char *connection) {
  names old;
  char *list = NULL;
  int rc = list_path(out_dir, connection, &list), first = 0;

  if (rc != 0)
    return rc;
  rc = read_list(list, &old);
  if (rc != 0) {
    free(list);
    return rc;
  }
  for (size_t i = 0; i < old.n; i++) {
    rc = remove_table(out_dir, old.v[i]);
    if (rc != 0 && first == 0)
      first = rc;
  }
  /* The list goes only with every table it names, so that a later
   * discard can finish the job. */
  if (first == 0 && unlink(list) != 0 && errno != ENOENT)
    first = -errno;
  names_free(&old);
  free(list);
  return first;
}
