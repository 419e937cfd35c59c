/*
 * cli_plugins.c — `jobhost plugins [--json] [--plugin-dir DIR]...`
 *
 * Lists every plugin found (file, name, version, ABI, task types with their
 * parameters, connector packages) and every refusal with its reason.
 * Exit status 0 when the directories could be scanned (refusals are part
 * of the listing), 2 on bad usage, 1 when scanning itself failed.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "loader.h"

static void plugins_usage(FILE *out) {
  fprintf(out, "Usage: jobhost plugins [--json] [--plugin-dir DIR]...\n"
               "\n"
               "  --json             print JSON instead of text\n"
               "  --plugin-dir DIR   search DIR (repeatable; replaces the "
               "default search path)\n");
}

/* ---- JSON ---- */

static json_t *params_json(const jobhost_param *params) {
  json_t *arr = json_array();
  for (size_t i = 0; params != NULL && params[i].name != NULL; i++) {
    const jobhost_param *p = &params[i];
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(p->name));
    json_object_set_new(o, "type",
                        json_string(jobhost_param_type_name(p->type)));
    json_object_set_new(o, "required", json_boolean(p->required));
    json_object_set_new(o, "default",
                        p->default_value ? json_string(p->default_value)
                                         : json_null());
    json_object_set_new(o, "help", json_string(p->help ? p->help : ""));
    if (p->choices != NULL &&
        (p->type == JOBHOST_PARAM_ENUM || p->type == JOBHOST_PARAM_LIST)) {
      json_t *choices = json_array();
      for (size_t j = 0; p->choices[j] != NULL; j++)
        json_array_append_new(choices, json_string(p->choices[j]));
      json_object_set_new(o, "choices", choices);
    }
    if (p->range != NULL) { /* ABI 1.2 */
      json_t *range = json_object();
      json_object_set_new(range, "min", json_integer(p->range->min));
      json_object_set_new(range, "max", json_integer(p->range->max));
      json_object_set_new(o, "range", range);
    }
    if (p->pattern != NULL)
      json_object_set_new(o, "pattern", json_string(p->pattern));
    if (p->secret)
      json_object_set_new(o, "secret", json_true());
    json_array_append_new(arr, o);
  }
  return arr;
}

static json_t *plugin_json(const jh_plugin *pl) {
  const jobhost_plugin *d = pl->desc;
  json_t *o = json_object(), *tasks = json_array(), *packages = json_array();
  char abi[32];

  snprintf(abi, sizeof(abi), "%u.%u", (unsigned)d->abi_major,
           (unsigned)d->abi_minor);
  json_object_set_new(o, "file", json_string(pl->path));
  json_object_set_new(o, "name", json_string(d->name));
  json_object_set_new(o, "version", json_string(d->version));
  json_object_set_new(o, "abi", json_string(abi));
  json_object_set_new(o, "description",
                      json_string(d->description ? d->description : ""));
  for (size_t i = 0; d->task_types != NULL && d->task_types[i].name; i++) {
    const jobhost_task_type *t = &d->task_types[i];
    json_t *to = json_object();
    json_object_set_new(to, "name", json_string(t->name));
    json_object_set_new(to, "description",
                        json_string(t->description ? t->description : ""));
    json_object_set_new(to, "implemented",
                        json_boolean(
                            !(t->flags & JOBHOST_TASK_NOT_IMPLEMENTED)));
    json_object_set_new(to, "can_block",
                        json_boolean(t->flags & JOBHOST_TASK_CAN_BLOCK));
    json_object_set_new(to, "agent_side",
                        json_boolean(t->flags & JOBHOST_TASK_AGENT_SIDE));
    json_object_set_new(to, "parameters", params_json(t->params));
    json_array_append_new(tasks, to);
  }
  for (size_t i = 0; d->packages != NULL && d->packages[i].name; i++) {
    const jobhost_package *p = &d->packages[i];
    json_t *po = json_object();
    json_object_set_new(po, "name", json_string(p->name));
    json_object_set_new(po, "description",
                        json_string(p->description ? p->description : ""));
    json_object_set_new(po, "export", json_boolean(p->export_tables != NULL));
    json_object_set_new(po, "fulfill", json_boolean(p->fulfill_order != NULL));
    json_object_set_new(po, "settings", params_json(p->settings));
    json_array_append_new(packages, po);
  }
  json_object_set_new(o, "task_types", tasks);
  json_object_set_new(o, "packages", packages);
  return o;
}

static int print_json(const jh_registry *reg) {
  json_t *root = json_object(), *dirs = json_array(), *plugins = json_array(),
         *refused = json_array(), *host = json_object();
  char abi[32];
  int rc;

  snprintf(abi, sizeof(abi), "%d.%d", JOBHOST_ABI_MAJOR, JOBHOST_ABI_MINOR);
  json_object_set_new(host, "version", json_string(PACKAGE_VERSION));
  json_object_set_new(host, "abi", json_string(abi));
  json_object_set_new(root, "host", host);
  for (size_t i = 0; i < reg->ndirs; i++)
    json_array_append_new(dirs, json_string(reg->dirs[i]));
  json_object_set_new(root, "directories", dirs);
  for (size_t i = 0; i < reg->nplugins; i++)
    json_array_append_new(plugins, plugin_json(&reg->plugins[i]));
  json_object_set_new(root, "plugins", plugins);
  for (size_t i = 0; i < reg->nrefusals; i++) {
    json_t *r = json_object();
    json_object_set_new(r, "file", json_string(reg->refusals[i].path));
    json_object_set_new(r, "reason", json_string(reg->refusals[i].reason));
    json_array_append_new(refused, r);
  }
  json_object_set_new(root, "refused", refused);
  rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  fputc('\n', stdout);
  json_decref(root);
  return rc == 0 ? 0 : -1;
}

