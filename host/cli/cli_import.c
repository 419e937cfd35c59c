/*
 * cli_import.c — jobhost import-xml FILE... [-o OUT] [--job ID]
 *                [--job-only] [--include FILE]... [--lenient]
 *                [--plugin-dir DIR]...
 *
 * Reads Identity Manager configuration files (xml_import.h) and writes the
 * pipeline YAML to stdout, or to OUT (atomically: OUT is the whole new
 * text or stays as it was). Plugins are loaded as for `validate`, since a
 * task type and its attributes are supported when a plugin provides them.
 *
 * Exit status: 0 written (warnings may have been printed); 1 the output
 * could not be written; 2 bad usage, or input that is invalid or holds
 * something unsupported (without --lenient) — nothing is written then.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jobhost/jobhost.h>

#include "atomic_file.h"
#include "cli.h"
#include "loader.h"
#include "xml_import.h"

typedef struct import_args {
  const char **files; /* into argv; malloc'd array */
  size_t nfiles;
  const char **dirs; /* --plugin-dir, into argv; malloc'd array */
  size_t ndirs;
  const char **includes; /* --include, into argv; malloc'd array */
  const char *output;    /* -o; NULL: stdout */
  jh_xml_options opt;
} import_args;

static void usage(FILE *out) {
  fprintf(out,
          "Usage: jobhost import-xml FILE... [-o OUT] [--job ID] [--job-only]\n"
          "                          [--model-only] [--include FILE]...\n"
          "                          [--lenient]\n"
          "                          [--plugin-dir DIR]...\n"
          "\nTurns Identity Manager configuration files (root "
          "ConfigurationFile in\nnamespace %s) into pipeline YAML:\n"
          "a Job with its tasks, Steps and overrides, and the model "
          "(Connector,\nConnection, EntityType, ResourceType, ...) as "
          "the model sections. "
          "Files are read as\none configuration; each is at most 16 MiB "
          "and may not have a DOCTYPE.\n"
          "\n  -o, --output OUT   write to OUT (atomically) instead of "
          "stdout\n"
          "  --job ID           the Job to import when there are several\n"
          "  --job-only         leave the model elements out\n"
          "  --model-only       write the model sections only (a file "
          "for include:)\n"
          "  --include FILE     add FILE to the pipeline's include: (a "
          "model in YAML,\n"
          "                     relative to OUT's folder); repeatable\n"
          "  --lenient          import what is supported; report the rest "
          "as\n"
          "                     warnings and keep it as comments\n"
          "  --plugin-dir DIR   search DIR for plugins (repeatable; "
          "replaces the default search path)\n"
          "\nAnything jobhost does not support is reported as "
          "FILE:LINE:COLUMN with\nwhat is supported. Check the result with "
          "'jobhost validate'.\n"
          "\nExit status: 0 written, 1 the output could not be written, "
          "2 invalid usage\nor input (nothing written).\n",
          JH_XML_NAMESPACE);
}

/* Returns -1 (usage printed; exit 2), 1 (--help; exit 0) or 0. The
 * arrays in args are to be freed in every case. */
