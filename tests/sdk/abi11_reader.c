/*
 * abi11_reader.c — a plugin built against the frozen ABI 1.1 headers of
 * tests/sdk/abi-1.1/include only. It uses what 1.1 added: a path
 * parameter, the host_object service (checked with JOBHOST_SVC_HAS) and
 * the context's task_instance, and reports what it saw in counters.
 */
#include <jobhost/jobhost.h>

#if JOBHOST_ABI_MAJOR != 1 || JOBHOST_ABI_MINOR != 1
#error "abi11_reader must be built against the ABI 1.1 headers"
#endif

static const jobhost_param reader_params[] = {
    {.name = "file", .type = JOBHOST_PARAM_PATH, .help = "A file path"},
    JOBHOST_PARAM_END};

static int reader_run(jobhost_ctx *ctx) {
  const jobhost_services *svc = ctx->svc;
  const char *file = svc->param(ctx, "file");

  svc->counter_set(ctx, "abi_minor_built", JOBHOST_ABI_MINOR);
  svc->counter_set(ctx, "has_host_object", JOBHOST_SVC_HAS(svc, host_object));
  svc->counter_set(ctx, "no_package", svc->connection_package(ctx) == NULL);
  svc->counter_set(ctx, "task_instance_set",
                   ctx->struct_size > JOBHOST_CTX_SIZE_1_0 &&
                       ctx->task_instance > 0);
  svc->counter_set(ctx, "absolute_path", file != NULL && file[0] == '/');
  svc->set_message(ctx, "read %s", file != NULL ? file : "nothing");
  return 0;
}

static const jobhost_task_type reader_types[] = {
    {.name = "Abi11ReaderTask",
     .description = "Uses what ABI 1.1 added",
     .params = reader_params,
     .run = reader_run},
    JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_DEFINE("abi11_reader", "1.1.0",
                      "Built against the ABI 1.1 headers", reader_types, NULL);
