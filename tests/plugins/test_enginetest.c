/*
 * test_enginetest.c — the enginetest plugin that engine tests rely on:
 * it loads through the host loader without refusal, declares every task
 * type with its parameter schema, and each task type does what its name
 * says when run() is called with a fake services table. The task types
 * that end their process (crash, hang) run in a forked child.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "loader.h"
#include "harness_host.h"
#include "harness_services.h"

/* ---- the expected declarations ---- */

typedef struct {
  const char *name;
  jobhost_param_type type;
  int required;
  const char *default_value;
} param_fact;

static const struct {
  const char *task_type;
  unsigned flags;
  param_fact params[6];
} expected[] = {
    {"TestSucceedTask",
     0,
     {{"produce_output", JOBHOST_PARAM_BOOL, 0, "true"},
      {"counter_name", JOBHOST_PARAM_STRING, 0, "items"},
      {"counter_value", JOBHOST_PARAM_INT, 0, "1"},
      {"message", JOBHOST_PARAM_STRING, 0, NULL},
      {"print", JOBHOST_PARAM_STRING, 0, NULL}}},
    {"TestFailTask",
     0,
     {{"message", JOBHOST_PARAM_STRING, 0, "asked to fail"}}},
    {"TestBlockTask",
     JOBHOST_TASK_CAN_BLOCK,
     {{"message", JOBHOST_PARAM_STRING, 0, "threshold exceeded"},
      {"pending", JOBHOST_PARAM_INT, 0, "10"}}},
    {"TestUndeclaredBlockTask",
     0,
     {{"message", JOBHOST_PARAM_STRING, 0, "threshold exceeded"},
      {"pending", JOBHOST_PARAM_INT, 0, "10"}}},
    {"TestMarkDirtyTask",
     JOBHOST_TASK_SETS_DIRTY,
     {{"produce_output", JOBHOST_PARAM_BOOL, 0, "true"},
      {"counter_name", JOBHOST_PARAM_STRING, 0, "items"},
      {"counter_value", JOBHOST_PARAM_INT, 0, "1"},
      {"message", JOBHOST_PARAM_STRING, 0, NULL},
      {"print", JOBHOST_PARAM_STRING, 0, NULL}}},
    {"TestDirtyTask",
     JOBHOST_TASK_READS_DIRTY,
     {{"dirty", JOBHOST_PARAM_BOOL, 0, "false"}}},
    {"TestCrashTask",
     0,
     {{"how", JOBHOST_PARAM_ENUM, 0, "segv"},
      {"exit_status", JOBHOST_PARAM_INT, 0, "3"}}},
    {"TestHangTask", 0, {{"ignore_term", JOBHOST_PARAM_BOOL, 0, "false"}}},
    {"TestSleepTask",
     0,
     {{"ms", JOBHOST_PARAM_INT, 0, "1000"},
      {"release_file", JOBHOST_PARAM_STRING, 0, NULL}}},
    {"TestCommitTask",
     0,
     {{"before_ms", JOBHOST_PARAM_INT, 0, "0"},
      {"after_ms", JOBHOST_PARAM_INT, 0, "1000"},
      {"ignore_term", JOBHOST_PARAM_BOOL, 0, "false"},
      {"release_file", JOBHOST_PARAM_STRING, 0, NULL}}},
    {"TestSpamTask",
     0,
     {{"lines", JOBHOST_PARAM_INT, 0, "100000"},
      {"line_bytes", JOBHOST_PARAM_INT, 0, "200"}}},
    {"TestNoopTask", 0, {{NULL, 0, 0, NULL}}},
    {"TestFlakyTask",
     0,
     {{"fail_times", JOBHOST_PARAM_INT, 0, "1"},
      {"state_file", JOBHOST_PARAM_STRING, 1, NULL}}},
    {"TestExportTask",
     0,
     {{"rows", JOBHOST_PARAM_INT, 0, "3"},
      {"fail_after", JOBHOST_PARAM_INT, 0, "-1"},
      {"connection", JOBHOST_PARAM_STRING, 0, NULL}}},
    {"TestEnvTask",
     0,
     {{"write_file", JOBHOST_PARAM_STRING, 1, NULL},
      {"connection", JOBHOST_PARAM_STRING, 0, NULL},
      {"connector", JOBHOST_PARAM_STRING, 0, NULL}}},
    {"TestFillDiskTask", 0, {{"path", JOBHOST_PARAM_STRING, 1, NULL}}},
};
#define NEXPECTED (sizeof(expected) / sizeof(expected[0]))

