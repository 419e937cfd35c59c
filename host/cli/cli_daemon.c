/*
 * cli_daemon.c — `jobhost daemon` and `jobhost schedule` (doc/scheduler.md).
 *
 * The daemon reads the host configuration (hostconf.h) and each pipeline
 * it names, keeps those with a `schedule`, and starts each job when its
 * cron expression fires, as `jobhost run PIPELINE --scheduled` in a child
 * process: every run is an ordinary job instance, with its history, report
 * and task logs. A child's own output goes to <home>/Daemon/<job>.log.
 *
 * One loop, woken every TICK_MS (real time): signals only set flags; the
 * loop reaps children, learns their instance numbers from the store, and
 * starts the jobs whose fire time has come. The "now" of the loop is the
 * system clock, or the test clock of JOBHOST_TEST_CLOCK (for tests only).
 *
 * Rules at a tick: a job whose previous run is still going, or whose last
 * instance is Blocked (it waits for `jobhost resume`), is skipped; so is a
 * job when max_parallel_jobs children already run (the tick is not kept
 * for later). <home>/daemon.state keeps, per job, the time up to which
 * its ticks were handled, so that a job with `catch_up: true` runs once
 * at start when a tick passed while the daemon was down.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <systemd/sd-daemon.h>

#include "atomic_file.h"
#include "cli.h"
#include "cron.h"
#include "home.h"
#include "hostconf.h"
#include "job_load.h"
#include "store.h"
#include "timefmt.h"

#define MAX_DIRS 32
#define TICK_MS 20
#define STATE_FILE "daemon.state"
#define LOCK_FILE "daemon.lock"
#define NEXT_SHOWN 3

/* ---- the clock ---- */

typedef struct dclock {
  int test;         /* JOBHOST_TEST_CLOCK set */
  int64_t base_ms;  /* its start */
  int64_t mono0_ms; /* CLOCK_MONOTONIC when read */
  double speed;     /* simulated ms per real ms */
} dclock;

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* JOBHOST_TEST_CLOCK="2026-01-01T00:00:00Z x60": now starts there and runs
 * 60 times faster. Returns 0, or -1 after saying why. */
static int clock_init(dclock *c, const char *cmd) {
  const char *s = getenv("JOBHOST_TEST_CLOCK");
  struct tm tm = {0};
  double speed = 1;
  int n, used = 0;
  memset(c, 0, sizeof(*c));
  c->speed = 1;
  if (s == NULL || s[0] == '\0')
    return 0;
  n = sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon,
             &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used);
  if (n == 6 && s[used] == ' ') {
    int more = 0;
    if (sscanf(s + used, " x%lf%n", &speed, &more) != 1 ||
        s[used + more] != '\0' || !(speed > 0 && speed <= 100000))
      n = 0;
  } else if (n == 6 && s[used] != '\0')
    n = 0;
  if (n != 6) {
    fprintf(stderr,
            "jobhost %s: JOBHOST_TEST_CLOCK='%s': expected "
            "YYYY-MM-DDTHH:MM:SSZ, optionally followed by xSPEED\n",
            cmd, s);
    return -1;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  c->test = 1;
  c->base_ms = (int64_t)timegm(&tm) * 1000;
  c->mono0_ms = mono_ms();
  c->speed = speed;
  return 0;
}

static int64_t clock_now_ms(const dclock *c) {
  if (!c->test)
    return jh_now_ms();
  return c->base_ms + (int64_t)((double)(mono_ms() - c->mono0_ms) * c->speed);
}

/* ---- options and the host configuration ---- */

typedef struct dargs {
  const char *config;
  const char *home;
  const char *plugin_dirs[MAX_DIRS];
  size_t nplugin_dirs;
  int json;
} dargs;

static void daemon_usage(FILE *out, const char *cmd) {
  if (strcmp(cmd, "schedule") == 0)
    fprintf(out, "Usage: jobhost schedule [--json] [--config FILE] "
                 "[--home DIR] [--plugin-dir DIR]\n"
                 "\nEach scheduled job of the host configuration: its "
                 "expression, its next\nfire times and its last instance.\n");
  else
    fprintf(out,
            "Usage: jobhost daemon [--config FILE] [--home DIR] "
            "[--plugin-dir DIR]\n"
            "\nStarts each scheduled job of the host configuration when its "
            "schedule\nfires. SIGHUP reloads the configuration; SIGTERM or "
            "SIGINT cancels the\nrunning jobs and stops.\n");
  fprintf(out,
          "\n  --config FILE      host configuration (default: "
          "$JOBHOST_CONFIG, else\n                     %s)\n"
          "  --home DIR         jobhost home (default: the configuration's)\n"
          "  --plugin-dir DIR   search plugins in DIR (repeatable)\n",
          jh_hostconf_default_path());
  if (strcmp(cmd, "schedule") == 0)
    fprintf(out, "  --json             one JSON document\n");
  fprintf(out, "\nExit status: 0 ok, 1 error (another daemon holds the "
               "home), 2 invalid\nusage or configuration.\n");
}

