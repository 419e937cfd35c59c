/*
 * enginetest.c — task types that exercise the job engine, never installed.
 *
 * Each task type does one predictable thing — succeed, fail, block (declared
 * or not), set or read dirty flags, crash, hang, sleep, flood the log,
 * nothing at all, fail a given number of times, write down what the host
 * gave it — so that engine, process-model and benchmark tests can build
 * any job outcome from a pipeline alone.
 *
 * Built by make check as tests/plugins/engine/enginetest.la; tests find the
 * folder in $JH_ENGINE_PLUGIN_DIR. It uses the public SDK only, like an
 * out-of-tree plugin.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jobhost/jobhost.h>

/* ---- parameter helpers ---- */

/* Reads integer parameter `name` into *out, checking min <= value <= max.
 * Returns 0, or JOBHOST_ECONFIG with the task message set. */
static int int_param(jobhost_ctx *ctx, const char *name, long long min,
                     long long max, long long *out) {
  const char *text = ctx->svc->param(ctx, name);
  char *end = NULL;
  long long v;

  if (text == NULL) {
    ctx->svc->set_message(ctx, "parameter %s is not set", name);
    return JOBHOST_ECONFIG;
  }
  errno = 0;
  v = strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < min || v > max) {
    ctx->svc->set_message(ctx,
                          "parameter %s: '%s' is not an integer between "
                          "%lld and %lld",
                          name, text, min, max);
    return JOBHOST_ECONFIG;
  }
  *out = v;
  return 0;
}

/* The host normalises booleans to "true"/"false". */
static int bool_param(jobhost_ctx *ctx, const char *name) {
  const char *text = ctx->svc->param(ctx, name);
  return text != NULL && strcmp(text, "true") == 0;
}

/* A string parameter, or `fallback` when it is unset. */
static const char *str_param(jobhost_ctx *ctx, const char *name,
                             const char *fallback) {
  const char *text = ctx->svc->param(ctx, name);
  return text != NULL ? text : fallback;
}

