/*
 * loader.c — plugin discovery, checks and loading through libltdl.
 *
 * Order of checks for each candidate file, cheapest and safest first:
 *   1. the directory and the file (and, for a libtool .la, the shared object
 *      it names) are regular and not writable by others;
 *   2. a .so starts with an ELF header;
 *   3. libltdl opens it (RTLD_LOCAL);
 *   4. it exports jobhost_plugin_descriptor;
 *   5. the descriptor meets the SDK rules (jh_descriptor_check);
 *   6. none of its names is claimed by a plugin loaded before it.
 * A refusal at step 3 or later closes the module again.
 */
#include "config.h"

#include "loader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ltdl.h>

#ifndef JOBHOST_PLUGINDIR
#error "JOBHOST_PLUGINDIR must be defined by the build"
#endif

/* Bounds that protect the checks from a descriptor without terminators. */
#define JH_MAX_TASK_TYPES 256
#define JH_MAX_PACKAGES 256
#define JH_MAX_PARAMS 256
#define JH_MAX_CHOICES 256

const char *jh_default_plugin_dir(void) { return JOBHOST_PLUGINDIR; }

void jh_strv_free(char **v, size_t n) {
  if (v == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

static int strv_push(char ***v, size_t *n, const char *s, size_t len) {
  char **grown = realloc(*v, (*n + 1) * sizeof(**v));
  if (grown == NULL)
    return -ENOMEM;
  *v = grown;
  grown[*n] = strndup(s, len);
  if (grown[*n] == NULL)
    return -ENOMEM;
  (*n)++;
  return 0;
}

int jh_plugin_dirs(const char *const *cli_dirs, size_t ncli, char ***out,
                   size_t *n) {
  char **v = NULL;
  size_t count = 0;
  int rc = 0;

  if (ncli > 0) {
    for (size_t i = 0; rc == 0 && i < ncli; i++)
      rc = strv_push(&v, &count, cli_dirs[i], strlen(cli_dirs[i]));
  } else {
    const char *env = getenv("JOBHOST_PLUGIN_PATH");
    if (env != NULL && *env != '\0') {
      const char *p = env;
      for (;;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        if (len == 0)
          rc = strv_push(&v, &count, JOBHOST_PLUGINDIR,
                         strlen(JOBHOST_PLUGINDIR));
        else
          rc = strv_push(&v, &count, p, len);
        if (rc != 0 || colon == NULL)
          break;
        p = colon + 1;
      }
    } else {
      rc = strv_push(&v, &count, JOBHOST_PLUGINDIR, strlen(JOBHOST_PLUGINDIR));
    }
  }
  if (rc != 0) {
    jh_strv_free(v, count);
    return rc;
  }
  *out = v;
  *n = count;
  return 0;
}

/* ---- descriptor checks (no plugin code runs here) ---- */

static int why_set(char *why, size_t size, int code, const char *fmt, ...)
    JOBHOST_PRINTF(4, 5);
static int why_set(char *why, size_t size, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, size, fmt, ap);
  va_end(ap);
  return code;
}

static int check_default(const jobhost_param *p, char *why, size_t size,
                         const char *owner) {
  const char *d = p->default_value;
  if (d == NULL)
    return 0;
  switch (p->type) {
  case JOBHOST_PARAM_BOOL:
    if (strcmp(d, "true") != 0 && strcmp(d, "false") != 0)
      return why_set(why, size, JOBHOST_ECONFIG,
                     "%s: parameter '%s' has bool default '%s' "
                     "(expected true or false)",
                     owner, p->name, d);
    return 0;
  case JOBHOST_PARAM_INT: {
    char *end = NULL;
    errno = 0;
    (void)strtoll(d, &end, 10);
    if (errno != 0 || end == d || *end != '\0')
      return why_set(why, size, JOBHOST_ECONFIG,
                     "%s: parameter '%s' has int default '%s' "
                     "(expected a decimal integer)",
                     owner, p->name, d);
    return 0;
  }
  case JOBHOST_PARAM_DURATION: {
    /* N, or N and a unit (doc/sdk.md) */
    const char *u = d;
    while (*u >= '0' && *u <= '9')
      u++;
    if (u == d || (*u != '\0' && strcmp(u, "ms") != 0 && strcmp(u, "s") != 0 &&
                   strcmp(u, "m") != 0 && strcmp(u, "h") != 0))
      return why_set(why, size, JOBHOST_ECONFIG,
                     "%s: parameter '%s' has duration default '%s' "
                     "(expected N, Nms, Ns, Nm or Nh)",
                     owner, p->name, d);
    return 0;
  }
  case JOBHOST_PARAM_ENUM:
    for (size_t i = 0; i < JH_MAX_CHOICES && p->choices[i] != NULL; i++)
      if (strcmp(p->choices[i], d) == 0)
        return 0;
    return why_set(why, size, JOBHOST_ECONFIG,
                   "%s: parameter '%s' has default '%s' that is not one of "
                   "its choices",
                   owner, p->name, d);
  default:
    return 0;
  }
}

/* The minor that added parameter type t (0 for the 1.0 types). */
static unsigned type_minor(int t) {
  if (t == JOBHOST_PARAM_PATH)
    return 1;
  if (t == JOBHOST_PARAM_DURATION || t == JOBHOST_PARAM_ENTITY_TYPE)
    return 2;
  return 0;
}

/* A plugin uses something of minor `need` but claims abi_minor: refused,
 * with what to do about it. */
static int needs_minor(char *why, size_t size, unsigned need,
                       unsigned abi_minor, const char *owner,
                       const char *what) {
  return why_set(why, size, JOBHOST_EABI,
                 "%s: %s needs plugin ABI %u.%u, but the plugin claims "
                 "%u.%u (define JOBHOST_ABI_MIN_REQUIRED as "
                 "JOBHOST_ABI_VERSION(%u, %u) or newer)",
                 owner, what, (unsigned)JOBHOST_ABI_MAJOR, need,
                 (unsigned)JOBHOST_ABI_MAJOR, abi_minor,
                 (unsigned)JOBHOST_ABI_MAJOR, need);
}

/* Whether the whole of text matches pattern (an ERE that compiles). */
static int whole_match(const char *pattern, const char *text) {
  regex_t re;
  regmatch_t m;
  int ok;
  if (regcomp(&re, pattern, REG_EXTENDED) != 0)
    return 0;
  ok = regexec(&re, text, 1, &m, 0) == 0 && m.rm_so == 0 &&
       (size_t)m.rm_eo == strlen(text);
  regfree(&re);
  return ok;
}

/* The ABI 1.2 constraints of a parameter: where they may appear, that
 * they make sense, and that the default meets them. */
static int check_constraints(const jobhost_param *p, unsigned abi_minor,
                             char *why, size_t size, const char *owner) {
  char what[160];
  int has_list_choices = p->type == JOBHOST_PARAM_LIST && p->choices != NULL;
  if (abi_minor < 2 &&
      (p->range != NULL || p->pattern != NULL || has_list_choices)) {
    snprintf(what, sizeof(what), "the %s of parameter '%s'",
             p->range != NULL     ? "range"
             : p->pattern != NULL ? "pattern"
                                  : "choices",
             p->name);
    return needs_minor(why, size, 2, abi_minor, owner, what);
  }
  if (p->range != NULL && p->type != JOBHOST_PARAM_INT)
    return why_set(why, size, JOBHOST_ECONFIG,
                   "%s: parameter '%s' has a range but is not an int", owner,
                   p->name);
  if (p->range != NULL && p->range->min > p->range->max)
    return why_set(why, size, JOBHOST_ECONFIG,
                   "%s: parameter '%s' has a range whose min is above its "
                   "max",
                   owner, p->name);
  if (p->range != NULL && p->default_value != NULL) {
    long long d = strtoll(p->default_value, NULL, 10);
    if (d < p->range->min || d > p->range->max)
      return why_set(why, size, JOBHOST_ECONFIG,
                     "%s: parameter '%s' has default %lld outside its range",
                     owner, p->name, d);
  }
  if (p->pattern != NULL) {
    regex_t re;
    if (p->type != JOBHOST_PARAM_STRING && p->type != JOBHOST_PARAM_PATH &&
        p->type != JOBHOST_PARAM_LIST)
      return why_set(why, size, JOBHOST_ECONFIG,
                     "%s: parameter '%s' has a pattern but is not a string, "
                     "path or list",
                     owner, p->name);
    if (regcomp(&re, p->pattern, REG_EXTENDED | REG_NOSUB) != 0)
      return why_set(why, size, JOBHOST_ECONFIG,
                     "%s: parameter '%s' has pattern '%s', which is not a "
                     "POSIX extended regular expression",
                     owner, p->name, p->pattern);
    regfree(&re);
    if (p->type != JOBHOST_PARAM_LIST && p->default_value != NULL &&
        !whole_match(p->pattern, p->default_value))
      return why_set(why, size, JOBHOST_ECONFIG,
                     "%s: parameter '%s' has default '%s' that does not "
                     "match its pattern",
                     owner, p->name, p->default_value);
  }
  return 0;
}

static int check_params(const jobhost_param *params, unsigned abi_minor,
                        char *why, size_t size, const char *owner,
                        int settings) {
  if (params == NULL)
    return 0;
  for (size_t i = 0; params[i].name != NULL; i++) {
    const jobhost_param *p = &params[i];
    int rc;
    if (i >= JH_MAX_PARAMS)
      return why_set(why, size, JOBHOST_ECONFIG,
                     "%s: more than %d parameters (missing JOBHOST_PARAM_END?)",
                     owner, JH_MAX_PARAMS);
    if (p->name[0] == '\0')
      return why_set(why, size, JOBHOST_ECONFIG,
                     "%s: parameter %zu has an empty name", owner, i);
    if ((int)p->type < JOBHOST_PARAM_STRING ||
        (int)p->type > JOBHOST_PARAM_ENTITY_TYPE)
      return why_set(why, size, JOBHOST_ECONFIG,
                     "%s: parameter '%s' has invalid type %d", owner, p->name,
                     (int)p->type);
    if (type_minor((int)p->type) > abi_minor) {
      char what[160];
      snprintf(what, sizeof(what), "parameter '%s' of type %s", p->name,
               jobhost_param_type_name(p->type));
      return needs_minor(why, size, type_minor((int)p->type), abi_minor, owner,
                         what);
    }
    if (settings && p->type == JOBHOST_PARAM_ENTITY_TYPE)
      return why_set(why, size, JOBHOST_ECONFIG,
                     "%s: setting '%s' has type entity_type, which only a "
                     "task parameter may have",
                     owner, p->name);
    if (p->type == JOBHOST_PARAM_ENUM &&
        (p->choices == NULL || p->choices[0] == NULL))
      return why_set(why, size, JOBHOST_ECONFIG,
                     "%s: enum parameter '%s' declares no choices", owner,
                     p->name);
    for (size_t j = 0; j < i; j++)
      if (strcmp(params[j].name, p->name) == 0)
        return why_set(why, size, JOBHOST_ECONFIG,
                       "%s: parameter '%s' is declared twice", owner, p->name);
    rc = check_default(p, why, size, owner);
    if (rc == 0)
      rc = check_constraints(p, abi_minor, why, size, owner);
    if (rc != 0)
      return rc;
  }
  return 0;
}

int jh_descriptor_check(const jobhost_plugin *d, char *why, size_t size) {
  size_t ntasks = 0, npackages = 0;
  int rc;

  if (d->magic != JOBHOST_PLUGIN_MAGIC)
    return why_set(why, size, JOBHOST_EBADMAGIC,
                   "bad magic 0x%08x (expected 0x%08x): not a jobhost plugin "
                   "descriptor",
                   (unsigned)d->magic, (unsigned)JOBHOST_PLUGIN_MAGIC);
  if (d->abi_major != JOBHOST_ABI_MAJOR)
    return why_set(why, size, JOBHOST_EABI,
                   "built for plugin ABI %u.%u, host ABI is %u.%u (different "
                   "major version)",
                   (unsigned)d->abi_major, (unsigned)d->abi_minor,
                   (unsigned)JOBHOST_ABI_MAJOR, (unsigned)JOBHOST_ABI_MINOR);
  if (d->abi_minor > JOBHOST_ABI_MINOR)
    return why_set(why, size, JOBHOST_EABI,
                   "built for plugin ABI %u.%u, newer than host ABI %u.%u "
                   "(upgrade jobhost or rebuild the plugin)",
                   (unsigned)d->abi_major, (unsigned)d->abi_minor,
                   (unsigned)JOBHOST_ABI_MAJOR, (unsigned)JOBHOST_ABI_MINOR);
  if (d->struct_size < JOBHOST_PLUGIN_SIZE_1_0)
    return why_set(why, size, JOBHOST_EABI,
                   "descriptor is %u bytes, smaller than the %u bytes of ABI "
                   "%u.0",
                   (unsigned)d->struct_size, (unsigned)JOBHOST_PLUGIN_SIZE_1_0,
                   (unsigned)JOBHOST_ABI_MAJOR);
  if (d->name == NULL || d->name[0] == '\0')
    return why_set(why, size, JOBHOST_ECONFIG, "descriptor has no name");
  if (d->version == NULL || d->version[0] == '\0')
    return why_set(why, size, JOBHOST_ECONFIG, "plugin '%s' has no version",
                   d->name);

  if (d->task_types != NULL) {
    for (; d->task_types[ntasks].name != NULL; ntasks++) {
      const jobhost_task_type *t = &d->task_types[ntasks];
      if (ntasks >= JH_MAX_TASK_TYPES)
        return why_set(why, size, JOBHOST_ECONFIG,
                       "plugin '%s' declares more than %d task types "
                       "(missing JOBHOST_TASK_TYPE_END?)",
                       d->name, JH_MAX_TASK_TYPES);
      if (t->run == NULL)
        return why_set(why, size, JOBHOST_ECONFIG,
                       "task type '%s' has no run entry point", t->name);
      for (size_t j = 0; j < ntasks; j++)
        if (strcmp(d->task_types[j].name, t->name) == 0)
          return why_set(why, size, JOBHOST_ECONFIG,
                         "task type '%s' is declared twice", t->name);
      if (t->validate != NULL && d->abi_minor < 2)
        return needs_minor(why, size, 2, d->abi_minor, t->name,
                           "the validate entry point");
      rc = check_params(t->params, d->abi_minor, why, size, t->name, 0);
      if (rc != 0)
        return rc;
    }
  }
  if (d->packages != NULL) {
    for (; d->packages[npackages].name != NULL; npackages++) {
      const jobhost_package *p = &d->packages[npackages];
      if (npackages >= JH_MAX_PACKAGES)
        return why_set(why, size, JOBHOST_ECONFIG,
                       "plugin '%s' declares more than %d packages "
                       "(missing JOBHOST_PACKAGE_END?)",
                       d->name, JH_MAX_PACKAGES);
      if (p->export_tables == NULL && p->fulfill_order == NULL)
        return why_set(why, size, JOBHOST_ECONFIG,
                       "package '%s' has neither export_tables nor "
                       "fulfill_order",
                       p->name);
      for (size_t j = 0; j < npackages; j++)
        if (strcmp(d->packages[j].name, p->name) == 0)
          return why_set(why, size, JOBHOST_ECONFIG,
                         "package '%s' is declared twice", p->name);
      if (d->abi_minor < 2 && (p->fulfill_begin != NULL ||
                               p->fulfill_end != NULL || p->validate != NULL))
        return needs_minor(why, size, 2, d->abi_minor, p->name,
                           p->validate != NULL ? "the validate entry point"
                                               : "fulfill_begin/fulfill_end");
      rc = check_params(p->settings, d->abi_minor, why, size, p->name, 1);
      if (rc != 0)
        return rc;
    }
  }
  if (ntasks == 0 && npackages == 0)
    return why_set(why, size, JOBHOST_ECONFIG,
                   "plugin '%s' provides no task type and no package", d->name);
  return 0;
}

/* ---- registry ---- */

static int refuse(jh_registry *reg, const char *path, const char *fmt, ...)
    JOBHOST_PRINTF(3, 4);
static int refuse(jh_registry *reg, const char *path, const char *fmt, ...) {
  char reason[512];
  jh_refusal *grown;
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(reason, sizeof(reason), fmt, ap);
  va_end(ap);
  grown = realloc(reg->refusals, (reg->nrefusals + 1) * sizeof(*grown));
  if (grown == NULL)
    return -ENOMEM;
  reg->refusals = grown;
  grown[reg->nrefusals].path = strdup(path);
  grown[reg->nrefusals].reason = strdup(reason);
  if (grown[reg->nrefusals].path == NULL ||
      grown[reg->nrefusals].reason == NULL) {
    free(grown[reg->nrefusals].path);
    free(grown[reg->nrefusals].reason);
    return -ENOMEM;
  }
  reg->nrefusals++;
  return 0;
}

const jobhost_task_type *jh_registry_task_type(const jh_registry *reg,
                                               const char *name,
                                               const jh_plugin **owner) {
  for (size_t i = 0; i < reg->nplugins; i++) {
    const jobhost_task_type *t = reg->plugins[i].desc->task_types;
    for (size_t j = 0; t != NULL && t[j].name != NULL; j++)
      if (strcmp(t[j].name, name) == 0) {
        if (owner != NULL)
          *owner = &reg->plugins[i];
        return &t[j];
      }
  }
  return NULL;
}

const jobhost_package *jh_registry_package(const jh_registry *reg,
                                           const char *name,
                                           const jh_plugin **owner) {
  for (size_t i = 0; i < reg->nplugins; i++) {
    const jobhost_package *p = reg->plugins[i].desc->packages;
    for (size_t j = 0; p != NULL && p[j].name != NULL; j++)
      if (strcmp(p[j].name, name) == 0) {
        if (owner != NULL)
          *owner = &reg->plugins[i];
        return &p[j];
      }
  }
  return NULL;
}

/* Returns a reason (static or in buf) when the descriptor claims a name
 * already claimed, else NULL. */
static const char *find_clash(const jh_registry *reg, const jobhost_plugin *d,
                              char *buf, size_t size) {
  const jh_plugin *owner = NULL;

  for (size_t i = 0; i < reg->nplugins; i++)
    if (strcmp(reg->plugins[i].desc->name, d->name) == 0) {
      snprintf(buf, size, "plugin name '%s' is already used by %s", d->name,
               reg->plugins[i].path);
      return buf;
    }
  for (size_t j = 0; d->task_types != NULL && d->task_types[j].name; j++)
    if (jh_registry_task_type(reg, d->task_types[j].name, &owner) != NULL) {
      snprintf(buf, size,
               "task type '%s' is already provided by plugin '%s' (%s)",
               d->task_types[j].name, owner->desc->name, owner->path);
      return buf;
    }
  for (size_t j = 0; d->packages != NULL && d->packages[j].name; j++)
    if (jh_registry_package(reg, d->packages[j].name, &owner) != NULL) {
      snprintf(buf, size,
               "connector package '%s' is already provided by plugin '%s' (%s)",
               d->packages[j].name, owner->desc->name, owner->path);
      return buf;
    }
  return NULL;
}

/* 0 when `path` is safe to load from; else a refusal is recorded and 1 is
 * returned (or -ENOMEM). A missing file is fine when `optional`. */
static int check_file_mode(jh_registry *reg, const char *shown,
                           const char *path, int optional) {
  struct stat st;
  int rc;
  if (stat(path, &st) != 0) {
    if (optional && errno == ENOENT)
      return 0;
    rc = refuse(reg, shown, "cannot stat %s: %s", path, strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    rc = refuse(reg, shown, "%s is not a regular file", path);
  } else if (st.st_mode & S_IWOTH) {
    rc = refuse(reg, shown,
                "%s is writable by others (mode %04o); refusing to load it",
                path, (unsigned)(st.st_mode & 07777));
  } else {
    return 0;
  }
  return rc < 0 ? rc : 1;
}

static int has_elf_header(const char *path) {
  unsigned char magic[4];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t got;
  if (fd < 0)
    return 0;
  got = read(fd, magic, sizeof(magic));
  close(fd);
  return got == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' &&
         magic[3] == 'F';
}

/* libtool archives name their shared object on a dlname='...' line. */
static int la_dlname(const char *path, char *out, size_t size) {
  char line[1024];
  FILE *f = fopen(path, "re");
  int found = 0;
  if (f == NULL)
    return 0;
  while (!found && fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, "dlname='", 8) == 0) {
      char *end = strchr(line + 8, '\'');
      if (end != NULL && end > line + 8 && (size_t)(end - (line + 8)) < size) {
        memcpy(out, line + 8, (size_t)(end - (line + 8)));
        out[end - (line + 8)] = '\0';
        found = 1;
      }
    }
  }
  fclose(f);
  return found;
}

