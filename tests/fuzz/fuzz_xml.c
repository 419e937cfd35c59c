/*
 * fuzz_xml.c — fuzz target of the XML importer (host/xml/xml_import.c and
 * host/xml/xml_read.c): the input is an Identity Manager configuration file,
 * imported with the built-in plugins' task types, strict or lenient (the
 * input's last byte, odd: lenient, so the file stays a file of its own),
 * and the YAML it makes is then loaded as a pipeline.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "fuzz_registry.h"
#include "pipeline.h"
#include "xml_import.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  (void)jh_fuzz_registry();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  jh_diags diags = JH_DIAGS_INIT;
  jh_xml_options opt;
  jh_pipeline *p = NULL;
  const char *path = jh_fuzz_file("config.xml", data, size);

  memset(&opt, 0, sizeof(opt));
  opt.lenient = size > 0 && (data[size - 1] & 1);
  (void)jh_xml_pipeline_load(path, jh_fuzz_registry(), &opt, &p, &diags);
  jh_pipeline_free(p);
  jh_diags_clear(&diags);
  return 0;
}