/* Sleeps about ms milliseconds (a signal may cut it short). */
static void sleep_ms(long ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static long long elapsed_ms(const struct timespec *since) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)(now.tv_sec - since->tv_sec) * 1000 +
         (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* ---- TestSucceedTask ---- */

static const jobhost_param succeed_params[] = {
    {.name = "produce_output",
     .type = JOBHOST_PARAM_BOOL,
     .default_value = "true",
     .help = "Whether the task says it produced output"},
    {.name = "counter_name",
     .type = JOBHOST_PARAM_STRING,
     .default_value = "items",
     .help = "Counter set by the task"},
    {.name = "counter_value",
     .type = JOBHOST_PARAM_INT,
     .default_value = "1",
     .help = "Value given to the counter"},
    {.name = "message",
     .type = JOBHOST_PARAM_STRING,
     .help = "Result message (default: says what was done)"},
    {.name = "print",
     .type = JOBHOST_PARAM_STRING,
     .help = "Text printed on stdout, without a newline or a flush"},
    JOBHOST_PARAM_END};

static int succeed_run(jobhost_ctx *ctx) {
  const jobhost_services *svc = ctx->svc;
  const char *counter = str_param(ctx, "counter_name", "items");
  const char *message = svc->param(ctx, "message");
  int produce = bool_param(ctx, "produce_output");
  long long value;
  int rc = int_param(ctx, "counter_value", INT64_MIN, INT64_MAX, &value);

  if (rc != 0)
    return rc;
  if (svc->param(ctx, "print") != NULL)
    printf("%s", svc->param(ctx, "print")); /* left in stdio's buffer */
  svc->counter_set(ctx, counter, (int64_t)value);
  svc->set_produced_output(ctx, produce);
  if (message != NULL)
    svc->set_message(ctx, "%s", message);
  else
    svc->set_message(ctx, "succeeded as asked (%s=%lld, %s)", counter, value,
                     produce ? "produced output" : "no output");
  jobhost_info(ctx, "succeeding: %s=%lld, produced output: %s", counter, value,
               produce ? "yes" : "no");
  return 0;
}

/* ---- TestFailTask ---- */

static const jobhost_param fail_params[] = {{.name = "message",
                                             .type = JOBHOST_PARAM_STRING,
                                             .default_value = "asked to fail",
                                             .help = "Result message"},
                                            JOBHOST_PARAM_END};

static int fail_run(jobhost_ctx *ctx) {
  const char *message = str_param(ctx, "message", "asked to fail");
  ctx->svc->set_message(ctx, "%s", message);
  jobhost_error(ctx, "failing: %s", message);
  return -EIO;
}

/* ---- TestBlockTask ---- */

static const jobhost_param block_params[] = {
    {.name = "message",
     .type = JOBHOST_PARAM_STRING,
     .default_value = "threshold exceeded",
     .help = "Result message"},
    {.name = "pending",
     .type = JOBHOST_PARAM_INT,
     .default_value = "10",
     .help = "Value of the pending_changes counter"},
    JOBHOST_PARAM_END};

static int block_run(jobhost_ctx *ctx) {
  const char *message = str_param(ctx, "message", "threshold exceeded");
  long long pending;
  int rc = int_param(ctx, "pending", 0, INT64_MAX, &pending);

  if (rc != 0)
    return rc;
  ctx->svc->counter_set(ctx, "pending_changes", (int64_t)pending);
  if (ctx->force) {
    /* run --force, or a resume validating the blocked run: the held
     * changes are applied instead of blocking. */
    ctx->svc->set_message(ctx, "forced: %lld held changes applied%s", pending,
                          ctx->resume_of ? " on resume" : "");
    ctx->svc->counter_set(ctx, "applied_changes", (int64_t)pending);
    ctx->svc->set_produced_output(ctx, 1);
    return 0;
  }
  ctx->svc->set_message(ctx, "%s", message);
  jobhost_warning(ctx, "blocking: %s (%lld pending changes)", message, pending);
  return JOBHOST_EBLOCKED;
}

/* ---- TestDirtyTask ---- */

static const jobhost_param dirty_params[] = {
    {.name = "dirty",
     .type = JOBHOST_PARAM_BOOL,
     .default_value = "false",
     .help = "Process only the resources flagged dirty"},
    JOBHOST_PARAM_END};

static int dirty_run(jobhost_ctx *ctx) {
  int dirty = bool_param(ctx, "dirty");
  ctx->svc->set_produced_output(ctx, 1);
  ctx->svc->set_message(ctx, "processed %s resources",
                        dirty ? "the dirty" : "all");
  return 0;
}

/* ---- TestCrashTask ---- */

static const char *const crash_choices[] = {"segv", "abort", "exit", NULL};

static const jobhost_param crash_params[] = {
    {.name = "how",
     .type = JOBHOST_PARAM_ENUM,
     .default_value = "segv",
     .choices = crash_choices,
     .help = "segv: write through NULL; abort: abort(); exit: exit(status)"},
    {.name = "exit_status",
     .type = JOBHOST_PARAM_INT,
     .default_value = "3",
     .help = "Status passed to exit() when how is exit (0-255)"},
    JOBHOST_PARAM_END};

static int crash_run(jobhost_ctx *ctx) {
  const char *how = str_param(ctx, "how", "segv");
  long long status;
  int rc = int_param(ctx, "exit_status", 0, 255, &status);

  if (rc != 0)
    return rc;
  jobhost_info(ctx, "crashing: %s", how);
  if (strcmp(how, "exit") == 0) {
    /* What a careless plugin prints must reach the task log. */
    fprintf(stderr, "exiting with status %lld (said on stderr)\n", status);
    printf("exiting with status %lld (said on stdout)\n", status);
    exit((int)status); /* without a result, as a broken plugin would */
  }
  if (strcmp(how, "segv") == 0) {
    /* Killed by SIGSEGV, as by a bad pointer. The default action is put
     * back first: a sanitizer build handles SIGSEGV itself (a report,
     * then exit status 1), and writing through a null pointer would be
     * stopped by UBSan before it faults. */
    signal(SIGSEGV, SIG_DFL);
    raise(SIGSEGV);
  }
  abort();
}

/* ---- TestHangTask ---- */

static const jobhost_param hang_params[] = {
    {.name = "ignore_term",
     .type = JOBHOST_PARAM_BOOL,
     .default_value = "false",
     .help = "Ignore SIGTERM, so that only SIGKILL ends the task"},
    JOBHOST_PARAM_END};

/* Never returns and never looks at the cancel flag. */
static int hang_run(jobhost_ctx *ctx) {
  int ignore_term = bool_param(ctx, "ignore_term");

  if (ignore_term) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0) {
      int err = errno;
      ctx->svc->set_message(ctx, "cannot ignore SIGTERM: %s", strerror(err));
      return -err;
    }
  }
  /* Logged after the signal disposition is set: tests may wait for it. */
  jobhost_info(ctx, "hanging forever (SIGTERM %s)",
               ignore_term ? "ignored" : "not ignored");
  for (;;)
    sleep_ms(1000);
}

