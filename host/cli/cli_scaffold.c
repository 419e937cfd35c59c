/*
 * cli_scaffold.c — `jobhost scaffold`: print the job a scaffold generates
 * from the model (doc/scaffold.md).
 *
 *   jobhost scaffold complete|incremental --connector C MODEL [options]
 *   jobhost scaffold agent-complete --agent A MODEL [options]
 *   jobhost scaffold initialization MODEL [options]
 *   jobhost scaffold PIPELINE [--do-not-create-job]
 *
 * The first forms read MODEL (a file of model sections and its includes)
 * as a pipeline whose job is that scaffold, held in memory beside MODEL;
 * the last one reads a pipeline whose job is a `scaffold:`. Either way the
 * job is loaded and checked as `validate` would (graph included) before
 * anything is printed. Exit status 0 printed, 2 invalid usage or
 * configuration (nothing printed), 1 when stdout cannot be written.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jobhost/jobhost.h>

#include "cli.h"
#include "job_load.h"
#include "scaffold.h"

static void usage(FILE *out) {
  fprintf(out,
          "Usage: jobhost scaffold complete|incremental --connector C MODEL "
          "[OPTIONS]\n"
          "       jobhost scaffold agent-complete --agent A MODEL [OPTIONS]\n"
          "       jobhost scaffold initialization MODEL [OPTIONS]\n"
          "       jobhost scaffold PIPELINE [--do-not-create-job]\n"
          "\nPrints the job a scaffold generates from the model (pipeline "
          "YAML, a comment\nsaying where each task comes from); PIPELINE is "
          "a pipeline whose job is a\n'scaffold:'. See doc/scaffold.md.\n"
          "\n  --connector C        the connector (complete, incremental)\n"
          "  --agent A            the agent (agent-complete)\n"
          "  --job ID             the job identifier (default: computed)\n"
          "  --display-name TEXT  the job's display name\n"
          "  --schedule CRON      the job's schedule (CronTabExpression)\n"
          "  --no-provisioning    no role model, orders nor fulfillment\n"
          "  --no-synchronization no export, prepare nor synchronization\n"
          "  --do-not-create-job  print the tasks only\n"
          "  --plugin-dir DIR     search DIR for plugins (repeatable)\n"
          "  --allow-include DIR  files under DIR may be included "
          "(repeatable)\n"
          "\nExit status: 0 printed, 1 output not written, 2 invalid usage "
          "or configuration.\n");
}

typedef struct sargs {
  const char *kind; /* NULL: the PIPELINE form */
  const char *file; /* MODEL or PIPELINE */
  const char *connector, *agent, *job, *display_name, *schedule;
  int no_prov, no_sync, no_job;
  const char **dirs;
  size_t ndirs;
  const char **allow;
  size_t nallow;
} sargs;