/* How long a probe may take before its plugin is refused (5 s; the
 * environment variable JOBHOST_PLUGIN_PROBE_TIMEOUT_MS changes it, for
 * tests above all). */
#define PROBE_TIMEOUT_MS 5000

static int probe_timeout_ms(void) {
  const char *env = getenv("JOBHOST_PLUGIN_PROBE_TIMEOUT_MS");
  char *end = NULL;
  long v;
  if (env == NULL || *env == '\0')
    return PROBE_TIMEOUT_MS;
  errno = 0;
  v = strtol(env, &end, 10);
  if (errno != 0 || *end != '\0' || v <= 0 || v > 3600000)
    return PROBE_TIMEOUT_MS;
  return (int)v;
}

static int64_t probe_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait up to timeout_ms for the probe's byte (or its end). Returns 1 for
 * the byte, 0 when the pipe closed without one, -1 on timeout. */
static int probe_wait(int fd, int timeout_ms) {
  int64_t deadline = probe_now_ms() + timeout_ms;
  for (;;) {
    struct pollfd pfd = {fd, POLLIN, 0};
    int64_t left = deadline - probe_now_ms();
    int n;
    char byte;
    ssize_t got;
    if (left < 0)
      left = 0;
    n = poll(&pfd, 1, (int)left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n == 0)
      return -1;
    if (n < 0)
      return 0;
    do
      got = read(fd, &byte, 1);
    while (got < 0 && errno == EINTR);
    return got == 1;
  }
}

