/*
 * instance_id.c — see instance_id.h.
 */
#include "config.h"

#include "instance_id.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest task id kept in a file name, its NUL excluded. */
#define TASK_NAME_MAX 127

int jh_instance_parse(const char *text, int64_t *out) {
  char *end;
  long long v;
  if (text == NULL || text[0] < '0' || text[0] > '9')
    return -EINVAL;
  errno = 0;
  v = strtoll(text, &end, 10);
  if (errno != 0 || *end != '\0' || v <= 0)
    return -EINVAL;
  *out = (int64_t)v;
  return 0;
}

int64_t jh_instance_of_name(const char *name) {
  const char *base = strrchr(name, '/');
  char *end;
  long long v;
  base = base != NULL ? base + 1 : name;
  if (base[0] < '0' || base[0] > '9')
    return 0;
  errno = 0;
  v = strtoll(base, &end, 10);
  return errno == 0 && *end == '-' && v > 0 ? (int64_t)v : 0;
}

/* The task id as a file name part. */
static void safe_task_name(const char *id, char buf[TASK_NAME_MAX + 1]) {
  size_t i = 0;
  for (; id[i] != '\0' && i < TASK_NAME_MAX; i++) {
    unsigned char c = (unsigned char)id[i];
    buf[i] = (c == '/' || c == '\\' || c < 0x20 || (i == 0 && c == '.'))
                 ? '_'
                 : (char)c;
  }
  buf[i] = '\0';
}

char *jh_task_file_path(const char *dir, int64_t instance, const char *task,
                        int attempt, const char *suffix) {
  char name[TASK_NAME_MAX + 1], *path;
  safe_task_name(task, name);
  if (asprintf(&path, "%s/%lld-%s-%d%s", dir, (long long)instance, name,
               attempt, suffix) < 0)
    return NULL;
  return path;
}

int jh_change_report_path(const char *log, char *buf, size_t size) {
  size_t len = strlen(log), sl = strlen(JH_TASK_LOG_SUFFIX);
  if (len > sl && strcmp(log + len - sl, JH_TASK_LOG_SUFFIX) == 0)
    len -= sl;
  if ((size_t)snprintf(buf, size, "%.*s" JH_CHANGE_REPORT_SUFFIX, (int)len,
                       log) >= size)
    return -ENAMETOOLONG;
  return 0;
}
