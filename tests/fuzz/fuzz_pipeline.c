/*
 * fuzz_pipeline.c — fuzz target of the pipeline loader
 * (host/config/pipeline.c, with the YAML walker and the model sections): the
 * input is a pipeline file, loaded against the built-in plugins, and,
 * when it loads, its graph is built too.
 */
#include "config.h"

#include "fuzz.h"
#include "fuzz_registry.h"
#include "graph.h"
#include "pipeline.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  (void)jh_fuzz_registry();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  jh_diags diags = JH_DIAGS_INIT;
  jh_pipeline *p = NULL;
  const char *path = jh_fuzz_file("pipeline.yaml", data, size);
  if (jh_pipeline_load(path, jh_fuzz_registry(), &p, &diags) == 0 &&
      p != NULL) {
    jh_graph *g = NULL;
    if (jh_graph_build(p, &g, &diags) == 0)
      jh_graph_free(g);
  }
  jh_pipeline_free(p);
  jh_diags_clear(&diags);
  return 0;
}