static jh_registry *load_enginetest(void) {
  jh_registry *reg = jh_test_registry("JH_ENGINE_PLUGIN_DIR", NULL);

  jh_test_assert_no_refusals(reg);
  assert_int_equal(reg->nplugins, 1);
  assert_string_equal(reg->plugins[0].desc->name, "enginetest");
  return reg;
}

static jh_registry *registry; /* loaded once for the whole group */

static void test_declarations(void **state) {
  const jh_registry *reg = registry;
  const jobhost_task_type *all = reg->plugins[0].desc->task_types;
  size_t n = 0;
  (void)state;

  for (size_t i = 0; i < NEXPECTED; i++) {
    const jobhost_task_type *t = jh_registry_task_type(reg,
                                                       expected[i].task_type,
                                                       NULL);
    size_t p = 0;
    if (t == NULL)
      fail_msg("task type %s is missing", expected[i].task_type);
    assert_non_null(t->description);
    assert_int_equal(t->flags, expected[i].flags);
    for (; t->params != NULL && t->params[p].name != NULL; p++) {
      const param_fact *f = &expected[i].params[p];
      if (f->name == NULL)
        fail_msg("%s: unexpected parameter %s", t->name, t->params[p].name);
      assert_string_equal(t->params[p].name, f->name);
      assert_int_equal(t->params[p].type, f->type);
      assert_int_equal(!!t->params[p].required, f->required);
      if (f->default_value == NULL)
        assert_null(t->params[p].default_value);
      else
        assert_string_equal(t->params[p].default_value, f->default_value);
      assert_non_null(t->params[p].help);
    }
    if (expected[i].params[p].name != NULL)
      fail_msg("%s lacks parameter %s", t->name, expected[i].params[p].name);
  }
  while (all[n].name != NULL)
    n++;
  assert_int_equal(n, NEXPECTED); /* no undeclared extra task type */
}

/* ---- the stand-in host ---- */

/* What the task sees and did; its parameters are read as the host reads
 * them (the schema's defaults, and an undeclared one fails the test). */
static jh_fake_host fake;

static int setup(void **state) {
  static const char *const folders[] = {
      "/h/Temp/ExportOutput",       "/h/Work/ExportCookies", "/h/Work/Collect",
      "/h/Work/ProvisioningOrders", "/h/Temp/JobLogs",       "/h/Work/Tasks/7"};
  (void)state;
  registry = load_enginetest();
  jh_fake_host_init(&fake);
  fake.strict_params = 1;
  for (size_t i = 0; i < sizeof(folders) / sizeof(folders[0]); i++)
    fake.folders[i] = folders[i];
  return 0;
}

static int teardown(void **state) {
  (void)state;
  jh_fake_host_clear(&fake);
  jh_registry_free(registry);
  registry = NULL;
  return 0;
}

/* Make the fake host ready to run `type` with params (name, value pairs,
 * NULL-terminated, or NULL): what an earlier task did is forgotten. */
static void fake_prepare(const char *type, const char *const *params) {
  jh_fake_host_reset(&fake);
  fake.params.n = 0;
  jh_fake_put_all(&fake.params, params);
  fake.type = jh_registry_task_type(registry, type, NULL);
  assert_non_null(fake.type);
}

/* Runs task type `type` with params and returns its code; the fake
 * records what it did. */
static int run_task_forced(const char *type, const char *const *params,
                           int force) {
  jobhost_ctx ctx;
  fake_prepare(type, params);
  ctx = jh_fake_ctx(&fake, "T1", type);
  ctx.force = force;
  ctx.resume_of = force ? 42 : 0;
  return fake.type->run(&ctx);
}

