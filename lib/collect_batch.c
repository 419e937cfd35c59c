/*
 * collect_batch.c — see collect_batch.h.
 */
#include "config.h"

#include "collect_batch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TEMP_SUFFIX ".tmp"

static const char *const mode_names[JH_BATCH_NMODES] = {
    [JH_BATCH_INITIAL] = "initial",
    [JH_BATCH_COMPLETE] = "complete",
    [JH_BATCH_INCREMENTAL] = "incremental"};

const char *jh_batch_mode_name(jh_batch_mode mode) {
  return (unsigned)mode < JH_BATCH_NMODES ? mode_names[mode] : "";
}

int jh_batch_mode_parse(const char *word, jh_batch_mode *mode) {
  for (int m = 0; word != NULL && m < JH_BATCH_NMODES; m++)
    if (strcasecmp(word, mode_names[m]) == 0) {
      *mode = (jh_batch_mode)m;
      return 0;
    }
  return -1;
}

int jh_batch_name(uint64_t seq, jh_batch_mode mode, int temp, char *buf,
                  size_t size) {
  int n;
  if (seq == 0 || seq > JH_BATCH_SEQ_MAX || (unsigned)mode >= JH_BATCH_NMODES)
    return -1;
  n = snprintf(buf, size, "%s%010" PRIu64 "-%s%s", temp ? "." : "", seq,
               mode_names[mode], temp ? TEMP_SUFFIX : "");
  return n < 0 || (size_t)n >= size ? -1 : 0;
}

int jh_batch_name_parse(const char *name, long long *seq, jh_batch_mode *mode) {
  char *end;
  long long v;
  if (name[0] < '0' || name[0] > '9')
    return 0;
  errno = 0;
  v = strtoll(name, &end, 10);
  if (errno != 0 || *end != '-')
    return 0;
  /* folder names are written in lower case: exactly one of the names */
  for (int m = 0; m < JH_BATCH_NMODES; m++)
    if (strcmp(end + 1, mode_names[m]) == 0) {
      if (seq != NULL)
        *seq = v;
      if (mode != NULL)
        *mode = (jh_batch_mode)m;
      return 1;
    }
  return 0;
}

/* Whether s ends with suffix, with more than min_stem bytes before it. */
static int ends_with(const char *s, const char *suffix, size_t min_stem) {
  size_t len = strlen(s), sl = strlen(suffix);
  return len > sl + min_stem && strcmp(s + len - sl, suffix) == 0;
}

int jh_batch_is_temp_name(const char *name) {
  return name[0] == '.' && ends_with(name, TEMP_SUFFIX, 1);
}

int jh_batch_file_is_delta(const char *file) {
  return ends_with(file, ".delta", 0);
}

static const struct {
  const char *word;
  jh_batch_command command;
} command_words[] = {
    {"insert", JH_COMMAND_INSERT}, {"add", JH_COMMAND_INSERT},
    {"update", JH_COMMAND_UPDATE}, {"modify", JH_COMMAND_UPDATE},
    {"delete", JH_COMMAND_DELETE}, {"remove", JH_COMMAND_DELETE},
    {"merge", JH_COMMAND_MERGE}};

jh_batch_command jh_batch_command_parse(const char *word, size_t len) {
  for (size_t i = 0; i < sizeof(command_words) / sizeof(command_words[0]); i++)
    if (strlen(command_words[i].word) == len &&
        strncasecmp(word, command_words[i].word, len) == 0)
      return command_words[i].command;
  return JH_COMMAND_NONE;
}

const char *jh_batch_command_name(jh_batch_command command) {
  switch (command) {
  case JH_COMMAND_INSERT:
    return "insert";
  case JH_COMMAND_UPDATE:
    return "update";
  case JH_COMMAND_DELETE:
    return "delete";
  case JH_COMMAND_MERGE:
    return "merge";
  default:
    return NULL;
  }
}

int jh_batch_shrank(uint64_t before, uint64_t after, int max_percent) {
  return max_percent > 0 && before > 0 && after < before &&
         (before - after) * 100 > before * (uint64_t)max_percent;
}
