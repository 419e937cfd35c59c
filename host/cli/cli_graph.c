/*
 * cli_graph.c — commands that read a job without running it:
 *
 *   jobhost validate PIPELINE [--plugin-dir DIR]... [--allow-include DIR]...
 *   jobhost graph PIPELINE [--format text|dot|mermaid] [--plugin-dir DIR]...
 *                 [--allow-include DIR]...
 *   jobhost steps PIPELINE [--plugin-dir DIR]... [--allow-include DIR]...
 *
 * All three load the job with jh_job_load (the checks `run` makes before
 * anything starts) and write nothing anywhere but stdout and stderr.
 * Diagnostics go to stderr. Exit status 0 when the job is valid; 2 on bad
 * usage or an invalid job (stdout then stays empty); 1 when the output
 * cannot be written.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jobhost/jobhost.h>

#include "cli.h"
#include "graph.h"
#include "job_load.h"

enum graph_cmd { CMD_VALIDATE, CMD_GRAPH, CMD_STEPS };

static const char *const cmd_names[] = {"validate", "graph", "steps"};

static void cmd_usage(enum graph_cmd cmd, FILE *out) {
  switch (cmd) {
  case CMD_VALIDATE:
    fprintf(out, "Usage: jobhost validate PIPELINE [--plugin-dir DIR]...\n"
                 "\nChecks the pipeline, its includes, task types, "
                 "parameters, links and levels;\nprints every problem as "
                 "FILE:LINE:COLUMN. Runs nothing.\n");
    break;
  case CMD_GRAPH:
    fprintf(out, "Usage: jobhost graph PIPELINE [--format text|dot|mermaid] "
                 "[--plugin-dir DIR]...\n"
                 "\nPrints the job graph: tasks by level, their links and "
                 "continue_on_error.\n"
                 "\n  --format FMT       text (default), dot (Graphviz) or "
                 "mermaid\n");
    break;
  case CMD_STEPS:
    fprintf(out, "Usage: jobhost steps PIPELINE [--plugin-dir DIR]...\n"
                 "\nPrints the flattened launch order, one 'Order N: TASK "
                 "(TYPE)' per line;\ntasks with the same Order start "
                 "together.\n");
    break;
  }
  fprintf(out, "  --plugin-dir DIR   search DIR for plugins (repeatable; "
               "replaces the default search path)\n"
               "  --allow-include DIR  files under DIR may be included "
               "(repeatable; the\n"
               "                     pipeline's own folder always may)\n"
               "\nExit status: 0 valid, 2 invalid usage or pipeline.\n");
}

typedef struct graph_args {
  const char *pipeline;
  const char **dirs; /* into argv; malloc'd array */
  size_t ndirs;
  const char **allow; /* --allow-include, into argv; malloc'd array */
  size_t nallow;
  jh_graph_format format;
} graph_args;

/* Parse the arguments. Returns -1 (usage printed; exit 2), 1 (--help
 * printed; exit 0) or 0. args->dirs is to be freed in every case. */