static int parse_dargs(int argc, char **argv, dargs *a) {
  static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                       {"home", required_argument, NULL, 'H'},
                                       {"plugin-dir", required_argument, NULL,
                                        'd'},
                                       {"json", no_argument, NULL, 'j'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *cmd = argv[0];
  int c;
  memset(a, 0, sizeof(*a));
  optind = 1;
  while ((c = getopt_long(argc, argv, "c:H:d:h", opts, NULL)) != -1) {
    switch (c) {
    case 'c':
      if (jh_cli_nonempty(cmd, "--config", optarg, "a file name") != 0)
        return JH_EXIT_USAGE;
      a->config = optarg;
      break;
    case 'H':
      if (jh_cli_nonempty(cmd, "--home", optarg, "a folder") != 0)
        return JH_EXIT_USAGE;
      a->home = optarg;
      break;
    case 'd':
      if (jh_cli_nonempty(cmd, "--plugin-dir", optarg, "a folder") != 0)
        return JH_EXIT_USAGE;
      if (a->nplugin_dirs == MAX_DIRS) {
        fprintf(stderr, "jobhost %s: at most %d --plugin-dir\n", cmd, MAX_DIRS);
        return JH_EXIT_USAGE;
      }
      a->plugin_dirs[a->nplugin_dirs++] = optarg;
      break;
    case 'j':
      if (strcmp(cmd, "schedule") != 0) {
        daemon_usage(stderr, cmd);
        return JH_EXIT_USAGE;
      }
      a->json = 1;
      break;
    case 'h':
      daemon_usage(stdout, cmd);
      return -1;
    default:
      daemon_usage(stderr, cmd);
      return JH_EXIT_USAGE;
    }
  }
  if (optind != argc) {
    fprintf(stderr, "jobhost %s: unexpected argument '%s'\n", cmd,
            argv[optind]);
    daemon_usage(stderr, cmd);
    return JH_EXIT_USAGE;
  }
  return 0;
}

/* ---- the scheduled jobs ---- */

typedef struct djob {
  char *job_id;
  char *path; /* the pipeline file */
  char *schedule;
  jh_cron cron;
  int local; /* cron_time_zone: local */
  int catch_up;
  int user_start_denied, is_incremental, is_connector_job,
      is_initialization_job;
  time_t next;    /* next fire time; 0: none */
  time_t handled; /* ticks up to here are handled (state file) */
} djob;

typedef struct dset {
  jh_hostconf conf;
  djob *jobs;
  size_t njobs;
} dset;

static void dset_clear(dset *s) {
  for (size_t i = 0; i < s->njobs; i++) {
    free(s->jobs[i].job_id);
    free(s->jobs[i].path);
    free(s->jobs[i].schedule);
  }
  free(s->jobs);
  jh_hostconf_clear(&s->conf);
  memset(s, 0, sizeof(*s));
}

/* The plugin folders to use: --plugin-dir, else the configuration's (when
 * JOBHOST_PLUGIN_PATH does not say otherwise). */
static size_t plugin_dirs_of(const dargs *a, const jh_hostconf *conf,
                             const char **dirs) {
  const char *env = getenv("JOBHOST_PLUGIN_PATH");
  size_t n = 0;
  if (a->nplugin_dirs > 0) {
    for (; n < a->nplugin_dirs; n++)
      dirs[n] = a->plugin_dirs[n];
  } else if (env == NULL || env[0] == '\0')
    for (; n < conf->nplugin_dirs && n < MAX_DIRS; n++)
      dirs[n] = conf->plugin_dirs[n];
  return n;
}

/*
 * Read the configuration and every pipeline it names into *s. Returns 0,
 * or JH_EXIT_USAGE after printing every problem (file:line:column).
 */
static int dset_load(const char *cmd, const dargs *a, dset *s) {
  jh_diags diags = JH_DIAGS_INIT;
  const char *dirs[MAX_DIRS];
  int named = 0, rc, bad = 0;
  const char *path = jh_hostconf_path(a->config, &named);
  size_t ndirs;

  memset(s, 0, sizeof(*s));
  rc = jh_hostconf_load(path, &s->conf, &diags);
  if (rc == -ENOENT) {
    fprintf(stderr,
            "jobhost %s: no host configuration %s: name one with --config "
            "(jobhost.yaml(5))\n",
            cmd, path);
    return JH_EXIT_USAGE;
  }
  if (rc != 0) {
    jh_diags_print(&diags, stderr);
    jh_diags_clear(&diags);
    return JH_EXIT_USAGE;
  }
  ndirs = plugin_dirs_of(a, &s->conf, dirs);
  s->jobs = calloc(s->conf.npipelines + 1, sizeof(*s->jobs));
  if (s->jobs == NULL) {
    fprintf(stderr, "jobhost %s: out of memory\n", cmd);
    dset_clear(s);
    return JH_EXIT_ERROR;
  }
  for (size_t i = 0; i < s->conf.npipelines; i++) {
    jh_job job;
    djob *d = &s->jobs[s->njobs];
    int col;
    char err[JH_CRON_ERR_SIZE];
    size_t before = diags.nerrors;
    rc = jh_job_load(s->conf.pipelines[i], dirs, ndirs, &job, &diags);
    if (rc != 0) {
      if (diags.nerrors == before)
        jh_diag_error(&diags, s->conf.pipelines[i], 0, 0, "cannot load: %s",
                      jobhost_strerror(rc));
      bad = 1;
      continue;
    }
    if (job.pipeline->schedule == NULL) {
      jh_job_clear(&job);
      continue;
    }
    for (size_t k = 0; k < s->njobs; k++)
      if (strcmp(s->jobs[k].job_id, job.pipeline->job_id) == 0) {
        jh_diag_error(&diags, s->conf.pipelines[i], job.pipeline->job_loc.line,
                      job.pipeline->job_loc.column,
                      "job '%s' is also scheduled by %s: a job is "
                      "scheduled once",
                      job.pipeline->job_id, s->jobs[k].path);
        bad = 1;
      }
    d->job_id = strdup(job.pipeline->job_id);
    d->path = strdup(s->conf.pipelines[i]);
    d->schedule = strdup(job.pipeline->schedule);
    d->local = job.pipeline->cron_local;
    d->catch_up = job.pipeline->catch_up;
    d->user_start_denied = job.pipeline->user_start_denied;
    d->is_incremental = job.pipeline->is_incremental;
    d->is_connector_job = job.pipeline->is_connector_job;
    d->is_initialization_job = job.pipeline->is_initialization_job;
    jh_job_clear(&job);
    s->njobs++;
    if (d->job_id == NULL || d->path == NULL || d->schedule == NULL) {
      fprintf(stderr, "jobhost %s: out of memory\n", cmd);
      jh_diags_clear(&diags);
      dset_clear(s);
      return JH_EXIT_ERROR;
    }
    /* checked by the loader already */
    if (jh_cron_parse(d->schedule, &d->cron, &col, err, sizeof(err)) != 0) {
      jh_diag_error(&diags, d->path, 0, 0, "schedule: %s", err);
      bad = 1;
    }
  }
  /* the plugins' refusals are warnings: shown with the errors only */
  if (bad)
    jh_diags_print(&diags, stderr);
  jh_diags_clear(&diags);
  if (bad) {
    dset_clear(s);
    return JH_EXIT_USAGE;
  }
  return 0;
}

/* The zone of cron_time_zone: local, from time_zone. */
static void apply_zone(const jh_hostconf *conf) {
  if (conf->time_zone != NULL && strcmp(conf->time_zone, "localtime") != 0)
    setenv("TZ", conf->time_zone, 1);
  else
    unsetenv("TZ");
  tzset();
}

/* ---- the daemon ---- */

typedef struct drun {
  char *job_id;
  pid_t pid;
  int64_t instance; /* 0 until the store shows it */
  time_t tick;
} drun;

typedef struct daemon_ctx {
  dargs args;
  dset set;
  dclock clock;
  jh_home home;
  jh_store *store;
  char *state_path;
  drun *runs;
  size_t nruns, cruns;
  /* the handled times of the state file: job id and time */
  char **st_ids;
  time_t *st_times;
  size_t nst;
} daemon_ctx;

static volatile sig_atomic_t got_hup, got_term;

static void on_signal(int sig) {
  if (sig == SIGHUP)
    got_hup = 1;
  else
    got_term = 1;
}

static jh_hc_level log_level = JH_HC_INFORMATION;

static void dlog(const daemon_ctx *d, jh_hc_level level, const char *fmt, ...)
    JOBHOST_PRINTF(3, 4);

static void dlog(const daemon_ctx *d, jh_hc_level level, const char *fmt, ...) {
  char when[JH_TIME_SIZE];
  va_list ap;
  if (level < log_level)
    return;
  jh_time_iso(clock_now_ms(&d->clock), when);
  va_start(ap, fmt);
  fprintf(stderr, "jobhost daemon: %s ", when);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  fflush(stderr);
  va_end(ap);
}

static void iso_s(time_t t, char buf[JH_TIME_SIZE]) {
  jh_time_iso((int64_t)t * 1000, buf);
}

/* ---- the state file: "JOB_ID<TAB>SECONDS" lines ---- */

static time_t state_get(const daemon_ctx *d, const char *job_id) {
  for (size_t i = 0; i < d->nst; i++)
    if (strcmp(d->st_ids[i], job_id) == 0)
      return d->st_times[i];
  return 0;
}

static void state_set(daemon_ctx *d, const char *job_id, time_t t) {
  char **ids;
  time_t *times;
  for (size_t i = 0; i < d->nst; i++)
    if (strcmp(d->st_ids[i], job_id) == 0) {
      d->st_times[i] = t;
      return;
    }
  ids = realloc(d->st_ids, (d->nst + 1) * sizeof(*ids));
  if (ids == NULL)
    return;
  d->st_ids = ids;
  times = realloc(d->st_times, (d->nst + 1) * sizeof(*times));
  if (times == NULL)
    return;
  d->st_times = times;
  if ((ids[d->nst] = strdup(job_id)) == NULL)
    return;
  times[d->nst++] = t;
}

static void state_read(daemon_ctx *d) {
  FILE *fp = fopen(d->state_path, "r");
  char line[1024];
  if (fp == NULL)
    return;
  while (fgets(line, sizeof(line), fp) != NULL) {
    char *tab = strchr(line, '\t'), *end;
    long long t;
    if (tab == NULL)
      continue;
    *tab = '\0';
    t = strtoll(tab + 1, &end, 10);
    if (end != tab + 1 && t > 0)
      state_set(d, line, (time_t)t);
  }
  fclose(fp);
}

static void state_write(daemon_ctx *d) {
  char *buf = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&buf, &len);
  int rc;
  if (mem == NULL)
    return;
  for (size_t i = 0; i < d->nst; i++)
    fprintf(mem, "%s\t%lld\n", d->st_ids[i], (long long)d->st_times[i]);
  if (fclose(mem) != 0) {
    free(buf);
    return;
  }
  rc = jh_write_file_atomic(d->state_path, buf, len, 0640);
  if (rc != 0)
    dlog(d, JH_HC_ERROR, "cannot write %s: %s", d->state_path, strerror(-rc));
  free(buf);
}

