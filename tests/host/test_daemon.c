/*
 * test_daemon.c — `jobhost daemon` and `jobhost schedule` run as the real
 * program, on a temporary home with the engine's test plugins, under the
 * test clock (JOBHOST_TEST_CLOCK: a simulated minute lasts a fraction of
 * a second). The daemon's stderr goes to a file the test reads.
 *
 * Covers: a job every minute over a simulated hour runs 60 times (it says
 * user_start_denied, which a manual run honours and the daemon does not
 * need to); a long job's ticks are skipped while it runs, and SIGTERM
 * during its run cancels it (Cancelled in the store) and the daemon exits
 * within the grace period plus 5 s; a Blocked job is not started again; a
 * SIGHUP with a broken pipeline keeps the old schedule; a second daemon on
 * the home is refused, naming the first one's pid; catch_up runs a missed
 * tick once at start; the host configuration's errors name
 * file:line:column; `schedule --json` lists the next fire times.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness_host.h"

typedef struct fx {
  jh_test_jobhost j;
  char config[400];
  char log[400];
  pid_t pid;
} fx;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int setup(void **state) {
  fx *f = calloc(1, sizeof(*f));
  assert_non_null(f);
  jh_test_jobhost_open(&f->j, "JH_ENGINE_PLUGIN_DIR", NULL);
  snprintf(f->config, sizeof(f->config), "%s/jobhost.yaml", f->j.dir);
  snprintf(f->log, sizeof(f->log), "%s/daemon.log", f->j.dir);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  if (f->pid > 0) {
    kill(f->pid, SIGKILL);
    waitpid(f->pid, NULL, 0);
  }
  jh_test_jobhost_close(&f->j);
  free(f);
  return 0;
}

/* The host configuration: the home and plugins of the fixture, the
 * pipelines of pipelines/, and `extra` lines. */
static void write_config(fx *f, const char *extra) {
  char text[2048];
  snprintf(text, sizeof(text),
           "home: %s\n"
           "plugin_dirs: [%s]\n"
           "pipelines: [\"pipelines/*.yaml\"]\n"
           "%s",
           f->j.home, jh_test_env("JH_ENGINE_PLUGIN_DIR"), extra);
  jh_test_write_file(f->config, text, 0644);
}

static void write_pipeline(fx *f, const char *name, const char *yaml) {
  char path[400];
  snprintf(path, sizeof(path), "%s/pipelines", f->j.dir);
  if (!jh_test_exists(path))
    jh_test_mkdir(path);
  snprintf(path, sizeof(path), "%s/pipelines/%s", f->j.dir, name);
  jh_test_write_file(path, yaml, 0644);
}

/* Start the daemon with the test clock; stderr to f->log. */
static void start_daemon(fx *f, const char *clock) {
  pid_t pid;
  fflush(NULL);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int fd = open(f->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
      _exit(126);
    dup2(fd, STDERR_FILENO);
    dup2(fd, STDOUT_FILENO);
    setenv("JOBHOST_TEST_CLOCK", clock, 1);
    unsetenv("JOBHOST_HOME");
    unsetenv("JOBHOST_PLUGIN_PATH");
    execl(jh_test_env("JH_JOBHOST"), "jobhost", "daemon", "--config", f->config,
          (char *)NULL);
    _exit(127);
  }
  f->pid = pid;
}

static size_t count(const char *text, const char *what) {
  size_t n = 0;
  for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what))
    n++;
  return n;
}

/* Wait until the log holds `what` at least n times; fail after ms. */
static char *wait_log(fx *f, const char *what, size_t n, long ms) {
  int64_t end = now_ms() + ms;
  for (;;) {
    char *text = jh_test_exists(f->log) ? jh_test_read_file(f->log) : NULL;
    if (text != NULL && count(text, what) >= n)
      return text;
    if (now_ms() > end)
      fail_msg("after %ld ms, not %zu times '%s' in the daemon's log:\n%s", ms,
               n, what, text != NULL ? text : "(none)");
    free(text);
    nap(50);
  }
}

