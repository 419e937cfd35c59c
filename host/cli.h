/*
 * cli.h — the jobhost command line: exit statuses and command entry points.
 */
#ifndef JH_CLI_H
#define JH_CLI_H

/* Exit statuses of the CLI contract (DESIGN.md). */
enum jh_exit {
  JH_EXIT_OK = 0,        /* Succeeded */
  JH_EXIT_ERROR = 1,     /* Error */
  JH_EXIT_USAGE = 2,     /* invalid usage or configuration; nothing was run */
  JH_EXIT_BLOCKED = 3,   /* Blocked */
  JH_EXIT_WARNING = 4,   /* Warning */
  JH_EXIT_CANCELLED = 5  /* Cancelled */
};

/* Each command takes the arguments after its name (argv[0] is the command
 * name) and returns an exit status. */
int jh_cmd_plugins(int argc, char **argv);

#endif /* JH_CLI_H */