/* ---- children ---- */

static drun *run_of_job(daemon_ctx *d, const char *job_id) {
  for (size_t i = 0; i < d->nruns; i++)
    if (strcmp(d->runs[i].job_id, job_id) == 0)
      return &d->runs[i];
  return NULL;
}

/* The newest instance of the job in the store (rc -ENOENT when none). */
static int last_instance(daemon_ctx *d, const char *job_id, jh_job_row *row) {
  jh_job_row *rows = NULL;
  size_t n = 0;
  int rc = jh_store_job_list(d->store, job_id, 1, &rows, &n);
  if (rc != 0)
    return rc;
  if (n == 0) {
    jh_job_rows_free(rows, n);
    return -ENOENT;
  }
  *row = rows[0];
  memset(&rows[0], 0, sizeof(rows[0]));
  jh_job_rows_free(rows, n);
  return 0;
}

/* Learn the instance number of a child from the store. */
static void learn_instance(daemon_ctx *d, drun *r) {
  jh_job_row *rows = NULL;
  size_t n = 0;
  if (r->instance != 0 ||
      jh_store_job_list(d->store, r->job_id, 3, &rows, &n) != 0)
    return;
  for (size_t i = 0; i < n; i++)
    if (rows[i].pid == (long)r->pid) {
      char tick[JH_TIME_SIZE];
      r->instance = rows[i].instance;
      iso_s(r->tick, tick);
      dlog(d, JH_HC_INFORMATION,
           "job %s started: instance %lld (pid %ld, tick %s)", r->job_id,
           (long long)r->instance, (long)r->pid, tick);
      break;
    }
  jh_job_rows_free(rows, n);
}

