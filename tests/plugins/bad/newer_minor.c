/* A plugin built for a newer minor of the host's ABI major. */
#include <jobhost/jobhost.h>

static int newer_run(jobhost_ctx *ctx) {
  (void)ctx;
  return 0;
}
static const jobhost_task_type newer_tasks[] = {
    {.name = "NewerMinorTask", .run = newer_run}, JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_EXPORT const jobhost_plugin jobhost_plugin_descriptor;
const jobhost_plugin jobhost_plugin_descriptor = {
    .magic = JOBHOST_PLUGIN_MAGIC,
    .abi_major = JOBHOST_ABI_MAJOR,
    .abi_minor = JOBHOST_ABI_MINOR + 7,
    .struct_size = sizeof(jobhost_plugin),
    .name = "newer_minor",
    .version = "1.0",
    .task_types = newer_tasks};