/* ---- TestSleepTask ---- */

static const jobhost_param sleep_params[] = {
    {.name = "ms",
     .type = JOBHOST_PARAM_INT,
     .default_value = "1000",
     .help = "How long to sleep, in milliseconds (stops early when cancelled)"},
    {.name = "release_file",
     .type = JOBHOST_PARAM_STRING,
     .help = "Stop sleeping, successfully, as soon as this file exists"},
    JOBHOST_PARAM_END};

#define SLEEP_STEP_MS 10

/* 1 when the parameter release_file names a file that exists. */
static int released(jobhost_ctx *ctx) {
  const char *path = ctx->svc->param(ctx, "release_file");
  return path != NULL && *path != '\0' && access(path, F_OK) == 0;
}

static int sleep_run(jobhost_ctx *ctx) {
  const jobhost_services *svc = ctx->svc;
  struct timespec start;
  long long ms, done;
  int rc = int_param(ctx, "ms", 0, 24LL * 3600 * 1000, &ms);

  if (rc != 0)
    return rc;
  clock_gettime(CLOCK_MONOTONIC, &start);
  while ((done = elapsed_ms(&start)) < ms) {
    long long left = ms - done;
    if (svc->is_cancelled(ctx)) {
      svc->set_message(ctx, "cancelled after %lld of %lld ms", done, ms);
      return JOBHOST_ECANCELLED;
    }
    if (released(ctx)) {
      svc->set_produced_output(ctx, 1);
      svc->set_message(ctx, "released after %lld ms", done);
      return 0;
    }
    svc->progress(ctx, (uint64_t)done, (uint64_t)ms);
    sleep_ms(left < SLEEP_STEP_MS ? (long)left : SLEEP_STEP_MS);
  }
  svc->progress(ctx, (uint64_t)ms, (uint64_t)ms);
  svc->counter_set(ctx, "slept_ms", (int64_t)ms);
  svc->set_produced_output(ctx, 1);
  svc->set_message(ctx, "slept %lld ms", ms);
  return 0;
}

/* ---- TestCommitTask ---- */

/* The host object through which a task says its changes are committed
 * (the host's lib/model.h declares it; the layout is repeated here so that
 * this plugin keeps to the public SDK). */
#define COMMIT_OBJECT "jobhost.committed/2"
typedef struct commit_notice {
  void (*committed)(jobhost_ctx *ctx, int held);
} commit_notice;

static const jobhost_param commit_params[] = {
    {.name = "before_ms",
     .type = JOBHOST_PARAM_INT,
     .default_value = "0",
     .help = "Sleep before committing, in milliseconds (stops when "
             "cancelled, without committing)"},
    {.name = "after_ms",
     .type = JOBHOST_PARAM_INT,
     .default_value = "1000",
     .help = "Sleep after committing, in milliseconds, deaf to cancel"},
    {.name = "ignore_term",
     .type = JOBHOST_PARAM_BOOL,
     .default_value = "false",
     .help = "Ignore SIGTERM after committing, so that only SIGKILL ends it"},
    {.name = "release_file",
     .type = JOBHOST_PARAM_STRING,
     .help = "End the sleep after the commit as soon as this file exists"},
    JOBHOST_PARAM_END};