/* Signal the daemon and wait for its exit (at most ms); its status. */
static int stop_daemon(fx *f, int sig, long ms, long *took) {
  int64_t start = now_ms();
  int status;
  kill(f->pid, sig);
  for (;;) {
    pid_t p = waitpid(f->pid, &status, WNOHANG);
    if (p == f->pid)
      break;
    if (now_ms() - start > ms) {
      char *text = jh_test_read_file(f->log);
      fail_msg("the daemon did not exit within %ld ms:\n%s", ms, text);
    }
    nap(20);
  }
  f->pid = 0;
  if (took != NULL)
    *took = (long)(now_ms() - start);
  assert_true(WIFEXITED(status));
  return WEXITSTATUS(status);
}

static const char every_minute[] = "version: 1\n"
                                   "job:\n"
                                   "  id: EveryMinute\n"
                                   "  schedule: \"* * * * *\"\n"
                                   "  user_start_denied: true\n"
                                   "  tasks:\n"
                                   "    - {id: T, type: TestSucceedTask}\n";

/* A job every minute over a simulated hour: 60 runs, none skipped. */
static void test_every_minute_for_an_hour(void **state) {
  fx *f = *state;
  char *text, *out = NULL;
  write_pipeline(f, "every.yaml", every_minute);
  write_config(f, "max_parallel_jobs: 2\n");
  /* 40 times faster: a minute lasts 1.5 s, the hour 90 s; a run of the
   * one-task job takes well under the minute even on a loaded machine
   * and in a sanitizer build, so none of its ticks finds it running */
  start_daemon(f, "2026-01-01T00:00:30Z x40");
  text = wait_log(f, "tick 2026-01-01T01:00:00Z", 1, 130000);
  free(text);
  text = wait_log(f, "ended Succeeded", 60, 10000);
  assert_int_equal(stop_daemon(f, SIGTERM, 10000, NULL), 0);
  free(text);
  text = jh_test_read_file(f->log);
  assert_int_equal(count(text, "job EveryMinute started: instance"), 60);
  assert_int_equal(count(text, "job EveryMinute instance"), 60);
  assert_int_equal(count(text, "ended Succeeded"), 60);
  assert_int_equal(count(text, "skipped"), 0);
  assert_non_null(strstr(text, "tick 2026-01-01T00:01:00Z"));
  assert_null(strstr(text, "tick 2026-01-01T00:00:00Z"));
  assert_null(strstr(text, "tick 2026-01-01T01:01:00Z"));
  free(text);
  /* the store has the 60 instances */
  assert_int_equal(jh_test_jobhost_run(&f->j, &out, NULL, "history", "--limit",
                                       "100", NULL),
                   0);
  assert_int_equal(count(out, "Succeeded"), 60);
  free(out);
  /* by hand, the job is refused without --force */
  {
    char path[400], *err = NULL;
    snprintf(path, sizeof(path), "%s/pipelines/every.yaml", f->j.dir);
    assert_int_equal(jh_test_jobhost_run(&f->j, NULL, &err, "run", path, NULL),
                     2);
    assert_non_null(strstr(err, "user_start_denied"));
    free(err);
    assert_int_equal(jh_test_jobhost_run(&f->j, NULL, NULL, "run", path,
                                         "--force", NULL),
                     0);
  }
}

/* A long job: its next ticks are skipped while it runs; SIGTERM during
 * the run cancels it, and the daemon ends within grace + 5 s. */
static void test_long_job_skipped_then_sigterm(void **state) {
  fx *f = *state;
  char *text, *out = NULL;
  long took = 0;
  write_pipeline(f, "long.yaml",
                 "version: 1\n"
                 "job:\n"
                 "  id: Long\n"
                 "  schedule: \"* * * * *\"\n"
                 "  tasks:\n"
                 "    - {id: S, type: TestSleepTask, ms: 600000}\n");
  write_config(f, "grace_period: 1s\n");
  start_daemon(f, "2026-01-01T00:00:50Z x60");
  text = wait_log(f, "job Long started: instance", 1, 20000);
  free(text);
  text = wait_log(f, "skipped: still running as instance", 2, 20000);
  assert_non_null(strstr(text, "job Long tick 2026-01-01T00:02:00Z skipped: "
                               "still running as instance 1"));
  free(text);
  assert_int_equal(stop_daemon(f, SIGTERM, 1000 + 5000 + 2000, &took), 0);
  assert_true(took <= 6000);
  text = jh_test_read_file(f->log);
  assert_non_null(strstr(text, "job Long instance 1 ended Cancelled"));
  free(text);
  assert_int_equal(jh_test_jobhost_run(&f->j, &out, NULL, "show", "1", NULL),
                   0);
  assert_non_null(strstr(out, "Cancelled"));
  free(out);
}

