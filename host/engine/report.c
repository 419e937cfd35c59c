/*
 * report.c — see report.h.
 */
#include "config.h"

#include "report.h"

#include "atomic_file.h"
#include "timefmt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static json_t *time_json(int64_t ms) {
  char buf[32];
  if (ms <= 0)
    return json_null();
  jh_time_iso(ms, buf);
  return json_string(buf);
}

static json_t *task_json(const jh_report_task *t) {
  json_t *o = json_object(), *counters = NULL;
  if (t->counters_json != NULL)
    counters = json_loads(t->counters_json, 0, NULL);
  if (!json_is_object(counters)) {
    json_decref(counters);
    counters = json_object();
  }
  json_object_set_new(o, "id", json_string(t->id));
  json_object_set_new(o, "type", json_string(t->type));
  json_object_set_new(o, "level", json_integer(t->level));
  json_object_set_new(o, "state", json_string(jh_state_name(t->state)));
  json_object_set_new(o, "produced_output", json_boolean(t->produced_output));
  json_object_set_new(o, "started_at", time_json(t->started_ms));
  json_object_set_new(o, "ended_at", time_json(t->ended_ms));
  json_object_set_new(o, "duration_ms",
                      json_integer(t->started_ms > 0 && t->ended_ms > 0
                                       ? t->ended_ms - t->started_ms
                                       : 0));
  json_object_set_new(o, "attempts", json_integer(t->attempts));
  json_object_set_new(o, "counters", counters);
  json_object_set_new(o, "message", json_string(t->message ? t->message : ""));
  return o;
}

char *jh_report_json(const char *job_id, int64_t instance, jh_state state,
                     int64_t started_ms, int64_t ended_ms,
                     const jh_report_task *tasks, size_t ntasks) {
  json_t *root = json_object(), *arr = json_array();
  char *text;
  if (root == NULL || arr == NULL) {
    json_decref(root);
    json_decref(arr);
    return NULL;
  }
  json_object_set_new(root, "job", json_string(job_id));
  json_object_set_new(root, "instance", json_integer(instance));
  json_object_set_new(root, "state", json_string(jh_state_name(state)));
  json_object_set_new(root, "started_at", time_json(started_ms));
  json_object_set_new(root, "ended_at", time_json(ended_ms));
  for (size_t i = 0; i < ntasks; i++)
    json_array_append_new(arr, task_json(&tasks[i]));
  json_object_set_new(root, "tasks", arr);
  text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(root);
  return text;
}

int jh_report_write(const char *path, const char *json) {
  size_t len = strlen(json);
  char *text = malloc(len + 2);
  int rc;
  if (text == NULL)
    return -ENOMEM;
  memcpy(text, json, len);
  text[len] = '\n';
  rc = jh_write_file_atomic(path, text, len + 1, 0644);
  free(text);
  return rc;
}