/* Like a synchronization: work that a cancel may stop, a commit, then work
 * that a cancel no longer stops (the change report, the clean-up). */
static int commit_run(jobhost_ctx *ctx) {
  const jobhost_services *svc = ctx->svc;
  const commit_notice *notice;
  struct timespec start;
  long long before, after;
  int cancel_seen = 0;
  int rc = int_param(ctx, "before_ms", 0, 24LL * 3600 * 1000, &before);

  if (rc == 0)
    rc = int_param(ctx, "after_ms", 0, 24LL * 3600 * 1000, &after);
  if (rc != 0)
    return rc;
  if (!JOBHOST_SVC_HAS(svc, host_object) ||
      (notice = svc->host_object(ctx, COMMIT_OBJECT)) == NULL) {
    svc->set_message(ctx, "the host has no %s object", COMMIT_OBJECT);
    return JOBHOST_ECONFIG;
  }
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (elapsed_ms(&start) < before) {
    if (svc->is_cancelled(ctx)) {
      svc->set_message(ctx, "cancelled before the commit");
      return JOBHOST_ECANCELLED;
    }
    sleep_ms(SLEEP_STEP_MS);
  }
  if (bool_param(ctx, "ignore_term"))
    signal(SIGTERM, SIG_IGN);
  notice->committed(ctx, 0);
  jobhost_info(ctx, "committed");
  svc->counter_set(ctx, "committed", 1);
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (elapsed_ms(&start) < after && !released(ctx)) {
    if (svc->is_cancelled(ctx) && !cancel_seen) {
      jobhost_info(ctx, "cancel seen after the commit: going on");
      cancel_seen = 1;
    }
    sleep_ms(SLEEP_STEP_MS);
  }
  svc->set_produced_output(ctx, 1);
  svc->set_message(ctx, "committed, then finished");
  return 0;
}

/* ---- TestSpamTask ---- */

static const jobhost_param spam_params[] = {
    {.name = "lines",
     .type = JOBHOST_PARAM_INT,
     .default_value = "100000",
     .help = "How many info lines to log"},
    {.name = "line_bytes",
     .type = JOBHOST_PARAM_INT,
     .default_value = "200",
     .help = "Length of each line, in bytes (16-65536)"},
    JOBHOST_PARAM_END};

#define SPAM_POLL_EVERY 1000

static int spam_run(jobhost_ctx *ctx) {
  const jobhost_services *svc = ctx->svc;
  long long lines, bytes, i;
  char *line;
  int rc = int_param(ctx, "lines", 0, INT64_MAX, &lines);

  if (rc == 0)
    rc = int_param(ctx, "line_bytes", 16, 65536, &bytes);
  if (rc != 0)
    return rc;
  line = malloc((size_t)bytes + 1);
  if (line == NULL) {
    svc->set_message(ctx, "out of memory for a %lld-byte line", bytes);
    return -ENOMEM;
  }
  memset(line, 'x', (size_t)bytes);
  line[bytes] = '\0';
  for (i = 0; i < lines; i++) {
    /* "line N " then padding: every line is exactly `bytes` long. */
    int head = snprintf(line, (size_t)bytes + 1, "line %lld ", i + 1);
    if (head > 0 && head < bytes)
      line[head] = 'x'; /* snprintf's NUL becomes padding again */
    jobhost_info(ctx, "%s", line);
    if ((i + 1) % SPAM_POLL_EVERY == 0) {
      svc->counter_set(ctx, "lines", (int64_t)(i + 1));
      svc->progress(ctx, (uint64_t)(i + 1), (uint64_t)lines);
      if (svc->is_cancelled(ctx)) {
        free(line);
        svc->set_message(ctx, "cancelled after %lld of %lld lines", i + 1,
                         lines);
        return JOBHOST_ECANCELLED;
      }
    }
  }
  free(line);
  svc->counter_set(ctx, "lines", (int64_t)lines);
  svc->set_message(ctx, "logged %lld lines of %lld bytes", lines, bytes);
  return 0;
}