static int parse_args(int argc, char **argv, sargs *a) {
  static const struct option opts[] = {
      {"connector", required_argument, NULL, 'c'},
      {"agent", required_argument, NULL, 'A'},
      {"job", required_argument, NULL, 'j'},
      {"display-name", required_argument, NULL, 'n'},
      {"schedule", required_argument, NULL, 's'},
      {"no-provisioning", no_argument, NULL, 'P'},
      {"no-synchronization", no_argument, NULL, 'S'},
      {"do-not-create-job", no_argument, NULL, 'J'},
      {"plugin-dir", required_argument, NULL, 'd'},
      {"allow-include", required_argument, NULL, 'a'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  jh_scaffold_kind k;
  int c, npos;

  memset(a, 0, sizeof(*a));
  a->dirs = calloc((size_t)argc, sizeof(*a->dirs));
  a->allow = calloc((size_t)argc, sizeof(*a->allow));
  if (a->dirs == NULL || a->allow == NULL) {
    fprintf(stderr, "jobhost scaffold: out of memory\n");
    return -1;
  }
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'c':
      a->connector = optarg;
      break;
    case 'A':
      a->agent = optarg;
      break;
    case 'j':
      a->job = optarg;
      break;
    case 'n':
      a->display_name = optarg;
      break;
    case 's':
      a->schedule = optarg;
      break;
    case 'P':
      a->no_prov = 1;
      break;
    case 'S':
      a->no_sync = 1;
      break;
    case 'J':
      a->no_job = 1;
      break;
    case 'd':
      if (jh_cli_nonempty("scaffold", "--plugin-dir", optarg, "a folder") != 0)
        return -1;
      a->dirs[a->ndirs++] = optarg;
      break;
    case 'a':
      if (jh_cli_nonempty("scaffold", "--allow-include", optarg, "a folder") !=
          0)
        return -1;
      a->allow[a->nallow++] = optarg;
      break;
    case 'h':
      usage(stdout);
      return 1;
    default:
      usage(stderr);
      return -1;
    }
  }
  npos = argc - optind;
  if (npos >= 1 && jh_scaffold_kind_parse(argv[optind], &k) == 0) {
    a->kind = argv[optind];
    if (npos != 2) {
      fprintf(stderr, "jobhost scaffold %s: expected one MODEL file\n",
              a->kind);
      usage(stderr);
      return -1;
    }
    a->file = argv[optind + 1];
    if ((k == JH_SCAFFOLD_COMPLETE || k == JH_SCAFFOLD_INCREMENTAL) !=
        (a->connector != NULL)) {
      fprintf(stderr, "jobhost scaffold %s: --connector is %s\n", a->kind,
              a->connector ? "not an option of this kind" : "required");
      return -1;
    }
    if ((k == JH_SCAFFOLD_AGENT_COMPLETE) != (a->agent != NULL)) {
      fprintf(stderr, "jobhost scaffold %s: --agent is %s\n", a->kind,
              a->agent ? "not an option of this kind" : "required");
      return -1;
    }
  } else {
    if (npos != 1) {
      fprintf(stderr, "jobhost scaffold: expected KIND MODEL or PIPELINE\n");
      usage(stderr);
      return -1;
    }
    a->file = argv[optind];
    if (a->connector || a->agent || a->job || a->display_name || a->schedule ||
        a->no_prov || a->no_sync) {
      fprintf(stderr, "jobhost scaffold: with a PIPELINE, the scaffold is "
                      "the pipeline's: only --do-not-create-job, "
                      "--plugin-dir and --allow-include apply\n");
      return -1;
    }
  }
  if (jh_cli_nonempty("scaffold", a->kind ? "MODEL" : "PIPELINE", a->file,
                      "a file") != 0)
    return -1;
  return 0;
}

/* A YAML double-quoted scalar of s into o. */
static void quoted(FILE *o, const char *s) {
  fputc('"', o);
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\')
      fprintf(o, "\\%c", ch);
    else if (ch < 0x20)
      fprintf(o, "\\x%02x", ch);
    else
      fputc(ch, o);
  }
  fputc('"', o);
}

/* The in-memory pipeline of the KIND MODEL form: a job that is the
 * scaffold, including MODEL (by its name, from its own folder). */