/* A job whose last instance is Blocked is not started again. */
static void test_blocked_not_restarted(void **state) {
  fx *f = *state;
  char *text, *out = NULL, path[400];
  write_pipeline(f, "block.yaml",
                 "version: 1\n"
                 "job:\n"
                 "  id: Blocky\n"
                 "  schedule: \"* * * * *\"\n"
                 "  tasks:\n"
                 "    - {id: B, type: TestBlockTask}\n");
  write_config(f, "");
  snprintf(path, sizeof(path), "%s/pipelines/block.yaml", f->j.dir);
  assert_int_equal(jh_test_jobhost_run(&f->j, NULL, NULL, "run", path, NULL),
                   3);
  start_daemon(f, "2026-01-01T00:00:50Z x60");
  text = wait_log(f, "skipped: instance 1 is Blocked", 2, 20000);
  free(text);
  assert_int_equal(stop_daemon(f, SIGTERM, 10000, NULL), 0);
  text = jh_test_read_file(f->log);
  assert_null(strstr(text, "started: instance"));
  free(text);
  assert_int_equal(jh_test_jobhost_run(&f->j, &out, NULL, "history", NULL), 0);
  assert_int_equal(count(out, "Blocky"), 1);
  free(out);
}

/* SIGHUP with a broken pipeline: refused with its location, the old
 * schedule stays; a second daemon is refused and names the first. */
static void test_sighup_broken_and_second_daemon(void **state) {
  fx *f = *state;
  char *text, *err = NULL, pid[64];
  write_pipeline(f, "every.yaml", every_minute);
  write_config(f, "");
  start_daemon(f, "2026-01-01T00:00:50Z x60");
  text = wait_log(f, "ended Succeeded", 1, 20000);
  free(text);

  assert_int_equal(jh_test_jobhost_bare(NULL, &err, "daemon", "--config",
                                        f->config, NULL),
                   1);
  snprintf(pid, sizeof(pid), "another daemon (pid %ld)", (long)f->pid);
  if (strstr(err, pid) == NULL)
    fail_msg("expected '%s' in: %s", pid, err);
  free(err);

  /* a new pipeline that does not validate: the reload is refused */
  write_pipeline(f, "more.yaml",
                 "version: 1\n"
                 "job:\n"
                 "  id: More\n"
                 "  schedule: \"*/2 * * * *\"\n"
                 "  tasks:\n"
                 "    - {id: T, type: TestSucceedTask, bogus: 1}\n");
  kill(f->pid, SIGHUP);
  text = wait_log(f, "reload refused", 1, 10000);
  assert_non_null(
      strstr(text, "pipelines/more.yaml:6:38: error: unknown key 'bogus'"));
  free(text);
  /* the old schedule goes on */
  text = wait_log(f, "ended Succeeded", 3, 20000);
  assert_null(strstr(text, "job More"));
  free(text);
  /* once it validates, it is taken */
  write_pipeline(f, "more.yaml",
                 "version: 1\n"
                 "job:\n"
                 "  id: More\n"
                 "  schedule: \"*/2 * * * *\"\n"
                 "  tasks:\n"
                 "    - {id: T, type: TestSucceedTask}\n");
  kill(f->pid, SIGHUP);
  text = wait_log(f, "reloaded: 2 scheduled jobs", 1, 10000);
  free(text);
  text = wait_log(f, "job More started: instance", 1, 20000);
  free(text);
  assert_int_equal(stop_daemon(f, SIGINT, 10000, NULL), 0);
}

/* catch_up: a tick missed while the daemon was down runs once at start;
 * a job without catch_up waits for its next tick. */
