/*
 * cli_history.c — `jobhost history` and `jobhost show INSTANCE`: the job
 * and task instances kept in the store.
 *
 *   jobhost history [--home DIR] [--job ID] [--limit N] [--json]
 *   jobhost show INSTANCE [--home DIR] [--json]
 *
 * Both read the store of the jobhost home (home.h). Instances still marked
 * Running whose host process is gone are shown (and recorded) as
 * Interrupted. Exit status 0, 1 when the store cannot be read or the
 * instance does not exist, 2 on bad usage.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "home.h"
#include "instance_id.h"
#include "report.h"
#include "store.h"
#include "timefmt.h"

#define HISTORY_DEFAULT_LIMIT 20
#define HISTORY_MAX_LIMIT 1000000000UL

/* ---- formatting helpers ---- */

/* Duration of an instance: to its end, or so far while it runs. -1 when
 * it never started. */
static int64_t span_ms(int64_t started, int64_t ended, int running) {
  if (started == 0)
    return -1;
  if (ended == 0)
    return running ? jh_now_ms() - started : -1;
  return ended - started;
}

/* malloc'd copy of text on one line (control characters become spaces);
 * "" for NULL. */
static char *one_line(const char *text) {
  char *out = strdup(text != NULL ? text : "");
  for (char *p = out; p != NULL && *p != '\0'; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      *p = ' ';
  return out;
}

/* ---- aligned tables ---- */

/* Rows of ncols cells, printed with every column but the last padded to
 * its widest cell. Each row may carry extra lines printed below it. */
typedef struct table {
  size_t ncols, nrows, cap;
  char **cells;  /* nrows * ncols, owned */
  char **extras; /* nrows, owned, NULL when none */
} table;

static void table_free(table *t) {
  for (size_t i = 0; i < t->nrows * t->ncols; i++)
    free(t->cells[i]);
  for (size_t i = 0; i < t->nrows; i++)
    free(t->extras[i]);
  free(t->cells);
  free(t->extras);
  memset(t, 0, sizeof(*t));
}

static int table_grow(table *t) {
  size_t cap = t->cap ? t->cap * 2 : 16;
  char **cells, **extras;
  if (t->nrows < t->cap)
    return 0;
  cells = realloc(t->cells, cap * t->ncols * sizeof(*cells));
  if (cells == NULL)
    return -ENOMEM;
  t->cells = cells;
  extras = realloc(t->extras, cap * sizeof(*extras));
  if (extras == NULL)
    return -ENOMEM;
  t->extras = extras;
  t->cap = cap;
  return 0;
}

/* Append a row: the cells are copied on one line each; extra (may be
 * NULL) is taken over, also on failure. */
static int table_add(table *t, const char *const *cells, char *extra) {
  char **row;
  if (table_grow(t) != 0) {
    free(extra);
    return -ENOMEM;
  }
  row = &t->cells[t->nrows * t->ncols];
  for (size_t i = 0; i < t->ncols; i++) {
    row[i] = one_line(cells[i]);
    if (row[i] == NULL) {
      while (i-- > 0)
        free(row[i]);
      free(extra);
      return -ENOMEM;
    }
  }
  t->extras[t->nrows++] = extra;
  return 0;
}

static void table_print(const table *t, const char *indent) {
  size_t width[16] = {0};
  for (size_t r = 0; r < t->nrows; r++)
    for (size_t c = 0; c < t->ncols && c < 16; c++) {
      size_t len = strlen(t->cells[r * t->ncols + c]);
      if (len > width[c])
        width[c] = len;
    }
  for (size_t r = 0; r < t->nrows; r++) {
    fputs(indent, stdout);
    for (size_t c = 0; c < t->ncols; c++) {
      const char *cell = t->cells[r * t->ncols + c];
      if (c + 1 == t->ncols)
        printf("%s", cell);
      else
        printf("%-*s  ", (int)width[c], cell);
    }
    fputc('\n', stdout);
    if (t->extras[r] != NULL)
      fputs(t->extras[r], stdout);
  }
}

/* ---- JSON helpers ---- */

/* A JSON string for text (null for NULL). Bytes that are not UTF-8 would
 * make jansson refuse the text: they are then shown as '?'. */
static json_t *json_text(const char *text) {
  json_t *v;
  char *copy;
  if (text == NULL)
    return json_null();
  if ((v = json_string(text)) != NULL || (copy = strdup(text)) == NULL)
    return v;
  for (char *p = copy; *p != '\0'; p++)
    if ((unsigned char)*p >= 0x80)
      *p = '?';
  v = json_string(copy);
  free(copy);
  return v;
}

/* ISO time, or null when unset. */
static json_t *json_time(int64_t ms) {
  char buf[32];
  if (ms == 0)
    return json_null();
  jh_time_iso(ms, buf);
  return json_string(buf);
}

/* Set o[key] = v (taking v); nonzero on failure, including v NULL. */
static int jset(json_t *o, const char *key, json_t *v) {
  return json_object_set_new(o, key, v) != 0;
}

/* Print a JSON value on stdout, indented. 0 or -1. */
static int json_print(json_t *v) {
  int rc = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  fputc('\n', stdout);
  return rc == 0 ? 0 : -1;
}

/* ---- opening the store ---- */

/* Open the home (--home, else the host configuration's, else the
 * default) and its store, or print why not. JH_EXIT_OK, JH_EXIT_ERROR, or
 * JH_EXIT_USAGE when the host configuration is refused. */
static int open_store(const char *cmd, const char *home_dir, jh_home *home,
                      jh_store **store) {
  char err[1024];
  if (jh_cli_host_defaults(cmd, &home_dir, NULL, NULL, 0) != 0)
    return JH_EXIT_USAGE;
  if (jh_home_open(home_dir, home, err, sizeof(err)) != 0) {
    fprintf(stderr, "jobhost %s: %s\n", cmd, err);
    return JH_EXIT_ERROR;
  }
  if (jh_store_open(home->store_path, store, err, sizeof(err)) != 0) {
    fprintf(stderr, "jobhost %s: %s\n", cmd, err);
    jh_home_clear(home);
    return JH_EXIT_ERROR;
  }
  return JH_EXIT_OK;
}

static void store_error(const char *cmd, jh_store *store, const char *what,
                        int rc) {
  fprintf(stderr, "jobhost %s: cannot read %s: %s\n", cmd, what,
          rc == -EIO ? jh_store_errmsg(store) : strerror(-rc));
}

/* Finish a command's output: a failed write to stdout is an error. */
static int flush_status(const char *cmd, int status) {
  if (fflush(stdout) != 0) {
    fprintf(stderr, "jobhost %s: cannot write output: %s\n", cmd,
            strerror(errno));
    return JH_EXIT_ERROR;
  }
  return status;
}

/* ---- history ---- */

static void history_usage(FILE *out) {
  fprintf(out,
          "Usage: jobhost history [--home DIR] [--job ID] [--limit N] "
          "[--json]\n"
          "\n"
          "Job instances, newest first (times UTC). Instances whose host "
          "process\n"
          "ended while they were running are shown as Interrupted.\n"
          "\n"
          "  --home DIR   the jobhost home (default: $JOBHOST_HOME, else\n"
          "               $XDG_STATE_HOME/jobhost, else "
          "~/.local/state/jobhost)\n"
          "  --job ID     only the instances of job ID\n"
          "  --limit N    at most N instances (default %d; 0 for all)\n"
          "  --json       print a JSON array instead of a table\n",
          HISTORY_DEFAULT_LIMIT);
}

/* Parse a count in [0, HISTORY_MAX_LIMIT]. 0 or -1. */
static int parse_limit(const char *text, size_t *out) {
  char *end;
  unsigned long long v;
  if (text[0] < '0' || text[0] > '9')
    return -1;
  errno = 0;
  v = strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0' || v > HISTORY_MAX_LIMIT)
    return -1;
  *out = (size_t)v;
  return 0;
}

static json_t *history_row_json(const jh_job_row *r) {
  json_t *o = json_object();
  int64_t span = span_ms(r->started_ms, r->ended_ms,
                         r->state == JH_STATE_RUNNING);
  int bad = o == NULL;
  if (bad)
    return NULL;
  bad |= jset(o, "instance", json_integer(r->instance));
  bad |= jset(o, "job", json_text(r->job_id));
  bad |= jset(o, "pipeline", json_text(r->pipeline_path));
  bad |= jset(o, "state", json_string(jh_state_name(r->state)));
  bad |= jset(o, "started_at", json_time(r->started_ms));
  bad |= jset(o, "ended_at", json_time(r->ended_ms));
  bad |= jset(o, "duration_ms",
              r->ended_ms != 0 && span >= 0 ? json_integer(span) : json_null());
  bad |= jset(o, "pid", json_integer(r->pid));
  bad |= jset(o, "message", json_text(r->message ? r->message : ""));
  if (bad) {
    json_decref(o);
    return NULL;
  }
  return o;
}

static int history_json(const jh_job_row *rows, size_t n) {
  json_t *arr = json_array();
  int rc = arr != NULL ? 0 : -1;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    json_t *o = history_row_json(&rows[i]);
    rc = o != NULL ? json_array_append_new(arr, o) : -1;
  }
  if (rc == 0)
    rc = json_print(arr);
  json_decref(arr);
  return rc;
}