static void run_ended(daemon_ctx *d, size_t i, int status) {
  drun *r = &d->runs[i];
  jh_job_row row = {0};
  char how[64];
  learn_instance(d, r);
  if (WIFEXITED(status))
    snprintf(how, sizeof(how), "exit status %d", WEXITSTATUS(status));
  else
    snprintf(how, sizeof(how), "killed by signal %d",
             WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  if (r->instance != 0 && jh_store_job_get(d->store, r->instance, &row) == 0)
    dlog(d, row.state == JH_STATE_SUCCEEDED ? JH_HC_INFORMATION : JH_HC_WARNING,
         "job %s instance %lld ended %s (%s)", r->job_id,
         (long long)r->instance, jh_state_name(row.state), how);
  else
    dlog(d, JH_HC_ERROR,
         "job %s (pid %ld) ended before it was recorded as an instance (%s; "
         "see %s/Daemon/%s.log)",
         r->job_id, (long)r->pid, how, d->home.root, r->job_id);
  jh_job_row_clear(&row);
  free(r->job_id);
  d->runs[i] = d->runs[--d->nruns];
}

static void reap(daemon_ctx *d) {
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0)
      return;
    for (size_t i = 0; i < d->nruns; i++)
      if (d->runs[i].pid == pid) {
        run_ended(d, i, status);
        break;
      }
  }
}

/* The program itself, read at start (under valgrind, /proc/self/exe is
 * the tool, its link the program). */
static char self_exe[PATH_MAX];

