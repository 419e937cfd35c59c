/*
 * fuzz_registry.c — the registry of the built-in plugins, loaded once
 * for the targets that load pipelines (task types and package settings
 * are checked against it), and freed at exit.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "fuzz_registry.h"

static jh_registry *registry;

static void free_registry(void) {
  jh_registry_free(registry);
  registry = NULL;
}

const jh_registry *jh_fuzz_registry(void) {
  const char *dirs[1];
  if (registry != NULL)
    return registry;
  dirs[0] = jh_fuzz_plugin_dir();
  if (jh_registry_load(dirs, 1, &registry) != 0 || registry == NULL) {
    fprintf(stderr, "fuzz: cannot load the plugins of %s\n", dirs[0]);
    exit(2);
  }
  atexit(free_registry);
  return registry;
}