static int history_add_row(table *t, const jh_job_row *r) {
  char id[32], started[32], ended[32], dur[32];
  const char *cells[7];
  snprintf(id, sizeof(id), "%" PRId64, r->instance);
  jh_time_iso_near(r->started_ms, 0, started);
  jh_time_iso_near(r->ended_ms, 0, ended);
  jh_duration_human(
      span_ms(r->started_ms, r->ended_ms, r->state == JH_STATE_RUNNING), dur);
  cells[0] = id;
  cells[1] = r->job_id;
  cells[2] = jh_state_name(r->state);
  cells[3] = started;
  cells[4] = ended;
  cells[5] = dur;
  cells[6] = r->message;
  return table_add(t, cells, NULL);
}

static int history_text(const jh_job_row *rows, size_t n, const char *job,
                        int more, size_t limit) {
  static const char *const head[7] = {"INSTANCE", "JOB",   "STATE",
                                      "STARTED",  "ENDED", "DURATION",
                                      "MESSAGE"};
  table t = {.ncols = 7};
  int rc;

  if (n == 0) {
    if (job != NULL)
      printf("no instance of job %s recorded\n", job);
    else
      printf("no job instance recorded\n");
    return 0;
  }
  rc = table_add(&t, head, NULL);
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = history_add_row(&t, &rows[i]);
  if (rc == 0) {
    table_print(&t, "");
    if (more)
      printf("(the %zu newest shown; --limit 0 shows all)\n", limit);
  }
  table_free(&t);
  return rc;
}