static void start_child(daemon_ctx *d, const djob *j, const char *const *dirs,
                        size_t ndirs, const char *grace, const char *logpath,
                        const sigset_t *mask) {
  const char *argv[8 + 2 * MAX_DIRS];
  size_t n = 0;
  int fd = open("/dev/null", O_RDONLY);
  if (fd >= 0) {
    dup2(fd, STDIN_FILENO);
    close(fd);
  }
  fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd >= 0) {
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
  }
  setpgid(0, 0); /* the daemon decides what a terminal's ^C does */
  signal(SIGHUP, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  sigprocmask(SIG_SETMASK, mask, NULL);
  argv[n++] = "jobhost";
  argv[n++] = "run";
  argv[n++] = j->path;
  argv[n++] = "--home";
  argv[n++] = d->home.root;
  argv[n++] = "--scheduled";
  argv[n++] = "--grace";
  argv[n++] = grace;
  for (size_t i = 0; i < ndirs; i++) {
    argv[n++] = "--plugin-dir";
    argv[n++] = dirs[i];
  }
  argv[n] = NULL;
  execv(self_exe, (char *const *)argv);
  fprintf(stderr, "jobhost daemon: cannot run %s: %s\n", self_exe,
          strerror(errno));
  _exit(127);
}

static void fire(daemon_ctx *d, djob *j, time_t tick) {
  char when[JH_TIME_SIZE], grace[32], logdir[PATH_MAX], logpath[PATH_MAX];
  const char *dirs[MAX_DIRS];
  size_t ndirs = plugin_dirs_of(&d->args, &d->set.conf, dirs);
  drun *r = run_of_job(d, j->job_id);
  jh_job_row row = {0};
  sigset_t old;
  pid_t pid;

  iso_s(tick, when);
  state_set(d, j->job_id, tick);
  state_write(d);
  if (r != NULL) {
    learn_instance(d, r);
    dlog(d, JH_HC_WARNING,
         "job %s tick %s skipped: still running as instance %lld (pid %ld)",
         j->job_id, when, (long long)r->instance, (long)r->pid);
    return;
  }
  if (last_instance(d, j->job_id, &row) == 0) {
    jh_state st = row.state;
    int64_t inst = row.instance;
    long holder = row.pid;
    jh_job_row_clear(&row);
    if (st == JH_STATE_BLOCKED) {
      dlog(d, JH_HC_WARNING,
           "job %s tick %s skipped: instance %lld is Blocked (jobhost "
           "resume %lld takes it up)",
           j->job_id, when, (long long)inst, (long long)inst);
      return;
    }
    if (st == JH_STATE_RUNNING) {
      dlog(d, JH_HC_WARNING,
           "job %s tick %s skipped: running as instance %lld (pid %ld), "
           "not started by this daemon",
           j->job_id, when, (long long)inst, holder);
      return;
    }
  }
  if (d->nruns >= (size_t)d->set.conf.max_parallel_jobs) {
    dlog(d, JH_HC_WARNING,
         "job %s tick %s skipped: max_parallel_jobs (%d) jobs are running",
         j->job_id, when, d->set.conf.max_parallel_jobs);
    return;
  }
  if (d->nruns == d->cruns) {
    size_t c = d->cruns ? 2 * d->cruns : 8;
    drun *v = realloc(d->runs, c * sizeof(*v));
    if (v == NULL) {
      dlog(d, JH_HC_ERROR, "job %s tick %s skipped: out of memory", j->job_id,
           when);
      return;
    }
    d->runs = v;
    d->cruns = c;
  }
  snprintf(grace, sizeof(grace), "%ldms", d->set.conf.grace_ms);
  if (snprintf(logdir, sizeof(logdir), "%s/Daemon", d->home.root) >=
          (int)sizeof(logdir) ||
      snprintf(logpath, sizeof(logpath), "%s/Daemon/%s.log", d->home.root,
               j->job_id) >= (int)sizeof(logpath)) {
    dlog(d, JH_HC_ERROR, "job %s tick %s skipped: the home's path is too long",
         j->job_id, when);
    return;
  }
  mkdir(logdir, 0750);
  sigprocmask(SIG_SETMASK, NULL, &old);
  fflush(stderr);
  pid = fork();
  if (pid == 0)
    start_child(d, j, dirs, ndirs, grace, logpath, &old);
  if (pid < 0) {
    dlog(d, JH_HC_ERROR, "job %s tick %s skipped: cannot fork: %s", j->job_id,
         when, strerror(errno));
    return;
  }
  r = &d->runs[d->nruns++];
  r->job_id = strdup(j->job_id);
  r->pid = pid;
  r->instance = 0;
  r->tick = tick;
  if (r->job_id == NULL) {
    d->nruns--;
    return;
  }
  dlog(d, JH_HC_DEBUG, "job %s tick %s: pid %ld", j->job_id, when, (long)pid);
}

