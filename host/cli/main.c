/*
 * main.c — `jobhost`: dispatch to a command.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <jobhost/jobhost.h>

#include "cli.h"
#include "loader.h"

struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
};

static const struct command commands[] = {
    {"plugins", jh_cmd_plugins,
     "list plugins found, their task types and packages, and refusals"},
    {"validate", jh_cmd_validate, "check a pipeline without running anything"},
    {"graph", jh_cmd_graph, "print the job graph (text, dot or mermaid)"},
    {"steps", jh_cmd_steps, "print the flattened launch order of a job"},
    {"run", jh_cmd_run, "run a job"},
    {"resume", jh_cmd_resume,
     "resume a Blocked, Interrupted or Cancelled job instance"},
    {"cancel", jh_cmd_cancel, "ask a running job instance to stop"},
    {"history", jh_cmd_history, "list job instances, newest first"},
    {"show", jh_cmd_show, "show a job instance and its task instances"},
    {"import-xml", jh_cmd_import_xml,
     "Identity Manager configuration XML to pipeline YAML"},
    {"provisioning", jh_cmd_provisioning,
     "list, approve or decline provisioning assignments"},
    {"scaffold", jh_cmd_scaffold, "print the job a scaffold generates"},
    {"daemon", jh_cmd_daemon,
     "start the scheduled jobs of the host configuration on time"},
    {"schedule", jh_cmd_schedule,
     "list the scheduled jobs, their next fire times and last instances"},
};

static void usage(FILE *out) {
  fprintf(out, "Usage: jobhost COMMAND [OPTIONS]\n"
               "       jobhost --help | --version\n"
               "\n"
               "Runs identity-synchronization jobs made of task plugins.\n"
               "\nCommands:\n");
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
  fprintf(out,
          "\nRun 'jobhost COMMAND --help' for the options of a command.\n"
          "\nPlugins are searched in --plugin-dir (repeatable), else in\n"
          "JOBHOST_PLUGIN_PATH (colon-separated; an empty entry means the\n"
          "default), else in %s.\n"
          "\nExit status: 0 succeeded, 1 error, 2 invalid usage or\n"
          "configuration (nothing was run), 3 blocked, 4 warning,\n"
          "5 cancelled.\n"
          "\nA PIPELINE may also be an Identity Manager configuration file "
          "(.xml,\nor a file starting with '<'), imported as by import-xml; "
          "import-xml\nexits 0 when written, 1 when the output cannot be "
          "written, 2 on invalid\nusage or input (nothing written).\n",
          jh_default_plugin_dir());
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return JH_EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return JH_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
    printf("jobhost %s (plugin ABI %d.%d)\n", PACKAGE_VERSION,
           JOBHOST_ABI_MAJOR, JOBHOST_ABI_MINOR);
    printf("plugin directory: %s\n", jh_default_plugin_dir());
    return JH_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if (strcmp(argv[1], commands[i].name) == 0)
      return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "jobhost: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return JH_EXIT_USAGE;
}
