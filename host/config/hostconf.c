/*
 * hostconf.c — see hostconf.h.
 *
 * The file is small: it is read whole (at most HOSTCONF_MAX bytes),
 * composed into one libyaml document and walked with yaml_walk, like a
 * pipeline. A glob in `pipelines` that matches nothing is no error (a
 * folder of pipelines may be empty); a plain file that does not exist is.
 */
#include "config.h"

#include "hostconf.h"
#include "yaml_walk.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#ifndef JOBHOST_CONFIG_PATH
#error "JOBHOST_CONFIG_PATH must be defined by the build"
#endif

#define HOSTCONF_MAX (1 << 20)
#define PIPELINES_MAX 1000

static const char *const keys[] = {"home",         "plugin_dirs",
                                   "pipelines",    "max_parallel_jobs",
                                   "grace_period", "time_zone",
                                   "log_level"};
static const char *const levels[] = {"debug", "information", "warning",
                                     "error"};

const char *jh_hostconf_default_path(void) { return JOBHOST_CONFIG_PATH; }

const char *jh_hostconf_path(const char *cli, int *named) {
  const char *env = getenv("JOBHOST_CONFIG");
  *named = 1;
  if (cli != NULL)
    return cli;
  if (env != NULL && env[0] != '\0')
    return env;
  *named = 0;
  return JOBHOST_CONFIG_PATH;
}

void jh_hostconf_clear(jh_hostconf *c) {
  if (c == NULL)
    return;
  free(c->path);
  free(c->home);
  for (size_t i = 0; i < c->nplugin_dirs; i++)
    free(c->plugin_dirs[i]);
  free(c->plugin_dirs);
  for (size_t i = 0; i < c->npipelines; i++)
    free(c->pipelines[i]);
  free(c->pipelines);
  free(c->time_zone);
  memset(c, 0, sizeof(*c));
}

static int has_wildcard(const char *s) { return strpbrk(s, "*?[") != NULL; }

static int push(jh_yw *w, char ***v, size_t *n, char *s) {
  char **nv;
  if (s == NULL)
    return -1;
  for (size_t i = 0; i < *n; i++)
    if (strcmp((*v)[i], s) == 0) {
      free(s); /* a file named twice is scheduled once */
      return 0;
    }
  nv = realloc(*v, (*n + 1) * sizeof(*nv));
  if (nv == NULL) {
    free(s);
    w->oom = 1;
    return -1;
  }
  nv[(*n)++] = s;
  *v = nv;
  return 0;
}

static void want_pipelines(jh_yw *w, const jh_yfile *f, yaml_node_t *v,
                           jh_hostconf *c) {
  long count = 0;
  yaml_node_t **items = jh_yw_want_list(w, f, v, "pipelines", &count);
  for (long i = 0; items != NULL && i < count; i++) {
    const char *text = jh_yw_scalar(items[i]);
    char *abs = jh_yw_resolve_path(w, f->name, text);
    struct stat st;
    if (abs == NULL)
      break;
    if (!has_wildcard(text)) {
      int e = stat(abs, &st) != 0 ? errno : S_ISREG(st.st_mode) ? 0 : EISDIR;
      if (e != 0)
        jh_yw_err_node(w, f, items[i],
                       "pipeline '%s' is not a file (%s): expected a "
                       "pipeline file or a glob such as pipelines.d/*.yaml",
                       JH_Q(text), strerror(e));
      else {
        push(w, &c->pipelines, &c->npipelines, abs);
        abs = NULL;
      }
    } else {
      glob_t g;
      int rc = glob(abs, 0, NULL, &g);
      if (rc == 0)
        for (size_t k = 0; k < g.gl_pathc; k++) {
          if (stat(g.gl_pathv[k], &st) != 0 || !S_ISREG(st.st_mode))
            continue;
          if (push(w, &c->pipelines, &c->npipelines,
                   jh_yw_xstrdup(w, g.gl_pathv[k])) != 0)
            break;
        }
      else if (rc == GLOB_NOSPACE)
        w->oom = 1;
      if (rc != GLOB_NOMATCH)
        globfree(&g);
    }
    free(abs);
    if (c->npipelines > PIPELINES_MAX) {
      jh_yw_err_node(w, f, items[i], "more than %d pipelines", PIPELINES_MAX);
      break;
    }
  }
  free(items);
}

static void want_zone(jh_yw *w, const jh_yfile *f, yaml_node_t *v,
                      jh_hostconf *c) {
  const char *tzdir = getenv("TZDIR");
  char path[PATH_MAX];
  const char *s;
  if (jh_yw_want_string(w, f, v, "time_zone", &c->time_zone) != 0)
    return;
  s = c->time_zone;
  if (strcmp(s, "UTC") == 0 || strcmp(s, "localtime") == 0)
    return;
  if (s[0] == '\0' || s[0] == '/' || strstr(s, "..") != NULL ||
      snprintf(path, sizeof(path), "%s/%s",
               tzdir != NULL && tzdir[0] != '\0' ? tzdir
                                                 : "/usr/share/zoneinfo",
               s) >= (int)sizeof(path) ||
      access(path, R_OK) != 0)
    jh_yw_err_node(w, f, v,
                   "unknown time zone '%s' for 'time_zone': expected UTC, "
                   "localtime or a zone name of the system's zone files "
                   "such as Europe/Paris",
                   JH_Q(s));
}