int jh_cmd_history(int argc, char **argv) {
  static const struct option opts[] = {{"home", required_argument, NULL, 'H'},
                                       {"job", required_argument, NULL, 'j'},
                                       {"limit", required_argument, NULL, 'n'},
                                       {"json", no_argument, NULL, 'J'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *home_dir = NULL, *job = NULL;
  size_t limit = HISTORY_DEFAULT_LIMIT, n = 0;
  int json = 0, c, rc, status, more;
  jh_home home;
  jh_store *store = NULL;
  jh_job_row *rows = NULL;

  optind = 1;
  while ((c = getopt_long(argc, argv, "H:j:n:Jh", opts, NULL)) != -1) {
    switch (c) {
    case 'H':
      if (jh_cli_nonempty("history", "--home", optarg, "a folder") != 0)
        return JH_EXIT_USAGE;
      home_dir = optarg;
      break;
    case 'j':
      job = optarg;
      break;
    case 'n':
      if (parse_limit(optarg, &limit) != 0) {
        fprintf(stderr,
                "jobhost history: --limit wants a number from 0 to %lu, "
                "not '%s'\n",
                HISTORY_MAX_LIMIT, optarg);
        return JH_EXIT_USAGE;
      }
      break;
    case 'J':
      json = 1;
      break;
    case 'h':
      history_usage(stdout);
      return JH_EXIT_OK;
    default:
      history_usage(stderr);
      return JH_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "jobhost history: unexpected argument '%s'\n",
            argv[optind]);
    history_usage(stderr);
    return JH_EXIT_USAGE;
  }
  if ((status = open_store("history", home_dir, &home, &store)) != 0)
    return status;
  /* One more than asked, to tell whether older ones were left out. */
  rc = jh_store_job_list(store, job, limit == 0 ? 0 : limit + 1, &rows, &n);
  if (rc != 0) {
    store_error("history", store, "job instances", rc);
    status = JH_EXIT_ERROR;
  } else {
    more = limit != 0 && n > limit;
    rc = json ? history_json(rows, more ? limit : n)
              : history_text(rows, more ? limit : n, job, more, limit);
    if (rc != 0) {
      fprintf(stderr, "jobhost history: out of memory\n");
      status = JH_EXIT_ERROR;
    }
  }
  jh_job_rows_free(rows, n);
  jh_store_close(store);
  jh_home_clear(&home);
  return flush_status("history", status);
}

/* ---- show ---- */

static void show_usage(FILE *out) {
  fprintf(out, "Usage: jobhost show INSTANCE [--home DIR] [--json]\n"
               "\n"
               "A job instance and each of its task instances (times UTC).\n"
               "\n"
               "  --home DIR   the jobhost home (default: $JOBHOST_HOME, else\n"
               "               $XDG_STATE_HOME/jobhost, else "
               "~/.local/state/jobhost)\n"
               "  --json       print the run report kept with the instance, "
               "or one\n"
               "               built from the store when none was kept\n");
}

/* The run report (report.c) rebuilt from the store's rows, for an
 * instance that has none kept. Returns malloc'd JSON text or NULL. */
static char *report_from_rows(const jh_job_row *job, const jh_task_row *tasks,
                              size_t n) {
  jh_report_task *rt = calloc(n ? n : 1, sizeof(*rt));
  char *text;
  if (rt == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    rt[i].id = tasks[i].task_id;
    rt[i].type = tasks[i].task_type;
    rt[i].level = tasks[i].level;
    rt[i].state = tasks[i].state;
    rt[i].produced_output = tasks[i].produced_output;
    rt[i].started_ms = tasks[i].started_ms;
    rt[i].ended_ms = tasks[i].ended_ms;
    rt[i].attempts = tasks[i].attempt;
    rt[i].counters_json = tasks[i].counters_json;
    rt[i].message = tasks[i].message;
  }
  text = jh_report_json(job->job_id, job->instance, job->state, job->started_ms,
                        job->ended_ms, rt, n);
  free(rt);
  return text;
}

/* The kept report, indented like the rest of our JSON when it parses,
 * else as it was stored. */
static int print_kept_report(const char *report) {
  json_t *v = json_loads(report, JSON_DECODE_ANY, NULL);
  int rc;
  if (v == NULL) {
    size_t len = strlen(report);
    fputs(report, stdout);
    if (len == 0 || report[len - 1] != '\n')
      fputc('\n', stdout);
    return 0;
  }
  rc = json_print(v);
  json_decref(v);
  return rc;
}

static int show_json(jh_store *store, const jh_job_row *job,
                     const jh_task_row *tasks, size_t n) {
  int rc;
  char *report = jh_store_job_report(store, job->instance, &rc);
  char *built;

  if (report != NULL) {
    rc = print_kept_report(report);
    free(report);
    return rc == 0 ? JH_EXIT_OK : JH_EXIT_ERROR;
  }
  if (rc != -ENOENT) {
    store_error("show", store, "the run report", rc);
    return JH_EXIT_ERROR;
  }
  built = report_from_rows(job, tasks, n);
  rc = built != NULL ? print_kept_report(built) : -1;
  free(built);
  if (rc != 0) {
    fprintf(stderr, "jobhost show: cannot build the JSON report\n");
    return JH_EXIT_ERROR;
  }
  return JH_EXIT_OK;
}

/* "rows=1000 errors=2" from a counters object; the raw text otherwise.
 * malloc'd, NULL when there is nothing to show or out of memory. */
static char *counters_text(const char *text) {
  json_t *v = text != NULL ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
  const char *key;
  json_t *val;
  char *out = NULL;
  size_t len = 0;
  FILE *f;

  if (v == NULL)
    return text != NULL && *text != '\0' ? one_line(text) : NULL;
  if (!json_is_object(v) || json_object_size(v) == 0) {
    int empty_object = json_is_object(v);
    json_decref(v);
    return empty_object ? NULL : one_line(text);
  }
  f = open_memstream(&out, &len);
  if (f != NULL) {
    const char *sep = "";
    json_object_foreach(v, key, val) {
      char *s = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT);
      fprintf(f, "%s%s=%s", sep, key, s != NULL ? s : "?");
      free(s);
      sep = " ";
    }
    if (fclose(f) != 0) {
      free(out);
      out = NULL;
    }
  }
  json_decref(v);
  return out;
}

/* The lines printed below a task's row: counters, message, log. */
static char *task_extra(const jh_task_row *t) {
  char *counters = counters_text(t->counters_json), *message = NULL;
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);

  if (f == NULL) {
    free(counters);
    return NULL;
  }
  if (counters != NULL)
    fprintf(f, "      counters  %s\n", counters);
  if (t->message != NULL && *t->message != '\0' &&
      (message = one_line(t->message)) != NULL)
    fprintf(f, "      message   %s\n", message);
  if (t->log_path != NULL && *t->log_path != '\0')
    fprintf(f, "      log       %s\n", t->log_path);
  free(counters);
  free(message);
  if (fclose(f) != 0 || len == 0) {
    free(out);
    return NULL;
  }
  return out;
}