static char *scaffold_text(const sargs *a) {
  const char *base = strrchr(a->file, '/');
  char *buf = NULL;
  size_t len = 0;
  FILE *o = open_memstream(&buf, &len);
  if (o == NULL)
    return NULL;
  fputs("version: 1\ninclude: [", o);
  quoted(o, base ? base + 1 : a->file);
  fputs("]\njob:\n", o);
  if (a->job) {
    fputs("  id: ", o);
    quoted(o, a->job);
    fputc('\n', o);
  }
  if (a->display_name) {
    fputs("  display_name: ", o);
    quoted(o, a->display_name);
    fputc('\n', o);
  }
  if (a->schedule) {
    fputs("  schedule: ", o);
    quoted(o, a->schedule);
    fputc('\n', o);
  }
  fprintf(o, "  scaffold:\n    kind: %s\n", a->kind);
  if (a->connector) {
    fputs("    connector: ", o);
    quoted(o, a->connector);
    fputc('\n', o);
  }
  if (a->agent) {
    fputs("    agent: ", o);
    quoted(o, a->agent);
    fputc('\n', o);
  }
  if (a->no_prov)
    fputs("    no_provisioning: true\n", o);
  if (a->no_sync)
    fputs("    no_synchronization: true\n", o);
  if (fclose(o) != 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

/* Load the registry and the pipeline (text, or the file), then the graph. */
static int load(const sargs *a, const char *name, const char *text, jh_job *job,
                jh_diags *diags) {
  jh_pipeline_options opt = {a->allow, a->nallow};
  char **dirs = NULL;
  size_t ndirs = 0;
  int rc;

  if (text == NULL)
    return jh_job_load_opts(a->file, a->dirs, a->ndirs, &opt, job, diags);
  memset(job, 0, sizeof(*job));
  rc = jh_plugin_dirs(a->dirs, a->ndirs, &dirs, &ndirs);
  if (rc != 0)
    return rc;
  rc = jh_registry_load((const char *const *)dirs, ndirs, &job->reg);
  jh_strv_free(dirs, ndirs);
  if (rc != 0) {
    job->reg = NULL;
    return rc;
  }
  rc = jh_pipeline_load_text(name, text, strlen(text), job->reg, &opt,
                             &job->pipeline, diags);
  if (rc == 0)
    rc = jh_graph_build(job->pipeline, &job->graph, diags);
  if (rc != 0)
    jh_job_clear(job);
  return rc;
}

static int print_job(const sargs *a, const jh_job *job) {
  jh_pipeline *p = job->pipeline;
  char *tasks = NULL, err[1024];
  jh_loc where;
  int rc;

  if (a->no_job) {
    p->scaffold->do_not_create_job = 1;
    rc = jh_scaffold_generate(p->scaffold, p->model, job->reg, &tasks, err,
                              sizeof(err), &where);
    if (rc != 0) {
      fprintf(stderr, "jobhost scaffold: %s\n",
              rc == -ENOMEM ? "out of memory" : err);
      return -1;
    }
    fputs(tasks, stdout);
    free(tasks);
    return 0;
  }
  if (a->kind != NULL) {
    printf("# Generated by `jobhost scaffold %s` from %s (doc/scaffold.md).\n"
           "version: 1\ninclude: [",
           a->kind, a->file);
    quoted(stdout, a->file);
    fputs("]\n", stdout);
  } else {
    printf("# The job generated by the scaffold of %s (doc/scaffold.md).\n",
           a->file);
  }
  fputs(p->scaffold_yaml, stdout);
  return 0;
}

int jh_cmd_scaffold(int argc, char **argv) {
  jh_diags diags = JH_DIAGS_INIT;
  char *text = NULL, *name = NULL;
  sargs a;
  jh_job job;
  int rc, status = JH_EXIT_OK;

  rc = parse_args(argc, argv, &a);
  if (rc != 0) {
    free(a.dirs);
    free(a.allow);
    return rc > 0 ? JH_EXIT_OK : JH_EXIT_USAGE;
  }
  if ((status = jh_cli_host_dirs("scaffold", &a.dirs, &a.ndirs)) != 0) {
    free(a.dirs);
    free(a.allow);
    return status;
  }
  if (a.kind != NULL) {
    const char *slash = strrchr(a.file, '/');
    text = scaffold_text(&a);
    if (text == NULL ||
        asprintf(&name, "%.*s(scaffold %s)",
                 slash ? (int)(slash - a.file + 1) : 0, a.file, a.kind) < 0) {
      name = NULL;
      fprintf(stderr, "jobhost scaffold: out of memory\n");
      status = JH_EXIT_ERROR;
      goto out;
    }
  }
  rc = load(&a, name, text, &job, &diags);
  jh_diags_print(&diags, stderr);
  jh_diags_clear(&diags);
  if (rc != 0) {
    if (rc != JOBHOST_ECONFIG)
      fprintf(stderr, "jobhost scaffold: %s: %s\n", a.file,
              jobhost_strerror(rc));
    status = JH_EXIT_USAGE;
    goto out;
  }
  if (job.pipeline->scaffold == NULL) {
    fprintf(stderr,
            "jobhost scaffold: %s: its job has no 'scaffold:' (a job "
            "written task by task has nothing to generate)\n",
            a.file);
    status = JH_EXIT_USAGE;
  } else if (print_job(&a, &job) != 0) {
    status = JH_EXIT_USAGE;
  } else if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "jobhost scaffold: cannot write the output\n");
    status = JH_EXIT_ERROR;
  }
  jh_job_clear(&job);
out:
  free(text);
  free(name);
  free(a.dirs);
  free(a.allow);
  return status;
}