static void test_catch_up(void **state) {
  fx *f = *state;
  char *text;
  write_pipeline(f, "a.yaml",
                 "version: 1\n"
                 "job:\n"
                 "  id: Catcher\n"
                 "  schedule: \"0 * * * *\"\n"
                 "  catch_up: true\n"
                 "  tasks:\n"
                 "    - {id: T, type: TestSucceedTask}\n");
  write_pipeline(f, "b.yaml",
                 "version: 1\n"
                 "job:\n"
                 "  id: Waiter\n"
                 "  schedule: \"0 * * * *\"\n"
                 "  tasks:\n"
                 "    - {id: T, type: TestSucceedTask}\n");
  write_config(f, "");
  start_daemon(f, "2026-01-01T00:30:00Z x1");
  text = wait_log(f, "started (pid", 1, 10000);
  free(text);
  assert_int_equal(stop_daemon(f, SIGTERM, 10000, NULL), 0);
  /* down from 00:30 to 02:10: 01:00 and 02:00 missed, run once */
  start_daemon(f, "2026-01-01T02:10:00Z x1");
  text = wait_log(f, "ended Succeeded", 1, 20000);
  assert_non_null(strstr(text, "job Catcher: tick 2026-01-01T01:00:00Z was "
                               "missed while the daemon was down"));
  free(text);
  nap(500);
  assert_int_equal(stop_daemon(f, SIGTERM, 10000, NULL), 0);
  text = jh_test_read_file(f->log);
  assert_int_equal(count(text, "started: instance"), 1);
  assert_null(strstr(text, "job Waiter started"));
  free(text);
}

/* The host configuration is checked like a pipeline. */
static void test_config_errors(void **state) {
  fx *f = *state;
  char *err = NULL, want[600];
  jh_test_write_file(f->config,
                     "home: /tmp\n"
                     "max_parallel_jobs: 0\n"
                     "grace_period: soon\n"
                     "pipelinez: [a.yaml]\n"
                     "pipelines: [missing.yaml]\n"
                     "time_zone: Mars/Olympus\n",
                     0644);
  assert_int_equal(jh_test_jobhost_bare(NULL, &err, "schedule", "--config",
                                        f->config, NULL),
                   2);
  snprintf(want, sizeof(want),
           "%s:2:20: error: expected an integer >= 1 for "
           "'max_parallel_jobs'",
           f->config);
  if (strstr(err, want) == NULL)
    fail_msg("expected '%s' in:\n%s", want, err);
  snprintf(want, sizeof(want), "%s:3:15: error: expected a duration",
           f->config);
  assert_non_null(strstr(err, want));
  snprintf(want, sizeof(want), "%s:4:1: error: unknown key 'pipelinez'",
           f->config);
  assert_non_null(strstr(err, want));
  snprintf(want, sizeof(want), "%s:5:13: error: pipeline 'missing.yaml'",
           f->config);
  assert_non_null(strstr(err, want));
  snprintf(want, sizeof(want), "%s:6:12: error: unknown time zone", f->config);
  assert_non_null(strstr(err, want));
  free(err);
  /* no file: said, exit 2 */
  assert_int_equal(jh_test_jobhost_bare(NULL, &err, "daemon", "--config",
                                        "/nonexistent/jobhost.yaml", NULL),
                   2);
  assert_non_null(strstr(err, "no host configuration"));
  free(err);
}

/* The other commands take the home and the plugin folders of the host
 * configuration when not given them; options win. */
