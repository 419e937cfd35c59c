/*
 * fuzz_model.c — fuzz target of the model loader (host/config/model_load.c):
 * the input is a model file, included by a fixed pipeline whose task
 * names a connection and a connector of the example model, and loaded
 * against the built-in plugins.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "fuzz_registry.h"
#include "pipeline.h"

static const char pipeline_text[] = "version: 1\n"
                                    "include: [model.yaml]\n"
                                    "job:\n"
                                    "  id: Fuzz_Job\n"
                                    "  tasks:\n"
                                    "    - id: Fuzz_Export\n"
                                    "      type: ExportTask\n"
                                    "      connection: HR_Export\n"
                                    "    - id: Fuzz_Prepare\n"
                                    "      type: PrepareSynchronizationTask\n"
                                    "      connector: HR\n"
                                    "      depends_on: [Fuzz_Export]\n"
                                    "    - id: Fuzz_Synchronize\n"
                                    "      type: SynchronizeTask\n"
                                    "      connector: HR\n"
                                    "      depends_on: [Fuzz_Prepare]\n";

static char pipeline_path[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  (void)jh_fuzz_registry();
  strncpy(pipeline_path,
          jh_fuzz_file("pipeline.yaml", (const uint8_t *)pipeline_text,
                       sizeof(pipeline_text) - 1),
          sizeof(pipeline_path) - 1);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  jh_diags diags = JH_DIAGS_INIT;
  jh_pipeline *p = NULL;
  (void)jh_fuzz_file("model.yaml", data, size);
  (void)jh_pipeline_load(pipeline_path, jh_fuzz_registry(), &p, &diags);
  jh_pipeline_free(p);
  jh_diags_clear(&diags);
  return 0;
}