static int run_task(const char *type, const char *const *params) {
  return run_task_forced(type, params, 0);
}

static int64_t counter(const char *name) {
  return jh_fake_counter(&fake, name);
}

/* ---- the task types that return ---- */

static void test_succeed(void **state) {
  static const char *const custom[] = {
      "produce_output", "false",         "counter_name",
      "rows",           "counter_value", "42",
      "message",        "all good",      NULL};
  (void)state;

  assert_int_equal(run_task("TestSucceedTask", NULL), 0);
  assert_int_equal(counter("items"), 1);
  assert_int_equal(fake.ncounters, 1);
  assert_int_equal(fake.produced, 1);
  assert_non_null(strstr(fake.message, "items=1"));
  assert_int_equal(fake.log_lines[JOBHOST_LOG_INFO], 1);

  assert_int_equal(run_task("TestSucceedTask", custom), 0);
  assert_int_equal(counter("rows"), 42);
  assert_int_equal(fake.ncounters, 1);
  assert_int_equal(fake.produced, 0);
  assert_string_equal(fake.message, "all good");
  assert_int_equal(fake.log_lines[JOBHOST_LOG_INFO], 1);
}

static void test_fail(void **state) {
  static const char *const custom[] = {"message", "disk on fire", NULL};
  (void)state;

  assert_int_equal(run_task("TestFailTask", NULL), -EIO);
  assert_string_equal(fake.message, "asked to fail");
  assert_int_equal(fake.produced, -1);
  assert_int_equal(run_task("TestFailTask", custom), -EIO);
  assert_string_equal(fake.message, "disk on fire");
}

static void test_block(void **state) {
  static const char *const custom[] = {"message", "too many deletions",
                                       "pending", "3", NULL};
  (void)state;

  assert_int_equal(run_task("TestBlockTask", NULL), JOBHOST_EBLOCKED);
  assert_string_equal(fake.message, "threshold exceeded");
  assert_int_equal(counter("pending_changes"), 10);
  assert_int_equal(run_task("TestBlockTask", custom), JOBHOST_EBLOCKED);
  assert_string_equal(fake.message, "too many deletions");
  assert_int_equal(counter("pending_changes"), 3);
  /* Forced (run --force, or validating the blocked run on resume), the
   * held changes are applied. */
  assert_int_equal(run_task_forced("TestBlockTask", custom, 1), 0);
  assert_string_equal(fake.message, "forced: 3 held changes applied on resume");
  assert_int_equal(counter("applied_changes"), 3);
  assert_int_equal(fake.produced, 1);
}

static void test_bad_integer_is_a_config_error(void **state) {
  static const char *const bad[] = {"pending", "-1", NULL};
  static const char *const junk[] = {"counter_value", "12abc", NULL};
  (void)state;

  assert_int_equal(run_task("TestBlockTask", bad), JOBHOST_ECONFIG);
  assert_non_null(strstr(fake.message, "pending"));
  assert_int_equal(run_task("TestSucceedTask", junk), JOBHOST_ECONFIG);
  assert_non_null(strstr(fake.message, "counter_value"));
}