static int parse_args(int argc, char **argv, import_args *args) {
  static const struct option opts[] = {
      {"output", required_argument, NULL, 'o'},
      {"job", required_argument, NULL, 'j'},
      {"job-only", no_argument, NULL, 'J'},
      {"model-only", no_argument, NULL, 'M'},
      {"include", required_argument, NULL, 'i'},
      {"lenient", no_argument, NULL, 'l'},
      {"plugin-dir", required_argument, NULL, 'd'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int c;

  memset(args, 0, sizeof(*args));
  args->files = calloc((size_t)argc, sizeof(*args->files));
  args->dirs = calloc((size_t)argc, sizeof(*args->dirs));
  args->includes = calloc((size_t)argc, sizeof(*args->includes));
  if (args->files == NULL || args->dirs == NULL || args->includes == NULL) {
    fprintf(stderr, "jobhost import-xml: out of memory\n");
    return -1;
  }
  optind = 1;
  while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
    switch (c) {
    case 'o':
      if (jh_cli_nonempty("import-xml", "-o", optarg, "a file name") != 0)
        return -1;
      args->output = optarg;
      break;
    case 'j':
      args->opt.job = optarg;
      break;
    case 'J':
      args->opt.job_only = 1;
      break;
    case 'M':
      args->opt.model_only = 1;
      break;
    case 'i':
      if (jh_cli_nonempty("import-xml", "--include", optarg, "a file name") !=
          0)
        return -1;
      args->includes[args->opt.nincludes++] = optarg;
      break;
    case 'l':
      args->opt.lenient = 1;
      break;
    case 'd':
      if (jh_cli_nonempty("import-xml", "--plugin-dir", optarg, "a folder") !=
          0)
        return -1;
      args->dirs[args->ndirs++] = optarg;
      break;
    case 'h':
      usage(stdout);
      return 1;
    default:
      usage(stderr);
      return -1;
    }
  }
  if (optind >= argc) {
    fprintf(stderr, "jobhost import-xml: missing FILE\n");
    usage(stderr);
    return -1;
  }
  if (args->opt.model_only &&
      (args->opt.job_only || args->opt.job != NULL || args->opt.nincludes)) {
    fprintf(stderr, "jobhost import-xml: --model-only writes no job: it "
                    "takes no --job, --job-only or --include\n");
    usage(stderr);
    return -1;
  }
  while (optind < argc)
    args->files[args->nfiles++] = argv[optind++];
  args->opt.includes = args->includes;
  return 0;
}

static int load_registry(const import_args *args, jh_registry **reg) {
  char **dirs = NULL;
  size_t ndirs = 0;
  int rc = jh_plugin_dirs(args->dirs, args->ndirs, &dirs, &ndirs);
  if (rc == 0) {
    rc = jh_registry_load((const char *const *)dirs, ndirs, reg);
    jh_strv_free(dirs, ndirs);
  }
  if (rc != 0) {
    fprintf(stderr, "jobhost import-xml: cannot load plugins: %s\n",
            jobhost_strerror(rc));
    return rc;
  }
  for (size_t i = 0; i < (*reg)->nrefusals; i++)
    fprintf(stderr, "jobhost: warning: plugin %s refused: %s\n",
            (*reg)->refusals[i].path, (*reg)->refusals[i].reason);
  return 0;
}

/* Write the YAML where asked. Returns an exit status. */
static int write_output(const import_args *args, const jh_xml_output *o) {
  if (args->output != NULL) {
    int rc = jh_write_file_atomic(args->output, o->yaml, o->len, 0644);
    if (rc != 0) {
      fprintf(stderr, "jobhost import-xml: cannot write %s: %s\n", args->output,
              strerror(-rc));
      return JH_EXIT_ERROR;
    }
    return JH_EXIT_OK;
  }
  if (fwrite(o->yaml, 1, o->len, stdout) != o->len || fflush(stdout) != 0) {
    fprintf(stderr, "jobhost import-xml: cannot write the output\n");
    return JH_EXIT_ERROR;
  }
  return JH_EXIT_OK;
}

int jh_cmd_import_xml(int argc, char **argv) {
  jh_diags diags = JH_DIAGS_INIT;
  jh_registry *reg = NULL;
  jh_xml_output out;
  import_args args;
  int rc, status;

  rc = parse_args(argc, argv, &args);
  if (rc == 0)
    rc = jh_cli_host_dirs("import-xml", &args.dirs, &args.ndirs) == 0 ? 0 : -1;
  if (rc == 0)
    rc = load_registry(&args, &reg) == 0 ? 0 : -1;
  if (rc != 0) {
    free(args.files);
    free(args.dirs);
    free(args.includes);
    return rc > 0 ? JH_EXIT_OK : JH_EXIT_USAGE;
  }
  rc = jh_xml_import(args.files, args.nfiles, reg, &args.opt, &out, &diags);
  jh_diags_print(&diags, stderr);
  jh_diags_clear(&diags);
  if (rc == 0) {
    status = write_output(&args, &out);
  } else if (rc == JOBHOST_ECONFIG) {
    fprintf(stderr, "jobhost import-xml: nothing written\n");
    status = JH_EXIT_USAGE;
  } else {
    fprintf(stderr, "jobhost import-xml: %s\n", jobhost_strerror(rc));
    status = JH_EXIT_ERROR;
  }
  jh_xml_output_clear(&out);
  jh_registry_free(reg);
  free(args.files);
  free(args.dirs);
  free(args.includes);
  return status;
}