static int show_add_task(table *t, const jh_task_row *r, int64_t ref) {
  char attempt[16], level[16], started[32], ended[32], dur[32];
  const char *cells[9];
  int64_t span = r->started_ms != 0 && r->ended_ms != 0
                     ? r->ended_ms - r->started_ms
                     : span_ms(r->started_ms, 0, 1);
  snprintf(level, sizeof(level), "%d", r->level);
  if (r->attempt > 0)
    snprintf(attempt, sizeof(attempt), "%d", r->attempt);
  else
    snprintf(attempt, sizeof(attempt), "-");
  jh_time_iso_near(r->started_ms, ref, started);
  jh_time_iso_near(r->ended_ms, ref, ended);
  jh_duration_human(span, dur);
  cells[0] = r->task_id;
  cells[1] = r->task_type;
  cells[2] = level;
  cells[3] = attempt;
  cells[4] = jh_state_name(r->state);
  cells[5] = started;
  cells[6] = ended;
  cells[7] = dur;
  cells[8] = r->started_ms == 0 ? "-" : r->produced_output ? "yes" : "no";
  return table_add(t, cells, task_extra(r));
}

static void show_job_text(jh_store *store, const jh_job_row *j) {
  char started[32], ended[32], dur[32];
  char *message = one_line(j->message);
  jh_time_iso_near(j->started_ms, 0, started);
  jh_time_iso_near(j->ended_ms, 0, ended);
  jh_duration_human(
      span_ms(j->started_ms, j->ended_ms, j->state == JH_STATE_RUNNING), dur);
  printf("Job instance %" PRId64 " of %s: %s\n", j->instance, j->job_id,
         jh_state_name(j->state));
  if (j->pipeline_path != NULL)
    printf("  pipeline  %s\n", j->pipeline_path);
  printf("  host pid  %ld\n", j->pid);
  printf("  started   %s\n", started);
  printf("  ended     %s\n", ended);
  printf("  duration  %s%s\n", dur,
         j->state == JH_STATE_RUNNING ? " so far" : "");
  if (j->state == JH_STATE_RUNNING) {
    int level = jh_store_job_cancel_requested(store, j->instance);
    if (level == JH_CANCEL_FINISH)
      printf("  cancel    requested (running tasks finish)\n");
    else if (level == JH_CANCEL_NOW)
      printf("  cancel    requested now (running tasks are stopped)\n");
  }
  if (message != NULL && *message != '\0')
    printf("  message   %s\n", message);
  free(message);
}

