/* A plugin built for another ABI major. */
#include <jobhost/jobhost.h>

static int other_run(jobhost_ctx *ctx) {
  (void)ctx;
  return 0;
}
static const jobhost_task_type other_tasks[] = {
    {.name = "OtherMajorTask", .run = other_run}, JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_EXPORT const jobhost_plugin jobhost_plugin_descriptor;
const jobhost_plugin jobhost_plugin_descriptor = {
    .magic = JOBHOST_PLUGIN_MAGIC,
    .abi_major = JOBHOST_ABI_MAJOR + 1,
    .abi_minor = 0,
    .struct_size = sizeof(jobhost_plugin),
    .name = "other_major",
    .version = "1.0",
    .task_types = other_tasks};