static void walk(jh_yw *w, const jh_yfile *f, jh_hostconf *c) {
  yaml_node_t *root = yaml_document_get_root_node(f->doc);
  size_t ne = 0, choice;
  jh_yentry *es = jh_yw_want_mapping(
      w, f, root, "a mapping of host settings (home, pipelines, ...)", &ne);
  for (size_t i = 0; es != NULL && i < ne; i++) {
    const char *k = es[i].key;
    yaml_node_t *v = es[i].vnode;
    if (strcmp(k, "home") == 0)
      jh_yw_want_path(w, f, v, k, &c->home);
    else if (strcmp(k, "plugin_dirs") == 0) {
      long count = 0;
      yaml_node_t **items = jh_yw_want_list(w, f, v, k, &count);
      for (long j = 0; items != NULL && j < count; j++)
        if (push(w, &c->plugin_dirs, &c->nplugin_dirs,
                 jh_yw_resolve_path(w, f->name, jh_yw_scalar(items[j]))) != 0)
          break;
      free(items);
    } else if (strcmp(k, "pipelines") == 0)
      want_pipelines(w, f, v, c);
    else if (strcmp(k, "max_parallel_jobs") == 0)
      jh_yw_want_int(w, f, v, k, 1, &c->max_parallel_jobs);
    else if (strcmp(k, "grace_period") == 0)
      jh_yw_want_duration(w, f, v, k, &c->grace_ms);
    else if (strcmp(k, "time_zone") == 0)
      want_zone(w, f, v, c);
    else if (strcmp(k, "log_level") == 0) {
      if (jh_yw_want_choice(w, f, v, k, levels, NELEM(levels), &choice) == 0)
        c->log_level = (jh_hc_level)choice;
    } else
      jh_yw_unknown_key(w, f, &es[i], keys, NELEM(keys));
  }
  free(es);
}

/* The whole file, NUL-terminated, or NULL with errno. */
static char *slurp(const char *path, size_t *len) {
  FILE *fp = fopen(path, "rb");
  char *buf;
  size_t n;
  if (fp == NULL)
    return NULL;
  buf = malloc(HOSTCONF_MAX + 1);
  if (buf == NULL) {
    fclose(fp);
    errno = ENOMEM;
    return NULL;
  }
  n = fread(buf, 1, HOSTCONF_MAX + 1, fp);
  if (ferror(fp) || n > HOSTCONF_MAX) {
    int e = ferror(fp) ? EIO : EFBIG;
    fclose(fp);
    free(buf);
    errno = e;
    return NULL;
  }
  fclose(fp);
  buf[n] = '\0';
  *len = n;
  return buf;
}

int jh_hostconf_load(const char *path, jh_hostconf *out, jh_diags *diags) {
  jh_yw w = {diags, 0};
  yaml_parser_t ps;
  yaml_document_t doc;
  jh_yfile f = {path, &doc, NULL, 0};
  size_t errors = diags->nerrors, len = 0;
  char *text;
  struct stat st;

  memset(out, 0, sizeof(*out));
  if (stat(path, &st) != 0 && errno == ENOENT)
    return -ENOENT;
  text = slurp(path, &len);
  if (text == NULL) {
    jh_diag_error(diags, path, 0, 0, "cannot read the host configuration: %s",
                  errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
    return JOBHOST_ECONFIG;
  }
  f.text = text;
  f.len = len;
  out->max_parallel_jobs = JH_HOSTCONF_DEFAULT_PARALLEL;
  out->grace_ms = JH_HOSTCONF_DEFAULT_GRACE_MS;
  out->log_level = JH_HC_INFORMATION;
  out->path = jh_yw_xstrdup(&w, path);
  if (!yaml_parser_initialize(&ps)) {
    w.oom = 1;
  } else {
    yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
    if (!yaml_parser_load(&ps, &doc)) {
      jh_diag_error(diags, path, (int)ps.problem_mark.line + 1,
                    (int)ps.problem_mark.column + 1, "invalid YAML: %s",
                    ps.problem ? ps.problem : "syntax error");
    } else {
      if (yaml_document_get_root_node(&doc) == NULL)
        jh_diag_error(diags, path, 1, 1,
                      "file is empty: expected a mapping of host settings "
                      "(home, pipelines, ...)");
      else
        walk(&w, &f, out);
      yaml_document_delete(&doc);
    }
    yaml_parser_delete(&ps);
  }
  free(text);
  if (w.oom)
    jh_diag_error(diags, path, 0, 0, "out of memory");
  if (w.oom || diags->nerrors > errors) {
    jh_hostconf_clear(out);
    return JOBHOST_ECONFIG;
  }
  return 0;
}