static int show_text(jh_store *store, const jh_job_row *job,
                     const jh_task_row *tasks, size_t n) {
  static const char *const head[9] = {"TASK",  "TYPE",     "LEVEL",
                                      "TRY",   "STATE",    "STARTED",
                                      "ENDED", "DURATION", "OUTPUT"};
  table t = {.ncols = 9};
  int rc = 0;

  show_job_text(store, job);
  if (n == 0) {
    printf("\nno task instance recorded\n");
    return JH_EXIT_OK;
  }
  rc = table_add(&t, head, NULL);
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = show_add_task(&t, &tasks[i], job->started_ms);
  if (rc == 0) {
    printf("\nTask instances (times UTC; the date is shown when it differs "
           "from the job's):\n");
    table_print(&t, "  ");
  } else {
    fprintf(stderr, "jobhost show: out of memory\n");
  }
  table_free(&t);
  return rc == 0 ? JH_EXIT_OK : JH_EXIT_ERROR;
}

/* Read the instance and its tasks, then print them. */
static int show_instance(jh_store *store, const char *store_path,
                         int64_t instance, int json) {
  jh_job_row job;
  jh_task_row *tasks = NULL;
  size_t n = 0;
  int rc = jh_store_job_get(store, instance, &job), status;

  if (rc == -ENOENT) {
    fprintf(stderr, "jobhost show: no job instance %" PRId64 " in %s\n",
            instance, store_path);
    return JH_EXIT_ERROR;
  }
  if (rc != 0) {
    store_error("show", store, "the job instance", rc);
    return JH_EXIT_ERROR;
  }
  rc = jh_store_task_list(store, instance, &tasks, &n);
  if (rc != 0) {
    store_error("show", store, "the task instances", rc);
    status = JH_EXIT_ERROR;
  } else {
    status = json ? show_json(store, &job, tasks, n)
                  : show_text(store, &job, tasks, n);
  }
  jh_task_rows_free(tasks, n);
  jh_job_row_clear(&job);
  return status;
}

