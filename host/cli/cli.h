/*
 * cli.h — the jobhost command line: exit statuses and command entry points.
 */
#ifndef JH_CLI_H
#define JH_CLI_H

#include <stddef.h>

/* Exit statuses of the CLI contract (README.md, "Commands"). */
enum jh_exit {
  JH_EXIT_OK = 0,       /* Succeeded */
  JH_EXIT_ERROR = 1,    /* Error */
  JH_EXIT_USAGE = 2,    /* invalid usage or configuration; nothing was run */
  JH_EXIT_BLOCKED = 3,  /* Blocked */
  JH_EXIT_WARNING = 4,  /* Warning */
  JH_EXIT_CANCELLED = 5 /* Cancelled */
};

/* An option whose value names a file or a folder (--home, --plugin-dir,
 * --report, -o): an empty value is a usage error, never "the default".
 * Returns 0, or -1 after saying on stderr that `option` of `cmd` needs
 * `what` (e.g. "a folder"); the command then exits JH_EXIT_USAGE. */
int jh_cli_nonempty(const char *cmd, const char *option, const char *value,
                    const char *what); /* cli_args.c */

/* What a command was not given, from the host configuration (hostconf.h;
 * $JOBHOST_CONFIG or the installed file, when it exists): the home when
 * *home is NULL and JOBHOST_HOME is unset; the plugin folders when
 * *ndirs is 0 and JOBHOST_PLUGIN_PATH is unset (appended to dirs, which
 * has room for max). home or dirs may be NULL. Returns 0, or JH_EXIT_USAGE
 * after printing why: the configuration is refused, or it names more
 * plugin folders than dirs has room for. */
int jh_cli_host_defaults(const char *cmd, const char **home, const char **dirs,
                         size_t *ndirs, size_t max); /* cli_args.c */

/* The same for a command that keeps its --plugin-dir values in a malloc'd
 * array: when *ndirs is 0 and JOBHOST_PLUGIN_PATH is unset, *dirs is
 * grown to hold the host configuration's plugin folders. Returns 0,
 * JH_EXIT_USAGE (the configuration refused, said why) or JH_EXIT_ERROR
 * (out of memory, said so). */
int jh_cli_host_dirs(const char *cmd, const char ***dirs,
                     size_t *ndirs); /* cli_args.c */

/* Each command takes the arguments after `jobhost` (argv[0] is the command
 * name) and returns an exit status. */
int jh_cmd_plugins(int argc, char **argv);      /* cli_plugins.c */
int jh_cmd_validate(int argc, char **argv);     /* cli_graph.c */
int jh_cmd_graph(int argc, char **argv);        /* cli_graph.c */
int jh_cmd_steps(int argc, char **argv);        /* cli_graph.c */
int jh_cmd_history(int argc, char **argv);      /* cli_history.c */
int jh_cmd_show(int argc, char **argv);         /* cli_history.c */
int jh_cmd_run(int argc, char **argv);          /* cli_run.c */
int jh_cmd_resume(int argc, char **argv);       /* cli_run.c */
int jh_cmd_cancel(int argc, char **argv);       /* cli_run.c */
int jh_cmd_import_xml(int argc, char **argv);   /* cli_import.c */
int jh_cmd_provisioning(int argc, char **argv); /* cli_provisioning.c */
int jh_cmd_scaffold(int argc, char **argv);     /* cli_scaffold.c */
int jh_cmd_daemon(int argc, char **argv);       /* cli_daemon.c */
int jh_cmd_schedule(int argc, char **argv);     /* cli_daemon.c */

#endif /* JH_CLI_H */