static int parse_args(enum graph_cmd cmd, int argc, char **argv,
                      graph_args *args) {
  static const struct option opts[] = {
      {"plugin-dir", required_argument, NULL, 'd'},
      {"format", required_argument, NULL, 'f'},
      {"allow-include", required_argument, NULL, 'a'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *name = cmd_names[cmd];
  int c;

  memset(args, 0, sizeof(*args));
  args->format = JH_GRAPH_TEXT;
  args->dirs = calloc((size_t)argc, sizeof(*args->dirs));
  args->allow = calloc((size_t)argc, sizeof(*args->allow));
  if (args->dirs == NULL || args->allow == NULL) {
    fprintf(stderr, "jobhost %s: out of memory\n", name);
    return -1;
  }
  optind = 1;
  while ((c = getopt_long(argc, argv, "d:f:a:h", opts, NULL)) != -1) {
    switch (c) {
    case 'd':
      if (jh_cli_nonempty(name, "--plugin-dir", optarg, "a folder") != 0)
        return -1;
      args->dirs[args->ndirs++] = optarg;
      break;
    case 'a':
      if (jh_cli_nonempty(name, "--allow-include", optarg, "a folder") != 0)
        return -1;
      args->allow[args->nallow++] = optarg;
      break;
    case 'f':
      if (cmd != CMD_GRAPH) {
        fprintf(stderr, "jobhost %s: --format is an option of 'graph'\n", name);
        cmd_usage(cmd, stderr);
        return -1;
      }
      if (jh_graph_format_parse(optarg, &args->format) != 0) {
        fprintf(stderr,
                "jobhost graph: unknown format '%s' (expected text, "
                "dot or mermaid)\n",
                optarg);
        cmd_usage(cmd, stderr);
        return -1;
      }
      break;
    case 'h':
      cmd_usage(cmd, stdout);
      return 1;
    default:
      cmd_usage(cmd, stderr);
      return -1;
    }
  }
  if (optind >= argc) {
    fprintf(stderr, "jobhost %s: missing PIPELINE\n", name);
    cmd_usage(cmd, stderr);
    return -1;
  }
  if (optind + 1 < argc) {
    fprintf(stderr, "jobhost %s: unexpected argument '%s'\n", name,
            argv[optind + 1]);
    cmd_usage(cmd, stderr);
    return -1;
  }
  args->pipeline = argv[optind];
  return 0;
}

/* What each command prints once the job is loaded. */
static int print_result(enum graph_cmd cmd, const graph_args *args,
                        const jh_job *job) {
  switch (cmd) {
  case CMD_VALIDATE:
    printf("%s: job %s is valid (%zu task%s, %d level%s)\n", args->pipeline,
           job->pipeline->job_id, job->pipeline->ntasks,
           job->pipeline->ntasks == 1 ? "" : "s", job->graph->nlevels,
           job->graph->nlevels == 1 ? "" : "s");
    return ferror(stdout) ? -1 : 0;
  case CMD_GRAPH:
    return jh_graph_print(job->graph, args->format, stdout);
  case CMD_STEPS:
    return jh_graph_print_steps(job->graph, stdout);
  }
  return -1;
}

static int run_cmd(enum graph_cmd cmd, int argc, char **argv) {
  jh_diags diags = JH_DIAGS_INIT;
  jh_pipeline_options opt;
  graph_args args;
  jh_job job;
  int rc, status;

  rc = parse_args(cmd, argc, argv, &args);
  if (rc != 0) {
    free(args.dirs);
    free(args.allow);
    return rc > 0 ? JH_EXIT_OK : JH_EXIT_USAGE;
  }
  if ((status = jh_cli_host_dirs(cmd_names[cmd], &args.dirs, &args.ndirs)) !=
      0) {
    free(args.dirs);
    free(args.allow);
    return status;
  }
  opt.allow_include = args.allow;
  opt.nallow_include = args.nallow;
  rc = jh_job_load_opts(args.pipeline, args.dirs, args.ndirs, &opt, &job,
                        &diags);
  jh_diags_print(&diags, stderr);
  jh_diags_clear(&diags);
  if (rc != 0) {
    if (rc != JOBHOST_ECONFIG)
      fprintf(stderr, "jobhost %s: %s: %s\n", cmd_names[cmd], args.pipeline,
              jobhost_strerror(rc));
    free(args.dirs);
    free(args.allow);
    return JH_EXIT_USAGE;
  }
  status = JH_EXIT_OK;
  if (print_result(cmd, &args, &job) != 0 || fflush(stdout) != 0) {
    fprintf(stderr, "jobhost %s: cannot write the output\n", cmd_names[cmd]);
    status = JH_EXIT_ERROR;
  }
  jh_job_clear(&job);
  free(args.dirs);
  free(args.allow);
  return status;
}

int jh_cmd_validate(int argc, char **argv) {
  return run_cmd(CMD_VALIDATE, argc, argv);
}

int jh_cmd_graph(int argc, char **argv) {
  return run_cmd(CMD_GRAPH, argc, argv);
}

int jh_cmd_steps(int argc, char **argv) {
  return run_cmd(CMD_STEPS, argc, argv);
}