static void test_flaky(void **state) {
  char dir[256], path[300], again[300];
  const char *const params[] = {"fail_times", "2", "state_file", path, NULL};
  const char *const never[] = {"fail_times", "0", "state_file", again, NULL};
  const char *const in_dir[] = {"state_file", dir, NULL};
  FILE *f;
  long long count = 0;
  (void)state;

  jh_test_mkdtemp(dir, sizeof(dir));
  snprintf(path, sizeof(path), "%s/attempts", dir);
  snprintf(again, sizeof(again), "%s/other", dir);

  assert_int_equal(run_task("TestFlakyTask", params), -EAGAIN);
  assert_string_equal(fake.message, "attempt 1 failed");
  assert_int_equal(run_task("TestFlakyTask", params), -EAGAIN);
  assert_string_equal(fake.message, "attempt 2 failed");
  assert_int_equal(run_task("TestFlakyTask", params), 0);
  assert_string_equal(fake.message, "attempt 3 succeeded");
  assert_int_equal(fake.produced, 1);
  assert_int_equal(counter("attempt"), 3);
  f = fopen(path, "r");
  assert_non_null(f);
  assert_int_equal(fscanf(f, "%lld", &count), 1);
  fclose(f);
  assert_int_equal(count, 3);

  assert_int_equal(run_task("TestFlakyTask", never), 0);
  assert_string_equal(fake.message, "attempt 1 succeeded");

  /* A state file that cannot be used is an error, not a crash. */
  assert_true(run_task("TestFlakyTask", in_dir) < 0);
  assert_non_null(strstr(fake.message, dir));
  jh_test_write_file(path, "many\n", 0600);
  assert_int_equal(run_task("TestFlakyTask", params), JOBHOST_ECONFIG);
  jh_test_rmtree(dir);
}

static void test_sleep(void **state) {
  static const char *const short_nap[] = {"ms", "30", NULL};
  static const char *const long_nap[] = {"ms", "600000", NULL};
  struct timespec t0, t1;
  (void)state;

  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(run_task("TestSleepTask", short_nap), 0);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  assert_true((t1.tv_sec - t0.tv_sec) * 1000 +
                  (t1.tv_nsec - t0.tv_nsec) / 1000000 >=
              30);
  assert_int_equal(fake.produced, 1);
  assert_string_equal(fake.message, "slept 30 ms");

  fake.cancel_after = 0; /* kept by run_task: ten minutes end at once */
  assert_int_equal(run_task("TestSleepTask", long_nap), JOBHOST_ECANCELLED);
  assert_non_null(strstr(fake.message, "cancelled"));
  assert_int_equal(fake.produced, -1);
  fake.cancel_after = -1;
}

static void test_spam(void **state) {
  static const char *const params[] = {"lines", "2500", "line_bytes", "40",
                                       NULL};
  (void)state;

  assert_int_equal(run_task("TestSpamTask", params), 0);
  assert_int_equal(fake.log_lines[JOBHOST_LOG_INFO], 2500);
  assert_int_equal(strlen(fake.last_log), 40);
  assert_true(strncmp(fake.last_log, "line 2500 x", 11) == 0);
  assert_int_equal(counter("lines"), 2500);
}

static void test_noop(void **state) {
  (void)state;
  assert_int_equal(run_task("TestNoopTask", NULL), 0);
  assert_int_equal(fake.ncounters, 0);
}

static void test_env(void **state) {
  char dir[256], path[300];
  const char *const params[] = {"write_file", path, NULL};
  char *text = NULL;
  size_t size = 0;
  FILE *f;
  (void)state;

  jh_test_mkdtemp(dir, sizeof(dir));
  snprintf(path, sizeof(path), "%s/env.txt", dir);
  assert_int_equal(run_task("TestEnvTask", params), 0);
  f = fopen(path, "r");
  assert_non_null(f);
  text = malloc(4096);
  assert_non_null(text);
  size = fread(text, 1, 4095, f);
  text[size] = '\0';
  fclose(f);
  assert_non_null(strstr(text, "task_id=T1\n"));
  assert_non_null(strstr(text, "task_type=TestEnvTask\n"));
  assert_non_null(strstr(text, "task_work=/h/Work/Tasks/7\n"));
  assert_non_null(strstr(text, "export_output=/h/Temp/ExportOutput\n"));
  assert_non_null(strstr(text, "export_cookies=/h/Work/ExportCookies\n"));
  assert_non_null(strstr(text, "collect=/h/Work/Collect\n"));
  assert_non_null(
      strstr(text, "provisioning_orders=/h/Work/ProvisioningOrders\n"));
  assert_non_null(strstr(text, "job_logs=/h/Temp/JobLogs\n"));
  free(text);
  jh_test_rmtree(dir);
}