/* Each job's next fire time after `after`. */
static void plan_next(daemon_ctx *d, time_t after) {
  for (size_t i = 0; i < d->set.njobs; i++) {
    djob *j = &d->set.jobs[i];
    char when[JH_TIME_SIZE];
    if (jh_cron_next(&j->cron, after, !j->local, &j->next) != 0) {
      j->next = 0;
      dlog(d, JH_HC_WARNING, "job %s: '%s' never fires", j->job_id,
           j->schedule);
      continue;
    }
    iso_s(j->next, when);
    dlog(d, JH_HC_DEBUG, "job %s: next tick %s", j->job_id, when);
  }
}

/* Missed ticks of the catch_up jobs: once each, now. */
static void catch_up(daemon_ctx *d, time_t now) {
  for (size_t i = 0; i < d->set.njobs; i++) {
    djob *j = &d->set.jobs[i];
    time_t last = state_get(d, j->job_id), missed;
    if (!j->catch_up || last == 0 ||
        jh_cron_next(&j->cron, last, !j->local, &missed) != 0 || missed > now)
      continue;
    {
      char when[JH_TIME_SIZE];
      iso_s(missed, when);
      dlog(d, JH_HC_INFORMATION,
           "job %s: tick %s was missed while the daemon was down; "
           "catching up",
           j->job_id, when);
    }
    fire(d, j, missed);
  }
  for (size_t i = 0; i < d->set.njobs; i++)
    state_set(d, d->set.jobs[i].job_id, now);
  state_write(d);
}

static void reload(daemon_ctx *d) {
  dset fresh;
  time_t now = (time_t)(clock_now_ms(&d->clock) / 1000);
  sd_notify(0, "RELOADING=1");
  dlog(d, JH_HC_INFORMATION, "SIGHUP: reloading %s", d->set.conf.path);
  if (dset_load("daemon", &d->args, &fresh) != 0) {
    dlog(d, JH_HC_ERROR,
         "reload refused: the configuration or a pipeline does not "
         "validate (above); the schedule in force stays");
    sd_notify(0, "READY=1");
    return;
  }
  if ((fresh.conf.home != NULL) != (d->set.conf.home != NULL) ||
      (fresh.conf.home != NULL &&
       strcmp(fresh.conf.home, d->set.conf.home) != 0))
    dlog(d, JH_HC_WARNING, "a new home takes effect at the next start");
  dset_clear(&d->set);
  d->set = fresh;
  log_level = d->set.conf.log_level;
  apply_zone(&d->set.conf);
  plan_next(d, now);
  dlog(d, JH_HC_INFORMATION, "reloaded: %zu scheduled job%s", d->set.njobs,
       d->set.njobs == 1 ? "" : "s");
  sd_notify(0, "READY=1");
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !got_term && !got_hup)
    ;
}

/* SIGTERM: cancel the running jobs (a first SIGTERM cancels, a second
 * stops their tasks with the grace period) and wait for them. */
static void stop_children(daemon_ctx *d) {
  int64_t deadline;
  for (size_t i = 0; i < d->nruns; i++) {
    learn_instance(d, &d->runs[i]);
    dlog(d, JH_HC_INFORMATION, "cancelling job %s instance %lld (pid %ld)",
         d->runs[i].job_id, (long long)d->runs[i].instance,
         (long)d->runs[i].pid);
    kill(d->runs[i].pid, SIGTERM);
  }
  if (d->nruns > 0) {
    sleep_ms(200);
    reap(d);
  }
  for (size_t i = 0; i < d->nruns; i++)
    kill(d->runs[i].pid, SIGTERM);
  deadline = mono_ms() + d->set.conf.grace_ms + 4000;
  while (d->nruns > 0 && mono_ms() < deadline) {
    sleep_ms(TICK_MS);
    reap(d);
  }
  for (size_t i = 0; i < d->nruns; i++) {
    dlog(d, JH_HC_ERROR, "job %s (pid %ld) did not stop: killed",
         d->runs[i].job_id, (long)d->runs[i].pid);
    kill(d->runs[i].pid, SIGKILL);
  }
  while (d->nruns > 0) {
    int status;
    pid_t pid = waitpid(d->runs[0].pid, &status, 0);
    if (pid < 0 && errno == EINTR)
      continue;
    run_ended(d, 0, pid < 0 ? 0 : status);
  }
}

/* One daemon per home: a write lock on <home>/daemon.lock, held until
 * exit; the file says which pid holds it. */
static int take_lock(const daemon_ctx *d) {
  char path[PATH_MAX], pid[32];
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
  int fd;
  snprintf(path, sizeof(path), "%s/%s", d->home.root, LOCK_FILE);
  fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    fprintf(stderr, "jobhost daemon: cannot open %s: %s\n", path,
            strerror(errno));
    return -1;
  }
  if (fcntl(fd, F_SETLK, &fl) != 0) {
    struct flock who = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK)
      fprintf(stderr,
              "jobhost daemon: another daemon (pid %ld) runs on the home "
              "%s (it holds %s)\n",
              (long)who.l_pid, d->home.root, path);
    else
      fprintf(stderr, "jobhost daemon: cannot lock %s: %s\n", path,
              strerror(errno));
    close(fd);
    return -1;
  }
  snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
  if (ftruncate(fd, 0) != 0 || write(fd, pid, strlen(pid)) < 0) {
    /* the lock is what counts; the pid in it is for people */
  }
  return fd; /* kept open: the lock lasts as long as the process */
}

