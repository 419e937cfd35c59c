/*
 * cli_args.c — checks of option values shared by the commands (cli.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "hostconf.h"

int jh_cli_nonempty(const char *cmd, const char *option, const char *value,
                    const char *what) {
  if (value != NULL && value[0] != '\0')
    return 0;
  fprintf(stderr, "jobhost %s: %s needs %s, got an empty value\n", cmd, option,
          what);
  return -1;
}

/* ---- the host configuration's defaults ---- */

static jh_hostconf host_conf;
static int host_conf_state; /* 0 unread, 1 read, -1 none or refused */

static void host_conf_free(void) { jh_hostconf_clear(&host_conf); }

/* The host configuration, read once; NULL when there is none. *status is
 * JH_EXIT_USAGE when it does not validate (errors printed). */
static const jh_hostconf *host_conf_get(const char *cmd, int *status) {
  jh_diags diags = JH_DIAGS_INIT;
  int named = 0, rc;
  const char *path;
  *status = 0;
  if (host_conf_state != 0)
    return host_conf_state > 0 ? &host_conf : NULL;
  path = jh_hostconf_path(NULL, &named);
  rc = jh_hostconf_load(path, &host_conf, &diags);
  host_conf_state = -1;
  if (rc == 0) {
    host_conf_state = 1;
    atexit(host_conf_free);
  } else if (rc != -ENOENT || named) {
    if (rc == -ENOENT)
      fprintf(stderr,
              "jobhost %s: JOBHOST_CONFIG names %s, which does not "
              "exist\n",
              cmd, path);
    jh_diags_print(&diags, stderr);
    *status = JH_EXIT_USAGE;
  }
  jh_diags_clear(&diags);
  return host_conf_state > 0 ? &host_conf : NULL;
}

int jh_cli_host_defaults(const char *cmd, const char **home, const char **dirs,
                         size_t *ndirs, size_t max) {
  const char *env_home = getenv("JOBHOST_HOME");
  const char *env_path = getenv("JOBHOST_PLUGIN_PATH");
  int want_home = home != NULL && *home == NULL &&
                  (env_home == NULL || env_home[0] == '\0');
  int want_dirs = dirs != NULL && *ndirs == 0 &&
                  (env_path == NULL || env_path[0] == '\0');
  const jh_hostconf *c;
  int status;
  if (!want_home && !want_dirs)
    return 0;
  c = host_conf_get(cmd, &status);
  if (c == NULL)
    return status;
  if (want_dirs && c->nplugin_dirs > max - *ndirs) {
    /* taking some of them would load another set of plugins than the
     * configuration names */
    fprintf(stderr,
            "jobhost %s: the host configuration names %zu plugin folders; "
            "this command takes at most %zu\n",
            cmd, c->nplugin_dirs, max - *ndirs);
    return JH_EXIT_USAGE;
  }
  if (want_home && c->home != NULL)
    *home = c->home;
  for (size_t i = 0; want_dirs && i < c->nplugin_dirs; i++)
    dirs[(*ndirs)++] = c->plugin_dirs[i];
  return 0;
}

int jh_cli_host_dirs(const char *cmd, const char ***dirs, size_t *ndirs) {
  const char *env_path = getenv("JOBHOST_PLUGIN_PATH");
  const jh_hostconf *c;
  const char **grown;
  int status;
  if (*ndirs != 0 || (env_path != NULL && env_path[0] != '\0'))
    return 0;
  c = host_conf_get(cmd, &status);
  if (c == NULL || c->nplugin_dirs == 0)
    return status;
  grown = realloc(*dirs, c->nplugin_dirs * sizeof(*grown));
  if (grown == NULL) {
    fprintf(stderr, "jobhost %s: out of memory\n", cmd);
    return JH_EXIT_ERROR;
  }
  for (size_t i = 0; i < c->nplugin_dirs; i++)
    grown[i] = c->plugin_dirs[i];
  *dirs = grown;
  *ndirs = c->nplugin_dirs;
  return 0;
}
