/*
 * change_report.c — see change_report.h.
 */
#include "config.h"

#include "change_report.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *const jh_change_report_header[JH_CHANGE_REPORT_NFIELDS] = {
    "change", "table", "key", "detail"};

static const char *const words[JH_CHANGE_NKINDS] = {
    [JH_CHANGE_INSERT] = "insert",
    [JH_CHANGE_UPDATE] = "update",
    [JH_CHANGE_DELETE] = "delete",
    [JH_CHANGE_LINK_INSERT] = "link_insert",
    [JH_CHANGE_LINK_DELETE] = "link_delete",
    [JH_CHANGE_SUPERSEDED] = "superseded"};

static const char *const counters[JH_CHANGE_NCOUNTED] = {
    [JH_CHANGE_INSERT] = "inserted",
    [JH_CHANGE_UPDATE] = "updated",
    [JH_CHANGE_DELETE] = "deleted",
    [JH_CHANGE_LINK_INSERT] = "link_inserted",
    [JH_CHANGE_LINK_DELETE] = "link_deleted"};

const char *jh_change_word(jh_change_kind kind) {
  return (unsigned)kind < JH_CHANGE_NKINDS ? words[kind] : "";
}

const char *jh_change_counter(jh_change_kind kind) {
  return (unsigned)kind < JH_CHANGE_NCOUNTED ? counters[kind] : NULL;
}

/* The kind of a line: its first field, up to the comma. */
static int line_kind(const char *line) {
  for (int k = 0; k < JH_CHANGE_NKINDS; k++) {
    size_t len = strlen(words[k]);
    if (strncmp(line, words[k], len) == 0 && line[len] == ',')
      return k;
  }
  return -1;
}

int jh_change_report_count(const char *path, int64_t counts[JH_CHANGE_NKINDS]) {
  char line[4096];
  int rc = 0;
  FILE *f = fopen(path, "r");
  memset(counts, 0, JH_CHANGE_NKINDS * sizeof(counts[0]));
  if (f == NULL)
    return -errno;
  while (fgets(line, sizeof(line), f) != NULL) {
    int k = line_kind(line);
    if (k >= 0)
      counts[k]++;
  }
  if (ferror(f))
    rc = -EIO;
  fclose(f);
  return rc;
}