static void daemon_free(daemon_ctx *d) {
  for (size_t i = 0; i < d->nruns; i++)
    free(d->runs[i].job_id);
  free(d->runs);
  for (size_t i = 0; i < d->nst; i++)
    free(d->st_ids[i]);
  free(d->st_ids);
  free(d->st_times);
  free(d->state_path);
  jh_store_close(d->store);
  jh_home_clear(&d->home);
  dset_clear(&d->set);
}

/* The home: --home, else JOBHOST_HOME, else the configuration's. */
static const char *home_of(const dargs *a, const jh_hostconf *conf) {
  const char *env = getenv("JOBHOST_HOME");
  if (a->home != NULL)
    return a->home;
  if (env != NULL && env[0] != '\0')
    return NULL; /* jh_home_open reads it */
  return conf->home;
}

int jh_cmd_daemon(int argc, char **argv) {
  daemon_ctx d;
  struct sigaction sa;
  char err[512];
  int rc, lock_fd = -1, status = JH_EXIT_OK;

  memset(&d, 0, sizeof(d));
  rc = parse_dargs(argc, argv, &d.args);
  if (rc != 0)
    return rc < 0 ? JH_EXIT_OK : rc;
  if (clock_init(&d.clock, "daemon") != 0)
    return JH_EXIT_USAGE;
  {
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
    if (n <= 0 || n >= (ssize_t)sizeof(self_exe) - 1) {
      fprintf(stderr, "jobhost daemon: cannot find the program itself "
                      "(/proc/self/exe)\n");
      return JH_EXIT_ERROR;
    }
    self_exe[n] = '\0';
  }
  rc = dset_load("daemon", &d.args, &d.set);
  if (rc != 0)
    return rc;
  log_level = d.set.conf.log_level;
  apply_zone(&d.set.conf);
  if (jh_home_open(home_of(&d.args, &d.set.conf), &d.home, err, sizeof(err)) !=
      0) {
    fprintf(stderr, "jobhost daemon: %s\n", err);
    daemon_free(&d);
    return JH_EXIT_ERROR;
  }
  if ((lock_fd = take_lock(&d)) < 0) {
    daemon_free(&d);
    return JH_EXIT_ERROR;
  }
  if (jh_store_open(d.home.store_path, &d.store, err, sizeof(err)) != 0) {
    fprintf(stderr, "jobhost daemon: %s\n", err);
    d.store = NULL;
    close(lock_fd);
    daemon_free(&d);
    return JH_EXIT_ERROR;
  }
  d.state_path = jh_path_join(d.home.root, STATE_FILE);
  if (d.state_path == NULL) {
    close(lock_fd);
    daemon_free(&d);
    return JH_EXIT_ERROR;
  }
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGHUP, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  state_read(&d);
  {
    time_t now = (time_t)(clock_now_ms(&d.clock) / 1000);
    dlog(&d, JH_HC_INFORMATION,
         "started (pid %ld): %zu scheduled job%s from %s, home %s%s",
         (long)getpid(), d.set.njobs, d.set.njobs == 1 ? "" : "s",
         d.set.conf.path, d.home.root, d.clock.test ? " (test clock)" : "");
    catch_up(&d, now);
    plan_next(&d, now);
  }
  sd_notify(0, "READY=1");

  while (!got_term) {
    time_t now;
    if (got_hup) {
      got_hup = 0;
      reload(&d);
    }
    reap(&d);
    for (size_t i = 0; i < d.nruns; i++)
      learn_instance(&d, &d.runs[i]);
    now = (time_t)(clock_now_ms(&d.clock) / 1000);
    for (size_t i = 0; i < d.set.njobs && !got_term; i++) {
      djob *j = &d.set.jobs[i];
      if (j->next == 0 || j->next > now)
        continue;
      fire(&d, j, j->next);
      if (jh_cron_next(&j->cron, j->next, !j->local, &j->next) != 0)
        j->next = 0;
      /* ticks that passed while the loop was busy are not run twice */
      while (j->next != 0 && j->next <= now) {
        char when[JH_TIME_SIZE];
        iso_s(j->next, when);
        dlog(&d, JH_HC_WARNING, "job %s tick %s skipped: the daemon was late",
             j->job_id, when);
        if (jh_cron_next(&j->cron, j->next, !j->local, &j->next) != 0)
          j->next = 0;
      }
    }
    sleep_ms(TICK_MS);
  }
  sd_notify(0, "STOPPING=1");
  dlog(&d, JH_HC_INFORMATION, "stopping: %zu job%s running", d.nruns,
       d.nruns == 1 ? "" : "s");
  stop_children(&d);
  {
    time_t now = (time_t)(clock_now_ms(&d.clock) / 1000);
    for (size_t i = 0; i < d.set.njobs; i++)
      state_set(&d, d.set.jobs[i].job_id, now);
    state_write(&d);
  }
  dlog(&d, JH_HC_INFORMATION, "stopped");
  close(lock_fd);
  daemon_free(&d);
  return status;
}

