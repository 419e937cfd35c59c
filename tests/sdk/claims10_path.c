/*
 * claims10_path.c — a plugin that claims ABI 1.0 (JOBHOST_ABI_MIN_REQUIRED)
 * but declares a parameter of the path type, which 1.1 added, by its
 * number (the 1.0 headers have no name for it). The loader must refuse
 * it, naming the ABI the type needs: a host of ABI 1.0 would not know it.
 */
#define JOBHOST_ABI_MIN_REQUIRED JOBHOST_ABI_VERSION(1, 0)
#include <jobhost/jobhost.h>

static const jobhost_param claims_params[] = {
    {.name = "file", .type = (jobhost_param_type)6}, JOBHOST_PARAM_END};

static int claims_run(jobhost_ctx *ctx) {
  (void)ctx;
  return 0;
}

static const jobhost_task_type claims_types[] = {
    {.name = "ClaimsTask", .params = claims_params, .run = claims_run},
    JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_DEFINE("claims10_path", "1.0.0",
                      "Claims 1.0, uses a 1.1 parameter type", claims_types,
                      NULL);