/* ---- TestNoopTask ---- */

static int noop_run(jobhost_ctx *ctx) {
  (void)ctx;
  return 0;
}

/* ---- TestFlakyTask ---- */

static const jobhost_param flaky_params[] = {
    {.name = "fail_times",
     .type = JOBHOST_PARAM_INT,
     .default_value = "1",
     .help = "How many attempts fail before one succeeds"},
    {.name = "state_file",
     .type = JOBHOST_PARAM_STRING,
     .required = 1,
     .help = "File counting the attempts (created when missing)"},
    JOBHOST_PARAM_END};

/* Reads the attempt count of `path` (0 when the file does not exist). */
static int read_attempts(jobhost_ctx *ctx, const char *path, long long *count) {
  FILE *f = fopen(path, "r");
  char buf[32];
  char *end = NULL;
  int err;

  *count = 0;
  if (f == NULL) {
    if (errno == ENOENT)
      return 0;
    err = errno;
    ctx->svc->set_message(ctx, "cannot read %s: %s", path, strerror(err));
    return -err;
  }
  if (fgets(buf, sizeof(buf), f) == NULL) {
    err = ferror(f) ? errno : 0;
    fclose(f);
    if (err == 0)
      return 0; /* an empty file: no attempt yet */
    ctx->svc->set_message(ctx, "cannot read %s: %s", path, strerror(err));
    return -err;
  }
  fclose(f);
  errno = 0;
  *count = strtoll(buf, &end, 10);
  if (errno != 0 || end == buf || (*end != '\n' && *end != '\0') ||
      *count < 0) {
    ctx->svc->set_message(ctx, "%s does not hold an attempt count", path);
    return JOBHOST_ECONFIG;
  }
  return 0;
}

/* Writes `count` to path through a temporary file and a rename, so that a
 * worker killed half-way never leaves a torn count. */
static int write_attempts(jobhost_ctx *ctx, const char *path, long long count) {
  size_t len = strlen(path) + sizeof(".tmp");
  char *tmp = malloc(len);
  FILE *f;
  int err = 0;

  if (tmp == NULL)
    return -ENOMEM;
  snprintf(tmp, len, "%s.tmp", path);
  f = fopen(tmp, "w");
  if (f == NULL)
    err = errno;
  else {
    if (fprintf(f, "%lld\n", count) < 0)
      err = errno ? errno : EIO;
    if (fclose(f) != 0 && err == 0)
      err = errno;
    if (err == 0 && rename(tmp, path) != 0)
      err = errno;
    if (err != 0)
      unlink(tmp);
  }
  if (err != 0)
    ctx->svc->set_message(ctx, "cannot write %s: %s", path, strerror(err));
  free(tmp);
  return -err;
}

static int flaky_run(jobhost_ctx *ctx) {
  const jobhost_services *svc = ctx->svc;
  const char *path = svc->param(ctx, "state_file");
  long long fail_times, attempt;
  int rc = int_param(ctx, "fail_times", 0, INT64_MAX, &fail_times);

  if (rc != 0)
    return rc;
  if (path == NULL || *path == '\0') {
    svc->set_message(ctx, "parameter state_file is not set");
    return JOBHOST_ECONFIG;
  }
  rc = read_attempts(ctx, path, &attempt);
  if (rc == 0 && attempt == INT64_MAX)
    rc = -EOVERFLOW;
  if (rc == 0)
    rc = write_attempts(ctx, path, ++attempt);
  if (rc != 0)
    return rc;
  svc->counter_set(ctx, "attempt", (int64_t)attempt);
  if (attempt <= fail_times) {
    svc->set_message(ctx, "attempt %lld failed", attempt);
    jobhost_warning(ctx, "attempt %lld of %lld planned failures", attempt,
                    fail_times);
    return -EAGAIN;
  }
  svc->set_produced_output(ctx, 1);
  svc->set_message(ctx, "attempt %lld succeeded", attempt);
  return 0;
}

/* ---- TestExportTask ---- */

