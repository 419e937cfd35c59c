/*
 * abi10_counter.c — a plugin built against the frozen ABI 1.0 headers of
 * tests/sdk/abi-1.0/include only. Its one task type counts: it adds 1 to
 * the counter "runs" and sets "abi_minor_built" to the minor it was built
 * with, so a test can see that the host ran it and read what it reported.
 */
#include <jobhost/jobhost.h>

#if JOBHOST_ABI_MAJOR != 1 || JOBHOST_ABI_MINOR != 0
#error "abi10_counter must be built against the ABI 1.0 headers"
#endif

static const jobhost_param counter_params[] = {
    {.name = "step",
     .type = JOBHOST_PARAM_INT,
     .default_value = "1",
     .help = "Added to the counter 'runs'"},
    JOBHOST_PARAM_END};

static int counter_run(jobhost_ctx *ctx) {
  const jobhost_services *svc = ctx->svc;
  const char *step = svc->param(ctx, "step");
  long long n = 0;

  for (const char *p = step; p != NULL && *p >= '0' && *p <= '9'; p++)
    n = n * 10 + (*p - '0');
  svc->counter_add(ctx, "runs", n);
  svc->counter_set(ctx, "abi_minor_built", JOBHOST_ABI_MINOR);
  svc->set_message(ctx, "counted %lld", n);
  return 0;
}

static const jobhost_task_type counter_types[] = {
    {.name = "Abi10CounterTask",
     .description = "Adds step to the counter 'runs'",
     .params = counter_params,
     .run = counter_run},
    JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_DEFINE("abi10_counter", "1.0.0",
                      "Built against the ABI 1.0 headers", counter_types, NULL);