/* ---- the task types that end their process, in a child ---- */

/* Forks a child running `type`; log lines go to *log_fd (read end). */
static pid_t spawn_task(const char *type, const char *const *params,
                        int *log_fd) {
  int fds[2];
  pid_t pid;

  assert_int_equal(pipe(fds), 0);
  fflush(NULL); /* the child must not flush the parent's buffers again */
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    jobhost_ctx ctx;
    static const int fatal[] = {SIGSEGV, SIGBUS,  SIGILL, SIGFPE,
                                SIGSYS,  SIGABRT, SIGTERM};
    /* Default actions, as in a worker: cmocka catches some of these. */
    for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
      signal(fatal[i], SIG_DFL);
    close(fds[0]);
    fake_prepare(type, params);
    fake.cancel_after = -1;
    fake.log_fd = fds[1];
    ctx = jh_fake_ctx(&fake, "T1", type);
    _exit(fake.type->run(&ctx) == 0 ? 0 : 100); /* 100: it returned */
  }
  close(fds[1]);
  *log_fd = fds[0];
  return pid;
}

static int wait_status(pid_t pid) {
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  return status;
}

static void test_crash(void **state) {
  static const char *const segv[] = {NULL};
  static const char *const abrt[] = {"how", "abort", NULL};
  static const char *const ex[] = {"how", "exit", "exit_status", "7", NULL};
  int fd, status;
  (void)state;

  print_message("under valgrind, an invalid write at address 0x0 from "
                "crash_run is reported next: it is the test\n");
  status = wait_status(spawn_task("TestCrashTask", segv, &fd));
  close(fd);
  assert_true(WIFSIGNALED(status));
  assert_int_equal(WTERMSIG(status), SIGSEGV);

  status = wait_status(spawn_task("TestCrashTask", abrt, &fd));
  close(fd);
  assert_true(WIFSIGNALED(status));
  assert_int_equal(WTERMSIG(status), SIGABRT);

  status = wait_status(spawn_task("TestCrashTask", ex, &fd));
  close(fd);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 7);
}

/* Waits for the hang task's log line, which it writes once its signal
 * disposition is in place. */
static void wait_hanging(int fd) {
  char buf[256];
  ssize_t got = read(fd, buf, sizeof(buf) - 1);
  assert_true(got > 0);
  buf[got] = '\0';
  assert_non_null(strstr(buf, "hanging"));
}

static void test_hang(void **state) {
  static const char *const stubborn[] = {"ignore_term", "true", NULL};
  struct timespec grace = {.tv_sec = 0, .tv_nsec = 200 * 1000000L};
  int fd, status;
  pid_t pid;
  (void)state;

  pid = spawn_task("TestHangTask", NULL, &fd);
  wait_hanging(fd);
  close(fd);
  assert_int_equal(kill(pid, SIGTERM), 0);
  status = wait_status(pid);
  assert_true(WIFSIGNALED(status));
  assert_int_equal(WTERMSIG(status), SIGTERM);

  pid = spawn_task("TestHangTask", stubborn, &fd);
  wait_hanging(fd);
  close(fd);
  assert_int_equal(kill(pid, SIGTERM), 0);
  nanosleep(&grace, NULL);
  assert_int_equal(waitpid(pid, &status, WNOHANG), 0); /* still there */
  assert_int_equal(kill(pid, SIGKILL), 0);
  status = wait_status(pid);
  assert_true(WIFSIGNALED(status));
  assert_int_equal(WTERMSIG(status), SIGKILL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_declarations),
      cmocka_unit_test(test_succeed),
      cmocka_unit_test(test_fail),
      cmocka_unit_test(test_block),
      cmocka_unit_test(test_bad_integer_is_a_config_error),
      cmocka_unit_test(test_flaky),
      cmocka_unit_test(test_sleep),
      cmocka_unit_test(test_spam),
      cmocka_unit_test(test_noop),
      cmocka_unit_test(test_env),
      cmocka_unit_test(test_crash),
      cmocka_unit_test(test_hang),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