static const jobhost_param export_params[] = {
    {.name = "rows",
     .type = JOBHOST_PARAM_INT,
     .default_value = "3",
     .help = "Rows written to the table test_entries"},
    {.name = "fail_after",
     .type = JOBHOST_PARAM_INT,
     .default_value = "-1",
     .help = "Fail after writing this many rows (-1: never)"},
    {.name = "connection",
     .type = JOBHOST_PARAM_STRING,
     .help = "Connection whose incremental cookie is read and written"},
    JOBHOST_PARAM_END};

/* Writes rows with values that need quoting, reads and sets the cookie:
 * exercises the export table writer and the cookie services. */
static int export_run(jobhost_ctx *ctx) {
  const jobhost_services *svc = ctx->svc;
  static const char *const columns[] = {"id", "name"};
  jobhost_table *table = NULL;
  long long rows, fail_after;
  const void *cookie;
  size_t cookie_len;
  char cookie_out[64];
  int rc = int_param(ctx, "rows", 0, 10000000, &rows);

  if (rc == 0)
    rc = int_param(ctx, "fail_after", -1, 10000000, &fail_after);
  if (rc != 0)
    return rc;
  if (svc->cookie_get(ctx, &cookie, &cookie_len) == 0)
    jobhost_info(ctx, "previous cookie: %.*s", (int)cookie_len,
                 (const char *)cookie);
  rc = svc->table_open(ctx, "test_entries", columns, 2, &table);
  for (long long i = 0; rc == 0 && i < rows; i++) {
    char id[32], name[64];
    const char *row[2] = {id, name};
    if (i == fail_after) {
      svc->set_message(ctx, "failing after %lld rows, as asked", i);
      rc = -EIO;
      break;
    }
    snprintf(id, sizeof(id), "%lld", i);
    snprintf(name, sizeof(name), "Doe, \"J\"\nrow %lld", i);
    rc = svc->table_write(table, row, 2);
  }
  if (table != NULL) {
    int close_rc = svc->table_close(table);
    if (rc == 0)
      rc = close_rc;
  }
  if (rc != 0)
    return rc;
  snprintf(cookie_out, sizeof(cookie_out), "rows=%lld", rows);
  rc = svc->cookie_set(ctx, cookie_out, strlen(cookie_out));
  svc->counter_set(ctx, "rows", rows);
  return rc == -ENOENT ? 0 : rc; /* no connection: no cookie to keep */
}

/* ---- TestEnvTask ---- */

static const jobhost_param env_params[] = {
    {.name = "write_file",
     .type = JOBHOST_PARAM_STRING,
     .required = 1,
     .help = "File receiving name=value lines about the task's environment"},
    {.name = "connection",
     .type = JOBHOST_PARAM_STRING,
     .help = "Connection whose package, settings and secrets are written"},
    {.name = "connector", .type = JOBHOST_PARAM_STRING, .help = "Connector"},
    JOBHOST_PARAM_END};

static const struct {
  const char *name;
  jobhost_folder which;
} env_folders[] = {
    {"task_work", JOBHOST_FOLDER_TASK_WORK},
    {"export_output", JOBHOST_FOLDER_EXPORT_OUTPUT},
    {"export_cookies", JOBHOST_FOLDER_EXPORT_COOKIES},
    {"collect", JOBHOST_FOLDER_COLLECT},
    {"provisioning_orders", JOBHOST_FOLDER_PROVISIONING_ORDERS},
    {"job_logs", JOBHOST_FOLDER_JOB_LOGS},
};

/* The connection as the task sees it: its package, every setting of the
 * package's schema, and the length of each secret (never its value). */
