/*
 * cli_run.c — `jobhost run`, `jobhost resume` and `jobhost cancel`.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blocked.h"
#include "cli.h"
#include "cli_dryrun.h"
#include "executor.h"
#include "home.h"
#include "instance_id.h"
#include "job_load.h"
#include "report.h"
#include "store.h"
#include "sweep.h"
#include "timefmt.h"
#include "worker.h"

#define MAX_PLUGIN_DIRS 32

typedef struct run_args {
  const char *target; /* pipeline path, or instance number */
  const char *home;
  const char *report;
  const char *plugin_dirs[MAX_PLUGIN_DIRS];
  size_t nplugin_dirs;
  const char *allow_include[MAX_PLUGIN_DIRS];
  size_t nallow_include;
  int dry_run;
  int scheduled; /* --scheduled: started by `jobhost daemon` */
  jh_exec_options exec;
} run_args;

static void run_usage(FILE *out, const char *cmd) {
  if (strcmp(cmd, "cancel") == 0) {
    fprintf(
        out,
        "Usage: jobhost cancel INSTANCE [--now] [--home DIR]\n"
        "\n"
        "The job ends Cancelled: no new task starts and the running tasks\n"
        "finish, each recorded with its own result.\n"
        "  --now    also ask the running tasks to stop (SIGTERM), and kill\n"
        "           them after the host's grace period\n");
    return;
  }
  if (strcmp(cmd, "resume") == 0)
    fprintf(out, "Usage: jobhost resume INSTANCE [OPTIONS]\n");
  else
    fprintf(out, "Usage: jobhost run PIPELINE [OPTIONS]\n");
  fprintf(out,
          "\n"
          "  --report FILE         write the run report (JSON) to FILE\n"
          "  --home DIR            jobhost home (store, folders, logs)\n"
          "  --plugin-dir DIR      search plugins in DIR (repeatable)\n"
          "  --allow-include DIR   files under DIR may be included "
          "(repeatable)\n"
          "  --isolation MODE      process (default) or none (debugging)\n"
          "  --grace DURATION      SIGTERM to SIGKILL delay (default 5s)\n"
          "  --force               thresholds do not block this run%s\n",
          strcmp(cmd, "run") == 0 ? ";\n                        a job with "
                                    "user_start_denied runs"
                                  : "");
  if (strcmp(cmd, "run") == 0)
    fprintf(
        out,
        "  --dry-run             run through order generation on copies; the\n"
        "                        store, folders and targets stay unchanged\n");
  fprintf(out, "  --task ID             run only this task\n"
               "  --from ID             start at this step\n"
               "  --to ID               stop after this step\n");
  if (strcmp(cmd, "resume") == 0)
    fprintf(out, "                        (default: the steps of the run; "
                 "a Blocked task is\n"
                 "                        validated whatever the steps)\n");
  fprintf(out, "\nExit status: 0 Succeeded, 1 Error, 2 invalid usage or "
               "configuration,\n3 Blocked, 4 Warning, 5 Cancelled.\n");
}

