/*
 * home.c — the jobhost home: where it is, and its folders. See home.h.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "home.h"

#define JH_HOME_MODE 0750

/* Sub-folders of the home, by jobhost_folder. */
static const char *const folder_names[] = {
    [JOBHOST_FOLDER_EXPORT_OUTPUT] = "Temp/ExportOutput",
    [JOBHOST_FOLDER_EXPORT_COOKIES] = "Work/ExportCookies",
    [JOBHOST_FOLDER_COLLECT] = "Work/Collect",
    [JOBHOST_FOLDER_PROVISIONING_ORDERS] = "Work/ProvisioningOrders",
    [JOBHOST_FOLDER_JOB_LOGS] = "Temp/JobLogs",
    [JOBHOST_FOLDER_TASK_WORK] = "Work/Tasks",
};

#define JH_NFOLDERS (sizeof(folder_names) / sizeof(folder_names[0]))
_Static_assert(JH_NFOLDERS == sizeof(((jh_home *)0)->folders) /
                                  sizeof(((jh_home *)0)->folders[0]),
               "one name for each jobhost_folder");

/* malloc'd "a" "b" "c" joined, or NULL when out of memory. */
static char *join3(const char *a, const char *b, const char *c) {
  size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
  char *out = malloc(la + lb + lc + 1);
  if (out == NULL)
    return NULL;
  memcpy(out, a, la);
  memcpy(out + la, b, lb);
  memcpy(out + la + lb, c, lc + 1);
  return out;
}

static const char *env_nonempty(const char *name) {
  const char *v = getenv(name);
  return v != NULL && *v != '\0' ? v : NULL;
}

/*
 * The root as configured, malloc'd into *out (not yet absolute). Returns 0,
 * -ENOENT when nothing names a home, or -ENOMEM.
 */
static int configured_root(const char *cli_root, char **out, char *err,
                           size_t errsize) {
  const char *v;
  if (cli_root != NULL && *cli_root == '\0') {
    /* an empty --home is a mistake, not a request for the default */
    snprintf(err, errsize, "the home given is empty: expected a folder");
    return -EINVAL;
  }
  if (cli_root != NULL)
    *out = strdup(cli_root);
  else if ((v = env_nonempty("JOBHOST_HOME")) != NULL)
    *out = strdup(v);
  /* The XDG base directory spec says relative values are to be ignored. */
  else if ((v = env_nonempty("XDG_STATE_HOME")) != NULL && v[0] == '/')
    *out = join3(v, "/", "jobhost");
  else if ((v = env_nonempty("HOME")) != NULL)
    *out = join3(v, "/", ".local/state/jobhost");
  else {
    snprintf(err, errsize,
             "cannot tell where the jobhost home is: give --home DIR or set "
             "JOBHOST_HOME (HOME is not set either)");
    return -ENOENT;
  }
  if (*out == NULL) {
    snprintf(err, errsize, "out of memory");
    return -ENOMEM;
  }
  return 0;
}

/* Make a relative root absolute (against the current folder, so that a
 * later chdir does not move the home) and drop trailing slashes. */
static int absolute_root(char **root, char *err, size_t errsize) {
  size_t len;
  if ((*root)[0] != '/') {
    char cwd[PATH_MAX], *abs;
    if (getcwd(cwd, sizeof(cwd)) == NULL) {
      int e = errno;
      snprintf(err, errsize,
               "cannot resolve home %s: current folder unknown: %s", *root,
               strerror(e));
      return -e;
    }
    abs = join3(cwd, strcmp(cwd, "/") == 0 ? "" : "/", *root);
    if (abs == NULL) {
      snprintf(err, errsize, "out of memory");
      return -ENOMEM;
    }
    free(*root);
    *root = abs;
  }
  len = strlen(*root);
  while (len > 1 && (*root)[len - 1] == '/')
    (*root)[--len] = '\0';
  return 0;
}

/* mkdir of one folder that may already exist as a folder. */
static int make_one(const char *path) {
  struct stat st;
  if (mkdir(path, JH_HOME_MODE) == 0)
    return 0;
  if (errno != EEXIST)
    return -errno;
  if (stat(path, &st) != 0)
    return -errno;
  return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* mkdir -p path (absolute). On failure names the folder that failed. */
static int make_path(const char *path, char *err, size_t errsize) {
  char *copy = strdup(path);
  int rc = 0;
  if (copy == NULL) {
    snprintf(err, errsize, "out of memory");
    return -ENOMEM;
  }
  for (char *p = copy + 1; rc == 0; p++) {
    if (*p != '/' && *p != '\0')
      continue;
    char saved = *p;
    *p = '\0';
    if (p[-1] != '/' && (rc = make_one(copy)) != 0)
      snprintf(err, errsize, "cannot create folder %s: %s", copy,
               strerror(-rc));
    *p = saved;
    if (saved == '\0')
      break;
  }
  free(copy);
  return rc;
}

/* Fill the paths of h from h->root. */
static int fill_paths(jh_home *h, char *err, size_t errsize) {
  h->store_path = join3(h->root, "/", "jobhost.db");
  h->identity_store_path = join3(h->root, "/", "identity.db");
  h->reports = join3(h->root, "/", "Reports");
  for (size_t i = 0; i < JH_NFOLDERS; i++)
    h->folders[i] = join3(h->root, "/", folder_names[i]);
  if (h->store_path == NULL || h->identity_store_path == NULL ||
      h->reports == NULL)
    goto nomem;
  for (size_t i = 0; i < JH_NFOLDERS; i++)
    if (h->folders[i] == NULL)
      goto nomem;
  return 0;
nomem:
  snprintf(err, errsize, "out of memory");
  return -ENOMEM;
}

static int make_folders(const jh_home *h, char *err, size_t errsize) {
  int rc = make_path(h->root, err, errsize);
  for (size_t i = 0; rc == 0 && i < JH_NFOLDERS; i++)
    rc = make_path(h->folders[i], err, errsize);
  if (rc == 0)
    rc = make_path(h->reports, err, errsize);
  return rc;
}

int jh_home_open(const char *cli_root, jh_home *h, char *err, size_t errsize) {
  int rc;
  if (h == NULL)
    return -EINVAL;
  memset(h, 0, sizeof(*h));
  if ((rc = configured_root(cli_root, &h->root, err, errsize)) != 0 ||
      (rc = absolute_root(&h->root, err, errsize)) != 0 ||
      (rc = fill_paths(h, err, errsize)) != 0 ||
      (rc = make_folders(h, err, errsize)) != 0)
    jh_home_clear(h);
  return rc;
}

void jh_home_clear(jh_home *h) {
  if (h == NULL)
    return;
  free(h->root);
  free(h->store_path);
  free(h->identity_store_path);
  free(h->reports);
  for (size_t i = 0; i < JH_NFOLDERS; i++)
    free(h->folders[i]);
  memset(h, 0, sizeof(*h));
}