static void test_config_defaults(void **state) {
  fx *f = *state;
  char *out = NULL, *err = NULL, path[400];
  write_pipeline(f, "a.yaml",
                 "version: 1\n"
                 "job:\n"
                 "  id: Plain\n"
                 "  tasks:\n"
                 "    - {id: T, type: TestSucceedTask}\n");
  write_config(f, "");
  snprintf(path, sizeof(path), "%s/pipelines/a.yaml", f->j.dir);
  setenv("JOBHOST_CONFIG", f->config, 1);
  unsetenv("JOBHOST_HOME");
  unsetenv("JOBHOST_PLUGIN_PATH");
  assert_int_equal(jh_test_jobhost_bare(NULL, NULL, "run", path, NULL), 0);
  assert_int_equal(jh_test_jobhost_bare(&out, NULL, "history", NULL), 0);
  assert_non_null(strstr(out, "Plain"));
  free(out);
  /* the commands that load plugins find them in its plugin_dirs, the
   * provisioning command its home */
  assert_int_equal(jh_test_jobhost_bare(NULL, NULL, "validate", path, NULL), 0);
  assert_int_equal(jh_test_jobhost_bare(&out, NULL, "steps", path, NULL), 0);
  assert_non_null(strstr(out, "T"));
  free(out);
  assert_int_equal(jh_test_jobhost_bare(&out, NULL, "plugins", "--json", NULL),
                   0);
  assert_non_null(strstr(out, jh_test_env("JH_ENGINE_PLUGIN_DIR")));
  free(out);
  assert_int_equal(jh_test_jobhost_bare(NULL, NULL, "provisioning", "list",
                                        "--state", "none", NULL),
                   0);
  /* an explicit --home wins: that home has no instance */
  snprintf(path, sizeof(path), "%s/other", f->j.dir);
  assert_int_equal(
      jh_test_jobhost_bare(&out, NULL, "history", "--home", path, NULL), 0);
  assert_null(strstr(out, "Plain"));
  free(out);
  /* more plugin folders than run takes (32) stop it, rather than some
   * being left out */
  {
    char many[8192];
    size_t n = (size_t)snprintf(many, sizeof(many), "home: %s\nplugin_dirs: [",
                                f->j.home);
    for (int i = 0; i < 33; i++) /* 33 folders (one named twice is one) */
      n += (size_t)snprintf(many + n, sizeof(many) - n, "%s%s/d%d",
                            i ? ", " : "", f->j.dir, i);
    snprintf(many + n, sizeof(many) - n, "]\n");
    jh_test_write_file(f->config, many, 0644);
    snprintf(path, sizeof(path), "%s/pipelines/a.yaml", f->j.dir);
    assert_int_equal(jh_test_jobhost_bare(NULL, &err, "run", path, NULL), 2);
    assert_non_null(strstr(err, "names 33 plugin folders; this command takes "
                                "at most 32"));
    free(err);
  }
  /* a configuration that does not validate stops the command */
  jh_test_write_file(f->config, "homes: /tmp\n", 0644);
  assert_int_equal(jh_test_jobhost_bare(NULL, &err, "history", NULL), 2);
  assert_non_null(strstr(err, "jobhost.yaml:1:1: error: unknown key"));
  free(err);
  assert_int_equal(jh_test_jobhost_bare(NULL, &err, "validate", path, NULL), 2);
  assert_non_null(strstr(err, "jobhost.yaml:1:1: error: unknown key"));
  free(err);
  unsetenv("JOBHOST_CONFIG");
  /* the home of the first run has the instance */
  assert_int_equal(jh_test_jobhost_run(&f->j, &out, NULL, "history", NULL), 0);
  assert_non_null(strstr(out, "Plain"));
  free(out);
}

/* The example's two scheduled jobs (conf/examples/complete-sync: the HR
 * job at 01:00, the AD job at 02:00, UTC), on a copy, under the test clock
 * at 60 times speed (5 minutes, 5 s, to load the two jobs before
 * the first tick), after the HR source's first load by hand: each starts
 * at its own tick, the HR job ends Succeeded, then the AD job, whose
 * directory this home has never loaded, Blocked by its thresholds as
 * scripts/example shows; nothing starts at another time. */
static void test_example_on_time(void **state) {
  fx *f = *state;
  char *src = jh_test_source("conf/examples/complete-sync"), dst[400];
  char extra[1200], *text;
  snprintf(dst, sizeof(dst), "%s/complete-sync", f->j.dir);
  {
    const char *argv[] = {"/bin/cp", "-R", src, dst, NULL};
    if (jh_test_run(argv, NULL, NULL) != 0)
      fail_msg("cannot copy %s", src);
  }
  free(src);
  snprintf(extra, sizeof(extra),
           "home: %s\n"
           "plugin_dirs: [%s]\n"
           "pipelines: [complete-sync/hr-pipeline.yaml, "
           "complete-sync/pipeline.yaml]\n"
           "time_zone: UTC\n",
           f->j.home, jh_test_env("JH_BUILTIN_PLUGIN_DIR"));
  jh_test_write_file(f->config, extra, 0644);
  /* the first load of the HR source, by hand with --force, as an operator
   * validates it (its thresholds hold it on a fresh home) */
  snprintf(dst, sizeof(dst), "%s/complete-sync/hr-pipeline.yaml", f->j.dir);
  assert_int_equal(jh_test_jobhost_bare(NULL, NULL, "run", dst, "--force",
                                        "--home", f->j.home, "--plugin-dir",
                                        jh_test_env("JH_BUILTIN_PLUGIN_DIR"),
                                        NULL),
                   0);
  start_daemon(f, "2026-01-01T00:55:00Z x60");
  text = wait_log(f, "job Job_HR_Complete instance", 1, 60000);
  free(text);
  text = wait_log(f, "job Job_AD_Complete instance", 1, 150000);
  assert_int_equal(stop_daemon(f, SIGTERM, 10000, NULL), 0);
  free(text);
  text = jh_test_read_file(f->log);
  assert_non_null(strstr(text, "job Job_HR_Complete started: instance 2 "));
  assert_non_null(strstr(text, "tick 2026-01-01T01:00:00Z"));
  assert_non_null(
      strstr(text, "job Job_HR_Complete instance 2 ended Succeeded"));
  assert_non_null(strstr(text, "job Job_AD_Complete started: instance 3 "));
  assert_non_null(strstr(text, "tick 2026-01-01T02:00:00Z"));
  assert_non_null(strstr(text, "job Job_AD_Complete instance 3 ended Blocked"));
  assert_int_equal(count(text, "started: instance"), 2);
  assert_int_equal(count(text, "skipped"), 0);
  free(text);
}

