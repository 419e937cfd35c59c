/*
 * abi10_target.c — a plugin built against today's headers that targets
 * ABI 1.0 (JOBHOST_ABI_MIN_REQUIRED): its descriptor says 1.0, so a host
 * of ABI 1.0 would load it, and it uses only 1.0 services (using a newer
 * one does not compile: tests/sdk/abi_target.test).
 */
#define JOBHOST_ABI_MIN_REQUIRED JOBHOST_ABI_VERSION(1, 0)
#include <jobhost/jobhost.h>

#if JOBHOST_ABI_TARGET_MINOR != 0
#error "JOBHOST_ABI_MIN_REQUIRED did not set the target minor"
#endif

static int target_run(jobhost_ctx *ctx) {
  const jobhost_services *svc = ctx->svc;
  svc->counter_set(ctx, "target_minor", JOBHOST_ABI_TARGET_MINOR);
  svc->counter_set(ctx, "headers_minor", JOBHOST_ABI_MINOR);
  svc->set_message(ctx, "targets 1.0");
  return 0;
}

static const jobhost_task_type target_types[] = {
    {.name = "Abi10TargetTask",
     .description = "Targets ABI 1.0 with today's headers",
     .run = target_run},
    JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_DEFINE("abi10_target", "1.0.0",
                      "Targets ABI 1.0 with today's headers", target_types,
                      NULL);