/* ---- jobhost schedule ---- */

int jh_cmd_schedule(int argc, char **argv) {
  dargs a;
  dset set;
  dclock clk;
  jh_home home = {0};
  jh_store *store = NULL;
  json_t *arr = NULL;
  char err[512];
  time_t now;
  int rc;

  rc = parse_dargs(argc, argv, &a);
  if (rc != 0)
    return rc < 0 ? JH_EXIT_OK : rc;
  if (clock_init(&clk, "schedule") != 0)
    return JH_EXIT_USAGE;
  rc = dset_load("schedule", &a, &set);
  if (rc != 0)
    return rc;
  apply_zone(&set.conf);
  now = (time_t)(clock_now_ms(&clk) / 1000);
  /* the last instances, when the home has a store */
  if (jh_home_open(home_of(&a, &set.conf), &home, err, sizeof(err)) != 0 ||
      jh_store_open(home.store_path, &store, err, sizeof(err)) != 0) {
    fprintf(stderr, "jobhost schedule: %s (last instances not shown)\n", err);
    store = NULL;
  }
  if (a.json && (arr = json_array()) == NULL) {
    rc = JH_EXIT_ERROR;
    goto out;
  }
  if (!a.json && set.njobs == 0)
    printf("no scheduled job in %s\n", set.conf.path);
  for (size_t i = 0; i < set.njobs; i++) {
    djob *j = &set.jobs[i];
    time_t next[NEXT_SHOWN], t = now;
    size_t nnext = 0;
    jh_job_row *rows = NULL;
    size_t nrows = 0;
    char when[JH_TIME_SIZE];
    for (; nnext < NEXT_SHOWN; nnext++) {
      if (jh_cron_next(&j->cron, t, !j->local, &next[nnext]) != 0)
        break;
      t = next[nnext];
    }
    if (store != NULL && jh_store_job_list(store, j->job_id, 1, &rows, &nrows))
      nrows = 0;
    if (a.json) {
      json_t *o = json_object(), *nx = json_array(), *last = json_null();
      for (size_t k = 0; k < nnext; k++) {
        iso_s(next[k], when);
        json_array_append_new(nx, json_string(when));
      }
      if (nrows > 0) {
        jh_time_iso(rows[0].started_ms, when);
        last = json_pack("{s:I,s:s,s:s}", "instance",
                         (json_int_t)rows[0].instance, "state",
                         jh_state_name(rows[0].state), "started", when);
      }
      json_object_set_new(o, "job", json_string(j->job_id));
      json_object_set_new(o, "pipeline", json_string(j->path));
      json_object_set_new(o, "schedule", json_string(j->schedule));
      json_object_set_new(o, "cron_time_zone",
                          json_string(j->local ? "local" : "UTC"));
      json_object_set_new(o, "catch_up", json_boolean(j->catch_up));
      json_object_set_new(o, "user_start_denied",
                          json_boolean(j->user_start_denied));
      json_object_set_new(o, "is_incremental", json_boolean(j->is_incremental));
      json_object_set_new(o, "is_connector_job",
                          json_boolean(j->is_connector_job));
      json_object_set_new(o, "is_initialization_job",
                          json_boolean(j->is_initialization_job));
      json_object_set_new(o, "next", nx);
      json_object_set_new(o, "last", last != NULL ? last : json_null());
      json_array_append_new(arr, o);
    } else {
      printf("%s  %s  (%s)  %s\n", j->job_id, j->schedule,
             j->local ? "local" : "UTC", j->path);
      printf("  next:");
      for (size_t k = 0; k < nnext; k++) {
        iso_s(next[k], when);
        printf(" %s", when);
      }
      printf("%s\n", nnext == 0 ? " never" : "");
      if (nrows > 0) {
        jh_time_iso(rows[0].started_ms, when);
        printf("  last: instance %lld %s, started %s\n",
               (long long)rows[0].instance, jh_state_name(rows[0].state), when);
      } else
        printf("  last: none\n");
    }
    jh_job_rows_free(rows, nrows);
  }
  if (a.json) {
    json_t *doc = json_pack("{s:s,s:o}", "config", set.conf.path, "jobs", arr);
    char *text = doc != NULL ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    arr = NULL;
    if (text == NULL)
      rc = JH_EXIT_ERROR;
    else
      printf("%s\n", text);
    free(text);
    json_decref(doc);
  }
out:
  json_decref(arr);
  jh_store_close(store);
  jh_home_clear(&home);
  dset_clear(&set);
  return rc;
}