/* ---- text ---- */

static void print_params_text(const jobhost_param *params) {
  for (size_t i = 0; params != NULL && params[i].name != NULL; i++) {
    const jobhost_param *p = &params[i];
    char spec[96];
    if (p->required)
      snprintf(spec, sizeof(spec), "required");
    else if (p->default_value)
      snprintf(spec, sizeof(spec), "default %s", p->default_value);
    else
      snprintf(spec, sizeof(spec), "optional");
    printf("      %-38s %-6s %-16s %s\n", p->name,
           jobhost_param_type_name(p->type), spec, p->help ? p->help : "");
    if (p->choices != NULL &&
        (p->type == JOBHOST_PARAM_ENUM || p->type == JOBHOST_PARAM_LIST)) {
      printf("      %-38s %s:", "",
             p->type == JOBHOST_PARAM_LIST ? "items one of" : "one of");
      for (size_t j = 0; p->choices[j] != NULL; j++)
        printf(" %s", p->choices[j]);
      printf("\n");
    }
    if (p->range != NULL)
      printf("      %-38s from %lld to %lld\n", "", (long long)p->range->min,
             (long long)p->range->max);
    if (p->pattern != NULL)
      printf("      %-38s matching %s\n", "", p->pattern);
  }
}

static void print_text(const jh_registry *reg) {
  printf("jobhost %s, plugin ABI %d.%d\nsearched:", PACKAGE_VERSION,
         JOBHOST_ABI_MAJOR, JOBHOST_ABI_MINOR);
  for (size_t i = 0; i < reg->ndirs; i++)
    printf(" %s", reg->dirs[i]);
  printf("\n");
  for (size_t i = 0; i < reg->nplugins; i++) {
    const jobhost_plugin *d = reg->plugins[i].desc;
    printf("\n%s %s (ABI %u.%u) %s\n  %s\n", d->name, d->version,
           (unsigned)d->abi_major, (unsigned)d->abi_minor, reg->plugins[i].path,
           d->description ? d->description : "");
    for (size_t j = 0; d->task_types != NULL && d->task_types[j].name; j++) {
      const jobhost_task_type *t = &d->task_types[j];
      printf("  task type %s%s%s\n", t->name,
             (t->flags & JOBHOST_TASK_NOT_IMPLEMENTED) ? " [not implemented]"
                                                       : "",
             (t->flags & JOBHOST_TASK_CAN_BLOCK) ? " [can block]" : "");
      print_params_text(t->params);
    }
    for (size_t j = 0; d->packages != NULL && d->packages[j].name; j++) {
      const jobhost_package *p = &d->packages[j];
      printf("  package %s (%s%s%s)\n", p->name,
             p->export_tables ? "export" : "",
             p->export_tables && p->fulfill_order ? ", " : "",
             p->fulfill_order ? "fulfill" : "");
      print_params_text(p->settings);
    }
  }
  if (reg->nplugins == 0)
    printf("\nno plugin found\n");
  if (reg->nrefusals > 0) {
    printf("\nrefused:\n");
    for (size_t i = 0; i < reg->nrefusals; i++)
      printf("  %s: %s\n", reg->refusals[i].path, reg->refusals[i].reason);
  }
}

int jh_cmd_plugins(int argc, char **argv) {
  static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                       {"plugin-dir", required_argument, NULL,
                                        'd'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char **cli_dirs = NULL;
  size_t ncli = 0;
  char **dirs = NULL;
  size_t ndirs = 0;
  jh_registry *reg = NULL;
  int json = 0, c, rc, status = JH_EXIT_OK;

  optind = 1;
  cli_dirs = calloc((size_t)argc, sizeof(*cli_dirs));
  if (cli_dirs == NULL) {
    fprintf(stderr, "jobhost plugins: out of memory\n");
    return JH_EXIT_ERROR;
  }
  while ((c = getopt_long(argc, argv, "jd:h", opts, NULL)) != -1) {
    switch (c) {
    case 'j':
      json = 1;
      break;
    case 'd':
      if (jh_cli_nonempty("plugins", "--plugin-dir", optarg, "a folder") != 0) {
        free(cli_dirs);
        return JH_EXIT_USAGE;
      }
      cli_dirs[ncli++] = optarg;
      break;
    case 'h':
      plugins_usage(stdout);
      free(cli_dirs);
      return JH_EXIT_OK;
    default:
      plugins_usage(stderr);
      free(cli_dirs);
      return JH_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "jobhost plugins: unexpected argument '%s'\n",
            argv[optind]);
    plugins_usage(stderr);
    free(cli_dirs);
    return JH_EXIT_USAGE;
  }
  if ((status = jh_cli_host_dirs("plugins", &cli_dirs, &ncli)) != 0) {
    free(cli_dirs);
    return status;
  }
  rc = jh_plugin_dirs(cli_dirs, ncli, &dirs, &ndirs);
  free(cli_dirs);
  if (rc == 0)
    rc = jh_registry_load((const char *const *)dirs, ndirs, &reg);
  if (rc != 0) {
    fprintf(stderr, "jobhost plugins: %s\n", jobhost_strerror(rc));
    jh_strv_free(dirs, ndirs);
    return JH_EXIT_ERROR;
  }
  if (json) {
    if (print_json(reg) != 0)
      status = JH_EXIT_ERROR;
  } else {
    print_text(reg);
  }
  if (fflush(stdout) != 0)
    status = JH_EXIT_ERROR;
  jh_registry_free(reg);
  jh_strv_free(dirs, ndirs);
  return status;
}