/* The installed configuration, conf/jobhost.yaml, validates. */
static void test_installed_config(void **state) {
  fx *f = *state;
  char *conf = jh_test_source("conf/jobhost.yaml"), *out = NULL;
  assert_int_equal(jh_test_jobhost_bare(&out, NULL, "schedule", "--config",
                                        conf, "--home", f->j.home, NULL),
                   0);
  assert_non_null(strstr(out, "no scheduled job in"));
  free(out);
  free(conf);
}

/* `schedule --json`: next fire times under the test clock, zone, last. */
static void test_schedule_json(void **state) {
  fx *f = *state;
  char *out = NULL;
  json_t *doc, *job;
  json_error_t e;
  write_pipeline(f, "a.yaml",
                 "version: 1\n"
                 "job:\n"
                 "  id: Nightly\n"
                 "  schedule: \"30 2 * * mon-fri\"\n"
                 "  tasks:\n"
                 "    - {id: T, type: TestSucceedTask}\n");
  write_pipeline(f, "b.yaml",
                 "version: 1\n"
                 "job:\n"
                 "  id: Manual\n"
                 "  tasks:\n"
                 "    - {id: T, type: TestSucceedTask}\n");
  write_config(f, "");
  setenv("JOBHOST_TEST_CLOCK", "2026-01-02T03:00:00Z", 1); /* a Friday */
  assert_int_equal(jh_test_jobhost_bare(&out, NULL, "schedule", "--json",
                                        "--config", f->config, NULL),
                   0);
  unsetenv("JOBHOST_TEST_CLOCK");
  doc = json_loads(out, 0, &e);
  if (doc == NULL)
    fail_msg("not JSON: %s\n%s", e.text, out);
  assert_int_equal(json_array_size(json_object_get(doc, "jobs")), 1);
  job = json_array_get(json_object_get(doc, "jobs"), 0);
  assert_string_equal(json_string_value(json_object_get(job, "job")),
                      "Nightly");
  assert_string_equal(json_string_value(json_object_get(job, "schedule")),
                      "30 2 * * mon-fri");
  assert_string_equal(json_string_value(json_object_get(job, "cron_time_zone")),
                      "UTC");
  assert_string_equal(json_string_value(
                          json_array_get(json_object_get(job, "next"), 0)),
                      "2026-01-05T02:30:00Z");
  assert_string_equal(json_string_value(
                          json_array_get(json_object_get(job, "next"), 1)),
                      "2026-01-06T02:30:00Z");
  assert_int_equal(json_array_size(json_object_get(job, "next")), 3);
  assert_true(json_is_null(json_object_get(job, "last")));
  json_decref(doc);
  free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_schedule_json, setup, teardown),
      cmocka_unit_test_setup_teardown(test_config_defaults, setup, teardown),
      cmocka_unit_test_setup_teardown(test_installed_config, setup, teardown),
      cmocka_unit_test_setup_teardown(test_example_on_time, setup, teardown),
      cmocka_unit_test_setup_teardown(test_catch_up, setup, teardown),
      cmocka_unit_test_setup_teardown(test_blocked_not_restarted, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_sighup_broken_and_second_daemon,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_long_job_skipped_then_sigterm, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_every_minute_for_an_hour, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