/* Open the module in a child process and report how that went: 0 when
 * the child got back from loading it (whether or not the module is
 * acceptable: the host's own load says why not), else a reason in why.
 * The child says it got back by writing one byte: a constructor that
 * calls exit(0) is caught too, and one that never returns is killed when
 * the probe's time is up. */
static int probe_load(const char *path, char *why, size_t size) {
  int status, p[2], got, timeout = probe_timeout_ms();
  pid_t pid;

  if (pipe2(p, O_CLOEXEC) != 0)
    return 0; /* cannot probe: load as usual */
  fflush(NULL);
  pid = fork();
  if (pid < 0) {
    close(p[0]);
    close(p[1]);
    return 0;
  }
  if (pid == 0) {
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
    int fd = open("/dev/null", O_WRONLY);
    for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
      signal(fatal[i], SIG_DFL); /* a crash shows as what it is */
    close(p[0]);
    if (fd >= 0) { /* whatever a constructor prints is not ours to show */
      dup2(fd, 1);
      dup2(fd, 2);
    }
    (void)lt_dlopen(path);
    (void)!write(p[1], "k", 1);
    _exit(0);
  }
  close(p[1]);
  got = probe_wait(p[0], timeout);
  close(p[0]);
  if (got < 0)
    kill(pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return 0;
  if (got == 1)
    return 0;
  if (got < 0)
    snprintf(why, size,
             "did not finish loading within %d ms (a constructor that never "
             "returns?): the probe was killed",
             timeout);
  else if (WIFSIGNALED(status))
    snprintf(why, size, "crashed while loading (signal %d, %s)",
             WTERMSIG(status), strsignal(WTERMSIG(status)));
  else
    snprintf(why, size, "ended the process while loading (exit status %d)",
             WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return -1;
}

static int load_one(jh_registry *reg, const char *dir, const char *file) {
  char path[PATH_MAX], so[PATH_MAX], dlname[256], why[512];
  const char *ext = strrchr(file, '.');
  int is_la = ext != NULL && strcmp(ext, ".la") == 0;
  const jobhost_plugin *d;
  lt_dladvise advise;
  lt_dlhandle h;
  jh_plugin *grown;
  int rc;

  if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
    return refuse(reg, file, "path too long");
  rc = check_file_mode(reg, path, path, 0);
  if (rc != 0)
    return rc < 0 ? rc : 0;
  if (is_la) {
    if (!la_dlname(path, dlname, sizeof(dlname)) || strchr(dlname, '/'))
      return refuse(reg, path, "not a libtool module (no usable dlname)");
    /* Uninstalled modules live in .libs/, installed ones beside the .la. */
    snprintf(so, sizeof(so), "%s/.libs/%s", dir, dlname);
    if ((rc = check_file_mode(reg, path, so, 1)) != 0)
      return rc < 0 ? rc : 0;
    snprintf(so, sizeof(so), "%s/%s", dir, dlname);
    if ((rc = check_file_mode(reg, path, so, 1)) != 0)
      return rc < 0 ? rc : 0;
  } else if (!has_elf_header(path)) {
    return refuse(reg, path, "not a shared object (no ELF header)");
  }

  /* Loading runs the plugin's constructors: try it in a child first, so a
   * plugin that crashes or exits while loading is refused, not fatal. */
  if (probe_load(path, why, sizeof(why)) != 0)
    return refuse(reg, path, "%s", why);
  if (lt_dladvise_init(&advise) != 0)
    return refuse(reg, path, "libltdl: %s", lt_dlerror());
  lt_dladvise_local(&advise);
  h = lt_dlopenadvise(path, advise);
  lt_dladvise_destroy(&advise);
  if (h == NULL) {
    const char *err = lt_dlerror(); /* cache before anything else runs */
    return refuse(reg, path, "cannot load as a shared object: %s",
                  err ? err : "unknown libltdl error");
  }
  d = (const jobhost_plugin *)lt_dlsym(h, JOBHOST_PLUGIN_SYMBOL);
  if (d == NULL) {
    lt_dlclose(h);
    return refuse(reg, path,
                  "no %s symbol: not a jobhost plugin (use "
                  "JOBHOST_PLUGIN_DEFINE)",
                  JOBHOST_PLUGIN_SYMBOL);
  }
  if (jh_descriptor_check(d, why, sizeof(why)) != 0 ||
      find_clash(reg, d, why, sizeof(why)) != NULL) {
    lt_dlclose(h);
    return refuse(reg, path, "%s", why);
  }

  grown = realloc(reg->plugins, (reg->nplugins + 1) * sizeof(*grown));
  if (grown == NULL) {
    lt_dlclose(h);
    return -ENOMEM;
  }
  reg->plugins = grown;
  grown[reg->nplugins].path = strdup(path);
  if (grown[reg->nplugins].path == NULL) {
    lt_dlclose(h);
    return -ENOMEM;
  }
  grown[reg->nplugins].desc = d;
  grown[reg->nplugins].handle = h;
  reg->nplugins++;
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Candidate modules of one directory: one file per stem, the .la when a
 * libtool archive sits beside its .so (libltdl then reads it). */
static int scan_dir(jh_registry *reg, const char *dir) {
  struct stat st;
  DIR *dh;
  struct dirent *e;
  char **names = NULL;
  size_t n = 0;
  int rc = 0;

  if (stat(dir, &st) != 0) {
    if (errno == ENOENT)
      return 0;
    return refuse(reg, dir, "cannot read plugin directory: %s",
                  strerror(errno));
  }
  if (!S_ISDIR(st.st_mode))
    return refuse(reg, dir, "plugin directory is not a directory");
  if (st.st_mode & S_IWOTH)
    return refuse(reg, dir,
                  "plugin directory is writable by others (mode %04o); "
                  "no plugin is loaded from it",
                  (unsigned)(st.st_mode & 07777));
  dh = opendir(dir);
  if (dh == NULL)
    return refuse(reg, dir, "cannot read plugin directory: %s",
                  strerror(errno));
  while (rc == 0 && (e = readdir(dh)) != NULL) {
    size_t len = strlen(e->d_name);
    if (e->d_name[0] == '.' || len < 4)
      continue;
    if (strcmp(e->d_name + len - 3, ".so") != 0 &&
        strcmp(e->d_name + len - 3, ".la") != 0)
      continue;
    rc = strv_push(&names, &n, e->d_name, len);
  }
  closedir(dh);
  if (rc == 0 && n > 0)
    qsort(names, n, sizeof(*names), cmp_str);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    size_t len = strlen(names[i]);
    /* x.la sorts before x.so: skip the .so when its .la was seen. */
    if (i > 0 && strcmp(names[i] + len - 3, ".so") == 0 &&
        strlen(names[i - 1]) == len &&
        strncmp(names[i - 1], names[i], len - 3) == 0)
      continue;
    rc = load_one(reg, dir, names[i]);
  }
  jh_strv_free(names, n);
  return rc;
}

int jh_registry_load(const char *const *dirs, size_t ndirs, jh_registry **out) {
  jh_registry *reg;
  char **seen = NULL;
  size_t nseen = 0;
  int rc = 0;

  if (lt_dlinit() != 0)
    return -ELIBACC;
  reg = calloc(1, sizeof(*reg));
  if (reg == NULL) {
    lt_dlexit();
    return -ENOMEM;
  }
  for (size_t i = 0; rc == 0 && i < ndirs; i++) {
    char real[PATH_MAX];
    int dup = 0;
    rc = strv_push(&reg->dirs, &reg->ndirs, dirs[i], strlen(dirs[i]));
    if (rc != 0)
      break;
    /* The same directory named twice is scanned once. */
    if (realpath(dirs[i], real) != NULL) {
      for (size_t j = 0; j < nseen; j++)
        dup |= strcmp(seen[j], real) == 0;
      if (dup)
        continue;
      rc = strv_push(&seen, &nseen, real, strlen(real));
      if (rc != 0)
        break;
    }
    rc = scan_dir(reg, dirs[i]);
  }
  jh_strv_free(seen, nseen);
  if (rc != 0) {
    jh_registry_free(reg);
    return rc;
  }
  *out = reg;
  return 0;
}

void jh_registry_keep_only(jh_registry *reg,
                           const jobhost_task_type *const *used, size_t nused,
                           const jobhost_package *const *pkgs, size_t npkgs) {
  for (size_t i = 0; i < reg->nplugins; i++) {
    const jobhost_task_type *t = reg->plugins[i].desc->task_types;
    const jobhost_package *pk = reg->plugins[i].desc->packages;
    int keep = 0;
    for (size_t j = 0; !keep && t != NULL && t[j].name != NULL; j++)
      for (size_t k = 0; !keep && k < nused; k++)
        keep = used[k] == &t[j];
    for (size_t j = 0; !keep && pk != NULL && pk[j].name != NULL; j++)
      for (size_t k = 0; !keep && k < npkgs; k++)
        keep = pkgs[k] == &pk[j];
    if (!keep && reg->plugins[i].handle != NULL) {
      lt_dlclose((lt_dlhandle)reg->plugins[i].handle);
      reg->plugins[i].handle = NULL;
    }
  }
}

void jh_registry_free(jh_registry *reg) {
  if (reg == NULL)
    return;
  for (size_t i = reg->nplugins; i-- > 0;) {
    if (reg->plugins[i].handle != NULL)
      lt_dlclose((lt_dlhandle)reg->plugins[i].handle);
    free(reg->plugins[i].path);
  }
  for (size_t i = 0; i < reg->nrefusals; i++) {
    free(reg->refusals[i].path);
    free(reg->refusals[i].reason);
  }
  free(reg->plugins);
  free(reg->refusals);
  jh_strv_free(reg->dirs, reg->ndirs);
  free(reg);
  lt_dlexit();
}