int jh_cmd_show(int argc, char **argv) {
  static const struct option opts[] = {{"home", required_argument, NULL, 'H'},
                                       {"json", no_argument, NULL, 'J'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *home_dir = NULL;
  int json = 0, c, status;
  int64_t instance;
  jh_home home;
  jh_store *store = NULL;

  optind = 1;
  while ((c = getopt_long(argc, argv, "H:Jh", opts, NULL)) != -1) {
    switch (c) {
    case 'H':
      if (jh_cli_nonempty("show", "--home", optarg, "a folder") != 0)
        return JH_EXIT_USAGE;
      home_dir = optarg;
      break;
    case 'J':
      json = 1;
      break;
    case 'h':
      show_usage(stdout);
      return JH_EXIT_OK;
    default:
      show_usage(stderr);
      return JH_EXIT_USAGE;
    }
  }
  if (argc - optind != 1) {
    fprintf(stderr, "jobhost show: %s\n",
            optind >= argc ? "which instance? give its number"
                           : "give one instance only");
    show_usage(stderr);
    return JH_EXIT_USAGE;
  }
  if (jh_instance_parse(argv[optind], &instance) != 0) {
    fprintf(stderr,
            "jobhost show: '%s' is not an instance number (see jobhost "
            "history)\n",
            argv[optind]);
    return JH_EXIT_USAGE;
  }
  if ((status = open_store("show", home_dir, &home, &store)) != 0)
    return status;
  status = show_instance(store, home.store_path, instance, json);
  jh_store_close(store);
  jh_home_clear(&home);
  return flush_status("show", status);
}
