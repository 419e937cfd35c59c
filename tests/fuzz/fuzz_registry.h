/*
 * fuzz_registry.h — the built-in plugins' registry for the fuzz targets
 * that load pipelines (fuzz_registry.c).
 */
#ifndef JH_FUZZ_REGISTRY_H
#define JH_FUZZ_REGISTRY_H

#include "loader.h"

/* Loaded on first use from jh_fuzz_plugin_dir(); the process ends if it
 * cannot be. Owned here. */
const jh_registry *jh_fuzz_registry(void);

#endif /* JH_FUZZ_REGISTRY_H */