static int parse_args(int argc, char **argv, run_args *a) {
  static const struct option opts[] = {
      {"report", required_argument, NULL, 'r'},
      {"home", required_argument, NULL, 'H'},
      {"plugin-dir", required_argument, NULL, 'd'},
      {"allow-include", required_argument, NULL, 'a'},
      {"isolation", required_argument, NULL, 'i'},
      {"grace", required_argument, NULL, 'g'},
      {"force", no_argument, NULL, 'f'},
      {"dry-run", no_argument, NULL, 'n'},
      {"task", required_argument, NULL, 't'},
      {"from", required_argument, NULL, 'F'},
      {"to", required_argument, NULL, 'T'},
      {"scheduled", no_argument, NULL, 'S'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *cmd = argv[0];
  int c;

  memset(a, 0, sizeof(*a));
  a->exec.grace_ms = 5000;
  a->exec.progress = stderr;
  optind = 1;
  while ((c = getopt_long(argc, argv, "r:H:d:a:i:g:fnt:F:T:h", opts, NULL)) !=
         -1) {
    switch (c) {
    case 'r':
      if (jh_cli_nonempty(cmd, "--report", optarg, "a file name") != 0)
        return JH_EXIT_USAGE;
      a->report = optarg;
      break;
    case 'H':
      if (jh_cli_nonempty(cmd, "--home", optarg, "a folder") != 0)
        return JH_EXIT_USAGE;
      a->home = optarg;
      break;
    case 'd':
      if (jh_cli_nonempty(cmd, "--plugin-dir", optarg, "a folder") != 0)
        return JH_EXIT_USAGE;
      if (a->nplugin_dirs == MAX_PLUGIN_DIRS) {
        fprintf(stderr, "jobhost %s: at most %d --plugin-dir\n", cmd,
                MAX_PLUGIN_DIRS);
        return JH_EXIT_USAGE;
      }
      a->plugin_dirs[a->nplugin_dirs++] = optarg;
      break;
    case 'a':
      if (jh_cli_nonempty(cmd, "--allow-include", optarg, "a folder") != 0)
        return JH_EXIT_USAGE;
      if (a->nallow_include == MAX_PLUGIN_DIRS) {
        fprintf(stderr, "jobhost %s: at most %d --allow-include\n", cmd,
                MAX_PLUGIN_DIRS);
        return JH_EXIT_USAGE;
      }
      a->allow_include[a->nallow_include++] = optarg;
      break;
    case 'i':
      if (strcmp(optarg, "none") == 0)
        a->exec.isolation = JH_ISOLATION_NONE;
      else if (strcmp(optarg, "process") == 0)
        a->exec.isolation = JH_ISOLATION_PROCESS;
      else {
        fprintf(stderr, "jobhost %s: --isolation must be process or none\n",
                cmd);
        return JH_EXIT_USAGE;
      }
      break;
    case 'g':
      if (jh_duration_parse(optarg, &a->exec.grace_ms) != 0) {
        fprintf(stderr,
                "jobhost %s: --grace %s: expected a duration such "
                "as 500ms, 5s or 1m\n",
                cmd, optarg);
        return JH_EXIT_USAGE;
      }
      break;
    case 'f':
      a->exec.force = 1;
      break;
    case 'S':
      a->scheduled = 1;
      break;
    case 'n':
    case 't':
    case 'F':
    case 'T':
      if (c == 'n' && strcmp(cmd, "run") != 0) {
        fprintf(stderr, "jobhost %s: --dry-run belongs to 'run'\n", cmd);
        return JH_EXIT_USAGE;
      }
      if (c == 'n')
        a->dry_run = 1;
      else if (c == 't')
        a->exec.select.only = optarg;
      else if (c == 'F')
        a->exec.select.from = optarg;
      else
        a->exec.select.to = optarg;
      break;
    case 'h':
      run_usage(stdout, cmd);
      return -1;
    default:
      run_usage(stderr, cmd);
      return JH_EXIT_USAGE;
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "jobhost %s: expected exactly one %s\n", cmd,
            strcmp(cmd, "run") == 0 ? "PIPELINE" : "INSTANCE");
    run_usage(stderr, cmd);
    return JH_EXIT_USAGE;
  }
  a->target = argv[optind];
  a->exec.live = isatty(STDERR_FILENO);
  return jh_cli_host_defaults(cmd, &a->home, a->plugin_dirs, &a->nplugin_dirs,
                              MAX_PLUGIN_DIRS);
}

static int exit_status(jh_state s) {
  switch (s) {
  case JH_STATE_SUCCEEDED:
    return JH_EXIT_OK;
  case JH_STATE_BLOCKED:
    return JH_EXIT_BLOCKED;
  case JH_STATE_WARNING:
    return JH_EXIT_WARNING;
  case JH_STATE_CANCELLED:
    return JH_EXIT_CANCELLED;
  default:
    return JH_EXIT_ERROR;
  }
}

static int load_job(const run_args *a, const char *path, jh_job *job) {
  jh_diags diags = JH_DIAGS_INIT;
  jh_pipeline_options opt = {a->allow_include, a->nallow_include};
  int rc = jh_job_load_opts(path, a->plugin_dirs, a->nplugin_dirs, &opt, job,
                            &diags);
  if (rc == 0)
    rc = jh_plan_check_selection(job->graph, &a->exec.select, &diags);
  jh_diags_print(&diags, stderr);
  jh_diags_clear(&diags);
  if (rc != 0) {
    jh_job_clear(job);
    fprintf(stderr, "jobhost: %s: nothing was run\n", path);
  }
  return rc;
}

static int open_home(const run_args *a, jh_home *home, jh_store **store) {
  char err[512];
  int rc = jh_home_open(a->home, home, err, sizeof(err));
  if (rc == 0)
    rc = jh_store_open(home->store_path, store, err, sizeof(err));
  if (rc != 0) {
    fprintf(stderr, "jobhost: %s\n", err);
    jh_home_clear(home);
  }
  return rc;
}

/* Blocked connectors leave their incremental tasks out (blocked.h). */
typedef struct leave_out_ctx {
  const jh_home *home;
  const jh_pipeline *pipeline;
  jh_dry_run *dry; /* NULL unless --dry-run */
} leave_out_ctx;

static const char *leave_out(void *arg, const jh_task_def *def,
                             int64_t instance, char *why, size_t size) {
  const leave_out_ctx *c = arg;
  if (c->dry != NULL &&
      jh_dry_run_leave_out(c->dry, def, instance, why, size) != NULL)
    return why;
  return jh_blocked_reason(c->home->identity_store_path, c->pipeline, def,
                           instance, why, size);
}

/* The store's reserve file, beside it (jh_store_keep_reserve). */
static void keep_reserve(const jh_home *home, jh_store *store) {
  char path[PATH_MAX];
  int rc;
  if (snprintf(path, sizeof(path), "%s.reserve", home->store_path) >=
      (int)sizeof(path))
    return;
  rc = jh_store_keep_reserve(store, path);
  if (rc != 0)
    fprintf(stderr, "jobhost: %s: no reserve for the store: %s\n", path,
            strerror(-rc));
}

/* Execute, keep and write the report, say where it is. */
static int execute_and_report(const run_args *a, const jh_job *job,
                              const jh_home *home, jh_store *store,
                              int64_t instance, jh_dry_run *dry) {
  char kept[PATH_MAX];
  char *report = NULL;
  jh_state state = JH_STATE_ERROR;
  leave_out_ctx lo = {home, job->pipeline, dry};
  jh_exec_options opt = a->exec;
  int rc;

  opt.leave_out = leave_out;
  opt.leave_out_arg = &lo;
  rc = jh_execute(job, home, store, instance, &opt, &state, &report);

  if (report != NULL) {
    snprintf(kept, sizeof(kept), "%s/%lld.json", home->reports,
             (long long)instance);
    if (jh_report_write(kept, report) != 0)
      fprintf(stderr, "jobhost: cannot keep the report in %s\n", kept);
    if (a->report != NULL) {
      int wrc = jh_report_write(a->report, report);
      if (wrc != 0) {
        fprintf(stderr, "jobhost: cannot write the report to %s: %s\n",
                a->report, strerror(-wrc));
        rc = rc ? rc : wrc;
      }
    }
    fprintf(stderr, "report: %s\n", a->report ? a->report : kept);
  }
  free(report);
  if (rc != 0) {
    if (rc == -EIO)
      fprintf(stderr,
              "jobhost: the store %s could not record instance "
              "%lld: %s; the tasks ended as listed above (`jobhost "
              "history` may show the instance Interrupted; free "
              "space on that disk: the identity store and the "
              "change reports keep what was applied)\n",
              home->store_path, (long long)instance, jh_store_errmsg(store));
    else
      fprintf(stderr, "jobhost: %s\n", jobhost_strerror(rc));
    return JH_EXIT_ERROR;
  }
  return exit_status(state);
}

/* --dry-run: the same run on the copies of cli_dryrun.h. */
static int execute_dry_run(const run_args *a, const jh_job *job,
                           const jh_home *home, jh_store *store,
                           int64_t instance) {
  char err[512];
  jh_dry_run dry;
  int status;
  if (jh_dry_run_open(home, job, instance, &dry, err, sizeof(err)) != 0) {
    fprintf(stderr, "jobhost: %s\n", err);
    jh_store_job_finish(store, instance, JH_STATE_ERROR, err, NULL);
    return JH_EXIT_ERROR;
  }
  status = execute_and_report(a, job, &dry.home, store, instance, &dry);
  if (jh_dry_run_summary(&dry, stderr) != 0 && status == JH_EXIT_OK)
    status = JH_EXIT_ERROR;
  jh_dry_run_close(&dry);
  return status;
}

int jh_cmd_run(int argc, char **argv) {
  run_args a;
  jh_job job = {0};
  jh_home home = {0};
  jh_store *store = NULL;
  int64_t instance = 0, holder = 0;
  char *pipeline_path;
  int rc, status;

  /* `jobhost cancel` signals SIGUSR1 once the instance is in the store:
   * until the executor takes it (and reads the store), it must not end
   * the host. */
  signal(SIGUSR1, SIG_IGN);
  rc = parse_args(argc, argv, &a);
  if (rc != 0)
    return rc < 0 ? JH_EXIT_OK : rc;
  if (load_job(&a, a.target, &job) != 0)
    return JH_EXIT_USAGE;
  if (job.pipeline->user_start_denied && !a.exec.force && !a.scheduled) {
    fprintf(stderr,
            "jobhost run: job %s says user_start_denied: it is started by "
            "its schedule (jobhost daemon); run it by hand with --force\n",
            job.pipeline->job_id);
    jh_job_clear(&job);
    return JH_EXIT_USAGE;
  }
  {
    char err[512];
    rc = jh_home_open(a.home, &home, err, sizeof(err));
    /* The fork server before the store: it is copied at every task, so it
     * is started while the host holds as little as possible. */
    /* A dry run's home is made once the instance is known: its fork
     * server starts with it, on demand. */
    if (rc == 0 && a.exec.isolation == JH_ISOLATION_PROCESS && !a.dry_run) {
      rc = jh_forkserver_start(job.pipeline, &home, job.reg,
                               &a.exec.forkserver);
      snprintf(err, sizeof(err), "cannot start the fork server: %s",
               strerror(-rc));
    }
    if (rc == 0)
      rc = jh_store_open(home.store_path, &store, err, sizeof(err));
    if (rc != 0) {
      fprintf(stderr, "jobhost: %s\n", err);
      jh_forkserver_stop(a.exec.forkserver);
      jh_home_clear(&home);
      jh_job_clear(&job);
      return JH_EXIT_ERROR;
    }
  }
  /* the pipeline's absolute path, so that `jobhost resume` finds it from
   * any folder (the file was just read: realpath fails only on a race) */
  pipeline_path = realpath(a.target, NULL);
  rc = jh_store_job_start(store, job.pipeline->job_id,
                          pipeline_path != NULL ? pipeline_path : a.target,
                          (long)getpid(), &instance, &holder);
  free(pipeline_path);
  if (rc == -EBUSY) {
    fprintf(stderr,
            "jobhost: job %s is already running as instance %lld; not "
            "starting it again\n",
            job.pipeline->job_id, (long long)holder);
    status = JH_EXIT_ERROR;
  } else if (rc != 0) {
    fprintf(stderr, "jobhost: cannot start job %s: %s\n", job.pipeline->job_id,
            jh_store_errmsg(store));
    status = JH_EXIT_ERROR;
  } else if ((a.exec.select.only != NULL || a.exec.select.from != NULL ||
              a.exec.select.to != NULL) &&
             jh_store_job_select(store, instance, a.exec.select.only,
                                 a.exec.select.from, a.exec.select.to) != 0) {
    fprintf(stderr, "jobhost: cannot record the steps of instance %lld: %s\n",
            (long long)instance, jh_store_errmsg(store));
    jh_store_job_finish(store, instance, JH_STATE_ERROR,
                        "the selected steps could not be recorded", NULL);
    status = JH_EXIT_ERROR;
  } else {
    keep_reserve(&home, store);
    jh_sweep_leftovers(&home, store, instance, stderr);
    status = a.dry_run
                 ? execute_dry_run(&a, &job, &home, store, instance)
                 : execute_and_report(&a, &job, &home, store, instance, NULL);
    jh_sweep_job_end(&home, stderr);
  }
  jh_forkserver_stop(a.exec.forkserver);
  jh_store_close(store);
  jh_home_clear(&home);
  jh_job_clear(&job);
  return status;
}

static int parse_instance(const char *cmd, const char *s, int64_t *out) {
  if (jh_instance_parse(s, out) != 0) {
    fprintf(stderr, "jobhost %s: '%s' is not an instance number\n", cmd, s);
    return -EINVAL;
  }
  return 0;
}

/* Why an instance that ended in Error is not resumed: its Error tasks, and
 * the Blocked ones whose held changes stay unapplied (doc/jobs.md). */
static void explain_error_instance(jh_store *store, int64_t instance) {
  jh_task_row *rows = NULL;
  size_t n = 0;
  if (jh_store_task_list(store, instance, &rows, &n) != 0)
    return;
  for (size_t i = 0; i < n; i++)
    if (rows[i].state == JH_STATE_ERROR)
      fprintf(stderr, "  task %s ended Error%s%s\n", rows[i].task_id,
              rows[i].message ? ": " : "",
              rows[i].message ? rows[i].message : "");
  for (size_t i = 0; i < n; i++)
    if (rows[i].state == JH_STATE_BLOCKED)
      fprintf(stderr,
              "  task %s is Blocked: this instance does not apply "
              "its held changes\n",
              rows[i].task_id);
  fprintf(stderr, "  an error stops a job for good: fix its cause and run "
                  "the job again\n");
  jh_task_rows_free(rows, n);
}

int jh_cmd_resume(int argc, char **argv) {
  run_args a;
  jh_job job = {0};
  jh_home home = {0};
  jh_store *store = NULL;
  jh_job_row row = {0};
  int64_t instance, holder = 0;
  int rc, status = JH_EXIT_ERROR, kept_steps;

  signal(SIGUSR1, SIG_IGN); /* as in jh_cmd_run */
  rc = parse_args(argc, argv, &a);
  if (rc != 0)
    return rc < 0 ? JH_EXIT_OK : rc;
  if (parse_instance("resume", a.target, &instance) != 0)
    return JH_EXIT_USAGE;
  a.exec.resume = 1;
  if (open_home(&a, &home, &store) != 0)
    return JH_EXIT_ERROR;
  rc = jh_store_job_get(store, instance, &row);
  if (rc != 0) {
    fprintf(stderr, "jobhost resume: no job instance %lld\n",
            (long long)instance);
    goto out;
  }
  if (jh_dry_run_exists(&home, instance)) {
    fprintf(stderr,
            "jobhost resume: instance %lld was a dry run (%s/DryRun/%lld); "
            "start the job again, with or without --dry-run\n",
            (long long)instance, home.root, (long long)instance);
    status = JH_EXIT_USAGE;
    goto out;
  }
  /* the run's steps, unless this command names others */
  kept_steps = a.exec.select.only == NULL && a.exec.select.from == NULL &&
               a.exec.select.to == NULL;
  if (kept_steps) {
    a.exec.select.only = row.select_task;
    a.exec.select.from = row.select_from;
    a.exec.select.to = row.select_to;
  }
  if (load_job(&a, row.pipeline_path, &job) != 0) {
    status = JH_EXIT_USAGE;
    goto out;
  }
  if (strcmp(job.pipeline->job_id, row.job_id) != 0) {
    fprintf(stderr,
            "jobhost resume: %s now defines job %s, but instance %lld ran job "
            "%s\n",
            row.pipeline_path, job.pipeline->job_id, (long long)instance,
            row.job_id);
    status = JH_EXIT_USAGE;
    goto out;
  }
  rc = jh_store_job_resume(store, instance, (long)getpid(), &holder);
  if (rc == -EINVAL) {
    fprintf(stderr,
            "jobhost resume: instance %lld is %s; only Blocked, Interrupted "
            "and Cancelled instances can be resumed\n",
            (long long)instance, jh_state_name(row.state));
    if (row.state == JH_STATE_ERROR)
      explain_error_instance(store, instance);
    status = JH_EXIT_USAGE;
    goto out;
  }
  if (rc == -EBUSY) {
    fprintf(stderr,
            "jobhost resume: job %s is already running as instance %lld\n",
            row.job_id, (long long)holder);
    goto out;
  }
  if (rc != 0) {
    fprintf(stderr, "jobhost resume: %s\n", jh_store_errmsg(store));
    goto out;
  }
  /* Steps named here replace the run's, for a later resume too. */
  if (!kept_steps &&
      jh_store_job_select(store, instance, a.exec.select.only,
                          a.exec.select.from, a.exec.select.to) != 0) {
    fprintf(stderr,
            "jobhost resume: cannot record the steps of instance "
            "%lld: %s\n",
            (long long)instance, jh_store_errmsg(store));
    jh_store_job_finish(store, instance, row.state,
                        "the selected steps could not be recorded", NULL);
    goto out;
  }
  keep_reserve(&home, store);
  jh_sweep_leftovers(&home, store, instance, stderr);
  status = execute_and_report(&a, &job, &home, store, instance, NULL);
  jh_sweep_job_end(&home, stderr);
out:
  jh_job_row_clear(&row);
  jh_job_clear(&job);
  jh_store_close(store);
  jh_home_clear(&home);
  return status;
}

int jh_cmd_cancel(int argc, char **argv) {
  static const struct option opts[] = {{"home", required_argument, NULL, 'H'},
                                       {"now", no_argument, NULL, 'n'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  int level = JH_CANCEL_FINISH;
  const char *home_dir = NULL;
  jh_home home = {0};
  jh_store *store = NULL;
  char err[512];
  int64_t instance;
  long pid = 0;
  int c, rc;

  optind = 1;
  while ((c = getopt_long(argc, argv, "H:h", opts, NULL)) != -1) {
    if (c == 'H') {
      if (jh_cli_nonempty("cancel", "--home", optarg, "a folder") != 0)
        return JH_EXIT_USAGE;
      home_dir = optarg;
    } else if (c == 'n') {
      level = JH_CANCEL_NOW;
    } else if (c == 'h') {
      run_usage(stdout, "cancel");
      return JH_EXIT_OK;
    } else {
      run_usage(stderr, "cancel");
      return JH_EXIT_USAGE;
    }
  }
  if (optind != argc - 1) {
    run_usage(stderr, "cancel");
    return JH_EXIT_USAGE;
  }
  if (parse_instance("cancel", argv[optind], &instance) != 0)
    return JH_EXIT_USAGE;
  if (jh_cli_host_defaults("cancel", &home_dir, NULL, NULL, 0) != 0)
    return JH_EXIT_USAGE;
  rc = jh_home_open(home_dir, &home, err, sizeof(err));
  if (rc == 0)
    rc = jh_store_open(home.store_path, &store, err, sizeof(err));
  if (rc != 0) {
    fprintf(stderr, "jobhost cancel: %s\n", err);
    jh_home_clear(&home);
    return JH_EXIT_ERROR;
  }
  /* The level is in the store; SIGUSR1 tells the host to read it. */
  rc = jh_store_job_cancel_level(store, instance, level, &pid);
  if (rc == 0 && kill((pid_t)pid, SIGUSR1) != 0 && errno != ESRCH)
    rc = -errno;
  if (rc == 0)
    printf("cancel%s requested for instance %lld (host process %ld)\n",
           level == JH_CANCEL_NOW ? " now" : "", (long long)instance, pid);
  else if (rc == -ENOENT)
    fprintf(stderr, "jobhost cancel: no job instance %lld\n",
            (long long)instance);
  else if (rc == -EINVAL)
    fprintf(stderr, "jobhost cancel: instance %lld is not running\n",
            (long long)instance);
  else
    fprintf(stderr, "jobhost cancel: %s\n",
            rc == -EIO ? jh_store_errmsg(store) : strerror(-rc));
  jh_store_close(store);
  jh_home_clear(&home);
  return rc == 0 ? JH_EXIT_OK : JH_EXIT_ERROR;
}
