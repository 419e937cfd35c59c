/* A descriptor with the wrong magic cookie. */
#include <jobhost/jobhost.h>

static int bad_run(jobhost_ctx *ctx) {
  (void)ctx;
  return 0;
}
static const jobhost_task_type bad_tasks[] = {
    {.name = "BadMagicTask", .run = bad_run}, JOBHOST_TASK_TYPE_END};

JOBHOST_PLUGIN_EXPORT const jobhost_plugin jobhost_plugin_descriptor;
const jobhost_plugin jobhost_plugin_descriptor = {
    .magic = 0xdeadbeefu,
    .abi_major = JOBHOST_ABI_MAJOR,
    .abi_minor = JOBHOST_ABI_MINOR,
    .struct_size = sizeof(jobhost_plugin),
    .name = "bad_magic",
    .version = "1.0",
    .task_types = bad_tasks};