static void write_connection(jobhost_ctx *ctx, FILE *f) {
  const jobhost_services *svc = ctx->svc;
  const jobhost_package *pkg;
  if (!JOBHOST_SVC_HAS(svc, connection_package) ||
      svc->connection_package == NULL)
    return;
  pkg = svc->connection_package(ctx);
  fprintf(f, "package=%s\n", pkg != NULL ? pkg->name : "");
  for (size_t i = 0;
       pkg != NULL && pkg->settings != NULL && pkg->settings[i].name != NULL;
       i++) {
    const jobhost_param *s = &pkg->settings[i];
    if (s->secret) {
      char buf[256];
      int rc = svc->secret(ctx, s->name, buf, sizeof(buf));
      fprintf(f, "secret.%s.length=%d\n", s->name,
              rc == 0 ? (int)strlen(buf) : rc);
      memset(buf, 0, sizeof(buf));
    } else {
      const char *v = svc->setting(ctx, s->name);
      fprintf(f, "setting.%s=%s\n", s->name, v != NULL ? v : "(unset)");
    }
  }
}

static int env_run(jobhost_ctx *ctx) {
  const jobhost_services *svc = ctx->svc;
  const char *path = svc->param(ctx, "write_file");
  FILE *f;
  int err = 0;

  if (path == NULL || *path == '\0') {
    svc->set_message(ctx, "parameter write_file is not set");
    return JOBHOST_ECONFIG;
  }
  f = fopen(path, "w");
  if (f == NULL) {
    err = errno;
    svc->set_message(ctx, "cannot create %s: %s", path, strerror(err));
    return -err;
  }
  /* An unknown value is written empty: the reader decides what is wrong. */
  fprintf(f, "task_id=%s\n", ctx->task_id ? ctx->task_id : "");
  fprintf(f, "task_type=%s\n", ctx->task_type ? ctx->task_type : "");
  fprintf(f, "connection=%s\n", ctx->connection ? ctx->connection : "");
  fprintf(f, "host_version=%s\n", svc->host_version ? svc->host_version : "");
  fprintf(f, "abi=%u.%u\n", (unsigned)svc->abi_major, (unsigned)svc->abi_minor);
  for (size_t i = 0; i < sizeof(env_folders) / sizeof(env_folders[0]); i++) {
    const char *dir = svc->folder(ctx, env_folders[i].which);
    fprintf(f, "%s=%s\n", env_folders[i].name, dir ? dir : "");
  }
  write_connection(ctx, f);
  if (ferror(f))
    err = errno ? errno : EIO;
  if (fclose(f) != 0 && err == 0)
    err = errno;
  if (err != 0) {
    svc->set_message(ctx, "cannot write %s: %s", path, strerror(err));
    return -err;
  }
  svc->set_message(ctx, "environment written to %s", path);
  return 0;
}

/* ---- TestFillDiskTask ---- */

static const jobhost_param filldisk_params[] = {
    {.name = "path",
     .type = JOBHOST_PARAM_STRING,
     .required = 1,
     .help = "File written until its disk is full"},
    JOBHOST_PARAM_END};

/* Writes until the disk is full, then succeeds: what the host records
 * next finds no room. */
static int filldisk_run(jobhost_ctx *ctx) {
  static const char block[65536];
  const char *path = ctx->svc->param(ctx, "path");
  int fd = path != NULL ? open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600) : -1;
  long long total = 0;
  ssize_t w;
  if (fd < 0) {
    ctx->svc->set_message(ctx, "cannot create %s", path ? path : "(none)");
    return -EIO;
  }
  while ((w = write(fd, block, sizeof(block))) > 0)
    total += w;
  close(fd);
  ctx->svc->counter_set(ctx, "bytes", total);
  ctx->svc->set_message(ctx, "wrote %lld bytes until the disk was full", total);
  return 0;
}

/* ---- the descriptor ---- */

