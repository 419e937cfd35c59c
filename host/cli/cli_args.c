/*
 * cli_args.c — checks of option values shared by the commands (cli.h).
 */
#include "config.h"

#include <stdio.h>

#include "cli.h"

int jh_cli_nonempty(const char *cmd, const char *option, const char *value,
                    const char *what) {
  if (value != NULL && value[0] != '\0')
    return 0;
  fprintf(stderr, "jobhost %s: %s needs %s, got an empty value\n", cmd, option,
          what);
  return -1;
}