static const jobhost_task_type enginetest_task_types[] = {
    {.name = "TestFillDiskTask",
     .description = "Fills the disk of a file, then succeeds",
     .params = filldisk_params,
     .run = filldisk_run},
    {.name = "TestSucceedTask",
     .description =
         "Succeeds, setting a counter, the output flag and a message",
     .params = succeed_params,
     .run = succeed_run},
    {.name = "TestFailTask",
     .description = "Fails with -EIO and a message",
     .params = fail_params,
     .run = fail_run},
    {.name = "TestBlockTask",
     .description = "Ends Blocked, as if a threshold were exceeded",
     .params = block_params,
     .run = block_run,
     .flags = JOBHOST_TASK_CAN_BLOCK},
    {.name = "TestUndeclaredBlockTask",
     .description = "Returns the blocked code without declaring it may block",
     .params = block_params,
     .run = block_run},
    {.name = "TestMarkDirtyTask",
     .description = "Succeeds as TestSucceedTask, declared to set dirty flags",
     .params = succeed_params,
     .run = succeed_run,
     .flags = JOBHOST_TASK_SETS_DIRTY},
    {.name = "TestDirtyTask",
     .description = "Succeeds; with dirty, runs only after dirty flags are set",
     .params = dirty_params,
     .run = dirty_run,
     .flags = JOBHOST_TASK_READS_DIRTY},
    {.name = "TestCrashTask",
     .description = "Kills its worker: NULL write, abort() or exit()",
     .params = crash_params,
     .run = crash_run},
    {.name = "TestHangTask",
     .description = "Sleeps forever without checking for cancel",
     .params = hang_params,
     .run = hang_run},
    {.name = "TestSleepTask",
     .description = "Sleeps, stopping early when cancelled",
     .params = sleep_params,
     .run = sleep_run},
    {.name = "TestCommitTask",
     .description = "Commits (says so to the host), then goes on deaf to "
                    "cancel",
     .params = commit_params,
     .run = commit_run},
    {.name = "TestSpamTask",
     .description = "Logs many lines",
     .params = spam_params,
     .run = spam_run},
    {.name = "TestNoopTask",
     .description = "Does nothing (benchmarks)",
     .run = noop_run},
    {.name = "TestFlakyTask",
     .description = "Fails a given number of attempts, then succeeds",
     .params = flaky_params,
     .run = flaky_run},
    {.name = "TestExportTask",
     .description = "Write a table through the export table writer",
     .params = export_params,
     .run = export_run},
    {.name = "TestEnvTask",
     .description = "Writes its identity and folders to a file",
     .params = env_params,
     .run = env_run},
    JOBHOST_TASK_TYPE_END};

/* ---- a connector package with every kind of setting ---- */

static const char *const testpkg_modes[] = {"fast", "slow", NULL};
static const jobhost_param testpkg_settings[] = {
    {.name = "path",
     .type = JOBHOST_PARAM_PATH,
     .required = 1,
     .help = "a file"},
    {.name = "separator",
     .type = JOBHOST_PARAM_STRING,
     .default_value = ",",
     .help = "a string with a default"},
    {.name = "count", .type = JOBHOST_PARAM_INT, .help = "an integer"},
    {.name = "mode",
     .type = JOBHOST_PARAM_ENUM,
     .choices = testpkg_modes,
     .default_value = "fast",
     .help = "a choice"},
    {.name = "flag", .type = JOBHOST_PARAM_BOOL, .help = "a boolean"},
    {.name = "columns", .type = JOBHOST_PARAM_LIST, .help = "a list"},
    {.name = "password",
     .type = JOBHOST_PARAM_STRING,
     .secret = 1,
     .help = "a secret"},
    JOBHOST_PARAM_END};

static int testpkg_export(jobhost_ctx *ctx, void *state) {
  static const char *const columns[] = {"id"};
  static const char *const row[] = {"1"};
  jobhost_table *t = NULL;
  int rc;
  (void)state;
  rc = ctx->svc->table_open(ctx, "testpkg_entries", columns, 1, &t);
  if (rc == 0)
    rc = ctx->svc->table_write(t, row, 1);
  if (t != NULL) {
    int crc = ctx->svc->table_close(t);
    rc = rc != 0 ? rc : crc;
  }
  return rc;
}

static const jobhost_package enginetest_packages[] = {
    {.name = "testpkg",
     .description = "Settings of every type, for the model tests",
     .settings = testpkg_settings,
     .export_tables = testpkg_export},
    JOBHOST_PACKAGE_END};

JOBHOST_PLUGIN_DEFINE("enginetest", "1.0.0",
                      "Test task types for the job engine (not installed)",
                      enginetest_task_types, enginetest_packages);
